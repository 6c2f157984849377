/*
 * deflate_config_test: ringwsd's permessage-deflate settings as an operator
 * gives them, with the echo plugin: the window-size and pool options on the
 * command line, the deflate keys of a [route PATH] section in a config file
 * (each route's own settings, over the server's), and the values ringwsd
 * refuses to start with.
 *
 * What each route agreed on is read from the 101's Sec-WebSocket-Extensions
 * on raw upgrades (harness.h) that offer "permessage-deflate;
 * client_max_window_bits", and from the echoes themselves: RSV1 says
 * whether the server compressed one. Compressed messages to the server are
 * built here as stored deflate blocks (RFC 1951 3.2.4, no compressor
 * needed); compressed echoes are inflated by Python's zlib
 * (/usr/bin/python3, as in deflate_test.c), a peer that is not ours.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "wsraw.h"

/* the folder of the config files and zlib's scratch files; removed at the
 * end of each test */
static char tmpdir[64];

static void cleanup(void)
{
	if (tmpdir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "deflate_config_test: could not remove %s\n", tmpdir);
		tmpdir[0] = 0;
	}
	harness_teardown();
}

TestSuite(deflate_config, .fini = cleanup, .timeout = 60);

/* A file in tmpdir (made on first use) holding data[0..n); its path, which
 * lives until the process ends. */
static const char *temp_file(const char *name, const void *data, size_t n)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/ringwsd-dflcfg-XXXXXX");
		cr_assert(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	}
	char *path;
	cr_assert(asprintf(&path, "%s/%s", tmpdir, name) >= 0);
	FILE *f = fopen(path, "w");
	cr_assert(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* Writes a config file from a printf format, in which every %1$s is the
 * echo plugin's path. */
static const char *conf(const char *format, ...) __attribute__((format(printf, 1, 2)));
static const char *conf(const char *format, ...)
{
	char *text;
	va_list ap;
	va_start(ap, format);
	cr_assert(vasprintf(&text, format, ap) >= 0);
	va_end(ap);
	const char *path = temp_file("ringwsd.conf", text, strlen(text));
	free(text);
	return path;
}

#define ECHO_SO harness_build("plugins/echo.so")

/* --- the handshake -------------------------------------------------------- */

#define OFFER "permessage-deflate; client_max_window_bits"

/* Upgrades to path offering offer; checks the 101 and copies its
 * Sec-WebSocket-Extensions value to ext ("" if it has none). Returns the
 * socket. */
static int open_offer(struct daemon *d, const char *path, const char *offer, char *ext,
		      size_t cap)
{
	int fd = tcp_connect(d->port, READ_MS);
	char req[1024], head[4096], v[256];
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: %s\r\n\r\n", path, d->port,
		 offer);
	cr_assert_eq(tcp_send(fd, req, strlen(req)), 0);
	int st = http_read_head(fd, head, sizeof(head));
	cr_assert_eq(st, 101, "%s offering \"%s\": wanted 101, got %d:\n%s\nringwsd:\n%s", path, offer,
		     st, head, daemon_log(d));
	cr_assert(http_header(head, "Sec-WebSocket-Accept", v, sizeof(v)) == 0 && !strcmp(v, ACCEPT),
		  "%s: wrong Sec-WebSocket-Accept:\n%s", path, head);
	if (http_header(head, "Sec-WebSocket-Extensions", ext, cap) < 0)
		ext[0] = 0;
	return fd;
}

/* Checks that ext is permessage-deflate with exactly the parameters given
 * (NULL-terminated), each once, in any order. */
