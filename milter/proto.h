/*
 * proto.h - the pure parts of danepold's socketmap and Exim protocols:
 * request parsing and the decision -> reply mappings. No I/O, no global
 * state; the I/O sides are milter/socketmap.c and milter/exim.c.
 *
 * Postfix socketmap (socketmap_table(5)), request "NAME KEY", replies:
 *   verdict require          -> "OK dane-only"; "OK dane" when the MX
 *                               RRset was looked up and is not DNSSEC-
 *                               secure and the local level is not
 *                               dane-only (doc/engine.md, "Front doors")
 *   verdict try              -> "OK <level>"  (dane, may, encrypt, none)
 *   MTA-STS enforce          -> "OK secure match=P1:P2 servername=hostname"
 *   (with socketmap_tlsrpt = yes, Postfix 3.10's TLSRPT attributes after
 *   an "OK" reply of an MTA-STS destination: proto_sockmap_reply())
 *   verdict defer            -> "TEMP <reply text without the codes>"
 *   verdict reject (null MX) -> "NOTFOUND "   (Postfix handles null MX)
 *   invalid-domain           -> "NOTFOUND "   (Postfix's default level)
 *   "soft" defer             -> "NOTFOUND "   (audit_only = yes, or an
 *                               internal error with on_error = accept)
 *
 * Exim line protocol, requests "rcpt ADDRESS", "domain DOMAIN",
 * "host DOMAIN HOSTNAME", "event NAME k=v ..."; replies are
 * ${extract}-friendly (lib/kvline.h):
 *   verdict=require level=dane-only reason=dane destination=D
 *                               (level=dane as "OK dane" above)
 *   verdict=try level=L reason=R destination=D
 *   verdict=defer level=L reason=R destination=D reply="450 4.7.5 text"
 *   verdict=reject level=L reason=null-mx destination=D reply="556 5.1.10 text"
 *   verdict=error reason=bad-request|too-long [detail="..."]
 * A soft defer (see above) is answered as verdict=try without reply.
 * A host request (may Exim connect to MX host HOSTNAME of DOMAIN?):
 *   verdict=deny reason=sts-mx-mismatch destination=D host=H
 *                               (an MTA-STS enforce policy applies and
 *                               none of its mx patterns names H)
 *   verdict=allow reason=R destination=D host=H
 *                               (R: sts-enforce when a pattern names H,
 *                               else the decision's reason: no enforce
 *                               policy, no restriction)
 *
 * Every function returning char * returns a new string the caller frees.
 */
#ifndef DANEPOL_MILTER_PROTO_H
#define DANEPOL_MILTER_PROTO_H

#include <stddef.h>

#include "conf.h"
#include "policy.h"
#include "policy_status.h"

#define PROTO_SOCKMAP_MAX     10000 /* request octets (netstring data) */
#define PROTO_EXIM_LINE_MAX   4096  /* request line octets, without the line end */
#define PROTO_EXIM_FIELDS_MAX 64    /* key=value fields per event line */

/**
 * Split a socketmap request data[0..n) at its first space into *name and
 * *key (new strings; key may be ""). Returns 0, or -1 (no space, empty
 * name, or a NUL byte) with nothing allocated.
 */
int proto_sockmap_split(const char *data, size_t n, char **name, char **key);

/** 1 when key is answered "NOTFOUND " without a decision: empty, or a
 *  parent-domain lookup (".example.com"). */
int proto_sockmap_skip(const char *key);

/**
 * Whether a defer decision is "soft" (answered without blocking mail):
 * c->audit_only, or an internal error with on_error = accept.
 */
int proto_soft(const struct conf *c, const struct policy_decision *d);

/** The SMTP reply text for d ("text (domain: why)", no codes, no '%'
 *  doubling) per the status table st (NULL: defaults). */
char *proto_reply_text(const struct policy_status_table *st, const struct policy_decision *d);

/** The full SMTP reply "450 4.7.5 text" for a defer or reject decision. */
char *proto_reply_line(const struct policy_status_table *st, const struct policy_decision *d);

/**
 * The socketmap reply (before netstring framing) for d; soft per
 * proto_soft(). tlsrpt (conf socketmap_tlsrpt): an "OK" reply of an
 * MTA-STS destination also carries Postfix 3.10's TLSRPT attributes:
 *   policy_type=sts policy_domain=D { policy_string = LINE }...
 *       mx_host_pattern=P...     (an enforce or testing policy)
 *   policy_type=no-policy-found  (MTA-STS consulted, no policy or mode none)
 * and nothing for DANE levels, a failed fetch, or without MTA-STS.
 */
char *proto_sockmap_reply(const struct policy_decision *d, const struct policy_status_table *st,
    int soft, int tlsrpt);

/** The Exim reply line (no line end) for d decided for destination. */
char *proto_exim_reply(const struct policy_decision *d, const struct policy_status_table *st,
    const char *destination, int soft);

/** "verdict=error reason=REASON[ detail=DETAIL]" (detail may be NULL). */
char *proto_exim_error(const char *reason, const char *detail);

/**
 * The host reply (no line end) for decision d of destination and the MX
 * host name host (policy_sts_host() decides allow or deny).
 */
char *proto_exim_host_reply(const struct policy_decision *d, const char *destination,
    const char *host);

enum proto_exim_kind {
	PROTO_EXIM_RCPT,
	PROTO_EXIM_DOMAIN,
	PROTO_EXIM_HOST,
	PROTO_EXIM_EVENT,
	PROTO_EXIM_BAD
};

/**
 * Classify a request line (NUL-terminated, line end removed; trailing
 * blanks are cut off in place). *arg points
 * into line at the argument (after the verb and its blanks; "" when
 * none). A verb without an argument, an unknown verb, or a control
 * character anywhere (tab excepted) is PROTO_EXIM_BAD with *arg = detail
 * text (static).
 */
enum proto_exim_kind proto_exim_parse(char *line, const char **arg);

/**
 * Split an event argument "NAME k=v ..." into *name (new string) and the
 * fields (lib/kvline.h, caller frees with kvline_free()). Returns 0, or
 * -1 with *why (static) and nothing allocated.
 */
struct kvline;
int proto_exim_event(const char *arg, char **name, struct kvline *fields, const char **why);

/**
 * Split a host argument "DOMAIN HOSTNAME" into *domain (up to the first
 * blank) and *host (the rest after the blanks, proto_exim_parse() having
 * cut trailing ones: a HOSTNAME with blanks is kept whole, and no
 * pattern matches it), new strings of 1..255 octets each. Returns 0, or
 * -1 with *why (static) and nothing allocated.
 */
int proto_exim_host(const char *arg, char **domain, char **host, const char **why);

/* ---- the control socket (milter/control.c, danepol query/stats) ---- */

#define PROTO_CONTROL_LINE_MAX 512 /* request line octets, without the line end */

enum proto_control_kind { PROTO_CONTROL_QUERY, PROTO_CONTROL_STATS, PROTO_CONTROL_BAD };

/**
 * Classify one control request, data[0..n) (the bytes before "\n"; one
 * trailing "\r" is dropped; data need not be NUL-terminated): "stats",
 * or "query DOMAIN" with DOMAIN one token of 1..255 octets (single
 * spaces between the words, nothing after). QUERY sets *arg to a new
 * copy of DOMAIN (caller frees); BAD sets *why (static text, no outside
 * bytes): a NUL or control character, an empty line, an unknown verb, a
 * missing, over-long or second argument, n > PROTO_CONTROL_LINE_MAX.
 * Pure; any thread.
 */
enum proto_control_kind proto_control_parse(const char *data, size_t n, char **arg,
    const char **why);

#endif
