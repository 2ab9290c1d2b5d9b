/*
 * test_manifest.c — inputs/manifest.c: the files each environment reads, per mode, with their
 * roles and whether they must exist; paths relative to the checkout (and absolute outside it);
 * the manifest of `validate --repo`; the tfvars layouts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "inputs/manifest.h"
#include "model/names.h"

/* One line per file: "env mode: role path required|optional", shared files under "*". */
static char *
render(const struct gp_manifest *m)
{
	struct gp_buf b = {0};

	for (size_t i = 0; i < ELEMENTSOF(m->shared); i++)
		gp_buf_printf(&b, "* %s %s %s\n", gp_input_role_to_string(m->shared[i].role),
			      m->shared[i].path, m->shared[i].required ? "required" : "optional");
	for (size_t i = 0; i < m->n_envs; i++) {
		const struct gp_manifest_env *e = &m->envs[i];

		for (size_t j = 0; j < e->n; j++)
			gp_buf_printf(&b, "%s %s: %s %s %s\n", e->name, gp_mode_to_string(e->mode),
				      gp_input_role_to_string(e->files[j].role), e->files[j].path,
				      e->files[j].required ? "required" : "optional");
	}
	return gp_buf_steal(&b);
}

static struct gp_manifest *
from_yaml(const char *yaml)
{
	struct gp_config *c = NULL;
	struct gp_manifest *m = NULL;
	struct gp_diags diags = {0};

	assert_int_equal(gp_config_parse(yaml, strlen(yaml), "/etc/gprdsd/gprdsd.yaml", &c, &diags),
			 0);
	assert_int_equal(gp_manifest_new(c, &m), 0);
	gp_config_free(c);
	gp_diags_release(&diags);
	return m;
}

static void
expect_manifest(const char *yaml, const char *want)
{
	_cleanup_(gp_manifest_freep) struct gp_manifest *m = from_yaml(yaml);
	_cleanup_free_ char *got = render(m);

	assert_string_equal(got, want);
}

#define RS "schemas/requests/rds.schema.yaml"
#define RQ "docs/20-contracts/rds-requests/"

/* auto tries the coupled file, then the standalone one, neither required; a forced mode reads
 * its one layout, which must exist. Environments keep the configuration's order; each has
 * its directory of request contracts. */
static void
test_modes(void **state)
{
	expect_manifest("repository: { path: /srv/repo, catalog: c.yaml, enums: meta/e.yaml }\n"
			"environments:\n"
			"  prod: { mode: coupled }\n"
			"  dev: {}\n"
			"  test: { mode: standalone }\n",
			"* enums meta/e.yaml optional\n"
			"* request-schema " RS " optional\n"
			"* catalog c.yaml required\n"
			"prod coupled: enums meta/e.yaml optional\n"
			"prod coupled: request-schema " RS " optional\n"
			"prod coupled: catalog c.yaml required\n"
			"prod coupled: tfvars-coupled envs/prod/terraform.tfvars required\n"
			"prod coupled: contracts " RQ "prod optional\n"
			"dev auto: enums meta/e.yaml optional\n"
			"dev auto: request-schema " RS " optional\n"
			"dev auto: catalog c.yaml required\n"
			"dev auto: tfvars-coupled envs/dev/terraform.tfvars optional\n"
			"dev auto: tfvars-standalone envs/dev-rds/terraform.tfvars optional\n"
			"dev auto: contracts " RQ "dev optional\n"
			"test standalone: enums meta/e.yaml optional\n"
			"test standalone: request-schema " RS " optional\n"
			"test standalone: catalog c.yaml required\n"
			"test standalone: tfvars-standalone envs/test-rds/terraform.tfvars "
			"required\n"
			"test standalone: contracts " RQ "test optional\n");
}

/* The configuration makes every path absolute; the manifest names the ones inside the
 * checkout relative to it (as diagnostics show them) and keeps the others absolute. */
