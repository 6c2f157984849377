/*
 * ringload_hist: the latency histogram, log-linear as HdrHistogram lays it
 * out. Values below 256 ns have a bucket each; above, a value v with its
 * highest bit at position b >= 8 falls in one of 128 buckets of width
 * 2^(b-7), so the bucket index is (b-7)*128 + (v >> (b-7)). Recording is a
 * count-leading-zeros and an increment; no value is ever dropped (the last
 * bucket catches everything past ~4,400 s, and the exact maximum is kept).
 */
#include "ringload.h"

static unsigned bucket_of(uint64_t v)
{
	if (v < 256)
		return (unsigned)v;
	unsigned b = 63u - (unsigned)__builtin_clzll(v);
	unsigned e = b - 7;
	unsigned i = e * 128 + (unsigned)(v >> e);
	return i < RL_HIST_BUCKETS ? i : RL_HIST_BUCKETS - 1;
}

/* The middle of bucket i, in ns. */
static uint64_t bucket_mid(unsigned i)
{
	if (i < 256)
		return i;
	unsigned e = i / 128 - 1;
	uint64_t m = i - e * 128;
	return (m << e) + ((1ull << e) >> 1);
}

void rl_hist_record(struct rl_hist *h, uint64_t ns)
{
	h->count[bucket_of(ns)]++;
	h->n++;
	if (ns > h->max)
		h->max = ns;
}

uint64_t rl_hist_quantile(const struct rl_hist *h, double q)
{
	if (!h->n)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)h->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->n)
		rank = h->n;
	uint64_t seen = 0;
	for (unsigned i = 0; i < RL_HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= rank) {
			uint64_t v = bucket_mid(i);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}
