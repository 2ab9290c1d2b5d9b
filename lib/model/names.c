/*
 * model/names.c — the naming rules, secret names and managed-object markers (names.h).
 *
 * No regex library: the rules are small, and hand-written checks have no locale or
 * backtracking surprises. Deliberately not here: messages about a name (plan/join.c
 * quotes and positions them) and reading configuration (inputs/config.c calls these).
 */
#include "model/names.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define RULE_DATABASE "must match ^[a-z][a-z0-9_]{2,62}$"
#define RULE_USERNAME "must match ^[a-z][a-z0-9_]{2,30}$"
#define RULE_APP_KEY "must match ^[a-z0-9][a-z0-9_-]{0,62}$"
#define RULE_MISSING "is missing"

#define MARKER_PREFIX "managed by gprdsd: env="

const char *const gp_environments[GP_N_ENVIRONMENTS + 1] = {"dev", "test", "staging", "prod",
							     "ephemeral", NULL};

int
gp_environment_index(const char *name)
{
	for (int i = 0; name && i < GP_N_ENVIRONMENTS; i++)
		if (strcmp(gp_environments[i], name) == 0)
			return i;
	return -EINVAL;
}

/* ---------------------------------------------------------------------------------------
 * Rules
 */

static bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ^[a-z][a-z0-9_]*$ with a total length in [min, max]. */
static bool
identifier_ok(const char *s, size_t min, size_t max)
{
	size_t n;

	if (!is_lower(s[0]))
		return false;
	for (n = 1; s[n]; n++) {
		if (n >= max)
			return false;
		if (!is_lower(s[n]) && !is_digit(s[n]) && s[n] != '_')
			return false;
	}
	return n >= min;
}

const char *
gp_check_database_name(const char *s)
{
	if (!s)
		return RULE_MISSING;
	return identifier_ok(s, 3, 63) ? NULL : RULE_DATABASE;
}

const char *
gp_check_username(const char *s)
{
	if (!s)
		return RULE_MISSING;
	return identifier_ok(s, 3, 31) ? NULL : RULE_USERNAME;
}

const char *
gp_check_app_key(const char *s)
{
	size_t n;

	if (!s)
		return RULE_MISSING;
	if (!is_lower(s[0]) && !is_digit(s[0]))
		return RULE_APP_KEY;
	for (n = 1; s[n]; n++) {
		if (n >= GP_APP_KEY_MAX)
			return RULE_APP_KEY;
		if (!is_lower(s[n]) && !is_digit(s[n]) && s[n] != '_' && s[n] != '-')
			return RULE_APP_KEY;
	}
	return NULL;
}

const char *
gp_check_requester(const char *s)
{
	if (!s)
		return RULE_MISSING;
	if (!*s)
		return GP_RULE_REQUESTER;
	for (; *s; s++)
		if (!is_lower(*s) && !is_digit(*s) && *s != '-')
			return GP_RULE_REQUESTER;
	return NULL;
}

/*
 * Why s is reserved, or NULL. Comparisons ignore case: every valid name is lowercase anyway,
 * and refusing "PG_x" too costs nothing while a quoted mixed-case name slipping through would.
 */
const char *
gp_name_reserved_why(const char *s, const char *master_user, const char *master_db)
{
	static const char *const names[] = {"postgres", "template0", "template1", "rdsadmin",
					    "public"};

	if (!s)
		return NULL;
	if (strncasecmp(s, "pg_", 3) == 0)
		return "is reserved (prefix pg_ belongs to PostgreSQL)";
	if (strncasecmp(s, "rds", 3) == 0)
		return "is reserved (prefix rds belongs to Amazon RDS)";
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strcasecmp(s, names[i]) == 0)
			return "is reserved";
	if (master_user && strcasecmp(s, master_user) == 0)
		return "is reserved (the master user)";
	if (master_db && strcasecmp(s, master_db) == 0)
		return "is reserved (the master database)";
	return NULL;
}

bool
gp_name_reserved(const char *s, const char *master_user, const char *master_db)
{
	return gp_name_reserved_why(s, master_user, master_db) != NULL;
}

char *
gp_alt_username(const char *username)
{
	return username ? gp_strprintf("%s" GP_ALT_SUFFIX, username) : NULL;
}

/* ---------------------------------------------------------------------------------------
 * Secret names
 */

char *
gp_name_expand(const char *s, const char *env, const char *key)
{
	struct gp_buf b = {0};

	gp_buf_reserve(&b, strlen(s) + 1);
	while (*s) {
		if (env && strncmp(s, "{env}", 5) == 0) {
			gp_buf_puts(&b, env);
			s += 5;
		} else if (key && strncmp(s, "{key}", 5) == 0) {
			gp_buf_puts(&b, key);
			s += 5;
		} else {
			gp_buf_putc(&b, *s++);
		}
	}
	return gp_buf_steal(&b);
}

