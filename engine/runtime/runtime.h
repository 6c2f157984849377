/*
 * runtime: the types the runtime's files share — the server, its routes,
 * the reactors and their connections — and the functions they call on each
 * other. Nothing here is public: include/ringws.h declares the handles
 * opaque.
 *
 * Ownership: a connection belongs to one reactor for its whole life, and
 * only that reactor's thread touches it; other threads post jobs to the
 * reactor's inbox (reactor.c). Connection objects come from a per-reactor
 * pool and are never returned to the allocator while the server lives, so a
 * job naming a connection that has gone meanwhile finds a stale generation,
 * not freed memory.
 */
#ifndef RWS_RUNTIME_H
#define RWS_RUNTIME_H

#include <liburing.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "ringws.h"
#include "protocol/handshake.h"
#include "protocol/pmd.h"
#include "protocol/pmd_negotiate.h"
#include "protocol/session.h"

struct reactor;
struct zpool;
struct rws_tls;
struct rws_tls_ctx;

/* A send buffer: refcounted so a broadcast frame is shared by every
 * connection it goes to. Owned by the queues that reference it; freed at
 * refs 0. Bytes past len up to cap may be appended while refs == 1. */
struct sbuf {
	atomic_uint refs;
	int32_t slot;		/* index in the owner's registered pool, SBUF_HEAP or SBUF_POOLED */
	struct reactor *owner;	/* for a pool slot: whose pool */
	size_t len, cap;
	uint8_t data[];
};

#define SBUF_HEAP (-1)		/* malloc'd; freed at refs 0 */
#define SBUF_POOLED (-2)	/* from the owner's pool of SBUF_SMALL buffers; never shared */
#define SBUF_POOLED_BIG (-3)	/* from the owner's pool of SBUF_BIG buffers; never shared */
#define SBUF_SMALL (4096u - sizeof(struct sbuf))
#define SBUF_BIG ((128u << 10) - sizeof(struct sbuf))

/* A zero-copy send in flight: its result CQE and its NOTIF CQE both carry
 * this as user_data; the buffer stays referenced until the NOTIF. */
struct zc_ticket {
	struct rws_conn *c;
	struct sbuf *b;
};

/* One entry of a connection's ordered send queue. */
struct qent {
	struct qent *next;
	struct sbuf *b;		/* NULL: a message the pool is compressing (zpool.c) */
	size_t off;		/* bytes of b already sent */
};

/* A route's permessage-deflate settings: the server's options unless
 * rws_server_route_deflate() gave it its own. */
struct route_deflate {
	int enabled;
	int level;		/* 1..12 */
	uint32_t threshold;
	struct rws_pmd_config cfg;	/* what we agree to */
};

struct route {
	char *path;		/* "*" matches any path; a client's: its request path */
	int idx;		/* position among the server's routes; -1: a client connection's own */
	struct rws_handler h;
	struct route_deflate dfl;
	uint32_t ping_ms, pong_ms;	/* heartbeat: interval and timeout (<= interval); 0: off */
	size_t max_buffered;		/* the send queue's bound; 0: none */
	int backpressure;		/* enum rws_backpressure */
	struct route *next;
};

enum conn_phase {
	PH_HANDSHAKE = 0,	/* reading the upgrade request */
	PH_CONNECTING,		/* client: the TCP connect is in flight */
	PH_PROXY,		/* client: waiting for the proxy's answer to CONNECT */
	PH_CLIENT_HS,		/* client: waiting for the server's 101 */
	PH_OPEN,		/* WebSocket frames */
	PH_LINGER,		/* our last bytes are queued; then FIN, wait for EOF */
	PH_DEAD,		/* torn down; waiting for operations in flight */
	PH_FREE,		/* back in the reactor's pool */
};

/* Connection flags. */
enum {
	CF_RECV_ARMED = 1u << 0,	/* a multishot recv is in flight */
	CF_SEND_BUSY = 1u << 1,		/* a sendmsg is in flight */
	CF_FLUSH_LISTED = 1u << 2,	/* on the reactor's flush list */
	CF_ALIVE = 1u << 3,		/* heartbeat: bytes came since the last ping */
	CF_PAUSED = 1u << 4,		/* reading paused by the handler */
	CF_OPENED = 1u << 5,		/* on_open ran: on_close is owed */
	CF_CLOSED_CB = 1u << 6,		/* on_close ran */
	CF_OVER_BOUND = 1u << 7,	/* queue went past max_buffered: on_drain owed */
	CF_WR_SHUT = 1u << 8,		/* FIN sent */
	CF_CANCELING = 1u << 9,		/* the multishot recv in flight has been cancelled */
	CF_EXT_KEEP = 1u << 10,		/* an accessor handed out a pointer into the conn_ext */
	CF_PMD = 1u << 11,		/* permessage-deflate agreed */
	CF_PMD_PLAIN = 1u << 12,	/* ... with a window libdeflate cannot keep: we send uncompressed */
	CF_ZIN = 1u << 13,		/* a message is being inflated in the pool: reading holds */
	CF_ZWAIT = 1u << 14,		/* a message waits for room in the pool: reading holds */
	CF_PING_OUT = 1u << 15,		/* heartbeat: pinged, the check is to come */
};

