/*
 * test_validate.c — naming rules, reserved names, the tfvars × catalog join, conflicts and
 * gates as the join applies them (plan/join.c, plan/gates.c), and the catalog checks of
 * `validate` (inputs/lint.c), tested on values built here in C (no parsers). The gates on
 * their own: test_gates.c.
 *
 * Positions are synthetic but deterministic: tfvars member i has its key at line 10 + 4i,
 * column 3, and its fields on the following lines at column 19; catalog entry i has its
 * database key at line 200 + 20i, column 3, and field number f (in struct order) at line
 * 200 + 20i + f, column 7. The TF_* and CAT_* macros compute them for the assertions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "inputs/lint.h"
#include "plan/join.h"

#define TF_FILE "envs/dev-rds/terraform.tfvars"
#define CAT_FILE "docs/20-contracts/resource-catalogs/rds-catalog.yaml"

#define TF_FIELD(m) (offsetof(struct gp_tfvars_entry, m) / sizeof(struct gp_field))
#define TF_LINE(i, m) (10u + 4u * (unsigned)(i) + (unsigned)TF_FIELD(m))
#define TF_COL(m) (TF_FIELD(m) == 0 ? 3u : 19u)
#define CAT_FIELD(m) (offsetof(struct gp_catalog_entry, m) / sizeof(struct gp_field))
#define CAT_LINE(i, m) (200u + 20u * (unsigned)(i) + (unsigned)CAT_FIELD(m))
#define CAT_COL(m) (CAT_FIELD(m) == 0 ? 3u : 7u)

struct fx {
	struct gp_tfvars tf;
	struct gp_catalog cat;
	struct gp_enums en;
	struct gp_env_config ec;
	struct gp_join_input in;
	struct gp_desired *d;
	struct gp_diags diags;
};

/* ---- fixture helpers ---- */

static void
fld(struct gp_field *f, const char *v, unsigned line, unsigned col)
{
	free(f->v);
	f->v = v ? strdup(v) : NULL;
	f->line = v ? line : 0;
	f->col = v ? col : 0;
	if (v)
		assert_non_null(f->v);
}

static void
release_fields(struct gp_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].v);
}

static size_t
tf_add(struct fx *x, const char *key, const char *db, const char *user, const char *access)
{
	size_t i = x->tf.n++;
	struct gp_tfvars_entry *e;

	x->tf.v = realloc(x->tf.v, x->tf.n * sizeof(*x->tf.v));
	assert_non_null(x->tf.v);
	e = &x->tf.v[i];
	*e = (struct gp_tfvars_entry){0};
	fld(&e->key, key, TF_LINE(i, key), TF_COL(key));
	fld(&e->database, db, TF_LINE(i, database), TF_COL(database));
	fld(&e->username, user, TF_LINE(i, username), TF_COL(username));
	fld(&e->access, access, TF_LINE(i, access), TF_COL(access));
	return i;
}

#define CAT_SET(fx_, i_, m_, val_) fld(&(fx_)->cat.v[i_].m_, (val_), CAT_LINE(i_, m_), CAT_COL(m_))

static size_t
cat_add(struct fx *x, const char *db, const char *env, const char *user, const char *risk,
	const char *size, const char *status)
{
	size_t i = x->cat.n++;

	x->cat.v = realloc(x->cat.v, x->cat.n * sizeof(*x->cat.v));
	assert_non_null(x->cat.v);
	x->cat.v[i] = (struct gp_catalog_entry){0};
	CAT_SET(x, i, database, db);
	CAT_SET(x, i, environment, env);
	CAT_SET(x, i, username, user);
	CAT_SET(x, i, risk, risk);
	CAT_SET(x, i, size_tier, size);
	CAT_SET(x, i, status, status);
	CAT_SET(x, i, owner, "app-team");
	CAT_SET(x, i, domain, "catalog");
	CAT_SET(x, i, requested_by, "daniel-deans");
	return i;
}

/* A catalog entry for a healthy small dev database. */
static size_t
cat_std(struct fx *x, const char *db, const char *user)
{
	return cat_add(x, db, "dev", user, "medium", "small", "pending");
}

static void
strv_fill(struct gp_strv *sv, const char *const *v)
{
	for (; *v; v++)
		assert_int_equal(gp_strv_push(sv, *v), 0);
}

static void
enums_default(struct gp_enums *e)
{
	strv_fill(&e->environments,
		  (const char *const[]){"dev", "test", "staging", "prod", "ephemeral", NULL});
	strv_fill(&e->risks,
		  (const char *const[]){"none", "low", "medium", "high", "access", NULL});
	strv_fill(&e->sizes, (const char *const[]){"small", "medium", "large", "xlarge", NULL});
	strv_fill(&e->statuses,
		  (const char *const[]){"pending", "approved", "provisioning", "active", "failed",
					"decommissioning", "decommissioned", NULL});
}

static int
setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->tf.file = strdup(TF_FILE);
	x->tf.mode = GP_MODE_STANDALONE;
	x->tf.rds_enabled = true;
	x->cat.file = strdup(CAT_FILE);
	enums_default(&x->en);
	x->ec.name = strdup("dev");
	x->ec.master_secret = strdup("goldenpath/dev/rds/master");
	x->ec.allow_provision = true;
	x->ec.defaults.risk = GP_RISK_MEDIUM;
	x->ec.defaults.createdb = true;
	x->in = (struct gp_join_input){
		.env = "dev",
		.env_config = &x->ec,
		.tfvars = &x->tf,
		.catalog = &x->cat,
		.enums = &x->en,
	};
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *x = *state;

	for (size_t i = 0; i < x->tf.n; i++) {
		release_fields(&x->tf.v[i].key, 4);
		free(x->tf.v[i].invalid);
	}
	free(x->tf.v);
	free(x->tf.file);
	for (size_t i = 0; i < x->cat.n; i++) {
		release_fields(&x->cat.v[i].database, CAT_FIELD(invalid));
		free(x->cat.v[i].invalid);
	}
	free(x->cat.v);
	free(x->cat.file);
	gp_strv_release(&x->en.environments);
	gp_strv_release(&x->en.owners);
	gp_strv_release(&x->en.domains);
	gp_strv_release(&x->en.risks);
	gp_strv_release(&x->en.sizes);
	gp_strv_release(&x->en.statuses);
	free(x->ec.name);
	free(x->ec.master_secret);
	free(x->ec.secret.name);
	gp_desired_free(x->d);
	gp_diags_release(&x->diags);
	free(x);
	return 0;
}

static void
build(struct fx *x)
{
	gp_desired_free(x->d);
	x->d = NULL;
	gp_diags_release(&x->diags);
	assert_int_equal(gp_desired_build(&x->in, &x->d, &x->diags), 0);
	assert_non_null(x->d);
}

static const struct gp_entry *
entry(const struct fx *x, const char *key)
{
	const struct gp_entry *e = gp_desired_find(x->d, key);

	if (!e)
		fail_msg("no entry %s", key);
	return e;
}

static void
assert_hold(const struct fx *x, const char *key, enum gp_hold h)
{
	const struct gp_entry *e = entry(x, key);

	if (e->hold != h)
		fail_msg("entry %s: hold %s, expected %s (reason: %s)", key,
			 gp_hold_to_string(e->hold), gp_hold_to_string(h),
			 e->reason ? e->reason : "(none)");
}

static bool
contains(const char *s, const char *sub)
{
	return s && strstr(s, sub);
}

static void
assert_reason(const struct fx *x, const char *key, const char *sub)
{
	const struct gp_entry *e = entry(x, key);

	if (!contains(e->reason, sub))
		fail_msg("entry %s: reason \"%s\" lacks \"%s\"", key,
			 e->reason ? e->reason : "(none)", sub);
}

/* The diagnostic at file:line:col of that severity, or NULL. */
static const struct gp_diag *
diag_at(const struct gp_diags *d, enum gp_severity sev, const char *file, unsigned line,
	unsigned col)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity == sev && gp_streq(d->v[i].file, file) &&
		    d->v[i].line == line && d->v[i].col == col)
			return &d->v[i];
	return NULL;
}

static void
assert_diag(const struct gp_diags *d, enum gp_severity sev, const char *file, unsigned line,
	    unsigned col, const char *sub)
{
	/* Several diagnostics may share a position: any of them may match. */
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].severity == sev && gp_streq(d->v[i].file, file) &&
		    d->v[i].line == line && d->v[i].col == col && contains(d->v[i].message, sub))
			return;
	for (size_t i = 0; i < d->n; i++)
		print_message("diag %s:%u:%u %s\n", d->v[i].file, d->v[i].line, d->v[i].col,
			      d->v[i].message);
	fail_msg("no %s at %s:%u:%u containing \"%s\"", gp_severity_to_string(sev), file, line, col,
		 sub);
}

