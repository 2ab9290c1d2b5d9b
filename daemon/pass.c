/*
 * pass.c — one reconcile pass for one environment (DESIGN §2): the order of its steps.
 *
 * read inputs → master credentials → join → records → observe (observe.c) → plan (lib's
 * gp_plan_build(), pure) → apply (apply.c) → save records. The same function runs for
 * `gprdsd plan` (it stops after planning), `--once` and each tick of the daemon. This file
 * owns the pass's resources and its outcome; what the servers hold is observe.c's business,
 * executing actions apply.c's.
 *
 * Deliberately not here: deciding what to change (lib/plan/), SQL (pg*.c), HTTP (sm.c),
 * scheduling passes (the daemon loop), removing anything (never implied).
 */
#include "pass_int.h"

#include <stdio.h>
#include <time.h>

#include "audit_file.h"
#include "fileio.h"
#include "state_store.h"
#include "plan/join.h"

uint64_t
gpd_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool
gpd_pass_stopping(const struct pass *p)
{
	return p->o->stop && atomic_load(p->o->stop);
}

void
gpd_pass_logctx(const struct pass *p, const struct gp_entry *e, struct gpd_logctx *c)
{
	*c = (struct gpd_logctx){
		.env = p->env,
		.database = e ? e->database : NULL,
		.key = e ? e->key : NULL,
		.commit = p->commit,
		.run = p->o->run_id,
	};
}

void
gpd_pass_error(struct pass *p, int r, const char *fmt, ...)
{
	struct gp_buf b = {0};
	struct gpd_logctx c;
	va_list ap;

	va_start(ap, fmt);
	gp_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	p->res->error = r < 0 ? r : -EIO;
	free(p->res->error_text);
	p->res->error_text = gp_buf_steal(&b);
	gpd_pass_logctx(p, NULL, &c);
	gpd_log(LOG_ERR, GPD_MID_ENV_FAILED, &c, "environment %s not reconciled: %s", p->env,
		p->res->error_text ? p->res->error_text : "out of memory");
}

/* ---------------------------------------------------------------------------------------
 * Preparation: inputs, master credentials, join, observation
 */

static int
build_desired(struct pass *p, const struct gpd_load_req *req)
{
	struct gp_diags diags = {0};
	struct gpd_load_res ld;
	struct gpd_logctx c;
	int r;

	gpd_pass_logctx(p, NULL, &c);
	r = gpd_inputs_load_desired(req, &ld, &diags);
	/* `--once` logged the shared files' diagnostics once, before the first environment. */
	if (p->o->inputs && gp_diags_drop_seen(&diags, &p->o->inputs->diags) < 0)
		gpd_log(LOG_WARNING, NULL, &c, "out of memory: diagnostics may repeat");
	gpd_log_diags(&diags, &c);
	gp_diags_release(&diags);
	if (r < 0) {
		gpd_pass_error(p, r, "%s", ld.why);
		return r;
	}
	p->res->desired = ld.desired;
	p->res->desired_shared = ld.kept;
	gpd_log_pass_begin(&c, ld.desired->n);
	return 0;
}

/*
 * The inputs as the CLI, validate and the daemon load them (inputs.h): plan and --once hand
 * in the shared inputs read once per run; the daemon's pass reads them itself and reuses the
 * desired state of an earlier pass while its inputs are the same byte for byte (their
 * diagnostics are logged then, once per change rather than at every pass). HEAD is read
 * first, the files after: a commit that lands in between is seen by the next pass, whose
 * digest then differs.
 */
static int
load_desired(struct pass *p)
{
	const struct gp_config *cfg = p->o->cfg;
	struct gpd_pass_cache *cache = p->o->cache;
	_cleanup_(gp_manifest_freep) struct gp_manifest *m = NULL;
	int r = gp_manifest_new(cfg, &m);
	struct gpd_load_req req = {
		.manifest = m,
		.env = p->env,
		.env_config = p->o->env,
		.master_user = p->master.username,
		.master_db = p->master.dbname,
		.shared = p->o->inputs,
		.kept = cache ? &cache->desired : NULL,
		.key = cache ? cache->inputs_key : NULL,
	};

	if (r < 0) {
		gpd_pass_error(p, r, "cannot read the inputs: %s", strerror(-r));
		return r;
	}
	if (!p->o->inputs) {
		gpd_git_head(cfg->repository.path, &p->own_commit);
		p->commit = p->own_commit;
	}
	return build_desired(p, &req);
}

