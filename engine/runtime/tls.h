/*
 * tls: TLS on wolfSSL without sockets. It lives in the runtime, the layer
 * that may use wolfSSL, but does no I/O all the same: the runtime feeds
 * the ciphertext it received and takes the ciphertext to send; wolfSSL's
 * I/O callbacks read from and write to those buffers, so no socket call is
 * ever made on a reactor's behalf.
 *
 *   server: rws_tls_ctx_server() per certificate; rws_tls_new_server()
 *           picks among several contexts by the ClientHello's SNI name.
 *   client: rws_tls_ctx_client() (the system's CAs or a CA file, or
 *           insecure); rws_tls_new_client() sends SNI and checks the
 *           certificate against the host name.
 *
 * Both allow TLS 1.2 and 1.3 only, with AEAD cipher suites (AES-GCM,
 * ChaCha20-Poly1305) and forward secrecy, and offer or accept ALPN
 * "http/1.1".
 *
 * A connection's life: rws_tls_feed() the bytes that came; rws_tls_read()
 * drives the handshake and then yields plaintext; rws_tls_write() turns
 * plaintext into records; whenever rws_tls_out_len() is not 0, send
 * rws_tls_out() and rws_tls_out_consume() what went. After a fatal error
 * the alert wolfSSL wrote is in the output too: send it, then close.
 */
#ifndef RWS_RUNTIME_TLS_H
#define RWS_RUNTIME_TLS_H

#include <stddef.h>
#include <stdint.h>

struct rws_tls_ctx;	/* a certificate (server) or a trust store (client) */
struct rws_tls;		/* one connection */

enum rws_tls_err {
	RWS_TLS_E_WANT = -1400,		/* (not an error) more input is needed */
	RWS_TLS_E_HANDSHAKE,		/* the handshake failed (the message says why) */
	RWS_TLS_E_VERIFY,		/* the peer's certificate did not verify */
	RWS_TLS_E_PROTOCOL,		/* bad records, an alert from the peer, ... */
	RWS_TLS_E_CLOSED,		/* the peer sent close_notify */
	RWS_TLS_E_NOMEM,
	RWS_TLS_E_CONFIG,		/* a certificate, key or CA file was refused */
	RWS_TLS_E_NOT_TLS,		/* the first bytes are not a TLS ClientHello (plain HTTP?) */
};

/* A server context for cert_file (PEM, the chain) and key_file (PEM).
 * Returns it, or NULL with a one-line reason in err. */
struct rws_tls_ctx *rws_tls_ctx_server(const char *cert_file, const char *key_file, char *err,
				       size_t errlen);

/* A client context: verifying against ca_file (PEM), or the system's CAs
 * when it is NULL; with insecure, verifying nothing. NULL on failure, with
 * the reason in err. */
struct rws_tls_ctx *rws_tls_ctx_client(const char *ca_file, int insecure, char *err,
				       size_t errlen);

void rws_tls_ctx_free(struct rws_tls_ctx *ctx);

/* A thread that used TLS ends: frees what wolfSSL kept for the thread (its
 * cache of precomputed ECC points, a few MiB). */
void rws_tls_thread_done(void);

/* The host names the certificate in cert_file is for: its subjectAltName
 * DNS names, else its subject's CN, separated by spaces (malloc'd), or
 * NULL (no memory, no such file, no name). */
char *rws_tls_cert_names(const char *cert_file);

/* rws_tls_new_server() matches the ClientHello's SNI name against names[i]
 * (names separated by spaces, each exact or "*.domain" for one label; NULL:
 * none) and uses ctxs[i] for the first that matches, or ctxs[0] when none
 * does or no name was sent. n >= 1. ctxs and names must live as long as
 * the connection. */
struct rws_tls *rws_tls_new_server(struct rws_tls_ctx *const *ctxs, const char *const *names,
				   size_t n);

/* A client connection to host (sent as SNI unless it is an IP address,
 * and checked against the certificate unless the context is insecure). */
struct rws_tls *rws_tls_new_client(struct rws_tls_ctx *ctx, const char *host);

void rws_tls_free(struct rws_tls *t);

/* Appends received ciphertext. Returns 0 or RWS_TLS_E_NOMEM. */
int rws_tls_feed(struct rws_tls *t, const uint8_t *in, size_t n);

/* The same without a copy: in[0..n) is read from where it is by the
 * rws_tls_read() calls that follow, and rws_tls_feed_done() must come
 * before in changes; it copies what was not read yet (a record's start,
 * say: usually nothing). Returns 0 or RWS_TLS_E_NOMEM. */
int rws_tls_feed_borrow(struct rws_tls *t, const uint8_t *in, size_t n);
int rws_tls_feed_done(struct rws_tls *t);

/* Where the ciphertext goes: with a sink, every record wolfSSL writes is
 * handed to sink(arg, p, n) at once (it returns 0, or -1 to fail the
 * write), and the output buffer below stays empty. */
void rws_tls_set_sink(struct rws_tls *t, int (*sink)(void *arg, const uint8_t *p, size_t n),
		      void *arg);

/* Drives the handshake, then decrypts: returns plaintext bytes written to
 * out[0..cap) (> 0), RWS_TLS_E_WANT when more input is needed, or an
 * error. Call it until it returns RWS_TLS_E_WANT after each feed. */
int rws_tls_read(struct rws_tls *t, uint8_t *out, size_t cap);

/* Encrypts p[0..n) into the output. Returns 0, or an error (for example
 * before the handshake is done). */
int rws_tls_write(struct rws_tls *t, const void *p, size_t n);

/* Queues close_notify. */
void rws_tls_shutdown(struct rws_tls *t);

/* The ciphertext waiting to be sent. */
size_t rws_tls_out_len(const struct rws_tls *t);
const uint8_t *rws_tls_out(const struct rws_tls *t);
void rws_tls_out_consume(struct rws_tls *t, size_t n);

/* Whether the handshake is done; the version ("TLSv1.3"), the cipher
 * suite, the SNI name the client sent ("" if none), the ALPN protocol
 * agreed ("" if none); the reason of the last error (one line). */
int rws_tls_ready(const struct rws_tls *t);
const char *rws_tls_version(const struct rws_tls *t);
const char *rws_tls_cipher(const struct rws_tls *t);
const char *rws_tls_group(const struct rws_tls *t);	/* the key exchange: "X25519", "SECP256R1" */
const char *rws_tls_sni(const struct rws_tls *t);
const char *rws_tls_alpn(const struct rws_tls *t);
const char *rws_tls_error(const struct rws_tls *t);

/* Whether any byte was fed (a connection that sent nothing at all is not
 * a failed handshake, just a probe). */
int rws_tls_fed(const struct rws_tls *t);

#endif
