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

#include "codec/requests.h"
#include "inputs/config.h"
#include "fileio.h"
#include "ha.h"
#include "inputs.h"
#include "plan/plan.h"

enum gpd_pass_mode { GPD_PASS_APPLY, GPD_PASS_PLAN };

/*
 * What the daemon keeps of an environment between its passes, so that an idle pass parses
 * nothing: the joined desired state, reused while its inputs (the files the manifest names
 * for the environment, the master user and database) are the same byte for byte; and the lifecycle
 * records, reused while the state file is the one they were read from or last written to.
 * The owner clears it when the configuration changes. Used by one pass at a time.
 */
struct gpd_pass_cache {
	uint8_t inputs_key[32];     /* digest of the inputs desired was built from */
	struct gp_desired *desired; /* NULL: none */
	struct gp_state_file *state; /* NULL: none */
	struct gpd_file_id state_id; /* the state file that state matches */
	uint64_t state_digest;       /* gp_state_digest(state) */
};
void gpd_pass_cache_clear(struct gpd_pass_cache *c);
/* Replaces the kept records with a copy made now. After a pass that changed many records,
 * their strings lie scattered among everything the pass allocated and freed; made once the
 * pass's memory is released, the copy lies together and malloc_trim() can hand the rest of
 * the pages back. Keeps the original when out of memory. */
void gpd_pass_cache_compact(struct gpd_pass_cache *c);

/* Age of one entry's password: since when its AWSCURRENT version is current. */
struct gpd_secret_age {
	char key[64];
	int64_t changed;        /* since when the password is current, seconds since the epoch */
	uint64_t rotation_ms;   /* rotation period for the entry's risk */
	uint64_t warn_before_ms; /* rotation.warn_before: "soon due" this long before */
	bool rotating;          /* a rotation is in progress (not overdue: under way) */
};

#define GPD_PASS_MAX_ERROR_KINDS 16

struct gpd_pass_opts {
	const struct gp_config *cfg;
	const struct gp_env_config *env;
	const struct gpd_repo_inputs *inputs; /* read once per run, shared read-only; or NULL: */
	struct gpd_pass_cache *cache;         /* ... the pass reads them when they changed */
	enum gpd_pass_mode mode;
	const char *run_id;
	const atomic_bool *stop; /* may be NULL */
	int64_t now;             /* seconds since the epoch, taken by the caller */
	bool retry_now;          /* --once, plan: failed entries are retried without waiting */
	bool confirm_mass_change; /* --confirm-mass-change: the mass-change guard lets it pass */
	bool verify_all;          /* --verify: every login and privilege checked now */
	/* The daemon: the state file is rewritten only when a record or the environment's error
	 * changed, not for the pass times alone (last_pass and last_success are in its runtime
	 * file, and `gprdsd status` shows the newer of the two). */
	bool lazy_state;
	/* The environment's advisory lock (ha.h): the pass acts only as its holder, on its
	 * connection (kept open between passes). NULL: no lock, a connection of the pass's own
	 * (plan). */
	struct gpd_ha *ha;
};

struct gpd_pass_result {
	int error;        /* 0, or -errno: the environment could not be reconciled */
	char *error_text; /* why, when error < 0 */
	bool standby;     /* another gprdsd holds this environment's lock */
	bool refused;     /* the mass-change guard refused the plan: nothing was changed */
	bool lock_asked;  /* the pass got as far as asking for the lock (ha->leader answers) */
	char lock_holder[256]; /* standby: who holds the lock (ha.h), or "" */
	char commit[41];  /* HEAD of the checkout the pass read ("" when not a git checkout) */
	bool state_written; /* the state file was rewritten */
	struct gp_desired *desired; /* NULL when the inputs could not be read */
	bool desired_shared;        /* desired belongs to opts.cache, not to the result */
	struct gp_plan *plan;       /* NULL when the pass stopped before planning */
	/* The requests file as the pass read it (gprdsd rotate, retry, --confirm-mass-change):
	 * the plan borrows who asked from it, so it lives as long as the plan. */
	struct gp_requests requests;
	size_t by_state[_GP_STATE_MAX];
	size_t n_invalid;   /* entries held as invalid or conflicting */
	size_t n_gated;     /* entries waiting at a gate */
	size_t n_failed;    /* entries failed (this pass or still waiting for a retry) */
	size_t n_applied;   /* actions applied */
	size_t n_errors;    /* actions that failed */
	size_t n_rotations; /* rotations completed (AWSCURRENT moved to a new version) */
	size_t n_rotations_failed; /* rotation steps that failed */
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

#endif
