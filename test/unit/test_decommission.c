/*
 * Decommissioning, orphans and the mass-change guard on values (DESIGN §4.5, §4.6): the
 * teardown of a database with owner, editor and reader, a role with objects in another
 * database, an unmanaged role of the same name, orphans: disable, and the guard's thresholds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "golden.h"
#include "plan/plan.h"
#include "plan_fixture.h"



static void
role(struct gp_observed *o, const char *name, const char *key)
{
	char comment[128] = "";

	if (key)
		snprintf(comment, sizeof(comment), "managed by gprdsd: env=dev key=%s", key);
	o->roles = realloc(o->roles, (o->n_roles + 1) * sizeof(*o->roles));
	o->roles[o->n_roles++] = (struct gp_obs_role){.name = strdup(name), .login = true,
						      .createdb = true, .inherit = true,
						      .comment = key ? strdup(comment) : NULL};
}

/* An active entry of db whose role and secret exist and are gprdsd's. */
static void
add(struct fixture *f, const char *key, const char *db, const char *user, enum gp_access a,
    bool decommission)
{
	char secret[128];
	struct gp_record *rec;
	struct gp_entry *e;

	snprintf(secret, sizeof(secret), "goldenpath/dev/%s/postgres", key);
	f->d->v = realloc(f->d->v, (f->d->n + 1) * sizeof(*f->d->v));
	e = &f->d->v[f->d->n++];
	*e = (struct gp_entry){.key = strdup(key), .database = strdup(db), .username = strdup(user),
			       .access = a, .secret_name = strdup(secret), .createdb = true,
			       .requested = decommission ? GP_STATE_DECOMMISSIONING
							 : GP_STATE_ACTIVE,
			       .decommission = decommission};
	role(f->o, user, key);
	f->o->secrets = realloc(f->o->secrets, (f->o->n_secrets + 1) * sizeof(*f->o->secrets));
	f->o->secrets[f->o->n_secrets++] = (struct gp_obs_secret){
		.name = strdup(secret), .current_version = strdup("v1"), .managed = true};
	gp_state_upsert(f->s, key, NOW - 100, &rec);
	rec->state = GP_STATE_ACTIVE;
	rec->verified_version = strdup("v1");
	rec->verified_at = NOW - 60;
	rec->grants_checked_at = NOW - 60;
}

static void
database(struct fixture *f, const char *name, const char *owner, const char *const *grantees)
{
	struct gp_obs_database *db;
	size_t n = 1;

	while (grantees && grantees[n - 1])
		n++;
	f->o->databases = realloc(f->o->databases, (f->o->n_databases + 1) * sizeof(*db));
	db = &f->o->databases[f->o->n_databases++];
	*db = (struct gp_obs_database){.name = strdup(name), .owner = strdup(owner),
				       .grants = calloc(n, sizeof(*db->grants)), .n_grants = n};
	db->grants[0] = (struct gp_obs_grant){strdup(owner), true, true, true};
	for (size_t i = 1; i < n; i++)
		db->grants[i] = (struct gp_obs_grant){strdup(grantees[i - 1]), true, true, false};
}

static void
dep(struct fixture *f, const char *r, const char *db)
{
	f->o->deps = realloc(f->o->deps, (f->o->n_deps + 1) * sizeof(*f->o->deps));
	f->o->deps[f->o->n_deps++] = (struct gp_obs_roledep){strdup(r), strdup(db)};
}

static int
setup(void **state)
{
	static const char *const ledger_grants[] = {"ledger_rw", "ledger_ro", NULL};
	struct fixture *f = fixture_new();

	f->env.dump_dir = "/var/backups/gprdsd";
	f->env.orphans = "report";
	add(f, "ledger", "ledger", "ledger_owner", GP_ACCESS_OWNER, true);
	add(f, "notes", "notes", "notes_owner", GP_ACCESS_OWNER, false);
	add(f, "ledger-rw", "ledger", "ledger_rw", GP_ACCESS_EDITOR, true);
	add(f, "ledger-ro", "ledger", "ledger_ro", GP_ACCESS_READER, true);
	database(f, "ledger", "ledger_owner", ledger_grants);
	database(f, "notes", "notes_owner", NULL);
	/* The master is a member of the owner roles (provisioning granted it). */
	f->o->members = calloc(2, sizeof(*f->o->members));
	f->o->members[0] = (struct gp_obs_membership){strdup("ledger_owner"), strdup("rdsmaster")};
	f->o->members[1] = (struct gp_obs_membership){strdup("notes_owner"), strdup("rdsmaster")};
	f->o->n_members = 2;
	/* The editor owns a table in notes and holds privileges in ledger. */
	dep(f, "ledger_rw", "ledger");
	dep(f, "ledger_rw", "notes");
	*state = f;
	return 0;
}

#define teardown fixture_teardown
#define plan fixture_plan

static size_t
count(const struct gp_entry_plan *ep, enum gp_action_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < ep->n_actions; i++)
		n += ep->actions[i].kind == k;
	return n;
}

