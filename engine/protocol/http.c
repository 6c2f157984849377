/*
 * http: see http.h. The head is read line by line inside a window of at most
 * max_head bytes, so no line and no search ever looks beyond the limit or
 * beyond len.
 *
 * The start line is checked character by character as it arrives, so a
 * stream that is not HTTP at all (a TLS hello on a plain port) is refused at
 * its first bad byte instead of after max_line bytes. Each such check only
 * looks at bytes already present, and a start line longer than max_line is
 * checked up to max_line first, so an error found early is the error found
 * late: the outcome never depends on where the input was split. Header lines
 * are checked once complete, in order, which keeps the same property.
 */
#include "protocol/http.h"

#include <string.h>

#define NEED 1  /* start-line scan: fine so far, more bytes could change that */

/* RFC 7230 section 3.2.6 tchar. */
static const unsigned char tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

int rws_http_is_tchar(unsigned char c)
{
	return tchar[c];
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* Visible ASCII, as a request-target may hold it; '#' starts a fragment,
 * which a request never carries (and RFC 6455 section 3 forbids). */
static int is_target_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '#';
}

/* Field value and reason phrase characters: HTAB, SP, VCHAR, obs-text. */
static int is_text_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

struct limits {
	size_t head, line, headers;
};

static void effective(const struct rws_http_limits *l, struct limits *o)
{
	o->head = RWS_HTTP_MAX_HEAD_DEFAULT;
	o->line = RWS_HTTP_MAX_LINE_DEFAULT;
	o->headers = RWS_HTTP_MAX_HEADERS_DEFAULT;
	if (l) {
		if (l->max_head)
			o->head = l->max_head;
		if (l->max_line)
			o->line = l->max_line;
		if (l->max_headers)
			o->headers = l->max_headers;
	}
	if (o->headers > RWS_HTTP_HEADERS_CAP)
		o->headers = RWS_HTTP_HEADERS_CAP;
}

/*
 * The start line's checks take p[0..n) and `complete`, which says whether
 * that is the whole line. When it is not, they report only what the bytes
 * present already decide, and return NEED otherwise.
 */

/* Checks "HTTP/" DIGIT "." DIGIT at p[0..n); sets *major, *minor when whole.
 * Returns 0, NEED, or RWS_HTTP_E_BAD_VERSION / RWS_HTTP_E_BARE_CR. */
static int scan_version(const char *p, size_t n, int complete, int *major,
			int *minor)
{
	static const char pat[] = "HTTP/0.0";   /* '0' stands for a digit */
	size_t k;
	for (k = 0; k < n && k < 8; k++) {
		unsigned char c = (unsigned char)p[k];
		int ok = pat[k] == '0' ? is_digit(c) : c == (unsigned char)pat[k];
		if (!ok)
			return c == '\r' ? RWS_HTTP_E_BARE_CR : RWS_HTTP_E_BAD_VERSION;
	}
	if (k < 8)
		return complete ? RWS_HTTP_E_BAD_VERSION : NEED;
	*major = p[5] - '0';
	*minor = p[7] - '0';
	return 0;
}

/* Splits a complete request-target into path and query. Returns 0 or
 * RWS_HTTP_E_BAD_TARGET. */
static int split_target(struct rws_http_request *req)
{
	const char *p = req->target.p, *end = p + req->target.len;
	const char *path = p;
	if (*p != '/') {
		/* absolute-form: scheme "://" authority [path] */
		const char *s = p;
		if (!is_alpha((unsigned char)*s))
			return RWS_HTTP_E_BAD_TARGET;
		while (s < end && (is_alpha((unsigned char)*s) || is_digit((unsigned char)*s) ||
				   *s == '+' || *s == '-' || *s == '.'))
			s++;
		if (end - s < 3 || memcmp(s, "://", 3) != 0)
			return RWS_HTTP_E_BAD_TARGET;
		s += 3;
		const char *auth = s;
		while (s < end && *s != '/' && *s != '?')
			s++;
		if (s == auth)
			return RWS_HTTP_E_BAD_TARGET;
		path = s;
	}
	const char *q = memchr(path, '?', (size_t)(end - path));
	const char *path_end = q ? q : end;
	if (path_end == path)
		req->path = RWS_STR("/");   /* "ws://host" or "ws://host?q" */
	else
		req->path = (struct rws_str){ path, (size_t)(path_end - path) };
	if (q)
		req->query = (struct rws_str){ q + 1, (size_t)(end - q - 1) };
	else
		req->query = (struct rws_str){ NULL, 0 };
	return 0;
}

