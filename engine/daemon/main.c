/*
 * main.c: ringwsd, the WebSocket daemon: command line, start-up, signals.
 *
 * ringwsd is a thin program over the library: it reads its settings
 * (config.c: defaults, then the config file, then the command line), loads
 * one handler plugin per route (plugin.c), starts an rws_server and waits
 * for signals. Start-up order matters:
 *
 *   1. SIGTERM, SIGINT and SIGHUP are blocked first, before any thread
 *      exists, so every thread the library or a plugin creates inherits the
 *      mask and main alone receives them, synchronously, with sigwait():
 *      no handler runs in the middle of a reactor's work. A signal that
 *      arrives during start-up waits, pending, until sigwait() takes it.
 *      SIGPIPE is ignored: a peer that goes away must not kill the process.
 *   2. Every plugin file is opened and its ABI checked before the server is
 *      created, so a bad file costs nothing and exits with status 2.
 *   3. The server is created with the first listen address (the others
 *      are added with rws_server_listen()) and the library's log lines
 *      routed into ours (lib_log), each TLS address gets its certificates
 *      (rws_server_tls(): files read and keys checked now, before any
 *      plugin's init(), so a bad one is a config error that costs
 *      nothing), each plugin's init() runs with the server, routes are
 *      registered, and the server starts. Then one line per address,
 *      "ringwsd: listening on HOST:PORT (N reactors)", or "(TLS, N
 *      reactors)", the first address's first, with the bound port: scripts
 *      and tests read the port from it.
 *
 * Exit status: 0 after a signalled shutdown, 2 for a usage or config error,
 * a certificate or key the library refuses, or a plugin refused at load
 * (restarting cannot help: the unit file's RestartPreventExitStatus=2 uses
 * this), 1 for a failure at run time (the server cannot start, a plugin's
 * init() fails).
 *
 * Every message is one line on stderr (log.c): failures as
 * "ringwsd: error: ...", oddities as "ringwsd: warning: ...", the rest with
 * no level word; --log-level (log-level in the file) drops lines below a
 * level, and debug adds the settings and routes in effect.
 *
 * Shutdown (SIGTERM, SIGINT): rws_server_shutdown() sends 1001 to every
 * client and waits for the close handshakes, then the server is destroyed
 * before the plugins' fini() (a handler's ctx must outlive the server) and
 * the plugins are unloaded. A second SIGTERM or SIGINT meanwhile exits at
 * once with status 1.
 *
 * SIGHUP reloads the TLS certificates: main reads every TLS address's
 * certificate and key files again, in the sigwait() loop, so a reload
 * never runs inside a reactor's work nor at the same time as another
 * reload or the shutdown. The library swaps all of them or none: on a
 * failure the old ones stay and the server keeps running. (During a
 * shutdown SIGHUP is ignored.)
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/plugin.h"

#ifndef RWSD_VERSION
#define RWSD_VERSION RWS_VERSION
#endif

#define EXIT_USAGE 2

/* A byte count as the options take it: 1048576 is "1M". */
static void fmt_bytes(uint64_t n, char *out, size_t len)
{
	static const char unit[] = "GMK";

	for (int i = 0; i < 3; i++) {
		unsigned shift = 30 - 10 * (unsigned)i;
		if (n && n % (1ull << shift) == 0) {
			snprintf(out, len, "%llu%c", (unsigned long long)(n >> shift), unit[i]);
			return;
		}
	}
	snprintf(out, len, "%llu", (unsigned long long)n);
}

