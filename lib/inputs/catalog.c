/*
 * catalog.c — rds-catalog.yaml (DESIGN §1.2) from a parsed YAML tree into struct gp_catalog.
 *
 * Only shape is checked here: which fields exist and that they are scalars, each kept with its
 * position. Whether a risk or a status is an allowed value, and how the catalog joins the
 * tfvars, is plan/join.c's business. Unknown keys are ignored on purpose: the platform adds its
 * own metadata over time and the catalog is not gprdsd's file. Except one that looks like a
 * misspelling of a key gprdsd reads (gp_did_you_mean()) while that key is absent: `rsk: high`
 * is an error with a "did you mean", and the field it stands for is not missing on top.
 *
 * One mistake, one error: a field that is absent because of a reported problem is marked
 * (gp_field.reported), and the entry keeps its first problem (invalid) for the join to hold
 * its entries with.
 *
 * A plain `~`, `null` or empty value counts as absent, so `approved_by: ~` is no approval.
 * metadata.approved_by alone may also be a list of groups (an approval route can need two).
 * A missing or malformed `databases:` is an error for the whole file: an unreadable catalog
 * must never look like an empty one.
 */
#include "inputs/catalog.h"

#include "base/doc.h"
#include "base/quote.h"

#include <stddef.h>

static const struct catalog_field {
	const char *section;
	const char *key;
	size_t offset;
} catalog_fields[] = {
	{"metadata", "id", offsetof(struct gp_catalog_entry, id)},
	{"metadata", "owner", offsetof(struct gp_catalog_entry, owner)},
	{"metadata", "requested_by", offsetof(struct gp_catalog_entry, requested_by)},
	{"metadata", "domain", offsetof(struct gp_catalog_entry, domain)},
	{"metadata", "risk", offsetof(struct gp_catalog_entry, risk)},
	{"metadata", "environment", offsetof(struct gp_catalog_entry, environment)},
	{"metadata", "status", offsetof(struct gp_catalog_entry, status)},
	{"metadata", "created_date", offsetof(struct gp_catalog_entry, created_date)},
	{"metadata", "approved_by", offsetof(struct gp_catalog_entry, approved_by)},
	{"metadata", "decommission_confirm",
	 offsetof(struct gp_catalog_entry, decommission_confirm)},
	{"configuration", "username", offsetof(struct gp_catalog_entry, username)},
	{"configuration", "size_tier", offsetof(struct gp_catalog_entry, size_tier)},
	{"configuration", "instance_class", offsetof(struct gp_catalog_entry, instance_class)},
	{"configuration", "secret_path", offsetof(struct gp_catalog_entry, secret_path)},
	{"metadata", "rotate_after", offsetof(struct gp_catalog_entry, rotate_after)},
	{"configuration", "rotation_strategy",
	 offsetof(struct gp_catalog_entry, rotation_strategy)},
};

static const char *const catalog_sections[] = {"metadata", "configuration"};

static struct gp_field *
entry_field(struct gp_catalog_entry *e, size_t offset)
{
	return (struct gp_field *)((char *)e + offset);
}

/* Copies one scalar into f; a non-scalar is an error at its position and leaves f absent. */
static int
take_scalar(const struct gp_doc *doc, const struct gp_node *v, const char *what,
	    struct gp_field *f, struct gp_diags *diags)
{
	if (!v || gp_node_is_null(v))
		return 0;
	if (v->kind != GP_NODE_STRING)
		return gp_diag_error(diags, -EINVAL, doc->name, v->line, v->col,
				     "%s must be a scalar, not a %s", what ? what : "the value",
				     gp_node_shape_name(v));
	return gp_field_set(f, v->str, v->line, v->col);
}

static bool
find_section(const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(catalog_sections); i++)
		if (strcmp(catalog_sections[i], key) == 0)
			return true;
	return false;
}

static const struct catalog_field *
find_field(const char *section, const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(catalog_fields); i++)
		if (strcmp(catalog_fields[i].section, section) == 0 &&
		    strcmp(catalog_fields[i].key, key) == 0)
			return &catalog_fields[i];
	return NULL;
}

/* A shape problem of entry e at line:col: an error, and, the first time, e's reason to be
 * held. */
static int entry_error(const struct gp_doc *doc, unsigned line, unsigned col,
		       struct gp_catalog_entry *e, struct gp_diags *diags, const char *fmt, ...)
	_printf_(6, 7);

static int
entry_error(const struct gp_doc *doc, unsigned line, unsigned col, struct gp_catalog_entry *e,
	    struct gp_diags *diags, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = gp_diags_vadd(diags, GP_SEV_ERROR, -EINVAL, doc->name, line, col, fmt, ap);
	va_end(ap);
	if (r >= 0 && !e->invalid && !(e->invalid = strdup(diags->v[diags->n - 1].message)))
		r = -ENOMEM;
	return r;
}

