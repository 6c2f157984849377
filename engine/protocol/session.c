/*
 * session: see session.h.
 *
 * rws_session_recv() alternates between two phases: reading a frame header
 * (straight from the caller's buffer when it is all there, else gathered in
 * hbuf) and consuming the frame's payload. A frame whose payload is already
 * whole in the buffer is handled at once; otherwise its bytes are unmasked
 * while being copied into the assembly buffer, text being validated chunk by
 * chunk so bad UTF-8 is refused at the first chunk that holds it. A control
 * frame split across reads is gathered in the assembly buffer past the
 * message being assembled, so it needs no buffer of its own.
 */
#include "protocol/session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/mask.h"
#include "protocol/random.h"
#include "protocol/utf8.h"

enum {
	CF_IN_FRAME = 1u << 0,		/* reading a payload, not a header */
	CF_FIN = 1u << 1,		/* current frame has FIN */
	CF_COMPRESSED = 1u << 2,	/* message being received has RSV1 */
	CF_RELEASE = 1u << 3,		/* a message was delivered from abuf */
	CF_TX_COMPRESSED = 1u << 4,	/* message being sent was compressed */
};

#define CLOSE_REASON_MAX (RWS_CONTROL_MAX - 2)

void rws_session_config_default(struct rws_session_config *cfg, enum rws_role role)
{
	cfg->max_payload = RWS_MAX_PAYLOAD_DEFAULT;
	cfg->close_timeout_ms = RWS_CLOSE_TIMEOUT_DEFAULT_MS;
	cfg->role = (uint8_t)role;
	cfg->auto_pong = 1;
}

void rws_session_init(struct rws_session *c, const struct rws_session_config *cfg,
		   unsigned rsv_allowed)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->rsv_allowed = (uint8_t)rsv_allowed;
}

void rws_session_free(struct rws_session *c)
{
	free(c->abuf);
	c->abuf = NULL;
}

