/*
 * reactor: one thread, one io_uring, one SO_REUSEPORT listener, and the
 * connections accepted on it.
 *
 * The loop submits what the last batch queued (sends collected on a flush
 * list so that everything a connection queued in one batch leaves in one
 * sendmsg), waits for completions with a timeout taken from the timer
 * lists, handles the whole batch, and advances the CQ once. Accept and recv
 * are multishot; recv takes buffers from a ring of provided buffers shared
 * by the reactor's connections, recycled as soon as a completion has been
 * handled, so an idle connection holds no receive buffer.
 *
 * The ring is set up with SINGLE_ISSUER|DEFER_TASKRUN where the kernel has
 * them, else COOP_TASKRUN, else no flags (see ../shared URING notes). It is
 * created on the reactor's own thread, which DEFER_TASKRUN requires.
 * Other threads reach the reactor through its inbox: a mutex-protected job
 * list and an eventfd the ring keeps a read on.
 */
#include "runtime/runtime.h"
#include "runtime/tls.h"

#include <errno.h>
#include <malloc.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RING_ENTRIES 1024
#define BGID 1

static _Thread_local struct reactor *current;

struct reactor *rws_reactor_current(void)
{
	return current;
}

uint64_t rws_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- timers: one list per duration, appended in deadline order ---------- */

/* The links live in the connection's conn_ext, which the caller made sure
 * of. */
void rws_tlist_add(struct tlist *t, struct rws_conn *c, uint64_t now)
{
	struct conn_ext *x = c->x;
	x->deadline = now + t->ms;
	x->tnext = NULL;
	x->tprev = t->tail;
	if (t->tail)
		t->tail->x->tnext = c;
	else
		t->head = c;
	t->tail = c;
}

/* Inserts c at its place by deadline, for a list whose entries have
 * durations of their own; new deadlines are mostly the latest, so the walk
 * starts at the tail. */
void rws_tlist_add_at(struct tlist *t, struct rws_conn *c, uint64_t deadline)
{
	struct conn_ext *x = c->x;
	x->deadline = deadline;
	struct rws_conn *after = t->tail;
	while (after && after->x->deadline > deadline)
		after = after->x->tprev;
	x->tprev = after;
	x->tnext = after ? after->x->tnext : t->head;
	if (x->tnext)
		x->tnext->x->tprev = c;
	else
		t->tail = c;
	if (after)
		after->x->tnext = c;
	else
		t->head = c;
}

void rws_tlist_del(struct tlist *t, struct rws_conn *c)
{
	struct conn_ext *x = c->x;
	if (!x)
		return;
	if (x->tprev)
		x->tprev->x->tnext = x->tnext;
	else if (t->head == c)
		t->head = x->tnext;
	else
		return;	/* not on this list */
	if (x->tnext)
		x->tnext->x->tprev = x->tprev;
	else
		t->tail = x->tprev;
	x->tprev = x->tnext = NULL;
}

/* --- heartbeat --------------------------------------------------------------- */

/* Pings go out at the multiples of a route's interval P (counted from the
 * epoch, so every reactor and every connection of the route keep the same
 * beat without a timer each) and are checked T later: a connection that
 * has sent no byte since its ping is dropped. The state is two flags per
 * connection; a sweep walks the open connections when a beat is due. */
static uint64_t hb_after(uint64_t now, uint32_t P, uint32_t T)
{
	uint64_t ping = (now / P + 1) * P;
	uint64_t check = (now >= T ? ((now - T) / P + 1) * P : 0) + T;
	return ping < check ? ping : check;
}

/* Beats (at off, off + P, off + 2P, ...) up to and including t. */
static uint64_t beats_upto(uint64_t t, uint32_t P, uint32_t off)
{
	return t < off ? 0 : (t - off) / P + 1;
}

/* Whether a beat lies in (from, to]. */
static int beat_in(uint64_t from, uint64_t to, uint32_t P, uint32_t off)
{
	return beats_upto(to, P, off) > beats_upto(from, P, off);
}

