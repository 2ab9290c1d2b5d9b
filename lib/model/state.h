/*
 * model/state.h — gprdsd's lifecycle record of each entry and the per-environment state file
 * that holds them (DESIGN §4.1), with its JSON codec. Records are sorted by key.
 */
#ifndef GP_MODEL_STATE_H
#define GP_MODEL_STATE_H

#include "model/types.h"

struct gp_record {
	char *key;
	char *database, *username;
	enum gp_state state;
	int64_t since;        /* when state was entered */
	char *reason;         /* why it is in this state (gate, error), or NULL */
	unsigned attempts;    /* consecutive failed attempts */
	int64_t next_retry;   /* 0: none scheduled */
	bool transient;       /* the last error was transient (retried on backoff) */
	char *last_commit;    /* commit of the inputs when last applied */
	char *verified_version; /* secret version whose credentials last logged in */
	int64_t verified_at;
	int64_t secret_changed; /* the secret's last change as last observed (its age), 0: unknown */
	int64_t grants_checked_at; /* editor/reader: in-database privileges last observed */
	char *current_version;   /* the secret's AWSCURRENT version as last observed */
	char *current_username;  /* the role AWSCURRENT names (alternating rotation), or NULL */
	int64_t current_since;   /* since when it is current: the age rotation goes by (0: unknown) */
	int64_t rotation_due;    /* when the password's age reaches its period (0: unknown) */
	int64_t rotating_since;  /* a rotation in progress (AWSPENDING) seen since then, or 0 */
	int64_t retry_used;      /* the `gprdsd retry` request (its time) a pass last used, or 0:
				  * a request is used once (plan/lifecycle.h) */
	char *route;             /* its request contract's approval route (DESIGN §1.3a), or NULL */
	char *approvals_missing; /* the groups of that route approved_by lacks ("a, b"), or NULL */
};

struct gp_state_file {
	char *env;
	int64_t last_pass;    /* the last pass that got as far as trying (0: none) */
	int64_t last_success; /* the last pass that reconciled the environment */
	char *last_error;     /* why the last pass could not reconcile it, or NULL */
	struct gp_strv orphans; /* the orphans last reported ("role x", ...), sorted: each one is
				 * reported once, when it first appears */
	int64_t confirm_used;   /* the mass-change confirmation (requests file) last used, 0 */
	struct gp_strv secret_prefixes; /* the Secrets Manager name prefixes read (the current
					 * secret.name's, and former ones still holding a managed
					 * secret): secrets left under a former template are
					 * orphans, not forgotten */
	struct gp_record *v;  /* sorted by key */
	size_t n;
};
struct gp_state_file *gp_state_file_new(const char *env);
void gp_state_file_free(struct gp_state_file *s);
DEFINE_FREEP(struct gp_state_file, gp_state_file_free)
struct gp_record *gp_state_find(struct gp_state_file *s, const char *key);
/* Returns the record for key, creating a pending one (since = now) when missing. Finding is
 * O(log n); creating one moves the records after it and may move the array: O(n), and
 * pointers into s->v are invalid afterwards. To create many, gp_state_reserve() first. */
int gp_state_upsert(struct gp_state_file *s, const char *key, int64_t now, struct gp_record **ret);
/* Makes sure every one of keys[0..n) has a record, creating the missing ones as pending
 * (since = now) with one sort and one merge: O((n + s->n) log n). NULL keys and duplicates are
 * fine. Pointers into s->v are invalid afterwards. 0, or -ENOMEM (then s is unchanged). */
int gp_state_reserve(struct gp_state_file *s, const char *const *keys, size_t n, int64_t now);
void gp_record_release(struct gp_record *r);
/* A deep copy (NULL on ENOMEM). The daemon copies the records it keeps after a busy pass, so
 * that they sit together in memory instead of scattered among the pass's freed allocations. */
struct gp_state_file *gp_state_file_dup(const struct gp_state_file *s);
/* JSON codec (state.c). Parse errors go to diags with the file name. */
int gp_state_parse(const char *buf, size_t len, const char *name, struct gp_state_file **ret,
		   struct gp_diags *diags);
int gp_state_render(const struct gp_state_file *s, struct gp_buf *out);
/* A 64-bit digest of everything gp_state_render() writes except last_pass and last_success:
 * the daemon rewrites the file only when it changed. */
uint64_t gp_state_digest(const struct gp_state_file *s);

#endif