/* Request line: method SP request-target SP HTTP-version. */
static int scan_request_line(const char *p, size_t n, int complete,
			     struct rws_http_request *req)
{
	size_t i = 0;
	while (i < n && tchar[(unsigned char)p[i]])
		i++;
	if (i == n)
		return !complete ? NEED : i == 0 ? RWS_HTTP_E_BAD_METHOD : RWS_HTTP_E_MISSING_SP;
	if (p[i] == '\r')
		return RWS_HTTP_E_BARE_CR;
	if (p[i] != ' ' || i == 0)
		return RWS_HTTP_E_BAD_METHOD;
	req->method = (struct rws_str){ p, i };

	size_t t = ++i;
	while (i < n && is_target_char((unsigned char)p[i]))
		i++;
	if (i == n)
		return !complete ? NEED : i == t ? RWS_HTTP_E_BAD_TARGET : RWS_HTTP_E_MISSING_SP;
	if (p[i] == '\r')
		return RWS_HTTP_E_BARE_CR;
	if (p[i] != ' ' || i == t)
		return RWS_HTTP_E_BAD_TARGET;
	req->target = (struct rws_str){ p + t, i - t };
	int rc = split_target(req);
	if (rc < 0)
		return rc;

	i++;
	rc = scan_version(p + i, n - i, complete, &req->major, &req->minor);
	if (rc != 0)
		return rc;
	if (n - i > 8)   /* something after the version */
		return p[i + 8] == '\r' ? RWS_HTTP_E_BARE_CR : RWS_HTTP_E_BAD_VERSION;
	return complete ? 0 : NEED;
}

/* Status line: HTTP-version SP 3DIGIT [SP reason-phrase]. A missing space
 * before an empty reason is tolerated, as most clients do. */
static int scan_status_line(const char *p, size_t n, int complete,
			    struct rws_http_response *res)
{
	int rc = scan_version(p, n, complete, &res->major, &res->minor);
	if (rc != 0)
		return rc;
	size_t i = 8;
	if (i == n)
		return complete ? RWS_HTTP_E_MISSING_SP : NEED;
	if (p[i] == '\r')
		return RWS_HTTP_E_BARE_CR;
	if (p[i] != ' ')
		return is_digit((unsigned char)p[i]) ? RWS_HTTP_E_BAD_VERSION
						     : RWS_HTTP_E_MISSING_SP;
	i++;
	int status = 0;
	for (size_t k = 0; k < 3; k++, i++) {
		if (i == n)
			return complete ? RWS_HTTP_E_BAD_STATUS : NEED;
		if (p[i] == '\r')
			return RWS_HTTP_E_BARE_CR;
		if (!is_digit((unsigned char)p[i]) || (k == 0 && p[i] == '0'))
			return RWS_HTTP_E_BAD_STATUS;
		status = status * 10 + (p[i] - '0');
	}
	res->status = status;
	if (i == n) {
		if (!complete)
			return NEED;
		res->reason = (struct rws_str){ p + i, 0 };
		return 0;
	}
	if (p[i] == '\r')
		return RWS_HTTP_E_BARE_CR;
	if (p[i] != ' ')
		return RWS_HTTP_E_BAD_STATUS;
	size_t r = ++i;
	for (; i < n; i++) {
		if (p[i] == '\r')
			return RWS_HTTP_E_BARE_CR;
		if (!is_text_char((unsigned char)p[i]))
			return RWS_HTTP_E_BAD_STATUS;
	}
	if (!complete)
		return NEED;
	res->reason = (struct rws_str){ p + r, n - r };
	return 0;
}

