/*
 * daemon_test: what ringwsd does as a program, outside the WebSocket
 * protocol: refusing bad plugins, shutting down on SIGTERM, its log, several
 * listen addresses, HTTP answers for what is not an upgrade (404, 426, 503),
 * the handshake timeout, and its TLS settings (--tls-cert/--tls-key,
 * [listen] sections, the certificate errors it refuses to start with, and
 * SIGHUP reloading the certificates). The TLS tests take their
 * certificates from tests/tls/make-certs.sh, made once into the build
 * tree, and check what a listener serves with openssl s_client.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "wsraw.h"

/* the folder of a test's config files and certificate copies (made on
 * first use, removed after each test) */
static char tmpdir[64];

static void cleanup(void)
{
	harness_teardown();
	if (tmpdir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "daemon_test: could not remove %s\n", tmpdir);
		tmpdir[0] = 0;
	}
}

TestSuite(daemon, .fini = cleanup, .timeout = 30);

#define UPGRADE_HEADERS                                                     \
	"Upgrade: websocket\r\nConnection: Upgrade\r\n"                     \
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"

/* Sends a request for path (with the upgrade headers if upgrade) and
 * returns the response status; *fdp keeps the connection open if given. */
static int request(struct daemon *d, const char *path, int upgrade, char *head, size_t cap,
		   int *fdp)
{
	int fd = tcp_connect(d->port, 5000);
	char req[512];
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n", path, d->port,
		 upgrade ? UPGRADE_HEADERS : "");
	cr_assert_eq(tcp_send(fd, req, strlen(req)), 0);
	int st = http_read_head(fd, head, cap);
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return st;
}

/* A plugin refused by the loader: exit status 2, its path in the message,
 * never a listening line. */
static void expect_refused(const char *plugin, int want_status)
{
	const char *so = harness_build(plugin);
	const char *args[] = { "--listen", "127.0.0.1:0", "--route", NULL, NULL };
	char r[512];
	snprintf(r, sizeof(r), "/=%s", so);
	args[3] = r;
	struct daemon *d = daemon_spawn(args);
	int st = daemon_wait_exit(d, 10000);
	const char *log = daemon_log(d);
	cr_assert(st >= 0, "ringwsd still running with %s; stderr:\n%s", plugin, log);
	cr_assert(WIFEXITED(st), "ringwsd died of signal %d with %s; stderr:\n%s",
		  WIFSIGNALED(st) ? WTERMSIG(st) : 0, plugin, log);
	if (want_status)
		cr_assert_eq(WEXITSTATUS(st), want_status, "%s: exit %d, wanted %d; stderr:\n%s", plugin,
			     WEXITSTATUS(st), want_status, log);
	else
		cr_assert_neq(WEXITSTATUS(st), 0, "%s: exit 0; stderr:\n%s", plugin, log);
	const char *base = strrchr(so, '/') + 1;
	cr_assert(strstr(log, base), "the message does not name %s:\n%s", base, log);
	cr_assert(strstr(log, "ringwsd: error: "), "the message is not an error line:\n%s", log);
	cr_assert(!strstr(log, "listening on"), "ringwsd listened with %s:\n%s", plugin, log);
}

/* a major ABI version other than ours */
Test(daemon, plugin_bad_abi_major)
{
	expect_refused("test-plugins/badabi.so", 2);
}

/* a minor ABI version newer than ours */
Test(daemon, plugin_newer_abi_minor)
{
	expect_refused("test-plugins/newminor.so", 2);
}

/* no rws_plugin_entry symbol */
Test(daemon, plugin_without_entry)
{
	expect_refused("test-plugins/noentry.so", 2);
}

/* init() returning an error: ringwsd does not start (and never calls fini,
 * which would abort) */
Test(daemon, plugin_init_fails)
{
	expect_refused("test-plugins/failinit.so", 0);
}

/* io_uring refused (a container's seccomp profile): one clear line, exit 1 */
Test(daemon, io_uring_unavailable)
{
	harness_deny_io_uring = 1;
	const char *args[] = { "--listen", "127.0.0.1:0", "--route", route("/", "echo"), NULL };
	struct daemon *d = daemon_spawn(args);
	int st = daemon_wait_exit(d, 10000);
	harness_deny_io_uring = 0;
	const char *log = daemon_log(d);
	cr_assert_neq(st, -1, "ringwsd did not exit:\n%s", log);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit status %d:\n%s", st, log);
	cr_assert(strstr(log, "io_uring is unavailable"), "no clear message:\n%s", log);
	cr_assert(strncmp(log, "ringwsd: error: ", 16) == 0, "not an error line:\n%s", log);
	cr_assert(!strstr(log, "listening on"), "%s", log);
	/* one line */
	const char *nl = strchr(log, '\n');
	cr_assert(nl && !strchr(nl + 1, '\n'), "more than one line:\n%s", log);
}

/* Waits up to 5 s for text in the daemon's log: 0 when it is there. */
static int wait_log(struct daemon *d, const char *text)
{
	long long end = now_ms() + 5000;
	while (!strstr(daemon_log(d), text))
		if (now_ms() >= end)
			return -1;
		else
			usleep(10000);
	return 0;
}

/* Waits up to 5 s until ringwsd (pid) has its signals set up: it blocks
 * SIGTERM, SIGINT and SIGHUP and then ignores SIGPIPE, first thing. (The
 * blocked mask itself cannot tell: sigwait() lifts it while it waits.)
 * Returns 0, or -1. */
