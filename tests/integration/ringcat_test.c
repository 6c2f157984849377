/*
 * ringcat_test: build/ringcat as a user runs it. Files piped through
 * ringwsd's echo come back byte for byte (3 MiB of random bytes with
 * --binary; a text file of lines, plain and compressed), and through Node ws
 * and Python websockets echo servers (ringcat_peer.mjs, ringcat_peer.py);
 * -x; headers, origin and subprotocols as a Python server saw them; the
 * heartbeat (--ping-interval) against Node ws, counting pings and not
 * answering them. Every exit status with a case that produces it: 1
 * (refused, unresolvable, proxy refused, handshake timeout), 2 (bad
 * options, URLs and CA files), 3 (404 and 401 from ringwsd), 4 (1009 from ringwsd,
 * 4000 from Python, a dropped connection, an unanswered close), 0 on
 * ringwsd's shutdown (1001), on SIGINT and when stdout is closed. The
 * server mode: --listen driven by the Node and Python peers of the interop
 * tests, --listen --stdio with a Python client (a second client gets 1013),
 * and ringcat talking to ringcat. --autobahn against a fake fuzzing server
 * (ringcat_peer.py autobahn); the real suite is autobahn_client_test.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "harness.h"

#define RUN_MS 30000
#define MAX_RUNS 16

/* --- running ringcat (or python) with files for stdin and stdout -------------------- */

struct run {
	pid_t pid;
	int in_fd;		/* the write end of stdin's pipe, or -1 */
	int err_fd;
	int code;		/* exit status; -1 if killed */
	char out_path[64];	/* stdout, a file */
	size_t err_len;
	char err[32 * 1024];
};

static struct run *runs[MAX_RUNS];
static int nruns;

static void teardown(void)
{
	for (int i = 0; i < nruns; i++) {
		struct run *r = runs[i];
		if (r->pid > 0) {
			kill(r->pid, SIGKILL);
			waitpid(r->pid, NULL, 0);
		}
		unlink(r->out_path);
	}
	nruns = 0;
	harness_teardown();
}

TestSuite(ringcat, .fini = teardown, .timeout = 90);

enum { IN_PIPE = 0, OUT_CLOSED = 1 };

/* Starts argv (NULL-terminated) with stdin from in_path (NULL: a pipe kept
 * in in_fd), stdout into a temporary file (or, with out_closed, a pipe
 * whose reading end is already closed) and stderr read by the test. */
