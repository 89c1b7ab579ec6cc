/*
 * clock.h - the one monotonic clock of danepol: CLOCK_MONOTONIC in
 * milliseconds (deadlines, elapsed times) and seconds (expiry, probe
 * intervals), the absolute timespec that pthread_cond_timedwait() wants
 * for such a deadline, and condition variables that wait on that clock.
 *
 * Contract: pure functions over the system clock; any thread. Nothing is
 * allocated.
 */
#ifndef DANEPOL_CLOCK_H
#define DANEPOL_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/** Milliseconds of CLOCK_MONOTONIC: the clock of every deadline_ms. */
int64_t clock_now_ms(void);

/** Whole seconds of CLOCK_MONOTONIC (the same clock). */
int64_t clock_now_s(void);

/**
 * The absolute CLOCK_MONOTONIC time of deadline_ms (clock_now_ms() clock)
 * as pthread_cond_timedwait() wants it on a condition variable made by
 * clock_cond_init(). A negative deadline gives time 0 (already passed).
 */
struct timespec clock_deadline_ts(int64_t deadline_ms);

/**
 * Initialise *cond to wait on CLOCK_MONOTONIC, so that timed waits take
 * clock_deadline_ts() deadlines. Returns 0, or the pthread error number.
 * The caller destroys it with pthread_cond_destroy().
 */
int clock_cond_init(pthread_cond_t *cond);

#endif
