/*
 * ringload: the io_uring load generator for WebSocket (and raw TCP) servers.
 *
 *   build/ringload [-m echo|idle|broadcast|raw] [-c N] [-s SIZE] [-p P | -r RATE]
 *                  [-d SECONDS] [-w SECONDS] [--text|--binary] [--sources K]
 *                  [--pid PID] [--hold SECONDS] [--deflate] [--deflate-threshold BYTES]
 *                  [--corpus FILE | --corpus-doc FILE] [--tls] [--ca FILE] [--json] URL
 *
 * Modes: echo (each of N connections keeps P messages in flight, or sends
 * at a fixed total rate, and checks every echo byte for byte; latency per
 * message), raw (the same over plain TCP against a raw echo server, no
 * framing), idle (N connections opened and held: the server's memory per
 * connection), broadcast (connection 0 sends, 1..N-1 receive through a
 * chat-style route: deliveries per second and delivery latency).
 * --corpus sends the lines of a file (JSON messages, say) instead of
 * generated payloads; --deflate negotiates permessage-deflate and sends and
 * receives compressed messages (ringload_pmd.c); --tls (or a wss:// URL)
 * runs every connection over TLS (ringload_tls.c), verifying the server's
 * certificate only when --ca names the CA.
 *
 * One thread, one io_uring, meant to be pinned to its own core so the
 * server is what saturates. This file reads the command line, reads /proc
 * for the server's CPU time and memory, and prints the report;
 * ringload_engine.c runs the connections, ringload_hist.c keeps latencies.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "protocol/utf8.h"
#include "ringload.h"
#include "runtime/tls.h"

#define FD_MARGIN 64		/* descriptors beyond the connections */
#define MAX_SIZE (64u << 20)	/* largest message */
#define PORTS_PER_SOURCE 20000
#define MAX_CORPUS (1ull << 30)	/* largest corpus file */

static const char usage_text[] =
	"usage: ringload [options] URL\n"
	"  URL                ws://HOST:PORT/PATH?QUERY   (echo, idle, broadcast modes)\n"
	"                     wss://HOST:PORT/PATH?QUERY  (the same over TLS)\n"
	"                     tcp://HOST:PORT             (raw mode)\n"
	"  -m, --mode MODE    echo (default) | idle | broadcast | raw\n"
	"  -c, --conns N      connections (default 100)\n"
	"  -s, --size S       message payload bytes, k/K (KiB) and m/M (MiB) accepted\n"
	"                     (default 32, at least 16)\n"
	"  -p, --inflight P   messages in flight per connection, closed loop (default 1)\n"
	"  -r, --rate R       open loop instead: R messages/s in total, spread evenly over\n"
	"                     the connections; latency from each message's scheduled time\n"
	"  -d, --duration D   measured seconds (default 10; fractions allowed)\n"
	"  -w, --warmup W     seconds of load before measuring (default 2)\n"
	"      --text | --binary   message type (default binary)\n"
	"      --sources K    source addresses 127.0.0.1 .. 127.0.0.K (default: enough that\n"
	"                     none uses more than 20,000 ports; 127.x destinations only)\n"
	"      --pid PID      the server's pid: its CPU time per message, CPU use and RSS\n"
	"      --hold S       idle mode: seconds to hold the connections (default 1)\n"
	"      --deflate      offer permessage-deflate (client_no_context_takeover) and fail\n"
	"                     if the server declines; messages from the threshold up are\n"
	"                     sent compressed when that shrinks them, replies inflated\n"
	"      --deflate-threshold BYTES  compress messages from this size up (default 1024)\n"
	"      --corpus FILE  send the file's lines, in order and round robin over the\n"
	"                     connections, instead of generated payloads (text by default)\n"
	"      --corpus-doc FILE  send the whole file as every message\n"
	"      --tls          TLS on every connection (what a wss:// URL means; with a\n"
	"                     ws:// URL the same, with tcp:// raw bytes over TLS)\n"
	"      --ca FILE      verify the server's certificate against the CA(s) in FILE\n"
	"                     (PEM) and the URL's host; without --ca nothing is verified:\n"
	"                     this is a load generator, not a client to trust\n"
	"      --json         one JSON object on stdout instead of the report\n"
	"  -h, --help\n"
	"Exit status: 0 on success, 1 on any error during the run, 2 on a usage error.\n";

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ringload: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ringload --help'.\n", stderr);
	exit(2);
}