/* The defaults shown are the library's own, so they cannot drift. */
static void usage(FILE *f)
{
	struct rws_server_options o;
	char payload[32], buffered[32], rbsize[32], inline_max[32];

	rws_server_options_default(&o);
	fmt_bytes(o.deflate_inline_max, inline_max, sizeof(inline_max));
	fmt_bytes(o.max_payload, payload, sizeof(payload));
	fmt_bytes(o.max_buffered, buffered, sizeof(buffered));
	fmt_bytes(o.recv_buffer_size, rbsize, sizeof(rbsize));
	fprintf(f,
		"usage: ringwsd [options]\n"
		"\n"
		"  --listen HOST:PORT         listen address (127.0.0.1:8080); [::1]:PORT for IPv6,\n"
		"                             port 0 for an ephemeral port; repeat for more addresses\n"
		"  --tls-cert FILE            serve TLS (wss://) with this certificate chain (PEM) ...\n"
		"  --tls-key FILE             ... and its private key (PEM): give them as pairs, on\n"
		"                             every address without TLS settings of its own; repeat\n"
		"                             the pair for more certificates (the first is the\n"
		"                             default, the client's SNI name picks among them)\n"
		"  --route PATH=PLUGIN.so     route connections to PATH (\"*\": any path) to a plugin;\n"
		"                             repeat for more routes\n"
		"  --arg PATH=STRING          the argument string of PATH's plugin (\"\")\n"
		"  --threads N                reactor threads (0: one per core)\n"
		"  --config FILE              read settings and routes from FILE first\n"
		"  --max-payload BYTES        largest message accepted (%s; 0: no limit)\n"
		"  --max-connections N        answer 503 beyond N connections (%u; 0: no limit)\n"
		"  --handshake-timeout MS     time allowed for the opening handshake (%u)\n"
		"  --ping-interval MS         ping every open connection this often and drop\n"
		"                             one silent past --pong-timeout (0: off)\n"
		"  --pong-timeout MS          how long a pinged peer has to send anything\n"
		"                             (0: the interval)\n"
		"  --close-timeout MS         time allowed for the closing handshake (%u)\n"
		"  --max-buffered BYTES       per-connection send queue bound (%s)\n"
		"  --backpressure close|refuse  past the bound: close with 1008, or refuse sends (%s)\n"
		"  --trusted-proxy ADDR[,ADDR]  believe X-Forwarded-For from these peers only\n"
		"  --log-level LEVEL          error, warning, info or debug: drop lines below it (info)\n"
		"  --recv-buffers N           receive buffers per reactor, a power of two (%u)\n"
		"  --recv-buffer-size BYTES   bytes per receive buffer (%s)\n"
		"  --send-zc-min BYTES        send frames this large and up zero-copy (0: never)\n"
		"  --deflate[=on|off]         permessage-deflate with clients that offer it (off)\n"
		"  --deflate-threshold BYTES  send smaller messages uncompressed (%u)\n"
		"  --deflate-level N          libdeflate level, 1 to 12 (%d)\n"
		"  --deflate-client-context[=on|off]  let clients keep their compression context\n"
		"                             (a window per connection here) instead of asking\n"
		"                             for client_no_context_takeover (off)\n"
		"  --deflate-server-max-window-bits N  8 to 15, 0 meaning 15 (15): below 15 it\n"
		"                             is answered, and messages go out uncompressed\n"
		"  --deflate-client-max-window-bits N  8 to 15, 0 meaning 15 (15): the largest\n"
		"                             window a client offering client_max_window_bits\n"
		"                             may use\n"
		"  --deflate-concurrency N    compression pool threads, 1 to 256 (%d)\n"
		"  --deflate-inline-max BYTES  compress and inflate messages up to this size on\n"
		"                             the reactor, larger ones in the pool (%s; 0: all\n"
		"                             in the pool)\n"
		"  --help                     this text\n"
		"  --version                  version and plugin ABI\n"
		"\n"
		"BYTES take a K, M or G suffix. Options override the config file's settings;\n"
		"--opt=VALUE works as well as --opt VALUE. In the file, a [route PATH] section\n"
		"may set deflate, deflate-threshold, deflate-level, deflate-client-context and\n"
		"the two window sizes for that route alone; a [listen HOST:PORT] section adds\n"
		"an address with tls-cert/tls-key pairs of its own, or tls = off. SIGHUP reloads\n"
		"the TLS certificates. Exit status: 2 for a usage, config, certificate or plugin\n"
		"error, 1 for a failure at run time, 0 after SIGTERM or SIGINT.\n",
		payload, o.max_connections, o.handshake_timeout_ms, o.close_timeout_ms, buffered,
		o.backpressure == RWS_BP_REFUSE ? "refuse" : "close", o.recv_buffers, rbsize,
		o.deflate_threshold, o.deflate_level, o.deflate_concurrency, inline_max);
}

