/*
 * pg_apply.c — the PostgreSQL executors: one function per action kind that changes
 * PostgreSQL (pg.h lists them), each reading only its action and sending the statements of
 * lib/codec/sql.c over quoted identifiers. Passwords reach the server only as SCRAM-SHA-256
 * verifiers computed here with PQencryptPasswordConn(), wiped with the statement after use.
 *
 * Deliberately not here: choosing actions (lib/plan/), dispatching them and resolving their
 * credentials (apply.c), retrying (the pass schedules retries from err->transient).
 */
#include "pg_int.h"

#include <stdio.h>

#include "codec/sql.h"

/* Sends a statement a builder made (built: the builder's return), then frees it. */
static int
run_built(PGconn *c, int built, struct gp_buf *sql, struct gpd_error *err)
{
	int r;

	if (built == -ENOMEM)
		r = gpd_pg__oom(err);
	else if (built < 0)
		r = gpd_pg__err_set(err, built, "", false, "refused to build the statement (invalid name)");
	else
		r = gpd_pg__exec_sql(c, sql->p, err);
	gp_buf_release(sql);
	return r;
}

static int
role_read(PGconn *c, const char *role, struct gp_obs_role *ret, bool *found,
	  struct gpd_error *err)
{
	static const char sql[] =
		"SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication,"
		" rolbypassrls, rolinherit FROM pg_catalog.pg_roles WHERE rolname = $1";
	_cleanup_pqclear_ PGresult *res = NULL;
	int r = gpd_pg__exec_params(c, sql, 1, &role, &res, err);

	if (r < 0)
		return r;
	*found = PQntuples(res) == 1;
	if (!*found)
		return 0;
	*ret = (struct gp_obs_role){
		.login = gpd_pg__value_bool(res, 0, 0),
		.superuser = gpd_pg__value_bool(res, 0, 1),
		.createrole = gpd_pg__value_bool(res, 0, 2),
		.createdb = gpd_pg__value_bool(res, 0, 3),
		.replication = gpd_pg__value_bool(res, 0, 4),
		.bypassrls = gpd_pg__value_bool(res, 0, 5),
		.inherit = gpd_pg__value_bool(res, 0, 6),
	};
	return 0;
}

static int
alter_attrs(PGconn *c, const char *role, const struct gp_obs_role *cur, bool createdb,
	    struct gpd_error *err)
{
	struct gp_buf sql = {0};
	unsigned attrs = gp_sql_role_attrs_diff(cur, createdb);

	if (!attrs)
		return 0;
	return run_built(c, gp_sql_alter_role(&sql, role, attrs, createdb), &sql, err);
}

/*
 * CREATE ROLE (create) or ALTER ROLE ... PASSWORD with the SCRAM verifier of password: the one
 * made ahead (precomputed, may be NULL) or one computed here (PQencryptPasswordConn with an
 * explicit algorithm asks the server nothing), wiped, with the statement text, before
 * returning.
 */
static int
password_statement(PGconn *c, const char *role, const char *password, const char *precomputed,
		   bool create, bool createdb, struct gpd_error *err)
{
	struct gp_buf sql = {0};
	char *verifier = NULL;
	const char *v = precomputed;
	int r;

	if (gp_isempty(password) || gp_isempty(role))
		return gpd_pg__err_set(err, -EINVAL, "", false, "no password to set");
	if (!v) {
		v = verifier = PQencryptPasswordConn(c, password, role, "scram-sha-256");
		if (!v)
			return gpd_pg__err_set(err, -ENOMEM, "", false, PQerrorMessage(c));
	}
	r = create ? gp_sql_create_role(&sql, role, createdb, v)
		   : gp_sql_alter_role_password(&sql, role, v);
	if (verifier) {
		explicit_bzero(verifier, strlen(verifier));
		PQfreemem(verifier);
	}
	if (r == -ENOMEM)
		r = gpd_pg__oom(err);
	else if (r < 0)
		r = gpd_pg__err_set(err, r, "", false, "refused to build the password statement");
	else
		r = gpd_pg__exec_sql(c, sql.p, err);
	gp_buf_release_secure(&sql);
	return r;
}

/* The role exists after all (42710): made since the observation. Its attributes are corrected
 * and its password set instead, the same outcome. */
static int
create_role_existing(PGconn *c, const struct gp_action *a, const char *password,
		     const char *verifier, struct gpd_error *err)
{
	struct gp_obs_role cur;
	bool found;
	int r = role_read(c, a->role, &cur, &found, err);

	if (r < 0)
		return r;
	if (!found) /* dropped again meanwhile: the next pass plans it anew */
		return gpd_pg__err_set(err, -ENOENT, "42704", true, "role does not exist");
	r = alter_attrs(c, a->role, &cur, a->createdb, err);
	if (r < 0 || a->cred == GP_CRED_NONE)
		return r;
	return password_statement(c, a->role, password, verifier, false, a->createdb, err);
}

