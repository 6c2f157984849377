/*
 * utf8_test: incremental UTF-8 validation, scalar and AVX2, against a
 * reference written here that decodes code points and checks their ranges
 * (RFC 3629 section 3) instead of using byte tables.
 *
 * Covers every 1-, 2- and 3-byte sequence, 4-byte sequences from the leads
 * F0..F7 with continuation candidates from a representative set, the same
 * embedded in ASCII where the vector code sees them (block edges, buffer
 * end), random and mutated text, input split at every offset, fed a byte at
 * a time, and fail-fast: the call holding the first bad byte returns -1.
 * Inputs sit right before a PROT_NONE page (guard_copy).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/mask.h"
#include "protocol/utf8.h"
#include "testutil.h"

/* ---- the reference ------------------------------------------------------- */

/* Can the first k bytes of an n-byte sequence starting at s still become a
 * valid scalar value? Fills the unknown continuation bits with all zeros and
 * all ones to get the range of code points still reachable. */
static int ref_reachable(const uint8_t *s, int k, int n)
{
	static const uint32_t lead_bits[5] = { 0, 0, 0x1f, 0x0f, 0x07 };
	static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t lo = s[0] & lead_bits[n], hi = lo;

	for (int j = 1; j < n; j++) {
		lo = lo << 6 | (j < k ? (s[j] & 0x3fu) : 0x00);
		hi = hi << 6 | (j < k ? (s[j] & 0x3fu) : 0x3f);
	}
	if (lo < min_cp[n])
		lo = min_cp[n];
	if (hi > 0x10ffff)
		hi = 0x10ffff;
	if (lo > hi)
		return 0;		/* overlong or above U+10FFFF */
	if (lo >= 0xd800 && hi <= 0xdfff)
		return 0;		/* only surrogates left */
	return 1;
}

/*
 * Returns the index of the first byte at which p[0..i] stops being a prefix
 * of valid UTF-8, or len if there is none; *open says whether the input ends
 * inside a sequence.
 */
static size_t ref_first_bad(const uint8_t *p, size_t len, int *open)
{
	size_t i = 0;

	*open = 0;
	while (i < len) {
		uint8_t b = p[i];
		int n = b < 0x80 ? 1 : b < 0xc0 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf8 ? 4 : 0;
		if (n == 0)
			return i;
		for (int k = 1; k < n + 1 && n > 1; k++) {
			if (i + (size_t)k > len) {
				*open = 1;
				return len;
			}
			if (k > 1 && (p[i + k - 1] & 0xc0) != 0x80)
				return i + k - 1;
			if (!ref_reachable(p + i, k, n))
				return i + k - 1;
		}
		i += (size_t)n;
	}
	return len;
}

/* 1 if p[0..len) is complete valid UTF-8. */
static int ref_valid(const uint8_t *p, size_t len)
{
	int open;
	return ref_first_bad(p, len, &open) == len && !open;
}

/* ---- the implementations ------------------------------------------------- */

typedef int (*feed_fn)(uint8_t *, const uint8_t *, size_t);

struct impl {
	const char *name;
	feed_fn feed;
};

static const struct impl impls[] = {
	{ "scalar", rws_utf8_feed_scalar },
	{ "avx2", rws_utf8_feed_avx2 },
	{ "dispatch", rws_utf8_feed },
};
#define N_IMPLS (sizeof(impls) / sizeof(impls[0]))

static int n_impls;	/* 3, or 1 (scalar only) without AVX2 */

/* One guarded area per test process; place() puts input at its very end. */
#define AREA 4096
static uint8_t *area;

static void setup(void)
{
	static const uint8_t zero[AREA];
	__builtin_cpu_init();
	n_impls = __builtin_cpu_supports("avx2") ? 3 : 1;
	area = guard_copy(zero, AREA);
}

static void teardown(void)
{
	guard_free(area);
}

TestSuite(utf8, .init = setup, .fini = teardown);

static const uint8_t *place(const uint8_t *p, size_t len)
{
	cr_assert_leq(len, (size_t)AREA);
	uint8_t *d = area + AREA - len;
	memmove(d, p, len);
	return d;
}

/* Feeds p whole from ACCEPT through every implementation and checks the
 * verdict, the state's acceptance, and that all reach the same state. */
