/*
 * sm.c — Secrets Manager client: JSON 1.1 requests over one libcurl easy handle, SigV4 signing
 * by libcurl, retries with full-jitter backoff, pacing of writes, and the few operations
 * gprdsd needs, mapped onto struct gp_obs_secret.
 *
 * Deliberately not here: deciding what to create or rotate (plan.c), the secret's JSON shape
 * (lib/secret.c), credentials (aws_creds.c) and logging (the pass logs what it decides). Bodies
 * that may carry a secret value are built, received and parsed in buffers that are wiped
 * before they are freed; error texts are built from AWS's error type and message only.
 */
#include "sm.h"
#include "model/names.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "aws_creds.h"
#include "codec/secret.h"

#define MAX_ATTEMPTS 4
#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 5000
#define CONNECT_TIMEOUT_MAX_MS 3000
#define DEFAULT_TIMEOUT_MS 10000
#define LIST_PAGE 100
#define BATCH_MAX 20

struct gpd_sm {
	CURL *curl;
	struct gpd_aws_provider *creds;
	char *url;
	char *sigv4; /* "aws:amz:<region>:secretsmanager" */
	uint64_t write_interval_ms;
	uint64_t last_write_ms; /* CLOCK_MONOTONIC when the last write started */
	bool wrote;
	unsigned calls, throttles, errors;
	char curl_err[CURL_ERROR_SIZE];
};

static atomic_ulong calls_ended; /* every client's, for the watchdog */

unsigned long
gpd_sm_calls_ended(void)
{
	return atomic_load_explicit(&calls_ended, memory_order_relaxed);
}

static void set_error(struct gpd_error *err, const char *code, bool transient, const char *fmt,
		      ...) _printf_(4, 5);

static void
set_error(struct gpd_error *err, const char *code, bool transient, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->code, sizeof(err->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	err->transient = transient;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
sleep_ms(uint64_t ms)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---------------------------------------------------------------------------------------
 * Life cycle
 */

static const char *
region_of(const struct gpd_sm_opts *o)
{
	const char *env = getenv("AWS_REGION");

	if (!gp_isempty(o->region))
		return o->region;
	if (!gp_isempty(env))
		return env;
	env = getenv("AWS_DEFAULT_REGION");
	return gp_isempty(env) ? NULL : env;
}

static void
setup_curl(struct gpd_sm *sm, uint64_t timeout_ms)
{
	uint64_t connect_ms = timeout_ms;
	CURL *c = sm->curl;

	if (connect_ms > CONNECT_TIMEOUT_MAX_MS)
		connect_ms = CONNECT_TIMEOUT_MAX_MS;

	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, sm->curl_err);
	curl_easy_setopt(c, CURLOPT_URL, sm->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "gprdsd/" GPRDSD_VERSION);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sm->sigv4);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, gpd_aws_curl_write_secure);
}

int
gpd_sm_new(const struct gpd_sm_opts *o, struct gpd_sm **ret)
{
	_cleanup_(gpd_sm_freep) struct gpd_sm *sm = NULL;
	const char *region = region_of(o);
	uint64_t timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	int r;

	if (!region || timeout_ms > LONG_MAX)
		return -EINVAL;
	sm = calloc(1, sizeof(*sm));
	if (!sm)
		return -ENOMEM;
	if (!gp_isempty(o->endpoint))
		sm->url = strdup(o->endpoint);
	else
		sm->url = gp_strprintf("https://secretsmanager.%s.amazonaws.com", region);
	sm->sigv4 = gp_strprintf("aws:amz:%s:secretsmanager", region);
	sm->curl = curl_easy_init();
	if (!sm->url || !sm->sigv4 || !sm->curl)
		return -ENOMEM;
	r = gpd_aws_provider_new(o->profile, &sm->creds);
	if (r < 0)
		return r;
	sm->write_interval_ms = o->write_interval_ms;
	setup_curl(sm, timeout_ms);
	*ret = TAKE_PTR(sm);
	return 0;
}

