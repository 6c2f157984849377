/*
 * ringcat: the command-line WebSocket client and server of ringws (as
 * wscat or websocat are to theirs).
 *
 *   ringcat [options] URL                 stdin lines -> messages, messages -> stdout
 *   ringcat --listen PORT [--stdio]       echo server, or stdin/stdout to one client
 *   ringcat --autobahn BASE_URL           the Autobahn|Testsuite client agent
 *
 * This file reads the command line, handles signals and runs the client
 * mode; ringcat_link.c joins stdin and stdout to a connection,
 * ringcat_listen.c is the server mode and ringcat_autobahn.c the agent.
 * Only the public API (include/ringws.h) is used. The threads: the
 * library's reactor runs every callback (stdout is written there); the
 * main thread waits for the connection's end; a thread reads stdin and
 * sends (rws_conn_send is safe from any thread); a thread takes SIGINT and
 * SIGTERM. They meet under one lock (rc_lock, rc_cond).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ringcat.h"

struct rc_opts opt;
pthread_mutex_t rc_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t rc_cond;
int rc_signals;

static const char usage_text[] =
	"usage: ringcat [options] URL\n"
	"       ringcat --listen [HOST:]PORT [--host ADDR] [--stdio] [options]\n"
	"       ringcat --autobahn BASE_URL [--agent NAME] [--deflate]\n"
	"\n"
	"Client (URL is ws://HOST[:PORT]/PATH?QUERY or ws+unix:///SOCKET[:/PATH]):\n"
	"each line of stdin is sent as a text message (without its newline), each\n"
	"message received is written to stdout followed by a newline. At the end of\n"
	"stdin (and --wait) ringcat sends a close (1000) and waits for the server's\n"
	"answer, at most --close-wait seconds; messages that arrive before it are\n"
	"written out.\n"
	"  -b, --binary           send stdin as binary messages, one per read (at most\n"
	"                         64 KiB), and write messages out raw, without newlines\n"
	"  -x, --execute MSG      send MSG, write out the first message received, close\n"
	"  -H, --header 'N: V'    a request header (repeatable)\n"
	"  -o, --origin ORIGIN    the Origin header\n"
	"  -s, --subprotocol P    offer subprotocol P (repeatable; --listen: accept only these)\n"
	"      --deflate          offer permessage-deflate (the client's default; --listen\n"
	"                         and --autobahn: negotiate it, off by default there)\n"
	"      --no-deflate       do not\n"
	"      --proxy URL        http://[USER:PASS@]HOST:PORT as the CONNECT proxy; '' for\n"
	"                         none (default: http_proxy / no_proxy from the environment)\n"
	"      --ping-interval S  ping every S seconds; drop the connection when nothing\n"
	"                         comes back within --pong-timeout S (default: the interval)\n"
	"      --follow-redirects follow 3xx answers, at most --max-redirects N (default\n"
	"                         10; --max-redirects implies --follow-redirects)\n"
	"      --handshake-timeout S  connect and upgrade within S seconds (default 10)\n"
	"      --max-payload BYTES    largest message taken (K, M, G; default 100M; 0: none)\n"
	"  -w, --wait S           at the end of stdin, wait until no message has arrived for\n"
	"                         S seconds before closing (default 0: close at once; a\n"
	"                         server may drop the answers it has not sent yet when\n"
	"                         the close comes, as Python websockets does)\n"
	"      --close-wait S     wait for the close handshake at most S seconds (default 2;\n"
	"                         0: do not wait)\n"
	"      --ca FILE          wss://: the CAs to verify against\n"
	"      --insecure         wss://: do not verify the server's certificate\n"
	"  -q, --quiet            no informational lines on stderr\n"
	"  -h, --help             this text\n"
	"  -V, --version          the version\n"
	"\n"
	"Server:\n"
	"  -l, --listen [HOST:]PORT  serve WebSocket on PORT (0: any free port) of HOST\n"
	"                         (default 127.0.0.1, or --host ADDR); prints\n"
	"                         \"ringcat: listening on HOST:PORT\" on stderr. Every message\n"
	"                         is echoed back to its sender, any path\n"
	"      --stdio            instead: the first client gets stdin's lines and its\n"
	"                         messages go to stdout (as the client's); later clients are\n"
	"                         closed with 1013; ringcat exits when the first one closes\n"
	"\n"
	"Autobahn|Testsuite client agent:\n"
	"      --autobahn BASE_URL  ws://HOST:PORT (http:// is taken as ws://): runs every\n"
	"                         case of the fuzzing server, echoing each message, then\n"
	"                         asks it to update its reports; one line per case on stderr\n"
	"      --agent NAME       the agent's name in the reports (default ringcat)\n"
	"\n"
	"Exit status:\n"
	"  0  the connection closed normally (1000, 1001 or no code), or the run was done\n"
	"  1  the connection could not be made (refused, name not resolved, timeout, proxy,\n"
	"     wss:// without TLS), --listen cannot bind, or an --autobahn run was cut short\n"
	"  2  usage: a bad option, URL or --listen address\n"
	"  3  the server refused the upgrade (its HTTP status is printed) or answered it\n"
	"     badly (handshake, extension, redirects)\n"
	"  4  the connection closed abnormally (1006), with an error code (any but 1000,\n"
	"     1001 and 1005: the code and reason are printed), without answering our close\n"
	"     within --close-wait, or -x saw no message before the close\n"
	"SIGINT or SIGTERM: close 1000 (--listen: 1001 to every client), wait --close-wait,\n"
	"exit as the close says (0); a second signal exits at once with 130. If stdout\n"
	"is closed (EPIPE) ringcat closes with 1001 and exits 0.\n";

/* --- messages ----------------------------------------------------------------- */

