/*
 * selfcheck.c - the self-check of one own domain (selfcheck.h): the
 * decision, the probe of every address, the served certificate files.
 * The DNS signature and TTL part is selfcheck_dns.c; the files from
 * postconf are selfcheck_files.c; the outputs selfcheck_out.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "mem.h"
#include "probe.h"
#include "rollover.h"
#include "selfcheck.h"
#include "selfcheck_int.h"
#include "tlsa.h"
#include "tlsa_gen.h"

#define DAY 86400

/* ------------------------------------------------------- the decision */

static const char *
host_action(const struct policy_host *h)
{
	if (h->state == POLICY_HOST_UNUSABLE)
		return "fix the host's DNS: its addresses or TLSA records cannot be looked up "
		       "(danepol check -v DOMAIN shows the answers)";
	if (h->addr_sec != DNS_SEC_SECURE)
		return "sign the zone of the MX host name (DNSSEC): without signed addresses "
		       "senders do not look for TLSA records";
	if (h->tlsa_state == POLICY_TLSA_FOUND)
		return "publish a usable record, DANE-EE(3) or DANE-TA(2) with selector 0/1 and "
		       "SHA2-256: danepol tlsa -c CHAIN-FILE HOST";
	return "publish TLSA records for the host: danepol tlsa -c CHAIN-FILE HOST "
	       "(3 1 1 of the key, 2 1 1 of the issuing CA)";
}

static void
check_host(const struct policy_host *h, unsigned port, struct selfcheck_result *r)
{
	const char *code;

	if (h->state == POLICY_HOST_DANE) {
		r->dane_hosts++;
		return;
	}
	if (h->state == POLICY_HOST_UNUSABLE)
		code = h->tlsa_state == POLICY_TLSA_FAILED ? "tlsa-lookup-failed"
							   : "host-lookup-failed";
	else if (h->addr_sec != DNS_SEC_SECURE)
		code = "address-unsigned";
	else if (h->tlsa_state == POLICY_TLSA_FOUND)
		code = "tlsa-unusable";
	else
		code = "tlsa-missing";
	findings_add(&r->f, FINDING_CRITICAL, code, h->name, host_action(h),
	    "%s (_%u._tcp): %s - DANE senders %s", policy_host_state_name(h->state), port,
	    h->why ? h->why : policy_reason_name(h->reason),
	    h->state == POLICY_HOST_UNUSABLE ? "defer mail to it" : "cannot authenticate it");
}

/* The domain-level facts; 0 to go on to the hosts, -1 when there are none. */
static int
check_decision(const struct policy_decision *d, struct selfcheck_result *r)
{
	r->mx_hosts = (unsigned)d->nhosts;
	if (d->verdict == POLICY_REJECT) {
		findings_add(&r->f, FINDING_WARNING, "null-mx", d->domain,
		    "remove the null MX record if the domain is to receive mail",
		    "the domain publishes a null MX (RFC 7505): it receives no mail");
		return -1;
	}
	if (d->mx_queried && (d->mx_status == DNS_FAIL || d->mx_status == DNS_TIMEOUT ||
				 d->mx_sec == DNS_SEC_BOGUS)) {
		findings_add(&r->f, FINDING_CRITICAL, "mx-lookup-failed", d->domain,
		    "fix the domain's DNS or DNSSEC (danepol check -v DOMAIN shows the answer)",
		    "the MX lookup failed: %s - senders defer all mail to the domain",
		    d->why ? d->why : policy_reason_name(d->reason));
		return -1;
	}
	if (d->mx_queried && !d->implicit_mx && d->mx_sec != DNS_SEC_SECURE)
		findings_add(&r->f, FINDING_CRITICAL, "mx-unsigned", d->domain,
		    "sign the domain's zone (DNSSEC) and publish its DS at the parent",
		    "the MX RRset is not DNSSEC-signed: RFC 7672 senders do not use DANE for it");
	if (d->nhosts == 0) {
		findings_add(&r->f, FINDING_CRITICAL, "no-mx-host", d->domain,
		    "publish an MX record naming a host with an address",
		    "no MX host to check: %s", d->why ? d->why : policy_reason_name(d->reason));
		return -1;
	}
	for (size_t i = 0; i < d->nhosts; i++)
		check_host(&d->hosts[i], d->port, r);
	return 0;
}

