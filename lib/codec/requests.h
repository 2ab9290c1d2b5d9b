/*
 * codec/requests.h — the requests file an operator's command leaves for the pass of one
 * environment: `<state_dir>/<env>.requests.json`, written by `gprdsd rotate` (and read by the
 * daemon, which a change of the file wakes, or by the command's own pass).
 *
 * Format, version 1:
 *   {"version": 1, "env": "dev",
 *    "rotate": [{"key": "inventory", "at": "2026-12-06T10:00:00Z", "by": "alice@bastion",
 *                "version": "<AWSCURRENT version id when asked>"}],
 *    "retry": [{"key": "ledger", "at": "2026-12-06T10:00:00Z", "by": "alice@bastion"}],
 *    "confirm_mass_change": {"at": "...", "by": "..."} | null}
 * "retry" (`gprdsd retry`) may be absent: a file written before it existed reads as no retry
 * requests. Each list is sorted by key, one request per key (the newest). A rotate request is
 * done once AWSCURRENT is another version than the one it names (plan/rotation.h), a retry
 * request once the entry's record has used it (plan/lifecycle.h); neither needs removal: the
 * command drops requests that are done when it writes the file.
 */
#ifndef GP_CODEC_REQUESTS_H
#define GP_CODEC_REQUESTS_H

#include "base/diag.h"
#include "plan/lifecycle.h"
#include "plan/rotation.h"

struct gp_requests {
	struct gp_rotate_request *rotate; /* sorted by key */
	size_t n_rotate;
	struct gp_retry_request *retry; /* sorted by key */
	size_t n_retry;
	/* `gprdsd --once --confirm-mass-change`: the next pass after `at` may pass the guard
	 * (DESIGN §4.6), once (the state file remembers the confirmation it used). */
	int64_t confirm_at;
	char *confirm_by;
};
void gp_requests_release(struct gp_requests *r);

/* Parses buf (name for diagnostics). A malformed file is -EINVAL with the reason in diags. */
int gp_requests_parse(const char *buf, size_t len, const char *name, struct gp_requests *ret,
		      struct gp_diags *diags);
int gp_requests_render(const struct gp_requests *r, const char *env, struct gp_buf *out);
/* Adds (or replaces) the rotate request of key (version may be NULL). -ENOMEM. */
int gp_requests_add_rotate(struct gp_requests *r, const char *key, int64_t at, const char *by,
			   const char *version);
/* Adds (or replaces) the retry request of key. -ENOMEM. */
int gp_requests_add_retry(struct gp_requests *r, const char *key, int64_t at, const char *by);
/* Whether s shows request q done: the key's current version is another than q's. */
bool gp_request_done(const struct gp_rotate_request *q, const struct gp_state_file *s);
/* Drops the requests that s shows done: rotate requests by gp_request_done(), retry requests
 * that the key's record used (gp_retry_used()) or whose key has no record. */
void gp_requests_prune(struct gp_requests *r, const struct gp_state_file *s);

#endif
