/*
 * sm.c — Secrets Manager client: sends the JSON 1.1 bodies lib/codec/sm_wire.c builds over
 * libcurl's multi interface (several requests in flight, one easy handle each), SigV4 signing
 * by libcurl, retries with full-jitter backoff, pacing of writes, random ClientRequestTokens,
 * and the few operations gprdsd needs, mapped onto struct gp_obs_secret with sm_wire's
 * parsers. Reads block (the observation wants their answers before anything else); writes
 * are started and answered through a callback, so that the pass overlaps them with its SQL.
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
#include <poll.h>
#include <pthread.h>
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
#define MAX_POLLFDS 16

/* What a finished operation's 200 answer must hold. */
enum answer { ANSWER_RAW, ANSWER_OBJECT, ANSWER_VERSION };

/*
 * One operation: one request, or two in sequence (a promotion), each attempt started when its
 * time has come (backoff, write pacing) and a transfer is free. Owned by the client from start
 * to done() (queue, then a transfer, then the queue again for a retry).
 */
struct gpd_sm_op {
	struct gpd_sm_op *next; /* in the queue */
	const char *name;       /* "CreateSecret", for errors */
	struct gp_buf req[2];   /* wiped: may hold a secret value */
	unsigned n_req, cur;
	bool write;
	enum answer answer;
	unsigned attempt;    /* of req[cur], from 1 */
	uint64_t not_before; /* CLOCK_MONOTONIC ms: the backoff of a retry */
	struct gp_buf resp;  /* wiped */
	struct gp_buf *keep; /* a blocking call's: receives resp on success */
	struct gpd_error err;
	gpd_sm_done_fn done;
	void *arg;
};

/* One easy handle; op is the operation it carries, NULL when free. */
struct xfer {
	CURL *curl;
	struct gpd_sm_op *op;
	struct curl_slist *headers;
	char curl_err[CURL_ERROR_SIZE];
};

struct gpd_sm {
	CURLM *multi;
	struct xfer xfers[GPD_SM_MAX_IN_FLIGHT];
	struct gpd_sm_op *queue, *queue_tail; /* waiting to start an attempt, in order */
	unsigned in_flight;
	struct gpd_aws_provider *creds;
	char *url;
	char *sigv4; /* "aws:amz:<region>:secretsmanager" */
	uint64_t timeout_ms;
	uint64_t write_interval_ms;
	bool down;          /* a call found the endpoint not answering: no more calls this pass */
	char down_code[64];
	unsigned calls, throttles, errors;
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

static CURL *
new_easy(struct gpd_sm *sm, struct xfer *x)
{
	uint64_t connect_ms = sm->timeout_ms;
	CURL *c = curl_easy_init();

	if (!c)
		return NULL;
	if (connect_ms > CONNECT_TIMEOUT_MAX_MS)
		connect_ms = CONNECT_TIMEOUT_MAX_MS;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->curl_err);
	curl_easy_setopt(c, CURLOPT_URL, sm->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)sm->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "gprdsd/" GPRDSD_VERSION);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sm->sigv4);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, gpd_aws_curl_write_secure);
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	return c;
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
	sm->multi = curl_multi_init();
	if (!sm->url || !sm->sigv4 || !sm->multi)
		return -ENOMEM;
	r = gpd_aws_provider_new(o->profile, &sm->creds);
	if (r < 0)
		return r;
	sm->timeout_ms = timeout_ms;
	sm->write_interval_ms = o->write_interval_ms;
	*ret = TAKE_PTR(sm);
	return 0;
}

static void
op_free(struct gpd_sm_op *op)
{
	if (!op)
		return;
	for (unsigned i = 0; i < ELEMENTSOF(op->req); i++)
		gp_buf_release_secure(&op->req[i]);
	gp_buf_release_secure(&op->resp);
	free(op);
}

static void free_headers(struct curl_slist *h);

