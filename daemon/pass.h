/*
 * pass.h — one reconcile pass for one environment: read inputs → master credentials →
 * join → observe PostgreSQL and Secrets Manager → plan → (apply, audit, record).
 *
 * The same function runs for `gprdsd --once`, `gprdsd plan` (mode PLAN: nothing is written
 * anywhere: no SQL that changes anything, no Secrets Manager writes, no audit, no state) and
 * each tick of the daemon, where it runs on a libuv worker thread: it blocks, but every call it
 * makes carries a timeout, and it checks *stop between steps.
 *
 * Logging: the pass logs every decision once, with structured fields (env, database, key,
 * action, states, commit, run id). It never logs a secret.
 */
#ifndef GPD_PASS_H
#define GPD_PASS_H

#include <stdatomic.h>

#include "config.h"
#include "inputs.h"
#include "plan.h"

enum gpd_pass_mode { GPD_PASS_APPLY, GPD_PASS_PLAN };

/* Age of one entry's secret, from the secret's own dates. */
struct gpd_secret_age {
	char key[64];
	int64_t changed; /* last change (or creation), seconds since the epoch */
	uint64_t rotation_ms; /* rotation period for the entry's risk */
};

#define GPD_PASS_MAX_ERROR_KINDS 16

struct gpd_pass_opts {
	const struct gp_config *cfg;
	const struct gp_env_config *env;
	const struct gpd_repo_inputs *inputs; /* read once per run, shared read-only */
	enum gpd_pass_mode mode;
	const char *run_id;
	const atomic_bool *stop; /* may be NULL */
	int64_t now;             /* seconds since the epoch, taken by the caller */
	bool retry_now;          /* --once, plan: failed entries are retried without waiting */
	/* Called with the master connection right after connecting; returning false skips the
	 * pass as "standby" (the daemon's HA advisory lock). NULL: always act. */
	bool (*leader)(void *userdata, void *pgconn);
	void *leader_userdata;
};

struct gpd_pass_result {
	int error;        /* 0, or -errno: the environment could not be reconciled */
	char *error_text; /* why, when error < 0 */
	bool standby;     /* another gprdsd holds this environment's lock */
	struct gp_desired *desired; /* NULL when the inputs could not be read */
	struct gp_plan *plan;       /* NULL when the pass stopped before planning */
	size_t by_state[_GP_STATE_MAX];
	size_t n_invalid;   /* entries held as invalid or conflicting */
	size_t n_gated;     /* entries waiting at a gate */
	size_t n_failed;    /* entries failed (this pass or still waiting for a retry) */
	size_t n_applied;   /* actions applied */
	size_t n_errors;    /* actions that failed */
	size_t n_orphans;
	int64_t next_retry; /* earliest retry time of a failed entry, 0 when none */
	char *top_reason;   /* the most common hold/failure reason, for STATUS= */
	uint64_t duration_ms;
	struct { char kind[64]; unsigned n; } errors[GPD_PASS_MAX_ERROR_KINDS]; /* by code */
	size_t n_error_kinds;
	struct gpd_secret_age *secrets; /* one per desired entry with a secret */
	size_t n_secrets;
	unsigned sm_calls, sm_throttles;
	unsigned long pg_statements;
};

int gpd_pass_run(const struct gpd_pass_opts *o, struct gpd_pass_result *res);
void gpd_pass_result_release(struct gpd_pass_result *res);

/* The Secrets Manager name prefix that covers every secret of env (template up to {key}). */
char *gpd_secret_prefix(const struct gp_env_config *env);

#endif