static void expect_params(const char *path, const char *ext, ...)
{
	char buf[256], got[8][64];
	int n = -1;
	snprintf(buf, sizeof(buf), "%s", ext);
	cr_assert(ext[0], "%s: the 101 has no Sec-WebSocket-Extensions, wanted permessage-deflate",
		  path);
	cr_assert(!strchr(buf, ','), "%s: the 101 answered \"%s\"", path, ext);
	for (char *save, *t = strtok_r(buf, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
		t += strspn(t, " \t");
		size_t l = strlen(t);
		while (l && (t[l - 1] == ' ' || t[l - 1] == '\t'))
			t[--l] = 0;
		if (n < 0) {
			cr_assert_str_eq(t, "permessage-deflate", "%s: the 101 answered \"%s\"", path, ext);
			n = 0;
		} else {
			cr_assert(n < 8, "%s: the 101 answered \"%s\"", path, ext);
			snprintf(got[n++], 64, "%s", t);
		}
	}
	va_list ap;
	va_start(ap, ext);
	int want = 0;
	for (const char *w; (w = va_arg(ap, const char *)); want++) {
		int seen = 0;
		for (int i = 0; i < n; i++)
			seen += !strcmp(got[i], w);
		cr_assert_eq(seen, 1, "%s: the 101 answered \"%s\", wanted %s in it once", path, ext, w);
	}
	va_end(ap);
	cr_assert_eq(n, want, "%s: the 101 answered \"%s\": %d parameters, wanted %d", path, ext, n,
		     want);
}

/* Opens path offering OFFER and expects exactly the parameters given
 * (NULL-terminated); returns the socket. */
#define OPEN_EXPECT(d, path, ...)                                               \
	({                                                                      \
		char ext_[256];                                                 \
		int fd_ = open_offer(d, path, OFFER, ext_, sizeof(ext_));       \
		expect_params(path, ext_, __VA_ARGS__);                        \
		fd_;                                                            \
	})

/* Opens path offering OFFER and expects the 101 to decline it. */
static int open_declined(struct daemon *d, const char *path, const char *offer)
{
	char ext[256];
	int fd = open_offer(d, path, offer, ext, sizeof(ext));
	cr_assert(!ext[0], "%s: the offer \"%s\" should be declined, the 101 answered \"%s\"", path,
		  offer, ext);
	return fd;
}

/* --- messages -------------------------------------------------------------- */

/* Text that deflate shrinks well: a sentence over and over, n bytes. */
static uint8_t *prose(size_t n)
{
	static const char s[] = "The quick brown fox jumps over the lazy dog; ";
	uint8_t *p = malloc(n ? n : 1);
	cr_assert(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)s[i % (sizeof(s) - 1)];
	return p;
}

/* p[0..n) as RFC 7692 sends it compressed, in stored blocks, as a sync
 * flush leaves it: non-final blocks, then the header byte of an empty one
 * whose 00 00 ff ff the sender removes and the receiver puts back (the
 * shape of RFC 7692 7.2.3.3's example). */
static uint8_t *stored_deflate(const void *p, size_t n, size_t *zn)
{
	size_t blocks = n / 65535 + 1;
	uint8_t *z = malloc(n + 5 * blocks + 1), *o = z;
	cr_assert(z);
	for (size_t off = 0; off < n || o == z; ) {
		size_t len = n - off < 65535 ? n - off : 65535;
		*o++ = 0x00;	/* BFINAL 0, BTYPE 00 (stored), padded */
		*o++ = (uint8_t)len;
		*o++ = (uint8_t)(len >> 8);
		*o++ = (uint8_t)~len;
		*o++ = (uint8_t)(~len >> 8);
		memcpy(o, (const uint8_t *)p + off, len);
		o += len;
		off += len;
	}
	*o++ = 0x00;	/* the empty block's header */
	*zn = (size_t)(o - z);
	return z;
}

/* Inflates a compressed message (raw deflate, the 00 00 ff ff tail put
 * back) with Python's zlib. */
static uint8_t *zlib_inflate(const uint8_t *z, size_t zn, size_t *n)
{
	const char *in = temp_file("msg.z", z, zn);
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import sys, zlib; sys.stdout.buffer.write(zlib.decompressobj"
		 "(-15).decompress(open(sys.argv[1], \"rb\").read() + b\"\\0\\0\\xff\\xff\"))' %s",
		 in);
	FILE *f = popen(cmd, "r");
	cr_assert(f, "popen: %s", strerror(errno));
	size_t cap = 1 << 16, len = 0;
	uint8_t *out = malloc(cap);
	cr_assert(out);
	for (size_t got; (got = fread(out + len, 1, cap - len, f)) > 0;) {
		len += got;
		if (len == cap)
			cr_assert((out = realloc(out, cap *= 2)));
	}
	int st = pclose(f);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 127, "/usr/bin/python3 is missing: install "
		  "the Debian package python3 (its zlib inflates the server's messages here)");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "zlib could not inflate the server's "
		  "message of %zu bytes (exit status %d)", zn, st);
	*n = len;
	return out;
}

