/*
 * plan/action.c — the table of action kinds, and what is done with an action as a value:
 * describing it, rendering it as JSON, releasing it, and the guard that refuses a
 * destructive action on anything gprdsd does not manage.
 *
 * Deliberately not here: deciding which actions a pass needs (plan.c) and executing them
 * (daemon/apply.c with pg_apply.c and sm.c).
 */
#include "plan/action.h"

#include <cjson/cJSON.h>

#include "model/names.h"

#define F_ROLE_ID (GP_AF_KEY | GP_AF_ROLE)

static const struct gp_action_info table[_GP_ACT_MAX] = {
	[GP_ACT_CREATE_SECRET] = {"create_secret", false, GP_TARGET_SECRET,
				  GP_AF_KEY | GP_AF_SECRET | GP_AF_ROLE | GP_AF_DATABASE |
					  GP_AF_CRED,
				  GP_DESC_SECRET, GP_OBJ_SECRET,
				  .summary = "created secret {secret}"},
	[GP_ACT_ADOPT_SECRET] = {"adopt_secret", false, GP_TARGET_SECRET,
				 GP_AF_KEY | GP_AF_SECRET | GP_AF_ROLE | GP_AF_DATABASE |
					 GP_AF_CRED,
				 GP_DESC_SECRET, GP_OBJ_SECRET,
				 .summary = "adopted secret {secret}"},
	[GP_ACT_UPDATE_SECRET] = {"update_secret", false, GP_TARGET_SECRET,
				  GP_AF_SECRET | GP_AF_ROLE | GP_AF_DATABASE | GP_AF_CRED,
				  GP_DESC_SECRET, GP_OBJ_SECRET,
				  .summary = "rewrote secret {secret}"},
	[GP_ACT_CREATE_ROLE] = {"create_role", false, GP_TARGET_ROLE,
				GP_AF_ROLE | GP_AF_CREATEDB | GP_AF_CRED, GP_DESC_ROLE, GP_OBJ_NONE,
				.summary = "created role {role}"},
	[GP_ACT_ALTER_ROLE] = {"alter_role", false, GP_TARGET_ROLE, GP_AF_ROLE | GP_AF_CREATEDB,
			       GP_DESC_ROLE, GP_OBJ_NONE, .summary = "altered role {role}"},
	[GP_ACT_SET_PASSWORD] = {"set_password", false, GP_TARGET_ROLE,
				 GP_AF_ROLE | GP_AF_CREATEDB | GP_AF_CRED, GP_DESC_ROLE,
				 GP_OBJ_NONE, .summary = "set the password of role {role}"},
	[GP_ACT_COMMENT_ROLE] = {"comment_role", false, GP_TARGET_ROLE, F_ROLE_ID, GP_DESC_ROLE,
				 GP_OBJ_NONE, .summary = "marked role {role} as managed"},
	[GP_ACT_GRANT_MEMBERSHIP] = {"grant_membership", false, GP_TARGET_ROLE,
				     GP_AF_ROLE | GP_AF_OWNER, GP_DESC_OWNER_TO_ROLE, GP_OBJ_OWNER,
				     .summary = "granted role {owner} to {role}"},
	[GP_ACT_CREATE_DATABASE] = {"create_database", false, GP_TARGET_DATABASE,
				    GP_AF_DATABASE | GP_AF_OWNER, GP_DESC_DATABASE, GP_OBJ_OWNER,
				    .summary = "created database {database} owned by {owner}"},
	[GP_ACT_ALTER_DATABASE_OWNER] = {"alter_database_owner", false, GP_TARGET_DATABASE,
					 GP_AF_DATABASE | GP_AF_OWNER, GP_DESC_DATABASE,
					 GP_OBJ_OWNER,
					 .summary = "gave database {database} back to {owner}"},
	[GP_ACT_REVOKE_PUBLIC] = {"revoke_public", false, GP_TARGET_DATABASE, GP_AF_DATABASE,
				  GP_DESC_ON_DATABASE, GP_OBJ_PUBLIC,
				  .summary = "revoked PUBLIC's access to {database}"},
	[GP_ACT_GRANT_CONNECT] = {"grant_connect", false, GP_TARGET_DATABASE,
				  GP_AF_DATABASE | GP_AF_ROLE, GP_DESC_ROLE_ON_DB, GP_OBJ_NONE,
				  .summary = "granted CONNECT on {database} to {role}"},
	[GP_ACT_APPLY_GRANTS] = {"apply_grants", false, GP_TARGET_DATABASE,
				 GP_AF_DATABASE | GP_AF_ROLE | GP_AF_OWNER | GP_AF_ACCESS,
				 GP_DESC_ROLE_ON_DB, GP_OBJ_OWNER,
				 .summary = "granted {access} privileges on {database} to {role}"},
	[GP_ACT_VERIFY_LOGIN] = {"verify_login", false, GP_TARGET_LOGIN,
				 GP_AF_DATABASE | GP_AF_ROLE | GP_AF_CRED, GP_DESC_ROLE_ON_DB,
				 GP_OBJ_NONE,
				 .summary = "verified the login of {role} on {database}"},
	[GP_ACT_SET_ROLE_DEFAULT] = {"set_role_default", false, GP_TARGET_ROLE,
				     GP_AF_ROLE | GP_AF_OWNER, GP_DESC_ROLE, GP_OBJ_OWNER,
				     .summary = "made {owner} the default role of {role}"},
	[GP_ACT_ROTATE_STAGE] = {"rotate_stage", false, GP_TARGET_SECRET,
				 GP_AF_KEY | GP_AF_SECRET | GP_AF_ROLE | GP_AF_DATABASE |
					 GP_AF_CRED,
				 GP_DESC_SECRET, GP_OBJ_SECRET, "rotate_secret",
				 .summary = "staged a new password in {secret}"},
	[GP_ACT_ROTATE_SET_PASSWORD] = {"rotate_set_password", false, GP_TARGET_ROLE,
					GP_AF_ROLE | GP_AF_CREATEDB | GP_AF_CRED, GP_DESC_ROLE,
					GP_OBJ_NONE, "rotate_secret",
					.summary = "gave role {role} the new password"},
	[GP_ACT_ROTATE_VERIFY] = {"rotate_verify", false, GP_TARGET_LOGIN,
				  GP_AF_DATABASE | GP_AF_ROLE | GP_AF_CRED, GP_DESC_ROLE_ON_DB,
				  GP_OBJ_NONE, "rotate_secret",
				  .summary = "verified the new password of {role} on {database}"},
	[GP_ACT_ROTATE_PROMOTE] = {"rotate_promote", false, GP_TARGET_SECRET, GP_AF_SECRET,
				   GP_DESC_SECRET, GP_OBJ_SECRET, "rotate_secret",
				   .summary = "made the new password of {secret} current"},
	[GP_ACT_ROTATE_UNDO] = {"rotate_undo", false, GP_TARGET_ROLE,
				GP_AF_ROLE | GP_AF_CREATEDB | GP_AF_CRED, GP_DESC_ROLE, GP_OBJ_NONE,
				"rotate_secret",
				.summary = "gave role {role} its current password back"},
	[GP_ACT_RESTORE_SECRET] = {"restore_secret", false, GP_TARGET_SECRET, GP_AF_SECRET,
				   GP_DESC_SECRET, GP_OBJ_SECRET, NULL,
				   .summary = "restored secret {secret}"},
	[GP_ACT_DUMP_DATABASE] = {"dump_database", false, GP_TARGET_DATABASE, GP_AF_DATABASE,
				  GP_DESC_DATABASE, GP_OBJ_NONE, "decommission",
				  .summary = "dumped database {database}"},
	[GP_ACT_LOCK_DATABASE] = {"lock_database", true, GP_TARGET_DATABASE, GP_AF_DATABASE,
				  GP_DESC_DATABASE, GP_OBJ_NONE, "decommission",
				  .summary = "locked database {database}"},
	[GP_ACT_REVOKE_CONNECT] = {"revoke_connect", true, GP_TARGET_DATABASE,
				   GP_AF_DATABASE | GP_AF_ROLE, GP_DESC_ROLE_ON_DB, GP_OBJ_NONE,
				   "decommission",
				   .summary = "revoked CONNECT on {database} from {role}"},
	[GP_ACT_DISABLE_ROLE] = {"disable_role", true, GP_TARGET_ROLE, GP_AF_KEY | GP_AF_ROLE,
				 GP_DESC_ROLE, GP_OBJ_NONE, NULL,
				 .summary = "disabled the login of role {role}"},
	[GP_ACT_DROP_DATABASE] = {"drop_database", true, GP_TARGET_DATABASE, GP_AF_DATABASE,
				  GP_DESC_DATABASE, GP_OBJ_NONE, "decommission",
				  .summary = "dropped database {database}"},
	[GP_ACT_DROP_OWNED] = {"drop_owned", true, GP_TARGET_ROLE,
			       GP_AF_KEY | GP_AF_ROLE | GP_AF_DATABASE | GP_AF_OWNER,
			       GP_DESC_ROLE_ON_DB, GP_OBJ_OWNER, "decommission",
			       .summary = "dropped what {role} owns in {database}"},
	[GP_ACT_DROP_ROLE] = {"drop_role", true, GP_TARGET_ROLE, GP_AF_KEY | GP_AF_ROLE,
			      GP_DESC_ROLE, GP_OBJ_NONE, "decommission",
			      .summary = "dropped role {role}"},
	[GP_ACT_DELETE_SECRET] = {"delete_secret", true, GP_TARGET_SECRET, GP_AF_SECRET,
				  GP_DESC_SECRET, GP_OBJ_SECRET, "decommission",
				  .summary = "scheduled secret {secret} for deletion"},
};

