/*
 * pg.c — talking to PostgreSQL with libpq: bounded connections, statements, errors and login
 * checks. The observation queries are in pg_observe.c, the executors of actions in
 * pg_apply.c.
 *
 * What it does: every call blocks with a bound (our connect deadline, the server's
 * statement_timeout, TCP keepalives); every value in a query is a bound parameter, and every
 * DDL text comes from lib/sql.c over quoted identifiers. Passwords reach the server only as
 * SCRAM verifiers (computed ahead by verifiers.c, or here), and the buffers that held them
 * are wiped.
 *
 * What it deliberately does not do: decide anything (plan.c decides which actions to run and
 * in which order), retry (the pass schedules retries from err->transient), log or audit (the
 * pass does, with the error this module fills in), or touch Secrets Manager.
 */
#include "pg_int.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "codec/secret.h"


#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_STATEMENT_TIMEOUT_MS 30000
/* Past statement_timeout, how long the client waits for the server's own cancellation. */
#define STATEMENT_GRACE_MS 5000

static atomic_ulong statements_sent;
static atomic_ulong connections_made;
/* This thread's waiter (gpd_pg_set_waiter()): a pass's statements wait through it. */
static _Thread_local const struct gpd_pg_waiter *waiter;

void
gpd_pg_set_waiter(const struct gpd_pg_waiter *w)
{
	waiter = w;
}

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