static int wait_signals_set(pid_t pid)
{
	char path[64], line[256];
	long long end = now_ms() + 5000;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	do {
		FILE *f = fopen(path, "r");
		unsigned long long ign = 0;
		if (f) {
			while (fgets(line, sizeof(line), f))
				if (sscanf(line, "SigIgn: %llx", &ign) == 1)
					break;
			fclose(f);
		}
		if (ign & (1ull << (SIGPIPE - 1)))
			return 0;
		usleep(10000);
	} while (now_ms() < end);
	return -1;
}

/* Warnings and errors say so; --log-level drops the lines below it, from
 * the command line or the config file; debug names the routes; a bad level
 * is a usage error */
Test(daemon, log_levels)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--log-level", "debug", NULL);
	const char *log = daemon_log(d);
	cr_assert(strstr(log, "ringwsd: debug: route /: plugin 'echo'"), "no debug line:\n%s", log);
	kill(d->pid, SIGHUP);
	cr_assert_eq(wait_log(d, "ringwsd: warning: SIGHUP: no TLS listener, nothing to reload"), 0,
		     "no warning:\n%s", daemon_log(d));
	int st = daemon_stop(d);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %d", st);

	/* at warning, the info lines go: no "listening on", no "shutting down" */
	char conf[] = "/tmp/ringwsd-log-XXXXXX";
	int fd = mkstemp(conf);
	cr_assert(fd >= 0);
	const char *text = "log-level = warning\n";
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	const char *quiet[] = { "--listen", "127.0.0.1:0", "--config", conf, "--route",
				route("/", "echo"), NULL };
	d = daemon_spawn(quiet);
	cr_assert_eq(wait_signals_set(d->pid), 0, "ringwsd never set up its signals");
	kill(d->pid, SIGHUP);
	cr_assert_eq(wait_log(d, "ringwsd: warning: SIGHUP"), 0, "no warning:\n%s", daemon_log(d));
	st = daemon_stop(d);
	unlink(conf);
	log = daemon_log(d);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %d:\n%s", st, log);
	cr_assert(!strstr(log, "listening on") && !strstr(log, "shutting down"),
		  "info lines at level warning:\n%s", log);

	const char *bad[] = { "--listen", "127.0.0.1:0", "--route", route("/", "echo"),
			      "--log-level", "loud", NULL };
	d = daemon_spawn(bad);
	st = daemon_wait_exit(d, 10000);
	log = daemon_log(d);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "wait status %d:\n%s", st, log);
	cr_assert(strstr(log, "ringwsd: error: --log-level: 'loud'"), "%s", log);
}

/* Is ::1 there to listen on (not in a container without IPv6)? */
static int have_ipv6_loopback(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* The port of the nth (0-based) "listening on PREFIX" line, waiting up to
 * 5 s for it; 0 if it never comes. */
static int listening_port(struct daemon *d, const char *prefix, int nth)
{
	char key[128];
	long long end = now_ms() + 5000;
	snprintf(key, sizeof(key), "ringwsd: listening on %s", prefix);
	do {
		const char *log = daemon_log(d), *p = log;
		for (int i = 0; (p = strstr(p, key)); i++, p += strlen(key))
			if (i == nth && strchr(p, '\n'))
				return atoi(p + strlen(key));
		usleep(10000);
	} while (now_ms() < end);
	return 0;
}

/* --listen twice (127.0.0.1 and [::1], or two ports of 127.0.0.1 where
 * there is no IPv6): one listening line for each, and the echo works
 * through both */
Test(daemon, two_listen_addresses)
{
	int v6 = have_ipv6_loopback();
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--listen",
					v6 ? "[::1]:0" : "127.0.0.1:0", "--threads", "2", NULL);
	int port2 = v6 ? listening_port(d, "[::1]:", 0) : listening_port(d, "127.0.0.1:", 1);
	cr_assert_gt(port2, 0, "no listening line for the second address:\n%s", daemon_log(d));
	cr_assert_neq(port2, d->port, "both addresses on port %d:\n%s", port2, daemon_log(d));
	const char *log = daemon_log(d);
	cr_assert(strncmp(log, "ringwsd: listening on 127.0.0.1:", 32) == 0,
		  "the first address's line is not the first line:\n%s", log);

	char url2[64];
	snprintf(url2, sizeof(url2), "ws://%s:%d/", v6 ? "[::1]" : "127.0.0.1", port2);
	peer_expect_ok(d, PEER_NODE, "echo", "/", NULL);
	struct peer *p = peer_start(PEER_NODE, "echo", url2, NULL);
	int rc = peer_finish(p, 40000);
	cr_assert_eq(rc, 0, "echo through %s: exit %d\n  result: %s\n  stderr: %s\n"
		     "  ringwsd stderr:\n%s", url2, rc, p->line, p->err, daemon_log(d));
	int st = daemon_stop(d);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %d:\n%s", st, daemon_log(d));
}

/* SIGTERM with a message still queued: the whole echo arrives first, then
 * the 1001, and ringwsd exits 0 after the closing handshake */
