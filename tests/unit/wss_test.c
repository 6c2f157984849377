/*
 * wss_test: TLS in the runtime, in-process: an embedded server with
 * rws_server_tls() and the library's client on wss://, with the test PKI of
 * tests/tls/make-certs.sh.
 *
 * Checked: echoes of every size both ways, with and without
 * permessage-deflate, over TLS 1.3, and what each side says was agreed;
 * SNI choosing the certificate (the client's host-name check proves it);
 * each verification failure reported to the client's on_error as
 * RWS_CLIENT_E_CERT with its cause, the insecure option connecting with a
 * warning, a CA file that cannot be used refused by rws_connect(); plain
 * HTTP on the TLS port answered 400 and logged, a ClientHello on a
 * plaintext port logged, a truncated handshake and a stalled one logged;
 * rws_server_tls()'s refusals; a reload that new connections see while an
 * open one keeps working, and a failed reload that changes nothing.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ringws.h"
#include "runtime/tls.h"
#include "clientrec.h"
#include "testutil.h"

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	test_pki_runner_init();
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	test_pki_runner_done();
}

static const char *pki;

static const char *file(const char *name, const char *ext)
{
	static char bufs[8][PATH_MAX];
	static unsigned next;
	char *b = bufs[next++ % 8];
	snprintf(b, PATH_MAX, "%s/%s.%s", pki, name, ext);
	return b;
}

/* --- the log of each side ------------------------------------------------------ */

struct log {
	pthread_mutex_t lock;
	char text[8192];
	size_t len;
};

static struct log srv_log, cli_log;

static void log_line(void *ctx, int level, const char *line)
{
	struct log *l = ctx;
	pthread_mutex_lock(&l->lock);
	int n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%d %s\n", level, line);
	if (n > 0 && l->len + (size_t)n < sizeof(l->text))
		l->len += (size_t)n;
	pthread_mutex_unlock(&l->lock);
}

