/*
 * dump.h — `pg_dump -Fc` of a database before it is dropped, checked with
 * `pg_restore --list` (DESIGN §4.5, decommission.dump_dir).
 */
#ifndef GPD_DUMP_H
#define GPD_DUMP_H

#include <stdatomic.h>

#include "pg.h"

/* An upper bound on each of pg_dump and pg_restore --list. */
#define GPD_DUMP_TIMEOUT_S (6 * 3600)

/*
 * Dumps db on t's server as t's user into <dir>/<env>/<db>-<UTC time of now>.dump (directory
 * mode 0700) and checks the file with pg_restore --list. 0 and *ret_path (free()), or -errno
 * with err (code "DumpFailed", permanent): nothing may be dropped then. A failed dump leaves
 * no file. stop, when set, ends the children early.
 */
int gpd_dump_database(const struct gpd_pg_target *t, const char *dir, const char *env,
		      const char *db, int64_t now, const atomic_bool *stop, char **ret_path,
		      struct gpd_error *err);

#endif
