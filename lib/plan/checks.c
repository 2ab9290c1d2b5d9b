/*
 * plan/checks.c — which values, logins and databases a pass observes (checks.h).
 *
 * Deliberately not here: making the observations (daemon/observe.c, pg_observe.c, sm.c) and
 * deciding what a failed check calls for (plan.c).
 */
#include "plan/checks.h"

#include "codec/secret.h"
#include "plan/lifecycle.h"
#include "plan/rotation.h"

bool
gp_check_due(int64_t now, int64_t last, uint64_t interval_ms, const char *key)
{
	uint64_t h = gp_fnv64(GP_FNV64_INIT, key, strlen(key));
	uint64_t early_ms = interval_ms / 10 * (h % 1024) / 1024;

	if (last > now)
		return true;
	return (uint64_t)(now - last) * 1000 >= interval_ms - early_ms;
}

bool
gp_entry_waiting(const struct gp_record *rec, const struct gp_plan_opts *opts)
{
	if (!rec || rec->state != GP_STATE_FAILED || rec->next_retry <= opts->now || opts->retry_now)
		return false;
	if (gp_retry_pending(opts->retries, opts->n_retries, rec))
		return false; /* `gprdsd retry`: attempted now, once */
	/* A new commit is a new input: a permanent error may be fixed by it. */
	return gp_streq(rec->last_commit, opts->commit) || !opts->commit;
}

bool
gp_login_due(const struct gp_entry *e, const struct gp_record *rec,
	     const struct gp_obs_secret *s, const struct gp_plan_opts *opts)
{
	if (opts->verify_all || !rec || rec->state != GP_STATE_ACTIVE || !rec->verified_version)
		return true;
	if (s && !gp_streq(rec->verified_version, s->current_version))
		return true;
	return gp_check_due(opts->now, rec->verified_at, opts->verify_interval_ms, e->key);
}

static bool
entry_planned(const struct gp_entry *e, const struct gp_record *rec,
	      const struct gp_plan_opts *opts)
{
	return e->hold == GP_HOLD_NONE && !gp_entry_waiting(rec, opts);
}

bool
gp_entry_needs_value(const struct gp_entry *e, const struct gp_observed *o,
		  const struct gp_record *rec, const struct gp_plan_opts *opts)
{
	const struct gp_obs_secret *s = gp_observed_secret(o, e->secret_name);

	if (!s)
		return false;
	if (!rec || !rec->verified_version || !gp_streq(rec->verified_version, s->current_version))
		return true;
	if (!gp_observed_role(o, e->username))
		return true; /* the role must be created with the secret's password */
	return gp_login_due(e, rec, s, opts);
}

static bool
rotating(enum gp_rotation_why w)
{
	return w == GP_ROTATE_AGE || w == GP_ROTATE_AFTER || w == GP_ROTATE_REQUEST;
}

int
gp_plan_values_needed(const struct gp_desired *d, const struct gp_observed *o,
		      const struct gp_state_file *s, const struct gp_plan_opts *opts,
		      struct gp_strv *names)
{
	_cleanup_free_ struct gp_rotation *rot = calloc(d->n + 1, sizeof(*rot));
	int r = rot ? gp_rotation_select(d, o, s, opts, rot) : -ENOMEM;

	for (size_t i = 0; i < d->n && r >= 0; i++) {
		const struct gp_entry *e = &d->v[i];
		const struct gp_record *rec = gp_state_find((struct gp_state_file *)s, e->key);

		if (!entry_planned(e, rec, opts) || !gp_observed_secret(o, e->secret_name))
			continue;
		if (!gp_entry_needs_value(e, o, rec, opts) && !rotating(rot[i].why))
			continue;
		r = gp_strv_push(names, e->secret_name);
	}
	gp_strv_uniq(names);
	return r;
}

