/*
 * state.c — the JSON codec of the lifecycle records (struct gp_state_file, model.h).
 *
 * Format, version 1 (cJSON_Print layout, entries sorted by key, one trailing newline):
 *   {"version": 1, "env": "dev", "entries": [{"key": "inventory", "database": "...",
 *    "username": "...", "state": "active", "since": "2026-01-15T10:00:00Z", "reason": null,
 *    "attempts": 0, "next_retry": null, "transient": false, "last_commit": "...",
 *    "verified_version": "...", "verified_at": "2026-01-15T10:00:00Z"}]}
 * Times are "YYYY-MM-DDTHH:MM:SSZ"; 0 in next_retry/verified_at is written as null. Absent
 * strings are null. "retry_used" (the `gprdsd retry` request a pass last used) is written
 * only when there is one.
 *
 * Reading is strict where a mistake would change behaviour (unknown version or state, wrong
 * types, duplicate keys, bad times: the whole file is refused, naming it) and lenient where it
 * cannot: unknown members of an entry are ignored, so a downgrade after an upgrade that added
 * a member still reads its records. Missing optional members read as null/0/false; key,
 * state and since are required. Bytes inside strings are taken as they are (no UTF-8 check),
 * so whatever render wrote, parse reads back.
 *
 * No file I/O here: daemon/state_store.c reads and writes the file.
 */
#include "base/doc.h"
#include "model/state.h"

#include <cjson/cJSON.h>
#include <limits.h>

#define GP_STATE_VERSION 1

/* ---------------------------------------------------------------------------------------
 * Rendering
 */

/* Adds v under k; consumes v even on failure. cJSON_Create* return NULL on ENOMEM. */
static bool
add(cJSON *o, const char *k, cJSON *v)
{
	if (!v)
		return false;
	if (!cJSON_AddItemToObject(o, k, v)) {
		cJSON_Delete(v);
		return false;
	}
	return true;
}

static cJSON *
str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *
time_json(int64_t t, bool zero_is_null)
{
	char buf[21];

	if (t == 0 && zero_is_null)
		return cJSON_CreateNull();
	gp_time_format(t, buf);
	return cJSON_CreateString(buf);
}

static cJSON *
record_json(const struct gp_record *r)
{
	const char *state = gp_state_to_string(r->state);
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (!state || !add(o, "key", cJSON_CreateString(r->key)) ||
	    !add(o, "database", str_or_null(r->database)) ||
	    !add(o, "username", str_or_null(r->username)) ||
	    !add(o, "state", cJSON_CreateString(state)) ||
	    !add(o, "since", time_json(r->since, false)) ||
	    !add(o, "reason", str_or_null(r->reason)) ||
	    !add(o, "attempts", cJSON_CreateNumber(r->attempts)) ||
	    !add(o, "next_retry", time_json(r->next_retry, true)) ||
	    !add(o, "transient", cJSON_CreateBool(r->transient)) ||
	    !add(o, "last_commit", str_or_null(r->last_commit)) ||
	    !add(o, "verified_version", str_or_null(r->verified_version)) ||
	    !add(o, "verified_at", time_json(r->verified_at, true)) ||
	    !add(o, "secret_changed", time_json(r->secret_changed, true)) ||
	    !add(o, "grants_checked_at", time_json(r->grants_checked_at, true)) ||
	    !add(o, "current_version", str_or_null(r->current_version)) ||
	    (r->current_username && !add(o, "current_username", str_or_null(r->current_username))) ||
	    !add(o, "current_since", time_json(r->current_since, true)) ||
	    !add(o, "rotation_due", time_json(r->rotation_due, true)) ||
	    !add(o, "rotating_since", time_json(r->rotating_since, true)) ||
	    (r->retry_used && !add(o, "retry_used", time_json(r->retry_used, false))) ||

	    (r->route && !add(o, "route", str_or_null(r->route))) ||
	    (r->approvals_missing &&
	     !add(o, "approvals_missing", str_or_null(r->approvals_missing)))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int
cmp_record_ptr(const void *a, const void *b)
{
	const struct gp_record *x = *(const struct gp_record *const *)a;
	const struct gp_record *y = *(const struct gp_record *const *)b;

	return strcmp(x->key, y->key);
}

/*
 * The records in key order. s->v is documented as sorted, but the file must be canonical
 * even if a caller broke that, and it must be readable back: no NULL, duplicate or unknown
 * state may reach it (-EINVAL).
 */
static int
sorted_records(const struct gp_state_file *s, const struct gp_record ***ret)
{
	const struct gp_record **v;

	v = calloc(s->n ? s->n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		if (!s->v[i].key || !gp_state_to_string(s->v[i].state)) {
			free(v);
			return -EINVAL;
		}
		v[i] = &s->v[i];
	}
	qsort(v, s->n, sizeof(*v), cmp_record_ptr);
	for (size_t i = 1; i < s->n; i++) {
		if (strcmp(v[i - 1]->key, v[i]->key) == 0) {
			free(v);
			return -EINVAL;
		}
	}
	*ret = v;
	return 0;
}

/* A string list as an array member, absent when empty. false: out of memory. */
static bool
add_strv(cJSON *root, const char *name, const struct gp_strv *v)
{
	cJSON *a;

	if (!v->n)
		return true;
	a = cJSON_CreateArray();
	if (!add(root, name, a))
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(v->v[i])))
			return false;
	return true;
}

