/*
 * server_test: the io_uring runtime through the embedding API
 * (include/ringws.h): a server in this process, driven by a raw socket
 * client (wsclient.c) that sends exactly the bytes each case needs.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ringws.h"
#include "runtime/runtime.h"	/* to look at what an idle connection holds */
#include "wsclient.h"

/* --- a handler that records what happens --------------------------------- */

struct rec {
	atomic_int opens, messages, pings, closes, drains, upgrades;
	atomic_int last_close_code;
	char last_protocol[64];
	char last_ip[64];
	void *last_user;
	struct rws_conn *_Atomic last_conn;
	int reject;		/* on_upgrade: 0 accept, else this status */
	int select;		/* on_upgrade: subprotocol index to select, -2: default */
	int echo;		/* on_message echoes */
	int chat;		/* on_message broadcasts to the others */
	int quiet;		/* on_open asks for nothing (no protocol, no address) */
	unsigned send_flags;	/* added to the echo's flags */
	struct rws_server *srv;
};

static int on_upgrade(void *ctx, struct rws_upgrade *up)
{
	struct rec *r = ctx;
	atomic_fetch_add(&r->upgrades, 1);
	if (r->reject)
		return rws_upgrade_reject(up, r->reject, "go away");
	if (r->select != -2)
		rws_upgrade_select_protocol(up, r->select);
	rws_upgrade_set_user(up, (void *)0x1234);
	return 0;
}

static void on_open(void *ctx, struct rws_conn *c)
{
	struct rec *r = ctx;
	if (!r->quiet) {
		snprintf(r->last_protocol, sizeof(r->last_protocol), "%s", rws_conn_protocol(c));
		snprintf(r->last_ip, sizeof(r->last_ip), "%s", rws_conn_client_ip(c));
	}
	r->last_user = rws_conn_user(c);
	atomic_store(&r->last_conn, c);
	atomic_fetch_add(&r->opens, 1);
}

static void on_message(void *ctx, struct rws_conn *c, const void *data, size_t len, int is_text)
{
	struct rec *r = ctx;
	atomic_fetch_add(&r->messages, 1);
	if (r->echo)
		rws_conn_send(c, data, len, (is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY) | r->send_flags);
	if (r->chat)
		rws_broadcast(r->srv, "/", data, len, is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY, c);
}

static void on_ping(void *ctx, struct rws_conn *c, const void *d, size_t n)
{
	(void)c, (void)d, (void)n;
	atomic_fetch_add(&((struct rec *)ctx)->pings, 1);
}

static void on_close(void *ctx, struct rws_conn *c, int code, const char *reason, size_t n)
{
	(void)c, (void)reason, (void)n;
	struct rec *r = ctx;
	atomic_store(&r->last_close_code, code);
	atomic_fetch_add(&r->closes, 1);
}

static void on_drain(void *ctx, struct rws_conn *c)
{
	(void)c;
	atomic_fetch_add(&((struct rec *)ctx)->drains, 1);
}

static struct rec rec;
static struct rws_handler handler;
static struct rws_server *srv;
static uint16_t port;
static struct rws_server_options opts;

static void init_opts(void)
{
	memset(&rec, 0, sizeof(rec));
	rec.echo = 1;
	rec.select = -2;
	rws_server_options_default(&opts);
	opts.port = 0;
	opts.threads = 1;
	handler = (struct rws_handler){ .struct_size = sizeof(handler), .ctx = &rec,
		.on_upgrade = on_upgrade, .on_open = on_open, .on_message = on_message,
		.on_ping = on_ping, .on_close = on_close, .on_drain = on_drain };
}

static void start(void)
{
	int err;
	char eb[256];
	srv = rws_server_create(&opts, &err, eb, sizeof(eb));
	cr_assert_not_null(srv, "create: %s", eb);
	rec.srv = srv;
	cr_assert_eq(rws_server_route(srv, "/", &handler), 0);
	cr_assert_eq(rws_server_route(srv, "/", &handler), -EEXIST);
	cr_assert_eq(rws_server_start(srv, eb, sizeof(eb)), 0, "start: %s", eb);
	port = rws_server_port(srv);
	cr_assert_neq(port, 0);
}

static void stop(void)
{
	if (srv)
		rws_server_destroy(srv);
	srv = NULL;
}

static void wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 500 && atomic_load(v) < want; i++)
		usleep(10000);
	cr_assert_geq(atomic_load(v), want, "waited for %d, have %d", want, atomic_load(v));
}

TestSuite(server, .init = init_opts, .fini = stop, .timeout = 60);

static void expect_echo(int fd, uint8_t b0, const void *p, size_t n)
{
	cr_assert_eq(wsc_send_frame(fd, b0, p, n), 0);
	struct wsc_frame f;
	cr_assert_eq(wsc_recv_frame(fd, &f), 1);
	cr_assert_eq(f.b0, b0, "opcode byte 0x%x", f.b0);
	cr_assert_eq(f.len, n);
	cr_assert(memcmp(f.data, p, n) == 0, "echo of %zu bytes differs", n);
	free(f.data);
}

