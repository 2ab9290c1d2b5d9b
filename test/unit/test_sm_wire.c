/*
 * test_sm_wire.c — Secrets Manager bodies on values: the staging-label states, the exact JSON
 * of every request, ListSecrets and BatchGetSecretValue answers, and the classes of errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "codec/sm_wire.h"

/* Checks a builder's result r and the whole text it left in b, then empties b. */
static void
check_body(int r, struct gp_buf *b, const char *expect)
{
	assert_int_equal(r, 0);
	assert_string_equal(b->p, expect);
	gp_buf_release_secure(b);
}

/* A refused call returns -EINVAL and writes nothing. */
static void
check_refused(int r, struct gp_buf *b)
{
	assert_int_equal(r, -EINVAL);
	assert_int_equal(b->len, 0);
	gp_buf_release_secure(b);
}

/* ---------------------------------------------------------------------------------------
 * Staging labels
 */

/* The labels of a ListSecrets entry whose SecretVersionsToStages is stages. */
static struct gp_obs_secret *
listed(struct gp_observed *obs, const char *stages)
{
	_cleanup_free_ char *body = gp_strprintf(
		"{\"SecretList\":[{\"Name\":\"s\",\"SecretVersionsToStages\":%s}]}", stages);
	char *next = NULL;

	assert_non_null(body);
	assert_int_equal(gp_sm_list_parse(body, strlen(body), NULL, obs, &next), 0);
	assert_null(next);
	assert_true(obs->n_secrets > 0);
	return &obs->secrets[obs->n_secrets - 1];
}

static void
test_labels_no_pending(void **state)
{
	_cleanup_(gp_observed_freep) struct gp_observed *obs = gp_observed_new();
	struct gp_obs_secret *s = listed(obs, "{\"v0\":[\"AWSPREVIOUS\"],\"v1\":[\"AWSCURRENT\"]}");

	assert_string_equal(s->current_version, "v1");
	assert_null(s->pending_version);
	assert_string_equal(s->previous_version, "v0");
	assert_int_equal(gp_sm_secret_state(s), GP_SM_LABELS_NO_PENDING);
	assert_int_equal(gp_sm_labels_state(&(struct gp_sm_labels){.current = "v1"}),
			 GP_SM_LABELS_NO_PENDING);
}

static void
test_labels_pending_differs(void **state)
{
	_cleanup_(gp_observed_freep) struct gp_observed *obs = gp_observed_new();
	struct gp_obs_secret *s =
		listed(obs, "{\"v1\":[\"AWSCURRENT\"],\"v2\":[\"AWSPENDING\"],\"v0\":[]}");

	assert_string_equal(s->current_version, "v1");
	assert_string_equal(s->pending_version, "v2");
	assert_null(s->previous_version);
	assert_int_equal(gp_sm_secret_state(s), GP_SM_LABELS_PENDING_DIFFERS);
	assert_int_equal(
		gp_sm_labels_state(&(struct gp_sm_labels){.current = "v1", .pending = "v2"}),
		GP_SM_LABELS_PENDING_DIFFERS);
}

static void
test_labels_pending_is_current(void **state)
{
	_cleanup_(gp_observed_freep) struct gp_observed *obs = gp_observed_new();
	struct gp_obs_secret *s = listed(
		obs, "{\"v1\":[\"AWSPREVIOUS\"],\"v2\":[\"AWSPENDING\",\"AWSCURRENT\",\"other\"]}");

	assert_string_equal(s->current_version, "v2");
	assert_string_equal(s->pending_version, "v2");
	assert_string_equal(s->previous_version, "v1");
	assert_int_equal(gp_sm_secret_state(s), GP_SM_LABELS_PENDING_IS_CURRENT);
	assert_int_equal(
		gp_sm_labels_state(&(struct gp_sm_labels){.current = "v2", .pending = "v2"}),
		GP_SM_LABELS_PENDING_IS_CURRENT);
}

