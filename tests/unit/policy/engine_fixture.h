/*
 * engine_fixture.h - the shared fixture of the decision engine unit tests
 * (test_engine.c, test_engine_hosts.c, test_engine_agg.c, all linked into
 * tests/unit/test_engine), on the in-memory resolver of fake_dns.h.
 *
 * Every suite of those files is declared with
 *   TestSuite(name, .init = fx_setup, .fini = fx_teardown);
 * so each test starts with a fresh empty zone z and no decision d.
 *
 * Ownership: the fixture owns the zone z and the last decision d.
 * fx_run()/fx_run_in() drop the previous decision before storing the new
 * one; fx_teardown() drops the last one and frees the zone. A test that
 * takes d for itself (d = NULL after saving it) must unref it. A test may
 * replace z (fake_zone_free(z); z = fake_zone_new();) but must leave a
 * valid zone behind. The helpers assert with criterion, so they may only
 * be called from a test's own thread. For unit tests only.
 */
#ifndef DANEPOL_ENGINE_FIXTURE_H
#define DANEPOL_ENGINE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "fake_dns.h"
#include "policy.h"

/* The destination domain and its MX hosts. */
#define D	"example.com"
#define MX1	"mx1.example.com"
#define MX2	"mx2.example.com"
#define MX3	"mx3.example.com"
#define MX4	"mx4.example.com"
/* The target of the secure alias built by fx_secure_alias(). */
#define PROV	"mx.provider.example"

/* The zone of the running test (owned by the fixture; set by fx_setup()). */
extern struct fake_zone *z;
/* The last decision (owned by the fixture; NULL before the first run). */
extern struct policy_decision *d;

/** Suite .init: a fresh empty zone z, no decision d. */
void fx_setup(void);
/** Suite .fini: unref d, free z. */
void fx_teardown(void);

/**
 * Engine input for domain at level lvl with the test defaults: default
 * source, port 25, both address families, insecure-MX DANE on, 10 hosts.
 * domain is borrowed, not copied: it must outlive the run.
 */
struct policy_input fx_input(const char *domain, enum tls_level lvl);
/**
 * Run the engine on z with in; the decision lands in d (the previous one
 * dropped). Asserts the run finished, counted the queries it asked, holds
 * one reference, has a why text without "(null)" and names in->domain.
 */
void fx_run_in(const struct policy_input *in);
/** fx_run_in() on fx_input(domain, lvl). */
void fx_run(const char *domain, enum tls_level lvl);
/** Assert d has verdict v, reason r and level lvl, and that r maps to v. */
void fx_expect(enum policy_verdict v, enum tls_level lvl, enum policy_reason r);
/**
 * Assert d has host name in state st with reason r and a why text without
 * "(null)"; returns the host (owned by d).
 */
const struct policy_host *fx_host_is(const char *name, enum policy_host_state st,
    enum policy_reason r);
/** Write the TLSA owner "_port._tcp.host" into buf (capacity cap, truncated). */
void fx_tlsa_name(char *buf, size_t cap, unsigned port, const char *host);
/**
 * Add a TLSA record u s m with len bytes of association data at
 * _port._tcp.host; returns the entry (owned by z).
 */
struct fake_entry *fx_tlsa_at(const char *host, unsigned port, uint8_t u, uint8_t s,
    uint8_t m, size_t len);
/** Make the TLSA answer at _25._tcp.host status st, security sec (entry owned by z). */
struct fake_entry *fx_tlsa_answer(const char *host, enum dns_status st, enum dns_sec sec);
/* One usable TLSA 3 1 1 (SHA2-256) record for host h on port 25. */
#define FX_TLSA311(h)	fx_tlsa_at((h), 25, 3, 1, 1, 32)
/** How many times the last run asked TLSA at _port._tcp.host. */
unsigned fx_tlsa_asked(const char *host, unsigned port);
/** A host with one A and one AAAA record, both with security sec. */
void fx_host_ok(const char *name, enum dns_sec sec);
/** Add MX pref exchange to D; returns the entry (owned by z). */
struct fake_entry *fx_mx(unsigned pref, const char *exchange);
/** The basic signed destination: MX 10 MX1, secure addresses, TLSA 3 1 1. */
void fx_zone_dane1(void);
/** Assert the last run asked no A, AAAA or TLSA lookup. */
void fx_no_addr_lookups(void);
/**
 * MX 10 MX1, an alias MX1 -> target.insecure.example with insecure
 * addresses, a first CNAME with security cname_sec, TLSA 3 1 1 at both names.
 */
void fx_insecure_alias(enum dns_sec cname_sec);
/** MX 10 MX1, a secure alias MX1 -> PROV with secure addresses, no TLSA. */
void fx_secure_alias(void);
/** MX 10 MX1 and MX 20 MX2, both with secure addresses, no TLSA. */
void fx_two_hosts(void);

#endif
