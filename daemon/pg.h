/*
 * pg.h — gprdsd's PostgreSQL client: connect, observe, execute actions, verify logins
 * (pg.c, pg_observe.c, pg_apply.c).
 *
 * Every call blocks (a pass runs on a libuv worker thread), except the login checks, which
 * run several at once; while a call waits, the thread's waiter (gpd_pg_set_waiter()) may do
 * other work. Every call is bounded:
 *  - connecting: our own deadline of connect_timeout_ms around the whole handshake (TCP, TLS,
 *    authentication), plus TCP keepalives for the life of the connection;
 *  - each statement: statement_timeout, set for the session in the startup packet
 *    (options=-c statement_timeout=<ms>), so the server cancels a statement that runs long;
 *    and the client's own deadline of statement_timeout + 5 s (libpq's asynchronous API and
 *    poll()), past which the socket is shut and the statement fails with 57014: a server that
 *    stopped answering cancels nothing.
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
#include <poll.h>

#include "error.h"

#include "model/desired.h"
#include "model/observed.h"
#include "plan/action.h"

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

/* The databases where each of roles owns objects or holds privileges (pg_shdepend), into
 * obs->deps (sorted): one query on master, for the roles of decommissioned entries. */
int gpd_pg_observe_deps(PGconn *master, const struct gp_strv *roles, struct gp_observed *obs,
			struct gpd_error *err);

/*
 * The executors of the action kinds that change PostgreSQL (plan/action.h), one function a
 * kind with one signature, so that apply.c dispatches them through its table. Each reads only
 * the fields its kind's row names (all set by the planner):
 *   create_role      a->role, a->createdb; password (unless a->cred is NONE: a role without
 *                    a password, the alternating strategy's second role): only a SCRAM-SHA-256
 *                    verifier computed here reaches the server, and it is wiped with the
 *                    statement. No probe first: the plan saw no such role. When one was made
 *                    since (42710), corrects its attributes and sets its password instead
 *                    (same outcome).
 *   alter_role       a->role; re-reads the role and changes only the attributes that differ.
 *   set_password     a->role, password (as create_role).
 *   comment_role     a->role: gprdsd's marker for s->env and a->key (model/names.h).
 *   grant_membership GRANT a->owner TO a->role (the master, or an alternating second role).
 *   set_role_default ALTER ROLE a->role SET role = a->owner.
 *   create_database  a->database owned by a->owner, outside any transaction (the server
 *                    requires it); no probe first, and an existing database (42P04) is
 *                    success.
 *   alter_database_owner  a->database to a->owner.
 *   revoke_public    REVOKE ALL ON DATABASE a->database FROM PUBLIC.
 *   grant_connect    CONNECT, TEMPORARY on a->database to a->role.
 *   apply_grants     connects to a->database as the master and runs
 *                    gp_sql_access_statements(a->access, a->owner, a->role) in one transaction
 *                    (ROLLBACK on error); a privilege the server skipped is an error.
 * password is NULL for every kind but create_role and set_password. err must not be NULL.
 */
struct gpd_pg_session {
	PGconn *master;                  /* a connection to the master database */
	const struct gpd_pg_target *t;   /* for connections into other databases */
	const char *env;
	const char *verifier;            /* the SCRAM verifier of the action's password, made
					  * ahead (verifiers.h); NULL: made when it is sent */
};
typedef int (*gpd_pg_exec_fn)(const struct gpd_pg_session *s, const struct gp_action *a,
			      const char *password, struct gpd_error *err);
int gpd_pg_create_role(const struct gpd_pg_session *s, const struct gp_action *a,
		       const char *password, struct gpd_error *err);
int gpd_pg_alter_role(const struct gpd_pg_session *s, const struct gp_action *a,
		      const char *password, struct gpd_error *err);
int gpd_pg_set_password(const struct gpd_pg_session *s, const struct gp_action *a,
			const char *password, struct gpd_error *err);
int gpd_pg_comment_role(const struct gpd_pg_session *s, const struct gp_action *a,
			const char *password, struct gpd_error *err);
int gpd_pg_grant_membership(const struct gpd_pg_session *s, const struct gp_action *a,
			    const char *password, struct gpd_error *err);
int gpd_pg_set_role_default(const struct gpd_pg_session *s, const struct gp_action *a,
			    const char *password, struct gpd_error *err);
int gpd_pg_create_database(const struct gpd_pg_session *s, const struct gp_action *a,
			   const char *password, struct gpd_error *err);
int gpd_pg_alter_database_owner(const struct gpd_pg_session *s, const struct gp_action *a,
				const char *password, struct gpd_error *err);
int gpd_pg_revoke_public(const struct gpd_pg_session *s, const struct gp_action *a,
			 const char *password, struct gpd_error *err);
int gpd_pg_grant_connect(const struct gpd_pg_session *s, const struct gp_action *a,
			 const char *password, struct gpd_error *err);
int gpd_pg_apply_grants(const struct gpd_pg_session *s, const struct gp_action *a,
			const char *password, struct gpd_error *err);