static void
test_labels_no_current(void **state)
{
	_cleanup_(gp_observed_freep) struct gp_observed *obs = gp_observed_new();

	assert_int_equal(gp_sm_secret_state(listed(obs, "{\"v2\":[\"AWSPENDING\"]}")),
			 GP_SM_LABELS_NO_CURRENT);
	assert_int_equal(gp_sm_secret_state(listed(obs, "{}")), GP_SM_LABELS_NO_CURRENT);
	/* Members of the wrong type read as absent. */
	assert_int_equal(gp_sm_secret_state(listed(obs, "[[\"AWSCURRENT\"]]")),
			 GP_SM_LABELS_NO_CURRENT);
	assert_int_equal(gp_sm_secret_state(listed(obs, "{\"v1\":\"AWSCURRENT\"}")),
			 GP_SM_LABELS_NO_CURRENT);
	assert_int_equal(gp_sm_labels_state(&(struct gp_sm_labels){.pending = "v2"}),
			 GP_SM_LABELS_NO_CURRENT);
	assert_int_equal(gp_sm_labels_state(&(struct gp_sm_labels){0}), GP_SM_LABELS_NO_CURRENT);
}

/* A label on two versions (not something AWS answers) stays on the first one listed. */
static void
test_labels_first_wins(void **state)
{
	_cleanup_(gp_observed_freep) struct gp_observed *obs = gp_observed_new();
	struct gp_obs_secret *s = listed(obs, "{\"a\":[\"AWSCURRENT\"],\"b\":[\"AWSCURRENT\"]}");

	assert_string_equal(s->current_version, "a");
}

/* The state of the value that body answers. */
static enum gp_sm_label_state
value_state(const char *body)
{
	struct gp_sm_value v;
	enum gp_sm_label_state st;

	assert_int_equal(gp_sm_value_parse(body, strlen(body), &v), 0);
	st = gp_sm_value_state(&v);
	gp_sm_value_release(&v);
	return st;
}

static void
test_value_without_current(void **state)
{
	assert_int_equal(value_state("{\"VersionId\":\"v2\",\"VersionStages\":[\"AWSPENDING\"]}"),
			 GP_SM_LABELS_VALUE_NOT_CURRENT);
	assert_int_equal(value_state("{\"VersionId\":\"v0\",\"VersionStages\":[\"AWSPREVIOUS\"]}"),
			 GP_SM_LABELS_VALUE_NOT_CURRENT);
	assert_int_equal(value_state("{\"VersionId\":\"v1\",\"VersionStages\":[]}"),
			 GP_SM_LABELS_VALUE_NOT_CURRENT);
	/* An answer that does not say which labels it carries is not taken as current either. */
	assert_int_equal(value_state("{\"VersionId\":\"v1\"}"), GP_SM_LABELS_VALUE_NOT_CURRENT);
	assert_int_equal(value_state("{\"VersionStages\":[\"AWSCURRENT\"]}"),
			 GP_SM_LABELS_VALUE_NOT_CURRENT);
	assert_int_equal(value_state("{\"VersionId\":\"v1\",\"VersionStages\":\"AWSCURRENT\"}"),
			 GP_SM_LABELS_VALUE_NOT_CURRENT);

	assert_int_equal(value_state("{\"VersionId\":\"v1\",\"VersionStages\":[\"AWSCURRENT\"]}"),
			 GP_SM_LABELS_NO_PENDING);
	assert_int_equal(value_state("{\"VersionId\":\"v1\","
				     "\"VersionStages\":[\"AWSPENDING\",\"AWSCURRENT\"]}"),
			 GP_SM_LABELS_PENDING_IS_CURRENT);
}

static void
test_label_state_strings(void **state)
{
	assert_string_equal(gp_sm_label_state_to_string(GP_SM_LABELS_NO_PENDING), "no-pending");
	assert_string_equal(gp_sm_label_state_to_string(GP_SM_LABELS_PENDING_DIFFERS),
			    "pending-differs");
	assert_string_equal(gp_sm_label_state_to_string(GP_SM_LABELS_PENDING_IS_CURRENT),
			    "pending-is-current");
	assert_string_equal(gp_sm_label_state_to_string(GP_SM_LABELS_NO_CURRENT), "no-current");
	assert_string_equal(gp_sm_label_state_to_string(GP_SM_LABELS_VALUE_NOT_CURRENT),
			    "value-not-current");
	assert_null(gp_sm_label_state_to_string(_GP_SM_LABELS_MAX));
}

