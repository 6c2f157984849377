/*
 * config.h: ringwsd's settings and routes, from the config file and the
 * command line. See config.c for the file format.
 */
#ifndef RWSD_CONFIG_H
#define RWSD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ringws.h"

/* The permessage-deflate keys a [route PATH] section may give; each one
 * overrides the server setting of the same name for that route. */
enum rwsd_deflate_key {
	RWSD_DFL_ENABLED,		/* deflate */
	RWSD_DFL_THRESHOLD,		/* deflate-threshold */
	RWSD_DFL_LEVEL,			/* deflate-level */
	RWSD_DFL_CLIENT_CONTEXT,	/* deflate-client-context */
	RWSD_DFL_SERVER_WINDOW,		/* deflate-server-max-window-bits */
	RWSD_DFL_CLIENT_WINDOW,		/* deflate-client-max-window-bits */
	RWSD_DFL_NKEYS
};

/* One route: connections to `path` go to the plugin in `plugin`. */
struct rwsd_route {
	char *path;	/* "/chat", or "*" for any path */
	char *plugin;	/* the .so to load, as dlopen will be given it */
	char *args;	/* the plugin's argument string; never NULL */
	char *origin;	/* where it was defined, for messages: "FILE:LINE" or "--route" */
	/* the deflate keys of its section: their values (the fields of keys
	 * not given are unused), and where each was given ("FILE:LINE"), or
	 * NULL for a key not given */
	struct rws_deflate_options deflate;
	char *deflate_at[RWSD_DFL_NKEYS];
};

/* One certificate for TLS: its chain and private key (PEM files, paths as
 * they will be opened), given as a pair. */
struct rwsd_cert {
	char *cert;
	char *key;
	char *origin;	/* where the pair began: "FILE:LINE" or "--tls-cert" */
};

/* A list of certificate pairs, built a half at a time: `half` holds the
 * tls-cert (or tls-key) still waiting for the other half of its pair. */
struct rwsd_certs {
	struct rwsd_cert *v;	/* the first serves clients that send no known name */
	size_t n;
	struct rwsd_cert half;	/* cert or key set: a pair begun, not finished */
};

/* A listen address's TLS, as its [listen] section says. */
enum rwsd_tls_mode {
	RWSD_TLS_DEFAULT,	/* its own certificates if any, else the server's (or none) */
	RWSD_TLS_ON,		/* tls = on: as DEFAULT, and no certificate at all is an error */
	RWSD_TLS_OFF,		/* tls = off: plaintext even with server certificates */
};

/* One listen address. */
struct rwsd_listen {
	char host[64];	/* numeric address (IPv6 without brackets) */
	uint16_t port;	/* 0: ephemeral */
	char *section;	/* "FILE:LINE" of its [listen] section, or NULL */
	enum rwsd_tls_mode tls;
	struct rwsd_certs certs;	/* its section's own pairs */
};

/* Where settings are being read from: listen lines accumulate within one
 * source, and the first from a later source replaces the list. */
enum rwsd_source { RWSD_SRC_DEFAULT, RWSD_SRC_FILE, RWSD_SRC_CMDLINE };

/* Owns every string it points to; rwsd_config_free() releases them. */
struct rwsd_config {
	struct rws_server_options opts;	/* host and port: listens[0]'s */
	struct rwsd_listen *listens;	/* at least one; [1..] go to rws_server_listen() */
	size_t nlistens;
	enum rwsd_source source;	/* what rwsd_config_set() is reading now */
	enum rwsd_source listen_source;	/* where listens[] came from */
	char *trusted_proxies;		/* opts.trusted_proxies points here */
	struct rwsd_certs certs;	/* the server's: for every address without its own */
	enum rwsd_source certs_source;	/* where certs came from */
	struct rwsd_listen *file_listens;	/* the file's addresses, once --listen replaced
						   them: rwsd_config_finish() reads their sections */
	size_t nfile_listens;
	int log_level;			/* enum rwsd_log_level, info by default */
	struct rwsd_route *routes;
	size_t nroutes;
};