void
gpd_sm_free(struct gpd_sm *sm)
{
	if (!sm)
		return;
	for (size_t i = 0; i < ELEMENTSOF(sm->xfers); i++) {
		struct xfer *x = &sm->xfers[i];

		if (!x->curl)
			continue;
		if (x->op)
			curl_multi_remove_handle(sm->multi, x->curl);
		curl_easy_cleanup(x->curl);
		free_headers(x->headers);
		op_free(x->op);
	}
	while (sm->queue) {
		struct gpd_sm_op *op = sm->queue;

		sm->queue = op->next;
		op_free(op);
	}
	if (sm->multi)
		curl_multi_cleanup(sm->multi);
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
set_credentials(CURL *curl, const struct gpd_aws_creds *c)
{
	char *userpwd = gp_strprintf("%s:%s", c->access_key_id, c->secret_access_key);
	CURLcode cc;

	if (!userpwd)
		return -ENOMEM;
	cc = curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd);
	/* curl keeps its own copy; ours is wiped at once. */
	gp_secret_free_string(userpwd);
	return cc == CURLE_OK ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------------------------------
 * Operations: a queue of attempts to start, transfers in flight, and what ends them
 */

static void
enqueue(struct gpd_sm *sm, struct gpd_sm_op *op)
{
	op->next = NULL;
	if (sm->queue_tail)
		sm->queue_tail->next = op;
	else
		sm->queue = op;
	sm->queue_tail = op;
}

/* Full jitter: a uniform delay in [0, min(cap, base * 2^(attempt-1))]. */
static uint64_t
backoff_ms(unsigned attempt)
{
	uint64_t ceiling = (uint64_t)BACKOFF_BASE_MS << (attempt - 1);
	uint32_t rnd;

	if (ceiling > BACKOFF_CAP_MS)
		ceiling = BACKOFF_CAP_MS;
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = UINT32_MAX / 2;
	return (uint64_t)rnd % (ceiling + 1);
}

/* Checks a 200 answer against what the operation documents. */
static int
check_answer(struct gpd_sm_op *op, char **ret_version)
{
	_cleanup_(gp_sm_value_release) struct gp_sm_value v = {0};
	int r;

	if (op->answer == ANSWER_RAW)
		return 0;
	r = gp_sm_value_parse(op->resp.p, op->resp.len, &v);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		set_error(&op->err, "InvalidResponse", false, "%s: response is not a JSON object",
			  op->name);
		return -EIO;
	}
	if (op->answer != ANSWER_VERSION)
		return 0;
	if (!v.version_id) {
		set_error(&op->err, "InvalidResponse", false, "%s: response has no VersionId",
			  op->name);
		return -EIO;
	}
	*ret_version = TAKE_PTR(v.version_id);
	return 0;
}

/* The operation ends: counted, the breaker told, done() called, the operation freed. */
static void
op_finish(struct gpd_sm *sm, struct gpd_sm_op *op, int r)
{
	char *version = NULL;

	if (r >= 0)
		r = check_answer(op, &version);
	if (r >= 0 && op->keep) {
		*op->keep = op->resp;
		op->resp = (struct gp_buf){0};
	}
	if (r < 0) {
		sm->errors++;
		/* Each call is bounded, a pass is not: once the endpoint stopped answering, the
		 * rest of the pass does not wait for it again, call after call. */
		if (gpd_code_unreachable(op->err.code) && !sm->down) {
			sm->down = true;
			snprintf(sm->down_code, sizeof(sm->down_code), "%s", op->err.code);
		}
	}
	op->done(op->arg, r, version, &op->err);
	op_free(op);
}

/* One attempt ended with r: a retry, the next request of the operation, or its end. */
static void
attempt_done(struct gpd_sm *sm, struct gpd_sm_op *op, int r)
{
	if (r < 0 && op->err.transient && op->attempt < MAX_ATTEMPTS) {
		op->not_before = now_ms() + backoff_ms(op->attempt++);
	} else if (r >= 0 && op->cur + 1 < op->n_req) {
		op->cur++;
		op->attempt = 1;
		op->not_before = 0;
	} else {
		op_finish(sm, op, r);
		return;
	}
	gp_buf_release_secure(&op->resp);
	enqueue(sm, op);
}

/* Starts an attempt of op on x; an attempt that cannot start has ended (attempt_done()). */
static void
attempt_start(struct gpd_sm *sm, struct xfer *x, struct gpd_sm_op *op)
{
	_cleanup_free_ char *cerr = NULL;
	const struct gp_buf *req = &op->req[op->cur];
	const struct gpd_aws_creds *c;
	int r;

	op->err = (struct gpd_error){0};
	r = gpd_aws_creds_get(sm->creds, &c, &cerr);
	if (r < 0)
		return attempt_done(sm, op, credentials_error(r, cerr, &op->err));
	x->headers = request_headers(op->name, c);
	if (!x->headers || set_credentials(x->curl, c) < 0) {
		set_error(&op->err, "NoMemory", false, "out of memory");
		return attempt_done(sm, op, -ENOMEM);
	}
	curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, req->p);
	curl_easy_setopt(x->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
	curl_easy_setopt(x->curl, CURLOPT_WRITEDATA, &op->resp);
	x->curl_err[0] = '\0';
	x->op = op;
	sm->calls++;
	sm->in_flight++;
	if (curl_multi_add_handle(sm->multi, x->curl) != CURLM_OK) {
		x->op = NULL;
		sm->in_flight--;
		set_error(&op->err, "NetworkError", false, "cannot start the transfer");
		attempt_done(sm, op, -ENOMEM);
	}
}

