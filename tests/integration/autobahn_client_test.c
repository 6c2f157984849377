/*
 * autobahn_client_test: the Autobahn-equivalent suite for WebSocket
 * CLIENTS. build/integration/fuzzserver (tests/integration/fuzzserver/)
 * plays Autobahn's fuzzingserver: a client agent asks it /getCaseCount,
 * runs every /runCase?case=I&agent=NAME echoing each message, then asks
 * /updateReports; the fuzzserver sends each case's frames as a server and
 * grades what the client does with Autobahn's rules, into a JSON-lines
 * report. Each test here runs one case group (1 framing, 2 ping/pong, 3
 * reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close handling, 9
 * limits/performance, 10 auto-fragmentation) against one agent, and fails
 * listing every FAILED (or never run) case with its reason; NON-STRICT and
 * INFORMATIONAL pass, as in Autobahn, and are printed.
 *
 * Agents: build/ringcat --autobahn http://127.0.0.1:PORT --agent ringcat
 * (the project's client; a missing binary fails, it is not skipped); Node
 * ws (autobahn_agent.mjs) and Python websockets (autobahn_agent.py), real
 * independent clients that prove the fuzzserver right. The fuzzserver_self
 * tests drive it with a raw client of this file that breaks one rule at a
 * time (no mask, a fixed masking key, no answer to a close, a wrong close
 * code, a bad handshake, ignoring protocol errors) and check each is
 * caught, so a client passing here is not passing because the fuzzserver
 * is lenient.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "wsraw.h"

/* --- the fuzzserver ---------------------------------------------------------- */

static const char *report_path(const char *name)
{
	const char *dir = harness_build("integration/autobahn-client");
	mkdir(dir, 0755);
	char *p;
	cr_assert(asprintf(&p, "%s/%s.jsonl", dir, name) >= 0);
	unlink(p);
	return p;
}

/* Starts the fuzzserver with the cases matching pattern; its stdout (the
 * listening line, one line per case) goes to its log. */
static struct daemon *fuzzserver_start(const char *pattern, const char *report)
{
	const char *bin = harness_build("integration/fuzzserver");
	cr_assert(access(bin, X_OK) == 0, "%s missing: build it with make integration", bin);
	const char *argv[] = { "/bin/sh", "-c", "exec \"$0\" \"$@\" 1>&2", bin, "--cases", pattern,
			       "--report", report, NULL };
	return program_start(argv, "listening on 127.0.0.1:");
}

/* the last n bytes of s */
static const char *tail(const char *s, size_t n)
{
	size_t l = strlen(s);
	return l > n ? s + l - n : s;
}

/* --- the report ---------------------------------------------------------------- */

struct verdict {
	char id[16], verdict[16], reason[1200];
};

/* The value of a string field of a report line, copied into out. */
static void field(const char *line, const char *name, char *out, size_t cap)
{
	char key[32];
	snprintf(key, sizeof(key), "\"%s\":\"", name);
	const char *v = strstr(line, key);
	out[0] = 0;
	if (!v)
		return;
	v += strlen(key);
	size_t o = 0;
	for (; *v && *v != '"' && o + 1 < cap; v++) {
		if (*v == '\\' && v[1])
			v++;
		out[o++] = *v;
	}
	out[o] = 0;
}

/* Reads the report's lines for agent: how many (up to cap). */
static size_t read_report(const char *path, const char *agent, struct verdict *out, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char *line = NULL, a[128];
	size_t lcap = 0, n = 0;
	while (getline(&line, &lcap, f) > 0 && n < cap) {
		field(line, "agent", a, sizeof(a));
		if (strcmp(a, agent))
			continue;
		field(line, "case", out[n].id, sizeof(out[n].id));
		field(line, "verdict", out[n].verdict, sizeof(out[n].verdict));
		field(line, "reason", out[n].reason, sizeof(out[n].reason));
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

static const struct verdict *find(const struct verdict *v, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].id, id))
			return &v[i];
	return NULL;
}

