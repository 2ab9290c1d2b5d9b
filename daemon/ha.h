/*
 * ha.h — leadership per environment: only the holder of a PostgreSQL session-level advisory
 * lock acts (DESIGN §7). The lock lives on the environment's master connection, which the
 * leader keeps open between passes and every pass reuses (one login per leadership, not one
 * per pass); when the holder dies, its session ends, the lock is released, and a standby
 * takes it at its next pass (within one interval).
 */
#ifndef GPD_HA_H
#define GPD_HA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pg.h"

struct gpd_ha {
	PGconn *conn;         /* master connection holding the lock while leader; else NULL */
	bool leader;
	uint8_t params[32];   /* digest of the connection parameters conn was opened with */
	/* How long to keep asking while another session holds the lock (0: do not wait, the
	 * daemon's standby). `gprdsd --once` waits: a lock left by a killed run goes with its
	 * session within seconds. */
	uint64_t wait_ms;
	/* While waiting: set (by a signal handler) to give up at once; NULL: never. */
	const atomic_bool *stop;
	/* When standby: who holds the lock (application name, client address, since when, pid,
	 * from pg_stat_activity), or "". */
	char holder[256];
};

/*
 * Called by the pass (worker thread) with the target it would connect to. Keeps the lock
 * connection when it is alive, idle (not inside a transaction) and was opened with the same
 * parameters (host, port, user, password, TLS, timeouts); otherwise connects afresh and tries
 * the lock. Returns 1 when this process is the leader (*ret: the connection, which stays
 * owned by ha: the pass uses it as its master connection and never closes it), 0 when
 * another process holds the lock (standby: no connection is kept), or a negative errno when
 * connecting or asking for the lock failed, with err filled (as gpd_pg_connect() and
 * gpd_pg_result_error()) and *asking telling which: false connecting, true asking. Only a
 * row from the server is an answer about the lock; a failure to ask is never "standby".
 */
int gpd_ha_acquire(struct gpd_ha *ha, const char *env, const struct gpd_pg_target *t,
		   PGconn **ret, struct gpd_error *err, bool *asking);
/* Closes the lock connection (releasing the lock). Never while a pass uses it. */
void gpd_ha_release(struct gpd_ha *ha);
/* The advisory lock key of an environment (stable across versions and hosts). */
long long gpd_ha_key(const char *env);

#endif
