#include "wsclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int wsc_connect(uint16_t port, int timeout_ms)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int wsc_send_raw(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;
	while (len) {
		ssize_t n = send(fd, b, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_full(int fd, void *p, size_t len)
{
	uint8_t *b = p;
	while (len) {
		ssize_t n = recv(fd, b, len, 0);
		if (n == 0)
			return 0;
		if (n < 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 1;
}

int wsc_upgrade(int fd, const char *path, const char *extra, char *head, size_t cap)
{
	char req[2048];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			 "Sec-WebSocket-Version: 13\r\n%s\r\n",
			 path, extra ? extra : "");
	if (wsc_send_raw(fd, req, (size_t)n) < 0)
		return -1;
	/* read byte by byte up to the blank line, so no frame byte is taken */
	size_t len = 0;
	while (len + 1 < cap) {
		if (read_full(fd, head + len, 1) != 1)
			return -1;
		len++;
		if (len >= 4 && memcmp(head + len - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	head[len] = 0;
	int status = -1;
	if (sscanf(head, "HTTP/1.1 %d", &status) != 1)
		return -1;
	return status;
}

int wsc_open(uint16_t port, const char *path)
{
	int fd = wsc_connect(port, 5000);
	if (fd < 0)
		return -1;
	char head[2048];
	if (wsc_upgrade(fd, path, NULL, head, sizeof(head)) != 101) {
		close(fd);
		return -1;
	}
	return fd;
}

int wsc_send_frame(int fd, uint8_t b0, const void *payload, size_t len)
{
	static const uint8_t key[4] = { 0x12, 0x34, 0x56, 0x78 };
	uint8_t *f = malloc(len + 14);
	size_t n = 0;
	f[n++] = b0;
	if (len < 126) {
		f[n++] = (uint8_t)(0x80 | len);
	} else if (len <= 0xFFFF) {
		f[n++] = 0x80 | 126;
		f[n++] = (uint8_t)(len >> 8);
		f[n++] = (uint8_t)len;
	} else {
		f[n++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			f[n++] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	memcpy(f + n, key, 4);
	n += 4;
	const uint8_t *p = payload;
	for (size_t i = 0; i < len; i++)
		f[n + i] = p[i] ^ key[i & 3];
	int rc = wsc_send_raw(fd, f, n + len);
	free(f);
	return rc;
}

int wsc_recv_frame(int fd, struct wsc_frame *f)
{
	uint8_t h[10];
	int rc = read_full(fd, h, 2);
	if (rc != 1)
		return rc;
	uint64_t len = h[1] & 0x7F;
	if (len == 126) {
		if (read_full(fd, h + 2, 2) != 1)
			return -1;
		len = (uint64_t)h[2] << 8 | h[3];
	} else if (len == 127) {
		if (read_full(fd, h + 2, 8) != 1)
			return -1;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | h[2 + i];
	}
	if (h[1] & 0x80)
		return -1;	/* servers do not mask */
	f->b0 = h[0];
	f->len = (size_t)len;
	f->data = malloc(f->len + 1);
	if (f->len && read_full(fd, f->data, f->len) != 1) {
		free(f->data);
		return -1;
	}
	f->data[f->len] = 0;
	return 1;
}

int wsc_expect_close(int fd)
{
	for (;;) {
		struct wsc_frame f;
		int rc = wsc_recv_frame(fd, &f);
		if (rc <= 0)
			return rc;
		int op = f.b0 & 0x0F;
		int code = 1005;
		if (op == 8 && f.len >= 2)
			code = f.data[0] << 8 | f.data[1];
		free(f.data);
		if (op == 8)
			return code;
	}
}

int wsc_eof(int fd)
{
	uint8_t b[256];
	for (;;) {
		ssize_t n = recv(fd, b, sizeof(b), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return 1;
		if (n < 0)
			return 0;
	}
}
