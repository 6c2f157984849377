/*
 * autobahn_pmd_test: the Autobahn|TestSuite groups 12 and 13
 * (permessage-deflate, RFC 7692) against `ringwsd --deflate` with the echo
 * plugin, as conformance_test.c is for groups 1 to 10 (Autobahn itself
 * needs Python 2). One Criterion test per Autobahn case, named by its id
 * (case_13_7_18 is case 13.7.18), sending what the public case description
 * sends:
 *
 * - each case opens a connection with its permessage-deflate offer, sends
 *   messages of one size one at a time, each compressed (zlib, raw deflate,
 *   sync-flushed, 00 00 ff ff removed), and waits for each echo before the
 *   next; the compressed payload is cut into frames of the case's
 *   auto-fragment size (0: one frame), RSV1 on the first only. Then it
 *   closes with 1000. The 18 sizes of a subgroup (x.y.1 to x.y.18):
 *   16, 64, 256, 1K, 4K, 8K, 16K, 32K, 64K and 128K bytes whole, 8K to 128K
 *   in 256-byte frames, 128K in 1K, 4K and 32K frames;
 * - group 12 uses the default offer (Autobahn's client sends
 *   "permessage-deflate; client_no_context_takeover; client_max_window_bits")
 *   with a payload kind per subgroup: 12.1 JSON (text), 12.2 an 8-bit
 *   512x512 grayscale bitmap (binary), 12.3 German verse (sent as binary),
 *   12.4 HTML (text), 12.5 a PDF-like file, mostly incompressible streams
 *   (binary). The payloads are made here, deterministically, with the same
 *   kinds and sizes as Autobahn's files; each message is the next slice of
 *   its payload, wrapping around (text slices are cut at characters);
 * - group 13 sends the JSON under each of Autobahn's offers, which add to
 *   the default one: 13.1 nothing, 13.2 server_no_context_takeover, 13.3
 *   server_max_window_bits=9, 13.4 server_max_window_bits=15, 13.5 and 13.6
 *   both (9 and 15), 13.7 the list of 13.5's, 13.2's and 13.1's offers, of
 *   which the first must win. (Autobahn's window is 9 since zlib cannot
 *   deflate with 8.)
 *
 * Autobahn sends 1000 messages per case; here that is scaled to about
 * 1 MiB of payload per case (1000 messages up to 1 KiB, 10 of 128 KiB),
 * so that the suite runs in well under a minute.
 *
 * Every offer Autobahn makes carries client_no_context_takeover, so its
 * cases never let the client keep its context. The c13_client suite adds
 * the offers from the client's side, against a second daemon started with
 * --deflate-client-context, each running the 18 sizes: the bare offer,
 * client_no_context_takeover, client_max_window_bits=9, =15 and bare, both
 * combined, and a list whose first offer must be declined. There the client
 * keeps its deflate context across messages where the answer allows it, and
 * deflates with the window that was agreed.
 *
 * What is checked, for each case, strictly:
 * - the 101 accepts exactly one permessage-deflate, and the answer is a
 *   valid acceptance of the offer that should win (RFC 7692 7.1: known
 *   parameters, each at most once, values 8..15 without leading zeros where
 *   a value is due and none where it is not; server_no_context_takeover and
 *   server_max_window_bits (no larger) when the offer has them;
 *   client_max_window_bits only when offered, no larger than offered), and
 *   the answer is the one README documents (server_no_context_takeover
 *   always, client_no_context_takeover unless the daemon lets clients keep
 *   their context and the offer does not carry it, a window offered is
 *   answered as offered);
 * - every echo is byte-identical to its message, of the same type, in
 *   order; a compressed echo inflates on its own (the server keeps no
 *   context), within the agreed server window, to exactly the message, and
 *   nothing follows its final block but the single 0x00 of RFC 7692 7.2.1;
 * - every server frame is valid: unmasked, minimal length, RSV2 and RSV3
 *   clear, RSV1 only on the first frame of a data message, continuation
 *   frames only inside a message, control frames short and final;
 * - what README promises about compression: echoes below 1024 bytes and
 *   every echo on a connection that agreed server_max_window_bits below 15
 *   come uncompressed, echoes of compressible payloads (JSON, HTML, verse)
 *   from 1024 bytes on come compressed;
 * - the closing handshake: our close 1000 is answered with close 1000,
 *   nothing else arrives, and TCP closes.
 * Every socket operation is bounded (READ_MS per read or write), and each
 * case by CASE_MS.
 */
#if defined(__has_include)
#if !__has_include(<zlib.h>)
#error "zlib.h is missing: install the Debian package zlib1g-dev (make test-deps does)"
#endif
#endif

#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "wsraw.h"

#define CASE_MS 30000		/* the longest one case may take */
#define THRESHOLD 1024		/* ringwsd's default --deflate-threshold */

/* --- payloads ------------------------------------------------------------- */

/* A growing buffer. */
struct sb {
	char *p;
	size_t n, cap;
};

static void sb_add(struct sb *s, const void *p, size_t n)
{
	if (s->n + n + 1 > s->cap) {
		s->cap = (s->n + n + 1) * 2;
		s->p = realloc(s->p, s->cap);
		cr_assert(s->p, "out of memory");
	}
	memcpy(s->p + s->n, p, n);
	s->n += n;
	s->p[s->n] = 0;
}

static void sb_str(struct sb *s, const char *str)
{
	sb_add(s, str, strlen(str));
}

static void sb_fmt(struct sb *s, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(struct sb *s, const char *f, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(tmp, sizeof(tmp), f, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < sizeof(tmp));
	sb_add(s, tmp, (size_t)n);
}

/* xorshift64*: the payloads are the same on every run */
struct rng {
	uint64_t s;
};

static uint32_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return rnd(r) % n;
}

#define PICK(r, arr) ((arr)[below(r, sizeof(arr) / sizeof((arr)[0]))])

static const char *const first_names[] = {
	"Anna", "Björn", "Zoë", "Łukasz", "Søren", "José", "Chloé", "Mátyás", "Ярослав",
	"美咲", "Nguyễn", "Ólafur", "Grace", "Mehmet", "Aoife", "Priya", "Kwame", "Sven",
};
static const char *const last_names[] = {
	"Müller", "Nowak", "Jensen", "García", "Dubois", "Kovács", "Иванова", "山田",
	"Trần", "Sigurðsson", "Hopper", "Yılmaz", "Ní Bhriain", "Sharma", "Mensah",
};
static const char *const cities[] = {
	"Kraków", "Zürich", "São Paulo", "Reykjavík", "Москва", "東京", "Malmö", "İstanbul",
	"Ħamrun", "Accra", "Düsseldorf", "Montréal", "Hà Nội", "Kraków", "Oslo",
};
static const char *const words[] = {
	"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit",
	"sed", "do", "eiusmod", "tempor", "incididunt", "labore", "dolore", "magna",
	"aliqua", "enim", "minim", "veniam", "quis", "nostrud", "exercitation", "ullamco",
	"laboris", "nisi", "aliquip", "commodo", "consequat", "café", "naïve", "résumé",
	"über", "fiancée", "smörgåsbord", "jalapeño", "façade", "coöperate", "—", "…",
};
static const char *const tags[] = {
	"alpha", "beta", "gamma", "delta", "ünïcödé", "websocket", "deflate", "zlib",
	"io_uring", "json", "ε", "λ", "π", "测试", "données",
};

