/*
 * handshake_fuzz: the opening handshake on arbitrary bytes, both roles.
 *
 * The input is read as a request (server parser and validator, then the
 * response writer) and as a response (client parser and validator). Every
 * parse is repeated on prefixes copied to buffers of their exact size, so
 * ASan sees a one-byte over-read, and must agree with the whole input:
 * RWS_HTTP_INCOMPLETE, or the same answer. A request that passes is
 * answered with a 101 that our client must accept, and rewritten by our
 * client writer into a request our server must read back the same; a
 * refusal must make a response that parses with its status. abort() on any
 * disagreement.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/handshake.h"

static const struct rws_http_limits tight = { .max_head = 300, .max_line = 80, .max_headers = 6 };

static struct rws_hs_request req, req2, req_part;
static struct rws_hs_response res, res_part;
static char out[16384], out2[16384];

static void check(int cond)
{
	if (!cond)
		abort();
}

static void agree(int whole, int part, size_t k)
{
	if (whole > 0 && (size_t)whole > k)
		check(part == RWS_HTTP_INCOMPLETE);
	else
		check(part == RWS_HTTP_INCOMPLETE || part == whole);
}

static int inside(struct rws_str s, const char *buf, size_t n)
{
	return s.p >= buf && s.p + s.len <= buf + n;
}

/* The prefix lengths to try: all of them for short inputs, a spread else. */
static size_t next_split(size_t k, size_t size)
{
	if (size <= 200)
		return k + 1;
	return k + size / 23 + 1;
}

static void split_server(const uint8_t *data, size_t size, const struct rws_http_limits *lim,
			 int whole)
{
	for (size_t k = 0; k < size; k = next_split(k, size)) {
		char *p = malloc(k ? k : 1);
		memcpy(p, data, k);
		agree(whole, rws_hs_server_parse(p, k, lim, &req_part), k);
		free(p);
	}
	if (whole > 0) {   /* just short of the head, and the head alone */
		char *p = malloc((size_t)whole);
		memcpy(p, data, (size_t)whole);
		check(rws_hs_server_parse(p, (size_t)whole - 1, lim, &req_part) == RWS_HTTP_INCOMPLETE);
		check(rws_hs_server_parse(p, (size_t)whole, lim, &req_part) == whole);
		free(p);
	}
}

static void split_client(const uint8_t *data, size_t size, const struct rws_http_limits *lim,
			 const struct rws_hs_client_opts *o, const struct rws_hs_client_key *k,
			 int whole)
{
	for (size_t n = 0; n < size; n = next_split(n, size)) {
		char *p = malloc(n ? n : 1);
		memcpy(p, data, n);
		agree(whole, rws_hs_client_parse(p, n, lim, o, k, &res_part), n);
		free(p);
	}
}

/* A refusal for err parses back as a response with err's status. */
static void check_reject(int err)
{
	int status = rws_hs_error_status(err);
	check(status != 0);
	int n = rws_hs_write_reject(out, sizeof(out), err);
	check(n > 0);
	int h = rws_http_parse_response(out, (size_t)n, NULL, &res.http);
	check(h > 0 && res.http.status == status);
}

/* The request passed: answer 101, and let our client accept it. */
static void answer(void)
{
	struct rws_hs_reply r = { 0 };
	if (req.num_protocols)
		r.protocol = req.protocols[0];
	check(req.key.len == RWS_HS_KEY_LEN);
	int n = rws_hs_write_101(out, sizeof(out), req.key, &r);
	check(n > 0);

	struct rws_hs_client_key k;
	memcpy(k.key, req.key.p, RWS_HS_KEY_LEN);
	k.key[RWS_HS_KEY_LEN] = '\0';
	check(rws_hs_accept_key(k.key, RWS_HS_KEY_LEN, k.accept) == RWS_HS_ACCEPT_LEN);
	struct rws_hs_client_opts o = {
		.host = req.host,
		.protocols = req.protocols,
		.num_protocols = req.num_protocols,
	};
	check(rws_hs_client_parse(out, (size_t)n, NULL, &o, &k, &res) == n);
	if (req.num_protocols)
		check(res.protocol.len == req.protocols[0].len &&
		      memcmp(res.protocol.p, req.protocols[0].p, res.protocol.len) == 0);
	else
		check(res.protocol.p == NULL);
}

