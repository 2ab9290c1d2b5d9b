/*
 * schema.c — the request schema (schema.h): the table of contract fields, the built-in rules
 * and the reader of schemas/requests/rds.schema.yaml over them.
 *
 * The built-in rules are a schema file too, kept as text below and read by the same code as
 * the checkout's file, so that "built in" and "read from a file" cannot mean two things. A
 * unit test compares them with config/example-repo/schemas/requests/rds.schema.yaml.
 *
 * Deliberately not here: applying the rules to a contract (inputs/contract.c), choosing a
 * contract's approval route and the gate it becomes (plan/routing.c, plan/gates.c), and the
 * naming rules gprdsd applies on top of any pattern (model/names.c).
 */
#include "inputs/schema.h"

#include <stdio.h>

#include "base/quote.h"

/* The one table mapping the schema's snake_case properties to the contracts' camelCase keys. */
static const struct req_field {
	const char *property;
	const char *key;
	bool identity;
} req_fields[_GP_REQ_FIELD_MAX] = {
	[GP_REQ_ID] = {"id", "id", true},
	[GP_REQ_SERVICE] = {"service", "service", true},
	[GP_REQ_ENVIRONMENT] = {"environment", "environment", true},
	[GP_REQ_OWNER] = {"owner", "owner", true},
	[GP_REQ_REQUESTER] = {"requester", "requester", true},
	[GP_REQ_DATABASE_NAME] = {"database_name", "databaseName", false},
	[GP_REQ_USERNAME] = {"username", "username", false},
	[GP_REQ_SIZE] = {"size", "size", false},
	[GP_REQ_DOMAIN] = {"domain", "domain", false},
	[GP_REQ_STORAGE_GB] = {"storage_gb", "storageGb", false},
	[GP_REQ_MAX_STORAGE_GB] = {"max_storage_gb", "maxStorageGb", false},
	[GP_REQ_BACKUP_RETENTION_DAYS] = {"backup_retention_days", "backupRetentionDays", false},
	[GP_REQ_MULTI_AZ] = {"multi_az", "multiAz", false},
	[GP_REQ_PERFORMANCE_INSIGHTS] = {"performance_insights", "performanceInsights", false},
	[GP_REQ_RISK] = {"risk", "risk", false},
};

const char *
gp_req_field_property(enum gp_req_field f)
{
	return (size_t)f < ELEMENTSOF(req_fields) ? req_fields[f].property : NULL;
}

const char *
gp_req_field_key(enum gp_req_field f)
{
	return (size_t)f < ELEMENTSOF(req_fields) ? req_fields[f].key : NULL;
}

bool
gp_req_field_identity(enum gp_req_field f)
{
	return (size_t)f < ELEMENTSOF(req_fields) && req_fields[f].identity;
}

int
gp_req_field_from_property(const char *s)
{
	for (size_t i = 0; s && i < ELEMENTSOF(req_fields); i++)
		if (strcmp(req_fields[i].property, s) == 0)
			return (int)i;
	return -EINVAL;
}

int
gp_req_field_from_key(const char *s)
{
	for (size_t i = 0; s && i < ELEMENTSOF(req_fields); i++)
		if (strcmp(req_fields[i].key, s) == 0)
			return (int)i;
	return -EINVAL;
}

size_t
gp_req_field_keys(bool identity, const char **out, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < ELEMENTSOF(req_fields) && k < n; i++)
		if (req_fields[i].identity == identity)
			out[k++] = req_fields[i].key;
	return k;
}

const char *
gp_schema_type_to_string(enum gp_schema_type t)
{
	static const char *const names[] = {"string", "integer", "boolean"};

	return (size_t)t < ELEMENTSOF(names) ? names[t] : "?";
}

/* ---------------------------------------------------------------------------------------
 * The built-in rules: the platform's request schema as of DESIGN §1.3a, in its own format.
 */