/* 12.1 and group 13: a JSON array of records, about 192 KiB, UTF-8 */
static void make_json(struct sb *s)
{
	struct rng r = { 0x243f6a8885a308d3ull };
	sb_str(s, "[\n");
	for (int id = 0; s->n < 192 * 1024; id++) {
		if (id)
			sb_str(s, ",\n");
		const char *fn = PICK(&r, first_names), *ln = PICK(&r, last_names);
		sb_fmt(s, "  {\n    \"id\": %d,\n    \"guid\": \"%08x-%04x-%04x-%04x-%08x%04x\",\n", id,
		       rnd(&r), below(&r, 65536), below(&r, 65536), below(&r, 65536), rnd(&r),
		       below(&r, 65536));
		sb_fmt(s, "    \"isActive\": %s,\n    \"balance\": \"$%u,%03u.%02u\",\n",
		       below(&r, 2) ? "true" : "false", below(&r, 10), below(&r, 1000),
		       below(&r, 100));
		sb_fmt(s, "    \"age\": %u,\n    \"name\": \"%s %s\",\n    \"city\": \"%s\",\n",
		       20 + below(&r, 60), fn, ln, PICK(&r, cities));
		sb_fmt(s, "    \"email\": \"user%u@example.org\",\n    \"latitude\": %s%u.%06u,\n",
		       below(&r, 100000), below(&r, 2) ? "-" : "", below(&r, 90),
		       below(&r, 1000000));
		sb_fmt(s, "    \"longitude\": %s%u.%06u,\n    \"tags\": [", below(&r, 2) ? "-" : "",
		       below(&r, 180), below(&r, 1000000));
		for (uint32_t t = 0, nt = 2 + below(&r, 5); t < nt; t++)
			sb_fmt(s, "%s\"%s\"", t ? ", " : "", PICK(&r, tags));
		sb_str(s, "],\n    \"friends\": [\n");
		for (uint32_t f = 0, nf = 1 + below(&r, 3); f < nf; f++)
			sb_fmt(s, "      {\"id\": %u, \"name\": \"%s %s\"}%s\n", f, PICK(&r, first_names),
			       PICK(&r, last_names), f + 1 < nf ? "," : "");
		sb_fmt(s, "    ],\n    \"greeting\": \"Hello, %s! You have %u unread messages.\",\n",
		       fn, below(&r, 20));
		sb_str(s, "    \"about\": \"");
		for (uint32_t w = 0, nw = 8 + below(&r, 24); w < nw; w++)
			sb_fmt(s, "%s%s", w ? " " : "", PICK(&r, words));
		sb_str(s, ".\"\n  }");
	}
	sb_str(s, "\n]\n");
}

/* 12.2: a 512x512 8-bit grayscale BMP (263222 bytes, as Autobahn's): smooth
 * shapes with a little noise, so it compresses some but not much */
static void put_le(struct sb *s, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++) {
		uint8_t b = (uint8_t)(v >> (8 * i));
		sb_add(s, &b, 1);
	}
}

static int tri(int t)
{
	t &= 511;
	return t < 256 ? t : 511 - t;
}

