/*
 * ringload_recv: the receive side of the engine. Each receive completion
 * brings bytes from a provided buffer: the server's answer to the upgrade,
 * then frames, parsed in place and across buffer boundaries (a header split
 * between two reads is kept in the connection; payload is never copied).
 * Data payload is compared with what was sent as it arrives, so a message
 * of any size needs no buffer of its own; pings are answered, the server's
 * close answered and counted, and a finished message gives its latency and
 * lets a closed loop send the next one.
 *
 * For each message the expected first 16 bytes (sequence number and send
 * time) are rebuilt from what the sender recorded, and the rest is the
 * pattern at the message's offset: the check is a memcmp.
 * With a corpus the expected bytes are the corpus message itself. A
 * compressed message (RSV1, permessage-deflate) is gathered, inflated
 * (ringload_pmd.c) and then checked the same way. With TLS what arrives
 * is decrypted first (ringload_tls.c), and the plaintext comes back here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/frame.h"
#include "protocol/handshake.h"
#include "ringload_engine.h"

#define HS_MAX 8192			/* a handshake response head */

/* --- receiving and verifying ------------------------------------------- */

/* The start of a message: what its first 16 bytes must be. */
static int msg_begin(struct rl_conn *c)
{
	uint32_t s = c->idx;
	if (rl.o->mode == RL_IDLE) {
		rl_fail(c, "conn %u: a message arrived on an idle connection", c->idx);
		return -1;
	}
	if (rl.o->mode == RL_BROADCAST) {
		if (c->idx == 0) {
			rl_fail(c, "the sender (conn 0) received a message: the server echoes broadcasts");
			return -1;
		}
		s = 0;
	}
	if (c->rx_seq >= rl.c[s].tx_seq) {
		rl_fail(c, "conn %u: message %llu arrived, but only %llu were sent", c->idx,
			(unsigned long long)c->rx_seq + 1, (unsigned long long)rl.c[s].tx_seq);
		return -1;
	}
	c->mlen = rl_msg_len(s, c->rx_seq);
	c->mwire = 0;
	c->moff = 0;
	if (!rl.corpus) {
		rl_put48(c->exp, c->rx_seq);
		rl_put48(c->exp + 8, rl_sent_at(s, c->rx_seq));
	}
	return 0;
}

/* The byte at offset `at` of the message c expects. */
static uint8_t expected_at(const struct rl_conn *c, uint64_t at)
{
	if (rl.corpus)
		return rl_msg_bytes(rl.o->mode == RL_BROADCAST ? 0 : c->idx, c->rx_seq)[at];
	return at < 16 ? c->exp[at] : rl.pat[(c->rx_seq & 63) + at];
}

/* Compares k received bytes at the current message offset with what was
 * sent. */
static int rx_verify(struct rl_conn *c, const uint8_t *p, size_t k)
{
	uint64_t off = c->moff;
	size_t i = 0, m = 0;

	if (rl.corpus) {
		uint32_t s = rl.o->mode == RL_BROADCAST ? 0 : c->idx;
		if (memcmp(p, rl_msg_bytes(s, c->rx_seq) + off, k))
			goto differs;
		c->moff = off + k;
		return 0;
	}
	if (off < 16) {
		m = k < 16 - off ? k : (size_t)(16 - off);
		if (memcmp(p, c->exp + off, m))
			goto differs;
	}
	if (k > m && memcmp(p + m, rl.pat + (c->rx_seq & 63) + off + m, k - m))
		goto differs;
	c->moff = off + k;
	return 0;
differs:
	for (i = 0; i < k; i++)
		if (p[i] != expected_at(c, off + i))
			break;
	if (off + i < 8 && !rl.corpus)
		rl_fail(c, "conn %u: message %llu expected, another arrived (lost, duplicated or "
			"reordered)", c->idx, (unsigned long long)c->rx_seq + 1);
	else
		rl_fail(c, "conn %u: message %llu differs from what was sent at byte %llu of %llu",
			c->idx, (unsigned long long)c->rx_seq + 1, (unsigned long long)(off + i),
			(unsigned long long)c->mlen);
	return -1;
}

