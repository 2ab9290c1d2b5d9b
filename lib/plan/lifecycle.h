/*
 * lifecycle.h — the per-entry state machine (DESIGN §4.1–4.3) and retry backoff.
 *
 * States: pending → approved → provisioning → active, plus failed (with a retry time).
 * Each function takes the record, the time and what happened, updates the record and reports
 * the transitions it made (from → to) so the caller can audit and journal each one. Pure: no
 * clock, no randomness (the jitter's random value is passed in).
 */
#ifndef GP_LIFECYCLE_H
#define GP_LIFECYCLE_H

#include "model/desired.h"
#include "model/observed.h"
#include "model/state.h"

struct gp_entry_plan;

struct gp_transition {
	enum gp_state from, to;
};

/* At most three transitions happen in one call (e.g. failed → approved → provisioning). */
struct gp_transitions {
	struct gp_transition v[3];
	size_t n;
};

/*
 * Exponential backoff with full jitter: attempt 1 → [base/2, base], attempt n → up to
 * base·2^(n-1), capped at max. r is a random value in [0, 1).
 */
uint64_t gp_backoff_delay_ms(uint64_t base_ms, uint64_t max_ms, unsigned attempt, double r);

/* The entry is held (gate, invalid, conflict): pending with reason (active stays active). */
int gp_lifecycle_hold(struct gp_record *rec, const char *reason, int64_t now,
		      struct gp_transitions *t);

/* Work starts on the entry: → approved → provisioning (from pending or failed). */
int gp_lifecycle_begin(struct gp_record *rec, int64_t now, struct gp_transitions *t);

/* Everything applied and verified: → active, attempts reset, commit remembered. */
int gp_lifecycle_succeed(struct gp_record *rec, int64_t now, const char *commit,
			 struct gp_transitions *t);

/* A decommission starts: → decommissioning. */
int gp_lifecycle_decommission_begin(struct gp_record *rec, int64_t now, struct gp_transitions *t);
/* Every step of a decommission done: → decommissioned; retries and rotation cleared. */
int gp_lifecycle_decommissioned(struct gp_record *rec, int64_t now, const char *commit,
				struct gp_transitions *t);

struct gp_failure {
	const char *reason;   /* e.g. "create_role: 42501 permission denied" — never a secret */
	bool transient;       /* retried on backoff; else waits for a new commit or the cap */
	uint64_t base_ms, max_ms;
	double r;             /* jitter, [0, 1) */
	const char *commit;
};
/* A step failed: → failed, attempts+1, next_retry scheduled. */
int gp_lifecycle_fail(struct gp_record *rec, int64_t now, const struct gp_failure *f,
		      struct gp_transitions *t);

/* ---------------------------------------------------------------------------------------
 * Retry on request
 *
 * `gprdsd retry` (codec/requests.h) asks that a failed entry be attempted by the next pass
 * instead of at its retry time: while the request is pending the entry does not wait
 * (gp_entry_waiting(), checks.h). The first pass that applies its plan to the entry uses the
 * request, whatever that plan is (attempted; or held at a gate, or waiting for its database,
 * when the inputs changed meanwhile): gp_record_observe() records its time in
 * rec->retry_used. So a request brings one attempt forward, never more: a later failure waits
 * for its backoff again.
 */
struct gp_retry_request {
	char *key;
	int64_t at;
	char *by; /* who asked (user@host), for the audit */
};

/* Whether rec has used q: a pass planned the entry after q was made. */
bool gp_retry_used(const struct gp_retry_request *q, const struct gp_record *rec);
/* The request of rec->key in v (n requests sorted by key) that rec has not used, or NULL
 * (also when rec is NULL: an entry without a record has nothing to retry). */
const struct gp_retry_request *gp_retry_pending(const struct gp_retry_request *v, size_t n,
						const struct gp_record *rec);

/* ---------------------------------------------------------------------------------------
 * What a record remembers besides its state
 */

/*
 * A pass reaches the entry: the record takes its database and username, its contract's
 * approval route and the approvals it still lacks (gp_entry.route, approvals_missing), the
 * secret's last
 * change as observed (creation when it never changed; unchanged when s is NULL), the
 * AWSCURRENT version and since when it is current (gp_rotation_current_since()), when its
 * rotation is due, since when a rotation is in progress (an AWSPENDING version), and the
 * retry request the plan used (ep->retry) as used.
 */
int gp_record_observe(struct gp_record *rec, const struct gp_entry_plan *ep,
		      const struct gp_entry *e, const struct gp_obs_secret *s, int64_t now);

/*
 * Every action of ep succeeded: the record remembers the secret version whose credentials
 * now log in (ep->verifies: written_version, the version this pass wrote, else
 * current_version, the AWSCURRENT version observed), when the pass wrote a version (which is
 * AWSCURRENT from now: created, rewritten or promoted by a rotation), when privileges were
 * checked (ep->grants_checked); then → active as gp_lifecycle_succeed().
 */
int gp_lifecycle_done(struct gp_record *rec, const struct gp_entry_plan *ep, int64_t now,
		      const char *commit, const char *written_version,
		      const char *current_version, struct gp_transitions *t);

/* The text a record carries once its entry left the inputs. */
#define GP_ORPHANED_REASON "no longer in the inputs: orphaned, nothing was removed"
/* Records whose key no entry of d has: reason GP_ORPHANED_REASON, no retry. Nothing is
 * removed. */
int gp_state_mark_orphans(struct gp_state_file *s, const struct gp_desired *d);

#endif