static int same(struct rws_str a, struct rws_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Our client, asked for what the request asked for, writes a request our
 * server reads back the same (unless a value is one the writer refuses). */
static void rewrite(const uint8_t *data, size_t size)
{
	uint8_t nonce[RWS_HS_NONCE_LEN] = { 0 };
	memcpy(nonce, data, size < sizeof(nonce) ? size : sizeof(nonce));
	struct rws_hs_client_opts o = {
		.host = req.host,
		.path = req.http.path,
		.query = req.http.query,
		.version = req.version,
		.origin = req.origin,
		.protocols = req.protocols,
		.num_protocols = req.num_protocols,
	};
	size_t from = 0, ext = 0;
	const struct rws_http_header *h, *e = NULL;
	while ((h = rws_http_find(req.http.headers, req.http.num_headers,
				  "Sec-WebSocket-Extensions", &from))) {
		e = h;
		ext++;
	}
	if (ext == 1)
		o.extensions = e->value;
	struct rws_hs_client_key k;
	int n = rws_hs_client_write(out2, sizeof(out2), &o, nonce, &k);
	if (n == -EINVAL)
		return;
	check(n > 0);
	check(rws_hs_server_parse(out2, (size_t)n, NULL, &req2) == n);
	check(same(req2.host, req.host));
	check(same(req2.http.path, req.http.path));
	check((req2.http.query.p == NULL) == (req.http.query.p == NULL));
	check(same(req2.http.query, req.http.query));
	check(req2.version == req.version);
	check((req2.origin.p == NULL) == (req.origin.p == NULL));
	check(same(req2.origin, req.origin));
	check(req2.num_protocols == req.num_protocols);
	for (size_t i = 0; i < req.num_protocols; i++)
		check(same(req2.protocols[i], req.protocols[i]));
	if (ext == 1)
		check(req2.num_extensions == req.num_extensions);
	check(same(req2.key, (struct rws_str){ k.key, RWS_HS_KEY_LEN }));
}

static void as_request(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	int rc = rws_hs_server_parse(buf, size, NULL, &req);
	split_server(data, size, NULL, rc);
	check(rc > 0 || rc == RWS_HTTP_INCOMPLETE ||
	      (rc >= RWS_HTTP_E_HEAD_TOO_LARGE && rc < RWS_HTTP_E_END_) ||
	      (rc >= RWS_HS_E_METHOD && rc < RWS_HS_E_NOT_101));
	check(rws_hs_strerror(rc) != NULL);
	if (rc > 0) {
		check((size_t)rc <= size);
		check(inside(req.http.method, buf, (size_t)rc));
		check(inside(req.http.target, buf, (size_t)rc));
		check(inside(req.host, buf, (size_t)rc));
		check(inside(req.key, buf, (size_t)rc));
		for (size_t i = 0; i < req.http.num_headers; i++)
			check(inside(req.http.headers[i].value, buf, (size_t)rc));
		answer();
		rewrite(data, size);
	} else if (rc != RWS_HTTP_INCOMPLETE) {
		check_reject(rc);
	}

	int t = rws_hs_server_parse(buf, size, &tight, &req);
	split_server(data, size, &tight, t);
	check(t <= 300);
}

static const struct rws_str offered[] = { RWS_STR_INIT("chat"), RWS_STR_INIT("superchat") };

static void as_response(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const struct rws_hs_client_opts o = {
		.host = RWS_STR_INIT("server.example.com"),
		.protocols = offered,
		.num_protocols = 2,
		.extensions = RWS_STR_INIT("permessage-deflate; client_max_window_bits, x-custom"),
	};
	struct rws_hs_client_key k = {
		.key = "dGhlIHNhbXBsZSBub25jZQ==",
		.accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
	};
	int rc = rws_hs_client_parse(buf, size, NULL, &o, &k, &res);
	split_client(data, size, NULL, &o, &k, rc);
	check(rws_hs_strerror(rc) != NULL);
	if (rc > 0) {
		check(res.http.status == 101);
		check(res.protocol.p == NULL || same(res.protocol, offered[0]) ||
		      same(res.protocol, offered[1]));
		check(inside((struct rws_str){ res.http.reason.p, res.http.reason.len },
			     buf, (size_t)rc));
	}
	int t = rws_hs_client_parse(buf, size, &tight, &o, &k, &res);
	split_client(data, size, &tight, &o, &k, t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_request(data, size);
	as_response(data, size);
	return 0;
}
