/*
 * pg_int.h — what pg.c (transport: connections, statements, errors, login checks),
 * pg_observe.c (the observation queries) and pg_apply.c (one executor per action kind)
 * share. Internal to those files; gpd_pg__ names are not part of pg.h's contract.
 */
#ifndef GPD_PG_INT_H
#define GPD_PG_INT_H

#include "pg.h"

static inline void
gpd_pg__clearp(PGresult **p)
{
	PQclear(*p);
	*p = NULL;
}
#define _cleanup_pqclear_ _cleanup_(gpd_pg__clearp)

static inline void
gpd_pg__finishp(PGconn **p)
{
	if (*p)
		PQfinish(*p);
	*p = NULL;
}
#define _cleanup_pqfinish_ _cleanup_(gpd_pg__finishp)

/* Fills err (code, transient, the first line of msg) and returns r. */
int gpd_pg__err_set(struct gpd_error *err, int r, const char *sqlstate, bool transient,
		    const char *msg);
/* err, or dummy when err is NULL. */
struct gpd_error *gpd_pg__err_or_dummy(struct gpd_error *err, struct gpd_error *dummy);
/* Out of memory, as an error. Returns -ENOMEM. */
int gpd_pg__oom(struct gpd_error *err);
/* A bounded connection to t's server as user (see gpd_pg_connect()). */
int gpd_pg__connect_as(const struct gpd_pg_target *t, const char *user, const char *password,
		       const char *dbname, PGconn **ret, struct gpd_error *err);
/* One statement with n text parameters; *ret holds the result rows (tuples). Counted. */
int gpd_pg__exec_params(PGconn *conn, const char *sql, int n, const char *const *params,
			PGresult **ret, struct gpd_error *err);
int gpd_pg__exec_sql(PGconn *conn, const char *sql, struct gpd_error *err);
int gpd_pg__query(PGconn *conn, const char *sql, PGresult **ret, struct gpd_error *err);
bool gpd_pg__value_bool(const PGresult *res, int row, int col);
int gpd_pg__value_dup(const PGresult *res, int row, int col, char **ret);
/* A text[] literal of v for a bound parameter ({"a","b"}). */
int gpd_pg__text_array(struct gp_buf *b, const char *const *v, size_t n);

#endif
