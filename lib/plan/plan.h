/*
 * plan.h — desired × observed (+ lifecycle records) → an ordered list of actions.
 *
 * Every effect of a pass is a struct gp_action (plan/action.h) before it is an action:
 * `gprdsd plan` prints these values, `--once` and the daemon execute them in order and nothing
 * else, and the audit records them. What the observe step saw (plan/checks.h: logins,
 * in-database privileges) is decided on here too: a failed login becomes a set_password
 * repair, a missing privilege an apply_grants repair, so the plan shows every change a pass
 * makes. Planning is pure: no I/O, no clock (now is passed in), no randomness.
 *
 * Order: entries whose access is owner come first (they create the databases the others
 * need), then editor and reader entries; within an entry actions follow DESIGN §2:
 * secret → role → membership → database → isolation → privileges → verify.
 */
#ifndef GP_PLAN_H
#define GP_PLAN_H

#include "model/desired.h"
#include "model/observed.h"
#include "model/state.h"
#include "plan/action.h"
#include "plan/checks.h"
#include "plan/lifecycle.h"
#include "plan/opts.h"
#include "plan/rotation.h"

struct gp_entry_plan {
	size_t entry;           /* index into desired->v */
	enum gp_state from;     /* state in the record (pending when new) */
	enum gp_state to;       /* state after a successful apply (or the held state) */
	bool held;              /* at a gate or invalid: no actions */
	bool waiting;           /* failed and waiting for its retry time: no actions */
	/* A `gprdsd retry` request the record has not used (lifecycle.h; borrowed from opts),
	 * or NULL: the reason a failed entry is attempted before its retry time. Applying the
	 * plan uses it. */
	const struct gp_retry_request *retry;
	bool needs_value;       /* the secret value must be fetched before planning is final */
	char *note;             /* why it waits (e.g. for its database), or NULL */
	struct gp_action *actions;
	size_t n_actions;
	size_t n_changes;       /* actions other than GP_WHY_CHECK */
	/* What the entry's record learns when every action succeeded (gp_lifecycle_done()): */
	bool verifies;          /* the credentials log in: a VERIFY_LOGIN action, or a login
				 * observed in this pass with the AWSCURRENT password */
	bool grants_checked;    /* its in-database privileges were read in this pass */
	/* An editor/reader whose database is created in this plan by its owner entry (index
	 * into gp_plan.v), or -1. When that entry fails in the pass, this one waits with
	 * cascade_note instead of failing on a database that does not exist. */
	ssize_t depends_on;
	char *cascade_note;
	struct gp_rotation rotation; /* its rotation: why, age, next due (rotation.h) */
	/* Single strategy: when an action after the role took the pending password fails, these
	 * run (the role takes the AWSCURRENT password back), so AWSCURRENT keeps working. */
	struct gp_action *undo;
	size_t n_undo;
	size_t undo_after;       /* index of the action after which undo applies */
	/* Why the entry must not proceed although nothing holds it (a decommission that would
	 * remove an object gprdsd does not manage): it fails with this reason, no actions. */
	char *refused;
};

struct gp_plan {
	char *env;
	struct gp_entry_plan *v; /* in desired order */
	size_t n;
	size_t n_changes;
	struct gp_strv orphans; /* managed roles, secrets and databases with no desired entry, as
				 * "role x", "secret y", "database z" (never removed) */
	/* orphans: disable — disable_role of each orphaned role that can still log in. */
	struct gp_action *orphan_actions;
	size_t n_orphan_actions;
	/* The mass-change guard (DESIGN §4.6): what would change and why the pass refuses; NULL
	 * when it may proceed. A refused plan is shown, never applied. */
	char *refused;
	size_t n_credential_changes; /* active entries given a new secret or password */
	size_t n_decommissions;      /* databases dropped */
};

int gp_plan_build(const struct gp_desired *d, const struct gp_observed *o,
		  const struct gp_state_file *s, const struct gp_plan_opts *opts,
		  struct gp_plan **ret);
void gp_plan_free(struct gp_plan *p);
DEFINE_FREEP(struct gp_plan, gp_plan_free)

/* Human text (the `plan` output) and JSON (`plan --json`). Canonical: golden-file stable. */
int gp_plan_format_text(const struct gp_plan *p, const struct gp_desired *d, struct gp_buf *out);
int gp_plan_format_json(const struct gp_plan *p, const struct gp_desired *d, struct gp_buf *out);
/* The JSON object of one environment's plan (caller owns; cJSON_Delete). NULL on ENOMEM. */
struct cJSON;
struct cJSON *gp_plan_to_json(const struct gp_plan *p, const struct gp_desired *d);

#endif