/* ---------------------------------------------------------------------------------------
 * Requests
 */

static void
test_token(void **state)
{
	uint8_t b[16];
	char s[GP_SM_TOKEN_LEN + 1];

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)i;
	gp_sm_token_format(b, s);
	assert_string_equal(s, "00010203-0405-4607-8809-0a0b0c0d0e0f");
	memset(b, 0xff, sizeof(b));
	gp_sm_token_format(b, s);
	assert_string_equal(s, "ffffffff-ffff-4fff-bfff-ffffffffffff");
}

static void
test_list_request(void **state)
{
	struct gp_buf b = {0};

	check_body(gp_sm_list_request(NULL, NULL, &b), &b, "{\"MaxResults\":100,\"IncludePlannedDeletion\":true}");
	check_body(gp_sm_list_request("", NULL, &b), &b, "{\"MaxResults\":100,\"IncludePlannedDeletion\":true}");
	check_body(gp_sm_list_request("goldenpath/dev/", "t2", &b), &b,
		   "{\"MaxResults\":100,\"IncludePlannedDeletion\":true,\"NextToken\":\"t2\",\"Filters\":[{\"Key\":\"name\","
		   "\"Values\":[\"goldenpath/dev/\"]}]}");
}

static void
test_batch_request(void **state)
{
	char *names[GP_SM_BATCH_MAX + 1] = {"a", "b\"q"};
	struct gp_buf b = {0};

	check_body(gp_sm_batch_request(names, 2, NULL, &b), &b,
		   "{\"SecretIdList\":[\"a\",\"b\\\"q\"]}");
	check_body(gp_sm_batch_request(names, 1, "n", &b), &b,
		   "{\"SecretIdList\":[\"a\"],\"NextToken\":\"n\"}");
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		names[i] = "x";
	check_body(gp_sm_batch_request(names, GP_SM_BATCH_MAX, NULL, &b), &b,
		   "{\"SecretIdList\":[\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\","
		   "\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]}");
	check_refused(gp_sm_batch_request(names, GP_SM_BATCH_MAX + 1, NULL, &b), &b);
	check_refused(gp_sm_batch_request(names, 0, NULL, &b), &b);
	names[1] = "";
	check_refused(gp_sm_batch_request(names, 2, NULL, &b), &b);
}

static void
test_get_request(void **state)
{
	struct gp_buf b = {0};

	check_body(gp_sm_get_request("s", NULL, &b), &b,
		   "{\"SecretId\":\"s\",\"VersionStage\":\"AWSCURRENT\"}");
	check_body(gp_sm_get_request("s", GP_SM_PENDING, &b), &b,
		   "{\"SecretId\":\"s\",\"VersionStage\":\"AWSPENDING\"}");
	check_refused(gp_sm_get_request("", NULL, &b), &b);
	check_refused(gp_sm_get_request(NULL, GP_SM_PENDING, &b), &b);
}

