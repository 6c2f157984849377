/*
 * client: WebSocket client connections on the server's reactors
 * (rws_connect). A client connection is an rws_conn like any other once
 * open — same session (in the client role: every frame masked with a fresh
 * key), same send queue, same callbacks — with a route of its own that
 * carries its handler and settings. Before that it goes
 *
 *   PH_CONNECTING (IORING_OP_CONNECT) → [PH_PROXY: CONNECT host:port, wait
 *   for 2xx] → PH_CLIENT_HS: [wss://: the TLS handshake, then] the upgrade
 *   request, wait for the 101 → PH_OPEN, or on_error and gone
 *
 * on one deadline (handshake_timeout_ms). A 3xx with follow_redirects
 * starts over at the new URL on a new connection (the old one goes
 * quietly), dropping Authorization and Cookie when the host changes.
 *
 * Names are resolved with getaddrinfo(), which blocks: in rws_connect()'s
 * caller for the first URL, and in a short-lived thread of its own for a
 * redirect, never on a reactor.
 */
#include "runtime/runtime.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol/base64.h"
#include "protocol/url.h"
#include "runtime/tls.h"

/* One rws_connect(): what it asked for, kept across redirects and for the
 * connection's life (its route is the first member). */
struct client_spec {
	struct route rt;
	struct reactor *r;
	void *user;
	struct rws_client_options o;
	struct rws_session_config scfg;
	char *url;			/* where we are going now */
	struct rws_url u;		/* views into url */
	char **headers;			/* "Name: value", the caller's */
	size_t nheaders;
	char **protos;
	size_t nprotos;
	char *origin;
	char *proxy_opt;		/* the caller's proxy option (NULL: the environment's) */
	char *ca_file;			/* the caller's ca_file option */
	struct rws_tls_ctx *tls_ctx;	/* wss://: the trust store (the server's, shared) */
	char *proxy;			/* "http://..." in use, or NULL */
	struct rws_url pu;		/* views into proxy */
	int redirects;
	/* where the socket connects: the server, or the proxy */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct sockaddr_storage local;
	socklen_t local_len;
	/* a failure found before the reactor, reported from it */
	int err, status;
	char msg[256];
	/* the request */
	struct rws_hs_client_opts hso;
	struct rws_str *hs_protos;
	struct rws_http_header *hs_headers;
	char host[300];			/* the Host header's value */
	char auth[400];			/* "Basic ..." from the URL's userinfo, or "" */
	char ext[RWS_PMD_VALUE_MAX];
	struct rws_pmd_config pmd;
	struct rws_hs_client_key key;
};

static struct client_spec *spec_of(const struct rws_conn *c)
{
	return (struct client_spec *)(void *)c->route;
}

static void spec_free(struct client_spec *sp)
{
	if (!sp)
		return;
	for (size_t i = 0; i < sp->nheaders; i++)
		free(sp->headers[i]);
	free(sp->headers);
	for (size_t i = 0; i < sp->nprotos; i++)
		free(sp->protos[i]);
	free(sp->protos);
	free(sp->origin);
	free(sp->url);
	free(sp->proxy);
	free(sp->proxy_opt);
	free(sp->ca_file);
	free(sp->hs_protos);
	free(sp->hs_headers);
	free(sp->rt.path);
	free(sp);
}

void rws_client_release(struct rws_conn *c)
{
	spec_free(spec_of(c));
	c->route = NULL;
}

void rws_client_forget(void *spec)
{
	spec_free(spec);
}

void rws_client_options_default(struct rws_client_options *o)
{
	memset(o, 0, sizeof(*o));
	o->struct_size = sizeof(*o);
	o->protocol_version = 13;
	o->handshake_timeout_ms = 10000;
	o->follow_redirects = 0;
	o->max_redirects = 10;
	o->max_payload = RWS_MAX_PAYLOAD_DEFAULT;
	o->max_buffered = 1024 * 1024;
	o->deflate = 1;
	o->deflate_threshold = 1024;
	o->deflate_level = 1;
	o->family = AF_UNSPEC;
}

static int fail_msg(char *errbuf, size_t errlen, int err, const char *fmt, const char *arg)
{
	if (errbuf && errlen)
		snprintf(errbuf, errlen, fmt, arg);
	return err;
}

/* --- the proxy ------------------------------------------------------------ */

/* Whether no_proxy (a comma list of host names, domain suffixes with or
 * without a leading '.', optional ":port", or "*") exempts u. */