static size_t
count_sev(const struct gp_diags *d, enum gp_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].severity == sev;
	return n;
}

static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- naming rules ---- */

static void
test_database_name_rule(void **state)
{
	char *s63 = repeat('a', 63), *s64 = repeat('a', 64);

	assert_null(gp_check_database_name("abc"));
	assert_null(gp_check_database_name("inventory_service"));
	assert_null(gp_check_database_name("a1_"));
	assert_null(gp_check_database_name(s63));
	assert_non_null(gp_check_database_name(s64));
	assert_non_null(gp_check_database_name("ab"));
	assert_non_null(gp_check_database_name(""));
	assert_non_null(gp_check_database_name("Inventory"));
	assert_non_null(gp_check_database_name("inventorY"));
	assert_non_null(gp_check_database_name("1abc"));
	assert_non_null(gp_check_database_name("_abc"));
	assert_non_null(gp_check_database_name("inv-service"));
	assert_non_null(gp_check_database_name("inv service"));
	assert_non_null(gp_check_database_name("inv\xc3\xa9"));
	assert_string_equal(gp_check_database_name("X"), "must match ^[a-z][a-z0-9_]{2,62}$");
	assert_string_equal(gp_check_database_name(NULL), "is missing");
	free(s63);
	free(s64);
}

static void
test_username_rule(void **state)
{
	char *s31 = repeat('u', 31), *s32 = repeat('u', 32);

	assert_null(gp_check_username("abc"));
	assert_null(gp_check_username("inventory_user"));
	assert_null(gp_check_username(s31));
	assert_non_null(gp_check_username(s32));
	assert_non_null(gp_check_username("ab"));
	assert_non_null(gp_check_username("Bad"));
	assert_non_null(gp_check_username("9user"));
	assert_non_null(gp_check_username("app-user"));
	assert_non_null(gp_check_username("user;"));
	assert_string_equal(gp_check_username("Bad"), "must match ^[a-z][a-z0-9_]{2,30}$");
	assert_string_equal(gp_check_username(NULL), "is missing");
	free(s31);
	free(s32);
}

static void
test_app_key_rule(void **state)
{
	char *s63 = repeat('k', 63), *s64 = repeat('k', 64);

	assert_null(gp_check_app_key("a"));
	assert_null(gp_check_app_key("0"));
	assert_null(gp_check_app_key("inventory"));
	assert_null(gp_check_app_key("9lives"));
	assert_null(gp_check_app_key("my-app_2"));
	assert_null(gp_check_app_key(s63));
	assert_non_null(gp_check_app_key(s64));
	assert_non_null(gp_check_app_key(""));
	assert_non_null(gp_check_app_key("-app"));
	assert_non_null(gp_check_app_key("_app"));
	assert_non_null(gp_check_app_key("App"));
	assert_non_null(gp_check_app_key("my.app"));
	assert_non_null(gp_check_app_key("my/app"));
	assert_string_equal(gp_check_app_key(NULL), "is missing");
	free(s63);
	free(s64);
}

static void
test_requester_rule(void **state)
{
	assert_null(gp_check_requester("daniel-deans"));
	assert_null(gp_check_requester("a"));
	assert_null(gp_check_requester("-"));
	assert_null(gp_check_requester("bot-2"));
	assert_non_null(gp_check_requester(""));
	assert_non_null(gp_check_requester("Daniel"));
	assert_non_null(gp_check_requester("daniel_deans"));
	assert_non_null(gp_check_requester("daniel deans"));
	assert_non_null(gp_check_requester("daniel@example.com"));
	assert_non_null(gp_check_requester(NULL));
}

static void
test_reserved_names(void **state)
{
	static const char *const reserved[] = {
		"postgres",	 "template0",	 "template1",	      "rdsadmin",
		"public",	 "pg_monitor",	 "pg_signal_backend", "pg_",
		"rds_superuser", "rdsrepladmin", "rdstopmgr",	      "rds",
		"PG_x",		 "Postgres",	 "RDSADMIN"};
	static const char *const fine[] = {
		"postgres_app", "public_data", "template2",	 "pgx",	 "pg",
		"my_rds",	"app_pg_",     "inventory_user", "rd_s", "admin"};

	for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
		if (!gp_name_reserved(reserved[i], NULL, NULL))
			fail_msg("%s should be reserved", reserved[i]);
	for (size_t i = 0; i < ELEMENTSOF(fine); i++)
		if (gp_name_reserved(fine[i], NULL, NULL))
			fail_msg("%s should not be reserved", fine[i]);
	assert_false(gp_name_reserved(NULL, "master", "maindb"));
	assert_true(gp_name_reserved("master_admin", "master_admin", NULL));
	assert_true(gp_name_reserved("platform_db", NULL, "platform_db"));
	assert_true(gp_name_reserved("platform_db", "x", "platform_db"));
	assert_false(gp_name_reserved("platform_db", "master_admin", NULL));
	assert_false(gp_name_reserved("master_admin", NULL, "platform_db"));
}

/* Every reserved name, as database_name and as username, holds the entry as invalid. */
static void
test_reserved_in_join(void **state)
{
	static const char *const names[] = {"postgres", "template0", "template1", "rdsadmin",
					    "public",	"pg_app",    "rds_app"};
	struct fx *x = *state;
	char key[32], other[32];

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		snprintf(key, sizeof(key), "db%zu", i);
		snprintf(other, sizeof(other), "user_%zu", i);
		tf_add(x, key, names[i], other, NULL);
		snprintf(key, sizeof(key), "user%zu", i);
		snprintf(other, sizeof(other), "good_db_%zu", i);
		tf_add(x, key, other, names[i], NULL);
	}
	build(x);
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		snprintf(key, sizeof(key), "db%zu", i);
		assert_hold(x, key, GP_HOLD_INVALID);
		assert_reason(x, key, "database_name \"");
		assert_reason(x, key, names[i]);
		assert_reason(x, key, "is reserved");
		assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(2 * i, database),
			    TF_COL(database), "is reserved");
		snprintf(key, sizeof(key), "user%zu", i);
		assert_hold(x, key, GP_HOLD_INVALID);
		assert_reason(x, key, "username \"");
		assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(2 * i + 1, username),
			    TF_COL(username), "is reserved");
	}
	assert_int_equal(x->diags.errors, 2 * ELEMENTSOF(names));
}

static void
test_master_reserved_in_join(void **state)
{
	struct fx *x = *state;

	tf_add(x, "a", "app_db", "master_admin", NULL);
	tf_add(x, "b", "platform_db", "b_user", NULL);
	tf_add(x, "c", "c_db", "c_user", NULL);
	x->in.master_user = "master_admin";
	x->in.master_db = "platform_db";
	build(x);
	assert_hold(x, "a", GP_HOLD_INVALID);
	assert_reason(x, "a", "username \"master_admin\" is reserved (the master user)");
	assert_hold(x, "b", GP_HOLD_INVALID);
	assert_reason(x, "b", "database_name \"platform_db\" is reserved (the master database)");
	assert_hold(x, "c", GP_HOLD_NONE);
	/* Unknown master (validate): the same names pass. */
	x->in.master_user = NULL;
	x->in.master_db = NULL;
	build(x);
	assert_hold(x, "a", GP_HOLD_NONE);
	assert_hold(x, "b", GP_HOLD_NONE);
}

