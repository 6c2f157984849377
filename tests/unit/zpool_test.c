/*
 * The permessage-deflate worker pool, through an embedded server with every
 * message sent to the pool (deflate_inline_max 0): compressed echoes come
 * back whole and in order, mixed with messages that skip the pool and with
 * pings; a reactor whose share of the pool is taken holds its readers and
 * loses nothing; messages inflated in the pool close with the right codes;
 * connections that go away with jobs in the pool leave nothing behind.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ringws.h"
#include "protocol/pmd.h"
#include "wsclient.h"

static atomic_int opens, closes, messages;
static struct rws_server *srv;
static uint16_t port;
static struct rws_server_options opts;

static void on_open(void *ctx, struct rws_conn *c)
{
	(void)ctx, (void)c;
	atomic_fetch_add(&opens, 1);
}

static void on_message(void *ctx, struct rws_conn *c, const void *data, size_t len, int is_text)
{
	(void)ctx;
	atomic_fetch_add(&messages, 1);
	rws_conn_send(c, data, len, is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY);
}

static void on_close(void *ctx, struct rws_conn *c, int code, const char *r, size_t n)
{
	(void)ctx, (void)c, (void)code, (void)r, (void)n;
	atomic_fetch_add(&closes, 1);
}

static void init(void)
{
	atomic_store(&opens, 0);
	atomic_store(&closes, 0);
	atomic_store(&messages, 0);
	rws_server_options_default(&opts);
	opts.port = 0;
	opts.threads = 1;
	opts.deflate = 1;
	opts.deflate_threshold = 64;
	opts.deflate_inline_max = 0;	/* everything through the pool */
	opts.deflate_concurrency = 2;
}

static void start(void)
{
	static struct rws_handler h;
	h = (struct rws_handler){ .struct_size = sizeof(h), .on_open = on_open,
				  .on_message = on_message, .on_close = on_close };
	int err;
	char eb[256];
	srv = rws_server_create(&opts, &err, eb, sizeof(eb));
	cr_assert_not_null(srv, "create: %s", eb);
	cr_assert_eq(rws_server_route(srv, "/", &h), 0);
	cr_assert_eq(rws_server_start(srv, eb, sizeof(eb)), 0, "start: %s", eb);
	port = rws_server_port(srv);
}

static void stop(void)
{
	if (srv)
		rws_server_destroy(srv);
	srv = NULL;
}

TestSuite(zpool, .init = init, .fini = stop, .timeout = 120);

static int open_deflate(void)
{
	int fd = wsc_connect(port, 10000);
	cr_assert_geq(fd, 0);
	char head[2048];
	cr_assert_eq(wsc_upgrade(fd, "/", "Sec-WebSocket-Extensions: permessage-deflate\r\n", head,
				 sizeof(head)), 101);
	cr_assert_not_null(strstr(head, "permessage-deflate"), "%s", head);
	return fd;
}

/* Message i of a connection's sequence: its size cycles through sizes that
 * stay below the threshold, sizes the pool compresses, and a large one;
 * the content names i, so a message out of place is seen. */
static size_t msg_size(int i)
{
	static const size_t sizes[] = { 20, 3000, 100, 70000, 40, 9000 };
	return sizes[i % 6];
}

static void msg_fill(uint8_t *p, size_t n, int i)
{
	for (size_t k = 0; k < n; k++)
		p[k] = (uint8_t)('a' + (k / 7 + (size_t)i) % 26);
	int m = snprintf((char *)p, n, "#%d#", i);
	if (m > 0 && (size_t)m < n)
		p[m] = '.';
}

struct writer {
	int fd;
	int count;
	int compress_some;	/* every third message goes compressed (RSV1) */
	int pings;		/* a ping after every fifth message */
	int rc;
};

