/*
 * plugin.c: loading a handler plugin into ringwsd.
 *
 * A plugin is a .so exporting rws_plugin_entry() (ringws_plugin.h). Loading
 * goes in two steps, so that every file is checked before the server
 * exists: open (dlopen, entry, ABI check) and start (init, with the server
 * and the route's argument string). The ABI check comes before any other
 * call into the plugin, as nginx checks a module's version before using it:
 * the major must equal ours, the minor must not be newer than ours (a newer
 * minor may rely on table entries we lack), and the struct must reach at
 * least to the end of ABI 1.0's handler table. A plugin's struct may be
 * longer than ours (a future minor of the same major that we refused
 * anyway) or shorter (an older minor): we copy what both sides know and
 * leave the rest NULL.
 *
 * dlopen() uses RTLD_NOW so a missing symbol fails here, at start-up, not
 * on the first message, and RTLD_LOCAL so two plugins' static helpers with
 * the same name never bind to each other. Plugins link against nothing of
 * ours: the engine reaches them as the function table `api` below.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/plugin.h"

/* The smallest struct rws_plugin of ABI 1.0: through handler.on_drain. */
#define PLUGIN_MIN_SIZE \
	(offsetof(struct rws_plugin, handler.on_drain) + sizeof(void (*)(void)))

static void plugin_log(const char *plugin, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void plugin_log(const char *plugin, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rwsd_vlog(RWSD_LOG_INFO, plugin && *plugin ? plugin : "plugin", fmt, ap);
	va_end(ap);
}

static const struct rws_api api = {
	.struct_size = sizeof(struct rws_api),
	.conn_send = rws_conn_send,
	.conn_ping = rws_conn_ping,
	.conn_pong = rws_conn_pong,
	.conn_close = rws_conn_close,
	.conn_terminate = rws_conn_terminate,
	.conn_buffered = rws_conn_buffered,
	.conn_pause = rws_conn_pause,
	.conn_resume = rws_conn_resume,
	.conn_user = rws_conn_user,
	.conn_set_user = rws_conn_set_user,
	.conn_remote = rws_conn_remote,
	.conn_client_ip = rws_conn_client_ip,
	.conn_protocol = rws_conn_protocol,
	.conn_path = rws_conn_path,
	.conn_server = rws_conn_server,
	.broadcast = rws_broadcast,
	.foreach = rws_foreach,
	.upgrade_method = rws_upgrade_method,
	.upgrade_path = rws_upgrade_path,
	.upgrade_query = rws_upgrade_query,
	.upgrade_header = rws_upgrade_header,
	.upgrade_header_at = rws_upgrade_header_at,
	.upgrade_protocol = rws_upgrade_protocol,
	.upgrade_remote = rws_upgrade_remote,
	.upgrade_select_protocol = rws_upgrade_select_protocol,
	.upgrade_set_user = rws_upgrade_set_user,
	.upgrade_reject = rws_upgrade_reject,
	.log = plugin_log,
	.upgrade_query_param = rws_upgrade_query_param,
	.client_options_default = rws_client_options_default,
	.connect = rws_connect,
	.conn_tls_version = rws_conn_tls_version,
	.conn_tls_cipher = rws_conn_tls_cipher,
	.conn_tls_sni = rws_conn_tls_sni,
};

static const char *basename_of(const char *file)
{
	const char *slash = strrchr(file, '/');

	return slash ? slash + 1 : file;
}

int rwsd_plugin_open(struct rwsd_plugin *pl, const char *file, char *err, size_t errlen)
{
	const struct rws_plugin *p;
	rws_plugin_entry_fn entry;
	const char *why;
	size_t flen = strlen(file);

	memset(pl, 0, sizeof(*pl));
	pl->file = file;

	dlerror();
	if (!(pl->dl = dlopen(file, RTLD_NOW | RTLD_LOCAL))) {
		why = dlerror();
		if (!why)
			why = "unknown error";
		/* glibc's message usually begins with the file name already */
		if (strncmp(why, file, flen) == 0 && strncmp(why + flen, ": ", 2) == 0)
			why += flen + 2;
		snprintf(err, errlen, "%s: cannot load: %s", file, why);
		return -ENOEXEC;
	}

	dlerror();
	entry = (rws_plugin_entry_fn)dlsym(pl->dl, RWS_PLUGIN_ENTRY);
	if (!entry) {
		snprintf(err, errlen, "%s: exports no %s(): not a ringwsd plugin", file,
		    RWS_PLUGIN_ENTRY);
		goto err;
	}
	if (!(p = entry())) {
		snprintf(err, errlen, "%s: %s() returned NULL: refused", file, RWS_PLUGIN_ENTRY);
		goto err;
	}
	if (p->abi_major != RWS_PLUGIN_ABI_MAJOR || p->abi_minor > RWS_PLUGIN_ABI_MINOR) {
		snprintf(err, errlen, "%s: plugin ABI %u.%u, this ringwsd speaks %u.%u: refused", file,
		    p->abi_major, p->abi_minor, RWS_PLUGIN_ABI_MAJOR, RWS_PLUGIN_ABI_MINOR);
		goto err;
	}
	if (p->struct_size < PLUGIN_MIN_SIZE) {
		snprintf(err, errlen, "%s: plugin table is %u bytes, ABI %u.%u needs at least %zu: refused",
		    file, p->struct_size, RWS_PLUGIN_ABI_MAJOR, RWS_PLUGIN_ABI_MINOR,
		    PLUGIN_MIN_SIZE);
		goto err;
	}

	pl->p = p;
	pl->name = p->name && *p->name ? p->name : basename_of(file);
	return 0;
err:
	dlclose(pl->dl);
	pl->dl = NULL;
	return -ENOEXEC;
}

int rwsd_plugin_start(struct rwsd_plugin *pl, struct rws_server *s, const char *args,
		      const char *path, char *err, size_t errlen)
{
	const struct rws_plugin *p = pl->p;
	size_t have, off = offsetof(struct rws_plugin, handler);
	void *ctx = NULL;
	int r;

	if (p->init) {
		r = p->init(&api, s, args ? args : "", &ctx);
		if (r != 0) {
			if (r > 0)	/* not the ABI's convention; still a refusal */
				r = -r;
			snprintf(err, errlen, "%s: plugin '%s' refused to start on route %s: %s", pl->file,
			    pl->name, path, strerror(-r));
			return r;
		}
	}
	pl->ctx = ctx;
	pl->started = 1;

	/* our handler table, from as much of the plugin's as both sides know */
	memset(&pl->handler, 0, sizeof(pl->handler));
	have = p->struct_size - off;
	memcpy(&pl->handler, &p->handler, have < sizeof(pl->handler) ? have : sizeof(pl->handler));
	pl->handler.struct_size = sizeof(pl->handler);
	pl->handler.ctx = ctx;
	return 0;
}

void rwsd_plugin_close(struct rwsd_plugin *pl)
{
	if (pl->started && pl->p->fini)
		pl->p->fini(pl->ctx);
	pl->started = 0;
	if (pl->dl)
		dlclose(pl->dl);
	pl->dl = NULL;
	pl->p = NULL;
}
