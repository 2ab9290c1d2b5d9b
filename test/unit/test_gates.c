/*
 * test_gates.c — the gates of gates.c on values: each gate holding an entry and letting it
 * pass, the order in which they are tried, and that they leave held entries alone. The join's
 * use of them (entries built from tfvars and catalog) is tested in test_validate.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "plan/gates.h"

/* Entries without a database, allow_delete off: both keys are missing. */
#define DECOMMISSION_REASON(status)                                                                \
	"catalog status is " status "; held, nothing is removed: allow_delete is not true for "    \
	"environment \"dev\"; metadata.decommission_confirm must name the database \"\""

struct fx {
	struct gp_desired *d;
	struct gp_env_config ec;
};

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->d = calloc(1, sizeof(*x->d));
	assert_non_null(x->d);
	x->d->env = strdup("dev");
	x->d->v = calloc(16, sizeof(*x->d->v));
	assert_non_null(x->d->v);
	x->ec.allow_provision = true;
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	gp_desired_free(x->d);
	free(x);
	return 0;
}

/* An entry that passes every gate: from tfvars, small, pending. Tests then change one value. */
static struct gp_entry *
add(struct fx *x, const char *key)
{
	struct gp_entry *e = &x->d->v[x->d->n++];

	assert_true(x->d->n <= 16);
	*e = (struct gp_entry){
		.key = strdup(key),
		.access = GP_ACCESS_OWNER,
		.size = GP_SIZE_SMALL,
		.requested = GP_STATE_PENDING,
		.has_tfvars = true,
		.has_catalog = true,
	};
	assert_non_null(e->key);
	return e;
}

static void
set_env(struct fx *x, const char *env)
{
	free(x->d->env);
	x->d->env = strdup(env);
	assert_non_null(x->d->env);
}

static void
apply(struct fx *x, const struct gp_env_config *ec)
{
	assert_int_equal(gp_gates_apply(x->d, ec), 0);
}

static void
assert_gate(const struct gp_entry *e, enum gp_hold h, const char *reason)
{
	assert_string_equal(gp_hold_to_string(e->hold), gp_hold_to_string(h));
	if (reason)
		assert_string_equal(e->reason, reason);
	else
		assert_null(e->reason);
}

static void
test_no_gate(void **state)
{
	struct fx *x = *state;
	struct gp_entry *e = add(x, "a");

	e->size = GP_SIZE_MEDIUM;
	e->requested = GP_STATE_ACTIVE;
	apply(x, &x->ec);
	assert_gate(e, GP_HOLD_NONE, NULL);
	apply(x, NULL); /* dev without a config: allowed too */
	assert_gate(e, GP_HOLD_NONE, NULL);
}

static void
test_decommission(void **state)
{
	static const enum gp_state passing[] = {GP_STATE_PENDING, GP_STATE_APPROVED,
						GP_STATE_PROVISIONING, GP_STATE_ACTIVE,
						GP_STATE_FAILED};
	struct fx *x = *state;
	struct gp_entry *ing = add(x, "ing"), *ed = add(x, "ed");

	ing->requested = GP_STATE_DECOMMISSIONING;
	ed->requested = GP_STATE_DECOMMISSIONED;
	for (size_t i = 0; i < ELEMENTSOF(passing); i++)
		add(x, gp_state_to_string(passing[i]))->requested = passing[i];
	apply(x, &x->ec);
	assert_gate(ing, GP_HOLD_DECOMMISSION, DECOMMISSION_REASON("decommissioning"));
	assert_gate(ed, GP_HOLD_DECOMMISSION, DECOMMISSION_REASON("decommissioned"));
	for (size_t i = 2; i < x->d->n; i++)
		assert_gate(&x->d->v[i], GP_HOLD_NONE, NULL);
}

