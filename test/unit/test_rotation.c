/*
 * Rotation on values (plan/rotation.h): every label state × strategy × due or not, the steps
 * the planner writes, pacing and the window, rotate_after and `gprdsd rotate` requests, the
 * token, and the second role of the alternating strategy. Golden plans in test/golden/plan/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "golden.h"
#include "model/names.h"
#include "plan/plan.h"
#include "plan_fixture.h"

#define DAY 86400


static void
value_of(char *buf, size_t n, const char *user, const char *db, const char *pw)
{
	snprintf(buf, n,
		 "{\"username\":\"%s\",\"password\":\"%s\",\"host\":\"db.example\","
		 "\"port\":\"5432\",\"dbname\":\"%s\",\"engine\":\"postgres\","
		 "\"postgres-password\":\"%s\"}",
		 user, pw, db, pw);
}

/* An active owner entry, converged, whose AWSCURRENT version v1 is `age` seconds old. */
static void
add(struct fixture *f, const char *key, int64_t age, enum gp_strategy strategy)
{
	struct gp_desired *d = f->d;
	struct gp_observed *o = f->o;
	char user[64], db[64], secret[128], value[512], comment[128];
	struct gp_record *rec;
	struct gp_entry *e;

	snprintf(user, sizeof(user), "%s_user", key);
	snprintf(db, sizeof(db), "%s_db", key);
	snprintf(secret, sizeof(secret), "goldenpath/dev/%s/postgres", key);
	snprintf(comment, sizeof(comment), "managed by gprdsd: env=dev key=%s", key);
	d->v = realloc(d->v, (d->n + 1) * sizeof(*d->v));
	e = &d->v[d->n++];
	*e = (struct gp_entry){.key = strdup(key), .database = strdup(db), .username = strdup(user),
			       .access = GP_ACCESS_OWNER, .risk = GP_RISK_HIGH,
			       .owner_role = strdup(user), .secret_name = strdup(secret),
			       .createdb = true, .strategy = strategy};
	if (strategy == GP_STRATEGY_ALTERNATING)
		e->alt_username = gp_alt_username(user);
	o->roles = realloc(o->roles, (o->n_roles + 2) * sizeof(*o->roles));
	o->roles[o->n_roles++] = (struct gp_obs_role){.name = strdup(user), .login = true,
						      .createdb = true, .inherit = true,
						      .comment = strdup(comment)};
	if (e->alt_username) {
		o->roles[o->n_roles++] = (struct gp_obs_role){
			.name = strdup(e->alt_username), .login = true, .createdb = true,
			.inherit = true, .comment = strdup(comment), .set_role = strdup(user)};
		o->members = realloc(o->members, (o->n_members + 1) * sizeof(*o->members));
		o->members[o->n_members++] =
			(struct gp_obs_membership){strdup(user), strdup(e->alt_username)};
	}
	o->members = realloc(o->members, (o->n_members + 1) * sizeof(*o->members));
	o->members[o->n_members++] = (struct gp_obs_membership){strdup(user), strdup("rdsmaster")};
	value_of(value, sizeof(value), user, db, "currentpw0123");
	o->secrets = realloc(o->secrets, (o->n_secrets + 1) * sizeof(*o->secrets));
	o->secrets[o->n_secrets++] = (struct gp_obs_secret){
		.name = strdup(secret), .current_version = strdup("v1"), .managed = true,
		.created = NOW - age, .changed = NOW - age, .value_json = strdup(value)};
	o->databases = realloc(o->databases, (o->n_databases + 1) * sizeof(*o->databases));
	o->databases[o->n_databases] = (struct gp_obs_database){.name = strdup(db),
								.owner = strdup(user)};
	o->databases[o->n_databases].grants = calloc(1, sizeof(struct gp_obs_grant));
	o->databases[o->n_databases].grants[0] = (struct gp_obs_grant){strdup(user), true, true,
								       true};
	o->databases[o->n_databases++].n_grants = 1;
	gp_state_upsert(f->s, key, NOW - age, &rec);
	rec->state = GP_STATE_ACTIVE;
	rec->verified_version = strdup("v1");
	rec->verified_at = NOW - 60;
	rec->last_commit = strdup("c0ffee");
	gp_observed_sort(o);
}

static int
setup(void **state)
{
	*state = fixture_new();
	return 0;
}

#define teardown fixture_teardown
#define plan fixture_plan

static void
assert_kinds(const struct gp_entry_plan *ep, const enum gp_action_kind *k, size_t n)
{
	assert_int_equal(ep->n_actions, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ep->actions[i].kind, k[i]);
}