static void
test_teardown(void **state)
{
	struct fixture *f = *state;
	char *text;
	struct gp_plan *p = plan(f, &text);

	assert_int_equal(golden_check("plan/decommission.txt", text), 0);
	/* owner: dump, lock-out, drop the database, its role and secret */
	assert_int_equal(p->v[0].to, GP_STATE_DECOMMISSIONED);
	assert_int_equal(p->v[0].actions[0].kind, GP_ACT_DUMP_DATABASE);
	assert_int_equal(count(&p->v[0], GP_ACT_REVOKE_CONNECT), 3);
	assert_int_equal(count(&p->v[0], GP_ACT_DROP_DATABASE), 1);
	assert_int_equal(count(&p->v[0], GP_ACT_DROP_ROLE), 1);
	assert_int_equal(count(&p->v[0], GP_ACT_DELETE_SECRET), 1);
	/* the editor: membership for the master, its objects in notes reassigned (not in the
	 * dropped ledger), then its role */
	assert_int_equal(count(&p->v[2], GP_ACT_GRANT_MEMBERSHIP), 1);
	assert_int_equal(count(&p->v[2], GP_ACT_DROP_OWNED), 1);
	for (size_t i = 0; i < p->v[2].n_actions; i++)
		if (p->v[2].actions[i].kind == GP_ACT_DROP_OWNED) {
			assert_string_equal(p->v[2].actions[i].database, "notes");
			assert_string_equal(p->v[2].actions[i].owner, "rdsmaster");
			assert_string_equal(p->v[2].actions[i].key, "ledger-rw");
		}
	/* the other database is untouched */
	assert_int_equal(p->v[1].n_actions, 0);
	assert_int_equal(p->n_decommissions, 1);
	assert_null(p->refused);
	/* every destructive action passes the guard: every object is gprdsd's */
	for (size_t i = 0; i < p->n; i++)
		for (size_t j = 0; j < p->v[i].n_actions; j++)
			assert_null(gp_action_guard(&p->v[i].actions[j], "dev", f->o));
	gp_plan_free(p);
	free(text);
}

/* A role of the same name made by hand: the whole database's decommission stops. */
static void
test_unmanaged_role_stops_it(void **state)
{
	struct fixture *f = *state;
	struct gp_obs_role *r;
	struct gp_plan *p;

	gp_observed_sort(f->o);
	r = (struct gp_obs_role *)gp_observed_role(f->o, "ledger_ro");
	free(r->comment);
	r->comment = strdup("made by hand");
	p = plan(f, NULL);
	for (size_t i = 0; i < p->n; i++) {
		if (!f->d->v[i].decommission)
			continue;
		assert_int_equal(p->v[i].n_actions, 0);
		assert_non_null(p->v[i].refused);
		assert_non_null(strstr(p->v[i].refused, "ledger_ro does not carry gprdsd's marker"));
	}
	assert_int_equal(p->n_decommissions, 0);
	gp_plan_free(p);
}

/* A decommission that went as far as dropping the database finishes the rest only. */
static void
test_resumes_what_is_left(void **state)
{
	struct fixture *f = *state;
	struct gp_plan *p;

	gp_observed_sort(f->o);
	free(f->o->databases[0].name); /* ledger is gone */
	f->o->databases[0].name = strdup("zz_other");
	f->o->databases[0].owner[0] = 'z';
	p = plan(f, NULL);
	assert_int_equal(count(&p->v[0], GP_ACT_DROP_DATABASE), 0);
	assert_int_equal(count(&p->v[0], GP_ACT_DUMP_DATABASE), 0);
	assert_int_equal(count(&p->v[0], GP_ACT_DROP_ROLE), 1);
	assert_int_equal(p->n_decommissions, 0);
	gp_plan_free(p);
}

static void
test_guard_thresholds(void **state)
{
	struct fixture *f = *state;
	struct gp_plan *p;

	f->env.guard.max_decommissions = 1;
	p = plan(f, NULL);
	assert_null(p->refused); /* one is not more than one */
	gp_plan_free(p);
	f->env.guard.max_decommissions = 1;
	f->d->v[1].decommission = true; /* and notes too: two */
	f->d->v[1].requested = GP_STATE_DECOMMISSIONING;
	p = plan(f, NULL);
	assert_int_equal(p->n_decommissions, 2);
	assert_non_null(p->refused);
	assert_non_null(strstr(p->refused, "2 databases would be decommissioned"));
	gp_plan_free(p);
	f->opts.confirm_mass_change = true;
	p = plan(f, NULL);
	assert_null(p->refused);
	gp_plan_free(p);
	f->opts.confirm_mass_change = false;
	/* credential changes: active entries whose secrets vanished */
	for (size_t i = 0; i < f->d->n; i++)
		f->d->v[i].decommission = false;
	for (size_t i = 0; i < f->o->n_secrets; i++)
		f->o->secrets[i].name[0] = 'X';
	f->env.guard.max_credential_changes = 3;
	p = plan(f, NULL);
	assert_int_equal(p->n_credential_changes, 4);
	assert_non_null(p->refused);
	gp_plan_free(p);
	f->env.guard.max_credential_changes = 4;
	p = plan(f, NULL);
	assert_null(p->refused);
	gp_plan_free(p);
}

static void
test_orphans(void **state)
{
	struct fixture *f = *state;
	struct gp_plan *p;
	char *text;

	for (size_t i = 0; i < f->d->n; i++)
		f->d->v[i].decommission = false;
	role(f->o, "gone_user", "gone");
	database(f, "gone_db", "gone_user", NULL);
	role(f->o, "hand_made", NULL);
	f->env.orphans = "disable";
	p = plan(f, &text);
	assert_non_null(strstr(text, "orphaned role gone_user"));
	assert_non_null(strstr(text, "orphaned database gone_db"));
	assert_null(strstr(text, "hand_made"));
	assert_int_equal(p->n_orphan_actions, 1);
	assert_int_equal(p->orphan_actions[0].kind, GP_ACT_DISABLE_ROLE);
	assert_string_equal(p->orphan_actions[0].key, "gone");
	assert_null(gp_action_guard(&p->orphan_actions[0], "dev", f->o));
	gp_plan_free(p);
	free(text);
	f->env.orphans = "report";
	p = plan(f, NULL);
	assert_int_equal(p->n_orphan_actions, 0);
	gp_plan_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_teardown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmanaged_role_stops_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resumes_what_is_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guard_thresholds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphans, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