Test(server, echoes_every_size)
{
	opts.send_zc_min = 16u << 10;
	start();
	int fd = wsc_open(port, "/");
	cr_assert_geq(fd, 0);
	static const size_t sizes[] = { 0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = malloc(sizes[i] + 1);
		for (size_t k = 0; k < sizes[i]; k++)
			p[k] = (uint8_t)('a' + k % 26);
		expect_echo(fd, 0x81, p, sizes[i]);
		expect_echo(fd, 0x82, p, sizes[i]);
		free(p);
	}
	close(fd);
	/* with send_zc_min at 16 KiB, frames from there up to a pool slot
	 * went zero-copy from registered memory (65535 and 65536, text and
	 * binary: 4 sends) */
	struct rws_reactor_stats st;
	rws_server_stats(srv, &st, 1);
	cr_assert_geq(st.zc_sends, 4, "zero-copy sends: %llu", (unsigned long long)st.zc_sends);
}

/* Many large frames in a row: the pool's 32 slots run out and the rest
 * take the copying path; every byte arrives in order. */
Test(server, large_frames_beyond_the_registered_pool)
{
	opts.max_buffered = 64u << 20;	/* we read nothing until all are sent */
	opts.send_zc_min = 16u << 10;
	start();
	int fd = wsc_open(port, "/");
	size_t n = 100 * 1024;
	uint8_t *p = malloc(n);
	enum { K = 100 };
	for (int k = 0; k < K; k++) {
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)(i + k);
		cr_assert_eq(wsc_send_frame(fd, 0x82, p, n), 0);
	}
	for (int k = 0; k < K; k++) {
		struct wsc_frame f;
		cr_assert_eq(wsc_recv_frame(fd, &f), 1, "frame %d", k);
		cr_assert_eq(f.len, n, "frame %d: %zu bytes, b0 0x%x", k, f.len, f.b0);
		for (size_t i = 0; i < n; i++)
			if (f.data[i] != (uint8_t)(i + k))
				cr_assert_fail("frame %d byte %zu", k, i);
		free(f.data);
	}
	free(p);
	close(fd);
	struct rws_reactor_stats st;
	rws_server_stats(srv, &st, 1);
	cr_assert_gt(st.zc_sends, 0);
}

/* zero copy is off by default: the same large frames all take plain sends */
Test(server, zero_copy_off_by_default)
{
	start();
	int fd = wsc_open(port, "/");
	size_t n = 100 * 1024;
	uint8_t *p = malloc(n);
	memset(p, 7, n);
	expect_echo(fd, 0x82, p, n);
	free(p);
	close(fd);
	struct rws_reactor_stats st;
	rws_server_stats(srv, &st, 1);
	cr_assert_eq(st.zc_sends, 0);
}

Test(server, fragmented_message_and_ping_between)
{
	start();
	int fd = wsc_open(port, "/");
	cr_assert_eq(wsc_send_frame(fd, 0x01, "Hel", 3), 0);
	cr_assert_eq(wsc_send_frame(fd, 0x89, "p", 1), 0);
	cr_assert_eq(wsc_send_frame(fd, 0x80, "lo", 2), 0);
	struct wsc_frame f;
	cr_assert_eq(wsc_recv_frame(fd, &f), 1);
	cr_assert_eq(f.b0, 0x8A, "the pong comes first");
	cr_assert_str_eq((char *)f.data, "p");
	free(f.data);
	cr_assert_eq(wsc_recv_frame(fd, &f), 1);
	cr_assert_eq(f.b0, 0x81);
	cr_assert_str_eq((char *)f.data, "Hello");
	free(f.data);
	wait_for(&rec.pings, 1);
	close(fd);
}

Test(server, close_handshake_both_ways)
{
	start();
	int fd = wsc_open(port, "/");
	cr_assert_eq(wsc_send_frame(fd, 0x88, "\x0f\xa0" "bye", 5), 0);	/* 4000 */
	cr_assert_eq(wsc_expect_close(fd), 4000);
	cr_assert(wsc_eof(fd), "the server closes TCP after the handshake");
	wait_for(&rec.closes, 1);
	cr_assert_eq(atomic_load(&rec.last_close_code), 4000);
	close(fd);

	/* the server closes, from another thread */
	fd = wsc_open(port, "/");
	wait_for(&rec.opens, 2);
	cr_assert_eq(rws_conn_close(atomic_load(&rec.last_conn), 4001, "done"), 0);
	cr_assert_eq(wsc_expect_close(fd), 4001);
	cr_assert_eq(wsc_send_frame(fd, 0x88, "\x0f\xa1", 2), 0);
	cr_assert(wsc_eof(fd));
	wait_for(&rec.closes, 2);
	close(fd);
}

static void expect_fail(const char *what, int code, const void *raw, size_t n)
{
	int fd = wsc_open(port, "/");
	cr_assert_geq(fd, 0);
	cr_assert_eq(wsc_send_raw(fd, raw, n), 0);
	cr_assert_eq(wsc_expect_close(fd), code, "%s", what);
	cr_assert(wsc_eof(fd), "%s: TCP closed after the close frame", what);
	close(fd);
}

Test(server, protocol_errors_get_their_close_codes)
{
	opts.max_payload = 1000;
	start();
	expect_fail("unmasked frame", 1002, "\x81\x02hi", 4);
	expect_fail("reserved opcode", 1002, "\x83\x80\0\0\0\0", 6);
	expect_fail("RSV1 without extension", 1002, "\xc1\x80\0\0\0\0", 6);
	/* invalid UTF-8 in the first bytes of a 1000-byte frame: the rest
	 * never comes, and the close must arrive anyway */
	uint8_t utf[4 + 4 + 8] = { 0x81, 0x80 | 126, 0x03, 0xe8, 0, 0, 0, 0, 'a', 'b', 0xc0, 0xaf };
	expect_fail("invalid UTF-8, fail fast", 1007, utf, 12);
	uint8_t big[8] = { 0x82, 0x80 | 126, 0x03, 0xe9, 0, 0, 0, 0 };	/* 1001 > max */
	expect_fail("over max_payload", 1009, big, sizeof(big));
}