static int no_proxy_match(const char *list, const struct rws_url *u)
{
	if (!list)
		return 0;
	const char *p = list;
	while (*p) {
		while (*p == ',' || *p == ' ')
			p++;
		size_t n = strcspn(p, ", ");
		if (n == 1 && *p == '*')
			return 1;
		const char *e = p;
		size_t elen = n;
		const char *colon = memchr(e, ':', elen);
		if (colon) {
			unsigned long port = strtoul(colon + 1, NULL, 10);
			if (port != u->port)
				goto next;
			elen = (size_t)(colon - e);
		}
		if (elen && *e == '.')
			e++, elen--;
		if (elen && elen <= u->host.len &&
		    strncasecmp(u->host.p + u->host.len - elen, e, elen) == 0 &&
		    (elen == u->host.len || u->host.p[u->host.len - elen - 1] == '.'))
			return 1;
next:
		p += n;
	}
	return 0;
}

/* Sets sp->proxy from the option or, when it is NULL, the environment
 * (http_proxy for ws://, https_proxy for wss://, each also in capitals;
 * no_proxy exempts hosts). Returns 0 or -EINVAL with msg set. */
static int choose_proxy(struct client_spec *sp, const char *opt)
{
	free(sp->proxy);
	sp->proxy = NULL;
	if (sp->u.unix_socket)
		return 0;
	const char *v = opt;
	if (!v) {
		const char *name = sp->u.secure ? "https_proxy" : "http_proxy";
		v = getenv(name);
		if (!v || !*v)
			v = getenv(sp->u.secure ? "HTTPS_PROXY" : "HTTP_PROXY");
		const char *np = getenv("no_proxy");
		if (!np || !*np)
			np = getenv("NO_PROXY");
		if (v && *v && no_proxy_match(np, &sp->u))
			v = NULL;
	}
	if (!v || !*v)
		return 0;
	if (strncasecmp(v, "http://", 7) != 0) {
		snprintf(sp->msg, sizeof(sp->msg), "proxy \"%.200s\": only http:// proxies are "
			 "supported", v);
		return -EINVAL;
	}
	/* parse it as a ws:// URL with the same authority */
	size_t n = strlen(v);
	sp->proxy = malloc(n);
	if (!sp->proxy)
		return -ENOMEM;
	memcpy(sp->proxy, "ws://", 5);
	memcpy(sp->proxy + 5, v + 7, n - 7 + 1);
	char err[160];
	if (rws_url_parse(sp->proxy, &sp->pu, err, sizeof(err)) < 0) {
		snprintf(sp->msg, sizeof(sp->msg), "proxy \"%.60s\": %.120s", v, err);
		free(sp->proxy);
		sp->proxy = NULL;
		return -EINVAL;
	}
	if (!sp->pu.port_given)
		sp->pu.port = 80;
	return 0;
}

/* --- name resolution ---------------------------------------------------------- */

/* Fills sp->addr for the proxy, the server, or the unix socket. On failure
 * records it in sp->err/msg, for the reactor to report. */
static void resolve(struct client_spec *sp)
{
	sp->err = 0;
	if (sp->u.unix_socket) {
		struct sockaddr_un *un = (struct sockaddr_un *)&sp->addr;
		memset(un, 0, sizeof(*un));
		un->sun_family = AF_UNIX;
		if (sp->u.socket_path.len >= sizeof(un->sun_path)) {
			sp->err = -ENAMETOOLONG;
			snprintf(sp->msg, sizeof(sp->msg), "the socket path is longer than %zu bytes",
				 sizeof(un->sun_path) - 1);
			return;
		}
		memcpy(un->sun_path, sp->u.socket_path.p, sp->u.socket_path.len);
		sp->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
					  sp->u.socket_path.len + 1);
		return;
	}
	const struct rws_url *t = sp->proxy ? &sp->pu : &sp->u;
	char host[256], port[8];
	if (t->host.len >= sizeof(host)) {
		sp->err = -EINVAL;
		snprintf(sp->msg, sizeof(sp->msg), "host name too long");
		return;
	}
	memcpy(host, t->host.p, t->host.len);
	host[t->host.len] = 0;
	snprintf(port, sizeof(port), "%u", t->port);
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = sp->o.family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0 || !ai) {
		sp->err = rc == EAI_SYSTEM ? -errno : -ENOENT;
		snprintf(sp->msg, sizeof(sp->msg), "cannot resolve %s%.120s: %.80s",
			 sp->proxy ? "the proxy " : "", host, gai_strerror(rc));
		if (ai)
			freeaddrinfo(ai);
		return;
	}
	memcpy(&sp->addr, ai->ai_addr, ai->ai_addrlen);
	sp->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
}

/* --- the request ------------------------------------------------------------ */

