/*
 * session_test: the session state machine (engine/protocol/session.c).
 * Each rule is fed the bytes that break it and the exact close code is
 * checked; property tests feed one stream whole, in random splits and one
 * byte at a time and expect the same events.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/session.h"
#include "protocol/mask.h"
#include "testutil.h"

/* --- building peer frames ------------------------------------------------ */

struct stream {
	uint8_t *b;
	size_t len, cap;
};

static void put(struct stream *s, const void *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2 + 64;
		s->b = realloc(s->b, s->cap);
		cr_assert(s->b);
	}
	memcpy(s->b + s->len, p, n);
	s->len += n;
}

/* A raw frame as a peer would send it: masked when `masked`. */
static void frame(struct stream *s, unsigned b0, int masked, const void *payload, size_t len)
{
	static const uint8_t key[4] = { 0xA1, 0x05, 0x7E, 0xC3 };
	uint8_t hdr[RWS_FRAME_HDR_MAX];
	size_t n = rws_frame_encode(hdr, b0 >> 7, (b0 >> 4) & 7, b0 & 15, len,
				    masked ? key : NULL);
	put(s, hdr, n);
	uint8_t *p = malloc(len + 1);
	if (masked)
		rws_mask_copy(p, payload, len, key, 0);
	else
		memcpy(p, payload, len);
	put(s, p, len);
	free(p);
}

#define FIN 0x80u

/* A client's frame to our server. */
static void cframe(struct stream *s, unsigned b0, const void *p, size_t len)
{
	frame(s, b0, 1, p, len);
}

/* --- collecting events --------------------------------------------------- */

struct rec {
	int type;
	int is_text, compressed, close_flags, code;
	uint8_t *data;
	size_t len;
	uint8_t reply[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
	size_t reply_len;
	int in_input;	/* data pointed into the caller's buffer */
};

struct recs {
	struct rec r[256];
	int n;
};

static void keep(struct recs *rs, const struct rws_event *ev, const uint8_t *in, size_t inlen)
{
	cr_assert(rs->n < 256);
	struct rec *r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	r->type = ev->type;
	r->is_text = ev->is_text;
	r->compressed = ev->compressed;
	r->close_flags = ev->close_flags;
	r->code = ev->code;
	r->len = ev->len;
	r->data = malloc(ev->len + 1);
	if (ev->len)
		memcpy(r->data, ev->data, ev->len);
	r->in_input = ev->data && ev->data >= in && ev->data < in + inlen;
	r->reply_len = ev->reply_len;
	memcpy(r->reply, ev->reply, ev->reply_len);
}

static void recs_free(struct recs *rs)
{
	for (int i = 0; i < rs->n; i++)
		free(rs->r[i].data);
	rs->n = 0;
}

/* Feeds `len` bytes in pieces given by cuts (sorted offsets, ncuts of them),
 * each piece in a guarded copy, collecting events. */
static void feed_split(struct rws_session *c, const uint8_t *data, size_t len,
		       const size_t *cuts, size_t ncuts, struct recs *rs)
{
	size_t start = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		size_t n = end - start;
		uint8_t *g = guard_copy(data + start, n);
		size_t pos = 0;
		for (int guard = 0; guard < 100000; guard++) {
			struct rws_event ev;
			size_t used = rws_session_recv(c, g + pos, n - pos, 0, &ev);
			cr_assert_leq(used, n - pos);
			pos += used;
			if (ev.type == RWS_EV_NONE) {
				cr_assert_eq(pos, n, "NONE before all input was consumed");
				break;
			}
			keep(rs, &ev, g, n);
		}
		guard_free(g);
		start = end;
	}
}

static void feed(struct rws_session *c, const struct stream *s, struct recs *rs)
{
	feed_split(c, s->b, s->len, NULL, 0, rs);
}

static struct rws_session_config scfg, ccfg;
static struct rws_session sc;	/* a server connection */
static struct recs rs;
static struct stream st;

static void setup(void)
{
	rws_session_config_default(&scfg, RWS_ROLE_SERVER);
	rws_session_config_default(&ccfg, RWS_ROLE_CLIENT);
	rws_session_init(&sc, &scfg, 0);
	memset(&rs, 0, sizeof(rs));
	memset(&st, 0, sizeof(st));
}

static void teardown(void)
{
	rws_session_free(&sc);
	recs_free(&rs);
	free(st.b);
}

TestSuite(session, .init = setup, .fini = teardown);

/* Expects exactly one event: a close for a rule broken with `code`, whose
 * reply is a server close frame carrying that code. */
