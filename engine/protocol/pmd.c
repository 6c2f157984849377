/*
 * pmd: see pmd.h. The permessage-deflate transform on libdeflate.
 *
 * libdeflate decompresses a complete stream into a buffer of fixed size, so
 * the receiver builds one contiguous input:
 *
 *   [window as stored blocks] [message] 00 00 ff ff [final stored block: SENTINEL]
 *
 * - The window (only with a peer that keeps context) goes first as stored,
 *   non-final blocks, so the message's back-references reach into it; its
 *   bytes are then dropped from the front of the output.
 * - 00 00 ff ff is the tail RFC 7692 7.2.2 appends. A sync-flushed message
 *   (zlib's usual shape) ends with the header bits of an empty stored block;
 *   the tail completes it, and the stream stays open.
 * - libdeflate insists on a final block, so a final stored block follows,
 *   holding a few known bytes. If decoding ends exactly at the end of the
 *   input with those bytes last in the output, the message ended at a block
 *   boundary as a sync-flushed message must. A message cut short instead has
 *   its decoder inside a Huffman block when it reaches the tail, which it
 *   reads as codes; it then fails, or ends somewhere else, or yields other
 *   bytes, and each of those is refused as corrupt.
 * - A message that ends with its own final block stops the decoder within
 *   the message (or within the tail, when the sender stripped the 00 00 ff ff
 *   of a final empty stored block); what follows is ignored, as zlib does.
 *
 * The output buffer starts at a guess and grows fourfold, each time
 * inflating again from the start (libdeflate cannot resume), up to the
 * window + max + the sentinel: a bomb costs at most that much memory and
 * about 4/3 of that much work before it is refused.
 */
#include "protocol/pmd.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

struct rws_pmd_compressor {
	struct libdeflate_compressor *ld;
};

/* The scratch buffer holds the assembled input of the call in progress; it is
 * kept between calls while small. */
struct rws_pmd_decompressor {
	struct libdeflate_decompressor *ld;
	uint8_t *scratch;
	size_t scratch_cap;
};

/* The last cap bytes the peer's messages inflated to, oldest first. */
struct rws_pmd_window {
	uint32_t cap, len;
	uint8_t buf[];
};

#define STORED_MAX 65535u		/* bytes in one stored block */
#define STORED_HDR 5u			/* header octet, LEN, NLEN */
#define SCRATCH_KEEP (256u << 10)	/* larger scratch buffers are freed after use */
#define OUT_MIN 1024u			/* smallest first guess at the output */
#define RATIO_MAX 1032u			/* DEFLATE's largest expansion: 258 bytes from 2 bits */

/* What follows the message: the RFC 7692 tail, then a final stored block
 * (BFINAL=1, BTYPE=00; LEN 8, NLEN ~8) holding SENTINEL_LEN bytes. */
#define SENTINEL_LEN 8u
static const uint8_t tail[] = {
	0x00, 0x00, 0xff, 0xff,
	0x01, SENTINEL_LEN, 0x00, (uint8_t)~SENTINEL_LEN, 0xff,
	'r', 'w', 's', '-', 'p', 'm', 'd', 0xa5,
};
#define TAIL_RFC 4u

/* --- sending ------------------------------------------------------------ */

struct rws_pmd_compressor *rws_pmd_compressor_new(int level)
{
	if (level < 1)
		level = 1;
	if (level > 12)
		level = 12;
	struct rws_pmd_compressor *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	c->ld = libdeflate_alloc_compressor(level);
	if (!c->ld) {
		free(c);
		return NULL;
	}
	return c;
}

void rws_pmd_compressor_free(struct rws_pmd_compressor *c)
{
	if (!c)
		return;
	libdeflate_free_compressor(c->ld);
	free(c);
}

size_t rws_pmd_compress_bound(struct rws_pmd_compressor *c, size_t len)
{
	/* + the 0x00 octet that ends the payload */
	return libdeflate_deflate_compress_bound(c->ld, len) + 1;
}

long rws_pmd_compress(struct rws_pmd_compressor *c, const void *in, size_t len, void *out,
		      size_t cap)
{
	static const uint8_t none;
	if (cap < 2)
		return -ENOBUFS;
	/* libdeflate's stream ends with its final block on a byte boundary. RFC
	 * 7692 7.2.1: append an empty stored block (header octet 00, then
	 * 00 00 ff ff) and strip the 00 00 ff ff: one 0x00 remains. */
	size_t n = libdeflate_deflate_compress(c->ld, len ? in : &none, len, out, cap - 1);
	if (n == 0)
		return -ENOBUFS;
	((uint8_t *)out)[n] = 0x00;
	return (long)(n + 1);
}

/* --- receiving ---------------------------------------------------------- */

struct rws_pmd_decompressor *rws_pmd_decompressor_new(void)
{
	struct rws_pmd_decompressor *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->ld = libdeflate_alloc_decompressor();
	if (!d->ld) {
		free(d);
		return NULL;
	}
	return d;
}

void rws_pmd_decompressor_free(struct rws_pmd_decompressor *d)
{
	if (!d)
		return;
	libdeflate_free_decompressor(d->ld);
	free(d->scratch);
	free(d);
}

