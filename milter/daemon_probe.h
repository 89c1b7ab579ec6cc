/*
 * daemon_probe.h - danepold's background STARTTLS probes and probe_defer
 * (daemon_probe.c has the details); their outcomes go to daemon_store.h.
 */
#ifndef DANEPOL_MILTER_DAEMON_PROBE_H
#define DANEPOL_MILTER_DAEMON_PROBE_H

#include "conf.h"
#include "policy_run.h"

/**
 * When probe = yes, start the probe threads. Call once, after dropping
 * privileges and daemon_store_start(). 0, or -1 after logging: a thread
 * could not start.
 */
int daemon_probe_start(const struct conf *c);

/** Stop the threads (a probe in flight finishes), drop queue and cache. */
void daemon_probe_stop(void);

/**
 * Offer a decision just made (o->d) under snapshot configuration c: queue
 * its destination for a probe when due; with probe_defer, replace o->d
 * (unref'ing the old one) by a defer dane-auth-failed decision when the
 * destination's latest probe found every DANE host failing. Thread-safe;
 * a no-op when probing is off.
 */
void daemon_probe_apply(const struct conf *c, struct policy_outcome *o);

#endif
