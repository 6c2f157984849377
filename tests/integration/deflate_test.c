/*
 * deflate_test: permessage-deflate (RFC 7692) in ringwsd, the --deflate
 * options, with the echo plugin. Real peers first: Node ws through
 * peer_deflate.mjs, with its defaults and with each of its options, and
 * Python websockets through peer_deflate.py; both echo messages below and
 * above the compression threshold and, when the server lets them keep
 * their context, a run of similar messages that only context makes small.
 * Then a raw client (wsraw.h) for what no real peer shows or sends: the
 * 101's parameters for each kind of offer, which answers come compressed
 * (RSV1), RSV bits where they are not allowed (1002), deflate data that is
 * corrupt (1007), inflates to invalid UTF-8 (1007) or past --max-payload
 * (1009, a 1 GiB bomb among them, with the daemon's memory watched), and
 * compressed messages in fragments.
 *
 * The raw client deflates and inflates with Python's zlib (through
 * /usr/bin/python3, as no test here links a deflate library): what it sends
 * is compressed by a peer that is not the server's own code, and what the
 * server sends must inflate there, each message on its own.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "wsraw.h"

TestSuite(deflate, .fini = harness_teardown, .timeout = 60);

#define PEER_MS 40000	/* the longest a peer driver may run */

/* --- child processes: peers and zlib --------------------------------------- */

/* What a finished child left: its exit code (-1 if killed or timed out)
 * and everything it printed, NUL-terminated. */
struct run {
	int status;
	char *out, *err;
	size_t out_len;
};

static int memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	cr_assert(fd >= 0, "memfd_create: %s", strerror(errno));
	return fd;
}

static char *slurp(int fd, size_t *len)
{
	struct stat st;
	cr_assert(fstat(fd, &st) == 0);
	char *s = malloc((size_t)st.st_size + 1);
	cr_assert(s);
	size_t n = 0;
	while (n < (size_t)st.st_size) {
		ssize_t r = pread(fd, s + n, (size_t)st.st_size - n, (off_t)n);
		cr_assert(r > 0, "reading a child's output: %s", strerror(errno));
		n += (size_t)r;
	}
	s[n] = 0;
	if (len)
		*len = n;
	close(fd);
	return s;
}

/* Runs argv with in[0..in_len) as its stdin, to its end or for timeout_ms
 * at most. Output goes to memory files, so no pipe can fill up and stall
 * it; the child dies with the test process. */
static void run_child(const char *const *argv, const void *in, size_t in_len, int timeout_ms,
		      struct run *r)
{
	int i = memfd("stdin"), o = memfd("stdout"), e = memfd("stderr");
	cr_assert(!in_len || pwrite(i, in, in_len, 0) == (ssize_t)in_len, "write: %s",
		  strerror(errno));
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		lseek(i, 0, SEEK_SET);
		dup2(i, 0);
		dup2(o, 1);
		dup2(e, 2);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "deflate_test: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(i);
	long long end = now_ms() + timeout_ms;
	int st = 0, killed = 0;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() >= end && !killed) {
			kill(pid, SIGKILL);
			killed = 1;
		}
		usleep(2000);
	}
	r->status = !killed && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	r->out = slurp(o, &r->out_len);
	r->err = slurp(e, NULL);
}

/* Python's zlib, raw deflate (wbits -15) as RFC 7692 uses it, from stdin to
 * stdout. deflate LEVEL: one message, sync-flushed, its 00 00 ff ff tail
 * removed (7.2.1). final: ended by a final block and a 0x00 byte instead
 * (7.2.3.4). inflate: a message with the tail put back. zeros N: N MiB of
 * zero bytes as one message, made of 1 MiB compressed once and repeated
 * (each copy is sync-flushed, so copies decode alone and in sequence). */
static const char zlib_py[] =
	"import sys, zlib\n"
	"mode, data = sys.argv[1], sys.stdin.buffer.read()\n"
	"if mode == 'deflate':\n"
	"    c = zlib.compressobj(int(sys.argv[2]), zlib.DEFLATED, -15)\n"
	"    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)\n"
	"    assert out.endswith(b'\\0\\0\\xff\\xff')\n"
	"    out = out[:-4]\n"
	"elif mode == 'final':\n"
	"    c = zlib.compressobj(6, zlib.DEFLATED, -15)\n"
	"    out = c.compress(data) + c.flush(zlib.Z_FINISH) + b'\\0'\n"
	"elif mode == 'inflate':\n"
	"    out = zlib.decompressobj(-15).decompress(data + b'\\0\\0\\xff\\xff')\n"
	"elif mode == 'zeros':\n"
	"    c = zlib.compressobj(9, zlib.DEFLATED, -15)\n"
	"    chunk = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_SYNC_FLUSH)\n"
	"    out = (chunk * int(sys.argv[2]))[:-4]\n"
	"sys.stdout.buffer.write(out)\n";

/* Runs zlib_py in mode (with arg, or none if NULL) on in[0..n); returns
 * its output (malloc'd), its length in *out_n. */
