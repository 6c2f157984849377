/*
 * fuzzserver: the Autobahn fuzzingserver's client protocol (see fz.h).
 *
 *   fuzzserver [--port PORT] [--cases PATTERN[,PATTERN...]] [--report FILE] [--list]
 *
 * Listens on 127.0.0.1:PORT (0, the default: any free port) and prints
 * "listening on 127.0.0.1:PORT" on stdout once ready. Serves, one
 * connection at a time:
 *   /getCaseCount                 a text message with the number of cases, then close 1000
 *   /runCase?case=I&agent=NAME    case I (1-based) of the list, graded for NAME
 *   /updateReports?agent=NAME     writes the report, then close 1000
 * --cases selects cases by id, '*' matching anything ("1.*,2.*", "6.4.*",
 * "7.7.3"); the order stays Autobahn's. The report (--report) has one JSON
 * line per agent and case: {"agent", "case", "index", "verdict" (OK,
 * NON-STRICT, INFORMATIONAL, FAILED or MISSING for a case not run),
 * "behavior", "close", "remote_close_code", "duration_ms", "reason"}. It
 * is rewritten after every case (so a run cut short leaves what it did)
 * and is complete once /updateReports has been answered. One line per case
 * also goes to stdout. --list prints the case ids and exits.
 *
 * Every case ends within a time limit (10 s; for 9.x the case's wait plus
 * 10 s): a client that hangs fails the case and the server moves on.
 */
#include "fz.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MS 5000
#define CASE_MS 10000

struct result {
	int ran;
	enum grade verdict, behavior, close;
	int remote_code;
	long long ms;
	char reason[600];
};

struct agent {
	char name[64];
	struct result *res;
};

static size_t *sel;	/* the selected cases: indices into cases[] */
static size_t nsel;
static struct agent agents[32];
static int nagents;
static const char *report_path;

/* --- case selection -------------------------------------------------------- */

static int glob_match(const char *pat, const char *s)
{
	if (!*pat)
		return !*s;
	if (*pat == '*') {
		for (;; s++) {
			if (glob_match(pat + 1, s))
				return 1;
			if (!*s)
				return 0;
		}
	}
	return *s == *pat && glob_match(pat + 1, s + 1);
}

static void select_cases(const char *patterns)
{
	sel = calloc(ncases ? ncases : 1, sizeof(*sel));
	if (!sel)
		exit(2);
	for (size_t i = 0; i < ncases; i++) {
		if (!patterns) {
			sel[nsel++] = i;
			continue;
		}
		char buf[1024];
		snprintf(buf, sizeof(buf), "%s", patterns);
		for (char *save, *p = strtok_r(buf, ", ", &save); p; p = strtok_r(NULL, ", ", &save))
			if (glob_match(p, cases[i].id)) {
				sel[nsel++] = i;
				break;
			}
	}
}

/* --- the report -------------------------------------------------------------- */

static struct agent *agent_get(const char *name)
{
	for (int i = 0; i < nagents; i++)
		if (!strcmp(agents[i].name, name))
			return &agents[i];
	if (nagents == (int)(sizeof(agents) / sizeof(agents[0])))
		return NULL;
	struct agent *a = &agents[nagents++];
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->res = calloc(nsel ? nsel : 1, sizeof(*a->res));
	if (!a->res)
		exit(2);
	return a;
}

static void write_report(void)
{
	if (!report_path)
		return;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", report_path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "fuzzserver: %s: %s\n", tmp, strerror(errno));
		return;
	}
	for (int a = 0; a < nagents; a++)
		for (size_t i = 0; i < nsel; i++) {
			const struct result *r = &agents[a].res[i];
			char name[200], reason[1400], code[16];
			json_escape(agents[a].name, name, sizeof(name));
			json_escape(r->ran ? r->reason : "not run", reason, sizeof(reason));
			if (r->ran && r->remote_code >= 0)
				snprintf(code, sizeof(code), "%d", r->remote_code);
			else
				snprintf(code, sizeof(code), "null");
			fprintf(f, "{\"agent\":\"%s\",\"case\":\"%s\",\"index\":%zu,\"verdict\":\"%s\","
				"\"behavior\":\"%s\",\"close\":\"%s\",\"remote_close_code\":%s,"
				"\"duration_ms\":%lld,\"reason\":\"%s\"}\n", name, cases[sel[i]].id, i + 1,
				grade_name(r->ran ? r->verdict : G_MISSING),
				grade_name(r->ran ? r->behavior : G_MISSING),
				grade_name(r->ran ? r->close : G_MISSING), code, r->ms, reason);
		}
	if (fclose(f) != 0 || rename(tmp, report_path) != 0)
		fprintf(stderr, "fuzzserver: writing %s: %s\n", report_path, strerror(errno));
}

static void print_summary(const struct agent *a)
{
	int n[G_MISSING + 1] = { 0 };
	for (size_t i = 0; i < nsel; i++)
		n[a->res[i].ran ? a->res[i].verdict : G_MISSING]++;
	printf("agent %s: %zu cases: %d OK, %d NON-STRICT, %d INFORMATIONAL, %d FAILED, %d MISSING\n",
	       a->name, nsel, n[G_OK], n[G_NON_STRICT], n[G_INFORMATIONAL], n[G_FAILED],
	       n[G_MISSING]);
}

