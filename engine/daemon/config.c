/*
 * config.c: ringwsd's settings and routes, and the config file.
 *
 * A setting has one name in both places: `threads = 4` in the file is
 * `--threads 4` on the command line, which main.c applies after the file,
 * so the command line wins. The file format, line by line:
 *
 *     # a comment: a line whose first non-blank character is '#'
 *     listen = 0.0.0.0:8080           server settings come first, before
 *     threads = 0                     any section
 *     max-payload = 16M               byte sizes take K, M or G (x 1024^n)
 *
 *     [route /chat]                   a route: connections to /chat ...
 *     plugin = plugins/chat.so        ... go to this plugin; a relative
 *                                     path is relative to the file's folder
 *     args = "  spaces kept "         the plugin's argument string
 *
 *     [route *]                       "*": any path no other route matches
 *     plugin = /usr/local/lib/ringws/echo.so
 *     deflate = off                   a route's own permessage-deflate key
 *
 *     [listen 0.0.0.0:8443]           adds an address, as a listen line, ...
 *     tls-cert = example.org.pem      ... with certificates of its own
 *     tls-key = example.org.key       (pairs; relative: the file's folder)
 *
 *     [listen 127.0.0.1:8080]         another address ...
 *     tls = off                       ... in plaintext, whatever the server's
 *
 * Blank lines are ignored, and blanks around names and values. A '#' after
 * a blank starts a comment that runs to the end of the line. A value in
 * double quotes is taken as is between them (no escapes), so it may hold
 * " #" or begin or end with blanks. Settings: listen, tls-cert, tls-key,
 * threads, max-payload, max-connections, handshake-timeout, close-timeout,
 * max-buffered, backpressure, trusted-proxy, log-level, recv-buffers,
 * recv-buffer-size, send-zc-min, deflate, deflate-threshold, deflate-level,
 * deflate-client-context, deflate-server-max-window-bits,
 * deflate-client-max-window-bits, deflate-concurrency, deflate-inline-max
 * (the command line's long options without "--"). A later line overrides an earlier one,
 * except listen: each listen line adds an address (the same one twice is
 * an error), and the command line's --listen list replaces the file's.
 * Any error names the file and line, and ringwsd exits with status 2.
 *
 * A [route] section may also give the permessage-deflate keys deflate,
 * deflate-threshold, deflate-level, deflate-client-context,
 * deflate-server-max-window-bits and deflate-client-max-window-bits (the
 * pool's deflate-concurrency and deflate-inline-max are server-wide). A
 * route with any of them gets settings of its own: the server's (file and
 * command line), with the keys its section gives in their place.
 *
 * The command line's --route replaces the file's route for the same path
 * whole (plugin, args and deflate keys); --arg sets the args of any route.
 *
 * TLS: tls-cert and tls-key come in pairs (a certificate chain and its key,
 * PEM), in either order within the pair; several pairs are several
 * certificates, the first the default and the others picked by the name a
 * client sends (SNI). Given as server settings (before any section) they
 * serve every address without TLS settings of its own; a [listen] section
 * may give pairs of its own instead, or `tls = off`. The files must exist
 * when they are read here; the library loads them at start and again on
 * SIGHUP. The command line's --tls-cert/--tls-key pairs replace the file's
 * server-level ones. Its --listen addresses replace the file's, [listen]
 * sections' included; but one that is the same address and port as a
 * section's keeps that section's TLS settings (rwsd_config_finish()), so
 * `--listen 0.0.0.0:8443` picks the certificates the file gave that
 * address. A pair missing its other half is an error naming the line
 * where it began.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/log.h"

int rwsd_config_init(struct rwsd_config *c)
{
	memset(c, 0, sizeof(*c));
	rws_server_options_default(&c->opts);
	c->log_level = RWSD_LOG_INFO;
	if (!(c->listens = calloc(1, sizeof(*c->listens))))
		return -ENOMEM;
	strcpy(c->listens[0].host, "127.0.0.1");
	c->listens[0].port = 8080;
	c->nlistens = 1;
	c->opts.host = c->listens[0].host;
	c->opts.port = c->listens[0].port;
	return 0;
}

static void certs_free(struct rwsd_certs *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->v[i].cert);
		free(cs->v[i].key);
		free(cs->v[i].origin);
	}
	free(cs->v);
	free(cs->half.cert);
	free(cs->half.key);
	free(cs->half.origin);
	memset(cs, 0, sizeof(*cs));
}

static void listens_free(struct rwsd_listen *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].section);
		certs_free(&l[i].certs);
	}
	free(l);
}

void rwsd_config_free(struct rwsd_config *c)
{
	for (size_t i = 0; i < c->nroutes; i++) {
		free(c->routes[i].path);
		free(c->routes[i].plugin);
		free(c->routes[i].args);
		free(c->routes[i].origin);
		for (int k = 0; k < RWSD_DFL_NKEYS; k++)
			free(c->routes[i].deflate_at[k]);
	}
	free(c->routes);
	listens_free(c->listens, c->nlistens);
	listens_free(c->file_listens, c->nfile_listens);
	certs_free(&c->certs);
	free(c->trusted_proxies);
	memset(c, 0, sizeof(*c));
}

void rwsd_config_format_addr(const char *host, unsigned port, char *out, size_t outlen)
{
	if (strchr(host, ':'))
		snprintf(out, outlen, "[%s]:%u", host, port);
	else
		snprintf(out, outlen, "%s:%u", host, port);
}

/* --- values ------------------------------------------------------------ */

/* A decimal number up to max; with `sized`, an optional K, M or G suffix
 * multiplies by 1024^n. strtoull alone would take "-1", " 7" and "0x10". */