/* Waits up to 5 s for the log to hold what. */
static int log_has(struct log *l, const char *what)
{
	for (int i = 0; i < 500; i++) {
		pthread_mutex_lock(&l->lock);
		int found = strstr(l->text, what) != NULL;
		pthread_mutex_unlock(&l->lock);
		if (found)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* --- the server: echo ------------------------------------------------------------- */

static char srv_version[32], srv_sni[64];

static void srv_open(void *ctx, struct rws_conn *c)
{
	(void)ctx;
	snprintf(srv_version, sizeof(srv_version), "%s", rws_conn_tls_version(c));
	snprintf(srv_sni, sizeof(srv_sni), "%s", rws_conn_tls_sni(c));
}

static void srv_message(void *ctx, struct rws_conn *c, const void *d, size_t n, int is_text)
{
	(void)ctx;
	rws_conn_send(c, d, n, is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY);
}

static struct rws_handler srv_h = { .struct_size = sizeof(struct rws_handler),
	.on_open = srv_open, .on_message = srv_message };

/* --- the client: clientrec.c ------------------------------------------------------ */

static int wait_until(struct got *g, int *flag)
{
	return got_wait(g, flag, 1);
}

static struct rws_server *srv, *cli;
static uint16_t port;

static void setup(void)
{
	char why[4096];
	pki = test_pki(why, sizeof(why));
	cr_assert(pki, "the test PKI: %s", why);
	memset(&srv_log, 0, sizeof(srv_log));
	memset(&cli_log, 0, sizeof(cli_log));
	pthread_mutex_init(&srv_log.lock, NULL);
	pthread_mutex_init(&cli_log.lock, NULL);
}

static void teardown(void)
{
	if (cli)
		rws_server_destroy(cli);
	if (srv)
		rws_server_destroy(srv);
	cli = srv = NULL;
}

TestSuite(wss, .init = setup, .fini = teardown, .timeout = 60);

/* The server, not started: TLS is given before the start. */
static void make_server(int deflate, uint32_t hs_timeout_ms)
{
	struct rws_server_options o;
	rws_server_options_default(&o);
	o.port = 0;
	o.threads = 1;
	o.deflate = deflate;
	o.log = log_line;
	o.log_ctx = &srv_log;
	if (hs_timeout_ms)
		o.handshake_timeout_ms = hs_timeout_ms;
	int err;
	char eb[256];
	srv = rws_server_create(&o, &err, eb, sizeof(eb));
	cr_assert_not_null(srv, "%s", eb);
	cr_assert_eq(rws_server_route(srv, "*", &srv_h), 0);
}

static void add_cert(const char *name)
{
	char eb[256] = "";
	int rc = rws_server_tls(srv, 0, file(name, "pem"), file(name, "key"), eb, sizeof(eb));
	cr_assert_eq(rc, 0, "rws_server_tls %s: %d %s", name, rc, eb);
}

static void start(void)
{
	char eb[256];
	int err;
	cr_assert_eq(rws_server_start(srv, eb, sizeof(eb)), 0, "%s", eb);
	port = rws_server_port(srv);
	struct rws_server_options co;
	rws_server_options_default(&co);
	co.listen = 0;
	co.threads = 1;
	co.log = log_line;
	co.log_ctx = &cli_log;
	cli = rws_server_create(&co, &err, eb, sizeof(eb));
	cr_assert_not_null(cli, "%s", eb);
	cr_assert_eq(rws_server_start(cli, eb, sizeof(eb)), 0, "%s", eb);
}

/* Connects g to url with the test CA (ca NULL: the system's; insecure). */
static void connect_to(struct got *g, const char *url, const char *ca, int insecure, int deflate)
{
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.ca_file = ca;
	o.insecure = insecure;
	o.deflate = deflate;
	o.family = AF_INET;
	o.handshake_timeout_ms = 5000;
	got_init(g);
	char eb[256] = "";
	struct rws_handler h = got_handler;
	h.ctx = g;
	cr_assert_eq(rws_connect(cli, url, &o, &h, g, eb, sizeof(eb)), 0, "%s: %s", url, eb);
}

static const char *url(const char *host, const char *path)
{
	static char u[256];
	snprintf(u, sizeof(u), "wss://%s:%u%s", host, port, path);
	return u;
}

static void echo(struct got *g, size_t n, int text)
{
	uint8_t *p = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++)
		p[i] = text ? (uint8_t)('a' + i % 26) : (uint8_t)(i * 131 + (i >> 9));
	pthread_mutex_lock(&g->lock);
	int want = g->nmsgs + 1;
	pthread_mutex_unlock(&g->lock);
	cr_assert_eq(rws_conn_send(g->c, p, n, text ? RWS_SEND_TEXT : RWS_SEND_BINARY), 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&g->lock);
	int rc = 0;
	while (g->nmsgs < want && !g->closed && rc == 0)
		rc = pthread_cond_timedwait(&g->cond, &g->lock, &ts);
	cr_assert_eq(g->nmsgs, want, "no echo of %zu bytes (closed %d, code %d)", n, g->closed,
		     g->close_code);
	cr_assert_eq(g->last_len, n);
	cr_assert(n == 0 || memcmp(g->last, p, n) == 0, "the echo of %zu bytes differs", n);
	pthread_mutex_unlock(&g->lock);
	free(p);
}

static void close_and_wait(struct got *g)
{
	rws_conn_close(g->c, 1000, "bye");
	cr_assert(wait_until(g, &g->closed), "no close");
	cr_assert_eq(g->close_code, 1000);
	free(g->last);
	g->last = NULL;
}

Test(wss, echoes_every_size_over_tls13_with_and_without_deflate)
{
	for (int deflate = 0; deflate < 2; deflate++) {
		make_server(deflate, 0);
		add_cert("server");
		start();
		struct got g;
		connect_to(&g, url("localhost", "/echo"), file("ca", "pem"), 0, deflate);
		cr_assert(wait_until(&g, &g.opened), "did not open: %d %s", g.err, g.msg);
		cr_assert_str_eq(g.version, "TLSv1.3");
		cr_assert(strstr(g.cipher, "GCM") || strstr(g.cipher, "CHACHA20"), "%s", g.cipher);
		cr_assert_str_eq(srv_version, "TLSv1.3");
		cr_assert_str_eq(srv_sni, "localhost");
		size_t sizes[] = { 0, 1, 125, 126, 16383, 16384, 16385, 65536, 200000, 1 << 20,
				   3 << 20 };
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			echo(&g, sizes[i], 1);
			echo(&g, sizes[i], 0);
		}
		close_and_wait(&g);
		teardown();
	}
}