static const enum gp_action_kind full[] = {GP_ACT_ROTATE_STAGE, GP_ACT_ROTATE_SET_PASSWORD,
					   GP_ACT_ROTATE_VERIFY, GP_ACT_ROTATE_PROMOTE};

static void
test_due_by_age_single(void **state)
{
	struct fixture *f = *state;
	char *text;
	struct gp_plan *p;

	add(f, "old", 15 * DAY, GP_STRATEGY_SINGLE);
	add(f, "young", 3 * DAY, GP_STRATEGY_SINGLE);
	p = plan(f, &text);
	assert_int_equal(golden_check("plan/rotation_single.txt", text), 0);
	assert_kinds(&p->v[0], full, 4);
	assert_int_equal(p->v[0].rotation.why, GP_ROTATE_AGE);
	assert_int_equal(p->v[0].actions[0].cred, GP_CRED_NEW);
	assert_string_equal(p->v[0].actions[0].version, "v1");
	assert_string_equal(p->v[0].actions[1].role, "old_user");
	assert_int_equal(p->v[0].actions[1].cred, GP_CRED_PENDING);
	assert_int_equal(p->v[0].actions[2].cred, GP_CRED_PENDING);
	assert_true(p->v[0].verifies);
	/* single: if anything fails after step 2, the role takes the current password back */
	assert_int_equal(p->v[0].n_undo, 1);
	assert_int_equal(p->v[0].undo_after, 1);
	assert_int_equal(p->v[0].undo[0].cred, GP_CRED_CURRENT);
	/* the young one is not due: nothing, but its due date is known */
	assert_int_equal(p->v[1].n_actions, 0);
	assert_int_equal(p->v[1].rotation.why, GP_ROTATE_NO);
	assert_int_equal(p->v[1].rotation.due_at, NOW - 3 * DAY + 14 * DAY);
	assert_null(strstr(text, "currentpw"));
	gp_plan_free(p);
	free(text);
}

static void
test_due_by_age_alternating(void **state)
{
	struct fixture *f = *state;
	char *text, value[512];
	struct gp_plan *p;

	add(f, "alt", 15 * DAY, GP_STRATEGY_ALTERNATING);
	p = plan(f, &text);
	assert_int_equal(golden_check("plan/rotation_alternating.txt", text), 0);
	assert_kinds(&p->v[0], full, 4);
	/* AWSCURRENT names alt_user: the new password goes to the other role */
	assert_string_equal(p->v[0].actions[0].role, "alt_user_alt");
	assert_string_equal(p->v[0].actions[1].role, "alt_user_alt");
	assert_int_equal(p->v[0].n_undo, 0); /* the current credentials are never touched */
	gp_plan_free(p);
	free(text);
	/* and back: when AWSCURRENT names the second role, the first one takes the new one */
	value_of(value, sizeof(value), "alt_user_alt", "alt_db", "currentpw0123");
	free(f->o->secrets[0].value_json);
	f->o->secrets[0].value_json = strdup(value);
	p = plan(f, NULL);
	assert_string_equal(p->v[0].actions[0].role, "alt_user");
	assert_null(gp_observed_login(f->o, "alt_user"));
	gp_plan_free(p);
}

static void
test_alternating_second_role(void **state)
{
	struct fixture *f = *state;
	struct gp_plan *p;
	char *text;

	add(f, "fresh", 2 * DAY, GP_STRATEGY_ALTERNATING);
	/* the second role does not exist yet */
	free(f->o->roles[1].name);
	f->o->roles[1].name = strdup("zzz_unrelated");
	p = plan(f, &text);
	assert_int_equal(golden_check("plan/alternating_setup.txt", text), 0);
	assert_int_equal(p->v[0].actions[0].kind, GP_ACT_CREATE_ROLE);
	assert_int_equal(p->v[0].actions[0].cred, GP_CRED_NONE);
	assert_string_equal(p->v[0].actions[0].role, "fresh_user_alt");
	assert_int_equal(p->v[0].actions[2].kind, GP_ACT_GRANT_MEMBERSHIP);
	assert_string_equal(p->v[0].actions[2].owner, "fresh_user");
	assert_int_equal(p->v[0].actions[3].kind, GP_ACT_SET_ROLE_DEFAULT);
	gp_plan_free(p);
	free(text);
}

