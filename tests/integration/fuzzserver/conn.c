/*
 * conn: one client connection after the opening handshake. It writes the
 * frames a case queues (in one write, frame by frame with pauses, or in
 * chops), reads and checks every client frame, records what the client
 * does as Autobahn's events (message, ping, pong, and the case's own
 * "timeout" marks), runs the close handshake as a server (echoing the
 * client's close code; closing TCP first once both close frames went by)
 * and grades the case.
 *
 * Grading follows Autobahn's Case.onConnectionLost: the events must equal
 * one of the expected lists (OK or NON-STRICT); the closing handshake must
 * be started by the expected endpoint (FAILED otherwise), be clean where
 * the case requires it (UNCLEAN) and carry an expected close code (WRONG
 * CODE, graded NON-STRICT unless the case makes it FAILED). On top of
 * Autobahn, a few things fail any case, because no client may do them:
 * a frame without a mask, a masking key repeated from the previous frame
 * (or from the first frame of the previous connection), RSV bits, a reserved opcode, a fragmented or long control frame, a
 * length not minimally encoded, a continuation without a message or a new
 * message inside one, a text message that is not UTF-8, a close frame with
 * a 1-byte payload, a code no endpoint may send (but 7.13.x's own code
 * echoed) or a reason that is not UTF-8, any frame after its close frame,
 * and leaving our close frame unanswered for 2 s with TCP open (a hang). A client that drops TCP without a
 * close frame where it must fail the connection is graded NON-STRICT
 * (Autobahn accepts it).
 */
#include "fz.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define CLOSE_TIMEOUT_MS 2000	/* for the client's answer to our close */
#define LINGER_MS 2000		/* for the client's FIN after ours */
#define MAX_FRAME (64u << 20)
#define OCTET_GAP_US 100	/* between octet-wise chops of a small frame */
#define SYNC_GAP_US 2000	/* after a frame written on its own (sync) */

struct seg {
	struct seg *next;
	uint8_t *p;
	size_t len, off, chop;
	int chop_gap_us, gap_us;
};

enum { T_KILL = 1, T_CLOSE, T_CONTINUE };

long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fprintf(stderr, "fuzzserver: out of memory (%zu bytes)\n", n);
		exit(2);
	}
	return q;
}

const char *grade_name(enum grade g)
{
	static const char *const names[] = { "OK", "NON-STRICT", "INFORMATIONAL", "FAILED",
					     "UNCLEAN", "WRONG CODE", "MISSING" };
	return names[g];
}

/* --- events ------------------------------------------------------------ */

static void ev_push(struct evlist *l, enum ev_kind k, int binary, char tag, const void *p,
		    size_t n)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	struct ev *e = &l->v[l->n++];
	e->kind = k;
	e->binary = binary;
	e->tag = tag;
	e->n = n;
	e->p = xrealloc(NULL, n);
	if (n)
		memcpy(e->p, p, n);
}

static void ev_free(struct evlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].p);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int ev_equal(const struct evlist *a, const struct evlist *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct ev *x = &a->v[i], *y = &b->v[i];
		if (x->kind != y->kind || x->binary != y->binary || x->tag != y->tag || x->n != y->n ||
		    (x->n && memcmp(x->p, y->p, x->n) != 0))
			return 0;
	}
	return 1;
}

void describe_events(const struct evlist *l, char *out, size_t cap)
{
	static const char *const kinds[] = { "message", "ping", "pong", "timeout" };
	size_t o = 0;
	o += (size_t)snprintf(out + o, cap - o, "[");
	for (size_t i = 0; i < l->n && o + 80 < cap; i++) {
		const struct ev *e = &l->v[i];
		if (i)
			o += (size_t)snprintf(out + o, cap - o, ", ");
		if (i == 8) {
			o += (size_t)snprintf(out + o, cap - o, "... %zu in all", l->n);
			break;
		}
		if (e->kind == EV_TIMEOUT) {
			o += (size_t)snprintf(out + o, cap - o, "timeout %c", e->tag);
			continue;
		}
		o += (size_t)snprintf(out + o, cap - o, "%s%s %zu B", kinds[e->kind],
				      e->kind == EV_MESSAGE ? (e->binary ? " binary" : " text") : "",
				      e->n);
		size_t show = e->n < 24 ? e->n : 24, k = 0;
		while (k < show && e->p[k] >= 0x20 && e->p[k] < 0x7f && e->p[k] != '"')
			k++;
		if (e->n && k == show) {
			/* printable: as text */
			o += (size_t)snprintf(out + o, cap - o, " \"%.*s%s\"", (int)show,
					      (const char *)e->p, e->n > show ? "..." : "");
		} else if (e->n) {
			o += (size_t)snprintf(out + o, cap - o, " ");
			for (k = 0; k < e->n && k < 12; k++)
				o += (size_t)snprintf(out + o, cap - o, "%02x", e->p[k]);
			if (e->n > 12)
				o += (size_t)snprintf(out + o, cap - o, "..");
		}
	}
	snprintf(out + o, cap - o, "]");
}