static void
test_create_request(void **state)
{
	struct gp_sm_create c = {
		.name = "goldenpath/dev/app/postgres",
		.secret_string = "{\"password\":\"p\\\"w\"}",
		.kms_key_id = "alias/k",
		.env = "dev",
		.key = "app",
		.token = "00010203-0405-4607-8809-0a0b0c0d0e0f",
	};
	struct gp_buf b = {0};

	check_body(gp_sm_create_request(&c, &b), &b,
		   "{\"Name\":\"goldenpath/dev/app/postgres\",\"Description\":\"PostgreSQL "
		   "credentials for app in dev, managed by gprdsd\",\"SecretString\":"
		   "\"{\\\"password\\\":\\\"p\\\\\\\"w\\\"}\",\"ClientRequestToken\":"
		   "\"00010203-0405-4607-8809-0a0b0c0d0e0f\",\"KmsKeyId\":\"alias/k\",\"Tags\":["
		   "{\"Key\":\"managed-by\",\"Value\":\"gprdsd\"},{\"Key\":\"Environment\","
		   "\"Value\":\"dev\"},{\"Key\":\"Application\",\"Value\":\"app\"}]}");
	c.kms_key_id = "";
	c.env = c.key = NULL;
	check_body(gp_sm_create_request(&c, &b), &b,
		   "{\"Name\":\"goldenpath/dev/app/postgres\",\"Description\":\"PostgreSQL "
		   "credentials for goldenpath/dev/app/postgres in ?, managed by gprdsd\","
		   "\"SecretString\":\"{\\\"password\\\":\\\"p\\\\\\\"w\\\"}\","
		   "\"ClientRequestToken\":\"00010203-0405-4607-8809-0a0b0c0d0e0f\",\"Tags\":["
		   "{\"Key\":\"managed-by\",\"Value\":\"gprdsd\"}]}");
	c.token = NULL;
	check_refused(gp_sm_create_request(&c, &b), &b);
	c.token = "t";
	c.secret_string = NULL;
	check_refused(gp_sm_create_request(&c, &b), &b);
}

static void
test_put_request(void **state)
{
	struct gp_buf b = {0};

	check_body(gp_sm_put_request("s", "{}", "t1", NULL, &b), &b,
		   "{\"SecretId\":\"s\",\"SecretString\":\"{}\",\"ClientRequestToken\":\"t1\"}");
	/* Rotation step 1: the new version gets AWSPENDING only. */
	check_body(gp_sm_put_request("s", "{}", "t1", GP_SM_PENDING, &b), &b,
		   "{\"SecretId\":\"s\",\"SecretString\":\"{}\",\"ClientRequestToken\":\"t1\","
		   "\"VersionStages\":[\"AWSPENDING\"]}");
	check_refused(gp_sm_put_request("s", "{}", NULL, NULL, &b), &b);
	check_refused(gp_sm_put_request("s", "{}", "", NULL, &b), &b);
	check_refused(gp_sm_put_request("s", NULL, "t1", NULL, &b), &b);
	check_refused(gp_sm_put_request("", "{}", "t1", NULL, &b), &b);
	check_refused(gp_sm_put_request("s", "{}", "t1", "", &b), &b);
}

static void
test_stage_request(void **state)
{
	struct gp_buf b = {0};

	/* Rotation's last step: AWSCURRENT moves to the pending version, then AWSPENDING goes. */
	check_body(gp_sm_stage_request("s", GP_SM_CURRENT, "v2", "v1", &b), &b,
		   "{\"SecretId\":\"s\",\"VersionStage\":\"AWSCURRENT\",\"MoveToVersionId\":"
		   "\"v2\",\"RemoveFromVersionId\":\"v1\"}");
	check_body(gp_sm_stage_request("s", GP_SM_PENDING, NULL, "v2", &b), &b,
		   "{\"SecretId\":\"s\",\"VersionStage\":\"AWSPENDING\","
		   "\"RemoveFromVersionId\":\"v2\"}");
	/* A secret without an AWSCURRENT version: nothing to remove it from. */
	check_body(gp_sm_stage_request("s", GP_SM_CURRENT, "v2", NULL, &b), &b,
		   "{\"SecretId\":\"s\",\"VersionStage\":\"AWSCURRENT\",\"MoveToVersionId\":"
		   "\"v2\"}");
	check_refused(gp_sm_stage_request("s", GP_SM_CURRENT, NULL, NULL, &b), &b);
	check_refused(gp_sm_stage_request("s", NULL, "v2", NULL, &b), &b);
	check_refused(gp_sm_stage_request(NULL, GP_SM_CURRENT, "v2", NULL, &b), &b);
}