static int
state_json(const struct gp_state_file *s, cJSON **ret)
{
	_cleanup_free_ const struct gp_record **v = NULL;
	cJSON *root, *entries;
	int r;

	r = sorted_records(s, &v);
	if (r < 0)
		return r;
	root = cJSON_CreateObject();
	if (!root)
		return -ENOMEM;
	entries = cJSON_CreateArray();
	if (!add(root, "version", cJSON_CreateNumber(GP_STATE_VERSION)) ||
	    !add(root, "env", cJSON_CreateString(s->env)) ||
	    !add(root, "last_pass", time_json(s->last_pass, true)) ||
	    !add(root, "last_success", time_json(s->last_success, true)) ||
	    !add(root, "last_error", str_or_null(s->last_error)) || !add(root, "entries", entries))
		goto oom;
	if (s->confirm_used && !add(root, "confirm_used", time_json(s->confirm_used, false)))
		goto oom;
	/* Lists only when there are some: older readers never see the members. */
	if (!add_strv(root, "orphans", &s->orphans) ||
	    !add_strv(root, "secret_prefixes", &s->secret_prefixes))
		goto oom;
	for (size_t i = 0; i < s->n; i++) {
		cJSON *o = record_json(v[i]);

		if (!o || !cJSON_AddItemToArray(entries, o)) {
			cJSON_Delete(o);
			goto oom;
		}
	}
	*ret = root;
	return 0;
oom:
	cJSON_Delete(root);
	return -ENOMEM;
}