/* A whole message arrived and matched. */
static void msg_end(struct rl_conn *c)
{
	uint64_t seq = c->rx_seq++;
	uint32_t s = rl.o->mode == RL_BROADCAST ? 0 : c->idx;
	uint64_t ts = rl_sent_at(s, seq);

	if (ts >= rl.m_start && rl.now <= rl.m_end) {
		rl_hist_record(rl.r->lat, rl.now - ts);
		rl.r->messages++;
		rl.r->payload_bytes += c->mlen;
		rl.r->wire_in += c->mwire;
		rl.r->rx_compressed += (c->flags & CF_ZMSG) != 0;
	}
	c->flags &= (uint16_t)~CF_ZMSG;
	if (c->state == CS_OPEN)
		rl.outstanding--;	/* leave_open() already wrote off the rest */
	rl.last_progress = rl.now;
	if (rl.o->rate > 0)
		return;
	if (rl.o->mode == RL_BROADCAST) {
		uint32_t *n = &rl.bcnt[seq & (rl.tsr_w - 1)];
		if (++*n < rl.nreceivers)
			return;
		*n = 0;
		c = &rl.c[0];
	}
	if (rl.running && c->state == CS_OPEN) {
		c->owed++;
		rl_mark_dirty(c);
	}
}

static void rx_raw(struct rl_conn *c, const uint8_t *p, size_t n)
{
	while (n) {
		if (!c->msg_op) {
			if (msg_begin(c) < 0)
				return;
			c->msg_op = 1;
			c->mwire = c->mlen;
		}
		uint64_t size = c->mlen;
		size_t k = size - c->moff < n ? (size_t)(size - c->moff) : n;
		if (rx_verify(c, p, k) < 0)
			return;
		p += k;
		n -= k;
		if (c->moff == size) {
			c->msg_op = 0;
			msg_end(c);
		}
	}
}

static void on_control(struct rl_conn *c)
{
	switch (c->fop) {
	case RWS_OP_PING:
		memcpy(c->pong, c->ctl, c->clen);
		c->pong_len = c->clen;
		c->flags |= CF_PONG_DUE;
		rl_mark_dirty(c);
		break;
	case RWS_OP_CLOSE: {
		uint16_t code = c->clen >= 2 ? (uint16_t)(c->ctl[0] << 8 | c->ctl[1]) : 1005;
		c->flags |= CF_CLOSE_RCVD;
		if (c->state == CS_CLOSING)
			break;	/* the answer to ours */
		int rl = c->clen > 2 ? c->clen - 2 : 0;
		rl_error("conn %u: the server closed the connection (code %u%s%.*s)", c->idx, code,
			 rl ? ": " : "", rl, (const char *)c->ctl + 2);
		rl_start_closing(c, code);
		break;
	}
	default:
		break;	/* a pong */
	}
}

static int frame_begin(struct rl_conn *c, const struct rws_frame_hdr *h)
{
	c->fop = h->opcode;
	c->ffin = h->fin;
	c->left = h->len;
	if (rws_opcode_is_control(h->opcode)) {
		c->clen = 0;
		return 0;
	}
	if (h->opcode == RWS_OP_CONT) {
		if (!c->msg_op) {
			rl_fail(c, "conn %u: a continuation frame without a message", c->idx);
			return -1;
		}
		if (h->rsv & RWS_RSV1) {
			rl_fail(c, "conn %u: RSV1 on a continuation frame", c->idx);
			return -1;
		}
	} else {
		if (c->msg_op) {
			rl_fail(c, "conn %u: a new message inside a fragmented one", c->idx);
			return -1;
		}
		if (h->opcode != rl.opcode) {
			rl_fail(c, "conn %u: a %s message arrived, %s was sent", c->idx,
				h->opcode == RWS_OP_TEXT ? "text" : "binary",
				rl.opcode == RWS_OP_TEXT ? "text" : "binary");
			return -1;
		}
		c->msg_op = h->opcode;
		if (msg_begin(c) < 0)
			return -1;
		if (h->rsv & RWS_RSV1)
			c->flags |= CF_ZMSG;	/* gathered, then inflated at its end */
	}
	c->mwire += h->hdr_len + h->len;
	if (!(c->flags & CF_ZMSG) && c->moff + h->len > c->mlen) {
		rl_fail(c, "conn %u: message %llu is longer than the %llu bytes sent", c->idx,
			(unsigned long long)c->rx_seq + 1, (unsigned long long)c->mlen);
		return -1;
	}
	return 0;
}

/* A compressed message's payload in[0..len), whole: inflated, checked, and
 * done with. */
