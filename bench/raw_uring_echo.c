/*
 * raw_uring_echo: a raw TCP echo server on io_uring, the limit ringwsd is
 * held against in bench/run. No WebSocket framing: whatever arrives on a
 * connection is sent back on it, in order.
 *
 *   raw_uring_echo [-t THREADS] [-b BUFSIZE] [-n NBUFS] HOST:PORT
 *
 * Each thread owns one ring, one SO_REUSEPORT listener and the connections
 * accepted on it. Accept is multishot into direct descriptors (a sparse
 * file table as large as RLIMIT_NOFILE, which is raised to its hard limit),
 * so the fd table is never touched per operation. Each connection has one
 * multishot recv taking buffers from the thread's provided-buffer ring. A
 * received buffer joins the connection's send queue as it is and is sent
 * straight from there: the bytes are never copied in user space, and the
 * buffer goes back to the ring when the send that covered it completes.
 *
 * Sends: exactly one in flight per connection, since two sends on one TCP
 * socket may complete out of order. Whatever queues up behind it leaves in
 * the next one, as one sendmsg over up to IOVN buffers; a short send
 * advances the head buffer's offset and the rest goes out next time.
 * Sends are started once per completion batch (a flush list), so several
 * receives handled in one batch leave in one send.
 *
 * Buffers: -ENOBUFS ends a connection's multishot recv; the connection
 * waits on a starved list and is re-armed once enough buffers have come
 * back. The data meanwhile waits in the socket, which is the flow control.
 *
 * Buffer size, measured here (loopback, server and client on their own
 * cores, 100 connections with 16 messages of 64 KiB in flight each, server
 * CPU per message, median of 5 interleaved runs): 16 KiB buffers 42 us,
 * 32 KiB 32 us, 64 KiB 29 us. With 1 KiB messages, or 1000 connections,
 * the sizes differ by less than the noise. So 4096 buffers of 64 KiB per
 * thread: 256 MiB of address space, of which only what traffic touches
 * becomes resident (a 32-byte message touches one page of its buffer).
 *
 * Not used, on purpose: zero-copy send (loopback copies anyway, and it
 * adds a second CQE per send), recv bundles (with 64 KiB buffers a 64 KiB
 * message takes one or two CQEs anyway, and bundles would need the ring's
 * buffer order tracked across the connections sharing it), SQPOLL (it
 * would take a second core).
 *
 * Ring set-up: SINGLE_ISSUER|DEFER_TASKRUN, falling back to COOP_TASKRUN,
 * then to no flags; always SUBMIT_ALL and a CQ 8x the SQ. The loop is
 * io_uring_submit_and_wait() followed by io_uring_peek_batch_cqe() batches
 * and one io_uring_cq_advance() per batch.
 *
 * liburing 2.3 has no io_uring_setup_buf_ring(): the ring is mmap'd here
 * and registered with io_uring_register_buf_ring().
 */
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "raw_common.h"

#define SQ_ENTRIES 4096
#define CQ_ENTRIES (SQ_ENTRIES * 8)
#define CQE_BATCH 256
#define BGID 1
#define IOVN 16			/* buffers per sendmsg */
#define DEF_BUF_SIZE (64 * 1024)
#define DEF_NBUFS 4096
#define MAX_THREADS 64

/* user_data: op in the top byte, the connection's generation, its slot */
enum { OP_ACCEPT = 1, OP_RECV, OP_SEND, OP_CLOSE, OP_CANCEL, OP_STOP };

static inline uint64_t ud(unsigned op, uint32_t gen, uint32_t slot)
{
	return (uint64_t)op << 56 | (uint64_t)(gen & 0xffffffu) << 32 | slot;
}

enum {
	C_OPEN = 1u << 0,
	C_RECV = 1u << 1,	/* the multishot recv is armed */
	C_SEND = 1u << 2,	/* a send is in flight */
	C_FLUSH = 1u << 3,	/* on the flush list */
	C_STARVED = 1u << 4,	/* on the starved list, waiting for buffers */
	C_EOF = 1u << 5,	/* peer finished: close once the queue is sent */
	C_ERROR = 1u << 6,	/* drop the queue, close once nothing is in flight */
};

