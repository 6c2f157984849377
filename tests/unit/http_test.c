/*
 * http_test: the HTTP/1.1 head parser. Every input goes through parse_*()
 * below, which parses it from a guard copy (a one-byte over-read crashes)
 * split at every offset: each prefix must answer RWS_HTTP_INCOMPLETE or the
 * whole input's answer, and a good head's prefixes must all be incomplete.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "protocol/http.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The guard copy behind the last parse; its views stay valid until the next. */
static uint8_t *live;

static int req_split_checked(const char *s, size_t len, const struct rws_http_limits *lim,
			     struct rws_http_request *req, int every)
{
	if (live)
		guard_free(live);
	live = guard_copy(s, len);
	int whole = rws_http_parse_request((const char *)live, len, lim, req);
	size_t step = every ? 1 : len / 61 + 1;
	for (size_t k = 0; k < len; k += step) {
		static struct rws_http_request r;
		uint8_t *g = guard_copy(s, k);
		int rc = rws_http_parse_request((const char *)g, k, lim, &r);
		guard_free(g);
		if (whole > 0 && (size_t)whole > k)
			cr_assert_eq(rc, RWS_HTTP_INCOMPLETE, "prefix %zu of a good head: %d", k, rc);
		else
			cr_assert(rc == RWS_HTTP_INCOMPLETE || rc == whole,
				  "prefix %zu says %d (%s), whole says %d (%s)", k, rc,
				  rws_http_error_name(rc), whole, rws_http_error_name(whole));
	}
	return whole;
}

static int parse_req(const char *s, struct rws_http_request *req)
{
	return req_split_checked(s, strlen(s), NULL, req, 1);
}

static int parse_res(const char *s, struct rws_http_response *res)
{
	size_t len = strlen(s);
	if (live)
		guard_free(live);
	live = guard_copy(s, len);
	int whole = rws_http_parse_response((const char *)live, len, NULL, res);
	for (size_t k = 0; k < len; k++) {
		static struct rws_http_response r;
		uint8_t *g = guard_copy(s, k);
		int rc = rws_http_parse_response((const char *)g, k, NULL, &r);
		guard_free(g);
		if (whole > 0 && (size_t)whole > k)
			cr_assert_eq(rc, RWS_HTTP_INCOMPLETE, "prefix %zu: %d", k, rc);
		else
			cr_assert(rc == RWS_HTTP_INCOMPLETE || rc == whole,
				  "prefix %zu says %d, whole says %d", k, rc, whole);
	}
	return whole;
}

