/*
 * test_contract.c — request contracts and the request schema (inputs/contract.c,
 * inputs/schema.c). Golden files: test/golden/contract/<env>/NAME.yaml → NAME.out (the
 * contract filed in the directory of <env>, checked with the built-in schema), and
 * test/golden/schema/NAME.yaml → NAME.out (the schema a file gives, or its errors);
 * regenerated with GPRDSD_UPDATE_GOLDEN=1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "golden.h"

#include <dirent.h>
#include <stdio.h>

#include "base/doc.h"
#include "inputs/contract.h"
#include "inputs/schema.h"

#ifndef GOLDEN_DIR
#error "GOLDEN_DIR must be defined by the build"
#endif

#define EXAMPLE_SCHEMA GOLDEN_DIR "/../../config/example-repo/schemas/requests/rds.schema.yaml"

/* Enums as a checkout's enums.yaml gives them: owners and domains listed. */
static void
test_enums(struct gp_enums *e)
{
	static const char *const owners[] = {"app-team", "data-team", "platform-team"};
	static const char *const domains[] = {"catalog", "payments", "identity"};

	assert_int_equal(gp_enums_init_default(e), 0);
	for (size_t i = 0; i < ELEMENTSOF(owners); i++)
		assert_int_equal(gp_strv_push(&e->owners, owners[i]), 0);
	for (size_t i = 0; i < ELEMENTSOF(domains); i++)
		assert_int_equal(gp_strv_push(&e->domains, domains[i]), 0);
}

static void
dump_diags(struct gp_buf *out, const struct gp_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		gp_diag_format(&d->v[i], out);
		gp_buf_putc(out, '\n');
	}
}

/* Reads text as a contract of dir_env; the dump and the diagnostics into out. */
static const struct gp_contract *
read_contract(struct gp_contracts *cs, const char *text, size_t len, const char *name,
	      const char *dir_env, const struct gp_schema *s, struct gp_diags *d)
{
	struct gp_enums e;
	int r;

	test_enums(&e);
	r = gp_contracts_read(cs, text, len, name, dir_env, s, &e, d);
	gp_enums_release(&e);
	assert_int_equal(r, 0);
	return &cs->v[cs->n - 1];
}

static void
golden_contract(const char *env, const char *file, const struct gp_schema *s)
{
	char path[4096], name[512], out_name[512];
	struct gp_contracts cs = {0};
	struct gp_diags d = {0};
	struct gp_buf out = {0};
	size_t len, n = strlen(file) - strlen(".yaml");
	char *text;

	snprintf(path, sizeof(path), "%s/contract/%s/%s", GOLDEN_DIR, env, file);
	snprintf(name, sizeof(name), "rds-requests/%s/%s", env, file);
	snprintf(out_name, sizeof(out_name), "contract/%s/%.*s.out", env, (int)n, file);
	text = test_read_file(path, &len);
	assert_non_null(text);
	gp_contract_dump(read_contract(&cs, text, len, name, env, s, &d), &out);
	dump_diags(&out, &d);
	assert_int_equal(golden_check(out_name, out.p), 0);
	free(text);
	gp_buf_release(&out);
	gp_diags_release(&d);
	gp_contracts_release(&cs);
}

static bool
is_yaml(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".yaml") == 0;
}

static void
test_golden_contracts(void **state)
{
	static const char *const envs[] = {"dev", "prod"};
	_cleanup_(gp_schema_freep) struct gp_schema *s = NULL;

	(void)state;
	assert_int_equal(gp_schema_new_default(&s), 0);
	for (size_t i = 0; i < ELEMENTSOF(envs); i++) {
		char dir[4096];
		struct dirent **names;
		int n;

		snprintf(dir, sizeof(dir), "%s/contract/%s", GOLDEN_DIR, envs[i]);
		n = scandir(dir, &names, NULL, alphasort);
		assert_true(n > 0);
		for (int k = 0; k < n; k++) {
			if (is_yaml(names[k]->d_name))
				golden_contract(envs[i], names[k]->d_name, s);
			free(names[k]);
		}
		free(names);
	}
}

/* The verdict on one contract text (dev) under schema s: valid or the first problem. */
static void
assert_verdict(const struct gp_schema *s, const char *text, const char *problem)
{
	struct gp_contracts cs = {0};
	struct gp_diags d = {0};
	const struct gp_contract *c =
		read_contract(&cs, text, strlen(text), "RDS-0001.yaml", "dev", s, &d);

	if (problem) {
		assert_false(c->valid);
		assert_string_equal(c->problem, problem);
	} else {
		assert_true(c->valid);
		assert_null(c->problem);
	}
	gp_diags_release(&d);
	gp_contracts_release(&cs);
}

#define CONTRACT(db, storage)                                                                     \
	"id: RDS-0001\nservice: postgres\nenvironment: dev\nowner: app-team\n"                     \
	"requester: daniel-deans\nspec:\n  databaseName: " db "\n  username: some_app\n"           \
	"  size: small\n  domain: catalog\n  storageGb: " storage "\n"