static void check_whole(const uint8_t *p, size_t len, const char *what)
{
	int open;
	size_t bad = ref_first_bad(p, len, &open);
	int want_rc = bad < len ? -1 : 0;
	int want_done = bad == len && !open;
	uint8_t first = 0;

	for (int k = 0; k < n_impls; k++) {
		uint8_t st = RWS_UTF8_ACCEPT;
		int rc = impls[k].feed(&st, p, len);
		if (rc != want_rc || (rws_utf8_finish(st) == 0) != want_done ||
		    (rc < 0) != (st == RWS_UTF8_REJECT) || (k > 0 && st != first)) {
			/* show 16 bytes from the first non-ASCII one */
			size_t from = 0;
			while (from < len && p[from] < 0x80)
				from++;
			from = from == len ? 0 : from;
			char hex[3 * 16 + 1] = "";
			for (size_t j = 0; from + j < len && j < 16; j++)
				sprintf(hex + 3 * j, "%02x ", p[from + j]);
			cr_assert_fail("%s: %s: len %zu, at %zu: [%s] rc %d (want %d) state %u "
				       "(want %s, scalar %u)", what, impls[k].name, len, from, hex,
				       rc, want_rc, st, want_done ? "accept" : "not accept", first);
		}
		if (k == 0)
			first = st;
	}
}

/* ---- named cases --------------------------------------------------------- */

struct named {
	const char *name;
	const char *bytes;
	size_t len;
	int valid;
};

#define CASE(n, s, v) { n, s, sizeof(s) - 1, v }

static const struct named named_cases[] = {
	CASE("empty", "", 1),
	CASE("ascii", "hello, world", 1),
	CASE("nul", "\x00", 1),
	CASE("2-byte", "\xc2\x80 \xdf\xbf", 1),
	CASE("3-byte", "\xe0\xa0\x80 \xef\xbf\xbf \xe2\x82\xac", 1),
	CASE("4-byte", "\xf0\x90\x80\x80 \xf4\x8f\xbf\xbf \xf0\x9f\x98\x80", 1),
	CASE("before surrogates", "\xed\x9f\xbf", 1),
	CASE("after surrogates", "\xee\x80\x80", 1),
	CASE("overlong C0 80", "\xc0\x80", 0),
	CASE("overlong C1 BF", "\xc1\xbf", 0),
	CASE("overlong E0 80 80", "\xe0\x80\x80", 0),
	CASE("overlong E0 9F BF", "\xe0\x9f\xbf", 0),
	CASE("overlong F0 80 80 80", "\xf0\x80\x80\x80", 0),
	CASE("overlong F0 8F BF BF", "\xf0\x8f\xbf\xbf", 0),
	CASE("surrogate ED A0 80", "\xed\xa0\x80", 0),
	CASE("surrogate ED BF BF", "\xed\xbf\xbf", 0),
	CASE("surrogate pair", "\xed\xa0\xbd\xed\xb2\xa9", 0),
	CASE("too large F4 90 80 80", "\xf4\x90\x80\x80", 0),
	CASE("F5", "\xf5\x80\x80\x80", 0),
	CASE("F8", "\xf8\x88\x80\x80\x80", 0),
	CASE("FF", "a\xff", 0),
	CASE("FE", "\xfe", 0),
	CASE("lone continuation", "\x80", 0),
	CASE("extra continuation", "\xc2\x80\x80", 0),
	CASE("truncated 2", "ab\xc2", 0),
	CASE("truncated 3", "ab\xe2\x82", 0),
	CASE("truncated 4", "ab\xf0\x9f\x98", 0),
	CASE("lead then ASCII", "\xe2\x82\x61", 0),
};

Test(utf8, named_cases)
{
	for (size_t c = 0; c < sizeof(named_cases) / sizeof(named_cases[0]); c++) {
		const struct named *nc = &named_cases[c];
		uint8_t *g = guard_copy(nc->bytes, nc->len);
		/* the reference agrees with the expectation written above... */
		cr_assert_eq(ref_valid(g, nc->len), nc->valid, "reference: %s", nc->name);
		/* ...and so does every implementation */
		for (int k = 0; k < n_impls; k++) {
			uint8_t st = RWS_UTF8_ACCEPT;
			int ok = impls[k].feed(&st, g, nc->len) == 0 && rws_utf8_finish(st) == 0;
			cr_assert_eq(ok, nc->valid, "%s: %s", impls[k].name, nc->name);
		}
		cr_assert_eq(rws_utf8_valid(g, nc->len) == 0, nc->valid, "valid(): %s", nc->name);
		check_whole(g, nc->len, nc->name);
		guard_free(g);
	}
}

