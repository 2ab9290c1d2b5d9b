/*
 * gitsync.h — optional `git fetch` + fast-forward of the checkout before a pass
 * (repository.sync). Runs git as a child of the loop (uv_spawn) with a clean environment and
 * a timeout. Never a merge commit, never a reset: a checkout that cannot fast-forward (local
 * commits, diverged or force-pushed remote, local changes in the way) is left as it is and
 * the failure is logged; passes then use the last good checkout.
 *
 * Lifecycle: gpd_gitsync_init() once; gpd_gitsync_start() any number of times from the loop
 * thread; gpd_gitsync_cancel() kills a running child; gpd_gitsync_close() closes the handles
 * (a running child is killed first) — the struct must stay valid until the loop has run the
 * close callbacks (uv_run() returned).
 */
#ifndef GPD_GITSYNC_H
#define GPD_GITSYNC_H

#include <uv.h>

#include "inputs/config.h"

struct gpd_gitsync;
typedef void (*gpd_gitsync_done_fn)(struct gpd_gitsync *s, int r);

struct gpd_gitsync {
	uv_loop_t *loop;
	uv_process_t proc;
	uv_pipe_t out, err;
	uv_timer_t timer;
	bool inited, running, exited, cancelled, timed_out, closing;
	int step; /* 0: fetch, 1: merge --ff-only */
	int64_t exit_status;
	int term_signal;
	int spawn_error;       /* uv_spawn() failed: reported once the handles are closed */
	unsigned open_handles; /* of proc, out, err for the running step */
	int pgid;	       /* the running step's process group (git's pid), 0 when none */
	char *repo, *remote, *branch;
	uint64_t timeout_ms;
	struct gp_buf output;
	char problem[160];   /* why the last sync failed, for STATUS=; "" when it worked */
	char last_said[512]; /* the last failure as logged: a repeat is logged at debug only */
	gpd_gitsync_done_fn done;
	void *userdata;
};

void gpd_gitsync_init(struct gpd_gitsync *s);
/*
 * Starts a sync with cfg's repository settings (copied); done(s, r) runs on the loop when it
 * ends: r = 0 (checkout up to date or fast-forwarded), -EIO (git failed or timed out; logged
 * here with git's own words), -ECANCELED, or -errno when git could not be started. Returns
 * -EBUSY when a sync is already running (its completion serves the caller too), -ENOMEM.
 */
int gpd_gitsync_start(struct gpd_gitsync *s, uv_loop_t *loop, const struct gp_config *cfg,
		      gpd_gitsync_done_fn done, void *userdata);
/* Why the last sync failed ("cannot fast-forward to origin/main"), or NULL when it worked. */
const char *gpd_gitsync_problem(const struct gpd_gitsync *s);
/* Kills a running child; done is not called any more (shutdown). */
void gpd_gitsync_cancel(struct gpd_gitsync *s);
void gpd_gitsync_close(struct gpd_gitsync *s);

#endif