static void
test_tag_and_delete_request(void **state)
{
	struct gp_buf b = {0};

	check_body(gp_sm_tag_request("s", "prod", "k", &b), &b,
		   "{\"SecretId\":\"s\",\"Tags\":[{\"Key\":\"managed-by\",\"Value\":\"gprdsd\"},"
		   "{\"Key\":\"Environment\",\"Value\":\"prod\"},{\"Key\":\"Application\","
		   "\"Value\":\"k\"}]}");
	check_refused(gp_sm_tag_request("", "prod", "k", &b), &b);

	check_body(gp_sm_delete_request("s", 7, &b), &b,
		   "{\"SecretId\":\"s\",\"RecoveryWindowInDays\":7}");
	check_body(gp_sm_delete_request("s", 30, &b), &b,
		   "{\"SecretId\":\"s\",\"RecoveryWindowInDays\":30}");
	check_refused(gp_sm_delete_request("s", 6, &b), &b);
	check_refused(gp_sm_delete_request("s", 31, &b), &b);
	check_refused(gp_sm_delete_request("", 7, &b), &b);
}

/* ---------------------------------------------------------------------------------------
 * ListSecrets
 */

static const char list_page[] =
	"{\"SecretList\":["
	"{\"ARN\":\"arn:1\",\"Name\":\"goldenpath/dev/a/postgres\",\"CreatedDate\":1700000000.5,"
	" \"LastChangedDate\":\"2024-01-02T03:04:05Z\",\"SecretVersionsToStages\":"
	" {\"v1\":[\"AWSCURRENT\"]},\"Tags\":[{\"Key\":\"Environment\",\"Value\":\"dev\"},"
	" {\"Key\":\"managed-by\",\"Value\":\"gprdsd\"}]},"
	"{\"Name\":\"goldenpath/devx/b/postgres\",\"ARN\":\"arn:2\"},"
	"{\"ARN\":\"arn:3\"},"
	"{\"Name\":\"goldenpath/dev/c/postgres\",\"CreatedDate\":\"yesterday\","
	" \"LastChangedDate\":-5,\"Tags\":[{\"Key\":\"managed-by\",\"Value\":\"someone\"}]}"
	"],\"NextToken\":\"page2\"}";

static void
test_list_parse(void **state)
{
	_cleanup_(gp_observed_freep) struct gp_observed *obs = gp_observed_new();
	_cleanup_free_ char *next = NULL;
	const struct gp_obs_secret *a, *c;

	assert_int_equal(
		gp_sm_list_parse(list_page, strlen(list_page), "goldenpath/dev/", obs, &next), 0);
	assert_string_equal(next, "page2");
	/* devx/ does not have the prefix and an entry without a Name is skipped. */
	assert_int_equal(obs->n_secrets, 2);
	a = &obs->secrets[0];
	assert_string_equal(a->name, "goldenpath/dev/a/postgres");
	assert_string_equal(a->arn, "arn:1");
	assert_string_equal(a->current_version, "v1");
	assert_null(a->pending_version);
	assert_int_equal(a->created, 1700000000);
	assert_int_equal(a->changed, 1704164645);
	assert_true(a->managed);
	assert_null(a->value_json);
	c = &obs->secrets[1];
	assert_string_equal(c->name, "goldenpath/dev/c/postgres");
	assert_null(c->arn);
	assert_null(c->current_version);
	assert_int_equal(c->created, 0);
	assert_int_equal(c->changed, 0);
	assert_false(c->managed);
}

static void
test_list_parse_pages(void **state)
{
	_cleanup_(gp_observed_freep) struct gp_observed *obs = gp_observed_new();
	const char last[] = "{\"SecretList\":[{\"Name\":\"z\"}]}";
	char *next = NULL;

	/* No prefix: every named entry; a second page appends after the first. */
	assert_int_equal(gp_sm_list_parse(list_page, strlen(list_page), "", obs, &next), 0);
	assert_int_equal(obs->n_secrets, 3);
	free(next);
	next = NULL;
	assert_int_equal(gp_sm_list_parse(last, strlen(last), NULL, obs, &next), 0);
	assert_null(next);
	assert_int_equal(obs->n_secrets, 4);
	assert_string_equal(obs->secrets[3].name, "z");
	assert_int_equal(gp_sm_list_parse("{}", 2, NULL, obs, &next), 0);
	assert_int_equal(obs->n_secrets, 4);
}