static int is_credential_header(const char *h)
{
	return strncasecmp(h, "authorization:", 14) == 0 || strncasecmp(h, "cookie:", 7) == 0;
}

/* Builds what the request needs from sp->u, the headers and the options.
 * Returns 0, or -EINVAL/-ENOMEM with msg set. */
static int request_setup(struct client_spec *sp)
{
	const struct rws_url *u = &sp->u;
	/* Host: with the port when not the scheme's default */
	int v6 = u->ipv6_literal;
	if (u->unix_socket || !u->port_given || u->port == (u->secure ? 443 : 80))
		snprintf(sp->host, sizeof(sp->host), "%s%.*s%s", v6 ? "[" : "", (int)u->host.len,
			 u->host.p, v6 ? "]" : "");
	else
		snprintf(sp->host, sizeof(sp->host), "%s%.*s%s:%u", v6 ? "[" : "", (int)u->host.len,
			 u->host.p, v6 ? "]" : "", u->port);
	/* Basic authorization from user:pass@ */
	sp->auth[0] = 0;
	if (u->user.p) {
		char plain[256];
		int n = rws_url_decode(u->user, plain, sizeof(plain));
		int m = n < 0 ? n : 0;
		if (n >= 0 && u->password.p) {
			plain[n] = ':';
			m = rws_url_decode(u->password, plain + n + 1, sizeof(plain) - (size_t)n - 1);
		}
		if (n < 0 || m < 0) {
			snprintf(sp->msg, sizeof(sp->msg), "the URL's user:password is not valid "
				 "percent-encoding or too long");
			return -EINVAL;
		}
		size_t len = (size_t)n + (u->password.p ? (size_t)m + 1 : 0);
		char b64[360];
		if (rws_base64_encode((const uint8_t *)plain, len, b64, sizeof(b64)) < 0)
			return -EINVAL;
		snprintf(sp->auth, sizeof(sp->auth), "Basic %s", b64);
	}
	free(sp->hs_headers);
	sp->hs_headers = calloc(sp->nheaders + 1, sizeof(*sp->hs_headers));
	if (!sp->hs_headers)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < sp->nheaders; i++) {
		const char *h = sp->headers[i];
		const char *colon = strchr(h, ':');
		if (!colon || colon == h) {
			snprintf(sp->msg, sizeof(sp->msg), "header \"%.200s\" is not \"Name: value\"", h);
			return -EINVAL;
		}
		/* the URL's credentials win over an Authorization header */
		if (sp->auth[0] && strncasecmp(h, "authorization:", 14) == 0)
			continue;
		const char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		sp->hs_headers[k].name = (struct rws_str){ h, (size_t)(colon - h) };
		sp->hs_headers[k].value = (struct rws_str){ v, strlen(v) };
		k++;
	}
	if (sp->auth[0]) {
		sp->hs_headers[k].name = RWS_STR("Authorization");
		sp->hs_headers[k].value = (struct rws_str){ sp->auth, strlen(sp->auth) };
		k++;
	}
	memset(&sp->hso, 0, sizeof(sp->hso));
	sp->hso.host = (struct rws_str){ sp->host, strlen(sp->host) };
	sp->hso.path = u->path;
	sp->hso.query = u->query;
	sp->hso.version = sp->o.protocol_version;
	if (sp->origin)
		sp->hso.origin = (struct rws_str){ sp->origin, strlen(sp->origin) };
	sp->hso.protocols = sp->hs_protos;
	sp->hso.num_protocols = sp->nprotos;
	sp->hso.extensions = sp->o.deflate ? (struct rws_str){ sp->ext, strlen(sp->ext) }
					   : (struct rws_str){ NULL, 0 };
	sp->hso.extra = sp->hs_headers;
	sp->hso.num_extra = k;
	/* the route's path is the request's, for rws_conn_path() */
	free(sp->rt.path);
	sp->rt.path = strndup(u->path.p, u->path.len);
	return sp->rt.path ? 0 : -ENOMEM;
}

/* --- rws_connect ------------------------------------------------------------- */