static const char builtin_schema[] =
	"properties:\n"
	"  id: {type: string, pattern: \"^RDS-[0-9]{4}$\"}\n"
	"  service: {type: string, enum: [postgres], default: postgres}\n"
	"  environment: {type: string, enum_from: environments}\n"
	"  database_name: {type: string, pattern: \"^[a-z][a-z0-9_]{2,62}$\"}\n"
	"  username: {type: string, pattern: \"^[a-z][a-z0-9_]{2,30}$\"}\n"
	"  size: {type: string, enum: [small, medium, large, xlarge], default: small}\n"
	"  storage_gb: {type: integer, minimum: 20, maximum: 500, default: 20}\n"
	"  max_storage_gb: {type: integer, minimum: 20, maximum: 1000, default: 50}\n"
	"  domain: {type: string, enum_from: domains}\n"
	"  owner: {type: string, enum_from: owners}\n"
	"  requester: {type: string}\n"
	"  risk: {type: string, enum_from: risk_profile_security_risk, default: low}\n"
	"  backup_retention_days: {type: integer, minimum: 1, maximum: 35, default: 7}\n"
	"  multi_az: {type: boolean, default: false}\n"
	"  performance_insights: {type: boolean, default: true}\n"
	"required: [id, service, environment, database_name, username, size, domain, owner,\n"
	"  requester]\n"
	"conditional_rules:\n"
	"  - name: prod_requires_multi_az\n"
	"    when: {environment: {equals: prod}}\n"
	"    then: {multi_az: {recommended: true, warning: \"a prod database without Multi-AZ "
	"has no standby in another availability zone\"}}\n"
	"  - name: prod_requires_backup\n"
	"    when: {environment: {equals: prod}}\n"
	"    then: {backup_retention_days: {minimum: 14}}\n"
	"  - name: dev_max_size\n"
	"    when: {environment: {equals: dev}}\n"
	"    then: {size: {enum: [small]}}\n"
	"  - name: storage_max_must_exceed_allocated\n"
	"    when: {max_storage_gb: {defined: true}}\n"
	"    then: {max_storage_gb: {greater_than_field: storage_gb}}\n"
	"approval_routing:\n"
	"  - condition: {environment: prod, risk: high}\n"
	"    approval_tier: platform-and-security\n"
	"    reviewers: [platform-team, security-team]\n"
	"  - condition: {environment: prod}\n"
	"    approval_tier: platform-approval\n"
	"    reviewers: [platform-team]\n"
	"  - condition: {risk: high}\n"
	"    approval_tier: security-approval\n"
	"    reviewers: [security-team]\n"
	"  - condition: {environment: {in: [dev, test]}}\n"
	"    approval_tier: self-serve\n"
	"    reviewers: []\n";

#define BUILTIN_NAME "<built-in request schema>"

/* ---------------------------------------------------------------------------------------
 * Freeing
 */

static void
prop_release(struct gp_schema_prop *p)
{
	if (p->pattern)
		regfree(&p->re);
	free(p->pattern);
	gp_strv_release(&p->enumv);
	free(p->enum_from);
	free(p->def);
	*p = (struct gp_schema_prop){0};
}

static void
conds_release(struct gp_schema_cond *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gp_strv_release(&c[i].values);
}

static void
rule_release(struct gp_schema_rule *r)
{
	free(r->name);
	conds_release(r->when, r->n_when);
	gp_strv_release(&r->values);
	free(r->warning);
}

static void
rules_free(struct gp_schema_rule *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rule_release(&v[i]);
	free(v);
}

static void
routes_free(struct gp_schema_route *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		conds_release(v[i].cond, v[i].n_cond);
		free(v[i].tier);
		gp_strv_release(&v[i].reviewers);
	}
	free(v);
}

void
gp_schema_free(struct gp_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < ELEMENTSOF(s->props); i++)
		prop_release(&s->props[i]);
	rules_free(s->rules, s->n_rules);
	routes_free(s->routes, s->n_routes);
	free(s->file);
	free(s);
}

