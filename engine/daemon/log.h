/*
 * log.h: ringwsd's log, one line per call on stderr. See log.c.
 */
#ifndef RWSD_LOG_H
#define RWSD_LOG_H

#include <stdarg.h>

/* Levels, most severe first: a line is written when its level is at or
 * above (numerically at or below) the one set with rwsd_log_set_level(). */
enum rwsd_log_level {
	RWSD_LOG_ERROR = 0,	/* "ringwsd: error: ..." */
	RWSD_LOG_WARNING = 1,	/* "ringwsd: warning: ..." */
	RWSD_LOG_INFO = 2,	/* "ringwsd: ..." (the default level) */
	RWSD_LOG_DEBUG = 3,	/* "ringwsd: debug: ..." */
};

/* The level below which lines are dropped. Set it before any thread that
 * logs exists (ringwsd sets it before the server starts). */
void rwsd_log_set_level(enum rwsd_log_level level);

/* "error", "warning", "info" or "debug" as a level. Returns it, or -EINVAL. */
int rwsd_log_level_parse(const char *name);

/* The name of a level ("info"), as the option takes it. */
const char *rwsd_log_level_name(enum rwsd_log_level level);

/* Writes "ringwsd: MESSAGE\n" to stderr, with "error: ", "warning: " or
 * "debug: " before MESSAGE for those levels. rwsd_log() is info. */
void rwsd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rwsd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rwsd_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rwsd_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same at a level given as a value (rwsd_log() and the others name
 * theirs). */
void rwsd_log_at(enum rwsd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The same at any level, with "[TAG] " before MESSAGE (tag NULL: none):
 * "ringwsd: [chat] MESSAGE" for a plugin's info line. */
void rwsd_vlog(enum rwsd_log_level level, const char *tag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