typedef int (*start_fn)(const char *p, size_t n, int complete, void *out);

static int scan_request_cb(const char *p, size_t n, int complete, void *out)
{
	return scan_request_line(p, n, complete, out);
}

static int scan_status_cb(const char *p, size_t n, int complete, void *out)
{
	return scan_status_line(p, n, complete, out);
}

/* Parses one header line p[0..n) (complete, without its line end). */
static int parse_header(const char *p, size_t n, struct rws_http_header *h)
{
	if (memchr(p, '\r', n))
		return RWS_HTTP_E_BARE_CR;
	size_t i = 0;
	while (i < n && tchar[(unsigned char)p[i]])
		i++;
	if (i == n)
		return RWS_HTTP_E_NO_COLON;
	if (p[i] != ':')
		return memchr(p + i, ':', n - i) ? RWS_HTTP_E_BAD_HEADER_NAME
						 : RWS_HTTP_E_NO_COLON;
	if (i == 0)
		return RWS_HTTP_E_BAD_HEADER_NAME;
	h->name = (struct rws_str){ p, i };
	size_t v = i + 1, e = n;
	while (v < e && is_ows((unsigned char)p[v]))
		v++;
	while (e > v && is_ows((unsigned char)p[e - 1]))
		e--;
	for (size_t k = v; k < e; k++)
		if (!is_text_char((unsigned char)p[k]))
			return RWS_HTTP_E_BAD_HEADER_VALUE;
	h->value = (struct rws_str){ p + v, e - v };
	return 0;
}

/*
 * The common walk over a head. The start line goes to `start`; header lines
 * fill h[0..*num). Returns the head length, RWS_HTTP_INCOMPLETE or an error.
 */
static int parse_head(const char *buf, size_t len, const struct rws_http_limits *l,
		      start_fn start, void *out, struct rws_http_header *h,
		      size_t *num)
{
	struct limits lim;
	effective(l, &lim);
	size_t win = len < lim.head ? len : lim.head;
	*num = 0;

	/* the start line */
	const char *lf = win ? memchr(buf, '\n', win) : NULL;
	if (!lf) {
		size_t avail = win;
		if (avail > 0 && buf[avail - 1] == '\r')
			avail--;            /* may be the CR of a CRLF */
		size_t n = avail < lim.line ? avail : lim.line;
		int rc = start(buf, n, 0, out);
		if (rc < 0)
			return rc;
		if (avail > lim.line)
			return RWS_HTTP_E_LINE_TOO_LONG;
		return len >= lim.head ? RWS_HTTP_E_HEAD_TOO_LARGE : RWS_HTTP_INCOMPLETE;
	}
	size_t n = (size_t)(lf - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > lim.line) {
		int rc = start(buf, lim.line, 0, out);
		return rc < 0 ? rc : RWS_HTTP_E_LINE_TOO_LONG;
	}
	int rc = start(buf, n, 1, out);
	if (rc < 0)
		return rc;

	/* header lines, up to the blank one */
	size_t pos = (size_t)(lf - buf) + 1;
	for (;;) {
		lf = memchr(buf + pos, '\n', win - pos);
		if (!lf)
			return len >= lim.head ? RWS_HTTP_E_HEAD_TOO_LARGE
					       : RWS_HTTP_INCOMPLETE;
		const char *p = buf + pos;
		n = (size_t)(lf - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		pos = (size_t)(lf - buf) + 1;
		if (n == 0)
			return (int)pos;
		if (p[0] == ' ' || p[0] == '\t')
			return RWS_HTTP_E_OBS_FOLD;
		if (*num == lim.headers)
			return RWS_HTTP_E_TOO_MANY_HEADERS;
		rc = parse_header(p, n, &h[*num]);
		if (rc < 0)
			return rc;
		(*num)++;
	}
}

int rws_http_parse_request(const char *buf, size_t len,
			   const struct rws_http_limits *lim,
			   struct rws_http_request *req)
{
	return parse_head(buf, len, lim, scan_request_cb, req, req->headers,
			  &req->num_headers);
}

int rws_http_parse_response(const char *buf, size_t len,
			    const struct rws_http_limits *lim,
			    struct rws_http_response *res)
{
	return parse_head(buf, len, lim, scan_status_cb, res, res->headers,
			  &res->num_headers);
}

static int ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

static int eq_nocase(const char *a, size_t n, const char *b)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] == '\0' || ascii_lower((unsigned char)a[i]) !=
					    ascii_lower((unsigned char)b[i]))
			return 0;
	return b[n] == '\0';
}

