/*
 * handshake_test: the opening handshake of RFC 6455 section 4, both roles.
 * Server requests go through srv(), which parses from a guard copy (so an
 * over-read crashes) and checks every split of the input: each prefix must
 * say RWS_HTTP_INCOMPLETE or what the whole input says. Every refusal is
 * checked for its exact code, its HTTP status, and the response that
 * rws_hs_write_reject() makes of it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/base64.h"
#include "protocol/handshake.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int str_is(struct rws_str s, const char *lit)
{
	return s.p && s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

/* The guard copy behind the last parse; its views stay valid until the next. */
static uint8_t *live;

static int srv_n(const char *s, size_t len, struct rws_hs_request *req)
{
	if (live)
		guard_free(live);
	live = guard_copy(s, len);
	int whole = rws_hs_server_parse((const char *)live, len, NULL, req);
	for (size_t k = 0; k < len; k++) {
		static struct rws_hs_request r;
		uint8_t *g = guard_copy(s, k);
		int rc = rws_hs_server_parse((const char *)g, k, NULL, &r);
		guard_free(g);
		if (whole > 0 && (size_t)whole > k)
			cr_assert_eq(rc, RWS_HTTP_INCOMPLETE, "prefix %zu of a good request: %s",
				     k, rws_hs_error_name(rc));
		else
			cr_assert(rc == RWS_HTTP_INCOMPLETE || rc == whole,
				  "prefix %zu says %s, whole says %s", k,
				  rws_hs_error_name(rc), rws_hs_error_name(whole));
	}
	return whole;
}

static int srv(const char *s, struct rws_hs_request *req)
{
	return srv_n(s, strlen(s), req);
}

static const struct rws_http_header *find(const struct rws_http_response *r, const char *name)
{
	size_t from = 0;
	return rws_http_find(r->headers, r->num_headers, name, &from);
}

/* The refusal for err parses back with the right status, headers and body. */
static void check_reject(int err, int status)
{
	static char out[1024];
	static struct rws_http_response r;
	int n = rws_hs_write_reject(out, sizeof(out), err);
	cr_assert_gt(n, 0, "%s: %d", rws_hs_error_name(err), n);
	int h = rws_http_parse_response(out, (size_t)n, NULL, &r);
	cr_assert_gt(h, 0);
	cr_assert_eq(r.status, status);
	cr_assert(str_is(r.reason, rws_http_status_text(status)));
	cr_assert(str_is(find(&r, "Connection")->value, "close"));
	cr_assert(str_is(find(&r, "Content-Type")->value, "text/plain"));
	const struct rws_http_header *cl = find(&r, "Content-Length");
	cr_assert_not_null(cl);
	char num[16] = { 0 };
	memcpy(num, cl->value.p, cl->value.len < 15 ? cl->value.len : 15);
	cr_assert_eq(atoi(num), n - h);
	const char *msg = rws_hs_strerror(err);
	cr_assert_eq((size_t)(n - h), strlen(msg) + 1);
	cr_assert(memcmp(out + h, msg, strlen(msg)) == 0);
	cr_assert_eq(out[n - 1], '\n');
	const struct rws_http_header *v = find(&r, "Sec-WebSocket-Version");
	if (status == 426)
		cr_assert(v && str_is(v->value, "13, 8"));
	else
		cr_assert_null(v);
	const struct rws_http_header *allow = find(&r, "Allow");
	if (status == 405)
		cr_assert(allow && str_is(allow->value, "GET"));
	else
		cr_assert_null(allow);
}

static struct rws_hs_request req;

static void expect(const char *s, int err, int status)
{
	int rc = srv(s, &req);
	cr_assert_eq(rc, err, "got %s, want %s, for:\n%s", rws_hs_error_name(rc),
		     rws_hs_error_name(err), s);
	cr_assert_eq(rws_hs_error_status(rc), status, "%s", rws_hs_error_name(rc));
	check_reject(rc, status);
}

#define RL   "GET /chat HTTP/1.1\r\n"
#define HOST "Host: server.example.com\r\n"
#define UPG  "Upgrade: websocket\r\n"
#define CONN "Connection: Upgrade\r\n"
#define KEY  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define VER  "Sec-WebSocket-Version: 13\r\n"
#define END  "\r\n"
#define BASE HOST UPG CONN KEY VER

/* --- the accept value ----------------------------------------------------- */

Test(handshake, rfc6455_accept_example)
{
	char out[RWS_HS_ACCEPT_LEN + 1];
	cr_assert_eq(rws_hs_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out), RWS_HS_ACCEPT_LEN);
	cr_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* --- server: good requests ------------------------------------------------ */

Test(handshake, rfc6455_request_example)
{
	const char *s = "GET /chat HTTP/1.1\r\n"
			"Host: server.example.com\r\n"
			"Upgrade: websocket\r\n"
			"Connection: Upgrade\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Origin: http://example.com\r\n"
			"Sec-WebSocket-Protocol: chat, superchat\r\n"
			"Sec-WebSocket-Version: 13\r\n"
			"\r\n";
	cr_assert_eq(srv(s, &req), (int)strlen(s));
	cr_assert(str_is(req.http.method, "GET"));
	cr_assert(str_is(req.http.path, "/chat"));
	cr_assert_null(req.http.query.p);
	cr_assert(str_is(req.host, "server.example.com"));
	cr_assert(str_is(req.origin, "http://example.com"));
	cr_assert(str_is(req.key, "dGhlIHNhbXBsZSBub25jZQ=="));
	cr_assert_eq(req.version, 13);
	cr_assert_eq(req.num_protocols, 2);
	cr_assert(str_is(req.protocols[0], "chat"));
	cr_assert(str_is(req.protocols[1], "superchat"));
	cr_assert_eq(req.num_extensions, 0);
	cr_assert_eq(req.http.num_headers, 7);
	cr_assert(str_is(req.http.headers[4].name, "Origin"));
	/* views point into the buffer */
	cr_assert(req.key.p > (const char *)live && req.key.p < (const char *)live + strlen(s));
}

Test(handshake, query_and_absolute_form)
{
	cr_assert_gt(srv("GET /chat?room=a&b=2 HTTP/1.1\r\n" BASE END, &req), 0);
	cr_assert(str_is(req.http.path, "/chat"));
	cr_assert(str_is(req.http.query, "room=a&b=2"));
	cr_assert_gt(srv("GET ws://server.example.com/chat?x HTTP/1.1\r\n" BASE END, &req), 0);
	cr_assert(str_is(req.http.path, "/chat"));
	cr_assert(str_is(req.http.query, "x"));
}