static void vmsg(const char *fmt, va_list ap)
{
	char line[1024];
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* one write, so lines from different threads do not mix */
	char out[1100];
	int m = snprintf(out, sizeof(out), "ringcat: %.*s", n, line);
	if (m > 0) {
		ssize_t w = write(2, out, (size_t)m < sizeof(out) ? (size_t)m : sizeof(out) - 1);
		(void)w;
	}
}

void rc_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void rc_info(const char *fmt, ...)
{
	if (opt.quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	char m[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	rc_err("%s (ringcat --help for usage)", m);
	exit(RC_USAGE);
}

/* --- time and waiting ---------------------------------------------------------- */

long long rc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rc_wait(long long deadline_ms)
{
	if (!deadline_ms) {
		pthread_cond_wait(&rc_cond, &rc_lock);
		return 0;
	}
	long long left = deadline_ms - rc_now_ms();
	if (left <= 0)
		return ETIMEDOUT;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += left / 1000;
	ts.tv_nsec += (left % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	int rc = pthread_cond_timedwait(&rc_cond, &rc_lock, &ts);
	return rc == ETIMEDOUT && rc_now_ms() >= deadline_ms ? ETIMEDOUT : 0;
}

static void cond_init(void)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&rc_cond, &a);
	pthread_condattr_destroy(&a);
}

/* --- signals -------------------------------------------------------------------- */

static sigset_t sigs;

static void *signal_main(void *arg)
{
	(void)arg;
	for (;;) {
		int sig;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		pthread_mutex_lock(&rc_lock);
		int n = ++rc_signals;
		pthread_cond_broadcast(&rc_cond);
		pthread_mutex_unlock(&rc_lock);
		if (n >= 2) {
			rc_err("%s again: exiting at once", sig == SIGINT ? "interrupted" : "terminated");
			_exit(130);
		}
	}
	return NULL;
}

void rc_signals_start(void)
{
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	pthread_t t;
	if (pthread_create(&t, NULL, signal_main, NULL) != 0) {
		rc_err("cannot start a thread");
		exit(RC_CONNECT);
	}
	pthread_detach(t);
}

/* --- statuses ----------------------------------------------------------------- */

int rc_close_status(int code, const char *reason, const char *who)
{
	if (code == 1000 || code == 1001 || code == 1005)
		return RC_OK;
	if (code == 1006) {
		rc_err("the connection to %s closed abnormally (1006: no close frame)", who);
		return RC_CLOSED;
	}
	rc_err("the connection to %s closed with code %d%s%s", who, code,
	       reason && *reason ? ": " : "", reason ? reason : "");
	return RC_CLOSED;
}

int rc_error_status(int err)
{
	switch (err) {
	case RWS_CLIENT_E_STATUS:
	case RWS_CLIENT_E_HANDSHAKE:
	case RWS_CLIENT_E_EXTENSION:
	case RWS_CLIENT_E_REDIRECT:
	case RWS_CLIENT_E_REDIRECTS:
		return RC_HANDSHAKE;
	default:
		return RC_CONNECT;	/* errnos, the proxy, TLS */
	}
}

/* --- the client's reactor and options ------------------------------------------ */

struct rws_server *rc_client_reactor(uint32_t close_timeout_ms, size_t max_buffered)
{
	struct rws_server_options so;
	rws_server_options_default(&so);
	so.listen = 0;
	so.threads = 1;
	so.close_timeout_ms = close_timeout_ms;
	so.max_buffered = max_buffered;
	int err = 0;
	char eb[256] = "";
	struct rws_server *s = rws_server_create(&so, &err, eb, sizeof(eb));
	if (!s) {
		rc_err("cannot create the client: %s", eb[0] ? eb : rws_strerror(err));
		return NULL;
	}
	int rc = rws_server_start(s, eb, sizeof(eb));
	if (rc < 0) {
		rc_err("cannot start the client: %s", eb[0] ? eb : rws_strerror(rc));
		rws_server_destroy(s);
		return NULL;
	}
	return s;
}

void rc_client_options(struct rws_client_options *o)
{
	rws_client_options_default(o);
	o->headers = opt.headers;
	o->num_headers = opt.nheaders;
	o->protocols = opt.protocols;
	o->num_protocols = opt.nprotocols;
	o->origin = opt.origin;
	o->deflate = opt.deflate < 0 ? 1 : opt.deflate;
	o->proxy = opt.proxy;
	o->ping_interval_ms = opt.ping_interval_ms;
	o->pong_timeout_ms = opt.pong_timeout_ms;
	o->follow_redirects = opt.follow_redirects;
	if (opt.max_redirects >= 0)
		o->max_redirects = opt.max_redirects;
	if (opt.handshake_timeout_ms != UINT32_MAX)
		o->handshake_timeout_ms = opt.handshake_timeout_ms;
	if (opt.max_payload_set)
		o->max_payload = opt.max_payload;
	o->ca_file = opt.ca_file;
	o->insecure = opt.insecure;
}

/* --- the client --------------------------------------------------------------- */

static struct rc_link link_;
static int failed, fail_err;
static char fail_msg[512];

static void cl_open(void *ctx, struct rws_conn *c)
{
	struct rc_link *l = ctx;
	pthread_mutex_lock(&rc_lock);
	l->c = c;
	l->opened = 1;
	snprintf(l->protocol, sizeof(l->protocol), "%s", rws_conn_protocol(c));
	pthread_cond_broadcast(&rc_cond);
	pthread_mutex_unlock(&rc_lock);
}

static void cl_message(void *ctx, struct rws_conn *c, const void *d, size_t n, int is_text)
{
	(void)c;
	rc_link_message(ctx, d, n, is_text);
}

static void cl_pong(void *ctx, struct rws_conn *c, const void *d, size_t n)
{
	(void)c;
	rc_link_pong(ctx, d, n);
}

static void cl_close(void *ctx, struct rws_conn *c, int code, const char *r, size_t n)
{
	(void)c;
	rc_link_closed(ctx, code, r, n);
}

static void cl_error(void *ctx, struct rws_conn *c, int err, int status, const char *msg)
{
	(void)ctx, (void)c, (void)status;	/* msg names the status */
	pthread_mutex_lock(&rc_lock);
	failed = 1;
	fail_err = err;
	snprintf(fail_msg, sizeof(fail_msg), "%s", msg ? msg : rws_strerror(err));
	pthread_cond_broadcast(&rc_cond);
	pthread_mutex_unlock(&rc_lock);
}

static const struct rws_handler client_handler = {
	.struct_size = sizeof(struct rws_handler),
	.ctx = &link_,
	.on_open = cl_open,
	.on_message = cl_message,
	.on_pong = cl_pong,
	.on_close = cl_close,
	.on_error = cl_error,
};

/* -x: the message out, the first answer in, a close. */
static int execute_one(struct rc_link *l)
{
	if (rc_link_send(l, opt.execute, strlen(opt.execute), opt.binary) < 0)
		return rc_link_run(l, "the server");
	pthread_mutex_lock(&rc_lock);
	while (!l->received && !l->closed && !l->stdout_broken && !rc_signals)
		rc_wait(0);
	if (!l->received) {
		pthread_mutex_unlock(&rc_lock);
		if (!l->closed)		/* a signal, or stdout is gone */
			return rc_link_run(l, "the server");
		int st = rc_close_status(l->close_code, l->close_reason, "the server");
		if (st == RC_OK)
			rc_err("the server closed the connection (%d) before a message arrived",
			       l->close_code);
		return RC_CLOSED;
	}
	/* the answer is out: close, and wait for the handshake quietly */
	if (!l->closed) {
		l->we_closed = 1;
		rws_conn_close(l->c, 1000, NULL);
		long long deadline = rc_now_ms() + opt.close_wait_ms;
		while (!l->closed && opt.close_wait_ms && rc_wait(deadline) == 0)
			;
	}
	pthread_mutex_unlock(&rc_lock);
	return RC_OK;
}

static int client_main(void)
{
	rc_signals_start();
	/* the library drops a connection whose close goes unanswered (1006)
	 * after --close-wait; rc_link_run has its own deadline too */
	struct rws_server *s = rc_client_reactor(opt.close_wait_ms ? opt.close_wait_ms : 1, 0);
	if (!s)
		return RC_CONNECT;
	struct rws_client_options o;
	rc_client_options(&o);
	char eb[256] = "";
	int rc = rws_connect(s, opt.url, &o, &client_handler, &link_, eb, sizeof(eb));
	if (rc < 0) {
		rc_err("%s: %s", opt.url, eb[0] ? eb : rws_strerror(rc));
		return rc == -EINVAL ? RC_USAGE : RC_CONNECT;
	}
	pthread_mutex_lock(&rc_lock);
	while (!link_.opened && !failed && !rc_signals)
		rc_wait(0);
	int opened = link_.opened;
	pthread_mutex_unlock(&rc_lock);
	if (!opened) {
		if (failed) {
			rc_err("%s: %s", opt.url, fail_msg);
			rws_server_destroy(s);
			return rc_error_status(fail_err);
		}
		rc_err("interrupted before the connection opened");
		return RC_CONNECT;
	}
	rc_info("connected to %s%s%s", opt.url, link_.protocol[0] ? ", subprotocol " : "",
		link_.protocol);
	int st;
	if (opt.execute) {
		link_.first_only = 1;
		st = execute_one(&link_);
	} else {
		rc_link_start_stdin(&link_);
		st = rc_link_run(&link_, "the server");
	}
	/* a connection that ended leaves nothing to wait for: stop the
	 * reactor (one left open would be closed with 1001 first) */
	pthread_mutex_lock(&rc_lock);
	int closed = link_.closed;
	pthread_mutex_unlock(&rc_lock);
	if (closed)
		rws_server_destroy(s);
	return st;
}

/* --- the command line ------------------------------------------------------------ */

static double parse_number(const char *name, const char *v, double max)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (end == v || *end || errno || !(d >= 0) || d > max)
		usage_error("%s: '%s' is not a number from 0 to %.0f", name, v, max);
	return d;
}

