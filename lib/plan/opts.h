/*
 * plan/opts.h — what the planner and the check selection are told about the pass: the time,
 * the commit, the environment's configuration and the endpoint written into secrets.
 */
#ifndef GP_PLAN_OPTS_H
#define GP_PLAN_OPTS_H

#include "inputs/config.h"

struct gp_rotate_request;
struct gp_retry_request;

struct gp_plan_opts {
	int64_t now;                 /* seconds since the epoch */
	uint64_t verify_interval_ms; /* re-verify credentials by login after this long */
	const char *commit;          /* commit of the inputs (may be NULL) */
	const struct gp_env_config *env;
	const char *secret_host;     /* endpoint written into secrets (master's, or secret.host) */
	const char *secret_port;     /* likewise, as a string */
	bool retry_now;              /* an explicit request (--once): failed entries do not wait */
	const struct gp_rotate_request *requests; /* `gprdsd rotate`, sorted by key */
	size_t n_requests;
	const struct gp_retry_request *retries; /* `gprdsd retry` (lifecycle.h), sorted by key */
	size_t n_retries;
	bool confirm_mass_change; /* the operator confirmed: the mass-change guard lets it pass */
	bool verify_all; /* --verify: every login and privilege is checked now, not when due */
};

#endif