Test(server, http_answers)
{
	start();
	char head[2048];
	struct {
		const char *req;
		int status;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 426 },
		{ "GET /nowhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n", 404 },
		{ "POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 405 },
		{ "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 7\r\n\r\n", 426 },
		{ "GARBAGE\r\n\r\n", 400 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fd = wsc_connect(port, 5000);
		cr_assert_eq(wsc_send_raw(fd, cases[i].req, strlen(cases[i].req)), 0);
		ssize_t n = recv(fd, head, sizeof(head) - 1, MSG_WAITALL);
		cr_assert_gt(n, 0, "case %zu: no answer", i);
		head[n] = 0;
		int st = 0;
		sscanf(head, "HTTP/1.1 %d", &st);
		cr_assert_eq(st, cases[i].status, "case %zu: %s", i, head);
		close(fd);
	}
	/* too large a head: 431 */
	int fd = wsc_connect(port, 5000);
	char *big = malloc(10000);
	memset(big, 'a', 10000);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	cr_assert_eq(wsc_send_raw(fd, big, 10000), 0);
	ssize_t n = recv(fd, head, sizeof(head) - 1, 0);
	cr_assert_gt(n, 0);
	head[n] = 0;
	cr_assert(strncmp(head, "HTTP/1.1 431", 12) == 0, "%s", head);
	free(big);
	close(fd);
}

Test(server, upgrade_hook_rejects_selects_and_attaches)
{
	rec.reject = 401;
	start();
	int fd = wsc_connect(port, 5000);
	char head[2048];
	cr_assert_eq(wsc_upgrade(fd, "/", NULL, head, sizeof(head)), 401);
	char body[64] = { 0 };
	recv(fd, body, sizeof(body) - 1, 0);
	cr_assert_str_eq(body, "go away\n");
	close(fd);
	cr_assert_eq(atomic_load(&rec.opens), 0);

	rec.reject = 0;
	rec.select = 1;
	fd = wsc_connect(port, 5000);
	cr_assert_eq(wsc_upgrade(fd, "/", "Sec-WebSocket-Protocol: first, second\r\n", head,
				 sizeof(head)), 101);
	cr_assert_not_null(strstr(head, "Sec-WebSocket-Protocol: second\r\n"), "%s", head);
	wait_for(&rec.opens, 1);
	cr_assert_str_eq(rec.last_protocol, "second");
	cr_assert_eq(rec.last_user, (void *)0x1234);
	close(fd);

	/* by default the first offered */
	rec.select = -2;
	fd = wsc_connect(port, 5000);
	cr_assert_eq(wsc_upgrade(fd, "/", "Sec-WebSocket-Protocol: first, second\r\n", head,
				 sizeof(head)), 101);
	cr_assert_not_null(strstr(head, "Sec-WebSocket-Protocol: first\r\n"), "%s", head);
	close(fd);
}

Test(server, client_ip_from_a_trusted_proxy_only)
{
	opts.trusted_proxies = "127.0.0.1";
	start();
	int fd = wsc_connect(port, 5000);
	char head[2048];
	cr_assert_eq(wsc_upgrade(fd, "/", "X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n", head,
				 sizeof(head)), 101);
	wait_for(&rec.opens, 1);
	cr_assert_str_eq(rec.last_ip, "203.0.113.7");
	close(fd);
}

Test(server, client_ip_ignores_untrusted_forwarded_for)
{
	start();
	int fd = wsc_connect(port, 5000);
	char head[2048];
	cr_assert_eq(wsc_upgrade(fd, "/", "X-Forwarded-For: 203.0.113.7\r\n", head, sizeof(head)),
		     101);
	wait_for(&rec.opens, 1);
	cr_assert_str_eq(rec.last_ip, "127.0.0.1");
	close(fd);
}

/* An open connection that is not sending holds its 128-byte object and
 * nothing else: no send queue, no conn_ext (issue 4's memory target). */
static int holds_nothing_else(struct rws_conn *c)
{
	for (int i = 0; i < 200; i++) {
		if (!c->tx && !c->x)
			return 1;
		usleep(10000);
	}
	return 0;
}

Test(server, idle_open_connection_holds_only_its_object)
{
	cr_assert_eq(sizeof(struct rws_conn), 128);
	rec.quiet = 1;
	start();
	int fd = wsc_open(port, "/");
	cr_assert_geq(fd, 0);
	wait_for(&rec.opens, 1);
	struct rws_conn *c = atomic_load(&rec.last_conn);
	cr_assert(holds_nothing_else(c), "after the handshake: tx %p x %p", (void *)c->tx,
		  (void *)c->x);
	cr_assert_eq(wsc_send_frame(fd, 0x82, "abc", 3), 0);
	struct wsc_frame f;
	cr_assert_eq(wsc_recv_frame(fd, &f), 1);
	cr_assert_eq(f.len, 3);
	free(f.data);
	cr_assert(holds_nothing_else(c), "after an echo: tx %p x %p", (void *)c->tx, (void *)c->x);
	cr_assert_str_eq(rws_conn_path(c), "/");
	cr_assert_str_eq(rws_conn_protocol(c), "");
	close(fd);
}

Test(server, path_protocol_and_address_kept_when_not_the_defaults)
{
	/* a subprotocol and a path the "*" route caught: kept in the
	 * conn_ext for the connection's life */
	rec.quiet = 1;
	int err;
	char eb[256];
	srv = rws_server_create(&opts, &err, eb, sizeof(eb));
	cr_assert_not_null(srv);
	cr_assert_eq(rws_server_route(srv, "*", &handler), 0);
	cr_assert_eq(rws_server_start(srv, eb, sizeof(eb)), 0, "%s", eb);
	port = rws_server_port(srv);
	int fd = wsc_connect(port, 5000);
	char head[2048];
	cr_assert_eq(wsc_upgrade(fd, "/room/7?x=1", "Sec-WebSocket-Protocol: chat\r\n", head,
				 sizeof(head)), 101);
	wait_for(&rec.opens, 1);
	struct rws_conn *c = atomic_load(&rec.last_conn);
	cr_assert_str_eq(rws_conn_path(c), "/room/7");
	cr_assert_str_eq(rws_conn_protocol(c), "chat");
	cr_assert_str_eq(rws_conn_client_ip(c), "127.0.0.1");
	close(fd);
}

/* permessage-deflate agreed: an echo at or above the threshold goes
 * compressed (RSV1), below it or with RWS_SEND_NO_COMPRESS uncompressed */
static int echo_rsv1(int nocompress, size_t n)
{
	rec.send_flags = nocompress ? RWS_SEND_NO_COMPRESS : 0;
	int fd = wsc_connect(port, 5000);
	char head[2048];
	cr_assert_eq(wsc_upgrade(fd, "/", "Sec-WebSocket-Extensions: permessage-deflate\r\n", head,
				 sizeof(head)), 101);
	cr_assert_not_null(strstr(head, "permessage-deflate"), "%s", head);
	uint8_t *p = malloc(n);
	memset(p, 'a', n);
	cr_assert_eq(wsc_send_frame(fd, 0x82, p, n), 0);
	struct wsc_frame f;
	cr_assert_eq(wsc_recv_frame(fd, &f), 1);
	int rsv1 = (f.b0 & 0x40) != 0;
	if (!rsv1) {
		cr_assert_eq(f.len, n);
		cr_assert_arr_eq(f.data, p, n);
	} else {
		cr_assert_lt(f.len, n, "compressed");
	}
	free(f.data);
	free(p);
	close(fd);
	return rsv1;
}

Test(server, deflate_threshold_and_no_compress_flag)
{
	opts.deflate = 1;
	start();
	cr_assert_eq(echo_rsv1(0, 4096), 1);
	cr_assert_eq(echo_rsv1(0, 1023), 0);
	cr_assert_eq(echo_rsv1(1, 4096), 0);
}

/* A broadcast is compressed once for the recipients that agreed on
 * permessage-deflate; the others get the plain frame */
Test(server, broadcast_compressed_once_for_deflate_peers)
{
	opts.deflate = 1;
	rec.echo = 0;
	rec.chat = 1;
	start();
	char head[2048];
	int fds[3];
	for (int i = 0; i < 3; i++) {
		fds[i] = wsc_connect(port, 5000);
		cr_assert_eq(wsc_upgrade(fds[i], "/", i < 2 ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : NULL,
					 head, sizeof(head)), 101);
	}
	wait_for(&rec.opens, 3);
	size_t n = 4096;
	uint8_t *p = malloc(n);
	memset(p, 'z', n);
	cr_assert_eq(wsc_send_frame(fds[0], 0x82, p, n), 0);
	struct wsc_frame f;
	cr_assert_eq(wsc_recv_frame(fds[1], &f), 1);
	cr_assert(f.b0 & 0x40, "RSV1 for the deflate peer: b0 0x%x", f.b0);
	cr_assert_lt(f.len, n);
	free(f.data);
	cr_assert_eq(wsc_recv_frame(fds[2], &f), 1);
	cr_assert_eq(f.b0, 0x82, "plain for the other: b0 0x%x", f.b0);
	cr_assert_eq(f.len, n);
	cr_assert_arr_eq(f.data, p, n);
	free(f.data);
	free(p);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

Test(server, max_connections_answers_503)
{
	opts.max_connections = 1;
	start();
	int a = wsc_open(port, "/");
	cr_assert_geq(a, 0);
	int b = wsc_connect(port, 5000);
	char head[2048];
	cr_assert_eq(wsc_upgrade(b, "/", NULL, head, sizeof(head)), 503);
	close(b);
	close(a);
}

Test(server, handshake_timeout_drops_silent_peers)
{
	opts.handshake_timeout_ms = 200;
	start();
	int fd = wsc_connect(port, 3000);
	cr_assert_eq(wsc_send_raw(fd, "GET / HTTP/1.1\r\n", 16), 0);
	cr_assert(wsc_eof(fd), "closed after the handshake timeout");
	close(fd);
}

Test(server, close_timeout_drops_a_peer_that_never_answers)
{
	opts.close_timeout_ms = 200;
	start();
	int fd = wsc_open(port, "/");
	wait_for(&rec.opens, 1);
	cr_assert_eq(rws_conn_close(atomic_load(&rec.last_conn), 1000, NULL), 0);
	cr_assert_eq(wsc_expect_close(fd), 1000);
	/* no answer from us: the server gives up */
	cr_assert(wsc_eof(fd));
	wait_for(&rec.closes, 1);
	cr_assert_eq(atomic_load(&rec.last_close_code), 1006);
	close(fd);
}

Test(server, broadcast_reaches_every_other_client_on_both_reactors)
{
	opts.threads = 2;
	rec.echo = 0;
	rec.chat = 1;
	start();
	enum { N = 20 };
	int fds[N];
	for (int i = 0; i < N; i++) {
		fds[i] = wsc_open(port, "/");
		cr_assert_geq(fds[i], 0);
	}
	wait_for(&rec.opens, N);
	cr_assert_eq(wsc_send_frame(fds[0], 0x81, "hello all", 9), 0);
	for (int i = 1; i < N; i++) {
		struct wsc_frame f;
		cr_assert_eq(wsc_recv_frame(fds[i], &f), 1, "client %d", i);
		cr_assert_str_eq((char *)f.data, "hello all");
		free(f.data);
	}
	/* the sender got nothing: its next frame is the echo-less close */
	cr_assert_eq(wsc_send_frame(fds[0], 0x88, "\x03\xe8", 2), 0);
	cr_assert_eq(wsc_expect_close(fds[0]), 1000);
	for (int i = 0; i < N; i++)
		close(fds[i]);
}

static void *shutdown_thread(void *s)
{
	rws_server_shutdown(s);
	return NULL;
}

Test(server, shutdown_sends_1001_to_everyone)
{
	opts.threads = 2;
	start();
	enum { N = 10 };
	int fds[N];
	for (int i = 0; i < N; i++)
		fds[i] = wsc_open(port, "/");
	wait_for(&rec.opens, N);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, shutdown_thread, srv), 0);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(wsc_expect_close(fds[i]), 1001, "client %d", i);
		wsc_send_frame(fds[i], 0x88, "\x03\xe9", 2);
		/* the server waits for our EOF (at most the close timeout) */
		cr_assert_eq(wsc_eof(fds[i]), 1, "client %d: the server closed TCP", i);
		close(fds[i]);
	}
	pthread_join(t, NULL);
	wait_for(&rec.closes, N);
}

