/*
 * conformance_test: RFC 6455 conformance of ringwsd (echo plugin), driven by
 * a raw C client that sends crafted handshakes and frames, byte for byte,
 * the ones no real peer sends. It stands in for the Autobahn testsuite
 * (which needs Python 2): every case of its groups 1 to 7, 9 and 10 is one
 * test named after the case id (case_6_4_3 is case 6.4.3), sending what the
 * public case description sends: 1 framing, 2 ping/pong, 3 reserved bits,
 * 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close handling, 9 limits and
 * performance, 10 auto-fragmentation. Tests with other names check what
 * Autobahn does not; hs is the opening handshake.
 *
 * Expectations are those of Autobahn's strict mode: a protocol error is
 * answered with a close frame carrying the exact code (1002, 1007, 1009)
 * before TCP closes, and TCP closes within EOF_MS after our reply; after a
 * close frame the server sends nothing more; invalid UTF-8 is caught at
 * the byte that makes it invalid, even while the rest of the message has
 * not been sent; every server frame obeys the RFC (unmasked, RSV clear,
 * minimal length encoding, control frames short and final). Where Autobahn
 * also accepts a weaker outcome, the comment says so.
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

/* Autobahn numbers the reserved bits as one 3-bit value whose high bit is
 * RSV1: its "RSV = 1" is the RSV3 bit. */
#define RSV(v) ((uint8_t)((v) << 4))

/* How a case writes its frames, as Autobahn chops them: all in one write,
 * one write per frame with a pause between (its "frame-wise chops", sync),
 * or one write per byte ("octet-wise chops"). */
enum chop { ONE_CHOP, PER_FRAME, PER_OCTET };

#define FRAME_GAP_US 2000

struct fr {
	uint8_t b0;
	const void *p;
	size_t n;
};

/* A frame whose payload is a string literal (which may hold NUL bytes). */
#define FR(b0, lit) { (b0), (lit), sizeof(lit) - 1 }
#define FRAMES(...) (const struct fr[]){ __VA_ARGS__ }, \
	sizeof((const struct fr[]){ __VA_ARGS__ }) / sizeof(struct fr)

/* Writes frames f[0..n) chopped as how: 0, or the first write's error. */
static int write_frames(int fd, enum chop how, const struct fr *f, size_t n)
{
	struct wire w = { 0 };
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		put_frame(&w, f[i].b0, f[i].p, f[i].n);
		if (how == PER_FRAME) {
			rc = wire_try_send(fd, &w, 0);
			usleep(FRAME_GAP_US);
		}
	}
	if (how != PER_FRAME && !rc)
		rc = wire_try_send(fd, &w, how == PER_OCTET ? 1 : 0);
	wire_free(&w);
	return rc;
}

/* Frames the server must read to the end. */
#define SEND(fd, how, ...) \
	do { \
		int rc_ = write_frames(fd, how, FRAMES(__VA_ARGS__)); \
		cr_assert_eq(rc_, 0, "send: %s", strerror(-rc_)); \
	} while (0)
/* Frames the server may rightly stop reading: it fails the connection at
 * one of them, and may close TCP before the rest is written. */
#define SEND_BAD(fd, how, ...) ((void)write_frames(fd, how, FRAMES(__VA_ARGS__)))

/* Autobahn's message payloads: '*' for text, 0xfe for binary. */
static uint8_t *filler(int op, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	cr_assert(p);
	memset(p, op == OP_TEXT ? '*' : 0xfe, n);
	return p;
}

/* Sends a message of n filler bytes in fragments of frag bytes (0: one
 * frame), written in chops of chop bytes (0: one write); expects it echoed
 * whole, however the server fragments it, and closes normally. */
static void message_case(int op, size_t n, size_t frag, size_t chop)
{
	uint8_t *p = filler(op, n);
	int fd = ws_open();
	if (n > 65536)
		tcp_set_timeout(fd, 20000);
	struct wire w = { 0 };
	put_message(&w, op, p, n, frag);
	wire_send(fd, &w, chop);
	wire_free(&w);
	expect_message(fd, op, p, n);
	free(p);
	close_with(fd, 1000);
}

/* --- 1 framing ------------------------------------------------------------- */

TestSuite(c1_framing, .init = start_echo, .fini = harness_teardown, .timeout = 30);

/* 1.1.1-1.1.7: text messages of 0, 125, 126, 127, 128, 65535 and 65536
 * bytes (the 7-, 16- and 64-bit length forms and their edges); 1.1.8: 65536
 * bytes written in chops of 997. 1.2.x: the same for binary. */