void rws_heartbeat_arm(struct reactor *r, const struct route *rt)
{
	if (!rt->ping_ms)
		return;
	uint64_t t = hb_after(r->now, rt->ping_ms, rt->pong_ms);
	if (!r->hb_next || t < r->hb_next)
		r->hb_next = t;
	if (!r->hb_last)
		r->hb_last = r->now;
}

static void hb_conn(struct reactor *r, struct rws_conn *c)
{
	const struct route *rt = c->route;
	uint32_t P = rt->ping_ms, T = rt->pong_ms;
	if (beat_in(r->hb_last, r->now, P, T) && (c->flags & CF_PING_OUT)) {
		c->flags &= (uint16_t)~CF_PING_OUT;
		if (!(c->flags & CF_ALIVE)) {
			char why[80];
			snprintf(why, sizeof(why), "heartbeat: nothing from the peer within %u ms", T);
			rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, why, strlen(why));
			return;
		}
	}
	if (beat_in(r->hb_last, r->now, P, 0) && rws_conn_control_local(c, RWS_OP_PING, NULL, 0) == 0)
		c->flags = (uint16_t)((c->flags | CF_PING_OUT) & ~CF_ALIVE);
}

static void heartbeat(struct reactor *r)
{
	if (!r->hb_next || r->now < r->hb_next)
		return;
	uint64_t next = 0;
	for (int ri = -1; ri < r->srv->nroutes; ri++) {
		struct rws_conn *c = ri < 0 ? r->clients : r->open_by_route[ri];
		while (c) {
			struct rws_conn *n = c->rnext;	/* c may go */
			const struct route *rt = c->route;
			if (rt && rt->ping_ms) {
				hb_conn(r, c);
				uint64_t t = hb_after(r->now, rt->ping_ms, rt->pong_ms);
				if (!next || t < next)
					next = t;
			}
			c = n;
		}
	}
	r->hb_last = r->now;
	r->hb_next = next;
}

static uint64_t next_deadline(struct reactor *r)
{
	uint64_t d = UINT64_MAX;
	struct tlist *ls[] = { &r->hs_timers, &r->linger_timers, &r->close_timers,
			       &r->client_timers };
	for (size_t i = 0; i < 4; i++)
		if (ls[i]->head && ls[i]->head->x->deadline < d)
			d = ls[i]->head->x->deadline;
	if (r->trim_due && r->trim_due < d)
		d = r->trim_due;
	if (r->hb_next && r->hb_next < d)
		d = r->hb_next;
	return d;
}

static void run_timers(struct reactor *r)
{
	struct rws_conn *c;
	while ((c = r->hs_timers.head) && c->x->deadline <= r->now)
		rws_conn_handshake_expired(c);
	while ((c = r->close_timers.head) && c->x->deadline <= r->now)
		rws_conn_close_expired(c);
	while ((c = r->linger_timers.head) && c->x->deadline <= r->now)
		rws_conn_linger_expired(c);
	while ((c = r->client_timers.head) && c->x->deadline <= r->now)
		rws_client_expired(c);
}

/* --- pools ------------------------------------------------------------------ */

void rws_pool_drain(struct pool *p)
{
	while (p->head) {
		void *x = p->head;
		p->head = *(void **)x;
		free(x);
	}
	p->n = 0;
}

static void pools_setup(struct reactor *r)
{
	/* enough for the objects one batch of completions uses (a few
	 * hundred connections sending at once); past that they go back to
	 * malloc. At most about 1.6 MiB stays cached, mostly send buffers. */
	r->tx_pool = (struct pool){ NULL, 0, 256, sizeof(struct conn_tx) };
	r->ext_pool = (struct pool){ NULL, 0, 64, sizeof(struct conn_ext) };
	r->qent_pool = (struct pool){ NULL, 0, 512, sizeof(struct qent) };
	r->sbuf_pool = (struct pool){ NULL, 0, 128, sizeof(struct sbuf) + SBUF_SMALL };
	r->big_pool = (struct pool){ NULL, 0, 8, sizeof(struct sbuf) + SBUF_BIG };
	r->sm_pool = (struct pool){ NULL, 0, 32, sizeof(struct sendmem) };
}

