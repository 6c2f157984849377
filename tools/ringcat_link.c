/*
 * ringcat_link: stdin and stdout joined to one connection, for the client
 * and for --listen --stdio.
 *
 * Out: a thread reads stdin and sends each line (or, with --binary, each
 * read) as a message with rws_conn_send, which posts it to the reactor.
 * Nothing in the API tells another thread how much of that is still queued,
 * so the bound is end to end: every PING_EVERY bytes the thread sends a
 * ping of its own ("ringcat:SEQ"), and it stops sending while more than
 * WINDOW bytes were sent before the last ping the peer answered. Queued
 * bytes stay bounded on both sides, and an echo server's answers never pile
 * up past its own send bound (ringwsd's is 1 MiB). A peer that answers no
 * pings for NO_PONG_MS while we wait gets the rest without a window.
 *
 * In: the reactor writes each message to stdout (a text or binary one as it
 * is, then a newline; raw with --binary), whole, in the callback: a slow
 * stdout slows the reading from the peer. A failed write (EPIPE) ends the
 * link with a close 1001.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ringcat.h"

#define CHUNK (64 * 1024)		/* largest binary message from one read */
#define WINDOW (512 * 1024)		/* bytes sent ahead of the peer's last pong */
#define PING_EVERY (128 * 1024)
#define MSG_COST 32			/* a message's share of the window besides its bytes */
#define NO_PONG_MS 10000
#define PING_TAG "ringcat:"

/* --- stdout -------------------------------------------------------------------- */

/* Writes iov whole (partial writes, EINTR, a non-blocking stdout): 0, or a
 * negative errno. */
static int write_all(struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(1, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = { 1, POLLOUT, 0 };
				poll(&p, 1, -1);
				continue;
			}
			return -errno;
		}
		size_t left = (size_t)w;
		while (n > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

void rc_link_message(struct rc_link *l, const void *data, size_t len, int is_text)
{
	(void)is_text;	/* text and binary are written alike */
	pthread_mutex_lock(&rc_lock);
	int skip = l->stdout_broken || (l->first_only && l->received);
	pthread_mutex_unlock(&rc_lock);
	if (skip)
		return;
	struct iovec iov[2] = { { (void *)data, len }, { "\n", 1 } };
	int rc = write_all(iov, opt.binary ? 1 : 2);
	pthread_mutex_lock(&rc_lock);
	if (rc < 0) {
		if (!l->stdout_broken && rc != -EPIPE)
			rc_err("cannot write to stdout: %s", strerror(-rc));
		l->stdout_broken = 1;
	} else {
		l->received++;
		l->last_rx_ms = rc_now_ms();
	}
	pthread_cond_broadcast(&rc_cond);
	pthread_mutex_unlock(&rc_lock);
}

void rc_link_pong(struct rc_link *l, const void *data, size_t len)
{
	size_t tl = strlen(PING_TAG);
	char num[16];
	if (len <= tl || len - tl >= sizeof(num) || memcmp(data, PING_TAG, tl) != 0)
		return;	/* not one of ours (the heartbeat's, or unsolicited) */
	memcpy(num, (const char *)data + tl, len - tl);
	num[len - tl] = 0;
	char *end;
	unsigned long seq = strtoul(num, &end, 10);
	if (*end)
		return;
	pthread_mutex_lock(&rc_lock);
	/* only the last 16 pings are remembered; an older answer says less */
	if (seq < l->ping_seq && l->ping_seq - seq <= 16) {
		uint64_t at = l->ping_at[seq % 16];
		if (at > l->acked)
			l->acked = at;
		pthread_cond_broadcast(&rc_cond);
	}
	pthread_mutex_unlock(&rc_lock);
}

void rc_link_closed(struct rc_link *l, int code, const char *reason, size_t reason_len)
{
	pthread_mutex_lock(&rc_lock);
	l->closed = 1;
	l->close_code = code;
	if (reason_len >= sizeof(l->close_reason))
		reason_len = sizeof(l->close_reason) - 1;
	memcpy(l->close_reason, reason ? reason : "", reason ? reason_len : 0);
	l->close_reason[reason ? reason_len : 0] = 0;
	pthread_cond_broadcast(&rc_cond);
	pthread_mutex_unlock(&rc_lock);
}

/* --- stdin ---------------------------------------------------------------------- */

/* Whether p[0..n) is UTF-8 (no overlong forms, no surrogates, at most
 * U+10FFFF). */
static int utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k;
		unsigned min, cp;
		if ((c & 0xe0) == 0xc0)
			k = 1, min = 0x80, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			k = 2, min = 0x800, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			k = 3, min = 0x10000, cp = c & 0x07;
		else
			return 0;
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

int rc_link_send(struct rc_link *l, const void *data, size_t len, int binary)
{
	static int warned;
	if (!binary && !utf8_ok(data, len)) {
		if (!warned++)
			rc_info("a line of stdin is not UTF-8: sent as a binary message (and any "
				"others like it)");
		binary = 1;
	}
	pthread_mutex_lock(&rc_lock);
	long long since = rc_now_ms();
	uint64_t acked = l->acked;
	for (;;) {
		if (l->closed || l->we_closed || l->stdout_broken) {
			pthread_mutex_unlock(&rc_lock);
			return -EPIPE;
		}
		if (l->fc_off || l->sent - l->acked < WINDOW)
			break;
		if (l->acked != acked) {
			acked = l->acked;
			since = rc_now_ms();
		}
		if (rc_wait(since + NO_PONG_MS) == ETIMEDOUT && l->acked == acked) {
			rc_info("the peer answers no pings: sending on without flow control");
			l->fc_off = 1;
		}
	}
	int rc;
	while ((rc = rws_conn_send(l->c, data, len, binary ? RWS_SEND_BINARY : RWS_SEND_TEXT)) ==
	       -ENOBUFS) {
		/* the reactor's inbox is full (only without the window) */
		pthread_mutex_unlock(&rc_lock);
		usleep(2000);
		pthread_mutex_lock(&rc_lock);
		if (l->closed) {
			pthread_mutex_unlock(&rc_lock);
			return -EPIPE;
		}
	}
	if (rc < 0) {
		pthread_mutex_unlock(&rc_lock);
		rc_err("cannot send: %s", rws_strerror(rc));
		return rc;
	}
	uint64_t before = l->sent;
	l->sent += len + MSG_COST;
	if (!l->fc_off && before / PING_EVERY != l->sent / PING_EVERY) {
		char p[32];
		int n = snprintf(p, sizeof(p), PING_TAG "%u", l->ping_seq);
		l->ping_at[l->ping_seq % 16] = l->sent;
		l->ping_seq++;
		rws_conn_ping(l->c, p, (size_t)n);
	}
	pthread_mutex_unlock(&rc_lock);
	return 0;
}

static void *stdin_main(void *arg)
{
	struct rc_link *l = arg;
	char *buf = malloc(CHUNK);
	char *line = NULL;
	size_t ll = 0, cap = 0;
	int stop = !buf;
	while (!stop) {
		ssize_t n = read(0, buf, CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = { 0, POLLIN, 0 };
				poll(&p, 1, -1);
				continue;
			}
			rc_err("cannot read stdin: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (opt.binary) {
			stop = rc_link_send(l, buf, (size_t)n, 1) < 0;
			continue;
		}
		char *p = buf, *end = buf + n;
		while (p < end && !stop) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t k = (size_t)((nl ? nl : end) - p);
			if (nl && ll == 0) {	/* a whole line in the buffer */
				stop = rc_link_send(l, p, k, 0) < 0;
			} else {
				if (ll + k > cap) {
					size_t nc = cap ? cap : 4096;
					while (nc < ll + k)
						nc *= 2;
					char *m = realloc(line, nc);
					if (!m) {
						rc_err("out of memory for a line of %zu bytes", ll + k);
						stop = 1;
						break;
					}
					line = m;
					cap = nc;
				}
				memcpy(line + ll, p, k);
				ll += k;
				if (nl) {
					stop = rc_link_send(l, line, ll, 0) < 0;
					ll = 0;
				}
			}
			p += k + (nl != NULL);
		}
	}
	if (!stop && ll)	/* the last line had no newline */
		rc_link_send(l, line, ll, 0);
	free(line);
	free(buf);
	pthread_mutex_lock(&rc_lock);
	l->stdin_eof = 1;
	pthread_cond_broadcast(&rc_cond);
	pthread_mutex_unlock(&rc_lock);
	return NULL;
}

