/*
 * plan/checks.h — which observations a pass makes beyond the constant queries: whose secret
 * values it reads, whose credentials it tries by logging in, and which databases it enters to
 * read in-database privileges. Pure decisions over desired × observed × records; the daemon's
 * observe step (daemon/observe.c) carries them out and records what it saw in struct
 * gp_observed, and the planner (plan.h) turns what it saw into actions. A check is an
 * observation, never an action: `gprdsd plan` shows the repair a failed check calls for.
 *
 * Pacing: a check done at `last` comes due again after interval (verify_interval), up to a
 * tenth of it early by an offset fixed by the entry's key (gp_check_due()), so that entries
 * checked together spread out instead of coming due together forever; an entry that is not
 * active, or whose secret version changed since it was verified, is checked at once.
 * opts->verify_all (`--once --verify`, `plan --verify`): every check is due now, and every
 * database with an editor or reader entry is entered, beyond GP_GRANT_CHECKS_PER_PASS.
 */
#ifndef GP_PLAN_CHECKS_H
#define GP_PLAN_CHECKS_H

#include "model/desired.h"
#include "model/observed.h"
#include "model/state.h"
#include "plan/opts.h"

/* At most this many databases that are merely due (active entries whose last check is
 * old) are entered for privileges in one pass, oldest first; a database with an entry that is
 * not yet active is always entered. A thousand databases never cost one pass a thousand
 * connections. */
#define GP_GRANT_CHECKS_PER_PASS 50

/*
 * Whether a periodic check done at `last` (seconds since the epoch) is due at `now`, for the
 * entry `key`: the login check (verify_interval) and the check of in-database privileges.
 * Each key's check comes due up to a tenth of interval_ms early, by an offset that the key
 * fixes (FNV-1a), never late. interval_ms 0: always due; `last` in the future (the clock
 * stepped back): due.
 */
bool gp_check_due(int64_t now, int64_t last, uint64_t interval_ms, const char *key);

/* The entry failed and waits for its retry time (no retry_now, same commit, no `gprdsd
 * retry` request it has not used: lifecycle.h): nothing is planned or checked for it. */
bool gp_entry_waiting(const struct gp_record *rec, const struct gp_plan_opts *opts);

/* Whether the entry's credentials need checking by login: not active, never verified, its
 * secret's AWSCURRENT version differs from the one verified, verify_interval passed, or
 * opts->verify_all. */
bool gp_login_due(const struct gp_entry *e, const struct gp_record *rec,
		  const struct gp_obs_secret *s, const struct gp_plan_opts *opts);

/* Whether the entry's secret value is needed before planning (see below). */
bool gp_entry_needs_value(const struct gp_entry *e, const struct gp_observed *o,
			  const struct gp_record *rec, const struct gp_plan_opts *opts);

/*
 * Which entries need their secret's value fetched before planning: the secret exists and
 * (the entry is new to gprdsd, or the AWSCURRENT version differs from the verified one, or
 * the role is missing, or a login check is due, or a rotation starts: its new version is
 * rendered from the current one). Adds the secret names to names, which it leaves sorted and
 * without duplicates.
 */
int gp_plan_values_needed(const struct gp_desired *d, const struct gp_observed *o,
			  const struct gp_state_file *s, const struct gp_plan_opts *opts,
			  struct gp_strv *names);

/*
 * The databases whose in-database privileges are read in this pass (added to dbs, which it
 * leaves sorted and without duplicates): those of editor/reader entries that may be
 * provisioned and are not yet active or never checked, and at most GP_GRANT_CHECKS_PER_PASS
 * databases merely due, oldest first.
 */
int gp_checks_grants(const struct gp_desired *d, const struct gp_state_file *s,
		     const struct gp_plan_opts *opts, struct gp_strv *dbs);

/* The role whose credentials AWSCURRENT holds: e->username, or under alternating rotation
 * e->alt_username when the secret's value names it (read in this pass; else as the record
 * remembers it). NULL on ENOMEM. */
char *gp_entry_current_role(const struct gp_entry *e, const struct gp_obs_secret *s,
			    const struct gp_record *rec);

/* A login the observe step tries. */
struct gp_login_check {
	size_t entry;  /* index into d->v */
	bool pending;  /* with the AWSPENDING password (a rotation in progress), else AWSCURRENT */
};

/*
 * The logins the observe step tries, ascending by entry: for an entry that may be provisioned
 * and is not waiting, whose secret's value was fetched and holds a password:
 *  - a rotation in progress (an AWSPENDING version other than AWSCURRENT, its value read):
 *    the pending credentials, as the role they name (step 2 of the rotation is skipped when
 *    they already work);
 *  - otherwise, when the role exists, the AWSCURRENT version is the one last verified (else
 *    the planner sets the role's password anyway) and the check is due (gp_login_due()): the
 *    current credentials, as gp_entry_current_role().
 * Each login goes into e->database. *ret is freed by the caller.
 */
int gp_checks_logins(const struct gp_desired *d, const struct gp_observed *o,
		     const struct gp_state_file *s, const struct gp_plan_opts *opts,
		     struct gp_login_check **ret, size_t *ret_n);

/* The roles (existing) of the entries being decommissioned, whose dependencies in other
 * databases the observe step reads (plan/decommission.h). Appended to roles. */
int gp_checks_decommission_roles(const struct gp_desired *d, const struct gp_observed *o,
				 struct gp_strv *roles);

/* The secrets whose AWSPENDING value the observe step reads: a rotation in progress
 * (rotation.h) on an entry that may be provisioned. Added to names, left sorted and without
 * duplicates. */
int gp_checks_pending_values(const struct gp_desired *d, const struct gp_observed *o,
			     const struct gp_state_file *s, const struct gp_plan_opts *opts,
			     struct gp_strv *names);

/*
 * The Secrets Manager name prefixes the observe step lists: the current secret.name's
 * (current, first) and every former one the state file remembers (s->secret_prefixes), so
 * that managed secrets left under a former template are observed and reported as orphans
 * (plan.h) instead of being forgotten. Appended to out.
 */
int gp_checks_secret_prefixes(const char *current, const struct gp_state_file *s,
			      struct gp_strv *out);

/*
 * What the state file remembers after listing `listed` (gp_checks_secret_prefixes()): the
 * current prefix, and each former one under which a managed secret (live or scheduled for
 * deletion, outside the current prefix) is still seen. A former prefix empties when its
 * secrets are gone and is then forgotten. Replaces *out.
 */
int gp_checks_keep_prefixes(const char *current, const struct gp_strv *listed,
			    const struct gp_observed *o, struct gp_strv *out);

#endif
