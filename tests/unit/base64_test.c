/*
 * base64_test: RFC 4648 section 10 vectors, round trips, and the strict
 * decoder's rejections (alphabet, padding, length, non-zero unused bits).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "protocol/base64.h"
#include "testutil.h"

static const struct {
	const char *raw, *enc;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Decodes s from a guard copy, so reading past its end crashes. */
static int decode(const char *s, uint8_t *out, size_t cap)
{
	size_t len = strlen(s);
	uint8_t *g = guard_copy(s, len);
	int rc = rws_base64_decode((const char *)g, len, out, cap);
	guard_free(g);
	return rc;
}

Test(base64, rfc4648_encode)
{
	for (size_t i = 0; i < N(rfc4648); i++) {
		char out[16];
		size_t n = strlen(rfc4648[i].raw);
		int rc = rws_base64_encode((const uint8_t *)rfc4648[i].raw, n, out, sizeof(out));
		cr_assert_eq(rc, (int)strlen(rfc4648[i].enc));
		cr_assert_eq(rc, (int)RWS_BASE64_ENCODED_LEN(n));
		cr_assert_str_eq(out, rfc4648[i].enc);
	}
}

Test(base64, rfc4648_decode)
{
	for (size_t i = 0; i < N(rfc4648); i++) {
		uint8_t out[16];
		int rc = decode(rfc4648[i].enc, out, sizeof(out));
		cr_assert_eq(rc, (int)strlen(rfc4648[i].raw), "%s", rfc4648[i].enc);
		cr_assert(memcmp(out, rfc4648[i].raw, (size_t)rc) == 0);
	}
}

Test(base64, websocket_key)
{
	uint8_t out[18];
	cr_assert_eq(decode("dGhlIHNhbXBsZSBub25jZQ==", out, sizeof(out)), 16);
	cr_assert(memcmp(out, "the sample nonce", 16) == 0);
}

Test(base64, round_trip_random)
{
	uint64_t seed = 12345;
	for (size_t len = 0; len < 300; len++) {
		uint8_t raw[300], back[300];
		char enc[RWS_BASE64_ENCODED_LEN(300) + 1];
		for (size_t i = 0; i < len; i++)
			raw[i] = (uint8_t)test_rand(&seed);
		int n = rws_base64_encode(raw, len, enc, sizeof(enc));
		cr_assert_eq(n, (int)RWS_BASE64_ENCODED_LEN(len));
		cr_assert_eq(strlen(enc), (size_t)n);
		int m = decode(enc, back, sizeof(back));
		cr_assert_eq(m, (int)len, "len %zu", len);
		cr_assert(memcmp(raw, back, len) == 0, "len %zu", len);
	}
}

Test(base64, every_byte_value)
{
	uint8_t raw[256], back[256];
	char enc[RWS_BASE64_ENCODED_LEN(256) + 1];
	for (int i = 0; i < 256; i++)
		raw[i] = (uint8_t)i;
	int n = rws_base64_encode(raw, sizeof(raw), enc, sizeof(enc));
	cr_assert_eq(n, 344);
	cr_assert_eq(decode(enc, back, sizeof(back)), 256);
	cr_assert(memcmp(raw, back, sizeof(raw)) == 0);
}

Test(base64, rejects_bad_characters)
{
	static const char *bad[] = {
		"Zm9v*mFy", "Zm9v YmFy", "Zm9vYmF\n", "Zm9-YmFy", "Zm9_YmFy",
		"Zm9vYm\x80y", "Zm9v\0mFy", "Zm9vYmF.",
	};
	uint8_t out[16];
	for (size_t i = 0; i < N(bad); i++)
		cr_assert_eq(rws_base64_decode(bad[i], 8, out, sizeof(out)), -EINVAL,
			     "case %zu", i);
}

Test(base64, rejects_bad_padding)
{
	static const char *bad[] = {
		"Zg=a",     /* data after '=' */
		"Z===",     /* too much padding */
		"====",
		"=Zg=",
		"Zg==Zg==", /* padding before the end */
		"Zm9=YmFy",
		"Zm8=Zm8=",
		"Zg=",      /* padding cut short (wrong length too) */
	};
	uint8_t out[16];
	for (size_t i = 0; i < N(bad); i++)
		cr_assert_eq(decode(bad[i], out, sizeof(out)), -EINVAL, "%s", bad[i]);
}

Test(base64, rejects_wrong_length)
{
	static const char *bad[] = { "Z", "Zm", "Zm9", "Zm9vY", "Zm9vYm", "Zm9vYmF", "Zg" };
	uint8_t out[16];
	for (size_t i = 0; i < N(bad); i++)
		cr_assert_eq(decode(bad[i], out, sizeof(out)), -EINVAL, "%s", bad[i]);
}

/* RFC 4648 section 3.5: the bits padding leaves over must be zero. */
Test(base64, rejects_nonzero_pad_bits)
{
	uint8_t out[16];
	cr_assert_eq(decode("Zh==", out, sizeof(out)), -EINVAL);
	cr_assert_eq(decode("Zm9=", out, sizeof(out)), -EINVAL);
	cr_assert_eq(decode("dGhlIHNhbXBsZSBub25jZR==", out, sizeof(out)), -EINVAL);
	cr_assert_eq(decode("Zg==", out, sizeof(out)), 1);
	cr_assert_eq(decode("Zm8=", out, sizeof(out)), 2);
}

Test(base64, no_space)
{
	char enc[8];
	cr_assert_eq(rws_base64_encode((const uint8_t *)"foobar", 6, enc, 8), -ENOSPC);
	char enc9[9];
	cr_assert_eq(rws_base64_encode((const uint8_t *)"foobar", 6, enc9, 9), 8);

	uint8_t out[6];
	for (size_t cap = 0; cap < 6; cap++)
		cr_assert_eq(decode("Zm9vYmFy", out, cap), -ENOSPC, "cap %zu", cap);
	cr_assert_eq(decode("Zm9vYmFy", out, 6), 6);
	cr_assert_eq(decode("Zm9vYg==", out, 4), 4);
	cr_assert_eq(decode("Zm9vYg==", out, 3), -ENOSPC);
}