/* --- parsing values ------------------------------------------------------- */

static uint64_t parse_uint(const char *opt, const char *v, uint64_t min, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (!*v || *end || errno || *v == '-' || x < min || x > max)
		usage_error("%s: '%s' is not a whole number from %llu to %llu", opt, v,
			    (unsigned long long)min, (unsigned long long)max);
	return x;
}

static double parse_seconds(const char *opt, const char *v, int zero_ok)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (!*v || *end || errno || !isfinite(x) || x < 0 || (!zero_ok && x == 0) || x > 1e6)
		usage_error("%s: '%s' is not a %s number of seconds", opt, v,
			    zero_ok ? "non-negative" : "positive");
	return x;
}

/* v as a byte count with an optional k/K or m/M suffix, up to max: 0 with
 * *out set, or -1. */
static int parse_suffixed(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (end == v || *v == '-' || errno)
		return -1;
	unsigned long long mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mul = 1024 * 1024, end++;
	if (*end || x > max / mul)
		return -1;
	*out = x * mul;
	return 0;
}

static uint64_t parse_size(const char *opt, const char *v)
{
	uint64_t x;
	if (parse_suffixed(v, MAX_SIZE, &x) < 0)
		usage_error("%s: '%s' is not a size from 16 bytes to 64M (bytes, or with k/K, m/M)",
			    opt, v);
	if (x < 16)
		usage_error("%s: '%s' is too small: a message needs 16 bytes for its "
			    "sequence number and timestamp", opt, v);
	return x;
}

/* A byte count with an optional k/K or m/M suffix, 0 allowed. */
static uint64_t parse_bytes(const char *opt, const char *v)
{
	uint64_t x;
	if (parse_suffixed(v, 1ull << 30, &x) < 0)
		usage_error("%s: '%s' is not a byte count up to 1G (bytes, or with k/K, m/M)", opt,
			    v);
	return x;
}

/* Reads the corpus: its lines (a line feed ends each; a carriage return
 * before it is dropped; empty lines are skipped), or with corpus_doc the
 * whole file, packed back to back. Text messages must be UTF-8. */
static void load_corpus(struct rl_opts *o)
{
	const char *path = o->corpus_path;
	const char *opt = o->corpus_doc ? "--corpus-doc" : "--corpus";
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) < 0)
		usage_error("%s: cannot read %s: %s", opt, path, strerror(errno));
	if ((unsigned long long)st.st_size > MAX_CORPUS)
		usage_error("%s: %s is over 1 GiB", opt, path);
	size_t size = (size_t)st.st_size;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf || fread(buf, 1, size, f) != size)
		usage_error("%s: cannot read %s: %s", opt, path, buf ? "short read" : "out of memory");
	fclose(f);
	if (o->text && rws_utf8_valid(buf, size) < 0)
		usage_error("%s: %s is not valid UTF-8, which text messages must be (--binary sends "
			    "it as binary messages)", opt, path);

	size_t lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += buf[i] == '\n';
	uint64_t *off = malloc((lines + 1) * sizeof(*off));
	if (!off)
		usage_error("%s: out of memory", opt);
	uint32_t n = 0;
	uint64_t w = 0, longest = 0;
	if (o->corpus_doc) {
		off[n++] = 0;
		w = size;
		longest = size;
	} else {
		/* compacted in place: a line moves only towards the front */
		for (size_t i = 0; i < size;) {
			uint8_t *nl = memchr(buf + i, '\n', size - i);
			size_t end = nl ? (size_t)(nl - buf) : size, len = end - i;
			if (len && buf[end - 1] == '\r')
				len--;
			if (len) {
				if (len > MAX_SIZE)
					usage_error("%s: line %u of %s is over 64M", opt, n + 1, path);
				memmove(buf + w, buf + i, len);
				off[n++] = w;
				w += len;
				if (len > longest)
					longest = len;
			}
			i = end + 1;
		}
	}
	if (!n || !w)
		usage_error("%s: %s has no message in it", opt, path);
	if (longest > MAX_SIZE)
		usage_error("%s: %s is over 64M, the largest message", opt, path);
	off[n] = w;
	o->corpus = buf;
	o->corpus_off = off;
	o->corpus_n = n;
	o->corpus_max = longest;
	/* the mean, for the report's "size" */
	o->size = (w + n / 2) / n;
}

