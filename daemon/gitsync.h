/*
 * gitsync.h — optional `git fetch` + fast-forward of the checkout before a pass
 * (repository.sync). Runs git as a child of the loop (uv_spawn) with a clean environment and
 * a timeout. Never a merge commit, never a reset: a checkout that cannot fast-forward (local
 * commits, diverged remote, local changes in the way) is left as it is and the failure is
 * logged; passes then use the last good checkout.
 */
#ifndef GPD_GITSYNC_H
#define GPD_GITSYNC_H

#include <uv.h>

#include "config.h"

struct gpd_gitsync;
typedef void (*gpd_gitsync_done_fn)(struct gpd_gitsync *s, int r);

struct gpd_gitsync {
	uv_loop_t *loop;
	uv_process_t proc;
	uv_pipe_t out, err;
	uv_timer_t timer;
	bool inited, running, cancelled, timed_out;
	int step; /* 0: fetch, 1: merge --ff-only */
	int64_t exit_status;
	int term_signal;
	unsigned open_handles;
	char *repo, *remote, *branch;
	uint64_t timeout_ms;
	struct gp_buf output;
	gpd_gitsync_done_fn done;
	void *userdata;
};

void gpd_gitsync_init(struct gpd_gitsync *s);
/* Starts a sync; done(s, r) runs on the loop when it ends (r < 0: failed, logged). When a
 * sync is already running, the running one's completion serves this request too. */
int gpd_gitsync_start(struct gpd_gitsync *s, uv_loop_t *loop, const struct gp_config *cfg,
		      gpd_gitsync_done_fn done, void *userdata);
/* Kills a running child (shutdown). */
void gpd_gitsync_cancel(struct gpd_gitsync *s);
void gpd_gitsync_close(struct gpd_gitsync *s);

#endif
