/*
 * yaml.c — YAML front end: libyaml's event stream → the gp_doc tree of doc.h.
 *
 * The tree is built iteratively with an explicit, bounded stack of open collections, so
 * hostile nesting costs neither C stack nor unbounded memory: the parse stops with an error at
 * the first collection deeper than GP_DOC_MAX_DEPTH, before libyaml has read much further.
 * Every scalar becomes a STRING (with `plain` set when it was unquoted); deciding that `true`
 * is a bool or `~` is null is left to the consumer, which knows what it expects.
 *
 * Deliberately not supported: aliases (a config or catalog that needs them is too clever for a
 * reviewed input; anchors alone are ignored), more than one document, and non-scalar keys.
 * Tags are ignored. Input must be UTF-8 without NUL bytes; both are checked here, with a
 * position, because libyaml reports such problems only as byte offsets.
 */
#include "base/doc.h"

#include <yaml.h>

struct yframe {
	struct gp_node *node; /* LIST or OBJECT being filled */
	struct gp_node **kids; /* heap; OBJECT: key, value, key, value, ... */
	size_t n, cap;
};

struct yparse {
	struct gp_doc *doc;
	struct gp_diags *diags;
	const char *buf;
	size_t len;
	size_t errors;
	unsigned docs;
	struct yframe stack[GP_DOC_MAX_DEPTH];
	size_t depth;
};