/* A truncated sequence is fine mid-message but not at its end. */
Test(utf8, truncated_at_end)
{
	static const char *const seqs[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
	for (int k = 0; k < n_impls; k++) {
		for (size_t s = 0; s < 3; s++) {
			size_t n = strlen(seqs[s]);
			for (size_t cut = 1; cut < n; cut++) {
				uint8_t *g = guard_copy(seqs[s], cut);
				uint8_t st = RWS_UTF8_ACCEPT;
				cr_assert_eq(impls[k].feed(&st, g, cut), 0, "%s", impls[k].name);
				cr_assert_neq(st, RWS_UTF8_ACCEPT);
				cr_assert_neq(st, RWS_UTF8_REJECT);
				cr_assert_eq(rws_utf8_finish(st), -1);
				guard_free(g);
				/* the rest completes it */
				g = guard_copy(seqs[s] + cut, n - cut);
				cr_assert_eq(impls[k].feed(&st, g, n - cut), 0, "%s", impls[k].name);
				cr_assert_eq(st, RWS_UTF8_ACCEPT);
				guard_free(g);
			}
		}
	}
}

/* REJECT is sticky, and a call fed REJECT fails even on valid bytes. */
Test(utf8, reject_is_sticky)
{
	for (int k = 0; k < n_impls; k++) {
		uint8_t st = RWS_UTF8_ACCEPT;
		uint8_t *g = guard_copy("\xff", 1);
		cr_assert_eq(impls[k].feed(&st, g, 1), -1);
		cr_assert_eq(st, RWS_UTF8_REJECT);
		guard_free(g);
		g = guard_copy("plain ascii text, long enough for a vector block.", 50);
		cr_assert_eq(impls[k].feed(&st, g, 50), -1, "%s", impls[k].name);
		cr_assert_eq(st, RWS_UTF8_REJECT);
		cr_assert_eq(impls[k].feed(&st, g, 0), -1, "%s", impls[k].name);
		guard_free(g);
	}
}

/* ---- exhaustive short sequences ------------------------------------------ */

Test(utf8, every_1_and_2_byte_sequence)
{
	uint8_t *g1 = guard_copy("x", 1);
	uint8_t *g2 = guard_copy("xx", 2);
	for (unsigned a = 0; a < 256; a++) {
		g1[0] = (uint8_t)a;
		check_whole(g1, 1, "1-byte");
		for (unsigned b = 0; b < 256; b++) {
			g2[0] = (uint8_t)a;
			g2[1] = (uint8_t)b;
			check_whole(g2, 2, "2-byte");
		}
	}
	guard_free(g1);
	guard_free(g2);
}

static void every_3_byte(unsigned lead_lo, unsigned lead_hi)
{
	uint8_t *g = guard_copy("xxx", 3);
	for (unsigned a = lead_lo; a <= lead_hi; a++)
		for (unsigned b = 0; b < 256; b++)
			for (unsigned c = 0; c < 256; c++) {
				g[0] = (uint8_t)a;
				g[1] = (uint8_t)b;
				g[2] = (uint8_t)c;
				check_whole(g, 3, "3-byte");
			}
	guard_free(g);
}

/* All 2^24, in two halves so the runner can spread them over cores. */
Test(utf8, every_3_byte_sequence_lo) { every_3_byte(0x00, 0x7f); }
Test(utf8, every_3_byte_sequence_hi) { every_3_byte(0x80, 0xff); }

/* Candidates for the bytes after a 4-byte lead: every continuation byte and
 * representatives of every other class. */
static size_t rep_bytes(uint8_t *out)
{
	static const uint8_t others[] = {
		0x00, 0x41, 0x7f, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef,
		0xf0, 0xf1, 0xf4, 0xf5, 0xf7, 0xf8, 0xff,
	};
	size_t n = 0;
	for (unsigned b = 0x80; b <= 0xbf; b++)
		out[n++] = (uint8_t)b;
	memcpy(out + n, others, sizeof(others));
	return n + sizeof(others);
}

static void every_4_byte(unsigned lead_lo, unsigned lead_hi)
{
	uint8_t rep[128];
	size_t nrep = rep_bytes(rep);
	uint8_t *g = guard_copy("xxxx", 4);
	for (unsigned a = lead_lo; a <= lead_hi; a++)
		for (size_t b = 0; b < nrep; b++)
			for (size_t c = 0; c < nrep; c++)
				for (size_t d = 0; d < nrep; d++) {
					g[0] = (uint8_t)a;
					g[1] = rep[b];
					g[2] = rep[c];
					g[3] = rep[d];
					check_whole(g, 4, "4-byte");
				}
	guard_free(g);
}

Test(utf8, every_4_byte_sequence_f0_f3) { every_4_byte(0xf0, 0xf3); }
Test(utf8, every_4_byte_sequence_f4_f7) { every_4_byte(0xf4, 0xf7); }

/* ---- the same inside ASCII, where the vector code sees them ---------------- */

/* Two buffer lengths: 96 is three whole blocks; 101 leaves a 5-byte tail
 * after them, so a sequence can straddle into it. The offsets put the
 * sequence at block edges and at the very end, cut short there. */
static const size_t emb_lens[] = { 96, 101 };
static const size_t emb_offsets[] = { 0, 1, 29, 30, 31, 32, 33, 62, 63, 64, 92, 93, 94, 95 };
#define N_EMB (sizeof(emb_offsets) / sizeof(emb_offsets[0]))

/* Places seq at offset off of an ASCII buffer of emb_len bytes ending at the
 * guard page; the sequence is cut short if it runs past the end. */
static void check_embedded_at(const uint8_t *seq, size_t n, size_t emb_len, size_t off)
{
	uint8_t *g = area + AREA - emb_len;
	memset(g, 'a', emb_len);
	size_t fit = n < emb_len - off ? n : emb_len - off;
	memcpy(g + off, seq, fit);
	check_whole(g, emb_len, "embedded");
}

static void check_embedded(const uint8_t *seq, size_t n)
{
	for (size_t l = 0; l < sizeof(emb_lens) / sizeof(emb_lens[0]); l++) {
		for (size_t o = 0; o < N_EMB; o++)
			check_embedded_at(seq, n, emb_lens[l], emb_offsets[o]);
		for (size_t back = 1; back <= 4; back++)
			check_embedded_at(seq, n, emb_lens[l], emb_lens[l] - back);
	}
}

Test(utf8, embedded_1_and_2_byte)
{
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++) {
			uint8_t seq[2] = { (uint8_t)a, (uint8_t)b };
			check_embedded(seq, 2);
		}
}

