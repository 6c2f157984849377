/*
 * sha1_test: FIPS 180-4 example vectors (FIPS 180-2 appendix A, the NIST
 * "SHA-1 examples" sheet) and lengths around the padding boundary, fed in
 * one call, byte by byte and in random pieces.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "protocol/sha1.h"
#include "testutil.h"

static void hex(const uint8_t d[RWS_SHA1_DIGEST_LEN], char out[41])
{
	for (int i = 0; i < RWS_SHA1_DIGEST_LEN; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_one_shot(const void *p, size_t len, const char *want)
{
	uint8_t d[RWS_SHA1_DIGEST_LEN];
	char h[41];
	const uint8_t *g = guard_copy(p, len);
	rws_sha1(g, len, d);
	guard_free((uint8_t *)g);
	hex(d, h);
	cr_assert_str_eq(h, want, "len %zu", len);
}

static void check_pieces(const void *p, size_t len, const char *want, uint64_t seed)
{
	const uint8_t *in = p;
	struct rws_sha1 s;
	uint8_t d[RWS_SHA1_DIGEST_LEN];
	char h[41];
	rws_sha1_init(&s);
	size_t off = 0;
	while (off < len) {
		size_t n = (size_t)(test_rand(&seed) % 150);
		if (n > len - off)
			n = len - off;
		rws_sha1_update(&s, in + off, n);
		off += n;
	}
	rws_sha1_final(&s, d);
	hex(d, h);
	cr_assert_str_eq(h, want, "len %zu seed %llu", len, (unsigned long long)seed);
}

static void check(const char *msg, const char *want)
{
	check_one_shot(msg, strlen(msg), want);
	check_pieces(msg, strlen(msg), want, 42);
}

Test(sha1, fips_abc)
{
	check("abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
}

Test(sha1, fips_448_bits)
{
	check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	      "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

Test(sha1, fips_896_bits)
{
	check("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	      "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	      "a49b2446a02c645bf419f995b67091253a04a259");
}

Test(sha1, empty)
{
	check("", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	uint8_t d[RWS_SHA1_DIGEST_LEN];
	char h[41];
	rws_sha1(NULL, 0, d);
	hex(d, h);
	cr_assert_str_eq(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

Test(sha1, fips_million_a)
{
	static char m[1000000];
	memset(m, 'a', sizeof(m));
	const char *want = "34aa973cd4c4daa4f61eeb2bdbad27316534016f";
	check_one_shot(m, sizeof(m), want);
	check_pieces(m, sizeof(m), want, 7);

	/* and as 1000 updates of 1000 bytes, the way the FIPS text states it */
	struct rws_sha1 s;
	uint8_t d[RWS_SHA1_DIGEST_LEN];
	char h[41];
	rws_sha1_init(&s);
	for (int i = 0; i < 1000; i++)
		rws_sha1_update(&s, m, 1000);
	rws_sha1_final(&s, d);
	hex(d, h);
	cr_assert_str_eq(h, want);
}

/* Lengths either side of the 55/56 and 63/64 byte padding boundaries. */
Test(sha1, padding_boundaries)
{
	static const struct {
		size_t n;
		const char *want;
	} v[] = {
		{ 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a" },
		{ 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699" },
		{ 57, "f08f24908d682555111be7ff6f004e78283d989a" },
		{ 63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5" },
		{ 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d" },
		{ 65, "11655326c708d70319be2610e8a57d9a5b959d3b" },
		{ 119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56" },
		{ 120, "f34c1488385346a55709ba056ddd08280dd4c6d6" },
		{ 1000, "291e9a6c66994949b57ba5e650361e98fc36b1ba" },
	};
	char m[1000];
	memset(m, 'a', sizeof(m));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		check_one_shot(m, v[i].n, v[i].want);
		for (uint64_t seed = 1; seed < 20; seed++)
			check_pieces(m, v[i].n, v[i].want, seed);
	}
}

/* Byte-at-a-time updates agree with one call for every length to 300. */
Test(sha1, incremental_matches_one_shot)
{
	uint8_t m[300];
	uint64_t seed = 99;
	for (size_t i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)test_rand(&seed);
	for (size_t len = 0; len <= sizeof(m); len++) {
		uint8_t a[RWS_SHA1_DIGEST_LEN], b[RWS_SHA1_DIGEST_LEN];
		struct rws_sha1 s;
		rws_sha1(m, len, a);
		rws_sha1_init(&s);
		for (size_t i = 0; i < len; i++)
			rws_sha1_update(&s, m + i, 1);
		rws_sha1_final(&s, b);
		cr_assert(memcmp(a, b, sizeof(a)) == 0, "len %zu", len);
	}
}