static char **copy_strings(const char *const *v, size_t n, int *err)
{
	if (!n)
		return NULL;
	char **out = calloc(n, sizeof(*out));
	if (!out) {
		*err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (!v[i] || !(out[i] = strdup(v[i])))
			*err = v[i] ? -ENOMEM : -EINVAL;
	return out;
}

/* The trust store for a wss:// URL (made once per server and CA file, in
 * the calling thread: loading the system's CAs takes a while). Returns 0,
 * or -EINVAL with msg set. */
static int tls_setup(struct client_spec *sp, struct rws_server *s)
{
	if (!sp->u.secure)
		return 0;
	if (sp->o.insecure)
		rws_log(s, RWS_LOG_WARNING,
			"wss://%.*s: TLS certificate verification is off (insecure): the server "
			"is not authenticated", (int)sp->u.host.len, sp->u.host.p);
	if (sp->tls_ctx)
		return 0;
	char why[200];
	sp->tls_ctx = rws_server_client_tls(s, sp->ca_file, sp->o.insecure, why, sizeof(why));
	if (!sp->tls_ctx) {
		snprintf(sp->msg, sizeof(sp->msg), "wss:// cannot verify servers: %s", why);
		return -EINVAL;
	}
	return 0;
}

static void post_connect(struct client_spec *sp)
{
	struct job *j = calloc(1, sizeof(*j));
	if (!j) {
		spec_free(sp);
		return;
	}
	j->kind = JOB_CONNECT;
	j->arg = sp;
	rws_reactor_post(sp->r, j);
}

int rws_connect(struct rws_server *s, const char *url, const struct rws_client_options *opts,
		const struct rws_handler *h, void *user, char *errbuf, size_t errlen)
{
	if (!s || !url || !h)
		return fail_msg(errbuf, errlen, -EINVAL, "%s", "no server, URL or handler");
	if (!s->started)
		return fail_msg(errbuf, errlen, -EINVAL, "%s", "the server is not started");
	struct client_spec *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return fail_msg(errbuf, errlen, -ENOMEM, "%s", "out of memory");
	rws_client_options_default(&sp->o);
	if (opts) {
		size_t n = opts->struct_size && opts->struct_size < sizeof(sp->o) ? opts->struct_size
										   : sizeof(sp->o);
		memcpy(&sp->o, opts, n);
		sp->o.struct_size = sizeof(sp->o);
	}
	struct rws_client_options *o = &sp->o;
	int err = 0;
	char why[200];
	sp->url = strdup(url);
	if (!sp->url) {
		spec_free(sp);
		return fail_msg(errbuf, errlen, -ENOMEM, "%s", "out of memory");
	}
	if (rws_url_parse(sp->url, &sp->u, why, sizeof(why)) < 0) {
		spec_free(sp);
		return fail_msg(errbuf, errlen, -EINVAL, "%s", why);
	}
	if (o->protocol_version != 13 && o->protocol_version != 8)
		return spec_free(sp), fail_msg(errbuf, errlen, -EINVAL,
					       "protocol_version must be 13 or 8%s", "");
	if (o->family != AF_UNSPEC && o->family != AF_INET && o->family != AF_INET6)
		return spec_free(sp), fail_msg(errbuf, errlen, -EINVAL,
					       "family must be AF_UNSPEC, AF_INET or AF_INET6%s", "");
	if (o->max_redirects < 0 || (o->deflate && (o->deflate_level < 1 || o->deflate_level > 12)))
		return spec_free(sp), fail_msg(errbuf, errlen, -EINVAL,
					       "max_redirects must be 0 or more and deflate_level "
					       "1 to 12%s", "");
	sp->headers = copy_strings(o->headers, o->num_headers, &err);
	sp->nheaders = sp->headers ? o->num_headers : 0;
	sp->protos = copy_strings(o->protocols, o->num_protocols, &err);
	sp->nprotos = sp->protos ? o->num_protocols : 0;
	sp->origin = o->origin ? strdup(o->origin) : NULL;
	sp->hs_protos = sp->nprotos ? calloc(sp->nprotos, sizeof(*sp->hs_protos)) : NULL;
	if (err || (o->origin && !sp->origin) || (sp->nprotos && !sp->hs_protos)) {
		spec_free(sp);
		return fail_msg(errbuf, errlen, err ? err : -ENOMEM, "%s",
				err == -EINVAL ? "a NULL header or subprotocol" : "out of memory");
	}
	for (size_t i = 0; i < sp->nprotos; i++)
		sp->hs_protos[i] = (struct rws_str){ sp->protos[i], strlen(sp->protos[i]) };
	o->headers = NULL;
	o->protocols = NULL;
	o->origin = NULL;
	if (o->ca_file && !(sp->ca_file = strdup(o->ca_file))) {
		spec_free(sp);
		return fail_msg(errbuf, errlen, -ENOMEM, "%s", "out of memory");
	}
	o->ca_file = NULL;
	/* permessage-deflate: our offer */
	rws_pmd_config_default(&sp->pmd);
	if (o->deflate && rws_pmd_client_offer(&sp->pmd, sp->ext, sizeof(sp->ext)) < 0) {
		spec_free(sp);
		return fail_msg(errbuf, errlen, -EINVAL, "%s", "cannot write the deflate offer");
	}
	/* the local address */
	if (o->local_address) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sp->local;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sp->local;
		if (inet_pton(AF_INET, o->local_address, &in->sin_addr) == 1) {
			in->sin_family = AF_INET;
			sp->local_len = sizeof(*in);
		} else if (inet_pton(AF_INET6, o->local_address, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			sp->local_len = sizeof(*in6);
		} else {
			fail_msg(errbuf, errlen, -EINVAL, "local address \"%.100s\" is not an "
				 "IPv4 or IPv6 address", o->local_address);
			spec_free(sp);	/* o is in it */
			return -EINVAL;
		}
		if (o->family == AF_UNSPEC)
			o->family = sp->local.ss_family;
	}
	o->local_address = NULL;
	if (o->proxy && !(sp->proxy_opt = strdup(o->proxy))) {
		spec_free(sp);
		return fail_msg(errbuf, errlen, -ENOMEM, "%s", "out of memory");
	}
	o->proxy = NULL;
	int rc = choose_proxy(sp, sp->proxy_opt);
	if (rc == 0)
		rc = request_setup(sp);
	if (rc == 0)
		rc = tls_setup(sp, s);
	if (rc < 0) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", sp->msg[0] ? sp->msg : "out of memory");
		spec_free(sp);
		return rc;
	}
	/* the route: the handler, the deflate settings, the session's */
	size_t hn = h->struct_size && h->struct_size < sizeof(sp->rt.h) ? h->struct_size
									: sizeof(sp->rt.h);
	memcpy(&sp->rt.h, h, hn);
	sp->rt.idx = -1;
	sp->rt.dfl.enabled = o->deflate;
	sp->rt.dfl.level = o->deflate_level;
	sp->rt.dfl.threshold = o->deflate_threshold;
	sp->rt.dfl.cfg = sp->pmd;
	sp->rt.max_buffered = o->max_buffered;
	sp->rt.backpressure = o->backpressure;
	sp->rt.ping_ms = o->ping_interval_ms;
	sp->rt.pong_ms = o->pong_timeout_ms && o->pong_timeout_ms < o->ping_interval_ms
				 ? o->pong_timeout_ms : o->ping_interval_ms;
	sp->user = user;
	rws_session_config_default(&sp->scfg, RWS_ROLE_CLIENT);
	sp->scfg.max_payload = o->max_payload;
	sp->scfg.close_timeout_ms = s->o.close_timeout_ms;
	resolve(sp);	/* a failure is reported through on_error */
	unsigned i = atomic_fetch_add(&s->next_adopt, 1) % (unsigned)s->nreactors;
	sp->r = &s->reactors[i];
	post_connect(sp);
	return 0;
}

