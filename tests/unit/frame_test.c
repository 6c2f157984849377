/*
 * frame_test: the RFC 6455 frame header codec (engine/protocol/frame.c).
 * Every rule is fed the header that breaks it; every prefix of a header asks
 * for more; headers sit right before a PROT_NONE page so an over-read crashes.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "protocol/frame.h"
#include "testutil.h"

static const uint8_t KEY[4] = { 0x37, 0xfa, 0x21, 0x3d };

static int decode(const uint8_t *b, size_t n, enum rws_role role, unsigned rsv,
		  struct rws_frame_hdr *h)
{
	uint8_t *g = guard_copy(b, n);
	int rc = rws_frame_decode(g, n, role, rsv, h);
	guard_free(g);
	return rc;
}

Test(frame, lengths_7_16_64_bit)
{
	static const uint64_t lens[] = { 0, 1, 125, 126, 127, 65535, 65536,
					 (1ull << 32) + 5, (1ull << 63) - 1 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint8_t hdr[RWS_FRAME_HDR_MAX];
		size_t n = rws_frame_encode(hdr, 1, 0, RWS_OP_BINARY, lens[i], KEY);
		cr_assert_eq(n, rws_frame_hdr_len(lens[i], 1));
		size_t want = lens[i] < 126 ? 6 : lens[i] <= 0xFFFF ? 8 : 14;
		cr_assert_eq(n, want, "len %llu: header %zu bytes", (unsigned long long)lens[i], n);
		struct rws_frame_hdr h;
		cr_assert_eq(decode(hdr, n, RWS_ROLE_SERVER, 0, &h), (int)n);
		cr_assert_eq(h.len, lens[i]);
		cr_assert_eq(h.fin, 1);
		cr_assert_eq(h.opcode, RWS_OP_BINARY);
		cr_assert_eq(h.masked, 1);
		cr_assert_arr_eq(h.key, KEY, 4);
		cr_assert_eq(h.hdr_len, n);
	}
}

Test(frame, exact_bytes_of_known_headers)
{
	uint8_t hdr[RWS_FRAME_HDR_MAX];
	/* RFC 6455 section 5.7: unmasked "Hello" is 0x81 0x05 */
	cr_assert_eq(rws_frame_encode(hdr, 1, 0, RWS_OP_TEXT, 5, NULL), 2);
	cr_assert_eq(hdr[0], 0x81);
	cr_assert_eq(hdr[1], 0x05);
	/* 256 bytes binary: 0x82 0x7E 0x0100 */
	cr_assert_eq(rws_frame_encode(hdr, 1, 0, RWS_OP_BINARY, 256, NULL), 4);
	cr_assert_eq(hdr[1], 0x7E);
	cr_assert_eq(hdr[2], 0x01);
	cr_assert_eq(hdr[3], 0x00);
	/* 64 KiB: 0x82 0x7F 0x0000000000010000 */
	cr_assert_eq(rws_frame_encode(hdr, 1, 0, RWS_OP_BINARY, 65536, NULL), 10);
	static const uint8_t want64[] = { 0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0 };
	cr_assert_arr_eq(hdr, want64, 10);
	/* first fragment of a compressed text message, masked */
	cr_assert_eq(rws_frame_encode(hdr, 0, RWS_RSV1, RWS_OP_TEXT, 3, KEY), 6);
	cr_assert_eq(hdr[0], 0x41);
	cr_assert_eq(hdr[1], 0x83);
}

Test(frame, every_prefix_needs_more)
{
	static const uint64_t lens[] = { 3, 300, 70000 };
	for (size_t i = 0; i < 3; i++) {
		uint8_t hdr[RWS_FRAME_HDR_MAX];
		size_t n = rws_frame_encode(hdr, 1, 0, RWS_OP_TEXT, lens[i], KEY);
		for (size_t k = 0; k < n; k++) {
			struct rws_frame_hdr h;
			cr_assert_eq(decode(hdr, k, RWS_ROLE_SERVER, 0, &h), RWS_FRAME_NEED_MORE,
				     "len %llu prefix %zu", (unsigned long long)lens[i], k);
		}
	}
}

Test(frame, reserved_opcodes_are_errors)
{
	for (unsigned op = 0; op < 16; op++) {
		uint8_t b[6] = { (uint8_t)(0x80 | op), 0x80, 1, 2, 3, 4 };
		struct rws_frame_hdr h;
		int rc = decode(b, sizeof(b), RWS_ROLE_SERVER, 0, &h);
		int reserved = (op >= 3 && op <= 7) || op >= 11;
		if (reserved)
			cr_assert_eq(rc, RWS_FRAME_E_OPCODE, "opcode %u", op);
		else
			cr_assert_eq(rc, 6, "opcode %u", op);
	}
}

Test(frame, rsv_bits_need_an_extension)
{
	struct rws_frame_hdr h;
	for (unsigned rsv = 1; rsv < 8; rsv++) {
		uint8_t b[6] = { (uint8_t)(0x80 | (rsv << 4) | RWS_OP_TEXT), 0x80, 1, 2, 3, 4 };
		cr_assert_eq(decode(b, 6, RWS_ROLE_SERVER, 0, &h), RWS_FRAME_E_RSV, "rsv %u", rsv);
		/* permessage-deflate owns RSV1 only */
		int rc = decode(b, 6, RWS_ROLE_SERVER, RWS_RSV1, &h);
		if (rsv == RWS_RSV1) {
			cr_assert_eq(rc, 6);
			cr_assert_eq(h.rsv, RWS_RSV1);
		} else {
			cr_assert_eq(rc, RWS_FRAME_E_RSV, "rsv %u with RSV1 allowed", rsv);
		}
	}
	/* never on control frames, even with RSV1 negotiated */
	uint8_t ping[6] = { 0x80 | 0x40 | RWS_OP_PING, 0x80, 1, 2, 3, 4 };
	cr_assert_eq(decode(ping, 6, RWS_ROLE_SERVER, RWS_RSV1, &h), RWS_FRAME_E_RSV);
}