/* The three keys of DESIGN §4.5: each missing one is named, all three mark the entry. */
static void
test_decommission_keys(void **state)
{
	struct fx *x = *state;
	struct gp_entry *e = add(x, "ledger");

	e->database = strdup("ledger");
	e->requested = GP_STATE_DECOMMISSIONING;
	e->has_tfvars = false; /* a catalog-only entry is removed too */
	apply(x, &x->ec);
	assert_gate(e, GP_HOLD_DECOMMISSION,
		    "catalog status is decommissioning; held, nothing is removed: allow_delete is "
		    "not true for environment \"dev\"; metadata.decommission_confirm must name the "
		    "database \"ledger\"");
	assert_false(e->decommission);
	e->hold = GP_HOLD_NONE;
	x->ec.allow_delete = true;
	e->decommission_confirm = strdup("ledgr");
	apply(x, &x->ec);
	assert_gate(e, GP_HOLD_DECOMMISSION,
		    "catalog status is decommissioning; held, nothing is removed: "
		    "metadata.decommission_confirm must name the database \"ledger\"");
	e->hold = GP_HOLD_NONE;
	x->ec.allow_delete = false;
	free(e->decommission_confirm);
	e->decommission_confirm = strdup("ledger");
	apply(x, &x->ec);
	assert_gate(e, GP_HOLD_DECOMMISSION,
		    "catalog status is decommissioning; held, nothing is removed: allow_delete is "
		    "not true for environment \"dev\"");
	e->hold = GP_HOLD_NONE;
	free(e->reason);
	e->reason = NULL;
	x->ec.allow_delete = true;
	apply(x, &x->ec);
	assert_gate(e, GP_HOLD_NONE, NULL);
	assert_true(e->decommission);
}

static void
test_no_tfvars(void **state)
{
	struct fx *x = *state;
	struct gp_entry *cat_only = add(x, "cat_only"), *both = add(x, "both");

	cat_only->has_tfvars = false;
	apply(x, &x->ec);
	assert_gate(cat_only, GP_HOLD_NO_TFVARS, "no tfvars entry");
	assert_gate(both, GP_HOLD_NONE, NULL);
}

static void
test_not_allowed(void **state)
{
	struct fx *x = *state;
	struct gp_entry *e = add(x, "a");

	x->ec.allow_provision = false;
	apply(x, &x->ec);
	assert_gate(e, GP_HOLD_NOT_ALLOWED, "allow_provision is false for env dev");

	/* The config decides, whatever the environment's name. */
	e->hold = GP_HOLD_NONE;
	free(e->reason);
	e->reason = NULL;
	set_env(x, "prod");
	x->ec.allow_provision = true;
	apply(x, &x->ec);
	assert_gate(e, GP_HOLD_NONE, NULL);
}

/*
 * Without a config (`validate`): DESIGN §7's default, dev only. The environment's name is
 * shown escaped, without quotes.
 */
static void
test_not_allowed_default(void **state)
{
	struct fx *x = *state;
	struct gp_entry *dev = add(x, "a"), *prod, *hostile;

	apply(x, NULL);
	assert_gate(dev, GP_HOLD_NONE, NULL);
	set_env(x, "prod");
	prod = add(x, "b");
	apply(x, NULL);
	assert_gate(prod, GP_HOLD_NOT_ALLOWED, "allow_provision is false for env prod");
	set_env(x, "de\nv\x1b[31m");
	hostile = add(x, "c");
	apply(x, NULL);
	assert_gate(hostile, GP_HOLD_NOT_ALLOWED,
		    "allow_provision is false for env de\\x0av\\x1b[31m");
}