/* Marks every field of the section (every one when section is NULL) reported. */
static void
mark_reported(struct gp_catalog_entry *e, const char *section, const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(catalog_fields); i++)
		if ((!section || strcmp(catalog_fields[i].section, section) == 0) &&
		    (!key || strcmp(catalog_fields[i].key, key) == 0))
			entry_field(e, catalog_fields[i].offset)->reported = true;
}

/*
 * A key gprdsd does not read, in the section (NULL: at the entry's top, among the sections) of
 * the mapping obj. Ignored, unless it is close to a known key that obj lacks: then an error
 * with that key as a "did you mean", and what the known key stood for is marked reported.
 */
static int
unknown_key(const struct gp_doc *doc, const struct gp_member *m, const struct gp_node *obj,
	    const char *section, struct gp_catalog_entry *e, struct gp_diags *diags)
{
	const char *names[ELEMENTSOF(catalog_fields)], *hint;
	char qk[GP_QUOTE_BUF], qd[GP_QUOTE_BUF];
	size_t n = 0;

	if (!section)
		for (size_t i = 0; i < ELEMENTSOF(catalog_sections); i++)
			names[n++] = catalog_sections[i];
	for (size_t i = 0; section && i < ELEMENTSOF(catalog_fields); i++)
		if (strcmp(catalog_fields[i].section, section) == 0)
			names[n++] = catalog_fields[i].key;
	hint = gp_did_you_mean(m->key, names, n);
	if (!hint || gp_node_get(obj, hint))
		return 0;
	mark_reported(e, section ? section : hint, section ? hint : NULL);
	return entry_error(doc, m->line, m->col, e, diags,
			   "unknown key %s in %s%sdatabase %s (did you mean \"%s\"?)",
			   gp_quote(qk, m->key), section ? section : "", section ? " of " : "",
			   gp_quote(qd, e->database.v), hint);
}

/* metadata.approved_by: one group, or a list of groups (each a non-empty scalar). */
static int
take_approvers(const struct gp_doc *doc, const struct gp_node *v, struct gp_catalog_entry *e,
	       struct gp_diags *diags)
{
	_cleanup_(gp_buf_release) struct gp_buf text = {0};
	const struct gp_node *const *items =
		v->kind == GP_NODE_LIST ? (const struct gp_node *const *)v->items : &v;
	size_t n = v->kind == GP_NODE_LIST ? v->n : 1;

	for (size_t i = 0; i < n; i++) {
		const struct gp_node *it = items[i];

		if (it->kind != GP_NODE_STRING || gp_node_is_null(it) || it->len == 0)
			return entry_error(doc, it->line, it->col, e, diags,
					   "metadata.approved_by of database \"%s\" must name groups, "
					   "not a %s",
					   e->database.v,
					   gp_node_is_null(it) ? "null" : gp_node_shape_name(it));
		if (gp_strv_push(&e->approvers, it->str) < 0)
			return -ENOMEM;
		gp_buf_printf(&text, "%s%s", i ? ", " : "", it->str);
	}
	if (n == 0)
		return 0;
	return text.oom ? -ENOMEM : gp_field_set(&e->approved_by, text.p, v->line, v->col);
}

/* Walks the section in file order, so that errors come out in the order of the file. */
static int
extract_section(const struct gp_doc *doc, const struct gp_node *sec, const char *section,
		struct gp_catalog_entry *e, struct gp_diags *diags)
{
	char q[GP_QUOTE_BUF];
	int r = 0;

	if (!sec || gp_node_is_null(sec))
		return 0;
	if (sec->kind != GP_NODE_OBJECT) {
		mark_reported(e, section, NULL);
		return entry_error(doc, sec->line, sec->col, e, diags,
				   "%s of database %s must be a mapping, not a %s", section,
				   gp_quote(q, e->database.v), gp_node_shape_name(sec));
	}
	for (size_t i = 0; i < sec->n && r >= 0; i++) {
		const struct catalog_field *cf = find_field(section, sec->members[i].key);
		const struct gp_node *v = sec->members[i].value;

		if (!cf) {
			r = unknown_key(doc, &sec->members[i], sec, section, e, diags);
			continue;
		}
		if (cf->offset == offsetof(struct gp_catalog_entry, approved_by) && v &&
		    !gp_node_is_null(v) && (v->kind == GP_NODE_STRING || v->kind == GP_NODE_LIST)) {
			r = take_approvers(doc, v, e, diags);
			continue;
		}
		/* The message is built only when there is something to say: this runs for every
		 * field of every entry on every pass. */
		if (v && !gp_node_is_null(v) && v->kind != GP_NODE_STRING) {
			mark_reported(e, section, cf->key);
			r = entry_error(doc, v->line, v->col, e, diags,
					"%s.%s of database %s must be a scalar, not a %s", section,
					cf->key, gp_quote(q, e->database.v), gp_node_shape_name(v));
			continue;
		}
		r = take_scalar(doc, v, NULL, entry_field(e, cf->offset), diags);
	}
	return r;
}

