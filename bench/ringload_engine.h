/*
 * ringload_engine.h: what the two halves of the engine share. The engine
 * (ringload_engine.c) owns the ring, the connections' lives, the sends and
 * the phases of a run; the receive side (ringload_recv.c) parses what the
 * server sends and checks it against what was sent; with TLS,
 * ringload_tls.c sits between the ring and both. One engine per process:
 * `rl` is its state.
 */
#ifndef RINGLOAD_ENGINE_H
#define RINGLOAD_ENGINE_H

#include <liburing.h>
#include <stdint.h>

#include "protocol/frame.h"
#include "protocol/handshake.h"
#include "protocol/pmd.h"
#include "protocol/pmd_negotiate.h"
#include "ringload.h"
#include "runtime/tls.h"

/* What liburing 2.3 lacks; the kernel decides at run time. */
#ifndef IOU_PBUF_RING_INC
#define IOU_PBUF_RING_INC 2
#endif
#ifndef IORING_CQE_F_BUF_MORE
#define IORING_CQE_F_BUF_MORE (1u << 4)
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_ERR_KINDS 8

enum phase { PH_CONNECT, PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_HOLD, PH_CLOSE, PH_END };

enum cstate { CS_IDLE, CS_CONNECTING, CS_HANDSHAKE, CS_OPEN, CS_CLOSING, CS_DEAD };

enum op { OP_CONNECT = 1, OP_RECV, OP_SEND, OP_SHUTDOWN, OP_CANCEL, OP_CLOSE };

enum {
	CF_RECV = 1u << 0,	/* a receive is armed */
	CF_SEND = 1u << 1,	/* a send is in flight (it holds sbuf) */
	CF_DIRTY = 1u << 2,	/* on the flush list */
	CF_WAITING = 1u << 3,	/* on the send buffer wait list */
	CF_HS_DUE = 1u << 4,	/* the upgrade request is to be sent */
	CF_PONG_DUE = 1u << 5,
	CF_CLOSE_DUE = 1u << 6,
	CF_CLOSE_SENT = 1u << 7,
	CF_CLOSE_RCVD = 1u << 8,
	CF_SHUT_DUE = 1u << 9,	/* raw: shutdown(SHUT_WR) once the sends are out */
	CF_CLOSED = 1u << 10,	/* close_direct issued */
	CF_PMD = 1u << 11,	/* permessage-deflate agreed: RSV1 allowed, sends compressed */
	CF_ZMSG = 1u << 12,	/* the message being received is compressed */
	CF_TLS_UP = 1u << 13,	/* the TLS handshake is done */
	CF_TLS_BYE = 1u << 14,	/* raw over TLS: close_notify written */
};

/* A connection's compressed message in the making; allocated at its first
 * compressed message, owned by the connection. */
struct rl_z {
	uint8_t *buf;		/* the payload gathered across frames (owned) */
	size_t len, cap;
	struct rws_pmd_window *win;	/* the server keeps its context: its window */
};

/* One connection; its fixed file slot is its index. */
struct rl_conn {
	uint64_t left;		/* payload bytes of the current frame still to come */
	uint64_t moff;		/* payload offset within the current message */
	uint64_t rx_seq;	/* the next message expected */
	uint64_t tx_seq;	/* the next message to write */
	uint64_t owed;		/* messages due and not written yet */
	uint64_t deadline;	/* connect and handshake */
	uint64_t mlen;		/* the current message's length, as sent */
	uint64_t mwire;		/* its frames' bytes so far, as received */
	struct rl_z *z;		/* permessage-deflate receive state, or NULL */
	char *hs;		/* a handshake response split across reads (owned) */
	struct rws_tls *tls;	/* --tls: the session (owned), from the connect on */
	uint32_t hs_len;
	uint32_t idx;
	uint32_t next;		/* flush list */
	uint32_t wnext;		/* send buffer wait list */
	int32_t sbuf;		/* pool buffer the send in flight holds, -1 */
	uint32_t soff, slen;	/* of sbuf: bytes sent, bytes filled */
	uint16_t flags;		/* CF_* */
	uint16_t close_code;	/* to answer the server's close with */
	uint8_t state;		/* enum cstate */
	uint8_t nops;		/* operations in flight */
	uint8_t hlen;		/* bytes of a split frame header in hbuf */
	uint8_t fop;		/* the current frame's opcode */
	uint8_t ffin;		/* and its FIN */
	uint8_t msg_op;		/* the data message being received, 0 none */
	uint8_t clen;		/* control payload gathered */
	uint8_t pong_len;
	uint8_t zbits;		/* the server keeps its context: its window bits; else 0 */
	uint8_t exp[16];	/* the current message's first 16 bytes, as sent */
	uint8_t hbuf[RWS_FRAME_HDR_MAX];
	uint8_t ctl[RWS_CONTROL_MAX];
	uint8_t pong[RWS_CONTROL_MAX];
	struct rws_hs_client_key key;
};