struct flood {
	struct rws_conn *_Atomic c;
	int accepted, refused;
	size_t buffered;
};

/* Runs on the connection's reactor: nothing is flushed meanwhile, so the
 * bound is reached after exactly 256 KiB / 64 KiB sends. */
static void flood(struct rws_conn *c, void *arg)
{
	struct flood *f = arg;
	static char chunk[64 * 1024];
	for (int i = 0; i < 10; i++) {
		int rc = rws_conn_send(c, chunk, sizeof(chunk), RWS_SEND_BINARY);
		if (rc == 0)
			f->accepted++;
		else if (rc == -ENOBUFS)
			f->refused++;
	}
	f->buffered = rws_conn_buffered(c);
	atomic_store(&f->c, c);
}

Test(server, backpressure_refuses_then_drains)
{
	opts.max_buffered = 256 * 1024;
	opts.backpressure = RWS_BP_REFUSE;
	start();
	int fd = wsc_open(port, "/");
	wait_for(&rec.opens, 1);
	static struct flood fl;
	cr_assert_eq(rws_foreach(srv, "/", flood, &fl), 0);
	for (int i = 0; i < 500 && !atomic_load(&fl.c); i++)
		usleep(10000);
	cr_assert_eq(fl.accepted, 4, "accepted until 256 KiB were queued");
	cr_assert_eq(fl.refused, 6, "then refused");
	cr_assert_geq(fl.buffered, 4 * 64 * 1024);
	/* everything accepted arrives, and the queue's drain is reported */
	for (int i = 0; i < fl.accepted; i++) {
		struct wsc_frame f;
		cr_assert_eq(wsc_recv_frame(fd, &f), 1);
		cr_assert_eq(f.len, 64 * 1024);
		free(f.data);
	}
	wait_for(&rec.drains, 1);
	close(fd);
}

