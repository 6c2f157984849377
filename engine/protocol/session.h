/*
 * session: the WebSocket session state machine of one connection, both roles.
 *
 * Bytes in, events and bytes to send out. rws_session_recv() takes received
 * bytes in any split and yields one event at a time: a message (assembled
 * from fragments, with control frames handled between them), a ping (answered
 * with a pong unless auto_pong is off), a pong, or a close. It owns message
 * assembly, maxPayload, the close handshake and the close-code rules. The
 * role decides masking: a server unmasks what it receives, a client masks
 * what it sends. Time is an argument (milliseconds, any monotonic origin), so
 * the close timeout is testable without sleeping.
 *
 * Zero copy: payloads are unmasked in place in the caller's buffer. A message
 * that is one whole frame inside that buffer is delivered from there; one
 * that spans buffers or fragments is copied once into an assembly buffer the
 * connection owns, bounded by max_payload and freed after delivery, so an
 * idle connection holds no buffer.
 *
 * Neighbours: frame.c decodes headers, mask.c unmasks, utf8.c validates
 * text; the runtime feeds it and sends what it yields; pmd (later) inflates
 * messages flagged compressed and validates their text.
 */
#ifndef RWS_PROTOCOL_SESSION_H
#define RWS_PROTOCOL_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/frame.h"

/* Close codes (RFC 6455 section 7.4.1) that the engine itself uses. */
enum rws_close_code {
	RWS_CLOSE_NORMAL = 1000,
	RWS_CLOSE_GOING_AWAY = 1001,
	RWS_CLOSE_PROTOCOL = 1002,
	RWS_CLOSE_UNSUPPORTED = 1003,
	RWS_CLOSE_NO_STATUS = 1005,	/* never sent: a close without a code */
	RWS_CLOSE_ABNORMAL = 1006,	/* never sent: no close frame arrived */
	RWS_CLOSE_INVALID_DATA = 1007,
	RWS_CLOSE_POLICY = 1008,
	RWS_CLOSE_TOO_BIG = 1009,
	RWS_CLOSE_EXTENSION = 1010,
	RWS_CLOSE_INTERNAL = 1011,
	RWS_CLOSE_TRY_AGAIN = 1013,
};

#define RWS_MAX_PAYLOAD_DEFAULT (100u * 1024 * 1024)	/* ws's maxPayload */
#define RWS_CLOSE_TIMEOUT_DEFAULT_MS 30000u		/* ws's closeTimeout */

/* Shared by every connection of a route; must outlive them. */
struct rws_session_config {
	uint64_t max_payload;		/* largest message; 0 means no limit */
	uint32_t close_timeout_ms;	/* after our close, wait this long for the peer's */
	uint8_t role;			/* enum rws_role */
	uint8_t auto_pong;		/* answer pings automatically */
};

/* Fills cfg with ws's defaults for role. */
void rws_session_config_default(struct rws_session_config *cfg, enum rws_role role);

enum rws_session_state {
	RWS_SESSION_OPEN = 0,
	RWS_SESSION_CLOSE_SENT,	/* our close went out; waiting for the peer's */
	RWS_SESSION_CLOSED,	/* done: send what is queued, then close the transport */
};

/* The assembly buffer of a message that spans reads or fragments. */
struct rws_abuf {
	size_t cap;
	uint8_t data[];
};

/* One connection. Callers allocate it (it is small: see the tests) and treat
 * the fields as private. */
struct rws_session {
	const struct rws_session_config *cfg;
	struct rws_abuf *abuf;	/* assembly buffer: owned here, NULL when idle */
	uint64_t msg_len;	/* payload bytes of the message being assembled */
	uint64_t remaining;	/* payload bytes of the current frame still to come */
	uint32_t deadline;	/* close timeout while CLOSE_SENT: the low 32 bits of its ms */
	uint8_t hbuf[RWS_FRAME_HDR_MAX]; /* the start of a header split across reads */
	uint8_t hlen;		/* bytes in hbuf */
	uint8_t cdone;		/* bytes of a split control frame gathered so far */
	uint8_t key[4];		/* the current frame's masking key */
	uint8_t moff;		/* payload offset of the next byte, mod 4 */
	uint8_t fop;		/* current frame's opcode */
	uint8_t msg_op;		/* RWS_OP_TEXT/BINARY of the message being received, 0 if none */
	uint8_t tx_op;		/* opcode of the message being sent in fragments, 0 if none */
	uint8_t utf8;		/* UTF-8 validator state across chunks and fragments */
	uint8_t state;		/* enum rws_session_state */
	uint8_t flags;		/* private RWS_CF_* bits */
	uint8_t rsv_allowed;	/* RSV bits negotiated extensions own */
};

enum rws_event_type {
	RWS_EV_NONE = 0,	/* all input consumed; feed more */
	RWS_EV_MESSAGE,		/* data/len: a whole message */
	RWS_EV_PING,		/* data/len: the ping payload */
	RWS_EV_PONG,		/* data/len: the pong payload */
	RWS_EV_CLOSE,		/* the connection is closing: see close_flags */
};

#define RWS_CLOSE_F_PEER 1u	/* the peer sent a close frame: code and reason are its */
#define RWS_CLOSE_F_ERROR 2u	/* the peer broke a rule: code is the one we sent, error says why */
#define RWS_CLOSE_F_TIMEOUT 4u	/* the peer did not answer our close in time (code 1006) */

