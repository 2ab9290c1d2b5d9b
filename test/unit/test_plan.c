/*
 * Planner tests: desired + observed + records → actions, compared with golden files
 * (test/golden/plan/NAME.txt, regenerate with GPRDSD_UPDATE_GOLDEN=1), plus targeted checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "golden.h"
#include "plan/plan.h"
#include "plan_fixture.h"

static void
add_entry(struct fixture *f, const char *key, const char *db, const char *user,
	  enum gp_access access, const char *owner)
{
	struct gp_desired *d = f->d;
	struct gp_entry *e;
	char name[256];

	d->v = realloc(d->v, (d->n + 1) * sizeof(*d->v));
	e = &d->v[d->n++];
	snprintf(name, sizeof(name), "goldenpath/dev/%s/postgres", key);
	*e = (struct gp_entry){
		.key = strdup(key),
		.database = strdup(db),
		.username = strdup(user),
		.access = access,
		.risk = GP_RISK_MEDIUM,
		.size = GP_SIZE_SMALL,
		.requested = GP_STATE_PENDING,
		.has_tfvars = true,
		.has_catalog = true,
		.owner_role = strdup(owner),
		.secret_name = strdup(name),
		.createdb = access == GP_ACCESS_OWNER, /* as the join decides */
	};
}

static int
setup(void **state)
{
	struct fixture *f = fixture_new();

	/* These plans predate rotation and decommissioning: no rotation periods, no recovery
	 * window; a login check an hour after the last. */
	memset(f->env.rotation_ms, 0, sizeof(f->env.rotation_ms));
	f->env.rotation.max_per_pass = 0;
	f->env.rotation.warn_before_ms = 0;
	f->env.secret.recovery_window_ms = 0;
	f->opts.verify_interval_ms = 3600000;
	add_entry(f, "inventory", "inventory_service", "inventory_user", GP_ACCESS_OWNER,
		  "inventory_user");
	add_entry(f, "billing", "billing", "billing_user", GP_ACCESS_OWNER, "billing_user");
	add_entry(f, "inventory-rw", "inventory_service", "inventory_rw", GP_ACCESS_EDITOR,
		  "inventory_user");
	add_entry(f, "reporting", "inventory_service", "reporting_ro", GP_ACCESS_READER,
		  "inventory_user");
	*state = f;
	return 0;
}


static char *
plan_text(struct fixture *f, struct gp_plan **ret)
{
	struct gp_plan *p = NULL;
	struct gp_buf b = {0};

	gp_observed_sort(f->o);
	assert_int_equal(gp_plan_build(f->d, f->o, f->s, &f->opts, &p), 0);
	assert_int_equal(gp_plan_format_text(p, f->d, &b), 0);
	if (ret)
		*ret = p;
	else
		gp_plan_free(p);
	return gp_buf_steal(&b);
}

/* Observed state of a fully provisioned environment, as gprdsd itself would leave it. */
static void
observe_converged(struct fixture *f)
{
	struct gp_observed *o = f->o;

	o->n_roles = f->d->n;
	o->roles = calloc(o->n_roles, sizeof(*o->roles));
	o->n_secrets = f->d->n;
	o->secrets = calloc(o->n_secrets, sizeof(*o->secrets));
	o->n_members = 2;
	o->members = calloc(2, sizeof(*o->members));
	o->members[0] = (struct gp_obs_membership){strdup("inventory_user"), strdup("rdsmaster")};
	o->members[1] = (struct gp_obs_membership){strdup("billing_user"), strdup("rdsmaster")};
	for (size_t i = 0; i < f->d->n; i++) {
		const struct gp_entry *e = &f->d->v[i];
		char comment[200];
		struct gp_record *rec;

		snprintf(comment, sizeof(comment), "managed by gprdsd: env=dev key=%s", e->key);
		o->roles[i] = (struct gp_obs_role){.name = strdup(e->username), .login = true,
						   .createdb = e->createdb, .inherit = true,
						   .comment = strdup(comment)};
		o->secrets[i] = (struct gp_obs_secret){.name = strdup(e->secret_name),
						       .current_version = strdup("v1"),
						       .managed = true};
		gp_state_upsert(f->s, e->key, NOW - 100, &rec);
		rec->state = GP_STATE_ACTIVE;
		rec->verified_version = strdup("v1");
		rec->verified_at = NOW - 60;
		rec->last_commit = strdup("c0ffee");
	}
	o->n_databases = 2;
	o->databases = calloc(2, sizeof(*o->databases));
	for (size_t i = 0; i < 2; i++) {
		const char *db = i ? "billing" : "inventory_service";
		const char *owner = i ? "billing_user" : "inventory_user";
		struct gp_obs_database *d = &o->databases[i];
		size_t n = i ? 1 : 3;

		*d = (struct gp_obs_database){.name = strdup(db), .owner = strdup(owner)};
		d->grants = calloc(n, sizeof(*d->grants));
		d->n_grants = n;
		d->grants[0] = (struct gp_obs_grant){strdup(owner), true, true, true};
		if (!i) {
			d->grants[1] = (struct gp_obs_grant){strdup("inventory_rw"), true, true, false};
			d->grants[2] = (struct gp_obs_grant){strdup("reporting_ro"), true, true, false};
		}
	}
	o->n_access = 2;
	o->access = calloc(2, sizeof(*o->access));
	o->access[0] = (struct gp_obs_dbaccess){strdup("inventory_service"), strdup("inventory_rw"),
						true, true, true, true};
	o->access[1] = (struct gp_obs_dbaccess){strdup("inventory_service"), strdup("reporting_ro"),
						true, true, true, true};
	gp_strv_push(&o->access_checked, "inventory_service");
}