static uint32_t parse_seconds(const char *name, const char *v)
{
	return (uint32_t)(parse_number(name, v, 4000000) * 1000 + 0.5);
}

static uint64_t parse_size(const char *name, const char *v)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (end == v || errno || *v == '-')
		usage_error("%s: '%s' is not a size (BYTES, with K, M or G)", name, v);
	unsigned shift = 0;
	if (*end == 'k' || *end == 'K')
		shift = 10, end++;
	else if (*end == 'm' || *end == 'M')
		shift = 20, end++;
	else if (*end == 'g' || *end == 'G')
		shift = 30, end++;
	if (*end || (shift && n > (~0ull >> shift)))
		usage_error("%s: '%s' is not a size (BYTES, with K, M or G)", name, v);
	return (uint64_t)n << shift;
}

static void parse_listen(const char *v)
{
	const char *port = v;
	const char *colon = strrchr(v, ':');
	if (colon) {
		size_t hl = (size_t)(colon - v);
		char *h;
		if (hl >= 2 && v[0] == '[' && v[hl - 1] == ']')
			h = strndup(v + 1, hl - 2);
		else
			h = strndup(v, hl);
		if (!h || !*h)
			usage_error("--listen: '%s' is not [HOST:]PORT", v);
		opt.host = h;
		port = colon + 1;
	}
	char *end;
	errno = 0;
	unsigned long p = strtoul(port, &end, 10);
	if (end == port || *end || errno || p > 65535 || *port == '-')
		usage_error("--listen: '%s' is not [HOST:]PORT (a port from 0 to 65535)", v);
	opt.port = (uint16_t)p;
	opt.listen = 1;
}

