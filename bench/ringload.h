/*
 * ringload.h: what the parts of ringload share. ringload.c reads the
 * command line and prints the report, ringload_engine.c runs every
 * connection on one io_uring (ringload_recv.c its receive side,
 * ringload_pmd.c permessage-deflate, ringload_tls.c TLS), ringload_hist.c
 * keeps the latency histogram.
 */
#ifndef RINGLOAD_H
#define RINGLOAD_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum rl_mode { RL_ECHO, RL_IDLE, RL_BROADCAST, RL_RAW };

struct rws_tls_ctx;

/* --- latency histogram (ringload_hist.c) ----------------------------------- */

/* Log-linear buckets over nanoseconds: exact below 256 ns, then 128 buckets
 * per power of two, so a bucket is at most 1/128 of its value wide (reported
 * at its midpoint: within 0.4%). The top bucket starts near 4,400 s. */
#define RL_HIST_BUCKETS (35 * 128 + 128)

struct rl_hist {
	uint64_t n;		/* values recorded */
	uint64_t max;		/* largest value, exact */
	uint64_t count[RL_HIST_BUCKETS];
};

void rl_hist_record(struct rl_hist *h, uint64_t ns);
/* Returns the value (ns) at quantile q (0 < q <= 1), or 0 when empty. */
uint64_t rl_hist_quantile(const struct rl_hist *h, double q);

/* --- the run ---------------------------------------------------------------- */

/* What the command line asked for; filled by ringload.c. */
struct rl_opts {
	enum rl_mode mode;
	const char *url;
	struct sockaddr_storage addr;	/* the server */
	socklen_t addr_len;
	char host[300];			/* Host header: "127.0.0.1:8080", "[::1]:8080" */
	char addr_text[300];		/* for messages */
	char path[2048];		/* "/chat" */
	char query[2048];
	int has_query;
	uint32_t conns;
	uint64_t size;			/* payload bytes */
	uint32_t inflight;		/* closed loop: per connection */
	double rate;			/* open loop: messages/s in total; 0: closed loop */
	double duration;		/* measured seconds */
	double warmup;
	double hold;			/* idle mode */
	int text;
	uint32_t sources;		/* source addresses 127.0.0.1..127.0.0.K; 0: none bound */
	int pid;			/* the server's, or 0 */
	/* permessage-deflate: offered when set; messages from the threshold up
	 * are sent compressed when that shrinks them */
	int deflate;
	uint64_t deflate_threshold;
	/* --corpus / --corpus-doc: the messages to send instead of generated
	 * ones, back to back in corpus (owned by ringload.c for the whole run);
	 * message i is corpus[corpus_off[i] .. corpus_off[i + 1]) */
	const char *corpus_path;
	int corpus_doc;			/* the whole file is one message */
	const uint8_t *corpus;
	const uint64_t *corpus_off;	/* corpus_n + 1 offsets */
	uint32_t corpus_n;
	uint64_t corpus_max;		/* the longest message */
	/* TLS (--tls or a wss:// URL): every connection speaks TLS first; the
	 * context verifies against ca_file, or nothing without --ca */
	int tls;
	const char *ca_file;
	char tls_host[256];		/* the URL's host: SNI, and what is verified */
	struct rws_tls_ctx *tls_ctx;	/* made by ringload.c, freed at exit */
};

/* Reads the server's CPU time (s) and RSS (kB) from /proc: 0, or -1. */
int rl_proc_cpu(int pid, double *cpu_s);
int rl_proc_rss(int pid, long *rss_kb);
/* System-wide kernel memory: TCP socket pages from /proc/net/sockstat (in
 * bytes) and Slab from /proc/meminfo (bytes): 0, or -1. */
int rl_kernel_mem(long long *tcp_b, long long *slab_b);

/* What the run measured; -1 (or a negative value) means not measured. */
struct rl_result {
	uint32_t established;		/* connections that completed their handshake */
	uint32_t failed;		/* that did not */
	double connect_s;		/* from the first connect to the last established */
	double window_s;		/* measured window actually run */
	uint64_t messages;		/* echo/raw: echoes; broadcast: deliveries */
	uint64_t broadcasts;		/* broadcast: messages the sender sent in the window */
	uint64_t errors;
	uint64_t behind;		/* open loop: sends that left 1 ms or more late */
	uint64_t unsent;		/* open loop: due in the window, still not sent at its end */
	uint64_t nobufs;		/* receives that found the buffer ring empty */
	uint64_t payload_bytes;		/* payload of the counted messages */
	uint64_t wire_in;		/* their frames' bytes as received (raw: payload) */
	uint64_t rx_compressed;		/* of them, those that came compressed */
	uint64_t tx_msgs;		/* messages written for sending in the window */
	uint64_t tx_wire;		/* their frames' bytes */
	uint64_t tx_compressed;		/* of them, those sent compressed */
	char deflate_params[160];	/* what the server agreed to, "" if nothing */
	char tls_version[32];		/* of the first TLS connection up, "" if none */
	char tls_cipher[64];
	struct rl_hist *lat;
	double server_cpu_s;
	double server_wall_s;		/* wall time between the two CPU readings */
	long server_rss_kb;
	long rss_before_kb, rss_after_kb;
	long long tcp_before_b, tcp_after_b, slab_before_b, slab_after_b;
	double client_cpu_s;
	const char *ring_setup;		/* the io_uring set-up flags that worked */
	int inc_buffers;		/* 1 if receive buffers are consumed incrementally */
	char first_error[512];
};

/* Runs the whole test: connect, load (or hold), close. Returns 0 when the
 * run could start (errors are counted in r), or -1 with a message printed
 * when io_uring itself failed. */
int rl_run(const struct rl_opts *o, struct rl_result *r);

#endif
