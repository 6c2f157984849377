/*
 * handshake: the WebSocket opening handshake of RFC 6455 section 4, for both
 * roles ("hs" in names is short for handshake).
 *
 * Server: rws_hs_server_parse() reads the upgrade request (http.c does the
 * HTTP/1.1 syntax), applies section 4.2.1 (versions 13 and 8, the latter
 * being HyBi drafts 07-12) and lists the offered subprotocols and extensions;
 * rws_hs_write_101() answers with Sec-WebSocket-Accept, rws_hs_write_error()
 * and rws_hs_write_reject() refuse with a status and a one-line reason.
 * Client: rws_hs_client_write() writes the request and keeps the key;
 * rws_hs_client_parse() reads the answer and checks it against what was
 * offered (section 4.1).
 *
 * Sans-I/O and zero-copy: everything parsed is a view into the caller's
 * buffer; arrays are fixed and bounded; nothing is allocated. Parsers return
 * the head's length, RWS_HTTP_INCOMPLETE (feed more and parse again from the
 * start), or a named error: RWS_HTTP_E_* for HTTP syntax and limits,
 * RWS_HS_E_* for the WebSocket rules. rws_hs_strerror() and
 * rws_hs_error_status() map every code to a message and to the HTTP status a
 * server answers with. Writers return the bytes written (no NUL), -ENOSPC
 * when the buffer is too small, or -EINVAL for a caller-supplied value that
 * would break the message (CR or LF in a header, a non-token name, ...).
 *
 * Choices where the RFCs leave room: Sec-WebSocket-Protocol and
 * Sec-WebSocket-Extensions may come in several header lines, read as one
 * comma list (RFC 7230 section 3.2.2); an empty list element is an error. An
 * extension parameter's quoted-string value is returned without its quotes
 * (quoted = 1) and must be a token inside (RFC 6455 section 9.1); a
 * backslash (quoted-pair) is refused rather than unescaped, so values stay
 * views. Subprotocols compare exactly, extension names case-insensitively.
 * A duplicated Origin is refused like a duplicated Host, since an upgrade
 * hook may authorise on it.
 *
 * Neighbours: http.c below; sha1.c and base64.c for the accept value;
 * random.c for the client's nonce; pmd.c negotiates permessage-deflate from
 * the parsed offers; the runtime's server and client drive these calls.
 */
#ifndef RWS_PROTOCOL_HANDSHAKE_H
#define RWS_PROTOCOL_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/http.h"

#define RWS_HS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define RWS_HS_NONCE_LEN 16        /* raw Sec-WebSocket-Key bytes */
#define RWS_HS_KEY_LEN 24          /* its base64 */
#define RWS_HS_ACCEPT_LEN 28       /* base64 of a SHA-1 digest */
#define RWS_HS_MAX_PROTOCOLS 32
#define RWS_HS_MAX_EXTENSIONS 16
#define RWS_HS_MAX_EXT_PARAMS 16   /* per extension */

/* WebSocket rule failures, after the RWS_HTTP_* range. The comment gives the
 * status a server answers with; client-side codes have none (0). */
enum rws_hs_err {
	RWS_HS_E_METHOD = -1100,        /* 405 method is not GET */
	RWS_HS_E_HTTP_VERSION,          /* 400 HTTP version below 1.1 */
	RWS_HS_E_NO_HOST,               /* 400 Host missing or empty */
	RWS_HS_E_DUP_HOST,              /* 400 Host more than once */
	RWS_HS_E_BAD_UPGRADE,           /* 400 Upgrade missing or without websocket */
	RWS_HS_E_BAD_CONNECTION,        /* 400 Connection missing or without Upgrade */
	RWS_HS_E_NO_VERSION,            /* 426 Sec-WebSocket-Version missing */
	RWS_HS_E_BAD_VERSION,           /* 426 Sec-WebSocket-Version not 13 or 8 */
	RWS_HS_E_DUP_VERSION,           /* 400 Sec-WebSocket-Version more than once */
	RWS_HS_E_NO_KEY,                /* 400 Sec-WebSocket-Key missing */
	RWS_HS_E_DUP_KEY,               /* 400 Sec-WebSocket-Key more than once */
	RWS_HS_E_BAD_KEY,               /* 400 key not strict base64 of 16 bytes */
	RWS_HS_E_DUP_ORIGIN,            /* 400 Origin more than once */
	RWS_HS_E_BAD_PROTOCOL,          /* 400 subprotocol empty or not a token */
	RWS_HS_E_DUP_PROTOCOL,          /* 400 subprotocol offered twice */
	RWS_HS_E_TOO_MANY_PROTOCOLS,    /* 400 more than RWS_HS_MAX_PROTOCOLS */
	RWS_HS_E_BAD_EXTENSIONS,        /* 400 Sec-WebSocket-Extensions malformed */
	RWS_HS_E_TOO_MANY_EXTENSIONS,   /* 400 more than RWS_HS_MAX_EXTENSIONS */
	RWS_HS_E_TOO_MANY_EXT_PARAMS,   /* 400 more than RWS_HS_MAX_EXT_PARAMS */
	/* client side: what the server answered */
	RWS_HS_E_NOT_101,               /* status not 101 (see res->http.status) */
	RWS_HS_E_NO_ACCEPT,             /* Sec-WebSocket-Accept missing */
	RWS_HS_E_DUP_ACCEPT,            /* Sec-WebSocket-Accept more than once */
	RWS_HS_E_BAD_ACCEPT,            /* Sec-WebSocket-Accept does not match */
	RWS_HS_E_PROTOCOL_NOT_OFFERED,  /* a subprotocol the client did not offer */
	RWS_HS_E_MULTIPLE_PROTOCOLS,    /* more than one subprotocol selected */
	RWS_HS_E_EXTENSION_NOT_OFFERED, /* an extension the client did not offer */
	RWS_HS_E_END_                   /* one past the last code */
};

