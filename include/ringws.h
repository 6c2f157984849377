/*
 * ringws.h: the embedding API of ringws, a WebSocket engine on io_uring.
 *
 * A server owns one reactor thread per core (each with its own io_uring and
 * SO_REUSEPORT listener). Routes map a path to a handler: a table of
 * callbacks that every connection of the route shares. Every callback for a
 * connection runs on that connection's reactor thread; rws_conn_send(),
 * rws_conn_close() and rws_broadcast() may be called from any thread.
 * The same handler table serves plugins (ringws_plugin.h), which reach these
 * functions through struct rws_api instead of linking against the library.
 *
 * Functions return 0 or a count on success and a negative errno on failure;
 * errno itself is left alone. Message memory passed to callbacks is borrowed
 * for the duration of the call: copy what you keep.
 */
#ifndef RINGWS_H
#define RINGWS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RWS_API __attribute__((visibility("default")))

#define RWS_VERSION "0.1.0"	/* this library's release */

struct rws_server;	/* a server: reactors, listeners, routes */
struct rws_conn;	/* one WebSocket connection (opaque) */
struct rws_upgrade;	/* an upgrade request, during on_upgrade only */

/* Send flags. */
#define RWS_SEND_TEXT 0u		/* a text message (the default) */
#define RWS_SEND_BINARY 1u		/* a binary message */
#define RWS_SEND_MORE 2u		/* not the final fragment: the message continues */
#define RWS_SEND_NO_COMPRESS 4u		/* permessage-deflate: send this message uncompressed */

/* permessage-deflate: messages up to this size are compressed and inflated
 * on the reactor by default (see deflate_inline_max) */
#define RWS_DEFLATE_INLINE_MAX_DEFAULT 65536u

/* What happens when a send would queue more than max_buffered bytes. */
enum rws_backpressure {
	RWS_BP_CLOSE = 0,	/* close the connection with 1008 (the default) */
	RWS_BP_REFUSE = 1,	/* refuse the send with -ENOBUFS */
};

/* The callbacks of a route. Any may be NULL. ctx is the handler's own. */
struct rws_handler {
	size_t struct_size;	/* sizeof(struct rws_handler) */
	void *ctx;

	/* Before the 101: read the request, reject it, pick a subprotocol,
	 * attach user data. Return 0 to accept, or call rws_upgrade_reject()
	 * and return its value. Default: accept, first offered subprotocol. */
	int (*on_upgrade)(void *ctx, struct rws_upgrade *up);
	void (*on_open)(void *ctx, struct rws_conn *c);
	void (*on_message)(void *ctx, struct rws_conn *c, const void *data, size_t len,
			   int is_text);
	void (*on_ping)(void *ctx, struct rws_conn *c, const void *data, size_t len);
	void (*on_pong)(void *ctx, struct rws_conn *c, const void *data, size_t len);
	/* Once per connection that on_open saw; the connection is gone after
	 * this returns (sends fail with -EPIPE). code 1005: the peer's close
	 * had no code; 1006: no close frame (transport lost, timeout). User data
	 * attached in on_upgrade of an upgrade that never opened is the
	 * handler's to free: on_close does not run for it. */
	void (*on_close)(void *ctx, struct rws_conn *c, int code, const char *reason,
			 size_t reason_len);
	/* A send left the queue at or over max_buffered (later sends may have
	 * been refused); now it has fallen below it again. */
	void (*on_drain)(void *ctx, struct rws_conn *c);
	/* Client connections (rws_connect): the connection failed before it
	 * opened — err is a negative errno (-ECONNREFUSED, -ETIMEDOUT for the
	 * handshake timeout, -ENOENT for a name that does not resolve ...) or
	 * an RWS_CLIENT_E_* code; http_status is the server's (or the proxy's)
	 * status when it answered something other than 101, else 0; msg says
	 * it in one line. No other callback runs for that connection, and c is
	 * gone when this returns. */
	void (*on_error)(void *ctx, struct rws_conn *c, int err, int http_status,
			 const char *msg);
};

