/*
 * ringload_engine: every connection of a run on one io_uring, one thread.
 *
 * A run goes through phases: CONNECT (at most CONNECT_PARALLEL connects and
 * handshakes at a time), then WARMUP, MEASURE and DRAIN for the load modes
 * or HOLD for idle, then CLOSE (the closing handshake everywhere) and END.
 * The loop is the usual one: build the sends the last batch made due, one
 * io_uring_submit_and_wait_timeout(), walk the completions, one
 * io_uring_cq_advance(), hand the receive buffers back in one advance.
 *
 * Receiving: one multishot recv per connection into a shared ring of
 * provided buffers, consumed incrementally where the kernel can (6.12), so
 * small messages of many connections share one buffer; ringload_recv.c
 * parses and checks what arrives.
 *
 * Sending: each connection has at most one send in flight, from a buffer of
 * a shared pool that it holds until the send's completion; what became due
 * meanwhile (messages, a pong, the close) is written into the next buffer,
 * in order. A message is materialised only when its buffer is built, masked
 * with a fresh key from a xorshift generator seeded from getrandom.
 *
 * A message's payload is its 8-byte sequence number and 8-byte send time
 * (each 48 bits as eight printable characters, so text messages stay ASCII)
 * followed by a precomputed pattern at an offset that depends on the
 * sequence number.
 * With --corpus the payload is a corpus message instead (message k of
 * connection i is corpus message (k * N + i) mod the count), and the send
 * time is only kept in the sender's record. With --deflate agreed, messages
 * from the threshold up leave compressed (ringload_pmd.c).
 *
 * With TLS (ringload_tls.c) what a send would carry is built the same way
 * in a scratch buffer and encrypted, and the send carries the ciphertext;
 * what the session still holds goes in the next send, before anything new
 * is written. TLS handshakes cost both ends far more CPU than a connect,
 * so fewer of them run at a time (CONNECT_PARALLEL_TLS).
 *
 * Neighbours: ringload.c reads the options and prints the report,
 * ringload_recv.c is the receive side, ringload_pmd.c permessage-deflate,
 * ringload_tls.c TLS, ringload_engine.h what they share; engine/protocol
 * gives the frame codec, masking, the client handshake and the deflate
 * transform, engine/runtime the TLS sessions.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "protocol/frame.h"
#include "protocol/handshake.h"
#include "protocol/mask.h"
#include "protocol/random.h"
#include "ringload_engine.h"

#define SQ_ENTRIES 4096
#define CQ_ENTRIES 32768
#define BGID 1
#define CONNECT_PARALLEL 256
#define CONNECT_PARALLEL_TLS 64	/* TLS handshakes at a time (see connect_phase) */
#define NS 1000000000ull
#define CONNECT_TIMEOUT (10 * NS)	/* a connect and its handshake */
#define STALL_TIMEOUT (5 * NS)		/* no message back while some are out */
#define DRAIN_TIMEOUT (5 * NS)		/* for the last echoes after the window */
#define CLOSE_TIMEOUT (3 * NS)		/* for the closing handshakes, */
#define CLOSE_PER_SECOND 2500		/* and a second more per this many connections */
#define CLOSE_PER_SECOND_TLS 1000	/* (a server decrypts and encrypts each close) */
#define BEHIND_NS 1000000ull		/* open loop: a send this late is behind schedule */
#define TICK (100 * 1000000ull)		/* the loop wakes at least this often */
#define OPEN_LOOP_SLOT 50000ull		/* open loop: sends due within 50 us leave together */
#define NONE UINT32_MAX

struct rl_engine rl;

/* --- time, randomness, errors ------------------------------------------- */

static uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns() - rl.base;
}

