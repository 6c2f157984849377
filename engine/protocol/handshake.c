/*
 * handshake: see handshake.h. Validation walks the parsed headers once,
 * counting the fields that must be unique, then checks the rules in a fixed
 * order (the order of section 4.2.1 for the server, 4.1 for the client), so
 * a request that breaks several rules always gets the same answer.
 */
#include "protocol/handshake.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "protocol/base64.h"
#include "protocol/random.h"
#include "protocol/sha1.h"

static int is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

static int eq_nocase(struct rws_str a, struct rws_str b)
{
	if (a.len != b.len)
		return 0;
	for (size_t i = 0; i < a.len; i++)
		if (lower((unsigned char)a.p[i]) != lower((unsigned char)b.p[i]))
			return 0;
	return 1;
}

static int eq(struct rws_str a, struct rws_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static int eq_lit(struct rws_str a, const char *lit)
{
	size_t n = strlen(lit);
	return a.len == n && memcmp(a.p, lit, n) == 0;
}

static int is_token(struct rws_str s)
{
	if (s.len == 0)
		return 0;
	for (size_t i = 0; i < s.len; i++)
		if (!rws_http_is_tchar((unsigned char)s.p[i]))
			return 0;
	return 1;
}

/* A header value we write: HTAB, SP, VCHAR, obs-text; no CR, LF or NUL. */
static int is_text(struct rws_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == 0x7f || (c < 0x20 && c != '\t'))
			return 0;
	}
	return 1;
}

static const char *skip_ows(const char *p, const char *end)
{
	while (p < end && is_ows((unsigned char)*p))
		p++;
	return p;
}

static const char *skip_token(const char *p, const char *end)
{
	while (p < end && rws_http_is_tchar((unsigned char)*p))
		p++;
	return p;
}

/* --- list values ---------------------------------------------------------- */

int rws_hs_parse_protocols(struct rws_str value, struct rws_str *list,
			   size_t cap, size_t *n)
{
	if (value.len == 0)
		return RWS_HS_E_BAD_PROTOCOL;
	const char *p = value.p, *end = value.p + value.len;
	for (;;) {
		const char *c = p < end ? memchr(p, ',', (size_t)(end - p)) : NULL;
		const char *e = c ? c : end;
		const char *b = skip_ows(p, e);
		while (e > b && is_ows((unsigned char)e[-1]))
			e--;
		struct rws_str s = { b, (size_t)(e - b) };
		if (!is_token(s))
			return RWS_HS_E_BAD_PROTOCOL;
		for (size_t i = 0; i < *n; i++)
			if (eq(list[i], s))
				return RWS_HS_E_DUP_PROTOCOL;
		if (*n >= cap)
			return RWS_HS_E_TOO_MANY_PROTOCOLS;
		list[(*n)++] = s;
		if (!c)
			return 0;
		p = c + 1;
	}
}

/*
 * One element of an extension list (RFC 6455 section 9.1):
 *   extension = token *( OWS ";" OWS token [ OWS "=" OWS (token / quoted) ] )
 * from *pp; leaves *pp at the ',' that ends it or at end.
 */
static int parse_ext(const char **pp, const char *end, struct rws_hs_ext *e)
{
	const char *p = skip_ows(*pp, end);
	const char *t = skip_token(p, end);
	if (t == p)
		return RWS_HS_E_BAD_EXTENSIONS;
	e->name = (struct rws_str){ p, (size_t)(t - p) };
	e->num_params = 0;
	p = skip_ows(t, end);
	while (p < end && *p == ';') {
		p = skip_ows(p + 1, end);
		t = skip_token(p, end);
		if (t == p)
			return RWS_HS_E_BAD_EXTENSIONS;
		if (e->num_params == RWS_HS_MAX_EXT_PARAMS)
			return RWS_HS_E_TOO_MANY_EXT_PARAMS;
		struct rws_hs_ext_param *q = &e->params[e->num_params++];
		q->name = (struct rws_str){ p, (size_t)(t - p) };
		q->value = (struct rws_str){ NULL, 0 };
		q->quoted = 0;
		p = skip_ows(t, end);
		if (p == end || *p != '=')
			continue;
		p = skip_ows(p + 1, end);
		if (p < end && *p == '"') {
			/* the inside must be a token, so a backslash is refused */
			const char *v = p + 1;
			t = skip_token(v, end);
			if (t == v || t == end || *t != '"')
				return RWS_HS_E_BAD_EXTENSIONS;
			q->value = (struct rws_str){ v, (size_t)(t - v) };
			q->quoted = 1;
			p = t + 1;
		} else {
			t = skip_token(p, end);
			if (t == p)
				return RWS_HS_E_BAD_EXTENSIONS;
			q->value = (struct rws_str){ p, (size_t)(t - p) };
			p = t;
		}
		p = skip_ows(p, end);
	}
	if (p < end && *p != ',')
		return RWS_HS_E_BAD_EXTENSIONS;
	*pp = p;
	return 0;
}