/* --- set-up --------------------------------------------------------------- */

static int ring_setup(struct reactor *r)
{
	struct io_uring_params p;
	static const unsigned tries[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL |
			IORING_SETUP_CQSIZE,
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL |
			IORING_SETUP_CQSIZE,
		IORING_SETUP_CQSIZE,
		0,
	};
	int rc = -EINVAL;
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = tries[i];
		p.cq_entries = RING_ENTRIES * 8;
		rc = io_uring_queue_init_params(RING_ENTRIES, &r->ring, &p);
		if (rc == 0)
			break;
		if (rc != -EINVAL)
			break;
	}
	if (rc < 0) {
		snprintf(r->errbuf, sizeof(r->errbuf),
			 "io_uring is unavailable (io_uring_setup: %s); check kernel.io_uring_disabled "
			 "and the container's seccomp profile",
			 strerror(-rc));
		return rc;
	}
	r->ring_ok = 1;
	if (!(p.features & IORING_FEAT_NODROP) || !(p.features & IORING_FEAT_FAST_POLL)) {
		snprintf(r->errbuf, sizeof(r->errbuf), "io_uring on this kernel is too old (need 6.0+)");
		return -ENOTSUP;
	}
	struct io_uring_probe *probe = io_uring_get_probe_ring(&r->ring);
	if (!probe || !io_uring_opcode_supported(probe, IORING_OP_SENDMSG) ||
	    !io_uring_opcode_supported(probe, IORING_OP_ACCEPT) ||
	    !io_uring_opcode_supported(probe, IORING_OP_RECV)) {
		if (probe)
			io_uring_free_probe(probe);
		snprintf(r->errbuf, sizeof(r->errbuf), "io_uring lacks accept/recv/sendmsg");
		return -ENOTSUP;
	}
	io_uring_free_probe(probe);
	io_uring_register_ring_fd(&r->ring);
	return 0;
}

/* The provided-buffer ring. liburing 2.3 has no io_uring_setup_buf_ring():
 * map the ring ourselves and register it. */
static int bufring_setup(struct reactor *r)
{
	r->nbufs = r->srv->o.recv_buffers;
	r->buf_size = r->srv->o.recv_buffer_size;
	size_t rsz = r->nbufs * sizeof(struct io_uring_buf);
	void *ring = mmap(NULL, rsz, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (ring == MAP_FAILED)
		return -errno;
	struct io_uring_buf_reg reg;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)ring;
	reg.ring_entries = r->nbufs;
	reg.bgid = BGID;
	int rc = io_uring_register_buf_ring(&r->ring, &reg, 0);
	if (rc < 0) {
		munmap(ring, rsz);
		snprintf(r->errbuf, sizeof(r->errbuf),
			 "io_uring provided buffer rings unavailable (%s)", strerror(-rc));
		return rc;
	}
	r->br = ring;
	io_uring_buf_ring_init(r->br);
	/* populated now: the kernel cycles through every buffer of the ring
	 * under load, so this memory is the reactor's from the start, not
	 * something connections add */
	r->bufs = mmap(NULL, (size_t)r->nbufs * r->buf_size, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | MAP_PRIVATE | MAP_POPULATE, -1, 0);
	if (r->bufs == MAP_FAILED) {
		r->bufs = NULL;
		return -ENOMEM;
	}
	r->br_mask = io_uring_buf_ring_mask(r->nbufs);
	for (unsigned i = 0; i < r->nbufs; i++)
		io_uring_buf_ring_add(r->br, r->bufs + (size_t)i * r->buf_size, r->buf_size,
				      (unsigned short)i, r->br_mask, (int)i);
	io_uring_buf_ring_advance(r->br, (int)r->nbufs);
	return 0;
}

/* Hands buffer bid back to the kernel; published in one advance per batch. */
void rws_reactor_recycle(struct reactor *r, unsigned bid)
{
	io_uring_buf_ring_add(r->br, r->bufs + (size_t)bid * r->buf_size, r->buf_size,
			      (unsigned short)bid, r->br_mask, (int)r->br_pending);
	r->br_pending++;
}

