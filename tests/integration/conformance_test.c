/*
 * conformance_test: RFC 6455 conformance of ringwsd (echo plugin), driven by
 * a raw C client that sends crafted handshakes and frames, byte for byte,
 * the ones no real peer sends. Suites follow the Autobahn testsuite's case
 * groups (the case numbers are in the comments): 1 framing, 2 ping/pong,
 * 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close handling,
 * 9 limits and performance, 10 auto-fragmentation; hs is the opening
 * handshake.
 *
 * Expectations are strict: a protocol error is answered with a close frame
 * carrying the code (1002, 1007, 1009) before TCP closes; invalid UTF-8 is
 * caught at the first byte that makes it invalid, even while the rest of
 * the frame has not been sent; every server frame obeys the RFC (unmasked,
 * RSV clear, minimal length encoding, control frames short and final).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "harness.h"
#include "wsraw.h"

static struct daemon *srv;

static void start_echo(void)
{
	srv = daemon_start("--route", route("/", "echo"), "--max-payload", "67108864", NULL);
}

static int ws_open(void)
{
	return ws_open_with(srv->port, "/", "");
}

/* --- 1 framing ------------------------------------------------------------- */

TestSuite(c1_framing, .init = start_echo, .fini = harness_teardown, .timeout = 30);

static const size_t lengths[] = { 0, 1, 125, 126, 127, 128, 65535, 65536, 65537 };

/* 1.1.1-1.1.6: text payloads across the 7-, 16- and 64-bit length forms */
Test(c1_framing, text_lengths)
{
	int fd = ws_open();
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		uint8_t *p = utf8_text(lengths[i]);
		echo_one(fd, OP_TEXT, p, lengths[i]);
		free(p);
	}
	close_with(fd, 1000);
}

/* 1.2.1-1.2.6 */
Test(c1_framing, binary_lengths)
{
	int fd = ws_open();
	for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		uint8_t *p = random_bytes(lengths[i], i);
		echo_one(fd, OP_BINARY, p, lengths[i]);
		free(p);
	}
	close_with(fd, 1000);
}

/* 1.1.8, 1.2.8: 65536 bytes written in chops of 997, the header byte by byte */
Test(c1_framing, chopped_writes)
{
	int fd = ws_open();
	uint8_t *p = random_bytes(65536, 7);
	struct wire w = { 0 };
	put_frame(&w, FIN | OP_BINARY, p, 65536);
	wire_send(fd, &(struct wire){ w.p, 14, 14 }, 1);
	wire_send(fd, &(struct wire){ w.p + 14, w.len - 14, w.len - 14 }, 997);
	expect_message(fd, OP_BINARY, p, 65536);
	wire_free(&w);
	free(p);
	close_with(fd, 1000);
}

/* three frames in one TCP write: three echoes, in order */
Test(c1_framing, frames_in_one_write)
{
	int fd = ws_open();
	struct wire w = { 0 };
	put_frame(&w, FIN | OP_TEXT, "one", 3);
	put_frame(&w, FIN | OP_BINARY, "two", 3);
	put_frame(&w, FIN | OP_TEXT, "three", 5);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_message(fd, OP_TEXT, "one", 3);
	expect_message(fd, OP_BINARY, "two", 3);
	expect_message(fd, OP_TEXT, "three", 5);
	close_with(fd, 1000);
}

/* RFC 6455 5.1: a client frame without a mask fails the connection */
Test(c1_framing, unmasked_frame)
{
	int fd = ws_open();
	struct wire w = { 0 };
	put_frame_as(&w, FIN | OP_TEXT, "Hello", 5, 5, 1);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_fail(fd, 1002);
}

/* --- 2 ping/pong ------------------------------------------------------------ */

TestSuite(c2_pingpong, .init = start_echo, .fini = harness_teardown, .timeout = 30);