static void
test_list_parse_refused(void **state)
{
	_cleanup_(gp_observed_freep) struct gp_observed *obs = gp_observed_new();
	char *next = (char *)"untouched";

	assert_int_equal(gp_sm_list_parse("[]", 2, NULL, obs, &next), -EBADMSG);
	assert_int_equal(gp_sm_list_parse("<html>", 6, NULL, obs, &next), -EBADMSG);
	assert_int_equal(gp_sm_list_parse("", 0, NULL, obs, &next), -EBADMSG);
	assert_int_equal(gp_sm_list_parse(NULL, 0, NULL, obs, &next), -EBADMSG);
	/* Only len bytes are read: the object is cut short. */
	assert_int_equal(gp_sm_list_parse(list_page, 20, NULL, obs, &next), -EBADMSG);
	assert_string_equal(next, "untouched");
	assert_int_equal(obs->n_secrets, 0);
}

/* ---------------------------------------------------------------------------------------
 * Values
 */

static void
test_value_parse(void **state)
{
	const char body[] = "{\"ARN\":\"arn:1\",\"Name\":\"s\",\"VersionId\":\"v1\","
			    "\"SecretString\":\"{\\\"password\\\":\\\"pw\\\"}\","
			    "\"VersionStages\":[\"AWSCURRENT\"],\"CreatedDate\":1.5}";
	const char binary[] = "{\"Name\":\"s\",\"VersionId\":\"v9\"}";
	struct gp_sm_value v;

	assert_int_equal(gp_sm_value_parse(body, strlen(body), &v), 0);
	assert_string_equal(v.name, "s");
	assert_string_equal(v.version_id, "v1");
	assert_string_equal(v.secret_string, "{\"password\":\"pw\"}");
	assert_string_equal(v.labels.current, "v1");
	assert_null(v.labels.pending);
	gp_sm_value_release(&v);
	assert_null(v.name);

	/* A binary secret, and CreateSecret's answer: what is absent stays NULL. */
	assert_int_equal(gp_sm_value_parse(binary, strlen(binary), &v), 0);
	assert_null(v.secret_string);
	assert_string_equal(v.version_id, "v9");
	gp_sm_value_release(&v);
	assert_int_equal(gp_sm_value_parse("{\"VersionId\":5}", 15, &v), 0);
	assert_null(v.version_id);
	gp_sm_value_release(&v);
	assert_int_equal(gp_sm_value_parse("null", 4, &v), -EBADMSG);
}

static const char batch_page[] =
	"{\"SecretValues\":["
	"{\"Name\":\"a\",\"VersionId\":\"va\",\"SecretString\":\"{}\","
	" \"VersionStages\":[\"AWSCURRENT\"]},"
	"{\"Name\":\"b\",\"VersionId\":\"vb\",\"SecretString\":\"{\\\"x\\\":1}\","
	" \"VersionStages\":[\"AWSPENDING\"]},"
	"{\"Name\":\"c\",\"VersionId\":\"vc\",\"SecretBinary\":\"AAAA\","
	" \"VersionStages\":[\"AWSCURRENT\"]}"
	"],\"Errors\":["
	"{\"SecretId\":\"d\",\"ErrorCode\":\"ResourceNotFoundException\",\"Message\":\"gone\"},"
	"{\"SecretId\":\"e\",\"ErrorCode\":\"ThrottlingException\"},"
	"{\"Message\":\"?\"}"
	"],\"NextToken\":\"more\"}";

