/*
 * conf.c - danepol.conf: one static table of typed keys drives parsing,
 * defaults, bounds and conf_print() (see conf.h).
 *
 * SUMMARY
 *	The file is "key = value" lines. Blank lines and lines whose first
 *	non-blank character is '#' are ignored. Inside a value, a '#' right
 *	after a blank is an error (a trailing comment "x = v # note" would
 *	otherwise end up in the value); any other '#' is part of the value
 *	(a status text "see (#42)", a path "/a/#b"). Leading and trailing blanks
 *	(space, tab) around keys and values are dropped; CRLF line ends and a
 *	UTF-8 byte order mark are tolerated. Every other oddity is an error
 *	"name:line: reason": unknown or duplicate keys, a missing '=', an empty
 *	value, bad or out-of-range numbers (the message gives the range), and
 *	the hostile lines of lib/lineread.h (over LINEREAD_LINE_MAX bytes,
 *	never truncated; NUL bytes, control characters, invalid UTF-8).
 *	Files over CONF_FILE_MAX are refused.
 *
 *	Defaults are text in the table, parsed by the same code as the file,
 *	so a default can never escape the bounds. conf_print() writes values
 *	in the same syntax, so its output parses back to the same settings.
 *	Optional keys (CF_NULL) take "none" to mean "not set" (NULL).
 *
 *	doc/danepol.conf.5 documents the same rows; tests/unit/conf/test_conf.c
 *	checks its key summary (keys, defaults, ranges) against this table.
 *
 *	The syntax of each value type (booleans, numbers with bounds, times
 *	with units, octal modes, enumerations, sockets, addresses, names,
 *	levels) is checked by conf_value.c; this file holds the key table, the
 *	line parser, file loading and conf_print().
 *
 * NOT HERE
 *	Validation that needs other modules' state: status.<reason> rows are
 *	collected raw for policy_status_set(); the policy table file, trust
 *	anchor and resolver config are opened by their users.
 *
 * Thread safety: no shared mutable state; a struct conf is immutable once
 * returned.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "conf_value.h"
#include "editdist.h"
#include "lineread.h"
#include "log.h"
#include "mem.h"

#define CONF_FILE_MAX	(1024 * 1024) /* bytes per file */
#define CONF_STATUS_MAX 128	      /* status.* lines per file */

enum conf_type {
	CT_STR,	    /* any non-empty text */
	CT_PATH,    /* a file name */
	CT_NAME,    /* a user or group name */
	CT_BOOL,    /* yes/no/true/false/on/off/1/0 */
	CT_UINT,    /* decimal, min..max */
	CT_TIME,    /* decimal with unit ms/s/m/h (bare: s), min..max in field unit */
	CT_ENUM,    /* one of names[]; the field holds the index */
	CT_MODE,    /* octal file mode, min..max */
	CT_SOCKET,  /* unix:/path, local:/path, inet:PORT[@HOST], inet6:PORT[@HOST] */
	CT_FORWARD, /* IP address[@port] */
	CT_LEVEL,   /* a policy level name */
	CT_WORDS,   /* a list of transport names (conf_value_words) */
};

#define CF_NULL 0x1 /* "none" unsets the key (NULL) */

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off; /* field in struct conf */
	unsigned flags;
	const char *def;	  /* default, in file syntax */
	unsigned min, max;	  /* CT_UINT, CT_TIME (field unit), CT_MODE */
	unsigned unit_ms;	  /* CT_TIME: 1 for an ms field, 1000 for s */
	const char *const *names; /* CT_ENUM, NULL-terminated */
	const char *help;	  /* one line of meaning (conf_print_sample) */
};

static const char *const on_error_names[] = { "accept", "tempfail", NULL };
static const char *const audit_sync_names[] = { "none", "flush", "fsync", NULL };

#define F(field) offsetof(struct conf, field)