/* Returns 1 when the entry was taken, 0 when it was skipped (with an error), or -ENOMEM. */
static int
extract_entry(const struct gp_doc *doc, const struct gp_member *m, struct gp_catalog_entry *e,
	      struct gp_diags *diags)
{
	char q[GP_QUOTE_BUF];
	int r;

	if (m->value->kind != GP_NODE_OBJECT) {
		r = gp_diag_error(diags, -EINVAL, doc->name, m->value->line, m->value->col,
				  "database %s: expected a mapping with metadata and "
				  "configuration, not a %s",
				  gp_quote(q, m->key), gp_node_shape_name(m->value));
		return r < 0 ? r : 0;
	}
	r = gp_field_set(&e->database, m->key, m->line, m->col);
	for (size_t i = 0; i < m->value->n && r >= 0; i++)
		if (!find_section(m->value->members[i].key))
			r = unknown_key(doc, &m->value->members[i], m->value, NULL, e, diags);
	for (size_t i = 0; i < ELEMENTSOF(catalog_sections) && r >= 0; i++)
		r = extract_section(doc, gp_node_get(m->value, catalog_sections[i]),
				    catalog_sections[i], e, diags);
	return r < 0 ? r : 1;
}

static void
catalog_entry_release(struct gp_catalog_entry *e)
{
	gp_field_release(&e->database);
	gp_strv_release(&e->approvers);
	for (size_t i = 0; i < ELEMENTSOF(catalog_fields); i++)
		gp_field_release(entry_field(e, catalog_fields[i].offset));
	free(e->invalid);
	e->invalid = NULL;
}

void
gp_catalog_free(struct gp_catalog *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		catalog_entry_release(&c->v[i]);
	free(c->v);
	gp_field_release(&c->version);
	free(c->file);
	free(c);
}

/* No `databases` in the mapping at the top: one error, at the key that is its misspelling
 * when there is one. */
static void
misspelt_databases(const struct gp_doc *doc, struct gp_diags *diags)
{
	static const char *const known[] = {"databases"};
	const struct gp_node *root = doc->root;
	char q[GP_QUOTE_BUF];

	for (size_t i = 0; i < root->n; i++) {
		const struct gp_member *m = &root->members[i];

		if (gp_did_you_mean(m->key, known, ELEMENTSOF(known))) {
			gp_diag_error(diags, -EINVAL, doc->name, m->line, m->col,
				      "unknown key %s in the catalog (did you mean \"databases\"?)",
				      gp_quote(q, m->key));
			return;
		}
	}
	gp_diag_error(diags, -EINVAL, doc->name, root->line, root->col,
		      "no \"databases\" key in the catalog");
}

/* The top level: a mapping whose `databases` is a mapping. */
static const struct gp_node *
find_databases(const struct gp_doc *doc, struct gp_diags *diags)
{
	const struct gp_node *root = doc->root, *dbs;

	if (!root) {
		gp_diag_error(diags, -EINVAL, doc->name, 0, 0, "the catalog is empty");
		return NULL;
	}
	if (root->kind != GP_NODE_OBJECT) {
		gp_diag_error(diags, -EINVAL, doc->name, root->line, root->col,
			      "expected a mapping with version and databases, not a %s",
			      gp_node_shape_name(root));
		return NULL;
	}
	dbs = gp_node_get(root, "databases");
	if (!dbs) {
		misspelt_databases(doc, diags);
		return NULL;
	}
	if (dbs->kind != GP_NODE_OBJECT) {
		gp_diag_error(diags, -EINVAL, doc->name, dbs->line, dbs->col,
			      "\"databases\" must be a mapping of database names, not a %s%s",
			      gp_node_is_null(dbs) ? "null" : gp_node_shape_name(dbs),
			      gp_node_is_null(dbs) ? " (write `databases: {}` for none)" : "");
		return NULL;
	}
	return dbs;
}

int
gp_catalog_extract(const struct gp_doc *doc, struct gp_catalog **ret, struct gp_diags *diags)
{
	_cleanup_(gp_catalog_freep) struct gp_catalog *c = NULL;
	const struct gp_node *dbs = find_databases(doc, diags);
	int r;

	if (!dbs)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->file = strdup(doc->name);
	c->v = calloc(dbs->n ? dbs->n : 1, sizeof(*c->v));
	if (!c->file || !c->v)
		return -ENOMEM;
	r = take_scalar(doc, gp_node_get(doc->root, "version"), "version", &c->version, diags);
	if (r < 0)
		return r;
	for (size_t i = 0; i < dbs->n; i++) {
		size_t n_before = diags->n;

		r = extract_entry(doc, &dbs->members[i], &c->v[c->n], diags);
		if (r >= 0 && gp_diags_set_context(diags, n_before, NULL, dbs->members[i].key) < 0)
			r = -ENOMEM;
		if (r < 0)
			return r;
		if (r > 0)
			c->n++;
		else
			catalog_entry_release(&c->v[c->n]);
	}
	*ret = TAKE_PTR(c);
	return 0;
}