/* Each rule failure in the join: reason names the rule, diag at the field. */
static void
test_rule_failures_in_join(void **state)
{
	struct fx *x = *state;

	tf_add(x, "Bad-Key", "ok_db1", "ok_user1", NULL);
	tf_add(x, "k2", "ab", "ok_user2", NULL);
	tf_add(x, "k3", "ok_db3", "Bad", NULL);
	tf_add(x, "k4", "ok_db4", "ok_user4", "admin");
	tf_add(x, "k5", NULL, "ok_user5", NULL);
	tf_add(x, "k6", "ok_db6", NULL, NULL);
	build(x);
	assert_hold(x, "Bad-Key", GP_HOLD_INVALID);
	assert_reason(x, "Bad-Key", "app key \"Bad-Key\" must match ^[a-z0-9][a-z0-9_-]{0,62}$");
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(0, key), TF_COL(key), "app key");
	assert_hold(x, "k2", GP_HOLD_INVALID);
	assert_reason(x, "k2", "database_name \"ab\" must match ^[a-z][a-z0-9_]{2,62}$");
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(1, database), TF_COL(database),
		    "database_name");
	assert_hold(x, "k3", GP_HOLD_INVALID);
	assert_string_equal(entry(x, "k3")->reason,
			    "username \"Bad\" must match ^[a-z][a-z0-9_]{2,30}$");
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(2, username), TF_COL(username),
		    "username \"Bad\"");
	assert_hold(x, "k4", GP_HOLD_INVALID);
	assert_reason(x, "k4", "access_level \"admin\" must be one of owner, editor, reader");
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(3, access), TF_COL(access),
		    "access_level");
	/* Missing fields: reported at the member's key. */
	assert_hold(x, "k5", GP_HOLD_INVALID);
	assert_string_equal(entry(x, "k5")->reason, "database_name is missing");
	assert_null(entry(x, "k5")->database);
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(4, key), TF_COL(key),
		    "database_name is missing");
	assert_hold(x, "k6", GP_HOLD_INVALID);
	assert_string_equal(entry(x, "k6")->reason, "username is missing");
	assert_null(entry(x, "k6")->username);
	assert_int_equal(x->diags.errors, 6);
	assert_int_equal(count_sev(&x->diags, GP_SEV_WARNING), 0);
}

/* Several problems on one entry: all reported, the first is the reason. */
static void
test_all_problems_reported(void **state)
{
	struct fx *x = *state;

	tf_add(x, "_k", "1db", "U", "boss");
	build(x);
	assert_hold(x, "_k", GP_HOLD_INVALID);
	assert_reason(x, "_k", "app key");
	assert_int_equal(x->diags.errors, 4);
	assert_int_equal(entry(x, "_k")->access, GP_ACCESS_READER);
}

/* ---- joining ---- */

static void
test_happy_path(void **state)
{
	struct fx *x = *state;
	const struct gp_entry *e;
	size_t c;

	tf_add(x, "inventory", "inventory_service", "inventory_user", NULL);
	tf_add(x, "reporting", "inventory_service", "reporting_ro", "reader");
	tf_add(x, "etl", "inventory_service", "etl_writer", "editor");
	c = cat_add(x, "inventory_service", "dev", "inventory_user", "high", "medium", "approved");
	CAT_SET(x, c, approved_by, "platform-team");
	x->ec.defaults.createdb = false;
	build(x);
	assert_string_equal(x->d->env, "dev");
	assert_int_equal(x->d->n, 3);
	assert_int_equal(x->diags.n, 0);
	e = entry(x, "inventory");
	assert_int_equal(e->hold, GP_HOLD_NONE);
	assert_null(e->reason);
	assert_string_equal(e->database, "inventory_service");
	assert_string_equal(e->username, "inventory_user");
	assert_int_equal(e->access, GP_ACCESS_OWNER);
	assert_int_equal(e->risk, GP_RISK_HIGH);
	assert_int_equal(e->size, GP_SIZE_MEDIUM);
	assert_int_equal(e->requested, GP_STATE_APPROVED);
	assert_true(e->has_tfvars);
	assert_true(e->has_catalog);
	assert_string_equal(e->approved_by, "platform-team");
	assert_string_equal(e->owner_role, "inventory_user");
	assert_string_equal(e->secret_name, "goldenpath/dev/inventory/postgres");
	assert_false(e->createdb);
	assert_string_equal(e->file, TF_FILE);
	assert_int_equal(e->line, TF_LINE(0, key));
	assert_int_equal(e->col, TF_COL(key));
	/* Catalog metadata describes the database: it applies to the reader and editor too. */
	e = entry(x, "reporting");
	assert_int_equal(e->hold, GP_HOLD_NONE);
	assert_int_equal(e->access, GP_ACCESS_READER);
	assert_int_equal(e->risk, GP_RISK_HIGH);
	assert_string_equal(e->owner_role, "inventory_user");
	assert_string_equal(e->secret_name, "goldenpath/dev/reporting/postgres");
	e = entry(x, "etl");
	assert_int_equal(e->access, GP_ACCESS_EDITOR);
	assert_string_equal(e->owner_role, "inventory_user");
}

static void
test_tfvars_only_warning(void **state)
{
	struct fx *x = *state;
	const struct gp_entry *e;

	tf_add(x, "billing", "billing_db", "billing_user", NULL);
	/* A catalog entry for the same database in another env does not join. */
	cat_add(x, "billing_db", "prod", "billing_user", "low", "xlarge", "active");
	x->ec.defaults.risk = GP_RISK_HIGH;
	build(x);
	e = entry(x, "billing");
	assert_int_equal(e->hold, GP_HOLD_NONE);
	assert_false(e->has_catalog);
	assert_int_equal(e->risk, GP_RISK_HIGH);
	assert_int_equal(e->size, GP_SIZE_SMALL);
	assert_int_equal(e->requested, GP_STATE_PENDING);
	assert_null(e->approved_by);
	assert_string_equal(e->reason, "no catalog entry for database \"billing_db\" in dev; "
				       "provisioning with defaults (risk high, size small)");
	assert_int_equal(x->diags.errors, 0);
	assert_int_equal(x->diags.n, 1);
	assert_diag(&x->diags, GP_SEV_WARNING, TF_FILE, TF_LINE(0, key), TF_COL(key),
		    "no catalog entry");
	assert_int_equal(x->d->n, 1);

	/* Without a config: risk medium, createdb on. */
	x->in.env_config = NULL;
	build(x);
	e = entry(x, "billing");
	assert_int_equal(e->risk, GP_RISK_MEDIUM);
	assert_true(e->createdb);
	assert_reason(x, "billing", "(risk medium, size small)");
}

static void
test_catalog_only_entry(void **state)
{
	struct fx *x = *state;
	const struct gp_entry *e;

	tf_add(x, "other", "other_db", "other_user", NULL);
	cat_add(x, "other_db", "dev", "other_user", "low", "small", "active");
	cat_add(x, "pending_db", "dev", "pending_user", "high", "large", "pending");
	cat_add(x, "prod_only_db", "prod", "prod_user", "low", "small", "pending");
	build(x);
	assert_int_equal(x->d->n, 2);
	assert_null(gp_desired_find(x->d, "prod_only_db"));
	e = entry(x, "pending_db");
	assert_int_equal(e->hold, GP_HOLD_NO_TFVARS);
	assert_string_equal(e->reason, "no tfvars entry");
	assert_false(e->has_tfvars);
	assert_true(e->has_catalog);
	assert_string_equal(e->database, "pending_db");
	assert_string_equal(e->username, "pending_user");
	assert_string_equal(e->owner_role, "pending_user");
	assert_int_equal(e->access, GP_ACCESS_OWNER);
	assert_int_equal(e->risk, GP_RISK_HIGH);
	assert_int_equal(e->size, GP_SIZE_LARGE);
	assert_string_equal(e->file, CAT_FILE);
	assert_int_equal(e->line, CAT_LINE(1, database));
	assert_int_equal(e->col, CAT_COL(database));
	assert_string_equal(e->secret_name, "goldenpath/dev/pending_db/postgres");
	/* Not a problem: no diagnostic. */
	assert_int_equal(x->diags.n, 0);
	assert_hold(x, "other", GP_HOLD_NONE);
}

static void
test_catalog_only_invalid(void **state)
{
	struct fx *x = *state;

	cat_add(x, "pg_stuff", "dev", "fine_user", "low", "small", "pending");
	cat_add(x, "fine_db", "dev", "Bad User", "low", "small", "pending");
	cat_add(x, "nouser_db", "dev", NULL, "low", "small", "pending");
	build(x);
	assert_hold(x, "pg_stuff", GP_HOLD_INVALID);
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, database), CAT_COL(database),
		    "database \"pg_stuff\" is reserved");
	assert_hold(x, "fine_db", GP_HOLD_INVALID);
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(1, username), CAT_COL(username),
		    "configuration.username \"Bad User\" must match");
	/* A missing username is the tfvars' business: only "no tfvars entry". */
	assert_hold(x, "nouser_db", GP_HOLD_NO_TFVARS);
	assert_null(entry(x, "nouser_db")->username);
	assert_int_equal(x->diags.errors, 2);
}

static void
test_catalog_only_key_collision(void **state)
{
	struct fx *x = *state;

	tf_add(x, "shop", "shop_db", "shop_user", NULL);
	cat_std(x, "shop_db", "shop_user");
	cat_std(x, "shop", "other_user");
	build(x);
	assert_int_equal(x->d->n, 1);
	assert_string_equal(entry(x, "shop")->database, "shop_db");
	assert_int_equal(x->diags.errors, 0);
	assert_diag(&x->diags, GP_SEV_WARNING, CAT_FILE, CAT_LINE(1, database), CAT_COL(database),
		    "is the app key of another entry");
}