/* ws://HOST[:PORT][/PATH][?QUERY] or tcp://HOST:PORT into o. */
static void parse_url(struct rl_opts *o, const char *url)
{
	const char *p;
	int ws;
	if (!strncasecmp(url, "ws://", 5))
		ws = 1, p = url + 5;
	else if (!strncasecmp(url, "wss://", 6))
		ws = 1, o->tls = 1, p = url + 6;
	else if (!strncasecmp(url, "tcp://", 6))
		ws = 0, p = url + 6;
	else
		usage_error("%s: the URL must begin with ws://, wss:// or tcp://", url);
	if (ws != (o->mode != RL_RAW))
		usage_error("%s: %s mode needs a %s URL", url,
			    o->mode == RL_RAW ? "raw" : o->mode == RL_IDLE ? "idle" :
			    o->mode == RL_BROADCAST ? "broadcast" : "echo",
			    ws ? "tcp://" : "ws:// or wss://");

	char host[256];
	const char *hend, *rest;
	if (*p == '[') {
		hend = strchr(p, ']');
		if (!hend)
			usage_error("%s: no ']' after the IPv6 address", url);
		if ((size_t)(hend - p - 1) >= sizeof(host))
			usage_error("%s: the host is too long", url);
		memcpy(host, p + 1, (size_t)(hend - p - 1));
		host[hend - p - 1] = 0;
		rest = hend + 1;
	} else {
		hend = p + strcspn(p, ":/?");
		if ((size_t)(hend - p) >= sizeof(host))
			usage_error("%s: the host is too long", url);
		memcpy(host, p, (size_t)(hend - p));
		host[hend - p] = 0;
		rest = hend;
	}
	if (!host[0])
		usage_error("%s: no host", url);
	snprintf(o->tls_host, sizeof(o->tls_host), "%s", host);
	unsigned long port = ws ? (o->tls ? 443 : 80) : 0;
	if (*rest == ':') {
		char *end;
		errno = 0;
		port = strtoul(rest + 1, &end, 10);
		if (end == rest + 1 || errno || port == 0 || port > 65535)
			usage_error("%s: bad port", url);
		rest = end;
	} else if (!ws) {
		usage_error("%s: a tcp:// URL needs a port", url);
	}
	if (!ws && *rest)
		usage_error("%s: a tcp:// URL has no path", url);
	if (ws) {
		if (*rest && *rest != '/' && *rest != '?')
			usage_error("%s: bad character after the host", url);
		size_t plen = strcspn(rest, "?#");
		if (plen >= sizeof(o->path) || strlen(rest) >= sizeof(o->query))
			usage_error("%s: the path is too long", url);
		if (plen)
			memcpy(o->path, rest, plen);
		else
			o->path[0] = '/';
		if (rest[plen] == '?') {
			const char *q = rest + plen + 1;
			size_t qlen = strcspn(q, "#");
			memcpy(o->query, q, qlen);
			o->has_query = 1;
		}
	}

	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	char ports[8];
	snprintf(ports, sizeof(ports), "%lu", port);
	int rc = getaddrinfo(host, ports, &hints, &ai);
	if (rc)
		usage_error("%s: %s: %s", url, host, gai_strerror(rc));
	memcpy(&o->addr, ai->ai_addr, ai->ai_addrlen);
	o->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);

	char text[INET6_ADDRSTRLEN];
	if (o->addr.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&o->addr)->sin6_addr, text, sizeof(text));
		snprintf(o->addr_text, sizeof(o->addr_text), "[%s]:%lu", text, port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&o->addr)->sin_addr, text, sizeof(text));
		snprintf(o->addr_text, sizeof(o->addr_text), "%s:%lu", text, port);
	}
	/* the Host header as the URL gave it */
	if (strchr(host, ':'))
		snprintf(o->host, sizeof(o->host), "[%s]:%lu", host, port);
	else
		snprintf(o->host, sizeof(o->host), "%s:%lu", host, port);
}

/* --- /proc ---------------------------------------------------------------- */

int rl_proc_cpu(int pid, double *cpu_s)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* the command name may hold spaces and ')': fields count from the last ')' */
	char *p = strrchr(buf, ')');
	unsigned long long ut, st;
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return -1;
	*cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

