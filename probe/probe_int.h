/*
 * probe_int.h - what probe.c, probe_smtp.c and probe_tls.c share (not a
 * public interface: use probe.h). The reply parser is exported for the
 * unit tests.
 */
#ifndef DANEPOL_PROBE_INT_H
#define DANEPOL_PROBE_INT_H

#include <stddef.h>

#include "buf.h"
#include "policy.h"
#include "probe.h"

/* One SMTP reply: its code and each line's text after "NNN-"/"NNN ". */
struct probe_reply {
	int code;     /* 200..599 */
	char **lines; /* sanitised text of each line, nlines of them (owned) */
	size_t nlines;
};

/**
 * Parse one reply from p[0..len). Returns 1 with *r filled (caller frees
 * with probe_smtp_reply_free()) and *used = octets consumed, 0 when more input
 * is needed (nothing allocated), or -1 when the input is no valid reply
 * (*why: static text): a line that is not "NNN", "NNN text" or
 * "NNN-text" with NNN in 200..599, codes differing between lines, a line
 * longer than PROBE_LINE_MAX, more than PROBE_REPLY_LINES lines or
 * PROBE_REPLY_MAX octets. Lines end in LF (a CR before it is dropped).
 */
int probe_smtp_reply_parse(const char *p, size_t len, struct probe_reply *r, size_t *used,
    const char **why);

void probe_smtp_reply_free(struct probe_reply *r);

/** 1 when a line after the first starts with the EHLO keyword kw (any case). */
int probe_smtp_reply_has_ext(const struct probe_reply *r, const char *kw);

/** Printable-ASCII copy of p[0..n) (other octets -> '?'). Caller frees. */
char *probe_smtp_sanitize(const char *p, size_t n);

/**
 * Connect to addr:port (numeric IPv4/IPv6) within ms. Returns a
 * nonblocking socket, or -1 with *why (caller frees).
 */
int probe_smtp_connect(const char *addr, unsigned port, unsigned ms, char **why);

/**
 * The plaintext SMTP dialogue on fd up to STARTTLS: banner, EHLO, and
 * STARTTLS when offered. Fills a->banner, a->helo_name,
 * a->starttls_offered; on failure sets a->stage and a->detail, sends
 * QUIT when the session is still sane, and returns -1. Returns 0 when
 * the server said 220 to STARTTLS (the TLS handshake comes next).
 */
int probe_smtp_starttls(int fd, const struct probe_opts *o, struct probe_addr *a);

/**
 * The TLS part on fd (after the server's 220 to STARTTLS): handshake
 * (SNI, DANE records of h), verification result, matching record and
 * depth, OCSP staple; then QUIT over TLS and a TLS close. Sets a->stage
 * (PROBE_ST_HANDSHAKE or PROBE_ST_TLS) and the TLS fields of *a.
 */
void probe_tls_session(int fd, const struct policy_decision *d, const struct policy_host *h,
    const struct probe_opts *o, struct probe_addr *a);

#endif