Test(server, connections_reach_both_reactors)
{
	opts.threads = 2;
	start();
	enum { N = 40 };
	int fds[N];
	for (int i = 0; i < N; i++) {
		fds[i] = wsc_open(port, "/");
		cr_assert_geq(fds[i], 0);
	}
	wait_for(&rec.opens, N);
	struct rws_reactor_stats st[4];
	cr_assert_eq(rws_server_stats(srv, st, 4), 2);
	cr_assert_eq(st[0].accepted + st[1].accepted, N);
	cr_assert_gt(st[0].accepted, 0, "reactor 0 got none of %d", N);
	cr_assert_gt(st[1].accepted, 0, "reactor 1 got none of %d", N);
	cr_assert_eq(st[0].open + st[1].open, N);
	for (int i = 0; i < N; i++)
		close(fds[i]);
}

/* ws's noServer + handleUpgrade: our own listener, part of the request read
 * by us, the rest read by the server after the hand-over */
Test(server, adopts_a_socket_accepted_elsewhere)
{
	start();
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(l, 4), 0);
	socklen_t al = sizeof(a);
	getsockname(l, (struct sockaddr *)&a, &al);
	int fd = wsc_connect(ntohs(a.sin_port), 5000);
	int s = accept(l, NULL, NULL);
	cr_assert_geq(s, 0);
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
				  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				  "Sec-WebSocket-Version: 13\r\n\r\n";
	size_t half = 20;
	cr_assert_eq(wsc_send_raw(fd, req, half), 0);
	char got[64];
	ssize_t n = recv(s, got, sizeof(got), 0);
	cr_assert_eq(n, (ssize_t)half);
	cr_assert_eq(rws_server_adopt(srv, s, got, (size_t)n), 0);
	cr_assert_eq(wsc_send_raw(fd, req + half, sizeof(req) - 1 - half), 0);
	char head[1024];
	size_t hl = 0;
	while (hl < sizeof(head) - 1 && (hl < 4 || memcmp(head + hl - 4, "\r\n\r\n", 4) != 0)) {
		cr_assert_eq(recv(fd, head + hl, 1, 0), 1);
		hl++;
	}
	head[hl] = 0;
	cr_assert(strncmp(head, "HTTP/1.1 101", 12) == 0, "%s", head);
	expect_echo(fd, 0x81, "adopted", 7);
	close(fd);
	close(l);
	cr_assert_eq(rws_server_adopt(srv, -1, NULL, 0), -EINVAL);
}