/* ----------------------------------------------- trust anchor in a chain */

/*
 * Whether a certificate of the chain (SHA2-256 hex of each certificate and
 * of its public key) matches one of h's DANE-TA(2) records of matching type
 * SHA2-256: 1 yes, 0 no, -1 the host has no such record (nothing to say).
 */
int
selfcheck_ta_in_chain(const struct policy_host *h, char *const *cert_hex,
    char *const *spki_hex, size_t n)
{
	int have = 0;

	for (size_t i = 0; i < h->ntlsa; i++) {
		const struct tlsa_rr *rr = &h->tlsa[i];
		char *rec;

		if (rr->usage != 2 || rr->mtype != 1 || rr->selector > 1)
			continue;
		have = 1;
		rec = tlsa_to_string(rr); /* "2 S 1 HEX" */
		for (size_t j = 0; j < n; j++) {
			const char *hex = rr->selector == 0 ? cert_hex[j] : spki_hex[j];

			if (hex && strlen(rec) > 6 && strcasecmp(rec + 6, hex) == 0) {
				free(rec);
				return 1;
			}
		}
		free(rec);
	}
	return have ? 0 : -1;
}

/* ------------------------------------------------------------ expiry */

/* One finding per distinct leaf (by its SHA2-256) about its notAfter. */
void
selfcheck_cert_expiry(const char *subject, const char *what, int64_t not_after,
    const struct selfcheck_opts *o, struct selfcheck_result *r)
{
	int64_t left;
	char when[32];
	struct tm tm;
	time_t t = (time_t)not_after;

	if (not_after <= 0)
		return;
	if (r->cert_expire == 0 || not_after < r->cert_expire)
		r->cert_expire = not_after;
	left = not_after - o->now;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	if (left <= 0)
		findings_add(&r->f, FINDING_CRITICAL, "cert-expired", subject,
		    "renew the certificate (keep the key, or publish the next key's 3 1 1 "
		    "record first: danepol rollover)",
		    "%s expired %s: senders that check PKIX (MTA-STS) fail; DANE-EE "
		    "senders do not check expiry", what, when);
	else if (left <= (int64_t)o->cert_crit_days * DAY || left <= (int64_t)o->cert_warn_days * DAY)
		findings_add(&r->f,
		    left <= (int64_t)o->cert_crit_days * DAY ? FINDING_CRITICAL : FINDING_WARNING,
		    "cert-expiring", subject,
		    "renew the certificate now (keep the key, or publish the next key's 3 1 1 "
		    "record first: danepol rollover)",
		    "%s expires %s (in %.1f days)", what, when, (double)left / DAY);
}

/* ----------------------------------------------------- one probed address */

static void
check_ocsp(const struct probe_addr *a, const char *where, struct selfcheck_result *r)
{
	enum finding_sev sev = FINDING_WARNING;
	const char *code, *action;

	switch (a->ocsp) {
	case PROBE_OCSP_REVOKED:
		sev = FINDING_CRITICAL;
		code = "ocsp-revoked";
		action = "the certificate is revoked: deploy a new one (its record first)";
		break;
	case PROBE_OCSP_RESPONDER_EXPIRES:
		code = "ocsp-signer-expires";
		action = "the OCSP responder certificate expires before the staple's nextUpdate: "
			 "clients reject the staple then; fetch staples more often or ask the CA";
		break;
	case PROBE_OCSP_EXPIRED:
		code = "ocsp-expired";
		action = "the MTA staples a stale OCSP response: check its OCSP refresh";
		break;
	case PROBE_OCSP_INVALID:
	case PROBE_OCSP_UNKNOWN:
		code = "ocsp-invalid";
		action = "check the MTA's OCSP stapling set-up (responder, issuer file)";
		break;
	default: /* not checked, missing (optional), good */
		return;
	}
	findings_add(&r->f, sev, code, where, action, "OCSP staple %s%s%s",
	    probe_ocsp_name(a->ocsp), a->ocsp_detail ? ": " : "",
	    a->ocsp_detail ? a->ocsp_detail : "");
}