/*
 * The observation, made under the environment's lock, found no such role: CREATE ROLE at
 * once, without a probe of its own. Should someone have made it by hand since, the failed
 * statement (logged by the server with its text: a SCRAM verifier of a random password, never
 * the password) is followed by the repair of an existing role.
 */
int
gpd_pg_create_role(const struct gpd_pg_session *s, const struct gp_action *a,
		   const char *password, struct gpd_error *err)
{
	PGconn *c = s->master;
	struct gp_buf sql = {0};
	int r;

	if (a->cred == GP_CRED_NONE)
		r = run_built(c, gp_sql_create_role_nopassword(&sql, a->role, a->createdb), &sql,
			      err);
	else
		r = password_statement(c, a->role, password, s->verifier, true, a->createdb, err);
	if (r < 0 && strcmp(err->code, "42710") == 0)
		return create_role_existing(c, a, password, s->verifier, err);
	return r;
}

int
gpd_pg_alter_role(const struct gpd_pg_session *s, const struct gp_action *a,
		  const char *password, struct gpd_error *err)
{
	struct gp_obs_role cur;
	bool found;
	int r = role_read(s->master, a->role, &cur, &found, err);

	if (r < 0)
		return r;
	if (!found) /* dropped since the observation: the next pass plans CREATE_ROLE */
		return gpd_pg__err_set(err, -ENOENT, "42704", true, "role does not exist");
	return alter_attrs(s->master, a->role, &cur, a->createdb, err);
}

int
gpd_pg_set_password(const struct gpd_pg_session *s, const struct gp_action *a,
		    const char *password, struct gpd_error *err)
{
	return password_statement(s->master, a->role, password, s->verifier, false, a->createdb,
				  err);
}

int
gpd_pg_comment_role(const struct gpd_pg_session *s, const struct gp_action *a,
		    const char *password, struct gpd_error *err)
{
	struct gp_buf sql = {0};

	return run_built(s->master, gp_sql_comment_role(&sql, a->role, s->env, a->key), &sql,
			 err);
}

int
gpd_pg_grant_membership(const struct gpd_pg_session *s, const struct gp_action *a,
			const char *password, struct gpd_error *err)
{
	struct gp_buf sql = {0};

	return run_built(s->master, gp_sql_grant_membership(&sql, a->owner, a->role), &sql, err);
}

int
gpd_pg_set_role_default(const struct gpd_pg_session *s, const struct gp_action *a,
			const char *password, struct gpd_error *err)
{
	struct gp_buf sql = {0};

	return run_built(s->master, gp_sql_alter_role_set_role(&sql, a->role, a->owner), &sql, err);
}

/* Without a probe of its own (the observation found no such database); one made since is
 * success, as before: the next pass checks its owner. */
int
gpd_pg_create_database(const struct gpd_pg_session *s, const struct gp_action *a,
		       const char *password, struct gpd_error *err)
{
	PGconn *c = s->master;
	struct gp_buf stmt = {0};
	int r;

	/* Sent on its own, outside any transaction block, as CREATE DATABASE requires. */
	r = run_built(c, gp_sql_create_database(&stmt, a->database, a->owner, PQserverVersion(c)),
		      &stmt, err);
	if (r < 0 && strcmp(err->code, "42P04") == 0) {
		*err = (struct gpd_error){0};
		return 0;
	}
	return r;
}

int
gpd_pg_alter_database_owner(const struct gpd_pg_session *s, const struct gp_action *a,
			    const char *password, struct gpd_error *err)
{
	struct gp_buf sql = {0};

	return run_built(s->master, gp_sql_alter_database_owner(&sql, a->database, a->owner),
			 &sql, err);
}

int
gpd_pg_revoke_public(const struct gpd_pg_session *s, const struct gp_action *a,
		     const char *password, struct gpd_error *err)
{
	struct gp_buf sql = {0};

	return run_built(s->master, gp_sql_revoke_public(&sql, a->database), &sql, err);
}

int
gpd_pg_grant_connect(const struct gpd_pg_session *s, const struct gp_action *a,
		     const char *password, struct gpd_error *err)
{
	struct gp_buf sql = {0};

	return run_built(s->master, gp_sql_grant_connect(&sql, a->database, a->role), &sql, err);
}

/* Records privileges that GRANT/REVOKE skipped with a warning instead of an error. */
struct skipped {
	bool seen;
	char sqlstate[6];
	char message[256];
};

static void
notice_skipped(void *arg, const PGresult *res)
{
	struct skipped *s = arg;
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	/* 01007 privilege_not_granted, 01006 privilege_not_revoked */
	if (s->seen || !state || (strcmp(state, "01007") != 0 && strcmp(state, "01006") != 0))
		return;
	s->seen = true;
	snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", state);
	snprintf(s->message, sizeof(s->message), "%s", msg ? msg : "privileges not changed");
}

static int
run_transaction(PGconn *c, const struct gp_strv *stmts, struct gpd_error *err)
{
	struct gpd_error ignored;
	int r = gpd_pg__exec_sql(c, "BEGIN", err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < stmts->n && r >= 0; i++)
		r = gpd_pg__exec_sql(c, stmts->v[i], err);
	if (r >= 0)
		return gpd_pg__exec_sql(c, "COMMIT", err);
	if (PQstatus(c) == CONNECTION_OK)
		gpd_pg__exec_sql(c, "ROLLBACK", &ignored);
	return r;
}

