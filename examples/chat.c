/*
 * chat.c: the chat plugin. Every message goes to every other client
 * connected to the same path, not back to its sender: ws's "broadcast to
 * every other connected WebSocket client" example.
 *
 *     ringwsd --route /chat=build/plugins/chat.so
 *
 * It keeps no list of clients: the server already knows every open
 * connection of a route, and api->broadcast() builds the frame once and
 * queues the same bytes to each of them, whichever reactor thread owns it.
 * A client too slow to keep up meets the server's backpressure policy
 * (--max-buffered, --backpressure) like any other.
 *
 * The broadcast goes to the route of the path the sender connected to, so
 * one chat.so routed at /a and /b runs two separate rooms; routed at "*" it
 * runs one room for every path that route catches.
 */
#include "ringws_plugin.h"

struct chat {
	const struct rws_api *api;
	struct rws_server *server;
};

static struct chat chat_state;

static int chat_init(const struct rws_api *api, struct rws_server *s, const char *args,
		     void **ctx)
{
	(void)args;
	chat_state.api = api;
	chat_state.server = s;
	*ctx = &chat_state;
	return 0;
}

static void chat_message(void *ctx, struct rws_conn *c, const void *data, size_t len,
			 int is_text)
{
	const struct chat *ch = ctx;
	const struct rws_api *api = ch->api;
	int r;

	r = api->broadcast(ch->server, api->conn_path(c), data, len,
			   is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY, c);
	if (r < 0)
		api->log("chat", "broadcast on %s failed (%d)", api->conn_path(c), r);
}

static const struct rws_plugin chat_plugin = {
	.abi_major = RWS_PLUGIN_ABI_MAJOR,
	.abi_minor = RWS_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rws_plugin),
	.name = "chat",
	.init = chat_init,
	.handler = {
		.struct_size = sizeof(struct rws_handler),
		.on_message = chat_message,
	},
};

__attribute__((visibility("default"))) const struct rws_plugin *rws_plugin_entry(void)
{
	return &chat_plugin;
}