/* ---- conflicts ---- */

static void
test_conflict_catalog_username(void **state)
{
	struct fx *x = *state;
	char where[128];

	tf_add(x, "inv", "inv_db", "inv_user", NULL);
	tf_add(x, "inv-ro", "inv_db", "inv_ro", "reader");
	tf_add(x, "other", "other_db", "other_user", NULL);
	cat_std(x, "inv_db", "someone_else");
	cat_std(x, "other_db", "other_user");
	build(x);
	assert_hold(x, "inv", GP_HOLD_CONFLICT);
	assert_reason(x, "inv",
		      "username \"inv_user\" of owner entry \"inv\" differs from the "
		      "catalog's configuration.username \"someone_else\"");
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(0, username), TF_COL(username),
		    "someone_else");
	/* The catalog's position is named in the message. */
	snprintf(where, sizeof(where), "(%s:%u:%u)", CAT_FILE, CAT_LINE(0, username),
		 CAT_COL(username));
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(0, username), TF_COL(username),
		    where);
	/* The reader is held as a consequence: its reason says why, a note says it is held. */
	assert_hold(x, "inv-ro", GP_HOLD_CONFLICT);
	assert_reason(x, "inv-ro", "owner entry \"inv\" is held: username \"inv_user\"");
	assert_null(entry(x, "inv-ro")->owner_role);
	assert_diag(&x->diags, GP_SEV_NOTE, TF_FILE, TF_LINE(1, key), TF_COL(key),
		    "held: its owner entry \"inv\" is in conflict");
	assert_hold(x, "other", GP_HOLD_NONE);
	assert_int_equal(x->diags.errors, 1);
	assert_int_equal(x->diags.n, 2);
}

static void
test_catalog_username_reader_ignored(void **state)
{
	struct fx *x = *state;

	/* The reader's own username differs from the catalog's: that is expected. */
	tf_add(x, "inv", "inv_db", "inv_user", NULL);
	tf_add(x, "inv-ro", "inv_db", "inv_ro", "reader");
	cat_std(x, "inv_db", "inv_user");
	build(x);
	assert_hold(x, "inv", GP_HOLD_NONE);
	assert_hold(x, "inv-ro", GP_HOLD_NONE);
	assert_int_equal(x->diags.n, 0);
}

static void
test_conflict_username_claimed_twice(void **state)
{
	struct fx *x = *state;

	tf_add(x, "a", "a_db", "shared_user", NULL);
	tf_add(x, "b", "b_db", "shared_user", NULL);
	tf_add(x, "b-ro", "b_db", "b_ro", "reader");
	tf_add(x, "c", "c_db", "c_user", NULL);
	tf_add(x, "c-ro", "c_db", "shared_user", "reader");
	build(x);
	assert_hold(x, "a", GP_HOLD_CONFLICT);
	assert_hold(x, "b", GP_HOLD_CONFLICT);
	assert_hold(x, "c-ro", GP_HOLD_CONFLICT);
	assert_reason(x, "a",
		      "username \"shared_user\" is claimed by 3 entries: \"a\", \"b\", "
		      "\"c-ro\"");
	for (size_t i = 0; i < 5; i += 1) {
		if (i == 2 || i == 3)
			continue;
		assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(i, username),
			    TF_COL(username), "is claimed by 3 entries");
	}
	/* b's reader follows its owner; c (the owner of c-ro's database) is unaffected. */
	assert_hold(x, "b-ro", GP_HOLD_CONFLICT);
	assert_reason(x, "b-ro", "owner entry \"b\" is held");
	assert_diag(&x->diags, GP_SEV_NOTE, TF_FILE, TF_LINE(2, key), TF_COL(key),
		    "held: its owner entry \"b\" is in conflict");
	assert_hold(x, "c", GP_HOLD_NONE);
	assert_string_equal(entry(x, "c")->owner_role, "c_user");
	assert_int_equal(x->diags.errors, 3);
}

static void
test_conflict_no_owner(void **state)
{
	struct fx *x = *state;

	tf_add(x, "lonely-ro", "lonely_db", "lonely_ro", "reader");
	tf_add(x, "lonely-rw", "lonely_db", "lonely_rw", "editor");
	tf_add(x, "fine", "fine_db", "fine_user", "owner");
	cat_std(x, "lonely_db", "lonely_owner");
	cat_std(x, "fine_db", "fine_user");
	build(x);
	assert_hold(x, "lonely-ro", GP_HOLD_CONFLICT);
	assert_string_equal(entry(x, "lonely-ro")->reason,
			    "no owner entry for database \"lonely_db\"");
	assert_hold(x, "lonely-rw", GP_HOLD_CONFLICT);
	assert_string_equal(entry(x, "lonely-rw")->reason,
			    "no owner entry for database \"lonely_db\"");
	/* One mistake, one error: at the first entry; the other is held as its consequence. */
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(0, access), TF_COL(access),
		    "no owner entry for database \"lonely_db\"");
	assert_diag(&x->diags, GP_SEV_NOTE, TF_FILE, TF_LINE(1, access), TF_COL(access),
		    "held: no owner entry for database \"lonely_db\"");
	assert_null(entry(x, "lonely-ro")->owner_role);
	assert_hold(x, "fine", GP_HOLD_NONE);
	assert_int_equal(x->diags.errors, 1);
	/* The catalog-only rule does not apply: lonely_db has tfvars entries. */
	assert_int_equal(x->d->n, 3);
}

static void
test_conflict_two_owners(void **state)
{
	struct fx *x = *state;

	tf_add(x, "one", "dup_db", "one_user", NULL);
	tf_add(x, "two", "dup_db", "two_user", "owner");
	tf_add(x, "ro", "dup_db", "ro_user", "reader");
	cat_std(x, "dup_db", "one_user");
	/* A catalog-only entry in the same pass is no part of any tfvars database group. */
	cat_std(x, "lone_db", "lone_user");
	build(x);
	assert_hold(x, "lone_db", GP_HOLD_NO_TFVARS);
	assert_hold(x, "one", GP_HOLD_CONFLICT);
	assert_hold(x, "two", GP_HOLD_CONFLICT);
	assert_hold(x, "ro", GP_HOLD_CONFLICT);
	assert_string_equal(entry(x, "one")->reason,
			    "database \"dup_db\" has 2 owner entries: \"one\", \"two\"");
	/* Default access (no access_level): at the key; explicit owner: at access_level. */
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(0, key), TF_COL(key),
		    "has 2 owner entries");
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(1, access), TF_COL(access),
		    "has 2 owner entries");
	/* The reader is no part of the mistake: held as its consequence. */
	assert_diag(&x->diags, GP_SEV_NOTE, TF_FILE, TF_LINE(2, access), TF_COL(access),
		    "held: database \"dup_db\" has 2 owner entries");
	assert_int_equal(x->diags.errors, 2);
	assert_null(entry(x, "one")->owner_role);
	assert_null(entry(x, "two")->owner_role);
	assert_null(entry(x, "ro")->owner_role);
	assert_string_equal(entry(x, "lone_db")->owner_role, "lone_user");
}

static void
test_owner_invalid_holds_database(void **state)
{
	struct fx *x = *state;

	tf_add(x, "own", "shop_db", "Owner", NULL);
	tf_add(x, "ro", "shop_db", "shop_ro", "reader");
	tf_add(x, "rw", "shop_db", "shop_rw", "editor");
	cat_std(x, "shop_db", "Owner");
	build(x);
	assert_hold(x, "own", GP_HOLD_INVALID);
	assert_hold(x, "ro", GP_HOLD_INVALID);
	assert_hold(x, "rw", GP_HOLD_INVALID);
	assert_string_equal(entry(x, "ro")->reason,
			    "owner entry \"own\" is held: username \"Owner\" must match "
			    "^[a-z][a-z0-9_]{2,30}$");
	assert_diag(&x->diags, GP_SEV_NOTE, TF_FILE, TF_LINE(1, key), TF_COL(key),
		    "held: its owner entry \"own\" is invalid");
	assert_diag(&x->diags, GP_SEV_NOTE, TF_FILE, TF_LINE(2, key), TF_COL(key),
		    "held: its owner entry \"own\" is invalid");
	assert_int_equal(x->diags.errors, 1);
	assert_int_equal(x->diags.n, 3);
}

