/*
 * plan.h — desired × observed (+ lifecycle records) → an ordered list of actions.
 *
 * Every effect of a pass is a struct gp_action before it is an action: `gprdsd plan` prints
 * these values, `--once` applies them in order, and the audit records them. Planning is pure:
 * no I/O, no clock (now is passed in), no randomness.
 *
 * Order: entries whose access is owner come first (they create the databases the others
 * need), then editor and reader entries; within an entry actions follow DESIGN §2:
 * secret → role → membership → database → isolation → privileges → verify.
 */
#ifndef GP_PLAN_H
#define GP_PLAN_H

#include "inputs/config.h"
#include "model/desired.h"
#include "model/observed.h"
#include "model/state.h"

enum gp_action_kind {
	GP_ACT_CREATE_SECRET,       /* new secret with a fresh password */
	GP_ACT_ADOPT_SECRET,        /* existing secret: keep its password, correct its JSON */
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
	_GP_ACT_MAX,
};
const char *gp_action_kind_to_string(enum gp_action_kind k);

enum gp_why {
	GP_WHY_NEW,    /* the object does not exist yet */
	GP_WHY_DRIFT,  /* it exists but differs from the desired state: a repair */
	GP_WHY_ADOPT,  /* it exists but was not made by gprdsd */
	GP_WHY_CHECK,  /* a check, changes nothing by itself (verify_login) */
	_GP_WHY_MAX,
};
const char *gp_why_to_string(enum gp_why w);

struct gp_action {
	enum gp_action_kind kind;
	enum gp_why why;
	char *database; /* database concerned (may be NULL for role/secret-only actions) */
	char *role;     /* role concerned (GRANT_MEMBERSHIP: the member, i.e. the master) */
	char *object;   /* secret name; GRANT_MEMBERSHIP: the role granted; CREATE_DATABASE and
			 * ALTER_DATABASE_OWNER: the (new) owner; APPLY_GRANTS: the database
			 * owner. pg.c reads these fields, so they are part of the contract. */
	char *detail;   /* human text: what differs ("createrole is on"); never a secret */
};

struct gp_entry_plan {
	size_t entry;           /* index into desired->v */
	enum gp_state from;     /* state in the record (pending when new) */
	enum gp_state to;       /* state after a successful apply (or the held state) */
	bool held;              /* at a gate or invalid: no actions */
	bool waiting;           /* failed and waiting for its retry time: no actions */
	bool needs_value;       /* the secret value must be fetched before planning is final */
	char *note;             /* why it waits (e.g. for its database), or NULL */
	struct gp_action *actions;
	size_t n_actions;
	size_t n_changes;       /* actions other than GP_WHY_CHECK */
};

struct gp_plan {
	char *env;
	struct gp_entry_plan *v; /* in desired order */
	size_t n;
	size_t n_changes;
	struct gp_strv orphans; /* managed roles/secrets with no desired entry (never removed) */
};

struct gp_plan_opts {
	int64_t now;                 /* seconds since the epoch */
	uint64_t verify_interval_ms; /* re-verify credentials by login after this long */
	const char *commit;          /* commit of the inputs (may be NULL) */
	const struct gp_env_config *env;
	const char *secret_host;     /* endpoint written into secrets (master's, or secret.host) */
	const char *secret_port;     /* likewise, as a string */
	bool retry_now;              /* an explicit request (--once): failed entries do not wait */
};

/*
 * Whether a periodic check done at `last` (seconds since the epoch) is due at `now`, for the
 * entry `key`: the login check (verify_interval) and the check of in-database privileges.
 * Each key's check comes due up to a tenth of interval_ms early, by an offset that the key
 * fixes (FNV-1a), never late. Entries checked in one pass, as all of them are after a cold
 * pass, so come due over the last tenth of the interval instead of all in one pass again, and
 * stay spread: a steady few checks a pass rather than a burst of a thousand logins that
 * delays every other change for the length of that pass.
 * interval_ms 0: always due; `last` in the future (the clock stepped back): due.
 */
bool gp_check_due(int64_t now, int64_t last, uint64_t interval_ms, const char *key);

/*
 * Which entries need their secret's value fetched before planning: the secret exists and
 * (the entry is new to gprdsd, or the AWSCURRENT version differs from the verified one, or
 * the role is missing, or verification is due). Returns the secret names in names (sorted).
 */
int gp_plan_values_needed(const struct gp_desired *d, const struct gp_observed *o,
			  const struct gp_state_file *s, const struct gp_plan_opts *opts,
			  struct gp_strv *names);

int gp_plan_build(const struct gp_desired *d, const struct gp_observed *o,
		  const struct gp_state_file *s, const struct gp_plan_opts *opts,
		  struct gp_plan **ret);
void gp_plan_free(struct gp_plan *p);
DEFINE_FREEP(struct gp_plan, gp_plan_free)

/* Human text (the `plan` output) and JSON (`plan --json`). Canonical: golden-file stable. */
int gp_plan_format_text(const struct gp_plan *p, const struct gp_desired *d, struct gp_buf *out);
int gp_plan_format_json(const struct gp_plan *p, const struct gp_desired *d, struct gp_buf *out);
/* The JSON object of one environment's plan (caller owns; cJSON_Delete). NULL on ENOMEM. */
struct cJSON;
struct cJSON *gp_plan_to_json(const struct gp_plan *p, const struct gp_desired *d);
/* One line describing an action ("create_role inventory_user (new)"). */
int gp_action_describe(const struct gp_action *a, struct gp_buf *out);

#endif
