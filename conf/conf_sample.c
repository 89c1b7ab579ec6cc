/*
 * conf_sample.c - build-time generator of the commented danepol.conf
 * that make install and the Debian package install as
 * /etc/danepol/danepol.conf: prints conf_print_sample() on stdout
 * (Makefile.am: conf/danepol.conf.sample). Not installed. The sample
 * comes from conf/conf.c's key table, so it cannot drift from the keys,
 * their defaults (with this build's paths) and their meanings.
 */
#include "config.h"

#include <stdio.h>

#include "conf.h"

int
main(void)
{
	conf_print_sample(stdout);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}