Test(frame, control_frame_rules)
{
	struct rws_frame_hdr h;
	static const unsigned ops[] = { RWS_OP_CLOSE, RWS_OP_PING, RWS_OP_PONG };
	for (size_t i = 0; i < 3; i++) {
		uint8_t ok[6] = { (uint8_t)(0x80 | ops[i]), 0x80 | 125, 1, 2, 3, 4 };
		cr_assert_eq(decode(ok, 6, RWS_ROLE_SERVER, 0, &h), 6);
		uint8_t big[8] = { (uint8_t)(0x80 | ops[i]), 0x80 | 126, 0, 126, 1, 2, 3, 4 };
		cr_assert_eq(decode(big, 8, RWS_ROLE_SERVER, 0, &h), RWS_FRAME_E_CONTROL_LEN);
		/* decided from the first two bytes */
		cr_assert_eq(decode(big, 2, RWS_ROLE_SERVER, 0, &h), RWS_FRAME_E_CONTROL_LEN);
		uint8_t frag[6] = { (uint8_t)ops[i], 0x80 | 1, 1, 2, 3, 4 };
		cr_assert_eq(decode(frag, 6, RWS_ROLE_SERVER, 0, &h), RWS_FRAME_E_CONTROL_FRAG);
	}
}

Test(frame, masking_by_role)
{
	struct rws_frame_hdr h;
	uint8_t unmasked[2] = { 0x81, 0x00 };
	uint8_t masked[6] = { 0x81, 0x80, 1, 2, 3, 4 };
	cr_assert_eq(decode(unmasked, 2, RWS_ROLE_SERVER, 0, &h), RWS_FRAME_E_UNMASKED);
	cr_assert_eq(decode(masked, 6, RWS_ROLE_SERVER, 0, &h), 6);
	cr_assert_eq(decode(masked, 6, RWS_ROLE_CLIENT, 0, &h), RWS_FRAME_E_MASKED);
	cr_assert_eq(decode(unmasked, 2, RWS_ROLE_CLIENT, 0, &h), 2);
	cr_assert_eq(h.masked, 0);
}

Test(frame, length64_top_bit_is_an_error)
{
	struct rws_frame_hdr h;
	uint8_t b[14] = { 0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4 };
	cr_assert_eq(decode(b, 14, RWS_ROLE_SERVER, 0, &h), RWS_FRAME_E_LEN64);
	/* visible from the third byte on */
	cr_assert_eq(decode(b, 3, RWS_ROLE_SERVER, 0, &h), RWS_FRAME_E_LEN64);
	b[2] = 0x7F;
	cr_assert_eq(decode(b, 14, RWS_ROLE_SERVER, 0, &h), 14);
	cr_assert_eq(h.len, 0x7F00000000000001ull);
}

Test(frame, random_round_trips)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 20000; i++) {
		uint64_t r = test_rand(&seed);
		unsigned op = (unsigned[]){ 0, 1, 2, 8, 9, 10 }[r % 6];
		unsigned fin = rws_opcode_is_control(op) ? 1 : (unsigned)(r >> 8) & 1;
		unsigned rsv = rws_opcode_is_control(op) ? 0 : (unsigned)(r >> 9) & RWS_RSV1;
		uint64_t len;
		switch ((r >> 12) % 4) {
		case 0: len = (r >> 16) % 126; break;
		case 1: len = 126 + (r >> 16) % (65536 - 126); break;
		default: len = test_rand(&seed) >> 1; break;
		}
		if (rws_opcode_is_control(op))
			len %= 126;
		int masked = (r >> 10) & 1;
		uint8_t key[4];
		uint32_t k = (uint32_t)(r >> 32);
		memcpy(key, &k, 4);
		uint8_t hdr[RWS_FRAME_HDR_MAX];
		size_t n = rws_frame_encode(hdr, fin, rsv, op, len, masked ? key : NULL);
		struct rws_frame_hdr h;
		int rc = decode(hdr, n, masked ? RWS_ROLE_SERVER : RWS_ROLE_CLIENT, RWS_RSV1, &h);
		cr_assert_eq(rc, (int)n, "seed step %d: rc %d", i, rc);
		cr_assert_eq(h.len, len);
		cr_assert_eq(h.opcode, op);
		cr_assert_eq(h.fin, fin);
		cr_assert_eq(h.rsv, rsv);
		cr_assert_eq(h.masked, (uint8_t)masked);
		if (masked)
			cr_assert_arr_eq(h.key, key, 4);
	}
}

Test(frame, strerror_names_each_error)
{
	for (int e = RWS_FRAME_E_LEN64; e <= RWS_FRAME_NEED_MORE; e++) {
		const char *s = rws_frame_strerror(e);
		cr_assert(s && *s);
		cr_assert(strcmp(s, "unknown frame error") != 0, "status %d has no text", e);
	}
}