int
gp_checks_pending_values(const struct gp_desired *d, const struct gp_observed *o,
			 const struct gp_state_file *s, const struct gp_plan_opts *opts,
			 struct gp_strv *names)
{
	int r = 0;

	for (size_t i = 0; i < d->n && r >= 0; i++) {
		const struct gp_entry *e = &d->v[i];
		const struct gp_record *rec = gp_state_find((struct gp_state_file *)s, e->key);
		const struct gp_obs_secret *sec = gp_observed_secret(o, e->secret_name);

		if (!entry_planned(e, rec, opts) || !sec || !sec->pending_version ||
		    gp_streq(sec->pending_version, sec->current_version))
			continue;
		r = gp_strv_push(names, e->secret_name);
	}
	gp_strv_uniq(names);
	return r;
}

/* ---------------------------------------------------------------------------------------
 * In-database privileges
 */

struct due_db {
	const char *db;
	int64_t checked; /* oldest check among its editor/reader entries */
};

static int
cmp_due(const void *a, const void *b)
{
	const struct due_db *x = a, *y = b;

	return (x->checked > y->checked) - (x->checked < y->checked);
}

static bool
grants_due(const struct gp_record *rec, const struct gp_plan_opts *opts, bool *must)
{
	*must = opts->verify_all || !rec || rec->state != GP_STATE_ACTIVE ||
		!rec->grants_checked_at;
	return *must ||
	       gp_check_due(opts->now, rec->grants_checked_at, opts->verify_interval_ms, rec->key);
}