static void
test_needs_approval(void **state)
{
	struct fx *x = *state;
	struct gp_entry *large = add(x, "large"), *xlarge = add(x, "xlarge");
	struct gp_entry *empty = add(x, "empty"), *approved = add(x, "approved");
	struct gp_entry *medium = add(x, "medium");

	large->size = GP_SIZE_LARGE;
	xlarge->size = GP_SIZE_XLARGE;
	empty->size = GP_SIZE_LARGE;
	empty->approved_by = strdup("");
	approved->size = GP_SIZE_XLARGE;
	approved->approved_by = strdup("platform-team");
	medium->size = GP_SIZE_MEDIUM;
	apply(x, &x->ec);
	assert_gate(large, GP_HOLD_NEEDS_APPROVAL, "size_tier large needs metadata.approved_by");
	assert_gate(xlarge, GP_HOLD_NEEDS_APPROVAL, "size_tier xlarge needs metadata.approved_by");
	assert_gate(empty, GP_HOLD_NEEDS_APPROVAL, "size_tier large needs metadata.approved_by");
	assert_gate(approved, GP_HOLD_NONE, NULL);
	assert_gate(medium, GP_HOLD_NONE, NULL);
}

/* An entry every gate would hold shows the first; taking one cause away shows the next. */
static void
test_order(void **state)
{
	struct fx *x = *state;
	struct gp_entry *e[4];

	for (size_t i = 0; i < ELEMENTSOF(e); i++) {
		e[i] = add(x, "k");
		e[i]->requested = i < 1 ? GP_STATE_DECOMMISSIONING : GP_STATE_ACTIVE;
		e[i]->has_tfvars = i >= 2;
		e[i]->size = GP_SIZE_XLARGE;
	}
	x->ec.allow_provision = false;
	apply(x, &x->ec);
	x->ec.allow_provision = true;
	apply(x, &x->ec); /* held entries stay as they are */
	assert_gate(e[0], GP_HOLD_DECOMMISSION, DECOMMISSION_REASON("decommissioning"));
	assert_gate(e[1], GP_HOLD_NO_TFVARS, "no tfvars entry");
	assert_gate(e[2], GP_HOLD_NOT_ALLOWED, "allow_provision is false for env dev");
	assert_gate(e[3], GP_HOLD_NOT_ALLOWED, "allow_provision is false for env dev");
	e[3]->hold = GP_HOLD_NONE;
	apply(x, &x->ec);
	assert_gate(e[3], GP_HOLD_NEEDS_APPROVAL, "size_tier xlarge needs metadata.approved_by");
}

/* The join's holds come first; a warning's text on an unheld entry gives way to a gate. */
static void
test_held_and_warned(void **state)
{
	struct fx *x = *state;
	struct gp_entry *held = add(x, "held"), *warned = add(x, "warned");

	held->hold = GP_HOLD_INVALID;
	held->reason = strdup("app key \"held\" must match");
	held->requested = GP_STATE_DECOMMISSIONED;
	warned->reason = strdup("no catalog entry for database \"w\" in dev");
	warned->size = GP_SIZE_LARGE;
	apply(x, &x->ec);
	assert_gate(held, GP_HOLD_INVALID, "app key \"held\" must match");
	assert_gate(warned, GP_HOLD_NEEDS_APPROVAL, "size_tier large needs metadata.approved_by");
}

static void
test_entry_hold(void **state)
{
	struct fx *x = *state;
	struct gp_entry *e = add(x, "a");

	assert_int_equal(gp_entry_hold(e, GP_HOLD_CONFLICT, "first"), 0);
	assert_int_equal(gp_entry_hold(e, GP_HOLD_INVALID, "second"), 0);
	assert_gate(e, GP_HOLD_CONFLICT, "first");
}

static void
test_degenerate(void **state)
{
	struct fx *x = *state;

	assert_int_equal(gp_gates_apply(x->d, &x->ec), 0); /* no entries */
	assert_int_equal(gp_gates_apply(NULL, &x->ec), -EINVAL);
	free(x->d->env);
	x->d->env = NULL;
	assert_int_equal(gp_gates_apply(x->d, NULL), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_no_gate),     T(test_decommission),	  T(test_decommission_keys),	  T(test_no_tfvars),
		T(test_not_allowed), T(test_not_allowed_default), T(test_needs_approval),
		T(test_order),	     T(test_held_and_warned),	  T(test_entry_hold),
		T(test_degenerate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