static struct run *spawn_run(const char *in_path, int out_closed, const char *const *argv)
{
	cr_assert(nruns < MAX_RUNS);
	struct run *r = calloc(1, sizeof(*r));
	cr_assert(r);
	runs[nruns++] = r;
	r->code = -1;
	r->in_fd = -1;
	snprintf(r->out_path, sizeof(r->out_path), "/tmp/ringcat_test_out_XXXXXX");
	int out = mkstemp(r->out_path);
	cr_assert(out >= 0);
	int in[2] = { -1, -1 }, err[2], op[2] = { -1, -1 };
	cr_assert(pipe2(err, O_CLOEXEC) == 0);
	if (in_path) {
		in[0] = open(in_path, O_RDONLY | O_CLOEXEC);
		cr_assert(in[0] >= 0, "%s: %s", in_path, strerror(errno));
	} else {
		cr_assert(pipe2(in, O_CLOEXEC) == 0);
	}
	if (out_closed) {
		cr_assert(pipe2(op, O_CLOEXEC) == 0);
		close(op[0]);
	}
	setenv("RWS_PEER_DIR", harness_build("integration"), 1);
	pid_t parent = getpid();
	r->pid = fork();
	cr_assert(r->pid >= 0);
	if (r->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(in[0], 0);
		dup2(out_closed ? op[1] : out, 1);
		dup2(err[1], 2);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execv(argv[0], (char *const *)argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out);
	close(err[1]);
	close(in[0]);
	if (out_closed)
		close(op[1]);
	r->in_fd = in_path ? -1 : in[1];
	r->err_fd = err[0];
	return r;
}

/* ringcat ARGS... */
static struct run *start_v(const char *in_path, int out_closed, va_list ap)
{
	const char *argv[48];
	int n = 0;
	argv[n++] = harness_build("ringcat");
	cr_assert(access(argv[0], X_OK) == 0, "%s is missing: make build/ringcat", argv[0]);
	for (const char *a; (a = va_arg(ap, const char *));) {
		cr_assert(n < 47);
		argv[n++] = a;
	}
	argv[n] = NULL;
	return spawn_run(in_path, out_closed, argv);
}

static struct run *start(const char *in_path, ...) __attribute__((sentinel));
static struct run *start(const char *in_path, ...)
{
	va_list ap;
	va_start(ap, in_path);
	struct run *r = start_v(in_path, 0, ap);
	va_end(ap);
	return r;
}

/* Reads stderr for up to ms: 0 on progress, -1 on timeout, 1 at EOF. */
static int pump(struct run *r, int ms)
{
	if (r->err_fd < 0)
		return 1;
	struct pollfd p = { r->err_fd, POLLIN, 0 };
	int n = poll(&p, 1, ms);
	if (n <= 0)
		return n == 0 ? -1 : 0;
	char buf[4096];
	ssize_t k = read(r->err_fd, buf, sizeof(buf));
	if (k <= 0) {
		close(r->err_fd);
		r->err_fd = -1;
		return 1;
	}
	size_t take = (size_t)k < sizeof(r->err) - 1 - r->err_len ? (size_t)k :
		      sizeof(r->err) - 1 - r->err_len;
	memcpy(r->err + r->err_len, buf, take);
	r->err_len += take;
	r->err[r->err_len] = 0;
	return 0;
}

/* Waits until stderr holds s: 0, or -1 on timeout or EOF. */
static int wait_err(struct run *r, const char *s, int ms)
{
	long long end = now_ms() + ms;
	while (!strstr(r->err, s)) {
		long long left = end - now_ms();
		if (left <= 0 || pump(r, (int)left) != 0)
			return strstr(r->err, s) ? 0 : -1;
	}
	return 0;
}

/* Waits for the exit (killing it after ms and failing the test), with
 * stdin's pipe left open. */
static int wait_exit(struct run *r, int ms)
{
	long long end = now_ms() + ms;
	while (pump(r, 50) != 1 && now_ms() < end)
		;
	int st;
	pid_t w;
	while ((w = waitpid(r->pid, &st, WNOHANG)) == 0 && now_ms() < end)
		usleep(5000);
	if (w != r->pid) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &st, 0);
		r->pid = 0;
		cr_assert_fail("ringcat ran over %d ms; stderr:\n%s", ms, r->err);
	}
	r->pid = 0;
	r->code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return r->code;
}

/* The same after closing stdin's pipe (its end for ringcat). */
static int finish(struct run *r, int ms)
{
	if (r->in_fd >= 0) {
		close(r->in_fd);
		r->in_fd = -1;
	}
	return wait_exit(r, ms);
}

