/*
 * The one home of the naming rules (model/names.h): environments, secret names, the role
 * marker and the secret tag, on values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "model/names.h"

static void
test_environments(void **state)
{
	(void)state;
	assert_int_equal(gp_environment_index("dev"), 0);
	assert_int_equal(gp_environment_index("ephemeral"), GP_N_ENVIRONMENTS - 1);
	assert_int_equal(gp_environment_index("qa"), -EINVAL);
	assert_int_equal(gp_environment_index(NULL), -EINVAL);
	assert_null(gp_environments[GP_N_ENVIRONMENTS]);
}

static void
test_secret_names(void **state)
{
	char *s;

	(void)state;
	s = gp_secret_name(NULL, "dev", "inventory");
	assert_string_equal(s, "goldenpath/dev/inventory/postgres");
	free(s);
	s = gp_secret_name("apps/{key}/{env}/{x}", "prod", "a");
	assert_string_equal(s, "apps/a/prod/{x}");
	free(s);
	s = gp_secret_prefix(NULL, "test");
	assert_string_equal(s, "goldenpath/test/");
	free(s);
	s = gp_secret_prefix("{env}-db-{key}", "prod");
	assert_string_equal(s, "prod-db-");
	free(s);
	s = gp_master_secret_name("", "dev");
	assert_string_equal(s, "goldenpath/dev/rds/master");
	free(s);
	s = gp_master_secret_name("rds!cluster-{env}", "dev");
	assert_string_equal(s, "rds!cluster-dev");
	free(s);
	s = gp_name_expand("{env}/{key}", NULL, "k");
	assert_string_equal(s, "{env}/k");
	free(s);
	assert_null(gp_secret_template_check("goldenpath/{env}/{key}/postgres"));
	assert_non_null(gp_secret_template_check("goldenpath/{env}/postgres"));
	assert_non_null(gp_secret_template_check("goldenpath/{app}/{key}"));
}

/* Secrets Manager's rules on an expanded name, and on what a template expands to. */
static void
test_secret_name_rules(void **state)
{
	char name[GP_SECRET_NAME_MAX + 2], tmpl[GP_SECRET_NAME_MAX + 8];

	(void)state;
	assert_null(gp_check_secret_name("goldenpath/dev/inventory/postgres"));
	assert_null(gp_check_secret_name("A-Z_a.z+0=9@x/y"));
	assert_non_null(gp_check_secret_name(""));
	assert_non_null(gp_check_secret_name(NULL));
	assert_non_null(gp_check_secret_name("a b"));
	assert_non_null(gp_check_secret_name("apps/{key}"));
	assert_non_null(gp_check_secret_name("apps/\xe2\x80\xae")); /* U+202E */
	memset(name, 'n', GP_SECRET_NAME_MAX);
	name[GP_SECRET_NAME_MAX] = '\0';
	assert_null(gp_check_secret_name(name));
	name[GP_SECRET_NAME_MAX] = 'n';
	name[GP_SECRET_NAME_MAX + 1] = '\0';
	assert_string_equal(gp_check_secret_name(name),
			    "is longer than 512 characters (Secrets Manager's limit)");

	assert_null(gp_secret_template_check_names(GP_DEFAULT_SECRET_TEMPLATE, "dev"));
	assert_null(gp_secret_template_check_names(GP_DEFAULT_SECRET_TEMPLATE, NULL));
	assert_non_null(gp_secret_template_check_names("apps/{key}!", "dev"));
	/* 512 - 63 for the key - 1 for "/": "ephemeral" (9) fits, with NULL every env counts. */
	memset(tmpl, 't', 512 - 63 - 1 - 9);
	strcpy(tmpl + 512 - 63 - 1 - 9, "{env}/{key}");
	assert_null(gp_secret_template_check_names(tmpl, "ephemeral"));
	assert_null(gp_secret_template_check_names(tmpl, NULL));
	memset(tmpl, 't', 512 - 63 - 1 - 9 + 1);
	strcpy(tmpl + 512 - 63 - 1 - 9 + 1, "{env}/{key}");
	assert_null(gp_secret_template_check_names(tmpl, "dev"));
	assert_non_null(gp_secret_template_check_names(tmpl, "ephemeral"));
	assert_non_null(gp_secret_template_check_names(tmpl, NULL));
}

static void
test_rules(void **state)
{
	(void)state;
	assert_null(gp_check_database_name("inventory_service"));
	assert_non_null(gp_check_database_name("Inventory"));
	assert_non_null(gp_check_username("ab"));
	assert_null(gp_check_app_key("inventory-rw"));
	assert_string_equal(gp_check_requester("Bad Name"), GP_RULE_REQUESTER);
	assert_true(gp_name_reserved("PG_monitor", NULL, NULL));
	assert_true(gp_name_reserved("rdsadmin", NULL, NULL));
	assert_true(gp_name_reserved("master", "master", NULL));
	assert_false(gp_name_reserved("inventory", "master", "postgres_db"));
	assert_string_equal(gp_name_reserved_why("app", NULL, "app"),
			    "is reserved (the master database)");
}

static void
test_markers(void **state)
{
	struct gp_buf b = {0};

	(void)state;
	assert_int_equal(gp_role_marker("dev", "inventory", &b), 0);
	assert_string_equal(b.p, "managed by gprdsd: env=dev key=inventory");
	assert_true(gp_role_marked(b.p, "dev"));
	assert_false(gp_role_marked(b.p, "de"));
	assert_false(gp_role_marked(b.p, "prod"));
	assert_false(gp_role_marked("managed by gprdsd: env=dev key=", "dev"));
	assert_false(gp_role_marked("made by hand", "dev"));
	assert_false(gp_role_marked(NULL, "dev"));
	assert_int_equal(gp_role_marker("", "k", &b), -EINVAL);
	assert_true(gp_secret_tag_marks("managed-by", "gprdsd"));
	assert_false(gp_secret_tag_marks("managed-by", "terraform"));
	assert_false(gp_secret_tag_marks(NULL, "gprdsd"));
	gp_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_environments),
		cmocka_unit_test(test_secret_names),
		cmocka_unit_test(test_secret_name_rules),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_markers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
