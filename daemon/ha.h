/*
 * ha.h — leadership per environment: only the holder of a PostgreSQL session-level advisory
 * lock acts (DESIGN §7). The lock lives on a connection of its own that is kept open between
 * passes; when the holder dies, its session ends, the lock is released, and a standby takes
 * it at its next pass (within one interval).
 */
#ifndef GPD_HA_H
#define GPD_HA_H

#include <stdbool.h>

struct pg_conn;

struct gpd_ha {
	struct pg_conn *conn; /* holds the lock while leader; NULL otherwise */
	bool leader;
	const char *env; /* for callers that keep the name with the lock (--once) */
};

/*
 * Called from the pass (worker thread) with the pass's master connection. Verifies that the
 * lock connection is alive, or opens one with the same parameters and tries the lock.
 * Returns true while this process is the leader for env.
 */
bool gpd_ha_check(struct gpd_ha *ha, const char *env, void *pass_conn);
/* Closes the lock connection (releasing the lock). Loop thread, when no pass runs. */
void gpd_ha_release(struct gpd_ha *ha);
/* The advisory lock key of an environment (stable across versions and hosts). */
long long gpd_ha_key(const char *env);

#endif
