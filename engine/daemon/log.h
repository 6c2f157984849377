/*
 * log.h: ringwsd's log, one line per call on stderr. See log.c.
 */
#ifndef RWSD_LOG_H
#define RWSD_LOG_H

#include <stdarg.h>

/* Writes "ringwsd: MESSAGE\n" to stderr. */
void rwsd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes "ringwsd: [TAG] MESSAGE\n" (tag NULL: no bracket) to stderr. */
void rwsd_vlog(const char *tag, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
