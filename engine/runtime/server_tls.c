/*
 * server_tls: the certificates of the server's TLS listeners, their reload,
 * and the trust stores of client connections.
 *
 * A listener's certificates are a tls_set: loaded together, referenced by
 * every connection accepted while they were current. A reload loads a
 * whole new set for every listener first and swaps them in only when all
 * loaded, so a bad file changes nothing; open connections keep the set
 * they started with until they end.
 */
#include "runtime/runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/tls.h"

/* A client trust store, made once per (CA file, insecure) and kept until
 * the server is destroyed: loading the system's CAs takes milliseconds. */
struct client_tls {
	struct client_tls *next;
	char *ca_file;		/* NULL: the system's */
	int insecure;
	struct rws_tls_ctx *ctx;
};

void rws_tls_set_put(struct tls_set *t)
{
	if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	for (size_t i = 0; i < t->n; i++) {
		rws_tls_ctx_free(t->ctxs[i]);
		free(t->names[i]);
	}
	free(t->ctxs);
	free(t->names);
	free(t);
}

/* Loads the certificates of conf into a new set (one reference). NULL with
 * the reason in err. */
static struct tls_set *set_load(const struct tls_conf *conf, char *err, size_t errlen)
{
	struct tls_set *t = calloc(1, sizeof(*t));
	if (t) {
		t->ctxs = calloc(conf->n, sizeof(*t->ctxs));
		t->names = calloc(conf->n, sizeof(*t->names));
	}
	if (!t || !t->ctxs || !t->names) {
		if (t) {
			free(t->ctxs);
			free(t->names);
		}
		free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&t->refs, 1);
	for (size_t i = 0; i < conf->n; i++) {
		t->ctxs[i] = rws_tls_ctx_server(conf->cert[i], conf->key[i], err, errlen);
		if (!t->ctxs[i]) {
			rws_tls_set_put(t);
			return NULL;
		}
		t->n = i + 1;
		/* a certificate without names still serves as the default */
		t->names[i] = rws_tls_cert_names(conf->cert[i]);
	}
	return t;
}

int rws_server_tls(struct rws_server *s, int listener, const char *cert_file,
		   const char *key_file, char *errbuf, size_t errlen)
{
	char dummy[8];
	if (!errbuf || !errlen) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	if (!s || !cert_file || !key_file || !*cert_file || !*key_file) {
		snprintf(errbuf, errlen, "a certificate file and a key file are needed");
		return -EINVAL;
	}
	if (s->started) {
		snprintf(errbuf, errlen, "TLS is set before the server starts");
		return -EINVAL;
	}
	if (listener < -1 || listener >= s->naddrs) {
		snprintf(errbuf, errlen, "no listen address %d", listener);
		return -ENOENT;
	}
	int from = listener < 0 ? 0 : listener, to = listener < 0 ? s->naddrs : listener + 1;
	for (int i = from; i < to; i++) {
		struct laddr *a = &s->addrs[i];
		if (!a->tls && !(a->tls = calloc(1, sizeof(*a->tls))))
			goto nomem;
		struct tls_conf *c = a->tls;
		char **cert = realloc(c->cert, (c->n + 1) * sizeof(*cert));
		if (cert)
			c->cert = cert;
		char **key = cert ? realloc(c->key, (c->n + 1) * sizeof(*key)) : NULL;
		if (key)
			c->key = key;
		if (!cert || !key)
			goto nomem;
		c->cert[c->n] = strdup(cert_file);
		c->key[c->n] = strdup(key_file);
		if (!c->cert[c->n] || !c->key[c->n]) {
			free(c->cert[c->n]);
			free(c->key[c->n]);
			goto nomem;
		}
		c->n++;
		/* load now, so a bad file is reported here */
		struct tls_set *t = set_load(c, errbuf, errlen);
		if (!t) {
			c->n--;
			free(c->cert[c->n]);
			free(c->key[c->n]);
			if (!c->n) {
				/* its first certificate failed: plaintext, as before */
				free(c->cert);
				free(c->key);
				free(c);
				a->tls = NULL;
			}
			return -EINVAL;
		}
		rws_tls_set_put(c->set);
		c->set = t;
	}
	return 0;
nomem:
	snprintf(errbuf, errlen, "out of memory");
	return -ENOMEM;
}

