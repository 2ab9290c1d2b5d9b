/*
 * tfvars.c — reads the application databases out of a parsed terraform.tfvars document
 * (hcl.c builds the tree): top-level `application_databases` in standalone mode, or
 * `rds_config = { enabled, application_databases }` in coupled mode.
 *
 * It checks shape only: each member must be an object whose database_name and username are
 * strings (access_level optional) and that has no other attribute (a misspelt access_level
 * must not make a reader an owner). A bad member is reported once, with its position, and
 * still returned with the fields it has and its first problem as the reason to hold it, so
 * that the join holds back that one entry, without reporting it again, and lets the others
 * proceed. Names are not checked here (plan/join.c does), and every top-level attribute other
 * than the ones above is ignored: the file also configures the rest of the platform.
 */
#include "inputs/tfvars.h"

#include "base/doc.h"
#include "base/quote.h"

#include <stddef.h>

struct extract {
	const char *file;
	const char *path; /* "application_databases" or "rds_config.application_databases" */
	struct gp_diags *diags;
};

/*
 * The attributes of an application_databases entry: the one list that extraction walks and
 * that an unknown attribute is compared with for a "did you mean".
 */
static const struct entry_attr {
	const char *name;
	bool required;
	size_t offset; /* of its struct gp_field in struct gp_tfvars_entry */
} entry_attrs[] = {
	{"database_name", true, offsetof(struct gp_tfvars_entry, database)},
	{"username", true, offsetof(struct gp_tfvars_entry, username)},
	{"access_level", false, offsetof(struct gp_tfvars_entry, access)},
};

static struct gp_field *
attr_field(struct gp_tfvars_entry *e, const struct entry_attr *a)
{
	return (struct gp_field *)((char *)e + a->offset);
}

/* A shape error of the document as a whole, at node n: the extraction fails with -EINVAL. */
static int document_error(struct extract *x, const struct gp_node *n, const char *fmt, ...)
	_printf_(3, 4);

static int
document_error(struct extract *x, const struct gp_node *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = gp_diags_vadd(x->diags, GP_SEV_ERROR, -EINVAL, x->file, n->line, n->col, fmt, ap);
	va_end(ap);
	return r < 0 ? r : -EINVAL;
}

/* A shape problem of entry e at line:col: an error, and, the first time, the entry's reason to
 * be held (e->invalid), so that the join holds it without reporting it again. */
static int
entry_problem(struct extract *x, struct gp_tfvars_entry *e, unsigned line, unsigned col,
	      const struct gp_buf *msg)
{
	if (msg->oom)
		return -ENOMEM;
	if (!e->invalid && !(e->invalid = strdup(msg->p)))
		return -ENOMEM;
	return gp_diag_error(x->diags, -EINVAL, x->file, line, col, "%s", msg->p);
}

/* entry_problem() with a message that starts with the entry's address,
 * `application_databases["key"]`, followed by fmt. */
static int entry_error(struct extract *x, struct gp_tfvars_entry *e, unsigned line, unsigned col,
		       const char *fmt, ...) _printf_(5, 6);

static int
entry_error(struct extract *x, struct gp_tfvars_entry *e, unsigned line, unsigned col,
	    const char *fmt, ...)
{
	_cleanup_(gp_buf_release) struct gp_buf b = {0};
	char q[GP_QUOTE_BUF];
	va_list ap;

	gp_buf_printf(&b, "%s[%s]", x->path, gp_quote(q, e->key.v));
	va_start(ap, fmt);
	gp_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return entry_problem(x, e, line, col, &b);
}

/*
 * An attribute that is not in entry_attrs: an error at its name, with the known attribute it
 * is closest to. When that one is absent, the misspelling explains it: it is marked reported
 * and not said to be missing as well.
 */
static int
unknown_attr(struct extract *x, const struct gp_member *a, struct gp_tfvars_entry *e,
	     const struct gp_node *obj)
{
	_cleanup_(gp_buf_release) struct gp_buf b = {0};
	const char *names[ELEMENTSOF(entry_attrs)], *hint;
	char qa[GP_QUOTE_BUF], qk[GP_QUOTE_BUF];

	for (size_t k = 0; k < ELEMENTSOF(entry_attrs); k++)
		names[k] = entry_attrs[k].name;
	hint = gp_did_you_mean(a->key, names, ELEMENTSOF(names));
	for (size_t k = 0; hint && k < ELEMENTSOF(entry_attrs); k++)
		if (names[k] == hint && !gp_node_get(obj, hint))
			attr_field(e, &entry_attrs[k])->reported = true;
	gp_buf_printf(&b, "unknown attribute %s in %s[%s]", gp_quote(qa, a->key), x->path,
		      gp_quote(qk, e->key.v));
	if (hint)
		gp_buf_printf(&b, " (did you mean \"%s\"?)", hint);
	return entry_problem(x, e, a->line, a->col, &b);
}

/* One string attribute of member m (whose value is an object); a missing one is reported at
 * m, unless a misspelling of it was. */
static int
extract_field(struct extract *x, const struct gp_member *m, const struct entry_attr *a,
	      struct gp_tfvars_entry *e)
{
	const struct gp_node *v = gp_node_get(m->value, a->name);
	struct gp_field *f = attr_field(e, a);