static uint8_t *zlib_run(const char *mode, const char *arg, const void *in, size_t n,
			 size_t *out_n)
{
	const char *argv[] = { "/usr/bin/python3", "-c", zlib_py, mode, arg, NULL };
	struct run r;
	run_child(argv, in, n, 20000, &r);
	cr_assert(r.status != 127, "/usr/bin/python3 is missing: install the Debian package "
		  "python3 (its zlib module makes this test's deflate data)\n%s", r.err);
	cr_assert_eq(r.status, 0, "python3 zlib %s failed (exit %d):\n%s", mode, r.status, r.err);
	free(r.err);
	*out_n = r.out_len;
	return (uint8_t *)r.out;
}

static uint8_t *deflate_msg(const void *p, size_t n, size_t *out_n)
{
	return zlib_run("deflate", "6", p, n, out_n);
}

/* Runs a scenario of peer_deflate.mjs (node) or peer_deflate.py against d's
 * "/" with key=value parameters (NULL-terminated) and asserts it passed;
 * a missing peer fails with the package to install. */
static void peer_ok(struct daemon *d, enum peer_kind k, const char *scenario, ...)
{
	const char *argv[32];
	int n = 0;
	argv[n++] = k == PEER_NODE ? "node" : "/usr/bin/python3";
	argv[n++] = harness_src(k == PEER_NODE ? "tests/integration/peer_deflate.mjs"
					       : "tests/integration/peer_deflate.py");
	argv[n++] = scenario;
	argv[n++] = daemon_url(d, "/");
	va_list ap;
	va_start(ap, scenario);
	for (const char *a; (a = va_arg(ap, const char *));) {
		cr_assert(n < 31);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	setenv("RWS_PEER_DIR", harness_build("integration"), 1);

	struct run r;
	run_child(argv, NULL, 0, PEER_MS, &r);
	if (k == PEER_NODE)
		cr_assert(r.status != 127 && !strstr(r.err, "Cannot find module"),
			  "Node ws is missing: install the Debian package nodejs, then run "
			  "tests/integration/setup.sh (make integration does) to put ws@8.23.0 "
			  "into build/integration/node_modules\n%s", r.err);
	else
		cr_assert(r.status != 127 && !strstr(r.err, "No module named 'websockets'"),
			  "Python websockets is missing: install the Debian package "
			  "python3-websockets for /usr/bin/python3\n%s", r.err);
	const char *line = r.out_len ? r.out : "(nothing)";
	cr_assert_eq(r.status, 0, "%s peer, scenario %s: exit %d\n  result: %s  stderr: %s\n"
		     "  ringwsd stderr:\n%s", k == PEER_NODE ? "node ws" : "python websockets",
		     scenario, r.status, line, r.err, daemon_log(d));
	free(r.out);
	free(r.err);
}

/* --- the raw client's handshake ---------------------------------------------- */

/* Sends an upgrade request for "/" offering offer (no extension header if
 * NULL) and reads the answer's head into head; returns the socket. */
static int upgrade(int port, const char *offer, char *head, size_t cap, int *status)
{
	int fd = tcp_connect(port, READ_MS);
	char req[2048];
	snprintf(req, sizeof(req),
		 "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		 "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n", port,
		 offer ? "Sec-WebSocket-Extensions: " : "", offer ? offer : "", offer ? "\r\n" : "");
	cr_assert_eq(tcp_send(fd, req, strlen(req)), 0);
	*status = http_read_head(fd, head, cap);
	return fd;
}

/* Opens a WebSocket offering offer; checks the 101 and copies its
 * Sec-WebSocket-Extensions value to ext ("" if it has none). */
static int open_offer(int port, const char *offer, char *ext, size_t cap)
{
	char head[4096], v[256];
	int st;
	int fd = upgrade(port, offer, head, sizeof(head), &st);
	cr_assert_eq(st, 101, "offer \"%s\": wanted 101, got %d:\n%s", offer, st, head);
	cr_assert(http_header(head, "Sec-WebSocket-Accept", v, sizeof(v)) == 0 && !strcmp(v, ACCEPT),
		  "offer \"%s\": wrong Sec-WebSocket-Accept:\n%s", offer, head);
	if (http_header(head, "Sec-WebSocket-Extensions", ext, cap) < 0)
		ext[0] = 0;
	return fd;
}

/* Splits an answer "permessage-deflate; a; b=1" into its parameters (at
 * most max, trimmed); returns their number, or -1 if the answer is not
 * exactly one permessage-deflate. */
static int ext_params(const char *ext, char params[][64], int max)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", ext);
	if (strchr(buf, ','))
		return -1;
	int n = -1;
	for (char *save, *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
		while (*t == ' ' || *t == '\t')
			t++;
		size_t l = strlen(t);
		while (l && (t[l - 1] == ' ' || t[l - 1] == '\t'))
			t[--l] = 0;
		if (n < 0) {
			if (strcmp(t, "permessage-deflate") != 0)
				return -1;
			n = 0;
		} else if (n < max) {
			snprintf(params[n++], 64, "%s", t);
		} else {
			return -1;
		}
	}
	return n;
}

static int has_param(char params[][64], int n, const char *name)
{
	int found = 0;
	for (int i = 0; i < n; i++)
		found += !strcmp(params[i], name);
	return found;
}

/* Asserts that ext answers permessage-deflate with exactly the parameters
 * want (NULL-terminated), each once, in any order. */
