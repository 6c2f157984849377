/*
 * url: the WebSocket URLs a client connects to (RFC 6455 section 3, and
 * ws's ws+unix form), parsed into their parts without allocating.
 *
 *   ws://[user[:pass]@]host[:port][/path][?query]     port 80 by default
 *   wss://...                                          port 443 by default
 *   ws+unix:///socket/path[:/request/path][?query]     (wss+unix:// too)
 *
 * Refused, with a message naming the fault: a fragment ('#', which RFC 6455
 * forbids), a scheme other than these (http:// included: ws's clients take
 * it, RFC 6455 does not), an empty host, a port outside 1..65535 or not
 * all digits, an IPv6 literal without its closing bracket, spaces or
 * control characters anywhere.
 *
 * The views point into the string given, which must outlive them. The
 * userinfo is returned as written (percent-encoded); rws_url_decode()
 * decodes it.
 */
#ifndef RWS_PROTOCOL_URL_H
#define RWS_PROTOCOL_URL_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/http.h"

struct rws_url {
	int secure;		/* wss, wss+unix */
	int unix_socket;	/* ws+unix, wss+unix: socket_path is set, host is not */
	struct rws_str user;	/* p NULL: no userinfo */
	struct rws_str password;	/* p NULL: none given */
	struct rws_str host;	/* without the brackets of an IPv6 literal */
	int ipv6_literal;	/* host was written in brackets */
	uint16_t port;		/* explicit or the scheme's default */
	int port_given;
	struct rws_str socket_path;	/* ws+unix */
	struct rws_str path;	/* starts with '/'; "/" when the URL has none */
	struct rws_str query;	/* without '?'; p NULL: none */
};

/* Parses url. Returns 0, or -EINVAL with a one-line reason in err (which
 * may be NULL). */
int rws_url_parse(const char *url, struct rws_url *u, char *err, size_t errlen);

/* Writes s percent-decoded, NUL-terminated, to out[0..cap). Returns the
 * decoded length, or -EINVAL for a bad escape, -ENOSPC. */
int rws_url_decode(struct rws_str s, char *out, size_t cap);

#endif
