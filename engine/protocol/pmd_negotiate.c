/*
 * pmd_negotiate: permessage-deflate parameters for both roles; see
 * pmd_negotiate.h for the rules chosen. One parser reads an offer or a
 * response into struct pmd_seen; each role then judges what it saw.
 */
#include "protocol/pmd_negotiate.h"

#include <errno.h>
#include <string.h>

#define EXT_NAME "permessage-deflate"
#define WINDOW_MAX 15

static int lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

static int is_lit(struct rws_str s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)s.p[i]) != (unsigned char)lit[i])
			return 0;
	return 1;
}

/* "8".."15": decimal, no sign, no leading zero. Returns the bits or 0. */
static uint8_t window_bits(struct rws_str v)
{
	if (v.len == 1 && (v.p[0] == '8' || v.p[0] == '9'))
		return (uint8_t)(v.p[0] - '0');
	if (v.len == 2 && v.p[0] == '1' && v.p[1] >= '0' && v.p[1] <= '5')
		return (uint8_t)(10 + v.p[1] - '0');
	return 0;
}

/* A config window size: 0 means 15; anything else must be 8..15. */
static int cfg_bits(uint8_t b)
{
	if (b == 0)
		return WINDOW_MAX;
	return b >= 8 && b <= WINDOW_MAX ? b : -EINVAL;
}

/* The parameters of one offer or response. A window field is 0 when the
 * parameter is absent; client_max_window_bits without a value reads 15. */
struct pmd_seen {
	uint8_t snct, cnct;
	uint8_t smwb, cmwb;
};

/* Reads e's parameters. `bare_cmwb_ok` allows client_max_window_bits
 * without a value (offers only). Returns 0 or an RWS_PMD_E_* code. */
static int read_params(const struct rws_hs_ext *e, int bare_cmwb_ok, struct pmd_seen *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < e->num_params; i++) {
		const struct rws_hs_ext_param *q = &e->params[i];
		int has_value = q->value.p != NULL;
		if (is_lit(q->name, "server_no_context_takeover") ||
		    is_lit(q->name, "client_no_context_takeover")) {
			uint8_t *flag = q->name.p[0] == 's' || q->name.p[0] == 'S' ?
					&s->snct : &s->cnct;
			if (*flag)
				return RWS_PMD_E_DUP_PARAM;
			if (has_value)
				return RWS_PMD_E_BAD_VALUE;
			*flag = 1;
		} else if (is_lit(q->name, "server_max_window_bits")) {
			if (s->smwb)
				return RWS_PMD_E_DUP_PARAM;
			if (!has_value || !(s->smwb = window_bits(q->value)))
				return RWS_PMD_E_BAD_VALUE;
		} else if (is_lit(q->name, "client_max_window_bits")) {
			if (s->cmwb)
				return RWS_PMD_E_DUP_PARAM;
			if (!has_value) {
				if (!bare_cmwb_ok)
					return RWS_PMD_E_BAD_VALUE;
				s->cmwb = WINDOW_MAX;
			} else if (!(s->cmwb = window_bits(q->value))) {
				return RWS_PMD_E_BAD_VALUE;
			}
		} else {
			return RWS_PMD_E_UNKNOWN_PARAM;
		}
	}
	return 0;
}

/* --- writing -------------------------------------------------------------- */

/* An output buffer; len runs past cap when the value does not fit. */
struct out {
	char *p;
	size_t cap, len;
};

