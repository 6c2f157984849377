/*
 * utf8: see utf8.h. Incremental UTF-8 validation for text messages.
 *
 * Both paths first ask whether a chunk that starts at a code point boundary
 * is all ASCII, since most text messages are: a few loads ORed together and
 * one test of the high bits, with the tail covered by loads that overlap
 * bytes already seen instead of a byte loop. Only a chunk that fails that
 * test, or starts inside a sequence, goes further.
 *
 * Scalar path: a DFA built from RFC 3629's table of well-formed byte
 * sequences. Its state says how many continuation bytes are still owed and,
 * right after the leads E0, ED, F0 and F4, which narrower range the next one
 * must come from; that state is the byte carried between calls. It is
 * shift-based (a byte's row holds every state's successor in 6-bit fields),
 * so a step costs one shift. It takes 16 bytes per round; between rounds,
 * a boundary followed by ASCII starts a skip over the run, words at a time.
 *
 * AVX2 path: the nibble-lookup validator of Keiser and Lemire, "Validating
 * UTF-8 In Less Than One Instruction Per Byte" (2021). Every error but one
 * shows in a pair of adjacent bytes, and is a product of a condition on the
 * first byte's high nibble, its low nibble and the second byte's high nibble:
 * three 16-entry shuffles ANDed together leave a bit set per error kind. The
 * exception is a continuation byte's count: whether a byte must be the 2nd or
 * 3rd continuation depends on the bytes two and three back, and XORing that
 * against the "continuation after continuation" bit catches too many and too
 * few. The bytes one, two and three back are read with unaligned loads from
 * the input itself rather than spliced from the previous block with lane
 * shuffles, which frees the shuffle ports for the lookups; only a run's first
 * block, whose predecessors may lie outside the chunk, is spliced onto zeros.
 *
 * Incremental use of the vector code: the scalar DFA first closes a sequence
 * left open by the previous call, so the vector code always starts at a code
 * point boundary; the vector code then covers the rest, the last block
 * overlapping the one before it, without demanding that the input ends
 * complete; finally the DFA restarts at the lead of the last (possibly open)
 * sequence and runs to the end of the chunk, at most three bytes, which
 * yields the exact state to carry.
 */
#include "protocol/utf8.h"
#include "protocol/mask.h"

#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2")))
#define LIKELY(x) __builtin_expect(!!(x), 1)

/* ---- the scalar DFA ------------------------------------------------------ */

/*
 * States, as indices. The byte handed to callers is the same index with 0
 * and 1 swapped, so that RWS_UTF8_ACCEPT is 0 and RWS_UTF8_REJECT is 1; here
 * REJECT is 0 so that every transition left out of the rows below rejects.
 */
enum {
	Q_REJ,		/* an invalid byte was seen */
	Q_ACC,		/* at a code point boundary */
	Q_CONT1,	/* one more of 80..BF */
	Q_CONT2,	/* two more */
	Q_CONT3,	/* three more */
	Q_E0,		/* A0..BF, then one more (no overlong 3-byte form) */
	Q_ED,		/* 80..9F, then one more (no surrogates) */
	Q_F0,		/* 90..BF, then two more (no overlong 4-byte form) */
	Q_F4,		/* 80..8F, then two more (nothing above U+10FFFF) */
	N_STATES
};

/*
 * A shift-based DFA: each byte value maps to a 64-bit row holding, in 6-bit
 * field number q, the bit offset (6 * next state) of the state that follows
 * state q on that byte. A step shifts the byte's row right by the current
 * offset; the offset is the low 6 bits of the previous result, and x86
 * shifts use only those bits of the count, so the compiler drops the mask
 * and the chain from byte to byte is one shift. T(q, r) is "q goes to r".
 */
#define T(q, r) ((uint64_t)(6 * (r)) << (6 * (q)))

#define ROW_ASCII	T(Q_ACC, Q_ACC)
#define ROW_CONT_ANY	(T(Q_CONT1, Q_ACC) | T(Q_CONT2, Q_CONT1) | T(Q_CONT3, Q_CONT2))
#define ROW_80_8F	(ROW_CONT_ANY | T(Q_ED, Q_CONT1) | T(Q_F4, Q_CONT2))
#define ROW_90_9F	(ROW_CONT_ANY | T(Q_ED, Q_CONT1) | T(Q_F0, Q_CONT2))
#define ROW_A0_BF	(ROW_CONT_ANY | T(Q_E0, Q_CONT1) | T(Q_F0, Q_CONT2))
#define ROW_NEVER	0	/* C0, C1, F5..FF */