void
gpd_sm_free(struct gpd_sm *sm)
{
	if (!sm)
		return;
	if (sm->curl)
		curl_easy_cleanup(sm->curl);
	gpd_aws_provider_free(sm->creds);
	free(sm->url);
	free(sm->sigv4);
	free(sm);
}

void
gpd_sm_stats(const struct gpd_sm *sm, unsigned *calls, unsigned *throttles, unsigned *errors)
{
	if (calls)
		*calls = sm->calls;
	if (throttles)
		*throttles = sm->throttles;
	if (errors)
		*errors = sm->errors;
}

/* ---------------------------------------------------------------------------------------
 * One request, with its errors mapped
 */

static int
transport_error(CURLcode cc, const char *detail, struct gpd_error *err)
{
	const char *msg = *detail ? detail : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		set_error(err, "ConnectionRefused", true, "%s", msg);
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		set_error(err, "Timeout", true, "%s", msg);
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		set_error(err, "DnsError", true, "%s", msg);
		return -EHOSTUNREACH;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		set_error(err, "TLSError", false, "%s", msg);
		return -EPROTO;
	case CURLE_WRITE_ERROR:
		set_error(err, "ResponseTooLarge", false, "response larger than 32 MiB");
		return -EFBIG;
	case CURLE_OUT_OF_MEMORY:
		set_error(err, "NetworkError", false, "%s", msg);
		return -ENOMEM;
	default:
		set_error(err, "NetworkError", true, "%s", msg);
		return -EIO;
	}
}

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

/* The text of <tag>...</tag> in an XML error body (IAM-style answers from some front ends). */
static void
xml_field(const char *body, const char *tag, char *out, size_t len)
{
	char open[16], close[16];
	const char *a, *b;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = strstr(body, open);
	b = a ? strstr(a + strlen(open), close) : NULL;
	if (b)
		snprintf(out, len, "%.*s", (int)(b - a - strlen(open)), a + strlen(open));
}

/*
 * Fills err->code and err->message from an AWS error body (JSON 1.1: __type and message or
 * Message; else XML <Code> and <Message>). Nothing else of the body is kept.
 */
static void
parse_aws_error(const char *body, struct gpd_error *err)
{
	cJSON *root = cJSON_Parse(body ? body : "");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "__type");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
	const char *hash;

	if (!cJSON_IsString(msg))
		msg = cJSON_GetObjectItemCaseSensitive(root, "Message");
	if (cJSON_IsString(type)) {
		hash = strrchr(type->valuestring, '#');
		snprintf(err->code, sizeof(err->code), "%s", hash ? hash + 1 : type->valuestring);
	}
	if (cJSON_IsString(msg))
		snprintf(err->message, sizeof(err->message), "%s", msg->valuestring);
	gp_secret_json_delete(root);
	if (!root && body) {
		xml_field(body, "Code", err->code, sizeof(err->code));
		xml_field(body, "Message", err->message, sizeof(err->message));
	}
	if (!err->code[0])
		snprintf(err->code, sizeof(err->code), "UnknownError");
}

static int
aws_error(struct gpd_sm *sm, long status, const char *body, struct gpd_error *err)
{
	bool throttled;

	parse_aws_error(body, err);
	if (!err->message[0])
		snprintf(err->message, sizeof(err->message), "HTTP %ld%s", status,
			 strcmp(err->code, "UnknownError") == 0 ? " without an AWS error body" : "");
	throttled = status == 429 || code_in(err->code, throttling_codes);
	if (throttled)
		sm->throttles++;
	err->transient = throttled || status >= 500 || code_in(err->code, server_codes);
	if (strcmp(err->code, "ExpiredTokenException") == 0) {
		/* Cached instance credentials ran out early: fetch new ones and try again. */
		gpd_aws_creds_invalidate(sm->creds);
		err->transient = true;
	}
	if (strcmp(err->code, "ResourceNotFoundException") == 0)
		return -ENOENT;
	if (strcmp(err->code, "ResourceExistsException") == 0)
		return -EEXIST;
	if (code_in(err->code, auth_codes) || status == 403)
		return -EACCES;
	return -EIO;
}

