/*
 * config.c — gprdsd.yaml (DESIGN §7) into struct gp_config, driven by two tables: one for the
 * top-level keys and one for the keys of each environments.<env> mapping. A table row names a
 * key by its dotted path and gives its type, where it is stored, its default (written as it
 * would be in YAML, so the same converter checks defaults and input) and one line of
 * documentation; gp_config_reference() prints the tables for the README and the man page.
 *
 * Every key is checked: an unknown key, a wrong type or a bad value is an error at its
 * position, and parsing goes on so that one run reports all of them. Relative paths are joined
 * to the config file's directory (or to repository.path for the catalog and enums).
 *
 * Deliberately not done here: reading the file, looking at the environment or the current
 * directory (a relative config name gives relative paths), and checking that paths exist —
 * the daemon does that when it uses them, and says which file is missing.
 */
#include "inputs/config.h"
#include "model/names.h"

#include <inttypes.h>

#include "base/doc.h"

#include <stddef.h>
#include <stdio.h>
#include <strings.h>

enum ktype {
	K_STRING,
	K_PATH,      /* relative to the config file's directory */
	K_REPO_PATH, /* relative to repository.path */
	K_BOOL,
	K_PORT,     /* int, 0 (unset) or 1..65535 */
	K_DURATION, /* uint64_t milliseconds */
	K_PERCENT,  /* unsigned 0..100, "10%" or 10 */
	K_CHOICE,   /* char *, one of choices */
	K_ENUM,     /* an enum stored as int, names from enum_name() */
	K_STRLIST,  /* struct gp_strv */
	K_COUNT,    /* unsigned 1..max */
};

#define KF_OPTIONAL (1u << 0)   /* empty or null means unset (NULL) */
#define KF_REQUIRED (1u << 1)   /* no default */
#define KF_EXPAND_ENV (1u << 2) /* "{env}" in the value becomes the environment's name */

#define SEC 1000ull
#define HOUR (3600ull * SEC)
#define DAY (86400ull * SEC)

struct ckey {
	const char *path;
	enum ktype type;
	size_t offset;
	const char *def; /* default as YAML text (K_STRLIST: its one item); NULL: none */
	const char *doc;
	unsigned flags;
	const char *const *choices;   /* K_CHOICE, NULL-terminated */
	const char *(*enum_name)(int); /* K_ENUM: name of value i, NULL past the last */
	uint64_t min, max;            /* K_DURATION bounds (max 0: no upper bound); K_COUNT max */
	const char *shown;            /* default shown in the reference when computed in code */
	/* Extra rule, given the field and the environment of its scope (NULL at the top level);
	 * returns why the value fails it, or NULL. */
	const char *(*check)(const void *field, const char *env);
};

static const char *const log_levels[] = {"debug", "info", "notice", "warning", "error", NULL};
static const char *const log_targets[] = {"auto", "journal", "console", NULL};
static const char *const orphan_modes[] = {"report", "disable", NULL};
static const char *const sslmodes[] = {"disable", "allow",     "prefer", "require",
				       "verify-ca", "verify-full", NULL};

/* K_ENUM stores through an int pointer. */
_Static_assert(sizeof(enum gp_mode) == sizeof(int), "enum gp_mode must be int-sized");
_Static_assert(sizeof(enum gp_risk) == sizeof(int), "enum gp_risk must be int-sized");
_Static_assert(sizeof(enum gp_strategy) == sizeof(int), "enum gp_strategy must be int-sized");

static const char *
mode_name(int i)
{
	return i >= 0 && i < _GP_MODE_MAX ? gp_mode_to_string((enum gp_mode)i) : NULL;
}

static const char *
strategy_name(int i)
{
	return i >= 0 && i < _GP_STRATEGY_MAX ? gp_strategy_to_string((enum gp_strategy)i) : NULL;
}

static const char *
check_window(const void *field, const char *env)
{
	const char *s = *(char *const *)field;
	unsigned a, b;

	(void)env;
	if (!s || gp_window_parse(s, &a, &b) >= 0)
		return NULL;
	return "expected a daily UTC window such as \"02:00-05:00\"";
}

static const char *
risk_name(int i)
{
	return i >= 0 && i < _GP_RISK_MAX ? gp_risk_to_string((enum gp_risk)i) : NULL;
}

static const char *
check_region(const void *field, const char *env)
{
	const char *s = *(char *const *)field;

	(void)env;
	if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s))
		return "expected an AWS region such as eu-west-2";
	return NULL;
}

/* The template's placeholders, then Secrets Manager's rules on what it expands to for this
 * environment (for every one outside an environment) with the longest app key. */
static const char *
check_secret_template(const void *field, const char *env)
{
	const char *tmpl = *(char *const *)field;
	const char *bad = gp_secret_template_check(tmpl);

	return bad ? bad : gp_secret_template_check_names(tmpl, env);
}

/* The master secret's name is expanded already ({env} is the only placeholder). */
static const char *
check_secret_name(const void *field, const char *env)
{
	(void)env;
	return gp_check_secret_name(*(char *const *)field);
}

static const char *
check_whole_days(const void *field, const char *env)
{
	(void)env;
	/* Secrets Manager takes the recovery window in days. */
	return *(const uint64_t *)field % DAY ? "expected a whole number of days (e.g. 7d)" : NULL;
}

#define G(f) offsetof(struct gp_config, f)
#define E(f) offsetof(struct gp_env_config, f)