static const uint64_t byte_row[256] = {
	[0x00 ... 0x7f] = ROW_ASCII,
	[0x80 ... 0x8f] = ROW_80_8F,
	[0x90 ... 0x9f] = ROW_90_9F,
	[0xa0 ... 0xbf] = ROW_A0_BF,
	[0xc0 ... 0xc1] = ROW_NEVER,
	[0xc2 ... 0xdf] = T(Q_ACC, Q_CONT1),
	[0xe0] = T(Q_ACC, Q_E0),
	[0xe1 ... 0xec] = T(Q_ACC, Q_CONT2),
	[0xed] = T(Q_ACC, Q_ED),
	[0xee ... 0xef] = T(Q_ACC, Q_CONT2),
	[0xf0] = T(Q_ACC, Q_F0),
	[0xf1 ... 0xf3] = T(Q_ACC, Q_CONT3),
	[0xf4] = T(Q_ACC, Q_F4),
	[0xf5 ... 0xff] = ROW_NEVER,
};

#undef T

#define OFF_REJ (6 * Q_REJ)
#define OFF_ACC (6 * Q_ACC)

/* The caller's state byte and the bit offset used inside, both ways. */
static inline unsigned off_of_state(uint8_t s)
{
	unsigned q = s < 2 ? s ^ 1u : s;
	return q < N_STATES ? 6 * q : OFF_REJ;
}

static inline uint8_t state_of_off(unsigned off)
{
	unsigned q = off / 6;
	return (uint8_t)(q < 2 ? q ^ 1u : q);
}

/* Takes and returns a word whose low 6 bits are the offset. */
static inline uint64_t dfa_step(uint64_t s, uint8_t b)
{
	return byte_row[b] >> (s & 63);
}

#define HIGH_BITS 0x8080808080808080ull

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t w;
	memcpy(&w, p, 4);
	return w;
}

static inline int ascii_32(const uint8_t *p)
{
	return !((load64(p) | load64(p + 8) | load64(p + 16) | load64(p + 24)) & HIGH_BITS);
}

/* Is p[0..len) ASCII, for len <= 32? Two loads from each end cover it;
 * where they overlap, bytes are simply tested twice. */
static inline int ascii_short(const uint8_t *p, size_t len)
{
	uint64_t w;

	if (len >= 16)
		w = load64(p) | load64(p + 8) | load64(p + len - 16) | load64(p + len - 8);
	else if (len >= 8)
		w = load64(p) | load64(p + len - 8);
	else if (len >= 4)
		w = load32(p) | load32(p + len - 4);
	else if (len > 0)
		w = p[0] | p[len / 2] | p[len - 1];
	else
		return 1;
	return (w & HIGH_BITS) == 0;
}

/*
 * Runs the DFA over p[0..len) from bit offset `off`; returns the offset
 * reached, OFF_REJ if a byte was refused (the DFA never leaves OFF_REJ).
 * The DFA takes 16 bytes at a time; between those, a boundary followed by
 * 16 bytes of ASCII starts a skip over the run, 32 bytes at a time. The two
 * conditions are tested with one branch, which in text that is not mostly
 * ASCII is reliably not taken.
 */
static unsigned dfa_run(unsigned off, const uint8_t *p, size_t len)
{
	uint64_t s = off;
	size_t i = 0;

	while (len - i >= 16) {
		int ascii16 = !((load64(p + i) | load64(p + i + 8)) & HIGH_BITS);
		if (((s & 63) == OFF_ACC) & ascii16) {
			i += 16;
			while (len - i >= 32 && ascii_32(p + i))
				i += 32;
			continue;
		}
		/* unrolled: a 16-trip inner loop mispredicts its exit */
#pragma GCC unroll 16
		for (int k = 0; k < 16; k++)
			s = dfa_step(s, p[i + k]);
		i += 16;
		if ((s & 63) == OFF_REJ)
			return OFF_REJ;
	}
	for (; i < len; i++)
		s = dfa_step(s, p[i]);
	return (unsigned)s & 63;
}

int rws_utf8_feed_scalar(uint8_t *state, const uint8_t *p, size_t len)
{
	if (LIKELY(*state == RWS_UTF8_ACCEPT)) {
		if (len <= 32) {
			if (ascii_short(p, len))
				return 0;
		} else {
			/* 32 bytes per test, the last test overlapping */
			size_t i = 0;
			while (len - i > 32 && ascii_32(p + i))
				i += 32;
			if (len - i <= 32 && ascii_32(p + len - 32))
				return 0;
			p += i;
			len -= i;
		}
	}

	unsigned off = off_of_state(*state);

	if (off != OFF_REJ)
		off = dfa_run(off, p, len);
	*state = state_of_off(off);
	return off == OFF_REJ ? -1 : 0;
}

