/*
 * lint.c — the checks of catalog entries (lint.h): names, enum values, requester format and
 * the informational configuration fields, each problem a positioned diagnostic.
 *
 * Deliberately not here: holding entries (the join decides what a problem means for an entry
 * and uses these checks to find them), deciding which catalog entries belong to an
 * environment, and the naming rules themselves (model/names.c; this module only words and
 * positions their verdicts). Every check adds diagnostics and goes on: `validate` wants every
 * problem of a catalog at once.
 */
#include "inputs/lint.h"

#include "model/names.h"

/* Values gprdsd acts on, for messages. */
#define KNOWN_RISKS "none, low, medium, high, access"
#define KNOWN_SIZES "small, medium, large, xlarge"
#define KNOWN_STATUSES                                                                             \
	"pending, approved, provisioning, active, failed, decommissioning, decommissioned"

struct catalog_enum {
	const char *what;
	size_t field; /* offsetof in struct gp_catalog_entry */
	size_t list;  /* offsetof in struct gp_enums */
	int (*from_string)(const char *);
	const char *known;
};

/*
 * The enum-checked catalog fields. `join`: the join holds entries for a bad value (owner and
 * domain are governance tags gprdsd does not act on, so only `validate` reports them).
 * `required`: a missing value is an error, not a warning — an entry without environment
 * never joins any environment, which would otherwise go unnoticed.
 */
static const struct {
	struct catalog_enum e;
	bool join, required;
} catalog_enums[] = {
	{{"metadata.environment", offsetof(struct gp_catalog_entry, environment),
	  offsetof(struct gp_enums, environments), NULL, NULL},
	 true,
	 true},
	{{"metadata.risk", offsetof(struct gp_catalog_entry, risk),
	  offsetof(struct gp_enums, risks), gp_risk_from_string, KNOWN_RISKS},
	 true,
	 false},
	{{"configuration.size_tier", offsetof(struct gp_catalog_entry, size_tier),
	  offsetof(struct gp_enums, sizes), gp_size_from_string, KNOWN_SIZES},
	 true,
	 false},
	{{"metadata.status", offsetof(struct gp_catalog_entry, status),
	  offsetof(struct gp_enums, statuses), gp_state_from_string, KNOWN_STATUSES},
	 true,
	 false},
	{{"metadata.owner", offsetof(struct gp_catalog_entry, owner),
	  offsetof(struct gp_enums, owners), NULL, NULL},
	 false,
	 false},
	{{"metadata.domain", offsetof(struct gp_catalog_entry, domain),
	  offsetof(struct gp_enums, domains), NULL, NULL},
	 false,
	 false},
};

static const struct gp_field *
catalog_field(const struct gp_catalog_entry *c, size_t off)
{
	return (const struct gp_field *)((const char *)c + off);
}

static const struct gp_strv *
enums_list(const struct gp_enums *e, size_t off)
{
	return e ? (const struct gp_strv *)((const char *)e + off) : NULL;
}

struct gp_pos
gp_catalog_pos(const char *file, const struct gp_catalog_entry *c, const struct gp_field *f)
{
	if (f && f->line)
		return (struct gp_pos){file, f->line, f->col};
	return (struct gp_pos){file, c->database.line, c->database.col};
}

/*
 * Checks a catalog value against the allowed list (empty or NULL: any value) and, when
 * `known` is given, against the enum gprdsd acts on (enums.yaml may allow a value gprdsd has
 * no meaning for). Writes the problem into b and returns 1, returns 0 when fine or absent,
 * -ENOMEM when b could not be written.
 */
static int
enum_problem(struct gp_buf *b, const char *what, const char *v, const struct gp_strv *allowed,
	     int (*from_string)(const char *), const char *known)
{
	char q[GP_QUOTE_BUF];

	if (!v)
		return 0;
	if (allowed && allowed->n && !gp_strv_contains(allowed, v)) {
		gp_buf_printf(b, "%s %s is not one of: ", what, gp_quote(q, v));
		for (size_t i = 0; i < allowed->n; i++)
			gp_buf_printf(b, "%s%s", i ? ", " : "", gp_escape(q, allowed->v[i], false));
		return b->oom ? -ENOMEM : 1;
	}
	if (from_string && from_string(v) < 0) {
		gp_buf_printf(b, "%s %s is not a value gprdsd knows (%s)", what, gp_quote(q, v),
			      known);
		return b->oom ? -ENOMEM : 1;
	}
	return 0;
}

