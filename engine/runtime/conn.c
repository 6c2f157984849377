/*
 * conn: the runtime side of one connection — its receive path (handshake
 * bytes to upgrade.c, frames to the protocol session), its ordered send
 * queue, its timers, and its teardown.
 *
 * Life: accepted (PH_HANDSHAKE, on the handshake timer) → PH_OPEN after the
 * 101 → PH_LINGER once the close handshake is done or the connection failed:
 * what is queued (the close frame) goes out, then FIN, then we wait for the
 * peer's EOF (bounded by the close timeout) → PH_DEAD: the socket is shut,
 * the recv is cancelled, and the object returns to the reactor's pool when
 * the last operation in flight has completed.
 *
 * Sends: exactly one sendmsg in flight per socket; everything queued
 * meanwhile leaves in the next one (one iovec entry per queued buffer).
 * Small frames are appended to the tail buffer while nobody shares it.
 */
#include "runtime/runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "protocol/mask.h"

#define SEND_IOV_MAX 64
#define SBUF_MIN (16 * 1024)

/* --- buffers -------------------------------------------------------------- */

struct sbuf *rws_sbuf_new(size_t cap)
{
	struct sbuf *b = malloc(sizeof(*b) + cap);
	if (!b)
		return NULL;
	atomic_init(&b->refs, 1);
	b->slot = -1;
	b->owner = NULL;
	b->len = 0;
	b->cap = cap;
	return b;
}

/* A buffer in a free slot of r's registered pool for a frame of len bytes,
 * or NULL (no pool, too small or too large, pool exhausted). Owner thread
 * only. Its cap is its len: nothing is appended to a zero-copy buffer. */
struct sbuf *rws_sbuf_new_zc(struct reactor *r, size_t len)
{
	if (!r->zc_ok || len < ZC_MIN || len > ZC_SLOT - sizeof(struct sbuf) || !r->zc_nfree)
		return NULL;
	int32_t slot = r->zc_free[--r->zc_nfree];
	struct sbuf *b = (struct sbuf *)(r->zc_mem + (size_t)slot * ZC_SLOT);
	atomic_init(&b->refs, 1);
	b->slot = slot;
	b->owner = r;
	b->len = len;
	b->cap = len;
	return b;
}

void rws_sbuf_put(struct sbuf *b)
{
	if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
		return;
	if (b->slot >= 0)	/* pool buffers are only ever put on their owner */
		b->owner->zc_free[b->owner->zc_nfree++] = b->slot;
	else
		free(b);
}

/* --- timers ----------------------------------------------------------------- */

enum { T_NONE = 0, T_HANDSHAKE, T_CLOSE, T_LINGER };

static struct tlist *tlist_of(struct rws_conn *c, int which)
{
	switch (which) {
	case T_HANDSHAKE: return &c->r->hs_timers;
	case T_CLOSE: return &c->r->close_timers;
	case T_LINGER: return &c->r->linger_timers;
	default: return NULL;
	}
}

/* The list a connection is on follows from its phase and session state. */
static int timer_of(struct rws_conn *c)
{
	if (!c->deadline)
		return T_NONE;
	if (c->phase == PH_HANDSHAKE)
		return T_HANDSHAKE;
	if (c->phase == PH_LINGER)
		return T_LINGER;
	if (c->phase == PH_OPEN)
		return T_CLOSE;
	return T_NONE;
}

static void timer_clear(struct rws_conn *c)
{
	struct tlist *t = tlist_of(c, timer_of(c));
	if (t)
		rws_tlist_del(t, c);
	c->deadline = 0;
}

/* Moves c to `phase` and puts it on that phase's timer (which = T_*). */
static void set_phase(struct rws_conn *c, int phase, int which)
{
	timer_clear(c);
	c->phase = (uint8_t)phase;
	struct tlist *t = tlist_of(c, which);
	if (t)
		rws_tlist_add(t, c, c->r->now);
}

/* --- the open list of a route -------------------------------------------- */

static void route_add(struct rws_conn *c)
{
	int ri = rws_server_route_index(c->r->srv, c->route);
	struct rws_conn **head = &c->r->open_by_route[ri];
	c->rprev = NULL;
	c->rnext = *head;
	if (*head)
		(*head)->rprev = c;
	*head = c;
}

