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
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_markers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
