/*
 * daemon_sts.h - danepold's one MTA-STS policy cache (sts/sts_cache.h):
 * made when a configuration first has sts = yes, kept across reloads
 * (each new runtime shares it: policy_run_share_sts), over the outcome
 * store when outcome_db is set, so that policies also survive restarts
 * (RFC 8461 section 5.1), with two background threads that refresh cached
 * policies (a new TXT id, near the end) while they go on applying.
 *
 * Threads: daemon_sts_attach() from the thread building a runtime (start,
 * reload: the signal loop); the cache itself is thread-safe.
 */
#ifndef DANEPOL_MILTER_DAEMON_STS_H
#define DANEPOL_MILTER_DAEMON_STS_H

struct policy_runtime;

/**
 * Let rt use the process-wide cache, made (and its store opened) on the
 * first runtime with sts = yes. A store that cannot be opened is logged
 * and the cache kept in memory only. Before rt is installed.
 */
void daemon_sts_attach(struct policy_runtime *rt);

/** Free the cache and close its store (after the last snapshot is gone). */
void daemon_sts_stop(void);

#endif