static void
test_fresh(void **state)
{
	struct fixture *f = *state;
	struct gp_plan *p = NULL;
	char *text = plan_text(f, &p);

	assert_int_equal(golden_check("plan/fresh.txt", text), 0);
	/* owner entries come first, and each starts with its secret */
	assert_int_equal(p->v[0].actions[0].kind, GP_ACT_CREATE_SECRET);
	assert_int_equal(p->v[0].actions[p->v[0].n_actions - 1].kind, GP_ACT_VERIFY_LOGIN);
	assert_true(p->n_changes > 0);
	free(text);
	gp_plan_free(p);
}

static void
test_fresh_json(void **state)
{
	struct fixture *f = *state;
	struct gp_plan *p = NULL;
	struct gp_buf b = {0};
	char *text = plan_text(f, &p);

	assert_int_equal(gp_plan_format_json(p, f->d, &b), 0);
	assert_non_null(strstr(b.p, "\"action\":\"create_database\""));
	assert_non_null(strstr(b.p, "\"why\":\"new\""));
	gp_buf_release(&b);
	free(text);
	gp_plan_free(p);
}

static void
test_converged_is_noop(void **state)
{
	struct fixture *f = *state;
	struct gp_strv names = {0};
	struct gp_plan *p = NULL;
	char *text;

	observe_converged(f);
	text = plan_text(f, &p);
	assert_int_equal(p->n_changes, 0);
	for (size_t i = 0; i < p->n; i++)
		assert_int_equal(p->v[i].n_actions, 0);
	assert_int_equal(gp_plan_values_needed(f->d, f->o, f->s, &f->opts, &names), 0);
	assert_int_equal(names.n, 0);
	assert_int_equal(golden_check("plan/converged.txt", text), 0);
	gp_strv_release(&names);
	free(text);
	gp_plan_free(p);
}

static void
test_verify_due(void **state)
{
	struct fixture *f = *state;
	struct gp_strv names = {0};
	struct gp_plan *p = NULL;
	char *text;

	observe_converged(f);
	f->opts.verify_interval_ms = 0; /* every pass */
	gp_observed_sort(f->o);
	assert_int_equal(gp_plan_values_needed(f->d, f->o, f->s, &f->opts, &names), 0);
	assert_int_equal(names.n, 4);
	text = plan_text(f, &p);
	assert_int_equal(p->n_changes, 0);
	assert_int_equal(p->v[0].n_actions, 1);
	assert_int_equal(p->v[0].actions[0].kind, GP_ACT_VERIFY_LOGIN);
	assert_int_equal(p->v[0].actions[0].why, GP_WHY_CHECK);
	gp_strv_release(&names);
	free(text);
	gp_plan_free(p);
}

