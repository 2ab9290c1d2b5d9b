/*
 * pg.h — gprdsd's PostgreSQL client: connect, observe, apply one action, verify a login.
 *
 * Every call blocks (a pass runs on a libuv worker thread) and every call is bounded:
 *  - connecting: our own deadline of connect_timeout_ms around the whole handshake (TCP, TLS,
 *    authentication), plus TCP keepalives for the life of the connection;
 *  - each statement: statement_timeout, set for the session in the startup packet
 *    (options=-c statement_timeout=<ms>), so the server cancels a statement that runs long.
 * Sessions identify themselves as application_name=gprdsd. Connection parameters always go
 * through libpq's keyword/value arrays, never through a conninfo string.
 *
 * Errors: functions return 0 on success or a negative errno, and fill *err (when err is not
 * NULL) with the SQLSTATE, the server's primary message (never the statement text, a
 * password or a verifier) and whether the error is worth retrying soon:
 *   -ECONNREFUSED  could not connect, or the connection broke (class 08, 57P01-57P03, 53xxx
 *                  on connect, network and TLS failures)                   transient
 *   -ETIMEDOUT     connect deadline passed, or statement_timeout (57014)   transient
 *   -EACCES        authentication failed (28000, 28P01)                    permanent
 *                  insufficient privilege (42501)    permanent; transient when it refused a
 *                  connection (CONNECT may come from an action still to run)
 *   -ENOENT        the database to connect to does not exist (3D000)       transient (as above)
 *   -EIO           any other server error; transient for 40001, 40P01 and class 53
 *   -EINVAL        bad arguments (a name sql.c refuses, a missing password, an action kind
 *                  this module does not apply); -ENOMEM out of memory      permanent
 * In short: a failed connection is transient unless authentication failed.
 * SQLSTATEs that libpq cannot report (a network failure before the server spoke) are filled
 * in as 08001 (could not connect) or 08006 (connection lost).
 *
 * This module never logs: the pass decides what to log and audit.
 */
#ifndef GPD_PG_H
#define GPD_PG_H

#include <libpq-fe.h>

#include "error.h"

#include "model/desired.h"
#include "model/observed.h"
#include "plan/plan.h"

/* Where and how to connect. All strings are borrowed; NULL or "" means "not set". */
struct gpd_pg_target {
	const char *host;
	const char *port;	       /* as a string, like the master secret's "port" */
	const char *user;	       /* the master user */
	const char *password;	       /* the master password */
	const char *dbname;	       /* the master database */
	const char *sslmode;	       /* e.g. verify-full; NULL: libpq's default (prefer) */
	const char *sslrootcert;       /* NULL: libpq's default (~/.postgresql/root.crt) */
	uint64_t connect_timeout_ms;   /* 0: 10 s; never unbounded */
	uint64_t statement_timeout_ms; /* 0: 30 s; never unbounded */
};

/* Errors are struct gpd_error (error.h); code is the SQLSTATE. */

/*
 * Fills err from the result of a statement that failed (res may be NULL: libpq ran out of
 * memory) and returns the negative errno it maps to: the SQLSTATE's class (see classify() in
 * pg.c; 42501 is -EACCES, permanent), or -ECONNREFUSED (transient, SQLSTATE 08006) when the
 * connection broke, with libpq's message.
 */
int gpd_pg_result_error(PGconn *conn, const PGresult *res, struct gpd_error *err);

/*
 * Connects to t as t->user, to dbname_override when it is not NULL (else t->dbname).
 * On success *ret is a connection the caller closes with PQfinish(). On failure *ret is left
 * untouched and err says why (auth failures are permanent, everything else transient).
 */
int gpd_pg_connect(const struct gpd_pg_target *t, const char *dbname_override, PGconn **ret,
		   struct gpd_error *err);

