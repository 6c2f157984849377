/*
 * failinit.c: a plugin whose init() refuses to start with -EINVAL, as a
 * real one does when its argument string is wrong. ringwsd must exit
 * non-zero with a message naming the plugin, and never call fini() for it.
 */
#include <errno.h>
#include <stdlib.h>

#include "ringws_plugin.h"

static int failinit_init(const struct rws_api *api, struct rws_server *s, const char *args,
			 void **ctx)
{
	(void)s;
	(void)ctx;
	api->log("failinit", "refusing to start (args '%s')", args);
	return -EINVAL;
}

static void failinit_fini(void *ctx)
{
	(void)ctx;
	abort();	/* init failed: fini must not run */
}

static const struct rws_plugin failinit = {
	.abi_major = RWS_PLUGIN_ABI_MAJOR,
	.abi_minor = RWS_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rws_plugin),
	.name = "failinit",
	.init = failinit_init,
	.fini = failinit_fini,
};

const struct rws_plugin *rws_plugin_entry(void)
{
	return &failinit;
}
