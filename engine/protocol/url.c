/*
 * url: WebSocket URLs for the client (see url.h).
 */
#include "protocol/url.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int starts(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != prefix[i])
			return 0;
	}
	return 1;
}

/* Splits "path?query" at p into u->path and u->query. */
static void path_query(const char *p, struct rws_url *u)
{
	const char *q = strchr(p, '?');
	size_t plen = q ? (size_t)(q - p) : strlen(p);
	if (plen == 0)
		u->path = RWS_STR("/");
	else
		u->path = (struct rws_str){ p, plen };
	if (q)
		u->query = (struct rws_str){ q + 1, strlen(q + 1) };
}

int rws_url_parse(const char *url, struct rws_url *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	if (!url || !*url)
		return fail(err, errlen, "empty URL");
	for (const char *p = url; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == 0x7f)
			return fail(err, errlen, "the URL has a space or control character at %zu",
				    (size_t)(p - url));
	}
	if (strchr(url, '#'))
		return fail(err, errlen, "the URL has a fragment ('#'), which WebSocket URLs may not");

	const char *rest;
	if (starts(url, "ws+unix://") || starts(url, "wss+unix://")) {
		u->secure = url[2] == 's' || url[2] == 'S';
		u->unix_socket = 1;
		rest = url + (u->secure ? 11 : 10);
		/* the socket path ends at ':' (then the request path) or '?' */
		size_t n = strcspn(rest, ":?");
		if (n == 0)
			return fail(err, errlen, "no socket path in the %s URL",
				    u->secure ? "wss+unix" : "ws+unix");
		u->socket_path = (struct rws_str){ rest, n };
		rest += n;
		if (*rest == ':')
			rest++;
		if (*rest && *rest != '/' && *rest != '?')
			return fail(err, errlen, "the request path after the socket path must start "
				    "with '/'");
		path_query(rest, u);
		u->host = RWS_STR("localhost");
		u->port = u->secure ? 443 : 80;
		return 0;
	}
	if (starts(url, "wss://")) {
		u->secure = 1;
		rest = url + 6;
	} else if (starts(url, "ws://")) {
		rest = url + 5;
	} else {
		size_t n = strcspn(url, ":/");
		if (url[n] == ':')
			return fail(err, errlen, "unknown scheme \"%.*s\": use ws://, wss:// or "
				    "ws+unix://", (int)(n < 32 ? n : 32), url);
		return fail(err, errlen, "no scheme: use ws://, wss:// or ws+unix://");
	}
	u->port = u->secure ? 443 : 80;

	/* authority: [userinfo@]host[:port], up to the path or query */
	size_t alen = strcspn(rest, "/?");
	const char *auth = rest, *aend = rest + alen;
	const char *at = NULL;
	for (const char *p = auth; p < aend; p++)
		if (*p == '@')
			at = p;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon) {
			u->user = (struct rws_str){ auth, (size_t)(colon - auth) };
			u->password = (struct rws_str){ colon + 1, (size_t)(at - colon - 1) };
		} else {
			u->user = (struct rws_str){ auth, (size_t)(at - auth) };
		}
		auth = at + 1;
	}
	const char *hp = auth, *port = NULL;
	if (*hp == '[') {
		const char *close = memchr(hp, ']', (size_t)(aend - hp));
		if (!close)
			return fail(err, errlen, "an IPv6 address without its closing ']'");
		u->host = (struct rws_str){ hp + 1, (size_t)(close - hp - 1) };
		u->ipv6_literal = 1;
		if (close + 1 < aend) {
			if (close[1] != ':')
				return fail(err, errlen, "unexpected characters after the IPv6 address");
			port = close + 2;
		}
		for (size_t i = 0; i < u->host.len; i++) {
			char c = u->host.p[i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
			      c == ':' || c == '.'))
				return fail(err, errlen, "\"%.*s\" is not an IPv6 address",
					    (int)u->host.len, u->host.p);
		}
	} else {
		const char *colon = memchr(hp, ':', (size_t)(aend - hp));
		u->host = (struct rws_str){ hp, (size_t)((colon ? colon : aend) - hp) };
		if (colon)
			port = colon + 1;
		for (size_t i = 0; i < u->host.len; i++)
			if (strchr("[]<>\"\\^`{|}%", u->host.p[i]))
				return fail(err, errlen, "'%c' in the host name", u->host.p[i]);
	}
	if (u->host.len == 0)
		return fail(err, errlen, "no host in the URL");
	if (port) {
		size_t n = (size_t)(aend - port);
		unsigned long v = 0;
		if (n == 0 || n > 5)
			return fail(err, errlen, "bad port \"%.*s\": 1 to 65535", (int)n, port);
		for (size_t i = 0; i < n; i++) {
			if (port[i] < '0' || port[i] > '9')
				return fail(err, errlen, "bad port \"%.*s\": 1 to 65535", (int)n, port);
			v = v * 10 + (unsigned long)(port[i] - '0');
		}
		if (v == 0 || v > 65535)
			return fail(err, errlen, "bad port \"%.*s\": 1 to 65535", (int)n, port);
		u->port = (uint16_t)v;
		u->port_given = 1;
	}
	path_query(aend, u);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int rws_url_decode(struct rws_str s, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (c == '%') {
			if (i + 2 >= s.len)
				return -EINVAL;
			int hi = hexval(s.p[i + 1]);
			int lo = hexval(s.p[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (n + 1 >= cap)
			return -ENOSPC;
		out[n++] = c;
	}
	if (n >= cap)
		return -ENOSPC;
	out[n] = 0;
	return (int)n;
}