/* The registered send pool. Zero-copy sends need registered memory (a plain
 * send refuses IORING_RECVSEND_FIXED_BUF with -EINVAL on this kernel,
 * tested), and pay only for larger frames. Without it (an old kernel, a
 * memlock limit) every frame takes the copying path. */
static void zc_setup(struct reactor *r)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(&r->ring);
	int has = probe && io_uring_opcode_supported(probe, IORING_OP_SEND_ZC);
	if (probe)
		io_uring_free_probe(probe);
	if (!has)
		return;
	size_t size = (size_t)ZC_SLOTS * ZC_SLOT;
	r->zc_mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	r->zc_free = calloc(ZC_SLOTS, sizeof(*r->zc_free));
	if (r->zc_mem == MAP_FAILED || !r->zc_free) {
		if (r->zc_mem != MAP_FAILED)
			munmap(r->zc_mem, size);
		r->zc_mem = NULL;
		free(r->zc_free);
		r->zc_free = NULL;
		return;
	}
	struct iovec iov = { r->zc_mem, size };
	if (io_uring_register_buffers(&r->ring, &iov, 1) < 0) {
		munmap(r->zc_mem, size);
		r->zc_mem = NULL;
		free(r->zc_free);
		r->zc_free = NULL;
		return;
	}
	for (int i = 0; i < ZC_SLOTS; i++)
		r->zc_free[r->zc_nfree++] = ZC_SLOTS - 1 - i;
	r->zc_ok = 1;
}

static int listen_one(struct reactor *r, struct laddr *la, struct listener *l)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a;
	memset(&a, 0, sizeof(a));
	socklen_t alen;
	/* after the first reactor bound an ephemeral port, the others share it */
	uint16_t port = la->bound ? la->bound : la->port;
	if (inet_pton(AF_INET, la->host, &a.in.sin_addr) == 1) {
		a.in.sin_family = AF_INET;
		a.in.sin_port = htons(port);
		alen = sizeof(a.in);
	} else if (inet_pton(AF_INET6, la->host, &a.in6.sin6_addr) == 1) {
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_port = htons(port);
		alen = sizeof(a.in6);
	} else {
		snprintf(r->errbuf, sizeof(r->errbuf), "listen address '%s' is not an IP address",
			 la->host);
		return -EINVAL;
	}
	int fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (a.sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* inherited by accepted sockets */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, &a.sa, alen) < 0 || listen(fd, 4096) < 0) {
		int e = errno;
		snprintf(r->errbuf, sizeof(r->errbuf), "cannot listen on %s port %u: %s", la->host,
			 port, strerror(e));
		close(fd);
		return -e;
	}
	if (!la->bound) {
		socklen_t l = sizeof(a);
		getsockname(fd, &a.sa, &l);
		la->bound = ntohs(a.sa.sa_family == AF_INET ? a.in.sin_port : a.in6.sin6_port);
	}
	l->r = r;
	l->fd = fd;
	l->armed = 0;
	return 0;
}

static int listen_setup(struct reactor *r)
{
	struct rws_server *s = r->srv;
	r->ls = calloc((size_t)s->naddrs, sizeof(*r->ls));
	if (!r->ls)
		return -ENOMEM;
	for (int i = 0; i < s->naddrs; i++) {
		r->ls[i].idx = i;
		int rc = listen_one(r, &s->addrs[i], &r->ls[i]);
		if (rc < 0)
			return rc;
		r->nls++;
	}
	return 0;
}

static void close_listeners(struct reactor *r)
{
	for (int i = 0; i < r->nls; i++)
		if (r->ls[i].fd >= 0) {
			/* ends the multishot accept */
			shutdown(r->ls[i].fd, SHUT_RDWR);
			close(r->ls[i].fd);
			r->ls[i].fd = -1;
		}
}

struct io_uring_sqe *rws_reactor_sqe(struct reactor *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	while (!sqe) {
		/* the SQ is full: hand it to the kernel and take a new one */
		int rc = io_uring_submit(&r->ring);
		if (rc < 0 && rc != -EBUSY && rc != -EINTR) {
			fprintf(stderr, "ringws: io_uring_submit: %s\n", strerror(-rc));
			abort();
		}
		sqe = io_uring_get_sqe(&r->ring);
	}
	return sqe;
}