/* --- HTTP ----------------------------------------------------------------------- */

/* Reads the request head (up to the blank line) within HEAD_MS: its
 * length, or -1. *extra tells whether bytes followed it. */
static int read_head(int fd, char *buf, size_t cap, int *extra)
{
	size_t n = 0;
	long long end = now_us() + HEAD_MS * 1000LL;
	*extra = 0;
	while (n + 1 < cap) {
		long long left = (end - now_us()) / 1000;
		if (left <= 0)
			return -1;
		struct pollfd pf = { fd, POLLIN, 0 };
		if (poll(&pf, 1, (int)left) <= 0)
			continue;
		ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = 0;
		char *e = strstr(buf, "\r\n\r\n");
		if (e) {
			size_t hl = (size_t)(e + 4 - buf);
			*extra = n > hl;
			buf[hl] = 0;
			return (int)hl;
		}
	}
	return -1;
}

/* The value of header name (trimmed), or NULL. */
static const char *header(const char *head, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *l = strstr(head, "\r\n"); l && l[2] && l[2] != '\r';
	     l = strstr(l + 2, "\r\n")) {
		const char *h = l + 2;
		if (strncasecmp(h, name, nl) || h[nl] != ':')
			continue;
		h += nl + 1;
		while (*h == ' ' || *h == '\t')
			h++;
		const char *e = strstr(h, "\r\n");
		size_t vl = (size_t)(e - h);
		while (vl && (h[vl - 1] == ' ' || h[vl - 1] == '\t'))
			vl--;
		if (vl >= cap)
			vl = cap - 1;
		memcpy(out, h, vl);
		out[vl] = 0;
		return out;
	}
	return NULL;
}

static int has_token(const char *list, const char *tok)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ' || *t == '\t')
			t++;
		size_t l = strlen(t);
		while (l && (t[l - 1] == ' ' || t[l - 1] == '\t'))
			t[--l] = 0;
		if (!strcasecmp(t, tok))
			return 1;
	}
	return 0;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The URL-decoded value of query parameter name, or NULL. */
static const char *param(const char *query, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		if (strncmp(p, name, nl) || p[nl] != '=')
			continue;
		size_t o = 0;
		for (const char *v = p + nl + 1; *v && *v != '&' && o + 1 < cap; v++) {
			if (*v == '%' && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
				out[o++] = (char)(hexval(v[1]) * 16 + hexval(v[2]));
				v += 2;
			} else {
				out[o++] = *v == '+' ? ' ' : *v;
			}
		}
		out[o] = 0;
		return out;
	}
	return NULL;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void http_error(int fd, int status, const char *why)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n", status,
			 status == 404 ? "Not Found" : "Bad Request", strlen(why) + 1, why);
	send_all(fd, buf, (size_t)n);
	close(fd);
}

/* Checks an opening handshake as RFC 6455 4.1 makes the client send it:
 * NULL if right, else what is wrong. key gets the key. */
static const char *check_request(const char *head, char *key, size_t kcap)
{
	char v[512];
	if (strncmp(head, "GET ", 4))
		return "the request is not a GET";
	const char *sp = strchr(head + 4, ' ');
	if (!sp || strncmp(sp, " HTTP/1.1\r\n", 11))
		return "the request line does not end with HTTP/1.1";
	if (!header(head, "Host", v, sizeof(v)))
		return "no Host header";
	if (!header(head, "Upgrade", v, sizeof(v)) || !has_token(v, "websocket"))
		return "no Upgrade: websocket header";
	if (!header(head, "Connection", v, sizeof(v)) || !has_token(v, "upgrade"))
		return "no Connection header with the Upgrade token";
	if (!header(head, "Sec-WebSocket-Version", v, sizeof(v)) || strcmp(v, "13"))
		return "no Sec-WebSocket-Version: 13 header";
	if (!header(head, "Sec-WebSocket-Key", key, kcap))
		return "no Sec-WebSocket-Key header";
	if (base64_decoded_len(key) != 16)
		return "a Sec-WebSocket-Key that is not 16 bytes in base64";
	return NULL;
}

