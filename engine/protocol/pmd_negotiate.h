/*
 * pmd_negotiate: agreeing on permessage-deflate (RFC 7692 section 7.1) in
 * the opening handshake, for both roles. Only the parameters are settled
 * here; pmd.c compresses and inflates with what was agreed.
 *
 * Input is what rws_hs_parse_extensions() made of Sec-WebSocket-Extensions
 * (quoted values arrive unquoted). A header that parser refuses is a 400 on
 * the server before this code runs; everything here sees well-formed lists.
 *
 * Server: rws_pmd_server_negotiate() takes the first permessage-deflate
 * offer it can honour and writes the response value. An offer is declined,
 * and the next one tried, when it has an unknown or duplicated parameter, a
 * value where none belongs, a window size that is not "8".."15" in decimal
 * without sign or leading zero (section 7.1.2.1 says "without leading
 * zeroes", so "08" is refused), or a client window limit a client that
 * keeps its context cannot be held to. Declining every
 * offer is not an error: the 101 goes out without the extension.
 *
 * Client: rws_pmd_client_offer() writes the one offer we send;
 * rws_pmd_client_accept() checks the server's answer against that offer and
 * fails the handshake (a named RWS_PMD_E_* code) when it is not a valid
 * acceptance of it.
 *
 * Window sizes and libdeflate. libdeflate always compresses with a 32 KiB
 * window (15 bits) and cannot be told to use less, so a compressor's window
 * is 15 unless a config says otherwise:
 *  - server role: an offer with server_max_window_bits below the window our
 *    compressor uses (cfg->server_max_window_bits, 15) is accepted with that
 *    value, and agreed->server_max_window_bits says so: the caller must then
 *    send every message uncompressed, which RFC 7692 allows, since our
 *    compressor cannot honour the smaller window.
 *  - client role: client_max_window_bits is offered only when our compressor
 *    is configured below 15, with that value, and the server must answer the
 *    same value, since the compressor cannot go smaller. With the default 15
 *    we never offer it, so the server may not send it.
 * The other direction is free: libdeflate inflates any window, and with
 * context takeover pmd.c keeps 2^bits bytes of the peer's history, which is
 * what the limits we ask of the peer bound.
 *
 * Parameter and extension names compare case-insensitively, as HTTP
 * parameter names do; we write them in lower case.
 */
#ifndef RWS_PROTOCOL_PMD_NEGOTIATE_H
#define RWS_PROTOCOL_PMD_NEGOTIATE_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/handshake.h"

/* Room for the longest value either writer produces, with its NUL. */
#define RWS_PMD_VALUE_MAX 160

/* Why a server's permessage-deflate answer is refused (client side), after
 * the RWS_HS_E_* range. */
enum rws_pmd_err {
	RWS_PMD_E_MULTIPLE = -1200,     /* permessage-deflate answered more than once */
	RWS_PMD_E_UNKNOWN_PARAM,        /* a parameter RFC 7692 does not define */
	RWS_PMD_E_DUP_PARAM,            /* a parameter given twice */
	RWS_PMD_E_BAD_VALUE,            /* a value on a flag, none on server_max_window_bits,
	                                 * or a window size other than 8..15 */
	RWS_PMD_E_SERVER_CONTEXT,       /* server_no_context_takeover asked for, not granted */
	RWS_PMD_E_SERVER_WINDOW,        /* server_max_window_bits missing or above our limit */
	RWS_PMD_E_CLIENT_WINDOW_NOT_OFFERED, /* client_max_window_bits we did not offer */
	RWS_PMD_E_CLIENT_WINDOW,        /* client_max_window_bits other than our window */
	RWS_PMD_E_END_                  /* one past the last code */
};

/* What this endpoint allows and asks for; one set of defaults suits both
 * roles. Flags are 0 or not; window sizes are 8..15, and 0 means 15. The
 * window fields are named for the side whose compressor they describe. */
struct rws_pmd_config {
	/* server: answered always, as our compressor keeps no state (default 1);
	 * client: asked of the server, so we inflate without history (default 1) */
	uint8_t server_no_context_takeover;
	/* server: asked of the client, so we inflate without history (default 1);
	 * client: promised in the offer, our compressor keeps no state (default 1) */
	uint8_t client_no_context_takeover;
	/* server: the window our compressor uses; answered when below 15;
	 * client: the largest we let the server use; offered when below 15 */
	uint8_t server_max_window_bits;
	/* server: the largest we let the client use; asked for when the offer
	 * allows it, and required when the client may keep context;
	 * client: the window our compressor uses; offered when below 15 */
	uint8_t client_max_window_bits;
};

/* What was agreed; all zero when the extension is not in use. */
struct rws_pmd_params {
	uint8_t enabled;
	uint8_t server_no_context_takeover;
	uint8_t client_no_context_takeover;
	uint8_t server_max_window_bits;  /* effective 8..15, 15 when not limited */
	uint8_t client_max_window_bits;  /* effective 8..15, 15 when not limited */
};

/* Fills c with the defaults: both flags 1, both windows 15. */
void rws_pmd_config_default(struct rws_pmd_config *c);

/* Server: looks through exts[0..n) (other extensions are ignored) for the
 * first permessage-deflate offer we can honour. Returns 1 with *agreed set
 * and the response value (such as "permessage-deflate;
 * server_no_context_takeover; client_no_context_takeover") NUL-terminated in
 * out[0..cap) and its length in *outlen; 0 if no offer is acceptable (*agreed
 * zeroed, answer without the extension); -EINVAL for a window size in cfg
 * outside 0, 8..15; -ENOSPC if out is too small (RWS_PMD_VALUE_MAX is
 * enough). */
int rws_pmd_server_negotiate(const struct rws_pmd_config *cfg,
			     const struct rws_hs_ext *exts, size_t n,
			     struct rws_pmd_params *agreed,
			     char *out, size_t cap, size_t *outlen);

/* Client: writes our offer, NUL-terminated, to out[0..cap). Returns its
 * length, -EINVAL for a bad window size in cfg, or -ENOSPC. */
int rws_pmd_client_offer(const struct rws_pmd_config *cfg, char *out, size_t cap);

/* Client: checks the server's accepted extensions exts[0..n) against the
 * offer cfg made (other extensions are the handshake's business). Returns 0
 * with *agreed set (enabled 0 if the server did not accept the extension),
 * an RWS_PMD_E_* code for an answer that is not valid for our offer, or
 * -EINVAL for a bad window size in cfg. */
int rws_pmd_client_accept(const struct rws_pmd_config *cfg,
			  const struct rws_hs_ext *exts, size_t n,
			  struct rws_pmd_params *agreed);

/* Returns a one-line message for any code these functions return
 * (RWS_PMD_E_*, -EINVAL, -ENOSPC); never NULL. */
const char *rws_pmd_strerror(int err);

#endif