static double self_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* xorshift64*: masking keys need no more than unpredictability to a proxy. */
static uint32_t rnd32(void)
{
	rl.rng ^= rl.rng >> 12;
	rl.rng ^= rl.rng << 25;
	rl.rng ^= rl.rng >> 27;
	return (uint32_t)((rl.rng * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Counts `count` errors of one kind; the same message from several
 * connections is listed once, with its number (unless `counted`: the
 * message says it). */
static void verror(uint64_t count, int counted, const char *fmt, va_list ap)
{
	char msg[256];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	rl.r->errors += count;
	for (int i = 0; i < rl.nerr; i++)
		if (!strcmp(rl.err[i].msg, msg)) {
			rl.err[i].count += count;
			return;
		}
	if (rl.nerr == MAX_ERR_KINDS) {
		rl.err_more += count;
		return;
	}
	snprintf(rl.err[rl.nerr].msg, sizeof(rl.err[rl.nerr].msg), "%s", msg);
	rl.err[rl.nerr].counted = counted;
	rl.err[rl.nerr++].count = count;
}

void rl_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(1, 0, fmt, ap);
	va_end(ap);
}

/* count errors at once, under a message that states the count */
static void error_n(uint64_t count, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void error_n(uint64_t count, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(count, 1, fmt, ap);
	va_end(ap);
}

/* --- submission ----------------------------------------------------------- */

static struct io_uring_sqe *get_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&rl.ring);
	if (!sqe) {
		io_uring_submit(&rl.ring);
		sqe = io_uring_get_sqe(&rl.ring);
	}
	if (!sqe) {
		fprintf(stderr, "ringload: the io_uring submission queue stays full\n");
		exit(1);
	}
	return sqe;
}

static void set_op(struct io_uring_sqe *sqe, struct rl_conn *c, enum op op)
{
	io_uring_sqe_set_data64(sqe, (uint64_t)c->idx << 8 | op);
	c->nops++;
}

void rl_arm_recv(struct rl_conn *c)
{
	struct io_uring_sqe *sqe = get_sqe();
	if (rl.multishot)
		io_uring_prep_recv_multishot(sqe, (int)c->idx, NULL, 0, 0);
	else
		io_uring_prep_recv(sqe, (int)c->idx, NULL, rl.rb_size, 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	set_op(sqe, c, OP_RECV);
	c->flags |= CF_RECV;
}

static void send_start(struct rl_conn *c)
{
	struct io_uring_sqe *sqe = get_sqe();
	uint8_t *b = rl.pool + (size_t)c->sbuf * rl.pool_size;
	io_uring_prep_send(sqe, (int)c->idx, b + c->soff, c->slen - c->soff, MSG_NOSIGNAL);
	sqe->flags |= IOSQE_FIXED_FILE;
	set_op(sqe, c, OP_SEND);
	c->flags |= CF_SEND;
}

void rl_mark_dirty(struct rl_conn *c)
{
	if (c->flags & CF_DIRTY)
		return;
	c->flags |= CF_DIRTY;
	c->next = rl.dirty_head;
	rl.dirty_head = c->idx;
}

/* --- the send buffer pool ------------------------------------------------- */

static int32_t pool_get(void)
{
	return rl.pool_nfree ? rl.pool_free[--rl.pool_nfree] : -1;
}

static void pool_put(int32_t b)
{
	rl.pool_free[rl.pool_nfree++] = b;
	while (rl.wait_head != NONE) {
		struct rl_conn *w = &rl.c[rl.wait_head];
		rl.wait_head = w->wnext;
		if (rl.wait_head == NONE)
			rl.wait_tail = NONE;
		w->flags &= (uint16_t)~CF_WAITING;
		if (w->state != CS_DEAD) {
			rl_mark_dirty(w);
			break;
		}
	}
}

static void wait_for_buffer(struct rl_conn *c)
{
	if (c->flags & CF_WAITING)
		return;
	c->flags |= CF_WAITING;
	c->wnext = NONE;
	if (rl.wait_tail == NONE)
		rl.wait_head = c->idx;
	else
		rl.c[rl.wait_tail].wnext = c->idx;
	rl.wait_tail = c->idx;
}

/* --- connection life ------------------------------------------------------ */

static void maybe_close(struct rl_conn *c)
{
	if (c->state != CS_DEAD || c->nops || (c->flags & CF_CLOSED))
		return;
	c->flags |= CF_CLOSED;
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_close_direct(sqe, c->idx);
	set_op(sqe, c, OP_CLOSE);
}

/* An open connection stops taking part in the load. */
static void leave_open(struct rl_conn *c)
{
	rl.nopen--;
	c->owed = 0;
	if (rl.o->mode == RL_BROADCAST) {
		/* every receiver must see every message: the run cannot go on */
		if (rl.phase < PH_CLOSE)
			rl.abort = 1;
	} else {
		rl.outstanding -= c->tx_seq - c->rx_seq;
	}
}

/* Ends a connection at once: cancels what it has in flight, then closes
 * its descriptor once the last completion is in. */
void rl_teardown(struct rl_conn *c)
{
	if (c->state == CS_DEAD)
		return;
	if (c->state == CS_OPEN) {
		leave_open(c);
	} else if (c->state != CS_CLOSING) {
		if (c->state != CS_IDLE)
			rl.nconnecting--;
		rl.r->failed++;
	}
	c->state = CS_DEAD;
	free(c->hs);
	c->hs = NULL;
	rl_pmd_conn_free(c);
	rl_tls_conn_free(c);	/* a send in flight holds a pool buffer, not the session's memory */
	if (c->nops) {
		struct io_uring_sqe *sqe = get_sqe();
		io_uring_prep_cancel_fd(sqe, (int)c->idx,
					IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_FD_FIXED);
		set_op(sqe, c, OP_CANCEL);
	}
	maybe_close(c);
}

void rl_fail(struct rl_conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verror(1, 0, fmt, ap);
	va_end(ap);
	rl_teardown(c);
}

void rl_established(struct rl_conn *c)
{
	c->state = CS_OPEN;
	rl.nconnecting--;
	rl.nopen++;
	rl.r->established++;
	rl.last_open = rl.connect_progress = rl.now;
}

/* Starts the closing handshake: a close frame (raw: shutdown), then the
 * server's close and its FIN. */
void rl_start_closing(struct rl_conn *c, uint16_t code)
{
	if (c->state == CS_OPEN)
		leave_open(c);
	c->state = CS_CLOSING;
	c->close_code = code;
	c->flags |= rl.raw ? CF_SHUT_DUE : CF_CLOSE_DUE;
	rl_mark_dirty(c);
}

static void start_connect(struct rl_conn *c)
{
	const struct rl_opts *o = rl.o;
	int one = 1;
	int fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rl_fail(c, "socket: %s", strerror(errno));
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->sources) {
		struct sockaddr_in src = { .sin_family = AF_INET };
		src.sin_addr.s_addr = htonl(0x7f000001u + c->idx % o->sources);
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
			char a[32];
			inet_ntop(AF_INET, &src.sin_addr, a, sizeof(a));
			rl_fail(c, "bind to source address %s: %s", a, strerror(errno));
			close(fd);
			return;
		}
	}
	int rc = io_uring_register_files_update(&rl.ring, c->idx, &fd, 1);
	close(fd);
	if (rc < 0) {
		rl_fail(c, "io_uring_register_files_update: %s", strerror(-rc));
		return;
	}
	c->state = CS_CONNECTING;
	c->deadline = rl.now + CONNECT_TIMEOUT;
	rl.nconnecting++;
	struct io_uring_sqe *sqe = get_sqe();
	io_uring_prep_connect(sqe, (int)c->idx, (const struct sockaddr *)&o->addr, o->addr_len);
	sqe->flags |= IOSQE_FIXED_FILE;
	set_op(sqe, c, OP_CONNECT);
}