static void expect_ext(const char *ext, const char *offer, ...)
{
	char params[8][64];
	int n = ext_params(ext, params, 8);
	cr_assert(n >= 0, "offer \"%s\": the 101 answered \"%s\", wanted permessage-deflate",
		  offer, ext);
	va_list ap;
	va_start(ap, offer);
	int want = 0;
	for (const char *w; (w = va_arg(ap, const char *)); want++)
		cr_assert_eq(has_param(params, n, w), 1, "offer \"%s\": the 101 answered \"%s\", "
			     "wanted %s in it once", offer, ext, w);
	va_end(ap);
	cr_assert_eq(n, want, "offer \"%s\": the 101 answered \"%s\": %d parameters, wanted %d",
		     offer, ext, n, want);
}

/* An offer the server must decline: 101 with no extension; the connection
 * then echoes plainly. */
static void expect_declined(int port, const char *offer)
{
	char ext[256];
	int fd = open_offer(port, offer, ext, sizeof(ext));
	cr_assert(!ext[0], "offer \"%s\" should be declined, the 101 answered \"%s\"", offer, ext);
	echo_one(fd, OP_TEXT, "plain", 5);
	close_with(fd, 1000);
}

/* --- the raw client's messages --------------------------------------------- */

/* A message from the server, its fragments joined. */
struct msg {
	int op;
	int compressed;	/* RSV1 on its first frame */
	size_t wire;	/* payload bytes as sent */
	size_t len;	/* after inflating */
	uint8_t *data;
};

/* Reads one frame header, allowing RSV1 where RFC 7692 does (on the first
 * frame of a data message): 0, or the tcp_read error. */
static int read_head(int fd, int *b0, uint64_t *len)
{
	uint8_t h[8];
	int rc = tcp_read(fd, h, 2);
	if (rc)
		return rc;
	*b0 = h[0];
	cr_assert(!(h[1] & 0x80), "server frame (byte 0x%02x) is masked", h[0]);
	*len = h[1] & 127;
	if (*len == 126) {
		if ((rc = tcp_read(fd, h, 2)))
			return rc;
		*len = (uint64_t)h[0] << 8 | h[1];
		cr_assert(*len >= 126, "server frame: 16-bit length %llu is not minimal",
			  (unsigned long long)*len);
	} else if (*len == 127) {
		if ((rc = tcp_read(fd, h, 8)))
			return rc;
		*len = 0;
		for (int i = 0; i < 8; i++)
			*len = *len << 8 | h[i];
		cr_assert(*len > 0xffff, "server frame: 64-bit length is not minimal");
	}
	return 0;
}

/* Reads a whole data message, inflating it if RSV1 says so. */
static void read_msg(int fd, struct msg *m)
{
	*m = (struct msg){ 0 };
	for (int first = 1;; first = 0) {
		int b0;
		uint64_t len;
		int rc = read_head(fd, &b0, &len);
		cr_assert_eq(rc, 0, "expected a message, got %s",
			     rc == -EAGAIN ? "nothing (timed out)" : rc == -EPIPE ? "TCP closed"
										: strerror(-rc));
		int op = b0 & 15, rsv = b0 & 0x70;
		uint8_t *p = malloc(len + 1);
		cr_assert(p);
		cr_assert(!len || tcp_read(fd, p, len) == 0, "server frame cut short");
		if (op == OP_CLOSE)
			cr_assert_fail("expected a message, got close %d \"%.*s\"",
				       len >= 2 ? p[0] << 8 | p[1] : 0, len > 2 ? (int)len - 2 : 0,
				       (char *)p + 2);
		cr_assert(first ? op == OP_TEXT || op == OP_BINARY : op == OP_CONT,
			  "server frame has opcode %d %s", op, first ? "to begin a message"
								    : "inside a message");
		cr_assert(rsv == 0 || (first && rsv == RSV1), "server frame (opcode %d) has RSV "
			  "bits 0x%02x", op, rsv);
		if (first) {
			m->op = op;
			m->compressed = rsv == RSV1;
		}
		m->data = realloc(m->data, m->wire + len + 1);
		cr_assert(m->data);
		memcpy(m->data + m->wire, p, len);
		m->wire += len;
		free(p);
		if (b0 & FIN)
			break;
	}
	m->len = m->wire;
	if (m->compressed) {
		uint8_t *z = m->data;
		m->data = zlib_run("inflate", NULL, z, m->wire, &m->len);
		free(z);
	}
}

enum { ANY = -1, PLAIN = 0, COMPRESSED = 1 };

/* Expects the echo of p[0..n) as a message of type op, compressed as how
 * says (or either way for ANY). */
static void expect_echo(int fd, int op, const void *p, size_t n, int how)
{
	struct msg m;
	read_msg(fd, &m);
	cr_assert_eq(m.op, op, "echo of %zu bytes came back with opcode %d", n, m.op);
	cr_assert(how == ANY || m.compressed == how, "echo of %zu bytes came back %s", n,
		  m.compressed ? "compressed (RSV1)" : "uncompressed");
	cr_assert_eq(m.len, n, "echo has %zu bytes (%zu on the wire), sent %zu", m.len, m.wire, n);
	if (n && memcmp(m.data, p, n) != 0) {
		size_t i = 0;
		while (m.data[i] == ((const uint8_t *)p)[i])
			i++;
		cr_assert_fail("echo of %zu bytes differs at byte %zu", n, i);
	}
	if (m.compressed && op == OP_TEXT && n >= 4096)
		cr_assert_lt(m.wire, n / 2, "text of %zu bytes compressed to %zu", n, m.wire);
	free(m.data);
}