/* THE table. Order = conf_print() order = doc/danepol.conf.5 order. */
static const struct conf_key conf_keys[] = {
	/* resolver */
	{ "trust_anchor_file", CT_PATH, F(trust_anchor_file), 0, DEFAULT_TRUST_ANCHOR_FILE, 0, 0, 0,
	    NULL, "file with the DNSSEC root trust anchor (DS or DNSKEY records)" },
	{ "trust_anchor", CT_STR, F(trust_anchor), CF_NULL, "none", 0, 0, 0, NULL,
	    "one DS or DNSKEY record used instead of trust_anchor_file" },
	{ "resolver_forward", CT_FORWARD, F(resolver_forward), CF_NULL, "none", 0, 0, 0, NULL,
	    "send queries to this resolver (address[@port]); answers are still validated here" },
	{ "resolver_config", CT_PATH, F(resolver_config), CF_NULL, "none", 0, 0, 0, NULL,
	    "extra libunbound configuration file (auth-zones, stubs, tuning)" },
	{ "resolver_max_rtt", CT_TIME, F(resolver_max_rtt_ms), 0, "1s", 50, 120000, 1, NULL,
	    "upper bound of the retransmission timeout per name server" },
	{ "resolver_retries", CT_UINT, F(resolver_retries), 0, "2", 1, 10, 0, NULL,
	    "retransmissions of one query to one server" },
	{ "resolver_threads", CT_UINT, F(resolver_threads), 0, "2", 1, 16, 0, NULL,
	    "libunbound contexts validating in parallel, one thread each" },
	{ "decision_timeout", CT_TIME, F(decision_timeout_ms), 0, "5s", 100, 60000, 1, NULL,
	    "hard bound on one decision, all lookups included (then: defer)" },
	{ "ipv4", CT_BOOL, F(ipv4), 0, "yes", 0, 0, 0, NULL, "look up A records of MX hosts" },
	{ "ipv6", CT_BOOL, F(ipv6), 0, "yes", 0, 0, 0, NULL, "look up AAAA records of MX hosts" },
	/* policy */
	{ "policy_table", CT_PATH, F(policy_table), CF_NULL, "none", 0, 0, 0, NULL,
	    "local policy file: 'domain level' or '.parent level' lines" },
	{ "default_level", CT_LEVEL, F(default_level), 0, "dane", 0, 0, 0, NULL,
	    "policy level of domains not in the policy table" },
	{ "insecure_mx_dane", CT_BOOL, F(insecure_mx_dane), 0, "yes", 0, 0, 0, NULL,
	    "apply DANE to hosts of an unsigned MX RRset (as Postfix does)" },
	{ "smtp_port", CT_UINT, F(smtp_port), 0, "25", 1, 65535, 0, NULL,
	    "port of the MX hosts whose TLSA records (_PORT._tcp) are looked up" },
	{ "max_mx_hosts", CT_UINT, F(max_mx_hosts), 0, "10", 1, 64, 0, NULL,
	    "at most this many MX hosts of a destination are examined" },
	/* cache */
	{ "cache_size", CT_UINT, F(cache_size), 0, "100000", 1, 10000000, 0, NULL,
	    "decisions kept in the cache" },
	{ "cache_min_ttl", CT_TIME, F(cache_min_ttl_s), 0, "60s", 0, 86400, 1000, NULL,
	    "shortest time a decision is cached" },
	{ "cache_max_ttl", CT_TIME, F(cache_max_ttl_s), 0, "3600s", 0, 604800, 1000, NULL,
	    "longest time a decision is cached" },
	{ "cache_defer_ttl", CT_TIME, F(cache_defer_ttl_s), 0, "30s", 0, 3600, 1000, NULL,
	    "time a defer decision is cached" },
	/* danepold: sockets and process */
	{ "milter_socket", CT_SOCKET, F(milter_socket), CF_NULL,
	    "unix:" DANEPOL_SOCKET_DIR "/milter.sock", 0, 0, 0, NULL,
	    "the milter socket (unix:PATH, inet:PORT@HOST; none: no milter)" },
	{ "socketmap_socket", CT_SOCKET, F(socketmap_socket), CF_NULL, "none", 0, 0, 0, NULL,
	    "Postfix smtp_tls_policy_maps socketmap socket (none: off)" },
	{ "exim_socket", CT_SOCKET, F(exim_socket), CF_NULL, "none", 0, 0, 0, NULL,
	    "Exim line-protocol socket (none: off)" },
	{ "control_socket", CT_SOCKET, F(control_socket), CF_NULL, "none", 0, 0, 0, NULL,
	    "danepol query/stats control socket (unix:PATH, inet:PORT@HOST; none: off)" },
	{ "metrics_socket", CT_SOCKET, F(metrics_socket), CF_NULL, "none", 0, 0, 0, NULL,
	    "Prometheus /metrics listener (inet:PORT@HOST or unix:PATH; none: off)" },
	{ "user", CT_NAME, F(user), 0, "danepol", 0, 0, 0, NULL,
	    "user danepold runs as after binding its sockets" },
	{ "socket_group", CT_NAME, F(socket_group), CF_NULL, "postfix", 0, 0, 0, NULL,
	    "group of the unix sockets (the MTA's group)" },
	{ "socket_mode", CT_MODE, F(socket_mode), 0, "0660", 0, 0777, 0, NULL,
	    "mode of the unix sockets" },
	{ "socket_world_access", CT_BOOL, F(socket_world_access), 0, "no", 0, 0, 0, NULL,
	    "allow a socket_mode that lets every local user connect" },
	{ "pid_file", CT_PATH, F(pid_file), CF_NULL, DANEPOL_RUN_DIR "/danepold.pid", 0, 0, 0, NULL,
	    "danepold's pid file (none: no pid file)" },
	{ "socket_idle_timeout", CT_TIME, F(socket_idle_timeout_ms), 0, "15s", 100, 3600000, 1,
	    NULL, "socketmap/Exim connection idle before a request" },
	{ "socket_request_timeout", CT_TIME, F(socket_request_timeout_ms), 0, "10s", 100, 300000, 1,
	    NULL, "socketmap/Exim: time for one whole request" },
	{ "milter_timeout", CT_TIME, F(milter_timeout_s), 0, "1800s", 1, 7210, 1000, NULL,
	    "libmilter's wait for the MTA's next command" },
	/* danepold: milter behaviour */
	{ "on_error", CT_ENUM, F(on_error_tempfail), 0, "tempfail", 0, 0, 0, on_error_names,
	    "reply when the engine itself fails: tempfail or accept" },
	{ "audit_only", CT_BOOL, F(audit_only), 0, "no", 0, 0, 0, NULL,
	    "yes: never defer, only write the audit log" },
	{ "use_rcpt_host", CT_BOOL, F(use_rcpt_host), 0, "yes", 0, 0, 0, NULL,
	    "decide on Postfix's next hop ({rcpt_host}) instead of the recipient domain" },
	{ "milter_smtp_transports", CT_WORDS, F(milter_smtp_transports), 0, "smtp", 0, 0, 0, NULL,
	    "Postfix transports whose recipients the milter may defer" },
	{ "log_decisions", CT_BOOL, F(log_decisions), 0, "no", 0, 0, 0, NULL,
	    "one mail-log line per decision of every front door (deferrals are always logged)" },
	{ "socketmap_tlsrpt", CT_BOOL, F(socketmap_tlsrpt), 0, "no", 0, 0, 0, NULL,
	    "add Postfix 3.10's TLSRPT attributes to MTA-STS socketmap replies (Postfix >= 3.10 only)" },
	/* danepold: the inbound S/MIME signer check */
	{ "smime_listeners", CT_WORDS, F(smime_listeners), CF_NULL, "none", 0, 0, 0, NULL,
	    "{daemon_name} values of the smtpd listeners whose mail is checked for S/MIME signers "
	    "(none: off)" },
	{ "smime_authserv_id", CT_STR, F(smime_authserv_id), CF_NULL, "none", 0, 0, 0, NULL,
	    "authserv-id of the Authentication-Results field added (none: the host name)" },
	{ "smime_max_message", CT_UINT, F(smime_max_message), 0, "10485760", 1024, 1073741824, 0,
	    NULL, "bytes: a larger message is not checked (smime=neutral)" },
	{ "smime_max_depth", CT_UINT, F(smime_max_depth), 0, "8", 1, 32, 0, NULL,
	    "MIME nesting levels searched for the signature" },
	{ "smime_max_parts", CT_UINT, F(smime_max_parts), 0, "100", 2, 10000, 0, NULL,
	    "MIME entities looked at in one message" },
	{ "smime_max_certs", CT_UINT, F(smime_max_certs), 0, "20", 1, 200, 0, NULL,
	    "certificates accepted in one signature" },
	{ "smime_timeout", CT_TIME, F(smime_timeout_ms), 0, "10s", 100, 120000, 1, NULL,
	    "bound on one whole check, DNS and OCSP included (then: smime=temperror)" },
	{ "smime_ocsp_timeout", CT_TIME, F(smime_ocsp_timeout_ms), 0, "5s", 100, 60000, 1, NULL,
	    "bound on one OCSP request (within smime_timeout)" },
	{ "smime_ocsp_internal", CT_BOOL, F(smime_ocsp_internal), 0, "no", 0, 0, 0, NULL,
	    "ask OCSP responders on internal addresses (loopback, RFC 1918, link-local)" },
	{ "smime_on_temperror", CT_ENUM, F(smime_on_temperror_tempfail), 0, "accept", 0, 0, 0,
	    on_error_names, "a check ending in temperror: accept the message, or tempfail it" },
	/* audit log */
	{ "audit_log", CT_PATH, F(audit_log), CF_NULL, "-", 0, 0, 0, NULL,
	    "JSON Lines audit log (-: standard output, none: off)" },
	{ "audit_sync", CT_ENUM, F(audit_sync), 0, "flush", 0, 0, 0, audit_sync_names,
	    "after each audit line: none, flush or fsync" },
	/* TLS outcomes: probe */
	{ "probe", CT_BOOL, F(probe), 0, "no", 0, 0, 0, NULL,
	    "probe decided destinations with STARTTLS in the background" },
	{ "probe_interval", CT_TIME, F(probe_interval_s), 0, "3600s", 60, 604800, 1000, NULL,
	    "time before the same destination is probed again" },
	{ "probe_step_timeout", CT_TIME, F(probe_step_timeout_ms), 0, "10s", 100, 300000, 1, NULL,
	    "bound on each step of a probe (connect, banner, STARTTLS, ...)" },
	{ "probe_helo", CT_STR, F(probe_helo), CF_NULL, "none", 0, 0, 0, NULL,
	    "EHLO name of the probe (none: the host name)" },
	{ "probe_defer", CT_BOOL, F(probe_defer), 0, "no", 0, 0, 0, NULL,
	    "defer a destination whose every DANE host failed the probe" },
	/* MTA-STS (RFC 8461) */
	{ "sts", CT_BOOL, F(sts), 0, "no", 0, 0, 0, NULL,
	    "apply MTA-STS policies to destinations DANE does not decide" },
	{ "sts_ca_file", CT_PATH, F(sts_ca_file), CF_NULL, "none", 0, 0, 0, NULL,
	    "CA bundle the policy hosts' certificates are checked against (none: the system store)" },
	{ "sts_fetch_timeout", CT_TIME, F(sts_fetch_timeout_ms), 0, "10s", 500, 60000, 1, NULL,
	    "bound on one policy fetch (within the decision deadline)" },
	{ "sts_https_port", CT_UINT, F(sts_https_port), 0, "443", 1, 65535, 0, NULL,
	    "port of the policy hosts (443; another port is a test aid)" },
	/* TLS outcomes: store and reports */
	{ "outcome_db", CT_PATH, F(outcome_db), CF_NULL, DANEPOL_STATE_DIR "/outcomes.db", 0, 0, 0,
	    NULL, "store of TLS outcomes: an SQLite file, or a postgresql:// URI shared by relays" },
	{ "relay_name", CT_STR, F(relay_name), CF_NULL, "none", 0, 0, 0, NULL,
	    "this relay's name in a shared outcome_db (none: the host name)" },
	{ "outcome_queue_max", CT_UINT, F(outcome_queue_max), 0, "100000", 0, 10000000, 0, NULL,
	    "outcomes danepold holds in memory while outcome_db is down or slow" },
	{ "outcome_db_timeout", CT_TIME, F(outcome_db_timeout_ms), 0, "5s", 100, 600000, 1, NULL,
	    "bound on a PostgreSQL connect or statement" },
	{ "local_db", CT_PATH, F(local_db), CF_NULL, "none", 0, 0, 0, NULL,
	    "with a PostgreSQL outcome_db: this relay's own SQLite file (none: " DANEPOL_STATE_DIR
	    "/local.db)" },
	{ "postfix_log", CT_PATH, F(postfix_log), CF_NULL, "none", 0, 0, 0, NULL,
	    "Postfix mail log read by danepol report --ingest-postfix (none: off)" },
	{ "report_org_name", CT_STR, F(report_org_name), CF_NULL, "none", 0, 0, 0, NULL,
	    "organization-name of the TLS reports sent" },
	{ "report_contact", CT_STR, F(report_contact), CF_NULL, "none", 0, 0, 0, NULL,
	    "contact-info of the TLS reports sent" },
	{ "report_from", CT_STR, F(report_from), CF_NULL, "none", 0, 0, 0, NULL,
	    "sender address of mailed TLS reports" },
	{ "report_dir", CT_PATH, F(report_dir), 0, DANEPOL_STATE_DIR "/reports", 0, 0, 0, NULL,
	    "directory of the built reports and the delivery queue" },
	{ "report_sendmail", CT_PATH, F(report_sendmail), 0, "/usr/sbin/sendmail", 0, 0, 0, NULL,
	    "sendmail program that mails TLS reports" },
	{ "report_retry", CT_TIME, F(report_retry_s), 0, "86400s", 0, 604800, 1000, NULL,
	    "how long undelivered reports are retried" },
	/* the operator's own DANE: danepol selfcheck and rollover */
	{ "selfcheck_domains", CT_WORDS, F(selfcheck_domains), CF_NULL, "none", 0, 0, 0, NULL,
	    "our own mail domains, checked by danepol selfcheck and selfcheck_interval" },
	{ "selfcheck_interval", CT_TIME, F(selfcheck_interval_s), 0, "0s", 0, 604800, 1000, NULL,
	    "danepold runs the self-check of selfcheck_domains this often (0: never)" },
	{ "selfcheck_cert_files", CT_STR, F(selfcheck_cert_files), CF_NULL, "none", 0, 0, 0,
	    NULL, "certificate chain files our MTA serves (none: ask postconf)" },
	{ "selfcheck_cert_warn_days", CT_UINT, F(selfcheck_cert_warn_days), 0, "21", 0, 3650, 0,
	    NULL, "warn this many days before a served certificate expires" },
	{ "selfcheck_cert_crit_days", CT_UINT, F(selfcheck_cert_crit_days), 0, "7", 0, 3650, 0,
	    NULL, "critical this many days before a served certificate expires" },
	{ "selfcheck_sig_warn_days", CT_UINT, F(selfcheck_sig_warn_days), 0, "7", 0, 365, 0, NULL,
	    "warn this many days before an RRSIG over our MX, addresses or TLSA expires" },
	{ "selfcheck_sig_crit_days", CT_UINT, F(selfcheck_sig_crit_days), 0, "2", 0, 365, 0, NULL,
	    "critical this many days before such an RRSIG expires" },
	{ "selfcheck_prometheus_file", CT_PATH, F(selfcheck_prometheus_file), CF_NULL, "none", 0,
	    0, 0, NULL, "Prometheus textfile-collector file of the self-check (none: off)" },
	{ "rollover_ttls", CT_UINT, F(rollover_ttls), 0, "2", 1, 100, 0, NULL,
	    "a next key's TLSA record must be seen this many TTLs before the key is used" },
};