Test(daemon, sigterm_loses_no_queued_message)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), NULL);
	int fd = ws_open_with(d->port, "/", "");
	size_t n = 8u << 20;
	uint8_t *msg = random_bytes(n, 42);
	send_frame(fd, FIN | OP_BINARY, msg, n);
	/* the echo's header proves the server has the whole echo queued (it
	 * is queued in one call); we read no more, so most of it waits in the
	 * server's queue when SIGTERM arrives */
	uint8_t hdr[10];
	cr_assert_eq(tcp_read(fd, hdr, sizeof(hdr)), 0);
	cr_assert_eq(hdr[0], FIN | OP_BINARY);
	cr_assert_eq(hdr[1], 127);
	cr_assert_eq(kill(d->pid, SIGTERM), 0);
	uint8_t *got = malloc(n);
	cr_assert_eq(tcp_read(fd, got, n), 0, "the rest of the queued echo");
	cr_assert(memcmp(got, msg, n) == 0, "the echo arrived intact");
	struct frame f;
	int rc = next_frame(fd, &f);
	cr_assert_eq(rc, 0, "after the echo: %s\nringwsd:\n%s", frame_describe(rc, &f), daemon_log(d));
	cr_assert_eq(f.op, OP_CLOSE);
	cr_assert_eq(frame_close_code(&f), 1001);
	frame_free(&f);
	send_close(fd, 1001, "");
	cr_assert_eq(tcp_expect_eof(fd, EOF_MS, NULL), 0, "TCP closed after the handshake");
	close(fd);
	int st = daemon_wait_exit(d, 10000);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %d:\n%s", st, daemon_log(d));
	free(got);
	free(msg);
}

/* 10,000 connections open at once (Node ws), each echoing one message;
 * with --threads 2 both reactors take a share (ringwsd logs each one's
 * count at exit) */
Test(daemon, ten_thousand_connections_on_both_reactors, .timeout = 120)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--threads", "2", NULL);
	peer_expect_ok(d, PEER_NODE, "many", "/", "n=10000", NULL);
	int st = daemon_stop(d);
	const char *log = daemon_log(d);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %d:\n%s", st, log);
	unsigned long long n[2] = { 0, 0 };
	for (int i = 0; i < 2; i++) {
		char key[32];
		snprintf(key, sizeof(key), "reactor %d: ", i);
		const char *p = strstr(log, key);
		cr_assert(p, "no line for reactor %d:\n%s", i, log);
		n[i] = strtoull(p + strlen(key), NULL, 10);
		cr_assert_gt(n[i], 0, "reactor %d accepted nothing:\n%s", i, log);
	}
	cr_assert_eq(n[0] + n[1], 10000, "%s", log);
}

/* SIGTERM: each of 20 Node ws clients gets close 1001; ringwsd exits 0 */
Test(daemon, sigterm_closes_every_client)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--threads", "2", NULL);
	struct peer *p = peer_start(PEER_NODE, "wait_close", daemon_url(d, "/"), "n=20",
				    "expect=1001", NULL);
	cr_assert_eq(peer_read_line(p, 20000), 0, "clients never connected: %s\n%s", p->line, p->err);
	int st = daemon_stop(d);
	int rc = peer_finish(p, 15000);
	cr_assert_eq(rc, 0, "clients after SIGTERM: %s\n%s\nringwsd stderr:\n%s", p->line, p->err,
		     daemon_log(d));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "ringwsd after SIGTERM: wait status %d (exit %d, signal %d); stderr:\n%s", st,
		  WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0,
		  daemon_log(d));
}

/* a path with no route: 404, upgrade or not */
Test(daemon, unknown_path_404)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--route",
					route("/chat", "chat"), NULL);
	char head[4096];
	int st = request(d, "/nowhere", 1, head, sizeof(head), NULL);
	cr_assert_eq(st, 404, "upgrade to /nowhere: got %d:\n%s", st, head);
	st = request(d, "/chat/more", 0, head, sizeof(head), NULL);
	cr_assert_eq(st, 404, "GET /chat/more: got %d:\n%s", st, head);
}

/* plain HTTP to a route: 426 Upgrade Required, naming the protocol to
 * upgrade to (RFC 9110 15.5.22: the Upgrade header is a MUST) */
Test(daemon, plain_http_426)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), NULL);
	char head[4096], v[64];
	int st = request(d, "/", 0, head, sizeof(head), NULL);
	cr_assert_eq(st, 426, "plain GET /: got %d:\n%s", st, head);
	cr_assert(http_header(head, "Upgrade", v, sizeof(v)) == 0 && strcasestr(v, "websocket"),
		  "426 without Upgrade: websocket:\n%s", head);
}

/* Closes a raw WebSocket connection with a masked close 1000 and waits for
 * TCP to close. */
static void ws_close_raw(int fd)
{
	static const unsigned char close1000[] = { 0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2 };
	cr_assert_eq(tcp_send(fd, close1000, sizeof(close1000)), 0);
	unsigned char h[4];
	cr_assert_eq(tcp_read(fd, h, 4), 0, "no close reply");
	cr_assert(h[0] == 0x88 && h[1] == 2 && h[2] == 0x03 && h[3] == 0xe8,
		  "close reply %02x %02x %02x %02x", h[0], h[1], h[2], h[3]);
	cr_assert_eq(tcp_expect_eof(fd, 3000, NULL), 0, "TCP still open after the close handshake");
	close(fd);
}

/* --max-connections 2: the third upgrade gets 503; once one closes, a new
 * one is accepted */
Test(daemon, max_connections_503)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--max-connections", "2", NULL);
	char head[4096];
	int a, b;
	cr_assert_eq(request(d, "/", 1, head, sizeof(head), &a), 101, "first: %s", head);
	cr_assert_eq(request(d, "/", 1, head, sizeof(head), &b), 101, "second: %s", head);
	int st = request(d, "/", 1, head, sizeof(head), NULL);
	cr_assert_eq(st, 503, "third connection: got %d:\n%s", st, head);
	ws_close_raw(a);
	long long end = now_ms() + 2000;
	do {
		st = request(d, "/", 1, head, sizeof(head), &a);
		if (st != 101) {
			close(a);
			usleep(20000);
		}
	} while (st != 101 && now_ms() < end);
	cr_assert_eq(st, 101, "after one closed, still refused: %d:\n%s", st, head);
	ws_close_raw(a);
	ws_close_raw(b);
}