static void expect_fail(int code)
{
	cr_assert_eq(rs.n, 1, "events: %d", rs.n);
	struct rec *r = &rs.r[0];
	cr_assert_eq(r->type, RWS_EV_CLOSE);
	cr_assert_eq(r->close_flags, RWS_CLOSE_F_ERROR);
	cr_assert_eq(r->code, code, "close code %d, want %d", r->code, code);
	cr_assert_geq(r->reply_len, 4);
	cr_assert_eq(r->reply[0], 0x88);
	cr_assert_eq(r->reply[2] << 8 | r->reply[3], code);
	cr_assert_eq(rws_session_state(&sc), RWS_SESSION_CLOSED);
}

/* --- messages ------------------------------------------------------------ */

Test(session, text_message_in_place)
{
	cframe(&st, FIN | RWS_OP_TEXT, "Hello", 5);
	feed(&sc, &st, &rs);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].type, RWS_EV_MESSAGE);
	cr_assert_eq(rs.r[0].is_text, 1);
	cr_assert_eq(rs.r[0].len, 5);
	cr_assert_arr_eq(rs.r[0].data, "Hello", 5);
	cr_assert(rs.r[0].in_input, "a whole frame is delivered without a copy");
	cr_assert_eq(rws_session_buffered(&sc), 0, "no assembly buffer for a whole frame");
}

Test(session, binary_sizes_whole_and_split)
{
	static const size_t sizes[] = { 0, 125, 126, 65535, 65536, 1 << 20 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		uint8_t *p = malloc(n + 1);
		for (size_t k = 0; k < n; k++)
			p[k] = (uint8_t)(k * 7 + i);
		st.len = 0;
		cframe(&st, FIN | RWS_OP_BINARY, p, n);
		/* whole, then split in 4 KiB pieces as receive buffers would */
		feed(&sc, &st, &rs);
		size_t cuts[1024], nc = 0;
		for (size_t off = 4096; off < st.len && nc < 1024; off += 4096)
			cuts[nc++] = off;
		feed_split(&sc, st.b, st.len, cuts, nc, &rs);
		cr_assert_eq(rs.n, 2);
		for (int k = 0; k < 2; k++) {
			cr_assert_eq(rs.r[k].type, RWS_EV_MESSAGE);
			cr_assert_eq(rs.r[k].is_text, 0);
			cr_assert_eq(rs.r[k].len, n, "size %zu", n);
			cr_assert(n == 0 || memcmp(rs.r[k].data, p, n) == 0, "size %zu", n);
		}
		recs_free(&rs);
		free(p);
	}
}

Test(session, fragments_with_control_frames_between)
{
	cframe(&st, RWS_OP_TEXT, "frag", 4);
	cframe(&st, FIN | RWS_OP_PING, "p1", 2);
	cframe(&st, RWS_OP_CONT, "men", 3);
	cframe(&st, FIN | RWS_OP_PONG, "", 0);
	cframe(&st, FIN | RWS_OP_CONT, "ted", 3);
	feed(&sc, &st, &rs);
	cr_assert_eq(rs.n, 3);
	cr_assert_eq(rs.r[0].type, RWS_EV_PING);
	cr_assert_arr_eq(rs.r[0].data, "p1", 2);
	/* the automatic pong: unmasked (server), same payload */
	static const uint8_t pong[] = { 0x8A, 0x02, 'p', '1' };
	cr_assert_eq(rs.r[0].reply_len, 4);
	cr_assert_arr_eq(rs.r[0].reply, pong, 4);
	cr_assert_eq(rs.r[1].type, RWS_EV_PONG);
	cr_assert_eq(rs.r[1].len, 0);
	cr_assert_eq(rs.r[2].type, RWS_EV_MESSAGE);
	cr_assert_eq(rs.r[2].len, 10);
	cr_assert_arr_eq(rs.r[2].data, "fragmented", 10);
}

Test(session, control_frame_split_inside_fragmented_message)
{
	cframe(&st, RWS_OP_BINARY, "abc", 3);
	size_t ping_at = st.len;
	cframe(&st, FIN | RWS_OP_PING, "0123456789", 10);
	cframe(&st, FIN | RWS_OP_CONT, "def", 3);
	/* every split point inside the ping frame */
	for (size_t cut = ping_at + 1; cut < ping_at + 16; cut++) {
		size_t cuts[1] = { cut };
		feed_split(&sc, st.b, st.len, cuts, 1, &rs);
		cr_assert_eq(rs.n, 2, "cut %zu", cut);
		cr_assert_eq(rs.r[0].type, RWS_EV_PING);
		cr_assert_arr_eq(rs.r[0].data, "0123456789", 10);
		cr_assert_eq(rs.r[1].len, 6);
		cr_assert_arr_eq(rs.r[1].data, "abcdef", 6);
		recs_free(&rs);
	}
}

