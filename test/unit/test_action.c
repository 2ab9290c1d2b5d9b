/*
 * The action table and the executor's guard, on values: every kind has a row and a
 * description, and a destructive action is refused on anything gprdsd does not manage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "plan/action.h"

static void
test_every_kind_has_a_row(void **state)
{
	(void)state;
	for (int k = 0; k < _GP_ACT_MAX; k++) {
		const struct gp_action_info *info = gp_action_info((enum gp_action_kind)k);

		assert_non_null(info);
		assert_non_null(info->name);
		assert_string_equal(gp_action_kind_to_string((enum gp_action_kind)k), info->name);
		/* only the decommissioning kinds and disable_role destroy or disable */
		assert_int_equal(info->destructive,
				 k == GP_ACT_LOCK_DATABASE || k == GP_ACT_REVOKE_CONNECT ||
					 k == GP_ACT_DISABLE_ROLE || k == GP_ACT_DROP_DATABASE ||
					 k == GP_ACT_DROP_OWNED || k == GP_ACT_DROP_ROLE ||
					 k == GP_ACT_DELETE_SECRET);
		/* a kind that uses a password says so */
		if (k == GP_ACT_CREATE_ROLE || k == GP_ACT_SET_PASSWORD || k == GP_ACT_VERIFY_LOGIN)
			assert_true(info->fields & GP_AF_CRED);
	}
	assert_null(gp_action_info(_GP_ACT_MAX));
	assert_string_equal(gp_cred_to_string(GP_CRED_PENDING), "pending");
}

static void
test_describe_and_json(void **state)
{
	struct gp_action a = {.kind = GP_ACT_GRANT_MEMBERSHIP, .why = GP_WHY_NEW,
			      .role = "rdsmaster", .owner = "inventory_user"};
	struct gp_buf b = {0};
	cJSON *j;

	(void)state;
	assert_int_equal(gp_action_describe(&a, &b), 0);
	assert_string_equal(b.p, "grant_membership inventory_user to rdsmaster (new)");
	j = gp_action_to_json(&a);
	assert_string_equal(cJSON_GetObjectItem(j, "object")->valuestring, "inventory_user");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "destructive")));
	assert_null(cJSON_GetObjectItem(j, "credential"));
	cJSON_Delete(j);
	a = (struct gp_action){.kind = GP_ACT_REVOKE_PUBLIC, .why = GP_WHY_DRIFT,
			       .database = "inventory_service", .detail = "PUBLIC has CONNECT"};
	b.len = 0;
	gp_action_describe(&a, &b);
	assert_string_equal(b.p, "revoke_public on inventory_service (drift): PUBLIC has CONNECT");
	j = gp_action_to_json(&a);
	assert_string_equal(cJSON_GetObjectItem(j, "object")->valuestring, "PUBLIC");
	cJSON_Delete(j);
	a = (struct gp_action){.kind = GP_ACT_SET_PASSWORD, .why = GP_WHY_DRIFT,
			       .role = "app_user", .cred = GP_CRED_CURRENT};
	j = gp_action_to_json(&a);
	assert_string_equal(cJSON_GetObjectItem(j, "credential")->valuestring, "current");
	cJSON_Delete(j);
	gp_buf_release(&b);
}

/* An observed environment: a managed role, an unmanaged one, one of another env, a managed
 * secret and an untagged one, a database of each kind of owner. */
static struct gp_observed *
world(void)
{
	struct gp_observed *o = gp_observed_new();

	o->n_roles = 3;
	o->roles = calloc(3, sizeof(*o->roles));
	o->roles[0] = (struct gp_obs_role){.name = strdup("app_user"),
					   .comment = strdup("managed by gprdsd: env=dev key=app")};
	o->roles[1] = (struct gp_obs_role){.name = strdup("hand_made"), .comment = NULL};
	o->roles[2] = (struct gp_obs_role){.name = strdup("prod_user"),
					   .comment = strdup("managed by gprdsd: env=prod key=app")};
	o->n_secrets = 2;
	o->secrets = calloc(2, sizeof(*o->secrets));
	o->secrets[0] = (struct gp_obs_secret){.name = strdup("goldenpath/dev/app/postgres"),
					       .managed = true};
	o->secrets[1] = (struct gp_obs_secret){.name = strdup("goldenpath/dev/other/postgres")};
	o->n_databases = 2;
	o->databases = calloc(2, sizeof(*o->databases));
	o->databases[0] = (struct gp_obs_database){.name = strdup("app_db"),
						   .owner = strdup("app_user")};
	o->databases[1] = (struct gp_obs_database){.name = strdup("hand_db"),
						   .owner = strdup("hand_made")};
	gp_observed_sort(o);
	return o;
}