int rws_close_code_valid(unsigned code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

/* --- building control frames -------------------------------------------- */

/* Writes a control frame, masked with a fresh key in the client role. */
static size_t write_control(const struct rws_session *c, uint8_t *out, unsigned opcode,
			    const uint8_t *payload, size_t len)
{
	if (c->cfg->role == RWS_ROLE_CLIENT) {
		uint8_t key[4] = { 0 };
		/* getrandom only fails before the kernel's pool is seeded; a
		 * zero key is still a valid frame */
		(void)rws_random_bytes(key, sizeof(key));
		size_t n = rws_frame_encode(out, 1, 0, opcode, len, key);
		if (len)
			rws_mask_copy(out + n, payload, len, key, 0);
		return n + len;
	}
	size_t n = rws_frame_encode(out, 1, 0, opcode, len, NULL);
	if (len)
		memcpy(out + n, payload, len);
	return n + len;
}

static size_t write_close(const struct rws_session *c, uint8_t *out, unsigned code,
			  const void *reason, size_t reason_len)
{
	uint8_t p[RWS_CONTROL_MAX];
	size_t n = 0;
	if (code) {
		p[0] = (uint8_t)(code >> 8);
		p[1] = (uint8_t)code;
		if (reason_len)
			memcpy(p + 2, reason, reason_len);
		n = 2 + reason_len;
	}
	return write_control(c, out, RWS_OP_CLOSE, p, n);
}

/* --- events -------------------------------------------------------------- */

/* The peer broke a rule: answer with a close frame carrying code (unless our
 * close already went out) and stop reading. */
static void fail(struct rws_session *c, unsigned code, const char *why, struct rws_event *ev)
{
	ev->type = RWS_EV_CLOSE;
	ev->close_flags = RWS_CLOSE_F_ERROR;
	ev->code = (uint16_t)code;
	ev->error = why;
	ev->data = NULL;
	ev->len = 0;
	if (c->state == RWS_SESSION_OPEN) {
		size_t rl = strlen(why);
		if (rl > CLOSE_REASON_MAX)
			rl = CLOSE_REASON_MAX;
		ev->reply_len = write_close(c, ev->reply, code, why, rl);
	}
	c->state = RWS_SESSION_CLOSED;
	rws_session_free(c);
}

static void on_close_frame(struct rws_session *c, const uint8_t *p, size_t len,
			   struct rws_event *ev)
{
	unsigned code = RWS_CLOSE_NO_STATUS;
	if (len == 1) {
		fail(c, RWS_CLOSE_PROTOCOL, "close frame payload of 1 byte", ev);
		return;
	}
	if (len >= 2) {
		code = ((unsigned)p[0] << 8) | p[1];
		if (!rws_close_code_valid(code)) {
			fail(c, RWS_CLOSE_PROTOCOL, "invalid close code", ev);
			return;
		}
		if (rws_utf8_valid(p + 2, len - 2) != 0) {
			fail(c, RWS_CLOSE_INVALID_DATA, "close reason is not valid UTF-8", ev);
			return;
		}
	}
	ev->type = RWS_EV_CLOSE;
	ev->close_flags = RWS_CLOSE_F_PEER;
	ev->code = (uint16_t)code;
	ev->data = len >= 2 ? p + 2 : NULL;
	ev->len = len >= 2 ? len - 2 : 0;
	if (c->state == RWS_SESSION_OPEN)
		ev->reply_len = write_close(c, ev->reply,
					    code == RWS_CLOSE_NO_STATUS ? 0 : code, NULL, 0);
	c->state = RWS_SESSION_CLOSED;
	/* the reason may live in abuf: it is freed on the next call */
	c->flags |= CF_RELEASE;
}

static void on_control(struct rws_session *c, const uint8_t *p, size_t len,
		       struct rws_event *ev)
{
	switch (c->fop) {
	case RWS_OP_CLOSE:
		on_close_frame(c, p, len, ev);
		return;
	case RWS_OP_PING:
		ev->type = RWS_EV_PING;
		if (c->cfg->auto_pong && c->state == RWS_SESSION_OPEN)
			ev->reply_len = write_control(c, ev->reply, RWS_OP_PONG, p, len);
		break;
	default:
		ev->type = RWS_EV_PONG;
		break;
	}
	ev->data = p;
	ev->len = len;
}

static void deliver_message(struct rws_session *c, const uint8_t *p, uint64_t len,
			    struct rws_event *ev)
{
	int text = c->msg_op == RWS_OP_TEXT;
	int compressed = (c->flags & CF_COMPRESSED) != 0;
	if (text && !compressed && rws_utf8_finish(c->utf8) != 0) {
		fail(c, RWS_CLOSE_INVALID_DATA, "text message ends inside a UTF-8 sequence", ev);
		return;
	}
	ev->type = RWS_EV_MESSAGE;
	ev->is_text = (uint8_t)text;
	ev->compressed = (uint8_t)compressed;
	ev->data = p;
	ev->len = (size_t)len;
	c->msg_op = 0;
	c->flags &= (uint8_t)~CF_COMPRESSED;
	if (c->abuf && p == c->abuf->data)
		c->flags |= CF_RELEASE;
}

/* --- receiving ----------------------------------------------------------- */

/* Checks a decoded header against the message in progress and the limits.
 * Returns 0 to go on, -1 after fail() filled ev. */
static int start_frame(struct rws_session *c, const struct rws_frame_hdr *h,
		       struct rws_event *ev)
{
	if (rws_opcode_is_control(h->opcode))
		return 0;
	if (h->opcode == RWS_OP_CONT) {
		if (!c->msg_op) {
			fail(c, RWS_CLOSE_PROTOCOL, "continuation frame without a message to continue", ev);
			return -1;
		}
		if (h->rsv) {
			fail(c, RWS_CLOSE_PROTOCOL, "RSV1 set on a continuation frame", ev);
			return -1;
		}
	} else {
		if (c->msg_op) {
			fail(c, RWS_CLOSE_PROTOCOL, "new message before the previous one's final fragment", ev);
			return -1;
		}
		c->msg_op = h->opcode;
		c->msg_len = 0;
		c->utf8 = RWS_UTF8_ACCEPT;
		if (h->rsv & RWS_RSV1)
			c->flags |= CF_COMPRESSED;
	}
	uint64_t max = c->cfg->max_payload;
	if (max && (h->len > max || c->msg_len + h->len > max)) {
		fail(c, RWS_CLOSE_TOO_BIG, "message exceeds the maximum payload size", ev);
		return -1;
	}
	return 0;
}

#define EXACT_MAX (1u << 20)

/* Makes room for `need` bytes in abuf, growing geometrically but never past
 * `bound` (the most this message can still need). Returns 0 or -ENOMEM. */
static int reserve(struct rws_session *c, uint64_t need, uint64_t bound)
{
	size_t have = c->abuf ? c->abuf->cap : 0;
	if (need <= have)
		return 0;
	uint64_t cap = have ? (uint64_t)have * 2 : 256;
	/* a first allocation of up to EXACT_MAX takes the whole frame at
	 * once, sparing the copies of growing; past it memory follows the
	 * bytes actually received, so a header alone cannot make us allocate
	 * a large message */
	if (!have && bound <= EXACT_MAX)
		cap = bound;
	if (cap > bound)
		cap = bound;
	if (cap < need)
		cap = need;
	if (cap > SIZE_MAX - sizeof(struct rws_abuf))
		return -ENOMEM;
	struct rws_abuf *nb = realloc(c->abuf, sizeof(*nb) + (size_t)cap);
	if (!nb)
		return -ENOMEM;
	c->abuf = nb;
	c->abuf->cap = (size_t)cap;
	return 0;
}

/* Validates received text as it arrives: fail fast. */
static int check_text(struct rws_session *c, const uint8_t *p, size_t n, struct rws_event *ev)
{
	if (c->msg_op != RWS_OP_TEXT || (c->flags & CF_COMPRESSED) ||
	    rws_opcode_is_control(c->fop))
		return 0;
	if (rws_utf8_feed(&c->utf8, p, n) == 0)
		return 0;
	fail(c, RWS_CLOSE_INVALID_DATA, "invalid UTF-8 in a text message", ev);
	return -1;
}

/* A frame's payload is complete at p[0..len). Returns 1 if it produced an
 * event. */
static int end_frame(struct rws_session *c, const uint8_t *p, uint64_t len,
		     struct rws_event *ev)
{
	c->flags &= (uint8_t)~CF_IN_FRAME;
	if (rws_opcode_is_control(c->fop)) {
		on_control(c, p, (size_t)len, ev);
		return 1;
	}
	if (!(c->flags & CF_FIN))
		return 0;
	deliver_message(c, p, len, ev);
	return 1;
}

/* Handles a frame whose whole payload p[0..len) is in the caller's buffer
 * and that needs no assembly. Returns 1 if it produced an event. */
static int whole_frame(struct rws_session *c, uint8_t *p, uint64_t len, struct rws_event *ev)
{
	rws_mask(p, (size_t)len, c->key, 0);
	if (check_text(c, p, (size_t)len, ev) < 0)
		return 1;
	return end_frame(c, p, len, ev);
}

/* Consumes up to avail payload bytes of the current frame, unmasking them
 * into the assembly buffer. Returns the bytes consumed, and 1 in *evd if an
 * event was produced. */
static size_t frame_bytes(struct rws_session *c, const uint8_t *p, size_t avail,
			  struct rws_event *ev, int *evd)
{
	size_t n = avail < c->remaining ? avail : (size_t)c->remaining;
	int control = rws_opcode_is_control(c->fop);
	uint64_t at = c->msg_len + (control ? c->cdone : 0);
	uint64_t bound = control ? at + c->remaining
				 : c->msg_len + c->remaining + RWS_CONTROL_MAX;
	/* a message that continues in later fragments may grow past this one:
	 * let the buffer double (it never holds more than twice what came),
	 * up to max_payload, rather than grow by one fragment at a time */
	if (!control && !(c->flags & CF_FIN)) {
		uint64_t max = c->cfg->max_payload;
		bound = max ? max + RWS_CONTROL_MAX : UINT64_MAX;
	}

	if (reserve(c, at + n, bound) < 0) {
		fail(c, RWS_CLOSE_INTERNAL, "out of memory assembling a message", ev);
		*evd = 1;
		return avail;
	}
	uint8_t *dst = c->abuf->data + at;
	rws_mask_copy(dst, p, n, c->key, c->moff);
	c->moff = (uint8_t)((c->moff + n) & 3);
	c->remaining -= n;
	if (control) {
		c->cdone = (uint8_t)(c->cdone + n);
	} else {
		c->msg_len += n;
		if (check_text(c, dst, n, ev) < 0) {
			*evd = 1;
			return avail;
		}
	}
	if (c->remaining)
		return n;
	if (control)
		*evd = end_frame(c, c->abuf->data + c->msg_len, c->cdone, ev);
	else
		*evd = end_frame(c, c->abuf->data, c->msg_len, ev);
	return n;
}

/* Reads a frame header from buf[0..len) (after any bytes kept in hbuf).
 * Returns the bytes consumed from buf; *h is valid when hdr_len > 0. On a
 * rule broken, fills ev through fail() and returns len. */
static size_t read_header(struct rws_session *c, const uint8_t *buf, size_t len,
			  struct rws_frame_hdr *h, struct rws_event *ev)
{
	enum rws_role role = (enum rws_role)c->cfg->role;
	int rc;
	size_t used;

	h->hdr_len = 0;
	if (c->hlen == 0 && len >= RWS_FRAME_HDR_MAX) {
		rc = rws_frame_decode(buf, len, role, c->rsv_allowed, h);
		used = rc > 0 ? (size_t)rc : 0;
	} else {
		size_t n = RWS_FRAME_HDR_MAX - c->hlen;
		if (n > len)
			n = len;
		memcpy(c->hbuf + c->hlen, buf, n);
		rc = rws_frame_decode(c->hbuf, c->hlen + n, role, c->rsv_allowed, h);
		if (rc == RWS_FRAME_NEED_MORE) {
			c->hlen = (uint8_t)(c->hlen + n);
			return n;
		}
		used = rc > 0 ? (size_t)rc - c->hlen : 0;
		c->hlen = 0;
	}
	if (rc < 0) {
		fail(c, RWS_CLOSE_PROTOCOL, rws_frame_strerror(rc), ev);
		return len;
	}
	return used;
}

size_t rws_session_recv(struct rws_session *c, uint8_t *buf, size_t len, uint64_t now_ms,
		     struct rws_event *ev)
{
	size_t pos = 0;
	(void)now_ms; /* nothing on the receive path depends on time yet */

	memset(ev, 0, offsetof(struct rws_event, reply));
	if (c->flags & CF_RELEASE) {
		c->flags &= (uint8_t)~CF_RELEASE;
		if (!c->msg_op)
			rws_session_free(c);
	}
	if (c->state == RWS_SESSION_CLOSED)
		return len;

	while (pos < len) {
		if (c->flags & CF_IN_FRAME) {
			int evd = 0;
			pos += frame_bytes(c, buf + pos, len - pos, ev, &evd);
			if (evd)
				return pos;
			continue;
		}

		struct rws_frame_hdr h;
		pos += read_header(c, buf + pos, len - pos, &h, ev);
		if (ev->type != RWS_EV_NONE)
			return len;
		if (h.hdr_len == 0)
			continue;	/* header still incomplete: pos == len */

		if (start_frame(c, &h, ev) < 0)
			return len;
		c->fop = h.opcode;
		memcpy(c->key, h.key, 4);
		c->moff = 0;
		c->cdone = 0;
		c->remaining = h.len;
		c->flags = (uint8_t)((c->flags & ~CF_FIN) | (h.fin ? CF_FIN : 0));

		/* the whole payload is here and needs no assembly: handle it
		 * in place */
		int in_place = rws_opcode_is_control(h.opcode) ||
			       (h.fin && h.opcode != RWS_OP_CONT);
		if (h.len <= len - pos && (in_place || h.len == 0)) {
			uint8_t *p = buf + pos;
			pos += (size_t)h.len;
			c->remaining = 0;
			if (!in_place)	/* an empty continuation frame */
				p = c->abuf ? c->abuf->data : NULL;
			int evd = in_place ? whole_frame(c, p, h.len, ev)
					   : end_frame(c, p, c->msg_len, ev);
			if (evd)
				return ev->type == RWS_EV_CLOSE &&
					       (ev->close_flags & RWS_CLOSE_F_ERROR) ? len : pos;
			continue;
		}
		c->flags |= CF_IN_FRAME;
	}
	return pos;
}

int rws_session_tick(struct rws_session *c, uint64_t now_ms, struct rws_event *ev)
{
	if (c->state != RWS_SESSION_CLOSE_SENT || (int32_t)((uint32_t)now_ms - c->deadline) < 0)
		return 0;
	memset(ev, 0, offsetof(struct rws_event, reply));
	ev->type = RWS_EV_CLOSE;
	ev->close_flags = RWS_CLOSE_F_TIMEOUT;
	ev->code = RWS_CLOSE_ABNORMAL;
	ev->error = "the peer did not answer the close frame in time";
	c->state = RWS_SESSION_CLOSED;
	rws_session_free(c);
	return 1;
}

/* --- sending ------------------------------------------------------------- */

int rws_session_data_header(struct rws_session *c, uint8_t out[RWS_FRAME_HDR_MAX],
			 unsigned opcode, int fin, int compressed, uint64_t len,
			 uint8_t key_out[4])
{
	if (c->state != RWS_SESSION_OPEN)
		return -EPIPE;
	if (opcode != RWS_OP_TEXT && opcode != RWS_OP_BINARY)
		return -EINVAL;
	if (c->tx_op && c->tx_op != opcode)
		return -EINVAL;
	if (compressed && !(c->rsv_allowed & RWS_RSV1))
		return -EINVAL;

	unsigned wire_op = c->tx_op ? RWS_OP_CONT : opcode;
	/* RSV1 marks a compressed message on its first frame only */
	unsigned rsv = (!c->tx_op && compressed) ? RWS_RSV1 : 0;
	const uint8_t *key = NULL;
	if (c->cfg->role == RWS_ROLE_CLIENT) {
		(void)rws_random_bytes(key_out, 4);
		key = key_out;
	}
	c->tx_op = fin ? 0 : (uint8_t)opcode;
	return (int)rws_frame_encode(out, (unsigned)!!fin, rsv, wire_op, len, key);
}

long rws_session_encode(struct rws_session *c, uint8_t *out, size_t cap, unsigned opcode,
		     int fin, int compressed, const void *payload, size_t len)
{
	int masked = c->cfg->role == RWS_ROLE_CLIENT;
	if (cap < rws_frame_hdr_len(len, masked) + len)
		return -ENOSPC;
	uint8_t key[4];
	int n = rws_session_data_header(c, out, opcode, fin, compressed, len, key);
	if (n < 0)
		return n;
	if (masked && len)
		rws_mask_copy(out + n, payload, len, key, 0);
	else if (len)
		memcpy(out + n, payload, len);
	return (long)(n + len);
}

int rws_session_control(struct rws_session *c, uint8_t out[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX],
		     unsigned opcode, const void *payload, size_t len)
{
	if (c->state != RWS_SESSION_OPEN)
		return -EPIPE;
	if ((opcode != RWS_OP_PING && opcode != RWS_OP_PONG) || len > RWS_CONTROL_MAX)
		return -EINVAL;
	return (int)write_control(c, out, opcode, payload, len);
}

int rws_session_close(struct rws_session *c, uint8_t out[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX],
		   unsigned code, const void *reason, size_t reason_len, uint64_t now_ms)
{
	if (c->state != RWS_SESSION_OPEN)
		return -EPIPE;
	if (code == 0 ? reason_len != 0 : !rws_close_code_valid(code))
		return -EINVAL;
	if (reason_len > CLOSE_REASON_MAX || rws_utf8_valid(reason, reason_len) != 0)
		return -EINVAL;
	size_t n = write_close(c, out, code, reason, reason_len);
	c->state = RWS_SESSION_CLOSE_SENT;
	c->deadline = (uint32_t)(now_ms + c->cfg->close_timeout_ms);
	return (int)n;
}