static int parse_number(const char *s, uint64_t max, int sized, uint64_t *out, char *err,
			size_t errlen)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			goto range;
		v = v * 10 + d;
	}
	if (sized && *p) {
		switch (*p) {
		case 'k': case 'K': mul = 1ull << 10; break;
		case 'm': case 'M': mul = 1ull << 20; break;
		case 'g': case 'G': mul = 1ull << 30; break;
		default: goto bad;
		}
		p++;
	}
	if (*p)
		goto bad;
	if (v > max / mul)
		goto range;
	*out = v * mul;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not a whole number%s", s,
	    sized ? " of bytes (suffix K, M or G)" : " (0 or more)");
	return -EINVAL;
range:
	snprintf(err, errlen, "'%s' is out of range (at most %llu)", s, (unsigned long long)max);
	return -EINVAL;
}

/* Adds host:port to the listen list, which the first address from a new
 * source (the file over the default, the command line over the file)
 * replaces. The file's list is kept aside then: its [listen] sections'
 * TLS settings may still apply (rwsd_config_finish). */
static int add_listen(struct rwsd_config *c, const char *host, uint16_t port, const char *v,
		      char *err, size_t errlen)
{
	struct rwsd_listen *l;

	if (c->listen_source != c->source) {
		if (c->listen_source == RWSD_SRC_FILE && !c->file_listens) {
			c->file_listens = c->listens;
			c->nfile_listens = c->nlistens;
			c->listens = NULL;
		} else {
			for (size_t i = 0; i < c->nlistens; i++) {
				free(c->listens[i].section);
				certs_free(&c->listens[i].certs);
			}
		}
		c->listen_source = c->source;
		c->nlistens = 0;
	}
	for (size_t i = 0; i < c->nlistens; i++)
		if (port && c->listens[i].port == port && strcmp(c->listens[i].host, host) == 0) {
			snprintf(err, errlen, "'%s' is given twice", v);
			return -EINVAL;
		}
	if (!(l = realloc(c->listens, (c->nlistens + 1) * sizeof(*l)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->listens = l;
	memset(&l[c->nlistens], 0, sizeof(*l));
	strcpy(l[c->nlistens].host, host);
	l[c->nlistens].port = port;
	c->nlistens++;
	c->opts.host = l[0].host;	/* the list may have moved */
	c->opts.port = l[0].port;
	return 0;
}

/* HOST:PORT, [IPV6]:PORT; a host name resolves to its first address. */
static int set_listen(struct rwsd_config *c, const char *v, char *err, size_t errlen)
{
	char host[256];
	const char *port;
	size_t hlen;
	uint64_t num;
	unsigned char bin[sizeof(struct in6_addr)];

	if (v[0] == '[') {
		const char *end = strchr(v, ']');
		if (!end || end[1] != ':')
			goto bad;
		hlen = (size_t)(end - v - 1);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, v + 1, hlen);
		host[hlen] = '\0';
		port = end + 2;
		if (inet_pton(AF_INET6, host, bin) != 1) {
			snprintf(err, errlen, "'%s' is not an IPv6 address", host);
			return -EINVAL;
		}
	} else {
		const char *colon = strrchr(v, ':');
		if (!colon)
			goto bad;
		hlen = (size_t)(colon - v);
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, v, hlen);
		host[hlen] = '\0';
		port = colon + 1;
		if (strchr(host, ':')) {
			snprintf(err, errlen, "'%s': put an IPv6 address in brackets, as [::1]:8080", v);
			return -EINVAL;
		}
	}
	if (parse_number(port, 65535, 0, &num, err, errlen) < 0) {
		snprintf(err, errlen, "'%s' has no port number 0-65535 after the ':'", v);
		return -EINVAL;
	}

	if (inet_pton(AF_INET, host, bin) != 1 && inet_pton(AF_INET6, host, bin) != 1) {
		struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
		struct addrinfo *res;
		int r = getaddrinfo(host, NULL, &hints, &res);
		if (r != 0) {
			snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(r));
			return -EINVAL;
		}
		r = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof(host), NULL, 0,
				NI_NUMERICHOST);
		freeaddrinfo(res);
		if (r != 0) {
			snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(r));
			return -EINVAL;
		}
	}
	if (strlen(host) >= sizeof(c->listens[0].host))
		goto bad;
	return add_listen(c, host, (uint16_t)num, v, err, errlen);
bad:
	snprintf(err, errlen, "'%s' is not HOST:PORT or [IPV6]:PORT", v);
	return -EINVAL;
}

/* A comma list of numeric IPv4 or IPv6 addresses. */
static int set_trusted(struct rwsd_config *c, const char *v, char *err, size_t errlen)
{
	const char *p = v;
	char *copy;

	if (!*v) {
		snprintf(err, errlen, "needs at least one address");
		return -EINVAL;
	}
	while (*p) {
		char addr[INET6_ADDRSTRLEN];
		unsigned char bin[sizeof(struct in6_addr)];
		size_t n = strcspn(p, ",");
		if (n == 0 || n >= sizeof(addr))
			goto bad;
		memcpy(addr, p, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1) {
			snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", addr);
			return -EINVAL;
		}
		p += n;
		if (*p == ',' && *++p == '\0')
			goto bad;
	}
	copy = strdup(v);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	free(c->trusted_proxies);
	c->trusted_proxies = copy;
	c->opts.trusted_proxies = copy;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not a comma list of addresses", v);
	return -EINVAL;
}

/* --- TLS certificates --------------------------------------------------- */

/* A certificate or key file must be there and readable now, so a typo is
 * a config error naming its line: the library reads the file only after
 * the plugins are loaded (and again on SIGHUP). */
static int check_tls_file(const char *file, char *err, size_t errlen)
{
	struct stat st;
	int fd, e;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0 || fstat(fd, &st) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: %s", file, strerror(e));
		return -e;
	}
	close(fd);
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a file", file);
		return -EINVAL;
	}
	return 0;
}

/* Adds half a pair to cs: the certificate file, or with is_key the key
 * file; a pair is complete once it has both, in either order. Takes path.
 * where is "FILE:LINE" in the file, NULL on the command line; dash is
 * "--" on the command line, "" in the file (for the messages). */
