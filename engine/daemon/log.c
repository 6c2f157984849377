/*
 * log.c: ringwsd's log.
 *
 * Everything ringwsd and its plugins say goes to stderr, one line per call,
 * prefixed "ringwsd: " (and "[plugin] " for a plugin's lines). Each line
 * has a level: errors and warnings say so ("ringwsd: error: ...",
 * "ringwsd: warning: ..."), as compilers do, so they stand out and a script
 * can grep for them; informational lines, which scripts parse (the
 * "listening on" line), carry no level word; debug lines say "debug: ".
 * --log-level drops the lines below a level; a plugin's lines are info.
 * Under systemd
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

/* Written before any other thread exists, only read afterwards. */
static enum rwsd_log_level threshold = RWSD_LOG_INFO;

static const char *const level_names[] = {
	[RWSD_LOG_ERROR] = "error",
	[RWSD_LOG_WARNING] = "warning",
	[RWSD_LOG_INFO] = "info",
	[RWSD_LOG_DEBUG] = "debug",
};

/* What goes between "ringwsd: " and the message. */
static const char *const level_words[] = {
	[RWSD_LOG_ERROR] = "error: ",
	[RWSD_LOG_WARNING] = "warning: ",
	[RWSD_LOG_INFO] = "",
	[RWSD_LOG_DEBUG] = "debug: ",
};

void rwsd_log_set_level(enum rwsd_log_level level)
{
	threshold = level;
}

int rwsd_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

const char *rwsd_log_level_name(enum rwsd_log_level level)
{
	return (unsigned)level <= RWSD_LOG_DEBUG ? level_names[level] : "?";
}

void rwsd_vlog(enum rwsd_log_level level, const char *tag, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t n, head;
	int r;

	if (level > threshold)
		return;
	if ((unsigned)level > RWSD_LOG_DEBUG)
		level = RWSD_LOG_DEBUG;
	if (tag)
		r = snprintf(line, sizeof(line), "ringwsd: %s[%s] ", level_words[level], tag);
	else
		r = snprintf(line, sizeof(line), "ringwsd: %s", level_words[level]);
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
	rwsd_vlog(RWSD_LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void rwsd_log_at(enum rwsd_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rwsd_vlog(level, NULL, fmt, ap);
	va_end(ap);
}

void rwsd_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rwsd_vlog(RWSD_LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
}

void rwsd_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rwsd_vlog(RWSD_LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void rwsd_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rwsd_vlog(RWSD_LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}
