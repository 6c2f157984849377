/*
 * tls_interop_test: wss:// end to end. ringwsd serving TLS (--tls-cert and
 * --tls-key, the echo plugin) against TLS stacks no one here wrote: Node.js
 * ws over node's TLS (tls_client.mjs), Python websockets over the ssl module
 * (tls_client.py), both trusting only the test CA, and the openssl s_client
 * tool (TLS versions, ciphers, ALPN, SNI, a WebSocket upgrade typed through
 * it). SIGHUP re-reading the certificate files under open connections;
 * the config file's [listen] sections, one TLS and one plaintext; the errors
 * that end one connection and leave the others be (plaintext on the TLS
 * port, TLS on the plaintext port, a ClientHello cut short or stalled).
 * build/ringcat as a wss:// client against a Node https + ws echo server
 * (tls_server.mjs) and against ringwsd: --ca, the system CAs, --insecure,
 * and each certificate failure with its cause.
 *
 * The certificates come from tests/tls/make-certs.sh, run at test time into
 * BUILD/integration/tls-certs (it keeps a complete set it finds there). A
 * missing node, ws, python3-websockets or openssl fails the test with the
 * package to install.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#ifndef RWS_BUILD
#define RWS_BUILD "build"
#endif

#define MIB (1u << 20)
#define RUN_MS 40000

/* --- child processes with pipes on every side --------------------------------- */

/* A program run with stdin fed from memory (written as the pipe takes it)
 * and stdout and stderr kept whole, NUL-terminated. */
struct proc {
	const char *name;
	pid_t pid;
	int in_fd, out_fd, err_fd;
	char *in;		/* what is still to be written */
	size_t in_len, in_off;
	int in_close;		/* close stdin once in is written */
	char *out, *err;
	size_t out_len, err_len, out_cap, err_cap;
	size_t out_read;	/* lines taken by proc_line */
	int status;		/* exit code; -1 killed or not exited */
	char line[16 * 1024];	/* the last line proc_line or proc_finish took */
};

#define MAX_PROCS 24
static struct proc *procs[MAX_PROCS];
static int nprocs;
static char hup_dir[512];	/* the SIGHUP test's copies, removed at the end */

static void teardown(void)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i]->pid > 0) {
			kill(procs[i]->pid, SIGKILL);
			waitpid(procs[i]->pid, NULL, 0);
		}
	nprocs = 0;
	harness_teardown();
	if (hup_dir[0]) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", hup_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "tls_interop_test: could not remove %s\n", hup_dir);
	}
}

TestSuite(tls, .fini = teardown, .timeout = 90);
TestSuite(tls_errors, .fini = teardown, .timeout = 60);
TestSuite(tls_ringcat, .fini = teardown, .timeout = 60);

static void append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 8192;
		while (c < *len + n + 1)
			c *= 2;
		*buf = realloc(*buf, c);
		cr_assert(*buf, "out of memory");
		*cap = c;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = 0;
}

/* Starts argv (NULL-terminated; argv[0] looked up in PATH) with in[0..n)
 * on its stdin; stdin is closed after it unless keep_open. */