static int
credentials_error(int r, const char *text, struct gpd_error *err)
{
	bool transient = r == -ETIMEDOUT || r == -ECONNREFUSED || r == -EIO;

	set_error(err, "NoCredentials", transient, "%s", text ? text : strerror(-r));
	return r == -ENOMEM ? r : transient ? r : -EACCES;
}

/* Sleeps until opts.write_interval_ms has passed since the last write started. */
static void
pace_write(struct gpd_sm *sm)
{
	uint64_t now = now_ms();

	if (sm->wrote && now - sm->last_write_ms < sm->write_interval_ms)
		sleep_ms(sm->write_interval_ms - (now - sm->last_write_ms));
	sm->last_write_ms = now_ms();
	sm->wrote = true;
}

static struct curl_slist *
request_headers(const char *op, const struct gpd_aws_creds *c)
{
	_cleanup_secret_ char *target = gp_strprintf("X-Amz-Target: secretsmanager.%s", op);
	_cleanup_secret_ char *token = NULL;
	struct curl_slist *h = NULL, *t;

	if (c->session_token) {
		token = gp_strprintf("X-Amz-Security-Token: %s", c->session_token);
		if (!token)
			return NULL;
	}
	if (!target)
		return NULL;
	h = curl_slist_append(h, "Content-Type: application/x-amz-json-1.1");
	/*
	 * No "Expect:" override here: libcurl would list the (unsent) header among the signed
	 * ones and AWS would reject the signature.
	 */
	t = h ? curl_slist_append(h, target) : NULL;
	if (t && token)
		t = curl_slist_append(t, token);
	if (!t)
		curl_slist_free_all(h);
	return t;
}

/* The header list may hold the session token: wipe it before curl frees it. */
static void
free_headers(struct curl_slist *h)
{
	for (struct curl_slist *i = h; i; i = i->next)
		explicit_bzero(i->data, strlen(i->data));
	curl_slist_free_all(h);
}

static int
set_credentials(struct gpd_sm *sm, const struct gpd_aws_creds *c)
{
	char *userpwd = gp_strprintf("%s:%s", c->access_key_id, c->secret_access_key);
	CURLcode cc;

	if (!userpwd)
		return -ENOMEM;
	cc = curl_easy_setopt(sm->curl, CURLOPT_USERPWD, userpwd);
	/* curl keeps its own copy; ours is wiped at once. */
	gp_secret_free_string(userpwd);
	return cc == CURLE_OK ? 0 : -ENOMEM;
}

/* One HTTP attempt. resp receives the body of a 200 response. */
static int
sm_attempt(struct gpd_sm *sm, const char *op, const struct gp_buf *req, bool write,
	   struct gp_buf *resp, struct gpd_error *err)
{
	_cleanup_free_ char *cerr = NULL;
	const struct gpd_aws_creds *c;
	struct curl_slist *headers;
	CURLcode cc;
	int r;

