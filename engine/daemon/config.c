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
 *
 * Blank lines are ignored, and blanks around names and values. A '#' after
 * a blank starts a comment that runs to the end of the line. A value in
 * double quotes is taken as is between them (no escapes), so it may hold
 * " #" or begin or end with blanks. Settings: listen,
 * threads, max-payload, max-connections, handshake-timeout, close-timeout,
 * max-buffered, backpressure, trusted-proxy, log-level, recv-buffers,
 * recv-buffer-size, send-zc-min (the command line's
 * long options without "--"). A later line overrides an earlier one,
 * except listen: each listen line adds an address (the same one twice is
 * an error), and the command line's --listen list replaces the file's.
 * Any error names the file and line, and ringwsd exits with status 2.
 *
 * The command line's --route replaces the file's route for the same path
 * whole (plugin and args); --arg sets the args of any route.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

void rwsd_config_free(struct rwsd_config *c)
{
	for (size_t i = 0; i < c->nroutes; i++) {
		free(c->routes[i].path);
		free(c->routes[i].plugin);
		free(c->routes[i].args);
		free(c->routes[i].origin);
	}
	free(c->routes);
	free(c->listens);
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
 * replaces. */
static int add_listen(struct rwsd_config *c, const char *host, uint16_t port, const char *v,
		      char *err, size_t errlen)
{
	struct rwsd_listen *l;

	if (c->listen_source != c->source) {
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

enum setting_kind { S_LISTEN, S_THREADS, S_PAYLOAD, S_CONNS, S_HS_TIMEOUT, S_CLOSE_TIMEOUT,
		    S_BUFFERED, S_BACKPRESSURE, S_TRUSTED, S_LOG_LEVEL, S_RECV_BUFFERS,
		    S_RECV_BUFFER_SIZE, S_SEND_ZC_MIN, S_DEFLATE, S_DEFLATE_THRESHOLD, S_DEFLATE_LEVEL,
		    S_DEFLATE_CLIENT_CONTEXT };

static const struct setting {
	const char *name;
	enum setting_kind kind;
} settings[] = {
	{ "listen", S_LISTEN },
	{ "threads", S_THREADS },
	{ "max-payload", S_PAYLOAD },
	{ "max-connections", S_CONNS },
	{ "handshake-timeout", S_HS_TIMEOUT },
	{ "close-timeout", S_CLOSE_TIMEOUT },
	{ "max-buffered", S_BUFFERED },
	{ "backpressure", S_BACKPRESSURE },
	{ "trusted-proxy", S_TRUSTED },
	{ "log-level", S_LOG_LEVEL },
	{ "recv-buffers", S_RECV_BUFFERS },
	{ "recv-buffer-size", S_RECV_BUFFER_SIZE },
	{ "send-zc-min", S_SEND_ZC_MIN },
	{ "deflate", S_DEFLATE },
	{ "deflate-threshold", S_DEFLATE_THRESHOLD },
	{ "deflate-level", S_DEFLATE_LEVEL },
	{ "deflate-client-context", S_DEFLATE_CLIENT_CONTEXT },
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
		if ((r = parse_number(v, UINT32_MAX, 0, &n, err, errlen)) < 0)
			return r;
		if (st->kind == S_HS_TIMEOUT)
			c->opts.handshake_timeout_ms = (uint32_t)n;
		else
			c->opts.close_timeout_ms = (uint32_t)n;
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
	case S_DEFLATE:
		return parse_bool(v, &c->opts.deflate, err, errlen);
	case S_DEFLATE_CLIENT_CONTEXT:
		return parse_bool(v, &c->opts.deflate_client_context, err, errlen);
	case S_DEFLATE_THRESHOLD:
		if ((r = parse_number(v, UINT32_MAX, 1, &n, err, errlen)) < 0)
			return r;
		c->opts.deflate_threshold = (uint32_t)n;
		return 0;
	case S_DEFLATE_LEVEL:
		if ((r = parse_number(v, 12, 0, &n, err, errlen)) < 0)
			return r;
		if (n < 1) {
			snprintf(err, errlen, "'%s' is not a level from 1 to 12", v);
			return -EINVAL;
		}
		c->opts.deflate_level = (int)n;
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

static int end_section(struct parser *p)
{
	if (p->route && !p->route->plugin)
		return fail(p, p->route_line, "[route %s] has no 'plugin = FILE' line",
			    p->route->path);
	p->route = NULL;
	return 0;
}

static int section(struct parser *p, char *s)
{
	char *end = strchr(s, ']'), *path, *origin;
	struct rwsd_route *r;
	int e;

	if (!end || !is_comment(end + 1))
		return fail(p, p->line, "a section line is [route PATH]");
	*end = '\0';
	s = trim(s + 1);
	if (strncmp(s, "route", 5) != 0 || (s[5] != ' ' && s[5] != '\t'))
		return fail(p, p->line, "unknown section [%s]: the only section is [route PATH]", s);
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
	return fail(p, p->line, "'%s' is not a route setting: a [route] section has 'plugin' "
		    "and 'args'", name);
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
		return fail(p, p->line, "expected 'name = value', '[route PATH]' or a # comment");
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
	if (strcmp(name, "plugin") == 0 || strcmp(name, "args") == 0)
		return fail(p, p->line, "'%s' belongs in a [route PATH] section", name);
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
