/*
 * ringload_test: build/ringload as the bench scripts use it, against
 * ringwsd (echo on /, chat on /chat) and against a raw TCP echo server
 * written here with plain sockets. Each run is short (-d 1 -w 0.3) and
 * prints --json; the tests look up the keys they check. Also the ways a run
 * fails: a bad option (exit 2), nobody listening, a 404 for the upgrade, an
 * echo that comes back altered (exit 1, with a message naming the cause).
 * permessage-deflate (--deflate) and the JSON corpus (--corpus,
 * --corpus-doc, the files bench/corpus/gen.py writes): against ringwsd
 * --deflate, against Python websockets (a server that keeps its context, a
 * smaller window, fragmented compressed echoes, and one that alters an
 * echo), and against a ringwsd that declines. TLS (--tls, wss://, --ca):
 * echo, broadcast and idle against ringwsd --tls-cert with the test PKI
 * of tests/tls/make-certs.sh, raw mode against a Python TLS echo server,
 * and the ways verification fails (an untrusted CA, the wrong host, a bad
 * --ca file, a plain server).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(ringload, .fini = harness_teardown, .timeout = 40);

#define RUN_MS 20000

/* One finished ringload run. */
struct run {
	int code;		/* exit status; -1 if it was killed */
	size_t out_len, err_len;
	char out[64 * 1024];
	char err[64 * 1024];
};

/* Runs build/ringload ARGS... (NULL-terminated) to its end, or kills it
 * after RUN_MS and fails the test. */
static struct run *ringload(const char *arg, ...)
{
	const char *argv[48];
	int n = 0;
	argv[n++] = harness_build("ringload");
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a; a = va_arg(ap, const char *)) {
		cr_assert(n < 47);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	cr_assert(access(argv[0], X_OK) == 0, "%s is missing: make build/ringload", argv[0]);

	struct run *r = calloc(1, sizeof(*r));
	int o[2], e[2];
	cr_assert(r && pipe2(o, O_CLOEXEC) == 0 && pipe2(e, O_CLOEXEC) == 0);
	pid_t parent = getpid();
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(o[1], 1);
		dup2(e[1], 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	struct pollfd f[2] = { { o[0], POLLIN, 0 }, { e[0], POLLIN, 0 } };
	long long end = now_ms() + RUN_MS;
	int open_fds = 2;
	while (open_fds && now_ms() < end) {
		if (poll(f, 2, 100) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (f[i].fd < 0 || !f[i].revents)
				continue;
			char *buf = i ? r->err : r->out;
			size_t *len = i ? &r->err_len : &r->out_len;
			size_t room = sizeof(r->out) - 1 - *len;
			char tmp[4096];
			ssize_t k = read(f[i].fd, tmp, sizeof(tmp));
			if (k <= 0) {
				close(f[i].fd);
				f[i].fd = -1;
				open_fds--;
				continue;
			}
			size_t take = (size_t)k < room ? (size_t)k : room;
			memcpy(buf + *len, tmp, take);
			*len += take;
			buf[*len] = 0;
		}
	}
	int st;
	if (open_fds) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		cr_assert_fail("ringload ran over %d ms; stdout:\n%s\nstderr:\n%s", RUN_MS, r->out,
			       r->err);
	}
	waitpid(pid, &st, 0);
	r->code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return r;
}

/* The JSON value of key in r's output: 1 and *v for a number, 0 for null;
 * fails the test if the key is missing or holds something else. */
static int json_get(const struct run *r, const char *key, double *v)
{
	char pat[128];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(r->out, pat);
	cr_assert(p, "no key %s in:\n%s", key, r->out);
	p += strlen(pat);
	if (!strncmp(p, "null", 4))
		return 0;
	char *end;
	*v = strtod(p, &end);
	cr_assert(end != p && (*end == ',' || *end == '}'), "%s is not a number in:\n%s", key,
		  r->out);
	return 1;
}

/* A key that must hold a number. */
static double num(const struct run *r, const char *key)
{
	double v = 0;
	cr_assert(json_get(r, key, &v), "%s is null in:\n%s", key, r->out);
	return v;
}

static void expect_null(const struct run *r, const char *key)
{
	double v;
	cr_assert(!json_get(r, key, &v), "%s is %g, expected null:\n%s", key, v, r->out);
}

/* A successful run: exit 0, one JSON object, no error. */
static void expect_ok(const struct run *r)
{
	cr_assert_eq(r->code, 0, "exit %d; stdout:\n%s\nstderr:\n%s", r->code, r->out, r->err);
	cr_assert(r->out[0] == '{' && r->out_len > 2 && !strcmp(r->out + r->out_len - 2, "}\n") &&
			  !strchr(r->out, '\n')[1],
		  "not one JSON object on one line:\n%s", r->out);
	cr_assert_eq(num(r, "errors"), 0, "%s\n%s", r->out, r->err);
}

/* The latency figures of a load run: ordered, positive, under the run's
 * length. */
static void expect_latencies(const struct run *r)
{
	double p50 = num(r, "lat_p50_us"), p99 = num(r, "lat_p99_us");
	double p999 = num(r, "lat_p999_us"), max = num(r, "lat_max_us");
	cr_assert(p50 > 0 && p50 <= p99 && p99 <= p999 && p999 <= max && max < 20e6,
		  "latencies out of order: %g %g %g %g", p50, p99, p999, max);
}