static int str_is(struct rws_str s, const char *lit)
{
	return s.p && s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static struct rws_http_request req;
static struct rws_http_response res;

Test(http, request_fields)
{
	const char *s = "GET /chat?room=1&x HTTP/1.1\r\n"
			"Host: server.example.com\r\n"
			"X-Padded:   spaced value \t \r\n"
			"X-Empty:\r\n"
			"\r\n";
	int rc = parse_req(s, &req);
	cr_assert_eq(rc, (int)strlen(s));
	cr_assert(str_is(req.method, "GET"));
	cr_assert(str_is(req.target, "/chat?room=1&x"));
	cr_assert(str_is(req.path, "/chat"));
	cr_assert(str_is(req.query, "room=1&x"));
	cr_assert_eq(req.major, 1);
	cr_assert_eq(req.minor, 1);
	cr_assert_eq(req.num_headers, 3);
	cr_assert(str_is(req.headers[0].name, "Host"));
	cr_assert(str_is(req.headers[0].value, "server.example.com"));
	cr_assert(str_is(req.headers[1].value, "spaced value"));
	cr_assert(str_is(req.headers[2].name, "X-Empty"));
	cr_assert_eq(req.headers[2].value.len, 0);
	/* zero-copy: the views point into the parsed buffer */
	const char *b = (const char *)live;
	cr_assert(req.method.p == b);
	cr_assert(req.headers[1].value.p > b && req.headers[1].value.p < b + rc);
}

Test(http, body_after_head_not_consumed)
{
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r\n\x81\x05hello";
	cr_assert_eq(parse_req(s, &req), (int)(strlen(s) - 7));
}

Test(http, query_forms)
{
	cr_assert_gt(parse_req("GET /p HTTP/1.1\r\n\r\n", &req), 0);
	cr_assert(str_is(req.path, "/p"));
	cr_assert_null(req.query.p);
	cr_assert_gt(parse_req("GET /p? HTTP/1.1\r\n\r\n", &req), 0);
	cr_assert_not_null(req.query.p);
	cr_assert_eq(req.query.len, 0);
	cr_assert_gt(parse_req("GET /?a?b HTTP/1.1\r\n\r\n", &req), 0);
	cr_assert(str_is(req.path, "/"));
	cr_assert(str_is(req.query, "a?b"));
}

Test(http, absolute_form)
{
	cr_assert_gt(parse_req("GET ws://example.com:8080/chat?x=1 HTTP/1.1\r\n\r\n", &req), 0);
	cr_assert(str_is(req.path, "/chat"));
	cr_assert(str_is(req.query, "x=1"));
	cr_assert_gt(parse_req("GET https://example.com HTTP/1.1\r\n\r\n", &req), 0);
	cr_assert(str_is(req.path, "/"));
	cr_assert_null(req.query.p);
	cr_assert_gt(parse_req("GET http://example.com?q HTTP/1.1\r\n\r\n", &req), 0);
	cr_assert(str_is(req.path, "/"));
	cr_assert(str_is(req.query, "q"));
}

Test(http, bare_lf_line_endings)
{
	const char *s = "GET / HTTP/1.1\nHost: a\r\nX: y\n\n";
	cr_assert_eq(parse_req(s, &req), (int)strlen(s));
	cr_assert_eq(req.num_headers, 2);
	cr_assert(str_is(req.headers[1].value, "y"));
	s = "GET / HTTP/1.1\r\nHost: a\r\n\n";
	cr_assert_eq(parse_req(s, &req), (int)strlen(s));
}

Test(http, obs_text_in_value_allowed)
{
	cr_assert_gt(parse_req("GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n", &req), 0);
}

struct bad {
	const char *in;
	int err;
	int status;
};

static void expect_request_errors(const struct bad *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = parse_req(c[i].in, &req);
		cr_assert_eq(rc, c[i].err, "case %zu: got %d (%s), want %s", i, rc,
			     rws_http_error_name(rc), rws_http_error_name(c[i].err));
		cr_assert_eq(rws_http_error_status(rc), c[i].status, "case %zu", i);
		cr_assert_not_null(rws_http_strerror(rc));
	}
}

