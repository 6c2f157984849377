/*
 * ringload_pmd: permessage-deflate (RFC 7692) for ringload's --deflate, on
 * engine/protocol's libdeflate transform.
 *
 * The offer is "permessage-deflate; client_no_context_takeover": we promise
 * to compress each message on its own (libdeflate keeps no state), and leave
 * the server free to keep its compression context or not, as a browser's
 * offer does. The server's answer is checked with rws_pmd_client_accept();
 * a server that declines fails the connection with a message that says so,
 * since a "compressed" benchmark that is not compressed would mislead.
 *
 * Sending: a message at or above the threshold goes out compressed, RSV1 on
 * its one frame, when that makes it smaller. Corpus messages are compressed
 * once at start-up (without context takeover a message compresses to the
 * same bytes every time), so ringload's own CPU goes to the load; generated
 * messages carry their sequence number and time and are compressed as they
 * are written.
 *
 * Receiving: the payload of a compressed message is gathered across its
 * frames (ringload_recv.c takes a one-frame message straight from the
 * receive buffer), then inflated, bounded by the length that was sent, with
 * the server's window when it keeps its context, and checked byte for byte
 * by ringload_recv.c like any other message.
 *
 * Neighbours: ringload_engine.c writes the frames, ringload_recv.c parses
 * them; engine/protocol/pmd.c and pmd_negotiate.c do the work.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/mask.h"
#include "ringload_engine.h"

int rl_pmd_setup(void)
{
	const struct rl_opts *o = rl.o;

	rws_pmd_config_default(&rl.pmd_cfg);
	rl.pmd_cfg.server_no_context_takeover = 0;	/* the server's choice */
	int n = rws_pmd_client_offer(&rl.pmd_cfg, rl.pmd_offer, sizeof(rl.pmd_offer));
	if (n < 0) {
		fprintf(stderr, "ringload: permessage-deflate offer: %s\n", rws_pmd_strerror(n));
		return -1;
	}
	rl.zc = rws_pmd_compressor_new(RWS_PMD_LEVEL_DEFAULT);
	rl.zd = rws_pmd_decompressor_new();
	if (!rl.zc || !rl.zd)
		goto oom;
	if (o->mode == RL_IDLE)
		return 0;
	if (!rl.corpus) {
		rl.zplain = malloc(o->size);
		rl.zout = malloc(o->size);
		if (!rl.zplain || !rl.zout)
			goto oom;
		return 0;
	}
	/* each compressed message is shorter than its original, so the
	 * corpus's size bounds them all */
	uint64_t total = rl.coff[rl.cn];
	rl.zcorpus = malloc(total ? total : 1);
	rl.zcoff = malloc(((size_t)rl.cn + 1) * sizeof(*rl.zcoff));
	if (!rl.zcorpus || !rl.zcoff)
		goto oom;
	uint64_t at = 0;
	for (uint32_t i = 0; i < rl.cn; i++) {
		uint64_t len = rl.coff[i + 1] - rl.coff[i];
		rl.zcoff[i] = at;
		if (len < o->deflate_threshold || len < 2)
			continue;
		long z = rws_pmd_compress(rl.zc, rl.corpus + rl.coff[i], len, rl.zcorpus + at,
					  len - 1);
		if (z > 0)
			at += (uint64_t)z;	/* otherwise it would not shrink: sent as it is */
	}
	rl.zcoff[rl.cn] = at;
	return 0;
oom:
	fprintf(stderr, "ringload: out of memory for permessage-deflate\n");
	return -1;
}

void rl_pmd_cleanup(void)
{
	rws_pmd_compressor_free(rl.zc);
	rws_pmd_decompressor_free(rl.zd);
	free(rl.zplain);
	free(rl.zout);
	free(rl.zcorpus);
	free(rl.zcoff);
	rl.zc = NULL;
	rl.zd = NULL;
	rl.zplain = rl.zout = rl.zcorpus = NULL;
	rl.zcoff = NULL;
}

/* "permessage-deflate; server_no_context_takeover; ..." for the report */
static void describe(const struct rws_pmd_params *a, char *out, size_t cap)
{
	int n = snprintf(out, cap, "permessage-deflate");
	if (a->server_no_context_takeover)
		n += snprintf(out + n, cap - (size_t)n, "; server_no_context_takeover");
	if (a->client_no_context_takeover)
		n += snprintf(out + n, cap - (size_t)n, "; client_no_context_takeover");
	if (a->server_max_window_bits < RWS_PMD_WINDOW_BITS_MAX)
		n += snprintf(out + n, cap - (size_t)n, "; server_max_window_bits=%u",
			      a->server_max_window_bits);
	if (a->client_max_window_bits < RWS_PMD_WINDOW_BITS_MAX)
		snprintf(out + n, cap - (size_t)n, "; client_max_window_bits=%u",
			 a->client_max_window_bits);
}

