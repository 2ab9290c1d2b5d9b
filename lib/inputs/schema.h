/*
 * inputs/schema.h — the platform's request schema (schemas/requests/rds.schema.yaml, DESIGN
 * §1.3a): the rules a request contract obeys, read from the checkout's file when it is there,
 * else built in (equal to the schema the platform ships).
 *
 * The fields gprdsd reads from a contract are one table (schema.c): each has its property
 * name in the schema file (snake_case, "database_name"), its key in a contract (camelCase,
 * "databaseName") and its place in a contract (identity: the top level or `metadata`; the
 * rest: `spec`). A property, a condition or a route that names anything else is ignored.
 *
 * What the file may say, per property: type (string, integer, boolean), pattern (a POSIX
 * extended regular expression without groups or alternation, 256 bytes at most, repetition
 * bounds up to 255), enum (a list), enum_from (a list of schemas/metadata/enums.yaml:
 * environments, owners, domains, risk_profile_security_risk), minimum, maximum, default; then
 * `required` (a list of properties), `conditional_rules` (when: {property: {equals: v} |
 * {in: [..]} | {defined: true}}; then: {property: {minimum: n} | {maximum: n} | {enum: [..]}
 * | {recommended: v, warning: text} | {greater_than_field: property}}) and
 * `approval_routing` (condition: {property: v | {equals: v} | {in: [..]}}, approval_tier,
 * reviewers), tried in order. Other keys (size_mapping, generates, metadata, descriptions,
 * examples) are ignored without a word.
 *
 * As enums.yaml does (inputs/enums.h), a file replaces the built-in rules key by key: a
 * property the file defines replaces the built-in one, a property it lacks keeps it; a
 * `required`, `conditional_rules` or `approval_routing` list in the file replaces the built-in
 * list. So a schema file that predates a rule does not switch it off.
 *
 * Every string is owned by the schema; gp_schema_free() accepts NULL.
 */
#ifndef GP_INPUTS_SCHEMA_H
#define GP_INPUTS_SCHEMA_H

#include <regex.h>

#include "base/doc.h"

/* The fields of a request contract, in the order messages and dumps list them. */
enum gp_req_field {
	GP_REQ_ID,
	GP_REQ_SERVICE,
	GP_REQ_ENVIRONMENT,
	GP_REQ_OWNER,
	GP_REQ_REQUESTER,
	GP_REQ_DATABASE_NAME,
	GP_REQ_USERNAME,
	GP_REQ_SIZE,
	GP_REQ_DOMAIN,
	GP_REQ_STORAGE_GB,
	GP_REQ_MAX_STORAGE_GB,
	GP_REQ_BACKUP_RETENTION_DAYS,
	GP_REQ_MULTI_AZ,
	GP_REQ_PERFORMANCE_INSIGHTS,
	GP_REQ_RISK,
	_GP_REQ_FIELD_MAX,
};
/* "database_name": the property in the schema file (NULL when out of range). */
const char *gp_req_field_property(enum gp_req_field f);
/* "databaseName": the key in a contract (NULL when out of range). */
const char *gp_req_field_key(enum gp_req_field f);
/* Identity fields stand at the top level or under `metadata`; the others under `spec`. */
bool gp_req_field_identity(enum gp_req_field f);
/* The field of a property name or of a contract key, or -EINVAL. */
int gp_req_field_from_property(const char *s);
int gp_req_field_from_key(const char *s);
/* The contract keys of the identity fields (identity true) or of spec, for hints. */
size_t gp_req_field_keys(bool identity, const char **out, size_t n);

enum gp_schema_type { GP_SCHEMA_STRING, GP_SCHEMA_INTEGER, GP_SCHEMA_BOOLEAN };
const char *gp_schema_type_to_string(enum gp_schema_type t);

struct gp_schema_prop {
	enum gp_schema_type type;
	char *pattern; /* NULL: none; compiled into re */
	regex_t re;
	struct gp_strv enumv; /* literal values; empty: none */
	char *enum_from;      /* a list of enums.yaml, or NULL */
	bool has_min, has_max;
	int64_t min, max;
	char *def; /* the default as text, or NULL */
	bool required;
};

/* One condition on a field: equals a value, is one of values, or is given (defined). */
enum gp_schema_op { GP_SCHEMA_EQUALS, GP_SCHEMA_IN, GP_SCHEMA_DEFINED };
#define GP_SCHEMA_MAX_CONDS 4
struct gp_schema_cond {
	enum gp_req_field field;
	enum gp_schema_op op;
	struct gp_strv values; /* EQUALS: one value; IN: the values */
	bool defined;          /* DEFINED: true (given) or false (not given) */
};

/* What a conditional rule asks of a field once its conditions hold. */
enum gp_schema_check {
	GP_SCHEMA_MINIMUM,
	GP_SCHEMA_MAXIMUM,
	GP_SCHEMA_ENUM,
	GP_SCHEMA_RECOMMENDED, /* a warning, not an error */
	GP_SCHEMA_GREATER_THAN_FIELD,
};
struct gp_schema_rule {
	char *name;
	struct gp_schema_cond when[GP_SCHEMA_MAX_CONDS];
	size_t n_when;
	enum gp_req_field field;
	enum gp_schema_check check;
	int64_t n;             /* MINIMUM, MAXIMUM */
	struct gp_strv values; /* ENUM; RECOMMENDED: the one value */
	char *warning;         /* RECOMMENDED: the schema's text, or NULL */
	enum gp_req_field other; /* GREATER_THAN_FIELD */
};

/* An approval route: the first whose conditions all hold applies (DESIGN §1.3a). */
struct gp_schema_route {
	struct gp_schema_cond cond[GP_SCHEMA_MAX_CONDS];
	size_t n_cond;
	char *tier;              /* "platform-and-security" */
	struct gp_strv reviewers; /* the groups metadata.approved_by must name; may be empty */
};

struct gp_schema {
	char *file; /* the file it was read from, or "<built-in request schema>" */
	bool from_file;
	struct gp_schema_prop props[_GP_REQ_FIELD_MAX];
	struct gp_schema_rule *rules;
	size_t n_rules;
	struct gp_schema_route *routes;
	size_t n_routes;
};

/* The built-in schema. Returns 0 and *ret, or -ENOMEM. */
int gp_schema_new_default(struct gp_schema **ret);
/*
 * The built-in schema overridden by a parsed schema file, key by key (see above). Every
 * problem is an error at its position (a type gprdsd does not know, a pattern it refuses, a
 * minimum that is not an integer, a rule or route of the wrong shape, a property name no
 * field has where a rule needs one); keys it does not read are ignored. Returns 0 and *ret,
 * -EINVAL when it added an error (*ret untouched), or -ENOMEM.
 */
int gp_schema_extract(const struct gp_doc *doc, struct gp_schema **ret, struct gp_diags *diags);
void gp_schema_free(struct gp_schema *s);
DEFINE_FREEP(struct gp_schema, gp_schema_free)

/* Canonical text of s (for golden files and for comparing a file with the built-in rules). */
int gp_schema_dump(const struct gp_schema *s, struct gp_buf *out);

#endif
