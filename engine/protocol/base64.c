/*
 * base64: see base64.h. Decoding looks every character up in a 256-entry
 * table, so the inner loop has no range tests.
 */
#include "protocol/base64.h"

#include <errno.h>

static const char alphabet[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * code_of[c] is the 6-bit value of c plus one, 65 for '=', and 0 (the
 * default of every entry not named) for a byte outside the alphabet;
 * value() turns that into 0..63, PAD or BAD.
 */
static const uint8_t code_of[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
	['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
	['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
	['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
	['='] = 65,
};

#define PAD 64
#define BAD 255

static uint8_t value(uint8_t c)
{
	return (uint8_t)(code_of[c] - 1);
}

int rws_base64_encode(const uint8_t *src, size_t len, char *dst, size_t cap)
{
	size_t need = RWS_BASE64_ENCODED_LEN(len);
	if (cap < need + 1 || need > (size_t)0x7fffffff)
		return -ENOSPC;
	char *o = dst;
	size_t i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		*o++ = alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)src[i] << 16;
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		*o++ = '=';
	}
	*o = '\0';
	return (int)need;
}

int rws_base64_decode(const char *src, size_t len, uint8_t *dst, size_t cap)
{
	const uint8_t *in = (const uint8_t *)src;
	if (len % 4 != 0 || len / 4 * 3 > (size_t)0x7fffffff)
		return -EINVAL;
	size_t out = 0;
	for (size_t i = 0; i < len; i += 4) {
		uint8_t a = value(in[i]), b = value(in[i + 1]);
		uint8_t c = value(in[i + 2]), d = value(in[i + 3]);
		int last = i + 4 == len;
		size_t n;
		if ((a | b) >= 64)
			return -EINVAL;          /* '=' or junk in the first two */
		if (c < 64 && d < 64) {
			n = 3;
		} else if (last && c < 64 && d == PAD) {
			if (c & 3)
				return -EINVAL;  /* unused bits must be zero */
			n = 2;
		} else if (last && c == PAD && d == PAD) {
			if (b & 15)
				return -EINVAL;
			n = 1;
		} else {
			return -EINVAL;
		}
		if (cap - out < n)
			return -ENOSPC;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 |
			     (uint32_t)(c & 63) << 6 | (d & 63);
		dst[out++] = (uint8_t)(v >> 16);
		if (n > 1)
			dst[out++] = (uint8_t)(v >> 8);
		if (n > 2)
			dst[out++] = (uint8_t)v;
	}
	return (int)out;
}
