/*
 * policy.h - the RFC 7672 decision for one SMTP destination.
 *
 * The engine is pure: it performs no I/O. It tells its driver which DNS
 * lookups it needs (policy_engine_next_query), is handed the classified
 * answers (policy_engine_answer), and when it has what it needs it produces
 * a struct policy_decision. policy_run.c is the driver that connects it to
 * the resolver (dns/dns.h), the local policy table and the decision cache.
 *
 * Decision ladder (RFC 7672 sections 2.1-2.2; see doc/engine.md):
 *   local level none/may/encrypt  -> no DNS at all, verdict try, reason local-policy
 *   address-literal next hop      -> try (dane: n/a) or defer (dane-only)
 *   "[host]" next hop (no_mx)     -> no MX lookup: the host stage on the name
 *   MX lookup failure             -> defer (mx-lookup-failed, mx-dnssec-bogus, dns-timeout)
 *   any root-target MX (null MX)  -> reject (null-mx)
 *   NXDOMAIN                      -> try (no-such-domain: the MTA bounces it)
 *   MX insecure                   -> try, or defer when dane-only; hosts still
 *                                    checked for DANE when insecure_mx_dane
 *   no MX                         -> implicit MX: the domain is the one host
 *   per host, in preference order: A/AAAA first; failure -> host unusable;
 *     insecure -> opportunistic (no TLSA lookup unless a secure first CNAME);
 *     secure -> TLSA at the candidate base domains (expanded, then original);
 *     TLSA failure -> host unusable; secure usable -> DANE; secure but all
 *     unusable -> TLS without authentication; none -> opportunistic.
 *   no usable host left           -> defer with the most telling host reason
 *   all usable hosts DANE         -> require; otherwise try
 *   dane-only                     -> hosts without DANE are unusable
 */
#ifndef DANEPOL_POLICY_H
#define DANEPOL_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "tlsa.h"
#include "tls_level.h"

enum policy_verdict { POLICY_REQUIRE, POLICY_TRY, POLICY_DEFER, POLICY_REJECT };

/* Reason codes: stable strings in JSON, one row each in the status table. */
enum policy_reason {
	/* require */
	POLICY_R_DANE,
	POLICY_R_STS_ENFORCE, /* MTA-STS enforce: PKIX-authenticated TLS to a policy MX host */
	/* try */
	POLICY_R_DANE_PARTIAL,
	POLICY_R_UNAUTH_TLS,
	POLICY_R_NO_TLSA,
	POLICY_R_MX_INSECURE,
	POLICY_R_ADDRESS_INSECURE,
	POLICY_R_ADDRESS_LITERAL,
	POLICY_R_LOCAL_POLICY,
	POLICY_R_NO_SUCH_DOMAIN,
	POLICY_R_STS_TESTING, /* MTA-STS testing: opportunistic TLS, failures reported */
	/* defer */
	POLICY_R_MX_LOOKUP_FAILED,
	POLICY_R_MX_BOGUS,
	POLICY_R_DNS_TIMEOUT,
	POLICY_R_ADDRESS_LOOKUP_FAILED,
	POLICY_R_ADDRESS_BOGUS,
	POLICY_R_NO_ADDRESS,
	POLICY_R_TLSA_LOOKUP_FAILED,
	POLICY_R_DANE_REQUIRED,
	POLICY_R_TLSA_UNUSABLE,
	POLICY_R_INVALID_DOMAIN,
	POLICY_R_INTERNAL_ERROR,
	POLICY_R_DANE_AUTH_FAILED, /* danepold probe_defer: every DANE host failed its probe */
	POLICY_R_STS_MX_MISMATCH,  /* MTA-STS enforce: no MX host matches the policy */
	/* reject */
	POLICY_R_NULL_MX,
	POLICY_R_COUNT
};

enum policy_host_state {
	POLICY_HOST_DANE,	   /* usable secure TLSA: authenticated TLS required */
	POLICY_HOST_TLS,	   /* secure TLSA, all unusable: TLS required, no authentication */
	POLICY_HOST_OPPORTUNISTIC, /* no DANE: STARTTLS when offered, cleartext allowed */
	POLICY_HOST_UNUSABLE,	   /* lookup failure / no address / policy: must not be used */
};

enum policy_tlsa_state {
	POLICY_TLSA_NOT_QUERIED, /* addresses insecure or unusable: no TLSA lookup */
	POLICY_TLSA_NONE,	 /* no secure TLSA RRset at any candidate */
	POLICY_TLSA_FOUND,	 /* secure RRset at tlsa_base */
	POLICY_TLSA_FAILED,	 /* lookup failure (bogus, SERVFAIL, timeout) */
};

struct policy_host {
	char *name;		     /* MX exchange, or the domain for an implicit MX */
	int preference;		     /* MX preference; -1 for implicit MX */
	char *canonname;	     /* CNAME-expanded name, or NULL */
	int addr_queried;	     /* 0: addresses not looked up (no need) */
	enum dns_status addr_status; /* combined A/AAAA outcome */
	enum dns_sec addr_sec;
	char **addrs; /* textual addresses, naddrs of them */
	size_t naddrs;
	enum policy_tlsa_state tlsa_state;
	enum dns_sec tlsa_sec; /* security of the deciding TLSA answer */
	char *tlsa_base;       /* TLSA base domain when FOUND, else NULL */
	struct tlsa_rr *tlsa;  /* records when FOUND, ntlsa of them */
	size_t ntlsa;
	size_t nusable; /* how many of them are usable for SMTP */
	enum policy_host_state state;
	enum policy_reason reason; /* why this state (e.g. TLSA_LOOKUP_FAILED) */
	char *why;		   /* human detail */
};