#define NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

/* Parser state: the conf being built and where each key was set. */
struct conf_parser {
	struct conf *c;
	const char *name;
	unsigned set_line[NKEYS]; /* 0: not set in this file */
};

/* ------------------------------------------------------------ field access */

/* Numeric keys live in unsigned/int fields; the others in char * fields. */
static int
is_num(const struct conf_key *k)
{
	return k->type == CT_BOOL || k->type == CT_UINT || k->type == CT_TIME ||
	    k->type == CT_ENUM || k->type == CT_MODE;
}

static char **
field_str(struct conf *c, const struct conf_key *k)
{
	return (char **)(void *)((char *)c + k->off);
}

static const char *
field_cstr(const struct conf *c, const struct conf_key *k)
{
	return *(char *const *)(const void *)((const char *)c + k->off);
}

/* CT_UINT, CT_TIME, CT_MODE are unsigned fields; CT_BOOL, CT_ENUM int. */
static void
field_set_num(struct conf *c, const struct conf_key *k, unsigned v)
{
	void *p = (char *)c + k->off;

	if (k->type == CT_BOOL || k->type == CT_ENUM)
		*(int *)p = (int)v;
	else
		*(unsigned *)p = v;
}

static unsigned
field_num(const struct conf *c, const struct conf_key *k)
{
	const void *p = (const char *)c + k->off;

	if (k->type == CT_BOOL || k->type == CT_ENUM)
		return (unsigned)*(const int *)p;
	return *(const unsigned *)p;
}

