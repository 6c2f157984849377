/*
 * upgrade: turning an HTTP request into a WebSocket connection, on the ring.
 *
 * Order of the checks, each with its answer: HTTP syntax and limits (400,
 * 414, 431), the route (404), a plain HTTP request to a WebSocket route
 * (426 with Upgrade: websocket), RFC 6455 section 4.2.1 (400, 405, 426), then
 * the route's on_upgrade hook, which may reject with any status, choose a
 * subprotocol and attach user data. A refusal is queued, sent, and the
 * connection closed; an acceptance queues the 101 and opens the connection.
 * The rws_upgrade_* accessors of ringws.h live here.
 */
#include "runtime/runtime.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rws_upgrade {
	struct rws_conn *c;
	const struct rws_hs_request *req;
	int selected;		/* offered subprotocol index, -1 for none */
	void *user;
	int reject_status;
	const char *reject_body;
};

static void refuse(struct rws_conn *c, int status, const char *body,
		   const struct rws_http_header *extra, size_t nextra)
{
	char out[1024];
	int n = rws_hs_write_error(out, sizeof(out), status, body, extra, nextra);
	if (n < 0)	/* a body too long for the buffer: the phrase alone */
		n = rws_hs_write_error(out, sizeof(out), status, NULL, extra, nextra);
	if (n > 0)
		rws_conn_queue_copy(c, out, (size_t)n);
	rws_conn_linger_now(c);
}

/* The peer's address as text into out, "" if unknown. */
void rws_addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
	out[0] = 0;
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)cap);
}

/* The client's address as text when it is not the peer's own: the first
 * X-Forwarded-For entry when the peer is a trusted proxy (ws's FAQ).
 * Returns 1 if out holds it, 0 for "the peer's own address". */
static int forwarded_ip(struct rws_conn *c, const struct rws_hs_request *req, char *out,
			size_t cap)
{
	out[0] = 0;
	struct rws_server *srv = conn_reactor(c)->srv;
	if (!srv->ntrusted)
		return 0;
	socklen_t plen = 0;
	const struct sockaddr *peer = rws_conn_peer(c, &plen);
	if (plen && rws_server_trusted(srv, peer)) {
		size_t from = 0;
		const struct rws_http_header *h =
			rws_http_find(req->http.headers, req->http.num_headers, "X-Forwarded-For", &from);
		if (h) {
			const char *p = h->value.p, *e = p + h->value.len;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			const char *q = p;
			while (q < e && *q != ',' && *q != ' ' && *q != '\t')
				q++;
			size_t n = (size_t)(q - p);
			if (n > 0 && n < cap) {
				memcpy(out, p, n);
				out[n] = 0;
				return 1;
			}
		}
	}
	return 0;
}

/* "path\0protocol\0client-ip\0": kept only when one of them is not the
 * default (the route's own path, no subprotocol, the peer's address). */
char *rws_make_meta(const struct rws_str *path, const struct rws_str *proto, const char *ip)
{
	size_t iplen = strlen(ip);
	char *m = malloc(path->len + proto->len + iplen + 3);
	if (!m)
		return NULL;
	char *p = m;
	memcpy(p, path->p, path->len);
	p += path->len;
	*p++ = 0;
	if (proto->len)
		memcpy(p, proto->p, proto->len);
	p += proto->len;
	*p++ = 0;
	memcpy(p, ip, iplen + 1);
	return m;
}

