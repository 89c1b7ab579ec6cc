/*
 * snapshot.c - danepold's configuration snapshot (contract in snapshot.h).
 *
 * The current snapshot pointer and every reference count are guarded by
 * one mutex: acquiring is "lock, take current, refs++, unlock", so a
 * transaction can never see a snapshot that is being freed. Installing a
 * new runtime swaps the pointer and drops the holder's own reference; the
 * last release (the holder's or a transaction's) frees the runtime -
 * outside the lock, because freeing a resolver can take a while.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "mem.h"
#include "snapshot.h"
#include "stats.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *snap_current; /* holds one reference */

/* Drop one reference; returns the snapshot to free (refs reached 0) or NULL. */
static struct snapshot *
snap_unref_locked(struct snapshot *s)
{
	if (s == NULL)
		return NULL;
	if (s->refs <= 0)
		msg_panic("snapshot: reference count underflow");
	return --s->refs == 0 ? s : NULL;
}

static void
snap_free(struct snapshot *s)
{
	if (s == NULL)
		return;
	policy_run_free(s->rt);
	free(s);
}

void
snapshot_install(struct policy_runtime *rt)
{
	struct snapshot *s = xcalloc(1, sizeof(*s)), *dead;

	s->rt = rt;
	s->refs = 1;
	stats_generation_next();
	pthread_mutex_lock(&snap_lock);
	dead = snap_unref_locked(snap_current);
	snap_current = s;
	pthread_mutex_unlock(&snap_lock);
	if (dead == NULL && msg_verbose)
		msg_debug("previous runtime stays until its last transaction ends");
	snap_free(dead);
}

struct snapshot *
snapshot_acquire(void)
{
	struct snapshot *s;

	pthread_mutex_lock(&snap_lock);
	if ((s = snap_current) != NULL)
		s->refs++;
	pthread_mutex_unlock(&snap_lock);
	return s;
}

void
snapshot_release(struct snapshot *s)
{
	struct snapshot *dead;

	if (s == NULL)
		return;
	pthread_mutex_lock(&snap_lock);
	dead = snap_unref_locked(s);
	pthread_mutex_unlock(&snap_lock);
	snap_free(dead);
}

void
snapshot_shutdown(void)
{
	struct snapshot *dead;

	pthread_mutex_lock(&snap_lock);
	dead = snap_unref_locked(snap_current);
	snap_current = NULL;
	pthread_mutex_unlock(&snap_lock);
	snap_free(dead);
}