static const struct ckey top_keys[] = {
	{.path = "repository.path", .type = K_PATH, .offset = G(repository.path),
	 .flags = KF_REQUIRED, .doc = "The git checkout of the platform repository."},
	{.path = "repository.catalog", .type = K_REPO_PATH, .offset = G(repository.catalog),
	 .def = "docs/20-contracts/resource-catalogs/rds-catalog.yaml",
	 .doc = "The RDS catalog, relative to repository.path."},
	{.path = "repository.enums", .type = K_REPO_PATH, .offset = G(repository.enums),
	 .def = "schemas/metadata/enums.yaml",
	 .doc = "The enum lists, relative to repository.path; built-in lists when it is missing."},
	{.path = "repository.sync.enabled", .type = K_BOOL, .offset = G(repository.sync.enabled),
	 .def = "false", .doc = "Before each pass, `git fetch <remote> <branch>` and `git merge --ff-only "
		"FETCH_HEAD` in the checkout (never a merge commit or a reset)."},
	{.path = "repository.sync.remote", .type = K_STRING, .offset = G(repository.sync.remote),
	 .def = "origin", .doc = "Remote to pull from."},
	{.path = "repository.sync.branch", .type = K_STRING, .offset = G(repository.sync.branch),
	 .def = "main", .doc = "Branch to pull."},
	{.path = "repository.sync.timeout", .type = K_DURATION,
	 .offset = G(repository.sync.timeout_ms), .def = "60s", .min = SEC,
	 .doc = "How long each git command of the sync may take before it is killed."},
	{.path = "reconcile.interval", .type = K_DURATION, .offset = G(reconcile.interval_ms),
	 .def = "60s", .min = SEC, .doc = "Time between full reconcile passes."},
	{.path = "reconcile.jitter", .type = K_PERCENT, .offset = G(reconcile.jitter_pct),
	 .def = "10%", .doc = "Random spread around the interval (plus or minus), in percent of it."},
	{.path = "reconcile.verify_interval", .type = K_DURATION,
	 .offset = G(reconcile.verify_interval_ms), .def = "12h",
	 .doc = "How often each entry's credentials are re-checked by logging in (0s: every "
		"pass)."},
	{.path = "reconcile.retry_base", .type = K_DURATION, .offset = G(reconcile.retry_base_ms),
	 .def = "30s", .min = SEC, .doc = "First retry delay after a failure (doubles each time)."},
	{.path = "reconcile.retry_max", .type = K_DURATION, .offset = G(reconcile.retry_max_ms),
	 .def = "1h", .min = SEC, .doc = "Longest retry delay."},
	{.path = "reconcile.stall_timeout", .type = K_DURATION,
	 .offset = G(reconcile.stall_timeout_ms), .def = "10m", .min = SEC,
	 .doc = "A running pass that ends no SQL statement, connection or Secrets Manager call "
		"for this long is hung: the systemd watchdog pings stop, so that systemd restarts "
		"gprdsd."},
	{.path = "state_dir", .type = K_PATH, .offset = G(state_dir), .def = "/var/lib/gprdsd",
	 .doc = "Where gprdsd keeps its per-environment lifecycle records."},
	{.path = "audit_dir", .type = K_PATH, .offset = G(audit_dir),
	 .shown = "`<state_dir>/audit`", .doc = "Audit CSV files, one directory per environment."},
	{.path = "metrics_file", .type = K_PATH, .offset = G(metrics_file), .flags = KF_OPTIONAL,
	 .shown = "`\"\"` (none)",
	 .doc = "Prometheus text file for node_exporter's textfile collector."},
	{.path = "log_level", .type = K_CHOICE, .offset = G(log_level), .def = "info",
	 .choices = log_levels, .doc = "Least severe message that is logged."},
	{.path = "log_target", .type = K_CHOICE, .offset = G(log_target), .def = "auto",
	 .choices = log_targets,
	 .doc = "Where logs go; auto: the journal when run by systemd, else stderr."},
	{.path = "aws.region", .type = K_STRING, .offset = G(aws.region), .def = "eu-west-2",
	 .check = check_region, .doc = "Region of Secrets Manager."},
	{.path = "aws.endpoint", .type = K_STRING, .offset = G(aws.endpoint),
	 .flags = KF_OPTIONAL, .shown = "`\"\"` (regional endpoint)",
	 .doc = "Secrets Manager endpoint URL, for VPC endpoints and tests."},
	{.path = "aws.profile", .type = K_STRING, .offset = G(aws.profile), .flags = KF_OPTIONAL,
	 .shown = "`\"\"` (AWS_PROFILE or default)",
	 .doc = "Profile of the shared credentials file."},
	{.path = "aws.timeout", .type = K_DURATION, .offset = G(aws.timeout_ms), .def = "10s",
	 .min = SEC, .doc = "Timeout of one Secrets Manager call."},
	{.path = "aws.write_interval", .type = K_DURATION, .offset = G(aws.write_interval_ms),
	 .def = "25ms", .max = 60 * SEC,
	 .doc = "Least time between the starts of two write calls, to stay under the write quota."},
};

