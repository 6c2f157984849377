/*
 * runtime_test: ringwsd's runtime when peers misbehave at the TCP level:
 * a slow reader that lets echoes pile up (the send queue bound,
 * --max-buffered, and its 1008 close), and peers that vanish with a reset
 * in the middle of a send or of a receive. Through all of it the daemon
 * keeps serving other connections, stays within its memory bound, and
 * still exits 0 on SIGTERM.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "wsraw.h"

TestSuite(runtime, .fini = harness_teardown, .timeout = 60);

/* Resident memory of a process in KiB, from /proc. */
static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	cr_assert(f, "ringwsd is gone");
	long kib = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void expect_alive(struct daemon *d)
{
	cr_assert_eq(daemon_wait_exit(d, 0), -1, "ringwsd exited (wait status %d); stderr:\n%s",
		     d->status, daemon_log(d));
}

static void expect_clean_exit(struct daemon *d)
{
	int st = daemon_stop(d);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "ringwsd on SIGTERM: wait status %d; stderr:\n%s", st, daemon_log(d));
}

/* Closes fd with a TCP reset instead of a FIN. */
static void reset(int fd)
{
	struct linger l = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* A client sends 64 MiB in 256 KiB messages and reads nothing. The server
 * must not buffer the echoes past --max-buffered 1M: another client is
 * served meanwhile, ringwsd's memory stays bounded, and the slow reader,
 * once it reads, finds intact echoes and then close 1008. */
Test(runtime, slow_reader)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--max-buffered", "1M", NULL);
	int other = ws_open_with(d->port, "/", "");
	echo_one(other, OP_TEXT, "before", 6);
	long rss0 = rss_kib(d->pid);

	int slow = ws_open_with(d->port, "/", "");
	int small = 16384;
	setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	tcp_set_timeout(slow, 2000);
	size_t n = 256 * 1024;
	uint8_t *p = random_bytes(n, 5);
	struct wire w = { 0 };
	put_frame(&w, FIN | OP_BINARY, p, n);
	int sent = 0;
	for (; sent < 256; sent++)
		if (tcp_send(slow, w.p, w.len) < 0)
			break;	/* the server stopped reading: fine */
	wire_free(&w);

	echo_one(other, OP_TEXT, "while stalled", 13);
	long grown = rss_kib(d->pid) - rss0;
	cr_assert(grown < 48 * 1024, "ringwsd grew by %ld KiB holding echoes for a slow reader "
		  "(--max-buffered 1M)", grown);

	/* now read: whole echoes, then close 1008 */
	tcp_set_timeout(slow, READ_MS);
	int echoes = 0;
	for (;;) {
		struct frame f;
		int rc = next_frame(slow, &f);
		cr_assert(rc == 0 && (f.op == OP_BINARY || f.op == OP_CLOSE),
			  "slow reader after %d echoes (of %d messages sent): got %s", echoes, sent,
			  frame_describe(rc, &f));
		if (f.op == OP_CLOSE) {
			cr_assert_eq(frame_close_code(&f), 1008, "slow reader: got %s after %d echoes",
				     frame_describe(rc, &f), echoes);
			frame_free(&f);
			break;
		}
		cr_assert(f.fin && f.len == n && memcmp(f.data, p, n) == 0,
			  "slow reader: echo %d is not the message sent", echoes);
		frame_free(&f);
		echoes++;
	}
	cr_log_info("slow reader: %d messages sent, %d echoes, then 1008; ringwsd grew %ld KiB",
		    sent, echoes, grown);
	cr_assert_lt(echoes, sent, "every message was echoed: the bound never applied");
	send_close(slow, 1008, NULL);
	cr_assert_eq(tcp_expect_eof(slow, EOF_MS, NULL), 0, "slow reader: TCP not closed after 1008");
	close(slow);
	free(p);

	echo_one(other, OP_TEXT, "after", 5);
	close_with(other, 1000);
	expect_clean_exit(d);
}

/* Peers reset the connection while the server sends them a 16 MiB echo,
 * and while it receives a 1 MiB frame; the daemon serves on and exits 0 */
Test(runtime, reset_mid_send_and_mid_receive)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--threads", "2",
					"--max-payload", "64M", NULL);
	size_t big = 16 << 20;
	uint8_t *p = random_bytes(big, 11);
	struct wire w = { 0 };
	put_frame(&w, FIN | OP_BINARY, p, big);
	for (int i = 0; i < 4; i++) {
		/* mid-send: the whole message in, a little of the echo read */
		int fd = ws_open_with(d->port, "/", "");
		tcp_set_timeout(fd, 20000);
		cr_assert_eq(tcp_send(fd, w.p, w.len), 0);
		uint8_t some[4096];
		cr_assert_eq(tcp_read(fd, some, sizeof(some)), 0, "no echo began");
		reset(fd);

		/* mid-receive: half a 1 MiB frame, then the reset */
		fd = ws_open_with(d->port, "/", "");
		struct wire half = { 0 };
		put_frame_as(&half, FIN | OP_BINARY, p, 512 * 1024, 1 << 20, 0);
		cr_assert_eq(tcp_send(fd, half.p, half.len), 0);
		wire_free(&half);
		reset(fd);

		int ok = ws_open_with(d->port, "/", "");
		echo_one(ok, OP_TEXT, "still serving", 13);
		close_with(ok, 1000);
		expect_alive(d);
	}
	wire_free(&w);
	free(p);
	expect_clean_exit(d);
}
