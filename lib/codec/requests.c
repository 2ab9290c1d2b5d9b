/*
 * codec/requests.c — the JSON codec of the requests file (requests.h). Strict: a request
 * file that does not parse is refused as a whole, naming it; reading and writing it is the
 * daemon's business.
 */
#include "codec/requests.h"

#include <cjson/cJSON.h>
#include <stddef.h>

#define GP_REQUESTS_VERSION 1

/* Both kinds of request start with their key: the list helpers below rely on it. */
_Static_assert(offsetof(struct gp_rotate_request, key) == 0, "key first");
_Static_assert(offsetof(struct gp_retry_request, key) == 0, "key first");

typedef void (*request_release_fn)(void *q);
typedef bool (*request_done_fn)(const void *q, const struct gp_state_file *s);

static void
rotate_release(void *p)
{
	struct gp_rotate_request *q = p;

	free(q->key);
	free(q->by);
	free(q->version);
}

static void
retry_release(void *p)
{
	struct gp_retry_request *q = p;

	free(q->key);
	free(q->by);
}

void
gp_requests_release(struct gp_requests *r)
{
	for (size_t i = 0; i < r->n_rotate; i++)
		rotate_release(&r->rotate[i]);
	for (size_t i = 0; i < r->n_retry; i++)
		retry_release(&r->retry[i]);
	free(r->rotate);
	free(r->retry);
	free(r->confirm_by);
	*r = (struct gp_requests){0};
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Puts the request q (sz bytes, its key first) into the list *v of *n, sorted by key: it
 * replaces the request of the same key, or is added. The list owns q afterwards; on -ENOMEM
 * q is released.
 */
static int
list_put(void **v, size_t *n, size_t sz, void *q, request_release_fn release)
{
	char *base = *v, *nv;

	for (size_t i = 0; i < *n; i++) {
		if (cmp_key(base + i * sz, q) == 0) {
			release(base + i * sz);
			memcpy(base + i * sz, q, sz);
			return 0;
		}
	}
	nv = realloc(base, (*n + 1) * sz);
	if (!nv) {
		release(q);
		return -ENOMEM;
	}
	memcpy(nv + *n * sz, q, sz);
	*v = nv;
	qsort(nv, ++*n, sz, cmp_key);
	return 0;
}

/* Drops (and releases) the requests of the list that s shows done. */
static void
list_prune(void *v, size_t *n, size_t sz, request_done_fn done, request_release_fn release,
	   const struct gp_state_file *s)
{
	char *base = v;
	size_t k = 0;

	for (size_t i = 0; i < *n; i++) {
		if (done(base + i * sz, s))
			release(base + i * sz);
		else
			memmove(base + k++ * sz, base + i * sz, sz);
	}
	*n = k;
}

int
gp_requests_add_rotate(struct gp_requests *r, const char *key, int64_t at, const char *by,
		       const char *version)
{
	struct gp_rotate_request q = {.key = strdup(key), .at = at, .by = gp_strdup0(by),
				      .version = gp_strdup0(version)};

	if (!q.key || (by && !q.by) || (version && !q.version)) {
		rotate_release(&q);
		return -ENOMEM;
	}
	return list_put((void **)&r->rotate, &r->n_rotate, sizeof(q), &q, rotate_release);
}

int
gp_requests_add_retry(struct gp_requests *r, const char *key, int64_t at, const char *by)
{
	struct gp_retry_request q = {.key = strdup(key), .at = at, .by = gp_strdup0(by)};

	if (!q.key || (by && !q.by)) {
		retry_release(&q);
		return -ENOMEM;
	}
	return list_put((void **)&r->retry, &r->n_retry, sizeof(q), &q, retry_release);
}

bool
gp_request_done(const struct gp_rotate_request *q, const struct gp_state_file *s)
{
	const struct gp_record *rec = gp_state_find((struct gp_state_file *)s, q->key);

	if (!rec || !rec->current_version)
		return false;
	return q->version ? !gp_streq(rec->current_version, q->version)
			  : rec->current_since > q->at;
}

static bool
rotate_done(const void *q, const struct gp_state_file *s)
{
	return gp_request_done(q, s);
}

/* A retry request whose key has no record can never be used: done too. */
static bool
retry_done(const void *p, const struct gp_state_file *s)
{
	const struct gp_retry_request *q = p;
	const struct gp_record *rec = gp_state_find((struct gp_state_file *)s, q->key);

	return !rec || gp_retry_used(q, rec);
}

void
gp_requests_prune(struct gp_requests *r, const struct gp_state_file *s)
{
	list_prune(r->rotate, &r->n_rotate, sizeof(*r->rotate), rotate_done, rotate_release, s);
	list_prune(r->retry, &r->n_retry, sizeof(*r->retry), retry_done, retry_release, s);
}

/* "at" and "by" of a request (or of a confirmation). */
static void
add_at_by(cJSON *o, int64_t at, const char *by)
{
	char t[21];

	gp_time_format(at, t);
	cJSON_AddStringToObject(o, "at", t);
	by ? cJSON_AddStringToObject(o, "by", by) : cJSON_AddNullToObject(o, "by");
}

/* A new request object in arr, with its key, at and by; NULL on ENOMEM. */
static cJSON *
request_json(cJSON *arr, const char *key, int64_t at, const char *by)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddStringToObject(o, "key", key);
	add_at_by(o, at, by);
	return o;
}