struct rws_event {
	uint8_t type;		/* enum rws_event_type */
	uint8_t is_text;	/* MESSAGE: a text message */
	uint8_t compressed;	/* MESSAGE: RSV1 was set (permessage-deflate) */
	uint8_t close_flags;	/* CLOSE: RWS_CLOSE_F_* */
	uint16_t code;		/* CLOSE: the close code (1005 if the peer's had none) */
	const uint8_t *data;	/* payload, or the peer's close reason; valid until the next rws_session_recv() */
	size_t len;
	const char *error;	/* CLOSE with RWS_CLOSE_F_ERROR: a one-line cause */
	size_t reply_len;	/* bytes in reply to send now (pong, close), 0 if none */
	uint8_t reply[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
};

/* Prepares c for an open connection. rsv_allowed is RWS_RSV1 once
 * permessage-deflate is negotiated, else 0. */
void rws_session_init(struct rws_session *c, const struct rws_session_config *cfg,
		   unsigned rsv_allowed);

/* Frees what c holds (its assembly buffer). c may be initialised again. */
void rws_session_free(struct rws_session *c);

/*
 * Feeds received bytes. buf is unmasked in place, so it must be writable.
 * Returns the number of bytes consumed and fills *ev. If ev->type is
 * RWS_EV_NONE, all len bytes were consumed and more are needed; otherwise an
 * event happened and the caller calls again with the rest (buf + returned).
 * ev->reply, when reply_len > 0, must be sent before anything queued later.
 * Once the state is RWS_SESSION_CLOSED all input is consumed and ignored.
 * now_ms is the current time.
 */
size_t rws_session_recv(struct rws_session *c, uint8_t *buf, size_t len, uint64_t now_ms,
		     struct rws_event *ev);

/*
 * Writes the header of a data frame into out. opcode is RWS_OP_TEXT or
 * RWS_OP_BINARY; with fin == 0 the message continues in later calls (which
 * pass the same opcode: the continuation opcode is written for them).
 * compressed sets RSV1 on the message's first frame. In the client role a
 * fresh key is written into the header and into key_out, and the caller
 * masks the payload with rws_mask_copy(dst, src, len, key_out, 0); in the
 * server role key_out is untouched. Returns the header length, -EPIPE once a
 * close was sent or received, -EINVAL for a bad opcode or a message of
 * another type interleaved with an unfinished one.
 */
int rws_session_data_header(struct rws_session *c, uint8_t out[RWS_FRAME_HDR_MAX],
			 unsigned opcode, int fin, int compressed, uint64_t len,
			 uint8_t key_out[4]);

/*
 * Writes a whole frame (header and payload, masked in the client role) into
 * out[0..cap). Same rules as rws_session_data_header(). Returns the frame's
 * length, -ENOSPC if cap is too small, or the errors above.
 */
long rws_session_encode(struct rws_session *c, uint8_t *out, size_t cap, unsigned opcode,
		     int fin, int compressed, const void *payload, size_t len);

/* Writes a ping or pong frame (payload at most 125 bytes) into out. Returns
 * its length, -EINVAL for a longer payload or another opcode, -EPIPE once a
 * close was sent or received. */
int rws_session_control(struct rws_session *c, uint8_t out[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX],
		     unsigned opcode, const void *payload, size_t len);

/*
 * Starts the close handshake: writes a close frame into out and moves to
 * RWS_SESSION_CLOSE_SENT with a deadline of now_ms + close_timeout_ms. code 0
 * sends a close without a code (and then reason must be empty); otherwise
 * code must be one a peer would accept (rws_close_code_valid) and the reason
 * valid UTF-8 of at most 123 bytes. Returns the frame's length, -EINVAL for a
 * bad code or reason, -EPIPE if a close was already sent or received.
 */
int rws_session_close(struct rws_session *c, uint8_t out[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX],
		   unsigned code, const void *reason, size_t reason_len, uint64_t now_ms);

/* The time by which rws_session_tick() must be called, or 0 if none. The
 * session keeps 32 bits of it (64 bytes per session matter at 10,000s of
 * connections), so now_ms, a time within 24 days of it, supplies the rest. */
static inline uint64_t rws_session_deadline(const struct rws_session *c, uint64_t now_ms)
{
	if (c->state != RWS_SESSION_CLOSE_SENT)
		return 0;
	return now_ms + (uint64_t)(int64_t)(int32_t)(c->deadline - (uint32_t)now_ms);
}

/* Bytes held for assembling a message: 0 when idle. */
static inline size_t rws_session_buffered(const struct rws_session *c)
{
	return c->abuf ? c->abuf->cap : 0;
}

/* Checks the close timeout. Returns 1 and fills *ev with a CLOSE event
 * (RWS_CLOSE_F_TIMEOUT, code 1006) if it expired: close the transport.
 * Returns 0 otherwise. */
int rws_session_tick(struct rws_session *c, uint64_t now_ms, struct rws_event *ev);

static inline enum rws_session_state rws_session_state(const struct rws_session *c)
{
	return (enum rws_session_state)c->state;
}

/* Returns 1 if a peer may send code in a close frame (what ws accepts:
 * 1000-1003, 1007-1014, 3000-4999), else 0. */
int rws_close_code_valid(unsigned code);

#endif