Test(session, auto_pong_can_be_turned_off)
{
	scfg.auto_pong = 0;
	cframe(&st, FIN | RWS_OP_PING, "x", 1);
	feed(&sc, &st, &rs);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].type, RWS_EV_PING);
	cr_assert_eq(rs.r[0].reply_len, 0);
}

Test(session, assembly_buffer_released_after_delivery)
{
	cframe(&st, RWS_OP_BINARY, "ab", 2);
	cframe(&st, FIN | RWS_OP_CONT, "cd", 2);
	struct rws_event ev;
	size_t used = rws_session_recv(&sc, st.b, st.len, 0, &ev);
	cr_assert_eq(used, st.len);
	cr_assert_eq(ev.type, RWS_EV_MESSAGE);
	cr_assert_arr_eq(ev.data, "abcd", 4);
	cr_assert_neq(rws_session_buffered(&sc), 0, "a fragmented message is assembled");
	cr_assert_eq(ev.data, sc.abuf->data);
	uint8_t none[1];
	rws_session_recv(&sc, none, 0, 0, &ev);
	cr_assert_eq(ev.type, RWS_EV_NONE);
	cr_assert_eq(rws_session_buffered(&sc), 0, "an idle connection holds no buffer");
	cr_assert_null(sc.abuf);
}

Test(session, connection_struct_is_small)
{
	cr_assert_leq(sizeof(struct rws_session), 64, "sizeof %zu", sizeof(struct rws_session));
}

/* --- protocol errors: 1002 ----------------------------------------------- */

Test(session, unmasked_client_frame_is_1002)
{
	frame(&st, FIN | RWS_OP_TEXT, 0, "hi", 2);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_PROTOCOL);
}

Test(session, masked_server_frame_is_1002_for_a_client)
{
	struct rws_session cc;
	rws_session_init(&cc, &ccfg, 0);
	frame(&st, FIN | RWS_OP_TEXT, 1, "hi", 2);
	feed(&cc, &st, &rs);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].code, RWS_CLOSE_PROTOCOL);
	/* the client's close frame is masked */
	cr_assert_eq(rs.r[0].reply[0], 0x88);
	cr_assert(rs.r[0].reply[1] & 0x80);
	rws_session_free(&cc);
}

Test(session, reserved_opcodes_are_1002)
{
	static const unsigned ops[] = { 3, 4, 5, 6, 7, 11, 12, 13, 14, 15 };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		rws_session_init(&sc, &scfg, 0);
		st.len = 0;
		cframe(&st, FIN | ops[i], "", 0);
		feed(&sc, &st, &rs);
		expect_fail(RWS_CLOSE_PROTOCOL);
		recs_free(&rs);
	}
}

Test(session, rsv_bits_without_extension_are_1002)
{
	for (unsigned rsv = 1; rsv < 8; rsv++) {
		rws_session_init(&sc, &scfg, 0);
		st.len = 0;
		cframe(&st, FIN | (rsv << 4) | RWS_OP_BINARY, "x", 1);
		feed(&sc, &st, &rs);
		expect_fail(RWS_CLOSE_PROTOCOL);
		recs_free(&rs);
	}
}

Test(session, rsv1_with_deflate_marks_compressed)
{
	rws_session_init(&sc, &scfg, RWS_RSV1);
	cframe(&st, 0x40 | RWS_OP_TEXT, "\xff", 1);	/* not UTF-8: compressed bytes */
	cframe(&st, FIN | RWS_OP_CONT, "\xfe", 1);
	feed(&sc, &st, &rs);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].type, RWS_EV_MESSAGE);
	cr_assert_eq(rs.r[0].compressed, 1);
	cr_assert_eq(rs.r[0].is_text, 1);
}

Test(session, rsv1_on_continuation_is_1002)
{
	rws_session_init(&sc, &scfg, RWS_RSV1);
	cframe(&st, 0x40 | RWS_OP_BINARY, "a", 1);
	cframe(&st, FIN | 0x40 | RWS_OP_CONT, "b", 1);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_PROTOCOL);
}

Test(session, rsv1_on_control_is_1002)
{
	rws_session_init(&sc, &scfg, RWS_RSV1);
	cframe(&st, FIN | 0x40 | RWS_OP_PING, "a", 1);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_PROTOCOL);
}

Test(session, long_control_frame_is_1002)
{
	uint8_t p[126] = { 0 };
	cframe(&st, FIN | RWS_OP_PING, p, 126);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_PROTOCOL);
}

