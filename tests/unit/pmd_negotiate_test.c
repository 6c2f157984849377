/*
 * pmd_negotiate_test: permessage-deflate negotiation (RFC 7692 section 7.1)
 * for both roles. Header values go through rws_hs_parse_extensions() first,
 * from a guard copy (so an over-read crashes), as the handshake feeds them.
 * Each rule has a case with the input that breaks it; a declined offer is
 * shown followed by an acceptable one, so "first acceptable wins" is checked
 * at the same time.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "protocol/handshake.h"
#include "protocol/pmd_negotiate.h"
#include "testutil.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The guard copy behind the last parse; its views stay valid until the next. */
static uint8_t *live;
static struct rws_hs_ext exts[RWS_HS_MAX_EXTENSIONS];

static size_t parse(const char *value)
{
	if (live)
		guard_free(live);
	size_t len = strlen(value);
	live = guard_copy(value, len);
	size_t n = 0;
	int rc = rws_hs_parse_extensions((struct rws_str){ (const char *)live, len },
					 exts, N(exts), &n);
	cr_assert_eq(rc, 0, "parse of \"%s\": %d", value, rc);
	return n;
}

static struct rws_pmd_config cfg;
static struct rws_pmd_params agreed;
static char out[RWS_PMD_VALUE_MAX];
static size_t outlen;

static void setup(void)
{
	rws_pmd_config_default(&cfg);
}

TestSuite(pmd, .init = setup);

/* Negotiates `offers` as the server with cfg; returns what it returns. */
static int srv(const char *offers)
{
	size_t n = parse(offers);
	memset(out, 'x', sizeof(out));
	return rws_pmd_server_negotiate(&cfg, exts, n, &agreed, out, sizeof(out), &outlen);
}

/* The server accepts `offers` and answers exactly `want`. */
static void accepts(const char *offers, const char *want)
{
	int rc = srv(offers);
	cr_assert_eq(rc, 1, "\"%s\" declined (%d)", offers, rc);
	cr_assert_str_eq(out, want, "\"%s\" answered \"%s\"", offers, out);
	cr_assert_eq(outlen, strlen(want));
	cr_assert_eq(agreed.enabled, 1);
}

/* The server declines every offer in `offers`. */
static void declines(const char *offers)
{
	int rc = srv(offers);
	cr_assert_eq(rc, 0, "\"%s\" accepted (%d): \"%s\"", offers, rc, out);
	cr_assert_eq(outlen, 0);
	static const struct rws_pmd_params zero;
	cr_assert(memcmp(&agreed, &zero, sizeof(zero)) == 0);
}