int
gpd_pg__err_set(struct gpd_error *err, int r, const char *sqlstate, bool transient, const char *msg)
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
		return gpd_pg__err_set(err, r, state, transient, msg);
	}
	/* No SQLSTATE: libpq itself failed, typically because the connection broke. */
	if (PQstatus(conn) == CONNECTION_BAD)
		return gpd_pg__err_set(err, -ECONNREFUSED, "08006", true, PQerrorMessage(conn));
	if (!res)
		return gpd_pg__err_set(err, -ENOMEM, "", false, "out of memory");
	return gpd_pg__err_set(err, -EIO, "", false,
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
		return gpd_pg__err_set(err, -ENOMEM, "", false, msg);
	if (r == -ETIMEDOUT) {
		snprintf(buf, sizeof(buf), "timed out connecting after %" PRIu64 " ms", timeout_ms);
		return gpd_pg__err_set(err, -ETIMEDOUT, "08001", true, buf);
	}
	text = find_sqlstate(msg, code);
	if (text) {
		r = classify(code, true, &transient);
		return gpd_pg__err_set(err, r, code, transient, text);
	}
	/* The server never answered with an error: network, DNS or TLS trouble. */
	return gpd_pg__err_set(err, -ECONNREFUSED, "08001", true, msg);
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

/* Waits up to timeout_ms for fd: through the thread's waiter, which does other work meanwhile
 * and may return early (0), or with poll(). > 0 ready, 0 not yet, -errno. */
static int
poll_one(int fd, short events, uint64_t timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	int n;

	if (waiter)
		return waiter->wait(waiter->arg, fd, events, timeout_ms);
	n = poll(&pfd, 1, timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms);
	return n < 0 && errno != EINTR ? -errno : n > 0;
}

static short
poll_events(PostgresPollingStatusType st)
{
	return st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
}

/* Waits for fd or, when cancel_fd >= 0, for cancel_fd to become readable (its write end
 * closed: -ECANCELED), without the thread's waiter: 1 ready, 0 timeout, -errno. */
static int
poll_cancellable(int fd, short events, int cancel_fd, uint64_t timeout_ms)
{
	struct pollfd pfd[2] = {{.fd = fd, .events = events}, {.fd = cancel_fd, .events = POLLIN}};
	int n;

	if (cancel_fd < 0)
		return poll_one(fd, events, timeout_ms);
	n = poll(pfd, 2, timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (pfd[1].revents)
		return -ECANCELED;
	return n > 0;
}

/* Drives PQconnectPoll() until done or deadline (libpq's own connect_timeout is only for
 * PQconnectdb*, and we need the non-blocking start to see the server's SQLSTATE); cancel_fd
 * as for poll_cancellable(). */
static int
connect_wait(PGconn *conn, uint64_t deadline, int cancel_fd)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	if (PQstatus(conn) == CONNECTION_BAD)
		return -ECONNREFUSED;
	for (;;) {
		uint64_t now = now_ms();
		int n;

		if (st == PGRES_POLLING_OK)
			return 0;
		if (st == PGRES_POLLING_FAILED || PQsocket(conn) < 0)
			return -ECONNREFUSED;
		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll_cancellable(PQsocket(conn), poll_events(st), cancel_fd, deadline - now);
		if (n < 0)
			return n;
		if (n > 0)
			st = PQconnectPoll(conn);
	}
}

/* A connection attempt started, not waited for: NULL when out of memory. */
static PGconn *
connect_start(const struct gpd_pg_target *t, const char *user, const char *password,
	      const char *dbname)
{
	struct conn_params p = {0};
	PGconn *conn;

	params_fill(&p, t, user, password, dbname);
	/* expand_dbname 0: a database name is only ever a name, never a conninfo string. */
	conn = PQconnectStartParams(p.kw, p.val, 0);
	if (!conn)
		return NULL;
	PQsetNoticeReceiver(conn, notice_ignore, NULL);
	PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
	return conn;
}

int
gpd_pg__connect_as(const struct gpd_pg_target *t, const char *user, const char *password,
	   const char *dbname, PGconn **ret, struct gpd_error *err)
{
	uint64_t timeout = connect_timeout_ms(t);
	PGconn *conn = connect_start(t, user, password, dbname);
	int r;

	if (!conn)
		return err_from_connect(NULL, -ENOMEM, timeout, err);
	r = connect_wait(conn, now_ms() + timeout, -1);
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

struct gpd_error *
gpd_pg__err_or_dummy(struct gpd_error *err, struct gpd_error *dummy)
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

	err = gpd_pg__err_or_dummy(err, &dummy);
	return gpd_pg__connect_as(t, t->user, t->password, dbname_override ? dbname_override : t->dbname,
			  ret, err);
}

/* ---------------------------------------------------------------------------------------
 * Login checks, several at once, each on a thread of its own
 *
 * The SCRAM exchange costs the client a PBKDF2 of 4096 rounds (about 5 ms of CPU) per login.
 * On the pass's thread, N logins would cost N times that however many were under way; on
 * threads of their own they use the host's cores while the pass's thread goes on polling
 * its statement and Secrets Manager's transfers. A thread makes one connection, closes it,
 * says how it went in its slot and wakes the pass through a pipe; nothing else is shared.
 */

struct login {
	struct gpd_pg_logins *ls;
	pthread_t thread;
	bool used;	  /* the slot holds a login, ended or not */
	bool joinable;	  /* its thread was started */
	atomic_bool ended; /* the thread has filled in r and err (release; acquire to read) */
	char *user, *password, *dbname; /* copies; the password wiped when the slot is freed */
	int r;
	struct gpd_error err;
	gpd_pg_login_fn done;
	void *arg;
};

struct gpd_pg_logins {
	const struct gpd_pg_target *t;
	struct login v[GPD_PG_MAX_LOGINS];
	size_t n;	/* slots in use */
	int wake[2];	/* a thread writes a byte to wake[1] as its login ends */
	int cancel[2];	/* closing cancel[1] ends the logins under way */
};

int
gpd_pg_logins_new(const struct gpd_pg_target *t, struct gpd_pg_logins **ret)
{
	struct gpd_pg_logins *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return -ENOMEM;
	ls->t = t;
	if (pipe2(ls->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(ls);
		return -errno;
	}
	if (pipe2(ls->cancel, O_CLOEXEC) < 0) {
		int r = -errno;

		close(ls->wake[0]);
		close(ls->wake[1]);
		free(ls);
		return r;
	}
	*ret = ls;
	return 0;
}

static void
login_release(struct login *l)
{
	if (l->joinable)
		pthread_join(l->thread, NULL);
	free(l->user);
	free(l->dbname);
	gp_secret_free_string(l->password);
	*l = (struct login){0};
}

void
gpd_pg_logins_free(struct gpd_pg_logins *ls)
{
	if (!ls)
		return;
	/* The threads see the pipe's end at their next poll and give up their connection. */
	close(ls->cancel[1]);
	for (size_t i = 0; i < ELEMENTSOF(ls->v); i++)
		if (ls->v[i].used)
			login_release(&ls->v[i]);
	close(ls->cancel[0]);
	close(ls->wake[0]);
	close(ls->wake[1]);
	free(ls);
}

size_t
gpd_pg_logins_running(const struct gpd_pg_logins *ls)
{
	return ls->n;
}

static void
login_wake(struct login *l)
{
	atomic_store_explicit(&l->ended, true, memory_order_release);
	/* Full pipe (EAGAIN): a wake is pending already, and it is enough. */
	(void)!write(l->ls->wake[1], "", 1);
}

static void *
login_thread(void *arg)
{
	struct login *l = arg;
	const struct gpd_pg_target *t = l->ls->t;
	uint64_t timeout = connect_timeout_ms(t);
	PGconn *conn = connect_start(t, l->user, l->password, l->dbname);
	int r = conn ? connect_wait(conn, now_ms() + timeout, l->ls->cancel[0]) : -ENOMEM;

	if (conn)
		atomic_fetch_add_explicit(&connections_made, 1, memory_order_relaxed);
	l->r = r < 0 ? err_from_connect(conn, r, timeout, &l->err) : 0;
	if (conn)
		PQfinish(conn);
	login_wake(l);
	return NULL;
}

int
gpd_pg_logins_start(struct gpd_pg_logins *ls, const char *user, const char *password,
		    const char *dbname, gpd_pg_login_fn done, void *arg)
{
	struct login *l = NULL;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(ls->v) && !l; i++)
		if (!ls->v[i].used)
			l = &ls->v[i];
	if (!l)
		return -EBUSY;
	*l = (struct login){.ls = ls, .used = true, .done = done, .arg = arg};
	ls->n++;
	if (gp_isempty(user) || gp_isempty(password)) {
		l->r = gpd_pg__err_set(&l->err, -EINVAL, "", false, "no credentials to verify");
		login_wake(l);
		return 0;
	}
	l->user = strdup(user);
	l->password = strdup(password);
	l->dbname = strdup(dbname ? dbname : ls->t->dbname);
	r = l->user && l->password && l->dbname ? -pthread_create(&l->thread, NULL, login_thread, l)
						 : -ENOMEM;
	if (r < 0) {
		l->r = r == -ENOMEM ? gpd_pg__oom(&l->err)
				    : gpd_pg__err_set(&l->err, r, "", true, "cannot start a login thread");
		login_wake(l);
		return 0;
	}
	l->joinable = true;
	return 0;
}

size_t
gpd_pg_logins_fds(const struct gpd_pg_logins *ls, struct pollfd *fds)
{
	if (!ls->n)
		return 0;
	fds[0] = (struct pollfd){.fd = ls->wake[0], .events = POLLIN};
	return 1;
}

void
gpd_pg_logins_advance(struct gpd_pg_logins *ls, const struct pollfd *fds, size_t n_fds)
{
	char buf[16];

	if (n_fds > 0 && fds[0].revents)
		while (read(ls->wake[0], buf, sizeof(buf)) > 0)
			;
	for (size_t i = 0; i < ELEMENTSOF(ls->v); i++) {
		struct login *l = &ls->v[i];
		gpd_pg_login_fn done = l->done;
		void *arg = l->arg;
		struct gpd_error err;
		int r;

		if (!l->used || !atomic_load_explicit(&l->ended, memory_order_acquire))
			continue;
		/* The slot is free before done() runs: done() may start the next login. */
		r = l->r;
		err = l->err;
		login_release(l);
		ls->n--;
		done(arg, r, &err);
	}
}

/* ---------------------------------------------------------------------------------------
 * Statements
 */

/* Sends one statement with text parameters; *ret (optional) gets the result on success. */
/*
 * The client's own bound on one statement: the session's statement_timeout (read back from
 * the connection's options, where params_fill() put it) plus a grace for the server to say
 * so. statement_timeout is enforced by the server; a server that stops answering (frozen, a
 * partition, a failover without RST) enforces nothing, and this bound is what ends the wait.
 */
static uint64_t
statement_deadline(PGconn *conn)
{
	const char *o = PQoptions(conn), *p = o ? strstr(o, "statement_timeout=") : NULL;
	unsigned long long ms = p ? strtoull(p + strlen("statement_timeout="), NULL, 10) : 0;

	return now_ms() + (ms ? ms : DEFAULT_STATEMENT_TIMEOUT_MS) + STATEMENT_GRACE_MS;
}

/* Waits for the socket (POLLIN or POLLOUT) until deadline: 1 ready, 0 deadline, -errno. */
static int
wait_socket(PGconn *conn, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = now_ms();
		int n;

		if (PQsocket(conn) < 0)
			return -ECONNRESET;
		if (now >= deadline)
			return 0;
		n = poll_one(PQsocket(conn), events, deadline - now);
		if (n != 0)
			return n < 0 ? n : 1;
	}
}