/* Checks made together come due spread over the last tenth of the interval, never late. */
static void
test_check_due_spread(void **state)
{
	const uint64_t ivl = 12 * 3600 * 1000ULL;
	const int64_t last = NOW;
	size_t early = 0, at_95 = 0, late = 0;
	char key[32];

	(void)state;
	assert_true(gp_check_due(NOW, NOW, 0, "inventory"));     /* 0: every pass */
	assert_true(gp_check_due(NOW, NOW + 1, ivl, "inventory")); /* clock stepped back */
	assert_false(gp_check_due(NOW, NOW, ivl, "inventory"));
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "app-%03d", i);
		early += gp_check_due(last + (int64_t)(ivl * 9 / 10 / 1000), last, ivl, key);
		at_95 += gp_check_due(last + (int64_t)(ivl * 95 / 100 / 1000), last, ivl, key);
		late += gp_check_due(last + (int64_t)(ivl / 1000), last, ivl, key);
		/* The same key always gets the same answer. */
		assert_int_equal(gp_check_due(last + (int64_t)(ivl * 95 / 100 / 1000), last, ivl, key),
				 gp_check_due(last + (int64_t)(ivl * 95 / 100 / 1000), last, ivl, key));
	}
	assert_int_equal(early, 0);   /* nothing before nine tenths of the interval */
	assert_int_equal(late, 1000); /* everything at the interval */
	assert_in_range(at_95, 350, 650);
}

static void
test_drift(void **state)
{
	struct fixture *f = *state;
	struct gp_obs_role *r;
	char *text;

	observe_converged(f);
	gp_observed_sort(f->o);
	r = (struct gp_obs_role *)gp_observed_role(f->o, "inventory_user");
	r->createrole = true;
	r->createdb = false;
	/* CREATEDB given to the reader by hand: least privilege is restored (DESIGN §3) */
	((struct gp_obs_role *)gp_observed_role(f->o, "reporting_ro"))->createdb = true;
	/* CONNECT re-granted to PUBLIC on inventory_service, owner changed on billing */
	{
		struct gp_obs_database *db =
			(struct gp_obs_database *)gp_observed_database(f->o, "inventory_service");

		db->grants = realloc(db->grants, (db->n_grants + 1) * sizeof(*db->grants));
		db->grants[db->n_grants++] = (struct gp_obs_grant){strdup(""), true, false, false};
		db = (struct gp_obs_database *)gp_observed_database(f->o, "billing");
		free(db->owner);
		db->owner = strdup("someone_else");
	}
	/* the reader lost SELECT on a table; the editor's grant on the database went away */
	((struct gp_obs_dbaccess *)gp_observed_access(f->o, "inventory_service", "reporting_ro"))
		->tables_ok = false;
	{
		struct gp_obs_database *db =
			(struct gp_obs_database *)gp_observed_database(f->o, "inventory_service");

		db->grants[1].connect = false;
	}
	text = plan_text(f, NULL);
	assert_int_equal(golden_check("plan/drift.txt", text), 0);
	assert_non_null(strstr(text, "alter_role inventory_user (drift): createrole is on; createdb is off"));
	assert_non_null(strstr(text, "revoke_public on inventory_service (drift)"));
	assert_non_null(strstr(text, "alter_database_owner billing (drift)"));
	assert_non_null(strstr(text, "apply_grants reporting_ro on inventory_service (drift)"));
	assert_non_null(strstr(text, "alter_role reporting_ro (drift): createdb is on"));
	free(text);
}

/* A database whose privileges were not checked in this pass has no rows: that is not drift. */
static void
test_unchecked_privileges_are_not_drift(void **state)
{
	struct fixture *f = *state;
	struct gp_plan *p = NULL;
	char *text;

	observe_converged(f);
	((struct gp_obs_dbaccess *)gp_observed_access(f->o, "inventory_service", "reporting_ro"))
		->tables_ok = false;
	gp_strv_release(&f->o->access_checked);
	text = plan_text(f, &p);
	assert_int_equal(p->n_changes, 0);
	assert_null(strstr(text, "apply_grants"));
	gp_plan_free(p);
	free(text);
	/* once checked, the same observation is drift */
	gp_strv_push(&f->o->access_checked, "inventory_service");
	text = plan_text(f, &p);
	assert_non_null(strstr(text, "apply_grants reporting_ro on inventory_service (drift)"));
	gp_plan_free(p);
	free(text);
}