int
gp_state_render(const struct gp_state_file *s, struct gp_buf *out)
{
	cJSON *root = NULL;
	char *text;
	int r;

	if (!s->env)
		return -EINVAL;
	r = state_json(s, &root);
	if (r < 0)
		return r;
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return -ENOMEM;
	r = gp_buf_puts(out, text);
	if (r == 0)
		r = gp_buf_putc(out, '\n');
	cJSON_free(text);
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Digest: has anything but the pass times changed?
 */

static void
fnv_str(uint64_t *h, const char *s)
{
	/* Length-prefixed, and NULL differs from "". */
	uint64_t n = s ? strlen(s) + 1 : 0;

	*h = gp_fnv64(*h, &n, sizeof(n));
	if (s)
		*h = gp_fnv64(*h, s, n);
}

static void
fnv_int(uint64_t *h, int64_t v)
{
	*h = gp_fnv64(*h, &v, sizeof(v));
}

uint64_t
gp_state_digest(const struct gp_state_file *s)
{
	uint64_t h = GP_FNV64_INIT;

	/* Every member gp_state_render() writes, except last_pass and last_success. */
	fnv_str(&h, s->env);
	fnv_str(&h, s->last_error);
	for (size_t i = 0; i < s->orphans.n; i++)
		fnv_str(&h, s->orphans.v[i]);
	for (size_t i = 0; i < s->secret_prefixes.n; i++)
		fnv_str(&h, s->secret_prefixes.v[i]);
	fnv_int(&h, s->confirm_used);
	fnv_int(&h, (int64_t)s->n);
	for (size_t i = 0; i < s->n; i++) {
		const struct gp_record *r = &s->v[i];

		fnv_str(&h, r->key);
		fnv_str(&h, r->database);
		fnv_str(&h, r->username);
		fnv_int(&h, r->state);
		fnv_int(&h, r->since);
		fnv_str(&h, r->reason);
		fnv_int(&h, r->attempts);
		fnv_int(&h, r->next_retry);
		fnv_int(&h, r->transient);
		fnv_str(&h, r->last_commit);
		fnv_str(&h, r->verified_version);
		fnv_int(&h, r->verified_at);
		fnv_int(&h, r->secret_changed);
		fnv_int(&h, r->grants_checked_at);
		fnv_str(&h, r->current_version);
		fnv_str(&h, r->current_username);
		fnv_int(&h, r->current_since);
		fnv_int(&h, r->rotation_due);
		fnv_int(&h, r->rotating_since);
		fnv_int(&h, r->retry_used);
		fnv_str(&h, r->route);
		fnv_str(&h, r->approvals_missing);
	}
	return h;
}

/* ---------------------------------------------------------------------------------------
 * Parsing
 */

/* What an error message needs to say where it is: the file, and the entry when in one. */
struct pctx {
	const char *name;
	struct gp_diags *diags;
	long idx; /* -1: top level */
	const char *key;
};

static int perr(struct pctx *c, const char *fmt, ...) _printf_(2, 3);

/* Adds an error ("entries[3] (key "x"): ...") and returns -EINVAL, or -ENOMEM. */
static int
perr(struct pctx *c, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	struct gp_buf b = {0};
	va_list ap;
	int r;

	if (c->idx >= 0 && c->key)
		gp_buf_printf(&b, "entries[%ld] (key \"%s\"): ", c->idx, c->key);
	else if (c->idx >= 0)
		gp_buf_printf(&b, "entries[%ld]: ", c->idx);
	va_start(ap, fmt);
	gp_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	msg = gp_buf_steal(&b);
	if (!msg)
		return -ENOMEM;
	r = gp_diag_error(c->diags, -EINVAL, c->name, 0, 0, "%s", msg);
	return r < 0 ? r : -EINVAL;
}

/* A string member (NULL when null or absent and not required). */
static int
get_str(struct pctx *c, const cJSON *o, const char *k, bool required, char **ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!v || cJSON_IsNull(v)) {
		if (required)
			return perr(c, "\"%s\" is missing", k);
		*ret = NULL;
		return 0;
	}
	if (!cJSON_IsString(v))
		return perr(c, "\"%s\" must be a string", k);
	if (required && !*v->valuestring)
		return perr(c, "\"%s\" must not be empty", k);
	*ret = strdup(v->valuestring);
	return *ret ? 0 : -ENOMEM;
}

/* A time member; null or absent is 0 unless required. */
/* An optional list of strings. */
static int
get_strv(struct pctx *c, const cJSON *o, const char *k, struct gp_strv *ret)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, k), *x;

	if (!arr || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return perr(c, "%s must be a list", k);
	cJSON_ArrayForEach(x, arr)
	{
		if (!cJSON_IsString(x))
			return perr(c, "%s must hold strings", k);
		if (gp_strv_push(ret, x->valuestring) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int
get_time(struct pctx *c, const cJSON *o, const char *k, bool required, int64_t *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!v || cJSON_IsNull(v)) {
		if (required)
			return perr(c, "\"%s\" is missing", k);
		*ret = 0;
		return 0;
	}
	if (!cJSON_IsString(v) || gp_time_parse(v->valuestring, ret) < 0)
		return perr(c, "\"%s\" must be a time like 2026-01-15T10:00:00Z", k);
	return 0;
}

static int
get_state(struct pctx *c, const cJSON *o, enum gp_state *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "state");
	int s;

	if (!v || !cJSON_IsString(v))
		return perr(c, "\"state\" is missing or not a string");
	s = gp_state_from_string(v->valuestring);
	if (s < 0)
		return perr(c, "unknown state \"%s\"", v->valuestring);
	*ret = (enum gp_state)s;
	return 0;
}

static int
get_uint(struct pctx *c, const cJSON *o, const char *k, unsigned *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	double d;

	if (!v) {
		*ret = 0;
		return 0;
	}
	d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	if (d < 0 || d > UINT_MAX || d != (double)(unsigned)d)
		return perr(c, "\"%s\" must be an integer from 0 to %u", k, UINT_MAX);
	*ret = (unsigned)d;
	return 0;
}

static int
get_bool(struct pctx *c, const cJSON *o, const char *k, bool *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!v) {
		*ret = false;
		return 0;
	}
	if (!cJSON_IsBool(v))
		return perr(c, "\"%s\" must be true or false", k);
	*ret = cJSON_IsTrue(v);
	return 0;
}