static const char *const why_names[_GP_WHY_MAX] = {
	[GP_WHY_NEW] = "new",	  [GP_WHY_DRIFT] = "drift",   [GP_WHY_ADOPT] = "adopt",
	[GP_WHY_CHECK] = "check", [GP_WHY_ROTATE] = "rotate", [GP_WHY_REMOVE] = "remove",
};

static const char *const cred_names[_GP_CRED_MAX] = {
	[GP_CRED_NONE] = "none",
	[GP_CRED_NEW] = "new",
	[GP_CRED_CURRENT] = "current",
	[GP_CRED_PENDING] = "pending",
};

const struct gp_action_info *
gp_action_info(enum gp_action_kind k)
{
	return (size_t)k < _GP_ACT_MAX ? &table[k] : NULL;
}

const char *
gp_action_kind_to_string(enum gp_action_kind k)
{
	return (size_t)k < _GP_ACT_MAX ? table[k].name : "?";
}

const char *
gp_why_to_string(enum gp_why w)
{
	return (size_t)w < _GP_WHY_MAX ? why_names[w] : "?";
}

const char *
gp_cred_to_string(enum gp_cred c)
{
	return (size_t)c < _GP_CRED_MAX ? cred_names[c] : "?";
}

void
gp_action_release(struct gp_action *a)
{
	free(a->key);
	free(a->database);
	free(a->role);
	free(a->secret);
	free(a->owner);
	free(a->version);
	free(a->detail);
	*a = (struct gp_action){0};
}

