/*
 * zpool: the permessage-deflate worker pool. deflate_concurrency threads
 * (ws's concurrencyLimit) compress outgoing messages and inflate incoming
 * ones that are too large to do on a reactor without holding up its other
 * connections; small ones stay inline (conn.c), where the hand-off would
 * cost more than the work.
 *
 * A job carries a copy of its input, so the connection's buffers are free
 * the moment it is submitted. The result goes back to the reactor that
 * owns the connection through its inbox (a JOB_ZDONE, one eventfd write
 * per batch), and the reactor alone touches the connection: a job whose
 * connection has gone meanwhile finds a stale generation and is dropped.
 *
 * Order. A compressed message takes its place in the connection's send
 * queue when it is submitted, as an entry without bytes; the queue is
 * sent up to the first such entry, so whatever is sent later (small
 * messages, pings, the close frame) leaves after it, whatever order the
 * workers finish in. An inflated message holds the connection's reading:
 * the bytes after it wait in the connection until it has been delivered.
 *
 * Bounds. Each reactor may have 2 * deflate_concurrency jobs in the pool
 * (queued or running); past that its jobs wait in its own backlog, and a
 * connection with a job in the backlog is not read from until the job has
 * moved on. A connection's compressed messages count against its send
 * queue bound (max_buffered) from the moment they are submitted, and it
 * has at most one message being inflated, so the backlog is bounded too.
 */
#include "runtime/runtime.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "protocol/frame.h"
#include "protocol/mask.h"
#include "protocol/random.h"
#include "protocol/utf8.h"

struct zpool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct zjob *head, *tail;
	int stopping;
	int nthreads;
	pthread_t threads[];
};

/* --- the workers ------------------------------------------------------------ */

struct zworker {
	struct rws_pmd_compressor *comp[13];	/* by level, made on first use */
	struct rws_pmd_decompressor *dec;
};

/* The frame of a compressed message: the header right before the payload,
 * so the send starts at out->data + off. Sent as it is when compressing
 * does not make it smaller. */
static void run_compress(struct zworker *w, struct zjob *z)
{
	int masked = z->masked;
	size_t room = z->in_len;	/* no more than the message: else it goes plain */
	struct sbuf *b = rws_sbuf_new(RWS_FRAME_HDR_MAX + room);
	if (!b) {
		z->status = -ENOMEM;
		return;
	}
	uint8_t *payload = b->data + RWS_FRAME_HDR_MAX;
	long n = -1;
	struct rws_pmd_compressor **c = &w->comp[z->level];
	if (*c || (*c = rws_pmd_compressor_new(z->level)))
		n = rws_pmd_compress(*c, z->in, z->in_len, payload, room);
	unsigned rsv = RWS_RSV1;
	size_t len = (size_t)n;
	if (n <= 0 || (size_t)n >= z->in_len) {
		memcpy(payload, z->in, z->in_len);
		len = z->in_len;
		rsv = 0;
	}
	uint8_t key[4] = { 0 };
	if (masked)
		(void)rws_random_bytes(key, sizeof(key));
	uint8_t hdr[RWS_FRAME_HDR_MAX];
	size_t hl = rws_frame_encode(hdr, 1, rsv, z->op, len, masked ? key : NULL);
	if (masked)
		rws_mask_copy(payload, payload, len, key, 0);
	memcpy(payload - hl, hdr, hl);
	b->len = RWS_FRAME_HDR_MAX + len;
	z->out = b;
	z->out_off = RWS_FRAME_HDR_MAX - hl;
	z->status = 0;
}

static void run_inflate(struct zworker *w, struct zjob *z)
{
	if (!w->dec && !(w->dec = rws_pmd_decompressor_new())) {
		z->status = -ENOMEM;
		return;
	}
	z->status = rws_pmd_decompress(w->dec, z->in, z->in_len, z->max, z->window, &z->res,
				       &z->res_len);
	if (z->status == 0 && z->op == RWS_OP_TEXT && rws_utf8_valid(z->res, z->res_len) != 0)
		z->status = ZJOB_E_UTF8;
}

