/*
 * ringcat_autobahn: --autobahn, the client agent of Autobahn|Testsuite's
 * fuzzing server: BASE/getCaseCount (one text message: the count), then
 * BASE/runCase?case=I&agent=NAME for I = 1..count, one at a time, echoing
 * every message with its type until the server closes (at most CASE_MS a
 * case), then BASE/updateReports?agent=NAME. The server grades the cases;
 * ringcat exits 0 once the loop is done. The echo runs on the reactor, in
 * on_message; pings are answered by the library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringcat.h"

#define CASE_MS 60000
#define CLOSE_MS 10000			/* the close timeout of our connections */
#define MAX_PAYLOAD (128ull << 20)	/* 9.x sends up to 16 MiB */

/* One connection's story (its user data). Kept (leaked) if it never ends, since its
 * callbacks may still come. */
struct visit {
	struct rws_conn *c;
	int count_mode;		/* getCaseCount: keep the first message, echo nothing */
	int done, failed, err, code;
	unsigned long echoed;
	char first[64];
	char msg[300];
};

static void ab_open(void *ctx, struct rws_conn *c)
{
	(void)ctx;
	struct visit *v = rws_conn_user(c);
	pthread_mutex_lock(&rc_lock);
	v->c = c;
	pthread_mutex_unlock(&rc_lock);
}

static void ab_message(void *ctx, struct rws_conn *c, const void *d, size_t n, int is_text)
{
	(void)ctx;
	struct visit *v = rws_conn_user(c);
	if (v->count_mode) {
		pthread_mutex_lock(&rc_lock);
		if (!v->first[0])
			snprintf(v->first, sizeof(v->first), "%.*s", (int)(n < 60 ? n : 60),
				 (const char *)d);
		pthread_mutex_unlock(&rc_lock);
		return;
	}
	v->echoed++;	/* read by the main thread after done, under the lock */
	rws_conn_send(c, d, n, is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY);
}

static void ab_close(void *ctx, struct rws_conn *c, int code, const char *r, size_t n)
{
	(void)ctx, (void)r, (void)n;
	struct visit *v = rws_conn_user(c);
	pthread_mutex_lock(&rc_lock);
	v->done = 1;
	v->code = code;
	pthread_cond_broadcast(&rc_cond);
	pthread_mutex_unlock(&rc_lock);
}

static void ab_error(void *ctx, struct rws_conn *c, int err, int status, const char *msg)
{
	(void)ctx, (void)status;
	struct visit *v = rws_conn_user(c);
	pthread_mutex_lock(&rc_lock);
	v->done = 1;
	v->failed = 1;
	v->err = err;
	snprintf(v->msg, sizeof(v->msg), "%s", msg ? msg : rws_strerror(err));
	pthread_cond_broadcast(&rc_cond);
	pthread_mutex_unlock(&rc_lock);
}

static const struct rws_handler ab_handler = {
	.struct_size = sizeof(struct rws_handler),
	.on_open = ab_open,
	.on_message = ab_message,
	.on_close = ab_close,
	.on_error = ab_error,
};

static struct rws_server *srv;
static struct rws_client_options copts;
static int stuck;	/* a connection did not end: its callbacks may still come */

/* Runs one connection to its end (or CASE_MS, or a signal). Returns the
 * visit when it ended, else NULL (after saying why); *st gets the exit
 * status that a failure to connect means. */
static struct visit *visit(const char *url, int count_mode, int *st)
{
	struct visit *v = calloc(1, sizeof(*v));
	if (!v) {
		rc_err("out of memory");
		*st = RC_CONNECT;
		return NULL;
	}
	v->count_mode = count_mode;
	char eb[256] = "";
	int rc = rws_connect(srv, url, &copts, &ab_handler, v, eb, sizeof(eb));
	if (rc < 0) {
		rc_err("%s: %s", url, eb[0] ? eb : rws_strerror(rc));
		*st = rc == -EINVAL ? RC_USAGE : RC_CONNECT;
		free(v);
		return NULL;
	}
	pthread_mutex_lock(&rc_lock);
	long long deadline = rc_now_ms() + CASE_MS;
	int closing = 0;
	while (!v->done && !rc_signals) {
		if (rc_wait(deadline) != ETIMEDOUT)
			continue;
		if (closing || !v->c)
			break;
		rc_err("%s: no end after %d s: closing it", url, CASE_MS / 1000);
		rws_conn_close(v->c, 1001, "ringcat: case timeout");
		closing = 1;
		deadline = rc_now_ms() + CLOSE_MS + 1000;
	}
	int done = v->done;
	pthread_mutex_unlock(&rc_lock);
	if (!done) {
		if (!rc_signals)
			rc_err("%s: the connection did not end", url);
		*st = RC_CONNECT;
		stuck = 1;
		return NULL;	/* v stays: the reactor may still use it */
	}
	return v;
}