/* A buffer ring far too small for the traffic: receives end with -ENOBUFS
 * and are re-armed; no byte is lost and no connection stalls. */
Test(server, running_out_of_receive_buffers_loses_nothing)
{
	opts.recv_buffers = 4;
	opts.recv_buffer_size = 1024;
	start();
	enum { N = 8 };
	int fds[N];
	for (int i = 0; i < N; i++) {
		fds[i] = wsc_open(port, "/");
		cr_assert_geq(fds[i], 0);
	}
	size_t n = 256 * 1024;
	uint8_t *p = malloc(n);
	for (size_t k = 0; k < n; k++)
		p[k] = (uint8_t)(k * 31);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++)
			cr_assert_eq(wsc_send_frame(fds[i], 0x82, p, n), 0);
		for (int i = 0; i < N; i++) {
			struct wsc_frame f;
			cr_assert_eq(wsc_recv_frame(fds[i], &f), 1, "client %d round %d", i, round);
			cr_assert_eq(f.len, n);
			cr_assert(memcmp(f.data, p, n) == 0);
			free(f.data);
		}
	}
	struct rws_reactor_stats st;
	rws_server_stats(srv, &st, 1);
	cr_assert_gt(st.enobufs, 0, "the ring never ran dry: the test tests nothing");
	free(p);
	for (int i = 0; i < N; i++)
		close(fds[i]);
}

Test(server, bad_buffer_options_are_refused)
{
	int err;
	char eb[256];
	opts.recv_buffers = 1000;
	cr_assert_null(rws_server_create(&opts, &err, eb, sizeof(eb)));
	cr_assert_eq(err, -EINVAL);
	cr_assert_not_null(strstr(eb, "power of two"), "%s", eb);
}

/* --- the calls a handler makes ------------------------------------------ */

static void on_message_calls(void *ctx, struct rws_conn *c, const void *data, size_t len,
			     int is_text)
{
	(void)ctx, (void)is_text;
	if (len == 4 && memcmp(data, "skil", 4) == 0) {
		/* queue a reply, then die before it is flushed */
		rws_conn_send(c, "never", 5, RWS_SEND_TEXT);
		rws_conn_terminate(c);
	} else if (len == 4 && memcmp(data, "kill", 4) == 0) {
		rws_conn_terminate(c);
	} else if (len == 4 && memcmp(data, "ping", 4) == 0) {
		cr_assert_eq(rws_conn_ping(c, "srv", 3), 0);
	} else if (len == 4 && memcmp(data, "frag", 4) == 0) {
		cr_assert_eq(rws_conn_send(c, "one,", 4, RWS_SEND_MORE), 0);
		cr_assert_eq(rws_conn_send(c, "two,", 4, RWS_SEND_MORE), 0);
		cr_assert_eq(rws_conn_send(c, "x", 1, RWS_SEND_BINARY), -EINVAL,
			     "a binary message inside a text one");
		cr_assert_eq(rws_conn_send(c, "three", 5, RWS_SEND_TEXT), 0);
	} else if (len == 5 && memcmp(data, "pause", 5) == 0) {
		rws_conn_pause(c);
	}
	atomic_fetch_add(&rec.messages, 1);
}

static atomic_int pongs;

static void on_pong_count(void *ctx, struct rws_conn *c, const void *d, size_t n)
{
	(void)ctx, (void)c, (void)d, (void)n;
	atomic_fetch_add(&pongs, 1);
}

static void resume_all(struct rws_conn *c, void *arg)
{
	(void)arg;
	rws_conn_resume(c);
}

Test(server, terminate_ping_fragments_pong)
{
	handler.on_message = on_message_calls;
	handler.on_pong = on_pong_count;
	start();
	int fd = wsc_open(port, "/");
	struct wsc_frame f;

	cr_assert_eq(wsc_send_frame(fd, 0x81, "frag", 4), 0);
	static const uint8_t want[3] = { 0x01, 0x00, 0x80 };
	static const char *parts[3] = { "one,", "two,", "three" };
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(wsc_recv_frame(fd, &f), 1);
		cr_assert_eq(f.b0, want[i], "fragment %d: 0x%x", i, f.b0);
		cr_assert_str_eq((char *)f.data, parts[i]);
		free(f.data);
	}

	cr_assert_eq(wsc_send_frame(fd, 0x81, "ping", 4), 0);
	cr_assert_eq(wsc_recv_frame(fd, &f), 1);
	cr_assert_eq(f.b0, 0x89);
	cr_assert_str_eq((char *)f.data, "srv");
	free(f.data);
	cr_assert_eq(wsc_send_frame(fd, 0x8A, "srv", 3), 0);
	wait_for(&pongs, 1);

	cr_assert_eq(wsc_send_frame(fd, 0x81, "kill", 4), 0);
	cr_assert(wsc_eof(fd), "terminate drops the connection without a close frame");
	wait_for(&rec.closes, 1);
	cr_assert_eq(atomic_load(&rec.last_close_code), 1006);
	close(fd);
}

