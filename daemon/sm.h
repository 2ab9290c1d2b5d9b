/*
 * sm.h — AWS Secrets Manager over its JSON 1.1 protocol (DESIGN §5), with libcurl.
 *
 * Every call is a POST to the endpoint (aws.endpoint, else
 * https://secretsmanager.<region>.amazonaws.com) with X-Amz-Target: secretsmanager.<Op>,
 * signed with SigV4 by libcurl (CURLOPT_AWS_SIGV4); credentials come from aws_creds.h. TLS
 * peer and host verification are always on. An http:// endpoint is accepted (moto in tests)
 * and then secret values travel in clear: it is for loopback only.
 *
 * Behaviour common to every call:
 *  - Timeouts: each attempt is bounded by opts.timeout_ms (connect: at most 3s of it).
 *  - Retries: at most 4 attempts, with full-jitter exponential backoff (a uniform delay up to
 *    500ms, 1s, 2s; capped at 5s; jitter from OpenSSL's RAND_bytes), on transport errors
 *    (connection refused, timeout, reset, DNS), HTTP 5xx and 429, ThrottlingException,
 *    TooManyRequestsException, RequestLimitExceeded, InternalServiceError/InternalFailure/
 *    ServiceUnavailable, and on ExpiredTokenException (after dropping the credential cache,
 *    so that instance credentials are fetched again). TLS verification failures and other
 *    AWS errors are not retried. Writes reuse one ClientRequestToken across retries where the
 *    API has one, so a retried CreateSecret/PutSecretValue whose first attempt did land is
 *    not applied twice.
 *  - Pacing: write calls (CreateSecret, PutSecretValue, TagResource, UpdateSecretVersionStage,
 *    DeleteSecret) start at least opts.write_interval_ms apart (the account-wide write quota is
 *    small), across every client of the process (the daemon's passes of several environments
 *    run at once); a write waits in the queue when needed, while other requests proceed.
 *  - Concurrency: up to GPD_SM_MAX_IN_FLIGHT requests in flight over libcurl's multi
 *    interface; reads block until answered, writes are answered through a callback.
 *  - Errors: 0 or -errno; err (may be NULL) is cleared on entry and filled on failure:
 *      -ENOENT       ResourceNotFoundException
 *      -EEXIST       ResourceExistsException
 *      -EACCES       AccessDenied/UnrecognizedClient/InvalidSignature/ExpiredToken/...,
 *                    any HTTP 403, and no usable credentials (code "NoCredentials", the
 *                    text of aws_creds.h saying what was tried)
 *      -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH (DNS)  transport, transient; also
 *                    instance metadata unreachable (code "NoCredentials", transient)
 *      -EPROTO       TLS verification failed (code "TLSError"), not transient
 *      -EIO          any other AWS error (code = its __type without "prefix#"), or a response
 *                    that is not what the API documents (code "InvalidResponse")
 *      -ENOMEM, -EINVAL (bad arguments)
 *    err->code and err->message come from the error body's __type and message (or an
 *    XML <Code>/<Message>, as IAM-style front ends answer), or from curl's error text. No
 *    other part of a response body is ever copied into errors, so no secret value can reach
 *    a log through them.
 *  - Secret values: request and response bodies that may hold them live in buffers that are
 *    wiped before they are freed (including when they grow); parse trees likewise.
 *  - The module does not log; the pass decides what to say.
 *
 * One struct gpd_sm per reconcile pass (or thread): it owns a CURL multi handle and its easy
 * handles (connections are reused across calls), the queue of operations and a credential
 * cache. curl_global_init() is main()'s job.
 */
#ifndef GPD_SM_H
#define GPD_SM_H

#include <poll.h>

#include "error.h"
#include "model/observed.h"

struct gpd_sm;

struct gpd_sm_opts {
	const char *region;   /* NULL/"": AWS_REGION, else AWS_DEFAULT_REGION, else -EINVAL */
	const char *endpoint; /* NULL/"": https://secretsmanager.<region>.amazonaws.com */
	const char *profile;  /* aws.profile for the shared credentials file, or NULL */
	uint64_t timeout_ms;  /* per attempt; 0: 10s */
	uint64_t write_interval_ms; /* minimum gap between write calls; 0: none */
};