Test(wss, many_messages_in_flight_keep_their_order)
{
	make_server(0, 0);
	add_cert("server");
	start();
	struct got g;
	connect_to(&g, url("127.0.0.1", "/"), file("ca", "pem"), 0, 0);
	cr_assert(wait_until(&g, &g.opened), "did not open: %s", g.msg);
	/* 300 messages sent at once; the last echo must be the last sent */
	char m[64];
	for (int i = 0; i < 300; i++) {
		int n = snprintf(m, sizeof(m), "message %d", i);
		cr_assert_eq(rws_conn_send(g.c, m, (size_t)n, RWS_SEND_TEXT), 0);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&g.lock);
	while (g.nmsgs < 300 && pthread_cond_timedwait(&g.cond, &g.lock, &ts) == 0)
		;
	cr_assert_eq(g.nmsgs, 300);
	cr_assert_eq(g.last_len, strlen("message 299"));
	cr_assert(memcmp(g.last, "message 299", g.last_len) == 0);
	pthread_mutex_unlock(&g.lock);
	close_and_wait(&g);
}

Test(wss, sni_picks_the_certificate_the_host_name_check_accepts)
{
	make_server(0, 0);
	add_cert("alpha");	/* the default: for alpha.test only */
	add_cert("beta");
	add_cert("server");	/* localhost */
	start();
	struct got g;
	connect_to(&g, url("localhost", "/"), file("ca", "pem"), 0, 0);
	cr_assert(wait_until(&g, &g.opened), "SNI localhost did not get its certificate: %s",
		  g.msg);
	cr_assert_str_eq(srv_sni, "localhost");
	close_and_wait(&g);
	/* an IP sends no name: the first certificate, which is not for it */
	struct got h;
	connect_to(&h, url("127.0.0.1", "/"), file("ca", "pem"), 0, 0);
	cr_assert(wait_until(&h, &h.failed), "connected without SNI to alpha's certificate");
	cr_assert_eq(h.err, RWS_CLIENT_E_CERT, "%d %s", h.err, h.msg);
	cr_assert(strstr(h.msg, "does not match"), "%s", h.msg);
}

static void refused_cert(const char *name, const char *ca, const char *host, const char *why)
{
	make_server(0, 0);
	add_cert(name);
	start();
	struct got g;
	connect_to(&g, url(host, "/"), ca, 0, 0);
	cr_assert(wait_until(&g, &g.failed), "%s: connected", name);
	cr_assert_eq(g.err, RWS_CLIENT_E_CERT, "%s: %d %s", name, g.err, g.msg);
	cr_assert(strstr(g.msg, why), "%s: \"%s\" lacks \"%s\"", name, g.msg, why);
	cr_assert_eq(g.opened, 0);
	/* the server goes on: a good client still connects */
	struct got ok;
	connect_to(&ok, url(host, "/"), ca, 1, 0);
	cr_assert(wait_until(&ok, &ok.opened), "insecure after a refusal: %s", ok.msg);
	close_and_wait(&ok);
	teardown();
}

Test(wss, each_verification_failure_names_its_cause)
{
	refused_cert("expired", file("ca", "pem"), "localhost", "expired");
	refused_cert("wrong", file("ca", "pem"), "localhost", "not signed by a trusted CA");
	refused_cert("alpha", file("ca", "pem"), "localhost", "host name");
	/* the system's CAs do not know the test CA */
	refused_cert("server", NULL, "localhost", "certificate verification failed");
}

Test(wss, insecure_connects_and_warns)
{
	make_server(0, 0);
	add_cert("wrong");
	start();
	struct got g;
	connect_to(&g, url("localhost", "/"), NULL, 1, 0);
	cr_assert(wait_until(&g, &g.opened), "%s", g.msg);
	echo(&g, 1000, 1);
	cr_assert(log_has(&cli_log, "1 wss://localhost: TLS certificate verification is off"),
		  "%s", cli_log.text);
	close_and_wait(&g);
}

Test(wss, a_ca_file_that_cannot_be_used_is_refused_at_once)
{
	make_server(0, 0);
	add_cert("server");
	start();
	struct rws_client_options o;
	rws_client_options_default(&o);
	o.ca_file = "/nonexistent/ca.pem";
	char eb[256] = "";
	struct got g;
	got_init(&g);
	struct rws_handler h = got_handler;
	h.ctx = &g;
	int rc = rws_connect(cli, url("localhost", "/"), &o, &h, &g, eb, sizeof(eb));
	cr_assert_eq(rc, -EINVAL, "%d %s", rc, eb);
	cr_assert(strstr(eb, "/nonexistent/ca.pem"), "%s", eb);
	o.ca_file = file("server", "key");	/* not a certificate */
	rc = rws_connect(cli, url("localhost", "/"), &o, &h, &g, eb, sizeof(eb));
	cr_assert_eq(rc, -EINVAL, "%d %s", rc, eb);
	cr_assert(strstr(eb, "server.key"), "%s", eb);
}

/* --- what a wrong peer gets ------------------------------------------------------ */