struct rl_engine {
	const struct rl_opts *o;
	struct rl_result *r;
	struct io_uring ring;
	int ring_ok;
	int multishot;		/* multishot recv works (6.0); else one-shot */
	int raw;

	/* receive: provided buffers, owned by the kernel until their CQE */
	struct io_uring_buf_ring *br;
	uint8_t *rbufs;
	uint32_t rb_size, rb_count, rb_mask;
	uint32_t *rb_off;	/* incremental: bytes of each buffer already used */
	int rb_pending;		/* recycled since the last advance */

	/* send: a stack of pool buffers; a connection holds one per send */
	uint8_t *pool;
	size_t pool_size;
	uint32_t pool_count, pool_nfree;
	int32_t *pool_free;
	uint32_t wait_head, wait_tail;
	uint32_t dirty_head;

	/* TLS (ringload_tls.c): a send's plaintext is built in tls_plain (at
	 * most tls_cap bytes, whose records fit one pool buffer), encrypted
	 * into the session's output and copied from there to the pool buffer
	 * the send holds; received ciphertext is decrypted into tls_rx */
	uint8_t *tls_plain;
	size_t tls_cap;
	uint8_t *tls_rx;

	struct rl_conn *c;
	uint32_t n;
	uint32_t next_connect, nconnecting, nopen, nclosed;
	uint64_t connect_progress;	/* the last connection established */
	uint64_t next_sweep;		/* for connect and handshake deadlines */
	uint64_t first_connect, last_open;

	/* the messages */
	uint8_t *pat;		/* size + 64 bytes of printable pattern */
	uint8_t opcode;
	size_t frame_len;	/* bytes on the wire per message sent (the most, with a corpus) */
	const uint8_t *corpus;	/* --corpus: the messages (rl_opts), or NULL */
	const uint64_t *coff;
	uint32_t cn;

	/* permessage-deflate (ringload_pmd.c); all NULL without --deflate */
	struct rws_pmd_config pmd_cfg;
	char pmd_offer[RWS_PMD_VALUE_MAX];
	struct rws_pmd_compressor *zc;
	struct rws_pmd_decompressor *zd;
	uint8_t *zplain;	/* generated messages: one built whole, to compress */
	uint8_t *zout;		/* and its compressed form */
	uint8_t *zcorpus;	/* --corpus: each message compressed once, back to back */
	uint64_t *zcoff;	/* cn + 1 offsets; an empty one: sent uncompressed */
	uint64_t *tsr;		/* closed loop: send time of each sender's seq & (tsr_w-1) */
	uint32_t tsr_w;
	uint32_t *bcnt;		/* broadcast, closed loop: receivers that got seq & (tsr_w-1) */
	uint32_t nsenders, nreceivers;
	struct rws_hs_client_opts hs;
	struct rws_hs_response hsres;

	/* time (ns since the run began) and the load */
	uint64_t base;
	uint64_t now;
	enum phase phase;
	uint64_t phase_end;
	int forced;		/* CLOSE: stragglers were torn down */
	int running;		/* new messages may be written */
	int abort;		/* end the load now (an error that stops it) */
	uint64_t t0;		/* the load's start */
	uint64_t m_start, m_end;
	double period_ns;	/* open loop: between two sends, all senders together */
	uint64_t sched_m;	/* open loop: the next send, counted over all senders */
	uint64_t outstanding;	/* written and not received (broadcast: deliveries) */
	uint64_t last_progress;
	double cpu0;
	uint64_t cpu_t0;
	double self0;
	uint64_t rng;

	struct {
		char msg[256];
		uint64_t count;
		int counted;	/* the message gives the count itself */
	} err[MAX_ERR_KINDS];
	int nerr;
	uint64_t err_more;
};

extern struct rl_engine rl;