Test(session, fragmented_control_frame_is_1002)
{
	cframe(&st, RWS_OP_PING, "a", 1);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_PROTOCOL);
}

Test(session, continuation_without_message_is_1002)
{
	cframe(&st, FIN | RWS_OP_CONT, "a", 1);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_PROTOCOL);
}

Test(session, new_message_inside_fragmented_one_is_1002)
{
	cframe(&st, RWS_OP_TEXT, "a", 1);
	cframe(&st, FIN | RWS_OP_TEXT, "b", 1);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_PROTOCOL);
}

Test(session, length64_top_bit_is_1002)
{
	uint8_t b[14] = { 0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
	put(&st, b, sizeof(b));
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_PROTOCOL);
}

Test(session, nothing_is_processed_after_an_error)
{
	frame(&st, FIN | RWS_OP_TEXT, 0, "x", 1);	/* unmasked: error */
	cframe(&st, FIN | RWS_OP_TEXT, "after", 5);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_PROTOCOL);
	st.len = 0;
	cframe(&st, FIN | RWS_OP_PING, "x", 1);
	feed(&sc, &st, &rs);
	cr_assert_eq(rs.n, 1, "no event after the connection failed");
}

/* --- limits: 1009 -------------------------------------------------------- */

Test(session, oversize_frame_is_1009_from_the_header_alone)
{
	scfg.max_payload = 1000;
	uint8_t hdr[RWS_FRAME_HDR_MAX];
	static const uint8_t key[4] = { 1, 2, 3, 4 };
	size_t n = rws_frame_encode(hdr, 1, 0, RWS_OP_BINARY, 1001, key);
	put(&st, hdr, n);	/* no payload at all */
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_TOO_BIG);
	cr_assert_eq(rws_session_buffered(&sc), 0, "nothing was buffered");
}

Test(session, default_limit_is_100_mib)
{
	uint8_t hdr[RWS_FRAME_HDR_MAX];
	static const uint8_t key[4] = { 1, 2, 3, 4 };
	size_t n = rws_frame_encode(hdr, 1, 0, RWS_OP_BINARY, 100u * 1024 * 1024 + 1, key);
	put(&st, hdr, n);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_TOO_BIG);
}

Test(session, exactly_max_payload_passes_fragments_over_it_fail)
{
	scfg.max_payload = 10;
	uint8_t p[10];
	memset(p, 'z', sizeof(p));
	cframe(&st, RWS_OP_BINARY, p, 6);
	cframe(&st, FIN | RWS_OP_CONT, p, 4);
	feed(&sc, &st, &rs);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].len, 10);
	recs_free(&rs);
	st.len = 0;
	cframe(&st, RWS_OP_BINARY, p, 6);
	cframe(&st, FIN | RWS_OP_CONT, p, 5);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_TOO_BIG);
}

/* --- UTF-8: 1007 --------------------------------------------------------- */

Test(session, invalid_utf8_text_is_1007)
{
	cframe(&st, FIN | RWS_OP_TEXT, "ab\xc0\xafz", 5);	/* overlong '/' */
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_INVALID_DATA);
}

Test(session, utf8_fails_fast_before_the_rest_arrives)
{
	uint8_t big[1000];
	memset(big, 'a', sizeof(big));
	big[5] = 0xFF;
	cframe(&st, FIN | RWS_OP_TEXT, big, sizeof(big));
	/* only the header and the first 10 payload bytes arrive */
	size_t cut[1] = { 4 + 4 + 10 };
	uint8_t *g = guard_copy(st.b, cut[0]);
	struct rws_event ev;
	size_t used = rws_session_recv(&sc, g, cut[0], 0, &ev);
	cr_assert_eq(ev.type, RWS_EV_CLOSE);
	cr_assert_eq(ev.code, RWS_CLOSE_INVALID_DATA);
	cr_assert_eq(used, cut[0]);
	guard_free(g);
}

Test(session, utf8_fails_fast_across_fragments)
{
	cframe(&st, RWS_OP_TEXT, "ok", 2);
	cframe(&st, RWS_OP_CONT, "\xed\xa0\x80", 3);	/* a surrogate */
	feed(&sc, &st, &rs);	/* the final fragment never comes */
	expect_fail(RWS_CLOSE_INVALID_DATA);
}