static struct proc *proc_start(const char *const *argv, const void *in, size_t n, int keep_open)
{
	cr_assert(nprocs < MAX_PROCS, "too many processes");
	struct proc *p = calloc(1, sizeof(*p));
	cr_assert(p);
	procs[nprocs++] = p;
	p->name = argv[0];
	p->status = -1;
	p->in_close = !keep_open;
	if (n) {
		p->in = malloc(n);
		cr_assert(p->in);
		memcpy(p->in, in, n);
		p->in_len = n;
	}
	append(&p->out, &p->out_len, &p->out_cap, "", 0);
	append(&p->err, &p->err_len, &p->err_cap, "", 0);
	int i[2], o[2], e[2];
	cr_assert(pipe2(i, O_CLOEXEC) == 0 && pipe2(o, O_CLOEXEC) == 0 && pipe2(e, O_CLOEXEC) == 0);
	setenv("RWS_PEER_DIR", harness_build("integration"), 1);
	pid_t parent = getpid();
	p->pid = fork();
	cr_assert(p->pid >= 0, "fork: %s", strerror(errno));
	if (p->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(i[0], 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(i[0]);
	close(o[1]);
	close(e[1]);
	p->in_fd = i[1];
	p->out_fd = o[0];
	p->err_fd = e[0];
	fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
	if (!p->in_len && p->in_close) {
		close(p->in_fd);
		p->in_fd = -1;
	}
	return p;
}

/* Writes what stdin takes and reads what the outputs give, waiting up to
 * ms: 0 on progress, -1 on timeout, 1 when stdout and stderr are at EOF. */
static int proc_pump(struct proc *p, int ms)
{
	if (p->out_fd < 0 && p->err_fd < 0)
		return 1;
	int want_in = p->in_fd >= 0 && p->in_off < p->in_len;
	struct pollfd f[3] = { { p->out_fd, POLLIN, 0 }, { p->err_fd, POLLIN, 0 },
			       { want_in ? p->in_fd : -1, POLLOUT, 0 } };
	int r = poll(f, 3, ms);
	if (r == 0)
		return -1;
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (f[2].revents) {
		ssize_t w = write(p->in_fd, p->in + p->in_off, p->in_len - p->in_off);
		if (w > 0)
			p->in_off += (size_t)w;
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			p->in_off = p->in_len;	/* the reader is gone */
		if (p->in_off == p->in_len && p->in_close) {
			close(p->in_fd);
			p->in_fd = -1;
		}
	}
	for (int k = 0; k < 2; k++) {
		if (f[k].fd < 0 || !f[k].revents)
			continue;
		char tmp[65536];
		ssize_t n = read(f[k].fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(f[k].fd);
			*(k ? &p->err_fd : &p->out_fd) = -1;
			continue;
		}
		if (k)
			append(&p->err, &p->err_len, &p->err_cap, tmp, (size_t)n);
		else
			append(&p->out, &p->out_len, &p->out_cap, tmp, (size_t)n);
	}
	return 0;
}

/* Queues more for stdin (which must be open). */
static void proc_send(struct proc *p, const void *d, size_t n)
{
	cr_assert(p->in_fd >= 0, "%s: stdin already closed", p->name);
	char *b = malloc(p->in_len - p->in_off + n + 1);
	cr_assert(b);
	memcpy(b, p->in + p->in_off, p->in_len - p->in_off);
	memcpy(b + p->in_len - p->in_off, d, n);
	p->in_len = p->in_len - p->in_off + n;
	p->in_off = 0;
	free(p->in);
	p->in = b;
}

/* Closes stdin once what is queued is written. */
static void proc_close_in(struct proc *p)
{
	p->in_close = 1;
	if (p->in_fd >= 0 && p->in_off == p->in_len) {
		close(p->in_fd);
		p->in_fd = -1;
	}
}

static int has(const char *hay, size_t len, const void *needle, size_t n)
{
	return memmem(hay, len, needle, n) != NULL;
}

/* Whether stdout or stderr holds needle (bytes). */
static int proc_has_bytes(const struct proc *p, const void *needle, size_t n)
{
	return has(p->out, p->out_len, needle, n) || has(p->err, p->err_len, needle, n);
}

static int proc_has(const struct proc *p, const char *needle)
{
	return proc_has_bytes(p, needle, strlen(needle));
}

/* Waits up to ms until stdout or stderr holds needle: 0, or -1. */
static int proc_wait_for_bytes(struct proc *p, const void *needle, size_t n, int ms)
{
	long long end = now_ms() + ms;
	while (!proc_has_bytes(p, needle, n)) {
		long long left = end - now_ms();
		if (left <= 0 || proc_pump(p, (int)left) != 0)
			return proc_has_bytes(p, needle, n) ? 0 : -1;
	}
	return 0;
}

static int proc_wait_for(struct proc *p, const char *needle, int ms)
{
	return proc_wait_for_bytes(p, needle, strlen(needle), ms);
}

/* Moves the next whole stdout line into p->line: 0, or -1 after ms. */
static int proc_line(struct proc *p, int ms)
{
	long long end = now_ms() + ms;
	for (;;) {
		char *s = p->out + p->out_read;
		char *nl = memchr(s, '\n', p->out_len - p->out_read);
		if (nl) {
			size_t n = (size_t)(nl - s) < sizeof(p->line) - 1 ? (size_t)(nl - s) :
				   sizeof(p->line) - 1;
			memcpy(p->line, s, n);
			p->line[n] = 0;
			p->out_read = (size_t)(nl + 1 - p->out);
			return 0;
		}
		long long left = end - now_ms();
		if (left <= 0 || proc_pump(p, (int)left) != 0)
			return -1;
	}
}

/* Closes stdin (after what is queued), waits for the exit, killing the
 * program after ms. Returns its exit code, -1 if killed; keeps the last
 * stdout line in p->line. */
static int proc_finish(struct proc *p, int ms)
{
	proc_close_in(p);
	long long end = now_ms() + ms;
	int killed = 0;
	for (;;) {
		long long left = end - now_ms();
		if (left <= 0) {
			if (killed)
				break;	/* something else holds its pipes */
			kill(p->pid, SIGKILL);
			killed = 1;
			end = now_ms() + 2000;
			left = 2000;
		}
		if (proc_pump(p, (int)left) == 1)
			break;
	}
	int st;
	while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
		;
	p->pid = 0;
	if (p->in_fd >= 0) {
		close(p->in_fd);
		p->in_fd = -1;
	}
	while (proc_line(p, 0) == 0)
		;
	p->status = !killed && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return p->status;
}

/* --- dependencies and certificates ------------------------------------------ */


static void need_openssl(void)
{
	cr_assert(harness_in_path("openssl"), "the openssl tool is not in PATH: Debian package openssl; run "
		  "apt-get install openssl (or make test-deps)");
}

static void need_node(void)
{
	cr_assert(harness_in_path("node"), "node is not in PATH: Debian package nodejs; run apt-get install "
		  "nodejs (or make test-deps)");
	cr_assert(access(harness_build("integration/node_modules/ws/package.json"), R_OK) == 0,
		  "npm package ws (tests/integration/package.json) is not installed in %s: run "
		  "BUILD=%s sh tests/integration/setup.sh (make test does)",
		  harness_build("integration/node_modules"), RWS_BUILD);
}

static void need_python(void)
{
	const char *argv[] = { "/usr/bin/python3", "-c", "import websockets", NULL };
	cr_assert(access(argv[0], X_OK) == 0, "no /usr/bin/python3: Debian packages python3 and "
		  "python3-websockets; run apt-get install python3-websockets (or make test-deps)");
	struct proc *p = proc_start(argv, NULL, 0, 0);
	cr_assert_eq(proc_finish(p, 10000), 0, "/usr/bin/python3 cannot import websockets: Debian "
		     "package python3-websockets; run apt-get install python3-websockets (or make "
		     "test-deps)\n%s", p->err);
}

/* "DIR/NAME.EXT" of the test PKI: cert("alpha", "key"). */
static const char *cert(const char *name, const char *ext)
{
	need_openssl();
	return harness_pki(name, ext);
}

static const char *ca(void)
{
	return cert("ca", "pem");
}

/* --- ringwsd over TLS ----------------------------------------------------------- */

/* ringwsd --listen 127.0.0.1:0 --route /=echo.so ARGS... (NULL-terminated),
 * waiting for its listening line. */
/* Appends the strings of ap (up to its NULL) to v[n..], with the NULL;
 * v has room for cap entries. */
static void collect(const char **v, int n, int cap, va_list ap)
{
	for (const char *a; (a = va_arg(ap, const char *));) {
		cr_assert(n < cap - 1, "too many arguments");
		v[n++] = a;
	}
	v[n] = NULL;
}

static struct daemon *start_v(const char *const *args)
{
	const char *a[64];
	int n = 0;
	a[n++] = "--listen";
	a[n++] = "127.0.0.1:0";
	a[n++] = "--route";
	a[n++] = route("/", "echo");
	for (; *args; args++) {
		cr_assert(n < 63);
		a[n++] = *args;
	}
	a[n] = NULL;
	struct daemon *d = daemon_spawn(a);
	if (daemon_wait_ready(d, 10000) < 0) {
		int st = daemon_wait_exit(d, 100);
		cr_assert_fail("ringwsd did not print its listening line within 10 s (wait status "
			       "%d); its stderr:\n%s", st, daemon_log(d));
	}
	return d;
}

static struct daemon *echo_daemon(const char *arg, ...) __attribute__((sentinel));
static struct daemon *echo_daemon(const char *arg, ...)
{
	const char *args[48];
	int n = 0;
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a; a = va_arg(ap, const char *)) {
		cr_assert(n < 47);
		args[n++] = a;
	}
	va_end(ap);
	args[n] = NULL;
	return start_v(args);
}

/* ringwsd serving TLS with server.pem (localhost, 127.0.0.1), then ARGS. */
#define tls_daemon(...) echo_daemon("--tls-cert", cert("server", "pem"), "--tls-key", \
				    cert("server", "key"), __VA_ARGS__)

static const char *url(const char *scheme, const char *host, int port, const char *path)
{
	char *s;
	cr_assert(asprintf(&s, "%s://%s:%d%s", scheme, host, port, path) > 0);
	return s;
}

static const char *wss(struct daemon *d)
{
	return url("wss", "127.0.0.1", d->port, "/");
}

static size_t log_len(struct daemon *d)
{
	return strlen(daemon_log(d));
}

/* The line of d's stderr, at or after offset from, that contains needle
 * (and needle2, if given); waits up to ms for it. NULL if none came. */
static const char *log_find2(struct daemon *d, size_t from, const char *needle,
			     const char *needle2, int ms)
{
	long long end = now_ms() + ms;
	for (;;) {
		const char *log = daemon_log(d);
		for (const char *l = strlen(log) > from ? log + from : ""; *l;) {
			size_t n = strcspn(l, "\n");
			char *line = strndup(l, n);
			cr_assert(line);
			if (strstr(line, needle) && (!needle2 || strstr(line, needle2)) &&
			    l[n] == '\n')
				return line;
			free(line);
			l += n + (l[n] == '\n');
		}
		if (now_ms() >= end)
			return NULL;
		usleep(10000);
	}
}

