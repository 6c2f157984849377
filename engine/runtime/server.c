/*
 * server: options, routes, starting and stopping the reactors.
 *
 * rws_server_start() starts one reactor thread per core (or as asked); each
 * sets up its own ring and listener and reports back, and the first failure
 * (io_uring unavailable, address in use) stops the others and is returned
 * with its one-line message. Routes are fixed before the start, so the
 * reactors read them without locks.
 */
#include "runtime/runtime.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void rws_server_options_default(struct rws_server_options *o)
{
	memset(o, 0, sizeof(*o));
	o->struct_size = sizeof(*o);
	o->host = "127.0.0.1";
	o->port = 8080;
	o->threads = 0;
	o->max_payload = RWS_MAX_PAYLOAD_DEFAULT;
	o->max_connections = 0;
	o->handshake_timeout_ms = 10000;
	o->close_timeout_ms = RWS_CLOSE_TIMEOUT_DEFAULT_MS;
	o->max_buffered = 1024 * 1024;
	o->backpressure = RWS_BP_CLOSE;
	o->trusted_proxies = NULL;
	o->auto_pong = 1;
	o->recv_buffers = 256;
	o->recv_buffer_size = 64 * 1024;
	o->send_zc_min = 0;
	o->deflate = 0;
	o->deflate_threshold = 1024;
	o->deflate_level = 1;
	o->deflate_client_context = 0;
	o->deflate_server_max_window_bits = 0;
	o->deflate_client_max_window_bits = 0;
	o->deflate_concurrency = 10;
	o->deflate_inline_max = RWS_DEFLATE_INLINE_MAX_DEFAULT;
	o->ping_interval_ms = 0;
	o->pong_timeout_ms = 0;
	o->listen = 1;
}

/* Checks d and turns it into what the runtime uses. */
static int deflate_settings(const struct rws_deflate_options *d, struct route_deflate *out,
			    char *errbuf, size_t errlen)
{
	if (d->level < 1 || d->level > 12) {
		snprintf(errbuf, errlen, "deflate level must be 1 to 12 (%d)", d->level);
		return -EINVAL;
	}
	int sw = d->server_max_window_bits, cw = d->client_max_window_bits;
	if ((sw && (sw < 8 || sw > 15)) || (cw && (cw < 8 || cw > 15))) {
		snprintf(errbuf, errlen, "deflate window bits must be 8 to 15 (%d, %d)", sw, cw);
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->enabled = d->enabled != 0;
	out->level = d->level;
	out->threshold = d->threshold;
	rws_pmd_config_default(&out->cfg);
	out->cfg.client_no_context_takeover = (uint8_t)!d->client_context;
	out->cfg.server_max_window_bits = (uint8_t)sw;
	out->cfg.client_max_window_bits = (uint8_t)cw;
	return 0;
}

static void deflate_from_options(const struct rws_server_options *o, struct rws_deflate_options *d)
{
	memset(d, 0, sizeof(*d));
	d->struct_size = sizeof(*d);
	d->enabled = o->deflate;
	d->threshold = o->deflate_threshold;
	d->level = o->deflate_level;
	d->client_context = o->deflate_client_context;
	d->server_max_window_bits = o->deflate_server_max_window_bits;
	d->client_max_window_bits = o->deflate_client_max_window_bits;
}

void rws_server_deflate_defaults(const struct rws_server *s, struct rws_deflate_options *d)
{
	deflate_from_options(&s->o, d);
}

int rws_server_route_deflate(struct rws_server *s, const char *path,
			     const struct rws_deflate_options *d)
{
	if (!s || !path || !d || s->started)
		return -EINVAL;
	struct rws_deflate_options full;
	deflate_from_options(&s->o, &full);
	size_t n = d->struct_size && d->struct_size < sizeof(full) ? d->struct_size : sizeof(full);
	memcpy(&full, d, n);
	for (struct route *r = s->routes; r; r = r->next) {
		if (strcmp(r->path, path) != 0)
			continue;
		char err[8];
		return deflate_settings(&full, &r->dfl, err, sizeof(err));
	}
	return -ENOENT;
}

static int parse_trusted(struct rws_server *s, const char *list, char *errbuf, size_t errlen)
{
	if (!list)
		return 0;
	const char *p = list;
	while (*p) {
		while (*p == ',' || *p == ' ')
			p++;
		if (!*p)
			break;
		char one[64];
		size_t n = strcspn(p, ", ");
		if (n >= sizeof(one) || s->ntrusted >= (int)(sizeof(s->trusted) / sizeof(s->trusted[0]))) {
			snprintf(errbuf, errlen, "trusted proxy list too long");
			return -EINVAL;
		}
		memcpy(one, p, n);
		one[n] = 0;
		struct sockaddr_storage *ss = &s->trusted[s->ntrusted];
		memset(ss, 0, sizeof(*ss));
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET, one, &in->sin_addr) == 1) {
			in->sin_family = AF_INET;
		} else if (inet_pton(AF_INET6, one, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
		} else {
			snprintf(errbuf, errlen, "trusted proxy '%s' is not an IP address", one);
			return -EINVAL;
		}
		s->ntrusted++;
		p += n;
	}
	return 0;
}

