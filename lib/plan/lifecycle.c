/*
 * lifecycle.c — state transitions of one entry's record, and the retry schedule.
 *
 * It records what happened; it does not decide what to do next (plan.c does, from the
 * record) and does not talk to anything.
 */
#include "plan/lifecycle.h"

#include "plan/plan.h"

#include "codec/secret.h"

static int
set_str(char **dst, const char *src)
{
	char *d = NULL;

	if (gp_streq(*dst, src))
		return 0;
	if (src && !(d = strdup(src)))
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

static int
set_reason(struct gp_record *rec, const char *reason)
{
	return set_str(&rec->reason, reason);
}

static void
move(struct gp_record *rec, enum gp_state to, int64_t now, struct gp_transitions *t)
{
	if (rec->state == to)
		return;
	if (t && t->n < ELEMENTSOF(t->v))
		t->v[t->n++] = (struct gp_transition){rec->state, to};
	rec->state = to;
	rec->since = now;
}

uint64_t
gp_backoff_delay_ms(uint64_t base_ms, uint64_t max_ms, unsigned attempt, double r)
{
	uint64_t d = base_ms ? base_ms : 1000;

	for (unsigned i = 1; i < attempt && d < max_ms; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	if (max_ms && d > max_ms)
		d = max_ms;
	if (r < 0 || r >= 1)
		r = 0;
	/* Half fixed, half random: never retry immediately, never all at the same instant. */
	return d / 2 + (uint64_t)((double)(d - d / 2) * r);
}

int
gp_lifecycle_hold(struct gp_record *rec, const char *reason, int64_t now,
		  struct gp_transitions *t)
{
	if (rec->state != GP_STATE_ACTIVE)
		move(rec, GP_STATE_PENDING, now, t);
	rec->next_retry = 0;
	return set_reason(rec, reason);
}

int
gp_lifecycle_begin(struct gp_record *rec, int64_t now, struct gp_transitions *t)
{
	/* A decommissioned entry that comes back starts over. */
	if (rec->state == GP_STATE_PENDING || rec->state == GP_STATE_FAILED ||
	    rec->state == GP_STATE_DECOMMISSIONING || rec->state == GP_STATE_DECOMMISSIONED)
		move(rec, GP_STATE_APPROVED, now, t);
	if (rec->state == GP_STATE_APPROVED)
		move(rec, GP_STATE_PROVISIONING, now, t);
	return 0;
}

int
gp_lifecycle_succeed(struct gp_record *rec, int64_t now, const char *commit,
		     struct gp_transitions *t)
{
	char *c = NULL;

	if (commit && !gp_streq(rec->last_commit, commit)) {
		c = strdup(commit);
		if (!c)
			return -ENOMEM;
		free(rec->last_commit);
		rec->last_commit = c;
	}
	gp_lifecycle_begin(rec, now, t);
	move(rec, GP_STATE_ACTIVE, now, t);
	rec->attempts = 0;
	rec->next_retry = 0;
	rec->transient = false;
	return set_reason(rec, NULL);
}

int
gp_lifecycle_fail(struct gp_record *rec, int64_t now, const struct gp_failure *f,
		  struct gp_transitions *t)
{
	uint64_t delay;
	char *c = NULL;

	if (f->commit && !gp_streq(rec->last_commit, f->commit)) {
		c = strdup(f->commit);
		if (!c)
			return -ENOMEM;
		free(rec->last_commit);
		rec->last_commit = c;
	}
	move(rec, GP_STATE_FAILED, now, t);
	if (rec->attempts < UINT32_MAX)
		rec->attempts++;
	rec->transient = f->transient;
	/* Permanent errors wait for new input (a commit) or, at the latest, the cap. */
	delay = f->transient ? gp_backoff_delay_ms(f->base_ms, f->max_ms, rec->attempts, f->r)
			     : f->max_ms;
	rec->next_retry = now + (int64_t)(delay / 1000 ? delay / 1000 : 1);
	return set_reason(rec, f->reason);
}

bool
gp_retry_used(const struct gp_retry_request *q, const struct gp_record *rec)
{
	return rec && rec->retry_used >= q->at;
}

static int
cmp_retry_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct gp_retry_request *)elem)->key);
}

const struct gp_retry_request *
gp_retry_pending(const struct gp_retry_request *v, size_t n, const struct gp_record *rec)
{
	const struct gp_retry_request *q;

	if (!rec || !n)
		return NULL;
	q = bsearch(rec->key, v, n, sizeof(*v), cmp_retry_key);
	return q && !gp_retry_used(q, rec) ? q : NULL;
}

