/*
 * newminor.c: a plugin built for a newer minor ABI than ringwsd's. It may
 * rely on table entries this ringwsd lacks, so it must be refused at load,
 * naming the file, with exit status 2, and its init() never called.
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

static const struct rws_plugin newminor = {
	.abi_major = RWS_PLUGIN_ABI_MAJOR,
	.abi_minor = RWS_PLUGIN_ABI_MINOR + 1,
	.struct_size = sizeof(struct rws_plugin),
	.name = "newminor",
	.init = never,
};

const struct rws_plugin *rws_plugin_entry(void)
{
	return &newminor;
}