static struct daemon *start_server(void)
{
	return daemon_start("--threads", "1", "--route", route("/", "echo"), "--route",
			    route("/chat", "chat"), NULL);
}

static const char *pidstr(pid_t pid)
{
	char *s;
	cr_assert(asprintf(&s, "%d", (int)pid) > 0);
	return s;
}

/* --- echo ------------------------------------------------------------------ */

Test(ringload, echo_binary)
{
	struct daemon *d = start_server();
	struct run *r = ringload("--json", "-c", "20", "-d", "1", "-w", "0.3", "--pid", pidstr(d->pid),
				 daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert_eq(num(r, "conns"), 20);
	cr_assert_eq(num(r, "established"), 20, "%s", r->out);
	cr_assert_eq(num(r, "size"), 32);
	cr_assert_eq(num(r, "inflight"), 1);
	expect_null(r, "rate");
	expect_null(r, "behind_schedule");
	double msgs = num(r, "messages"), dur = num(r, "duration_s");
	cr_assert(msgs > 100, "only %g messages", msgs);
	cr_assert(fabs(dur - 1) < 0.05, "measured %g s", dur);
	cr_assert(fabs(num(r, "msgs_per_s") - msgs / dur) < 1, "%s", r->out);
	cr_assert(fabs(num(r, "mb_per_s") - msgs * 32 / dur / 1e6) < 0.01, "%s", r->out);
	expect_latencies(r);
	/* the server's figures */
	double cpu = num(r, "server_cpu_s");
	cr_assert(cpu > 0 && cpu < 5, "server cpu %g s", cpu);
	cr_assert(num(r, "server_cpu_us_per_msg") > 0);
	cr_assert(num(r, "server_rss_kb") > 100);
	double util = num(r, "server_cpu_util");
	cr_assert(util > 0 && util < 110, "server cpu %g%%", util);
	expect_null(r, "deliveries_per_s");
	expect_null(r, "rss_per_conn_b");
	/* every connection closed cleanly: nothing to ringwsd's log about it */
	cr_assert(!strstr(daemon_log(d), "error"), "%s", daemon_log(d));
}

Test(ringload, echo_text)
{
	struct daemon *d = start_server();
	struct run *r = ringload("--json", "--text", "-c", "10", "-s", "1k", "-p", "4", "-d", "1",
				 "-w", "0.3", daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert(strstr(r->out, "\"type\":\"text\""), "%s", r->out);
	cr_assert_eq(num(r, "size"), 1024);
	cr_assert_eq(num(r, "inflight"), 4);
	cr_assert(num(r, "messages") > 100, "%s", r->out);
	expect_latencies(r);
	expect_null(r, "server_cpu_s");		/* no --pid */
}

/* 64 KiB messages span several receive buffers and several frames' worth
 * of TCP segments; 16 in flight */
Test(ringload, echo_64k_16_in_flight)
{
	struct daemon *d = start_server();
	struct run *r = ringload("--json", "-c", "8", "-s", "64k", "-p", "16", "-d", "1", "-w",
				 "0.3", daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert_eq(num(r, "size"), 65536);
	cr_assert_eq(num(r, "inflight"), 16);
	double msgs = num(r, "messages");
	cr_assert(msgs > 16, "%s", r->out);
	cr_assert(fabs(num(r, "mb_per_s") - msgs * 65536 / num(r, "duration_s") / 1e6) < 0.1, "%s",
		  r->out);
	expect_latencies(r);
}

/* open loop: no more than the rate asked for, and the lateness counted */
Test(ringload, echo_open_loop)
{
	struct daemon *d = start_server();
	struct run *r = ringload("--json", "-c", "10", "-r", "2000", "-d", "1", "-w", "0.3",
				 daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert_eq(num(r, "rate"), 2000);
	expect_null(r, "inflight");
	double behind = num(r, "behind_schedule");
	cr_assert(behind >= 0, "%s", r->out);
	double rate = num(r, "msgs_per_s");
	cr_assert(rate > 1000 && rate <= 2000 * 1.02, "%g messages/s for 2000/s", rate);
	expect_latencies(r);
}

/* --- idle and broadcast --------------------------------------------------- */

Test(ringload, idle_memory)
{
	struct daemon *d = start_server();
	struct run *r = ringload("--json", "-m", "idle", "-c", "300", "--hold", "0.3", "--pid",
				 pidstr(d->pid), daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert_eq(num(r, "established"), 300, "%s", r->out);
	double before = num(r, "rss_before_kb"), after = num(r, "rss_after_kb");
	cr_assert(before > 100 && after > 100, "%s", r->out);
	double per = num(r, "rss_per_conn_b");
	cr_assert(fabs(per - (after - before) * 1024 / 300) < 1, "%s", r->out);
	num(r, "kernel_tcp_mem_per_conn_b");
	num(r, "kernel_slab_per_conn_b");
	expect_null(r, "messages");
	expect_null(r, "lat_p50_us");
	expect_null(r, "msgs_per_s");
}

Test(ringload, broadcast_chat)
{
	struct daemon *d = start_server();
	struct run *r = ringload("--json", "-m", "broadcast", "-c", "10", "-p", "2", "-d", "1",
				 "-w", "0.3", daemon_url(d, "/chat?token=x"), NULL);
	expect_ok(r);
	cr_assert_eq(num(r, "established"), 10);
	double dps = num(r, "deliveries_per_s"), sent = num(r, "broadcasts");
	double got = num(r, "messages");
	cr_assert(dps > 0 && sent > 0, "%s", r->out);
	/* nine receivers each: the window's edges cut at most the messages in
	 * flight short */
	cr_assert(got <= sent * 9 && got >= (sent - 4) * 9, "%g deliveries of %g broadcasts", got,
		  sent);
	expect_latencies(r);
}

/* --- a server that fragments, pings and closes: Python websockets -------- */

/* Echoes each message as three fragments, pinging before each echo; with
 * a count, closes with 4000 after that many messages. Each connection's end
 * prints how many pings went unanswered. */
static const char pyecho[] =
	"import asyncio, sys, websockets\n"
	"close_after = int(sys.argv[1])\n"
	"async def handler(ws, *args):\n"
	"    n, pings = 0, []\n"
	"    try:\n"
	"        async for msg in ws:\n"
	"            n += 1\n"
	"            if close_after and n == close_after:\n"
	"                await ws.close(4000, 'enough')\n"
	"                return\n"
	"            pings.append(await ws.ping())\n"
	"            k = len(msg)\n"
	"            await ws.send([msg[:k // 3], msg[k // 3:2 * k // 3], msg[2 * k // 3:]])\n"
	"    finally:\n"
	"        bad = sum(1 for p in pings if not p.done() or p.cancelled() or p.exception())\n"
	"        print('pyecho: %d pings, %d unanswered' % (len(pings), bad), file=sys.stderr,\n"
	"              flush=True)\n"
	"async def main():\n"
	"    async with websockets.serve(handler, '127.0.0.1', 0, compression=None,\n"
	"                                max_size=None) as s:\n"
	"        port = s.sockets[0].getsockname()[1]\n"
	"        print('pyecho: listening on 127.0.0.1:%d' % port, file=sys.stderr, flush=True)\n"
	"        await asyncio.Future()\n"
	"asyncio.run(main())\n";

static struct daemon *pyecho_start(const char *close_after)
{
	const char *argv[] = { "/usr/bin/python3", "-c", pyecho, close_after, NULL };
	return program_start(argv, "pyecho: listening on 127.0.0.1:");
}

/* Counts the lines of the log that contain text. */
static int log_count(struct daemon *d, const char *text)
{
	int n = 0;
	for (const char *p = daemon_log(d); (p = strstr(p, text)); p += strlen(text))
		n++;
	return n;
}

/* fragmented echoes, 10 KiB text messages in three frames each, with a ping
 * before each: every ping answered, every message verified */
Test(ringload, fragments_and_pings)
{
	struct daemon *d = pyecho_start("0");
	struct run *r = ringload("--json", "--text", "-c", "4", "-p", "4", "-s", "10k", "-d", "1",
				 "-w", "0.3", daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert_eq(num(r, "established"), 4);
	cr_assert(num(r, "messages") > 20, "%s", r->out);
	expect_latencies(r);
	long long end = now_ms() + 5000;
	while (log_count(d, " pings, ") < 4 && now_ms() < end)
		usleep(20000);
	const char *log = daemon_log(d);
	cr_assert_eq(log_count(d, " pings, "), 4, "%s", log);
	cr_assert_eq(log_count(d, " pings, 0 unanswered"), 4, "%s", log);
	cr_assert(!strstr(log, "Traceback"), "%s", log);
}

/* the server closes every connection during the load: exit 1, the close
 * code and reason named */
Test(ringload, server_closes)
{
	struct daemon *d = pyecho_start("20");
	struct run *r = ringload("--json", "-c", "2", "-d", "1", "-w", "0", daemon_url(d, "/"),
				 NULL);
	cr_assert_eq(r->code, 1, "exit %d:\n%s\n%s", r->code, r->out, r->err);
	cr_assert(strstr(r->err, "the server closed the connection (code 4000: enough)"), "%s",
		  r->err);
	cr_assert_eq(num(r, "errors"), 2, "%s", r->out);
}

/* --- raw mode against an echo server written here ------------------------ */

struct raw_server {
	int fd;
	int port;
	long corrupt_at;	/* flip the byte at this stream offset; -1 never */
};

struct raw_conn {
	int fd;
	long corrupt_at;
};

static void *raw_echo(void *arg)
{
	struct raw_conn *c = arg;
	char buf[65536];
	long seen = 0;
	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		if (c->corrupt_at >= seen && c->corrupt_at < seen + n)
			buf[c->corrupt_at - seen] ^= 0x20;
		seen += n;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = send(c->fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
			if (w <= 0)
				goto out;
			off += w;
		}
	}
out:
	close(c->fd);
	free(c);
	return NULL;
}

static void *raw_accept(void *arg)
{
	struct raw_server *s = arg;
	for (;;) {
		int fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			return NULL;
		struct raw_conn *c = malloc(sizeof(*c));
		c->fd = fd;
		c->corrupt_at = s->corrupt_at;
		s->corrupt_at = -1;	/* only the first connection */
		pthread_t t;
		pthread_create(&t, NULL, raw_echo, c);
		pthread_detach(t);
	}
}

static struct raw_server *raw_start(long corrupt_at)
{
	struct raw_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	s->corrupt_at = corrupt_at;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(s->fd >= 0 && bind(s->fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		  listen(s->fd, 128) == 0 && getsockname(s->fd, (struct sockaddr *)&a, &len) == 0);
	s->port = ntohs(a.sin_port);
	pthread_t t;
	pthread_create(&t, NULL, raw_accept, s);
	pthread_detach(t);
	return s;
}

static const char *tcp_url(int port)
{
	char *s;
	cr_assert(asprintf(&s, "tcp://127.0.0.1:%d", port) > 0);
	return s;
}

Test(ringload, raw_echo)
{
	struct raw_server *s = raw_start(-1);
	struct run *r = ringload("--json", "-m", "raw", "-c", "4", "-s", "100", "-p", "4", "-d", "1",
				 "-w", "0.3", "--pid", pidstr(getpid()),
				 tcp_url(s->port), NULL);
	expect_ok(r);
	cr_assert_eq(num(r, "established"), 4);
	cr_assert(num(r, "messages") > 100, "%s", r->out);
	cr_assert(num(r, "server_cpu_s") >= 0, "%s", r->out);
	expect_latencies(r);
}

/* an echo altered in one byte: exit 1, and the message says where */
Test(ringload, raw_echo_altered)
{
	struct raw_server *s = raw_start(1000 + 20);	/* the 11th message, past its header */
	struct run *r = ringload("--json", "-m", "raw", "-c", "1", "-s", "100", "-d", "1", "-w",
				 "0", tcp_url(s->port), NULL);
	cr_assert_eq(r->code, 1, "exit %d; stdout:\n%s\nstderr:\n%s", r->code, r->out, r->err);
	cr_assert(strstr(r->err, "message 11 differs from what was sent at byte 20"),
		  "stderr:\n%s", r->err);
	cr_assert(num(r, "errors") >= 1, "%s", r->out);
}

/* --- permessage-deflate and the corpus --------------------------------------- */

/* The shipped corpus files, checked to be there. */
static const char *corpus_file(const char *name)
{
	const char *path = harness_src(name);
	cr_assert(access(path, R_OK) == 0, "%s is missing: python3 bench/corpus/gen.py writes it",
		  path);
	return path;
}

static double file_size(const char *path)
{
	struct stat st;
	cr_assert(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	return (double)st.st_size;
}

/* Whether the string value of key in r's JSON contains text. */
static int json_str_has(const struct run *r, const char *key, const char *text)
{
	char pat[128];
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *p = strstr(r->out, pat);
	if (!p)
		return 0;
	p += strlen(pat);
	const char *end = strchr(p, '"');
	const char *hit = strstr(p, text);
	return end && hit && hit < end;
}

static struct daemon *start_deflate_server(void)
{
	return daemon_start("--threads", "1", "--deflate", "--route", route("/", "echo"), "--route",
			    route("/chat", "chat"), NULL);
}

/* the corpus, compressed both ways: about half its messages are 1 KiB or
 * more, and only those are compressed; every echo inflated and checked */
Test(ringload, deflate_corpus_echo)
{
	const char *corpus = corpus_file("bench/corpus/messages.jsonl");
	struct daemon *d = start_deflate_server();
	struct run *r = ringload("--json", "--deflate", "--corpus", corpus, "-c", "10", "-p", "4",
				 "-d", "1", "-w", "0.3", "--pid", pidstr(d->pid),
				 daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert(strstr(r->out, "\"deflate\":true"), "%s", r->out);
	cr_assert(json_str_has(r, "deflate_params", "server_no_context_takeover") &&
			  json_str_has(r, "deflate_params", "client_no_context_takeover"),
		  "%s", r->out);
	cr_assert(strstr(r->out, "\"type\":\"text\""), "a corpus is text: %s", r->out);
	cr_assert_eq(num(r, "corpus_msgs"), 10000, "%s", r->out);
	double msgs = num(r, "messages");
	cr_assert(msgs > 100, "%s", r->out);
	expect_latencies(r);
	double zin = num(r, "compressed_in_pct"), zout = num(r, "compressed_out_pct");
	cr_assert(zin > 20 && zin < 80 && zout > 20 && zout < 80, "%s", r->out);
	double payload = num(r, "payload_b_per_msg");
	cr_assert(payload > 700 && payload < 1400, "%s", r->out);
	cr_assert(num(r, "wire_in_b_per_msg") < payload * 0.9, "%s", r->out);
	cr_assert(num(r, "wire_out_b_per_msg") < payload * 0.9, "%s", r->out);
	cr_assert(fabs(num(r, "mb_per_s") - msgs * payload / num(r, "duration_s") / 1e6) < 0.01,
		  "%s", r->out);
	cr_assert(num(r, "server_cpu_us_per_msg") > 0, "%s", r->out);
	cr_assert(!strstr(daemon_log(d), "error"), "%s", daemon_log(d));
}

/* the same corpus uncompressed: every byte on the wire is payload and a
 * header */
Test(ringload, corpus_plain)
{
	const char *corpus = corpus_file("bench/corpus/messages.jsonl");
	struct daemon *d = start_server();
	struct run *r = ringload("--json", "--corpus", corpus, "-c", "4", "-p", "8", "-d", "1",
				 "-w", "0.3", daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert(strstr(r->out, "\"deflate\":false,\"deflate_params\":null"), "%s", r->out);
	cr_assert(strstr(r->out, "\"type\":\"text\""), "%s", r->out);
	expect_null(r, "compressed_in_pct");
	cr_assert(num(r, "messages") > 100, "%s", r->out);
	double payload = num(r, "payload_b_per_msg"), in = num(r, "wire_in_b_per_msg");
	cr_assert(in > payload && in <= payload + 4, "%s", r->out);
	cr_assert(fabs(num(r, "size") - file_size(corpus) / 10000) < 2, "the mean size: %s", r->out);
}

/* one 1 MiB JSON document as every message, compressed both ways */
Test(ringload, deflate_corpus_doc)
{
	const char *doc = corpus_file("bench/corpus/doc1m.json");
	struct daemon *d = start_deflate_server();
	struct run *r = ringload("--json", "--deflate", "--corpus-doc", doc, "-c", "2", "-p", "2",
				 "-d", "1", "-w", "0.3", daemon_url(d, "/"), NULL);
	expect_ok(r);
	double size = file_size(doc);
	cr_assert_eq(num(r, "size"), size, "%s", r->out);
	cr_assert(num(r, "messages") >= 2, "%s", r->out);
	cr_assert_eq(num(r, "payload_b_per_msg"), size, "%s", r->out);
	cr_assert_eq(num(r, "compressed_in_pct"), 100, "%s", r->out);
	cr_assert(num(r, "wire_in_b_per_msg") < size / 2, "%s", r->out);
}

/* generated messages compressed on the fly, and a broadcast route: the
 * chat plugin compresses once for every receiver */
Test(ringload, deflate_generated_and_broadcast)
{
	struct daemon *d = start_deflate_server();
	struct run *r = ringload("--json", "--deflate", "-s", "4k", "-c", "4", "-p", "4", "-d", "1",
				 "-w", "0.3", daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert_eq(num(r, "compressed_out_pct"), 100, "%s", r->out);
	cr_assert_eq(num(r, "compressed_in_pct"), 100, "%s", r->out);
	cr_assert(num(r, "wire_in_b_per_msg") < 4096, "%s", r->out);
	/* below the threshold nothing is compressed */
	r = ringload("--json", "--deflate", "-s", "1000", "-c", "2", "-d", "0.5", "-w", "0.2",
		     daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert_eq(num(r, "compressed_out_pct"), 0, "%s", r->out);
	cr_assert_eq(num(r, "compressed_in_pct"), 0, "%s", r->out);
	r = ringload("--json", "-m", "broadcast", "--deflate", "-s", "2k", "-c", "5", "-p", "2", "-d",
		     "1", "-w", "0.3", daemon_url(d, "/chat?token=x"), NULL);
	expect_ok(r);
	cr_assert(num(r, "deliveries_per_s") > 0, "%s", r->out);
	cr_assert_eq(num(r, "compressed_in_pct"), 100, "%s", r->out);
}

/* idle connections with permessage-deflate agreed */
Test(ringload, deflate_idle)
{
	struct daemon *d = start_deflate_server();
	struct run *r = ringload("--json", "-m", "idle", "--deflate", "-c", "50", "--hold", "0.2",
				 "--pid", pidstr(d->pid), daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert_eq(num(r, "established"), 50, "%s", r->out);
	cr_assert(json_str_has(r, "deflate_params", "permessage-deflate"), "%s", r->out);
	num(r, "rss_per_conn_b");
}

/* a server without --deflate answers without the extension: every
 * connection fails, and the message says why */
Test(ringload, deflate_declined)
{
	struct daemon *d = start_server();
	struct run *r = ringload("--json", "--deflate", "-c", "3", "-d", "0.5", "-w", "0",
				 daemon_url(d, "/"), NULL);
	cr_assert_eq(r->code, 1, "exit %d:\n%s\n%s", r->code, r->out, r->err);
	cr_assert(strstr(r->err, "the server declined permessage-deflate"), "%s", r->err);
	cr_assert(strstr(r->err, "ringwsd --deflate"), "%s", r->err);
	cr_assert_eq(num(r, "established"), 0, "%s", r->out);
	cr_assert_eq(num(r, "failed"), 3, "%s", r->out);
	cr_assert(strstr(r->out, "\"first_error\":\"handshake: the server declined"), "%s", r->out);
}

/* Python websockets with its default compression: it keeps its context
 * (a 4 KiB window, server_max_window_bits=12) and sends each echo as three
 * frames, the first with RSV1; with a count, that message comes back with
 * byte 100 changed. */
static const char pyzecho[] =
	"import asyncio, sys, websockets\n"
	"alter = int(sys.argv[1])\n"
	"async def handler(ws, *args):\n"
	"    n = 0\n"
	"    async for msg in ws:\n"
	"        n += 1\n"
	"        if n == alter:\n"
	"            msg = msg[:100] + ('#' if isinstance(msg, str) else b'#') + msg[101:]\n"
	"        k = len(msg)\n"
	"        await ws.send([msg[:k // 3], msg[k // 3:2 * k // 3], msg[2 * k // 3:]])\n"
	"async def main():\n"
	"    async with websockets.serve(handler, '127.0.0.1', 0, max_size=None) as s:\n"
	"        port = s.sockets[0].getsockname()[1]\n"
	"        print('pyzecho: listening on 127.0.0.1:%d' % port, file=sys.stderr, flush=True)\n"
	"        await asyncio.Future()\n"
	"asyncio.run(main())\n";

static struct daemon *pyzecho_start(const char *alter)
{
	const char *argv[] = { "/usr/bin/python3", "-c", pyzecho, alter, NULL };
	return program_start(argv, "pyzecho: listening on 127.0.0.1:");
}

Test(ringload, deflate_server_context_fragmented)
{
	struct daemon *d = pyzecho_start("0");
	struct run *r = ringload("--json", "--deflate", "--text", "-s", "20k", "-c", "3", "-p", "2",
				 "-d", "1", "-w", "0.3", daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert(json_str_has(r, "deflate_params", "server_max_window_bits=12"), "%s", r->out);
	cr_assert(!json_str_has(r, "deflate_params", "server_no_context_takeover"), "%s", r->out);
	cr_assert(num(r, "messages") > 10, "%s", r->out);
	cr_assert_eq(num(r, "compressed_in_pct"), 100, "%s", r->out);
	/* the corpus too, whose small messages websockets compresses as well */
	r = ringload("--json", "--deflate", "--corpus", corpus_file("bench/corpus/messages.jsonl"),
		     "-c", "2", "-p", "2", "-d", "1", "-w", "0.3", daemon_url(d, "/"), NULL);
	expect_ok(r);
	cr_assert(num(r, "messages") > 10, "%s", r->out);
}

/* an echo altered before the server compressed it: caught after inflation */
Test(ringload, deflate_echo_altered)
{
	struct daemon *d = pyzecho_start("11");
	struct run *r = ringload("--json", "--deflate", "--text", "-s", "2k", "-c", "1", "-d", "1",
				 "-w", "0", daemon_url(d, "/"), NULL);
	cr_assert_eq(r->code, 1, "exit %d:\n%s\n%s", r->code, r->out, r->err);
	cr_assert(strstr(r->err, "message 11 differs from what was sent at byte 100 of 2048"), "%s",
		  r->err);
}

/* --- failures --------------------------------------------------------------- */

Test(ringload, bad_options)
{
	struct run *r = ringload("--size", "abc", "ws://127.0.0.1:1/", NULL);
	cr_assert_eq(r->code, 2, "exit %d:\n%s", r->code, r->err);
	cr_assert(strstr(r->err, "--size") && strstr(r->err, "'abc'"), "%s", r->err);
	cr_assert_eq(r->out_len, 0, "%s", r->out);

	r = ringload("--mode", "flood", "ws://127.0.0.1:1/", NULL);
	cr_assert_eq(r->code, 2);
	cr_assert(strstr(r->err, "--mode") && strstr(r->err, "'flood'"), "%s", r->err);

	r = ringload("-s", "8", "ws://127.0.0.1:1/", NULL);
	cr_assert_eq(r->code, 2);
	cr_assert(strstr(r->err, "too small"), "%s", r->err);

	r = ringload("--bogus", "ws://127.0.0.1:1/", NULL);
	cr_assert_eq(r->code, 2);
	cr_assert(strstr(r->err, "--bogus"), "%s", r->err);

	r = ringload("-m", "raw", "ws://127.0.0.1:1/", NULL);
	cr_assert_eq(r->code, 2);
	cr_assert(strstr(r->err, "tcp://"), "%s", r->err);

	r = ringload("-c", "50000", "ws://127.0.0.1:1/", NULL);
	cr_assert_eq(r->code, 2);
	cr_assert(strstr(r->err, "open files"), "%s", r->err);

	r = ringload("-m", "raw", "--deflate", "tcp://127.0.0.1:1", NULL);
	cr_assert_eq(r->code, 2);
	cr_assert(strstr(r->err, "--deflate") && strstr(r->err, "raw"), "%s", r->err);

	const char *corpus = corpus_file("bench/corpus/messages.jsonl");
	r = ringload("--corpus", corpus, "-s", "1k", "ws://127.0.0.1:1/", NULL);
	cr_assert_eq(r->code, 2);
	cr_assert(strstr(r->err, "--size and --corpus"), "%s", r->err);

	r = ringload("-m", "idle", "--corpus", corpus, "ws://127.0.0.1:1/", NULL);
	cr_assert_eq(r->code, 2);
	cr_assert(strstr(r->err, "idle mode sends no messages"), "%s", r->err);

	r = ringload("--corpus", "/nonexistent/corpus.jsonl", "ws://127.0.0.1:1/", NULL);
	cr_assert_eq(r->code, 2);
	cr_assert(strstr(r->err, "cannot read /nonexistent/corpus.jsonl"), "%s", r->err);

	/* text messages must be UTF-8; as binary the same file is fine */
	char bad[] = "/tmp/ringload_test_corpus_XXXXXX";
	int fd = mkstemp(bad);
	cr_assert(fd >= 0 && write(fd, "{\"a\":\"\xff\"}\n", 10) == 10);
	close(fd);
	r = ringload("--corpus", bad, "ws://127.0.0.1:1/", NULL);
	cr_assert_eq(r->code, 2);
	cr_assert(strstr(r->err, "not valid UTF-8"), "%s", r->err);
	r = ringload("--corpus", bad, "--binary", "-c", "1", "-d", "0.1", "-w", "0",
		     "ws://127.0.0.1:1/", NULL);
	cr_assert_eq(r->code, 1, "%s", r->err);	/* past the options: nobody listens */
	unlink(bad);
}

/* a port nobody listens on */
Test(ringload, connection_refused)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		  getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	close(fd);	/* bound, never listened: refused */
	char url[64];
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", ntohs(a.sin_port));
	struct run *r = ringload("-c", "3", "-d", "0.5", "-w", "0", url, NULL);
	cr_assert_eq(r->code, 1, "exit %d:\n%s\n%s", r->code, r->out, r->err);
	cr_assert(strstr(r->err, "Connection refused"), "%s", r->err);
	cr_assert(strstr(r->out, "0 established, 3 failed"), "%s", r->out);
}

/* the upgrade answered 404: the status is named */
Test(ringload, upgrade_404)
{
	struct daemon *d = start_server();
	struct run *r = ringload("--json", "-c", "2", "-d", "0.5", "-w", "0",
				 daemon_url(d, "/nowhere"), NULL);
	cr_assert_eq(r->code, 1, "exit %d:\n%s\n%s", r->code, r->out, r->err);
	cr_assert(strstr(r->err, "404"), "%s", r->err);
	cr_assert_eq(num(r, "established"), 0, "%s", r->out);
	cr_assert_eq(num(r, "messages"), 0, "%s", r->out);
	cr_assert(strstr(r->out, "\"first_error\":\"handshake: the server answered 404"), "%s",
		  r->out);
}

/* --- TLS ------------------------------------------------------------------------ */

/* NAME.EXT of the test PKI */
static const char *pki(const char *name, const char *ext)
{
	return harness_pki(name, ext);
}

/* ringwsd serving TLS with the test PKI's certificate NAME (echo on /,
 * chat on /chat) */
static struct daemon *start_tls_server(const char *name)
{
	return daemon_start("--threads", "1", "--route", route("/", "echo"), "--route",
			    route("/chat", "chat"), "--tls-cert", pki(name, "pem"), "--tls-key",
			    pki(name, "key"), NULL);
}

static const char *wss_url(const struct daemon *d, const char *host, const char *path)
{
	char *s;
	cr_assert(asprintf(&s, "wss://%s:%d%s", host, d->port, path) > 0);
	return s;
}

/* the string value of key in r's JSON begins with prefix */
static int json_str_starts(const struct run *r, const char *key, const char *prefix)
{
	char pat[256];
	snprintf(pat, sizeof(pat), "\"%s\":\"%s", key, prefix);
	return strstr(r->out, pat) != NULL;
}

/* echo over TLS, the certificate verified: every echo checked after
 * decrypting, by address and by host name (SNI) */
Test(ringload, tls_echo_verified)
{
	struct daemon *d = start_tls_server("server");
	const char *ca = pki("ca", "pem");
	struct run *r = ringload("--json", "-c", "20", "-p", "4", "-d", "1", "-w", "0.3", "--ca", ca,
				 "--pid", pidstr(d->pid), wss_url(d, "127.0.0.1", "/"), NULL);
	expect_ok(r);
	cr_assert_eq(num(r, "established"), 20, "%s", r->out);
	cr_assert(num(r, "messages") > 100, "%s", r->out);
	cr_assert(strstr(r->out, "\"tls\":true"), "%s", r->out);
	cr_assert(json_str_starts(r, "tls_version", "TLSv1."), "%s", r->out);
	cr_assert(json_str_starts(r, "tls_cipher", ""), "%s", r->out);
	cr_assert(json_str_starts(r, "tls_ca", ca), "%s", r->out);
	cr_assert(num(r, "server_cpu_us_per_msg") > 0, "%s", r->out);
	expect_latencies(r);

	/* by name, and with --tls on a ws:// URL */
	char url[128];
	snprintf(url, sizeof(url), "ws://localhost:%d/", d->port);
	r = ringload("--json", "--tls", "--text", "-c", "5", "-s", "1k", "-p", "8", "-d", "0.5", "-w",
		     "0.2", "--ca", ca, url, NULL);
	expect_ok(r);
	cr_assert(num(r, "messages") > 40, "%s", r->out);
	cr_assert(strstr(r->out, "\"tls\":true"), "%s", r->out);

	/* 64 KiB messages: records that span receive buffers, sends that carry
	 * several records, a session's output larger than one send */
	r = ringload("--json", "-c", "4", "-s", "64k", "-p", "8", "-d", "1", "-w", "0.3",
		     wss_url(d, "127.0.0.1", "/"), NULL);
	expect_ok(r);
	cr_assert(num(r, "messages") > 8, "%s", r->out);
	expect_null(r, "tls_ca");
	cr_assert(!strstr(daemon_log(d), "error"), "%s", daemon_log(d));
}

Test(ringload, tls_broadcast_and_idle)
{
	struct daemon *d = start_tls_server("server");
	struct run *r = ringload("--json", "-m", "broadcast", "-c", "10", "-p", "2", "-d", "1", "-w",
				 "0.3", wss_url(d, "127.0.0.1", "/chat?token=x"), NULL);
	expect_ok(r);
	cr_assert(num(r, "deliveries_per_s") > 0, "%s", r->out);
	expect_latencies(r);

	/* the server's memory per idle TLS connection */
	r = ringload("--json", "-m", "idle", "-c", "300", "--hold", "0.3", "--pid", pidstr(d->pid),
		     wss_url(d, "127.0.0.1", "/"), NULL);
	expect_ok(r);
	cr_assert_eq(num(r, "established"), 300, "%s", r->out);
	double before = num(r, "rss_before_kb"), after = num(r, "rss_after_kb");
	cr_assert(fabs(num(r, "rss_per_conn_b") - (after - before) * 1024 / 300) < 1, "%s", r->out);
	cr_assert(json_str_starts(r, "tls_version", "TLSv1."), "%s", r->out);
	expect_null(r, "messages");
}

/* A TLS echo server over plain TCP (Python's ssl): raw mode over TLS. */
static const char pytlsecho[] =
	"import asyncio, ssl, sys\n"
	"ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)\n"
	"ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
	"async def echo(r, w):\n"
	"    try:\n"
	"        while True:\n"
	"            b = await r.read(65536)\n"
	"            if not b:\n"
	"                break\n"
	"            w.write(b)\n"
	"            await w.drain()\n"
	"    except Exception:\n"
	"        pass\n"
	"    finally:\n"
	"        w.close()\n"
	"async def main():\n"
	"    s = await asyncio.start_server(echo, '127.0.0.1', 0, ssl=ctx)\n"
	"    port = s.sockets[0].getsockname()[1]\n"
	"    print('tlsecho: listening on 127.0.0.1:%d' % port, file=sys.stderr, flush=True)\n"
	"    await asyncio.Future()\n"
	"asyncio.run(main())\n";

Test(ringload, tls_raw_echo)
{
	const char *argv[] = { "/usr/bin/python3", "-c", pytlsecho, pki("server", "pem"),
			       pki("server", "key"), NULL };
	struct daemon *d = program_start(argv, "tlsecho: listening on 127.0.0.1:");
	char url[64];
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", d->port);
	struct run *r = ringload("--json", "-m", "raw", "--tls", "--ca", pki("ca", "pem"), "-c", "4",
				 "-s", "4k", "-p", "4", "-d", "0.5", "-w", "0.2", url, NULL);
	expect_ok(r);
	cr_assert(num(r, "messages") > 10, "%s", r->out);
	cr_assert(json_str_starts(r, "tls_version", "TLSv1."), "%s", r->out);
}

/* verification that fails, and a --ca that is no CA file: clear messages */
Test(ringload, tls_bad_ca)
{
	struct daemon *d = start_tls_server("server");
	const char *url = wss_url(d, "127.0.0.1", "/");

	/* a CA that did not sign the server's certificate */
	struct run *r = ringload("--json", "-c", "3", "-d", "0.5", "-w", "0", "--ca",
				 pki("other-ca", "pem"), url, NULL);
	cr_assert_eq(r->code, 1, "exit %d:\n%s\n%s", r->code, r->out, r->err);
	cr_assert(strstr(r->err, "TLS handshake: certificate verification failed: not signed by a "
			 "trusted CA"), "%s", r->err);
	cr_assert_eq(num(r, "established"), 0, "%s", r->out);
	cr_assert_eq(num(r, "failed"), 3, "%s", r->out);
	cr_assert(strstr(r->out, "\"first_error\":\"TLS handshake: certificate verification failed"),
		  "%s", r->out);

	/* a file that is not there, one that is not PEM: usage errors */
	r = ringload("--ca", "/nonexistent/ca.pem", url, NULL);
	cr_assert_eq(r->code, 2, "exit %d:\n%s", r->code, r->err);
	cr_assert(strstr(r->err, "--ca: CA file /nonexistent/ca.pem: No such file or directory"), "%s",
		  r->err);
	cr_assert_eq(r->out_len, 0, "%s", r->out);
	r = ringload("--ca", harness_src("README.md"), url, NULL);
	cr_assert_eq(r->code, 2, "exit %d:\n%s", r->code, r->err);
	cr_assert(strstr(r->err, "--ca: CA file") && strstr(r->err, "is not usable PEM"), "%s",
		  r->err);

	/* --ca means TLS */
	r = ringload("--ca", pki("ca", "pem"), daemon_url(d, "/"), NULL);
	cr_assert_eq(r->code, 2, "exit %d:\n%s", r->code, r->err);
	cr_assert(strstr(r->err, "--ca: only with --tls or a wss:// URL"), "%s", r->err);
}

/* the certificate is for another name; a TLS client on a plain port */
Test(ringload, tls_wrong_host_and_plain_server)
{
	struct daemon *d = start_tls_server("alpha");	/* DNS:alpha.test only */
	struct run *r = ringload("-c", "2", "-d", "0.5", "-w", "0", "--ca", pki("ca", "pem"),
				 wss_url(d, "localhost", "/"), NULL);
	cr_assert_eq(r->code, 1, "exit %d:\n%s\n%s", r->code, r->out, r->err);
	cr_assert(strstr(r->err, "certificate verification failed: the host name does not match"),
		  "%s", r->err);

	struct daemon *p = start_server();
	r = ringload("-c", "2", "-d", "0.5", "-w", "0", wss_url(p, "127.0.0.1", "/"), NULL);
	cr_assert_eq(r->code, 1, "exit %d:\n%s\n%s", r->code, r->out, r->err);
	cr_assert(strstr(r->err, "TLS handshake: the server answered in plain HTTP") ||
			  strstr(r->err, "TLS handshake: the server closed the connection"),
		  "%s", r->err);
}
