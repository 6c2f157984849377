/*
 * pmd_fuzz: the permessage-deflate transform on arbitrary bytes. The first
 * byte picks a small max, whether a window is kept (and its window_bits) and
 * the compression level; the second splits the rest into two messages. Both
 * are inflated in turn through the same window: a result must be 0 with at
 * most max bytes, TOO_BIG or CORRUPT, never more memory than the bound. Then
 * each message is compressed and inflated back, with and without a window,
 * and must come back equal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/pmd.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void inflate_any(struct rws_pmd_decompressor *d, const uint8_t *in, size_t len,
			uint64_t max, struct rws_pmd_window *w)
{
	uint8_t *out;
	size_t n;
	int rc = rws_pmd_decompress(d, in, len, max, w, &out, &n);
	check(rc == 0 || rc == RWS_PMD_E_TOO_BIG || rc == RWS_PMD_E_CORRUPT);
	if (rc == 0) {
		check(out != NULL && n <= max);
		/* read every byte: ASan checks the buffer holds n */
		volatile uint8_t sink = 0;
		for (size_t i = 0; i < n; i++)
			sink ^= out[i];
		(void)sink;
	} else {
		check(out == NULL);
	}
	free(out);
}

static void round_trip(struct rws_pmd_compressor *c, struct rws_pmd_decompressor *d,
		       const uint8_t *msg, size_t len, struct rws_pmd_window *w)
{
	size_t cap = rws_pmd_compress_bound(c, len);
	uint8_t *p = malloc(cap);
	check(p != NULL);
	long r = rws_pmd_compress(c, msg, len, p, cap);
	check(r > 0 && (size_t)r <= cap);
	uint8_t *out;
	size_t n;
	check(rws_pmd_decompress(d, p, (size_t)r, len ? len : 1, w, &out, &n) == 0);
	check(n == len && (len == 0 || memcmp(out, msg, len) == 0));
	free(out);
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rws_pmd_decompressor *d;
	static struct rws_pmd_compressor *c[4];
	static const int levels[4] = { 1, 3, 6, 12 };
	if (!d) {
		d = rws_pmd_decompressor_new();
		for (int i = 0; i < 4; i++)
			c[i] = rws_pmd_compressor_new(levels[i]);
	}
	if (size < 2)
		return 0;
	uint64_t max = 1 + (uint64_t)(data[0] & 7) * 700;	/* 1 .. 4901 bytes */
	int windowed = data[0] & 8;
	unsigned bits = 8 + ((data[0] >> 4) & 7);
	struct rws_pmd_compressor *cz = c[data[0] >> 6];
	const uint8_t *in = data + 2;
	size_t len = size - 2;
	size_t cut = len ? (size_t)data[1] * len / 255 : 0;

	struct rws_pmd_window *w = windowed ? rws_pmd_window_new(bits) : NULL;
	check(!windowed || w);
	inflate_any(d, in, cut, max, w);
	inflate_any(d, in + cut, len - cut, max, w);
	/* and the whole input as one message, without a bound */
	inflate_any(d, in, len, UINT64_MAX, NULL);
	round_trip(cz, d, in, cut, w);
	round_trip(cz, d, in + cut, len - cut, w);
	round_trip(cz, d, in, len, NULL);
	rws_pmd_window_free(w);
	return 0;
}
