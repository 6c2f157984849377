/*
 * interop_test: ringwsd against peers no one here wrote, Node.js ws and
 * Python websockets, through the scenario drivers peer_ws.mjs and
 * peer_py.py (see their headers for the scenarios and parameters). Each
 * test runs the same scenario with both peers: interop_node.NAME and
 * interop_py.NAME.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

/* Defines NAME for both peers; the body sees the peer as k. */
#define BOTH(name)                                                  \
	static void name(enum peer_kind k);                         \
	Test(interop_node, name) { name(PEER_NODE); }               \
	Test(interop_py, name) { name(PEER_PY); }                   \
	static void name(enum peer_kind k)

TestSuite(interop_node, .fini = harness_teardown, .timeout = 60);
TestSuite(interop_py, .fini = harness_teardown, .timeout = 60);

static struct daemon *echo_daemon(void)
{
	return daemon_start("--route", route("/", "echo"), "--max-payload", "67108864", NULL);
}

/* text and binary of 0, 125, 126, 64 KiB - 1, 64 KiB, 1 MiB and 16 MiB,
 * verified byte for byte */
BOTH(echo_sizes)
{
	peer_expect_ok(echo_daemon(), k, "echo", "/", NULL);
}

/* messages sent in fragments, text cut inside characters */
BOTH(fragmented_message)
{
	peer_expect_ok(echo_daemon(), k, "fragments", "/", NULL);
}

/* pings of 0, 6 and 125 bytes answered by pongs with the same payload */
BOTH(ping_pong)
{
	peer_expect_ok(echo_daemon(), k, "ping", "/", NULL);
}

/* the client closes with 1000, 3000, 4999 and a reason; the same code comes
 * back */
BOTH(close_codes)
{
	struct daemon *d = echo_daemon();
	peer_expect_ok(d, k, "close", "/", "code=1000", "reason=normal", NULL);
	peer_expect_ok(d, k, "close", "/", "code=3000", "reason=registered", NULL);
	peer_expect_ok(d, k, "close", "/", "code=4999", "reason=private use \xc3\xa9", NULL);
}

/* SIGTERM: the server closes every connection with 1001, then exits 0 */
BOTH(server_close)
{
	struct daemon *d = echo_daemon();
	struct peer *p = peer_start(k, "wait_close", daemon_url(d, "/"), "n=5", "expect=1001", NULL);
	cr_assert_eq(peer_read_line(p, 20000), 0, "peer never opened its connections: %s\n%s",
		     p->line, p->err);
	int st = daemon_stop(d);
	int rc = peer_finish(p, 20000);
	cr_assert_eq(rc, 0, "after SIGTERM: %s\n%s\nringwsd stderr:\n%s", p->line, p->err,
		     daemon_log(d));
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "ringwsd wait status %d after SIGTERM", st);
}

/* a text frame with invalid UTF-8 (a surrogate) closes with 1007 */
BOTH(invalid_utf8)
{
	peer_expect_ok(echo_daemon(), k, "invalid_utf8", "/", NULL);
}

/* --max-payload 1000: 1000 bytes echo, 1001 bytes close with 1009, in one
 * frame or in fragments */
BOTH(oversize)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--max-payload", "1000", NULL);
	peer_expect_ok(d, k, "oversize", "/", "first=1000", "size=1001", NULL);
	peer_expect_ok(d, k, "oversize", "/", "size=1500", "fragments=3", NULL);
}

static struct daemon *auth_daemon(void)
{
	return daemon_start("--route", route("/auth", "auth"), "--arg", "/auth=s3cret", NULL);
}

/* auth.so picks chat.v2 if offered, else the first offer, and prefixes its
 * echoes with it */
BOTH(subprotocol)
{
	struct daemon *d = auth_daemon();
	peer_expect_ok(d, k, "subprotocol", "/auth?token=s3cret", "protocols=x,chat.v2",
		       "expect=chat.v2", "send=hello", "reply=chat.v2:hello", NULL);
	peer_expect_ok(d, k, "subprotocol", "/auth?token=s3cret", "protocols=x,y", "expect=x",
		       "send=hello", "reply=x:hello", NULL);
}

/* a bad or missing token: HTTP 401 "unauthorized", no upgrade */
BOTH(auth_rejected)
{
	struct daemon *d = auth_daemon();
	const char *body = k == PEER_NODE ? "body=unauthorized" : NULL;
	peer_expect_ok(d, k, "reject", "/auth?token=wrong", "status=401", body, NULL);
	peer_expect_ok(d, k, "reject", "/auth", "status=401", body, NULL);
}

/* an upgrade to a path with no route: 404 */
BOTH(unknown_path)
{
	peer_expect_ok(echo_daemon(), k, "reject", "/nowhere", "status=404", NULL);
}

/* chat.so on two reactors: one sender, every other client receives its
 * message exactly once; three senders among eight clients; one sender and
 * 100 receivers */
BOTH(broadcast)
{
	struct daemon *d = daemon_start("--route", route("/chat", "chat"), "--threads", "2", NULL);
	peer_expect_ok(d, k, "broadcast", "/chat?token=anything", "n=6", NULL);
	peer_expect_ok(d, k, "broadcast", "/chat?token=anything", "n=8", "senders=3", NULL);
	peer_expect_ok(d, k, "broadcast", "/chat?token=anything", "n=101", NULL);
}

/* chat.so wants a token: none, or an empty one, is answered 401
 * "unauthorized"; with an argument string only that token gets in */
BOTH(chat_token)
{
	const char *body = k == PEER_NODE ? "body=unauthorized" : NULL;
	struct daemon *d = daemon_start("--route", route("/chat", "chat"), NULL);
	peer_expect_ok(d, k, "reject", "/chat", "status=401", body, NULL);
	peer_expect_ok(d, k, "reject", "/chat?room=1", "status=401", body, NULL);
	peer_expect_ok(d, k, "reject", "/chat?token=", "status=401", body, NULL);
	peer_expect_ok(d, k, "broadcast", "/chat?room=1&token=x", "n=2", NULL);

	d = daemon_start("--route", route("/chat", "chat"), "--arg", "/chat=s3cret", NULL);
	peer_expect_ok(d, k, "reject", "/chat?token=wrong", "status=401", body, NULL);
	peer_expect_ok(d, k, "reject", "/chat?token=s3cre", "status=401", body, NULL);
	peer_expect_ok(d, k, "broadcast", "/chat?token=s3cret", "n=2", NULL);
}

/* 200 concurrent connections on two reactors, each echoing its own message */
BOTH(many_connections)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--threads", "2", NULL);
	peer_expect_ok(d, k, "many", "/", "n=200", NULL);
}
