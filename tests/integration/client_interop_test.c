/*
 * client_interop_test: the library's CLIENT (rws_connect, in this process,
 * linked against build/libringws.a) against servers no one here wrote:
 * Node.js ws (peer_server.mjs) and Python websockets (peer_server.py), the
 * npm package proxy as an HTTP CONNECT proxy (peer_proxy.mjs), and, for the
 * answers no real server gives, small raw servers of this file. The peer
 * scripts log what they see as JSON lines on stderr, which the tests read
 * (daemon_log) to check the server's side: the close code and reason it
 * got, the request headers after a redirect, the CONNECT the proxy saw.
 *
 * Each BOTH test runs against both servers: client_node.NAME and
 * client_py.NAME. A missing node, ws, proxy or python3-websockets fails the
 * test, naming the package (tests/integration/setup.sh installs them).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "ringws.h"

#ifndef RWS_BUILD
#define RWS_BUILD "build"
#endif

#define MIB (1u << 20)

/* --- the peers ------------------------------------------------------------------- */


static void need_node(const char *npm_package)
{
	cr_assert(harness_in_path("node"), "node is not in PATH: Debian package nodejs; run apt-get install "
		  "nodejs (or make test-deps)");
	char rel[256];
	snprintf(rel, sizeof(rel), "integration/node_modules/%s/package.json", npm_package);
	cr_assert(access(harness_build(rel), R_OK) == 0,
		  "npm package %s (tests/integration/package.json) is not installed in %s: run "
		  "BUILD=%s sh tests/integration/setup.sh (make test does)", npm_package,
		  harness_build("integration/node_modules"), RWS_BUILD);
}

static const char *kind_name(enum peer_kind k)
{
	return k == PEER_NODE ? "node ws" : "python websockets";
}

/* Starts peer_server.{mjs,py} SCENARIO with key=value parameters
 * (NULL-terminated) and waits for its ready line. */
static struct daemon *srv_start(enum peer_kind k, const char *scenario, ...)
	__attribute__((sentinel));
static struct daemon *srv_start(enum peer_kind k, const char *scenario, ...)
{
	const char *argv[32];
	int n = 0;
	if (k == PEER_NODE) {
		need_node("ws");
		argv[n++] = "node";
		argv[n++] = harness_src("tests/integration/peer_server.mjs");
	} else {
		cr_assert(access("/usr/bin/python3", X_OK) == 0, "no /usr/bin/python3: Debian "
			  "packages python3 and python3-websockets; run apt-get install "
			  "python3-websockets (or make test-deps)");
		argv[n++] = "/usr/bin/python3";
		argv[n++] = harness_src("tests/integration/peer_server.py");
	}
	argv[n++] = scenario;
	const char *ready = "peer_server: listening on 127.0.0.1:";
	va_list ap;
	va_start(ap, scenario);
	for (const char *a; (a = va_arg(ap, const char *));) {
		cr_assert(n < 30);
		argv[n++] = a;
		if (strncmp(a, "unix=", 5) == 0)
			ready = "peer_server: unix socket ready ";
	}
	va_end(ap);
	argv[n] = NULL;
	setenv("RWS_PEER_DIR", harness_build("integration"), 1);
	return program_start(argv, ready);
}

static struct daemon *proxy_start(const char *auth)
{
	need_node("proxy");
	setenv("RWS_PEER_DIR", harness_build("integration"), 1);
	const char *argv[] = { "node", harness_src("tests/integration/peer_proxy.mjs"), auth, NULL };
	return program_start(argv, "peer_proxy: listening on 127.0.0.1:");
}

static size_t log_len(struct daemon *d)
{
	return strlen(daemon_log(d));
}

/* The line of d's stderr, at or after offset `from`, that contains needle;
 * waits up to ms for it. NULL if none came. */
static const char *log_find(struct daemon *d, size_t from, const char *needle, int ms)
{
	long long end = now_ms() + ms;
	for (;;) {
		const char *log = daemon_log(d);
		const char *hit = strlen(log) > from ? strstr(log + from, needle) : NULL;
		if (hit) {
			const char *b = hit;
			while (b > log && b[-1] != '\n')
				b--;
			size_t n = strcspn(b, "\n");
			char *line = malloc(n + 1);
			cr_assert(line);
			memcpy(line, b, n);
			line[n] = 0;
			return line;
		}
		if (now_ms() >= end)
			return NULL;
		usleep(10000);
	}
}

/* Asserts that needle shows up in d's stderr after from, within 5 s. */
static const char *log_expect(struct daemon *d, size_t from, const char *needle)
{
	const char *l = log_find(d, from, needle, 5000);
	cr_assert(l, "the server never logged\n  %s\nits stderr since:\n%s", needle,
		  daemon_log(d) + (from < log_len(d) ? from : 0));
	return l;
}

