/*
 * pass.c — one reconcile pass for one environment (DESIGN §2).
 *
 * observe → plan → apply. The plan is computed by lib/plan.c from two snapshots; this file
 * gathers the snapshots (PostgreSQL in a constant number of queries, Secrets Manager by
 * prefix listing and batched value reads) and then applies the plan's actions one by one,
 * entry by entry, recording each change in the audit file, the journal and the lifecycle
 * record. One entry's failure never stops the others.
 *
 * Deliberately not here: deciding what to change (plan.c), SQL text (sql.c, pg.c), HTTP
 * (sm.c), scheduling passes (the daemon loop), removing anything (never implied).
 */
#include "pass.h"

#include <stdio.h>
#include <time.h>

#include <libpq-fe.h>
#include <openssl/rand.h>

#include "audit_file.h"
#include "fileio.h"
#include "plan/lifecycle.h"
#include "log.h"
#include "pg.h"
#include "codec/secret.h"
#include "sm.h"
#include "state_store.h"
#include "plan/validate.h"

struct pass {
	const struct gpd_pass_opts *o;
	struct gpd_pass_result *res;
	const char *env;
	const char *commit;
	char *own_commit; /* HEAD as read by this pass (with a cache: no shared inputs) */
	struct gp_tfvars *tfvars;
	struct gp_master master;
	struct gpd_pg_target target;
	char port_buf[16];
	char secret_port_buf[16];
	PGconn *conn;
	bool conn_shared; /* conn is the lock connection: it belongs to o->ha and stays open */
	struct gpd_sm *sm;
	struct gp_observed *obs;
	struct gp_state_file *state;
	bool state_shared;     /* state belongs to o->cache */
	uint64_t state_digest; /* of the records as loaded (gp_state_digest) */
	struct gpd_audit *audit;
	int audit_error;
	struct gp_strv failed_dbs; /* databases whose owner entry failed in this pass */
};