static void
test_batch_parse(void **state)
{
	_cleanup_(gp_sm_batch_release) struct gp_sm_batch b = {0};

	assert_int_equal(gp_sm_batch_parse(batch_page, strlen(batch_page), &b), 0);
	assert_int_equal(b.n_values, 3);
	assert_string_equal(b.values[0].name, "a");
	assert_string_equal(b.values[0].secret_string, "{}");
	assert_int_equal(gp_sm_value_state(&b.values[0]), GP_SM_LABELS_NO_PENDING);
	assert_string_equal(b.values[1].secret_string, "{\"x\":1}");
	assert_int_equal(gp_sm_value_state(&b.values[1]), GP_SM_LABELS_VALUE_NOT_CURRENT);
	assert_string_equal(b.values[1].labels.pending, "vb");
	assert_null(b.values[2].secret_string);

	assert_int_equal(b.n_errors, 3);
	assert_string_equal(b.errors[0].secret_id, "d");
	assert_string_equal(b.errors[0].code, "ResourceNotFoundException");
	assert_string_equal(b.errors[0].message, "gone");
	assert_string_equal(b.errors[1].code, "ThrottlingException");
	assert_null(b.errors[1].message);
	assert_true(gp_sm_code_transient(b.errors[1].code));
	assert_false(gp_sm_code_transient(b.errors[0].code));
	assert_null(b.errors[2].secret_id);
	assert_string_equal(b.errors[2].code, "UnknownError");
	assert_string_equal(b.next, "more");
}

static void
test_batch_parse_empty(void **state)
{
	_cleanup_(gp_sm_batch_release) struct gp_sm_batch b = {0};

	assert_int_equal(gp_sm_batch_parse("{\"SecretValues\":[],\"Errors\":{}}", 31, &b), 0);
	assert_int_equal(b.n_values, 0);
	assert_null(b.values);
	assert_int_equal(b.n_errors, 0);
	assert_null(b.next);
	assert_int_equal(gp_sm_batch_parse("\"SecretValues\"", 14, &b), -EBADMSG);
	assert_int_equal(gp_sm_batch_parse("{\"SecretValues\":[", 17, &b), -EBADMSG);
}

/* ---------------------------------------------------------------------------------------
 * Errors
 */

#define XML_DENIED                                                                                 \
	"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"                       \
	"<Message>User is not authorized</Message></Error></ErrorResponse>"

/* One answer that was not HTTP 200 and its expected class. */
struct error_case {
	long status;
	const char *body; /* NULL: none */
	int expect;
	const char *code, *message;
	bool throttled, transient, renew;
};

static const struct error_case error_cases[] = {
	{400,
	 "{\"__type\":\"com.amazonaws.secretsmanager#ThrottlingException\","
	 "\"message\":\"Rate exceeded\"}",
	 -EIO, "ThrottlingException", "Rate exceeded", true, true, false},
	{429, NULL, -EIO, "UnknownError", "HTTP 429 without an AWS error body", true, true, false},
	{500, "", -EIO, "UnknownError", "HTTP 500 without an AWS error body", false, true, false},
	{503, "{\"__type\":\"ServiceUnavailable\"}", -EIO, "ServiceUnavailable", "HTTP 503", false,
	 true, false},
	/* A server error type is transient whatever the status says. */
	{400, "{\"__type\":\"InternalServiceError\",\"Message\":\"oops\"}", -EIO,
	 "InternalServiceError", "oops", false, true, false},
	{400, "{\"__type\":\"ResourceNotFoundException\",\"message\":\"no such secret\"}", -ENOENT,
	 "ResourceNotFoundException", "no such secret", false, false, false},
	{400, "{\"__type\":\"ResourceExistsException\"}", -EEXIST, "ResourceExistsException",
	 "HTTP 400", false, false, false},
	{400, "{\"__type\":\"ValidationException\",\"message\":\"bad\"}", -EIO,
	 "ValidationException", "bad", false, false, false},
	{400, "{\"__type\":\"AccessDeniedException\"}", -EACCES, "AccessDeniedException",
	 "HTTP 400", false, false, false},
	{403, "{}", -EACCES, "UnknownError", "HTTP 403 without an AWS error body", false, false,
	 false},
	{404, "not json, not xml", -EIO, "UnknownError", "HTTP 404 without an AWS error body",
	 false, false, false},
	/* Cached credentials ran out early: worth a retry once new ones are fetched. */
	{400, "{\"__type\":\"ExpiredTokenException\",\"message\":\"expired\"}", -EACCES,
	 "ExpiredTokenException", "expired", false, true, true},
	{403, XML_DENIED, -EACCES, "AccessDenied", "User is not authorized", false, false, false},
	{503, "<Error><Code>Throttling</Code></Error>", -EIO, "Throttling", "HTTP 503", true, true,
	 false},
};

