/*
 * log.c: ringwsd's log.
 *
 * Everything ringwsd and its plugins say goes to stderr, one line per call,
 * prefixed "ringwsd: " (and "[plugin] " for a plugin's lines). Under systemd
 * stderr is the journal, which adds the time and the pid, so the line itself
 * carries neither. Each line is built in a buffer and written with one
 * write(2): lines from several reactor threads never interleave (a pipe
 * keeps writes up to PIPE_BUF whole). Line breaks and other control bytes in
 * a message become spaces, so a plugin that logs peer data cannot forge
 * lines. Nothing here allocates or locks, so any thread may log at any time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/log.h"

#define LOG_LINE_MAX 1024

void rwsd_vlog(const char *tag, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n, head;
	int r;

	if (tag)
		r = snprintf(line, sizeof(line), "ringwsd: [%s] ", tag);
	else
		r = snprintf(line, sizeof(line), "ringwsd: ");
	head = r < 0 ? 0 : (size_t)r < sizeof(line) - 1 ? (size_t)r : sizeof(line) - 1;

	r = vsnprintf(line + head, sizeof(line) - head, fmt, ap);
	n = r < 0 ? head : head + (size_t)r;
	if (n > sizeof(line) - 2) {	/* cut long lines, and say so */
		n = sizeof(line) - 2;
		memcpy(line + n - 3, "...", 3);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)line[i];
		if (ch < 0x20 || ch == 0x7f)
			line[i] = ' ';
	}
	line[n++] = '\n';

	/* A failed log write has nowhere to be reported; retry only on EINTR.
	 * The caller's errno survives the call. */
	int saved = errno;
	const char *p = line;
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	errno = saved;
}

void rwsd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rwsd_vlog(NULL, fmt, ap);
	va_end(ap);
}
