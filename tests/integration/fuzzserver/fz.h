/*
 * fuzzserver: an Autobahn|Testsuite "fuzzingserver" equivalent that tests
 * WebSocket clients. A client speaking Autobahn's client protocol asks for
 * /getCaseCount, then runs /runCase?case=I&agent=NAME for I = 1..N, echoing
 * every text and binary message back with its type until the server
 * closes, then asks for /updateReports?agent=NAME. Each case sends, as a
 * server, the frames of the Autobahn case with the same id (groups 1 to 7,
 * 9 and 10) and grades what the client does with Autobahn's rules (see
 * conn.c); the grades go to the JSON-lines report given with --report.
 *
 * This program shares nothing with the library it helps test: its frame
 * reader, UTF-8 check, SHA-1 and base64 are its own.
 *
 * fz.h: what main.c (listening, HTTP, endpoints, report), conn.c (one
 * connection's event loop, frames, close handshake, grading), cases.c (the
 * case list) and util.c share.
 */
#ifndef FZ_H
#define FZ_H

#include <stddef.h>
#include <stdint.h>

#define OP_CONT 0x0
#define OP_TEXT 0x1
#define OP_BINARY 0x2
#define OP_CLOSE 0x8
#define OP_PING 0x9
#define OP_PONG 0xa
#define FIN 0x80
/* Autobahn numbers the reserved bits as one 3-bit value, RSV1 the high bit */
#define RSV(v) ((uint8_t)((v) << 4))

/* Autobahn's grades. A case's behavior (the events seen) and its close
 * behavior are graded apart, then folded into one verdict: FAILED if
 * either failed (or the close was unclean), NON-STRICT for a non-strict
 * behavior or a close code other than the one expected, INFORMATIONAL for
 * cases whose outcome the RFC leaves open. MISSING: never run. */
enum grade { G_OK, G_NON_STRICT, G_INFORMATIONAL, G_FAILED, G_UNCLEAN, G_WRONG_CODE, G_MISSING };
const char *grade_name(enum grade g);

/* What the client did, in order, as Autobahn records it. */
enum ev_kind { EV_MESSAGE, EV_PING, EV_PONG, EV_TIMEOUT };
struct ev {
	enum ev_kind kind;
	int binary;	/* EV_MESSAGE */
	char tag;	/* EV_TIMEOUT */
	size_t n;
	uint8_t *p;
};
struct evlist {
	size_t n, cap;
	struct ev *v;
};

struct conn;

/* One case. The parameters are those its open() reads. */
struct case_def {
	char id[16];
	void (*open)(struct conn *);
	/* after the connection is gone, to adjust the grades (optional) */
	void (*lost)(struct conn *);
	/* replaces the event recording for messages (9.x, optional) */
	void (*message)(struct conn *, int binary, const uint8_t *p, size_t n);
	int op, rsv, code, valid, fin, mode, flag;
	size_t n, chop, frag;
	const void *p;
	size_t plen;
	int count, wait_ms;
};

/* the case list (cases.c), in Autobahn's order */
extern struct case_def *cases;
extern size_t ncases;
void cases_init(void);

/* Ways to write a case's frames, as Autobahn's sendFrame does: all at once,
 * one write per frame with a pause after each (sync), or one write per
 * octet (chopsize 1). */
enum mode { M_ONE, M_SYNC, M_OCTETS };

#define WANT_OK 0
#define WANT_NS 1
#define NWANT 2

