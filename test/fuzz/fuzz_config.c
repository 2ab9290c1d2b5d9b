/*
 * fuzz_config — gprdsd.yaml: the table-driven config parser (inputs/config.c) with its path
 * resolution and defaults, then the secret-name template of every environment it accepts.
 */
#include "fuzz.h"

#include "inputs/config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(gp_config_freep) struct gp_config *c = NULL;
	struct gp_diags diags = {0};
	int r;

	r = gp_config_parse((const char *)data, size, "/etc/gprdsd/gprdsd.yaml", &c, &diags);
	fuzz_parsed(r, c, &diags);
	if (r < 0)
		return 0;
	for (size_t i = 0; i < c->n_envs; i++) {
		char *name = gp_config_secret_name(&c->envs[i], "inventory");

		FUZZ_CHECK(gp_config_env(c, c->envs[i].name) == &c->envs[i]);
		free(name);
	}
	return 0;
}