/*
 * One per direct-descriptor slot. The send queue is a list of buffer ids
 * linked through the thread's bnext[]: a queued buffer belongs to the
 * connection until the send covering its last byte completes, then it goes
 * back to the kernel through the buffer ring.
 */
struct conn {
	uint32_t gen;
	uint32_t flags;
	int32_t qhead, qtail;	/* buffer ids, -1: empty */
	int32_t sprev, snext;	/* starved list (slots) */
};

/* The msghdr and iovec of a connection's sendmsg, kept until it completes. */
struct sendvec {
	struct msghdr mh;
	struct iovec iov[IOVN];
};

struct worker {
	int id;
	int lfd;		/* listener, an ordinary fd */
	int stopfd;		/* eventfd: readable means stop */
	struct io_uring ring;
	const char *setup;	/* the ring flags that worked, for the log */

	struct io_uring_buf_ring *br;
	unsigned char *bufs;
	unsigned nbufs, buf_size, br_mask;
	int br_pending;		/* recycled since the last advance */
	unsigned nfree;		/* buffers the kernel holds */
	int32_t *bnext;		/* per buffer: next in its connection's queue */
	uint32_t *boff, *bend;	/* per buffer: unsent bytes are [boff, bend) */

	unsigned nslots;
	struct conn *conns;	/* nslots, mmap'd: touched only as slots are used */
	struct sendvec *sv;	/* nslots, mmap'd likewise */
	uint32_t *flush;	/* slots with queued data to send this batch */
	unsigned nflush;
	int32_t starved_head, starved_tail;
	unsigned nstarved;

	int accept_armed, accept_full, stop;
	unsigned long long accepted, bytes, enobufs, sends;
	unsigned nconns;
	int err;
	char errbuf[160];
};

static unsigned opt_buf_size = DEF_BUF_SIZE, opt_nbufs = DEF_NBUFS;

static pthread_mutex_t ready_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static int nready;

/* --- small helpers ----------------------------------------------------------- */

static void *map_zeroed(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* An SQE, submitting what is queued when the SQ is full. */
static struct io_uring_sqe *get_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe;
	while (!(sqe = io_uring_get_sqe(&w->ring)))
		io_uring_submit(&w->ring);
	return sqe;
}

static inline unsigned char *buf_addr(struct worker *w, unsigned bid)
{
	return w->bufs + (size_t)bid * w->buf_size;
}

/* Gives buffer bid back to the kernel; published by one advance per batch. */
static void recycle(struct worker *w, unsigned bid)
{
	io_uring_buf_ring_add(w->br, buf_addr(w, bid), w->buf_size, (unsigned short)bid,
			      w->br_mask, w->br_pending++);
}

static void publish_buffers(struct worker *w)
{
	if (w->br_pending) {
		io_uring_buf_ring_advance(w->br, w->br_pending);
		w->nfree += (unsigned)w->br_pending;
		w->br_pending = 0;
	}
}

/* --- set-up ------------------------------------------------------------------ */

static int ring_setup(struct worker *w)
{
	static const struct {
		unsigned flags;
		const char *name;
	} tries[] = {
		{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "SINGLE_ISSUER|DEFER_TASKRUN" },
		{ IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, "COOP_TASKRUN" },
		{ 0, "no taskrun flags" },
	};
	int rc = -EINVAL;
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		struct io_uring_params p;
		memset(&p, 0, sizeof(p));
		p.flags = tries[i].flags | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
		p.cq_entries = CQ_ENTRIES;
		rc = io_uring_queue_init_params(SQ_ENTRIES, &w->ring, &p);
		if (rc == 0) {
			w->setup = tries[i].name;
			break;
		}
		if (rc != -EINVAL)
			break;
	}
	if (rc < 0) {
		snprintf(w->errbuf, sizeof(w->errbuf), "io_uring_queue_init: %s", strerror(-rc));
		return rc;
	}
	io_uring_register_ring_fd(&w->ring);
	return 0;
}