/* ringcat ARGS... to its end. */
static struct run *run_rc(const char *in_path, ...) __attribute__((sentinel));
static struct run *run_rc(const char *in_path, ...)
{
	va_list ap;
	va_start(ap, in_path);
	struct run *r = start_v(in_path, 0, ap);
	va_end(ap);
	finish(r, RUN_MS);
	return r;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *p = malloc((size_t)n + 1);
	cr_assert(p && fread(p, 1, (size_t)n, f) == (size_t)n);
	p[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return p;
}

static char *out_of(struct run *r, size_t *len)
{
	size_t n;
	char *p = read_file(r->out_path, len ? len : &n);
	return p;
}

/* Waits until stdout holds n bytes: 0, or -1 on timeout. */
static int wait_out(struct run *r, size_t n, int ms)
{
	long long end = now_ms() + ms;
	struct stat st;
	while (stat(r->out_path, &st) == 0 && (size_t)st.st_size < n && now_ms() < end)
		pump(r, 10);
	return stat(r->out_path, &st) == 0 && (size_t)st.st_size >= n ? 0 : -1;
}

static const char *write_temp(const void *p, size_t n)
{
	char *path = strdup("/tmp/ringcat_test_in_XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert(write(fd, p, n) == (ssize_t)n);
	close(fd);
	return path;
}

static void write_in(struct run *r, const char *s)
{
	cr_assert(write(r->in_fd, s, strlen(s)) == (ssize_t)strlen(s));
}

/* Expects the exit status, and stderr (when it should say something) to
 * be lines that begin "ringcat: ", one of them holding words. */
static void expect_exit(struct run *r, int code, const char *words)
{
	cr_assert_eq(r->code, code, "exit %d, wanted %d; stderr:\n%s", r->code, code, r->err);
	if (!words)
		return;
	cr_assert(strstr(r->err, words), "stderr does not say \"%s\":\n%s", words, r->err);
	for (const char *l = r->err; *l; l = strchr(l, '\n') + 1) {
		cr_assert(strncmp(l, "ringcat: ", 9) == 0, "a line without \"ringcat: \":\n%s", r->err);
		if (!strchr(l, '\n'))
			break;
	}
}

#define expect_str(r, s) expect_same(r, s, strlen(s))

static void expect_same(struct run *r, const char *want, size_t want_len)
{
	size_t n;
	char *got = out_of(r, &n);
	size_t i = 0;
	while (i < n && i < want_len && got[i] == want[i])
		i++;
	cr_assert(n == want_len && i == n, "stdout: %zu bytes, wanted %zu; first difference at "
		  "byte %zu; stderr:\n%s", n, want_len, i, r->err);
	free(got);
}

/* --- servers ------------------------------------------------------------------------ */

static struct daemon *echo_daemon(const char *extra)
{
	if (extra)
		return daemon_start("--threads", "1", extra, "--route", route("/", "echo"), NULL);
	return daemon_start("--threads", "1", "--route", route("/", "echo"), NULL);
}

static struct daemon *py_peer(const char *scenario)
{
	const char *argv[] = { "/usr/bin/python3", harness_src("tests/integration/ringcat_peer.py"),
			       scenario, NULL };
	return program_start(argv, "ringcat_peer: listening on 127.0.0.1:");
}

static struct daemon *node_peer(const char *scenario)
{
	setenv("RWS_PEER_DIR", harness_build("integration"), 1);
	const char *argv[] = { "node", harness_src("tests/integration/ringcat_peer.mjs"), scenario,
			       NULL };
	return program_start(argv, "ringcat_peer: listening on 127.0.0.1:");
}

/* A port where nobody listens: bound, then closed. */
static int dead_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		  getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	close(fd);
	return ntohs(a.sin_port);
}

static const char *url_at(int port, const char *path)
{
	char *u;
	cr_assert(asprintf(&u, "ws://127.0.0.1:%d%s", port, path) >= 0);
	return u;
}

/* --- payloads --------------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint8_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)(rng >> 24);
}

static char *random_bytes(size_t n)
{
	char *p = malloc(n);
	cr_assert(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)rnd();
	return p;
}

/* Lines of every kind: empty, UTF-8, a CR kept as it is, one of 100 KiB,
 * thousands of short ones; the last one without its newline. */
static char *text_lines(size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *p = malloc(cap);
	cr_assert(p);
#define ADD(s) do { size_t k_ = strlen(s); memcpy(p + n, s, k_); n += k_; } while (0)
	ADD("first line\n\nhéllo wörld € 😀 κόσμε\nwindows line\r\n  spaces  \n");
	memset(p + n, 'x', 100 * 1024);
	n += 100 * 1024;
	ADD("\n");
	for (int i = 0; i < 5000; i++)
		n += (size_t)sprintf(p + n, "line %d: %s\n", i, i % 7 ? "ok" : "{\"json\": true}");
	ADD("the last line, no newline");
#undef ADD
	*len = n;
	return p;
}

/* --- the client: echoes byte for byte ----------------------------------------------- */

Test(ringcat, binary_file_through_ringwsd_echo)
{
	struct daemon *d = echo_daemon(NULL);
	size_t n = 3 << 20;
	char *data = random_bytes(n);
	const char *in = write_temp(data, n);
	struct run *r = run_rc(in, "--binary", "-q", daemon_url(d, "/"), NULL);
	expect_exit(r, 0, NULL);
	expect_same(r, data, n);
	cr_assert_eq(r->err_len, 0, "-q, yet:\n%s", r->err);
	/* the same offering permessage-deflate to a server that agrees */
	struct daemon *dz = echo_daemon("--deflate");
	r = run_rc(in, "--binary", "-q", daemon_url(dz, "/"), NULL);
	expect_exit(r, 0, NULL);
	expect_same(r, data, n);
	unlink(in);
	free(data);
}

Test(ringcat, text_file_through_ringwsd_echo)
{
	size_t n;
	char *text = text_lines(&n);
	const char *in = write_temp(text, n);
	text[n] = '\n';	/* the last line comes back with a newline */
	const char *extra[] = { NULL, "--deflate" };
	const char *flags[] = { "--deflate", "--no-deflate" };
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++) {
			struct daemon *d = echo_daemon(extra[i]);
			struct run *r = run_rc(in, flags[j], daemon_url(d, "/"), NULL);
			expect_exit(r, 0, NULL);
			expect_same(r, text, n + 1);
			cr_assert(strstr(r->err, "ringcat: connected to ws://127.0.0.1:"), "%s", r->err);
			daemon_stop(d);
		}
	unlink(in);
	free(text);
}