/* ---------------------------------------------------------------------------------------
 * Bookkeeping
 */

int
gp_record_observe(struct gp_record *rec, const struct gp_entry_plan *ep,
		  const struct gp_entry *e, const struct gp_obs_secret *s, int64_t now)
{
	int r = set_str(&rec->database, e->database);

	if (r >= 0)
		r = set_str(&rec->username, e->username);
	if (ep && ep->retry && ep->retry->at > rec->retry_used)
		rec->retry_used = ep->retry->at;
	if (r >= 0)
		r = set_str(&rec->route, e->route);
	if (r >= 0)
		r = set_str(&rec->approvals_missing, e->approvals_missing);
	if (!s)
		return r;
	rec->secret_changed = s->changed ? s->changed : s->created;
	if (ep && ep->rotation.current_since)
		rec->current_since = ep->rotation.current_since;
	if (ep)
		rec->rotation_due = ep->rotation.due_at;
	if (r >= 0 && s->current_version)
		r = set_str(&rec->current_version, s->current_version);
	if (r >= 0 && e->alt_username && s->value_json) {
		/* Alternating: remember which role AWSCURRENT names for passes that do not read
		 * the value. */
		_cleanup_free_ char *u = NULL;

		if (gp_secret_username(s->value_json, &u) >= 0)
			r = set_str(&rec->current_username, u);
	}
	if (s->pending_version && !gp_streq(s->pending_version, s->current_version))
		rec->rotating_since = rec->rotating_since ? rec->rotating_since : now;
	else
		rec->rotating_since = 0;
	return r;
}

/* The role the version written by the plan names: the rotation's target, else NULL (the
 * entry's username, which needs no remembering). */
static const char *
written_username(const struct gp_entry_plan *ep)
{
	for (size_t i = 0; i < ep->n_actions; i++)
		if (ep->actions[i].kind == GP_ACT_ROTATE_PROMOTE)
			return ep->actions[i].role;
	return NULL;
}

int
gp_lifecycle_done(struct gp_record *rec, const struct gp_entry_plan *ep, int64_t now,
		  const char *commit, const char *written_version, const char *current_version,
		  struct gp_transitions *t)
{
	const char *version = written_version ? written_version : current_version;
	int r;

	if (ep->verifies && version) {
		r = set_str(&rec->verified_version, version);
		if (r < 0)
			return r;
		rec->verified_at = now;
	}
	if (written_version) {
		rec->secret_changed = now;
		rec->current_since = now;
		rec->rotating_since = 0;
		if (ep->rotation.period_ms)
			rec->rotation_due = now + (int64_t)(ep->rotation.period_ms / 1000);
		r = set_str(&rec->current_version, written_version);
		if (r >= 0)
			r = set_str(&rec->current_username, written_username(ep));
		if (r < 0)
			return r;
	}
	if (ep->grants_checked)
		rec->grants_checked_at = now;
	return gp_lifecycle_succeed(rec, now, commit, t);
}

int
gp_state_mark_orphans(struct gp_state_file *s, const struct gp_desired *d)
{
	struct gp_strv keys = {0};
	int r = 0;

	for (size_t i = 0; i < d->n && r >= 0; i++)
		r = gp_strv_push(&keys, d->v[i].key);
	gp_strv_sort(&keys);
	for (size_t i = 0; i < s->n && r >= 0; i++) {
		struct gp_record *rec = &s->v[i];

		if (gp_strv_has(&keys, rec->key) || gp_streq(rec->reason, GP_ORPHANED_REASON))
			continue;
		r = set_str(&rec->reason, GP_ORPHANED_REASON);
		rec->next_retry = 0;
	}
	gp_strv_release(&keys);
	return r;
}

int
gp_lifecycle_decommission_begin(struct gp_record *rec, int64_t now, struct gp_transitions *t)
{
	move(rec, GP_STATE_DECOMMISSIONING, now, t);
	return 0;
}

int
gp_lifecycle_decommissioned(struct gp_record *rec, int64_t now, const char *commit,
			    struct gp_transitions *t)
{
	int r = commit ? set_str(&rec->last_commit, commit) : 0;

	move(rec, GP_STATE_DECOMMISSIONED, now, t);
	rec->attempts = 0;
	rec->next_retry = 0;
	rec->transient = false;
	rec->rotating_since = 0;
	rec->rotation_due = 0;
	return r < 0 ? r : set_reason(rec, NULL);
}