enum {
	O_DEFLATE = 256, O_NO_DEFLATE, O_PROXY, O_PING, O_PONG, O_FOLLOW, O_MAXREDIR, O_HSTIMEOUT,
	O_MAXPAYLOAD, O_CA, O_INSECURE, O_CLOSEWAIT, O_HOST, O_STDIO, O_AUTOBAHN, O_AGENT,
};

static const struct option longopts[] = {
	{ "binary", no_argument, NULL, 'b' },
	{ "execute", required_argument, NULL, 'x' },
	{ "header", required_argument, NULL, 'H' },
	{ "origin", required_argument, NULL, 'o' },
	{ "subprotocol", required_argument, NULL, 's' },
	{ "deflate", no_argument, NULL, O_DEFLATE },
	{ "no-deflate", no_argument, NULL, O_NO_DEFLATE },
	{ "proxy", required_argument, NULL, O_PROXY },
	{ "ping-interval", required_argument, NULL, O_PING },
	{ "pong-timeout", required_argument, NULL, O_PONG },
	{ "follow-redirects", no_argument, NULL, O_FOLLOW },
	{ "max-redirects", required_argument, NULL, O_MAXREDIR },
	{ "handshake-timeout", required_argument, NULL, O_HSTIMEOUT },
	{ "max-payload", required_argument, NULL, O_MAXPAYLOAD },
	{ "ca", required_argument, NULL, O_CA },
	{ "insecure", no_argument, NULL, O_INSECURE },
	{ "close-wait", required_argument, NULL, O_CLOSEWAIT },
	{ "wait", required_argument, NULL, 'w' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "listen", required_argument, NULL, 'l' },
	{ "host", required_argument, NULL, O_HOST },
	{ "stdio", no_argument, NULL, O_STDIO },
	{ "autobahn", required_argument, NULL, O_AUTOBAHN },
	{ "agent", required_argument, NULL, O_AGENT },
	{ NULL, 0, NULL, 0 },
};