/* One extension parameter: name, and value (p NULL when there is none). */
struct rws_hs_ext_param {
	struct rws_str name;
	struct rws_str value;
	int quoted;                     /* 1 if sent as a quoted-string */
};

/* One extension offer or response: "permessage-deflate; client_max_window_bits". */
struct rws_hs_ext {
	struct rws_str name;
	size_t num_params;
	struct rws_hs_ext_param params[RWS_HS_MAX_EXT_PARAMS];
};

/* --- server ------------------------------------------------------------- */

/* A parsed and validated upgrade request; views into the parsed buffer. */
struct rws_hs_request {
	struct rws_http_request http;   /* method, path, query, every header */
	struct rws_str host;
	struct rws_str origin;          /* Origin (v8: Sec-WebSocket-Origin); p NULL if absent */
	struct rws_str key;             /* Sec-WebSocket-Key as sent (24 chars) */
	int version;                    /* 13 or 8 */
	size_t num_protocols;           /* offered subprotocols, in order */
	struct rws_str protocols[RWS_HS_MAX_PROTOCOLS];
	size_t num_extensions;          /* extension offers, in order */
	struct rws_hs_ext extensions[RWS_HS_MAX_EXTENSIONS];
};

/* Parses and validates an upgrade request in buf[0..len). Returns the head's
 * length, RWS_HTTP_INCOMPLETE, an RWS_HTTP_E_* or an RWS_HS_E_* code. */
int rws_hs_server_parse(const char *buf, size_t len,
			const struct rws_http_limits *lim,
			struct rws_hs_request *req);

/* Applies the section 4.2.1 rules to req->http (already parsed) and fills
 * the other fields. Returns 0 or an RWS_HS_E_* code. */
int rws_hs_server_validate(struct rws_hs_request *req);

/* Writes base64(SHA-1(key + GUID)) and a NUL to out. Returns
 * RWS_HS_ACCEPT_LEN. */
int rws_hs_accept_key(const char *key, size_t len, char out[RWS_HS_ACCEPT_LEN + 1]);

/* What the server agrees to in its 101. */
struct rws_hs_reply {
	struct rws_str protocol;        /* chosen subprotocol (a token); len 0: none */
	struct rws_str extensions;      /* Sec-WebSocket-Extensions value; len 0: none */
	const struct rws_http_header *extra;   /* more headers, or NULL */
	size_t num_extra;
};

/* Writes "HTTP/1.1 101 Switching Protocols" with Upgrade, Connection,
 * Sec-WebSocket-Accept for `key` and what r adds (r may be NULL). Returns
 * the bytes written, -ENOSPC or -EINVAL. */
int rws_hs_write_101(char *out, size_t cap, struct rws_str key,
		     const struct rws_hs_reply *r);

/* Writes a refusal: status line, Connection: close, Content-Type:
 * text/plain, Content-Length, Sec-WebSocket-Version: 13, 8 for 426, Allow:
 * GET for 405, the extra headers, and the body `reason` plus "\n" (reason
 * NULL: the status's reason phrase). status is 200..599. Returns the bytes
 * written, -ENOSPC or -EINVAL. */
int rws_hs_write_error(char *out, size_t cap, int status, const char *reason,
		       const struct rws_http_header *extra, size_t num_extra);

