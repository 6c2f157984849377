/*
 * mask: see mask.h. XOR with the 4-byte masking key of RFC 6455 section 5.3.
 *
 * Both paths first rotate the key by (offset & 3), so that byte 0 of the
 * rotated key applies to buf[0]; after that the key repeats with period 4 and
 * any multiple of 4 bytes (8 for the scalar word, 32 for a YMM register) sees
 * the same pattern again. Unaligned loads and stores go through memcpy() or
 * the loadu/storeu intrinsics, so any start address and any length work.
 *
 * The AVX2 functions carry target("avx2") attributes because the build does
 * not pass -mavx2; only the dispatchers below may reach them on a CPU without
 * it. This file owns the CPU choice for the whole protocol core: utf8.c asks
 * rws_cpu_has_avx2() too.
 */
#include "protocol/mask.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2")))

/* -1 until decided; decided once, before main(), by choose_impl() or by
 * whichever constructor asks rws_cpu_has_avx2() first (utf8.c's may run
 * earlier), and read-only afterwards. */
static int use_avx2 = -1;

static int env_forbids_avx2(void)
{
	const char *v = getenv("RWS_NO_AVX2");
	return v && v[0] && strcmp(v, "0") != 0;
}

int rws_cpu_has_avx2(void)
{
	if (use_avx2 < 0) {
		__builtin_cpu_init();
		use_avx2 = __builtin_cpu_supports("avx2") && !env_forbids_avx2();
	}
	return use_avx2;
}

__attribute__((constructor)) static void choose_impl(void)
{
	rws_cpu_has_avx2();
}

static uint32_t key32(const uint8_t key[4], uint64_t offset)
{
	unsigned r = (unsigned)(offset & 3);
	uint8_t k[4] = { key[r], key[(r + 1) & 3], key[(r + 2) & 3], key[(r + 3) & 3] };
	uint32_t w;
	memcpy(&w, k, 4);
	return w;
}

static void mask_tail(uint8_t *dst, const uint8_t *src, size_t len, uint32_t k32)
{
	uint64_t k64 = (uint64_t)k32 << 32 | k32;
	size_t i = 0;

	for (; len - i >= 8; i += 8) {
		uint64_t w;
		memcpy(&w, src + i, 8);
		w ^= k64;
		memcpy(dst + i, &w, 8);
	}
	/* i is a multiple of 8, so the key lines up again with byte 0 of k32 */
	for (unsigned j = 0; i < len; i++, j++)
		dst[i] = src[i] ^ (uint8_t)(k64 >> (8 * j));
}

static void mask_words(uint8_t *dst, const uint8_t *src, size_t len, uint32_t k32)
{
	uint64_t k64 = (uint64_t)k32 << 32 | k32;
	size_t i = 0;

	/* four independent words per round keep two load ports busy */
	for (; len - i >= 32; i += 32) {
		uint64_t w[4];
		memcpy(w, src + i, 32);
		w[0] ^= k64;
		w[1] ^= k64;
		w[2] ^= k64;
		w[3] ^= k64;
		memcpy(dst + i, w, 32);
	}
	mask_tail(dst + i, src + i, len - i, k32);
}

void rws_mask_scalar(uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset)
{
	mask_words(buf, buf, len, key32(key, offset));
}

void rws_mask_copy_scalar(uint8_t *dst, const uint8_t *src, size_t len,
			  const uint8_t key[4], uint64_t offset)
{
	mask_words(dst, src, len, key32(key, offset));
}

/*
 * Four registers per round, with stores aligned to 32 bytes once the buffer
 * is long enough for the scalar head to pay off: a store that splits a cache
 * line costs a second cache access. Loads from src stay unaligned (for the
 * in-place case they are aligned too).
 */
AVX2 static void mask_ymm(uint8_t *dst, const uint8_t *src, size_t len, uint32_t k32)
{
	size_t i = 0;

	if (len >= 256) {
		size_t head = (size_t)(-(uintptr_t)dst & 31);
		if (head) {
			mask_tail(dst, src, head, k32);
			unsigned r = 8 * (unsigned)(head & 3);
			if (r)
				k32 = k32 >> r | k32 << (32 - r);
			i = head;
		}
	}
	__m256i k = _mm256_set1_epi32((int)k32);
	for (; len - i >= 128; i += 128) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(src + i + 32));
		__m256i c = _mm256_loadu_si256((const __m256i *)(src + i + 64));
		__m256i d = _mm256_loadu_si256((const __m256i *)(src + i + 96));
		_mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, k));
		_mm256_storeu_si256((__m256i *)(dst + i + 32), _mm256_xor_si256(b, k));
		_mm256_storeu_si256((__m256i *)(dst + i + 64), _mm256_xor_si256(c, k));
		_mm256_storeu_si256((__m256i *)(dst + i + 96), _mm256_xor_si256(d, k));
	}
	for (; len - i >= 32; i += 32) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
		_mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, k));
	}
	mask_tail(dst + i, src + i, len - i, k32);
}

AVX2 void rws_mask_avx2(uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset)
{
	mask_ymm(buf, buf, len, key32(key, offset));
}

AVX2 void rws_mask_copy_avx2(uint8_t *dst, const uint8_t *src, size_t len,
			     const uint8_t key[4], uint64_t offset)
{
	mask_ymm(dst, src, len, key32(key, offset));
}

void rws_mask(uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset)
{
	if (use_avx2 > 0)
		rws_mask_avx2(buf, len, key, offset);
	else
		rws_mask_scalar(buf, len, key, offset);
}

void rws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
		   const uint8_t key[4], uint64_t offset)
{
	if (use_avx2 > 0)
		rws_mask_copy_avx2(dst, src, len, key, offset);
	else
		rws_mask_copy_scalar(dst, src, len, key, offset);
}