struct rws_pmd_window *rws_pmd_window_new(unsigned window_bits)
{
	/* zlib's deflate runs window_bits 8 as 9, so an 8-bit peer may reach
	 * back 512 bytes */
	if (window_bits < RWS_PMD_WINDOW_BITS_MIN + 1)
		window_bits = RWS_PMD_WINDOW_BITS_MIN + 1;
	if (window_bits > RWS_PMD_WINDOW_BITS_MAX)
		window_bits = RWS_PMD_WINDOW_BITS_MAX;
	uint32_t cap = 1u << window_bits;
	struct rws_pmd_window *w = malloc(sizeof(*w) + cap);
	if (!w)
		return NULL;
	w->cap = cap;
	w->len = 0;
	return w;
}

void rws_pmd_window_free(struct rws_pmd_window *w)
{
	free(w);
}

static size_t stored_size(size_t n)
{
	return n + (n + STORED_MAX - 1) / STORED_MAX * STORED_HDR;
}

/* Writes p[0..n) as non-final stored blocks at dst; returns the bytes written. */
static size_t put_stored(uint8_t *dst, const uint8_t *p, size_t n)
{
	uint8_t *o = dst;
	while (n) {
		unsigned k = n < STORED_MAX ? (unsigned)n : STORED_MAX;
		o[0] = 0x00;		/* BFINAL=0, BTYPE=00, padding */
		o[1] = (uint8_t)k;
		o[2] = (uint8_t)(k >> 8);
		o[3] = (uint8_t)~k;
		o[4] = (uint8_t)(~k >> 8);
		memcpy(o + STORED_HDR, p, k);
		o += STORED_HDR + k;
		p += k;
		n -= k;
	}
	return (size_t)(o - dst);
}

static size_t sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t sat_mul(size_t a, size_t b)
{
	return b && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

static void scratch_release(struct rws_pmd_decompressor *d)
{
	if (d->scratch_cap > SCRATCH_KEEP) {
		free(d->scratch);
		d->scratch = NULL;
		d->scratch_cap = 0;
	}
}

int rws_pmd_decompress(struct rws_pmd_decompressor *d, const void *in, size_t len, uint64_t max,
		       struct rws_pmd_window *window, uint8_t **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	size_t wlen = window ? window->len : 0;
	size_t pre = stored_size(wlen);
	if (len > SIZE_MAX - pre - sizeof(tail))
		return -ENOMEM;
	size_t total = pre + len + sizeof(tail);

	if (d->scratch_cap < total) {
		free(d->scratch);
		d->scratch_cap = 0;
		d->scratch = malloc(total);
		if (!d->scratch)
			return -ENOMEM;
		d->scratch_cap = total;
	}
	uint8_t *src = d->scratch;
	put_stored(src, window ? window->buf : NULL, wlen);
	if (len)
		memcpy(src + pre, in, len);
	memcpy(src + pre + len, tail, sizeof(tail));

	/* The output can hold the window, at most max bytes of message and the
	 * sentinel; nothing decodes to more than RATIO_MAX times its input. */
	size_t limit = sat_mul(total, RATIO_MAX);
	if (max && max < SIZE_MAX)
		limit = limit < sat_add(sat_add(wlen, (size_t)max), SENTINEL_LEN)
				? limit : sat_add(sat_add(wlen, (size_t)max), SENTINEL_LEN);
	size_t cap = sat_add(sat_add(wlen, sat_mul(len, 4)), OUT_MIN);
	if (cap > limit)
		cap = limit;

	uint8_t *buf;
	size_t used, n;
	int rc;
	for (;;) {
		buf = malloc(cap);
		if (!buf) {
			rc = -ENOMEM;
			goto err;
		}
		enum libdeflate_result r =
			libdeflate_deflate_decompress_ex(d->ld, src, total, buf, cap, &used, &n);
		if (r == LIBDEFLATE_SUCCESS)
			break;
		free(buf);
		if (r != LIBDEFLATE_INSUFFICIENT_SPACE) {
			rc = RWS_PMD_E_CORRUPT;
			goto err;
		}
		if (cap >= limit) {
			rc = RWS_PMD_E_TOO_BIG;
			goto err;
		}
		cap = cap > limit / 4 ? limit : cap * 4;
	}

	/* Where did the final block end? At the end of our sentinel block, or
	 * (a sender's own final block) no later than the RFC tail. */
	size_t mlen;
	if (used == total && n >= wlen + SENTINEL_LEN &&
	    memcmp(buf + n - SENTINEL_LEN, tail + sizeof(tail) - SENTINEL_LEN, SENTINEL_LEN) == 0) {
		mlen = n - wlen - SENTINEL_LEN;
	} else if (used <= pre + len + TAIL_RFC && n >= wlen) {
		mlen = n - wlen;
	} else {
		rc = RWS_PMD_E_CORRUPT;
		goto err_buf;
	}
	if (max && mlen > max) {
		rc = RWS_PMD_E_TOO_BIG;
		goto err_buf;
	}

	if (window) {
		size_t keep = wlen + mlen < window->cap ? wlen + mlen : window->cap;
		memcpy(window->buf, buf + wlen + mlen - keep, keep);
		window->len = (uint32_t)keep;
	}
	if (wlen)
		memmove(buf, buf + wlen, mlen);
	if (cap - mlen > OUT_MIN && cap / 2 > mlen) {
		uint8_t *smaller = realloc(buf, mlen ? mlen : 1);
		if (smaller)
			buf = smaller;
	}
	scratch_release(d);
	*out = buf;
	*outlen = mlen;
	return 0;

err_buf:
	free(buf);
err:
	scratch_release(d);
	return rc;
}
