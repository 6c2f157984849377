/*
 * url_fuzz: the client's URL parser on any string. Whatever it accepts
 * must hold together: every view lies inside the input, the path starts
 * with '/', the port is in 1..65535, a unix URL has a socket path and no
 * userinfo, and no view contains a '#', a space or a control character.
 * The userinfo decoder is run on what was found. Seeds:
 * tests/fuzz/corpus/url/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/url.h"

static void inside(struct rws_str s, const char *in, size_t n)
{
	if (!s.p)
		return;
	if (s.p < in || s.p + s.len > in + n) {
		/* "/" and "localhost" are the parser's own constants */
		if (!(s.len == 1 && s.p[0] == '/') && !(s.len == 9 && memcmp(s.p, "localhost", 9) == 0))
			abort();
	}
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c <= ' ' || c == 0x7f || c == '#')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = 0;
	size_t n = strlen(in);
	struct rws_url u;
	char err[160];
	if (rws_url_parse(in, &u, err, sizeof(err)) == 0) {
		inside(u.user, in, n);
		inside(u.password, in, n);
		inside(u.host, in, n);
		inside(u.socket_path, in, n);
		inside(u.path, in, n);
		inside(u.query, in, n);
		if (!u.path.p || u.path.len == 0 || u.path.p[0] != '/' || u.port == 0 || u.host.len == 0)
			abort();
		if (u.unix_socket && (!u.socket_path.len || u.user.p))
			abort();
		char out[64];
		(void)rws_url_decode(u.user, out, sizeof(out));
		(void)rws_url_decode(u.password, out, sizeof(out));
	} else if (!err[0]) {
		abort();	/* a refusal always says why */
	}
	free(in);
	return 0;
}