/* The offer `bad` is declined alone, and skipped for a plain offer after it. */
static void declines_offer(const char *bad)
{
	declines(bad);
	char both[512];
	snprintf(both, sizeof(both), "%s, permessage-deflate", bad);
	accepts(both, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

/* --- server: what is accepted and answered -------------------------------- */

Test(pmd, server_defaults)
{
	accepts("permessage-deflate",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover");
	cr_assert_eq(agreed.server_no_context_takeover, 1);
	cr_assert_eq(agreed.client_no_context_takeover, 1);
	cr_assert_eq(agreed.server_max_window_bits, 15);
	cr_assert_eq(agreed.client_max_window_bits, 15);
}

Test(pmd, server_context_flags)
{
	cfg.client_no_context_takeover = 0;
	accepts("permessage-deflate", "permessage-deflate; server_no_context_takeover");
	cr_assert_eq(agreed.client_no_context_takeover, 0);
	/* the client's promise is echoed and agreed */
	accepts("permessage-deflate; client_no_context_takeover",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover");
	cr_assert_eq(agreed.client_no_context_takeover, 1);
	/* a server configured to keep context still grants the request */
	cfg.server_no_context_takeover = 0;
	accepts("permessage-deflate", "permessage-deflate");
	cr_assert_eq(agreed.server_no_context_takeover, 0);
	accepts("permessage-deflate; server_no_context_takeover",
		"permessage-deflate; server_no_context_takeover");
	cr_assert_eq(agreed.server_no_context_takeover, 1);
}

Test(pmd, server_names_case_insensitive)
{
	accepts("PerMessage-Deflate; Server_No_Context_Takeover; CLIENT_MAX_WINDOW_BITS",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

Test(pmd, server_other_extensions_ignored)
{
	declines("x-webkit-deflate-frame; no_context_takeover");
	accepts("x-webkit-deflate-frame, foo; server_max_window_bits=10, permessage-deflate",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover");
	/* nothing offered at all */
	cr_assert_eq(rws_pmd_server_negotiate(&cfg, exts, 0, &agreed, out, sizeof(out), &outlen), 0);
	cr_assert_eq(agreed.enabled, 0);
}

Test(pmd, server_first_acceptable_wins)
{
	accepts("permessage-deflate; server_max_window_bits=15, permessage-deflate",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"server_max_window_bits=15");
	accepts("permessage-deflate; foo, permessage-deflate; client_max_window_bits=9, "
		"permessage-deflate",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"client_max_window_bits=9");
}

/* --- server: server_max_window_bits ---------------------------------------- */

Test(pmd, server_window_15_answered)
{
	/* accepting the parameter means answering it (7.1.2.1) */
	accepts("permessage-deflate; server_max_window_bits=15",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"server_max_window_bits=15");
	accepts("permessage-deflate; server_max_window_bits=\"15\"",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"server_max_window_bits=15");
	cr_assert_eq(agreed.server_max_window_bits, 15);
}

Test(pmd, server_window_below_libdeflate_accepted_as_asked)
{
	/* libdeflate always compresses with a 32 KiB window: a smaller one is
	 * accepted as asked, and agreed says so, so that the caller sends
	 * uncompressed */
	for (int b = 8; b < 15; b++) {
		char s[64], want[160];
		snprintf(s, sizeof(s), "permessage-deflate; server_max_window_bits=%d", b);
		snprintf(want, sizeof(want),
			 "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
			 "server_max_window_bits=%d", b);
		accepts(s, want);
		cr_assert_eq(agreed.server_max_window_bits, b);
	}
	accepts("permessage-deflate; server_max_window_bits=\"10\"",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"server_max_window_bits=10");
	cr_assert_eq(agreed.server_max_window_bits, 10);
}

Test(pmd, server_window_bad_values)
{
	static const char *bad[] = {
		"server_max_window_bits",            /* value required */
		"server_max_window_bits=7",
		"server_max_window_bits=16",
		"server_max_window_bits=0",
		"server_max_window_bits=08",         /* leading zero */
		"server_max_window_bits=015",
		"server_max_window_bits=05",
		"server_max_window_bits=25",
		"server_max_window_bits=+15",
		"server_max_window_bits=-15",
		"server_max_window_bits=1a",
		"server_max_window_bits=15a",
		"server_max_window_bits=115",
		"server_max_window_bits=0x0f",
		"server_max_window_bits=\"16\"",
		"server_max_window_bits=\"015\"",
		"server_max_window_bits=\"15\"; server_max_window_bits=15",  /* duplicate */
	};
	for (size_t i = 0; i < N(bad); i++) {
		char s[256];
		snprintf(s, sizeof(s), "permessage-deflate; %s", bad[i]);
		declines_offer(s);
	}
}

Test(pmd, server_window_configured_smaller)
{
	/* a compressor that can use a smaller window (not libdeflate) */
	cfg.server_max_window_bits = 12;
	accepts("permessage-deflate",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"server_max_window_bits=12");
	accepts("permessage-deflate; server_max_window_bits=13",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"server_max_window_bits=12");
	accepts("permessage-deflate; server_max_window_bits=12",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"server_max_window_bits=12");
	cr_assert_eq(agreed.server_max_window_bits, 12);
	accepts("permessage-deflate; server_max_window_bits=11",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"server_max_window_bits=11");
	cr_assert_eq(agreed.server_max_window_bits, 11);
	cfg.server_max_window_bits = 9;
	accepts("permessage-deflate",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"server_max_window_bits=9");
}

/* --- server: client_max_window_bits ---------------------------------------- */

Test(pmd, server_client_window_offered_bare)
{
	/* offered without a value: accepted; nothing to say with our 15 */
	accepts("permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover");
	cr_assert_eq(agreed.client_max_window_bits, 15);
	/* configured smaller: told to the client */
	cfg.client_max_window_bits = 10;
	accepts("permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"client_max_window_bits=10");
	cr_assert_eq(agreed.client_max_window_bits, 10);
}

Test(pmd, server_client_window_offered_value)
{
	/* the client's own limit is kept (an equal value may be answered) */
	accepts("permessage-deflate; client_max_window_bits=12",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"client_max_window_bits=12");
	cr_assert_eq(agreed.client_max_window_bits, 12);
	accepts("permessage-deflate; client_max_window_bits=15",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover");
	cfg.client_max_window_bits = 10;
	/* never above what the client offered, never above our limit */
	accepts("permessage-deflate; client_max_window_bits=\"12\"",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"client_max_window_bits=10");
	accepts("permessage-deflate; client_max_window_bits=8",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"client_max_window_bits=8");
	cr_assert_eq(agreed.client_max_window_bits, 8);
}

Test(pmd, server_client_window_not_offered)
{
	/* the response may not carry client_max_window_bits (7.1.2.2) */
	cfg.client_max_window_bits = 10;
	accepts("permessage-deflate",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover");
	cr_assert_eq(agreed.client_max_window_bits, 15);
	/* a client that may keep context cannot be bounded: declined */
	cfg.client_no_context_takeover = 0;
	declines("permessage-deflate");
	accepts("permessage-deflate, permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover; client_max_window_bits=10");
	accepts("permessage-deflate; client_no_context_takeover",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

Test(pmd, server_client_window_bad_values)
{
	static const char *bad[] = {
		"client_max_window_bits=7",
		"client_max_window_bits=16",
		"client_max_window_bits=08",
		"client_max_window_bits=09",
		"client_max_window_bits=19",
		"client_max_window_bits=\"08\"",
		"client_max_window_bits=+9",
		"client_max_window_bits=9x",
		"client_max_window_bits; client_max_window_bits",
		"client_max_window_bits=9; client_max_window_bits",
		"client_max_window_bits; client_max_window_bits=9",
	};
	for (size_t i = 0; i < N(bad); i++) {
		char s[256];
		snprintf(s, sizeof(s), "permessage-deflate; %s", bad[i]);
		declines_offer(s);
	}
	accepts("permessage-deflate; client_max_window_bits=\"8\"",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
		"client_max_window_bits=8");
}

/* --- server: flags, duplicates, unknown ------------------------------------ */

Test(pmd, server_flag_values_declined)
{
	declines_offer("permessage-deflate; server_no_context_takeover=1");
	declines_offer("permessage-deflate; server_no_context_takeover=\"true\"");
	declines_offer("permessage-deflate; client_no_context_takeover=0");
	declines_offer("permessage-deflate; client_no_context_takeover=\"x\"");
}

Test(pmd, server_duplicates_declined)
{
	declines_offer("permessage-deflate; server_no_context_takeover; server_no_context_takeover");
	declines_offer("permessage-deflate; client_no_context_takeover; Client_No_Context_Takeover");
	declines_offer("permessage-deflate; server_max_window_bits=15; client_max_window_bits; "
		       "server_max_window_bits=15");
}

Test(pmd, server_unknown_declined)
{
	declines_offer("permessage-deflate; x");
	declines_offer("permessage-deflate; client_no_context_takeover; mux");
	declines_offer("permessage-deflate; server_max_window_bit=15");
	declines_offer("permessage-deflate; no_context_takeover");
	declines_offer("permessage-deflate; server_no_context_takeover_");
}

Test(pmd, server_malformed_is_the_parsers)
{
	/* these never reach negotiation: the handshake answers 400 */
	static const char *bad[] = {
		"permessage-deflate; server_max_window_bits=",
		"permessage-deflate; server_max_window_bits=\"\"",
		"permessage-deflate; server_max_window_bits=\"1 5\"",
		"permessage-deflate; server_max_window_bits=\"15",
		"permessage-deflate;",
		"permessage-deflate,",
	};
	for (size_t i = 0; i < N(bad); i++) {
		size_t n = 0;
		int rc = rws_hs_parse_extensions((struct rws_str){ bad[i], strlen(bad[i]) },
						 exts, N(exts), &n);
		cr_assert_eq(rc, RWS_HS_E_BAD_EXTENSIONS, "\"%s\"", bad[i]);
		cr_assert_eq(rws_hs_error_status(rc), 400);
	}
}

/* --- server: output and configuration -------------------------------------- */

Test(pmd, server_output_too_small)
{
	static const char *offer = "permessage-deflate; server_max_window_bits=15; client_max_window_bits=9";
	static const char *want = "permessage-deflate; server_no_context_takeover; "
				  "client_no_context_takeover; server_max_window_bits=15; "
				  "client_max_window_bits=9";
	size_t n = parse(offer);
	size_t len = strlen(want);
	for (size_t cap = 0; cap <= len; cap++) {
		char *buf = (char *)guard_copy(want, cap);
		int rc = rws_pmd_server_negotiate(&cfg, exts, n, &agreed, buf, cap, &outlen);
		cr_assert_eq(rc, -ENOSPC, "cap %zu", cap);
		cr_assert_eq(agreed.enabled, 0);
		guard_free((uint8_t *)buf);
	}
	char *buf = (char *)guard_copy(want, len + 1);
	cr_assert_eq(rws_pmd_server_negotiate(&cfg, exts, n, &agreed, buf, len + 1, &outlen), 1);
	cr_assert_str_eq(buf, want);
	cr_assert_eq(outlen, len);
	cr_assert_lt(len, RWS_PMD_VALUE_MAX);
	guard_free((uint8_t *)buf);
}

Test(pmd, server_config_checked)
{
	size_t n = parse("permessage-deflate");
	static const uint8_t bad[] = { 1, 7, 16, 255 };
	for (size_t i = 0; i < N(bad); i++) {
		setup();
		cfg.server_max_window_bits = bad[i];
		cr_assert_eq(rws_pmd_server_negotiate(&cfg, exts, n, &agreed, out, sizeof(out), &outlen),
			     -EINVAL);
		setup();
		cfg.client_max_window_bits = bad[i];
		cr_assert_eq(rws_pmd_server_negotiate(&cfg, exts, n, &agreed, out, sizeof(out), &outlen),
			     -EINVAL);
	}
	/* 0 reads as 15 */
	memset(&cfg, 0, sizeof(cfg));
	accepts("permessage-deflate", "permessage-deflate");
	cr_assert_eq(agreed.server_max_window_bits, 15);
	cr_assert_eq(agreed.client_max_window_bits, 15);
}

/* --- client: the offer ------------------------------------------------------ */

Test(pmd, client_offer)
{
	cr_assert_eq(rws_pmd_client_offer(&cfg, out, sizeof(out)),
		     (int)strlen("permessage-deflate; server_no_context_takeover; "
				 "client_no_context_takeover"));
	cr_assert_str_eq(out, "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
	memset(&cfg, 0, sizeof(cfg));
	rws_pmd_client_offer(&cfg, out, sizeof(out));
	cr_assert_str_eq(out, "permessage-deflate");
	cfg.server_max_window_bits = 10;
	cfg.client_max_window_bits = 9;
	rws_pmd_client_offer(&cfg, out, sizeof(out));
	cr_assert_str_eq(out, "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9");
	/* what we send parses */
	cr_assert_eq(parse(out), 1);
	cfg.server_max_window_bits = 7;
	cr_assert_eq(rws_pmd_client_offer(&cfg, out, sizeof(out)), -EINVAL);
	cfg.server_max_window_bits = 15;
	cfg.client_max_window_bits = 16;
	cr_assert_eq(rws_pmd_client_offer(&cfg, out, sizeof(out)), -EINVAL);
}

Test(pmd, client_offer_too_small)
{
	cfg.server_max_window_bits = 8;
	cfg.client_max_window_bits = 8;
	char want[RWS_PMD_VALUE_MAX];
	int len = rws_pmd_client_offer(&cfg, want, sizeof(want));
	cr_assert_gt(len, 0);
	for (size_t cap = 0; cap <= (size_t)len; cap++) {
		char *buf = (char *)guard_copy(want, cap);
		cr_assert_eq(rws_pmd_client_offer(&cfg, buf, cap), -ENOSPC, "cap %zu", cap);
		guard_free((uint8_t *)buf);
	}
	char *buf = (char *)guard_copy(want, (size_t)len + 1);
	cr_assert_eq(rws_pmd_client_offer(&cfg, buf, (size_t)len + 1), len);
	cr_assert_str_eq(buf, want);
	guard_free((uint8_t *)buf);
}

/* --- client: the answer ----------------------------------------------------- */

static int cli(const char *response)
{
	size_t n = parse(response);
	return rws_pmd_client_accept(&cfg, exts, n, &agreed);
}

static void cli_refuses(const char *response, int err)
{
	int rc = cli(response);
	cr_assert_eq(rc, err, "\"%s\": %d (%s), want %d", response, rc, rws_pmd_strerror(rc), err);
	cr_assert_eq(agreed.enabled, 0);
}

Test(pmd, client_accepts)
{
	cr_assert_eq(cli("permessage-deflate; server_no_context_takeover; client_no_context_takeover"), 0);
	cr_assert_eq(agreed.enabled, 1);
	cr_assert_eq(agreed.server_no_context_takeover, 1);
	cr_assert_eq(agreed.client_no_context_takeover, 1);
	cr_assert_eq(agreed.server_max_window_bits, 15);
	cr_assert_eq(agreed.client_max_window_bits, 15);
	/* the server may limit its own window unasked (7.1.2.1) */
	cr_assert_eq(cli("permessage-deflate; server_no_context_takeover; server_max_window_bits=\"9\""), 0);
	cr_assert_eq(agreed.server_max_window_bits, 9);
	/* our promise holds even if the server does not repeat it */
	cr_assert_eq(agreed.client_no_context_takeover, 1);
	/* not accepted: no extension, no error */
	cr_assert_eq(cli("x-other"), 0);
	cr_assert_eq(agreed.enabled, 0);
}

Test(pmd, client_context_flags)
{
	memset(&cfg, 0, sizeof(cfg));
	/* the server may grant or ask for no context takeover unasked */
	cr_assert_eq(cli("permessage-deflate"), 0);
	cr_assert_eq(agreed.server_no_context_takeover, 0);
	cr_assert_eq(agreed.client_no_context_takeover, 0);
	cr_assert_eq(cli("permessage-deflate; client_no_context_takeover; server_no_context_takeover"), 0);
	cr_assert_eq(agreed.server_no_context_takeover, 1);
	cr_assert_eq(agreed.client_no_context_takeover, 1);
	/* asked for and not granted: not an acceptance of our offer */
	cfg.server_no_context_takeover = 1;
	cli_refuses("permessage-deflate", RWS_PMD_E_SERVER_CONTEXT);
	cli_refuses("permessage-deflate; client_no_context_takeover", RWS_PMD_E_SERVER_CONTEXT);
}

Test(pmd, client_refuses_malformed_params)
{
	cli_refuses("permessage-deflate; server_no_context_takeover, permessage-deflate",
		    RWS_PMD_E_MULTIPLE);
	cli_refuses("permessage-deflate; server_no_context_takeover; foo", RWS_PMD_E_UNKNOWN_PARAM);
	cli_refuses("permessage-deflate; server_no_context_takeover; server_no_context_takeover",
		    RWS_PMD_E_DUP_PARAM);
	cli_refuses("permessage-deflate; server_no_context_takeover; server_max_window_bits=9; "
		    "server_max_window_bits=9", RWS_PMD_E_DUP_PARAM);
	cli_refuses("permessage-deflate; server_no_context_takeover=1", RWS_PMD_E_BAD_VALUE);
	cli_refuses("permessage-deflate; server_no_context_takeover; client_no_context_takeover=\"1\"",
		    RWS_PMD_E_BAD_VALUE);
	cli_refuses("permessage-deflate; server_no_context_takeover; server_max_window_bits",
		    RWS_PMD_E_BAD_VALUE);
	static const char *vals[] = { "7", "16", "08", "\"08\"", "+9", "9a", "0", "100", "05", "25" };
	for (size_t i = 0; i < N(vals); i++) {
		char s[256];
		snprintf(s, sizeof(s), "permessage-deflate; server_no_context_takeover; "
			 "server_max_window_bits=%s", vals[i]);
		cli_refuses(s, RWS_PMD_E_BAD_VALUE);
	}
}

Test(pmd, client_server_window)
{
	cfg.server_max_window_bits = 10;
	/* we asked for at most 10: accepting means answering 10 or less */
	cli_refuses("permessage-deflate; server_no_context_takeover", RWS_PMD_E_SERVER_WINDOW);
	cli_refuses("permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
		    RWS_PMD_E_SERVER_WINDOW);
	cli_refuses("permessage-deflate; server_no_context_takeover; server_max_window_bits=15",
		    RWS_PMD_E_SERVER_WINDOW);
	cr_assert_eq(cli("permessage-deflate; server_no_context_takeover; server_max_window_bits=10"), 0);
	cr_assert_eq(agreed.server_max_window_bits, 10);
	cr_assert_eq(cli("permessage-deflate; server_no_context_takeover; server_max_window_bits=8"), 0);
	cr_assert_eq(agreed.server_max_window_bits, 8);
}

Test(pmd, client_client_window)
{
	/* not offered (our libdeflate compressor uses 15): may not be answered */
	cli_refuses("permessage-deflate; server_no_context_takeover; client_max_window_bits=15",
		    RWS_PMD_E_CLIENT_WINDOW_NOT_OFFERED);
	cli_refuses("permessage-deflate; server_no_context_takeover; client_max_window_bits=9",
		    RWS_PMD_E_CLIENT_WINDOW_NOT_OFFERED);
	/* a response's value is required */
	cli_refuses("permessage-deflate; server_no_context_takeover; client_max_window_bits",
		    RWS_PMD_E_BAD_VALUE);
	cfg.client_max_window_bits = 10;
	/* more than offered is invalid, less is beyond our compressor */
	cli_refuses("permessage-deflate; server_no_context_takeover; client_max_window_bits=11",
		    RWS_PMD_E_CLIENT_WINDOW);
	cli_refuses("permessage-deflate; server_no_context_takeover; client_max_window_bits=9",
		    RWS_PMD_E_CLIENT_WINDOW);
	cli_refuses("permessage-deflate; server_no_context_takeover; client_max_window_bits=16",
		    RWS_PMD_E_BAD_VALUE);
	cr_assert_eq(cli("permessage-deflate; server_no_context_takeover; client_max_window_bits=10"), 0);
	cr_assert_eq(agreed.client_max_window_bits, 10);
	cr_assert_eq(cli("permessage-deflate; server_no_context_takeover"), 0);
	cr_assert_eq(agreed.client_max_window_bits, 10);
}

Test(pmd, client_config_checked)
{
	size_t n = parse("permessage-deflate; server_no_context_takeover");
	cfg.client_max_window_bits = 7;
	cr_assert_eq(rws_pmd_client_accept(&cfg, exts, n, &agreed), -EINVAL);
	cr_assert_eq(agreed.enabled, 0);
}

/* --- both roles --------------------------------------------------------------- */

/* Our client's offer, our server's answer, our client's check: whenever the
 * server accepts, the client agrees to the same parameters, or refuses only
 * because its compressor cannot use the smaller window the server asked for. */
Test(pmd, round_trip)
{
	static const uint8_t bits[] = { 8, 10, 14, 15 };
	size_t accepted = 0;
	for (int mask = 0; mask < 16; mask++)
	for (size_t a = 0; a < N(bits); a++)
	for (size_t b = 0; b < N(bits); b++)
	for (size_t c = 0; c < N(bits); c++)
	for (size_t d = 0; d < N(bits); d++) {
		struct rws_pmd_config cc = {
			.server_no_context_takeover = mask & 1,
			.client_no_context_takeover = (mask >> 1) & 1,
			.server_max_window_bits = bits[a],
			.client_max_window_bits = bits[b],
		};
		struct rws_pmd_config sc = {
			.server_no_context_takeover = (mask >> 2) & 1,
			.client_no_context_takeover = (mask >> 3) & 1,
			.server_max_window_bits = bits[c],
			.client_max_window_bits = bits[d],
		};
		char offer[RWS_PMD_VALUE_MAX], answer[RWS_PMD_VALUE_MAX];
		cr_assert_gt(rws_pmd_client_offer(&cc, offer, sizeof(offer)), 0);
		size_t n = parse(offer);
		struct rws_pmd_params sa, ca;
		size_t alen;
		int rc = rws_pmd_server_negotiate(&sc, exts, n, &sa, answer, sizeof(answer), &alen);
		cr_assert(rc == 0 || rc == 1);
		if (rc == 0) {
			/* declined only for a window the server cannot keep or bound */
			cr_assert(bits[a] < bits[c] ||
				  (bits[b] == 15 && bits[d] < 15 &&
				   !cc.client_no_context_takeover && !sc.client_no_context_takeover),
				  "\"%s\" declined", offer);
			continue;
		}
		n = parse(answer);
		rc = rws_pmd_client_accept(&cc, exts, n, &ca);
		if (bits[b] < 15 && bits[d] < bits[b]) {
			cr_assert_eq(rc, RWS_PMD_E_CLIENT_WINDOW, "\"%s\" -> \"%s\"", offer, answer);
			continue;
		}
		cr_assert_eq(rc, 0, "\"%s\" -> \"%s\": %s", offer, answer, rws_pmd_strerror(rc));
		cr_assert(memcmp(&sa, &ca, sizeof(sa)) == 0, "\"%s\" -> \"%s\" agreed differently",
			  offer, answer);
		accepted++;
	}
	cr_assert_gt(accepted, 0);
}

Test(pmd, strerror_names_every_code)
{
	const char *unknown = rws_pmd_strerror(1);
	for (int e = RWS_PMD_E_MULTIPLE; e < RWS_PMD_E_END_; e++) {
		cr_assert_not_null(rws_pmd_strerror(e));
		cr_assert_str_neq(rws_pmd_strerror(e), unknown, "code %d", e);
	}
	cr_assert_str_neq(rws_pmd_strerror(-EINVAL), unknown);
	cr_assert_str_neq(rws_pmd_strerror(-ENOSPC), unknown);
}