static const struct ckey env_keys[] = {
	{.path = "mode", .type = K_ENUM, .offset = E(mode), .def = "auto", .enum_name = mode_name,
	 .doc = "Which tfvars file is read: auto picks coupled when rds_config.enabled is true."},
	{.path = "master_secret", .type = K_STRING, .offset = E(master_secret),
	 .def = GP_DEFAULT_MASTER_SECRET, .flags = KF_EXPAND_ENV, .check = check_secret_name,
	 .doc = "Secret with the RDS master credentials."},
	{.path = "postgres.host", .type = K_STRING, .offset = E(postgres.host),
	 .flags = KF_OPTIONAL, .shown = "`\"\"` (from the master secret)",
	 .doc = "Host gprdsd connects to, e.g. a tunnel."},
	{.path = "postgres.port", .type = K_PORT, .offset = E(postgres.port), .def = "0",
	 .doc = "Port gprdsd connects to; 0: from the master secret."},
	{.path = "postgres.sslmode", .type = K_CHOICE, .offset = E(postgres.sslmode),
	 .def = "verify-full", .choices = sslmodes, .doc = "libpq sslmode."},
	{.path = "postgres.sslrootcert", .type = K_PATH, .offset = E(postgres.sslrootcert),
	 .flags = KF_OPTIONAL, .shown = "`\"\"` (libpq default)",
	 .doc = "CA bundle for verify-ca and verify-full (e.g. the RDS global bundle)."},
	{.path = "postgres.connect_timeout", .type = K_DURATION,
	 .offset = E(postgres.connect_timeout_ms), .def = "10s", .min = SEC,
	 .doc = "Timeout of a connection attempt."},
	{.path = "postgres.statement_timeout", .type = K_DURATION,
	 .offset = E(postgres.statement_timeout_ms), .def = "30s", .min = SEC,
	 .doc = "statement_timeout of gprdsd's sessions."},
	{.path = "allow_provision", .type = K_BOOL, .offset = E(allow_provision),
	 .shown = "`true` for dev, else `false`",
	 .doc = "Whether pending entries may be provisioned."},
	{.path = "allow_delete", .type = K_BOOL, .offset = E(allow_delete), .def = "false",
	 .doc = "Whether confirmed decommissions may drop databases, roles and secrets."},
	{.path = "orphans", .type = K_CHOICE, .offset = E(orphans), .def = "report",
	 .choices = orphan_modes,
	 .doc = "What happens to a managed role whose entry left the inputs: report it, or "
		"disable its login (NOLOGIN; its return enables it again)."},
	{.path = "decommission.dump_dir", .type = K_PATH, .offset = E(dump_dir),
	 .flags = KF_OPTIONAL, .shown = "`\"\"` (no dump)",
	 .doc = "Where a database is dumped (pg_dump -Fc, checked with pg_restore --list) before "
		"it is dropped; a failed dump stops the decommission."},
	{.path = "guard.max_credential_changes", .type = K_COUNT,
	 .offset = E(guard.max_credential_changes), .def = "5", .max = 100000,
	 .doc = "More new secrets or password resets of active entries than this in one pass "
		"change nothing in the environment (gprdsd --once --confirm-mass-change proceeds)."},
	{.path = "guard.max_decommissions", .type = K_COUNT, .offset = E(guard.max_decommissions),
	 .def = "3", .max = 100000,
	 .doc = "More databases decommissioned than this in one pass change nothing in the "
		"environment (gprdsd --once --confirm-mass-change proceeds)."},
	{.path = "defaults.risk", .type = K_ENUM, .offset = E(defaults.risk), .def = "medium",
	 .enum_name = risk_name, .doc = "Risk of entries that have no catalog entry."},
	{.path = "defaults.createdb", .type = K_BOOL, .offset = E(defaults.createdb),
	 .def = "true", .doc = "Whether owner roles get CREATEDB (editor and reader roles never do)."},
	{.path = "rotation.none", .type = K_DURATION, .offset = E(rotation_ms[GP_RISK_NONE]),
	 .def = "30d", .min = HOUR, .doc = "Password rotation period for risk none."},
	{.path = "rotation.low", .type = K_DURATION, .offset = E(rotation_ms[GP_RISK_LOW]),
	 .def = "30d", .min = HOUR, .doc = "Password rotation period for risk low."},
	{.path = "rotation.medium", .type = K_DURATION, .offset = E(rotation_ms[GP_RISK_MEDIUM]),
	 .def = "30d", .min = HOUR, .doc = "Password rotation period for risk medium."},
	{.path = "rotation.high", .type = K_DURATION, .offset = E(rotation_ms[GP_RISK_HIGH]),
	 .def = "14d", .min = HOUR, .doc = "Password rotation period for risk high."},
	{.path = "rotation.access", .type = K_DURATION, .offset = E(rotation_ms[GP_RISK_ACCESS]),
	 .def = "14d", .min = HOUR, .doc = "Password rotation period for risk access."},
	{.path = "rotation.strategy", .type = K_ENUM, .offset = E(rotation.strategy),
	 .def = "single", .enum_name = strategy_name,
	 .doc = "single: the role's password changes in place; alternating: two login roles, "
		"USERNAME and USERNAME_alt, take turns (zero downtime). A catalog entry may "
		"override it with configuration.rotation_strategy."},
	{.path = "rotation.warn_before", .type = K_DURATION, .offset = E(rotation.warn_before_ms),
	 .def = "5d", .doc = "A password this close to its rotation is reported as soon due."},
	{.path = "rotation.max_per_pass", .type = K_COUNT, .offset = E(rotation.max_per_pass),
	 .def = "10", .max = 1000,
	 .doc = "Rotations started in one pass at most (oldest first); on-demand ones first."},
	{.path = "rotation.window", .type = K_STRING, .offset = E(rotation.window),
	 .flags = KF_OPTIONAL, .shown = "`\"\"` (any time)", .check = check_window,
	 .doc = "Daily UTC window (\"02:00-05:00\") in which scheduled rotations start; "
		"on-demand ones and rotations already in progress are not held by it."},
	{.path = "secret.name", .type = K_STRING, .offset = E(secret.name),
	 .def = GP_DEFAULT_SECRET_TEMPLATE, .check = check_secret_template,
	 .doc = "Name template of application secrets; {env} and {key} are replaced."},
	{.path = "secret.password_aliases", .type = K_STRLIST, .offset = E(secret.password_aliases),
	 .def = "postgres-password", .doc = "Extra JSON keys that mirror the password."},
	{.path = "secret.recovery_window", .type = K_DURATION,
	 .offset = E(secret.recovery_window_ms), .def = "7d", .min = 7 * DAY, .max = 30 * DAY,
	 .check = check_whole_days, .doc = "Recovery window of deleted secrets."},
	{.path = "secret.kms_key_id", .type = K_STRING, .offset = E(secret.kms_key_id),
	 .flags = KF_OPTIONAL, .shown = "`\"\"` (AWS managed key)",
	 .doc = "KMS key for new secrets."},
	{.path = "secret.host", .type = K_STRING, .offset = E(secret.host), .flags = KF_OPTIONAL,
	 .shown = "`\"\"` (from the master secret)",
	 .doc = "host written into application secrets, e.g. an RDS Proxy."},
	{.path = "secret.port", .type = K_PORT, .offset = E(secret.port), .def = "0",
	 .doc = "port written into application secrets; 0: from the master secret."},
};