/* 2.1, 2.2, 2.3, 2.4: empty, text, binary and 125-byte payloads */
Test(c2_pingpong, ping_payloads)
{
	int fd = ws_open();
	uint8_t bin[125];
	for (int i = 0; i < 125; i++)
		bin[i] = (uint8_t)(255 - i);
	const struct {
		const void *p;
		size_t n;
	} cases[] = { { "", 0 }, { "Hello, world!", 13 }, { "\x00\xff\xfe\xfd\xfc\xfb\x00\xff", 8 },
		      { bin, 125 } };
	for (size_t i = 0; i < 4; i++) {
		send_frame(fd, FIN | OP_PING, cases[i].p, cases[i].n);
		expect_pong(fd, cases[i].p, cases[i].n);
	}
	close_with(fd, 1000);
}

/* 2.5: a control frame payload over 125 bytes */
Test(c2_pingpong, ping_126_bytes)
{
	int fd = ws_open();
	uint8_t p[126] = { 0 };
	send_frame(fd, FIN | OP_PING, p, sizeof(p));
	expect_fail(fd, 1002);
}

/* 2.6: a 125-byte ping written one byte at a time */
Test(c2_pingpong, ping_chopped)
{
	int fd = ws_open();
	uint8_t *p = random_bytes(125, 3);
	struct wire w = { 0 };
	put_frame(&w, FIN | OP_PING, p, 125);
	wire_send(fd, &w, 1);
	wire_free(&w);
	expect_pong(fd, p, 125);
	free(p);
	close_with(fd, 1000);
}

/* 2.7, 2.8: unsolicited pongs get no answer */
Test(c2_pingpong, unsolicited_pong)
{
	int fd = ws_open();
	send_frame(fd, FIN | OP_PONG, NULL, 0);
	send_frame(fd, FIN | OP_PONG, "unsolicited", 11);
	echo_one(fd, OP_TEXT, "after", 5);
	close_with(fd, 1000);
}

/* 2.9: a pong, then a ping: only the ping is answered */
Test(c2_pingpong, pong_then_ping)
{
	int fd = ws_open();
	struct wire w = { 0 };
	put_frame(&w, FIN | OP_PONG, "unsolicited", 11);
	put_frame(&w, FIN | OP_PING, "solicited", 9);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_pong(fd, "solicited", 9);
	expect_silence(fd, 200);
	close_with(fd, 1000);
}

/* 2.10, 2.11: ten pings in one write, then ten in chops; ten pongs in order */
Test(c2_pingpong, ten_pings)
{
	int fd = ws_open();
	for (size_t chop = 0; chop <= 1; chop++) {
		struct wire w = { 0 };
		char p[10][16];
		for (int i = 0; i < 10; i++) {
			snprintf(p[i], sizeof(p[i]), "payload-%d", i);
			put_frame(&w, FIN | OP_PING, p[i], strlen(p[i]));
		}
		wire_send(fd, &w, chop);
		wire_free(&w);
		for (int i = 0; i < 10; i++)
			expect_pong(fd, p[i], strlen(p[i]));
	}
	close_with(fd, 1000);
}

/* --- 3 reserved bits ---------------------------------------------------------- */

TestSuite(c3_reserved, .init = start_echo, .fini = harness_teardown, .timeout = 30);

/* 3.1: RSV1 on a text frame with no extension negotiated */
Test(c3_reserved, rsv1_text)
{
	int fd = ws_open();
	send_frame(fd, FIN | RSV1 | OP_TEXT, "Hello, world!", 13);
	expect_fail(fd, 1002);
}

/* 3.2: a text echoed, then RSV2 on a text frame, then a ping that must not
 * be answered */
Test(c3_reserved, rsv2_after_echo)
{
	int fd = ws_open();
	struct wire w = { 0 };
	put_frame(&w, FIN | OP_TEXT, "Hello, world!", 13);
	put_frame(&w, FIN | RSV2 | OP_TEXT, "Hello, world!", 13);
	put_frame(&w, FIN | OP_PING, "", 0);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_message(fd, OP_TEXT, "Hello, world!", 13);
	expect_fail(fd, 1002);
}

/* 3.3: the same with RSV1+RSV2, written one byte at a time */
Test(c3_reserved, rsv3_chopped)
{
	int fd = ws_open();
	struct wire w = { 0 };
	put_frame(&w, FIN | OP_TEXT, "Hello, world!", 13);
	put_frame(&w, FIN | RSV1 | RSV2 | OP_TEXT, "Hello, world!", 13);
	put_frame(&w, FIN | OP_PING, "", 0);
	wire_send(fd, &w, 1);
	wire_free(&w);
	expect_message(fd, OP_TEXT, "Hello, world!", 13);
	expect_fail(fd, 1002);
}

