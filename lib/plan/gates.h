/*
 * plan/gates.h — the gates of DESIGN §4.2: holds that are states of a request, not problems
 * with it. An entry that joined cleanly may still have to wait for something outside gprdsd:
 * an approval, a tfvars entry, an environment that allows provisioning.
 *
 * The join (plan/join.h) runs the gates as its last step, before it sorts, on the entries it
 * did not hold for a problem. Gates add no diagnostics: a gated entry is not an error, it
 * only carries its hold and a reason that `plan` and the status show. The first gate that
 * holds an entry decides its hold and reason; they are tried in this order:
 *
 *   catalog status decommissioning/decommissioned      GP_HOLD_DECOMMISSION, unless the
 *     environment has allow_delete and metadata.decommission_confirm names the database:
 *     then the entry is marked e->decommission and no further gate applies
 *   catalog entry without tfvars entry                 GP_HOLD_NO_TFVARS
 *   allow_provision false for the environment          GP_HOLD_NOT_ALLOWED
 *   a contract's approval route whose groups           GP_HOLD_NEEDS_APPROVAL
 *     metadata.approved_by does not all name (e->approvals_missing, plan/routing.h)
 *   size_tier large or xlarge without approved_by      GP_HOLD_NEEDS_APPROVAL
 *
 * A new gate is one row of the table in gates.c, placed where it ranks.
 */
#ifndef GP_PLAN_GATES_H
#define GP_PLAN_GATES_H

#include "inputs/config.h"
#include "model/desired.h"

/*
 * Holds e with hold h and a copy of reason, unless e is held already: the first reason found
 * is the one an entry shows, so the join's problems outrank the gates. A reason e had without
 * a hold (a warning's text) is replaced. Returns 0 or -ENOMEM.
 */
int gp_entry_hold(struct gp_entry *e, enum gp_hold h, const char *reason);

/*
 * Applies the gates to every entry of d that is not held. They read each entry's requested,
 * has_tfvars, size, approved_by, route and approvals_missing, and d->env. env_config NULL (`validate`): the defaults of
 * DESIGN §7, where only dev allows provisioning. Returns 0, -EINVAL when d or d->env is NULL,
 * or -ENOMEM (then some entries may be gated and others not).
 */
int gp_gates_apply(struct gp_desired *d, const struct gp_env_config *env_config);

#endif