#undef G
#undef E

/* One table applied to one struct: the top level, or one environment. */
struct scope {
	const struct ckey *keys;
	size_t n;
	void *base;
	const char *env;     /* environment name, NULL at the top level */
	const char *display; /* prefix of key paths in messages: "" or "environments.dev." */
	const struct gp_node **set; /* per key: the value that set it (NULL: default), or NULL */
};

struct cparse {
	const struct gp_doc *doc;
	struct gp_diags *diags;
	struct gp_config *c;
	const struct gp_node **top_set; /* per top_keys row: the value that set it */
	const struct gp_node *envs;     /* the environments: value */
	int oom;                        /* -ENOMEM once an allocation failed */
};

static void *
field_of(const struct scope *s, const struct ckey *k)
{
	return (char *)s->base + k->offset;
}

static const char *
type_name(enum ktype t)
{
	static const char *const names[] = {
		[K_STRING] = "string",     [K_PATH] = "path",     [K_REPO_PATH] = "path",
		[K_BOOL] = "bool",         [K_PORT] = "port",     [K_DURATION] = "duration",
		[K_PERCENT] = "percent",   [K_CHOICE] = "enum",   [K_ENUM] = "enum",
		[K_STRLIST] = "list of strings", [K_COUNT] = "count",
	};
	return names[t];
}

/* Writes why a value is bad and returns r (or -ENOMEM when even that failed). */
static int
fail(struct gp_buf *why, int r, const char *fmt, ...) _printf_(3, 4);

static int
fail(struct gp_buf *why, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gp_buf_vprintf(why, fmt, ap);
	va_end(ap);
	return why->oom ? -ENOMEM : r;
}

static void
choices_list(struct gp_buf *b, const struct ckey *k)
{
	for (int i = 0;; i++) {
		const char *name = k->type == K_CHOICE ? k->choices[i] : k->enum_name(i);

		if (!name)
			break;
		gp_buf_printf(b, "%s%s", i ? ", " : "", name);
	}
}

static int
fail_choice(struct gp_buf *why, const struct ckey *k, const char *s)
{
	gp_buf_printf(why, "\"%s\" is not one of ", s);
	choices_list(why, k);
	return why->oom ? -ENOMEM : -EINVAL;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	if (*s)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* YAML 1.1 spellings too: people write `yes` and expect it to work. */
static int
parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
			*ret = strcasecmp(s, yes[i]) == 0;
			return 0;
		}
	}
	return -EINVAL;
}

static int
parse_percent(const char *s, unsigned *ret)
{
	size_t n = strlen(s);
	unsigned long v;
	char num[8];

	if (n && s[n - 1] == '%')
		n--;
	if (n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_uint(num, 100, &v) < 0)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

/* gp_duration_format() with "0" for zero, as a user would write it. */
static void
format_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0");
	else
		gp_duration_format(ms, buf, len);
}

static int
set_duration(const struct ckey *k, uint64_t *f, const char *s, struct gp_buf *why)
{
	char lo[32], hi[32];
	uint64_t ms;

	if (gp_duration_parse(s, &ms) < 0)
		return fail(why, -EINVAL,
			    "expected a duration such as 30s, 5m, 1h or 14d, not \"%s\"", s);
	format_duration(k->min, lo, sizeof(lo));
	format_duration(k->max, hi, sizeof(hi));
	if (k->max && (ms < k->min || ms > k->max))
		return fail(why, -ERANGE, "must be between %s and %s, not %s", lo, hi, s);
	if (ms < k->min)
		return fail(why, -ERANGE, "must be at least %s, not %s", lo, s);
	*f = ms;
	return 0;
}

