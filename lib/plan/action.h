/*
 * plan/action.h — what a pass can do, as rows of one table.
 *
 * Every effect of a pass is a struct gp_action before it is an action: `gprdsd plan` prints
 * it, `--once` and the daemon execute it, the audit records it. Each kind is one row of the
 * table behind gp_action_info(): its name (what plans, audit rows, logs and golden files
 * show), whether it destroys something, which system it acts on, which fields of struct
 * gp_action its executor reads, and how it is described. Adding a kind adds a row here and an
 * executor in the daemon's dispatch table (daemon/apply.c), not cases to several switches.
 *
 * An action carries everything its executor needs, including which credential it uses
 * (enum gp_cred): the executor never needs the desired entry, and no password travels beside
 * an action. Strings are owned by the action (gp_action_release()).
 */
#ifndef GP_PLAN_ACTION_H
#define GP_PLAN_ACTION_H

#include "model/observed.h"

enum gp_action_kind {
	GP_ACT_CREATE_SECRET,       /* new secret with a fresh password */
	GP_ACT_ADOPT_SECRET,        /* existing secret: keep its password, correct its JSON, tag */
	GP_ACT_UPDATE_SECRET,       /* managed secret whose JSON drifted: rewrite, same password */
	GP_ACT_CREATE_ROLE,         /* CREATE ROLE ... PASSWORD <verifier> */
	GP_ACT_ALTER_ROLE,          /* attributes drifted */
	GP_ACT_SET_PASSWORD,        /* role's password ≠ secret's (adopted, or drift) */
	GP_ACT_COMMENT_ROLE,        /* COMMENT ON ROLE marks it as managed */
	GP_ACT_GRANT_MEMBERSHIP,    /* GRANT <owner role> TO <master> (non-superuser master) */
	GP_ACT_CREATE_DATABASE,     /* CREATE DATABASE ... OWNER */
	GP_ACT_ALTER_DATABASE_OWNER,
	GP_ACT_REVOKE_PUBLIC,       /* REVOKE ALL ON DATABASE FROM PUBLIC */
	GP_ACT_GRANT_CONNECT,       /* GRANT CONNECT, TEMPORARY ON DATABASE TO <role> */
	GP_ACT_APPLY_GRANTS,        /* editor/reader privileges + default privileges, in the db */
	GP_ACT_VERIFY_LOGIN,        /* log in with the secret's credentials */
	GP_ACT_SET_ROLE_DEFAULT,    /* ALTER ROLE <alt> SET role = <username> (alternating) */
	/* Rotation (DESIGN §4.4), in this order; each is recognised from what is observed. */
	GP_ACT_ROTATE_STAGE,        /* 1. PutSecretValue: a new password staged AWSPENDING */
	GP_ACT_ROTATE_SET_PASSWORD, /* 2. the role takes the pending password */
	GP_ACT_ROTATE_VERIFY,       /* 3. log in with the pending credentials */
	GP_ACT_ROTATE_PROMOTE,      /* 4. AWSCURRENT moves to the pending version, AWSPENDING goes */
	GP_ACT_ROTATE_UNDO,         /* single strategy, a rotation that failed after step 2: the
				     * role takes the AWSCURRENT password back */
	GP_ACT_RESTORE_SECRET,      /* RestoreSecret: an entry came back within the recovery window */
	/* Decommissioning (DESIGN §4.5), in this order; destructive ones pass the guard first. */
	GP_ACT_DUMP_DATABASE,       /* pg_dump -Fc into decommission.dump_dir, checked */
	GP_ACT_LOCK_DATABASE,       /* REVOKE CONNECT FROM PUBLIC, end the database's sessions */
	GP_ACT_REVOKE_CONNECT,      /* REVOKE CONNECT, TEMPORARY ON DATABASE FROM <role> */
	GP_ACT_DISABLE_ROLE,        /* NOLOGIN, end the role's sessions (also: orphans: disable) */
	GP_ACT_DROP_DATABASE,       /* DROP DATABASE ... WITH (FORCE) */
	GP_ACT_DROP_OWNED,          /* in one database: REASSIGN OWNED TO master, DROP OWNED */
	GP_ACT_DROP_ROLE,           /* DROP ROLE */
	GP_ACT_DELETE_SECRET,       /* DeleteSecret with the recovery window */
	_GP_ACT_MAX,
};
const char *gp_action_kind_to_string(enum gp_action_kind k);

enum gp_why {
	GP_WHY_NEW,    /* the object does not exist yet */
	GP_WHY_DRIFT,  /* it exists but differs from the desired state: a repair */
	GP_WHY_ADOPT,  /* it exists but was not made by gprdsd */
	GP_WHY_CHECK,  /* a check, changes nothing by itself (verify_login) */
	GP_WHY_ROTATE, /* a step of a password rotation */
	GP_WHY_REMOVE, /* a step of a decommission, or an orphan's login disabled */
	_GP_WHY_MAX,
};
const char *gp_why_to_string(enum gp_why w);

/*
 * Which password an action uses. NEW: the one this action (CREATE_SECRET, or a secret
 * rewrite that found no usable password) generates, or that an earlier action of the same
 * entry generated in this pass; CURRENT: the password of the secret's AWSCURRENT version;
 * PENDING: the AWSPENDING version's (rotation). NONE: no password.
 */
enum gp_cred { GP_CRED_NONE, GP_CRED_NEW, GP_CRED_CURRENT, GP_CRED_PENDING, _GP_CRED_MAX };
const char *gp_cred_to_string(enum gp_cred c);

