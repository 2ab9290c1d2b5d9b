/*
 * model.h — the values gprdsd reasons about: inputs (tfvars, catalog, enums), desired state
 * (the join of the inputs for one environment), observed state (PostgreSQL + Secrets
 * Manager), the per-entry lifecycle record, and the enums shared by all of them.
 *
 * Invariants:
 *  - Every string is heap-allocated and owned by the struct that holds it; each top-level
 *    struct has a _free() that accepts NULL.
 *  - Arrays of entries are kept sorted by their documented key so that plans, dumps and
 *    golden files are canonical.
 *  - No secret value is ever stored here except in struct gp_obs_secret.value_json, which is
 *    wiped when freed.
 *
 * Each enum has a _to_string()/_from_string() pair; _from_string() returns the value or
 * -EINVAL. The strings are what logs, audit rows, plans, state files and golden files show.
 */
#ifndef GP_MODEL_H
#define GP_MODEL_H

#include "diag.h"
#include "doc.h"

/* A string that came from an input file, with where it stood. */
struct gp_field {
	char *v; /* NULL when absent */
	unsigned line, col;
};
void gp_field_release(struct gp_field *f);
int gp_field_set(struct gp_field *f, const char *v, unsigned line, unsigned col);

enum gp_access { GP_ACCESS_OWNER, GP_ACCESS_EDITOR, GP_ACCESS_READER, _GP_ACCESS_MAX };
enum gp_risk { GP_RISK_NONE, GP_RISK_LOW, GP_RISK_MEDIUM, GP_RISK_HIGH, GP_RISK_ACCESS, _GP_RISK_MAX };
enum gp_size { GP_SIZE_SMALL, GP_SIZE_MEDIUM, GP_SIZE_LARGE, GP_SIZE_XLARGE, _GP_SIZE_MAX };
enum gp_state {
	GP_STATE_PENDING,
	GP_STATE_APPROVED,
	GP_STATE_PROVISIONING,
	GP_STATE_ACTIVE,
	GP_STATE_FAILED,
	GP_STATE_DECOMMISSIONING,
	GP_STATE_DECOMMISSIONED,
	_GP_STATE_MAX,
};
enum gp_mode { GP_MODE_AUTO, GP_MODE_STANDALONE, GP_MODE_COUPLED, _GP_MODE_MAX };

const char *gp_access_to_string(enum gp_access a);
int gp_access_from_string(const char *s);
const char *gp_risk_to_string(enum gp_risk r);
int gp_risk_from_string(const char *s);
const char *gp_size_to_string(enum gp_size s);
int gp_size_from_string(const char *s);
const char *gp_size_instance_class(enum gp_size s); /* small → db.t3.micro, ... */
const char *gp_state_to_string(enum gp_state s);
int gp_state_from_string(const char *s);
const char *gp_mode_to_string(enum gp_mode m);
int gp_mode_from_string(const char *s);

/* ---------------------------------------------------------------------------------------
 * Inputs
 */

/* One member of application_databases. key/database_name/username/access_level as written. */
struct gp_tfvars_entry {
	struct gp_field key; /* the map key (app key); position of the key */
	struct gp_field database;
	struct gp_field username;
	struct gp_field access; /* NULL v: default owner */
};

struct gp_tfvars {
	char *file;
	enum gp_mode mode;  /* STANDALONE or COUPLED: which shape was read */
	bool rds_enabled;   /* COUPLED: rds_config.enabled; STANDALONE: true */
	struct gp_tfvars_entry *v; /* in file order */
	size_t n;
};
void gp_tfvars_free(struct gp_tfvars *t);
DEFINE_FREEP(struct gp_tfvars, gp_tfvars_free)

/*
 * Extracts the application databases from a parsed tfvars document. mode must be STANDALONE
 * (top-level application_databases) or COUPLED (rds_config = { enabled, application_databases
 * }). A missing attribute gives an empty list (COUPLED: rds_enabled false). Shape errors of a
 * single member (not an object, a field that is not a string, a missing field) are added to
 * diags as errors with the member's position and the member is still returned with the
 * fields it has, so validation can block just that entry. Returns 0, or -EINVAL when the
 * document's shape is wrong as a whole (application_databases not an object).
 */
int gp_tfvars_extract(const struct gp_doc *doc, enum gp_mode mode, struct gp_tfvars **ret,
		      struct gp_diags *diags);

struct gp_catalog_entry {
	struct gp_field database; /* the map key under databases: */
	struct gp_field id, owner, requested_by, domain, risk, environment, status, created_date,
		approved_by, decommission_confirm;
	struct gp_field username, size_tier, instance_class, secret_path;
};

struct gp_catalog {
	char *file;
	struct gp_field version;
	struct gp_catalog_entry *v; /* in file order */
	size_t n;
};
void gp_catalog_free(struct gp_catalog *c);
DEFINE_FREEP(struct gp_catalog, gp_catalog_free)

/*
 * Extracts the catalog from a parsed YAML document. Unknown keys inside metadata/
 * configuration are ignored (the platform adds its own); a field that is not a scalar is an
 * error at its position. Returns 0 or -EINVAL (databases: missing or not a mapping).
 */
int gp_catalog_extract(const struct gp_doc *doc, struct gp_catalog **ret, struct gp_diags *diags);

