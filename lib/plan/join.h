/*
 * plan/join.h — the join of one environment's tfvars entries with the catalog into its
 * desired state (DESIGN §1.3), with the naming rules of §1.4 and, as its last step, the gates
 * of §4.2 (plan/gates.h).
 *
 * The same code serves `validate`, `plan`, `--once` and the daemon. Entry-level problems
 * never fail the whole environment: they hold the entry (gp_entry.hold/reason) and add a
 * positioned diagnostic. Only a missing input or a parse error makes an environment's desired
 * state unknown, and that is decided by the caller before it gets here.
 *
 * The naming rules (model/names.h) come with this header: the join applies them, and its
 * callers name secrets and roles with the same rules.
 */
#ifndef GP_PLAN_JOIN_H
#define GP_PLAN_JOIN_H

#include "inputs/catalog.h"
#include "inputs/config.h"
#include "inputs/contract.h"
#include "inputs/enums.h"
#include "inputs/tfvars.h"
#include "model/desired.h"
#include "model/names.h"

struct gp_join_input {
	const char *env;
	const struct gp_env_config *env_config; /* NULL in `validate`: defaults of DESIGN §7 */
	const struct gp_tfvars *tfvars;		/* NULL: no tfvars for this env (catalog only) */
	const struct gp_catalog *catalog;	/* NULL: no catalog */
	const struct gp_enums *enums;
	/* The environment's request contracts (DESIGN §1.3a, plan/routing.h) and the schema
	 * whose approval routes they take; contracts NULL: none. */
	const struct gp_contracts *contracts;
	const struct gp_schema *schema;
	const char *master_user; /* NULL when unknown (validate) */
	const char *master_db;
};

/*
 * Builds the desired state of one environment into *ret (owned by the caller, free with
 * gp_desired_free()). Every problem found is added to diags: errors for entries that are held
 * as invalid or conflicting (the catalog's through inputs/lint.h, worded as `validate` words
 * them), warnings for entries that proceed with defaults such as a tfvars entry without
 * catalog entry. A request contract whose database neither has gets an entry of its own (key:
 * the database name); gp_join_contracts() then joins the contracts (plan/routing.h). Then
 * gp_gates_apply() holds entries for allow_provision, approval of
 * large/xlarge, decommissioning and missing tfvars; those holds are not diagnostics.
 * Returns 0 (even when entries are held), -EINVAL (in, in->env, ret or diags NULL) or -ENOMEM;
 * *ret is written only on success.
 */
int gp_desired_build(const struct gp_join_input *in, struct gp_desired **ret,
		     struct gp_diags *diags);

#endif