static void make_bmp(struct sb *s)
{
	struct rng r = { 0x13198a2e03707344ull };
	const uint32_t w = 512, h = 512, off = 14 + 40 + 1024;
	sb_str(s, "BM");
	put_le(s, off + w * h, 4);
	put_le(s, 0, 4);
	put_le(s, off, 4);
	put_le(s, 40, 4);
	put_le(s, w, 4);
	put_le(s, h, 4);
	put_le(s, 1, 2);
	put_le(s, 8, 2);
	put_le(s, 0, 4);
	put_le(s, w * h, 4);
	put_le(s, 2835, 4);
	put_le(s, 2835, 4);
	put_le(s, 256, 4);
	put_le(s, 0, 4);
	for (uint32_t i = 0; i < 256; i++)
		put_le(s, i | i << 8 | i << 16, 4);
	for (int y = 0; y < (int)h; y++) {
		uint8_t row[512];
		for (int x = 0; x < (int)w; x++) {
			int dx = x - 256, dy = y - 200;
			int v = (tri(x + 2 * y) + tri(3 * y - x / 2 + 100) +
				 tri((dx * dx + dy * dy) / 96)) / 3;
			v += (int)below(&r, 9) - 4;
			row[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
		sb_add(s, row, w);
	}
}

/* 12.3: German verse, speeches in a play, UTF-8 (sent as binary, as
 * Autobahn sends its Faust) */
static const char *const speakers[] = {
	"FAUST.", "MEPHISTOPHELES.", "GRETCHEN.", "WAGNER.", "MARTHE.", "CHOR DER ENGEL.",
	"SCHÜLER.", "HEXE.",
};
static const char *const german[] = {
	"und", "der", "die", "das", "ich", "nicht", "Geist", "Welt", "Herz", "Nacht",
	"schön", "Glück", "Tür", "müssen", "Träume", "größer", "Ähre", "süß", "Mädchen",
	"über", "Blüte", "Füße", "weiß", "Schöpfung", "Himmel", "Erde", "Licht", "dunkel",
	"Sehnsucht", "wär", "hätt", "fühlen", "Brust", "Seele", "Wonne", "Qual", "Wissen",
	"Buch", "Mond", "Sterne", "Wald", "Quelle", "ewig", "Gestalt", "Stunde", "Mut",
	"heißt", "Straße", "fröhlich", "Öde", "Übel", "Kräfte", "doch", "wie", "so", "mir",
};

static void make_verse(struct sb *s)
{
	struct rng r = { 0xa4093822299f31d0ull };
	sb_str(s, "Eine Tragödie\n\nErster Teil\n\n");
	while (s->n < 216 * 1024) {
		sb_fmt(s, "\n                %s\n\n", PICK(&r, speakers));
		for (uint32_t l = 0, nl = 2 + below(&r, 10); l < nl; l++) {
			uint32_t nw = 4 + below(&r, 5);
			for (uint32_t i = 0; i < nw; i++) {
				const char *wd = PICK(&r, german);
				if (i == 0 && wd[0] >= 'a' && wd[0] <= 'z') {
					char c = (char)(wd[0] - 32);
					sb_add(s, &c, 1);
					sb_str(s, wd + 1);
				} else {
					sb_fmt(s, "%s%s", i ? " " : "", wd);
				}
			}
			sb_str(s, l + 1 == nl ? ".\n" : below(&r, 3) ? ",\n" : "!\n");
		}
	}
}

/* 12.4: an HTML page, about 96 KiB, UTF-8 */
static void make_html(struct sb *s)
{
	struct rng r = { 0x082efa98ec4e6c89ull };
	sb_str(s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		  "<title>Große Übersicht — résumé</title>\n<link rel=\"stylesheet\" "
		  "href=\"/static/site.css\">\n<style>\nbody { font-family: sans-serif; margin: 0 "
		  "auto; max-width: 60em; }\ntable td { padding: 2px 6px; }\n</style>\n</head>\n"
		  "<body>\n<nav><ul><li><a href=\"/\">Home</a></li><li><a href=\"/docs\">Docs"
		  "</a></li></ul></nav>\n");
	for (int sec = 1; s->n < 96 * 1024; sec++) {
		sb_fmt(s, "<div class=\"section\" id=\"s%d\">\n<h2>Section %d: %s %s</h2>\n", sec,
		       sec, PICK(&r, words), PICK(&r, words));
		for (uint32_t p = 0, np = 1 + below(&r, 3); p < np; p++) {
			sb_str(s, "<p>");
			for (uint32_t w = 0, nw = 20 + below(&r, 40); w < nw; w++) {
				uint32_t k = below(&r, 12);
				if (k == 0)
					sb_fmt(s, " <a href=\"/page/%u\">%s</a>", below(&r, 5000),
					       PICK(&r, words));
				else if (k == 1)
					sb_fmt(s, " <em>%s</em>", PICK(&r, words));
				else if (k == 2)
					sb_str(s, " &amp;");
				else
					sb_fmt(s, "%s%s", w ? " " : "", PICK(&r, words));
			}
			sb_str(s, ".</p>\n");
		}
		if (sec % 3 == 0) {
			sb_str(s, "<table class=\"data\">\n<tr><th>Name</th><th>City</th><th>Value"
				  "</th></tr>\n");
			for (uint32_t t = 0, nt = 3 + below(&r, 6); t < nt; t++)
				sb_fmt(s, "<tr><td>%s</td><td>%s</td><td>%u.%02u €</td></tr>\n",
				       PICK(&r, first_names), PICK(&r, cities), below(&r, 1000),
				       below(&r, 100));
			sb_str(s, "</table>\n");
		}
		sb_str(s, "</div>\n");
	}
	sb_str(s, "<footer>© 2024 “Example”</footer>\n</body>\n</html>\n");
}

/* 12.5: a PDF-like file, about 384 KiB: mostly random bytes in (already
 * compressed) streams, between dictionaries, an xref table and a trailer */
static void make_pdf(struct sb *s)
{
	struct rng r = { 0x452821e638d01377ull };
	sb_str(s, "%PDF-1.5\n%\xe2\xe3\xcf\xd3\n");
	int obj = 1;
	while (s->n < 384 * 1024) {
		uint32_t k = below(&r, 4);
		if (k == 0) {
			sb_fmt(s, "%d 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
				  "/Contents %d 0 R /Resources << /Font << /F1 %u 0 R >> >> >>\nendobj\n",
			       obj, obj + 1, below(&r, 50));
		} else if (k == 1) {
			sb_fmt(s, "%d 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
				  "/Encoding /WinAnsiEncoding >>\nendobj\n", obj);
		} else {
			uint32_t n = 1024 + below(&r, 15 * 1024);
			sb_fmt(s, "%d 0 obj\n<< /Length %u /Filter /FlateDecode >>\nstream\n", obj, n);
			for (uint32_t i = 0; i < n; i++) {
				uint8_t b = (uint8_t)rnd(&r);
				sb_add(s, &b, 1);
			}
			sb_str(s, "\nendstream\nendobj\n");
		}
		obj++;
	}
	size_t xref = s->n;
	sb_fmt(s, "xref\n0 %d\n0000000000 65535 f \n", obj);
	for (int i = 1; i < obj; i++)
		sb_fmt(s, "%010u 00000 n \n", below(&r, (uint32_t)xref));
	sb_fmt(s, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", obj, xref);
}

struct payload {
	const char *what;
	int op;			/* OP_TEXT or OP_BINARY */
	int compressible;	/* the server must compress its echoes from 1024 bytes */
	void (*make)(struct sb *);
	struct sb data;
};

/* Autobahn's order: 12.1 JSON, 12.2 bitmap, 12.3 verse, 12.4 HTML, 12.5 PDF */
static struct payload payloads[] = {
	{ "JSON (text)", OP_TEXT, 1, make_json, { 0 } },
	{ "grayscale bitmap (binary)", OP_BINARY, 0, make_bmp, { 0 } },
	{ "German verse (binary)", OP_BINARY, 1, make_verse, { 0 } },
	{ "HTML (text)", OP_TEXT, 1, make_html, { 0 } },
	{ "PDF-like, mostly incompressible (binary)", OP_BINARY, 0, make_pdf, { 0 } },
};
#define JSON 0

static struct payload *payload(int i)
{
	struct payload *p = &payloads[i];
	if (!p->data.n)
		p->make(&p->data);
	return p;
}

/* The next n bytes of p from *at on, wrapping around, into out; *at moves
 * on. A text slice has the parts of characters at its two ends replaced by
 * spaces, so it is exactly n bytes of UTF-8. */
static void slice(const struct payload *p, size_t *at, size_t n, uint8_t *out)
{
	const uint8_t *d = (const uint8_t *)p->data.p;
	size_t len = p->data.n, k = 0;
	while (k < n) {
		size_t c = len - *at < n - k ? len - *at : n - k;
		memcpy(out + k, d + *at, c);
		k += c;
		*at = (*at + c) % len;
	}
	if (p->op != OP_TEXT)
		return;
	for (size_t i = 0; i < n && (out[i] & 0xc0) == 0x80; i++)
		out[i] = ' ';
	/* the last lead byte: does its character fit? */
	for (size_t back = 1; back <= 4 && back <= n; back++) {
		uint8_t b = out[n - back];
		if ((b & 0xc0) == 0x80)
			continue;
		size_t need = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
		if (need > back)
			memset(out + n - back, ' ', back);
		break;
	}
}

/* --- offers and answers ------------------------------------------------------ */

/* One permessage-deflate offer. cmwb: -1 absent, 0 without a value, else the
 * value. smwb: 0 absent. raw: an offer written out instead, one the server
 * must decline. */
struct offer {
	int cnct, cmwb, snct, smwb;
	const char *raw;
};

/* Autobahn's client offers client_no_context_takeover and a bare
 * client_max_window_bits, and asks for the server's settings. */
#define AB(snct_, smwb_) { .cnct = 1, .cmwb = 0, .snct = (snct_), .smwb = (smwb_) }
/* Offers from the client's side only. */
#define CL(cnct_, cmwb_) { .cnct = (cnct_), .cmwb = (cmwb_), .snct = 0, .smwb = 0 }

struct offer_set {
	const char *id;
	struct offer o[3];
	int n;
	int wins;		/* the index of the offer that must be accepted */
	int client_context;	/* run against ringwsd --deflate-client-context */
};

/* Autobahn's 13.1 .. 13.7 (12.x use 13.1's offer) */
static const struct offer_set g13[] = {
	{ "13.1", { AB(0, 0) }, 1, 0, 0 },
	{ "13.2", { AB(1, 0) }, 1, 0, 0 },
	{ "13.3", { AB(0, 9) }, 1, 0, 0 },
	{ "13.4", { AB(0, 15) }, 1, 0, 0 },
	{ "13.5", { AB(1, 9) }, 1, 0, 0 },
	{ "13.6", { AB(1, 15) }, 1, 0, 0 },
	{ "13.7", { AB(1, 9), AB(1, 0), AB(0, 0) }, 3, 0, 0 },
};

static void offer_str(const struct offer *o, struct sb *s)
{
	if (o->raw) {
		sb_str(s, o->raw);
		return;
	}
	sb_str(s, "permessage-deflate");
	if (o->cnct)
		sb_str(s, "; client_no_context_takeover");
	if (o->cmwb == 0)
		sb_str(s, "; client_max_window_bits");
	else if (o->cmwb > 0)
		sb_fmt(s, "; client_max_window_bits=%d", o->cmwb);
	if (o->snct)
		sb_str(s, "; server_no_context_takeover");
	if (o->smwb)
		sb_fmt(s, "; server_max_window_bits=%d", o->smwb);
}

static void offers_str(const struct offer_set *os, struct sb *s)
{
	for (int i = 0; i < os->n; i++) {
		if (i)
			sb_str(s, ", ");
		offer_str(&os->o[i], s);
	}
}

/* The parameters of an answer; a window is 0 when absent. */
struct answer {
	int snct, cnct, smwb, cmwb;
};

static int tchar(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A token into out (cap bytes): the end of it, or NULL if there is none. */
static const char *token(const char *s, char *out, size_t cap)
{
	size_t n = 0;
	while (tchar((unsigned char)s[n]))
		n++;
	if (!n || n >= cap)
		return NULL;
	memcpy(out, s, n);
	out[n] = 0;
	return s + n;
}

/* A window size value: "8".."15", no leading zero; 0 otherwise. */
static int window_value(const char *v)
{
	if (!strcmp(v, "8") || !strcmp(v, "9"))
		return v[0] - '0';
	if (strlen(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
		return 10 + v[1] - '0';
	return 0;
}

/* Reads a Sec-WebSocket-Extensions answer (RFC 6455 9.1 syntax) that must
 * name exactly one permessage-deflate, checking each parameter as RFC 7692
 * 7.1 allows it in a response. NULL if it is fine, or what is wrong. */
static const char *parse_answer(const char *v, struct answer *a)
{
	static char why[160];
	char name[64], val[64];
	*a = (struct answer){ 0 };
	const char *s = token(skip_ows(v), name, sizeof(name));
	if (!s)
		return "no extension name";
	if (strcmp(name, "permessage-deflate") != 0) {
		snprintf(why, sizeof(why), "extension \"%s\" accepted, none such was offered", name);
		return why;
	}
	int seen[4] = { 0 };
	for (s = skip_ows(s); *s == ';'; s = skip_ows(s)) {
		s = token(skip_ows(s + 1), name, sizeof(name));
		if (!s)
			return "a parameter without a name";
		s = skip_ows(s);
		int has_value = *s == '=';
		val[0] = 0;
		if (has_value) {
			s = skip_ows(s + 1);
			if (*s == '"') {	/* quoted-string: allowed, unquoted it must be a token */
				const char *e = strchr(s + 1, '"');
				if (!e || (size_t)(e - s - 1) >= sizeof(val))
					return "an unterminated quoted value";
				memcpy(val, s + 1, (size_t)(e - s - 1));
				val[e - s - 1] = 0;
				s = e + 1;
			} else if (!(s = token(s, val, sizeof(val)))) {
				return "a parameter with an empty value";
			}
		}
		static const char *const known[4] = { "server_no_context_takeover",
						      "client_no_context_takeover",
						      "server_max_window_bits",
						      "client_max_window_bits" };
		int k = 0;
		while (k < 4 && strcmp(name, known[k]) != 0)
			k++;
		if (k == 4) {
			snprintf(why, sizeof(why), "unknown parameter \"%s\"", name);
			return why;
		}
		if (seen[k]++) {
			snprintf(why, sizeof(why), "parameter %s twice", name);
			return why;
		}
		if (k < 2 && has_value) {
			snprintf(why, sizeof(why), "%s with a value", name);
			return why;
		}
		int bits = k >= 2 && has_value ? window_value(val) : 0;
		if (k >= 2 && !bits) {
			snprintf(why, sizeof(why), "%s %s%s: a response needs a value 8..15",
				 name, has_value ? "=" : "without a value", val);
			return why;
		}
		if (k == 0)
			a->snct = 1;
		else if (k == 1)
			a->cnct = 1;
		else if (k == 2)
			a->smwb = bits;
		else
			a->cmwb = bits;
	}
	if (*s == ',')
		return "more than one extension accepted";
	if (*s)
		return "stray characters after the parameters";
	return NULL;
}

/* Whether a is a valid acceptance of o (RFC 7692 7.1): NULL, or why not. */
static const char *answer_fits(const struct answer *a, const struct offer *o)
{
	if (o->snct && !a->snct)
		return "the offer has server_no_context_takeover, the answer does not (7.1.1.1)";
	if (o->smwb && !a->smwb)
		return "the offer has server_max_window_bits, the answer does not (7.1.2.1)";
	if (o->smwb && a->smwb > o->smwb)
		return "server_max_window_bits larger than offered (7.1.2.1)";
	if (a->cmwb && o->cmwb < 0)
		return "client_max_window_bits in the answer but not in the offer (7.1.2.2)";
	if (a->cmwb && o->cmwb > 0 && a->cmwb > o->cmwb)
		return "client_max_window_bits larger than offered (7.1.2.2)";
	return NULL;
}

/* What README says ringwsd answers to offer o. */
static struct answer documented(const struct offer *o, int client_context)
{
	struct answer a = { .snct = 1 };
	a.cnct = o->cnct || !client_context;
	a.smwb = o->smwb;
	a.cmwb = o->cmwb > 0 && o->cmwb < 15 ? o->cmwb : 0;
	return a;
}

static void answer_str(const struct answer *a, char *out, size_t cap)
{
	snprintf(out, cap, "permessage-deflate%s%s", a->snct ? "; server_no_context_takeover" : "",
		 a->cnct ? "; client_no_context_takeover" : "");
	size_t n = strlen(out);
	if (a->smwb)
		n += (size_t)snprintf(out + n, cap - n, "; server_max_window_bits=%d", a->smwb);
	if (a->cmwb)
		snprintf(out + n, cap - n, "; client_max_window_bits=%d", a->cmwb);
}

/* --- the client ----------------------------------------------------------------- */

struct client {
	int fd;
	char ctx[600];		/* the case, for failure messages */
	long long deadline;
	/* the agreement */
	struct answer ans;
	int client_keeps;	/* we keep our deflate context across messages */
	int cbits, sbits;	/* the windows, 8..15 */
	z_stream def, inf;
	/* bytes read and not yet used */
	uint8_t rb[64 * 1024];
	size_t rlo, rhi;
	/* scratch */
	uint8_t *z, *in, *out;
	size_t zcap, incap, outcap;
	struct wire w;
};

#define FAIL(c, fmt_, ...) cr_assert_fail("%s: " fmt_, (c)->ctx, ##__VA_ARGS__)
#define CHECK(c, cond, fmt_, ...) cr_assert(cond, "%s: " fmt_, (c)->ctx, ##__VA_ARGS__)

static void grow(uint8_t **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	*cap = need + need / 2;
	*p = realloc(*p, *cap);
	cr_assert(*p, "out of memory");
}

static const char *rc_str(int rc)
{
	return rc == -EAGAIN ? "nothing within the time limit" : rc == -EPIPE ? "TCP closed"
	       : rc == -ECONNRESET ? "TCP reset" : strerror(-rc);
}

/* Makes n bytes readable at c->rb + c->rlo: 0, or a tcp_read-style error. */
static int fill(struct client *c, size_t n)
{
	if (c->rhi - c->rlo >= n)
		return 0;
	memmove(c->rb, c->rb + c->rlo, c->rhi - c->rlo);
	c->rhi -= c->rlo;
	c->rlo = 0;
	while (c->rhi < n) {
		ssize_t r = recv(c->fd, c->rb + c->rhi, sizeof(c->rb) - c->rhi, 0);
		if (r == 0)
			return -EPIPE;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		c->rhi += (size_t)r;
	}
	return 0;
}

/* Reads n payload bytes into dst: 0 or an error. */
static int take(struct client *c, uint8_t *dst, size_t n)
{
	size_t have = c->rhi - c->rlo, k = have < n ? have : n;
	memcpy(dst, c->rb + c->rlo, k);
	c->rlo += k;
	return k < n ? tcp_read(c->fd, dst + k, n - k) : 0;
}

struct hdr {
	int fin, rsv, op;
	uint64_t len;
};

/* Reads and checks one frame header (RFC 6455 5.2 for a server); the
 * RSV bits are left to the caller. */
static void read_hdr(struct client *c, struct hdr *h, const char *waiting_for)
{
	int rc = fill(c, 2);
	CHECK(c, rc == 0, "waiting for %s, got %s", waiting_for, rc_str(rc));
	uint8_t b0 = c->rb[c->rlo], b1 = c->rb[c->rlo + 1];
	c->rlo += 2;
	h->fin = b0 >> 7;
	h->rsv = (b0 >> 4) & 7;
	h->op = b0 & 15;
	CHECK(c, !(b1 & 0x80), "server frame (opcode %d) is masked", h->op);
	CHECK(c, h->op <= 2 || (h->op >= 8 && h->op <= 10), "server frame with opcode %d", h->op);
	h->len = b1 & 127;
	if (h->len == 126) {
		CHECK(c, (rc = fill(c, 2)) == 0, "frame header cut short: %s", rc_str(rc));
		h->len = (uint64_t)c->rb[c->rlo] << 8 | c->rb[c->rlo + 1];
		c->rlo += 2;
		CHECK(c, h->len >= 126, "server frame: 16-bit length %llu is not minimal",
		      (unsigned long long)h->len);
	} else if (h->len == 127) {
		CHECK(c, (rc = fill(c, 8)) == 0, "frame header cut short: %s", rc_str(rc));
		h->len = 0;
		for (int i = 0; i < 8; i++)
			h->len = h->len << 8 | c->rb[c->rlo + i];
		c->rlo += 8;
		CHECK(c, h->len > 0xffff && h->len < (1ull << 63),
		      "server frame: 64-bit length %llu is not minimal or too large",
		      (unsigned long long)h->len);
	}
	if (h->op >= 8)
		CHECK(c, h->fin && h->len <= 125 && !h->rsv,
		      "server control frame (opcode %d): fin %d, length %llu, RSV %d", h->op, h->fin,
		      (unsigned long long)h->len, h->rsv);
	CHECK(c, h->len <= 64u << 20, "server frame of %llu bytes", (unsigned long long)h->len);
}

static void send_wire(struct client *c)
{
	int rc = wire_try_send(c->fd, &c->w, 0);
	CHECK(c, rc == 0, "send: %s", rc_str(rc));
}

/* A control frame from the server while we wait for data: a ping is
 * answered, a pong ignored, a close fails the case. */
static void control(struct client *c, const struct hdr *h, const char *waiting_for)
{
	uint8_t p[126];
	int rc = take(c, p, (size_t)h->len);
	CHECK(c, rc == 0, "control frame cut short: %s", rc_str(rc));
	if (h->op == OP_PING) {
		put_frame(&c->w, FIN | OP_PONG, p, (size_t)h->len);
		send_wire(c);
	} else if (h->op == OP_CLOSE) {
		FAIL(c, "waiting for %s, the server closed with code %d, reason \"%.*s\"",
		     waiting_for, h->len >= 2 ? p[0] << 8 | p[1] : 0,
		     h->len > 2 ? (int)h->len - 2 : 0, (char *)p + 2);
	}
}

/* Inflates a compressed echo in[0..n) (the 00 00 ff ff tail already put
 * back at in[n..n+4)) into c->out; returns its length. The server keeps no
 * context (server_no_context_takeover), so the inflater starts fresh; with
 * a server window below 15 it is fed one output byte per call, which makes
 * zlib reject any distance past the agreed window. */
static size_t inflate_echo(struct client *c, size_t n, size_t want, const char *what)
{
	z_stream *z = &c->inf;
	CHECK(c, inflateReset(z) == Z_OK, "inflateReset");
	z->next_in = c->in;
	z->avail_in = (uInt)(n + 4);
	size_t produced = 0;
	int bytewise = c->sbits < 15, rc;
	for (;;) {
		size_t room = c->outcap - produced;
		CHECK(c, room > 0, "%s inflates to more than the %zu bytes sent", what, want);
		z->next_out = c->out + produced;
		z->avail_out = (uInt)(bytewise ? 1 : room);
		rc = inflate(z, Z_SYNC_FLUSH);
		produced = (size_t)(z->next_out - c->out);
		if (rc == Z_STREAM_END)
			break;
		CHECK(c, rc == Z_OK || rc == Z_BUF_ERROR, "%s: compressed data does not inflate "
		      "(zlib %d: %s) with the agreed window of %d bits", what, rc,
		      z->msg ? z->msg : "?", c->sbits);
		if (z->avail_in == 0)
			break;
		if (rc == Z_BUF_ERROR && z->avail_out)
			FAIL(c, "%s: inflate stalls", what);
	}
	if (rc == Z_STREAM_END) {
		/* after a final block: nothing, or the one 0x00 of 7.2.1 */
		size_t rest = z->avail_in;
		CHECK(c, rest == 4 || (rest == 5 && c->in[n - 1] == 0),
		      "%s: %zu bytes follow the final deflate block (RFC 7692 7.2.1 leaves at "
		      "most one 0x00)", what, rest >= 4 ? rest - 4 : 0);
	}
	return produced;
}

/* Reads one whole data message from the server: its opcode, whether it
 * came compressed, and its bytes (inflated) in *data. */
static size_t read_echo(struct client *c, size_t want, int *op, int *compressed,
			const uint8_t **data, const char *what)
{
	size_t n = 0;
	int first = 1;
	for (;;) {
		struct hdr h;
		read_hdr(c, &h, what);
		if (h.op >= 8) {
			control(c, &h, what);
			continue;
		}
		if (first) {
			CHECK(c, h.op != OP_CONT, "%s: a continuation frame begins the message", what);
			CHECK(c, h.rsv == 0 || h.rsv == 4, "%s: first frame with RSV bits %d "
			      "(only RSV1 may be set)", what, h.rsv);
			*op = h.op;
			*compressed = h.rsv == 4;
		} else {
			CHECK(c, h.op == OP_CONT, "%s: opcode %d inside a fragmented message", what,
			      h.op);
			CHECK(c, h.rsv == 0, "%s: continuation frame with RSV bits %d", what, h.rsv);
		}
		first = 0;
		CHECK(c, n + h.len <= 2 * want + 1024, "%s: %llu more bytes after %zu, sent %zu", what,
		      (unsigned long long)h.len, n, want);
		grow(&c->in, &c->incap, n + (size_t)h.len + 4);
		int rc = take(c, c->in + n, (size_t)h.len);
		CHECK(c, rc == 0, "%s: frame payload cut short: %s", what, rc_str(rc));
		n += (size_t)h.len;
		if (h.fin)
			break;
	}
	if (!*compressed) {
		*data = c->in;
		return n;
	}
	memcpy(c->in + n, "\x00\x00\xff\xff", 4);
	grow(&c->out, &c->outcap, want + 1);
	*data = c->out;
	return inflate_echo(c, n, want, what);
}

/* Compresses msg[0..n) as this client's deflater does (context kept or
 * not, as agreed) into c->z: its length, tail removed. */
static size_t compress_msg(struct client *c, const uint8_t *msg, size_t n)
{
	z_stream *z = &c->def;
	if (!c->client_keeps)
		CHECK(c, deflateReset(z) == Z_OK, "deflateReset");
	grow(&c->z, &c->zcap, deflateBound(z, n) + 64);
	z->next_in = (Bytef *)msg;
	z->avail_in = (uInt)n;
	size_t len = 0;
	for (;;) {
		z->next_out = c->z + len;
		z->avail_out = (uInt)(c->zcap - len);
		int rc = deflate(z, Z_SYNC_FLUSH);
		CHECK(c, rc == Z_OK || rc == Z_BUF_ERROR, "deflate: %d", rc);
		len = (size_t)(z->next_out - c->z);
		if (z->avail_out)
			break;
		grow(&c->z, &c->zcap, c->zcap * 2);
	}
	CHECK(c, len >= 4 && !memcmp(c->z + len - 4, "\x00\x00\xff\xff", 4),
	      "our deflate did not end in 00 00 ff ff");
	return len - 4;
}

/* Sends msg as one compressed message in frames of frag bytes (0: one). */
static void send_msg(struct client *c, int op, const uint8_t *msg, size_t n, size_t frag)
{
	size_t zn = compress_msg(c, msg, n), off = 0;
	size_t step = frag && frag < zn ? frag : zn;
	do {
		size_t k = zn - off < step ? zn - off : step;
		uint8_t b0 = (uint8_t)((off ? OP_CONT : (RSV1 | op)) | (off + k == zn ? FIN : 0));
		put_frame(&c->w, b0, c->z + off, k);
		off += k;
	} while (off < zn);
	send_wire(c);
}

/* Collects every Sec-WebSocket-Extensions line of a response head, joined
 * with ", " as RFC 7230 3.2.2 allows; 0 if there is none. */
static int ext_header(const char *head, char *out, size_t cap)
{
	static const char name[] = "Sec-WebSocket-Extensions:";
	size_t n = 0;
	int found = 0;
	out[0] = 0;
	for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
		if (strncasecmp(l + 2, name, sizeof(name) - 1) != 0)
			continue;
		const char *v = skip_ows(l + 2 + sizeof(name) - 1), *e = strstr(v, "\r\n");
		size_t vl = (size_t)(e - v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			vl--;
		n += (size_t)snprintf(out + n, cap - n, "%s%.*s", found ? ", " : "", (int)vl, v);
		found = 1;
		cr_assert(n < cap, "Sec-WebSocket-Extensions too long:\n%s", head);
	}
	return found;
}

/* Opens the case's connection with the offers of os, and checks the 101
 * and its answer; sets up the deflater and inflater for what was agreed. */
static void client_open(struct client *c, struct daemon *d, const struct offer_set *os)
{
	struct sb offer = { 0 };
	offers_str(os, &offer);
	c->fd = tcp_connect(d->port, READ_MS);
	char req[2048], head[4096], v[1024];
	snprintf(req, sizeof(req),
		 "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: %s\r\n\r\n", d->port,
		 offer.p);
	CHECK(c, tcp_send(c->fd, req, strlen(req)) == 0, "sending the upgrade request");
	int st = http_read_head(c->fd, head, sizeof(head));
	CHECK(c, st == 101, "wanted 101, got %d:\n%s", st, head);
	CHECK(c, http_header(head, "Sec-WebSocket-Accept", v, sizeof(v)) == 0 && !strcmp(v, ACCEPT),
	      "wrong Sec-WebSocket-Accept:\n%s", head);
	CHECK(c, http_header(head, "Upgrade", v, sizeof(v)) == 0 && !strcasecmp(v, "websocket"),
	      "Upgrade header:\n%s", head);
	CHECK(c, http_header(head, "Connection", v, sizeof(v)) == 0 && strcasestr(v, "upgrade"),
	      "Connection header:\n%s", head);
	CHECK(c, http_header(head, "Sec-WebSocket-Protocol", v, sizeof(v)) < 0,
	      "a subprotocol none was offered:\n%s", head);
	CHECK(c, ext_header(head, v, sizeof(v)), "the 101 accepts no extension:\n%s", head);

	const struct offer *o = &os->o[os->wins];
	const char *why = parse_answer(v, &c->ans);
	CHECK(c, !why, "answer \"%s\" is not a valid permessage-deflate response: %s", v, why);
	why = answer_fits(&c->ans, o);
	CHECK(c, !why, "answer \"%s\" does not accept offer %d: %s", v, os->wins + 1, why);
	struct answer want = documented(o, os->client_context);
	char ws[256];
	answer_str(&want, ws, sizeof(ws));
	CHECK(c, !memcmp(&want, &c->ans, sizeof(want)), "answer \"%s\", wanted (as README "
	      "documents, accepting offer %d) \"%s\"", v, os->wins + 1, ws);

	/* the client keeps its context unless either side said otherwise
	 * (an offer's client_no_context_takeover binds the client too) */
	c->client_keeps = !c->ans.cnct && !o->cnct;
	c->cbits = c->ans.cmwb ? c->ans.cmwb : 15;
	c->sbits = c->ans.smwb ? c->ans.smwb : 15;
	CHECK(c, c->ans.snct, "server keeps its context");
	CHECK(c, c->cbits >= 9, "client window %d: zlib cannot deflate with it", c->cbits);
	CHECK(c, deflateInit2(&c->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -c->cbits, 8,
			      Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
	CHECK(c, inflateInit2(&c->inf, -c->sbits) == Z_OK, "inflateInit2");
	free(offer.p);
}

/* Our close 1000 and the server's answer 1000, nothing else, then EOF. */
static void client_close(struct client *c)
{
	put_frame(&c->w, FIN | OP_CLOSE, "\x03\xe8", 2);
	send_wire(c);
	struct hdr h;
	for (;;) {
		read_hdr(c, &h, "the close frame answering ours");
		CHECK(c, h.op >= 8, "after our close, a data frame (opcode %d, %llu bytes)", h.op,
		      (unsigned long long)h.len);
		if (h.op == OP_CLOSE)
			break;
		control(c, &h, "the close frame answering ours");
	}
	uint8_t p[126];
	CHECK(c, take(c, p, (size_t)h.len) == 0, "close frame cut short");
	int code = h.len >= 2 ? p[0] << 8 | p[1] : 0;
	CHECK(c, code == 1000, "our close 1000 answered with %d (payload %llu bytes)", code,
	      (unsigned long long)h.len);
	CHECK(c, c->rlo == c->rhi, "%zu more bytes after the close frame", c->rhi - c->rlo);
	int got = 0, rc = tcp_expect_eof(c->fd, EOF_MS, &got);
	CHECK(c, rc == 0, "after the closing handshake TCP did not close: %s (byte 0x%02x)",
	      rc == -EAGAIN ? "still open" : rc == -EBADMSG ? "more data" : strerror(-rc), got);
	close(c->fd);
	deflateEnd(&c->def);
	inflateEnd(&c->inf);
	free(c->z);
	free(c->in);
	free(c->out);
	wire_free(&c->w);
}

/* --- the cases ---------------------------------------------------------------- */

/* Autobahn's MSG_SIZES: (size, auto-fragment size); Autobahn sends 1000 of
 * each. */
static const struct {
	size_t len, frag;
} sizes[18] = {
	{ 16, 0 }, { 64, 0 }, { 256, 0 }, { 1024, 0 }, { 4096, 0 }, { 8192, 0 },
	{ 16384, 0 }, { 32768, 0 }, { 65536, 0 }, { 131072, 0 },
	{ 8192, 256 }, { 16384, 256 }, { 32768, 256 }, { 65536, 256 }, { 131072, 256 },
	{ 131072, 1024 }, { 131072, 4096 }, { 131072, 32768 },
};

/* Messages per case: 1000 up to 1 KiB, then about 1 MiB, at least 10. */
static unsigned count_for(size_t len)
{
	if (len <= 1024)
		return 1000;
	size_t n = (1u << 20) / len;
	return n < 10 ? 10 : (unsigned)n;
}

static struct daemon *srv;

static void start_default(void)
{
	srv = daemon_start("--route", route("/", "echo"), "--deflate", NULL);
}

static void start_client_context(void)
{
	srv = daemon_start("--route", route("/", "echo"), "--deflate", "--deflate-client-context",
			   NULL);
}

/* One case: size index i (0..17) of payload pl under the offers of os. */
static void run_case(const char *id, int pl, const struct offer_set *os, int i)
{
	struct payload *p = payload(pl);
	size_t len = sizes[i].len, frag = sizes[i].frag;
	unsigned count = count_for(len);
	struct client *c = calloc(1, sizeof(*c));
	cr_assert(c);
	struct sb offer = { 0 };
	offers_str(os, &offer);
	char framing[48] = "each in one frame";
	if (frag)
		snprintf(framing, sizeof(framing), "in frames of %zu bytes", frag);
	snprintf(c->ctx, sizeof(c->ctx), "case %s (%s, %u messages of %zu bytes, %s; offer "
		 "\"%s\")", id, p->what, count, len, framing, offer.p);
	free(offer.p);
	c->deadline = now_ms() + CASE_MS;
	client_open(c, srv, os);

	uint8_t *msg = malloc(len);
	cr_assert(msg);
	size_t at = 0;
	for (unsigned k = 0; k < count; k++) {
		char what[64];
		snprintf(what, sizeof(what), "the echo of message %u", k + 1);
		slice(p, &at, len, msg);
		send_msg(c, p->op, msg, len, frag);
		int op = 0, compressed = 0;
		const uint8_t *echo;
		size_t n = read_echo(c, len, &op, &compressed, &echo, what);
		CHECK(c, op == p->op, "%s: opcode %d, sent %d", what, op, p->op);
		CHECK(c, n == len, "%s has %zu bytes, sent %zu", what, n, len);
		if (memcmp(echo, msg, len) != 0) {
			size_t b = 0;
			while (echo[b] == msg[b])
				b++;
			FAIL(c, "%s differs from what was sent at byte %zu (%s)", what, b,
			     compressed ? "compressed" : "uncompressed");
		}
		/* what README promises about the server's side */
		if (len < THRESHOLD)
			CHECK(c, !compressed, "%s: %zu bytes came compressed, below the threshold",
			      what, len);
		else if (c->sbits < 15)
			CHECK(c, !compressed, "%s came compressed under server_max_window_bits=%d",
			      what, c->sbits);
		else if (p->compressible)
			CHECK(c, compressed, "%s: %zu bytes of %s came uncompressed", what, len,
			      p->what);
		CHECK(c, now_ms() < c->deadline, "%s: the case ran past %d ms", what, CASE_MS);
	}
	free(msg);
	client_close(c);
	free(c);
}

static const struct offer_set g12 = { "12", { AB(0, 0) }, 1, 0, 0 };

static void case12(int j, int i)
{
	char id[32];
	snprintf(id, sizeof(id), "12.%d.%d", j, i);
	run_case(id, j - 1, &g12, i - 1);
}

static void case13(int j, int i)
{
	char id[32];
	snprintf(id, sizeof(id), "13.%d.%d", j, i);
	run_case(id, JSON, &g13[j - 1], i - 1);
}

#define SUBGROUP(fn, g, j) \
	Test(c##g##_pmd, case_##g##_##j##_1) { fn(j, 1); } \
	Test(c##g##_pmd, case_##g##_##j##_2) { fn(j, 2); } \
	Test(c##g##_pmd, case_##g##_##j##_3) { fn(j, 3); } \
	Test(c##g##_pmd, case_##g##_##j##_4) { fn(j, 4); } \
	Test(c##g##_pmd, case_##g##_##j##_5) { fn(j, 5); } \
	Test(c##g##_pmd, case_##g##_##j##_6) { fn(j, 6); } \
	Test(c##g##_pmd, case_##g##_##j##_7) { fn(j, 7); } \
	Test(c##g##_pmd, case_##g##_##j##_8) { fn(j, 8); } \
	Test(c##g##_pmd, case_##g##_##j##_9) { fn(j, 9); } \
	Test(c##g##_pmd, case_##g##_##j##_10) { fn(j, 10); } \
	Test(c##g##_pmd, case_##g##_##j##_11) { fn(j, 11); } \
	Test(c##g##_pmd, case_##g##_##j##_12) { fn(j, 12); } \
	Test(c##g##_pmd, case_##g##_##j##_13) { fn(j, 13); } \
	Test(c##g##_pmd, case_##g##_##j##_14) { fn(j, 14); } \
	Test(c##g##_pmd, case_##g##_##j##_15) { fn(j, 15); } \
	Test(c##g##_pmd, case_##g##_##j##_16) { fn(j, 16); } \
	Test(c##g##_pmd, case_##g##_##j##_17) { fn(j, 17); } \
	Test(c##g##_pmd, case_##g##_##j##_18) { fn(j, 18); }

/* --- 12: payload kinds under the default offer ---------------------------------- */

TestSuite(c12_pmd, .init = start_default, .fini = harness_teardown, .timeout = 60);

SUBGROUP(case12, 12, 1)
SUBGROUP(case12, 12, 2)
SUBGROUP(case12, 12, 3)
SUBGROUP(case12, 12, 4)
SUBGROUP(case12, 12, 5)

/* --- 13: offers ------------------------------------------------------------------ */

TestSuite(c13_pmd, .init = start_default, .fini = harness_teardown, .timeout = 60);

SUBGROUP(case13, 13, 1)
SUBGROUP(case13, 13, 2)
SUBGROUP(case13, 13, 3)
SUBGROUP(case13, 13, 4)
SUBGROUP(case13, 13, 5)
SUBGROUP(case13, 13, 6)
SUBGROUP(case13, 13, 7)

/* --- the client's side: context takeover and client_max_window_bits -------------- */

/* Runs the 18 sizes of a group 13 subgroup with JSON under os, against
 * ringwsd --deflate-client-context, one connection each. */
static void client_cases(const struct offer_set *os)
{
	for (int i = 0; i < 18; i++) {
		char id[128];
		snprintf(id, sizeof(id), "%s, sizes of 13.x.%d", os->id, i + 1);
		run_case(id, JSON, os, i);
	}
}

TestSuite(c13_client, .init = start_client_context, .fini = harness_teardown, .timeout = 60);

/* "permessage-deflate": the client keeps its context, 32 KiB window */
Test(c13_client, bare_offer)
{
	static const struct offer_set os = { "bare offer", { CL(0, -1) }, 1, 0, 1 };
	client_cases(&os);
}

/* client_no_context_takeover: each message deflated on its own */
Test(c13_client, client_no_context)
{
	static const struct offer_set os = { "client_no_context_takeover", { CL(1, -1) }, 1, 0, 1 };
	client_cases(&os);
}

/* client_max_window_bits=9, answered as offered: context in a 512-byte window */
Test(c13_client, client_window_9)
{
	static const struct offer_set os = { "client_max_window_bits=9", { CL(0, 9) }, 1, 0, 1 };
	client_cases(&os);
}

/* client_max_window_bits=15: nothing to answer, context in 32 KiB */
Test(c13_client, client_window_15)
{
	static const struct offer_set os = { "client_max_window_bits=15", { CL(0, 15) }, 1, 0, 1 };
	client_cases(&os);
}

/* client_max_window_bits without a value: the server may bound the window;
 * ringwsd does not */
Test(c13_client, client_window_bare)
{
	static const struct offer_set os = { "client_max_window_bits", { CL(0, 0) }, 1, 0, 1 };
	client_cases(&os);
}

/* both: no context, 512-byte window */
Test(c13_client, client_no_context_window_9)
{
	static const struct offer_set os = { "client_no_context_takeover; client_max_window_bits=9",
					     { CL(1, 9) }, 1, 0, 1 };
	client_cases(&os);
}

/* a list: the first offer must be declined (a window of 16), the second,
 * acceptable, wins over the third */
Test(c13_client, offer_list)
{
	static const struct offer_set os = {
		"offer list",
		{ { .raw = "permessage-deflate; server_max_window_bits=16" }, CL(0, 9), CL(0, -1) },
		3, 1, 1
	};
	client_cases(&os);
}
