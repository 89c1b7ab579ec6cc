/*
 * snapshot.h - danepold's configuration snapshot (snapshot.c): the
 * current runtime (struct policy_runtime: the configuration and the
 * objects built from it), immutable, held in a reference-counted holder
 * and swapped whole on reload.
 *
 * Snapshot rule: a transaction (a milter MAIL transaction, one socketmap
 * or Exim request) takes the snapshot (snapshot_acquire) when it starts
 * and releases it when it ends, so a reload never changes the runtime
 * under a transaction in flight; the old runtime is freed by whoever
 * drops its last reference. Every function here is thread-safe.
 */
#ifndef DANEPOL_MILTER_SNAPSHOT_H
#define DANEPOL_MILTER_SNAPSHOT_H

#include "policy_run.h"

/* A reference-counted holder of one runtime (the immutable snapshot). */
struct snapshot {
	struct policy_runtime *rt; /* owned: freed with the last reference */
	int refs;		   /* guarded by the holder's mutex */
};

/** Make rt the current snapshot (ownership passes); the previous one is
 *  released and freed once no transaction holds it. */
void snapshot_install(struct policy_runtime *rt);

/** Take a reference to the current snapshot (NULL before the first
 *  install or after shutdown). Release with snapshot_release(). */
struct snapshot *snapshot_acquire(void);
void snapshot_release(struct snapshot *s);

/** Drop the current snapshot (at exit, after libmilter stopped). */
void snapshot_shutdown(void);

#endif
