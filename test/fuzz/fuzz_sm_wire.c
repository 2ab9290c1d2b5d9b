/*
 * fuzz_sm_wire — Secrets Manager's answers (codec/sm_wire.c), read as daemon/sm.c reads the
 * bytes it receives: a ListSecrets page, a GetSecretValue (or Create/Put) answer, a
 * BatchGetSecretValue answer, and the classification of an error body at a few HTTP statuses.
 * What they hand out is fed back to the request builders, whose JSON must carry it unchanged.
 */
#include "fuzz.h"

#include <cjson/cJSON.h>
#include <errno.h>

#include "codec/secret.h"
#include "codec/sm_wire.h"

static const char *
member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A PutSecretValue body for v says what v says. */
static void
put_back(const struct gp_sm_value *v)
{
	struct gp_buf out = {0};
	cJSON *root;

	if (gp_isempty(v->name) || gp_isempty(v->secret_string))
		return;
	if (gp_sm_put_request(v->name, v->secret_string, "0a1b2c3d-0000-4000-8000-000000000000",
			      GP_SM_PENDING, &out) == 0) {
		root = cJSON_ParseWithLength(out.p, out.len);
		FUZZ_CHECK(root);
		FUZZ_CHECK(gp_streq(member(root, "SecretId"), v->name));
		FUZZ_CHECK(gp_streq(member(root, "SecretString"), v->secret_string));
		gp_secret_json_delete(root);
	}
	gp_buf_release_secure(&out);
}

static void
list_page(const char *body, size_t len, const char *prefix)
{
	_cleanup_(gp_observed_freep) struct gp_observed *obs = gp_observed_new();
	_cleanup_free_ char *next = NULL;
	struct gp_buf out = {0};

	if (!obs || gp_sm_list_parse(body, len, prefix, obs, &next) < 0)
		return;
	for (size_t i = 0; i < obs->n_secrets; i++) {
		const struct gp_obs_secret *s = &obs->secrets[i];

		FUZZ_CHECK(s->name && (!prefix || strncmp(s->name, prefix, strlen(prefix)) == 0));
		(void)gp_sm_label_state_to_string(gp_sm_secret_state(s));
		if (*s->name && gp_sm_get_request(s->name, NULL, &out) == 0) {
			cJSON *root = cJSON_ParseWithLength(out.p, out.len);

			FUZZ_CHECK(root && gp_streq(member(root, "SecretId"), s->name));
			cJSON_Delete(root);
		}
		gp_buf_release(&out);
	}
	if (next) {
		FUZZ_CHECK(gp_sm_list_request(prefix, next, &out) == 0);
		gp_buf_release(&out);
	}
}

static void
value(const char *body, size_t len)
{
	struct gp_sm_value v = {0};

	if (gp_sm_value_parse(body, len, &v) == 0) {
		(void)gp_sm_label_state_to_string(gp_sm_value_state(&v));
		(void)gp_sm_labels_state(&v.labels);
		put_back(&v);
	}
	gp_sm_value_release(&v);
}

static void
batch(const char *body, size_t len)
{
	struct gp_sm_batch b = {0};

	if (gp_sm_batch_parse(body, len, &b) == 0) {
		for (size_t i = 0; i < b.n_values; i++)
			put_back(&b.values[i]);
		for (size_t i = 0; i < b.n_errors; i++)
			FUZZ_CHECK(b.errors[i].code);
		for (size_t i = 0; i < b.n_errors; i++)
			(void)gp_sm_code_transient(b.errors[i].code);
	}
	gp_sm_batch_release(&b);
}

static void
classify(const char *body, size_t len)
{
	static const long statuses[] = {400, 403, 429, 503};

	for (size_t i = 0; i < ELEMENTSOF(statuses); i++) {
		struct gp_sm_error e;
		int r = gp_sm_error_classify(statuses[i], body, len, &e);

		FUZZ_CHECK(r == -ENOENT || r == -EEXIST || r == -EACCES || r == -EIO);
		FUZZ_CHECK(memchr(e.code, '\0', sizeof(e.code)) && *e.code);
		FUZZ_CHECK(memchr(e.message, '\0', sizeof(e.message)) && *e.message);
		FUZZ_CHECK(e.http_status == statuses[i]);
		FUZZ_CHECK(!e.throttled || e.transient);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;

	list_page(body, size, "goldenpath/");
	list_page(body, size, NULL);
	value(body, size);
	batch(body, size);
	classify(body, size);
	return 0;
}