/* Sends the statement and reads its last result, never past deadline (NULL, err set, when
 * the server did not answer in time: the connection is then unusable and is closed by its
 * owner). */
static PGresult *
exec_bounded(PGconn *conn, const char *sql, int n, const char *const *params, uint64_t deadline,
	     bool *timed_out)
{
	PGresult *last = NULL, *res;
	int f, w = -1;

	*timed_out = false;
	if (!PQsendQueryParams(conn, sql, n, NULL, params, NULL, NULL, 0))
		return NULL;
	while ((f = PQflush(conn)) > 0)
		if ((w = wait_socket(conn, POLLOUT | POLLIN, deadline)) <= 0 ||
		    !PQconsumeInput(conn))
			goto out;
	if (f < 0)
		goto out;
	for (;;) {
		while (PQisBusy(conn))
			if ((w = wait_socket(conn, POLLIN, deadline)) <= 0 || !PQconsumeInput(conn))
				goto out;
		res = PQgetResult(conn);
		if (!res)
			return last;
		PQclear(last);
		last = res;
	}
out:
	*timed_out = w == 0;
	PQclear(last);
	return NULL;
}

int
gpd_pg__exec_params(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **ret,
	    struct gpd_error *err)
{
	_cleanup_pqclear_ PGresult *res = NULL;
	ExecStatusType st;
	bool timed_out;