/* A connection being graded (or serving getCaseCount/updateReports). */
struct conn {
	int fd;
	long long t0_us, deadline_us;
	/* frames to write */
	struct seg *out, *out_tail;
	long long next_write_us;
	/* bytes read and not parsed yet */
	uint8_t *in;
	size_t in_len, in_cap;
	/* the client message being reassembled */
	int msg_op;
	uint8_t *msg;
	size_t msg_len, msg_cap;
	/* masking keys */
	uint32_t last_key;
	size_t frames;
	/* events and what a case expects */
	struct evlist got, want[NWANT];
	int want_set[NWANT];
	int exp_closed_by_me, exp_require_clean, exp_fatal, exp_ncodes;
	int exp_codes[4];
	int suppress_close;
	/* close handshake state, as Autobahn keeps it */
	int close_sent, close_rcvd, closed_by_me, dropped_by_me, was_clean, tcp_closed;
	int shut;		/* our FIN is out: waiting for the client's */
	int no_reply;		/* our close went unanswered, TCP left open */
	int remote_code;	/* -1: no close frame or one without a code */
	long long close_wait_us, linger_us;
	/* the first thing the client did that no client may do */
	char fail[240];
	/* Autobahn's killAfter, closeAfter and continueLater */
	struct timer {
		long long at_us;
		int kind;
		void (*fn)(struct conn *);
		char tag;
	} tm[8];
	int ntm;
	/* the case, its grades and its state */
	const struct case_def *cd;
	int custom;		/* the case grades the behavior itself */
	enum grade behavior, close_grade;
	char result[240], close_result[160], note[160];
	int count;
	uint8_t *ref;		/* a payload the case keeps */
	size_t ref_len;
	int flag;
};

/* conn.c: the connection, frames to send, expectations, the loop */
void conn_init(struct conn *c, int fd, const struct case_def *cd);
void conn_free(struct conn *c);
/* Queues a server frame (unmasked) with first byte b0 and payload
 * p[0..n), written in chops of chop bytes (0: whole), pausing gap_us after
 * it. */
void q_frame(struct conn *c, uint8_t b0, const void *p, size_t n, size_t chop, int gap_us);
/* The same with a payload of total bytes repeating pat[0..patlen). */
void q_frame_rep(struct conn *c, uint8_t b0, const void *pat, size_t patlen, size_t total,
		 size_t chop);
/* Raw bytes (a frame's parts, for the chopped 6.4.x cases). */
void q_raw(struct conn *c, const void *p, size_t n);
/* A message in fragments of frag bytes (0: one frame). */
void q_message(struct conn *c, int op, const void *p, size_t n, size_t frag);
/* Frames written as mode says. */
void q_frame_mode(struct conn *c, uint8_t b0, const void *p, size_t n, enum mode m);
/* Starts our close handshake: a close with code (none if negative) and
 * reason, or with a raw payload (close_raw). */
void send_close(struct conn *c, int code, const void *reason, size_t rlen);
void send_close_raw(struct conn *c, const void *payload, size_t n);

void kill_after(struct conn *c, int ms);
void close_after(struct conn *c, int ms);
void continue_later(struct conn *c, int ms, void (*fn)(struct conn *), char tag);
/* OPEN: no close frame sent or received, TCP up */
int conn_open(const struct conn *c);

/* expectations */
void want_none(struct conn *c, int w);
void want_msg(struct conn *c, int w, int binary, const void *p, size_t n);
void want_ping(struct conn *c, int w, const void *p, size_t n);
void want_pong(struct conn *c, int w, const void *p, size_t n);
void want_timeout(struct conn *c, int w, char tag);
/* closed_by_me: the fuzzer (1) or the client (0) starts the closing
 * handshake; codes: the close codes accepted from the client (0-ended);
 * fatal: the client not failing the connection fails the behavior too */
void expect_close(struct conn *c, int closed_by_me, int require_clean, int fatal, int code1,
		  int code2, int code3);
void record_timeout(struct conn *c, char tag);

/* Runs the connection until TCP is closed or hard_ms pass. */
void conn_run(struct conn *c, int hard_ms);
/* Grades a case once conn_run() returned: the verdict; reason gets one
 * line. */
enum grade conn_grade(struct conn *c, char *reason, size_t cap);
/* the events as one line, for reasons */
void describe_events(const struct evlist *l, char *out, size_t cap);

long long now_us(void);

/* util.c */
int utf8_valid(const uint8_t *p, size_t n);
void sha1(const void *data, size_t n, uint8_t out[20]);
size_t base64_encode(const uint8_t *p, size_t n, char *out);
/* decoded length, or -1 if not base64 */
long base64_decoded_len(const char *s);
/* s as a JSON string body (no quotes) into out */
void json_escape(const char *s, char *out, size_t cap);

#endif