static void on_connect(struct rl_conn *c, int res)
{
	if (c->state == CS_DEAD)
		return;
	if (res < 0) {
		rl_fail(c, "connect to %s: %s", rl.o->addr_text, strerror(-res));
		return;
	}
	rl_arm_recv(c);
	if (rl.o->tls) {
		/* TLS first; its end makes the upgrade due (ringload_tls.c) */
		c->state = CS_HANDSHAKE;
		rl_tls_start(c);
	} else if (rl.raw) {
		rl_established(c);
	} else {
		c->state = CS_HANDSHAKE;
		c->flags |= CF_HS_DUE;
		rl_mark_dirty(c);
	}
}

/* --- messages ------------------------------------------------------------- */

/* rws_mask_copy() for large payloads; a plain loop for the small ones,
 * where setting up the vector path costs more than it saves. */
static inline void mask_copy(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4],
			     size_t off)
{
	if (n > 128) {
		rws_mask_copy(dst, src, n, key, off);
		return;
	}
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i] ^ key[(off + i) & 3];
}

/* Writes connection c's next message at w; returns its length on the wire. */
static size_t write_message(struct rl_conn *c, uint8_t *w, uint64_t now)
{
	uint64_t seq = c->tx_seq++;
	uint64_t ts;

	if (rl.o->rate > 0) {
		ts = rl_sched_at(seq * rl.nsenders + c->idx);
		if (now >= ts + BEHIND_NS && ts >= rl.m_start && ts < rl.m_end)
			rl.r->behind++;
	} else {
		ts = now;
		rl.tsr[(size_t)c->idx * rl.tsr_w + (seq & (rl.tsr_w - 1))] = ts;
	}
	if (ts >= rl.m_start && ts < rl.m_end && rl.o->mode == RL_BROADCAST)
		rl.r->broadcasts++;
	if (!rl.outstanding)
		rl.last_progress = now;
	rl.outstanding += rl.o->mode == RL_BROADCAST ? rl.nreceivers : 1;

	uint64_t len = rl_msg_len(c->idx, seq);
	size_t wire;
	uint8_t head[16];
	const uint8_t *body;
	if (rl.corpus) {
		body = rl_msg_bytes(c->idx, seq);
	} else {
		rl_put48(head, seq);
		rl_put48(head + 8, ts);
		body = rl.pat + (seq & 63) + 16;
	}
	if (rl.raw) {
		if (rl.corpus) {
			memcpy(w, body, len);
		} else {
			memcpy(w, head, 16);
			memcpy(w + 16, body, len - 16);
		}
		wire = len;
		goto out;
	}
	uint32_t k = rnd32();
	uint8_t key[4];
	memcpy(key, &k, 4);
	wire = (c->flags & CF_PMD) ? rl_pmd_write(c, w, seq, head, len, key) : 0;
	if (wire) {
		if (ts >= rl.m_start && ts < rl.m_end)
			rl.r->tx_compressed++;
		goto out;
	}
	size_t h = rws_frame_encode(w, 1, 0, rl.opcode, len, key);
	if (rl.corpus) {
		mask_copy(w + h, body, len, key, 0);
	} else {
		mask_copy(w + h, head, 16, key, 0);
		mask_copy(w + h + 16, body, len - 16, key, 16);
	}
	wire = h + len;
out:
	if (ts >= rl.m_start && ts < rl.m_end) {
		rl.r->tx_msgs++;
		rl.r->tx_wire += wire;
	}
	return wire;
}

static size_t write_control(uint8_t *w, unsigned op, const uint8_t *p, size_t len)
{
	uint32_t k = rnd32();
	uint8_t key[4];
	memcpy(key, &k, 4);
	size_t h = rws_frame_encode(w, 1, 0, op, len, key);
	mask_copy(w + h, p, len, key, 0);
	return h + len;
}

/* Writes what is due into buf (cap bytes): the upgrade request, a pong,
 * messages (when data), the close, in that order. Returns the length, or
 * -1 with c failed. */