static int bufring_setup(struct worker *w)
{
	w->nbufs = opt_nbufs;
	w->buf_size = opt_buf_size;
	size_t rsz = (size_t)w->nbufs * sizeof(struct io_uring_buf);
	void *ring = mmap(NULL, rsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ring == MAP_FAILED)
		return -errno;
	struct io_uring_buf_reg reg;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)ring;
	reg.ring_entries = w->nbufs;
	reg.bgid = BGID;
	int rc = io_uring_register_buf_ring(&w->ring, &reg, 0);
	if (rc < 0) {
		munmap(ring, rsz);
		snprintf(w->errbuf, sizeof(w->errbuf), "io_uring_register_buf_ring: %s",
			 strerror(-rc));
		return rc;
	}
	w->br = ring;
	io_uring_buf_ring_init(w->br);
	w->br_mask = (unsigned)io_uring_buf_ring_mask(w->nbufs);
	w->bufs = map_zeroed((size_t)w->nbufs * w->buf_size);
	w->bnext = calloc(w->nbufs, sizeof(*w->bnext));
	w->boff = calloc(w->nbufs, sizeof(*w->boff));
	w->bend = calloc(w->nbufs, sizeof(*w->bend));
	if (!w->bufs || !w->bnext || !w->boff || !w->bend) {
		snprintf(w->errbuf, sizeof(w->errbuf), "out of memory for %u buffers", w->nbufs);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < w->nbufs; i++)
		recycle(w, i);
	publish_buffers(w);
	return 0;
}

static int worker_setup(struct worker *w)
{
	int rc = ring_setup(w);
	if (rc < 0)
		return rc;
	rc = bufring_setup(w);
	if (rc < 0)
		return rc;
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	w->nslots = rl.rlim_cur > (1u << 20) ? (1u << 20) : (unsigned)rl.rlim_cur;
	rc = io_uring_register_files_sparse(&w->ring, w->nslots);
	if (rc < 0) {
		snprintf(w->errbuf, sizeof(w->errbuf), "io_uring_register_files_sparse(%u): %s",
			 w->nslots, strerror(-rc));
		return rc;
	}
	w->conns = map_zeroed((size_t)w->nslots * sizeof(*w->conns));
	w->sv = map_zeroed((size_t)w->nslots * sizeof(*w->sv));
	w->flush = map_zeroed((size_t)w->nslots * sizeof(*w->flush));
	if (!w->conns || !w->sv || !w->flush) {
		snprintf(w->errbuf, sizeof(w->errbuf), "out of memory for %u slots", w->nslots);
		return -ENOMEM;
	}
	w->starved_head = w->starved_tail = -1;
	return 0;
}

/* --- operations -------------------------------------------------------------- */

static void arm_accept(struct worker *w)
{
	struct io_uring_sqe *sqe = get_sqe(w);
	io_uring_prep_multishot_accept_direct(sqe, w->lfd, NULL, NULL, 0);
	io_uring_sqe_set_data64(sqe, ud(OP_ACCEPT, 0, 0));
	w->accept_armed = 1;
}

static void arm_recv(struct worker *w, uint32_t slot)
{
	struct conn *c = &w->conns[slot];
	struct io_uring_sqe *sqe = get_sqe(w);
	io_uring_prep_recv_multishot(sqe, (int)slot, NULL, 0, 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, ud(OP_RECV, c->gen, slot));
	c->flags |= C_RECV;
}

/* Sends the head of the queue: one buffer with send, more with sendmsg. */
static void send_start(struct worker *w, uint32_t slot)
{
	struct conn *c = &w->conns[slot];
	struct sendvec *sv = &w->sv[slot];
	unsigned n = 0;
	for (int32_t b = c->qhead; b >= 0 && n < IOVN; b = w->bnext[b]) {
		sv->iov[n].iov_base = buf_addr(w, (unsigned)b) + w->boff[b];
		sv->iov[n].iov_len = w->bend[b] - w->boff[b];
		n++;
	}
	struct io_uring_sqe *sqe = get_sqe(w);
	if (n == 1) {
		io_uring_prep_send(sqe, (int)slot, sv->iov[0].iov_base, sv->iov[0].iov_len,
				   MSG_NOSIGNAL);
	} else {
		memset(&sv->mh, 0, sizeof(sv->mh));
		sv->mh.msg_iov = sv->iov;
		sv->mh.msg_iovlen = n;
		io_uring_prep_sendmsg(sqe, (int)slot, &sv->mh, MSG_NOSIGNAL);
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, ud(OP_SEND, c->gen, slot));
	c->flags |= C_SEND;
	w->sends++;
}