/* What the command line says, kept until the config file has been read. */
struct cmdline {
	const char *config;
	const char **set;	/* name, value pairs for rwsd_config_set() */
	size_t nset;
	const char **route;	/* PATH=PLUGIN */
	size_t nroute;
	const char **arg;	/* PATH=STRING */
	size_t narg;
};

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rwsd_vlog(RWSD_LOG_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(EXIT_USAGE);
}

/* Splits "--name=value" or "--name value"; both options that take a value. */
static void parse_cmdline(int argc, char **argv, struct cmdline *cl)
{
	/* each array can hold at most one entry per argument */
	cl->set = calloc((size_t)argc * 2 + 1, sizeof(char *));
	cl->route = calloc((size_t)argc + 1, sizeof(char *));
	cl->arg = calloc((size_t)argc + 1, sizeof(char *));
	if (!cl->set || !cl->route || !cl->arg)
		die_usage("out of memory");

	for (int i = 1; i < argc; i++) {
		char *a = argv[i], *eq, *value;
		size_t nlen;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(a, "--version") == 0) {
			printf("ringwsd %s (plugin ABI %d.%d)\n", RWSD_VERSION, RWS_PLUGIN_ABI_MAJOR,
			       RWS_PLUGIN_ABI_MINOR);
			exit(0);
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
			die_usage("unexpected argument '%s' (see ringwsd --help)", a);

		eq = strchr(a, '=');
		nlen = eq ? (size_t)(eq - a) : strlen(a);

		/* the name must be known before we take the next argument as its value */
		const char *name = NULL;
		static const char *const own[] = { "--config", "--route", "--arg" };
		for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
			if (strlen(own[k]) == nlen && strncmp(a, own[k], nlen) == 0)
				name = own[k];
		if (!name)
			name = rwsd_config_setting(a + 2, nlen - 2);
		if (!name)
			die_usage("unknown option '%.*s' (see ringwsd --help)", (int)nlen, a);

		if (eq)
			value = eq + 1;
		else if (rwsd_config_is_flag(a + 2, nlen - 2))
			value = "on";	/* --deflate alone turns it on */
		else if (i + 1 < argc)
			value = argv[++i];
		else
			die_usage("option '%s' needs a value", a);

		if (strcmp(name, "--config") == 0) {
			cl->config = value;
		} else if (strcmp(name, "--route") == 0) {
			cl->route[cl->nroute++] = value;
		} else if (strcmp(name, "--arg") == 0) {
			cl->arg[cl->narg++] = value;
		} else {
			cl->set[2 * cl->nset] = name;
			cl->set[2 * cl->nset + 1] = value;
			cl->nset++;
		}
	}
}

/* Defaults, then the file, then the command line. Exits 2 on any error. */
static void build_config(struct rwsd_config *cfg, const struct cmdline *cl)
{
	char err[768];

	if (rwsd_config_init(cfg) < 0)
		die_usage("out of memory");
	if (cl->config && rwsd_config_load(cfg, cl->config, err, sizeof(err)) < 0)
		die_usage("%s", err);

	cfg->source = RWSD_SRC_CMDLINE;	/* the first --listen replaces the file's list */
	for (size_t i = 0; i < cl->nset; i++)
		if (rwsd_config_set(cfg, cl->set[2 * i], cl->set[2 * i + 1], err, sizeof(err)) < 0)
			die_usage("--%s: %s", cl->set[2 * i], err);

	for (size_t i = 0; i < cl->nroute; i++) {
		const char *r = cl->route[i], *eq = strchr(r, '=');
		if (!eq || eq == r || !eq[1])
			die_usage("--route: '%s' is not PATH=PLUGIN.so", r);
		char *path = strndup(r, (size_t)(eq - r));
		if (!path)
			die_usage("out of memory");
		if (rwsd_config_route(cfg, path, eq + 1, err, sizeof(err)) < 0)
			die_usage("--route: %s", err);
		free(path);
	}

	for (size_t i = 0; i < cl->narg; i++) {
		const char *a = cl->arg[i], *eq = strchr(a, '=');
		if (!eq || eq == a)
			die_usage("--arg: '%s' is not PATH=STRING", a);
		char *path = strndup(a, (size_t)(eq - a));
		if (!path)
			die_usage("out of memory");
		int r = rwsd_config_args(cfg, path, eq + 1);
		if (r == -ENOENT)
			die_usage("--arg: no route has the path %s", path);
		if (r < 0)
			die_usage("out of memory");
		free(path);
	}

	if (rwsd_config_finish(cfg, err, sizeof(err)) < 0)
		die_usage("%s", err);
	if (cfg->nroutes == 0)
		die_usage("no routes: give --route PATH=PLUGIN.so or a [route PATH] section "
			  "(see ringwsd --help)");
}

