/*
 * inputs/manifest.h — which files of the checkout each environment's desired state is built
 * from (DESIGN §1), computed from the configuration: the enums and the catalog, shared by
 * every environment, then the environment's terraform.tfvars in the layouts its mode allows.
 *
 * This is the one place the checkout's layout is spelled. The reader (daemon/inputs.c), the
 * digest that lets the daemon reuse a desired state, the daemon's file watches and `validate`
 * all walk these lists, so that what is read, what is digested and what is watched cannot
 * drift apart.
 *
 * Per environment, in the order the reader takes them:
 *   enums                       optional (absent: the built-in lists)
 *   schemas/requests/rds.schema.yaml  optional (absent: the built-in request schema)
 *   catalog                     required (absent: every environment is skipped)
 *   envs/<env>/terraform.tfvars     auto: optional, and counts only when rds_config.enabled
 *                                   is true (the reader decides, from the content);
 *                                   coupled: required; standalone: not listed
 *   envs/<env>-rds/terraform.tfvars auto: optional; standalone: required; coupled: not listed
 *   docs/20-contracts/rds-requests/<env>/  a directory of request contracts (*.yaml, *.yml):
 *                                   optional (absent: no contracts)
 * In auto mode one of the two tfvars files must apply, else the environment has no inputs.
 *
 * Paths are relative to the checkout (they are also the names diagnostics show), or absolute
 * when the configuration puts the catalog or the enums outside it; gp_manifest_path() gives
 * the path to open. Pure: nothing here looks at the files.
 *
 * Every string is owned by the manifest; gp_manifest_free() accepts NULL.
 */
#ifndef GP_INPUTS_MANIFEST_H
#define GP_INPUTS_MANIFEST_H

#include "inputs/config.h"

enum gp_input_role {
	GP_INPUT_CATALOG,           /* rds-catalog.yaml, one file for every environment */
	GP_INPUT_ENUMS,             /* enums.yaml: allowed values of the catalog's fields */
	GP_INPUT_TFVARS_COUPLED,    /* envs/<env>/terraform.tfvars, rds_config = { ... } */
	GP_INPUT_TFVARS_STANDALONE, /* envs/<env>-rds/terraform.tfvars */
	GP_INPUT_REQUEST_SCHEMA,    /* schemas/requests/rds.schema.yaml, shared */
	GP_INPUT_CONTRACTS,         /* docs/20-contracts/rds-requests/<env>/: a directory */
	_GP_INPUT_ROLE_MAX,
};
/* "catalog", "enums", "tfvars-coupled", "tfvars-standalone", "request-schema", "contracts"
 * (NULL when out of range). */
const char *gp_input_role_to_string(enum gp_input_role r);
/* Whether the input of role r is a directory of files (the contracts), not one file. */
bool gp_input_role_is_dir(enum gp_input_role r);
/* The shape gp_tfvars_extract() reads a tfvars file of this role with (GP_MODE_COUPLED or
 * GP_MODE_STANDALONE); GP_MODE_AUTO for the catalog and the enums, which are not tfvars. */
enum gp_mode gp_input_role_tfvars_mode(enum gp_input_role r);

struct gp_input_file {
	enum gp_input_role role;
	bool required; /* absence is an error, not a fallback */
	char *path;    /* relative to the checkout, or absolute outside it */
};

#define GP_MANIFEST_MAX_FILES 6

struct gp_manifest_env {
	char *name;
	enum gp_mode mode;
	struct gp_input_file files[GP_MANIFEST_MAX_FILES]; /* in reading order, see above */
	size_t n;
};

struct gp_manifest {
	char *repo;                     /* the checkout, as given */
	struct gp_input_file shared[3]; /* enums, request schema, catalog: read once for all */
	struct gp_manifest_env *envs;
	size_t n_envs;
};

/* The manifest of a parsed configuration: its catalog and enums, and every configured
 * environment in its mode, in the configuration's order. Returns 0 and *ret, -EINVAL when
 * repository.path is unset, or -ENOMEM. */
int gp_manifest_new(const struct gp_config *cfg, struct gp_manifest **ret);
/* Without a configuration (`validate --repo`): the default catalog and enums, and every
 * known environment (gp_environments, in that order) in auto mode. 0 or -ENOMEM. */
int gp_manifest_new_default(const char *repo, struct gp_manifest **ret);
void gp_manifest_free(struct gp_manifest *m);
DEFINE_FREEP(struct gp_manifest, gp_manifest_free)

/* The environment called name, or NULL when the manifest has none. */
const struct gp_manifest_env *gp_manifest_env(const struct gp_manifest *m, const char *name);
/* The path to open for f: f->path when absolute, else joined to the checkout. New string, or
 * NULL on ENOMEM. */
char *gp_manifest_path(const struct gp_manifest *m, const struct gp_input_file *f);
/* Where env's tfvars file of the given layout (or its contracts directory) lies, relative to
 * the checkout ("envs/dev-rds/terraform.tfvars"); env may be a placeholder such as "<env>"
 * for messages. New string, or NULL when role has no per-environment path, or on ENOMEM. */
char *gp_manifest_tfvars_path(enum gp_input_role role, const char *env);

#endif