/* Errors are struct gpd_error (error.h); code is the AWS error type ("ThrottlingException")
 * or a local one: "ConnectionRefused", "Timeout", "NetworkError", "DnsError", "TLSError",
 * "ResponseTooLarge", "NoCredentials", "InvalidResponse", "PartialFailure". */

/* Copies what it needs from o. Returns 0 and *ret, -EINVAL (no region), -ENOMEM. */
int gpd_sm_new(const struct gpd_sm_opts *o, struct gpd_sm **ret);
/* Operations still queued or in flight are dropped without their done(). */
void gpd_sm_free(struct gpd_sm *sm);
DEFINE_FREEP(struct gpd_sm, gpd_sm_free)

/*
 * ListSecrets with the name filter name_prefix (NULL/"": every secret), 100 per page, all
 * pages. AWS's filter is a loose prefix match, so names are checked against the prefix here
 * too. Appends one struct gp_obs_secret per secret to obs->secrets (unsorted: call
 * gp_observed_sort() after filling): name, arn, current_version/pending_version/
 * previous_version from SecretVersionsToStages (pending_version may equal current_version
 * when a promotion was interrupted), created/changed from CreatedDate/LastChangedDate, managed when tagged
 * managed-by=gprdsd; value_json stays NULL. Secrets scheduled for deletion are not listed.
 * On failure the secrets of the pages already read stay in obs.
 */
int gpd_sm_list(struct gpd_sm *sm, const char *name_prefix, struct gp_observed *obs,
		struct gpd_error *err);

/*
 * BatchGetSecretValue for names (20 per call): sets value_json (the AWSCURRENT SecretString,
 * replacing and wiping any previous one) and current_version (its VersionId) of the
 * gp_obs_secret in obs with the same name; values for names that obs does not hold are
 * dropped. Returns the number of secrets that could not be read (>= 0: per-secret Errors from
 * AWS, or a secret with no SecretString; err then has the first one's code and a message
 * naming it and the count, code "PartialFailure" mixed kinds), or -errno when a call
 * failed as a whole (values read by earlier calls stay in obs).
 */
int gpd_sm_fetch_values(struct gpd_sm *sm, const struct gp_strv *names, struct gp_observed *obs,
			struct gpd_error *err);

/*
 * GetSecretValue of the AWSCURRENT version (e.g. the master secret). *ret_json is the
 * SecretString, freed with gp_secret_free_string(). -ENOENT when the secret does not exist;
 * -EIO (code "InvalidResponse") when it holds only SecretBinary.
 */
int gpd_sm_get_value(struct gpd_sm *sm, const char *name, char **ret_json,
		     struct gpd_error *err);

/*
 * The same for the version with the staging label stage (NULL: AWSCURRENT), e.g. AWSPENDING
 * during a rotation. ret_version (may be NULL) receives its VersionId (free()). -ENOENT when
 * the secret or the label does not exist.
 */
int gpd_sm_get_value_stage(struct gpd_sm *sm, const char *name, const char *stage,
			   char **ret_json, char **ret_version, struct gpd_error *err);

/*
 * Writes are started and answered later: each gpd_sm_*_start() queues the operation and
 * returns 0, and done(arg, r, version, err) is called exactly once, from within a later
 * gpd_sm_wait(), never from the start function itself; or it returns -errno (-ENOMEM,
 * -EINVAL) and done() is never called. In done(), r is 0 or -errno as above, err says why
 * (valid during the call only) and version, when not NULL, is the answer's VersionId, which
 * done() owns (free()). Operations run in the order they were started as far as pacing and
 * GPD_SM_MAX_IN_FLIGHT transfers allow; two operations on the same secret must not be in
 * flight together (the caller orders them, as one entry's actions are).
 */
typedef void (*gpd_sm_done_fn)(void *arg, int r, char *version, const struct gpd_error *err);

/* At most this many requests in flight on one client (one connection each, or streams of one
 * HTTP/2 connection). */
#define GPD_SM_MAX_IN_FLIGHT 8