/* Allowed values. An empty list means "any value" (owners and domains by default). */
struct gp_enums {
	struct gp_strv environments, owners, domains, risks, sizes, statuses;
	bool from_file;
};
int gp_enums_init_default(struct gp_enums *e);
/* Reads schemas/metadata/enums.yaml; keys missing there keep the built-in list. */
int gp_enums_extract(const struct gp_doc *doc, struct gp_enums *e, struct gp_diags *diags);
void gp_enums_release(struct gp_enums *e);

/* ---------------------------------------------------------------------------------------
 * Desired state: one environment's entries after joining and validation (validate.c)
 */

/* Why an entry is held back. NONE: it may be provisioned. */
enum gp_hold {
	GP_HOLD_NONE,
	GP_HOLD_INVALID,        /* a validation rule failed */
	GP_HOLD_CONFLICT,       /* a join conflict (§1.3) */
	GP_HOLD_NO_TFVARS,      /* catalog entry without tfvars entry */
	GP_HOLD_NOT_ALLOWED,    /* environment has allow_provision false */
	GP_HOLD_NEEDS_APPROVAL, /* large/xlarge without metadata.approved_by */
	GP_HOLD_DECOMMISSION,   /* catalog asks for removal; handled by decommissioning */
	_GP_HOLD_MAX,
};
const char *gp_hold_to_string(enum gp_hold h);

struct gp_entry {
	char *key;      /* app key (names the secret); catalog-only entries: the database name */
	char *database;
	char *username;
	enum gp_access access;
	enum gp_risk risk;
	enum gp_size size;
	enum gp_state requested; /* catalog metadata.status (pending when no catalog entry) */
	bool has_tfvars, has_catalog;
	char *approved_by;  /* may be NULL */
	char *owner_role;   /* username of the database's owner entry (NULL when none) */
	char *secret_name;  /* expanded secret name template */
	bool createdb;
	enum gp_hold hold;
	char *reason;       /* human text for hold (and for warnings such as "no catalog entry") */
	char *file;         /* where the entry was defined (tfvars, else catalog) */
	unsigned line, col;
};

struct gp_desired {
	char *env;
	struct gp_entry *v; /* sorted: owner entries first, then by database, then key */
	size_t n;
};
void gp_desired_free(struct gp_desired *d);
DEFINE_FREEP(struct gp_desired, gp_desired_free)
const struct gp_entry *gp_desired_find(const struct gp_desired *d, const char *key);

/* ---------------------------------------------------------------------------------------
 * Observed state (filled by the daemon's pg.c and sm.c; consumed by plan.c)
 */

struct gp_obs_role {
	char *name;
	bool login, superuser, createrole, createdb, replication, bypassrls, inherit;
	char *comment; /* COMMENT ON ROLE, or NULL */
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
	int64_t created, changed; /* seconds since the epoch, 0 when unknown */
	bool managed;             /* carries tag managed-by=gprdsd */
	char *value_json;         /* AWSCURRENT SecretString when fetched, else NULL; wiped on free */
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
	 * only for these (a database that was not checked has no rows, and that is not drift). */
	struct gp_strv access_checked;
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
const struct gp_obs_dbaccess *gp_observed_access(const struct gp_observed *o, const char *db,
						 const char *role);

/* ---------------------------------------------------------------------------------------
 * Lifecycle record: gprdsd's memory of each entry, kept in the state directory
 */
struct gp_record {
	char *key;
	char *database, *username;
	enum gp_state state;
	int64_t since;        /* when state was entered */
	char *reason;         /* why it is in this state (gate, error), or NULL */
	unsigned attempts;    /* consecutive failed attempts */
	int64_t next_retry;   /* 0: none scheduled */
	bool transient;       /* the last error was transient (retried on backoff) */
	char *last_commit;    /* commit of the inputs when last applied */
	char *verified_version; /* secret version whose credentials last logged in */
	int64_t verified_at;
	int64_t secret_changed; /* the secret's last change as last observed (its age), 0: unknown */
	int64_t grants_checked_at; /* editor/reader: in-database privileges last observed */
};

struct gp_state_file {
	char *env;
	int64_t last_pass;    /* the last pass that got as far as trying (0: none) */
	int64_t last_success; /* the last pass that reconciled the environment */
	char *last_error;     /* why the last pass could not reconcile it, or NULL */
	struct gp_record *v;  /* sorted by key */
	size_t n;
};
struct gp_state_file *gp_state_file_new(const char *env);
void gp_state_file_free(struct gp_state_file *s);
DEFINE_FREEP(struct gp_state_file, gp_state_file_free)
struct gp_record *gp_state_find(struct gp_state_file *s, const char *key);
/* Returns the record for key, creating a pending one (since = now) when missing. */
int gp_state_upsert(struct gp_state_file *s, const char *key, int64_t now, struct gp_record **ret);
void gp_record_release(struct gp_record *r);
/* A deep copy (NULL on ENOMEM). The daemon copies the records it keeps after a busy pass, so
 * that they sit together in memory instead of scattered among the pass's freed allocations. */
struct gp_state_file *gp_state_file_dup(const struct gp_state_file *s);
/* JSON codec (state.c). Parse errors go to diags with the file name. */
int gp_state_parse(const char *buf, size_t len, const char *name, struct gp_state_file **ret,
		   struct gp_diags *diags);
int gp_state_render(const struct gp_state_file *s, struct gp_buf *out);
/* A 64-bit digest of everything gp_state_render() writes except last_pass and last_success:
 * the daemon rewrites the file only when it changed. */
uint64_t gp_state_digest(const struct gp_state_file *s);

#endif