/* ---------------------------------------------------------------------------------------
 * Reading: scalars, lists, patterns
 */

struct sread {
	const struct gp_doc *doc;
	struct gp_diags *diags;
	int r; /* the first -ENOMEM */
};

static void serr(struct sread *s, const struct gp_node *at, const char *fmt, ...) _printf_(3, 4);

static void
serr(struct sread *s, const struct gp_node *at, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = gp_diags_vadd(s->diags, GP_SEV_ERROR, -EINVAL, s->doc->name, at ? at->line : 0,
			  at ? at->col : 0, fmt, ap);
	va_end(ap);
	if (r < 0)
		s->r = r;
}

static const char *
scalar(const struct gp_node *n)
{
	return n && n->kind == GP_NODE_STRING && !gp_node_is_null(n) ? n->str : NULL;
}

/* A plain or quoted decimal integer within ±10^15. */
static bool
parse_int(const char *s, int64_t *ret)
{
	int64_t v = 0;
	bool neg = *s == '-';

	s += neg;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000000000LL)
			return false;
		v = v * 10 + (*s - '0');
	}
	*ret = neg ? -v : v;
	return true;
}

static bool
int_node(struct sread *s, const struct gp_node *n, const char *what, int64_t *ret)
{
	const char *v = scalar(n);
	char q[GP_QUOTE_BUF];

	if (v && parse_int(v, ret))
		return true;
	serr(s, n, "%s must be an integer, not %s", what,
	     v ? gp_quote(q, v) : gp_node_shape_name(n));
	return false;
}

/* A list of scalars (or one scalar, as the list of that value) into sv. */
static bool
str_list(struct sread *s, const struct gp_node *n, const char *what, struct gp_strv *sv)
{
	if (scalar(n)) {
		if (gp_strv_push(sv, n->str) < 0)
			s->r = -ENOMEM;
		return true;
	}
	if (n->kind != GP_NODE_LIST) {
		serr(s, n, "%s must be a list of values, not a %s", what, gp_node_shape_name(n));
		return false;
	}
	for (size_t i = 0; i < n->n; i++) {
		if (!scalar(n->items[i])) {
			serr(s, n->items[i], "%s values must be scalars, not a %s", what,
			     gp_node_shape_name(n->items[i]));
			return false;
		}
		if (gp_strv_push(sv, n->items[i]->str) < 0)
			s->r = -ENOMEM;
	}
	return true;
}

#define PATTERN_MAX 256
#define PATTERN_BOUND_MAX 255

/*
 * Why gprdsd refuses a pattern, or NULL. Groups, alternation and back-references are not
 * needed for names and would let a schema file ask for a costly automaton; bounds are kept
 * small for the same reason.
 */
static const char *
pattern_problem(const char *p)
{
	bool in_class = false;

	if (strlen(p) > PATTERN_MAX)
		return "is longer than 256 bytes";
	for (; *p; p++) {
		if (in_class) {
			in_class = *p != ']';
			continue;
		}
		if (*p == '[') {
			in_class = true;
			if (p[1] == '^')
				p++;
			if (p[1] == ']')
				p++; /* a ']' right after '[' or "[^" is a member */
		} else if (*p == '(' || *p == ')' || *p == '|') {
			return "uses groups or alternation, which gprdsd does not accept";
		} else if (*p == '\\' && p[1] >= '0' && p[1] <= '9') {
			return "uses a back-reference, which gprdsd does not accept";
		} else if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '{') {
			char *end;
			unsigned long a = strtoul(p + 1, &end, 10), b = a;

			if (*end == ',')
				b = end[1] == '}' ? 0 : strtoul(end + 1, &end, 10);
			if (a > PATTERN_BOUND_MAX || b > PATTERN_BOUND_MAX)
				return "has a repetition bound over 255";
		}
	}
	return in_class ? "has an unterminated [" : NULL;
}