static void route_del(struct rws_conn *c)
{
	if (!c->route)
		return;
	int ri = rws_server_route_index(c->r->srv, c->route);
	struct rws_conn **head = &c->r->open_by_route[ri];
	if (c->rprev)
		c->rprev->rnext = c->rnext;
	else if (*head == c)
		*head = c->rnext;
	else
		return;
	if (c->rnext)
		c->rnext->rprev = c->rprev;
	c->rprev = c->rnext = NULL;
}

/* --- creating and releasing -------------------------------------------------- */

struct rws_conn *rws_conn_new(struct reactor *r, int fd)
{
	struct rws_conn *c = r->free_conns;
	uint32_t gen = 1;
	if (c) {
		r->free_conns = c->fnext;
		gen = c->gen + 1;
	} else {
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			return NULL;
		}
	}
	memset(c, 0, sizeof(*c));
	c->gen = gen;
	c->r = r;
	c->fd = fd;
	c->peer_len = sizeof(c->peer);
	if (getpeername(fd, &c->peer.sa, &c->peer_len) < 0)
		c->peer_len = 0;
	rws_session_init(&c->s, &r->srv->scfg, 0);
	atomic_fetch_add_explicit(&r->nconns, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->n_accepted, 1, memory_order_relaxed);
	unsigned total = atomic_fetch_add(&r->srv->nconns, 1) + 1;
	set_phase(c, PH_HANDSHAKE, T_HANDSHAKE);
	rws_conn_arm_recv(c);

	uint32_t max = r->srv->o.max_connections;
	if (max && total > max) {
		char out[256];
		int n = rws_hs_write_error(out, sizeof(out), 503, "too many connections", NULL, 0);
		if (n > 0)
			rws_conn_queue_copy(c, out, (size_t)n);
		set_phase(c, PH_LINGER, T_LINGER);
	}
	return c;
}

static void free_queue(struct rws_conn *c)
{
	struct qent *q = c->qhead;
	while (q) {
		struct qent *next = q->next;
		rws_sbuf_put(q->b);
		free(q);
		q = next;
	}
	c->qhead = c->qtail = NULL;
	c->qbytes = 0;
}

void rws_conn_release(struct rws_conn *c)
{
	/* still linked on the flush list: the loop releases it when it gets
	 * there (fnext is needed until then) */
	if (c->phase != PH_DEAD || c->inflight || (c->flags & CF_FLUSH_LISTED))
		return;
	struct reactor *r = c->r;
	close(c->fd);
	c->fd = -1;
	free_queue(c);
	free(c->hs);
	free(c->meta);
	c->hs = c->meta = NULL;
	rws_session_free(&c->s);
	c->phase = PH_FREE;
	atomic_fetch_sub_explicit(&r->nconns, 1, memory_order_relaxed);
	atomic_fetch_sub(&r->srv->nconns, 1);
	c->gen++;	/* jobs still naming this life are dropped */
	c->fnext = r->free_conns;
	r->free_conns = c;
}

static void cancel_recv(struct rws_conn *c)
{
	if (!(c->flags & CF_RECV_ARMED) || (c->flags & CF_CANCELING))
		return;
	struct io_uring_sqe *sqe = rws_reactor_sqe(c->r);
	io_uring_prep_cancel64(sqe, UD(c, UD_RECV), 0);
	io_uring_sqe_set_data64(sqe, UD(c, UD_CANCEL));
	c->flags |= CF_CANCELING;
	c->inflight++;
}

void rws_conn_teardown(struct rws_conn *c, int code, const char *reason, size_t rlen)
{
	if (c->phase >= PH_DEAD)
		return;
	const struct rws_handler *h = c->route ? &c->route->h : NULL;
	if ((c->flags & CF_OPENED) && !(c->flags & CF_CLOSED_CB)) {
		c->flags |= CF_CLOSED_CB;
		if (h && h->on_close)
			h->on_close(h->ctx, c, code, reason, rlen);
	}
	route_del(c);
	timer_clear(c);
	c->phase = PH_DEAD;
	/* ends a send in flight and the multishot recv */
	shutdown(c->fd, SHUT_RDWR);
	cancel_recv(c);
	rws_conn_release(c);
}