int rws_hs_parse_extensions(struct rws_str value, struct rws_hs_ext *list,
			    size_t cap, size_t *n)
{
	if (value.len == 0)
		return RWS_HS_E_BAD_EXTENSIONS;
	const char *p = value.p, *end = value.p + value.len;
	for (;;) {
		if (*n >= cap)
			return RWS_HS_E_TOO_MANY_EXTENSIONS;
		int rc = parse_ext(&p, end, &list[*n]);
		if (rc < 0)
			return rc;
		(*n)++;
		if (p == end)
			return 0;
		p++;    /* the ',' */
	}
}

/* Counts the offers in an extension string we send, or returns an error;
 * with `name` set, returns 1 if some offer has that name, else 0. */
static int scan_offers(struct rws_str offers, const struct rws_str *name)
{
	if (offers.len == 0)
		return RWS_HS_E_BAD_EXTENSIONS;
	struct rws_hs_ext e;
	const char *p = offers.p, *end = offers.p + offers.len;
	int count = 0;
	for (;;) {
		int rc = parse_ext(&p, end, &e);
		if (rc < 0)
			return rc;
		if (name && eq_nocase(e.name, *name))
			return 1;
		if (++count > RWS_HS_MAX_EXTENSIONS)
			return RWS_HS_E_TOO_MANY_EXTENSIONS;
		if (p == end)
			return name ? 0 : count;
		p++;
	}
}

/* --- server --------------------------------------------------------------- */

int rws_hs_accept_key(const char *key, size_t len, char out[RWS_HS_ACCEPT_LEN + 1])
{
	struct rws_sha1 s;
	uint8_t digest[RWS_SHA1_DIGEST_LEN];
	rws_sha1_init(&s);
	rws_sha1_update(&s, key, len);
	rws_sha1_update(&s, RWS_HS_GUID, sizeof(RWS_HS_GUID) - 1);
	rws_sha1_final(&s, digest);
	return rws_base64_encode(digest, sizeof(digest), out, RWS_HS_ACCEPT_LEN + 1);
}

/* Counts a header that must appear once and remembers its first value. */
struct once {
	size_t n;
	struct rws_str v;
};

static void seen(struct once *o, struct rws_str v)
{
	if (o->n++ == 0)
		o->v = v;
}

static int name_is(const struct rws_http_header *h, const char *lit)
{
	return eq_nocase(h->name, (struct rws_str){ lit, strlen(lit) });
}

