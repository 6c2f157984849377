/*
 * wsraw: a raw WebSocket client for the integration tests, on the blocking
 * sockets of harness.h. It builds frames byte by byte (any opcode, RSV bits,
 * declared length, masked or not) so tests can send what no real peer
 * sends, and reads the server's frames checking that each obeys RFC 6455
 * for a server with no extension (unmasked, RSV clear, minimal length,
 * control frames short and final). The expect_* functions fail the test
 * with what arrived instead.
 */
#ifndef RWS_WSRAW_H
#define RWS_WSRAW_H

#include <stddef.h>
#include <stdint.h>

#define FIN 0x80
#define RSV1 0x40
#define RSV2 0x20
#define RSV3 0x10
#define OP_CONT 0x0
#define OP_TEXT 0x1
#define OP_BINARY 0x2
#define OP_CLOSE 0x8
#define OP_PING 0x9
#define OP_PONG 0xa

#define READ_MS 5000	/* the longest wait for one expected frame */
#define EOF_MS 3000	/* for TCP to close after the close frames */

/* the RFC 6455 section 1.3 example key and its accept value */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* Frames to send, built up and written in one go (or in chops). */
struct wire {
	uint8_t *p;
	size_t len, cap;
};

void wire_put(struct wire *w, const void *p, size_t n);
/* Appends a frame with first byte b0 (FIN|RSV|opcode) and payload p[0..n),
 * masked unless unmasked is set, whose header declares len bytes (normally
 * n: more makes a frame the test never finishes). */
void put_frame_as(struct wire *w, uint8_t b0, const void *p, size_t n, uint64_t len,
		  int unmasked);
void put_frame(struct wire *w, uint8_t b0, const void *p, size_t n);
/* Appends a message of type op and bytes p[0..n) in fragments of frag
 * bytes (0: one frame). */
void put_message(struct wire *w, int op, const void *p, size_t n, size_t frag);
/* Writes the wire in chops of chop bytes (0: all at once) and empties it. */
void wire_send(int fd, struct wire *w, size_t chop);
/* The same, but a failed write ends it and is returned (0 or -errno): for
 * cases where the server may rightly fail the connection before reading
 * everything sent. */
int wire_try_send(int fd, struct wire *w, size_t chop);
void wire_free(struct wire *w);
void send_frame(int fd, uint8_t b0, const void *p, size_t n);
/* Sends close with code (none if negative) and reason, ignoring errors:
 * the server may have closed TCP already. */
void send_close(int fd, int code, const char *reason);

/* Opens a WebSocket to path with extra request header lines (each ending
 * in \r\n) and checks the 101 answer; returns the socket. */
int ws_open_with(int port, const char *path, const char *extra);

struct frame {
	int fin, rsv, op;
	size_t len;
	uint8_t *data;	/* malloc'd, NUL-terminated */
};

/* Reads one server frame: 0, or the tcp_read error (-EPIPE for EOF). */
int next_frame(int fd, struct frame *f);
void frame_free(struct frame *f);
/* The code of a close frame, 0 if it has none. */
int frame_close_code(const struct frame *f);
/* What next_frame() returned, in words, for failure messages. */
const char *frame_describe(int rc, const struct frame *f);

/* One whole message (fragments assembled, no control frame among them)
 * of type op and bytes p[0..n). */
void expect_message(int fd, int op, const void *p, size_t n);
void expect_pong(int fd, const void *p, size_t n);
/* A close frame with code (0: none), then TCP closing (after our reply if
 * reply is set); closes fd. */
void expect_close(int fd, int code, int reply);
/* The server failed the connection: close with code, we reply, TCP closes. */
void expect_fail(int fd, int code);
/* Our close handshake: close with code, the same code back, TCP closed. */
void close_with(int fd, int code);
/* Nothing arrives within ms. */
void expect_silence(int fd, int ms);
/* Sends p as one frame and expects it echoed. */
void echo_one(int fd, int op, const void *p, size_t n);

/* Deterministic payloads (malloc'd): bytes, and valid UTF-8 of exactly n
 * bytes mixing 1- to 4-byte characters. */
uint8_t *random_bytes(size_t n, uint64_t seed);
uint8_t *utf8_text(size_t n);

#endif
