/*
 * sm.c — Secrets Manager client: sends the JSON 1.1 bodies lib/codec/sm_wire.c builds over one
 * libcurl easy handle, SigV4 signing by libcurl, retries with full-jitter backoff, pacing of
 * writes, random ClientRequestTokens, and the few operations gprdsd needs, mapped onto
 * struct gp_obs_secret with sm_wire's parsers.
 *
 * Deliberately not here: the bytes of any request or answer and the classes of errors
 * (codec/sm_wire.c), deciding what to create or rotate (the planner), the secret's JSON shape
 * (codec/secret.c), credentials (aws_creds.c) and logging (the pass logs what it decides).
 * Bodies that may carry a secret value are sent and received in buffers that are wiped before
 * they are freed; error texts are built from AWS's error type and message only.
 */
#include "sm.h"
#include "model/names.h"

#include <curl/curl.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "aws_creds.h"
#include "codec/secret.h"
#include "codec/sm_wire.h"

#define MAX_ATTEMPTS 4
#define BACKOFF_BASE_MS 500
#define BACKOFF_CAP_MS 5000
#define CONNECT_TIMEOUT_MAX_MS 3000
#define DEFAULT_TIMEOUT_MS 10000

struct gpd_sm {
	CURL *curl;
	struct gpd_aws_provider *creds;
	char *url;
	char *sigv4; /* "aws:amz:<region>:secretsmanager" */
	uint64_t write_interval_ms;
	uint64_t last_write_ms; /* CLOCK_MONOTONIC when the last write started */
	bool wrote;
	bool down;          /* a call found the endpoint not answering: no more calls this pass */
	char down_code[64];
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

/* Copies sm_wire's class of an AWS error answer into err, and acts on what it says. */
static int
aws_error(struct gpd_sm *sm, long status, const struct gp_buf *body, struct gpd_error *err)
{
	struct gp_sm_error e;
	int r = gp_sm_error_classify(status, body->p, body->len, &e);

	if (e.throttled)
		sm->throttles++;
	/* Cached instance credentials ran out early: fetch new ones before the retry. */
	if (e.renew_credentials)
		gpd_aws_creds_invalidate(sm->creds);
	set_error(err, e.code, e.transient, "%s", e.message);
	return r;
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
	return aws_error(sm, err->http_status, resp, err);
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
 * Sends req (the same bytes on every retry, ClientRequestToken included) as op. resp (pass it
 * empty; release it with gp_buf_release_secure()) receives the body of the 200 answer.
 */
static int
sm_call(struct gpd_sm *sm, const char *op, const struct gp_buf *req, bool write,
	struct gp_buf *resp, struct gpd_error *err)
{
	int r;

	if (sm->down) {
		/* Each call is bounded, a pass is not: once the endpoint stopped answering, the
		 * rest of the pass does not wait for it again, call after call. */
		set_error(err, "Unavailable", true,
			  "%s: Secrets Manager did not answer earlier in this pass (%s); not asked "
			  "again until the next pass", op, sm->down_code);
		sm->errors++;
		return -ETIMEDOUT;
	}
	for (unsigned attempt = 1;; attempt++) {
		*err = (struct gpd_error){0};
		r = sm_attempt(sm, op, req, write, resp, err);
		if (r >= 0 || !err->transient || attempt == MAX_ATTEMPTS)
			break;
		gp_buf_release_secure(resp);
		backoff(attempt);
	}
	if (r < 0) {
		sm->errors++;
		if (gpd_code_unreachable(err->code)) {
			sm->down = true;
			snprintf(sm->down_code, sizeof(sm->down_code), "%s", err->code);
		}
	}
	return r;
}

/* A parser refused a 200 answer (r): it is not what the API documents. */
static int
bad_answer(struct gpd_sm *sm, const char *op, int r, struct gpd_error *err)
{
	if (r == -ENOMEM)
		return r;
	sm->errors++;
	set_error(err, "InvalidResponse", false, "%s: response is not a JSON object", op);
	return -EIO;
}

/* A random ClientRequestToken (UUID v4) from OpenSSL's CSPRNG; -ENOMEM when it fails. */
static int
request_token(char out[static GP_SM_TOKEN_LEN + 1])
{
	uint8_t b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -ENOMEM;
	gp_sm_token_format(b, out);
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * ListSecrets
 */

int
gpd_sm_list(struct gpd_sm *sm, const char *name_prefix, struct gp_observed *obs,
	    struct gpd_error *err)
{
	_cleanup_free_ char *next = NULL;
	struct gpd_error dummy;
	int r;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	do {
		_cleanup_(gp_buf_release) struct gp_buf req = {0};
		_cleanup_(gp_buf_release_secure) struct gp_buf resp = {0};
		_cleanup_free_ char *token = TAKE_PTR(next);

		r = gp_sm_list_request(name_prefix, token, &req);
		r = r ?: sm_call(sm, "ListSecrets", &req, false, &resp, err);
		if (r < 0)
			return r;
		r = gp_sm_list_parse(resp.p, resp.len, name_prefix, obs, &next);
		if (r < 0)
			return bad_answer(sm, "ListSecrets", r, err);
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
	err->transient = err->transient || gp_sm_code_transient(code);
}

/* Hands *value and *version (when not NULL) over to s, wiping the value s held. */
static void
set_value(struct gp_obs_secret *s, char **value, char **version)
{
	gp_secret_free_string(s->value_json);
	s->value_json = TAKE_PTR(*value);
	if (*version) {
		free(s->current_version);
		s->current_version = TAKE_PTR(*version);
	}
}

/*
 * One entry of SecretValues. A value that does not carry AWSCURRENT is not stored but its name
 * is pushed to stale, to be read again by label: emulators (moto) answer with a version that is
 * no longer current after UpdateSecretVersionStage.
 */
static int
take_value(struct gp_sm_value *v, struct gp_observed *obs, struct gp_strv *stale, unsigned *failed,
	   struct gpd_error *err)
{
	struct gp_obs_secret *s = v->name ? obs_find(obs, v->name) : NULL;

	if (!s)
		return 0;
	if (!v->secret_string) {
		note_failure(failed, v->name, "InvalidResponse", "no SecretString (binary secret?)",
			     err);
		return 0;
	}
	if (gp_sm_value_state(v) == GP_SM_LABELS_VALUE_NOT_CURRENT)
		return gp_strv_push(stale, v->name);
	set_value(s, &v->secret_string, &v->version_id);
	return 0;
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

		r = gpd_sm_get_value_stage(sm, stale->v[i], GP_SM_CURRENT, &json, &version, &e);
		if (r == -ENOENT || (r == -EIO && !e.transient)) {
			note_failure(failed, stale->v[i], e.code, e.message, err);
			continue;
		}
		if (r < 0) {
			*err = e;
			return r;
		}
		set_value(obs_find(obs, stale->v[i]), &json, &version);
	}
	return 0;
}

/* One BatchGetSecretValue of up to GP_SM_BATCH_MAX names, following NextToken if AWS pages it. */
static int
fetch_batch(struct gpd_sm *sm, char *const *names, size_t n, struct gp_observed *obs,
	    struct gp_strv *stale, unsigned *failed, struct gpd_error *err)
{
	_cleanup_free_ char *next = NULL;
	struct gpd_error call_err;
	int r;

	do {
		_cleanup_(gp_buf_release) struct gp_buf req = {0};
		_cleanup_(gp_buf_release_secure) struct gp_buf resp = {0};
		_cleanup_(gp_sm_batch_release) struct gp_sm_batch b = {0};
		_cleanup_free_ char *token = TAKE_PTR(next);

		r = gp_sm_batch_request(names, n, token, &req);
		if (r < 0)
			return r;
		r = sm_call(sm, "BatchGetSecretValue", &req, false, &resp, &call_err);
		if (r < 0) {
			*err = call_err;
			return r;
		}
		r = gp_sm_batch_parse(resp.p, resp.len, &b);
		if (r < 0)
			return bad_answer(sm, "BatchGetSecretValue", r, err);
		for (size_t i = 0; i < b.n_values; i++)
			if ((r = take_value(&b.values[i], obs, stale, failed, err)) < 0)
				return r;
		for (size_t i = 0; i < b.n_errors; i++)
			note_failure(failed, b.errors[i].secret_id, b.errors[i].code,
				     b.errors[i].message, err);
		next = TAKE_PTR(b.next);
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
	for (size_t i = 0; r >= 0 && i < names->n; i += GP_SM_BATCH_MAX) {
		size_t n = names->n - i < GP_SM_BATCH_MAX ? names->n - i : GP_SM_BATCH_MAX;

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
	_cleanup_(gp_buf_release) struct gp_buf req = {0};
	_cleanup_(gp_buf_release_secure) struct gp_buf resp = {0};
	_cleanup_(gp_sm_value_release) struct gp_sm_value v = {0};
	struct gpd_error dummy;
	int r;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	r = gp_sm_get_request(name, stage, &req);
	r = r ?: sm_call(sm, "GetSecretValue", &req, false, &resp, err);
	if (r < 0)
		return r;
	r = gp_sm_value_parse(resp.p, resp.len, &v);
	if (r < 0)
		return bad_answer(sm, "GetSecretValue", r, err);
	if (!v.secret_string) {
		set_error(err, "InvalidResponse", false, "%s: no SecretString (binary secret?)",
			  name);
		return -EIO;
	}
	*ret_json = TAKE_PTR(v.secret_string);
	if (ret_version)
		*ret_version = TAKE_PTR(v.version_id);
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

/* Runs a write and hands back the answer's VersionId when ret_version is not NULL. */
static int
write_call(struct gpd_sm *sm, const char *op, const struct gp_buf *req, char **ret_version,
	   struct gpd_error *err)
{
	_cleanup_(gp_buf_release_secure) struct gp_buf resp = {0};
	_cleanup_(gp_sm_value_release) struct gp_sm_value v = {0};
	int r;

	r = sm_call(sm, op, req, true, &resp, err);
	if (r < 0)
		return r;
	r = gp_sm_value_parse(resp.p, resp.len, &v);
	if (r < 0)
		return bad_answer(sm, op, r, err);
	if (!ret_version)
		return 0;
	if (!v.version_id) {
		set_error(err, "InvalidResponse", false, "%s: response has no VersionId", op);
		return -EIO;
	}
	*ret_version = TAKE_PTR(v.version_id);
	return 0;
}

int
gpd_sm_create(struct gpd_sm *sm, const char *name, const char *json, const char *kms_key_id,
	      const char *env, const char *key, char **ret_version, struct gpd_error *err)
{
	_cleanup_(gp_buf_release_secure) struct gp_buf req = {0};
	char token[GP_SM_TOKEN_LEN + 1];
	struct gp_sm_create c = {
		.name = name,
		.secret_string = json,
		.kms_key_id = kms_key_id,
		.env = env,
		.key = key,
		.token = token,
	};
	struct gpd_error dummy;
	int r;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	r = request_token(token);
	r = r ?: gp_sm_create_request(&c, &req);
	return r ?: write_call(sm, "CreateSecret", &req, ret_version, err);
}

static int
put_value(struct gpd_sm *sm, const char *name, const char *json, const char *stage,
	  const char *given_token, char **ret_version, struct gpd_error *err)
{
	_cleanup_(gp_buf_release_secure) struct gp_buf req = {0};
	char token[GP_SM_TOKEN_LEN + 1];
	struct gpd_error dummy;
	int r = 0;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	if (given_token)
		snprintf(token, sizeof(token), "%s", given_token);
	else
		r = request_token(token);
	r = r ?: gp_sm_put_request(name, json, token, stage, &req);
	return r ?: write_call(sm, "PutSecretValue", &req, ret_version, err);
}

int
gpd_sm_put_value(struct gpd_sm *sm, const char *name, const char *json, char **ret_version,
		 struct gpd_error *err)
{
	return put_value(sm, name, json, NULL, NULL, ret_version, err);
}

int
gpd_sm_put_pending(struct gpd_sm *sm, const char *name, const char *json, const char *token,
		   char **ret_version, struct gpd_error *err)
{
	return put_value(sm, name, json, GP_SM_PENDING, token, ret_version, err);
}

static int
update_stage(struct gpd_sm *sm, const char *name, const char *stage, const char *move_to,
	     const char *remove_from, struct gpd_error *err)
{
	_cleanup_(gp_buf_release) struct gp_buf req = {0};
	int r = gp_sm_stage_request(name, stage, move_to, remove_from, &req);

	return r ?: write_call(sm, "UpdateSecretVersionStage", &req, NULL, err);
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
		r = update_stage(sm, name, GP_SM_CURRENT, version, current_version, err);
		if (r < 0)
			return r;
	}
	return update_stage(sm, name, GP_SM_PENDING, NULL, version, err);
}

int
gpd_sm_tag(struct gpd_sm *sm, const char *name, const char *env, const char *key,
	   struct gpd_error *err)
{
	_cleanup_(gp_buf_release) struct gp_buf req = {0};
	struct gpd_error dummy;
	int r;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	r = gp_sm_tag_request(name, env, key, &req);
	return r ?: write_call(sm, "TagResource", &req, NULL, err);
}

int
gpd_sm_delete(struct gpd_sm *sm, const char *name, unsigned recovery_days,
	      struct gpd_error *err)
{
	_cleanup_(gp_buf_release) struct gp_buf req = {0};
	struct gpd_error dummy;
	int r;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	if (recovery_days < GP_SM_RECOVERY_MIN || recovery_days > GP_SM_RECOVERY_MAX) {
		set_error(err, "InvalidParameter", false, "recovery window of %u days is not in 7..30",
			  recovery_days);
		return -EINVAL;
	}
	r = gp_sm_delete_request(name, recovery_days, &req);
	return r ?: write_call(sm, "DeleteSecret", &req, NULL, err);
}

int
gpd_sm_restore(struct gpd_sm *sm, const char *name, struct gpd_error *err)
{
	_cleanup_(gp_buf_release) struct gp_buf req = {0};
	struct gpd_error dummy;
	int r;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	r = gp_sm_restore_request(name, &req);
	return r ?: write_call(sm, "RestoreSecret", &req, NULL, err);
}