/* The library's lines (a TLS handshake that failed, a plaintext client on
 * a TLS port ...) go into our log at their own level, from whichever
 * thread saw them: "ringwsd: 127.0.0.1:5555: not TLS: ...". */
static void lib_log(void *ctx, int level, const char *line)
{
	enum rwsd_log_level l;

	(void)ctx;
	switch (level) {
	case RWS_LOG_ERROR: l = RWSD_LOG_ERROR; break;
	case RWS_LOG_WARNING: l = RWSD_LOG_WARNING; break;
	case RWS_LOG_INFO: l = RWSD_LOG_INFO; break;
	default: l = level < RWS_LOG_ERROR ? RWSD_LOG_ERROR : RWSD_LOG_DEBUG; break;
	}
	rwsd_log_at(l, "%s", line);
}

/* Gives each TLS address its certificates; listen_at[i] is address i's
 * index (0 for the first). Returns the number of TLS addresses, or -1
 * after logging the failure. */
static int setup_tls(struct rws_server *server, const struct rwsd_config *cfg,
		     const int *listen_at)
{
	char err[768], addr[96];
	int n = 0, r;

	for (size_t i = 0; i < cfg->nlistens; i++) {
		const struct rwsd_listen *l = &cfg->listens[i];
		const struct rwsd_certs *cs = rwsd_listen_certs(cfg, l);

		rwsd_config_format_addr(l->host, l->port, addr, sizeof(addr));
		if (!cs) {
			if (l->tls == RWSD_TLS_OFF)
				rwsd_debug("listen %s: plaintext (tls = off, %s)", addr, l->section);
			continue;
		}
		for (size_t k = 0; k < cs->n; k++) {
			const struct rwsd_cert *ct = &cs->v[k];
			err[0] = '\0';
			r = rws_server_tls(server, i ? listen_at[i] : 0, ct->cert, ct->key, err,
					   sizeof(err));
			if (r < 0) {
				rwsd_error("tls: %s (the pair from %s, for %s)",
					   err[0] ? err : rws_strerror(r), ct->origin, addr);
				return -1;
			}
			rwsd_debug("listen %s: TLS certificate %s, key %s (%s)", addr, ct->cert,
				   ct->key, ct->origin);
		}
		n++;
	}
	return n;
}

/* SIGHUP: every TLS address reads its certificate and key files again
 * (ntls: how many there are). The library changes all or nothing, so a
 * failure leaves the old certificates serving. */
static void reload_tls(struct rws_server *server, int ntls)
{
	char err[768];
	int r;

	if (ntls == 0) {
		rwsd_warning("SIGHUP: no TLS listener, nothing to reload");
		return;
	}
	err[0] = '\0';
	if ((r = rws_server_tls_reload(server, err, sizeof(err))) < 0)
		rwsd_error("SIGHUP: TLS reload failed: %s; keeping the old certificates",
			   err[0] ? err : rws_strerror(r));
	else
		rwsd_log("SIGHUP: reloaded %d TLS certificate%s", r, r == 1 ? "" : "s");
}

/* A debug line with the deflate settings of the server (o) or of a route
 * (d): "WHO: deflate on, deflate-threshold 1K, ...". */
static void log_deflate(const char *who, const struct rws_server_options *o,
			const struct rws_deflate_options *d)
{
	char threshold[32], inline_max[32];

	if (o) {
		fmt_bytes(o->deflate_threshold, threshold, sizeof(threshold));
		fmt_bytes(o->deflate_inline_max, inline_max, sizeof(inline_max));
		rwsd_debug("%s: deflate %s, deflate-threshold %s, deflate-level %d, "
			   "deflate-client-context %s, deflate-server-max-window-bits %d, "
			   "deflate-client-max-window-bits %d, deflate-concurrency %d, "
			   "deflate-inline-max %s", who, o->deflate ? "on" : "off", threshold,
			   o->deflate_level, o->deflate_client_context ? "on" : "off",
			   o->deflate_server_max_window_bits, o->deflate_client_max_window_bits,
			   o->deflate_concurrency, inline_max);
	} else {
		fmt_bytes(d->threshold, threshold, sizeof(threshold));
		rwsd_debug("%s: deflate %s, deflate-threshold %s, deflate-level %d, "
			   "deflate-client-context %s, deflate-server-max-window-bits %d, "
			   "deflate-client-max-window-bits %d", who, d->enabled ? "on" : "off",
			   threshold, d->level, d->client_context ? "on" : "off",
			   d->server_max_window_bits, d->client_max_window_bits);
	}
}

