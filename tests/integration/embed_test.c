/*
 * embed_test: examples/embed/embed.c, the program that runs the server
 * through ringws.h without ringwsd. Node ws and Python websockets echo
 * through its /echo route and broadcast through /broadcast; SIGTERM stops
 * it with close 1001 to its clients and exit 0.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/wait.h>

#include "harness.h"

TestSuite(embed, .fini = harness_teardown, .timeout = 60);

static struct daemon *embed_start(void)
{
	const char *argv[] = { harness_build("embed"), "0", NULL };
	return program_start(argv, "embed: listening on 127.0.0.1:");
}

static void expect_exit0(struct daemon *d, int st)
{
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "embed after SIGTERM: wait status %d (exit %d, signal %d); stderr:\n%s", st,
		  WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0,
		  daemon_log(d));
}

/* text and binary messages up to 16 MiB come back byte for byte; SIGTERM
 * then stops it with exit 0 */
Test(embed, echo_then_sigterm)
{
	struct daemon *d = embed_start();
	peer_expect_ok(d, PEER_NODE, "echo", "/echo", NULL);
	peer_expect_ok(d, PEER_PY, "echo", "/echo", NULL);
	expect_exit0(d, daemon_stop(d));
}

/* /broadcast: every other client gets each message exactly once */
Test(embed, broadcast)
{
	struct daemon *d = embed_start();
	peer_expect_ok(d, PEER_NODE, "broadcast", "/broadcast", "n=6", "senders=2", NULL);
	expect_exit0(d, daemon_stop(d));
}

/* SIGTERM with clients connected: each gets close 1001, then exit 0 */
Test(embed, sigterm_closes_clients)
{
	struct daemon *d = embed_start();
	struct peer *p = peer_start(PEER_NODE, "wait_close", daemon_url(d, "/echo"), "n=5",
				    "expect=1001", NULL);
	cr_assert_eq(peer_read_line(p, 20000), 0, "clients never connected: %s\n%s", p->line,
		     p->err);
	int st = daemon_stop(d);
	int rc = peer_finish(p, 15000);
	cr_assert_eq(rc, 0, "clients after SIGTERM: %s\n%s\nembed stderr:\n%s", p->line, p->err,
		     daemon_log(d));
	expect_exit0(d, st);
}

/* a path it does not route: 404 */
Test(embed, unknown_path)
{
	struct daemon *d = embed_start();
	peer_expect_ok(d, PEER_NODE, "reject", "/", "status=404", NULL);
}