/* A connection's send queue: present while anything is queued or being
 * sent, so an idle connection holds none. */
struct conn_tx {
	struct qent *head, *tail;
	size_t bytes;		/* queued and not yet sent, with zpending */
	size_t zpending;	/* of which messages still in the pool (at their plain size) */
	struct rws_conn *fnext;	/* the reactor's flush list */
	struct sendmem *sm;	/* msghdr+iovec of the sendmsg in flight */
	/* TLS: the queue above holds plaintext; what leaves is ciphertext,
	 * records encrypted from its head into this queue (counted in bytes
	 * too, and in wbytes) */
	struct qent *whead, *wtail;
	size_t wbytes;
};

/* The certificates of a TLS listener as loaded at one time: connections
 * accepted meanwhile hold a reference, so a reload does not pull them
 * from under a handshake. */
struct tls_set {
	atomic_uint refs;
	size_t n;
	struct rws_tls_ctx **ctxs;
	char **names;		/* each certificate's host names, space-separated */
};

void rws_tls_set_put(struct tls_set *t);

/* What a connection needs only some of the time: its timer while it is on
 * one (handshake, close, linger), the handshake bytes gathered across reads,
 * its address, and the path/protocol/client address when they are not the
 * defaults (the route's path, no subprotocol, the peer's own address). An
 * open connection in the common case holds none. */
struct conn_ext {
	struct rws_conn *tprev, *tnext;	/* timer list */
	uint64_t deadline;	/* 0: on no timer */
	char *hs;		/* handshake bytes gathered across reads */
	uint32_t hs_len;
	socklen_t peer_len;	/* 0: not fetched yet */
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} peer;
	char *meta;		/* "path\0protocol\0client-ip\0", or NULL: the defaults */
	struct rws_pmd_window *pmd_window;	/* the client's history, when it keeps context */
	uint8_t *held;		/* bytes received while a message is inflated in the pool */
	uint32_t held_len, held_cap;
	uint32_t zwaiting;	/* its jobs in the reactor's backlog */
	struct zjob *zin;	/* its message being inflated in the pool (it uses pmd_window) */
	struct rws_tls *tls;	/* TLS: the session; its records go through the send queue */
	struct tls_set *tset;	/* a server connection's certificates (a reference) */
	uint8_t tls_shut;	/* close_notify queued */
	char ip[48];		/* the peer's address as text, once asked for */
};

/* 128 bytes: the session's 64 and as little else as an idle open
 * connection needs. The reactor is found from the address (the pool's
 * slabs are aligned and start with their owner). */
struct rws_conn {
	struct rws_session s;	/* the protocol state machine */
	const struct route *route;
	void *user;
	struct conn_tx *tx;	/* NULL when nothing is queued */
	struct conn_ext *x;	/* NULL when not needed */
	struct rws_conn *rprev, *rnext;	/* the reactor's open list of the route; rnext also links the pool */
	int fd;
	uint32_t gen;		/* bumped on reuse: jobs for an old life are dropped */
	uint16_t flags;
	uint8_t phase;
	uint8_t inflight;	/* operations in flight: recv, send, cancel, zero-copy notifications (at most ZC_SLOTS) */
};

/* Connection objects come in slabs of CONN_SLAB bytes, aligned to their
 * size; the first object's place holds the slab's header. */
#define CONN_SLAB (1u << 20)
struct conn_slab {
	struct reactor *r;
	struct conn_slab *next;
};

static inline struct reactor *conn_reactor(const struct rws_conn *c)
{
	return ((const struct conn_slab *)((uintptr_t)c & ~(uintptr_t)(CONN_SLAB - 1)))->r;
}

struct sendmem {
	struct msghdr m;
	struct iovec iov[64];
};

/* A free list of same-sized objects, kept up to max, for the hot path's
 * buffers and queue entries. Owner thread only. */
struct pool {
	void *head;
	unsigned n, max;
	size_t size;
};

static inline void *pool_get(struct pool *p)
{
	void *x = p->head;
	if (!x)
		return malloc(p->size);
	p->head = *(void **)x;
	p->n--;
	return x;
}

