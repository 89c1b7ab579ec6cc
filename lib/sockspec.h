/*
 * sockspec.h - the inet half of the socket specs danepol shares with
 * libmilter: "inet:PORT[@HOST]" and "inet6:PORT[@HOST]", HOST an address
 * or name, an IPv6 address possibly in brackets. The one place that
 * splits them, for the daemon's listeners (milter/listener.c) and the
 * CLI's control client (cli/cli_control.c). Validation of a spec in the
 * configuration stays with conf_value_socket() (conf/conf_value.h).
 *
 * Contract: no state; any thread. The strings returned are the caller's.
 */
#ifndef DANEPOL_SOCKSPEC_H
#define DANEPOL_SOCKSPEC_H

/**
 * Split an inet: or inet6: spec. Returns 0 with *family AF_INET or
 * AF_INET6, *port the text before '@' (possibly empty), *host the text
 * after it without enclosing "[...]", or NULL when there is no '@'; the
 * caller frees both. Returns -1 when spec starts with neither prefix
 * (nothing allocated; *port and *host set to NULL).
 */
int sockspec_inet(const char *spec, int *family, char **port, char **host);

#endif
