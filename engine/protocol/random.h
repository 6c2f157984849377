/*
 * random: cheap random bytes for masking keys and handshake nonces.
 *
 * A per-thread pool refilled from getrandom(2) in 256-byte blocks, so a
 * client frame's 4-byte key costs a copy, not a system call. RFC 6455 asks
 * for keys an intermediary cannot predict; the kernel's CSPRNG supplies them.
 */
#ifndef RWS_PROTOCOL_RANDOM_H
#define RWS_PROTOCOL_RANDOM_H

#include <stddef.h>

/* Fills buf[0..len) with random bytes. Returns 0, or -errno if the kernel
 * refused (getrandom is not expected to fail once the pool is seeded). */
int rws_random_bytes(void *buf, size_t len);

#endif
