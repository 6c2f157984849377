/*
 * base64: the standard alphabet of RFC 4648 section 4, with padding.
 *
 * The handshake uses it twice: Sec-WebSocket-Key (16 random bytes, 24
 * characters) and Sec-WebSocket-Accept (a 20-byte SHA-1 digest, 28
 * characters). The decoder is strict, because a key that only decodes after
 * forgiveness is a key the peer did not make by the rules: no whitespace, no
 * URL-safe alphabet, the length a multiple of four, '=' only as the last one
 * or two characters, and the unused bits of the last group zero (RFC 4648
 * section 3.5), so every byte string has exactly one accepted encoding.
 */
#ifndef RWS_PROTOCOL_BASE64_H
#define RWS_PROTOCOL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters in the encoding of n bytes (without a terminating NUL). */
#define RWS_BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Most bytes that n characters can decode to. */
#define RWS_BASE64_DECODED_MAX(n) (((n) / 4) * 3)

/* Encodes src[0..len) into dst and NUL-terminates it. Returns the number of
 * characters written (without the NUL), or -ENOSPC if dst cannot hold
 * RWS_BASE64_ENCODED_LEN(len) + 1 bytes. */
int rws_base64_encode(const uint8_t *src, size_t len, char *dst, size_t cap);

/* Decodes src[0..len) into dst. Returns the number of bytes decoded, -EINVAL
 * if src is not strict base64 (see above), or -ENOSPC if the decoded bytes
 * do not fit in cap. Never reads past src + len. */
int rws_base64_decode(const char *src, size_t len, uint8_t *dst, size_t cap);

#endif
