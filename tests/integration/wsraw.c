/*
 * wsraw: the raw WebSocket client of the integration tests. See wsraw.h.
 */
#include "wsraw.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "harness.h"

void wire_put(struct wire *w, const void *p, size_t n)
{
	if (w->len + n > w->cap) {
		w->cap = (w->len + n) * 2 + 64;
		w->p = realloc(w->p, w->cap);
		cr_assert(w->p);
	}
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

void put_frame_as(struct wire *w, uint8_t b0, const void *p, size_t n, uint64_t len,
		  int unmasked)
{
	static uint32_t seq = 0x9e3779b9;
	uint8_t h[14];
	size_t hl = 2;
	h[0] = b0;
	h[1] = unmasked ? 0 : 0x80;
	if (len < 126) {
		h[1] |= (uint8_t)len;
	} else if (len <= 0xffff) {
		h[1] |= 126;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		hl = 4;
	} else {
		h[1] |= 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
		hl = 10;
	}
	uint8_t key[4];
	if (!unmasked) {
		seq = seq * 1664525u + 1013904223u;
		memcpy(key, &seq, 4);
		memcpy(h + hl, key, 4);
		hl += 4;
	}
	wire_put(w, h, hl);
	size_t at = w->len;
	wire_put(w, p, n);
	if (!unmasked)
		for (size_t i = 0; i < n; i++)
			w->p[at + i] ^= key[i & 3];
}

void put_frame(struct wire *w, uint8_t b0, const void *p, size_t n)
{
	put_frame_as(w, b0, p, n, n, 0);
}

void put_message(struct wire *w, int op, const void *p, size_t n, size_t frag)
{
	const uint8_t *b = p;
	size_t step = frag && frag < n ? frag : n, off = 0;
	do {
		size_t k = n - off < step ? n - off : step;
		put_frame(w, (uint8_t)((off ? OP_CONT : op) | (off + k == n ? FIN : 0)), b + off, k);
		off += k;
	} while (off < n);
}

int wire_try_send(int fd, struct wire *w, size_t chop)
{
	size_t step = chop ? chop : w->len;
	int rc = 0;
	for (size_t off = 0; off < w->len && !rc; off += step) {
		size_t n = w->len - off < step ? w->len - off : step;
		rc = tcp_send(fd, w->p + off, n);
	}
	w->len = 0;
	return rc;
}

void wire_send(int fd, struct wire *w, size_t chop)
{
	int rc = wire_try_send(fd, w, chop);
	cr_assert_eq(rc, 0, "send: %s", strerror(-rc));
}

void wire_free(struct wire *w)
{
	free(w->p);
	*w = (struct wire){ 0 };
}

void send_frame(int fd, uint8_t b0, const void *p, size_t n)
{
	struct wire w = { 0 };
	put_frame(&w, b0, p, n);
	wire_send(fd, &w, 0);
	wire_free(&w);
}

static int close_payload(uint8_t *out, int code, const char *reason)
{
	size_t n = 0;
	if (code >= 0) {
		out[0] = (uint8_t)(code >> 8);
		out[1] = (uint8_t)code;
		n = 2;
	}
	if (reason) {
		memcpy(out + n, reason, strlen(reason));
		n += strlen(reason);
	}
	return (int)n;
}

void send_close(int fd, int code, const char *reason)
{
	uint8_t p[256];
	int n = close_payload(p, code, reason);
	struct wire w = { 0 };
	put_frame(&w, FIN | OP_CLOSE, p, (size_t)n);
	tcp_send(fd, w.p, w.len);
	wire_free(&w);
}

int ws_open_with(int port, const char *path, const char *extra)
{
	int fd = tcp_connect(port, READ_MS);
	char req[2048];
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		 "Sec-WebSocket-Version: 13\r\n%s\r\n", path, port, extra);
	cr_assert_eq(tcp_send(fd, req, strlen(req)), 0);
	char head[4096], v[256];
	int st = http_read_head(fd, head, sizeof(head));
	cr_assert_eq(st, 101, "handshake: wanted 101, got %d:\n%s", st, head);
	cr_assert(http_header(head, "Sec-WebSocket-Accept", v, sizeof(v)) == 0 && !strcmp(v, ACCEPT),
		  "handshake: wrong Sec-WebSocket-Accept:\n%s", head);
	cr_assert(http_header(head, "Upgrade", v, sizeof(v)) == 0 && !strcasecmp(v, "websocket"),
		  "handshake: Upgrade header:\n%s", head);
	cr_assert(http_header(head, "Connection", v, sizeof(v)) == 0 && strcasestr(v, "upgrade"),
		  "handshake: Connection header:\n%s", head);
	cr_assert(http_header(head, "Sec-WebSocket-Extensions", v, sizeof(v)) < 0,
		  "handshake: an extension none was offered:\n%s", head);
	cr_assert(http_header(head, "Sec-WebSocket-Protocol", v, sizeof(v)) < 0,
		  "handshake: a subprotocol none was offered:\n%s", head);
	return fd;
}

