/*
 * tls_fuzz: a server-side TLS connection (runtime/tls.c) on arbitrary bytes
 * from a client. Four server contexts (the test PKI's server, alpha, beta
 * and rsa certificates) make the SNI peek choose among them. The first byte
 * decides how the rest is cut into chunks, the second the way it is fed:
 * rws_tls_feed() and rws_tls_feed_borrow() + rws_tls_feed_done() alternate,
 * each borrowed chunk in memory of its own that is freed right after
 * feed_done, so a read of it past that point is a use after free. After
 * every chunk rws_tls_read() runs until RWS_TLS_E_WANT or an error, and
 * the ciphertext is drained, from rws_tls_out() or through a sink.
 * Checked: reads return WANT, a named error or at most cap bytes once the
 * handshake is done; a first byte other than 0x16 is NOT_TLS; an error
 * has a reason and stays; a write before the handshake is refused; the
 * SNI name the layer found is the one wolfSSL finds in the whole first
 * record, however it came in.
 *
 * The certificates are made once, in LLVMFuzzerInitialize() (replay.c
 * calls it too), by tests/tls/make-certs.sh into tls-pki/ beside the
 * binary (or $TMPDIR when that is not writable; RWS_TLS_TEST_PKI, the unit
 * tests' hook, wins). wolfSSL's per-thread ECC cache is freed at exit with
 * rws_tls_thread_done(), as a reactor thread does.
 * Seeds (tests/fuzz/corpus/tls/): two header bytes, then ClientHellos from
 * this layer's client and from wolfSSL and OpenSSL clients, TLS 1.2 and
 * 1.3, with and without SNI, whole client flights, plain HTTP, a truncated
 * record.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "runtime/tls.h"

#define NCTX 4
#define HELLO_MAX (16384 + 5)	/* tls.c's bound on the first record */
#define MAX_READS 100000	/* per chunk: a read that never ends is a hang */

static struct rws_tls_ctx *ctxs[NCTX];	/* server, alpha, beta, rsa */
static struct rws_tls_ctx *rsa_first[NCTX];	/* the same, rsa the default */
static char *names[NCTX];
static const char *rsa_names[NCTX];

static void check(int ok)
{
	if (!ok)
		abort();
}

/* --- the certificates, made once ------------------------------------------------- */

/* tests/tls/make-certs.sh: from the working directory (make runs from the
 * top), else from a parent of the binary's directory */
static int find_script(char *out, size_t cap)
{
	static const char rel[] = "tests/tls/make-certs.sh";
	if (access(rel, R_OK) == 0 && realpath(rel, out))
		return 1;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = 0;
	for (char *slash; (slash = strrchr(exe, '/')) != NULL;) {
		*slash = 0;
		int k = snprintf(out, cap, "%s/%s", exe, rel);
		if (k > 0 && (size_t)k < cap && access(out, R_OK) == 0)
			return 1;
	}
	return 0;
}

static void fail(const char *why)
{
	fprintf(stderr, "tls_fuzz: %s\n", why);
	exit(1);
}

/* out = a/b, or an exit when it does not fit */
static void join(char *out, size_t cap, const char *a, const char *b)
{
	int k = snprintf(out, cap, "%s/%s", a, b);
	if (k < 0 || (size_t)k >= cap)
		fail("path too long");
}

/* Where the certificates go: $RWS_TLS_TEST_PKI, else tls-pki/ beside the
 * binary (in the build directory), else under $TMPDIR. */
static void pki_dir(char *out, size_t cap)
{
	const char *env = getenv("RWS_TLS_TEST_PKI");
	if (env && *env) {
		if (strlen(env) >= cap)
			fail("RWS_TLS_TEST_PKI: path too long");
		strcpy(out, env);
		return;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
	if (slash) {
		*slash = 0;
		if (access(exe, W_OK) == 0) {
			join(out, cap, exe, "tls-pki");
			return;
		}
	}
	const char *tmp = getenv("TMPDIR");
	char own[64];
	snprintf(own, sizeof(own), "ringws-fuzz-pki-%u", (unsigned)getuid());
	join(out, cap, tmp && *tmp ? tmp : "/tmp", own);
}


/* sh make-certs.sh dir; it says what went wrong on stderr */
static void make_certs(const char *dir)
{
	char script[PATH_MAX];
	if (!find_script(script, sizeof(script)))
		fail("tests/tls/make-certs.sh not found (run from the top of the tree)");
	pid_t pid = fork();
	if (pid < 0)
		fail("fork failed");
	if (pid == 0) {
		execlp("sh", "sh", script, dir, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			fail("waitpid failed");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr,
			"tls_fuzz: %s %s failed (it needs the openssl command: Debian "
			"package openssl)\n",
			script, dir);
		exit(1);
	}
}

static struct rws_tls_ctx *server_ctx(const char *dir, const char *name)
{
	char file[64], cert[PATH_MAX], key[PATH_MAX], err[256];
	snprintf(file, sizeof(file), "%s.pem", name);
	join(cert, sizeof(cert), dir, file);
	snprintf(file, sizeof(file), "%s.key", name);
	join(key, sizeof(key), dir, file);
	struct rws_tls_ctx *c = rws_tls_ctx_server(cert, key, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "tls_fuzz: %s\n", err);
		exit(1);
	}
	return c;
}

