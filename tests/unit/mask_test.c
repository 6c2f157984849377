/*
 * mask_test: the RFC 6455 payload mask against a byte-at-a-time reference,
 * for the scalar and AVX2 implementations and the dispatchers.
 *
 * Inputs end right before a PROT_NONE page (guard_copy), so reading one byte
 * too far crashes; canary bytes around outputs catch writing too far. The
 * AVX2 functions are exercised whenever the CPU has AVX2, even when
 * RWS_NO_AVX2 keeps the dispatchers on the scalar path.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/mask.h"
#include "testutil.h"

typedef void (*mask_fn)(uint8_t *, size_t, const uint8_t[4], uint64_t);
typedef void (*mask_copy_fn)(uint8_t *, const uint8_t *, size_t, const uint8_t[4], uint64_t);

struct impl {
	const char *name;
	mask_fn inplace;
	mask_copy_fn copy;
};

static const struct impl impls[] = {
	{ "scalar", rws_mask_scalar, rws_mask_copy_scalar },
	{ "avx2", rws_mask_avx2, rws_mask_copy_avx2 },
	{ "dispatch", rws_mask, rws_mask_copy },
};
#define N_IMPLS (sizeof(impls) / sizeof(impls[0]))

static int cpu_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}

/* The implementations this CPU can run; AVX2 is skipped without it. */
static int runnable(size_t i)
{
	return impls[i].inplace != rws_mask_avx2 || cpu_avx2();
}

static void ref_mask(uint8_t *dst, const uint8_t *src, size_t len,
		     const uint8_t key[4], uint64_t offset)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = src[i] ^ key[(offset + i) % 4];
}

static void fill_rand(uint8_t *p, size_t len, uint64_t *seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(test_rand(seed) >> 56);
}

static void rand_key(uint8_t key[4], uint64_t *seed)
{
	uint64_t r = test_rand(seed);
	memcpy(key, &r, 4);
}

#define MAXLEN 1024
#define SLACK 64	/* room for alignment and canaries on either side */
#define CANARY 0xa5

Test(mask, every_length_alignment_offset)
{
	static const uint8_t zero[MAXLEN + 2 * SLACK];
	uint8_t *area = guard_copy(zero, sizeof(zero));
	uint8_t *end = area + sizeof(zero);	/* the guard page starts here */
	uint8_t *dst_area = malloc(MAXLEN + 2 * SLACK);
	uint8_t src[MAXLEN], want[MAXLEN];
	uint64_t seed = 0x6d61736b31ull;
	const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	cr_assert_not_null(dst_area);

	for (size_t len = 0; len <= MAXLEN; len++) {
		fill_rand(src, len, &seed);
		for (unsigned align = 0; align < 32; align++) {
			/* the highest start <= end - len at this alignment */
			uintptr_t hi = (uintptr_t)(end - len);
			uint8_t *in = (uint8_t *)(hi - ((hi - align) & 31));
			size_t after = (size_t)(end - (in + len));
			unsigned dalign = (align * 7 + 3) & 31;
			uintptr_t dlo = (uintptr_t)dst_area + 32;
			uint8_t *out = (uint8_t *)(dlo + ((dalign - dlo) & 31));

			for (uint64_t off = 0; off < 4; off++) {
				ref_mask(want, src, len, key, off);
				for (size_t k = 0; k < N_IMPLS; k++) {
					if (!runnable(k))
						continue;
					/* in place, in the guarded area */
					memset(in - 32, CANARY, 32);
					memcpy(in, src, len);
					memset(in + len, CANARY, after);
					impls[k].inplace(in, len, key, off);
					if (memcmp(in, want, len) != 0)
						cr_assert_fail("%s in place: len %zu align %u offset %u differs",
							 impls[k].name, len, align, (unsigned)off);
					for (size_t j = 0; j < 32; j++)
						cr_assert_eq((in - 32)[j], CANARY, "%s wrote before the buffer",
							     impls[k].name);
					for (size_t j = 0; j < after; j++)
						cr_assert_eq(in[len + j], CANARY, "%s wrote past the buffer",
							     impls[k].name);

					/* copy: src guarded, dst between canaries */
					memcpy(in, src, len);
					memset(out - 32, CANARY, len + 64);
					impls[k].copy(out, in, len, key, off);
					if (memcmp(out, want, len) != 0)
						cr_assert_fail("%s copy: len %zu align %u/%u offset %u differs",
							 impls[k].name, len, align, dalign, (unsigned)off);
					cr_assert(memcmp(in, src, len) == 0, "%s copy changed its source",
						  impls[k].name);
					for (size_t j = 0; j < 32; j++) {
						cr_assert_eq((out - 32)[j], CANARY);
						cr_assert_eq(out[len + j], CANARY);
					}
				}
			}
		}
	}
	free(dst_area);
	guard_free(area);
}