void rws_upgrade_handle(struct rws_conn *c, const char *buf, size_t len, size_t *used)
{
	struct rws_hs_request *req = &conn_reactor(c)->req;
	struct rws_http_limits lim = { 0 };	/* zeros: the defaults */
	*used = 0;
	int rc = rws_http_parse_request(buf, len, &lim, &req->http);
	if (rc == RWS_HTTP_INCOMPLETE) {
		if (len >= RWS_HTTP_MAX_HEAD_DEFAULT)
			refuse(c, 431, "request head too large", NULL, 0);
		return;
	}
	*used = len;
	if (rc < 0) {
		int st = rws_hs_error_status(rc);
		refuse(c, st ? st : 400, rws_hs_strerror(rc), NULL, 0);
		return;
	}
	size_t head = (size_t)rc;
	const struct route *rt =
		rws_server_find_route(conn_reactor(c)->srv, req->http.path.p, req->http.path.len);
	if (!rt) {
		refuse(c, 404, "no WebSocket endpoint at this path", NULL, 0);
		return;
	}
	size_t from = 0;
	if (!rws_http_find(req->http.headers, req->http.num_headers, "Upgrade", &from)) {
		static const struct rws_http_header up = { RWS_STR_INIT("Upgrade"),
							   RWS_STR_INIT("websocket") };
		refuse(c, 426, "this is a WebSocket endpoint: send a WebSocket upgrade request",
		       &up, 1);
		return;
	}
	rc = rws_hs_server_validate(req);
	if (rc < 0) {
		char out[1024];
		int n = rws_hs_write_reject(out, sizeof(out), rc);
		if (n > 0)
			rws_conn_queue_copy(c, out, (size_t)n);
		rws_conn_linger_now(c);
		return;
	}

	c->route = rt;
	struct rws_upgrade up = { c, req, req->num_protocols ? 0 : -1, NULL, 0, NULL };
	if (rt->h.on_upgrade) {
		int st = rt->h.on_upgrade(rt->h.ctx, &up);
		if (st != 0 || up.reject_status) {
			if (!up.reject_status)
				up.reject_status = (st >= 400 && st <= 599) ? st : 500;
			c->route = NULL;
			refuse(c, up.reject_status, up.reject_body, NULL, 0);
			return;
		}
	}

	struct rws_hs_reply reply;
	memset(&reply, 0, sizeof(reply));
	if (up.selected >= 0)
		reply.protocol = req->protocols[up.selected];
	/* permessage-deflate: the first offer we can honour, if enabled */
	struct rws_server *srv = conn_reactor(c)->srv;
	char extbuf[RWS_PMD_VALUE_MAX];
	size_t extlen = 0;
	struct rws_pmd_params agreed;
	int pmd = 0;
	if (rt->dfl.enabled &&
	    rws_pmd_server_negotiate(&rt->dfl.cfg, req->extensions, req->num_extensions, &agreed,
				     extbuf, sizeof(extbuf), &extlen) == 1) {
		pmd = 1;
		reply.extensions = (struct rws_str){ extbuf, extlen };
		/* a client that keeps its context needs its history kept here:
		 * c is on the handshake timer, so it has its conn_ext */
		if (!agreed.client_no_context_takeover) {
			c->x->pmd_window = rws_pmd_window_new(agreed.client_max_window_bits);
			if (!c->x->pmd_window) {
				c->route = NULL;
				refuse(c, 500, "out of memory", NULL, 0);
				return;
			}
		}
	}
	char ip[64];
	int fwd = forwarded_ip(c, req, ip, sizeof(ip));
	int own_path = strlen(rt->path) == req->http.path.len &&
		       memcmp(rt->path, req->http.path.p, req->http.path.len) == 0;
	int meta_ok = 1;
	if (fwd || reply.protocol.len || !own_path) {
		/* c is on the handshake timer: it has its conn_ext */
		c->x->meta = rws_make_meta(&req->http.path, &reply.protocol, ip);
		meta_ok = c->x->meta != NULL;
	}
	char out[512];
	int n = rws_hs_write_101(out, sizeof(out), req->key, &reply);
	if (n < 0 || !meta_ok) {
		c->route = NULL;
		refuse(c, 500, "cannot build the response", NULL, 0);
		return;
	}
	rws_conn_queue_copy(c, out, (size_t)n);
	c->user = up.user;
	if (pmd) {
		c->flags |= CF_PMD;
		if (agreed.server_max_window_bits < RWS_PMD_WINDOW_BITS_MAX)
			c->flags |= CF_PMD_PLAIN;
		rws_session_init(&c->s, &srv->scfg, RWS_RSV1);
	}
	*used = head;
	rws_conn_open(c);
}

/* --- the accessors for on_upgrade ---------------------------------------- */

static const char *str_out(struct rws_str s, size_t *len)
{
	if (len)
		*len = s.len;
	return s.p;
}

const char *rws_upgrade_method(const struct rws_upgrade *up, size_t *len)
{
	return str_out(up->req->http.method, len);
}

const char *rws_upgrade_path(const struct rws_upgrade *up, size_t *len)
{
	return str_out(up->req->http.path, len);
}

const char *rws_upgrade_query(const struct rws_upgrade *up, size_t *len)
{
	struct rws_str q = up->req->http.query;
	if (!q.p)
		q = (struct rws_str){ "", 0 };
	return str_out(q, len);
}

const char *rws_upgrade_query_param(const struct rws_upgrade *up, const char *name, size_t *len)
{
	struct rws_str q = up->req->http.query;
	size_t nl = strlen(name);
	const char *p = q.p, *end = q.p ? q.p + q.len : NULL;
	while (p && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end;
		size_t n = (size_t)(e - p);
		if (n >= nl && memcmp(p, name, nl) == 0 && (n == nl || p[nl] == '=')) {
			const char *v = n == nl ? e : p + nl + 1;
			if (len)
				*len = (size_t)(e - v);
			return v;
		}
		p = e + 1;
	}
	return NULL;
}

const char *rws_upgrade_header(const struct rws_upgrade *up, const char *name, size_t *len)
{
	size_t from = 0;
	const struct rws_http_header *h =
		rws_http_find(up->req->http.headers, up->req->http.num_headers, name, &from);
	if (!h)
		return NULL;
	return str_out(h->value, len);
}

int rws_upgrade_header_at(const struct rws_upgrade *up, size_t i, const char **name,
			  size_t *name_len, const char **value, size_t *value_len)
{
	if (i >= up->req->http.num_headers)
		return -ENOENT;
	const struct rws_http_header *h = &up->req->http.headers[i];
	*name = str_out(h->name, name_len);
	*value = str_out(h->value, value_len);
	return 0;
}

const char *rws_upgrade_protocol(const struct rws_upgrade *up, size_t i, size_t *len)
{
	if (i >= up->req->num_protocols)
		return NULL;
	return str_out(up->req->protocols[i], len);
}

const struct sockaddr *rws_upgrade_remote(const struct rws_upgrade *up, socklen_t *len)
{
	return rws_conn_peer(up->c, len);
}

int rws_upgrade_select_protocol(struct rws_upgrade *up, int i)
{
	if (i < -1 || i >= (int)up->req->num_protocols)
		return -EINVAL;
	up->selected = i;
	return 0;
}

void rws_upgrade_set_user(struct rws_upgrade *up, void *user)
{
	up->user = user;
}

int rws_upgrade_reject(struct rws_upgrade *up, int status, const char *body)
{
	if (status < 400 || status > 599)
		status = 500;
	up->reject_status = status;
	up->reject_body = body;
	return status;
}
