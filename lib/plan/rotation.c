/*
 * plan/rotation.c — which entries rotate their password in a pass (rotation.h), and the
 * actions of the staging-label protocol of DESIGN §4.4:
 *   1. rotate_stage         PutSecretValue: a fresh password staged AWSPENDING, with a
 *                           ClientRequestToken derived from the version it rotates from;
 *   2. rotate_set_password  the target role takes the pending password (skipped when a login
 *                           with it already works, as observed);
 *   3. rotate_verify        log in with the pending credentials;
 *   4. rotate_promote       AWSCURRENT moves to the pending version, AWSPENDING is removed.
 * Each step is recognised from what the pass observed (the labels, a login with the pending
 * password), so a pass that finds a rotation half done finishes it, whoever began it.
 *
 * Strategies: single rotates the role in place (the target is <username>); alternating keeps
 * a second login role <username>_alt, a member of <username> whose sessions SET role to it,
 * and each rotation gives the role AWSCURRENT does not name a new password, so the previous
 * credentials work until the next rotation.
 *
 * Deliberately not here: executing the steps (daemon/apply.c), reading the labels
 * (codec/sm_wire.c), pacing of checks (checks.c).
 */
#include "plan/rotation.h"

#include <stdio.h>

#include <openssl/evp.h>

#include "codec/secret.h"
#include "codec/sm_wire.h"
#include "model/names.h"
#include "plan/checks.h"
#include "plan/entry.h"

static const char *const why_names[_GP_ROTATE_MAX] = {
	[GP_ROTATE_NO] = "no",
	[GP_ROTATE_AGE] = "age",
	[GP_ROTATE_AFTER] = "rotate_after",
	[GP_ROTATE_REQUEST] = "request",
	[GP_ROTATE_RESUME] = "resume",
};

const char *
gp_rotation_why_to_string(enum gp_rotation_why w)
{
	return (size_t)w < _GP_ROTATE_MAX ? why_names[w] : "?";
}

int64_t
gp_rotation_current_since(const struct gp_record *rec, const struct gp_obs_secret *s)
{
	if (!s || !s->current_version)
		return 0;
	if (rec && rec->current_since && gp_streq(rec->current_version, s->current_version))
		return rec->current_since;
	return s->changed ? s->changed : s->created;
}

void
gp_rotation_token(const char *secret, const char *from, char out[static 37])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memset(md, 0, sizeof(md));
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
		EVP_DigestUpdate(ctx, "gprdsd-rotation", 16);
		EVP_DigestUpdate(ctx, secret ? secret : "", strlen(secret ? secret : "") + 1);
		EVP_DigestUpdate(ctx, from ? from : "", strlen(from ? from : ""));
		EVP_DigestFinal_ex(ctx, md, &n);
	}
	EVP_MD_CTX_free(ctx);
	gp_sm_token_format(md, out);
}

/* ---------------------------------------------------------------------------------------
 * Selection
 */

