/*
 * apply.c — executing one environment's plan (DESIGN §2 step 5): entry by entry, each
 * action through the table of executors below, recording each outcome in the audit file, the
 * journal and the entry's lifecycle record. One entry's failure never stops the others.
 *
 * The plan is the whole truth: this file executes the plan's actions and nothing else. What
 * an action needs is in the action, including which credential it uses; the passwords live in
 * the entry's run (struct entry_run) and are wiped when the entry is done. Before a
 * destructive action runs, the guard of plan/action.h must find its object managed by gprdsd.
 *
 * Deliberately not here: deciding (lib/plan/), SQL (pg_apply.c), HTTP (sm.c).
 */
#include "pass_int.h"

#include <stdio.h>
#include <time.h>

#include <openssl/rand.h>

#include "audit_file.h"
#include "base/quote.h"
#include "dump.h"
#include "plan/lifecycle.h"

/* Per-entry run: the passwords live only here, and are wiped when done. */
struct entry_run {
	struct pass *p;
	const struct gp_entry_plan *ep;
	const struct gp_entry *e;
	struct gp_record *rec;
	struct gp_obs_secret *secret;
	char *cred[_GP_CRED_MAX]; /* passwords by credential (NEW once generated, CURRENT and
				   * PENDING once read) */
	char *version;            /* secret version this pass made AWSCURRENT, or NULL */
	char *pending;            /* AWSPENDING version staged by this pass, or NULL */
	char reason[600];
	char code[64]; /* SQLSTATE or AWS error code of the failure, for metrics */
	bool transient;
};

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
		gpd_pass_logctx(p, e, &c);
		gpd_log(LOG_ERR, NULL, &c, "cannot write the audit file under %s: %s",
			p->o->cfg->audit_dir, strerror(-r));
	}
}

#define ENTRY_NAME_BUF (2 * GP_QUOTE_BUF)

/* How a journal message names its entry: "<env>/<key>", so that a recipe by database or key
 * does not mix entries of the same name in two environments. Both escaped as reasons show
 * them: the key of an invalid entry is the rejected name itself. */
static const char *
entry_name(char buf[static ENTRY_NAME_BUF], const struct pass *p, const struct gp_entry *e)
{
	char qe[GP_QUOTE_BUF], qk[GP_QUOTE_BUF];

	snprintf(buf, ENTRY_NAME_BUF, "%s/%s", gp_escape(qe, p->env, false),
		 gp_escape(qk, e->key, false));
	return buf;
}

static void
record_transitions(struct pass *p, const struct gp_entry *e, const struct gp_transitions *t,
		   const char *reason)
{
	struct gpd_logctx c;
	char msg[700], name[ENTRY_NAME_BUF];

	for (size_t i = 0; i < t->n; i++) {
		const char *from = gp_state_to_string(t->v[i].from);
		const char *to = gp_state_to_string(t->v[i].to);

		snprintf(msg, sizeof(msg), "%s -> %s%s%s", from, to, reason ? ": " : "",
			 reason ? reason : "");
		audit_row(p, e, "transition", t->v[i].to == GP_STATE_FAILED ? GP_AUDIT_ERROR
									  : GP_AUDIT_SUCCESS,
			  0, msg);
		gpd_pass_logctx(p, e, &c);
		c.state_from = from;
		c.state_to = to;
		if (p->o->mode == GPD_PASS_APPLY)
			gpd_log(LOG_NOTICE, GPD_MID_TRANSITION, &c, "%s: %s",
				entry_name(name, p, e), msg);
	}
}

/* ---------------------------------------------------------------------------------------
 * Applying one entry
 */

/* ---------------------------------------------------------------------------------------
 * Credentials
 */

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
fail_local(struct entry_run *er, int r, const char *what)
{
	snprintf(er->reason, sizeof(er->reason), "%s", what);
	snprintf(er->code, sizeof(er->code), "internal");
	er->transient = false;
	return r;
}

/* A fresh password for credential NEW (once per entry and pass). */
static int
generate_new(struct entry_run *er)
{
	char pw[GP_PASSWORD_LEN + 1];
	int r = gp_password_generate(rand_bytes, NULL, pw);

	if (r < 0)
		return fail_local(er, r, "cannot generate a password");
	er->cred[GP_CRED_NEW] = strdup(pw);
	explicit_bzero(pw, sizeof(pw));
	return er->cred[GP_CRED_NEW] ? 0 : fail_local(er, -ENOMEM, "out of memory");
}

