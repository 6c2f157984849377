/*
 * harness: runs ringwsd and the peer drivers for the integration tests, and
 * the raw TCP helpers. See harness.h.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RWS_TOP
#define RWS_TOP "."
#endif
#ifndef RWS_BUILD
#define RWS_BUILD RWS_TOP "/build"
#endif

#define READY_MS 10000
#define MAX_CHILDREN 16

static struct daemon *daemons[MAX_CHILDREN];
static struct peer *peers[MAX_CHILDREN];
static int ndaemons, npeers;

long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	char *s;
	va_list ap;
	va_start(ap, f);
	int rc = vasprintf(&s, f, ap);
	va_end(ap);
	cr_assert(rc >= 0, "out of memory");
	return s;
}

const char *harness_build(const char *rel)
{
	return fmt("%s/%s", RWS_BUILD, rel);
}

const char *harness_src(const char *rel)
{
	return fmt("%s/%s", RWS_TOP, rel);
}

const char *route(const char *path, const char *plugin)
{
	return fmt("%s=%s/plugins/%s.so", path, RWS_BUILD, plugin);
}

int harness_deny_io_uring;

/* A seccomp filter that makes io_uring_setup fail with EPERM, as a
 * container runtime's default profile does. */
static void deny_io_uring(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		dprintf(2, "harness: seccomp: %s\n", strerror(errno));
		_exit(127);
	}
}

/* fork+exec argv with stdout/stderr to the given pipe write ends (or
 * /dev/null for -1); the child dies with the test process. */