/* ---- the AVX2 validator -------------------------------------------------- */

/* Error kinds, one bit each, for a pair (previous byte, current byte). */
#define E_TOO_SHORT	0x01	/* lead, then no continuation */
#define E_TOO_LONG	0x02	/* ASCII, then a continuation */
#define E_OVERLONG_3	0x04	/* E0, then 80..9F */
#define E_TOO_LARGE	0x08	/* F4..FF, then 90..BF */
#define E_SURROGATE	0x10	/* ED, then A0..BF */
#define E_OVERLONG_2	0x20	/* C0 or C1, then a continuation */
#define E_4_80		0x40	/* F0 or F5..FF, then 80..8F: overlong or too large */
#define E_TWO_CONTS	0x80	/* continuation, then continuation */

/* The conditions each nibble satisfies; a pair is bad where all three agree.
 * Indexed by the previous byte's high nibble, its low nibble, and the
 * current byte's high nibble. Each table is stored twice over, once per
 * 128-bit lane, as vpshufb wants it, so that one aligned load fetches it. */
#define ANY_LOW (E_TOO_SHORT | E_TOO_LONG | E_TWO_CONTS)
#define LANES(lo, hi, v) [lo ... hi] = (v), [16 + (lo) ... 16 + (hi)] = (v)

static const uint8_t prev_high_tab[32] __attribute__((aligned(32))) = {
	LANES(0x0, 0x7, E_TOO_LONG),
	LANES(0x8, 0xb, E_TWO_CONTS),
	LANES(0xc, 0xc, E_TOO_SHORT | E_OVERLONG_2),
	LANES(0xd, 0xd, E_TOO_SHORT),
	LANES(0xe, 0xe, E_TOO_SHORT | E_OVERLONG_3 | E_SURROGATE),
	LANES(0xf, 0xf, E_TOO_SHORT | E_TOO_LARGE | E_4_80),
};

static const uint8_t prev_low_tab[32] __attribute__((aligned(32))) = {
	LANES(0x0, 0x0, ANY_LOW | E_OVERLONG_3 | E_OVERLONG_2 | E_4_80),
	LANES(0x1, 0x1, ANY_LOW | E_OVERLONG_2),
	LANES(0x2, 0x3, ANY_LOW),
	LANES(0x4, 0x4, ANY_LOW | E_TOO_LARGE),
	LANES(0x5, 0xc, ANY_LOW | E_TOO_LARGE | E_4_80),
	LANES(0xd, 0xd, ANY_LOW | E_TOO_LARGE | E_4_80 | E_SURROGATE),
	LANES(0xe, 0xf, ANY_LOW | E_TOO_LARGE | E_4_80),
};

static const uint8_t cur_high_tab[32] __attribute__((aligned(32))) = {
	LANES(0x0, 0x7, E_TOO_SHORT),
	LANES(0x8, 0x8, E_TOO_LONG | E_OVERLONG_3 | E_OVERLONG_2 | E_4_80 | E_TWO_CONTS),
	LANES(0x9, 0x9, E_TOO_LONG | E_OVERLONG_3 | E_OVERLONG_2 | E_TOO_LARGE | E_TWO_CONTS),
	LANES(0xa, 0xb, E_TOO_LONG | E_OVERLONG_2 | E_TOO_LARGE | E_SURROGATE | E_TWO_CONTS),
	LANES(0xc, 0xf, E_TOO_SHORT),
};

#undef LANES
#undef ANY_LOW

#define LOAD(p) _mm256_loadu_si256((const __m256i *)(p))

/* Constants for check(), loaded once per call. */
struct vconst {
	__m256i prev_high, prev_low, cur_high, low4, third, fourth, top;
};

AVX2 static inline struct vconst vconst_load(void)
{
	struct vconst c = {
		LOAD(prev_high_tab), LOAD(prev_low_tab), LOAD(cur_high_tab),
		_mm256_set1_epi8(0x0f),
		_mm256_set1_epi8((char)(0xe0 - 0x80)),
		_mm256_set1_epi8((char)(0xf0 - 0x80)),
		_mm256_set1_epi8((char)0x80),
	};
	return c;
}

/* The error bits for the 32 bytes `cur`, given the bytes one, two and three
 * positions before each of them. */
