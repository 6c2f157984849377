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

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "protocol/mask.h"
#include "protocol/utf8.h"
#include "runtime/tls.h"

#define SEND_IOV_MAX 64
#define RWS_TLS_PLAIN_MAX (32u << 10)	/* decrypted bytes per read: two records */

static void mark_flush(struct rws_conn *c);
static void note_drain(struct rws_conn *c);
static void resume_reading(struct rws_conn *c);
static int tls_sink(void *arg, const uint8_t *p, size_t n);
static struct conn_tx *tx_get(struct rws_conn *c);
static void peer_text(struct rws_conn *c, char *out, size_t cap);

/* c's TLS session, or NULL for plaintext */
static inline struct rws_tls *conn_tls(const struct rws_conn *c)
{
	return c->x ? c->x->tls : NULL;
}

/* --- buffers -------------------------------------------------------------- */

struct sbuf *rws_sbuf_new(size_t cap)
{
	struct sbuf *b = malloc(sizeof(*b) + cap);
	if (!b)
		return NULL;
	atomic_init(&b->refs, 1);
	b->slot = SBUF_HEAP;
	b->owner = NULL;
	b->len = 0;
	b->cap = cap;
	return b;
}

/* A buffer from one of r's pools (SBUF_SMALL or SBUF_BIG bytes), for
 * frames queued to one connection (never shared). Owner thread only.
 * Reusing them spares malloc, and the page faults of fresh memory for
 * large frames. */
static struct sbuf *sbuf_new_pooled(struct reactor *r, int big)
{
	struct sbuf *b = pool_get(big ? &r->big_pool : &r->sbuf_pool);
	if (!b)
		return NULL;
	atomic_init(&b->refs, 1);
	b->slot = big ? SBUF_POOLED_BIG : SBUF_POOLED;
	b->owner = r;
	b->len = 0;
	b->cap = big ? SBUF_BIG : SBUF_SMALL;
	return b;
}

/* A buffer in a free slot of r's registered pool for a frame of len bytes,
 * or NULL (no pool, too small or too large, pool exhausted). Owner thread
 * only. Its cap is its len: nothing is appended to a zero-copy buffer. */
struct sbuf *rws_sbuf_new_zc(struct reactor *r, size_t len)
{
	uint32_t min = r->srv->o.send_zc_min;
	if (!r->zc_ok || !min || len < min || len > ZC_SLOT - sizeof(struct sbuf) || !r->zc_nfree)
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
	/* pool buffers are only ever put on their owner's thread */
	if (b->slot >= 0)
		b->owner->zc_free[b->owner->zc_nfree++] = b->slot;
	else if (b->slot == SBUF_POOLED)
		pool_put(&b->owner->sbuf_pool, b);
	else if (b->slot == SBUF_POOLED_BIG)
		pool_put(&b->owner->big_pool, b);
	else
		free(b);
}

/* --- timers ----------------------------------------------------------------- */

enum { T_NONE = 0, T_HANDSHAKE, T_CLOSE, T_LINGER, T_CLIENT };

static struct tlist *tlist_of(struct rws_conn *c, int which)
{
	struct reactor *r = conn_reactor(c);
	switch (which) {
	case T_HANDSHAKE: return &r->hs_timers;
	case T_CLOSE: return &r->close_timers;
	case T_LINGER: return &r->linger_timers;
	case T_CLIENT: return &r->client_timers;
	default: return NULL;
	}
}

/* --- the part a connection holds only some of the time ---------------------- */

struct conn_ext *rws_conn_ext(struct rws_conn *c)
{
	if (c->x)
		return c->x;
	struct conn_ext *x = pool_get(&conn_reactor(c)->ext_pool);
	if (!x)
		return NULL;
	memset(x, 0, sizeof(*x));
	c->x = x;
	return x;
}

/* Gives the conn_ext back once nothing in it is needed. */
static void ext_trim(struct rws_conn *c)
{
	struct conn_ext *x = c->x;
	if (!x || x->deadline || x->hs || x->meta || x->pmd_window || x->held || x->zwaiting ||
	    x->tls || (c->flags & CF_EXT_KEEP))
		return;
	c->x = NULL;
	pool_put(&conn_reactor(c)->ext_pool, x);
}

static void ext_free(struct rws_conn *c)
{
	struct conn_ext *x = c->x;
	if (!x)
		return;
	free(x->hs);
	free(x->meta);
	free(x->held);
	if (x->zin)
		x->zin->owns_window = 1;	/* a worker may be using it */
	else
		rws_pmd_window_free(x->pmd_window);
	rws_tls_free(x->tls);
	rws_tls_set_put(x->tset);
	c->x = NULL;
	pool_put(&conn_reactor(c)->ext_pool, x);
}

/* The list a connection is on follows from its phase and session state. */
static int timer_of(struct rws_conn *c)
{
	if (!c->x || !c->x->deadline)
		return T_NONE;
	if (c->phase == PH_HANDSHAKE)
		return T_HANDSHAKE;
	if (c->phase == PH_CONNECTING || c->phase == PH_PROXY || c->phase == PH_CLIENT_HS)
		return T_CLIENT;
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
	if (c->x)
		c->x->deadline = 0;
}

/* Moves c to `phase` and puts it on that phase's timer (which = T_*).
 * Returns -ENOMEM if there was no memory for the timer: the caller tears
 * the connection down. */
static int set_phase(struct rws_conn *c, int phase, int which)
{
	timer_clear(c);
	c->phase = (uint8_t)phase;
	struct tlist *t = tlist_of(c, which);
	if (!t)
		return 0;
	if (!rws_conn_ext(c))
		return -ENOMEM;
	rws_tlist_add(t, c, conn_reactor(c)->now);
	return 0;
}

/* --- the open list of a route -------------------------------------------- */

/* The list of c's route on its reactor; client connections share one. */
static struct rws_conn **route_head(struct rws_conn *c)
{
	struct reactor *r = conn_reactor(c);
	return c->route->idx < 0 ? &r->clients : &r->open_by_route[c->route->idx];
}