void rc_link_start_stdin(struct rc_link *l)
{
	pthread_t t;
	if (pthread_create(&t, NULL, stdin_main, l) != 0) {
		rc_err("cannot start a thread");
		pthread_mutex_lock(&rc_lock);
		l->stdin_eof = 1;
		pthread_mutex_unlock(&rc_lock);
		return;
	}
	pthread_detach(t);
}

int rc_link_run(struct rc_link *l, const char *who)
{
	pthread_mutex_lock(&rc_lock);
	long long deadline = 0, eof_ms = 0;
	while (!l->closed) {
		if (!l->we_closed && l->stdin_eof && !rc_signals && !l->stdout_broken &&
		    opt.wait_ms) {
			/* --wait: answers may still be coming */
			if (!eof_ms)
				eof_ms = rc_now_ms();
			long long quiet = l->last_rx_ms > eof_ms ? l->last_rx_ms : eof_ms;
			if (rc_now_ms() < quiet + opt.wait_ms) {
				rc_wait(quiet + opt.wait_ms);
				continue;
			}
		}
		if (!l->we_closed && (l->stdin_eof || rc_signals || l->stdout_broken)) {
			l->we_closed = 1;
			rws_conn_close(l->c, l->stdout_broken ? 1001 : 1000, NULL);
			if (!opt.close_wait_ms) {
				pthread_mutex_unlock(&rc_lock);
				return RC_OK;
			}
			/* the library's close timeout is the same: this is the
			 * backstop */
			deadline = rc_now_ms() + opt.close_wait_ms + 1000;
		}
		if (rc_wait(deadline) == ETIMEDOUT)
			break;
	}
	if (!l->closed || (l->we_closed && l->close_code == 1006)) {
		pthread_mutex_unlock(&rc_lock);
		rc_err("%s did not answer the close within %.1f s", who,
		       opt.close_wait_ms / 1000.0);
		return RC_CLOSED;
	}
	int code = l->close_code;
	char reason[sizeof(l->close_reason)];
	memcpy(reason, l->close_reason, sizeof(reason));
	int broken = l->stdout_broken;
	pthread_mutex_unlock(&rc_lock);
	if (broken)
		return RC_OK;
	return rc_close_status(code, reason, who);
}
