/*
 * utf8: incremental UTF-8 validation (RFC 3629) for text messages and close
 * reasons.
 *
 * The state is one byte and carries a code point that is split across
 * fragments or receive chunks. Rejected: overlong forms, surrogates
 * U+D800..U+DFFF, code points above U+10FFFF, bytes C0, C1 and F5..FF, and a
 * sequence still open when the message ends (rws_utf8_finish). Validation
 * fails fast: rws_utf8_feed() reports an invalid byte in the chunk it is
 * given, so a bad text message is refused before the rest of it arrives.
 * Scalar and AVX2 paths; rws_utf8_feed() uses the one chosen at start-up.
 */
#ifndef RWS_PROTOCOL_UTF8_H
#define RWS_PROTOCOL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The state between chunks. RWS_UTF8_ACCEPT (0) means "at a code point
 * boundary"; RWS_UTF8_REJECT means an invalid byte was seen (sticky). */
#define RWS_UTF8_ACCEPT 0
#define RWS_UTF8_REJECT 1

/* Validates p[0..len) continuing from *state. Returns 0 if the bytes are valid
 * so far (possibly ending inside a sequence), -1 if invalid; on -1 *state is
 * RWS_UTF8_REJECT and stays so. */
int rws_utf8_feed(uint8_t *state, const uint8_t *p, size_t len);

/* Returns 0 if a message may end in `state` (RWS_UTF8_ACCEPT), -1 if not. */
static inline int rws_utf8_finish(uint8_t state)
{
	return state == RWS_UTF8_ACCEPT ? 0 : -1;
}

/* Whole buffer in one call: 0 if p[0..len) is complete valid UTF-8, else -1. */
int rws_utf8_valid(const uint8_t *p, size_t len);

/* The two implementations of rws_utf8_feed, for tests and benchmarks. */
int rws_utf8_feed_scalar(uint8_t *state, const uint8_t *p, size_t len);
int rws_utf8_feed_avx2(uint8_t *state, const uint8_t *p, size_t len);

#endif
