#include "testutil.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* --- the test PKI ------------------------------------------------------------ */

#define PKI_ENV "RWS_TLS_TEST_PKI"

static char pki_dir[PATH_MAX];		/* the directory the runner made (runner only) */

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st, (void)type, (void)f;
	return remove(path);
}

void test_pki_runner_init(void)
{
	if (getenv(PKI_ENV))
		return;
	const char *tmp = getenv("TMPDIR");
	snprintf(pki_dir, sizeof(pki_dir), "%s/ringws-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(pki_dir)) {
		perror("test PKI: mkdtemp");
		pki_dir[0] = 0;
		return;
	}
	setenv(PKI_ENV, pki_dir, 1);
}

void test_pki_runner_done(void)
{
	if (pki_dir[0])
		nftw(pki_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* tests/tls/make-certs.sh: from the working directory (make runs the tests
 * from the top), else from a parent of the binary's directory */
static int find_script(char *out, size_t cap)
{
	static const char rel[] = "tests/tls/make-certs.sh";
	if (access(rel, R_OK) == 0 && realpath(rel, out))
		return 1;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = 0;
	for (char *slash; (slash = strrchr(exe, '/')) != NULL;) {
		*slash = 0;
		int k = snprintf(out, cap, "%s/%s", exe, rel);
		if (k > 0 && (size_t)k < cap && access(out, R_OK) == 0)
			return 1;
	}
	return 0;
}

const char *test_pki(char *why, size_t cap)
{
	const char *pki = getenv(PKI_ENV);
	if (!pki) {			/* no runner hook: a directory of our own */
		static char own[PATH_MAX];
		snprintf(own, sizeof(own), "/tmp/ringws-tls-%d", (int)getpid());
		pki = own;
	}
	char script[PATH_MAX], cmd[3 * PATH_MAX];
	if (!find_script(script, sizeof(script))) {
		snprintf(why, cap, "tests/tls/make-certs.sh not found");
		return NULL;
	}
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s' 2>&1", script, pki);
	FILE *f = popen(cmd, "r");
	if (!f) {
		snprintf(why, cap, "popen: %s", cmd);
		return NULL;
	}
	size_t len = fread(why, 1, cap - 1, f);
	why[len] = 0;
	int st = pclose(f);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char out[1024];
		snprintf(out, sizeof(out), "%s", why);
		snprintf(why, cap, "%s failed: %s", cmd, out);
		return NULL;
	}
	return pki;
}