	atomic_fetch_add_explicit(&statements_sent, 1, memory_order_relaxed);
	res = exec_bounded(conn, sql, n, params, statement_deadline(conn), &timed_out);
	if (timed_out) {
		/* Not PQcancel(): it connects and waits for an answer of its own. The socket is
		 * shut so that nothing else waits on this connection; the server ends the
		 * statement by its own statement_timeout once it runs again. */
		shutdown(PQsocket(conn), SHUT_RDWR);
		return gpd_pg__err_set(err, -ETIMEDOUT, "57014", true,
				       "the server did not answer within statement_timeout");
	}
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return gpd_pg_result_error(conn, res, err);
	if (ret)
		*ret = TAKE_PTR(res);
	return 0;
}

int
gpd_pg_exec(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **ret,
	    struct gpd_error *err)
{
	return gpd_pg__exec_params(conn, sql, n, params, ret, err);
}

int
gpd_pg__exec_sql(PGconn *conn, const char *sql, struct gpd_error *err)
{
	return gpd_pg__exec_params(conn, sql, 0, NULL, NULL, err);
}

bool
gpd_pg__value_bool(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

/* strdup of a column; SQL NULL gives NULL (and success). */
int
gpd_pg__value_dup(const PGresult *res, int row, int col, char **ret)
{
	if (PQgetisnull(res, row, col)) {
		*ret = NULL;
		return 0;
	}
	*ret = strdup(PQgetvalue(res, row, col));
	return *ret ? 0 : -ENOMEM;
}

/* A text[] value for a bound parameter: {"a","b"} with " and \ escaped. */
int
gpd_pg__text_array(struct gp_buf *b, const char *const *v, size_t n)
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

int
gpd_pg__oom(struct gpd_error *err)
{
	return gpd_pg__err_set(err, -ENOMEM, "", false, "out of memory");
}

int
gpd_pg__query(PGconn *conn, const char *sql, PGresult **ret, struct gpd_error *err)
{
	return gpd_pg__exec_params(conn, sql, 0, NULL, ret, err);
}