/* Time until the server closes fd, in ms (-1 if it sends data instead). */
static long long time_to_close(int fd, long long start)
{
	int rc = tcp_expect_eof(fd, 5000, NULL);
	cr_assert_neq(rc, -EAGAIN, "connection still open after 5 s");
	return rc == 0 ? now_ms() - start : -1;
}

/* --handshake-timeout 500: a silent connection and a half-sent request are
 * closed after about 500 ms; an upgraded connection is not */
Test(daemon, handshake_timeout)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--handshake-timeout", "500",
					NULL);
	long long t0 = now_ms();
	int idle = tcp_connect(d->port, 5000);
	int half = tcp_connect(d->port, 5000);
	const char *part = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n";
	cr_assert_eq(tcp_send(half, part, strlen(part)), 0);
	char head[4096];
	int up;
	cr_assert_eq(request(d, "/", 1, head, sizeof(head), &up), 101, "%s", head);

	long long t = time_to_close(idle, t0);
	cr_assert(t >= 400 && t <= 2500, "idle connection closed after %lld ms, wanted ~500", t);
	t = time_to_close(half, t0);
	cr_assert(t >= 400 && t <= 2500, "half-sent request closed after %lld ms, wanted ~500", t);
	close(idle);
	close(half);

	usleep(300000);	/* the upgraded connection is well past 500 ms now */
	static const unsigned char ping[] = { 0x89, 0x80, 9, 8, 7, 6 };
	cr_assert_eq(tcp_send(up, ping, sizeof(ping)), 0);
	unsigned char pong[2];
	cr_assert_eq(tcp_read(up, pong, 2), 0, "upgraded connection closed by the handshake timeout");
	cr_assert(pong[0] == 0x8a && pong[1] == 0, "pong %02x %02x", pong[0], pong[1]);
	ws_close_raw(up);
}

static void expect_usage_error(const char *opt, const char *val, const char *says);

/* --ping-interval 200 --pong-timeout 100: a client that never answers
 * is dropped within a beat and its timeout; one that answers every ping
 * with a pong stays open and echoes */
Test(daemon, heartbeat_drops_silent_clients)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--ping-interval", "200",
					"--pong-timeout", "100", NULL);
	long long t0 = now_ms();
	int silent = ws_open_with(d->port, "/", "");
	int live = ws_open_with(d->port, "/", "");
	/* the live one answers pings for 1.2 s */
	int pings = 0;
	while (now_ms() - t0 < 1200) {
		struct frame f;
		int rc = next_frame(live, &f);
		cr_assert_eq(rc, 0, "live client: %s", frame_describe(rc, &f));
		cr_assert_eq(f.op, 0x9, "live client got opcode %d", f.op);
		send_frame(live, 0x8A, f.data, f.len);
		frame_free(&f);
		pings++;
	}
	cr_assert_geq(pings, 4, "%d pings in 1.2 s at a 200 ms interval", pings);
	/* the silent one was sent a ping (which it read only now), then
	 * dropped: EOF without a close frame */
	struct frame f;
	int rc, frames = 0;
	while ((rc = next_frame(silent, &f)) == 0) {
		cr_assert_eq(f.op, 0x9, "silent client got opcode %d", f.op);
		frame_free(&f);
		frames++;
	}
	cr_assert_eq(rc, -EPIPE, "silent client: %s", frame_describe(rc, &f));
	cr_assert_eq(frames, 1, "the silent client was pinged %d times before it was dropped", frames);
	close(silent);
	echo_one(live, 0x1, "still here", 10);
	close(live);
	/* a bad value is a usage error naming the option */
	expect_usage_error("--ping-interval", "soon", "--ping-interval");
}

/* A bad receive-buffer or zero-copy setting is a usage error naming it */
static void expect_usage_error(const char *opt, const char *val, const char *says)
{
	const char *args[] = { "--listen", "127.0.0.1:0", "--route", route("/", "echo"), opt, val,
			       NULL };
	struct daemon *d = daemon_spawn(args);
	int st = daemon_wait_exit(d, 10000);
	const char *log = daemon_log(d);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s %s: status %d:\n%s", opt, val,
		  st, log);
	cr_assert(strstr(log, opt) && strstr(log, says), "%s %s: message:\n%s", opt, val, log);
}

Test(daemon, buffer_settings_checked)
{
	expect_usage_error("--recv-buffers", "3", "power of two");
	expect_usage_error("--recv-buffers", "65536", "");
	expect_usage_error("--recv-buffer-size", "100", "below 512");
	expect_usage_error("--recv-buffer-size", "2M", "");
	expect_usage_error("--send-zc-min", "lots", "");
}

/* Small receive buffers and zero-copy sends from 16 KiB: messages that span
 * many buffers, and echoes sent from registered memory, arrive intact */
Test(daemon, small_buffers_and_zero_copy_sends)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--threads", "1", "--recv-buffers", "16",
					"--recv-buffer-size", "4K", "--send-zc-min", "16K", NULL);
	int fd = ws_open_with(d->port, "/", "");
	size_t sizes[] = { 100, 20000, 100000, 300000 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *msg = random_bytes(sizes[i], (unsigned)i);
		send_frame(fd, FIN | OP_BINARY, msg, sizes[i]);
		expect_message(fd, OP_BINARY, msg, sizes[i]);
		free(msg);
	}
	close_with(fd, 1000);
	close(fd);
	/* the reactor's counts at exit: the 20000- and 100000-byte echoes
	 * went zero-copy, and the small buffers ran short at times or not */
	cr_assert_eq(kill(d->pid, SIGTERM), 0);
	int st = daemon_wait_exit(d, 10000);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d:\n%s", st, daemon_log(d));
	const char *zc = strstr(daemon_log(d), "shortages, ");
	cr_assert_not_null(zc, "no stats line:\n%s", daemon_log(d));
	cr_assert_geq(atoi(zc + 11), 2, "zero-copy sends:\n%s", daemon_log(d));
}