static void
test_error_classes(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
		const struct error_case *c = &error_cases[i];
		size_t len = c->body ? strlen(c->body) : 0;
		struct gp_sm_error e;

		print_message("case %zu: HTTP %ld %s\n", i, c->status, c->body ? c->body : "-");
		assert_int_equal(gp_sm_error_classify(c->status, c->body, len, &e), c->expect);
		assert_int_equal(e.http_status, c->status);
		assert_string_equal(e.code, c->code);
		assert_string_equal(e.message, c->message);
		assert_int_equal(e.throttled, c->throttled);
		assert_int_equal(e.transient, c->transient);
		assert_int_equal(e.renew_credentials, c->renew);
	}
	assert_true(gp_sm_code_transient("TooManyRequestsException"));
	assert_true(gp_sm_code_transient("InternalFailure"));
	assert_false(gp_sm_code_transient("ResourceNotFoundException"));
	assert_false(gp_sm_code_transient(NULL));
}

/* Only len bytes of a body are read: a closing tag beyond them is not seen. */
static void
test_error_reads_len_only(void **state)
{
	const char body[] = XML_DENIED;
	struct gp_sm_error e;

	assert_int_equal(gp_sm_error_classify(403, body, strstr(body, "</Code>") - body, &e),
			 -EACCES);
	assert_string_equal(e.code, "UnknownError");
	assert_int_equal(gp_sm_error_classify(400, body, strstr(body, "</Code>") + 7 - body, &e),
			 -EACCES);
	assert_string_equal(e.code, "AccessDenied");
	assert_string_equal(e.message, "HTTP 400");
}

static void
test_error_cut_to_fit(void **state)
{
	_cleanup_free_ char *body = NULL;
	char code[100], msg[1000];
	struct gp_sm_error e;

	memset(code, 'C', sizeof(code) - 1);
	code[sizeof(code) - 1] = '\0';
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	body = gp_strprintf("{\"__type\":\"a#b#%s\",\"message\":\"%s\"}", code, msg);
	assert_non_null(body);
	assert_int_equal(gp_sm_error_classify(400, body, strlen(body), &e), -EIO);
	assert_int_equal(strlen(e.code), GP_SM_CODE_MAX - 1);
	assert_int_equal(strlen(e.message), GP_SM_MESSAGE_MAX - 1);
	assert_int_equal(e.code[0], 'C');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels_no_pending),
		cmocka_unit_test(test_labels_pending_differs),
		cmocka_unit_test(test_labels_pending_is_current),
		cmocka_unit_test(test_labels_no_current),
		cmocka_unit_test(test_labels_first_wins),
		cmocka_unit_test(test_value_without_current),
		cmocka_unit_test(test_label_state_strings),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_list_request),
		cmocka_unit_test(test_batch_request),
		cmocka_unit_test(test_get_request),
		cmocka_unit_test(test_create_request),
		cmocka_unit_test(test_put_request),
		cmocka_unit_test(test_stage_request),
		cmocka_unit_test(test_tag_and_delete_request),
		cmocka_unit_test(test_list_parse),
		cmocka_unit_test(test_list_parse_pages),
		cmocka_unit_test(test_list_parse_refused),
		cmocka_unit_test(test_value_parse),
		cmocka_unit_test(test_batch_parse),
		cmocka_unit_test(test_batch_parse_empty),
		cmocka_unit_test(test_error_classes),
		cmocka_unit_test(test_error_reads_len_only),
		cmocka_unit_test(test_error_cut_to_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