void
gpd_pass_cache_compact(struct gpd_pass_cache *c)
{
	struct gp_state_file *copy = c->state ? gp_state_file_dup(c->state) : NULL;

	if (!copy)
		return;
	gp_state_file_free(c->state);
	c->state = copy;
}

void
gpd_pass_cache_clear(struct gpd_pass_cache *c)
{
	gp_desired_free(c->desired);
	gp_state_file_free(c->state);
	*c = (struct gpd_pass_cache){0};
}

static int
load_master(struct pass *p)
{
	const struct gp_env_config *env = p->o->env;
	struct gpd_error err = {0};
	_cleanup_free_ char *problem = NULL;
	char *json = NULL;
	int r;

	r = gpd_sm_get_value(p->sm, env->master_secret, &json, &err);
	if (r < 0) {
		gpd_pass_error(p, r, "cannot read the master secret %s: %s%s%s", env->master_secret,
			      err.code[0] ? err.code : strerror(-r), err.message[0] ? ": " : "",
			      err.message);
		return r;
	}
	r = gp_master_parse(json, &p->master, &problem);
	gp_secret_free_string(json);
	if (r < 0) {
		gpd_pass_error(p, r, "the master secret %s is unusable: %s", env->master_secret,
			      problem ? problem : "bad JSON");
		return r;
	}
	return 0;
}

static void
setup_target(struct pass *p)
{
	const struct gp_env_config *env = p->o->env;

	if (env->postgres.port > 0)
		snprintf(p->port_buf, sizeof(p->port_buf), "%d", env->postgres.port);
	else
		snprintf(p->port_buf, sizeof(p->port_buf), "%s",
			 p->master.port ? p->master.port : "5432");
	p->target = (struct gpd_pg_target){
		.host = !gp_isempty(env->postgres.host) ? env->postgres.host : p->master.host,
		.port = p->port_buf,
		.user = p->master.username,
		.password = p->master.password,
		.dbname = p->master.dbname ? p->master.dbname : "postgres",
		.sslmode = env->postgres.sslmode,
		.sslrootcert = env->postgres.sslrootcert,
		.connect_timeout_ms = env->postgres.connect_timeout_ms,
		.statement_timeout_ms = env->postgres.statement_timeout_ms,
	};
	/* Applications get the endpoint of the secret (or of an RDS Proxy), not our tunnel. */
	if (env->secret.port > 0)
		snprintf(p->secret_port_buf, sizeof(p->secret_port_buf), "%d", env->secret.port);
	else
		snprintf(p->secret_port_buf, sizeof(p->secret_port_buf), "%s",
			 p->master.port ? p->master.port : "5432");
}

/* Both endpoints must be known: where gprdsd connects, and what applications are given. */
static int
check_endpoints(struct pass *p)
{
	const struct gp_env_config *env = p->o->env;

	if (gp_isempty(p->target.host)) {
		gpd_pass_error(p, -EINVAL, "the master secret %s has no host: set "
			      "environments.%s.postgres.host", env->master_secret, p->env);
		return -EINVAL;
	}
	if (gp_isempty(env->secret.host) && gp_isempty(p->master.host)) {
		gpd_pass_error(p, -EINVAL, "the master secret %s has no host to give applications: "
			      "set environments.%s.secret.host", env->master_secret, p->env);
		return -EINVAL;
	}
	return 0;
}

int
gpd_pass_pg_error(struct pass *p, int r, const char *what, const struct gpd_error *err)
{
	gpd_pass_error(p, r, "%s: %s%s%s", what, err->code[0] ? err->code : "",
		      err->code[0] ? " " : "", err->message[0] ? err->message : strerror(-r));
	return r;
}

/* With a cache, the records of the previous pass stand while the file is the one they
 * match (the identity is taken before reading: a write in between shows at the next pass). */
