/*
 * socketmap.h - danepold's Postfix socketmap front door (socketmap.c):
 * smtp_tls_policy_maps = socketmap:...:tlspolicy.
 */
#ifndef DANEPOL_MILTER_SOCKETMAP_H
#define DANEPOL_MILTER_SOCKETMAP_H

#include <stddef.h>

struct listener_conn;

/**
 * Answer one request data[0..n) (a netstring's data, "NAME KEY") under
 * the current snapshot: the reply before netstring framing ("OK dane",
 * "TEMP ...", "NOTFOUND ", "PERM ..."; a new string the caller frees),
 * after writing its "socketmap" audit line. id numbers the connection in
 * log lines. No I/O besides the audit log and the decision's DNS. Any
 * thread.
 */
char *socketmap_query(const char *data, size_t n, unsigned long id);

/** Serve one socketmap connection (a listener_fn; arg unused). */
void socketmap_serve(struct listener_conn *c, void *arg);

#endif
