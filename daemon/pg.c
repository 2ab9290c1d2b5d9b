/*
 * pg.c — talking to PostgreSQL with libpq: bounded connections, the observation queries,
 * applying one planned action, and login checks.
 *
 * What it does: every call blocks with a bound (our connect deadline, the server's
 * statement_timeout, TCP keepalives); every value in a query is a bound parameter, and every
 * DDL text comes from lib/sql.c over quoted identifiers. Passwords reach the server only as
 * SCRAM verifiers computed here, and the buffers that held them are wiped.
 *
 * What it deliberately does not do: decide anything (plan.c decides which actions to run and
 * in which order), retry (the pass schedules retries from err->transient), log or audit (the
 * pass does, with the error this module fills in), or touch Secrets Manager.
 */
#include "pg.h"

#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "codec/sql.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_STATEMENT_TIMEOUT_MS 30000

static atomic_ulong statements_sent;
static atomic_ulong connections_made;

unsigned long
gpd_pg_connections(void)
{
	return atomic_load_explicit(&connections_made, memory_order_relaxed);
}

unsigned long
gpd_pg_statements(void)
{
	return atomic_load_explicit(&statements_sent, memory_order_relaxed);
}

void
gpd_pg_count_statement(void)
{
	atomic_fetch_add_explicit(&statements_sent, 1, memory_order_relaxed);
}

static void
pqclearp(PGresult **p)
{
	PQclear(*p);
	*p = NULL;
}
#define _cleanup_pqclear_ _cleanup_(pqclearp)

static void
pqfinishp(PGconn **p)
{
	if (*p)
		PQfinish(*p);
	*p = NULL;
}
#define _cleanup_pqfinish_ _cleanup_(pqfinishp)

/* ---------------------------------------------------------------------------------------
 * Errors
 */

/* Copies the first line of msg (libpq adds DETAIL/HINT/LOCATION lines and a newline). */
static void
err_message(struct gpd_error *err, const char *msg)
{
	size_t n;

	if (!msg || !*msg)
		msg = "unknown error";
	n = strcspn(msg, "\n");
	if (n >= sizeof(err->message))
		n = sizeof(err->message) - 1;
	memcpy(err->message, msg, n);
	err->message[n] = '\0';
	/*
	 * A syntax error quotes the token it stopped at, which could be the verifier literal.
	 * Builders make that impossible, but a verifier must never reach a log, so be sure.
	 */
	if (strstr(err->message, "SCRAM-SHA-256$"))
		snprintf(err->message, sizeof(err->message),
			 "error in a password statement (server message withheld)");
}

static int
err_set(struct gpd_error *err, int r, const char *sqlstate, bool transient, const char *msg)
{
	snprintf(err->code, sizeof(err->code), "%s", sqlstate ? sqlstate : "");
	err->transient = transient;
	err_message(err, msg);
	return r;
}

/*
 * SQLSTATE → errno and transient (see pg.h). connecting: the error ended a connection
 * attempt, where everything but an authentication failure is worth retrying (the database
 * or the privilege to enter it may be the work of an action still to come).
 */
static int
classify(const char *s, bool connecting, bool *transient)
{
	int r;

	if (strncmp(s, "28", 2) == 0) {
		*transient = false;
		return -EACCES;
	}
	if (strncmp(s, "08", 2) == 0 || strcmp(s, "57P01") == 0 || strcmp(s, "57P02") == 0 ||
	    strcmp(s, "57P03") == 0 || (connecting && strncmp(s, "53", 2) == 0))
		r = -ECONNREFUSED;
	else if (strcmp(s, "57014") == 0)
		r = -ETIMEDOUT;
	else if (strcmp(s, "42501") == 0)
		r = -EACCES;
	else if (strcmp(s, "3D000") == 0)
		r = -ENOENT;
	else
		r = -EIO;
	*transient = connecting || r == -ECONNREFUSED || r == -ETIMEDOUT ||
		     strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 || strncmp(s, "53", 2) == 0;
	return r;
}

int
gpd_pg_result_error(PGconn *conn, const PGresult *res, struct gpd_error *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	bool transient;
	int r;

	if (state && strlen(state) == 5) {
		r = classify(state, false, &transient);
		return err_set(err, r, state, transient, msg);
	}
	/* No SQLSTATE: libpq itself failed, typically because the connection broke. */
	if (PQstatus(conn) == CONNECTION_BAD)
		return err_set(err, -ECONNREFUSED, "08006", true, PQerrorMessage(conn));
	if (!res)
		return err_set(err, -ENOMEM, "", false, "out of memory");
	return err_set(err, -EIO, "", false,
		       msg ? msg
			   : (*PQresultErrorMessage(res) ? PQresultErrorMessage(res)
							 : "unexpected result from server"));
}

