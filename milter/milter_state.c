/*
 * milter_state.c - danepold's shared state (contract in milter.h).
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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mem.h"
#include "milter.h"
#include "policy_json.h"

static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_snap *snap_current;	/* holds one reference */

static struct audit_log *state_audit;
static atomic_ulong session_counter;
static unsigned long session_epoch;
static pthread_once_t session_once = PTHREAD_ONCE_INIT;

/* Drop one reference; returns the snapshot to free (refs reached 0) or NULL. */
static struct milter_snap *
snap_unref_locked(struct milter_snap *s)
{
	if (s == NULL)
		return NULL;
	if (s->refs <= 0)
		msg_panic("milter_snap: reference count underflow");
	return --s->refs == 0 ? s : NULL;
}

static void
snap_free(struct milter_snap *s)
{
	if (s == NULL)
		return;
	policy_run_free(s->rt);
	free(s);
}

void
milter_snap_install(struct policy_runtime *rt)
{
	struct milter_snap *s = xcalloc(1, sizeof(*s)), *dead;

	s->rt = rt;
	s->refs = 1;
	pthread_mutex_lock(&snap_lock);
	dead = snap_unref_locked(snap_current);
	snap_current = s;
	pthread_mutex_unlock(&snap_lock);
	if (dead == NULL && msg_verbose)
		msg_debug("previous runtime stays until its last transaction ends");
	snap_free(dead);
}

struct milter_snap *
milter_snap_acquire(void)
{
	struct milter_snap *s;

	pthread_mutex_lock(&snap_lock);
	if ((s = snap_current) != NULL)
		s->refs++;
	pthread_mutex_unlock(&snap_lock);
	return s;
}

void
milter_snap_release(struct milter_snap *s)
{
	struct milter_snap *dead;

	if (s == NULL)
		return;
	pthread_mutex_lock(&snap_lock);
	dead = snap_unref_locked(s);
	pthread_mutex_unlock(&snap_lock);
	snap_free(dead);
}

void
milter_snap_shutdown(void)
{
	struct milter_snap *dead;

	pthread_mutex_lock(&snap_lock);
	dead = snap_unref_locked(snap_current);
	snap_current = NULL;
	pthread_mutex_unlock(&snap_lock);
	snap_free(dead);
}

void
milter_audit_set(struct audit_log *a)
{
	state_audit = a;
}

struct audit_log *
milter_audit(void)
{
	return state_audit;
}

static void
session_init(void)
{
	session_epoch = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
}

void
milter_session_id(char out[17])
{
	unsigned long n = atomic_fetch_add(&session_counter, 1);

	pthread_once(&session_once, session_init);
	snprintf(out, 17, "%08lx%08lx", session_epoch & 0xffffffffUL, n & 0xffffffffUL);
}

json_t *
milter_event_new(const char *event)
{
	char ts[40];
	json_t *o = json_object();

	audit_timestamp(ts, sizeof(ts));
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "time", json_string(ts));
	return o;
}

void
milter_audit_decision(json_t *ev, const struct policy_runtime *rt,
    const struct policy_outcome *o, const char *none)
{
	struct audit_log *a = milter_audit();
	struct buf dj;

	if (a != NULL) {
		buf_init(&dj);
		if (o == NULL || o->d == NULL ||
		    policy_json_decision_append(&dj, o->d, rt ? rt->status : NULL, o) < 0)
			buf_puts(&dj, none);
		audit_write_with(a, ev, "decision", dj.s, dj.len);
		buf_free(&dj);
	}
	json_decref(ev);
}

void
milter_event_finish(json_t *ev, const struct policy_runtime *rt,
    const struct policy_outcome *o)
{
	json_object_set_new(ev, "cache_hit", json_boolean(o && o->cache_hit));
	json_object_set_new(ev, "elapsed_ms", json_integer(o ? (json_int_t)o->elapsed_ms : 0));
	milter_audit_decision(ev, rt, o, "null");
}