static inline void pool_put(struct pool *p, void *x)
{
	if (p->n >= p->max) {
		free(x);
		return;
	}
	*(void **)x = p->head;
	p->head = x;
	p->n++;
}

void rws_pool_drain(struct pool *p);

/* A timer list: connections in deadline order (one duration per list, so
 * appending keeps the order). */
struct tlist {
	struct rws_conn *head, *tail;
	uint32_t ms;
};

/* A job posted to a reactor from another thread. */
enum job_kind { JOB_SEND, JOB_CLOSE, JOB_BROADCAST, JOB_FOREACH, JOB_STOP, JOB_PING, JOB_PONG, JOB_ADOPT,
		JOB_ZDONE, JOB_CONNECT };

struct job {
	struct job *next;
	uint8_t kind;
	struct rws_conn *c;	/* SEND/CLOSE/PING/PONG */
	int fd;			/* ADOPT */
	uint32_t gen;
	unsigned flags;		/* SEND: RWS_SEND_*; CLOSE: code */
	const struct route *route;	/* BROADCAST/FOREACH */
	const struct rws_conn *except;
	struct sbuf *b;		/* SEND/PING/PONG payload; BROADCAST: the frame; ADOPT: head bytes */
	struct sbuf *bz;	/* BROADCAST: the compressed frame for permessage-deflate peers, or NULL */
	void (*fn)(struct rws_conn *, void *);
	void *arg;
};

/* A compression or inflation for the pool (zpool.c). One allocation: the
 * input follows the struct. The embedded job carries the result back to
 * the reactor's inbox. */
enum { ZJOB_COMPRESS = 1, ZJOB_INFLATE = 2 };
#define ZJOB_E_UTF8 (-1)	/* an inflated text message is not UTF-8 */

struct zjob {
	struct job j;		/* first: the inbox frees it as a job */
	struct zjob *next;	/* the pool's queue, a reactor's backlog */
	struct reactor *r;
	struct rws_conn *c;
	uint32_t gen;		/* c's life when submitted */
	uint8_t kind;
	uint8_t level;		/* compress: 1..12 */
	uint8_t op;		/* RWS_OP_TEXT or RWS_OP_BINARY */
	uint8_t masked;		/* compress: client role */
	int status;		/* 0, or why it failed (RWS_PMD_E_*, -ENOMEM, ZJOB_E_UTF8) */
	struct qent *q;		/* compress: the message's place in c's send queue */
	size_t accounted;	/* compress: bytes counted in c's queue for it meanwhile */
	struct sbuf *out;	/* compress: the frame, from out->data + out_off */
	size_t out_off;
	uint64_t max;		/* inflate: max_payload */
	struct rws_pmd_window *window;	/* inflate: c's history, or NULL */
	uint8_t owns_window;	/* inflate: c went away meanwhile: the window is the job's to free */
	uint8_t *res;		/* inflate: the message (malloc'd) */
	size_t res_len;
	size_t in_len;
	uint8_t in[];
};

/* A TLS listener's certificate and key files, in the order given (the
 * first is the default), and the set loaded from them (under the server's
 * tls_lock). */
struct tls_conf {
	size_t n;
	char **cert, **key;
	struct tls_set *set;
};

/* One listen address of the server. */
struct laddr {
	char host[64];
	uint16_t port;		/* as asked; 0: ephemeral */
	uint16_t bound;		/* as bound by the first reactor, shared by the others */
	struct tls_conf *tls;	/* NULL: plaintext */
};

/* A reactor's SO_REUSEPORT socket for one listen address; the multishot
 * accept's user_data points here. */
struct listener {
	struct reactor *r;
	int fd;
	int armed;
	int idx;		/* the server's address it listens on */
};