/* Asserts that a line with needle (and needle2) shows up after from, in 5 s. */
static const char *log_expect2(struct daemon *d, size_t from, const char *needle,
			       const char *needle2)
{
	const char *l = log_find2(d, from, needle, needle2, 5000);
	cr_assert(l, "ringwsd never logged a line with \"%s\"%s%s%s; its stderr since:\n%s", needle,
		  needle2 ? " and \"" : "", needle2 ? needle2 : "", needle2 ? "\"" : "",
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

/* --- the peers ----------------------------------------------------------------- */

enum kind { NODE, PY };

static const char *kind_name(enum kind k)
{
	return k == NODE ? "node ws" : "python websockets";
}

/* tls_client.{mjs,py} SCENARIO URL ca=CA PARAMS (NULL-terminated); stdin
 * kept open for the hold scenario. */
static struct proc *client_v(enum kind k, const char *scenario, const char *u,
			     const char *const *params)
{
	const char *argv[48];
	int n = 0;
	if (k == NODE) {
		need_node();
		argv[n++] = "node";
		argv[n++] = harness_src("tests/integration/tls_client.mjs");
	} else {
		need_python();
		argv[n++] = "/usr/bin/python3";
		argv[n++] = harness_src("tests/integration/tls_client.py");
	}
	argv[n++] = scenario;
	argv[n++] = u;
	char *cap;
	cr_assert(asprintf(&cap, "ca=%s", ca()) > 0);
	argv[n++] = cap;
	for (; *params; params++) {
		cr_assert(n < 47);
		argv[n++] = *params;
	}
	argv[n] = NULL;
	return proc_start(argv, NULL, 0, strcmp(scenario, "hold") == 0);
}

static struct proc *client(enum kind k, const char *scenario, const char *u, ...)
	__attribute__((sentinel));

static struct proc *client(enum kind k, const char *scenario, const char *u, ...)
{
	const char *params[40];
	va_list ap;
	va_start(ap, u);
	collect(params, 0, 40, ap);
	va_end(ap);
	return client_v(k, scenario, u, params);
}

/* Runs a client scenario to its end and asserts exit 0; returns its JSON
 * line. d (may be NULL) is the server whose log a failure shows. */
static const char *client_ok(struct daemon *d, enum kind k, const char *scenario, const char *u,
			     ...) __attribute__((sentinel));
static const char *client_ok(struct daemon *d, enum kind k, const char *scenario, const char *u,
			     ...)
{
	const char *params[40];
	va_list ap;
	va_start(ap, u);
	collect(params, 0, 40, ap);
	va_end(ap);
	struct proc *p = client_v(k, scenario, u, params);
	int rc = proc_finish(p, RUN_MS);
	cr_assert_eq(rc, 0, "%s, scenario %s on %s: exit %d\n  result: %s\n  stderr: %s\n"
		     "  server stderr:\n%s", kind_name(k), scenario, u, rc, p->line, p->err,
		     d ? daemon_log(d) : "");
	return strdup(p->line);
}

/* The string value of "key" in a JSON line ("" when absent or not a
 * string; both "k":"v" and Python's "k": "v"). */
static const char *json_str(const char *line, const char *key)
{
	char k[64];
	snprintf(k, sizeof(k), "\"%s\":", key);
	const char *p = strstr(line, k);
	if (!p)
		return "";
	p += strlen(k);
	while (*p == ' ')
		p++;
	if (*p != '"')
		return "";
	p++;
	return strndup(p, strcspn(p, "\""));
}

static long long json_int(const char *line, const char *key)
{
	char k[64];
	snprintf(k, sizeof(k), "\"%s\":", key);
	const char *p = strstr(line, k);
	cr_assert(p, "no %s in %s", key, line);
	return atoll(p + strlen(k));
}

/* An AEAD suite, by IANA or OpenSSL name. */
static int aead(const char *cipher)
{
	return strstr(cipher, "GCM") || strstr(cipher, "CHACHA20") || strstr(cipher, "CCM");
}

/* --- openssl s_client --------------------------------------------------------------- */

/* openssl s_client -connect 127.0.0.1:PORT -CAfile CA -nocommands ARGS...
 * (NULL-terminated), stdin kept open. */
static struct proc *s_client(int port, ...) __attribute__((sentinel));
static struct proc *s_client(int port, ...)
{
	need_openssl();
	const char *argv[48];
	int n = 0;
	char *connect;
	cr_assert(asprintf(&connect, "127.0.0.1:%d", port) > 0);
	argv[n++] = "openssl";
	argv[n++] = "s_client";
	argv[n++] = "-connect";
	argv[n++] = connect;
	argv[n++] = "-CAfile";
	argv[n++] = ca();
	argv[n++] = "-nocommands";
	va_list ap;
	va_start(ap, port);
	collect(argv, n, 48, ap);
	va_end(ap);
	return proc_start(argv, NULL, 0, 1);
}

/* Waits for s_client's summary of a finished handshake ("Verify return
 * code" ends it); fails the test with its output and the server's log
 * otherwise. */
static void s_client_handshake(struct proc *p, struct daemon *d)
{
	int rc = proc_wait_for(p, "Verify return code:", 10000);
	cr_assert(rc == 0 && !proc_has(p, "Cipher is (NONE)"),
		  "openssl s_client: no handshake within 10 s\n%s\n%s\nserver stderr:\n%s", p->out,
		  p->err, d ? daemon_log(d) : "");
}

/* Waits for s_client to end on its own and asserts the handshake failed:
 * our ClientHello went out, no ServerHello came back, no cipher agreed.
 * (Needs -msg.) */
static void s_client_refused(struct proc *p, struct daemon *d, const char *what)
{
	int rc = proc_finish(p, 10000);
	cr_assert(proc_has(p, ">>> ") && proc_has(p, "ClientHello"),
		  "%s: openssl sent no ClientHello (exit %d)\n%s\n%s", what, rc, p->out, p->err);
	cr_assert(!proc_has(p, "ServerHello") && proc_has(p, "Cipher is (NONE)") && rc != 0,
		  "%s: the server took the handshake (exit %d)\n%s\n%s\nserver stderr:\n%s", what, rc,
		  p->out, p->err, d ? daemon_log(d) : "");
}

/* The subject's CN as s_client prints it ("subject=O = ringws test, CN =
 * alpha.test"): asserts it is cn. */
static void s_client_subject(struct proc *p, const char *cn, const char *what)
{
	char want[128];
	snprintf(want, sizeof(want), "subject=O = ringws test, CN = %s\n", cn);
	cr_assert(proc_has(p, want), "%s: wanted the certificate of %s, s_client saw:\n%s", what, cn,
		  p->out);
}

static const char UPGRADE[] =
	"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
static const char ACCEPT[] = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

/* Types a WebSocket session through s_client: the upgrade (101 with the
 * RFC 6455 accept value), a masked text frame "hello" echoed unmasked, a
 * close 1000 answered with 1000; then s_client ends as the server closes. */
static void s_client_websocket(struct proc *p, struct daemon *d)
{
	proc_send(p, UPGRADE, sizeof(UPGRADE) - 1);
	cr_assert(proc_wait_for(p, "\r\n\r\n", 10000) == 0 && proc_has(p, "HTTP/1.1 101 "),
		  "no 101 through s_client:\n%s\n%s\nserver stderr:\n%s", p->out, p->err,
		  daemon_log(d));
	cr_assert(proc_has(p, ACCEPT), "101 without the right accept value:\n%s", p->out);
	static const char frame[] = "\x81\x85\x00\x00\x00\x00hello";
	proc_send(p, frame, sizeof(frame) - 1);
	cr_assert(proc_wait_for_bytes(p, "\x81\x05hello", 7, 10000) == 0,
		  "no echo of \"hello\" through s_client:\n%s\n%s\nserver stderr:\n%s", p->out,
		  p->err, daemon_log(d));
	static const char close_frame[] = "\x88\x82\x00\x00\x00\x00\x03\xe8";
	proc_send(p, close_frame, sizeof(close_frame) - 1);
	cr_assert(proc_wait_for_bytes(p, "\x88\x02\x03\xe8", 4, 10000) == 0,
		  "close 1000 not answered through s_client:\n%s\n%s", p->out, p->err);
	int rc = proc_finish(p, 10000);
	cr_assert(rc >= 0, "s_client did not end after the close handshake");
}

/* =========================================================================== */
/* 1, 2. Node ws and Python websockets as wss:// clients                          */
/* =========================================================================== */

/* text and binary of 0 B to 3 MiB, echoed byte for byte, then a close 1000;
 * by IP (the certificate's IP SAN, no SNI) and by name (SNI localhost) */
static void echo_sizes(enum kind k)
{
	struct daemon *d = tls_daemon(NULL);
	const char *l = client_ok(d, k, "echo", wss(d), NULL);
	cr_assert_str_eq(json_str(l, "tls"), "TLSv1.3", "%s", l);
	cr_assert(aead(json_str(l, "cipher")), "not an AEAD cipher: %s", l);
	cr_assert_str_eq(json_str(l, "cn"), "localhost", "%s", l);
	cr_assert(strstr(l, "binary:3145728") && strstr(l, "text:3145728"), "%s", l);
	l = client_ok(d, k, "echo", url("wss", "localhost", d->port, "/"), "sizes=0,70000,1048576",
		      NULL);
	cr_assert_str_eq(json_str(l, "cn"), "localhost", "%s", l);
}

Test(tls, node_echo_sizes)
{
	echo_sizes(NODE);
}

Test(tls, python_echo_sizes)
{
	echo_sizes(PY);
	/* Python offers ALPN: http/1.1 is agreed */
	struct daemon *d = tls_daemon(NULL);
	const char *l = client_ok(d, PY, "echo", wss(d), "sizes=10", "types=text", NULL);
	cr_assert_str_eq(json_str(l, "alpn"), "http/1.1", "%s", l);
}

/* close codes sent by the client, with reasons, come back (the code; the
 * reason is not repeated) */
static void close_codes(enum kind k)
{
	struct daemon *d = tls_daemon(NULL);
	client_ok(d, k, "close", wss(d), "code=1000", "reason=normal", NULL);
	client_ok(d, k, "close", wss(d), "code=3000", "reason=registered", NULL);
	const char *l = client_ok(d, k, "close", wss(d), "code=4999",
				  "reason=private use \xc3\xa9", NULL);
	cr_assert(strstr(l, "4999"), "%s", l);
}

Test(tls, node_close_codes)
{
	close_codes(NODE);
}

Test(tls, python_close_codes)
{
	close_codes(PY);
}

/* permessage-deflate over TLS: agreed, echoes intact, and what crossed the
 * TLS connection compressed both ways (Node's byte counts of the plaintext
 * under TLS: 2 MiB of text each way in well under 200 KiB) */
Test(tls, node_deflate)
{
	struct daemon *d = tls_daemon("--deflate", NULL);
	const char *l = client_ok(d, NODE, "echo", wss(d), "deflate=1", NULL);
	cr_assert(strstr(l, "\"extensions\":\"permessage-deflate"), "%s", l);
	l = client_ok(d, NODE, "echo", wss(d), "deflate=1", "types=text", "sizes=1048576,1048576",
		      NULL);
	long long w = json_int(l, "written"), r = json_int(l, "read");
	cr_assert(w > 0 && w < 200000 && r > 0 && r < 200000,
		  "2 MiB of text each way took %lld bytes out and %lld in: not compressed\n%s", w, r,
		  l);
}

/* =========================================================================== */
/* 3. openssl s_client: versions, ciphers, ALPN, an upgrade typed through it      */
/* =========================================================================== */

Test(tls, openssl_tls13_alpn_upgrade)
{
	struct daemon *d = tls_daemon(NULL);
	struct proc *p = s_client(d->port, "-tls1_3", "-alpn", "http/1.1", "-servername",
				  "localhost", "-verify_return_error", NULL);
	s_client_handshake(p, d);
	cr_assert(proc_has(p, "New, TLSv1.3, Cipher is TLS_"), "not TLS 1.3:\n%s", p->out);
	cr_assert(proc_has(p, "ALPN protocol: http/1.1\n"), "ALPN http/1.1 not agreed:\n%s", p->out);
	cr_assert(proc_has(p, "Verify return code: 0 (ok)"), "%s", p->out);
	s_client_websocket(p, d);

	/* without ALPN offered, none is agreed and it works all the same */
	p = s_client(d->port, "-tls1_3", "-servername", "localhost", NULL);
	s_client_handshake(p, d);
	cr_assert(proc_has(p, "No ALPN negotiated"), "%s", p->out);
	s_client_websocket(p, d);
}

Test(tls, openssl_tls12)
{
	struct daemon *d = tls_daemon(NULL);
	struct proc *p = s_client(d->port, "-tls1_2", "-alpn", "http/1.1", "-servername",
				  "localhost", "-verify_return_error", NULL);
	s_client_handshake(p, d);
	cr_assert(proc_has(p, "New, TLSv1.2, Cipher is ") && proc_has(p, "Protocol  : TLSv1.2\n"),
		  "not TLS 1.2:\n%s", p->out);
	const char *c = strstr(p->out, "New, TLSv1.2, Cipher is ");
	cr_assert(aead(strndup(c, strcspn(c, "\n"))), "a suite that is not AEAD:\n%s", p->out);
	cr_assert(proc_has(p, "ALPN protocol: http/1.1\n"), "%s", p->out);
	s_client_websocket(p, d);
}

/* The key exchange: X25519 when the client offers it (OpenSSL does by
 * default), and P-256 still for a client that offers only that; with the
 * server's preferred suite, ChaCha20-Poly1305, whatever the client's
 * order. */
Test(tls, openssl_key_exchange_and_suite)
{
	struct daemon *d = tls_daemon(NULL);
	struct proc *p = s_client(d->port, "-tls1_3", "-servername", "localhost",
				  "-verify_return_error", NULL);
	s_client_handshake(p, d);
	cr_assert(proc_has(p, "Server Temp Key: X25519"), "not X25519:\n%s", p->out);
	cr_assert(proc_has(p, "Cipher is TLS_CHACHA20_POLY1305_SHA256"), "%s", p->out);
	s_client_websocket(p, d);
	p = s_client(d->port, "-tls1_3", "-groups", "P-256", "-servername", "localhost",
		     "-verify_return_error", NULL);
	s_client_handshake(p, d);
	cr_assert(proc_has(p, "Server Temp Key: ECDH, prime256v1"), "not P-256:\n%s", p->out);
	s_client_websocket(p, d);
}

/* TLS 1.0 and 1.1 are refused by the server: OpenSSL at security level 0
 * offers them (the ClientHello goes out) and gets no ServerHello; so are
 * TLS 1.2 suites that are not AEAD (CBC) */
Test(tls, openssl_old_versions_and_cbc_refused)
{
	struct daemon *d = tls_daemon(NULL);
	s_client_refused(s_client(d->port, "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0", "-msg",
				  NULL), d, "-tls1");
	s_client_refused(s_client(d->port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-msg",
				  NULL), d, "-tls1_1");
	s_client_refused(s_client(d->port, "-tls1_2", "-cipher",
				  "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
				  "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384", "-msg", NULL),
			 d, "-tls1_2 with CBC suites only");
	/* the server goes on */
	struct proc *p = s_client(d->port, "-tls1_2", NULL);
	s_client_handshake(p, d);
	s_client_websocket(p, d);
	client_ok(d, NODE, "echo", wss(d), "sizes=100", NULL);
}

/* =========================================================================== */
/* 4. SNI: three certificates, the name picks one, the first is the default    */
/* =========================================================================== */

Test(tls, sni)
{
	struct daemon *d = tls_daemon("--tls-cert", cert("alpha", "pem"), "--tls-key",
				      cert("alpha", "key"), "--tls-cert", cert("beta", "pem"),
				      "--tls-key", cert("beta", "key"), NULL);
	static const struct {
		const char *sni, *cn;
	} cases[] = {
		{ "alpha.test", "alpha.test" }, { "beta.test", "beta.test" },
		{ "x.beta.test", "beta.test" }, { "localhost", "localhost" },
		{ "unknown.test", "localhost" }, { NULL, "localhost" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *sni = cases[i].sni;
		struct proc *p = sni ? s_client(d->port, "-servername", sni, "-verify_hostname",
						 cases[i].cn, NULL)
				     : s_client(d->port, "-noservername", NULL);
		s_client_handshake(p, d);
		s_client_subject(p, cases[i].cn, sni ? sni : "no SNI");
		cr_assert(proc_has(p, "Verify return code: 0 (ok)"), "%s:\n%s", sni ? sni : "-",
			  p->out);
		proc_finish(p, 10000);
	}
	/* Node ws with servername: the certificate checked against that name */
	const char *l = client_ok(d, NODE, "echo", wss(d), "servername=alpha.test", "sizes=1000",
				  NULL);
	cr_assert_str_eq(json_str(l, "cn"), "alpha.test", "%s", l);
	l = client_ok(d, NODE, "echo", wss(d), "servername=x.beta.test", "sizes=1000", NULL);
	cr_assert_str_eq(json_str(l, "cn"), "beta.test", "%s", l);
	l = client_ok(d, NODE, "echo", url("wss", "localhost", d->port, "/"), "sizes=1000", NULL);
	cr_assert_str_eq(json_str(l, "cn"), "localhost", "%s", l);
	/* and refuses a name the certificate chosen for it does not have */
	struct proc *p = client(NODE, "fail", wss(d), "servername=other.test", NULL);
	cr_assert_eq(proc_finish(p, RUN_MS), 0, "%s\n%s", p->line, p->err);
	cr_assert(strstr(p->line, "other.test") && strstr(p->line, "altnames"),
		  "not refused for the name: %s", p->line);
}

/* =========================================================================== */
/* 5. SIGHUP: new connections get the new certificate, open ones go on         */
/* =========================================================================== */

static void copy_file(const char *from, const char *to)
{
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.new", to);
	FILE *in = fopen(from, "rb"), *out = fopen(tmp, "wb");
	cr_assert(in && out, "copy %s to %s: %s", from, tmp, strerror(errno));
	char buf[8192];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		cr_assert_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	cr_assert_eq(fclose(out), 0);
	cr_assert(rename(tmp, to) == 0, "rename %s: %s", to, strerror(errno));
}

/* s_client's view of the certificate served now: asserts its key size */
static void served_key_bits(struct daemon *d, const char *bits, const char *what)
{
	struct proc *p = s_client(d->port, "-servername", "localhost", "-verify_return_error", NULL);
	s_client_handshake(p, d);
	cr_assert(proc_has(p, bits), "%s: wanted \"%s\", s_client saw:\n%s", what, bits, p->out);
	s_client_subject(p, "localhost", what);
	proc_finish(p, 10000);
}

Test(tls, sighup_reload)
{
	need_node();
	snprintf(hup_dir, sizeof(hup_dir), "%s.%d", harness_build("integration/tls-hup"),
		 (int)getpid());
	cr_assert(mkdir(hup_dir, 0755) == 0 || errno == EEXIST, "%s: %s", hup_dir, strerror(errno));
	char pem[600], key[600];
	snprintf(pem, sizeof(pem), "%s/cert.pem", hup_dir);
	snprintf(key, sizeof(key), "%s/cert.key", hup_dir);
	copy_file(cert("server", "pem"), pem);
	copy_file(cert("server", "key"), key);

	struct daemon *d = echo_daemon("--tls-cert", pem, "--tls-key", key, NULL);
	served_key_bits(d, "Server public key is 256 bit", "before SIGHUP");
	struct proc *old = client(NODE, "hold", wss(d), NULL);
	cr_assert(proc_line(old, 20000) == 0 && strstr(old->line, "\"ready\""),
		  "the held connection did not open: %s\n%s\n%s", old->line, old->err,
		  daemon_log(d));
	cr_assert_str_eq(json_str(old->line, "serial"), "03E9", "%s", old->line);

	/* the RSA certificate (localhost too, serial 1004) in place, then HUP */
	copy_file(cert("rsa", "pem"), pem);
	copy_file(cert("rsa", "key"), key);
	size_t from = log_len(d);
	kill(d->pid, SIGHUP);
	/* "certificate" or "certificates": the count is what matters */
	log_expect2(d, from, "ringwsd: SIGHUP: reloaded 1 TLS certificate", NULL);

	served_key_bits(d, "Server public key is 2048 bit", "after SIGHUP");
	const char *l = client_ok(d, NODE, "echo", wss(d), "sizes=1000,1048576", NULL);
	cr_assert_str_eq(json_str(l, "serial"), "03EC", "a new connection after SIGHUP: %s", l);
	cr_assert_eq(json_int(l, "bits"), 2048, "%s", l);

	/* the connection opened before still echoes, a large message too */
	proc_send(old, "echo 100\n", 9);
	cr_assert(proc_line(old, 10000) == 0 && strstr(old->line, "\"echoed\":100"),
		  "the connection opened before SIGHUP: %s\n%s\n%s", old->line, old->err,
		  daemon_log(d));
	proc_send(old, "echo 2097152\n", 13);
	cr_assert(proc_line(old, 10000) == 0 && strstr(old->line, "\"echoed\":2097152"),
		  "the connection opened before SIGHUP: %s\n%s", old->line, old->err);

	/* a key file that cannot be used: nothing changes, the daemon goes on */
	FILE *f = fopen(key, "w");
	cr_assert(f);
	fputs("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n", f);
	fclose(f);
	from = log_len(d);
	kill(d->pid, SIGHUP);
	const char *line = log_expect2(d, from, "SIGHUP: TLS reload failed", key);
	cr_assert(strstr(line, "keeping the old certificates"), "%s", line);
	cr_assert_eq(log_count(d, from, "reloaded"), 0, "a bad key file reloaded:\n%s",
		     daemon_log(d) + from);
	served_key_bits(d, "Server public key is 2048 bit", "after a failed SIGHUP");
	proc_send(old, "echo 5000\n", 10);
	cr_assert(proc_line(old, 10000) == 0 && strstr(old->line, "\"echoed\":5000"),
		  "after a failed reload: %s\n%s", old->line, old->err);
	proc_send(old, "close\n", 6);
	cr_assert_eq(proc_finish(old, 10000), 0, "%s\n%s", old->line, old->err);
	cr_assert(kill(d->pid, 0) == 0, "ringwsd is gone:\n%s", daemon_log(d));
}

/* =========================================================================== */
/* the config file: [listen] sections, one TLS, one plaintext                  */
/* =========================================================================== */

/* The port of the n-th (0-based) "listening on 127.0.0.1:" line. */
static int nth_port(struct daemon *d, int n)
{
	const char *tag = "ringwsd: listening on 127.0.0.1:";
	long long end = now_ms() + 10000;
	for (;;) {
		const char *log = daemon_log(d), *p = log;
		int i = 0;
		while ((p = strstr(p, tag))) {
			p += strlen(tag);
			if (i++ == n && strchr(p, '\n'))
				return atoi(p);
		}
		cr_assert(now_ms() < end, "no listening line #%d:\n%s", n + 1, log);
		usleep(10000);
	}
}

/* A raw client's plaintext upgrade: 101. */
static void plain_upgrade_ok(struct daemon *d, int port)
{
	int fd = tcp_connect(port, 5000);
	cr_assert_eq(tcp_send(fd, UPGRADE, sizeof(UPGRADE) - 1), 0);
	char head[4096];
	int st = http_read_head(fd, head, sizeof(head));
	cr_assert_eq(st, 101, "plaintext upgrade on port %d: %d\n%s\nserver stderr:\n%s", port, st,
		     head, daemon_log(d));
	close(fd);
}

Test(tls, config_listen_sections)
{
	char path[600];
	snprintf(path, sizeof(path), "%s.%d.conf", harness_build("integration/tls-listen"),
		 (int)getpid());
	FILE *f = fopen(path, "w");
	cr_assert(f, "%s: %s", path, strerror(errno));
	fprintf(f, "[listen 127.0.0.1:0]\ntls-cert = %s\ntls-key = %s\ntls-cert = %s\n"
		"tls-key = %s\n\n[listen 127.0.0.1:0]\ntls = off\n\n[route /]\nplugin = %s\n",
		cert("server", "pem"), cert("server", "key"), cert("alpha", "pem"),
		cert("alpha", "key"), harness_build("plugins/echo.so"));
	fclose(f);
	const char *args[] = { "--config", path, NULL };
	struct daemon *d = daemon_spawn(args);
	int ready = daemon_wait_ready(d, 10000);
	unlink(path);
	cr_assert_eq(ready, 0, "ringwsd with [listen] sections did not start:\n%s", daemon_log(d));
	int tls_port = nth_port(d, 0), plain_port = nth_port(d, 1);
	cr_assert_neq(tls_port, plain_port);

	client_ok(d, NODE, "echo", url("wss", "127.0.0.1", tls_port, "/"), "sizes=0,100000", NULL);
	const char *l = client_ok(d, NODE, "echo", url("wss", "127.0.0.1", tls_port, "/"),
				  "servername=alpha.test", "sizes=10", NULL);
	cr_assert_str_eq(json_str(l, "cn"), "alpha.test", "the section's second certificate: %s", l);
	plain_upgrade_ok(d, plain_port);

	/* TLS on the plaintext one fails */
	size_t from = log_len(d);
	struct proc *p = client(NODE, "fail", url("wss", "127.0.0.1", plain_port, "/"), NULL);
	cr_assert_eq(proc_finish(p, RUN_MS), 0, "%s\n%s", p->line, p->err);
	log_expect2(d, from, "plaintext port", "TLS");
	plain_upgrade_ok(d, plain_port);
}

/* =========================================================================== */
/* 7. errors that end one connection and no other                              */
/* =========================================================================== */

/* a plain HTTP upgrade sent to the TLS port: a plaintext 400, a log line */
Test(tls_errors, plaintext_on_tls_port)
{
	struct daemon *d = tls_daemon(NULL);
	struct proc *held = client(NODE, "hold", wss(d), NULL);
	cr_assert(proc_line(held, 20000) == 0, "%s\n%s", held->line, held->err);
	size_t from = log_len(d);
	int fd = tcp_connect(d->port, 5000);
	cr_assert_eq(tcp_send(fd, UPGRADE, sizeof(UPGRADE) - 1), 0);
	char head[4096];
	int st = http_read_head(fd, head, sizeof(head));
	cr_assert_eq(st, 400, "plaintext on the TLS port: %d\n%s\nserver stderr:\n%s", st, head,
		     daemon_log(d));
	char len[32], body[4096];
	if (http_header(head, "Content-Length", len, sizeof(len)) == 0) {
		size_t n = (size_t)atol(len);
		cr_assert(n < sizeof(body), "a 400 with a body of %zu bytes", n);
		cr_assert_eq(http_read_body(fd, body, n), 0, "the 400's body of %zu bytes", n);
	}
	int rc = tcp_expect_eof(fd, 5000, NULL);
	cr_assert_eq(rc, 0, "the connection stayed open after the 400 (%d)\n%s", rc, head);
	close(fd);
	log_expect2(d, from, "not TLS", NULL);

	proc_send(held, "echo 70000\n", 11);
	cr_assert(proc_line(held, 10000) == 0 && strstr(held->line, "\"echoed\":70000"), "%s\n%s",
		  held->line, held->err);
	client_ok(d, NODE, "echo", wss(d), "sizes=0,1000", NULL);
	proc_send(held, "close\n", 6);
	cr_assert_eq(proc_finish(held, 10000), 0, "%s\n%s", held->line, held->err);
}

/* openssl s_client and Node wss on a plaintext port: the handshake fails,
 * a log line says why, plaintext clients go on */
Test(tls_errors, tls_on_plaintext_port)
{
	const char *plain[] = { NULL };
	struct daemon *d = start_v(plain);
	size_t from = log_len(d);
	s_client_refused(s_client(d->port, "-msg", NULL), d, "TLS on a plaintext port");
	log_expect2(d, from, "plaintext port", "TLS");
	plain_upgrade_ok(d, d->port);

	from = log_len(d);
	struct proc *p = client(NODE, "fail", url("wss", "127.0.0.1", d->port, "/"), NULL);
	cr_assert_eq(proc_finish(p, RUN_MS), 0, "%s\n%s", p->line, p->err);
	log_expect2(d, from, "plaintext port", "TLS");
	plain_upgrade_ok(d, d->port);
}

/* The first 60 bytes of a 512-byte ClientHello (record and handshake
 * headers, TLS 1.2 legacy version, part of the random). */
static const unsigned char PARTIAL_HELLO[60] = {
	0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
	0x5b, 0x82, 0xeb, 0x3d, 0xd1, 0x3a, 0x05, 0xd9, 0x55, 0xde, 0x64, 0x5e, 0x4e, 0x8b,
	0xba, 0x34, 0x58, 0x31, 0x83, 0x5b, 0x7c, 0xfa, 0xb7, 0x85, 0xc4, 0x1a, 0x5c, 0x59,
	0x70, 0x84, 0x98, 0x57, 0x20, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
	0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00,
};

/* part of a ClientHello, then the client closes */
Test(tls_errors, truncated_client_hello)
{
	struct daemon *d = tls_daemon(NULL);
	size_t from = log_len(d);
	int fd = tcp_connect(d->port, 5000);
	cr_assert_eq(tcp_send(fd, PARTIAL_HELLO, sizeof(PARTIAL_HELLO)), 0);
	usleep(100000);
	close(fd);
	log_expect2(d, from, "TLS handshake", NULL);
	client_ok(d, NODE, "echo", wss(d), "sizes=0,1000", NULL);
	client_ok(d, PY, "echo", wss(d), "sizes=1000", NULL);
}

/* part of a ClientHello, then nothing: dropped at --handshake-timeout with
 * a log line, while another client is served meanwhile */
Test(tls_errors, stalled_client_hello)
{
	struct daemon *d = tls_daemon("--handshake-timeout", "1500", NULL);
	size_t from = log_len(d);
	int fd = tcp_connect(d->port, 5000);
	cr_assert_eq(tcp_send(fd, PARTIAL_HELLO, sizeof(PARTIAL_HELLO)), 0);
	long long t0 = now_ms();
	client_ok(d, NODE, "echo", wss(d), "sizes=0,1000,1048576", NULL);
	int rc = tcp_expect_eof(fd, 6000, NULL);
	long long took = now_ms() - t0;
	close(fd);
	cr_assert_eq(rc, 0, "the stalled handshake was not dropped within 6 s (%d)\n%s", rc,
		     daemon_log(d));
	cr_assert(took >= 1000, "dropped after %lld ms, before the 1500 ms timeout", took);
	log_expect2(d, from, "TLS handshake", NULL);
	client_ok(d, NODE, "echo", wss(d), "sizes=1000", NULL);
}

/* =========================================================================== */
/* 6. ringcat as a wss:// client                                               */
/* =========================================================================== */

/* node tls_server.mjs NAME.pem NAME.key */
static struct daemon *node_server(const char *name)
{
	need_node();
	const char *argv[] = { "node", harness_src("tests/integration/tls_server.mjs"),
			       cert(name, "pem"), cert(name, "key"), NULL };
	setenv("RWS_PEER_DIR", harness_build("integration"), 1);
	return program_start(argv, "tls_server: listening on 127.0.0.1:");
}

/* build/ringcat ARGS... (NULL-terminated) with in[0..n) on stdin */
static struct proc *ringcat(const void *in, size_t n, ...) __attribute__((sentinel));
static struct proc *ringcat(const void *in, size_t n, ...)
{
	const char *argv[32];
	int k = 0;
	argv[k++] = harness_build("ringcat");
	cr_assert(access(argv[0], X_OK) == 0, "%s is missing: make %s/ringcat", argv[0], RWS_BUILD);
	va_list ap;
	va_start(ap, n);
	collect(argv, k, 32, ap);
	va_end(ap);
	return proc_start(argv, in, n, 0);
}

static const char LINES[] = "hello\nw\xc3\xb6rld \xf0\x9f\x98\x80\n\nlast line\n";

/* ringcat run to its end: asserts the exit code, returns the process */
static struct proc *ringcat_done(struct proc *p, int want, struct daemon *srv)
{
	int rc = proc_finish(p, RUN_MS);
	cr_assert_eq(rc, want, "ringcat exit %d, wanted %d\n  stdout: %.2000s\n  stderr: %s\n"
		     "  server stderr:\n%s", rc, want, p->out, p->err, srv ? daemon_log(srv) : "");
	return p;
}

Test(tls_ringcat, ca_file)
{
	struct daemon *s = node_server("server");
	/* by name: SNI from the URL's host, ALPN http/1.1 */
	const char *u = url("wss", "localhost", s->port, "/");
	struct proc *p = ringcat_done(ringcat(LINES, sizeof(LINES) - 1, "--ca", ca(), u, NULL), 0, s);
	cr_assert_eq(p->out_len, sizeof(LINES) - 1, "stdout: %s\nstderr: %s", p->out, p->err);
	cr_assert(memcmp(p->out, LINES, p->out_len) == 0, "stdout: %s", p->out);
	const char *l = log_find2(s, 0, "tls_server: open", NULL, 5000);
	cr_assert(l && strstr(l, "sni=localhost "), "SNI: %s", l ? l : daemon_log(s));
	cr_assert(strstr(l, "alpn=http/1.1 ") && strstr(l, "tls=TLSv1.3"), "%s", l);

	/* by IP: the certificate's IP SAN; no SNI for an IP */
	size_t from = log_len(s);
	size_t big = MIB;
	unsigned char *data = malloc(big);
	cr_assert(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (unsigned char)((i * 2654435761u) >> 13);
	p = ringcat_done(ringcat(data, big, "--binary", "--ca", ca(),
				 url("wss", "127.0.0.1", s->port, "/"), NULL), 0, s);
	cr_assert_eq(p->out_len, big, "1 MiB through wss: %zu bytes back\nstderr: %s", p->out_len,
		     p->err);
	cr_assert(memcmp(p->out, data, big) == 0, "1 MiB through wss: the bytes differ");
	l = log_find2(s, from, "tls_server: open", NULL, 5000);
	cr_assert(l && strstr(l, "sni=- "), "SNI for an IP: %s", l ? l : daemon_log(s));
}

/* the test CA is in no system store: without --ca the certificate fails */
Test(tls_ringcat, system_cas_refuse_test_ca)
{
	struct daemon *s = node_server("server");
	struct proc *p = ringcat_done(ringcat(LINES, sizeof(LINES) - 1,
					      url("wss", "localhost", s->port, "/"), NULL), 1, s);
	cr_assert(strstr(p->err, "certificate") && strstr(p->err, "not signed by a trusted CA"),
		  "stderr: %s", p->err);
	cr_assert_eq(p->out_len, 0, "stdout: %s", p->out);
	/* the server saw the client give up in the handshake */
	cr_assert(!log_find2(s, 0, "tls_server: open", NULL, 200), "%s", daemon_log(s));
}

Test(tls_ringcat, insecure)
{
	struct daemon *s = node_server("wrong");	/* signed by other-ca */
	struct proc *p = ringcat_done(ringcat(LINES, sizeof(LINES) - 1, "--insecure",
					      url("wss", "127.0.0.1", s->port, "/"), NULL), 0, s);
	cr_assert(p->out_len == sizeof(LINES) - 1 && memcmp(p->out, LINES, p->out_len) == 0,
		  "stdout: %s\nstderr: %s", p->out, p->err);
	cr_assert(strstr(p->err, "warning") && strstr(p->err, "insecure"),
		  "--insecure without a warning; stderr: %s", p->err);
	/* and without it, the same server fails */
	p = ringcat_done(ringcat(LINES, sizeof(LINES) - 1, "--ca", ca(),
				 url("wss", "127.0.0.1", s->port, "/"), NULL), 1, s);
	cr_assert(strstr(p->err, "certificate") && strstr(p->err, "not signed by a trusted CA"),
		  "stderr: %s", p->err);
}

Test(tls_ringcat, expired)
{
	struct daemon *s = node_server("expired");
	struct proc *p = ringcat_done(ringcat(LINES, sizeof(LINES) - 1, "--ca", ca(),
					      url("wss", "localhost", s->port, "/"), NULL), 1, s);
	cr_assert(strstr(p->err, "certificate") && strstr(p->err, "expired"), "stderr: %s", p->err);
	cr_assert_eq(p->out_len, 0, "stdout: %s", p->out);
}

Test(tls_ringcat, host_name_mismatch)
{
	struct daemon *s = node_server("alpha");	/* DNS:alpha.test only */
	struct proc *p = ringcat_done(ringcat(LINES, sizeof(LINES) - 1, "--ca", ca(),
					      url("wss", "localhost", s->port, "/"), NULL), 1, s);
	cr_assert(strstr(p->err, "certificate") && strstr(p->err, "host name"), "stderr: %s",
		  p->err);
	p = ringcat_done(ringcat(LINES, sizeof(LINES) - 1, "--ca", ca(),
				 url("wss", "127.0.0.1", s->port, "/"), NULL), 1, s);
	cr_assert(strstr(p->err, "certificate") &&
		  (strstr(p->err, "host name") || strstr(p->err, "IP address")), "stderr: %s",
		  p->err);
	cr_assert_eq(p->out_len, 0, "stdout: %s", p->out);
}

/* ringcat to ringwsd: the library on both sides of the TLS */
Test(tls_ringcat, to_ringwsd)
{
	struct daemon *d = tls_daemon("--deflate", NULL);
	struct proc *p = ringcat_done(ringcat(LINES, sizeof(LINES) - 1, "--ca", ca(),
					      url("wss", "localhost", d->port, "/"), NULL), 0, d);
	cr_assert(p->out_len == sizeof(LINES) - 1 && memcmp(p->out, LINES, p->out_len) == 0,
		  "stdout: %s\nstderr: %s", p->out, p->err);
	p = ringcat_done(ringcat(NULL, 0, "--ca", ca(), "-x", "ping over wss",
				 url("wss", "127.0.0.1", d->port, "/"), NULL), 0, d);
	cr_assert_str_eq(p->out, "ping over wss\n", "stderr: %s", p->err);
}

/* A plugin sees what TLS agreed (plugin ABI 1.2), and "plain" on a
 * plaintext address of the same ringwsd. */
Test(tls_ringcat, plugin_sees_the_tls_session)
{
	char cfg[600];
	char *dir = NULL;
	cr_assert(asprintf(&dir, "%s/integration/tlsinfo-%d", RWS_BUILD, (int)getpid()) > 0);
	mkdir(dir, 0700);
	snprintf(cfg, sizeof(cfg), "%s/ringwsd.conf", dir);
	FILE *f = fopen(cfg, "w");
	cr_assert(f, "%s", cfg);
	fprintf(f, "[listen 127.0.0.1:0]\ntls-cert = %s\ntls-key = %s\n\n"
		   "[listen 127.0.0.1:0]\ntls = off\n\n[route /info]\nplugin = %s/test-plugins/tlsinfo.so\n",
		cert("server", "pem"), cert("server", "key"), RWS_BUILD);
	fclose(f);
	const char *args[] = { "--config", cfg, NULL };
	struct daemon *d = daemon_spawn(args);
	cr_assert(daemon_wait_ready(d, 10000) == 0, "ringwsd did not start:\n%s", daemon_log(d));
	int tls_port = nth_port(d, 0), plain_port = nth_port(d, 1);
	struct proc *p = ringcat_done(ringcat(NULL, 0, "--ca", ca(), "-x", "?",
					      url("wss", "localhost", tls_port, "/info"), NULL), 0, d);
	cr_assert(strncmp(p->out, "TLSv1.3 TLS13-", 14) == 0 && strstr(p->out, " localhost\n"),
		  "stdout: %s\nstderr: %s", p->out, p->err);
	p = ringcat_done(ringcat(NULL, 0, "--ca", ca(), "-x", "?",
				 url("wss", "127.0.0.1", tls_port, "/info"), NULL), 0, d);
	cr_assert(strstr(p->out, " -\n"), "no SNI by IP: %s", p->out);
	p = ringcat_done(ringcat(NULL, 0, "-x", "?", url("ws", "127.0.0.1", plain_port, "/info"),
				 NULL), 0, d);
	cr_assert_str_eq(p->out, "plain\n", "stderr: %s", p->err);
	unlink(cfg);
	rmdir(dir);
	free(dir);
}

/* wss:// through an HTTP CONNECT proxy (the npm package proxy): TLS runs
 * inside the tunnel, end to end with the server. */
Test(tls_ringcat, through_a_connect_proxy)
{
	struct daemon *s = node_server("server");
	const char *argv[] = { "node", harness_src("tests/integration/peer_proxy.mjs"), NULL };
	struct daemon *px = program_start(argv, "peer_proxy: listening on 127.0.0.1:");
	char proxy[64];
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", px->port);
	struct proc *p = ringcat_done(ringcat(LINES, sizeof(LINES) - 1, "--ca", ca(), "--proxy",
					      proxy, url("wss", "localhost", s->port, "/"), NULL), 0, s);
	cr_assert(p->out_len == sizeof(LINES) - 1 && memcmp(p->out, LINES, p->out_len) == 0,
		  "stdout: %s\nstderr: %s", p->out, p->err);
	char target[64];
	snprintf(target, sizeof(target), "\"target\":\"localhost:%d\"", s->port);
	cr_assert(strstr(daemon_log(px), target), "the proxy saw no CONNECT to %s:\n%s", target,
		  daemon_log(px));
}
