/*
 * doc.h — the parsed-document tree shared by the HCL and YAML front ends.
 *
 * Both parsers produce the same small tree: objects (ordered key → value members), lists and
 * scalars, each with the 1-based line and column where it starts. Every node and string is
 * allocated from the document's arena and lives exactly as long as the struct gp_doc.
 *
 * Scalars: HCL produces typed scalars (STRING, NUMBER, BOOL, NULL). YAML produces STRING for
 * every scalar (with `plain` true when it was unquoted); consumers that want a bool or a
 * number from YAML convert the text themselves (config.c does, table-driven). NUMBER keeps its
 * literal text in `str`; BOOL keeps "true"/"false" in `str` and the value in `b`.
 *
 * Duplicate keys in one object are an error reported by the parser, so lookups are unambiguous.
 * Nesting is limited to GP_DOC_MAX_DEPTH levels; deeper input is an error, never a crash.
 */
#ifndef GP_DOC_H
#define GP_DOC_H

#include "base/diag.h"

#define GP_DOC_MAX_DEPTH 64

enum gp_node_kind {
	GP_NODE_NULL,
	GP_NODE_BOOL,
	GP_NODE_NUMBER,
	GP_NODE_STRING,
	GP_NODE_LIST,
	GP_NODE_OBJECT,
};

struct gp_node;

struct gp_member {
	const char *key;
	unsigned line, col; /* position of the key */
	struct gp_node *value;
};

struct gp_node {
	enum gp_node_kind kind;
	unsigned line, col;
	const char *str; /* STRING, NUMBER, BOOL: NUL-terminated text */
	size_t len;      /* length of str (a STRING may not contain NUL: parsers reject it) */
	bool b;          /* BOOL */
	bool plain;      /* YAML: the scalar was unquoted */
	struct gp_node **items;   /* LIST */
	struct gp_member *members; /* OBJECT, in source order */
	size_t n;                 /* number of items or members */
};

struct gp_arena;

struct gp_doc {
	struct gp_arena *arena;
	const char *name; /* file name used in diagnostics (arena copy) */
	struct gp_node *root;
};

/* Arena: bump allocator in chunks; memory is returned all at once by gp_arena_free(). */
struct gp_arena *gp_arena_new(void);
void *gp_arena_alloc(struct gp_arena *a, size_t size);        /* zeroed; NULL on ENOMEM */
char *gp_arena_strndup(struct gp_arena *a, const char *s, size_t len);
void gp_arena_free(struct gp_arena *a);

/* Creates an empty document (root NULL) named `name`. */
int gp_doc_new(const char *name, struct gp_doc **ret);
void gp_doc_free(struct gp_doc *doc);
DEFINE_FREEP(struct gp_doc, gp_doc_free)

/* Member value of an OBJECT by key, or NULL (also when obj is NULL or not an OBJECT). */
const struct gp_node *gp_node_get(const struct gp_node *obj, const char *key);
/* The member record itself (key position), or NULL. */
const struct gp_member *gp_node_member(const struct gp_node *obj, const char *key);
const char *gp_node_kind_to_string(enum gp_node_kind k);

/*
 * True for a YAML value that means "nothing": an unquoted empty scalar, ~, null, Null, NULL
 * (and an HCL null). A quoted "" is a value, not null.
 */
bool gp_node_is_null(const struct gp_node *n);
/* "mapping", "list" or "scalar", for messages about the wrong shape of YAML. */
const char *gp_node_shape_name(const struct gp_node *n);

/* Text of a STRING node, else NULL. */
static inline const char *
gp_node_str(const struct gp_node *n)
{
	return n && n->kind == GP_NODE_STRING ? n->str : NULL;
}

/*
 * Parsers. Both take the whole file in memory (buf, len; need not be NUL-terminated) and a
 * name for diagnostics. On success *ret owns the tree. On failure they return -EINVAL (or
 * -ENOMEM), add at least one positioned error to diags, and leave *ret untouched.
 * Input with NUL bytes or invalid UTF-8 is rejected with a position.
 */
int gp_hcl_parse(const char *buf, size_t len, const char *name, struct gp_doc **ret,
		 struct gp_diags *diags);
int gp_yaml_parse(const char *buf, size_t len, const char *name, struct gp_doc **ret,
		  struct gp_diags *diags);

/* Canonical dump of a tree (for golden files): one line per scalar, JSON-like paths. */
int gp_doc_dump(const struct gp_node *root, struct gp_buf *out);

#endif