static void done(void)
{
	for (int i = 0; i < NCTX; i++) {
		rws_tls_ctx_free(ctxs[i]);
		free(names[i]);
	}
	rws_tls_thread_done();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	char dir[PATH_MAX];
	pki_dir(dir, sizeof(dir));
	make_certs(dir);
	static const char *const files[NCTX] = { "server", "alpha", "beta", "rsa" };
	for (int i = 0; i < NCTX; i++)
		ctxs[i] = server_ctx(dir, files[i]);
	char file[64], path[PATH_MAX];
	for (int i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s.pem", files[i]);
		join(path, sizeof(path), dir, file);
		/* "localhost 127.0.0.1", "alpha.test", "beta.test *.beta.test" */
		names[i] = rws_tls_cert_names(path);
		if (!names[i])
			fail("no names in the test certificates");
	}
	names[3] = strdup("rsa.test");
	check(names[3] != NULL);
	/* the same contexts with rsa as the default (no SNI, or no match) */
	rsa_first[0] = ctxs[3], rsa_names[0] = names[3];
	for (int i = 1; i < NCTX; i++)
		rsa_first[i] = ctxs[i - 1], rsa_names[i] = names[i - 1];
	atexit(done);
	return 0;
}

/* --- one connection ------------------------------------------------------------ */

struct run {
	struct rws_tls *t;
	uint8_t *plain;
	size_t cap;
	int partial;	/* drain the output in two steps */
	size_t sunk;	/* bytes the sink took */
	int failed;	/* the error read returned, 0 before */
};

static int sink(void *arg, const uint8_t *p, size_t n)
{
	struct run *r = arg;
	check(p != NULL && n > 0);
	volatile uint8_t x = p[0] ^ p[n - 1];	/* ASan checks both ends */
	(void)x;
	r->sunk += n;
	return 0;
}

static void drain(struct run *r)
{
	size_t n = rws_tls_out_len(r->t);
	if (!n)
		return;
	const uint8_t *p = rws_tls_out(r->t);
	volatile uint8_t x = p[0] ^ p[n - 1];
	(void)x;
	if (r->partial && n > 1) {
		rws_tls_out_consume(r->t, n / 2);
		check(rws_tls_out_len(r->t) == n - n / 2);
		p = rws_tls_out(r->t);
		x = p[0] ^ p[n - n / 2 - 1];
	}
	rws_tls_out_consume(r->t, rws_tls_out_len(r->t));
	check(rws_tls_out_len(r->t) == 0);
}

static int is_error(int rc)
{
	return rc == RWS_TLS_E_HANDSHAKE || rc == RWS_TLS_E_VERIFY || rc == RWS_TLS_E_PROTOCOL ||
	       rc == RWS_TLS_E_CLOSED || rc == RWS_TLS_E_NOMEM || rc == RWS_TLS_E_NOT_TLS;
}

/* rws_tls_read() until it wants more or fails */
static void read_all(struct run *r)
{
	for (int i = 0;; i++) {
		check(i < MAX_READS);
		int rc = rws_tls_read(r->t, r->plain, r->cap);
		drain(r);
		if (rc == RWS_TLS_E_WANT)
			return;
		if (rc > 0) {
			check(rws_tls_ready(r->t) && (size_t)rc <= r->cap);
			volatile uint8_t x = r->plain[0] ^ r->plain[rc - 1];
			(void)x;
			continue;
		}
		check(is_error(rc));
		check(rws_tls_error(r->t)[0] != 0);
		r->failed = rc;
		return;
	}
}

