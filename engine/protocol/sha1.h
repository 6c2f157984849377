/*
 * sha1: the SHA-1 hash of FIPS 180-4, for Sec-WebSocket-Accept.
 *
 * RFC 6455 section 4.2.2 derives the accept value from SHA-1 over the
 * client's key and a fixed GUID; that is the only use, so this is a small
 * portable implementation (no SIMD, no SHA extensions) that streams input
 * through a 64-byte block buffer. SHA-1 is not collision resistant; the
 * handshake only needs it as a fixed transform, never for security.
 * Neighbours: base64.c encodes the digest, handshake.c puts them together.
 */
#ifndef RWS_PROTOCOL_SHA1_H
#define RWS_PROTOCOL_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define RWS_SHA1_DIGEST_LEN 20
#define RWS_SHA1_BLOCK_LEN 64

/* One hash in progress. Owned by the caller; no resources to release. */
struct rws_sha1 {
	uint32_t h[5];
	uint64_t total;                   /* bytes hashed so far */
	size_t fill;                      /* bytes waiting in block[] */
	uint8_t block[RWS_SHA1_BLOCK_LEN];
};

/* Starts a hash with the initial values of FIPS 180-4 section 5.3.1. */
void rws_sha1_init(struct rws_sha1 *s);

/* Adds p[0..len) to the hash; any split of the input gives the same digest. */
void rws_sha1_update(struct rws_sha1 *s, const void *p, size_t len);

/* Pads, writes the 20-byte digest to out and leaves s unusable until
 * rws_sha1_init() is called again. */
void rws_sha1_final(struct rws_sha1 *s, uint8_t out[RWS_SHA1_DIGEST_LEN]);

/* The digest of p[0..len) in one call. */
void rws_sha1(const void *p, size_t len, uint8_t out[RWS_SHA1_DIGEST_LEN]);

#endif