/* 3.5, 3.6, 3.7: RSV bits on binary, ping and close frames */
Test(c3_reserved, rsv_on_other_opcodes)
{
	static const uint8_t b0[] = { FIN | RSV2 | RSV3 | OP_BINARY, FIN | RSV1 | RSV3 | OP_PING,
				      FIN | RSV1 | RSV2 | RSV3 | OP_CLOSE };
	for (int i = 0; i < 3; i++) {
		int fd = ws_open();
		send_frame(fd, b0[i], "\x03\xe8", 2);
		expect_fail(fd, 1002);
	}
}

/* --- 4 opcodes ----------------------------------------------------------- */

TestSuite(c4_opcodes, .init = start_echo, .fini = harness_teardown, .timeout = 30);

/* 4.1.1-4.1.5, 4.2.1-4.2.5: each reserved opcode fails the connection */
Test(c4_opcodes, reserved_opcodes)
{
	static const int ops[] = { 3, 4, 5, 6, 7, 11, 12, 13, 14, 15 };
	for (int i = 0; i < 10; i++) {
		int fd = ws_open();
		send_frame(fd, FIN | ops[i], "reserved", i % 2 ? 8 : 0);
		expect_fail(fd, 1002);
	}
}

/* 4.1.3, 4.2.3: a text echoed, then a reserved opcode, then a ping that must
 * not be answered */
Test(c4_opcodes, reserved_after_echo)
{
	static const int ops[] = { 5, 13 };
	for (int i = 0; i < 2; i++) {
		int fd = ws_open();
		struct wire w = { 0 };
		put_frame(&w, FIN | OP_TEXT, "Hello, world!", 13);
		put_frame(&w, FIN | ops[i], NULL, 0);
		put_frame(&w, FIN | OP_PING, "", 0);
		wire_send(fd, &w, i);
		wire_free(&w);
		expect_message(fd, OP_TEXT, "Hello, world!", 13);
		expect_fail(fd, 1002);
	}
}

/* --- 5 fragmentation ------------------------------------------------------ */

TestSuite(c5_fragments, .init = start_echo, .fini = harness_teardown, .timeout = 30);

/* 5.1, 5.2: control frames must not be fragmented */
Test(c5_fragments, fragmented_control)
{
	static const int ops[] = { OP_PING, OP_PONG };
	for (int i = 0; i < 2; i++) {
		int fd = ws_open();
		struct wire w = { 0 };
		put_frame(&w, ops[i], "frag1", 5);
		put_frame(&w, FIN | OP_CONT, "frag2", 5);
		wire_send(fd, &w, 0);
		wire_free(&w);
		expect_fail(fd, 1002);
	}
}

/* 5.3, 5.4, 5.5: a text in two fragments, written whole, then in chops */
Test(c5_fragments, text_two_fragments)
{
	int fd = ws_open();
	for (size_t chop = 0; chop <= 1; chop++) {
		struct wire w = { 0 };
		put_frame(&w, OP_TEXT, "fragment1", 9);
		put_frame(&w, FIN | OP_CONT, "fragment2", 9);
		wire_send(fd, &w, chop);
		wire_free(&w);
		expect_message(fd, OP_TEXT, "fragment1fragment2", 18);
	}
	close_with(fd, 1000);
}

/* 5.6, 5.7: a ping between fragments is answered before the message ends */
Test(c5_fragments, ping_between_fragments)
{
	int fd = ws_open();
	for (size_t chop = 0; chop <= 1; chop++) {
		struct wire w = { 0 };
		put_frame(&w, OP_TEXT, "fragment1", 9);
		put_frame(&w, FIN | OP_PING, "ping payload", 12);
		put_frame(&w, FIN | OP_CONT, "fragment2", 9);
		wire_send(fd, &w, chop);
		wire_free(&w);
		expect_pong(fd, "ping payload", 12);
		expect_message(fd, OP_TEXT, "fragment1fragment2", 18);
	}
	close_with(fd, 1000);
}

