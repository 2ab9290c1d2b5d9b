/*
 * sm_wire.h — Secrets Manager's JSON 1.1 bodies as values (DESIGN §5): the requests gprdsd
 * sends, the answers it reads, the staging labels those answers carry and the classes of the
 * errors AWS returns. daemon/sm.c sends the bytes built here and hands the bytes it receives
 * back to the parsers here; curl, SigV4, credentials, retries and pacing stay there.
 *
 * Invariants:
 *  - Pure: no I/O, no clock, no randomness. A ClientRequestToken is an argument; the daemon
 *    draws its 16 random bytes and gp_sm_token_format() spells them.
 *  - Request builders print one compact JSON object, members in the order documented, into
 *    out, which must be empty. They return 0, -EINVAL (a required argument is NULL or empty,
 *    or a number is out of range; out stays empty), -E2BIG or -ENOMEM (out may hold a part:
 *    release it). A body that carries a SecretString is printed into space reserved up front
 *    and its parse tree is wiped: release out with gp_buf_release_secure().
 *  - Parsers take (body, len) and return 0, -EBADMSG (the body is not a JSON object; nothing
 *    is written) or -ENOMEM. A member of the wrong type reads as absent. Parse trees that may
 *    hold a secret value are wiped before they are freed, and so are the copies of
 *    SecretString they hand out.
 *  - Error classes copy only an error's type and message out of a body, never anything else
 *    of it, so no secret value reaches a log through them.
 */
#ifndef GP_CODEC_SM_WIRE_H
#define GP_CODEC_SM_WIRE_H

#include "model/observed.h"

/* ListSecrets page size, and BatchGetSecretValue's limit on SecretIdList. */
#define GP_SM_LIST_PAGE 100
#define GP_SM_BATCH_MAX 20
/* DeleteSecret's RecoveryWindowInDays: AWS accepts 7..30. */
#define GP_SM_RECOVERY_MIN 7
#define GP_SM_RECOVERY_MAX 30

#define GP_SM_CURRENT "AWSCURRENT"
#define GP_SM_PENDING "AWSPENDING"
#define GP_SM_PREVIOUS "AWSPREVIOUS"

/* ---------------------------------------------------------------------------------------
 * Staging labels
 */

/*
 * Which version carries each of AWS's three labels: a version id (owned), or NULL when no
 * version carries it. When a (malformed) answer puts one label on two versions, the first
 * one listed wins. Zero-initialise; gp_sm_labels_release() frees and zeroes.
 */
struct gp_sm_labels {
	char *current;
	char *pending;
	char *previous;
};
void gp_sm_labels_release(struct gp_sm_labels *l);

/*
 * What the labels say about a secret (the first four) or about one value read
 * (gp_sm_value_state()):
 *   NO_PENDING          AWSCURRENT and no AWSPENDING: the steady state.
 *   PENDING_DIFFERS     AWSPENDING on another version than AWSCURRENT: a rotation is in
 *                       progress (its new password may or may not be in PostgreSQL yet).
 *   PENDING_IS_CURRENT  AWSPENDING left on the AWSCURRENT version: a rotation finished but its
 *                       last step (removing AWSPENDING) did not happen.
 *   NO_CURRENT          no version carries AWSCURRENT (AWSPENDING may): nothing usable.
 *   VALUE_NOT_CURRENT   a value whose VersionStages lack AWSCURRENT (or whose answer has no
 *                       VersionId or no VersionStages): it is not the current value and must
 *                       not be taken as it; read AWSCURRENT again by label.
 * The strings of gp_sm_label_state_to_string() are "no-pending", "pending-differs",
 * "pending-is-current", "no-current" and "value-not-current".
 */
enum gp_sm_label_state {
	GP_SM_LABELS_NO_PENDING,
	GP_SM_LABELS_PENDING_DIFFERS,
	GP_SM_LABELS_PENDING_IS_CURRENT,
	GP_SM_LABELS_NO_CURRENT,
	GP_SM_LABELS_VALUE_NOT_CURRENT,
	_GP_SM_LABELS_MAX,
};
const char *gp_sm_label_state_to_string(enum gp_sm_label_state s);