static void *write_all(void *arg)
{
	struct writer *w = arg;
	struct rws_pmd_compressor *z = rws_pmd_compressor_new(1);
	uint8_t *buf = malloc(80000), *zb = malloc(80000);
	w->rc = 0;
	for (int i = 0; i < w->count && w->rc == 0; i++) {
		size_t n = msg_size(i);
		msg_fill(buf, n, i);
		long zn = -1;
		if (w->compress_some && i % 3 == 0 && n >= 64)
			zn = rws_pmd_compress(z, buf, n, zb, 80000);
		if (zn > 0)
			w->rc = wsc_send_frame(w->fd, 0x80 | 0x40 | 0x1, zb, (size_t)zn);
		else
			w->rc = wsc_send_frame(w->fd, 0x81, buf, n);
		if (w->rc == 0 && w->pings && i % 5 == 4)
			w->rc = wsc_send_frame(w->fd, 0x89, "p", 1);
	}
	free(buf);
	free(zb);
	rws_pmd_compressor_free(z);
	return NULL;
}

/* Reads count echoes (and any pongs) and checks each against the sequence. */
static void read_all(int fd, int count, int *pongs)
{
	struct rws_pmd_decompressor *d = rws_pmd_decompressor_new();
	uint8_t *want = malloc(80000);
	int got = 0, compressed = 0;
	while (got < count) {
		struct wsc_frame f;
		cr_assert_eq(wsc_recv_frame(fd, &f), 1, "echo %d of %d did not come", got, count);
		if ((f.b0 & 0x0f) == 0xA) {
			(*pongs)++;
			free(f.data);
			continue;
		}
		cr_assert_eq(f.b0 & 0xbf, 0x81, "echo %d: a whole text frame, b0 0x%x", got, f.b0);
		uint8_t *p = f.data;
		size_t n = f.len;
		uint8_t *out = NULL;
		if (f.b0 & 0x40) {
			cr_assert_eq(rws_pmd_decompress(d, f.data, f.len, 1 << 20, NULL, &out, &n), 0,
				     "echo %d inflates", got);
			p = out;
			compressed++;
		}
		size_t wn = msg_size(got);
		msg_fill(want, wn, got);
		cr_assert_eq(n, wn, "echo %d: %zu bytes, sent %zu", got, n, wn);
		cr_assert(memcmp(p, want, n) == 0, "echo %d is not message %d: %.12s", got, got, p);
		if (wn < 64)
			cr_assert_eq(f.b0 & 0x40, 0, "echo %d is below the threshold", got);
		free(out);
		free(f.data);
		got++;
	}
	cr_assert_gt(compressed, count / 3, "the pool compressed (%d of %d)", compressed, count);
	free(want);
	rws_pmd_decompressor_free(d);
}

static void close_1000(int fd)
{
	uint8_t code[2] = { 0x03, 0xe8 };
	cr_assert_eq(wsc_send_frame(fd, 0x88, code, 2), 0);
	cr_assert_eq(wsc_expect_close(fd), 1000);
	close(fd);
}

/* w's messages written by a thread of their own while the echoes are read
 * and checked here; returns the pongs seen meanwhile */
static int pipelined_echoes(struct writer *w)
{
	pthread_t t;
	pthread_create(&t, NULL, write_all, w);
	int pongs = 0;
	read_all(w->fd, w->count, &pongs);
	pthread_join(t, NULL);
	cr_assert_eq(w->rc, 0);
	return pongs;
}

/* Messages of every size, some sent compressed, with pings between them,
 * all written before any echo is read: each echo comes back in order, and
 * the close frame after the last one */
Test(zpool, order_kept_through_the_pool)
{
	start();
	int fd = open_deflate();
	struct writer w = { .fd = fd, .count = 300, .compress_some = 1, .pings = 1 };
	int pongs = pipelined_echoes(&w);
	/* the last pongs may follow the last echo */
	while (pongs < w.count / 5) {
		struct wsc_frame f;
		cr_assert_eq(wsc_recv_frame(fd, &f), 1, "pong %d of %d", pongs, w.count / 5);
		cr_assert_eq(f.b0, 0x8A);
		free(f.data);
		pongs++;
	}
	close_1000(fd);
}