/* 5.19, 5.20: five fragments with two pings and an unsolicited pong among them */
Test(c5_fragments, pings_among_many_fragments)
{
	int fd = ws_open();
	struct wire w = { 0 };
	put_frame(&w, OP_TEXT, "frag1 ", 6);
	put_frame(&w, OP_CONT, "frag2 ", 6);
	put_frame(&w, FIN | OP_PING, "pongme 1!", 9);
	put_frame(&w, OP_CONT, "frag3 ", 6);
	put_frame(&w, FIN | OP_PONG, "unsolicited", 11);
	put_frame(&w, OP_CONT, "frag4 ", 6);
	put_frame(&w, FIN | OP_PING, "pongme 2!", 9);
	put_frame(&w, FIN | OP_CONT, "frag5", 5);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_pong(fd, "pongme 1!", 9);
	expect_pong(fd, "pongme 2!", 9);
	expect_message(fd, OP_TEXT, "frag1 frag2 frag3 frag4 frag5", 29);
	close_with(fd, 1000);
}

/* 5.9-5.14: a continuation with no message to continue */
Test(c5_fragments, continuation_first)
{
	for (int fin = 0; fin <= 1; fin++) {
		int fd = ws_open();
		struct wire w = { 0 };
		put_frame(&w, (uint8_t)(fin ? FIN : 0) | OP_CONT, "non-continuation payload", 24);
		put_frame(&w, FIN | OP_TEXT, "Hello, world!", 13);
		wire_send(fd, &w, 0);
		wire_free(&w);
		expect_fail(fd, 1002);
	}
}

/* 5.15-5.18: a new data frame while a message is unfinished */
Test(c5_fragments, data_frame_inside_message)
{
	static const int ops[] = { OP_TEXT, OP_BINARY };
	for (int i = 0; i < 2; i++) {
		int fd = ws_open();
		struct wire w = { 0 };
		put_frame(&w, OP_TEXT, "fragment1", 9);
		put_frame(&w, FIN | ops[i], "fragment2", 9);
		wire_send(fd, &w, 0);
		wire_free(&w);
		expect_fail(fd, 1002);
	}
}

/* 6.1.2, 6.1.3: empty fragments make an empty message, or carry nothing */
Test(c5_fragments, empty_fragments)
{
	int fd = ws_open();
	struct wire w = { 0 };
	put_frame(&w, OP_TEXT, NULL, 0);
	put_frame(&w, OP_CONT, NULL, 0);
	put_frame(&w, FIN | OP_CONT, NULL, 0);
	put_frame(&w, OP_TEXT, NULL, 0);
	put_frame(&w, OP_CONT, "middle", 6);
	put_frame(&w, FIN | OP_CONT, NULL, 0);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_message(fd, OP_TEXT, "", 0);
	expect_message(fd, OP_TEXT, "middle", 6);
	close_with(fd, 1000);
}

/* --- 6 UTF-8 ------------------------------------------------------------ */

TestSuite(c6_utf8, .init = start_echo, .fini = harness_teardown, .timeout = 30);