/* --- receiving -------------------------------------------------------------- */

void rws_conn_arm_recv(struct rws_conn *c)
{
	if (c->phase >= PH_DEAD || (c->flags & (CF_RECV_ARMED | CF_PAUSED)))
		return;
	struct io_uring_sqe *sqe = rws_reactor_sqe(c->r);
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = 1;
	io_uring_sqe_set_data64(sqe, UD(c, UD_RECV));
	c->flags |= CF_RECV_ARMED;
	c->inflight++;
}

/* The session finished (close handshake done, or failed): send what is
 * queued, then FIN, then wait for the peer's EOF. */
static void enter_linger(struct rws_conn *c)
{
	route_del(c);
	set_phase(c, PH_LINGER, T_LINGER);
	rws_conn_flush(c);
}

void rws_conn_linger_now(struct rws_conn *c)
{
	enter_linger(c);
}

static void on_event(struct rws_conn *c, struct rws_event *ev)
{
	const struct rws_handler *h = &c->route->h;
	switch (ev->type) {
	case RWS_EV_MESSAGE:
		if (h->on_message)
			h->on_message(h->ctx, c, ev->data, ev->len, ev->is_text);
		break;
	case RWS_EV_PING:
		if (h->on_ping)
			h->on_ping(h->ctx, c, ev->data, ev->len);
		break;
	case RWS_EV_PONG:
		if (h->on_pong)
			h->on_pong(h->ctx, c, ev->data, ev->len);
		break;
	case RWS_EV_CLOSE:
		if (!(c->flags & CF_CLOSED_CB)) {
			c->flags |= CF_CLOSED_CB;
			const char *reason = (const char *)ev->data;
			size_t rlen = ev->len;
			if (ev->close_flags & RWS_CLOSE_F_ERROR) {
				reason = ev->error;
				rlen = strlen(ev->error);
			}
			if (h->on_close)
				h->on_close(h->ctx, c, ev->code, reason, rlen);
		}
		if (c->phase == PH_OPEN)
			enter_linger(c);
		break;
	}
}

/* Feeds frames to the session; buf is writable (unmasked in place). */
static int check_bound(struct rws_conn *c);

/* Queues the session's automatic reply. A pong counts against the send
 * queue's bound like any send, so a peer that pings without reading cannot
 * grow the queue: past the bound the policy closes with 1008, or (refuse)
 * the pong is dropped — RFC 6455 5.5.3 lets an endpoint skip pongs. */
static void queue_reply(struct rws_conn *c, const struct rws_event *ev)
{
	if (ev->type == RWS_EV_PING && check_bound(c) < 0)
		return;
	rws_conn_queue_copy(c, ev->reply, ev->reply_len);
}

static void session_bytes(struct rws_conn *c, uint8_t *buf, size_t len)
{
	size_t pos = 0;
	while (c->phase == PH_OPEN) {
		struct rws_event ev;
		pos += rws_session_recv(&c->s, buf + pos, len - pos, c->r->now, &ev);
		if (ev.reply_len)
			queue_reply(c, &ev);
		if (ev.type == RWS_EV_NONE)
			break;
		on_event(c, &ev);
	}
}

void rws_conn_open(struct rws_conn *c)
{
	timer_clear(c);
	c->phase = PH_OPEN;
	route_add(c);
	c->flags |= CF_OPENED;
	const struct rws_handler *h = &c->route->h;
	if (h->on_open)
		h->on_open(h->ctx, c);
}

static void handshake_bytes(struct rws_conn *c, uint8_t *data, size_t len);

void rws_conn_adopt(struct reactor *r, int fd, struct sbuf *head)
{
	struct rws_conn *c = rws_conn_new(r, fd);
	if (c && c->phase == PH_HANDSHAKE && head && head->len)
		handshake_bytes(c, head->data, head->len);
}