/* One worker, so the reactor's share (two jobs) is taken at once: the rest
 * wait in its backlog while it stops reading those connections; four
 * connections each pipelining 150 messages still get every echo, in order */
Test(zpool, backlog_holds_readers_and_loses_nothing)
{
	opts.deflate_concurrency = 1;
	opts.max_buffered = 0;
	start();
	enum { N = 4 };
	int fds[N];
	struct writer w[N];
	pthread_t t[N];
	for (int i = 0; i < N; i++) {
		fds[i] = open_deflate();
		w[i] = (struct writer){ .fd = fds[i], .count = 150, .compress_some = i & 1 };
		pthread_create(&t[i], NULL, write_all, &w[i]);
	}
	for (int i = 0; i < N; i++) {
		int pongs = 0;
		read_all(fds[i], w[i].count, &pongs);
		pthread_join(t[i], NULL);
		cr_assert_eq(w[i].rc, 0);
		close_1000(fds[i]);
	}
}

static uint8_t *compress_of(const void *p, size_t n, size_t *zn)
{
	struct rws_pmd_compressor *z = rws_pmd_compressor_new(1);
	uint8_t *out = malloc(n + 64);
	long r = rws_pmd_compress(z, p, n, out, n + 64);
	rws_pmd_compressor_free(z);
	cr_assert_gt(r, 0);
	*zn = (size_t)r;
	return out;
}

/* What is inflated in the pool is held to the same rules as inline:
 * beyond max_payload 1009, corrupt data 1007, text that is not UTF-8 1007;
 * a good message before each of them is delivered first */
Test(zpool, inflated_in_the_pool_closes_with_the_right_code)
{
	opts.max_payload = 64 * 1024;
	start();
	size_t n = 200000, zn;
	uint8_t *big = calloc(1, n);
	uint8_t *z = compress_of(big, n, &zn);
	int fd = open_deflate();
	cr_assert_eq(wsc_send_frame(fd, 0xC2, z, zn), 0);
	cr_assert_eq(wsc_expect_close(fd), 1009);
	close(fd);
	free(z);

	uint8_t bad[300];
	for (size_t i = 0; i < sizeof(bad); i++)
		bad[i] = (uint8_t)(i * 37 + 11);
	bad[0] = 0xff;	/* a reserved block type */
	fd = open_deflate();
	cr_assert_eq(wsc_send_frame(fd, 0xC2, bad, sizeof(bad)), 0);
	cr_assert_eq(wsc_expect_close(fd), 1007);
	close(fd);

	memset(big, 'x', 5000);
	big[4000] = 0xc3;	/* a lead byte without its continuation */
	z = compress_of(big, 5000, &zn);
	fd = open_deflate();
	uint8_t ok[4000];
	memset(ok, 'y', sizeof(ok));
	size_t okn;
	uint8_t *okz = compress_of(ok, sizeof(ok), &okn);
	cr_assert_eq(wsc_send_frame(fd, 0xC1, okz, okn), 0);
	cr_assert_eq(wsc_send_frame(fd, 0xC1, z, zn), 0);
	struct wsc_frame f;
	cr_assert_eq(wsc_recv_frame(fd, &f), 1);
	cr_assert_eq(f.b0 & 0x0f, 0x1, "the good message's echo first: b0 0x%x", f.b0);
	free(f.data);
	cr_assert_eq(wsc_expect_close(fd), 1007);
	close(fd);
	free(okz);
	free(z);
	free(big);
}

/* Connections that vanish with messages in the pool (and in the backlog):
 * their results are dropped, the server keeps serving, and every
 * connection is accounted for */