static bool
read_pattern(struct sread *s, const struct gp_node *n, struct gp_schema_prop *p, const char *prop)
{
	const char *v = scalar(n), *why;
	char q[GP_QUOTE_BUF];

	if (!v) {
		serr(s, n, "properties.%s.pattern must be a string", prop);
		return false;
	}
	why = pattern_problem(v);
	if (!why && regcomp(&p->re, v, REG_EXTENDED | REG_NOSUB) != 0)
		why = "is not a valid extended regular expression";
	if (why) {
		serr(s, n, "properties.%s.pattern %s %s", prop, gp_quote(q, v), why);
		return false;
	}
	p->pattern = strdup(v);
	if (!p->pattern) {
		regfree(&p->re);
		s->r = -ENOMEM;
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------------------------------
 * properties and required
 */

static bool
read_type(struct sread *s, const struct gp_node *n, struct gp_schema_prop *p, const char *prop)
{
	const char *v = scalar(n);
	char q[GP_QUOTE_BUF];

	for (int t = GP_SCHEMA_STRING; v && t <= GP_SCHEMA_BOOLEAN; t++) {
		if (strcmp(v, gp_schema_type_to_string(t)) == 0) {
			p->type = t;
			return true;
		}
	}
	serr(s, n, "properties.%s.type %s is not one of: string, integer, boolean", prop,
	     v ? gp_quote(q, v) : "(not a string)");
	return false;
}

static bool
set_str(struct sread *s, const struct gp_node *n, const char *what, char **dst)
{
	const char *v = scalar(n);

	if (!v) {
		serr(s, n, "%s must be a string, not a %s", what, gp_node_shape_name(n));
		return false;
	}
	free(*dst);
	*dst = strdup(v);
	if (!*dst)
		s->r = -ENOMEM;
	return true;
}

/* One key of a property definition; keys gprdsd does not read (description, examples) are
 * ignored. */
static void
read_prop_key(struct sread *s, const struct gp_member *m, struct gp_schema_prop *p,
	      const char *prop)
{
	char what[96];

	snprintf(what, sizeof(what), "properties.%s.%s", prop, m->key);
	if (strcmp(m->key, "type") == 0)
		read_type(s, m->value, p, prop);
	else if (strcmp(m->key, "pattern") == 0)
		read_pattern(s, m->value, p, prop);
	else if (strcmp(m->key, "enum") == 0)
		str_list(s, m->value, what, &p->enumv);
	else if (strcmp(m->key, "enum_from") == 0)
		set_str(s, m->value, what, &p->enum_from);
	else if (strcmp(m->key, "default") == 0)
		set_str(s, m->value, what, &p->def);
	else if (strcmp(m->key, "minimum") == 0)
		p->has_min = int_node(s, m->value, what, &p->min);
	else if (strcmp(m->key, "maximum") == 0)
		p->has_max = int_node(s, m->value, what, &p->max);
}

static void
read_prop(struct sread *s, const struct gp_member *m, struct gp_schema_prop *p)
{
	struct gp_schema_prop fresh = {.type = p->type, .required = p->required};

	if (m->value->kind != GP_NODE_OBJECT) {
		serr(s, m->value, "properties.%s must be a mapping, not a %s", m->key,
		     gp_node_shape_name(m->value));
		return;
	}
	for (size_t i = 0; i < m->value->n; i++)
		read_prop_key(s, &m->value->members[i], &fresh, m->key);
	prop_release(p);
	*p = fresh;
}

static void
read_props(struct sread *s, const struct gp_node *n, struct gp_schema *sc)
{
	if (n->kind != GP_NODE_OBJECT) {
		serr(s, n, "properties must be a mapping, not a %s", gp_node_shape_name(n));
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		int f = gp_req_field_from_property(n->members[i].key);

		if (f >= 0)
			read_prop(s, &n->members[i], &sc->props[f]);
	}
}

static void
read_required(struct sread *s, const struct gp_node *n, struct gp_schema *sc)
{
	struct gp_strv names = {0};

	if (str_list(s, n, "required", &names)) {
		for (size_t f = 0; f < _GP_REQ_FIELD_MAX; f++)
			sc->props[f].required =
				gp_strv_contains(&names, gp_req_field_property((enum gp_req_field)f));
	}
	gp_strv_release(&names);
}

/* ---------------------------------------------------------------------------------------
 * Conditions, conditional_rules, approval_routing
 */

/* The field of a property named in a rule; -EINVAL (reported when must) when none. */
static int
rule_field(struct sread *s, const struct gp_member *m, const char *where, bool must)
{
	int f = gp_req_field_from_property(m->key);
	char q[GP_QUOTE_BUF];

	if (f < 0 && must)
		serr(s, m->value, "%s: %s is not a property gprdsd reads", where,
		     gp_quote(q, m->key));
	return f;
}

/* {equals: v} | {in: [..]} | {defined: bool}, or (plain) a bare value: equals. */
static bool
read_cond(struct sread *s, const struct gp_member *m, enum gp_req_field f, bool plain,
	  const char *where, struct gp_schema_cond *c)
{
	const struct gp_node *v = m->value;
	const struct gp_member *op;

	*c = (struct gp_schema_cond){.field = f};
	if (plain && scalar(v))
		return str_list(s, v, where, &c->values);
	if (v->kind != GP_NODE_OBJECT || v->n != 1) {
		serr(s, v, "%s: the condition on %s must be a mapping with one of equals, in, "
			   "defined", where, m->key);
		return false;
	}
	op = &v->members[0];
	if (strcmp(op->key, "equals") == 0 && scalar(op->value))
		return str_list(s, op->value, where, &c->values);
	if (strcmp(op->key, "in") == 0)
		return (c->op = GP_SCHEMA_IN, str_list(s, op->value, where, &c->values));
	if (strcmp(op->key, "defined") == 0 && scalar(op->value) &&
	    (gp_streq(op->value->str, "true") || gp_streq(op->value->str, "false"))) {
		c->op = GP_SCHEMA_DEFINED;
		c->defined = gp_streq(op->value->str, "true");
		return true;
	}
	serr(s, op->value, "%s: %s: %s is not a condition gprdsd knows (equals: value, in: "
			   "[values], defined: true|false)", where, m->key, op->key);
	return false;
}

/* The conditions of a rule's `when` or a route's `condition`. Returns 1 when all were read,
 * 0 when the rule is to be ignored (a property gprdsd does not read, !must), -1 on error. */
static int
read_conds(struct sread *s, const struct gp_node *n, bool plain, bool must, const char *where,
	   struct gp_schema_cond *c, size_t *ret_n)
{
	size_t k = 0;

	if (!n || n->kind != GP_NODE_OBJECT || n->n == 0 || n->n > GP_SCHEMA_MAX_CONDS) {
		serr(s, n, "%s must be a mapping of 1 to %d properties to conditions", where,
		     GP_SCHEMA_MAX_CONDS);
		return -1;
	}
	for (size_t i = 0; i < n->n; i++) {
		int f = rule_field(s, &n->members[i], where, must);

		if (f < 0) {
			conds_release(c, k);
			return must ? -1 : 0;
		}
		if (!read_cond(s, &n->members[i], (enum gp_req_field)f, plain, where, &c[k])) {
			conds_release(c, k + 1);
			return -1;
		}
		k++;
	}
	*ret_n = k;
	return 1;
}

/* One check of a rule's `then`: {minimum: n} and the others (schema.h). */
static bool
read_check(struct sread *s, const struct gp_node *v, const char *where, struct gp_schema_rule *r)
{
	const struct gp_node *x;
	int f;

	if (v->kind != GP_NODE_OBJECT) {
		serr(s, v, "%s must be a mapping, not a %s", where, gp_node_shape_name(v));
		return false;
	}
	if ((x = gp_node_get(v, "minimum")))
		return (r->check = GP_SCHEMA_MINIMUM, int_node(s, x, where, &r->n));
	if ((x = gp_node_get(v, "maximum")))
		return (r->check = GP_SCHEMA_MAXIMUM, int_node(s, x, where, &r->n));
	if ((x = gp_node_get(v, "enum")))
		return (r->check = GP_SCHEMA_ENUM, str_list(s, x, where, &r->values));
	if ((x = gp_node_get(v, "recommended")) && scalar(x)) {
		r->check = GP_SCHEMA_RECOMMENDED;
		if ((x = gp_node_get(v, "warning")) && !set_str(s, x, where, &r->warning))
			return false;
		return str_list(s, gp_node_get(v, "recommended"), where, &r->values);
	}
	if ((x = gp_node_get(v, "greater_than_field")) && scalar(x)) {
		f = gp_req_field_from_property(x->str);
		if (f < 0) {
			serr(s, x, "%s: greater_than_field names %s, not a property gprdsd reads",
			     where, x->str);
			return false;
		}
		r->check = GP_SCHEMA_GREATER_THAN_FIELD;
		r->other = (enum gp_req_field)f;
		return true;
	}
	serr(s, v, "%s has none of minimum, maximum, enum, recommended, greater_than_field", where);
	return false;
}

/* Appends the rule of one field of `then` (the conditions copied). */
static int
add_rule(struct gp_schema *sc, const char *name, const struct gp_schema_cond *when, size_t n,
	 struct gp_schema_rule **ret)
{
	struct gp_schema_rule *v = realloc(sc->rules, (sc->n_rules + 1) * sizeof(*v)), *r;

	if (!v)
		return -ENOMEM;
	sc->rules = v;
	r = &v[sc->n_rules++];
	*r = (struct gp_schema_rule){.name = gp_strdup0(name), .n_when = n};
	for (size_t i = 0; i < n; i++) {
		r->when[i] = (struct gp_schema_cond){when[i].field, when[i].op, {0}, when[i].defined};
		for (size_t k = 0; k < when[i].values.n; k++)
			if (gp_strv_push(&r->when[i].values, when[i].values.v[k]) < 0)
				return -ENOMEM;
	}
	*ret = r;
	return name && !r->name ? -ENOMEM : 0;
}

static void
read_rule(struct sread *s, const struct gp_node *n, struct gp_schema *sc)
{
	const char *name = scalar(gp_node_get(n, "name"));
	const struct gp_node *then = gp_node_get(n, "then");
	struct gp_schema_cond when[GP_SCHEMA_MAX_CONDS];
	size_t n_when = 0;
	char where[128];
	int r;

	snprintf(where, sizeof(where), "conditional rule %s", name ? name : "(unnamed)");
	if (n->kind != GP_NODE_OBJECT || !then || then->kind != GP_NODE_OBJECT) {
		serr(s, n, "%s must be a mapping with when and then", where);
		return;
	}
	r = read_conds(s, gp_node_get(n, "when"), false, false, where, when, &n_when);
	for (size_t i = 0; r > 0 && i < then->n && s->r >= 0; i++) {
		const struct gp_member *m = &then->members[i];
		struct gp_schema_rule *rule;
		int f = rule_field(s, m, where, false);

		if (f < 0)
			continue; /* a check on something gprdsd does not read */
		s->r = add_rule(sc, name, when, n_when, &rule);
		if (s->r < 0)
			break;
		rule->field = (enum gp_req_field)f;
		if (!read_check(s, m->value, where, rule))
			rule_release(&sc->rules[--sc->n_rules]);
	}
	if (r > 0)
		conds_release(when, n_when);
}

static void
read_route(struct sread *s, const struct gp_node *n, size_t i, struct gp_schema *sc)
{
	struct gp_schema_route *rt = &sc->routes[sc->n_routes];
	const struct gp_node *rev;
	char where[64];

	snprintf(where, sizeof(where), "approval_routing[%zu]", i);
	*rt = (struct gp_schema_route){0};
	if (n->kind != GP_NODE_OBJECT) {
		serr(s, n, "%s must be a mapping, not a %s", where, gp_node_shape_name(n));
		return;
	}
	if (read_conds(s, gp_node_get(n, "condition"), true, true, where, rt->cond,
		       &rt->n_cond) <= 0)
		return;
	sc->n_routes++;
	if (!gp_node_get(n, "approval_tier")) {
		serr(s, n, "%s has no approval_tier", where);
		return;
	}
	if (!set_str(s, gp_node_get(n, "approval_tier"), "approval_tier", &rt->tier))
		return;
	rev = gp_node_get(n, "reviewers");
	if (rev && !gp_node_is_null(rev))
		str_list(s, rev, "reviewers", &rt->reviewers);
}

/* A list in the file replaces the built-in one. */
static void
read_list(struct sread *s, const struct gp_node *n, const char *what, struct gp_schema *sc,
	  bool routes)
{
	if (n->kind != GP_NODE_LIST) {
		serr(s, n, "%s must be a list, not a %s", what, gp_node_shape_name(n));
		return;
	}
	if (routes) {
		routes_free(sc->routes, sc->n_routes);
		sc->n_routes = 0;
		sc->routes = calloc(n->n + 1, sizeof(*sc->routes));
		if (!sc->routes) {
			s->r = -ENOMEM;
			return;
		}
	} else {
		rules_free(sc->rules, sc->n_rules);
		sc->rules = NULL;
		sc->n_rules = 0;
	}
	for (size_t i = 0; i < n->n && s->r >= 0; i++) {
		if (routes)
			read_route(s, n->items[i], i, sc);
		else
			read_rule(s, n->items[i], sc);
	}
}

/* ---------------------------------------------------------------------------------------
 * The schema
 */

static int
read_schema(const struct gp_doc *doc, struct gp_schema *sc, struct gp_diags *diags)
{
	struct sread s = {doc, diags, 0};
	const struct gp_node *root = doc->root, *v;
	size_t errors = diags->errors;

	if (!root || root->kind != GP_NODE_OBJECT) {
		serr(&s, root, "expected a mapping with properties, not %s",
		     root ? gp_node_shape_name(root) : "an empty file");
		return s.r < 0 ? s.r : -EINVAL;
	}
	if ((v = gp_node_get(root, "properties")))
		read_props(&s, v, sc);
	if ((v = gp_node_get(root, "required")) && s.r >= 0)
		read_required(&s, v, sc);
	if ((v = gp_node_get(root, "conditional_rules")) && s.r >= 0)
		read_list(&s, v, "conditional_rules", sc, false);
	if ((v = gp_node_get(root, "approval_routing")) && s.r >= 0)
		read_list(&s, v, "approval_routing", sc, true);
	if (s.r < 0)
		return s.r;
	return diags->errors > errors ? -EINVAL : 0;
}

int
gp_schema_new_default(struct gp_schema **ret)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;
	_cleanup_(gp_schema_freep) struct gp_schema *sc = calloc(1, sizeof(*sc));
	struct gp_diags diags = {0};
	int r;

	if (!sc)
		return -ENOMEM;
	sc->file = strdup(BUILTIN_NAME);
	r = sc->file ? gp_yaml_parse(builtin_schema, sizeof(builtin_schema) - 1, BUILTIN_NAME,
				     &doc, &diags)
		     : -ENOMEM;
	if (r >= 0)
		r = read_schema(doc, sc, &diags);
	/* The text above is tested: only memory can fail here. */
	gp_diags_release(&diags);
	if (r < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(sc);
	return 0;
}

int
gp_schema_extract(const struct gp_doc *doc, struct gp_schema **ret, struct gp_diags *diags)
{
	_cleanup_(gp_schema_freep) struct gp_schema *sc = NULL;
	int r = gp_schema_new_default(&sc);

	if (r < 0)
		return r;
	free(sc->file);
	sc->file = strdup(doc->name);
	if (!sc->file)
		return -ENOMEM;
	sc->from_file = true;
	r = read_schema(doc, sc, diags);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(sc);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Dump
 */

static void
dump_list(struct gp_buf *out, const struct gp_strv *sv)
{
	gp_buf_putc(out, '[');
	for (size_t i = 0; i < sv->n; i++)
		gp_buf_printf(out, "%s%s", i ? ", " : "", sv->v[i]);
	gp_buf_putc(out, ']');
}

static void
dump_conds(struct gp_buf *out, const struct gp_schema_cond *c, size_t n)
{
	static const char *const ops[] = {"equals", "in", "defined"};

	for (size_t i = 0; i < n; i++) {
		gp_buf_printf(out, "%s%s %s ", i ? " and " : "", gp_req_field_property(c[i].field),
			      ops[c[i].op]);
		if (c[i].op == GP_SCHEMA_DEFINED)
			gp_buf_puts(out, c[i].defined ? "true" : "false");
		else
			dump_list(out, &c[i].values);
	}
}

static void
dump_prop(struct gp_buf *out, enum gp_req_field f, const struct gp_schema_prop *p)
{
	gp_buf_printf(out, "property %s (%s) %s%s", gp_req_field_property(f),
		      gp_req_field_key(f), gp_schema_type_to_string(p->type),
		      p->required ? " required" : "");
	if (p->pattern)
		gp_buf_printf(out, " pattern %s", p->pattern);
	if (p->enumv.n)
		gp_buf_puts(out, " enum "), dump_list(out, &p->enumv);
	if (p->enum_from)
		gp_buf_printf(out, " enum_from %s", p->enum_from);
	if (p->has_min)
		gp_buf_printf(out, " minimum %lld", (long long)p->min);
	if (p->has_max)
		gp_buf_printf(out, " maximum %lld", (long long)p->max);
	if (p->def)
		gp_buf_printf(out, " default %s", p->def);
	gp_buf_putc(out, '\n');
}

static void
dump_rule(struct gp_buf *out, const struct gp_schema_rule *r)
{
	static const char *const checks[] = {"minimum", "maximum", "enum", "recommended",
					      "greater_than_field"};

	gp_buf_printf(out, "rule %s: when ", r->name ? r->name : "(unnamed)");
	dump_conds(out, r->when, r->n_when);
	gp_buf_printf(out, " then %s %s ", gp_req_field_property(r->field), checks[r->check]);
	if (r->check == GP_SCHEMA_MINIMUM || r->check == GP_SCHEMA_MAXIMUM)
		gp_buf_printf(out, "%lld", (long long)r->n);
	else if (r->check == GP_SCHEMA_GREATER_THAN_FIELD)
		gp_buf_puts(out, gp_req_field_property(r->other));
	else
		dump_list(out, &r->values);
	gp_buf_puts(out, r->warning ? " (with a warning)\n" : "\n");
}

int
gp_schema_dump(const struct gp_schema *s, struct gp_buf *out)
{
	for (size_t f = 0; f < _GP_REQ_FIELD_MAX; f++)
		dump_prop(out, (enum gp_req_field)f, &s->props[f]);
	for (size_t i = 0; i < s->n_rules; i++)
		dump_rule(out, &s->rules[i]);
	for (size_t i = 0; i < s->n_routes; i++) {
		gp_buf_puts(out, "route when ");
		dump_conds(out, s->routes[i].cond, s->routes[i].n_cond);
		gp_buf_printf(out, ": %s ", s->routes[i].tier ? s->routes[i].tier : "?");
		dump_list(out, &s->routes[i].reviewers);
		gp_buf_putc(out, '\n');
	}
	return out->oom ? -ENOMEM : 0;
}
