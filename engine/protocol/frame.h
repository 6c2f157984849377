/*
 * frame: the RFC 6455 section 5.2 frame header, decoded and encoded.
 *
 * A header is 2 to 14 bytes: FIN, RSV1-3, opcode, MASK, a 7-bit length that
 * may extend to 16 or 64 bits, and the 4-byte masking key. The decoder checks
 * every rule that can be decided from the header alone, so session.c refuses a
 * bad frame before its payload arrives. It never reads past the length it is
 * given and, on a short input, asks for more (it needs no state: a caller
 * keeps the first bytes of a split header and calls again).
 * Neighbours: session.c drives it; mask.c applies the key.
 */
#ifndef RWS_PROTOCOL_FRAME_H
#define RWS_PROTOCOL_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum rws_opcode {
	RWS_OP_CONT = 0x0,
	RWS_OP_TEXT = 0x1,
	RWS_OP_BINARY = 0x2,
	RWS_OP_CLOSE = 0x8,
	RWS_OP_PING = 0x9,
	RWS_OP_PONG = 0xA,
};

#define RWS_RSV1 0x4u
#define RWS_RSV2 0x2u
#define RWS_RSV3 0x1u

#define RWS_FRAME_HDR_MAX 14		/* 2 + 8 (64-bit length) + 4 (key) */
#define RWS_CONTROL_MAX 125		/* largest control frame payload */

/* Which side of the connection decodes: a server requires masked frames, a
 * client refuses them. */
enum rws_role { RWS_ROLE_SERVER = 0, RWS_ROLE_CLIENT = 1 };

struct rws_frame_hdr {
	uint64_t len;		/* payload length */
	uint8_t fin;		/* 1 if final fragment */
	uint8_t rsv;		/* RWS_RSV1|RWS_RSV2|RWS_RSV3 bits as sent */
	uint8_t opcode;		/* enum rws_opcode */
	uint8_t masked;		/* 1 if a key follows */
	uint8_t key[4];		/* the masking key when masked */
	uint8_t hdr_len;	/* bytes the header took, 2..14 */
};

/* Decoder results: a header length (> 0), need more, or a named error. */
enum rws_frame_status {
	RWS_FRAME_NEED_MORE = 0,
	RWS_FRAME_E_OPCODE = -1,	/* reserved opcode 3-7 or 11-15 */
	RWS_FRAME_E_RSV = -2,		/* RSV bit no negotiated extension owns */
	RWS_FRAME_E_CONTROL_LEN = -3,	/* control frame payload over 125 */
	RWS_FRAME_E_CONTROL_FRAG = -4,	/* control frame without FIN */
	RWS_FRAME_E_UNMASKED = -5,	/* client frame without a mask (server role) */
	RWS_FRAME_E_MASKED = -6,	/* server frame with a mask (client role) */
	RWS_FRAME_E_LEN64 = -7,		/* 64-bit length with the top bit set */
};

static inline int rws_opcode_is_control(unsigned op)
{
	return (op & 0x8u) != 0;
}

/*
 * Decodes the header at buf[0..len). rsv_allowed is the set of RSV bits that
 * negotiated extensions own (RWS_RSV1 with permessage-deflate) on data
 * frames; control frames never carry RSV bits. Whether an extension allows
 * its bit on a continuation frame is the caller's rule. Returns the header length (2..14) and fills *h,
 * RWS_FRAME_NEED_MORE if buf holds only part of the header, or a negative
 * enum rws_frame_status.
 */
int rws_frame_decode(const uint8_t *buf, size_t len, enum rws_role role,
		     unsigned rsv_allowed, struct rws_frame_hdr *h);

/*
 * Encodes a header into out (RWS_FRAME_HDR_MAX bytes). key is NULL for an
 * unmasked frame (server role) or the 4-byte key to write (client role).
 * The shortest length form is used. Returns the header length.
 */
size_t rws_frame_encode(uint8_t out[RWS_FRAME_HDR_MAX], unsigned fin, unsigned rsv,
			unsigned opcode, uint64_t len, const uint8_t *key);

/* Header length for a payload of len bytes, masked or not. */
static inline size_t rws_frame_hdr_len(uint64_t len, int masked)
{
	size_t n = len < 126 ? 2 : len <= 0xFFFF ? 4 : 10;
	return n + (masked ? 4 : 0);
}

/* A one-line description of a decoder status, for logs and errors. */
const char *rws_frame_strerror(int status);

#endif
