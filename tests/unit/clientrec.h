/*
 * clientrec: a client handler for the unit tests that records what a
 * connection saw (open, messages, close, on_error), under a lock, for a
 * test thread to wait on.
 */
#ifndef RWS_CLIENTREC_H
#define RWS_CLIENTREC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ringws.h"

struct got {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int opened, closed, failed;
	int close_code, err, status;
	char msg[512];		/* on_error's */
	char protocol[64];	/* the subprotocol agreed, at open */
	char version[32];	/* TLS: the version and suite, at open ("" without) */
	char cipher[64];
	int nmsgs;
	uint8_t *last;		/* the last message (malloc'd) */
	size_t last_len;
	int last_text;
	struct rws_conn *c;
};

void got_init(struct got *g);

/* The handler's callbacks: give each connection a copy with ctx = g. */
extern const struct rws_handler got_handler;

/* Waits until *flag (a field of g) is set, at most 10 s; with or_end, also
 * stops when the connection failed or closed. Returns *flag. */
int got_wait(struct got *g, int *flag, int or_end);

/* Waits until g has n messages (or closed or failed), at most secs s.
 * Returns whether it has. */
int got_wait_msgs(struct got *g, int n, int secs);

#endif
