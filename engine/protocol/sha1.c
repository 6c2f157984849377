/*
 * sha1: see sha1.h. Written from FIPS 180-4: section 5.1.1 (padding),
 * 5.3.1 (initial hash value), 6.1.2 (the 80-round computation with the
 * functions and constants of 4.1.1 and 4.2.1). The message schedule is kept
 * as a rolling window of 16 words, as section 6.1.3 allows.
 */
#include "protocol/sha1.h"

#include <string.h>

static uint32_t rol(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Processes one 512-bit block (FIPS 180-4 section 6.1.2, step 1 to 4). */
static void compress(uint32_t h[5], const uint8_t *block)
{
	uint32_t w[16];
	for (int t = 0; t < 16; t++)
		w[t] = load_be32(block + 4 * t);

	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int t = 0; t < 80; t++) {
		uint32_t f, k;
		if (t >= 16) {
			/* W[t] = ROTL1(W[t-3] ^ W[t-8] ^ W[t-14] ^ W[t-16]) */
			uint32_t x = w[(t - 3) & 15] ^ w[(t - 8) & 15] ^
				     w[(t - 14) & 15] ^ w[t & 15];
			w[t & 15] = rol(x, 1);
		}
		if (t < 20) {
			f = (b & c) | (~b & d);          /* Ch */
			k = 0x5a827999u;
		} else if (t < 40) {
			f = b ^ c ^ d;                   /* Parity */
			k = 0x6ed9eba1u;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d); /* Maj */
			k = 0x8f1bbcdcu;
		} else {
			f = b ^ c ^ d;                   /* Parity */
			k = 0xca62c1d6u;
		}
		uint32_t tmp = rol(a, 5) + f + e + k + w[t & 15];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = tmp;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void rws_sha1_init(struct rws_sha1 *s)
{
	s->h[0] = 0x67452301u;
	s->h[1] = 0xefcdab89u;
	s->h[2] = 0x98badcfeu;
	s->h[3] = 0x10325476u;
	s->h[4] = 0xc3d2e1f0u;
	s->total = 0;
	s->fill = 0;
}

void rws_sha1_update(struct rws_sha1 *s, const void *p, size_t len)
{
	const uint8_t *in = p;
	if (len == 0)
		return;
	s->total += len;
	if (s->fill > 0) {
		size_t n = RWS_SHA1_BLOCK_LEN - s->fill;
		if (n > len)
			n = len;
		memcpy(s->block + s->fill, in, n);
		s->fill += n;
		in += n;
		len -= n;
		if (s->fill < RWS_SHA1_BLOCK_LEN)
			return;
		compress(s->h, s->block);
		s->fill = 0;
	}
	while (len >= RWS_SHA1_BLOCK_LEN) {
		compress(s->h, in);
		in += RWS_SHA1_BLOCK_LEN;
		len -= RWS_SHA1_BLOCK_LEN;
	}
	if (len > 0) {
		memcpy(s->block, in, len);
		s->fill = len;
	}
}

void rws_sha1_final(struct rws_sha1 *s, uint8_t out[RWS_SHA1_DIGEST_LEN])
{
	/* section 5.1.1: a 1 bit, zeros up to 448 mod 512, the 64-bit length */
	uint64_t bits = s->total * 8;
	s->block[s->fill++] = 0x80;
	if (s->fill > RWS_SHA1_BLOCK_LEN - 8) {
		memset(s->block + s->fill, 0, RWS_SHA1_BLOCK_LEN - s->fill);
		compress(s->h, s->block);
		s->fill = 0;
	}
	memset(s->block + s->fill, 0, RWS_SHA1_BLOCK_LEN - 8 - s->fill);
	store_be32(s->block + 56, (uint32_t)(bits >> 32));
	store_be32(s->block + 60, (uint32_t)bits);
	compress(s->h, s->block);
	for (int i = 0; i < 5; i++)
		store_be32(out + 4 * i, s->h[i]);
	memset(s, 0, sizeof(*s));
}

void rws_sha1(const void *p, size_t len, uint8_t out[RWS_SHA1_DIGEST_LEN])
{
	struct rws_sha1 s;
	rws_sha1_init(&s);
	rws_sha1_update(&s, p, len);
	rws_sha1_final(&s, out);
}