int next_frame(int fd, struct frame *f)
{
	uint8_t h[8];
	*f = (struct frame){ 0 };
	int rc = tcp_read(fd, h, 2);
	if (rc)
		return rc;
	f->fin = h[0] >> 7;
	f->rsv = (h[0] >> 4) & 7;
	f->op = h[0] & 15;
	uint64_t len = h[1] & 127;
	cr_assert(!(h[1] & 0x80), "server frame (opcode %d) is masked", f->op);
	cr_assert(!f->rsv, "server frame (opcode %d) has RSV bits %d", f->op, f->rsv);
	cr_assert(f->op <= 2 || (f->op >= 8 && f->op <= 10), "server frame has opcode %d", f->op);
	if (len == 126) {
		if ((rc = tcp_read(fd, h, 2)))
			return rc;
		len = (uint64_t)h[0] << 8 | h[1];
		cr_assert(len >= 126, "server frame: 16-bit length %llu is not minimal",
			  (unsigned long long)len);
	} else if (len == 127) {
		if ((rc = tcp_read(fd, h, 8)))
			return rc;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | h[i];
		cr_assert(len > 0xffff && len < (1ull << 63),
			  "server frame: 64-bit length %llu is not minimal", (unsigned long long)len);
	}
	if (f->op >= 8)
		cr_assert(f->fin && len <= 125, "server control frame (opcode %d): fin %d, length %llu",
			  f->op, f->fin, (unsigned long long)len);
	f->len = (size_t)len;
	f->data = malloc(f->len + 1);
	cr_assert(f->data);
	if (len && (rc = tcp_read(fd, f->data, f->len))) {
		free(f->data);
		f->data = NULL;
		return rc;
	}
	f->data[f->len] = 0;
	return 0;
}

int frame_close_code(const struct frame *f)
{
	return f->len >= 2 ? f->data[0] << 8 | f->data[1] : 0;
}

const char *frame_describe(int rc, const struct frame *f)
{
	static char s[160];
	static const char *names[16] = { "continuation", "text", "binary", [8] = "close",
					 [9] = "ping", [10] = "pong" };
	if (rc == -EPIPE || rc == -ECONNRESET)
		return rc == -EPIPE ? "TCP closed (no close frame)" : "TCP reset (no close frame)";
	if (rc == -EAGAIN)
		return "nothing (timed out)";
	if (rc)
		return strerror(-rc);
	if (f->op == OP_CLOSE)
		snprintf(s, sizeof(s), "close frame, code %d, reason \"%.*s\"", frame_close_code(f),
			 f->len > 2 ? (int)f->len - 2 : 0, f->len > 2 ? (char *)f->data + 2 : "");
	else
		snprintf(s, sizeof(s), "%s frame of %zu bytes, fin %d", names[f->op], f->len, f->fin);
	return s;
}

