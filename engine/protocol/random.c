/*
 * random: see random.h. The pool is thread-local, so reactors never contend.
 */
#include "protocol/random.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#define POOL_SIZE 256

static _Thread_local unsigned char pool[POOL_SIZE];
static _Thread_local size_t pool_left;

static int refill(void)
{
	size_t got = 0;
	while (got < POOL_SIZE) {
		ssize_t n = getrandom(pool + got, POOL_SIZE - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	pool_left = POOL_SIZE;
	return 0;
}

int rws_random_bytes(void *buf, size_t len)
{
	unsigned char *out = buf;
	while (len > 0) {
		if (pool_left == 0) {
			int rc = refill();
			if (rc < 0)
				return rc;
		}
		size_t n = len < pool_left ? len : pool_left;
		/* take from the end, and wipe what was handed out */
		memcpy(out, pool + pool_left - n, n);
		memset(pool + pool_left - n, 0, n);
		pool_left -= n;
		out += n;
		len -= n;
	}
	return 0;
}
