/*
 * dns_setup.h - start-up checks of the resolver (dns/dns.h): that the
 * DNSSEC trust anchor validates anything at all, and libunbound's own
 * log lines (parse errors of trust anchors and resolver_config files,
 * which libunbound writes to stderr) through the msg_* log instead, so
 * they reach the journal under systemd and syslog when daemonized with
 * a closed stderr.
 */
#ifndef DANEPOL_DNS_SETUP_H
#define DANEPOL_DNS_SETUP_H

#include <stdio.h>

#include "dns.h"

enum dns_anchor_state {
	DNS_ANCHOR_OK,	    /* the anchor's zone DNSKEY validated: secure */
	DNS_ANCHOR_BAD,	    /* bogus (or insecure) answer: the anchor validates nothing */
	DNS_ANCHOR_UNKNOWN, /* no answer in time (offline, SERVFAIL): not proven either way */
};

/**
 * Ask res for the DNSKEY RRset of the trust anchor's zone (the owner
 * name of o->trust_anchor, else of the first record in
 * o->trust_anchor_file, else the root) and wait at most timeout_ms.
 * *msg (new string, caller frees) says what was found, naming the anchor
 * source, libunbound's reason and, for DNS_ANCHOR_BAD, what to do.
 * Thread-safe (its own batch); blocks the caller for at most timeout_ms.
 */
enum dns_anchor_state dns_setup_anchor_check(struct dns_resolver *res, const struct dns_options *o,
    unsigned timeout_ms, char **msg);

/**
 * The stream libunbound logs to (ub_ctx_debugout()): each line it writes
 * becomes one msg_error/msg_warn/msg_info line "libunbound: TEXT" by its
 * level. One per process, made on first use; never closed. Thread-safe
 * (stdio locks the stream). NULL if it cannot be made (then libunbound
 * keeps stderr).
 */
FILE *dns_setup_log_stream(void);

struct ub_ctx;

/**
 * ub_ctx_config(ctx, path) with the parser's messages, which libunbound
 * writes with fprintf(stderr), sent to dns_setup_log_stream() instead:
 * the stdio stderr pointer is swapped for the call (under a lock; this
 * program writes its own diagnostics with write(2) on descriptor 2, which
 * the swap does not touch). Returns ub_ctx_config()'s result.
 */
int dns_setup_config(struct ub_ctx *ctx, const char *path);

#endif
