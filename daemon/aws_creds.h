/*
 * aws_creds.h — where gprdsd's AWS credentials come from (DESIGN §5), in the SDKs' order:
 *
 *  1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN). Setting
 *     only one of the first two is an error rather than a silent fall-through to another
 *     identity.
 *  2. shared credentials file: AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials;
 *     profile = the configured aws.profile, else AWS_PROFILE, else "default". Only static keys
 *     (aws_access_key_id, aws_secret_access_key, aws_session_token) are understood. A profile
 *     that was asked for by name but is missing is an error; a missing "default" falls
 *     through.
 *  3. EC2 instance metadata, IMDSv2 only (a session token is always fetched first; there is
 *     no IMDSv1 fallback): endpoint http://169.254.169.254, or
 *     AWS_EC2_METADATA_SERVICE_ENDPOINT; skipped when AWS_EC2_METADATA_DISABLED=true.
 *     Requests time out after 1s (connect) / 2s (whole request) and bypass any proxy.
 *
 * Not supported (say so in the error rather than guess): ~/.aws/config, assume-role and
 * source_profile, SSO, credential_process, ECS container and web-identity credentials.
 *
 * The provider caches what it found. Credentials that expire (instance metadata) are fetched
 * again 5 minutes before their Expiration; if that refresh fails while the cached ones are
 * still valid, the cached ones are returned (as the SDKs do), so an IMDS hiccup does not fail a
 * pass. The environment is read when the chain is resolved: create one provider per reconcile
 * pass (gpd_sm does) and configuration changes are picked up at the next pass.
 *
 * Secret material (secret access key, session token, file contents, metadata responses) is
 * wiped before it is freed and never appears in error texts. This module does not log: errors
 * go back to the caller as -errno plus a text.
 *
 * A provider is not thread-safe; use one per thread.
 */
#ifndef GPD_AWS_CREDS_H
#define GPD_AWS_CREDS_H

#include "base/util.h"

struct gpd_aws_creds {
	char *access_key_id;
	char *secret_access_key; /* wiped on free */
	char *session_token;     /* NULL when none; wiped on free */
	int64_t expires;         /* seconds since the epoch; 0: does not expire */
	const char *source;      /* static text: "environment", "shared credentials file",
				    "instance metadata" */
};

struct gpd_aws_provider;

/*
 * profile: the configured aws.profile, or NULL/"" to use AWS_PROFILE or "default" (copied).
 * Returns 0 and *ret, or -ENOMEM. Nothing is resolved until gpd_aws_creds_get().
 */
int gpd_aws_provider_new(const char *profile, struct gpd_aws_provider **ret);
void gpd_aws_provider_free(struct gpd_aws_provider *p);
DEFINE_FREEP(struct gpd_aws_provider, gpd_aws_provider_free)

/*
 * Returns 0 and *ret, the cached or freshly resolved credentials. *ret is owned by the
 * provider and stays valid until the next gpd_aws_creds_get()/_invalidate()/_free() on it.
 * Errors, with *ret_err (when not NULL) a malloc'd text naming what was tried and why it
 * failed, e.g. "no AWS credentials: environment: not set; shared credentials file
 * /root/.aws/credentials: not found; instance metadata: connection timed out":
 *   -ENOKEY       no source has credentials;
 *   -EINVAL       a source is misconfigured (partial environment, named profile missing, a
 *                 profile without static keys, a malformed metadata response);
 *   -ETIMEDOUT, -ECONNREFUSED, -EIO
 *                 instance metadata was tried and could not be reached or failed (transient);
 *   -ENOMEM.
 */
int gpd_aws_creds_get(struct gpd_aws_provider *p, const struct gpd_aws_creds **ret,
		      char **ret_err);

/* Forgets the cached credentials (e.g. after AWS said ExpiredTokenException). */
void gpd_aws_creds_invalidate(struct gpd_aws_provider *p);

/*
 * A CURLOPT_WRITEFUNCTION for responses that may hold secrets: appends to the struct gp_buf
 * passed as CURLOPT_WRITEDATA, growing it by copy-wipe-free instead of realloc() so that no
 * unwiped copy is left in freed memory, and refusing responses over 32 MiB. Release the buffer
 * with gp_buf_release_secure(). Shared with sm.c.
 */
size_t gpd_aws_curl_write_secure(char *ptr, size_t size, size_t nmemb, void *userdata);

#endif
