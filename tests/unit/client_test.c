/*
 * The client runtime in-process: rws_connect() against an embedded ringws
 * server (and against small servers of the test's own for the answers a
 * real server would not give): echoes of every size, compressed and not,
 * close codes both ways, subprotocols, redirects and their header
 * stripping, ws+unix://, and every handshake failure reported through
 * on_error with its reason.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ringws.h"
#include "protocol/handshake.h"
#include "clientrec.h"

/* --- the server side: an echo route that records what it saw ------------------- */

struct seen {
	atomic_int opens, closes, last_code;
	char ip[64];		/* the client's address as the server saw it */
	char version[8];	/* its Sec-WebSocket-Version */
	char header[512];	/* the value of the header named in want_header */
	const char *want_header;
	char query[256];
};

static struct seen srv_seen;
static struct rws_server *srv, *cli;
static uint16_t port;

static int srv_upgrade(void *ctx, struct rws_upgrade *up)
{
	struct seen *s = ctx;
	size_t n = 0;
	if (s->want_header) {
		const char *v = rws_upgrade_header(up, s->want_header, &n);
		snprintf(s->header, sizeof(s->header), "%.*s", v ? (int)n : 6, v ? v : "(none)");
	}
	const char *ver = rws_upgrade_header(up, "Sec-WebSocket-Version", &n);
	snprintf(s->version, sizeof(s->version), "%.*s", ver ? (int)n : 0, ver ? ver : "");
	const char *q = rws_upgrade_query(up, &n);
	snprintf(s->query, sizeof(s->query), "%.*s", q ? (int)n : 0, q ? q : "");
	size_t i = 0, len;
	const char *p;
	while ((p = rws_upgrade_protocol(up, i, &len)))
		if (len == 4 && memcmp(p, "chat", 4) == 0)
			return rws_upgrade_select_protocol(up, (int)i);
		else
			i++;
	return 0;
}

static void srv_open(void *ctx, struct rws_conn *c)
{
	struct seen *s = ctx;
	snprintf(s->ip, sizeof(s->ip), "%s", rws_conn_client_ip(c));
	atomic_fetch_add(&s->opens, 1);
}

static void srv_message(void *ctx, struct rws_conn *c, const void *d, size_t n, int is_text)
{
	(void)ctx;
	if (n == 5 && memcmp(d, "close", 5) == 0) {
		rws_conn_close(c, 4001, "asked to");
		return;
	}
	rws_conn_send(c, d, n, is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY);
}

static void srv_close(void *ctx, struct rws_conn *c, int code, const char *r, size_t n)
{
	(void)c, (void)r, (void)n;
	struct seen *s = ctx;
	atomic_store(&s->last_code, code);
	atomic_fetch_add(&s->closes, 1);
}

static struct rws_handler srv_h = { .struct_size = sizeof(struct rws_handler), .ctx = &srv_seen,
	.on_upgrade = srv_upgrade, .on_open = srv_open, .on_message = srv_message,
	.on_close = srv_close };

/* --- the client side ------------------------------------------------------------- */

/* a connection's handler: got_handler, with pause and flood variants */
static struct rws_handler cli_h;

static void cli_open(void *ctx, struct rws_conn *c)
{
	got_handler.on_open(ctx, c);
}

static int wait_flag(struct got *g, int *flag)
{
	return got_wait(g, flag, 0);
}

static int wait_msgs(struct got *g, int n)
{
	return got_wait_msgs(g, n, 10);
}

static uint32_t close_ms;	/* both sides' close timeout; 0: the default */

/* The server (options so, handler h on every path) and the client-only
 * reactors. */
static void start_with(struct rws_server_options *so, const struct rws_handler *h)
{
	cli_h = got_handler;
	memset(&srv_seen, 0, sizeof(srv_seen));
	so->port = 0;
	so->threads = 1;
	if (close_ms)
		so->close_timeout_ms = close_ms;
	int err;
	char eb[256];
	srv = rws_server_create(so, &err, eb, sizeof(eb));
	cr_assert_not_null(srv, "%s", eb);
	cr_assert_eq(rws_server_route(srv, "*", h), 0);
	cr_assert_eq(rws_server_start(srv, eb, sizeof(eb)), 0, "%s", eb);
	port = rws_server_port(srv);
	struct rws_server_options co;
	rws_server_options_default(&co);
	co.listen = 0;
	co.threads = 1;
	if (close_ms)
		co.close_timeout_ms = close_ms;
	cli = rws_server_create(&co, &err, eb, sizeof(eb));
	cr_assert_not_null(cli, "%s", eb);
	cr_assert_eq(rws_server_start(cli, eb, sizeof(eb)), 0, "client reactors: %s", eb);
}