/* Strings of all kinds: the value is copied, "{env}" expanded where the key asks for it. */
static int
set_string(const struct ckey *k, char **f, const char *s, const char *env, struct gp_buf *why)
{
	char *v = NULL;

	if (!*s && !(k->flags & KF_OPTIONAL))
		return fail(why, -EINVAL, "must not be empty");
	if (k->type == K_CHOICE) {
		size_t i = 0;

		while (k->choices[i] && strcmp(k->choices[i], s) != 0)
			i++;
		if (!k->choices[i])
			return fail_choice(why, k, s);
	}
	if (*s) {
		v = gp_name_expand(s, k->flags & KF_EXPAND_ENV ? env : NULL, NULL);
		if (!v)
			return -ENOMEM;
	}
	free(*f);
	*f = v;
	return 0;
}

static int
set_enum(const struct ckey *k, int *f, const char *s, struct gp_buf *why)
{
	for (int i = 0; k->enum_name(i); i++) {
		if (strcmp(k->enum_name(i), s) == 0) {
			*f = i;
			return 0;
		}
	}
	return fail_choice(why, k, s);
}

/*
 * Converts the text s into the key's field. A bad value returns -EINVAL or -ERANGE with the
 * reason in why; -ENOMEM is returned as it is.
 */
static int
set_scalar(const struct ckey *k, void *f, const char *s, const char *env, struct gp_buf *why)
{
	unsigned long port;
	const char *bad;
	int r = 0;

	switch (k->type) {
	case K_BOOL:
		if (parse_bool(s, f) < 0)
			r = fail(why, -EINVAL, "expected true or false, not \"%s\"", s);
		break;
	case K_PORT:
		if (parse_uint(s, 65535, &port) < 0)
			r = fail(why, -EINVAL,
				 "expected a port 1..65535 (or 0: unset), not \"%s\"", s);
		else
			*(int *)f = (int)port;
		break;
	case K_PERCENT:
		if (parse_percent(s, f) < 0)
			r = fail(why, -EINVAL,
				 "expected a percentage 0..100 such as 10%%, not \"%s\"", s);
		break;
	case K_DURATION:
		r = set_duration(k, f, s, why);
		break;
	case K_ENUM:
		r = set_enum(k, f, s, why);
		break;
	case K_STRLIST:
		r = gp_strv_push(f, s);
		break;
	case K_COUNT:
		if (parse_uint(s, k->max, &port) < 0 || port < 1)
			r = fail(why, -EINVAL, "expected a whole number 1..%" PRIu64 ", not \"%s\"",
				 k->max, s);
		else
			*(unsigned *)f = (unsigned)port;
		break;
	default:
		r = set_string(k, f, s, env, why);
		break;
	}
	if (r >= 0 && k->check && (bad = k->check(f, env)))
		r = fail(why, -EINVAL, "%s", bad);
	return r;
}

static void
release_fields(const struct ckey *keys, size_t n, void *base)
{
	for (size_t i = 0; i < n; i++) {
		void *f = (char *)base + keys[i].offset;

		switch (keys[i].type) {
		case K_STRING:
		case K_PATH:
		case K_REPO_PATH:
		case K_CHOICE:
			free(*(char **)f);
			*(char **)f = NULL;
			break;
		case K_STRLIST:
			gp_strv_release(f);
			break;
		default:
			break;
		}
	}
}