Test(utf8, embedded_3_byte)
{
	uint8_t rep[128];
	size_t nrep = rep_bytes(rep);
	for (unsigned a = 0x80; a < 256; a++)
		for (size_t b = 0; b < nrep; b++)
			for (size_t c = 0; c < nrep; c += (a < 0xe0 ? 7 : 1)) {
				uint8_t seq[3] = { (uint8_t)a, rep[b], rep[c] };
				check_embedded(seq, 3);
			}
}

Test(utf8, embedded_4_byte)
{
	/* a smaller candidate set: the class edges and a few inside */
	static const uint8_t rep[] = {
		0x00, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x9f, 0xa0, 0xaa, 0xbf,
		0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff,
	};
	for (unsigned a = 0xf0; a <= 0xf7; a++)
		for (size_t b = 0; b < sizeof(rep); b++)
			for (size_t c = 0; c < sizeof(rep); c++)
				for (size_t d = 0; d < sizeof(rep); d++) {
					uint8_t seq[4] = { (uint8_t)a, rep[b], rep[c], rep[d] };
					check_embedded(seq, 4);
				}
}

/* ---- random text ------------------------------------------------------- */

static size_t put_cp(uint8_t *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* A random scalar value, weighted towards ASCII and the range edges. */
static uint32_t rand_cp(uint64_t *seed)
{
	static const uint32_t edges[] = {
		0, 0x7f, 0x80, 0x7ff, 0x800, 0xfff, 0x1000, 0xd7ff, 0xe000,
		0xfffd, 0xffff, 0x10000, 0x3ffff, 0x40000, 0xfffff, 0x100000, 0x10ffff,
	};
	uint64_t r = test_rand(seed);
	switch (r % 8) {
	case 0: case 1: case 2: case 3:
		return (uint32_t)(r >> 8) % 0x80;
	case 4:
		return 0x80 + (uint32_t)(r >> 8) % (0x800 - 0x80);
	case 5: {
		uint32_t cp = 0x800 + (uint32_t)(r >> 8) % (0x10000 - 0x800 - 0x800);
		return cp < 0xd800 ? cp : cp + 0x800;
	}
	case 6:
		return 0x10000 + (uint32_t)(r >> 8) % 0x100000;
	default:
		return edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))];
	}
}