static const char kosme[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";	/* κόσμε */

/* 6.2.1, 6.5.1, 6.6.x: valid multi-byte text in one frame */
Test(c6_utf8, valid_text)
{
	static const char *const ok[] = {
		"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!",
		kosme,
		"\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
		"\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbd",	/* around the surrogates, U+FFFD */
	};
	int fd = ws_open();
	for (int i = 0; i < 4; i++)
		echo_one(fd, OP_TEXT, ok[i], strlen(ok[i]));
	close_with(fd, 1000);
}

/* 6.2.2, 6.2.3, 6.2.4: the same text split in two fragments at every byte,
 * then in one fragment per byte */
Test(c6_utf8, valid_split_everywhere)
{
	static const char t[] = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6-\xf0\x9f\x98\x80-\xe2\x82\xac";
	size_t n = strlen(t);
	int fd = ws_open();
	for (size_t cut = 0; cut <= n; cut++) {
		struct wire w = { 0 };
		put_frame(&w, OP_TEXT, t, cut);
		put_frame(&w, FIN | OP_CONT, t + cut, n - cut);
		wire_send(fd, &w, 0);
		wire_free(&w);
		expect_message(fd, OP_TEXT, t, n);
	}
	struct wire w = { 0 };
	for (size_t i = 0; i < n; i++)
		put_frame(&w, (uint8_t)((i ? OP_CONT : OP_TEXT) | (i + 1 == n ? FIN : 0)), t + i, 1);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_message(fd, OP_TEXT, t, n);
	close_with(fd, 1000);
}

static const char *const invalid_utf8[] = {
	"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",	/* 6.3.1 */
	"\x80",				/* 6.8: lone continuation */
	"a\xbf" "b",
	"\xc0\xaf",			/* 6.10: overlong '/' */
	"\xe0\x80\xaf",
	"\xf0\x80\x80\xaf",
	"\xc1\xbf",
	"\xed\xa0\x80",			/* 6.19-6.21: surrogates */
	"\xed\xbf\xbf",
	"\xf4\x90\x80\x80",		/* above U+10FFFF */
	"\xf5\x80\x80\x80",
	"\xfe",				/* 6.12-6.13: never valid */
	"\xff",
	"\xce",				/* truncated at the end of the message */
	"\xe2\x82",
	"\xf0\x9f\x98",
	"\xc3" "a",			/* a start byte with no continuation */
};

/* 6.3-6.21: invalid text, each on its own connection */
Test(c6_utf8, invalid_text)
{
	for (size_t i = 0; i < sizeof(invalid_utf8) / sizeof(invalid_utf8[0]); i++) {
		int fd = ws_open();
		send_frame(fd, FIN | OP_TEXT, invalid_utf8[i], strlen(invalid_utf8[i]));
		expect_fail(fd, 1007);
	}
}

/* invalid text across fragments: a character cut by the fragment edge and
 * finished wrongly, and a message ending inside a character */
Test(c6_utf8, invalid_across_fragments)
{
	static const char *const pairs[][2] = {
		{ "\xce", "A" }, { "ab\xe2\x82", "\x41" }, { "\xf0\x9f", "\x98\xff" }, { "ok\xce", "" },
	};
	for (int i = 0; i < 4; i++) {
		int fd = ws_open();
		struct wire w = { 0 };
		put_frame(&w, OP_TEXT, pairs[i][0], strlen(pairs[i][0]));
		put_frame(&w, FIN | OP_CONT, pairs[i][1], strlen(pairs[i][1]));
		wire_send(fd, &w, 0);
		wire_free(&w);
		expect_fail(fd, 1007);
	}
}

/* 6.4.1, 6.4.2: fail fast. A text frame announced as 64 KiB whose first
 * bytes are invalid; the rest is never sent, the close must come anyway */
Test(c6_utf8, fail_fast_in_frame)
{
	int fd = ws_open();
	uint8_t p[64];
	memcpy(p, kosme, 11);
	memcpy(p + 11, "\xf4\x90\x80\x80", 4);	/* invalid from its second byte */
	memset(p + 15, 'x', sizeof(p) - 15);
	struct wire w = { 0 };
	put_frame_as(&w, FIN | OP_TEXT, p, sizeof(p), 65536, 0);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_fail(fd, 1007);
}

/* 6.4.3, 6.4.4: the same in chops, stopping right after the first bad byte */
Test(c6_utf8, fail_fast_at_the_byte)
{
	int fd = ws_open();
	uint8_t p[13];
	memcpy(p, kosme, 11);
	memcpy(p + 11, "\xf4\x90", 2);
	struct wire w = { 0 };
	put_frame_as(&w, FIN | OP_TEXT, p, sizeof(p), 1 << 20, 0);
	wire_send(fd, &w, 4);
	wire_free(&w);
	expect_fail(fd, 1007);
}

/* fail fast across fragments: the first fragment of an unfinished message
 * is invalid; no further fragment is ever sent */
Test(c6_utf8, fail_fast_in_first_fragment)
{
	int fd = ws_open();
	send_frame(fd, OP_TEXT, "\xce\xba\xe1\xbd\xb9\xed\xa0\x80", 8);
	expect_fail(fd, 1007);
}

/* --- 7 close handling --------------------------------------------------------- */

TestSuite(c7_close, .init = start_echo, .fini = harness_teardown, .timeout = 30);

/* 7.1.1: a text echoed, then a normal close */
Test(c7_close, echo_then_close)
{
	int fd = ws_open();
	echo_one(fd, OP_TEXT, "Hello World!", 12);
	close_with(fd, 1000);
}

/* 7.1.3, 7.1.4: after our close nothing is answered but the close */
Test(c7_close, frames_after_close)
{
	static const int ops[] = { OP_PING, OP_TEXT };
	for (int i = 0; i < 2; i++) {
		int fd = ws_open();
		uint8_t c[2] = { 0x03, 0xe8 };
		struct wire w = { 0 };
		put_frame(&w, FIN | OP_CLOSE, c, 2);
		put_frame(&w, FIN | ops[i], "Hello World!", 12);
		wire_send(fd, &w, 0);
		wire_free(&w);
		expect_close(fd, 1000, 0);
	}
}

/* 7.1.5: close in the middle of a fragmented message */
Test(c7_close, close_inside_message)
{
	int fd = ws_open();
	send_frame(fd, OP_TEXT, "fragment1", 9);
	close_with(fd, 1000);
}

/* 7.3.1: a close with no payload is answered with no code (or 1000) */
Test(c7_close, close_empty)
{
	int fd = ws_open();
	send_close(fd, -1, NULL);
	struct frame f;
	int rc = next_frame(fd, &f);
	cr_assert(rc == 0 && f.op == OP_CLOSE && (f.len == 0 || frame_close_code(&f) == 1000),
		  "expected an empty close (or 1000), got %s", frame_describe(rc, &f));
	frame_free(&f);
	cr_assert_eq(tcp_expect_eof(fd, EOF_MS, NULL), 0, "TCP not closed after the close handshake");
	close(fd);
}

/* 7.3.2: a one-byte close payload */
Test(c7_close, close_one_byte)
{
	int fd = ws_open();
	send_frame(fd, FIN | OP_CLOSE, "\x03", 1);
	expect_fail(fd, 1002);
}

/* 7.3.3-7.3.6: reasons of 0, 12 and 123 bytes; 124 makes the frame too long */
Test(c7_close, close_reasons)
{
	char r[125];
	memset(r, 'r', sizeof(r));
	static const size_t lens[] = { 0, 12, 123 };
	for (int i = 0; i < 3; i++) {
		int fd = ws_open();
		r[lens[i]] = 0;
		send_close(fd, 1000, r);
		expect_close(fd, 1000, 0);
		r[lens[i]] = 'r';
	}
	int fd = ws_open();
	r[124] = 0;
	send_close(fd, 1000, r);
	expect_fail(fd, 1002);
}

/* 7.5.1: a close reason that is not UTF-8 */
Test(c7_close, close_reason_invalid_utf8)
{
	int fd = ws_open();
	send_close(fd, 1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64");
	expect_fail(fd, 1007);
}

/* 7.7.1-7.7.13: valid codes are echoed */
Test(c7_close, valid_codes)
{
	static const int codes[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
				     3000, 3999, 4000, 4999 };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		int fd = ws_open();
		close_with(fd, codes[i]);
	}
}

/* 7.9.1-7.9.9, 7.13.x: codes that must never be sent */
Test(c7_close, invalid_codes)
{
	static const int codes[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000,
				     65535 };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		int fd = ws_open();
		send_close(fd, codes[i], NULL);
		expect_fail(fd, 1002);
	}
}

