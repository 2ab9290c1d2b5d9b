/*
 * inputs.h — reading the platform checkout: the files inputs/manifest.h lists (catalog,
 * enums, tfvars) and the commit id, and joining them into an environment's desired state.
 * Parsing is lib/'s job; this module reads files and decides what a missing or broken file
 * means.
 *
 * Diagnostics name files relative to the checkout (envs/dev-rds/terraform.tfvars) so that
 * they work as GitHub annotations and read well in the journal.
 */
#ifndef GPD_INPUTS_H
#define GPD_INPUTS_H

#include "inputs/config.h"
#include "base/diag.h"
#include "inputs/tfvars.h"
#include "inputs/catalog.h"
#include "inputs/enums.h"
#include "inputs/manifest.h"
#include "inputs/schema.h"
#include "model/desired.h"

struct gpd_repo_inputs {
	char *commit;               /* HEAD commit (40 hex), NULL when not a git checkout */
	struct gp_catalog *catalog; /* NULL when it could not be read */
	bool failed;                /* catalog, enums or request schema unreadable: every
				     * environment is unknown */
	struct gp_enums enums;
	struct gp_schema *schema;   /* the request schema: the checkout's, else built in */
	struct gp_diags diags;
};

/*
 * Reads the shared files of m (the enums, then the catalog, checked against them) and, first,
 * the checkout's HEAD. Never fails on bad input: sets in->failed and adds diagnostics.
 * Returns 0 or -ENOMEM.
 */
int gpd_inputs_load(const struct gp_manifest *m, struct gpd_repo_inputs *in);
void gpd_inputs_release(struct gpd_repo_inputs *in);

/*
 * One environment's desired state, loaded one way for `validate`, `plan`, `--once` and the
 * daemon: the shared files (read here, or handed in), the environment's tfvars as the
 * manifest lists them (a coupled file that is only optional counts when its
 * rds_config.enabled is true) and its request contracts (every *.yaml and *.yml file of its
 * contracts directory, in name order), joined and validated (plan/join.h). A contract that
 * cannot be read or parsed is an error that holds nothing (it names no database); the
 * environment goes on.
 */
struct gpd_load_req {
	const struct gp_manifest *manifest;
	const char *env;                        /* an environment of the manifest */
	const struct gp_env_config *env_config; /* NULL in `validate --repo`: the defaults */
	const char *master_user, *master_db;    /* reserved names; NULL when unknown */
	/* The shared inputs, read once by the caller (gpd_inputs_load()); NULL: read here. */
	const struct gpd_repo_inputs *shared;
	/* `validate --repo`: an environment none of whose tfvars files applies (no
	 * application_databases, rds_config not enabled) has no databases, not an error; its
	 * contracts, if it has any, are still read and joined (with no tfvars entries). */
	bool none_ok;
	/*
	 * Reuse, for a caller that reads the files here: NULL, or a desired state kept from an
	 * earlier call, reused while the digest of its inputs (the environment's files in the
	 * manifest with their paths, presence and bytes, the master user and database) equals
	 * key[0..31]. After a successful read, the new desired state is kept in their place
	 * (*kept NULL when the files could not be digested).
	 */
	struct gp_desired **kept;
	uint8_t *key;
};

struct gpd_load_res {
	struct gp_desired *desired; /* NULL on failure */
	bool kept;                  /* desired belongs to *req->kept, not to the caller */
	bool none;                  /* req->none_ok and no tfvars file applies: desired NULL */
	char why[128];              /* on failure: why the environment has no desired state */
};

/*
 * Loads req->env's desired state into *res. Diagnostics of the files and of the join are
 * added to diags; the shared files' own, when they are read here, only when they fail (the
 * join reports what concerns the environment). Nothing is logged: the caller logs diags.
 * Returns 0, or with res->why set: -EINVAL (shared inputs unusable, a tfvars file that does
 * not parse), -ENOENT (no tfvars file applies; 0 with res->none under req->none_ok), -errno (a file that cannot be read), -ENOMEM.
 */
int gpd_inputs_load_desired(const struct gpd_load_req *req, struct gpd_load_res *res,
			    struct gp_diags *diags);

/* Environments of m whose tfvars files (either layout) or contracts directory exist, in the
 * manifest's order. */
int gpd_inputs_envs(const struct gp_manifest *m, struct gp_strv *envs);

/* Why the catalog or enums of a run could not be used (gpd_repo_inputs.failed). */
#define GPD_INPUTS_SHARED_FAILED "the catalog, enums or request schema file could not be read"

/* The checkout's HEAD commit id (resolves refs and packed-refs; no git process). */
int gpd_git_head(const char *repo, char **ret_commit);

#endif