/* Gives route rt the deflate settings its section asks for: the server's,
 * with the keys it gave in their place. Returns 0, or the exit status. */
static int route_deflate(struct rws_server *server, const struct rwsd_route *rt)
{
	struct rws_deflate_options d;
	char keys[1024], who[300];
	int r;

	if (!rwsd_route_has_deflate(rt))
		return 0;
	rws_server_deflate_defaults(server, &d);
	rwsd_route_deflate_apply(rt, &d);
	if ((r = rws_server_route_deflate(server, rt->path, &d)) < 0) {
		rwsd_route_deflate_describe(rt, keys, sizeof(keys));
		rwsd_error("route %s (%s): its permessage-deflate settings are refused: %s; "
			   "they are %s", rt->path, rt->origin, rws_strerror(r), keys);
		return r == -EINVAL ? EXIT_USAGE : 1;
	}
	snprintf(who, sizeof(who), "route %s", rt->path);
	log_deflate(who, NULL, &d);
	return 0;
}

/* The reactor count the library will choose (ringws.h: one per online core). */
/* One line per reactor: how many connections it took, so an operator (and
 * the tests) can see the kernel spread them over every reactor. */
static void log_reactor_stats(const struct rws_server *s)
{
	struct rws_reactor_stats st[256];
	int n = rws_server_stats(s, st, 256);
	for (int i = 0; i < n && i < 256; i++)
		rwsd_log("reactor %d: %llu connections accepted, %llu receive-buffer shortages, "
			 "%llu zero-copy sends", i, (unsigned long long)st[i].accepted,
			 (unsigned long long)st[i].enobufs, (unsigned long long)st[i].zc_sends);
}

/* During a graceful shutdown (up to the close timeout) a second SIGTERM or
 * SIGINT means "now": exit without waiting for clients. */
static void *second_signal(void *arg)
{
	const sigset_t *sigs = arg;
	int sig;

	while (sigwait(sigs, &sig) != 0 || sig == SIGHUP)
		;
	rwsd_warning("second signal: exiting without waiting for clients");
	_exit(1);
}

static void close_plugins(struct rwsd_plugin *pl, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rwsd_plugin_close(&pl[i]);
}

