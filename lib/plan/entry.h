/*
 * plan/entry.h — internal to lib/plan/: what the planner knows while it plans one entry, and
 * how a step appends an action to it. plan.c plans the provisioning steps; rotation.c the
 * rotation steps and the second role of the alternating strategy.
 */
#ifndef GP_PLAN_ENTRY_H
#define GP_PLAN_ENTRY_H

#include "plan/plan.h"

struct gp_entry_ctx {
	const struct gp_entry *e;
	const struct gp_observed *o;
	const struct gp_record *rec; /* NULL: new to gprdsd */
	const struct gp_plan_opts *opts;
	const struct gp_obs_secret *secret;
	const struct gp_obs_role *role;
	const struct gp_rotation *rot; /* this entry's rotation decision */
	char *current_role;    /* the role AWSCURRENT names (alternating: username or alt) */
	bool role_created;     /* this plan creates the role */
	bool secret_created;   /* this plan creates the secret (fresh password) */
	bool password_unknown; /* the secret's value was needed but not fetched */
	bool password_set;     /* this plan sets the role's password from the secret */
	bool db_created;       /* this plan creates the database (owner entry) */
	bool rotating;         /* a rotation is resumed or started in this plan */
	struct gp_entry_plan *ep;
	int r;
};

/*
 * Appends an action of this entry. database, role and owner as the kind's row reads them;
 * key, secret, access level and CREATEDB come from the entry. Returns the action (to set its
 * credential or version) or NULL, with c->r set, when out of memory.
 */
struct gp_action *gp_entry_add_action(struct gp_entry_ctx *c, enum gp_action_kind kind,
				      enum gp_why why, const char *database, const char *role,
				      const char *owner, const char *fmt, ...) _printf_(7, 8);
void gp_entry_set_cred(struct gp_action *a, enum gp_cred cred);

/* rotation.c: the steps of a rotation in progress (first in the entry's plan), of one that
 * starts in this pass (after the entry's other changes), and the alternating strategy's
 * second role. */
void gp_rotation_plan_resume(struct gp_entry_ctx *c);
void gp_rotation_plan_start(struct gp_entry_ctx *c);
void gp_rotation_plan_alt_role(struct gp_entry_ctx *c, const char *env);

/* decommission.c: the steps of a decommissioned entry (DESIGN §4.5), for what exists. */
void gp_decommission_plan(struct gp_entry_ctx *c);

#endif
