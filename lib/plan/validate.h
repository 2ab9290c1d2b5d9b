/*
 * validate.h — the join of tfvars and catalog into one
 * environment's desired state (DESIGN §1.3).
 *
 * The same code serves `validate`, `plan`, `--once` and the daemon. Entry-level problems
 * never fail the whole environment: they hold the entry (gp_entry.hold/reason) and add a
 * positioned diagnostic. Only a missing input or a parse error makes an environment's desired
 * state unknown, and that is decided by the caller before it gets here.
 */
#ifndef GP_VALIDATE_H
#define GP_VALIDATE_H

#include "inputs/config.h"
#include "model/names.h"
#include "inputs/tfvars.h"
#include "inputs/catalog.h"
#include "inputs/enums.h"
#include "model/desired.h"

struct gp_join_input {
	const char *env;
	const struct gp_env_config *env_config; /* NULL in `validate`: defaults of DESIGN §7 */
	const struct gp_tfvars *tfvars;          /* NULL: no tfvars for this env (catalog only) */
	const struct gp_catalog *catalog;        /* NULL: no catalog */
	const struct gp_enums *enums;
	const char *master_user; /* NULL when unknown (validate) */
	const char *master_db;
};

/*
 * Builds the desired state of one environment. Every problem found is added to diags
 * (errors for entries that are held as invalid or conflicting, warnings for entries that
 * proceed with defaults such as a tfvars entry without catalog entry). Then gp_gates_apply()
 * (plan/gates.h) holds entries for allow_provision, approval of large/xlarge, decommissioning
 * and missing tfvars; those holds are not diagnostics.
 * Returns 0 (even when entries are held) or -ENOMEM.
 */
int gp_desired_build(const struct gp_join_input *in, struct gp_desired **ret,
		     struct gp_diags *diags);

#endif
