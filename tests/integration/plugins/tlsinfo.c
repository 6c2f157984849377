/*
 * tlsinfo.c: answers every message with what TLS agreed on the connection,
 * "VERSION CIPHER SNI" (the SNI name "-" when none was sent), or "plain":
 * the plugin ABI's TLS accessors (minor 2) seen from a plugin.
 */
#include <stdio.h>

#include "ringws_plugin.h"

static const struct rws_api *api;

static int init(const struct rws_api *a, struct rws_server *s, const char *args, void **ctx)
{
	(void)s, (void)args;
	api = a;
	*ctx = NULL;
	return 0;
}

static void on_message(void *ctx, struct rws_conn *c, const void *d, size_t n, int is_text)
{
	(void)ctx, (void)d, (void)n, (void)is_text;
	char out[256];
	const char *v = api->conn_tls_version(c);
	if (!v) {
		snprintf(out, sizeof(out), "plain");
	} else {
		const char *sni = api->conn_tls_sni(c);
		snprintf(out, sizeof(out), "%s %s %s", v, api->conn_tls_cipher(c),
			 sni && *sni ? sni : "-");
	}
	size_t len = 0;
	while (out[len])
		len++;
	api->conn_send(c, out, len, RWS_SEND_TEXT);
}

static const struct rws_plugin tlsinfo = {
	.abi_major = RWS_PLUGIN_ABI_MAJOR,
	.abi_minor = 2,
	.struct_size = sizeof(struct rws_plugin),
	.name = "tlsinfo",
	.init = init,
	.handler = { .struct_size = sizeof(struct rws_handler), .on_message = on_message },
};

const struct rws_plugin *rws_plugin_entry(void)
{
	return &tlsinfo;
}