static int add_tls_half(struct rwsd_certs *cs, int is_key, char *path, const char *where,
			const char *dash, char *err, size_t errlen)
{
	struct rwsd_cert *h = &cs->half, *v;
	char **mine = is_key ? &h->key : &h->cert;
	const char *kind = is_key ? "key" : "cert", *other = is_key ? "cert" : "key";
	int r;

	if (!*path) {
		snprintf(err, errlen, "needs a file");
		r = -EINVAL;
		goto fail;
	}
	if ((r = check_tls_file(path, err, errlen)) < 0)
		goto fail;
	if (*mine) {
		snprintf(err, errlen, "'%s': the %stls-%s before it ('%s'%s%s) has no %stls-%s; "
			 "give each %stls-cert its %stls-key", path, dash, kind, *mine,
			 where ? ", " : "", where ? h->origin : "", dash, other, dash, dash);
		r = -EINVAL;
		goto fail;
	}
	if (!h->origin && !(h->origin = strdup(where ? where : is_key ? "--tls-key" : "--tls-cert")))
		goto nomem;
	*mine = path;
	if (!h->cert || !h->key)
		return 0;
	if (!(v = realloc(cs->v, (cs->n + 1) * sizeof(*v)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;	/* the half stays in cs, which frees it */
	}
	cs->v = v;
	v[cs->n++] = *h;
	memset(h, 0, sizeof(*h));
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	r = -ENOMEM;
fail:
	free(path);
	return r;
}

/* A pair left half made in cs: -EINVAL with the message (without where it
 * began, which is cs->half.origin), or 0. */
static int check_half(const struct rwsd_certs *cs, const char *dash, char *err, size_t errlen)
{
	const struct rwsd_cert *h = &cs->half;

	if (!h->cert && !h->key)
		return 0;
	snprintf(err, errlen, "%stls-%s '%s' has no %stls-%s to go with it", dash,
		 h->cert ? "cert" : "key", h->cert ? h->cert : h->key, dash, h->cert ? "key" : "cert");
	return -EINVAL;
}

/* The server's certificate list, which the first pair from a new source
 * (the command line over the file) replaces, as listen lines do. */
static struct rwsd_certs *server_certs(struct rwsd_config *c)
{
	if (c->certs_source != c->source) {
		certs_free(&c->certs);
		c->certs_source = c->source;
	}
	return &c->certs;
}

const struct rwsd_certs *rwsd_listen_certs(const struct rwsd_config *c,
					   const struct rwsd_listen *l)
{
	if (l->certs.n)
		return &l->certs;
	if (l->tls == RWSD_TLS_OFF || !c->certs.n)
		return NULL;
	return &c->certs;
}

/* Do a and b name the same address and port ("::1" and "0::1" do)? */
static int same_address(const struct rwsd_listen *a, const struct rwsd_listen *b)
{
	unsigned char x[sizeof(struct in6_addr)], y[sizeof(struct in6_addr)];
	int fa = strchr(a->host, ':') ? AF_INET6 : AF_INET;
	int fb = strchr(b->host, ':') ? AF_INET6 : AF_INET;

	if (a->port != b->port || fa != fb)
		return 0;
	if (inet_pton(fa, a->host, x) != 1 || inet_pton(fb, b->host, y) != 1)
		return strcmp(a->host, b->host) == 0;
	return memcmp(x, y, fa == AF_INET6 ? 16 : 4) == 0;
}

int rwsd_config_finish(struct rwsd_config *c, char *err, size_t errlen)
{
	char addr[96];

	if (check_half(&c->certs, c->certs_source == RWSD_SRC_CMDLINE ? "--" : "", err, errlen) < 0)
		return -EINVAL;

	/* --listen replaced the file's addresses; one the file had a section
	 * for keeps that section's TLS (each section goes to one address) */
	for (size_t i = 0; i < c->nlistens && c->file_listens; i++) {
		struct rwsd_listen *l = &c->listens[i];
		for (size_t k = 0; k < c->nfile_listens; k++) {
			struct rwsd_listen *f = &c->file_listens[k];
			if (!f->section || !same_address(l, f))
				continue;
			l->section = f->section;
			l->tls = f->tls;
			l->certs = f->certs;
			f->section = NULL;
			memset(&f->certs, 0, sizeof(f->certs));
			break;
		}
	}
	listens_free(c->file_listens, c->nfile_listens);
	c->file_listens = NULL;
	c->nfile_listens = 0;

	for (size_t i = 0; i < c->nlistens; i++) {
		const struct rwsd_listen *l = &c->listens[i];
		if (l->tls == RWSD_TLS_ON && !rwsd_listen_certs(c, l)) {
			rwsd_config_format_addr(l->host, l->port, addr, sizeof(addr));
			snprintf(err, errlen, "%s: [listen %s] says tls = on, but no certificate is "
				 "given: give tls-cert and tls-key pairs in the section or as server "
				 "settings", l->section, addr);
			return -EINVAL;
		}
	}
	return 0;
}

enum setting_kind { S_LISTEN, S_TLS_CERT, S_TLS_KEY, S_THREADS, S_PAYLOAD, S_CONNS,
		    S_HS_TIMEOUT, S_CLOSE_TIMEOUT, S_BUFFERED, S_BACKPRESSURE, S_TRUSTED, S_LOG_LEVEL, S_RECV_BUFFERS,
		    S_RECV_BUFFER_SIZE, S_SEND_ZC_MIN, S_DEFLATE_KEY, S_DEFLATE_CONCURRENCY,
		    S_DEFLATE_INLINE_MAX, S_PING_INTERVAL, S_PONG_TIMEOUT };

/* The deflate keys' names, which the settings below share (enum
 * rwsd_deflate_key's order). */
static const char *const deflate_keys[RWSD_DFL_NKEYS] = {
	[RWSD_DFL_ENABLED] = "deflate",
	[RWSD_DFL_THRESHOLD] = "deflate-threshold",
	[RWSD_DFL_LEVEL] = "deflate-level",
	[RWSD_DFL_CLIENT_CONTEXT] = "deflate-client-context",
	[RWSD_DFL_SERVER_WINDOW] = "deflate-server-max-window-bits",
	[RWSD_DFL_CLIENT_WINDOW] = "deflate-client-max-window-bits",
};

static const struct setting {
	const char *name;
	enum setting_kind kind;
	enum rwsd_deflate_key key;	/* for S_DEFLATE_KEY; RWSD_DFL_NKEYS for the others */
} settings[] = {
	{ "listen", S_LISTEN, RWSD_DFL_NKEYS },
	{ "tls-cert", S_TLS_CERT, RWSD_DFL_NKEYS },
	{ "tls-key", S_TLS_KEY, RWSD_DFL_NKEYS },
	{ "threads", S_THREADS, RWSD_DFL_NKEYS },
	{ "max-payload", S_PAYLOAD, RWSD_DFL_NKEYS },
	{ "max-connections", S_CONNS, RWSD_DFL_NKEYS },
	{ "handshake-timeout", S_HS_TIMEOUT, RWSD_DFL_NKEYS },
	{ "close-timeout", S_CLOSE_TIMEOUT, RWSD_DFL_NKEYS },
	{ "max-buffered", S_BUFFERED, RWSD_DFL_NKEYS },
	{ "backpressure", S_BACKPRESSURE, RWSD_DFL_NKEYS },
	{ "trusted-proxy", S_TRUSTED, RWSD_DFL_NKEYS },
	{ "log-level", S_LOG_LEVEL, RWSD_DFL_NKEYS },
	{ "recv-buffers", S_RECV_BUFFERS, RWSD_DFL_NKEYS },
	{ "recv-buffer-size", S_RECV_BUFFER_SIZE, RWSD_DFL_NKEYS },
	{ "send-zc-min", S_SEND_ZC_MIN, RWSD_DFL_NKEYS },
	{ "deflate", S_DEFLATE_KEY, RWSD_DFL_ENABLED },
	{ "deflate-threshold", S_DEFLATE_KEY, RWSD_DFL_THRESHOLD },
	{ "deflate-level", S_DEFLATE_KEY, RWSD_DFL_LEVEL },
	{ "deflate-client-context", S_DEFLATE_KEY, RWSD_DFL_CLIENT_CONTEXT },
	{ "deflate-server-max-window-bits", S_DEFLATE_KEY, RWSD_DFL_SERVER_WINDOW },
	{ "deflate-client-max-window-bits", S_DEFLATE_KEY, RWSD_DFL_CLIENT_WINDOW },
	{ "deflate-concurrency", S_DEFLATE_CONCURRENCY, RWSD_DFL_NKEYS },
	{ "deflate-inline-max", S_DEFLATE_INLINE_MAX, RWSD_DFL_NKEYS },
	{ "ping-interval", S_PING_INTERVAL, RWSD_DFL_NKEYS },
	{ "pong-timeout", S_PONG_TIMEOUT, RWSD_DFL_NKEYS },
};

/* "on"/"off" (also yes/no, true/false, 1/0) */
static int parse_bool(const char *v, int *out, char *err, size_t errlen)
{
	static const char *const on[] = { "on", "yes", "true", "1" };
	static const char *const off[] = { "off", "no", "false", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, on[i]) == 0)
			return *out = 1, 0;
		if (strcmp(v, off[i]) == 0)
			return *out = 0, 0;
	}
	snprintf(err, errlen, "'%s' is neither on nor off", v);
	return -EINVAL;
}