static void handshake_bytes(struct rws_conn *c, uint8_t *data, size_t len)
{
	size_t max = RWS_HTTP_MAX_HEAD_DEFAULT;
	char *buf = (char *)data;
	size_t n = len;
	if (c->hs) {
		size_t room = max - c->hs_len;
		size_t take = len < room ? len : room;
		memcpy(c->hs + c->hs_len, data, take);
		c->hs_len += (uint32_t)take;
		buf = c->hs;
		n = c->hs_len;
		/* bytes that did not fit: only possible past the limit, which
		 * the parser refuses with 431 */
	}
	size_t used = 0;
	rws_upgrade_handle(c, buf, n, &used);
	if (used == 0 && c->phase == PH_HANDSHAKE) {
		/* incomplete: keep the bytes */
		if (!c->hs) {
			c->hs = malloc(max);
			if (!c->hs) {
				rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
				return;
			}
			size_t take = len < max ? len : max;
			memcpy(c->hs, data, take);
			c->hs_len = (uint32_t)take;
		}
		return;
	}
	if (c->phase == PH_OPEN && used < n)
		session_bytes(c, (uint8_t *)buf + used, n - used);
	free(c->hs);
	c->hs = NULL;
	c->hs_len = 0;
}

void rws_conn_on_recv(struct rws_conn *c, struct io_uring_cqe *cqe)
{
	int res = cqe->res;
	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		c->flags &= (uint16_t)~CF_RECV_ARMED;
		c->inflight--;
	}
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		uint8_t *data = c->r->bufs + (size_t)bid * c->r->buf_size;
		if (res > 0) {
			if (c->phase == PH_HANDSHAKE)
				handshake_bytes(c, data, (size_t)res);
			else if (c->phase == PH_OPEN)
				session_bytes(c, data, (size_t)res);
			/* PH_LINGER, PH_DEAD: discarded */
		}
		rws_reactor_recycle(c->r, bid);
	}
	if (res == 0) {
		/* EOF: the peer is gone; expected while lingering */
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
	} else if (res == -ENOBUFS) {
		/* the buffer ring ran dry. Every buffer of this batch is handed
		 * back before the next submit, so arming again now finds them */
		atomic_fetch_add_explicit(&c->r->n_enobufs, 1, memory_order_relaxed);
		rws_conn_arm_recv(c);
	} else if (res < 0 && res != -ECANCELED) {
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
	} else if (res > 0 && !(cqe->flags & IORING_CQE_F_MORE)) {
		/* the multishot ended on its own (CQ overflow): arm again */
		rws_conn_arm_recv(c);
	}
	rws_conn_release(c);
}

void rws_conn_on_cancel(struct rws_conn *c)
{
	c->inflight--;
	c->flags &= (uint16_t)~CF_CANCELING;
	rws_conn_release(c);
}

void rws_conn_handshake_expired(struct rws_conn *c)
{
	rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
}

void rws_conn_close_expired(struct rws_conn *c)
{
	/* our close went unanswered: drop the connection (1006, as ws) */
	rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, "close handshake timed out", 25);
}

void rws_conn_linger_expired(struct rws_conn *c)
{
	rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
}

/* --- sending ------------------------------------------------------------------ */

static void mark_flush(struct rws_conn *c)
{
	if (c->flags & CF_FLUSH_LISTED)
		return;
	c->flags |= CF_FLUSH_LISTED;
	c->fnext = c->r->flush_head;
	c->r->flush_head = c;
}

void rws_conn_queue(struct rws_conn *c, struct sbuf *b)
{
	struct qent *q = malloc(sizeof(*q));
	if (!q) {
		rws_sbuf_put(b);
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
		return;
	}
	q->next = NULL;
	q->b = b;
	q->off = 0;
	if (c->qtail)
		c->qtail->next = q;
	else
		c->qhead = q;
	c->qtail = q;
	c->qbytes += b->len;
	mark_flush(c);
}

/* Returns room for n more bytes at the end of the queue, appending to the
 * tail buffer when nobody else shares it. The caller fills them. */
static uint8_t *queue_reserve(struct rws_conn *c, size_t n)
{
	struct qent *t = c->qtail;
	if (t && t->b->slot < 0 && atomic_load(&t->b->refs) == 1 && t->b->cap - t->b->len >= n) {
		uint8_t *p = t->b->data + t->b->len;
		t->b->len += n;
		c->qbytes += n;
		mark_flush(c);
		return p;
	}
	struct sbuf *b = rws_sbuf_new_zc(c->r, n);
	if (!b) {
		b = rws_sbuf_new(n < SBUF_MIN ? SBUF_MIN : n);
		if (!b)
			return NULL;
		b->len = n;
	}
	rws_conn_queue(c, b);
	return c->qtail && c->qtail->b == b ? b->data : NULL;
}