static void
test_guard(void **state)
{
	struct gp_observed *o = world();
	struct gp_action_info drop_role = {"drop_role", true, GP_TARGET_ROLE, GP_AF_ROLE,
					   GP_DESC_ROLE, GP_OBJ_NONE, NULL, NULL};
	struct gp_action_info drop_secret = {"delete_secret", true, GP_TARGET_SECRET,
					     GP_AF_SECRET, GP_DESC_SECRET, GP_OBJ_SECRET, NULL, NULL};
	struct gp_action_info drop_db = {"drop_database", true, GP_TARGET_DATABASE,
					 GP_AF_DATABASE, GP_DESC_DATABASE, GP_OBJ_NONE, NULL, NULL};
	struct gp_action_info harmless = drop_role;
	struct gp_action a = {.key = "app", .role = "app_user",
			      .secret = "goldenpath/dev/app/postgres", .database = "app_db"};

	(void)state;
	harmless.destructive = false;
	/* ours: allowed */
	assert_null(gp_action_guard_row(&drop_role, &a, "dev", o));
	assert_null(gp_action_guard_row(&drop_secret, &a, "dev", o));
	assert_null(gp_action_guard_row(&drop_db, &a, "dev", o));
	/* a role without the marker, of another environment, or of another key */
	a.role = "hand_made";
	assert_non_null(gp_action_guard_row(&drop_role, &a, "dev", o));
	a.role = "prod_user";
	assert_non_null(gp_action_guard_row(&drop_role, &a, "dev", o));
	a.role = "app_user";
	a.key = "other";
	assert_non_null(gp_action_guard_row(&drop_role, &a, "dev", o));
	a.role = "missing";
	assert_non_null(gp_action_guard_row(&drop_role, &a, "dev", o));
	/* a secret without the managed-by tag */
	a.secret = "goldenpath/dev/other/postgres";
	assert_string_equal(gp_action_guard_row(&drop_secret, &a, "dev", o),
			    "the secret does not carry gprdsd's managed-by tag");
	/* a database whose owner is not ours */
	a.database = "hand_db";
	assert_non_null(gp_action_guard_row(&drop_db, &a, "dev", o));
	/* a kind that destroys nothing passes whatever it names; through the table, every
	 * destructive kind is refused on these unmanaged objects */
	assert_null(gp_action_guard_row(&harmless, &a, "dev", o));
	for (int k = 0; k < _GP_ACT_MAX; k++) {
		a.kind = (enum gp_action_kind)k;
		assert_int_equal(gp_action_guard(&a, "dev", o) != NULL,
				 gp_action_info(a.kind)->destructive);
	}
	gp_observed_free(o);
}

/* Every kind reads as words on a terminal, with every placeholder filled; a failure names
 * the kind and its object, never a reason or detail. */
static void
test_summary(void **state)
{
	struct gp_action a = {.role = "reporting_ro", .database = "inventory_service",
			      .secret = "goldenpath/dev/inventory/postgres", .owner = "inventory_user",
			      .access = GP_ACCESS_READER, .why = GP_WHY_NEW, .detail = "detail"};
	struct gp_buf b = {0};

	(void)state;
	for (int k = 0; k < _GP_ACT_MAX; k++) {
		a.kind = (enum gp_action_kind)k;
		b.len = 0;
		assert_int_equal(gp_action_summary(&a, false, &b), 0);
		assert_non_null(gp_action_info(a.kind)->summary);
		assert_null(strchr(b.p, '{'));
		assert_null(strstr(b.p, "detail"));
		assert_null(strstr(b.p, "?")); /* every field it names is set above */
	}
	a.kind = GP_ACT_APPLY_GRANTS;
	b.len = 0;
	gp_action_summary(&a, false, &b);
	assert_string_equal(b.p, "granted reader privileges on inventory_service to reporting_ro");
	a.kind = GP_ACT_CREATE_ROLE;
	b.len = 0;
	gp_action_summary(&a, false, &b);
	assert_string_equal(b.p, "created role reporting_ro");
	b.len = 0;
	gp_action_summary(&a, true, &b);
	assert_string_equal(b.p, "create_role reporting_ro failed");
	/* A field the action lacks shows as "?", as in descriptions. */
	a = (struct gp_action){.kind = GP_ACT_GRANT_CONNECT, .role = "r"};
	b.len = 0;
	gp_action_summary(&a, false, &b);
	assert_string_equal(b.p, "granted CONNECT on ? to r");
	gp_buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_has_a_row),
		cmocka_unit_test(test_describe_and_json),
		cmocka_unit_test(test_guard),
		cmocka_unit_test(test_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
