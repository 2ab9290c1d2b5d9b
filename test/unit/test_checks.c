/*
 * Which observations a pass makes (plan/checks.h), on values: the logins it tries, the
 * databases it enters for privileges, the secret values it reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "plan/checks.h"

#define NOW 1800000000
#define HOUR 3600000ULL

struct fixture {
	struct gp_desired d;
	struct gp_observed *o;
	struct gp_state_file *s;
	struct gp_plan_opts opts;
};

static void
add(struct fixture *f, const char *key, const char *db, enum gp_access access)
{
	char user[64], secret[128];
	struct gp_entry *e;
	struct gp_record *rec;

	snprintf(user, sizeof(user), "%s_user", key);
	snprintf(secret, sizeof(secret), "goldenpath/dev/%s/postgres", key);
	f->d.v = realloc(f->d.v, (f->d.n + 1) * sizeof(*f->d.v));
	e = &f->d.v[f->d.n++];
	*e = (struct gp_entry){.key = strdup(key), .database = strdup(db),
			       .username = strdup(user), .access = access,
			       .secret_name = strdup(secret)};
	gp_state_upsert(f->s, key, NOW - 100, &rec);
	rec->state = GP_STATE_ACTIVE;
	rec->verified_version = strdup("v1");
	rec->verified_at = NOW - 60;
	rec->grants_checked_at = NOW - 60;
}

/* The roles and secrets of every entry exist; values fetched; the versions verified. */
static void
observe(struct fixture *f)
{
	f->o->roles = calloc(f->d.n, sizeof(*f->o->roles));
	f->o->secrets = calloc(f->d.n, sizeof(*f->o->secrets));
	for (size_t i = 0; i < f->d.n; i++) {
		f->o->roles[i] = (struct gp_obs_role){.name = strdup(f->d.v[i].username)};
		f->o->secrets[i] = (struct gp_obs_secret){
			.name = strdup(f->d.v[i].secret_name), .current_version = strdup("v1"),
			.value_json = strdup("{\"password\":\"pw0123456789\"}")};
	}
	f->o->n_roles = f->o->n_secrets = f->d.n;
	gp_observed_sort(f->o);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->d.env = strdup("dev");
	f->o = gp_observed_new();
	f->s = gp_state_file_new("dev");
	f->opts = (struct gp_plan_opts){.now = NOW, .verify_interval_ms = 12 * HOUR,
					.commit = "c0ffee"};
	add(f, "a", "db_a", GP_ACCESS_OWNER);
	add(f, "b", "db_b", GP_ACCESS_OWNER);
	add(f, "c", "db_a", GP_ACCESS_READER);
	observe(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->d.n; i++) {
		free(f->d.v[i].key);
		free(f->d.v[i].database);
		free(f->d.v[i].username);
		free(f->d.v[i].secret_name);
	}
	free(f->d.v);
	free(f->d.env);
	gp_observed_free(f->o);
	gp_state_file_free(f->s);
	free(f);
	return 0;
}

/* The entries whose current credentials are tried, in *idx. */
static size_t
logins(struct fixture *f, size_t **idx)
{
	struct gp_login_check *v = NULL;
	size_t n = 0;

	assert_int_equal(gp_checks_logins(&f->d, f->o, f->s, &f->opts, &v, &n), 0);
	*idx = calloc(n + 1, sizeof(**idx));
	for (size_t i = 0; i < n; i++) {
		assert_false(v[i].pending);
		(*idx)[i] = v[i].entry;
	}
	free(v);
	return n;
}

static void
test_logins_when_due(void **state)
{
	struct fixture *f = *state;
	size_t *idx = NULL;

	/* verified a minute ago, every 12 h: no login */
	assert_int_equal(logins(f, &idx), 0);
	free(idx);
	/* every pass: all three */
	f->opts.verify_interval_ms = 0;
	assert_int_equal(logins(f, &idx), 3);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[2], 2);
	free(idx);
	/* not active: at once, whatever the interval */
	f->opts.verify_interval_ms = 12 * HOUR;
	gp_state_find(f->s, "b")->state = GP_STATE_FAILED;
	assert_int_equal(logins(f, &idx), 1);
	assert_int_equal(idx[0], 1);
	free(idx);
}