/* Decommissioning (DESIGN §4.5):
 *   lock_database   REVOKE CONNECT, TEMPORARY FROM PUBLIC; end the database's sessions.
 *   revoke_connect  the same from a->role.
 *   disable_role    ALTER ROLE a->role NOLOGIN; end its sessions (also orphans: disable).
 *   drop_database   DROP DATABASE IF EXISTS a->database WITH (FORCE).
 *   drop_owned      connected to a->database: REASSIGN OWNED BY a->role TO a->owner, DROP
 *                   OWNED BY a->role, in one transaction; a database gone meanwhile is done.
 *   drop_role       DROP ROLE IF EXISTS a->role. */
int gpd_pg_lock_database(const struct gpd_pg_session *s, const struct gp_action *a,
			 const char *password, struct gpd_error *err);
int gpd_pg_revoke_connect(const struct gpd_pg_session *s, const struct gp_action *a,
			  const char *password, struct gpd_error *err);
int gpd_pg_disable_role(const struct gpd_pg_session *s, const struct gp_action *a,
			const char *password, struct gpd_error *err);
int gpd_pg_drop_database(const struct gpd_pg_session *s, const struct gp_action *a,
			 const char *password, struct gpd_error *err);
int gpd_pg_drop_owned(const struct gpd_pg_session *s, const struct gp_action *a,
		      const char *password, struct gpd_error *err);
int gpd_pg_drop_role(const struct gpd_pg_session *s, const struct gp_action *a,
		     const char *password, struct gpd_error *err);

/*
 * Login checks, up to GPD_PG_MAX_LOGINS at once, each a connection to t's server, made on a
 * thread of its own (the SCRAM exchange's PBKDF2 is CPU the pass's thread does not spend) and
 * closed as soon as it is made, bounded by t's connect deadline. The caller polls one pipe
 * with its own sockets (e.g. with Secrets Manager's transfers, gpd_sm_wait()):
 *   gpd_pg_logins_start()    user with password to dbname (NULL: t->dbname), all three
 *                            copied; -EBUSY when GPD_PG_MAX_LOGINS are under way.
 *                            done(arg, r, err) comes later, from gpd_pg_logins_advance(),
 *                            exactly once: r 0 when the credentials work, -EACCES when they
 *                            do not (or the role may not connect to dbname), other errors as
 *                            for gpd_pg_connect().
 *   gpd_pg_logins_fds()      the one fd to poll while logins are under way (0 or 1 filled):
 *                            readable when one has ended.
 *   gpd_pg_logins_advance()  after the poll of that fd: ends the logins that are done (each
 *                            thread keeps its own deadline) and calls their done(), which may
 *                            start another.
 * t is borrowed for the life of the set; gpd_pg_logins_free() ends what is under way (each
 * thread gives up at its next wait) without calling done().
 */
#define GPD_PG_MAX_LOGINS 4
struct gpd_pg_logins;
typedef void (*gpd_pg_login_fn)(void *arg, int r, const struct gpd_error *err);
int gpd_pg_logins_new(const struct gpd_pg_target *t, struct gpd_pg_logins **ret);
void gpd_pg_logins_free(struct gpd_pg_logins *ls);
int gpd_pg_logins_start(struct gpd_pg_logins *ls, const char *user, const char *password,
			const char *dbname, gpd_pg_login_fn done, void *arg);
size_t gpd_pg_logins_fds(const struct gpd_pg_logins *ls, struct pollfd *fds);
void gpd_pg_logins_advance(struct gpd_pg_logins *ls, const struct pollfd *fds, size_t n_fds);
/* Logins under way. */
size_t gpd_pg_logins_running(const struct gpd_pg_logins *ls);

/*
 * How this thread waits for a server while a statement or a connection of this module is
 * under way: wait(arg, fd, events, timeout_ms) returns > 0 when fd is ready, 0 when it is not
 * (yet: it may return early, having done other work, e.g. moved Secrets Manager transfers and
 * login checks on) or -errno. NULL (the default): poll(2) alone. The deadlines of pg.h hold
 * either way. A waiter must not use the connection being waited for.
 */
struct gpd_pg_waiter {
	int (*wait)(void *arg, int fd, short events, uint64_t timeout_ms);
	void *arg;
};
void gpd_pg_set_waiter(const struct gpd_pg_waiter *w);

/* Statements sent by this process so far (all threads), for benchmarks and tests. */
unsigned long gpd_pg_statements(void);
/* Counts a statement sent outside this module. */
void gpd_pg_count_statement(void);
/* One statement with n text parameters on a connection from gpd_pg_connect(), counted and
 * bounded like every statement of this module (statement_timeout, and the client's own
 * deadline past it: a frozen server ends in -ETIMEDOUT, SQLSTATE 57014, with the socket shut).
 * *ret (optional) gets the result on success; the caller PQclear()s it. */
int gpd_pg_exec(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **ret,
		struct gpd_error *err);
/* Connection attempts that ended (connected, refused or timed out), all threads: with the
 * statements, what the daemon's watchdog counts as progress. */
unsigned long gpd_pg_connections(void);

#endif
