/*
 * api: the connection calls of include/ringws.h.
 *
 * On the connection's own reactor thread a call acts at once; from any other
 * thread it copies its arguments into a job and posts it to the owner's
 * inbox, where the connection's generation tells whether it is still the
 * same connection. A broadcast builds its frame once (server frames are
 * unmasked, so every recipient gets the same bytes) and posts one job per
 * reactor, each queueing the shared buffer to its own connections.
 */
#include "runtime/runtime.h"
#include "runtime/tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int on_owner(const struct rws_conn *c)
{
	return rws_reactor_current() == conn_reactor(c);
}

static int post(struct rws_conn *c, int kind, unsigned flags, const void *data, size_t len,
		int with_data)
{
	/* the inbox is bounded too: a thread that sends faster than the
	 * owner can run its jobs is refused, not buffered without limit */
	struct reactor *r = conn_reactor(c);
	if (atomic_load_explicit(&r->inbox_bytes, memory_order_relaxed) + len > RWS_INBOX_MAX)
		return -ENOBUFS;
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	if (with_data) {
		j->b = rws_sbuf_new(len + 1);
		if (!j->b) {
			free(j);
			return -ENOMEM;
		}
		if (len)
			memcpy(j->b->data, data, len);
		j->b->data[len] = 0;
		j->b->len = len;
	}
	atomic_fetch_add_explicit(&r->inbox_bytes, len, memory_order_relaxed);
	j->kind = (uint8_t)kind;
	j->c = c;
	j->gen = c->gen;
	j->flags = flags;
	rws_reactor_post(r, j);
	return 0;
}

int rws_conn_send(struct rws_conn *c, const void *data, size_t len, unsigned flags)
{
	if (on_owner(c))
		return rws_conn_send_local(c, data, len, flags);
	if (flags & ~(RWS_SEND_BINARY | RWS_SEND_MORE | RWS_SEND_NO_COMPRESS))
		return -EINVAL;
	return post(c, JOB_SEND, flags, data, len, 1);
}

int rws_conn_ping(struct rws_conn *c, const void *data, size_t len)
{
	if (len > RWS_CONTROL_MAX)
		return -EINVAL;
	if (on_owner(c))
		return rws_conn_control_local(c, RWS_OP_PING, data, len);
	return post(c, JOB_PING, 0, data, len, 1);
}

int rws_conn_pong(struct rws_conn *c, const void *data, size_t len)
{
	if (len > RWS_CONTROL_MAX)
		return -EINVAL;
	if (on_owner(c))
		return rws_conn_control_local(c, RWS_OP_PONG, data, len);
	return post(c, JOB_PONG, 0, data, len, 1);
}

int rws_conn_close(struct rws_conn *c, int code, const char *reason)
{
	if (on_owner(c))
		return rws_conn_close_local(c, code, reason);
	if (code != 0 && !rws_close_code_valid((unsigned)code))
		return -EINVAL;
	return post(c, JOB_CLOSE, (unsigned)code, reason, reason ? strlen(reason) : 0, reason != NULL);
}

void rws_conn_terminate(struct rws_conn *c)
{
	if (on_owner(c))
		rws_conn_teardown(c, RWS_CLOSE_ABNORMAL, NULL, 0);
}

size_t rws_conn_buffered(const struct rws_conn *c)
{
	return rws_conn_queued(c);
}

void rws_conn_pause(struct rws_conn *c)
{
	if (!on_owner(c) || (c->flags & CF_PAUSED))
		return;
	c->flags |= CF_PAUSED;
	rws_conn_stop_recv(c);
}

void rws_conn_resume(struct rws_conn *c)
{
	if (!on_owner(c) || !(c->flags & CF_PAUSED))
		return;
	c->flags &= (uint16_t)~CF_PAUSED;
	rws_conn_arm_recv(c);
}

void *rws_conn_user(const struct rws_conn *c)
{
	return c->user;
}

void rws_conn_set_user(struct rws_conn *c, void *user)
{
	c->user = user;
}

/* The accessors below hand out pointers into the connection's conn_ext,
 * which then stays for the connection's life (CF_EXT_KEEP). They run on the
 * owner's thread, as the handler callbacks do. */
const struct sockaddr *rws_conn_remote(const struct rws_conn *cc, socklen_t *len)
{
	struct rws_conn *c = (struct rws_conn *)cc;
	const struct sockaddr *sa = rws_conn_peer(c, len);
	if (sa)
		c->flags |= CF_EXT_KEEP;
	return sa;
}

/* meta is "path\0protocol\0client-ip\0" when any is not the default */
static const char *meta_field(const struct rws_conn *c, int i)
{
	const char *p = c->x ? c->x->meta : NULL;
	if (!p)
		return NULL;
	while (i-- > 0)
		p += strlen(p) + 1;
	return p;
}

const char *rws_conn_path(const struct rws_conn *c)
{
	const char *p = meta_field(c, 0);
	return p ? p : c->route ? c->route->path : "";
}

const char *rws_conn_protocol(const struct rws_conn *c)
{
	const char *p = meta_field(c, 1);
	return p ? p : "";
}

const char *rws_conn_tls_version(const struct rws_conn *c)
{
	return c->x && c->x->tls ? rws_tls_version(c->x->tls) : NULL;
}

const char *rws_conn_tls_cipher(const struct rws_conn *c)
{
	return c->x && c->x->tls ? rws_tls_cipher(c->x->tls) : NULL;
}

const char *rws_conn_tls_sni(const struct rws_conn *c)
{
	return c->x && c->x->tls ? rws_tls_sni(c->x->tls) : NULL;
}