static void start_all(int deflate)
{
	struct rws_server_options o;
	rws_server_options_default(&o);
	o.deflate = deflate;
	start_with(&o, &srv_h);
}

static void stop_all(void)
{
	if (cli)
		rws_server_destroy(cli);
	if (srv)
		rws_server_destroy(srv);
	cli = srv = NULL;
}

TestSuite(client, .fini = stop_all, .timeout = 60);

/* Stops both sides (their callbacks may still touch g) and frees g's copy. */
static void finish(struct got *g)
{
	stop_all();
	free(g->last);
	g->last = NULL;
}

static char *url_of(const char *path)
{
	static char u[128];
	snprintf(u, sizeof(u), "ws://127.0.0.1:%u%s", port, path);
	return u;
}

static void connect_ok(struct got *g, const char *url, const struct rws_client_options *o)
{
	cli_h.ctx = g;
	char eb[256] = "";
	cr_assert_eq(rws_connect(cli, url, o, &cli_h, g, eb, sizeof(eb)), 0, "%s: %s", url, eb);
	cr_assert(wait_flag(g, &g->opened), "%s did not open: failed %d (%d, %d) %s", url, g->failed,
		  g->err, g->status, g->msg);
}

static void echo(struct got *g, size_t n, int text)
{
	uint8_t *p = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++)
		p[i] = text ? (uint8_t)('a' + i % 26) : (uint8_t)(i * 31 + 7);
	int before = g->nmsgs;
	cr_assert_eq(rws_conn_send(g->c, p, n, text ? RWS_SEND_TEXT : RWS_SEND_BINARY), 0);
	cr_assert(wait_msgs(g, before + 1), "no echo of %zu bytes", n);
	pthread_mutex_lock(&g->lock);
	cr_assert_eq(g->last_len, n);
	cr_assert_eq(g->last_text, text);
	cr_assert(n == 0 || memcmp(g->last, p, n) == 0, "echo of %zu differs", n);
	pthread_mutex_unlock(&g->lock);
	free(p);
}

Test(client, echoes_every_size_plain_and_compressed)
{
	for (int deflate = 0; deflate < 2; deflate++) {
		start_all(deflate);
		struct got g;
		got_init(&g);
		connect_ok(&g, url_of("/echo?x=1"), NULL);
		cr_assert_str_eq(srv_seen.query, "x=1");
		size_t sizes[] = { 0, 1, 125, 126, 1023, 1024, 65535, 65536, 70000, 1 << 20,
				   5 << 20 };
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			echo(&g, sizes[i], 1);
			echo(&g, sizes[i], 0);
		}
		rws_conn_close(g.c, 1000, "bye");
		cr_assert(wait_flag(&g, &g.closed));
		cr_assert_eq(g.close_code, 1000);
		for (int i = 0; i < 200 && atomic_load(&srv_seen.closes) < 1; i++)
			usleep(10000);
		cr_assert_eq(atomic_load(&srv_seen.last_code), 1000);
		finish(&g);
	}
}

Test(client, server_close_code_reaches_on_close)
{
	start_all(0);
	struct got g;
	got_init(&g);
	connect_ok(&g, url_of("/"), NULL);
	cr_assert_eq(rws_conn_send(g.c, "close", 5, RWS_SEND_TEXT), 0);
	cr_assert(wait_flag(&g, &g.closed));
	cr_assert_eq(g.close_code, 4001);
	finish(&g);
}

Test(client, subprotocol_origin_and_headers)
{
	start_all(0);
	struct got g;
	got_init(&g);
	struct rws_client_options o;
	rws_client_options_default(&o);
	const char *protos[] = { "other", "chat" };
	const char *hdrs[] = { "X-Test: hello there" };
	o.protocols = protos;
	o.num_protocols = 2;
	o.headers = hdrs;
	o.num_headers = 1;
	o.origin = "http://example.org";
	srv_seen.want_header = "X-Test";
	connect_ok(&g, url_of("/"), &o);
	cr_assert_str_eq(g.protocol, "chat");
	cr_assert_str_eq(srv_seen.header, "hello there");
	finish(&g);
}