/* A rotation in progress is finished first, whatever its age, from what is observed. */
static void
test_pending_states(void **state)
{
	static const enum gp_action_kind resume[] = {GP_ACT_ROTATE_SET_PASSWORD,
						     GP_ACT_ROTATE_VERIFY, GP_ACT_ROTATE_PROMOTE};
	static const enum gp_action_kind promote[] = {GP_ACT_ROTATE_PROMOTE};
	struct fixture *f = *state;
	struct gp_obs_secret *s;
	char value[512];
	struct gp_plan *p;

	add(f, "mid", 1 * DAY, GP_STRATEGY_SINGLE);
	s = &f->o->secrets[0];
	/* pending ≠ current, a login with the pending password not (yet) working */
	s->pending_version = strdup("v2");
	value_of(value, sizeof(value), "mid_user", "mid_db", "pendingpw0123");
	s->pending_value_json = strdup(value);
	p = plan(f, NULL);
	assert_int_equal(p->v[0].rotation.why, GP_ROTATE_RESUME);
	assert_true(p->v[0].rotation.in_progress);
	assert_kinds(&p->v[0], resume, 3);
	assert_string_equal(p->v[0].actions[2].version, "v1");
	gp_plan_free(p);
	/* drift repair never sets the role back to the AWSCURRENT password meanwhile */
	assert_int_equal(gp_observed_add_login(f->o, "mid_user", "v1", false, "28P01", "no"), 0);
	p = plan(f, NULL);
	assert_kinds(&p->v[0], resume, 3);
	gp_plan_free(p);
	/* the pending password already logs in (step 2 done before a crash): promote only */
	gp_observed_free(f->o);
	f->o = gp_observed_new();
	f->o->master_user = strdup("rdsmaster");
	gp_state_file_free(f->s);
	f->s = gp_state_file_new("dev");
	gp_desired_free(f->d);
	f->d = calloc(1, sizeof(*f->d));
	f->d->env = strdup("dev");
	add(f, "mid", 1 * DAY, GP_STRATEGY_SINGLE);
	s = &f->o->secrets[0];
	s->pending_version = strdup("v2");
	s->pending_value_json = strdup(value);
	assert_int_equal(gp_observed_add_login(f->o, "mid_user", "v2", true, NULL, NULL), 0);
	p = plan(f, NULL);
	assert_kinds(&p->v[0], promote, 1);
	assert_true(p->v[0].verifies);
	gp_plan_free(p);
	/* pending == current: the last call of step 4 is left */
	free(s->pending_version);
	s->pending_version = strdup("v1");
	p = plan(f, NULL);
	assert_kinds(&p->v[0], promote, 1);
	assert_non_null(strstr(p->v[0].actions[0].detail, "remove AWSPENDING"));
	gp_plan_free(p);
	/* no AWSCURRENT at all: nothing to rotate from */
	free(s->pending_version);
	s->pending_version = NULL;
	free(s->current_version);
	s->current_version = NULL;
	p = plan(f, NULL);
	assert_int_equal(p->v[0].rotation.why, GP_ROTATE_NO);
	gp_plan_free(p);
}

static void
test_on_demand(void **state)
{
	struct fixture *f = *state;
	struct gp_rotate_request req = {.key = "b", .at = NOW - 10, .by = "alice@bastion"};
	struct gp_plan *p;

	add(f, "a", 2 * DAY, GP_STRATEGY_SINGLE);
	add(f, "b", 2 * DAY, GP_STRATEGY_SINGLE);
	add(f, "c", 2 * DAY, GP_STRATEGY_SINGLE);
	/* a: catalog rotate_after, past and newer than its version: once */
	f->d->v[0].rotate_after = NOW - DAY;
	/* c: a rotate_after in the future or older than the version changes nothing */
	f->d->v[2].rotate_after = NOW + DAY;
	f->opts.requests = &req;
	f->opts.n_requests = 1;
	p = plan(f, NULL);
	assert_int_equal(p->v[0].rotation.why, GP_ROTATE_AFTER);
	assert_int_equal(p->v[1].rotation.why, GP_ROTATE_REQUEST);
	assert_non_null(strstr(p->v[1].actions[0].detail, "gprdsd rotate by alice@bastion"));
	assert_int_equal(p->v[2].rotation.why, GP_ROTATE_NO);
	gp_plan_free(p);
	f->d->v[2].rotate_after = NOW - 3 * DAY;
	req.at = NOW - 3 * DAY; /* asked before the current version was made: done already */
	p = plan(f, NULL);
	assert_int_equal(p->v[1].rotation.why, GP_ROTATE_NO);
	assert_int_equal(p->v[2].rotation.why, GP_ROTATE_NO);
	gp_plan_free(p);
	/* a request that names the version it wants replaced goes by the version, not the clock */
	req.version = "v1";
	p = plan(f, NULL);
	assert_int_equal(p->v[1].rotation.why, GP_ROTATE_REQUEST);
	gp_plan_free(p);
	req.version = "v0"; /* replaced already */
	req.at = NOW;
	p = plan(f, NULL);
	assert_int_equal(p->v[1].rotation.why, GP_ROTATE_NO);
	gp_plan_free(p);
}

