/*
 * ringws_plugin.h: the plugin ABI of ringwsd.
 *
 * A plugin is a shared object that exports one function, rws_plugin_entry(),
 * returning a struct rws_plugin. ringwsd checks abi_major (must equal its
 * own) and abi_minor (must not be newer than its own) before it calls
 * anything, and refuses the file otherwise with a message naming it.
 * Plugins link against nothing from ringws: the engine's functions reach
 * them as the sized table struct rws_api, passed to init(). The handler
 * table is the same struct rws_handler the embedding API uses.
 *
 * ABI structs only grow at the end; a breaking change bumps the major.
 */
#ifndef RINGWS_PLUGIN_H
#define RINGWS_PLUGIN_H

#include "ringws.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RWS_PLUGIN_ABI_MAJOR 1
#define RWS_PLUGIN_ABI_MINOR 2
#define RWS_PLUGIN_ENTRY "rws_plugin_entry"

/* The engine's services, as a function table. */
struct rws_api {
	size_t struct_size;	/* sizeof(struct rws_api) of the engine */
	int (*conn_send)(struct rws_conn *c, const void *data, size_t len, unsigned flags);
	int (*conn_ping)(struct rws_conn *c, const void *data, size_t len);
	int (*conn_pong)(struct rws_conn *c, const void *data, size_t len);
	int (*conn_close)(struct rws_conn *c, int code, const char *reason);
	void (*conn_terminate)(struct rws_conn *c);
	size_t (*conn_buffered)(const struct rws_conn *c);
	void (*conn_pause)(struct rws_conn *c);
	void (*conn_resume)(struct rws_conn *c);
	void *(*conn_user)(const struct rws_conn *c);
	void (*conn_set_user)(struct rws_conn *c, void *user);
	const struct sockaddr *(*conn_remote)(const struct rws_conn *c, socklen_t *len);
	const char *(*conn_client_ip)(const struct rws_conn *c);
	const char *(*conn_protocol)(const struct rws_conn *c);
	const char *(*conn_path)(const struct rws_conn *c);
	struct rws_server *(*conn_server)(const struct rws_conn *c);
	int (*broadcast)(struct rws_server *s, const char *path, const void *data, size_t len,
			 unsigned flags, const struct rws_conn *except);
	int (*foreach)(struct rws_server *s, const char *path,
		       void (*fn)(struct rws_conn *c, void *arg), void *arg);
	const char *(*upgrade_method)(const struct rws_upgrade *up, size_t *len);
	const char *(*upgrade_path)(const struct rws_upgrade *up, size_t *len);
	const char *(*upgrade_query)(const struct rws_upgrade *up, size_t *len);
	const char *(*upgrade_header)(const struct rws_upgrade *up, const char *name, size_t *len);
	int (*upgrade_header_at)(const struct rws_upgrade *up, size_t i, const char **name,
				 size_t *name_len, const char **value, size_t *value_len);
	const char *(*upgrade_protocol)(const struct rws_upgrade *up, size_t i, size_t *len);
	const struct sockaddr *(*upgrade_remote)(const struct rws_upgrade *up, socklen_t *len);
	int (*upgrade_select_protocol)(struct rws_upgrade *up, int i);
	void (*upgrade_set_user)(struct rws_upgrade *up, void *user);
	int (*upgrade_reject)(struct rws_upgrade *up, int status, const char *body);
	/* one line to ringwsd's log, prefixed with the plugin's name */
	void (*log)(const char *plugin, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	const char *(*upgrade_query_param)(const struct rws_upgrade *up, const char *name,
					   size_t *len);
	/* since minor 1: client connections from a plugin (an upstream relay,
	 * say), on the server's own reactors */
	void (*client_options_default)(struct rws_client_options *o);
	int (*connect)(struct rws_server *s, const char *url, const struct rws_client_options *o,
		       const struct rws_handler *h, void *user, char *errbuf, size_t errlen);
	/* since minor 2: what TLS agreed on a connection (NULL: plaintext) */
	const char *(*conn_tls_version)(const struct rws_conn *c);
	const char *(*conn_tls_cipher)(const struct rws_conn *c);
	const char *(*conn_tls_sni)(const struct rws_conn *c);
};

struct rws_plugin {
	uint16_t abi_major;	/* RWS_PLUGIN_ABI_MAJOR the plugin was built with */
	uint16_t abi_minor;	/* RWS_PLUGIN_ABI_MINOR */
	uint32_t struct_size;	/* sizeof(struct rws_plugin) */
	const char *name;
	/* Called once before the server starts, with the engine's table and
	 * the route's argument string from the command line or config (may be
	 * ""). Sets *ctx, which becomes handler.ctx. Returns 0 or a negative
	 * errno to refuse to start. May be NULL. */
	int (*init)(const struct rws_api *api, struct rws_server *s, const char *args, void **ctx);
	/* Called once after the server stopped. May be NULL. */
	void (*fini)(void *ctx);
	struct rws_handler handler;	/* ctx is set from init */
};

/* The one symbol a plugin exports. */
typedef const struct rws_plugin *(*rws_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