/* The state of a secret's labels (never VALUE_NOT_CURRENT). */
enum gp_sm_label_state gp_sm_labels_state(const struct gp_sm_labels *l);
/* The same for an observed secret, from its current_version and pending_version. */
enum gp_sm_label_state gp_sm_secret_state(const struct gp_obs_secret *s);

/* ---------------------------------------------------------------------------------------
 * Requests
 */

/* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx": a UUID v4 from 16 random bytes, for
 * ClientRequestToken (AWS wants 32..64 characters). */
#define GP_SM_TOKEN_LEN 36
void gp_sm_token_format(const uint8_t bytes[static 16], char out[static GP_SM_TOKEN_LEN + 1]);

/*
 * ListSecrets: {"MaxResults":100,"NextToken":next,"Filters":[{"Key":"name","Values":[prefix]}]}.
 * NextToken only when next is not NULL, Filters only when prefix is not NULL/"".
 */
int gp_sm_list_request(const char *prefix, const char *next, struct gp_buf *out);

/* BatchGetSecretValue: {"SecretIdList":[names...],"NextToken":next}. NextToken only when next
 * is not NULL. -EINVAL when n is 0 or above GP_SM_BATCH_MAX, or a name is NULL/"". */
int gp_sm_batch_request(char *const *names, size_t n, const char *next, struct gp_buf *out);

/* GetSecretValue: {"SecretId":name,"VersionStage":stage}; stage NULL means AWSCURRENT, which
 * is written out because emulators answer with the right version only when it is named. */
int gp_sm_get_request(const char *name, const char *stage, struct gp_buf *out);

/*
 * CreateSecret: {"Name","Description","SecretString","ClientRequestToken","KmsKeyId","Tags"}.
 * Description is "PostgreSQL credentials for <key, else name> in <env, else ?>, managed by
 * gprdsd"; KmsKeyId only when kms_key_id is not NULL/""; Tags as gp_sm_tag_request() writes
 * them. name, secret_string and token are required.
 */
struct gp_sm_create {
	const char *name;
	const char *secret_string;
	const char *kms_key_id;
	const char *env; /* tag Environment; NULL leaves it out */
	const char *key; /* tag Application; NULL leaves it out */
	const char *token;
};
int gp_sm_create_request(const struct gp_sm_create *c, struct gp_buf *out);

/*
 * PutSecretValue: {"SecretId","SecretString","ClientRequestToken","VersionStages":[stage]}.
 * stage NULL leaves VersionStages out, and AWS then makes the new version AWSCURRENT; with
 * GP_SM_PENDING (rotation step 1) AWSCURRENT stays where it is and AWSPENDING moves to the
 * new version. The caller keeps token across retries, so a retried call whose first attempt
 * landed is not applied twice.
 */
int gp_sm_put_request(const char *name, const char *secret_string, const char *token,
		      const char *stage, struct gp_buf *out);

/*
 * UpdateSecretVersionStage: {"SecretId","VersionStage","MoveToVersionId",
 * "RemoveFromVersionId"}, the last two only when not NULL (one of them is required). Moving
 * AWSCURRENT to the pending version names the version it leaves in RemoveFromVersionId;
 * removing AWSPENDING names only RemoveFromVersionId.
 */
int gp_sm_stage_request(const char *name, const char *stage, const char *move_to,
			const char *remove_from, struct gp_buf *out);

/* TagResource: {"SecretId":name,"Tags":[{"Key":"managed-by","Value":"gprdsd"},
 * {"Key":"Environment","Value":env},{"Key":"Application","Value":key}]}; a NULL env or key
 * leaves its tag out. */
int gp_sm_tag_request(const char *name, const char *env, const char *key, struct gp_buf *out);

/* DeleteSecret: {"SecretId":name,"RecoveryWindowInDays":days}; -EINVAL when days is not in
 * GP_SM_RECOVERY_MIN..GP_SM_RECOVERY_MAX. */
int gp_sm_delete_request(const char *name, unsigned days, struct gp_buf *out);
/* RestoreSecret: cancels a scheduled deletion. */
int gp_sm_restore_request(const char *name, struct gp_buf *out);

/* ---------------------------------------------------------------------------------------
 * Responses
 */