/* Sends p[0..n) compressed, as one frame, and expects it echoed. */
static void echo_compressed(int fd, int op, const void *p, size_t n, int how)
{
	size_t zn;
	uint8_t *z = deflate_msg(p, n, &zn);
	send_frame(fd, FIN | RSV1 | op, z, zn);
	free(z);
	expect_echo(fd, op, p, n, how);
}

static int open_deflate(struct daemon *d)
{
	char ext[256];
	int fd = open_offer(d->port, "permessage-deflate", ext, sizeof(ext));
	expect_ext(ext, "permessage-deflate", "server_no_context_takeover",
		   "client_no_context_takeover", NULL);
	return fd;
}

static struct daemon *deflate_daemon(const char *max_payload)
{
	return daemon_start("--route", route("/", "echo"), "--deflate", "--max-payload",
			    max_payload, NULL);
}

/* --- real peers --------------------------------------------------------------- */

/* Node ws with its defaults: negotiated (the server asks for no context
 * either way), text and binary of 10 B to 16 MiB echo byte for byte */
Test(deflate, node_echo)
{
	struct daemon *d = deflate_daemon("64M");
	peer_ok(d, PEER_NODE, "echo", "sizes=10,1023,1024,65536,1048576,16777216",
		"params=server_no_context_takeover,client_no_context_takeover", NULL);
}

/* Node ws with each of its options: all are accepted. server_max_window_bits
 * =10 is answered as asked, and since libdeflate's window is 32 KiB the
 * server then sends uncompressed, which ws reads; without the extension
 * (deflate=off) echo works uncompressed too */
Test(deflate, node_options)
{
	struct daemon *d = deflate_daemon("16M");
	const char *sizes = "sizes=10,1024,65536";
	peer_ok(d, PEER_NODE, "echo", sizes, "server_no_context_takeover=1",
		"params=server_no_context_takeover,client_no_context_takeover", NULL);
	peer_ok(d, PEER_NODE, "echo", sizes, "client_no_context_takeover=1",
		"params=server_no_context_takeover,client_no_context_takeover", NULL);
	peer_ok(d, PEER_NODE, "echo", sizes, "server_max_window_bits=10",
		"params=server_no_context_takeover,client_no_context_takeover,server_max_window_bits=10",
		NULL);
	peer_ok(d, PEER_NODE, "echo", sizes, "client_max_window_bits=10", NULL);
	peer_ok(d, PEER_NODE, "echo", sizes, "deflate=off", "negotiated=no", NULL);
}

/* Node ws compressing with its context: against --deflate-client-context,
 * which must not ask for client_no_context_takeover (ws with
 * clientNoContextTakeover false refuses an answer that does), 40 similar
 * messages echo and go out small; with a 1 KiB window too. Against plain
 * --deflate ws must compress each message alone. */
Test(deflate, node_client_context)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--deflate",
					"--deflate-client-context", NULL);
	peer_ok(d, PEER_NODE, "similar", "client_no_context_takeover=0", "context=yes",
		"params=server_no_context_takeover", NULL);
	peer_ok(d, PEER_NODE, "similar", "context=yes", NULL);
	peer_ok(d, PEER_NODE, "similar", "client_max_window_bits=10", "size=3000", NULL);
	peer_ok(d, PEER_NODE, "echo", "sizes=10,1024,1048576", NULL);

	struct daemon *plain = deflate_daemon("16M");
	peer_ok(plain, PEER_NODE, "similar", "context=no",
		"params=server_no_context_takeover,client_no_context_takeover", NULL);
}

/* Python websockets with its defaults (it offers client_max_window_bits):
 * negotiated; text and binary below and above the threshold, 1 MiB and
 * 16 MiB */
Test(deflate, py_echo)
{
	struct daemon *d = deflate_daemon("64M");
	peer_ok(d, PEER_PY, "echo", "sizes=10,1023,1024,65536,1048576,16777216", NULL);
}

/* ringwsd with every message through the worker pool (inline-max 0) or
 * with the default split (small ones inline). The peers below write all
 * their messages (about 10 MB) before reading any echo, which to the
 * server is a peer that does not read: the send queue bound is raised so
 * that it is not closed for that (1008). */
static struct daemon *pool_daemon(const char *inline_max)
{
	return daemon_start("--route", route("/", "echo"), "--deflate", "--max-payload", "64M",
			    "--max-buffered", "64M", "--deflate-inline-max", inline_max,
			    "--deflate-concurrency", "2", NULL);
}

/* Compressed messages sent in fragments (each fragment compressed, RSV1 on
 * the first) by both peers come back whole: 4 KiB to 1 MiB, and 16 MiB */
Test(deflate, fragmented_both_peers)
{
	struct daemon *d = pool_daemon("0");
	peer_ok(d, PEER_NODE, "fragmented", "sizes=4096,65536,1048576,16777216", "parts=3", NULL);
	peer_ok(d, PEER_PY, "fragmented", "sizes=4096,65536,1048576", "parts=4", NULL);
	struct daemon *inl = deflate_daemon("16M");
	peer_ok(inl, PEER_NODE, "fragmented", "sizes=4096,65536", "parts=2", NULL);
}

