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
 *
 * Only clients with a token get in, as in the ws README's "client
 * authentication" example: on_upgrade refuses, with HTTP 401 and the body
 * "unauthorized", a request whose query has no token=VALUE with a
 * non-empty VALUE. With an argument string (--arg /chat=s3cret, or args in
 * the config file) VALUE must also equal it, byte for byte as sent (no
 * percent-decoding; auth.c shows the thorough version). Without one any
 * token will do:
 *
 *     ws://127.0.0.1:8080/chat?token=anything
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ringws_plugin.h"

struct chat {
	const struct rws_api *api;
	struct rws_server *server;
	char *token;		/* a copy of the argument string; "" accepts any token */
	size_t token_len;
};

/* One per route: ringwsd calls init once for each route the plugin serves,
 * each with that route's argument string. */
static int chat_init(const struct rws_api *api, struct rws_server *s, const char *args,
		     void **ctx)
{
	struct chat *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return -ENOMEM;
	ch->api = api;
	ch->server = s;
	ch->token = strdup(args ? args : "");
	if (!ch->token) {
		free(ch);
		return -ENOMEM;
	}
	ch->token_len = strlen(ch->token);
	*ctx = ch;
	return 0;
}

static void chat_fini(void *ctx)
{
	struct chat *ch = ctx;

	free(ch->token);
	free(ch);
}

static int chat_upgrade(void *ctx, struct rws_upgrade *up)
{
	const struct chat *ch = ctx;
	const struct rws_api *api = ch->api;
	size_t n = 0;
	const char *v = api->upgrade_query_param(up, "token", &n);

	/* no token, an empty one, or (with an argument) another one */
	if (!v || n == 0 || (ch->token_len && (n != ch->token_len || memcmp(v, ch->token, n))))
		return api->upgrade_reject(up, 401, "unauthorized");
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
	.fini = chat_fini,
	.handler = {
		.struct_size = sizeof(struct rws_handler),
		.on_upgrade = chat_upgrade,
		.on_message = chat_message,
	},
};

__attribute__((visibility("default"))) const struct rws_plugin *rws_plugin_entry(void)
{
	return &chat_plugin;
}
