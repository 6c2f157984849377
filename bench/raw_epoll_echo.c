/*
 * raw_epoll_echo: a raw TCP echo server on epoll, the readiness-model
 * baseline bench/run sets beside raw_uring_echo and ringwsd. Whatever
 * arrives on a connection is sent back on it, in order.
 *
 *   raw_epoll_echo [-t THREADS] HOST:PORT
 *
 * Each thread owns one epoll instance, one SO_REUSEPORT listener and the
 * connections accepted on it. Sockets are non-blocking and level-triggered:
 * one read per readiness event into the thread's buffer (a full buffer
 * leaves the socket readable, so the next epoll_wait comes back to it after
 * the other ready sockets had their turn), and the bytes are written
 * straight back. What the socket does not take is copied to the
 * connection's own pending buffer and the connection switches from EPOLLIN
 * to EPOLLOUT: it reads nothing more until the pending bytes are out, which
 * is the flow control. An idle connection holds no buffer.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "raw_common.h"

#define READ_BUF (256 * 1024)
#define MAX_EVENTS 512
#define ACCEPT_BURST 64
#define MAX_THREADS 64

/* Per fd. pend is owned by the connection while it holds unsent bytes. */
struct conn {
	unsigned char *pend;
	uint32_t poff, plen;	/* unsent bytes are pend[poff, plen) */
};

struct worker {
	int id;
	int lfd, stopfd, epfd;
	int accept_paused;
	unsigned nfds;
	struct conn *conns;	/* indexed by fd, mmap'd: touched only as used */
	unsigned char *buf;
	unsigned long long accepted, bytes, stalls;
	int err;
	char errbuf[160];
};

static pthread_mutex_t ready_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cv = PTHREAD_COND_INITIALIZER;
static int nready;

static int ep_set(struct worker *w, int op, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	return epoll_ctl(w->epfd, op, fd, &ev);
}

static void conn_close(struct worker *w, int fd)
{
	struct conn *c = &w->conns[fd];
	free(c->pend);
	c->pend = NULL;
	c->poff = c->plen = 0;
	close(fd);		/* leaves the epoll set with the last reference */
	if (w->accept_paused) {
		w->accept_paused = 0;
		ep_set(w, EPOLL_CTL_MOD, w->lfd, EPOLLIN);
	}
}

static void on_accept(struct worker *w)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(w->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* level-triggered would spin: wait for a close */
				w->accept_paused = 1;
				ep_set(w, EPOLL_CTL_MOD, w->lfd, 0);
			}
			return;
		}
		if ((unsigned)fd >= w->nfds || ep_set(w, EPOLL_CTL_ADD, fd, EPOLLIN) < 0) {
			close(fd);
			continue;
		}
		w->accepted++;
	}
}

/* Writes buf[0, len) and keeps what the socket refused; 0 or -1 to close. */
static int write_or_keep(struct worker *w, int fd, const unsigned char *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		n = 0;
	}
	if ((size_t)n == len)
		return 0;
	struct conn *c = &w->conns[fd];
	size_t rest = len - (size_t)n;
	c->pend = malloc(rest);
	if (!c->pend)
		return -1;
	memcpy(c->pend, buf + n, rest);
	c->poff = 0;
	c->plen = (uint32_t)rest;
	w->stalls++;
	return ep_set(w, EPOLL_CTL_MOD, fd, EPOLLOUT);
}

static void on_readable(struct worker *w, int fd)
{
	ssize_t n = read(fd, w->buf, READ_BUF);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(w, fd);
		return;
	}
	w->bytes += (unsigned long long)n;
	if (write_or_keep(w, fd, w->buf, (size_t)n) < 0)
		conn_close(w, fd);
}