static void want_flush(struct worker *w, uint32_t slot)
{
	struct conn *c = &w->conns[slot];
	if (!(c->flags & C_FLUSH)) {
		c->flags |= C_FLUSH;
		w->flush[w->nflush++] = slot;
	}
}

static void starved_add(struct worker *w, uint32_t slot)
{
	struct conn *c = &w->conns[slot];
	c->flags |= C_STARVED;
	c->snext = -1;
	c->sprev = w->starved_tail;
	if (w->starved_tail >= 0)
		w->conns[w->starved_tail].snext = (int32_t)slot;
	else
		w->starved_head = (int32_t)slot;
	w->starved_tail = (int32_t)slot;
	w->nstarved++;
}

static void starved_del(struct worker *w, uint32_t slot)
{
	struct conn *c = &w->conns[slot];
	if (c->sprev >= 0)
		w->conns[c->sprev].snext = c->snext;
	else
		w->starved_head = c->snext;
	if (c->snext >= 0)
		w->conns[c->snext].sprev = c->sprev;
	else
		w->starved_tail = c->sprev;
	c->flags &= ~C_STARVED;
	w->nstarved--;
}

static void queue_drop(struct worker *w, struct conn *c)
{
	for (int32_t b = c->qhead; b >= 0; b = w->bnext[b])
		recycle(w, (unsigned)b);
	c->qhead = c->qtail = -1;
}

/* Closes the slot once no operation is in flight and nothing is left to send. */
static void maybe_close(struct worker *w, uint32_t slot)
{
	struct conn *c = &w->conns[slot];
	if (c->flags & (C_RECV | C_SEND))
		return;
	if (c->qhead >= 0 && !(c->flags & C_ERROR))
		return;		/* EOF: the queued data still goes out */
	queue_drop(w, c);
	if (c->flags & C_STARVED)
		starved_del(w, slot);
	struct io_uring_sqe *sqe = get_sqe(w);
	io_uring_prep_close_direct(sqe, slot);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, ud(OP_CLOSE, c->gen, slot));
	c->flags &= C_FLUSH;	/* a stale flush-list entry finds the slot closed */
	w->nconns--;
	if (w->accept_full) {
		w->accept_full = 0;
		arm_accept(w);
	}
}

/* A failed connection: drop its data, cancel its recv, close when idle. */
static void conn_fail(struct worker *w, uint32_t slot)
{
	struct conn *c = &w->conns[slot];
	c->flags |= C_ERROR;
	if (c->flags & C_RECV) {
		struct io_uring_sqe *sqe = get_sqe(w);
		io_uring_prep_cancel64(sqe, ud(OP_RECV, c->gen, slot), 0);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, ud(OP_CANCEL, c->gen, slot));
	}
	maybe_close(w, slot);
}

/* --- completions ----------------------------------------------------------------- */

static void on_accept(struct worker *w, struct io_uring_cqe *cqe)
{
	if (cqe->res >= 0) {
		uint32_t slot = (uint32_t)cqe->res;
		struct conn *c = &w->conns[slot];
		c->gen++;
		c->flags = (c->flags & C_FLUSH) | C_OPEN;
		c->qhead = c->qtail = -1;
		w->nconns++;
		w->accepted++;
		arm_recv(w, slot);
	} else if (cqe->res == -ENFILE || cqe->res == -EMFILE) {
		w->accept_full = 1;	/* re-armed by the next close */
	}
	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		w->accept_armed = 0;
		if (!w->accept_full && !w->stop)
			arm_accept(w);
	}
}

static void on_recv(struct worker *w, uint32_t slot, struct io_uring_cqe *cqe)
{
	struct conn *c = &w->conns[slot];
	int res = cqe->res;
	if (res > 0) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		w->nfree--;
		w->bytes += (unsigned)res;
		if (c->flags & C_ERROR) {
			recycle(w, bid);
		} else {
			w->boff[bid] = 0;
			w->bend[bid] = (uint32_t)res;
			w->bnext[bid] = -1;
			if (c->qtail >= 0)
				w->bnext[c->qtail] = (int32_t)bid;
			else
				c->qhead = (int32_t)bid;
			c->qtail = (int32_t)bid;
			if (!(c->flags & C_SEND))
				want_flush(w, slot);
		}
	}
	if (cqe->flags & IORING_CQE_F_MORE)
		return;
	c->flags &= ~C_RECV;
	if (c->flags & C_ERROR) {
		maybe_close(w, slot);
	} else if (res == -ENOBUFS) {
		w->enobufs++;
		starved_add(w, slot);
	} else if (res > 0) {
		arm_recv(w, slot);	/* ended for another reason (CQ overflow): go on */
	} else if (res == 0) {
		c->flags |= C_EOF;
		maybe_close(w, slot);
	} else {
		conn_fail(w, slot);
	}
}