/* A whole number from lo to hi (or 0, with zero_ok); what names the values
 * allowed, for the message: "'13' is not a level from 1 to 12". */
static int parse_range(const char *v, int lo, int hi, int zero_ok, const char *what, int *out,
		       char *err, size_t errlen)
{
	uint64_t n;

	if (parse_number(v, (uint64_t)hi, 0, &n, err, errlen) < 0 ||
	    (n < (uint64_t)lo && !(zero_ok && n == 0))) {
		snprintf(err, errlen, "'%s' is not %s", v, what);
		return -EINVAL;
	}
	*out = (int)n;
	return 0;
}

#define WINDOW_RANGE "a window size from 8 to 15 bits (or 0, meaning 15)"

/* Reads the value of deflate key k into its field of d. */
static int parse_deflate(enum rwsd_deflate_key k, const char *v, struct rws_deflate_options *d,
			 char *err, size_t errlen)
{
	uint64_t n;
	int r;

	switch (k) {
	case RWSD_DFL_ENABLED:
		return parse_bool(v, &d->enabled, err, errlen);
	case RWSD_DFL_CLIENT_CONTEXT:
		return parse_bool(v, &d->client_context, err, errlen);
	case RWSD_DFL_THRESHOLD:
		if ((r = parse_number(v, UINT32_MAX, 1, &n, err, errlen)) < 0)
			return r;
		d->threshold = (uint32_t)n;
		return 0;
	case RWSD_DFL_LEVEL:
		return parse_range(v, 1, 12, 0, "a level from 1 to 12", &d->level, err, errlen);
	case RWSD_DFL_SERVER_WINDOW:
		return parse_range(v, 8, 15, 1, WINDOW_RANGE, &d->server_max_window_bits, err,
				   errlen);
	case RWSD_DFL_CLIENT_WINDOW:
		return parse_range(v, 8, 15, 1, WINDOW_RANGE, &d->client_max_window_bits, err,
				   errlen);
	case RWSD_DFL_NKEYS:
		break;
	}
	return -EINVAL;
}

/* Copies the field of key k from src to dst. */
static void copy_deflate(enum rwsd_deflate_key k, struct rws_deflate_options *dst,
			 const struct rws_deflate_options *src)
{
	switch (k) {
	case RWSD_DFL_ENABLED: dst->enabled = src->enabled; break;
	case RWSD_DFL_THRESHOLD: dst->threshold = src->threshold; break;
	case RWSD_DFL_LEVEL: dst->level = src->level; break;
	case RWSD_DFL_CLIENT_CONTEXT: dst->client_context = src->client_context; break;
	case RWSD_DFL_SERVER_WINDOW: dst->server_max_window_bits = src->server_max_window_bits; break;
	case RWSD_DFL_CLIENT_WINDOW: dst->client_max_window_bits = src->client_max_window_bits; break;
	case RWSD_DFL_NKEYS: break;
	}
}