/* Order under pool pressure: 200 messages of 20 B to 256 KiB, some below
 * the threshold (sent at once), most compressed in the pool by two
 * workers that finish in any order, all sent before any echo is read:
 * every echo comes back in the order sent */
Test(deflate, order_under_pool_pressure)
{
	struct daemon *d = pool_daemon("0");
	peer_ok(d, PEER_NODE, "pipeline", "n=200", NULL);
	peer_ok(d, PEER_PY, "pipeline", "n=120", NULL);
	struct daemon *split = pool_daemon("16384");
	peer_ok(split, PEER_NODE, "pipeline", "n=200", NULL);
}

/* Python websockets keeps its context only when the server allows it */
Test(deflate, py_client_context)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--deflate",
					"--deflate-client-context", NULL);
	peer_ok(d, PEER_PY, "similar", "context=yes", NULL);
	peer_ok(deflate_daemon("16M"), PEER_PY, "similar", "context=no", NULL);
}

/* --- the raw client: what goes over the wire ---------------------------------- */

/* A bare offer is answered with both no-context parameters; answers under
 * 1024 bytes go out plain, from 1024 on compressed (each inflating alone),
 * whether the client sent its message plain or compressed */
Test(deflate, raw_threshold)
{
	struct daemon *d = deflate_daemon("16M");
	int fd = open_deflate(d);
	static const size_t sizes[] = { 10, 1023, 1024, 65536, 1 << 20 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		uint8_t *t = utf8_text(n);
		int how = n >= 1024 ? COMPRESSED : PLAIN;
		if (n > 65536)
			tcp_set_timeout(fd, 20000);
		send_frame(fd, FIN | OP_TEXT, t, n);
		expect_echo(fd, OP_TEXT, t, n, how);
		send_frame(fd, FIN | OP_BINARY, t, n);
		expect_echo(fd, OP_BINARY, t, n, how);
		echo_compressed(fd, OP_TEXT, t, n, how);
		free(t);
		uint8_t *b = random_bytes(n, 3);
		echo_compressed(fd, OP_BINARY, b, n, ANY);
		free(b);
	}
	echo_compressed(fd, OP_TEXT, "", 0, PLAIN);
	close_with(fd, 1000);
}

/* --deflate-threshold 100 --deflate-level 12: 99 bytes plain, 100 compressed */
Test(deflate, raw_threshold_option)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--deflate",
					"--deflate-threshold", "100", "--deflate-level", "12", NULL);
	int fd = open_deflate(d);
	static const size_t sizes[] = { 99, 100, 100000 };
	for (size_t i = 0; i < 3; i++) {
		uint8_t *t = utf8_text(sizes[i]);
		echo_compressed(fd, OP_TEXT, t, sizes[i], sizes[i] < 100 ? PLAIN : COMPRESSED);
		free(t);
	}
	close_with(fd, 1000);
}

/* server_no_context_takeover: the same message twice compresses to the same
 * bytes, and each inflates with a fresh inflater (read_msg's) */
Test(deflate, raw_server_no_context)
{
	struct daemon *d = deflate_daemon("16M");
	int fd = open_deflate(d);
	uint8_t *t = utf8_text(5000);
	struct msg a, b;
	send_frame(fd, FIN | OP_TEXT, t, 5000);
	read_msg(fd, &a);
	send_frame(fd, FIN | OP_TEXT, t, 5000);
	read_msg(fd, &b);
	cr_assert(a.compressed && b.compressed, "5000 bytes of text came back uncompressed");
	cr_assert(a.len == 5000 && !memcmp(a.data, t, 5000), "first echo differs");
	cr_assert(b.len == 5000 && !memcmp(b.data, t, 5000), "second echo differs");
	free(t);
	free(a.data);
	free(b.data);
	close_with(fd, 1000);
}

/* A compressed message that ends in a final block and a 0x00 byte (RFC 7692
 * 7.2.3.4), the way ringws itself sends them, echoes */
Test(deflate, raw_final_block)
{
	struct daemon *d = deflate_daemon("16M");
	int fd = open_deflate(d);
	uint8_t *t = utf8_text(3000);
	size_t zn;
	uint8_t *z = zlib_run("final", NULL, t, 3000, &zn);
	send_frame(fd, FIN | RSV1 | OP_TEXT, z, zn);
	expect_echo(fd, OP_TEXT, t, 3000, COMPRESSED);
	free(z);
	free(t);
	close_with(fd, 1000);
}

/* A compressed message in 3 fragments, RSV1 on the first only: a small one
 * (echoed plain), a large one (echoed compressed) and a large one of random
 * bytes (which the server may send either way: deflate does not shrink it) */
Test(deflate, raw_fragmented)
{
	struct daemon *d = deflate_daemon("16M");
	int fd = open_deflate(d);
	struct {
		int op;
		size_t n;
		uint8_t *p;
		int how;
	} c[] = { { OP_TEXT, 500, utf8_text(500), PLAIN },
		  { OP_BINARY, 200000, utf8_text(200000), COMPRESSED },
		  { OP_BINARY, 200000, random_bytes(200000, 9), ANY } };
	for (int i = 0; i < 3; i++) {
		size_t zn;
		uint8_t *z = deflate_msg(c[i].p, c[i].n, &zn);
		cr_assert(zn >= 3);
		size_t a = zn / 3, b = 2 * zn / 3;
		struct wire w = { 0 };
		put_frame(&w, (uint8_t)(RSV1 | c[i].op), z, a);
		put_frame(&w, OP_CONT, z + a, b - a);
		put_frame(&w, FIN | OP_CONT, z + b, zn - b);
		wire_send(fd, &w, 0);
		wire_free(&w);
		expect_echo(fd, c[i].op, c[i].p, c[i].n, c[i].how);
		free(z);
		free(c[i].p);
	}
	close_with(fd, 1000);
}