/* --- TLS settings ---------------------------------------------------------- */

/* NAME.EXT of the test PKI */
static const char *pki(const char *name, const char *ext)
{
	return harness_pki(name, ext);
}

/* tmpdir/name (tmpdir made on first use); the string lives until the
 * process ends. */
static const char *tmp_path(const char *name)
{
	char *path;

	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/ringwsd-daemon-XXXXXX");
		cr_assert(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	}
	cr_assert(asprintf(&path, "%s/%s", tmpdir, name) >= 0);
	return path;
}

/* Writes n bytes of data to tmpdir/name (replacing it); its path. */
static const char *put_file(const char *name, const void *data, size_t n)
{
	const char *path = tmp_path(name);
	/* write a new file and rename it over the old one, as an operator's
	 * tools do: ringwsd never reads half a file */
	char *part;
	cr_assert(asprintf(&part, "%s.part", path) >= 0);
	FILE *f = fopen(part, "w");
	cr_assert(f, "%s: %s", part, strerror(errno));
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(rename(part, path), 0, "rename %s: %s", part, strerror(errno));
	free(part);
	return path;
}

/* Copies the PKI's NAME.EXT into tmpdir as NAME.EXT (or as `as`); its path. */
static const char *copy_pki(const char *name, const char *ext, const char *as)
{
	static char data[64 * 1024];
	char base[128];
	const char *from = pki(name, ext);
	FILE *f = fopen(from, "r");
	cr_assert(f, "%s: %s", from, strerror(errno));
	size_t n = fread(data, 1, sizeof(data), f);
	fclose(f);
	snprintf(base, sizeof(base), "%s.%s", name, ext);
	return put_file(as ? as : base, data, n);
}

/* Writes tmpdir/ringwsd.conf from a printf format; its path. */
static const char *tls_conf(const char *format, ...) __attribute__((format(printf, 1, 2)));
static const char *tls_conf(const char *format, ...)
{
	char *text;
	va_list ap;
	va_start(ap, format);
	cr_assert(vasprintf(&text, format, ap) >= 0);
	va_end(ap);
	const char *path = put_file("ringwsd.conf", text, strlen(text));
	free(text);
	return path;
}


/* "FILE:LINE: " for messages about a config file's line */
static const char *at_line(const char *file, int line)
{
	char *s;
	cr_assert(asprintf(&s, "%s:%d: ", file, line) >= 0);
	return s;
}

/* What openssl s_client printed (stdout and stderr) after connecting to
 * 127.0.0.1:port with SNI name sni (NULL: none), verifying against the test
 * CA, and writing request (NULL: nothing) once the handshake is done. It
 * ends when its input does, a second after the request. */
static const char *s_client(int port, const char *sni, const char *request)
{
	char cmd[4096], sn[300];
	static char out[64 * 1024];

	if (sni)
		snprintf(sn, sizeof(sn), "-servername %s", sni);
	else
		snprintf(sn, sizeof(sn), "-noservername");
	snprintf(cmd, sizeof(cmd), "(printf '%%s' '%s'; sleep 1) | timeout 10 openssl s_client "
		 "-connect 127.0.0.1:%d %s -CAfile '%s' -verify_return_error 2>&1",
		 request ? request : "", port, sn, pki("ca", "pem"));
	FILE *f = popen(cmd, "r");
	cr_assert(f, "popen: %s", cmd);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	pclose(f);
	return out;
}

/* The handshake with 127.0.0.1:port (SNI sni) verified, and the server's
 * certificate is for cn. */
static void expect_cert(struct daemon *d, int port, const char *sni, const char *cn)
{
	const char *out = s_client(port, sni, NULL);
	char want[128];
	snprintf(want, sizeof(want), "CN = %s\n", cn);
	const char *subject = strstr(out, "subject=");
	cr_assert(subject && strstr(subject, want) && strstr(out, "Verify return code: 0 (ok)"),
		  "port %d, SNI %s: not a verified certificate for %s:\n%s\nringwsd:\n%s", port,
		  sni ? sni : "(none)", cn, out, daemon_log(d));
	cr_assert(strchr(subject, '\n') == strstr(subject, want) + strlen(want) - 1,
		  "port %d, SNI %s: the subject is not %s:\n%s", port, sni ? sni : "(none)", cn, out);
}

#define UPGRADE_REQUEST "GET / HTTP/1.1\r\nHost: localhost\r\n" UPGRADE_HEADERS "\r\n"

/* A WebSocket upgrade over TLS to 127.0.0.1:port is answered 101. */
static void expect_upgrade_over_tls(struct daemon *d, int port)
{
	const char *out = s_client(port, "localhost", UPGRADE_REQUEST);
	cr_assert(strstr(out, "HTTP/1.1 101 "), "no 101 over TLS on port %d:\n%s\nringwsd:\n%s", port,
		  out, daemon_log(d));
}

/* The nth (0-based) "ringwsd: listening on " line, waiting up to 5 s for
 * it; "" if it never comes. */
