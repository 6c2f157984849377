/*
 * daemon_test: what ringwsd does as a program, outside the WebSocket
 * protocol: refusing bad plugins, shutting down on SIGTERM, its log, several
 * listen addresses, HTTP answers for what is not an upgrade (404, 426, 503)
 * and the handshake timeout.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "wsraw.h"

TestSuite(daemon, .fini = harness_teardown, .timeout = 30);

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
	cr_assert_eq(wait_log(d, "ringwsd: warning: SIGHUP"), 0, "no warning:\n%s", daemon_log(d));
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