static void put(struct out *o, const char *s)
{
	size_t n = strlen(s);
	if (o->len < o->cap && n < o->cap - o->len)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_bits(struct out *o, const char *name, int bits)
{
	char v[3] = { (char)('0' + bits / 10), (char)('0' + bits % 10), 0 };
	put(o, "; ");
	put(o, name);
	put(o, "=");
	put(o, bits < 10 ? v + 1 : v);
}

/* NUL-terminates o. Returns its length or -ENOSPC. */
static int finish(struct out *o)
{
	if (o->len >= o->cap)
		return -ENOSPC;
	o->p[o->len] = '\0';
	return (int)o->len;
}

/* --- server --------------------------------------------------------------- */

void rws_pmd_config_default(struct rws_pmd_config *c)
{
	c->server_no_context_takeover = 1;
	c->client_no_context_takeover = 1;
	c->server_max_window_bits = WINDOW_MAX;
	c->client_max_window_bits = WINDOW_MAX;
}

/* Judges one offer against cfg (window sizes already checked as sbits and
 * cbits). Returns 1 with *a and *sp filled, or 0 to decline it. */
static int judge_offer(const struct rws_pmd_config *cfg, int sbits, int cbits,
		       const struct rws_hs_ext *e, struct rws_pmd_params *a,
		       struct pmd_seen *sp)
{
	struct pmd_seen s;
	if (!is_lit(e->name, EXT_NAME) || read_params(e, 1, &s) < 0)
		return 0;
	a->enabled = 1;
	a->server_no_context_takeover = cfg->server_no_context_takeover || s.snct;
	a->client_no_context_takeover = cfg->client_no_context_takeover || s.cnct;
	/* a smaller window than our compressor's is accepted as asked: the
	 * caller then sends every message uncompressed (RFC 7692 lets any
	 * message go uncompressed), since libdeflate cannot shrink its window */
	a->server_max_window_bits = (uint8_t)(s.smwb && s.smwb < sbits ? s.smwb : sbits);
	if (s.cmwb) {
		a->client_max_window_bits = (uint8_t)(s.cmwb < cbits ? s.cmwb : cbits);
	} else {
		/* the client's window cannot be bounded: fine if it keeps no context */
		if (cbits < WINDOW_MAX && !a->client_no_context_takeover)
			return 0;
		a->client_max_window_bits = WINDOW_MAX;
	}
	*sp = s;
	return 1;
}

int rws_pmd_server_negotiate(const struct rws_pmd_config *cfg,
			     const struct rws_hs_ext *exts, size_t n,
			     struct rws_pmd_params *agreed,
			     char *out, size_t cap, size_t *outlen)
{
	int sbits = cfg_bits(cfg->server_max_window_bits);
	int cbits = cfg_bits(cfg->client_max_window_bits);
	memset(agreed, 0, sizeof(*agreed));
	*outlen = 0;
	if (sbits < 0 || cbits < 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		struct pmd_seen s;
		struct rws_pmd_params a = { 0 };
		if (!judge_offer(cfg, sbits, cbits, &exts[i], &a, &s))
			continue;
		struct out o = { out, cap, 0 };
		put(&o, EXT_NAME);
		if (a.server_no_context_takeover)
			put(&o, "; server_no_context_takeover");
		if (a.client_no_context_takeover)
			put(&o, "; client_no_context_takeover");
		/* accepting a server_max_window_bits offer means answering it */
		if (s.smwb || sbits < WINDOW_MAX)
			put_bits(&o, "server_max_window_bits", a.server_max_window_bits);
		/* only when offered, and only to say something */
		if (s.cmwb && a.client_max_window_bits < WINDOW_MAX)
			put_bits(&o, "client_max_window_bits", a.client_max_window_bits);
		int len = finish(&o);
		if (len < 0)
			return len;
		*agreed = a;
		*outlen = (size_t)len;
		return 1;
	}
	return 0;
}

/* --- client --------------------------------------------------------------- */

int rws_pmd_client_offer(const struct rws_pmd_config *cfg, char *out, size_t cap)
{
	int sbits = cfg_bits(cfg->server_max_window_bits);
	int cbits = cfg_bits(cfg->client_max_window_bits);
	if (sbits < 0 || cbits < 0)
		return -EINVAL;
	struct out o = { out, cap, 0 };
	put(&o, EXT_NAME);
	if (cfg->server_no_context_takeover)
		put(&o, "; server_no_context_takeover");
	if (cfg->client_no_context_takeover)
		put(&o, "; client_no_context_takeover");
	if (sbits < WINDOW_MAX)
		put_bits(&o, "server_max_window_bits", sbits);
	if (cbits < WINDOW_MAX)
		put_bits(&o, "client_max_window_bits", cbits);
	return finish(&o);
}

int rws_pmd_client_accept(const struct rws_pmd_config *cfg,
			  const struct rws_hs_ext *exts, size_t n,
			  struct rws_pmd_params *agreed)
{
	int sbits = cfg_bits(cfg->server_max_window_bits);
	int cbits = cfg_bits(cfg->client_max_window_bits);
	memset(agreed, 0, sizeof(*agreed));
	if (sbits < 0 || cbits < 0)
		return -EINVAL;
	const struct rws_hs_ext *e = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!is_lit(exts[i].name, EXT_NAME))
			continue;
		if (e)
			return RWS_PMD_E_MULTIPLE;
		e = &exts[i];
	}
	if (!e)
		return 0;

	struct pmd_seen s;
	int rc = read_params(e, 0, &s);
	if (rc < 0)
		return rc;
	if (cfg->server_no_context_takeover && !s.snct)
		return RWS_PMD_E_SERVER_CONTEXT;
	/* offered below 15: the server must answer with that or less */
	if (sbits < WINDOW_MAX && (!s.smwb || s.smwb > sbits))
		return RWS_PMD_E_SERVER_WINDOW;
	if (s.cmwb && cbits == WINDOW_MAX)
		return RWS_PMD_E_CLIENT_WINDOW_NOT_OFFERED;
	/* more than offered is invalid, less is beyond our compressor */
	if (s.cmwb && s.cmwb != cbits)
		return RWS_PMD_E_CLIENT_WINDOW;

	agreed->enabled = 1;
	agreed->server_no_context_takeover = s.snct;
	agreed->client_no_context_takeover = s.cnct || cfg->client_no_context_takeover;
	agreed->server_max_window_bits = s.smwb ? s.smwb : WINDOW_MAX;
	agreed->client_max_window_bits = (uint8_t)cbits;
	return 0;
}

/* --- errors --------------------------------------------------------------- */

const char *rws_pmd_strerror(int err)
{
	switch (err) {
	case RWS_PMD_E_MULTIPLE:
		return "permessage-deflate accepted more than once";
	case RWS_PMD_E_UNKNOWN_PARAM:
		return "permessage-deflate: unknown parameter";
	case RWS_PMD_E_DUP_PARAM:
		return "permessage-deflate: duplicated parameter";
	case RWS_PMD_E_BAD_VALUE:
		return "permessage-deflate: invalid or missing parameter value";
	case RWS_PMD_E_SERVER_CONTEXT:
		return "permessage-deflate: server_no_context_takeover requested but not granted";
	case RWS_PMD_E_SERVER_WINDOW:
		return "permessage-deflate: server_max_window_bits missing or above the offer";
	case RWS_PMD_E_CLIENT_WINDOW_NOT_OFFERED:
		return "permessage-deflate: client_max_window_bits was not offered";
	case RWS_PMD_E_CLIENT_WINDOW:
		return "permessage-deflate: client_max_window_bits differs from our window";
	case -EINVAL:
		return "permessage-deflate: window size in the configuration not 8..15";
	case -ENOSPC:
		return "permessage-deflate: output buffer too small";
	default:
		return "unknown permessage-deflate error";
	}
}