struct reactor {
	struct rws_server *srv;
	int idx;
	pthread_t thread;
	struct io_uring ring;
	int ring_ok;
	struct listener *ls;	/* one per listen address */
	int nls;
	/* provided buffers for recv */
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	unsigned nbufs, buf_size, br_mask;
	unsigned br_pending;	/* buffers added since the last advance */
	/* registered send pool: frames of ZC_MIN..ZC_SLOT bytes are written
	 * into a slot and sent zero-copy from the registered buffer */
	uint8_t *zc_mem;
	int32_t *zc_free;	/* stack of free slot indices */
	int zc_nfree;
	int zc_ok;		/* the pool is registered */
	/* inbox: other threads post jobs and write the eventfd */
	pthread_mutex_t inbox_lock;
	struct job *inbox_head, *inbox_tail;
	atomic_size_t inbox_bytes;	/* payload bytes posted and not yet run */
	int efd;
	uint64_t efd_val;
	/* connections */
	struct rws_conn *free_conns;	/* pool, linked through rnext */
	struct conn_slab *slabs;	/* the newest first */
	unsigned slab_used;		/* objects handed out of the newest */
	atomic_uint nconns;		/* live connections (any phase); read by stats */
	struct rws_conn **open_by_route;	/* per route index: list heads */
	struct tlist hs_timers, linger_timers, close_timers;
	struct tlist client_timers;	/* client handshakes, each its own timeout (sorted) */
	struct rws_conn *clients;	/* open client connections, linked through rnext */
	struct rws_conn *flush_head;	/* linked through tx->fnext */
	/* the hot path's allocations */
	struct pool tx_pool, ext_pool, qent_pool, sbuf_pool, big_pool, sm_pool;
	/* permessage-deflate, inline on the reactor: made on first use */
	struct rws_pmd_compressor *pmd_comp[13];	/* by level */
	struct rws_pmd_decompressor *pmd_dec;
	uint8_t *pmd_out;		/* compressed output of the message being sent */
	size_t pmd_out_cap;
	uint8_t *tls_plain;		/* TLS: decrypted records land here (made on first use) */
	/* the pool: jobs of this reactor in it, and those waiting for room */
	unsigned zinpool;
	struct zjob *zbacklog, *zbacklog_tail;
	int stopping;
	uint64_t now;
	uint64_t hb_next;		/* heartbeat: when a ping or check is next due; 0: none */
	uint64_t hb_last;		/* when the last sweep ran */
	struct rws_hs_request req;	/* scratch for parsing an upgrade */
	char errbuf[256];
	int start_err;
	/* counters, written by the reactor, read by anyone */
	_Atomic uint64_t n_enobufs, n_accepted, n_zc;
	uint64_t trimmed_at;		/* n_accepted at the last malloc_trim() */
	uint64_t trim_last, trim_due;	/* its time; when the next one is owed, or 0 */

};

struct rws_server {
	struct rws_server_options o;
	struct rws_session_config scfg;
	struct route *routes;
	int nroutes;
	struct zpool *zpool;		/* deflate workers, when a route compresses */
	int nreactors;
	struct reactor *reactors;
	atomic_uint nconns;		/* across reactors, for max_connections */
	atomic_uint next_adopt;		/* round robin for rws_server_adopt */
	atomic_int resolving;		/* redirect lookups in their threads: destroy waits */
	struct laddr *addrs;		/* [0] from the options, then rws_server_listen() */
	int naddrs;
	int started;
	struct sockaddr_storage trusted[16];
	int ntrusted;
	pthread_mutex_t tls_lock;	/* the listeners' tls->set, the client contexts */
	struct client_tls *client_tls;	/* client contexts by CA file and insecure, made once */
	pthread_mutex_t start_lock;
	pthread_cond_t start_cond;
	int nready;
};

/* user_data tags, in the low 3 bits of a connection pointer */
enum ud_tag { UD_RECV = 1, UD_SEND = 2, UD_CANCEL = 3, UD_ACCEPT = 4, UD_EVENTFD = 5, UD_SEND_ZC = 6,
	      UD_CONNECT = 7 };

#define ZC_SLOTS 32			/* per reactor */
#define ZC_SLOT (128u * 1024)		/* bytes per slot, sbuf header included */

#define UD(p, tag) ((uint64_t)(uintptr_t)(p) | (tag))
#define UD_PTR(ud) ((void *)(uintptr_t)((ud) & ~(uint64_t)7))
#define UD_TAG(ud) ((unsigned)((ud) & 7))