Test(session, code_point_split_across_fragments_and_reads)
{
	/* U+1F600 as F0 9F 98 80, split over three fragments */
	cframe(&st, RWS_OP_TEXT, "\xf0", 1);
	cframe(&st, RWS_OP_CONT, "\x9f\x98", 2);
	cframe(&st, FIN | RWS_OP_CONT, "\x80!", 2);
	for (size_t cut = 1; cut < st.len; cut++) {
		size_t cuts[1] = { cut };
		feed_split(&sc, st.b, st.len, cuts, 1, &rs);
		cr_assert_eq(rs.n, 1, "cut %zu", cut);
		cr_assert_eq(rs.r[0].type, RWS_EV_MESSAGE);
		cr_assert_arr_eq(rs.r[0].data, "\xf0\x9f\x98\x80!", 5);
		recs_free(&rs);
	}
}

Test(session, text_ending_inside_a_sequence_is_1007)
{
	cframe(&st, RWS_OP_TEXT, "a\xe2\x82", 3);
	cframe(&st, FIN | RWS_OP_CONT, "", 0);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_INVALID_DATA);
}

Test(session, binary_is_not_utf8_checked)
{
	cframe(&st, FIN | RWS_OP_BINARY, "\xff\xfe", 2);
	feed(&sc, &st, &rs);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].type, RWS_EV_MESSAGE);
}

/* --- the close handshake ------------------------------------------------- */

Test(session, peer_close_is_answered_with_the_same_code)
{
	cframe(&st, FIN | RWS_OP_CLOSE, "\x03\xe8" "bye", 5);
	feed(&sc, &st, &rs);
	cr_assert_eq(rs.n, 1);
	struct rec *r = &rs.r[0];
	cr_assert_eq(r->type, RWS_EV_CLOSE);
	cr_assert_eq(r->close_flags, RWS_CLOSE_F_PEER);
	cr_assert_eq(r->code, 1000);
	cr_assert_arr_eq(r->data, "bye", 3);
	static const uint8_t reply[] = { 0x88, 0x02, 0x03, 0xe8 };
	cr_assert_eq(r->reply_len, 4);
	cr_assert_arr_eq(r->reply, reply, 4);
	cr_assert_eq(rws_session_state(&sc), RWS_SESSION_CLOSED);
}

Test(session, empty_close_is_1005_and_answered_empty)
{
	cframe(&st, FIN | RWS_OP_CLOSE, "", 0);
	feed(&sc, &st, &rs);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].code, RWS_CLOSE_NO_STATUS);
	static const uint8_t reply[] = { 0x88, 0x00 };
	cr_assert_eq(rs.r[0].reply_len, 2);
	cr_assert_arr_eq(rs.r[0].reply, reply, 2);
}

Test(session, one_byte_close_payload_is_1002)
{
	cframe(&st, FIN | RWS_OP_CLOSE, "\x03", 1);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_PROTOCOL);
}

Test(session, close_codes_as_ws_accepts_them)
{
	for (unsigned code = 0; code < 65536; code++) {
		int valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
			    (code >= 3000 && code <= 4999);
		cr_assert_eq(rws_close_code_valid(code), valid, "code %u", code);
	}
	static const unsigned bad[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rws_session_init(&sc, &scfg, 0);
		st.len = 0;
		uint8_t p[2] = { (uint8_t)(bad[i] >> 8), (uint8_t)bad[i] };
		cframe(&st, FIN | RWS_OP_CLOSE, p, 2);
		feed(&sc, &st, &rs);
		expect_fail(RWS_CLOSE_PROTOCOL);
		recs_free(&rs);
	}
	static const unsigned good[] = { 1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999 };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rws_session_init(&sc, &scfg, 0);
		st.len = 0;
		uint8_t p[2] = { (uint8_t)(good[i] >> 8), (uint8_t)good[i] };
		cframe(&st, FIN | RWS_OP_CLOSE, p, 2);
		feed(&sc, &st, &rs);
		cr_assert_eq(rs.n, 1);
		cr_assert_eq(rs.r[0].close_flags, RWS_CLOSE_F_PEER, "code %u", good[i]);
		cr_assert_eq(rs.r[0].code, (int)good[i]);
		recs_free(&rs);
	}
}

Test(session, close_reason_must_be_utf8)
{
	cframe(&st, FIN | RWS_OP_CLOSE, "\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80", 16);
	feed(&sc, &st, &rs);
	expect_fail(RWS_CLOSE_INVALID_DATA);
}

