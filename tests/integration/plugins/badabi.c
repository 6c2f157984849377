/*
 * badabi.c: a plugin built for the next major ABI. ringwsd must refuse it
 * at load, naming the file, with exit status 2, and call nothing in it but
 * rws_plugin_entry(): its init() aborts the process if ever called.
 */
#include <stdlib.h>

#include "ringws_plugin.h"

static int never(const struct rws_api *api, struct rws_server *s, const char *args, void **ctx)
{
	(void)api;
	(void)s;
	(void)args;
	(void)ctx;
	abort();
}

static const struct rws_plugin badabi = {
	.abi_major = RWS_PLUGIN_ABI_MAJOR + 1,
	.abi_minor = 0,
	.struct_size = sizeof(struct rws_plugin),
	.name = "badabi",
	.init = never,
};

const struct rws_plugin *rws_plugin_entry(void)
{
	return &badabi;
}