const char *rws_conn_client_ip(const struct rws_conn *cc)
{
	struct rws_conn *c = (struct rws_conn *)cc;
	const char *p = meta_field(c, 2);
	if (p && *p)	/* forwarded by a trusted proxy */
		return p;
	const struct sockaddr *sa = rws_conn_peer(c, NULL);
	if (!sa)
		return "";
	c->flags |= CF_EXT_KEEP;
	if (!c->x->ip[0])
		rws_addr_text(sa, c->x->ip, sizeof(c->x->ip));
	return c->x->ip;
}

struct rws_server *rws_conn_server(const struct rws_conn *c)
{
	return conn_reactor(c)->srv;
}

/* A whole server frame (unmasked, so the same bytes for every recipient). */
static struct sbuf *frame_of(unsigned op, unsigned rsv, const void *data, size_t len)
{
	uint8_t hdr[RWS_FRAME_HDR_MAX];
	size_t hl = rws_frame_encode(hdr, 1, rsv, op, len, NULL);
	struct sbuf *b = rws_sbuf_new(hl + len);
	if (!b)
		return NULL;
	memcpy(b->data, hdr, hl);
	if (len)
		memcpy(b->data + hl, data, len);
	b->len = hl + len;
	return b;
}

/* The calling thread's compressors for broadcasts (any thread may
 * broadcast), one per level used; freed when the thread exits. */
static pthread_key_t bcast_key;
static pthread_once_t bcast_once = PTHREAD_ONCE_INIT;

static void bcast_free(void *p)
{
	struct rws_pmd_compressor **z = p;
	for (int i = 0; i < 13; i++)
		rws_pmd_compressor_free(z[i]);
	free(z);
}

static void bcast_key_make(void)
{
	pthread_key_create(&bcast_key, bcast_free);
}

/* The compressed frame of a broadcast, for the recipients that agreed on
 * permessage-deflate: built once, like the plain one (no context takeover
 * on our side makes every compression of a message the same bytes). NULL
 * when compression is off, the message is below the threshold, does not
 * shrink, or memory is short: they all get the plain frame then. */
static struct sbuf *compressed_frame(const struct route *rt, unsigned op, const void *data,
				     size_t len)
{
	const struct route_deflate *d = &rt->dfl;
	if (!d->enabled || len < d->threshold || len == 0)
		return NULL;
	pthread_once(&bcast_once, bcast_key_make);
	struct rws_pmd_compressor **zs = pthread_getspecific(bcast_key);
	if (!zs) {
		zs = calloc(13, sizeof(*zs));
		if (!zs || pthread_setspecific(bcast_key, zs) != 0) {
			free(zs);
			return NULL;
		}
	}
	struct rws_pmd_compressor **z = &zs[d->level];
	if (!*z && !(*z = rws_pmd_compressor_new(d->level)))
		return NULL;
	uint8_t *out = malloc(len);
	if (!out)
		return NULL;
	long n = rws_pmd_compress(*z, data, len, out, len);
	struct sbuf *b = n > 0 && (size_t)n < len ? frame_of(op, RWS_RSV1, out, (size_t)n) : NULL;
	free(out);
	return b;
}

int rws_broadcast(struct rws_server *s, const char *path, const void *data, size_t len,
		  unsigned flags, const struct rws_conn *except)
{
	if (flags & ~(RWS_SEND_BINARY | RWS_SEND_NO_COMPRESS))
		return -EINVAL;
	const struct route *rt = rws_server_find_route(s, path, strlen(path));
	if (!rt)
		return -ENOENT;
	unsigned op = (flags & RWS_SEND_BINARY) ? RWS_OP_BINARY : RWS_OP_TEXT;
	struct sbuf *b = frame_of(op, 0, data, len);
	if (!b)
		return -ENOMEM;
	struct sbuf *bz = (flags & RWS_SEND_NO_COMPRESS) ? NULL : compressed_frame(rt, op, data, len);
	/* a shared buffer is never appended to: refs > 1 while queued */
	for (int i = 0; i < s->nreactors; i++) {
		struct job *j = calloc(1, sizeof(*j));
		if (!j)
			break;
		j->kind = JOB_BROADCAST;
		j->route = rt;
		j->except = except;
		atomic_fetch_add(&b->refs, 1);
		j->b = b;
		if (bz) {
			atomic_fetch_add(&bz->refs, 1);
			j->bz = bz;
		}
		rws_reactor_post(&s->reactors[i], j);
	}
	rws_sbuf_put(b);
	rws_sbuf_put(bz);
	return 0;
}

int rws_foreach(struct rws_server *s, const char *path, void (*fn)(struct rws_conn *c, void *arg),
		void *arg)
{
	const struct route *rt = rws_server_find_route(s, path, strlen(path));
	if (!rt)
		return -ENOENT;
	for (int i = 0; i < s->nreactors; i++) {
		struct job *j = calloc(1, sizeof(*j));
		if (!j)
			return -ENOMEM;
		j->kind = JOB_FOREACH;
		j->route = rt;
		j->fn = fn;
		j->arg = arg;
		rws_reactor_post(&s->reactors[i], j);
	}
	return 0;
}

const char *rws_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case -EPIPE: return "the connection is closing";
	case -ENOBUFS: return "the send queue is over its bound";
	case -EINVAL: return "invalid argument";
	case -ENOMEM: return "out of memory";
	case -ENOENT: return "no such route";
	case -EEXIST: return "the path is already routed";
	default: return "error";
	}
}