static long write_due(struct rl_conn *c, uint8_t *buf, size_t cap, int data)
{
	size_t len = 0;

	if (c->flags & CF_HS_DUE) {
		c->flags &= (uint16_t)~CF_HS_DUE;
		int n = rws_hs_client_write_random((char *)buf, cap, &rl.hs, &c->key);
		if (n < 0) {
			rl_fail(c, "handshake: cannot write the request: %s", rws_hs_strerror(n));
			return -1;
		}
		len += (size_t)n;
	}
	if (c->flags & CF_PONG_DUE) {
		c->flags &= (uint16_t)~CF_PONG_DUE;
		if (!(c->flags & CF_CLOSE_SENT))
			len += write_control(buf + len, RWS_OP_PONG, c->pong, c->pong_len);
	}
	if (data) {
		uint64_t now = now_ns();
		while (c->owed && cap - len >= rl.frame_len) {
			len += write_message(c, buf + len, now);
			c->owed--;
		}
	}
	if ((c->flags & CF_CLOSE_DUE) && cap - len >= 8) {
		c->flags &= (uint16_t)~CF_CLOSE_DUE;
		if (!(c->flags & CF_CLOSE_SENT)) {
			uint8_t code[2] = { (uint8_t)(c->close_code >> 8), (uint8_t)c->close_code };
			len += write_control(buf + len, RWS_OP_CLOSE, code,
					     c->close_code == 1005 ? 0 : 2);
			c->flags |= CF_CLOSE_SENT;
		}
	}
	return (long)len;
}

/* Sends what is due, unless a send is in flight (its completion comes back
 * here). With TLS the send carries ciphertext: what the session still
 * holds first, then the records of what is due, written only while the
 * session holds less than half a send's worth, so that it never piles up. */
static void flush(struct rl_conn *c)
{
	if (c->state == CS_DEAD || (c->flags & CF_SEND))
		return;
	int data = c->owed && c->state == CS_OPEN && rl.running;
	int due = data || (c->flags & (CF_HS_DUE | CF_PONG_DUE | CF_CLOSE_DUE));
	if (!due && (c->flags & CF_SHUT_DUE) && c->tls && !(c->flags & CF_TLS_BYE)) {
		/* raw over TLS: close_notify before the FIN */
		c->flags |= CF_TLS_BYE;
		rws_tls_shutdown(c->tls);
	}
	size_t pending = rl_tls_pending(c);
	if (!due && !pending) {
		if (!(c->flags & CF_SHUT_DUE))
			return;
		/* only the raw shutdown is left */
		c->flags &= (uint16_t)~CF_SHUT_DUE;
		struct io_uring_sqe *sqe = get_sqe();
		io_uring_prep_shutdown(sqe, (int)c->idx, SHUT_WR);
		sqe->flags |= IOSQE_FIXED_FILE;
		set_op(sqe, c, OP_SHUTDOWN);
		return;
	}
	int32_t b = pool_get();
	if (b < 0) {
		wait_for_buffer(c);
		return;
	}
	uint8_t *buf = rl.pool + (size_t)b * rl.pool_size;
	long len = 0;
	if (!c->tls) {
		len = write_due(c, buf, rl.pool_size, data);
	} else {
		if (due && pending < rl.tls_cap / 2)
			len = write_due(c, rl.tls_plain, rl.tls_cap - pending, data);
		if (len >= 0)
			len = rl_tls_seal(c, rl.tls_plain, (size_t)len, buf, rl.pool_size);
	}
	if (len <= 0) {
		pool_put(b);	/* nothing to send, or c failed */
		return;
	}
	c->sbuf = b;
	c->soff = 0;
	c->slen = (uint32_t)len;
	send_start(c);
}

static void flush_all(void)
{
	while (rl.dirty_head != NONE) {
		struct rl_conn *c = &rl.c[rl.dirty_head];
		rl.dirty_head = c->next;
		c->flags &= (uint16_t)~CF_DIRTY;
		flush(c);
	}
}

static void on_send(struct rl_conn *c, int res)
{
	if (res > 0 && c->soff + (uint32_t)res < c->slen && c->state != CS_DEAD) {
		c->soff += (uint32_t)res;	/* short send: the rest first */
		send_start(c);
		return;
	}
	c->flags &= (uint16_t)~CF_SEND;
	pool_put(c->sbuf);
	c->sbuf = -1;
	if (c->state == CS_DEAD)
		return;
	if (res <= 0) {
		rl_fail(c, "conn %u: send: %s", c->idx, res ? strerror(-res) : "nothing sent");
		return;
	}
	rl_mark_dirty(c);
}

static void on_cqe(struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	struct rl_conn *c = &rl.c[ud >> 8];

	switch (ud & 0xff) {
	case OP_CONNECT:
		c->nops--;
		on_connect(c, cqe->res);
		break;
	case OP_RECV:
		rl_on_recv(c, cqe);
		break;
	case OP_SEND:
		c->nops--;
		on_send(c, cqe->res);
		break;
	case OP_SHUTDOWN:
		c->nops--;
		if (cqe->res < 0 && c->state != CS_DEAD)
			rl_fail(c, "conn %u: shutdown: %s", c->idx, strerror(-cqe->res));
		break;
	case OP_CANCEL:
		c->nops--;
		break;
	case OP_CLOSE:
		c->nops--;
		rl.nclosed++;
		return;
	}
	maybe_close(c);
}

/* --- phases ---------------------------------------------------------------- */

/* Time for the closing handshakes: a server on one core closing 10,000
 * connections on a busy machine needs more than 3 s, and Node.js ws over
 * TLS more than 7. */
static uint64_t close_timeout(void)
{
	uint32_t per = rl.o->tls ? CLOSE_PER_SECOND_TLS : CLOSE_PER_SECOND;
	return CLOSE_TIMEOUT + (uint64_t)(rl.n / per) * NS;
}