int rws_conn_queue_copy(struct rws_conn *c, const void *data, size_t len)
{
	uint8_t *p = queue_reserve(c, len);
	if (!p)
		return -ENOMEM;
	memcpy(p, data, len);
	return 0;
}

void rws_conn_flush(struct rws_conn *c)
{
	if (c->phase >= PH_DEAD || (c->flags & CF_SEND_BUSY))
		return;
	if (!c->qhead) {
		if (c->phase == PH_LINGER && !(c->flags & CF_WR_SHUT)) {
			c->flags |= CF_WR_SHUT;
			shutdown(c->fd, SHUT_WR);
		}
		return;
	}
	struct io_uring_sqe *sqe = rws_reactor_sqe(c->r);
	struct qent *h = c->qhead;
	if (h->b->slot >= 0) {
		/* zero copy from the registered pool, this buffer alone; the
		 * ticket keeps it referenced until the kernel's NOTIF */
		struct zc_ticket *t = malloc(sizeof(*t));
		if (t) {
			t->c = c;
			t->b = h->b;
			atomic_fetch_add(&h->b->refs, 1);
			io_uring_prep_send_zc_fixed(sqe, c->fd, h->b->data + h->off, h->b->len - h->off,
						    MSG_NOSIGNAL, 0, 0);
			io_uring_sqe_set_data64(sqe, UD(t, UD_SEND_ZC));
			atomic_fetch_add_explicit(&c->r->n_zc, 1, memory_order_relaxed);
			c->flags |= CF_SEND_BUSY;
			c->inflight++;
			return;
		}
		/* no ticket: a plain send of the same bytes */
	}
	if (!c->qhead->next) {
		struct qent *q = c->qhead;
		io_uring_prep_send(sqe, c->fd, q->b->data + q->off, q->b->len - q->off, MSG_NOSIGNAL);
	} else {
		/* the msghdr and iovec must stay put until the completion */
		struct sendmem *m = malloc(sizeof(*m));
		if (!m) {
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, 0);
			rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
			return;
		}
		size_t n = 0;
		for (struct qent *q = c->qhead; q && n < SEND_IOV_MAX; q = q->next, n++) {
			m->iov[n].iov_base = q->b->data + q->off;
			m->iov[n].iov_len = q->b->len - q->off;
		}
		memset(&m->m, 0, sizeof(m->m));
		m->m.msg_iov = m->iov;
		m->m.msg_iovlen = n;
		c->sm = m;
		io_uring_prep_sendmsg(sqe, c->fd, &m->m, MSG_NOSIGNAL);
	}
	io_uring_sqe_set_data64(sqe, UD(c, UD_SEND));
	c->flags |= CF_SEND_BUSY;
	c->inflight++;
}

void rws_conn_on_send_zc(struct zc_ticket *t, struct io_uring_cqe *cqe)
{
	struct rws_conn *c = t->c;
	if (cqe->flags & IORING_CQE_F_NOTIF) {
		/* the kernel is done with the pages */
		rws_sbuf_put(t->b);
		free(t);
		c->inflight--;
		rws_conn_release(c);
		return;
	}
	if (cqe->flags & IORING_CQE_F_MORE)
		c->inflight++;	/* a NOTIF follows: keep c (and the buffer) until then */
	else {
		rws_sbuf_put(t->b);
		free(t);
	}
	rws_conn_on_send(c, cqe->res);
}

void rws_conn_on_send(struct rws_conn *c, int res)
{
	c->inflight--;
	c->flags &= (uint16_t)~CF_SEND_BUSY;
	free(c->sm);
	c->sm = NULL;
	if (c->phase >= PH_DEAD) {
		rws_conn_release(c);
		return;
	}
	if (res < 0) {
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
		return;
	}
	size_t n = (size_t)res;
	c->qbytes -= n;
	while (n && c->qhead) {
		struct qent *q = c->qhead;
		size_t left = q->b->len - q->off;
		if (n < left) {
			q->off += n;
			break;
		}
		n -= left;
		c->qhead = q->next;
		if (!c->qhead)
			c->qtail = NULL;
		rws_sbuf_put(q->b);
		free(q);
	}
	if ((c->flags & CF_OVER_BOUND) && c->qbytes < c->r->srv->o.max_buffered) {
		c->flags &= (uint16_t)~CF_OVER_BOUND;
		if (c->phase == PH_OPEN && c->route->h.on_drain)
			c->route->h.on_drain(c->route->h.ctx, c);
	}
	/* what was queued meanwhile (or the rest of a short send) goes now */
	rws_conn_flush(c);
}