static void zmsg_end(struct rl_conn *c, const uint8_t *in, size_t len)
{
	uint8_t *out;
	size_t outlen;
	if (rl_pmd_inflate(c, in, len, &out, &outlen) < 0)
		return;
	int ok = rx_verify(c, out, outlen) == 0;
	free(out);
	if (!ok)
		return;
	if (c->moff != c->mlen) {
		rl_fail(c, "conn %u: message %llu inflates to %llu bytes, %llu were sent", c->idx,
			(unsigned long long)c->rx_seq + 1, (unsigned long long)c->moff,
			(unsigned long long)c->mlen);
		return;
	}
	c->msg_op = 0;
	msg_end(c);
}

static void frame_end(struct rl_conn *c)
{
	if (rws_opcode_is_control(c->fop)) {
		on_control(c);
		return;
	}
	if (!c->ffin)
		return;
	if (c->flags & CF_ZMSG) {
		zmsg_end(c, c->z ? c->z->buf : NULL, c->z ? c->z->len : 0);
		return;
	}
	if (c->moff != c->mlen) {
		rl_fail(c, "conn %u: message %llu has %llu bytes, %llu were sent", c->idx,
			(unsigned long long)c->rx_seq + 1, (unsigned long long)c->moff,
			(unsigned long long)c->mlen);
		return;
	}
	c->msg_op = 0;
	msg_end(c);
}

/* Frames from the server, in any split. */
static void rx_frames(struct rl_conn *c, const uint8_t *p, size_t n)
{
	unsigned rsv = (c->flags & CF_PMD) ? RWS_RSV1 : 0;
	while (n && c->state != CS_DEAD) {
		if (c->left == 0) {
			struct rws_frame_hdr h;
			size_t used;
			int rc;
			if (!c->hlen) {
				rc = rws_frame_decode(p, n, RWS_ROLE_CLIENT, rsv, &h);
				if (rc == RWS_FRAME_NEED_MORE) {
					memcpy(c->hbuf, p, n);	/* n < RWS_FRAME_HDR_MAX */
					c->hlen = (uint8_t)n;
					return;
				}
				used = rc > 0 ? (size_t)rc : 0;
			} else {
				size_t take = RWS_FRAME_HDR_MAX - c->hlen;
				if (take > n)
					take = n;
				memcpy(c->hbuf + c->hlen, p, take);
				rc = rws_frame_decode(c->hbuf, c->hlen + take, RWS_ROLE_CLIENT, rsv,
						      &h);
				if (rc == RWS_FRAME_NEED_MORE) {
					c->hlen = (uint8_t)(c->hlen + take);
					return;
				}
				used = rc > 0 ? (size_t)rc - c->hlen : 0;
				c->hlen = 0;
			}
			if (rc < 0) {
				rl_fail(c, "conn %u: a bad frame from the server: %s", c->idx,
					rws_frame_strerror(rc));
				return;
			}
			p += used;
			n -= used;
			if (frame_begin(c, &h) < 0)
				return;
			if (c->left == 0) {
				frame_end(c);
			} else if ((c->flags & CF_ZMSG) && c->ffin && c->left <= n &&
				   (!c->z || !c->z->len)) {
				/* a compressed message in one frame, all here:
				 * inflated straight from the receive buffer */
				size_t k = (size_t)c->left;
				c->left = 0;
				zmsg_end(c, p, k);
				p += k;
				n -= k;
			}
			continue;
		}
		size_t k = c->left < n ? (size_t)c->left : n;
		if (rws_opcode_is_control(c->fop)) {
			memcpy(c->ctl + c->clen, p, k);
			c->clen = (uint8_t)(c->clen + k);
		} else if (c->flags & CF_ZMSG) {
			if (rl_pmd_gather(c, p, k) < 0)
				return;
		} else if (rx_verify(c, p, k) < 0) {
			return;
		}
		p += k;
		n -= k;
		c->left -= k;
		if (c->left == 0)
			frame_end(c);
	}
}