/* Server options; rws_server_options_default() fills ws's defaults. */
struct rws_server_options {
	size_t struct_size;		/* sizeof(struct rws_server_options) */
	const char *host;		/* listen address, "127.0.0.1" by default */
	uint16_t port;			/* 0: an ephemeral port (see rws_server_port) */
	int threads;			/* reactors; 0: one per online core */
	uint64_t max_payload;		/* 100 MiB; 0: no limit */
	uint32_t max_connections;	/* over it, answer 503; 0: no limit */
	uint32_t handshake_timeout_ms;	/* 10 s */
	uint32_t close_timeout_ms;	/* 30 s */
	size_t max_buffered;		/* per-connection send queue bound, 1 MiB; 0: none */
	enum rws_backpressure backpressure;
	const char *trusted_proxies;	/* comma list of addresses whose X-Forwarded-For is believed */
	int auto_pong;			/* 1: answer pings (the default) */
	uint32_t recv_buffers;		/* provided receive buffers per reactor: a power of two <= 32768, 256 */
	uint32_t recv_buffer_size;	/* bytes each, 64 KiB */
	uint32_t send_zc_min;		/* frames of this size and up (to 128 KiB) are sent zero-copy
					   from registered memory; 0: never (the default: see README) */
	/* permessage-deflate (RFC 7692), off by default as in ws */
	int deflate;			/* 1: negotiate it with clients that offer it */
	uint32_t deflate_threshold;	/* messages we send below this stay uncompressed, 1024 */
	int deflate_level;		/* libdeflate level 1..12, 1 */
	int deflate_client_context;	/* 1: let clients keep their compression context (we keep a
					   window per connection); 0: ask for client_no_context_takeover */
	int deflate_server_max_window_bits;	/* 8..15, 0: 15. Below 15 the extension is agreed
					   with that window, but libdeflate cannot compress in less
					   than 32 KiB, so we send every message uncompressed */
	int deflate_client_max_window_bits;	/* 8..15, 0: 15: the largest window a client that keeps
					   its context may use (the memory we keep for it) */
	int deflate_concurrency;	/* worker threads of the compression pool (ws's
					   concurrencyLimit), 10 */
	uint32_t deflate_inline_max;	/* messages up to this size are compressed and inflated on
					   the reactor, larger ones in the pool; 0: all in the pool */
	/* Heartbeat (ws's "detect and close broken connections", done here):
	 * every ping_interval_ms each open connection is pinged; one that has
	 * sent nothing (no pong, no frame) within pong_timeout_ms after the
	 * ping is dropped (on_close with 1006). 0: off (the default). */
	uint32_t ping_interval_ms;
	uint32_t pong_timeout_ms;	/* 0: the interval */
	int listen;			/* 1 (default): listen on host:port; 0: reactors for
					   client connections only (rws_connect), no routes needed */
	/* Where the library's log lines go (a TLS handshake that failed, a
	 * plaintext client on a TLS port ...): log(log_ctx, level, line) on
	 * the thread that saw it, line without a newline. NULL: stderr, as
	 * "ringws: LINE". */
	void (*log)(void *log_ctx, int level, const char *line);
	void *log_ctx;
};

/* Log levels (the log option's level). */
enum rws_log_level { RWS_LOG_ERROR = 0, RWS_LOG_WARNING, RWS_LOG_INFO, RWS_LOG_DEBUG };

/* The permessage-deflate settings of one route, when they differ from the
 * server's (rws_server_route_deflate). The fields mean what the server
 * options' deflate_* fields mean. */
struct rws_deflate_options {
	size_t struct_size;		/* sizeof(struct rws_deflate_options) */
	int enabled;
	uint32_t threshold;
	int level;
	int client_context;
	int server_max_window_bits;
	int client_max_window_bits;
};

RWS_API void rws_server_options_default(struct rws_server_options *o);

/* Creates a server (not yet running). Returns it, or NULL with *err set to a
 * negative errno and, if errbuf is given, a one-line message. */
RWS_API struct rws_server *rws_server_create(const struct rws_server_options *o, int *err,
					     char *errbuf, size_t errlen);

/* Routes connections whose path is `path` (exact match; "*" matches any) to
 * h; h and its ctx must outlive the server. Call before rws_server_start().
 * Returns 0, -EEXIST for a path routed twice, -EINVAL. */
RWS_API int rws_server_route(struct rws_server *s, const char *path,
			     const struct rws_handler *h);

/* Fills d from the server's deflate_* options (the settings a route has
 * until rws_server_route_deflate() gives it its own). */
RWS_API void rws_server_deflate_defaults(const struct rws_server *s, struct rws_deflate_options *d);

/* Gives the route at `path` its own permessage-deflate settings. Call after
 * rws_server_route() and before rws_server_start(). Returns 0, -ENOENT for
 * a path not routed, -EINVAL (a level outside 1..12, a window size outside
 * 0 and 8..15). */
RWS_API int rws_server_route_deflate(struct rws_server *s, const char *path,
				     const struct rws_deflate_options *d);

