/*
 * test_routing.c — request contracts in the join (plan/routing.c, plan/join.c) and the gate of
 * their approval route (plan/gates.c): the routing table, entries held for a route until
 * metadata.approved_by names every group, invalid and disagreeing contracts, contracts
 * without tfvars entry. Inputs are written as the files would be and parsed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "plan/join.h"
#include "plan/routing.h"

#define TF_FILE "envs/dev-rds/terraform.tfvars"
#define CAT_FILE "rds-catalog.yaml"

struct fx {
	struct gp_schema *schema;
	struct gp_enums enums;
	struct gp_tfvars *tf;
	struct gp_catalog *cat;
	struct gp_contracts contracts;
	struct gp_desired *d;
	struct gp_diags diags;
};

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	assert_int_equal(gp_schema_new_default(&x->schema), 0);
	assert_int_equal(gp_enums_init_default(&x->enums), 0);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	gp_schema_free(x->schema);
	gp_enums_release(&x->enums);
	gp_tfvars_free(x->tf);
	gp_catalog_free(x->cat);
	gp_contracts_release(&x->contracts);
	gp_desired_free(x->d);
	gp_diags_release(&x->diags);
	free(x);
	return 0;
}

static void
tfvars(struct fx *x, const char *text)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;

	assert_int_equal(gp_hcl_parse(text, strlen(text), TF_FILE, &doc, &x->diags), 0);
	assert_int_equal(gp_tfvars_extract(doc, GP_MODE_STANDALONE, &x->tf, &x->diags), 0);
}

static void
catalog(struct fx *x, const char *text)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;

	assert_int_equal(gp_yaml_parse(text, strlen(text), CAT_FILE, &doc, &x->diags), 0);
	assert_int_equal(gp_catalog_extract(doc, &x->cat, &x->diags), 0);
}

static void
contract(struct fx *x, const char *name, const char *text)
{
	assert_int_equal(gp_contracts_read(&x->contracts, text, strlen(text), name, "dev",
					   x->schema, &x->enums, &x->diags),
			 0);
}

static void
join(struct fx *x)
{
	struct gp_join_input in = {
		.env = "dev",
		.tfvars = x->tf,
		.catalog = x->cat,
		.enums = &x->enums,
		.contracts = &x->contracts,
		.schema = x->schema,
	};

	gp_desired_free(x->d);
	x->d = NULL;
	assert_int_equal(gp_desired_build(&in, &x->d, &x->diags), 0);
}

static const struct gp_entry *
entry(const struct fx *x, const char *key)
{
	const struct gp_entry *e = gp_desired_find(x->d, key);

	assert_non_null(e);
	return e;
}

/* Whether a diagnostic of severity sev says text. */
static bool
said(const struct fx *x, enum gp_severity sev, const char *text)
{
	for (size_t i = 0; i < x->diags.n; i++) {
		struct gp_buf b = {0};
		bool hit;

		gp_diag_format(&x->diags.v[i], &b);
		hit = x->diags.v[i].severity == sev && strstr(b.p, text);
		gp_buf_release(&b);
		if (hit)
			return true;
	}
	return false;
}

#define CONTRACT_HEAD(id)                                                                          \
	"id: " id "\nservice: postgres\nenvironment: dev\nowner: app-team\n"                       \
	"requester: daniel-deans\nspec:\n  size: small\n  domain: catalog\n"

static const char orders_tf[] =
	"application_databases = {\n"
	"  orders = { database_name = \"orders\", username = \"orders_app\" }\n"
	"  orders-ro = { database_name = \"orders\", username = \"orders_ro\", access_level = \"reader\" }\n"
	"  billing = { database_name = \"billing\", username = \"billing_app\" }\n"
	"}\n";

static const char orders_contract[] = CONTRACT_HEAD("RDS-0001")
	"  databaseName: orders\n  username: orders_app\n  risk: high\n";

static char *
orders_catalog(const char *approved_by)
{
	return gp_strprintf("databases:\n"
			    "  orders:\n"
			    "    metadata: {environment: dev, risk: high, status: pending%s%s}\n"
			    "    configuration: {username: orders_app, size_tier: small}\n",
			    approved_by ? ", approved_by: " : "", approved_by ? approved_by : "");
}

/* ---- the routing table ---- */

static void
assert_route(struct fx *x, const char *env, enum gp_risk risk, const char *tier)
{
	struct gp_entry e = {.risk = risk};
	const struct gp_schema_route *rt =
		gp_route_select(x->schema, &x->contracts.v[0], env, &e);

	if (!tier) {
		assert_null(rt);
		return;
	}
	assert_non_null(rt);
	assert_string_equal(rt->tier, tier);
}

