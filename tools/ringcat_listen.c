/*
 * ringcat_listen: --listen, a WebSocket server on one reactor with a route
 * for every path ("*"). By default it echoes each message to its sender,
 * text as text and binary as binary (as ringwsd's echo plugin: a client
 * whose echoes queue up past the send bound is closed with 1013). With
 * --stdio the first client is joined to stdin and stdout as the client mode
 * joins its server (ringcat_link.c); any later client is closed with 1013
 * (try again later), and ringcat exits when the first one's connection
 * ends.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ringcat.h"

static struct rc_link slink;	/* --stdio: the first client */
static int stdio_taken;
static unsigned long nclients;

/* With -s: the first subprotocol the client offers that is one of ours;
 * none, if none is. Without: the library's default (the first offered). */
static int ls_upgrade(void *ctx, struct rws_upgrade *up)
{
	(void)ctx;
	if (!opt.nprotocols)
		return 0;
	const char *p;
	size_t len;
	for (size_t i = 0; (p = rws_upgrade_protocol(up, i, &len)); i++)
		for (size_t j = 0; j < opt.nprotocols; j++)
			if (strlen(opt.protocols[j]) == len && memcmp(opt.protocols[j], p, len) == 0)
				return rws_upgrade_select_protocol(up, (int)i);
	rws_upgrade_select_protocol(up, -1);
	return 0;
}

/* Connections are told apart by their user data: &slink for the stdio
 * client, else the client's number. */
static void ls_open(void *ctx, struct rws_conn *c)
{
	(void)ctx;
	unsigned long id = ++nclients;
	const char *proto = rws_conn_protocol(c);
	if (opt.stdio) {
		pthread_mutex_lock(&rc_lock);
		if (stdio_taken) {
			pthread_mutex_unlock(&rc_lock);
			rc_info("client %lu from %s: busy with client 1, closing it with 1013", id,
				rws_conn_client_ip(c));
			rws_conn_set_user(c, (void *)(uintptr_t)id);
			rws_conn_close(c, 1013, "ringcat: busy with another client");
			return;
		}
		stdio_taken = 1;
		slink.c = c;
		slink.opened = 1;
		rws_conn_set_user(c, &slink);
		pthread_cond_broadcast(&rc_cond);
		pthread_mutex_unlock(&rc_lock);
	} else {
		rws_conn_set_user(c, (void *)(uintptr_t)id);
	}
	rc_info("client %lu connected from %s to %s%s%s", id, rws_conn_client_ip(c),
		rws_conn_path(c), *proto ? ", subprotocol " : "", proto);
}

static void ls_message(void *ctx, struct rws_conn *c, const void *d, size_t n, int is_text)
{
	(void)ctx;
	void *u = rws_conn_user(c);
	if (u == &slink) {
		rc_link_message(&slink, d, n, is_text);
		return;
	}
	if (opt.stdio)
		return;	/* a busy client on its way out */
	/* as ringwsd's echo plugin: a client that sends faster than it reads
	 * its echoes is told to try again later */
	if (rws_conn_send(c, d, n, is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY) == -ENOBUFS)
		rws_conn_close(c, 1013, "ringcat: send queue full");
}

static void ls_pong(void *ctx, struct rws_conn *c, const void *d, size_t n)
{
	(void)ctx;
	if (rws_conn_user(c) == &slink)
		rc_link_pong(&slink, d, n);
}

static void ls_close(void *ctx, struct rws_conn *c, int code, const char *r, size_t n)
{
	(void)ctx;
	void *u = rws_conn_user(c);
	if (u == &slink) {
		rc_link_closed(&slink, code, r, n);
		return;
	}
	rc_info("client %lu closed (%d%s%.*s)", (unsigned long)(uintptr_t)u, code, n ? ": " : "",
		(int)n, r ? r : "");
}

static const struct rws_handler listen_handler = {
	.struct_size = sizeof(struct rws_handler),
	.on_upgrade = ls_upgrade,
	.on_open = ls_open,
	.on_message = ls_message,
	.on_pong = ls_pong,
	.on_close = ls_close,
};

int rc_listen_main(void)
{
	rc_signals_start();
	struct rws_server_options so;
	rws_server_options_default(&so);
	so.host = opt.host;
	so.port = opt.port;
	so.threads = 1;
	if (opt.max_payload_set)
		so.max_payload = opt.max_payload;
	if (opt.handshake_timeout_ms != UINT32_MAX)
		so.handshake_timeout_ms = opt.handshake_timeout_ms;
	so.close_timeout_ms = opt.close_wait_ms ? opt.close_wait_ms : 1;
	so.deflate = opt.deflate == 1;
	so.ping_interval_ms = opt.ping_interval_ms;
	so.pong_timeout_ms = opt.pong_timeout_ms;
	/* echo: a refused send closes with 1013 (ls_message); --stdio: the
	 * link's window bounds what is queued */
	so.backpressure = RWS_BP_REFUSE;
	if (opt.stdio)
		so.max_buffered = 0;
	int err = 0;
	char eb[256] = "";
	struct rws_server *s = rws_server_create(&so, &err, eb, sizeof(eb));
	if (!s) {
		rc_err("cannot listen on %s: %s", opt.host, eb[0] ? eb : rws_strerror(err));
		return err == -EINVAL ? RC_USAGE : RC_CONNECT;
	}
	int rc = rws_server_route(s, "*", &listen_handler);
	if (rc == 0)
		rc = rws_server_start(s, eb, sizeof(eb));
	if (rc < 0) {
		rc_err("cannot listen on %s%s%s:%u: %s", strchr(opt.host, ':') ? "[" : "", opt.host,
		       strchr(opt.host, ':') ? "]" : "", opt.port, eb[0] ? eb : rws_strerror(rc));
		rws_server_destroy(s);
		return rc == -EINVAL ? RC_USAGE : RC_CONNECT;	/* a bad address, or cannot bind */
	}
	rc_err("listening on %s%s%s:%u", strchr(opt.host, ':') ? "[" : "", opt.host,
	       strchr(opt.host, ':') ? "]" : "", rws_server_port(s));

	int st = RC_OK;
	pthread_mutex_lock(&rc_lock);
	if (!opt.stdio) {
		while (!rc_signals)
			rc_wait(0);
		pthread_mutex_unlock(&rc_lock);
	} else {
		while (!slink.opened && !rc_signals)
			rc_wait(0);
		int opened = slink.opened;
		pthread_mutex_unlock(&rc_lock);
		if (opened) {
			rc_link_start_stdin(&slink);
			st = rc_link_run(&slink, "the client");
		}
	}
	/* 1001 to whoever is left, at most the close timeout */
	rws_server_shutdown(s);
	rws_server_destroy(s);
	return st;
}