/* --- the raw client: protocol errors ---------------------------------------- */

/* Without --deflate an offer is ignored (ws_open_with checks the 101 has no
 * extension), and RSV1 is a protocol error */
Test(deflate, raw_off)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), NULL);
	int fd = ws_open_with(d->port, "/", "Sec-WebSocket-Extensions: permessage-deflate\r\n");
	echo_one(fd, OP_TEXT, "plain", 5);
	send_frame(fd, FIN | RSV1 | OP_TEXT, "hello", 5);
	expect_fail(fd, 1002);
}

/* With --deflate but nothing offered, RSV1 is still a protocol error */
Test(deflate, raw_not_offered)
{
	struct daemon *d = deflate_daemon("16M");
	int fd = ws_open_with(d->port, "/", "");
	uint8_t z[] = { 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00 };	/* "Hello" */
	send_frame(fd, FIN | RSV1 | OP_TEXT, z, sizeof(z));
	expect_fail(fd, 1002);
}

/* RSV1 on a continuation frame */
Test(deflate, raw_rsv1_continuation)
{
	struct daemon *d = deflate_daemon("16M");
	int fd = open_deflate(d);
	send_frame(fd, OP_TEXT, "hel", 3);
	send_frame(fd, FIN | RSV1 | OP_CONT, "lo", 2);
	expect_fail(fd, 1002);

	/* and on the continuation of a compressed message */
	fd = open_deflate(d);
	size_t zn;
	uint8_t *z = deflate_msg("hello, hello", 12, &zn);
	struct wire w = { 0 };
	put_frame(&w, RSV1 | OP_TEXT, z, 2);
	put_frame(&w, FIN | RSV1 | OP_CONT, z + 2, zn - 2);
	wire_send(fd, &w, 0);
	wire_free(&w);
	free(z);
	expect_fail(fd, 1002);
}

/* RSV1 on control frames */
Test(deflate, raw_rsv1_control)
{
	struct daemon *d = deflate_daemon("16M");
	int fd = open_deflate(d);
	send_frame(fd, FIN | RSV1 | OP_PING, "x", 1);
	expect_fail(fd, 1002);

	fd = open_deflate(d);
	send_frame(fd, FIN | RSV1 | OP_PONG, "x", 1);
	expect_fail(fd, 1002);
}

/* RSV2 and RSV3 stay reserved with the extension */
Test(deflate, raw_rsv2_rsv3)
{
	struct daemon *d = deflate_daemon("16M");
	int fd = open_deflate(d);
	send_frame(fd, FIN | RSV2 | OP_TEXT, "x", 1);
	expect_fail(fd, 1002);

	fd = open_deflate(d);
	send_frame(fd, FIN | RSV1 | RSV3 | OP_BINARY, "x", 1);
	expect_fail(fd, 1002);
}

/* Deflate data that is not deflate (block type 3): 1007 */
Test(deflate, raw_corrupt)
{
	struct daemon *d = deflate_daemon("16M");
	int fd = open_deflate(d);
	send_frame(fd, FIN | RSV1 | OP_BINARY, "\xff\xff\xff\xff", 4);
	expect_fail(fd, 1007);
}

/* Compressed text that inflates to invalid UTF-8 ("κόσμε", then U+D800
 * encoded as ED A0 80, then "edited"; made with Python's zlib, level 9,
 * sync-flushed, tail removed): 1007. The same bytes as binary echo. */
Test(deflate, raw_inflated_utf8)
{
	static const uint8_t z[] = { 0x3a, 0xb7, 0xeb, 0xe1, 0xde, 0x9d, 0xe7, 0x9b,
				     0xcf, 0xed, 0x39, 0xb7, 0xf5, 0xed, 0x82, 0x86,
				     0xd4, 0x94, 0xcc, 0x92, 0xd4, 0x14, 0x00, 0x00 };
	static const uint8_t plain[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
				       "\xed\xa0\x80" "edited";
	struct daemon *d = deflate_daemon("16M");
	int fd = open_deflate(d);
	send_frame(fd, FIN | RSV1 | OP_BINARY, z, sizeof(z));
	expect_echo(fd, OP_BINARY, plain, sizeof(plain) - 1, PLAIN);
	send_frame(fd, FIN | RSV1 | OP_TEXT, z, sizeof(z));
	expect_fail(fd, 1007);
}

/* Memory of a process in KiB: "VmRSS" now or "VmHWM", its peak. */
static long mem_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	cr_assert(f, "ringwsd is gone");
	long kib = -1;
	size_t fl = strlen(field);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, fl) && line[fl] == ':') {
			kib = atol(line + fl + 1);
			break;
		}
	fclose(f);
	cr_assert(kib >= 0, "no %s in %s", field, path);
	return kib;
}

/* --max-payload bounds the inflated size: exactly the limit echoes, one
 * byte more is 1009 */