/* server.c: a line for the server's log (options' log, else stderr) */
void rws_log(const struct rws_server *s, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct tls_set *rws_server_tls_take(struct rws_server *s, int addr);
void rws_server_tls_free(struct rws_server *s);
struct rws_tls_ctx *rws_server_client_tls(struct rws_server *s, const char *ca_file, int insecure,
					  char *err, size_t errlen);

/* reactor.c */
uint64_t rws_now_ms(void);
#define RWS_INBOX_MAX (64u << 20)	/* posted payload bytes a reactor may hold */

void rws_reactor_post(struct reactor *r, struct job *j);
void rws_reactor_recycle(struct reactor *r, unsigned bid);
struct reactor *rws_reactor_current(void);
void *rws_reactor_main(void *arg);
struct io_uring_sqe *rws_reactor_sqe(struct reactor *r);
void rws_tlist_add(struct tlist *t, struct rws_conn *c, uint64_t now);
void rws_tlist_add_at(struct tlist *t, struct rws_conn *c, uint64_t deadline);
void rws_tlist_del(struct tlist *t, struct rws_conn *c);
void rws_heartbeat_arm(struct reactor *r, const struct route *rt);

/* conn.c (runtime side of a connection) */
struct rws_conn *rws_conn_new(struct reactor *r, int fd, struct tls_set *tls);
struct conn_ext *rws_conn_ext(struct rws_conn *c);
const struct sockaddr *rws_conn_peer(struct rws_conn *c, socklen_t *len);
size_t rws_conn_queued(const struct rws_conn *c);
void rws_conn_on_recv(struct rws_conn *c, struct io_uring_cqe *cqe);
void rws_conn_on_send(struct rws_conn *c, int res);
void rws_conn_on_send_zc(struct zc_ticket *t, struct io_uring_cqe *cqe);
void rws_conn_on_cancel(struct rws_conn *c);
void rws_conn_arm_recv(struct rws_conn *c);
void rws_conn_stop_recv(struct rws_conn *c);
void rws_conn_flush(struct rws_conn *c);
void rws_conn_queue(struct rws_conn *c, struct sbuf *b);
int rws_conn_queue_broadcast(struct rws_conn *c, struct sbuf *b);
int rws_conn_queue_copy(struct rws_conn *c, const void *data, size_t len);
int rws_conn_send_local(struct rws_conn *c, const void *data, size_t len, unsigned flags);
int rws_conn_control_local(struct rws_conn *c, unsigned op, const void *data, size_t len);
int rws_conn_close_local(struct rws_conn *c, int code, const char *reason);
void rws_conn_teardown(struct rws_conn *c, int code, const char *reason, size_t rlen);
void rws_conn_linger_expired(struct rws_conn *c);
void rws_conn_handshake_expired(struct rws_conn *c);
void rws_conn_close_expired(struct rws_conn *c);
void rws_conn_release(struct rws_conn *c);
void rws_conn_open(struct rws_conn *c);
void rws_conn_linger_now(struct rws_conn *c);
void rws_conn_adopt(struct reactor *r, int fd, struct sbuf *head);

/* rws_conn_send_local(): a send posted from another thread, whose caller
 * was already told 0: it is never refused (the inbox bound holds it) */
#define RWS_SEND_POSTED (1u << 30)

struct sbuf *rws_sbuf_new(size_t cap);
struct sbuf *rws_sbuf_new_zc(struct reactor *r, size_t len);
void rws_sbuf_put(struct sbuf *b);

/* server.c */
const struct route *rws_server_find_route(const struct rws_server *s, const char *path,
					  size_t len);
int rws_server_trusted(const struct rws_server *s, const struct sockaddr *sa);

/* conn.c, for client connections (client.c) */
struct rws_conn *rws_conn_new_client(struct reactor *r, int fd, const struct route *rt,
				     const struct rws_session_config *cfg, void *user,
				     uint64_t deadline);
void rws_conn_client_phase(struct rws_conn *c, int phase);
void rws_conn_client_open(struct rws_conn *c, const struct rws_session_config *cfg,
			  unsigned rsv);
void rws_conn_fail(struct rws_conn *c, int err, int status, const char *msg);
int rws_conn_tls_client(struct rws_conn *c, struct rws_tls_ctx *ctx, const char *host);

/* client.c */
void rws_client_start(struct reactor *r, void *spec);
void rws_client_on_connect(struct rws_conn *c, int res);
void rws_client_answer(struct rws_conn *c, const char *buf, size_t len, size_t *used);
void rws_client_expired(struct rws_conn *c);
void rws_client_release(struct rws_conn *c);
void rws_client_forget(void *spec);

/* zpool.c */
int rws_zpool_start(struct rws_server *s, char *errbuf, size_t errlen);
void rws_zpool_stop(struct rws_server *s);
struct zjob *rws_zjob_new(size_t in_len);
void rws_zjob_free(struct zjob *z);
int rws_zpool_submit(struct reactor *r, struct zjob *z);
void rws_zpool_done(struct reactor *r, struct zjob *z);
void rws_zpool_forget(struct reactor *r);
/* conn.c, for the pool */
void rws_conn_zdone(struct zjob *z);
void rws_conn_zwait_end(struct rws_conn *c);

/* upgrade.c */
void rws_addr_text(const struct sockaddr *sa, char *out, size_t cap);
char *rws_make_meta(const struct rws_str *path, const struct rws_str *proto, const char *ip);
void rws_upgrade_handle(struct rws_conn *c, const char *buf, size_t len, size_t *used);

#endif