Test(ringcat, execute_one_message)
{
	struct daemon *d = echo_daemon(NULL);
	struct run *r = run_rc(NULL, "-q", "-x", "hello there", daemon_url(d, "/"), NULL);
	expect_exit(r, 0, NULL);
	expect_str(r, "hello there\n");
	r = run_rc(NULL, "-q", "--binary", "-x", "raw bytes", daemon_url(d, "/"), NULL);
	expect_exit(r, 0, NULL);
	expect_str(r, "raw bytes");
}

Test(ringcat, node_ws_and_python_websockets_echo_servers)
{
	size_t n = 1 << 20, tn;
	char *data = random_bytes(n);
	const char *bin = write_temp(data, n);
	char *text = text_lines(&tn);
	const char *txt = write_temp(text, tn);
	text[tn] = '\n';
	/* Python websockets answers a close at once, dropping the echoes it
	 * has not sent yet: there ringcat waits (-w) for them to stop coming */
	struct daemon *peers[] = { node_peer("echo"), py_peer("echo") };
	const char *wait[] = { "0", "1" };
	for (int i = 0; i < 2; i++) {
		const char *u = daemon_url(peers[i], "/");
		struct run *r = run_rc(bin, "--binary", "-w", wait[i], u, NULL);
		expect_exit(r, 0, NULL);
		expect_same(r, data, n);
		r = run_rc(bin, "--binary", "--no-deflate", "-w", wait[i], u, NULL);
		expect_exit(r, 0, NULL);
		expect_same(r, data, n);
		r = run_rc(txt, "--wait", wait[i], u, NULL);
		expect_exit(r, 0, NULL);
		expect_same(r, text, tn + 1);
	}
	unlink(bin);
	unlink(txt);
	free(data);
	free(text);
}

/* -H, -o and -s as a Python websockets server saw them (it picks the first
 * of chat, other that is offered) */
Test(ringcat, headers_origin_subprotocol)
{
	struct daemon *d = py_peer("headers");
	struct run *r = start(NULL, "-s", "nope", "-s", "chat", "-o", "http://example.org", "-H",
			      "X-Test: yes indeed", daemon_url(d, "/some/path?q=1"), NULL);
	finish(r, RUN_MS);	/* the server closes (1000) */
	expect_exit(r, 0, NULL);
	expect_str(r, "/some/path?q=1|chat|http://example.org|yes indeed\n");
	cr_assert(strstr(r->err, "subprotocol chat"), "%s", r->err);
}

/* --- the heartbeat ------------------------------------------------------------------- */

