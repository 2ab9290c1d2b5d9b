/*
 * model/types.c — the enum string tables and the positioned string every stage shares.
 *
 * Parsing of inputs lives in inputs/, the desired and observed values in desired.c and
 * observed.c, the lifecycle records and their codec in state.c.
 */
#include "model/types.h"

#include <stdlib.h>

static int
lookup(const char *const *table, size_t n, const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (table[i] && strcmp(table[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

#define DEFINE_ENUM_STRINGS(name, type, max, ...)                                                  \
	static const char *const name##_table[max] = {__VA_ARGS__};                                \
	const char *name##_to_string(type v)                                                       \
	{                                                                                          \
		return (size_t)v < (size_t)(max) ? name##_table[v] : NULL;                         \
	}                                                                                          \
	int name##_from_string(const char *s)                                                      \
	{                                                                                          \
		return lookup(name##_table, (size_t)(max), s);                                     \
	}

DEFINE_ENUM_STRINGS(gp_access, enum gp_access, _GP_ACCESS_MAX, [GP_ACCESS_OWNER] = "owner",
		    [GP_ACCESS_EDITOR] = "editor", [GP_ACCESS_READER] = "reader")
DEFINE_ENUM_STRINGS(gp_risk, enum gp_risk, _GP_RISK_MAX, [GP_RISK_NONE] = "none",
		    [GP_RISK_LOW] = "low", [GP_RISK_MEDIUM] = "medium", [GP_RISK_HIGH] = "high",
		    [GP_RISK_ACCESS] = "access")
DEFINE_ENUM_STRINGS(gp_size, enum gp_size, _GP_SIZE_MAX, [GP_SIZE_SMALL] = "small",
		    [GP_SIZE_MEDIUM] = "medium", [GP_SIZE_LARGE] = "large",
		    [GP_SIZE_XLARGE] = "xlarge")
DEFINE_ENUM_STRINGS(gp_state, enum gp_state, _GP_STATE_MAX, [GP_STATE_PENDING] = "pending",
		    [GP_STATE_APPROVED] = "approved", [GP_STATE_PROVISIONING] = "provisioning",
		    [GP_STATE_ACTIVE] = "active", [GP_STATE_FAILED] = "failed",
		    [GP_STATE_DECOMMISSIONING] = "decommissioning",
		    [GP_STATE_DECOMMISSIONED] = "decommissioned")
DEFINE_ENUM_STRINGS(gp_mode, enum gp_mode, _GP_MODE_MAX, [GP_MODE_AUTO] = "auto",
		    [GP_MODE_STANDALONE] = "standalone", [GP_MODE_COUPLED] = "coupled")
DEFINE_ENUM_STRINGS(gp_strategy, enum gp_strategy, _GP_STRATEGY_MAX,
		    [GP_STRATEGY_SINGLE] = "single", [GP_STRATEGY_ALTERNATING] = "alternating")

const char *
gp_size_instance_class(enum gp_size s)
{
	static const char *const classes[_GP_SIZE_MAX] = {
		[GP_SIZE_SMALL] = "db.t3.micro",
		[GP_SIZE_MEDIUM] = "db.t3.small",
		[GP_SIZE_LARGE] = "db.t3.medium",
		[GP_SIZE_XLARGE] = "db.r6g.large",
	};
	return (size_t)s < _GP_SIZE_MAX ? classes[s] : NULL;
}

void
gp_field_release(struct gp_field *f)
{
	free(f->v);
	*f = (struct gp_field){0};
}

int
gp_field_set(struct gp_field *f, const char *v, unsigned line, unsigned col)
{
	char *d = NULL;

	if (v) {
		d = strdup(v);
		if (!d)
			return -ENOMEM;
	}
	free(f->v);
	f->v = d;
	f->line = line;
	f->col = col;
	return 0;
}