Test(client, basic_auth_from_the_url)
{
	start_all(0);
	struct got g;
	got_init(&g);
	srv_seen.want_header = "Authorization";
	char u[160];
	snprintf(u, sizeof(u), "ws://al%%40ice:s3cret@127.0.0.1:%u/", port);
	connect_ok(&g, u, NULL);
	/* base64("al@ice:s3cret") */
	cr_assert_str_eq(srv_seen.header, "Basic YWxAaWNlOnMzY3JldA==");
	finish(&g);
}

static void expect_fail(const char *url, const struct rws_client_options *o, int err,
			int status, const char *words)
{
	struct got g;
	got_init(&g);
	cli_h.ctx = &g;
	char eb[256] = "";
	cr_assert_eq(rws_connect(cli, url, o, &cli_h, &g, eb, sizeof(eb)), 0, "%s", eb);
	cr_assert(wait_flag(&g, &g.failed), "%s: no on_error (opened %d)", url, g.opened);
	cr_assert_eq(g.opened, 0);
	cr_assert_eq(g.err, err, "%s: err %d (%s), wanted %d", url, g.err, g.msg, err);
	cr_assert_eq(g.status, status, "%s: status %d", url, g.status);
	cr_assert(strstr(g.msg, words), "%s: \"%s\" does not say \"%s\"", url, g.msg, words);
}

Test(client, refused_and_unresolvable)
{
	start_all(0);
	/* a port nobody listens on: bind one and close it */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &al);
	close(s);
	char u[64];
	snprintf(u, sizeof(u), "ws://127.0.0.1:%u/", ntohs(a.sin_port));
	expect_fail(u, NULL, -ECONNREFUSED, 0, "cannot connect to 127.0.0.1:");
	expect_fail("ws://no-such-host.invalid/", NULL, -ENOENT, 0, "cannot resolve");
}

Test(client, urls_refused_at_once)
{
	start_all(0);
	struct got g;
	got_init(&g);
	char eb[256];
	const char *bad[][2] = { { "ws://h/#x", "fragment" }, { "http://h/", "unknown scheme" },
				 { "ws://h:0/", "bad port" }, { "ws://h:99999/", "bad port" } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		eb[0] = 0;
		cr_assert_eq(rws_connect(cli, bad[i][0], NULL, &cli_h, &g, eb, sizeof(eb)), -EINVAL);
		cr_assert(strstr(eb, bad[i][1]), "%s: \"%s\"", bad[i][0], eb);
	}
}

/* --- servers of the test's own: one canned answer per connection ------------------- */

struct canned {
	int fd;			/* listening */
	uint16_t port;
	const char *answer;	/* NULL: read the request and say nothing */
	int answers;		/* how many connections to answer */
	int accept_key;		/* the answer has a %s for Sec-WebSocket-Accept */
	char request[4096];	/* the last request seen */
	pthread_t t;
};

static void *canned_main(void *arg)
{
	struct canned *cs = arg;
	for (int i = 0; i < cs->answers; i++) {
		int fd = accept(cs->fd, NULL, NULL);
		if (fd < 0)
			break;
		size_t n = 0;
		while (n < sizeof(cs->request) - 1) {
			ssize_t r = read(fd, cs->request + n, sizeof(cs->request) - 1 - n);
			if (r <= 0)
				break;
			n += (size_t)r;
			cs->request[n] = 0;
			if (strstr(cs->request, "\r\n\r\n"))
				break;
		}
		if (cs->answer) {
			char a[2048], acc[RWS_HS_ACCEPT_LEN + 1] = "";
			/* %u in an answer is replaced by the server's own port, or
			 * with accept_key set, %s by the right accept value */
			const char *k = strstr(cs->request, "Sec-WebSocket-Key: ");
			if (k)
				rws_hs_accept_key(k + 19, strcspn(k + 19, "\r"), acc);
			if (cs->accept_key)
				snprintf(a, sizeof(a), cs->answer, acc);
			else
				snprintf(a, sizeof(a), cs->answer, port);
			ssize_t w = write(fd, a, strlen(a));
			(void)w;
			usleep(100000);
		} else {
			usleep(1500 * 1000);	/* silent */
		}
		close(fd);
	}
	return NULL;
}