int rws_hs_server_validate(struct rws_hs_request *req)
{
	const struct rws_http_request *http = &req->http;
	struct once host = { 0 }, ver = { 0 }, key = { 0 }, origin = { 0 }, sorigin = { 0 };
	int upgrade = 0, connection = 0;

	req->host = req->origin = req->key = (struct rws_str){ NULL, 0 };
	req->version = 0;
	req->num_protocols = req->num_extensions = 0;

	if (!eq_lit(http->method, "GET"))
		return RWS_HS_E_METHOD;
	if (http->major < 1 || (http->major == 1 && http->minor < 1))
		return RWS_HS_E_HTTP_VERSION;

	for (size_t i = 0; i < http->num_headers; i++) {
		const struct rws_http_header *h = &http->headers[i];
		if (name_is(h, "Host"))
			seen(&host, h->value);
		else if (name_is(h, "Upgrade"))
			upgrade |= rws_http_list_has(h->value, "websocket");
		else if (name_is(h, "Connection"))
			connection |= rws_http_list_has(h->value, "Upgrade");
		else if (name_is(h, "Sec-WebSocket-Version"))
			seen(&ver, h->value);
		else if (name_is(h, "Sec-WebSocket-Key"))
			seen(&key, h->value);
		else if (name_is(h, "Origin"))
			seen(&origin, h->value);
		else if (name_is(h, "Sec-WebSocket-Origin"))
			seen(&sorigin, h->value);
	}

	if (host.n == 0)
		return RWS_HS_E_NO_HOST;
	if (host.n > 1)
		return RWS_HS_E_DUP_HOST;
	if (host.v.len == 0)
		return RWS_HS_E_NO_HOST;
	if (!upgrade)
		return RWS_HS_E_BAD_UPGRADE;
	if (!connection)
		return RWS_HS_E_BAD_CONNECTION;

	if (ver.n == 0)
		return RWS_HS_E_NO_VERSION;
	if (ver.n > 1)
		return RWS_HS_E_DUP_VERSION;
	if (eq_lit(ver.v, "13"))
		req->version = 13;
	else if (eq_lit(ver.v, "8"))
		req->version = 8;
	else
		return RWS_HS_E_BAD_VERSION;

	if (key.n == 0)
		return RWS_HS_E_NO_KEY;
	if (key.n > 1)
		return RWS_HS_E_DUP_KEY;
	uint8_t nonce[RWS_HS_NONCE_LEN + 3];
	if (key.v.len != RWS_HS_KEY_LEN ||
	    rws_base64_decode(key.v.p, key.v.len, nonce, sizeof(nonce)) != RWS_HS_NONCE_LEN)
		return RWS_HS_E_BAD_KEY;

	/* version 8 (HyBi 07-12) named it Sec-WebSocket-Origin */
	struct once *o = req->version == 8 && sorigin.n ? &sorigin : &origin;
	if (o->n > 1)
		return RWS_HS_E_DUP_ORIGIN;
	if (o->n == 1)
		req->origin = o->v;

	for (size_t i = 0; i < http->num_headers; i++) {
		const struct rws_http_header *h = &http->headers[i];
		int rc = 0;
		if (name_is(h, "Sec-WebSocket-Protocol"))
			rc = rws_hs_parse_protocols(h->value, req->protocols,
						    RWS_HS_MAX_PROTOCOLS, &req->num_protocols);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < http->num_headers; i++) {
		const struct rws_http_header *h = &http->headers[i];
		int rc = 0;
		if (name_is(h, "Sec-WebSocket-Extensions"))
			rc = rws_hs_parse_extensions(h->value, req->extensions,
						     RWS_HS_MAX_EXTENSIONS,
						     &req->num_extensions);
		if (rc < 0)
			return rc;
	}

	req->host = host.v;
	req->key = key.v;
	return 0;
}

int rws_hs_server_parse(const char *buf, size_t len,
			const struct rws_http_limits *lim,
			struct rws_hs_request *req)
{
	int n = rws_http_parse_request(buf, len, lim, &req->http);
	if (n < 0)
		return n;
	int rc = rws_hs_server_validate(req);
	return rc < 0 ? rc : n;
}

/* --- writing -------------------------------------------------------------- */

/* An output buffer; len runs past cap when the message does not fit. */
struct out {
	char *p;
	size_t cap, len;
};

static void put(struct out *o, const void *s, size_t n)
{
	if (o->len <= o->cap && n <= o->cap - o->len && n > 0)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, struct rws_str s)
{
	put(o, s.p, s.len);
}

static void put_lit(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_uint(struct out *o, size_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, tmp + i, sizeof(tmp) - i);
}

static void put_header(struct out *o, const char *name, struct rws_str value)
{
	put_lit(o, name);
	put(o, ": ", 2);
	put_str(o, value);
	put(o, "\r\n", 2);
}

static int finish(const struct out *o)
{
	return o->len > o->cap ? -ENOSPC : (int)o->len;
}

static struct out out_init(char *p, size_t cap)
{
	return (struct out){ p, cap < (size_t)INT_MAX ? cap : (size_t)INT_MAX, 0 };
}

static int extra_ok(const struct rws_http_header *h, size_t n)
{
	if (n > 0 && !h)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_token(h[i].name) || !is_text(h[i].value))
			return 0;
	return 1;
}

static void put_extra(struct out *o, const struct rws_http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		put_str(o, h[i].name);
		put(o, ": ", 2);
		put_str(o, h[i].value);
		put(o, "\r\n", 2);
	}
}