/* --- 9 limits and performance ------------------------------------------------- */

TestSuite(c9_limits, .init = start_echo, .fini = harness_teardown, .timeout = 60);

/* 9.1.6: 16 MiB of text in one frame */
Test(c9_limits, text_16mib)
{
	size_t n = 16 << 20;
	uint8_t *p = utf8_text(n);
	int fd = ws_open();
	tcp_set_timeout(fd, 20000);
	echo_one(fd, OP_TEXT, p, n);
	free(p);
	close_with(fd, 1000);
}

/* 9.2.6: 16 MiB binary in one frame, written in 64 KiB chops */
Test(c9_limits, binary_16mib)
{
	size_t n = 16 << 20;
	uint8_t *p = random_bytes(n, 16);
	int fd = ws_open();
	tcp_set_timeout(fd, 20000);
	struct wire w = { 0 };
	put_frame(&w, FIN | OP_BINARY, p, n);
	wire_send(fd, &w, 65536);
	wire_free(&w);
	expect_message(fd, OP_BINARY, p, n);
	free(p);
	close_with(fd, 1000);
}

/* 9.3.x, 9.4.x: 4 MiB binary in 65,536 fragments of 64 bytes */
Test(c9_limits, binary_65536_fragments)
{
	size_t n = 4 << 20, frag = 64;
	uint8_t *p = random_bytes(n, 9);
	int fd = ws_open();
	tcp_set_timeout(fd, 20000);
	struct wire w = { 0 };
	for (size_t off = 0; off < n; off += frag)
		put_frame(&w, (uint8_t)((off ? OP_CONT : OP_BINARY) | (off + frag == n ? FIN : 0)),
			  p + off, frag);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_message(fd, OP_BINARY, p, n);
	free(p);
	close_with(fd, 1000);
}