/* --- on the reactor ------------------------------------------------------------ */

void rws_client_start(struct reactor *r, void *p)
{
	struct client_spec *sp = p;
	uint64_t deadline = sp->o.handshake_timeout_ms ? r->now + sp->o.handshake_timeout_ms : 0;
	int family = sp->err ? AF_INET : sp->addr.ss_family;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int sock_err = fd < 0 ? -errno : 0;
	struct rws_conn *c = rws_conn_new_client(r, fd, &sp->rt, &sp->scfg, sp->user, deadline);
	if (!c) {
		spec_free(sp);	/* out of memory: nobody to tell */
		return;
	}
	if (sp->err) {
		rws_conn_fail(c, sp->err, 0, sp->msg);
		return;
	}
	if (fd < 0) {
		rws_conn_fail(c, sock_err, 0, "cannot make a socket");
		return;
	}
	if (sp->local_len && bind(fd, (struct sockaddr *)&sp->local, sp->local_len) < 0) {
		char m[300];
		snprintf(m, sizeof(m), "cannot bind the local address: %s", strerror(errno));
		rws_conn_fail(c, -errno, 0, m);
		return;
	}
	struct io_uring_sqe *sqe = rws_reactor_sqe(r);
	io_uring_prep_connect(sqe, fd, (struct sockaddr *)&sp->addr, sp->addrlen);
	io_uring_sqe_set_data64(sqe, UD(c, UD_CONNECT));
	c->inflight++;
}

/* "HOST:PORT" (or the socket path) of where the socket went */
static void where(const struct client_spec *sp, char *out, size_t cap)
{
	const struct rws_url *t = sp->proxy ? &sp->pu : &sp->u;
	if (t->unix_socket)
		snprintf(out, cap, "%.*s", (int)t->socket_path.len, t->socket_path.p);
	else
		snprintf(out, cap, "%s%.*s%s:%u%s", t->ipv6_literal ? "[" : "", (int)t->host.len,
			 t->host.p, t->ipv6_literal ? "]" : "", t->port,
			 sp->proxy ? " (the proxy)" : "");
}

