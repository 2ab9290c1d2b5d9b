/*
 * pass_int.h — what the parts of a pass share: pass.c (orchestration: inputs, master
 * credentials, records, the order of steps), observe.c (what PostgreSQL and Secrets Manager
 * hold, values and login checks included), apply.c (executing the plan's actions) and
 * overlap.c (waiting on several of them at once).
 * Internal to those files.
 */
#ifndef GPD_PASS_INT_H
#define GPD_PASS_INT_H

#include <libpq-fe.h>

#include "codec/requests.h"
#include "codec/secret.h"
#include "log.h"
#include "pass.h"
#include "pg.h"
#include "sm.h"

struct gpd_audit;

struct pass {
	const struct gpd_pass_opts *o;
	struct gpd_pass_result *res;
	const char *env;
	const char *commit;
	char *own_commit; /* HEAD as read by this pass (with a cache: no shared inputs) */
	struct gp_master master;
	struct gpd_pg_target target;
	char port_buf[16];
	char secret_port_buf[16];
	PGconn *conn;
	bool conn_shared; /* conn is the lock connection: it belongs to o->ha and stays open */
	struct gpd_sm *sm;
	struct gp_observed *obs;
	struct gp_state_file *state;
	bool state_shared;     /* state belongs to o->cache */
	uint64_t state_digest; /* of the records as loaded (gp_state_digest) */
	struct gpd_audit *audit;
	int audit_error;
	unsigned unreachable;  /* entries failed in a row for a server that did not answer */
};

uint64_t gpd_mono_ms(void);
bool gpd_pass_stopping(const struct pass *p);
/* The journal fields of the pass, and of entry e when not NULL. */
void gpd_pass_logctx(const struct pass *p, const struct gp_entry *e, struct gpd_logctx *c);
/* The environment could not be reconciled: res->error and error_text, logged once. */
void gpd_pass_error(struct pass *p, int r, const char *fmt, ...) _printf_(3, 4);
/* Likewise for a PostgreSQL failure: "<what>: <SQLSTATE> <message>". Returns r. */
int gpd_pass_pg_error(struct pass *p, int r, const char *what, const struct gpd_error *err);
/* What the planner and the check selection are told about this pass. */
void gpd_pass_plan_opts(const struct pass *p, struct gp_plan_opts *po);

/* overlap.c: one wait over the pass's Secrets Manager transfers, the login checks under way
 * (logins may be NULL) and fd (-1: none) with poll events; > 0 when fd is ready, 0 when not
 * (yet), -errno. The waiter, installed with gpd_pg_set_waiter(), makes pg.c's statements and
 * connections wait the same way. */
struct gpd_pass_waits {
	struct pass *p;
	struct gpd_pg_logins *logins;
	struct gpd_pg_waiter waiter;
};
void gpd_pass_waits_init(struct gpd_pass_waits *w, struct pass *p, struct gpd_pg_logins *logins);
int gpd_pass_wait(struct gpd_pass_waits *w, int fd, short events, uint64_t timeout_ms);

/* observe.c: takes the lock (or connects), reads PostgreSQL and Secrets Manager, the secret
 * values the plan needs, and tries the logins that are due (plan/checks.h). 0, -EAGAIN
 * (standby: another process holds the lock) or -errno with the environment's error set. */
int gpd_pass_observe(struct pass *p);

/* apply.c: executes p->res->plan entry by entry, records, audits, counts. */
int gpd_pass_apply(struct pass *p);

#endif
