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

/* The test PKI of tests/tls/make-certs.sh (openssl). The runner (a
 * criterion PRE_ALL hook) calls test_pki_runner_init(), which makes an
 * empty directory and names it in the environment; each test calls
 * test_pki(), which fills it once (make-certs.sh renames a complete set
 * into place, so tests starting together never mix two) and returns it,
 * or NULL with the reason in why. POST_ALL: test_pki_runner_done()
 * removes it. */
void test_pki_runner_init(void);
void test_pki_runner_done(void);
const char *test_pki(char *why, size_t cap);

#endif