/* Fills every field from the table's defaults, which are written in the table as YAML text. */
static int
apply_defaults(const struct scope *s)
{
	struct gp_buf why = {0};
	int r = 0;

	for (size_t i = 0; i < s->n && r >= 0; i++) {
		const struct ckey *k = &s->keys[i];

		if (k->def)
			r = set_scalar(k, field_of(s, k), k->def, s->env, &why);
	}
	gp_buf_release(&why);
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Walking the tree
 */

static void
add_error_v(struct cparse *x, unsigned line, unsigned col, const char *fmt, va_list ap)
	_printf_(4, 0);

static void
add_error_v(struct cparse *x, unsigned line, unsigned col, const char *fmt, va_list ap)
{
	if (gp_diags_vadd(x->diags, GP_SEV_ERROR, -EINVAL, x->doc->name, line, col, fmt, ap) < 0)
		x->oom = -ENOMEM;
}

/* An error at a node (its first character), or without a position when at is NULL. */
static void
add_error(struct cparse *x, const struct gp_node *at, const char *fmt, ...) _printf_(3, 4);

static void
add_error(struct cparse *x, const struct gp_node *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error_v(x, at ? at->line : 0, at ? at->col : 0, fmt, ap);
	va_end(ap);
}

static void
add_error_at(struct cparse *x, unsigned line, unsigned col, const char *fmt, ...) _printf_(4, 5);

static void
add_error_at(struct cparse *x, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_error_v(x, line, col, fmt, ap);
	va_end(ap);
}

/* A list key: every item a non-empty string. The whole list replaces the default. */
static void
set_list(struct cparse *x, const struct scope *s, const struct ckey *k, const struct gp_node *v)
{
	struct gp_strv fresh = {0};
	struct gp_strv *f = field_of(s, k);

	if (v->kind != GP_NODE_LIST && !gp_node_is_null(v)) {
		add_error(x, v, "%s%s: expected a list of strings, not a %s", s->display, k->path,
			  gp_node_shape_name(v));
		return;
	}
	for (size_t i = 0; v->kind == GP_NODE_LIST && i < v->n; i++) {
		const struct gp_node *it = v->items[i];

		if (it->kind != GP_NODE_STRING || it->len == 0)
			add_error(x, it, "%s%s: items must be non-empty strings", s->display,
				  k->path);
		else if (gp_strv_push(&fresh, it->str) < 0)
			x->oom = -ENOMEM;
	}
	gp_strv_release(f);
	*f = fresh;
}

/* Sets one key from its YAML value; problems become errors at the value. */
static void
set_from_node(struct cparse *x, const struct scope *s, const struct ckey *k,
	      const struct gp_node *v)
{
	struct gp_buf why = {0};
	int r;

	if (s->set)
		s->set[k - s->keys] = v;
	if (k->type == K_STRLIST) {
		set_list(x, s, k, v);
		return;
	}
	if (v->kind != GP_NODE_STRING) {
		add_error(x, v, "%s%s: expected a %s, not a %s", s->display, k->path,
			  type_name(k->type), gp_node_shape_name(v));
		return;
	}
	/* A plain ~ or null is YAML's null: for a string that means empty. */
	r = set_scalar(k, field_of(s, k), gp_node_is_null(v) ? "" : v->str, s->env, &why);
	if (r == -ENOMEM)
		x->oom = r;
	else if (r < 0)
		add_error(x, v, "%s%s: %s", s->display, k->path, why.p);
	gp_buf_release(&why);
}

/* Copies into buf the name at this level (after prefix) closest to key, when it is close. */
static bool
suggest(const struct scope *s, const char *prefix, const char *key, char *buf, size_t len)
{
	size_t plen = strlen(prefix), best = 3;
	bool found = false;
	char cand[64];

	/* Two edits turn "x" into "aws": a hint only helps when most of the key survives. */
	if (strlen(key) < best)
		best = strlen(key);
	if (!s->env && !*prefix && gp_edit_distance(key, "environments") < 3) {
		snprintf(buf, len, "environments");
		return true;
	}
	for (size_t i = 0; i < s->n; i++) {
		const char *rest;
		size_t n, d;

		if (strncmp(s->keys[i].path, prefix, plen) != 0)
			continue;
		rest = s->keys[i].path + plen;
		n = strcspn(rest, ".");
		if (n >= sizeof(cand))
			continue;
		memcpy(cand, rest, n);
		cand[n] = '\0';
		d = gp_edit_distance(key, cand);
		if (d < best) {
			best = d;
			found = true;
			snprintf(buf, len, "%s", cand);
		}
	}
	return found;
}

static void
unknown_key(struct cparse *x, const struct scope *s, const char *prefix,
	    const struct gp_member *m)
{
	struct gp_buf where = {0};
	char hint[64];

	/* "environments.dev." + "postgres." → "in environments.dev.postgres" */
	gp_buf_printf(&where, "%s%s", s->display, prefix);
	if (where.len)
		where.p[--where.len] = '\0';
	if (suggest(s, prefix, m->key, hint, sizeof(hint)))
		add_error_at(x, m->line, m->col, "unknown key \"%s\" %s%s (did you mean \"%s\"?)",
			     m->key, where.len ? "in " : "at the top level",
			     where.len ? where.p : "", hint);
	else
		add_error_at(x, m->line, m->col, "unknown key \"%s\" %s%s", m->key,
			     where.len ? "in " : "at the top level", where.len ? where.p : "");
	if (where.oom)
		x->oom = -ENOMEM;
	gp_buf_release(&where);
}

static const struct ckey *
find_key(const struct scope *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->keys[i].path, path) == 0)
			return &s->keys[i];
	return NULL;
}

/* True when path is a mapping of keys in the table ("aws" for "aws.region"). */
static bool
is_section(const struct scope *s, const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < s->n; i++)
		if (strncmp(s->keys[i].path, path, n) == 0 && s->keys[i].path[n] == '.')
			return true;
	return false;
}

static void parse_envs(struct cparse *x, const struct gp_node *v);
static void walk_section(struct cparse *x, const struct scope *s, const struct gp_node *v,
			 const char *path);

/*
 * Applies the members of obj to the scope; prefix is obj's path in the table ("" or "aws.").
 * Recursion follows the table, not the input, so its depth is that of the deepest key.
 */
static void
walk(struct cparse *x, const struct scope *s, const struct gp_node *obj, const char *prefix)
{
	struct gp_buf path = {0};

	for (size_t i = 0; i < obj->n && !x->oom; i++) {
		const struct gp_member *m = &obj->members[i];
		const struct ckey *k;

		path.len = 0;
		if (gp_buf_printf(&path, "%s%s", prefix, m->key) < 0) {
			x->oom = -ENOMEM;
			break;
		}
		if (!s->env && !*prefix && strcmp(m->key, "environments") == 0)
			parse_envs(x, m->value);
		else if ((k = find_key(s, path.p)))
			set_from_node(x, s, k, m->value);
		else if (is_section(s, path.p))
			walk_section(x, s, m->value, path.p);
		else
			unknown_key(x, s, prefix, m);
	}
	gp_buf_release(&path);
}

static void
walk_section(struct cparse *x, const struct scope *s, const struct gp_node *v, const char *path)
{
	struct gp_buf sub = {0};

	/* `aws:` with nothing under it is harmless: everything keeps its default. */
	if (gp_node_is_null(v))
		return;
	if (v->kind != GP_NODE_OBJECT) {
		add_error(x, v, "%s%s must be a mapping, not a %s", s->display, path,
			  gp_node_shape_name(v));
		return;
	}
	if (gp_buf_printf(&sub, "%s.", path) < 0)
		x->oom = -ENOMEM;
	else
		walk(x, s, v, sub.p);
	gp_buf_release(&sub);
}

