/*
 * ringload_tls: TLS on every connection of a run (--tls, wss://), on the
 * runtime's in-memory TLS layer (engine/runtime/tls.h), so that the ring
 * stays the only I/O. What a receive brings is fed to the session, and the
 * plaintext read back goes to the receive side (ringload_recv.c) as if it
 * had come off the socket, so every echoed byte is checked as without TLS.
 * What a send would carry is encrypted into the session's output, and the
 * ciphertext is copied from there to the pool buffer the send holds. The
 * copy matters: the session grows (and so moves) its output as more is
 * written, and a send in flight needs its bytes to stay where they are
 * until its completion.
 *
 * The TLS handshake runs in CS_HANDSHAKE, before the WebSocket upgrade (in
 * raw mode, before the connection counts as open): the ClientHello at the
 * connect, the client's next flight when the server's arrives; once the
 * session is up, the upgrade request is due. A session that fails is torn
 * down at once, without sending wolfSSL's alert: a load generator only
 * needs to report it.
 *
 * Neighbours: ringload_engine.c calls in at the connect, each send and the
 * teardown; ringload_recv.c parses the plaintext.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringload_engine.h"

#define TLS_RX 32768		/* plaintext per read: a read yields at most a record */
#define RECORD 16384		/* the largest record payload */
#define RECORD_COST 64		/* what a record adds, at most: header, nonce, tag (29 B in TLS 1.2) */

size_t rl_tls_overhead(size_t n)
{
	return (n / RECORD + 1) * RECORD_COST;
}

int rl_tls_setup(void)
{
	rl.tls_rx = malloc(TLS_RX);
	rl.tls_plain = malloc(rl.tls_cap);
	if (!rl.tls_rx || !rl.tls_plain) {
		fprintf(stderr, "ringload: out of memory for TLS buffers\n");
		return -1;
	}
	return 0;
}

void rl_tls_cleanup(void)
{
	free(rl.tls_rx);
	free(rl.tls_plain);
}

void rl_tls_conn_free(struct rl_conn *c)
{
	rws_tls_free(c->tls);
	c->tls = NULL;
}

size_t rl_tls_pending(const struct rl_conn *c)
{
	return c->tls ? rws_tls_out_len(c->tls) : 0;
}

int rl_tls_start(struct rl_conn *c)
{
	c->tls = rws_tls_new_client(rl.o->tls_ctx, rl.o->tls_host);
	if (!c->tls) {
		rl_fail(c, "TLS: cannot set up a session (out of memory)");
		return -1;
	}
	/* nothing received yet: this writes the ClientHello */
	if (rws_tls_read(c->tls, rl.tls_rx, 0) != RWS_TLS_E_WANT) {
		rl_fail(c, "TLS handshake: %s", rws_tls_error(c->tls));
		return -1;
	}
	rl_mark_dirty(c);
	return 0;
}

/* The handshake is done: the upgrade request is due (raw: the load may
 * begin). */
static void tls_up(struct rl_conn *c)
{
	c->flags |= CF_TLS_UP;
	if (!rl.r->tls_version[0]) {
		snprintf(rl.r->tls_version, sizeof(rl.r->tls_version), "%s", rws_tls_version(c->tls));
		snprintf(rl.r->tls_cipher, sizeof(rl.r->tls_cipher), "%s", rws_tls_cipher(c->tls));
	}
	if (rl.raw)
		rl_established(c);
	else
		c->flags |= CF_HS_DUE;
	rl_mark_dirty(c);
}

/* rc, an error of c's session; p[0..n) what had just arrived. */
static void tls_failed(struct rl_conn *c, int rc, const uint8_t *p, size_t n)
{
	if (c->flags & CF_TLS_UP)
		rl_fail(c, "conn %u: TLS: %s", c->idx, rws_tls_error(c->tls));
	else if (rc != RWS_TLS_E_VERIFY && n >= 5 && !memcmp(p, "HTTP/", 5))
		rl_fail(c, "TLS handshake: the server answered in plain HTTP (is this port serving "
			"TLS?)");
	else
		rl_fail(c, "TLS handshake: %s", rws_tls_error(c->tls));
}

void rl_tls_recv(struct rl_conn *c, const uint8_t *p, size_t n)
{
	if (rws_tls_feed(c->tls, p, n) < 0) {
		rl_fail(c, "conn %u: TLS: out of memory", c->idx);
		return;
	}
	for (;;) {
		int k = rws_tls_read(c->tls, rl.tls_rx, TLS_RX);
		if (!(c->flags & CF_TLS_UP) && rws_tls_ready(c->tls))
			tls_up(c);
		if (k > 0) {
			rl_rx_bytes(c, rl.tls_rx, (size_t)k);
			if (c->state == CS_DEAD)
				return;
			continue;
		}
		if (k == RWS_TLS_E_WANT)
			break;
		if (k == RWS_TLS_E_CLOSED) {
			rl_on_eof(c);	/* close_notify: the end of the server's stream */
			return;
		}
		tls_failed(c, k, p, n);
		return;
	}
	/* the handshake's next flight (or anything else the session wrote) */
	if (rws_tls_out_len(c->tls))
		rl_mark_dirty(c);
}

long rl_tls_seal(struct rl_conn *c, const uint8_t *plain, size_t len, uint8_t *out, size_t cap)
{
	if (len && rws_tls_write(c->tls, plain, len) < 0) {
		rl_fail(c, "conn %u: TLS: %s", c->idx, rws_tls_error(c->tls));
		return -1;
	}
	size_t k = rws_tls_out_len(c->tls);
	if (k > cap)
		k = cap;
	memcpy(out, rws_tls_out(c->tls), k);
	rws_tls_out_consume(c->tls, k);
	return (long)k;
}