Test(deflate, raw_inflated_limit)
{
	struct daemon *d = deflate_daemon("100000");
	int fd = open_deflate(d);
	uint8_t *zeros = calloc(1, 100001);
	cr_assert(zeros);
	echo_compressed(fd, OP_BINARY, zeros, 100000, COMPRESSED);
	size_t zn;
	uint8_t *z = deflate_msg(zeros, 100001, &zn);
	send_frame(fd, FIN | RSV1 | OP_BINARY, z, zn);
	expect_fail(fd, 1009);
	free(z);
	free(zeros);
}

/* A decompression bomb: 1 GiB of zeros in about 1 MB, under --max-payload
 * 16M on the wire but not inflated. 1009, without the daemon's memory
 * (its peak, VmHWM) growing 64 MiB past what it was; then it still serves. */
Test(deflate, raw_bomb)
{
	size_t zn;
	uint8_t *z = zlib_run("zeros", "1024", NULL, 0, &zn);
	cr_assert(zn < 4 << 20, "the bomb is %zu bytes", zn);
	struct daemon *d = deflate_daemon("16M");
	int fd = open_deflate(d);
	uint8_t *t = utf8_text(4096);
	echo_compressed(fd, OP_TEXT, t, 4096, COMPRESSED);
	long before = mem_kib(d->pid, "VmRSS");

	struct wire w = { 0 };
	put_frame(&w, FIN | RSV1 | OP_BINARY, z, zn);
	(void)wire_try_send(fd, &w, 0);	/* the server may close before reading it all */
	wire_free(&w);
	free(z);
	expect_fail(fd, 1009);
	long peak = mem_kib(d->pid, "VmHWM");
	cr_assert_lt(peak - before, 64 * 1024, "ringwsd grew from %ld KiB to a peak of %ld KiB "
		     "on a 1 GiB bomb", before, peak);

	fd = open_deflate(d);
	echo_compressed(fd, OP_TEXT, t, 4096, COMPRESSED);
	close_with(fd, 1000);
	free(t);
}

/* The same bomb, 64 MiB this time, in 3 fragments with RSV1 on the first:
 * the bound holds across frames */
Test(deflate, raw_bomb_fragmented)
{
	size_t zn;
	uint8_t *z = zlib_run("zeros", "64", NULL, 0, &zn);
	struct daemon *d = deflate_daemon("16M");
	int fd = open_deflate(d);
	struct wire w = { 0 };
	put_frame(&w, RSV1 | OP_BINARY, z, zn / 3);
	put_frame(&w, OP_CONT, z + zn / 3, zn / 3);
	put_frame(&w, FIN | OP_CONT, z + 2 * (zn / 3), zn - 2 * (zn / 3));
	(void)wire_try_send(fd, &w, 0);
	wire_free(&w);
	free(z);
	expect_fail(fd, 1009);
}

/* RSS growth per connection of n idle connections opened with offer
 * (NULL: none), measured after the handshakes' memory has been given back
 * (the reactors trim a second after a burst); then they are closed. */
static double idle_bytes_per_conn(struct daemon *d, const char *offer, int n, int deflated)
{
	int *fds = malloc((size_t)n * sizeof(*fds));
	char ext[256];
	uint8_t t[2000];
	memset(t, 'q', sizeof(t));
	/* warm up: the reactor's compressor (made on first use, one per
	 * reactor, not per connection) exists on each before the baseline */
	for (int r = 0; r < 16; r++) {
		int fd = open_offer(d->port, offer, ext, sizeof(ext));
		send_frame(fd, FIN | OP_TEXT, t, sizeof(t));
		expect_echo(fd, OP_TEXT, t, sizeof(t), deflated ? COMPRESSED : PLAIN);
		close_with(fd, 1000);
	}
	usleep(1500 * 1000);
	long before = mem_kib(d->pid, "VmRSS");
	for (int i = 0; i < n; i++) {
		fds[i] = open_offer(d->port, offer, ext, sizeof(ext));
		cr_assert_eq(ext[0] != 0, deflated, "connection %d: extension answer \"%s\"", i, ext);
	}
	/* one echo on the last: every upgrade before it has been handled */
	send_frame(fds[n - 1], FIN | OP_TEXT, t, sizeof(t));
	expect_echo(fds[n - 1], OP_TEXT, t, sizeof(t), deflated ? COMPRESSED : PLAIN);
	usleep(1500 * 1000);
	long after = mem_kib(d->pid, "VmRSS");
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return (double)(after - before) * 1024.0 / n;
}

/* 10,000 idle connections with permessage-deflate agreed hold no
 * compression state: the server's memory per connection is what it is
 * without the extension (both reported), and the object's 128 bytes plus
 * allocator noise */
Test(deflate, idle_memory_10000_connections, .timeout = 120)
{
	enum { N = 10000 };
	/* a server each: connection objects are reused, never given back */
	double with = idle_bytes_per_conn(deflate_daemon("16M"), "permessage-deflate", N, 1);
	double without = idle_bytes_per_conn(deflate_daemon("16M"), NULL, N, 0);
	cr_log_info("ringwsd memory per idle connection, %d connections: %.0f B with "
		    "permessage-deflate agreed, %.0f B without", N, with, without);
	fprintf(stderr, "deflate: idle memory per connection at %d: %.0f B with deflate, "
		"%.0f B without\n", N, with, without);
	cr_assert_leq(with, without + 16, "deflate costs %.0f B per idle connection, plain %.0f B",
		      with, without);
	cr_assert_leq(with, 256, "%.0f B per idle connection with deflate", with);
}

