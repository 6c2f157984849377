/*
 * embed.c: a program that runs a WebSocket server through ringws.h, with
 * no daemon and no plugins: the handlers are its own functions.
 *
 *     make build/embed
 *     build/embed 8080        # 0 picks a free port
 *
 *     ws://127.0.0.1:8080/echo        every message comes back to its sender
 *     ws://127.0.0.1:8080/broadcast   every message goes to every other
 *                                     client of /broadcast
 *
 * It prints "embed: listening on 127.0.0.1:PORT" once the server runs, and
 * stops on SIGINT or SIGTERM: every client gets close 1001, queued messages
 * go out, and the program exits 0.
 *
 * The signals are blocked before rws_server_start(), so the reactor threads
 * it creates inherit the mask and only main receives them, synchronously,
 * in sigwait(): no handler interrupts a reactor, and rws_server_shutdown()
 * runs on an ordinary thread, where ringws.h allows it.
 *
 * It includes only ringws.h, and links with build/libringws.a -luring
 * -lpthread -ldeflate, as any program of your own would.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringws.h"

/* Each message back to its sender, text or binary as it came. */
static void echo_message(void *ctx, struct rws_conn *c, const void *data, size_t len,
			 int is_text)
{
	(void)ctx;
	if (rws_conn_send(c, data, len, is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY) == -ENOBUFS)
		rws_conn_close(c, 1013, "embed: send queue full");
}

/* Each message to every other client of the route (ws's "broadcast to
 * every other connected client"): the frame is built once and shared. */
static void broadcast_message(void *ctx, struct rws_conn *c, const void *data, size_t len,
			      int is_text)
{
	int r;

	(void)ctx;
	r = rws_broadcast(rws_conn_server(c), rws_conn_path(c), data, len,
			  is_text ? RWS_SEND_TEXT : RWS_SEND_BINARY, c);
	if (r < 0)
		fprintf(stderr, "embed: broadcast on %s: %s\n", rws_conn_path(c), rws_strerror(r));
}

/* The server keeps pointers to these: they live as long as the program. */
static const struct rws_handler echo = {
	.struct_size = sizeof(echo),
	.on_message = echo_message,
};

static const struct rws_handler broadcast = {
	.struct_size = sizeof(broadcast),
	.on_message = broadcast_message,
};

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	struct rws_server_options o;
	struct rws_server *s;
	sigset_t sigs;
	char msg[256];
	int err, sig;

	rws_server_options_default(&o);		/* ws's defaults */
	o.host = "127.0.0.1";
	o.port = 8080;
	if (argc > 2 || (argc == 2 && parse_port(argv[1], &o.port) < 0)) {
		fprintf(stderr, "usage: embed [PORT]   (8080 by default; 0 picks a free port)\n");
		return 2;
	}

	/* before any thread exists: every reactor inherits the mask. A shell
	 * starts background jobs with SIGINT ignored, and an ignored signal is
	 * dropped even while blocked, so the default goes back first. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);

	msg[0] = '\0';
	if (!(s = rws_server_create(&o, &err, msg, sizeof(msg)))) {
		fprintf(stderr, "embed: %s\n", msg[0] ? msg : rws_strerror(err));
		return 1;
	}
	if ((err = rws_server_route(s, "/echo", &echo)) < 0 ||
	    (err = rws_server_route(s, "/broadcast", &broadcast)) < 0) {
		fprintf(stderr, "embed: route: %s\n", rws_strerror(err));
		goto err;
	}
	msg[0] = '\0';
	if ((err = rws_server_start(s, msg, sizeof(msg))) < 0) {
		fprintf(stderr, "embed: %s\n", msg[0] ? msg : rws_strerror(err));
		goto err;
	}
	fprintf(stderr, "embed: listening on %s:%u\n", o.host, (unsigned)rws_server_port(s));

	while (sigwait(&sigs, &sig) != 0)
		;
	fprintf(stderr, "embed: %s: shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	rws_server_shutdown(s);		/* 1001 to every client, then the reactors stop */
	rws_server_destroy(s);
	return 0;
err:
	rws_server_destroy(s);
	return 1;
}
