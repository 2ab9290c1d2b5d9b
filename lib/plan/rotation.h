/*
 * plan/rotation.h — secret rotation (DESIGN §4.4): which entries rotate in a pass, why, and
 * the ClientRequestToken of a rotation's first step. The steps themselves are rows of the
 * action table (plan/action.h) that the planner appends (rotation.c).
 *
 * When. The current password's age is the age of the secret's AWSCURRENT version: the record
 * remembers the version and since when it is current (from Secrets Manager's LastChangedDate
 * when gprdsd first sees the version, or the time gprdsd wrote it), so a no-op pass needs no
 * call per secret. An active entry is due when that age reaches rotation.<risk> (up to a tenth
 * early, by an offset the key fixes, as gp_check_due() spreads checks: secrets created
 * together do not all come due in one pass), when the catalog's metadata.rotate_after is past
 * and newer than the current version, or when `gprdsd rotate` asked for it after the current
 * version was made. At most rotation.max_per_pass rotations start in one pass: on-demand ones
 * first, then the oldest; scheduled ones only inside rotation.window when one is set. A
 * rotation in progress (an AWSPENDING version, whoever left it) is always finished, before
 * anything else on that entry, and counts toward no limit.
 */
#ifndef GP_PLAN_ROTATION_H
#define GP_PLAN_ROTATION_H

#include "model/desired.h"
#include "model/observed.h"
#include "model/state.h"
#include "plan/opts.h"

enum gp_rotation_why {
	GP_ROTATE_NO,      /* not rotated in this pass */
	GP_ROTATE_AGE,     /* the current version is as old as the risk's period */
	GP_ROTATE_AFTER,   /* catalog metadata.rotate_after */
	GP_ROTATE_REQUEST, /* gprdsd rotate */
	GP_ROTATE_RESUME,  /* a rotation in progress (AWSPENDING) is finished */
	_GP_ROTATE_MAX,
};
const char *gp_rotation_why_to_string(enum gp_rotation_why w);

/* A `gprdsd rotate` request: rotate key while AWSCURRENT is still `version` (the one current
 * when it was asked); without a version, while the current version is older than at. */
struct gp_rotate_request {
	char *key;
	int64_t at;
	char *by;      /* who asked (user@host), for the audit */
	char *version; /* AWSCURRENT when asked, or NULL */
};

/* One entry's rotation as planned, also what status, plan and metrics show. */
struct gp_rotation {
	enum gp_rotation_why why;
	int64_t current_since; /* the AWSCURRENT version is current since then (0: unknown) */
	uint64_t period_ms;    /* rotation.<risk> */
	int64_t due_at;        /* current_since + period (0: unknown) */
	bool deferred;         /* due, but not started: rotation.window or max_per_pass */
	bool in_progress;      /* an AWSPENDING version exists */
	const char *requested_by; /* GP_ROTATE_REQUEST: who asked (borrowed from the request) */
};

/* Since when the AWSCURRENT version is current: the record's time while the version is the
 * one it remembers, else the secret's last change (its creation when it never changed). */
int64_t gp_rotation_current_since(const struct gp_record *rec, const struct gp_obs_secret *s);

/*
 * Decides every entry's rotation for one pass (rot has d->n elements). Pure; the same inputs
 * give the same decisions, so the observe step (which values to read) and the planner agree.
 * opts->requests (sorted by key) are the `gprdsd rotate` requests. -ENOMEM.
 */
int gp_rotation_select(const struct gp_desired *d, const struct gp_observed *o,
		       const struct gp_state_file *s, const struct gp_plan_opts *opts,
		       struct gp_rotation *rot);

/* The ClientRequestToken of the rotation of secret from version `from` (a UUID-shaped hash):
 * every retry of the same rotation sends the same token, so a write that happened before a
 * crash or a lost answer is not made twice. */
void gp_rotation_token(const char *secret, const char *from, char out[static 37]);

#endif
