/*
 * daemon_probe.h - danepold's background STARTTLS probes, probe_defer and
 * the shared outcome store (daemon_probe.c has the details).
 */
#ifndef DANEPOL_MILTER_DAEMON_PROBE_H
#define DANEPOL_MILTER_DAEMON_PROBE_H

#include "conf.h"
#include "policy_run.h"
#include "store.h"

/**
 * Open the outcome store (outcome_db, when probe = yes or exim_socket is
 * set) and, when probe = yes, start the probe threads. Call once, after
 * dropping privileges. 0, or -1 after logging: the store is needed but
 * cannot be opened ("outcome_db PATH: reason; what to do"), or a thread
 * could not start.
 */
int daemon_probe_start(const struct conf *c);

/**
 * danepold -n: when c configures a feature that writes outcomes, check
 * (store_access(), as the calling user, nothing created) that outcome_db
 * could be opened. 0, or -1 after logging the same error as
 * daemon_probe_start(). Thread-safe.
 */
int daemon_probe_check(const struct conf *c);

/** Stop the threads (a probe in flight finishes), drop queue, cache and store. */
void daemon_probe_stop(void);

/**
 * Offer a decision just made (o->d) under snapshot configuration c: queue
 * its destination for a probe when due; with probe_defer, replace o->d
 * (unref'ing the old one) by a defer dane-auth-failed decision when the
 * destination's latest probe found every DANE host failing. Thread-safe;
 * a no-op when probing is off.
 */
void daemon_probe_apply(const struct conf *c, struct policy_outcome *o);

/** The outcome store, or NULL (none configured or not opened). */
struct store *daemon_probe_store(void);

#endif