/* Binds, starts the reactor threads and returns. Returns 0 or a negative
 * errno, with a one-line message in errbuf (for example when io_uring is
 * unavailable). */
RWS_API int rws_server_start(struct rws_server *s, char *errbuf, size_t errlen);

/* Adds a listen address besides the options' host and port (IPv4 or IPv6
 * text; port 0: ephemeral). Call before rws_server_start(). Returns the
 * address's index (1, 2, ...) or a negative errno. */
RWS_API int rws_server_listen(struct rws_server *s, const char *host, uint16_t port);

/* --- TLS (wss://), on wolfSSL --------------------------------------------- */

/* Serves TLS 1.2/1.3 on listen address `listener` (0: the options' host
 * and port; i: the index rws_server_listen() returned; -1: every address
 * added so far) with the certificate chain in cert_file and its private
 * key in key_file (PEM). Called again for the same address, it adds a
 * certificate: the name a client sends (SNI) picks the certificate whose
 * subjectAltName DNS names (else its CN) match it, exactly or as
 * "*.domain"; the first certificate serves clients that send no name or
 * one no certificate has. The files are read and the key checked against
 * the certificate now. Call before rws_server_start(). Returns 0, or a
 * negative errno with the reason in errbuf (-ENOENT: no such listener;
 * -EINVAL: a file that cannot be read or used, a key that does not match
 * its certificate). */
RWS_API int rws_server_tls(struct rws_server *s, int listener, const char *cert_file,
			   const char *key_file, char *errbuf, size_t errlen);

/* Reads every TLS listener's certificate and key files again: connections
 * accepted afterwards get the new ones, open ones keep theirs. All or
 * nothing: when a file fails, no listener changes and errbuf says which.
 * Any thread, after rws_server_start() (not from a callback). Returns the
 * number of certificates loaded, or a negative errno. */
RWS_API int rws_server_tls_reload(struct rws_server *s, char *errbuf, size_t errlen);

/* Whether c runs over TLS, and what was agreed: the version ("TLSv1.3"),
 * the cipher suite, the SNI name the client sent ("" if none). NULL for a
 * plaintext connection. Owner thread. */
RWS_API const char *rws_conn_tls_version(const struct rws_conn *c);
RWS_API const char *rws_conn_tls_cipher(const struct rws_conn *c);
RWS_API const char *rws_conn_tls_sni(const struct rws_conn *c);

/* The bound port of the options' address (after start), and of address i. */
RWS_API uint16_t rws_server_port(const struct rws_server *s);
RWS_API uint16_t rws_server_port_at(const struct rws_server *s, int i);

/* Sends 1001 (going away) to every connection, lets queued messages go out,
 * waits for the close handshakes (at most the close timeout), then stops the
 * reactors. Safe from a signal-handling thread, not from a callback. */
RWS_API void rws_server_shutdown(struct rws_server *s);

/* Hands the server a connection accepted elsewhere whose request head may
 * already be partly or wholly read (ws's noServer + handleUpgrade): from now
 * on the server owns fd (blocking or not) and answers the upgrade as if it
 * had accepted it; head[0..len) is what was read (copied). Any thread, after
 * rws_server_start(). Returns 0, or a negative errno (then fd is still the
 * caller's). */
RWS_API int rws_server_adopt(struct rws_server *s, int fd, const void *head, size_t len);

/* Counters of one reactor. */
struct rws_reactor_stats {
	uint64_t accepted;	/* connections accepted or adopted */
	uint64_t open;		/* connections alive now (any phase) */
	uint64_t enobufs;	/* times the receive buffer ring ran dry */
	uint64_t zc_sends;	/* sends made zero-copy from the registered pool */
};

/* Fills out[0..max) with each reactor's counters (out may be NULL when max
 * is 0). Returns the number of reactors. */
RWS_API int rws_server_stats(const struct rws_server *s, struct rws_reactor_stats *out, int max);

/* Frees a stopped (or never started) server. */
RWS_API void rws_server_destroy(struct rws_server *s);

/* --- client connections -------------------------------------------------- */

/* Why a client connection failed, besides errnos (on_error's err). */
enum rws_client_err {
	RWS_CLIENT_E_HANDSHAKE = -1300,	/* the server's answer broke RFC 6455 (msg says how) */
	RWS_CLIENT_E_STATUS,		/* the server answered an HTTP status other than 101 */
	RWS_CLIENT_E_REDIRECTS,		/* more redirects than max_redirects */
	RWS_CLIENT_E_REDIRECT,		/* a redirect without a usable Location */
	RWS_CLIENT_E_PROXY,		/* the proxy refused CONNECT (http_status) or broke HTTP */
	RWS_CLIENT_E_EXTENSION,		/* permessage-deflate answered in a way we did not offer */
	RWS_CLIENT_E_TLS,		/* the TLS handshake failed (msg says why) */
	RWS_CLIENT_E_CERT,		/* the server's certificate did not verify (msg says why:
					   expired, unknown CA, another host name ...) */
};

