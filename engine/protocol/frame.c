/*
 * frame: see frame.h. Decoding reads the first two bytes, decides how many
 * more the header needs, and checks the rules in the order that the earliest
 * byte decides them, so an error is reported as soon as it is visible.
 */
#include "protocol/frame.h"

#include <string.h>

static int check_first_bytes(uint8_t b0, uint8_t b1, enum rws_role role,
			     unsigned rsv_allowed)
{
	unsigned op = b0 & 0x0Fu;
	unsigned rsv = (b0 >> 4) & 0x7u;
	unsigned fin = b0 >> 7;
	unsigned masked = b1 >> 7;
	unsigned len7 = b1 & 0x7Fu;

	if ((op >= 0x3 && op <= 0x7) || op >= 0xB)
		return RWS_FRAME_E_OPCODE;
	if (rws_opcode_is_control(op)) {
		/* no extension defines RSV bits on control frames (RFC 7692
		 * section 6.1 forbids RSV1 there) */
		if (rsv)
			return RWS_FRAME_E_RSV;
		if (!fin)
			return RWS_FRAME_E_CONTROL_FRAG;
		if (len7 > RWS_CONTROL_MAX)
			return RWS_FRAME_E_CONTROL_LEN;
	} else if (rsv & ~rsv_allowed) {
		return RWS_FRAME_E_RSV;
	}
	if (role == RWS_ROLE_SERVER && !masked)
		return RWS_FRAME_E_UNMASKED;
	if (role == RWS_ROLE_CLIENT && masked)
		return RWS_FRAME_E_MASKED;
	return 0;
}

int rws_frame_decode(const uint8_t *buf, size_t len, enum rws_role role,
		     unsigned rsv_allowed, struct rws_frame_hdr *h)
{
	if (len < 2)
		return RWS_FRAME_NEED_MORE;

	uint8_t b0 = buf[0], b1 = buf[1];
	int rc = check_first_bytes(b0, b1, role, rsv_allowed);
	if (rc < 0)
		return rc;

	unsigned len7 = b1 & 0x7Fu;
	size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
	size_t need = 2 + ext + ((b1 & 0x80u) ? 4 : 0);

	/* the top bit of a 64-bit length is visible before the rest */
	if (len7 == 127 && len >= 3 && (buf[2] & 0x80u))
		return RWS_FRAME_E_LEN64;
	if (len < need)
		return RWS_FRAME_NEED_MORE;

	uint64_t plen = len7;
	if (ext == 2) {
		plen = ((uint64_t)buf[2] << 8) | buf[3];
	} else if (ext == 8) {
		plen = 0;
		for (size_t i = 0; i < 8; i++)
			plen = (plen << 8) | buf[2 + i];
	}

	h->len = plen;
	h->fin = b0 >> 7;
	h->rsv = (b0 >> 4) & 0x7u;
	h->opcode = b0 & 0x0Fu;
	h->masked = b1 >> 7;
	if (h->masked)
		memcpy(h->key, buf + 2 + ext, 4);
	else
		memset(h->key, 0, 4);
	h->hdr_len = (uint8_t)need;
	return (int)need;
}

size_t rws_frame_encode(uint8_t out[RWS_FRAME_HDR_MAX], unsigned fin, unsigned rsv,
			unsigned opcode, uint64_t len, const uint8_t *key)
{
	size_t n = 2;
	out[0] = (uint8_t)((fin ? 0x80u : 0) | ((rsv & 0x7u) << 4) | (opcode & 0x0Fu));
	uint8_t mbit = key ? 0x80u : 0;
	if (len < 126) {
		out[1] = (uint8_t)(mbit | len);
	} else if (len <= 0xFFFF) {
		out[1] = (uint8_t)(mbit | 126);
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		n = 4;
	} else {
		out[1] = (uint8_t)(mbit | 127);
		for (int i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		n = 10;
	}
	if (key) {
		memcpy(out + n, key, 4);
		n += 4;
	}
	return n;
}

const char *rws_frame_strerror(int status)
{
	switch (status) {
	case RWS_FRAME_NEED_MORE: return "incomplete frame header";
	case RWS_FRAME_E_OPCODE: return "reserved opcode";
	case RWS_FRAME_E_RSV: return "RSV bit set that no extension negotiated";
	case RWS_FRAME_E_CONTROL_LEN: return "control frame payload longer than 125 bytes";
	case RWS_FRAME_E_CONTROL_FRAG: return "fragmented control frame";
	case RWS_FRAME_E_UNMASKED: return "client frame is not masked";
	case RWS_FRAME_E_MASKED: return "server frame is masked";
	case RWS_FRAME_E_LEN64: return "64-bit payload length with the most significant bit set";
	default: return status > 0 ? "ok" : "unknown frame error";
	}
}