/* 1-based line and column (in characters, as libyaml counts them) of byte offset off. */
static void
offset_pos(const char *buf, size_t len, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (ch == '\n' || (ch == '\r' && (i + 1 >= len || buf[i + 1] != '\n'))) {
			l++;
			c = 1;
		} else if ((ch & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static size_t
utf8_seq_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 0;
}

/* Finds the first NUL byte or invalid UTF-8 sequence; reports it and returns -EINVAL. */
static int
check_encoding(const char *buf, size_t len, const char *name, struct gp_diags *diags)
{
	unsigned line, col;
	size_t i = 0, n;

	while (i < len) {
		unsigned char c = (unsigned char)buf[i];

		if (c == 0)
			break;
		n = utf8_seq_len(c);
		if (n == 1) {
			i++;
			continue;
		}
		if (n == 0 || n > len - i || !gp_utf8_valid(buf + i, n))
			break;
		i += n;
	}
	if (i == len)
		return 0;
	offset_pos(buf, len, i, &line, &col);
	gp_diag_error(diags, -EINVAL, name, line, col,
		      buf[i] == 0 ? "NUL byte in input" : "invalid UTF-8 in input");
	return -EINVAL;
}

static void
yerror(struct yparse *p, const yaml_mark_t *m, const char *fmt, ...) _printf_(3, 4);

static void
yerror(struct yparse *p, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	p->errors++;
	va_start(ap, fmt);
	gp_diags_vadd(p->diags, GP_SEV_ERROR, -EINVAL, p->doc->name, (unsigned)m->line + 1,
		      (unsigned)m->column + 1, fmt, ap);
	va_end(ap);
}

/* Turns libyaml's error state into one positioned diagnostic. */
static int
report_libyaml(struct yparse *p, const yaml_parser_t *yp)
{
	const char *problem = yp->problem ? yp->problem : "malformed YAML";
	unsigned line = (unsigned)yp->problem_mark.line + 1;
	unsigned col = (unsigned)yp->problem_mark.column + 1;

	if (yp->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	p->errors++;
	if (yp->error == YAML_READER_ERROR) {
		/* The reader knows only a byte offset. */
		offset_pos(p->buf, p->len, yp->problem_offset, &line, &col);
		gp_diag_error(p->diags, -EINVAL, p->doc->name, line, col, "%s", problem);
	} else if (yp->context) {
		gp_diag_error(p->diags, -EINVAL, p->doc->name, line, col, "%s (%s at %u:%u)",
			      problem, yp->context, (unsigned)yp->context_mark.line + 1,
			      (unsigned)yp->context_mark.column + 1);
	} else {
		gp_diag_error(p->diags, -EINVAL, p->doc->name, line, col, "%s", problem);
	}
	return -EINVAL;
}

static struct gp_node *
new_node(struct yparse *p, enum gp_node_kind kind, const yaml_event_t *ev)
{
	struct gp_node *n = gp_arena_alloc(p->doc->arena, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->col = (unsigned)ev->start_mark.column + 1;
	return n;
}

/* Adds a finished or just-opened node to the innermost open collection (or makes it the root). */
static int
attach(struct yparse *p, struct gp_node *n)
{
	struct yframe *f;

	if (p->depth == 0) {
		p->doc->root = n;
		return 0;
	}
	f = &p->stack[p->depth - 1];
	if (f->node->kind == GP_NODE_OBJECT && f->n % 2 == 0 && n->kind != GP_NODE_STRING) {
		p->errors++;
		gp_diag_error(p->diags, -EINVAL, p->doc->name, n->line, n->col,
			      "mapping keys must be scalars, not a %s",
			      n->kind == GP_NODE_OBJECT ? "mapping" : "sequence");
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct gp_node **v = realloc(f->kids, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->kids = v;
		f->cap = cap;
	}
	f->kids[f->n++] = n;
	return 0;
}

static int
on_scalar(struct yparse *p, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct gp_node *n = new_node(p, GP_NODE_STRING, ev);

	if (!n)
		return -ENOMEM;
	n->str = gp_arena_strndup(p->doc->arena, v, len);
	if (!n->str)
		return -ENOMEM;
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	/* A "\0" escape in a double-quoted scalar yields a NUL that C strings cannot carry. */
	if (memchr(v, 0, len))
		yerror(p, &ev->start_mark, "%s", "NUL character (\\0) in a string");
	return attach(p, n);
}

static int
on_open(struct yparse *p, const yaml_event_t *ev, enum gp_node_kind kind)
{
	struct gp_node *n;
	int r;

	if (p->depth == GP_DOC_MAX_DEPTH) {
		p->errors++;
		gp_diag_error(p->diags, -EINVAL, p->doc->name, (unsigned)ev->start_mark.line + 1,
			      (unsigned)ev->start_mark.column + 1, "nesting deeper than %d levels",
			      GP_DOC_MAX_DEPTH);
		return -EINVAL;
	}
	n = new_node(p, kind, ev);
	if (!n)
		return -ENOMEM;
	r = attach(p, n);
	if (r < 0)
		return r;
	p->stack[p->depth++] = (struct yframe){.node = n};
	return 0;
}

static int
cmp_member_key(const void *a, const void *b)
{
	const struct gp_member *x = *(const struct gp_member *const *)a;
	const struct gp_member *y = *(const struct gp_member *const *)b;
	int c = strcmp(x->key, y->key);

	/* Members sit in one array, so address order is file order. */
	if (c)
		return c;
	return x < y ? -1 : x > y;
}

/*
 * Reports every repeated key at its later occurrence, naming the first line. Sorting makes
 * this O(n log n): a mapping with many keys must not cost quadratic time.
 */
static int
check_duplicates(struct yparse *p, const struct gp_node *obj)
{
	const struct gp_member **v;
	size_t first = 0;

	if (obj->n < 2)
		return 0;
	v = malloc(obj->n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < obj->n; i++)
		v[i] = &obj->members[i];
	qsort(v, obj->n, sizeof(*v), cmp_member_key);
	for (size_t i = 1; i < obj->n; i++) {
		if (strcmp(v[i]->key, v[first]->key) != 0) {
			first = i;
			continue;
		}
		p->errors++;
		gp_diag_error(p->diags, -EINVAL, p->doc->name, v[i]->line, v[i]->col,
			      "duplicate key \"%s\" (first defined at line %u)", v[i]->key,
			      v[first]->line);
	}
	free(v);
	return 0;
}

/* Closes the innermost collection: its children move from the heap vector into the arena. */
static int
on_close(struct yparse *p)
{
	struct yframe *f = &p->stack[--p->depth];
	struct gp_node *n = f->node;
	int r = 0;

	if (n->kind == GP_NODE_LIST && f->n) {
		n->items = gp_arena_alloc(p->doc->arena, f->n * sizeof(*n->items));
		if (!n->items)
			goto oom;
		memcpy(n->items, f->kids, f->n * sizeof(*n->items));
		n->n = f->n;
	} else if (n->kind == GP_NODE_OBJECT && f->n) {
		n->members = gp_arena_alloc(p->doc->arena, f->n / 2 * sizeof(*n->members));
		if (!n->members)
			goto oom;
		for (size_t i = 0; i + 1 < f->n; i += 2) {
			struct gp_node *k = f->kids[i];

			if (k->kind != GP_NODE_STRING)
				continue; /* reported in attach() */
			n->members[n->n++] = (struct gp_member){.key = k->str,
								.line = k->line,
								.col = k->col,
								.value = f->kids[i + 1]};
		}
		r = check_duplicates(p, n);
	}
	free(f->kids);
	*f = (struct yframe){0};
	return r;
oom:
	free(f->kids);
	*f = (struct yframe){0};
	return -ENOMEM;
}

/* Returns 0 to go on, 1 at the end of the stream, or -errno to stop. */
static int
on_event(struct yparse *p, const yaml_event_t *ev)
{
	struct gp_node *n;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (p->docs++ == 0)
			return 0;
		yerror(p, &ev->start_mark, "%s",
		       "more than one YAML document in the file (only one is expected)");
		return -EINVAL;
	case YAML_SCALAR_EVENT:
		return on_scalar(p, ev);
	case YAML_ALIAS_EVENT:
		yerror(p, &ev->start_mark, "YAML aliases are not supported (*%s)",
		       (const char *)ev->data.alias.anchor);
		/* A placeholder keeps the tree's shape so that later errors are still found. */
		n = new_node(p, GP_NODE_NULL, ev);
		return n ? attach(p, n) : -ENOMEM;
	case YAML_SEQUENCE_START_EVENT:
		return on_open(p, ev, GP_NODE_LIST);
	case YAML_MAPPING_START_EVENT:
		return on_open(p, ev, GP_NODE_OBJECT);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return p->depth ? on_close(p) : -EINVAL;
	case YAML_STREAM_END_EVENT:
		return 1;
	default:
		return 0;
	}
}

static int
run_parser(struct yparse *p)
{
	yaml_parser_t yp;
	yaml_event_t ev;
	unsigned events = 0;
	int r;

	if (!yaml_parser_initialize(&yp))
		return -ENOMEM;
	yaml_parser_set_input_string(&yp, (const unsigned char *)p->buf, p->len);
	yaml_parser_set_encoding(&yp, YAML_UTF8_ENCODING);
	for (;;) {
		if ((++events & 4095) == 0 && gp_cancelled()) {
			r = -ECANCELED;
			break;
		}
		if (!yaml_parser_parse(&yp, &ev)) {
			r = report_libyaml(p, &yp);
			break;
		}
		r = on_event(p, &ev);
		yaml_event_delete(&ev);
		if (r != 0)
			break;
	}
	yaml_parser_delete(&yp);
	while (p->depth > 0)
		free(p->stack[--p->depth].kids);
	return r < 0 ? r : 0;
}

int
gp_yaml_parse(const char *buf, size_t len, const char *name, struct gp_doc **ret,
	      struct gp_diags *diags)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;
	struct yparse p = {.diags = diags, .buf = buf ? buf : "", .len = buf ? len : 0};
	int r;

	r = gp_doc_new(name, &doc);
	if (r < 0)
		return r;
	r = check_encoding(p.buf, p.len, doc->name, diags);
	if (r < 0)
		return r;
	p.doc = doc;
	r = run_parser(&p);
	if (r < 0)
		return r;
	if (p.errors)
		return -EINVAL;
	*ret = TAKE_PTR(doc);
	return 0;
}