/* Sets the server option of deflate key k from d's field. */
static void deflate_to_options(enum rwsd_deflate_key k, const struct rws_deflate_options *d,
			       struct rws_server_options *o)
{
	switch (k) {
	case RWSD_DFL_ENABLED: o->deflate = d->enabled; break;
	case RWSD_DFL_THRESHOLD: o->deflate_threshold = d->threshold; break;
	case RWSD_DFL_LEVEL: o->deflate_level = d->level; break;
	case RWSD_DFL_CLIENT_CONTEXT: o->deflate_client_context = d->client_context; break;
	case RWSD_DFL_SERVER_WINDOW: o->deflate_server_max_window_bits = d->server_max_window_bits; break;
	case RWSD_DFL_CLIENT_WINDOW: o->deflate_client_max_window_bits = d->client_max_window_bits; break;
	case RWSD_DFL_NKEYS: break;
	}
}

const char *rwsd_deflate_key_name(enum rwsd_deflate_key k)
{
	return (unsigned)k < RWSD_DFL_NKEYS ? deflate_keys[k] : "?";
}

/* The deflate key called name, or -1. */
static int deflate_key(const char *name)
{
	for (int k = 0; k < RWSD_DFL_NKEYS; k++)
		if (strcmp(deflate_keys[k], name) == 0)
			return k;
	return -1;
}

int rwsd_route_has_deflate(const struct rwsd_route *r)
{
	for (int k = 0; k < RWSD_DFL_NKEYS; k++)
		if (r->deflate_at[k])
			return 1;
	return 0;
}

void rwsd_route_deflate_apply(const struct rwsd_route *r, struct rws_deflate_options *d)
{
	for (int k = 0; k < RWSD_DFL_NKEYS; k++)
		if (r->deflate_at[k])
			copy_deflate((enum rwsd_deflate_key)k, d, &r->deflate);
}

