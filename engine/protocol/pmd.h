/*
 * pmd: the permessage-deflate message transform (RFC 7692 section 7.2) on
 * libdeflate. Negotiation lives with the handshake; this file only turns one
 * whole message into its compressed payload and back.
 *
 * libdeflate works on whole buffers and keeps no state between calls, so:
 * - compression is stateless: every message is a complete DEFLATE stream and
 *   never refers to an earlier one (we always run with our side's
 *   *_no_context_takeover). One compressor per thread, none per connection.
 * - decompression is stateless unless the peer keeps its context; then the
 *   connection keeps a struct rws_pmd_window (the peer's last 2^window_bits
 *   bytes of output), and only then.
 *
 * What we send: libdeflate's stream, which ends with a block whose BFINAL is
 * 1, followed by one 0x00 octet. That is RFC 7692 7.2.1 applied literally
 * (append an empty stored block 00 00 00 ff ff, remove the trailing 00 00 ff
 * ff), and the shape of the example in 7.2.3.4. A receiver that appends
 * 00 00 ff ff sees a complete stream and an empty block after it; zlib stops
 * at the final block. Because the stream is final, a peer must not keep our
 * context: send compressed only when the agreed parameters include our
 * *_no_context_takeover (the server may always add server_no_context_takeover;
 * a client whose offer of client_no_context_takeover was not echoed sends
 * uncompressed).
 *
 * What we accept: any DEFLATE block types, sync-flushed (no final block, the
 * usual zlib shape) or ending with a final block; bytes after a final block
 * are ignored, as zlib ignores them.
 */
#ifndef RWS_PROTOCOL_PMD_H
#define RWS_PROTOCOL_PMD_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* Decompression results besides 0 and -ENOMEM. TOO_BIG: the message inflates
 * past the caller's max (close 1009). CORRUPT: not a valid DEFLATE stream,
 * including one cut short (close 1007). */
#define RWS_PMD_E_TOO_BIG (-EMSGSIZE)
#define RWS_PMD_E_CORRUPT (-EBADMSG)

/* libdeflate levels run 1..12. The default is 1, libdeflate's fastest:
 * measured on 4 KiB JSON messages it compresses within 3% of zlib's default
 * level 6 (ratio 0.210 against 0.204) at about 3x zlib's speed (178 against
 * 58 MB/s), and levels 3 and 6 buy 0.5% and 6% for half the speed or less.
 * The server's CPU is what compression spends. */
#define RWS_PMD_LEVEL_DEFAULT 1

/* Smallest and largest window_bits (RFC 7692 7.1.2). */
#define RWS_PMD_WINDOW_BITS_MIN 8
#define RWS_PMD_WINDOW_BITS_MAX 15

/* --- sending ------------------------------------------------------------ */

/* Wraps a libdeflate compressor: one per thread, never shared between
 * threads at once, owned by whoever created it. */
struct rws_pmd_compressor;

/* Returns a compressor at `level` (1..12; out of range is clamped), or NULL
 * when out of memory. */
struct rws_pmd_compressor *rws_pmd_compressor_new(int level);
void rws_pmd_compressor_free(struct rws_pmd_compressor *c);

/* Returns the largest payload rws_pmd_compress() can write for a message of
 * len bytes: a `cap` of at least this never fails for lack of room. */
size_t rws_pmd_compress_bound(struct rws_pmd_compressor *c, size_t len);

/* Compresses the message in[0..len) into out[0..cap), the payload to send
 * with RSV1 on its first frame. Returns the payload length, or -ENOBUFS if it
 * does not fit in cap. Passing cap = len makes "does not pay" fail cheaply
 * with -ENOBUFS, and the message then goes out uncompressed. */
long rws_pmd_compress(struct rws_pmd_compressor *c, const void *in, size_t len, void *out,
		      size_t cap);

/* --- receiving ---------------------------------------------------------- */

/* Wraps a libdeflate decompressor and a scratch buffer: one per thread,
 * owned by whoever created it. */
struct rws_pmd_decompressor;

/* Returns a decompressor, or NULL when out of memory. */
struct rws_pmd_decompressor *rws_pmd_decompressor_new(void);
void rws_pmd_decompressor_free(struct rws_pmd_decompressor *d);

/* The peer's sliding window, kept by a connection whose peer keeps its
 * compression context (no *_no_context_takeover for the peer's direction);
 * NULL otherwise. Owned by the connection. */
struct rws_pmd_window;

/* Returns an empty window for the peer's window_bits (8..15, clamped; 8 keeps
 * 512 bytes since zlib's deflate turns 8 into 9), or NULL when out of memory. */
struct rws_pmd_window *rws_pmd_window_new(unsigned window_bits);
void rws_pmd_window_free(struct rws_pmd_window *w);

/* Inflates one message: in[0..len) is its gathered compressed payload, as
 * received (without the 00 00 ff ff tail). max bounds the inflated size (0:
 * no bound); memory used stays within about max + the window + the input.
 * On success returns 0 with *out a malloc'd buffer of *outlen bytes that the
 * caller frees (non-NULL even when *outlen is 0), and appends the output to
 * `window` if given. Otherwise returns RWS_PMD_E_TOO_BIG, RWS_PMD_E_CORRUPT or
 * -ENOMEM, leaves *out NULL and the window untouched (the connection closes). */
int rws_pmd_decompress(struct rws_pmd_decompressor *d, const void *in, size_t len, uint64_t max,
		       struct rws_pmd_window *window, uint8_t **out, size_t *outlen);

#endif