static int log_count(struct daemon *d, size_t from, const char *needle)
{
	const char *log = daemon_log(d);
	int n = 0;
	if (strlen(log) <= from)
		return 0;
	for (const char *p = log + from; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static long long json_int(const char *line, const char *key)
{
	char k[64];
	snprintf(k, sizeof(k), "\"%s\":", key);
	const char *p = strstr(line, k);
	cr_assert(p, "no %s in %s", key, line);
	return atoll(p + strlen(k));
}

/* --- the client ------------------------------------------------------------------ */

#define MAX_KEEP 16

struct got {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int opened, closed, failed;
	int close_code, err, status;
	char reason[256];
	char msg[512];
	char protocol[64];
	int echo_back;		/* send every message back as it came */
	int nmsgs;
	uint8_t *last;
	size_t last_len;
	int last_text;
	size_t lens[MAX_KEEP];	/* of the first messages */
	int texts[MAX_KEEP];
	int npings;
	size_t ping_len[MAX_KEEP];
	char ping[MAX_KEEP][126];
	struct rws_conn *c;
	long long closed_at;
};

/* static: the reactor's callbacks may still run while a failed test unwinds */
static struct got G[8];	/* one per connection of a test; expect_error uses the last */
static struct rws_server *cli;

static void got_init(struct got *g)
{
	free(g->last);
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
}

static void on_open(void *ctx, struct rws_conn *c)
{
	struct got *g = rws_conn_user(c);
	(void)ctx;
	pthread_mutex_lock(&g->lock);
	g->opened = 1;
	g->c = c;
	snprintf(g->protocol, sizeof(g->protocol), "%s", rws_conn_protocol(c));
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void on_message(void *ctx, struct rws_conn *c, const void *d, size_t n, int is_text)
{
	struct got *g = rws_conn_user(c);
	(void)ctx;
	if (g->echo_back)
		rws_conn_send(c, d, n, is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY);
	pthread_mutex_lock(&g->lock);
	free(g->last);
	g->last = malloc(n ? n : 1);
	if (!g->last)
		abort();	/* (a reactor thread: no cr_assert here) */
	memcpy(g->last, d, n);
	g->last_len = n;
	g->last_text = is_text;
	if (g->nmsgs < MAX_KEEP) {
		g->lens[g->nmsgs] = n;
		g->texts[g->nmsgs] = is_text;
	}
	g->nmsgs++;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void on_ping(void *ctx, struct rws_conn *c, const void *d, size_t n)
{
	struct got *g = rws_conn_user(c);
	(void)ctx;
	pthread_mutex_lock(&g->lock);
	if (g->npings < MAX_KEEP && n < sizeof(g->ping[0])) {
		memcpy(g->ping[g->npings], d, n);
		g->ping[g->npings][n] = 0;
		g->ping_len[g->npings] = n;
	}
	g->npings++;
	pthread_mutex_unlock(&g->lock);
}

static void on_close(void *ctx, struct rws_conn *c, int code, const char *r, size_t n)
{
	struct got *g = rws_conn_user(c);
	(void)ctx;
	pthread_mutex_lock(&g->lock);
	g->closed = 1;
	g->close_code = code;
	g->closed_at = now_ms();
	snprintf(g->reason, sizeof(g->reason), "%.*s", (int)n, r ? r : "");
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void on_error(void *ctx, struct rws_conn *c, int err, int status, const char *msg)
{
	struct got *g = rws_conn_user(c);
	(void)ctx;
	pthread_mutex_lock(&g->lock);
	g->failed = 1;
	g->err = err;
	g->status = status;
	snprintf(g->msg, sizeof(g->msg), "%s", msg ? msg : "(null)");
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static const struct rws_handler handler = { .struct_size = sizeof(struct rws_handler),
	.on_open = on_open, .on_message = on_message, .on_ping = on_ping, .on_close = on_close,
	.on_error = on_error };

/* The client reactor: one thread, no listener. */
static void cli_start(void)
{
	struct rws_server_options o;
	rws_server_options_default(&o);
	o.listen = 0;
	o.threads = 1;
	o.close_timeout_ms = 1000;	/* for stopping with a stalled peer */
	int err;
	char eb[256] = "";
	cli = rws_server_create(&o, &err, eb, sizeof(eb));
	cr_assert_not_null(cli, "client reactor: %s", eb);
	cr_assert_eq(rws_server_start(cli, eb, sizeof(eb)), 0, "client reactor: %s", eb);
}

static void suite_fini(void)
{
	if (cli)
		rws_server_destroy(cli);
	cli = NULL;
	harness_teardown();
}

TestSuite(client_node, .fini = suite_fini, .timeout = 40);
TestSuite(client_py, .fini = suite_fini, .timeout = 40);
TestSuite(client_proxy, .fini = suite_fini, .timeout = 40);
TestSuite(client_raw, .fini = suite_fini, .timeout = 40);

#define BOTH(name)                                                  \
	static void name(enum peer_kind k);                         \
	Test(client_node, name) { name(PEER_NODE); }                \
	Test(client_py, name) { name(PEER_PY); }                    \
	static void name(enum peer_kind k)

/* Waits until *flag (under g->lock) is set, at most ms. */
static int wait_flag(struct got *g, int *flag, int ms)
{
	long long end = now_ms() + ms;
	pthread_mutex_lock(&g->lock);
	while (!*flag && now_ms() < end) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&g->cond, &g->lock, &ts);
	}
	int v = *flag;
	pthread_mutex_unlock(&g->lock);
	return v;
}

static int wait_msgs(struct got *g, int n, int ms)
{
	long long end = now_ms() + ms;
	pthread_mutex_lock(&g->lock);
	while (g->nmsgs < n && !g->closed && now_ms() < end) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&g->cond, &g->lock, &ts);
	}
	int v = g->nmsgs;
	pthread_mutex_unlock(&g->lock);
	return v >= n;
}

/* Connects g to url and waits for on_open; d (may be NULL) is the server,
 * whose stderr a failure shows. */
static void connect_open(struct got *g, const char *url, const struct rws_client_options *o,
			 struct daemon *d)
{
	got_init(g);
	char eb[256] = "";
	cr_assert_eq(rws_connect(cli, url, o, &handler, g, eb, sizeof(eb)), 0, "%s: %s", url, eb);
	cr_assert(wait_flag(g, &g->opened, 10000), "%s did not open: on_error %d (err %d, status %d) "
		  "%s\nthe server's stderr:\n%s", url, g->failed, g->err, g->status, g->msg,
		  d ? daemon_log(d) : "-");
}

/* Connects to url, which must fail: on_error with err and status, and a
 * message that says `words`. */
static void expect_error(const char *url, const struct rws_client_options *o, int err, int status,
			 const char *words, struct daemon *d)
{
	struct got *g = &G[7];
	got_init(g);
	char eb[256] = "";
	cr_assert_eq(rws_connect(cli, url, o, &handler, g, eb, sizeof(eb)), 0, "%s: %s", url, eb);
	cr_assert(wait_flag(g, &g->failed, 10000), "%s: no on_error (opened %d)\nthe server's "
		  "stderr:\n%s", url, g->opened, d ? daemon_log(d) : "-");
	cr_assert_eq(g->opened, 0, "%s: opened before failing", url);
	cr_assert_eq(g->err, err, "%s: err %d (%s), wanted %d", url, g->err, g->msg, err);
	cr_assert_eq(g->status, status, "%s: status %d (%s), wanted %d", url, g->status, g->msg,
		     status);
	cr_assert(strstr(g->msg, words), "%s: on_error's message \"%s\" does not say \"%s\"", url,
		  g->msg, words);
}

static void close_and_wait(struct got *g, int code, const char *reason)
{
	cr_assert_eq(rws_conn_close(g->c, code, reason), 0);
	cr_assert(wait_flag(g, &g->closed, 10000), "no on_close after closing with %d", code);
}

/* --- payloads -------------------------------------------------------------------- */

/* Valid UTF-8 of exactly n bytes, characters of 1 to 4 bytes. */
static void fill_text(uint8_t *p, size_t n)
{
	static const char *const chars[] = { "a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
					     "Z", "\xd0\xb6", "\xe4\xb8\xad", "\xf0\x9d\x84\x9e", " " };
	size_t len = 0;
	for (size_t i = 0; len < n; i++) {
		const char *c = chars[i % 9];
		size_t cl = strlen(c);
		if (len + cl > n)
			c = ".", cl = 1;
		memcpy(p + len, c, cl);
		len += cl;
	}
}

/* Pseudo-random (incompressible) bytes. */
static void fill_bytes(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + (uint32_t)n + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* Sends n bytes of text or binary and checks they come back the same. */
static void echo(struct got *g, size_t n, int text)
{
	uint8_t *p = malloc(n ? n : 1);
	cr_assert(p);
	if (text)
		fill_text(p, n);
	else
		fill_bytes(p, n, (uint32_t)n);
	int before = g->nmsgs;
	int rc = rws_conn_send(g->c, p, n, text ? RWS_SEND_TEXT : RWS_SEND_BINARY);
	cr_assert_eq(rc, 0, "sending %zu bytes: %s", n, rws_strerror(rc));
	cr_assert(wait_msgs(g, before + 1, 15000), "no echo of %zu bytes of %s (closed %d: %d %s)", n,
		  text ? "text" : "binary", g->closed, g->close_code, g->reason);
	pthread_mutex_lock(&g->lock);
	cr_assert_eq(g->last_len, n, "echo of %zu bytes came back with %zu", n, g->last_len);
	cr_assert_eq(g->last_text, text, "echo of %zu bytes came back as another type", n);
	cr_assert(n == 0 || memcmp(g->last, p, n) == 0, "echo of %zu bytes differs", n);
	pthread_mutex_unlock(&g->lock);
	free(p);
}

static const size_t sizes[] = { 0, 1, 125, 126, 65535, 65536, MIB, 16 * MIB };

/* --- echoes ---------------------------------------------------------------------- */

/* Text and binary of every size (to 16 MiB, with max_payload raised), each
 * verified byte for byte; the client closes with 1000 and the server sees
 * it. With deflate the extension must be agreed, and (Node, which counts
 * the bytes on its socket) both directions must have been compressed. */
static void echo_sizes(enum peer_kind k, int deflate)
{
	struct daemon *d = srv_start(k, "echo", deflate ? "deflate=1" : "deflate=0", NULL);
	cli_start();
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.max_payload = 32 * MIB;
	o.max_buffered = 64 * MIB;
	struct got *g = &G[0];
	connect_open(g, daemon_url(d, "/echo?x=1"), &o, d);
	log_expect(d, 0, deflate ? "\"event\":\"open\",\"path\":\"/echo?x=1\",\"protocol\":\"\","
				   "\"extensions\":\"permessage-deflate\""
				 : "\"event\":\"open\",\"path\":\"/echo?x=1\",\"protocol\":\"\","
				   "\"extensions\":\"\"");
	unsigned long long text_total = 0, total = 0;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		echo(g, sizes[i], 1);
		echo(g, sizes[i], 0);
		text_total += sizes[i];
		total += 2 * sizes[i];
	}
	close_and_wait(g, 1000, "done");
	cr_assert_eq(g->close_code, 1000);
	const char *l = log_expect(d, 0, "\"event\":\"close\",\"code\":1000,\"reason\":\"done\"");
	if (k == PEER_NODE) {
		long long rd = json_int(l, "bytes_read"), wr = json_int(l, "bytes_written");
		if (deflate) {
			/* the text compresses to almost nothing, the random binary not */
			cr_assert_lt(rd, (long long)(total - text_total / 2), "the client did not "
				     "compress: the server read %lld bytes for %llu of payload", rd, total);
			cr_assert_lt(wr, (long long)(total - text_total / 2), "the server did not "
				     "compress: it wrote %lld bytes for %llu of payload", wr, total);
		} else {
			cr_assert_geq(rd, (long long)total, "the server read %lld bytes for %llu of "
				      "payload", rd, total);
		}
	}
}

BOTH(echo_every_size_plain)
{
	echo_sizes(k, 0);
}

BOTH(echo_every_size_compressed)
{
	echo_sizes(k, 1);
}

/* A client that does not offer permessage-deflate to a server that has it
 * talks plainly. */
BOTH(echo_without_offering_deflate)
{
	struct daemon *d = srv_start(k, "echo", "deflate=1", NULL);
	cli_start();
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.deflate = 0;
	struct got *g = &G[0];
	connect_open(g, daemon_url(d, "/"), &o, d);
	log_expect(d, 0, "\"event\":\"open\",\"path\":\"/\",\"protocol\":\"\",\"extensions\":\"\"");
	echo(g, 5000, 1);
	echo(g, 70000, 0);
	close_and_wait(g, 1000, "");
}

/* --- messages in fragments, pings, closes -------------------------------------- */

/* The server sends a 1000-byte text (cut inside characters by Node), a
 * 300-byte binary with an empty first fragment, and 1 MiB in 64 KiB
 * fragments, with a ping between fragments: each arrives whole (the server
 * checks the client's echo of it), and the ping in the middle is seen. */
static void fragments(enum peer_kind k, int deflate)
{
	struct daemon *d = srv_start(k, "fragments", deflate ? "deflate=1" : "deflate=0", NULL);
	cli_start();
	struct got *g = &G[0];
	got_init(g);
	g->echo_back = 1;
	char eb[256] = "";
	const char *url = daemon_url(d, "/frag");
	cr_assert_eq(rws_connect(cli, url, NULL, &handler, g, eb, sizeof(eb)), 0, "%s", eb);
	cr_assert(wait_flag(g, &g->opened, 10000), "did not open: %s", g->msg);
	const char *l = log_find(d, 0, "\"event\":\"fragments\"", 15000);
	cr_assert(l, "the server never checked the echoes; its stderr:\n%s", daemon_log(d));
	cr_assert(strstr(l, "\"ok\":true"), "%s server: %s", kind_name(k), l);
	cr_assert(wait_msgs(g, 3, 1000));
	pthread_mutex_lock(&g->lock);
	cr_assert_eq(g->nmsgs, 3, "%d messages, not 3", g->nmsgs);
	cr_assert(g->lens[0] == 1000 && g->texts[0] == 1, "first: %zu bytes, text %d", g->lens[0],
		  g->texts[0]);
	cr_assert(g->lens[1] == 300 && g->texts[1] == 0, "second: %zu bytes", g->lens[1]);
	cr_assert(g->lens[2] == MIB && g->texts[2] == 0, "third: %zu bytes", g->lens[2]);
	int mid = 0;
	for (int i = 0; i < g->npings && i < MAX_KEEP; i++)
		mid += g->ping_len[i] == 4 && strncmp(g->ping[i], "mid", 3) == 0 &&
		       g->ping[i][3] == '0' + mid;
	cr_assert_eq(mid, 3, "the pings between fragments: %d of 3 seen", mid);
	pthread_mutex_unlock(&g->lock);
	close_and_wait(g, 1000, "");
}

BOTH(fragmented_messages_arrive_whole)
{
	fragments(k, 0);
}

BOTH(fragmented_compressed_messages_arrive_whole)
{
	fragments(k, 1);
}

/* The server pings with 0, 6 and 125 bytes: each pong carries the ping's
 * payload (the server checks), and on_ping saw each. */
BOTH(server_ping_answered_with_its_payload)
{
	struct daemon *d = srv_start(k, "ping", NULL);
	cli_start();
	struct got *g = &G[0];
	connect_open(g, daemon_url(d, "/"), NULL, d);
	const char *l = log_find(d, 0, "\"event\":\"pongs\"", 20000);
	cr_assert(l, "the server never finished pinging; its stderr:\n%s", daemon_log(d));
	cr_assert(strstr(l, "\"ok\":true"), "%s server: %s", kind_name(k), l);
	pthread_mutex_lock(&g->lock);
	cr_assert_eq(g->npings, 3);
	cr_assert_eq(g->ping_len[0], 0);
	cr_assert_eq(g->ping_len[1], 6);
	cr_assert_str_eq(g->ping[1], "hello!");
	cr_assert_eq(g->ping_len[2], 125);
	pthread_mutex_unlock(&g->lock);
	close_and_wait(g, 1000, "");
}

/* The client closes with 1000 and with 4321 and a reason: the server gets
 * each code and reason, and answers with the same code. */
BOTH(client_close_codes_reach_the_server)
{
	struct daemon *d = srv_start(k, "echo", NULL);
	cli_start();
	static const struct {
		int code;
		const char *reason;
	} cases[] = { { 1000, "normal" }, { 4321, "custom reason \xc3\xa9t\xc3\xa9" } };
	for (size_t i = 0; i < 2; i++) {
		size_t from = log_len(d);
		struct got *g = &G[i];
		connect_open(g, daemon_url(d, "/"), NULL, d);
		echo(g, 10, 1);
		close_and_wait(g, cases[i].code, cases[i].reason);
		cr_assert_eq(g->close_code, cases[i].code, "on_close got %d after closing with %d",
			     g->close_code, cases[i].code);
		char want[256];
		snprintf(want, sizeof(want), "\"event\":\"close\",\"code\":%d,\"reason\":\"%s\"",
			 cases[i].code, cases[i].reason);
		log_expect(d, from, want);
	}
}

/* The server closes with 4000 and a reason: on_close gets both. */
BOTH(server_close_code_and_reason_reach_on_close)
{
	struct daemon *d = srv_start(k, "close", "code=4000", "reason=server says bye", NULL);
	cli_start();
	struct got *g = &G[0];
	connect_open(g, daemon_url(d, "/"), NULL, d);
	cr_assert(wait_flag(g, &g->closed, 10000), "no on_close");
	cr_assert_eq(g->close_code, 4000);
	cr_assert_str_eq(g->reason, "server says bye");
	/* and the client answered with the same code */
	log_expect(d, 0, "\"event\":\"close\",\"code\":4000");
}

/* A message over the client's max_payload closes the connection with 1009,
 * which the server sees. */
BOTH(message_over_max_payload_closes_with_1009)
{
	struct daemon *d = srv_start(k, "big", "n=1048577", NULL);
	cli_start();
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.max_payload = MIB;
	struct got *g = &G[0];
	connect_open(g, daemon_url(d, "/"), &o, d);
	cr_assert(wait_flag(g, &g->closed, 10000), "no on_close");
	cr_assert_eq(g->nmsgs, 0);
	cr_assert_eq(g->close_code, 1009, "on_close with %d", g->close_code);
	log_expect(d, 0, "\"event\":\"close\",\"code\":1009");
}

/* --- handshake failures -------------------------------------------------------- */

/* The server refuses the upgrade with 401, 404 and 500: on_error with
 * RWS_CLIENT_E_STATUS, the status, and a message that names it. */
BOTH(http_error_status_reaches_on_error)
{
	static const struct {
		const char *param;
		int status;
		const char *words;
	} cases[] = { { "status=401", 401, "answered 401 Unauthorized" },
		      { "status=404", 404, "answered 404 Not Found" },
		      { "status=500", 500, "answered 500 Internal Server Error" } };
	cli_start();
	for (size_t i = 0; i < 3; i++) {
		struct daemon *d = srv_start(k, "status", cases[i].param, NULL);
		expect_error(daemon_url(d, "/"), NULL, RWS_CLIENT_E_STATUS, cases[i].status,
			     cases[i].words, d);
		daemon_stop(d);
	}
}

/* The server picks a subprotocol the client did not offer. */
BOTH(unexpected_subprotocol_fails_the_handshake)
{
	struct daemon *d = srv_start(k, "echo", "protocol=!zzz", NULL);
	cli_start();
	struct rws_client_options o;
	rws_client_options_default(&o);
	const char *protos[] = { "chat" };
	o.protocols = protos;
	o.num_protocols = 1;
	expect_error(daemon_url(d, "/"), &o, RWS_CLIENT_E_HANDSHAKE, 0,
		     "subprotocol the client did not offer", d);
}

/* A server that takes the request and never answers: the handshake
 * timeout. */
BOTH(silent_server_hits_the_handshake_timeout)
{
	struct daemon *d = srv_start(k, "silent", NULL);
	cli_start();
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.handshake_timeout_ms = 500;
	long long t0 = now_ms();
	expect_error(daemon_url(d, "/"), &o, -ETIMEDOUT, 0,
		     "no answer to the upgrade within 500 ms (the handshake timeout)", d);
	long long took = now_ms() - t0;
	cr_assert(took >= 450 && took < 3000, "the timeout took %lld ms", took);
	log_expect(d, 0, "\"event\":\"request\",\"url\":\"/\"");
}

/* --- subprotocols, redirects, unix sockets --------------------------------------- */

/* Offered v1.x, chat, superchat in that order; the server picks chat. A
 * client whose offer the server has nothing for gets no subprotocol. */
BOTH(subprotocol_negotiated)
{
	struct daemon *d = srv_start(k, "echo", "protocol=chat", NULL);
	cli_start();
	struct rws_client_options o;
	rws_client_options_default(&o);
	const char *protos[] = { "v1.x", "chat", "superchat" };
	o.protocols = protos;
	o.num_protocols = 3;
	struct got *g = &G[0];
	connect_open(g, daemon_url(d, "/"), &o, d);
	cr_assert_str_eq(g->protocol, "chat");
	log_expect(d, 0, "\"protocols\":\"v1.x, chat, superchat\"");
	log_expect(d, 0, "\"event\":\"open\",\"path\":\"/\",\"protocol\":\"chat\"");
	echo(g, 100, 1);
	close_and_wait(g, 1000, "");

	size_t from = log_len(d);
	const char *other[] = { "other" };
	o.protocols = other;
	o.num_protocols = 1;
	connect_open(&G[1], daemon_url(d, "/"), &o, d);
	cr_assert_str_eq(G[1].protocol, "");
	log_expect(d, from, "\"event\":\"open\",\"path\":\"/\",\"protocol\":\"\"");
	close_and_wait(&G[1], 1000, "");
}

/* The server answers /start with 302 and Location on another host name
 * (localhost for 127.0.0.1), on the same host, and as a path. Followed, the
 * request after the redirect carries Authorization and Cookie only to the
 * same host; other headers always. Not followed, the 302 is an error. */
BOTH(redirects_followed_and_credentials_kept_only_on_the_same_host)
{
	struct daemon *d = srv_start(k, "redirect", NULL);
	cli_start();
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.follow_redirects = 1;
	const char *hdrs[] = { "Authorization: Bearer secret", "Cookie: a=b", "X-Keep: yes" };
	o.headers = hdrs;
	o.num_headers = 3;
	static const struct {
		const char *to;
		int same_host;
	} cases[] = { { "localhost", 0 }, { "127.0.0.1", 1 }, { "path", 1 } };
	for (size_t i = 0; i < 3; i++) {
		size_t from = log_len(d);
		char url[128], want[512];
		snprintf(url, sizeof(url), "ws://127.0.0.1:%d/start?to=%s", d->port, cases[i].to);
		struct got *g = &G[i];
		connect_open(g, url, &o, d);
		snprintf(want, sizeof(want), "\"event\":\"request\",\"url\":\"/start?to=%s\",\"host\":"
			 "\"127.0.0.1:%d\",\"authorization\":\"Bearer secret\",\"cookie\":\"a=b\","
			 "\"x_keep\":\"yes\"", cases[i].to, d->port);
		log_expect(d, from, want);
		if (cases[i].same_host)
			snprintf(want, sizeof(want), "\"event\":\"request\",\"url\":\"/real\",\"host\":"
				 "\"127.0.0.1:%d\",\"authorization\":\"Bearer secret\",\"cookie\":"
				 "\"a=b\",\"x_keep\":\"yes\"", d->port);
		else
			snprintf(want, sizeof(want), "\"event\":\"request\",\"url\":\"/real\",\"host\":"
				 "\"localhost:%d\",\"authorization\":null,\"cookie\":null,"
				 "\"x_keep\":\"yes\"", d->port);
		const char *l = log_find(d, from, want, 5000);
		cr_assert(l, "redirect to %s: the request after it is not\n  %s\nthe server saw:\n%s",
			  cases[i].to, want, daemon_log(d) + from);
		log_expect(d, from, "\"event\":\"open\",\"path\":\"/real\"");
		echo(g, 1000, 1);
		close_and_wait(g, 1000, "");
	}
	rws_client_options_default(&o);
	char url[128];
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/start?to=localhost", d->port);
	expect_error(url, &o, RWS_CLIENT_E_STATUS, 302, "302 Found", d);
}

/* ws+unix://PATH:/request/path to a server listening on a unix socket. */
BOTH(unix_socket_url)
{
	char sock[108];
	snprintf(sock, sizeof(sock), "/tmp/rws-client-interop-%d-%d.sock", (int)getpid(), (int)k);
	char param[128];
	snprintf(param, sizeof(param), "unix=%s", sock);
	struct daemon *d = srv_start(k, "echo", param, NULL);
	cli_start();
	char url[256];
	snprintf(url, sizeof(url), "ws+unix://%s:/via-unix?u=1", sock);
	struct got *g = &G[0];
	connect_open(g, url, NULL, d);
	log_expect(d, 0, "\"event\":\"open\",\"path\":\"/via-unix?u=1\"");
	echo(g, 3000, 0);
	echo(g, 70000, 1);
	close_and_wait(g, 1000, "unix");
	log_expect(d, 0, "\"event\":\"close\",\"code\":1000,\"reason\":\"unix\"");
	unlink(sock);
}

/* --- heartbeat ------------------------------------------------------------------- */

/* The client pings every 150 ms and drops a server that has not answered
 * within 150 ms: one that answers stays open (Node logs the pings it
 * got); one that stops reading its socket is dropped with 1006. */
BOTH(heartbeat_keeps_a_live_server_and_drops_a_stalled_one)
{
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.ping_interval_ms = 150;
	o.pong_timeout_ms = 150;
	struct daemon *d = srv_start(k, "echo", NULL);
	cli_start();
	struct got *g = &G[0];
	connect_open(g, daemon_url(d, "/"), &o, d);
	usleep(1000 * 1000);
	cr_assert_eq(g->closed, 0, "dropped (%d) a server that answers", g->close_code);
	if (k == PEER_NODE) {
		int n = log_count(d, 0, "\"event\":\"ping\"");
		cr_assert(n >= 4, "the server got %d pings in 1 s, at one per 150 ms", n);
	}
	echo(g, 10, 1);
	close_and_wait(g, 1000, "");

	struct daemon *s = srv_start(k, "stall", NULL);
	struct got *h = &G[1];
	connect_open(h, daemon_url(s, "/"), &o, s);
	long long t0 = now_ms();
	log_expect(s, 0, "\"event\":\"stalled\"");
	cr_assert(wait_flag(h, &h->closed, 5000), "a stalled server was not dropped");
	cr_assert_eq(h->close_code, 1006, "on_close with %d", h->close_code);
	long long took = h->closed_at - t0;
	cr_assert(took < 1500, "dropped after %lld ms, with a 150 ms interval and timeout", took);
}

/* --- through a real HTTP CONNECT proxy ------------------------------------------ */

static char proxy_url[128];

static struct daemon *proxy_and_server(struct daemon **srv, const char *auth)
{
	*srv = srv_start(PEER_NODE, "echo", NULL);
	struct daemon *p = proxy_start(auth);
	snprintf(proxy_url, sizeof(proxy_url), "http://127.0.0.1:%d", p->port);
	cli_start();
	return p;
}

/* The proxy option: the proxy sees CONNECT 127.0.0.1:PORT, and the echo
 * goes through it. */
Test(client_proxy, proxy_option)
{
	struct daemon *d, *p = proxy_and_server(&d, NULL);
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.proxy = proxy_url;
	struct got *g = &G[0];
	connect_open(g, daemon_url(d, "/through"), &o, d);
	char want[128];
	snprintf(want, sizeof(want), "\"event\":\"connect\",\"target\":\"127.0.0.1:%d\"", d->port);
	log_expect(p, 0, want);
	log_expect(d, 0, "\"event\":\"open\",\"path\":\"/through\"");
	echo(g, 100000, 0);
	echo(g, 10, 1);
	close_and_wait(g, 1000, "proxied");
	log_expect(d, 0, "\"event\":\"close\",\"code\":1000,\"reason\":\"proxied\"");
	cr_assert_eq(log_count(p, 0, "\"event\":\"connect\""), 1);
}

/* http_proxy from the environment, and no_proxy exempting hosts: with
 * no_proxy=localhost, ws://localhost goes direct and ws://127.0.0.1 through
 * the proxy; with no_proxy naming 127.0.0.1, that goes direct too; the
 * option "" overrides the environment. */
Test(client_proxy, http_proxy_environment_and_no_proxy)
{
	struct daemon *d, *p = proxy_and_server(&d, NULL);
	setenv("http_proxy", proxy_url, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	char want[128], url[128];
	snprintf(want, sizeof(want), "\"event\":\"connect\",\"target\":\"127.0.0.1:%d\"", d->port);

	connect_open(&G[0], daemon_url(d, "/env"), NULL, d);
	log_expect(p, 0, want);
	echo(&G[0], 1000, 1);
	cr_assert_eq(log_count(p, 0, "\"event\":\"connect\""), 1);

	setenv("no_proxy", "example.org, localhost", 1);
	size_t from = log_len(p);
	snprintf(url, sizeof(url), "ws://localhost:%d/exempt", d->port);
	connect_open(&G[1], url, NULL, d);
	echo(&G[1], 1000, 1);
	log_expect(d, 0, "\"event\":\"open\",\"path\":\"/exempt\"");
	cr_assert_eq(log_count(p, from, "\"event\":\"connect\""), 0,
		     "no_proxy=localhost, yet ws://localhost went through the proxy:\n%s",
		     daemon_log(p) + from);

	connect_open(&G[2], daemon_url(d, "/not-exempt"), NULL, d);
	log_expect(p, from, want);
	echo(&G[2], 10, 0);

	setenv("no_proxy", "127.0.0.1", 1);
	from = log_len(p);
	connect_open(&G[3], daemon_url(d, "/exempt-too"), NULL, d);
	log_expect(d, 0, "\"event\":\"open\",\"path\":\"/exempt-too\"");
	cr_assert_eq(log_count(p, from, "\"event\":\"connect\""), 0,
		     "no_proxy=127.0.0.1, yet ws://127.0.0.1 went through the proxy");
	rws_conn_close(G[3].c, 1000, "");

	unsetenv("no_proxy");
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.proxy = "";
	from = log_len(p);
	connect_open(&G[4], daemon_url(d, "/no-proxy-option"), &o, d);
	log_expect(d, 0, "\"event\":\"open\",\"path\":\"/no-proxy-option\"");
	cr_assert_eq(log_count(p, from, "\"event\":\"connect\""), 0,
		     "proxy = \"\", yet the connection went through $http_proxy");
	unsetenv("http_proxy");
}

/* A proxy that wants credentials: without them, on_error with
 * RWS_CLIENT_E_PROXY and 407; with user:pass@ in the proxy URL, the CONNECT
 * carries Proxy-Authorization and the connection opens. */
Test(client_proxy, proxy_authorization)
{
	struct daemon *d, *p = proxy_and_server(&d, "auth=us%er:pa ss");
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.proxy = proxy_url;
	expect_error(daemon_url(d, "/"), &o, RWS_CLIENT_E_PROXY, 407,
		     "the proxy refused CONNECT: 407", p);
	char with[160];
	snprintf(with, sizeof(with), "http://us%%25er:pa%%20ss@127.0.0.1:%d", p->port);
	o.proxy = with;
	struct got *g = &G[0];
	connect_open(g, daemon_url(d, "/authed"), &o, p);
	/* base64("us%er:pa ss") */
	log_expect(p, 0, "\"auth\":\"Basic dXMlZXI6cGEgc3M=\"");
	echo(g, 2000, 1);
	close_and_wait(g, 1000, "");
}

/* The proxy cannot reach the server: on_error with RWS_CLIENT_E_PROXY and
 * the proxy's status. */
Test(client_proxy, proxy_cannot_reach_the_server)
{
	struct daemon *d, *p = proxy_and_server(&d, NULL);
	int port = d->port;
	daemon_stop(d);
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.proxy = proxy_url;
	char url[64];
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", port);
	expect_error(url, &o, RWS_CLIENT_E_PROXY, 500, "the proxy refused CONNECT: 500", p);
}

/* A redirect followed through the proxy option goes through the proxy
 * again: the proxy sees a CONNECT for each hop. */
Test(client_proxy, redirect_through_the_proxy)
{
	struct daemon *d = srv_start(PEER_NODE, "redirect", NULL);
	struct daemon *p = proxy_start(NULL);
	snprintf(proxy_url, sizeof(proxy_url), "http://127.0.0.1:%d", p->port);
	cli_start();
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.proxy = proxy_url;
	o.follow_redirects = 1;
	char url[128], want[128];
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/start?to=localhost", d->port);
	connect_open(&G[0], url, &o, d);
	snprintf(want, sizeof(want), "\"target\":\"127.0.0.1:%d\"", d->port);
	log_expect(p, 0, want);
	snprintf(want, sizeof(want), "\"target\":\"localhost:%d\"", d->port);
	const char *l = log_find(p, 0, want, 2000);
	cr_assert(l, "the hop after the redirect did not go through the proxy option; the proxy "
		  "saw:\n%s", daemon_log(p));
}

/* proxy = "" (no proxy, whatever the environment says) holds after a
 * redirect too: with http_proxy set, neither hop goes through the proxy. */
Test(client_proxy, no_proxy_option_holds_after_a_redirect)
{
	struct daemon *d = srv_start(PEER_NODE, "redirect", NULL);
	struct daemon *p = proxy_start(NULL);
	snprintf(proxy_url, sizeof(proxy_url), "http://127.0.0.1:%d", p->port);
	cli_start();
	setenv("http_proxy", proxy_url, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.proxy = "";
	o.follow_redirects = 1;
	char url[128];
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/start?to=localhost", d->port);
	connect_open(&G[0], url, &o, d);
	log_expect(d, 0, "\"event\":\"open\",\"path\":\"/real\"");
	cr_assert_eq(log_count(p, 0, "\"event\":\"connect\""), 0, "proxy = \"\", yet a hop went "
		     "through $http_proxy; the proxy saw:\n%s", daemon_log(p));
	unsetenv("http_proxy");
}

/* --- raw servers: answers no real server gives ------------------------------------ */

struct canned {
	int fd;
	int port;
	const char *answer;	/* a "%s" in it: the right Sec-WebSocket-Accept */
	pthread_t t;
};

/* SHA-1 (RFC 3174) and base64, the test's own, to compute a right
 * Sec-WebSocket-Accept without the library's help. */
static uint32_t rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1(const uint8_t *msg, size_t len, uint8_t out[20])
{
	uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
	size_t total = ((len + 8) / 64 + 1) * 64;
	uint8_t *m = calloc(1, total);
	if (!m)
		abort();	/* (the raw server's thread: no cr_assert here) */
	memcpy(m, msg, len);
	m[len] = 0x80;
	for (int i = 0; i < 8; i++)
		m[total - 1 - i] = (uint8_t)((uint64_t)len * 8 >> (8 * i));
	for (size_t off = 0; off < total; off += 64) {
		uint32_t w[80];
		for (int i = 0; i < 16; i++)
			w[i] = (uint32_t)m[off + 4 * i] << 24 | (uint32_t)m[off + 4 * i + 1] << 16 |
			       (uint32_t)m[off + 4 * i + 2] << 8 | m[off + 4 * i + 3];
		for (int i = 16; i < 80; i++)
			w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
		uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
		for (int i = 0; i < 80; i++) {
			uint32_t f, k;
			if (i < 20)
				f = (b & c) | (~b & d), k = 0x5A827999;
			else if (i < 40)
				f = b ^ c ^ d, k = 0x6ED9EBA1;
			else if (i < 60)
				f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
			else
				f = b ^ c ^ d, k = 0xCA62C1D6;
			uint32_t t = rol(a, 5) + f + e + k + w[i];
			e = d, d = c, c = rol(b, 30), b = a, a = t;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
	}
	free(m);
	for (int i = 0; i < 20; i++)
		out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static void accept_for(const char *key, size_t klen, char out[29])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char in[128];
	int n = snprintf(in, sizeof(in), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)klen, key);
	uint8_t d[21] = { 0 };
	sha1((const uint8_t *)in, (size_t)n, d);
	for (int i = 0, o = 0; i < 21; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	out[27] = '=';
	out[28] = 0;
}

static void *canned_main(void *arg)
{
	struct canned *cs = arg;
	int fd = accept(cs->fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	char req[4096];
	size_t n = 0;
	while (n < sizeof(req) - 1) {
		ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = 0;
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	char acc[29] = "", answer[1024];
	const char *k = strcasestr(req, "\r\nSec-WebSocket-Key:");
	if (k) {
		k += 20;
		while (*k == ' ')
			k++;
		accept_for(k, strcspn(k, "\r"), acc);
	}
	snprintf(answer, sizeof(answer), cs->answer, acc);
	ssize_t w = write(fd, answer, strlen(answer));
	(void)w;
	usleep(300 * 1000);
	close(fd);
	return NULL;
}

static void canned_start(struct canned *cs, const char *answer)
{
	memset(cs, 0, sizeof(*cs));
	cs->answer = answer;
	cs->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	cr_assert_eq(bind(cs->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(cs->fd, 4), 0);
	getsockname(cs->fd, (struct sockaddr *)&a, &al);
	cs->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&cs->t, NULL, canned_main, cs), 0);
}

static void canned_stop(struct canned *cs)
{
	shutdown(cs->fd, SHUT_RDWR);
	close(cs->fd);
	pthread_join(cs->t, NULL);
}

Test(client_raw, connection_refused)
{
	cli_start();
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(s, (struct sockaddr *)&a, &al);
	close(s);	/* nobody listens there now */
	char url[64], words[96];
	snprintf(url, sizeof(url), "ws://127.0.0.1:%u/", ntohs(a.sin_port));
	snprintf(words, sizeof(words), "cannot connect to 127.0.0.1:%u: Connection refused",
		 ntohs(a.sin_port));
	expect_error(url, NULL, -ECONNREFUSED, 0, words, NULL);
}

Test(client_raw, bad_sec_websocket_accept)
{
	cli_start();
	struct canned cs;
	canned_start(&cs, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
	char url[64];
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", cs.port);
	expect_error(url, NULL, RWS_CLIENT_E_HANDSHAKE, 0,
		     "Sec-WebSocket-Accept does not match the key sent", NULL);
	canned_stop(&cs);
}

/* Node ws only picks a subprotocol when the client offered some; a server
 * that names one to a client that offered none is a raw one. */
Test(client_raw, subprotocol_when_none_offered)
{
	cli_start();
	struct canned cs;
	canned_start(&cs, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
		     "Sec-WebSocket-Protocol: chat\r\n\r\n");
	char url[64];
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", cs.port);
	expect_error(url, NULL, RWS_CLIENT_E_HANDSHAKE, 0, "subprotocol the client did not offer",
		     NULL);
	canned_stop(&cs);
}

/* The raw server's control: with the right Accept and nothing else odd, the
 * connection opens (so the failures above are for what they name). */
Test(client_raw, raw_server_with_the_right_accept_opens)
{
	cli_start();
	struct canned cs;
	canned_start(&cs, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n");
	char url[64];
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", cs.port);
	connect_open(&G[0], url, NULL, NULL);
	canned_stop(&cs);
}
