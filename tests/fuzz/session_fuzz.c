/*
 * session_fuzz: the frame decoder and session state machine on arbitrary
 * bytes. The first byte picks the role, whether permessage-deflate owns RSV1,
 * and a small max_payload; the second how to split the rest. The input is fed
 * whole and in pieces, and both runs must yield the same events. Invariants
 * checked on every event: messages within max_payload, control payloads at
 * most 125 bytes, replies well-formed, nothing after the connection closed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/session.h"

#define MAX_EVENTS 4096

struct ev_rec {
	uint8_t type, is_text, flags;
	uint16_t code;
	size_t len;
	uint32_t sum;
	size_t reply_len;
};

static uint32_t checksum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void check(int ok)
{
	if (!ok)
		abort();
}

static size_t run(const struct rws_session_config *cfg, unsigned rsv, const uint8_t *in,
		  size_t len, size_t piece, struct ev_rec *out)
{
	struct rws_session c;
	rws_session_init(&c, cfg, rsv);
	uint8_t *buf = malloc(len ? len : 1);
	memcpy(buf, in, len);
	size_t n = 0, pos = 0, closed_at = (size_t)-1;
	do {
		size_t end = piece ? (pos + piece < len ? pos + piece : len) : len;
		size_t at = pos;
		while (n < MAX_EVENTS) {
			struct rws_event ev;
			size_t used = rws_session_recv(&c, buf + at, end - at, 0, &ev);
			check(used <= end - at);
			at += used;
			if (ev.type == RWS_EV_NONE) {
				check(at == end);
				break;
			}
			check(closed_at == (size_t)-1);
			if (cfg->max_payload && ev.type == RWS_EV_MESSAGE)
				check(ev.len <= cfg->max_payload);
			if (ev.type == RWS_EV_PING || ev.type == RWS_EV_PONG)
				check(ev.len <= RWS_CONTROL_MAX);
			if (ev.reply_len)
				check(ev.reply[0] == 0x88 || ev.reply[0] == 0x8A);
			if (ev.type == RWS_EV_CLOSE)
				closed_at = n;
			out[n].type = ev.type;
			out[n].is_text = ev.is_text;
			out[n].flags = ev.close_flags;
			out[n].code = ev.code;
			out[n].len = ev.len;
			out[n].sum = ev.len ? checksum(ev.data, ev.len) : 0;
			out[n].reply_len = ev.reply_len;
			n++;
		}
		pos = end;
	} while (pos < len);
	check(rws_session_buffered(&c) <= (cfg->max_payload ? cfg->max_payload : len) + 2 * RWS_CONTROL_MAX + 256);
	rws_session_free(&c);
	free(buf);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ev_rec a[MAX_EVENTS], b[MAX_EVENTS];
	if (size < 2)
		return 0;
	struct rws_session_config cfg;
	rws_session_config_default(&cfg, (data[0] & 1) ? RWS_ROLE_CLIENT : RWS_ROLE_SERVER);
	unsigned rsv = (data[0] & 2) ? RWS_RSV1 : 0;
	cfg.max_payload = (data[0] & 4) ? 64u + (unsigned)(data[0] >> 3) * 16u : RWS_MAX_PAYLOAD_DEFAULT;
	cfg.auto_pong = (data[0] >> 7) == 0;
	size_t piece = 1 + data[1] % 17;
	const uint8_t *in = data + 2;
	size_t len = size - 2;

	size_t na = run(&cfg, rsv, in, len, 0, a);
	size_t nb = run(&cfg, rsv, in, len, piece, b);
	check(na == nb);
	for (size_t i = 0; i < na; i++) {
		check(a[i].type == b[i].type && a[i].is_text == b[i].is_text);
		check(a[i].flags == b[i].flags && a[i].code == b[i].code);
		check(a[i].len == b[i].len && a[i].sum == b[i].sum);
		check(a[i].reply_len == b[i].reply_len);
	}
	return 0;
}