int rl_pmd_accept(struct rl_conn *c)
{
	struct rws_pmd_params a;
	int rc = rws_pmd_client_accept(&rl.pmd_cfg, rl.hsres.extensions, rl.hsres.num_extensions,
				       &a);
	if (rc < 0) {
		rl_fail(c, "handshake: the server's permessage-deflate answer does not fit our offer "
			"(%s): %s", rl.pmd_offer, rws_pmd_strerror(rc));
		return -1;
	}
	if (!a.enabled) {
		rl_fail(c, "handshake: the server declined permessage-deflate (--deflate asks for it; "
			"is compression enabled on the server, e.g. ringwsd --deflate?)");
		return -1;
	}
	/* client_no_context_takeover is always agreed: our offer promised it */
	c->flags |= CF_PMD;
	c->zbits = a.server_no_context_takeover ? 0 : a.server_max_window_bits;
	if (!rl.r->deflate_params[0])
		describe(&a, rl.r->deflate_params, sizeof(rl.r->deflate_params));
	return 0;
}

size_t rl_pmd_write(struct rl_conn *c, uint8_t *w, uint64_t seq, const uint8_t *head,
		    size_t len, const uint8_t key[4])
{
	const uint8_t *z;
	size_t zlen;

	if (len < rl.o->deflate_threshold)
		return 0;
	if (rl.corpus) {
		uint32_t i = rl_msg_index(c->idx, seq);
		zlen = rl.zcoff[i + 1] - rl.zcoff[i];
		if (!zlen)
			return 0;
		z = rl.zcorpus + rl.zcoff[i];
	} else {
		memcpy(rl.zplain, head, 16);
		memcpy(rl.zplain + 16, rl.pat + (seq & 63) + 16, len - 16);
		long n = rws_pmd_compress(rl.zc, rl.zplain, len, rl.zout, len - 1);
		if (n <= 0)
			return 0;
		z = rl.zout;
		zlen = (size_t)n;
	}
	size_t h = rws_frame_encode(w, 1, RWS_RSV1, rl.opcode, zlen, key);
	rws_mask_copy(w + h, z, zlen, key, 0);
	return h + zlen;
}

static struct rl_z *zstate(struct rl_conn *c)
{
	if (!c->z)
		c->z = calloc(1, sizeof(*c->z));
	return c->z;
}

int rl_pmd_gather(struct rl_conn *c, const uint8_t *p, size_t k)
{
	struct rl_z *z = zstate(c);
	if (!z) {
		rl_fail(c, "out of memory");
		return -1;
	}
	/* deflate can grow incompressible data a little; more than this is not
	 * the message that was sent */
	uint64_t bound = c->mlen + c->mlen / 64 + 1024;
	if (z->len + k > bound) {
		rl_fail(c, "conn %u: message %llu: over %llu bytes of compressed data for the %llu "
			"bytes sent", c->idx, (unsigned long long)c->rx_seq + 1,
			(unsigned long long)bound, (unsigned long long)c->mlen);
		return -1;
	}
	if (z->len + k > z->cap) {
		size_t cap = z->cap ? z->cap * 2 : 4096;
		while (cap < z->len + k)
			cap *= 2;
		uint8_t *b = realloc(z->buf, cap);
		if (!b) {
			rl_fail(c, "out of memory");
			return -1;
		}
		z->buf = b;
		z->cap = cap;
	}
	memcpy(z->buf + z->len, p, k);
	z->len += k;
	return 0;
}

int rl_pmd_inflate(struct rl_conn *c, const uint8_t *in, size_t len, uint8_t **out,
		   size_t *outlen)
{
	struct rws_pmd_window *win = NULL;
	if (c->zbits) {
		struct rl_z *z = zstate(c);
		if (z && !z->win)
			z->win = rws_pmd_window_new(c->zbits);
		if (!z || !z->win) {
			rl_fail(c, "out of memory");
			return -1;
		}
		win = z->win;
	}
	int rc = rws_pmd_decompress(rl.zd, in, len, c->mlen, win, out, outlen);
	if (c->z)
		c->z->len = 0;
	if (rc == 0)
		return 0;
	if (rc == RWS_PMD_E_TOO_BIG)
		rl_fail(c, "conn %u: message %llu inflates to more than the %llu bytes sent", c->idx,
			(unsigned long long)c->rx_seq + 1, (unsigned long long)c->mlen);
	else if (rc == RWS_PMD_E_CORRUPT)
		rl_fail(c, "conn %u: message %llu: the server's compressed payload does not inflate "
			"(corrupt or cut-short deflate data)", c->idx,
			(unsigned long long)c->rx_seq + 1);
	else
		rl_fail(c, "conn %u: inflating message %llu: %s", c->idx,
			(unsigned long long)c->rx_seq + 1, strerror(-rc));
	return -1;
}

void rl_pmd_conn_free(struct rl_conn *c)
{
	if (!c->z)
		return;
	free(c->z->buf);
	rws_pmd_window_free(c->z->win);
	free(c->z);
	c->z = NULL;
}