	r = gpd_aws_creds_get(sm->creds, &c, &cerr);
	if (r < 0)
		return credentials_error(r, cerr, err);
	headers = request_headers(op, c);
	if (!headers || set_credentials(sm, c) < 0) {
		free_headers(headers);
		return -ENOMEM;
	}
	if (write)
		pace_write(sm);
	curl_easy_setopt(sm->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(sm->curl, CURLOPT_POSTFIELDS, req->p);
	curl_easy_setopt(sm->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
	curl_easy_setopt(sm->curl, CURLOPT_WRITEDATA, resp);
	sm->curl_err[0] = '\0';
	sm->calls++;
	cc = curl_easy_perform(sm->curl);
	atomic_fetch_add_explicit(&calls_ended, 1, memory_order_relaxed);
	curl_easy_getinfo(sm->curl, CURLINFO_RESPONSE_CODE, &err->http_status);
	/* Nothing secret stays referenced by the handle between calls. */
	curl_easy_setopt(sm->curl, CURLOPT_USERPWD, NULL);
	curl_easy_setopt(sm->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(sm->curl, CURLOPT_POSTFIELDS, NULL);
	free_headers(headers);
	if (cc != CURLE_OK)
		return transport_error(cc, sm->curl_err, err);
	if (err->http_status == 200)
		return 0;
	return aws_error(sm, err->http_status, resp->p, err);
}

/* Full jitter: a uniform delay in [0, min(cap, base * 2^(attempt-1))]. */
static void
backoff(unsigned attempt)
{
	uint64_t ceiling = (uint64_t)BACKOFF_BASE_MS << (attempt - 1);
	uint32_t rnd;

	if (ceiling > BACKOFF_CAP_MS)
		ceiling = BACKOFF_CAP_MS;
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = UINT32_MAX / 2;
	sleep_ms((uint64_t)rnd % (ceiling + 1));
}

/*
 * Calls op with body (printed once, so retries resend the same bytes, ClientRequestToken
 * included) and returns the parsed response in *ret (free with gp_secret_json_delete()).
 */
static int
sm_call(struct gpd_sm *sm, const char *op, const cJSON *body, bool write, cJSON **ret,
	struct gpd_error *err)
{
	_cleanup_(gp_buf_release_secure) struct gp_buf req = {0}, resp = {0};
	cJSON *root;
	int r;

	r = gp_secret_json_print(body, &req);
	if (r < 0)
		return r;
	for (unsigned attempt = 1;; attempt++) {
		*err = (struct gpd_error){0};
		r = sm_attempt(sm, op, &req, write, &resp, err);
		if (r >= 0 || !err->transient || attempt == MAX_ATTEMPTS)
			break;
		gp_buf_release_secure(&resp);
		backoff(attempt);
	}
	if (r < 0) {
		sm->errors++;
		return r;
	}
	root = cJSON_Parse(resp.p ? resp.p : "");
	if (!cJSON_IsObject(root)) {
		gp_secret_json_delete(root);
		sm->errors++;
		set_error(err, "InvalidResponse", false, "%s: response is not a JSON object", op);
		return -EIO;
	}
	*ret = root;
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Building requests and reading responses
 */

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

static const char *
json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
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
add_str(cJSON *obj, const char *key, const char *value)
{
	return cJSON_AddStringToObject(obj, key, value) != NULL;
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

/* A random UUID v4 from OpenSSL's CSPRNG, for ClientRequestToken. */
static bool
add_request_token(cJSON *obj)
{
	uint8_t b[16];
	char s[37];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return false;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(s, sizeof(s),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return add_str(obj, "ClientRequestToken", s);
}

static bool
obs_secret_managed(const cJSON *tags)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, tags)
		if (gp_secret_tag_marks(json_str(t, "Key"), json_str(t, "Value")))
			return true;
	return false;
}

static void
obs_secret_release(struct gp_obs_secret *s)
{
	free(s->name);
	free(s->arn);
	free(s->current_version);
	free(s->pending_version);
	gp_secret_free_string(s->value_json);
	*s = (struct gp_obs_secret){0};
}

/* current/pending version ids from {"<version id>": ["AWSCURRENT", ...], ...}. */
static int
parse_stages(const cJSON *stages, struct gp_obs_secret *s)
{
	const cJSON *v, *label;

	cJSON_ArrayForEach(v, stages) {
		cJSON_ArrayForEach(label, v) {
			char **dst = NULL;

			if (gp_streq(cJSON_GetStringValue(label), "AWSCURRENT"))
				dst = &s->current_version;
			else if (gp_streq(cJSON_GetStringValue(label), "AWSPENDING"))
				dst = &s->pending_version;
			if (!dst || *dst || !v->string)
				continue;
			*dst = strdup(v->string);
			if (!*dst)
				return -ENOMEM;
		}
	}
	return 0;
}

static int
obs_append(struct gp_observed *obs, struct gp_obs_secret *s)
{
	struct gp_obs_secret *v = realloc(obs->secrets, (obs->n_secrets + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	obs->secrets = v;
	v[obs->n_secrets++] = *s;
	*s = (struct gp_obs_secret){0};
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * ListSecrets
 */

static int
list_entry(const cJSON *e, const char *prefix, struct gp_observed *obs)
{
	_cleanup_(obs_secret_release) struct gp_obs_secret s = {0};
	const char *name = json_str(e, "Name");
	int r;

	if (!name || (prefix && strncmp(name, prefix, strlen(prefix)) != 0))
		return 0;
	s.name = strdup(name);
	s.arn = gp_strdup0(json_str(e, "ARN"));
	if (!s.name || (json_str(e, "ARN") && !s.arn))
		return -ENOMEM;
	r = parse_stages(cJSON_GetObjectItemCaseSensitive(e, "SecretVersionsToStages"), &s);
	if (r < 0)
		return r;
	s.created = json_time(e, "CreatedDate");
	s.changed = json_time(e, "LastChangedDate");
	s.managed = obs_secret_managed(cJSON_GetObjectItemCaseSensitive(e, "Tags"));
	return obs_append(obs, &s);
}

static cJSON *
list_request(const char *prefix, const char *next)
{
	_cleanup_json_ cJSON *body = cJSON_CreateObject();
	cJSON *filters, *f, *values;

	if (!body || !cJSON_AddNumberToObject(body, "MaxResults", LIST_PAGE))
		return NULL;
	if (next && !add_str(body, "NextToken", next))
		return NULL;
	if (!prefix)
		return TAKE_PTR(body);
	filters = cJSON_AddArrayToObject(body, "Filters");
	f = cJSON_CreateObject();
	if (!filters || !f || !cJSON_AddItemToArray(filters, f))
		return cJSON_Delete(f), NULL;
	values = cJSON_AddArrayToObject(f, "Values");
	if (!add_str(f, "Key", "name") || !values ||
	    !cJSON_AddItemToArray(values, cJSON_CreateString(prefix)))
		return NULL;
	return TAKE_PTR(body);
}

int
gpd_sm_list(struct gpd_sm *sm, const char *name_prefix, struct gp_observed *obs,
	    struct gpd_error *err)
{
	_cleanup_free_ char *next = NULL;
	struct gpd_error dummy;
	const char *prefix = gp_isempty(name_prefix) ? NULL : name_prefix;
	int r = 0;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	do {
		_cleanup_json_ cJSON *body = list_request(prefix, next);
		/* Names, ARNs, dates, tags and version ids: no secret value is ever listed, so the
		 * tree (a thousand secrets a pass) is freed without wiping each string. */
		_cleanup_json_ cJSON *resp = NULL;
		const cJSON *e;

		if (!body)
			return -ENOMEM;
		r = sm_call(sm, "ListSecrets", body, false, &resp, err);
		if (r < 0)
			return r;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(resp, "SecretList"))
			if ((r = list_entry(e, prefix, obs)) < 0)
				return r;
		free(next);
		next = gp_strdup0(json_str(resp, "NextToken"));
		if (json_str(resp, "NextToken") && !next)
			return -ENOMEM;
	} while (next);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * Reading values
 */

static struct gp_obs_secret *
obs_find(struct gp_observed *obs, const char *name)
{
	for (size_t i = 0; i < obs->n_secrets; i++)
		if (gp_streq(obs->secrets[i].name, name))
			return &obs->secrets[i];
	return NULL;
}

/* Notes one secret that could not be read: the first one names the error. */
static void
note_failure(unsigned *failed, const char *id, const char *code, const char *message,
	     struct gpd_error *err)
{
	if ((*failed)++ == 0) {
		set_error(err, code, false, "%s: %s", id ? id : "?", message ? message : code);
	} else if (strcmp(err->code, code) != 0) {
		snprintf(err->code, sizeof(err->code), "PartialFailure");
	}
	err->transient = err->transient || code_in(code, throttling_codes) ||
			 code_in(code, server_codes);
}

/* Stores a copy of value (wiping the previous one) and its version id on s. */
static int
set_value(struct gp_obs_secret *s, const char *value, const char *version)
{
	char *copy = strdup(value), *vcopy = gp_strdup0(version);

	if (!copy || (version && !vcopy)) {
		gp_secret_free_string(copy);
		free(vcopy);
		return -ENOMEM;
	}
	gp_secret_free_string(s->value_json);
	s->value_json = copy;
	if (vcopy) {
		free(s->current_version);
		s->current_version = vcopy;
	}
	return 0;
}

static bool
has_label(const cJSON *stages, const char *label)
{
	const cJSON *l;

	cJSON_ArrayForEach(l, stages)
		if (gp_streq(cJSON_GetStringValue(l), label))
			return true;
	return false;
}

/*
 * One entry of SecretValues. A value whose VersionStages lack AWSCURRENT is not stored but
 * its name is pushed to stale, to be read again by label: emulators (moto) answer with a
 * version that is no longer current after UpdateSecretVersionStage.
 */
static int
take_value(const cJSON *v, struct gp_observed *obs, struct gp_strv *stale, unsigned *failed,
	   struct gpd_error *err)
{
	const char *name = json_str(v, "Name"), *value = json_str(v, "SecretString");
	const cJSON *stages = cJSON_GetObjectItemCaseSensitive(v, "VersionStages");
	struct gp_obs_secret *s = name ? obs_find(obs, name) : NULL;

	if (!s)
		return 0;
	if (!value) {
		note_failure(failed, name, "InvalidResponse", "no SecretString (binary secret?)",
			     err);
		return 0;
	}
	if (cJSON_IsArray(stages) && !has_label(stages, "AWSCURRENT"))
		return gp_strv_push(stale, name);
	return set_value(s, value, json_str(v, "VersionId"));
}

/* Reads the AWSCURRENT value of each stale name with GetSecretValue. */
static int
fetch_stale(struct gpd_sm *sm, const struct gp_strv *stale, struct gp_observed *obs,
	    unsigned *failed, struct gpd_error *err)
{
	for (size_t i = 0; i < stale->n; i++) {
		_cleanup_secret_ char *json = NULL;
		_cleanup_free_ char *version = NULL;
		struct gpd_error e;
		int r;

		r = gpd_sm_get_value_stage(sm, stale->v[i], "AWSCURRENT", &json, &version, &e);
		if (r == -ENOENT || (r == -EIO && !e.transient)) {
			note_failure(failed, stale->v[i], e.code, e.message, err);
			continue;
		}
		if (r < 0) {
			*err = e;
			return r;
		}
		r = set_value(obs_find(obs, stale->v[i]), json, version);
		if (r < 0)
			return r;
	}
	return 0;
}

static cJSON *
batch_request(char *const *names, size_t n, const char *next)
{
	_cleanup_json_ cJSON *body = cJSON_CreateObject();
	cJSON *ids = body ? cJSON_AddArrayToObject(body, "SecretIdList") : NULL;

	if (!ids || (next && !add_str(body, "NextToken", next)))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!cJSON_AddItemToArray(ids, cJSON_CreateString(names[i])))
			return NULL;
	return TAKE_PTR(body);
}

/* One BatchGetSecretValue of up to 20 names, following NextToken if AWS pages it. */
static int
fetch_batch(struct gpd_sm *sm, char *const *names, size_t n, struct gp_observed *obs,
	    struct gp_strv *stale, unsigned *failed, struct gpd_error *err)
{
	_cleanup_free_ char *next = NULL;
	struct gpd_error call_err;
	int r;

	do {
		_cleanup_json_ cJSON *body = batch_request(names, n, next);
		_cleanup_json_secure_ cJSON *resp = NULL;
		const cJSON *e;

		if (!body)
			return -ENOMEM;
		r = sm_call(sm, "BatchGetSecretValue", body, false, &resp, &call_err);
		if (r < 0) {
			*err = call_err;
			return r;
		}
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(resp, "SecretValues"))
			if ((r = take_value(e, obs, stale, failed, err)) < 0)
				return r;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(resp, "Errors"))
			note_failure(failed, json_str(e, "SecretId"),
				     json_str(e, "ErrorCode") ?: "UnknownError", json_str(e, "Message"),
				     err);
		free(next);
		next = gp_strdup0(json_str(resp, "NextToken"));
		if (json_str(resp, "NextToken") && !next)
			return -ENOMEM;
	} while (next);
	return 0;
}

int
gpd_sm_fetch_values(struct gpd_sm *sm, const struct gp_strv *names, struct gp_observed *obs,
		    struct gpd_error *err)
{
	_cleanup_(gp_strv_release) struct gp_strv stale = {0};
	struct gpd_error dummy;
	unsigned failed = 0;
	int r = 0;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	for (size_t i = 0; r >= 0 && i < names->n; i += BATCH_MAX) {
		size_t n = names->n - i < BATCH_MAX ? names->n - i : BATCH_MAX;

		r = fetch_batch(sm, names->v + i, n, obs, &stale, &failed, err);
	}
	if (r >= 0)
		r = fetch_stale(sm, &stale, obs, &failed, err);
	if (r < 0)
		return r;
	if (failed > 1) {
		_cleanup_free_ char *m = gp_strprintf("%u of %zu secrets could not be read; first: %s",
						   failed, names->n, err->message);

		if (m)
			snprintf(err->message, sizeof(err->message), "%s", m);
	}
	return (int)failed;
}

int
gpd_sm_get_value_stage(struct gpd_sm *sm, const char *name, const char *stage, char **ret_json,
		       char **ret_version, struct gpd_error *err)
{
	_cleanup_json_ cJSON *body = cJSON_CreateObject();
	_cleanup_json_secure_ cJSON *resp = NULL;
	_cleanup_free_ char *version = NULL;
	struct gpd_error dummy;
	const char *value;
	char *copy;
	int r;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	/* AWSCURRENT is AWS's default; naming it also gets the right version from emulators. */
	if (!body || !add_str(body, "SecretId", name) ||
	    !add_str(body, "VersionStage", stage ? stage : "AWSCURRENT"))
		return -ENOMEM;
	r = sm_call(sm, "GetSecretValue", body, false, &resp, err);
	if (r < 0)
		return r;
	value = json_str(resp, "SecretString");
	if (!value) {
		set_error(err, "InvalidResponse", false, "%s: no SecretString (binary secret?)",
			  name);
		return -EIO;
	}
	version = gp_strdup0(json_str(resp, "VersionId"));
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	*ret_json = copy;
	if (ret_version)
		*ret_version = TAKE_PTR(version);
	return 0;
}

int
gpd_sm_get_value(struct gpd_sm *sm, const char *name, char **ret_json, struct gpd_error *err)
{
	return gpd_sm_get_value_stage(sm, name, NULL, ret_json, NULL, err);
}

/* ---------------------------------------------------------------------------------------
 * Writes
 */

/* Runs a write and hands back the response's VersionId when ret_version is not NULL. */
static int
write_call(struct gpd_sm *sm, const char *op, const cJSON *body, char **ret_version,
	   struct gpd_error *err)
{
	_cleanup_json_secure_ cJSON *resp = NULL;
	const char *version;
	int r;

	r = sm_call(sm, op, body, true, &resp, err);
	if (r < 0 || !ret_version)
		return r;
	version = json_str(resp, "VersionId");
	if (!version) {
		set_error(err, "InvalidResponse", false, "%s: response has no VersionId", op);
		return -EIO;
	}
	*ret_version = strdup(version);
	return *ret_version ? 0 : -ENOMEM;
}

int
gpd_sm_create(struct gpd_sm *sm, const char *name, const char *json, const char *kms_key_id,
	      const char *env, const char *key, char **ret_version, struct gpd_error *err)
{
	_cleanup_json_secure_ cJSON *body = cJSON_CreateObject();
	_cleanup_free_ char *desc = gp_strprintf("PostgreSQL credentials for %s in %s, managed by "
					      "gprdsd", key ? key : name, env ? env : "?");
	struct gpd_error dummy;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	if (!body || !desc || !add_str(body, "Name", name) || !add_str(body, "Description", desc) ||
	    !add_str(body, "SecretString", json) || !add_request_token(body) ||
	    (!gp_isempty(kms_key_id) && !add_str(body, "KmsKeyId", kms_key_id)) ||
	    !add_tags(body, env, key))
		return -ENOMEM;
	return write_call(sm, "CreateSecret", body, ret_version, err);
}

static int
put_value(struct gpd_sm *sm, const char *name, const char *json, const char *stage,
	  char **ret_version, struct gpd_error *err)
{
	_cleanup_json_secure_ cJSON *body = cJSON_CreateObject();
	struct gpd_error dummy;
	cJSON *stages;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	if (!body || !add_str(body, "SecretId", name) || !add_str(body, "SecretString", json) ||
	    !add_request_token(body))
		return -ENOMEM;
	if (stage) {
		stages = cJSON_AddArrayToObject(body, "VersionStages");
		if (!stages || !cJSON_AddItemToArray(stages, cJSON_CreateString(stage)))
			return -ENOMEM;
	}
	return write_call(sm, "PutSecretValue", body, ret_version, err);
}

int
gpd_sm_put_value(struct gpd_sm *sm, const char *name, const char *json, char **ret_version,
		 struct gpd_error *err)
{
	return put_value(sm, name, json, NULL, ret_version, err);
}

int
gpd_sm_put_pending(struct gpd_sm *sm, const char *name, const char *json, char **ret_version,
		   struct gpd_error *err)
{
	return put_value(sm, name, json, "AWSPENDING", ret_version, err);
}

static int
update_stage(struct gpd_sm *sm, const char *name, const char *stage, const char *move_to,
	     const char *remove_from, struct gpd_error *err)
{
	_cleanup_json_ cJSON *body = cJSON_CreateObject();

	if (!body || !add_str(body, "SecretId", name) || !add_str(body, "VersionStage", stage) ||
	    (move_to && !add_str(body, "MoveToVersionId", move_to)) ||
	    (remove_from && !add_str(body, "RemoveFromVersionId", remove_from)))
		return -ENOMEM;
	return write_call(sm, "UpdateSecretVersionStage", body, NULL, err);
}

int
gpd_sm_promote(struct gpd_sm *sm, const char *name, const char *version,
	       const char *current_version, struct gpd_error *err)
{
	struct gpd_error dummy;
	int r;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	if (!gp_streq(version, current_version)) {
		r = update_stage(sm, name, "AWSCURRENT", version, current_version, err);
		if (r < 0)
			return r;
	}
	return update_stage(sm, name, "AWSPENDING", NULL, version, err);
}

int
gpd_sm_tag(struct gpd_sm *sm, const char *name, const char *env, const char *key,
	   struct gpd_error *err)
{
	_cleanup_json_ cJSON *body = cJSON_CreateObject();
	struct gpd_error dummy;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	if (!body || !add_str(body, "SecretId", name) || !add_tags(body, env, key))
		return -ENOMEM;
	return write_call(sm, "TagResource", body, NULL, err);
}

int
gpd_sm_delete(struct gpd_sm *sm, const char *name, unsigned recovery_days,
	      struct gpd_error *err)
{
	_cleanup_json_ cJSON *body = cJSON_CreateObject();
	struct gpd_error dummy;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	if (recovery_days < 7 || recovery_days > 30) {
		set_error(err, "InvalidParameter", false, "recovery window of %u days is not in 7..30",
			  recovery_days);
		return -EINVAL;
	}
	if (!body || !add_str(body, "SecretId", name) ||
	    !cJSON_AddNumberToObject(body, "RecoveryWindowInDays", recovery_days))
		return -ENOMEM;
	return write_call(sm, "DeleteSecret", body, NULL, err);
}