/* Every length ending exactly at the guard page, random keys. */
Test(mask, guarded_end)
{
	uint64_t seed = 0x6775617264ull;
	uint8_t src[MAXLEN + 300], want[MAXLEN + 300];

	for (size_t len = 0; len <= sizeof(src); len++) {
		uint8_t key[4];
		rand_key(key, &seed);
		fill_rand(src, len, &seed);
		uint64_t off = test_rand(&seed);
		ref_mask(want, src, len, key, off);
		for (size_t k = 0; k < N_IMPLS; k++) {
			if (!runnable(k))
				continue;
			uint8_t *g = guard_copy(src, len);
			impls[k].inplace(g, len, key, off);
			cr_assert(memcmp(g, want, len) == 0, "%s: len %zu", impls[k].name, len);
			guard_free(g);
		}
	}
}

Test(mask, large_random)
{
	static const size_t extra[] = { 0, 1, 3, 31, 33, 127, 4093 };
	uint64_t seed = 0x6c61726765ull;
	size_t max = (1u << 20) + 4093;
	uint8_t *src = malloc(max), *want = malloc(max), *out = malloc(max + 1);
	cr_assert(src && want && out);

	for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]); e++) {
		size_t len = (1u << 20) + extra[e];
		uint8_t key[4];
		rand_key(key, &seed);
		uint64_t off = test_rand(&seed);
		fill_rand(src, len, &seed);
		ref_mask(want, src, len, key, off);
		for (size_t k = 0; k < N_IMPLS; k++) {
			if (!runnable(k))
				continue;
			uint8_t *g = guard_copy(src, len);
			impls[k].inplace(g, len, key, off);
			cr_assert(memcmp(g, want, len) == 0, "%s in place: len %zu",
				  impls[k].name, len);
			/* copy to an odd destination address */
			impls[k].copy(out + 1, src, len, key, off);
			cr_assert(memcmp(out + 1, want, len) == 0, "%s copy: len %zu",
				  impls[k].name, len);
			guard_free(g);
		}
	}
	free(src);
	free(want);
	free(out);
}

/* Unmasking in pieces with running offsets gives the whole-buffer result. */
Test(mask, pieces_equal_whole)
{
	uint64_t seed = 0x7069656365ull;
	size_t max = 70000;
	uint8_t *src = malloc(max), *want = malloc(max), *buf = malloc(max);
	cr_assert(src && want && buf);

	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)(test_rand(&seed) % max);
		uint8_t key[4];
		rand_key(key, &seed);
		fill_rand(src, len, &seed);
		ref_mask(want, src, len, key, 0);
		for (size_t k = 0; k < N_IMPLS; k++) {
			if (!runnable(k))
				continue;
			memcpy(buf, src, len);
			size_t at = 0;
			while (at < len) {
				/* short and long pieces both */
				size_t lim = (test_rand(&seed) & 1) ? 40 : 9000;
				size_t n = 1 + (size_t)(test_rand(&seed) % lim);
				if (n > len - at)
					n = len - at;
				if (test_rand(&seed) & 1) {
					impls[k].inplace(buf + at, n, key, at);
				} else {
					uint8_t *g = guard_copy(buf + at, n);
					impls[k].copy(buf + at, g, n, key, at);
					guard_free(g);
				}
				at += n;
			}
			cr_assert(memcmp(buf, want, len) == 0,
				  "%s: pieces differ from whole, round %d len %zu seed-derived",
				  impls[k].name, round, len);
		}
	}
	free(src);
	free(want);
	free(buf);
}

