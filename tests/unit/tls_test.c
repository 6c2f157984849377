/*
 * tls_test: the TLS layer over in-memory buffers (engine/runtime/tls.c) with a client
 * and a server driven against each other in memory, no sockets: a pump
 * moves one side's rws_tls_out() into the other's rws_tls_feed() (whole, or
 * in chunks down to one byte) and calls rws_tls_read() on both until both
 * are quiet. Certificates come from tests/tls/make-certs.sh (openssl), made
 * once per run into a temporary directory.
 *
 * Checked: TLS 1.3, ALPN http/1.1, an AEAD suite and the SNI name seen by
 * the server; data both ways from 0 B to 1 MiB, records split across feeds
 * and small read buffers; close_notify both ways; SNI choosing among
 * server contexts (exact and one-label wildcard names, the first context
 * otherwise); each verification failure (expired, unknown CA, host name
 * and IP mismatch, the system's CAs) reported as RWS_TLS_E_VERIFY with its
 * cause, and an insecure client accepting them all; IP hosts sending no
 * SNI; refused certificates, keys and CA files; plain HTTP sent to a
 * server; corrupted, oversized and truncated records, and a byte flipped
 * anywhere in the handshake, ending in an error and never a crash.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <ctype.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "runtime/tls.h"
#include "testutil.h"

#define E_WANT RWS_TLS_E_WANT
#define MAX_ROUNDS 64

/* --- the test PKI ------------------------------------------------------------ */

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

static const char *pki;		/* the directory of certificates (each test) */

static void setup(void)
{
	char why[4096];
	pki = test_pki(why, sizeof(why));
	cr_assert(pki, "the test PKI: %s", why);
}

TestSuite(tls, .init = setup, .timeout = 60);

/* PKI file NAME.EXT (a few at a time) */
static const char *file(const char *name, const char *ext)
{
	static char bufs[8][PATH_MAX];
	static unsigned next;
	char *b = bufs[next++ % 8];
	snprintf(b, PATH_MAX, "%s/%s.%s", pki, name, ext);
	return b;
}

static struct rws_tls_ctx *server_ctx(const char *name)
{
	char err[256] = "";
	struct rws_tls_ctx *c = rws_tls_ctx_server(file(name, "pem"), file(name, "key"), err,
						   sizeof(err));
	cr_assert(c, "rws_tls_ctx_server(%s): %s", name, err);
	return c;
}

/* a client context trusting PKI certificate ca (NULL: insecure) */
static struct rws_tls_ctx *client_ctx(const char *ca)
{
	char err[256] = "";
	struct rws_tls_ctx *c = rws_tls_ctx_client(ca ? file(ca, "pem") : NULL, !ca, err,
						   sizeof(err));
	cr_assert(c, "rws_tls_ctx_client(%s): %s", ca ? ca : "insecure", err);
	return c;
}

/* a file of the given bytes beside the PKI, named for this test's process */
static const char *scratch(const char *name, const void *p, size_t n)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/scratch-%d-%s", pki, (int)getpid(), name);
	FILE *f = fopen(path, "wb");
	cr_assert(f, "%s", path);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* --- the pump --------------------------------------------------------------------- */

struct end {
	const char *name;
	struct rws_tls *t;
	int err;		/* the first error rws_tls_read() returned; 0 none */
	uint8_t *got;		/* the plaintext it yielded */
	size_t len, cap;
	size_t chunk;		/* the most bytes fed at once (0: all there is) */
	size_t rcap;		/* the read buffer (0: 64 KiB) */
	size_t reads;		/* rws_tls_read() calls that yielded bytes */
};

struct pair {
	struct end c, s;
};

static void append(struct end *e, const uint8_t *p, size_t n)
{
	if (e->len + n > e->cap) {
		size_t cap = e->cap ? e->cap : 4096;
		while (cap < e->len + n)
			cap *= 2;
		e->got = realloc(e->got, cap);
		cr_assert(e->got);
		e->cap = cap;
	}
	memcpy(e->got + e->len, p, n);
	e->len += n;
}

/* rws_tls_read() until it wants more input or fails */
static void drain(struct end *e)
{
	static uint8_t buf[65536];
	size_t cap = e->rcap ? e->rcap : sizeof(buf);
	while (!e->err) {
		int r = rws_tls_read(e->t, buf, cap);
		cr_assert_neq(r, 0, "%s: rws_tls_read() returned 0", e->name);
		if (r == E_WANT)
			return;
		if (r < 0) {
			e->err = r;
			return;
		}
		cr_assert_leq((size_t)r, cap, "%s: read %d into %zu", e->name, r, cap);
		append(e, buf, (size_t)r);
		e->reads++;
	}
}

/* moves what from has to send into to, to->chunk bytes at a time, reading
 * after each feed; once to has failed, the bytes are dropped */
static void xfer(struct end *from, struct end *to)
{
	size_t n;
	while ((n = rws_tls_out_len(from->t)) > 0) {
		size_t take = to->chunk && to->chunk < n ? to->chunk : n;
		if (!to->err) {
			cr_assert_eq(rws_tls_feed(to->t, rws_tls_out(from->t), take), 0);
			drain(to);
		}
		rws_tls_out_consume(from->t, take);
		cr_assert_eq(rws_tls_out_len(from->t), n - take, "%s: out_consume", from->name);
	}
}

/* pumps until neither side has anything to send; fails the test when that
 * takes more than MAX_ROUNDS round trips */