static void
test_routing_table(void **state)
{
	struct fx *x = *state;
	struct gp_strv approvals = {0};
	struct gp_buf b = {0};

	contract(x, "RDS-0001.yaml", orders_contract);
	assert_route(x, "prod", GP_RISK_HIGH, "platform-and-security");
	assert_route(x, "prod", GP_RISK_LOW, "platform-approval");
	assert_route(x, "prod", GP_RISK_ACCESS, "platform-approval");
	assert_route(x, "dev", GP_RISK_HIGH, "security-approval");
	assert_route(x, "staging", GP_RISK_HIGH, "security-approval");
	assert_route(x, "dev", GP_RISK_MEDIUM, "self-serve");
	assert_route(x, "test", GP_RISK_NONE, "self-serve");
	assert_route(x, "staging", GP_RISK_LOW, NULL);
	assert_route(x, "ephemeral", GP_RISK_MEDIUM, NULL);

	assert_int_equal(gp_route_missing(&x->schema->routes[0], &approvals, &b), 2);
	assert_string_equal(b.p, "platform-team, security-team");
	assert_int_equal(gp_strv_push(&approvals, "security-team"), 0);
	b.len = 0;
	assert_int_equal(gp_route_missing(&x->schema->routes[0], &approvals, &b), 1);
	assert_string_equal(b.p, "platform-team");
	assert_int_equal(gp_route_missing(&x->schema->routes[3], &approvals, &b), 0);
	gp_strv_release(&approvals);
	gp_buf_release(&b);
}

/* ---- the join and the gate ---- */

/* A high-risk dev contract is held until approved_by names security-team (a list). */
static void
test_route_holds_until_approved(void **state)
{
	struct fx *x = *state;
	char *cat = orders_catalog("platform-team");
	const struct gp_entry *e;

	tfvars(x, orders_tf);
	catalog(x, cat);
	contract(x, "RDS-0001.yaml", orders_contract);
	join(x);
	e = entry(x, "orders");
	assert_int_equal(e->hold, GP_HOLD_NEEDS_APPROVAL);
	assert_string_equal(e->route, "security-approval");
	assert_string_equal(e->contract, "RDS-0001");
	assert_string_equal(e->approvals_missing, "security-team");
	assert_string_equal(e->reason, "approval route security-approval of contract RDS-0001: "
				       "metadata.approved_by lacks security-team");
	assert_int_equal(entry(x, "orders-ro")->hold, GP_HOLD_NEEDS_APPROVAL);
	assert_int_equal(entry(x, "billing")->hold, GP_HOLD_NONE);
	assert_null(entry(x, "billing")->route);
	assert_int_equal(x->diags.errors, 0);

	free(cat);
	gp_catalog_free(x->cat);
	x->cat = NULL;
	cat = orders_catalog("[platform-team, security-team]");
	catalog(x, cat);
	join(x);
	e = entry(x, "orders");
	assert_int_equal(e->hold, GP_HOLD_NONE);
	assert_string_equal(e->route, "security-approval");
	assert_null(e->approvals_missing);
	assert_int_equal(entry(x, "orders-ro")->hold, GP_HOLD_NONE);
	free(cat);
}

/* A self-serve route needs nobody; the contract's risk counts without a catalog entry. */
static void
test_self_serve_and_contract_risk(void **state)
{
	struct fx *x = *state;

	tfvars(x, orders_tf);
	contract(x, "RDS-0002.yaml", CONTRACT_HEAD("RDS-0002")
		 "  databaseName: billing\n  username: billing_app\n");
	contract(x, "RDS-0001.yaml", orders_contract);
	join(x);
	assert_int_equal(entry(x, "billing")->hold, GP_HOLD_NONE);
	assert_string_equal(entry(x, "billing")->route, "self-serve");
	assert_int_equal(entry(x, "billing")->risk, GP_RISK_LOW);
	assert_int_equal(entry(x, "orders")->risk, GP_RISK_HIGH);
	assert_int_equal(entry(x, "orders")->hold, GP_HOLD_NEEDS_APPROVAL);
	assert_string_equal(entry(x, "orders")->approvals_missing, "security-team");
}

/* An invalid contract holds the entries of its database and nothing else. */
static void
test_invalid_contract_blocks_its_entries(void **state)
{
	struct fx *x = *state;

	tfvars(x, orders_tf);
	contract(x, "RDS-0001.yaml", CONTRACT_HEAD("RDS-0001")
		 "  databaseName: orders\n  username: orders_app\n  storageGb: 5000\n");
	contract(x, "RDS-0003.yaml", CONTRACT_HEAD("nope")
		 "  databaseName: \"Bad-Name; DROP\"\n  username: x\n");
	contract(x, "RDS-0004.yaml", "id: [unclosed\n");
	join(x);
	assert_int_equal(entry(x, "orders")->hold, GP_HOLD_INVALID);
	assert_string_equal(entry(x, "orders")->reason,
			    "contract RDS-0001.yaml is invalid: spec.storageGb 5000 must be at most "
			    "500");
	assert_int_equal(entry(x, "orders-ro")->hold, GP_HOLD_INVALID);
	assert_int_equal(entry(x, "billing")->hold, GP_HOLD_NONE);
	assert_int_equal(x->d->n, 3);
	assert_true(said(x, GP_SEV_ERROR, "RDS-0001.yaml:11:14: error: spec.storageGb 5000"));
}

