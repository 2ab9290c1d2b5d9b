/*
 * ha.c — the per-environment advisory lock that makes one of several gprdsd the actor.
 *
 * Session-level (pg_try_advisory_lock), never transaction-level: it must survive between
 * passes and vanish with the process. Never waits for the lock: a standby simply skips the
 * pass and tries again at the next one. Deliberately not here: fencing of a leader that
 * lost its connection mid-pass (its statements fail with the connection; the next leader's
 * level-triggered pass repairs whatever was half done).
 */
#include "ha.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
	PGresult *res;
	bool ok;

	if (!ha->leader || !ha->conn || PQstatus(ha->conn) != CONNECTION_OK ||
	    PQtransactionStatus(ha->conn) != PQTRANS_IDLE ||
	    memcmp(ha->params, params, sizeof(ha->params)) != 0)
		return false;
	gpd_pg_count_statement();
	res = PQexec(ha->conn, "SELECT 1");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	return ok;
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

int
gpd_ha_acquire(struct gpd_ha *ha, const char *env, const struct gpd_pg_target *t,
	       PGconn **ret, struct gpd_error *err, bool *asking)
{
	uint8_t params[32];
	char key[32];
	const char *args[1] = {key};
	PGresult *res;
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
	gpd_pg_count_statement();
	res = PQexecParams(ha->conn, "SELECT pg_try_advisory_lock($1::bigint)", 1, NULL, args,
			   NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		/* Not an answer about the lock (no privilege, the connection broke, a timeout):
		 * an error, never "standby". */
		*asking = true;
		r = gpd_pg_result_error(ha->conn, res, err);
		PQclear(res);
		gpd_ha_release(ha);
		return r < 0 ? r : -EIO;
	}
	ha->leader = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!ha->leader) {
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
