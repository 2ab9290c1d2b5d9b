/*
 * metrics.h — what the daemon remembers about each environment's passes, rendered as
 * Prometheus text exposition (for node_exporter's textfile collector), as the systemd STATUS=
 * line, and as the runtime file that `gprdsd status` reads (leader/standby, last pass).
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
	bool leader, leader_known;
	int64_t last_pass, last_success; /* wall clock, seconds */
	uint64_t last_duration_ms;
	size_t by_state[_GP_STATE_MAX];
	size_t n_invalid, n_gated, n_orphans;
	uint64_t passes_total, pass_errors_total;
	uint64_t actions_total, action_errors_total;
	uint64_t sm_calls_total, sm_throttles_total, pg_statements_total;
	struct gpd_count errors[32]; /* by kind: SQLSTATE or AWS error code */
	size_t n_errors;
	struct gpd_secret_age secrets[256]; /* from the last pass */
	size_t n_secrets;
	char top_reason[160];
	char last_error[256];
};

/* Folds one pass's result into m (loop thread). */
void gpd_metrics_account(struct gpd_env_metrics *m, const struct gpd_pass_result *res, int rc,
			 int64_t now);
/* "dev: 12 active, 1 pending, 0 failed (last pass 14s ago)" */
void gpd_metrics_status_line(const char *env, const struct gpd_env_metrics *m, int64_t now,
			     struct gp_buf *out);
int gpd_metrics_render(const char *const *names, const struct gpd_env_metrics *const *ms,
		       size_t n, struct gp_buf *out);
/* <state_dir>/runtime.json, atomically. */
int gpd_runtime_write(const char *state_dir, const char *const *names,
		      const struct gpd_env_metrics *const *ms, size_t n);

#endif