/* The SNI name in the input's first record when it is whole and within
 * HELLO_MAX (the layer peeks at it then, "" without a name), else NULL. */
static const char *expected_sni(const uint8_t *in, size_t len, char name[256])
{
	if (len < 5 || in[0] != 0x16 || in[1] != 3)
		return NULL;
	size_t rec = 5 + ((size_t)in[3] << 8 | in[4]);
	if (rec > HELLO_MAX || len < rec)
		return NULL;
	unsigned int n = 255;
	name[0] = 0;
	if (wolfSSL_SNI_GetFromBuffer(in, (unsigned)rec, WOLFSSL_SNI_HOST_NAME,
				      (unsigned char *)name, &n) == WOLFSSL_SUCCESS)
		name[n < 256 ? n : 255] = 0;
	else
		name[0] = 0;
	return name;
}

/*
 * data[0]: 0 feeds the rest at once; else chunks of 1 .. 1 << (data[0] & 15)
 *          bytes, their sizes drawn from a generator seeded by both bytes.
 * data[1]: bit 0  the first chunk is borrowed (then copy, borrow, ...)
 *          1-2    the read buffer: 1, 100, 4096 or 17000 bytes
 *          3      the ciphertext goes to a sink, not the output buffer
 *          4      the output is drained in two steps
 *          5      one context only (no names), not four
 *          6      the rsa certificate is the default
 *          7      after an error, the rest is fed too: reads must still fail
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[4] = { 1, 100, 4096, 17000 };
	check(ctxs[0] != NULL);	/* LLVMFuzzerInitialize() ran */
	if (size < 2)
		return 0;
	unsigned chunking = data[0], flags = data[1];
	const uint8_t *in = data + 2;
	size_t len = size - 2;
	uint32_t seed = 0x9e3779b9u ^ (uint32_t)(data[0] << 8 | data[1]);

	struct rws_tls_ctx *const *cs = flags & 64 ? rsa_first : ctxs;
	const char *const *ns = flags & 64 ? rsa_names : (const char *const *)names;
	struct run r = { 0 };
	r.t = flags & 32 ? rws_tls_new_server(cs, NULL, 1) : rws_tls_new_server(cs, ns, NCTX);
	check(r.t != NULL);
	r.cap = caps[(flags >> 1) & 3];
	r.plain = malloc(r.cap);
	check(r.plain != NULL);
	r.partial = (flags & 16) != 0;
	if (flags & 8)
		rws_tls_set_sink(r.t, sink, &r);

	int borrow = flags & 1;
	size_t pos = 0;
	while (pos < len) {
		size_t n = len - pos;
		if (chunking) {
			seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
			size_t max = (size_t)1 << (chunking & 15);
			size_t want = 1 + seed % max;
			n = want < n ? want : n;
		}
		if (borrow) {
			/* memory of its own, gone after feed_done */
			uint8_t *b = malloc(n);
			check(b != NULL);
			memcpy(b, in + pos, n);
			check(rws_tls_feed_borrow(r.t, b, n) == 0);
			read_all(&r);
			check(rws_tls_feed_done(r.t) == 0);
			memset(b, 0xa5, n);
			free(b);
		} else {
			check(rws_tls_feed(r.t, in + pos, n) == 0);
			read_all(&r);
		}
		check(rws_tls_fed(r.t));
		if (pos == 0 && in[0] != 0x16)
			check(r.failed == RWS_TLS_E_NOT_TLS);
		pos += n;
		borrow = !borrow;
		if (r.failed && !(flags & 128))
			break;
	}
	if (r.failed && r.failed != RWS_TLS_E_CLOSED) {
		/* an error stays */
		int rc = rws_tls_read(r.t, r.plain, r.cap);
		check(is_error(rc));
	}
	if (!rws_tls_ready(r.t))
		check(rws_tls_write(r.t, "x", 1) == RWS_TLS_E_PROTOCOL);
	char name[256];
	const char *sni = expected_sni(in, len, name);
	check(!sni || strcmp(rws_tls_sni(r.t), sni) == 0);
	/* the accessors on any state */
	check(strlen(rws_tls_sni(r.t)) < 256);
	(void)rws_tls_version(r.t);
	(void)rws_tls_cipher(r.t);
	(void)rws_tls_alpn(r.t);
	rws_tls_shutdown(r.t);
	drain(&r);
	check(!(flags & 8) || rws_tls_out_len(r.t) == 0);
	rws_tls_free(r.t);
	free(r.plain);
	return 0;
}