/* Reads the echo of p[0..n) (text), one frame, compressed (RSV1) if
 * compressed is set, else plain; either way it must be p exactly. */
static void expect_text_echo(int fd, const char *path, const uint8_t *p, size_t n, int compressed)
{
	if (!compressed) {
		expect_message(fd, OP_TEXT, p, n);	/* checks RSV is clear */
		return;
	}
	uint8_t h[8];
	int rc = tcp_read(fd, h, 2);
	cr_assert_eq(rc, 0, "%s: no echo of %zu bytes (%s)", path, n, strerror(-rc));
	cr_assert_eq(h[0], FIN | RSV1 | OP_TEXT, "%s: the echo of %zu bytes of text begins 0x%02x, "
		     "wanted 0x%02x (final, compressed, text)", path, n, h[0], FIN | RSV1 | OP_TEXT);
	cr_assert(!(h[1] & 0x80), "%s: the echo is masked", path);
	uint64_t len = h[1] & 127;
	if (len >= 126) {
		int k = len == 126 ? 2 : 8;
		cr_assert_eq(tcp_read(fd, h, (size_t)k), 0);
		len = 0;
		for (int i = 0; i < k; i++)
			len = len << 8 | h[i];
	}
	uint8_t *z = malloc(len + 1);
	cr_assert(z);
	cr_assert(!len || tcp_read(fd, z, len) == 0, "%s: the echo is cut short", path);
	cr_assert_lt(len, n / 2, "%s: %zu bytes of prose compressed to %llu", path, n,
		     (unsigned long long)len);
	size_t got;
	uint8_t *plain = zlib_inflate(z, len, &got);
	cr_assert_eq(got, n, "%s: the echo inflates to %zu bytes, sent %zu", path, got, n);
	cr_assert(!memcmp(plain, p, n), "%s: the inflated echo differs from what was sent", path);
	free(plain);
	free(z);
}

/* Sends n bytes of prose plainly, or compressed as stored blocks, and
 * expects the echo as compressed says. */
static void echo_prose(int fd, const char *path, size_t n, int send_compressed, int compressed)
{
	uint8_t *t = prose(n);
	if (send_compressed) {
		size_t zn;
		uint8_t *z = stored_deflate(t, n, &zn);
		send_frame(fd, FIN | RSV1 | OP_TEXT, z, zn);
		free(z);
	} else {
		send_frame(fd, FIN | OP_TEXT, t, n);
	}
	expect_text_echo(fd, path, t, n, compressed);
	free(t);
}

/* --- routes with settings of their own ----------------------------------- */

/* deflate on for the server; /raw turns it off, /ctx lets clients keep
 * their context with an 11-bit window and compresses from 100 bytes; /
 * keeps the server's settings */