Test(server, pause_stops_reading_until_resume)
{
	handler.on_message = on_message_calls;
	start();
	int fd = wsc_open(port, "/");
	cr_assert_eq(wsc_send_frame(fd, 0x81, "pause", 5), 0);
	wait_for(&rec.messages, 1);
	cr_assert_eq(wsc_send_frame(fd, 0x81, "after", 5), 0);
	usleep(300000);
	cr_assert_eq(atomic_load(&rec.messages), 1, "a paused connection delivered a message");
	cr_assert_eq(rws_foreach(srv, "/", resume_all, NULL), 0);
	wait_for(&rec.messages, 2);
	close(fd);
}

/* rws_conn_send from a thread that is not the connection's reactor */
Test(server, send_from_another_thread)
{
	rec.echo = 0;
	start();
	int fd = wsc_open(port, "/");
	wait_for(&rec.opens, 1);
	struct rws_conn *c = atomic_load(&rec.last_conn);
	cr_assert_eq(rws_conn_send(c, "from outside", 12, RWS_SEND_TEXT), 0);
	cr_assert_eq(rws_conn_send(c, "\x01\x02", 2, RWS_SEND_BINARY), 0);
	struct wsc_frame f;
	cr_assert_eq(wsc_recv_frame(fd, &f), 1);
	cr_assert_eq(f.b0, 0x81);
	cr_assert_str_eq((char *)f.data, "from outside");
	free(f.data);
	cr_assert_eq(wsc_recv_frame(fd, &f), 1);
	cr_assert_eq(f.b0, 0x82);
	cr_assert_eq(f.len, 2);
	free(f.data);
	close(fd);
}

/* A connection terminated with a reply still queued (on the reactor's flush
 * list) must not stall the other connections' sends. */
Test(server, terminate_with_a_reply_queued_stalls_no_one)
{
	handler.on_message = on_message_calls;
	start();
	enum { N = 6 };
	int fds[N];
	for (int i = 0; i < N; i++)
		fds[i] = wsc_open(port, "/");
	for (int round = 0; round < 20; round++) {
		/* one write per client, then the victim's "skil" among them */
		for (int i = 1; i < N; i++)
			cr_assert_eq(wsc_send_frame(fds[i], 0x81, "ping", 4), 0);
		int v = wsc_open(port, "/");
		cr_assert_eq(wsc_send_frame(v, 0x81, "skil", 4), 0);
		for (int i = 1; i < N; i++) {
			struct wsc_frame f;
			cr_assert_eq(wsc_recv_frame(fds[i], &f), 1, "client %d stalled in round %d", i, round);
			cr_assert_eq(f.b0, 0x89);
			free(f.data);
			cr_assert_eq(wsc_send_frame(fds[i], 0x8A, "srv", 3), 0);
		}
		cr_assert(wsc_eof(v));
		close(v);
	}
	for (int i = 0; i < N; i++)
		close(fds[i]);
}

/* A broadcast recipient that does not read is closed with 1008 once its
 * queue is over the bound; the others keep receiving. */
Test(server, broadcast_closes_a_recipient_that_cannot_keep_up)
{
	opts.max_buffered = 64 * 1024;
	rec.echo = 0;
	start();
	int slow = wsc_open(port, "/");
	int fast = wsc_open(port, "/");
	wait_for(&rec.opens, 2);
	/* 24 MiB in all: more than loopback's socket buffers can hold for the
	 * slow one, which reads nothing */
	static char msg[16 * 1024];
	for (int i = 0; i < 1536; i++) {
		cr_assert_eq(rws_broadcast(srv, "/", msg, sizeof(msg), RWS_SEND_BINARY, NULL), 0);
		struct wsc_frame f;
		cr_assert_eq(wsc_recv_frame(fast, &f), 1, "the fast client stalled at %d", i);
		cr_assert_eq(f.len, sizeof(msg));
		free(f.data);
	}
	/* the slow client finds, after the messages that fit, a 1008 close */
	cr_assert_eq(wsc_expect_close(slow), 1008);
	close(slow);
	close(fast);
}