/*
 * One ListSecrets page. Appends a struct gp_obs_secret to obs->secrets (unsorted) for each
 * entry of SecretList whose Name starts with prefix (NULL: every name; AWS's filter is a
 * looser match than a prefix): name; arn (NULL when absent); current_version,
 * pending_version and previous_version from SecretVersionsToStages; created and changed from
 * CreatedDate and LastChangedDate (epoch seconds, a number or a text gp_time_parse() reads;
 * 0 when absent or unreadable); managed when a tag gp_secret_tag_marks(); value_json NULL.
 * An entry without a Name is skipped. *ret_next receives NextToken (free()), or NULL on the
 * last page. On failure obs is as it was.
 */
int gp_sm_list_parse(const char *body, size_t len, const char *prefix, struct gp_observed *obs,
		     char **ret_next);

/*
 * The shape shared by GetSecretValue's answer, each entry of BatchGetSecretValue's
 * SecretValues, and the answers of CreateSecret and PutSecretValue. Every member is owned
 * and NULL when absent. labels holds version_id for each label in VersionStages (so labels
 * are empty when there is no VersionId). secret_string is wiped by gp_sm_value_release().
 */
struct gp_sm_value {
	char *name;
	char *version_id;
	char *secret_string;
	struct gp_sm_labels labels;
};
void gp_sm_value_release(struct gp_sm_value *v);
int gp_sm_value_parse(const char *body, size_t len, struct gp_sm_value *ret);
/* VALUE_NOT_CURRENT when v does not carry AWSCURRENT, else NO_PENDING or PENDING_IS_CURRENT. */
enum gp_sm_label_state gp_sm_value_state(const struct gp_sm_value *v);

/* One entry of BatchGetSecretValue's Errors; code is "UnknownError" when ErrorCode is absent. */
struct gp_sm_batch_error {
	char *secret_id; /* NULL when absent */
	char *code;
	char *message; /* NULL when absent */
};

/* One BatchGetSecretValue answer: SecretValues, Errors and NextToken (NULL on the last). */
struct gp_sm_batch {
	struct gp_sm_value *values;
	size_t n_values;
	struct gp_sm_batch_error *errors;
	size_t n_errors;
	char *next;
};
int gp_sm_batch_parse(const char *body, size_t len, struct gp_sm_batch *ret);
/* Frees every member (wiping each secret_string) and zeroes b. */
void gp_sm_batch_release(struct gp_sm_batch *b);

/* ---------------------------------------------------------------------------------------
 * Errors
 */

#define GP_SM_CODE_MAX 64
#define GP_SM_MESSAGE_MAX 512

/*
 * An answer that was not HTTP 200, classified:
 *  code       __type after its last '#' (JSON 1.1), else the XML <Code> that IAM-style front
 *             ends answer with, else "UnknownError";
 *  message    "message" or "Message" (JSON), else <Message> (XML), else "HTTP <status>"
 *             (" without an AWS error body" added when there was no code);
 *  throttled  HTTP 429, ThrottlingException, TooManyRequestsException, RequestLimitExceeded,
 *             Throttling;
 *  transient  throttled, HTTP 5xx, InternalServiceError/InternalFailure/ServiceUnavailable, or
 *             ExpiredTokenException;
 *  renew_credentials  ExpiredTokenException: cached credentials ran out early; fetch new
 *             ones before the retry.
 * Both texts are cut to fit their arrays.
 */
struct gp_sm_error {
	char code[GP_SM_CODE_MAX];
	char message[GP_SM_MESSAGE_MAX];
	long http_status;
	bool throttled;
	bool transient;
	bool renew_credentials;
};

/*
 * Classifies an answer with HTTP status and body (NULL or len 0: none) into *ret, and returns
 * the errno gprdsd maps it to: -ENOENT (ResourceNotFoundException), -EEXIST
 * (ResourceExistsException), -EACCES (an authentication or authorisation error, or HTTP 403),
 * -EIO (anything else).
 */
int gp_sm_error_classify(long status, const char *body, size_t len, struct gp_sm_error *ret);

/* Whether an error code (e.g. a BatchGetSecretValue ErrorCode) is worth retrying soon:
 * throttling or a server-side failure. */
bool gp_sm_code_transient(const char *code);

#endif
