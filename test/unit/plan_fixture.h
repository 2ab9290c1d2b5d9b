/*
 * plan_fixture.h — what the planner tests share: one environment ("dev") with its desired
 * state, observed state, records, configuration and plan options, and planning it. Header-only
 * so each test program stays a single translation unit; include after cmocka.h.
 */
#ifndef GP_TEST_PLAN_FIXTURE_H
#define GP_TEST_PLAN_FIXTURE_H

#include <stdio.h>

#include "plan/plan.h"

#define NOW 1800000000

struct fixture {
	struct gp_desired *d;
	struct gp_observed *o;
	struct gp_state_file *s;
	struct gp_env_config env;
	struct gp_plan_opts opts;
};

/* An empty environment: master rdsmaster (not a superuser), verify_interval 12 h, now NOW,
 * the default rotation periods, alias postgres-password, recovery window 7 days. */
static inline struct fixture *
fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->d = calloc(1, sizeof(*f->d));
	f->d->env = strdup("dev");
	f->o = gp_observed_new();
	f->o->master_user = strdup("rdsmaster");
	f->s = gp_state_file_new("dev");
	f->env.name = "dev";
	for (int r = 0; r < _GP_RISK_MAX; r++)
		f->env.rotation_ms[r] = (r >= GP_RISK_HIGH ? 14 : 30) * 86400 * 1000ULL;
	f->env.rotation.max_per_pass = 10;
	f->env.rotation.warn_before_ms = 5 * 86400 * 1000ULL;
	f->env.secret.recovery_window_ms = 7 * 86400000ULL;
	gp_strv_push(&f->env.secret.password_aliases, "postgres-password");
	f->opts = (struct gp_plan_opts){.now = NOW, .verify_interval_ms = 12 * 3600 * 1000ULL,
					.commit = "c0ffee", .env = &f->env,
					.secret_host = "db.example", .secret_port = "5432"};
	return f;
}

static inline int
fixture_teardown(void **state)
{
	struct fixture *f = *state;

	gp_desired_free(f->d);
	gp_observed_free(f->o);
	gp_state_file_free(f->s);
	gp_strv_release(&f->env.secret.password_aliases);
	free(f);
	return 0;
}

/* Plans f (its observed state sorted first); the text too when text is not NULL. */
static inline struct gp_plan *
fixture_plan(struct fixture *f, char **text)
{
	struct gp_plan *p = NULL;
	struct gp_buf b = {0};

	gp_observed_sort(f->o);
	assert_int_equal(gp_plan_build(f->d, f->o, f->s, &f->opts, &p), 0);
	if (text) {
		assert_int_equal(gp_plan_format_text(p, f->d, &b), 0);
		*text = gp_buf_steal(&b);
	}
	return p;
}

#endif