/* The value of one enum field of c, when present; returns 1 when it added an error. */
static int
enum_check(const char *file, const struct gp_catalog_entry *c, const struct gp_enums *e,
	   const struct catalog_enum *ce, struct gp_diags *diags)
{
	_cleanup_(gp_buf_release) struct gp_buf b = {0};
	const struct gp_field *f = catalog_field(c, ce->field);
	struct gp_pos p = gp_catalog_pos(file, c, f);
	int r;

	r = enum_problem(&b, ce->what, f->v, enums_list(e, ce->list), ce->from_string, ce->known);
	if (r <= 0)
		return r;
	r = gp_pos_error(diags, &p, "%s", b.p);
	return r < 0 ? r : 1;
}

/* One name of c against its rule and the reserved names; returns 1 when it added an error. */
static int
name_check(const char *file, const struct gp_catalog_entry *c, const char *what,
	   const struct gp_field *f, const char *(*rule)(const char *), const char *master_user,
	   const char *master_db, struct gp_diags *diags)
{
	struct gp_pos p = gp_catalog_pos(file, c, f);
	const char *why = rule(f->v);
	char q[GP_QUOTE_BUF + 1];
	int r;

	if (!why)
		why = gp_name_reserved_why(f->v, master_user, master_db);
	if (!why)
		return 0;
	r = gp_pos_error(diags, &p, "%s %s%s", what, gp_quote_sp(q, f->v), why);
	return r < 0 ? r : 1;
}

/* metadata.requested_by, when present; returns 1 when it added an error. */
static int
requester_check(const char *file, const struct gp_catalog_entry *c, struct gp_diags *diags)
{
	struct gp_pos p = gp_catalog_pos(file, c, &c->requested_by);
	char q[GP_QUOTE_BUF + 1];
	int r;

	if (!c->requested_by.v || !gp_check_requester(c->requested_by.v))
		return 0;
	r = gp_pos_error(diags, &p, "metadata.requested_by %s%s", gp_quote_sp(q, c->requested_by.v),
			 GP_RULE_REQUESTER);
	return r < 0 ? r : 1;
}

/* metadata.rotate_after (RFC 3339) and configuration.rotation_strategy; returns how many
 * errors it added. */
static int
rotation_check(const char *file, const struct gp_catalog_entry *c, struct gp_diags *diags)
{
	char q[GP_QUOTE_BUF + 1];
	struct gp_pos p;
	int64_t t;
	int r = 0, n = 0;

	if (c->rotate_after.v && gp_time_parse_rfc3339(c->rotate_after.v, &t) < 0) {
		p = gp_catalog_pos(file, c, &c->rotate_after);
		r = gp_pos_error(diags, &p, "metadata.rotate_after %smust be an RFC 3339 time such "
			     "as \"2026-12-06T10:00:00Z\"", gp_quote_sp(q, c->rotate_after.v));
		n++;
	}
	if (r >= 0 && c->rotation_strategy.v && gp_strategy_from_string(c->rotation_strategy.v) < 0) {
		p = gp_catalog_pos(file, c, &c->rotation_strategy);
		r = gp_pos_error(diags, &p, "configuration.rotation_strategy %smust be single or "
			     "alternating", gp_quote_sp(q, c->rotation_strategy.v));
		n++;
	}
	return r < 0 ? r : n;
}

int
gp_catalog_names_check(const char *file, const struct gp_catalog_entry *c, const char *master_user,
		       const char *master_db, struct gp_diags *diags)
{
	int r, n;

	r = name_check(file, c, "database", &c->database, gp_check_database_name, master_user,
		       master_db, diags);
	n = r;
	if (r >= 0 && c->username.v) {
		r = name_check(file, c, "configuration.username", &c->username, gp_check_username,
			       master_user, master_db, diags);
		n += r;
	}
	return r < 0 ? r : n;
}