/* Per-entry apply context: the password lives only here, and is wiped when done. */
struct entry_run {
	struct pass *p;
	const struct gp_entry *e;
	struct gp_record *rec;
	struct gp_obs_secret *secret;
	char *password;
	char *version; /* secret version whose password is in `password` */
	char reason[600];
	char code[64]; /* SQLSTATE or AWS error code of the failure, for metrics */
	bool transient;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool
stopping(const struct pass *p)
{
	return p->o->stop && atomic_load(p->o->stop);
}

static int
rand_bytes(void *userdata, uint8_t *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

static double
rand_unit(void)
{
	uint32_t v = 0;

	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		return 0.5;
	return (double)v / 4294967296.0;
}

static void
logctx_entry(const struct pass *p, const struct gp_entry *e, struct gpd_logctx *c)
{
	*c = (struct gpd_logctx){
		.env = p->env,
		.database = e ? e->database : NULL,
		.key = e ? e->key : NULL,
		.commit = p->commit,
		.run = p->o->run_id,
	};
}

static void
set_env_error(struct pass *p, int r, const char *fmt, ...) _printf_(3, 4);

static void
set_env_error(struct pass *p, int r, const char *fmt, ...)
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
	logctx_entry(p, NULL, &c);
	gpd_log(LOG_ERR, GPD_MID_ENV_FAILED, &c, "environment %s not reconciled: %s", p->env,
		p->res->error_text ? p->res->error_text : "out of memory");
}

/* ---------------------------------------------------------------------------------------
 * Audit
 */

static void
audit_row(struct pass *p, const struct gp_entry *e, const char *action, enum gp_audit_status st,
	  uint64_t duration_ms, const char *message)
{
	struct gp_audit_row row = {
		.timestamp = (int64_t)time(NULL),
		.environment = p->env,
		.build_id = p->commit,
		.run_id = p->o->run_id,
		.database = e ? e->database : NULL,
		.username = e ? e->username : NULL,
		.action = action,
		.status = gp_audit_status_to_string(st),
		.duration_ms = duration_ms,
		.message = message,
	};
	struct gpd_logctx c;
	int r = 0;

	if (p->o->mode != GPD_PASS_APPLY)
		return;
	if (!p->audit && !p->audit_error)
		r = gpd_audit_open(p->o->cfg->audit_dir, p->env, &p->audit);
	if (r >= 0 && p->audit)
		r = gpd_audit_append(p->audit, &row);
	if (r < 0 && !p->audit_error) {
		p->audit_error = r;
		logctx_entry(p, e, &c);
		gpd_log(LOG_ERR, NULL, &c, "cannot write the audit file under %s: %s",
			p->o->cfg->audit_dir, strerror(-r));
	}
}

static void
record_transitions(struct pass *p, const struct gp_entry *e, const struct gp_transitions *t,
		   const char *reason)
{
	struct gpd_logctx c;
	char msg[700];

	for (size_t i = 0; i < t->n; i++) {
		const char *from = gp_state_to_string(t->v[i].from);
		const char *to = gp_state_to_string(t->v[i].to);

		snprintf(msg, sizeof(msg), "%s -> %s%s%s", from, to, reason ? ": " : "",
			 reason ? reason : "");
		audit_row(p, e, "transition", t->v[i].to == GP_STATE_FAILED ? GP_AUDIT_ERROR
									  : GP_AUDIT_SUCCESS,
			  0, msg);
		logctx_entry(p, e, &c);
		c.state_from = from;
		c.state_to = to;
		if (p->o->mode == GPD_PASS_APPLY)
			gpd_log(LOG_NOTICE, GPD_MID_TRANSITION, &c, "%s: %s", e->key, msg);
	}
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

	logctx_entry(p, NULL, &c);
	r = gpd_inputs_load_desired(req, &ld, &diags);
	gpd_log_diags(&diags, &c);
	gp_diags_release(&diags);
	if (r < 0) {
		set_env_error(p, r, "%s", ld.why);
		return r;
	}
	p->res->desired = ld.desired;
	p->res->desired_shared = ld.kept;
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
		set_env_error(p, r, "cannot read the inputs: %s", strerror(-r));
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
		set_env_error(p, r, "cannot read the master secret %s: %s%s%s", env->master_secret,
			      err.code[0] ? err.code : strerror(-r), err.message[0] ? ": " : "",
			      err.message);
		return r;
	}
	r = gp_master_parse(json, &p->master, &problem);
	gp_secret_free_string(json);
	if (r < 0) {
		set_env_error(p, r, "the master secret %s is unusable: %s", env->master_secret,
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
		set_env_error(p, -EINVAL, "the master secret %s has no host: set "
			      "environments.%s.postgres.host", env->master_secret, p->env);
		return -EINVAL;
	}
	if (gp_isempty(env->secret.host) && gp_isempty(p->master.host)) {
		set_env_error(p, -EINVAL, "the master secret %s has no host to give applications: "
			      "set environments.%s.secret.host", env->master_secret, p->env);
		return -EINVAL;
	}
	return 0;
}

static int
pg_error(struct pass *p, int r, const char *what, const struct gpd_error *err)
{
	set_env_error(p, r, "%s: %s%s%s", what, err->code[0] ? err->code : "",
		      err->code[0] ? " " : "", err->message[0] ? err->message : strerror(-r));
	return r;
}

/*
 * In-database privileges need one connection per database, so they are checked like
 * credentials: always for entries not yet active, otherwise once per verify_interval, and at
 * most GPD_GRANT_CHECKS_PER_PASS databases that are merely due in one pass (oldest first), so
 * that a thousand databases never make one pass open a thousand connections.
 */
#define GPD_GRANT_CHECKS_PER_PASS 50

struct due_db {
	const char *db;
	int64_t checked; /* oldest check among its editor/reader entries */
};

static int
cmp_due(const void *a, const void *b)
{
	const struct due_db *x = a, *y = b;

	return (x->checked > y->checked) - (x->checked < y->checked);
}

static bool
grants_due(const struct pass *p, const struct gp_record *rec, bool *must)
{
	*must = !rec || rec->state != GP_STATE_ACTIVE || !rec->grants_checked_at;
	return *must || gp_check_due(p->o->now, rec->grants_checked_at,
				     p->o->cfg->reconcile.verify_interval_ms, rec->key);
}

static int
grant_checks(struct pass *p, struct gp_strv *out)
{
	const struct gp_desired *d = p->res->desired;
	_cleanup_free_ struct due_db *due = calloc(d->n + 1, sizeof(*due));
	size_t n_due = 0;
	int r = 0;

	if (!due)
		return -ENOMEM;
	for (size_t i = 0; i < d->n && r >= 0; i++) {
		const struct gp_entry *e = &d->v[i];
		const struct gp_record *rec = gp_state_find(p->state, e->key);
		bool must;

		if (e->access == GP_ACCESS_OWNER || e->hold != GP_HOLD_NONE || !e->database ||
		    !grants_due(p, rec, &must))
			continue;
		if (must && !gp_strv_contains(out, e->database))
			r = gp_strv_push(out, e->database);
		else if (!must)
			due[n_due++] = (struct due_db){e->database, rec->grants_checked_at};
	}
	qsort(due, n_due, sizeof(*due), cmp_due);
	for (size_t i = 0, taken = 0; i < n_due && taken < GPD_GRANT_CHECKS_PER_PASS && r >= 0;
	     i++) {
		if (gp_strv_contains(out, due[i].db))
			continue;
		r = gp_strv_push(out, due[i].db);
		taken++;
	}
	return r;
}

static int
observe(struct pass *p)
{
	struct gpd_error perr = {0};
	struct gpd_error serr = {0};
	_cleanup_free_ char *prefix = gp_secret_prefix(p->o->env->secret.name, p->env);
	struct gp_strv check = {0};
	bool asking = false;
	int r;

	p->obs = gp_observed_new();
	if (!p->obs || !prefix)
		return -ENOMEM;
	if (p->o->ha) {
		r = gpd_ha_acquire(p->o->ha, p->env, &p->target, &p->conn, &perr, &asking);
		p->conn_shared = r >= 0;
		p->res->lock_asked = r >= 0;
		if (r == 0) {
			p->res->standby = true;
			return -EAGAIN;
		}
	} else {
		r = gpd_pg_connect(&p->target, NULL, &p->conn, &perr);
	}
	if (r < 0)
		return pg_error(p, r,
				asking ? "cannot ask for the advisory lock"
				       : "cannot connect to PostgreSQL",
				&perr);
	r = grant_checks(p, &check);
	if (r >= 0)
		r = gpd_pg_observe(p->conn, &p->target, p->res->desired, &check, p->obs, &perr);
	gp_strv_release(&check);
	if (r < 0)
		return pg_error(p, r, "cannot observe PostgreSQL", &perr);
	r = gpd_sm_list(p->sm, prefix, p->obs, &serr);
	if (r < 0) {
		set_env_error(p, r, "cannot list secrets under %s: %s%s%s", prefix,
			      serr.code[0] ? serr.code : strerror(-r), serr.message[0] ? ": " : "",
			      serr.message);
		return r;
	}
	gp_observed_sort(p->obs);
	return 0;
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
		set_env_error(p, r, "cannot load the state file: %s", err ? err : strerror(-r));
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

static void
plan_opts(const struct pass *p, struct gp_plan_opts *po)
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
	};
}

