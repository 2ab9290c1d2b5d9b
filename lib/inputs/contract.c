/*
 * contract.c — request contracts (contract.h): which key of the YAML holds which field, then
 * the schema's rules and gprdsd's own on the values, each problem once at its position.
 *
 * The rules come from the schema (inputs/schema.c) and the enums (inputs/enums.c) the caller
 * hands in; the naming rules from model/names.c. Deliberately not here: what a contract means
 * for the entries of an environment (plan/join.c joins it, plan/routing.c picks its approval
 * route, plan/gates.c holds the entries), and reading files.
 */
#include "inputs/contract.h"

#include <stdio.h>

#include "model/names.h"
#include "model/types.h"

/* ---------------------------------------------------------------------------------------
 * The set of contracts
 */

static void
contract_release(struct gp_contract *c)
{
	for (size_t i = 0; i < ELEMENTSOF(c->f); i++)
		free(c->f[i].v);
	free(c->file);
	free(c->dir_env);
	free(c->problem);
	free(c->salvaged_db);
}

void
gp_contracts_release(struct gp_contracts *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		contract_release(&cs->v[i]);
	free(cs->v);
	*cs = (struct gp_contracts){0};
}

static int
contracts_add(struct gp_contracts *cs, const char *name, const char *dir_env,
	      struct gp_contract **ret)
{
	struct gp_contract *c;

	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? 2 * cs->cap : 8;
		struct gp_contract *v = realloc(cs->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		cs->v = v;
		cs->cap = cap;
	}
	c = &cs->v[cs->n];
	*c = (struct gp_contract){.file = strdup(name ? name : "<contract>"),
				  .dir_env = gp_strdup0(dir_env)};
	for (size_t f = 0; f < _GP_REQ_FIELD_MAX; f++)
		c->f[f].section = gp_req_field_identity((enum gp_req_field)f) ? "" : "spec.";
	if (!c->file || (dir_env && !c->dir_env)) {
		contract_release(c);
		return -ENOMEM;
	}
	cs->n++;
	*ret = c;
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Shape: which key holds which field
 */

struct cread {
	struct gp_contract *c;
	struct gp_diags *diags;
	int r;
};

static void cdiag(struct cread *x, enum gp_severity sev, unsigned line, unsigned col,
		  const char *fmt, ...) _printf_(5, 6);

static void
cdiag(struct cread *x, enum gp_severity sev, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = gp_diags_vadd(x->diags, sev, sev == GP_SEV_ERROR ? -EINVAL : 0, x->c->file, line, col,
			  fmt, ap);
	va_end(ap);
	if (r < 0)
		x->r = r;
}

static void
take(struct cread *x, const struct gp_member *m, enum gp_req_field f, const char *section)
{
	struct gp_contract_value *cv = &x->c->f[f];

	if (cv->present) {
		cdiag(x, GP_SEV_ERROR, m->line, m->col,
		      "%s%s is given twice: here and as %s%s at line %u", section, m->key,
		      cv->section, m->key, cv->line);
		return;
	}
	if (gp_node_is_null(m->value))
		return;
	cv->present = true;
	cv->misplaced = false;
	cv->section = section;
	cv->kind = m->value->kind;
	cv->plain = m->value->plain;
	cv->line = m->value->line;
	cv->col = m->value->col;
	if (m->value->kind == GP_NODE_STRING && !(cv->v = strdup(m->value->str)))
		x->r = -ENOMEM;
}

/* An unknown key: a warning when it looks like a typo of one of cands (or always, warn). */
static void
unknown_key(struct cread *x, const struct gp_member *m, const char *section,
	    const char *const *cands, size_t n, bool warn)
{
	const char *hint = gp_did_you_mean(m->key, cands, n);
	char q[GP_QUOTE_BUF];

	if (hint)
		cdiag(x, GP_SEV_WARNING, m->line, m->col, "unknown key %s%s, not read; did you mean "
			 "%s%s?", section, gp_escape(q, m->key, false), section, hint);
	else if (warn)
		cdiag(x, GP_SEV_WARNING, m->line, m->col, "unknown key %s%s, not read", section,
		      gp_escape(q, m->key, false));
}

static void
misplaced(struct cread *x, const struct gp_member *m, enum gp_req_field f, const char *section)
{
	char q[GP_QUOTE_BUF];

	if (!x->c->f[f].present)
		x->c->f[f].misplaced = true;
	cdiag(x, GP_SEV_ERROR, m->line, m->col, "%s%s is not read here: %s belongs %s", section,
	      gp_escape(q, m->key, false), m->key,
	      gp_req_field_identity(f) ? "at the top level or under metadata" : "under spec");
}

/* A section (`metadata` or `spec`) must be a mapping; NULL when it is absent or is not. */
static const struct gp_node *
section_node(struct cread *x, const struct gp_member *m)
{
	if (!m || gp_node_is_null(m->value))
		return NULL;
	if (m->value->kind == GP_NODE_OBJECT)
		return m->value;
	cdiag(x, GP_SEV_ERROR, m->value->line, m->value->col, "%s must be a mapping, not a %s",
	      m->key, gp_node_shape_name(m->value));
	return NULL;
}

/* The keys of one level: identity (top level, metadata) or spec. */
static void
read_level(struct cread *x, const struct gp_node *n, const char *section, bool identity)
{
	const char *cands[_GP_REQ_FIELD_MAX + 2];
	size_t nc = gp_req_field_keys(identity, cands, _GP_REQ_FIELD_MAX);
	bool top = *section == '\0';

	if (top) {
		cands[nc++] = "metadata";
		cands[nc++] = "spec";
	}
	for (size_t i = 0; i < n->n && x->r >= 0; i++) {
		const struct gp_member *m = &n->members[i];
		int f = gp_req_field_from_key(m->key);

		if (top && (strcmp(m->key, "metadata") == 0 || strcmp(m->key, "spec") == 0))
			continue;
		if (f >= 0 && gp_req_field_identity((enum gp_req_field)f) == identity)
			take(x, m, (enum gp_req_field)f, section);
		else if (f >= 0)
			misplaced(x, m, (enum gp_req_field)f, section);
		else
			unknown_key(x, m, section, cands, nc, !identity);
	}
}

int
gp_contract_extract(const struct gp_doc *doc, struct gp_contract *c, struct gp_diags *diags)
{
	struct cread x = {c, diags, 0};
	const struct gp_node *root = doc->root, *md, *spec;
	const struct gp_member *sm;

	if (!root || root->kind != GP_NODE_OBJECT) {
		cdiag(&x, GP_SEV_ERROR, root ? root->line : 1, root ? root->col : 1,
		      "a request contract must be a mapping with id, service, environment, owner, "
		      "requester and spec, not %s", root ? gp_node_shape_name(root) : "empty");
		return x.r;
	}
	c->parsed = true;
	c->line = c->spec_line = root->line;
	c->col = c->spec_col = root->col;
	read_level(&x, root, "", true);
	md = section_node(&x, gp_node_member(root, "metadata"));
	if (md)
		read_level(&x, md, "metadata.", true);
	sm = gp_node_member(root, "spec");
	if (sm) {
		c->spec_line = sm->line;
		c->spec_col = sm->col;
	}
	spec = section_node(&x, sm);
	if (spec)
		read_level(&x, spec, "spec.", false);
	return x.r;
}

/* ---------------------------------------------------------------------------------------
 * The rules of each field
 */

struct ccheck {
	struct cread x;
	const struct gp_schema *s;
	const struct gp_enums *e;
};

static bool
is_int_text(const char *s)
{
	s += *s == '-';
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* YAML 1.2's core schema: these plain scalars are booleans. */
static int
bool_text(const char *s)
{
	static const char *const t[] = {"true", "True", "TRUE"}, *const f[] = {"false", "False",
									     "FALSE"};

	for (size_t i = 0; i < ELEMENTSOF(t); i++) {
		if (strcmp(s, t[i]) == 0)
			return 1;
		if (strcmp(s, f[i]) == 0)
			return 0;
	}
	return -1;
}

/* "spec.storageGb" */
static void
field_name(const struct gp_contract_value *cv, enum gp_req_field f, char buf[static 64])
{
	snprintf(buf, 64, "%s%s", cv->section, gp_req_field_key(f));
}

static void ferr(struct ccheck *k, enum gp_req_field f, const char *fmt, ...) _printf_(3, 4);

/* An error about field f, at its value; f is not used further. */
static void
ferr(struct ccheck *k, enum gp_req_field f, const char *fmt, ...)
{
	struct gp_pos p = gp_contract_pos(k->x.c, f);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = gp_diags_vadd(k->x.diags, GP_SEV_ERROR, -EINVAL, p.file, p.line, p.col, fmt, ap);
	va_end(ap);
	if (r < 0)
		k->x.r = r;
	k->x.c->f[f].ok = false;
}

/* What a scalar is in YAML's eyes, for "not a ..." in messages. */
static const char *
yaml_kind(const struct gp_contract_value *cv)
{
	if (cv->kind != GP_NODE_STRING)
		return cv->kind == GP_NODE_LIST ? "a list" : "a mapping";
	if (!cv->plain)
		return "the string";
	if (is_int_text(cv->v))
		return "the integer";
	if (bool_text(cv->v) >= 0)
		return "the boolean";
	return "the value";
}

static const char *
type_name(enum gp_schema_type t)
{
	return t == GP_SCHEMA_INTEGER	? "an integer"
	       : t == GP_SCHEMA_BOOLEAN ? "a boolean (true or false)"
					: "a string";
}

/* The value's type as the schema asks; sets n or b. */
static bool
check_type(struct ccheck *k, enum gp_req_field f, const struct gp_schema_prop *p)
{
	struct gp_contract_value *cv = &k->x.c->f[f];
	char name[64], q[GP_QUOTE_BUF];
	bool ok;

	field_name(cv, f, name);
	switch (p->type) {
	case GP_SCHEMA_INTEGER:
		ok = cv->v && cv->plain && is_int_text(cv->v) && strlen(cv->v) < 16;
		cv->n = ok ? strtoll(cv->v, NULL, 10) : 0;
		break;
	case GP_SCHEMA_BOOLEAN:
		ok = cv->v && cv->plain && bool_text(cv->v) >= 0;
		cv->b = ok && bool_text(cv->v) == 1;
		break;
	default:
		ok = cv->v && (!cv->plain || (!is_int_text(cv->v) && bool_text(cv->v) < 0));
		break;
	}
	if (ok)
		return true;
	if (!cv->v)
		ferr(k, f, "%s must be %s, not %s", name, type_name(p->type), yaml_kind(cv));
	else if (cv->plain && p->type == GP_SCHEMA_STRING)
		ferr(k, f, "%s must be %s, not %s %s (quote it)", name, type_name(p->type),
		     yaml_kind(cv), gp_quote(q, cv->v));
	else
		ferr(k, f, "%s must be %s, not %s %s%s", name, type_name(p->type), yaml_kind(cv),
		     gp_quote(q, cv->v), cv->plain ? "" : " (quotes make it a string)");
	return false;
}

/* "a, b, c" of sv, and "; did you mean \"x\"?" when v is close to one of them. */
static void
list_and_hint(struct gp_buf *b, const struct gp_strv *sv, const char *v)
{
	const char *hint = gp_did_you_mean(v, (const char *const *)sv->v, sv->n);
	char q[GP_QUOTE_BUF];

	for (size_t i = 0; i < sv->n; i++)
		gp_buf_printf(b, "%s%s", i ? ", " : "", gp_escape(q, sv->v[i], false));
	if (hint)
		gp_buf_printf(b, "; did you mean %s?", gp_quote(q, hint));
}

static bool
check_enum(struct ccheck *k, enum gp_req_field f, const struct gp_strv *allowed,
	   const char *from)
{
	struct gp_contract_value *cv = &k->x.c->f[f];
	_cleanup_(gp_buf_release) struct gp_buf b = {0};
	char name[64], q[GP_QUOTE_BUF];

	if (!allowed || !allowed->n || gp_strv_contains(allowed, cv->v))
		return true;
	field_name(cv, f, name);
	list_and_hint(&b, allowed, cv->v);
	ferr(k, f, "%s %s is not one of%s%s: %s", name, gp_quote(q, cv->v), from ? " the " : "",
	     from ? from : "", b.p ? b.p : "");
	return false;
}

/* The values gprdsd acts on: a risk and a size it knows, an environment it serves. */
static bool
check_known(struct ccheck *k, enum gp_req_field f)
{
	struct gp_contract_value *cv = &k->x.c->f[f];
	char name[64], q[GP_QUOTE_BUF];
	const char *known = NULL;

	if (f == GP_REQ_RISK && gp_risk_from_string(cv->v) < 0)
		known = "none, low, medium, high, access";
	else if (f == GP_REQ_SIZE && gp_size_from_string(cv->v) < 0)
		known = "small, medium, large, xlarge";
	else if (f == GP_REQ_ENVIRONMENT && gp_environment_index(cv->v) < 0)
		known = "dev, test, staging, prod, ephemeral";
	if (!known)
		return true;
	field_name(cv, f, name);
	ferr(k, f, "%s %s is not a value gprdsd knows (%s)", name, gp_quote(q, cv->v), known);
	return false;
}

/* gprdsd's naming rules (DESIGN §1.4), which hold whatever pattern the schema has. */
static bool
check_name(struct ccheck *k, enum gp_req_field f)
{
	struct gp_contract_value *cv = &k->x.c->f[f];
	const char *why = NULL;
	char name[64], q[GP_QUOTE_BUF + 1];

	if (f == GP_REQ_DATABASE_NAME)
		why = gp_check_database_name(cv->v);
	else if (f == GP_REQ_USERNAME)
		why = gp_check_username(cv->v);
	else if (f == GP_REQ_REQUESTER)
		why = gp_check_requester(cv->v);
	if (!why && (f == GP_REQ_DATABASE_NAME || f == GP_REQ_USERNAME))
		why = gp_name_reserved_why(cv->v, NULL, NULL);
	if (!why)
		return true;
	field_name(cv, f, name);
	ferr(k, f, "%s %s%s", name, gp_quote_sp(q, cv->v), why);
	return false;
}

static bool
check_value(struct ccheck *k, enum gp_req_field f, const struct gp_schema_prop *p)
{
	struct gp_contract_value *cv = &k->x.c->f[f];
	char name[64], q[GP_QUOTE_BUF];
	char from[80];

	field_name(cv, f, name);
	if (p->pattern && regexec(&p->re, cv->v, 0, NULL, 0) != 0) {
		ferr(k, f, "%s %s must match %s", name, gp_quote(q, cv->v), p->pattern);
		return false;
	}
	if (!check_enum(k, f, &p->enumv, NULL))
		return false;
	snprintf(from, sizeof(from), "%s (enums.yaml)", p->enum_from ? p->enum_from : "");
	if (p->enum_from && !check_enum(k, f, gp_enums_list(k->e, p->enum_from), from))
		return false;
	if (p->type == GP_SCHEMA_INTEGER && p->has_min && cv->n < p->min) {
		ferr(k, f, "%s %lld must be at least %lld", name, (long long)cv->n,
		     (long long)p->min);
		return false;
	}
	if (p->type == GP_SCHEMA_INTEGER && p->has_max && cv->n > p->max) {
		ferr(k, f, "%s %lld must be at most %lld", name, (long long)cv->n,
		     (long long)p->max);
		return false;
	}
	return check_known(k, f) && check_name(k, f);
}

/* An absent field: required, or its default (a default that breaks its own type is none). */
static void
check_absent(struct ccheck *k, enum gp_req_field f, const struct gp_schema_prop *p)
{
	struct gp_contract_value *cv = &k->x.c->f[f];
	char name[64];

	if (p->required) {
		field_name(cv, f, name);
		if (!cv->misplaced)
			ferr(k, f, "%s is missing (the schema requires it)", name);
		return;
	}
	if (!p->def)
		return;
	cv->v = strdup(p->def);
	if (!cv->v) {
		k->x.r = -ENOMEM;
		return;
	}
	cv->defaulted = true;
	cv->plain = true;
	cv->kind = GP_NODE_STRING;
	cv->ok = p->type != GP_SCHEMA_INTEGER || is_int_text(cv->v);
	cv->n = cv->ok && p->type == GP_SCHEMA_INTEGER ? strtoll(cv->v, NULL, 10) : 0;
	cv->b = bool_text(cv->v) == 1;
}

static void
check_field(struct ccheck *k, enum gp_req_field f)
{
	const struct gp_schema_prop *p = &k->s->props[f];
	struct gp_contract_value *cv = &k->x.c->f[f];

	if (!cv->present) {
		check_absent(k, f, p);
		return;
	}
	cv->ok = check_type(k, f, p) && check_value(k, f, p);
}

/* The directory the contract is filed in must be its environment's. */
static void
check_directory(struct ccheck *k)
{
	const struct gp_contract *c = k->x.c;
	char q[GP_QUOTE_BUF], qd[GP_QUOTE_BUF];

	if (!c->dir_env || !c->f[GP_REQ_ENVIRONMENT].ok ||
	    gp_streq(c->f[GP_REQ_ENVIRONMENT].v, c->dir_env))
		return;
	ferr(k, GP_REQ_ENVIRONMENT,
	     "%senvironment %s does not match the directory it is filed in (rds-requests/%s/)",
	     c->f[GP_REQ_ENVIRONMENT].section, gp_quote(q, c->f[GP_REQ_ENVIRONMENT].v),
	     gp_escape(qd, c->dir_env, false));
}

/* ---------------------------------------------------------------------------------------
 * Conditional rules
 */

/* 1: the condition holds; 0: it does not; -1: it cannot be told (the field is unusable). */
static int
cond_holds(const struct gp_contract *c, const struct gp_schema_cond *w)
{
	const char *v = gp_contract_get(c, w->field);

	if (w->op == GP_SCHEMA_DEFINED)
		return c->f[w->field].present == w->defined;
	if (!v)
		return -1;
	return gp_strv_contains(&w->values, v);
}

/* " when environment is prod" */
static void
describe_when(struct gp_buf *b, const struct gp_schema_rule *r)
{
	char q[GP_QUOTE_BUF];

	for (size_t i = 0; i < r->n_when; i++) {
		const struct gp_schema_cond *w = &r->when[i];

		gp_buf_printf(b, "%s%s ", i ? " and " : " when ", gp_req_field_key(w->field));
		if (w->op == GP_SCHEMA_DEFINED)
			gp_buf_puts(b, w->defined ? "is given" : "is not given");
		else if (w->values.n == 1)
			gp_buf_printf(b, "is %s", gp_escape(q, w->values.v[0], false));
		else
			for (size_t j = 0; j < w->values.n; j++)
				gp_buf_printf(b, "%s%s", j ? ", " : "is one of ",
					      gp_escape(q, w->values.v[j], false));
	}
}

/* "spec.backupRetentionDays 7 (the default)" */
static void
describe_value(struct gp_buf *b, const struct gp_contract *c, enum gp_req_field f)
{
	char name[64], q[GP_QUOTE_BUF];
	const char *v = gp_contract_get(c, f);
	bool bare = c->f[f].plain && (is_int_text(v) || bool_text(v) >= 0);

	field_name(&c->f[f], f, name);
	gp_buf_printf(b, "%s %s%s", name, bare ? v : gp_quote(q, v),
		      c->f[f].defaulted ? " (the default)" : "");
}

/* Whether value f of c breaks rule r; writes what it asks into b. */
static bool
rule_broken(const struct gp_contract *c, const struct gp_schema_rule *r, struct gp_buf *b)
{
	const struct gp_contract_value *cv = &c->f[r->field], *o = &c->f[r->other];
	char name[64], q[GP_QUOTE_BUF];

	switch (r->check) {
	case GP_SCHEMA_MINIMUM:
		if (cv->n >= r->n)
			return false;
		gp_buf_printf(b, " must be at least %lld", (long long)r->n);
		return true;
	case GP_SCHEMA_MAXIMUM:
		if (cv->n <= r->n)
			return false;
		gp_buf_printf(b, " must be at most %lld", (long long)r->n);
		return true;
	case GP_SCHEMA_ENUM:
		if (gp_strv_contains(&r->values, gp_contract_get(c, r->field)))
			return false;
		gp_buf_puts(b, " must be one of: ");
		list_and_hint(b, &r->values, gp_contract_get(c, r->field));
		return true;
	case GP_SCHEMA_RECOMMENDED:
		if (gp_strv_contains(&r->values, gp_contract_get(c, r->field)))
			return false;
		gp_buf_printf(b, "; %s is recommended", gp_escape(q, r->values.v[0], false));
		return true;
	default:
		if (!o->ok || cv->n > o->n)
			return false;
		field_name(o, r->other, name);
		gp_buf_printf(b, " must be greater than %s %lld", name, (long long)o->n);
		return true;
	}
}

static void
check_rule(struct ccheck *k, const struct gp_schema_rule *r)
{
	_cleanup_(gp_buf_release) struct gp_buf b = {0};
	struct gp_contract *c = k->x.c;
	struct gp_pos p = gp_contract_pos(c, r->field);
	bool warning = r->check == GP_SCHEMA_RECOMMENDED;
	int rr;

	for (size_t i = 0; i < r->n_when; i++)
		if (cond_holds(c, &r->when[i]) != 1)
			return;
	if (!c->f[r->field].ok)
		return;
	describe_value(&b, c, r->field);
	if (!rule_broken(c, r, &b))
		return;
	describe_when(&b, r);
	if (warning && r->warning)
		gp_buf_printf(&b, ": %s", r->warning);
	gp_buf_printf(&b, " (rule %s)", r->name ? r->name : "unnamed");
	if (b.oom) {
		k->x.r = -ENOMEM;
		return;
	}
	rr = warning ? gp_pos_warning(k->x.diags, &p, "%s", b.p) : gp_pos_error(k->x.diags, &p,
										 "%s", b.p);
	if (rr < 0)
		k->x.r = rr;
	if (!warning)
		c->f[r->field].ok = false;
}

/* The first error added since n_before becomes the contract's problem. */
static int
note_problem(struct gp_contract *c, const struct gp_diags *d, size_t n_before)
{
	for (size_t i = n_before; i < d->n; i++) {
		if (d->v[i].severity != GP_SEV_ERROR)
			continue;
		c->valid = false;
		if (!c->problem && !(c->problem = strdup(d->v[i].message)))
			return -ENOMEM;
	}
	return 0;
}

int
gp_contract_check(struct gp_contract *c, const struct gp_schema *s, const struct gp_enums *e,
		  struct gp_diags *diags)
{
	struct ccheck k = {{c, diags, 0}, s, e};
	size_t n_before = diags->n;

	c->valid = c->parsed;
	if (!c->parsed)
		return 0;
	for (size_t f = 0; f < _GP_REQ_FIELD_MAX && k.x.r >= 0; f++)
		check_field(&k, (enum gp_req_field)f);
	if (k.x.r >= 0)
		check_directory(&k);
	for (size_t i = 0; i < s->n_rules && k.x.r >= 0; i++)
		check_rule(&k, &s->rules[i]);
	if (k.x.r < 0)
		return k.x.r;
	return note_problem(c, diags, n_before);
}

/*
 * A contract that does not parse still names its database, most of the time, on a line of its
 * own: `databaseName: orders` (quoted or not, under spec or not). When exactly one line reads
 * so and the name obeys the database name rule, that is the database it describes. A guess
 * that can only hold entries back, never let one through.
 */
static int
salvage_db(struct gp_contract *c, const char *buf, size_t len)
{
	static const char key[] = "databaseName:";
	char name[64], db[64] = "";
	const char *p = buf, *end = buf + len;
	size_t n = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *q = p;
		size_t k = 0;

		if (!eol)
			eol = end;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(eol - q) > sizeof(key) - 1 && memcmp(q, key, sizeof(key) - 1) == 0) {
			q += sizeof(key) - 1;
			while (q < eol && (*q == ' ' || *q == '\t' || *q == '"' || *q == '\''))
				q++;
			while (q + k < eol && k + 1 < sizeof(name) &&
			       (q[k] == '_' || (q[k] >= 'a' && q[k] <= 'z') ||
				(q[k] >= '0' && q[k] <= '9')))
				k++;
			memcpy(name, q, k);
			name[k] = '\0';
			if (k && !gp_check_database_name(name) && n++ == 0)
				memcpy(db, name, k + 1);
		}
		p = eol + 1;
	}
	if (n != 1)
		return 0;
	c->salvaged_db = strdup(db);
	return c->salvaged_db ? 0 : -ENOMEM;
}