const char *
gp_action_audit_name(const struct gp_action *a)
{
	const struct gp_action_info *info = gp_action_info(a->kind);

	if (info && info->audit)
		return info->audit;
	return a->why == GP_WHY_DRIFT ? "repair" : gp_action_kind_to_string(a->kind);
}

static const char *
or_q(const char *s)
{
	return s ? s : "?";
}

/* The kind and the object it names: "grant_connect reporting_ro on inventory_service". */
static void
describe_object(const struct gp_action *a, struct gp_buf *out)
{
	const struct gp_action_info *info = gp_action_info(a->kind);

	gp_buf_puts(out, gp_action_kind_to_string(a->kind));
	switch (info ? info->describe : GP_DESC_ROLE) {
	case GP_DESC_SECRET:
		gp_buf_printf(out, " %s", or_q(a->secret));
		break;
	case GP_DESC_DATABASE:
		gp_buf_printf(out, " %s", or_q(a->database));
		break;
	case GP_DESC_ON_DATABASE:
		gp_buf_printf(out, " on %s", or_q(a->database));
		break;
	case GP_DESC_ROLE_ON_DB:
		gp_buf_printf(out, " %s on %s", or_q(a->role), or_q(a->database));
		break;
	case GP_DESC_OWNER_TO_ROLE:
		gp_buf_printf(out, " %s to %s", or_q(a->owner), or_q(a->role));
		break;
	case GP_DESC_ROLE:
		gp_buf_printf(out, " %s", or_q(a->role));
		break;
	}
}

int
gp_action_describe(const struct gp_action *a, struct gp_buf *out)
{
	describe_object(a, out);
	gp_buf_printf(out, " (%s)", gp_why_to_string(a->why));
	if (a->detail)
		gp_buf_printf(out, ": %s", a->detail);
	return out->oom ? -ENOMEM : 0;
}

/* The field a summary's "{name}" stands for, or NULL when name is not one. */
static const char *
summary_field(const struct gp_action *a, const char *name, size_t len)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
		{"role", offsetof(struct gp_action, role)},
		{"database", offsetof(struct gp_action, database)},
		{"secret", offsetof(struct gp_action, secret)},
		{"owner", offsetof(struct gp_action, owner)},
	};

	if (len == strlen("access") && memcmp(name, "access", len) == 0)
		return gp_access_to_string(a->access);
	for (size_t i = 0; i < ELEMENTSOF(fields); i++)
		if (strlen(fields[i].name) == len && memcmp(fields[i].name, name, len) == 0)
			return or_q(*(char *const *)((const char *)a + fields[i].offset));
	return NULL;
}