/* The server's answer to the upgrade; returns the bytes of p it took. */
static size_t rx_handshake(struct rl_conn *c, const uint8_t *p, size_t n)
{
	const char *buf = (const char *)p;
	size_t len = n, old = c->hs_len;

	if (c->hs) {
		size_t take = HS_MAX - c->hs_len < n ? HS_MAX - c->hs_len : n;
		memcpy(c->hs + c->hs_len, p, take);
		c->hs_len += (uint32_t)take;
		buf = c->hs;
		len = c->hs_len;
	}
	int rc = rws_hs_client_parse(buf, len, NULL, &rl.hs, &c->key, &rl.hsres);
	if (rc == RWS_HTTP_INCOMPLETE) {
		if (len >= HS_MAX) {
			rl_fail(c, "handshake: the response head is over %d bytes", HS_MAX);
		} else if (!c->hs) {
			c->hs = malloc(HS_MAX);
			if (!c->hs) {
				rl_fail(c, "out of memory");
				return n;
			}
			memcpy(c->hs, p, n);
			c->hs_len = (uint32_t)n;
		}
		return n;
	}
	if (rc == RWS_HS_E_NOT_101) {
		const struct rws_http_response *h = &rl.hsres.http;
		rl_fail(c, "handshake: the server answered %d %.*s instead of 101 Switching Protocols",
			h->status, (int)h->reason.len, h->reason.p);
		return n;
	}
	if (rc < 0) {
		rl_fail(c, "handshake: %s", rws_hs_strerror(rc));
		return n;
	}
	free(c->hs);
	c->hs = NULL;
	c->hs_len = 0;
	if (rl.o->deflate && rl_pmd_accept(c) < 0)
		return n;
	rl_established(c);
	return (size_t)rc - old;
}

void rl_on_eof(struct rl_conn *c)
{
	if (c->state == CS_CLOSING && (rl.raw || (c->flags & CF_CLOSE_RCVD)))
		rl_teardown(c);	/* the end of a clean close */
	else if (c->state == CS_HANDSHAKE && c->tls && !(c->flags & CF_TLS_UP))
		rl_fail(c, "TLS handshake: the server closed the connection (is this port serving "
			"TLS?)");
	else if (c->state == CS_HANDSHAKE)
		rl_fail(c, "handshake: the server closed the connection without answering");
	else if (c->state == CS_CLOSING)
		rl_fail(c, "conn %u: the server closed the connection without answering our close",
			c->idx);
	else
		rl_fail(c, "conn %u: the server closed the connection%s", c->idx,
			rl.raw ? "" : " without a close frame");
}

void rl_rx_bytes(struct rl_conn *c, const uint8_t *p, size_t n)
{
	if (c->state == CS_HANDSHAKE) {
		size_t used = rx_handshake(c, p, n);
		p += used;
		n -= used;
	}
	if (n && (c->state == CS_OPEN || c->state == CS_CLOSING)) {
		if (rl.raw)
			rx_raw(c, p, n);
		else
			rx_frames(c, p, n);
	}
}

void rl_on_recv(struct rl_conn *c, struct io_uring_cqe *cqe)
{
	int res = cqe->res;
	const uint8_t *p = NULL;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		c->flags &= (uint16_t)~CF_RECV;
		c->nops--;
	}
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		p = rl.rbufs + (size_t)bid * rl.rb_size + rl.rb_off[bid];
		if (cqe->flags & IORING_CQE_F_BUF_MORE) {
			rl.rb_off[bid] += res > 0 ? (uint32_t)res : 0;
		} else {
			/* the kernel is done with it: back to the ring, published in
			 * one advance per batch */
			rl.rb_off[bid] = 0;
			io_uring_buf_ring_add(rl.br, rl.rbufs + (size_t)bid * rl.rb_size, rl.rb_size,
					      (unsigned short)bid, rl.rb_mask, rl.rb_pending++);
		}
	}
	if (c->state == CS_DEAD)
		return;
	if (res > 0 && p) {
		if (c->tls)
			rl_tls_recv(c, p, (size_t)res);
		else
			rl_rx_bytes(c, p, (size_t)res);
		if (c->state == CS_DEAD)
			return;
	} else if (res == 0) {
		rl_on_eof(c);
		return;
	} else if (res == -ENOBUFS) {
		rl.r->nobufs++;	/* armed again below, after this batch's buffers are back */
	} else if (res == -EINVAL && rl.multishot) {
		rl.multishot = 0;	/* a kernel before 6.0: one-shot receives */
	} else if (res < 0 && res != -ECANCELED) {
		rl_fail(c, "conn %u: recv: %s", c->idx, strerror(-res));
		return;
	}
	if (!(c->flags & CF_RECV) && c->state != CS_DEAD)
		rl_arm_recv(c);
}