/* Whether the chain presented at a holds the DANE-TA of h (see above). */
static int
addr_ta_in_chain(const struct policy_host *h, const struct probe_addr *a)
{
	char *cert[PROBE_CHAIN_MAX], *spki[PROBE_CHAIN_MAX];
	size_t n = a->nchain < PROBE_CHAIN_MAX ? a->nchain : PROBE_CHAIN_MAX;

	for (size_t i = 0; i < n; i++) {
		cert[i] = a->chain[i].cert_sha256;
		spki[i] = a->chain[i].spki_sha256;
	}
	return selfcheck_ta_in_chain(h, cert, spki, n);
}

static void
check_tls(const struct policy_host *h, const struct probe_addr *a, const char *where,
    const struct selfcheck_opts *o, struct selfcheck_result *r)
{
	int ta = addr_ta_in_chain(h, a);

	if (a->authenticated) {
		r->addrs_ok++;
		findings_add(&r->f, FINDING_OK, "dane-ok", where, NULL,
		    "DANE authenticated (%s): matched %s at depth %d",
		    a->tls_version ? a->tls_version : "TLS", a->matched ? a->matched : "?",
		    a->match_depth);
		if (ta == 0)
			findings_add(&r->f, FINDING_WARNING, "ta-not-in-chain", where,
			    "configure the MTA to send the issuing CA after its certificate "
			    "(Postfix: smtpd_tls_chain_files = key, certificate, CA), or drop "
			    "the unused 2 x x record",
			    "the DANE-TA record matches no certificate the server sends: only "
			    "the DANE-EE record works, and it breaks with the next key");
	} else {
		findings_add(&r->f, FINDING_CRITICAL, ta == 0 ? "ta-not-in-chain" : "dane-mismatch",
		    where,
		    ta == 0 ? "configure the MTA to send the issuing CA after its certificate "
			      "(Postfix: smtpd_tls_chain_files = key, certificate, CA)"
			    : "publish the record of the key the server uses (danepol tlsa "
			      "--server HOST), or deploy the certificate whose record is "
			      "published; DANE senders defer mail until then",
		    "DANE authentication failed: %s%s",
		    a->verify_text ? a->verify_text : "no record matched",
		    ta == 0 ? " (the DANE-TA certificate is not in the served chain)" : "");
	}
	if (a->nchain > 0)
		selfcheck_cert_expiry(where, "the served certificate", a->chain[0].not_after, o, r);
	check_ocsp(a, where, r);
}

static void
check_addr(const struct policy_host *h, const struct probe_addr *a,
    const struct selfcheck_opts *o, struct selfcheck_result *r)
{
	char *where = xasprintf("%s[%s]:%u", a->host ? a->host : "?", a->addr ? a->addr : "?",
	    a->port);

	r->addrs++;
	if (a->stage == PROBE_ST_TLS && h->state == POLICY_HOST_DANE)
		check_tls(h, a, where, o, r);
	else if (a->stage == PROBE_ST_TLS)
		selfcheck_cert_expiry(where, "the served certificate",
		    a->nchain ? a->chain[0].not_after : 0, o, r);
	else if (a->stage == PROBE_ST_STARTTLS)
		findings_add(&r->f, FINDING_CRITICAL, "starttls-missing", where,
		    "enable STARTTLS on the MTA (Postfix: smtpd_tls_security_level = may with "
		    "a certificate)",
		    "no STARTTLS: %s", a->detail ? a->detail : "not offered");
	else if (a->stage == PROBE_ST_HANDSHAKE)
		findings_add(&r->f, FINDING_CRITICAL, "tls-handshake-failed", where,
		    "check the MTA's TLS set-up (its log says why)", "%s",
		    a->detail ? a->detail : "TLS handshake failed");
	else
		findings_add(&r->f, FINDING_WARNING, "unreachable", where,
		    "check that the MTA listens on this address and port 25 is open to it; "
		    "senders try the next address, then defer",
		    "%s", a->detail ? a->detail : "not reachable");
	free(where);
}

