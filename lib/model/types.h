/*
 * model/types.h — the small values every stage shares: a string with its position in an input
 * file, and the enums of access level, risk, size tier, lifecycle state and tfvars mode.
 *
 * Each enum has a _to_string()/_from_string() pair; _from_string() returns the value or
 * -EINVAL. The strings are what logs, audit rows, plans, state files and golden files show.
 */
#ifndef GP_MODEL_TYPES_H
#define GP_MODEL_TYPES_H

#include "base/diag.h"

/* A string that came from an input file, with where it stood. */
struct gp_field {
	char *v; /* NULL when absent */
	unsigned line, col;
	/* Absent, and why was reported already (its key misspelt, its value of the wrong
	 * type): a check must not report it again as missing. */
	bool reported;
};
void gp_field_release(struct gp_field *f);
int gp_field_set(struct gp_field *f, const char *v, unsigned line, unsigned col);

enum gp_access { GP_ACCESS_OWNER, GP_ACCESS_EDITOR, GP_ACCESS_READER, _GP_ACCESS_MAX };
enum gp_risk { GP_RISK_NONE, GP_RISK_LOW, GP_RISK_MEDIUM, GP_RISK_HIGH, GP_RISK_ACCESS, _GP_RISK_MAX };
enum gp_size { GP_SIZE_SMALL, GP_SIZE_MEDIUM, GP_SIZE_LARGE, GP_SIZE_XLARGE, _GP_SIZE_MAX };
enum gp_state {
	GP_STATE_PENDING,
	GP_STATE_APPROVED,
	GP_STATE_PROVISIONING,
	GP_STATE_ACTIVE,
	GP_STATE_FAILED,
	GP_STATE_DECOMMISSIONING,
	GP_STATE_DECOMMISSIONED,
	_GP_STATE_MAX,
};
enum gp_mode { GP_MODE_AUTO, GP_MODE_STANDALONE, GP_MODE_COUPLED, _GP_MODE_MAX };
/* How a password is rotated (DESIGN §4.4): in place, or alternating between two login roles. */
enum gp_strategy { GP_STRATEGY_SINGLE, GP_STRATEGY_ALTERNATING, _GP_STRATEGY_MAX };

const char *gp_access_to_string(enum gp_access a);
int gp_access_from_string(const char *s);
const char *gp_risk_to_string(enum gp_risk r);
int gp_risk_from_string(const char *s);
const char *gp_size_to_string(enum gp_size s);
int gp_size_from_string(const char *s);
const char *gp_size_instance_class(enum gp_size s); /* small → db.t3.micro, ... */
const char *gp_state_to_string(enum gp_state s);
int gp_state_from_string(const char *s);
const char *gp_mode_to_string(enum gp_mode m);
int gp_mode_from_string(const char *s);
const char *gp_strategy_to_string(enum gp_strategy s);
int gp_strategy_from_string(const char *s);

#endif