Test(zpool, peers_gone_with_jobs_in_the_pool)
{
	opts.deflate_concurrency = 1;
	opts.max_buffered = 0;
	start();
	for (int round = 0; round < 5; round++) {
		int fd = open_deflate();
		uint8_t *p = malloc(70000);
		for (int i = 0; i < 20; i++) {
			msg_fill(p, 70000, i);
			cr_assert_eq(wsc_send_frame(fd, 0x81, p, 70000), 0);
		}
		free(p);
		close(fd);
	}
	for (int i = 0; i < 500 && atomic_load(&closes) < 5; i++)
		usleep(10000);
	cr_assert_eq(atomic_load(&closes), 5);
	int fd = open_deflate();
	struct writer w = { .fd = fd, .count = 12 };
	write_all(&w);
	int pongs = 0;
	read_all(fd, w.count, &pongs);
	close_1000(fd);
}

/* Messages waiting for the pool past max_buffered hold the reading of
 * their connection instead of closing it: a peer that reads its echoes
 * while it pipelines large messages gets them all */
Test(zpool, waiting_for_the_pool_holds_reading_not_closes)
{
	opts.deflate_concurrency = 1;
	opts.max_buffered = 128 * 1024;
	start();
	int fd = open_deflate();
	struct writer w = { .fd = fd, .count = 120 };
	pipelined_echoes(&w);
	close_1000(fd);
}

/* A client that keeps its context (its history window lives in the
 * connection) goes away while its large message is inflated in the pool:
 * the worker's use of the window and the connection's end do not collide
 * (run under ASan in make test), and the server goes on */
Test(zpool, context_window_outlives_its_connection_while_in_the_pool)
{
	opts.deflate_client_context = 1;
	opts.deflate_concurrency = 1;
	start();
	size_t n = 600000, zn;
	uint8_t *m = malloc(n);
	msg_fill(m, n, 7);
	uint8_t *z = compress_of(m, n, &zn);
	for (int round = 0; round < 20; round++) {
		int fd = open_deflate();
		for (int i = 0; i < 3; i++)
			cr_assert_eq(wsc_send_frame(fd, 0xC1, z, zn), 0);
		if (round % 2)
			usleep(1000);
		close(fd);
	}
	for (int i = 0; i < 500 && atomic_load(&closes) < 20; i++)
		usleep(10000);
	cr_assert_eq(atomic_load(&closes), 20);
	int fd = open_deflate();
	cr_assert_eq(wsc_send_frame(fd, 0xC1, z, zn), 0);
	struct wsc_frame f;
	cr_assert_eq(wsc_recv_frame(fd, &f), 1);
	cr_assert_eq(f.b0 & 0x0f, 0x1);
	free(f.data);
	close_1000(fd);
	free(z);
	free(m);
}

/* A handler that stops reading while rws_conn_buffered() is at
 * max_buffered and resumes in on_drain: the two count the same bytes
 * (messages still in the pool included), so it always resumes */
static void bp_message(void *ctx, struct rws_conn *c, const void *data, size_t len, int is_text)
{
	(void)ctx;
	atomic_fetch_add(&messages, 1);
	rws_conn_send(c, data, len, is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY);
	if (rws_conn_buffered(c) >= opts.max_buffered)
		rws_conn_pause(c);
}

static void bp_drain(void *ctx, struct rws_conn *c)
{
	(void)ctx;
	rws_conn_resume(c);
}

Test(zpool, pause_at_buffered_resume_on_drain)
{
	opts.deflate_concurrency = 1;
	opts.max_buffered = 100 * 1024;
	opts.backpressure = RWS_BP_REFUSE;
	static struct rws_handler h;
	h = (struct rws_handler){ .struct_size = sizeof(h), .on_open = on_open,
				  .on_message = bp_message, .on_close = on_close, .on_drain = bp_drain };
	int err;
	char eb[256];
	srv = rws_server_create(&opts, &err, eb, sizeof(eb));
	cr_assert_not_null(srv, "%s", eb);
	cr_assert_eq(rws_server_route(srv, "/", &h), 0);
	cr_assert_eq(rws_server_start(srv, eb, sizeof(eb)), 0, "%s", eb);
	port = rws_server_port(srv);
	int fd = open_deflate();
	struct writer w = { .fd = fd, .count = 90 };
	pipelined_echoes(&w);
	close_1000(fd);
}