static int
make_plan(struct pass *p)
{
	struct gp_plan_opts po;
	struct gp_strv names = {0};
	struct gpd_error err = {0};
	int r;

	plan_opts(p, &po);
	r = gp_plan_values_needed(p->res->desired, p->obs, p->state, &po, &names);
	if (r >= 0 && names.n > 0) {
		r = gpd_sm_fetch_values(p->sm, &names, p->obs, &err);
		if (r > 0) {
			struct gpd_logctx c;

			/* Those entries plan without the value and fail where they need it. */
			logctx_entry(p, NULL, &c);
			c.error = err.code;
			gpd_log(LOG_WARNING, NULL, &c, "%d secret value%s could not be read: %s", r,
				r == 1 ? "" : "s", err.message);
			r = 0;
		}
		if (r < 0)
			set_env_error(p, r, "cannot read secret values: %s%s%s",
				      err.code[0] ? err.code : strerror(-r),
				      err.message[0] ? ": " : "", err.message);
	}
	gp_strv_release(&names);
	if (r < 0)
		return r;
	r = gp_plan_build(p->res->desired, p->obs, p->state, &po, &p->res->plan);
	if (r < 0)
		set_env_error(p, r, "cannot plan: %s", strerror(-r));
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Applying one entry
 */

static void
want_of(const struct entry_run *er, struct gp_secret_want *w)
{
	const struct pass *p = er->p;

	*w = (struct gp_secret_want){
		.username = er->e->username,
		.host = !gp_isempty(p->o->env->secret.host) ? p->o->env->secret.host
							    : p->master.host,
		.port = p->secret_port_buf,
		.dbname = er->e->database,
		.aliases = &p->o->env->secret.password_aliases,
	};
}

static void
fail_sm(struct entry_run *er, const char *what, int r, const struct gpd_error *err)
{
	snprintf(er->reason, sizeof(er->reason), "%s: %s%s%s", what,
		 err->code[0] ? err->code : strerror(-r), err->message[0] ? ": " : "",
		 err->message);
	snprintf(er->code, sizeof(er->code), "%s", err->code[0] ? err->code : "aws_transport");
	er->transient = err->transient;
}

static void
fail_pg(struct entry_run *er, const char *what, int r, const struct gpd_error *err)
{
	snprintf(er->reason, sizeof(er->reason), "%s: %s%s%s", what, err->code,
		 err->code[0] ? " " : "", err->message[0] ? err->message : strerror(-r));
	snprintf(er->code, sizeof(er->code), "%s", err->code[0] ? err->code : "pg_connection");
	er->transient = err->transient;
}

static int
set_version(struct entry_run *er, char **version)
{
	free(er->version);
	er->version = *version;
	*version = NULL;
	return 0;
}

static int
new_password(struct entry_run *er)
{
	char pw[GP_PASSWORD_LEN + 1];
	int r = gp_password_generate(rand_bytes, NULL, pw);

	if (r < 0) {
		snprintf(er->reason, sizeof(er->reason), "cannot generate a password");
		return r;
	}
	gp_secret_free_string(er->password);
	er->password = strdup(pw);
	explicit_bzero(pw, sizeof(pw));
	return er->password ? 0 : -ENOMEM;
}

/* The password of the secret as observed (value fetched now if it was not). */
static int
known_password(struct entry_run *er)
{
	struct gpd_error err = {0};
	char *json = NULL;
	int r;

	if (er->password)
		return 0;
	if (er->secret && er->secret->value_json)
		return gp_secret_password(er->secret->value_json, &er->password);
	r = gpd_sm_get_value(er->p->sm, er->e->secret_name, &json, &err);
	if (r < 0) {
		fail_sm(er, "cannot read the secret", r, &err);
		return r;
	}
	r = gp_secret_password(json, &er->password);
	gp_secret_free_string(json);
	if (r < 0)
		snprintf(er->reason, sizeof(er->reason), "the secret has no usable password");
	return r;
}

static int
do_create_secret(struct entry_run *er)
{
	struct gp_secret_want want;
	struct gp_buf json = {0};
	struct gpd_error err = {0};
	const struct gp_env_config *env = er->p->o->env;
	char *version = NULL;
	int r;

	r = new_password(er);
	if (r < 0)
		return r;
	want_of(er, &want);
	r = gp_secret_render(NULL, &want, er->password, &json);
	if (r >= 0)
		r = gpd_sm_create(er->p->sm, er->e->secret_name, json.p, env->secret.kms_key_id,
				  er->p->env, er->e->key, &version, &err);
	gp_buf_release_secure(&json);
	if (r < 0) {
		fail_sm(er, "CreateSecret failed", r, &err);
		return r;
	}
	return set_version(er, &version);
}

/* Adopt or update: keep the password when there is a usable one, correct the JSON. */
static int
do_fix_secret(struct entry_run *er, bool tag)
{
	struct gp_secret_want want;
	struct gp_buf json = {0};
	struct gpd_error err = {0};
	const char *old = er->secret ? er->secret->value_json : NULL;
	char *version = NULL;
	int r = 0;

	want_of(er, &want);
	if (old) {
		if (gp_secret_password(old, &er->password) < 0 && (r = new_password(er)) < 0)
			return r;
		if (gp_secret_check(old, &want, NULL) != 0) {
			r = gp_secret_render(old, &want, er->password, &json);
			if (r >= 0)
				r = gpd_sm_put_value(er->p->sm, er->e->secret_name, json.p,
						     &version, &err);
			gp_buf_release_secure(&json);
			if (r < 0) {
				fail_sm(er, "PutSecretValue failed", r, &err);
				return r;
			}
			set_version(er, &version);
		}
	}
	if (tag) {
		r = gpd_sm_tag(er->p->sm, er->e->secret_name, er->p->env, er->e->key, &err);
		if (r < 0)
			fail_sm(er, "TagResource failed", r, &err);
	}
	return r;
}

static int
do_pg(struct entry_run *er, const struct gp_action *a)
{
	struct gpd_error err = {0};
	int r;

	if (a->kind == GP_ACT_CREATE_ROLE || a->kind == GP_ACT_SET_PASSWORD) {
		r = known_password(er);
		if (r < 0)
			return r;
	}
	r = gpd_pg_apply(er->p->conn, &er->p->target, er->p->env, er->e, a, er->password, &err);
	if (r < 0)
		fail_pg(er, gp_action_kind_to_string(a->kind), r, &err);
	return r;
}

static void report_action(struct entry_run *er, const struct gp_action *a, int r, uint64_t ms);

static void
count_error(struct gpd_pass_result *res, const char *kind)
{
	for (size_t i = 0; i < res->n_error_kinds; i++) {
		if (strcmp(res->errors[i].kind, kind) == 0) {
			res->errors[i].n++;
			return;
		}
	}
	if (res->n_error_kinds < GPD_PASS_MAX_ERROR_KINDS) {
		snprintf(res->errors[res->n_error_kinds].kind, sizeof(res->errors[0].kind), "%s",
			 kind);
		res->errors[res->n_error_kinds++].n = 1;
	}
}

/* A failed login with the secret's password means the role's password drifted: repair. */
static int
do_verify(struct entry_run *er, const struct gp_action *a)
{
	struct gpd_error err = {0};
	struct gp_action fix = {.kind = GP_ACT_SET_PASSWORD, .why = GP_WHY_DRIFT,
				.role = a->role, .detail = "login with the secret's password failed"};
	uint64_t t0;
	int r;

	r = known_password(er);
	if (r < 0)
		return r;
	r = gpd_pg_verify_login(&er->p->target, er->e->username, er->password, er->e->database,
				&err);
	if (r >= 0 || strcmp(err.code, "28P01") != 0) {
		if (r < 0)
			fail_pg(er, "verify_login", r, &err);
		return r;
	}
	t0 = mono_ms();
	r = do_pg(er, &fix);
	report_action(er, &fix, r, mono_ms() - t0);
	if (r < 0)
		return r;
	r = gpd_pg_verify_login(&er->p->target, er->e->username, er->password, er->e->database,
				&err);
	if (r < 0)
		fail_pg(er, "verify_login", r, &err);
	return r;
}

static int
run_action(struct entry_run *er, const struct gp_action *a)
{
	switch (a->kind) {
	case GP_ACT_CREATE_SECRET:
		return do_create_secret(er);
	case GP_ACT_ADOPT_SECRET:
		return do_fix_secret(er, true);
	case GP_ACT_UPDATE_SECRET:
		return do_fix_secret(er, false);
	case GP_ACT_VERIFY_LOGIN:
		return do_verify(er, a);
	default:
		return do_pg(er, a);
	}
}

static void
report_action(struct entry_run *er, const struct gp_action *a, int r, uint64_t ms)
{
	struct pass *p = er->p;
	struct gp_buf desc = {0};
	struct gpd_logctx c;
	bool drift = a->why == GP_WHY_DRIFT;

	gp_action_describe(a, &desc);
	logctx_entry(p, er->e, &c);
	c.action = gp_action_kind_to_string(a->kind);
	if (r < 0) {
		p->res->n_errors++;
		count_error(p->res, er->code[0] ? er->code : "internal");
		c.error = er->code[0] ? er->code : NULL;
		gpd_log(LOG_ERR, GPD_MID_ACTION_FAILED, &c, "%s failed: %s", desc.p, er->reason);
		audit_row(p, er->e, drift ? "repair" : c.action, GP_AUDIT_ERROR, ms, er->reason);
	} else if (a->why != GP_WHY_CHECK || er->rec->state != GP_STATE_ACTIVE) {
		if (a->why != GP_WHY_CHECK)
			p->res->n_applied++;
		gpd_log(drift ? LOG_NOTICE : LOG_INFO,
			drift ? GPD_MID_DRIFT_REPAIRED : GPD_MID_ACTION_APPLIED, &c, "%s%s",
			drift ? "repaired: " : "", desc.p);
		audit_row(p, er->e, drift ? "repair" : c.action, GP_AUDIT_SUCCESS, ms, desc.p);
	}
	gp_buf_release(&desc);
}

static int
entry_fail(struct entry_run *er)
{
	const struct gp_config *cfg = er->p->o->cfg;
	struct gp_failure f = {
		.reason = er->reason,
		.transient = er->transient,
		.base_ms = cfg->reconcile.retry_base_ms,
		.max_ms = cfg->reconcile.retry_max_ms,
		.r = rand_unit(),
		.commit = er->p->commit,
	};
	struct gp_transitions t = {0};
	int r = gp_lifecycle_fail(er->rec, er->p->o->now, &f, &t);

	record_transitions(er->p, er->e, &t, er->reason);
	return r;
}

static int
entry_succeed(struct entry_run *er, const struct gp_entry_plan *ep)
{
	struct gp_transitions t = {0};
	const char *version = er->version ? er->version
					  : (er->secret ? er->secret->current_version : NULL);
	bool verified = false;
	int r;

	for (size_t i = 0; i < ep->n_actions; i++)
		verified |= ep->actions[i].kind == GP_ACT_VERIFY_LOGIN;
	if (verified && version) {
		char *v = strdup(version);

		if (!v)
			return -ENOMEM;
		free(er->rec->verified_version);
		er->rec->verified_version = v;
		er->rec->verified_at = er->p->o->now;
	}
	if (er->version) /* this pass wrote a new secret version */
		er->rec->secret_changed = er->p->o->now;
	if (er->e->access != GP_ACCESS_OWNER &&
	    gp_strv_contains(&er->p->obs->access_checked, er->e->database))
		er->rec->grants_checked_at = er->p->o->now;
	r = gp_lifecycle_succeed(er->rec, er->p->o->now, er->p->commit, &t);
	record_transitions(er->p, er->e, &t, NULL);
	return r;
}

static int
apply_actions(struct entry_run *er, const struct gp_entry_plan *ep)
{
	struct gp_transitions t = {0};

	if (ep->n_changes > 0) {
		gp_lifecycle_begin(er->rec, er->p->o->now, &t);
		record_transitions(er->p, er->e, &t, NULL);
	}
	for (size_t i = 0; i < ep->n_actions; i++) {
		const struct gp_action *a = &ep->actions[i];
		uint64_t t0 = mono_ms();
		int r;

		if (stopping(er->p)) {
			/* Not a failure: the entry stays provisioning and the next pass, after a
			 * restart, continues it without waiting for a backoff. */
			free(er->rec->reason);
			er->rec->reason = strdup("interrupted by shutdown; continues at the next pass");
			return -ECANCELED;
		}
		r = run_action(er, a);
		report_action(er, a, r, mono_ms() - t0);
		if (r < 0)
			return entry_fail(er), r;
	}
	return entry_succeed(er, ep);
}

static int
record_identity(struct gp_record *rec, const struct gp_entry *e)
{
	if (!gp_streq(rec->database, e->database)) {
		free(rec->database);
		rec->database = gp_strdup0(e->database);
	}
	if (!gp_streq(rec->username, e->username)) {
		free(rec->username);
		rec->username = gp_strdup0(e->username);
	}
	return 0;
}

static void
hold_entry(struct pass *p, const struct gp_entry *e, struct gp_record *rec)
{
	struct gp_transitions t = {0};
	struct gpd_logctx c;
	bool changed = !gp_streq(rec->reason, e->reason);

	gp_lifecycle_hold(rec, e->reason, p->o->now, &t);
	record_transitions(p, e, &t, e->reason);
	if (e->hold == GP_HOLD_INVALID || e->hold == GP_HOLD_CONFLICT)
		p->res->n_invalid++;
	else if (rec->state != GP_STATE_ACTIVE)
		p->res->n_gated++;
	if (changed || t.n) {
		logctx_entry(p, e, &c);
		gpd_log(LOG_NOTICE, GPD_MID_GATE_HOLDING, &c, "%s held [%s]: %s", e->key,
			gp_hold_to_string(e->hold), e->reason ? e->reason : "");
	}
}

static void
apply_entry(struct pass *p, const struct gp_entry_plan *ep)
{
	const struct gp_entry *e = &p->res->desired->v[ep->entry];
	struct entry_run er = {.p = p, .e = e};

	if (gp_state_upsert(p->state, e->key, p->o->now, &er.rec) < 0)
		return;
	record_identity(er.rec, e);
	er.secret = gp_observed_secret_mut(p->obs, e->secret_name);
	if (er.secret)
		er.rec->secret_changed = er.secret->changed ? er.secret->changed : er.secret->created;
	if (ep->held) {
		hold_entry(p, e, er.rec);
	} else if (ep->waiting && ep->note) {
		struct gp_transitions t = {0};

		gp_lifecycle_hold(er.rec, ep->note, p->o->now, &t);
		record_transitions(p, e, &t, ep->note);
		p->res->n_gated++;
	} else if (!ep->waiting && e->access != GP_ACCESS_OWNER &&
		   !gp_observed_database(p->obs, e->database) &&
		   gp_strv_contains(&p->failed_dbs, e->database)) {
		/* Its owner entry failed before making the database: wait, don't cascade. */
		struct gp_transitions t = {0};
		char note[300];

		snprintf(note, sizeof(note), "waiting for database %s (its owner entry failed)",
			 e->database);
		gp_lifecycle_hold(er.rec, note, p->o->now, &t);
		record_transitions(p, e, &t, note);
		p->res->n_gated++;
	} else if (!ep->waiting) {
		if (apply_actions(&er, ep) < 0 && e->access == GP_ACCESS_OWNER)
			gp_strv_push(&p->failed_dbs, e->database);
	}
	gp_secret_free_string(er.password);
	free(er.version);
}

static void
count_result(struct pass *p)
{
	struct gpd_pass_result *res = p->res;
	size_t best = 0;

	for (size_t i = 0; i < res->desired->n; i++) {
		const struct gp_record *rec = gp_state_find(p->state, res->desired->v[i].key);
		enum gp_state st = rec ? rec->state : GP_STATE_PENDING;

		res->by_state[st]++;
		if (st == GP_STATE_FAILED) {
			res->n_failed++;
			if (rec->next_retry && (!res->next_retry || rec->next_retry < res->next_retry))
				res->next_retry = rec->next_retry;
		}
		if (rec && rec->reason && st != GP_STATE_ACTIVE) {
			size_t same = 0;

			for (size_t j = 0; j < res->desired->n; j++) {
				const struct gp_record *o = gp_state_find(p->state, res->desired->v[j].key);

				same += o && gp_streq(o->reason, rec->reason);
			}
			if (same > best) {
				best = same;
				free(res->top_reason);
				res->top_reason = strdup(rec->reason);
			}
		}
	}
}

/* Secret ages for metrics: from the records, which carry the secret's last change. */
static void
collect_secret_ages(struct pass *p)
{
	struct gpd_pass_result *res = p->res;

	res->secrets = calloc(res->desired->n ? res->desired->n : 1, sizeof(*res->secrets));
	if (!res->secrets)
		return;
	for (size_t i = 0; i < res->desired->n; i++) {
		const struct gp_entry *e = &res->desired->v[i];
		const struct gp_record *rec = gp_state_find(p->state, e->key);
		struct gpd_secret_age *a;

		if (!rec || !rec->secret_changed)
			continue;
		a = &res->secrets[res->n_secrets++];
		snprintf(a->key, sizeof(a->key), "%s", e->key);
		a->changed = rec->secret_changed;
		a->rotation_ms = p->o->env->rotation_ms[e->risk < _GP_RISK_MAX ? e->risk : 0];
	}
}

static void
report_orphans(struct pass *p)
{
	struct gpd_logctx c;

	logctx_entry(p, NULL, &c);
	p->res->n_orphans = p->res->plan->orphans.n;
	for (size_t i = 0; i < p->res->plan->orphans.n; i++)
		gpd_log(LOG_WARNING, NULL, &c,
			"orphaned %s: no entry in the inputs any more; kept (removal needs the "
			"catalog's decommissioning status)",
			p->res->plan->orphans.v[i]);
}

/* Records of entries that left the inputs stay (nothing is removed) but say so. */
static void
mark_orphaned_records(struct pass *p)
{
	static const char why[] = "no longer in the inputs: orphaned, nothing was removed";
	struct gp_strv keys = {0};

	for (size_t i = 0; i < p->res->desired->n; i++)
		if (gp_strv_push(&keys, p->res->desired->v[i].key) < 0)
			goto out;
	gp_strv_sort(&keys);
	for (size_t i = 0; i < p->state->n; i++) {
		struct gp_record *rec = &p->state->v[i];

		if (gp_strv_has(&keys, rec->key) || gp_streq(rec->reason, why))
			continue;
		free(rec->reason);
		rec->reason = strdup(why);
		rec->next_retry = 0;
	}
out:
	gp_strv_release(&keys);
}

static int
apply_plan(struct pass *p)
{
	mark_orphaned_records(p);
	for (size_t i = 0; i < p->res->plan->n; i++) {
		if (stopping(p))
			break;
		apply_entry(p, &p->res->plan->v[i]);
	}
	report_orphans(p);
	count_result(p);
	collect_secret_ages(p);
	if (p->audit)
		gpd_audit_sync(p->audit);
	return 0;
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
		set_env_error(p, r, "cannot save the state file: %s", err ? err : strerror(-r));
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

/* ---------------------------------------------------------------------------------------
 * The pass
 */

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
		set_env_error(p, r, "cannot set up the Secrets Manager client: %s", strerror(-r));
	return r;
}

static int
run(struct pass *p)
{
	int r;

	/* Unreadable shared inputs: nothing to ask anyone (with a cache, they are read later). */
	if (p->o->inputs && p->o->inputs->failed) {
		set_env_error(p, -EINVAL, GPD_INPUTS_SHARED_FAILED);
		return -EINVAL;
	}
	r = sm_open(p);
	if (r >= 0)
		r = load_master(p);
	if (r >= 0)
		r = load_desired(p);
	if (r < 0)
		return r;
	setup_target(p);
	r = check_endpoints(p);
	if (r >= 0)
		r = load_state(p);
	if (r >= 0)
		r = observe(p);
	if (r >= 0)
		r = make_plan(p);
	if (r < 0 || p->o->mode == GPD_PASS_PLAN)
		return r;
	return apply_plan(p);
}

int
gpd_pass_run(const struct gpd_pass_opts *o, struct gpd_pass_result *res)
{
	struct pass p = {.o = o, .res = res, .env = o->env->name,
			 .commit = o->inputs ? o->inputs->commit : NULL};
	uint64_t t0 = mono_ms();
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
	res->duration_ms = mono_ms() - t0;
	res->pg_statements = gpd_pg_statements() - st0;
	if (p.sm)
		gpd_sm_stats(p.sm, &res->sm_calls, &res->sm_throttles, &errors);
	if (p.audit)
		gpd_audit_close(p.audit);
	if (p.conn && !p.conn_shared)
		PQfinish(p.conn);
	gpd_sm_free(p.sm);
	gp_observed_free(p.obs);
	if (!p.state_shared)
		gp_state_file_free(p.state);
	gp_tfvars_free(p.tfvars);
	free(p.own_commit);
	gp_master_release(&p.master);
	gp_strv_release(&p.failed_dbs);
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
	*res = (struct gpd_pass_result){0};
}