/* The library's defaults, and ringwsd's listen address 127.0.0.1:8080.
 * Returns 0, or -ENOMEM. */
int rwsd_config_init(struct rwsd_config *c);
void rwsd_config_free(struct rwsd_config *c);

/* Sets one server setting by the name it has both in the file and, with
 * "--" in front, on the command line (c->source says which: "listen" adds
 * an address, "tls-cert" and "tls-key" half a certificate pair, and the
 * first of a new source replaces the older list): listen, tls-cert,
 * tls-key, threads, max-payload,
 * max-connections, handshake-timeout, close-timeout, max-buffered,
 * backpressure, trusted-proxy, log-level, recv-buffers, recv-buffer-size,
 * send-zc-min and the deflate settings (deflate, deflate-threshold,
 * deflate-level, deflate-client-context, deflate-server-max-window-bits,
 * deflate-client-max-window-bits, deflate-concurrency, deflate-inline-max).
 * A tls-cert or tls-key path is taken as given (the file's are made
 * relative to its folder before they come here). Returns 0, -ENOENT for
 * an unknown name, or -EINVAL with the reason in err (without the
 * setting's name). */
int rwsd_config_set(struct rwsd_config *c, const char *name, const char *value, char *err,
		    size_t errlen);

/* The setting called name[0..len), as its canonical string, or NULL if
 * there is no such setting. */
const char *rwsd_config_setting(const char *name, size_t len);

/* 1 for the settings that are on/off switches: on the command line
 * "--NAME" alone means on. */
int rwsd_config_is_flag(const char *name, size_t len);

/* Reads a config file into c. Returns 0, or a negative errno with
 * "FILE:LINE: what" (or "FILE: why" when it cannot be read) in err. */
int rwsd_config_load(struct rwsd_config *c, const char *file, char *err, size_t errlen);

/* Ends the command line: a --tls-cert or --tls-key without the other half
 * of its pair is an error, and each --listen address that a [listen]
 * section of the file named (the same address and port) takes that
 * section's TLS settings, in order. Then checks that every `tls = on`
 * address has a certificate. Returns 0, or -EINVAL with the reason in err. */
int rwsd_config_finish(struct rwsd_config *c, char *err, size_t errlen);

/* The certificates address l serves TLS with: its own, the server's, or
 * none (tls = off, or no certificate anywhere). */
const struct rwsd_certs *rwsd_listen_certs(const struct rwsd_config *c,
					   const struct rwsd_listen *l);

/* Adds the route path -> plugin (a path relative to the working directory),
 * replacing one for the same path that the config file defined. Returns 0,
 * -EEXIST if the command line routed the path already, -EINVAL for a bad
 * path, -ENOENT if the plugin file does not exist; err says which. */
int rwsd_config_route(struct rwsd_config *c, const char *path, const char *plugin, char *err,
		      size_t errlen);

/* Sets the argument string of the route at path. Returns 0, or -ENOENT if
 * no route has that path. */
int rwsd_config_args(struct rwsd_config *c, const char *path, const char *args);

/* 1 if r's section gave any deflate key: the route then gets settings of
 * its own (rws_server_route_deflate). */
int rwsd_route_has_deflate(const struct rwsd_route *r);

/* Overrides in d (the server's settings, from rws_server_deflate_defaults)
 * the keys r's section gave. */
void rwsd_route_deflate_apply(const struct rwsd_route *r, struct rws_deflate_options *d);

/* The name of deflate key k in the file ("deflate-level"). */
const char *rwsd_deflate_key_name(enum rwsd_deflate_key k);

/* Lists the deflate keys r's section gave, for messages:
 * "deflate = off (FILE:LINE), deflate-level = 3 (FILE:LINE)". */
void rwsd_route_deflate_describe(const struct rwsd_route *r, char *out, size_t outlen);

/* Writes the listen address as HOST:PORT, or [HOST]:PORT for IPv6. */
void rwsd_config_format_addr(const char *host, unsigned port, char *out, size_t outlen);

#endif
