/*
 * secret.h — the JSON value of an application's secret (DESIGN §5), the master secret (§2) and
 * the password alphabet.
 *
 * An application secret is a JSON object:
 *   {"username": ..., "password": ..., "host": ..., "port": "5432", "dbname": ...,
 *    "engine": "postgres", "<alias>": <password>, ...}
 * where every alias key (config secret.password_aliases) mirrors the password for consumers
 * that read another key (External Secrets Operator manifests). Keys gprdsd does not manage are
 * kept as they are.
 *
 * Invariants:
 *  - No function here has a randomness source, clock or I/O of its own: the caller passes
 *    random bytes in (the daemon uses OpenSSL's CSPRNG) and the JSON text.
 *  - Problem texts (ret_problem) name keys and never contain a value, so they may be logged,
 *    audited and shown in `gprdsd status`.
 *  - Every intermediate copy of a secret made here (parse trees, printed JSON, random bytes)
 *    is wiped with explicit_bzero before it is freed. Strings returned to the caller that hold
 *    a secret are freed with gp_secret_free_string().
 */
#ifndef GP_SECRET_H
#define GP_SECRET_H

#include "base/util.h"

#define GP_PASSWORD_LEN 32

/*
 * Fills buf with len random bytes. Returns 0, or a negative errno that gp_password_generate()
 * passes on unchanged.
 */
typedef int (*gp_random_fn)(void *userdata, uint8_t *buf, size_t len);

/*
 * Writes GP_PASSWORD_LEN characters from [A-Za-z0-9] and a NUL to out. Bytes >= 248 (= 4 * 62)
 * are rejected so that every character is equally likely. Returns 0; the error of rnd; or -EIO
 * when rnd keeps returning only rejected bytes (a broken source, not bad luck). out is
 * written only on success. The random bytes are wiped.
 */
int gp_password_generate(gp_random_fn rnd, void *ud, char out[GP_PASSWORD_LEN + 1]);

/*
 * What an application secret should contain besides its password. A NULL member (or NULL
 * aliases) is neither checked nor written: the existing key, if any, is left as it is.
 */
struct gp_secret_want {
	const char *username;
	const char *host;
	const char *port; /* decimal string: JSON "port" must be a string, e.g. "5432" */
	const char *dbname;
	const struct gp_strv *aliases; /* keys that must equal the password */
};

/*
 * Compares the secret's JSON with want.
 * Returns
 *   0       the JSON is exactly right: username, host, port (a string), dbname equal want,
 *           engine is "postgres", password is a non-empty string and every alias equals it;
 *   1       the password is usable but some keys need correcting;
 *   -EINVAL the text is not a JSON object, or it has no usable password (missing, not a
 *           string, empty): the secret cannot be adopted;
 *   -ENOMEM.
 * When ret_problem is not NULL it is set on every return but -ENOMEM: NULL for 0, else a
 * malloc'd text such as "missing engine; port is a number" that names keys only (free()).
 * A managed key that appears twice in the object is reported ("duplicate key username").
 */
int gp_secret_check(const char *json, const struct gp_secret_want *want, char **ret_problem);

/*
 * Copies the secret's password to *ret_password (free with gp_secret_free_string()).
 * Returns 0, -EINVAL (not a JSON object, or no usable password) or -ENOMEM.
 */
int gp_secret_password(const char *json, char **ret_password);
/* Copies the secret's "username" to *ret_username (free()). -EINVAL when it has none. */
int gp_secret_username(const char *json, char **ret_username);

/*
 * Renders the secret's JSON (compact) into out: every key of existing_json in its place, with
 * username, password, host, port (as a string), dbname, engine "postgres" and the alias keys
 * set from want and password; keys gprdsd does not manage are kept. existing_json may be NULL
 * (a new secret); when it is not a JSON object there is nothing to keep and the value is
 * rendered as new. Pass an empty out and release it with gp_buf_release_secure(): the space
 * is reserved before the text is copied in, so no copy is left behind in a reallocated block.
 * Returns 0, -EINVAL (password is NULL or empty), -ENOMEM.
 */
int gp_secret_render(const char *existing_json, const struct gp_secret_want *want,
		     const char *password, struct gp_buf *out);

/*
 * For other modules' JSON that carries secrets (daemon/sm.c's request and response bodies):
 * gp_secret_json_print() prints root compactly into out's reserved space (pass an empty out,
 * release it with gp_buf_release_secure()); returns 0, -E2BIG, -ENOMEM.
 * gp_secret_json_delete() wipes every string of the tree, then cJSON_Delete()s it; NULL is
 * fine.
 */
struct cJSON;
int gp_secret_json_print(const struct cJSON *root, struct gp_buf *out);
void gp_secret_json_delete(struct cJSON *root);

/* Wipes s (explicit_bzero over its length) and frees it; NULL is fine. */
void gp_secret_free_string(char *s);

static inline void
gp_secret_free_stringp(char **s)
{
	gp_secret_free_string(*s);
	*s = NULL;
}
#define _cleanup_secret_ _cleanup_(gp_secret_free_stringp)

/*
 * The master secret (goldenpath/<env>/rds/master): host, port, username, password, dbname.
 * Every member is an owned string after gp_master_parse(); port is decimal text.
 */
struct gp_master {
	char *host;
	char *port;
	char *username;
	char *password;
	char *dbname;
};

/*
 * Parses the master secret's JSON. username and password are required non-empty strings; host
 * is optional ("" when absent: RDS-managed master secrets carry none, and the config then
 * names the endpoint); port may be a string or an integer number in 1..65535 and defaults to "5432" when
 * absent; dbname is optional (default "postgres"). Other keys (engine, dbInstanceIdentifier)
 * are ignored. Returns 0 and *ret; -EINVAL with *ret_problem (when not NULL; keys only, e.g.
 * "missing password; port is not a number or string"; free()); -ENOMEM. *ret is written only on
 * success.
 */
int gp_master_parse(const char *json, struct gp_master *ret, char **ret_problem);

/* Frees every member, wiping the password first; leaves *m zeroed. */
void gp_master_release(struct gp_master *m);

#endif