#define FRAMING(id, op, n, chop) \
	Test(c1_framing, case_##id) { message_case(op, n, 0, chop); }
FRAMING(1_1_1, OP_TEXT, 0, 0)
FRAMING(1_1_2, OP_TEXT, 125, 0)
FRAMING(1_1_3, OP_TEXT, 126, 0)
FRAMING(1_1_4, OP_TEXT, 127, 0)
FRAMING(1_1_5, OP_TEXT, 128, 0)
FRAMING(1_1_6, OP_TEXT, 65535, 0)
FRAMING(1_1_7, OP_TEXT, 65536, 0)
FRAMING(1_1_8, OP_TEXT, 65536, 997)
FRAMING(1_2_1, OP_BINARY, 0, 0)
FRAMING(1_2_2, OP_BINARY, 125, 0)
FRAMING(1_2_3, OP_BINARY, 126, 0)
FRAMING(1_2_4, OP_BINARY, 127, 0)
FRAMING(1_2_5, OP_BINARY, 128, 0)
FRAMING(1_2_6, OP_BINARY, 65535, 0)
FRAMING(1_2_7, OP_BINARY, 65536, 0)
FRAMING(1_2_8, OP_BINARY, 65536, 997)

/* the header written byte by byte, the payload in chops of 997 */
Test(c1_framing, header_byte_by_byte)
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
	SEND(fd, ONE_CHOP, FR(FIN | OP_TEXT, "one"), FR(FIN | OP_BINARY, "two"),
	     FR(FIN | OP_TEXT, "three"));
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

static const uint8_t bin8[] = { 0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff };

/* A ping with p[0..n) written in chops of chop bytes: its pong, then a
 * normal close (which fails if anything else came first). */
static void ping_case(const void *p, size_t n, size_t chop)
{
	int fd = ws_open();
	struct wire w = { 0 };
	put_frame(&w, FIN | OP_PING, p, n);
	wire_send(fd, &w, chop);
	wire_free(&w);
	expect_pong(fd, p, n);
	close_with(fd, 1000);
}

/* 2.1: a ping without payload */
Test(c2_pingpong, case_2_1)
{
	ping_case(NULL, 0, 0);
}

/* 2.2: a ping with a small text payload */
Test(c2_pingpong, case_2_2)
{
	ping_case("Hello, world!", 13, 0);
}

/* 2.3: a ping with a small binary (non UTF-8) payload */
Test(c2_pingpong, case_2_3)
{
	ping_case(bin8, sizeof(bin8), 0);
}

/* 2.4: a ping with a 125-byte payload, the most a control frame holds */
Test(c2_pingpong, case_2_4)
{
	uint8_t *p = filler(OP_BINARY, 125);
	ping_case(p, 125, 0);
	free(p);
}

/* 2.5: a ping with 126 bytes fails the connection (1002) */
Test(c2_pingpong, case_2_5)
{
	uint8_t *p = filler(OP_BINARY, 126);
	int fd = ws_open();
	SEND_BAD(fd, ONE_CHOP, { FIN | OP_PING, p, 126 });
	expect_fail(fd, 1002);
	free(p);
}

/* 2.6: a 125-byte ping written one byte at a time */
Test(c2_pingpong, case_2_6)
{
	uint8_t *p = filler(OP_BINARY, 125);
	ping_case(p, 125, 1);
	free(p);
}

/* 2.7: an unsolicited pong without payload gets no answer */
Test(c2_pingpong, case_2_7)
{
	int fd = ws_open();
	SEND(fd, ONE_CHOP, FR(FIN | OP_PONG, ""));
	close_with(fd, 1000);
}

/* 2.8: an unsolicited pong with payload gets no answer */
Test(c2_pingpong, case_2_8)
{
	int fd = ws_open();
	SEND(fd, ONE_CHOP, FR(FIN | OP_PONG, "unsolicited pong payload"));
	close_with(fd, 1000);
}

/* 2.9: an unsolicited pong, then a ping: only the ping is answered */
Test(c2_pingpong, case_2_9)
{
	int fd = ws_open();
	SEND(fd, ONE_CHOP, FR(FIN | OP_PONG, "unsolicited pong payload"),
	     FR(FIN | OP_PING, "ping payload"));
	expect_pong(fd, "ping payload", 12);
	close_with(fd, 1000);
}

/* 2.10, 2.11: ten pings "payload-0".."payload-9" in one write, or one byte
 * per write; ten pongs in order (not required by the RFC, which lets a
 * server answer only the latest ping, but Autobahn checks it) */
static void ten_pings(size_t chop)
{
	int fd = ws_open();
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
	close_with(fd, 1000);
}

Test(c2_pingpong, case_2_10)
{
	ten_pings(0);
}

Test(c2_pingpong, case_2_11)
{
	ten_pings(1);
}

/* --- 3 reserved bits ---------------------------------------------------------- */

TestSuite(c3_reserved, .init = start_echo, .fini = harness_teardown, .timeout = 30);

/* 3.2-3.4: a text echoed, then the same text with RSV bits, then a ping:
 * the echo, then close 1002; the ping is never answered */
static void rsv_after_echo(int rsv, enum chop how)
{
	int fd = ws_open();
	SEND_BAD(fd, how, FR(FIN | OP_TEXT, "Hello, world!"),
		 FR(FIN | RSV(rsv) | OP_TEXT, "Hello, world!"), FR(FIN | OP_PING, ""));
	expect_message(fd, OP_TEXT, "Hello, world!", 13);
	expect_fail(fd, 1002);
}

/* 3.1: a text frame with RSV = 1 */
Test(c3_reserved, case_3_1)
{
	int fd = ws_open();
	SEND_BAD(fd, ONE_CHOP, FR(FIN | RSV(1) | OP_TEXT, "Hello, world!"));
	expect_fail(fd, 1002);
}

/* 3.2: RSV = 2, all in one write */
Test(c3_reserved, case_3_2)
{
	rsv_after_echo(2, ONE_CHOP);
}

/* 3.3: RSV = 3, frame by frame */
Test(c3_reserved, case_3_3)
{
	rsv_after_echo(3, PER_FRAME);
}

/* 3.4: RSV = 4, byte by byte */
Test(c3_reserved, case_3_4)
{
	rsv_after_echo(4, PER_OCTET);
}

/* 3.5: a binary frame with RSV = 5 */
Test(c3_reserved, case_3_5)
{
	int fd = ws_open();
	SEND_BAD(fd, ONE_CHOP, { FIN | RSV(5) | OP_BINARY, bin8, sizeof(bin8) });
	expect_fail(fd, 1002);
}

/* 3.6: a ping with RSV = 6 */
Test(c3_reserved, case_3_6)
{
	int fd = ws_open();
	SEND_BAD(fd, ONE_CHOP, FR(FIN | RSV(6) | OP_PING, "Hello, world!"));
	expect_fail(fd, 1002);
}

/* 3.7: a close with RSV = 7 */
Test(c3_reserved, case_3_7)
{
	int fd = ws_open();
	SEND_BAD(fd, ONE_CHOP, FR(FIN | RSV(7) | OP_CLOSE, ""));
	expect_fail(fd, 1002);
}

/* --- 4 opcodes ----------------------------------------------------------- */

TestSuite(c4_opcodes, .init = start_echo, .fini = harness_teardown, .timeout = 30);

/* A frame with reserved opcode op, with or without a payload; if between,
 * after an echoed text and followed by a ping that must go unanswered.
 * The connection fails with 1002, after the echo. */
static void opcode_case(int op, int payload, int between)
{
	static const char pl[] = "reserved opcode payload";
	struct fr bad = { (uint8_t)(FIN | op), pl, payload ? sizeof(pl) - 1 : 0 };
	int fd = ws_open();
	if (between) {
		SEND_BAD(fd, ONE_CHOP, FR(FIN | OP_TEXT, "Hello, world!"), bad, FR(FIN | OP_PING, ""));
		expect_message(fd, OP_TEXT, "Hello, world!", 13);
	} else {
		SEND_BAD(fd, ONE_CHOP, bad);
	}
	expect_fail(fd, 1002);
}

/* 4.1.1-4.1.5: reserved non-control opcodes 3 (alone), 4 (alone, with a
 * payload), 5 (between), 6 and 7 (between, with a payload); 4.2.1-4.2.5:
 * the same for the reserved control opcodes 11 to 15 */
#define OPCODE(id, op, payload, between) \
	Test(c4_opcodes, case_##id) { opcode_case(op, payload, between); }
OPCODE(4_1_1, 3, 0, 0)
OPCODE(4_1_2, 4, 1, 0)
OPCODE(4_1_3, 5, 0, 1)
OPCODE(4_1_4, 6, 1, 1)
OPCODE(4_1_5, 7, 1, 1)
OPCODE(4_2_1, 11, 0, 0)
OPCODE(4_2_2, 12, 1, 0)
OPCODE(4_2_3, 13, 0, 1)
OPCODE(4_2_4, 14, 1, 1)
OPCODE(4_2_5, 15, 1, 1)

/* the same between-case written one byte at a time */
Test(c4_opcodes, reserved_opcode_chopped)
{
	int fd = ws_open();
	SEND_BAD(fd, PER_OCTET, FR(FIN | OP_TEXT, "Hello, world!"), FR(FIN | 13, ""),
		 FR(FIN | OP_PING, ""));
	expect_message(fd, OP_TEXT, "Hello, world!", 13);
	expect_fail(fd, 1002);
}

/* --- 5 fragmentation ------------------------------------------------------ */

TestSuite(c5_fragments, .init = start_echo, .fini = harness_teardown, .timeout = 30);

/* 5.1: a ping in two fragments (control frames must not be fragmented) */
Test(c5_fragments, case_5_1)
{
	int fd = ws_open();
	SEND_BAD(fd, ONE_CHOP, FR(OP_PING, "fragment1"), FR(FIN | OP_CONT, "fragment2"));
	expect_fail(fd, 1002);
}

/* 5.2: a pong in two fragments */
Test(c5_fragments, case_5_2)
{
	int fd = ws_open();
	SEND_BAD(fd, ONE_CHOP, FR(OP_PONG, "fragment1"), FR(FIN | OP_CONT, "fragment2"));
	expect_fail(fd, 1002);
}

/* 5.3-5.5: a text in two fragments, echoed whole */
static void two_fragments(enum chop how)
{
	int fd = ws_open();
	SEND(fd, how, FR(OP_TEXT, "fragment1"), FR(FIN | OP_CONT, "fragment2"));
	expect_message(fd, OP_TEXT, "fragment1fragment2", 18);
	close_with(fd, 1000);
}

/* 5.3: in one write */
Test(c5_fragments, case_5_3)
{
	two_fragments(ONE_CHOP);
}

/* 5.4: byte by byte */
Test(c5_fragments, case_5_4)
{
	two_fragments(PER_OCTET);
}

/* 5.5: frame by frame */
Test(c5_fragments, case_5_5)
{
	two_fragments(PER_FRAME);
}

/* 5.6-5.8: a text in two fragments with a ping between: the pong comes
 * before the message ends */
static void ping_between(enum chop how)
{
	int fd = ws_open();
	SEND(fd, how, FR(OP_TEXT, "fragment1"), FR(FIN | OP_PING, "ping payload"),
	     FR(FIN | OP_CONT, "fragment2"));
	expect_pong(fd, "ping payload", 12);
	expect_message(fd, OP_TEXT, "fragment1fragment2", 18);
	close_with(fd, 1000);
}

/* 5.6: in one write */
Test(c5_fragments, case_5_6)
{
	ping_between(ONE_CHOP);
}

/* 5.7: byte by byte */
Test(c5_fragments, case_5_7)
{
	ping_between(PER_OCTET);
}

/* 5.8: frame by frame */
Test(c5_fragments, case_5_8)
{
	ping_between(PER_FRAME);
}

/* 5.9-5.14: a continuation frame (fin as given) with nothing to continue,
 * then a text: the connection fails at the continuation */
static void continuation_first(int fin, enum chop how)
{
	int fd = ws_open();
	SEND_BAD(fd, how, { (uint8_t)(fin | OP_CONT), "non-continuation payload", 24 },
		 FR(FIN | OP_TEXT, "Hello, world!"));
	expect_fail(fd, 1002);
}

/* 5.9: FIN set, in one write */
Test(c5_fragments, case_5_9)
{
	continuation_first(FIN, ONE_CHOP);
}

/* 5.10: FIN set, frame by frame */
Test(c5_fragments, case_5_10)
{
	continuation_first(FIN, PER_FRAME);
}

/* 5.11: FIN set, byte by byte */
Test(c5_fragments, case_5_11)
{
	continuation_first(FIN, PER_OCTET);
}

/* 5.12: FIN clear, in one write */
Test(c5_fragments, case_5_12)
{
	continuation_first(0, ONE_CHOP);
}

/* 5.13: FIN clear, frame by frame */
Test(c5_fragments, case_5_13)
{
	continuation_first(0, PER_FRAME);
}

/* 5.14: FIN clear, byte by byte */
Test(c5_fragments, case_5_14)
{
	continuation_first(0, PER_OCTET);
}

/* 5.15: a text in two fragments, then a continuation (FIN clear) with
 * nothing to continue, then a text: the first message is echoed, then the
 * connection fails (Autobahn also accepts no echo) */
Test(c5_fragments, case_5_15)
{
	int fd = ws_open();
	SEND_BAD(fd, ONE_CHOP, FR(OP_TEXT, "fragment1"), FR(FIN | OP_CONT, "fragment2"),
		 FR(OP_CONT, "fragment3"), FR(FIN | OP_TEXT, "fragment4"));
	expect_message(fd, OP_TEXT, "fragment1fragment2", 18);
	expect_fail(fd, 1002);
}

/* 5.16, 5.17: twice a continuation (FIN clear, then set) with nothing to
 * continue followed by a text in two fragments: the first frame fails the
 * connection */
static void continuation_then_message(int fin)
{
	int fd = ws_open();
	struct fr f[] = { { (uint8_t)(fin | OP_CONT), "fragment1", 9 }, FR(OP_TEXT, "fragment2"),
			  FR(FIN | OP_CONT, "fragment3") };
	SEND_BAD(fd, ONE_CHOP, f[0], f[1], f[2], f[0], f[1], f[2]);
	expect_fail(fd, 1002);
}

Test(c5_fragments, case_5_16)
{
	continuation_then_message(0);
}

Test(c5_fragments, case_5_17)
{
	continuation_then_message(FIN);
}

/* 5.18: a text in two fragments, both with the text opcode */
Test(c5_fragments, case_5_18)
{
	int fd = ws_open();
	SEND_BAD(fd, ONE_CHOP, FR(OP_TEXT, "fragment1"), FR(FIN | OP_TEXT, "fragment2"));
	expect_fail(fd, 1002);
}

/* 5.19, 5.20: a text in five fragments: two fragments and a ping; the pong
 * must come before anything more is sent (Autobahn waits 1 s here); then
 * two fragments, a ping and the last fragment: the pong, then the message */
static void pings_among_fragments(enum chop how)
{
	int fd = ws_open();
	SEND(fd, how, FR(OP_TEXT, "fragment1"), FR(OP_CONT, "fragment2"),
	     FR(FIN | OP_PING, "pongme 1!"));
	expect_pong(fd, "pongme 1!", 9);
	SEND(fd, how, FR(OP_CONT, "fragment3"), FR(OP_CONT, "fragment4"),
	     FR(FIN | OP_PING, "pongme 2!"), FR(FIN | OP_CONT, "fragment5"));
	expect_pong(fd, "pongme 2!", 9);
	expect_message(fd, OP_TEXT, "fragment1fragment2fragment3fragment4fragment5", 45);
	close_with(fd, 1000);
}

/* 5.19: each part in one write */
Test(c5_fragments, case_5_19)
{
	pings_among_fragments(ONE_CHOP);
}

/* 5.20: frame by frame */
Test(c5_fragments, case_5_20)
{
	pings_among_fragments(PER_FRAME);
}

/* an unsolicited pong among the fragments is ignored */
Test(c5_fragments, pong_among_fragments)
{
	int fd = ws_open();
	SEND(fd, ONE_CHOP, FR(OP_TEXT, "frag1 "), FR(FIN | OP_PONG, "unsolicited"),
	     FR(OP_CONT, "frag2 "), FR(FIN | OP_PING, "pongme"), FR(FIN | OP_CONT, "frag3"));
	expect_pong(fd, "pongme", 6);
	expect_message(fd, OP_TEXT, "frag1 frag2 frag3", 17);
	close_with(fd, 1000);
}

/* a binary message in two fragments, then a new binary frame inside it */
Test(c5_fragments, binary_inside_message)
{
	int fd = ws_open();
	SEND(fd, ONE_CHOP, FR(OP_BINARY, "frag1"), FR(FIN | OP_CONT, "frag2"));
	expect_message(fd, OP_BINARY, "frag1frag2", 10);
	SEND_BAD(fd, ONE_CHOP, FR(OP_BINARY, "frag1"), FR(FIN | OP_BINARY, "frag2"));
	expect_fail(fd, 1002);
}

/* --- 6 UTF-8 ------------------------------------------------------------ */

TestSuite(c6_utf8, .init = start_echo, .fini = harness_teardown, .timeout = 30);

static const char kosme[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";	/* κόσμε */
static const char hello[] = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!";

/* Sends p[0..n) as a text in fragments of frag bytes (0: one frame); it is
 * echoed and the connection closes normally if valid, else fails with 1007. */
static void text_case(const void *p, size_t n, size_t frag, int valid)
{
	int fd = ws_open();
	struct wire w = { 0 };
	put_message(&w, OP_TEXT, p, n, frag);
	if (valid) {
		wire_send(fd, &w, 0);
		expect_message(fd, OP_TEXT, p, n);
		close_with(fd, 1000);
	} else {
		(void)wire_try_send(fd, &w, 0);
		expect_fail(fd, 1007);
	}
	wire_free(&w);
}

/* 6.1.1: an empty text */
Test(c6_utf8, case_6_1_1)
{
	text_case("", 0, 0, 1);
}

/* 6.1.2: a text in three empty fragments */
Test(c6_utf8, case_6_1_2)
{
	int fd = ws_open();
	SEND(fd, ONE_CHOP, FR(OP_TEXT, ""), FR(OP_CONT, ""), FR(FIN | OP_CONT, ""));
	expect_message(fd, OP_TEXT, "", 0);
	close_with(fd, 1000);
}

/* 6.1.3: a text in three fragments, the first and last empty */
Test(c6_utf8, case_6_1_3)
{
	int fd = ws_open();
	SEND(fd, ONE_CHOP, FR(OP_TEXT, ""), FR(OP_CONT, "middle frame payload"),
	     FR(FIN | OP_CONT, ""));
	expect_message(fd, OP_TEXT, "middle frame payload", 20);
	close_with(fd, 1000);
}

/* 6.2.1: valid multi-byte text in one frame */
Test(c6_utf8, case_6_2_1)
{
	text_case(hello, sizeof(hello) - 1, 0, 1);
}

/* 6.2.2: the same in two fragments cut between characters */
Test(c6_utf8, case_6_2_2)
{
	int fd = ws_open();
	SEND(fd, ONE_CHOP, { OP_TEXT, hello, 9 }, { FIN | OP_CONT, hello + 9, sizeof(hello) - 10 });
	expect_message(fd, OP_TEXT, hello, sizeof(hello) - 1);
	close_with(fd, 1000);
}

/* 6.2.3: the same in one-byte fragments, most cutting a character */
Test(c6_utf8, case_6_2_3)
{
	text_case(hello, sizeof(hello) - 1, 1, 1);
}

/* 6.2.4: κόσμε in one-byte fragments */
Test(c6_utf8, case_6_2_4)
{
	text_case(kosme, sizeof(kosme) - 1, 1, 1);
}

/* κόσμε, a surrogate U+D800 (ED A0 80), then "edited" */
static const char bad_text[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
			       "\x65\x64\x69\x74\x65\x64";

/* 6.3.1: invalid text in one frame */
Test(c6_utf8, case_6_3_1)
{
	text_case(bad_text, sizeof(bad_text) - 1, 0, 0);
}

/* 6.3.2: the same in one-byte fragments */
Test(c6_utf8, case_6_3_2)
{
	text_case(bad_text, sizeof(bad_text) - 1, 1, 0);
}

/* 6.4.x: κόσμε, then F4 90 80 80 (U+110000: invalid from its second byte,
 * the message's 13th), then "edited" */
static const char ff_text[] = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80"
			      "\x65\x64\x69\x74\x65\x64";
#define FF_SILENCE_MS 300

/* 6.4.1, 6.4.2: fail fast across fragments. The text's first part (cut
 * bytes in) goes as an unfinished fragment: no answer; then the part up to
 * end, which makes the text invalid, as another unfinished fragment: the
 * close 1007 must come before the rest is sent (it never is). Autobahn
 * also accepts the close only after the rest. */
static void fail_fast_fragments(size_t cut, size_t end)
{
	int fd = ws_open();
	SEND(fd, ONE_CHOP, { OP_TEXT, ff_text, cut });
	expect_silence(fd, FF_SILENCE_MS);
	SEND_BAD(fd, ONE_CHOP, { OP_CONT, ff_text + cut, end - cut });
	expect_fail(fd, 1007);
}

/* 6.4.1: κόσμε, then the four bytes of U+110000 */
Test(c6_utf8, case_6_4_1)
{
	fail_fast_fragments(11, 15);
}

/* 6.4.2: κόσμε and F4, then only the 90 that makes it invalid */
Test(c6_utf8, case_6_4_2)
{
	fail_fast_fragments(12, 13);
}

/* 6.4.3, 6.4.4: the same with one frame written in chops: the header and
 * the first part, silence, then the part that makes the text invalid */
static void fail_fast_chops(size_t cut, size_t end)
{
	int fd = ws_open();
	struct wire w = { 0 };
	size_t n = sizeof(ff_text) - 1, hl;
	put_frame(&w, FIN | OP_TEXT, ff_text, n);
	hl = w.len - n;
	cr_assert_eq(tcp_send(fd, w.p, hl + cut), 0);
	expect_silence(fd, FF_SILENCE_MS);
	(void)tcp_send(fd, w.p + hl + cut, end - cut);
	wire_free(&w);
	expect_fail(fd, 1007);
}

/* 6.4.3: κόσμε, then the four bytes of U+110000 */
Test(c6_utf8, case_6_4_3)
{
	fail_fast_chops(11, 15);
}

/* 6.4.4: κόσμε and F4, then only the 90 */
Test(c6_utf8, case_6_4_4)
{
	fail_fast_chops(12, 13);
}

/* 6.5.1-6.23.7: Markus Kuhn's UTF-8 decoder stress test as Autobahn cuts
 * it into cases: each text goes in one frame (as in Autobahn), then on a
 * new connection in one-byte fragments; a valid one is echoed exactly, an
 * invalid one fails the connection with 1007. */
#define VALID 1
#define INVALID 0
#define KUHN(g, j, valid, lit) \
	Test(c6_utf8, case_6_##g##_##j) \
	{ \
		text_case(lit, sizeof(lit) - 1, 0, valid); \
		text_case(lit, sizeof(lit) - 1, 1, valid); \
	}

/* 6.5.x: valid UTF-8 */
KUHN(5, 1, VALID, "hello$world")
KUHN(5, 2, VALID, "hello\xc2\xa2world")
KUHN(5, 3, VALID, "hello\xe2\x82\xacworld")
KUHN(5, 4, VALID, "hello\xf0\xa4\xad\xa2world")
KUHN(5, 5, VALID, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")

/* 6.6.x: every prefix of the 11 bytes of kosme: valid where it ends between characters */
KUHN(6, 1, INVALID, "\xce")
KUHN(6, 2, VALID, "\xce\xba")
KUHN(6, 3, INVALID, "\xce\xba\xe1")
KUHN(6, 4, INVALID, "\xce\xba\xe1\xbd")
KUHN(6, 5, VALID, "\xce\xba\xe1\xbd\xb9")
KUHN(6, 6, INVALID, "\xce\xba\xe1\xbd\xb9\xcf")
KUHN(6, 7, VALID, "\xce\xba\xe1\xbd\xb9\xcf\x83")
KUHN(6, 8, INVALID, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce")
KUHN(6, 9, VALID, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc")
KUHN(6, 10, INVALID, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce")
KUHN(6, 11, VALID, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")

/* 6.7.x: first possible sequence of each length */
KUHN(7, 1, VALID, "\x00")
KUHN(7, 2, VALID, "\xc2\x80")
KUHN(7, 3, VALID, "\xe0\xa0\x80")
KUHN(7, 4, VALID, "\xf0\x90\x80\x80")

/* 6.8.x: first possible sequences of 5 and 6 bytes: beyond U+10FFFF */
KUHN(8, 1, INVALID, "\xf8\x88\x80\x80\x80")
KUHN(8, 2, INVALID, "\xfc\x84\x80\x80\x80\x80")

/* 6.9.x: last possible sequence of each length */
KUHN(9, 1, VALID, "\x7f")
KUHN(9, 2, VALID, "\xdf\xbf")
KUHN(9, 3, VALID, "\xef\xbf\xbf")
KUHN(9, 4, VALID, "\xf4\x8f\xbf\xbf")

/* 6.10.x: last possible sequences of 4, 5 and 6 bytes: beyond U+10FFFF */
KUHN(10, 1, INVALID, "\xf7\xbf\xbf\xbf")
KUHN(10, 2, INVALID, "\xfb\xbf\xbf\xbf\xbf")
KUHN(10, 3, INVALID, "\xfd\xbf\xbf\xbf\xbf\xbf")

/* 6.11.x: boundaries: U+D7FF, U+E000, U+FFFD, U+10FFFF valid; U+110000 not */
KUHN(11, 1, VALID, "\xed\x9f\xbf")
KUHN(11, 2, VALID, "\xee\x80\x80")
KUHN(11, 3, VALID, "\xef\xbf\xbd")
KUHN(11, 4, VALID, "\xf4\x8f\xbf\xbf")
KUHN(11, 5, INVALID, "\xf4\x90\x80\x80")

/* 6.12.x: unexpected continuation bytes (6.12.8: all 64 of them; Autobahn
 * sends 0x80 to 0xbe) */
KUHN(12, 1, INVALID, "\x80")
KUHN(12, 2, INVALID, "\xbf")
KUHN(12, 3, INVALID, "\x80\xbf")
KUHN(12, 4, INVALID, "\x80\xbf\x80")
KUHN(12, 5, INVALID, "\x80\xbf\x80\xbf")
KUHN(12, 6, INVALID, "\x80\xbf\x80\xbf\x80")
KUHN(12, 7, INVALID, "\x80\xbf\x80\xbf\x80\xbf")
KUHN(12, 8, INVALID, "\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd\xbe\xbf")

/* 6.13.x: lonely start bytes, each followed by a space (Autobahn's ranges
 * stop one short: C0-DE, E0-EE, F0-F6, F8-FA, FC) */
KUHN(13, 1, INVALID, "\xc0 \xc1 \xc2 \xc3 \xc4 \xc5 \xc6 \xc7 \xc8 \xc9 \xca \xcb \xcc \xcd \xce \xcf \xd0 \xd1 \xd2 \xd3 \xd4 \xd5 \xd6 \xd7 \xd8 \xd9 \xda \xdb \xdc \xdd \xde ")
KUHN(13, 2, INVALID, "\xe0 \xe1 \xe2 \xe3 \xe4 \xe5 \xe6 \xe7 \xe8 \xe9 \xea \xeb \xec \xed \xee ")
KUHN(13, 3, INVALID, "\xf0 \xf1 \xf2 \xf3 \xf4 \xf5 \xf6 ")
KUHN(13, 4, INVALID, "\xf8 \xf9 \xfa ")
KUHN(13, 5, INVALID, "\xfc ")

/* 6.14.x: sequences with the last continuation byte missing */
KUHN(14, 1, INVALID, "\xc0")
KUHN(14, 2, INVALID, "\xe0\x80")
KUHN(14, 3, INVALID, "\xf0\x80\x80")
KUHN(14, 4, INVALID, "\xf8\x80\x80\x80")
KUHN(14, 5, INVALID, "\xfc\x80\x80\x80\x80")
KUHN(14, 6, INVALID, "\xdf")
KUHN(14, 7, INVALID, "\xef\xbf")
KUHN(14, 8, INVALID, "\xf7\xbf\xbf")
KUHN(14, 9, INVALID, "\xfb\xbf\xbf\xbf")
KUHN(14, 10, INVALID, "\xfd\xbf\xbf\xbf\xbf")

/* 6.15.x: all of those concatenated */
KUHN(15, 1, INVALID, "\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80\xdf\xef\xbf\xf7\xbf\xbf\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf")

/* 6.16.x: impossible bytes */
KUHN(16, 1, INVALID, "\xfe")
KUHN(16, 2, INVALID, "\xff")
KUHN(16, 3, INVALID, "\xfe\xfe\xff\xff")

/* 6.17.x: overlong '/' */
KUHN(17, 1, INVALID, "\xc0\xaf")
KUHN(17, 2, INVALID, "\xe0\x80\xaf")
KUHN(17, 3, INVALID, "\xf0\x80\x80\xaf")
KUHN(17, 4, INVALID, "\xf8\x80\x80\x80\xaf")
KUHN(17, 5, INVALID, "\xfc\x80\x80\x80\x80\xaf")

/* 6.18.x: maximum overlong sequences */
KUHN(18, 1, INVALID, "\xc1\xbf")
KUHN(18, 2, INVALID, "\xe0\x9f\xbf")
KUHN(18, 3, INVALID, "\xf0\x8f\xbf\xbf")
KUHN(18, 4, INVALID, "\xf8\x87\xbf\xbf\xbf")
KUHN(18, 5, INVALID, "\xfc\x83\xbf\xbf\xbf\xbf")

/* 6.19.x: overlong NUL */
KUHN(19, 1, INVALID, "\xc0\x80")
KUHN(19, 2, INVALID, "\xe0\x80\x80")
KUHN(19, 3, INVALID, "\xf0\x80\x80\x80")
KUHN(19, 4, INVALID, "\xf8\x80\x80\x80\x80")
KUHN(19, 5, INVALID, "\xfc\x80\x80\x80\x80\x80")

/* 6.20.x: single UTF-16 surrogates */
KUHN(20, 1, INVALID, "\xed\xa0\x80")
KUHN(20, 2, INVALID, "\xed\xad\xbf")
KUHN(20, 3, INVALID, "\xed\xae\x80")
KUHN(20, 4, INVALID, "\xed\xaf\xbf")
KUHN(20, 5, INVALID, "\xed\xb0\x80")
KUHN(20, 6, INVALID, "\xed\xbe\x80")
KUHN(20, 7, INVALID, "\xed\xbf\xbf")

/* 6.21.x: paired UTF-16 surrogates */
KUHN(21, 1, INVALID, "\xed\xa0\x80\xed\xb0\x80")
KUHN(21, 2, INVALID, "\xed\xa0\x80\xed\xbf\xbf")
KUHN(21, 3, INVALID, "\xed\xad\xbf\xed\xb0\x80")
KUHN(21, 4, INVALID, "\xed\xad\xbf\xed\xbf\xbf")
KUHN(21, 5, INVALID, "\xed\xae\x80\xed\xb0\x80")
KUHN(21, 6, INVALID, "\xed\xae\x80\xed\xbf\xbf")
KUHN(21, 7, INVALID, "\xed\xaf\xbf\xed\xb0\x80")
KUHN(21, 8, INVALID, "\xed\xaf\xbf\xed\xbf\xbf")

/* 6.22.x: noncharacters (U+FFFE, U+FFFF, U+nFFFE, U+nFFFF): valid UTF-8, echoed */
KUHN(22, 1, VALID, "\xef\xbf\xbe")
KUHN(22, 2, VALID, "\xef\xbf\xbf")
KUHN(22, 3, VALID, "\xf0\x9f\xbf\xbe")
KUHN(22, 4, VALID, "\xf0\x9f\xbf\xbf")
KUHN(22, 5, VALID, "\xf0\xaf\xbf\xbe")
KUHN(22, 6, VALID, "\xf0\xaf\xbf\xbf")
KUHN(22, 7, VALID, "\xf0\xbf\xbf\xbe")
KUHN(22, 8, VALID, "\xf0\xbf\xbf\xbf")
KUHN(22, 9, VALID, "\xf1\x8f\xbf\xbe")
KUHN(22, 10, VALID, "\xf1\x8f\xbf\xbf")
KUHN(22, 11, VALID, "\xf1\x9f\xbf\xbe")
KUHN(22, 12, VALID, "\xf1\x9f\xbf\xbf")
KUHN(22, 13, VALID, "\xf1\xaf\xbf\xbe")
KUHN(22, 14, VALID, "\xf1\xaf\xbf\xbf")
KUHN(22, 15, VALID, "\xf1\xbf\xbf\xbe")
KUHN(22, 16, VALID, "\xf1\xbf\xbf\xbf")
KUHN(22, 17, VALID, "\xf2\x8f\xbf\xbe")
KUHN(22, 18, VALID, "\xf2\x8f\xbf\xbf")
KUHN(22, 19, VALID, "\xf2\x9f\xbf\xbe")
KUHN(22, 20, VALID, "\xf2\x9f\xbf\xbf")
KUHN(22, 21, VALID, "\xf2\xaf\xbf\xbe")
KUHN(22, 22, VALID, "\xf2\xaf\xbf\xbf")
KUHN(22, 23, VALID, "\xf2\xbf\xbf\xbe")
KUHN(22, 24, VALID, "\xf2\xbf\xbf\xbf")
KUHN(22, 25, VALID, "\xf3\x8f\xbf\xbe")
KUHN(22, 26, VALID, "\xf3\x8f\xbf\xbf")
KUHN(22, 27, VALID, "\xf3\x9f\xbf\xbe")
KUHN(22, 28, VALID, "\xf3\x9f\xbf\xbf")
KUHN(22, 29, VALID, "\xf3\xaf\xbf\xbe")
KUHN(22, 30, VALID, "\xf3\xaf\xbf\xbf")
KUHN(22, 31, VALID, "\xf3\xbf\xbf\xbe")
KUHN(22, 32, VALID, "\xf3\xbf\xbf\xbf")
KUHN(22, 33, VALID, "\xf4\x8f\xbf\xbe")
KUHN(22, 34, VALID, "\xf4\x8f\xbf\xbf")

/* 6.23.x: the Specials block, U+FFF9 to U+FFFF */
KUHN(23, 1, VALID, "\xef\xbf\xb9")
KUHN(23, 2, VALID, "\xef\xbf\xba")
KUHN(23, 3, VALID, "\xef\xbf\xbb")
KUHN(23, 4, VALID, "\xef\xbf\xbc")
KUHN(23, 5, VALID, "\xef\xbf\xbd")
KUHN(23, 6, VALID, "\xef\xbf\xbe")
KUHN(23, 7, VALID, "\xef\xbf\xbf")

/* text split in two at every byte, then cut by a fragment edge and
 * finished wrongly, or ending inside a character */
Test(c6_utf8, valid_split_everywhere)
{
	static const char t[] = "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6-\xf0\x9f\x98\x80-\xe2\x82\xac";
	size_t n = strlen(t);
	int fd = ws_open();
	for (size_t cut = 0; cut <= n; cut++) {
		SEND(fd, ONE_CHOP, { OP_TEXT, t, cut }, { FIN | OP_CONT, t + cut, n - cut });
		expect_message(fd, OP_TEXT, t, n);
	}
	close_with(fd, 1000);
}

Test(c6_utf8, invalid_across_fragments)
{
	static const char *const pairs[][2] = {
		{ "\xce", "A" }, { "ab\xe2\x82", "\x41" }, { "\xf0\x9f", "\x98\xff" }, { "ok\xce", "" },
	};
	for (int i = 0; i < 4; i++) {
		int fd = ws_open();
		SEND_BAD(fd, ONE_CHOP, { OP_TEXT, pairs[i][0], strlen(pairs[i][0]) },
			 { FIN | OP_CONT, pairs[i][1], strlen(pairs[i][1]) });
		expect_fail(fd, 1007);
	}
}

/* fail fast inside one frame: a text frame announced as 64 KiB whose first
 * bytes are invalid; the rest is never sent, the close must come anyway */
Test(c6_utf8, fail_fast_in_frame)
{
	int fd = ws_open();
	uint8_t p[64];
	memcpy(p, kosme, 11);
	memcpy(p + 11, "\xf4\x90\x80\x80", 4);
	memset(p + 15, 'x', sizeof(p) - 15);
	struct wire w = { 0 };
	put_frame_as(&w, FIN | OP_TEXT, p, sizeof(p), 65536, 0);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_fail(fd, 1007);
}

/* fail fast in the first fragment of a message never finished */
Test(c6_utf8, fail_fast_in_first_fragment)
{
	int fd = ws_open();
	SEND_BAD(fd, ONE_CHOP, FR(OP_TEXT, "\xce\xba\xe1\xbd\xb9\xed\xa0\x80"));
	expect_fail(fd, 1007);
}

/* --- 7 close handling --------------------------------------------------------- */

TestSuite(c7_close, .init = start_echo, .fini = harness_teardown, .timeout = 30);

static const uint8_t close_1000[] = { 0x03, 0xe8 };

/* 7.1.1: a text echoed, then a normal close */
Test(c7_close, case_7_1_1)
{
	int fd = ws_open();
	SEND(fd, ONE_CHOP, FR(FIN | OP_TEXT, "Hello World!"));
	expect_message(fd, OP_TEXT, "Hello World!", 12);
	close_with(fd, 1000);
}

/* 7.1.2-7.1.5: after our close 1000, frame f: the server answers the close
 * and nothing else (expect_close fails on any byte after it) */
static void close_then(struct fr f, struct fr before)
{
	int fd = ws_open();
	if (before.p)
		SEND(fd, ONE_CHOP, before, { FIN | OP_CLOSE, close_1000, 2 }, f);
	else
		SEND(fd, ONE_CHOP, { FIN | OP_CLOSE, close_1000, 2 }, f);
	expect_close(fd, 1000, 0);
}

/* 7.1.2: a second close is ignored */
Test(c7_close, case_7_1_2)
{
	close_then((struct fr)FR(FIN | OP_CLOSE, ""), (struct fr){ 0 });
}

/* 7.1.3: a ping after the close is not answered */
Test(c7_close, case_7_1_3)
{
	close_then((struct fr)FR(FIN | OP_PING, ""), (struct fr){ 0 });
}

/* 7.1.4: a text after the close is not echoed */
Test(c7_close, case_7_1_4)
{
	close_then((struct fr)FR(FIN | OP_TEXT, "Hello World!"), (struct fr){ 0 });
}

/* 7.1.5: the first fragment of a text, the close, then the last fragment:
 * the message is never echoed */
Test(c7_close, case_7_1_5)
{
	close_then((struct fr)FR(FIN | OP_CONT, "fragment2"), (struct fr)FR(OP_TEXT, "fragment1"));
}

/* 7.1.6: a 256 KiB text, a short text, the close, then a ping, back to
 * back: both texts echoed, then the close, no pong. (Autobahn grades this
 * informational: it also accepts the texts lost to the close.) */
Test(c7_close, case_7_1_6)
{
	size_t n = 256 << 10;
	uint8_t *big = malloc(n);
	cr_assert(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (uint8_t)"BAsd7&jh23"[i % 10];
	int fd = ws_open();
	SEND(fd, ONE_CHOP, { FIN | OP_TEXT, big, n }, FR(FIN | OP_TEXT, "Hello World!"),
	     { FIN | OP_CLOSE, close_1000, 2 }, FR(FIN | OP_PING, ""));
	expect_message(fd, OP_TEXT, big, n);
	expect_message(fd, OP_TEXT, "Hello World!", 12);
	expect_close(fd, 1000, 0);
	free(big);
}

/* 7.3.1: a close with no payload is answered with no code (Autobahn's
 * "normal"), or 1000 */
Test(c7_close, case_7_3_1)
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

/* 7.3.2: a one-byte close payload: half a code */
Test(c7_close, case_7_3_2)
{
	int fd = ws_open();
	SEND_BAD(fd, ONE_CHOP, FR(FIN | OP_CLOSE, "\x03"));
	expect_fail(fd, 1002);
}

/* A close with code 1000 and a reason of n bytes: echoed, or if fail the
 * connection fails with 1002. */
static void close_reason(size_t n, int fail)
{
	char r[126];
	memset(r, '*', n);
	r[n] = 0;
	int fd = ws_open();
	send_close(fd, 1000, r);
	if (fail)
		expect_fail(fd, 1002);
	else
		expect_close(fd, 1000, 0);
}

/* 7.3.3: the code alone */
Test(c7_close, case_7_3_3)
{
	int fd = ws_open();
	send_close(fd, 1000, NULL);
	expect_close(fd, 1000, 0);
}

/* 7.3.4: the code and a 12-byte reason */
Test(c7_close, case_7_3_4)
{
	close_reason(12, 0);
}

/* 7.3.5: the code and a 123-byte reason: a 125-byte payload, the most */
Test(c7_close, case_7_3_5)
{
	close_reason(123, 0);
}

/* 7.3.6: the code and a 124-byte reason: a control frame too long */
Test(c7_close, case_7_3_6)
{
	close_reason(124, 1);
}

/* 7.5.1: a close reason that is not UTF-8 (κόσμε, a surrogate, "edited") */
Test(c7_close, case_7_5_1)
{
	int fd = ws_open();
	send_close(fd, 1000, bad_text);
	expect_fail(fd, 1007);
}

/* 7.7.1-7.7.13: a close with a code a peer may send: the same code back */
#define VALID_CODE(id, code) \
	Test(c7_close, case_##id) \
	{ \
		int fd = ws_open(); \
		send_close(fd, code, NULL); \
		expect_close(fd, code, 0); \
	}
VALID_CODE(7_7_1, 1000)
VALID_CODE(7_7_2, 1001)
VALID_CODE(7_7_3, 1002)
VALID_CODE(7_7_4, 1003)
VALID_CODE(7_7_5, 1007)
VALID_CODE(7_7_6, 1008)
VALID_CODE(7_7_7, 1009)
VALID_CODE(7_7_8, 1010)
VALID_CODE(7_7_9, 1011)
VALID_CODE(7_7_10, 3000)
VALID_CODE(7_7_11, 3999)
VALID_CODE(7_7_12, 4000)
VALID_CODE(7_7_13, 4999)

/* 7.9.1-7.9.9: a close with a code a peer must not send: 1002. 7.13.1,
 * 7.13.2: codes beyond 4999, which Autobahn grades informational (it also
 * accepts 1000 or the code echoed); ringwsd fails them with 1002. 1015
 * (TLS failure) is not an Autobahn case. */
#define INVALID_CODE(name, code) \
	Test(c7_close, name) \
	{ \
		int fd = ws_open(); \
		send_close(fd, code, NULL); \
		expect_fail(fd, 1002); \
	}
INVALID_CODE(case_7_9_1, 0)
INVALID_CODE(case_7_9_2, 999)
INVALID_CODE(case_7_9_3, 1004)
INVALID_CODE(case_7_9_4, 1005)
INVALID_CODE(case_7_9_5, 1006)
INVALID_CODE(case_7_9_6, 1016)
INVALID_CODE(case_7_9_7, 1100)
INVALID_CODE(case_7_9_8, 2000)
INVALID_CODE(case_7_9_9, 2999)
INVALID_CODE(case_7_13_1, 5000)
INVALID_CODE(case_7_13_2, 65535)
INVALID_CODE(code_1015, 1015)

/* --- 9 limits and performance ------------------------------------------------- */

TestSuite(c9_limits, .init = start_echo, .fini = harness_teardown, .timeout = 60);

#define KIB(n) ((size_t)(n) << 10)
#define MIB(n) ((size_t)(n) << 20)

/* 9.1.1-9.1.6: a text of 64 KiB, 256 KiB, 1, 4, 8 and 16 MiB in one frame;
 * 9.2.x: the same binary. 9.3.1-9.3.9: a 4 MiB text in fragments of 64 B,
 * 256 B, 1, 4, 16, 64, 256 KiB, 1 and 4 MiB; 9.4.x: the same binary.
 * 9.5.1-9.5.6: a 1 MiB text in one frame written in chops of 64 to 2048
 * bytes; 9.6.x: the same binary. Each is echoed whole. */
#define BIG(id, op, n, frag, chop) \
	Test(c9_limits, case_##id) { message_case(op, n, frag, chop); }
BIG(9_1_1, OP_TEXT, KIB(64), 0, 0)
BIG(9_1_2, OP_TEXT, KIB(256), 0, 0)
BIG(9_1_3, OP_TEXT, MIB(1), 0, 0)
BIG(9_1_4, OP_TEXT, MIB(4), 0, 0)
BIG(9_1_5, OP_TEXT, MIB(8), 0, 0)
BIG(9_1_6, OP_TEXT, MIB(16), 0, 0)
BIG(9_2_1, OP_BINARY, KIB(64), 0, 0)
BIG(9_2_2, OP_BINARY, KIB(256), 0, 0)
BIG(9_2_3, OP_BINARY, MIB(1), 0, 0)
BIG(9_2_4, OP_BINARY, MIB(4), 0, 0)
BIG(9_2_5, OP_BINARY, MIB(8), 0, 0)
BIG(9_2_6, OP_BINARY, MIB(16), 0, 0)
BIG(9_3_1, OP_TEXT, MIB(4), 64, 0)
BIG(9_3_2, OP_TEXT, MIB(4), 256, 0)
BIG(9_3_3, OP_TEXT, MIB(4), KIB(1), 0)
BIG(9_3_4, OP_TEXT, MIB(4), KIB(4), 0)
BIG(9_3_5, OP_TEXT, MIB(4), KIB(16), 0)
BIG(9_3_6, OP_TEXT, MIB(4), KIB(64), 0)
BIG(9_3_7, OP_TEXT, MIB(4), KIB(256), 0)
BIG(9_3_8, OP_TEXT, MIB(4), MIB(1), 0)
BIG(9_3_9, OP_TEXT, MIB(4), MIB(4), 0)
BIG(9_4_1, OP_BINARY, MIB(4), 64, 0)
BIG(9_4_2, OP_BINARY, MIB(4), 256, 0)
BIG(9_4_3, OP_BINARY, MIB(4), KIB(1), 0)
BIG(9_4_4, OP_BINARY, MIB(4), KIB(4), 0)
BIG(9_4_5, OP_BINARY, MIB(4), KIB(16), 0)
BIG(9_4_6, OP_BINARY, MIB(4), KIB(64), 0)
BIG(9_4_7, OP_BINARY, MIB(4), KIB(256), 0)
BIG(9_4_8, OP_BINARY, MIB(4), MIB(1), 0)
BIG(9_4_9, OP_BINARY, MIB(4), MIB(4), 0)
BIG(9_5_1, OP_TEXT, MIB(1), 0, 64)
BIG(9_5_2, OP_TEXT, MIB(1), 0, 128)
BIG(9_5_3, OP_TEXT, MIB(1), 0, 256)
BIG(9_5_4, OP_TEXT, MIB(1), 0, 512)
BIG(9_5_5, OP_TEXT, MIB(1), 0, 1024)
BIG(9_5_6, OP_TEXT, MIB(1), 0, 2048)
BIG(9_6_1, OP_BINARY, MIB(1), 0, 64)
BIG(9_6_2, OP_BINARY, MIB(1), 0, 128)
BIG(9_6_3, OP_BINARY, MIB(1), 0, 256)
BIG(9_6_4, OP_BINARY, MIB(1), 0, 512)
BIG(9_6_5, OP_BINARY, MIB(1), 0, 1024)
BIG(9_6_6, OP_BINARY, MIB(1), 0, 2048)

/* 9.7.1-9.7.6: 1000 texts of 0, 16, 64, 256, 1024 and 4096 bytes, each
 * sent once the previous one is echoed (a round trip each, as Autobahn
 * measures latency); 9.8.x: the same binary */
static void round_trips(int op, size_t n)
{
	uint8_t *p = filler(op, n);
	int fd = ws_open();
	struct wire w = { 0 };
	for (int i = 0; i < 1000; i++) {
		put_frame(&w, FIN | op, p, n);
		wire_send(fd, &w, 0);
		expect_message(fd, op, p, n);
	}
	wire_free(&w);
	free(p);
	close_with(fd, 1000);
}

#define ROUND_TRIPS(id, op, n) \
	Test(c9_limits, case_##id) { round_trips(op, n); }
ROUND_TRIPS(9_7_1, OP_TEXT, 0)
ROUND_TRIPS(9_7_2, OP_TEXT, 16)
ROUND_TRIPS(9_7_3, OP_TEXT, 64)
ROUND_TRIPS(9_7_4, OP_TEXT, 256)
ROUND_TRIPS(9_7_5, OP_TEXT, 1024)
ROUND_TRIPS(9_7_6, OP_TEXT, 4096)
ROUND_TRIPS(9_8_1, OP_BINARY, 0)
ROUND_TRIPS(9_8_2, OP_BINARY, 16)
ROUND_TRIPS(9_8_3, OP_BINARY, 64)
ROUND_TRIPS(9_8_4, OP_BINARY, 256)
ROUND_TRIPS(9_8_5, OP_BINARY, 1024)
ROUND_TRIPS(9_8_6, OP_BINARY, 4096)

/* 64 KiB of multi-byte text in 65,536 one-byte fragments: UTF-8 state
 * carried across every fragment */
Test(c9_limits, text_65536_one_byte_fragments)
{
	size_t n = 65536;
	uint8_t *p = utf8_text(n);
	int fd = ws_open();
	tcp_set_timeout(fd, 20000);
	struct wire w = { 0 };
	put_message(&w, OP_TEXT, p, n, 1);
	wire_send(fd, &w, 0);
	wire_free(&w);
	expect_message(fd, OP_TEXT, p, n);
	free(p);
	close_with(fd, 1000);
}

/* 1000 messages of both types in one write, 1000 echoes in order */
Test(c9_limits, thousand_messages_pipelined)
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

/* 10.1.1: a 64 KiB text in 1300-byte fragments (Autobahn's autoFragmentSize)
 * comes back whole, however the server fragments it (1.1.7 sends it in
 * one frame) */
Test(c10_autofrag, case_10_1_1)
{
	message_case(OP_TEXT, 65536, 1300, 0);
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
