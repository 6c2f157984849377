/*
 * raw_common: what the two raw echo baselines (raw_uring_echo.c,
 * raw_epoll_echo.c) share outside their event loops: the command line's
 * address, the listening socket, and the process set-up.
 */
#ifndef RAW_COMMON_H
#define RAW_COMMON_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* HOST:PORT or [HOST]:PORT into host (brackets stripped) and port.
 * Returns 0, or -1 if malformed. */
int raw_split_addr(const char *s, char *host, size_t hsz, uint16_t *port);

/* A SO_REUSEPORT listener on host:*port with TCP_NODELAY (which accepted
 * sockets inherit), nonblocking if asked. Port 0 picks a free port and
 * writes it back, so the next listener of the same set shares it. Returns
 * the socket, or -1 after a message on stderr prefixed with prog. */
int raw_listen(const char *prog, const char *host, uint16_t *port, int nonblock);

/* Raises RLIMIT_NOFILE to the hard limit, blocks SIGINT and SIGTERM (main
 * sigwait()s them in *set) in every thread to come, ignores SIGPIPE. */
void raw_process_setup(sigset_t *set);

/* The "listening on HOST:PORT" line bench/run waits for, on stdout. */
void raw_print_listening(const char *host, uint16_t port);

#endif