/* --- agents ------------------------------------------------------------------------ */

struct agent_run {
	pid_t pid;
	int status;	/* exit code, -1 if killed or timed out */
	int timed_out;
	size_t len;
	char out[24 * 1024];	/* the last of its output */
};

static pid_t agent_pids[8];
static int nagent_pids;

static void agents_teardown(void)
{
	for (int i = 0; i < nagent_pids; i++)
		if (agent_pids[i] > 0) {
			kill(agent_pids[i], SIGKILL);
			waitpid(agent_pids[i], NULL, 0);
		}
	nagent_pids = 0;
	harness_teardown();
}

/* Runs argv to its end (killing it after timeout_ms), keeping the tail of
 * its stdout and stderr. */
static void agent_run(const char *const *argv, int timeout_ms, struct agent_run *r)
{
	memset(r, 0, sizeof(*r));
	int p[2];
	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	setenv("RWS_PEER_DIR", harness_build("integration"), 1);
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int null = open("/dev/null", O_RDONLY);
		dup2(null, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	r->pid = pid;
	if (nagent_pids < 8)
		agent_pids[nagent_pids++] = pid;
	long long end = now_ms() + timeout_ms;
	for (;;) {
		long long left = end - now_ms();
		if (left <= 0 && !r->timed_out) {
			kill(pid, SIGKILL);
			r->timed_out = 1;
		}
		struct pollfd pf = { p[0], POLLIN, 0 };
		if (poll(&pf, 1, left > 0 ? (int)left : 2000) <= 0) {
			if (r->timed_out)
				break;
			continue;
		}
		char buf[4096];
		ssize_t n = read(p[0], buf, sizeof(buf));
		if (n <= 0)
			break;
		if (r->len + (size_t)n >= sizeof(r->out)) {
			size_t drop = r->len + (size_t)n - sizeof(r->out) / 2;
			drop = drop > r->len ? r->len : drop;
			memmove(r->out, r->out + drop, r->len - drop);
			r->len -= drop;
		}
		size_t take = (size_t)n < sizeof(r->out) - 1 - r->len ? (size_t)n :
			      sizeof(r->out) - 1 - r->len;
		memcpy(r->out + r->len, buf, take);
		r->len += take;
		r->out[r->len] = 0;
	}
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	for (int i = 0; i < nagent_pids; i++)
		if (agent_pids[i] == pid)
			agent_pids[i] = 0;
	r->status = !r->timed_out && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

enum agent_kind { RINGCAT, NODE_WS, PY_WEBSOCKETS };

static const char *const agent_names[] = { "ringcat", "node-ws", "python-websockets" };

/* Runs case group g against agent k within budget_s and asserts that no
 * case FAILED or went missing. */
static void run_group(enum agent_kind k, int g, int budget_s)
{
	const char *name = agent_names[k];
	const char *ringcat = harness_build("ringcat");
	if (k == RINGCAT)
		cr_assert(access(ringcat, X_OK) == 0,
			  "%s missing: ringcat (tools/ringcat*) is not built, so the client suite "
			  "cannot run against it", ringcat);
	char pattern[16], rname[64];
	snprintf(pattern, sizeof(pattern), "%d.*", g);
	snprintf(rname, sizeof(rname), "%s-%d", name, g);
	const char *report = report_path(rname);
	struct daemon *fz = fuzzserver_start(pattern, report);

	char url[64];
	struct agent_run r;
	if (k == RINGCAT) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%d", fz->port);
		const char *argv[] = { ringcat, "--autobahn", url, "--agent", name, NULL };
		agent_run(argv, budget_s * 1000, &r);
	} else if (k == NODE_WS) {
		snprintf(url, sizeof(url), "ws://127.0.0.1:%d", fz->port);
		const char *argv[] = { "node", harness_src("tests/integration/autobahn_agent.mjs"), url,
				       name, NULL };
		agent_run(argv, budget_s * 1000, &r);
	} else {
		snprintf(url, sizeof(url), "ws://127.0.0.1:%d", fz->port);
		const char *argv[] = { "/usr/bin/python3", harness_src("tests/integration/autobahn_agent.py"),
				       url, name, NULL };
		agent_run(argv, budget_s * 1000, &r);
	}
	daemon_stop(fz);

	static struct verdict v[400];
	size_t n = read_report(report, name, v, 400);
	size_t ok = 0, ns = 0, info = 0, bad = 0;
	char *list = NULL, *nsl = NULL;
	size_t ll = 0, nl = 0;
	FILE *lf = open_memstream(&list, &ll), *nf = open_memstream(&nsl, &nl);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i].verdict, "OK")) {
			ok++;
		} else if (!strcmp(v[i].verdict, "INFORMATIONAL")) {
			info++;
		} else if (!strcmp(v[i].verdict, "NON-STRICT")) {
			ns++;
			fprintf(nf, " %s", v[i].id);
		} else {
			bad++;
			if (bad <= 40)
				fprintf(lf, "  %s %s: %s\n", v[i].id, v[i].verdict, v[i].reason);
		}
	}
	if (bad > 40)
		fprintf(lf, "  ... and %zu more (report: %s)\n", bad - 40, report);
	fclose(lf);
	fclose(nf);
	cr_log_info("%s, group %d: %zu cases: %zu OK, %zu NON-STRICT%s%s, %zu INFORMATIONAL, "
		    "%zu FAILED or missing (report: %s)", name, g, n, ok, ns, ns ? ":" : "",
		    nsl, info, bad, report);
	cr_assert(n > 0, "%s, group %d: the fuzzserver wrote no report for the agent (%s); the "
		  "agent (exit %d%s) said:\n%s\nfuzzserver log:\n%s", name, g, report, r.status,
		  r.timed_out ? ", killed after the time limit" : "", tail(r.out, 4000),
		  tail(daemon_log(fz), 3000));
	cr_assert(bad == 0, "%s, group %d: %zu of %zu cases failed (or were never run):\n%s"
		  "agent (exit %d%s), last output:\n%s", name, g, bad, n, list, r.status,
		  r.timed_out ? ", killed after the time limit" : "", tail(r.out, 2000));
	cr_assert(r.status == 0, "%s, group %d: every case passed but the agent exited %d%s:\n%s",
		  name, g, r.status, r.timed_out ? " (killed after the time limit)" : "",
		  tail(r.out, 3000));
	free(list);
	free(nsl);
}