/* The number after `key` in a /proc file, or -1. */
static long long proc_field(const char *path, const char *key, int nth)
{
	char line[512];
	long long v = -1;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t klen = strlen(key);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen))
			continue;
		/* the nth number on the line */
		char *p = line + klen;
		for (int i = 0; i <= nth && *p; i++) {
			while (*p && !(*p >= '0' && *p <= '9'))
				p++;
			if (!*p)
				break;
			char *end;
			long long x = strtoll(p, &end, 10);
			if (i == nth)
				v = x;
			p = end;
		}
		break;
	}
	fclose(f);
	return v;
}

int rl_proc_rss(int pid, long *rss_kb)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	long long v = proc_field(path, "VmRSS:", 0);
	if (v < 0)
		return -1;
	*rss_kb = (long)v;
	return 0;
}

int rl_kernel_mem(long long *tcp_b, long long *slab_b)
{
	/* "TCP: inuse 5 orphan 0 tw 0 alloc 7 mem 2": mem is the fifth number, in pages */
	long long pages = proc_field("/proc/net/sockstat", "TCP:", 4);
	long long slab = proc_field("/proc/meminfo", "Slab:", 0);
	if (pages < 0 || slab < 0)
		return -1;
	*tcp_b = pages * sysconf(_SC_PAGESIZE);
	*slab_b = slab * 1024;
	return 0;
}

/* --- the report ----------------------------------------------------------- */