AVX2 static inline __m256i check(const struct vconst *c, __m256i cur, __m256i prev1,
				 __m256i prev2, __m256i prev3)
{
	__m256i p1_high = _mm256_and_si256(_mm256_srli_epi16(prev1, 4), c->low4);
	__m256i p1_low = _mm256_and_si256(prev1, c->low4);
	__m256i c_high = _mm256_and_si256(_mm256_srli_epi16(cur, 4), c->low4);
	__m256i pair = _mm256_and_si256(
		_mm256_and_si256(_mm256_shuffle_epi8(c->prev_high, p1_high),
				 _mm256_shuffle_epi8(c->prev_low, p1_low)),
		_mm256_shuffle_epi8(c->cur_high, c_high));

	/* bit 7 where the byte two back is E0..FF or the byte three back
	 * F0..FF: this byte must be a continuation after a continuation */
	__m256i must23 = _mm256_and_si256(
		_mm256_or_si256(_mm256_subs_epu8(prev2, c->third),
				_mm256_subs_epu8(prev3, c->fourth)),
		c->top);
	return _mm256_xor_si256(pair, must23);
}

/* check() for the block at p, whose three preceding bytes are readable and
 * are the real ones. */
AVX2 static inline __m256i check_at(const struct vconst *c, const uint8_t *p, __m256i cur)
{
	return check(c, cur, LOAD(p - 1), LOAD(p - 2), LOAD(p - 3));
}

/* check() for a run's first block, at a code point boundary: whatever came
 * before counts as ASCII. vpalignr shifts within 128-bit lanes, so zeros are
 * spliced under cur's low lane first. */
AVX2 static inline __m256i check_first(const struct vconst *c, __m256i cur)
{
	__m256i spliced = _mm256_permute2x128_si256(cur, cur, 0x08);
	return check(c, cur, _mm256_alignr_epi8(cur, spliced, 15),
		     _mm256_alignr_epi8(cur, spliced, 14), _mm256_alignr_epi8(cur, spliced, 13));
}

/* Nonzero if the 32 bytes `prev` end inside a sequence: a lead in one of
 * their last three bytes that needs more bytes than are left. Needed where
 * unchecked ASCII or the end of the input follows, since check() sees a
 * lead cut short by anything else. */
AVX2 static inline __m256i ends_open(__m256i prev)
{
	const __m256i max_end = _mm256_setr_epi8(
		-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
		-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
		(char)(0xf0 - 1), (char)(0xe0 - 1), (char)(0xc0 - 1));
	return _mm256_subs_epu8(prev, max_end);
}

AVX2 static inline int is_ascii(__m256i v)
{
	return _mm256_movemask_epi8(v) == 0;
}

AVX2 static inline int all_zero(__m256i v)
{
	return _mm256_testz_si256(v, v);
}

/*
 * Validates q[0..m), m >= 32, which starts at a code point boundary.
 * Returns -1 if the bytes are invalid, else the offset where the DFA must
 * take over from ACCEPT: the lead of a sequence still open where the checked
 * bytes end, or else their end. That is m, except when m is 33 or 34: the
 * overlapping last block would need predecessors from before q, so the DFA
 * gets the last byte or two.
 */
AVX2 static ptrdiff_t vector_run(const uint8_t *q, size_t m)
{
	const struct vconst c = vconst_load();
	__m256i error = check_first(&c, LOAD(q));
	size_t i = 32;

	for (; m - i >= 32; i += 32) {
		__m256i a = LOAD(q + i);
		/* an ASCII block needs no check, only that the block before it
		 * leaves no sequence open */
		if (is_ascii(a))
			error = _mm256_or_si256(error, ends_open(LOAD(q + i - 32)));
		else
			error = _mm256_or_si256(error, check_at(&c, q + i, a));
	}
	/* the rest: the last 32 bytes, overlapping checked ones; checking
	 * them with their real predecessors also refuses a sequence that the
	 * block before left open */
	if (i < m && m >= 35) {
		error = _mm256_or_si256(error, check_at(&c, q + m - 32, LOAD(q + m - 32)));
		i = m;
	}
	if (!all_zero(error))
		return -1;
	if (all_zero(ends_open(LOAD(q + i - 32))))
		return (ptrdiff_t)i;

	/* reopen the last sequence; no error means the bytes after its lead
	 * are continuations, so one of these holds */
	if (q[i - 1] >= 0xc0)
		return (ptrdiff_t)(i - 1);
	if (q[i - 2] >= 0xe0)
		return (ptrdiff_t)(i - 2);
	return (ptrdiff_t)(i - 3);
}