/* One test per case group and agent; budgets bound a client that hangs
 * (each case ends within 10 s, 9.x ones within their wait plus 10 s). */
#define GROUPS(suite, kind) \
	TestSuite(suite, .fini = agents_teardown, .timeout = 240); \
	Test(suite, group_1) { run_group(kind, 1, 90); } \
	Test(suite, group_2) { run_group(kind, 2, 90); } \
	Test(suite, group_3) { run_group(kind, 3, 90); } \
	Test(suite, group_4) { run_group(kind, 4, 90); } \
	Test(suite, group_5) { run_group(kind, 5, 90); } \
	Test(suite, group_6) { run_group(kind, 6, 180); } \
	Test(suite, group_7) { run_group(kind, 7, 90); } \
	Test(suite, group_9) { run_group(kind, 9, 180); } \
	Test(suite, group_10) { run_group(kind, 10, 60); }

GROUPS(client_ringcat, RINGCAT)
GROUPS(client_node_ws, NODE_WS)
GROUPS(client_py_websockets, PY_WEBSOCKETS)

/* --- the fuzzserver itself, against a client that breaks rules ------------------- */

/* What the raw client does wrong. */
struct raw {
	int unmasked;		/* sends frames without a mask */
	int fixed_key;		/* masks every frame with the same key */
	int no_close_reply;	/* never answers a close frame */
	int close_code;		/* answers a close with this code instead */
	int fail_code;		/* on frames it cannot take, fails with this code (0: ignores them) */
	int bad_handshake;	/* sends no Sec-WebSocket-Key */
};

