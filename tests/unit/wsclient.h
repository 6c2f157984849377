/*
 * wsclient: a small blocking WebSocket client for tests, on plain sockets
 * with receive timeouts. It sends exactly the bytes a test asks for (also
 * malformed ones) and decodes what the server answers.
 */
#ifndef RWS_TEST_WSCLIENT_H
#define RWS_TEST_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

/* Connects to 127.0.0.1:port with a receive timeout. Returns the fd or -1. */
int wsc_connect(uint16_t port, int timeout_ms);

/* Sends an upgrade request for path with extra header lines (each ending in
 * "\r\n", may be NULL) and reads the response head into head (NUL-ended).
 * Returns the HTTP status, or -1. */
int wsc_upgrade(int fd, const char *path, const char *extra, char *head, size_t cap);

/* connect + upgrade to path; returns the fd of an open WebSocket or -1. */
int wsc_open(uint16_t port, const char *path);

/* Sends a masked frame with the given first byte (FIN|RSV|opcode). */
int wsc_send_frame(int fd, uint8_t b0, const void *payload, size_t len);

/* Sends raw bytes. */
int wsc_send_raw(int fd, const void *p, size_t len);

struct wsc_frame {
	uint8_t b0;		/* FIN|RSV|opcode as received */
	uint8_t *data;		/* malloc'd payload (free it), NUL-terminated */
	size_t len;
};

/* Reads one frame. Returns 1, 0 on EOF, -1 on timeout or error. */
int wsc_recv_frame(int fd, struct wsc_frame *f);

/* Reads frames until a close frame; returns its code (1005 if none), 0 on
 * EOF without a close frame, -1 on timeout. Other frames are discarded. */
int wsc_expect_close(int fd);

/* Returns 1 if the peer closed the TCP connection (EOF or reset) within the
 * timeout. */
int wsc_eof(int fd);

#endif
