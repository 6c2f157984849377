/*
 * echo.c: the echo plugin. Every message comes back to its sender as it
 * came: same bytes, same type (text or binary), any size up to the server's
 * max-payload. The conformance tests run against it.
 *
 *     ringwsd --route /=build/plugins/echo.so
 *
 * It is also the smallest complete plugin: one exported function returning
 * the table, an init() that keeps the engine's function table, and one
 * callback. The message memory is only borrowed during on_message(); the
 * send copies it into the connection's queue, so nothing here allocates.
 *
 * A send can fail in two ordinary ways: -EPIPE, the connection is already
 * closing (nothing to do), and -ENOBUFS, when the server runs with
 * --backpressure refuse and the client does not read its echoes; then the
 * client is told so with 1013 (try again later) rather than losing a message
 * silently. (With the default policy the server itself closes such a client
 * with 1008.)
 */
#include <errno.h>

#include "ringws_plugin.h"

static int echo_init(const struct rws_api *api, struct rws_server *s, const char *args,
		     void **ctx)
{
	(void)s;
	(void)args;
	*ctx = (void *)api;	/* the table is all the state echo needs */
	return 0;
}

static void echo_message(void *ctx, struct rws_conn *c, const void *data, size_t len,
			 int is_text)
{
	const struct rws_api *api = ctx;
	int r = api->conn_send(c, data, len, is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY);

	if (r == -ENOBUFS)
		api->conn_close(c, 1013, "echo: send queue full");
}

static const struct rws_plugin echo_plugin = {
	.abi_major = RWS_PLUGIN_ABI_MAJOR,
	.abi_minor = RWS_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rws_plugin),
	.name = "echo",
	.init = echo_init,
	.handler = {
		.struct_size = sizeof(struct rws_handler),
		.on_message = echo_message,
	},
};

__attribute__((visibility("default"))) const struct rws_plugin *rws_plugin_entry(void)
{
	return &echo_plugin;
}
