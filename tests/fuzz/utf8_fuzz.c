/*
 * utf8_fuzz: the scalar and AVX2 validators, whole and split, against a
 * reference that decodes code points and checks their ranges. Any
 * disagreement aborts. Seeds: tests/fuzz/corpus/utf8/.
 *
 * The first input byte picks a split point and a chunk size, so the fuzzer
 * also steers where the input is cut; the rest is the text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/mask.h"
#include "protocol/utf8.h"

/* Can the first k bytes of an n-byte sequence still become a scalar value? */
static int reachable(const uint8_t *s, int k, int n)
{
	static const uint32_t lead_bits[5] = { 0, 0, 0x1f, 0x0f, 0x07 };
	static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t lo = s[0] & lead_bits[n], hi = lo;

	for (int j = 1; j < n; j++) {
		lo = lo << 6 | (j < k ? (s[j] & 0x3fu) : 0);
		hi = hi << 6 | (j < k ? (s[j] & 0x3fu) : 0x3f);
	}
	if (lo < min_cp[n])
		lo = min_cp[n];
	if (hi > 0x10ffff)
		hi = 0x10ffff;
	return lo <= hi && !(lo >= 0xd800 && hi <= 0xdfff);
}

/* Index of the first byte where the prefix stops being valid, or len. */
static size_t first_bad(const uint8_t *p, size_t len, int *open)
{
	size_t i = 0;

	*open = 0;
	while (i < len) {
		uint8_t b = p[i];
		int n = b < 0x80 ? 1 : b < 0xc0 ? 0 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf8 ? 4 : 0;
		if (n == 0)
			return i;
		for (int k = 1; k <= n && n > 1; k++) {	/* k bytes of it known */
			if (i + (size_t)k > len) {
				*open = 1;
				return len;
			}
			if (k > 1 && (p[i + k - 1] & 0xc0) != 0x80)
				return i + (size_t)k - 1;
			if (!reachable(p + i, k, n))
				return i + (size_t)k - 1;
		}
		i += (size_t)n;
	}
	return len;
}

typedef int (*feed_fn)(uint8_t *, const uint8_t *, size_t);

/* Feeds p in chunks of `chunk` bytes after a first piece of `split`; checks
 * every call's verdict against the first bad byte, and the final state. */
static uint8_t feed_split(feed_fn feed, const uint8_t *p, size_t len, size_t split,
			  size_t chunk, size_t bad, int done)
{
	uint8_t st = RWS_UTF8_ACCEPT;
	size_t at = 0, n = split;

	do {
		if (n > len - at)
			n = len - at;
		/* a private copy, so reading past it is caught */
		uint8_t *c = malloc(n ? n : 1);
		if (!c)
			abort();
		memcpy(c, p + at, n);
		int rc = feed(&st, c, n);
		free(c);
		if (rc != (bad < at + n ? -1 : 0))
			abort();
		if ((rc < 0) != (st == RWS_UTF8_REJECT))
			abort();
		at += n;
		n = chunk;
	} while (at < len);
	if ((rws_utf8_finish(st) == 0) != done)
		abort();
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int have_avx2 = -1;
	if (have_avx2 < 0) {
		__builtin_cpu_init();
		have_avx2 = __builtin_cpu_supports("avx2");
	}
	if (size == 0)
		return 0;
	uint8_t ctl = data[0];
	const uint8_t *p = data + 1;
	size_t len = size - 1;

	int open;
	size_t bad = first_bad(p, len, &open);
	int done = bad == len && !open;
	size_t split = len ? (size_t)ctl * 7 % (len + 1) : 0;
	size_t chunk = 1 + (ctl & 0x3f);

	/* whole */
	uint8_t s1 = feed_split(rws_utf8_feed_scalar, p, len, len, 1, bad, done);
	if ((rws_utf8_valid(p, len) == 0) != done)
		abort();
	/* split once, then in small chunks */
	if (feed_split(rws_utf8_feed_scalar, p, len, split, len + 1, bad, done) != s1)
		abort();
	feed_split(rws_utf8_feed_scalar, p, len, split, chunk, bad, done);
	if (have_avx2) {
		if (feed_split(rws_utf8_feed_avx2, p, len, len, 1, bad, done) != s1)
			abort();
		if (feed_split(rws_utf8_feed_avx2, p, len, split, len + 1, bad, done) != s1)
			abort();
		feed_split(rws_utf8_feed_avx2, p, len, split, chunk, bad, done);
	}
	/* byte at a time, for short inputs */
	if (len <= 64) {
		feed_split(rws_utf8_feed_scalar, p, len, 1, 1, bad, done);
		if (have_avx2)
			feed_split(rws_utf8_feed_avx2, p, len, 1, 1, bad, done);
	}
	return 0;
}