int
gp_requests_render(const struct gp_requests *r, const char *env, struct gp_buf *out)
{
	cJSON *root = cJSON_CreateObject(), *arr, *o;
	char *s;
	int ret;

	if (!root)
		return -ENOMEM;
	cJSON_AddNumberToObject(root, "version", GP_REQUESTS_VERSION);
	cJSON_AddStringToObject(root, "env", env);
	arr = cJSON_AddArrayToObject(root, "rotate");
	for (size_t i = 0; arr && i < r->n_rotate; i++) {
		const struct gp_rotate_request *q = &r->rotate[i];

		if (!(o = request_json(arr, q->key, q->at, q->by)))
			break;
		q->version ? cJSON_AddStringToObject(o, "version", q->version)
			   : cJSON_AddNullToObject(o, "version");
	}
	arr = cJSON_AddArrayToObject(root, "retry");
	for (size_t i = 0; arr && i < r->n_retry; i++)
		if (!request_json(arr, r->retry[i].key, r->retry[i].at, r->retry[i].by))
			break;
	if (r->confirm_at && (o = cJSON_AddObjectToObject(root, "confirm_mass_change")))
		add_at_by(o, r->confirm_at, r->confirm_by);
	s = cJSON_Print(root);
	cJSON_Delete(root);
	if (!s)
		return -ENOMEM;
	ret = gp_buf_puts(out, s);
	if (ret >= 0)
		ret = gp_buf_putc(out, '\n');
	free(s);
	return ret;
}

static int
bad(struct gp_diags *diags, const char *name, const char *why)
{
	gp_diag_error(diags, -EINVAL, name, 0, 0, "%s", why);
	return -EINVAL;
}

/* The key, time and requester every request has; false when one is missing or wrong. The
 * strings are borrowed from o. */
static bool
parse_key_at_by(const cJSON *o, const char **key, int64_t *at, const char **by)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "key");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "at");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "by");

	if (!cJSON_IsString(k) || gp_isempty(k->valuestring) || !cJSON_IsString(a) ||
	    gp_time_parse(a->valuestring, at) < 0 || (b && !cJSON_IsString(b) && !cJSON_IsNull(b)))
		return false;
	*key = k->valuestring;
	*by = cJSON_IsString(b) ? b->valuestring : NULL;
	return true;
}

static int
parse_rotate(const cJSON *o, const char *name, struct gp_requests *r, struct gp_diags *diags)
{
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(o, "version");
	const char *key, *by;
	int64_t t;

	if (!parse_key_at_by(o, &key, &t, &by))
		return bad(diags, name, "a rotate request needs a key, an \"at\" time and a \"by\"");
	return gp_requests_add_rotate(r, key, t, by, cJSON_IsString(ver) ? ver->valuestring : NULL);
}

static int
parse_retry(const cJSON *o, const char *name, struct gp_requests *r, struct gp_diags *diags)
{
	const char *key, *by;
	int64_t t;

	if (!parse_key_at_by(o, &key, &t, &by))
		return bad(diags, name, "a retry request needs a key, an \"at\" time and a \"by\"");
	return gp_requests_add_retry(r, key, t, by);
}

/* The lists of requests, each optional. */
static const struct {
	const char *member;
	int (*parse)(const cJSON *o, const char *name, struct gp_requests *r,
		     struct gp_diags *diags);
} request_lists[] = {
	{"rotate", parse_rotate},
	{"retry", parse_retry},
};

static int
parse_lists(const cJSON *root, const char *name, struct gp_requests *r, struct gp_diags *diags)
{
	for (size_t i = 0; i < ELEMENTSOF(request_lists); i++) {
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, request_lists[i].member);
		const cJSON *o;
		int e;

		if (!arr)
			continue;
		if (!cJSON_IsArray(arr)) {
			gp_diag_error(diags, -EINVAL, name, 0, 0, "\"%s\" is not a list",
				      request_lists[i].member);
			return -EINVAL;
		}
		cJSON_ArrayForEach(o, arr)
		{
			e = request_lists[i].parse(o, name, r, diags);
			if (e < 0)
				return e;
		}
	}
	return 0;
}

static int
parse_confirm(const cJSON *root, const char *name, struct gp_requests *r, struct gp_diags *diags)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, "confirm_mass_change");
	const cJSON *at = o ? cJSON_GetObjectItemCaseSensitive(o, "at") : NULL;
	const cJSON *by = o ? cJSON_GetObjectItemCaseSensitive(o, "by") : NULL;

	if (!o || cJSON_IsNull(o))
		return 0;
	if (!cJSON_IsString(at) || gp_time_parse(at->valuestring, &r->confirm_at) < 0)
		return bad(diags, name, "confirm_mass_change needs an \"at\" time");
	if (cJSON_IsString(by) && !(r->confirm_by = strdup(by->valuestring)))
		return -ENOMEM;
	return 0;
}

int
gp_requests_parse(const char *buf, size_t len, const char *name, struct gp_requests *ret,
		  struct gp_diags *diags)
{
	cJSON *root = cJSON_ParseWithLength(buf, len);
	const cJSON *v = root ? cJSON_GetObjectItemCaseSensitive(root, "version") : NULL;
	struct gp_requests r = {0};
	int e;

	if (!cJSON_IsObject(root))
		e = bad(diags, name, "not a JSON object");
	else if (!cJSON_IsNumber(v) || v->valueint != GP_REQUESTS_VERSION)
		e = bad(diags, name, "unknown version");
	else if ((e = parse_confirm(root, name, &r, diags)) >= 0)
		e = parse_lists(root, name, &r, diags);
	cJSON_Delete(root);
	if (e < 0) {
		gp_requests_release(&r);
		return e;
	}
	*ret = r;
	return 0;
}