/* Keeps the first error: later members are still read so that all problems are reported. */
static void
first_err(int *r, int q)
{
	if (q < 0 && (*r == 0 || q == -ENOMEM))
		*r = q;
}

static int
parse_record(struct pctx *c, const cJSON *o, struct gp_record *rec)
{
	int r = 0;

	if (!cJSON_IsObject(o))
		return perr(c, "must be an object");
	first_err(&r, get_str(c, o, "key", true, &rec->key));
	c->key = rec->key;
	first_err(&r, get_str(c, o, "database", false, &rec->database));
	first_err(&r, get_str(c, o, "username", false, &rec->username));
	first_err(&r, get_state(c, o, &rec->state));
	first_err(&r, get_time(c, o, "since", true, &rec->since));
	first_err(&r, get_str(c, o, "reason", false, &rec->reason));
	first_err(&r, get_uint(c, o, "attempts", &rec->attempts));
	first_err(&r, get_time(c, o, "next_retry", false, &rec->next_retry));
	first_err(&r, get_bool(c, o, "transient", &rec->transient));
	first_err(&r, get_str(c, o, "last_commit", false, &rec->last_commit));
	first_err(&r, get_str(c, o, "verified_version", false, &rec->verified_version));
	first_err(&r, get_time(c, o, "verified_at", false, &rec->verified_at));
	first_err(&r, get_time(c, o, "secret_changed", false, &rec->secret_changed));
	first_err(&r, get_time(c, o, "grants_checked_at", false, &rec->grants_checked_at));
	first_err(&r, get_str(c, o, "current_version", false, &rec->current_version));
	first_err(&r, get_str(c, o, "current_username", false, &rec->current_username));
	first_err(&r, get_time(c, o, "current_since", false, &rec->current_since));
	first_err(&r, get_time(c, o, "rotation_due", false, &rec->rotation_due));
	first_err(&r, get_time(c, o, "rotating_since", false, &rec->rotating_since));
	first_err(&r, get_time(c, o, "retry_used", false, &rec->retry_used));
	first_err(&r, get_str(c, o, "route", false, &rec->route));
	first_err(&r, get_str(c, o, "approvals_missing", false, &rec->approvals_missing));
	return r;
}

static int
cmp_record(const void *a, const void *b)
{
	return strcmp(((const struct gp_record *)a)->key, ((const struct gp_record *)b)->key);
}

/* The parsed records, sorted by key; bad entries are reported and left out. */
static int
parse_entries(struct pctx *c, const cJSON *entries, struct gp_record **ret_v, size_t *ret_n)
{
	int n = cJSON_GetArraySize(entries), r = 0;
	struct gp_record *v;
	const cJSON *e;
	size_t k = 0;

	v = calloc(n > 0 ? (size_t)n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->idx = 0;
	cJSON_ArrayForEach(e, entries) {
		int q;

		c->key = NULL;
		q = parse_record(c, e, &v[k]);
		if (q < 0) {
			gp_record_release(&v[k]);
			memset(&v[k], 0, sizeof(v[k]));
			first_err(&r, q);
		} else {
			k++;
		}
		c->idx++;
	}
	qsort(v, k, sizeof(*v), cmp_record);
	c->idx = -1;
	for (size_t i = 1; i < k; i++)
		if (strcmp(v[i - 1].key, v[i].key) == 0)
			first_err(&r, perr(c, "duplicate entry key \"%s\"", v[i].key));
	*ret_v = v;
	*ret_n = k;
	return r;
}

/* Hands the records to s, which gp_state_file_free() then releases. */
static void
install_records(struct gp_state_file *s, struct gp_record *v, size_t n)
{
	for (size_t i = 0; i < s->n; i++)
		gp_record_release(&s->v[i]);
	free(s->v);
	s->v = v;
	s->n = n;
}

/* Adds an error at byte offset off of buf (1-based line and column); -EINVAL or -ENOMEM. */
static int
err_at(struct gp_diags *diags, const char *name, const char *buf, size_t off, const char *msg)
{
	unsigned line = 1, col = 1;
	int r;

	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	r = gp_diag_error(diags, -EINVAL, name, line, col, "%s", msg);
	return r < 0 ? r : -EINVAL;
}

/* Parses buf as exactly one JSON value (whitespace around it allowed). */
static int
parse_json(const char *buf, size_t len, const char *name, cJSON **ret, struct gp_diags *diags)
{
	const char *nul = memchr(buf, '\0', len), *end = NULL;
	cJSON *root;

	if (nul)
		return err_at(diags, name, buf, (size_t)(nul - buf), "NUL byte in the state file");
	root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	if (!root) {
		/* cJSON says where it stopped; ENOMEM looks the same, but is rare enough. */
		size_t off = end && end >= buf && end <= buf + len ? (size_t)(end - buf) : 0;

		return err_at(diags, name, buf, off, "not valid JSON");
	}
	while (end < buf + len && strchr(" \t\r\n", *end))
		end++;
	if (end < buf + len) {
		cJSON_Delete(root);
		return err_at(diags, name, buf, (size_t)(end - buf),
			      "unexpected data after the JSON value");
	}
	*ret = root;
	return 0;
}

/* Checks version and env and creates the (empty) state file. */
static int
parse_header(struct pctx *c, const cJSON *root, struct gp_state_file **ret)
{
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(root, "env");

	if (!cJSON_IsObject(root))
		return perr(c, "the top level must be an object");
	if (!cJSON_IsNumber(version) || version->valuedouble != GP_STATE_VERSION)
		return perr(c, "unsupported \"version\" (this gprdsd reads version %d)",
			    GP_STATE_VERSION);
	if (!cJSON_IsString(env) || !*env->valuestring)
		return perr(c, "\"env\" must be a non-empty string");
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "entries")))
		return perr(c, "\"entries\" must be an array");
	*ret = gp_state_file_new(env->valuestring);
	return *ret ? 0 : -ENOMEM;
}