static int
load_state(struct pass *p)
{
	struct gpd_pass_cache *cache = p->o->cache;
	_cleanup_free_ char *err = NULL;
	struct gpd_file_id id;
	bool have_id = cache && gpd_state_file_id(p->o->cfg->state_dir, p->env, &id) >= 0;
	int r;

	if (have_id && cache->state && gpd_file_id_eq(&id, &cache->state_id)) {
		p->state = cache->state;
		p->state_shared = true;
		p->state_digest = cache->state_digest;
		return 0;
	}
	r = gpd_state_load(p->o->cfg->state_dir, p->env, &p->state, &err);
	if (r < 0) {
		gpd_pass_error(p, r, "cannot load the state file: %s", err ? err : strerror(-r));
		return r;
	}
	p->state_digest = gp_state_digest(p->state);
	if (have_id) {
		gp_state_file_free(cache->state);
		cache->state = p->state;
		cache->state_id = id;
		cache->state_digest = p->state_digest;
		p->state_shared = true;
	}
	return 0;
}

/* A `--confirm-mass-change` recorded in the requests file (a daemon runs here) and not used
 * by an earlier pass. */
static bool
confirmed_by_request(const struct pass *p)
{
	return p->res->requests.confirm_at && p->state &&
	       p->res->requests.confirm_at > p->state->confirm_used;
}

void
gpd_pass_plan_opts(const struct pass *p, struct gp_plan_opts *po)
{
	const struct gp_env_config *env = p->o->env;

	*po = (struct gp_plan_opts){
		.now = p->o->now,
		.verify_interval_ms = p->o->cfg->reconcile.verify_interval_ms,
		.commit = p->commit,
		.env = env,
		.secret_host = !gp_isempty(env->secret.host) ? env->secret.host : p->master.host,
		.secret_port = p->secret_port_buf,
		.retry_now = p->o->retry_now,
		.requests = p->res->requests.rotate,
		.n_requests = p->res->requests.n_rotate,
		.retries = p->res->requests.retry,
		.n_retries = p->res->requests.n_retry,
		.confirm_mass_change = p->o->confirm_mass_change || confirmed_by_request(p),
		.verify_all = p->o->verify_all,
	};
}

/* The requests of `gprdsd rotate`, `gprdsd retry` and `--confirm-mass-change`
 * (state_store.h). A file that cannot be read is said and ignored: the scheduled work of the
 * pass does not depend on it. */
static void
load_requests(struct pass *p)
{
	_cleanup_free_ char *err = NULL;
	struct gpd_logctx c;

	if (gpd_requests_load(p->o->cfg->state_dir, p->env, &p->res->requests, &err) >= 0)
		return;
	gpd_pass_logctx(p, NULL, &c);
	gpd_log(LOG_WARNING, NULL, &c, "requests ignored: %s", err ? err : "unreadable");
}

static int
make_plan(struct pass *p)
{
	struct gp_plan_opts po;
	int r;

	gpd_pass_plan_opts(p, &po);
	r = gp_plan_build(p->res->desired, p->obs, p->state, &po, &p->res->plan);
	if (r < 0)
		gpd_pass_error(p, r, "cannot plan: %s", strerror(-r));
	return r;
}

/*
 * The environment's outcome goes into its state file too, so that `gprdsd status` shows a
 * pass that could not run (PostgreSQL down, a tfvars file that does not parse). A state file
 * that cannot be read is never overwritten.
 */
static void
save_state(struct pass *p)
{
	_cleanup_free_ char *err = NULL;
	char *text = NULL;
	uint64_t digest;
	int r;

	if (!p->state) {
		if (gpd_state_load(p->o->cfg->state_dir, p->env, &p->state, &err) < 0)
			return;
		p->state_digest = gp_state_digest(p->state);
	}
	p->state->last_pass = p->o->now;
	if (p->res->error < 0 && p->res->error_text && !(text = strdup(p->res->error_text)))
		return;
	free(p->state->last_error);
	p->state->last_error = text;
	if (p->res->error >= 0)
		p->state->last_success = p->o->now;
	digest = gp_state_digest(p->state);
	if (p->o->lazy_state && digest == p->state_digest)
		return; /* only the pass times changed: the daemon's runtime file has those */
	free(err);
	err = NULL;
	r = gpd_state_save(p->o->cfg->state_dir, p->state, &err);
	if (r < 0)
		gpd_pass_error(p, r, "cannot save the state file: %s", err ? err : strerror(-r));
	p->res->state_written = r >= 0;
	if (!p->state_shared)
		return;
	/* Kept records must match a file: the one just written, or (after a failed write) none,
	 * so that the next pass reads what is really on disk. */
	if (r < 0 || gpd_state_file_id(p->o->cfg->state_dir, p->env, &p->o->cache->state_id) < 0) {
		p->o->cache->state = NULL;
		p->state_shared = false;
	}
	p->o->cache->state_digest = digest;
}


