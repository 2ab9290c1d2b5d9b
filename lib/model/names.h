/*
 * model/names.h — one home for every naming rule gprdsd applies (STYLE "one home for each
 * rule"): the environments it knows, the rules for database names, usernames, app keys and
 * requesters (DESIGN §1.4), reserved names, secret names (template, expansion, prefix,
 * defaults, Secrets Manager's own limits), and how gprdsd marks what it manages: the comment
 * on each role and the tag on each secret. "Is this role / secret ours?" has exactly one
 * answer, here; the executor's guard against destroying anything unmanaged asks it.
 *
 * Pure: no I/O. Strings returned by the gp_check_* functions are static rule texts.
 */
#ifndef GP_MODEL_NAMES_H
#define GP_MODEL_NAMES_H

#include "base/util.h"

/* ---------------------------------------------------------------------------------------
 * Environments
 */

#define GP_N_ENVIRONMENTS 5
/* dev, test, staging, prod, ephemeral, then NULL: the order of config, status and slots. */
extern const char *const gp_environments[GP_N_ENVIRONMENTS + 1];
/* The index of name in gp_environments, or -EINVAL. */
int gp_environment_index(const char *name);

/* ---------------------------------------------------------------------------------------
 * Names of databases, roles, app keys and requesters (DESIGN §1.4)
 */

/* Each returns NULL when valid, else a static description of the rule that failed. */
const char *gp_check_database_name(const char *s);
const char *gp_check_username(const char *s);
const char *gp_check_app_key(const char *s);
/* The longest app key gp_check_app_key() accepts, in bytes. */
#define GP_APP_KEY_MAX 63
const char *gp_check_requester(const char *s);
#define GP_RULE_REQUESTER "must match ^[a-z0-9-]+$"
/*
 * Reserved names (always rejected): prefix pg_ or rds, postgres, template0, template1,
 * rdsadmin, public, and the master user and master database when known (may be NULL).
 * Comparisons ignore case. gp_name_reserved_why() returns why ("is reserved (the master
 * user)"), or NULL when s is not reserved.
 */
const char *gp_name_reserved_why(const char *s, const char *master_user, const char *master_db);
bool gp_name_reserved(const char *s, const char *master_user, const char *master_db);

/* The second login role of an entry under alternating rotation: "<username>_alt". */
#define GP_ALT_SUFFIX "_alt"
char *gp_alt_username(const char *username);

/* ---------------------------------------------------------------------------------------
 * Secret names (DESIGN §5)
 */

#define GP_DEFAULT_SECRET_TEMPLATE "goldenpath/{env}/{key}/postgres"
#define GP_DEFAULT_MASTER_SECRET "goldenpath/{env}/rds/master"
/* Secrets Manager's limit on a secret's name. */
#define GP_SECRET_NAME_MAX 512

/*
 * Replaces "{env}" by env and "{key}" by key; a NULL argument leaves its placeholder as
 * written, and other text, braces included, is copied. NULL on ENOMEM.
 */
char *gp_name_expand(const char *tmpl, const char *env, const char *key);
/* Why a secret-name template is unusable (other placeholders than {env} and {key}, no {key}),
 * or NULL. */
const char *gp_secret_template_check(const char *tmpl);
/*
 * Secrets Manager's rules for an expanded secret name: 1..GP_SECRET_NAME_MAX characters, each
 * an ASCII letter or digit or one of /_+=.@- . NULL when name obeys them, else the rule that
 * failed ("is longer than 512 characters, ..."), to follow the name in a message.
 */
const char *gp_check_secret_name(const char *name);
/*
 * Why tmpl (a template that passed gp_secret_template_check()) cannot name env's secrets:
 * expanded for env (NULL: for each known environment) with the longest valid app key, it
 * breaks gp_check_secret_name(). NULL when every such name is valid. Static text; on ENOMEM,
 * a text saying the template could not be checked.
 */
const char *gp_secret_template_check_names(const char *tmpl, const char *env);
/* The name of env's secret for key: tmpl (NULL or "": the default) expanded. NULL on ENOMEM. */
char *gp_secret_name(const char *tmpl, const char *env, const char *key);
/* The prefix every secret of env shares: the expanded template up to {key}. */
char *gp_secret_prefix(const char *tmpl, const char *env);
/* The master secret's name: configured (NULL or "": the default, expanded for env). */
char *gp_master_secret_name(const char *configured, const char *env);

/* ---------------------------------------------------------------------------------------
 * What gprdsd manages
 */

/* The role comment: "managed by gprdsd: env=<env> key=<key>". -EINVAL when env or key is
 * empty. */
int gp_role_marker(const char *env, const char *key, struct gp_buf *out);
/* Whether comment is gprdsd's marker for a role of env (any key). */
bool gp_role_marked(const char *comment, const char *env);
/* The key a marker of env names (a pointer into comment), or NULL when it is none. */
const char *gp_role_marker_key(const char *comment, const char *env);

/* The tag every managed secret carries (besides Environment and Application). */
#define GP_SECRET_TAG_KEY "managed-by"
#define GP_SECRET_TAG_VALUE "gprdsd"
#define GP_SECRET_TAG_ENV "Environment"
#define GP_SECRET_TAG_APP "Application"
/* Whether the tag (key, value) is gprdsd's managed-by tag. */
bool gp_secret_tag_marks(const char *key, const char *value);

#endif
