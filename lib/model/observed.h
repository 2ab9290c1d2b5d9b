/*
 * model/observed.h — what a pass observed of PostgreSQL and Secrets Manager (filled by the
 * daemon's observation, consumed by the planner). Arrays are sorted by their documented key.
 * No secret value is stored here except gp_obs_secret.value_json, which is wiped when freed.
 */
#ifndef GP_MODEL_OBSERVED_H
#define GP_MODEL_OBSERVED_H

#include "model/types.h"

struct gp_obs_role {
	char *name;
	bool login, superuser, createrole, createdb, replication, bypassrls, inherit;
	char *comment; /* COMMENT ON ROLE, or NULL */
	char *set_role; /* ALTER ROLE ... SET role = '<this>' (all databases), or NULL */
};

struct gp_obs_grant {
	char *grantee; /* "" for PUBLIC */
	bool connect, temporary, create;
};

struct gp_obs_database {
	char *name;
	char *owner;
	struct gp_obs_grant *grants; /* effective ACL (defaults expanded), sorted by grantee */
	size_t n_grants;
};

struct gp_obs_membership {
	char *role;   /* the granted role */
	char *member; /* who is a member of it */
};

/* Inside-the-database privileges of one (database, role) pair that has editor/reader access. */
struct gp_obs_dbaccess {
	char *database;
	char *role;
	bool schema_usage;
	bool tables_ok;    /* every table in public has the level's privileges */
	bool sequences_ok; /* likewise sequences */
	bool defaults_ok;  /* default privileges FOR ROLE <owner> grant the level's privileges */
};

struct gp_obs_secret {
	char *name;
	char *arn;
	char *current_version; /* AWSCURRENT version id */
	char *pending_version; /* AWSPENDING version id, or NULL */
	char *previous_version; /* AWSPREVIOUS version id, or NULL */
	int64_t created, changed; /* seconds since the epoch, 0 when unknown */
	int64_t deleted;          /* scheduled for deletion since then (DeletedDate), 0: not */
	bool managed;             /* carries tag managed-by=gprdsd */
	char *value_json;         /* AWSCURRENT SecretString when fetched, else NULL; wiped on free */
	char *pending_value_json; /* AWSPENDING SecretString when fetched (a rotation in
				   * progress), else NULL; wiped on free */
};

/*
 * A login with an entry's credentials, made in the observe step for the entries whose check
 * is due (plan/checks.h decides which). The planner turns a failed one into a repair.
 */
struct gp_obs_login {
	char *role;
	char *version; /* the secret version whose password was tried */
	bool ok;
	char *code;    /* SQLSTATE of the failure ("28P01": wrong password), or NULL */
	char *message; /* the server's message; never a password */
};

/* A database where a role owns objects or holds privileges (pg_shdepend), observed for the
 * roles of entries being decommissioned. */
struct gp_obs_roledep {
	char *role;
	char *database;
};

struct gp_observed {
	char *master_user;
	bool master_superuser;
	struct gp_obs_role *roles;          size_t n_roles;      /* sorted by name */
	struct gp_obs_database *databases;  size_t n_databases;  /* sorted by name */
	struct gp_obs_membership *members;  size_t n_members;    /* sorted by (role, member) */
	struct gp_obs_dbaccess *access;     size_t n_access;     /* sorted by (database, role) */
	struct gp_obs_secret *secrets;      size_t n_secrets;    /* sorted by name */
	/* Databases whose in-database privileges were observed in this pass: `access` speaks
	 * only for these (a database that was not checked has no rows, and that is not drift).
	 * Sorted (gp_observed_sort()), so that the planner finds one in O(log n). */
	struct gp_strv access_checked;
	struct gp_obs_login *logins;        size_t n_logins;     /* sorted by role */
	/* Secrets scheduled for deletion: not in `secrets` (gp_observed_split_deleted()). */
	struct gp_obs_secret *deleted;      size_t n_deleted;    /* sorted by name */
	struct gp_obs_roledep *deps;        size_t n_deps;       /* sorted by (role, database) */
};
struct gp_observed *gp_observed_new(void);
void gp_observed_free(struct gp_observed *o);
DEFINE_FREEP(struct gp_observed, gp_observed_free)
/* Sorts every array (call after filling). */
void gp_observed_sort(struct gp_observed *o);
const struct gp_obs_role *gp_observed_role(const struct gp_observed *o, const char *name);
const struct gp_obs_database *gp_observed_database(const struct gp_observed *o, const char *name);
const struct gp_obs_secret *gp_observed_secret(const struct gp_observed *o, const char *name);
struct gp_obs_secret *gp_observed_secret_mut(struct gp_observed *o, const char *name);
bool gp_observed_is_member(const struct gp_observed *o, const char *role, const char *member);
/* Moves the secrets with a deletion date from `secrets` to `deleted`. -ENOMEM. */
int gp_observed_split_deleted(struct gp_observed *o);
const struct gp_obs_secret *gp_observed_deleted(const struct gp_observed *o, const char *name);
const struct gp_obs_login *gp_observed_login(const struct gp_observed *o, const char *role);
/* Records a login check (strings copied; code and message may be NULL). -ENOMEM. Call
 * gp_observed_sort() after the last one. */
int gp_observed_add_login(struct gp_observed *o, const char *role, const char *version, bool ok,
			  const char *code, const char *message);
const struct gp_obs_dbaccess *gp_observed_access(const struct gp_observed *o, const char *db,
						 const char *role);

#endif
