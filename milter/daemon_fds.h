/*
 * daemon_fds.h - danepold's file descriptor budget (daemon_fds.c), and
 * the cap on milter connections that enforces it.
 */
#ifndef DANEPOL_MILTER_DAEMON_FDS_H
#define DANEPOL_MILTER_DAEMON_FDS_H

/*
 * How danepold shares RLIMIT_NOFILE among its front doors (danepold(8),
 * "File descriptors"): the resolver up to half (dns/dns.c); each
 * socketmap/Exim listener listener_max connections plus its eviction
 * slack; fixed for the rest (the control and metrics connections
 * included); the milter what remains - a milter
 * connection is accepted only while its descriptor number is below
 * milter.
 */
struct daemon_fds {
	unsigned long limit;	 /* RLIMIT_NOFILE (soft) */
	unsigned long dns;	 /* the resolver's share */
	unsigned listener_max;	 /* connections per socketmap/Exim listener */
	unsigned long listeners; /* descriptors of all those listeners */
	unsigned long fixed;	 /* everything else */
	unsigned long milter;	 /* milter descriptors: numbers below this */
};

/** Work out the budget for nlisteners socketmap/Exim listeners from the
 *  current RLIMIT_NOFILE. Any thread; changes nothing. */
void daemon_fds_plan(unsigned nlisteners, struct daemon_fds *b);

/** Arm the milter budget in accept() (before smfi_main()). Any thread. */
void daemon_fds_install(const struct daemon_fds *b);

#endif