int
gp_checks_grants(const struct gp_desired *d, const struct gp_state_file *s,
		 const struct gp_plan_opts *opts, struct gp_strv *dbs)
{
	_cleanup_free_ struct due_db *due = calloc(d->n + 1, sizeof(*due));
	size_t n_due = 0, must_n;
	int r = 0;

	if (!due)
		return -ENOMEM;
	for (size_t i = 0; i < d->n && r >= 0; i++) {
		const struct gp_entry *e = &d->v[i];
		const struct gp_record *rec = gp_state_find((struct gp_state_file *)s, e->key);
		bool must;

		if (e->access == GP_ACCESS_OWNER || e->hold != GP_HOLD_NONE || !e->database ||
		    !grants_due(rec, opts, &must))
			continue;
		if (must)
			r = gp_strv_push(dbs, e->database);
		else
			due[n_due++] = (struct due_db){e->database, rec->grants_checked_at};
	}
	gp_strv_uniq(dbs);
	must_n = dbs->n;
	qsort(due, n_due, sizeof(*due), cmp_due);
	for (size_t i = 0, taken = 0; i < n_due && taken < GP_GRANT_CHECKS_PER_PASS && r >= 0;
	     i++) {
		struct gp_strv musts = {.v = dbs->v, .n = must_n};
		struct gp_strv taken_v = {.v = dbs->v + must_n, .n = dbs->n - must_n};

		/* The sorted musts by bisection, the few merely due ones taken so far by a scan. */
		if (gp_strv_has(&musts, due[i].db) || gp_strv_contains(&taken_v, due[i].db))
			continue;
		r = gp_strv_push(dbs, due[i].db);
		taken++;
	}
	gp_strv_uniq(dbs);
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Logins
 */

static bool
has_password(const char *value_json)
{
	char *pw = NULL;
	bool ok = value_json && gp_secret_password(value_json, &pw) >= 0;

	gp_secret_free_string(pw);
	return ok;
}

char *
gp_entry_current_role(const struct gp_entry *e, const struct gp_obs_secret *s,
		      const struct gp_record *rec)
{
	char *u = NULL;

	if (!e->alt_username)
		return strdup(e->username ? e->username : "");
	if (s && s->value_json && gp_secret_username(s->value_json, &u) >= 0 &&
	    gp_streq(u, e->alt_username))
		return u;
	free(u);
	if (!(s && s->value_json) && rec && gp_streq(rec->current_version, s ? s->current_version : NULL) &&
	    gp_streq(rec->current_username, e->alt_username))
		return strdup(e->alt_username);
	return strdup(e->username ? e->username : "");
}

static bool
in_progress(const struct gp_obs_secret *s)
{
	return s->pending_version && !gp_streq(s->pending_version, s->current_version);
}

/* 0: no login; 1: with the current credentials; 2: with the pending ones. */
static int
login_wanted(const struct gp_entry *e, const struct gp_observed *o,
	     const struct gp_record *rec, const struct gp_plan_opts *opts)
{
	const struct gp_obs_secret *s = gp_observed_secret(o, e->secret_name);
	_cleanup_free_ char *role = NULL;

	if (!entry_planned(e, rec, opts) || !s)
		return 0;
	if (in_progress(s))
		return has_password(s->pending_value_json) ? 2 : 0;
	if (!s->value_json || !rec || !gp_streq(rec->verified_version, s->current_version))
		return 0;
	role = gp_entry_current_role(e, s, rec);
	if (!role || !gp_observed_role(o, role) || !gp_login_due(e, rec, s, opts))
		return 0;
	return has_password(s->value_json) ? 1 : 0;
}

int
gp_checks_logins(const struct gp_desired *d, const struct gp_observed *o,
		 const struct gp_state_file *s, const struct gp_plan_opts *opts,
		 struct gp_login_check **ret, size_t *ret_n)
{
	struct gp_login_check *v = calloc(d->n + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++) {
		const struct gp_record *rec =
			gp_state_find((struct gp_state_file *)s, d->v[i].key);
		int w = login_wanted(&d->v[i], o, rec, opts);

		if (w)
			v[n++] = (struct gp_login_check){i, w == 2};
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int
gp_checks_decommission_roles(const struct gp_desired *d, const struct gp_observed *o,
			     struct gp_strv *roles)
{
	int r = 0;

	for (size_t i = 0; i < d->n && r >= 0; i++) {
		const struct gp_entry *e = &d->v[i];

		if (!e->decommission)
			continue;
		if (gp_observed_role(o, e->username))
			r = gp_strv_push(roles, e->username);
		if (r >= 0 && e->alt_username && gp_observed_role(o, e->alt_username))
			r = gp_strv_push(roles, e->alt_username);
	}
	return r;
}

int
gp_checks_secret_prefixes(const char *current, const struct gp_state_file *s,
			  struct gp_strv *out)
{
	int r = gp_strv_push(out, current);

	for (size_t i = 0; r >= 0 && s && i < s->secret_prefixes.n; i++)
		if (!gp_strv_contains(out, s->secret_prefixes.v[i]))
			r = gp_strv_push(out, s->secret_prefixes.v[i]);
	return r < 0 ? r : 0;
}

static bool
has_prefix(const char *s, const char *prefix)
{
	return s && prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Whether a managed secret of v[0..n) has the former prefix and not the current one. */
static bool
holds_managed(const struct gp_obs_secret *v, size_t n, const char *former, const char *current)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].managed && has_prefix(v[i].name, former) &&
		    !has_prefix(v[i].name, current))
			return true;
	return false;
}

int
gp_checks_keep_prefixes(const char *current, const struct gp_strv *listed,
			const struct gp_observed *o, struct gp_strv *out)
{
	struct gp_strv keep = {0};
	int r = gp_strv_push(&keep, current);

	for (size_t i = 0; r >= 0 && i < listed->n; i++) {
		const char *f = listed->v[i];

		if (gp_streq(f, current) || gp_strv_contains(&keep, f))
			continue;
		if (holds_managed(o->secrets, o->n_secrets, f, current) ||
		    holds_managed(o->deleted, o->n_deleted, f, current))
			r = gp_strv_push(&keep, f);
	}
	if (r < 0) {
		gp_strv_release(&keep);
		return r;
	}
	gp_strv_release(out);
	*out = keep;
	return 0;
}