static struct gp_schema *
schema_file(const char *file, int want, struct gp_diags *d)
{
	char path[4096];
	struct gp_doc *doc = NULL;
	struct gp_schema *s = NULL;
	size_t len;
	char *text;

	snprintf(path, sizeof(path), "%s/schema/%s", GOLDEN_DIR, file);
	text = test_read_file(path, &len);
	assert_non_null(text);
	assert_int_equal(gp_yaml_parse(text, len, file, &doc, d), 0);
	assert_int_equal(gp_schema_extract(doc, &s, d), want);
	gp_doc_free(doc);
	free(text);
	return s;
}

/* A schema file present, absent, or different: its values win over the built-in rules. */
static void
test_schema_file_decides(void **state)
{
	_cleanup_(gp_schema_freep) struct gp_schema *builtin = NULL;
	struct gp_diags d = {0};
	struct gp_schema *stricter = schema_file("stricter.yaml", 0, &d);

	(void)state;
	assert_int_equal(d.n, 0);
	assert_int_equal(gp_schema_new_default(&builtin), 0);
	assert_verdict(builtin, CONTRACT("customer_orders", "200"), NULL);
	assert_verdict(stricter, CONTRACT("orders", "100"), NULL);
	assert_verdict(stricter, CONTRACT("customer_orders", "100"),
		       "spec.databaseName \"customer_orders\" must match ^[a-z][a-z0-9_]{2,8}$");
	assert_verdict(stricter, CONTRACT("orders", "200"), "spec.storageGb 200 must be at most 100");
	/* What the file lacks keeps the built-in rule. */
	assert_verdict(stricter, CONTRACT("orders", "10"), "spec.storageGb 10 must be at least 20");
	assert_verdict(stricter, CONTRACT("pg_orders", "20"),
		       "spec.databaseName \"pg_orders\" is reserved (prefix pg_ belongs to "
		       "PostgreSQL)");
	gp_schema_free(stricter);
	gp_diags_release(&d);
}

static void
golden_schema(const char *file, int want)
{
	char out_name[256];
	struct gp_diags d = {0};
	struct gp_buf out = {0};
	struct gp_schema *s = schema_file(file, want, &d);

	if (s)
		gp_schema_dump(s, &out);
	dump_diags(&out, &d);
	snprintf(out_name, sizeof(out_name), "schema/%.*s.out", (int)(strlen(file) - 5), file);
	assert_int_equal(golden_check(out_name, out.p ? out.p : ""), 0);
	gp_schema_free(s);
	gp_buf_release(&out);
	gp_diags_release(&d);
}

static void
test_golden_schemas(void **state)
{
	_cleanup_(gp_schema_freep) struct gp_schema *s = NULL;
	struct gp_buf out = {0};

	(void)state;
	assert_int_equal(gp_schema_new_default(&s), 0);
	assert_false(s->from_file);
	gp_schema_dump(s, &out);
	assert_int_equal(golden_check("schema/builtin.out", out.p), 0);
	gp_buf_release(&out);
	golden_schema("stricter.yaml", 0);
	golden_schema("bad.yaml", -EINVAL);
}

/* The example repository's schema file says what the built-in rules say. */
static void
test_example_schema_is_builtin(void **state)
{
	_cleanup_(gp_schema_freep) struct gp_schema *builtin = NULL, *file = NULL;
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;
	struct gp_buf a = {0}, b = {0};
	struct gp_diags d = {0};
	size_t len;
	char *text = test_read_file(EXAMPLE_SCHEMA, &len);

	(void)state;
	assert_non_null(text);
	assert_int_equal(gp_yaml_parse(text, len, "rds.schema.yaml", &doc, &d), 0);
	assert_int_equal(gp_schema_extract(doc, &file, &d), 0);
	assert_int_equal(d.n, 0);
	assert_true(file->from_file);
	assert_int_equal(gp_schema_new_default(&builtin), 0);
	gp_schema_dump(builtin, &a);
	gp_schema_dump(file, &b);
	assert_string_equal(a.p, b.p);
	gp_buf_release(&a);
	gp_buf_release(&b);
	gp_diags_release(&d);
	free(text);
}

/* The field table: snake_case properties and camelCase keys, one to one. */
static void
test_field_table(void **state)
{
	(void)state;
	for (int f = 0; f < _GP_REQ_FIELD_MAX; f++) {
		assert_int_equal(gp_req_field_from_property(gp_req_field_property(f)), f);
		assert_int_equal(gp_req_field_from_key(gp_req_field_key(f)), f);
	}
	assert_string_equal(gp_req_field_key(GP_REQ_MAX_STORAGE_GB), "maxStorageGb");
	assert_string_equal(gp_req_field_property(GP_REQ_MAX_STORAGE_GB), "max_storage_gb");
	assert_int_equal(gp_req_field_from_key("max_storage_gb"), -EINVAL);
	assert_true(gp_req_field_identity(GP_REQ_REQUESTER));
	assert_false(gp_req_field_identity(GP_REQ_RISK));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_table),
		cmocka_unit_test(test_golden_contracts),
		cmocka_unit_test(test_golden_schemas),
		cmocka_unit_test(test_schema_file_decides),
		cmocka_unit_test(test_example_schema_is_builtin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