int
gp_contracts_read(struct gp_contracts *cs, const char *buf, size_t len, const char *name,
		  const char *dir_env, const struct gp_schema *s, const struct gp_enums *e,
		  struct gp_diags *diags)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;
	struct gp_contract *c;
	size_t n_before = diags->n;
	int r = contracts_add(cs, name, dir_env, &c);

	if (r < 0)
		return r;
	r = gp_yaml_parse(buf, len, c->file, &doc, diags);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return salvage_db(c, buf, len) < 0 ? -ENOMEM : note_problem(c, diags, n_before);
	r = gp_contract_extract(doc, c, diags);
	if (r >= 0)
		r = gp_contract_check(c, s, e, diags);
	if (r >= 0)
		r = note_problem(c, diags, n_before);
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Accessors and the dump
 */

const char *
gp_contract_get(const struct gp_contract *c, enum gp_req_field f)
{
	const struct gp_contract_value *cv = &c->f[f];
	int b;

	if (!cv->ok || !cv->v)
		return NULL;
	b = cv->plain ? bool_text(cv->v) : -1;
	if (b >= 0)
		return b ? "true" : "false";
	return cv->v;
}

struct gp_pos
gp_contract_pos(const struct gp_contract *c, enum gp_req_field f)
{
	const struct gp_contract_value *cv = &c->f[f];

	if (cv->line)
		return (struct gp_pos){c->file, cv->line, cv->col};
	if (!gp_req_field_identity(f))
		return (struct gp_pos){c->file, c->spec_line, c->spec_col};
	return (struct gp_pos){c->file, c->line, c->col};
}

