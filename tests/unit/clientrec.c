#include "clientrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void got_init(struct got *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
}

static void on_open(void *ctx, struct rws_conn *c)
{
	struct got *g = ctx;
	const char *v = rws_conn_tls_version(c), *cs = rws_conn_tls_cipher(c);
	pthread_mutex_lock(&g->lock);
	g->opened = 1;
	g->c = c;
	snprintf(g->protocol, sizeof(g->protocol), "%s", rws_conn_protocol(c));
	snprintf(g->version, sizeof(g->version), "%s", v ? v : "");
	snprintf(g->cipher, sizeof(g->cipher), "%s", cs ? cs : "");
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void on_message(void *ctx, struct rws_conn *c, const void *d, size_t n, int is_text)
{
	(void)c;
	struct got *g = ctx;
	pthread_mutex_lock(&g->lock);
	free(g->last);
	g->last = malloc(n ? n : 1);
	memcpy(g->last, d, n);
	g->last_len = n;
	g->last_text = is_text;
	g->nmsgs++;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void on_close(void *ctx, struct rws_conn *c, int code, const char *r, size_t n)
{
	(void)c, (void)r, (void)n;
	struct got *g = ctx;
	pthread_mutex_lock(&g->lock);
	g->closed = 1;
	g->close_code = code;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void on_error(void *ctx, struct rws_conn *c, int err, int status, const char *msg)
{
	(void)c;
	struct got *g = ctx;
	pthread_mutex_lock(&g->lock);
	g->failed = 1;
	g->err = err;
	g->status = status;
	snprintf(g->msg, sizeof(g->msg), "%s", msg);
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

const struct rws_handler got_handler = { .struct_size = sizeof(struct rws_handler),
	.on_open = on_open, .on_message = on_message, .on_close = on_close, .on_error = on_error };

int got_wait(struct got *g, int *flag, int or_end)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&g->lock);
	int rc = 0;
	while (!*flag && !(or_end && (g->failed || g->closed)) && rc == 0)
		rc = pthread_cond_timedwait(&g->cond, &g->lock, &ts);
	int v = *flag;
	pthread_mutex_unlock(&g->lock);
	return v;
}

int got_wait_msgs(struct got *g, int n, int secs)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	pthread_mutex_lock(&g->lock);
	int rc = 0;
	while (g->nmsgs < n && !g->closed && !g->failed && rc == 0)
		rc = pthread_cond_timedwait(&g->cond, &g->lock, &ts);
	int v = g->nmsgs;
	pthread_mutex_unlock(&g->lock);
	return v >= n;
}