Test(session, after_our_close_no_data_leaves)
{
	uint8_t out[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
	int n = rws_session_close(&sc, out, 1000, "done", 4, 500);
	cr_assert_eq(n, 2 + 2 + 4);
	cr_assert_eq(out[0], 0x88);
	cr_assert_eq(rws_session_state(&sc), RWS_SESSION_CLOSE_SENT);
	cr_assert_eq(rws_session_encode(&sc, out, sizeof(out), RWS_OP_TEXT, 1, 0, "x", 1), -EPIPE);
	cr_assert_eq(rws_session_control(&sc, out, RWS_OP_PING, "", 0), -EPIPE);
	cr_assert_eq(rws_session_close(&sc, out, 1000, "", 0, 500), -EPIPE);
	/* a ping that arrives is reported but not answered; the peer's close
	 * completes the handshake without a second close frame from us */
	cframe(&st, FIN | RWS_OP_PING, "p", 1);
	cframe(&st, FIN | RWS_OP_CLOSE, "\x03\xe8", 2);
	feed(&sc, &st, &rs);
	cr_assert_eq(rs.n, 2);
	cr_assert_eq(rs.r[0].type, RWS_EV_PING);
	cr_assert_eq(rs.r[0].reply_len, 0);
	cr_assert_eq(rs.r[1].type, RWS_EV_CLOSE);
	cr_assert_eq(rs.r[1].reply_len, 0);
	cr_assert_eq(rws_session_state(&sc), RWS_SESSION_CLOSED);
}

Test(session, messages_still_arrive_after_our_close)
{
	uint8_t out[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
	cr_assert_gt(rws_session_close(&sc, out, 1001, "", 0, 0), 0);
	cframe(&st, FIN | RWS_OP_TEXT, "late", 4);
	feed(&sc, &st, &rs);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].type, RWS_EV_MESSAGE);
}

