/*
 * sm_wire.c — Secrets Manager's JSON 1.1 bodies: builds the requests gprdsd sends, parses the
 * answers it reads (ListSecrets pages, secret values, BatchGetSecretValue's Errors), reads the
 * staging labels they carry and classifies error answers.
 *
 * Deliberately not here: sending anything, SigV4, credentials, retries, write pacing and
 * where a ClientRequestToken's random bytes come from (daemon/sm.c); what to do about a
 * secret in one label state or another (the planner). cJSON does not wipe what it frees, so
 * a tree that may hold a SecretString is deleted with gp_secret_json_delete() and printed with
 * gp_secret_json_print(); ListSecrets pages hold names, dates, tags and version ids only, and
 * their trees (a thousand secrets a pass) are freed without wiping each string.
 */
#include "codec/sm_wire.h"

#include <cjson/cJSON.h>
#include <stdio.h>

#include "codec/secret.h"
#include "model/names.h"

static void
json_deletep(cJSON **p)
{
	cJSON_Delete(*p);
	*p = NULL;
}
#define _cleanup_json_ _cleanup_(json_deletep)

static void
json_delete_securep(cJSON **p)
{
	gp_secret_json_delete(*p);
	*p = NULL;
}
#define _cleanup_json_secure_ _cleanup_(json_delete_securep)

/* ---------------------------------------------------------------------------------------
 * Staging labels
 */

static const char *const label_state_names[_GP_SM_LABELS_MAX] = {
	[GP_SM_LABELS_NO_PENDING] = "no-pending",
	[GP_SM_LABELS_PENDING_DIFFERS] = "pending-differs",
	[GP_SM_LABELS_PENDING_IS_CURRENT] = "pending-is-current",
	[GP_SM_LABELS_NO_CURRENT] = "no-current",
	[GP_SM_LABELS_VALUE_NOT_CURRENT] = "value-not-current",
};

const char *
gp_sm_label_state_to_string(enum gp_sm_label_state s)
{
	return (size_t)s < _GP_SM_LABELS_MAX ? label_state_names[s] : NULL;
}

void
gp_sm_labels_release(struct gp_sm_labels *l)
{
	free(l->current);
	free(l->pending);
	free(l->previous);
	*l = (struct gp_sm_labels){0};
}

static enum gp_sm_label_state
state_of(const char *current, const char *pending)
{
	if (!current)
		return GP_SM_LABELS_NO_CURRENT;
	if (!pending)
		return GP_SM_LABELS_NO_PENDING;
	return strcmp(current, pending) == 0 ? GP_SM_LABELS_PENDING_IS_CURRENT
					     : GP_SM_LABELS_PENDING_DIFFERS;
}

enum gp_sm_label_state
gp_sm_labels_state(const struct gp_sm_labels *l)
{
	return state_of(l->current, l->pending);
}

enum gp_sm_label_state
gp_sm_secret_state(const struct gp_obs_secret *s)
{
	return state_of(s->current_version, s->pending_version);
}

enum gp_sm_label_state
gp_sm_value_state(const struct gp_sm_value *v)
{
	if (!v->labels.current)
		return GP_SM_LABELS_VALUE_NOT_CURRENT;
	return gp_sm_labels_state(&v->labels);
}

/* Notes that version carries label; a label already placed stays where it is. */
static int
labels_add(struct gp_sm_labels *l, const char *label, const char *version)
{
	char **dst = NULL;

	if (gp_streq(label, GP_SM_CURRENT))
		dst = &l->current;
	else if (gp_streq(label, GP_SM_PENDING))
		dst = &l->pending;
	else if (gp_streq(label, GP_SM_PREVIOUS))
		dst = &l->previous;
	if (!dst || *dst || !version)
		return 0;
	*dst = strdup(version);
	return *dst ? 0 : -ENOMEM;
}

/* The labels of one version: ["AWSCURRENT", ...] (VersionStages). */
static int
labels_from_stages(const cJSON *stages, const char *version, struct gp_sm_labels *l)
{
	const cJSON *label;
	int r;

	if (!cJSON_IsArray(stages))
		return 0;
	cJSON_ArrayForEach(label, stages)
		if ((r = labels_add(l, cJSON_GetStringValue(label), version)) < 0)
			return r;
	return 0;
}