/* The host of d an address entry of the probe belongs to. */
static const struct policy_host *
addr_host(const struct policy_decision *d, const struct probe_addr *a)
{
	for (size_t i = 0; i < d->nhosts; i++)
		if (a->host && d->hosts[i].name && strcmp(a->host, d->hosts[i].name) == 0)
			return &d->hosts[i];
	return NULL;
}

static void
check_probe(const struct policy_decision *d, const struct selfcheck_opts *o,
    struct selfcheck_result *r)
{
	struct probe_opts po = { o->step_timeout_ms, o->helo, o->port, 0, NULL };
	struct probe_result *p = probe_run(d, &po);
	unsigned reached = 0;

	for (size_t i = 0; i < p->naddrs; i++) {
		const struct policy_host *h = addr_host(d, &p->addrs[i]);

		if (h == NULL || p->addrs[i].addr == NULL)
			continue;
		check_addr(h, &p->addrs[i], o, r);
		reached += p->addrs[i].stage > PROBE_ST_BANNER;
	}
	if (r->addrs > 0 && reached == 0)
		findings_add(&r->f, FINDING_CRITICAL, "no-address-reachable", d->domain,
		    "check that the MTA runs and port 25 is open on the MX addresses",
		    "none of the %u MX addresses answered SMTP: mail to the domain waits in "
		    "the senders' queues", r->addrs);
	probe_result_free(p);
}

/* ------------------------------------------------------------ the domain */

void
selfcheck_domain(struct policy_runtime *rt, const char *domain,
    const struct selfcheck_opts *o, struct selfcheck_result *r)
{
	struct policy_outcome out;

	memset(r, 0, sizeof(*r));
	r->domain = xstrdup(domain);
	r->time = o->now;
	policy_run_decide_uncached(rt, domain, &out);
	if (out.d->reason == POLICY_R_INVALID_DOMAIN || out.d->reason == POLICY_R_INTERNAL_ERROR ||
	    out.d->reason == POLICY_R_NO_SUCH_DOMAIN) {
		findings_add(&r->f, out.d->reason == POLICY_R_NO_SUCH_DOMAIN ? FINDING_CRITICAL
									  : FINDING_UNKNOWN,
		    policy_reason_name(out.d->reason), domain,
		    "name one of our own mail domains (selfcheck_domains)", "%s",
		    out.d->why ? out.d->why : policy_reason_name(out.d->reason));
		goto out;
	}
	if (check_decision(out.d, r) < 0)
		goto out;
	selfcheck_dns(rt, out.d, o, r);
	if (o->store) {
		struct rollover_opts ro = { 0 };

		ro.store = o->store;
		ro.ttls = o->rollover_ttls;
		ro.now = o->now;
		rollover_observe(out.d, r->tlsa_ttl ? r->tlsa_ttl : 3600, &ro, &r->f);
	}
	for (size_t i = 0; i < o->nchains; i++)
		selfcheck_file(out.d, &o->chains[i], o, r);
	if (!o->no_probe)
		check_probe(out.d, o, r);
out:
	policy_decision_unref(out.d);
}

void
selfcheck_result_clear(struct selfcheck_result *r)
{
	if (r == NULL)
		return;
	free(r->domain);
	findings_clear(&r->f);
	memset(r, 0, sizeof(*r));
}

enum finding_sev
selfcheck_worst(const struct selfcheck_result *r, size_t n)
{
	struct findings all = { 0 };
	enum finding_sev w;

	/* the same order as findings_worst(), over every list */
	for (size_t i = 0; i < n; i++)
		findings_add(&all, findings_worst(&r[i].f), "", "", NULL, "%s", "");
	w = findings_worst(&all);
	findings_clear(&all);
	return w;
}