/* ------------------------------------------------------------ values (conf_value.h) */

/* Numeric value v of key k in file syntax ("yes", "500ms", "5s", "0660", "tempfail"). */
static void
put_num(struct buf *b, const struct conf_key *k, unsigned v)
{
	if (k->type == CT_BOOL)
		buf_puts(b, v ? "yes" : "no");
	else if (k->type == CT_ENUM)
		buf_puts(b, k->names[v]);
	else if (k->type == CT_MODE)
		conf_value_put_mode(b, v);
	else if (k->type == CT_TIME)
		conf_value_put_time(b, v, k->unit_ms);
	else
		buf_printf(b, "%u", v);
}

/* Numeric types: parse v into *n. NULL, or the reason (caller frees). */
static char *
parse_num(const struct conf_key *k, const char *v, unsigned *n)
{
	switch (k->type) {
	case CT_BOOL:
		return conf_value_bool(v, n);
	case CT_UINT:
		return conf_value_uint(v, k->min, k->max, n);
	case CT_TIME:
		return conf_value_time(v, k->unit_ms, k->min, k->max, n);
	case CT_ENUM:
		return conf_value_enum(v, k->names, n);
	case CT_MODE:
		return conf_value_mode(v, k->min, k->max, n);
	default:
		msg_panic("conf: %s is not numeric", k->name);
	}
}