static void route_add(struct rws_conn *c)
{
	struct rws_conn **head = route_head(c);
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
	struct rws_conn **head = route_head(c);
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

/* A connection object: from the free list, else the next unused place of
 * the current slab, else a new slab. Slabs are mapped directly (not from
 * malloc's heap, where the handshakes' short-lived buffers would interleave
 * with them) and used front to back, so only the pages that hold
 * connections are ever touched. */
static struct rws_conn *conn_alloc(struct reactor *r)
{
	struct rws_conn *c = r->free_conns;
	if (c) {
		r->free_conns = c->rnext;
		return c;
	}
	if (!r->slabs || r->slab_used == CONN_SLAB / sizeof(*c)) {
		/* twice the size, to cut an aligned slab out of it */
		size_t len = 2 * (size_t)CONN_SLAB;
		uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		uintptr_t at = ((uintptr_t)m + CONN_SLAB - 1) & ~(uintptr_t)(CONN_SLAB - 1);
		if (at > (uintptr_t)m)
			munmap(m, at - (uintptr_t)m);
		if ((uintptr_t)m + len > at + CONN_SLAB)
			munmap((void *)(at + CONN_SLAB), (uintptr_t)m + len - at - CONN_SLAB);
		struct conn_slab *sl = (struct conn_slab *)at;
		sl->r = r;
		sl->next = r->slabs;
		r->slabs = sl;
		r->slab_used = 1;	/* the header takes the first object's place */
	}
	c = (struct rws_conn *)r->slabs + r->slab_used++;
	c->gen = 0;
	return c;
}

_Static_assert(sizeof(struct rws_conn) >= sizeof(struct conn_slab), "slab header fits");
_Static_assert(CONN_SLAB % sizeof(struct rws_conn) == 0, "slab holds whole objects");
_Static_assert(sizeof(struct rws_conn) == 128, "an idle open connection is 128 bytes: see runtime.h");

/* The peer's address, fetched once into the conn_ext. */
const struct sockaddr *rws_conn_peer(struct rws_conn *c, socklen_t *len)
{
	struct conn_ext *x = rws_conn_ext(c);
	if (!x)
		return NULL;
	if (!x->peer_len) {
		x->peer_len = sizeof(x->peer);
		if (getpeername(c->fd, &x->peer.sa, &x->peer_len) < 0) {
			x->peer_len = 0;
			memset(&x->peer, 0, sizeof(x->peer));
		}
	}
	if (len)
		*len = x->peer_len;
	return &x->peer.sa;
}

/* A fresh connection object on socket fd (closed if there is no memory),
 * counted among the reactor's and the server's. Returns it and the
 * server's count with it in *total, or NULL. */
static struct rws_conn *conn_init(struct reactor *r, int fd, const struct rws_session_config *cfg,
				  unsigned *total)
{
	struct rws_conn *c = conn_alloc(r);
	if (!c) {
		close(fd);
		return NULL;
	}
	uint32_t gen = c->gen + 1;
	memset(c, 0, sizeof(*c));
	c->gen = gen;
	c->fd = fd;
	rws_session_init(&c->s, cfg, 0);
	atomic_fetch_add_explicit(&r->nconns, 1, memory_order_relaxed);
	*total = atomic_fetch_add(&r->srv->nconns, 1) + 1;
	return c;
}

struct rws_conn *rws_conn_new(struct reactor *r, int fd, struct tls_set *tls)
{
	unsigned total;
	struct rws_conn *c = conn_init(r, fd, &r->srv->scfg, &total);
	if (!c) {
		rws_tls_set_put(tls);
		return NULL;
	}
	atomic_fetch_add_explicit(&r->n_accepted, 1, memory_order_relaxed);
	if (set_phase(c, PH_HANDSHAKE, T_HANDSHAKE) < 0) {
		rws_tls_set_put(tls);
		c->phase = PH_DEAD;
		rws_conn_release(c);
		return NULL;
	}
	if (tls) {
		/* the handshake timer covers the TLS handshake too */
		c->x->tset = tls;
		c->x->tls = rws_tls_new_server(tls->ctxs, (const char *const *)tls->names, tls->n);
		if (!c->x->tls) {
			rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
			return NULL;
		}
		rws_tls_set_sink(c->x->tls, tls_sink, c);
	}
	rws_conn_arm_recv(c);

	uint32_t max = r->srv->o.max_connections;
	if (max && total > max && tls) {
		/* no answer before a TLS handshake, which is what an overload
		 * cannot afford: the connection just ends */
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
		return NULL;
	}
	if (max && total > max) {
		char out[256];
		int n = rws_hs_write_error(out, sizeof(out), 503, "too many connections", NULL, 0);
		if (n > 0)
			rws_conn_queue_copy(c, out, (size_t)n);
		set_phase(c, PH_LINGER, T_LINGER);
	}
	return c;
}

/* Gives the send queue back once it is empty and nothing refers to it. */
static void tx_trim(struct rws_conn *c)
{
	struct conn_tx *tx = c->tx;
	if (!tx || tx->head || tx->whead || (c->flags & (CF_SEND_BUSY | CF_FLUSH_LISTED)))
		return;
	c->tx = NULL;
	pool_put(&conn_reactor(c)->tx_pool, tx);
}

static void free_queue(struct rws_conn *c)
{
	struct conn_tx *tx = c->tx;
	if (!tx)
		return;
	struct reactor *r = conn_reactor(c);
	for (int w = 0; w < 2; w++) {
		struct qent *q = w ? tx->whead : tx->head;
		while (q) {
			struct qent *next = q->next;
			rws_sbuf_put(q->b);
			pool_put(&r->qent_pool, q);
			q = next;
		}
	}
	if (tx->sm)
		pool_put(&r->sm_pool, tx->sm);
	c->tx = NULL;
	pool_put(&r->tx_pool, tx);
}

void rws_conn_release(struct rws_conn *c)
{
	/* still linked on the flush list: the loop releases it when it gets
	 * there (tx->fnext is needed until then) */
	if (c->phase != PH_DEAD || c->inflight || (c->flags & CF_FLUSH_LISTED))
		return;
	struct reactor *r = conn_reactor(c);
	close(c->fd);
	c->fd = -1;
	free_queue(c);
	ext_free(c);
	rws_session_free(&c->s);
	if (c->route && c->route->idx < 0)
		rws_client_release(c);	/* its route is its own */
	c->phase = PH_FREE;
	atomic_fetch_sub_explicit(&r->nconns, 1, memory_order_relaxed);
	atomic_fetch_sub(&r->srv->nconns, 1);
	c->gen++;	/* jobs still naming this life are dropped */
	c->rnext = r->free_conns;
	r->free_conns = c;
}

/* Cancels the multishot recv in flight, once (rws_conn_arm_recv() arms a
 * new one and clears the mark). Its last completion re-arms it if reading
 * should go on by then. */
void rws_conn_stop_recv(struct rws_conn *c)
{
	if (!(c->flags & CF_RECV_ARMED) || (c->flags & CF_CANCELING))
		return;
	struct io_uring_sqe *sqe = rws_reactor_sqe(conn_reactor(c));
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
	rws_conn_stop_recv(c);
	rws_conn_release(c);
}

/* --- receiving -------------------------------------------------------------- */

/* Messages of c waiting for the pool add up to max_buffered: reading from
 * c holds until they have been compressed (the peer is read from no faster
 * than its messages are compressed). */
static int zpending_full(const struct rws_conn *c)
{
	if (!c->tx || !c->tx->zpending)
		return 0;
	size_t max = c->route->max_buffered;
	return max && c->tx->zpending >= max;
}

/* Whether c's reading holds for the pool: a message of c is being
 * inflated there, waits for room in it, or c's messages waiting for it add
 * up to max_buffered. Bytes that arrive meanwhile are kept, not parsed, so
 * no more work for the pool comes from c until it has caught up. */
static int pool_holds(const struct rws_conn *c)
{
	return (c->flags & (CF_ZIN | CF_ZWAIT)) || zpending_full(c);
}

void rws_conn_arm_recv(struct rws_conn *c)
{
	if (c->phase >= PH_DEAD || (c->flags & (CF_RECV_ARMED | CF_PAUSED)) || pool_holds(c))
		return;
	struct io_uring_sqe *sqe = rws_reactor_sqe(conn_reactor(c));
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = 1;
	io_uring_sqe_set_data64(sqe, UD(c, UD_RECV));
	c->flags = (uint16_t)((c->flags | CF_RECV_ARMED) & ~CF_CANCELING);
	c->inflight++;
}

/* The session finished (close handshake done, or failed): send what is
 * queued, then FIN, then wait for the peer's EOF. */
static void enter_linger(struct rws_conn *c)
{
	route_del(c);
	if (set_phase(c, PH_LINGER, T_LINGER) < 0) {
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
		return;
	}
	rws_conn_flush(c);
}

void rws_conn_linger_now(struct rws_conn *c)
{
	enter_linger(c);
}

/* An inflated message to the handler, or the close that its failure
 * calls for (ws's codes): rc is rws_pmd_decompress()'s, or ZJOB_E_UTF8. */
static void deliver_inflated(struct rws_conn *c, int rc, const uint8_t *out, size_t n, int is_text)
{
	const struct rws_handler *h = &c->route->h;
	if (rc == RWS_PMD_E_TOO_BIG)
		rws_conn_close_local(c, RWS_CLOSE_TOO_BIG, "message too big after inflating");
	else if (rc == RWS_PMD_E_CORRUPT)
		rws_conn_close_local(c, RWS_CLOSE_INVALID_DATA, "invalid permessage-deflate data");
	else if (rc == ZJOB_E_UTF8)
		rws_conn_close_local(c, RWS_CLOSE_INVALID_DATA, "invalid UTF-8 in a text message");
	else if (rc < 0)
		rws_conn_close_local(c, RWS_CLOSE_INTERNAL, "out of memory");
	else if (h->on_message)
		h->on_message(h->ctx, c, out, n, is_text);
}

/* Keeps bytes that arrive while a message is being inflated in the pool:
 * they are frames after it, read once it has been delivered. */
static void hold_bytes(struct rws_conn *c, const uint8_t *data, size_t len)
{
	struct conn_ext *x = rws_conn_ext(c);
	if (x && x->held_cap - x->held_len < len) {
		size_t cap = x->held_cap ? x->held_cap : 4096;
		while (cap - x->held_len < len && cap <= UINT32_MAX / 2)
			cap *= 2;
		uint8_t *p = cap - x->held_len >= len ? realloc(x->held, cap) : NULL;
		if (!p)
			x = NULL;
		else {
			x->held = p;
			x->held_cap = (uint32_t)cap;
		}
	}
	if (!x) {
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
		return;
	}
	memcpy(x->held + x->held_len, data, len);
	x->held_len += (uint32_t)len;
}

/* A compressed message (RSV1): inflated, bounded by maxPayload, its text
 * validated after inflating; then the handler. Small ones inline; a large
 * one in the pool, while reading from c holds (the order of its messages
 * is kept). A message that breaks a rule closes the connection with ws's
 * code for it. */
static void deliver_compressed(struct rws_conn *c, const struct rws_event *ev)
{
	struct reactor *r = conn_reactor(c);
	uint64_t max = c->s.cfg->max_payload;
	struct rws_pmd_window *win = c->x ? c->x->pmd_window : NULL;
	/* the cost follows the inflated size, about 4 times the compressed
	 * one for text */
	if (r->srv->zpool && (uint64_t)ev->len * 4 > r->srv->o.deflate_inline_max) {
		struct zjob *z = rws_zjob_new(ev->len);
		if (z) {
			memcpy(z->in, ev->data, ev->len);
			z->kind = ZJOB_INFLATE;
			z->op = ev->is_text ? RWS_OP_TEXT : RWS_OP_BINARY;
			z->c = c;
			z->gen = c->gen;
			z->max = max;
			z->window = win;
			if (win)
				c->x->zin = z;	/* win has a conn_ext */
			c->flags |= CF_ZIN;
			rws_conn_stop_recv(c);
			rws_zpool_submit(r, z);
			return;
		}
		/* no memory for the job: inline */
	}
	if (!r->pmd_dec && !(r->pmd_dec = rws_pmd_decompressor_new())) {
		rws_conn_close_local(c, RWS_CLOSE_INTERNAL, "out of memory");
		return;
	}
	uint8_t *out = NULL;
	size_t n = 0;
	int rc = rws_pmd_decompress(r->pmd_dec, ev->data, ev->len, max, win, &out, &n);
	if (rc == 0 && ev->is_text && rws_utf8_valid(out, n) != 0)
		rc = ZJOB_E_UTF8;
	deliver_inflated(c, rc, out, n, ev->is_text);
	free(out);
}

static void on_event(struct rws_conn *c, struct rws_event *ev)
{
	const struct rws_handler *h = &c->route->h;
	switch (ev->type) {
	case RWS_EV_MESSAGE:
		if (ev->compressed)
			deliver_compressed(c, ev);
		else if (h->on_message)
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
static int check_bound(struct rws_conn *c, unsigned flags);

/* Queues the session's automatic reply. A pong counts against the send
 * queue's bound like any send, so a peer that pings without reading cannot
 * grow the queue: past the bound the policy closes with 1008, or (refuse)
 * the pong is dropped — RFC 6455 5.5.3 lets an endpoint skip pongs. */
static void queue_reply(struct rws_conn *c, const struct rws_event *ev)
{
	if (ev->type == RWS_EV_PING && check_bound(c, 0) < 0)
		return;
	rws_conn_queue_copy(c, ev->reply, ev->reply_len);
}

static void session_bytes(struct rws_conn *c, uint8_t *buf, size_t len)
{
	if (pool_holds(c)) {
		hold_bytes(c, buf, len);
		return;
	}
	size_t pos = 0;
	while (c->phase == PH_OPEN) {
		struct rws_event ev;
		pos += rws_session_recv(&c->s, buf + pos, len - pos, conn_reactor(c)->now, &ev);
		if (ev.reply_len)
			queue_reply(c, &ev);
		if (ev.type == RWS_EV_NONE)
			break;
		on_event(c, &ev);
		if (pool_holds(c)) {
			/* a message went to the pool: what follows it waits */
			if (pos < len)
				hold_bytes(c, buf + pos, len - pos);
			break;
		}
	}
}

/* Once the pool no longer holds c: the bytes kept meanwhile are parsed
 * (they may hold it again), then the socket is read again. */
static void resume_reading(struct rws_conn *c)
{
	if (pool_holds(c) || c->phase >= PH_DEAD)
		return;
	struct conn_ext *x = c->x;
	if (x && x->held) {
		uint8_t *held = x->held;
		uint32_t n = x->held_len;
		x->held = NULL;
		x->held_len = x->held_cap = 0;
		session_bytes(c, held, n);
		free(held);
	}
	rws_conn_arm_recv(c);
	if (c->phase == PH_OPEN)
		ext_trim(c);
}

/* The pool's result for c (zpool.c calls this on c's reactor). */
void rws_conn_zdone(struct zjob *z)
{
	struct rws_conn *c = z->c;
	if (c->gen != z->gen) {
		rws_zjob_free(z);	/* c is gone (and z owns what it used) */
		return;
	}
	if (z->kind == ZJOB_INFLATE && c->x)
		c->x->zin = NULL;
	if (c->phase >= PH_DEAD) {
		rws_zjob_free(z);	/* c is going */
		return;
	}
	if (z->kind == ZJOB_COMPRESS) {
		if (z->status < 0) {
			rws_zjob_free(z);
			rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
			return;
		}
		/* the message takes its place in the queue */
		struct qent *q = z->q;
		int was_full = zpending_full(c);
		q->b = z->out;
		q->off = z->out_off;
		c->tx->bytes = c->tx->bytes - z->accounted + (q->b->len - q->off);
		c->tx->zpending -= z->accounted;
		z->out = NULL;
		rws_zjob_free(z);
		mark_flush(c);
		note_drain(c);
		if (was_full)
			resume_reading(c);
		return;
	}
	c->flags &= (uint16_t)~CF_ZIN;
	if (c->phase == PH_OPEN)
		deliver_inflated(c, z->status, z->res, z->res_len, z->op == RWS_OP_TEXT);
	rws_zjob_free(z);
	resume_reading(c);
}

/* c's last job waiting for room in the pool has moved on. */
void rws_conn_zwait_end(struct rws_conn *c)
{
	c->flags &= (uint16_t)~CF_ZWAIT;
	resume_reading(c);
}

void rws_conn_open(struct rws_conn *c)
{
	timer_clear(c);
	c->phase = PH_OPEN;
	route_add(c);
	c->flags |= CF_OPENED | CF_ALIVE;
	rws_heartbeat_arm(conn_reactor(c), c->route);
	const struct rws_handler *h = &c->route->h;
	if (h->on_open)
		h->on_open(h->ctx, c);
	if (c->phase == PH_OPEN)
		ext_trim(c);
}

static void handshake_bytes(struct rws_conn *c, uint8_t *data, size_t len);

void rws_conn_adopt(struct reactor *r, int fd, struct sbuf *head)
{
	struct rws_conn *c = rws_conn_new(r, fd, NULL);
	if (c && c->phase == PH_HANDSHAKE && head && head->len)
		handshake_bytes(c, head->data, head->len);
}

/* A connection reading an HTTP head (the server's PH_HANDSHAKE, the
 * client's PH_PROXY and PH_CLIENT_HS) is on a timer, so it has its
 * conn_ext, where a head split across reads is gathered. handle looks at
 * what there is so far and sets *used to the head's length, or leaves it 0
 * when the head is incomplete (or the connection was refused). */
typedef void head_handler(struct rws_conn *c, const char *buf, size_t len, size_t *used);

static void head_bytes(struct rws_conn *c, uint8_t *data, size_t len, head_handler *handle)
{
	size_t max = RWS_HTTP_MAX_HEAD_DEFAULT;
	struct conn_ext *x = c->x;
	char *buf = (char *)data;
	size_t n = len;
	int phase = c->phase;
	if (x->hs) {
		size_t room = max - x->hs_len;
		size_t take = len < room ? len : room;
		memcpy(x->hs + x->hs_len, data, take);
		x->hs_len += (uint32_t)take;
		buf = x->hs;
		n = x->hs_len;
		/* bytes that did not fit: only possible past the limit, which
		 * the parsers refuse (431 on the server) */
	}
	size_t used = 0;
	handle(c, buf, n, &used);
	if (used == 0 && c->phase == phase) {
		/* incomplete: keep the bytes */
		if (!x->hs) {
			x->hs = malloc(max);
			if (!x->hs) {
				rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
				return;
			}
			size_t take = len < max ? len : max;
			memcpy(x->hs, data, take);
			x->hs_len = (uint32_t)take;
		}
		return;
	}
	/* the bytes after the head are frames (or, after a proxy's answer,
	 * the server's); buf stays valid until freed */
	char *held = NULL;
	if (c->x && c->x->hs) {
		held = c->x->hs;
		c->x->hs = NULL;
		c->x->hs_len = 0;
	}
	if (used < n) {
		if (c->phase == PH_OPEN)
			session_bytes(c, (uint8_t *)buf + used, n - used);
		else if (c->phase == PH_CLIENT_HS)
			head_bytes(c, (uint8_t *)buf + used, n - used, rws_client_answer);
	}
	free(held);
	if (c->phase == PH_OPEN)
		ext_trim(c);
}

static void handshake_bytes(struct rws_conn *c, uint8_t *data, size_t len)
{
	if (!conn_tls(c) && !c->x->hs && len >= 2 && data[0] == 0x16 && data[1] == 3) {
		/* a TLS record where an HTTP request should be: no answer the
		 * client could read, just a line that says what happened */
		char peer[64];
		peer_text(c, peer, sizeof(peer));
		rws_log(conn_reactor(c)->srv, RWS_LOG_INFO,
			"%s: a TLS ClientHello on a plaintext port (wss:// to a ws:// address?)", peer);
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
		return;
	}
	head_bytes(c, data, len, rws_upgrade_handle);
}

/* Received plaintext (the socket's bytes, or TLS's records decrypted) to
 * what the connection's phase reads. */
static void dispatch(struct rws_conn *c, uint8_t *data, size_t len)
{
	if (c->phase == PH_HANDSHAKE)
		handshake_bytes(c, data, len);
	else if (c->phase == PH_OPEN)
		session_bytes(c, data, len);
	else if (c->phase == PH_PROXY || c->phase == PH_CLIENT_HS)
		head_bytes(c, data, len, rws_client_answer);
	/* PH_LINGER, PH_DEAD: discarded */
}

/* --- TLS ----------------------------------------------------------------------- */

/* "IP:PORT" of the peer, for log lines */
static void peer_text(struct rws_conn *c, char *out, size_t cap)
{
	socklen_t len = 0;
	const struct sockaddr *sa = rws_conn_peer(c, &len);
	char ip[48];
	rws_addr_text(len ? sa : NULL, ip, sizeof(ip));
	unsigned port = !len ? 0 : sa->sa_family == AF_INET6
		? ntohs(((const struct sockaddr_in6 *)sa)->sin6_port)
		: ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (!ip[0])
		snprintf(out, cap, "fd %d", c->fd);
	else
		snprintf(out, cap, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
}

/* The TLS layer's records, as wolfSSL writes them: appended to the
 * ciphertext queue (the tail buffer while it has room), sent by the next
 * flush. Plaintext is queued and encrypted at the flush, so the records
 * follow the order of the sends. */
static int tls_sink(void *arg, const uint8_t *p, size_t n)
{
	struct rws_conn *c = arg;
	struct reactor *r = conn_reactor(c);
	struct conn_tx *tx = tx_get(c);
	if (!tx)
		return -1;
	size_t total = n;
	while (n) {
		struct sbuf *b = tx->wtail ? tx->wtail->b : NULL;
		if (!b || b->cap == b->len) {
			struct qent *q = pool_get(&r->qent_pool);
			b = q ? sbuf_new_pooled(r, n > SBUF_SMALL) : NULL;
			if (!b) {
				if (q)
					pool_put(&r->qent_pool, q);
				return -1;
			}
			q->next = NULL;
			q->b = b;
			q->off = 0;
			if (tx->wtail)
				tx->wtail->next = q;
			else
				tx->whead = q;
			tx->wtail = q;
		}
		size_t k = b->cap - b->len < n ? b->cap - b->len : n;
		memcpy(b->data + b->len, p, k);
		b->len += k;
		p += k;
		n -= k;
	}
	tx->bytes += total;
	tx->wbytes += total;
	mark_flush(c);
	return 0;
}

/* How much ciphertext may wait to be sent before more plaintext is
 * encrypted: a large message is encrypted as the socket takes it, not all
 * at once beside itself. */
#define TLS_BATCH (256u << 10)

/* Encrypts queued plaintext from the head of the queue into records, up to
 * a message still in the pool or TLS_BATCH of ciphertext waiting. Nothing
 * before the handshake is done (a client's request waits for it). */
static void tls_encrypt(struct rws_conn *c)
{
	struct rws_tls *t = c->x->tls;
	struct conn_tx *tx = c->tx;
	struct reactor *r = conn_reactor(c);
	if (!rws_tls_ready(t))
		return;
	while (tx->head && tx->head->b && tx->wbytes < TLS_BATCH) {
		struct qent *q = tx->head;
		size_t n = q->b->len - q->off;
		if (n > TLS_BATCH)
			n = TLS_BATCH;
		tx->bytes -= n;	/* the records count instead */
		int rc = rws_tls_write(t, q->b->data + q->off, n);
		if (rc < 0) {
			char peer[64];
			peer_text(c, peer, sizeof(peer));
			rws_log(r->srv, RWS_LOG_INFO, "%s: TLS: %s", peer, rws_tls_error(t));
			rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
			return;
		}
		q->off += n;
		if (q->off < q->b->len)
			continue;
		tx->head = q->next;
		if (!tx->head)
			tx->tail = NULL;
		rws_sbuf_put(q->b);
		pool_put(&r->qent_pool, q);
	}
}

/* What a TLS failure means for c: a client connection fails with the
 * reason (a certificate that did not verify has its own code); a server
 * connection logs it and goes, after the alert wolfSSL wrote, or — for
 * plain HTTP on the TLS port — after a plaintext 400 saying so. */
static void tls_failed(struct rws_conn *c, int rc)
{
	struct rws_tls *t = c->x->tls;
	struct reactor *r = conn_reactor(c);
	int client = c->phase == PH_CONNECTING || c->phase == PH_PROXY || c->phase == PH_CLIENT_HS;
	if (client) {
		rws_conn_fail(c, rc == RWS_TLS_E_VERIFY ? RWS_CLIENT_E_CERT : RWS_CLIENT_E_TLS, 0,
			      rws_tls_error(t));
		return;
	}
	if (rc == RWS_TLS_E_CLOSED) {
		/* close_notify: an open connection lost without a close frame;
		 * otherwise the peer's EOF follows */
		if (c->phase == PH_OPEN || c->phase == PH_HANDSHAKE)
			rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
		return;
	}
	char peer[64];
	peer_text(c, peer, sizeof(peer));
	rws_log(r->srv, RWS_LOG_INFO, "%s: %s", peer, rws_tls_error(t));
	if (c->phase == PH_HANDSHAKE) {
		if (rc == RWS_TLS_E_NOT_TLS) {
			static const char bad[] =
				"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
				"Content-Type: text/plain\r\nContent-Length: 51\r\n\r\n"
				"This port speaks TLS: use https:// or wss:// here.\n";
			tls_sink(c, (const uint8_t *)bad, sizeof(bad) - 1);
		}
		/* the alert (or the 400) goes out, then FIN */
		c->x->tls_shut = 1;
		if (set_phase(c, PH_LINGER, T_LINGER) < 0)
			rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
		else
			rws_conn_flush(c);
		return;
	}
	rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
}

/* Received ciphertext: decrypted record by record into the reactor's
 * scratch buffer and dispatched as plaintext. The first records drive the
 * handshake, whose answers the sink queues. */
static void tls_bytes(struct rws_conn *c, const uint8_t *data, size_t len)
{
	struct reactor *r = conn_reactor(c);
	struct rws_tls *t = c->x->tls;
	if (c->phase >= PH_LINGER)
		return;	/* nothing more is read */
	if (!r->tls_plain && !(r->tls_plain = malloc(RWS_TLS_PLAIN_MAX))) {
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
		return;
	}
	if (rws_tls_feed_borrow(t, data, len) < 0) {
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
		return;
	}
	for (;;) {
		int was_ready = rws_tls_ready(t);
		int n = rws_tls_read(t, r->tls_plain, RWS_TLS_PLAIN_MAX);
		if (!was_ready && rws_tls_ready(t) && c->tx && c->tx->head)
			mark_flush(c);	/* plaintext waiting for the handshake goes now */
		if (n == RWS_TLS_E_WANT)
			break;
		if (n < 0) {
			rws_tls_feed_done(t);
			tls_failed(c, n);
			return;
		}
		dispatch(c, r->tls_plain, (size_t)n);
		if (c->phase >= PH_DEAD)
			return;	/* c may be gone, t with it */
		if (c->phase == PH_LINGER)
			break;	/* the rest is not read */
	}
	if (rws_tls_feed_done(t) < 0)
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
}

/* A client connection starts TLS on its socket (after the proxy's CONNECT
 * if there is one): the ClientHello goes now, the request once the
 * handshake is done. Returns 0 or -ENOMEM. */
int rws_conn_tls_client(struct rws_conn *c, struct rws_tls_ctx *ctx, const char *host)
{
	struct rws_tls *t = rws_tls_new_client(ctx, host);
	if (!t)
		return -ENOMEM;
	c->x->tls = t;
	rws_tls_set_sink(t, tls_sink, c);
	uint8_t none[1];
	int rc = rws_tls_read(t, none, 0);
	return rc == RWS_TLS_E_WANT ? 0 : -EPROTO;
}

void rws_conn_on_recv(struct rws_conn *c, struct io_uring_cqe *cqe)
{
	int res = cqe->res;
	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		c->flags &= (uint16_t)~CF_RECV_ARMED;
		c->inflight--;
	}
	struct reactor *r = conn_reactor(c);
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		uint8_t *data = r->bufs + (size_t)bid * r->buf_size;
		if (res > 0) {
			c->flags |= CF_ALIVE;
			if (conn_tls(c))
				tls_bytes(c, data, (size_t)res);
			else
				dispatch(c, data, (size_t)res);
		}
		rws_reactor_recycle(r, bid);
	}
	if (res == 0) {
		/* EOF: the peer is gone; expected while lingering */
		struct rws_tls *t = conn_tls(c);
		if (t && !rws_tls_ready(t) && c->phase == PH_HANDSHAKE && rws_tls_fed(t)) {
			char peer[64];
			peer_text(c, peer, sizeof(peer));
			rws_log(r->srv, RWS_LOG_INFO,
				"%s: TLS handshake not completed: the peer closed the connection", peer);
		}
		if (c->phase == PH_PROXY || c->phase == PH_CLIENT_HS)
			rws_conn_fail(c, -ECONNRESET, 0,
				      t && !rws_tls_ready(t)
					      ? "the server closed the connection during the TLS handshake"
					      : "the server closed the connection before answering");
		else
			rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
	} else if (res == -ENOBUFS) {
		/* the buffer ring ran dry. Every buffer of this batch is handed
		 * back before the next submit, so arming again now finds them */
		atomic_fetch_add_explicit(&r->n_enobufs, 1, memory_order_relaxed);
		rws_conn_arm_recv(c);
	} else if (res < 0 && res != -ECANCELED) {
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
	} else if (!(cqe->flags & IORING_CQE_F_MORE)) {
		/* the multishot ended on its own (CQ overflow), or was cancelled
		 * for a pause that has ended meanwhile: arm again (a no-op
		 * while reading is paused or held) */
		rws_conn_arm_recv(c);
	}
	rws_conn_release(c);
}

void rws_conn_on_cancel(struct rws_conn *c)
{
	c->inflight--;
	rws_conn_release(c);
}

void rws_conn_handshake_expired(struct rws_conn *c)
{
	struct rws_tls *t = conn_tls(c);
	if (t && !rws_tls_ready(t) && rws_tls_fed(t)) {
		char peer[64];
		peer_text(c, peer, sizeof(peer));
		struct rws_server *s = conn_reactor(c)->srv;
		rws_log(s, RWS_LOG_INFO, "%s: TLS handshake not completed within %u ms (the handshake timeout)",
			peer, s->o.handshake_timeout_ms);
	}
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

static struct conn_tx *tx_get(struct rws_conn *c)
{
	if (c->tx)
		return c->tx;
	struct conn_tx *tx = pool_get(&conn_reactor(c)->tx_pool);
	if (!tx)
		return NULL;
	memset(tx, 0, sizeof(*tx));
	c->tx = tx;
	return tx;
}

size_t rws_conn_queued(const struct rws_conn *c)
{
	return c->tx ? c->tx->bytes : 0;
}

/* Queued bytes the peer is slow to take: all but those still in the pool */
static size_t wire_queued(const struct rws_conn *c)
{
	return c->tx ? c->tx->bytes - c->tx->zpending : 0;
}

static void mark_flush(struct rws_conn *c)
{
	if (c->flags & CF_FLUSH_LISTED)
		return;
	struct reactor *r = conn_reactor(c);
	c->flags |= CF_FLUSH_LISTED;
	c->tx->fnext = r->flush_head;
	r->flush_head = c;
}

/* Links q, holding b (NULL: a message the pool is still compressing), at
 * the end of the queue; the caller counts its bytes. */
static void tx_append(struct conn_tx *tx, struct qent *q, struct sbuf *b)
{
	q->next = NULL;
	q->b = b;
	q->off = 0;
	if (tx->tail)
		tx->tail->next = q;
	else
		tx->head = q;
	tx->tail = q;
}

void rws_conn_queue(struct rws_conn *c, struct sbuf *b)
{
	struct conn_tx *tx = tx_get(c);
	struct qent *q = tx ? pool_get(&conn_reactor(c)->qent_pool) : NULL;
	if (!q) {
		rws_sbuf_put(b);
		tx_trim(c);
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
		return;
	}
	tx_append(tx, q, b);
	tx->bytes += b->len;
	mark_flush(c);
}

/* Returns room for n more bytes at the end of the queue, appending to the
 * tail buffer when nobody else shares it. The caller fills them. */
static uint8_t *queue_reserve(struct rws_conn *c, size_t n)
{
	struct qent *t = c->tx ? c->tx->tail : NULL;
	if (t && t->b && t->b->slot < 0 && atomic_load_explicit(&t->b->refs, memory_order_relaxed) == 1 &&
	    t->b->cap - t->b->len >= n) {
		uint8_t *p = t->b->data + t->b->len;
		t->b->len += n;
		c->tx->bytes += n;
		mark_flush(c);
		return p;
	}
	struct reactor *r = conn_reactor(c);
	/* registered memory is for bytes the kernel sends: with TLS these are
	 * plaintext, encrypted into other buffers */
	struct sbuf *b = conn_tls(c) ? NULL : rws_sbuf_new_zc(r, n);
	if (!b) {
		/* frames share pooled buffers; a handshake's one answer gets a
		 * buffer of its own size, so a burst of handshakes does not
		 * leave pooled buffers behind */
		if (c->phase == PH_HANDSHAKE || n > SBUF_BIG)
			b = rws_sbuf_new(n);
		else
			b = sbuf_new_pooled(r, n > SBUF_SMALL);
		if (!b)
			return NULL;
		b->len = n;
	}
	rws_conn_queue(c, b);
	return c->tx && c->tx->tail && c->tx->tail->b == b ? b->data : NULL;
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
	struct conn_tx *tx = c->tx;
	struct rws_tls *tls = conn_tls(c);
	if (tls && tx) {
		tls_encrypt(c);
		if (c->phase >= PH_DEAD)
			return;
	}
	/* what goes on the wire: the queue, or with TLS the records made
	 * from it */
	struct qent *h = !tx ? NULL : tls ? tx->whead : tx->head;
	if (h && !h->b)
		return;	/* the next message is still in the pool: zdone flushes */
	if (!h && tls && tx && tx->head)
		return;	/* plaintext waits: for the pool, or for the handshake */
	if (!h) {
		if (c->phase == PH_LINGER && tls && !c->x->tls_shut) {
			/* close_notify before FIN */
			c->x->tls_shut = 1;
			rws_tls_shutdown(tls);
			if (c->tx && c->tx->whead) {
				rws_conn_flush(c);
				return;
			}
		}
		tx_trim(c);
		if (c->phase == PH_LINGER && !(c->flags & CF_WR_SHUT)) {
			c->flags |= CF_WR_SHUT;
			shutdown(c->fd, SHUT_WR);
		}
		return;
	}
	struct reactor *r = conn_reactor(c);
	struct io_uring_sqe *sqe = rws_reactor_sqe(r);
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
			atomic_fetch_add_explicit(&r->n_zc, 1, memory_order_relaxed);
			c->flags |= CF_SEND_BUSY;
			c->inflight++;
			return;
		}
		/* no ticket: a plain send of the same bytes */
	}
	if (!h->next || !h->next->b) {
		io_uring_prep_send(sqe, c->fd, h->b->data + h->off, h->b->len - h->off, MSG_NOSIGNAL);
	} else {
		/* the msghdr and iovec must stay put until the completion */
		struct sendmem *m = pool_get(&r->sm_pool);
		if (!m) {
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, 0);
			rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
			return;
		}
		size_t n = 0;
		for (struct qent *q = h; q && q->b && n < SEND_IOV_MAX; q = q->next, n++) {
			m->iov[n].iov_base = q->b->data + q->off;
			m->iov[n].iov_len = q->b->len - q->off;
		}
		memset(&m->m, 0, sizeof(m->m));
		m->m.msg_iov = m->iov;
		m->m.msg_iovlen = n;
		tx->sm = m;
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
	struct reactor *r = conn_reactor(c);
	struct conn_tx *tx = c->tx;
	c->inflight--;
	c->flags &= (uint16_t)~CF_SEND_BUSY;
	if (tx && tx->sm) {
		pool_put(&r->sm_pool, tx->sm);
		tx->sm = NULL;
	}
	if (c->phase >= PH_DEAD) {
		rws_conn_release(c);
		return;
	}
	if (res < 0) {
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
		return;
	}
	size_t n = (size_t)res;
	tx->bytes -= n;
	/* what was sent: from the queue, or with TLS from the records */
	int tls = conn_tls(c) != NULL;
	struct qent **head = tls ? &tx->whead : &tx->head;
	struct qent **tail = tls ? &tx->wtail : &tx->tail;
	if (tls)
		tx->wbytes -= n;
	while (n && *head) {
		struct qent *q = *head;
		size_t left = q->b->len - q->off;
		if (n < left) {
			q->off += n;
			break;
		}
		n -= left;
		*head = q->next;
		if (!*head)
			*tail = NULL;
		rws_sbuf_put(q->b);
		pool_put(&r->qent_pool, q);
	}
	note_drain(c);
	/* what was queued meanwhile (or the rest of a short send) goes now;
	 * an empty queue is given back */
	rws_conn_flush(c);
}

/* --- the calls behind the API, on the owner thread ------------------------- */

/* How far past max_buffered the messages waiting for the pool may go
 * before a producer that ignores the held reading (a timer, another
 * connection's messages) meets the policy */
#define ZPENDING_HARD 4

/* Applies the backpressure policy before a send: bytes ready for the wire
 * at max_buffered (a peer that does not read), or messages waiting for the
 * pool at ZPENDING_HARD times it. Returns 0 to go on. */
static int check_bound(struct rws_conn *c, unsigned flags)
{
	size_t max = c->route->max_buffered;
	if (!max || !c->tx)
		return 0;
	size_t zp = c->tx->zpending;
	if (c->tx->bytes - zp < max && zp < ZPENDING_HARD * max)
		return 0;
	if (c->route->backpressure == RWS_BP_REFUSE)
		return (flags & RWS_SEND_POSTED) ? 0 : -ENOBUFS;
	rws_conn_close_local(c, RWS_CLOSE_POLICY, "send queue over its bound");
	return -ENOBUFS;
}

/* rws_conn_buffered() (all that is queued, messages in the pool
 * included) reached max_buffered: on_drain is owed for when it falls
 * below again */
static void note_bound(struct rws_conn *c)
{
	size_t max = c->route->max_buffered;
	if (max && rws_conn_queued(c) >= max)
		c->flags |= CF_OVER_BOUND;
}

static void note_drain(struct rws_conn *c)
{
	if ((c->flags & CF_OVER_BOUND) && rws_conn_queued(c) < c->route->max_buffered) {
		c->flags &= (uint16_t)~CF_OVER_BOUND;
		if (c->phase == PH_OPEN && c->route->h.on_drain)
			c->route->h.on_drain(c->route->h.ctx, c);
	}
}

int rws_conn_queue_broadcast(struct rws_conn *c, struct sbuf *b)
{
	if (c->phase != PH_OPEN || rws_session_state(&c->s) != RWS_SESSION_OPEN || c->s.tx_op)
		return -EPIPE;	/* closing, or in the middle of its own fragmented message */
	size_t max = c->route->max_buffered;
	if (max && wire_queued(c) >= max) {
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

/* Whether a message is compressed: permessage-deflate was agreed, the
 * message is whole (not a fragment), at least the threshold, and not sent
 * with RWS_SEND_NO_COMPRESS. */
static int wants_compress(const struct rws_conn *c, size_t len, unsigned flags)
{
	/* the common case, no deflate, leaves on the flag test alone */
	return (c->flags & (CF_PMD | CF_PMD_PLAIN)) == CF_PMD &&
	       !(flags & (RWS_SEND_MORE | RWS_SEND_NO_COMPRESS)) && !c->s.tx_op && len &&
	       len >= c->route->dfl.threshold;
}

/* Hands a message to the pool: its place in the send queue is taken now
 * (an entry without bytes, counted at its plain size until the frame comes
 * back), so whatever is sent after it leaves after it. When the reactor's
 * share of the pool is taken, the job waits in the backlog and reading
 * from c holds until it moves on. */
static int send_pooled(struct rws_conn *c, const void *data, size_t len, unsigned op)
{
	struct reactor *r = conn_reactor(c);
	if (rws_session_state(&c->s) != RWS_SESSION_OPEN)
		return -EPIPE;
	struct zjob *z = rws_zjob_new(len);
	struct conn_tx *tx = z ? tx_get(c) : NULL;
	struct qent *q = tx ? pool_get(&r->qent_pool) : NULL;
	if (!q) {
		free(z);
		tx_trim(c);
		return -ENOMEM;
	}
	memcpy(z->in, data, len);
	z->kind = ZJOB_COMPRESS;
	z->level = (uint8_t)c->route->dfl.level;
	z->op = (uint8_t)op;
	z->masked = c->s.cfg->role == RWS_ROLE_CLIENT;
	z->c = c;
	z->gen = c->gen;
	z->q = q;
	z->accounted = len;
	tx_append(tx, q, NULL);
	tx->bytes += len;
	tx->zpending += len;
	if (zpending_full(c))
		rws_conn_stop_recv(c);
	if (rws_zpool_submit(r, z)) {
		struct conn_ext *x = rws_conn_ext(c);
		if (x) {
			x->zwaiting++;
			c->flags |= CF_ZWAIT;
			rws_conn_stop_recv(c);
		}
	}
	note_bound(c);
	return 0;
}

/* Compresses a whole message into the reactor's scratch buffer. Returns
 * the compressed length, or 0 to send it as it is (it did not shrink, or
 * memory is short). */
static size_t compress_inline(struct rws_conn *c, const void *data, size_t len)
{
	struct reactor *r = conn_reactor(c);
	const struct route_deflate *d = &c->route->dfl;
	struct rws_pmd_compressor **z = &r->pmd_comp[d->level];
	if (!*z && !(*z = rws_pmd_compressor_new(d->level)))
		return 0;
	if (r->pmd_out_cap < len) {
		uint8_t *p = realloc(r->pmd_out, len);
		if (!p)
			return 0;
		r->pmd_out = p;
		r->pmd_out_cap = len;
	}
	/* room for no more than the message itself: if it does not shrink,
	 * it goes uncompressed */
	long n = rws_pmd_compress(*z, data, len, r->pmd_out, len);
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

int rws_conn_send_local(struct rws_conn *c, const void *data, size_t len, unsigned flags)
{
	if (c->phase != PH_OPEN)
		return -EPIPE;
	if (flags & ~(RWS_SEND_BINARY | RWS_SEND_MORE | RWS_SEND_NO_COMPRESS | RWS_SEND_POSTED))
		return -EINVAL;
	int rc = check_bound(c, flags);
	flags &= ~RWS_SEND_POSTED;
	if (rc < 0)
		return rc;
	unsigned op = (flags & RWS_SEND_BINARY) ? RWS_OP_BINARY : RWS_OP_TEXT;
	int compressed = 0;
	if (wants_compress(c, len, flags)) {
		struct reactor *r = conn_reactor(c);
		if (r->srv->zpool && len > r->srv->o.deflate_inline_max)
			return send_pooled(c, data, len, op);
		size_t zlen = compress_inline(c, data, len);
		if (zlen) {
			data = r->pmd_out;
			len = zlen;
			compressed = 1;
		}
	}
	uint8_t hdr[RWS_FRAME_HDR_MAX], key[4];
	rc = rws_session_data_header(&c->s, hdr, op, !(flags & RWS_SEND_MORE), compressed, len, key);
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
				  conn_reactor(c)->now);
	if (n < 0)
		return n;
	rws_conn_queue_copy(c, out, (size_t)n);
	/* wait for the peer's close, at most the close timeout */
	if (set_phase(c, PH_OPEN, T_CLOSE) < 0)
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
	return 0;
}

/* --- client connections (client.c drives them) ------------------------------- */

/* A client connection on socket fd, connecting (PH_CONNECTING) until
 * deadline (0: none); rt is its own route, freed with it. */
struct rws_conn *rws_conn_new_client(struct reactor *r, int fd, const struct route *rt,
				     const struct rws_session_config *cfg, void *user,
				     uint64_t deadline)
{
	unsigned total;
	struct rws_conn *c = conn_init(r, fd, cfg, &total);
	if (!c)
		return NULL;
	c->route = rt;
	c->user = user;
	c->phase = PH_CONNECTING;
	if (!rws_conn_ext(c)) {
		c->route = NULL;	/* the caller still owns rt */
		c->phase = PH_DEAD;
		rws_conn_release(c);
		return NULL;
	}
	if (deadline)
		rws_tlist_add_at(&r->client_timers, c, deadline);
	return c;
}

/* The next client phase, on the same deadline. */
void rws_conn_client_phase(struct rws_conn *c, int phase)
{
	c->phase = (uint8_t)phase;
}

/* The 101 was good: c opens with the session agreed (rsv: RWS_RSV1 with
 * permessage-deflate) and on_open runs; the frames after the answer are
 * read by head_bytes(). */
void rws_conn_client_open(struct rws_conn *c, const struct rws_session_config *cfg,
			  unsigned rsv)
{
	rws_session_init(&c->s, cfg, rsv);
	rws_conn_open(c);
}

/* A client connection that never opened: on_error, then it goes without
 * on_close. */
void rws_conn_fail(struct rws_conn *c, int err, int status, const char *msg)
{
	if (c->phase >= PH_DEAD)
		return;
	const struct rws_handler *h = c->route ? &c->route->h : NULL;
	if (h && h->on_error)
		h->on_error(h->ctx, c, err, status, msg);
	rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
}