/* rws_hs_write_error() with rws_hs_error_status(err) and rws_hs_strerror(err).
 * Returns the bytes written, -ENOSPC, or -EINVAL if err has no status. */
int rws_hs_write_reject(char *out, size_t cap, int err);

/* Appends the elements of a Sec-WebSocket-Protocol value to list[*n..cap).
 * Returns 0, RWS_HS_E_BAD_PROTOCOL, RWS_HS_E_DUP_PROTOCOL or
 * RWS_HS_E_TOO_MANY_PROTOCOLS. */
int rws_hs_parse_protocols(struct rws_str value, struct rws_str *list,
			   size_t cap, size_t *n);

/* Appends the extensions of a Sec-WebSocket-Extensions value to
 * list[*n..cap). Returns 0, RWS_HS_E_BAD_EXTENSIONS,
 * RWS_HS_E_TOO_MANY_EXTENSIONS or RWS_HS_E_TOO_MANY_EXT_PARAMS. */
int rws_hs_parse_extensions(struct rws_str value, struct rws_hs_ext *list,
			    size_t cap, size_t *n);

/* --- client ------------------------------------------------------------- */

/* What the client asks for. The views must stay valid until the response
 * has been validated, which reads the offered protocols and extensions. */
struct rws_hs_client_opts {
	struct rws_str host;            /* Host value, with ":port" when not the default */
	struct rws_str path;            /* starts with '/'; len 0 means "/" */
	struct rws_str query;           /* without '?'; p NULL for none */
	int version;                    /* 13 (also when 0) or 8 */
	struct rws_str origin;          /* p NULL: none (v8 sends Sec-WebSocket-Origin) */
	const struct rws_str *protocols;   /* offered subprotocols (tokens) */
	size_t num_protocols;
	struct rws_str extensions;      /* extension offers; len 0: none */
	const struct rws_http_header *extra;   /* more headers, or NULL */
	size_t num_extra;
};

/* The key a client sent and the accept value it expects back. */
struct rws_hs_client_key {
	char key[RWS_HS_KEY_LEN + 1];        /* NUL-terminated */
	char accept[RWS_HS_ACCEPT_LEN + 1];  /* NUL-terminated */
};

/* Writes the upgrade request with Sec-WebSocket-Key = base64(nonce) and
 * fills *k. Returns the bytes written, -ENOSPC or -EINVAL. */
int rws_hs_client_write(char *out, size_t cap, const struct rws_hs_client_opts *o,
			const uint8_t nonce[RWS_HS_NONCE_LEN],
			struct rws_hs_client_key *k);

/* The same with a nonce from rws_random_bytes(). Returns the bytes written,
 * -ENOSPC, -EINVAL, or the -errno of the random source. */
int rws_hs_client_write_random(char *out, size_t cap,
			       const struct rws_hs_client_opts *o,
			       struct rws_hs_client_key *k);

/* A parsed and validated server answer; views into the parsed buffer. */
struct rws_hs_response {
	struct rws_http_response http;  /* status, reason, every header */
	struct rws_str protocol;        /* the selected subprotocol; p NULL if none */
	size_t num_extensions;          /* accepted extensions, for negotiation */
	struct rws_hs_ext extensions[RWS_HS_MAX_EXTENSIONS];
};

/* Parses the answer in buf[0..len) and validates it against o and k.
 * Returns the head's length (the first frame may follow), RWS_HTTP_INCOMPLETE,
 * an RWS_HTTP_E_* or an RWS_HS_E_* code. On RWS_HS_E_NOT_101 the status and
 * headers (a redirect's Location) are in res->http. */
int rws_hs_client_parse(const char *buf, size_t len,
			const struct rws_http_limits *lim,
			const struct rws_hs_client_opts *o,
			const struct rws_hs_client_key *k,
			struct rws_hs_response *res);

/* Applies the section 4.1 rules to res->http (already parsed) and fills the
 * other fields. Returns 0 or an RWS_HS_E_* code. */
int rws_hs_client_validate(struct rws_hs_response *res,
			   const struct rws_hs_client_opts *o,
			   const struct rws_hs_client_key *k);

/* --- errors ------------------------------------------------------------- */

/* Returns a one-line message for any code these functions return
 * (RWS_HTTP_*, RWS_HS_E_*, -ENOSPC, -EINVAL); never NULL. */
const char *rws_hs_strerror(int err);

/* Returns the HTTP status a server answers a code with (400, 405, 414, 426,
 * 431), or 0 for codes a server never answers (client-side, errno). */
int rws_hs_error_status(int err);

/* Returns the code's identifier ("RWS_HS_E_BAD_KEY"), or NULL. */
const char *rws_hs_error_name(int err);

#endif
