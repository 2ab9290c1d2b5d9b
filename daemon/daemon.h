/*
 * daemon.h — the long-running service: a libuv loop that runs passes on a timer, after
 * changes to the checkout and on SIGHUP, and talks to systemd.
 */
#ifndef GPD_DAEMON_H
#define GPD_DAEMON_H

#include "cli.h"

/* Runs until SIGTERM/SIGINT; returns the process exit code. */
int gpd_daemon_main(const struct gpd_cli *cli);

#endif
