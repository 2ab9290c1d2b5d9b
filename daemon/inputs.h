/*
 * inputs.h — reading the platform checkout: catalog, enums, tfvars (mode resolution) and
 * the commit id. Parsing is lib/'s job; this module reads files and decides what a missing
 * or broken file means.
 *
 * Diagnostics name files relative to the checkout (envs/dev-rds/terraform.tfvars) so that
 * they work as GitHub annotations and read well in the journal.
 */
#ifndef GPD_INPUTS_H
#define GPD_INPUTS_H

#include <openssl/evp.h>

#include "inputs/config.h"
#include "base/diag.h"
#include "inputs/tfvars.h"
#include "inputs/catalog.h"
#include "inputs/enums.h"

struct gpd_repo_inputs {
	char *commit;               /* HEAD commit (40 hex), NULL when not a git checkout */
	struct gp_catalog *catalog; /* NULL when it could not be read */
	bool failed;                /* catalog or enums unreadable: every environment is unknown */
	struct gp_enums enums;
	struct gp_diags diags;
};

/* Reads catalog and enums (absolute paths, or relative to repo). Never fails on bad input:
 * sets in->failed and adds diagnostics. Returns 0 or -ENOMEM. */
int gpd_inputs_load(const char *repo, const char *catalog, const char *enums,
		    struct gpd_repo_inputs *in);
void gpd_inputs_release(struct gpd_repo_inputs *in);

/*
 * Reads the tfvars of env in the given mode (auto: coupled when envs/<env>/terraform.tfvars
 * has rds_config.enabled = true, else standalone when envs/<env>-rds/terraform.tfvars exists).
 * Returns 0 and *ret, -ENOENT when the environment has no inputs, -EINVAL when a file does not
 * parse (diagnostics added in both cases).
 */
int gpd_inputs_tfvars(const char *repo, const char *env, enum gp_mode mode, struct gp_tfvars **ret,
		      struct gp_diags *diags);

/*
 * Adds to md (fileio.h) every input file that the desired state of env is built from, as it
 * is now: catalog and enums (absolute, or relative to repo) and both tfvars layouts, each
 * with its path, presence and bytes. Equal digests, equal inputs. Returns 0 or -errno (a file
 * that exists but cannot be read: the caller reads the inputs the ordinary way, which says
 * what is wrong).
 */
int gpd_inputs_digest(EVP_MD_CTX *md, const char *repo, const char *catalog, const char *enums,
		      const char *env);

/* Environments that have tfvars in the checkout (either layout), in canonical order. */
int gpd_inputs_envs(const char *repo, struct gp_strv *envs);

/* The checkout's HEAD commit id (resolves refs and packed-refs; no git process). */
int gpd_git_head(const char *repo, char **ret_commit);

#endif
