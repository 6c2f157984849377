/*
 * Helpers shared by the unit tests.
 */
#ifndef RWS_TESTUTIL_H
#define RWS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Copies p[0..len) so that it ends right before a PROT_NONE page: reading one
 * byte past the input crashes at once. Free with guard_free(). */
uint8_t *guard_copy(const void *p, size_t len);
void guard_free(uint8_t *g);

/* A small deterministic PRNG (xorshift64*) so property tests are repeatable;
 * the seed is printed by the test on failure. */
uint64_t test_rand(uint64_t *s);

#endif