static void pump(struct pair *p)
{
	drain(&p->c);
	drain(&p->s);
	for (int round = 0; round < MAX_ROUNDS; round++) {
		xfer(&p->c, &p->s);
		xfer(&p->s, &p->c);
		if (rws_tls_out_len(p->c.t) == 0 && rws_tls_out_len(p->s.t) == 0)
			return;
	}
	cr_assert_fail("still not quiet after %d rounds", MAX_ROUNDS);
}

static void pair_open(struct pair *p, struct rws_tls_ctx *cctx, const char *host,
		      struct rws_tls_ctx *const *sctxs, const char *const *names, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->c.name = "client";
	p->s.name = "server";
	p->c.t = rws_tls_new_client(cctx, host);
	cr_assert(p->c.t, "rws_tls_new_client(%s)", host);
	p->s.t = rws_tls_new_server(sctxs, names, n);
	cr_assert(p->s.t, "rws_tls_new_server");
	cr_assert(!rws_tls_ready(p->c.t));
	cr_assert(!rws_tls_ready(p->s.t));
}

static void pair_close(struct pair *p)
{
	rws_tls_free(p->c.t);
	rws_tls_free(p->s.t);
	free(p->c.got);
	free(p->s.got);
	memset(p, 0, sizeof(*p));
}

static const char *err_of(const struct end *e)
{
	const char *m = rws_tls_error(e->t);
	return m ? m : "(null)";
}

/* the handshake must succeed */
static void handshake_ok(struct pair *p, const char *host)
{
	pump(p);
	cr_assert_eq(p->c.err, 0, "%s: client error %d: %s", host, p->c.err, err_of(&p->c));
	cr_assert_eq(p->s.err, 0, "%s: server error %d: %s", host, p->s.err, err_of(&p->s));
	cr_assert(rws_tls_ready(p->c.t), "%s: client not ready", host);
	cr_assert(rws_tls_ready(p->s.t), "%s: server not ready", host);
	cr_assert_eq(p->c.len + p->s.len, 0, "%s: plaintext during the handshake", host);
}

/* a whole connection: client with cctx to host, server with one context */
static void connect1(struct pair *p, struct rws_tls_ctx *cctx, const char *host,
		     struct rws_tls_ctx *sctx)
{
	static const char *const names[] = { "localhost" };
	struct rws_tls_ctx *ctxs[] = { sctx };
	pair_open(p, cctx, host, ctxs, names, 1);
	handshake_ok(p, host);
}

/* whether s contains one of the |-separated words (any case) */
static int has_word(const char *s, const char *words)
{
	char w[128];
	snprintf(w, sizeof(w), "%s", words);
	for (char *sp, *t = strtok_r(w, "|", &sp); t; t = strtok_r(NULL, "|", &sp))
		if (strcasestr(s, t))
			return 1;
	return 0;
}

/* the causes as wolfSSL 5.5.4 words them: ASN_AFTER_DATE_E "ASN date error,
 * current date after", DOMAIN_NAME_MISMATCH "peer subject name mismatch";
 * ASN_NO_SIGNER_E is only "certificate verify failed" (wolfSSL's own
 * string), so an unknown CA is the "verify" that is neither of the others */
#define EXPIRED "expire|date"
#define NAME "name|domain|mismatch|host"
#define NOT_EXPIRED "mismatch"
#define NO_CA "signer|issuer|unknown|untrusted|trust|authority|verify"

/* the handshake must fail on the client with RWS_TLS_E_VERIFY, the reason
 * containing one of the words in want and none of those in avoid (a
 * |-separated list, any case; avoid may be NULL) */
static void verify_fails(struct pair *p, const char *host, const char *want, const char *avoid)
{
	pump(p);
	const char *m = err_of(&p->c);
	cr_assert_eq(p->c.err, RWS_TLS_E_VERIFY, "%s: client: %d, not RWS_TLS_E_VERIFY (%s)", host,
		     p->c.err, m);
	cr_assert(!rws_tls_ready(p->c.t), "%s: client ready after a verification failure", host);
	cr_assert(!rws_tls_ready(p->s.t), "%s: server ready although the client refused", host);
	cr_assert(!strchr(m, '\n'), "%s: a reason of more than one line: %s", host, m);
	cr_log_info("%s: %s", host, m);
	cr_assert(has_word(m, want), "%s: the reason \"%s\" names none of %s", host, m, want);
	cr_assert(!avoid || !has_word(m, avoid), "%s: the reason \"%s\" names a wrong cause (%s)",
		  host, m, avoid);
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(test_rand(&s) >> 56);
}

/* from writes n bytes (in writes of at most wmax bytes, 0: one write); to
 * must receive exactly them */
static void send_check(struct pair *p, struct end *from, struct end *to, size_t n, size_t wmax,
		       uint64_t seed)
{
	uint8_t *msg = malloc(n ? n : 1);
	cr_assert(msg);
	fill(msg, n, seed);
	to->len = 0;
	for (size_t off = 0; off < n || (n == 0 && off == 0);) {
		size_t k = wmax && n - off > wmax ? wmax : n - off;
		int r = rws_tls_write(from->t, msg + off, k);
		cr_assert_eq(r, 0, "%s: rws_tls_write(%zu): %d %s", from->name, k, r, err_of(from));
		off += k;
		if (n == 0)
			break;
	}
	pump(p);
	cr_assert_eq(from->err, 0, "%s: %d %s", from->name, from->err, err_of(from));
	cr_assert_eq(to->err, 0, "%s: %d %s", to->name, to->err, err_of(to));
	cr_assert_eq(to->len, n, "%s -> %s: %zu bytes of %zu (chunk %zu, read buffer %zu)",
		     from->name, to->name, to->len, n, to->chunk, to->rcap);
	cr_assert(n == 0 || memcmp(to->got, msg, n) == 0, "%s -> %s: %zu bytes differ", from->name,
		  to->name, n);
	free(msg);
}

