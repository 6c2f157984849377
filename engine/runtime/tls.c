/*
 * tls: TLS on wolfSSL over in-memory buffers (see tls.h).
 *
 * wolfSSL's I/O callbacks read the ciphertext fed to us and append what it
 * writes to our output, so a handshake or a record never touches a socket.
 * A server connection makes its WOLFSSL only once the whole first record
 * (the ClientHello) is in: its SNI name chooses the certificate.
 */
#include "runtime/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfio.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/ecc.h>

/* AEAD suites with forward secrecy only, in our order of preference (the
 * server's order decides). ChaCha20-Poly1305 comes first: wolfSSL as
 * Debian builds it has no AES-NI, and on 4 KiB records it encrypts about
 * 2.5 times faster than AES-GCM there (bench/results/tls/). */
#define CIPHERS                                                                     \
	"TLS13-CHACHA20-POLY1305-SHA256:TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                       \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                       \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"

#define ALPN "http/1.1"
#define HELLO_MAX (16384 + 5)	/* a first record larger than this is not a ClientHello */

struct rws_tls_ctx {
	WOLFSSL_CTX *ctx;
	int server;
	int insecure;
};

struct buf {
	uint8_t *p;
	size_t off, len, cap;	/* bytes p[off..len) are pending */
};

struct rws_tls {
	WOLFSSL *ssl;
	struct rws_tls_ctx *const *ctxs;	/* server: the choice, until the hello */
	const char *const *names;
	size_t nctx;
	struct rws_tls_ctx *ctx;
	int server, ready, dead, fed;
	struct buf in, out;
	const uint8_t *ext;		/* borrowed input (rws_tls_feed_borrow), read after in */
	size_t ext_len;
	int (*sink)(void *arg, const uint8_t *p, size_t n);
	void *sink_arg;
	char sni[256];
	char err[200];
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
	wolfSSL_Init();
}

/* --- buffers ------------------------------------------------------------------ */