int rws_server_tls_reload(struct rws_server *s, char *errbuf, size_t errlen)
{
	char dummy[8];
	if (!errbuf || !errlen) {
		errbuf = dummy;
		errlen = sizeof(dummy);
	}
	if (!s)
		return -EINVAL;
	struct tls_set **fresh = calloc((size_t)s->naddrs, sizeof(*fresh));
	if (!fresh) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	int count = 0, rc = 0;
	for (int i = 0; i < s->naddrs && rc == 0; i++) {
		if (!s->addrs[i].tls)
			continue;
		fresh[i] = set_load(s->addrs[i].tls, errbuf, errlen);
		if (!fresh[i])
			rc = -EINVAL;
		else
			count += (int)fresh[i]->n;
	}
	if (rc == 0) {
		pthread_mutex_lock(&s->tls_lock);
		for (int i = 0; i < s->naddrs; i++) {
			if (!fresh[i])
				continue;
			struct tls_set *old = s->addrs[i].tls->set;
			s->addrs[i].tls->set = fresh[i];
			fresh[i] = old;	/* released below, outside the lock */
		}
		pthread_mutex_unlock(&s->tls_lock);
	}
	for (int i = 0; i < s->naddrs; i++)
		rws_tls_set_put(fresh[i]);
	free(fresh);
	return rc < 0 ? rc : count;
}

/* The current certificates of address addr, with a reference for a new
 * connection, or NULL for a plaintext address. */
struct tls_set *rws_server_tls_take(struct rws_server *s, int addr)
{
	struct tls_conf *c = addr >= 0 && addr < s->naddrs ? s->addrs[addr].tls : NULL;
	if (!c)
		return NULL;
	pthread_mutex_lock(&s->tls_lock);
	struct tls_set *t = c->set;
	atomic_fetch_add(&t->refs, 1);
	pthread_mutex_unlock(&s->tls_lock);
	return t;
}

struct rws_tls_ctx *rws_server_client_tls(struct rws_server *s, const char *ca_file, int insecure,
					  char *err, size_t errlen)
{
	insecure = insecure != 0;
	if (insecure)
		ca_file = NULL;	/* nothing is verified: one store for all */
	pthread_mutex_lock(&s->tls_lock);
	struct client_tls *e = s->client_tls;
	while (e && !(e->insecure == insecure &&
		      (e->ca_file && ca_file ? strcmp(e->ca_file, ca_file) == 0 : e->ca_file == ca_file)))
		e = e->next;
	struct rws_tls_ctx *ctx = e ? e->ctx : NULL;
	if (!e) {
		/* made under the lock: two threads asking at once load it once */
		e = calloc(1, sizeof(*e));
		ctx = e ? rws_tls_ctx_client(ca_file, insecure, err, errlen) : NULL;
		if (e && ctx && (!ca_file || (e->ca_file = strdup(ca_file)))) {
			e->insecure = insecure;
			e->ctx = ctx;
			e->next = s->client_tls;
			s->client_tls = e;
		} else {
			if (!e || (ctx && ca_file))
				snprintf(err, errlen, "out of memory");
			rws_tls_ctx_free(ctx);
			free(e);
			ctx = NULL;
		}
	}
	pthread_mutex_unlock(&s->tls_lock);
	return ctx;
}

void rws_server_tls_free(struct rws_server *s)
{
	for (int i = 0; s->addrs && i < s->naddrs; i++) {
		struct tls_conf *c = s->addrs[i].tls;
		if (!c)
			continue;
		for (size_t k = 0; k < c->n; k++) {
			free(c->cert[k]);
			free(c->key[k]);
		}
		free(c->cert);
		free(c->key);
		rws_tls_set_put(c->set);
		free(c);
		s->addrs[i].tls = NULL;
	}
	while (s->client_tls) {
		struct client_tls *e = s->client_tls;
		s->client_tls = e->next;
		rws_tls_ctx_free(e->ctx);
		free(e->ca_file);
		free(e);
	}
}
