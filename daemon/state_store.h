/*
 * state_store.h — gprdsd's lifecycle records on disk: one JSON file per environment,
 * `<state_dir>/<env>.state.json` (DESIGN §4.1; lib/state.c is the codec).
 *
 * The file is replaced atomically (temp file, fsync, rename, fsync of the directory), so a
 * crash leaves the previous or the new content, never a torn one. A missing file is a normal
 * first start and reads as an empty record set; a file that exists but cannot be read or
 * parsed is an error, never "no records", because forgetting the records would restart every
 * entry's lifecycle (and its retry back-off) from pending.
 *
 * Error text: on failure *ret_err (when ret_err is not NULL) receives a new string, owned by
 * the caller, that names the file: "path: reason" or, for parse errors, "path:line:col: error:
 * ..." (several lines when there are several errors); NULL only when even that allocation
 * failed. It never holds a secret. The module never logs.
 */
#ifndef GPD_STATE_STORE_H
#define GPD_STATE_STORE_H

#include "codec/requests.h"
#include "fileio.h"
#include "model/state.h"

#define GPD_STATE_FILE_SUFFIX ".state.json"
/* A record renders to about 500 bytes: room for half a million entries (16 MiB, the cap
 * before, refused the state file of any pass after the first beyond about 34,000 entries). */
#define GPD_STATE_MAX_SIZE (256u * 1024 * 1024)

/*
 * Loads the records of env into *ret (owned by the caller). Missing file: an empty
 * gp_state_file for env. Errors: -EINVAL (env not a single path component, the file does not
 * parse, or it belongs to another environment), -EFBIG, -EISDIR, -ENOMEM, -errno of open/read.
 */
int gpd_state_load(const char *state_dir, const char *env, struct gp_state_file **ret,
		   char **ret_err);

/*
 * Writes s to <state_dir>/<s->env>.state.json atomically with mode 0640, creating state_dir
 * (0750) when missing. Errors: -EINVAL (bad env, or records gp_state_render() refuses),
 * -ENOMEM, -errno of mkdir/write/fsync/rename.
 */
int gpd_state_save(const char *state_dir, const struct gp_state_file *s, char **ret_err);

/* The identity of env's state file as it is now (fileio.h): the daemon keeps the records it
 * read and reads them again only when the file changed. Returns 0 or -errno. */
int gpd_state_file_id(const char *state_dir, const char *env, struct gpd_file_id *id);

/* The requests file of env (codec/requests.h): `<state_dir>/<env>.requests.json`. */
#define GPD_REQUESTS_FILE_SUFFIX ".requests.json"
/* Loads it; a missing file is no requests. Errors as gpd_state_load(). */
int gpd_requests_load(const char *state_dir, const char *env, struct gp_requests *ret,
		      char **ret_err);
/* Records a mass-change confirmation (at, by) in the requests file, under the exclusive
 * flock() of `<env>.requests.lock` that every writer of the file takes. */
int gpd_requests_confirm(const char *state_dir, const char *env, int64_t at, const char *by,
			 char **ret_err);
/*
 * Adds a rotate request (`gprdsd rotate`) or a retry request (`gprdsd retry`) for each of
 * keys (at, by), drops the requests that s shows done (gp_requests_prune()), and writes the
 * file atomically, under the exclusive flock() of `<env>.requests.lock` so that two commands
 * do not lose each other's requests. Errors as gpd_state_save().
 */
int gpd_requests_add_rotate(const char *state_dir, const char *env, const struct gp_strv *keys,
			    int64_t at, const char *by, const struct gp_state_file *s,
			    char **ret_err);
int gpd_requests_add_retry(const char *state_dir, const char *env, const struct gp_strv *keys,
			   int64_t at, const char *by, const struct gp_state_file *s,
			   char **ret_err);

#endif