static void on_writable(struct worker *w, int fd)
{
	struct conn *c = &w->conns[fd];
	ssize_t n = send(fd, c->pend + c->poff, c->plen - c->poff, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(w, fd);
		return;
	}
	c->poff += (uint32_t)n;
	if (c->poff < c->plen)
		return;
	free(c->pend);
	c->pend = NULL;
	c->poff = c->plen = 0;
	if (ep_set(w, EPOLL_CTL_MOD, fd, EPOLLIN) < 0)
		conn_close(w, fd);
}

static int worker_setup(struct worker *w)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	w->nfds = rl.rlim_cur > (1u << 20) ? (1u << 20) : (unsigned)rl.rlim_cur;
	w->conns = mmap(NULL, (size_t)w->nfds * sizeof(*w->conns), PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	w->buf = malloc(READ_BUF);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->conns == MAP_FAILED || !w->buf || w->epfd < 0 ||
	    ep_set(w, EPOLL_CTL_ADD, w->lfd, EPOLLIN) < 0 ||
	    ep_set(w, EPOLL_CTL_ADD, w->stopfd, EPOLLIN) < 0) {
		snprintf(w->errbuf, sizeof(w->errbuf), "set-up: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int rc = worker_setup(w);
	pthread_mutex_lock(&ready_mu);
	w->err = rc < 0;
	nready++;
	pthread_cond_broadcast(&ready_cv);
	pthread_mutex_unlock(&ready_mu);
	if (rc < 0)
		return NULL;

	struct epoll_event evs[MAX_EVENTS];
	for (;;) {
		int n = epoll_wait(w->epfd, evs, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "raw_epoll_echo: epoll_wait: %s\n", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == w->stopfd)
				return NULL;
			if (fd == w->lfd)
				on_accept(w);
			else if (w->conns[fd].pend)
				on_writable(w, fd);	/* EPOLLOUT, or an error it will see */
			else
				on_readable(w, fd);
		}
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: raw_epoll_echo [-t THREADS] HOST:PORT\n"
		"  -t THREADS  threads, each with its own epoll and SO_REUSEPORT listener (1)\n"
		"Port 0 picks a free port. Prints \"listening on HOST:PORT\" once ready;\n"
		"runs until SIGINT or SIGTERM.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int nthreads = 1, opt;
	while ((opt = getopt(argc, argv, "t:h")) != -1) {
		if (opt != 't')
			usage();
		nthreads = atoi(optarg);
		if (nthreads < 1 || nthreads > MAX_THREADS)
			usage();
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
	struct worker *ws = calloc((size_t)nthreads, sizeof(*ws));
	pthread_t *tids = calloc((size_t)nthreads, sizeof(*tids));
	if (stopfd < 0 || !ws || !tids) {
		perror("raw_epoll_echo");
		return 1;
	}
	for (int i = 0; i < nthreads; i++) {
		ws[i].id = i;
		ws[i].stopfd = stopfd;
		ws[i].lfd = raw_listen("raw_epoll_echo", host, &port, 1);
		if (ws[i].lfd < 0)
			return 1;
	}
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&tids[i], NULL, worker_main, &ws[i]) != 0) {
			fprintf(stderr, "raw_epoll_echo: pthread_create failed\n");
			return 1;
		}
	}
	pthread_mutex_lock(&ready_mu);
	while (nready < nthreads)
		pthread_cond_wait(&ready_cv, &ready_mu);
	pthread_mutex_unlock(&ready_mu);
	for (int i = 0; i < nthreads; i++) {
		if (ws[i].err) {
			fprintf(stderr, "raw_epoll_echo: thread %d: %s\n", i, ws[i].errbuf);
			return 1;
		}
	}
	raw_print_listening(host, port);

	int sig;
	sigwait(&set, &sig);
	uint64_t one = 1;
	if (write(stopfd, &one, sizeof(one)) < 0)
		return 1;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(tids[i], NULL);
		fprintf(stderr, "raw_epoll_echo: thread %d: %llu accepted, %llu bytes echoed, "
			"%llu writes left pending\n", i, ws[i].accepted, ws[i].bytes, ws[i].stalls);
	}
	free(tids);
	free(ws);
	return 0;
}