static void arm_accepts(struct reactor *r)
{
	for (int i = 0; i < r->nls && !r->stopping; i++) {
		struct listener *l = &r->ls[i];
		if (l->armed || l->fd < 0)
			continue;
		struct io_uring_sqe *sqe = rws_reactor_sqe(r);
		io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL, SOCK_CLOEXEC);
		io_uring_sqe_set_data64(sqe, UD(l, UD_ACCEPT));
		l->armed = 1;
	}
}

static void arm_eventfd(struct reactor *r)
{
	struct io_uring_sqe *sqe = rws_reactor_sqe(r);
	io_uring_prep_read(sqe, r->efd, &r->efd_val, sizeof(r->efd_val), 0);
	io_uring_sqe_set_data64(sqe, UD(r, UD_EVENTFD));
}

/* --- the inbox ------------------------------------------------------------ */

void rws_reactor_post(struct reactor *r, struct job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&r->inbox_lock);
	int was_empty = r->inbox_head == NULL;
	if (r->inbox_tail)
		r->inbox_tail->next = j;
	else
		r->inbox_head = j;
	r->inbox_tail = j;
	pthread_mutex_unlock(&r->inbox_lock);
	if (was_empty) {
		uint64_t one = 1;
		ssize_t n = write(r->efd, &one, sizeof(one));
		(void)n;	/* an eventfd write only fails on overflow, which a pending wake-up covers */
	}
}

static int live(const struct job *j)
{
	return j->c->gen == j->gen && j->c->phase == PH_OPEN;
}

static void stop_reactor(struct reactor *r);

static void run_job(struct reactor *r, struct job *j)
{
	switch (j->kind) {
	case JOB_ZDONE:
		rws_zpool_done(r, (struct zjob *)j);	/* frees it */
		return;
	case JOB_CONNECT:
		if (r->stopping)
			rws_client_forget(j->arg);
		else
			rws_client_start(r, j->arg);
		break;
	case JOB_SEND:
		if (live(j))
			rws_conn_send_local(j->c, j->b->data, j->b->len, j->flags | RWS_SEND_POSTED);
		break;
	case JOB_PING:
	case JOB_PONG:
		if (live(j))
			rws_conn_control_local(j->c, j->kind == JOB_PING ? RWS_OP_PING : RWS_OP_PONG,
					       j->b->data, j->b->len);
		break;
	case JOB_CLOSE:
		if (live(j))
			rws_conn_close_local(j->c, (int)j->flags, j->b ? (const char *)j->b->data : NULL);
		break;
	case JOB_BROADCAST: {
		struct rws_conn *c = r->open_by_route[j->route->idx];
		while (c) {
			struct rws_conn *next = c->rnext;
			if (c != j->except)
				rws_conn_queue_broadcast(c, j->bz && (c->flags & (CF_PMD | CF_PMD_PLAIN)) == CF_PMD
								   ? j->bz : j->b);
			c = next;
		}
		break;
	}
	case JOB_FOREACH: {
		struct rws_conn *c = r->open_by_route[j->route->idx];
		while (c) {
			struct rws_conn *next = c->rnext;	/* fn may close c */
			j->fn(c, j->arg);
			c = next;
		}
		break;
	}
	case JOB_STOP:
		stop_reactor(r);
		break;
	case JOB_ADOPT:
		if (r->stopping)
			close(j->fd);
		else
			rws_conn_adopt(r, j->fd, j->b);
		break;
	}
	if (j->b) {
		if (j->kind != JOB_BROADCAST && j->kind != JOB_ADOPT)
			atomic_fetch_sub_explicit(&r->inbox_bytes, j->b->len, memory_order_relaxed);
		rws_sbuf_put(j->b);
	}
	rws_sbuf_put(j->bz);
	free(j);
}