Test(deflate_config, routes_override_the_server)
{
	const char *file = conf("deflate = on\n"
				"\n"
				"[route /]\n"
				"plugin = %1$s\n"
				"\n"
				"[route /raw]\n"
				"plugin = %1$s\n"
				"deflate = off\n"
				"\n"
				"[route /ctx]\n"
				"plugin = %1$s\n"
				"deflate-client-context = on      # a comment\n"
				"deflate-client-max-window-bits = 11\n"
				"deflate-threshold = 100\n", ECHO_SO);
	struct daemon *d = daemon_start("--config", file, NULL);

	int fd = OPEN_EXPECT(d, "/", "server_no_context_takeover", "client_no_context_takeover",
			     NULL);
	echo_prose(fd, "/", 200, 0, 0);
	echo_prose(fd, "/", 4096, 0, 1);
	echo_prose(fd, "/", 4096, 1, 1);
	close_with(fd, 1000);

	/* off: no extension, and RSV1 is a protocol error */
	fd = open_declined(d, "/raw", OFFER);
	echo_prose(fd, "/raw", 4096, 0, 0);
	send_frame(fd, FIN | RSV1 | OP_TEXT, "hi", 2);
	expect_fail(fd, 1002);

	fd = OPEN_EXPECT(d, "/ctx", "server_no_context_takeover", "client_max_window_bits=11",
			 NULL);
	echo_prose(fd, "/ctx", 99, 0, 0);
	echo_prose(fd, "/ctx", 200, 0, 1);
	echo_prose(fd, "/ctx", 4096, 1, 1);
	echo_prose(fd, "/ctx", 4096, 1, 1);	/* the client's context kept: a second one */
	close_with(fd, 1000);
	/* with the client's window bounded, an offer that cannot bound it is
	 * declined on /ctx (and accepted on /) */
	close_with(open_declined(d, "/ctx", "permessage-deflate"), 1000);
	char ext[256];
	fd = open_offer(d, "/", "permessage-deflate", ext, sizeof(ext));
	expect_params("/", ext, "server_no_context_takeover", "client_no_context_takeover", NULL);
	close_with(fd, 1000);
}

/* deflate off for the server (the file says nothing) and on for /chat only,
 * with a 12-bit window of its own; the command line's client window (9)
 * is the base the routes start from */
Test(deflate_config, route_turns_deflate_on)
{
	const char *file = conf("[route /]\n"
				"plugin = %1$s\n"
				"[route /chat]\n"
				"plugin = %1$s\n"
				"deflate = yes\n"
				"deflate-level = 12\n"
				"deflate-server-max-window-bits = 12\n"
				"[route /ctx]\n"
				"plugin = %1$s\n"
				"deflate = on\n"
				"deflate-client-context = on\n", ECHO_SO);
	struct daemon *d = daemon_start("--config", file, "--deflate-client-max-window-bits", "9",
					NULL);

	int fd = open_declined(d, "/", OFFER);
	echo_prose(fd, "/", 4096, 0, 0);
	close_with(fd, 1000);

	/* a 12-bit window: answered, and then the server sends uncompressed,
	 * while it still inflates what it gets */
	fd = OPEN_EXPECT(d, "/chat", "server_no_context_takeover", "client_no_context_takeover",
			 "server_max_window_bits=12", "client_max_window_bits=9", NULL);
	echo_prose(fd, "/chat", 4096, 0, 0);
	echo_prose(fd, "/chat", 4096, 1, 0);
	close_with(fd, 1000);

	fd = OPEN_EXPECT(d, "/ctx", "server_no_context_takeover", "client_max_window_bits=9", NULL);
	echo_prose(fd, "/ctx", 4096, 1, 1);
	close_with(fd, 1000);
}

/* The command line sets the server's values; a route's own keys still win
 * over them. A --route for a path the file routed replaces that route
 * whole, its deflate keys with it. */