const struct rws_http_header *rws_http_find(const struct rws_http_header *h,
					    size_t n, const char *name,
					    size_t *from)
{
	for (size_t i = *from; i < n; i++) {
		if (eq_nocase(h[i].name.p, h[i].name.len, name)) {
			*from = i + 1;
			return &h[i];
		}
	}
	*from = n;
	return NULL;
}

int rws_http_list_has(struct rws_str value, const char *token)
{
	if (value.len == 0)
		return 0;
	const char *p = value.p, *end = value.p + value.len;
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end;
		const char *b = p;
		while (b < e && is_ows((unsigned char)*b))
			b++;
		const char *t = e;
		while (t > b && is_ows((unsigned char)t[-1]))
			t--;
		if (eq_nocase(b, (size_t)(t - b), token))
			return 1;
		p = c ? c + 1 : end;
	}
	return 0;
}

const char *rws_http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 421: return "Misdirected Request";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default:  return "Unknown";
	}
}

struct err_info {
	const char *name;
	int status;
	const char *msg;
};

#define E(code, st, text) [code - RWS_HTTP_INCOMPLETE] = { #code, st, text }
static const struct err_info errors[] = {
	E(RWS_HTTP_INCOMPLETE, 0, "incomplete head: more bytes needed"),
	E(RWS_HTTP_E_HEAD_TOO_LARGE, 431, "message head larger than the limit"),
	E(RWS_HTTP_E_LINE_TOO_LONG, 414, "request line (or status line) longer than the limit"),
	E(RWS_HTTP_E_TOO_MANY_HEADERS, 431, "more header fields than the limit"),
	E(RWS_HTTP_E_BARE_CR, 400, "CR not followed by LF"),
	E(RWS_HTTP_E_BAD_METHOD, 400, "method is empty or not a token"),
	E(RWS_HTTP_E_MISSING_SP, 400, "start line lacks a space separator"),
	E(RWS_HTTP_E_BAD_TARGET, 400, "request target is not a path or absolute URI"),
	E(RWS_HTTP_E_BAD_VERSION, 400, "HTTP version is not HTTP/digit.digit"),
	E(RWS_HTTP_E_BAD_STATUS, 0, "bad status code, or a control character in the reason"),
	E(RWS_HTTP_E_OBS_FOLD, 400, "header line starts with whitespace (obsolete folding)"),
	E(RWS_HTTP_E_BAD_HEADER_NAME, 400, "header name empty, not a token, or spaced from its ':'"),
	E(RWS_HTTP_E_NO_COLON, 400, "header line has no colon"),
	E(RWS_HTTP_E_BAD_HEADER_VALUE, 400, "header value contains a control character"),
};
#undef E

static const struct err_info *lookup(int err)
{
	if (err < RWS_HTTP_INCOMPLETE || err >= RWS_HTTP_E_END_)
		return NULL;
	return &errors[err - RWS_HTTP_INCOMPLETE];
}

const char *rws_http_strerror(int err)
{
	const struct err_info *e = lookup(err);
	return e ? e->msg : NULL;
}

int rws_http_error_status(int err)
{
	const struct err_info *e = lookup(err);
	return e ? e->status : 0;
}

const char *rws_http_error_name(int err)
{
	const struct err_info *e = lookup(err);
	return e ? e->name : NULL;
}