/* An invalid access_level is neither owner nor dependent: the real owner is unaffected. */
static void
test_invalid_access_isolated(void **state)
{
	struct fx *x = *state;

	tf_add(x, "own", "shop_db", "shop_owner", NULL);
	tf_add(x, "odd", "shop_db", "shop_odd", "superuser");
	tf_add(x, "odd2", "solo_db", "solo_odd", "Owner");
	build(x);
	assert_hold(x, "own", GP_HOLD_NONE);
	assert_hold(x, "odd", GP_HOLD_INVALID);
	assert_hold(x, "odd2", GP_HOLD_INVALID);
	assert_int_equal(x->diags.errors, 2);
}

/* ---- one mistake, one diagnostic ---- */

/* The tfvars reader reported the entry's shape problem (a misspelt username): the join holds
 * it for that without a word, and its reader with a note, not an error of its own. */
static void
test_tfvars_problem_reported_once(void **state)
{
	static const char why[] = "unknown attribute \"usernme\" in application_databases"
				  "[\"ledger\"] (did you mean \"username\"?)";
	struct fx *x = *state;
	size_t i = tf_add(x, "ledger", "ledger_db", NULL, NULL);

	x->tf.v[i].username.reported = true;
	x->tf.v[i].invalid = strdup(why);
	tf_add(x, "ledger-ro", "ledger_db", "ledger_ro", "reader");
	cat_std(x, "ledger_db", "ledger_user");
	build(x);
	assert_hold(x, "ledger", GP_HOLD_INVALID);
	assert_string_equal(entry(x, "ledger")->reason, why);
	assert_hold(x, "ledger-ro", GP_HOLD_INVALID);
	assert_reason(x, "ledger-ro", "owner entry \"ledger\" is held: unknown attribute");
	assert_int_equal(x->diags.errors, 0);
	assert_int_equal(x->diags.n, 1);
	assert_diag(&x->diags, GP_SEV_NOTE, TF_FILE, TF_LINE(1, key), TF_COL(key),
		    "held: its owner entry \"ledger\" is invalid");
	assert_string_equal(x->diags.v[0].key, "ledger-ro");
}

/* A misspelt access_level is unknown: not the default owner. The database then has no owner,
 * perhaps because of it: its other entries are held with a note that says so. */
static void
test_unknown_access_reported_once(void **state)
{
	struct fx *x = *state;
	size_t i = tf_add(x, "shop", "shop_db", "shop_owner", NULL);

	x->tf.v[i].access.reported = true;
	x->tf.v[i].invalid = strdup("unknown attribute \"acess_level\" in ...");
	tf_add(x, "shop-ro", "shop_db", "shop_ro", "reader");
	tf_add(x, "shop-rw", "shop_db", "shop_rw", "editor");
	cat_std(x, "shop_db", "shop_owner");
	build(x);
	assert_hold(x, "shop", GP_HOLD_INVALID);
	assert_int_equal(entry(x, "shop")->access, GP_ACCESS_READER);
	assert_hold(x, "shop-ro", GP_HOLD_CONFLICT);
	assert_string_equal(entry(x, "shop-ro")->reason, "no owner entry for database \"shop_db\"");
	assert_hold(x, "shop-rw", GP_HOLD_CONFLICT);
	assert_int_equal(x->diags.errors, 0);
	assert_int_equal(x->diags.n, 2);
	assert_diag(&x->diags, GP_SEV_NOTE, TF_FILE, TF_LINE(1, access), TF_COL(access),
		    "held: no owner entry for database \"shop_db\" (the access_level of "
		    "\"shop\" is invalid)");
	assert_diag(&x->diags, GP_SEV_NOTE, TF_FILE, TF_LINE(2, access), TF_COL(access),
		    "held: no owner entry for database \"shop_db\" (the access_level");
}

/* The catalog reader reported a misspelt key: the entries of the database are held for it,
 * and neither the join nor `validate`'s checks report the absent field again. */
static void
test_catalog_problem_reported_once(void **state)
{
	static const char why[] = "unknown key \"rsk\" in metadata of database \"ledger_db\" "
				  "(did you mean \"risk\"?)";
	struct gp_diags d = {0};
	struct fx *x = *state;
	size_t c = cat_std(x, "ledger_db", "ledger_user");

	CAT_SET(x, c, risk, NULL);
	x->cat.v[c].risk.reported = true;
	x->cat.v[c].invalid = strdup(why);
	tf_add(x, "ledger", "ledger_db", "ledger_user", NULL);
	tf_add(x, "ledger-ro", "ledger_db", "ledger_ro", "reader");
	build(x);
	assert_hold(x, "ledger", GP_HOLD_INVALID);
	assert_string_equal(entry(x, "ledger")->reason, why);
	assert_hold(x, "ledger-ro", GP_HOLD_INVALID);
	assert_string_equal(entry(x, "ledger-ro")->reason, why);
	assert_int_equal(x->diags.n, 0);
	/* No "metadata.risk is missing" warning from the catalog's own checks either. */
	assert_int_equal(gp_catalog_validate(&x->cat, &x->en, &d), 0);
	assert_int_equal(gp_diags_count(&d, GP_SEV_WARNING), 0);
	gp_diags_release(&d);
	/* Without the mark, it is missing again. */
	x->cat.v[c].risk.reported = false;
	assert_int_equal(gp_catalog_validate(&x->cat, &x->en, &d), 0);
	assert_diag(&d, GP_SEV_WARNING, CAT_FILE, CAT_LINE(0, database), CAT_COL(database),
		    "metadata.risk is missing");
	assert_string_equal(d.v[0].key, "ledger_db");
	gp_diags_release(&d);
}

/* ---- catalog values in the join ---- */

static void
test_catalog_enum_invalid(void **state)
{
	struct fx *x = *state;
	size_t c;

	tf_add(x, "a", "a_db", "a_user", NULL);
	tf_add(x, "a-ro", "a_db", "a_ro", "reader");
	tf_add(x, "b", "b_db", "b_user", NULL);
	tf_add(x, "c", "c_db", "c_user", NULL);
	tf_add(x, "d", "d_db", "d_user", NULL);
	cat_add(x, "a_db", "dev", "a_user", "extreme", "small", "pending");
	cat_add(x, "b_db", "dev", "b_user", "low", "huge", "pending");
	cat_add(x, "c_db", "dev", "c_user", "low", "small", "waiting");
	c = cat_std(x, "d_db", "d_user");
	CAT_SET(x, c, requested_by, "Daniel_Deans");
	build(x);
	assert_hold(x, "a", GP_HOLD_INVALID);
	assert_hold(x, "a-ro", GP_HOLD_INVALID);
	assert_string_equal(entry(x, "a")->reason,
			    "metadata.risk \"extreme\" is not one of: none, low, medium, high, "
			    "access");
	/* One diagnostic for the catalog entry, not one per tfvars entry. */
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, risk), CAT_COL(risk),
		    "metadata.risk \"extreme\"");
	assert_hold(x, "b", GP_HOLD_INVALID);
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(1, size_tier), CAT_COL(size_tier),
		    "configuration.size_tier \"huge\" is not one of");
	assert_hold(x, "c", GP_HOLD_INVALID);
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(2, status), CAT_COL(status),
		    "metadata.status \"waiting\"");
	assert_hold(x, "d", GP_HOLD_INVALID);
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(3, requested_by),
		    CAT_COL(requested_by),
		    "metadata.requested_by \"Daniel_Deans\" must match ^[a-z0-9-]+$");
	assert_int_equal(x->diags.errors, 4);
}

/* enums.yaml may allow what gprdsd has no meaning for; an environment may be missing there. */
static void
test_catalog_enum_from_file(void **state)
{
	struct fx *x = *state;

	assert_int_equal(gp_strv_push(&x->en.risks, "critical"), 0);
	gp_strv_release(&x->en.environments);
	assert_int_equal(gp_strv_push(&x->en.environments, "prod"), 0);
	tf_add(x, "a", "a_db", "a_user", NULL);
	cat_add(x, "a_db", "dev", "a_user", "critical", "small", "pending");
	build(x);
	assert_hold(x, "a", GP_HOLD_INVALID);
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, environment),
		    CAT_COL(environment), "metadata.environment \"dev\" is not one of: prod");
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, risk), CAT_COL(risk),
		    "metadata.risk \"critical\" is not a value gprdsd knows (none, low, medium, "
		    "high, access)");

	/* Empty lists allow anything: only gprdsd's own enum is left. */
	gp_strv_release(&x->en.environments);
	gp_strv_release(&x->en.risks);
	build(x);
	assert_int_equal(x->diags.errors, 1);
	x->in.enums = NULL;
	build(x);
	assert_int_equal(x->diags.errors, 1);
	assert_reason(x, "a", "is not a value gprdsd knows");
}

