/*
 * raw_common: see raw_common.h.
 */
#include "raw_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int raw_split_addr(const char *s, char *host, size_t hsz, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -1;
	const char *h = s;
	size_t hl = (size_t)(colon - s);
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= hsz)
		return -1;
	memcpy(host, h, hl);
	host[hl] = 0;
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] == 0 || p > 65535)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

int raw_listen(const char *prog, const char *host, uint16_t *port, int nonblock)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} a;
	memset(&a, 0, sizeof(a));
	socklen_t alen;
	if (inet_pton(AF_INET, host, &a.in.sin_addr) == 1) {
		a.in.sin_family = AF_INET;
		a.in.sin_port = htons(*port);
		alen = sizeof(a.in);
	} else if (inet_pton(AF_INET6, host, &a.in6.sin6_addr) == 1) {
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_port = htons(*port);
		alen = sizeof(a.in6);
	} else {
		fprintf(stderr, "%s: '%s' is not an IP address\n", prog, host);
		return -1;
	}
	int fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	/* accepted sockets inherit it (io_uring's direct descriptors could
	 * not be setsockopt'd later) */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, &a.sa, alen) < 0 || listen(fd, 65535) < 0) {
		fprintf(stderr, "%s: bind %s:%u: %s\n", prog, host, *port, strerror(errno));
		close(fd);
		return -1;
	}
	if (getsockname(fd, &a.sa, &alen) == 0)
		*port = ntohs(a.sa.sa_family == AF_INET ? a.in.sin_port : a.in6.sin6_port);
	return fd;
}

void raw_process_setup(sigset_t *set)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void raw_print_listening(const char *host, uint16_t port)
{
	printf(strchr(host, ':') ? "listening on [%s]:%u\n" : "listening on %s:%u\n", host, port);
	fflush(stdout);
}