static void drain_inbox(struct reactor *r)
{
	pthread_mutex_lock(&r->inbox_lock);
	struct job *j = r->inbox_head;
	r->inbox_head = r->inbox_tail = NULL;
	pthread_mutex_unlock(&r->inbox_lock);
	while (j) {
		struct job *next = j->next;
		run_job(r, j);
		j = next;
	}
}

/* --- stopping ------------------------------------------------------------- */

static void stop_reactor(struct reactor *r)
{
	if (r->stopping)
		return;
	r->stopping = 1;
	close_listeners(r);
	/* going away: every open connection gets 1001, handshakes are dropped */
	for (int ri = -1; ri < r->srv->nroutes; ri++) {
		struct rws_conn *c = ri < 0 ? r->clients : r->open_by_route[ri];
		while (c) {
			struct rws_conn *next = c->rnext;
			rws_conn_close_local(c, RWS_CLOSE_GOING_AWAY, ri < 0 ? "client shutting down"
									: "server shutting down");
			c = next;
		}
	}
	/* client connections not open yet are dropped, like handshakes */
	while (r->client_timers.head)
		rws_conn_teardown(r->client_timers.head, RWS_CLOSE_ABNORMAL, NULL, 0);
	while (r->hs_timers.head)
		rws_conn_teardown(r->hs_timers.head, RWS_CLOSE_ABNORMAL, NULL, 0);
}

/* --- completions ---------------------------------------------------------- */

static void on_accept(struct listener *l, struct io_uring_cqe *cqe)
{
	struct reactor *r = l->r;
	if (!(cqe->flags & IORING_CQE_F_MORE))
		l->armed = 0;
	if (cqe->res < 0) {
		if (cqe->res != -ECANCELED && cqe->res != -EBADF && !r->stopping)
			fprintf(stderr, "ringws: accept: %s\n", strerror(-cqe->res));
		return;
	}
	if (r->stopping) {
		close(cqe->res);
		return;
	}
	rws_conn_new(r, cqe->res, rws_server_tls_take(r->srv, l->idx));
}

static void handle_cqe(struct reactor *r, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	void *p = UD_PTR(ud);
	switch (UD_TAG(ud)) {
	case UD_ACCEPT:
		on_accept(p, cqe);
		break;
	case UD_EVENTFD:
		drain_inbox(r);
		if (cqe->res >= 0 || cqe->res == -EINTR || cqe->res == -EAGAIN)
			arm_eventfd(r);
		break;
	case UD_RECV:
		rws_conn_on_recv(p, cqe);
		break;
	case UD_SEND:
		rws_conn_on_send(p, cqe->res);
		break;
	case UD_SEND_ZC:
		rws_conn_on_send_zc(p, cqe);
		break;
	case UD_CANCEL:
		rws_conn_on_cancel(p);
		break;
	case UD_CONNECT:
		rws_client_on_connect(p, cqe->res);
		break;
	default:
		break;
	}
}

/* After a burst of handshakes (their request heads, answers and timers are
 * short-lived allocations) has settled, hands the freed pages back to the
 * kernel, so what the process keeps is what its open connections use. */
#define TRIM_EVERY_MS 1000

static void trim_after_burst(struct reactor *r)
{
	uint64_t acc = atomic_load_explicit(&r->n_accepted, memory_order_relaxed);
	if (r->hs_timers.head || acc - r->trimmed_at < 64)
		return;
	if (r->now < r->trim_last + TRIM_EVERY_MS) {
		r->trim_due = r->trim_last + TRIM_EVERY_MS;	/* wake for it */
		return;
	}
	r->trimmed_at = acc;
	r->trim_last = r->now;
	r->trim_due = 0;
	malloc_trim(0);
}

