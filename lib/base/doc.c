/*
 * doc.c — the arena and the document tree shared by the HCL and YAML parsers: lookups and
 * a canonical dump for golden files. Parsing itself lives in hcl.c and yaml.c.
 */
#include "base/doc.h"

#include <stdio.h>

#define GP_ARENA_CHUNK (64 * 1024)

struct gp_arena_chunk {
	struct gp_arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct gp_arena {
	struct gp_arena_chunk *head;
};

struct gp_arena *
gp_arena_new(void)
{
	return calloc(1, sizeof(struct gp_arena));
}

void *
gp_arena_alloc(struct gp_arena *a, size_t size)
{
	struct gp_arena_chunk *c = a->head;
	size_t align = sizeof(max_align_t);
	void *p;

	size = (size + align - 1) / align * align;
	if (size == 0)
		size = align;
	if (!c || c->size - c->used < size) {
		size_t csize = size > GP_ARENA_CHUNK ? size : GP_ARENA_CHUNK;

		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->used = 0;
		c->size = csize;
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

char *
gp_arena_strndup(struct gp_arena *a, const char *s, size_t len)
{
	char *p = gp_arena_alloc(a, len + 1);

	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
gp_arena_free(struct gp_arena *a)
{
	if (!a)
		return;
	for (struct gp_arena_chunk *c = a->head, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

int
gp_doc_new(const char *name, struct gp_doc **ret)
{
	struct gp_doc *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->arena = gp_arena_new();
	if (!d->arena) {
		free(d);
		return -ENOMEM;
	}
	name = name ? name : "<input>";
	d->name = gp_arena_strndup(d->arena, name, strlen(name));
	if (!d->name) {
		gp_doc_free(d);
		return -ENOMEM;
	}
	*ret = d;
	return 0;
}

void
gp_doc_free(struct gp_doc *doc)
{
	if (!doc)
		return;
	gp_arena_free(doc->arena);
	free(doc);
}

const struct gp_member *
gp_node_member(const struct gp_node *obj, const char *key)
{
	if (!obj || obj->kind != GP_NODE_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->members[i].key, key) == 0)
			return &obj->members[i];
	return NULL;
}

const struct gp_node *
gp_node_get(const struct gp_node *obj, const char *key)
{
	const struct gp_member *m = gp_node_member(obj, key);

	return m ? m->value : NULL;
}

const char *
gp_node_kind_to_string(enum gp_node_kind k)
{
	static const char *const names[] = {
		[GP_NODE_NULL] = "null",     [GP_NODE_BOOL] = "bool", [GP_NODE_NUMBER] = "number",
		[GP_NODE_STRING] = "string", [GP_NODE_LIST] = "list", [GP_NODE_OBJECT] = "object",
	};
	return (size_t)k < ELEMENTSOF(names) ? names[k] : "?";
}

bool
gp_node_is_null(const struct gp_node *n)
{
	return n->kind == GP_NODE_NULL ||
	       (n->kind == GP_NODE_STRING && n->plain &&
		(n->len == 0 || gp_streq(n->str, "~") || gp_streq(n->str, "null") ||
		 gp_streq(n->str, "Null") || gp_streq(n->str, "NULL")));
}

const char *
gp_node_shape_name(const struct gp_node *n)
{
	return n->kind == GP_NODE_OBJECT ? "mapping" : n->kind == GP_NODE_LIST ? "list" : "scalar";
}

static int
dump_quoted(struct gp_buf *out, const char *s, size_t len)
{
	gp_buf_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			gp_buf_printf(out, "\\%c", c);
		else if (c == '\n')
			gp_buf_puts(out, "\\n");
		else if (c == '\t')
			gp_buf_puts(out, "\\t");
		else if (c < 0x20)
			gp_buf_printf(out, "\\u%04x", c);
		else
			gp_buf_putc(out, (char)c);
	}
	return gp_buf_putc(out, '"');
}

/* Iterative would be nicer, but depth is bounded by GP_DOC_MAX_DEPTH at parse time. */
static int
dump_node(const struct gp_node *n, struct gp_buf *path, struct gp_buf *out)
{
	size_t mark = path->len;

	if (!n)
		return gp_buf_printf(out, "%s = <missing>\n", path->len ? path->p : "$");
	switch (n->kind) {
	case GP_NODE_OBJECT:
		if (n->n == 0)
			gp_buf_printf(out, "%s = {}  @%u:%u\n", path->len ? path->p : "$", n->line,
				      n->col);
		for (size_t i = 0; i < n->n; i++) {
			gp_buf_putc(path, '.');
			gp_buf_puts(path, n->members[i].key);
			dump_node(n->members[i].value, path, out);
			path->len = mark;
			path->p[mark] = '\0';
		}
		break;
	case GP_NODE_LIST:
		if (n->n == 0)
			gp_buf_printf(out, "%s = []  @%u:%u\n", path->len ? path->p : "$", n->line,
				      n->col);
		for (size_t i = 0; i < n->n; i++) {
			gp_buf_printf(path, "[%zu]", i);
			dump_node(n->items[i], path, out);
			path->len = mark;
			path->p[mark] = '\0';
		}
		break;
	default:
		gp_buf_printf(out, "%s = %s:", path->len ? path->p : "$", gp_node_kind_to_string(n->kind));
		if (n->kind == GP_NODE_NULL)
			gp_buf_puts(out, "null");
		else
			dump_quoted(out, n->str ? n->str : "", n->str ? n->len : 0);
		gp_buf_printf(out, "  @%u:%u\n", n->line, n->col);
		break;
	}
	return out->oom || path->oom ? -ENOMEM : 0;
}

int
gp_doc_dump(const struct gp_node *root, struct gp_buf *out)
{
	struct gp_buf path = {0};
	int r;

	gp_buf_reserve(&path, 64);
	r = dump_node(root, &path, out);
	gp_buf_release(&path);
	return r;
}