static void canned_start(struct canned *cs, const char *answer, int answers)
{
	memset(cs, 0, sizeof(*cs));
	cs->answer = answer;
	cs->answers = answers;
	cs->accept_key = answer && strstr(answer, "%s") != NULL;
	cs->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	cr_assert_eq(bind(cs->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(cs->fd, 8), 0);
	getsockname(cs->fd, (struct sockaddr *)&a, &al);
	cs->port = ntohs(a.sin_port);
	pthread_create(&cs->t, NULL, canned_main, cs);
}

static void canned_stop(struct canned *cs)
{
	shutdown(cs->fd, SHUT_RDWR);
	close(cs->fd);
	pthread_join(cs->t, NULL);
}

static char *canned_url(struct canned *cs)
{
	static char u[64];
	snprintf(u, sizeof(u), "ws://127.0.0.1:%u/", cs->port);
	return u;
}

Test(client, handshake_failures_named)
{
	start_all(0);
	struct canned cs;
	canned_start(&cs, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 1);
	expect_fail(canned_url(&cs), NULL, RWS_CLIENT_E_STATUS, 404, "404 Not Found");
	canned_stop(&cs);

	canned_start(&cs, "HTTP/1.1 503 Busy\r\n\r\n", 1);
	expect_fail(canned_url(&cs), NULL, RWS_CLIENT_E_STATUS, 503, "503");
	canned_stop(&cs);

	canned_start(&cs, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n", 1);
	expect_fail(canned_url(&cs), NULL, RWS_CLIENT_E_HANDSHAKE, 0, "Accept");
	canned_stop(&cs);

	canned_start(&cs, "garbage\r\n\r\n", 1);
	expect_fail(canned_url(&cs), NULL, RWS_CLIENT_E_HANDSHAKE, 0, "bad answer");
	canned_stop(&cs);

	/* the server reads the request and closes without a word */
	canned_start(&cs, "", 1);
	expect_fail(canned_url(&cs), NULL, -ECONNRESET, 0, "closed the connection before answering");
	canned_stop(&cs);

	struct rws_client_options o;
	rws_client_options_default(&o);
	o.handshake_timeout_ms = 300;
	canned_start(&cs, NULL, 1);
	expect_fail(canned_url(&cs), &o, -ETIMEDOUT, 0, "handshake timeout");
	canned_stop(&cs);

	/* a 101 with the right accept but what we did not offer: an extension,
	 * a subprotocol */
	struct rws_client_options no;
	rws_client_options_default(&no);
	no.deflate = 0;
	static const char ok101[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n";
	char ans[512];
	snprintf(ans, sizeof(ans), "%sSec-WebSocket-Extensions: permessage-deflate\r\n\r\n", ok101);
	canned_start(&cs, ans, 1);
	expect_fail(canned_url(&cs), &no, RWS_CLIENT_E_HANDSHAKE, 0, "extension");
	canned_stop(&cs);
	snprintf(ans, sizeof(ans), "%sSec-WebSocket-Protocol: chat\r\n\r\n", ok101);
	canned_start(&cs, ans, 1);
	expect_fail(canned_url(&cs), NULL, RWS_CLIENT_E_HANDSHAKE, 0, "subprotocol");
	canned_stop(&cs);
	/* permessage-deflate answered with a parameter we did not offer */
	snprintf(ans, sizeof(ans), "%sSec-WebSocket-Extensions: permessage-deflate; "
		 "client_max_window_bits=10\r\n\r\n", ok101);
	canned_start(&cs, ans, 1);
	expect_fail(canned_url(&cs), NULL, RWS_CLIENT_E_EXTENSION, 0, "permessage-deflate");
	canned_stop(&cs);

	/* a redirect when not asked to follow is the status */
	canned_start(&cs, "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n\r\n", 1);
	expect_fail(canned_url(&cs), NULL, RWS_CLIENT_E_STATUS, 302, "302");
	canned_stop(&cs);
}

Test(client, redirects_followed_with_credentials_dropped_across_hosts)
{
	start_all(0);
	struct canned cs;
	/* to the real server on another host name (localhost, not 127.0.0.1) */
	canned_start(&cs, "HTTP/1.1 302 Found\r\nLocation: ws://localhost:%u/moved?r=1\r\n\r\n", 1);
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.follow_redirects = 1;
	const char *hdrs[] = { "Authorization: Bearer secret", "Cookie: a=b", "X-Keep: yes" };
	o.headers = hdrs;
	o.num_headers = 3;
	srv_seen.want_header = "Authorization";
	struct got g;
	got_init(&g);
	connect_ok(&g, canned_url(&cs), &o);
	canned_stop(&cs);
	cr_assert(strstr(cs.request, "Authorization: Bearer secret"), "%s", cs.request);
	cr_assert_str_eq(srv_seen.header, "(none)", "Authorization went to the new host");
	cr_assert_str_eq(srv_seen.query, "r=1");
	echo(&g, 100, 1);

	/* the same host keeps them: a path-only Location, twice, with one
	 * redirect allowed; the second request went to /again with them */
	canned_start(&cs, "HTTP/1.1 307 Temporary Redirect\r\nLocation: /again\r\n\r\n", 2);
	o.max_redirects = 1;
	expect_fail(canned_url(&cs), &o, RWS_CLIENT_E_REDIRECTS, 307, "more than 1 redirect");
	canned_stop(&cs);
	cr_assert(strncmp(cs.request, "GET /again HTTP/1.1", 19) == 0, "%s", cs.request);
	cr_assert(strstr(cs.request, "Authorization: Bearer secret"), "%s", cs.request);
	cr_assert(strstr(cs.request, "Cookie: a=b"), "%s", cs.request);

	/* too many */
	canned_start(&cs, "HTTP/1.1 301 Moved\r\nLocation: /loop\r\n\r\n", 5);
	o.max_redirects = 2;
	o.handshake_timeout_ms = 2000;
	expect_fail(canned_url(&cs), &o, RWS_CLIENT_E_REDIRECTS, 301, "more than 2 redirects");
	canned_stop(&cs);
	finish(&g);
}

Test(client, unix_socket_url)
{
	start_all(0);
	/* a unix listener whose connections are handed to the server */
	char path[108];
	snprintf(path, sizeof(path), "/tmp/rws-client-test-%d.sock", (int)getpid());
	unlink(path);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	cr_assert_eq(bind(ls, (struct sockaddr *)&un, sizeof(un)), 0);
	cr_assert_eq(listen(ls, 4), 0);
	struct got g;
	got_init(&g);
	cli_h.ctx = &g;
	char u[160], eb[256];
	snprintf(u, sizeof(u), "ws+unix://%s:/via-unix?u=1", path);
	cr_assert_eq(rws_connect(cli, u, NULL, &cli_h, &g, eb, sizeof(eb)), 0, "%s", eb);
	int fd = accept(ls, NULL, NULL);
	cr_assert_geq(fd, 0);
	cr_assert_eq(rws_server_adopt(srv, fd, NULL, 0), 0);
	cr_assert(wait_flag(&g, &g.opened), "%s", g.msg);
	cr_assert_str_eq(srv_seen.query, "u=1");
	echo(&g, 3000, 0);
	close(ls);
	unlink(path);
	finish(&g);
}

/* --- heartbeat ----------------------------------------------------------------- */

static void pause_on_open(void *ctx, struct rws_conn *c)
{
	rws_conn_pause(c);	/* reads nothing, so answers no ping */
	srv_open(ctx, c);
}

static void pause_cli_open(void *ctx, struct rws_conn *c)
{
	rws_conn_pause(c);
	cli_open(ctx, c);
}

/* The client pings every 100 ms; a server that stops reading (so answers
 * no ping) is dropped after the 50 ms timeout: on_close 1006. One that
 * answers stays open. */
Test(client, heartbeat_drops_a_server_that_stops_answering)
{
	start_all(0);
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.ping_interval_ms = 100;
	o.pong_timeout_ms = 50;
	struct got g;
	got_init(&g);
	connect_ok(&g, url_of("/"), &o);
	usleep(600 * 1000);	/* six beats answered */
	cr_assert_eq(g.closed, 0, "closed with %d while the server answered", g.close_code);
	echo(&g, 10, 1);
	finish(&g);

	srv_h.on_open = pause_on_open;	/* the route copies the handler at start */
	start_all(0);
	got_init(&g);
	connect_ok(&g, url_of("/"), &o);
	cr_assert(wait_flag(&g, &g.closed));
	cr_assert_eq(g.close_code, 1006);
	srv_h.on_open = srv_open;
	finish(&g);
}

/* The server's heartbeat: a client that stops reading is dropped (the
 * server sees 1006); one that reads stays */
Test(client, server_heartbeat_drops_a_client_that_stops_answering)
{
	struct rws_server_options so;
	rws_server_options_default(&so);
	so.ping_interval_ms = 100;
	so.pong_timeout_ms = 60;
	start_with(&so, &srv_h);

	struct got g;
	got_init(&g);
	connect_ok(&g, url_of("/"), NULL);
	usleep(500 * 1000);
	cr_assert_eq(atomic_load(&srv_seen.closes), 0, "the server dropped a client that answered");

	struct got g2;
	got_init(&g2);
	cli_h.on_open = pause_cli_open;
	connect_ok(&g2, url_of("/"), NULL);
	cli_h.on_open = cli_open;
	for (int i = 0; i < 200 && atomic_load(&srv_seen.closes) < 1; i++)
		usleep(10000);
	cr_assert_eq(atomic_load(&srv_seen.closes), 1);
	cr_assert_eq(atomic_load(&srv_seen.last_code), 1006);
	cr_assert_eq(g.closed, 0);
	stop_all();
	free(g.last);
	free(g2.last);
}

/* local_address and family choose where the client connects from;
 * protocol_version 8 is what the request says */
Test(client, local_address_family_and_version_8)
{
	start_all(0);
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.local_address = "127.0.0.3";
	o.family = AF_INET;
	o.protocol_version = 8;
	struct got g;
	got_init(&g);
	connect_ok(&g, url_of("/"), &o);
	cr_assert_str_eq(srv_seen.ip, "127.0.0.3");
	cr_assert_str_eq(srv_seen.version, "8");
	echo(&g, 2000, 1);
	finish(&g);

	start_all(0);
	o.local_address = "not-an-address";
	char eb[256] = "";
	cr_assert_eq(rws_connect(cli, url_of("/"), &o, &cli_h, &g, eb, sizeof(eb)), -EINVAL);
	cr_assert(strstr(eb, "local address"), "%s", eb);
	o.local_address = NULL;
	o.protocol_version = 12;
	cr_assert_eq(rws_connect(cli, url_of("/"), &o, &cli_h, &g, eb, sizeof(eb)), -EINVAL);
	cr_assert(strstr(eb, "13 or 8"), "%s", eb);
}

/* --- send bounds ------------------------------------------------------------------ */

static atomic_int refused;

static void flood_on_open(void *ctx, struct rws_conn *c)
{
	static uint8_t chunk[16384];
	for (int i = 0; i < 40; i++)
		if (rws_conn_send(c, chunk, sizeof(chunk), RWS_SEND_BINARY) == -ENOBUFS)
			atomic_fetch_add(&refused, 1);
	cli_open(ctx, c);
}

/* A client connection's send queue is bounded by its own max_buffered and
 * policy (here 64 KiB, refuse), not by the reactors' server options: sends
 * past it, on the owner thread, are refused while the server reads
 * nothing */
Test(client, client_send_bound_is_its_own)
{
	srv_h.on_open = pause_on_open;
	close_ms = 300;	/* neither side reads the other's close at the end */
	start_all(0);
	close_ms = 0;
	srv_h.on_open = srv_open;
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.max_buffered = 64 * 1024;
	o.backpressure = RWS_BP_REFUSE;
	o.deflate = 0;
	atomic_store(&refused, 0);
	cli_h.on_open = flood_on_open;
	struct got g;
	got_init(&g);
	connect_ok(&g, url_of("/"), &o);
	cli_h.on_open = cli_open;
	int n = atomic_load(&refused);
	cr_assert(n > 0 && n < 40, "%d of 40 sends of 16 KiB refused with a 64 KiB bound", n);
	cr_assert_eq(g.closed, 0, "refusing must not close");
	finish(&g);
}

static struct rws_conn *_Atomic srv_conn;

static void keep_conn_open(void *ctx, struct rws_conn *c)
{
	atomic_store(&srv_conn, c);
	srv_open(ctx, c);
}

/* Sends posted from another thread (the test's) are never dropped, even
 * with the refuse policy and a queue far past its bound: the caller was
 * told 0. The client gets all 300. */
Test(client, posted_sends_past_the_bound_are_not_dropped)
{
	struct rws_server_options so;
	rws_server_options_default(&so);
	so.max_buffered = 16 * 1024;
	so.backpressure = RWS_BP_REFUSE;
	struct rws_handler h = srv_h;
	h.on_open = keep_conn_open;
	start_with(&so, &h);
	struct got g;
	got_init(&g);
	connect_ok(&g, url_of("/"), NULL);
	for (int i = 0; i < 200 && !atomic_load(&srv_conn); i++)
		usleep(10000);
	struct rws_conn *sc = atomic_load(&srv_conn);
	cr_assert_not_null(sc);
	static uint8_t chunk[4096];
	for (int i = 0; i < 300; i++)
		cr_assert_eq(rws_conn_send(sc, chunk, sizeof(chunk), RWS_SEND_BINARY), 0);
	cr_assert(wait_msgs(&g, 300), "the client got %d of 300 posted messages", g.nmsgs);
	finish(&g);
}
