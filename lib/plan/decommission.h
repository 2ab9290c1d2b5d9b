/*
 * plan/decommission.h — break-glass decommissioning (DESIGN §4.5): the steps that remove a
 * database and every entry on it once the catalog, the environment and the confirmation all
 * say so (plan/gates.h marks such entries), and what stops it.
 */
#ifndef GP_PLAN_DECOMMISSION_H
#define GP_PLAN_DECOMMISSION_H

#include "model/desired.h"
#include "model/observed.h"

/*
 * Why the decommission of database db must stop: every object its decommissioned entries of
 * d would remove that is not gprdsd's (a role without the marker of its entry, a secret
 * without the managed-by tag, the database owned by a role that is not managed), written
 * into why; nothing written: it may proceed. -ENOMEM.
 */
int gp_decommission_blocker(const struct gp_desired *d, const struct gp_observed *o,
			    const char *db, struct gp_buf *why);

#endif
