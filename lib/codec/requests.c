/*
 * codec/requests.c — the JSON codec of the requests file (requests.h). Strict: a request
 * file that does not parse is refused as a whole, naming it; reading and writing it is the
 * daemon's business.
 */
#include "codec/requests.h"

#include <cjson/cJSON.h>

#define GP_REQUESTS_VERSION 1

static void
rotate_release(struct gp_rotate_request *q)
{
	free(q->key);
	free(q->by);
	free(q->version);
}

void
gp_requests_release(struct gp_requests *r)
{
	for (size_t i = 0; i < r->n_rotate; i++)
		rotate_release(&r->rotate[i]);
	free(r->rotate);
	free(r->confirm_by);
	*r = (struct gp_requests){0};
}

static int
cmp_rotate(const void *a, const void *b)
{
	return strcmp(((const struct gp_rotate_request *)a)->key,
		      ((const struct gp_rotate_request *)b)->key);
}

int
gp_requests_add_rotate(struct gp_requests *r, const char *key, int64_t at, const char *by,
		       const char *version)
{
	struct gp_rotate_request *v, q = {.key = strdup(key), .at = at, .by = gp_strdup0(by),
					  .version = gp_strdup0(version)};

	if (!q.key || (by && !q.by) || (version && !q.version)) {
		rotate_release(&q);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_rotate; i++) {
		if (strcmp(r->rotate[i].key, key) == 0) {
			rotate_release(&r->rotate[i]);
			r->rotate[i] = q;
			return 0;
		}
	}
	v = realloc(r->rotate, (r->n_rotate + 1) * sizeof(*v));
	if (!v) {
		rotate_release(&q);
		return -ENOMEM;
	}
	r->rotate = v;
	r->rotate[r->n_rotate++] = q;
	qsort(r->rotate, r->n_rotate, sizeof(*r->rotate), cmp_rotate);
	return 0;
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

void
gp_requests_prune(struct gp_requests *r, const struct gp_state_file *s)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n_rotate; i++) {
		if (gp_request_done(&r->rotate[i], s))
			rotate_release(&r->rotate[i]);
		else
			r->rotate[k++] = r->rotate[i];
	}
	r->n_rotate = k;
}

int
gp_requests_render(const struct gp_requests *r, const char *env, struct gp_buf *out)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char t[21], *s;
	int ret;

	if (!root)
		return -ENOMEM;
	cJSON_AddNumberToObject(root, "version", GP_REQUESTS_VERSION);
	cJSON_AddStringToObject(root, "env", env);
	arr = cJSON_AddArrayToObject(root, "rotate");
	for (size_t i = 0; arr && i < r->n_rotate; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o || !cJSON_AddItemToArray(arr, o))
			break;
		gp_time_format(r->rotate[i].at, t);
		cJSON_AddStringToObject(o, "key", r->rotate[i].key);
		cJSON_AddStringToObject(o, "at", t);
		r->rotate[i].by ? cJSON_AddStringToObject(o, "by", r->rotate[i].by)
				: cJSON_AddNullToObject(o, "by");
		r->rotate[i].version ? cJSON_AddStringToObject(o, "version", r->rotate[i].version)
				     : cJSON_AddNullToObject(o, "version");
	}
	if (r->confirm_at) {
		cJSON *o = cJSON_AddObjectToObject(root, "confirm_mass_change");

		gp_time_format(r->confirm_at, t);
		if (o) {
			cJSON_AddStringToObject(o, "at", t);
			r->confirm_by ? cJSON_AddStringToObject(o, "by", r->confirm_by)
				      : cJSON_AddNullToObject(o, "by");
		}
	}
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

static int
parse_rotate(const cJSON *o, const char *name, struct gp_requests *r, struct gp_diags *diags)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(o, "key");
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "at");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(o, "by");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(o, "version");
	int64_t t;

	if (!cJSON_IsString(key) || gp_isempty(key->valuestring) || !cJSON_IsString(at) ||
	    gp_time_parse(at->valuestring, &t) < 0 || (by && !cJSON_IsString(by) && !cJSON_IsNull(by)))
		return bad(diags, name, "a rotate request needs a key, an \"at\" time and a \"by\"");
	return gp_requests_add_rotate(r, key->valuestring, t,
				      cJSON_IsString(by) ? by->valuestring : NULL,
				      cJSON_IsString(ver) ? ver->valuestring : NULL);
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
	const cJSON *arr = root ? cJSON_GetObjectItemCaseSensitive(root, "rotate") : NULL, *o;
	struct gp_requests r = {0};
	int e = 0;

	if (!cJSON_IsObject(root))
		e = bad(diags, name, "not a JSON object");
	else if (!cJSON_IsNumber(v) || v->valueint != GP_REQUESTS_VERSION)
		e = bad(diags, name, "unknown version");
	else if (arr && !cJSON_IsArray(arr))
		e = bad(diags, name, "\"rotate\" is not a list");
	if (e >= 0 && (e = parse_confirm(root, name, &r, diags)) < 0)
		;
	else if (e >= 0 && arr) {
		cJSON_ArrayForEach(o, arr)
		{
			e = parse_rotate(o, name, &r, diags);
			if (e < 0)
				break;
		}
	}
	cJSON_Delete(root);
	if (e < 0) {
		gp_requests_release(&r);
		return e;
	}
	*ret = r;
	return 0;
}