static int connect6(uint16_t p)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(p) };
	a.sin6_addr = in6addr_loopback;
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Whether this host has ::1 (a container may not). */
static int have_ipv6_loopback(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	a.sin6_addr = in6addr_loopback;
	int ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

Test(server, several_listen_addresses)
{
	int err;
	char eb[256];
	opts.threads = 2;
	srv = rws_server_create(&opts, &err, eb, sizeof(eb));
	cr_assert_not_null(srv);
	rec.srv = srv;
	cr_assert_eq(rws_server_route(srv, "/", &handler), 0);
	cr_assert_eq(rws_server_listen(srv, "127.0.0.1", 0), 1);
	int has_v6 = have_ipv6_loopback();
	if (has_v6)
		cr_assert_eq(rws_server_listen(srv, "::1", 0), 2);
	cr_assert_eq(rws_server_listen(srv, "not-an-ip", 0), has_v6 ? 3 : 2);
	cr_assert_neq(rws_server_start(srv, eb, sizeof(eb)), 0, "a bad address must fail the start");
	cr_assert_not_null(strstr(eb, "not-an-ip"), "%s", eb);
	rws_server_destroy(srv);

	srv = rws_server_create(&opts, &err, eb, sizeof(eb));
	rec.srv = srv;
	cr_assert_eq(rws_server_route(srv, "/", &handler), 0);
	cr_assert_eq(rws_server_listen(srv, "127.0.0.1", 0), 1);
	if (has_v6)
		cr_assert_eq(rws_server_listen(srv, "::1", 0), 2);
	cr_assert_eq(rws_server_start(srv, eb, sizeof(eb)), 0, "%s", eb);
	uint16_t p0 = rws_server_port(srv), p1 = rws_server_port_at(srv, 1);
	cr_assert(p0 && p1 && p0 != p1);
	int fd = wsc_open(p0, "/");
	expect_echo(fd, 0x81, "first", 5);
	close(fd);
	fd = wsc_open(p1, "/");
	expect_echo(fd, 0x81, "second", 6);
	close(fd);
	if (has_v6) {
		fd = connect6(rws_server_port_at(srv, 2));
		cr_assert_geq(fd, 0, "::1 listener");
		char head[2048];
		cr_assert_eq(wsc_upgrade(fd, "/", NULL, head, sizeof(head)), 101);
		expect_echo(fd, 0x82, "six", 3);
		close(fd);
	}
}

/* A peer that sends pings and never reads cannot grow the send queue: past
 * the bound the default policy closes it with 1008. */
Test(server, ping_flood_without_reading_is_bounded)
{
	opts.max_buffered = 64 * 1024;
	start();
	int fd = wsc_open(port, "/");
	/* a small receive buffer so the pongs pile up on the server */
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	uint8_t ping[2 + 4 + 125];
	ping[0] = 0x89;
	ping[1] = 0x80 | 125;
	memset(ping + 2, 0, 4 + 125);	/* zero key: payload as is */
	static uint8_t burst[sizeof(ping) * 1000];
	for (int i = 0; i < 1000; i++)
		memcpy(burst + i * sizeof(ping), ping, sizeof(ping));
	/* ~13 MiB of pongs owed if all were answered; stop once the server
	 * stops reading us */
	for (int i = 0; i < 100; i++)
		if (wsc_send_raw(fd, burst, sizeof(burst)) < 0)
			break;
	wait_for(&rec.pings, 1000);
	cr_assert_eq(wsc_expect_close(fd), 1008, "the flooder is closed with 1008");
	close(fd);
}

static atomic_int hold_reactor;

static void on_message_hold(void *ctx, struct rws_conn *c, const void *d, size_t n, int t)
{
	(void)ctx, (void)c, (void)d, (void)n, (void)t;
	atomic_fetch_add(&rec.messages, 1);
	while (atomic_load(&hold_reactor))
		usleep(1000);
}

/* Sends posted from another thread are bounded too: while the owner is
 * busy, the inbox takes 64 MiB and then refuses with -ENOBUFS. */
Test(server, posted_sends_are_bounded)
{
	handler.on_message = on_message_hold;
	start();
	int fd = wsc_open(port, "/");
	wait_for(&rec.opens, 1);
	struct rws_conn *c = atomic_load(&rec.last_conn);
	atomic_store(&hold_reactor, 1);
	cr_assert_eq(wsc_send_frame(fd, 0x81, "hold", 4), 0);
	wait_for(&rec.messages, 1);	/* the reactor is now stuck in the callback */
	static char mib[1 << 20];
	int ok = 0, refused = 0;
	for (int i = 0; i < 70; i++) {
		int rc = rws_conn_send(c, mib, sizeof(mib), RWS_SEND_BINARY);
		if (rc == 0)
			ok++;
		else if (rc == -ENOBUFS)
			refused++;
	}
	atomic_store(&hold_reactor, 0);
	cr_assert_eq(ok, 64, "posted %d", ok);
	cr_assert_eq(refused, 6);
	close(fd);
}

static char qp_token[32], qp_flag[8];
static int qp_missing_null, qp_prefix_null, qp_flag_seen;

static int on_upgrade_params(void *ctx, struct rws_upgrade *up)
{
	(void)ctx;
	size_t n;
	const char *v = rws_upgrade_query_param(up, "token", &n);
	if (v)
		snprintf(qp_token, sizeof(qp_token), "%.*s", (int)n, v);
	v = rws_upgrade_query_param(up, "flag", &n);
	qp_flag_seen = v != NULL;
	if (v)
		snprintf(qp_flag, sizeof(qp_flag), "%.*s", (int)n, v);
	qp_missing_null = rws_upgrade_query_param(up, "missing", &n) == NULL;
	qp_prefix_null = rws_upgrade_query_param(up, "tok", &n) == NULL;
	return rws_upgrade_reject(up, 403, "checked");
}

Test(server, query_parameters_for_on_upgrade)
{
	handler.on_upgrade = on_upgrade_params;
	start();
	int fd = wsc_connect(port, 5000);
	char head[2048];
	cr_assert_eq(wsc_upgrade(fd, "/?x=1&token=a%20b&flag&token=second", NULL, head, sizeof(head)),
		     403);
	close(fd);
	cr_assert_str_eq(qp_token, "a%20b", "the first token=, as sent");
	cr_assert(qp_flag_seen);
	cr_assert_str_eq(qp_flag, "");
	cr_assert(qp_missing_null);
	cr_assert(qp_prefix_null, "a prefix of a name is not the name");
}
