/*
 * plugin.h: loading a handler plugin into ringwsd. See plugin.c.
 */
#ifndef RWSD_PLUGIN_H
#define RWSD_PLUGIN_H

#include <stddef.h>

#include "ringws_plugin.h"

/* One loaded plugin on one route. A .so routed twice is opened twice
 * (dlopen counts) and initialised twice, with a ctx for each route. */
struct rwsd_plugin {
	const char *file;		/* borrowed from the route */
	const char *name;		/* the plugin's name, for the log */
	void *dl;			/* dlopen handle */
	const struct rws_plugin *p;	/* the plugin's own table, in the .so */
	void *ctx;			/* from init() */
	int started;			/* init() succeeded: fini() is due */
	struct rws_handler handler;	/* our copy, ctx set; the server keeps a pointer */
};

/* dlopens file, calls its entry and checks the ABI before anything else.
 * Returns 0, or a negative errno with "FILE: why" in err. */
int rwsd_plugin_open(struct rwsd_plugin *pl, const char *file, char *err, size_t errlen);

/* Calls the plugin's init() with args and prepares pl->handler for
 * rws_server_route(). Returns 0, or init's negative errno with the reason
 * in err. */
int rwsd_plugin_start(struct rwsd_plugin *pl, struct rws_server *s, const char *args,
		      const char *path, char *err, size_t errlen);

/* Calls fini() if init() succeeded, then dlcloses. The server must be gone. */
void rwsd_plugin_close(struct rwsd_plugin *pl);

#endif