static void
test_catalog_missing_values_default(void **state)
{
	struct fx *x = *state;
	const struct gp_entry *e;

	tf_add(x, "a", "a_db", "a_user", NULL);
	cat_add(x, "a_db", "dev", NULL, NULL, NULL, NULL);
	x->ec.defaults.risk = GP_RISK_LOW;
	build(x);
	e = entry(x, "a");
	assert_int_equal(e->hold, GP_HOLD_NONE);
	assert_true(e->has_catalog);
	assert_int_equal(e->risk, GP_RISK_LOW);
	assert_int_equal(e->size, GP_SIZE_SMALL);
	assert_int_equal(e->requested, GP_STATE_PENDING);
	assert_int_equal(x->diags.n, 0);
}

/* ---- gates ---- */

static void
test_gate_not_allowed(void **state)
{
	struct fx *x = *state;

	tf_add(x, "a", "a_db", "a_user", NULL);
	tf_add(x, "bad", "b_db", "B", NULL);
	cat_std(x, "a_db", "a_user");
	x->ec.allow_provision = false;
	build(x);
	assert_hold(x, "a", GP_HOLD_NOT_ALLOWED);
	assert_string_equal(entry(x, "a")->reason, "allow_provision is false for env dev");
	/* Gates are not diagnostics; invalid beats the gate. */
	assert_hold(x, "bad", GP_HOLD_INVALID);
	assert_int_equal(x->diags.n, 1);
}

static void
test_gate_default_without_config(void **state)
{
	struct fx *x = *state;

	tf_add(x, "a", "a_db", "a_user", NULL);
	cat_add(x, "a_db", "prod", "a_user", "low", "small", "pending");
	x->in.env_config = NULL;
	x->in.env = "prod";
	build(x);
	assert_hold(x, "a", GP_HOLD_NOT_ALLOWED);
	assert_string_equal(entry(x, "a")->reason, "allow_provision is false for env prod");
	assert_string_equal(entry(x, "a")->secret_name, "goldenpath/prod/a/postgres");
	x->in.env = "dev";
	build(x);
	assert_hold(x, "a", GP_HOLD_NONE);
}

static void
test_gate_needs_approval(void **state)
{
	struct fx *x = *state;
	size_t c;

	tf_add(x, "l", "l_db", "l_user", NULL);
	tf_add(x, "l-ro", "l_db", "l_ro", "reader");
	tf_add(x, "xl", "xl_db", "xl_user", NULL);
	tf_add(x, "xl-ok", "xlok_db", "xlok_user", NULL);
	tf_add(x, "m", "m_db", "m_user", NULL);
	tf_add(x, "l-empty", "le_db", "le_user", NULL);
	cat_add(x, "l_db", "dev", "l_user", "low", "large", "pending");
	cat_add(x, "xl_db", "dev", "xl_user", "low", "xlarge", "approved");
	c = cat_add(x, "xlok_db", "dev", "xlok_user", "low", "xlarge", "pending");
	CAT_SET(x, c, approved_by, "platform-team");
	cat_add(x, "m_db", "dev", "m_user", "low", "medium", "pending");
	c = cat_add(x, "le_db", "dev", "le_user", "low", "large", "pending");
	CAT_SET(x, c, approved_by, "");
	build(x);
	assert_hold(x, "l", GP_HOLD_NEEDS_APPROVAL);
	assert_string_equal(entry(x, "l")->reason, "size_tier large needs metadata.approved_by");
	assert_hold(x, "l-ro", GP_HOLD_NEEDS_APPROVAL);
	assert_hold(x, "xl", GP_HOLD_NEEDS_APPROVAL);
	assert_string_equal(entry(x, "xl")->reason, "size_tier xlarge needs metadata.approved_by");
	assert_hold(x, "xl-ok", GP_HOLD_NONE);
	assert_hold(x, "m", GP_HOLD_NONE);
	assert_hold(x, "l-empty", GP_HOLD_NEEDS_APPROVAL);
	assert_int_equal(x->diags.n, 0);
}

static void
test_gate_decommission(void **state)
{
	struct fx *x = *state;

	tf_add(x, "old", "old_db", "old_user", NULL);
	tf_add(x, "old-ro", "old_db", "old_ro", "reader");
	tf_add(x, "gone", "gone_db", "gone_user", NULL);
	cat_add(x, "old_db", "dev", "old_user", "low", "large", "decommissioning");
	cat_add(x, "gone_db", "dev", "gone_user", "low", "small", "decommissioned");
	cat_add(x, "was_db", "dev", "was_user", "low", "small", "decommissioned");
	x->ec.allow_provision = false;
	build(x);
	assert_hold(x, "old", GP_HOLD_DECOMMISSION);
	assert_string_equal(entry(x, "old")->reason,
			    "catalog status is decommissioning; held, nothing is removed: "
			    "allow_delete is not true for environment \"dev\"; "
			    "metadata.decommission_confirm must name the database \"old_db\"");
	assert_int_equal(entry(x, "old")->requested, GP_STATE_DECOMMISSIONING);
	assert_hold(x, "old-ro", GP_HOLD_DECOMMISSION);
	assert_hold(x, "gone", GP_HOLD_DECOMMISSION);
	assert_reason(x, "gone", "catalog status is decommissioned");
	/* Without tfvars entry too: the catalog's request is what the entry is about. */
	assert_hold(x, "was_db", GP_HOLD_DECOMMISSION);
	assert_int_equal(x->diags.n, 0);
}

/* ---- secret names ---- */

static void
test_secret_name_template(void **state)
{
	struct fx *x = *state;

	tf_add(x, "app", "app_db", "app_user", NULL);
	x->ec.secret.name = strdup("teams/{key}/{env}/{key}/db-{unknown}");
	build(x);
	assert_string_equal(entry(x, "app")->secret_name, "teams/app/dev/app/db-{unknown}");
}

static void
test_secret_name_master_collision(void **state)
{
	struct fx *x = *state;

	tf_add(x, "rds", "key_db", "app_user", NULL);
	tf_add(x, "fine", "fine_db", "fine_user", NULL);
	x->ec.secret.name = strdup("goldenpath/{env}/{key}/master");
	build(x);
	assert_hold(x, "rds", GP_HOLD_INVALID);
	assert_reason(x, "rds", "app key \"rds\" would name the master secret");
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(0, key), TF_COL(key),
		    "goldenpath/dev/rds/master");
	assert_hold(x, "fine", GP_HOLD_NONE);
}

/* ---- order ---- */

static void
test_sort_order(void **state)
{
	static const char *const want[] = {"a-own", "z-own", "m-own", "cat_only_db",
					   "b-ro",  "a-ro",  "z-rw"};
	struct fx *x = *state;

	tf_add(x, "z-rw", "beta_db", "z_rw", "editor");
	tf_add(x, "b-ro", "alpha_db", "b_ro", "reader");
	tf_add(x, "m-own", "beta_db", "m_own", NULL);
	tf_add(x, "a-ro", "beta_db", "a_ro", "reader");
	tf_add(x, "z-own", "alpha_db2", "z_own", "owner");
	tf_add(x, "a-own", "alpha_db", "a_own", "owner");
	cat_std(x, "cat_only_db", "cat_user");
	build(x);
	assert_int_equal(x->d->n, ELEMENTSOF(want));
	for (size_t i = 0; i < ELEMENTSOF(want); i++)
		assert_string_equal(x->d->v[i].key, want[i]);
	/* Input order does not matter. */
	gp_desired_free(x->d);
	x->d = NULL;
	for (size_t i = 0; i < x->tf.n / 2; i++) {
		struct gp_tfvars_entry t = x->tf.v[i];

		x->tf.v[i] = x->tf.v[x->tf.n - 1 - i];
		x->tf.v[x->tf.n - 1 - i] = t;
	}
	build(x);
	for (size_t i = 0; i < ELEMENTSOF(want); i++)
		assert_string_equal(x->d->v[i].key, want[i]);
}

/* ---- hostile input ---- */

static void
assert_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			fail_msg("byte 0x%02x in \"%s\"", *p, s);
}