/* Only {env} and {key} may appear, and {key} must: each entry needs a secret of its own. */
const char *
gp_secret_template_check(const char *s)
{
	for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{'))
		if (strncmp(p, "{env}", 5) != 0 && strncmp(p, "{key}", 5) != 0)
			return "only {env} and {key} may be used in the secret name";
	if (!strstr(s, "{key}"))
		return "the secret name must contain {key}, or every entry would share one secret";
	return NULL;
}

/* The rules of both checks below, in the order they are tested. */
enum secret_name_fault { SN_OK, SN_EMPTY, SN_LONG, SN_CHAR };

static enum secret_name_fault
secret_name_fault(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (n >= GP_SECRET_NAME_MAX)
			return SN_LONG;
		if (!is_lower(c) && !is_digit(c) && !(c >= 'A' && c <= 'Z') && !strchr("/_+=.@-", c))
			return SN_CHAR;
	}
	return n == 0 ? SN_EMPTY : SN_OK;
}

#define SN_CHARS                                                                                   \
	"has a character Secrets Manager refuses (only ASCII letters, digits and /_+=.@- are "      \
	"allowed)"

const char *
gp_check_secret_name(const char *s)
{
	static const char *const why[] = {
		[SN_EMPTY] = "must not be empty",
		[SN_LONG] = "is longer than 512 characters (Secrets Manager's limit)",
		[SN_CHAR] = SN_CHARS,
	};
	_Static_assert(GP_SECRET_NAME_MAX == 512, "the message spells the limit");

	return s ? why[secret_name_fault(s)] : why[SN_EMPTY];
}

const char *
gp_secret_template_check_names(const char *tmpl, const char *env)
{
	static const char *const why[] = {
		[SN_EMPTY] = "expands to an empty secret name",
		[SN_LONG] = "expands, for an app key of 63 characters (the longest allowed), to a "
			    "secret name longer than 512 characters (Secrets Manager's limit)",
		[SN_CHAR] = "expands to a secret name that " SN_CHARS,
	};
	char longest[GP_APP_KEY_MAX + 1];
	_Static_assert(GP_APP_KEY_MAX == 63, "the message spells the limit");

	memset(longest, 'k', GP_APP_KEY_MAX);
	longest[GP_APP_KEY_MAX] = '\0';
	for (size_t i = 0; env ? i == 0 : i < GP_N_ENVIRONMENTS; i++) {
		_cleanup_free_ char *name = gp_name_expand(tmpl, env ? env : gp_environments[i],
							   longest);
		enum secret_name_fault f;

		if (!name)
			return "could not be checked (out of memory)";
		f = secret_name_fault(name);
		if (f != SN_OK)
			return why[f];
	}
	return NULL;
}

static const char *
template_or_default(const char *tmpl)
{
	return gp_isempty(tmpl) ? GP_DEFAULT_SECRET_TEMPLATE : tmpl;
}

char *
gp_secret_name(const char *tmpl, const char *env, const char *key)
{
	return gp_name_expand(template_or_default(tmpl), env, key);
}

char *
gp_secret_prefix(const char *tmpl, const char *env)
{
	const char *t = template_or_default(tmpl);
	const char *key = strstr(t, "{key}");
	_cleanup_free_ char *head = strndup(t, key ? (size_t)(key - t) : strlen(t));

	return head ? gp_name_expand(head, env, NULL) : NULL;
}

char *
gp_master_secret_name(const char *configured, const char *env)
{
	return gp_name_expand(gp_isempty(configured) ? GP_DEFAULT_MASTER_SECRET : configured, env,
			      NULL);
}

/* ---------------------------------------------------------------------------------------
 * What gprdsd manages
 */

int
gp_role_marker(const char *env, const char *key, struct gp_buf *out)
{
	if (gp_isempty(env) || gp_isempty(key))
		return -EINVAL;
	return gp_buf_printf(out, MARKER_PREFIX "%s key=%s", env, key);
}

bool
gp_role_marked(const char *comment, const char *env)
{
	size_t n = strlen(MARKER_PREFIX), m = env ? strlen(env) : 0;

	if (!comment || !m || strncmp(comment, MARKER_PREFIX, n) != 0)
		return false;
	return strncmp(comment + n, env, m) == 0 && strncmp(comment + n + m, " key=", 5) == 0 &&
	       comment[n + m + 5] != '\0';
}

const char *
gp_role_marker_key(const char *comment, const char *env)
{
	if (!gp_role_marked(comment, env))
		return NULL;
	return comment + strlen(MARKER_PREFIX) + strlen(env) + 5;
}

bool
gp_secret_tag_marks(const char *key, const char *value)
{
	return gp_streq(key, GP_SECRET_TAG_KEY) && gp_streq(value, GP_SECRET_TAG_VALUE);
}
