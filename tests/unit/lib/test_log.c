/*
 * test_log.c - msg_fatal() (lib/log.c): from a thread other than the main
 * one it ends the process with status 1 without running atexit handlers
 * (which would tear down state the other threads still use); from the
 * main thread it exits with 1 through exit(), handlers included. The
 * handler registered here ends the process with status 3, so the exit
 * status says whether it ran. Each criterion test runs in its own process.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

static void
handler(void)
{
	_exit(3);	/* visible as the exit status: the handler ran */
}

static void *
fatal_thread(void *arg)
{
	(void)arg;
	msg_fatal("test: fatal from a worker thread");
	return NULL;
}

Test(log, fatal_from_thread_skips_atexit, .exit_code = 1)
{
	pthread_t t;

	msg_init("test_log");
	cr_assert_eq(atexit(handler), 0);
	cr_assert_eq(pthread_create(&t, NULL, fatal_thread, NULL), 0);
	pthread_join(t, NULL);
	cr_assert_fail("msg_fatal returned");
}

Test(log, fatal_from_main_runs_atexit, .exit_code = 3)
{
	msg_init("test_log");
	cr_assert_eq(atexit(handler), 0);
	msg_fatal("test: fatal from the main thread");
}