int
gp_catalog_values_check(const char *file, const struct gp_catalog_entry *c,
			const struct gp_enums *e, struct gp_diags *diags)
{
	int r = 0, n = 0;

	for (size_t k = 0; r >= 0 && k < ELEMENTSOF(catalog_enums); k++) {
		if (!catalog_enums[k].join)
			continue;
		r = enum_check(file, c, e, &catalog_enums[k].e, diags);
		n += r > 0;
	}
	if (r >= 0) {
		r = requester_check(file, c, diags);
		n += r > 0;
	}
	if (r >= 0) {
		r = rotation_check(file, c, diags);
		n += r > 0 ? r : 0;
	}
	return r < 0 ? r : n;
}

/* ---------------------------------------------------------------------------------------
 * The whole catalog, for `validate` (every environment)
 */

/* Missing optional values fall back to defaults in the join: warnings, not errors. */
static int
catalog_enums_check(const char *file, const struct gp_catalog_entry *cat, const struct gp_enums *e,
		    struct gp_diags *diags)
{
	int r = 0;

	for (size_t k = 0; r >= 0 && k < ELEMENTSOF(catalog_enums); k++) {
		const struct catalog_enum *ce = &catalog_enums[k].e;
		const struct gp_field *f = catalog_field(cat, ce->field);
		struct gp_pos p = gp_catalog_pos(file, cat, f);

		if (!f->v && f->reported)
			continue; /* catalog.c reported why: a misspelt key, a wrong shape */
		if (!f->v && catalog_enums[k].required)
			r = gp_pos_error(diags, &p, "%s is missing", ce->what);
		else if (!f->v)
			r = gp_pos_warning(diags, &p, "%s is missing", ce->what);
		else
			r = enum_check(file, cat, e, ce, diags);
	}
	return r;
}

/* The default template's prefix ("goldenpath/<env>/"): the secret is named by app key
 * (DESIGN §5), so only the prefix is compared. */
static bool
secret_path_ok(const char *path, const char *prefix)
{
	return prefix && strncmp(path, prefix, strlen(prefix)) == 0;
}

/* Informational fields that gprdsd does not act on: mismatches are warnings. */
static int
catalog_config_check(const char *file, const struct gp_catalog_entry *cat, struct gp_diags *diags)
{
	const char *env = cat->environment.v, *path = cat->secret_path.v;
	int size = gp_size_from_string(cat->size_tier.v);
	const char *want = size >= 0 ? gp_size_instance_class((enum gp_size)size) : NULL;
	char q[GP_QUOTE_BUF], qe[GP_QUOTE_BUF];
	struct gp_pos p;
	int r = 0;

	_cleanup_free_ char *prefix = env ? gp_secret_prefix(NULL, env) : NULL;

	if (path && env && !secret_path_ok(path, prefix)) {
		p = gp_catalog_pos(file, cat, &cat->secret_path);
		r = gp_pos_warning(diags, &p, "configuration.secret_path %s does not start with %s",
				   gp_quote(q, path), gp_escape(qe, prefix ? prefix : "", false));
	}
	if (r >= 0 && cat->instance_class.v && want && !gp_streq(cat->instance_class.v, want)) {
		p = gp_catalog_pos(file, cat, &cat->instance_class);
		r = gp_pos_warning(diags, &p,
				   "configuration.instance_class %s does not match size_tier %s "
				   "(%s)",
				   gp_quote(q, cat->instance_class.v), gp_size_to_string(size),
				   want);
	}
	return r;
}

int
gp_catalog_validate(const struct gp_catalog *c, const struct gp_enums *e, struct gp_diags *diags)
{
	size_t errors;
	int r = 0;

	if (!diags)
		return -EINVAL;
	if (!c)
		return 0;
	errors = diags->errors;
	for (size_t i = 0; r >= 0 && i < c->n; i++) {
		size_t n_before = diags->n;

		r = gp_catalog_names_check(c->file, &c->v[i], NULL, NULL, diags);
		if (r >= 0)
			r = requester_check(c->file, &c->v[i], diags);
		if (r >= 0)
			r = rotation_check(c->file, &c->v[i], diags);
		if (r >= 0)
			r = catalog_enums_check(c->file, &c->v[i], e, diags);
		if (r >= 0)
			r = catalog_config_check(c->file, &c->v[i], diags);
		if (r >= 0)
			r = gp_diags_set_context(diags, n_before, NULL, c->v[i].database.v);
	}
	if (r < 0)
		return r;
	return diags->errors > errors ? -EINVAL : 0;
}