static void on_send(struct worker *w, uint32_t slot, struct io_uring_cqe *cqe)
{
	struct conn *c = &w->conns[slot];
	c->flags &= ~C_SEND;
	if (cqe->res <= 0) {
		conn_fail(w, slot);
		return;
	}
	/* free what was sent; a short send leaves the head buffer's tail */
	uint32_t left = (uint32_t)cqe->res;
	while (left) {
		int32_t b = c->qhead;
		uint32_t len = w->bend[b] - w->boff[b];
		if (left < len) {
			w->boff[b] += left;
			break;
		}
		left -= len;
		c->qhead = w->bnext[b];
		if (c->qhead < 0)
			c->qtail = -1;
		recycle(w, (unsigned)b);
	}
	if (c->flags & C_ERROR)
		maybe_close(w, slot);
	else if (c->qhead >= 0)
		want_flush(w, slot);
	else if (c->flags & C_EOF)
		maybe_close(w, slot);
}

static void handle(struct worker *w, struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	unsigned op = (unsigned)(data >> 56);
	uint32_t gen = (uint32_t)(data >> 32) & 0xffffffu;
	uint32_t slot = (uint32_t)data;

	switch (op) {
	case OP_ACCEPT:
		on_accept(w, cqe);
		return;
	case OP_STOP:
		w->stop = 1;
		return;
	case OP_CLOSE:
	case OP_CANCEL:
		return;		/* only failures reach here; nothing to do */
	}
	if (slot >= w->nslots || (w->conns[slot].gen & 0xffffffu) != gen) {
		/* cannot happen: a slot is closed only when idle; keep the buffer */
		if (cqe->flags & IORING_CQE_F_BUFFER) {
			w->nfree--;
			recycle(w, cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		}
		return;
	}
	if (op == OP_RECV)
		on_recv(w, slot, cqe);
	else if (op == OP_SEND)
		on_send(w, slot, cqe);
}

/* Re-arms starved connections, a few per batch as buffers come back. */
static void feed_starved(struct worker *w)
{
	if (!w->nstarved || w->nfree < w->nbufs / 16)
		return;
	unsigned n = w->nfree / 4;
	while (n-- && w->starved_head >= 0) {
		uint32_t slot = (uint32_t)w->starved_head;
		starved_del(w, slot);
		arm_recv(w, slot);
	}
}

static void flush_sends(struct worker *w)
{
	for (unsigned i = 0; i < w->nflush; i++) {
		uint32_t slot = w->flush[i];
		struct conn *c = &w->conns[slot];
		c->flags &= ~C_FLUSH;
		if ((c->flags & (C_OPEN | C_SEND | C_ERROR)) == C_OPEN && c->qhead >= 0)
			send_start(w, slot);
	}
	w->nflush = 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int rc = worker_setup(w);
	if (rc == 0) {
		struct io_uring_sqe *sqe = get_sqe(w);
		io_uring_prep_poll_add(sqe, w->stopfd, POLLIN);
		io_uring_sqe_set_data64(sqe, ud(OP_STOP, 0, 0));
		arm_accept(w);
		rc = io_uring_submit(&w->ring);
		if (rc < 0)
			snprintf(w->errbuf, sizeof(w->errbuf), "io_uring_submit: %s", strerror(-rc));
	}
	pthread_mutex_lock(&ready_mu);
	w->err = rc < 0;
	nready++;
	pthread_cond_broadcast(&ready_cv);
	pthread_mutex_unlock(&ready_mu);
	if (rc < 0)
		return NULL;

	struct io_uring_cqe *cqes[CQE_BATCH];
	while (!w->stop) {
		rc = io_uring_submit_and_wait(&w->ring, 1);
		if (rc < 0 && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN &&
		    rc != -ETIME) {
			fprintf(stderr, "raw_uring_echo: io_uring_submit_and_wait: %s\n",
				strerror(-rc));
			break;
		}
		unsigned n;
		do {
			n = io_uring_peek_batch_cqe(&w->ring, cqes, CQE_BATCH);
			for (unsigned i = 0; i < n; i++)
				handle(w, cqes[i]);
			io_uring_cq_advance(&w->ring, n);
		} while (n == CQE_BATCH);
		publish_buffers(w);
		feed_starved(w);
		flush_sends(w);
	}
	return NULL;
}

/* --- main -------------------------------------------------------------------------- */

static unsigned parse_size(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end == 'k' || *end == 'K')
		v *= 1024, end++;
	return *end ? 0 : (unsigned)v;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: raw_uring_echo [-t THREADS] [-b BUFSIZE] [-n NBUFS] HOST:PORT\n"
		"  -t THREADS  threads, each with its own ring and SO_REUSEPORT listener (1)\n"
		"  -b BUFSIZE  provided buffer size, k suffix allowed (64k)\n"
		"  -n NBUFS    provided buffers per thread, a power of two <= 32768 (4096)\n"
		"Port 0 picks a free port. Prints \"listening on HOST:PORT\" once ready;\n"
		"runs until SIGINT or SIGTERM.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int nthreads = 1, opt;
	while ((opt = getopt(argc, argv, "t:b:n:h")) != -1) {
		switch (opt) {
		case 't':
			nthreads = atoi(optarg);
			if (nthreads < 1 || nthreads > MAX_THREADS)
				usage();
			break;
		case 'b':
			opt_buf_size = parse_size(optarg);
			if (opt_buf_size < 512 || opt_buf_size > (1u << 20))
				usage();
			break;
		case 'n':
			opt_nbufs = parse_size(optarg);
			if (!opt_nbufs || opt_nbufs > 32768 || (opt_nbufs & (opt_nbufs - 1)))
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	char host[128];
	uint16_t port;
	if (raw_split_addr(argv[optind], host, sizeof(host), &port) < 0)
		usage();

	/* signals go to main's sigwait only; SIGPIPE nowhere */
	sigset_t set;
	raw_process_setup(&set);

	int stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stopfd < 0) {
		perror("raw_uring_echo: eventfd");
		return 1;
	}
	struct worker *ws = calloc((size_t)nthreads, sizeof(*ws));
	pthread_t *tids = calloc((size_t)nthreads, sizeof(*tids));
	if (!ws || !tids)
		return 1;
	for (int i = 0; i < nthreads; i++) {
		ws[i].id = i;
		ws[i].stopfd = stopfd;
		/* the first bind picks the port when it is 0; the others share it */
		ws[i].lfd = raw_listen("raw_uring_echo", host, &port, 0);
		if (ws[i].lfd < 0)
			return 1;
	}
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&tids[i], NULL, worker_main, &ws[i]) != 0) {
			fprintf(stderr, "raw_uring_echo: pthread_create failed\n");
			return 1;
		}
	}
	pthread_mutex_lock(&ready_mu);
	while (nready < nthreads)
		pthread_cond_wait(&ready_cv, &ready_mu);
	pthread_mutex_unlock(&ready_mu);
	for (int i = 0; i < nthreads; i++) {
		if (ws[i].err) {
			fprintf(stderr, "raw_uring_echo: thread %d: %s\n", i, ws[i].errbuf);
			return 1;
		}
	}
	fprintf(stderr, "raw_uring_echo: %d thread(s), ring %s, %u buffers of %u bytes each\n",
		nthreads, ws[0].setup, ws[0].nbufs, ws[0].buf_size);
	raw_print_listening(host, port);

	int sig;
	sigwait(&set, &sig);
	uint64_t one = 1;
	if (write(stopfd, &one, sizeof(one)) < 0)
		return 1;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(tids[i], NULL);
		fprintf(stderr,
			"raw_uring_echo: thread %d: %llu accepted, %llu bytes echoed, %llu sends, "
			"%llu ENOBUFS\n",
			i, ws[i].accepted, ws[i].bytes, ws[i].sends, ws[i].enobufs);
	}
	free(tids);
	free(ws);
	return 0;
}