static size_t rand_text(uint8_t *out, size_t max, uint64_t *seed)
{
	size_t n = 0;
	while (n + 4 <= max) {
		if (test_rand(seed) % 5 == 0) {		/* an ASCII run */
			size_t run = (size_t)(test_rand(seed) % 80);
			for (size_t j = 0; j < run && n < max; j++)
				out[n++] = (uint8_t)(' ' + test_rand(seed) % 95);
			continue;
		}
		n += put_cp(out + n, rand_cp(seed));
	}
	return n;
}

/* Damages valid text the ways a broken peer would. */
static size_t mutate(uint8_t *p, size_t len, size_t max, uint64_t *seed)
{
	int edits = 1 + (int)(test_rand(seed) % 3);
	while (edits-- > 0 && len > 0) {
		size_t at = (size_t)(test_rand(seed) % len);
		switch (test_rand(seed) % 5) {
		case 0:		/* flip a bit */
			p[at] ^= (uint8_t)(1u << (test_rand(seed) % 8));
			break;
		case 1:		/* a random byte */
			p[at] = (uint8_t)test_rand(seed);
			break;
		case 2:		/* drop a byte */
			memmove(p + at, p + at + 1, len - at - 1);
			len--;
			break;
		case 3:		/* insert a byte from the interesting ones */
			if (len < max) {
				static const uint8_t ins[] = { 0x80, 0xbf, 0xc0, 0xc2, 0xe0,
							       0xed, 0xf0, 0xf4, 0xf5, 0xff };
				memmove(p + at + 1, p + at, len - at);
				p[at] = ins[test_rand(seed) % sizeof(ins)];
				len++;
			}
			break;
		default:	/* cut the end */
			len = at;
			break;
		}
	}
	return len;
}

/* Feeds p in the pieces ending at cuts[0..ncuts) (the last being len) and
 * checks each call against the reference: the call holding the first bad
 * byte, and every later one, returns -1; earlier calls return 0. */
static void check_pieces(const struct impl *im, const uint8_t *p, size_t len,
			 const size_t *cuts, size_t ncuts, const char *what)
{
	int open;
	size_t bad = ref_first_bad(p, len, &open);
	uint8_t st = RWS_UTF8_ACCEPT;
	size_t at = 0;

	for (size_t c = 0; c < ncuts; c++) {
		size_t end = cuts[c];
		int rc = im->feed(&st, place(p + at, end - at), end - at);
		int want = bad < end ? -1 : 0;
		if (rc != want)
			cr_assert_fail("%s: %s: piece [%zu, %zu) of %zu returned %d, want %d "
				       "(first bad byte at %zu)", what, im->name, at, end, len,
				       rc, want, bad);
		at = end;
	}
	int done = bad == len && !open;
	cr_assert_eq(rws_utf8_finish(st) == 0, done, "%s: %s: finish, len %zu",
		     what, im->name, len);
}

#define RLEN 300

static void random_round(uint8_t *buf, size_t len, uint64_t *seed, int split_every)
{
	check_whole(place(buf, len), len, "random");

	for (int k = 0; k < n_impls; k++) {
		size_t cuts[RLEN + 2];
		if (split_every) {
			for (size_t s = 0; s <= len; s++) {
				size_t two[2] = { s, len };
				check_pieces(&impls[k], buf, len, two, 2, "split");
			}
		}
		/* random pieces, with an empty one at each end */
		size_t n = 0, at = 0;
		cuts[n++] = 0;
		while (at < len) {
			size_t step = 1 + (size_t)(test_rand(seed) % 70);
			at = at + step > len ? len : at + step;
			cuts[n++] = at;
		}
		cuts[n++] = len;
		check_pieces(&impls[k], buf, len, cuts, n, "random pieces");
	}
}