static const struct gp_rotate_request *
find_request(const struct gp_plan_opts *opts, const char *key)
{
	size_t lo = 0, hi = opts->n_requests;

	while (key && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(opts->requests[mid].key, key);

		if (c == 0)
			return &opts->requests[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Why the entry would rotate now, ignoring pacing; fills the status fields of *rot. */
static void
rotation_due(const struct gp_entry *e, const struct gp_record *rec,
	     const struct gp_obs_secret *s, const struct gp_plan_opts *opts,
	     struct gp_rotation *rot)
{
	const struct gp_rotate_request *req = find_request(opts, e->key);
	int64_t since = gp_rotation_current_since(rec, s);
	uint64_t period = opts->env ? opts->env->rotation_ms[e->risk < _GP_RISK_MAX ? e->risk : 0]
				    : 30ULL * 86400 * 1000;

	*rot = (struct gp_rotation){.current_since = since, .period_ms = period,
				    .due_at = since ? since + (int64_t)(period / 1000) : 0};
	if (!s || !s->current_version)
		return;
	if (s->pending_version) {
		rot->why = GP_ROTATE_RESUME;
		rot->in_progress = true;
		return;
	}
	if (!rec || rec->state != GP_STATE_ACTIVE || !since)
		return;
	if (req && (req->version ? gp_streq(req->version, s->current_version) : req->at > since)) {
		rot->why = GP_ROTATE_REQUEST;
		rot->requested_by = req->by;
	} else if (e->rotate_after && e->rotate_after <= opts->now && since < e->rotate_after) {
		rot->why = GP_ROTATE_AFTER;
	} else if (since <= opts->now && gp_check_due(opts->now, since, period, e->key)) {
		/* A version newer than now (the clock stepped back) is not old. */
		rot->why = GP_ROTATE_AGE;
	}
}

struct candidate {
	size_t i;
	bool on_demand;
	int64_t since;
};

static int
cmp_candidate(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->on_demand != y->on_demand)
		return x->on_demand ? -1 : 1;
	if (x->since != y->since)
		return x->since < y->since ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

static bool
window_open(const struct gp_plan_opts *opts)
{
	unsigned a, b;

	if (!opts->env || gp_isempty(opts->env->rotation.window) ||
	    gp_window_parse(opts->env->rotation.window, &a, &b) < 0)
		return true;
	return gp_window_contains(a, b, opts->now);
}

int
gp_rotation_select(const struct gp_desired *d, const struct gp_observed *o,
		   const struct gp_state_file *s, const struct gp_plan_opts *opts,
		   struct gp_rotation *rot)
{
	_cleanup_free_ struct candidate *c = calloc(d->n + 1, sizeof(*c));
	unsigned max = opts->env && opts->env->rotation.max_per_pass ? opts->env->rotation.max_per_pass
								      : 10;
	bool open = window_open(opts);
	size_t n = 0;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < d->n; i++) {
		const struct gp_entry *e = &d->v[i];
		const struct gp_record *rec = gp_state_find((struct gp_state_file *)s, e->key);
		bool on_demand;

		rot[i] = (struct gp_rotation){0};
		if (e->hold != GP_HOLD_NONE || gp_entry_waiting(rec, opts))
			continue;
		rotation_due(e, rec, gp_observed_secret(o, e->secret_name), opts, &rot[i]);
		if (rot[i].why == GP_ROTATE_NO || rot[i].why == GP_ROTATE_RESUME)
			continue;
		on_demand = rot[i].why != GP_ROTATE_AGE;
		if (!on_demand && !open) {
			rot[i].deferred = true;
			rot[i].why = GP_ROTATE_NO;
			continue;
		}
		c[n++] = (struct candidate){i, on_demand, rot[i].current_since};
	}
	qsort(c, n, sizeof(*c), cmp_candidate);
	for (size_t k = max; k < n; k++) {
		rot[c[k].i].deferred = true;
		rot[c[k].i].why = GP_ROTATE_NO;
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * The steps
 */

static void
why_text(const struct gp_entry_ctx *c, struct gp_buf *b)
{
	const struct gp_rotation *rot = c->rot;
	char period[32], t[21];

	switch (rot->why) {
	case GP_ROTATE_AGE:
		gp_duration_format(rot->period_ms, period, sizeof(period));
		gp_buf_printf(b, "age %.1fd, period %s for risk %s",
			      (double)(c->opts->now - rot->current_since) / 86400.0, period,
			      gp_risk_to_string(c->e->risk));
		break;
	case GP_ROTATE_AFTER:
		gp_time_format(c->e->rotate_after, t);
		gp_buf_printf(b, "catalog rotate_after %s", t);
		break;
	case GP_ROTATE_REQUEST:
		gp_buf_printf(b, "gprdsd rotate by %s", rot->requested_by ? rot->requested_by : "?");
		break;
	default:
		gp_buf_puts(b, "a rotation in progress is finished");
		break;
	}
}

static struct gp_action *
step(struct gp_entry_ctx *c, enum gp_action_kind kind, const char *role, enum gp_cred cred,
     const char *what)
{
	struct gp_buf why = {0};
	struct gp_action *a;

	why_text(c, &why);
	a = gp_entry_add_action(c, kind, GP_WHY_ROTATE,
				kind == GP_ACT_ROTATE_SET_PASSWORD ? NULL : c->e->database, role,
				NULL, "%s (%s)", what, why.p ? why.p : "");
	gp_buf_release(&why);
	gp_entry_set_cred(a, cred);
	return a;
}

static void
set_version(struct gp_entry_ctx *c, struct gp_action *a, const char *version)
{
	if (a && !(a->version = strdup(version ? version : "")))
		c->r = -ENOMEM;
}

/* Single strategy: should anything fail once the role took the pending password, it takes
 * the AWSCURRENT one back (AWSCURRENT must keep working). */
static void
plan_undo(struct gp_entry_ctx *c)
{
	struct gp_entry_plan *ep = c->ep;
	struct gp_action *a;

	if (c->e->strategy != GP_STRATEGY_SINGLE || c->r < 0 || ep->n_actions == 0)
		return;
	a = calloc(1, sizeof(*a));
	if (!a) {
		c->r = -ENOMEM;
		return;
	}
	*a = (struct gp_action){.kind = GP_ACT_ROTATE_UNDO, .why = GP_WHY_ROTATE,
				.cred = GP_CRED_CURRENT, .createdb = c->e->createdb,
				.access = c->e->access};
	a->role = strdup(c->e->username);
	a->detail = strdup("if the rotation fails after this, the role takes the AWSCURRENT "
			   "password back");
	if (!a->role || !a->detail) {
		gp_action_release(a);
		free(a);
		c->r = -ENOMEM;
		return;
	}
	ep->undo = a;
	ep->n_undo = 1;
	ep->undo_after = ep->n_actions - 1;
}

/* The role the pending version names: one of the entry's roles, or (no username in it, or
 * not read) the entry's username; NULL when it names somebody else. */
static char *
pending_role(const struct gp_entry_ctx *c)
{
	char *u = NULL;

	if (!c->secret->pending_value_json ||
	    gp_secret_username(c->secret->pending_value_json, &u) < 0)
		return strdup(c->e->username);
	if (gp_streq(u, c->e->username) || gp_streq(u, c->e->alt_username))
		return u;
	free(u);
	return NULL;
}

/* Steps 2 and 3 (unless the pending password logs in already), then 4. */
static void
finish(struct gp_entry_ctx *c, const char *target, bool set_password)
{
	struct gp_action *a;

	if (set_password) {
		step(c, GP_ACT_ROTATE_SET_PASSWORD, target, GP_CRED_PENDING,
		     "step 2 of 4: the role takes the pending password");
		plan_undo(c);
		step(c, GP_ACT_ROTATE_VERIFY, target, GP_CRED_PENDING,
		     "step 3 of 4: log in with the pending credentials");
	}
	a = step(c, GP_ACT_ROTATE_PROMOTE, target, GP_CRED_NONE,
		 "step 4 of 4: AWSCURRENT moves to the pending version");
	set_version(c, a, c->secret->current_version);
}

void
gp_rotation_plan_resume(struct gp_entry_ctx *c)
{
	const struct gp_obs_secret *s = c->secret;
	_cleanup_free_ char *target = NULL;
	const struct gp_obs_login *login;
	struct gp_action *a;

	c->rotating = true;
	if (gp_streq(s->pending_version, s->current_version)) {
		a = step(c, GP_ACT_ROTATE_PROMOTE, c->current_role, GP_CRED_NONE,
			 "step 4 of 4: remove AWSPENDING from the current version");
		set_version(c, a, s->current_version);
		return;
	}
	target = pending_role(c);
	if (!target) {
		/* It names no role of this entry: finishing it could give the role applications
		 * use a password they do not have. A person must look at it. */
		c->ep->refused = strdup("the AWSPENDING version names a user that is not a role of "
					"this entry; the rotation cannot be finished (remove the "
					"AWSPENDING label, or fix its username)");
		c->r = c->ep->refused ? 0 : -ENOMEM;
		return;
	}
	login = gp_observed_login(c->o, target);
	finish(c, target, !login || !login->ok || !gp_streq(login->version, s->pending_version));
}

void
gp_rotation_plan_start(struct gp_entry_ctx *c)
{
	const struct gp_entry *e = c->e;
	const char *target = e->username;
	struct gp_action *a;

	if (e->alt_username && gp_streq(c->current_role, e->username))
		target = e->alt_username;
	c->rotating = true;
	a = step(c, GP_ACT_ROTATE_STAGE, target, GP_CRED_NEW,
		 "step 1 of 4: a new password, staged AWSPENDING");
	set_version(c, a, c->secret->current_version);
	finish(c, target, true);
}

/* ---------------------------------------------------------------------------------------
 * The second role of the alternating strategy
 */

static enum gp_why
alt_why(const struct gp_entry_ctx *c)
{
	return c->rec && c->rec->state == GP_STATE_ACTIVE ? GP_WHY_DRIFT : GP_WHY_ADOPT;
}

static void
alt_existing(struct gp_entry_ctx *c, const struct gp_obs_role *r, const char *marker)
{
	const struct gp_entry *e = c->e;

	if (!r->login || r->superuser || r->createrole || r->replication || r->bypassrls ||
	    !r->inherit || r->createdb != e->createdb)
		gp_entry_add_action(c, GP_ACT_ALTER_ROLE, alt_why(c), NULL, e->alt_username, NULL,
				    "the second role's attributes differ");
	if (!gp_streq(r->comment, marker))
		gp_entry_add_action(c, GP_ACT_COMMENT_ROLE, alt_why(c), NULL, e->alt_username, NULL,
				    "%s", marker);
	if (c->role_created || !gp_observed_is_member(c->o, e->username, e->alt_username))
		gp_entry_add_action(c, GP_ACT_GRANT_MEMBERSHIP,
				    c->role_created ? GP_WHY_NEW : alt_why(c), NULL, e->alt_username,
				    e->username, "the second role acts as %s", e->username);
	if (!gp_streq(r->set_role, e->username))
		gp_entry_add_action(c, GP_ACT_SET_ROLE_DEFAULT, alt_why(c), NULL, e->alt_username,
				    e->username, "its sessions act as %s", e->username);
}

void
gp_rotation_plan_alt_role(struct gp_entry_ctx *c, const char *env)
{
	const struct gp_entry *e = c->e;
	const struct gp_obs_role *r;
	struct gp_buf marker = {0};

	if (!e->alt_username)
		return;
	gp_role_marker(env, e->key, &marker);
	r = gp_observed_role(c->o, e->alt_username);
	if (r) {
		alt_existing(c, r, marker.p);
	} else {
		gp_entry_add_action(c, GP_ACT_CREATE_ROLE, GP_WHY_NEW, NULL, e->alt_username, NULL,
				    "the second role of alternating rotation; no password until "
				    "its first rotation");
		gp_entry_add_action(c, GP_ACT_COMMENT_ROLE, GP_WHY_NEW, NULL, e->alt_username,
				    NULL, "%s", marker.p);
		gp_entry_add_action(c, GP_ACT_GRANT_MEMBERSHIP, GP_WHY_NEW, NULL, e->alt_username,
				    e->username, "the second role acts as %s", e->username);
		gp_entry_add_action(c, GP_ACT_SET_ROLE_DEFAULT, GP_WHY_NEW, NULL, e->alt_username,
				    e->username, "its sessions act as %s", e->username);
	}
	if (marker.oom)
		c->r = -ENOMEM;
	gp_buf_release(&marker);
}