/*
 * CreateSecret name with SecretString json, tags managed-by=gprdsd, Environment=env,
 * Application=key (env/key may be NULL to leave that tag out), a description, KmsKeyId when
 * kms_key_id is not NULL/"", and a random ClientRequestToken (UUID v4). version: the
 * VersionId. -EEXIST when the secret exists; when a secret of that name is scheduled for
 * deletion (ListSecrets does not show it), AWS answers -EIO code InvalidRequestException
 * (moto: -EEXIST).
 */
int gpd_sm_create_start(struct gpd_sm *sm, const char *name, const char *json,
			const char *kms_key_id, const char *env, const char *key,
			gpd_sm_done_fn done, void *arg);

/* PutSecretValue: a new version with SecretString json that becomes AWSCURRENT. version: its
 * VersionId. */
int gpd_sm_put_value_start(struct gpd_sm *sm, const char *name, const char *json,
			   gpd_sm_done_fn done, void *arg);

/*
 * PutSecretValue staged AWSPENDING only (rotation step 1, DESIGN §4.4): AWSCURRENT does not
 * move. An existing AWSPENDING label moves to the new version. token is the
 * ClientRequestToken (gp_rotation_token()): the same rotation always sends the same one, so
 * that a retry of a write that did happen creates no second version. version: its VersionId.
 */
int gpd_sm_put_pending_start(struct gpd_sm *sm, const char *name, const char *json,
			     const char *token, gpd_sm_done_fn done, void *arg);

/*
 * Rotation's last step: UpdateSecretVersionStage moving AWSCURRENT to version (from
 * current_version, which may be NULL when the secret has no AWSCURRENT version), then removes
 * AWSPENDING from version. Both calls are writes. The second is skipped when the first
 * fails; a crash in between leaves current_version == pending_version, which the next pass
 * finishes by calling this again. version in done(): NULL.
 */
int gpd_sm_promote_start(struct gpd_sm *sm, const char *name, const char *version,
			 const char *current_version, gpd_sm_done_fn done, void *arg);

/* TagResource managed-by=gprdsd, Environment=env, Application=key (adopting a secret). */
int gpd_sm_tag_start(struct gpd_sm *sm, const char *name, const char *env, const char *key,
		     gpd_sm_done_fn done, void *arg);

/* RestoreSecret: cancels the scheduled deletion of name (an entry that came back). */
int gpd_sm_restore_start(struct gpd_sm *sm, const char *name, gpd_sm_done_fn done, void *arg);

/* DeleteSecret with RecoveryWindowInDays (AWS accepts 7..30; other values: -EINVAL at once). */
int gpd_sm_delete_start(struct gpd_sm *sm, const char *name, unsigned recovery_days,
			gpd_sm_done_fn done, void *arg);

/*
 * Drives the client: starts the queued requests whose time has come, waits until one of the
 * transfers or one of fds (poll(2) events; revents are set on return) is ready, or for at
 * most timeout_ms (UINT64_MAX: no limit of the caller's own; the wait still ends when a paced
 * or retried request may start), then moves the transfers on and calls done() of the
 * operations that ended. Returns the number of fds with revents, or -EINVAL (more than 16
 * fds), -EIO. The blocking reads above drive it too, so that writes in flight move on while
 * a read waits.
 */
int gpd_sm_wait(struct gpd_sm *sm, struct pollfd *fds, size_t n_fds, uint64_t timeout_ms);

/* Whether an operation is queued or in flight. */
bool gpd_sm_busy(const struct gpd_sm *sm);

/*
 * Counters since gpd_sm_new(): calls = HTTP requests sent (retries included), throttles =
 * responses that were throttling (429, Throttling*, TooManyRequests, RequestLimitExceeded),
 * errors = operations that failed after their retries. Any pointer may be NULL.
 */
void gpd_sm_stats(const struct gpd_sm *sm, unsigned *calls, unsigned *throttles,
		  unsigned *errors);

/* HTTP requests that ended (answered, failed or timed out) in this process, all clients and
 * threads: part of what the daemon's watchdog counts as progress. */
unsigned long gpd_sm_calls_ended(void);

#endif