/* 64 KiB of multi-byte text in 65,536 one-byte fragments: UTF-8 state
 * carried across every fragment */
Test(c9_limits, text_65536_one_byte_fragments)
{
	size_t n = 65536;
	uint8_t *p = utf8_text(n);
	int fd = ws_open();
	tcp_set_timeout(fd, 20000);
	struct wire w = { 0 };
	for (size_t i = 0; i < n; i++)
		put_frame(&w, (uint8_t)((i ? OP_CONT : OP_TEXT) | (i + 1 == n ? FIN : 0)), p + i, 1);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_message(fd, OP_TEXT, p, n);
	free(p);
	close_with(fd, 1000);
}

/* 9.7.x, 9.8.x: 1000 messages in one write, 1000 echoes in order */
Test(c9_limits, thousand_messages)
{
	int fd = ws_open();
	struct wire w = { 0 };
	char m[1000][24];
	for (int i = 0; i < 1000; i++) {
		snprintf(m[i], sizeof(m[i]), "message %d", i);
		put_frame(&w, FIN | (i % 2 ? OP_BINARY : OP_TEXT), m[i], strlen(m[i]));
	}
	wire_send(fd, &w, 0);
	wire_free(&w);
	for (int i = 0; i < 1000; i++)
		expect_message(fd, i % 2 ? OP_BINARY : OP_TEXT, m[i], strlen(m[i]));
	close_with(fd, 1000);
}

static void start_small(void)
{
	srv = daemon_start("--route", route("/", "echo"), "--max-payload", "1000", NULL);
}

TestSuite(c9_max_payload, .init = start_small, .fini = harness_teardown, .timeout = 30);

/* --max-payload 1000: 1000 bytes pass, 1001 in one frame close with 1009 */
Test(c9_max_payload, one_frame)
{
	uint8_t *p = random_bytes(1001, 1);
	int fd = ws_open();
	echo_one(fd, OP_BINARY, p, 1000);
	send_frame(fd, FIN | OP_BINARY, p, 1001);
	expect_fail(fd, 1009);
	free(p);
}

/* fragments that add up to 1001 */
Test(c9_max_payload, fragments)
{
	uint8_t *p = utf8_text(991);
	int fd = ws_open();
	struct wire w = { 0 };
	put_frame(&w, OP_TEXT, "0123456789", 10);
	put_frame(&w, FIN | OP_CONT, p, 991);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_fail(fd, 1009);
	free(p);
}

/* a header announcing 2^40 bytes: the close comes before any payload */
Test(c9_max_payload, announced_length)
{
	int fd = ws_open();
	struct wire w = { 0 };
	put_frame_as(&w, FIN | OP_BINARY, NULL, 0, 1ull << 40, 0);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_fail(fd, 1009);
}

/* --- 10 auto-fragmentation --------------------------------------------------- */