/* The system an action changes, and what it names: the object a destructive action destroys
 * is this one, and the guard asks whether gprdsd manages it. */
enum gp_target {
	GP_TARGET_SECRET,   /* Secrets Manager: action.secret */
	GP_TARGET_ROLE,     /* PostgreSQL role: action.role */
	GP_TARGET_DATABASE, /* PostgreSQL database: action.database (its owner must be ours) */
	GP_TARGET_LOGIN,    /* a login as action.role; changes nothing */
};

/* Fields of struct gp_action a kind reads (its executor may rely on them being set). */
enum {
	GP_AF_KEY = 1u << 0,
	GP_AF_DATABASE = 1u << 1,
	GP_AF_ROLE = 1u << 2,
	GP_AF_SECRET = 1u << 3,
	GP_AF_OWNER = 1u << 4,
	GP_AF_ACCESS = 1u << 5,
	GP_AF_CREATEDB = 1u << 6,
	GP_AF_CRED = 1u << 7,
};

/* How gp_action_describe() names an action's object after its kind. */
enum gp_describe {
	GP_DESC_SECRET,        /* "<secret>" */
	GP_DESC_ROLE,          /* "<role>" */
	GP_DESC_DATABASE,      /* "<database>" */
	GP_DESC_ON_DATABASE,   /* "on <database>" */
	GP_DESC_ROLE_ON_DB,    /* "<role> on <database>" */
	GP_DESC_OWNER_TO_ROLE, /* "<owner> to <role>" (a membership: owner granted to role) */
};

/* What `plan --json` shows as an action's "object". */
enum gp_object { GP_OBJ_NONE, GP_OBJ_SECRET, GP_OBJ_OWNER, GP_OBJ_PUBLIC };

struct gp_action_info {
	const char *name;
	bool destructive;          /* removes or disables something: the guard applies */
	enum gp_target target;
	unsigned fields;           /* GP_AF_* */
	enum gp_describe describe;
	enum gp_object object;
	const char *audit;         /* the audit row's action column; NULL: the name ("repair" for
				    * a drift repair) */
	const char *summary;       /* what was done, in words, for a terminal: "created role
				    * {role}"; {role}, {database}, {secret}, {owner} and {access}
				    * stand for the action's fields */
};
/* The row of kind k (never NULL for k < _GP_ACT_MAX). */
const struct gp_action_info *gp_action_info(enum gp_action_kind k);

struct gp_action {
	enum gp_action_kind kind;
	enum gp_why why;
	enum gp_cred cred;     /* GP_AF_CRED kinds */
	char *key;             /* the entry's app key (role comment, secret tags) */
	char *database;        /* database concerned (NULL for role/secret-only actions) */
	char *role;            /* role concerned; GRANT_MEMBERSHIP: the member (the master) */
	char *secret;          /* secret name (secret actions) */
	char *owner;           /* CREATE_DATABASE, ALTER_DATABASE_OWNER: the (new) owner;
				* APPLY_GRANTS: the database owner (default privileges FOR ROLE);
				* GRANT_MEMBERSHIP: the role granted */
	enum gp_access access; /* APPLY_GRANTS: the level */
	bool createdb;         /* CREATE_ROLE, ALTER_ROLE: CREATEDB wanted */
	char *version;         /* ROTATE_STAGE: the AWSCURRENT version it rotates from (its
				* ClientRequestToken derives from it); ROTATE_PROMOTE: the version
				* AWSCURRENT leaves, "" when none; NULL otherwise */
	char *detail;          /* human text: what differs ("createrole is on"); never a secret */
};
void gp_action_release(struct gp_action *a);

/* The audit row's action column for a: the row's audit name, "repair" for a drift repair,
 * else the kind's name. */
const char *gp_action_audit_name(const struct gp_action *a);

/* One line describing an action ("create_role inventory_user (new): ..."). */
int gp_action_describe(const struct gp_action *a, struct gp_buf *out);
/*
 * What a person at a terminal reads about an action: its row's summary with the fields
 * filled in ("created role inventory_user"), or, when failed, its kind and object
 * ("create_role inventory_user failed"). Short: no reason, no detail. Appends to out; returns
 * 0 or -ENOMEM.
 */
int gp_action_summary(const struct gp_action *a, bool failed, struct gp_buf *out);
/* The action as a JSON object (caller owns; NULL on ENOMEM). */
struct cJSON;
struct cJSON *gp_action_to_json(const struct gp_action *a);

/*
 * The executor's guard (DESIGN §4.5: only what is ours is ever removed). For a destructive
 * kind, returns why it must not run, or NULL when it may:
 *   GP_TARGET_ROLE      the role must exist in o and carry gprdsd's marker for env and
 *                       a->key (model/names.h);
 *   GP_TARGET_SECRET    the secret must exist in o and carry the managed-by tag;
 *   GP_TARGET_DATABASE  the database must exist in o and be owned by a role that carries
 *                       gprdsd's marker for env.
 * A kind that is not destructive always passes. gp_action_guard_row() takes the row
 * explicitly (the table has no destructive kind yet; its tests pass their own rows).
 */
const char *gp_action_guard(const struct gp_action *a, const char *env,
			    const struct gp_observed *o);
const char *gp_action_guard_row(const struct gp_action_info *info, const struct gp_action *a,
				const char *env, const struct gp_observed *o);

#endif
