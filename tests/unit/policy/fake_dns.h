/*
 * fake_dns.h - an in-memory "zone" of canned, already classified DNS
 * answers, and a driver that runs the pure decision engine (policy.h)
 * against it. For unit tests only.
 *
 * A zone maps (name, type) to one canned answer: status and DNSSEC state
 * (any combination of DNS_DATA/NODATA/NXDOMAIN/FAIL/TIMEOUT and
 * SECURE/INSECURE/BOGUS/INDETERMINATE, even those dns/dns.c never
 * produces), an optional why text, an optional canonname (what a resolver
 * reports after following a CNAME chain), a TTL and wire-format RDATA.
 * Names are matched case-insensitively, ignoring one trailing dot. A name
 * nobody configured answers with the zone's default (NXDOMAIN, secure,
 * unless changed with fake_zone_default()).
 *
 * fake_run() loops policy_engine_next_query() / policy_engine_answer()
 * until the engine is done, answering the pending queries in the zone's
 * order (FIFO, LIFO, interleaved, or a seeded shuffle), records every
 * query asked (fake_asked(), fake_query_at()), and reports a stall: the
 * engine not done with nothing left to answer.
 *
 * Ownership: the zone owns its entries and its query log; fake_run()
 * hands the decision to the caller (unref it); fake_answer() returns a
 * fresh answer the caller owns (or hands to the engine).
 */
#ifndef DANEPOL_FAKE_DNS_H
#define DANEPOL_FAKE_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "policy.h"

/* Order in which fake_run() answers the queries pending at each step. */
enum fake_order {
	FAKE_FIFO,		/* oldest pending query first */
	FAKE_LIFO,		/* newest pending query first */
	FAKE_INTERLEAVED,	/* oldest, newest, oldest, ... */
	FAKE_SHUFFLE,		/* seeded pseudo-random pick (fake_zone_order seed) */
};

/* fake_run() results. */
#define FAKE_OK		0
#define FAKE_STALL	(-1)	/* engine not done, nothing pending */
#define FAKE_NORESULT	(-2)	/* done, but policy_engine_result() gave NULL */

/* One query the engine asked, in the order asked. */
struct fake_query {
	char *name;
	uint16_t type;
	unsigned tag;
	int asked_step;		/* answers handed to the engine before it was asked */
	int answered_at;	/* position in answer order, -1 if never answered */
};

struct fake_entry;
struct fake_zone;

/** New empty zone: default answer NXDOMAIN secure, FIFO order, TTL 3600. */
struct fake_zone *fake_zone_new(void);
/** Free the zone, its entries and its query log. NULL-safe. */
void fake_zone_free(struct fake_zone *z);

/** Answer for unconfigured names (initially DNS_NXDOMAIN, DNS_SEC_SECURE). */
void fake_zone_default(struct fake_zone *z, enum dns_status st, enum dns_sec sec);
/** Answer order for fake_run(); seed only matters for FAKE_SHUFFLE. */
void fake_zone_order(struct fake_zone *z, enum fake_order o, unsigned seed);
/** TTL given to entries created from now on (initially 3600). */
void fake_zone_ttl(struct fake_zone *z, uint32_t ttl);

/**
 * The entry for (name, type), created if missing as secure NODATA with the
 * zone's TTL. Adding a record turns a NODATA entry into DATA. The returned
 * pointer stays valid until the zone is freed.
 */
struct fake_entry *fake_entry(struct fake_zone *z, const char *name, uint16_t type);

/* Setters on an entry; each returns it for chaining. */
struct fake_entry *fake_set_status(struct fake_entry *e, enum dns_status st);
struct fake_entry *fake_set_sec(struct fake_entry *e, enum dns_sec sec);
struct fake_entry *fake_set_why(struct fake_entry *e, const char *why);	/* NULL: none */
struct fake_entry *fake_set_canon(struct fake_entry *e, const char *canonname);
struct fake_entry *fake_set_ttl(struct fake_entry *e, uint32_t ttl);
/** Drop all records (status stays as it is). */
struct fake_entry *fake_clear_rrs(struct fake_entry *e);

/**
 * (name, type) answers with status st and security sec; a FAIL/TIMEOUT or
 * BOGUS answer gets a default why ("SERVFAIL", "timeout", "bogus: test").
 */
struct fake_entry *fake_answer_with(struct fake_zone *z, const char *name, uint16_t type,
    enum dns_status st, enum dns_sec sec);

/* Record adders: each makes the entry DATA (keeping its sec) and appends one RR. */
struct fake_entry *fake_add_raw(struct fake_zone *z, const char *name, uint16_t type,
    const void *rdata, size_t len);
/** MX: 2-octet preference then the exchange as an uncompressed wire name ("" = root). */
struct fake_entry *fake_add_mx(struct fake_zone *z, const char *name, unsigned pref,
    const char *exchange);
/** A from dotted quad text (must parse). */
struct fake_entry *fake_add_a(struct fake_zone *z, const char *name, const char *addr);
/** AAAA from RFC 4291 text (must parse). */
struct fake_entry *fake_add_aaaa(struct fake_zone *z, const char *name, const char *addr);
/** TLSA: usage, selector, matching type, then len octets of data (NULL: len octets of 0xab). */
struct fake_entry *fake_add_tlsa(struct fake_zone *z, const char *name, uint8_t usage,
    uint8_t selector, uint8_t mtype, const uint8_t *data, size_t len);
/** CNAME record (the first hop itself, as a CNAME query sees it). */
struct fake_entry *fake_add_cname(struct fake_zone *z, const char *name, const char *target);

/**
 * "name" -> uncompressed wire form in out (cap octets). Returns the length
 * or 0 when it does not fit or a label exceeds 63 (not checked beyond that:
 * tests build hostile names on purpose).
 */
size_t fake_wire_name(const char *name, uint8_t *out, size_t cap);

/** A fresh classified answer for (name, type) from z; the caller owns it. */
struct dns_answer *fake_answer(const struct fake_zone *z, const char *name, uint16_t type);

/**
 * Run the engine on in against z until done. On FAKE_OK *out is the
 * decision (caller unrefs) and *nqueries (if not NULL) the number of
 * queries the engine asked. On a stall or missing result *out is NULL.
 * The zone's query log is reset at the start of each run.
 */
int fake_run(const struct fake_zone *z, const struct policy_input *in,
    struct policy_decision **out, unsigned *nqueries);

/* Query log of the last fake_run(). */
size_t fake_nasked(const struct fake_zone *z);
const struct fake_query *fake_query_at(const struct fake_zone *z, size_t i);
/** How many times (name, type) was asked; type 0 matches any type, name NULL any name. */
unsigned fake_asked(const struct fake_zone *z, const char *name, uint16_t type);
/** Position of the first query of (name, type) in asking order, or -1. */
int fake_first_asked(const struct fake_zone *z, const char *name, uint16_t type);
/** Position of the last query of type in asking order, or -1. */
int fake_last_asked_type(const struct fake_zone *z, uint16_t type);
/** Position in answer order of the first (name, type) query, or -1. */
int fake_answered_at(const struct fake_zone *z, const char *name, uint16_t type);

/** Convenience: the decision's host named name, or NULL. */
const struct policy_host *fake_host(const struct policy_decision *d, const char *name);

#endif