static pid_t spawn(char *const *argv, int out_w, int err_w)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	int null = open("/dev/null", O_RDWR);
	dup2(null, 0);
	dup2(out_w >= 0 ? out_w : null, 1);
	dup2(err_w >= 0 ? err_w : null, 2);
	/* a test worker may have SIGPIPE or SIGTERM blocked or ignored */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (harness_deny_io_uring)
		deny_io_uring();
	execvp(argv[0], argv);
	dprintf(2, "harness: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* --- the daemon ------------------------------------------------------- */

#define RINGWSD_READY "ringwsd: listening on 127.0.0.1:"

/* Keeps reading the daemon's stderr; notes the port from the line
 * "ringwsd: listening on 127.0.0.1:PORT (N reactors)" (d->ready and the
 * port, for another program). */
static void *drain(void *arg)
{
	struct daemon *d = arg;
	char buf[4096];
	for (;;) {
		ssize_t n = read(d->err_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		pthread_mutex_lock(&d->lock);
		if (n <= 0) {
			d->eof = 1;
			pthread_cond_broadcast(&d->cond);
			pthread_mutex_unlock(&d->lock);
			return NULL;
		}
		size_t room = LOG_CAP - d->log_len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(d->log + d->log_len, buf, take);
		d->log_len += take;
		d->log[d->log_len] = 0;
		if (!d->port) {
			const char *l = strstr(d->log, d->ready);
			if (l && strchr(l, '\n')) {
				d->port = atoi(l + strlen(d->ready));
				pthread_cond_broadcast(&d->cond);
			}
		}
		pthread_mutex_unlock(&d->lock);
	}
}

/* Runs argv with its stderr drained into d->log, watching for ready. */
static struct daemon *spawn_watched(const char *const *argv, const char *ready)
{
	cr_assert(ndaemons < MAX_CHILDREN, "too many daemons");
	struct daemon *d = calloc(1, sizeof(*d));
	cr_assert(d);
	d->ready = ready;

	int p[2];
	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	d->status = -1;
	d->err_fd = p[0];
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	d->pid = spawn((char *const *)argv, -1, p[1]);
	close(p[1]);
	cr_assert(pthread_create(&d->drain, NULL, drain, d) == 0);
	daemons[ndaemons++] = d;
	return d;
}

struct daemon *daemon_spawn(const char *const *args)
{
	const char *bin = getenv("RINGWSD");
	if (!bin || !*bin)
		bin = harness_build("ringwsd");
	const char *argv[64];
	int n = 0;
	argv[n++] = bin;
	for (; *args; args++) {
		cr_assert(n < 63);
		argv[n++] = *args;
	}
	argv[n] = NULL;
	return spawn_watched(argv, RINGWSD_READY);
}

struct daemon *program_start(const char *const *argv, const char *ready)
{
	struct daemon *d = spawn_watched(argv, ready);
	if (daemon_wait_ready(d, READY_MS) < 0) {
		int st = daemon_wait_exit(d, 100);
		cr_assert_fail("%s did not print \"%s\" within %d ms (wait status %d); its "
			       "stderr:\n%s", argv[0], ready, READY_MS, st, daemon_log(d));
	}
	return d;
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

int daemon_wait_ready(struct daemon *d, int timeout_ms)
{
	struct timespec ts;
	deadline_in(&ts, timeout_ms);
	pthread_mutex_lock(&d->lock);
	while (!d->port && !d->eof)
		if (pthread_cond_timedwait(&d->cond, &d->lock, &ts) == ETIMEDOUT)
			break;
	int ok = d->port > 0;
	pthread_mutex_unlock(&d->lock);
	return ok ? 0 : -1;
}

const char *daemon_log(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	const char *s = fmt("%s", d->log);
	pthread_mutex_unlock(&d->lock);
	return s;
}

struct daemon *daemon_start(const char *arg, ...)
{
	const char *args[64];
	int n = 0;
	args[n++] = "--listen";
	args[n++] = "127.0.0.1:0";
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a; a = va_arg(ap, const char *)) {
		cr_assert(n < 63);
		args[n++] = a;
	}
	va_end(ap);
	args[n] = NULL;
	struct daemon *d = daemon_spawn(args);
	if (daemon_wait_ready(d, READY_MS) < 0) {
		int st = daemon_wait_exit(d, 100);
		cr_assert_fail("ringwsd did not print its listening line within %d ms "
			       "(wait status %d); its stderr:\n%s", READY_MS, st, daemon_log(d));
	}
	return d;
}

const char *daemon_url(const struct daemon *d, const char *path)
{
	return fmt("ws://127.0.0.1:%d%s", d->port, path);
}

int daemon_wait_exit(struct daemon *d, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	while (d->status < 0) {
		int st;
		pid_t r = waitpid(d->pid, &st, WNOHANG);
		if (r == d->pid) {
			d->status = st;
			break;
		}
		if (r < 0 || now_ms() >= end)
			return -1;
		usleep(5000);
	}
	if (d->drain) {
		/* the daemon is gone; its stderr ends once any child of it is too */
		struct timespec ts;
		deadline_in(&ts, 1000);
		pthread_mutex_lock(&d->lock);
		while (!d->eof)
			if (pthread_cond_timedwait(&d->cond, &d->lock, &ts) == ETIMEDOUT)
				break;
		int eof = d->eof;
		pthread_mutex_unlock(&d->lock);
		if (eof) {
			pthread_join(d->drain, NULL);
			d->drain = 0;
		}
	}
	return d->status;
}

/* SIGTERM, then SIGKILL after grace_ms. */
static int stop(struct daemon *d, int grace_ms)
{
	if (d->status >= 0)
		return d->status;
	kill(d->pid, SIGTERM);
	if (daemon_wait_exit(d, grace_ms) < 0) {
		kill(d->pid, SIGKILL);
		daemon_wait_exit(d, 5000);
	}
	return d->status;
}

int daemon_stop(struct daemon *d)
{
	return stop(d, 5000);
}

/* --- the peers ----------------------------------------------------------- */

struct peer *peer_startv(enum peer_kind k, const char *scenario, const char *url,
			 const char *const *params)
{
	cr_assert(npeers < MAX_CHILDREN, "too many peers");
	struct peer *p = calloc(1, sizeof(*p));
	cr_assert(p);
	const char *argv[64];
	int n = 0;
	if (k == PEER_NODE) {
		argv[n++] = "node";
		argv[n++] = harness_src("tests/integration/peer_ws.mjs");
	} else {
		argv[n++] = "/usr/bin/python3";
		argv[n++] = harness_src("tests/integration/peer_py.py");
	}
	argv[n++] = scenario;
	argv[n++] = url;
	for (; *params; params++) {
		cr_assert(n < 63);
		argv[n++] = *params;
	}
	argv[n] = NULL;
	setenv("RWS_PEER_DIR", harness_build("integration"), 1);

	int o[2], e[2];
	cr_assert(pipe2(o, O_CLOEXEC) == 0 && pipe2(e, O_CLOEXEC) == 0);
	p->status = -1;
	p->pid = spawn((char *const *)argv, o[1], e[1]);
	close(o[1]);
	close(e[1]);
	p->out_fd = o[0];
	p->err_fd = e[0];
	peers[npeers++] = p;
	return p;
}

struct peer *peer_start(enum peer_kind k, const char *scenario, const char *url, ...)
{
	const char *params[48];
	int n = 0;
	va_list ap;
	va_start(ap, url);
	for (const char *a; (a = va_arg(ap, const char *));) {
		cr_assert(n < 47);
		params[n++] = a;
	}
	va_end(ap);
	params[n] = NULL;
	return peer_startv(k, scenario, url, params);
}

/* Reads what is there on the peer's pipes, waiting up to ms. 0 on progress,
 * -1 on timeout, 1 when both pipes are at EOF. */
static int peer_pump(struct peer *p, int ms)
{
	struct pollfd f[2] = { { p->out_fd, POLLIN, 0 }, { p->err_fd, POLLIN, 0 } };
	if (p->out_fd < 0 && p->err_fd < 0)
		return 1;
	int r = poll(f, 2, ms);
	if (r == 0)
		return -1;
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < 2; i++) {
		if (f[i].fd < 0 || !f[i].revents)
			continue;
		char *buf = i ? p->err : p->out;
		size_t *len = i ? &p->err_len : &p->out_len;
		size_t cap = i ? sizeof(p->err) : sizeof(p->out);
		char tmp[4096];
		ssize_t n = read(f[i].fd, tmp, sizeof(tmp));
		if (n <= 0) {
			close(f[i].fd);
			*(i ? &p->err_fd : &p->out_fd) = -1;
			continue;
		}
		size_t take = (size_t)n < cap - 1 - *len ? (size_t)n : cap - 1 - *len;
		memcpy(buf + *len, tmp, take);
		*len += take;
		buf[*len] = 0;
	}
	return 0;
}

/* Moves the next complete stdout line into p->line: 0, or -1 if none. */
static int take_line(struct peer *p)
{
	char *s = p->out + p->out_read;
	char *nl = strchr(s, '\n');
	if (!nl)
		return -1;
	size_t n = (size_t)(nl - s);
	if (n >= sizeof(p->line))
		n = sizeof(p->line) - 1;
	memcpy(p->line, s, n);
	p->line[n] = 0;
	p->out_read = (size_t)(nl + 1 - p->out);
	return 0;
}

int peer_read_line(struct peer *p, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	for (;;) {
		if (take_line(p) == 0)
			return 0;
		long long left = end - now_ms();
		if (left <= 0 || peer_pump(p, (int)left) != 0)
			return take_line(p);
	}
}

int peer_finish(struct peer *p, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int killed = 0;
	for (;;) {
		long long left = end - now_ms();
		if (left <= 0) {
			kill(p->pid, SIGKILL);
			killed = 1;
			end = now_ms() + 2000;
			left = 2000;
		}
		if (peer_pump(p, (int)left) == 1)
			break;
	}
	int st;
	while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
		;
	p->pid = 0;
	while (take_line(p) == 0)
		;
	if (!p->line[0] && p->out_read < p->out_len)
		snprintf(p->line, sizeof(p->line), "%s", p->out + p->out_read);
	p->status = !killed && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return p->status;
}

void peer_expect_ok(struct daemon *d, enum peer_kind k, const char *scenario, const char *path, ...)
{
	const char *params[48];
	int n = 0;
	va_list ap;
	va_start(ap, path);
	for (const char *a; (a = va_arg(ap, const char *));) {
		cr_assert(n < 47);
		params[n++] = a;
	}
	va_end(ap);
	params[n] = NULL;
	struct peer *p = peer_startv(k, scenario, daemon_url(d, path), params);
	int rc = peer_finish(p, 40000);
	cr_assert_eq(rc, 0, "%s peer, scenario %s on %s: exit %d\n  result: %s\n  stderr: %s\n"
		     "  ringwsd stderr:\n%s", k == PEER_NODE ? "node ws" : "python websockets",
		     scenario, path, rc, p->line, p->err, daemon_log(d));
}

void harness_teardown(void)
{
	for (int i = 0; i < npeers; i++)
		if (peers[i]->pid > 0) {
			kill(peers[i]->pid, SIGKILL);
			waitpid(peers[i]->pid, NULL, 0);
		}
	/* a clean exit on SIGTERM is what tests of it check; here a hung
	 * daemon only costs the suite time */
	for (int i = 0; i < ndaemons; i++)
		stop(daemons[i], 1000);
	npeers = ndaemons = 0;
}

/* --- raw TCP ----------------------------------------------------------- */

void tcp_set_timeout(int fd, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int tcp_connect(int port, int timeout_ms)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	tcp_set_timeout(fd, timeout_ms);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cr_assert(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0,
		  "connect to 127.0.0.1:%d: %s", port, strerror(errno));
	return fd;
}

int tcp_send(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int tcp_read(int fd, void *p, size_t n)
{
	char *c = p;
	while (n) {
		ssize_t r = recv(fd, c, n, 0);
		if (r == 0)
			return -EPIPE;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

int tcp_expect_eof(int fd, int timeout_ms, int *got)
{
	tcp_set_timeout(fd, timeout_ms);
	unsigned char c;
	ssize_t r;
	while ((r = recv(fd, &c, 1, 0)) < 0 && errno == EINTR)
		;
	if (r == 0 || (r < 0 && errno == ECONNRESET))
		return 0;
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (got)
		*got = c;
	return -EBADMSG;
}

int http_read_head(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	/* byte by byte: whatever follows the head (frames, body) stays unread */
	while (n + 1 < cap) {
		int rc = tcp_read(fd, buf + n, 1);
		if (rc < 0) {
			buf[n] = 0;
			return rc;
		}
		n++;
		buf[n] = 0;
		if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	if (n + 1 >= cap || strncmp(buf, "HTTP/1.1 ", 9) != 0)
		return -EPROTO;
	return atoi(buf + 9);
}

int http_read_body(int fd, char *buf, size_t n)
{
	int rc = tcp_read(fd, buf, n);
	buf[rc == 0 ? n : 0] = 0;
	return rc;
}

int http_header(const char *head, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
		const char *h = l + 2;
		if (strncasecmp(h, name, nl) != 0 || h[nl] != ':')
			continue;
		h += nl + 1;
		while (*h == ' ' || *h == '\t')
			h++;
		const char *end = strstr(h, "\r\n");
		size_t vl = (size_t)(end - h);
		while (vl && (h[vl - 1] == ' ' || h[vl - 1] == '\t'))
			vl--;
		if (vl >= cap)
			vl = cap - 1;
		memcpy(out, h, vl);
		out[vl] = 0;
		return 0;
	}
	return -1;
}

const char *harness_pki(const char *name, const char *ext)
{
	static const char *dir;
	if (!dir) {
		const char *d = harness_build("integration/tls-certs");
		char cmd[2048], out[4096];
		snprintf(cmd, sizeof(cmd), "sh '%s' '%s' 2>&1",
			 harness_src("tests/tls/make-certs.sh"), d);
		FILE *f = popen(cmd, "r");
		cr_assert(f, "popen: %s", cmd);
		size_t n = fread(out, 1, sizeof(out) - 1, f);
		out[n] = 0;
		int st = pclose(f);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed:\n%s", cmd, out);
		dir = d;
	}
	return fmt("%s/%s.%s", dir, name, ext);
}

int harness_in_path(const char *prog)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	char dir[4096];
	while (*path) {
		size_t n = strcspn(path, ":");
		snprintf(dir, sizeof(dir), "%.*s/%s", (int)n, path, prog);
		if (access(dir, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

void daemon_expect_exit2(const char *const *args, ...)
{
	struct daemon *d = daemon_spawn(args);
	int st = daemon_wait_exit(d, 10000);
	const char *log = daemon_log(d);
	char cmd[2048] = "";
	for (const char *const *a = args; *a; a++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " %s", *a);
	cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2, "ringwsd%s: wait status %d, "
		  "wanted exit 2:\n%s", cmd, st, log);
	cr_assert(!strstr(log, "listening on"), "ringwsd%s listened:\n%s", cmd, log);
	cr_assert(!strncmp(log, "ringwsd: error: ", 16), "ringwsd%s: not an error line:\n%s", cmd,
		  log);
	va_list ap;
	va_start(ap, args);
	for (const char *s; (s = va_arg(ap, const char *));)
		cr_assert(strstr(log, s), "ringwsd%s: the message does not say \"%s\":\n%s", cmd, s,
			  log);
	va_end(ap);
}

const char *ringwsd_help(void)
{
	char cmd[512];
	const char *bin = getenv("RINGWSD");
	snprintf(cmd, sizeof(cmd), "%s --help", bin && *bin ? bin : harness_build("ringwsd"));
	FILE *f = popen(cmd, "r");
	cr_assert(f, "popen: %s", cmd);
	static char help[16384];
	size_t n = fread(help, 1, sizeof(help) - 1, f);
	help[n] = 0;
	int st = pclose(f);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "ringwsd --help: status %d", st);
	return help;
}
