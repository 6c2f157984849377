/*
 * mask: the RFC 6455 section 5.3 payload mask, XOR with a 4-byte key.
 *
 * The key repeats every four bytes of the payload, so a payload unmasked in
 * several pieces passes each piece's offset within the payload; the key is
 * rotated by (offset & 3). Two implementations, scalar and AVX2; rws_mask()
 * and rws_mask_copy() dispatch to the one chosen once at start-up from CPUID.
 * Neighbours: frame.c decodes the key, session.c unmasks received payloads in
 * place, the runtime masks client frames while copying them to a send buffer.
 */
#ifndef RWS_PROTOCOL_MASK_H
#define RWS_PROTOCOL_MASK_H

#include <stddef.h>
#include <stdint.h>

/* XOR buf[0..len) in place with key, starting at payload offset `offset`. */
void rws_mask(uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset);

/* dst[i] = src[i] ^ key[(offset + i) & 3]; dst and src do not overlap. */
void rws_mask_copy(uint8_t *dst, const uint8_t *src, size_t len,
		   const uint8_t key[4], uint64_t offset);

/* The two implementations, for tests and benchmarks. The AVX2 ones may only
 * be called when rws_cpu_has_avx2() is true. */
void rws_mask_scalar(uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset);
void rws_mask_avx2(uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset);
void rws_mask_copy_scalar(uint8_t *dst, const uint8_t *src, size_t len,
			  const uint8_t key[4], uint64_t offset);
void rws_mask_copy_avx2(uint8_t *dst, const uint8_t *src, size_t len,
			const uint8_t key[4], uint64_t offset);

/* Returns 1 if this CPU has AVX2 and the dispatchers use it, else 0.
 * RWS_NO_AVX2=1 in the environment forces the scalar paths. */
int rws_cpu_has_avx2(void);

#endif
