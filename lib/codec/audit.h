/*
 * audit.h — one audit row → the bytes of one CSV line (DESIGN §6).
 *
 * The file is `<audit_dir>/<env>/rds_provision_audit.csv`; daemon/audit_file.c owns it and
 * appends what this module formats. The columns, in order:
 *
 *   timestamp_utc,environment,build_id,run_id,database,username,action,status,duration_ms,message
 *
 * Encoding (RFC 4180, with two additions):
 *  - A field that contains a comma, a double quote, CR or LF is enclosed in double quotes and
 *    its double quotes are doubled. Other fields are written as they are. NULL is empty.
 *  - timestamp_utc is "YYYY-MM-DDTHH:MM:SSZ"; build_id is cut to its first 12 characters (the
 *    short commit id); duration_ms is a decimal integer.
 *  - Formula guard: a text field that starts with '=', '+', '-', '@', TAB or CR is prefixed
 *    with a single quote. Spreadsheets open audit files, and they execute such a cell as a
 *    formula (CSV injection; OWASP lists exactly these characters). Messages carry text from
 *    PostgreSQL and AWS errors, and rejected entries carry names from input files, so every
 *    text column is guarded, not only message.
 *  - Invalid UTF-8 in a field is replaced byte by byte with U+FFFD, so that one odd error
 *    message cannot make the whole file unreadable for strict CSV readers.
 * A line is always terminated by a single "\n" (not CRLF: the file is appended to by Unix
 * tools and read by them first).
 */
#ifndef GP_AUDIT_H
#define GP_AUDIT_H

#include "base/util.h"

enum gp_audit_status {
	GP_AUDIT_SUCCESS,
	GP_AUDIT_NO_CHANGE,
	GP_AUDIT_WARNING,
	GP_AUDIT_ERROR,
	GP_AUDIT_DRY_RUN,
	_GP_AUDIT_STATUS_MAX,
};
/* "success", "no_change", "warning", "error", "dry_run"; NULL when out of range. */
const char *gp_audit_status_to_string(enum gp_audit_status s);
/* The enum value, or -EINVAL. */
int gp_audit_status_from_string(const char *s);

/*
 * One row. The row only borrows its strings. status must be one of the strings of
 * gp_audit_status_to_string() (use it to fill the field); any other value is refused, so
 * that the status column can be filtered on reliably. message is free text and must never
 * contain a secret value.
 */
struct gp_audit_row {
	int64_t timestamp; /* seconds since the epoch, UTC */
	const char *environment;
	const char *build_id; /* commit of the inputs; cut to 12 characters */
	const char *run_id;   /* pass id */
	const char *database;
	const char *username;
	const char *action; /* create_secret, create_role, ..., transition, decommission */
	const char *status;
	uint64_t duration_ms;
	const char *message;
};

#define GP_AUDIT_BUILD_ID_LEN 12

/* Appends the header line (with its "\n") to out. 0 or -ENOMEM. */
int gp_audit_header(struct gp_buf *out);

/*
 * Appends one CSV line for r, ending in "\n", to out. Returns 0, -EINVAL when status is not
 * a known status (out untouched), or -ENOMEM (out cut back to its length at entry, and its
 * oom flag set as after any failed append). Never a partial line.
 */
int gp_audit_format(const struct gp_audit_row *r, struct gp_buf *out);

#endif