/*
 * Editor/reader privileges, inside the database. A privilege the database owner cannot give
 * (an object someone else owns) is only a warning for the server; here it is an error, or
 * the entry would be re-planned forever without anyone being told.
 */
int
gpd_pg_apply_grants(const struct gpd_pg_session *s, const struct gp_action *a,
		    const char *password, struct gpd_error *err)
{
	_cleanup_(gp_strv_release) struct gp_strv stmts = {0};
	_cleanup_pqfinish_ PGconn *c = NULL;
	struct skipped skipped = {0};
	int r;

	r = gp_sql_access_statements(&stmts, a->access, a->owner, a->role);
	if (r == -ENOMEM)
		return gpd_pg__oom(err);
	if (r < 0)
		return gpd_pg__err_set(err, r, "", false, "no editor/reader privileges to apply");
	r = gpd_pg__connect_as(s->t, s->t->user, s->t->password, a->database, &c, err);
	if (r < 0)
		return r;
	PQsetNoticeReceiver(c, notice_skipped, &skipped);
	r = run_transaction(c, &stmts, err);
	if (r >= 0 && skipped.seen)
		r = gpd_pg__err_set(err, -EACCES, skipped.sqlstate, false, skipped.message);
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Decommissioning (DESIGN §4.5) and disabled orphans
 */

/* Ends the sessions of a database or of a role (not this one). Sessions the master may not
 * signal make the statement fail with the server's reason. */
static int
terminate(PGconn *c, const char *db, const char *role, struct gpd_error *err)
{
	static const char sql[] =
		"SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity"
		" WHERE (datname = $1 OR usename = $2) AND pid <> pg_catalog.pg_backend_pid()";
	const char *params[2] = {db ? db : "", role ? role : ""};
	_cleanup_pqclear_ PGresult *res = NULL;

	return gpd_pg__exec_params(c, sql, 2, params, &res, err);
}

int
gpd_pg_lock_database(const struct gpd_pg_session *s, const struct gp_action *a,
		     const char *password, struct gpd_error *err)
{
	struct gp_buf sql = {0};
	int r = run_built(s->master, gp_sql_revoke_connect(&sql, a->database, NULL), &sql, err);

	return r < 0 ? r : terminate(s->master, a->database, NULL, err);
}

int
gpd_pg_revoke_connect(const struct gpd_pg_session *s, const struct gp_action *a,
		      const char *password, struct gpd_error *err)
{
	struct gp_buf sql = {0};

	return run_built(s->master, gp_sql_revoke_connect(&sql, a->database, a->role), &sql, err);
}

int
gpd_pg_disable_role(const struct gpd_pg_session *s, const struct gp_action *a,
		    const char *password, struct gpd_error *err)
{
	struct gp_buf sql = {0};
	int r = run_built(s->master, gp_sql_role_nologin(&sql, a->role), &sql, err);

	return r < 0 ? r : terminate(s->master, NULL, a->role, err);
}

int
gpd_pg_drop_database(const struct gpd_pg_session *s, const struct gp_action *a,
		     const char *password, struct gpd_error *err)
{
	struct gp_buf sql = {0};

	/* Outside any transaction block, as DROP DATABASE requires; IF EXISTS: idempotent. */
	return run_built(s->master, gp_sql_drop_database(&sql, a->database), &sql, err);
}

/* In a->database: its objects go to a->owner (the master), then its privileges there go. */
int
gpd_pg_drop_owned(const struct gpd_pg_session *s, const struct gp_action *a,
		  const char *password, struct gpd_error *err)
{
	_cleanup_(gp_strv_release) struct gp_strv stmts = {0};
	_cleanup_pqfinish_ PGconn *c = NULL;
	struct gp_buf sql = {0};
	int r = gp_sql_reassign_owned(&sql, a->role, a->owner);

	if (r >= 0)
		r = gp_strv_push(&stmts, sql.p);
	sql.len = 0;
	if (r >= 0 && (r = gp_sql_drop_owned(&sql, a->role)) >= 0)
		r = gp_strv_push(&stmts, sql.p);
	gp_buf_release(&sql);
	if (r == -ENOMEM)
		return gpd_pg__oom(err);
	if (r < 0)
		return gpd_pg__err_set(err, r, "", false, "refused to build the statement");
	r = gpd_pg__connect_as(s->t, s->t->user, s->t->password, a->database, &c, err);
	if (r == -ENOENT)
		return 0; /* the database went meanwhile, and its dependencies with it */
	return r < 0 ? r : run_transaction(c, &stmts, err);
}

int
gpd_pg_drop_role(const struct gpd_pg_session *s, const struct gp_action *a,
		 const char *password, struct gpd_error *err)
{
	struct gp_buf sql = {0};

	return run_built(s->master, gp_sql_drop_role(&sql, a->role), &sql, err);
}
