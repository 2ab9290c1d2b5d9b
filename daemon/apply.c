/*
 * apply.c — executing one environment's plan (DESIGN §2 step 5): each entry's actions in
 * their order, through the table of executors below, several entries at once (the pipeline at
 * the end: Secrets Manager calls and login checks in flight while the master connection runs
 * another entry's SQL), recording each outcome in the audit file, the journal and the entry's
 * lifecycle record. One entry's failure never stops the others.
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
#include "codec/sm_wire.h"
#include "dump.h"
#include "plan/lifecycle.h"
#include "verifiers.h"

struct entry_run;

/* What a Secrets Manager answer means for the action under way: its outcome, or ACT_STARTED
 * when it started the action's next call. */
typedef int (*sm_finish_fn)(struct entry_run *er, int r, char *version,
			    const struct gpd_error *err);

/* Per-entry run: the passwords live only here, and are wiped when done. */
struct entry_run {
	struct pass *p;
	const struct gp_entry_plan *ep;
	const struct gp_entry *e;
	struct gp_record *rec;
	struct gp_obs_secret *secret;
	char *cred[_GP_CRED_MAX]; /* passwords by credential (NEW once generated, CURRENT and
				   * PENDING once read) */
	struct gpd_verifier_job *verifier; /* NEW's SCRAM verifier, computed ahead (or NULL) */
	struct gpd_verifiers *verifiers;   /* the pass's thread that computes them */
	char *version;            /* secret version this pass made AWSCURRENT, or NULL */
	char *pending;            /* AWSPENDING version staged by this pass, or NULL */
	char reason[600];
	char code[64]; /* SQLSTATE or AWS error code of the failure, for metrics */
	bool transient;
	/* Where the entry is in its actions (the pipeline below): */
	size_t i;                     /* its index in the plan */
	size_t next;                  /* the action under way or to start next */
	const struct gp_action *cur;  /* the action started last */
	uint64_t t0;                  /* when it started */
	struct gpd_pass_waits *waits; /* the pass's waits, with its login checks */
	const char *what;             /* the error prefix of the call under way */
	sm_finish_fn finish;          /* what its answer means */
	int result;                   /* of the call or login that ended */
	bool admitted;                /* the pipeline took it up */
	bool active;                  /* admitted, actions left */
	bool busy;                    /* a call or a login under way */
	bool ended;                   /* it ended: result is its outcome, not yet settled */
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
	if (!er->cred[GP_CRED_NEW])
		return fail_local(er, -ENOMEM, "out of memory");
	/* Its verifier, ready by the time a statement sets it (NULL: made then). */
	er->verifier = gpd_verifiers_submit(er->verifiers, er->cred[GP_CRED_NEW]);
	return 0;
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

/*
 * An executor returns 0 (done), -errno (failed: er->reason says why) or ACT_STARTED: a
 * Secrets Manager call or a login is under way, and its outcome comes through
 * action_ended() later, from within a wait.
 */
#define ACT_STARTED 1

static void
action_ended(struct entry_run *er, int r)
{
	er->result = r;
	er->busy = false;
	er->ended = true;
}

static void
sm_done(void *arg, int r, char *version, const struct gpd_error *err)
{
	struct entry_run *er = arg;
	sm_finish_fn finish = er->finish;

	er->finish = NULL;
	r = finish(er, r, version, err);
	if (r != ACT_STARTED)
		action_ended(er, r);
}

/* started: what gpd_sm_*_start() returned. what prefixes the error of a failed call. */
static int
sm_started(struct entry_run *er, int started, const char *what, sm_finish_fn finish)
{
	if (started < 0) {
		snprintf(er->reason, sizeof(er->reason), "%s: %s", what, strerror(-started));
		snprintf(er->code, sizeof(er->code), "internal");
		er->transient = false;
		return started;
	}
	er->what = what;
	er->finish = finish;
	er->busy = true;
	return ACT_STARTED;
}

static int
finish_plain(struct entry_run *er, int r, char *version, const struct gpd_error *err)
{
	free(version);
	if (r < 0)
		fail_sm(er, er->what, r, err);
	return r;
}

/* The call made a version AWSCURRENT. */
static int
finish_version(struct entry_run *er, int r, char *version, const struct gpd_error *err)
{
	if (r < 0)
		return finish_plain(er, r, version, err);
	set_version(er, version);
	return 0;
}

static int
exec_create_secret(struct entry_run *er, const struct gp_action *a)
{
	struct gp_secret_want want;
	struct gp_buf json = {0};
	const struct gp_env_config *env = er->p->o->env;
	const char *password;
	int r = password_of(er, a->cred, &password);

	if (r < 0)
		return r;
	want_of(er, a, &want);
	r = gp_secret_render(NULL, &want, password, &json);
	if (r >= 0)
		r = sm_started(er,
			       gpd_sm_create_start(er->p->sm, a->secret, json.p,
						   env->secret.kms_key_id, er->p->env, a->key,
						   sm_done, er),
			       "CreateSecret failed", finish_version);
	gp_buf_release_secure(&json);
	return r < 0 && !er->reason[0] ? fail_local(er, r, "cannot render the secret") : r;
}

/* Rewrites the secret's JSON when it differs from what it should hold: the password of the
 * action's credential (kept, or new), the entry's fields, the other keys kept. 0 when there
 * is nothing to write. */
static int
rewrite_secret(struct entry_run *er, const struct gp_action *a, sm_finish_fn finish)
{
	const char *old = er->secret ? er->secret->value_json : NULL;
	struct gp_secret_want want;
	struct gp_buf json = {0};
	const char *password;
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
		r = sm_started(er,
			       gpd_sm_put_value_start(er->p->sm, a->secret, json.p, sm_done, er),
			       "PutSecretValue failed", finish);
	gp_buf_release_secure(&json);
	return r < 0 && !er->reason[0] ? fail_local(er, r, "cannot render the secret") : r;
}

static int
exec_update_secret(struct entry_run *er, const struct gp_action *a)
{
	return rewrite_secret(er, a, finish_version);
}

static int
start_tag(struct entry_run *er, const struct gp_action *a)
{
	return sm_started(er,
			  gpd_sm_tag_start(er->p->sm, a->secret, er->p->env, a->key, sm_done, er),
			  "TagResource failed", finish_plain);
}

/* Adopting: the rewrite's answer, then the tags. */
static int
finish_rewrite_then_tag(struct entry_run *er, int r, char *version, const struct gpd_error *err)
{
	r = finish_version(er, r, version, err);
	return r < 0 ? r : start_tag(er, er->cur);
}

static int
exec_adopt_secret(struct entry_run *er, const struct gp_action *a)
{
	int r = rewrite_secret(er, a, finish_rewrite_then_tag);

	return r != 0 ? r : start_tag(er, a);
}

/* The verifier computed ahead for password, when it is NEW's (also as the PENDING copy of a
 * rotation staged in this pass); NULL: the executor computes it. */
static const char *
verifier_of(struct entry_run *er, const char *password)
{
	const char *pw = er->cred[GP_CRED_NEW];

	if (!er->verifier || !password || !pw || strcmp(password, pw) != 0)
		return NULL;
	return gpd_verifier_wait(er->verifier);
}

static int
exec_pg(struct entry_run *er, const struct gp_action *a, gpd_pg_exec_fn fn)
{
	struct gpd_pg_session s = {er->p->conn, &er->p->target, er->p->env, NULL};
	struct gpd_error err = {0};
	const char *password;
	int r = password_of(er, a->cred, &password);

	if (r < 0)
		return r;
	s.verifier = verifier_of(er, password);
	r = fn(&s, a, password, &err);
	if (r < 0)
		fail_pg(er, gp_action_kind_to_string(a->kind), r, &err);
	return r;
}

static void
login_done(void *arg, int r, const struct gpd_error *err)
{
	struct entry_run *er = arg;

	if (r < 0)
		fail_pg(er, er->what, r, err);
	action_ended(er, r);
}

/* A login with the action's credentials. A failure fails the entry with the server's reason:
 * any repair it calls for is in the next plan, never made up here. */
static int
exec_verify(struct entry_run *er, const struct gp_action *a)
{
	const char *password;
	int r = password_of(er, a->cred, &password);

	if (r < 0)
		return r;
	r = gpd_pg_logins_start(er->waits->logins, a->role, password, a->database, login_done, er);
	if (r < 0)
		return fail_local(er, r, "cannot start the login check");
	er->what = "verify_login";
	er->busy = true;
	return ACT_STARTED;
}

/* Rotation step 1 staged the version: it is AWSPENDING now. */
static int
finish_pending(struct entry_run *er, int r, char *version, const struct gpd_error *err)
{
	if (r < 0)
		return finish_plain(er, r, version, err);
	free(er->pending);
	er->pending = version;
	return 0;
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
	const char *password;
	int r = password_of(er, a->cred, &password);

	if (r < 0)
		return r;
	if (!old)
		return fail_local(er, -ENOENT, "the AWSCURRENT value was not read");
	want_of(er, a, &want);
	gp_rotation_token(a->secret, a->version, token);
	r = gp_secret_render(old, &want, password, &json);
	if (r >= 0)
		r = sm_started(
			er,
			gpd_sm_put_pending_start(er->p->sm, a->secret, json.p, token, sm_done, er),
			"PutSecretValue (AWSPENDING) failed", finish_pending);
	gp_buf_release_secure(&json);
	return r < 0 && !er->reason[0] ? fail_local(er, r, "cannot render the secret") : r;
}

static int
exec_rotate_verify(struct entry_run *er, const struct gp_action *a)
{
	return exec_verify(er, a);
}

static const char *
pending_version(const struct entry_run *er)
{
	return er->pending ? er->pending : (er->secret ? er->secret->pending_version : NULL);
}

static int
finish_promote(struct entry_run *er, int r, char *version, const struct gpd_error *err)
{
	char *v;

	if (r < 0)
		return finish_plain(er, r, version, err);
	free(version);
	if (!(v = strdup(pending_version(er))))
		return fail_local(er, -ENOMEM, "out of memory");
	set_version(er, v);
	return 0;
}

/* Rotation step 4: AWSCURRENT moves to the pending version (staged now or found). */
static int
exec_rotate_promote(struct entry_run *er, const struct gp_action *a)
{
	const char *pending = pending_version(er);

	if (!pending)
		return fail_local(er, -ENOENT, "no AWSPENDING version to promote");
	return sm_started(er,
			  gpd_sm_promote_start(er->p->sm, a->secret, pending,
					       gp_isempty(a->version) ? NULL : a->version, sm_done,
					       er),
			  "UpdateSecretVersionStage failed", finish_promote);
}

static int
exec_restore_secret(struct entry_run *er, const struct gp_action *a)
{
	return sm_started(er, gpd_sm_restore_start(er->p->sm, a->secret, sm_done, er),
			  "RestoreSecret failed", finish_plain);
}

static int
finish_delete(struct entry_run *er, int r, char *version, const struct gpd_error *err)
{
	return r == -ENOENT ? 0 : finish_plain(er, r, version, err); /* -ENOENT: gone meanwhile */
}

static int
exec_delete_secret(struct entry_run *er, const struct gp_action *a)
{
	uint64_t days = er->p->o->env->secret.recovery_window_ms / 86400000ULL;

	if (days < GP_SM_RECOVERY_MIN || days > GP_SM_RECOVERY_MAX)
		return fail_local(er, -EINVAL,
				  "DeleteSecret: the recovery window is not 7..30 days");
	return sm_started(er,
			  gpd_sm_delete_start(er->p->sm, a->secret, (unsigned)days, sm_done, er),
			  "DeleteSecret failed", finish_delete);
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

/* Where an action waits: the master connection (one statement at a time, in the pass's
 * thread), Secrets Manager (several calls in flight, paced) or the login checks (a few at
 * once). */
enum lane { LANE_PG, LANE_SM, LANE_LOGIN };

static const struct executor {
	int (*run)(struct entry_run *er, const struct gp_action *a);
	gpd_pg_exec_fn pg; /* with run == NULL: a PostgreSQL executor, through exec_pg() */
	const char *mid;   /* the journal's MESSAGE_ID when it succeeds; NULL: the generic one */
	enum lane lane;
} executors[_GP_ACT_MAX] = {
	[GP_ACT_CREATE_SECRET] = {exec_create_secret, NULL, NULL, LANE_SM},
	[GP_ACT_ADOPT_SECRET] = {exec_adopt_secret, NULL, NULL, LANE_SM},
	[GP_ACT_UPDATE_SECRET] = {exec_update_secret, NULL, NULL, LANE_SM},
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
	[GP_ACT_VERIFY_LOGIN] = {exec_verify, NULL, NULL, LANE_LOGIN},
	[GP_ACT_SET_ROLE_DEFAULT] = {NULL, gpd_pg_set_role_default},
	[GP_ACT_ROTATE_STAGE] = {exec_rotate_stage, NULL, GPD_MID_ROTATION_STAGED, LANE_SM},
	[GP_ACT_ROTATE_SET_PASSWORD] = {NULL, gpd_pg_set_password, GPD_MID_ROTATION_PASSWORD_SET},
	[GP_ACT_ROTATE_VERIFY] = {exec_rotate_verify, NULL, GPD_MID_ROTATION_VERIFIED, LANE_LOGIN},
	[GP_ACT_ROTATE_PROMOTE] = {exec_rotate_promote, NULL, GPD_MID_ROTATION_COMPLETED, LANE_SM},
	[GP_ACT_ROTATE_UNDO] = {NULL, gpd_pg_set_password, NULL},
	[GP_ACT_RESTORE_SECRET] = {exec_restore_secret, NULL, NULL, LANE_SM},
	[GP_ACT_DUMP_DATABASE] = {exec_dump_database, NULL, NULL},
	[GP_ACT_LOCK_DATABASE] = {NULL, gpd_pg_lock_database, NULL},
	[GP_ACT_REVOKE_CONNECT] = {NULL, gpd_pg_revoke_connect, NULL},
	[GP_ACT_DISABLE_ROLE] = {NULL, gpd_pg_disable_role, NULL},
	[GP_ACT_DROP_DATABASE] = {NULL, gpd_pg_drop_database, NULL},
	[GP_ACT_DROP_OWNED] = {NULL, gpd_pg_drop_owned, NULL},
	[GP_ACT_DROP_ROLE] = {NULL, gpd_pg_drop_role, NULL},
	[GP_ACT_DELETE_SECRET] = {exec_delete_secret, NULL, NULL, LANE_SM},
};

static enum lane
lane_of(const struct gp_action *a)
{
	return (size_t)a->kind < _GP_ACT_MAX ? executors[a->kind].lane : LANE_PG;
}

/* Starts a (the guard first); returns as an executor does. */
static int
run_action(struct entry_run *er, const struct gp_action *a)
{
	const struct executor *x = (size_t)a->kind < _GP_ACT_MAX ? &executors[a->kind] : NULL;
	const char *refused = gp_action_guard(a, er->p->env, er->p->obs);

	er->reason[0] = '\0';
	er->cur = a;
	er->t0 = gpd_mono_ms();
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

/* Runs a to its end, waiting for its call or login when it starts one (undo actions, orphans'
 * actions, and the entries of a decommission). */
static int
run_action_now(struct entry_run *er, const struct gp_action *a)
{
	int r = run_action(er, a);

	if (r != ACT_STARTED)
		return r;
	while (!er->ended)
		if ((r = gpd_pass_wait(er->waits, -1, 0, UINT64_MAX)) < 0)
			return fail_local(er, r, "cannot wait for Secrets Manager or PostgreSQL");
	er->ended = false;
	return er->result;
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

/* ---------------------------------------------------------------------------------------
 * The pipeline: entries admitted in plan order (unless waiting for their owner entry), each
 * action in its lane
 */

/*
 * Entries under way at once. Enough that Secrets Manager calls and logins (tens of ms each)
 * overlap the SQL of the entries before them; few enough that passwords made ahead and
 * secrets written ahead of their roles stay a handful (a crash leaves at most this many
 * secrets whose roles the next pass creates).
 */
#define PIPELINE_WINDOW 32

struct pipeline {
	struct pass *p;
	struct entry_run *runs; /* one per plan entry */
	bool *failed;           /* finished, and not all its actions succeeded */
	bool *finished;
	size_t next;            /* no entry before it waits to be admitted */
	size_t end;             /* no entry from it on is admitted */
	size_t first;           /* no entry before it is unfinished */
	size_t n_finished;
	size_t n_active;        /* admitted, not finished */
	bool alone;             /* an entry that runs alone is active (a decommission) */
	bool tripped;           /* the circuit breaker stopped the pass */
	struct gpd_pass_waits waits;
	struct gpd_verifiers *verifiers; /* NULL: verifiers are made as statements are sent */
};

static void
release_run(struct entry_run *er)
{
	for (size_t i = 0; i < _GP_CRED_MAX; i++) {
		gp_secret_free_string(er->cred[i]);
		er->cred[i] = NULL;
	}
	gpd_verifier_release(er->verifier);
	er->verifier = NULL;
	free(er->version);
	free(er->pending);
	er->version = er->pending = NULL;
}

static void
finish_entry(struct pipeline *pl, struct entry_run *er, bool ok)
{
	size_t i = er->i;
	struct gpd_logctx c;

	release_run(er);
	pl->failed[i] = !ok;
	pl->finished[i] = true;
	pl->n_finished++;
	gpd_pass_logctx(pl->p, NULL, &c);
	gpd_log_progress(&c, "entry", pl->n_finished, pl->p->res->plan->n);
	if (er->active) {
		er->active = false;
		pl->n_active--;
		if (er->ep->to == GP_STATE_DECOMMISSIONED)
			pl->alone = false;
	}
	if (!pl->tripped && breaker(pl->p, !ok, er->code, pl->p->res->plan->n - pl->n_finished))
		pl->tripped = true;
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
		int r = run_action_now(er, &er->ep->undo[i]);

		report_action(er, &er->ep->undo[i], r, gpd_mono_ms() - er->t0);
	}
	memcpy(er->reason, reason, sizeof(reason));
	memcpy(er->code, code, sizeof(code));
	er->transient = transient;
}

/* The action under way ended with r: reported; the entry goes on, fails or is done. */
static void
settle(struct pipeline *pl, struct entry_run *er, int r)
{
	const struct gp_entry_plan *ep = er->ep;
	size_t i = er->next;

	er->ended = false;
	report_action(er, &ep->actions[i], r, gpd_mono_ms() - er->t0);
	if (r < 0) {
		/* Only while AWSCURRENT is still the old version: not once the promotion
		 * succeeded (a later repair failed), and not when the promotion failed (its
		 * first call may have moved AWSCURRENT; the next pass finds out). */
		if (ep->n_undo && i > ep->undo_after && !er->version &&
		    ep->actions[i].kind != GP_ACT_ROTATE_PROMOTE)
			run_undo(er);
		entry_fail(er);
		finish_entry(pl, er, false);
	} else if (++er->next == ep->n_actions) {
		entry_succeed(er);
		finish_entry(pl, er, true);
	}
}

/* Not a failure: the entry stays provisioning and the next pass continues it without waiting
 * for a backoff. */
static void
interrupt(struct pipeline *pl, struct entry_run *er)
{
	free(er->rec->reason);
	er->rec->reason =
		strdup(pl->tripped ? "interrupted: a server did not answer; continues "
				     "at the next pass"
				   : "interrupted by shutdown; continues at the next pass");
	er->code[0] = '\0';
	finish_entry(pl, er, false);
}

/* An entry that has actions: its transition, then active (or done at once without any). */
static bool
start_entry(struct pipeline *pl, struct entry_run *er)
{
	const struct gp_entry_plan *ep = er->ep;
	struct gp_transitions t = {0};

	if (ep->n_changes > 0) {
		if (ep->to == GP_STATE_DECOMMISSIONED)
			gp_lifecycle_decommission_begin(er->rec, pl->p->o->now, &t);
		else
			gp_lifecycle_begin(er->rec, pl->p->o->now, &t);
		record_transitions(pl->p, er->e, &t, NULL);
	}
	if (ep->n_actions == 0) {
		entry_succeed(er);
		return finish_entry(pl, er, true), false;
	}
	er->active = true;
	pl->n_active++;
	pl->alone = ep->to == GP_STATE_DECOMMISSIONED;
	return true;
}

/*
 * Admits plan entry i: its record, and the outcomes that need no action (held, waiting,
 * refused). Returns whether it has actions to run (then it is active).
 */
static bool
admit(struct pipeline *pl, size_t i)
{
	struct pass *p = pl->p;
	const struct gp_entry_plan *ep = &p->res->plan->v[i];
	const struct gp_entry *e = &p->res->desired->v[ep->entry];
	struct entry_run *er = &pl->runs[i];

	*er = (struct entry_run){.p = p, .ep = ep, .e = e, .i = i, .waits = &pl->waits,
				 .verifiers = pl->verifiers, .admitted = true};
	if (i + 1 > pl->end)
		pl->end = i + 1;
	if (gp_state_upsert(p->state, e->key, p->o->now, &er->rec) < 0)
		return finish_entry(pl, er, false), false;
	er->secret = gp_observed_secret_mut(p->obs, e->secret_name);
	gp_record_observe(er->rec, ep, e, er->secret, p->o->now);
	if (ep->held)
		hold_entry(p, e, er->rec);
	else if (ep->waiting && ep->note)
		wait_entry(p, e, er->rec, ep->note);
	else if (!ep->waiting && ep->depends_on >= 0 && pl->failed[ep->depends_on])
		wait_entry(p, e, er->rec, ep->cascade_note);
	else if (ep->refused)
		return refuse_entry(er), finish_entry(pl, er, false), false;
	else if (!ep->waiting) {
		if (ep->retry && ep->from == GP_STATE_FAILED)
			note_retry(p, e, ep->retry);
		return start_entry(pl, er);
	}
	return finish_entry(pl, er, true), false;
}

/*
 * Admits entries in plan order while the window has room. An entry waits for the owner entry
 * that creates its database to finish (its cascade depends on how that ends), and the entries
 * after it are admitted meanwhile; a decommission runs alone, once every entry before it has
 * finished, and none after it starts before it has (its steps span several entries' objects).
 */
static void
admit_more(struct pipeline *pl)
{
	const struct gp_plan *plan = pl->p->res->plan;
	size_t limit = pl->next + 4 * PIPELINE_WINDOW;

	for (size_t i = pl->next; i < plan->n && i < limit; i++) {
		const struct gp_entry_plan *ep = &plan->v[i];

		if (pl->tripped || gpd_pass_stopping(pl->p) || pl->alone ||
		    pl->n_active >= PIPELINE_WINDOW)
			break;
		if (pl->runs[i].admitted)
			continue;
		if (ep->to == GP_STATE_DECOMMISSIONED) {
			if (i == pl->next && pl->n_active == 0)
				admit(pl, i);
			break;
		}
		if (ep->depends_on < 0 || pl->finished[ep->depends_on])
			admit(pl, i);
	}
	while (pl->next < plan->n && pl->runs[pl->next].admitted)
		pl->next++;
}

/* Starts the next action of each active entry that waits on Secrets Manager or a login;
 * settles what ended. Returns whether an entry's next action is on the master connection. */
static bool
start_others(struct pipeline *pl)
{
	bool pg = false;

	while (pl->first < pl->end && pl->finished[pl->first])
		pl->first++;
	for (size_t i = pl->first; i < pl->end; i++) {
		struct entry_run *er = &pl->runs[i];
		const struct gp_action *a;
		int r;

		if (er->active && er->ended)
			settle(pl, er, er->result);
		if (!er->active || er->busy)
			continue;
		if (pl->tripped || gpd_pass_stopping(pl->p)) {
			interrupt(pl, er);
			continue;
		}
		a = &er->ep->actions[er->next];
		if (lane_of(a) == LANE_PG) {
			pg = true;
			continue;
		}
		if (lane_of(a) == LANE_LOGIN &&
		    gpd_pg_logins_running(pl->waits.logins) >= GPD_PG_MAX_LOGINS)
			continue;
		r = run_action(er, a);
		if (r != ACT_STARTED)
			settle(pl, er, r);
	}
	return pg;
}

/* Runs one action on the master connection: the first entry in plan order that has one next.
 * Its statements wait through the pass's waiter, so that calls and logins move on meanwhile. */
static void
run_pg(struct pipeline *pl)
{
	for (size_t i = pl->first; i < pl->end; i++) {
		struct entry_run *er = &pl->runs[i];
		const struct gp_action *a;

		if (!er->active || er->busy || er->ended)
			continue;
		a = &er->ep->actions[er->next];
		if (lane_of(a) != LANE_PG)
			continue;
		settle(pl, er, run_action(er, a));
		return;
	}
}

static int
pipeline_init(struct pipeline *pl, struct pass *p)
{
	size_t n = p->res->plan->n + 1;
	struct gpd_pg_logins *logins = NULL;

	*pl = (struct pipeline){.p = p};
	pl->runs = calloc(n, sizeof(*pl->runs));
	pl->failed = calloc(n, sizeof(*pl->failed));
	pl->finished = calloc(n, sizeof(*pl->finished));
	if (!pl->runs || !pl->failed || !pl->finished || gpd_pg_logins_new(&p->target, &logins) < 0)
		return -ENOMEM;
	gpd_pass_waits_init(&pl->waits, p, logins);
	/* Without the thread, each verifier is computed when its statement is sent. */
	if (gpd_verifiers_new(&pl->verifiers) < 0)
		pl->verifiers = NULL;
	return 0;
}

static void
pipeline_release(struct pipeline *pl)
{
	gpd_pg_logins_free(pl->waits.logins);
	gpd_verifiers_free(pl->verifiers);
	free(pl->runs);
	free(pl->failed);
	free(pl->finished);
}

/*
 * Every entry of the plan, overlapped: each entry's actions run in their order (its secret
 * is written before its role takes the password, its database exists before its grants, its
 * login comes last), while the Secrets Manager calls and logins of other entries are in
 * flight. Statements on the master connection run one at a time, in plan order among the
 * entries ready for one.
 */
static int
run_pipeline(struct pipeline *pl)
{
	const struct gp_plan *plan = pl->p->res->plan;
	int r;

	gpd_pg_set_waiter(&pl->waits.waiter);
	for (;;) {
		admit_more(pl);
		if (start_others(pl)) {
			run_pg(pl);
			continue;
		}
		if (pl->n_active == 0 &&
		    (pl->next == plan->n || pl->tripped || gpd_pass_stopping(pl->p)))
			break;
		if (!gpd_sm_busy(pl->p->sm) && !gpd_pg_logins_running(pl->waits.logins)) {
			if (pl->n_active == 0)
				continue; /* every admitted entry finished: admit more */
			r = -EDEADLK; /* active entries, none with anything to do: a bug */
		} else {
			r = gpd_pass_wait(&pl->waits, -1, 0, UINT64_MAX);
		}
		if (r < 0) {
			gpd_pg_set_waiter(NULL);
			gpd_pass_error(pl->p, r,
				       "cannot wait for Secrets Manager or PostgreSQL: %s",
				       strerror(-r));
			return r;
		}
	}
	gpd_pg_set_waiter(NULL);
	return 0;
}

/* orphans: disable — an orphaned role loses its login; its entry's return restores it. */
static void
apply_orphan_action(struct pipeline *pl, const struct gp_action *a)
{
	struct gp_entry e = {.key = a->key, .username = a->role};
	struct entry_run er = {.p = pl->p, .e = &e, .waits = &pl->waits};
	struct gp_record dummy = {.state = GP_STATE_ACTIVE};
	int r;

	er.rec = &dummy;
	r = run_action_now(&er, a);
	report_action(&er, a, r, gpd_mono_ms() - er.t0);
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
	struct pipeline pl;
	int r;

	if (plan->refused) {
		/* The mass-change guard: nothing in this environment changes. */
		p->res->refused = true;
		gpd_pass_error(p, -EPERM, "%s", plan->refused);
		return -EPERM;
	}
	gp_state_mark_orphans(p->state, p->res->desired);
	r = pipeline_init(&pl, p);
	if (r >= 0)
		r = reserve_records(p);
	if (r < 0) {
		pipeline_release(&pl);
		gpd_pass_error(p, -ENOMEM, "cannot create the new entries' records: out of memory");
		return -ENOMEM;
	}
	r = run_pipeline(&pl);
	/* A tripped breaker leaves the orphans' actions for the next pass too: each would wait
	 * for the same server that stopped answering. */
	for (size_t i = 0; i < plan->n_orphan_actions && r >= 0 && !pl.tripped &&
			   !gpd_pass_stopping(p); i++)
		apply_orphan_action(&pl, &plan->orphan_actions[i]);
	pipeline_release(&pl);
	report_orphans(p);
	count_result(p);
	collect_secret_ages(p);
	if (p->audit)
		gpd_audit_sync(p->audit);
	return 0;
}
