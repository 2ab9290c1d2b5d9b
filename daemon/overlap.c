/*
 * overlap.c — how a pass waits while work is under way on several fronts: one poll over the
 * Secrets Manager transfers (sm.c), the login checks under way (pg.c) and, while a statement
 * or a connection of pg.c waits, its socket. apply.c installs it as the thread's PostgreSQL
 * waiter while it executes a plan, so that writes and logins move on during the SQL instead
 * of after it; observe.c uses it to run the login checks that are due several at once.
 *
 * Deliberately not here: what to start next (apply.c, observe.c decide), any deadline of its
 * own (each transfer, login and statement carries its own).
 */
#include "pass_int.h"

static int
waiter_wait(void *arg, int fd, short events, uint64_t timeout_ms)
{
	return gpd_pass_wait(arg, fd, events, timeout_ms);
}

void
gpd_pass_waits_init(struct gpd_pass_waits *w, struct pass *p, struct gpd_pg_logins *logins)
{
	*w = (struct gpd_pass_waits){.p = p, .logins = logins};
	w->waiter = (struct gpd_pg_waiter){.wait = waiter_wait, .arg = w};
}

int
gpd_pass_wait(struct gpd_pass_waits *w, int fd, short events, uint64_t timeout_ms)
{
	struct pollfd fds[2];
	size_t n = 0, n_logins = 0;
	int r;

	if (fd >= 0)
		fds[n++] = (struct pollfd){.fd = fd, .events = events};
	if (w->logins)
		n_logins = gpd_pg_logins_fds(w->logins, fds + n);
	r = gpd_sm_wait(w->p->sm, fds, n + n_logins, timeout_ms);
	if (r < 0)
		return r;
	if (w->logins)
		gpd_pg_logins_advance(w->logins, fds + n, n_logins);
	return fd >= 0 && fds[0].revents != 0;
}
