/*
 * micro_mask_utf8: throughput of the payload mask and UTF-8 validation,
 * each against memcpy() over the same buffers, for the scalar and AVX2 paths
 * and, for validation, the dispatching rws_utf8_feed() that session.c calls.
 * Prints ratio = memcpy time / operation time (above 1: faster than memcpy),
 * from the median of several interleaved repetitions.
 *
 * Build and run from the repository root:
 *   make build/bench/micro_mask_utf8 && build/bench/micro_mask_utf8
 * RWS_NO_AVX2=1 leaves out the AVX2 rows.
 *
 * Cases: in-place mask at 16 KiB (cache-resident) and 64 MiB (memory bound);
 * validation of ASCII and of text where 30% of the characters are multibyte
 * (2, 3 and 4 bytes), as one 16 KiB buffer and as 256-byte messages checked
 * one by one with rws_utf8_finish() after each.
 *
 * Both sides of a ratio do the same per-message loop over the same bytes:
 * one call per message through a function pointer, memcpy() through a
 * volatile one so that the compiler can neither inline nor drop it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/mask.h"
#include "protocol/utf8.h"

#define REPS 15

/* Through a volatile pointer so the compiler calls the libc memcpy. */
static void *(*volatile copy_fn)(void *, const void *, size_t) = memcpy;
static volatile int sink;

/* CPU time of this thread: on a shared machine, time spent preempted
 * would otherwise land in whichever side was running. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* One operation over a buffer cut into messages of msg bytes: mask or feed
 * is set, and dst is where memcpy() copies to. */
struct job {
	uint8_t *buf, *dst;
	size_t len, msg;
	int iters;
	void (*mask)(uint8_t *, size_t, const uint8_t[4], uint64_t);
	int (*feed)(uint8_t *, const uint8_t *, size_t);
};

static double run_memcpy(const struct job *j)
{
	double t = now();
	for (int it = 0; it < j->iters; it++)
		for (size_t at = 0; at < j->len; at += j->msg)
			copy_fn(j->dst + at, j->buf + at, j->msg);
	__asm__ volatile("" ::: "memory");
	return now() - t;
}

static double run_mask(const struct job *j)
{
	static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	double t = now();
	for (int it = 0; it < j->iters; it++)
		for (size_t at = 0; at < j->len; at += j->msg)
			j->mask(j->buf + at, j->msg, key, 0);
	__asm__ volatile("" ::: "memory");
	return now() - t;
}

/* Each message from ACCEPT, ended with rws_utf8_finish(), as session.c
 * does for a text message received whole. */
static double run_feed(const struct job *j)
{
	int bad = 0;
	double t = now();
	for (int it = 0; it < j->iters; it++) {
		for (size_t at = 0; at < j->len; at += j->msg) {
			uint8_t st = RWS_UTF8_ACCEPT;
			bad |= j->feed(&st, j->buf + at, j->msg) | rws_utf8_finish(st);
		}
	}
	__asm__ volatile("" ::: "memory");
	t = now() - t;
	sink = bad;
	if (bad) {
		fprintf(stderr, "benchmark input is not valid UTF-8\n");
		exit(1);
	}
	return t;
}

static double run_op(const struct job *j)
{
	return j->mask ? run_mask(j) : run_feed(j);
}

/* Prints memcpy and op throughput and returns memcpy time / op time, from
 * the medians of interleaved repetitions. */
static double ratio(struct job *j)
{
	double tc[REPS], to[REPS];
	run_memcpy(j);		/* warm up: page faults, caches */
	run_op(j);
	for (int r = 0; r < REPS; r++) {
		tc[r] = run_memcpy(j);
		to[r] = run_op(j);
	}
	double bytes = (double)j->len * j->iters;
	double c = median(tc, REPS), o = median(to, REPS);
	printf("%6.1f GB/s vs memcpy %6.1f GB/s  ", bytes / o * 1e-9, bytes / c * 1e-9);
	return c / o;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static size_t put_cp(uint8_t *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = (uint8_t)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (uint8_t)(0xc0 | c >> 6);
		o[1] = (uint8_t)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (uint8_t)(0xe0 | c >> 12);
		o[1] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | c >> 18);
	o[1] = (uint8_t)(0x80 | (c >> 12 & 0x3f));
	o[2] = (uint8_t)(0x80 | (c >> 6 & 0x3f));
	o[3] = (uint8_t)(0x80 | (c & 0x3f));
	return 4;
}

/* Valid text, each msg-byte piece complete on its own: 70% of the
 * characters ASCII, 30% multibyte (15% 2-byte, 10% 3-byte, 5% 4-byte). */
static void fill_mixed(uint8_t *p, size_t len, size_t msg)
{
	for (size_t m = 0; m < len; m += msg) {
		size_t n = 0;
		while (n + 4 <= msg) {
			uint32_t r = rnd() % 100, c;
			if (r < 70)
				c = 0x20 + rnd() % 0x5f;
			else if (r < 85)
				c = 0x80 + rnd() % 0x780;
			else if (r < 95)
				c = 0x4e00 + rnd() % 0x5000;	/* CJK, no surrogates */
			else
				c = 0x1f300 + rnd() % 0x300;	/* emoji */
			n += put_cp(p + m + n, c);
		}
		while (n < msg)
			p[m + n++] = ' ';
	}
}

static void fill_ascii(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(0x20 + rnd() % 0x5f);
}

int main(void)
{
	size_t big = 64u << 20, small = 16u << 10;
	uint8_t *buf = aligned_alloc(64, big), *dst = aligned_alloc(64, big);
	if (!buf || !dst)
		return 1;
	memset(buf, 0x5a, big);
	memset(dst, 0, big);
	int avx2 = rws_cpu_has_avx2();
	printf("ratio = memcpy time / operation time (median of %d); AVX2 %s\n", REPS,
	       avx2 ? "in use" : "not in use (scalar only)");

	struct {
		const char *name;
		void (*fn)(uint8_t *, size_t, const uint8_t[4], uint64_t);
	} masks[] = { { "scalar", rws_mask_scalar }, { "avx2", rws_mask_avx2 } };
	for (int k = 0; k < (avx2 ? 2 : 1); k++) {
		struct job j = { buf, dst, small, small, 1000, masks[k].fn, NULL };
		printf("mask in place  16 KiB         %-6s  ", masks[k].name);
		printf("%.2fx\n", ratio(&j));
		j.len = j.msg = big;
		j.iters = 1;
		printf("mask in place  64 MiB         %-6s  ", masks[k].name);
		printf("%.2fx\n", ratio(&j));
	}

	struct {
		const char *name;
		int (*fn)(uint8_t *, const uint8_t *, size_t);
	} feeds[] = { { "scalar", rws_utf8_feed_scalar }, { "avx2", rws_utf8_feed_avx2 },
		      { "auto", rws_utf8_feed } };
	for (int text = 0; text < 2; text++) {
		for (int shape = 0; shape < 2; shape++) {
			size_t msg = shape ? 256 : small;
			if (text)
				fill_mixed(buf, small, msg);
			else
				fill_ascii(buf, small);
			for (int k = 0; k < 3; k++) {
				if (k == 1 && !avx2)
					continue;
				struct job j = { buf, dst, small, msg, 1000, NULL, feeds[k].fn };
				printf("utf8 %-6s %s %-6s  ", text ? "mixed" : "ascii",
				       shape ? "256 B messages" : "16 KiB        ", feeds[k].name);
				printf("%.2fx\n", ratio(&j));
			}
		}
	}
	free(buf);
	free(dst);
	return 0;
}
