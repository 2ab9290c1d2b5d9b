/*
 * ha.c — the per-environment advisory lock that makes one of several gprdsd the actor.
 *
 * Session-level (pg_try_advisory_lock), never transaction-level: it must survive between
 * passes and vanish with the process. The daemon never waits for the lock: a standby skips
 * the pass and tries again at the next one; `gprdsd --once` asks again for a bounded time
 * (ha->wait_ms) and then says who holds it. Deliberately not here: fencing of a leader that
 * lost its connection mid-pass (its statements fail with the connection; the next leader's
 * level-triggered pass repairs whatever was half done).
 */
#include "ha.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "fileio.h"

long long
gpd_ha_key(const char *env)
{
	/* FNV-1a over "gprdsd:<env>", folded into a positive bigint. */
	char buf[64];
	uint64_t h;

	snprintf(buf, sizeof(buf), "gprdsd:%s", env);
	h = gp_fnv64(GP_FNV64_INIT, buf, strlen(buf));

	return (long long)(h & 0x7fffffffffffffffULL);
}

/* Alive, idle, and opened for the same target: the session (and its lock) can be reused. */
static bool
reusable(const struct gpd_ha *ha, const uint8_t params[32])
{
	struct gpd_error e = {0};

	if (!ha->leader || !ha->conn || PQstatus(ha->conn) != CONNECTION_OK ||
	    PQtransactionStatus(ha->conn) != PQTRANS_IDLE ||
	    memcmp(ha->params, params, sizeof(ha->params)) != 0)
		return false;
	return gpd_pg_exec(ha->conn, "SELECT 1", 0, NULL, NULL, &e) == 0;
}

/* Every parameter that gpd_pg_connect() turns into the session. Kept as a digest only: no
 * copy of the password outlives the pass. */
static int
params_digest(const struct gpd_pg_target *t, uint8_t out[32])
{
	EVP_MD_CTX *md;
	int r = gpd_digest_begin(&md);

	if (r < 0)
		return r;
	gpd_digest_str(md, t->host);
	gpd_digest_str(md, t->port);
	gpd_digest_str(md, t->user);
	gpd_digest_str(md, t->password);
	gpd_digest_str(md, t->dbname);
	gpd_digest_str(md, t->sslmode);
	gpd_digest_str(md, t->sslrootcert);
	gpd_digest_u64(md, t->connect_timeout_ms);
	gpd_digest_u64(md, t->statement_timeout_ms);
	return gpd_digest_end(md, out);
}

#define LOCK_RETRY_MS 250

static void
sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One try: 0 with ha->leader set, or -errno. Only a row from the server is an answer about
 * the lock (no privilege, a broken connection, a timeout: an error, never "standby"). */
static int
try_lock(struct gpd_ha *ha, const char *const *args, struct gpd_error *err)
{
	PGresult *res = NULL;
	int r;

	r = gpd_pg_exec(ha->conn, "SELECT pg_try_advisory_lock($1::bigint)", 1, args, &res, err);
	if (r < 0)
		return r;
	if (PQntuples(res) == 1)
		ha->leader = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	else {
		snprintf(err->message, sizeof(err->message), "the lock query returned no row");
		r = -EIO;
	}
	PQclear(res);
	return r;
}

/* Who holds the lock, for the standby's message (empty when it cannot be seen). */
static void
describe_holder(struct gpd_ha *ha, const char *const *args)
{
	static const char sql[] =
		"SELECT a.application_name, coalesce(host(a.client_addr), 'local socket'),"
		" to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		" a.pid FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid"
		" WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
		" AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint LIMIT 1";
	struct gpd_error e = {0};
	PGresult *res = NULL;

	if (gpd_pg_exec(ha->conn, sql, 1, args, &res, &e) == 0 && PQntuples(res) == 1)
		snprintf(ha->holder, sizeof(ha->holder),
			 "application_name %s from %s since %s (backend pid %s)",
			 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
			 PQgetvalue(res, 0, 3));
	PQclear(res);
}

int
gpd_ha_acquire(struct gpd_ha *ha, const char *env, const struct gpd_pg_target *t,
	       PGconn **ret, struct gpd_error *err, bool *asking)
{
	uint8_t params[32];
	char key[32];
	const char *args[1] = {key};
	int r;

	r = params_digest(t, params);
	*asking = false;
	if (r < 0)
		return r;
	if (reusable(ha, params)) {
		*ret = ha->conn;
		return 1;
	}
	gpd_ha_release(ha);
	r = gpd_pg_connect(t, NULL, &ha->conn, err);
	if (r < 0) {
		ha->conn = NULL;
		return r;
	}
	memcpy(ha->params, params, sizeof(params));
	snprintf(key, sizeof(key), "%lld", gpd_ha_key(env));
	ha->holder[0] = '\0';
	for (uint64_t waited = 0;; waited += LOCK_RETRY_MS) {
		r = try_lock(ha, args, err);
		if (r < 0) {
			*asking = true;
			gpd_ha_release(ha);
			return r;
		}
		if (ha->leader || waited >= ha->wait_ms || (ha->stop && atomic_load(ha->stop)))
			break;
		sleep_ms(LOCK_RETRY_MS);
	}
	if (!ha->leader) {
		describe_holder(ha, args);
		gpd_ha_release(ha); /* a standby holds no idle connection */
		return 0;
	}
	*ret = ha->conn;
	return 1;
}

void
gpd_ha_release(struct gpd_ha *ha)
{
	if (ha->conn)
		PQfinish(ha->conn);
	ha->conn = NULL;
	ha->leader = false;
	memset(ha->params, 0, sizeof(ha->params));
}