Test(deflate_config, command_line_under_route_keys)
{
	const char *file = conf("[route /]\n"
				"plugin = %1$s\n"
				"[route /raw]\n"
				"plugin = %1$s\n"
				"deflate = off\n"
				"[route /small]\n"
				"plugin = %1$s\n"
				"deflate-threshold = 10K\n"
				"[route /swapped]\n"
				"plugin = %1$s\n"
				"deflate = off\n", ECHO_SO);
	char swapped[512];
	snprintf(swapped, sizeof(swapped), "/swapped=%s", ECHO_SO);
	struct daemon *d = daemon_start("--deflate", "--config", file, "--deflate-threshold", "2K",
					"--route", swapped, NULL);

	int fd = OPEN_EXPECT(d, "/", "server_no_context_takeover", "client_no_context_takeover",
			     NULL);
	echo_prose(fd, "/", 1500, 0, 0);	/* below the command line's 2K */
	echo_prose(fd, "/", 4096, 0, 1);
	close_with(fd, 1000);

	close_with(open_declined(d, "/raw", OFFER), 1000);

	fd = OPEN_EXPECT(d, "/small", "server_no_context_takeover", "client_no_context_takeover",
			 NULL);
	echo_prose(fd, "/small", 4096, 0, 0);	/* below the route's 10K */
	echo_prose(fd, "/small", 12000, 0, 1);
	close_with(fd, 1000);

	fd = OPEN_EXPECT(d, "/swapped", "server_no_context_takeover", "client_no_context_takeover",
			 NULL);
	close_with(fd, 1000);
}

/* --- the window-size and pool options -------------------------------------- */

/* --deflate-client-max-window-bits 10 with --deflate-client-context: an
 * offer of client_max_window_bits is answered with 10; one without it
 * cannot be held to the window and is declined */
Test(deflate_config, client_window_option)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--deflate",
					"--deflate-client-max-window-bits", "10",
					"--deflate-client-context", NULL);
	int fd = OPEN_EXPECT(d, "/", "server_no_context_takeover", "client_max_window_bits=10",
			     NULL);
	echo_prose(fd, "/", 300, 1, 0);
	echo_prose(fd, "/", 4096, 1, 1);
	close_with(fd, 1000);
	close_with(open_declined(d, "/", "permessage-deflate"), 1000);
}

/* --deflate-server-max-window-bits 10: answered as server_max_window_bits=10,
 * and then a 4 KiB text that would compress comes back uncompressed, intact;
 * what the client compresses is still inflated */
Test(deflate_config, server_window_option)
{
	struct daemon *d = daemon_start("--route", route("/", "echo"), "--deflate",
					"--deflate-server-max-window-bits", "10", NULL);
	int fd = OPEN_EXPECT(d, "/", "server_no_context_takeover", "client_no_context_takeover",
			     "server_max_window_bits=10", NULL);
	echo_prose(fd, "/", 4096, 0, 0);
	echo_prose(fd, "/", 4096, 1, 0);
	uint8_t *b = random_bytes(70000, 5);
	send_frame(fd, FIN | OP_BINARY, b, 70000);
	expect_message(fd, OP_BINARY, b, 70000);
	free(b);
	close_with(fd, 1000);
}

/* --deflate-concurrency and --deflate-inline-max are taken, from the
 * command line and the file: with every message in the pool (0) or only
 * those over 1K, small and large messages both ways echo intact */
Test(deflate_config, pool_options)
{
	const char *file = conf("deflate = on\n"
				"deflate-concurrency = 3\n"
				"deflate-inline-max = 0\n"
				"[route /]\n"
				"plugin = %1$s\n", ECHO_SO);
	struct daemon *ds[2];
	ds[0] = daemon_start("--config", file, NULL);
	ds[1] = daemon_start("--route", route("/", "echo"), "--deflate", "--deflate-concurrency", "2",
			     "--deflate-inline-max", "1K", NULL);
	static const size_t sizes[] = { 1024, 3000, 65536, 300000 };
	for (int i = 0; i < 2; i++) {
		int fd = OPEN_EXPECT(ds[i], "/", "server_no_context_takeover",
				     "client_no_context_takeover", NULL);
		tcp_set_timeout(fd, 20000);
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			echo_prose(fd, "/", sizes[k], 0, 1);
			echo_prose(fd, "/", sizes[k], 1, 1);
		}
		echo_prose(fd, "/", 100, 1, 0);
		close_with(fd, 1000);
		int st = daemon_stop(ds[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %d:\n%s", st,
			  daemon_log(ds[i]));
	}
}