static int tcp_to(uint16_t p)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(p) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Reads until EOF (at most cap - 1 bytes, 5 s). */
static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t k;
	while (n < cap - 1 && (k = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = 0;
	return n;
}

Test(wss, plain_http_on_the_tls_port_gets_400_and_a_log_line)
{
	make_server(0, 0);
	add_cert("server");
	start();
	int fd = tcp_to(port);
	const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n";
	cr_assert_eq(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	char buf[1024];
	read_all(fd, buf, sizeof(buf));
	close(fd);
	cr_assert(strncmp(buf, "HTTP/1.1 400 ", 13) == 0, "%s", buf);
	cr_assert(strstr(buf, "TLS"), "%s", buf);
	cr_assert(log_has(&srv_log, "not TLS"), "%s", srv_log.text);
	cr_assert(log_has(&srv_log, "plain HTTP on a TLS port"), "%s", srv_log.text);
	/* nothing else is affected */
	struct got g;
	connect_to(&g, url("localhost", "/"), file("ca", "pem"), 0, 0);
	cr_assert(wait_until(&g, &g.opened), "%s", g.msg);
	close_and_wait(&g);
}

Test(wss, a_tls_client_on_a_plaintext_port_fails_and_is_logged)
{
	make_server(0, 0);	/* no certificate: plaintext */
	start();
	struct got g;
	connect_to(&g, url("localhost", "/"), file("ca", "pem"), 0, 0);
	cr_assert(wait_until(&g, &g.failed), "connected");
	cr_assert(g.err == RWS_CLIENT_E_TLS || g.err == -ECONNRESET, "%d %s", g.err, g.msg);
	cr_assert(log_has(&srv_log, "a TLS ClientHello on a plaintext port"), "%s", srv_log.text);
	/* and the server serves ws:// as before */
	struct got ok;
	char u[128];
	snprintf(u, sizeof(u), "ws://127.0.0.1:%u/", port);
	connect_to(&ok, u, NULL, 0, 0);
	cr_assert(wait_until(&ok, &ok.opened), "%s", ok.msg);
	echo(&ok, 10, 1);
	close_and_wait(&ok);
}

Test(wss, a_plain_client_on_a_tls_port_is_told_the_status)
{
	make_server(0, 0);
	add_cert("server");
	start();
	struct got g;
	char u[128];
	snprintf(u, sizeof(u), "ws://127.0.0.1:%u/", port);
	connect_to(&g, u, NULL, 0, 0);
	cr_assert(wait_until(&g, &g.failed), "opened");
	cr_assert_eq(g.err, RWS_CLIENT_E_STATUS, "%d %s", g.err, g.msg);
	cr_assert_eq(g.status, 400);
}

/* The first bytes of a real ClientHello (from the TLS layer, in memory). */
static size_t client_hello(uint8_t *out, size_t cap)
{
	char eb[200];
	struct rws_tls_ctx *ctx = rws_tls_ctx_client(NULL, 1, eb, sizeof(eb));
	cr_assert_not_null(ctx, "%s", eb);
	struct rws_tls *t = rws_tls_new_client(ctx, "localhost");
	uint8_t none[1];
	cr_assert_eq(rws_tls_read(t, none, 0), RWS_TLS_E_WANT);
	size_t n = rws_tls_out_len(t);
	cr_assert(n > 50 && n <= cap);
	memcpy(out, rws_tls_out(t), n);
	rws_tls_free(t);
	rws_tls_ctx_free(ctx);
	return n;
}

Test(wss, a_truncated_handshake_is_logged_and_ends_only_that_connection)
{
	make_server(0, 0);
	add_cert("server");
	start();
	uint8_t hello[4096];
	size_t n = client_hello(hello, sizeof(hello));
	int fd = tcp_to(port);
	cr_assert_eq(write(fd, hello, n / 2), (ssize_t)(n / 2));
	usleep(50000);
	close(fd);
	cr_assert(log_has(&srv_log, "TLS handshake not completed: the peer closed the connection"),
		  "%s", srv_log.text);
	/* a corrupted hello: a handshake failure, logged; the server goes on */
	hello[n - 3] ^= 0xff;
	hello[9] ^= 0x55;
	fd = tcp_to(port);
	cr_assert_eq(write(fd, hello, n), (ssize_t)n);
	char buf[512];
	read_all(fd, buf, sizeof(buf));
	close(fd);
	struct got g;
	connect_to(&g, url("localhost", "/"), file("ca", "pem"), 0, 0);
	cr_assert(wait_until(&g, &g.opened), "%s", g.msg);
	close_and_wait(&g);
}

Test(wss, a_stalled_handshake_ends_at_the_handshake_timeout)
{
	make_server(0, 300);
	add_cert("server");
	start();
	uint8_t hello[4096];
	size_t n = client_hello(hello, sizeof(hello));
	int fd = tcp_to(port);
	cr_assert_eq(write(fd, hello, 20), 20);
	char buf[64];
	size_t got = read_all(fd, buf, sizeof(buf));	/* EOF at the timeout */
	close(fd);
	cr_assert_eq(got, 0);
	(void)n;
	cr_assert(log_has(&srv_log, "TLS handshake not completed within 300 ms"), "%s",
		  srv_log.text);
}

/* --- configuration and reload ------------------------------------------------------ */

Test(wss, rws_server_tls_refuses_what_it_cannot_use)
{
	make_server(0, 0);
	char eb[256] = "";
	cr_assert_eq(rws_server_tls(srv, 0, "/nonexistent.pem", file("server", "key"), eb,
				    sizeof(eb)), -EINVAL);
	cr_assert(strstr(eb, "/nonexistent.pem"), "%s", eb);
	cr_assert_eq(rws_server_tls(srv, 0, file("server", "pem"), file("alpha", "key"), eb,
				    sizeof(eb)), -EINVAL);
	cr_assert(strstr(eb, "does not match"), "%s", eb);
	cr_assert_eq(rws_server_tls(srv, 3, file("server", "pem"), file("server", "key"), eb,
				    sizeof(eb)), -ENOENT);
	/* after the refusals the address is still plaintext */
	start();
	struct got g;
	char u[128];
	snprintf(u, sizeof(u), "ws://127.0.0.1:%u/", port);
	connect_to(&g, u, NULL, 0, 0);
	cr_assert(wait_until(&g, &g.opened), "%s", g.msg);
	close_and_wait(&g);
	cr_assert_eq(rws_server_tls(srv, 0, file("server", "pem"), file("server", "key"), eb,
				    sizeof(eb)), -EINVAL, "accepted after the start");
}

static void copy_file(const char *from, const char *to)
{
	char cmd[3 * PATH_MAX];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s.tmp' && mv '%s.tmp' '%s'", from, to, to, to);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(wss, reload_serves_new_connections_and_keeps_open_ones)
{
	char cert[PATH_MAX], key[PATH_MAX];
	snprintf(cert, sizeof(cert), "%s/reload-%d.pem", pki, (int)getpid());
	snprintf(key, sizeof(key), "%s/reload-%d.key", pki, (int)getpid());
	copy_file(file("alpha", "pem"), cert);
	copy_file(file("alpha", "key"), key);
	make_server(0, 0);
	char eb[256] = "";
	cr_assert_eq(rws_server_tls(srv, 0, cert, key, eb, sizeof(eb)), 0, "%s", eb);
	start();
	/* alpha's certificate is not for localhost: refused, insecure works */
	struct got old;
	connect_to(&old, url("localhost", "/"), file("ca", "pem"), 1, 0);
	cr_assert(wait_until(&old, &old.opened), "%s", old.msg);
	struct got g;
	connect_to(&g, url("localhost", "/"), file("ca", "pem"), 0, 0);
	cr_assert(wait_until(&g, &g.failed), "verified alpha for localhost");
	/* a new certificate for localhost */
	copy_file(file("server", "pem"), cert);
	copy_file(file("server", "key"), key);
	cr_assert_eq(rws_server_tls_reload(srv, eb, sizeof(eb)), 1, "%s", eb);
	struct got ok;
	connect_to(&ok, url("localhost", "/"), file("ca", "pem"), 0, 0);
	cr_assert(wait_until(&ok, &ok.opened), "after the reload: %s", ok.msg);
	echo(&ok, 5000, 0);
	echo(&old, 5000, 0);	/* the open one works on */
	/* a reload that fails changes nothing */
	copy_file(file("rsa", "key"), key);
	int rc = rws_server_tls_reload(srv, eb, sizeof(eb));
	cr_assert(rc < 0, "reloaded a key that does not match");
	cr_assert(strstr(eb, "does not match"), "%s", eb);
	struct got again;
	connect_to(&again, url("localhost", "/"), file("ca", "pem"), 0, 0);
	cr_assert(wait_until(&again, &again.opened), "after a failed reload: %s", again.msg);
	echo(&old, 100, 1);
	close_and_wait(&again);
	close_and_wait(&ok);
	close_and_wait(&old);
	unlink(cert);
	unlink(key);
}