AVX2 static inline __m256i or_128(const uint8_t *p)
{
	return _mm256_or_si256(_mm256_or_si256(LOAD(p), LOAD(p + 32)),
			       _mm256_or_si256(LOAD(p + 64), LOAD(p + 96)));
}

/*
 * For len >= 32 at a boundary: 1 if p[0..len) is ASCII. Up to 256 bytes
 * take one test: four loads up from the start and four down from the end,
 * or two and two below 128 bytes, or one and one below 64, overlapping
 * where they meet. Longer input is tested 256 bytes at a time, the last
 * test overlapping.
 */
AVX2 static inline int ascii_long(const uint8_t *p, size_t len)
{
	const uint8_t *e = p + len;
	__m256i v;

	if (LIKELY(len - 128 <= 128)) {
		v = _mm256_or_si256(or_128(p), or_128(e - 128));
	} else if (len < 128) {
		v = _mm256_or_si256(LOAD(p), LOAD(e - 32));
		if (len > 64)
			v = _mm256_or_si256(v, _mm256_or_si256(LOAD(p + 32), LOAD(e - 64)));
	} else {
		do {
			if (!is_ascii(_mm256_or_si256(or_128(p), or_128(p + 128))))
				return 0;
			p += 256;
		} while (e - p > 256);
		v = _mm256_or_si256(or_128(e - 256), or_128(e - 128));
	}
	return is_ascii(v);
}

#undef LOAD

/* p[0..len), len >= 32, from a boundary: the vector code, then the DFA
 * from where it stopped. Out of line, so that the all-ASCII path in the
 * caller needs no stack frame and loads no tables. */
AVX2 __attribute__((noinline)) static int feed_vector(uint8_t *state, const uint8_t *p,
						       size_t len)
{
	ptrdiff_t k = vector_run(p, len);
	unsigned off = OFF_ACC;

	if (k < 0)
		off = OFF_REJ;
	else if ((size_t)k < len)
		off = dfa_run(OFF_ACC, p + k, len - k);
	*state = state_of_off(off);
	return off == OFF_REJ ? -1 : 0;
}

/* A chunk that starts inside a sequence (or after a refusal), or at a
 * boundary but shorter than 32 bytes and not all ASCII: the DFA closes the
 * open sequence, then the vector code or the DFA takes the rest. */
AVX2 __attribute__((noinline)) static int feed_general(uint8_t *state, const uint8_t *p,
							size_t len)
{
	unsigned off = off_of_state(*state);
	size_t i = 0;

	while (off != OFF_ACC && off != OFF_REJ && i < len)
		off = (unsigned)dfa_step(off, p[i++]) & 63;
	if (off == OFF_ACC && len - i >= 32)
		return feed_vector(state, p + i, len - i);
	if (off == OFF_ACC)
		off = dfa_run(off, p + i, len - i);
	*state = state_of_off(off);
	return off == OFF_REJ ? -1 : 0;
}

/* The common case, a boundary and nothing but ASCII, stays in this
 * function. Aligned so that this path's code always takes the
 * same number of 64-byte fetch windows: otherwise its speed on short
 * messages would depend on where the linker happened to put it. */
AVX2 __attribute__((aligned(64))) int rws_utf8_feed_avx2(uint8_t *state, const uint8_t *p,
							 size_t len)
{
	if (LIKELY(*state == RWS_UTF8_ACCEPT)) {
		if (LIKELY(len >= 32)) {
			if (LIKELY(ascii_long(p, len)))
				return 0;
			return feed_vector(state, p, len);
		}
		if (ascii_short(p, len))
			return 0;
	}
	return feed_general(state, p, len);
}

/* ---- dispatch ------------------------------------------------------------ */

/* Copied from rws_cpu_has_avx2() before main(); read-only afterwards. A
 * plain flag rather than a function pointer, so a call costs one predicted
 * branch, not an indirect call. */
static int use_avx2;

__attribute__((constructor)) static void choose_impl(void)
{
	use_avx2 = rws_cpu_has_avx2();
}

int rws_utf8_feed(uint8_t *state, const uint8_t *p, size_t len)
{
	if (LIKELY(use_avx2))
		return rws_utf8_feed_avx2(state, p, len);
	return rws_utf8_feed_scalar(state, p, len);
}

int rws_utf8_valid(const uint8_t *p, size_t len)
{
	uint8_t st = RWS_UTF8_ACCEPT;

	if (rws_utf8_feed(&st, p, len) != 0)
		return -1;
	return rws_utf8_finish(st);
}