static const char *mode_name(enum rl_mode m)
{
	return m == RL_ECHO ? "echo" : m == RL_IDLE ? "idle" : m == RL_BROADCAST ? "broadcast" : "raw";
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* A JSON number, or null when the value does not apply (v is NAN). */
static void json_num(const char *key, double v, int last)
{
	printf("\"%s\":", key);
	if (isnan(v))
		printf("null");
	else if (v == floor(v) && fabs(v) < 1e15)
		printf("%.0f", v);
	else
		printf("%.6g", v);
	printf(last ? "}\n" : ",");
}

struct figures {
	double window, msgs_per_s, mb_per_s, p50, p99, p999, max;
	double cpu_s, cpu_per_msg, cpu_util, rss_kb;
	double rss_before, rss_after, rss_per_conn, tcp_per_conn, slab_per_conn;
	double deliveries_per_s, broadcasts_per_s, client_util;
	double payload_per_msg, wire_out_per_msg, wire_in_per_msg, zout_pct, zin_pct;
};

static void figures(const struct rl_opts *o, const struct rl_result *r, struct figures *f)
{
	int load = o->mode != RL_IDLE;
	double w = r->window_s;
	f->window = load ? w : o->hold;
	f->msgs_per_s = load && w > 0 ? (double)r->messages / w : NAN;
	f->mb_per_s = load && w > 0 ? (double)r->payload_bytes / w / 1e6 : NAN;
	int lat = load && r->lat->n;
	f->p50 = lat ? (double)rl_hist_quantile(r->lat, 0.5) / 1e3 : NAN;
	f->p99 = lat ? (double)rl_hist_quantile(r->lat, 0.99) / 1e3 : NAN;
	f->p999 = lat ? (double)rl_hist_quantile(r->lat, 0.999) / 1e3 : NAN;
	f->max = lat ? (double)r->lat->max / 1e3 : NAN;
	int cpu = load && o->pid && r->server_wall_s > 0;
	f->cpu_s = cpu ? r->server_cpu_s : NAN;
	f->cpu_per_msg = cpu && r->messages ? r->server_cpu_s * 1e6 / (double)r->messages : NAN;
	f->cpu_util = cpu ? r->server_cpu_s / r->server_wall_s * 100 : NAN;
	f->rss_kb = o->pid && r->server_rss_kb >= 0 ? (double)r->server_rss_kb : NAN;
	int idle = o->mode == RL_IDLE;
	int n = r->established;
	f->rss_before = idle && o->pid && r->rss_before_kb >= 0 ? (double)r->rss_before_kb : NAN;
	f->rss_after = idle && o->pid && r->rss_after_kb >= 0 ? (double)r->rss_after_kb : NAN;
	if (idle && !o->pid)
		f->rss_kb = NAN;
	else if (idle)
		f->rss_kb = f->rss_after;
	f->rss_per_conn = n && !isnan(f->rss_before) && !isnan(f->rss_after) ?
				  (f->rss_after - f->rss_before) * 1024 / n : NAN;
	int km = idle && n && r->tcp_before_b >= 0 && r->tcp_after_b >= 0;
	f->tcp_per_conn = km ? (double)(r->tcp_after_b - r->tcp_before_b) / n : NAN;
	f->slab_per_conn = km ? (double)(r->slab_after_b - r->slab_before_b) / n : NAN;
	f->deliveries_per_s = o->mode == RL_BROADCAST ? f->msgs_per_s : NAN;
	f->broadcasts_per_s = o->mode == RL_BROADCAST && w > 0 ? (double)r->broadcasts / w : NAN;
	f->client_util = load && w > 0 ? r->client_cpu_s / w * 100 : NAN;
	/* bytes per message: what was counted in the window, each way */
	int rx = load && r->messages, tx = load && r->tx_msgs;
	f->payload_per_msg = rx ? (double)r->payload_bytes / (double)r->messages : NAN;
	f->wire_in_per_msg = rx ? (double)r->wire_in / (double)r->messages : NAN;
	f->wire_out_per_msg = tx ? (double)r->tx_wire / (double)r->tx_msgs : NAN;
	f->zin_pct = rx && o->deflate ? (double)r->rx_compressed * 100 / (double)r->messages : NAN;
	f->zout_pct = tx && o->deflate ? (double)r->tx_compressed * 100 / (double)r->tx_msgs : NAN;
}

static void print_json(const struct rl_opts *o, const struct rl_result *r, const struct figures *f)
{
	int load = o->mode != RL_IDLE;
	printf("{\"mode\":");
	json_str(mode_name(o->mode));
	printf(",\"url\":");
	json_str(o->url);
	if (o->mode == RL_ECHO || o->mode == RL_BROADCAST)
		printf(",\"type\":\"%s\",", o->text ? "text" : "binary");
	else
		printf(",\"type\":null,");
	json_num("conns", o->conns, 0);
	json_num("established", r->established, 0);
	json_num("failed", r->failed, 0);
	json_num("connect_s", r->connect_s, 0);
	json_num("size", load ? (double)o->size : NAN, 0);
	json_num("inflight", load && o->rate == 0 ? o->inflight : NAN, 0);
	json_num("rate", load && o->rate > 0 ? o->rate : NAN, 0);
	json_num("warmup_s", load ? o->warmup : NAN, 0);
	json_num("duration_s", f->window, 0);
	json_num("messages", load ? (double)r->messages : NAN, 0);
	json_num("msgs_per_s", f->msgs_per_s, 0);
	json_num("mb_per_s", f->mb_per_s, 0);
	json_num("lat_p50_us", f->p50, 0);
	json_num("lat_p99_us", f->p99, 0);
	json_num("lat_p999_us", f->p999, 0);
	json_num("lat_max_us", f->max, 0);
	json_num("errors", (double)r->errors, 0);
	json_num("behind_schedule", load && o->rate > 0 ? (double)r->behind : NAN, 0);
	json_num("not_sent", load && o->rate > 0 ? (double)r->unsent : NAN, 0);
	json_num("server_cpu_s", f->cpu_s, 0);
	json_num("server_cpu_us_per_msg", f->cpu_per_msg, 0);
	json_num("server_cpu_util", f->cpu_util, 0);
	json_num("server_rss_kb", f->rss_kb, 0);
	json_num("rss_before_kb", f->rss_before, 0);
	json_num("rss_after_kb", f->rss_after, 0);
	json_num("rss_per_conn_b", f->rss_per_conn, 0);
	json_num("kernel_tcp_mem_per_conn_b", f->tcp_per_conn, 0);
	json_num("kernel_slab_per_conn_b", f->slab_per_conn, 0);
	json_num("deliveries_per_s", f->deliveries_per_s, 0);
	json_num("broadcasts", o->mode == RL_BROADCAST ? (double)r->broadcasts : NAN, 0);
	json_num("broadcasts_per_s", f->broadcasts_per_s, 0);
	json_num("client_cpu_util", f->client_util, 0);
	json_num("recv_nobufs", (double)r->nobufs, 0);
	json_num("payload_b_per_msg", f->payload_per_msg, 0);
	json_num("wire_out_b_per_msg", f->wire_out_per_msg, 0);
	json_num("wire_in_b_per_msg", f->wire_in_per_msg, 0);
	json_num("compressed_out_pct", f->zout_pct, 0);
	json_num("compressed_in_pct", f->zin_pct, 0);
	printf("\"deflate\":%s,\"deflate_params\":", o->deflate ? "true" : "false");
	if (r->deflate_params[0])
		json_str(r->deflate_params);
	else
		printf("null");
	printf(",\"tls\":%s,\"tls_ca\":", o->tls ? "true" : "false");
	if (o->ca_file)
		json_str(o->ca_file);
	else
		printf("null");
	printf(",\"tls_version\":");
	if (r->tls_version[0])
		json_str(r->tls_version);
	else
		printf("null");
	printf(",\"tls_cipher\":");
	if (r->tls_cipher[0])
		json_str(r->tls_cipher);
	else
		printf("null");
	printf(",\"corpus\":");
	if (o->corpus_path)
		json_str(o->corpus_path);
	else
		printf("null");
	printf(",");
	json_num("corpus_msgs", o->corpus_path ? o->corpus_n : NAN, 0);
	printf("\"ring\":");
	json_str(r->ring_setup ? r->ring_setup : "");
	printf(",\"first_error\":");
	if (r->first_error[0])
		json_str(r->first_error);
	else
		printf("null");
	printf(",");
	json_num("sources", o->sources ? o->sources : 1, 1);
}

static void print_human(const struct rl_opts *o, const struct rl_result *r,
			const struct figures *f)
{
	const char *type = o->text ? "text" : "binary";
	printf("ringload %s %s: %u connections", mode_name(o->mode), o->url, o->conns);
	if (o->mode != RL_IDLE) {
		if (o->corpus_doc)
			printf(", %s (%llu bytes) as %s messages, ", o->corpus_path,
			       (unsigned long long)o->corpus_max, o->mode == RL_RAW ? "raw" : type);
		else if (o->corpus_path)
			printf(", %s (%u messages, %llu bytes on average) as %s messages, ",
			       o->corpus_path, o->corpus_n, (unsigned long long)o->size,
			       o->mode == RL_RAW ? "raw" : type);
		else
			printf(", %llu-byte %s messages, ", (unsigned long long)o->size,
			       o->mode == RL_RAW ? "raw" : type);
		if (o->rate > 0)
			printf("%.0f/s in total (open loop)\n", o->rate);
		else
			printf("%u in flight %s\n", o->inflight,
			       o->mode == RL_BROADCAST ? "(broadcasts)" : "per connection");
	} else {
		printf("\n");
	}
	printf("  %-18s %u established, %u failed, in %.3f s\n", "connections", r->established,
	       r->failed, r->connect_s);
	if (o->tls) {
		printf("  %-18s ", "TLS");
		if (r->tls_version[0])
			printf("%s, %s, ", r->tls_version, r->tls_cipher);
		else
			printf("no session established, ");
		if (o->ca_file)
			printf("certificate checked against %s\n", o->ca_file);
		else
			printf("certificate not verified (no --ca)\n");
	}
	if (o->deflate)
		printf("  %-18s %s\n", "deflate",
		       r->deflate_params[0] ? r->deflate_params : "offered, not agreed");
	if (o->mode == RL_IDLE) {
		printf("  %-18s %.1f s\n", "held", o->hold);
		if (!isnan(f->rss_per_conn))
			printf("  %-18s %.0f kB before, %.0f kB after: %.0f B per connection\n",
			       "server RSS", f->rss_before, f->rss_after, f->rss_per_conn);
		if (!isnan(f->tcp_per_conn)) {
			printf("  %-18s %.0f B per connection (/proc/net/sockstat TCP mem)\n",
			       "kernel TCP memory", f->tcp_per_conn);
			printf("  %-18s %.0f B per connection (/proc/meminfo Slab)\n", "kernel slab",
			       f->slab_per_conn);
			printf("  %-18s the kernel figures cover both ends of each loopback connection\n",
			       "");
		}
	} else if (r->window_s <= 0) {
		printf("  %-18s not run: %s\n", "load",
		       r->failed ? "not every connection was established" : "stopped before measuring");
	} else {
		printf("  %-18s %.2f s after %.2f s of warm-up\n", "measured", r->window_s, o->warmup);
		if (o->mode == RL_BROADCAST)
			printf("  %-18s %llu deliveries (%.1f/s) of %llu broadcasts (%.1f/s), "
			       "%.2f MB/s of payload delivered\n", "messages",
			       (unsigned long long)r->messages, f->msgs_per_s,
			       (unsigned long long)r->broadcasts, f->broadcasts_per_s, f->mb_per_s);
		else
			printf("  %-18s %llu echoed (%.1f/s), %.2f MB/s of payload each way\n",
			       "messages", (unsigned long long)r->messages, f->msgs_per_s,
			       f->mb_per_s);
		if (!isnan(f->wire_out_per_msg) && !isnan(f->wire_in_per_msg)) {
			printf("  %-18s %.0f B payload, %.0f B out, %.0f B in per message", "on the wire",
			       f->payload_per_msg, f->wire_out_per_msg, f->wire_in_per_msg);
			if (!isnan(f->zout_pct))
				printf(" (%.0f%% sent and %.0f%% received compressed)", f->zout_pct,
				       f->zin_pct);
			printf("\n");
		}
		if (!isnan(f->p50))
			printf("  %-18s p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
			       "latency", f->p50, f->p99, f->p999, f->max);
		if (o->rate > 0)
			printf("  %-18s %llu sends left 1 ms or more after their scheduled time, "
			       "%llu never left\n", "behind schedule", (unsigned long long)r->behind,
			       (unsigned long long)r->unsent);
		if (!isnan(f->cpu_s))
			printf("  %-18s %.2f s CPU (%.1f%% of one core), %.2f us per message, RSS "
			       "%.0f kB\n", "server", f->cpu_s, f->cpu_util, f->cpu_per_msg, f->rss_kb);
		if (!isnan(f->client_util))
			printf("  %-18s %.1f%% of one core\n", "ringload CPU", f->client_util);
	}
	printf("  %-18s %llu\n", "errors", (unsigned long long)r->errors);
}

/* --- main ----------------------------------------------------------------- */

int main(int argc, char **argv)
{
	enum { OPT_TEXT = 256, OPT_BINARY, OPT_SOURCES, OPT_PID, OPT_HOLD, OPT_JSON, OPT_DEFLATE,
	       OPT_DEFLATE_THRESHOLD, OPT_CORPUS, OPT_CORPUS_DOC, OPT_TLS, OPT_CA };
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "conns", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "inflight", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "text", no_argument, NULL, OPT_TEXT },
		{ "binary", no_argument, NULL, OPT_BINARY },
		{ "sources", required_argument, NULL, OPT_SOURCES },
		{ "pid", required_argument, NULL, OPT_PID },
		{ "hold", required_argument, NULL, OPT_HOLD },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "deflate", no_argument, NULL, OPT_DEFLATE },
		{ "deflate-threshold", required_argument, NULL, OPT_DEFLATE_THRESHOLD },
		{ "corpus", required_argument, NULL, OPT_CORPUS },
		{ "corpus-doc", required_argument, NULL, OPT_CORPUS_DOC },
		{ "tls", no_argument, NULL, OPT_TLS },
		{ "ca", required_argument, NULL, OPT_CA },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct rl_opts o;
	o.mode = RL_ECHO;
	o.conns = 100;
	o.size = 32;
	o.inflight = 1;
	o.duration = 10;
	o.warmup = 2;
	o.hold = 1;
	o.deflate_threshold = 1024;
	int json = 0, inflight_set = 0, size_set = 0, type_set = 0;
	uint32_t sources = 0;

	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":m:c:s:p:r:d:w:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			if (!strcmp(optarg, "echo"))
				o.mode = RL_ECHO;
			else if (!strcmp(optarg, "idle"))
				o.mode = RL_IDLE;
			else if (!strcmp(optarg, "broadcast"))
				o.mode = RL_BROADCAST;
			else if (!strcmp(optarg, "raw"))
				o.mode = RL_RAW;
			else
				usage_error("--mode: '%s' is not echo, idle, broadcast or raw", optarg);
			break;
		case 'c':
			o.conns = (uint32_t)parse_uint("--conns", optarg, 1, 1000000);
			break;
		case 's':
			o.size = parse_size("--size", optarg);
			size_set = 1;
			break;
		case 'p':
			o.inflight = (uint32_t)parse_uint("--inflight", optarg, 1, 65536);
			inflight_set = 1;
			break;
		case 'r': {
			char *end;
			errno = 0;
			o.rate = strtod(optarg, &end);
			if (!*optarg || *end || errno || !isfinite(o.rate) || o.rate <= 0 || o.rate > 1e9)
				usage_error("--rate: '%s' is not a positive number of messages per second",
					    optarg);
			break;
		}
		case 'd':
			o.duration = parse_seconds("--duration", optarg, 0);
			break;
		case 'w':
			o.warmup = parse_seconds("--warmup", optarg, 1);
			break;
		case OPT_TEXT:
			o.text = 1;
			type_set = 1;
			break;
		case OPT_BINARY:
			o.text = 0;
			type_set = 1;
			break;
		case OPT_SOURCES:
			sources = (uint32_t)parse_uint("--sources", optarg, 1, 254);
			break;
		case OPT_PID:
			o.pid = (int)parse_uint("--pid", optarg, 1, 0x7fffffff);
			break;
		case OPT_HOLD:
			o.hold = parse_seconds("--hold", optarg, 1);
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_DEFLATE:
			o.deflate = 1;
			break;
		case OPT_DEFLATE_THRESHOLD:
			o.deflate_threshold = parse_bytes("--deflate-threshold", optarg);
			break;
		case OPT_CORPUS:
		case OPT_CORPUS_DOC:
			if (o.corpus_path)
				usage_error("--corpus and --corpus-doc: one corpus only");
			o.corpus_path = optarg;
			o.corpus_doc = ch == OPT_CORPUS_DOC;
			break;
		case OPT_TLS:
			o.tls = 1;
			break;
		case OPT_CA:
			o.ca_file = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case ':':
			usage_error("%s needs a value", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		usage_error(optind == argc ? "no URL given" : "one URL only, not '%s' as well",
			    argv[optind + 1 < argc ? optind + 1 : optind]);
	o.url = argv[optind];
	if (inflight_set && o.rate > 0)
		usage_error("--inflight and --rate exclude each other (closed or open loop)");
	if (o.mode == RL_BROADCAST && o.conns < 2)
		usage_error("--conns: broadcast mode needs a sender and at least one receiver (2)");
	if (o.deflate && o.mode == RL_RAW)
		usage_error("--deflate: raw mode speaks no WebSocket, so there is nothing to negotiate");
	if (o.corpus_path) {
		const char *opt = o.corpus_doc ? "--corpus-doc" : "--corpus";
		if (o.mode == RL_IDLE)
			usage_error("%s: idle mode sends no messages", opt);
		if (size_set)
			usage_error("--size and %s exclude each other: the corpus sets the sizes", opt);
		if (!type_set)
			o.text = 1;	/* a corpus is text (JSON, say) unless --binary */
		load_corpus(&o);
	}
	parse_url(&o, o.url);
	if (o.ca_file && !o.tls)
		usage_error("--ca: only with --tls or a wss:// URL");
	if (o.tls) {
		char err[256];
		o.tls_ctx = rws_tls_ctx_client(o.ca_file, !o.ca_file, err, sizeof(err));
		if (!o.tls_ctx)
			usage_error("%s%s", o.ca_file ? "--ca: " : "TLS: ", err);
	}

	int loop4 = o.addr.ss_family == AF_INET &&
		    (ntohl(((struct sockaddr_in *)&o.addr)->sin_addr.s_addr) >> 24) == 127;
	if (sources && !loop4)
		usage_error("--sources: only for 127.x.x.x destinations, not %s", o.addr_text);
	if (sources)
		o.sources = sources;
	else if (loop4 && o.conns > PORTS_PER_SOURCE)
		o.sources = (o.conns + PORTS_PER_SOURCE - 1) / PORTS_PER_SOURCE;

	if (o.pid) {
		double cpu;
		if (rl_proc_cpu(o.pid, &cpu) < 0)
			usage_error("--pid: no process %d (cannot read /proc/%d/stat)", o.pid, o.pid);
	}

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if ((rlim_t)o.conns + FD_MARGIN > rl.rlim_max)
			usage_error("--conns: %u connections need %u open files, and the limit is %llu "
				    "(ulimit -Hn)", o.conns, o.conns + FD_MARGIN,
				    (unsigned long long)rl.rlim_max);
	}
	signal(SIGPIPE, SIG_IGN);

	static struct rl_hist lat;
	static struct rl_result r;
	r.lat = &lat;
	r.server_rss_kb = r.rss_before_kb = r.rss_after_kb = -1;
	r.tcp_before_b = r.tcp_after_b = r.slab_before_b = r.slab_after_b = -1;
	int rc = rl_run(&o, &r);
	rws_tls_ctx_free(o.tls_ctx);
	if (rc < 0)
		return 1;

	struct figures f;
	figures(&o, &r, &f);
	if (json)
		print_json(&o, &r, &f);
	else
		print_human(&o, &r, &f);
	fflush(stdout);
	return r.errors || r.failed ? 1 : 0;
}