int rws_hs_write_101(char *buf, size_t cap, struct rws_str key,
		     const struct rws_hs_reply *r)
{
	static const struct rws_hs_reply none;
	if (!r)
		r = &none;
	if (!is_text(key) || (r->protocol.len && !is_token(r->protocol)) ||
	    (r->extensions.len && scan_offers(r->extensions, NULL) < 0) ||
	    !extra_ok(r->extra, r->num_extra))
		return -EINVAL;

	char accept[RWS_HS_ACCEPT_LEN + 1];
	rws_hs_accept_key(key.p, key.len, accept);

	struct out o = out_init(buf, cap);
	put_lit(&o, "HTTP/1.1 101 Switching Protocols\r\n"
		    "Upgrade: websocket\r\n"
		    "Connection: Upgrade\r\n");
	put_header(&o, "Sec-WebSocket-Accept", (struct rws_str){ accept, RWS_HS_ACCEPT_LEN });
	if (r->protocol.len)
		put_header(&o, "Sec-WebSocket-Protocol", r->protocol);
	if (r->extensions.len)
		put_header(&o, "Sec-WebSocket-Extensions", r->extensions);
	put_extra(&o, r->extra, r->num_extra);
	put(&o, "\r\n", 2);
	return finish(&o);
}

int rws_hs_write_error(char *buf, size_t cap, int status, const char *reason,
		       const struct rws_http_header *extra, size_t num_extra)
{
	if (status < 200 || status > 599)
		return -EINVAL;
	const char *phrase = rws_http_status_text(status);
	struct rws_str body = { reason ? reason : phrase, strlen(reason ? reason : phrase) };
	if (!is_text(body) || !extra_ok(extra, num_extra))
		return -EINVAL;

	struct out o = out_init(buf, cap);
	put(&o, "HTTP/1.1 ", 9);
	put_uint(&o, (size_t)status);
	put(&o, " ", 1);
	put_lit(&o, phrase);
	put_lit(&o, "\r\nConnection: close\r\n"
		    "Content-Type: text/plain\r\n"
		    "Content-Length: ");
	put_uint(&o, body.len + 1);
	put(&o, "\r\n", 2);
	if (status == 426)
		put_lit(&o, "Sec-WebSocket-Version: 13, 8\r\n");
	if (status == 405)
		put_lit(&o, "Allow: GET\r\n");
	put_extra(&o, extra, num_extra);
	put(&o, "\r\n", 2);
	put_str(&o, body);
	put(&o, "\n", 1);
	return finish(&o);
}

int rws_hs_write_reject(char *buf, size_t cap, int err)
{
	int status = rws_hs_error_status(err);
	if (status == 0)
		return -EINVAL;
	return rws_hs_write_error(buf, cap, status, rws_hs_strerror(err), NULL, 0);
}

/* --- client --------------------------------------------------------------- */

static int is_path_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '#' && c != '?';
}

static int opts_ok(const struct rws_hs_client_opts *o)
{
	if (o->host.len == 0 || !is_text(o->host) || memchr(o->host.p, ' ', o->host.len) ||
	    memchr(o->host.p, '\t', o->host.len))
		return 0;
	if (o->path.len && o->path.p[0] != '/')
		return 0;
	for (size_t i = 0; i < o->path.len; i++)
		if (!is_path_char((unsigned char)o->path.p[i]))
			return 0;
	for (size_t i = 0; i < o->query.len; i++)
		if (!is_path_char((unsigned char)o->query.p[i]) && o->query.p[i] != '?')
			return 0;
	if (o->version != 0 && o->version != 13 && o->version != 8)
		return 0;
	if (o->origin.p && !is_text(o->origin))
		return 0;
	if (o->num_protocols > RWS_HS_MAX_PROTOCOLS || (o->num_protocols && !o->protocols))
		return 0;
	for (size_t i = 0; i < o->num_protocols; i++) {
		if (!is_token(o->protocols[i]))
			return 0;
		for (size_t j = 0; j < i; j++)
			if (eq(o->protocols[i], o->protocols[j]))
				return 0;
	}
	if (o->extensions.len && scan_offers(o->extensions, NULL) < 0)
		return 0;
	return extra_ok(o->extra, o->num_extra);
}

int rws_hs_client_write(char *buf, size_t cap, const struct rws_hs_client_opts *opt,
			const uint8_t nonce[RWS_HS_NONCE_LEN],
			struct rws_hs_client_key *k)
{
	if (!opts_ok(opt))
		return -EINVAL;
	rws_base64_encode(nonce, RWS_HS_NONCE_LEN, k->key, sizeof(k->key));
	rws_hs_accept_key(k->key, RWS_HS_KEY_LEN, k->accept);
	int v8 = opt->version == 8;

