/*
 * daemon_selfcheck.h - danepold's periodic self-check of our own domains
 * (selfcheck_interval, selfcheck_domains; own/selfcheck.h): one thread
 * that runs the check on the current snapshot, writes an audit line
 * ("event": "selfcheck"), a mail-log line, the Prometheus textfile when
 * configured, and keeps the latest state of each domain for /metrics.
 */
#ifndef DANEPOL_MILTER_DAEMON_SELFCHECK_H
#define DANEPOL_MILTER_DAEMON_SELFCHECK_H

#include "buf.h"

/**
 * Start the thread (after the first snapshot is installed and privileges
 * dropped). It reads selfcheck_interval from the current snapshot before
 * each run (0: it looks again a minute later), so a reload can turn the
 * check on or off. 0, or -1 after logging.
 */
int daemon_selfcheck_start(void);

/** Stop the thread (a check in flight finishes first). */
void daemon_selfcheck_stop(void);

/** Append the selfcheck metric families (Prometheus text) to b. Thread-safe. */
void daemon_selfcheck_metrics(struct buf *b);

#endif