/* --- setup ---------------------------------------------------------------- */

void conn_init(struct conn *c, int fd, const struct case_def *cd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->cd = cd;
	c->remote_code = -1;
	c->t0_us = now_us();
	c->behavior = G_FAILED;
	c->close_grade = G_FAILED;
	snprintf(c->result, sizeof(c->result), "Actual events differ from any expected.");
	snprintf(c->close_result, sizeof(c->close_result),
		 "TCP connection was dropped without close handshake");
}

void conn_free(struct conn *c)
{
	while (c->out) {
		struct seg *s = c->out;
		c->out = s->next;
		free(s->p);
		free(s);
	}
	free(c->in);
	free(c->msg);
	free(c->ref);
	ev_free(&c->got);
	for (int w = 0; w < NWANT; w++)
		ev_free(&c->want[w]);
	if (!c->tcp_closed)
		close(c->fd);
}

/* --- frames to send -------------------------------------------------------- */

static void q_seg(struct conn *c, uint8_t *p, size_t len, size_t chop, int gap_us)
{
	struct seg *s = xrealloc(NULL, sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->p = p;
	s->len = len;
	s->chop = chop;
	s->chop_gap_us = chop && chop <= 16 && len <= 4096 ? OCTET_GAP_US : 0;
	s->gap_us = gap_us;
	if (c->out_tail)
		c->out_tail->next = s;
	else
		c->out = s;
	c->out_tail = s;
}

static size_t put_header(uint8_t *h, uint8_t b0, size_t n)
{
	h[0] = b0;
	if (n < 126) {
		h[1] = (uint8_t)n;
		return 2;
	}
	if (n < 65536) {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		return 4;
	}
	h[1] = 127;
	for (int i = 0; i < 8; i++)
		h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	return 10;
}

void q_frame(struct conn *c, uint8_t b0, const void *p, size_t n, size_t chop, int gap_us)
{
	uint8_t *buf = xrealloc(NULL, n + 10);
	size_t hl = put_header(buf, b0, n);
	if (n)
		memcpy(buf + hl, p, n);
	q_seg(c, buf, hl + n, chop, gap_us);
}

void q_frame_rep(struct conn *c, uint8_t b0, const void *pat, size_t patlen, size_t total,
		 size_t chop)
{
	uint8_t *buf = xrealloc(NULL, total + 10);
	size_t hl = put_header(buf, b0, total);
	for (size_t i = 0; i < total; i++)
		buf[hl + i] = ((const uint8_t *)pat)[i % patlen];
	q_seg(c, buf, hl + total, chop, 0);
}

void q_raw(struct conn *c, const void *p, size_t n)
{
	uint8_t *buf = xrealloc(NULL, n);
	memcpy(buf, p, n);
	q_seg(c, buf, n, 0, 0);
}

void q_message(struct conn *c, int op, const void *p, size_t n, size_t frag)
{
	if (!frag || frag >= n) {
		q_frame(c, (uint8_t)(FIN | op), p, n, 0, 0);
		return;
	}
	size_t nframes = (n + frag - 1) / frag;
	uint8_t *buf = xrealloc(NULL, n + nframes * 10);
	size_t o = 0;
	for (size_t off = 0; off < n; off += frag) {
		size_t k = n - off < frag ? n - off : frag;
		uint8_t b0 = (uint8_t)((off ? OP_CONT : op) | (off + k == n ? FIN : 0));
		o += put_header(buf + o, b0, k);
		memcpy(buf + o, (const uint8_t *)p + off, k);
		o += k;
	}
	q_seg(c, buf, o, 0, 0);
}

void q_frame_mode(struct conn *c, uint8_t b0, const void *p, size_t n, enum mode m)
{
	q_frame(c, b0, p, n, m == M_OCTETS ? 1 : 0, m == M_SYNC ? SYNC_GAP_US : 0);
}

void send_close_raw(struct conn *c, const void *payload, size_t n)
{
	q_frame(c, FIN | OP_CLOSE, payload, n, 0, 0);
	if (c->close_sent)
		return;
	c->close_sent = 1;
	if (!c->close_rcvd) {
		c->closed_by_me = 1;
		c->close_wait_us = now_us() + CLOSE_TIMEOUT_MS * 1000LL;
	} else {
		c->was_clean = 1;
	}
}

void send_close(struct conn *c, int code, const void *reason, size_t rlen)
{
	uint8_t p[256];
	size_t n = 0;
	if (code >= 0) {
		p[n++] = (uint8_t)(code >> 8);
		p[n++] = (uint8_t)code;
	}
	if (rlen > sizeof(p) - n)
		rlen = sizeof(p) - n;
	if (rlen)
		memcpy(p + n, reason, rlen);
	send_close_raw(c, p, n + rlen);
}

/* --- timers and expectations ------------------------------------------------ */

static void add_timer(struct conn *c, int kind, int ms, void (*fn)(struct conn *), char tag)
{
	if (c->ntm == (int)(sizeof(c->tm) / sizeof(c->tm[0])))
		return;
	c->tm[c->ntm++] = (struct timer){ now_us() + ms * 1000LL, kind, fn, tag };
}

void kill_after(struct conn *c, int ms)
{
	add_timer(c, T_KILL, ms, NULL, 0);
}

void close_after(struct conn *c, int ms)
{
	add_timer(c, T_CLOSE, ms, NULL, 0);
}

void continue_later(struct conn *c, int ms, void (*fn)(struct conn *), char tag)
{
	add_timer(c, T_CONTINUE, ms, fn, tag);
}

int conn_open(const struct conn *c)
{
	return !c->close_sent && !c->close_rcvd && !c->tcp_closed;
}

void want_none(struct conn *c, int w)
{
	c->want_set[w] = 1;
}

void want_msg(struct conn *c, int w, int binary, const void *p, size_t n)
{
	c->want_set[w] = 1;
	ev_push(&c->want[w], EV_MESSAGE, binary, 0, p, n);
}

void want_ping(struct conn *c, int w, const void *p, size_t n)
{
	c->want_set[w] = 1;
	ev_push(&c->want[w], EV_PING, 0, 0, p, n);
}

void want_pong(struct conn *c, int w, const void *p, size_t n)
{
	c->want_set[w] = 1;
	ev_push(&c->want[w], EV_PONG, 0, 0, p, n);
}

void want_timeout(struct conn *c, int w, char tag)
{
	c->want_set[w] = 1;
	ev_push(&c->want[w], EV_TIMEOUT, 0, tag, NULL, 0);
}

void record_timeout(struct conn *c, char tag)
{
	ev_push(&c->got, EV_TIMEOUT, 0, tag, NULL, 0);
}

void expect_close(struct conn *c, int closed_by_me, int require_clean, int fatal, int code1,
		  int code2, int code3)
{
	c->exp_closed_by_me = closed_by_me;
	c->exp_require_clean = require_clean;
	c->exp_fatal = fatal;
	c->exp_ncodes = 0;
	int codes[3] = { code1, code2, code3 };
	for (int i = 0; i < 3; i++)
		if (codes[i])
			c->exp_codes[c->exp_ncodes++] = codes[i];
}

/* Autobahn's finishWhenDone: once the events match every expected list,
 * the fuzzer starts the closing handshake if that is its part. */
static void finish_when_done(struct conn *c)
{
	if (!c->cd || c->custom)
		return;
	int any = 0;
	for (int w = 0; w < NWANT; w++) {
		if (!c->want_set[w])
			continue;
		any = 1;
		if (!ev_equal(&c->got, &c->want[w]))
			return;
	}
	if (any && c->exp_closed_by_me && !c->suppress_close && conn_open(c))
		send_close(c, c->exp_codes[0], NULL, 0);
}

/* --- the connection going away ------------------------------------------------ */

static void tcp_gone(struct conn *c, int by_me)
{
	if (c->tcp_closed)
		return;
	close(c->fd);
	c->tcp_closed = 1;
	if (by_me && !c->shut)
		c->dropped_by_me = 1;
}

static void violation(struct conn *c, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void violation(struct conn *c, const char *f, ...)
{
	if (!c->fail[0]) {
		va_list ap;
		va_start(ap, f);
		vsnprintf(c->fail, sizeof(c->fail), f, ap);
		va_end(ap);
	}
	tcp_gone(c, 1);
}

/* --- writing ---------------------------------------------------------------------- */

static int write_failed(struct conn *c, ssize_t n)
{
	if (n >= 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 1;
	/* EPIPE, ECONNRESET: the client is gone */
	tcp_gone(c, 0);
	return 1;
}

static void pop_seg(struct conn *c, long long now)
{
	struct seg *s = c->out;
	c->out = s->next;
	if (!c->out)
		c->out_tail = NULL;
	if (s->gap_us)
		c->next_write_us = now + s->gap_us;
	free(s->p);
	free(s);
}

static void do_write(struct conn *c)
{
	while (c->out && !c->tcp_closed) {
		long long now = now_us();
		if (now < c->next_write_us)
			return;
		struct seg *s = c->out;
		if (!s->chop && !s->gap_us) {
			/* a run of frames with no chops or pauses: one write */
			struct iovec iov[64];
			int k = 0;
			for (struct seg *t = s; t && k < 64 && !t->chop && !t->gap_us; t = t->next) {
				iov[k].iov_base = t->p + t->off;
				iov[k].iov_len = t->len - t->off;
				k++;
			}
			ssize_t n = writev(c->fd, iov, k);
			if (write_failed(c, n))
				return;
			size_t left = (size_t)n;
			while (c->out && left) {
				struct seg *t = c->out;
				size_t take = t->len - t->off < left ? t->len - t->off : left;
				t->off += take;
				left -= take;
				if (t->off == t->len)
					pop_seg(c, now);
			}
			continue;
		}
		size_t want = s->len - s->off;
		if (s->chop && want > s->chop - s->off % s->chop)
			want = s->chop - s->off % s->chop;
		ssize_t n = send(c->fd, s->p + s->off, want, MSG_NOSIGNAL);
		if (write_failed(c, n))
			return;
		s->off += (size_t)n;
		if (s->chop && s->off % s->chop == 0 && s->chop_gap_us)
			c->next_write_us = now + s->chop_gap_us;
		if (s->off == s->len)
			pop_seg(c, now);
	}
}

/* --- reading ---------------------------------------------------------------------- */

static int valid_close_code(int code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

static void on_close_frame(struct conn *c, const uint8_t *p, size_t n)
{
	if (n == 1) {
		violation(c, "close frame with a 1-byte payload");
		return;
	}
	if (n >= 2) {
		int code = p[0] << 8 | p[1];
		/* 7.13.x accept their out-of-range code echoed (informational) */
		int listed = 0;
		for (int i = 0; i < c->exp_ncodes; i++)
			listed |= c->exp_codes[i] == code;
		if (!valid_close_code(code) && !listed) {
			violation(c, "close frame with code %d, which no endpoint may send", code);
			return;
		}
		if (!utf8_valid(p + 2, n - 2)) {
			violation(c, "close frame with a reason that is not UTF-8");
			return;
		}
		c->remote_code = code;
	}
	c->close_rcvd = 1;
	c->msg_op = 0;
	if (!c->close_sent)
		send_close(c, c->remote_code, NULL, 0);
	else
		c->was_clean = 1;
}

static void message_done(struct conn *c)
{
	int op = c->msg_op;
	c->msg_op = 0;
	if (op == OP_TEXT && !utf8_valid(c->msg, c->msg_len)) {
		violation(c, "text message of %zu bytes that is not UTF-8", c->msg_len);
		return;
	}
	if (c->cd && c->cd->message) {
		c->cd->message(c, op == OP_BINARY, c->msg, c->msg_len);
		return;
	}
	ev_push(&c->got, EV_MESSAGE, op == OP_BINARY, 0, c->msg, c->msg_len);
	finish_when_done(c);
}

static void msg_append(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->msg_len + n > c->msg_cap) {
		c->msg_cap = (c->msg_len + n) * 2;
		c->msg = xrealloc(c->msg, c->msg_cap);
	}
	if (n)
		memcpy(c->msg + c->msg_len, p, n);
	c->msg_len += n;
}

static void on_frame(struct conn *c, int fin, int op, const uint8_t *p, size_t n)
{
	switch (op) {
	case OP_CONT:
		if (!c->msg_op) {
			violation(c, "continuation frame with no message to continue");
			return;
		}
		msg_append(c, p, n);
		if (fin)
			message_done(c);
		return;
	case OP_TEXT:
	case OP_BINARY:
		if (c->msg_op) {
			violation(c, "new data frame (opcode %d) inside a fragmented message", op);
			return;
		}
		c->msg_op = op;
		c->msg_len = 0;
		msg_append(c, p, n);
		if (fin)
			message_done(c);
		return;
	case OP_PING:
		ev_push(&c->got, EV_PING, 0, 0, p, n);
		if (!c->close_sent)
			q_frame(c, FIN | OP_PONG, p, n, 0, 0);
		finish_when_done(c);
		return;
	case OP_PONG:
		ev_push(&c->got, EV_PONG, 0, 0, p, n);
		finish_when_done(c);
		return;
	case OP_CLOSE:
		on_close_frame(c, p, n);
		return;
	}
}

static uint32_t prev_first_key;
static int have_prev_first_key;

/* Parses what was read: every complete frame is checked and handled. */
static void parse(struct conn *c)
{
	size_t pos = 0;
	while (!c->tcp_closed && c->in_len - pos >= 2) {
		uint8_t *h = c->in + pos;
		size_t avail = c->in_len - pos;
		int fin = h[0] & 0x80, rsv = h[0] & 0x70, op = h[0] & 0x0f;
		int masked = h[1] & 0x80, len7 = h[1] & 0x7f;
		size_t hl = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
		if (c->close_rcvd) {
			violation(c, "a frame (opcode %d) after the client's close frame", op);
			break;
		}
		if (!masked) {
			violation(c, "frame (opcode %d) without a mask: a client must mask every frame",
				  op);
			break;
		}
		if (rsv) {
			violation(c, "frame with RSV bits 0x%x set, no extension negotiated", rsv >> 4);
			break;
		}
		if ((op > 2 && op < 8) || op > 10) {
			violation(c, "frame with reserved opcode %d", op);
			break;
		}
		if (op >= 8 && (!fin || len7 > 125)) {
			violation(c, "control frame (opcode %d) %s", op,
				  !fin ? "fragmented" : "with more than 125 bytes");
			break;
		}
		if (avail < hl + 4)
			break;
		uint64_t len = (uint64_t)len7;
		if (len7 == 126) {
			len = (uint64_t)h[2] << 8 | h[3];
			if (len < 126) {
				violation(c, "length %llu not minimally encoded (16-bit form)",
					  (unsigned long long)len);
				break;
			}
		} else if (len7 == 127) {
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | h[2 + i];
			if (len < 65536 || len >> 63) {
				violation(c, "length %llu not minimally encoded (64-bit form)",
					  (unsigned long long)len);
				break;
			}
		}
		if (len > MAX_FRAME) {
			violation(c, "frame of %llu bytes, more than the fuzzer takes",
				  (unsigned long long)len);
			break;
		}
		if (avail < hl + 4 + len)
			break;
		const uint8_t *k = h + hl;
		uint32_t key = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
		if (c->frames && key == c->last_key) {
			violation(c, "masking key %08x used for two frames in a row: keys must be fresh",
				  key);
			break;
		}
		if (!c->frames) {
			if (have_prev_first_key && key == prev_first_key) {
				violation(c, "masking key %08x also opened the previous connection: keys "
					  "must be fresh", key);
				break;
			}
			prev_first_key = key;
			have_prev_first_key = 1;
		}
		c->last_key = key;
		c->frames++;
		uint8_t *p = h + hl + 4;
		for (uint64_t i = 0; i < len; i++)
			p[i] ^= k[i & 3];
		pos += hl + 4 + (size_t)len;
		on_frame(c, fin, op, p, (size_t)len);
	}
	if (c->tcp_closed) {
		c->in_len = 0;
		return;
	}
	memmove(c->in, c->in + pos, c->in_len - pos);
	c->in_len -= pos;
}

static void do_read(struct conn *c)
{
	for (int rounds = 0; rounds < 16 && !c->tcp_closed; rounds++) {
		if (c->in_cap - c->in_len < (256u << 10)) {
			c->in_cap = c->in_cap * 2 + (1u << 20);
			c->in = xrealloc(c->in, c->in_cap);
		}
		ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n == 0) {
			parse(c);
			tcp_gone(c, 0);
			return;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			tcp_gone(c, 0);
			return;
		}
		c->in_len += (size_t)n;
		parse(c);
	}
}

/* --- the loop -------------------------------------------------------------------------- */

static void fire_timers(struct conn *c, long long now)
{
	for (int i = 0; i < c->ntm && !c->tcp_closed;) {
		if (c->tm[i].at_us > now) {
			i++;
			continue;
		}
		struct timer t = c->tm[i];
		c->tm[i] = c->tm[--c->ntm];
		switch (t.kind) {
		case T_KILL:
			/* Autobahn's failConnection (failByDrop off): a close if none
			 * went out yet. Once closing, the close timeout (an unanswered
			 * close is a hang) and the linger after our FIN take over. */
			if (conn_open(c))
				send_close(c, 1001, "going away", 10);
			break;
		case T_CLOSE:
			if (conn_open(c))
				send_close(c, 1000, NULL, 0);
			break;
		case T_CONTINUE:
			if (conn_open(c))
				t.fn(c);
			break;
		}
		i = 0;
	}
}

void conn_run(struct conn *c, int hard_ms)
{
	c->deadline_us = c->t0_us + hard_ms * 1000LL;
	while (!c->tcp_closed) {
		long long now = now_us();
		fire_timers(c, now);
		if (c->tcp_closed)
			break;
		if (c->close_sent && !c->close_rcvd && now >= c->close_wait_us) {
			c->no_reply = 1;
			tcp_gone(c, 1);
			break;
		}
		if (c->shut && now >= c->linger_us) {
			tcp_gone(c, 1);
			break;
		}
		if (now >= c->deadline_us) {
			violation(c, "the case did not end within %d s", hard_ms / 1000);
			break;
		}
		do_write(c);
		if (c->tcp_closed)
			break;
		if (!c->out && c->close_sent && c->close_rcvd && !c->shut) {
			/* the handshake is done: the server closes TCP first */
			shutdown(c->fd, SHUT_WR);
			c->shut = 1;
			c->linger_us = now + LINGER_MS * 1000LL;
		}
		long long wake = c->deadline_us;
		for (int i = 0; i < c->ntm; i++)
			if (c->tm[i].at_us < wake)
				wake = c->tm[i].at_us;
		if (c->close_sent && !c->close_rcvd && c->close_wait_us < wake)
			wake = c->close_wait_us;
		if (c->shut && c->linger_us < wake)
			wake = c->linger_us;
		int want_out = c->out && c->next_write_us <= now;
		if (c->out && !want_out && c->next_write_us < wake)
			wake = c->next_write_us;
		long long ms = (wake - now + 999) / 1000;
		if (ms < 0)
			ms = 0;
		struct pollfd pf = { c->fd, (short)(POLLIN | (want_out ? POLLOUT : 0)), 0 };
		int r = poll(&pf, 1, (int)(ms > 1000 ? 1000 : ms));
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (pf.revents & (POLLIN | POLLHUP | POLLERR))
			do_read(c);
		if (!c->tcp_closed && (pf.revents & POLLOUT))
			do_write(c);
	}
}

/* --- grading ----------------------------------------------------------------------------- */

static int code_expected(const struct conn *c, int code)
{
	for (int i = 0; i < c->exp_ncodes; i++)
		if (c->exp_codes[i] == code)
			return 1;
	return 0;
}

static void codes_text(const struct conn *c, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = 0;
	for (int i = 0; i < c->exp_ncodes && o + 8 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%d", i ? "," : "", c->exp_codes[i]);
}

/* how the connection ended, in words */
static void close_text(const struct conn *c, char *out, size_t cap)
{
	char code[32];
	if (c->remote_code >= 0)
		snprintf(code, sizeof(code), " %d", c->remote_code);
	else
		snprintf(code, sizeof(code), " without code");
	if (c->close_rcvd)
		snprintf(out, cap, "%s, client close%s%s", c->closed_by_me ? "fuzzer closed first" :
			 "client closed first", code, c->was_clean ? " (clean)" : "");
	else if (c->no_reply)
		snprintf(out, cap, "no close frame from the client");
	else if (c->dropped_by_me)
		snprintf(out, cap, "%s, fuzzer dropped TCP", c->close_sent ? "fuzzer closed first" :
			 "no close frames");
	else
		snprintf(out, cap, "client dropped TCP without a close frame");
}

enum grade conn_grade(struct conn *c, char *reason, size_t cap)
{
	char got[1024], want[1024], codes[64], ct[160];
	if (!c->custom) {
		c->behavior = G_FAILED;
		for (int w = 0; w < NWANT; w++)
			if (c->want_set[w] && ev_equal(&c->got, &c->want[w])) {
				c->behavior = w == WANT_OK ? G_OK : G_NON_STRICT;
				snprintf(c->result, sizeof(c->result),
					 "Actual events match at least one expected.");
				break;
			}
	}
	codes_text(c, codes, sizeof(codes));
	if (c->exp_closed_by_me != c->closed_by_me) {
		c->close_grade = G_FAILED;
		snprintf(c->close_result, sizeof(c->close_result),
			 "the connection was failed by the wrong endpoint: %s",
			 c->exp_closed_by_me ? "the client closed first" :
			 "the client did not fail the connection; the fuzzer closed it");
	} else if (c->exp_require_clean && !c->was_clean) {
		c->close_grade = G_UNCLEAN;
		snprintf(c->close_result, sizeof(c->close_result),
			 "no clean closing handshake, which the case requires");
	} else if (c->remote_code >= 0 && !code_expected(c, c->remote_code)) {
		c->close_grade = G_WRONG_CODE;
		snprintf(c->close_result, sizeof(c->close_result),
			 "close code %d, which should have been %s or empty", c->remote_code, codes);
	} else {
		c->close_grade = G_OK;
		snprintf(c->close_result, sizeof(c->close_result), "connection was properly closed");
	}
	if (c->exp_fatal && c->exp_closed_by_me != c->closed_by_me)
		c->behavior = G_FAILED;
	if (!c->exp_closed_by_me && !c->closed_by_me && !c->close_rcvd && !c->dropped_by_me)
		snprintf(c->note, sizeof(c->note),
			 "the client closed TCP without a close frame (expected %s)", codes);
	if (c->cd && c->cd->lost)
		c->cd->lost(c);

	describe_events(&c->got, got, sizeof(got));
	describe_events(&c->want[WANT_OK], want, sizeof(want));
	close_text(c, ct, sizeof(ct));
	if (c->fail[0]) {
		snprintf(reason, cap, "%s; events %s", c->fail, got);
		return G_FAILED;
	}
	if (c->no_reply) {
		snprintf(reason, cap, "the client neither answered the close frame nor closed TCP "
			 "within %d ms; events %s", CLOSE_TIMEOUT_MS, got);
		return G_FAILED;
	}
	if (c->behavior == G_FAILED) {
		if (c->custom)
			snprintf(reason, cap, "%s; %s", c->result, ct);
		else
			snprintf(reason, cap, "%s got %s, expected %s; %s", c->result, got, want, ct);
		return G_FAILED;
	}
	if (c->close_grade == G_FAILED || c->close_grade == G_UNCLEAN) {
		snprintf(reason, cap, "close %s: %s; %s; events %s", grade_name(c->close_grade),
			 c->close_result, ct, got);
		return G_FAILED;
	}
	if (c->behavior == G_INFORMATIONAL) {
		snprintf(reason, cap, "%s; %s; events %s", c->result, ct, got);
		return G_INFORMATIONAL;
	}
	if (c->behavior == G_NON_STRICT || c->close_grade == G_WRONG_CODE || c->note[0]) {
		snprintf(reason, cap, "%s%s%s%s; events %s; %s",
			 c->behavior == G_NON_STRICT ? "events match the non-strict expectation" : "",
			 c->behavior == G_NON_STRICT && (c->close_grade == G_WRONG_CODE || c->note[0]) ?
			 "; " : "", c->close_grade == G_WRONG_CODE ? c->close_result : "",
			 c->close_grade != G_WRONG_CODE && c->note[0] ? c->note : "", got, ct);
		return G_NON_STRICT;
	}
	snprintf(reason, cap, "%s; events %s; %s", c->custom ? c->result : "as expected", got, ct);
	return G_OK;
}