int
gp_state_parse(const char *buf, size_t len, const char *name, struct gp_state_file **ret,
	       struct gp_diags *diags)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = NULL;
	struct pctx c = {.name = name, .diags = diags, .idx = -1};
	struct gp_record *v = NULL;
	cJSON *root = NULL;
	size_t n = 0;
	int r;

	r = parse_json(buf, len, name, &root, diags);
	if (r < 0)
		return r;
	r = parse_header(&c, root, &s);
	if (r == 0) {
		/* Environment-level fields are optional: older files do not have them. */
		first_err(&r, get_time(&c, root, "last_pass", false, &s->last_pass));
		first_err(&r, get_time(&c, root, "last_success", false, &s->last_success));
		first_err(&r, get_str(&c, root, "last_error", false, &s->last_error));
		first_err(&r, get_strv(&c, root, "orphans", &s->orphans));
		first_err(&r, get_strv(&c, root, "secret_prefixes", &s->secret_prefixes));
		first_err(&r, get_time(&c, root, "confirm_used", false, &s->confirm_used));
	}
	if (r == 0) {
		r = parse_entries(&c, cJSON_GetObjectItemCaseSensitive(root, "entries"), &v, &n);
		if (v)
			install_records(s, v, n);
	}
	cJSON_Delete(root);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Records
 */

struct gp_state_file *
gp_state_file_new(const char *env)
{
	struct gp_state_file *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->env = gp_strdup0(env);
	if (env && !s->env) {
		free(s);
		return NULL;
	}
	return s;
}

void
gp_record_release(struct gp_record *r)
{
	free(r->key);
	free(r->database);
	free(r->username);
	free(r->reason);
	free(r->last_commit);
	free(r->verified_version);
	free(r->current_version);
	free(r->current_username);
	free(r->route);
	free(r->approvals_missing);
	*r = (struct gp_record){0};
}

void
gp_state_file_free(struct gp_state_file *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		gp_record_release(&s->v[i]);
	free(s->v);
	free(s->env);
	free(s->last_error);
	gp_strv_release(&s->orphans);
	gp_strv_release(&s->secret_prefixes);
	free(s);
}

static bool
dup_str(char **dst, const char *src)
{
	*dst = gp_strdup0(src);
	return !src || *dst;
}