static void
test_shared_paths(void **state)
{
	_cleanup_(gp_manifest_freep) struct gp_manifest *m =
		from_yaml("repository:\n"
			  "  path: /srv/repo/\n"
			  "  catalog: /etc/gprdsd/catalog.yaml\n"
			  "  enums: meta/enums.yaml\n"
			  "environments: { staging: { mode: standalone } }\n");
	const struct gp_manifest_env *e = gp_manifest_env(m, "staging");
	_cleanup_free_ char *enums = NULL, *catalog = NULL, *tfvars = NULL;

	assert_non_null(e);
	assert_int_equal(e->n, 5);
	assert_string_equal(e->files[0].path, "meta/enums.yaml");
	assert_string_equal(e->files[2].path, "/etc/gprdsd/catalog.yaml");
	enums = gp_manifest_path(m, &e->files[0]);
	catalog = gp_manifest_path(m, &e->files[2]);
	tfvars = gp_manifest_path(m, &e->files[3]);
	assert_string_equal(enums, "/srv/repo/meta/enums.yaml");
	assert_string_equal(catalog, "/etc/gprdsd/catalog.yaml");
	assert_string_equal(tfvars, "/srv/repo/envs/staging-rds/terraform.tfvars");
}

/* Without a configuration: every known environment in auto mode, the default catalog and
 * enums, all relative to the checkout as given (here a relative one). */
static void
test_default(void **state)
{
	_cleanup_(gp_manifest_freep) struct gp_manifest *m = NULL;
	_cleanup_free_ char *path = NULL, *got = NULL;
	const struct gp_manifest_env *e;

	assert_int_equal(gp_manifest_new_default(".", &m), 0);
	assert_int_equal(m->n_envs, GP_N_ENVIRONMENTS);
	for (size_t i = 0; i < m->n_envs; i++) {
		assert_string_equal(m->envs[i].name, gp_environments[i]);
		assert_int_equal(m->envs[i].mode, GP_MODE_AUTO);
		assert_int_equal(m->envs[i].n, 6);
	}
	e = gp_manifest_env(m, "ephemeral");
	assert_non_null(e);
	assert_int_equal(e->files[4].role, GP_INPUT_TFVARS_STANDALONE);
	assert_false(e->files[4].required);
	assert_int_equal(e->files[5].role, GP_INPUT_CONTRACTS);
	assert_true(gp_input_role_is_dir(e->files[5].role));
	assert_string_equal(e->files[5].path, RQ "ephemeral");
	path = gp_manifest_path(m, &e->files[4]);
	assert_string_equal(path, "./envs/ephemeral-rds/terraform.tfvars");
	got = render(m);
	assert_non_null(strstr(got, "* enums schemas/metadata/enums.yaml optional\n"
				    "* request-schema " RS " optional\n"
				    "* catalog docs/20-contracts/resource-catalogs/rds-catalog.yaml"
				    " required\n"));
	assert_null(gp_manifest_env(m, "qa"));
}

static void
test_roles(void **state)
{
	_cleanup_free_ char *standalone =
		gp_manifest_tfvars_path(GP_INPUT_TFVARS_STANDALONE, "<env>");
	_cleanup_free_ char *coupled = gp_manifest_tfvars_path(GP_INPUT_TFVARS_COUPLED, "dev");

	assert_string_equal(standalone, "envs/<env>-rds/terraform.tfvars");
	assert_string_equal(coupled, "envs/dev/terraform.tfvars");
	assert_null(gp_manifest_tfvars_path(GP_INPUT_CATALOG, "dev"));
	assert_null(gp_manifest_tfvars_path(GP_INPUT_REQUEST_SCHEMA, "dev"));
	assert_false(gp_input_role_is_dir(GP_INPUT_REQUEST_SCHEMA));
	assert_null(gp_manifest_tfvars_path(_GP_INPUT_ROLE_MAX, "dev"));
	assert_int_equal(gp_input_role_tfvars_mode(GP_INPUT_TFVARS_COUPLED), GP_MODE_COUPLED);
	assert_int_equal(gp_input_role_tfvars_mode(GP_INPUT_TFVARS_STANDALONE),
			 GP_MODE_STANDALONE);
	assert_int_equal(gp_input_role_tfvars_mode(GP_INPUT_CATALOG), GP_MODE_AUTO);
	assert_int_equal(gp_input_role_tfvars_mode(GP_INPUT_ENUMS), GP_MODE_AUTO);
	assert_string_equal(gp_input_role_to_string(GP_INPUT_ENUMS), "enums");
	assert_null(gp_input_role_to_string(_GP_INPUT_ROLE_MAX));
}

static void
test_no_checkout(void **state)
{
	struct gp_config c = {0};
	struct gp_manifest *m = NULL;

	assert_int_equal(gp_manifest_new(&c, &m), -EINVAL);
	assert_null(m);
	gp_manifest_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_shared_paths),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_no_checkout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