static void send_request(struct rws_conn *c)
{
	struct client_spec *sp = spec_of(c);
	char out[8192];
	int n = rws_hs_client_write_random(out, sizeof(out), &sp->hso, &sp->key);
	if (n < 0) {
		char m[200];
		snprintf(m, sizeof(m), "cannot write the request: %s", rws_hs_strerror(n));
		rws_conn_fail(c, RWS_CLIENT_E_HANDSHAKE, 0, m);
		return;
	}
	rws_conn_client_phase(c, PH_CLIENT_HS);
	if (rws_conn_queue_copy(c, out, (size_t)n) < 0) {
		rws_conn_fail(c, -ENOMEM, 0, "out of memory");
		return;
	}
	rws_conn_arm_recv(c);
}

/* wss://: TLS on the socket, then the request (queued now, encrypted and
 * sent once the handshake is done). */
static void start_tls(struct rws_conn *c)
{
	struct client_spec *sp = spec_of(c);
	char host[256];
	snprintf(host, sizeof(host), "%.*s", (int)sp->u.host.len, sp->u.host.p);
	int rc = rws_conn_tls_client(c, sp->tls_ctx, host);
	if (rc < 0) {
		rws_conn_fail(c, rc == -ENOMEM ? -ENOMEM : RWS_CLIENT_E_TLS, 0,
			      "cannot start the TLS handshake");
		return;
	}
	send_request(c);
}

void rws_client_on_connect(struct rws_conn *c, int res)
{
	c->inflight--;
	if (c->phase >= PH_DEAD) {
		rws_conn_release(c);
		return;
	}
	struct client_spec *sp = spec_of(c);
	if (res < 0) {
		char w[320], m[400];
		where(sp, w, sizeof(w));
		snprintf(m, sizeof(m), "cannot connect to %s: %s", w, strerror(-res));
		rws_conn_fail(c, res, 0, m);
		return;
	}
	if (!sp->proxy) {
		if (sp->u.secure)
			start_tls(c);
		else
			send_request(c);
		return;
	}
	/* CONNECT host:port, with the proxy's credentials if its URL has some */
	char req[1024], auth[400] = "";
	if (sp->pu.user.p) {
		char plain[256], b64[360];
		int n = rws_url_decode(sp->pu.user, plain, sizeof(plain));
		int m = 0;
		if (n >= 0 && sp->pu.password.p) {
			plain[n] = ':';
			m = rws_url_decode(sp->pu.password, plain + n + 1, sizeof(plain) - (size_t)n - 1);
		}
		if (n >= 0 && m >= 0 &&
		    rws_base64_encode((const uint8_t *)plain,
				      (size_t)n + (sp->pu.password.p ? (size_t)m + 1 : 0), b64,
				      sizeof(b64)) >= 0)
			snprintf(auth, sizeof(auth), "Proxy-Authorization: Basic %s\r\n", b64);
	}
	int v6 = sp->u.ipv6_literal;
	int n = snprintf(req, sizeof(req), "CONNECT %s%.*s%s:%u HTTP/1.1\r\nHost: %s%.*s%s:%u\r\n%s\r\n",
			 v6 ? "[" : "", (int)sp->u.host.len, sp->u.host.p, v6 ? "]" : "", sp->u.port,
			 v6 ? "[" : "", (int)sp->u.host.len, sp->u.host.p, v6 ? "]" : "", sp->u.port,
			 auth);
	rws_conn_client_phase(c, PH_PROXY);
	if (n <= 0 || (size_t)n >= sizeof(req) || rws_conn_queue_copy(c, req, (size_t)n) < 0) {
		rws_conn_fail(c, -ENOMEM, 0, "cannot write the CONNECT request");
		return;
	}
	rws_conn_arm_recv(c);
}

void rws_client_expired(struct rws_conn *c)
{
	struct client_spec *sp = spec_of(c);
	char m[200];
	int tls_hs = c->x && c->x->tls && !rws_tls_ready(c->x->tls);
	snprintf(m, sizeof(m), "no %s within %u ms (the handshake timeout)",
		 c->phase == PH_CONNECTING ? "connection" : c->phase == PH_PROXY ? "answer from the proxy"
		 : tls_hs ? "TLS handshake" : "answer to the upgrade",
		 sp->o.handshake_timeout_ms);
	rws_conn_fail(c, -ETIMEDOUT, 0, m);
}

/* --- redirects ------------------------------------------------------------------ */