/* A contract that does not parse holds the database its one `databaseName:` line names. */
static void
test_unparsed_contract_blocks_its_database(void **state)
{
	struct fx *x = *state;

	tfvars(x, orders_tf);
	contract(x, "RDS-0006.yaml", "id: RDS-0006\nspec:\n  databaseName: billing\n  size: {small\n");
	join(x);
	assert_int_equal(entry(x, "billing")->hold, GP_HOLD_INVALID);
	assert_non_null(strstr(entry(x, "billing")->reason, "contract RDS-0006.yaml is invalid: "));
	assert_int_equal(entry(x, "orders")->hold, GP_HOLD_NONE);
	assert_int_equal(entry(x, "orders-ro")->hold, GP_HOLD_NONE);
}

/* A contract without tfvars entry: pending (no tfvars entry), with a warning naming it. */
static void
test_contract_without_tfvars(void **state)
{
	struct fx *x = *state;
	const struct gp_entry *e;

	tfvars(x, orders_tf);
	contract(x, "RDS-0005.yaml", CONTRACT_HEAD("RDS-0005")
		 "  databaseName: shipping\n  username: shipping_app\n");
	join(x);
	e = entry(x, "shipping");
	assert_int_equal(e->hold, GP_HOLD_NO_TFVARS);
	assert_string_equal(e->reason, "no tfvars entry");
	assert_string_equal(e->username, "shipping_app");
	assert_false(e->has_tfvars);
	assert_true(said(x, GP_SEV_WARNING,
			 "RDS-0005.yaml:9:17: warning: contract RDS-0005 requests database "
			 "\"shipping\" in dev, which no tfvars entry has"));
	assert_int_equal(x->diags.errors, 0);
}

/* Username, risk or size that differ: the database's entries held, both positions named. */
/* The orders tfvars, its catalog entry approved by both groups, and a contract for it. */
static void
orders_with(struct fx *x, const char *contract_spec)
{
	char *cat = orders_catalog("[platform-team, security-team]");
	char *text = gp_strprintf(CONTRACT_HEAD("RDS-0001") "%s", contract_spec);

	tfvars(x, orders_tf);
	catalog(x, cat);
	contract(x, "RDS-0001.yaml", text);
	free(cat);
	free(text);
}

static void
test_contract_disagrees(void **state)
{
	struct fx *x = *state;

	orders_with(x, "  databaseName: orders\n  username: orders_owner\n  risk: high\n");
	contract(x, "RDS-0006.yaml", CONTRACT_HEAD("RDS-0006")
		 "  databaseName: billing\n  username: billing_app\n");
	contract(x, "RDS-0007.yaml", CONTRACT_HEAD("RDS-0007")
		 "  databaseName: billing\n  username: billing_app\n");
	join(x);
	assert_int_equal(entry(x, "orders")->hold, GP_HOLD_CONFLICT);
	assert_int_equal(entry(x, "orders-ro")->hold, GP_HOLD_CONFLICT);
	assert_string_equal(entry(x, "orders")->reason,
			    "contract RDS-0001 says spec.username \"orders_owner\", the tfvars owner "
			    "entry \"orders\" says \"orders_app\" (" TF_FILE ":2:3)");
	assert_int_equal(entry(x, "billing")->hold, GP_HOLD_CONFLICT);
	assert_true(said(x, GP_SEV_ERROR, "database \"billing\" is requested by two contracts: "
					  "RDS-0007 and RDS-0006 (RDS-0006.yaml:9:17)"));
}

static void
test_contract_disagrees_with_catalog(void **state)
{
	struct fx *x = *state;

	orders_with(x, "  databaseName: orders\n  username: orders_app\n  risk: low\n");
	join(x);
	assert_int_equal(entry(x, "orders")->hold, GP_HOLD_CONFLICT);
	assert_string_equal(entry(x, "orders")->reason,
			    "contract RDS-0001 says spec.risk \"low\", the catalog's metadata.risk "
			    "says \"high\" (" CAT_FILE ":3:40)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_routing_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_route_holds_until_approved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_serve_and_contract_risk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_contract_blocks_its_entries, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unparsed_contract_blocks_its_database, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_contract_without_tfvars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contract_disagrees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contract_disagrees_with_catalog, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