static void
test_hostile_values(void **state)
{
	struct fx *x = *state;
	char *longname = repeat('a', 5000);

	tf_add(x, "sql", "x\"; DROP DATABASE prod; --", "sql_user", NULL);
	tf_add(x, "ctl", "ctl_db", "evil\n\x1b[31mred\r\t", NULL);
	tf_add(x, "utf", "caf\xc3\xa9_db", "bidi\xe2\x80\xae_user", NULL);
	tf_add(x, "long", longname, "long_user", NULL);
	tf_add(x, "bs", "back\\slash", "bs_user", NULL);
	tf_add(x, "k\xe2\x80\x8b", "zw_db", "zw_user", NULL);
	build(x);
	assert_hold(x, "sql", GP_HOLD_INVALID);
	assert_string_equal(entry(x, "sql")->reason,
			    "database_name \"x\\\"; DROP DATABASE prod; --\" must match "
			    "^[a-z][a-z0-9_]{2,62}$");
	assert_hold(x, "ctl", GP_HOLD_INVALID);
	assert_string_equal(entry(x, "ctl")->reason,
			    "username \"evil\\x0a\\x1b[31mred\\x0d\\x09\" must match "
			    "^[a-z][a-z0-9_]{2,30}$");
	assert_hold(x, "utf", GP_HOLD_INVALID);
	assert_reason(x, "utf", "database_name \"caf\\xc3\\xa9_db\"");
	assert_hold(x, "long", GP_HOLD_INVALID);
	assert_reason(x, "long", "...");
	assert_true(strlen(entry(x, "long")->reason) < 200);
	assert_hold(x, "bs", GP_HOLD_INVALID);
	assert_reason(x, "bs", "\"back\\\\slash\"");
	assert_hold(x, "k\xe2\x80\x8b", GP_HOLD_INVALID);
	assert_reason(x, "k\xe2\x80\x8b", "app key \"k\\xe2\\x80\\x8b\"");
	for (size_t i = 0; i < x->d->n; i++)
		assert_printable(x->d->v[i].reason);
	for (size_t i = 0; i < x->diags.n; i++)
		assert_printable(x->diags.v[i].message);
	/* utf's username is invalid too: both problems are reported. */
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(2, username), TF_COL(username),
		    "\"bidi\\xe2\\x80\\xae_user\"");
	free(longname);
}

static void
test_hostile_catalog_values(void **state)
{
	struct fx *x = *state;
	size_t c;

	tf_add(x, "a", "a_db", "a_user", NULL);
	c = cat_add(x, "a_db", "dev", "a_user", "low\n::error::pwned", "small", "pending");
	CAT_SET(x, c, requested_by, "x\x7f");
	build(x);
	assert_hold(x, "a", GP_HOLD_INVALID);
	assert_reason(x, "a", "\"low\\x0a::error::pwned\"");
	for (size_t i = 0; i < x->diags.n; i++)
		assert_printable(x->diags.v[i].message);
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, requested_by),
		    CAT_COL(requested_by), "\"x\\x7f\"");
}

/* ---- degenerate inputs ---- */

static void
test_empty_and_null_inputs(void **state)
{
	struct fx *x = *state;
	struct gp_desired *d = NULL;

	build(x);
	assert_int_equal(x->d->n, 0);
	assert_int_equal(x->diags.n, 0);

	cat_std(x, "only_db", "only_user");
	x->in.tfvars = NULL;
	build(x);
	assert_int_equal(x->d->n, 1);
	assert_hold(x, "only_db", GP_HOLD_NO_TFVARS);

	tf_add(x, "t", "t_db", "t_user", NULL);
	x->in.tfvars = &x->tf;
	x->in.catalog = NULL;
	x->in.enums = NULL;
	build(x);
	assert_int_equal(x->d->n, 1);
	assert_hold(x, "t", GP_HOLD_NONE);
	assert_int_equal(count_sev(&x->diags, GP_SEV_WARNING), 1);

	assert_int_equal(gp_desired_build(NULL, &d, &x->diags), -EINVAL);
	x->in.env = NULL;
	assert_int_equal(gp_desired_build(&x->in, &d, &x->diags), -EINVAL);
	assert_null(d);
}

/* A tfvars file given without a name: positions still carry line and column. */
static void
test_null_file_names(void **state)
{
	struct fx *x = *state;

	free(x->tf.file);
	x->tf.file = NULL;
	tf_add(x, "a", "A", "a_user", NULL);
	build(x);
	assert_hold(x, "a", GP_HOLD_INVALID);
	assert_null(entry(x, "a")->file);
	assert_diag(&x->diags, GP_SEV_ERROR, NULL, TF_LINE(0, database), TF_COL(database),
		    "database_name");
}

/* ---- a realistic mix ---- */

static void
test_big_mixed_scenario(void **state)
{
	static const struct {
		const char *key;
		enum gp_hold hold;
	} want[] = {
		/* owners, by database */
		{"analytics", GP_HOLD_NEEDS_APPROVAL},
		{"Bad_Key", GP_HOLD_INVALID},
		{"billing", GP_HOLD_NONE},
		{"dup-a", GP_HOLD_CONFLICT},
		{"dup-b", GP_HOLD_CONFLICT},
		{"inventory", GP_HOLD_NONE},
		{"old", GP_HOLD_DECOMMISSION},
		{"pending_db", GP_HOLD_NO_TFVARS},
		/* then editors and readers, by database and key */
		{"analytics-ro", GP_HOLD_NEEDS_APPROVAL},
		{"etl", GP_HOLD_NONE},
		{"reporting", GP_HOLD_NONE},
		{"orphan-ro", GP_HOLD_CONFLICT},
	};
	struct fx *x = *state;
	size_t c;

	tf_add(x, "inventory", "inventory_service", "inventory_user", NULL);   /* 0 */
	tf_add(x, "reporting", "inventory_service", "reporting_ro", "reader"); /* 1 */
	tf_add(x, "etl", "inventory_service", "etl_rw", "editor");	       /* 2 */
	tf_add(x, "billing", "billing_db", "billing_user", NULL);	       /* 3 */
	tf_add(x, "analytics", "analytics_db", "analytics_user", NULL);	       /* 4 */
	tf_add(x, "analytics-ro", "analytics_db", "analytics_ro", "reader");   /* 5 */
	tf_add(x, "dup-a", "dup_a_db", "shared_user", NULL);		       /* 6 */
	tf_add(x, "dup-b", "dup_b_db", "shared_user", NULL);		       /* 7 */
	tf_add(x, "orphan-ro", "orphan_db", "orphan_ro", "reader");	       /* 8 */
	tf_add(x, "Bad_Key", "bad_key_db", "bad_key_user", NULL);	       /* 9 */
	tf_add(x, "old", "old_db", "old_user", NULL);			       /* 10 */
	cat_add(x, "inventory_service", "dev", "inventory_user", "high", "medium", "active");
	cat_add(x, "analytics_db", "dev", "analytics_user", "medium", "large", "pending");
	cat_add(x, "pending_db", "dev", "pending_user", "low", "small", "pending");
	cat_add(x, "prod_db", "prod", "prod_user", "low", "small", "pending");
	cat_add(x, "old_db", "dev", "old_user", "low", "small", "decommissioning");
	c = cat_add(x, "billing_db", "staging", "billing_user", "low", "small", "active");
	CAT_SET(x, c, secret_path, "goldenpath/staging/billing_db/postgres");
	build(x);

	assert_int_equal(x->d->n, ELEMENTSOF(want));
	for (size_t i = 0; i < ELEMENTSOF(want); i++) {
		assert_string_equal(x->d->v[i].key, want[i].key);
		assert_hold(x, want[i].key, want[i].hold);
	}
	assert_null(gp_desired_find(x->d, "prod_db"));
	assert_string_equal(entry(x, "reporting")->owner_role, "inventory_user");
	assert_int_equal(entry(x, "reporting")->risk, GP_RISK_HIGH);
	assert_int_equal(entry(x, "inventory")->requested, GP_STATE_ACTIVE);
	assert_reason(x, "billing", "no catalog entry for database \"billing_db\" in dev");
	assert_reason(x, "dup-b", "is claimed by 2 entries: \"dup-a\", \"dup-b\"");
	assert_reason(x, "orphan-ro", "no owner entry");
	/* errors: dup-a, dup-b, orphan-ro, Bad_Key; warning: billing. */
	assert_int_equal(x->diags.errors, 4);
	assert_int_equal(count_sev(&x->diags, GP_SEV_WARNING), 1);
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(9, key), TF_COL(key), "Bad_Key");
	assert_diag(&x->diags, GP_SEV_ERROR, TF_FILE, TF_LINE(8, access), TF_COL(access),
		    "orphan_db");
	assert_diag(&x->diags, GP_SEV_WARNING, TF_FILE, TF_LINE(3, key), TF_COL(key), "billing_db");
	/* Every entry has a secret name and a position. */
	for (size_t i = 0; i < x->d->n; i++) {
		assert_non_null(x->d->v[i].secret_name);
		assert_true(x->d->v[i].line > 0);
		assert_non_null(x->d->v[i].file);
		if (x->d->v[i].hold != GP_HOLD_NONE)
			assert_non_null(x->d->v[i].reason);
	}
}