static void
test_no_login_where_the_plan_sets_the_password(void **state)
{
	struct fixture *f = *state;
	size_t *idx = NULL;

	f->opts.verify_interval_ms = 0;
	/* a new secret version: the planner sets the role's password anyway */
	free(f->o->secrets[0].current_version);
	f->o->secrets[0].current_version = strdup("v2");
	/* a secret without a usable password, a held entry, a missing role */
	free(f->o->secrets[1].value_json);
	f->o->secrets[1].value_json = strdup("{\"username\":\"x\"}");
	f->d.v[2].hold = GP_HOLD_INVALID;
	assert_int_equal(logins(f, &idx), 0);
	free(idx);
	f->d.v[2].hold = GP_HOLD_NONE;
	free(f->o->roles[2].name);
	f->o->roles[2].name = strdup("zz_gone");
	gp_observed_sort(f->o);
	assert_int_equal(logins(f, &idx), 0);
	free(idx);
}

static void
test_waiting_entries_are_not_observed(void **state)
{
	struct fixture *f = *state;
	struct gp_record *rec = gp_state_find(f->s, "a");
	struct gp_strv names = {0};
	size_t *idx = NULL;

	f->opts.verify_interval_ms = 0;
	rec->state = GP_STATE_FAILED;
	rec->next_retry = NOW + 60;
	rec->last_commit = strdup("c0ffee");
	assert_true(gp_entry_waiting(rec, &f->opts));
	assert_int_equal(logins(f, &idx), 2);
	assert_int_equal(idx[0], 1);
	free(idx);
	assert_int_equal(gp_plan_values_needed(&f->d, f->o, f->s, &f->opts, &names), 0);
	assert_int_equal(names.n, 2);
	assert_false(gp_strv_contains(&names, "goldenpath/dev/a/postgres"));
	gp_strv_release(&names);
	f->opts.retry_now = true;
	assert_false(gp_entry_waiting(rec, &f->opts));
}

/* Databases entered for privileges: always for entries not yet active, else at most
 * GP_GRANT_CHECKS_PER_PASS merely due, the oldest first. */
static void
test_grant_checks_paced(void **state)
{
	struct fixture *f = *state;
	struct gp_strv dbs = {0};
	char key[32], db[32];

	for (int i = 0; i < 120; i++) {
		snprintf(key, sizeof(key), "r%03d", i);
		snprintf(db, sizeof(db), "db%03d", i);
		add(f, key, db, GP_ACCESS_READER);
		gp_state_find(f->s, key)->grants_checked_at = NOW - 13 * 3600 - i;
	}
	assert_int_equal(gp_checks_grants(&f->d, f->s, &f->opts, &dbs), 0);
	assert_int_equal(dbs.n, GP_GRANT_CHECKS_PER_PASS);
	/* the oldest checks, db119 down to db070; the result is sorted */
	assert_true(gp_strv_has(&dbs, "db119"));
	assert_true(gp_strv_has(&dbs, "db070"));
	assert_false(gp_strv_has(&dbs, "db069"));
	for (size_t i = 1; i < dbs.n; i++)
		assert_true(strcmp(dbs.v[i - 1], dbs.v[i]) < 0);
	gp_strv_release(&dbs);
	/* a reader not yet active is checked on top of the paced ones */
	gp_state_find(f->s, "c")->state = GP_STATE_PROVISIONING;
	assert_int_equal(gp_checks_grants(&f->d, f->s, &f->opts, &dbs), 0);
	assert_int_equal(dbs.n, GP_GRANT_CHECKS_PER_PASS + 1);
	assert_true(gp_strv_contains(&dbs, "db_a"));
	gp_strv_release(&dbs);
	/* held entries have none (and owners never) */
	f->d.v[2].hold = GP_HOLD_INVALID;
	assert_int_equal(gp_checks_grants(&f->d, f->s, &f->opts, &dbs), 0);
	assert_int_equal(dbs.n, GP_GRANT_CHECKS_PER_PASS);
	assert_false(gp_strv_contains(&dbs, "db_a"));
	assert_false(gp_strv_contains(&dbs, "db_b"));
	gp_strv_release(&dbs);
}

/* --verify: every login and every editor/reader database now, though all were checked a
 * minute ago and more databases are due than GP_GRANT_CHECKS_PER_PASS; held and waiting
 * entries still are not. */