static bool
is_sqlstate(const char *p)
{
	for (int i = 0; i < 5; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'A' && p[i] <= 'Z')))
			return false;
	return true;
}

/*
 * libpq keeps no result for a failed connection, only text. With PQERRORS_VERBOSE the
 * server's errors read "<severity>:  <SQLSTATE>: <message>", whatever the server's language;
 * take the last one (libpq may have tried several ways to connect first).
 */
static const char *
find_sqlstate(const char *msg, char code[static 6])
{
	const char *found = NULL;

	for (const char *p = strstr(msg, ":  "); p; p = strstr(p + 1, ":  "))
		if (strlen(p) >= 3 + 5 + 2 && is_sqlstate(p + 3) && strncmp(p + 8, ": ", 2) == 0)
			found = p + 3;
	if (!found)
		return NULL;
	memcpy(code, found, 5);
	code[5] = '\0';
	return found + 7;
}

static int
err_from_connect(PGconn *conn, int r, uint64_t timeout_ms, struct gpd_error *err)
{
	const char *msg = conn ? PQerrorMessage(conn) : "out of memory";
	const char *text;
	char code[6], buf[96];
	bool transient;

	if (!conn)
		return err_set(err, -ENOMEM, "", false, msg);
	if (r == -ETIMEDOUT) {
		snprintf(buf, sizeof(buf), "timed out connecting after %" PRIu64 " ms", timeout_ms);
		return err_set(err, -ETIMEDOUT, "08001", true, buf);
	}
	text = find_sqlstate(msg, code);
	if (text) {
		r = classify(code, true, &transient);
		return err_set(err, r, code, transient, text);
	}
	/* The server never answered with an error: network, DNS or TLS trouble. */
	return err_set(err, -ECONNREFUSED, "08001", true, msg);
}

/* ---------------------------------------------------------------------------------------
 * Connections
 */

/* Notices are the pass's business, not stderr's: libpq's default would print them. */
static void
notice_ignore(void *arg, const PGresult *res)
{
	(void)arg;
	(void)res;
}

struct conn_params {
	const char *kw[20];
	const char *val[20];
	size_t n;
	char options[80];
	char tcp_user_timeout[24];
};

static void
param_add(struct conn_params *p, const char *kw, const char *val)
{
	if (gp_isempty(val))
		return;
	if (p->n + 1 >= ELEMENTSOF(p->kw))
		abort(); /* the table below is fixed: more parameters is a programming error */
	p->kw[p->n] = kw;
	p->val[p->n] = val;
	p->n++;
	p->kw[p->n] = NULL;
	p->val[p->n] = NULL;
}

static uint64_t
connect_timeout_ms(const struct gpd_pg_target *t)
{
	return t->connect_timeout_ms ? t->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
}