/* --- negotiation ------------------------------------------------------------- */

/* Offers the server must decline: a window out of range (16), an unknown
 * parameter, a duplicate one, a value on a flag */
Test(deflate, offers_declined)
{
	struct daemon *d = deflate_daemon("16M");
	expect_declined(d->port, "permessage-deflate; server_max_window_bits=16");
	expect_declined(d->port, "permessage-deflate; foo");
	expect_declined(d->port, "permessage-deflate; client_no_context_takeover; "
				 "client_no_context_takeover");
	expect_declined(d->port, "permessage-deflate; server_no_context_takeover=1");
	expect_declined(d->port, "permessage-deflate; client_max_window_bits=7");
	expect_declined(d->port, "x-webkit-deflate-frame");
}

/* Offers the server accepts, and what it answers */
Test(deflate, offers_accepted)
{
	struct daemon *d = deflate_daemon("16M");
	char ext[256], params[8][64];
	const char *offer;

	/* the first acceptable offer wins */
	offer = "permessage-deflate; server_max_window_bits=16, permessage-deflate";
	int fd = open_offer(d->port, offer, ext, sizeof(ext));
	expect_ext(ext, offer, "server_no_context_takeover", "client_no_context_takeover", NULL);
	echo_compressed(fd, OP_TEXT, "hello", 5, PLAIN);
	close_with(fd, 1000);

	/* a window smaller than libdeflate's: answered as asked, and then
	 * nothing the server sends is compressed, while what the client
	 * sends compressed is still inflated */
	static const int bits[] = { 8, 10, 14 };
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		char o[96], want[48];
		snprintf(o, sizeof(o), "permessage-deflate; server_max_window_bits=%d", bits[i]);
		snprintf(want, sizeof(want), "server_max_window_bits=%d", bits[i]);
		fd = open_offer(d->port, o, ext, sizeof(ext));
		expect_ext(ext, o, "server_no_context_takeover", "client_no_context_takeover", want,
			   NULL);
		size_t n = 8192;
		char *big = malloc(n);
		memset(big, 'q', n);
		echo_compressed(fd, OP_TEXT, big, n, PLAIN);
		send_frame(fd, FIN | OP_BINARY, big, n);
		expect_echo(fd, OP_BINARY, big, n, PLAIN);
		free(big);
		close_with(fd, 1000);
	}

	/* client_max_window_bits with no value: accepted; the answer may set
	 * the client's window, to 8..15 */
	offer = "permessage-deflate; client_max_window_bits";
	fd = open_offer(d->port, offer, ext, sizeof(ext));
	int n = ext_params(ext, params, 8);
	cr_assert(n >= 2 && has_param(params, n, "server_no_context_takeover") == 1 &&
		  has_param(params, n, "client_no_context_takeover") == 1,
		  "offer \"%s\": the 101 answered \"%s\"", offer, ext);
	for (int i = 0; i < n; i++) {
		int bits;
		char end;
		cr_assert(!strcmp(params[i], "server_no_context_takeover") ||
			  !strcmp(params[i], "client_no_context_takeover") ||
			  (sscanf(params[i], "client_max_window_bits=%d%c", &bits, &end) == 1 &&
			   bits >= 8 && bits <= 15),
			  "offer \"%s\": the 101 answered \"%s\"", offer, ext);
	}
	echo_compressed(fd, OP_BINARY, "hello", 5, PLAIN);
	close_with(fd, 1000);

	/* a 32 KiB window asked for is what libdeflate gives; accepting the
	 * parameter means answering it (RFC 7692 7.1.2.1) */
	offer = "permessage-deflate; server_max_window_bits=15";
	fd = open_offer(d->port, offer, ext, sizeof(ext));
	n = ext_params(ext, params, 8);
	expect_ext(ext, offer, "server_no_context_takeover", "client_no_context_takeover",
		   "server_max_window_bits=15", NULL);
	close_with(fd, 1000);

	/* parameters the server answers anyway are not repeated */
	offer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
	fd = open_offer(d->port, offer, ext, sizeof(ext));
	expect_ext(ext, offer, "server_no_context_takeover", "client_no_context_takeover", NULL);
	close_with(fd, 1000);
}

/* --deflate-client-context: a bare offer is answered without
 * client_no_context_takeover */
Test(deflate, offers_client_context)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--deflate",
					"--deflate-client-context", NULL);
	char ext[256];
	int fd = open_offer(d->port, "permessage-deflate", ext, sizeof(ext));
	expect_ext(ext, "permessage-deflate", "server_no_context_takeover", NULL);
	uint8_t *t = utf8_text(2000);
	echo_compressed(fd, OP_TEXT, t, 2000, COMPRESSED);
	free(t);
	close_with(fd, 1000);
}

/* A header value that does not parse: 400, no upgrade */
Test(deflate, offer_malformed)
{
	struct daemon *d = deflate_daemon("16M");
	char head[4096];
	int st;
	int fd = upgrade(d->port, "permessage-deflate; =", head, sizeof(head), &st);
	cr_assert_eq(st, 400, "offer \"permessage-deflate; =\": wanted 400, got %d:\n%s", st, head);
	close(fd);
}