/* Only the low two bits of the offset matter. */
Test(mask, offset_wraps)
{
	const uint8_t key[4] = { 1, 2, 4, 8 };
	uint8_t a[100], b[100];
	for (size_t k = 0; k < N_IMPLS; k++) {
		if (!runnable(k))
			continue;
		memset(a, 0, sizeof(a));
		memset(b, 0, sizeof(b));
		impls[k].inplace(a, sizeof(a), key, 2);
		impls[k].inplace(b, sizeof(b), key, 0xfffffffffffffffeull);
		cr_assert(memcmp(a, b, sizeof(a)) == 0, "%s", impls[k].name);
		cr_assert_eq(a[0], 4);
		cr_assert_eq(a[1], 8);
		cr_assert_eq(a[2], 1);
	}
}

Test(mask, twice_is_identity)
{
	uint64_t seed = 0x7477696365ull;
	uint8_t src[5000], buf[5000], tmp[5000];

	for (int round = 0; round < 300; round++) {
		size_t len = (size_t)(test_rand(&seed) % sizeof(src));
		uint8_t key[4];
		rand_key(key, &seed);
		uint64_t off = test_rand(&seed);
		fill_rand(src, len, &seed);
		for (size_t k = 0; k < N_IMPLS; k++) {
			if (!runnable(k))
				continue;
			memcpy(buf, src, len);
			impls[k].inplace(buf, len, key, off);
			if (len >= 8 && (key[0] | key[1] | key[2] | key[3]))
				cr_assert(memcmp(buf, src, len) != 0, "%s did nothing",
					  impls[k].name);
			impls[k].inplace(buf, len, key, off);
			cr_assert(memcmp(buf, src, len) == 0, "%s: twice is not identity",
				  impls[k].name);
			impls[k].copy(tmp, src, len, key, off);
			impls[k].copy(buf, tmp, len, key, off);
			cr_assert(memcmp(buf, src, len) == 0, "%s copy: twice is not identity",
				  impls[k].name);
		}
	}
}

/* The RFC 6455 section 5.7 example: "Hello" masked with 37 fa 21 3d. */
Test(mask, rfc_example)
{
	const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	const uint8_t masked[5] = { 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	for (size_t k = 0; k < N_IMPLS; k++) {
		if (!runnable(k))
			continue;
		uint8_t *g = guard_copy(masked, 5);
		impls[k].inplace(g, 5, key, 0);
		cr_assert(memcmp(g, "Hello", 5) == 0, "%s", impls[k].name);
		guard_free(g);
	}
}

static int env_set(void)
{
	const char *v = getenv("RWS_NO_AVX2");
	return v && v[0] && strcmp(v, "0") != 0;
}

/* The dispatch choice follows the CPU and the RWS_NO_AVX2 override. */
Test(mask, dispatch_choice)
{
	cr_assert_eq(rws_cpu_has_avx2(), cpu_avx2() && !env_set(),
		     "rws_cpu_has_avx2() = %d, cpu %d, RWS_NO_AVX2 %s",
		     rws_cpu_has_avx2(), cpu_avx2(), env_set() ? "set" : "unset");
}

/* Runs this binary again with RWS_NO_AVX2=1 and checks that dispatch_choice
 * passes there too, i.e. the override really turns AVX2 off. BXFI_MAP is
 * Criterion's own marker for its worker processes; the child must not
 * inherit it or it takes itself for a worker. */
Test(mask, env_override)
{
	if (env_set() || !cpu_avx2())
		cr_skip_test("needs an AVX2 CPU and no RWS_NO_AVX2 already set");
	char cmd[512];
	char exe[256];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert(n > 0);
	exe[n] = 0;
	snprintf(cmd, sizeof(cmd),
		 "env -u BXFI_MAP RWS_NO_AVX2=1 '%s' --filter 'mask/dispatch_choice' --jobs 1 2>&1", exe);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	char line[512];
	int ok = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "Tested: 1") && strstr(line, "Passing: 1"))
			ok = 1;
	int rc = pclose(f);
	cr_assert(ok && rc == 0, "child run with RWS_NO_AVX2=1 failed (rc %d)", rc);
}
