/*
 * metrics.h — what the daemon remembers about each environment's passes, rendered as
 * Prometheus text exposition (for node_exporter's textfile collector), as the systemd STATUS=
 * line, and as the runtime file that `gprdsd status` reads (leader/standby, last pass).
 *
 * A struct gpd_env_metrics belongs to the loop thread; it is zero-initialised, filled by
 * gpd_metrics_account() after each pass and released with gpd_metrics_release().
 */
#ifndef GPD_METRICS_H
#define GPD_METRICS_H

#include "pass.h"

#define GPD_RUNTIME_FILE "runtime.json"

struct gpd_count {
	char kind[64];
	uint64_t n;
};

struct gpd_env_metrics {
	/* Leadership is the daemon's to set (it knows whether the pass got as far as asking for
	 * the lock); leader_known is false until a pass has asked. */
	bool leader, leader_known;
	int64_t last_pass, last_success; /* wall clock, seconds */
	uint64_t last_duration_ms;
	size_t by_state[_GP_STATE_MAX];
	size_t n_invalid, n_gated, n_orphans;
	uint64_t passes_total, pass_errors_total;
	uint64_t actions_total, action_errors_total;
	uint64_t rotations_total, rotation_errors_total;
	bool refused; /* the last pass's plan was refused by the mass-change guard */
	uint64_t sm_calls_total, sm_throttles_total, pg_statements_total;
	struct gpd_count errors[32]; /* by kind: SQLSTATE or AWS error code */
	size_t n_errors;
	/* Entries held for their contract's approval route, by route, and by the group whose
	 * approval they lack (DESIGN §1.3a); a route or group once seen stays, at 0. */
	struct gpd_count awaiting[16], missing[16];
	size_t n_awaiting, n_missing;
	struct gpd_secret_age *secrets; /* from the last successful pass; owned */
	size_t n_secrets;
	char top_reason[160];
	char last_error[256];
};

/* Folds one pass's result into m (loop thread). Takes res->secrets (sets it to NULL). */
void gpd_metrics_account(struct gpd_env_metrics *m, struct gpd_pass_result *res, int rc,
			 int64_t now);
/* Frees what m owns and zeroes it. */
void gpd_metrics_release(struct gpd_env_metrics *m);
/* "dev: 12 active, 1 pending, 0 failed (top reason), last pass 2026-01-01T12:00:00Z", or
 * "dev: standby (...), last check <time>". */
void gpd_metrics_status_line(const char *env, const struct gpd_env_metrics *m, struct gp_buf *out);
/* Prometheus text exposition format 0.0.4 of every environment; now (seconds) is used for
 * the count of overdue rotations. Returns 0 or -ENOMEM. */
int gpd_metrics_render(const char *const *names, const struct gpd_env_metrics *const *ms, size_t n,
		       int64_t now, struct gp_buf *out);
/* Adds key: "YYYY-MM-DDTHH:MM:SSZ", or null when t is 0 (runtime.json, status --json). */
struct cJSON;
void gpd_json_time(struct cJSON *o, const char *key, int64_t t);

/*
 * <state_dir>/runtime.json, atomically:
 *   {"pid": 123, "state": "running" | "stopped", "updated": "2026-...Z",
 *    "environments": [{"env": "dev", "role": "starting" | "leader" | "standby" | "stopped",
 *                      "last_pass": ts|null, "last_success": ts|null, "last_error": s|null,
 *                      "active": n, "pending": n, "failed": n}]}
 * stopped: the daemon is exiting (every role becomes "stopped").
 */
int gpd_runtime_write(const char *state_dir, const char *const *names,
		      const struct gpd_env_metrics *const *ms, size_t n, bool stopped);

#endif
