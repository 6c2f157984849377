/*
 * The client's URL parser: each form it takes, and each fault it refuses
 * with a message naming it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "protocol/url.h"

static int eq(struct rws_str s, const char *want)
{
	return want ? s.p && s.len == strlen(want) && memcmp(s.p, want, s.len) == 0 : s.p == NULL;
}

#define STR(s) (int)(s).len, (s).p ? (s).p : "(null)"

static void ok(const char *url, const char *host, unsigned port, const char *path,
	       const char *query, int secure)
{
	struct rws_url u;
	char err[128] = "";
	cr_assert_eq(rws_url_parse(url, &u, err, sizeof(err)), 0, "%s: %s", url, err);
	cr_assert(eq(u.host, host), "%s: host \"%.*s\"", url, STR(u.host));
	cr_assert_eq(u.port, port, "%s: port %u", url, u.port);
	cr_assert(eq(u.path, path), "%s: path \"%.*s\"", url, STR(u.path));
	cr_assert(eq(u.query, query), "%s: query \"%.*s\"", url, STR(u.query));
	cr_assert_eq(u.secure, secure, "%s", url);
}

Test(url, the_forms_taken)
{
	ok("ws://example.com", "example.com", 80, "/", NULL, 0);
	ok("ws://example.com/", "example.com", 80, "/", NULL, 0);
	ok("WS://Example.com:8080/a/b?x=1&y", "Example.com", 8080, "/a/b", "x=1&y", 0);
	ok("wss://h", "h", 443, "/", NULL, 1);
	ok("wss://h:1/?", "h", 1, "/", "", 1);
	ok("ws://127.0.0.1:65535?q", "127.0.0.1", 65535, "/", "q", 0);
	ok("ws://[::1]:9001/p", "::1", 9001, "/p", NULL, 0);
	ok("ws://[fe80::1]/", "fe80::1", 80, "/", NULL, 0);
}

Test(url, userinfo)
{
	struct rws_url u;
	cr_assert_eq(rws_url_parse("ws://al%40ice:s3:cr%3At@h:81/x", &u, NULL, 0), 0);
	cr_assert(eq(u.user, "al%40ice"));
	cr_assert(eq(u.password, "s3:cr%3At"), "password \"%.*s\"", STR(u.password));
	cr_assert(eq(u.host, "h"));
	char out[32];
	cr_assert_eq(rws_url_decode(u.user, out, sizeof(out)), 6);
	cr_assert_str_eq(out, "al@ice");
	cr_assert_eq(rws_url_decode(u.password, out, sizeof(out)), 7);
	cr_assert_str_eq(out, "s3:cr:t");
	cr_assert_eq(rws_url_parse("ws://bob@h/", &u, NULL, 0), 0);
	cr_assert(eq(u.user, "bob"));
	cr_assert(eq(u.password, NULL));
	/* an '@' in the path is not userinfo */
	cr_assert_eq(rws_url_parse("ws://h/a@b", &u, NULL, 0), 0);
	cr_assert(eq(u.user, NULL));
	cr_assert(eq(u.path, "/a@b"));
}

Test(url, decode_faults)
{
	char out[8];
	cr_assert_eq(rws_url_decode(RWS_STR("a%4"), out, sizeof(out)), -EINVAL);
	cr_assert_eq(rws_url_decode(RWS_STR("a%zz"), out, sizeof(out)), -EINVAL);
	cr_assert_eq(rws_url_decode(RWS_STR("%"), out, sizeof(out)), -EINVAL);
	cr_assert_eq(rws_url_decode(RWS_STR("12345678"), out, sizeof(out)), -ENOSPC);
	cr_assert_eq(rws_url_decode(RWS_STR("1234567"), out, sizeof(out)), 7);
}

Test(url, unix_sockets)
{
	struct rws_url u;
	cr_assert_eq(rws_url_parse("ws+unix:///tmp/s.sock:/chat?room=1", &u, NULL, 0), 0);
	cr_assert(u.unix_socket);
	cr_assert(eq(u.socket_path, "/tmp/s.sock"));
	cr_assert(eq(u.path, "/chat"));
	cr_assert(eq(u.query, "room=1"));
	cr_assert(eq(u.host, "localhost"));
	cr_assert_eq(rws_url_parse("ws+unix:///run/x", &u, NULL, 0), 0);
	cr_assert(eq(u.socket_path, "/run/x"));
	cr_assert(eq(u.path, "/"));
	cr_assert_eq(rws_url_parse("wss+unix:///run/x:/", &u, NULL, 0), 0);
	cr_assert(u.secure);
}

static void bad(const char *url, const char *words)
{
	struct rws_url u;
	char err[160] = "";
	cr_assert_eq(rws_url_parse(url, &u, err, sizeof(err)), -EINVAL, "%s was taken", url);
	cr_assert(strstr(err, words), "%s: \"%s\" does not say \"%s\"", url, err, words);
}

Test(url, faults_named)
{
	bad("ws://h/#frag", "fragment");
	bad("ws://h#", "fragment");
	bad("http://h/", "unknown scheme \"http\"");
	bad("ftp://h/", "unknown scheme");
	bad("h:80/x", "unknown scheme");
	bad("example.com/x", "no scheme");
	bad("", "empty");
	bad("ws://", "no host");
	bad("ws://:80/", "no host");
	bad("ws://h:0/", "bad port");
	bad("ws://h:65536/", "bad port");
	bad("ws://h:/", "bad port");
	bad("ws://h:8o/", "bad port");
	bad("ws://h:-1/", "bad port");
	bad("ws://h:123456/", "bad port");
	bad("ws://[::1/", "closing ']'");
	bad("ws://[::1]x/", "after the IPv6");
	bad("ws://[::g]/", "not an IPv6");
	bad("ws://h /", "space");
	bad("ws://h/\x01", "control");
	bad("ws://h{x}/", "host name");
	bad("ws+unix://", "socket path");
	bad("ws+unix:///s:x", "must start with '/'");
}