Test(handshake, version_8_uses_sec_websocket_origin)
{
	cr_assert_gt(srv(RL HOST UPG CONN KEY "Sec-WebSocket-Version: 8\r\n"
			 "Sec-WebSocket-Origin: http://old.example\r\n"
			 "Origin: http://new.example\r\n" END, &req), 0);
	cr_assert_eq(req.version, 8);
	cr_assert(str_is(req.origin, "http://old.example"));
	/* without it, Origin stands in */
	cr_assert_gt(srv(RL HOST UPG CONN KEY "Sec-WebSocket-Version: 8\r\n"
			 "Origin: http://new.example\r\n" END, &req), 0);
	cr_assert(str_is(req.origin, "http://new.example"));
	/* version 13 ignores Sec-WebSocket-Origin */
	cr_assert_gt(srv(RL BASE "Sec-WebSocket-Origin: http://old.example\r\n" END, &req), 0);
	cr_assert_null(req.origin.p);
}

Test(handshake, header_names_and_tokens_case_insensitive)
{
	cr_assert_gt(srv(RL "host: a\r\nUPGRADE: WebSocket\r\nconnection: UPGRADE\r\n"
			 "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			 "SEC-WEBSOCKET-VERSION: 13\r\n" END, &req), 0);
	cr_assert(str_is(req.host, "a"));
}

Test(handshake, upgrade_and_connection_lists)
{
	cr_assert_gt(srv(RL HOST "Upgrade: h2c, websocket\r\n"
			 "Connection: keep-alive, Upgrade\r\n" KEY VER END, &req), 0);
	cr_assert_gt(srv(RL HOST UPG "Connection: keep-alive,upgrade\r\n" KEY VER END, &req), 0);
	/* the tokens may come in separate header lines */
	cr_assert_gt(srv(RL HOST UPG "Connection: keep-alive\r\nConnection: Upgrade\r\n"
			 KEY VER END, &req), 0);
	cr_assert_gt(srv(RL HOST "Upgrade: h2c\r\nUpgrade: websocket\r\n" CONN KEY VER END,
			 &req), 0);
}

Test(handshake, bare_lf_request)
{
	cr_assert_gt(srv("GET / HTTP/1.1\nHost: a\nUpgrade: websocket\nConnection: Upgrade\n"
			 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n"
			 "Sec-WebSocket-Version: 13\n\n", &req), 0);
}

Test(handshake, later_http_minor_version)
{
	cr_assert_gt(srv("GET /chat HTTP/1.2\r\n" BASE END, &req), 0);
}

/* --- server: each rule of section 4.2.1 ----------------------------------- */

Test(handshake, method_must_be_get)
{
	expect("POST /chat HTTP/1.1\r\n" BASE END, RWS_HS_E_METHOD, 405);
	expect("get /chat HTTP/1.1\r\n" BASE END, RWS_HS_E_METHOD, 405);
	expect("HEAD /chat HTTP/1.1\r\n" BASE END, RWS_HS_E_METHOD, 405);
}

Test(handshake, http_version_at_least_1_1)
{
	expect("GET /chat HTTP/1.0\r\n" BASE END, RWS_HS_E_HTTP_VERSION, 400);
	expect("GET /chat HTTP/0.9\r\n" BASE END, RWS_HS_E_HTTP_VERSION, 400);
}

Test(handshake, host)
{
	expect(RL UPG CONN KEY VER END, RWS_HS_E_NO_HOST, 400);
	expect(RL "Host:\r\n" UPG CONN KEY VER END, RWS_HS_E_NO_HOST, 400);
	expect(RL HOST "Host: other\r\n" UPG CONN KEY VER END, RWS_HS_E_DUP_HOST, 400);
	expect(RL "Host:\r\n" HOST UPG CONN KEY VER END, RWS_HS_E_DUP_HOST, 400);
}

Test(handshake, upgrade)
{
	expect(RL HOST CONN KEY VER END, RWS_HS_E_BAD_UPGRADE, 400);
	expect(RL HOST "Upgrade: h2c\r\n" CONN KEY VER END, RWS_HS_E_BAD_UPGRADE, 400);
	expect(RL HOST "Upgrade: websocketx\r\n" CONN KEY VER END, RWS_HS_E_BAD_UPGRADE, 400);
	expect(RL HOST "Upgrade: websocket/13\r\n" CONN KEY VER END, RWS_HS_E_BAD_UPGRADE, 400);
	expect(RL HOST "Upgrade:\r\n" CONN KEY VER END, RWS_HS_E_BAD_UPGRADE, 400);
}

Test(handshake, connection)
{
	expect(RL HOST UPG KEY VER END, RWS_HS_E_BAD_CONNECTION, 400);
	expect(RL HOST UPG "Connection: keep-alive\r\n" KEY VER END, RWS_HS_E_BAD_CONNECTION, 400);
	expect(RL HOST UPG "Connection: Upgrades\r\n" KEY VER END, RWS_HS_E_BAD_CONNECTION, 400);
	expect(RL HOST UPG "Connection: keep-alive Upgrade\r\n" KEY VER END,
	       RWS_HS_E_BAD_CONNECTION, 400);
}

Test(handshake, websocket_version)
{
	expect(RL HOST UPG CONN KEY END, RWS_HS_E_NO_VERSION, 426);
	expect(RL HOST UPG CONN KEY "Sec-WebSocket-Version: 14\r\n" END, RWS_HS_E_BAD_VERSION, 426);
	expect(RL HOST UPG CONN KEY "Sec-WebSocket-Version: 7\r\n" END, RWS_HS_E_BAD_VERSION, 426);
	expect(RL HOST UPG CONN KEY "Sec-WebSocket-Version: 013\r\n" END, RWS_HS_E_BAD_VERSION, 426);
	expect(RL HOST UPG CONN KEY "Sec-WebSocket-Version: 13, 8\r\n" END, RWS_HS_E_BAD_VERSION, 426);
	expect(RL HOST UPG CONN KEY "Sec-WebSocket-Version:\r\n" END, RWS_HS_E_BAD_VERSION, 426);
	expect(RL HOST UPG CONN KEY VER VER END, RWS_HS_E_DUP_VERSION, 400);
	expect(RL HOST UPG CONN KEY VER "Sec-WebSocket-Version: 8\r\n" END, RWS_HS_E_DUP_VERSION, 400);
	cr_assert_gt(srv(RL HOST UPG CONN KEY "Sec-WebSocket-Version: 8\r\n" END, &req), 0);
	cr_assert_eq(req.version, 8);
}

Test(handshake, key)
{
	expect(RL HOST UPG CONN VER END, RWS_HS_E_NO_KEY, 400);
	expect(RL HOST UPG CONN KEY KEY VER END, RWS_HS_E_DUP_KEY, 400);
	static const char *bad[] = {
		"dGhlIHNhbXBsZSBub25jZQ=",       /* 23 chars */
		"dGhlIHNhbXBsZSBub25jZQ===",     /* 25 chars */
		"dGhlIHNhbXBsZSBub25jZQ",        /* unpadded */
		"dGhlIHNhbXBsZSBub25jZ*==",      /* bad character */
		"dGhlIHNhbXBsZSBub25jZR==",      /* non-zero unused bits */
		"dGhlIHNhbXBsZSBub25jZQab",      /* 24 chars, 18 bytes */
		"dGhlIHNhbXBs=SBub25jZQ==",      /* '=' inside */
		"dGhlIHNhbXBsZSBub25j",          /* 15 bytes */
		"dGhlIHNhbXBsZSBub2-_ZQ==",      /* URL-safe alphabet */
		"",
	};
	for (size_t i = 0; i < N(bad); i++) {
		char s[512];
		snprintf(s, sizeof(s), RL HOST UPG CONN "Sec-WebSocket-Key: %s\r\n" VER END, bad[i]);
		expect(s, RWS_HS_E_BAD_KEY, 400);
	}
	/* surrounding whitespace is not part of the value */
	cr_assert_gt(srv(RL HOST UPG CONN "Sec-WebSocket-Key: \t dGhlIHNhbXBsZSBub25jZQ== \r\n"
			 VER END, &req), 0);
	cr_assert(str_is(req.key, "dGhlIHNhbXBsZSBub25jZQ=="));
}

Test(handshake, origin_once)
{
	expect(RL BASE "Origin: http://a\r\nOrigin: http://b\r\n" END, RWS_HS_E_DUP_ORIGIN, 400);
	expect(RL HOST UPG CONN KEY "Sec-WebSocket-Version: 8\r\n"
	       "Sec-WebSocket-Origin: http://a\r\nSec-WebSocket-Origin: http://b\r\n" END,
	       RWS_HS_E_DUP_ORIGIN, 400);
}

/* The checks come in a fixed order, whatever order the headers are in. */
Test(handshake, rule_order)
{
	expect("POST /chat HTTP/1.0\r\n" END, RWS_HS_E_METHOD, 405);
	expect("GET /chat HTTP/1.0\r\n" END, RWS_HS_E_HTTP_VERSION, 400);
	expect(RL "Sec-WebSocket-Version: 99\r\n" END, RWS_HS_E_NO_HOST, 400);
	expect(RL HOST UPG CONN "Sec-WebSocket-Version: 99\r\n" END, RWS_HS_E_BAD_VERSION, 426);
}

/* --- server: subprotocols -------------------------------------------------- */

Test(handshake, protocols_combined_from_several_lines)
{
	cr_assert_gt(srv(RL BASE "Sec-WebSocket-Protocol: chat\r\n"
			 "Sec-WebSocket-Protocol: superchat, v2.json\r\n" END, &req), 0);
	cr_assert_eq(req.num_protocols, 3);
	cr_assert(str_is(req.protocols[0], "chat"));
	cr_assert(str_is(req.protocols[1], "superchat"));
	cr_assert(str_is(req.protocols[2], "v2.json"));
	cr_assert_gt(srv(RL BASE "Sec-WebSocket-Protocol: a,b ,\tc\r\n" END, &req), 0);
	cr_assert_eq(req.num_protocols, 3);
	cr_assert(str_is(req.protocols[2], "c"));
}

Test(handshake, protocols_bad)
{
	expect(RL BASE "Sec-WebSocket-Protocol: chat,,x\r\n" END, RWS_HS_E_BAD_PROTOCOL, 400);
	expect(RL BASE "Sec-WebSocket-Protocol: chat,\r\n" END, RWS_HS_E_BAD_PROTOCOL, 400);
	expect(RL BASE "Sec-WebSocket-Protocol: ,chat\r\n" END, RWS_HS_E_BAD_PROTOCOL, 400);
	expect(RL BASE "Sec-WebSocket-Protocol:\r\n" END, RWS_HS_E_BAD_PROTOCOL, 400);
	expect(RL BASE "Sec-WebSocket-Protocol: ch at\r\n" END, RWS_HS_E_BAD_PROTOCOL, 400);
	expect(RL BASE "Sec-WebSocket-Protocol: chat/1\r\n" END, RWS_HS_E_BAD_PROTOCOL, 400);
	expect(RL BASE "Sec-WebSocket-Protocol: \"chat\"\r\n" END, RWS_HS_E_BAD_PROTOCOL, 400);
	expect(RL BASE "Sec-WebSocket-Protocol: chat, chat\r\n" END, RWS_HS_E_DUP_PROTOCOL, 400);
	expect(RL BASE "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n" END,
	       RWS_HS_E_DUP_PROTOCOL, 400);
}

static const char *protocols_header(size_t n)
{
	static char s[4096];
	size_t len = (size_t)sprintf(s, RL BASE "Sec-WebSocket-Protocol: ");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%sp%zu", i ? ", " : "", i);
	sprintf(s + len, "\r\n" END);
	return s;
}

Test(handshake, protocols_limit)
{
	cr_assert_gt(srv(protocols_header(RWS_HS_MAX_PROTOCOLS), &req), 0);
	cr_assert_eq(req.num_protocols, RWS_HS_MAX_PROTOCOLS);
	expect(protocols_header(RWS_HS_MAX_PROTOCOLS + 1), RWS_HS_E_TOO_MANY_PROTOCOLS, 400);
}

/* --- server: extensions ---------------------------------------------------- */

Test(handshake, extensions_parsed)
{
	cr_assert_gt(srv(RL BASE "Sec-WebSocket-Extensions: permessage-deflate; "
			 "client_max_window_bits; server_max_window_bits=10, "
			 "permessage-deflate ;client_max_window_bits = \"12\"\r\n"
			 "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n" END, &req), 0);
	cr_assert_eq(req.num_extensions, 3);
	const struct rws_hs_ext *e = &req.extensions[0];
	cr_assert(str_is(e->name, "permessage-deflate"));
	cr_assert_eq(e->num_params, 2);
	cr_assert(str_is(e->params[0].name, "client_max_window_bits"));
	cr_assert_null(e->params[0].value.p);
	cr_assert(str_is(e->params[1].name, "server_max_window_bits"));
	cr_assert(str_is(e->params[1].value, "10"));
	cr_assert_eq(e->params[1].quoted, 0);
	e = &req.extensions[1];
	cr_assert_eq(e->num_params, 1);
	cr_assert(str_is(e->params[0].value, "12"));
	cr_assert_eq(e->params[0].quoted, 1);
	cr_assert(str_is(req.extensions[2].name, "x-webkit-deflate-frame"));
	cr_assert_eq(req.extensions[2].num_params, 0);
}

Test(handshake, extensions_malformed)
{
	static const char *bad[] = {
		"",                     /* empty */
		"; a",                  /* no name */
		"a;",                   /* parameter missing */
		"a,,b",                 /* empty element */
		"a,",
		"a=1",                  /* a value on the name */
		"a; b=",                /* value missing */
		"a; b=\"\"",            /* empty quoted value */
		"a; b=\"1 0\"",         /* quoted value not a token */
		"a; b=\"\\1\"",         /* quoted-pair: refused */
		"a; b=\"10",            /* unterminated quote */
		"a b",
		"a; b c",
		"a; b=1 2",
		"a; b=1; ",
		"a/b",
		"a; b=\"1\"x",
	};
	for (size_t i = 0; i < N(bad); i++) {
		char s[512];
		snprintf(s, sizeof(s), RL BASE "Sec-WebSocket-Extensions: %s\r\n" END, bad[i]);
		expect(s, RWS_HS_E_BAD_EXTENSIONS, 400);
	}
}

static const char *extensions_header(size_t offers, size_t params)
{
	static char s[8192];
	size_t len = (size_t)sprintf(s, RL BASE "Sec-WebSocket-Extensions: ");
	for (size_t i = 0; i < offers; i++) {
		len += (size_t)sprintf(s + len, "%se%zu", i ? ", " : "", i);
		for (size_t j = 0; j < params; j++)
			len += (size_t)sprintf(s + len, "; p%zu=%zu", j, j);
	}
	sprintf(s + len, "\r\n" END);
	return s;
}

Test(handshake, extensions_limits)
{
	cr_assert_gt(srv(extensions_header(RWS_HS_MAX_EXTENSIONS, 1), &req), 0);
	cr_assert_eq(req.num_extensions, RWS_HS_MAX_EXTENSIONS);
	expect(extensions_header(RWS_HS_MAX_EXTENSIONS + 1, 1), RWS_HS_E_TOO_MANY_EXTENSIONS, 400);
	cr_assert_gt(srv(extensions_header(1, RWS_HS_MAX_EXT_PARAMS), &req), 0);
	cr_assert_eq(req.extensions[0].num_params, RWS_HS_MAX_EXT_PARAMS);
	expect(extensions_header(1, RWS_HS_MAX_EXT_PARAMS + 1), RWS_HS_E_TOO_MANY_EXT_PARAMS, 400);
	/* the count spans header lines */
	char s[1024];
	size_t len = (size_t)sprintf(s, RL BASE);
	for (int i = 0; i <= RWS_HS_MAX_EXTENSIONS; i++)
		len += (size_t)sprintf(s + len, "Sec-WebSocket-Extensions: e%d\r\n", i);
	sprintf(s + len, END);
	expect(s, RWS_HS_E_TOO_MANY_EXTENSIONS, 400);
}

/* HTTP syntax and limits come through the handshake parser with their status. */
Test(handshake, http_errors_carry_status)
{
	expect("GET /chat HTTP/1.1\r\nHost: a\r\n b\r\n" END, RWS_HTTP_E_OBS_FOLD, 400);
	expect("GET /chat HTTP/1.1\r\nHo st: a\r\n" END, RWS_HTTP_E_BAD_HEADER_NAME, 400);
	expect("GET /chat HTTP/1.1\r\nHost: \x01\r\n" END, RWS_HTTP_E_BAD_HEADER_VALUE, 400);
	expect("G{T /chat HTTP/1.1\r\n" END, RWS_HTTP_E_BAD_METHOD, 400);
	expect("GET /chat\r\n" END, RWS_HTTP_E_MISSING_SP, 400);
	expect("GET /chat HTTP/1\r\n" END, RWS_HTTP_E_BAD_VERSION, 400);
	expect("GET /chat HTTP/1.1\r\nHost a\r\n" END, RWS_HTTP_E_NO_COLON, 400);
	expect("GET /chat HTTP/1.1\r\nHost: a\rb\r\n" END, RWS_HTTP_E_BARE_CR, 400);
	expect("GET #x HTTP/1.1\r\n" END, RWS_HTTP_E_BAD_TARGET, 400);

	static char s[10000];
	size_t len = (size_t)sprintf(s, "GET /");
	memset(s + len, 'a', 4100);
	sprintf(s + len + 4100, " HTTP/1.1\r\n" BASE END);
	int rc = rws_hs_server_parse(s, strlen(s), NULL, &req);
	cr_assert_eq(rc, RWS_HTTP_E_LINE_TOO_LONG);
	cr_assert_eq(rws_hs_error_status(rc), 414);
	check_reject(rc, 414);

	len = (size_t)sprintf(s, RL BASE "X: ");
	memset(s + len, 'a', 8192);
	sprintf(s + len + 8192, "\r\n" END);
	rc = rws_hs_server_parse(s, strlen(s), NULL, &req);
	cr_assert_eq(rc, RWS_HTTP_E_HEAD_TOO_LARGE);
	cr_assert_eq(rws_hs_error_status(rc), 431);
	check_reject(rc, 431);

	len = (size_t)sprintf(s, RL BASE);
	for (int i = 0; i < 60; i++)
		len += (size_t)sprintf(s + len, "X-%d: y\r\n", i);
	sprintf(s + len, END);
	rc = rws_hs_server_parse(s, strlen(s), NULL, &req);
	cr_assert_eq(rc, RWS_HTTP_E_TOO_MANY_HEADERS);
	check_reject(rc, 431);
}

/* --- server: responses ----------------------------------------------------- */

Test(handshake, write_101_rfc_example)
{
	char out[512];
	int n = rws_hs_write_101(out, sizeof(out), RWS_STR("dGhlIHNhbXBsZSBub25jZQ=="), NULL);
	const char *want = "HTTP/1.1 101 Switching Protocols\r\n"
			   "Upgrade: websocket\r\n"
			   "Connection: Upgrade\r\n"
			   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
			   "\r\n";
	cr_assert_eq(n, (int)strlen(want));
	cr_assert(memcmp(out, want, (size_t)n) == 0);
}

Test(handshake, write_101_with_everything)
{
	static const struct rws_http_header extra[] = {
		{ RWS_STR_INIT("Set-Cookie"), RWS_STR_INIT("id=1") },
		{ RWS_STR_INIT("X-Server"), RWS_STR_INIT("ringws") },
	};
	struct rws_hs_reply r = {
		.protocol = RWS_STR("chat"),
		.extensions = RWS_STR("permessage-deflate; server_no_context_takeover"),
		.extra = extra,
		.num_extra = 2,
	};
	char out[512];
	int n = rws_hs_write_101(out, sizeof(out), RWS_STR("dGhlIHNhbXBsZSBub25jZQ=="), &r);
	const char *want = "HTTP/1.1 101 Switching Protocols\r\n"
			   "Upgrade: websocket\r\n"
			   "Connection: Upgrade\r\n"
			   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
			   "Sec-WebSocket-Protocol: chat\r\n"
			   "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
			   "Set-Cookie: id=1\r\n"
			   "X-Server: ringws\r\n"
			   "\r\n";
	cr_assert_eq(n, (int)strlen(want));
	cr_assert(memcmp(out, want, (size_t)n) == 0);
	/* every smaller buffer is refused, and nothing is written past it */
	for (size_t cap = 0; cap < (size_t)n; cap++) {
		uint8_t *g = guard_copy(out, cap);
		cr_assert_eq(rws_hs_write_101((char *)g, cap, RWS_STR("dGhlIHNhbXBsZSBub25jZQ=="), &r),
			     -ENOSPC, "cap %zu", cap);
		guard_free(g);
	}
}

Test(handshake, write_101_refuses_bad_values)
{
	char out[512];
	struct rws_str key = RWS_STR("dGhlIHNhbXBsZSBub25jZQ==");
	struct rws_hs_reply r = { .protocol = RWS_STR("ch at") };
	cr_assert_eq(rws_hs_write_101(out, sizeof(out), key, &r), -EINVAL);
	r = (struct rws_hs_reply){ .extensions = RWS_STR("a;") };
	cr_assert_eq(rws_hs_write_101(out, sizeof(out), key, &r), -EINVAL);
	r = (struct rws_hs_reply){ .extensions = RWS_STR("a\r\nX: y") };
	cr_assert_eq(rws_hs_write_101(out, sizeof(out), key, &r), -EINVAL);
	struct rws_http_header h = { RWS_STR("X"), RWS_STR("a\r\nEvil: 1") };
	r = (struct rws_hs_reply){ .extra = &h, .num_extra = 1 };
	cr_assert_eq(rws_hs_write_101(out, sizeof(out), key, &r), -EINVAL);
	h = (struct rws_http_header){ RWS_STR("X\nY"), RWS_STR("1") };
	cr_assert_eq(rws_hs_write_101(out, sizeof(out), key, &r), -EINVAL);
	h = (struct rws_http_header){ RWS_STR(""), RWS_STR("1") };
	cr_assert_eq(rws_hs_write_101(out, sizeof(out), key, &r), -EINVAL);
	cr_assert_eq(rws_hs_write_101(out, sizeof(out), RWS_STR("a\nb"), NULL), -EINVAL);
}

Test(handshake, write_error_exact)
{
	char out[512];
	int n = rws_hs_write_error(out, sizeof(out), 403, "origin not allowed", NULL, 0);
	const char *want = "HTTP/1.1 403 Forbidden\r\n"
			   "Connection: close\r\n"
			   "Content-Type: text/plain\r\n"
			   "Content-Length: 19\r\n"
			   "\r\n"
			   "origin not allowed\n";
	cr_assert_eq(n, (int)strlen(want));
	cr_assert(memcmp(out, want, (size_t)n) == 0);

	n = rws_hs_write_error(out, sizeof(out), 426, NULL, NULL, 0);
	want = "HTTP/1.1 426 Upgrade Required\r\n"
	       "Connection: close\r\n"
	       "Content-Type: text/plain\r\n"
	       "Content-Length: 17\r\n"
	       "Sec-WebSocket-Version: 13, 8\r\n"
	       "\r\n"
	       "Upgrade Required\n";
	cr_assert_eq(n, (int)strlen(want));
	cr_assert(memcmp(out, want, (size_t)n) == 0);

	static const struct rws_http_header extra[] = {
		{ RWS_STR_INIT("WWW-Authenticate"), RWS_STR_INIT("Bearer") },
	};
	n = rws_hs_write_error(out, sizeof(out), 401, "token required", extra, 1);
	cr_assert_gt(n, 0);
	cr_assert_not_null(memmem(out, (size_t)n, "\r\nWWW-Authenticate: Bearer\r\n", 28));

	n = rws_hs_write_error(out, sizeof(out), 405, NULL, NULL, 0);
	cr_assert_not_null(memmem(out, (size_t)n, "\r\nAllow: GET\r\n", 14));
}

Test(handshake, write_error_refusals)
{
	char out[512];
	cr_assert_eq(rws_hs_write_error(out, sizeof(out), 199, NULL, NULL, 0), -EINVAL);
	cr_assert_eq(rws_hs_write_error(out, sizeof(out), 600, NULL, NULL, 0), -EINVAL);
	cr_assert_eq(rws_hs_write_error(out, sizeof(out), 400, "two\nlines", NULL, 0), -EINVAL);
	struct rws_http_header h = { RWS_STR("X"), RWS_STR("a\rb") };
	cr_assert_eq(rws_hs_write_error(out, sizeof(out), 400, NULL, &h, 1), -EINVAL);
	int n = rws_hs_write_error(out, sizeof(out), 400, "bad", NULL, 0);
	for (size_t cap = 0; cap < (size_t)n; cap++)
		cr_assert_eq(rws_hs_write_error(out, cap, 400, "bad", NULL, 0), -ENOSPC);
	cr_assert_eq(rws_hs_write_error(out, (size_t)n, 400, "bad", NULL, 0), n);
	/* client-side codes have no status to answer with */
	cr_assert_eq(rws_hs_write_reject(out, sizeof(out), RWS_HS_E_BAD_ACCEPT), -EINVAL);
	cr_assert_eq(rws_hs_write_reject(out, sizeof(out), RWS_HTTP_INCOMPLETE), -EINVAL);
}

/* Every server-side code maps to its status, a message, and a valid response. */
Test(handshake, every_code_maps)
{
	for (int e = RWS_HS_E_METHOD; e < RWS_HS_E_END_; e++) {
		cr_assert_not_null(rws_hs_strerror(e));
		cr_assert_not_null(rws_hs_error_name(e));
		cr_assert_null(strchr(rws_hs_strerror(e), '\n'));
		int st = rws_hs_error_status(e);
		if (e < RWS_HS_E_NOT_101) {
			cr_assert(st == 400 || st == 405 || st == 426, "%s", rws_hs_error_name(e));
			check_reject(e, st);
		} else {
			cr_assert_eq(st, 0);
		}
	}
	for (int e = RWS_HTTP_E_HEAD_TOO_LARGE; e < RWS_HTTP_E_END_; e++) {
		cr_assert_str_eq(rws_hs_strerror(e), rws_http_strerror(e));
		int st = rws_hs_error_status(e);
		if (st)
			check_reject(e, st);
	}
	cr_assert_eq(rws_hs_error_status(RWS_HS_E_METHOD), 405);
	cr_assert_eq(rws_hs_error_status(RWS_HS_E_NO_VERSION), 426);
	cr_assert_eq(rws_hs_error_status(RWS_HS_E_BAD_VERSION), 426);
	cr_assert_eq(rws_hs_error_status(RWS_HTTP_E_LINE_TOO_LONG), 414);
	cr_assert_eq(rws_hs_error_status(RWS_HTTP_E_TOO_MANY_HEADERS), 431);
	cr_assert_str_eq(rws_hs_error_name(RWS_HS_E_BAD_KEY), "RWS_HS_E_BAD_KEY");
	cr_assert_str_eq(rws_hs_error_name(RWS_HTTP_E_OBS_FOLD), "RWS_HTTP_E_OBS_FOLD");
	cr_assert_null(rws_hs_error_name(-ENOSPC));
	cr_assert_str_eq(rws_hs_strerror(-ENOSPC), "output buffer too small");
	cr_assert_not_null(rws_hs_strerror(-EINVAL));
	cr_assert_not_null(rws_hs_strerror(-12345));
	cr_assert_not_null(rws_hs_strerror(0));
}

/* --- client: the request --------------------------------------------------- */

static const uint8_t sample_nonce[16] = "the sample nonce";

Test(handshake, client_request_exact)
{
	struct rws_hs_client_opts o = {
		.host = RWS_STR("server.example.com"),
		.path = RWS_STR("/chat"),
		.origin = RWS_STR("http://example.com"),
		.protocols = (const struct rws_str[]){ RWS_STR_INIT("chat"), RWS_STR_INIT("superchat") },
		.num_protocols = 2,
	};
	struct rws_hs_client_key k;
	char out[1024];
	int n = rws_hs_client_write(out, sizeof(out), &o, sample_nonce, &k);
	const char *want = "GET /chat HTTP/1.1\r\n"
			   "Host: server.example.com\r\n"
			   "Upgrade: websocket\r\n"
			   "Connection: Upgrade\r\n"
			   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			   "Sec-WebSocket-Version: 13\r\n"
			   "Origin: http://example.com\r\n"
			   "Sec-WebSocket-Protocol: chat, superchat\r\n"
			   "\r\n";
	cr_assert_eq(n, (int)strlen(want), "%.*s", n > 0 ? n : 0, out);
	cr_assert(memcmp(out, want, (size_t)n) == 0);
	cr_assert_str_eq(k.key, "dGhlIHNhbXBsZSBub25jZQ==");
	cr_assert_str_eq(k.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	for (size_t cap = 0; cap < (size_t)n; cap++)
		cr_assert_eq(rws_hs_client_write(out, cap, &o, sample_nonce, &k), -ENOSPC);
}

Test(handshake, client_request_round_trip)
{
	static const struct rws_http_header extra[] = {
		{ RWS_STR_INIT("Authorization"), RWS_STR_INIT("Bearer abc") },
		{ RWS_STR_INIT("User-Agent"), RWS_STR_INIT("ringws/0") },
	};
	struct rws_hs_client_opts o = {
		.host = RWS_STR("example.com:8080"),
		.path = RWS_STR("/feed/live"),
		.query = RWS_STR("room=7&token=x"),
		.origin = RWS_STR("https://example.com"),
		.protocols = (const struct rws_str[]){ RWS_STR_INIT("v2.json"), RWS_STR_INIT("v1") },
		.num_protocols = 2,
		.extensions = RWS_STR("permessage-deflate; client_max_window_bits, "
				      "permessage-deflate"),
		.extra = extra,
		.num_extra = 2,
	};
	struct rws_hs_client_key k;
	static char out[2048];
	int n = rws_hs_client_write_random(out, sizeof(out), &o, &k);
	cr_assert_gt(n, 0);
	cr_assert_eq(srv_n(out, (size_t)n, &req), n);
	cr_assert(str_is(req.http.path, "/feed/live"));
	cr_assert(str_is(req.http.query, "room=7&token=x"));
	cr_assert(str_is(req.host, "example.com:8080"));
	cr_assert(str_is(req.origin, "https://example.com"));
	cr_assert(str_is(req.key, k.key));
	cr_assert_eq(req.version, 13);
	cr_assert_eq(req.num_protocols, 2);
	cr_assert(str_is(req.protocols[0], "v2.json"));
	cr_assert(str_is(req.protocols[1], "v1"));
	cr_assert_eq(req.num_extensions, 2);
	cr_assert(str_is(req.extensions[0].name, "permessage-deflate"));
	cr_assert(str_is(req.extensions[0].params[0].name, "client_max_window_bits"));
	size_t from = 0;
	const struct rws_http_header *h =
		rws_http_find(req.http.headers, req.http.num_headers, "Authorization", &from);
	cr_assert(h && str_is(h->value, "Bearer abc"));
	/* the key is 16 random bytes and its accept value is the server's */
	uint8_t raw[18];
	cr_assert_eq(rws_base64_decode(k.key, strlen(k.key), raw, sizeof(raw)), 16);
	char accept[RWS_HS_ACCEPT_LEN + 1];
	rws_hs_accept_key(req.key.p, req.key.len, accept);
	cr_assert_str_eq(accept, k.accept);
}

Test(handshake, client_request_version_8)
{
	struct rws_hs_client_opts o = {
		.host = RWS_STR("h"),
		.version = 8,
		.origin = RWS_STR("http://o"),
	};
	struct rws_hs_client_key k;
	char out[1024];
	int n = rws_hs_client_write(out, sizeof(out), &o, sample_nonce, &k);
	cr_assert_gt(n, 0);
	cr_assert_not_null(memmem(out, (size_t)n, "GET / HTTP/1.1\r\n", 16));
	cr_assert_not_null(memmem(out, (size_t)n, "\r\nSec-WebSocket-Version: 8\r\n", 28));
	cr_assert_not_null(memmem(out, (size_t)n, "\r\nSec-WebSocket-Origin: http://o\r\n", 34));
	cr_assert_eq(srv_n(out, (size_t)n, &req), n);
	cr_assert_eq(req.version, 8);
	cr_assert(str_is(req.origin, "http://o"));
	cr_assert(str_is(req.http.path, "/"));
}

Test(handshake, client_random_keys_differ)
{
	struct rws_hs_client_opts o = { .host = RWS_STR("h") };
	struct rws_hs_client_key a, b;
	char out[512];
	cr_assert_gt(rws_hs_client_write_random(out, sizeof(out), &o, &a), 0);
	cr_assert_gt(rws_hs_client_write_random(out, sizeof(out), &o, &b), 0);
	cr_assert_str_neq(a.key, b.key);
	cr_assert_eq(strlen(a.key), RWS_HS_KEY_LEN);
	cr_assert_eq(strlen(a.accept), RWS_HS_ACCEPT_LEN);
}

Test(handshake, client_request_refuses_bad_options)
{
	char out[1024];
	struct rws_hs_client_key k;
	const struct rws_hs_client_opts good = { .host = RWS_STR("h") };
	cr_assert_gt(rws_hs_client_write(out, sizeof(out), &good, sample_nonce, &k), 0);

	struct rws_hs_client_opts o;
	struct rws_http_header h;
#define REFUSED(...) do { o = good; __VA_ARGS__; \
	cr_assert_eq(rws_hs_client_write(out, sizeof(out), &o, sample_nonce, &k), -EINVAL, \
		     #__VA_ARGS__); } while (0)
	REFUSED(o.host = RWS_STR(""));
	REFUSED(o.host = RWS_STR("h\r\nX: y"));
	REFUSED(o.host = RWS_STR("a b"));
	REFUSED(o.path = RWS_STR("chat"));
	REFUSED(o.path = RWS_STR("/a b"));
	REFUSED(o.path = RWS_STR("/a?b"));
	REFUSED(o.path = RWS_STR("/a#b"));
	REFUSED(o.path = RWS_STR("/a\r\n"));
	REFUSED(o.query = RWS_STR("a b"));
	REFUSED(o.query = RWS_STR("a#b"));
	REFUSED(o.version = 7);
	REFUSED(o.version = 14);
	REFUSED(o.origin = RWS_STR("http://x\r\n"));
	REFUSED(o.protocols = (const struct rws_str[]){ RWS_STR("a b") }, o.num_protocols = 1);
	REFUSED(o.protocols = (const struct rws_str[]){ RWS_STR("") }, o.num_protocols = 1);
	REFUSED(o.protocols = (const struct rws_str[]){ RWS_STR_INIT("a"), RWS_STR_INIT("a") },
		o.num_protocols = 2);
	REFUSED(o.num_protocols = 1);   /* no array */
	REFUSED(o.extensions = RWS_STR("permessage-deflate;"));
	REFUSED(o.extensions = RWS_STR("a\r\nX: 1"));
	REFUSED(h = (struct rws_http_header){ RWS_STR_INIT("X-A"), RWS_STR_INIT("1\r\nEvil: 2") },
		o.extra = &h, o.num_extra = 1);
	REFUSED(h = (struct rws_http_header){ RWS_STR_INIT("X-A"), RWS_STR_INIT("1\n") },
		o.extra = &h, o.num_extra = 1);
	REFUSED(h = (struct rws_http_header){ RWS_STR_INIT("X-A"), RWS_STR_INIT("1\r") },
		o.extra = &h, o.num_extra = 1);
	REFUSED(h = (struct rws_http_header){ RWS_STR_INIT("X\r\nA"), RWS_STR_INIT("1") },
		o.extra = &h, o.num_extra = 1);
	REFUSED(h = (struct rws_http_header){ RWS_STR_INIT("X A"), RWS_STR_INIT("1") },
		o.extra = &h, o.num_extra = 1);
	REFUSED(h = (struct rws_http_header){ RWS_STR_INIT("X:"), RWS_STR_INIT("1") },
		o.extra = &h, o.num_extra = 1);
#undef REFUSED
}

/* --- client: the response -------------------------------------------------- */

static struct rws_hs_response res;

static const struct rws_str offered[] = { RWS_STR_INIT("chat"), RWS_STR_INIT("superchat") };

static const struct rws_hs_client_opts copts = {
	.host = RWS_STR_INIT("server.example.com"),
	.path = RWS_STR_INIT("/chat"),
	.protocols = offered,
	.num_protocols = 2,
	.extensions = RWS_STR_INIT("permessage-deflate; client_max_window_bits, x-custom"),
};

static struct rws_hs_client_key sample_key(void)
{
	struct rws_hs_client_key k;
	strcpy(k.key, "dGhlIHNhbXBsZSBub25jZQ==");
	strcpy(k.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	return k;
}

/* Parses a response from a guard copy, split at every offset. */
static int cli_o(const char *s, size_t len, const struct rws_hs_client_opts *o)
{
	struct rws_hs_client_key k = sample_key();
	if (live)
		guard_free(live);
	live = guard_copy(s, len);
	int whole = rws_hs_client_parse((const char *)live, len, NULL, o, &k, &res);
	for (size_t i = 0; i < len; i++) {
		static struct rws_hs_response r;
		uint8_t *g = guard_copy(s, i);
		int rc = rws_hs_client_parse((const char *)g, i, NULL, o, &k, &r);
		guard_free(g);
		if (whole > 0 && (size_t)whole > i)
			cr_assert_eq(rc, RWS_HTTP_INCOMPLETE, "prefix %zu: %s", i,
				     rws_hs_error_name(rc));
		else
			cr_assert(rc == RWS_HTTP_INCOMPLETE || rc == whole);
	}
	return whole;
}

static int cli(const char *s)
{
	return cli_o(s, strlen(s), &copts);
}

static void cli_expect(const char *s, int err)
{
	int rc = cli(s);
	cr_assert_eq(rc, err, "got %s, want %s, for:\n%s", rws_hs_error_name(rc),
		     rws_hs_error_name(err), s);
	cr_assert_not_null(rws_hs_strerror(rc));
}

#define S101   "HTTP/1.1 101 Switching Protocols\r\n"
#define RUPG   "Upgrade: websocket\r\n"
#define RCONN  "Connection: Upgrade\r\n"
#define ACCEPT "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"

Test(handshake, client_accepts_server_101)
{
	/* the server's own writer, for the client's own request */
	struct rws_hs_client_key k;
	static char rq[1024], rs[1024];
	int n = rws_hs_client_write_random(rq, sizeof(rq), &copts, &k);
	cr_assert_gt(n, 0);
	cr_assert_eq(rws_hs_server_parse(rq, (size_t)n, NULL, &req), n);
	struct rws_hs_reply r = {
		.protocol = req.protocols[1],
		.extensions = RWS_STR("permessage-deflate; client_max_window_bits=15"),
	};
	int m = rws_hs_write_101(rs, sizeof(rs), req.key, &r);
	cr_assert_gt(m, 0);
	memcpy(rs + m, "\x81\x02hi", 4);   /* a first frame right behind */
	cr_assert_eq(rws_hs_client_parse(rs, (size_t)m + 4, NULL, &copts, &k, &res), m);
	cr_assert(str_is(res.protocol, "superchat"));
	cr_assert_eq(res.num_extensions, 1);
	cr_assert(str_is(res.extensions[0].name, "permessage-deflate"));
	cr_assert(str_is(res.extensions[0].params[0].value, "15"));
	cr_assert_eq(res.http.status, 101);
}

Test(handshake, client_minimal_101)
{
	const char *s = S101 RUPG RCONN ACCEPT "\r\n";
	cr_assert_eq(cli(s), (int)strlen(s));
	cr_assert_null(res.protocol.p);
	cr_assert_eq(res.num_extensions, 0);
	/* token lists, case, bare LF */
	s = "HTTP/1.1 101 OK\nupgrade: WebSocket\nconnection: keep-alive, upgrade\n"
	    "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n"
	    "Sec-WebSocket-Extensions: X-CUSTOM\n\n";
	cr_assert_eq(cli(s), (int)strlen(s));
	cr_assert_eq(res.num_extensions, 1);
}

Test(handshake, client_not_101)
{
	const char *s = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
	cli_expect(s, RWS_HS_E_NOT_101);
	cr_assert_eq(res.http.status, 403);
	cli_expect("HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\n\r\n", RWS_HS_E_NOT_101);
	cr_assert_eq(res.http.status, 302);
	size_t from = 0;
	cr_assert_not_null(rws_http_find(res.http.headers, res.http.num_headers, "Location", &from));
	cli_expect("HTTP/1.1 200 OK\r\n" RUPG RCONN ACCEPT "\r\n", RWS_HS_E_NOT_101);
	cr_assert_eq(rws_hs_error_status(RWS_HS_E_NOT_101), 0);
}

Test(handshake, client_upgrade_and_connection)
{
	cli_expect(S101 RCONN ACCEPT "\r\n", RWS_HS_E_BAD_UPGRADE);
	cli_expect(S101 "Upgrade: h2c\r\n" RCONN ACCEPT "\r\n", RWS_HS_E_BAD_UPGRADE);
	cli_expect(S101 RUPG ACCEPT "\r\n", RWS_HS_E_BAD_CONNECTION);
	cli_expect(S101 RUPG "Connection: close\r\n" ACCEPT "\r\n", RWS_HS_E_BAD_CONNECTION);
}

Test(handshake, client_accept)
{
	cli_expect(S101 RUPG RCONN "\r\n", RWS_HS_E_NO_ACCEPT);
	cli_expect(S101 RUPG RCONN ACCEPT ACCEPT "\r\n", RWS_HS_E_DUP_ACCEPT);
	cli_expect(S101 RUPG RCONN "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo\r\n\r\n",
		   RWS_HS_E_BAD_ACCEPT);
	cli_expect(S101 RUPG RCONN "Sec-WebSocket-Accept: S3PPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
		   RWS_HS_E_BAD_ACCEPT);
	cli_expect(S101 RUPG RCONN "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
		   RWS_HS_E_BAD_ACCEPT);
	cli_expect(S101 RUPG RCONN "Sec-WebSocket-Accept:\r\n\r\n", RWS_HS_E_BAD_ACCEPT);
}

Test(handshake, client_protocol)
{
	const char *s = S101 RUPG RCONN ACCEPT "Sec-WebSocket-Protocol: chat\r\n\r\n";
	cr_assert_gt(cli(s), 0);
	cr_assert(str_is(res.protocol, "chat"));
	cli_expect(S101 RUPG RCONN ACCEPT "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
		   RWS_HS_E_PROTOCOL_NOT_OFFERED);
	cli_expect(S101 RUPG RCONN ACCEPT "Sec-WebSocket-Protocol: Chat\r\n\r\n",
		   RWS_HS_E_PROTOCOL_NOT_OFFERED);
	cli_expect(S101 RUPG RCONN ACCEPT "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n",
		   RWS_HS_E_MULTIPLE_PROTOCOLS);
	cli_expect(S101 RUPG RCONN ACCEPT "Sec-WebSocket-Protocol: chat\r\n"
		   "Sec-WebSocket-Protocol: chat\r\n\r\n", RWS_HS_E_MULTIPLE_PROTOCOLS);
	cli_expect(S101 RUPG RCONN ACCEPT "Sec-WebSocket-Protocol:\r\n\r\n", RWS_HS_E_BAD_PROTOCOL);
	/* nothing offered: any selection is wrong */
	struct rws_hs_client_opts none = copts;
	none.num_protocols = 0;
	none.protocols = NULL;
	const char *t = S101 RUPG RCONN ACCEPT "Sec-WebSocket-Protocol: chat\r\n\r\n";
	cr_assert_eq(cli_o(t, strlen(t), &none), RWS_HS_E_PROTOCOL_NOT_OFFERED);
}

Test(handshake, client_extensions)
{
	const char *s = S101 RUPG RCONN ACCEPT
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"
		"Sec-WebSocket-Extensions: x-custom\r\n\r\n";
	cr_assert_gt(cli(s), 0);
	cr_assert_eq(res.num_extensions, 2);
	cr_assert(str_is(res.extensions[0].params[0].name, "server_no_context_takeover"));
	cli_expect(S101 RUPG RCONN ACCEPT "Sec-WebSocket-Extensions: x-other\r\n\r\n",
		   RWS_HS_E_EXTENSION_NOT_OFFERED);
	cli_expect(S101 RUPG RCONN ACCEPT "Sec-WebSocket-Extensions: x-custom, permessage\r\n\r\n",
		   RWS_HS_E_EXTENSION_NOT_OFFERED);
	cli_expect(S101 RUPG RCONN ACCEPT "Sec-WebSocket-Extensions: permessage-deflate;\r\n\r\n",
		   RWS_HS_E_BAD_EXTENSIONS);
	cli_expect(S101 RUPG RCONN ACCEPT "Sec-WebSocket-Extensions:\r\n\r\n",
		   RWS_HS_E_BAD_EXTENSIONS);
	struct rws_hs_client_opts none = copts;
	none.extensions = (struct rws_str){ NULL, 0 };
	const char *t = S101 RUPG RCONN ACCEPT "Sec-WebSocket-Extensions: x-custom\r\n\r\n";
	cr_assert_eq(cli_o(t, strlen(t), &none), RWS_HS_E_EXTENSION_NOT_OFFERED);
}

Test(handshake, client_http_errors)
{
	cli_expect("HTTP/1.1 10x Switching\r\n\r\n", RWS_HTTP_E_BAD_STATUS);
	cli_expect("HTTP/1.1 101 Switching\r\n" RUPG " folded\r\n\r\n", RWS_HTTP_E_OBS_FOLD);
	cli_expect("SSH-2.0-OpenSSH\r\n", RWS_HTTP_E_BAD_VERSION);
	cr_assert_eq(cli(S101 RUPG), RWS_HTTP_INCOMPLETE);
}

Test(handshake, client_too_many_extensions)
{
	static char s[2048];
	size_t len = (size_t)sprintf(s, S101 RUPG RCONN ACCEPT "Sec-WebSocket-Extensions: x-custom");
	for (int i = 0; i < RWS_HS_MAX_EXTENSIONS; i++)
		len += (size_t)sprintf(s + len, ", x-custom");
	sprintf(s + len, "\r\n\r\n");
	cli_expect(s, RWS_HS_E_TOO_MANY_EXTENSIONS);
}

/* The list parsers on their own, including absent values. */
Test(handshake, list_parsers_direct)
{
	struct rws_str list[4];
	size_t n = 0;
	cr_assert_eq(rws_hs_parse_protocols((struct rws_str){ NULL, 0 }, list, 4, &n),
		     RWS_HS_E_BAD_PROTOCOL);
	cr_assert_eq(rws_hs_parse_protocols(RWS_STR("a, b"), list, 4, &n), 0);
	cr_assert_eq(rws_hs_parse_protocols(RWS_STR("c, d"), list, 4, &n), 0);
	cr_assert_eq(n, 4);
	cr_assert_eq(rws_hs_parse_protocols(RWS_STR("e"), list, 4, &n), RWS_HS_E_TOO_MANY_PROTOCOLS);
	cr_assert_eq(rws_hs_parse_protocols(RWS_STR("a"), list, 4, &n), RWS_HS_E_DUP_PROTOCOL);

	static struct rws_hs_ext ext[2];
	n = 0;
	cr_assert_eq(rws_hs_parse_extensions((struct rws_str){ NULL, 0 }, ext, 2, &n),
		     RWS_HS_E_BAD_EXTENSIONS);
	cr_assert_eq(rws_hs_parse_extensions(RWS_STR("a;x=\"1\";y, b"), ext, 2, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert(str_is(ext[0].params[0].value, "1"));
	cr_assert_eq(ext[0].params[0].quoted, 1);
	cr_assert_null(ext[0].params[1].value.p);
	cr_assert_eq(rws_hs_parse_extensions(RWS_STR("c"), ext, 2, &n), RWS_HS_E_TOO_MANY_EXTENSIONS);
}