static void *worker_main(void *arg)
{
	struct zpool *p = arg;
	struct zworker w;
	memset(&w, 0, sizeof(w));
	/* compression yields the CPU to the reactors: a reactor answering
	 * small messages must not wait behind a megabyte being deflated.
	 * SCHED_IDLE: a reactor that wakes takes the core at once */
	struct sched_param sp = { .sched_priority = 0 };
	if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0)
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		struct zjob *z = p->head;
		if (!z) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		p->head = z->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		if (z->kind == ZJOB_COMPRESS)
			run_compress(&w, z);
		else
			run_inflate(&w, z);
		rws_reactor_post(z->r, &z->j);
	}
	for (int i = 0; i < 13; i++)
		rws_pmd_compressor_free(w.comp[i]);
	rws_pmd_decompressor_free(w.dec);
	return NULL;
}

/* --- the pool ----------------------------------------------------------------- */

int rws_zpool_start(struct rws_server *s, char *errbuf, size_t errlen)
{
	int n = s->o.deflate_concurrency;
	struct zpool *p = calloc(1, sizeof(*p) + (size_t)n * sizeof(pthread_t));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (int i = 0; i < n; i++) {
		int rc = pthread_create(&p->threads[i], NULL, worker_main, p);
		if (rc != 0) {
			snprintf(errbuf, errlen, "cannot start the deflate workers: %s", strerror(rc));
			s->zpool = p;
			p->nthreads = i;
			rws_zpool_stop(s);
			return -rc;
		}
		p->nthreads = i + 1;
	}
	s->zpool = p;
	return 0;
}

void rws_zpool_stop(struct rws_server *s)
{
	struct zpool *p = s->zpool;
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	/* what nobody will collect any more */
	struct zjob *z = p->head;
	p->head = p->tail = NULL;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	while (z) {
		struct zjob *next = z->next;
		rws_zjob_free(z);
		z = next;
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
	s->zpool = NULL;
}

struct zjob *rws_zjob_new(size_t in_len)
{
	struct zjob *z = malloc(sizeof(*z) + in_len);
	if (!z)
		return NULL;
	memset(z, 0, sizeof(*z));
	z->j.kind = JOB_ZDONE;
	z->in_len = in_len;
	return z;
}

void rws_zjob_free(struct zjob *z)
{
	if (z->owns_window)
		rws_pmd_window_free(z->window);
	rws_sbuf_put(z->out);
	free(z->res);
	free(z);
}

static void push(struct zpool *p, struct zjob *z)
{
	z->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = z;
	else
		p->head = z;
	p->tail = z;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static unsigned quota(const struct reactor *r)
{
	return 2u * (unsigned)r->srv->o.deflate_concurrency;
}

/* Moves jobs from the backlog into the pool while there is room; a
 * connection whose last waiting job moves on is read from again. */
static void backlog_move(struct reactor *r)
{
	while (r->zbacklog && r->zinpool < quota(r)) {
		struct zjob *z = r->zbacklog;
		r->zbacklog = z->next;
		if (!r->zbacklog)
			r->zbacklog_tail = NULL;
		struct rws_conn *c = z->c;
		if (c->gen != z->gen) {
			rws_zjob_free(z);	/* its connection is gone */
			continue;
		}
		r->zinpool++;
		push(r->srv->zpool, z);
		if (z->kind == ZJOB_COMPRESS && c->x && c->x->zwaiting && --c->x->zwaiting == 0)
			rws_conn_zwait_end(c);
	}
}

/* Hands z to the pool, or to the reactor's backlog when its share of the
 * pool is taken. Returns 1 if z went to the backlog. */
int rws_zpool_submit(struct reactor *r, struct zjob *z)
{
	z->r = r;
	if (!r->zbacklog && r->zinpool < quota(r)) {
		r->zinpool++;
		push(r->srv->zpool, z);
		return 0;
	}
	z->next = NULL;
	if (r->zbacklog_tail)
		r->zbacklog_tail->next = z;
	else
		r->zbacklog = z;
	r->zbacklog_tail = z;
	return 1;
}

/* A result, back on the reactor. */
void rws_zpool_done(struct reactor *r, struct zjob *z)
{
	r->zinpool--;
	rws_conn_zdone(z);
	backlog_move(r);
}

/* At the reactor's end: its backlog is dropped. */
void rws_zpool_forget(struct reactor *r)
{
	while (r->zbacklog) {
		struct zjob *z = r->zbacklog;
		r->zbacklog = z->next;
		rws_zjob_free(z);
	}
	r->zbacklog_tail = NULL;
}