static int is_error(int r)
{
	return r >= RWS_TLS_E_HANDSHAKE && r <= RWS_TLS_E_NOT_TLS;
}

/* --- the handshake ------------------------------------------------------------------ */

static void check_params(struct pair *p, const char *host, const char *sni)
{
	for (struct end *e = &p->c; e; e = e == &p->c ? &p->s : NULL) {
		const char *v = rws_tls_version(e->t), *a = rws_tls_alpn(e->t);
		const char *cs = rws_tls_cipher(e->t);
		cr_assert(v && strcmp(v, "TLSv1.3") == 0, "%s %s: version %s", host, e->name,
			  v ? v : "(null)");
		cr_assert(a && strcmp(a, "http/1.1") == 0, "%s %s: ALPN \"%s\"", host, e->name,
			  a ? a : "(null)");
		cr_assert(cs && strstr(cs, "CHACHA20-POLY1305"),
			  "%s %s: cipher \"%s\", not the preferred ChaCha20-Poly1305", host, e->name,
			  cs ? cs : "(null)");
		const char *g = rws_tls_group(e->t);
		cr_assert(strcmp(g, "X25519") == 0, "%s %s: key exchange \"%s\", not X25519", host,
			  e->name, g);
	}
	const char *s = rws_tls_sni(p->s.t);
	cr_assert(s && strcmp(s, sni) == 0, "%s: the server saw SNI \"%s\", not \"%s\"", host,
		  s ? s : "(null)", sni);
}

Test(tls, handshake_with_the_test_ca)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	struct pair p;
	connect1(&p, cc, "localhost", sc);
	check_params(&p, "localhost", "localhost");
	send_check(&p, &p.c, &p.s, 5, 0, 1);
	send_check(&p, &p.s, &p.c, 5, 0, 2);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

Test(tls, handshake_with_an_rsa_certificate)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("rsa");
	struct pair p;
	connect1(&p, cc, "localhost", sc);
	check_params(&p, "localhost", "localhost");
	send_check(&p, &p.c, &p.s, 1000, 0, 3);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* every handshake message split into one-byte feeds, both ways */
Test(tls, handshake_fed_one_byte_at_a_time)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	static const char *const names[] = { "localhost" };
	struct pair p;
	pair_open(&p, cc, "localhost", &sc, names, 1);
	p.c.chunk = p.s.chunk = 1;
	handshake_ok(&p, "localhost");
	check_params(&p, "localhost", "localhost");
	send_check(&p, &p.c, &p.s, 300, 0, 4);
	send_check(&p, &p.s, &p.c, 300, 0, 5);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* one context serves many connections, one after another and side by side */
Test(tls, contexts_are_shared_by_connections)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	struct pair p[8];
	for (int i = 0; i < 8; i++)
		connect1(&p[i], cc, "localhost", sc);
	for (int i = 0; i < 8; i++)
		send_check(&p[i], &p[i].c, &p[i].s, 100 + (size_t)i, 0, (uint64_t)i);
	for (int i = 0; i < 8; i++)
		pair_close(&p[i]);
	for (int i = 0; i < 20; i++) {
		connect1(&p[0], cc, "localhost", sc);
		pair_close(&p[0]);
	}
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* writing before the handshake is done is refused, and nothing is sent */
Test(tls, write_before_the_handshake_is_refused)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	static const char *const names[] = { "localhost" };
	struct pair p;
	pair_open(&p, cc, "localhost", &sc, names, 1);
	int r = rws_tls_write(p.c.t, "early", 5);
	cr_assert(is_error(r), "rws_tls_write before the handshake: %d", r);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* borrowed input (rws_tls_feed_borrow) is read in place, and bytes fed
 * after it, before rws_tls_feed_done(), are read after it */
Test(tls, borrowed_input_keeps_its_order)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	struct rws_tls *c = rws_tls_new_client(cc, "localhost");
	uint8_t b[64];
	cr_assert_eq(rws_tls_read(c, b, 0), E_WANT);
	size_t n = rws_tls_out_len(c);
	cr_assert(n > 200);
	uint8_t *hello = malloc(n);
	memcpy(hello, rws_tls_out(c), n);
	for (int mode = 0; mode < 3; mode++) {
		struct rws_tls *s = rws_tls_new_server(&sc, NULL, 1);
		if (mode == 0) {		/* borrowed whole, read, done */
			cr_assert_eq(rws_tls_feed_borrow(s, hello, n), 0);
		} else if (mode == 1) {		/* borrowed, then the rest copied after it */
			cr_assert_eq(rws_tls_feed_borrow(s, hello, 100), 0);
			cr_assert_eq(rws_tls_feed(s, hello + 100, n - 100), 0);
		} else {			/* borrowed twice */
			cr_assert_eq(rws_tls_feed_borrow(s, hello, 100), 0);
			cr_assert_eq(rws_tls_feed_borrow(s, hello + 100, n - 100), 0);
		}
		int r = rws_tls_read(s, b, sizeof(b));
		cr_assert_eq(r, E_WANT, "mode %d: %d %s", mode, r, rws_tls_error(s));
		cr_assert(rws_tls_out_len(s) > 100, "mode %d: no server flight", mode);
		cr_assert_eq(rws_tls_feed_done(s), 0);
		rws_tls_free(s);
	}
	free(hello);
	rws_tls_free(c);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* connections freed at every stage of the handshake leave nothing behind
 * (ASan's leak check in the asan build) */
Test(tls, freed_mid_handshake)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	static const char *const names[] = { "localhost" };
	for (int stop = 0; stop < 6; stop++) {
		struct pair p;
		pair_open(&p, cc, "localhost", &sc, names, 1);
		drain(&p.c);
		for (int i = 0; i < stop; i++) {
			if (i % 2 == 0)
				xfer(&p.c, &p.s);
			else
				xfer(&p.s, &p.c);
		}
		pair_close(&p);
	}
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* --- data ------------------------------------------------------------------------------ */

static const size_t sizes[] = {
	0, 1, 2, 5, 100, 1000, 4096, 16383, 16384, 16385, 16640, 32768, 65535, 65536, 100000,
	1 << 20,
};

Test(tls, data_both_ways_0_to_1MiB)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	struct pair p;
	connect1(&p, cc, "localhost", sc);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		send_check(&p, &p.c, &p.s, sizes[i], 0, 100 + i);
		send_check(&p, &p.s, &p.c, sizes[i], 0, 200 + i);
	}
	/* a write of nothing changes nothing */
	send_check(&p, &p.c, &p.s, 7, 0, 300);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* records split across feeds of odd sizes, many writes pumped at once, and
 * read buffers smaller than a record */
