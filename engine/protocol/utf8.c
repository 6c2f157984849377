/*
 * utf8: see utf8.h. Incremental UTF-8 validation for text messages.
 *
 * Scalar path: a DFA built from RFC 3629's table of well-formed byte
 * sequences. Its state says how many continuation bytes are still owed and,
 * right after the leads E0, ED, F0 and F4, which narrower range the next one
 * must come from; that state is the byte carried between calls. It is
 * shift-based (a byte's row holds every state's successor in 6-bit fields),
 * so a step costs one shift. Runs of ASCII at a code point boundary are
 * skipped a word at a time.
 *
 * AVX2 path: the nibble-lookup validator of Keiser and Lemire, "Validating
 * UTF-8 In Less Than One Instruction Per Byte" (2021). Every error but one
 * shows in a pair of adjacent bytes, and is a product of a condition on the
 * first byte's high nibble, its low nibble and the second byte's high nibble:
 * three 16-entry shuffles ANDed together leave a bit set per error kind. The
 * exception is a continuation byte's count: whether a byte must be the 2nd or
 * 3rd continuation depends on the bytes two and three back, and XORing that
 * against the "continuation after continuation" bit catches too many and too
 * few. Pure ASCII blocks skip all of it.
 *
 * Incremental use of the vector code: the scalar DFA first closes a sequence
 * left open by the previous call, so the vector code always starts at a code
 * point boundary; the vector code then covers whole 32-byte blocks without
 * demanding that the last one ends complete; finally the DFA restarts at the
 * lead of the last (possibly open) sequence and runs to the end of the
 * chunk, which yields the exact state to carry. A chunk that starts at a
 * boundary and is all ASCII is settled before any table is loaded, which is
 * what keeps short text messages cheap.
 */
#include "protocol/utf8.h"
#include "protocol/mask.h"

#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2")))

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

/*
 * Runs the DFA over p[0..len) from bit offset `off`; returns the offset
 * reached, OFF_REJ once a byte is refused. At a boundary, ASCII is skipped
 * 32 and then 8 bytes at a time; otherwise the DFA takes 16 bytes between
 * checks for rejection and for a chance to skip.
 */
static unsigned dfa_run(unsigned off, const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (off == OFF_ACC) {
			while (len - i >= 32) {
				uint64_t w[4];
				memcpy(w, p + i, 32);
				if ((w[0] | w[1] | w[2] | w[3]) & HIGH_BITS)
					break;
				i += 32;
			}
			while (len - i >= 8) {
				uint64_t w;
				memcpy(&w, p + i, 8);
				if (w & HIGH_BITS)
					break;
				i += 8;
			}
		}
		size_t end = len - i > 16 ? i + 16 : len;
		uint64_t s = off;
		for (; i < end; i++)
			s = dfa_step(s, p[i]);
		off = (unsigned)s & 63;
		if (off == OFF_REJ)
			break;
	}
	return off;
}

int rws_utf8_feed_scalar(uint8_t *state, const uint8_t *p, size_t len)
{
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
 * current byte's high nibble. */
#define ANY_LOW (E_TOO_SHORT | E_TOO_LONG | E_TWO_CONTS)

static const uint8_t prev_high_tab[16] = {
	[0x0 ... 0x7] = E_TOO_LONG,
	[0x8 ... 0xb] = E_TWO_CONTS,
	[0xc] = E_TOO_SHORT | E_OVERLONG_2,
	[0xd] = E_TOO_SHORT,
	[0xe] = E_TOO_SHORT | E_OVERLONG_3 | E_SURROGATE,
	[0xf] = E_TOO_SHORT | E_TOO_LARGE | E_4_80,
};

static const uint8_t prev_low_tab[16] = {
	[0x0] = ANY_LOW | E_OVERLONG_3 | E_OVERLONG_2 | E_4_80,
	[0x1] = ANY_LOW | E_OVERLONG_2,
	[0x2 ... 0x3] = ANY_LOW,
	[0x4] = ANY_LOW | E_TOO_LARGE,
	[0x5 ... 0xc] = ANY_LOW | E_TOO_LARGE | E_4_80,
	[0xd] = ANY_LOW | E_TOO_LARGE | E_4_80 | E_SURROGATE,
	[0xe ... 0xf] = ANY_LOW | E_TOO_LARGE | E_4_80,
};

static const uint8_t cur_high_tab[16] = {
	[0x0 ... 0x7] = E_TOO_SHORT,
	[0x8] = E_TOO_LONG | E_OVERLONG_3 | E_OVERLONG_2 | E_4_80 | E_TWO_CONTS,
	[0x9] = E_TOO_LONG | E_OVERLONG_3 | E_OVERLONG_2 | E_TOO_LARGE | E_TWO_CONTS,
	[0xa ... 0xb] = E_TOO_LONG | E_OVERLONG_2 | E_TOO_LARGE | E_SURROGATE | E_TWO_CONTS,
	[0xc ... 0xf] = E_TOO_SHORT,
};

#undef ANY_LOW

/* The 16-entry table in both 128-bit lanes, as vpshufb wants it. */
AVX2 static inline __m256i lane_table(const uint8_t t[16])
{
	return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)t));
}

