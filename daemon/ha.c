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

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "pg.h"

long long
gpd_ha_key(const char *env)
{
	/* FNV-1a over "gprdsd:<env>", folded into a positive bigint. */
	unsigned long long h = 1469598103934665603ULL;
	char buf[64];

	snprintf(buf, sizeof(buf), "gprdsd:%s", env);
	for (const char *p = buf; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	return (long long)(h & 0x7fffffffffffffffULL);
}

static bool
alive(PGconn *c)
{
	PGresult *res;
	bool ok;

	if (!c || PQstatus(c) != CONNECTION_OK)
		return false;
	gpd_pg_count_statement();
	res = PQexec(c, "SELECT 1");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	return ok;
}

/* A second connection with exactly the pass connection's parameters (host, TLS, password). */
static PGconn *
clone_conn(PGconn *src)
{
	PQconninfoOption *opts = PQconninfo(src), *o;
	const char *keys[64], *vals[64];
	size_t n = 0;
	PGconn *c;

	if (!opts)
		return NULL;
	for (o = opts; o->keyword && n < 63; o++) {
		if (!o->val || !*o->val)
			continue;
		keys[n] = o->keyword;
		vals[n++] = strcmp(o->keyword, "application_name") == 0 ? "gprdsd-lock" : o->val;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, 0);
	PQconninfoFree(opts);
	return c;
}

bool
gpd_ha_check(struct gpd_ha *ha, const char *env, void *pass_conn)
{
	char key[32];
	const char *params[1] = {key};
	PGresult *res;

	if (ha->leader && alive(ha->conn))
		return true;
	gpd_ha_release(ha);
	ha->conn = clone_conn(pass_conn);
	if (!ha->conn || PQstatus(ha->conn) != CONNECTION_OK) {
		gpd_ha_release(ha);
		return false;
	}
	snprintf(key, sizeof(key), "%lld", gpd_ha_key(env));
	gpd_pg_count_statement();
	res = PQexecParams(ha->conn, "SELECT pg_try_advisory_lock($1::bigint)", 1, NULL, params,
			   NULL, NULL, 0);
	ha->leader = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
		     strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!ha->leader)
		gpd_ha_release(ha); /* a standby holds no idle connection */
	return ha->leader;
}

void
gpd_ha_release(struct gpd_ha *ha)
{
	if (ha->conn)
		PQfinish(ha->conn);
	ha->conn = NULL;
	ha->leader = false;
}