Test(tls, records_split_across_feeds)
{
	static const size_t chunks[] = { 2, 3, 5, 100, 1000, 4097, 16389, 70000 };
	static const size_t rcaps[] = { 0, 1, 7, 1000, 16383 };
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	struct pair p;
	connect1(&p, cc, "localhost", sc);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		for (size_t j = 0; j < sizeof(rcaps) / sizeof(rcaps[0]); j++) {
			/* fewer bytes with tiny feeds or reads, to stay quick */
			size_t n = chunks[i] < 100 || (rcaps[j] && rcaps[j] < 100) ? 20000 : 300000;
			p.c.chunk = p.s.chunk = chunks[i];
			p.c.rcap = p.s.rcap = rcaps[j];
			uint64_t seed = 1000 + i * 10 + j;
			send_check(&p, &p.c, &p.s, n, 1 + (size_t)(seed * 7919 % 20000), seed);
			send_check(&p, &p.s, &p.c, n, 1 + (size_t)(seed * 104729 % 20000), seed + 1);
		}
	/* a small message, every byte its own feed, both ways */
	p.c.chunk = p.s.chunk = 1;
	p.c.rcap = p.s.rcap = 0;
	send_check(&p, &p.c, &p.s, 200, 0, 77);
	send_check(&p, &p.s, &p.c, 200, 0, 78);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* a read buffer smaller than what a record holds: the rest comes with the
 * next reads, without more input */
Test(tls, plaintext_read_in_pieces)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	struct pair p;
	connect1(&p, cc, "localhost", sc);
	p.s.rcap = 10;
	send_check(&p, &p.c, &p.s, 1000, 0, 9);
	cr_assert_geq(p.s.reads, 100, "1000 bytes in %zu reads of at most 10", p.s.reads);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* data both ways at once, the records of both in flight together */
Test(tls, data_crossing)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	struct pair p;
	connect1(&p, cc, "localhost", sc);
	uint8_t a[50000], b[30000];
	fill(a, sizeof(a), 11);
	fill(b, sizeof(b), 12);
	p.c.chunk = p.s.chunk = 777;
	for (size_t off = 0; off < sizeof(a); off += 5000) {
		cr_assert_eq(rws_tls_write(p.c.t, a + off, 5000), 0);
		if (off < sizeof(b))
			cr_assert_eq(rws_tls_write(p.s.t, b + off, 5000), 0);
	}
	pump(&p);
	cr_assert_eq(p.c.err + p.s.err, 0, "%s / %s", err_of(&p.c), err_of(&p.s));
	cr_assert_eq(p.s.len, sizeof(a));
	cr_assert_eq(p.c.len, sizeof(b));
	cr_assert(memcmp(p.s.got, a, sizeof(a)) == 0);
	cr_assert(memcmp(p.c.got, b, sizeof(b)) == 0);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* --- close_notify ------------------------------------------------------------------- */

static void close_from(int client)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	struct pair p;
	connect1(&p, cc, "localhost", sc);
	struct end *from = client ? &p.c : &p.s, *to = client ? &p.s : &p.c;
	/* what was written before close_notify arrives before it */
	cr_assert_eq(rws_tls_write(from->t, "bye", 3), 0);
	rws_tls_shutdown(from->t);
	cr_assert_gt(rws_tls_out_len(from->t), 0, "%s: nothing to send after shutdown",
		     from->name);
	pump(&p);
	cr_assert_eq(to->len, 3);
	cr_assert(memcmp(to->got, "bye", 3) == 0);
	cr_assert_eq(to->err, RWS_TLS_E_CLOSED, "%s: %d, not RWS_TLS_E_CLOSED (%s)", to->name,
		     to->err, err_of(to));
	cr_assert_eq(from->err, 0, "%s: %d %s", from->name, from->err, err_of(from));
	/* and again: it stays closed */
	uint8_t buf[16];
	cr_assert_eq(rws_tls_read(to->t, buf, sizeof(buf)), RWS_TLS_E_CLOSED);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

Test(tls, close_notify_from_the_client)
{
	close_from(1);
}

Test(tls, close_notify_from_the_server)
{
	close_from(0);
}

/* --- SNI ------------------------------------------------------------------------------- */

struct sni_set {
	struct rws_tls_ctx *ctxs[3];
	struct rws_tls_ctx *ca, *insecure;
};

static const char *const sni_names[] = { "localhost", "alpha.test", "*.beta.test" };

static void sni_setup(struct sni_set *s)
{
	s->ctxs[0] = server_ctx("server");
	s->ctxs[1] = server_ctx("alpha");
	s->ctxs[2] = server_ctx("beta");
	s->ca = client_ctx("ca");
	s->insecure = client_ctx(NULL);
}

static void sni_free(struct sni_set *s)
{
	for (int i = 0; i < 3; i++)
		rws_tls_ctx_free(s->ctxs[i]);
	rws_tls_ctx_free(s->ca);
	rws_tls_ctx_free(s->insecure);
}

/* host, verified against the CA, must get through (its certificate was
 * chosen), the server seeing sni */
static void sni_ok(struct sni_set *s, const char *host, const char *sni)
{
	struct pair p;
	pair_open(&p, s->ca, host, s->ctxs, sni_names, 3);
	handshake_ok(&p, host);
	check_params(&p, host, sni);
	send_check(&p, &p.c, &p.s, 64, 0, 5);
	pair_close(&p);
}

/* host matches no name: the first context (localhost's certificate) is
 * used, which the client refuses; an insecure client gets through and the
 * server saw the name */
static void sni_default(struct sni_set *s, const char *host)
{
	struct pair p;
	pair_open(&p, s->ca, host, s->ctxs, sni_names, 3);
	verify_fails(&p, host, NAME, EXPIRED);
	pair_close(&p);
	pair_open(&p, s->insecure, host, s->ctxs, sni_names, 3);
	handshake_ok(&p, host);
	check_params(&p, host, host);
	pair_close(&p);
}

Test(tls, sni_picks_the_context)
{
	struct sni_set s;
	sni_setup(&s);
	sni_ok(&s, "localhost", "localhost");
	sni_ok(&s, "alpha.test", "alpha.test");
	sni_ok(&s, "x.beta.test", "x.beta.test");
	sni_ok(&s, "www.beta.test", "www.beta.test");
	/* no SNI for an IP address: the first context, whose certificate has
	 * the IP */
	sni_ok(&s, "127.0.0.1", "");
	sni_free(&s);
}

Test(tls, sni_unknown_names_get_the_first_context)
{
	struct sni_set s;
	sni_setup(&s);
	sni_default(&s, "gamma.test");
	sni_default(&s, "alpha.test.evil");
	/* "*.beta.test" is one label: neither beta.test itself nor two labels */
	sni_default(&s, "beta.test");
	sni_default(&s, "a.b.beta.test");
	sni_free(&s);
}

/* --- verification ------------------------------------------------------------------- */

static void verify_case(const char *cert, const char *host, const char *want,
			const char *avoid)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx(cert);
	static const char *const names[] = { "localhost" };
	struct pair p;
	pair_open(&p, cc, host, &sc, names, 1);
	verify_fails(&p, host, want, avoid);
	pair_close(&p);
	/* the same, fed one byte at a time */
	pair_open(&p, cc, host, &sc, names, 1);
	p.c.chunk = p.s.chunk = 1;
	verify_fails(&p, host, want, avoid);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

Test(tls, verify_expired_certificate)
{
	verify_case("expired", "localhost", EXPIRED, NOT_EXPIRED);
}

Test(tls, verify_certificate_of_another_ca)
{
	verify_case("wrong", "localhost", NO_CA, EXPIRED "|" NOT_EXPIRED);
}

Test(tls, verify_host_name_mismatch)
{
	verify_case("server", "alpha.test", NAME, EXPIRED);
	verify_case("alpha", "localhost", NAME, EXPIRED);
	verify_case("beta", "x.y.beta.test", NAME, EXPIRED);
}

Test(tls, verify_ip_mismatch)
{
	/* the certificate's IP is 127.0.0.1; alpha's has none (its name is not
	 * an IP either) */
	verify_case("server", "127.0.0.2", "ip|address|" NAME, EXPIRED);
	verify_case("alpha", "127.0.0.1", "ip|address|" NAME, EXPIRED);
}

/* the IP is checked against the IP SAN, and no SNI is sent for it */
Test(tls, ip_host_matches_the_ip_san_without_sni)
{
	struct rws_tls_ctx *cc = client_ctx("ca");
	const char *certs[] = { "server", "rsa" };
	for (int i = 0; i < 2; i++) {
		struct rws_tls_ctx *sc = server_ctx(certs[i]);
		struct pair p;
		connect1(&p, cc, "127.0.0.1", sc);
		check_params(&p, "127.0.0.1", "");
		send_check(&p, &p.s, &p.c, 10, 0, 1);
		pair_close(&p);
		rws_tls_ctx_free(sc);
	}
	rws_tls_ctx_free(cc);
}

Test(tls, insecure_client_accepts_anything)
{
	struct rws_tls_ctx *ic = client_ctx(NULL);
	const char *certs[] = { "wrong", "expired", "server", "alpha" };
	const char *hosts[] = { "localhost", "localhost", "nomatch.test", "127.0.0.9" };
	for (int i = 0; i < 4; i++) {
		struct rws_tls_ctx *sc = server_ctx(certs[i]);
		struct pair p;
		connect1(&p, ic, hosts[i], sc);
		send_check(&p, &p.c, &p.s, 10, 0, 1);
		pair_close(&p);
		rws_tls_ctx_free(sc);
	}
	rws_tls_ctx_free(ic);
}

/* the test CA is in no system store */
Test(tls, system_cas_refuse_the_test_ca)
{
	char err[256] = "";
	struct rws_tls_ctx *cc = rws_tls_ctx_client(NULL, 0, err, sizeof(err));
	if (!cc) {
		cr_assert(access("/etc/ssl/certs/ca-certificates.crt", R_OK) != 0,
			  "the system's CAs are there, yet: %s", err);
		cr_assert(err[0], "NULL without a reason");
		return;
	}
	struct rws_tls_ctx *sc = server_ctx("server");
	static const char *const names[] = { "localhost" };
	struct pair p;
	pair_open(&p, cc, "localhost", &sc, names, 1);
	verify_fails(&p, "localhost", NO_CA, EXPIRED "|" NOT_EXPIRED);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* after the client's refusal its alert is in its output; the server that
 * gets it fails (and is never ready) */
Test(tls, verification_failure_alerts_the_server)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("wrong");
	static const char *const names[] = { "localhost" };
	struct pair p;
	pair_open(&p, cc, "localhost", &sc, names, 1);
	pump(&p);
	cr_assert_eq(p.c.err, RWS_TLS_E_VERIFY, "%d %s", p.c.err, err_of(&p.c));
	cr_assert(is_error(p.s.err), "server: %d (%s)", p.s.err, err_of(&p.s));
	cr_assert(!rws_tls_ready(p.s.t));
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* --- configuration ------------------------------------------------------------------ */

/* c must be NULL with a one-line reason; with want (|-separated words, any
 * case), the reason must contain one of them */
static void refused(struct rws_tls_ctx *c, const char *err, const char *what, const char *want)
{
	cr_assert_null(c, "%s: accepted", what);
	cr_assert(err[0], "%s: NULL without a reason", what);
	cr_assert(!strchr(err, '\n'), "%s: a reason of more than one line: %s", what, err);
	cr_log_info("%s: %s", what, err);
	/* not "ok" (say, an empty error queue's string), which a reason for a
	 * refusal never is; file names (under pki) aside */
	char r[512];
	snprintf(r, sizeof(r), "%s", err);
	for (char *d; (d = strstr(r, pki)) != NULL;)
		memset(d, '/', strlen(pki));
	for (const char *o = r; (o = strcasestr(o, "ok")) != NULL; o += 2)
		cr_assert(!((o == r || !isalnum((unsigned char)o[-1])) &&
			    !isalnum((unsigned char)o[2])),
			  "%s: the reason says \"ok\": %s", what, err);
	if (!want)
		return;
	cr_assert(has_word(err, want), "%s: the reason \"%s\" names none of %s", what, err, want);
}

static void server_refused(const char *cert, const char *key, const char *what, const char *want)
{
	char err[512] = "";
	struct rws_tls_ctx *c = rws_tls_ctx_server(cert, key, err, sizeof(err));
	refused(c, err, what, want);
}

static void client_refused(const char *ca, const char *what, const char *want)
{
	char err[512] = "";
	struct rws_tls_ctx *c = rws_tls_ctx_client(ca, 0, err, sizeof(err));
	refused(c, err, what, want);
}

#define MISSING "no such|not found|cannot open|can't open|could not open|missing|not exist"

static const char garbage[] = "this is not a PEM file\n\x01\x02\x03";

static const char *missing(const char *name)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/no-such-%s", pki, name);
	return path;
}

/* a missing file is named as missing (not, say, "ok" from an empty error
 * queue) */
Test(tls, refused_missing_files)
{
	server_refused(missing("cert.pem"), file("server", "key"), "a missing certificate file",
		       MISSING);
	server_refused(file("server", "pem"), missing("cert.key"), "a missing key file", MISSING);
	client_refused(missing("ca.pem"), "a missing CA file", MISSING);
}

Test(tls, refused_keys_not_the_certificates)
{
	server_refused(file("rsa", "pem"), file("server", "key"), "an EC key for an RSA certificate",
		       "match");
	server_refused(file("server", "pem"), file("rsa", "key"), "an RSA key for an EC certificate",
		       "match");
	/* both P-256: wolfSSL 5.5.4's own check lets this one through */
	server_refused(file("server", "pem"), file("alpha", "key"), "another P-256 key", "match");
	server_refused(file("wrong", "pem"), file("server", "key"), "another P-256 key (2)", "match");
}

Test(tls, refused_garbage)
{
	static const char bad_pem[] = "-----BEGIN CERTIFICATE-----\nAAAAbm90IGEgY2VydA==\n"
				      "-----END CERTIFICATE-----\n";
	server_refused(scratch("garbage.pem", garbage, sizeof(garbage) - 1), file("server", "key"),
		       "a certificate file of garbage", NULL);
	server_refused(scratch("bad.pem", bad_pem, sizeof(bad_pem) - 1), file("server", "key"),
		       "a certificate PEM of garbage", NULL);
	server_refused(scratch("empty.pem", "", 0), file("server", "key"), "an empty certificate file",
		       NULL);
	server_refused(file("server", "pem"), scratch("garbage.key", garbage, sizeof(garbage) - 1),
		       "a key file of garbage", NULL);
	server_refused(file("server", "pem"), file("server", "pem"), "a certificate as the key", NULL);
	server_refused(file("server", "key"), file("server", "key"), "a key as the certificate", NULL);

	/* a buffer too small for the reason gets as much of it as fits */
	char small[8];
	memset(small, 'x', sizeof(small));
	cr_assert_null(rws_tls_ctx_server(scratch("g.pem", garbage, sizeof(garbage) - 1),
					  file("server", "key"), small, sizeof(small)));
	cr_assert(memchr(small, 0, sizeof(small)), "the reason overran its buffer");
}

Test(tls, refused_ca_files)
{
	client_refused(scratch("garbage-ca.pem", garbage, sizeof(garbage) - 1), "a CA file of garbage",
		       NULL);
	client_refused(scratch("empty-ca.pem", "", 0), "an empty CA file", NULL);
	client_refused(file("ca", "key"), "a key as the CA file", NULL);
}

/* --- not TLS ------------------------------------------------------------------------- */

static void not_tls(const char *req, size_t chunk)
{
	struct rws_tls_ctx *sc = server_ctx("server");
	static const char *const names[] = { "localhost" };
	struct rws_tls *s = rws_tls_new_server(&sc, names, 1);
	cr_assert(s);
	uint8_t buf[256];
	size_t n = strlen(req);
	int r = E_WANT;
	for (size_t off = 0; off < n && r == E_WANT; off += chunk) {
		size_t k = n - off < chunk ? n - off : chunk;
		cr_assert_eq(rws_tls_feed(s, (const uint8_t *)req + off, k), 0);
		r = rws_tls_read(s, buf, sizeof(buf));
	}
	cr_assert_eq(r, RWS_TLS_E_NOT_TLS, "\"%.20s...\" in feeds of %zu: %d, not "
		     "RWS_TLS_E_NOT_TLS (%s)", req, chunk, r, rws_tls_error(s));
	cr_assert(!rws_tls_ready(s));
	rws_tls_free(s);
	rws_tls_ctx_free(sc);
}

Test(tls, plain_http_is_not_tls)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
				  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				  "Sec-WebSocket-Version: 13\r\n\r\n";
	not_tls(get, sizeof(get));
	not_tls(get, 1);
	not_tls("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 100);
}

/* --- broken records ----------------------------------------------------------------- */

/* after the handshake, the client's next record changed by edit() reaches
 * the server, which must fail with want (0: any error) */
static void broken_record(void (*edit)(uint8_t *rec, size_t *len), int want, const char *what)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	struct pair p;
	connect1(&p, cc, "localhost", sc);
	uint8_t msg[1000];
	fill(msg, sizeof(msg), 1);
	cr_assert_eq(rws_tls_write(p.c.t, msg, sizeof(msg)), 0);
	size_t len = rws_tls_out_len(p.c.t);
	cr_assert_gt(len, sizeof(msg));
	uint8_t *rec = malloc(len + 64);
	memcpy(rec, rws_tls_out(p.c.t), len);
	rws_tls_out_consume(p.c.t, len);
	edit(rec, &len);
	cr_assert_eq(rws_tls_feed(p.s.t, rec, len), 0);
	free(rec);
	drain(&p.s);
	cr_assert(is_error(p.s.err), "%s: server: %d", what, p.s.err);
	if (want)
		cr_assert_eq(p.s.err, want, "%s: server: %d (%s)", what, p.s.err, err_of(&p.s));
	cr_assert_eq(p.s.len, 0, "%s: %zu bytes of plaintext from a broken record", what, p.s.len);
	cr_assert(err_of(&p.s)[0], "%s: no reason", what);
	/* the server's alert, if it wrote one, fails the client too */
	if (rws_tls_out_len(p.s.t) > 0) {
		pump(&p);
		cr_assert(is_error(p.c.err), "%s: client after the server's alert: %d", what,
			  p.c.err);
	}
	/* further input changes nothing, and crashes nothing */
	uint8_t more[100];
	fill(more, sizeof(more), 2);
	rws_tls_feed(p.s.t, more, sizeof(more));
	uint8_t buf[64];
	int r = rws_tls_read(p.s.t, buf, sizeof(buf));
	cr_assert(r < 0 && r != E_WANT, "%s: read after the error: %d", what, r);
	cr_assert(is_error(rws_tls_write(p.s.t, "x", 1)), "%s: write after the error", what);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

static void flip_middle(uint8_t *rec, size_t *len)
{
	rec[*len / 2] ^= 0x01;
}

static void flip_last(uint8_t *rec, size_t *len)
{
	rec[*len - 1] ^= 0x80;
}

static void flip_type(uint8_t *rec, size_t *len)
{
	(void)len;
	rec[0] = 0x42;		/* no content type */
}

static void huge_length(uint8_t *rec, size_t *len)
{
	(void)len;
	rec[3] = 0xff;		/* 65,5xx bytes: more than a record may hold */
	rec[4] = 0x00;
}

static void short_length(uint8_t *rec, size_t *len)
{
	/* the record claims 10 bytes and a record follows: an AEAD record
	 * of 10 bytes cannot even hold its tag */
	size_t n = ((size_t)rec[3] << 8 | rec[4]) + 5;
	rec[3] = 0;
	rec[4] = 10;
	*len = n;
}

Test(tls, corrupted_records_fail)
{
	broken_record(flip_middle, RWS_TLS_E_PROTOCOL, "a ciphertext byte flipped");
	broken_record(flip_last, RWS_TLS_E_PROTOCOL, "the tag's last byte flipped");
	broken_record(flip_type, 0, "an unknown content type");
	broken_record(huge_length, 0, "a record of 65 KB");
	broken_record(short_length, 0, "a record too short for its tag");
}

/* a record that never completes is waited for, not an error */
Test(tls, truncated_record_waits)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	struct pair p;
	connect1(&p, cc, "localhost", sc);
	cr_assert_eq(rws_tls_write(p.c.t, "hello", 5), 0);
	size_t len = rws_tls_out_len(p.c.t);
	uint8_t rec[256];
	cr_assert_leq(len, sizeof(rec));
	memcpy(rec, rws_tls_out(p.c.t), len);
	rws_tls_out_consume(p.c.t, len);
	uint8_t buf[64];
	for (size_t i = 0; i + 1 < len; i++) {
		cr_assert_eq(rws_tls_feed(p.s.t, rec + i, 1), 0);
		cr_assert_eq(rws_tls_read(p.s.t, buf, sizeof(buf)), E_WANT, "after %zu of %zu bytes",
			     i + 1, len);
	}
	cr_assert_eq(rws_tls_feed(p.s.t, rec + len - 1, 1), 0);
	cr_assert_eq(rws_tls_read(p.s.t, buf, sizeof(buf)), 5);
	cr_assert(memcmp(buf, "hello", 5) == 0);
	pair_close(&p);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* garbage where the server's first flight belongs */
Test(tls, garbage_to_the_client)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	static const char *const names[] = { "localhost" };
	static const uint8_t bad[][12] = {
		{ 0x16, 0x03, 0x03, 0x00, 0x07, 0x02, 0x00, 0x00, 0x03, 0xff, 0xff, 0xff },
		{ 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 },	/* handshake_failure */
		{ 'H', 'T', 'T', 'P', '/', '1', '.', '1', ' ', '4', '0', '0' },
		{ 0x17, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pair p;
		pair_open(&p, cc, "localhost", &sc, names, 1);
		drain(&p.c);
		cr_assert_gt(rws_tls_out_len(p.c.t), 0, "no ClientHello");
		rws_tls_out_consume(p.c.t, rws_tls_out_len(p.c.t));
		cr_assert_eq(rws_tls_feed(p.c.t, bad[i], sizeof(bad[i])), 0);
		drain(&p.c);
		cr_assert(is_error(p.c.err), "case %zu: %d", i, p.c.err);
		cr_assert(!rws_tls_ready(p.c.t));
		cr_assert(err_of(&p.c)[0], "case %zu: no reason", i);
		pair_close(&p);
	}
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}

/* whether byte at of the records in buf is in a length that, grown, makes
 * the receiver wait: a record's, or a plaintext handshake message's */
static int in_length_field(const uint8_t *buf, size_t len, size_t at)
{
	for (size_t r = 0; r + 5 <= len;) {
		size_t rlen = (size_t)buf[r + 3] << 8 | buf[r + 4];
		if (at == r + 3 || at == r + 4)
			return 1;
		if (buf[r] == 22)	/* handshake: its messages' 24-bit lengths */
			for (size_t m = r + 5; m + 4 <= r + 5 + rlen && m + 4 <= len;
			     m += 4 + ((size_t)buf[m + 1] << 16 | (size_t)buf[m + 2] << 8 | buf[m + 3]))
				if (at > m && at < m + 4)
					return 1;
		r += 5 + rlen;
	}
	return 0;
}

/* one byte flipped anywhere in the handshake, either way. Outcomes: a side
 * fails (the client may already be done when its own Finished was broken);
 * a byte that does not count (a record's legacy version) changes nothing
 * and data still goes through intact; or a record's length grew and its
 * receiver waits for the rest. Never a crash, never a hang, never a wait
 * on anything else. */
Test(tls, handshake_byte_flips)
{
	struct rws_tls_ctx *cc = client_ctx("ca"), *sc = server_ctx("server");
	static const char *const names[] = { "localhost" };
	uint64_t seed = 0x5eed;
	int failed = 0, survived = 0, waiting = 0;
	for (int iter = 0; iter < 300; iter++) {
		struct pair p;
		pair_open(&p, cc, "localhost", &sc, names, 1);
		/* flight: 0 ClientHello, 1 server's flight, 2 client's Finished */
		int flight = iter % 3, in_length = 0;
		size_t at = 0;
		drain(&p.c);
		drain(&p.s);
		for (int f = 0; f <= 2 && !p.c.err && !p.s.err; f++) {
			struct end *from = f % 2 ? &p.s : &p.c, *to = f % 2 ? &p.c : &p.s;
			size_t len = rws_tls_out_len(from->t);
			if (len == 0)
				break;
			uint8_t *buf = malloc(len);
			memcpy(buf, rws_tls_out(from->t), len);
			rws_tls_out_consume(from->t, len);
			if (f == flight) {
				at = (size_t)(test_rand(&seed) % len);
				in_length = in_length_field(buf, len, at);
				buf[at] ^= (uint8_t)(1u << (test_rand(&seed) % 8));
			}
			cr_assert_eq(rws_tls_feed(to->t, buf, len), 0);
			free(buf);
			drain(to);
		}
		pump(&p);
		int ready = rws_tls_ready(p.c.t) && rws_tls_ready(p.s.t);
		if (p.c.err || p.s.err) {
			failed++;
			cr_assert(!rws_tls_ready(p.s.t) || !p.s.err, "iteration %d: server ready "
				  "and failed", iter);
		} else if (ready) {
			survived++;
			send_check(&p, &p.c, &p.s, 100, 0, (uint64_t)iter);
			send_check(&p, &p.s, &p.c, 100, 0, (uint64_t)iter);
		} else {
			waiting++;
			cr_assert(in_length, "iteration %d: stuck after a flip at %zu of flight %d, "
				  "not in a record length", iter, at, flight);
		}
		pair_close(&p);
	}
	cr_log_info("handshake_byte_flips: %d failed, %d survived, %d waiting", failed, survived,
		    waiting);
	cr_assert_gt(failed, 250, "only %d of 300 flips were noticed (%d survived, %d waiting)",
		     failed, survived, waiting);
	rws_tls_ctx_free(sc);
	rws_tls_ctx_free(cc);
}
