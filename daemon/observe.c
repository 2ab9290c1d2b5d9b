/*
 * observe.c — what one environment's servers hold, gathered for the planner (DESIGN §2 step
 * 3): the advisory lock (or a connection of its own), PostgreSQL's roles, databases, ACLs and
 * memberships in four queries plus the in-database privileges of the databases that are due
 * (plan/checks.h decides which), Secrets Manager's listing by prefix, the secret values the
 * plan needs (20 a call), and a login with the credentials of each entry whose check is due.
 *
 * Every check is an observation recorded in struct gp_observed; what a failed one calls for
 * (a password reset, a grant) is the planner's decision, so `gprdsd plan` shows it. Nothing
 * here changes anything on either server.
 */
#include "pass_int.h"

#include "codec/sm_wire.h"
#include "model/names.h"

static int
lock_or_connect(struct pass *p)
{
	struct gpd_error err = {0};
	bool asking = false;
	int r;

	if (p->o->ha) {
		r = gpd_ha_acquire(p->o->ha, p->env, &p->target, &p->conn, &err, &asking);
		p->conn_shared = r >= 0;
		p->res->lock_asked = r >= 0;
		if (r == 0) {
			p->res->standby = true;
			snprintf(p->res->lock_holder, sizeof(p->res->lock_holder), "%s",
				 p->o->ha->holder);
			return -EAGAIN;
		}
	} else {
		r = gpd_pg_connect(&p->target, NULL, &p->conn, &err);
	}
	if (r < 0)
		return gpd_pass_pg_error(p, r,
					 asking ? "cannot ask for the advisory lock"
						: "cannot connect to PostgreSQL",
					 &err);
	return 0;
}

static int
observe_servers(struct pass *p, const struct gp_plan_opts *po)
{
	_cleanup_free_ char *prefix = gp_secret_prefix(p->o->env->secret.name, p->env);
	struct gpd_error err = {0};
	struct gp_strv check = {0}, listed = {0};
	int r;

	if (!prefix)
		return -ENOMEM;
	r = gp_checks_grants(p->res->desired, p->state, po, &check);
	if (r >= 0)
		r = gpd_pg_observe(p->conn, &p->target, p->res->desired, &check, p->obs, &err);
	gp_strv_release(&check);
	if (r >= 0 && (r = gp_checks_decommission_roles(p->res->desired, p->obs, &check)) >= 0)
		r = gpd_pg_observe_deps(p->conn, &check, p->obs, &err);
	gp_strv_release(&check);
	if (r < 0)
		return gpd_pass_pg_error(p, r, "cannot observe PostgreSQL", &err);
	r = gp_checks_secret_prefixes(prefix, p->state, &listed);
	for (size_t i = 0; r >= 0 && i < listed.n; i++) {
		r = gpd_sm_list(p->sm, listed.v[i], p->obs, &err);
		if (r < 0)
			gpd_pass_error(p, r, "cannot list secrets under %s: %s%s%s", listed.v[i],
				       err.code[0] ? err.code : strerror(-r),
				       err.message[0] ? ": " : "", err.message);
	}
	if (r >= 0)
		r = gp_observed_split_deleted(p->obs);
	gp_observed_sort(p->obs);
	if (r >= 0)
		r = gp_checks_keep_prefixes(prefix, &listed, p->obs, &p->state->secret_prefixes);
	gp_strv_release(&listed);
	return r;
}

/* The values the planner needs (checks.h). A secret that cannot be read leaves its entry to
 * plan without the value and to fail where it needs it; the others go on. */
static int
fetch_values(struct pass *p, const struct gp_plan_opts *po)
{
	struct gp_strv names = {0};
	struct gpd_error err = {0};
	struct gpd_logctx c;
	int r = gp_plan_values_needed(p->res->desired, p->obs, p->state, po, &names);

	if (r >= 0 && names.n > 0)
		r = gpd_sm_fetch_values(p->sm, &names, p->obs, &err);
	gp_strv_release(&names);
	if (r > 0) {
		gpd_pass_logctx(p, NULL, &c);
		c.error = err.code;
		gpd_log(LOG_WARNING, NULL, &c, "%d secret value%s could not be read: %s", r,
			r == 1 ? "" : "s", err.message);
		r = 0;
	}
	if (r < 0)
		gpd_pass_error(p, r, "cannot read secret values: %s%s%s",
			       err.code[0] ? err.code : strerror(-r), err.message[0] ? ": " : "",
			       err.message);
	return r;
}

/* The AWSPENDING values of the rotations in progress (one GetSecretValue each). A value that
 * cannot be read leaves the rotation to fail where it needs it, with the reason. */
static int
fetch_pending(struct pass *p, const struct gp_plan_opts *po)
{
	struct gp_strv names = {0};
	int r = gp_checks_pending_values(p->res->desired, p->obs, p->state, po, &names);

	for (size_t i = 0; i < names.n && r >= 0; i++) {
		struct gp_obs_secret *s = gp_observed_secret_mut(p->obs, names.v[i]);
		struct gpd_error err = {0};
		char *json = NULL, *version = NULL;

		if (gpd_sm_get_value_stage(p->sm, names.v[i], GP_SM_PENDING, &json, &version,
					   &err) < 0)
			continue;
		if (s && gp_streq(version, s->pending_version)) {
			gp_secret_free_string(s->pending_value_json);
			s->pending_value_json = TAKE_PTR(json);
		}
		gp_secret_free_string(json);
		free(version);
	}
	gp_strv_release(&names);
	return r;
}