Test(session, close_timeout_uses_the_time_passed_in)
{
	uint8_t out[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
	struct rws_event ev;
	cr_assert_eq(rws_session_deadline(&sc, 1000), 0);
	cr_assert_gt(rws_session_close(&sc, out, 1000, "", 0, 1000), 0);
	cr_assert_eq(rws_session_deadline(&sc, 1000), 1000 + 30000);
	cr_assert_eq(rws_session_tick(&sc, 1000 + 29999, &ev), 0);
	cr_assert_eq(rws_session_state(&sc), RWS_SESSION_CLOSE_SENT);
	cr_assert_eq(rws_session_tick(&sc, 1000 + 30000, &ev), 1);
	cr_assert_eq(ev.type, RWS_EV_CLOSE);
	cr_assert_eq(ev.close_flags, RWS_CLOSE_F_TIMEOUT);
	cr_assert_eq(ev.code, RWS_CLOSE_ABNORMAL);
	cr_assert_eq(rws_session_state(&sc), RWS_SESSION_CLOSED);
	cr_assert_eq(rws_session_deadline(&sc, 1000), 0);
}

Test(session, close_timeout_across_the_32_bit_wrap)
{
	/* the session keeps the deadline's low 32 bits: a close sent just
	 * before 2^32 ms must still time out 30 s later, not at once or never */
	uint8_t out[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
	struct rws_event ev;
	uint64_t t0 = (1ull << 32) - 10000;
	cr_assert_gt(rws_session_close(&sc, out, 1000, "", 0, t0), 0);
	cr_assert_eq(rws_session_deadline(&sc, t0), t0 + 30000);
	cr_assert_eq(rws_session_deadline(&sc, t0 + 20000), t0 + 30000);
	cr_assert_eq(rws_session_tick(&sc, t0 + 1, &ev), 0);
	cr_assert_eq(rws_session_tick(&sc, t0 + 29999, &ev), 0);
	cr_assert_eq(rws_session_tick(&sc, t0 + 30000, &ev), 1);
	cr_assert_eq(ev.close_flags, RWS_CLOSE_F_TIMEOUT);
}

Test(session, close_arguments_are_checked)
{
	uint8_t out[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
	char long_reason[124];
	memset(long_reason, 'r', sizeof(long_reason));
	cr_assert_eq(rws_session_close(&sc, out, 1005, "", 0, 0), -EINVAL);
	cr_assert_eq(rws_session_close(&sc, out, 999, "", 0, 0), -EINVAL);
	cr_assert_eq(rws_session_close(&sc, out, 0, "x", 1, 0), -EINVAL);
	cr_assert_eq(rws_session_close(&sc, out, 1000, long_reason, 124, 0), -EINVAL);
	cr_assert_eq(rws_session_close(&sc, out, 1000, "\xc3", 1, 0), -EINVAL);
	cr_assert_eq(rws_session_state(&sc), RWS_SESSION_OPEN);
	cr_assert_eq(rws_session_close(&sc, out, 1000, long_reason, 123, 0), 2 + 2 + 123);
}

Test(session, close_without_code)
{
	uint8_t out[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
	cr_assert_eq(rws_session_close(&sc, out, 0, NULL, 0, 0), 2);
	cr_assert_eq(out[0], 0x88);
	cr_assert_eq(out[1], 0x00);
}

/* --- sending ------------------------------------------------------------- */

Test(session, server_frames_are_unmasked)
{
	uint8_t out[64];
	long n = rws_session_encode(&sc, out, sizeof(out), RWS_OP_TEXT, 1, 0, "Hello", 5);
	static const uint8_t want[] = { 0x81, 0x05, 'H', 'e', 'l', 'l', 'o' };
	cr_assert_eq(n, 7);
	cr_assert_arr_eq(out, want, 7);
	cr_assert_eq(rws_session_encode(&sc, out, 6, RWS_OP_TEXT, 1, 0, "Hello", 5), -ENOSPC);
	cr_assert_eq(rws_session_encode(&sc, out, sizeof(out), RWS_OP_PING, 1, 0, "", 0), -EINVAL);
	cr_assert_eq(rws_session_encode(&sc, out, sizeof(out), RWS_OP_TEXT, 1, 1, "", 0), -EINVAL,
		     "compressed without permessage-deflate");
}

Test(session, client_frames_masked_with_fresh_keys_and_readable_by_a_server)
{
	struct rws_session cc;
	rws_session_init(&cc, &ccfg, 0);
	uint8_t a[64], b[64];
	long na = rws_session_encode(&cc, a, sizeof(a), RWS_OP_TEXT, 1, 0, "same text", 9);
	long nb = rws_session_encode(&cc, b, sizeof(b), RWS_OP_TEXT, 1, 0, "same text", 9);
	cr_assert_eq(na, 2 + 4 + 9);
	cr_assert(a[1] & 0x80, "mask bit");
	cr_assert(memcmp(a + 2, b + 2, 4) != 0, "a fresh key per frame");
	put(&st, a, (size_t)na);
	put(&st, b, (size_t)nb);
	feed(&sc, &st, &rs);
	cr_assert_eq(rs.n, 2);
	cr_assert_arr_eq(rs.r[0].data, "same text", 9);
	cr_assert_arr_eq(rs.r[1].data, "same text", 9);
	uint8_t ping[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
	cr_assert_eq(rws_session_control(&cc, ping, RWS_OP_PING, "hb", 2), 2 + 4 + 2);
	cr_assert_eq(rws_session_control(&cc, ping, RWS_OP_CLOSE, "", 0), -EINVAL);
	uint8_t big[126] = { 0 };
	cr_assert_eq(rws_session_control(&cc, ping, RWS_OP_PING, big, 126), -EINVAL);
	rws_session_free(&cc);
}

Test(session, fragmented_send_writes_continuation_opcodes)
{
	rws_session_init(&sc, &scfg, RWS_RSV1);
	uint8_t h[RWS_FRAME_HDR_MAX], key[4];
	cr_assert_eq(rws_session_data_header(&sc, h, RWS_OP_TEXT, 0, 1, 3, key), 2);
	cr_assert_eq(h[0], 0x40 | RWS_OP_TEXT, "RSV1 on the first frame, no FIN");
	cr_assert_eq(rws_session_data_header(&sc, h, RWS_OP_BINARY, 1, 0, 3, key), -EINVAL,
		     "another type inside an unfinished message");
	cr_assert_eq(rws_session_data_header(&sc, h, RWS_OP_TEXT, 0, 1, 3, key), 2);
	cr_assert_eq(h[0], RWS_OP_CONT, "continuation, no RSV1");
	cr_assert_eq(rws_session_data_header(&sc, h, RWS_OP_TEXT, 1, 1, 3, key), 2);
	cr_assert_eq(h[0], 0x80 | RWS_OP_CONT);
	cr_assert_eq(rws_session_data_header(&sc, h, RWS_OP_BINARY, 1, 0, 3, key), 2);
	cr_assert_eq(h[0], 0x80 | RWS_OP_BINARY, "a new message after the final fragment");
}

/* --- properties ---------------------------------------------------------- */

/* A random stream a client would send: messages of random sizes, some
 * fragmented, text and binary, pings and pongs between fragments, then a
 * close. Built with a client-role connection, so the encoder is tested too. */
static void random_stream(uint64_t *seed, struct stream *s, int msgs)
{
	struct rws_session cc;
	rws_session_init(&cc, &ccfg, 0);
	static uint8_t buf[70000 + RWS_FRAME_HDR_MAX];
	static uint8_t payload[70000];
	for (int m = 0; m < msgs; m++) {
		int text = test_rand(seed) & 1;
		int frags = 1 + (int)(test_rand(seed) % 4);
		for (int f = 0; f < frags; f++) {
			size_t len;
			uint64_t r = test_rand(seed);
			switch (r % 8) {
			case 0: len = 0; break;
			case 1: len = 126 + r % 70000 / 1; if (len > 70000) len = 70000; break;
			default: len = (r >> 8) % 200; break;
			}
			for (size_t k = 0; k < len; k++)
				payload[k] = text ? (uint8_t)('a' + (k + m) % 26) : (uint8_t)test_rand(seed);
			if (text && len >= 4 && (r & 0x100)) /* a code point across a fragment edge */
				memcpy(payload + len - 2, "\xc3\xa9", 2);
			long n = rws_session_encode(&cc, buf, sizeof(buf), text ? RWS_OP_TEXT : RWS_OP_BINARY,
						 f == frags - 1, 0, payload, len);
			cr_assert_gt(n, 0);
			put(s, buf, (size_t)n);
			if (test_rand(seed) % 4 == 0) {
				uint8_t c[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
				int cn = rws_session_control(&cc, c, test_rand(seed) & 1 ? RWS_OP_PING : RWS_OP_PONG,
							  "ctl-payload", test_rand(seed) % 12);
				put(s, c, (size_t)cn);
			}
		}
	}
	uint8_t c[RWS_FRAME_HDR_MAX + RWS_CONTROL_MAX];
	int cn = rws_session_close(&cc, c, 1000, "end", 3, 0);
	put(s, c, (size_t)cn);
	rws_session_free(&cc);
}

static void expect_same_events(const struct recs *a, const struct recs *b, const char *what)
{
	cr_assert_eq(a->n, b->n, "%s: %d events vs %d", what, a->n, b->n);
	for (int i = 0; i < a->n; i++) {
		const struct rec *x = &a->r[i], *y = &b->r[i];
		cr_assert_eq(x->type, y->type, "%s: event %d", what, i);
		cr_assert_eq(x->is_text, y->is_text);
		cr_assert_eq(x->code, y->code);
		cr_assert_eq(x->len, y->len, "%s: event %d length", what, i);
		cr_assert(x->len == 0 || memcmp(x->data, y->data, x->len) == 0, "%s: event %d data", what, i);
		cr_assert_eq(x->reply_len, y->reply_len);
		cr_assert(memcmp(x->reply, y->reply, x->reply_len) == 0);
	}
}

Test(session, random_splits_give_the_same_events, .timeout = 120)
{
	uint64_t seed = 0xC0FFEE123ull;
	for (int round = 0; round < 30; round++) {
		st.len = 0;
		random_stream(&seed, &st, 12);
		struct recs *whole = calloc(1, sizeof(*whole));
		struct recs *split = calloc(1, sizeof(*split));
		rws_session_init(&sc, &scfg, 0);
		feed(&sc, &st, whole);
		cr_assert_eq(whole->r[whole->n - 1].type, RWS_EV_CLOSE, "round %d ends with close", round);
		cr_assert_eq(whole->r[whole->n - 1].code, 1000);
		for (int k = 0; k < whole->n; k++)
			cr_assert_neq(whole->r[k].close_flags, RWS_CLOSE_F_ERROR, "round %d event %d", round, k);

		/* random cuts */
		size_t cuts[64], nc = 0;
		for (size_t i = 0; i < 64; i++)
			cuts[nc++] = 1 + test_rand(&seed) % (st.len - 1);
		for (size_t i = 0; i < nc; i++)	/* sort */
			for (size_t j = i + 1; j < nc; j++)
				if (cuts[j] < cuts[i]) {
					size_t t = cuts[i]; cuts[i] = cuts[j]; cuts[j] = t;
				}
		rws_session_free(&sc);
		rws_session_init(&sc, &scfg, 0);
		feed_split(&sc, st.b, st.len, cuts, nc, split);
		expect_same_events(whole, split, "random cuts");
		recs_free(split);
		rws_session_free(&sc);

		/* one byte at a time, for the smaller streams */
		if (st.len < 20000) {
			size_t *every = malloc(st.len * sizeof(size_t));
			for (size_t i = 1; i < st.len; i++)
				every[i - 1] = i;
			rws_session_init(&sc, &scfg, 0);
			feed_split(&sc, st.b, st.len, every, st.len - 1, split);
			expect_same_events(whole, split, "byte by byte");
			recs_free(split);
			rws_session_free(&sc);
			free(every);
		}
		recs_free(whole);
		free(whole);
		free(split);
	}
}