static void
test_pacing_and_window(void **state)
{
	struct fixture *f = *state;
	struct gp_rotate_request req = {.key = "e5", .at = NOW, .by = "ops"};
	struct gp_plan *p;
	char key[8];

	for (int i = 0; i < 6; i++) {
		snprintf(key, sizeof(key), "e%d", i);
		add(f, key, (20 + i) * DAY, GP_STRATEGY_SINGLE);
	}
	/* e5 is already due by age, so the request is what makes it first anyway; make e0
	 * young to see the request win over age */
	f->o->secrets[5].changed = f->o->secrets[5].created = NOW - DAY;
	f->env.rotation.max_per_pass = 2;
	f->opts.requests = &req;
	f->opts.n_requests = 1;
	p = plan(f, NULL);
	/* the request first, then the oldest (e4: 24 days) */
	assert_int_equal(p->v[5].rotation.why, GP_ROTATE_REQUEST);
	assert_int_equal(p->v[4].rotation.why, GP_ROTATE_AGE);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(p->v[i].rotation.why, GP_ROTATE_NO);
		assert_true(p->v[i].rotation.deferred);
		assert_int_equal(p->v[i].n_actions, 0);
	}
	gp_plan_free(p);
	/* outside the window: scheduled ones wait, the request does not */
	f->env.rotation.window = "02:00-05:00"; /* NOW is 08:00 UTC */
	p = plan(f, NULL);
	assert_int_equal(p->v[5].rotation.why, GP_ROTATE_REQUEST);
	assert_int_equal(p->v[4].rotation.why, GP_ROTATE_NO);
	assert_true(p->v[4].rotation.deferred);
	gp_plan_free(p);
	f->env.rotation.window = "07:30-08:30";
	p = plan(f, NULL);
	assert_int_equal(p->v[4].rotation.why, GP_ROTATE_AGE);
	gp_plan_free(p);
	f->env.rotation.window = NULL;
}

/* Secrets made together come due over the last tenth of the period, not in one pass. */
static void
test_spread(void **state)
{
	struct fixture *f = *state;
	struct gp_rotation *rot;
	size_t due = 0;
	char key[16];

	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		add(f, key, 13 * DAY + 12 * 3600, GP_STRATEGY_SINGLE); /* 96% of 14 days */
	}
	rot = calloc(f->d->n, sizeof(*rot));
	f->env.rotation.max_per_pass = 1000;
	gp_observed_sort(f->o);
	assert_int_equal(gp_rotation_select(f->d, f->o, f->s, &f->opts, rot), 0);
	for (size_t i = 0; i < f->d->n; i++)
		due += rot[i].why == GP_ROTATE_AGE;
	assert_in_range(due, 40, 160);
	free(rot);
}

static void
test_token_and_age(void **state)
{
	char a[37], b[37], c[37];
	struct gp_obs_secret s = {.current_version = "v2", .changed = 500, .created = 100};
	struct gp_record rec = {.current_version = "v1", .current_since = 300};

	(void)state;
	gp_rotation_token("goldenpath/dev/x/postgres", "v1", a);
	gp_rotation_token("goldenpath/dev/x/postgres", "v1", b);
	gp_rotation_token("goldenpath/dev/x/postgres", "v2", c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 36);
	/* the record's time while the version is the one it knows, else the secret's change */
	assert_int_equal(gp_rotation_current_since(&rec, &s), 500);
	rec.current_version = "v2";
	assert_int_equal(gp_rotation_current_since(&rec, &s), 300);
	s.changed = 0;
	assert_int_equal(gp_rotation_current_since(NULL, &s), 100);
	assert_string_equal(gp_rotation_why_to_string(GP_ROTATE_AFTER), "rotate_after");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_due_by_age_single, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_by_age_alternating, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alternating_second_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_demand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pacing_and_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spread, setup, teardown),
		cmocka_unit_test(test_token_and_age),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