static void start_close_phase(void)
{
	rl.phase = PH_CLOSE;
	rl.running = 0;
	rl.phase_end = rl.now + close_timeout();
	for (uint32_t i = 0; i < rl.n; i++) {
		struct rl_conn *c = &rl.c[i];
		if (c->state == CS_OPEN)
			rl_start_closing(c, 1000);
		else if (c->state == CS_CONNECTING || c->state == CS_HANDSHAKE || c->state == CS_IDLE)
			rl_teardown(c);
	}
}

static void begin_measure(void)
{
	rl.phase = PH_MEASURE;
	rl.m_start = rl.now;
	rl.m_end = rl.now + (uint64_t)(rl.o->duration * 1e9);
	rl.phase_end = rl.m_end;
	if (rl.o->pid) {
		if (rl_proc_cpu(rl.o->pid, &rl.cpu0) < 0)
			rl.cpu0 = -1;
		rl.cpu_t0 = now_ns();
	}
	rl.self0 = self_cpu();
}

static void end_measure(void)
{
	struct rl_result *r = rl.r;
	uint64_t end = rl.now < rl.m_end ? rl.now : rl.m_end;
	r->window_s = (double)(end - rl.m_start) / 1e9;
	if (rl.now < rl.m_end)
		rl.m_end = rl.now;	/* cut short: only what came back until now counts */
	r->client_cpu_s = self_cpu() - rl.self0;
	double cpu1;
	if (rl.o->pid && rl.cpu0 >= 0 && rl_proc_cpu(rl.o->pid, &cpu1) == 0) {
		r->server_cpu_s = cpu1 - rl.cpu0;
		r->server_wall_s = (double)(now_ns() - rl.cpu_t0) / 1e9;
	}
	if (rl.o->pid)
		rl_proc_rss(rl.o->pid, &r->server_rss_kb);
}

static void start_load(void)
{
	rl.phase = PH_WARMUP;
	rl.t0 = rl.now;
	rl.running = 1;
	rl.phase_end = rl.now + (uint64_t)(rl.o->warmup * 1e9);
	rl.last_progress = rl.now;
	if (rl.o->rate > 0) {
		rl.period_ns = 1e9 / rl.o->rate;
		rl.sched_m = 0;
	} else {
		for (uint32_t i = 0; i < rl.nsenders; i++) {
			rl.c[i].owed = rl.o->inflight;
			rl_mark_dirty(&rl.c[i]);
		}
	}
	if (rl.o->warmup <= 0)
		begin_measure();
}

static void connect_phase(void)
{
	uint64_t now = rl.now;

	/* a TLS handshake costs each end a millisecond or more of CPU here
	 * (wolfSSL's P-256 without assembly): with 256 at once, each would wait
	 * behind the others on a server's one core, and on a busy machine the
	 * later ones would run into their 10 s */
	uint32_t parallel = rl.o->tls ? CONNECT_PARALLEL_TLS : CONNECT_PARALLEL;
	while (rl.nconnecting < parallel && rl.next_connect < rl.n)
		start_connect(&rl.c[rl.next_connect++]);
	if (now >= rl.next_sweep) {
		rl.next_sweep = now + TICK;
		for (uint32_t i = 0; i < rl.next_connect; i++) {
			struct rl_conn *c = &rl.c[i];
			if ((c->state == CS_CONNECTING || c->state == CS_HANDSHAKE) && now >= c->deadline)
				rl_fail(c, "%s timed out after %llu s",
					c->state == CS_CONNECTING ? "connect" :
					c->tls && !(c->flags & CF_TLS_UP) ? "TLS handshake" : "handshake",
					(unsigned long long)(CONNECT_TIMEOUT / NS));
		}
		/* none established for a whole timeout: the server has stopped
		 * answering, and the rest would only time out in turn */
		if (rl.next_connect < rl.n && now >= rl.connect_progress + CONNECT_TIMEOUT) {
			error_n(rl.n - rl.next_connect, "%u connections not attempted: none was "
				"established for %llu s", rl.n - rl.next_connect,
				(unsigned long long)(CONNECT_TIMEOUT / NS));
			while (rl.next_connect < rl.n)
				rl_teardown(&rl.c[rl.next_connect++]);
		}
	}
	if (rl.next_connect < rl.n || rl.nconnecting)
		return;
	rl.r->connect_s = rl.nopen ? (double)(rl.last_open - rl.first_connect) / 1e9 : 0;
	if (rl.o->mode == RL_IDLE) {
		rl.phase = PH_HOLD;
		rl.phase_end = now + (uint64_t)(rl.o->hold * 1e9);
	} else if (rl.r->failed || !rl.nopen) {
		start_close_phase();	/* a load over fewer connections would mislead */
	} else {
		start_load();
	}
}