static const char *listening_line(struct daemon *d, int nth)
{
	static const char key[] = "ringwsd: listening on ";
	long long end = now_ms() + 5000;
	do {
		const char *log = daemon_log(d), *p = log, *nl;
		for (int i = 0; (p = strstr(p, key)); i++, p += strlen(key))
			if (i == nth && (nl = strchr(p, '\n')))
				return strndup(p, (size_t)(nl - p));
		usleep(10000);
	} while (now_ms() < end);
	return "";
}

/* The port of a listening line. */
static int line_port(const char *line)
{
	const char *sp = strstr(line, " (");
	const char *colon = sp ? sp : line + strlen(line);
	while (colon > line && colon[-1] != ':')
		colon--;
	return atoi(colon);
}

/* --tls-cert without its --tls-key (or the reverse, or a second --tls-cert
 * before the first's key): a usage error naming it */
Test(daemon, tls_pair_incomplete_on_command_line)
{
	const char *echo = route("/", "echo");
	const char *a1[] = { "--listen", "127.0.0.1:0", "--route", echo, "--tls-cert",
			     pki("server", "pem"), NULL };
	daemon_expect_exit2(a1, "--tls-cert '", pki("server", "pem"), "' has no --tls-key", NULL);
	const char *a2[] = { "--listen", "127.0.0.1:0", "--route", echo, "--tls-key",
			     pki("server", "key"), NULL };
	daemon_expect_exit2(a2, "--tls-key '", "' has no --tls-cert", NULL);
	const char *a3[] = { "--listen", "127.0.0.1:0", "--route", echo, "--tls-cert",
			     pki("server", "pem"), "--tls-cert", pki("alpha", "pem"), "--tls-key",
			     pki("alpha", "key"), NULL };
	daemon_expect_exit2(a3, "--tls-cert: ", "the --tls-cert before it", "has no --tls-key", NULL);
	/* a whole pair, then half of another */
	const char *a4[] = { "--listen", "127.0.0.1:0", "--route", echo, "--tls-cert",
			     pki("server", "pem"), "--tls-key", pki("server", "key"), "--tls-cert",
			     pki("alpha", "pem"), NULL };
	daemon_expect_exit2(a4, "--tls-cert '", pki("alpha", "pem"), "' has no --tls-key", NULL);
}

/* The same in the config file, naming the line where the pair began: among
 * the server settings, in a [listen] section, and a second tls-cert
 * before the first's key */
Test(daemon, tls_pair_incomplete_in_file)
{
	const char *pem = copy_pki("server", "pem", NULL);
	copy_pki("server", "key", NULL);
	copy_pki("alpha", "key", NULL);
	copy_pki("alpha", "pem", NULL);
	const char *echo = harness_build("plugins/echo.so");

	const char *f = tls_conf("# server settings\n"
				 "tls-cert = server.pem\n"
				 "threads = 1\n"
				 "[route /]\n"
				 "plugin = %s\n", echo);
	const char *a[] = { "--config", f, NULL };
	char says[512];
	snprintf(says, sizeof(says), "tls-cert '%s' has no tls-key to go with it", pem);
	daemon_expect_exit2(a, at_line(f, 2), says, NULL);

	f = tls_conf("[listen 127.0.0.1:0]\n"
		     "tls-cert = server.pem\n"
		     "tls-key = server.key\n"
		     "tls-key = alpha.key\n"
		     "[route /]\n"
		     "plugin = %s\n", echo);
	daemon_expect_exit2(a, at_line(f, 4), "tls-key '", "alpha.key' has no tls-cert to go with it",
		     NULL);

	/* the file's own end closes the last section too */
	f = tls_conf("[route /]\n"
		     "plugin = %s\n"
		     "[listen 127.0.0.1:0]\n"
		     "tls-cert = alpha.pem\n", echo);
	daemon_expect_exit2(a, at_line(f, 4), "tls-cert '", "alpha.pem' has no tls-key", NULL);

	f = tls_conf("threads = 1\n"
		     "tls-cert = server.pem\n"
		     "tls-cert = alpha.pem\n"
		     "tls-key = alpha.key\n"
		     "[route /]\n"
		     "plugin = %s\n", echo);
	snprintf(says, sizeof(says), "the tls-cert before it ('%s', %s:2) has no tls-key", pem, f);
	daemon_expect_exit2(a, at_line(f, 3), "tls-cert: '", says, NULL);
}

/* A certificate or key file that is not there: named, with the reason; a
 * relative path in the file is relative to the file's folder */
Test(daemon, tls_missing_file)
{
	const char *missing = tmp_path("missing.pem");
	const char *a[] = { "--listen", "127.0.0.1:0", "--route", route("/", "echo"), "--tls-cert",
			    missing, "--tls-key", pki("server", "key"), NULL };
	char says[512];
	snprintf(says, sizeof(says), "--tls-cert: %s: No such file or directory", missing);
	daemon_expect_exit2(a, says, NULL);

	copy_pki("server", "pem", NULL);
	const char *f = tls_conf("tls-cert = server.pem\n"
				 "tls-key = nokey.key\n"
				 "[route /]\n"
				 "plugin = %s\n", harness_build("plugins/echo.so"));
	const char *b[] = { "--config", f, NULL };
	snprintf(says, sizeof(says), "tls-key: %s/nokey.key: No such file or directory", tmpdir);
	daemon_expect_exit2(b, at_line(f, 2), says, NULL);
}

/* A key that does not match its certificate, and a file that is not a
 * certificate: "ringwsd: error: tls: ...", exit 2, nothing listens */