/* BASE + tail, with http(s):// taken as ws(s):// and no doubled slash. */
static char *url_of(const char *base, const char *tail)
{
	const char *scheme = "", *rest = base;
	if (strncmp(base, "http://", 7) == 0)
		scheme = "ws://", rest = base + 7;
	else if (strncmp(base, "https://", 8) == 0)
		scheme = "wss://", rest = base + 8;
	size_t n = strlen(rest);
	while (n && rest[n - 1] == '/')
		n--;
	char *u;
	if (asprintf(&u, "%s%.*s%s", scheme, (int)n, rest, tail) < 0) {
		rc_err("out of memory");
		exit(RC_CONNECT);
	}
	return u;
}

/* The agent's name percent-encoded for the query. */
static char *encode(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *o = out;
	if (!out) {
		rc_err("out of memory");
		exit(RC_CONNECT);
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			*o++ = (char)c;
		else
			o += sprintf(o, "%%%02X", c);
	}
	*o = 0;
	return out;
}

static int run(void);

int rc_autobahn_main(void)
{
	rc_signals_start();
	/* no send bound: 9.x echoes messages of up to 16 MiB back to back */
	srv = rc_client_reactor(CLOSE_MS, 0);
	if (!srv)
		return RC_CONNECT;
	int st = run();
	if (!stuck && !rc_signals)
		rws_server_destroy(srv);
	return st;
}

/* One of the two bookkeeping connections (getCaseCount, updateReports):
 * 0, or the exit status after saying what went wrong. The first message
 * goes into first (cap bytes) when it is given. */
static int ask(const char *tail, char *first, size_t cap)
{
	int st = RC_OK;
	char *u = url_of(opt.autobahn, tail);
	struct visit *v = visit(u, 1, &st);
	if (v && v->failed) {
		rc_err("%s: %s", u, v->msg);
		st = rc_error_status(v->err);
	} else if (v && first) {
		snprintf(first, cap, "%s", v->first);
	}
	free(u);
	free(v);
	return st;
}

static int run(void)
{
	rws_client_options_default(&copts);
	copts.deflate = opt.deflate == 1;
	copts.max_payload = opt.max_payload_set ? opt.max_payload : MAX_PAYLOAD;
	copts.headers = opt.headers;
	copts.num_headers = opt.nheaders;
	copts.origin = opt.origin;
	copts.proxy = opt.proxy;
	if (opt.handshake_timeout_ms != UINT32_MAX)
		copts.handshake_timeout_ms = opt.handshake_timeout_ms;

	char first[64];
	int st = ask("/getCaseCount", first, sizeof(first));
	if (st != RC_OK)
		return st;
	char *end;
	unsigned long count = strtoul(first, &end, 10);
	if (!first[0] || *end || count > 100000) {
		rc_err("%s/getCaseCount: expected the number of cases, got \"%s\"", opt.autobahn,
		       first);
		return RC_CONNECT;
	}
	char *agent = encode(opt.agent);
	char tail[512];
	for (unsigned long i = 1; i <= count; i++) {
		snprintf(tail, sizeof(tail), "/runCase?case=%lu&agent=%s", i, agent);
		char *u = url_of(opt.autobahn, tail);
		long long t0 = rc_now_ms();
		struct visit *v = visit(u, 0, &st);
		free(u);
		if (!v) {
			if (rc_signals)
				rc_err("interrupted at case %lu of %lu", i, count);
			free(agent);
			return RC_CONNECT;
		}
		if (v->failed)
			rc_info("case %lu/%lu: failed to connect: %s", i, count, v->msg);
		else
			rc_info("case %lu/%lu: closed %d, %lu message(s) echoed, %lld ms", i, count,
				v->code, v->echoed, rc_now_ms() - t0);
		free(v);
	}
	snprintf(tail, sizeof(tail), "/updateReports?agent=%s", agent);
	free(agent);
	st = ask(tail, NULL, 0);
	if (st == RC_OK)
		rc_info("agent %s: ran %lu cases, reports updated", opt.agent, count);
	return st;
}