/* Options of one client connection; rws_client_options_default() fills
 * ws's defaults. Strings are copied by rws_connect(). */
struct rws_client_options {
	size_t struct_size;		/* sizeof(struct rws_client_options) */
	int protocol_version;		/* 13 (the default) or 8 */
	const char *const *protocols;	/* subprotocols to offer, in order */
	size_t num_protocols;
	const char *origin;		/* Origin (Sec-WebSocket-Origin for 8); NULL: none */
	const char *const *headers;	/* more request headers, "Name: value" each */
	size_t num_headers;
	uint32_t handshake_timeout_ms;	/* connect, proxy and upgrade together, 10 s; 0: none */
	int follow_redirects;		/* 0 (as ws): a 3xx is an error */
	int max_redirects;		/* 10 */
	uint64_t max_payload;		/* 100 MiB; 0: no limit */
	size_t max_buffered;		/* send queue bound, 1 MiB, as the server's */
	enum rws_backpressure backpressure;	/* past it: close with 1008 (default) or refuse */
	int deflate;			/* offer permessage-deflate: 1 (as ws) */
	uint32_t deflate_threshold;	/* 1024 */
	int deflate_level;		/* 1 */
	const char *proxy;		/* "http://[user:pass@]host:port"; NULL: http_proxy,
					   https_proxy and no_proxy from the environment; "": none */
	const char *local_address;	/* address to connect from; NULL: any */
	int family;			/* AF_UNSPEC (the default), AF_INET or AF_INET6 */
	uint32_t ping_interval_ms;	/* heartbeat as the server's: 0 off */
	uint32_t pong_timeout_ms;	/* 0: the interval */
	const char *ca_file;		/* wss://: CAs to verify against (PEM); NULL: the system's
					   (/etc/ssl/certs) */
	int insecure;			/* wss://: 1 verifies nothing (a warning on stderr for
					   each such connection) */
};

RWS_API void rws_client_options_default(struct rws_client_options *o);

/* Opens a client connection to url on one of s's reactors (a server
 * created with listen = 0 serves for clients only; any server will do).
 * URLs: ws://host[:port]/path?query, wss://... and
 * ws+unix:///socket/path[:/request/path] (as ws); user:pass@ before the
 * host sends Basic authorization. h (copied) gets the connection's
 * callbacks on its reactor as a server route's would, from on_open on, or
 * on_error if it never opens; user is what rws_conn_user() returns. The URL
 * and options are checked here: -EINVAL, with errbuf naming the fault,
 * for a fragment, an unknown scheme, a bad port or host, a bad option.
 * The rest happens on the reactor. Any thread, after rws_server_start().
 * Returns 0 or a negative errno. */
RWS_API int rws_connect(struct rws_server *s, const char *url,
			const struct rws_client_options *o, const struct rws_handler *h,
			void *user, char *errbuf, size_t errlen);

/* --- during on_upgrade ------------------------------------------------- */

/* The request line's parts, and a header by name (case-insensitive;
 * NULL if absent). Lengths through the out pointer, strings not NUL-ended. */
RWS_API const char *rws_upgrade_method(const struct rws_upgrade *up, size_t *len);
RWS_API const char *rws_upgrade_path(const struct rws_upgrade *up, size_t *len);
RWS_API const char *rws_upgrade_query(const struct rws_upgrade *up, size_t *len);
RWS_API const char *rws_upgrade_header(const struct rws_upgrade *up, const char *name,
				       size_t *len);
/* The value of the first `name=value` parameter of the query, as sent (not
 * percent-decoded), with its length; "" for a bare `name`; NULL if absent. */
RWS_API const char *rws_upgrade_query_param(const struct rws_upgrade *up, const char *name,
					    size_t *len);
/* Header i (0-based) as name and value; returns 0, or -ENOENT past the end. */
RWS_API int rws_upgrade_header_at(const struct rws_upgrade *up, size_t i, const char **name,
				  size_t *name_len, const char **value, size_t *value_len);