/* Constants for check(), loaded once per call. */
struct vconst {
	__m256i prev_high, prev_low, cur_high, low4, third, fourth, top;
};

AVX2 static inline struct vconst vconst_load(void)
{
	struct vconst c = {
		lane_table(prev_high_tab), lane_table(prev_low_tab), lane_table(cur_high_tab),
		_mm256_set1_epi8(0x0f),
		_mm256_set1_epi8((char)(0xe0 - 0x80)),
		_mm256_set1_epi8((char)(0xf0 - 0x80)),
		_mm256_set1_epi8((char)0x80),
	};
	return c;
}

/* The error bits for the 32 bytes `cur`, preceded by the 32 bytes `prev`. */
AVX2 static inline __m256i check(const struct vconst *c, __m256i prev, __m256i cur)
{
	/* the bytes 1, 2 and 3 positions back; vpalignr shifts within 128-bit
	 * lanes, so splice prev's high lane under cur's low lane first */
	__m256i spliced = _mm256_permute2x128_si256(prev, cur, 0x21);
	__m256i prev1 = _mm256_alignr_epi8(cur, spliced, 15);
	__m256i prev2 = _mm256_alignr_epi8(cur, spliced, 14);
	__m256i prev3 = _mm256_alignr_epi8(cur, spliced, 13);

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

/* Nonzero if the 32 bytes `prev` end inside a sequence: a lead in one of
 * their last three bytes that needs more bytes than are left. Only needed
 * when ASCII follows, since check() sees a lead cut short by anything else. */
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

#define LOAD(p) _mm256_loadu_si256((const __m256i *)(p))

/*
 * Validates p[0..len), which starts at a code point boundary and holds at
 * least 32 bytes. Returns the offset where the scalar DFA must take over from
 * ACCEPT (the lead of a sequence the vector code left open, or the first byte
 * past the last whole block; len if nothing is left), or -1 if the bytes are
 * invalid.
 */
AVX2 static ptrdiff_t vector_run(const uint8_t *p, size_t len)
{
	const struct vconst c = vconst_load();
	__m256i prev = _mm256_setzero_si256(), error = _mm256_setzero_si256();
	size_t i = 0;

	while (len - i >= 64) {
		__m256i a = LOAD(p + i), b = LOAD(p + i + 32);
		i += 64;
		if (!is_ascii(_mm256_or_si256(a, b))) {
			error = _mm256_or_si256(error, check(&c, prev, a));
			error = _mm256_or_si256(error, check(&c, a, b));
			prev = b;
			continue;
		}
		/* ASCII: an open sequence before it is an error; then skip the
		 * run 128 bytes at a time. prev may stay any ASCII block. */
		error = _mm256_or_si256(error, ends_open(prev));
		prev = b;
		while (len - i >= 128) {
			__m256i o = _mm256_or_si256(_mm256_or_si256(LOAD(p + i), LOAD(p + i + 32)),
						    _mm256_or_si256(LOAD(p + i + 64), LOAD(p + i + 96)));
			if (!is_ascii(o))
				break;
			i += 128;
		}
	}
	if (len - i >= 32) {
		__m256i a = LOAD(p + i);
		i += 32;
		if (is_ascii(a))
			error = _mm256_or_si256(error, ends_open(prev));
		else
			error = _mm256_or_si256(error, check(&c, prev, a));
		prev = a;
	}
	/* fewer than 32 bytes left: if they are ASCII, the last 32 bytes of
	 * the input (overlapping checked ones) are enough to tell. Those
	 * cover prev's last byte, so check() has already refused an open
	 * sequence there; ends_open() states the rule rather than relying on
	 * that. */
	if (i < len && is_ascii(LOAD(p + len - 32))) {
		error = _mm256_or_si256(error, ends_open(prev));
		i = len;
		prev = _mm256_setzero_si256();
	}
	if (!_mm256_testz_si256(error, error))
		return -1;
	if (_mm256_testz_si256(ends_open(prev), ends_open(prev)))
		return (ptrdiff_t)i;

	/* reopen the last sequence; no error means the bytes after its lead
	 * are continuations, so one of these holds */
	if (p[i - 1] >= 0xc0)
		return (ptrdiff_t)(i - 1);
	if (p[i - 2] >= 0xe0)
		return (ptrdiff_t)(i - 2);
	return (ptrdiff_t)(i - 3);
}

#undef LOAD

/* At a boundary: the length of the pure ASCII prefix of p[0..len), len
 * meaning all of it, for len >= 32. Loads no tables. */
AVX2 static inline size_t ascii_prefix(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (len - i >= 128) {
		__m256i o = _mm256_or_si256(
			_mm256_or_si256(_mm256_loadu_si256((const __m256i *)(p + i)),
					_mm256_loadu_si256((const __m256i *)(p + i + 32))),
			_mm256_or_si256(_mm256_loadu_si256((const __m256i *)(p + i + 64)),
					_mm256_loadu_si256((const __m256i *)(p + i + 96))));
		if (!is_ascii(o))
			break;
		i += 128;
	}
	while (len - i >= 32 && is_ascii(_mm256_loadu_si256((const __m256i *)(p + i))))
		i += 32;
	/* the rest, if shorter than a block: the input's last 32 bytes */
	if (i < len && len - i < 32 &&
	    is_ascii(_mm256_loadu_si256((const __m256i *)(p + len - 32))))
		i = len;
	return i;
}

/* Everything but an all-ASCII chunk at a boundary; kept out of line so the
 * ASCII path needs no stack frame for vector constants. */
AVX2 __attribute__((noinline)) static int feed_general(uint8_t *state, const uint8_t *p,
							size_t len)
{
	unsigned off = off_of_state(*state);
	size_t i = 0;

	if (off == OFF_REJ)
		goto reject;
	/* close the sequence the previous chunk left open */
	while (off != OFF_ACC && i < len) {
		off = (unsigned)dfa_step(off, p[i++]) & 63;
		if (off == OFF_REJ)
			goto reject;
	}
	if (len - i >= 32) {
		ptrdiff_t k = vector_run(p + i, len - i);
		if (k < 0)
			goto reject;
		i += (size_t)k;
	}
	if (i < len) {
		off = dfa_run(off, p + i, len - i);
		if (off == OFF_REJ)
			goto reject;
	}
	*state = state_of_off(off);
	return 0;
reject:
	*state = RWS_UTF8_REJECT;
	return -1;
}

AVX2 int rws_utf8_feed_avx2(uint8_t *state, const uint8_t *p, size_t len)
{
	if (*state == RWS_UTF8_ACCEPT && len >= 32) {
		size_t i = ascii_prefix(p, len);
		if (i == len)
			return 0;
		/* the prefix ends at a boundary, and the state is still ACCEPT */
		p += i;
		len -= i;
	}
	return feed_general(state, p, len);
}

/* ---- dispatch ------------------------------------------------------------ */

/* Copied from rws_cpu_has_avx2() before main(); read-only afterwards. */
static int use_avx2;

__attribute__((constructor)) static void choose_impl(void)
{
	use_avx2 = rws_cpu_has_avx2();
}

int rws_utf8_feed(uint8_t *state, const uint8_t *p, size_t len)
{
	if (use_avx2)
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
