/*
 * world.h - the unit tests' access to the offline DNSSEC test world
 * (tools/mkworld.sh, described in tests/world/README.md).
 *
 * world_start() finds the world through the environment (WORLD_DIR: the
 * generated directory; FAULTDNS: the fault responder binary, both set by
 * `make check`), starts the fault responder for the zones listed in
 * WORLD_DIR/fault-zones on a free loopback port, and writes a libunbound
 * config file for this process: WORLD_DIR/world.conf plus one stub-zone
 * per fault zone pointing at the responder. world_stop() kills and reaps
 * the responder and removes that file.
 *
 * The responder dies with the thread that started it (PR_SET_PDEATHSIG):
 * call world_start() from a thread that outlives the world (criterion's
 * .init runs on the test's main thread).
 *
 * Ownership: struct world is the caller's (stack or static); everything it
 * points to belongs to it and is released by world_stop(). One world per
 * process at a time is enough for the tests, but nothing here is global.
 */
#ifndef DANEPOL_TEST_WORLD_H
#define DANEPOL_TEST_WORLD_H

#include <sys/types.h>
#include <unistd.h>	/* pid_t; unlink() for the table test */

struct dns_options;

struct world {
	char *dir;		/* WORLD_DIR */
	char *trust_anchor;	/* contents of root.ds (one DS record) */
	char *unbound_conf;	/* this process's unbound config (world.conf + stubs) */
	unsigned port;		/* fault responder's UDP/TCP port on 127.0.0.1 */
	pid_t pid;		/* fault responder, or 0 */
	unsigned slow_ms;	/* the responder's delay for "slow" zones */
};

/**
 * Start the world: returns 0, or -1 when WORLD_DIR is unset, a world file
 * or FAULTDNS is missing, or the responder did not start (nothing is left
 * running or allocated then). slow_ms is the delay of the "slow" zones.
 */
int world_start(struct world *w, unsigned slow_ms);

/** Kill and reap the responder, remove the temp config, free and zero *w. */
void world_stop(struct world *w);

/**
 * danepol.conf text (caller frees) holding only "trust_anchor = <root DS>"
 * and "resolver_config = <unbound config>", followed by extra (may be NULL)
 * and a newline. Set nothing else in extra that those two lines set.
 */
char *world_conf_text(const struct world *w, const char *extra);

/**
 * Resolver options for the world: the root DS as trust anchor and the
 * unbound config; everything else zero (library defaults). Pointers refer
 * into *w and stay valid until world_stop().
 */
void world_dns_options(const struct world *w, struct dns_options *o);

/** Malloc'd "WORLD_DIR/rel" (caller frees). */
char *world_path(const struct world *w, const char *rel);

#endif