int rws_server_trusted(const struct rws_server *s, const struct sockaddr *sa)
{
	for (int i = 0; i < s->ntrusted; i++) {
		const struct sockaddr *t = (const struct sockaddr *)&s->trusted[i];
		if (t->sa_family != sa->sa_family)
			continue;
		if (sa->sa_family == AF_INET &&
		    ((const struct sockaddr_in *)t)->sin_addr.s_addr ==
			    ((const struct sockaddr_in *)sa)->sin_addr.s_addr)
			return 1;
		if (sa->sa_family == AF_INET6 &&
		    memcmp(&((const struct sockaddr_in6 *)t)->sin6_addr,
			   &((const struct sockaddr_in6 *)sa)->sin6_addr, 16) == 0)
			return 1;
	}
	return 0;
}

struct rws_server *rws_server_create(const struct rws_server_options *o, int *err, char *errbuf,
				     size_t errlen)
{
	char dummy[8];
	if (!errbuf) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	struct rws_server *s = calloc(1, sizeof(*s));
	if (!s) {
		*err = -ENOMEM;
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	rws_server_options_default(&s->o);
	/* a caller built against an older, shorter struct keeps our defaults
	 * for the fields it does not know */
	size_t n = o->struct_size < sizeof(s->o) ? o->struct_size : sizeof(s->o);
	memcpy(&s->o, o, n);
	s->o.struct_size = sizeof(s->o);
	if (!s->o.host)
		s->o.host = "127.0.0.1";
	s->addrs = calloc(1, sizeof(*s->addrs));
	if (!s->addrs || strlen(s->o.host) >= sizeof(s->addrs[0].host)) {
		*err = s->addrs ? -EINVAL : -ENOMEM;
		snprintf(errbuf, errlen, "%s", s->addrs ? "listen host too long" : "out of memory");
		free(s->addrs);
		free(s);
		return NULL;
	}
	strcpy(s->addrs[0].host, s->o.host);
	s->addrs[0].port = s->o.port;
	s->naddrs = 1;
	s->o.host = s->addrs[0].host;	/* the caller's string need not outlive the call */
	if (s->o.threads <= 0) {
		long nc = sysconf(_SC_NPROCESSORS_ONLN);
		s->o.threads = nc > 0 ? (int)nc : 1;
	}
	if (s->o.threads > 256) {
		*err = -EINVAL;
		snprintf(errbuf, errlen, "too many threads (%d)", s->o.threads);
		free(s->addrs);
		free(s);
		return NULL;
	}
	uint32_t nb = s->o.recv_buffers, bs = s->o.recv_buffer_size;
	if (!nb || nb > 32768 || (nb & (nb - 1)) || bs < 256 || bs > (1u << 24)) {
		*err = -EINVAL;
		snprintf(errbuf, errlen,
			 "recv_buffers must be a power of two up to 32768 and recv_buffer_size "
			 "256 bytes to 16 MiB");
		free(s->addrs);
		free(s);
		return NULL;
	}
	struct rws_deflate_options d;
	struct route_deflate check;
	deflate_from_options(&s->o, &d);
	if (s->o.deflate_concurrency < 1 || s->o.deflate_concurrency > 256 ||
	    (d.enabled && deflate_settings(&d, &check, errbuf, errlen) < 0)) {
		*err = -EINVAL;
		if (s->o.deflate_concurrency < 1 || s->o.deflate_concurrency > 256)
			snprintf(errbuf, errlen, "deflate_concurrency must be 1 to 256 (%d)",
				 s->o.deflate_concurrency);
		free(s->addrs);
		free(s);
		return NULL;
	}
	rws_session_config_default(&s->scfg, RWS_ROLE_SERVER);
	s->scfg.max_payload = s->o.max_payload;
	s->scfg.close_timeout_ms = s->o.close_timeout_ms;
	s->scfg.auto_pong = (uint8_t)(s->o.auto_pong != 0);
	int rc = parse_trusted(s, s->o.trusted_proxies, errbuf, errlen);
	if (rc < 0) {
		*err = rc;
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->start_lock, NULL);
	pthread_cond_init(&s->start_cond, NULL);
	pthread_mutex_init(&s->tls_lock, NULL);
	*err = 0;
	return s;
}

int rws_server_route(struct rws_server *s, const char *path, const struct rws_handler *h)
{
	if (s->started || !path || !h || (path[0] != '/' && strcmp(path, "*") != 0))
		return -EINVAL;
	for (struct route *r = s->routes; r; r = r->next)
		if (strcmp(r->path, path) == 0)
			return -EEXIST;
	struct route *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->path = strdup(path);
	if (!r->path) {
		free(r);
		return -ENOMEM;
	}
	size_t n = h->struct_size && h->struct_size < sizeof(r->h) ? h->struct_size : sizeof(r->h);
	memcpy(&r->h, h, n);
	r->max_buffered = s->o.max_buffered;
	r->backpressure = s->o.backpressure;
	r->ping_ms = s->o.ping_interval_ms;
	r->pong_ms = s->o.pong_timeout_ms && s->o.pong_timeout_ms < r->ping_ms ? s->o.pong_timeout_ms
									       : r->ping_ms;
	struct rws_deflate_options d;
	deflate_from_options(&s->o, &d);
	if (!d.enabled)
		d.level = d.level >= 1 && d.level <= 12 ? d.level : 1;	/* unused */
	char err[8];
	if (deflate_settings(&d, &r->dfl, err, sizeof(err)) < 0) {
		/* off, with settings that would not pass: keep it off */
		memset(&r->dfl, 0, sizeof(r->dfl));
		r->dfl.level = 1;
		rws_pmd_config_default(&r->dfl.cfg);
	}
	/* append: the order routes were given is the order they are tried */
	struct route **tail = &s->routes;
	while (*tail)
		tail = &(*tail)->next;
	*tail = r;
	r->idx = s->nroutes++;
	return 0;
}

const struct route *rws_server_find_route(const struct rws_server *s, const char *path, size_t len)
{
	const struct route *any = NULL;
	for (const struct route *r = s->routes; r; r = r->next) {
		if (r->path[0] == '*')
			any = r;
		else if (strlen(r->path) == len && memcmp(r->path, path, len) == 0)
			return r;
	}
	return any;
}

static void join_all(struct rws_server *s, int n)
{
	for (int i = 0; i < n; i++)
		pthread_join(s->reactors[i].thread, NULL);
}

int rws_server_start(struct rws_server *s, char *errbuf, size_t errlen)
{
	char dummy[8];
	if (!errbuf) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	if (s->started || s->reactors)
		return -EALREADY;
	if (!s->routes && s->o.listen) {
		snprintf(errbuf, errlen, "no routes: nothing to serve");
		return -EINVAL;
	}
	int n = s->o.threads;
	s->reactors = calloc((size_t)n, sizeof(*s->reactors));
	if (!s->reactors)
		return -ENOMEM;
	s->nreactors = n;
	/* every reactor is set up before any starts, so that destroy can
	 * free them all whatever happened */
	for (int i = 0; i < n; i++) {
		struct reactor *r = &s->reactors[i];
		r->srv = s;
		r->idx = i;
		r->efd = -1;
		pthread_mutex_init(&r->inbox_lock, NULL);
		r->open_by_route = calloc(s->nroutes ? (size_t)s->nroutes : 1, sizeof(*r->open_by_route));
		r->hs_timers.ms = s->o.handshake_timeout_ms;
		r->close_timers.ms = s->o.close_timeout_ms;
		r->linger_timers.ms = s->o.close_timeout_ms;
		if (!r->open_by_route)
			return -ENOMEM;
	}
	int started = 0, rc = 0;
	/* the deflate workers, if any route compresses */
	for (struct route *rt = s->routes; rt; rt = rt->next)
		if (rt->dfl.enabled) {
			rc = rws_zpool_start(s, errbuf, errlen);
			if (rc < 0)
				return rc;
			break;
		}
	for (int i = 0; i < n; i++) {
		struct reactor *r = &s->reactors[i];
		/* one reactor at a time: the first binds the port the others share */
		rc = pthread_create(&r->thread, NULL, rws_reactor_main, r);
		if (rc) {
			rc = -rc;
			snprintf(errbuf, errlen, "cannot start reactor thread: %s", strerror(-rc));
			break;
		}
		started++;
		pthread_mutex_lock(&s->start_lock);
		while (s->nready < started)
			pthread_cond_wait(&s->start_cond, &s->start_lock);
		pthread_mutex_unlock(&s->start_lock);
		if (r->start_err) {
			rc = r->start_err;
			snprintf(errbuf, errlen, "%s", r->errbuf[0] ? r->errbuf : strerror(-rc));
			break;
		}
	}
	if (rc) {
		for (int i = 0; i < started; i++)
			if (!s->reactors[i].start_err) {
				struct job *j = calloc(1, sizeof(*j));
				if (j) {
					j->kind = JOB_STOP;
					rws_reactor_post(&s->reactors[i], j);
				}
			}
		join_all(s, started);
		rws_zpool_stop(s);
		return rc;
	}
	s->started = 1;
	return 0;
}

int rws_server_adopt(struct rws_server *s, int fd, const void *head, size_t len)
{
	if (!s->started || fd < 0)
		return -EINVAL;
	if (len > RWS_HTTP_MAX_HEAD_DEFAULT)
		return -E2BIG;
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->b = rws_sbuf_new(len ? len : 1);
	if (!j->b) {
		free(j);
		return -ENOMEM;
	}
	if (len)
		memcpy(j->b->data, head, len);
	j->b->len = len;
	j->kind = JOB_ADOPT;
	j->fd = fd;
	unsigned i = atomic_fetch_add(&s->next_adopt, 1) % (unsigned)s->nreactors;
	rws_reactor_post(&s->reactors[i], j);
	return 0;
}

int rws_server_stats(const struct rws_server *s, struct rws_reactor_stats *out, int max)
{
	for (int i = 0; i < s->nreactors && i < max; i++) {
		struct reactor *r = &s->reactors[i];
		out[i].accepted = atomic_load_explicit(&r->n_accepted, memory_order_relaxed);
		out[i].open = atomic_load_explicit(&r->nconns, memory_order_relaxed);
		out[i].enobufs = atomic_load_explicit(&r->n_enobufs, memory_order_relaxed);
		out[i].zc_sends = atomic_load_explicit(&r->n_zc, memory_order_relaxed);
	}
	return s->nreactors;
}

int rws_server_listen(struct rws_server *s, const char *host, uint16_t port)
{
	if (s->started || !host || strlen(host) >= sizeof(s->addrs[0].host))
		return -EINVAL;
	struct laddr *a = realloc(s->addrs, (size_t)(s->naddrs + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	s->addrs = a;
	memset(&a[s->naddrs], 0, sizeof(*a));
	strcpy(a[s->naddrs].host, host);
	a[s->naddrs].port = port;
	return s->naddrs++;
}

uint16_t rws_server_port(const struct rws_server *s)
{
	return s->addrs[0].bound;
}

uint16_t rws_server_port_at(const struct rws_server *s, int i)
{
	return i >= 0 && i < s->naddrs ? s->addrs[i].bound : 0;
}

void rws_server_shutdown(struct rws_server *s)
{
	if (!s->started)
		return;
	for (int i = 0; i < s->nreactors; i++) {
		struct job *j = calloc(1, sizeof(*j));
		if (!j)
			continue;
		j->kind = JOB_STOP;
		rws_reactor_post(&s->reactors[i], j);
	}
	join_all(s, s->nreactors);
	/* the reactors are gone: results still coming are freed with their inboxes */
	rws_zpool_stop(s);
	s->started = 0;
}

void rws_server_destroy(struct rws_server *s)
{
	if (!s)
		return;
	if (s->started)
		rws_server_shutdown(s);
	/* a redirect's lookup still running posts to a reactor's inbox */
	while (atomic_load(&s->resolving) > 0)
		usleep(1000);
	for (int i = 0; i < s->nreactors; i++) {
		struct reactor *r = &s->reactors[i];
		while (r->slabs) {
			struct conn_slab *sl = r->slabs;
			r->slabs = sl->next;
			munmap(sl, CONN_SLAB);
		}
		r->free_conns = NULL;
		struct job *j = r->inbox_head;
		while (j) {
			struct job *next = j->next;
			if (j->kind == JOB_ADOPT)
				close(j->fd);
			rws_sbuf_put(j->b);
			if (j->kind == JOB_CONNECT)
				rws_client_forget(j->arg);
			if (j->kind == JOB_ZDONE)
				rws_zjob_free((struct zjob *)j);
			else
				free(j);
			j = next;
		}
		if (r->efd >= 0)
			close(r->efd);
		free(r->open_by_route);
		pthread_mutex_destroy(&r->inbox_lock);
	}
	free(s->reactors);
	while (s->routes) {
		struct route *r = s->routes;
		s->routes = r->next;
		free(r->path);
		free(r);
	}
	rws_server_tls_free(s);
	pthread_mutex_destroy(&s->start_lock);
	pthread_cond_destroy(&s->start_cond);
	pthread_mutex_destroy(&s->tls_lock);
	free(s->addrs);
	free(s);
}

void rws_log(const struct rws_server *s, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (s->o.log)
		s->o.log(s->o.log_ctx, level, line);
	else
		fprintf(stderr, "ringws: %s%s\n",
			level == RWS_LOG_ERROR ? "error: " : level == RWS_LOG_WARNING ? "warning: " : "",
			line);
}