Test(http, bad_method)
{
	static const struct bad c[] = {
		{ "G(T / HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_METHOD, 400 },
		{ "GE\x01T / HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_METHOD, 400 },
		{ " GET / HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_METHOD, 400 },
		{ "G@T / HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_METHOD, 400 },
		{ "\r\n\r\n", RWS_HTTP_E_BAD_METHOD, 400 },
		{ "GET\t/ HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_METHOD, 400 },
	};
	expect_request_errors(c, N(c));
}

/* A TLS ClientHello on a plain port fails at its first byte. */
Test(http, garbage_refused_early)
{
	cr_assert_eq(parse_req("\x16\x03\x01\x02", &req), RWS_HTTP_E_BAD_METHOD);
	cr_assert_eq(parse_req("\x16", &req), RWS_HTTP_E_BAD_METHOD);
	cr_assert_eq(parse_req("GET /\x01", &req), RWS_HTTP_E_BAD_TARGET);
	cr_assert_eq(parse_req("GET / HTTQ", &req), RWS_HTTP_E_BAD_VERSION);
}

Test(http, missing_space)
{
	static const struct bad c[] = {
		{ "GET\r\n\r\n", RWS_HTTP_E_MISSING_SP, 400 },
		{ "GET /chat\r\n\r\n", RWS_HTTP_E_MISSING_SP, 400 },
		{ "GET/chat HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_METHOD, 400 },
	};
	expect_request_errors(c, N(c));
}

Test(http, bad_target)
{
	static const struct bad c[] = {
		{ "GET  / HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_TARGET, 400 },
		{ "GET * HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_TARGET, 400 },
		{ "GET chat HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_TARGET, 400 },
		{ "GET /a#b HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_TARGET, 400 },
		{ "GET /\x7f HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_TARGET, 400 },
		{ "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_TARGET, 400 },
		{ "GET ws:///x HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_TARGET, 400 },
		{ "GET 1ws://x/ HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_TARGET, 400 },
		{ "GET ws:/x HTTP/1.1\r\n\r\n", RWS_HTTP_E_BAD_TARGET, 400 },
	};
	expect_request_errors(c, N(c));
}

Test(http, nul_in_target)
{
	static const char s[] = "GET /\0 HTTP/1.1\r\n\r\n";
	cr_assert_eq(req_split_checked(s, sizeof(s) - 1, NULL, &req, 1), RWS_HTTP_E_BAD_TARGET);
}

Test(http, bad_version)
{
	static const struct bad c[] = {
		{ "GET / HTTP/1.1x\r\n\r\n", RWS_HTTP_E_BAD_VERSION, 400 },
		{ "GET / HTTP/11\r\n\r\n", RWS_HTTP_E_BAD_VERSION, 400 },
		{ "GET / http/1.1\r\n\r\n", RWS_HTTP_E_BAD_VERSION, 400 },
		{ "GET / HTTP/1.1 \r\n\r\n", RWS_HTTP_E_BAD_VERSION, 400 },
		{ "GET / HTTP/1.10\r\n\r\n", RWS_HTTP_E_BAD_VERSION, 400 },
		{ "GET / HTTP/1.\r\n\r\n", RWS_HTTP_E_BAD_VERSION, 400 },
		{ "GET / HTTP/x.1\r\n\r\n", RWS_HTTP_E_BAD_VERSION, 400 },
		{ "GET / \r\n\r\n", RWS_HTTP_E_BAD_VERSION, 400 },
		{ "GET / HTTP/1.1 extra\r\n\r\n", RWS_HTTP_E_BAD_VERSION, 400 },
	};
	expect_request_errors(c, N(c));
	/* syntax only: HTTP/1.0 parses (the handshake refuses it) */
	cr_assert_gt(parse_req("GET / HTTP/1.0\r\n\r\n", &req), 0);
	cr_assert_eq(req.minor, 0);
	cr_assert_gt(parse_req("GET / HTTP/2.0\r\n\r\n", &req), 0);
	cr_assert_eq(req.major, 2);
}

Test(http, bare_cr)
{
	static const struct bad c[] = {
		{ "GET /\r HTTP/1.1\r\n\r\n", RWS_HTTP_E_BARE_CR, 400 },
		{ "GET / HTTP/1.1\rX\r\n\r\n", RWS_HTTP_E_BARE_CR, 400 },
		{ "GET\r / HTTP/1.1\r\n\r\n", RWS_HTTP_E_BARE_CR, 400 },
		{ "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", RWS_HTTP_E_BARE_CR, 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", RWS_HTTP_E_BARE_CR, 400 },
		{ "GET / HTTP/1.1\r\n\r\r\n", RWS_HTTP_E_BARE_CR, 400 },
	};
	expect_request_errors(c, N(c));
}

Test(http, obs_fold)
{
	static const struct bad c[] = {
		{ "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", RWS_HTTP_E_OBS_FOLD, 400 },
		{ "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", RWS_HTTP_E_OBS_FOLD, 400 },
		{ "GET / HTTP/1.1\r\n Host: a\r\n\r\n", RWS_HTTP_E_OBS_FOLD, 400 },
	};
	expect_request_errors(c, N(c));
}

Test(http, bad_header_name)
{
	static const struct bad c[] = {
		{ "GET / HTTP/1.1\r\nHo st: x\r\n\r\n", RWS_HTTP_E_BAD_HEADER_NAME, 400 },
		{ "GET / HTTP/1.1\r\nHost : x\r\n\r\n", RWS_HTTP_E_BAD_HEADER_NAME, 400 },
		{ "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", RWS_HTTP_E_BAD_HEADER_NAME, 400 },
		{ "GET / HTTP/1.1\r\n: x\r\n\r\n", RWS_HTTP_E_BAD_HEADER_NAME, 400 },
		{ "GET / HTTP/1.1\r\nH@st: x\r\n\r\n", RWS_HTTP_E_BAD_HEADER_NAME, 400 },
		{ "GET / HTTP/1.1\r\nH\x01st: x\r\n\r\n", RWS_HTTP_E_BAD_HEADER_NAME, 400 },
		{ "GET / HTTP/1.1\r\nHost\r\n\r\n", RWS_HTTP_E_NO_COLON, 400 },
		{ "GET / HTTP/1.1\r\nHost x\r\n\r\n", RWS_HTTP_E_NO_COLON, 400 },
	};
	expect_request_errors(c, N(c));
}

Test(http, bad_header_value)
{
	static const struct bad c[] = {
		{ "GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", RWS_HTTP_E_BAD_HEADER_VALUE, 400 },
		{ "GET / HTTP/1.1\r\nX: a\x7f" "b\r\n\r\n", RWS_HTTP_E_BAD_HEADER_VALUE, 400 },
		{ "GET / HTTP/1.1\r\nX: \x1b[0m\r\n\r\n", RWS_HTTP_E_BAD_HEADER_VALUE, 400 },
		{ "GET / HTTP/1.1\r\nX: \x0b\r\n\r\n", RWS_HTTP_E_BAD_HEADER_VALUE, 400 },
	};
	expect_request_errors(c, N(c));
	static const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
	cr_assert_eq(req_split_checked(nul, sizeof(nul) - 1, NULL, &req, 1),
		     RWS_HTTP_E_BAD_HEADER_VALUE);
	/* HTAB inside a value is allowed */
	cr_assert_gt(parse_req("GET / HTTP/1.1\r\nX: a\tb\r\n\r\n", &req), 0);
	cr_assert(str_is(req.headers[0].value, "a\tb"));
}

/* --- limits --------------------------------------------------------------- */

/* A request line of exactly `n` bytes (without CRLF). */
static char *request_line(size_t n)
{
	static char buf[20000];
	const char *pre = "GET /", *post = " HTTP/1.1";
	size_t fill = n - strlen(pre) - strlen(post);
	char *p = buf;
	memcpy(p, pre, strlen(pre));
	p += strlen(pre);
	memset(p, 'a', fill);
	p += fill;
	memcpy(p, post, strlen(post));
	p += strlen(post);
	*p = '\0';
	return buf;
}

Test(http, request_line_limit)
{
	static char s[20000];
	snprintf(s, sizeof(s), "%s\r\n\r\n", request_line(4096));
	cr_assert_eq(req_split_checked(s, strlen(s), NULL, &req, 0), (int)strlen(s));
	snprintf(s, sizeof(s), "%s\r\n\r\n", request_line(4097));
	int rc = req_split_checked(s, strlen(s), NULL, &req, 0);
	cr_assert_eq(rc, RWS_HTTP_E_LINE_TOO_LONG);
	cr_assert_eq(rws_http_error_status(rc), 414);

	/* before the line ends: 4096 bytes may still be fine, 4097 are not */
	cr_assert_eq(rws_http_parse_request(s, 4096, NULL, &req), RWS_HTTP_INCOMPLETE);
	cr_assert_eq(rws_http_parse_request(s, 4097, NULL, &req), RWS_HTTP_E_LINE_TOO_LONG);
	/* a CR at the edge may belong to CRLF */
	snprintf(s, sizeof(s), "%s\r\n\r\n", request_line(4096));
	uint8_t *g = guard_copy(s, 4097);
	cr_assert_eq(rws_http_parse_request((const char *)g, 4097, NULL, &req), RWS_HTTP_INCOMPLETE);
	guard_free(g);
	/* with LF line ends too */
	snprintf(s, sizeof(s), "%s\n\n", request_line(4097));
	cr_assert_eq(req_split_checked(s, strlen(s), NULL, &req, 0), RWS_HTTP_E_LINE_TOO_LONG);
}

/* A head of exactly `n` bytes: request line, one padding header, blank line. */
static char *head_of(size_t n)
{
	static char buf[20000];
	const char *pre = "GET / HTTP/1.1\r\nX-Pad: ", *post = "\r\n\r\n";
	size_t fill = n - strlen(pre) - strlen(post);
	memcpy(buf, pre, strlen(pre));
	memset(buf + strlen(pre), 'p', fill);
	memcpy(buf + strlen(pre) + fill, post, strlen(post) + 1);
	return buf;
}

Test(http, head_size_limit)
{
	char *s = head_of(8192);
	cr_assert_eq(strlen(s), 8192);
	cr_assert_eq(req_split_checked(s, 8192, NULL, &req, 0), 8192);
	s = head_of(8193);
	int rc = req_split_checked(s, 8193, NULL, &req, 0);
	cr_assert_eq(rc, RWS_HTTP_E_HEAD_TOO_LARGE);
	cr_assert_eq(rws_http_error_status(rc), 431);
	/* decided as soon as 8192 bytes without a blank line are in */
	cr_assert_eq(rws_http_parse_request(s, 8191, NULL, &req), RWS_HTTP_INCOMPLETE);
	uint8_t *g = guard_copy(s, 8192);
	cr_assert_eq(rws_http_parse_request((const char *)g, 8192, NULL, &req),
		     RWS_HTTP_E_HEAD_TOO_LARGE);
	guard_free(g);
	/* bytes after a head that fits do not count */
	static char t[9000];
	memcpy(t, head_of(8192), 8192);
	memset(t + 8192, 'x', 500);
	cr_assert_eq(rws_http_parse_request(t, 8692, NULL, &req), 8192);
}

static char *headers_of(size_t count)
{
	static char buf[20000];
	size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
	for (size_t i = 0; i < count; i++)
		n += (size_t)sprintf(buf + n, "X-%zu: v\r\n", i);
	sprintf(buf + n, "\r\n");
	return buf;
}

Test(http, header_count_limit)
{
	char *s = headers_of(64);
	cr_assert_eq(req_split_checked(s, strlen(s), NULL, &req, 0), (int)strlen(s));
	cr_assert_eq(req.num_headers, 64);
	s = headers_of(65);
	int rc = req_split_checked(s, strlen(s), NULL, &req, 0);
	cr_assert_eq(rc, RWS_HTTP_E_TOO_MANY_HEADERS);
	cr_assert_eq(rws_http_error_status(rc), 431);
}

Test(http, custom_limits)
{
	struct rws_http_limits lim = { .max_head = 64, .max_line = 20, .max_headers = 2 };
	const char *ok = "GET /12345 HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";   /* line of 19 */
	cr_assert_eq(req_split_checked(ok, strlen(ok), &lim, &req, 1), (int)strlen(ok));
	const char *three = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	cr_assert_eq(req_split_checked(three, strlen(three), &lim, &req, 1),
		     RWS_HTTP_E_TOO_MANY_HEADERS);
	const char *line = "GET /1234567 HTTP/1.1\r\n\r\n";   /* line of 21 */
	cr_assert_eq(req_split_checked(line, strlen(line), &lim, &req, 1),
		     RWS_HTTP_E_LINE_TOO_LONG);
	const char *big = "GET / HTTP/1.1\r\nA: 012345678901234567890123456789012345678901\r\n\r\n";
	cr_assert_eq(strlen(big), 65);
	cr_assert_eq(req_split_checked(big, strlen(big), &lim, &req, 1),
		     RWS_HTTP_E_HEAD_TOO_LARGE);
	cr_assert_eq(req_split_checked(big + 3, strlen(big) - 3, &lim, &req, 1),
		     RWS_HTTP_E_BAD_METHOD);
	lim.max_head = 65;
	cr_assert_eq(req_split_checked(big, strlen(big), &lim, &req, 1), 65);

	/* zero fields take the defaults; max_headers is capped */
	struct rws_http_limits zero = { 0 };
	char *s = headers_of(65);
	cr_assert_eq(rws_http_parse_request(s, strlen(s), &zero, &req), RWS_HTTP_E_TOO_MANY_HEADERS);
	struct rws_http_limits huge = { .max_head = 20000, .max_headers = 100000 };
	s = headers_of(RWS_HTTP_HEADERS_CAP);
	cr_assert_eq(rws_http_parse_request(s, strlen(s), &huge, &req), (int)strlen(s));
	s = headers_of(RWS_HTTP_HEADERS_CAP + 1);
	cr_assert_eq(rws_http_parse_request(s, strlen(s), &huge, &req), RWS_HTTP_E_TOO_MANY_HEADERS);
}

Test(http, empty_input)
{
	cr_assert_eq(rws_http_parse_request("", 0, NULL, &req), RWS_HTTP_INCOMPLETE);
	cr_assert_eq(rws_http_parse_response("", 0, NULL, &res), RWS_HTTP_INCOMPLETE);
}

/* Random damage to a good request: whatever the answer, every prefix agrees. */
Test(http, split_consistency_random)
{
	const char *base = "GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\n"
			   "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
	static const char alphabet[] = "\r\n :\t/?#aZ\x01\x7f\x80HTTP1.";
	uint64_t seed = 2024;
	char s[256];
	for (int round = 0; round < 400; round++) {
		size_t len = strlen(base);
		memcpy(s, base, len + 1);
		int edits = 1 + (int)(test_rand(&seed) % 3);
		for (int e = 0; e < edits; e++)
			s[test_rand(&seed) % len] = alphabet[test_rand(&seed) % (sizeof(alphabet) - 1)];
		req_split_checked(s, len, NULL, &req, 1);
	}
}

/* --- responses ------------------------------------------------------------ */

Test(http, response_fields)
{
	const char *s = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
	cr_assert_eq(parse_res(s, &res), (int)strlen(s));
	cr_assert_eq(res.status, 101);
	cr_assert_eq(res.major, 1);
	cr_assert_eq(res.minor, 1);
	cr_assert(str_is(res.reason, "Switching Protocols"));
	cr_assert_eq(res.num_headers, 1);

	cr_assert_gt(parse_res("HTTP/1.1 101\r\n\r\n", &res), 0);
	cr_assert_eq(res.reason.len, 0);
	cr_assert_gt(parse_res("HTTP/1.1 404 \r\n\r\n", &res), 0);
	cr_assert_eq(res.status, 404);
	cr_assert_eq(res.reason.len, 0);
	cr_assert_gt(parse_res("HTTP/1.0 200 OK\n\n", &res), 0);
	cr_assert_eq(res.minor, 0);
}

Test(http, response_errors)
{
	static const struct bad c[] = {
		{ "HTTP/1.1 1011 x\r\n\r\n", RWS_HTTP_E_BAD_STATUS, 0 },
		{ "HTTP/1.1 10 x\r\n\r\n", RWS_HTTP_E_BAD_STATUS, 0 },
		{ "HTTP/1.1 10\r\n\r\n", RWS_HTTP_E_BAD_STATUS, 0 },
		{ "HTTP/1.1  101 x\r\n\r\n", RWS_HTTP_E_BAD_STATUS, 0 },
		{ "HTTP/1.1 099 x\r\n\r\n", RWS_HTTP_E_BAD_STATUS, 0 },
		{ "HTTP/1.1 1x1 x\r\n\r\n", RWS_HTTP_E_BAD_STATUS, 0 },
		{ "HTTP/1.1 101 a\x01" "b\r\n\r\n", RWS_HTTP_E_BAD_STATUS, 0 },
		{ "HTTP/1.1\r\n\r\n", RWS_HTTP_E_MISSING_SP, 400 },
		{ "HTTP/1.1x101 x\r\n\r\n", RWS_HTTP_E_MISSING_SP, 400 },
		{ "HTTP/1.10 101 x\r\n\r\n", RWS_HTTP_E_BAD_VERSION, 400 },
		{ "ICY 200 OK\r\n\r\n", RWS_HTTP_E_BAD_VERSION, 400 },
		{ "HTTP/1.1 101 x\r y\r\n\r\n", RWS_HTTP_E_BARE_CR, 400 },
		{ "HTTP/1.1 101 x\r\nA: 1\r\n b\r\n\r\n", RWS_HTTP_E_OBS_FOLD, 400 },
		{ "HTTP/1.1 101 x\r\nA b: 1\r\n\r\n", RWS_HTTP_E_BAD_HEADER_NAME, 400 },
		{ "HTTP/1.1 101 x\r\nA\x02: 1\r\n\r\n", RWS_HTTP_E_BAD_HEADER_NAME, 400 },
		{ "HTTP/1.1 101 x\r\nA: 1\x02\r\n\r\n", RWS_HTTP_E_BAD_HEADER_VALUE, 400 },
	};
	for (size_t i = 0; i < N(c); i++) {
		int rc = parse_res(c[i].in, &res);
		cr_assert_eq(rc, c[i].err, "case %zu: got %s", i, rws_http_error_name(rc));
		cr_assert_eq(rws_http_error_status(rc), c[i].status, "case %zu", i);
	}
}

/* --- helpers -------------------------------------------------------------- */

Test(http, find_and_list_has)
{
	const char *s = "GET / HTTP/1.1\r\nconnection: keep-alive\r\nHost: a\r\n"
			"CONNECTION: Upgrade\r\n\r\n";
	cr_assert_gt(parse_req(s, &req), 0);
	size_t from = 0;
	const struct rws_http_header *h = rws_http_find(req.headers, req.num_headers,
							"Connection", &from);
	cr_assert_not_null(h);
	cr_assert(str_is(h->value, "keep-alive"));
	h = rws_http_find(req.headers, req.num_headers, "Connection", &from);
	cr_assert(str_is(h->value, "Upgrade"));
	cr_assert_null(rws_http_find(req.headers, req.num_headers, "Connection", &from));
	from = 0;
	cr_assert_null(rws_http_find(req.headers, req.num_headers, "Hos", &from));

	cr_assert(rws_http_list_has(RWS_STR("keep-alive, Upgrade"), "upgrade"));
	cr_assert(rws_http_list_has(RWS_STR("keep-alive,upgrade"), "Upgrade"));
	cr_assert(rws_http_list_has(RWS_STR(" UPGRADE \t"), "Upgrade"));
	cr_assert(rws_http_list_has(RWS_STR(",,upgrade,"), "Upgrade"));
	cr_assert_not(rws_http_list_has(RWS_STR("upgrades"), "Upgrade"));
	cr_assert_not(rws_http_list_has(RWS_STR("up grade"), "Upgrade"));
	cr_assert_not(rws_http_list_has(RWS_STR(""), "Upgrade"));
	cr_assert_not(rws_http_list_has(RWS_STR("upgrad"), "Upgrade"));
}

Test(http, status_text)
{
	cr_assert_str_eq(rws_http_status_text(101), "Switching Protocols");
	cr_assert_str_eq(rws_http_status_text(400), "Bad Request");
	cr_assert_str_eq(rws_http_status_text(403), "Forbidden");
	cr_assert_str_eq(rws_http_status_text(405), "Method Not Allowed");
	cr_assert_str_eq(rws_http_status_text(414), "URI Too Long");
	cr_assert_str_eq(rws_http_status_text(426), "Upgrade Required");
	cr_assert_str_eq(rws_http_status_text(431), "Request Header Fields Too Large");
	cr_assert_str_eq(rws_http_status_text(599), "Unknown");
}

Test(http, every_code_has_a_name_and_message)
{
	for (int e = RWS_HTTP_INCOMPLETE; e < RWS_HTTP_E_END_; e++) {
		cr_assert_not_null(rws_http_strerror(e), "%d", e);
		cr_assert_not_null(rws_http_error_name(e), "%d", e);
		cr_assert_null(strchr(rws_http_strerror(e), '\n'));
	}
	cr_assert_null(rws_http_strerror(0));
	cr_assert_null(rws_http_strerror(RWS_HTTP_E_END_));
	cr_assert_eq(rws_http_error_status(RWS_HTTP_INCOMPLETE), 0);
	cr_assert_str_eq(rws_http_error_name(RWS_HTTP_E_BARE_CR), "RWS_HTTP_E_BARE_CR");
}