void frame_free(struct frame *f)
{
	free(f->data);
	f->data = NULL;
}

void expect_message(int fd, int op, const void *p, size_t n)
{
	struct frame f;
	int rc = next_frame(fd, &f);
	cr_assert(rc == 0 && f.op == op, "expected a %s message of %zu bytes, got %s",
		  op == OP_TEXT ? "text" : "binary", n, frame_describe(rc, &f));
	uint8_t *msg = f.data;
	size_t len = f.len;
	while (!f.fin) {
		rc = next_frame(fd, &f);
		cr_assert(rc == 0 && f.op == OP_CONT, "expected the continuation of a message, got %s",
			  frame_describe(rc, &f));
		msg = realloc(msg, len + f.len + 1);
		cr_assert(msg);
		memcpy(msg + len, f.data, f.len);
		len += f.len;
		frame_free(&f);
	}
	cr_assert_eq(len, n, "echo has %zu bytes, sent %zu", len, n);
	if (n && memcmp(msg, p, n) != 0) {
		size_t i = 0;
		while (msg[i] == ((const uint8_t *)p)[i])
			i++;
		cr_assert_fail("echo of %zu bytes differs at byte %zu", n, i);
	}
	free(msg);
}

void expect_pong(int fd, const void *p, size_t n)
{
	struct frame f;
	int rc = next_frame(fd, &f);
	cr_assert(rc == 0 && f.op == OP_PONG, "expected a pong of %zu bytes, got %s", n,
		  frame_describe(rc, &f));
	cr_assert(f.len == n && memcmp(f.data, p, n) == 0, "pong payload differs from the ping's");
	frame_free(&f);
}

void expect_close(int fd, int code, int reply)
{
	struct frame f;
	int rc = next_frame(fd, &f);
	cr_assert(rc == 0 && f.op == OP_CLOSE && frame_close_code(&f) == code && f.len != 1,
		  "expected close %d, got %s", code, frame_describe(rc, &f));
	frame_free(&f);
	if (reply)
		send_close(fd, code ? code : -1, NULL);
	int got = 0;
	rc = tcp_expect_eof(fd, EOF_MS, &got);
	cr_assert(rc == 0, "after close %d, TCP did not close: %s (byte 0x%02x)", code,
		  rc == -EAGAIN ? "still open" : rc == -EBADMSG ? "more data" : strerror(-rc), got);
	close(fd);
}

void expect_fail(int fd, int code)
{
	expect_close(fd, code, 1);
}

void close_with(int fd, int code)
{
	send_close(fd, code, "bye");
	expect_close(fd, code, 0);
}

void expect_silence(int fd, int ms)
{
	tcp_set_timeout(fd, ms);
	struct frame f;
	int rc = next_frame(fd, &f);
	cr_assert_eq(rc, -EAGAIN, "expected nothing, got %s", frame_describe(rc, &f));
	tcp_set_timeout(fd, READ_MS);
}

uint8_t *random_bytes(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n ? n : 1);
	cr_assert(p);
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 24);
	}
	return p;
}

uint8_t *utf8_text(size_t n)
{
	static const char *chars[] = { "a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "Z",
				       "\xd0\xb6", "\xe4\xb8\xad", "\xf0\x9d\x84\x9e", " " };
	uint8_t *p = malloc(n ? n : 1);
	cr_assert(p);
	size_t len = 0;
	for (size_t i = 0; len < n; i++) {
		const char *c = chars[i % 9];
		size_t cl = strlen(c);
		if (len + cl > n) {
			c = ".";
			cl = 1;
		}
		memcpy(p + len, c, cl);
		len += cl;
	}
	return p;
}

void echo_one(int fd, int op, const void *p, size_t n)
{
	send_frame(fd, FIN | op, p, n);
	expect_message(fd, op, p, n);
}