Test(utf8, random_bytes)
{
	uint64_t seed = 0x72616e64ull;
	uint8_t buf[RLEN];
	for (int round = 0; round < 3000; round++) {
		size_t len = (size_t)(test_rand(&seed) % RLEN);
		/* mostly ASCII with some high bytes, or anything at all */
		int dense = round & 1;
		for (size_t j = 0; j < len; j++) {
			uint64_t r = test_rand(&seed);
			buf[j] = dense || r % 16 == 0 ? (uint8_t)(r >> 32) : (uint8_t)(r >> 32) & 0x7f;
		}
		random_round(buf, len, &seed, round < 300);
	}
}

Test(utf8, random_valid_text)
{
	uint64_t seed = 0x76616c6964ull;
	uint8_t buf[RLEN];
	for (int round = 0; round < 3000; round++) {
		size_t len = rand_text(buf, (size_t)(test_rand(&seed) % RLEN), &seed);
		cr_assert(ref_valid(buf, len), "generator made invalid text");
		random_round(buf, len, &seed, round < 300);
	}
}

Test(utf8, mutated_text)
{
	uint64_t seed = 0x6d757461ull;
	uint8_t buf[RLEN + 8];
	int invalid = 0;
	for (int round = 0; round < 4000; round++) {
		size_t len = rand_text(buf, (size_t)(test_rand(&seed) % RLEN), &seed);
		len = mutate(buf, len, RLEN, &seed);
		invalid += !ref_valid(buf, len);
		random_round(buf, len, &seed, round < 300);
	}
	/* the mutations do make invalid text */
	cr_assert_gt(invalid, 1000);
}

/* A byte at a time: each call's verdict is exactly the prefix's. */
Test(utf8, one_byte_at_a_time)
{
	uint64_t seed = 0x6f6e65ull;
	uint8_t buf[RLEN + 8];
	size_t cuts[RLEN + 8];
	for (int round = 0; round < 1000; round++) {
		size_t len = rand_text(buf, (size_t)(test_rand(&seed) % RLEN), &seed);
		if (round & 1)
			len = mutate(buf, len, RLEN, &seed);
		for (size_t j = 0; j < len; j++)
			cuts[j] = j + 1;
		for (int k = 0; k < n_impls; k++)
			check_pieces(&impls[k], buf, len, cuts, len, "bytewise");
	}
}

/* Fail fast: a bad byte deep in a long chunk is reported by that chunk, not
 * at the end of the message, and not by an earlier chunk. */
Test(utf8, fail_fast)
{
	static const char *const bad[] = { "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff",
					   "\x80", "\xe2\x82\x61" };
	uint8_t buf[4096];
	for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		for (size_t pos = 0; pos < 300; pos += 7) {
			memset(buf, 'x', sizeof(buf));
			memcpy(buf + 1000 + pos, bad[b], strlen(bad[b]));
			for (int k = 0; k < n_impls; k++) {
				uint8_t st = RWS_UTF8_ACCEPT;
				cr_assert_eq(impls[k].feed(&st, place(buf, 1000), 1000), 0);
				cr_assert_eq(impls[k].feed(&st, place(buf + 1000, 2000), 2000), -1,
					     "%s: bad %zu at %zu not reported", impls[k].name, b, pos);
				cr_assert_eq(st, RWS_UTF8_REJECT);
			}
		}
	}
}

/* The dispatcher and rws_utf8_valid follow the choice made at start-up. */
Test(utf8, dispatch)
{
	cr_assert_eq(rws_cpu_has_avx2() && n_impls == 1, 0);
	uint8_t text[200];
	for (size_t j = 0; j < sizeof(text); j++)
		text[j] = (uint8_t)('a' + j % 26);
	memcpy(text + 100, "\xe2\x82\xac", 3);
	uint8_t *g = guard_copy(text, sizeof(text));
	cr_assert_eq(rws_utf8_valid(g, sizeof(text)), 0);
	cr_assert_eq(rws_utf8_valid(g, 101), -1);
	g[150] = 0xc0;
	cr_assert_eq(rws_utf8_valid(g, sizeof(text)), -1);
	guard_free(g);
}