/*
 * Reads PostgreSQL's side of the observed state into obs: master_user, master_superuser,
 * roles (not pg_*), databases (not templates) with owner and effective ACL, memberships, and
 * the in-database access of the editor/reader entries of d that may be provisioned (hold
 * NONE) in the databases named by check_dbs (NULL: every database that has such entries)
 * that exist. Round trips: four on master, whatever the number of databases, plus one
 * connection and one query per database checked; each database checked is added to
 * obs->access_checked. A role that does not exist has no access row (not an error).
 *
 * A database that master cannot enter (-EACCES: no CONNECT or pg_hba refuses; -ENOENT:
 * dropped meanwhile) gets no access rows: the plan then tries APPLY_GRANTS for its
 * entries, and that action fails with the real error, entry by entry. A transient failure
 * anywhere else fails the whole call.
 *
 * obs comes from gp_observed_new() (the caller may fill the secrets before or after); its
 * PostgreSQL fields are replaced only on success, and arrays are sorted (gp_observed_sort()).
 */
int gpd_pg_observe(PGconn *master, const struct gpd_pg_target *t, const struct gp_desired *d,
		   const struct gp_strv *check_dbs, struct gp_observed *obs,
		   struct gpd_error *err);

/*
 * Applies one action of entry e in environment env (for COMMENT_ROLE). Handles every kind of
 * enum gp_action_kind except the secret actions and VERIFY_LOGIN (-EINVAL for those; the
 * pass does them with sm.c and gpd_pg_verify_login()). Fields read, falling back to e's when
 * the action leaves them NULL:
 *   CREATE_ROLE, SET_PASSWORD  a->role (e->username); password is the plaintext password from
 *              the secret (required). Only a SCRAM-SHA-256 verifier computed here with
 *              PQencryptPasswordConn() reaches the server; the verifier and the statement
 *              holding it are wiped after use. CREATE_ROLE first checks that the role does not
 *              exist (a failing statement is logged with its text); when it does exist, its
 *              attributes are corrected and its password set instead (same outcome).
 *   ALTER_ROLE     a->role; re-reads the role's attributes and changes only those that differ
 *                  (createdb per e->createdb).
 *   COMMENT_ROLE   a->role; "managed by gprdsd: env=<env> key=<e->key>".
 *   GRANT_MEMBERSHIP  GRANT a->object (e->owner_role) TO CURRENT_USER.
 *   CREATE_DATABASE   a->database (e->database) owned by a->object (e->username); outside any
 *                  transaction (the server requires it); an existing database is success.
 *   ALTER_DATABASE_OWNER  a->database to a->object (e->username).
 *   REVOKE_PUBLIC  a->database.
 *   GRANT_CONNECT  a->database to a->role.
 *   APPLY_GRANTS   connects to a->database as master and runs the statements of
 *                  gp_sql_access_statements(e->access, e->owner_role, a->role) in one
 *                  transaction (ROLLBACK on error).
 * master is a connection to the master database (gpd_pg_connect(t, NULL, ...)); t is needed
 * for APPLY_GRANTS's connection.
 */
int gpd_pg_apply(PGconn *master, const struct gpd_pg_target *t, const char *env,
		 const struct gp_entry *e, const struct gp_action *a, const char *password,
		 struct gpd_error *err);

/*
 * Logs in to dbname (NULL: t->dbname) on t's server as user with password, then closes the
 * connection. 0: the credentials work. -EACCES: they do not (or the role may not connect to
 * dbname). Other errors as for gpd_pg_connect().
 */
int gpd_pg_verify_login(const struct gpd_pg_target *t, const char *user, const char *password,
			const char *dbname, struct gpd_error *err);

/* Statements sent by this process so far (all threads), for benchmarks and tests. */
unsigned long gpd_pg_statements(void);
/* Counts a statement sent outside this module (the HA lock connection). */
void gpd_pg_count_statement(void);
/* Connection attempts that ended (connected, refused or timed out), all threads: with the
 * statements, what the daemon's watchdog counts as progress. */
unsigned long gpd_pg_connections(void);

#endif