/* ---------------------------------------------------------------------------------------
 * Environments
 */

static struct scope
env_scope(struct gp_env_config *e, const char *display)
{
	return (struct scope){.keys = env_keys, .n = ELEMENTSOF(env_keys), .base = e,
			      .env = e->name, .display = display};
}

static bool
env_known(const char *name)
{
	return gp_environment_index(name) >= 0;
}

static void
env_release(struct gp_env_config *e)
{
	release_fields(env_keys, ELEMENTSOF(env_keys), e);
	free(e->name);
	e->name = NULL;
}

static int
env_init(struct gp_env_config *e, const char *name)
{
	struct scope s;
	int r;

	e->name = strdup(name);
	if (!e->name)
		return -ENOMEM;
	s = env_scope(e, "");
	r = apply_defaults(&s);
	if (r < 0) {
		env_release(e);
		return r;
	}
	/* Like the platform's ALLOW_DB_PROVISION rule: only dev provisions without being told. */
	e->allow_provision = strcmp(name, "dev") == 0;
	return 0;
}

static void
parse_env(struct cparse *x, const struct gp_member *m)
{
	struct gp_env_config *e = &x->c->envs[x->c->n_envs];
	struct gp_buf display = {0};
	struct scope s;

	if (!env_known(m->key)) {
		add_error_at(x, m->line, m->col,
			     "unknown environment \"%s\" (expected dev, test, staging, prod or "
			     "ephemeral)",
			     m->key);
		return;
	}
	if (env_init(e, m->key) < 0) {
		x->oom = -ENOMEM;
		return;
	}
	x->c->n_envs++;
	if (gp_node_is_null(m->value))
		return;
	if (m->value->kind != GP_NODE_OBJECT) {
		add_error(x, m->value, "environments.%s must be a mapping, not a %s", m->key,
			  gp_node_shape_name(m->value));
		return;
	}
	if (gp_buf_printf(&display, "environments.%s.", m->key) < 0) {
		gp_buf_release(&display);
		x->oom = -ENOMEM;
		return;
	}
	s = env_scope(e, display.p);
	walk(x, &s, m->value, "");
	gp_buf_release(&display);
}

static void
parse_envs(struct cparse *x, const struct gp_node *v)
{
	x->envs = v;
	if (gp_node_is_null(v))
		return; /* reported by finish() as "no environment" */
	if (v->kind != GP_NODE_OBJECT) {
		add_error(x, v, "environments must be a mapping of environment names, not a %s",
			  gp_node_shape_name(v));
		return;
	}
	x->c->envs = calloc(v->n ? v->n : 1, sizeof(*x->c->envs));
	if (!x->c->envs) {
		x->oom = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < v->n && !x->oom; i++)
		parse_env(x, &v->members[i]);
}

/* ---------------------------------------------------------------------------------------
 * After the walk: paths, computed defaults and rules that involve more than one key
 */

/* Joins a relative path to dir; "." as dir keeps it relative (to wherever the name was). */
static char *
path_join(const char *dir, const char *p)
{
	struct gp_buf b = {0};

	if (p[0] == '/')
		return strdup(p);
	while (p[0] == '.' && p[1] == '/')
		for (p += 2; *p == '/'; p++)
			;
	if (!*p || strcmp(p, ".") == 0)
		return strdup(dir);
	if (strcmp(dir, ".") == 0)
		return strdup(p);
	gp_buf_printf(&b, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", p);
	return gp_buf_steal(&b);
}

static char *
dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');

	if (!slash)
		return strdup(".");
	if (slash == name)
		return strdup("/");
	return strndup(name, (size_t)(slash - name));
}

/* Resolves every set path of the given type against base. */
static int
resolve_paths(const struct ckey *keys, size_t n, void *obj, enum ktype type, const char *base)
{
	for (size_t i = 0; i < n; i++) {
		char **f = (char **)((char *)obj + keys[i].offset);
		char *p;

		if (keys[i].type != type || !*f)
			continue;
		p = path_join(base, *f);
		if (!p)
			return -ENOMEM;
		free(*f);
		*f = p;
	}
	return 0;
}

static const struct gp_node *
top_node(const struct cparse *x, const char *path)
{
	const struct scope s = {.keys = top_keys, .n = ELEMENTSOF(top_keys)};
	const struct ckey *k = find_key(&s, path);

	return k ? x->top_set[k - top_keys] : NULL;
}

static int
finish_paths(struct cparse *x)
{
	struct gp_config *c = x->c;
	int r;

	r = resolve_paths(top_keys, ELEMENTSOF(top_keys), c, K_PATH, c->dir);
	for (size_t i = 0; i < c->n_envs && r >= 0; i++)
		r = resolve_paths(env_keys, ELEMENTSOF(env_keys), &c->envs[i], K_PATH, c->dir);
	if (r >= 0 && c->repository.path)
		r = resolve_paths(top_keys, ELEMENTSOF(top_keys), c, K_REPO_PATH,
				  c->repository.path);
	if (r >= 0 && !c->audit_dir) {
		c->audit_dir = path_join(c->state_dir, "audit");
		if (!c->audit_dir)
			r = -ENOMEM;
	}
	return r;
}