static void *resolve_thread(void *arg)
{
	struct client_spec *sp = arg;
	struct rws_server *s = sp->r->srv;
	resolve(sp);
	if (!sp->err && tls_setup(sp, s) < 0)
		sp->err = RWS_CLIENT_E_TLS;
	post_connect(sp);
	atomic_fetch_sub(&s->resolving, 1);	/* after this, destroy may free the reactors */
	return NULL;
}

static int same_host(const struct rws_url *a, const struct rws_url *b)
{
	if (a->unix_socket || b->unix_socket)
		return a->unix_socket && b->unix_socket && a->socket_path.len == b->socket_path.len &&
		       memcmp(a->socket_path.p, b->socket_path.p, a->socket_path.len) == 0;
	return a->port == b->port && a->host.len == b->host.len &&
	       strncasecmp(a->host.p, b->host.p, a->host.len) == 0;
}

/* Follows a 3xx: the next URL from Location (absolute, or a path on the
 * same server; http:// and https:// become ws:// and wss://), then a new
 * connection to it. c goes quietly. */
static void redirect(struct rws_conn *c, const struct rws_hs_response *res)
{
	struct client_spec *sp = spec_of(c);
	int status = res->http.status;
	size_t from = 0;
	const struct rws_http_header *loc = rws_http_find(res->http.headers, res->http.num_headers,
							  "Location", &from);
	char m[400];
	if (!loc || loc->value.len == 0 || loc->value.len > 2048) {
		snprintf(m, sizeof(m), "redirect (%d) without a usable Location", status);
		rws_conn_fail(c, RWS_CLIENT_E_REDIRECT, status, m);
		return;
	}
	if (++sp->redirects > sp->o.max_redirects) {
		snprintf(m, sizeof(m), "more than %d redirects", sp->o.max_redirects);
		rws_conn_fail(c, RWS_CLIENT_E_REDIRECTS, status, m);
		return;
	}
	const char *v = loc->value.p;
	size_t vn = loc->value.len;
	size_t cap = vn + 512;
	char *next = malloc(cap);
	if (!next) {
		rws_conn_fail(c, -ENOMEM, status, "out of memory");
		return;
	}
	if (vn && v[0] == '/' && (vn < 2 || v[1] != '/')) {
		/* a path on the same server: the current URL up to its path */
		const char *u = sp->url;
		const char *sep = strstr(u, "://");
		const char *auth_end = sep ? sep + 3 + strcspn(sep + 3, "/?") : u;
		if (sp->u.unix_socket)
			auth_end = sp->u.socket_path.p + sp->u.socket_path.len;
		snprintf(next, cap, "%.*s%s%.*s", (int)(auth_end - u), u,
			 sp->u.unix_socket ? ":" : "", (int)vn, v);
	} else if (vn > 7 && strncasecmp(v, "http://", 7) == 0) {
		snprintf(next, cap, "ws://%.*s", (int)(vn - 7), v + 7);
	} else if (vn > 8 && strncasecmp(v, "https://", 8) == 0) {
		snprintf(next, cap, "wss://%.*s", (int)(vn - 8), v + 8);
	} else {
		snprintf(next, cap, "%.*s", (int)vn, v);
	}
	struct rws_url nu;
	char why[200];
	if (rws_url_parse(next, &nu, why, sizeof(why)) < 0) {
		snprintf(m, sizeof(m), "redirected (%d) to \"%.160s\": %.160s", status, next, why);
		free(next);
		rws_conn_fail(c, RWS_CLIENT_E_REDIRECT, status, m);
		return;
	}
	if (!same_host(&sp->u, &nu)) {
		/* credentials were meant for the old host */
		size_t k = 0;
		for (size_t i = 0; i < sp->nheaders; i++) {
			if (is_credential_header(sp->headers[i]))
				free(sp->headers[i]);
			else
				sp->headers[k++] = sp->headers[i];
		}
		sp->nheaders = k;
	}
	free(sp->url);
	sp->url = next;
	sp->u = nu;
	int rc = choose_proxy(sp, sp->proxy_opt);	/* the same rule for every hop */
	if (rc == 0)
		rc = request_setup(sp);
	if (rc < 0) {
		rws_conn_fail(c, rc, status, sp->msg[0] ? sp->msg : "out of memory");
		return;
	}
	/* c goes quietly; the spec moves on to the next connection */
	c->route = NULL;
	rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	struct rws_server *srv = conn_reactor(c)->srv;
	atomic_fetch_add(&srv->resolving, 1);
	if (pthread_create(&t, &attr, resolve_thread, sp) != 0) {
		atomic_fetch_sub(&srv->resolving, 1);
		resolve(sp);	/* no thread: resolve here, rather than lose it */
		if (!sp->err && tls_setup(sp, srv) < 0)
			sp->err = RWS_CLIENT_E_TLS;
		post_connect(sp);
	}
	pthread_attr_destroy(&attr);
}