static void
test_verify_checks_everything(void **state)
{
	struct fixture *f = *state;
	struct gp_strv dbs = {0}, names = {0};
	size_t *idx = NULL;
	char key[32], db[32];

	for (int i = 0; i < 120; i++) {
		snprintf(key, sizeof(key), "r%03d", i);
		snprintf(db, sizeof(db), "db%03d", i);
		add(f, key, db, GP_ACCESS_READER);
	}
	gp_observed_free(f->o);
	f->o = gp_observed_new();
	observe(f);
	assert_int_equal(logins(f, &idx), 0);
	free(idx);
	assert_int_equal(gp_checks_grants(&f->d, f->s, &f->opts, &dbs), 0);
	assert_int_equal(dbs.n, 0);

	f->opts.verify_all = true;
	assert_int_equal(logins(f, &idx), f->d.n);
	for (size_t i = 0; i < f->d.n; i++)
		assert_int_equal(idx[i], i);
	free(idx);
	assert_int_equal(gp_plan_values_needed(&f->d, f->o, f->s, &f->opts, &names), 0);
	assert_int_equal(names.n, f->d.n);
	gp_strv_release(&names);
	assert_int_equal(gp_checks_grants(&f->d, f->s, &f->opts, &dbs), 0);
	assert_int_equal(dbs.n, 121); /* db000..db119 and c's db_a; owners' db_b not */
	assert_true(gp_strv_has(&dbs, "db_a"));
	assert_false(gp_strv_has(&dbs, "db_b"));
	gp_strv_release(&dbs);

	f->d.v[2].hold = GP_HOLD_INVALID;
	gp_state_find(f->s, "a")->state = GP_STATE_FAILED;
	gp_state_find(f->s, "a")->next_retry = NOW + 60;
	gp_state_find(f->s, "a")->last_commit = strdup("c0ffee");
	assert_int_equal(logins(f, &idx), f->d.n - 2);
	assert_int_equal(idx[0], 1);
	free(idx);
	assert_int_equal(gp_checks_grants(&f->d, f->s, &f->opts, &dbs), 0);
	assert_int_equal(dbs.n, 120);
	assert_false(gp_strv_has(&dbs, "db_a"));
	gp_strv_release(&dbs);
}

/* Secrets left under a former secret.name stay observed (and so reported as orphans) while a
 * managed one is there; a former prefix with none left, or only the current prefix's secrets
 * under it, is forgotten. A secret listed under two overlapping prefixes is kept once. */
static void
test_former_secret_prefixes(void **state)
{
	struct fixture *f = *state;
	struct gp_strv listed = {0};
	const char *cur = "goldenpath/dev/";
	size_t n;

	gp_strv_push(&f->s->secret_prefixes, "goldenpath/dev/");
	gp_strv_push(&f->s->secret_prefixes, "apps/dev/");
	gp_strv_push(&f->s->secret_prefixes, "gone/dev/");
	gp_strv_push(&f->s->secret_prefixes, "goldenpath/");
	assert_int_equal(gp_checks_secret_prefixes(cur, f->s, &listed), 0);
	assert_int_equal(listed.n, 4);
	assert_string_equal(listed.v[0], cur);

	/* What the listings found: the entry's secret twice (under goldenpath/ too), a managed
	 * secret under apps/dev/, an unmanaged one under gone/dev/. */
	n = f->o->n_secrets;
	f->o->secrets = realloc(f->o->secrets, (n + 3) * sizeof(*f->o->secrets));
	f->o->secrets[n] = (struct gp_obs_secret){.name = strdup("goldenpath/dev/a/postgres"),
						  .managed = true};
	f->o->secrets[n + 1] = (struct gp_obs_secret){.name = strdup("apps/dev/app"),
						      .managed = true};
	f->o->secrets[n + 2] = (struct gp_obs_secret){.name = strdup("gone/dev/x")};
	f->o->n_secrets = n + 3;
	gp_observed_sort(f->o);
	assert_int_equal(f->o->n_secrets, n + 2);

	assert_int_equal(gp_checks_keep_prefixes(cur, &listed, f->o, &f->s->secret_prefixes), 0);
	assert_int_equal(f->s->secret_prefixes.n, 2);
	assert_string_equal(f->s->secret_prefixes.v[0], cur);
	assert_string_equal(f->s->secret_prefixes.v[1], "apps/dev/");
	gp_strv_release(&listed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_logins_when_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_login_where_the_plan_sets_the_password,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiting_entries_are_not_observed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_grant_checks_paced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_checks_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_former_secret_prefixes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