static void
finish_checks(struct cparse *x)
{
	const struct gp_node *root = x->doc->root, *at;
	const struct gp_member *repo = gp_node_member(root, "repository");
	struct gp_config *c = x->c;

	if (!c->repository.path)
		add_error_at(x, repo ? repo->line : root->line, repo ? repo->col : root->col,
			     "repository.path is required: the git checkout to read");
	if (!x->envs || (x->envs->kind == GP_NODE_OBJECT && x->envs->n == 0) ||
	    gp_node_is_null(x->envs))
		add_error(x, x->envs ? x->envs : root,
			  "at least one environment is required under \"environments\"");
	if (c->reconcile.retry_base_ms > c->reconcile.retry_max_ms) {
		at = top_node(x, "reconcile.retry_base");
		add_error(x, at ? at : top_node(x, "reconcile.retry_max"),
			  "reconcile.retry_base must not be longer than reconcile.retry_max");
	}
}

/* ---------------------------------------------------------------------------------------
 * Public API
 */

void
gp_config_free(struct gp_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_envs; i++)
		env_release(&c->envs[i]);
	free(c->envs);
	release_fields(top_keys, ELEMENTSOF(top_keys), c);
	free(c->file);
	free(c->dir);
	free(c);
}

static int
config_new(const char *name, struct gp_config **ret)
{
	_cleanup_(gp_config_freep) struct gp_config *c = calloc(1, sizeof(*c));
	struct scope s = {.keys = top_keys, .n = ELEMENTSOF(top_keys), .display = ""};
	int r;

	if (!c)
		return -ENOMEM;
	c->file = strdup(name);
	c->dir = dir_of(name);
	if (!c->file || !c->dir)
		return -ENOMEM;
	s.base = c;
	r = apply_defaults(&s);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

int
gp_config_parse(const char *buf, size_t len, const char *name, struct gp_config **ret,
		struct gp_diags *diags)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;
	_cleanup_(gp_config_freep) struct gp_config *c = NULL;
	const struct gp_node *top_set[ELEMENTSOF(top_keys)] = {0};
	struct cparse x = {.diags = diags, .top_set = top_set};
	size_t errors = diags->errors;
	struct scope s;
	int r;

	r = gp_yaml_parse(buf, len, name, &doc, diags);
	if (r < 0)
		return r;
	if (!doc->root || doc->root->kind != GP_NODE_OBJECT) {
		r = gp_diag_error(diags, -EINVAL, doc->name, doc->root ? doc->root->line : 0,
				  doc->root ? doc->root->col : 0,
				  doc->root ? "expected a mapping of settings at the top level"
					    : "the configuration file is empty");
		return r < 0 ? r : -EINVAL;
	}
	r = config_new(doc->name, &c);
	if (r < 0)
		return r;
	x.doc = doc;
	x.c = c;
	s = (struct scope){.keys = top_keys, .n = ELEMENTSOF(top_keys), .base = c, .display = "",
			   .set = top_set};
	walk(&x, &s, doc->root, "");
	if (!x.oom) {
		finish_checks(&x);
		x.oom = finish_paths(&x);
	}
	if (x.oom)
		return -ENOMEM;
	if (diags->errors > errors)
		return -EINVAL;
	*ret = TAKE_PTR(c);
	return 0;
}

const struct gp_env_config *
gp_config_env(const struct gp_config *c, const char *name)
{
	for (size_t i = 0; c && name && i < c->n_envs; i++)
		if (strcmp(c->envs[i].name, name) == 0)
			return &c->envs[i];
	return NULL;
}

char *
gp_config_secret_name(const struct gp_env_config *e, const char *key)
{
	if (!e || !e->secret.name || !key)
		return NULL;
	return gp_secret_name(e->secret.name, e->name, key);
}

/* ---------------------------------------------------------------------------------------
 * Reference documentation
 */

/* Table cells must not contain a bare "|". */
static void
md_cell(struct gp_buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			gp_buf_putc(out, '\\');
		gp_buf_putc(out, *s);
	}
}

static void
reference_row(struct gp_buf *out, const char *prefix, const struct ckey *k)
{
	char lo[32], hi[32];

	gp_buf_printf(out, "| `%s%s` | %s | ", prefix, k->path, type_name(k->type));
	if (k->shown)
		md_cell(out, k->shown);
	else if (k->def && k->type == K_STRLIST)
		gp_buf_printf(out, "`[%s]`", k->def);
	else if (k->def)
		gp_buf_printf(out, "`%s`", k->def);
	else if (k->flags & KF_REQUIRED)
		gp_buf_puts(out, "(required)");
	gp_buf_puts(out, " | ");
	md_cell(out, k->doc);
	if (k->type == K_CHOICE || k->type == K_ENUM) {
		gp_buf_puts(out, " One of: ");
		choices_list(out, k);
		gp_buf_puts(out, ".");
	}
	if (k->type == K_DURATION && k->max) {
		format_duration(k->min, lo, sizeof(lo));
		format_duration(k->max, hi, sizeof(hi));
		gp_buf_printf(out, " From %s to %s.", lo, hi);
	}
	gp_buf_puts(out, " |\n");
}

int
gp_config_reference(struct gp_buf *out)
{
	gp_buf_puts(out, "| Key | Type | Default | Description |\n");
	gp_buf_puts(out, "|-----|------|---------|-------------|\n");
	for (size_t i = 0; i < ELEMENTSOF(top_keys); i++)
		reference_row(out, "", &top_keys[i]);
	for (size_t i = 0; i < ELEMENTSOF(env_keys); i++)
		reference_row(out, "environments.<env>.", &env_keys[i]);
	return out->oom ? -ENOMEM : 0;
}
