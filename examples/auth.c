/*
 * auth.c: the auth plugin. It shows the upgrade hook: a client must present
 * a token in the URL's query, and the server picks a subprotocol, both
 * before the handshake's 101 answer.
 *
 *     ringwsd --route /auth=build/plugins/auth.so --arg /auth=s3cret
 *     ws://127.0.0.1:8080/auth?token=s3cret   (subprotocols: chat.v1, chat.v2)
 *
 * - The token is the plugin's argument string ("secret" when none is
 *   given). A request whose query lacks token=TOKEN is refused with
 *   HTTP 401 and the body "unauthorized", and never becomes a connection.
 *   The value is percent-decoded ('+' is a space, as browsers encode forms)
 *   and compared in constant time, so response timing does not reveal how
 *   much of a guess was right.
 * - Of the subprotocols the client offers, "chat.v2" is chosen if present,
 *   else the first one; none offered, none chosen.
 * - The check's result rides along as the connection's user data, set
 *   during the upgrade and read back with conn_user() on every message.
 * - Each message is echoed with the chosen subprotocol in front:
 *   "hello" comes back as "chat.v2:hello" (unchanged when there is none),
 *   as text or binary as it came.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ringws_plugin.h"

#define TOKEN_MAX 256
#define PREFERRED "chat.v2"

struct auth {
	const struct rws_api *api;
	char *token;
	size_t token_len;
};

/* The user data of an authorised connection: a marker, nothing to free. */
static const char authorised = 1;

static int auth_init(const struct rws_api *api, struct rws_server *s, const char *args,
		     void **ctx)
{
	struct auth *a = calloc(1, sizeof(*a));

	(void)s;
	if (!a)
		return -ENOMEM;
	a->api = api;
	a->token = strdup(args && *args ? args : "secret");
	if (!a->token) {
		free(a);
		return -ENOMEM;
	}
	a->token_len = strlen(a->token);
	if (a->token_len > TOKEN_MAX) {
		api->log("auth", "the token is longer than %d bytes", TOKEN_MAX);
		free(a->token);
		free(a);
		return -EINVAL;
	}
	*ctx = a;
	return 0;
}

static void auth_fini(void *ctx)
{
	struct auth *a = ctx;

	free(a->token);
	free(a);
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes s[0..len) into out; returns the decoded length, or -1 if it does
 * not fit or is badly encoded. */
static long decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (ch == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -1;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			ch = (char)(hi << 4 | lo);
			i += 2;
		} else if (ch == '+') {
			ch = ' ';
		}
		if (n == cap)
			return -1;
		out[n++] = ch;
	}
	return (long)n;
}

/* Compares without an early exit on the first differing byte. */
static int same(const char *a, const char *b, size_t n)
{
	unsigned char diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* Does the first token= parameter, percent-decoded, equal our token? */
static int token_ok(const struct auth *a, const char *v, size_t len)
{
	char got[TOKEN_MAX];
	long n = decode(v, len, got, sizeof(got));
	return n >= 0 && (size_t)n == a->token_len && same(got, a->token, a->token_len);
}

static int auth_upgrade(void *ctx, struct rws_upgrade *up)
{
	const struct auth *a = ctx;
	const struct rws_api *api = a->api;
	const char *q, *proto;
	size_t qlen = 0, plen;
	int chosen = -1;

	q = api->upgrade_query_param(up, "token", &qlen);
	if (!q || !token_ok(a, q, qlen))
		return api->upgrade_reject(up, 401, "unauthorized");

	for (int i = 0; (proto = api->upgrade_protocol(up, (size_t)i, &plen)); i++) {
		if (plen == strlen(PREFERRED) && memcmp(proto, PREFERRED, plen) == 0) {
			chosen = i;
			break;
		}
		if (chosen < 0)
			chosen = i;
	}
	if (chosen >= 0)
		api->upgrade_select_protocol(up, chosen);
	api->upgrade_set_user(up, (void *)&authorised);
	return 0;
}

static void auth_message(void *ctx, struct rws_conn *c, const void *data, size_t len,
			 int is_text)
{
	const struct auth *a = ctx;
	const struct rws_api *api = a->api;
	unsigned flags = is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY;
	const char *proto = api->conn_protocol(c);
	size_t plen = proto ? strlen(proto) : 0;
	char small[4096], *out;
	int r;

	if (api->conn_user(c) != &authorised) {	/* cannot happen: on_upgrade let it in */
		api->conn_close(c, 1008, "unauthorized");
		return;
	}
	if (plen == 0) {
		r = api->conn_send(c, data, len, flags);
	} else {
		/* one message, so one buffer: the prefix, ':', the payload */
		size_t n = plen + 1 + len;
		out = n <= sizeof(small) ? small : malloc(n);
		if (!out) {
			api->conn_close(c, 1011, "out of memory");
			return;
		}
		memcpy(out, proto, plen);
		out[plen] = ':';
		if (len)
			memcpy(out + plen + 1, data, len);
		r = api->conn_send(c, out, n, flags);
		if (out != small)
			free(out);
	}
	if (r == -ENOBUFS)
		api->conn_close(c, 1013, "auth: send queue full");
}

static const struct rws_plugin auth_plugin = {
	.abi_major = RWS_PLUGIN_ABI_MAJOR,
	.abi_minor = RWS_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rws_plugin),
	.name = "auth",
	.init = auth_init,
	.fini = auth_fini,
	.handler = {
		.struct_size = sizeof(struct rws_handler),
		.on_upgrade = auth_upgrade,
		.on_message = auth_message,
	},
};

__attribute__((visibility("default"))) const struct rws_plugin *rws_plugin_entry(void)
{
	return &auth_plugin;
}