	struct out o = out_init(buf, cap);
	put(&o, "GET ", 4);
	if (opt->path.len)
		put_str(&o, opt->path);
	else
		put(&o, "/", 1);
	if (opt->query.p) {
		put(&o, "?", 1);
		put_str(&o, opt->query);
	}
	put(&o, " HTTP/1.1\r\n", 11);
	put_header(&o, "Host", opt->host);
	put_lit(&o, "Upgrade: websocket\r\n"
		    "Connection: Upgrade\r\n");
	put_header(&o, "Sec-WebSocket-Key", (struct rws_str){ k->key, RWS_HS_KEY_LEN });
	put_lit(&o, v8 ? "Sec-WebSocket-Version: 8\r\n" : "Sec-WebSocket-Version: 13\r\n");
	if (opt->origin.p)
		put_header(&o, v8 ? "Sec-WebSocket-Origin" : "Origin", opt->origin);
	if (opt->num_protocols) {
		put_lit(&o, "Sec-WebSocket-Protocol: ");
		for (size_t i = 0; i < opt->num_protocols; i++) {
			if (i)
				put(&o, ", ", 2);
			put_str(&o, opt->protocols[i]);
		}
		put(&o, "\r\n", 2);
	}
	if (opt->extensions.len)
		put_header(&o, "Sec-WebSocket-Extensions", opt->extensions);
	put_extra(&o, opt->extra, opt->num_extra);
	put(&o, "\r\n", 2);
	return finish(&o);
}

int rws_hs_client_write_random(char *buf, size_t cap,
			       const struct rws_hs_client_opts *o,
			       struct rws_hs_client_key *k)
{
	uint8_t nonce[RWS_HS_NONCE_LEN];
	int rc = rws_random_bytes(nonce, sizeof(nonce));
	if (rc < 0)
		return rc;
	return rws_hs_client_write(buf, cap, o, nonce, k);
}

int rws_hs_client_validate(struct rws_hs_response *res,
			   const struct rws_hs_client_opts *opt,
			   const struct rws_hs_client_key *k)
{
	const struct rws_http_response *http = &res->http;
	struct once accept = { 0 }, proto = { 0 };
	int upgrade = 0, connection = 0;

	res->protocol = (struct rws_str){ NULL, 0 };
	res->num_extensions = 0;

	if (http->status != 101)
		return RWS_HS_E_NOT_101;
	for (size_t i = 0; i < http->num_headers; i++) {
		const struct rws_http_header *h = &http->headers[i];
		if (name_is(h, "Upgrade"))
			upgrade |= rws_http_list_has(h->value, "websocket");
		else if (name_is(h, "Connection"))
			connection |= rws_http_list_has(h->value, "Upgrade");
		else if (name_is(h, "Sec-WebSocket-Accept"))
			seen(&accept, h->value);
		else if (name_is(h, "Sec-WebSocket-Protocol"))
			seen(&proto, h->value);
	}
	if (!upgrade)
		return RWS_HS_E_BAD_UPGRADE;
	if (!connection)
		return RWS_HS_E_BAD_CONNECTION;
	if (accept.n == 0)
		return RWS_HS_E_NO_ACCEPT;
	if (accept.n > 1)
		return RWS_HS_E_DUP_ACCEPT;
	if (!eq(accept.v, (struct rws_str){ k->accept, strlen(k->accept) }))
		return RWS_HS_E_BAD_ACCEPT;

	if (proto.n > 1 || (proto.n == 1 && memchr(proto.v.p, ',', proto.v.len)))
		return RWS_HS_E_MULTIPLE_PROTOCOLS;
	if (proto.n == 1) {
		if (!is_token(proto.v))
			return RWS_HS_E_BAD_PROTOCOL;
		size_t i = 0;
		while (i < opt->num_protocols && !eq(opt->protocols[i], proto.v))
			i++;
		if (i == opt->num_protocols)
			return RWS_HS_E_PROTOCOL_NOT_OFFERED;
		res->protocol = proto.v;
	}

	for (size_t i = 0; i < http->num_headers; i++) {
		const struct rws_http_header *h = &http->headers[i];
		if (!name_is(h, "Sec-WebSocket-Extensions"))
			continue;
		size_t first = res->num_extensions;
		int rc = rws_hs_parse_extensions(h->value, res->extensions,
						 RWS_HS_MAX_EXTENSIONS, &res->num_extensions);
		if (rc < 0)
			return rc;
		for (size_t j = first; j < res->num_extensions; j++)
			if (!opt->extensions.len ||
			    scan_offers(opt->extensions, &res->extensions[j].name) != 1)
				return RWS_HS_E_EXTENSION_NOT_OFFERED;
	}
	return 0;
}

