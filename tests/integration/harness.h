/*
 * harness: what the integration tests share. It runs build/ringwsd (or
 * another server program, such as build/embed) on an ephemeral port
 * (fork+exec, stderr read through a pipe), runs the peer
 * drivers (Node ws: peer_ws.mjs, Python websockets: peer_py.py) with a time
 * limit and keeps what they print, and offers blocking TCP helpers with
 * timeouts for the tests that speak raw bytes (conformance_test.c and
 * daemon_test.c).
 *
 * Every child is started with PR_SET_PDEATHSIG, so a test process killed
 * by Criterion's timeout takes its daemon and peers with it. Paths come from
 * RWS_TOP and RWS_BUILD (set by the Makefile); $RINGWSD overrides the
 * daemon's path, to try the suite against a stand-in.
 */
#ifndef RWS_HARNESS_H
#define RWS_HARNESS_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#define LOG_CAP (256 * 1024)

/* A running ringwsd. log holds its stderr (the first LOG_CAP bytes),
 * filled by a thread that keeps draining the pipe so a chatty daemon never
 * blocks on it. */
struct daemon {
	pid_t pid;
	int port;		/* from the "listening on" line; 0 until then */
	const char *ready;	/* that line up to the port */
	int err_fd;
	int eof;		/* stderr closed */
	int status;		/* wait status once reaped, -1 before */
	pthread_t drain;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t log_len;
	char log[LOG_CAP + 1];
};

/* Path of a file in the build tree ("plugins/echo.so"), or in the source
 * tree for harness_src(). The strings live until the process ends. */
const char *harness_build(const char *rel);
const char *harness_src(const char *rel);

/* "DIR/NAME.EXT" of the test PKI (tests/tls/make-certs.sh: ca, server,
 * alpha, beta, rsa, expired, wrong, other-ca), made on first use into
 * build/integration/tls-certs with the openssl tool (Debian's openssl; a
 * missing one fails the test with that name). make-certs.sh keeps a
 * complete set it finds, so test processes starting together share one.
 * The string lives until the process ends. */
const char *harness_pki(const char *name, const char *ext);

/* Whether prog is an executable in $PATH. */
int harness_in_path(const char *prog);

/* ringwsd ARGS exits 2 without listening, its first line an error line,
 * its message saying each of says (NULL-terminated). */
void daemon_expect_exit2(const char *const *args, ...);

/* What `ringwsd --help` prints (asserting it exits 0); static storage. */
const char *ringwsd_help(void);
/* "ROUTE=BUILD/plugins/NAME.so", for --route. */
const char *route(const char *path, const char *plugin);

/* Starts ringwsd --listen 127.0.0.1:0 ARGS... (NULL-terminated) and waits up
 * to 10 s for its listening line; fails the test with its stderr otherwise.
 * The daemon is stopped by harness_teardown if the test does not stop it. */
struct daemon *daemon_start(const char *arg, ...) __attribute__((sentinel));
/* The same without waiting: for a daemon expected to refuse to start. */
struct daemon *daemon_spawn(const char *const *args);
/* Starts another program the same way (argv[0] a path, NULL-terminated) and
 * waits up to 10 s for a stderr line that begins with ready and goes on
 * with a port number, "embed: listening on 127.0.0.1:" for example; fails
 * the test otherwise. The daemon_* calls below work on it too. */
struct daemon *program_start(const char *const *argv, const char *ready);
/* Waits for the listening line: 0 when seen, -1 on EOF or timeout. */
int daemon_wait_ready(struct daemon *d, int timeout_ms);
/* Waits for the daemon to exit: its wait status, or -1 on timeout. */
int daemon_wait_exit(struct daemon *d, int timeout_ms);
/* SIGTERM, then SIGKILL after 5 s; returns the wait status. */
int daemon_stop(struct daemon *d);
/* A copy of the stderr seen so far, NUL-terminated. */
const char *daemon_log(struct daemon *d);
/* "ws://127.0.0.1:PORT" followed by path. */
const char *daemon_url(const struct daemon *d, const char *path);

/* A peer driver: node peer_ws.mjs or python3 peer_py.py. */
enum peer_kind { PEER_NODE, PEER_PY };

struct peer {
	pid_t pid;
	int out_fd, err_fd;
	int status;		/* exit code, or -1 if killed or timed out */
	size_t out_len, err_len, out_read;
	char out[64 * 1024], err[64 * 1024];
	char line[16 * 1024];	/* the last JSON line */
};

/* Starts SCENARIO against URL with key=value parameters (NULL-terminated). */
struct peer *peer_start(enum peer_kind k, const char *scenario, const char *url, ...)
	__attribute__((sentinel));
struct peer *peer_startv(enum peer_kind k, const char *scenario, const char *url,
			 const char *const *params);
/* Waits for the next line on the peer's stdout (into p->line): 0, or -1 on
 * EOF or timeout. */
int peer_read_line(struct peer *p, int timeout_ms);
/* Waits for the peer to exit (killing it after timeout_ms); keeps its last
 * stdout line in p->line. Returns its exit code, -1 if killed. */
int peer_finish(struct peer *p, int timeout_ms);
/* Runs a scenario to its end and asserts exit 0, showing the peer's JSON
 * line, its stderr and the daemon's log on failure. */
void peer_expect_ok(struct daemon *d, enum peer_kind k, const char *scenario, const char *path,
		    ...) __attribute__((sentinel));

/* When set, children start with a seccomp filter that fails io_uring_setup
 * with EPERM (as a container's default profile does). */
extern int harness_deny_io_uring;

/* Stops every daemon and peer this process started; a Criterion .fini. */
void harness_teardown(void);

/* Raw TCP, blocking, with SO_RCVTIMEO/SO_SNDTIMEO of timeout_ms. */
int tcp_connect(int port, int timeout_ms);
void tcp_set_timeout(int fd, int timeout_ms);
/* Sends everything (MSG_NOSIGNAL): 0, or -errno. */
int tcp_send(int fd, const void *p, size_t n);
/* Reads exactly n bytes: 0, -ECONNRESET, -EAGAIN on timeout, or -EPIPE on
 * EOF before n bytes. */
int tcp_read(int fd, void *p, size_t n);
/* Waits for the peer to close: 0 on EOF or reset, -EAGAIN on timeout, or
 * -EBADMSG if data arrived instead (its first byte in *got if got). */
int tcp_expect_eof(int fd, int timeout_ms, int *got);
/* Reads an HTTP response head (up to the blank line) into buf, NUL-
 * terminated; returns the status code, or a negative errno. */
int http_read_head(int fd, char *buf, size_t cap);
/* Reads n more bytes of body into buf (NUL-terminated): 0 or -errno. */
int http_read_body(int fd, char *buf, size_t n);
/* The value of header name in a response head, copied to out: 0, or -1. */
int http_header(const char *head, const char *name, char *out, size_t cap);

/* Monotonic milliseconds. */
long long now_ms(void);

#endif