static uint32_t raw_rand(void)
{
	static uint64_t s;
	if (!s)
		s = (uint64_t)now_ms() * 2654435761u ^ (uint64_t)getpid() << 32 ^ 0x9e3779b97f4a7c15ull;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (uint32_t)(s >> 16);
}

static void raw_send(int fd, const struct raw *cfg, uint8_t b0, const uint8_t *p, size_t n)
{
	uint8_t *buf = malloc(n + 14);
	cr_assert(buf);
	size_t hl = 2;
	buf[0] = b0;
	buf[1] = cfg->unmasked ? 0 : 0x80;
	if (n < 126) {
		buf[1] |= (uint8_t)n;
	} else if (n < 65536) {
		buf[1] |= 126;
		buf[2] = (uint8_t)(n >> 8);
		buf[3] = (uint8_t)n;
		hl = 4;
	} else {
		buf[1] |= 127;
		for (int i = 0; i < 8; i++)
			buf[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	uint8_t key[4] = { 0 };
	if (!cfg->unmasked) {
		uint32_t k = cfg->fixed_key ? 0x5eed1234u : raw_rand();
		memcpy(key, &k, 4);
		memcpy(buf + hl, key, 4);
		hl += 4;
	}
	for (size_t i = 0; i < n; i++)
		buf[hl + i] = p[i] ^ key[i & 3];
	(void)tcp_send(fd, buf, hl + n);
	free(buf);
}

/* One server frame, without judging it: 0, or a tcp_read error. */
static int raw_read(int fd, uint8_t *b0, uint8_t **p, size_t *n)
{
	uint8_t h[8];
	int rc = tcp_read(fd, h, 2);
	if (rc)
		return rc;
	*b0 = h[0];
	uint64_t len = h[1] & 127;
	if (len >= 126) {
		size_t k = len == 126 ? 2 : 8;
		if ((rc = tcp_read(fd, h, k)))
			return rc;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | h[i];
	}
	*n = (size_t)len;
	*p = malloc(*n + 1);
	cr_assert(*p);
	if (*n && (rc = tcp_read(fd, *p, *n))) {
		free(*p);
		return rc;
	}
	return 0;
}

/* One connection: echoes messages, answers pings and (as cfg says) the
 * close, until TCP closes. */
static void raw_session(int port, const char *path, const struct raw *cfg)
{
	int fd = tcp_connect(port, 5000);
	char req[1024], head[4096];
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\n%sSec-WebSocket-Version: 13\r\n\r\n", path, port,
		 cfg->bad_handshake ? "" : "Sec-WebSocket-Key: " KEY "\r\n");
	cr_assert_eq(tcp_send(fd, req, strlen(req)), 0);
	int st = http_read_head(fd, head, sizeof(head));
	if (st != 101) {
		close(fd);
		return;
	}
	uint8_t *msg = NULL;
	size_t mlen = 0;
	int mop = 0;
	for (;;) {
		uint8_t b0, *p;
		size_t n;
		if (raw_read(fd, &b0, &p, &n))
			break;
		int op = b0 & 15, fin = b0 >> 7, bad = (b0 & 0x70) || (op > 2 && op < 8) || op > 10;
		if (bad && cfg->fail_code) {
			uint8_t c[2] = { (uint8_t)(cfg->fail_code >> 8), (uint8_t)cfg->fail_code };
			raw_send(fd, cfg, FIN | OP_CLOSE, c, 2);
			free(p);
			tcp_expect_eof(fd, 3000, NULL);
			break;
		}
		if (op == OP_PING) {
			raw_send(fd, cfg, FIN | OP_PONG, p, n);
		} else if (op == OP_CLOSE) {
			int code = n >= 2 ? p[0] << 8 | p[1] : -1;
			free(p);
			if (cfg->no_close_reply)
				continue;
			if (cfg->close_code)
				code = cfg->close_code;
			uint8_t c[2] = { (uint8_t)(code >> 8), (uint8_t)code };
			raw_send(fd, cfg, FIN | OP_CLOSE, c, code >= 0 ? 2 : 0);
			tcp_expect_eof(fd, 3000, NULL);
			break;
		} else if (op <= 2) {
			/* messages, loosely: whatever continues whatever */
			if (op)
				mop = op, mlen = 0;
			msg = realloc(msg, mlen + n + 1);
			cr_assert(msg);
			memcpy(msg + mlen, p, n);
			mlen += n;
			if (fin && mop)
				raw_send(fd, cfg, (uint8_t)(FIN | mop), msg, mlen);
		}
		free(p);
	}
	free(msg);
	close(fd);
}

/* Runs the cases matching pattern (ncases of them) with the raw client;
 * returns the report's lines. */
static size_t raw_run(const char *pattern, int ncases, const struct raw *cfg, const char *name,
		      struct verdict *v, size_t cap, struct daemon **fzp)
{
	const char *report = report_path(name);
	struct daemon *fz = fuzzserver_start(pattern, report);
	char path[128];
	for (int i = 1; i <= ncases; i++) {
		snprintf(path, sizeof(path), "/runCase?case=%d&agent=%s", i, name);
		raw_session(fz->port, path, cfg);
	}
	snprintf(path, sizeof(path), "/updateReports?agent=%s", name);
	struct raw good = { 0 };
	raw_session(fz->port, path, &good);
	daemon_stop(fz);
	*fzp = fz;
	return read_report(report, name, v, cap);
}

static void expect_verdict(const struct verdict *v, size_t n, const char *id, const char *verdict,
			   const char *why, struct daemon *fz)
{
	const struct verdict *x = find(v, n, id);
	cr_assert(x, "case %s missing from the report; fuzzserver log:\n%s", id,
		  tail(daemon_log(fz), 3000));
	cr_assert(!strcmp(x->verdict, verdict), "case %s: wanted %s, got %s: %s", id, verdict,
		  x->verdict, x->reason);
	cr_assert(!why || strstr(x->reason, why), "case %s (%s): wanted a reason with \"%s\", got: %s",
		  id, x->verdict, why, x->reason);
}

TestSuite(fuzzserver_self, .fini = agents_teardown, .timeout = 60);

/* the raw client, behaving, passes what it handles */
Test(fuzzserver_self, raw_client_passes)
{
	struct raw cfg = { .fail_code = 1002 };
	struct verdict v[8];
	struct daemon *fz;
	size_t n = raw_run("1.1.2,1.2.6,2.2,3.1,7.7.10", 5, &cfg, "raw-good", v, 8, &fz);
	cr_assert_eq(n, 5);
	for (size_t i = 0; i < n; i++)
		cr_assert(!strcmp(v[i].verdict, "OK"), "case %s: %s: %s", v[i].id, v[i].verdict,
			  v[i].reason);
}

/* a client frame without a mask fails the case */
Test(fuzzserver_self, unmasked_frames)
{
	struct raw cfg = { .unmasked = 1 };
	struct verdict v[8];
	struct daemon *fz;
	size_t n = raw_run("1.1.2,2.2", 2, &cfg, "raw-unmasked", v, 8, &fz);
	cr_assert_eq(n, 2);
	expect_verdict(v, n, "1.1.2", "FAILED", "without a mask", fz);
	expect_verdict(v, n, "2.2", "FAILED", "without a mask", fz);
}

/* the same masking key twice in a row fails the case */
Test(fuzzserver_self, fixed_masking_key)
{
	struct raw cfg = { .fixed_key = 1 };
	struct verdict v[8];
	struct daemon *fz;
	size_t n = raw_run("2.10", 1, &cfg, "raw-fixed-key", v, 8, &fz);
	cr_assert_eq(n, 1);
	expect_verdict(v, n, "2.10", "FAILED", "keys must be fresh", fz);
}

/* a client that never answers the close (TCP left open) fails, within
 * the close timeout */
Test(fuzzserver_self, close_not_answered)
{
	struct raw cfg = { .no_close_reply = 1 };
	struct verdict v[8];
	struct daemon *fz;
	long long t0 = now_ms();
	size_t n = raw_run("1.1.1,7.3.3", 2, &cfg, "raw-no-close", v, 8, &fz);
	cr_assert_eq(n, 2);
	expect_verdict(v, n, "1.1.1", "FAILED", "neither answered the close", fz);
	expect_verdict(v, n, "7.3.3", "FAILED", "neither answered the close", fz);
	cr_assert(now_ms() - t0 < 20000, "two hanging cases took %lld ms", now_ms() - t0);
}

/* answering close 3000 with 1001 fails 7.7.10 (7.x makes a wrong code a
 * failure); failing 2.5 with 1007 instead of 1002 is only non-strict */
Test(fuzzserver_self, wrong_close_codes)
{
	struct raw cfg = { .close_code = 1001 };
	struct verdict v[8];
	struct daemon *fz;
	size_t n = raw_run("7.7.10", 1, &cfg, "raw-wrong-code", v, 8, &fz);
	expect_verdict(v, n, "7.7.10", "FAILED", "close code 1001", fz);
	struct raw cfg2 = { .fail_code = 1007 };
	n = raw_run("3.1", 1, &cfg2, "raw-wrong-fail-code", v, 8, &fz);
	expect_verdict(v, n, "3.1", "NON-STRICT", "close code 1007", fz);
}

/* a client that takes what it must refuse: RSV bits echoed, a reserved
 * opcode ignored, a continuation with nothing to continue, invalid UTF-8
 * echoed, a 1-byte close answered as if fine */
Test(fuzzserver_self, lenient_client)
{
	struct raw cfg = { 0 };
	struct verdict v[8];
	struct daemon *fz;
	size_t n = raw_run("3.1,4.1.1,5.9,6.3.1,7.3.2", 5, &cfg, "raw-lenient", v, 8, &fz);
	cr_assert_eq(n, 5);
	expect_verdict(v, n, "3.1", "FAILED", NULL, fz);
	expect_verdict(v, n, "4.1.1", "FAILED", "wrong endpoint", fz);
	expect_verdict(v, n, "5.9", "FAILED", NULL, fz);
	expect_verdict(v, n, "6.3.1", "FAILED", "not UTF-8", fz);
	expect_verdict(v, n, "7.3.2", "FAILED", NULL, fz);
}

/* a handshake without Sec-WebSocket-Key gets 400 and fails the case */
Test(fuzzserver_self, bad_handshake)
{
	struct raw cfg = { .bad_handshake = 1 };
	struct verdict v[8];
	struct daemon *fz;
	size_t n = raw_run("1.1.1", 1, &cfg, "raw-bad-handshake", v, 8, &fz);
	expect_verdict(v, n, "1.1.1", "FAILED", "no Sec-WebSocket-Key", fz);
}

/* a case not run is reported MISSING, and getCaseCount counts the cases
 * selected */
Test(fuzzserver_self, missing_and_count)
{
	const char *report = report_path("raw-count");
	struct daemon *fz = fuzzserver_start("6.4.*,7.9.*", report);
	int fd = ws_open_with(fz->port, "/getCaseCount", "");
	expect_message(fd, OP_TEXT, "13", 2);
	expect_close(fd, 1000, 1);
	struct raw good = { 0 };
	raw_session(fz->port, "/updateReports?agent=nobody", &good);
	daemon_stop(fz);
	struct verdict v[16];
	size_t n = read_report(report, "nobody", v, 16);
	cr_assert_eq(n, 13);
	for (size_t i = 0; i < n; i++)
		cr_assert(!strcmp(v[i].verdict, "MISSING"), "%s: %s", v[i].id, v[i].verdict);
}