/* The engine's calls the receive side makes. */
void rl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Counts an error and ends the connection. */
void rl_fail(struct rl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rl_teardown(struct rl_conn *c);
void rl_mark_dirty(struct rl_conn *c);
void rl_arm_recv(struct rl_conn *c);
void rl_start_closing(struct rl_conn *c, uint16_t code);
void rl_established(struct rl_conn *c);

/* The receive side: a receive completion for c; the bytes the server sent
 * (plaintext: decrypted first with TLS); the server's end of the stream. */
void rl_on_recv(struct rl_conn *c, struct io_uring_cqe *cqe);
void rl_rx_bytes(struct rl_conn *c, const uint8_t *p, size_t n);
void rl_on_eof(struct rl_conn *c);

/* TLS (ringload_tls.c). Setup allocates the scratch buffers (after the
 * pool: 0, or -1). rl_tls_start() makes c's session at its connect and
 * writes the ClientHello: 0, or -1 with c failed. rl_tls_recv() takes
 * ciphertext and hands the plaintext to rl_rx_bytes(). rl_tls_seal()
 * encrypts plain[0..len) into c's output and moves up to cap bytes of the
 * output to out: the bytes moved, or -1 with c failed. */
int rl_tls_setup(void);
void rl_tls_cleanup(void);
int rl_tls_start(struct rl_conn *c);
void rl_tls_recv(struct rl_conn *c, const uint8_t *p, size_t n);
long rl_tls_seal(struct rl_conn *c, const uint8_t *plain, size_t len, uint8_t *out, size_t cap);
/* What c's output still holds (ciphertext not yet in a send). */
size_t rl_tls_pending(const struct rl_conn *c);
void rl_tls_conn_free(struct rl_conn *c);
/* The most the records of n plaintext bytes add to them. */
size_t rl_tls_overhead(size_t n);

/* permessage-deflate (ringload_pmd.c). Setup builds the offer, the
 * compressor and decompressor and compresses a corpus once: 0, or -1 with a
 * message printed. */
int rl_pmd_setup(void);
void rl_pmd_cleanup(void);
/* The server's 101 for c, just validated: checks its permessage-deflate
 * answer against the offer. 0, or -1 with c failed. */
int rl_pmd_accept(struct rl_conn *c);
/* Writes message seq of c (len bytes; head: its first 16 bytes when it is
 * generated, unused with a corpus) compressed, as a masked frame with RSV1,
 * at w: its length on the wire, or 0 when it goes uncompressed (below the
 * threshold, or it would not shrink). */
size_t rl_pmd_write(struct rl_conn *c, uint8_t *w, uint64_t seq, const uint8_t *head,
		    size_t len, const uint8_t key[4]);
/* Gathers k bytes of a compressed message's payload: 0, or -1 with c failed. */
int rl_pmd_gather(struct rl_conn *c, const uint8_t *p, size_t k);
/* Inflates c's compressed message in[0..len) into a malloc'd *out (the
 * caller frees it): 0, or -1 with c failed. */
int rl_pmd_inflate(struct rl_conn *c, const uint8_t *in, size_t len, uint8_t **out,
		   size_t *outlen);
void rl_pmd_conn_free(struct rl_conn *c);

/* --- the message header ----------------------------------------------------- */

/* 48 bits as eight printable characters '0'..'o'. */
static inline void rl_put48(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)('0' + ((v >> (42 - 6 * i)) & 63));
}

static inline uint64_t rl_sched_at(uint64_t m)
{
	return rl.t0 + (uint64_t)((double)m * rl.period_ns);
}

/* Message seq of sender s with a corpus: corpus message (seq * senders + s)
 * mod the corpus's count, so that all the senders together walk the corpus
 * in order. */
static inline uint32_t rl_msg_index(uint32_t s, uint64_t seq)
{
	return (uint32_t)((seq * rl.nsenders + s) % rl.cn);
}

/* Its payload and length; without a corpus, the generated payload's length. */
static inline const uint8_t *rl_msg_bytes(uint32_t s, uint64_t seq)
{
	return rl.corpus + rl.coff[rl_msg_index(s, seq)];
}

static inline uint64_t rl_msg_len(uint32_t s, uint64_t seq)
{
	if (!rl.corpus)
		return rl.o->size;
	uint32_t i = rl_msg_index(s, seq);
	return rl.coff[i + 1] - rl.coff[i];
}

/* When sender s sent (open loop: was to send) message seq. */
static inline uint64_t rl_sent_at(uint32_t s, uint64_t seq)
{
	if (rl.o->rate > 0)
		return rl_sched_at(seq * rl.nsenders + s);
	return rl.tsr[(size_t)s * rl.tsr_w + (seq & (rl.tsr_w - 1))];
}

#endif
