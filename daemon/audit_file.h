/*
 * audit_file.h — the per-environment audit CSV, `<audit_dir>/<env>/rds_provision_audit.csv`
 * (DESIGN §6; lib/audit.h formats the rows).
 *
 * Invariants kept for every reader of the file, whatever crashed before:
 *  - the file starts with the header line, written once, when the file is empty;
 *  - it holds only whole rows: each row reaches the file in exactly one write() to an
 *    O_APPEND descriptor, under an exclusive flock(), and a torn last row (a crash or a full
 *    disk in the middle of a write) is cut off before the next row is appended;
 *  - rows of concurrent writers (the daemon and a `gprdsd --once` by hand) never interleave,
 *    because every writer takes the flock() for its append.
 * The module never logs; errors are -errno for the caller to report with gpd_audit_path().
 */
#ifndef GPD_AUDIT_FILE_H
#define GPD_AUDIT_FILE_H

#include "codec/audit.h"

#define GPD_AUDIT_FILE_NAME "rds_provision_audit.csv"

struct gpd_audit;

/*
 * Creates <audit_dir>/<env>/ (mode 0750) when missing, opens (creating, mode 0640) the audit
 * file for appending, and under the lock writes the header into an empty file or repairs a
 * torn last row. env must be a single path component. On success *ret owns the handle.
 * Errors: -EINVAL (bad env, or the path is not a regular file), -EISDIR, -ENOMEM, -errno of
 * mkdir/open/flock/read/ftruncate/write.
 */
int gpd_audit_open(const char *audit_dir, const char *env, struct gpd_audit **ret);

/* Path of the file, for messages. Owned by a. */
const char *gpd_audit_path(const struct gpd_audit *a);

/*
 * Formats row and appends it with one write(). Before writing, under the lock, a file found
 * empty gets its header and one whose last byte is not "\n" is repaired (another writer may
 * have crashed since open). Returns 0; -EINVAL (row refused by gp_audit_format); -EIO for a
 * short write, whose partial row is then cut off again; -ENOMEM; -errno.
 */
int gpd_audit_append(struct gpd_audit *a, const struct gp_audit_row *row);

/* fsync(): called at the end of a pass. 0 or -errno. */
int gpd_audit_sync(struct gpd_audit *a);

/* fsync() and close; errors are lost, so call gpd_audit_sync() first to see them. NULL ok. */
void gpd_audit_close(struct gpd_audit *a);
DEFINE_FREEP(struct gpd_audit, gpd_audit_close)

#endif
