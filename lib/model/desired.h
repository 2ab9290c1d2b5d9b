/*
 * model/desired.h — one environment's desired state: its entries after joining and
 * validation (plan/join.c). Entries are sorted (owner entries first, then by database,
 * then key) so that plans and golden files are canonical. Every string is owned by the
 * struct that holds it; gp_desired_free() accepts NULL.
 */
#ifndef GP_MODEL_DESIRED_H
#define GP_MODEL_DESIRED_H

#include "model/types.h"

/* Why an entry is held back. NONE: it may be provisioned. */
enum gp_hold {
	GP_HOLD_NONE,
	GP_HOLD_INVALID,        /* a validation rule failed */
	GP_HOLD_CONFLICT,       /* a join conflict (§1.3) */
	GP_HOLD_NO_TFVARS,      /* catalog entry without tfvars entry */
	GP_HOLD_NOT_ALLOWED,    /* environment has allow_provision false */
	GP_HOLD_NEEDS_APPROVAL, /* large/xlarge without metadata.approved_by, or a contract's
				 * approval route without every group it needs */
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
	char *approved_by;  /* catalog metadata.approved_by as text ("a, b"); may be NULL */
	struct gp_strv approvals; /* the groups metadata.approved_by names */
	char *contract;     /* the request contract of its database (id), or NULL */
	char *route;        /* the contract's approval route (plan/routing.h), or NULL */
	char *approvals_missing; /* the route's groups approved_by lacks ("a, b"), or NULL */
	char *owner_role;   /* username of the database's owner entry (NULL when none) */
	char *secret_name;  /* expanded secret name template */
	bool createdb;
	enum gp_strategy strategy; /* rotation: catalog configuration.rotation_strategy, else the
				    * environment's rotation.strategy */
	char *alt_username;        /* alternating: "<username>_alt", the second login role */
	int64_t rotate_after;      /* catalog metadata.rotate_after, 0: none */
	char *decommission_confirm; /* catalog metadata.decommission_confirm, or NULL */
	bool decommission;         /* all three keys of DESIGN §4.5 hold: remove it (gates.c) */
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

#endif