/* The AWSCURRENT password: from the value observed, else read now. */
static int
read_current(struct entry_run *er)
{
	struct gpd_error err = {0};
	char *json = NULL;
	int r;

	if (er->secret && er->secret->value_json)
		return gp_secret_password(er->secret->value_json, &er->cred[GP_CRED_CURRENT]) < 0
			       ? fail_local(er, -EINVAL, "the secret has no usable password")
			       : 0;
	r = gpd_sm_get_value(er->p->sm, er->e->secret_name, &json, &err);
	if (r < 0) {
		fail_sm(er, "cannot read the secret", r, &err);
		return r;
	}
	r = gp_secret_password(json, &er->cred[GP_CRED_CURRENT]);
	gp_secret_free_string(json);
	return r < 0 ? fail_local(er, r, "the secret has no usable password") : 0;
}

/* The AWSPENDING password: staged by this pass (the NEW one), or read while observing. */
static int
read_pending(struct entry_run *er)
{
	const char *json = er->secret ? er->secret->pending_value_json : NULL;

	if (er->pending && er->cred[GP_CRED_NEW])
		return (er->cred[GP_CRED_PENDING] = strdup(er->cred[GP_CRED_NEW]))
			       ? 0
			       : fail_local(er, -ENOMEM, "out of memory");
	if (!json)
		return fail_local(er, -ENOENT, "the AWSPENDING version could not be read");
	return gp_secret_password(json, &er->cred[GP_CRED_PENDING]) < 0
		       ? fail_local(er, -EINVAL, "the AWSPENDING version has no usable password")
		       : 0;
}