static void
test_adopt(void **state)
{
	struct fixture *f = *state;
	struct gp_strv names = {0};
	char *text;

	/* A secret made by Terraform (no engine, port a number) and a role made by hand. */
	f->o->n_secrets = 1;
	f->o->secrets = calloc(1, sizeof(*f->o->secrets));
	f->o->secrets[0] = (struct gp_obs_secret){
		.name = strdup("goldenpath/dev/billing/postgres"),
		.current_version = strdup("tf1"),
	};
	f->o->n_roles = 1;
	f->o->roles = calloc(1, sizeof(*f->o->roles));
	f->o->roles[0] = (struct gp_obs_role){.name = strdup("billing_user"), .login = true,
					      .createdb = true, .inherit = true};
	gp_observed_sort(f->o);
	assert_int_equal(gp_plan_values_needed(f->d, f->o, f->s, &f->opts, &names), 0);
	assert_int_equal(names.n, 1);
	assert_string_equal(names.v[0], "goldenpath/dev/billing/postgres");
	f->o->secrets[0].value_json =
		strdup("{\"username\":\"billing_user\",\"password\":\"s3cretS3cretS3cret\","
		       "\"host\":\"db.example\",\"port\":5432,\"dbname\":\"billing\"}");
	text = plan_text(f, NULL);
	assert_int_equal(golden_check("plan/adopt.txt", text), 0);
	assert_non_null(strstr(text, "adopt_secret goldenpath/dev/billing/postgres (adopt)"));
	assert_non_null(strstr(text, "set_password billing_user (adopt)"));
	assert_null(strstr(text, "s3cret"));
	gp_strv_release(&names);
	free(text);
}

static void
test_held_and_waiting(void **state)
{
	struct fixture *f = *state;
	struct gp_record *rec;
	struct gp_plan *p = NULL;
	char *text;

	f->d->v[1].hold = GP_HOLD_NEEDS_APPROVAL;
	f->d->v[1].reason = strdup("size_tier large needs metadata.approved_by");
	gp_state_upsert(f->s, "inventory", NOW - 10, &rec);
	rec->state = GP_STATE_FAILED;
	rec->next_retry = NOW + 30;
	rec->last_commit = strdup("c0ffee");
	text = plan_text(f, &p);
	assert_true(p->v[1].held);
	assert_int_equal(p->v[1].n_actions, 0);
	assert_true(p->v[0].waiting);
	assert_int_equal(p->v[0].n_actions, 0);
	assert_int_equal(golden_check("plan/held.txt", text), 0);
	gp_plan_free(p);
	free(text);
	/* an explicit request (--once) does not wait either */
	f->opts.retry_now = true;
	text = plan_text(f, &p);
	assert_false(p->v[0].waiting);
	gp_plan_free(p);
	free(text);
	f->opts.retry_now = false;
	/* a new commit ends the wait: the input may have fixed the problem */
	f->opts.commit = "beef";
	text = plan_text(f, &p);
	assert_false(p->v[0].waiting);
	assert_true(p->v[0].n_actions > 0);
	gp_plan_free(p);
	free(text);
}

/* `gprdsd retry`: the failed entry is planned before its retry time, the plan says who
 * asked, and once the record has used the request the entry waits for its backoff again. */
static void
test_retry_requested(void **state)
{
	struct fixture *f = *state;
	struct gp_retry_request req[] = {{.key = "inventory", .at = NOW - 5, .by = "alice@bastion"},
					 {.key = "zeta", .at = NOW - 5, .by = "bob@bastion"}};
	struct gp_strv names = {0};
	struct gp_record *rec;
	struct gp_plan *p = NULL;
	struct gp_buf b = {0};
	char *text;

	observe_converged(f);
	rec = gp_state_find(f->s, "inventory");
	rec->state = GP_STATE_FAILED;
	rec->next_retry = NOW + 3000;
	rec->reason = strdup("create_role: 42501 permission denied to create role");
	f->opts.retries = req;
	f->opts.n_retries = ELEMENTSOF(req);
	text = plan_text(f, &p);
	assert_false(p->v[0].waiting);
	assert_ptr_equal(p->v[0].retry, &req[0]);
	assert_int_equal(p->v[0].to, GP_STATE_ACTIVE);
	assert_non_null(strstr(text, "  inventory (inventory_service/inventory_user, owner): "
				     "failed -> active, 0 changes (retry requested by alice@bastion)\n"));
	for (size_t i = 1; i < p->n; i++)
		assert_null(p->v[i].retry); /* active entries without a request */
	assert_int_equal(gp_plan_format_json(p, f->d, &b), 0);
	assert_non_null(strstr(b.p, "\"retry_requested_by\":\"alice@bastion\""));
	assert_non_null(strstr(b.p, "\"retry_requested_by\":null"));
	/* the observe step reads what it reads for any planned entry: its login is checked */
	assert_true(gp_entry_needs_value(&f->d->v[0], f->o, rec, &f->opts));
	gp_buf_release(&b);
	gp_plan_free(p);
	free(text);
	/* used: the entry waits for its retry time again, and the plan says nothing of it */
	rec->retry_used = NOW - 5;
	text = plan_text(f, &p);
	assert_true(p->v[0].waiting);
	assert_null(p->v[0].retry);
	assert_null(strstr(text, "retry requested"));
	assert_int_equal(gp_plan_values_needed(f->d, f->o, f->s, &f->opts, &names), 0);
	assert_false(gp_strv_contains(&names, "goldenpath/dev/inventory/postgres"));
	gp_strv_release(&names);
	gp_plan_free(p);
	free(text);
}