/* String types: check v (NULL: fine, store it). */
static char *
check_string(const struct conf_key *k, const char *v)
{
	switch (k->type) {
	case CT_SOCKET:
		return conf_value_socket(v);
	case CT_FORWARD:
		return conf_value_forward(v);
	case CT_NAME:
		return conf_value_name(v);
	case CT_LEVEL:
		return conf_value_level(v);
	case CT_WORDS:
		return conf_value_words(v);
	default:
		return NULL;
	}
}

/* Set key k from value v (non-empty, trimmed). NULL, or the reason (caller frees). */
static char *
set_value(struct conf *c, const struct conf_key *k, const char *v)
{
	unsigned n = 0;
	char *why, **sp;

	if (is_num(k)) {
		if ((why = parse_num(k, v, &n)) == NULL)
			field_set_num(c, k, n);
		return why;
	}
	sp = field_str(c, k);
	if ((k->flags & CF_NULL) && strcmp(v, "none") == 0) {
		free(*sp);
		*sp = NULL;
		return NULL;
	}
	if ((why = check_string(k, v)) == NULL) {
		free(*sp);
		*sp = xstrdup(v);
	}
	return why;
}

/* ------------------------------------------------------------ lines */

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Trim blanks at both ends of s in place; returns the new start. */
static char *
trim(char *s)
{
	size_t n;

	while (is_blank(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = 0;
	return s;
}

static char *
add_status(struct conf_parser *ps, const char *reason, const char *v, unsigned line)
{
	struct conf *c = ps->c;
	struct conf_status_override *o;

	if (*reason == 0)
		return xstrdup("empty reason after \"status.\"");
	for (size_t i = 0; i < c->nstatus; i++) {
		if (strcmp(c->status[i].reason, reason) == 0)
			return xasprintf("duplicate key \"status.%s\" (first set at line %u)",
			    reason, c->status[i].line);
	}
	if (c->nstatus >= CONF_STATUS_MAX)
		return xasprintf("too many status.* keys (at most %d)", CONF_STATUS_MAX);
	c->status = xreallocarray(c->status, c->nstatus + 1, sizeof(*c->status));
	o = &c->status[c->nstatus++];
	o->reason = xstrdup(reason);
	o->value = xstrdup(v);
	o->line = line;
	return NULL;
}

/* Index of the key called name, or NKEYS. */
static size_t
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			break;
	return i;
}

/* "unknown key" with the closest known key when one is near (a typo). */
static char *
unknown_key(const char *key)
{
	const char *names[NKEYS], *near;

	for (size_t i = 0; i < NKEYS; i++)
		names[i] = conf_keys[i].name;
	if ((near = editdist_closest(key, names, NKEYS, 2)) != NULL)
		return xasprintf("unknown key \"%.64s\" (did you mean \"%s\"?)", key, near);
	return xasprintf("unknown key \"%.64s\" (danepol.conf(5) lists the keys)", key);
}

/*
 * The '#' of a blank + '#' inside a value (a trailing comment pasted after
 * a value, "x = v # note"), or NULL. Such a '#' is refused, not taken as
 * part of the value: the value would otherwise silently end in the note.
 */
static const char *
comment_in(const char *val)
{
	for (const char *p = strchr(val, '#'); p; p = strchr(p + 1, '#'))
		if (p > val && (p[-1] == ' ' || p[-1] == '\t'))
			return p;
	return NULL;
}

/* One line (a lineread_fn: text without its line end, already checked). NULL or the reason. */
static char *
parse_line(void *arg, char *s, unsigned line)
{
	struct conf_parser *ps = arg;
	char *eq, *key, *val, *show, *why;
	const char *hash;
	size_t i;

	s = trim(s);
	if (*s == 0 || *s == '#')
		return NULL;
	if ((eq = strchr(s, '=')) == NULL)
		return xstrdup("missing '=' (expected \"key = value\")");
	*eq = 0;
	key = trim(s);
	val = trim(eq + 1);
	if (*key == 0)
		return xstrdup("empty key before '='");
	if (strspn(key, CONF_VALUE_NAME_CHARS) != strlen(key))
		return xstrdup("invalid key (letters, digits, '_', '.' and '-' only)");
	if (*val == 0)
		return xasprintf("empty value for \"%.64s\"", key);
	if ((hash = comment_in(val)) != NULL)
		return xasprintf(
		    "%.64s: value contains \"%s\": comments must be on a line of "
		    "their own (a '#' inside a value must not follow a blank, e.g. \"(#42)\")",
		    key, hash[-1] == '\t' ? "\\t#" : " #");
	if (strncmp(key, "status.", 7) == 0)
		return add_status(ps, key + 7, val, line);
	if ((i = key_find(key)) == NKEYS)
		return unknown_key(key);
	if (ps->set_line[i])
		return xasprintf("duplicate key \"%s\" (first set at line %u)", key,
		    ps->set_line[i]);
	ps->set_line[i] = line;
	if ((why = set_value(ps->c, &conf_keys[i], val)) == NULL)
		return NULL;
	show = xasprintf("%s: %s", key, why);
	free(why);
	return show;
}

static size_t
key_index(const char *name)
{
	size_t i = key_find(name);

	if (i == NKEYS)
		msg_panic("conf: no key %s", name);
	return i;
}

/* The later of the lines that set keys a and b (where a conflict shows). */
static unsigned
later_line(const struct conf_parser *ps, const char *a, const char *b)
{
	unsigned l1 = ps->set_line[key_index(a)], l2 = ps->set_line[key_index(b)];

	return l1 > l2 ? l1 : l2;
}

/* Checks across keys: 0, or -1 with *err set. */
static int
cross_check(struct conf_parser *ps, char **err)
{
	const struct conf *c = ps->c;

	if (c->cache_min_ttl_s > c->cache_max_ttl_s)
		*err = xasprintf("%s:%u: cache_min_ttl (%us) exceeds cache_max_ttl (%us)", ps->name,
		    later_line(ps, "cache_min_ttl", "cache_max_ttl"), c->cache_min_ttl_s,
		    c->cache_max_ttl_s);
	else if (!c->ipv4 && !c->ipv6)
		*err = xasprintf("%s:%u: ipv4 and ipv6 are both off: no address could be used",
		    ps->name, later_line(ps, "ipv4", "ipv6"));
	else if ((c->socket_mode & 0007) && !c->socket_world_access)
		*err = xasprintf(
		    "%s:%u: socket_mode %04o lets every local user query danepold "
		    "(bits 0007): use 0660 with socket_group, or set socket_world_access = yes",
		    ps->name, later_line(ps, "socket_mode", "socket_world_access"), c->socket_mode);
	return *err ? -1 : 0;
}

/* Parse n bytes of text over the defaults. */
static struct conf *
parse_mem(const char *text, size_t n, const char *name, char **err)
{
	struct conf_parser ps;

	*err = NULL;
	memset(&ps, 0, sizeof(ps));
	ps.c = conf_defaults();
	ps.name = name;
	free(ps.c->path);
	ps.c->path = xstrdup(name);
	if (n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
		text += 3; /* UTF-8 byte order mark */
		n -= 3;
	}
	if (lineread_each(text, n, name, parse_line, &ps, err) < 0 || cross_check(&ps, err) < 0) {
		conf_free(ps.c);
		return NULL;
	}
	ps.c->key_lines = xcalloc(NKEYS, sizeof(*ps.c->key_lines));
	memcpy(ps.c->key_lines, ps.set_line, sizeof(ps.set_line));
	return ps.c;
}

/* ------------------------------------------------------------ API */

/**
 * conf_defaults - a snapshot of the table's defaults (caller frees with
 * conf_free()). A default that does not parse is a bug: msg_panic().
 */
struct conf *
conf_defaults(void)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	char *why;

	c->path = xstrdup("(defaults)");
	for (size_t i = 0; i < NKEYS; i++) {
		if ((why = set_value(c, &conf_keys[i], conf_keys[i].def)) != NULL)
			msg_panic("conf: default of %s: %s", conf_keys[i].name, why);
	}
	return c;
}