/* Every version's labels: {"<version id>": ["AWSCURRENT", ...], ...} (SecretVersionsToStages). */
static int
labels_from_versions(const cJSON *versions, struct gp_sm_labels *l)
{
	const cJSON *v;
	int r;

	if (!cJSON_IsObject(versions))
		return 0;
	cJSON_ArrayForEach(v, versions)
		if ((r = labels_from_stages(v, v->string, l)) < 0)
			return r;
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Requests
 */

void
gp_sm_token_format(const uint8_t bytes[static 16], char out[static GP_SM_TOKEN_LEN + 1])
{
	uint8_t b[16];

	memcpy(b, bytes, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 10 */
	snprintf(out, GP_SM_TOKEN_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

static bool
add_str(cJSON *obj, const char *key, const char *value)
{
	return cJSON_AddStringToObject(obj, key, value) != NULL;
}

/* Adds key: value when value is not NULL; true when nothing failed. */
static bool
add_opt(cJSON *obj, const char *key, const char *value)
{
	return !value || add_str(obj, key, value);
}

static bool
push_str(cJSON *array, const char *value)
{
	return array && cJSON_AddItemToArray(array, cJSON_CreateString(value));
}

/* Adds "Tags": [managed-by=gprdsd, Environment=env, Application=key]. */
static bool
add_tags(cJSON *obj, const char *env, const char *key)
{
	const char *pairs[][2] = {
		{GP_SECRET_TAG_KEY, GP_SECRET_TAG_VALUE},
		{GP_SECRET_TAG_ENV, env},
		{GP_SECRET_TAG_APP, key},
	};
	cJSON *tags = cJSON_AddArrayToObject(obj, "Tags"), *t;

	if (!tags)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(pairs); i++) {
		if (!pairs[i][1])
			continue;
		t = cJSON_CreateObject();
		if (!t || !cJSON_AddItemToArray(tags, t)) {
			cJSON_Delete(t);
			return false;
		}
		if (!add_str(t, "Key", pairs[i][0]) || !add_str(t, "Value", pairs[i][1]))
			return false;
	}
	return true;
}

/* A new request object whose first member is id_key: name (SecretId, or CreateSecret's Name). */
static cJSON *
request_new(const char *id_key, const char *name)
{
	_cleanup_json_ cJSON *body = cJSON_CreateObject();

	if (!body || !add_str(body, id_key, name))
		return NULL;
	return TAKE_PTR(body);
}

/* Prints a body that holds no secret value; NULL means a step before failed to allocate. */
static int
print_body(const cJSON *body, struct gp_buf *out)
{
	return body ? gp_secret_json_print(body, out) : -ENOMEM;
}

int
gp_sm_list_request(const char *prefix, const char *next, struct gp_buf *out)
{
	_cleanup_json_ cJSON *body = cJSON_CreateObject();
	cJSON *filter;

	/* Secrets scheduled for deletion too: an entry that comes back restores its secret
	 * instead of failing to create it (DESIGN §4.5). */
	if (!body || !cJSON_AddNumberToObject(body, "MaxResults", GP_SM_LIST_PAGE) ||
	    !cJSON_AddBoolToObject(body, "IncludePlannedDeletion", true) ||
	    !add_opt(body, "NextToken", next))
		return -ENOMEM;
	if (gp_isempty(prefix))
		return print_body(body, out);
	filter = cJSON_CreateObject();
	if (!filter || !cJSON_AddItemToArray(cJSON_AddArrayToObject(body, "Filters"), filter)) {
		cJSON_Delete(filter);
		return -ENOMEM;
	}
	if (!add_str(filter, "Key", "name") ||
	    !push_str(cJSON_AddArrayToObject(filter, "Values"), prefix))
		return -ENOMEM;
	return print_body(body, out);
}

int
gp_sm_batch_request(char *const *names, size_t n, const char *next, struct gp_buf *out)
{
	_cleanup_json_ cJSON *body = NULL;
	cJSON *ids;

	if (n == 0 || n > GP_SM_BATCH_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (gp_isempty(names[i]))
			return -EINVAL;
	body = cJSON_CreateObject();
	ids = body ? cJSON_AddArrayToObject(body, "SecretIdList") : NULL;
	for (size_t i = 0; ids && i < n; i++)
		if (!push_str(ids, names[i]))
			return -ENOMEM;
	if (!ids || !add_opt(body, "NextToken", next))
		return -ENOMEM;
	return print_body(body, out);
}

int
gp_sm_get_request(const char *name, const char *stage, struct gp_buf *out)
{
	_cleanup_json_ cJSON *body = NULL;

	if (gp_isempty(name))
		return -EINVAL;
	body = request_new("SecretId", name);
	if (!body || !add_str(body, "VersionStage", stage ? stage : GP_SM_CURRENT))
		return -ENOMEM;
	return print_body(body, out);
}

int
gp_sm_create_request(const struct gp_sm_create *c, struct gp_buf *out)
{
	_cleanup_json_secure_ cJSON *body = NULL;
	_cleanup_free_ char *desc = NULL;

	if (gp_isempty(c->name) || !c->secret_string || gp_isempty(c->token))
		return -EINVAL;
	desc = gp_strprintf("PostgreSQL credentials for %s in %s, managed by gprdsd",
			    c->key ? c->key : c->name, c->env ? c->env : "?");
	body = request_new("Name", c->name);
	if (!desc || !body || !add_str(body, "Description", desc) ||
	    !add_str(body, "SecretString", c->secret_string) ||
	    !add_str(body, "ClientRequestToken", c->token) ||
	    (!gp_isempty(c->kms_key_id) && !add_str(body, "KmsKeyId", c->kms_key_id)) ||
	    !add_tags(body, c->env, c->key))
		return -ENOMEM;
	return gp_secret_json_print(body, out);
}

int
gp_sm_put_request(const char *name, const char *secret_string, const char *token, const char *stage,
		  struct gp_buf *out)
{
	_cleanup_json_secure_ cJSON *body = NULL;

	if (gp_isempty(name) || !secret_string || gp_isempty(token) || (stage && !*stage))
		return -EINVAL;
	body = request_new("SecretId", name);
	if (!body || !add_str(body, "SecretString", secret_string) ||
	    !add_str(body, "ClientRequestToken", token) ||
	    (stage && !push_str(cJSON_AddArrayToObject(body, "VersionStages"), stage)))
		return -ENOMEM;
	return gp_secret_json_print(body, out);
}

int
gp_sm_stage_request(const char *name, const char *stage, const char *move_to,
		    const char *remove_from, struct gp_buf *out)
{
	_cleanup_json_ cJSON *body = NULL;

	if (gp_isempty(name) || gp_isempty(stage) ||
	    (gp_isempty(move_to) && gp_isempty(remove_from)))
		return -EINVAL;
	body = request_new("SecretId", name);
	if (!body || !add_str(body, "VersionStage", stage) ||
	    !add_opt(body, "MoveToVersionId", move_to) ||
	    !add_opt(body, "RemoveFromVersionId", remove_from))
		return -ENOMEM;
	return print_body(body, out);
}

int
gp_sm_tag_request(const char *name, const char *env, const char *key, struct gp_buf *out)
{
	_cleanup_json_ cJSON *body = NULL;

	if (gp_isempty(name))
		return -EINVAL;
	body = request_new("SecretId", name);
	if (!body || !add_tags(body, env, key))
		return -ENOMEM;
	return print_body(body, out);
}

int
gp_sm_delete_request(const char *name, unsigned days, struct gp_buf *out)
{
	_cleanup_json_ cJSON *body = NULL;

	if (gp_isempty(name) || days < GP_SM_RECOVERY_MIN || days > GP_SM_RECOVERY_MAX)
		return -EINVAL;
	body = request_new("SecretId", name);
	if (!body || !cJSON_AddNumberToObject(body, "RecoveryWindowInDays", days))
		return -ENOMEM;
	return print_body(body, out);
}

int
gp_sm_restore_request(const char *name, struct gp_buf *out)
{
	_cleanup_json_ cJSON *body = NULL;

	if (gp_isempty(name))
		return -EINVAL;
	body = request_new("SecretId", name);
	if (!body)
		return -ENOMEM;
	return print_body(body, out);
}

/* ---------------------------------------------------------------------------------------
 * Responses
 */

/* The body as a JSON object in *ret, or -EBADMSG. */
static int
parse_object(const char *body, size_t len, cJSON **ret)
{
	cJSON *root = body && len ? cJSON_ParseWithLength(body, len) : NULL;

	/* cJSON does not tell a syntax error from a failed allocation: both are -EBADMSG. */
	if (!cJSON_IsObject(root)) {
		gp_secret_json_delete(root);
		return -EBADMSG;
	}
	*ret = root;
	return 0;
}

static const char *
json_str(const cJSON *obj, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

/* A copy of obj's string member key in *ret, or NULL when it is absent (not an error). */
static int
dup_str(const cJSON *obj, const char *key, char **ret)
{
	const char *s = json_str(obj, key);

	*ret = s ? strdup(s) : NULL;
	return !s || *ret ? 0 : -ENOMEM;
}

/* JSON 1.1 timestamps are epoch seconds (a number, often with a fraction). */
static int64_t
json_time(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	int64_t t = 0;

	if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1e12)
		return (int64_t)v->valuedouble;
	if (cJSON_IsString(v) && gp_time_parse(v->valuestring, &t) == 0)
		return t;
	return 0;
}

static bool
tags_mark(const cJSON *tags)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, (cJSON_IsArray(tags) ? tags : NULL))
		if (gp_secret_tag_marks(json_str(t, "Key"), json_str(t, "Value")))
			return true;
	return false;
}

static int
append_secret(struct gp_observed *obs, const struct gp_obs_secret *s)
{
	struct gp_obs_secret *v = realloc(obs->secrets, (obs->n_secrets + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	obs->secrets = v;
	v[obs->n_secrets++] = *s;
	return 0;
}

/* One SecretList entry, appended to page when its name has the prefix. */
static int
list_entry(const cJSON *e, const char *prefix, struct gp_observed *page)
{
	_cleanup_(gp_sm_labels_release) struct gp_sm_labels l = {0};
	_cleanup_free_ char *name = NULL, *arn = NULL;
	const char *n = json_str(e, "Name");
	const cJSON *versions = cJSON_GetObjectItemCaseSensitive(e, "SecretVersionsToStages");
	int r;

	if (!n || (prefix && strncmp(n, prefix, strlen(prefix)) != 0))
		return 0;
	r = dup_str(e, "Name", &name);
	r = r ?: dup_str(e, "ARN", &arn);
	r = r ?: labels_from_versions(versions, &l);
	r = r ?: append_secret(page, &(struct gp_obs_secret){
		.name = name,
		.arn = arn,
		.current_version = l.current,
		.pending_version = l.pending,
		.previous_version = l.previous,
		.created = json_time(e, "CreatedDate"),
		.changed = json_time(e, "LastChangedDate"),
		.deleted = json_time(e, "DeletedDate"),
		.managed = tags_mark(cJSON_GetObjectItemCaseSensitive(e, "Tags")),
	});
	if (r < 0)
		return r;
	/* page owns them now. */
	name = arn = NULL;
	l = (struct gp_sm_labels){0};
	return 0;
}

/* Moves page's secrets to the end of obs's. */
static int
take_secrets(struct gp_observed *obs, struct gp_observed *page)
{
	size_t n = obs->n_secrets + page->n_secrets;
	struct gp_obs_secret *v;

	if (!page->n_secrets)
		return 0;
	v = realloc(obs->secrets, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v + obs->n_secrets, page->secrets, page->n_secrets * sizeof(*v));
	obs->secrets = v;
	obs->n_secrets = n;
	page->n_secrets = 0;
	return 0;
}

int
gp_sm_list_parse(const char *body, size_t len, const char *prefix, struct gp_observed *obs,
		 char **ret_next)
{
	_cleanup_json_ cJSON *root = NULL;
	_cleanup_(gp_observed_freep) struct gp_observed *page = NULL;
	_cleanup_free_ char *next = NULL;
	const cJSON *e;
	int r;

	r = parse_object(body, len, &root);
	if (r < 0)
		return r;
	page = gp_observed_new();
	if (!page)
		return -ENOMEM;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "SecretList"))
		if ((r = list_entry(e, gp_isempty(prefix) ? NULL : prefix, page)) < 0)
			return r;
	r = dup_str(root, "NextToken", &next);
	r = r ?: take_secrets(obs, page);
	if (r < 0)
		return r;
	*ret_next = TAKE_PTR(next);
	return 0;
}

void
gp_sm_value_release(struct gp_sm_value *v)
{
	free(v->name);
	free(v->version_id);
	gp_secret_free_string(v->secret_string);
	gp_sm_labels_release(&v->labels);
	*v = (struct gp_sm_value){0};
}

/* Fills a zeroed v from one object; on failure the caller releases v. */
static int
value_from(const cJSON *o, struct gp_sm_value *v)
{
	int r;

	r = dup_str(o, "Name", &v->name);
	r = r ?: dup_str(o, "VersionId", &v->version_id);
	r = r ?: dup_str(o, "SecretString", &v->secret_string);
	r = r ?: labels_from_stages(cJSON_GetObjectItemCaseSensitive(o, "VersionStages"),
				    v->version_id, &v->labels);
	return r;
}

void
gp_sm_batch_release(struct gp_sm_batch *b)
{
	for (size_t i = 0; i < b->n_values; i++)
		gp_sm_value_release(&b->values[i]);
	for (size_t i = 0; i < b->n_errors; i++) {
		free(b->errors[i].secret_id);
		free(b->errors[i].code);
		free(b->errors[i].message);
	}
	free(b->values);
	free(b->errors);
	free(b->next);
	*b = (struct gp_sm_batch){0};
}

/* A zeroed array for the n items of an array member (NULL for none), or -ENOMEM. */
static int
items_alloc(const cJSON *array, size_t size, void **ret)
{
	int n = cJSON_IsArray(array) ? cJSON_GetArraySize(array) : 0;

	*ret = n > 0 ? calloc((size_t)n, size) : NULL;
	return n > 0 && !*ret ? -ENOMEM : 0;
}

static int
batch_error_from(const cJSON *o, struct gp_sm_batch_error *e)
{
	int r;

	r = dup_str(o, "SecretId", &e->secret_id);
	r = r ?: dup_str(o, "Message", &e->message);
	if (r == 0)
		e->code = strdup(json_str(o, "ErrorCode") ?: "UnknownError");
	return r < 0 || !e->code ? -ENOMEM : 0;
}

static int
batch_from(const cJSON *root, struct gp_sm_batch *b)
{
	const cJSON *values = cJSON_GetObjectItemCaseSensitive(root, "SecretValues");
	const cJSON *errors = cJSON_GetObjectItemCaseSensitive(root, "Errors");
	const cJSON *e;
	int r;

	r = items_alloc(values, sizeof(*b->values), (void **)&b->values);
	r = r ?: items_alloc(errors, sizeof(*b->errors), (void **)&b->errors);
	if (r < 0)
		return r;
	cJSON_ArrayForEach(e, (b->values ? values : NULL))
		if ((r = value_from(e, &b->values[b->n_values++])) < 0)
			return r;
	cJSON_ArrayForEach(e, (b->errors ? errors : NULL))
		if ((r = batch_error_from(e, &b->errors[b->n_errors++])) < 0)
			return r;
	return dup_str(root, "NextToken", &b->next);
}

/*
 * Parses an answer that may hold SecretStrings into v or b (the other is NULL); the tree is
 * wiped. On failure whatever was filled is released.
 */
static int
parse_answer(const char *body, size_t len, struct gp_sm_value *v, struct gp_sm_batch *b)
{
	_cleanup_json_secure_ cJSON *root = NULL;
	int r;

	r = parse_object(body, len, &root);
	r = r ?: (v ? value_from(root, v) : batch_from(root, b));
	if (r < 0 && v)
		gp_sm_value_release(v);
	if (r < 0 && b)
		gp_sm_batch_release(b);
	return r;
}

int
gp_sm_value_parse(const char *body, size_t len, struct gp_sm_value *ret)
{
	struct gp_sm_value v = {0};
	int r = parse_answer(body, len, &v, NULL);

	if (r == 0)
		*ret = v;
	return r;
}

int
gp_sm_batch_parse(const char *body, size_t len, struct gp_sm_batch *ret)
{
	struct gp_sm_batch b = {0};
	int r = parse_answer(body, len, NULL, &b);

	if (r == 0)
		*ret = b;
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Errors
 */

static bool
code_in(const char *code, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(code, *list) == 0)
			return true;
	return false;
}

static const char *const throttling_codes[] = {
	"ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
	"Throttling", NULL,
};
static const char *const server_codes[] = {
	"InternalServiceError", "InternalFailure", "ServiceUnavailable", NULL,
};
static const char *const auth_codes[] = {
	"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
	"IncompleteSignature", "MissingAuthenticationToken", "InvalidClientTokenId",
	"ExpiredTokenException", "SignatureDoesNotMatch", "AccessDenied", NULL,
};

bool
gp_sm_code_transient(const char *code)
{
	return code && (code_in(code, throttling_codes) || code_in(code, server_codes));
}

/* The text of <tag>...</tag> in an XML error body, cut to fit out; out unchanged if absent. */
static void
xml_field(const char *body, size_t len, const char *tag, char *out, size_t size)
{
	char open[16], close[16];
	const char *a, *b;
	size_t lo, lc;

	lo = (size_t)snprintf(open, sizeof(open), "<%s>", tag);
	lc = (size_t)snprintf(close, sizeof(close), "</%s>", tag);
	a = memmem(body, len, open, lo);
	if (!a)
		return;
	a += lo;
	b = memmem(a, len - (size_t)(a - body), close, lc);
	if (b)
		snprintf(out, size, "%.*s", (int)(b - a), a);
}

/* code and message from a JSON 1.1 error body (__type, message or Message), else from XML. */
static void
error_fields(const char *body, size_t len, struct gp_sm_error *e)
{
	_cleanup_json_secure_ cJSON *root = NULL;
	const char *type, *msg, *hash;

	if (!body || !len)
		return;
	root = cJSON_ParseWithLength(body, len);
	if (!root) {
		xml_field(body, len, "Code", e->code, sizeof(e->code));
		xml_field(body, len, "Message", e->message, sizeof(e->message));
		return;
	}
	type = json_str(root, "__type");
	msg = json_str(root, "message") ?: json_str(root, "Message");
	if (type) {
		hash = strrchr(type, '#');
		snprintf(e->code, sizeof(e->code), "%s", hash ? hash + 1 : type);
	}
	if (msg)
		snprintf(e->message, sizeof(e->message), "%s", msg);
}

int
gp_sm_error_classify(long status, const char *body, size_t len, struct gp_sm_error *ret)
{
	struct gp_sm_error e = {.http_status = status};
	bool known;

	error_fields(body, len, &e);
	known = e.code[0] != '\0';
	if (!known)
		snprintf(e.code, sizeof(e.code), "UnknownError");
	if (!e.message[0])
		snprintf(e.message, sizeof(e.message), "HTTP %ld%s", status,
			 known ? "" : " without an AWS error body");
	e.throttled = status == 429 || code_in(e.code, throttling_codes);
	e.renew_credentials = strcmp(e.code, "ExpiredTokenException") == 0;
	e.transient = e.throttled || status >= 500 || code_in(e.code, server_codes) ||
		      e.renew_credentials;
	*ret = e;
	if (strcmp(e.code, "ResourceNotFoundException") == 0)
		return -ENOENT;
	if (strcmp(e.code, "ResourceExistsException") == 0)
		return -EEXIST;
	if (code_in(e.code, auth_codes) || status == 403)
		return -EACCES;
	return -EIO;
}
