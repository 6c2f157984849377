#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard_hdr {
	void *base;
	size_t total;
};

uint8_t *guard_copy(const void *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + sizeof(struct guard_hdr) + page - 1) / page;
	size_t total = (data_pages + 1) * page;
	uint8_t *base = mmap(NULL, total, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		perror("guard_copy: mmap");
		abort();
	}
	uint8_t *fence = base + data_pages * page;
	if (mprotect(fence, page, PROT_NONE) != 0) {
		perror("guard_copy: mprotect");
		abort();
	}
	uint8_t *out = fence - len;
	struct guard_hdr h = { base, total };
	memcpy(base, &h, sizeof(h));
	if (len)
		memcpy(out, p, len);
	return out;
}

void guard_free(uint8_t *g)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	/* g - 1 is always on a data page (the header takes the first bytes);
	 * walk back to the page that holds the header */
	uint8_t *base = (uint8_t *)((uintptr_t)(g - 1) & ~(uintptr_t)(page - 1));
	struct guard_hdr h;
	for (;;) {
		memcpy(&h, base, sizeof(h));
		if (h.base == base)
			break;
		base -= page;
	}
	munmap(h.base, h.total);
}

uint64_t test_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}