static void load_phase(void)
{
	uint64_t now = rl.now;

	if (rl.abort || !rl.nopen) {
		if (rl.phase == PH_MEASURE)
			end_measure();
		start_close_phase();
		return;
	}
	if (rl.phase == PH_WARMUP && now >= rl.phase_end)
		begin_measure();
	if (rl.phase == PH_MEASURE && now >= rl.m_end) {
		end_measure();
		rl.phase = PH_DRAIN;
		rl.running = 0;
		rl.phase_end = now + DRAIN_TIMEOUT;
		for (uint32_t i = 0; i < rl.n; i++) {
			/* open loop: what fell so far behind it was never sent */
			struct rl_conn *c = &rl.c[i];
			for (uint64_t k = 0; k < c->owed && rl.o->rate > 0; k++) {
				uint64_t ts = rl_sched_at((c->tx_seq + k) * rl.nsenders + i);
				rl.r->unsent += ts >= rl.m_start && ts < rl.m_end;
			}
			c->owed = 0;
		}
		return;
	}
	if (rl.outstanding && now >= rl.last_progress + STALL_TIMEOUT) {
		rl_error("the server stopped answering: nothing came back for %llu s with %llu "
			 "messages out", (unsigned long long)(STALL_TIMEOUT / NS),
			 (unsigned long long)rl.outstanding);
		rl.abort = 1;
		return;
	}
	if (rl.o->rate > 0) {
		while (rl_sched_at(rl.sched_m) <= now) {
			struct rl_conn *c = &rl.c[rl.sched_m % rl.nsenders];
			if (c->state == CS_OPEN) {
				c->owed++;
				rl_mark_dirty(c);
			}
			rl.sched_m++;
		}
	}
}

static void advance(void)
{
	struct rl_result *r = rl.r;

	switch (rl.phase) {
	case PH_CONNECT:
		connect_phase();
		break;
	case PH_WARMUP:
	case PH_MEASURE:
		load_phase();
		break;
	case PH_DRAIN:
		if (!rl.outstanding || rl.abort) {
			start_close_phase();
		} else if (rl.now >= rl.phase_end) {
			rl_error("the server stopped answering: %llu messages still out %llu s after the "
				 "end", (unsigned long long)rl.outstanding,
				 (unsigned long long)(DRAIN_TIMEOUT / NS));
			start_close_phase();
		}
		break;
	case PH_HOLD:
		if (rl.now < rl.phase_end)
			break;
		if (rl.o->pid)
			rl_proc_rss(rl.o->pid, &r->rss_after_kb);
		rl_kernel_mem(&r->tcp_after_b, &r->slab_after_b);
		start_close_phase();
		break;
	case PH_CLOSE:
		if (rl.nclosed == rl.n) {
			rl.phase = PH_END;
		} else if (rl.now >= rl.phase_end && !rl.forced) {
			uint32_t late = 0;
			for (uint32_t i = 0; i < rl.n; i++)
				if (rl.c[i].state != CS_DEAD) {
					late++;
					rl_teardown(&rl.c[i]);
				}
			if (late)
				error_n(late, "%u connections did not finish the closing handshake "
					"within %llu s", late, (unsigned long long)(close_timeout() / NS));
			rl.forced = 1;
			rl.phase_end = rl.now + 2 * NS;
		} else if (rl.now >= rl.phase_end) {
			rl.phase = PH_END;	/* completions that never came: give up */
		}
		break;
	case PH_END:
		break;
	}
}

/* When the loop must wake up next, in ns from now. */
static uint64_t next_wake(void)
{
	uint64_t t = rl.now + TICK;
	if (rl.phase != PH_CONNECT && rl.phase_end < t)
		t = rl.phase_end;
	if (rl.running && rl.o->rate > 0) {
		/* due sends go out in slots of OPEN_LOOP_SLOT: a wake-up per message
		 * would cost more than the message at high rates, and the lateness
		 * this adds shows in the latencies, as it should */
		uint64_t s = rl_sched_at(rl.sched_m);
		if (s > rl.t0)
			s = rl.t0 + (s - rl.t0 + OPEN_LOOP_SLOT - 1) / OPEN_LOOP_SLOT * OPEN_LOOP_SLOT;
		if (s < t)
			t = s;
	}
	return t > rl.now ? t - rl.now : 0;
}

/* --- set-up ------------------------------------------------------------- */

static int ring_setup(void)
{
	static const struct {
		unsigned flags;
		const char *name;
	} tries[] = {
		{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL |
			  IORING_SETUP_CQSIZE,
		  "single_issuer|defer_taskrun" },
		{ IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL |
			  IORING_SETUP_CQSIZE,
		  "coop_taskrun" },
		{ IORING_SETUP_CQSIZE, "plain" },
	};
	int rc = -EINVAL;
	struct io_uring_params p;
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = tries[i].flags;
		p.cq_entries = CQ_ENTRIES;
		rc = io_uring_queue_init_params(SQ_ENTRIES, &rl.ring, &p);
		if (rc == 0) {
			rl.r->ring_setup = tries[i].name;
			break;
		}
		if (rc != -EINVAL)
			break;
	}
	if (rc < 0) {
		fprintf(stderr, "ringload: io_uring is unavailable (io_uring_setup: %s)\n",
			strerror(-rc));
		return -1;
	}
	rl.ring_ok = 1;
	io_uring_register_ring_fd(&rl.ring);
	struct io_uring_probe *probe = io_uring_get_probe_ring(&rl.ring);
	int ok = probe && io_uring_opcode_supported(probe, IORING_OP_CONNECT) &&
		 io_uring_opcode_supported(probe, IORING_OP_RECV) &&
		 io_uring_opcode_supported(probe, IORING_OP_SEND) &&
		 io_uring_opcode_supported(probe, IORING_OP_SHUTDOWN) &&
		 io_uring_opcode_supported(probe, IORING_OP_CLOSE);
	if (probe)
		io_uring_free_probe(probe);
	if (!ok || !(p.features & IORING_FEAT_NODROP)) {
		fprintf(stderr, "ringload: io_uring on this kernel is too old (need 6.0 or later)\n");
		return -1;
	}
	rc = io_uring_register_files_sparse(&rl.ring, rl.n);
	if (rc < 0) {
		fprintf(stderr, "ringload: io_uring_register_files_sparse(%u): %s\n", rl.n,
			strerror(-rc));
		return -1;
	}
	rl.multishot = 1;
	return 0;
}