struct gp_state_file *
gp_state_file_dup(const struct gp_state_file *s)
{
	struct gp_state_file *c = gp_state_file_new(s->env);
	bool ok = c && dup_str(&c->last_error, s->last_error);

	for (size_t i = 0; ok && i < s->orphans.n; i++)
		ok = gp_strv_push(&c->orphans, s->orphans.v[i]) >= 0;
	for (size_t i = 0; ok && i < s->secret_prefixes.n; i++)
		ok = gp_strv_push(&c->secret_prefixes, s->secret_prefixes.v[i]) >= 0;

	if (ok && s->n && !(c->v = calloc(s->n, sizeof(*c->v))))
		ok = false;
	for (size_t i = 0; ok && i < s->n; i++) {
		const struct gp_record *r = &s->v[i];
		struct gp_record *d = &c->v[c->n++];

		*d = *r;
		d->key = d->database = d->username = d->reason = d->last_commit = NULL;
		d->verified_version = d->current_version = d->current_username = NULL;
		d->route = d->approvals_missing = NULL;
		ok = dup_str(&d->key, r->key) && dup_str(&d->database, r->database) &&
		     dup_str(&d->username, r->username) && dup_str(&d->reason, r->reason) &&
		     dup_str(&d->last_commit, r->last_commit) &&
		     dup_str(&d->verified_version, r->verified_version) &&
		     dup_str(&d->current_version, r->current_version) &&
		     dup_str(&d->current_username, r->current_username) &&
		     dup_str(&d->route, r->route) &&
		     dup_str(&d->approvals_missing, r->approvals_missing);
	}
	if (!ok) {
		gp_state_file_free(c);
		return NULL;
	}
	c->last_pass = s->last_pass;
	c->last_success = s->last_success;
	c->confirm_used = s->confirm_used;
	return c;
}

struct gp_record *
gp_state_find(struct gp_state_file *s, const char *key)
{
	struct gp_record k = {.key = (char *)key};

	if (!s || !key || !s->n)
		return NULL;
	return bsearch(&k, s->v, s->n, sizeof(k), cmp_record);
}

/* Where key goes in s->v: the index of the first record whose key is not less than it. */
static size_t
lower_bound(const struct gp_state_file *s, const char *key)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
gp_state_upsert(struct gp_state_file *s, const char *key, int64_t now, struct gp_record **ret)
{
	struct gp_record *r = gp_state_find(s, key), *v;
	char *k;
	size_t i;

	if (r) {
		*ret = r;
		return 0;
	}
	k = strdup(key);
	if (!k)
		return -ENOMEM;
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v) {
		free(k);
		return -ENOMEM;
	}
	s->v = v;
	i = lower_bound(s, key);
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*v));
	s->v[i] = (struct gp_record){.key = k, .state = GP_STATE_PENDING, .since = now};
	s->n++;
	*ret = &s->v[i];
	return 0;
}

static int
cmp_key_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Merges the sorted, distinct new records add[0..n_add) into s->v (one pass, from the end). */
static int
merge_records(struct gp_state_file *s, struct gp_record *add, size_t n_add)
{
	struct gp_record *v = realloc(s->v, (s->n + n_add) * sizeof(*v));
	size_t i = s->n, j = n_add, k = s->n + n_add;

	if (!v)
		return -ENOMEM;
	s->v = v;
	while (j > 0) {
		if (i > 0 && strcmp(v[i - 1].key, add[j - 1].key) > 0)
			v[--k] = v[--i];
		else
			v[--k] = add[--j];
	}
	s->n += n_add;
	return 0;
}

int
gp_state_reserve(struct gp_state_file *s, const char *const *keys, size_t n, int64_t now)
{
	_cleanup_free_ const char **miss = calloc(n ? n : 1, sizeof(*miss));
	_cleanup_free_ struct gp_record *add = NULL;
	size_t n_miss = 0, n_add = 0;
	int r;

	if (!miss)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (keys[i] && !gp_state_find(s, keys[i]))
			miss[n_miss++] = keys[i];
	if (!n_miss)
		return 0;
	qsort(miss, n_miss, sizeof(*miss), cmp_key_ptr);
	add = calloc(n_miss, sizeof(*add));
	if (!add)
		return -ENOMEM;
	for (size_t i = 0; i < n_miss; i++) {
		if (i && strcmp(miss[i - 1], miss[i]) == 0)
			continue;
		add[n_add] = (struct gp_record){
			.key = strdup(miss[i]), .state = GP_STATE_PENDING, .since = now};
		if (!add[n_add++].key) {
			r = -ENOMEM;
			goto fail;
		}
	}
	r = merge_records(s, add, n_add);
	if (r >= 0)
		return 0;
fail:
	for (size_t i = 0; i < n_add; i++)
		free(add[i].key);
	return r;
}