void rwsd_route_deflate_describe(const struct rwsd_route *r, char *out, size_t outlen)
{
	const struct rws_deflate_options *d = &r->deflate;
	size_t n = 0;

	if (outlen)
		out[0] = '\0';
	for (int k = 0; k < RWSD_DFL_NKEYS && n < outlen; k++) {
		char v[32];
		int w;

		if (!r->deflate_at[k])
			continue;
		switch ((enum rwsd_deflate_key)k) {
		case RWSD_DFL_ENABLED: snprintf(v, sizeof(v), "%s", d->enabled ? "on" : "off"); break;
		case RWSD_DFL_CLIENT_CONTEXT:
			snprintf(v, sizeof(v), "%s", d->client_context ? "on" : "off");
			break;
		case RWSD_DFL_THRESHOLD: snprintf(v, sizeof(v), "%u", (unsigned)d->threshold); break;
		case RWSD_DFL_LEVEL: snprintf(v, sizeof(v), "%d", d->level); break;
		case RWSD_DFL_SERVER_WINDOW: snprintf(v, sizeof(v), "%d", d->server_max_window_bits); break;
		case RWSD_DFL_CLIENT_WINDOW: snprintf(v, sizeof(v), "%d", d->client_max_window_bits); break;
		default: v[0] = '\0'; break;
		}
		w = snprintf(out + n, outlen - n, "%s%s = %s (%s)", n ? ", " : "", deflate_keys[k], v,
			     r->deflate_at[k]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

int rwsd_config_is_flag(const char *name, size_t len)
{
	return (len == 7 && strncmp(name, "deflate", 7) == 0) ||
	       (len == 22 && strncmp(name, "deflate-client-context", 22) == 0);
}

static const struct setting *find_setting(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (strlen(settings[i].name) == len && strncmp(settings[i].name, name, len) == 0)
			return &settings[i];
	return NULL;
}

const char *rwsd_config_setting(const char *name, size_t len)
{
	const struct setting *st = find_setting(name, len);

	return st ? st->name : NULL;
}

int rwsd_config_set(struct rwsd_config *c, const char *name, const char *v, char *err,
		    size_t errlen)
{
	const struct setting *st = find_setting(name, strlen(name));
	uint64_t n;
	int r;

	if (!st) {
		snprintf(err, errlen, "unknown setting '%s'", name);
		return -ENOENT;
	}

	switch (st->kind) {
	case S_LISTEN:
		return set_listen(c, v, err, errlen);
	case S_TLS_CERT:
	case S_TLS_KEY: {
		char *path = strdup(v);
		if (!path) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		return add_tls_half(server_certs(c), st->kind == S_TLS_KEY, path, NULL,
				    c->source == RWSD_SRC_CMDLINE ? "--" : "", err, errlen);
	}
	case S_THREADS:
		if ((r = parse_number(v, 4096, 0, &n, err, errlen)) < 0)
			return r;
		c->opts.threads = (int)n;
		return 0;
	case S_PAYLOAD:
		if ((r = parse_number(v, UINT64_MAX, 1, &n, err, errlen)) < 0)
			return r;
		c->opts.max_payload = n;
		return 0;
	case S_CONNS:
		if ((r = parse_number(v, UINT32_MAX, 0, &n, err, errlen)) < 0)
			return r;
		c->opts.max_connections = (uint32_t)n;
		return 0;
	case S_HS_TIMEOUT:
	case S_CLOSE_TIMEOUT:
	case S_PING_INTERVAL:
	case S_PONG_TIMEOUT:
		if ((r = parse_number(v, UINT32_MAX, 0, &n, err, errlen)) < 0)
			return r;
		if (st->kind == S_HS_TIMEOUT)
			c->opts.handshake_timeout_ms = (uint32_t)n;
		else if (st->kind == S_CLOSE_TIMEOUT)
			c->opts.close_timeout_ms = (uint32_t)n;
		else if (st->kind == S_PING_INTERVAL)
			c->opts.ping_interval_ms = (uint32_t)n;
		else
			c->opts.pong_timeout_ms = (uint32_t)n;
		return 0;
	case S_BUFFERED:
		if ((r = parse_number(v, SIZE_MAX, 1, &n, err, errlen)) < 0)
			return r;
		c->opts.max_buffered = (size_t)n;
		return 0;
	case S_BACKPRESSURE:
		if (strcmp(v, "close") == 0)
			c->opts.backpressure = RWS_BP_CLOSE;
		else if (strcmp(v, "refuse") == 0)
			c->opts.backpressure = RWS_BP_REFUSE;
		else {
			snprintf(err, errlen, "'%s' is neither 'close' nor 'refuse'", v);
			return -EINVAL;
		}
		return 0;
	case S_TRUSTED:
		return set_trusted(c, v, err, errlen);
	case S_RECV_BUFFERS:
		if ((r = parse_number(v, 32768, 0, &n, err, errlen)) < 0)
			return r;
		if (n == 0 || (n & (n - 1))) {
			snprintf(err, errlen, "'%s' is not a power of two up to 32768", v);
			return -EINVAL;
		}
		c->opts.recv_buffers = (uint32_t)n;
		return 0;
	case S_RECV_BUFFER_SIZE:
		if ((r = parse_number(v, 1u << 20, 1, &n, err, errlen)) < 0)
			return r;
		if (n < 512) {
			snprintf(err, errlen, "'%s' is below 512 bytes", v);
			return -EINVAL;
		}
		c->opts.recv_buffer_size = (uint32_t)n;
		return 0;
	case S_DEFLATE_KEY: {
		struct rws_deflate_options d = { .struct_size = sizeof(d) };
		if ((r = parse_deflate(st->key, v, &d, err, errlen)) < 0)
			return r;
		deflate_to_options(st->key, &d, &c->opts);
		return 0;
	}
	case S_DEFLATE_CONCURRENCY:
		return parse_range(v, 1, 256, 0, "a number of threads from 1 to 256",
				   &c->opts.deflate_concurrency, err, errlen);
	case S_DEFLATE_INLINE_MAX:
		if ((r = parse_number(v, UINT32_MAX, 1, &n, err, errlen)) < 0)
			return r;
		c->opts.deflate_inline_max = (uint32_t)n;
		return 0;
	case S_SEND_ZC_MIN:
		if ((r = parse_number(v, 1u << 20, 1, &n, err, errlen)) < 0)
			return r;
		c->opts.send_zc_min = (uint32_t)n;
		return 0;
	case S_LOG_LEVEL:
		if ((r = rwsd_log_level_parse(v)) < 0) {
			snprintf(err, errlen, "'%s' is not error, warning, info or debug", v);
			return r;
		}
		c->log_level = r;
		return 0;
	}
	return -EINVAL;
}

/* --- routes ------------------------------------------------------------ */

static int valid_path(const char *p)
{
	if (strcmp(p, "*") == 0)
		return 1;
	if (p[0] != '/')
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '?' || *p == '#')
			return 0;
	return 1;
}

static struct rwsd_route *find_route(struct rwsd_config *c, const char *path)
{
	for (size_t i = 0; i < c->nroutes; i++)
		if (strcmp(c->routes[i].path, path) == 0)
			return &c->routes[i];
	return NULL;
}

/* dlopen() searches the library path for a name without a '/': give it
 * one, so "echo.so" means the file here and never a system library. */
static char *plugin_path(const char *dir, const char *file)
{
	char *out;
	int r;

	if (file[0] == '/')
		r = asprintf(&out, "%s", file);
	else if (dir)
		r = asprintf(&out, "%s/%s", dir, file);
	else if (!strchr(file, '/'))
		r = asprintf(&out, "./%s", file);
	else
		r = asprintf(&out, "%s", file);
	return r < 0 ? NULL : out;
}

static int check_plugin_file(const char *file, char *err, size_t errlen)
{
	struct stat st;

	if (stat(file, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", file, strerror(e));
		return e == ENOENT ? -ENOENT : -e;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a file", file);
		return -EINVAL;
	}
	return 0;
}

/* Sets r to path -> file (already resolved), args "". Takes file. */
static int fill_route(struct rwsd_route *r, const char *path, char *file, const char *origin)
{
	char *p = strdup(path), *a = strdup(""), *o = strdup(origin);

	if (!p || !a || !o) {
		free(p);
		free(a);
		free(o);
		free(file);
		return -ENOMEM;
	}
	free(r->path);
	free(r->plugin);
	free(r->args);
	free(r->origin);
	for (int k = 0; k < RWSD_DFL_NKEYS; k++) {
		free(r->deflate_at[k]);
		r->deflate_at[k] = NULL;
	}
	memset(&r->deflate, 0, sizeof(r->deflate));
	r->path = p;
	r->plugin = file;
	r->args = a;
	r->origin = o;
	return 0;
}

static struct rwsd_route *new_route(struct rwsd_config *c)
{
	struct rwsd_route *rs = realloc(c->routes, (c->nroutes + 1) * sizeof(*rs));

	if (!rs)
		return NULL;
	c->routes = rs;
	memset(&rs[c->nroutes], 0, sizeof(*rs));
	return &rs[c->nroutes++];
}

int rwsd_config_route(struct rwsd_config *c, const char *path, const char *plugin, char *err,
		      size_t errlen)
{
	struct rwsd_route *r;
	char *file;
	int e;

	if (!valid_path(path)) {
		snprintf(err, errlen, "'%s' is not a path: it starts with '/' (or is \"*\") and has no "
			"blanks, '?' or '#'", path);
		return -EINVAL;
	}
	r = find_route(c, path);
	if (r && strcmp(r->origin, "--route") == 0) {
		snprintf(err, errlen, "path %s is routed twice", path);
		return -EEXIST;
	}
	if (!(file = plugin_path(NULL, plugin)))
		goto nomem;
	if ((e = check_plugin_file(file, err, errlen)) < 0) {
		free(file);
		return e;
	}
	if (!r && !(r = new_route(c))) {
		free(file);
		goto nomem;
	}
	if (fill_route(r, path, file, "--route") < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

int rwsd_config_args(struct rwsd_config *c, const char *path, const char *args)
{
	struct rwsd_route *r = find_route(c, path);
	char *a;

	if (!r)
		return -ENOENT;
	if (!(a = strdup(args)))
		return -ENOMEM;
	free(r->args);
	r->args = a;
	return 0;
}

/* --- the file ---------------------------------------------------------- */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Is s blank, or blanks and a comment? */
static int is_comment(const char *s)
{
	s += strspn(s, " \t\r\n");
	return *s == '\0' || *s == '#';
}

/* Ends an unquoted value at a '#' that follows a blank. */
static void cut_comment(char *v)
{
	for (char *h = strchr(v, '#'); h; h = strchr(h + 1, '#')) {
		if (h > v && (h[-1] == ' ' || h[-1] == '\t')) {
			*h = '\0';
			trim(v);
			return;
		}
	}
}

/* Where the file's relative plugin paths start from: its folder. */
static char *file_dir(const char *file)
{
	const char *slash = strrchr(file, '/');

	if (!slash)
		return strdup(".");
	if (slash == file)
		return strdup("/");
	return strndup(file, (size_t)(slash - file));
}

struct parser {
	struct rwsd_config *c;
	const char *file;
	char *dir;
	unsigned line;
	struct rwsd_route *route;	/* the open [route] section, or NULL */
	unsigned route_line;
	int in_listen;			/* a [listen] section is open: the last address's */
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%u: %s", p->file, line, what);
	return -EINVAL;
}

/* A message about what began at origin ("FILE:LINE"). */
static int fail_at(struct parser *p, const char *origin, const char *what)
{
	snprintf(p->err, p->errlen, "%s: %s", origin, what);
	return -EINVAL;
}

/* Ends the open section, or the server settings before the first one: a
 * route needs its plugin, a certificate pair both halves. */
static int end_section(struct parser *p)
{
	struct rwsd_certs *cs = NULL;
	char why[512];

	if (p->route && !p->route->plugin)
		return fail(p, p->route_line, "[route %s] has no 'plugin = FILE' line",
			    p->route->path);
	if (p->in_listen)
		cs = &p->c->listens[p->c->nlistens - 1].certs;
	else if (!p->route && p->c->certs_source == RWSD_SRC_FILE)
		cs = &p->c->certs;
	if (cs && check_half(cs, "", why, sizeof(why)) < 0)
		return fail_at(p, cs->half.origin, why);
	p->route = NULL;
	p->in_listen = 0;
	return 0;
}

/* [listen HOST:PORT]: adds the address, as a listen line does; the lines
 * after it set its TLS. */
static int listen_section(struct parser *p, const char *addr)
{
	struct rwsd_listen *l;
	char why[512];
	int e;

	if ((e = end_section(p)) < 0)
		return e;
	if (set_listen(p->c, addr, why, sizeof(why)) < 0)
		return fail(p, p->line, "[listen %s]: %s", addr, why);
	l = &p->c->listens[p->c->nlistens - 1];
	if (asprintf(&l->section, "%s:%u", p->file, p->line) < 0) {
		l->section = NULL;
		return fail(p, p->line, "out of memory");
	}
	p->in_listen = 1;
	return 0;
}

static int section(struct parser *p, char *s)
{
	char *end = strchr(s, ']'), *path, *origin;
	struct rwsd_route *r;
	int e;

	if (!end || !is_comment(end + 1))
		return fail(p, p->line, "a section line is [route PATH] or [listen HOST:PORT]");
	*end = '\0';
	s = trim(s + 1);
	if (strncmp(s, "listen", 6) == 0 && (s[6] == ' ' || s[6] == '\t'))
		return listen_section(p, trim(s + 6));
	if (strncmp(s, "route", 5) != 0 || (s[5] != ' ' && s[5] != '\t'))
		return fail(p, p->line, "unknown section [%s]: sections are [route PATH] and "
			    "[listen HOST:PORT]", s);
	path = trim(s + 5);
	if (!valid_path(path))
		return fail(p, p->line, "'%s' is not a path: it starts with '/' (or is \"*\") and "
			    "has no blanks, '?' or '#'", path);
	if ((e = end_section(p)) < 0)
		return e;
	if ((r = find_route(p->c, path)))
		return fail(p, p->line, "route %s is defined twice (first at %s)", path, r->origin);
	if (asprintf(&origin, "%s:%u", p->file, p->line) < 0)
		return fail(p, p->line, "out of memory");
	if (!(r = new_route(p->c)) || !(r->path = strdup(path)) || !(r->args = strdup(""))) {
		free(origin);
		return fail(p, p->line, "out of memory");
	}
	r->origin = origin;
	p->route = r;
	p->route_line = p->line;
	return 0;
}

static int route_setting(struct parser *p, const char *name, const char *value)
{
	struct rwsd_route *r = p->route;
	char why[512];
	char *s;
	int e;

	if (strcmp(name, "plugin") == 0) {
		if (!*value)
			return fail(p, p->line, "plugin: needs a file");
		if (!(s = plugin_path(value[0] == '/' ? NULL : p->dir, value)))
			return fail(p, p->line, "out of memory");
		if ((e = check_plugin_file(s, why, sizeof(why))) < 0) {
			free(s);
			return fail(p, p->line, "plugin: %s", why);
		}
		free(r->plugin);
		r->plugin = s;
		return 0;
	}
	if (strcmp(name, "args") == 0) {
		if (!(s = strdup(value)))
			return fail(p, p->line, "out of memory");
		free(r->args);
		r->args = s;
		return 0;
	}
	if ((e = deflate_key(name)) >= 0) {
		if (parse_deflate((enum rwsd_deflate_key)e, value, &r->deflate, why, sizeof(why)) < 0)
			return fail(p, p->line, "%s (in [route %s]): %s", name, r->path, why);
		if (asprintf(&s, "%s:%u", p->file, p->line) < 0)
			return fail(p, p->line, "out of memory");
		free(r->deflate_at[e]);
		r->deflate_at[e] = s;
		return 0;
	}
	if (rwsd_config_setting(name, strlen(name)))
		return fail(p, p->line, "'%s' is a server setting: server settings come before the "
			    "first section", name);
	return fail(p, p->line, "'%s' is not a route setting: a [route] section has 'plugin', "
		    "'args' and the keys deflate, deflate-threshold, deflate-level, "
		    "deflate-client-context, deflate-server-max-window-bits and "
		    "deflate-client-max-window-bits", name);
}

/* tls-cert or tls-key = FILE into cs; a relative FILE is relative to the
 * config file's folder, as a plugin's. */
static int file_tls(struct parser *p, struct rwsd_certs *cs, const char *name, const char *value)
{
	char why[768], where[300], *path;

	if (!(path = *value ? plugin_path(value[0] == '/' ? NULL : p->dir, value) : strdup("")))
		return fail(p, p->line, "out of memory");
	snprintf(where, sizeof(where), "%s:%u", p->file, p->line);
	if (add_tls_half(cs, strcmp(name, "tls-key") == 0, path, where, "", why, sizeof(why)) < 0)
		return fail(p, p->line, "%s: %s", name, why);
	return 0;
}

static int listen_setting(struct parser *p, const char *name, const char *value)
{
	struct rwsd_listen *l = &p->c->listens[p->c->nlistens - 1];
	char why[512], addr[96];
	int on;

	rwsd_config_format_addr(l->host, l->port, addr, sizeof(addr));
	if (strcmp(name, "tls") == 0) {
		if (parse_bool(value, &on, why, sizeof(why)) < 0)
			return fail(p, p->line, "tls (in [listen %s]): %s", addr, why);
		if (!on && (l->certs.n || l->certs.half.cert || l->certs.half.key))
			return fail(p, p->line, "tls = off, but [listen %s] gives certificates of its "
				    "own", addr);
		l->tls = on ? RWSD_TLS_ON : RWSD_TLS_OFF;
		return 0;
	}
	if (strcmp(name, "tls-cert") == 0 || strcmp(name, "tls-key") == 0) {
		if (l->tls == RWSD_TLS_OFF)
			return fail(p, p->line, "%s in [listen %s], which says tls = off", name, addr);
		return file_tls(p, &l->certs, name, value);
	}
	if (rwsd_config_setting(name, strlen(name)))
		return fail(p, p->line, "'%s' is a server setting: server settings come before the "
			    "first section", name);
	return fail(p, p->line, "'%s' is not a listen setting: a [listen] section has tls-cert, "
		    "tls-key and tls", name);
}

static int parse_line(struct parser *p, char *s)
{
	char *eq, *name, *value;
	char why[512];

	s = trim(s);
	if (!*s || *s == '#')
		return 0;
	if (*s == '[')
		return section(p, s);

	if (!(eq = strchr(s, '=')))
		return fail(p, p->line, "expected 'name = value', '[route PATH]', '[listen HOST:PORT]' "
			    "or a # comment");
	*eq = '\0';
	name = trim(s);
	value = trim(eq + 1);
	if (value[0] == '"') {
		char *close = strchr(value + 1, '"');
		if (!close)
			return fail(p, p->line, "%s: the value's closing '\"' is missing", name);
		if (!is_comment(close + 1))
			return fail(p, p->line, "%s: text after the closing '\"'", name);
		*close = '\0';
		value++;
	} else {
		cut_comment(value);
	}
	if (!*name)
		return fail(p, p->line, "a setting's name is missing before '='");

	if (p->route)
		return route_setting(p, name, value);
	if (p->in_listen)
		return listen_setting(p, name, value);
	if (strcmp(name, "plugin") == 0 || strcmp(name, "args") == 0)
		return fail(p, p->line, "'%s' belongs in a [route PATH] section", name);
	if (strcmp(name, "tls") == 0)
		return fail(p, p->line, "'tls' belongs in a [listen HOST:PORT] section");
	if (strcmp(name, "tls-cert") == 0 || strcmp(name, "tls-key") == 0)
		return file_tls(p, server_certs(p->c), name, value);
	if (rwsd_config_set(p->c, name, value, why, sizeof(why)) < 0) {
		if (strncmp(why, "unknown", 7) == 0)
			return fail(p, p->line, "%s", why);
		return fail(p, p->line, "%s: %s", name, why);
	}
	return 0;
}

int rwsd_config_load(struct rwsd_config *c, const char *file, char *err, size_t errlen)
{
	struct parser p = { .c = c, .file = file, .err = err, .errlen = errlen };
	enum rwsd_source outer = c->source;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int e = 0;

	if (!(f = fopen(file, "r"))) {
		e = errno;
		snprintf(err, errlen, "%s: %s", file, strerror(e));
		return -e;
	}
	if (!(p.dir = file_dir(file))) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ssize_t n;
	c->source = RWSD_SRC_FILE;
	while ((n = getline(&line, &cap, f)) >= 0) {
		p.line++;
		if (strlen(line) != (size_t)n) {
			e = fail(&p, p.line, "a NUL byte: this is not a text file");
			break;
		}
		if ((e = parse_line(&p, line)) < 0)
			break;
	}
	if (e == 0 && ferror(f)) {
		e = -EIO;
		snprintf(err, errlen, "%s: %s", file, strerror(EIO));
	}
	if (e == 0)
		e = end_section(&p);
	c->source = outer;
	free(line);
	free(p.dir);
	fclose(f);
	return e;
}