/* The provided-buffer ring (liburing 2.3 has no io_uring_setup_buf_ring):
 * incremental consumption first (6.12), else whole buffers. */
static int bufring_setup(void)
{
	for (int inc = 1; inc >= 0; inc--) {
		uint32_t count = inc ? 256 : 2048, size = inc ? 65536 : 16384;
		size_t rsz = count * sizeof(struct io_uring_buf);
		void *mem = mmap(NULL, rsz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
		if (mem == MAP_FAILED)
			break;
		struct io_uring_buf_reg reg;
		memset(&reg, 0, sizeof(reg));
		reg.ring_addr = (uint64_t)(uintptr_t)mem;
		reg.ring_entries = count;
		reg.bgid = BGID;
		reg.pad = inc ? IOU_PBUF_RING_INC : 0;	/* "flags" in newer headers */
		int rc = io_uring_register_buf_ring(&rl.ring, &reg, 0);
		if (rc < 0) {
			munmap(mem, rsz);
			if (inc && rc == -EINVAL)
				continue;
			fprintf(stderr, "ringload: io_uring provided buffer rings unavailable: %s\n",
				strerror(-rc));
			return -1;
		}
		rl.br = mem;
		rl.rb_count = count;
		rl.rb_size = size;
		rl.r->inc_buffers = inc;
		break;
	}
	if (!rl.br)
		return -1;
	io_uring_buf_ring_init(rl.br);
	rl.rbufs = mmap(NULL, (size_t)rl.rb_count * rl.rb_size, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	rl.rb_off = calloc(rl.rb_count, sizeof(*rl.rb_off));
	if (rl.rbufs == MAP_FAILED || !rl.rb_off) {
		rl.rbufs = NULL;
		fprintf(stderr, "ringload: out of memory for receive buffers\n");
		return -1;
	}
	rl.rb_mask = (uint32_t)io_uring_buf_ring_mask(rl.rb_count);
	for (uint32_t i = 0; i < rl.rb_count; i++)
		io_uring_buf_ring_add(rl.br, rl.rbufs + (size_t)i * rl.rb_size, rl.rb_size,
				      (unsigned short)i, rl.rb_mask, (int)i);
	io_uring_buf_ring_advance(rl.br, (int)rl.rb_count);
	return 0;
}

/* Send buffers: room for a window of messages (closed loop) or 16 (open
 * loop), at least one message and a control frame; enough of them for every
 * connection when they are small, a few hundred MiB of address space (not
 * of memory: a stack keeps the used ones hot) when they are large. */
static int pool_setup(void)
{
	const struct rl_opts *o = rl.o;
	size_t want = (o->rate > 0 ? 16 : o->inflight) * rl.frame_len + 512;
	if (want > 256 * 1024)
		want = 256 * 1024;
	if (want < rl.frame_len + 512)
		want = rl.frame_len + 512;
	if (want < 4096)
		want = 4096;
	if (o->tls) {
		/* that much plaintext per send, and room for its records */
		rl.tls_cap = want;
		want += rl_tls_overhead(want);
	}
	rl.pool_size = (want + 4095) & ~(size_t)4095;
	size_t count = (256u << 20) / rl.pool_size;
	if (count < 64)
		count = 64;
	if (count > rl.n)
		count = rl.n;
	rl.pool_count = (uint32_t)count;
	rl.pool = mmap(NULL, rl.pool_size * count, PROT_READ | PROT_WRITE,
		      MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, -1, 0);
	rl.pool_free = malloc(count * sizeof(*rl.pool_free));
	if (rl.pool == MAP_FAILED || !rl.pool_free) {
		rl.pool = NULL;
		fprintf(stderr, "ringload: out of memory for send buffers\n");
		return -1;
	}
	for (uint32_t i = 0; i < rl.pool_count; i++)
		rl.pool_free[i] = (int32_t)(rl.pool_count - 1 - i);
	rl.pool_nfree = rl.pool_count;
	rl.wait_head = rl.wait_tail = rl.dirty_head = NONE;
	return 0;
}

static int messages_setup(void)
{
	const struct rl_opts *o = rl.o;
	rl.raw = o->mode == RL_RAW;
	rl.opcode = o->text ? RWS_OP_TEXT : RWS_OP_BINARY;
	uint64_t longest = o->corpus ? o->corpus_max : o->size;
	rl.frame_len = rl.raw ? longest : rws_frame_hdr_len(longest, 1) + longest;
	rl.corpus = o->corpus;
	rl.coff = o->corpus_off;
	rl.cn = o->corpus_n;
	rl.nsenders = o->mode == RL_BROADCAST ? 1 : o->mode == RL_IDLE ? 0 : rl.n;
	rl.nreceivers = o->mode == RL_BROADCAST ? rl.n - 1 : 1;
	rl.pat = malloc(o->size + 64);
	if (!rl.pat)
		return -1;
	/* printable; each message starts at its own offset, so a body that
	 * belongs to another message shows */
	for (size_t i = 0; i < o->size + 64; i++)
		rl.pat[i] = (uint8_t)('A' + (i * 7 + i / 26 + i / 677) % 58);
	for (size_t i = 0; i < o->size + 64; i++)
		if (rl.pat[i] > 'Z' && rl.pat[i] < 'a')
			rl.pat[i] = (uint8_t)(rl.pat[i] - 26);
	rl.tsr_w = 1;
	while (rl.tsr_w < o->inflight)
		rl.tsr_w <<= 1;
	rl.tsr = calloc((size_t)(rl.nsenders ? rl.nsenders : 1) * rl.tsr_w, sizeof(*rl.tsr));
	rl.bcnt = calloc(rl.tsr_w, sizeof(*rl.bcnt));
	if (!rl.tsr || !rl.bcnt)
		return -1;
	rl.hs.host = (struct rws_str){ o->host, strlen(o->host) };
	rl.hs.path = (struct rws_str){ o->path, strlen(o->path) };
	if (o->has_query)
		rl.hs.query = (struct rws_str){ o->query, strlen(o->query) };
	if (o->deflate && rl_pmd_setup() < 0)
		return -2;
	if (o->deflate)
		rl.hs.extensions = (struct rws_str){ rl.pmd_offer, strlen(rl.pmd_offer) };
	if (rws_random_bytes(&rl.rng, sizeof(rl.rng)) < 0 || !rl.rng)
		rl.rng = clock_ns() | 1;
	return 0;
}

static void cleanup(void)
{
	if (rl.ring_ok)
		io_uring_queue_exit(&rl.ring);
	if (rl.br)
		munmap(rl.br, rl.rb_count * sizeof(struct io_uring_buf));
	if (rl.rbufs)
		munmap(rl.rbufs, (size_t)rl.rb_count * rl.rb_size);
	if (rl.pool)
		munmap(rl.pool, rl.pool_size * rl.pool_count);
	if (rl.c)
		for (uint32_t i = 0; i < rl.n; i++) {
			free(rl.c[i].hs);
			rl_pmd_conn_free(&rl.c[i]);
			rl_tls_conn_free(&rl.c[i]);
		}
	rl_pmd_cleanup();
	rl_tls_cleanup();
	free(rl.rb_off);
	free(rl.pool_free);
	free(rl.c);
	free(rl.pat);
	free(rl.tsr);
	free(rl.bcnt);
}

static void report_errors(void)
{
	for (int i = 0; i < rl.nerr; i++) {
		if (rl.err[i].count > 1 && !rl.err[i].counted)
			fprintf(stderr, "ringload: error: %s (%llu times)\n", rl.err[i].msg,
				(unsigned long long)rl.err[i].count);
		else
			fprintf(stderr, "ringload: error: %s\n", rl.err[i].msg);
	}
	if (rl.err_more)
		fprintf(stderr, "ringload: error: and %llu more errors\n",
			(unsigned long long)rl.err_more);
	if (rl.nerr)
		snprintf(rl.r->first_error, sizeof(rl.r->first_error), "%s", rl.err[0].msg);
}

int rl_run(const struct rl_opts *o, struct rl_result *r)
{
	memset(&rl, 0, sizeof(rl));
	rl.o = o;
	rl.r = r;
	rl.n = o->conns;
	rl.base = clock_ns();
	rl.m_start = UINT64_MAX;
	int rc = -1;

	rl.c = calloc(rl.n, sizeof(*rl.c));
	int ms = rl.c ? messages_setup() : -1;
	if (ms < 0) {
		if (ms == -1)
			fprintf(stderr, "ringload: out of memory\n");
		goto out;
	}
	if (ring_setup() < 0 || bufring_setup() < 0 || pool_setup() < 0 ||
	    (o->tls && rl_tls_setup() < 0))
		goto out;
	for (uint32_t i = 0; i < rl.n; i++) {
		rl.c[i].idx = i;
		rl.c[i].sbuf = -1;
	}
	if (o->mode == RL_IDLE) {
		if (o->pid)
			rl_proc_rss(o->pid, &r->rss_before_kb);
		rl_kernel_mem(&r->tcp_before_b, &r->slab_before_b);
	}

	rl.now = now_ns();
	rl.first_connect = rl.connect_progress = rl.now;
	rl.phase = PH_CONNECT;
	while (rl.phase != PH_END) {
		advance();
		if (rl.phase == PH_END)
			break;
		flush_all();
		uint64_t wait = next_wake();
		struct __kernel_timespec ts = { .tv_sec = (long long)(wait / NS),
						.tv_nsec = (long long)(wait % NS) };
		struct io_uring_cqe *cqe;
		int ret = io_uring_submit_and_wait_timeout(&rl.ring, &cqe, 1, &ts, NULL);
		if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EBUSY) {
			fprintf(stderr, "ringload: io_uring_submit_and_wait: %s\n", strerror(-ret));
			goto out;
		}
		rl.now = now_ns();
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&rl.ring, head, cqe) {
			on_cqe(cqe);
			seen++;
		}
		io_uring_cq_advance(&rl.ring, seen);
		if (rl.rb_pending) {
			io_uring_buf_ring_advance(rl.br, rl.rb_pending);
			rl.rb_pending = 0;
		}
	}
	rc = 0;
out:
	report_errors();
	cleanup();
	return rc;
}