/* --- the calls behind the API, on the owner thread ------------------------- */

/* Applies the backpressure policy before a send. Returns 0 to go on. */
static int check_bound(struct rws_conn *c)
{
	size_t max = c->r->srv->o.max_buffered;
	if (!max || c->qbytes < max)
		return 0;
	if (c->r->srv->o.backpressure == RWS_BP_REFUSE)
		return -ENOBUFS;
	rws_conn_close_local(c, RWS_CLOSE_POLICY, "send queue over its bound");
	return -ENOBUFS;
}

static void note_bound(struct rws_conn *c)
{
	size_t max = c->r->srv->o.max_buffered;
	if (max && c->qbytes >= max)
		c->flags |= CF_OVER_BOUND;
}

int rws_conn_queue_broadcast(struct rws_conn *c, struct sbuf *b)
{
	if (c->phase != PH_OPEN || rws_session_state(&c->s) != RWS_SESSION_OPEN || c->s.tx_op)
		return -EPIPE;	/* closing, or in the middle of its own fragmented message */
	size_t max = c->r->srv->o.max_buffered;
	if (max && c->qbytes >= max) {
		/* nobody to refuse it to: a recipient that cannot keep up is
		 * told so rather than silently missing messages */
		rws_conn_close_local(c, RWS_CLOSE_POLICY, "too slow for the broadcast rate");
		return -ENOBUFS;
	}
	atomic_fetch_add(&b->refs, 1);
	rws_conn_queue(c, b);
	note_bound(c);
	return 0;
}

int rws_conn_send_local(struct rws_conn *c, const void *data, size_t len, unsigned flags)
{
	if (c->phase != PH_OPEN)
		return -EPIPE;
	if (flags & ~(RWS_SEND_BINARY | RWS_SEND_MORE))
		return -EINVAL;
	int rc = check_bound(c);
	if (rc < 0)
		return rc;
	uint8_t hdr[RWS_FRAME_HDR_MAX], key[4];
	unsigned op = (flags & RWS_SEND_BINARY) ? RWS_OP_BINARY : RWS_OP_TEXT;
	rc = rws_session_data_header(&c->s, hdr, op, !(flags & RWS_SEND_MORE), 0, len, key);
	if (rc < 0)
		return rc;
	uint8_t *p = queue_reserve(c, (size_t)rc + len);
	if (!p)
		return -ENOMEM;
	memcpy(p, hdr, (size_t)rc);
	if (c->s.cfg->role == RWS_ROLE_CLIENT)
		rws_mask_copy(p + rc, data, len, key, 0);
	else if (len)
		memcpy(p + rc, data, len);
	note_bound(c);
	return 0;
}

int rws_conn_control_local(struct rws_conn *c, unsigned op, const void *data, size_t len)
{
	if (c->phase != PH_OPEN)
		return -EPIPE;
	uint8_t out[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
	int n = rws_session_control(&c->s, out, op, data, len);
	if (n < 0)
		return n;
	return rws_conn_queue_copy(c, out, (size_t)n);
}

int rws_conn_close_local(struct rws_conn *c, int code, const char *reason)
{
	if (c->phase != PH_OPEN)
		return -EPIPE;
	uint8_t out[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
	size_t rlen = reason ? strlen(reason) : 0;
	int n = rws_session_close(&c->s, out, code < 0 ? 0u : (unsigned)code, reason, rlen,
				  c->r->now);
	if (n < 0)
		return n;
	rws_conn_queue_copy(c, out, (size_t)n);
	/* wait for the peer's close, at most the close timeout */
	set_phase(c, PH_OPEN, T_CLOSE);
	return 0;
}