enum policy_source { POLICY_SRC_DNS, POLICY_SRC_TABLE, POLICY_SRC_DEFAULT };

/*
 * The MTA-STS part of a decision (policy_sts.c), when it was consulted:
 * the destination had no DANE to decide it and sts = yes. Owned by the
 * decision.
 */
struct policy_sts {
	int have;	  /* 1: a policy applied (mode, mx, id, expires set) */
	int mode;	  /* enum sts_mode (sts_policy.h) */
	char *id;	  /* the id it was fetched under */
	char **mx;	  /* its patterns */
	size_t nmx;
	uint32_t max_age; /* its max_age, seconds */
	int64_t expires;  /* Unix seconds */
	char *txt_id;	  /* the id of the current _mta-sts TXT record, or NULL */
	char *note;	  /* what happened: "no _mta-sts record", a fetch error, ... */
	char *fetch_error; /* RFC 8460 result type of a failed fetch, or NULL */
};

struct policy_json_memo; /* policy_json.c's rendered text of a decision */

/*
 * The decision. Immutable once made and shared by reference (the cache
 * hands the same one to many threads): take with policy_decision_ref(),
 * drop with policy_decision_unref().
 */
struct policy_decision {
	char *domain;	 /* next-hop domain as asked (canonical) */
	char *mx_domain; /* CNAME-expanded domain, or NULL */
	enum policy_verdict verdict;
	enum tls_level level; /* MTA TLS level to enforce */
	enum policy_reason reason;
	char *why;		     /* human reason, one line */
	enum tls_level policy_level; /* local table level (or default) applied */
	enum policy_source source;   /* where policy_level came from */
	char *table_key;	     /* matching table key, or NULL */
	enum dns_status mx_status;   /* MX lookup outcome (DNS_NODATA for implicit MX) */
	enum dns_sec mx_sec;
	int implicit_mx;
	int no_mx;		   /* non-MX destination ("[host]"): host = domain */
	unsigned port;		   /* SMTP port of the destination */
	int mx_queried;		   /* 0 when no MX lookup was made */
	struct policy_host *hosts; /* in preference order */
	size_t nhosts;
	uint32_t ttl;	     /* min TTL over the answers used (0 if none) */
	unsigned queries;    /* DNS lookups made */
	unsigned elapsed_ms; /* wall time of the resolution */
	int64_t made_ms;     /* clock_now_ms() when policy_run.c made it (0: not by it) */
	struct policy_sts *sts; /* MTA-STS, when consulted (policy_sts.c), else NULL */
	_Atomic int refs;    /* reference count */
	/* The rendered JSON text (policy_json.c), made on first use and then
	 * only read: the one member written after the decision is made,
	 * published atomically; freed with the decision. */
	struct policy_json_memo *_Atomic json_memo;
};

struct policy_input {
	const char *domain;   /* canonical domain or address literal */
	enum tls_level level; /* local policy level */
	enum policy_source source;
	const char *table_key; /* matching table key, or NULL */
	unsigned port;	       /* SMTP port for TLSA names (25) */
	int no_mx;	       /* "[host]" next hop: no MX lookup (RFC 7672 2.2.2) */
	int want_ipv4;
	int want_ipv6;
	int insecure_mx_dane; /* apply DANE to hosts of an insecure MX RRset */
	unsigned max_hosts;   /* MX hosts examined, best preference first */
	int tlsa_prefetch;    /* ask each host's TLSA (at its own name) together
					 * with its addresses; the answer is used only
					 * where it would have been asked (secure
					 * addresses, that candidate): one round trip
					 * less per cold decision */
};

struct policy_query {
	const char *name; /* valid until the next engine call */
	uint16_t type;
	unsigned tag;
};

struct policy_engine;

/** Start a decision; in is copied. Free with policy_engine_free(). */
struct policy_engine *policy_engine_new(const struct policy_input *in);
void policy_engine_free(struct policy_engine *e);

/** Next lookup to issue: returns 1 and fills *q, or 0 when none is wanted now. */
int policy_engine_next_query(struct policy_engine *e, struct policy_query *q);

/** Hand over the answer for tag; the engine takes ownership of ans. */
void policy_engine_answer(struct policy_engine *e, unsigned tag, struct dns_answer *ans);

/** 1 once the decision is made (no more lookups will be asked for). */
int policy_engine_done(const struct policy_engine *e);

/**
 * Take the decision (refs = 1; caller unrefs). Only valid once done;
 * callable once. Before done it returns NULL.
 */
struct policy_decision *policy_engine_result(struct policy_engine *e);

struct policy_decision *policy_decision_ref(struct policy_decision *d);
/** Free an MTA-STS part (policy_decision_unref() does it for d->sts). NULL-safe. */
void policy_sts_free(struct policy_sts *s);
void policy_decision_unref(struct policy_decision *d);

/** Build a decision with no DNS (local policy, invalid input, internal error). refs = 1. */
struct policy_decision *policy_decision_simple(const char *domain, enum policy_verdict v,
    enum tls_level level, enum policy_reason r, const char *why);

/* Names used in JSON, logs and config. */
const char *policy_verdict_name(enum policy_verdict v);
const char *policy_reason_name(enum policy_reason r);
/** Parse a reason code; returns 0 and sets *r, or -1. */
int policy_reason_parse(const char *s, enum policy_reason *r);
/** The verdict class a reason belongs to. */
enum policy_verdict policy_reason_verdict(enum policy_reason r);
const char *policy_host_state_name(enum policy_host_state s);
const char *policy_tlsa_state_name(enum policy_tlsa_state s);
const char *policy_source_name(enum policy_source s);

#endif