int
gp_action_summary(const struct gp_action *a, bool failed, struct gp_buf *out)
{
	const struct gp_action_info *info = gp_action_info(a->kind);
	const char *t = info ? info->summary : NULL;

	if (failed || !t) {
		describe_object(a, out);
		if (failed)
			gp_buf_puts(out, " failed");
		return out->oom ? -ENOMEM : 0;
	}
	while (*t) {
		const char *close = *t == '{' ? strchr(t, '}') : NULL;
		const char *v = close ? summary_field(a, t + 1, (size_t)(close - t - 1)) : NULL;

		if (v) {
			gp_buf_puts(out, v);
			t = close + 1;
		} else {
			gp_buf_putc(out, *t);
			t++;
		}
	}
	return out->oom ? -ENOMEM : 0;
}

static const char *
object_of(const struct gp_action *a)
{
	const struct gp_action_info *info = gp_action_info(a->kind);

	switch (info ? info->object : GP_OBJ_NONE) {
	case GP_OBJ_SECRET:
		return a->secret;
	case GP_OBJ_OWNER:
		return a->owner;
	case GP_OBJ_PUBLIC:
		return "PUBLIC";
	case GP_OBJ_NONE:
		break;
	}
	return NULL;
}

static void
add_str_or_null(cJSON *j, const char *name, const char *v)
{
	v ? cJSON_AddStringToObject(j, name, v) : cJSON_AddNullToObject(j, name);
}

cJSON *
gp_action_to_json(const struct gp_action *a)
{
	cJSON *j = cJSON_CreateObject();

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "action", gp_action_kind_to_string(a->kind));
	cJSON_AddStringToObject(j, "why", gp_why_to_string(a->why));
	add_str_or_null(j, "database", a->database);
	add_str_or_null(j, "role", a->role);
	add_str_or_null(j, "object", object_of(a));
	add_str_or_null(j, "detail", a->detail);
	cJSON_AddBoolToObject(j, "destructive", gp_action_info(a->kind)->destructive);
	if (gp_action_info(a->kind)->fields & GP_AF_CRED)
		cJSON_AddStringToObject(j, "credential", gp_cred_to_string(a->cred));
	return j;
}

/* ---------------------------------------------------------------------------------------
 * The guard
 */

static const char *
guard_role(const struct gp_action *a, const char *env, const struct gp_observed *o)
{
	const struct gp_obs_role *r = a->role ? gp_observed_role(o, a->role) : NULL;
	struct gp_buf want = {0};
	bool ours;

	if (!r)
		return "the role does not exist";
	if (gp_role_marker(env, a->key, &want) < 0) {
		gp_buf_release(&want);
		return "the entry's environment or key is unknown";
	}
	ours = !want.oom && gp_streq(r->comment, want.p);
	gp_buf_release(&want);
	return ours ? NULL : "the role does not carry gprdsd's marker for this entry";
}

static const char *
guard_secret(const struct gp_action *a, const struct gp_observed *o)
{
	const struct gp_obs_secret *s = a->secret ? gp_observed_secret(o, a->secret) : NULL;

	if (!s)
		return "the secret does not exist";
	return s->managed ? NULL : "the secret does not carry gprdsd's managed-by tag";
}

static const char *
guard_database(const struct gp_action *a, const char *env, const struct gp_observed *o)
{
	const struct gp_obs_database *db =
		a->database ? gp_observed_database(o, a->database) : NULL;
	const struct gp_obs_role *owner = db && db->owner ? gp_observed_role(o, db->owner) : NULL;

	if (!db)
		return "the database does not exist";
	if (!owner || !gp_role_marked(owner->comment, env))
		return "the database's owner is not a role gprdsd manages";
	return NULL;
}

const char *
gp_action_guard_row(const struct gp_action_info *info, const struct gp_action *a, const char *env,
		    const struct gp_observed *o)
{
	if (!info || !info->destructive)
		return NULL;
	if (!o)
		return "nothing was observed";
	switch (info->target) {
	case GP_TARGET_ROLE:
		return guard_role(a, env, o);
	case GP_TARGET_SECRET:
		return guard_secret(a, o);
	case GP_TARGET_DATABASE:
		return guard_database(a, env, o);
	case GP_TARGET_LOGIN:
		break;
	}
	return "a destructive action without an object";
}

const char *
gp_action_guard(const struct gp_action *a, const char *env, const struct gp_observed *o)
{
	return gp_action_guard_row(gp_action_info(a->kind), a, env, o);
}