static void loop(struct reactor *r)
{
	for (;;) {
		r->now = rws_now_ms();
		/* sends queued by the last batch: one sendmsg per connection */
		while (r->flush_head) {
			struct rws_conn *c = r->flush_head;
			r->flush_head = c->tx->fnext;
			c->tx->fnext = NULL;
			c->flags &= (uint16_t)~CF_FLUSH_LISTED;
			rws_conn_flush(c);
			rws_conn_release(c);	/* if it died while listed */
		}
		if (r->br_pending) {
			io_uring_buf_ring_advance(r->br, (int)r->br_pending);
			r->br_pending = 0;
		}
		arm_accepts(r);
		if (r->stopping && atomic_load_explicit(&r->nconns, memory_order_relaxed) == 0)
			break;

		struct __kernel_timespec ts, *tsp = NULL;
		uint64_t d = next_deadline(r);
		if (r->stopping && d == UINT64_MAX)
			d = r->now + 100;	/* keep checking for the end */
		if (d != UINT64_MAX) {
			uint64_t wait = d > r->now ? d - r->now : 0;
			ts.tv_sec = (long long)(wait / 1000);
			ts.tv_nsec = (long long)(wait % 1000) * 1000000;
			tsp = &ts;
		}
		struct io_uring_cqe *cqe;
		int rc = io_uring_submit_and_wait_timeout(&r->ring, &cqe, 1, tsp, NULL);
		if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY) {
			fprintf(stderr, "ringws: io_uring wait: %s\n", strerror(-rc));
			break;
		}
		r->now = rws_now_ms();
		unsigned head, n = 0;
		io_uring_for_each_cqe(&r->ring, head, cqe) {
			handle_cqe(r, cqe);
			n++;
		}
		io_uring_cq_advance(&r->ring, n);
		run_timers(r);
		heartbeat(r);
		trim_after_burst(r);
	}
}

static void teardown_reactor(struct reactor *r)
{
	close_listeners(r);
	free(r->ls);
	r->ls = NULL;
	r->nls = 0;
	if (r->ring_ok)
		io_uring_queue_exit(&r->ring);
	r->ring_ok = 0;
	if (r->br)
		munmap(r->br, r->nbufs * sizeof(struct io_uring_buf));
	if (r->bufs)
		munmap(r->bufs, (size_t)r->nbufs * r->buf_size);
	r->br = NULL;
	r->bufs = NULL;
	if (r->zc_mem)
		munmap(r->zc_mem, (size_t)ZC_SLOTS * ZC_SLOT);
	free(r->zc_free);
	r->zc_mem = NULL;
	r->zc_free = NULL;
	r->zc_ok = 0;
	rws_zpool_forget(r);
	for (int i = 0; i < 13; i++) {
		rws_pmd_compressor_free(r->pmd_comp[i]);
		r->pmd_comp[i] = NULL;
	}
	rws_pmd_decompressor_free(r->pmd_dec);
	free(r->pmd_out);
	free(r->tls_plain);
	r->tls_plain = NULL;
	r->pmd_dec = NULL;
	r->pmd_out = NULL;
	r->pmd_out_cap = 0;
	struct pool *pools[] = { &r->tx_pool, &r->ext_pool, &r->qent_pool, &r->sbuf_pool,
				 &r->big_pool, &r->sm_pool };
	for (size_t i = 0; i < sizeof(pools) / sizeof(pools[0]); i++)
		rws_pool_drain(pools[i]);
}

void *rws_reactor_main(void *arg)
{
	struct reactor *r = arg;
	struct rws_server *s = r->srv;
	current = r;

	pools_setup(r);
	int rc = ring_setup(r);
	if (rc == 0)
		rc = bufring_setup(r);
	if (rc == 0)
		zc_setup(r);
	if (rc == 0) {
		pthread_mutex_lock(&s->start_lock);
		if (s->o.listen)
			rc = listen_setup(r);	/* serialised: the first one picks the port */
		pthread_mutex_unlock(&s->start_lock);
	}
	if (rc == 0) {
		r->efd = eventfd(0, EFD_CLOEXEC);
		if (r->efd < 0)
			rc = -errno;
	}
	pthread_mutex_lock(&s->start_lock);
	r->start_err = rc;
	s->nready++;
	pthread_cond_broadcast(&s->start_cond);
	pthread_mutex_unlock(&s->start_lock);
	if (rc < 0) {
		teardown_reactor(r);
		return NULL;
	}
	arm_eventfd(r);
	arm_accepts(r);
	loop(r);
	teardown_reactor(r);
	rws_tls_thread_done();
	return NULL;
}