/**
 * conf_parse - text (NUL-terminated, so it cannot hold NUL bytes) over the
 * defaults; name labels errors. NULL with *err (caller frees) on error.
 */
struct conf *
conf_parse(const char *text, const char *name, char **err)
{
	return parse_mem(text, strlen(text), name, err);
}

/**
 * conf_file_trusted - OpenSSH's StrictModes for a settings file: whoever
 * may write it decides what danepold does, so a world-writable file, or
 * (as root) one owned by anyone but root, is refused. A character
 * device (-c /dev/null: the built-in defaults) holds nothing anyone can
 * change and passes.
 */
int
conf_file_trusted(int fd, const char *path, char **err)
{
	char eb[128];
	struct stat st;

	if (fstat(fd, &st) < 0) {
		*err = xasprintf("%s: %s", path, strerror_r(errno, eb, sizeof(eb)));
		return -1;
	}
	if (S_ISCHR(st.st_mode))
		return 0;
	if (st.st_mode & S_IWOTH) {
		*err = xasprintf("%s: writable by every user (mode %04o): refused; chmod o-w it",
		    path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		*err = xasprintf("%s: owned by uid %ld, not root, while running as root: "
				 "refused; chown root it",
		    path, (long)st.st_uid);
		return -1;
	}
	return 0;
}

/**
 * conf_load - read path and parse it over the defaults. A missing or
 * unreadable file, or one over 1 MiB, is an error. NULL with *err.
 */
struct conf *
conf_load(const char *path, char **err)
{
	struct conf *c;
	char *text = NULL;
	size_t len = 0;

	*err = NULL;
	if (lineread_file(path, CONF_FILE_MAX, conf_file_trusted, &text, &len, err) < 0)
		return NULL;
	c = parse_mem(text, len, path, err);
	free(text);
	return c;
}

/** conf_load_default - path, else the default file if it exists, else defaults. */
struct conf *
conf_load_default(const char *path, char **err)
{
	*err = NULL;
	if (path == NULL) {
		if (access(DANEPOL_CONF_FILE, F_OK) != 0) {
			msg_debug("%s does not exist: using built-in defaults", DANEPOL_CONF_FILE);
			return conf_defaults();
		}
		path = DANEPOL_CONF_FILE;
	}
	return conf_load(path, err);
}

/**
 * conf_print - every setting as "key = value" in table order, then the
 * status.* overrides in file order. The output parses to the same conf.
 */
void
conf_print(const struct conf *c, FILE *fp)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		buf_printf(&b, "%s = ", k->name);
		if (is_num(k))
			put_num(&b, k, field_num(c, k));
		else
			buf_puts(&b, field_cstr(c, k) ? field_cstr(c, k) : "none");
		buf_putc(&b, '\n');
	}
	for (size_t i = 0; i < c->nstatus; i++)
		buf_printf(&b, "status.%s = %s\n", c->status[i].reason, c->status[i].value);
	fwrite(b.s, 1, b.len, fp);
	buf_free(&b);
}