Test(daemon, tls_key_does_not_match_certificate)
{
	const char *echo = route("/", "echo");
	const char *a[] = { "--listen", "127.0.0.1:0", "--route", echo, "--tls-cert",
			    pki("server", "pem"), "--tls-key", pki("alpha", "key"), NULL };
	daemon_expect_exit2(a, "ringwsd: error: tls: ", "does not match", NULL);

	const char *junk = put_file("junk.pem", "not a certificate\n", 18);
	const char *b[] = { "--listen", "127.0.0.1:0", "--route", echo, "--tls-cert", junk,
			    "--tls-key", pki("server", "key"), NULL };
	daemon_expect_exit2(b, "ringwsd: error: tls: ", "junk.pem", NULL);
}

/* Per-listener TLS from [listen] sections: the server's certificate on
 * the first address, `tls = off` on the second, two pairs of its own on
 * the third (the first pair the default, SNI picking the other); the
 * listening lines say which is TLS; a plaintext client on a TLS port is
 * dropped and the library's line about it comes through ringwsd's log */
Test(daemon, tls_listen_sections)
{
	copy_pki("server", "pem", NULL);
	copy_pki("server", "key", NULL);
	copy_pki("alpha", "pem", NULL);
	copy_pki("alpha", "key", NULL);
	copy_pki("beta", "pem", NULL);
	copy_pki("beta", "key", NULL);
	const char *f = tls_conf("tls-cert = server.pem\n"
				 "tls-key = server.key\n"
				 "\n"
				 "[listen 127.0.0.1:0]          # the server's certificate\n"
				 "[listen 127.0.0.1:0]\n"
				 "tls = off\n"
				 "[listen 127.0.0.1:0]\n"
				 "tls-key = beta.key            # a pair in either order\n"
				 "tls-cert = beta.pem\n"
				 "tls-cert = alpha.pem\n"
				 "tls-key = alpha.key\n"
				 "\n"
				 "[route /]\n"
				 "plugin = %s\n", harness_build("plugins/echo.so"));
	const char *args[] = { "--config", f, "--log-level", "debug", NULL };
	struct daemon *d = daemon_spawn(args);
	cr_assert_eq(daemon_wait_ready(d, 10000), 0, "ringwsd did not start:\n%s", daemon_log(d));

	const char *l0 = listening_line(d, 0), *l1 = listening_line(d, 1),
		   *l2 = listening_line(d, 2);
	cr_assert(strstr(l0, " (TLS, ") && !strstr(l1, "TLS") && strstr(l2, " (TLS, "),
		  "listening lines:\n%s", daemon_log(d));
	int p0 = line_port(l0), p1 = line_port(l1), p2 = line_port(l2);
	cr_assert(p0 > 0 && p1 > 0 && p2 > 0 && p0 == d->port, "ports %d %d %d:\n%s", p0, p1, p2,
		  daemon_log(d));
	const char *log = daemon_log(d);
	char says[512];
	snprintf(says, sizeof(says), "ringwsd: debug: listen 127.0.0.1:0: plaintext (tls = off, "
		 "%s:5)", f);
	cr_assert(strstr(log, says), "no debug line \"%s\":\n%s", says, log);
	snprintf(says, sizeof(says), "TLS certificate %s/beta.pem, key %s/beta.key (%s:8)", tmpdir,
		 tmpdir, f);
	cr_assert(strstr(log, says), "no debug line \"%s\":\n%s", says, log);

	expect_cert(d, p0, "localhost", "localhost");
	expect_upgrade_over_tls(d, p0);
	expect_cert(d, p2, NULL, "beta.test");		/* no name: the first pair */
	expect_cert(d, p2, "alpha.test", "alpha.test");
	expect_cert(d, p2, "x.beta.test", "beta.test");

	/* plaintext where it is off */
	char head[4096];
	int fd = tcp_connect(p1, 5000);
	char req[512];
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n", p1,
		 UPGRADE_HEADERS);
	cr_assert_eq(tcp_send(fd, req, strlen(req)), 0);
	int st = http_read_head(fd, head, sizeof(head));
	cr_assert_eq(st, 101, "plaintext upgrade on the tls = off address: %d:\n%s", st, head);
	ws_close_raw(fd);

	/* plaintext to a TLS address: dropped, and the library says so in
	 * ringwsd's log, as one of its lines */
	fd = tcp_connect(p0, 5000);
	cr_assert_eq(tcp_send(fd, req, strlen(req)), 0);
	int rc = tcp_expect_eof(fd, 5000, NULL);
	cr_assert(rc == 0 || rc == -EBADMSG, "a plaintext request on the TLS port: %d", rc);
	close(fd);
	cr_assert_eq(wait_log(d, "not TLS"), 0, "no line about the plaintext client:\n%s",
		     daemon_log(d));
	log = daemon_log(d);
	const char *line = strstr(log, "not TLS");
	while (line > log && line[-1] != '\n')
		line--;
	cr_assert(!strncmp(line, "ringwsd: ", 9), "the library's line is not ringwsd's:\n%s", log);

	st = daemon_stop(d);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %d:\n%s", st, daemon_log(d));
}

/* --listen replaces the file's addresses, [listen] sections included, but
 * an address a section named keeps that section's TLS settings (the
 * sections of one address are taken in order) */