const char *
gp_contract_name(const struct gp_contract *c)
{
	const char *id = gp_contract_get(c, GP_REQ_ID);

	return id ? id : c->file;
}

int
gp_contract_dump(const struct gp_contract *c, struct gp_buf *out)
{
	gp_buf_printf(out, "contract %s (directory %s): %s\n", c->file,
		      c->dir_env ? c->dir_env : "-",
		      !c->parsed ? "does not parse" : c->valid ? "valid" : "invalid");
	if (c->salvaged_db)
		gp_buf_printf(out, "  describes database %s (its databaseName line)\n",
			      c->salvaged_db);
	for (size_t f = 0; c->parsed && f < _GP_REQ_FIELD_MAX; f++) {
		const struct gp_contract_value *cv = &c->f[f];
		char name[64];

		field_name(cv, (enum gp_req_field)f, name);
		gp_buf_printf(out, "  %s = ", name);
		if (!cv->present && !cv->defaulted)
			gp_buf_puts(out, "-");
		else if (!cv->v)
			gp_buf_printf(out, "<%s>", gp_node_kind_to_string(cv->kind));
		else
			gp_buf_printf(out, "%s%s%s", cv->plain ? "" : "\"", cv->v,
				      cv->plain ? "" : "\"");
		if (cv->line)
			gp_buf_printf(out, "  @%u:%u", cv->line, cv->col);
		gp_buf_printf(out, "%s%s\n", cv->defaulted ? "  (default)" : "",
			      cv->ok ? "  ok" : cv->present ? "  rejected" : "");
	}
	if (c->problem)
		gp_buf_printf(out, "  problem: %s\n", c->problem);
	return out->oom ? -ENOMEM : 0;
}