static void parse(int argc, char **argv)
{
	opt.deflate = -1;
	opt.max_redirects = -1;
	opt.handshake_timeout_ms = UINT32_MAX;
	opt.close_wait_ms = 2000;
	opt.host = "127.0.0.1";
	opt.agent = "ringcat";
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":bx:H:o:s:qhVl:w:", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': opt.binary = 1; break;
		case 'x': opt.execute = optarg; break;
		case 'H':
			if (opt.nheaders == RC_MAX_LIST)
				usage_error("-H: at most %d headers", RC_MAX_LIST);
			if (!strchr(optarg, ':'))
				usage_error("-H: '%s' is not 'Name: value'", optarg);
			opt.headers[opt.nheaders++] = optarg;
			break;
		case 'o': opt.origin = optarg; break;
		case 's':
			if (opt.nprotocols == RC_MAX_LIST)
				usage_error("-s: at most %d subprotocols", RC_MAX_LIST);
			if (!*optarg)
				usage_error("-s: an empty subprotocol");
			opt.protocols[opt.nprotocols++] = optarg;
			break;
		case O_DEFLATE: opt.deflate = 1; break;
		case O_NO_DEFLATE: opt.deflate = 0; break;
		case O_PROXY: opt.proxy = optarg; break;
		case O_PING: opt.ping_interval_ms = parse_seconds("--ping-interval", optarg); break;
		case O_PONG: opt.pong_timeout_ms = parse_seconds("--pong-timeout", optarg); break;
		case O_FOLLOW: opt.follow_redirects = 1; break;
		case O_MAXREDIR:
			opt.max_redirects = (int)parse_number("--max-redirects", optarg, 1000);
			opt.follow_redirects = 1;
			break;
		case O_HSTIMEOUT:
			opt.handshake_timeout_ms = parse_seconds("--handshake-timeout", optarg);
			break;
		case O_MAXPAYLOAD:
			opt.max_payload = parse_size("--max-payload", optarg);
			opt.max_payload_set = 1;
			break;
		case O_CA: opt.ca_file = optarg; break;
		case O_INSECURE: opt.insecure = 1; break;
		case O_CLOSEWAIT: opt.close_wait_ms = parse_seconds("--close-wait", optarg); break;
		case 'w': opt.wait_ms = parse_seconds("--wait", optarg); break;
		case 'q': opt.quiet = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			exit(RC_OK);
		case 'V':
			printf("ringcat %s\n", RWS_VERSION);
			exit(RC_OK);
		case 'l': parse_listen(optarg); break;
		case O_HOST: opt.host = optarg; break;
		case O_STDIO: opt.stdio = 1; break;
		case O_AUTOBAHN: opt.autobahn = optarg; break;
		case O_AGENT: opt.agent = optarg; break;
		case ':':
			usage_error("%s needs a value", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown option -%c", optopt);
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	int rest = argc - optind;
	if (opt.listen || opt.autobahn) {
		if (opt.listen && opt.autobahn)
			usage_error("--listen and --autobahn do not go together");
		if (rest)
			usage_error("a URL and %s do not go together",
				    opt.listen ? "--listen" : "--autobahn");
		if (opt.execute)
			usage_error("-x is for the client");
	} else {
		if (rest == 0)
			usage_error("no URL");
		if (rest > 1)
			usage_error("one URL only ('%s' too)", argv[optind + 1]);
		opt.url = argv[optind];
	}
	if (opt.stdio && !opt.listen)
		usage_error("--stdio goes with --listen");
	if (!*opt.agent)
		usage_error("--agent: an empty name");
}

int main(int argc, char **argv)
{
	cond_init();
	parse(argc, argv);
	if (opt.listen)
		return rc_listen_main();
	if (opt.autobahn)
		return rc_autobahn_main();
	return client_main();
}