	/* null is how HCL spells "not set": an optional field then takes its default. */
	if (!v || (!a->required && v->kind == GP_NODE_NULL)) {
		if (!a->required || f->reported)
			return 0;
		f->reported = true;
		return entry_error(x, e, m->line, m->col, ".%s is missing", a->name);
	}
	if (v->kind != GP_NODE_STRING) {
		f->reported = true;
		return entry_error(x, e, v->line, v->col, ".%s must be a string, found %s", a->name,
				   gp_node_kind_to_string(v->kind));
	}
	return gp_field_set(f, v->str, v->line, v->col);
}

static int
extract_entry(struct extract *x, const struct gp_member *m, struct gp_tfvars_entry *e)
{
	const struct gp_node *v = m->value;
	int r;

	r = gp_field_set(&e->key, m->key, m->line, m->col);
	if (r < 0)
		return r;
	if (v->kind != GP_NODE_OBJECT)
		return entry_error(x, e, v->line, v->col,
				   " must be an object with database_name and username, found %s",
				   gp_node_kind_to_string(v->kind));
	/* In the file's order, so that the errors come out in that order. */
	for (size_t i = 0; i < v->n && r >= 0; i++) {
		bool known = false;

		for (size_t k = 0; k < ELEMENTSOF(entry_attrs); k++)
			known |= strcmp(v->members[i].key, entry_attrs[k].name) == 0;
		if (!known)
			r = unknown_attr(x, &v->members[i], e, v);
	}
	for (size_t k = 0; k < ELEMENTSOF(entry_attrs) && r >= 0; k++)
		r = extract_field(x, m, &entry_attrs[k], e);
	return r;
}

/* apps: the application_databases member, or NULL when there is none (an empty list). */
static int
extract_apps(struct extract *x, const struct gp_member *apps, struct gp_tfvars *t)
{
	const struct gp_node *v = apps ? apps->value : NULL;
	int r;

	if (!v)
		return 0;
	if (v->kind != GP_NODE_OBJECT)
		return document_error(
			x, v,
			"%s must be an object (app key = { database_name, username }), "
			"found %s",
			x->path, gp_node_kind_to_string(v->kind));
	if (v->n == 0)
		return 0;
	t->v = calloc(v->n, sizeof(*t->v));
	if (!t->v)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		size_t n_before = x->diags->n;

		t->n++;
		r = extract_entry(x, &v->members[i], &t->v[i]);
		if (r >= 0)
			r = gp_diags_set_context(x->diags, n_before, NULL, v->members[i].key);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Coupled mode: rds_config.enabled decides. A non-bool enabled is an error for the whole
 * document: whether the environment is coupled at all is then unknown, and guessing either
 * way could read the wrong file as the desired state.
 */
static int
extract_coupled(struct extract *x, const struct gp_node *root, struct gp_tfvars *t)
{
	const struct gp_node *rds = gp_node_get(root, "rds_config");
	const struct gp_node *en;

	if (!rds)
		return 0;
	if (rds->kind != GP_NODE_OBJECT)
		return document_error(x, rds, "rds_config must be an object, found %s",
				      gp_node_kind_to_string(rds->kind));
	/* null is HCL's "not set", like a missing attribute: the variable's default, false. */
	en = gp_node_get(rds, "enabled");
	if (en && en->kind != GP_NODE_BOOL && en->kind != GP_NODE_NULL)
		return document_error(x, en, "rds_config.enabled must be true or false, found %s",
				      gp_node_kind_to_string(en->kind));
	t->rds_enabled = en && en->kind == GP_NODE_BOOL && en->b;
	/* Entries of a disabled rds_config are not the desired state of anything: skip them. */
	if (!t->rds_enabled)
		return 0;
	return extract_apps(x, gp_node_member(rds, "application_databases"), t);
}

int
gp_tfvars_extract(const struct gp_doc *doc, enum gp_mode mode, struct gp_tfvars **ret,
		  struct gp_diags *diags)
{
	_cleanup_(gp_tfvars_freep) struct gp_tfvars *t = NULL;
	struct extract x = {.file = doc->name, .diags = diags};
	int r;

	if (mode != GP_MODE_STANDALONE && mode != GP_MODE_COUPLED)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->file = gp_strdup0(doc->name);
	if (doc->name && !t->file)
		return -ENOMEM;
	t->mode = mode;
	if (mode == GP_MODE_STANDALONE) {
		x.path = "application_databases";
		t->rds_enabled = true;
		r = extract_apps(&x, gp_node_member(doc->root, "application_databases"), t);
	} else {
		x.path = "rds_config.application_databases";
		r = extract_coupled(&x, doc->root, t);
	}
	if (r < 0)
		return r;
	/* Member shape errors are in diags; the entries are still returned (see model.h). */
	*ret = TAKE_PTR(t);
	return 0;
}

void
gp_tfvars_free(struct gp_tfvars *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		gp_field_release(&t->v[i].key);
		gp_field_release(&t->v[i].database);
		gp_field_release(&t->v[i].username);
		gp_field_release(&t->v[i].access);
		free(t->v[i].invalid);
	}
	free(t->v);
	free(t->file);
	free(t);
}