/** conf_key_line - see conf.h. */
unsigned
conf_key_line(const struct conf *c, const char *key)
{
	size_t i = key_find(key);

	return i < NKEYS && c->key_lines ? c->key_lines[i] : 0;
}

/**
 * conf_print_sample - the commented danepol.conf a package installs: a
 * header, then for every key of the table, in table order, its one line
 * of meaning as a comment and "#key = default". Uncommenting any line
 * keeps the default, so the output parses to conf_defaults(). Made at
 * build time (conf/conf_sample.c), so a key added to the table appears
 * there by itself. Any thread.
 */
void
conf_print_sample(FILE *fp)
{
	fputs("# " DANEPOL_CONF_FILE " - configuration of danepold(8) and danepol(1).\n"
	      "# Generated from danepol's key table: every key, with its default,\n"
	      "# commented out. Uncomment a line and change its value to set the key.\n"
	      "# Syntax: \"key = value\" lines; a '#' starts a comment only at the\n"
	      "# start of a line. Check with \"danepold -n\"; details: danepol.conf(5).\n"
	      "# status.<reason> = <reply> lines override a reply of the status table.\n",
	    fp);
	for (size_t i = 0; i < NKEYS; i++)
		fprintf(fp, "\n# %s\n#%s = %s\n",
		    conf_keys[i].help ? conf_keys[i].help : "(no meaning: give the row one)",
		    conf_keys[i].name, conf_keys[i].def);
}

/** conf_free - release c and everything it owns. NULL is fine. */
void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		if (!is_num(&conf_keys[i]))
			free(*field_str(c, &conf_keys[i]));
	}
	for (size_t i = 0; i < c->nstatus; i++) {
		free(c->status[i].reason);
		free(c->status[i].value);
	}
	free(c->status);
	free(c->key_lines);
	free(c->path);
	free(c);
}