/* The password of credential c, made or read on first use. NULL for GP_CRED_NONE. */
static int
password_of(struct entry_run *er, enum gp_cred c, const char **ret)
{
	int r = 0;

	*ret = NULL;
	if (c == GP_CRED_NONE)
		return 0;
	if (!er->cred[c])
		r = c == GP_CRED_NEW	   ? generate_new(er)
		    : c == GP_CRED_PENDING ? read_pending(er)
					   : read_current(er);
	*ret = er->cred[c];
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Executors
 */

static void
want_of(const struct entry_run *er, const struct gp_action *a, struct gp_secret_want *w)
{
	const struct pass *p = er->p;

	*w = (struct gp_secret_want){
		.username = a->role,
		.host = !gp_isempty(p->o->env->secret.host) ? p->o->env->secret.host
							    : p->master.host,
		.port = p->secret_port_buf,
		.dbname = a->database,
		.aliases = &p->o->env->secret.password_aliases,
	};
}

static void
set_version(struct entry_run *er, char *version)
{
	free(er->version);
	er->version = version;
}

static int
exec_create_secret(struct entry_run *er, const struct gp_action *a)
{
	struct gp_secret_want want;
	struct gp_buf json = {0};
	struct gpd_error err = {0};
	const struct gp_env_config *env = er->p->o->env;
	const char *password;
	char *version = NULL;
	int r = password_of(er, a->cred, &password);

	if (r < 0)
		return r;
	want_of(er, a, &want);
	r = gp_secret_render(NULL, &want, password, &json);
	if (r >= 0)
		r = gpd_sm_create(er->p->sm, a->secret, json.p, env->secret.kms_key_id, er->p->env,
				  a->key, &version, &err);
	gp_buf_release_secure(&json);
	if (r < 0) {
		fail_sm(er, "CreateSecret failed", r, &err);
		return r;
	}
	set_version(er, version);
	return 0;
}

/* Rewrites the secret's JSON when it differs from what it should hold: the password of the
 * action's credential (kept, or new), the entry's fields, the other keys kept. */
static int
rewrite_secret(struct entry_run *er, const struct gp_action *a)
{
	const char *old = er->secret ? er->secret->value_json : NULL;
	struct gp_secret_want want;
	struct gp_buf json = {0};
	struct gpd_error err = {0};
	const char *password;
	char *version = NULL;
	int r;

	if (a->cred == GP_CRED_NONE || !old)
		return 0; /* not read in this pass: its version was verified, its content ours */
	r = password_of(er, a->cred, &password);
	if (r < 0)
		return r;
	want_of(er, a, &want);
	if (a->cred == GP_CRED_CURRENT && gp_secret_check(old, &want, NULL) == 0)
		return 0;
	r = gp_secret_render(old, &want, password, &json);
	if (r >= 0)
		r = gpd_sm_put_value(er->p->sm, a->secret, json.p, &version, &err);
	gp_buf_release_secure(&json);
	if (r < 0) {
		fail_sm(er, "PutSecretValue failed", r, &err);
		return r;
	}
	set_version(er, version);
	return 0;
}

static int
exec_update_secret(struct entry_run *er, const struct gp_action *a)
{
	return rewrite_secret(er, a);
}

static int
exec_adopt_secret(struct entry_run *er, const struct gp_action *a)
{
	struct gpd_error err = {0};
	int r = rewrite_secret(er, a);

	if (r < 0)
		return r;
	r = gpd_sm_tag(er->p->sm, a->secret, er->p->env, a->key, &err);
	if (r < 0)
		fail_sm(er, "TagResource failed", r, &err);
	return r;
}

static int
exec_pg(struct entry_run *er, const struct gp_action *a, gpd_pg_exec_fn fn)
{
	const struct gpd_pg_session s = {er->p->conn, &er->p->target, er->p->env};
	struct gpd_error err = {0};
	const char *password;
	int r = password_of(er, a->cred, &password);

	if (r < 0)
		return r;
	r = fn(&s, a, password, &err);
	if (r < 0)
		fail_pg(er, gp_action_kind_to_string(a->kind), r, &err);
	return r;
}

/* A login with the action's credentials. A failure fails the entry with the server's reason:
 * any repair it calls for is in the next plan, never made up here. */
static int
exec_verify(struct entry_run *er, const struct gp_action *a)
{
	struct gpd_error err = {0};
	const char *password;
	int r = password_of(er, a->cred, &password);

	if (r < 0)
		return r;
	r = gpd_pg_verify_login(&er->p->target, a->role, password, a->database, &err);
	if (r < 0)
		fail_pg(er, "verify_login", r, &err);
	return r;
}

/* Rotation step 1: the new password, staged AWSPENDING, the JSON otherwise the current one's
 * (alias keys included), with the token the rotation always sends. */
static int
exec_rotate_stage(struct entry_run *er, const struct gp_action *a)
{
	const char *old = er->secret ? er->secret->value_json : NULL;
	char token[37];
	struct gp_secret_want want;
	struct gp_buf json = {0};
	struct gpd_error err = {0};
	const char *password;
	char *version = NULL;
	int r = password_of(er, a->cred, &password);

	if (r < 0)
		return r;
	if (!old)
		return fail_local(er, -ENOENT, "the AWSCURRENT value was not read");
	want_of(er, a, &want);
	gp_rotation_token(a->secret, a->version, token);
	r = gp_secret_render(old, &want, password, &json);
	if (r >= 0)
		r = gpd_sm_put_pending(er->p->sm, a->secret, json.p, token, &version, &err);
	gp_buf_release_secure(&json);
	if (r < 0) {
		fail_sm(er, "PutSecretValue (AWSPENDING) failed", r, &err);
		return r;
	}
	free(er->pending);
	er->pending = version;
	return 0;
}

static int
exec_rotate_verify(struct entry_run *er, const struct gp_action *a)
{
	return exec_verify(er, a);
}

/* Rotation step 4: AWSCURRENT moves to the pending version (staged now or found). */
static int
exec_rotate_promote(struct entry_run *er, const struct gp_action *a)
{
	const char *pending = er->pending ? er->pending
					  : (er->secret ? er->secret->pending_version : NULL);
	struct gpd_error err = {0};
	char *v;
	int r;

	if (!pending)
		return fail_local(er, -ENOENT, "no AWSPENDING version to promote");
	r = gpd_sm_promote(er->p->sm, a->secret, pending, gp_isempty(a->version) ? NULL : a->version,
			   &err);
	if (r < 0) {
		fail_sm(er, "UpdateSecretVersionStage failed", r, &err);
		return r;
	}
	if (!(v = strdup(pending)))
		return fail_local(er, -ENOMEM, "out of memory");
	set_version(er, v);
	return 0;
}

static int
exec_restore_secret(struct entry_run *er, const struct gp_action *a)
{
	struct gpd_error err = {0};
	int r = gpd_sm_restore(er->p->sm, a->secret, &err);

	if (r < 0)
		fail_sm(er, "RestoreSecret failed", r, &err);
	return r;
}

static int
exec_delete_secret(struct entry_run *er, const struct gp_action *a)
{
	struct gpd_error err = {0};
	uint64_t days = er->p->o->env->secret.recovery_window_ms / 86400000ULL;
	int r = gpd_sm_delete(er->p->sm, a->secret, (unsigned)days, &err);

	if (r == -ENOENT)
		return 0; /* gone meanwhile */
	if (r < 0)
		fail_sm(er, "DeleteSecret failed", r, &err);
	return r;
}

static int
exec_dump_database(struct entry_run *er, const struct gp_action *a)
{
	struct gpd_error err = {0};
	struct gpd_logctx c;
	char *path = NULL, name[ENTRY_NAME_BUF];
	int r = gpd_dump_database(&er->p->target, er->p->o->env->dump_dir, er->p->env, a->database,
				  er->p->o->now, er->p->o->stop, &path, &err);

	if (r < 0) {
		snprintf(er->reason, sizeof(er->reason), "%s", err.message);
		snprintf(er->code, sizeof(er->code), "%s", err.code);
		er->transient = false;
		return r;
	}
	gpd_pass_logctx(er->p, er->e, &c);
	gpd_log(LOG_NOTICE, NULL, &c, "%s: database %s dumped to %s", entry_name(name, er->p, er->e),
		a->database, path);
	free(path);
	return 0;
}

static const struct executor {
	int (*run)(struct entry_run *er, const struct gp_action *a);
	gpd_pg_exec_fn pg; /* with run == NULL: a PostgreSQL executor, through exec_pg() */
	const char *mid;   /* the journal's MESSAGE_ID when it succeeds; NULL: the generic one */
} executors[_GP_ACT_MAX] = {
	[GP_ACT_CREATE_SECRET] = {exec_create_secret, NULL},
	[GP_ACT_ADOPT_SECRET] = {exec_adopt_secret, NULL},
	[GP_ACT_UPDATE_SECRET] = {exec_update_secret, NULL},
	[GP_ACT_CREATE_ROLE] = {NULL, gpd_pg_create_role},
	[GP_ACT_ALTER_ROLE] = {NULL, gpd_pg_alter_role},
	[GP_ACT_SET_PASSWORD] = {NULL, gpd_pg_set_password},
	[GP_ACT_COMMENT_ROLE] = {NULL, gpd_pg_comment_role},
	[GP_ACT_GRANT_MEMBERSHIP] = {NULL, gpd_pg_grant_membership},
	[GP_ACT_CREATE_DATABASE] = {NULL, gpd_pg_create_database},
	[GP_ACT_ALTER_DATABASE_OWNER] = {NULL, gpd_pg_alter_database_owner},
	[GP_ACT_REVOKE_PUBLIC] = {NULL, gpd_pg_revoke_public},
	[GP_ACT_GRANT_CONNECT] = {NULL, gpd_pg_grant_connect},
	[GP_ACT_APPLY_GRANTS] = {NULL, gpd_pg_apply_grants},
	[GP_ACT_VERIFY_LOGIN] = {exec_verify, NULL},
	[GP_ACT_SET_ROLE_DEFAULT] = {NULL, gpd_pg_set_role_default},
	[GP_ACT_ROTATE_STAGE] = {exec_rotate_stage, NULL, GPD_MID_ROTATION_STAGED},
	[GP_ACT_ROTATE_SET_PASSWORD] = {NULL, gpd_pg_set_password, GPD_MID_ROTATION_PASSWORD_SET},
	[GP_ACT_ROTATE_VERIFY] = {exec_rotate_verify, NULL, GPD_MID_ROTATION_VERIFIED},
	[GP_ACT_ROTATE_PROMOTE] = {exec_rotate_promote, NULL, GPD_MID_ROTATION_COMPLETED},
	[GP_ACT_ROTATE_UNDO] = {NULL, gpd_pg_set_password, NULL},
	[GP_ACT_RESTORE_SECRET] = {exec_restore_secret, NULL, NULL},
	[GP_ACT_DUMP_DATABASE] = {exec_dump_database, NULL, NULL},
	[GP_ACT_LOCK_DATABASE] = {NULL, gpd_pg_lock_database, NULL},
	[GP_ACT_REVOKE_CONNECT] = {NULL, gpd_pg_revoke_connect, NULL},
	[GP_ACT_DISABLE_ROLE] = {NULL, gpd_pg_disable_role, NULL},
	[GP_ACT_DROP_DATABASE] = {NULL, gpd_pg_drop_database, NULL},
	[GP_ACT_DROP_OWNED] = {NULL, gpd_pg_drop_owned, NULL},
	[GP_ACT_DROP_ROLE] = {NULL, gpd_pg_drop_role, NULL},
	[GP_ACT_DELETE_SECRET] = {exec_delete_secret, NULL, NULL},
};

static int
run_action(struct entry_run *er, const struct gp_action *a)
{
	const struct executor *x = (size_t)a->kind < _GP_ACT_MAX ? &executors[a->kind] : NULL;
	const char *refused = gp_action_guard(a, er->p->env, er->p->obs);

	if (refused) {
		snprintf(er->reason, sizeof(er->reason), "%s refused: %s",
			 gp_action_kind_to_string(a->kind), refused);
		snprintf(er->code, sizeof(er->code), "unmanaged");
		er->transient = false;
		return -EPERM;
	}
	if (!x || (!x->run && !x->pg))
		return fail_local(er, -EINVAL, "no executor for this action");
	return x->run ? x->run(er, a) : exec_pg(er, a, x->pg);
}

/* ---------------------------------------------------------------------------------------
 * Entries
 */

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

static void
report_action(struct entry_run *er, const struct gp_action *a, int r, uint64_t ms)
{
	struct pass *p = er->p;
	const char *mid = (size_t)a->kind < _GP_ACT_MAX ? executors[a->kind].mid : NULL;
	bool drift = a->why == GP_WHY_DRIFT, rotation = a->why == GP_WHY_ROTATE;
	struct gp_buf desc = {0}, brief = {0};
	struct gpd_logctx c;
	char name[ENTRY_NAME_BUF];

	gp_action_describe(a, &desc);
	entry_name(name, p, er->e);
	gpd_pass_logctx(p, er->e, &c);
	c.action = gp_action_kind_to_string(a->kind);
	/* What a terminal shows: "created role x", "create_role x failed: <reason>". */
	gp_buf_puts(&brief, drift && r >= 0 ? "repaired: " : "");
	gp_action_summary(a, r < 0, &brief);
	if (r < 0)
		gp_buf_printf(&brief, ": %s", er->reason);
	c.brief = brief.p;
	if (r < 0) {
		p->res->n_errors++;
		p->res->n_rotations_failed += rotation;
		count_error(p->res, er->code[0] ? er->code : "internal");
		c.error = er->code[0] ? er->code : NULL;
		gpd_log(LOG_ERR, rotation ? GPD_MID_ROTATION_FAILED : GPD_MID_ACTION_FAILED, &c,
			"%s: %s failed: %s", name, desc.p, er->reason);
		audit_row(p, er->e, gp_action_audit_name(a), GP_AUDIT_ERROR, ms, er->reason);
	} else if (a->why != GP_WHY_CHECK || er->rec->state != GP_STATE_ACTIVE) {
		if (a->why != GP_WHY_CHECK)
			p->res->n_applied++;
		p->res->n_rotations += a->kind == GP_ACT_ROTATE_PROMOTE;
		gpd_log(drift || rotation ? LOG_NOTICE : LOG_INFO,
			mid ? mid : drift ? GPD_MID_DRIFT_REPAIRED : GPD_MID_ACTION_APPLIED, &c,
			"%s: %s%s", name, drift ? "repaired: " : "", desc.p);
		audit_row(p, er->e, gp_action_audit_name(a), GP_AUDIT_SUCCESS, ms, desc.p);
	}
	gp_buf_release(&desc);
	gp_buf_release(&brief);
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
entry_succeed(struct entry_run *er)
{
	struct gp_transitions t = {0};
	int r = er->ep->to == GP_STATE_DECOMMISSIONED
			? gp_lifecycle_decommissioned(er->rec, er->p->o->now, er->p->commit, &t)
			: gp_lifecycle_done(er->rec, er->ep, er->p->o->now, er->p->commit,
					    er->version,
					    er->secret ? er->secret->current_version : NULL, &t);

	record_transitions(er->p, er->e, &t, NULL);
	return r;
}

/* The plan's undo actions (rotation.c), after a failure: reported, and the entry still fails
 * with the first error. */
static void
run_undo(struct entry_run *er)
{
	char reason[sizeof(er->reason)], code[sizeof(er->code)];
	bool transient = er->transient;

	memcpy(reason, er->reason, sizeof(reason));
	memcpy(code, er->code, sizeof(code));
	for (size_t i = 0; i < er->ep->n_undo; i++) {
		uint64_t t0 = gpd_mono_ms();
		int r = run_action(er, &er->ep->undo[i]);

		report_action(er, &er->ep->undo[i], r, gpd_mono_ms() - t0);
	}
	memcpy(er->reason, reason, sizeof(reason));
	memcpy(er->code, code, sizeof(code));
	er->transient = transient;
}

static int
apply_actions(struct entry_run *er)
{
	const struct gp_entry_plan *ep = er->ep;
	struct gp_transitions t = {0};

	if (ep->n_changes > 0) {
		if (ep->to == GP_STATE_DECOMMISSIONED)
			gp_lifecycle_decommission_begin(er->rec, er->p->o->now, &t);
		else
			gp_lifecycle_begin(er->rec, er->p->o->now, &t);
		record_transitions(er->p, er->e, &t, NULL);
	}
	for (size_t i = 0; i < ep->n_actions; i++) {
		const struct gp_action *a = &ep->actions[i];
		uint64_t t0 = gpd_mono_ms();
		int r;

		if (gpd_pass_stopping(er->p)) {
			/* Not a failure: the entry stays provisioning and the next pass, after a
			 * restart, continues it without waiting for a backoff. */
			free(er->rec->reason);
			er->rec->reason = strdup("interrupted by shutdown; continues at the next pass");
			return -ECANCELED;
		}
		r = run_action(er, a);
		report_action(er, a, r, gpd_mono_ms() - t0);
		if (r < 0) {
			/* Only while AWSCURRENT is still the old version: not once the promotion
			 * succeeded (a later repair failed), and not when the promotion failed
			 * (its first call may have moved AWSCURRENT; the next pass finds out). */
			if (ep->n_undo && i > ep->undo_after && !er->version &&
			    a->kind != GP_ACT_ROTATE_PROMOTE)
				run_undo(er);
			return entry_fail(er), r;
		}
	}
	return entry_succeed(er);
}

static void
hold_entry(struct pass *p, const struct gp_entry *e, struct gp_record *rec)
{
	struct gp_transitions t = {0};
	struct gpd_logctx c;
	char name[ENTRY_NAME_BUF];
	bool changed = !gp_streq(rec->reason, e->reason);

	gp_lifecycle_hold(rec, e->reason, p->o->now, &t);
	record_transitions(p, e, &t, e->reason);
	if (e->hold == GP_HOLD_INVALID || e->hold == GP_HOLD_CONFLICT)
		p->res->n_invalid++;
	else if (rec->state != GP_STATE_ACTIVE)
		p->res->n_gated++;
	if (changed || t.n) {
		gpd_pass_logctx(p, e, &c);
		/* The key of an invalid entry is the rejected name itself: escaped, as the reason
		 * shows it. */
		gpd_log(LOG_NOTICE, GPD_MID_GATE_HOLDING, &c, "%s: held [%s]: %s",
			entry_name(name, p, e), gp_hold_to_string(e->hold),
			e->reason ? e->reason : "");
	}
}

/* The plan refused it (a decommission that would remove what is not ours): it fails with the
 * reason, which no retry mends until the inputs or the objects change. */
static int
refuse_entry(struct entry_run *er)
{
	struct gpd_logctx c;
	char name[ENTRY_NAME_BUF];

	snprintf(er->reason, sizeof(er->reason), "%s", er->ep->refused);
	snprintf(er->code, sizeof(er->code), "unmanaged");
	er->transient = false;
	gpd_pass_logctx(er->p, er->e, &c);
	c.error = er->code;
	gpd_log(LOG_ERR, GPD_MID_ACTION_FAILED, &c, "%s: %s", entry_name(name, er->p, er->e),
		er->reason);
	audit_row(er->p, er->e, "decommission", GP_AUDIT_ERROR, 0, er->reason);
	er->p->res->n_errors++;
	count_error(er->p->res, er->code);
	return entry_fail(er);
}

/* Held by the plan (note) or by the failure of the owner entry it depends on: waits. */
static void
wait_entry(struct pass *p, const struct gp_entry *e, struct gp_record *rec, const char *note)
{
	struct gp_transitions t = {0};

	gp_lifecycle_hold(rec, note, p->o->now, &t);
	record_transitions(p, e, &t, note);
	p->res->n_gated++;
}

/* `gprdsd retry` brought a failed entry forward: who asked goes into the audit and the
 * journal, before the attempt's own rows. */
static void
note_retry(struct pass *p, const struct gp_entry *e, const struct gp_retry_request *q)
{
	char msg[400], name[ENTRY_NAME_BUF];
	struct gpd_logctx c;

	snprintf(msg, sizeof(msg), "retry requested by %s: attempted now, not at its retry time",
		 q->by ? q->by : "?");
	audit_row(p, e, "retry", GP_AUDIT_SUCCESS, 0, msg);
	gpd_pass_logctx(p, e, &c);
	gpd_log(LOG_NOTICE, GPD_MID_RETRY_REQUESTED, &c, "%s: %s", entry_name(name, p, e), msg);
}

/* Returns whether the entry's actions all succeeded (held and waiting entries: true). */
static bool
apply_entry(struct pass *p, const struct gp_entry_plan *ep, const bool *failed,
	    char code[static 64])
{
	const struct gp_entry *e = &p->res->desired->v[ep->entry];
	struct entry_run er = {.p = p, .ep = ep, .e = e};
	bool ok = true;

	if (gp_state_upsert(p->state, e->key, p->o->now, &er.rec) < 0)
		return false;
	er.secret = gp_observed_secret_mut(p->obs, e->secret_name);
	gp_record_observe(er.rec, ep, e, er.secret, p->o->now);
	if (ep->held)
		hold_entry(p, e, er.rec);
	else if (ep->waiting && ep->note)
		wait_entry(p, e, er.rec, ep->note);
	else if (!ep->waiting && ep->depends_on >= 0 && failed[ep->depends_on])
		wait_entry(p, e, er.rec, ep->cascade_note);
	else if (ep->refused)
		ok = (refuse_entry(&er), false);
	else if (!ep->waiting) {
		if (ep->retry && ep->from == GP_STATE_FAILED)
			note_retry(p, e, ep->retry);
		ok = apply_actions(&er) >= 0;
	}
	for (size_t i = 0; i < _GP_CRED_MAX; i++)
		gp_secret_free_string(er.cred[i]);
	free(er.version);
	free(er.pending);
	memcpy(code, er.code, 64);
	return ok;
}

struct reason_ref {
	const char *reason;
	size_t i;     /* index into desired->v */
	bool counted; /* a candidate: its record is not active */
};

static int
cmp_reason_ref(const void *a, const void *b)
{
	const struct reason_ref *x = a, *y = b;
	int c = strcmp(x->reason, y->reason);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The most common reason among the records that are not active (ties: the one whose first
 * such record comes first in desired order), by sorting: O(n log n). */
static void
top_reason(struct gpd_pass_result *res, struct reason_ref *v, size_t n)
{
	size_t best = 0, best_i = SIZE_MAX;
	const char *top = NULL;

	qsort(v, n, sizeof(*v), cmp_reason_ref);
	for (size_t a = 0, b; a < n; a = b) {
		size_t first = SIZE_MAX;

		for (b = a; b < n && strcmp(v[b].reason, v[a].reason) == 0; b++)
			if (v[b].counted && first == SIZE_MAX)
				first = v[b].i;
		if (first != SIZE_MAX && (b - a > best || (b - a == best && first < best_i))) {
			best = b - a;
			best_i = first;
			top = v[a].reason;
		}
	}
	if (top) {
		free(res->top_reason);
		res->top_reason = strdup(top);
	}
}

static void
count_result(struct pass *p)
{
	struct gpd_pass_result *res = p->res;
	_cleanup_free_ struct reason_ref *reasons = calloc(res->desired->n + 1, sizeof(*reasons));
	size_t n_reasons = 0;

	for (size_t i = 0; i < res->desired->n; i++) {
		const struct gp_record *rec = gp_state_find(p->state, res->desired->v[i].key);
		enum gp_state st = rec ? rec->state : GP_STATE_PENDING;

		res->by_state[st]++;
		if (st == GP_STATE_FAILED) {
			res->n_failed++;
			if (rec->next_retry && (!res->next_retry || rec->next_retry < res->next_retry))
				res->next_retry = rec->next_retry;
		}
		if (reasons && rec && rec->reason)
			reasons[n_reasons++] =
				(struct reason_ref){rec->reason, i, st != GP_STATE_ACTIVE};
	}
	if (reasons)
		top_reason(res, reasons, n_reasons);
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

		if (!rec || (!rec->current_since && !rec->secret_changed))
			continue;
		a = &res->secrets[res->n_secrets++];
		snprintf(a->key, sizeof(a->key), "%s", e->key);
		a->changed = rec->current_since ? rec->current_since : rec->secret_changed;
		a->rotation_ms = p->o->env->rotation_ms[e->risk < _GP_RISK_MAX ? e->risk : 0];
		a->warn_before_ms = p->o->env->rotation.warn_before_ms;
		a->rotating = rec->rotating_since != 0;
	}
}

static void
report_orphans(struct pass *p)
{
	struct gpd_logctx c;

	const struct gp_strv *now = &p->res->plan->orphans;
	struct gp_strv sorted = {0};

	gpd_pass_logctx(p, NULL, &c);
	p->res->n_orphans = now->n;
	/* Each orphan once, when it first appears; the state file remembers which were told. */
	for (size_t i = 0; i < now->n; i++) {
		if (gp_strv_has(&p->state->orphans, now->v[i]))
			continue;
		gpd_log(LOG_NOTICE, GPD_MID_ORPHANED, &c,
			"%s/orphaned %s: no entry in the inputs any more; kept (only a confirmed "
			"decommission removes anything)",
			p->env, now->v[i]);
	}
	for (size_t i = 0; i < now->n; i++)
		if (gp_strv_push(&sorted, now->v[i]) < 0) {
			gp_strv_release(&sorted);
			return;
		}
	gp_strv_sort(&sorted);
	gp_strv_release(&p->state->orphans);
	p->state->orphans = sorted;
}

/* orphans: disable — an orphaned role loses its login; its entry's return restores it. */
static void
apply_orphan_action(struct pass *p, const struct gp_action *a)
{
	struct gp_entry e = {.key = a->key, .username = a->role};
	struct entry_run er = {.p = p, .e = &e};
	uint64_t t0 = gpd_mono_ms();
	struct gp_record dummy = {.state = GP_STATE_ACTIVE};
	int r;

	er.rec = &dummy;
	r = run_action(&er, a);
	report_action(&er, a, r, gpd_mono_ms() - t0);
}

#define GPD_BREAKER_FAILURES 2

/*
 * The pass's circuit breaker: entries that fail one after the other because a server does
 * not answer at all (gpd_code_unreachable()) stop the environment's pass, said once; the
 * entries not reached wait, unchanged, for the next pass. Each call is bounded; this bounds
 * the pass to about GPD_BREAKER_FAILURES of them instead of one per entry.
 */
static bool
breaker(struct pass *p, bool failed, const char *code, size_t left)
{
	if (!failed || !gpd_code_unreachable(code)) {
		p->unreachable = 0;
		return false;
	}
	if (++p->unreachable < GPD_BREAKER_FAILURES || !left)
		return false;
	gpd_pass_error(p, -EHOSTUNREACH,
		       "%u entries in a row failed because a server did not answer (%s); the pass "
		       "stopped, %zu entr%s left for the next pass",
		       p->unreachable, code, left, left == 1 ? "y is" : "ies are");
	return true;
}

/* Creates the records of the entries the pass has not seen before all at once (one sort),
 * not one insertion at a time: apply_entry() then only finds them. */
static int
reserve_records(struct pass *p)
{
	const struct gp_plan *plan = p->res->plan;
	_cleanup_free_ const char **keys = calloc(plan->n + 1, sizeof(*keys));

	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < plan->n; i++)
		keys[i] = p->res->desired->v[plan->v[i].entry].key;
	return gp_state_reserve(p->state, keys, plan->n, p->o->now);
}

int
gpd_pass_apply(struct pass *p)
{
	const struct gp_plan *plan = p->res->plan;
	_cleanup_free_ bool *failed = calloc(plan->n + 1, sizeof(*failed));
	bool tripped = false;
	struct gpd_logctx c;

	if (!failed)
		return -ENOMEM;
	gpd_pass_logctx(p, NULL, &c);
	if (plan->refused) {
		/* The mass-change guard: nothing in this environment changes. */
		p->res->refused = true;
		gpd_pass_error(p, -EPERM, "%s", plan->refused);
		return -EPERM;
	}
	gp_state_mark_orphans(p->state, p->res->desired);
	if (reserve_records(p) < 0) {
		gpd_pass_error(p, -ENOMEM, "cannot create the new entries' records: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < plan->n && !gpd_pass_stopping(p); i++) {
		char code[64] = "";

		gpd_log_progress(&c, "entry", i + 1, plan->n);
		failed[i] = !apply_entry(p, &plan->v[i], failed, code);
		if (breaker(p, failed[i], code, plan->n - i - 1)) {
			tripped = true;
			break;
		}
	}
	/* A tripped breaker leaves the orphans' actions for the next pass too: each would wait
	 * for the same server that stopped answering. */
	for (size_t i = 0; i < plan->n_orphan_actions && !tripped && !gpd_pass_stopping(p); i++)
		apply_orphan_action(p, &plan->orphan_actions[i]);
	report_orphans(p);
	count_result(p);
	collect_secret_ages(p);
	if (p->audit)
		gpd_audit_sync(p->audit);
	return 0;
}