Test(daemon, tls_listen_option_keeps_section_settings)
{
	const char *f = tls_conf("tls-cert = %s\n"
				 "tls-key = %s\n"
				 "[listen 127.0.0.1:0]\n"
				 "tls = off\n"
				 "[listen 127.0.0.2:0]\n"
				 "tls = off\n"
				 "[route /]\n"
				 "plugin = %s\n", pki("server", "pem"), pki("server", "key"),
				 harness_build("plugins/echo.so"));
	/* daemon_start gives --listen 127.0.0.1:0 first */
	struct daemon *d = daemon_start("--config", f, "--listen", "127.0.0.1:0", NULL);
	const char *l0 = listening_line(d, 0), *l1 = listening_line(d, 1);
	cr_assert(!strstr(l0, "TLS") && strstr(l1, " (TLS, ") && !strstr(daemon_log(d), "127.0.0.2"),
		  "listening lines:\n%s", daemon_log(d));
	expect_cert(d, line_port(l1), "localhost", "localhost");
	char head[4096];
	int st = request(d, "/", 1, head, sizeof(head), NULL);
	cr_assert_eq(st, 101, "plaintext upgrade on the first address: %d:\n%s", st, head);
}

/* What a [listen] section and the TLS keys refuse, naming the line */
Test(daemon, tls_config_errors)
{
	copy_pki("server", "pem", NULL);
	copy_pki("server", "key", NULL);
	const char *echo = harness_build("plugins/echo.so");
	const char *a[] = { "--config", NULL, NULL };
	static const struct {
		const char *text;	/* the file, before a [route /] section */
		int line;
		const char *says;
	} bad[] = {
		{ "tls = off\n", 1, "'tls' belongs in a [listen HOST:PORT] section" },
		{ "[listen 127.0.0.1:0]\ntls = maybe\n", 2,
		  "tls (in [listen 127.0.0.1:0]): 'maybe' is neither on nor off" },
		{ "[listen 127.0.0.1:0]\ntls = off\ntls-cert = server.pem\n", 3,
		  "tls-cert in [listen 127.0.0.1:0], which says tls = off" },
		{ "[listen 127.0.0.1:0]\ntls-cert = server.pem\ntls-key = server.key\ntls = off\n", 4,
		  "tls = off, but [listen 127.0.0.1:0] gives certificates of its own" },
		{ "[listen 127.0.0.1:0]\ntls = on\n", 1,
		  "[listen 127.0.0.1:0] says tls = on, but no certificate is given" },
		{ "[listen 127.0.0.1:0]\nthreads = 2\n", 2,
		  "'threads' is a server setting: server settings come before the first section" },
		{ "[listen 127.0.0.1:0]\nplugin = x.so\n", 2, "'plugin' is not a listen setting" },
		{ "[listen 127.0.0.1]\n", 1, "[listen 127.0.0.1]: '127.0.0.1' is not HOST:PORT" },
		{ "listen = 127.0.0.1:9\n[listen 127.0.0.1:9]\n", 2, "'127.0.0.1:9' is given twice" },
		{ "[listener 127.0.0.1:0]\n", 1, "unknown section [listener 127.0.0.1:0]" },
		{ "tls-cert =\ntls-key = server.key\n", 1, "tls-cert: needs a file" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a[1] = tls_conf("%s[route /]\nplugin = %s\n", bad[i].text, echo);
		daemon_expect_exit2(a, at_line(a[1], bad[i].line), bad[i].says, NULL);
	}
}

/* SIGHUP reads the certificate files again: the count on success; with a
 * key that no longer matches, an error line, the old certificate goes on
 * serving new connections, and ringwsd exits 0 on SIGTERM as ever */
Test(daemon, sighup_reloads_tls_certificates)
{
	const char *pem = copy_pki("server", "pem", NULL);
	copy_pki("server", "key", NULL);
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--tls-cert", pem, "--tls-key",
					tmp_path("server.key"), NULL);
	cr_assert(strstr(listening_line(d, 0), " (TLS, "), "%s", daemon_log(d));
	expect_cert(d, d->port, "localhost", "localhost");

	/* the server's certificate replaced by another for localhost, rsa's */
	copy_pki("rsa", "pem", "server.pem");
	copy_pki("rsa", "key", "server.key");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert_eq(wait_log(d, "ringwsd: SIGHUP: reloaded 1 TLS certificate\n"), 0,
		     "no reload line:\n%s", daemon_log(d));
	const char *out = s_client(d->port, "localhost", NULL);
	cr_assert(strstr(out, "Server public key is 2048 bit"),
		  "the reloaded (RSA) certificate is not served:\n%s", out);

	/* a key that does not match: refused, the RSA certificate stays */
	copy_pki("alpha", "key", "server.key");
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
	cr_assert_eq(wait_log(d, "ringwsd: error: SIGHUP: TLS reload failed: "), 0,
		     "no failure line:\n%s", daemon_log(d));
	const char *log = daemon_log(d), *line = strstr(log, "SIGHUP: TLS reload failed: ");
	static const char tail[] = "; keeping the old certificates";
	const char *eol = strchr(line, '\n');
	cr_assert(eol && eol - line > (long)strlen(tail) &&
		  !strncmp(eol - strlen(tail), tail, strlen(tail)), "the failure line:\n%s", log);
	out = s_client(d->port, "localhost", NULL);
	cr_assert(strstr(out, "Server public key is 2048 bit") &&
		  strstr(out, "Verify return code: 0 (ok)"),
		  "the old certificate is not served after a failed reload:\n%s\nringwsd:\n%s", out,
		  daemon_log(d));
	expect_upgrade_over_tls(d, d->port);

	int st = daemon_stop(d);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %d:\n%s", st, daemon_log(d));
}

/* --help lists the TLS options and the [listen] section */
Test(daemon, help_lists_tls_options)
{
	const char *help = ringwsd_help();
	static const char *const opts[] = { "--tls-cert FILE", "--tls-key FILE",
					    "[listen HOST:PORT]", "tls = off", "SIGHUP" };
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		cr_assert(strstr(help, opts[i]), "--help does not mention %s:\n%s", opts[i], help);
}