/* ---- gp_catalog_validate ---- */

static void
test_catalog_validate_clean(void **state)
{
	struct fx *x = *state;
	size_t c;

	c = cat_add(x, "inventory_service", "dev", "inventory_user", "medium", "small", "pending");
	CAT_SET(x, c, instance_class, "db.t3.micro");
	CAT_SET(x, c, secret_path, "goldenpath/dev/inventory_service/postgres");
	c = cat_add(x, "big_db", "prod", "big_user", "high", "xlarge", "active");
	CAT_SET(x, c, instance_class, "db.r6g.large");
	CAT_SET(x, c, secret_path, "goldenpath/prod/big/postgres");
	assert_int_equal(gp_catalog_validate(&x->cat, &x->en, &x->diags), 0);
	assert_int_equal(x->diags.n, 0);
	assert_int_equal(gp_catalog_validate(NULL, &x->en, &x->diags), 0);
	assert_int_equal(gp_catalog_validate(&x->cat, NULL, &x->diags), 0);
	assert_int_equal(gp_catalog_validate(&x->cat, &x->en, NULL), -EINVAL);
}

static void
test_catalog_validate_problems(void **state)
{
	struct fx *x = *state;
	size_t c;

	c = cat_add(x, "Bad-DB", "qa", "Bad User", "extreme", "huge", "waiting");
	CAT_SET(x, c, requested_by, "Daniel Deans");
	c = cat_add(x, "postgres", "dev", "pg_owner", "low", "small", "pending");
	c = cat_add(x, "fine_db", NULL, "fine_user", "low", "medium", "pending");
	CAT_SET(x, c, instance_class, "db.t3.micro");
	CAT_SET(x, c, secret_path, "goldenpath/fine_db/postgres");
	c = cat_add(x, "warn_db", "dev", "warn_user", "low", "large", "pending");
	CAT_SET(x, c, instance_class, "db.t3.large");
	CAT_SET(x, c, secret_path, "other/dev/warn_db/postgres");
	c = cat_add(x, "prefix_db", "dev", "prefix_user", "low", "small", "pending");
	CAT_SET(x, c, secret_path, "goldenpath/development/prefix_db/postgres");
	assert_int_equal(gp_catalog_validate(&x->cat, &x->en, &x->diags), -EINVAL);

	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, database), CAT_COL(database),
		    "database \"Bad-DB\" must match ^[a-z][a-z0-9_]{2,62}$");
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, username), CAT_COL(username),
		    "configuration.username \"Bad User\" must match");
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, requested_by),
		    CAT_COL(requested_by), "metadata.requested_by \"Daniel Deans\" must match");
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, environment),
		    CAT_COL(environment), "metadata.environment \"qa\" is not one of: dev, test");
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, risk), CAT_COL(risk),
		    "metadata.risk \"extreme\"");
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, size_tier), CAT_COL(size_tier),
		    "configuration.size_tier \"huge\"");
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, status), CAT_COL(status),
		    "metadata.status \"waiting\"");
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(1, database), CAT_COL(database),
		    "database \"postgres\" is reserved");
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(1, username), CAT_COL(username),
		    "configuration.username \"pg_owner\" is reserved");
	/* Missing environment: at the database key. */
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(2, database), CAT_COL(database),
		    "metadata.environment is missing");
	assert_diag(&x->diags, GP_SEV_WARNING, CAT_FILE, CAT_LINE(2, instance_class),
		    CAT_COL(instance_class),
		    "configuration.instance_class \"db.t3.micro\" does not match size_tier "
		    "medium (db.t3.small)");
	assert_diag(&x->diags, GP_SEV_WARNING, CAT_FILE, CAT_LINE(3, instance_class),
		    CAT_COL(instance_class), "(db.t3.medium)");
	assert_diag(&x->diags, GP_SEV_WARNING, CAT_FILE, CAT_LINE(3, secret_path),
		    CAT_COL(secret_path),
		    "configuration.secret_path \"other/dev/warn_db/postgres\" does not start with "
		    "goldenpath/dev/");
	assert_diag(&x->diags, GP_SEV_WARNING, CAT_FILE, CAT_LINE(4, secret_path),
		    CAT_COL(secret_path), "does not start with goldenpath/dev/");
	assert_int_equal(x->diags.errors, 10);
	assert_int_equal(count_sev(&x->diags, GP_SEV_WARNING), 4);
}

static void
test_catalog_validate_owners_domains(void **state)
{
	struct fx *x = *state;
	size_t c;

	c = cat_std(x, "a_db", "a_user");
	CAT_SET(x, c, owner, "ghost-team");
	CAT_SET(x, c, domain, "catalog");
	c = cat_std(x, "b_db", "b_user");
	CAT_SET(x, c, owner, NULL);
	CAT_SET(x, c, risk, NULL);
	/* Empty lists: any owner and domain. */
	assert_int_equal(gp_catalog_validate(&x->cat, &x->en, &x->diags), 0);
	assert_int_equal(x->diags.errors, 0);
	assert_diag(&x->diags, GP_SEV_WARNING, CAT_FILE, CAT_LINE(1, database), CAT_COL(database),
		    "metadata.owner is missing");
	assert_diag(&x->diags, GP_SEV_WARNING, CAT_FILE, CAT_LINE(1, database), CAT_COL(database),
		    "metadata.risk is missing");
	gp_diags_release(&x->diags);

	assert_int_equal(gp_strv_push(&x->en.owners, "app-team"), 0);
	assert_int_equal(gp_strv_push(&x->en.domains, "billing"), 0);
	assert_int_equal(gp_catalog_validate(&x->cat, &x->en, &x->diags), -EINVAL);
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, owner), CAT_COL(owner),
		    "metadata.owner \"ghost-team\" is not one of: app-team");
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, domain), CAT_COL(domain),
		    "metadata.domain \"catalog\" is not one of: billing");
	assert_diag(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(1, domain), CAT_COL(domain),
		    "metadata.domain");
	assert_int_equal(x->diags.errors, 3);
}

/* The join and `validate` word a catalog problem the same way, so callers can de-duplicate. */
static void
test_catalog_messages_match_join(void **state)
{
	struct fx *x = *state;
	struct gp_diags v = {0};
	const struct gp_diag *a, *b;

	tf_add(x, "a", "a_db", "a_user", NULL);
	cat_add(x, "a_db", "dev", "a_user", "extreme", "small", "pending");
	build(x);
	assert_int_equal(gp_catalog_validate(&x->cat, &x->en, &v), -EINVAL);
	a = diag_at(&x->diags, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, risk), CAT_COL(risk));
	b = diag_at(&v, GP_SEV_ERROR, CAT_FILE, CAT_LINE(0, risk), CAT_COL(risk));
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a->message, b->message);
	gp_diags_release(&v);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_database_name_rule),
		T(test_username_rule),
		T(test_app_key_rule),
		T(test_requester_rule),
		T(test_reserved_names),
		T(test_reserved_in_join),
		T(test_master_reserved_in_join),
		T(test_rule_failures_in_join),
		T(test_all_problems_reported),
		T(test_happy_path),
		T(test_tfvars_only_warning),
		T(test_catalog_only_entry),
		T(test_catalog_only_invalid),
		T(test_catalog_only_key_collision),
		T(test_conflict_catalog_username),
		T(test_catalog_username_reader_ignored),
		T(test_conflict_username_claimed_twice),
		T(test_conflict_no_owner),
		T(test_conflict_two_owners),
		T(test_owner_invalid_holds_database),
		T(test_invalid_access_isolated),
		T(test_tfvars_problem_reported_once),
		T(test_unknown_access_reported_once),
		T(test_catalog_problem_reported_once),
		T(test_catalog_enum_invalid),
		T(test_catalog_enum_from_file),
		T(test_catalog_missing_values_default),
		T(test_gate_not_allowed),
		T(test_gate_default_without_config),
		T(test_gate_needs_approval),
		T(test_gate_decommission),
		T(test_secret_name_template),
		T(test_secret_name_master_collision),
		T(test_sort_order),
		T(test_hostile_values),
		T(test_hostile_catalog_values),
		T(test_empty_and_null_inputs),
		T(test_null_file_names),
		T(test_big_mixed_scenario),
		T(test_catalog_validate_clean),
		T(test_catalog_validate_problems),
		T(test_catalog_validate_owners_domains),
		T(test_catalog_messages_match_join),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