static int pings_counted(const char *interval)
{
	struct daemon *d = node_peer("pings");
	struct run *r = interval ? start(NULL, "-q", "--ping-interval", interval,
					 daemon_url(d, "/"), NULL)
				 : start(NULL, "-q", daemon_url(d, "/"), NULL);
	/* stdin stays open: the server sends its count after 1 s and closes */
	cr_assert_eq(wait_exit(r, 10000), 0, "%s", r->err);
	char *out = out_of(r, NULL);
	int n = atoi(out);
	free(out);
	return n;
}

Test(ringcat, ping_interval)
{
	int n = pings_counted("0.1");
	cr_assert(n >= 5 && n <= 12, "%d pings in 1 s at an interval of 0.1 s", n);
	cr_assert_eq(pings_counted(NULL), 0);
}

Test(ringcat, pong_timeout_drops_the_connection)
{
	struct daemon *d = node_peer("nopong");
	long long t0 = now_ms();
	struct run *r = start(NULL, "--ping-interval", "0.2", "--pong-timeout", "0.3",
			      daemon_url(d, "/"), NULL);
	wait_exit(r, 10000);
	expect_exit(r, 4, "1006");
	cr_assert(now_ms() - t0 < 5000, "took %lld ms", now_ms() - t0);
}

/* --- exit statuses ------------------------------------------------------------------- */

Test(ringcat, exit_1_when_the_connection_cannot_be_made)
{
	int port = dead_port();
	struct run *r = run_rc("/dev/null", url_at(port, "/"), NULL);
	expect_exit(r, 1, "Connection refused");
	r = run_rc("/dev/null", "ws://no-such-host.invalid/", NULL);
	expect_exit(r, 1, "cannot resolve no-such-host.invalid");
	char proxy[64];
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
	r = run_rc("/dev/null", "--proxy", proxy, "ws://127.0.0.1:9/", NULL);
	expect_exit(r, 1, "(the proxy): Connection refused");
	r = run_rc("/dev/null", "--ca", "/nonexistent/ca.pem", "wss://127.0.0.1:9/", NULL);
	expect_exit(r, 2, "/nonexistent/ca.pem");
	/* a listener that never answers: the handshake timeout */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 4) == 0 &&
		  getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	long long t0 = now_ms();
	r = run_rc("/dev/null", "--handshake-timeout", "0.3", url_at(ntohs(a.sin_port), "/"), NULL);
	expect_exit(r, 1, "handshake timeout");
	cr_assert(now_ms() - t0 < 3000);
	close(fd);
}