static int buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->cap - b->len < n) {
		/* move what is pending to the front, then grow */
		if (b->off) {
			memmove(b->p, b->p + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		if (b->cap - b->len < n) {
			size_t cap = b->cap ? b->cap : 4096;
			while (cap - b->len < n)
				cap *= 2;
			uint8_t *q = realloc(b->p, cap);
			if (!q)
				return -1;
			b->p = q;
			b->cap = cap;
		}
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* --- wolfSSL's I/O, on our buffers --------------------------------------------- */

static int io_recv(WOLFSSL *ssl, char *dst, int sz, void *arg)
{
	(void)ssl;
	struct rws_tls *t = arg;
	size_t avail = t->in.len - t->in.off;
	if (!avail) {
		/* then the borrowed bytes */
		if (!t->ext_len)
			return WOLFSSL_CBIO_ERR_WANT_READ;
		size_t n = t->ext_len < (size_t)sz ? t->ext_len : (size_t)sz;
		memcpy(dst, t->ext, n);
		t->ext += n;
		t->ext_len -= n;
		return (int)n;
	}
	size_t n = avail < (size_t)sz ? avail : (size_t)sz;
	memcpy(dst, t->in.p + t->in.off, n);
	t->in.off += n;
	if (t->in.off == t->in.len) {
		/* an idle connection keeps no input buffer */
		free(t->in.p);
		t->in.p = NULL;
		t->in.off = t->in.len = t->in.cap = 0;
	}
	return (int)n;
}

static int io_send(WOLFSSL *ssl, char *src, int sz, void *arg)
{
	(void)ssl;
	struct rws_tls *t = arg;
	if (t->sink)
		return t->sink(t->sink_arg, (const uint8_t *)src, (size_t)sz) < 0
			       ? WOLFSSL_CBIO_ERR_GENERAL : sz;
	if (buf_put(&t->out, src, (size_t)sz) < 0)
		return WOLFSSL_CBIO_ERR_GENERAL;
	return sz;
}

/* --- contexts ------------------------------------------------------------------ */

/* Why file was refused as a `what`: unreadable, or not what it should be
 * (wolfSSL's rc says how). */
static int fail_cfg(char *err, size_t errlen, const char *what, const char *file, int rc)
{
	if (!err || !errlen)
		return -1;
	FILE *f = file ? fopen(file, "r") : NULL;
	if (file && !f) {
		snprintf(err, errlen, "%s %s: %s", what, file, strerror(errno));
		return -1;
	}
	if (f)
		fclose(f);
	/* rc is an error code when negative; WOLFSSL_FAILURE (0) says nothing,
	 * then the queue may */
	long code = rc < 0 ? rc : -(long)wolfSSL_ERR_get_error();
	if (code == 0) {
		snprintf(err, errlen, "%s %s is not usable PEM", what, file ? file : "");
		return -1;
	}
	char e[WOLFSSL_MAX_ERROR_SZ];
	wolfSSL_ERR_error_string_n((unsigned long)-code, e, sizeof(e));
	snprintf(err, errlen, "%s %s is not usable PEM (%s)", what, file ? file : "", e);
	return -1;
}

static struct rws_tls_ctx *ctx_new(int server, char *err, size_t errlen)
{
	pthread_once(&init_once, init);
	struct rws_tls_ctx *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->server = server;
	c->ctx = wolfSSL_CTX_new(server ? wolfSSLv23_server_method() : wolfSSLv23_client_method());
	if (!c->ctx || wolfSSL_CTX_SetMinVersion(c->ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_cipher_list(c->ctx, CIPHERS) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cannot set up a TLS context");
		rws_tls_ctx_free(c);
		return NULL;
	}
	/* key exchange: X25519 first. Without assembly in this wolfSSL, a
	 * server's TLS 1.3 handshake costs about 355 us of CPU with X25519
	 * against 939 us with P-256 (ECDSA P-256 certificate, measured in
	 * memory); P-256 and P-384 stay for clients that offer only those */
	int groups[] = { WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_SECP384R1 };
	if (wolfSSL_CTX_set_groups(c->ctx, groups, 3) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cannot set up a TLS context (key exchange groups)");
		rws_tls_ctx_free(c);
		return NULL;
	}
	wolfSSL_CTX_SetIORecv(c->ctx, io_recv);
	wolfSSL_CTX_SetIOSend(c->ctx, io_send);
	return c;
}

static int self_check(struct rws_tls_ctx *server);

struct rws_tls_ctx *rws_tls_ctx_server(const char *cert_file, const char *key_file, char *err,
				       size_t errlen)
{
	struct rws_tls_ctx *c = ctx_new(1, err, errlen);
	if (!c)
		return NULL;
	int rc = wolfSSL_CTX_use_certificate_chain_file(c->ctx, cert_file);
	if (rc != WOLFSSL_SUCCESS) {
		fail_cfg(err, errlen, "certificate", cert_file, rc);
		rws_tls_ctx_free(c);
		return NULL;
	}
	rc = wolfSSL_CTX_use_PrivateKey_file(c->ctx, key_file, WOLFSSL_FILETYPE_PEM);
	if (rc != WOLFSSL_SUCCESS) {
		fail_cfg(err, errlen, "private key", key_file, rc);
		rws_tls_ctx_free(c);
		return NULL;
	}
	/* wolfSSL's own check compares little more than the key type: a
	 * handshake with ourselves proves the key signs for the certificate */
	if (wolfSSL_CTX_check_private_key(c->ctx) != WOLFSSL_SUCCESS || self_check(c) < 0) {
		snprintf(err, errlen, "private key %s does not match certificate %s", key_file,
			 cert_file);
		rws_tls_ctx_free(c);
		return NULL;
	}
	return c;
}

struct rws_tls_ctx *rws_tls_ctx_client(const char *ca_file, int insecure, char *err,
				       size_t errlen)
{
	struct rws_tls_ctx *c = ctx_new(0, err, errlen);
	if (!c)
		return NULL;
	c->insecure = insecure != 0;
	if (insecure) {
		wolfSSL_CTX_set_verify(c->ctx, WOLFSSL_VERIFY_NONE, NULL);
		return c;
	}
	wolfSSL_CTX_set_verify(c->ctx, WOLFSSL_VERIFY_PEER, NULL);
	int rc = ca_file ? wolfSSL_CTX_load_verify_locations(c->ctx, ca_file, NULL)
			 : wolfSSL_CTX_load_system_CA_certs(c->ctx);
	if (rc != WOLFSSL_SUCCESS) {
		fail_cfg(err, errlen, ca_file ? "CA file" : "the system's CA certificates", ca_file,
			 rc);
		rws_tls_ctx_free(c);
		return NULL;
	}
	return c;
}

void rws_tls_thread_done(void)
{
#if defined(FP_ECC) && defined(HAVE_ECC)
	wc_ecc_fp_free();
#endif
}

void rws_tls_ctx_free(struct rws_tls_ctx *c)
{
	if (!c)
		return;
	if (c->ctx)
		wolfSSL_CTX_free(c->ctx);
	free(c);
}

/* --- connections ---------------------------------------------------------------- */

static int attach(struct rws_tls *t, struct rws_tls_ctx *ctx)
{
	t->ctx = ctx;
	t->ssl = wolfSSL_new(ctx->ctx);
	if (!t->ssl)
		return -1;
	wolfSSL_SetIOReadCtx(t->ssl, t);
	wolfSSL_SetIOWriteCtx(t->ssl, t);
	char alpn[] = ALPN;
	if (wolfSSL_UseALPN(t->ssl, alpn, sizeof(alpn) - 1, WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) !=
	    WOLFSSL_SUCCESS)
		return -1;
	return 0;
}

struct rws_tls *rws_tls_new_server(struct rws_tls_ctx *const *ctxs, const char *const *names,
				   size_t n)
{
	if (!ctxs || !n)
		return NULL;
	struct rws_tls *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->server = 1;
	t->ctxs = ctxs;
	t->names = names;
	t->nctx = n;
	return t;
}

static int is_ip(const char *host)
{
	unsigned char a[16];
	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

struct rws_tls *rws_tls_new_client(struct rws_tls_ctx *ctx, const char *host)
{
	struct rws_tls *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (attach(t, ctx) < 0)
		goto fail;
	if (host && *host && !is_ip(host) &&
	    wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME, host, (unsigned short)strlen(host)) !=
		    WOLFSSL_SUCCESS)
		goto fail;
	if (!ctx->insecure && host && *host && wolfSSL_check_domain_name(t->ssl, host) != WOLFSSL_SUCCESS)
		goto fail;
	snprintf(t->sni, sizeof(t->sni), "%s", host && !is_ip(host) ? host : "");
	return t;
fail:
	rws_tls_free(t);
	return NULL;
}

void rws_tls_free(struct rws_tls *t)
{
	if (!t)
		return;
	if (t->ssl)
		wolfSSL_free(t->ssl);
	free(t->in.p);
	free(t->out.p);
	free(t);
}

int rws_tls_feed(struct rws_tls *t, const uint8_t *in, size_t n)
{
	t->fed |= n > 0;
	if (t->ext_len) {
		/* borrowed bytes still unread come before these: ours now */
		if (buf_put(&t->in, t->ext, t->ext_len) < 0)
			return RWS_TLS_E_NOMEM;
		t->ext = NULL;
		t->ext_len = 0;
	}
	return buf_put(&t->in, in, n) < 0 ? RWS_TLS_E_NOMEM : 0;
}

int rws_tls_feed_borrow(struct rws_tls *t, const uint8_t *in, size_t n)
{
	if (t->in.len > t->in.off || t->ext_len)
		return rws_tls_feed(t, in, n);	/* after bytes still waiting: in order */
	t->fed |= n > 0;
	t->ext = in;
	t->ext_len = n;
	return 0;
}

int rws_tls_feed_done(struct rws_tls *t)
{
	const uint8_t *p = t->ext;
	size_t n = t->ext_len;
	t->ext = NULL;
	t->ext_len = 0;
	return n ? rws_tls_feed(t, p, n) : 0;
}

void rws_tls_set_sink(struct rws_tls *t, int (*sink)(void *arg, const uint8_t *p, size_t n),
		      void *arg)
{
	t->sink = sink;
	t->sink_arg = arg;
}

int rws_tls_fed(const struct rws_tls *t)
{
	return t->fed;
}

/* "*.domain" matches one label in front of domain; anything else exactly
 * (host names compare without case). pattern is p[0..n). */
static int name_match(const char *p, size_t n, const char *name)
{
	if (n > 2 && p[0] == '*' && p[1] == '.') {
		const char *dot = strchr(name, '.');
		return dot && dot != name && strlen(dot + 1) == n - 2 &&
		       strncasecmp(dot + 1, p + 2, n - 2) == 0;
	}
	return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* Whether any of the space-separated patterns in list matches name. */
static int names_match(const char *list, const char *name)
{
	while (list && *list) {
		size_t n = strcspn(list, " ");
		if (n && name_match(list, n, name))
			return 1;
		list += n;
		list += strspn(list, " ");
	}
	return 0;
}

char *rws_tls_cert_names(const char *cert_file)
{
	pthread_once(&init_once, init);
	WOLFSSL_X509 *x = wolfSSL_X509_load_certificate_file(cert_file, WOLFSSL_FILETYPE_PEM);
	if (!x)
		return NULL;
	size_t cap = 256, len = 0;
	char *out = malloc(cap);
	const char *dns;
	while (out && (dns = wolfSSL_X509_get_next_altname(x)) != NULL) {
		size_t n = strlen(dns);
		if (!n || strchr(dns, ' '))
			continue;
		if (len + n + 2 > cap) {
			while (len + n + 2 > cap)
				cap *= 2;
			char *q = realloc(out, cap);
			if (!q) {
				free(out);
				out = NULL;
				break;
			}
			out = q;
		}
		if (len)
			out[len++] = ' ';
		memcpy(out + len, dns, n);
		len += n;
		out[len] = 0;
	}
	if (out && !len) {
		/* no DNS names: the CN */
		WOLFSSL_X509_NAME *subj = wolfSSL_X509_get_subject_name(x);
		int n = subj ? wolfSSL_X509_NAME_get_text_by_NID(subj, NID_commonName, out, (int)cap)
			     : -1;
		len = n > 0 && !strchr(out, ' ') ? (size_t)n : 0;
	}
	wolfSSL_X509_free(x);
	if (out && !len) {
		free(out);
		out = NULL;
	}
	return out;
}

/* Server: once the first record is in, its SNI chooses the context.
 * Returns 0 when the WOLFSSL exists, RWS_TLS_E_WANT, or an error. */
static int server_start(struct rws_tls *t)
{
	/* the hello is peeked where it is: in our buffer, or still borrowed */
	if (t->ext_len && t->in.len > t->in.off) {
		if (buf_put(&t->in, t->ext, t->ext_len) < 0)
			return RWS_TLS_E_NOMEM;
		t->ext = NULL;
		t->ext_len = 0;
	}
	int own = t->in.len > t->in.off;
	const uint8_t *p = own ? t->in.p + t->in.off : t->ext;
	size_t have = own ? t->in.len - t->in.off : t->ext_len;
	if (have == 0)
		return RWS_TLS_E_WANT;
	/* a handshake record of TLS 1.x (legacy version 3.1 .. 3.4) */
	if (p[0] != 0x16 || (have > 1 && p[1] != 3)) {
		snprintf(t->err, sizeof(t->err), "not TLS: the first bytes are not a ClientHello%s",
			 p[0] >= 'A' && p[0] <= 'Z' ? " (plain HTTP on a TLS port?)" : "");
		return RWS_TLS_E_NOT_TLS;
	}
	if (have < 5)
		return RWS_TLS_E_WANT;
	size_t rec = 5 + ((size_t)p[3] << 8 | p[4]);
	if (rec > HELLO_MAX) {
		snprintf(t->err, sizeof(t->err), "not TLS: a first record of %zu bytes", rec);
		return RWS_TLS_E_NOT_TLS;
	}
	if (have < rec)
		return RWS_TLS_E_WANT;
	char name[256];
	unsigned int len = sizeof(name) - 1;
	size_t pick = 0;
	name[0] = 0;
	if (wolfSSL_SNI_GetFromBuffer(p, (unsigned)rec, WOLFSSL_SNI_HOST_NAME, (unsigned char *)name,
				      &len) == WOLFSSL_SUCCESS) {
		name[len < sizeof(name) ? len : sizeof(name) - 1] = 0;
		for (size_t i = 0; t->names && i < t->nctx; i++)
			if (t->names[i] && names_match(t->names[i], name)) {
				pick = i;
				break;
			}
	} else {
		name[0] = 0;
	}
	snprintf(t->sni, sizeof(t->sni), "%s", name);
	if (attach(t, t->ctxs[pick]) < 0) {
		snprintf(t->err, sizeof(t->err), "out of memory");
		return RWS_TLS_E_NOMEM;
	}
	return 0;
}

static int is_verify_error(int e)
{
	switch (e) {
	case ASN_NO_SIGNER_E:
	case ASN_AFTER_DATE_E:
	case ASN_BEFORE_DATE_E:
	case DOMAIN_NAME_MISMATCH:
	case IPADDR_MISMATCH:
	case ASN_SELF_SIGNED_E:
	case ASN_SIG_CONFIRM_E:
	case VERIFY_CERT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* Maps the last wolfSSL failure of ret to our code, with the reason. */
static int failure(struct rws_tls *t, int ret, int handshake)
{
	int e = wolfSSL_get_error(t->ssl, ret);
	if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE)
		return RWS_TLS_E_WANT;
	if (e == WOLFSSL_ERROR_ZERO_RETURN) {
		snprintf(t->err, sizeof(t->err), "the peer closed the TLS session (close_notify)");
		return RWS_TLS_E_CLOSED;
	}
	char s[WOLFSSL_MAX_ERROR_SZ];
	wolfSSL_ERR_error_string_n((unsigned long)(e < 0 ? -e : e), s, sizeof(s));
	t->dead = 1;
	if (is_verify_error(e)) {
		const char *why = e == ASN_NO_SIGNER_E ? "not signed by a trusted CA"
				: e == ASN_AFTER_DATE_E ? "the certificate has expired"
				: e == ASN_BEFORE_DATE_E ? "the certificate is not valid yet"
				: e == DOMAIN_NAME_MISMATCH ? "the host name does not match the certificate"
				: e == IPADDR_MISMATCH ? "the IP address does not match the certificate"
				: s;
		snprintf(t->err, sizeof(t->err), "certificate verification failed: %s (%d)", why, e);
		return RWS_TLS_E_VERIFY;
	}
	snprintf(t->err, sizeof(t->err), "%s%s (%d)", handshake ? "TLS handshake failed: " : "", s,
		 e);
	return handshake ? RWS_TLS_E_HANDSHAKE : RWS_TLS_E_PROTOCOL;
}

int rws_tls_read(struct rws_tls *t, uint8_t *out, size_t cap)
{
	if (t->dead)
		return RWS_TLS_E_PROTOCOL;
	if (!t->ssl) {
		int rc = server_start(t);
		if (rc < 0) {
			if (rc != RWS_TLS_E_WANT)
				t->dead = 1;
			return rc;
		}
	}
	if (!t->ready) {
		int ret = t->server ? wolfSSL_accept(t->ssl) : wolfSSL_connect(t->ssl);
		if (ret != WOLFSSL_SUCCESS)
			return failure(t, ret, 1);
		t->ready = 1;
	}
	if (cap == 0)
		return RWS_TLS_E_WANT;
	int n = wolfSSL_read(t->ssl, out, cap > (size_t)INT32_MAX ? INT32_MAX : (int)cap);
	if (n > 0)
		return n;
	return failure(t, n, 0);
}

int rws_tls_write(struct rws_tls *t, const void *p, size_t n)
{
	if (!t->ready || t->dead) {
		snprintf(t->err, sizeof(t->err), "TLS is not ready for data");
		return RWS_TLS_E_PROTOCOL;
	}
	const uint8_t *q = p;
	while (n) {
		int chunk = n > (1u << 30) ? 1 << 30 : (int)n;
		int w = wolfSSL_write(t->ssl, q, chunk);
		if (w <= 0)
			return failure(t, w, 0);
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

void rws_tls_shutdown(struct rws_tls *t)
{
	if (t->ssl && t->ready && !t->dead)
		(void)wolfSSL_shutdown(t->ssl);
}

size_t rws_tls_out_len(const struct rws_tls *t)
{
	return t->out.len - t->out.off;
}

const uint8_t *rws_tls_out(const struct rws_tls *t)
{
	return t->out.p + t->out.off;
}

void rws_tls_out_consume(struct rws_tls *t, size_t n)
{
	size_t have = t->out.len - t->out.off;
	t->out.off += n < have ? n : have;
	if (t->out.off == t->out.len)
		t->out.off = t->out.len = 0;
}

int rws_tls_ready(const struct rws_tls *t)
{
	return t->ready;
}

const char *rws_tls_version(const struct rws_tls *t)
{
	return t->ssl ? wolfSSL_get_version(t->ssl) : "";
}

const char *rws_tls_cipher(const struct rws_tls *t)
{
	const char *c = t->ssl ? wolfSSL_get_cipher_name(t->ssl) : NULL;
	return c ? c : "";
}

const char *rws_tls_group(const struct rws_tls *t)
{
	const char *g = t->ssl ? wolfSSL_get_curve_name(t->ssl) : NULL;
	return g ? g : "";
}

const char *rws_tls_sni(const struct rws_tls *t)
{
	return t->sni;
}

const char *rws_tls_alpn(const struct rws_tls *t)
{
	char *name = NULL;
	unsigned short len = 0;
	if (!t->ssl || wolfSSL_ALPN_GetProtocol(t->ssl, &name, &len) != WOLFSSL_SUCCESS || !name)
		return "";
	return len == sizeof(ALPN) - 1 && memcmp(name, ALPN, len) == 0 ? ALPN : "";
}

const char *rws_tls_error(const struct rws_tls *t)
{
	return t->err;
}

/* --- the key check -------------------------------------------------------------- */

static void pass(struct rws_tls *from, struct rws_tls *to)
{
	size_t n = rws_tls_out_len(from);
	if (n && rws_tls_feed(to, rws_tls_out(from), n) == 0)
		rws_tls_out_consume(from, n);
}

/* A handshake in memory between server and a client that verifies
 * nothing: it completes only if the server's key signs for its
 * certificate. Returns 0 or -1. */
static int self_check(struct rws_tls_ctx *server)
{
	char err[64];
	struct rws_tls_ctx *cc = rws_tls_ctx_client(NULL, 1, err, sizeof(err));
	struct rws_tls *s = cc ? rws_tls_new_server(&server, NULL, 1) : NULL;
	struct rws_tls *c = s ? rws_tls_new_client(cc, "") : NULL;
	int ok = 0;
	uint8_t b[64];
	for (int i = 0; c && i < 16 && !ok; i++) {
		int rc = rws_tls_read(c, b, 0);
		if (rc < 0 && rc != RWS_TLS_E_WANT)
			break;
		pass(c, s);
		rc = rws_tls_read(s, b, 0);
		if (rc < 0 && rc != RWS_TLS_E_WANT)
			break;
		pass(s, c);
		ok = rws_tls_ready(s) && rws_tls_ready(c);
	}
	rws_tls_free(c);
	rws_tls_free(s);
	rws_tls_ctx_free(cc);
	return ok ? 0 : -1;
}