/* Offered subprotocol i; NULL past the end. */
RWS_API const char *rws_upgrade_protocol(const struct rws_upgrade *up, size_t i, size_t *len);
/* The peer's address (the proxy's, when behind one). */
RWS_API const struct sockaddr *rws_upgrade_remote(const struct rws_upgrade *up, socklen_t *len);
/* Chooses offered subprotocol i (-1: none). Returns 0 or -EINVAL. */
RWS_API int rws_upgrade_select_protocol(struct rws_upgrade *up, int i);
/* Data that rws_conn_user() returns from on_open on. */
RWS_API void rws_upgrade_set_user(struct rws_upgrade *up, void *user);
/* Refuses the upgrade with an HTTP status (400-599) and a one-line body.
 * Returns the status, for on_upgrade to return. */
RWS_API int rws_upgrade_reject(struct rws_upgrade *up, int status, const char *body);

/* --- on a connection ---------------------------------------------------- */

/* Queues a message (or, with RWS_SEND_MORE, a fragment of one). Returns 0,
 * -EPIPE once the connection is closing, -ENOBUFS when the queue is over
 * max_buffered (then RWS_BP_CLOSE also starts a 1008 close), -EINVAL for a
 * bad flag or a fragment of another type than the message it continues.
 * Text is sent as given (not validated). From another thread the call is
 * posted to the owner and returns 0 once posted (-ENOBUFS if the owner's
 * inbox already holds 64 MiB); a posted message is then queued even past
 * max_buffered under RWS_BP_REFUSE (its caller was told 0: it is not
 * dropped), while RWS_BP_CLOSE still closes with 1008. Any thread. */
RWS_API int rws_conn_send(struct rws_conn *c, const void *data, size_t len, unsigned flags);
RWS_API int rws_conn_ping(struct rws_conn *c, const void *data, size_t len);
RWS_API int rws_conn_pong(struct rws_conn *c, const void *data, size_t len);
/* Starts the close handshake (code 0: no code). Any thread. */
RWS_API int rws_conn_close(struct rws_conn *c, int code, const char *reason);
/* Drops the connection now, without a close handshake. Owner thread. */
RWS_API void rws_conn_terminate(struct rws_conn *c);
/* Bytes queued and not yet handed to the kernel, messages still being
 * compressed included (at their plain size). on_drain follows the same
 * count: it runs once it falls below max_buffered after reaching it. */
RWS_API size_t rws_conn_buffered(const struct rws_conn *c);
/* Stops and restarts reading from the peer (owner thread). */
RWS_API void rws_conn_pause(struct rws_conn *c);
RWS_API void rws_conn_resume(struct rws_conn *c);
RWS_API void *rws_conn_user(const struct rws_conn *c);
RWS_API void rws_conn_set_user(struct rws_conn *c, void *user);
/* The peer's address, and the client's (from X-Forwarded-For when the peer
 * is a trusted proxy; else the peer's) as text. Call them on the owner
 * thread (from the handler's callbacks); the first call fetches the address
 * and keeps it for the connection's life (an idle connection holds none
 * until asked). The pointers stay valid until on_close returns. */
RWS_API const struct sockaddr *rws_conn_remote(const struct rws_conn *c, socklen_t *len);
RWS_API const char *rws_conn_client_ip(const struct rws_conn *c);
RWS_API const char *rws_conn_protocol(const struct rws_conn *c);	/* "" if none */
RWS_API const char *rws_conn_path(const struct rws_conn *c);

/* Sends one message to every open connection of the route at `path` except
 * `except` (NULL: to all): the frame is built once and shared; with
 * permessage-deflate on, a second, compressed frame is built once for the
 * recipients that agreed on it (flags: RWS_SEND_BINARY, and
 * RWS_SEND_NO_COMPRESS to send only the plain one). A recipient
 * whose queue is already over max_buffered is closed with 1008 instead
 * (whatever the backpressure policy: a broadcast has nobody to refuse to);
 * one in the middle of streaming its own fragmented message is skipped.
 * Any thread. Returns 0 or a negative errno. */
RWS_API int rws_broadcast(struct rws_server *s, const char *path, const void *data,
			  size_t len, unsigned flags, const struct rws_conn *except);

/* Calls fn(c, arg) for each open connection of the route, on each
 * connection's own reactor thread (ws's clientTracking). Returns at once;
 * fn may run later on other threads. Returns 0 or a negative errno. */
RWS_API int rws_foreach(struct rws_server *s, const char *path,
			void (*fn)(struct rws_conn *c, void *arg), void *arg);

/* The server a connection belongs to. */
RWS_API struct rws_server *rws_conn_server(const struct rws_conn *c);

/* A one-line text for a negative errno returned here. */
RWS_API const char *rws_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