Test(ringcat, exit_2_on_usage_errors)
{
	struct {
		const char *a, *b, *words;
	} cases[] = {
		{ "--bogus", "ws://127.0.0.1:9/", "unknown option --bogus" },
		{ "-Z", "ws://127.0.0.1:9/", "unknown option -Z" },
		{ "--max-payload", "lots", "--max-payload: 'lots'" },
		{ "--close-wait", "-1", "--close-wait" },
		{ "-H", "no colon", "-H: 'no colon'" },
		{ "--stdio", "ws://127.0.0.1:9/", "--stdio goes with --listen" },
		{ "--listen", "99999", "--listen: '99999'" },
		{ "ws://127.0.0.1:9/", "ws://127.0.0.1:8/", "one URL only" },
		{ "ws://127.0.0.1:9/#frag", NULL, "fragment" },
		{ "http://127.0.0.1:9/", NULL, "unknown scheme" },
		{ "ws://127.0.0.1:0/", NULL, "port" },
		{ "-q", NULL, "no URL" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run *r = run_rc("/dev/null", cases[i].a, cases[i].b, NULL);
		expect_exit(r, 2, cases[i].words);
		cr_assert(!strchr(r->err, '\n') || strchr(r->err, '\n')[1] == 0,
			  "more than one line:\n%s", r->err);
		size_t n;
		free(out_of(r, &n));
		cr_assert_eq(n, 0);
		teardown();	/* the runs add up */
	}
}

Test(ringcat, exit_3_when_the_upgrade_is_refused)
{
	struct daemon *d = daemon_start("--threads", "1", "--route", route("/echo", "echo"), "--route",
					route("/chat", "chat"), NULL);
	struct run *r = run_rc("/dev/null", daemon_url(d, "/nowhere"), NULL);
	expect_exit(r, 3, "the server answered 404");
	r = run_rc("/dev/null", daemon_url(d, "/chat"), NULL);
	expect_exit(r, 3, "401");
	/* with the token it is a connection */
	r = run_rc("/dev/null", "-q", daemon_url(d, "/chat?token=x"), NULL);
	expect_exit(r, 0, NULL);
}

Test(ringcat, exit_4_on_an_error_close_or_a_lost_connection)
{
	/* ringwsd closes with 1009 past its max payload */
	struct daemon *d = daemon_start("--threads", "1", "--max-payload", "16", "--route",
					route("/", "echo"), NULL);
	const char *in = write_temp("short\nthis line is longer than sixteen bytes\nmore\n", 50);
	struct run *r = run_rc(in, daemon_url(d, "/"), NULL);
	expect_exit(r, 4, "closed with code 1009");
	expect_str(r, "short\n");
	unlink(in);

	/* Python websockets closes with 4000 "bye" */
	struct daemon *p = py_peer("close4000");
	r = run_rc(NULL, "-x", "anything", daemon_url(p, "/"), NULL);
	expect_exit(r, 4, "closed with code 4000: bye");

	/* the TCP connection dropped without a close frame */
	struct daemon *drop = py_peer("drop");
	r = run_rc(NULL, "-x", "anything", daemon_url(drop, "/"), NULL);
	expect_exit(r, 4, "1006");

	/* a server that never answers our close: --close-wait */
	struct daemon *mute = py_peer("noclose");
	long long t0 = now_ms();
	r = run_rc("/dev/null", "--close-wait", "0.5", daemon_url(mute, "/"), NULL);
	expect_exit(r, 4, "did not answer the close within 0.5 s");
	cr_assert(now_ms() - t0 < 3000, "%lld ms", now_ms() - t0);
}

/* the server going away (1001) is a normal end */
Test(ringcat, exit_0_when_the_server_shuts_down)
{
	struct daemon *d = echo_daemon(NULL);
	struct run *r = start(NULL, daemon_url(d, "/"), NULL);
	cr_assert(wait_err(r, "connected to", 10000) == 0, "%s", r->err);
	write_in(r, "one\n");
	cr_assert(wait_out(r, 4, 10000) == 0, "no echo: %s", r->err);
	daemon_stop(d);
	wait_exit(r, 10000);
	expect_exit(r, 0, NULL);
	expect_str(r, "one\n");
}

/* SIGINT: a close 1000, which a ringcat --listen sees, and exit 0 */
Test(ringcat, sigint_closes_normally)
{
	const char *argv[] = { harness_build("ringcat"), "--listen", "0", NULL };
	struct daemon *srv = program_start(argv, "ringcat: listening on 127.0.0.1:");
	struct run *r = start(NULL, daemon_url(srv, "/"), NULL);
	cr_assert(wait_err(r, "connected to", 10000) == 0, "%s", r->err);
	write_in(r, "before the signal\n");
	cr_assert(wait_out(r, 18, 10000) == 0, "no echo: %s", r->err);
	kill(r->pid, SIGINT);
	cr_assert_eq(wait_exit(r, 5000), 0, "%s", r->err);
	expect_exit(r, 0, NULL);
	expect_str(r, "before the signal\n");
	for (int i = 0; i < 100 && !strstr(daemon_log(srv), "closed (1000"); i++)
		usleep(20000);
	cr_assert(strstr(daemon_log(srv), "client 1 closed (1000"), "%s", daemon_log(srv));
}

/* stdout closed under it: ringcat closes and exits 0, it does not hang */
Test(ringcat, stdout_closed)
{
	struct daemon *d = echo_daemon(NULL);
	size_t n;
	char *text = text_lines(&n);
	const char *in = write_temp(text, n);
	const char *argv[] = { harness_build("ringcat"), "-q", daemon_url(d, "/"), NULL };
	struct run *r = spawn_run(in, OUT_CLOSED, argv);
	finish(r, 10000);
	expect_exit(r, 0, NULL);
	unlink(in);
	free(text);
}

/* --- the server mode ----------------------------------------------------------------- */

Test(ringcat, listen_echo_with_node_ws_and_python_websockets)
{
	const char *argv[] = { harness_build("ringcat"), "--listen", "0", NULL };
	struct daemon *d = program_start(argv, "ringcat: listening on 127.0.0.1:");
	enum peer_kind kinds[] = { PEER_NODE, PEER_PY };
	for (int i = 0; i < 2; i++) {
		peer_expect_ok(d, kinds[i], "echo", "/", NULL);
		peer_expect_ok(d, kinds[i], "echo", "/any/path?x=1", "sizes=0,1,70000", NULL);
		peer_expect_ok(d, kinds[i], "fragments", "/", NULL);
		peer_expect_ok(d, kinds[i], "ping", "/", NULL);
		peer_expect_ok(d, kinds[i], "close", "/", "code=4001", "reason=mine", NULL);
		/* no -s: the first subprotocol offered */
		peer_expect_ok(d, kinds[i], "subprotocol", "/", "protocols=x,chat.v2", "expect=x",
			       NULL);
	}
	cr_assert(strstr(daemon_log(d), "client 1 connected from 127.0.0.1 to /"), "%s",
		  daemon_log(d));
	cr_assert_eq(WEXITSTATUS(daemon_stop(d)), 0, "%s", daemon_log(d));

	/* -s: only these; --deflate: compressed echoes */
	const char *argv2[] = { harness_build("ringcat"), "--listen", "127.0.0.1:0", "-q", "-s",
				"chat.v2", "--deflate", NULL };
	d = program_start(argv2, "ringcat: listening on 127.0.0.1:");
	for (int i = 0; i < 2; i++) {
		peer_expect_ok(d, kinds[i], "subprotocol", "/", "protocols=x,chat.v2", NULL);
		peer_expect_ok(d, kinds[i], "echo", "/", "sizes=0,2000,1048576", NULL);
	}
	cr_assert(!strstr(daemon_log(d), "connected"), "-q: %s", daemon_log(d));
}

/* ringcat to ringcat: a file through ringcat --listen's echo */
Test(ringcat, ringcat_to_ringcat)
{
	const char *argv[] = { harness_build("ringcat"), "--listen", "0", "-q", NULL };
	struct daemon *d = program_start(argv, "ringcat: listening on 127.0.0.1:");
	size_t n = 2 << 20;
	char *data = random_bytes(n);
	const char *in = write_temp(data, n);
	struct run *r = run_rc(in, "--binary", daemon_url(d, "/"), NULL);
	expect_exit(r, 0, NULL);
	expect_same(r, data, n);
	unlink(in);
	free(data);
}

/* Starts ringcat --listen 0 --stdio: its port. */
static int stdio_server(struct run **srv)
{
	*srv = start(NULL, "--listen", "0", "--stdio", NULL);
	cr_assert(wait_err(*srv, "listening on 127.0.0.1:", 10000) == 0 &&
			  wait_err(*srv, "\n", 1000) == 0, "%s", (*srv)->err);
	return atoi(strstr((*srv)->err, "listening on 127.0.0.1:") + 23);
}

/* A Python client for --listen --stdio: it sends "from client", checks that
 * a second client is closed with 1013, prints the server's two messages and
 * the close code. */
static const char stdio_client[] =
	"import asyncio, sys, websockets\n"
	"async def main():\n"
	"    u = sys.argv[1]\n"
	"    async with websockets.connect(u) as ws:\n"
	"        await ws.send('from client')\n"
	"        try:\n"
	"            async with websockets.connect(u) as ws2:\n"
	"                await ws2.recv()\n"
	"        except websockets.exceptions.ConnectionClosed as e:\n"
	"            print('second', e.code, flush=True)\n"
	"        print(await ws.recv(), flush=True)\n"
	"        print(await ws.recv(), flush=True)\n"
	"        try:\n"
	"            await ws.recv()\n"
	"        except websockets.exceptions.ConnectionClosed as e:\n"
	"            print('closed', e.code, flush=True)\n"
	"asyncio.run(main())\n";

Test(ringcat, listen_stdio)
{
	struct run *srv;
	int port = stdio_server(&srv);
	const char *pargv[] = { "/usr/bin/python3", "-c", stdio_client, url_at(port, "/s"), NULL };
	struct run *cl = spawn_run("/dev/null", 0, pargv);
	cr_assert(wait_err(srv, "client 2 closed (1013", 10000) == 0, "%s", srv->err);
	write_in(srv, "line one\nline two\n");
	cr_assert_eq(finish(srv, 10000), 0, "%s", srv->err);	/* stdin's end: close 1000 */
	expect_str(srv, "from client\n");
	cr_assert_eq(finish(cl, 10000), 0, "%s", cl->err);
	expect_str(cl, "second 1013\nline one\nline two\nclosed 1000\n");
}

/* --stdio: the client's close ends ringcat, with the client's code */
Test(ringcat, listen_stdio_client_closes)
{
	/* a ringcat client: at its stdin's end it closes with 1000 */
	struct run *srv;
	int port = stdio_server(&srv);
	struct run *cl = start(NULL, "-q", url_at(port, "/"), NULL);
	write_in(cl, "hi\n");
	cr_assert_eq(finish(cl, 10000), 0, "%s", cl->err);
	cr_assert_eq(wait_exit(srv, 10000), 0, "%s", srv->err);
	expect_str(srv, "hi\n");
	/* Python websockets closing with 4001 */
	port = stdio_server(&srv);
	struct peer *p = peer_start(PEER_PY, "close", url_at(port, "/"), "code=4001", "reason=mine",
				    NULL);
	cr_assert_eq(peer_finish(p, 20000), 0, "%s %s", p->line, p->err);
	wait_exit(srv, 10000);
	expect_exit(srv, 4, "closed with code 4001: mine");
}

/* --- --autobahn ------------------------------------------------------------------------ */

Test(ringcat, autobahn_against_a_fake_fuzzing_server)
{
	struct daemon *fz = py_peer("autobahn");
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%d/", fz->port);
	struct run *r = run_rc("/dev/null", "--autobahn", base, "--agent", "rc test", NULL);
	expect_exit(r, 0, "ringcat: case 3/3: closed 1000, 2 message(s) echoed");
	cr_assert(strstr(r->err, "ringcat: case 1/3: closed 1000, 2 message(s) echoed"), "%s", r->err);
	cr_assert(strstr(r->err, "ran 3 cases, reports updated"), "%s", r->err);
	for (int i = 0; i < 50 && !strstr(daemon_log(fz), "reports for"); i++)
		usleep(20000);
	const char *log = daemon_log(fz);
	cr_assert(strstr(log, "case 1 ok") && strstr(log, "case 2 ok") && strstr(log, "case 3 ok"),
		  "%s", log);
	cr_assert(strstr(log, "reports for rc test"), "%s", log);
	/* -q: nothing on stderr */
	r = run_rc("/dev/null", "-q", "--autobahn", base, NULL);
	expect_exit(r, 0, NULL);
	cr_assert_eq(r->err_len, 0, "%s", r->err);
	cr_assert(strstr(daemon_log(fz), "reports for ringcat"), "%s", daemon_log(fz));
	/* nobody there */
	r = run_rc("/dev/null", "--autobahn", url_at(dead_port(), ""), NULL);
	expect_exit(r, 1, "Connection refused");
}

Test(ringcat, help_and_version)
{
	struct run *r = run_rc("/dev/null", "--help", NULL);
	expect_exit(r, 0, NULL);
	char *out = out_of(r, NULL);
	cr_assert(strstr(out, "usage: ringcat") && strstr(out, "Exit status") &&
		  strstr(out, "--autobahn"), "%s", out);
	free(out);
	r = run_rc("/dev/null", "--version", NULL);
	expect_exit(r, 0, NULL);
	out = out_of(r, NULL);
	cr_assert(strncmp(out, "ringcat ", 8) == 0, "%s", out);
	free(out);
}