/* --- refused values ----------------------------------------------------------- */


static void expect_option_refused(const char *opt, const char *value, const char *range)
{
	const char *args[] = { "--listen", "127.0.0.1:0", "--route", route("/", "echo"), "--deflate",
			       opt, value, NULL };
	char quoted[64];
	snprintf(quoted, sizeof(quoted), "'%s'", value);
	daemon_expect_exit2(args, opt, quoted, range, NULL);
}

Test(deflate_config, bad_option_values)
{
	expect_option_refused("--deflate-level", "13", "1 to 12");
	expect_option_refused("--deflate-level", "0", "1 to 12");
	expect_option_refused("--deflate-client-max-window-bits", "7", "8 to 15");
	expect_option_refused("--deflate-client-max-window-bits", "16", "8 to 15");
	expect_option_refused("--deflate-server-max-window-bits", "7", "8 to 15");
	expect_option_refused("--deflate-server-max-window-bits", "ten", "8 to 15");
	expect_option_refused("--deflate-concurrency", "0", "1 to 256");
	expect_option_refused("--deflate-concurrency", "257", "1 to 256");
	expect_option_refused("--deflate-inline-max", "5G", "at most");
	expect_option_refused("--deflate-inline-max", "-1", "bytes");
}

/* A config file with `line` in a [route /] section (or, with at_top, before
 * it) is refused with a message naming the file's line and saying says. */
static void expect_file_refused(int at_top, const char *line, const char *says)
{
	const char *file = conf("%2$s\n"
				"[route /]\n"
				"plugin = %1$s\n"
				"%3$s\n", ECHO_SO, at_top ? line : "# the route's settings", at_top ? "" : line);
	const char *args[] = { "--listen", "127.0.0.1:0", "--config", file, NULL };
	char where[256];
	snprintf(where, sizeof(where), "%s:%d: ", file, at_top ? 1 : 4);
	daemon_expect_exit2(args, where, says, NULL);
}

Test(deflate_config, bad_route_values)
{
	expect_file_refused(0, "deflate-level = 0", "deflate-level (in [route /]): '0' is not a "
			    "level from 1 to 12");
	expect_file_refused(0, "deflate-level = 13", "1 to 12");
	expect_file_refused(0, "deflate-client-max-window-bits = 7",
			    "deflate-client-max-window-bits (in [route /]): '7'");
	expect_file_refused(0, "deflate-server-max-window-bits = 16", "8 to 15");
	expect_file_refused(0, "deflate = maybe", "deflate (in [route /]): 'maybe' is neither on "
			    "nor off");
	expect_file_refused(0, "deflate-threshold = lots", "deflate-threshold (in [route /])");
	/* the pool's settings are the server's, not a route's */
	expect_file_refused(0, "deflate-concurrency = 4", "'deflate-concurrency' is a server "
			    "setting");
	expect_file_refused(1, "deflate-concurrency = 0", "deflate-concurrency: '0'");
	expect_file_refused(1, "deflate-client-max-window-bits = 7", "8 to 15");
}

/* --help lists the new options */
Test(deflate_config, help_lists_options)
{
	const char *help = ringwsd_help();
	static const char *const opts[] = { "--deflate-server-max-window-bits N",
					    "--deflate-client-max-window-bits N",
					    "--deflate-concurrency N", "--deflate-inline-max BYTES",
					    "[route PATH]" };
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		cr_assert(strstr(help, opts[i]), "--help does not mention %s:\n%s", opts[i], help);
}