static int
sm_open(struct pass *p)
{
	const struct gp_config *cfg = p->o->cfg;
	struct gpd_sm_opts so = {
		.region = cfg->aws.region,
		.endpoint = cfg->aws.endpoint,
		.profile = cfg->aws.profile,
		.timeout_ms = cfg->aws.timeout_ms,
		.write_interval_ms = cfg->aws.write_interval_ms,
	};
	int r = gpd_sm_new(&so, &p->sm);

	if (r < 0)
		gpd_pass_error(p, r, "cannot set up the Secrets Manager client: %s", strerror(-r));
	return r;
}

/* A stop request (SIGTERM) between steps: the pass ends here, as an environment that was not
 * reconciled, and the steps that take seconds at 100,000 entries are not started. */
static int
stopped(struct pass *p, const char *before)
{
	gpd_pass_error(p, -ECANCELED, "stopped before %s", before);
	return -ECANCELED;
}

static int
run(struct pass *p)
{
	int r;

	/* Unreadable shared inputs: nothing to ask anyone (with a cache, they are read later). */
	if (p->o->inputs && p->o->inputs->failed) {
		gpd_pass_error(p, -EINVAL, GPD_INPUTS_SHARED_FAILED);
		return -EINVAL;
	}
	r = sm_open(p);
	if (r >= 0)
		r = load_master(p);
	if (r >= 0)
		r = gpd_pass_stopping(p) ? stopped(p, "reading the inputs") : load_desired(p);
	if (r < 0)
		return r;
	setup_target(p);
	r = check_endpoints(p);
	if (r >= 0)
		r = load_state(p);
	if (r >= 0)
		load_requests(p);
	if (r >= 0)
		r = gpd_pass_stopping(p) ? stopped(p, "observing") : gpd_pass_observe(p);
	if (r >= 0)
		r = gpd_pass_stopping(p) ? stopped(p, "planning") : make_plan(p);
	if (r < 0 || p->o->mode == GPD_PASS_PLAN)
		return r;
	if (gpd_pass_stopping(p))
		return stopped(p, "applying");
	if (confirmed_by_request(p)) /* used once: the next refusal needs a new confirmation */
		p->state->confirm_used = p->res->requests.confirm_at;
	return gpd_pass_apply(p);
}

int
gpd_pass_run(const struct gpd_pass_opts *o, struct gpd_pass_result *res)
{
	struct pass p = {.o = o, .res = res, .env = o->env->name,
			 .commit = o->inputs ? o->inputs->commit : NULL};
	uint64_t t0 = gpd_mono_ms();
	unsigned long st0 = gpd_pg_statements();
	unsigned errors;
	int r;

	*res = (struct gpd_pass_result){0};
	r = run(&p);
	snprintf(res->commit, sizeof(res->commit), "%s", p.commit ? p.commit : "");
	if (r == -EAGAIN && res->standby)
		r = 0;
	if (o->mode == GPD_PASS_APPLY && !res->standby)
		save_state(&p);
	if (res->error < 0 && r >= 0)
		r = res->error;
	res->duration_ms = gpd_mono_ms() - t0;
	res->pg_statements = gpd_pg_statements() - st0;
	if (p.sm)
		gpd_sm_stats(p.sm, &res->sm_calls, &res->sm_throttles, &errors);
	gpd_log_pass_end();
	if (p.audit)
		gpd_audit_close(p.audit);
	if (p.conn && !p.conn_shared)
		PQfinish(p.conn);
	gpd_sm_free(p.sm);
	gp_observed_free(p.obs);
	if (!p.state_shared)
		gp_state_file_free(p.state);
	free(p.own_commit);
	gp_master_release(&p.master);
	return r < 0 ? r : 0;
}

void
gpd_pass_result_release(struct gpd_pass_result *res)
{
	free(res->error_text);
	free(res->top_reason);
	free(res->secrets);
	if (!res->desired_shared)
		gp_desired_free(res->desired);
	gp_plan_free(res->plan);
	gp_requests_release(&res->requests);
	*res = (struct gpd_pass_result){0};
}