TestSuite(c10_autofrag, .init = start_echo, .fini = harness_teardown, .timeout = 30);

/* 10.1.1: 64 KiB text sent in 1300-byte fragments comes back whole, however
 * the server fragments it */
Test(c10_autofrag, text_64k_in_1300_byte_fragments)
{
	size_t n = 65536, frag = 1300;
	uint8_t *p = utf8_text(n);
	int fd = ws_open();
	struct wire w = { 0 };
	for (size_t off = 0; off < n; off += frag) {
		size_t k = n - off < frag ? n - off : frag;
		put_frame(&w, (uint8_t)((off ? OP_CONT : OP_TEXT) | (off + k == n ? FIN : 0)), p + off, k);
	}
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_message(fd, OP_TEXT, p, n);
	free(p);
	close_with(fd, 1000);
}

/* --- the opening handshake (RFC 6455 4.2) ----------------------------------- */

TestSuite(hs_handshake, .init = start_echo, .fini = harness_teardown, .timeout = 30);

static int request_status(const char *req, char *head, size_t cap)
{
	int fd = tcp_connect(srv->port, READ_MS);
	cr_assert_eq(tcp_send(fd, req, strlen(req)), 0);
	int st = http_read_head(fd, head, cap);
	close(fd);
	return st;
}

/* what browsers send: header names and values in other cases, Connection
 * with several tokens, extra headers */
Test(hs_handshake, browser_style_request)
{
	int fd = ws_open_with(srv->port, "/", "Origin: http://example.com\r\nUser-Agent: test\r\n");
	echo_one(fd, OP_TEXT, "hi", 2);
	close_with(fd, 1000);
	fd = tcp_connect(srv->port, READ_MS);
	const char *req = "GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: WebSocket\r\n"
			  "connection: keep-alive, Upgrade\r\nsec-websocket-key: " KEY "\r\n"
			  "sec-websocket-version: 13\r\n\r\n";
	cr_assert_eq(tcp_send(fd, req, strlen(req)), 0);
	char head[4096];
	cr_assert_eq(http_read_head(fd, head, sizeof(head)), 101, "%s", head);
	close_with(fd, 1000);
}

/* the request and the first frame in one write: the frame is not lost */
Test(hs_handshake, frame_right_after_request)
{
	int fd = tcp_connect(srv->port, READ_MS);
	struct wire w = { 0 };
	const char *req = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
			  "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
			  "Sec-WebSocket-Version: 13\r\n\r\n";
	wire_put(&w, req, strlen(req));
	put_frame(&w, FIN | OP_TEXT, "early", 5);
	wire_send(fd, &w, 0);
	wire_free(&w);
	char head[4096];
	cr_assert_eq(http_read_head(fd, head, sizeof(head)), 101, "%s", head);
	expect_message(fd, OP_TEXT, "early", 5);
	close_with(fd, 1000);
}

/* 4.2.2, 4.4: an unsupported version is refused (426, or 400 as in the
 * RFC's example) with the versions supported */
Test(hs_handshake, unsupported_version)
{
	char head[4096], v[64];
	int st = request_status("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
				"Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
				"Sec-WebSocket-Version: 12\r\n\r\n", head, sizeof(head));
	cr_assert(st == 426 || st == 400, "version 12: wanted 426 or 400, got %d:\n%s", st, head);
	cr_assert(http_header(head, "Sec-WebSocket-Version", v, sizeof(v)) == 0 && strstr(v, "13"),
		  "426 without Sec-WebSocket-Version: 13:\n%s", head);
}

/* 4.2.1: a request missing the key, or with a key that is not 16 bytes in
 * base64, gets 400 */
Test(hs_handshake, bad_key)
{
	static const char *const keys[] = { "", "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==\r\n",
					     "Sec-WebSocket-Key: not base64 at all!!!!!\r\n" };
	for (int i = 0; i < 3; i++) {
		char req[512], head[4096];
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\n%sSec-WebSocket-Version: 13\r\n\r\n", keys[i]);
		int st = request_status(req, head, sizeof(head));
		cr_assert_eq(st, 400, "key case %d: wanted 400, got %d:\n%s", i, st, head);
	}
}