static void send_101(int fd, const char *key)
{
	char in[256], acc[64], buf[512];
	uint8_t dig[20];
	snprintf(in, sizeof(in), "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	sha1(in, strlen(in), dig);
	base64_encode(dig, 20, acc);
	int n = snprintf(buf, sizeof(buf), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
			 "Server: ringws-fuzzserver\r\n\r\n", acc);
	send_all(fd, buf, (size_t)n);
}

/* --- the endpoints -------------------------------------------------------------------- */

static void record(struct agent *a, size_t i, enum grade v, enum grade b, enum grade cl, int code,
		   long long ms, const char *reason)
{
	struct result *r = &a->res[i];
	r->ran = 1;
	r->verdict = v;
	r->behavior = b;
	r->close = cl;
	r->remote_code = code;
	r->ms = ms;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	printf("case %s (%zu/%zu) agent %s: %s (%lld ms): %s\n", cases[sel[i]].id, i + 1, nsel,
	       a->name, grade_name(v), ms, reason);
	write_report();
}

static void run_case(int fd, struct agent *a, size_t i)
{
	const struct case_def *d = &cases[sel[i]];
	struct conn c;
	conn_init(&c, fd, d);
	d->open(&c);
	conn_run(&c, d->wait_ms > 1000 ? d->wait_ms + 10000 : CASE_MS);
	char reason[600];
	enum grade v = conn_grade(&c, reason, sizeof(reason));
	record(a, i, v, c.behavior, c.close_grade, c.remote_code, (now_us() - c.t0_us) / 1000,
	       reason);
	conn_free(&c);
}

/* getCaseCount and updateReports: an optional text message, then close */
static void serve_simple(int fd, const char *text)
{
	struct conn c;
	conn_init(&c, fd, NULL);
	if (text)
		q_frame(&c, FIN | OP_TEXT, text, strlen(text), 0, 0);
	send_close(&c, 1000, NULL, 0);
	conn_run(&c, CASE_MS);
	if (c.fail[0])
		printf("client broke the protocol on a control connection: %s\n", c.fail);
	conn_free(&c);
}

static void serve(int fd)
{
	char head[8192], key[128], path[1024], query[1024], v[256];
	int extra;
	if (read_head(fd, head, sizeof(head), &extra) < 0) {
		printf("a connection sent no complete request within %d ms\n", HEAD_MS);
		close(fd);
		return;
	}
	const char *why = check_request(head, key, sizeof(key));
	if (!why && extra)
		why = "data sent before the server's handshake response";
	/* the request target: path and query */
	path[0] = query[0] = 0;
	const char *t = head + (strncmp(head, "GET ", 4) ? 0 : 4);
	size_t tl = strcspn(t, " \r\n");
	size_t pl = strcspn(t, "? \r\n");
	snprintf(path, sizeof(path), "%.*s", (int)pl, t);
	if (pl < tl)
		snprintf(query, sizeof(query), "%.*s", (int)(tl - pl - 1), t + pl + 1);

	if (!strcmp(path, "/runCase")) {
		const char *cs = param(query, "case", v, sizeof(v));
		long ci = cs ? strtol(cs, NULL, 10) : 0;
		char name[64];
		const char *an = param(query, "agent", name, sizeof(name));
		if (ci < 1 || (size_t)ci > nsel) {
			printf("runCase: no case %s (there are %zu)\n", cs ? cs : "given", nsel);
			http_error(fd, 400, "case not found");
			return;
		}
		struct agent *a = an && *an ? agent_get(an) : NULL;
		if (!a) {
			printf("runCase: no agent given (or too many agents)\n");
			http_error(fd, 400, "need agent to run case");
			return;
		}
		if (why) {
			char r[300];
			snprintf(r, sizeof(r), "bad opening handshake: %s", why);
			record(a, (size_t)ci - 1, G_FAILED, G_FAILED, G_FAILED, -1, 0, r);
			http_error(fd, 400, why);
			return;
		}
		send_101(fd, key);
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		run_case(fd, a, (size_t)ci - 1);
		return;
	}
	if (strcmp(path, "/getCaseCount") && strcmp(path, "/updateReports")) {
		printf("no endpoint %s\n", path);
		http_error(fd, 404, "no such endpoint");
		return;
	}
	if (why) {
		printf("%s: bad opening handshake: %s\n", path, why);
		http_error(fd, 400, why);
		return;
	}
	char count[32], name[64];
	struct agent *a = NULL;
	if (!strcmp(path, "/updateReports")) {
		const char *an = param(query, "agent", name, sizeof(name));
		if (!an || !*an) {
			http_error(fd, 400, "need agent to update reports for");
			return;
		}
		a = agent_get(an);
		write_report();
	}
	send_101(fd, key);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (a) {
		print_summary(a);
		serve_simple(fd, NULL);
	} else {
		snprintf(count, sizeof(count), "%zu", nsel);
		serve_simple(fd, count);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: fuzzserver [--port PORT] [--cases PATTERN[,PATTERN...]] "
		"[--report FILE] [--list]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int port = 0, list = 0;
	const char *patterns = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cases") && i + 1 < argc)
			patterns = argv[++i];
		else if (!strcmp(argv[i], "--report") && i + 1 < argc)
			report_path = argv[++i];
		else if (!strcmp(argv[i], "--list"))
			list = 1;
		else
			usage();
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	cases_init();
	select_cases(patterns);
	if (list) {
		for (size_t i = 0; i < nsel; i++)
			printf("%s\n", cases[sel[i]].id);
		return 0;
	}
	if (!nsel) {
		fprintf(stderr, "fuzzserver: no case matches %s\n", patterns);
		return 2;
	}

	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 64) ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl)) {
		fprintf(stderr, "fuzzserver: listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 1;
	}
	write_report();
	printf("listening on 127.0.0.1:%d (%zu cases)\n", ntohs(sa.sin_port), nsel);
	for (;;) {
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "fuzzserver: accept: %s\n", strerror(errno));
			return 1;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		serve(fd);
	}
}