static void
test_orphans(void **state)
{
	struct fixture *f = *state;
	struct gp_plan *p = NULL;
	char *text;

	observe_converged(f);
	f->o->roles = realloc(f->o->roles, (f->o->n_roles + 1) * sizeof(*f->o->roles));
	f->o->roles[f->o->n_roles++] = (struct gp_obs_role){
		.name = strdup("old_user"), .login = true,
		.comment = strdup("managed by gprdsd: env=dev key=old")};
	f->o->secrets = realloc(f->o->secrets, (f->o->n_secrets + 1) * sizeof(*f->o->secrets));
	f->o->secrets[f->o->n_secrets++] = (struct gp_obs_secret){
		.name = strdup("goldenpath/dev/old/postgres"), .managed = true};
	text = plan_text(f, &p);
	assert_int_equal(p->orphans.n, 2);
	assert_int_equal(p->n_changes, 0);
	assert_non_null(strstr(text, "orphaned role old_user"));
	assert_non_null(strstr(text, "orphaned secret goldenpath/dev/old/postgres"));
	gp_plan_free(p);
	free(text);
}

static void
test_superuser_master_needs_no_membership(void **state)
{
	struct fixture *f = *state;
	char *text;

	f->o->master_superuser = true;
	text = plan_text(f, NULL);
	assert_null(strstr(text, "grant_membership"));
	free(text);
}

/* A converged environment whose login check is due: the observe step tried every login. */
static void
observe_logins(struct fixture *f, const char *failing_role, const char *code)
{
	observe_converged(f);
	f->opts.verify_interval_ms = 0;
	gp_observed_sort(f->o);
	for (size_t i = 0; i < f->d->n; i++) {
		const char *u = f->d->v[i].username, *db = f->d->v[i].database;
		bool bad = gp_streq(u, failing_role);
		struct gp_obs_secret *s = gp_observed_secret_mut(f->o, f->d->v[i].secret_name);
		char value[512];

		snprintf(value, sizeof(value),
			 "{\"username\":\"%s\",\"password\":\"pw0123456789\",\"host\":"
			 "\"db.example\",\"port\":\"5432\",\"dbname\":\"%s\",\"engine\":"
			 "\"postgres\",\"postgres-password\":\"pw0123456789\"}",
			 u ? u : "", db ? db : "");
		s->value_json = strdup(value);

		assert_int_equal(gp_observed_add_login(f->o, u, "v1", !bad, bad ? code : NULL,
						       bad ? "refused" : NULL),
				 0);
	}
	gp_observed_sort(f->o);
}

static const struct gp_action *
find_action(const struct gp_entry_plan *ep, enum gp_action_kind k)
{
	for (size_t i = 0; i < ep->n_actions; i++)
		if (ep->actions[i].kind == k)
			return &ep->actions[i];
	return NULL;
}

/* A password changed by hand: the plan (not the apply step) resets it, then verifies. */
static void
test_password_drift(void **state)
{
	struct fixture *f = *state;
	const struct gp_action *a;
	struct gp_plan *p = NULL;
	char *text;

	observe_logins(f, "reporting_ro", "28P01");
	text = plan_text(f, &p);
	assert_int_equal(golden_check("plan/password_drift.txt", text), 0);
	assert_int_equal(p->n_changes, 1);
	a = find_action(&p->v[3], GP_ACT_SET_PASSWORD);
	assert_non_null(a);
	assert_int_equal(a->why, GP_WHY_DRIFT);
	assert_int_equal(a->cred, GP_CRED_CURRENT);
	assert_int_equal(p->v[3].actions[p->v[3].n_actions - 1].kind, GP_ACT_VERIFY_LOGIN);
	/* the others logged in in the observe step: nothing to do, and verified */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(p->v[i].n_actions, 0);
		assert_true(p->v[i].verifies);
	}
	gp_plan_free(p);
	free(text);
}

/* A login refused for another reason is no password drift: verified again after the other
 * repairs, and the entry fails with the server's reason if it still fails. */