/* The transfer on x ended with cc. */
static void
transfer_done(struct gpd_sm *sm, struct xfer *x, CURLcode cc)
{
	struct gpd_sm_op *op = TAKE_PTR(x->op);
	long status = 0;
	int r;

	atomic_fetch_add_explicit(&calls_ended, 1, memory_order_relaxed);
	sm->in_flight--;
	curl_multi_remove_handle(sm->multi, x->curl);
	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	/* Nothing secret stays referenced by the handle between calls. */
	curl_easy_setopt(x->curl, CURLOPT_USERPWD, NULL);
	curl_easy_setopt(x->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(x->curl, CURLOPT_POSTFIELDS, NULL);
	free_headers(TAKE_PTR(x->headers));
	if (cc != CURLE_OK)
		r = transport_error(cc, x->curl_err, &op->err);
	else if (status == 200)
		r = 0;
	else
		r = aws_error(sm, status, &op->resp, &op->err);
	op->err.http_status = status;
	attempt_done(sm, op, r);
}

static struct xfer *
free_xfer(struct gpd_sm *sm)
{
	for (size_t i = 0; i < ELEMENTSOF(sm->xfers); i++) {
		struct xfer *x = &sm->xfers[i];

		if (x->op)
			continue;
		if (!x->curl)
			x->curl = new_easy(sm, x);
		return x->curl ? x : NULL;
	}
	return NULL;
}

/*
 * Write pacing is the process's, not a pass's: the quota it keeps under is the account's in
 * the region (one region per configuration), and the daemon runs the passes of several
 * environments at once, each with a client of its own. Every write of every pass takes its
 * turn here, at least write_interval after the one before.
 */
static pthread_mutex_t pace_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t pace_last_ms; /* CLOCK_MONOTONIC when the process's last write started; 0: none */

/* 0 when a write may start at now (it is counted as started), else how long until one may. */
static uint64_t
pace_claim(uint64_t interval_ms, uint64_t now)
{
	uint64_t wait = 0;

	pthread_mutex_lock(&pace_lock);
	if (pace_last_ms && pace_last_ms + interval_ms > now)
		wait = pace_last_ms + interval_ms - now;
	else
		pace_last_ms = now;
	pthread_mutex_unlock(&pace_lock);
	return wait;
}

/* Starts the queued attempts whose time has come, in order, while transfers are free;
 * returns how long until the next one may start (UINT64_MAX: none waits). */
static uint64_t
start_ready(struct gpd_sm *sm)
{
	uint64_t wait = UINT64_MAX;
	struct gpd_sm_op **pp = &sm->queue, *prev = NULL;

	while (*pp) {
		struct gpd_sm_op *op = *pp;
		uint64_t now = now_ms(), at = op->not_before, pace = 0;
		struct xfer *x = NULL;

		if (!sm->down && (at > now || !(x = free_xfer(sm)) ||
				  (op->write && (pace = pace_claim(sm->write_interval_ms, now)) > 0))) {
			if (at > now && at - now < wait)
				wait = at - now;
			if (pace > 0 && pace < wait)
				wait = pace;
			prev = op;
			pp = &op->next;
			continue;
		}
		*pp = op->next;
		if (sm->queue_tail == op)
			sm->queue_tail = prev;
		if (sm->down) {
			set_error(&op->err, "Unavailable", true,
				  "%s: Secrets Manager did not answer earlier in this pass (%s); not "
				  "asked again until the next pass", op->name, sm->down_code);
			op_finish(sm, op, -ETIMEDOUT);
		} else {
			attempt_start(sm, x, op);
		}
		/* Either may have queued a retry or the next request: look from the start. */
		pp = &sm->queue;
		prev = NULL;
	}
	return wait;
}

static short
to_curl_events(short events)
{
	return (short)(((events & POLLIN) ? CURL_WAIT_POLLIN : 0) |
		       ((events & POLLPRI) ? CURL_WAIT_POLLPRI : 0) |
		       ((events & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
}

static short
from_curl_events(short revents)
{
	return (short)(((revents & CURL_WAIT_POLLIN) ? POLLIN : 0) |
		       ((revents & CURL_WAIT_POLLPRI) ? POLLPRI : 0) |
		       ((revents & CURL_WAIT_POLLOUT) ? POLLOUT : 0));
}

int
gpd_sm_wait(struct gpd_sm *sm, struct pollfd *fds, size_t n_fds, uint64_t timeout_ms)
{
	struct curl_waitfd w[MAX_POLLFDS];
	uint64_t next = start_ready(sm);
	CURLMsg *m;
	int running, left, ready = 0;

	if (n_fds > ELEMENTSOF(w))
		return -EINVAL;
	for (size_t i = 0; i < n_fds; i++)
		w[i] = (struct curl_waitfd){.fd = fds[i].fd, .events = to_curl_events(fds[i].events)};
	if (next < timeout_ms)
		timeout_ms = next;
	if (curl_multi_poll(sm->multi, w, (unsigned)n_fds,
			    timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms, NULL) != CURLM_OK)
		return -EIO;
	for (size_t i = 0; i < n_fds; i++) {
		fds[i].revents = from_curl_events(w[i].revents);
		ready += fds[i].revents != 0;
	}
	curl_multi_perform(sm->multi, &running);
	while ((m = curl_multi_info_read(sm->multi, &left)))
		if (m->msg == CURLMSG_DONE) {
			struct xfer *x = NULL;

			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			transfer_done(sm, x, m->data.result);
		}
	start_ready(sm);
	return ready;
}

bool
gpd_sm_busy(const struct gpd_sm *sm)
{
	return sm->queue || sm->in_flight;
}

static struct gpd_sm_op *
op_new(const char *name, bool write, enum answer answer)
{
	struct gpd_sm_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->name = name;
	op->write = write;
	op->answer = answer;
	op->attempt = 1;
	return op;
}

/* Queues op (its requests built, n_req set) with done(arg); frees it on failure. */
static int
op_start(struct gpd_sm *sm, struct gpd_sm_op *op, int built, gpd_sm_done_fn done, void *arg)
{
	for (unsigned i = 0; built >= 0 && i < op->n_req; i++)
		if (op->req[i].oom || !op->req[i].p)
			built = -ENOMEM;
	if (built < 0) {
		op_free(op);
		return built;
	}
	op->done = done;
	op->arg = arg;
	enqueue(sm, op);
	return 0;
}

/* What a blocking call waits for. */
struct waited {
	bool done;
	int r;
	char *version;
	struct gpd_error err;
};

static void
waited_done(void *arg, int r, char *version, const struct gpd_error *err)
{
	struct waited *w = arg;

	w->done = true;
	w->r = r;
	w->version = version;
	w->err = *err;
}

/*
 * Sends req (taken over; the same bytes on every retry, ClientRequestToken included) as name
 * and waits for it. resp (pass it empty; release it with gp_buf_release_secure()) receives the
 * body of the 200 answer.
 */
static int
sm_call(struct gpd_sm *sm, const char *name, struct gp_buf *req, bool write,
	struct gp_buf *resp, struct gpd_error *err)
{
	struct gpd_sm_op *op = op_new(name, write, ANSWER_RAW);
	struct waited w = {0};
	int r;

	if (!op)
		return -ENOMEM;
	op->n_req = 1;
	op->req[0] = *req;
	*req = (struct gp_buf){0};
	op->keep = resp;
	r = op_start(sm, op, 0, waited_done, &w);
	if (r < 0)
		return r;
	while (!w.done)
		if ((r = gpd_sm_wait(sm, NULL, 0, UINT64_MAX)) < 0)
			return r;
	*err = w.err;
	free(w.version);
	return w.r;
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

/* Takes what one BatchGetSecretValue answered into obs; *next is its NextToken, if any. */
static int
take_batch(struct gpd_sm *sm, const struct gp_buf *resp, struct gp_observed *obs,
	   struct gp_strv *stale, unsigned *failed, char **next, struct gpd_error *err)
{
	_cleanup_(gp_sm_batch_release) struct gp_sm_batch b = {0};
	int r = gp_sm_batch_parse(resp->p, resp->len, &b);

	if (r < 0)
		return bad_answer(sm, "BatchGetSecretValue", r, err);
	for (size_t i = 0; i < b.n_values; i++)
		if ((r = take_value(&b.values[i], obs, stale, failed, err)) < 0)
			return r;
	for (size_t i = 0; i < b.n_errors; i++)
		note_failure(failed, b.errors[i].secret_id, b.errors[i].code, b.errors[i].message,
			     err);
	*next = TAKE_PTR(b.next);
	return 0;
}

/* The rest of one batch's answer when AWS pages it (NextToken), one page after the other. */
static int
fetch_rest(struct gpd_sm *sm, char *const *names, size_t n, char *next, struct gp_observed *obs,
	   struct gp_strv *stale, unsigned *failed, struct gpd_error *err)
{
	int r = 0;

	while (next && r >= 0) {
		_cleanup_(gp_buf_release) struct gp_buf req = {0};
		_cleanup_(gp_buf_release_secure) struct gp_buf resp = {0};
		_cleanup_free_ char *token = TAKE_PTR(next);
		struct gpd_error call_err = {0};

		r = gp_sm_batch_request(names, n, token, &req);
		if (r < 0)
			break;
		r = sm_call(sm, "BatchGetSecretValue", &req, false, &resp, &call_err);
		if (r < 0)
			*err = call_err;
		else
			r = take_batch(sm, &resp, obs, stale, failed, &next, err);
	}
	free(next);
	return r;
}

/* One batch of names in flight: its answer kept until every batch has one. */
struct batch_read {
	struct gp_buf resp;
	bool done;
	int r;
	struct gpd_error err;
};

static void
batch_done(void *arg, int r, char *version, const struct gpd_error *err)
{
	struct batch_read *b = arg;

	free(version);
	b->done = true;
	b->r = r;
	b->err = *err;
}

static void
batches_release(struct batch_read *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		gp_buf_release_secure(&v[i].resp);
	free(v);
}

/*
 * Every batch of names (GP_SM_BATCH_MAX each) asked for at once, so that the calls overlap as
 * far as the transfers allow (reads are not paced), then the answers taken in order: the same
 * outcome as one batch after the other, the round trips of all but the slowest overlapped.
 */
static int
fetch_batches(struct gpd_sm *sm, const struct gp_strv *names, struct gp_observed *obs,
	      struct gp_strv *stale, unsigned *failed, struct gpd_error *err)
{
	size_t n = (names->n + GP_SM_BATCH_MAX - 1) / GP_SM_BATCH_MAX, started = 0;
	struct batch_read *v = calloc(n ? n : 1, sizeof(*v));
	int r = v ? 0 : -ENOMEM;

	while (r >= 0 && started < n) {
		size_t i = started * GP_SM_BATCH_MAX, k = names->n - i;
		struct gpd_sm_op *op = op_new("BatchGetSecretValue", false, ANSWER_RAW);

		if (!op) {
			r = -ENOMEM;
			break;
		}
		op->n_req = 1;
		op->keep = &v[started].resp;
		r = op_start(sm, op,
			     gp_sm_batch_request(names->v + i, k < GP_SM_BATCH_MAX ? k : GP_SM_BATCH_MAX,
						 NULL, &op->req[0]),
			     batch_done, &v[started]);
		if (r >= 0) /* a call that could not be queued was freed: nothing waits for it */
			started++;
	}
	/* Whatever started is waited for, also after a failure: its answer points into v. */
	for (size_t i = 0; i < started; i++) {
		int w;

		while (!v[i].done)
			if ((w = gpd_sm_wait(sm, NULL, 0, UINT64_MAX)) < 0) {
				/* The answers are wiped; v itself stays, as the calls still
				 * queued point into it until gpd_sm_free() drops them. */
				for (size_t k = 0; k < started; k++)
					if (v[k].done)
						gp_buf_release_secure(&v[k].resp);
				return w;
			}
	}
	for (size_t i = 0; r >= 0 && i < started; i++) {
		size_t k = names->n - i * GP_SM_BATCH_MAX;
		char *next = NULL;

		if (v[i].r < 0) {
			*err = v[i].err;
			r = v[i].r;
			break;
		}
		r = take_batch(sm, &v[i].resp, obs, stale, failed, &next, err);
		if (r >= 0)
			r = fetch_rest(sm, names->v + i * GP_SM_BATCH_MAX,
				       k < GP_SM_BATCH_MAX ? k : GP_SM_BATCH_MAX, next, obs, stale,
				       failed, err);
		else
			free(next);
	}
	if (v)
		batches_release(v, started);
	return r;
}

int
gpd_sm_fetch_values(struct gpd_sm *sm, const struct gp_strv *names, struct gp_observed *obs,
		    struct gpd_error *err)
{
	_cleanup_(gp_strv_release) struct gp_strv stale = {0};
	struct gpd_error dummy;
	unsigned failed = 0;
	int r;

	err = err ? err : &dummy;
	*err = (struct gpd_error){0};
	r = fetch_batches(sm, names, obs, &stale, &failed, err);
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
 * Writes: started here, answered through done()
 */

static int
write_start(struct gpd_sm *sm, const char *name, enum answer answer, struct gp_buf *req,
	    int built, gpd_sm_done_fn done, void *arg)
{
	struct gpd_sm_op *op = op_new(name, true, answer);

	if (!op) {
		gp_buf_release_secure(req);
		return -ENOMEM;
	}
	op->req[0] = *req;
	*req = (struct gp_buf){0};
	op->n_req = 1;
	return op_start(sm, op, built, done, arg);
}

int
gpd_sm_create_start(struct gpd_sm *sm, const char *name, const char *json, const char *kms_key_id,
		    const char *env, const char *key, gpd_sm_done_fn done, void *arg)
{
	struct gp_buf req = {0};
	char token[GP_SM_TOKEN_LEN + 1];
	struct gp_sm_create c = {
		.name = name,
		.secret_string = json,
		.kms_key_id = kms_key_id,
		.env = env,
		.key = key,
		.token = token,
	};
	int r = request_token(token);

	r = r ?: gp_sm_create_request(&c, &req);
	return write_start(sm, "CreateSecret", ANSWER_VERSION, &req, r, done, arg);
}

static int
put_value(struct gpd_sm *sm, const char *name, const char *json, const char *stage,
	  const char *given_token, gpd_sm_done_fn done, void *arg)
{
	struct gp_buf req = {0};
	char token[GP_SM_TOKEN_LEN + 1];
	int r = 0;

	if (given_token)
		snprintf(token, sizeof(token), "%s", given_token);
	else
		r = request_token(token);
	r = r ?: gp_sm_put_request(name, json, token, stage, &req);
	return write_start(sm, "PutSecretValue", ANSWER_VERSION, &req, r, done, arg);
}

int
gpd_sm_put_value_start(struct gpd_sm *sm, const char *name, const char *json,
		       gpd_sm_done_fn done, void *arg)
{
	return put_value(sm, name, json, NULL, NULL, done, arg);
}

int
gpd_sm_put_pending_start(struct gpd_sm *sm, const char *name, const char *json,
			 const char *token, gpd_sm_done_fn done, void *arg)
{
	return put_value(sm, name, json, GP_SM_PENDING, token, done, arg);
}

int
gpd_sm_promote_start(struct gpd_sm *sm, const char *name, const char *version,
		     const char *current_version, gpd_sm_done_fn done, void *arg)
{
	struct gpd_sm_op *op = op_new("UpdateSecretVersionStage", true, ANSWER_OBJECT);
	int r = 0;

	if (!op)
		return -ENOMEM;
	if (!gp_streq(version, current_version))
		r = gp_sm_stage_request(name, GP_SM_CURRENT, version, current_version,
					&op->req[op->n_req++]);
	r = r ?: gp_sm_stage_request(name, GP_SM_PENDING, NULL, version, &op->req[op->n_req++]);
	return op_start(sm, op, r, done, arg);
}

int
gpd_sm_tag_start(struct gpd_sm *sm, const char *name, const char *env, const char *key,
		 gpd_sm_done_fn done, void *arg)
{
	struct gp_buf req = {0};
	int r = gp_sm_tag_request(name, env, key, &req);

	return write_start(sm, "TagResource", ANSWER_OBJECT, &req, r, done, arg);
}

int
gpd_sm_delete_start(struct gpd_sm *sm, const char *name, unsigned recovery_days,
		    gpd_sm_done_fn done, void *arg)
{
	struct gp_buf req = {0};

	if (recovery_days < GP_SM_RECOVERY_MIN || recovery_days > GP_SM_RECOVERY_MAX)
		return -EINVAL;
	return write_start(sm, "DeleteSecret", ANSWER_OBJECT, &req,
			   gp_sm_delete_request(name, recovery_days, &req), done, arg);
}

int
gpd_sm_restore_start(struct gpd_sm *sm, const char *name, gpd_sm_done_fn done, void *arg)
{
	struct gp_buf req = {0};
	int r = gp_sm_restore_request(name, &req);

	return write_start(sm, "RestoreSecret", ANSWER_OBJECT, &req, r, done, arg);
}