/* The login checks of the pass, several at once (pg.h), each recorded as it ends. */
struct logins_run {
	struct pass *p;
	struct gpd_pass_waits waits;
	unsigned unreachable; /* checks in a row that failed because the server did not answer */
	bool tripped;
	int error;
};

struct login_check {
	struct logins_run *run;
	char *role;
	const char *version; /* the secret version whose password is tried (borrowed from obs) */
};

/* Whether this login failed because the server did not answer, for the second time in a
 * row (the observe step's circuit breaker). */
static bool
unreachable_twice(struct logins_run *lr, int r, const struct gpd_error *err)
{
	if (r >= 0 || !gpd_code_unreachable(err->code)) {
		lr->unreachable = 0;
		return false;
	}
	return ++lr->unreachable >= 2;
}

static void
login_checked(void *arg, int r, const struct gpd_error *err)
{
	struct login_check *lc = arg;
	struct logins_run *lr = lc->run;
	int k = gp_observed_add_login(lr->p->obs, lc->role, lc->version, r >= 0,
				      r < 0 ? err->code : NULL, r < 0 ? err->message : NULL);

	if (k < 0 && lr->error >= 0)
		lr->error = k;
	if (unreachable_twice(lr, r, err))
		lr->tripped = true;
	free(lc->role);
	free(lc);
}

/* Starts one login with e's current (or pending) credentials, recorded whatever its outcome,
 * as the role they name. */
static int
start_login(struct logins_run *lr, const struct gp_entry *e, bool pending)
{
	struct pass *p = lr->p;
	const struct gp_obs_secret *s = gp_observed_secret(p->obs, e->secret_name);
	const char *value = s ? (pending ? s->pending_value_json : s->value_json) : NULL;
	_cleanup_secret_ char *password = NULL;
	_cleanup_free_ char *role = NULL;
	struct login_check *lc;
	int r;

	if (!value || gp_secret_password(value, &password) < 0)
		return 0; /* checks.h picked it for having one: nothing to try */
	if (pending ? gp_secret_username(value, &role) < 0
		    : !(role = gp_entry_current_role(e, s, gp_state_find(p->state, e->key))))
		return 0;
	lc = calloc(1, sizeof(*lc));
	if (!lc)
		return -ENOMEM;
	*lc = (struct login_check){lr, TAKE_PTR(role),
				   pending ? s->pending_version : s->current_version};
	r = gpd_pg_logins_start(lr->waits.logins, lc->role, password, e->database, login_checked,
				lc);
	if (r < 0) {
		free(lc->role);
		free(lc);
	}
	return r;
}

static int
check_logins(struct pass *p, const struct gp_plan_opts *po)
{
	_cleanup_free_ struct gp_login_check *idx = NULL;
	struct gpd_pg_logins *logins = NULL;
	struct logins_run lr = {.p = p};
	size_t n = 0, i = 0;
	int r = fetch_pending(p, po);
	struct gpd_logctx c;

	gpd_pass_logctx(p, NULL, &c);
	if (r >= 0)
		r = gp_checks_logins(p->res->desired, p->obs, p->state, po, &idx, &n);
	if (r >= 0 && n > 0)
		r = gpd_pg_logins_new(&p->target, &logins);
	gpd_pass_waits_init(&lr.waits, p, logins);
	while (r >= 0 && logins) {
		while (i < n && !lr.tripped && !gpd_pass_stopping(p) && r >= 0 &&
		       gpd_pg_logins_running(logins) < GPD_PG_MAX_LOGINS) {
			gpd_log_progress(&c, "login check", i + 1, n);
			r = start_login(&lr, &p->res->desired->v[idx[i].entry], idx[i].pending);
			i++;
		}
		if (r < 0 || !gpd_pg_logins_running(logins))
			break;
		r = gpd_pass_wait(&lr.waits, -1, 0, UINT64_MAX);
	}
	gpd_pg_logins_free(logins);
	gp_observed_sort(p->obs);
	if (r >= 0)
		r = lr.error;
	if (r >= 0 && lr.tripped) {
		gpd_pass_error(p, -EHOSTUNREACH, "PostgreSQL did not answer %u logins in a row; "
			       "the pass stopped before changing anything", lr.unreachable);
		r = -EHOSTUNREACH;
	}
	if (r < 0 && r != -EHOSTUNREACH) /* the breaker has said why already */
		gpd_pass_error(p, r, "cannot record a login check: %s", strerror(-r));
	return r;
}

int
gpd_pass_observe(struct pass *p)
{
	struct gp_plan_opts po;
	int r;

	p->obs = gp_observed_new();
	if (!p->obs)
		return -ENOMEM;
	gpd_pass_plan_opts(p, &po);
	r = lock_or_connect(p);
	if (r >= 0)
		r = observe_servers(p, &po);
	if (r >= 0)
		r = fetch_values(p, &po);
	if (r >= 0)
		r = check_logins(p, &po);
	return r;
}