static void
params_fill(struct conn_params *p, const struct gpd_pg_target *t, const char *user,
	    const char *password, const char *dbname)
{
	uint64_t st =
		t->statement_timeout_ms ? t->statement_timeout_ms : DEFAULT_STATEMENT_TIMEOUT_MS;
	uint64_t ut = connect_timeout_ms(t) > 30000 ? connect_timeout_ms(t) : 30000;

	snprintf(p->options, sizeof(p->options), "-c statement_timeout=%" PRIu64, st);
	/* Unacknowledged data for this long means the peer is gone (keepalives need idleness). */
	snprintf(p->tcp_user_timeout, sizeof(p->tcp_user_timeout), "%" PRIu64, ut);
	param_add(p, "host", t->host);
	param_add(p, "port", t->port);
	param_add(p, "user", user);
	param_add(p, "password", password);
	param_add(p, "dbname", dbname);
	param_add(p, "sslmode", t->sslmode);
	param_add(p, "sslrootcert", t->sslrootcert);
	param_add(p, "application_name", "gprdsd");
	param_add(p, "client_encoding", "UTF8");
	param_add(p, "options", p->options);
	param_add(p, "keepalives", "1");
	param_add(p, "keepalives_idle", "30");
	param_add(p, "keepalives_interval", "10");
	param_add(p, "keepalives_count", "3");
	param_add(p, "tcp_user_timeout", p->tcp_user_timeout);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Drives PQconnectPoll() until done or deadline (libpq's own connect_timeout is only for
 * PQconnectdb*, and we need the non-blocking start to see the server's SQLSTATE). */
static int
connect_wait(PGconn *conn, uint64_t deadline)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	if (PQstatus(conn) == CONNECTION_BAD)
		return -ECONNREFUSED;
	for (;;) {
		struct pollfd pfd = {.fd = PQsocket(conn)};
		uint64_t now = now_ms();
		int n;

		if (st == PGRES_POLLING_OK)
			return 0;
		if (st == PGRES_POLLING_FAILED || pfd.fd < 0)
			return -ECONNREFUSED;
		if (now >= deadline)
			return -ETIMEDOUT;
		pfd.events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		n = poll(&pfd, 1, deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			st = PQconnectPoll(conn);
	}
}

static int
connect_as(const struct gpd_pg_target *t, const char *user, const char *password,
	   const char *dbname, PGconn **ret, struct gpd_error *err)
{
	struct conn_params p = {0};
	uint64_t timeout = connect_timeout_ms(t);
	PGconn *conn;
	int r;

	params_fill(&p, t, user, password, dbname);
	/* expand_dbname 0: a database name is only ever a name, never a conninfo string. */
	conn = PQconnectStartParams(p.kw, p.val, 0);
	if (!conn)
		return err_from_connect(NULL, -ENOMEM, timeout, err);
	PQsetNoticeReceiver(conn, notice_ignore, NULL);
	PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
	r = connect_wait(conn, now_ms() + timeout);
	atomic_fetch_add_explicit(&connections_made, 1, memory_order_relaxed);
	if (r < 0) {
		r = err_from_connect(conn, r, timeout, err);
		PQfinish(conn);
		return r;
	}
	PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
	*ret = conn;
	return 0;
}

static struct gpd_error *
err_or_dummy(struct gpd_error *err, struct gpd_error *dummy)
{
	err = err ? err : dummy;
	memset(err, 0, sizeof(*err));
	return err;
}

int
gpd_pg_connect(const struct gpd_pg_target *t, const char *dbname_override, PGconn **ret,
	       struct gpd_error *err)
{
	struct gpd_error dummy;

	err = err_or_dummy(err, &dummy);
	return connect_as(t, t->user, t->password, dbname_override ? dbname_override : t->dbname,
			  ret, err);
}

int
gpd_pg_verify_login(const struct gpd_pg_target *t, const char *user, const char *password,
		    const char *dbname, struct gpd_error *err)
{
	struct gpd_error dummy;
	PGconn *conn = NULL;
	int r;

	err = err_or_dummy(err, &dummy);
	if (gp_isempty(user) || gp_isempty(password))
		return err_set(err, -EINVAL, "", false, "no credentials to verify");
	r = connect_as(t, user, password, dbname ? dbname : t->dbname, &conn, err);
	if (r < 0)
		return r;
	PQfinish(conn);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Statements
 */

/* Sends one statement with text parameters; *ret (optional) gets the result on success. */
static int
exec_params(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **ret,
	    struct gpd_error *err)
{
	_cleanup_pqclear_ PGresult *res = NULL;
	ExecStatusType st;

	atomic_fetch_add_explicit(&statements_sent, 1, memory_order_relaxed);
	res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return gpd_pg_result_error(conn, res, err);
	if (ret)
		*ret = TAKE_PTR(res);
	return 0;
}

static int
exec_sql(PGconn *conn, const char *sql, struct gpd_error *err)
{
	return exec_params(conn, sql, 0, NULL, NULL, err);
}

static bool
value_bool(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

/* strdup of a column; SQL NULL gives NULL (and success). */
static int
value_dup(const PGresult *res, int row, int col, char **ret)
{
	if (PQgetisnull(res, row, col)) {
		*ret = NULL;
		return 0;
	}
	*ret = strdup(PQgetvalue(res, row, col));
	return *ret ? 0 : -ENOMEM;
}

/* A text[] value for a bound parameter: {"a","b"} with " and \ escaped. */
static int
text_array(struct gp_buf *b, const char *const *v, size_t n)
{
	int r = gp_buf_putc(b, '{');

	for (size_t i = 0; i < n && r >= 0; i++) {
		if (i)
			gp_buf_putc(b, ',');
		gp_buf_putc(b, '"');
		for (const char *p = v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				gp_buf_putc(b, '\\');
			gp_buf_putc(b, *p);
		}
		r = gp_buf_putc(b, '"');
	}
	if (r >= 0)
		r = gp_buf_putc(b, '}');
	return r;
}

static int
oom(struct gpd_error *err)
{
	return err_set(err, -ENOMEM, "", false, "out of memory");
}

static int
query(PGconn *conn, const char *sql, PGresult **ret, struct gpd_error *err)
{
	return exec_params(conn, sql, 0, NULL, ret, err);
}

/* ---------------------------------------------------------------------------------------
 * Observe: four queries on the master connection, then one per database with editors or
 * readers. Catalog names are schema-qualified so that a search_path cannot redirect them.
 */

static const char master_sql[] =
	"SELECT current_user, r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user";

static const char roles_sql[] =
	"SELECT r.rolname, r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolcreatedb,"
	" r.rolreplication, r.rolbypassrls, r.rolinherit,"
	" pg_catalog.shobj_description(r.oid, 'pg_authid')"
	" FROM pg_catalog.pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY 1";

/* One row per (database, grantee) of the effective ACL; a database whose ACL is empty has
 * one row with a NULL grantee. Grantee 0 is PUBLIC, written "". */
static const char databases_sql[] =
	"SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba),"
	" CASE WHEN a.grantee = 0 THEN '' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,"
	" coalesce(bool_or(a.privilege_type = 'CONNECT'), false),"
	" coalesce(bool_or(a.privilege_type = 'TEMPORARY'), false),"
	" coalesce(bool_or(a.privilege_type = 'CREATE'), false)"
	" FROM pg_catalog.pg_database d"
	" LEFT JOIN LATERAL pg_catalog.aclexplode(coalesce(d.datacl,"
	" pg_catalog.acldefault('d', d.datdba))) a ON true"
	" WHERE NOT d.datistemplate"
	" GROUP BY d.datname, d.datdba, a.grantee ORDER BY d.datname COLLATE \"C\"";

static const char members_sql[] =
	"SELECT DISTINCT r.rolname, m.rolname FROM pg_catalog.pg_auth_members a"
	" JOIN pg_catalog.pg_roles r ON r.oid = a.roleid"
	" JOIN pg_catalog.pg_roles m ON m.oid = a.member ORDER BY 1, 2";

/*
 * In one database: for each wanted (role, level) that exists, whether it has exactly the
 * level's privileges. spec lists, per level and object kind (r: tables and the like, S:
 * sequences), the privileges that must be held and those that must not. A relation dropped
 * while we look has NULL privileges, which count as right.
 */
static const char access_sql[] =
	"WITH spec(level, kind, need, deny) AS (VALUES"
	" ('editor', 'r', '{SELECT,INSERT,UPDATE,DELETE}'::text[], '{}'::text[]),"
	" ('editor', 'S', '{USAGE,SELECT}', '{}'),"
	" ('reader', 'r', '{SELECT}', '{INSERT,UPDATE,DELETE,TRUNCATE}'),"
	" ('reader', 'S', '{SELECT}', '{USAGE,UPDATE}')),"
	" want AS (SELECT r.oid AS roid, r.rolname, w.level"
	"  FROM unnest($1::text[], $2::text[]) AS w(name, level)"
	"  JOIN pg_catalog.pg_roles r ON r.rolname = w.name),"
	" ns AS (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = 'public'),"
	" rel AS (SELECT c.oid, CASE c.relkind WHEN 'S' THEN 'S' ELSE 'r' END AS kind"
	"  FROM pg_catalog.pg_class c WHERE c.relnamespace = (SELECT oid FROM ns)"
	"  AND c.relkind IN ('r', 'v', 'm', 'p', 'f', 'S')),"
	" dacl AS (SELECT d.defaclobjtype::text AS kind, a.grantee, a.privilege_type"
	"  FROM pg_catalog.pg_default_acl d, pg_catalog.aclexplode(d.defaclacl) a"
	"  WHERE d.defaclrole = (SELECT datdba FROM pg_catalog.pg_database"
	"   WHERE datname = pg_catalog.current_database())"
	"  AND d.defaclnamespace = (SELECT oid FROM ns)),"
	" bad AS (SELECT DISTINCT w.roid, c.kind FROM want w"
	"  JOIN spec s ON s.level = w.level JOIN rel c ON c.kind = s.kind"
	"  WHERE EXISTS (SELECT 1 FROM unnest(s.need || s.deny) AS p(priv)"
	"   WHERE (p.priv = ANY (s.need)) <> coalesce(CASE c.kind"
	"    WHEN 'S' THEN pg_catalog.has_sequence_privilege(w.roid, c.oid, p.priv)"
	"    ELSE pg_catalog.has_table_privilege(w.roid, c.oid, p.priv) END,"
	"    p.priv = ANY (s.need))))"
	" SELECT w.rolname,"
	" coalesce(pg_catalog.has_schema_privilege(w.roid, (SELECT oid FROM ns), 'USAGE'), false),"
	" NOT EXISTS (SELECT 1 FROM bad b WHERE b.roid = w.roid AND b.kind = 'r'),"
	" NOT EXISTS (SELECT 1 FROM bad b WHERE b.roid = w.roid AND b.kind = 'S'),"
	" NOT EXISTS (SELECT 1 FROM spec s WHERE s.level = w.level AND ("
	"  NOT s.need <@ ARRAY(SELECT x.privilege_type FROM dacl x"
	"   WHERE x.kind = s.kind AND x.grantee = w.roid)"
	"  OR s.deny && ARRAY(SELECT x.privilege_type FROM dacl x"
	"   WHERE x.kind = s.kind AND x.grantee = w.roid)))"
	" FROM want w ORDER BY w.rolname";

static int
observe_master(PGconn *c, struct gp_observed *o, struct gpd_error *err)
{
	_cleanup_pqclear_ PGresult *res = NULL;
	int r = query(c, master_sql, &res, err);

	if (r < 0)
		return r;
	if (PQntuples(res) != 1)
		return err_set(err, -EIO, "", false, "current user not found in pg_roles");
	if (value_dup(res, 0, 0, &o->master_user) < 0)
		return oom(err);
	o->master_superuser = value_bool(res, 0, 1);
	return 0;
}

static int
observe_roles(PGconn *c, struct gp_observed *o, struct gpd_error *err)
{
	_cleanup_pqclear_ PGresult *res = NULL;
	int r = query(c, roles_sql, &res, err), n;

	if (r < 0)
		return r;
	n = PQntuples(res);
	o->roles = calloc(n ? (size_t)n : 1, sizeof(*o->roles));
	if (!o->roles)
		return oom(err);
	o->n_roles = (size_t)n;
	for (int i = 0; i < n; i++) {
		struct gp_obs_role *x = &o->roles[i];

		if (value_dup(res, i, 0, &x->name) < 0 || value_dup(res, i, 8, &x->comment) < 0)
			return oom(err);
		x->login = value_bool(res, i, 1);
		x->superuser = value_bool(res, i, 2);
		x->createrole = value_bool(res, i, 3);
		x->createdb = value_bool(res, i, 4);
		x->replication = value_bool(res, i, 5);
		x->bypassrls = value_bool(res, i, 6);
		x->inherit = value_bool(res, i, 7);
	}
	return 0;
}

/* Rows [from, to) of databases_sql are one database. */
static int
database_fill(struct gp_obs_database *db, const PGresult *res, int from, int to)
{
	if (value_dup(res, from, 0, &db->name) < 0 || value_dup(res, from, 1, &db->owner) < 0)
		return -ENOMEM;
	db->grants = calloc((size_t)(to - from), sizeof(*db->grants));
	if (!db->grants)
		return -ENOMEM;
	for (int i = from; i < to; i++) {
		struct gp_obs_grant *g = &db->grants[db->n_grants];

		if (PQgetisnull(res, i, 2))
			continue; /* empty ACL: nobody holds anything */
		if (value_dup(res, i, 2, &g->grantee) < 0)
			return -ENOMEM;
		db->n_grants++;
		g->connect = value_bool(res, i, 3);
		g->temporary = value_bool(res, i, 4);
		g->create = value_bool(res, i, 5);
	}
	return 0;
}

static int
observe_databases(PGconn *c, struct gp_observed *o, struct gpd_error *err)
{
	_cleanup_pqclear_ PGresult *res = NULL;
	int r = query(c, databases_sql, &res, err), n;

	if (r < 0)
		return r;
	n = PQntuples(res);
	o->databases = calloc(n ? (size_t)n : 1, sizeof(*o->databases));
	if (!o->databases)
		return oom(err);
	for (int i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && gp_streq(PQgetvalue(res, j, 0), PQgetvalue(res, i, 0));
		     j++)
			;
		/* Counted before filling, so that a half-filled entry is still freed. */
		o->n_databases++;
		if (database_fill(&o->databases[o->n_databases - 1], res, i, j) < 0)
			return oom(err);
	}
	return 0;
}

static int
observe_members(PGconn *c, struct gp_observed *o, struct gpd_error *err)
{
	_cleanup_pqclear_ PGresult *res = NULL;
	int r = query(c, members_sql, &res, err), n;

	if (r < 0)
		return r;
	n = PQntuples(res);
	o->members = calloc(n ? (size_t)n : 1, sizeof(*o->members));
	if (!o->members)
		return oom(err);
	o->n_members = (size_t)n;
	for (int i = 0; i < n; i++)
		if (value_dup(res, i, 0, &o->members[i].role) < 0 ||
		    value_dup(res, i, 1, &o->members[i].member) < 0)
			return oom(err);
	return 0;
}

/* An entry whose in-database privileges are observed (and later applied). */
static bool
access_wanted(const struct gp_entry *e)
{
	return e->hold == GP_HOLD_NONE && e->access != GP_ACCESS_OWNER && e->database &&
	       e->username;
}

static bool
database_exists(const struct gp_observed *o, const char *name)
{
	for (size_t i = 0; i < o->n_databases; i++)
		if (gp_streq(o->databases[i].name, name))
			return true;
	return false;
}

static int
access_append(struct gp_observed *o, const char *db, const PGresult *res)
{
	int n = PQntuples(res);
	struct gp_obs_dbaccess *v;

	v = realloc(o->access, (o->n_access + (size_t)n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	o->access = v;
	for (int i = 0; i < n; i++) {
		struct gp_obs_dbaccess *x = &o->access[o->n_access++];

		*x = (struct gp_obs_dbaccess){0};
		if (value_dup(res, i, 0, &x->role) < 0 || !(x->database = strdup(db)))
			return -ENOMEM;
		x->schema_usage = value_bool(res, i, 1);
		x->tables_ok = value_bool(res, i, 2);
		x->sequences_ok = value_bool(res, i, 3);
		x->defaults_ok = value_bool(res, i, 4);
	}
	return 0;
}

/* The roles and levels of db's editor/reader entries, as two text[] parameter values. */
static int
access_params(const struct gp_desired *d, const char *db, struct gp_buf *names,
	      struct gp_buf *levels)
{
	struct gp_strv nv = {0}, lv = {0};
	int r = 0;

	for (size_t i = 0; i < d->n && r >= 0; i++) {
		const struct gp_entry *e = &d->v[i];

		if (!access_wanted(e) || !gp_streq(e->database, db))
			continue;
		r = gp_strv_push(&nv, e->username);
		if (r >= 0)
			r = gp_strv_push(&lv, gp_access_to_string(e->access));
	}
	if (r >= 0)
		r = text_array(names, (const char *const *)nv.v, nv.n);
	if (r >= 0)
		r = text_array(levels, (const char *const *)lv.v, lv.n);
	gp_strv_release(&nv);
	gp_strv_release(&lv);
	return r;
}

static int
observe_access_db(const struct gpd_pg_target *t, const struct gp_desired *d, const char *db,
		  struct gp_observed *o, struct gpd_error *err)
{
	_cleanup_pqfinish_ PGconn *c = NULL;
	_cleanup_pqclear_ PGresult *res = NULL;
	struct gp_buf names = {0}, levels = {0};
	const char *params[2];
	int r;

	r = access_params(d, db, &names, &levels);
	if (r >= 0) {
		r = connect_as(t, t->user, t->password, db, &c, err);
		/* Cannot enter (privilege, pg_hba) or dropped meanwhile: see gpd_pg_observe(). */
		if (r == -EACCES || r == -ENOENT) {
			memset(err, 0, sizeof(*err));
			r = 1;
		}
	} else {
		r = oom(err);
	}
	if (r == 0) {
		params[0] = names.p;
		params[1] = levels.p;
		r = exec_params(c, access_sql, 2, params, &res, err);
	}
	if (r == 0 && access_append(o, db, res) < 0)
		r = oom(err);
	/* Checked, even when master could not enter: no rows then means "plan APPLY_GRANTS". */
	if (r >= 0 && gp_strv_push(&o->access_checked, db) < 0)
		r = oom(err);
	gp_buf_release(&names);
	gp_buf_release(&levels);
	return r < 0 ? r : 0;
}

static int
observe_access(const struct gpd_pg_target *t, const struct gp_desired *d,
	       const struct gp_strv *check_dbs, struct gp_observed *o, struct gpd_error *err)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct gp_entry *e = &d->v[i];
		int r;

		if (!access_wanted(e) || !database_exists(o, e->database) ||
		    (check_dbs && !gp_strv_contains(check_dbs, e->database)) ||
		    gp_strv_contains(&o->access_checked, e->database))
			continue;
		r = observe_access_db(t, d, e->database, o, err);
		if (r < 0)
			return r;
	}
	return 0;
}

#define SWAP(a, b)                                                                                 \
	do {                                                                                       \
		__typeof__(a) _t = (a);                                                            \
		(a) = (b);                                                                         \
		(b) = _t;                                                                          \
	} while (0)

/* Exchanges the PostgreSQL half of two observations (the secrets stay where they are). */
static void
observed_swap_pg(struct gp_observed *a, struct gp_observed *b)
{
	SWAP(a->master_user, b->master_user);
	SWAP(a->master_superuser, b->master_superuser);
	SWAP(a->roles, b->roles);
	SWAP(a->n_roles, b->n_roles);
	SWAP(a->databases, b->databases);
	SWAP(a->n_databases, b->n_databases);
	SWAP(a->members, b->members);
	SWAP(a->n_members, b->n_members);
	SWAP(a->access, b->access);
	SWAP(a->n_access, b->n_access);
	SWAP(a->access_checked, b->access_checked);
}

int
gpd_pg_observe(PGconn *master, const struct gpd_pg_target *t, const struct gp_desired *d,
	       const struct gp_strv *check_dbs, struct gp_observed *obs, struct gpd_error *err)
{
	_cleanup_(gp_observed_freep) struct gp_observed *o = gp_observed_new();
	struct gpd_error dummy;
	int r;

	err = err_or_dummy(err, &dummy);
	if (!o)
		return oom(err);
	r = observe_master(master, o, err);
	if (r >= 0)
		r = observe_roles(master, o, err);
	if (r >= 0)
		r = observe_databases(master, o, err);
	if (r >= 0)
		r = observe_members(master, o, err);
	if (r >= 0 && d)
		r = observe_access(t, d, check_dbs, o, err);
	if (r < 0)
		return r;
	observed_swap_pg(obs, o);
	gp_observed_sort(obs);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Apply
 */

/* Sends a statement a builder made (built: the builder's return), then frees it. */
static int
run_built(PGconn *c, int built, struct gp_buf *sql, struct gpd_error *err)
{
	int r;

	if (built == -ENOMEM)
		r = oom(err);
	else if (built < 0)
		r = err_set(err, built, "", false, "refused to build the statement (invalid name)");
	else
		r = exec_sql(c, sql->p, err);
	gp_buf_release(sql);
	return r;
}

/* Whether one row matches sql with the single parameter value. */
static int
exists(PGconn *c, const char *sql, const char *value, bool *ret, struct gpd_error *err)
{
	_cleanup_pqclear_ PGresult *res = NULL;
	int r = exec_params(c, sql, 1, &value, &res, err);

	if (r < 0)
		return r;
	*ret = PQntuples(res) > 0;
	return 0;
}

static int
role_read(PGconn *c, const char *role, struct gp_obs_role *ret, bool *found,
	  struct gpd_error *err)
{
	static const char sql[] =
		"SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication,"
		" rolbypassrls, rolinherit FROM pg_catalog.pg_roles WHERE rolname = $1";
	_cleanup_pqclear_ PGresult *res = NULL;
	int r = exec_params(c, sql, 1, &role, &res, err);

	if (r < 0)
		return r;
	*found = PQntuples(res) == 1;
	if (!*found)
		return 0;
	*ret = (struct gp_obs_role){
		.login = value_bool(res, 0, 0),
		.superuser = value_bool(res, 0, 1),
		.createrole = value_bool(res, 0, 2),
		.createdb = value_bool(res, 0, 3),
		.replication = value_bool(res, 0, 4),
		.bypassrls = value_bool(res, 0, 5),
		.inherit = value_bool(res, 0, 6),
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
 * CREATE ROLE (create) or ALTER ROLE ... PASSWORD with the SCRAM verifier of password. The
 * verifier is computed here (PQencryptPasswordConn with an explicit algorithm asks the
 * server nothing) and wiped, with the statement text, before returning.
 */
static int
password_statement(PGconn *c, const char *role, const char *password, bool create, bool createdb,
		   struct gpd_error *err)
{
	struct gp_buf sql = {0};
	char *verifier;
	int r;

	if (gp_isempty(password) || gp_isempty(role))
		return err_set(err, -EINVAL, "", false, "no password to set");
	verifier = PQencryptPasswordConn(c, password, role, "scram-sha-256");
	if (!verifier)
		return err_set(err, -ENOMEM, "", false, PQerrorMessage(c));
	r = create ? gp_sql_create_role(&sql, role, createdb, verifier)
		   : gp_sql_alter_role_password(&sql, role, verifier);
	explicit_bzero(verifier, strlen(verifier));
	PQfreemem(verifier);
	if (r == -ENOMEM)
		r = oom(err);
	else if (r < 0)
		r = err_set(err, r, "", false, "refused to build the password statement");
	else
		r = exec_sql(c, sql.p, err);
	gp_buf_release_secure(&sql);
	return r;
}

static int
apply_create_role(PGconn *c, const struct gp_entry *e, const char *role, const char *password,
		  struct gpd_error *err)
{
	struct gp_obs_role cur;
	bool found;
	int r;

	if (gp_isempty(password))
		return err_set(err, -EINVAL, "", false, "no password to set");
	/* A failing CREATE ROLE would be logged with its text: look first. */
	r = role_read(c, role, &cur, &found, err);
	if (r < 0)
		return r;
	if (!found)
		return password_statement(c, role, password, true, e->createdb, err);
	r = alter_attrs(c, role, &cur, e->createdb, err);
	if (r < 0)
		return r;
	return password_statement(c, role, password, false, e->createdb, err);
}

static int
apply_alter_role(PGconn *c, const struct gp_entry *e, const char *role, struct gpd_error *err)
{
	struct gp_obs_role cur;
	bool found;
	int r = role_read(c, role, &cur, &found, err);

	if (r < 0)
		return r;
	if (!found) /* dropped since the observation: the next pass plans CREATE_ROLE */
		return err_set(err, -ENOENT, "42704", true, "role does not exist");
	return alter_attrs(c, role, &cur, e->createdb, err);
}

static int
apply_create_database(PGconn *c, const char *db, const char *owner, struct gpd_error *err)
{
	static const char sql[] = "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1";
	struct gp_buf stmt = {0};
	bool found;
	int r = exists(c, sql, db, &found, err);

	if (r < 0 || found) /* made since the observation: the next pass checks its owner */
		return r;
	/* Sent on its own, outside any transaction block, as CREATE DATABASE requires. */
	return run_built(c, gp_sql_create_database(&stmt, db, owner, PQserverVersion(c)), &stmt,
			 err);
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
	int r = exec_sql(c, "BEGIN", err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < stmts->n && r >= 0; i++)
		r = exec_sql(c, stmts->v[i], err);
	if (r >= 0)
		return exec_sql(c, "COMMIT", err);
	if (PQstatus(c) == CONNECTION_OK)
		exec_sql(c, "ROLLBACK", &ignored);
	return r;
}

/*
 * Editor/reader privileges, inside the database. A privilege the database owner cannot give
 * (an object someone else owns) is only a warning for the server; here it is an error, or
 * the entry would be re-planned forever without anyone being told.
 */
static int
apply_grants(const struct gpd_pg_target *t, const struct gp_entry *e, const char *db,
	     const char *role, struct gpd_error *err)
{
	_cleanup_(gp_strv_release) struct gp_strv stmts = {0};
	_cleanup_pqfinish_ PGconn *c = NULL;
	struct skipped skipped = {0};
	int r;

	r = gp_sql_access_statements(&stmts, e->access, e->owner_role, role);
	if (r == -ENOMEM)
		return oom(err);
	if (r < 0)
		return err_set(err, r, "", false, "no editor/reader privileges to apply");
	r = connect_as(t, t->user, t->password, db, &c, err);
	if (r < 0)
		return r;
	PQsetNoticeReceiver(c, notice_skipped, &skipped);
	r = run_transaction(c, &stmts, err);
	if (r >= 0 && skipped.seen)
		r = err_set(err, -EACCES, skipped.sqlstate, false, skipped.message);
	return r;
}

int
gpd_pg_apply(PGconn *master, const struct gpd_pg_target *t, const char *env,
	     const struct gp_entry *e, const struct gp_action *a, const char *password,
	     struct gpd_error *err)
{
	const char *db = a->database ? a->database : e->database;
	const char *role = a->role ? a->role : e->username;
	const char *owner = a->object ? a->object : e->owner_role ? e->owner_role : e->username;
	struct gpd_error dummy;
	struct gp_buf sql = {0};

	err = err_or_dummy(err, &dummy);
	switch (a->kind) {
	case GP_ACT_CREATE_ROLE:
		return apply_create_role(master, e, role, password, err);
	case GP_ACT_ALTER_ROLE:
		return apply_alter_role(master, e, role, err);
	case GP_ACT_SET_PASSWORD:
		return password_statement(master, role, password, false, e->createdb, err);
	case GP_ACT_COMMENT_ROLE:
		return run_built(master, gp_sql_comment_role(&sql, role, env, e->key), &sql, err);
	case GP_ACT_GRANT_MEMBERSHIP:
		return run_built(master, gp_sql_grant_membership(&sql, owner, NULL), &sql, err);
	case GP_ACT_CREATE_DATABASE:
		return apply_create_database(master, db, owner, err);
	case GP_ACT_ALTER_DATABASE_OWNER:
		return run_built(master, gp_sql_alter_database_owner(&sql, db, owner), &sql, err);
	case GP_ACT_REVOKE_PUBLIC:
		return run_built(master, gp_sql_revoke_public(&sql, db), &sql, err);
	case GP_ACT_GRANT_CONNECT:
		return run_built(master, gp_sql_grant_connect(&sql, db, role), &sql, err);
	case GP_ACT_APPLY_GRANTS:
		return apply_grants(t, e, db, role, err);
	case GP_ACT_CREATE_SECRET:
	case GP_ACT_ADOPT_SECRET:
	case GP_ACT_UPDATE_SECRET:
	case GP_ACT_VERIFY_LOGIN:
	case _GP_ACT_MAX:
		break;
	}
	return err_set(err, -EINVAL, "", false, "not an action pg.c applies");
}