int rws_hs_client_parse(const char *buf, size_t len,
			const struct rws_http_limits *lim,
			const struct rws_hs_client_opts *o,
			const struct rws_hs_client_key *k,
			struct rws_hs_response *res)
{
	int n = rws_http_parse_response(buf, len, lim, &res->http);
	if (n < 0)
		return n;
	int rc = rws_hs_client_validate(res, o, k);
	return rc < 0 ? rc : n;
}

/* --- errors --------------------------------------------------------------- */

struct err_info {
	const char *name;
	int status;
	const char *msg;
};

#define E(code, st, text) [code - RWS_HS_E_METHOD] = { #code, st, text }
static const struct err_info errors[] = {
	E(RWS_HS_E_METHOD, 405, "method is not GET"),
	E(RWS_HS_E_HTTP_VERSION, 400, "HTTP version is below 1.1"),
	E(RWS_HS_E_NO_HOST, 400, "Host header missing or empty"),
	E(RWS_HS_E_DUP_HOST, 400, "Host header appears more than once"),
	E(RWS_HS_E_BAD_UPGRADE, 400, "Upgrade header missing or without the token websocket"),
	E(RWS_HS_E_BAD_CONNECTION, 400, "Connection header missing or without the token Upgrade"),
	E(RWS_HS_E_NO_VERSION, 426, "Sec-WebSocket-Version header missing"),
	E(RWS_HS_E_BAD_VERSION, 426, "Sec-WebSocket-Version is not 13 or 8"),
	E(RWS_HS_E_DUP_VERSION, 400, "Sec-WebSocket-Version header appears more than once"),
	E(RWS_HS_E_NO_KEY, 400, "Sec-WebSocket-Key header missing"),
	E(RWS_HS_E_DUP_KEY, 400, "Sec-WebSocket-Key header appears more than once"),
	E(RWS_HS_E_BAD_KEY, 400, "Sec-WebSocket-Key is not base64 of 16 bytes"),
	E(RWS_HS_E_DUP_ORIGIN, 400, "Origin header appears more than once"),
	E(RWS_HS_E_BAD_PROTOCOL, 400, "Sec-WebSocket-Protocol has an empty or non-token item"),
	E(RWS_HS_E_DUP_PROTOCOL, 400, "Sec-WebSocket-Protocol names a subprotocol twice"),
	E(RWS_HS_E_TOO_MANY_PROTOCOLS, 400, "more than 32 subprotocols offered"),
	E(RWS_HS_E_BAD_EXTENSIONS, 400, "Sec-WebSocket-Extensions is malformed"),
	E(RWS_HS_E_TOO_MANY_EXTENSIONS, 400, "more than 16 extensions listed"),
	E(RWS_HS_E_TOO_MANY_EXT_PARAMS, 400, "an extension has more than 16 parameters"),
	E(RWS_HS_E_NOT_101, 0, "server did not answer 101 Switching Protocols"),
	E(RWS_HS_E_NO_ACCEPT, 0, "Sec-WebSocket-Accept header missing"),
	E(RWS_HS_E_DUP_ACCEPT, 0, "Sec-WebSocket-Accept header appears more than once"),
	E(RWS_HS_E_BAD_ACCEPT, 0, "Sec-WebSocket-Accept does not match the key sent"),
	E(RWS_HS_E_PROTOCOL_NOT_OFFERED, 0, "server chose a subprotocol the client did not offer"),
	E(RWS_HS_E_MULTIPLE_PROTOCOLS, 0, "server selected more than one subprotocol"),
	E(RWS_HS_E_EXTENSION_NOT_OFFERED, 0, "server accepted an extension that was not offered"),
};
#undef E

static const struct err_info *lookup(int err)
{
	if (err < RWS_HS_E_METHOD || err >= RWS_HS_E_END_)
		return NULL;
	return &errors[err - RWS_HS_E_METHOD];
}

const char *rws_hs_strerror(int err)
{
	const struct err_info *e = lookup(err);
	if (e)
		return e->msg;
	const char *m = rws_http_strerror(err);
	if (m)
		return m;
	if (err == -ENOSPC)
		return "output buffer too small";
	if (err == -EINVAL)
		return "invalid argument: a header, path or option would break the message";
	return err < 0 ? "system error" : "no error";
}

int rws_hs_error_status(int err)
{
	const struct err_info *e = lookup(err);
	return e ? e->status : rws_http_error_status(err);
}

const char *rws_hs_error_name(int err)
{
	const struct err_info *e = lookup(err);
	return e ? e->name : rws_http_error_name(err);
}