int main(int argc, char **argv)
{
	struct cmdline cl = { 0 };
	struct rwsd_config cfg;
	struct rwsd_plugin *plugins;
	struct rws_server *server;
	int *listen_at = NULL;
	sigset_t sigs;
	char err[768], addr[96];
	int r, sig, ntls, status = 1;

	/* Messages are assembled and sent from the heap. glibc's defaults give
	 * the top of a thread's heap back to the kernel as soon as 128 KiB are
	 * free there, so a steady stream of 64 KiB messages pays a madvise and
	 * fresh page faults for each; and allocations past its dynamic mmap
	 * threshold pay an mmap each. Keep up to 64 MiB of free heap, and
	 * serve messages up to 4 MiB from it. (After a burst of handshakes
	 * the reactors trim explicitly.) */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);

	/* A shell starts background jobs with SIGINT ignored, and an ignored
	 * signal is dropped even while blocked: restore the default first so
	 * sigwait() sees it. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);

	parse_cmdline(argc, argv, &cl);
	build_config(&cfg, &cl);
	rwsd_log_set_level(cfg.log_level);	/* before any thread: log.h */
	free(cl.set);
	free(cl.route);
	free(cl.arg);

	/* every plugin passes its ABI check before the server exists */
	if (!(plugins = calloc(cfg.nroutes, sizeof(*plugins))))
		die_usage("out of memory");
	for (size_t i = 0; i < cfg.nroutes; i++) {
		if (rwsd_plugin_open(&plugins[i], cfg.routes[i].plugin, err, sizeof(err)) < 0) {
			close_plugins(plugins, i);
			die_usage("%s", err);
		}
	}

	if (cfg.log_level >= RWSD_LOG_DEBUG) {
		char payload[32], buffered[32];
		fmt_bytes(cfg.opts.max_payload, payload, sizeof(payload));
		fmt_bytes(cfg.opts.max_buffered, buffered, sizeof(buffered));
		rwsd_debug("settings: threads %d, max-payload %s, max-connections %u, "
			   "handshake-timeout %u, close-timeout %u, max-buffered %s, backpressure %s",
			   cfg.opts.threads, payload, cfg.opts.max_connections,
			   cfg.opts.handshake_timeout_ms, cfg.opts.close_timeout_ms, buffered,
			   cfg.opts.backpressure == RWS_BP_REFUSE ? "refuse" : "close");
		log_deflate("settings", &cfg.opts, NULL);
	}

	cfg.opts.log = lib_log;
	cfg.opts.log_ctx = NULL;
	err[0] = '\0';
	if (!(server = rws_server_create(&cfg.opts, &r, err, sizeof(err)))) {
		rwsd_error("cannot create the server: %s", err[0] ? err : rws_strerror(r));
		close_plugins(plugins, cfg.nroutes);
		goto out;
	}
	/* listen_at[i]: address i's index for rws_server_port_at() */
	if (!(listen_at = calloc(cfg.nlistens, sizeof(*listen_at)))) {
		rwsd_error("out of memory");
		goto err_server;
	}
	for (size_t i = 1; i < cfg.nlistens; i++) {
		struct rwsd_listen *l = &cfg.listens[i];
		if ((r = rws_server_listen(server, l->host, l->port)) < 0) {
			rwsd_config_format_addr(l->host, l->port, addr, sizeof(addr));
			rwsd_error("listen %s: %s", addr, rws_strerror(r));
			goto err_server;
		}
		listen_at[i] = r;
	}
	if ((ntls = setup_tls(server, &cfg, listen_at)) < 0) {
		status = EXIT_USAGE;
		goto err_server;
	}
	for (size_t i = 0; i < cfg.nroutes; i++) {
		struct rwsd_route *rt = &cfg.routes[i];
		/* the args stay out of the log: they may be a secret (a token) */
		rwsd_debug("route %s: plugin '%s' from %s (%s)", rt->path, plugins[i].name,
			   rt->plugin, rt->origin);
		if (rwsd_plugin_start(&plugins[i], server, rt->args, rt->path, err, sizeof(err)) < 0) {
			rwsd_error("%s", err);
			goto err_server;
		}
		if ((r = rws_server_route(server, rt->path, &plugins[i].handler)) < 0) {
			rwsd_error("route %s (%s): %s", rt->path, rt->origin, rws_strerror(r));
			goto err_server;
		}
		if ((r = route_deflate(server, rt)) != 0) {
			status = r;
			goto err_server;
		}
	}

	err[0] = '\0';
	if ((r = rws_server_start(server, err, sizeof(err))) < 0) {
		rwsd_error("%s", err[0] ? err : rws_strerror(r));
		goto err_server;
	}
	for (size_t i = 0; i < cfg.nlistens; i++) {
		uint16_t port = i ? rws_server_port_at(server, listen_at[i]) : rws_server_port(server);
		rwsd_config_format_addr(cfg.listens[i].host, port, addr, sizeof(addr));
		rwsd_log("listening on %s (%s%d reactors)", addr,
			 rwsd_listen_certs(&cfg, &cfg.listens[i]) ? "TLS, " : "",
			 rws_server_stats(server, NULL, 0));
	}

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload_tls(server, ntls);
			continue;
		}
		break;
	}
	rwsd_log("shutting down");
	pthread_t waiter;
	if (pthread_create(&waiter, NULL, second_signal, &sigs) == 0)
		pthread_detach(waiter);
	rws_server_shutdown(server);
	log_reactor_stats(server);
	status = 0;

err_server:
	rws_server_destroy(server);
	close_plugins(plugins, cfg.nroutes);
out:
	free(listen_at);
	free(plugins);
	rwsd_config_free(&cfg);
	return status;
}