static void
test_login_refused_otherwise(void **state)
{
	struct fixture *f = *state;
	struct gp_plan *p = NULL;
	char *text;

	observe_logins(f, "reporting_ro", "42501");
	text = plan_text(f, &p);
	assert_null(find_action(&p->v[3], GP_ACT_SET_PASSWORD));
	assert_int_equal(p->v[3].n_actions, 1);
	assert_int_equal(p->v[3].actions[0].kind, GP_ACT_VERIFY_LOGIN);
	assert_false(p->v[0].n_actions);
	gp_plan_free(p);
	free(text);
	/* a login observed with an older version says nothing about the current one: the
	 * role takes the new version's password and is verified after it */
	{
		struct gp_obs_secret *s =
			gp_observed_secret_mut(f->o, "goldenpath/dev/inventory/postgres");

		free(s->current_version);
		s->current_version = strdup("v2");
	}
	text = plan_text(f, &p);
	assert_non_null(find_action(&p->v[0], GP_ACT_SET_PASSWORD));
	assert_int_equal(p->v[0].actions[p->v[0].n_actions - 1].kind, GP_ACT_VERIFY_LOGIN);
	gp_plan_free(p);
	free(text);
}

/* Privileges changed by hand, as the observe step saw them in the databases it entered. */
static void
test_privilege_drift(void **state)
{
	struct fixture *f = *state;
	struct gp_obs_dbaccess *rw, *ro;
	struct gp_plan *p = NULL;
	char *text;

	observe_converged(f);
	gp_observed_sort(f->o);
	rw = (struct gp_obs_dbaccess *)gp_observed_access(f->o, "inventory_service", "inventory_rw");
	ro = (struct gp_obs_dbaccess *)gp_observed_access(f->o, "inventory_service", "reporting_ro");
	rw->defaults_ok = false;
	rw->sequences_ok = false;
	ro->schema_usage = false;
	text = plan_text(f, &p);
	assert_int_equal(golden_check("plan/privilege_drift.txt", text), 0);
	assert_int_equal(p->n_changes, 2);
	for (size_t i = 2; i < 4; i++) {
		const struct gp_action *a = find_action(&p->v[i], GP_ACT_APPLY_GRANTS);

		assert_non_null(a);
		assert_int_equal(a->why, GP_WHY_DRIFT);
		assert_string_equal(a->owner, "inventory_user");
		assert_int_equal(a->access, f->d->v[i].access);
		assert_true(p->v[i].grants_checked);
	}
	assert_false(p->v[0].grants_checked); /* owners have no in-database check */
	gp_plan_free(p);
	free(text);
}

/* What each action of a fresh plan carries for its executor. */
static void
test_actions_carry_what_they_need(void **state)
{
	struct fixture *f = *state;
	struct gp_plan *p = NULL;
	char *text = plan_text(f, &p);

	for (size_t i = 0; i < p->n; i++) {
		const struct gp_entry *e = &f->d->v[p->v[i].entry];

		for (size_t j = 0; j < p->v[i].n_actions; j++) {
			const struct gp_action *a = &p->v[i].actions[j];
			unsigned fields = gp_action_info(a->kind)->fields;

			if (fields & GP_AF_KEY)
				assert_string_equal(a->key, e->key);
			if (fields & GP_AF_SECRET)
				assert_string_equal(a->secret, e->secret_name);
			if (fields & GP_AF_DATABASE)
				assert_string_equal(a->database, e->database);
			if (fields & GP_AF_ROLE)
				assert_non_null(a->role);
			if (fields & GP_AF_OWNER)
				assert_non_null(a->owner);
			/* a fresh entry: every password is the one its create_secret generates */
			if (fields & GP_AF_CRED)
				assert_int_equal(a->cred, GP_CRED_NEW);
		}
	}
	/* editors and readers wait for the owner's new database if that entry fails */
	assert_int_equal(p->v[0].depends_on, -1);
	assert_int_equal(p->v[2].depends_on, 0);
	assert_int_equal(p->v[3].depends_on, 0);
	assert_non_null(strstr(p->v[2].cascade_note, "its owner entry failed"));
	gp_plan_free(p);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_fresh_json, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_converged_is_noop, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_verify_due, setup, fixture_teardown),
		cmocka_unit_test(test_check_due_spread),
		cmocka_unit_test_setup_teardown(test_drift, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_unchecked_privileges_are_not_drift, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_adopt, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_held_and_waiting, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_retry_requested, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_orphans, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_superuser_master_needs_no_membership, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_password_drift, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_login_refused_otherwise, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_privilege_drift, setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_actions_carry_what_they_need, setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
