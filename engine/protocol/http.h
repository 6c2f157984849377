/*
 * http: the HTTP/1.1 message head (RFC 7230 sections 3 to 3.2), as much of it
 * as a WebSocket opening handshake needs: the request line or status line
 * and the header fields up to the blank line. No bodies, no chunking.
 *
 * Parsing works the way picohttpparser does: the caller hands the bytes
 * received so far, (buf, len); the parser reads only buf[0..len), keeps no
 * state between calls and answers with the length of the head (the body or
 * the first WebSocket frame begins there), RWS_HTTP_INCOMPLETE when the
 * blank line has not arrived yet, or a named error. The caller re-parses from
 * the start when more bytes come. Any answer other than RWS_HTTP_INCOMPLETE
 * stays the same however many more bytes follow, so how TCP splits the head
 * never changes the outcome.
 *
 * The result is zero-copy: every string is a view into buf, valid as long as
 * buf is. Arrays are fixed and bounded by rws_http_limits; nothing is
 * allocated. Lines may end in CRLF or a bare LF; obsolete line folding,
 * control characters and whitespace before a colon are refused (RFC 7230
 * sections 3.2.4 and 3.5).
 *
 * Neighbours: handshake.c applies the WebSocket rules to what is parsed here
 * and writes the responses.
 */
#ifndef RWS_PROTOCOL_HTTP_H
#define RWS_PROTOCOL_HTTP_H

#include <stddef.h>

/* A view of bytes someone else owns; not NUL-terminated. p is NULL only for
 * an absent value (an absent query, a parameter without a value). */
struct rws_str {
	const char *p;
	size_t len;
};

/* A view of a string literal: RWS_STR() in expressions, RWS_STR_INIT() in
 * static initializers. */
#define RWS_STR(lit) ((struct rws_str){ (lit), sizeof(lit) - 1 })
#define RWS_STR_INIT(lit) { (lit), sizeof(lit) - 1 }

/* Parse outcomes besides a head length. The range is far from errno values,
 * so a function may return either kind. rws_http_strerror() names each one,
 * rws_http_error_status() gives the HTTP status a server answers with. */
enum rws_http_err {
	RWS_HTTP_INCOMPLETE = -1000,     /* need more bytes (not an error) */
	RWS_HTTP_E_HEAD_TOO_LARGE,       /* 431 head longer than max_head */
	RWS_HTTP_E_LINE_TOO_LONG,        /* 414 request/status line longer than max_line */
	RWS_HTTP_E_TOO_MANY_HEADERS,     /* 431 more than max_headers fields */
	RWS_HTTP_E_BARE_CR,              /* 400 CR not followed by LF */
	RWS_HTTP_E_BAD_METHOD,           /* 400 method empty or not a token */
	RWS_HTTP_E_MISSING_SP,           /* 400 request/status line lacks a space separator */
	RWS_HTTP_E_BAD_TARGET,           /* 400 request-target not origin- or absolute-form */
	RWS_HTTP_E_BAD_VERSION,          /* 400 not HTTP/DIGIT.DIGIT */
	RWS_HTTP_E_BAD_STATUS,           /* (client only) status not 3 digits, bad reason */
	RWS_HTTP_E_OBS_FOLD,             /* 400 header line starts with whitespace */
	RWS_HTTP_E_BAD_HEADER_NAME,      /* 400 name empty, not a token, space before ':' */
	RWS_HTTP_E_NO_COLON,             /* 400 header line without ':' */
	RWS_HTTP_E_BAD_HEADER_VALUE,     /* 400 control character in a value */
	RWS_HTTP_E_END_                  /* one past the last code */
};

/* Hard limits on a head. A zero field means its default; a NULL limits
 * pointer means all defaults. */
struct rws_http_limits {
	size_t max_head;     /* whole head with its blank line; more -> 431 */
	size_t max_line;     /* request (status) line without its line end; more -> 414 */
	size_t max_headers;  /* header fields; more -> 431; capped at RWS_HTTP_HEADERS_CAP */
};

#define RWS_HTTP_MAX_HEAD_DEFAULT 8192
#define RWS_HTTP_MAX_LINE_DEFAULT 4096
#define RWS_HTTP_MAX_HEADERS_DEFAULT 64
#define RWS_HTTP_HEADERS_CAP 128

/* One header field: the name as sent (compare case-insensitively) and the
 * value without leading and trailing whitespace. */
struct rws_http_header {
	struct rws_str name;
	struct rws_str value;
};

/* A parsed request head. Views point into the parsed buffer. */
struct rws_http_request {
	struct rws_str method;
	struct rws_str target;        /* the request-target as sent */
	struct rws_str path;          /* target up to '?'; "/" for "http://host" */
	struct rws_str query;         /* after '?', without it; p NULL if no '?' */
	int major, minor;             /* HTTP version */
	size_t num_headers;
	struct rws_http_header headers[RWS_HTTP_HEADERS_CAP];
};

/* A parsed response head. */
struct rws_http_response {
	int major, minor;
	int status;                   /* 100..999 */
	struct rws_str reason;        /* may be empty */
	size_t num_headers;
	struct rws_http_header headers[RWS_HTTP_HEADERS_CAP];
};

/* Parses a request head from buf[0..len). Returns the head's length in bytes
 * (> 0), RWS_HTTP_INCOMPLETE, or an RWS_HTTP_E_* code. The request-target
 * must be origin-form ("/p?q") or absolute-form ("ws://h/p?q"), printable
 * ASCII without '#'. The version is only checked for syntax here. */
int rws_http_parse_request(const char *buf, size_t len,
			   const struct rws_http_limits *lim,
			   struct rws_http_request *req);

/* Parses a response head ("HTTP/1.1 101 Switching Protocols") the same way.
 * Returns the head's length, RWS_HTTP_INCOMPLETE or an RWS_HTTP_E_* code. */
int rws_http_parse_response(const char *buf, size_t len,
			    const struct rws_http_limits *lim,
			    struct rws_http_response *res);

/* Returns the first header named `name` (ASCII case-insensitive) at or after
 * index *from, and sets *from past it, or NULL when there is none. Start
 * with *from = 0 to walk every field of that name. */
const struct rws_http_header *rws_http_find(const struct rws_http_header *h,
					    size_t n, const char *name,
					    size_t *from);

/* Returns 1 if the comma-separated list `value` has an element equal to
 * `token` (ASCII case-insensitive, surrounding whitespace ignored), else 0.
 * Used for Connection: keep-alive, Upgrade. */
int rws_http_list_has(struct rws_str value, const char *token);

/* Returns 1 if c may appear in a token (RFC 7230 tchar), else 0. */
int rws_http_is_tchar(unsigned char c);

/* Returns the standard reason phrase of an HTTP status ("Switching
 * Protocols" for 101), or "Unknown" for a status this table lacks. */
const char *rws_http_status_text(int status);

/* Returns a one-line message for an RWS_HTTP_* code, or NULL if err is not
 * one. */
const char *rws_http_strerror(int err);

/* Returns the status a server answers an RWS_HTTP_E_* code with (400, 414
 * or 431), or 0 if err is not one or only a client meets it. */
int rws_http_error_status(int err);

/* Returns the code's name ("RWS_HTTP_E_BARE_CR"), or NULL if not one. */
const char *rws_http_error_name(int err);

#endif
