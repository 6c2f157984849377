/*
 * ringcat.h: what the files of ringcat share. ringcat.c reads the command
 * line and runs the client; ringcat_link.c moves stdin to a connection and
 * a connection's messages to stdout (the client and --listen --stdio);
 * ringcat_listen.c is the server mode; ringcat_autobahn.c the Autobahn
 * client agent. Everything here uses the public API (ringws.h) only.
 */
#ifndef RINGCAT_H
#define RINGCAT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ringws.h"

/* Exit statuses (see usage_text in ringcat.c and the README). */
enum {
	RC_OK = 0,		/* a normal close (1000, 1001, 1005), or the work done */
	RC_CONNECT = 1,		/* the connection could not be made */
	RC_USAGE = 2,		/* a bad option or URL */
	RC_HANDSHAKE = 3,	/* the server refused the upgrade, or answered it badly */
	RC_CLOSED = 4,		/* closed abnormally (1006) or with an error code */
};

#define RC_MAX_LIST 32		/* -H and -s each at most this many times */

/* The command line. */
struct rc_opts {
	const char *url;
	int binary;			/* --binary */
	const char *headers[RC_MAX_LIST];
	size_t nheaders;
	const char *protocols[RC_MAX_LIST];
	size_t nprotocols;
	const char *origin;
	int deflate;			/* -1: the mode's default */
	const char *proxy;		/* NULL: the environment's */
	uint32_t ping_interval_ms, pong_timeout_ms;
	int follow_redirects, max_redirects;
	uint32_t handshake_timeout_ms;
	int max_payload_set;
	uint64_t max_payload;
	const char *execute;		/* -x */
	int quiet;
	const char *ca_file;
	int insecure;
	uint32_t close_wait_ms;
	uint32_t wait_ms;		/* --wait: quiet time after stdin's end before the close */
	/* --listen */
	int listen;
	const char *host;
	uint16_t port;
	int stdio;
	/* --autobahn */
	const char *autobahn;
	const char *agent;
};

extern struct rc_opts opt;

/* One lock and condition for the whole program: every state change a
 * waiting thread looks for (a connection opened, closed or failed, stdin
 * at its end, a signal) is made under rc_lock and broadcast on rc_cond. */
extern pthread_mutex_t rc_lock;
extern pthread_cond_t rc_cond;
extern int rc_signals;			/* SIGINT/SIGTERM received (under rc_lock) */

/* "ringcat: " and the message on stderr, one line. */
void rc_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same unless -q. */
void rc_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Blocks SIGINT and SIGTERM (call before any thread starts) and starts the
 * thread that takes them: each one bumps rc_signals; a third exits at once
 * with RC_CLOSED. SIGPIPE is ignored (writes see EPIPE). */
void rc_signals_start(void);

/* Waits on rc_cond (rc_lock held) until the absolute CLOCK_MONOTONIC
 * deadline in ms (0: none). Returns 0, or ETIMEDOUT once past it. */
int rc_wait(long long deadline_ms);
long long rc_now_ms(void);

/* The exit status for a connection that closed with code, and a line on
 * stderr for an abnormal one; who is "the server" or "the client". */
int rc_close_status(int code, const char *reason, const char *who);
/* The exit status for on_error's err. */
int rc_error_status(int err);

/* --- a link: stdin and stdout joined to one connection (ringcat_link.c) --- */

struct rc_link {
	struct rws_conn *c;	/* set once open */
	char protocol[128];	/* the subprotocol agreed on, "" for none */
	int opened, closed;	/* closed: on_close ran (c is gone) */
	int close_code;
	char close_reason[128];
	int we_closed;		/* we sent a close first */
	int stdin_eof;
	int stdout_broken;	/* a write to stdout failed (EPIPE) */
	unsigned long received;	/* messages written to stdout */
	long long last_rx_ms;	/* when the last message arrived */
	int first_only;		/* -x: only the first message goes to stdout */
	/* flow control: bytes handed to the connection, bytes the peer has
	 * answered a ping after (so it has read them), the pings in flight */
	uint64_t sent, acked;
	uint32_t ping_seq;
	uint64_t ping_at[16];
	int fc_off;		/* the peer answers no pings: no window */
};

/* The stdout side, for a handler's callbacks (ctx is the link). */
void rc_link_message(struct rc_link *l, const void *data, size_t len, int is_text);
void rc_link_pong(struct rc_link *l, const void *data, size_t len);
void rc_link_closed(struct rc_link *l, int code, const char *reason, size_t reason_len);
/* Starts the thread that reads stdin and sends it on l->c (l open). */
void rc_link_start_stdin(struct rc_link *l);
/* Sends one message from the calling thread (not the reactor): 0, or -EPIPE
 * once the connection is closed. */
int rc_link_send(struct rc_link *l, const void *data, size_t len, int binary);
/* Runs an open link to its end: until the peer closes, or stdin ends (then,
 * once no message has come for --wait, a close 1000 and at most
 * --close-wait for the answer), or a signal comes (the close at once), or
 * stdout breaks (1001). Returns the exit status; who names the peer. */
int rc_link_run(struct rc_link *l, const char *who);

/* --- the modes ---------------------------------------------------------------- */

int rc_listen_main(void);
int rc_autobahn_main(void);

/* A client-only server (listen = 0, one reactor) for rws_connect(): NULL
 * after printing why. */
struct rws_server *rc_client_reactor(uint32_t close_timeout_ms, size_t max_buffered);
/* Fills the client options from the command line. */
void rc_client_options(struct rws_client_options *o);

#endif