/* --- the answers ----------------------------------------------------------------- */

static _Thread_local struct rws_hs_response answer;

static int sp_secure(struct rws_conn *c)
{
	return spec_of(c)->u.secure;
}

static void proxy_answer(struct rws_conn *c, const char *buf, size_t len, size_t *used)
{
	struct rws_http_limits lim = { RWS_HTTP_MAX_HEAD_DEFAULT, RWS_HTTP_MAX_LINE_DEFAULT,
				       RWS_HTTP_MAX_HEADERS_DEFAULT };
	int rc = rws_http_parse_response(buf, len, &lim, &answer.http);
	if (rc == RWS_HTTP_INCOMPLETE)
		return;
	char m[300];
	if (rc < 0) {
		snprintf(m, sizeof(m), "the proxy's answer is not HTTP: %s", rws_http_strerror(rc));
		rws_conn_fail(c, RWS_CLIENT_E_PROXY, 0, m);
		return;
	}
	int st = answer.http.status;
	if (st < 200 || st > 299) {
		snprintf(m, sizeof(m), "the proxy refused CONNECT: %d %.*s", st,
			 (int)answer.http.reason.len, answer.http.reason.p);
		rws_conn_fail(c, RWS_CLIENT_E_PROXY, st, m);
		return;
	}
	*used = (size_t)rc;
	if (sp_secure(c))
		start_tls(c);
	else
		send_request(c);
}

void rws_client_answer(struct rws_conn *c, const char *buf, size_t len, size_t *used)
{
	if (c->phase == PH_PROXY) {
		proxy_answer(c, buf, len, used);
		return;
	}
	struct client_spec *sp = spec_of(c);
	struct rws_http_limits lim = { RWS_HTTP_MAX_HEAD_DEFAULT, RWS_HTTP_MAX_LINE_DEFAULT,
				       RWS_HTTP_MAX_HEADERS_DEFAULT };
	int rc = rws_hs_client_parse(buf, len, &lim, &sp->hso, &sp->key, &answer);
	if (rc == RWS_HTTP_INCOMPLETE)
		return;
	char m[300];
	if (rc == RWS_HS_E_NOT_101) {
		int st = answer.http.status;
		if (sp->o.follow_redirects && (st == 301 || st == 302 || st == 303 || st == 307 ||
					       st == 308)) {
			redirect(c, &answer);
			return;
		}
		snprintf(m, sizeof(m), "the server answered %d %.*s", st, (int)answer.http.reason.len,
			 answer.http.reason.p);
		rws_conn_fail(c, RWS_CLIENT_E_STATUS, st, m);
		return;
	}
	if (rc < 0) {
		snprintf(m, sizeof(m), "bad answer to the upgrade: %s", rws_hs_strerror(rc));
		rws_conn_fail(c, RWS_CLIENT_E_HANDSHAKE, 0, m);
		return;
	}
	struct rws_pmd_params agreed;
	memset(&agreed, 0, sizeof(agreed));
	if (sp->o.deflate) {
		int prc = rws_pmd_client_accept(&sp->pmd, answer.extensions, answer.num_extensions,
						&agreed);
		if (prc < 0) {
			snprintf(m, sizeof(m), "bad permessage-deflate answer: %s", rws_pmd_strerror(prc));
			rws_conn_fail(c, RWS_CLIENT_E_EXTENSION, 0, m);
			return;
		}
	}
	/* c is on its handshake timer: it has its conn_ext */
	if (agreed.enabled) {
		c->flags |= CF_PMD;
		if (agreed.client_max_window_bits < RWS_PMD_WINDOW_BITS_MAX)
			c->flags |= CF_PMD_PLAIN;
		if (!agreed.server_no_context_takeover) {
			c->x->pmd_window = rws_pmd_window_new(agreed.server_max_window_bits);
			if (!c->x->pmd_window) {
				rws_conn_fail(c, -ENOMEM, 0, "out of memory");
				return;
			}
		}
	}
	if (answer.protocol.p) {
		struct rws_str path = { sp->rt.path, strlen(sp->rt.path) };
		c->x->meta = rws_make_meta(&path, &answer.protocol, "");
		if (!c->x->meta) {
			rws_conn_fail(c, -ENOMEM, 0, "out of memory");
			return;
		}
	}
	*used = (size_t)rc;
	rws_conn_client_open(c, &sp->scfg, agreed.enabled ? RWS_RSV1 : 0);
}
