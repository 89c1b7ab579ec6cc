/*
 * smime.c - the S/MIME signer check of one message (contract in smime.h):
 * the MIME walk (smime_mime.c), the signature (smime_verify.c), the SMIMEA
 * lookup here, the chain against its records (smime_verify.c), the OCSP
 * answer (smime_ocsp.c), and the one result with its reason.
 *
 * SMIMEA lookup, exact name first: the query for the exact owner name is
 * answered by the domain-wide "*._smimecert" RRset by DNS itself when the
 * exact name does not exist (a wildcard expansion, validated by unbound).
 * When the exact name has records of its own and none matches (or none is
 * usable), the wildcard RRset is asked for by name and judged too: a
 * per-user record never hides the domain's anchor. NXDOMAIN or NODATA on
 * the exact name proves there is no wildcard either.
 *
 * Which result (doc/smime.md has the table):
 *   none       no S/MIME signature in the message
 *   pass       the signature verifies, the chain matches a DNSSEC-validated
 *              usage 2/3 SMIMEA record for the From: address, and the
 *              OCSP responder says good (or the certificate names none)
 *   fail       the signature does not verify; the signer is not under the
 *              records; its certificate is for another address; revoked;
 *              its OCSP responder does not know it
 *   neutral    no DNSSEC for the SMIMEA records, none there, none usable;
 *              a message over max_message (not checked)
 *   temperror  the SMIMEA lookup failed (SERVFAIL, bogus, timeout); the
 *              OCSP responder down, slow or answering unverifiably; the
 *              check's deadline passed
 *   permerror  broken MIME or CMS, over a structural limit, no single
 *              From: address
 *
 * Ownership and threads: see smime.h; nothing static is written.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "conf.h"
#include "dns.h"
#include "mem.h"
#include "smime.h"
#include "smime_mime.h"
#include "smime_ocsp.h"
#include "smime_verify.h"
#include "tlsa.h"

#define SMIME_MAX_RR 64 /* SMIMEA records judged of one RRset */

/* One check in progress. */
struct sc {
	struct dns_resolver *res;
	struct smime_ocsp_cache *ocsp;
	const struct smime_limits *lim;
	struct smime_report *rep;
	int64_t start, deadline;
	struct smime_signer signer;
	X509 *issuer; /* from the verified chain, or NULL */
};

void
smime_limits_default(struct smime_limits *lim)
{
	lim->max_message = 10 * 1024 * 1024;
	lim->max_depth = 8;
	lim->max_parts = 100;
	lim->max_certs = 20;
	lim->timeout_ms = 10000;
	lim->ocsp_timeout_ms = 5000;
	lim->ocsp_internal = 0;
}

void
smime_limits_from_conf(struct smime_limits *lim, const struct conf *c)
{
	lim->max_message = c->smime_max_message;
	lim->max_depth = c->smime_max_depth;
	lim->max_parts = c->smime_max_parts;
	lim->max_certs = c->smime_max_certs;
	lim->timeout_ms = c->smime_timeout_ms;
	lim->ocsp_timeout_ms = c->smime_ocsp_timeout_ms;
	lim->ocsp_internal = c->smime_ocsp_internal;
}

/* Set the result and its reason (printf). Returns the result. */
static enum smime_result sc_set(struct sc *c, enum smime_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum smime_result
sc_set(struct sc *c, enum smime_result r, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(c->rep->reason);
	c->rep->reason = s ? s : xstrdup("(out of memory)");
	c->rep->result = r;
	return r;
}

/* ------------------------------------------------------------ SMIMEA */

/*
 * Look up the SMIMEA RRset at owner before the deadline. Returns the
 * answer (caller frees) or NULL with the result set (temperror, or neutral
 * for an insecure answer or no records).
 */
static struct dns_answer *
sc_lookup(struct sc *c, const char *owner)
{
	struct dns_batch *b = dns_batch_new(c->res);
	struct dns_answer *a = NULL;
	unsigned tag;

	dns_batch_add(b, owner, DNS_T_SMIMEA, 0);
	if (dns_batch_next(b, c->deadline, &tag, &a) != 1)
		a = dns_answer_new_fail(owner, DNS_T_SMIMEA, DNS_FAIL, "no answer");
	dns_batch_free(b);
	free(c->rep->dnssec);
	c->rep->dnssec = xstrdup(dns_sec_name(a->sec));
	if (a->status == DNS_TIMEOUT) {
		sc_set(c, SMIME_TEMPERROR, "SMIMEA lookup of %s: no answer within smime_timeout",
		    owner);
	} else if (a->sec == DNS_SEC_BOGUS || a->status == DNS_FAIL) {
		sc_set(c, SMIME_TEMPERROR, "SMIMEA lookup of %s failed: %s%s%s", owner,
		    a->sec == DNS_SEC_BOGUS ? "DNSSEC bogus" : dns_status_name(a->status),
		    a->why ? ": " : "", a->why ? a->why : "");
	} else if (a->sec != DNS_SEC_SECURE) {
		sc_set(c, SMIME_NEUTRAL,
		    "no DNSSEC: the SMIMEA answer for %s is insecure, the signer cannot be "
		    "authenticated",
		    owner);
	} else if (a->status != DNS_DATA) {
		sc_set(c, SMIME_NEUTRAL, "no SMIMEA record for %s (%s, DNSSEC-validated)", owner,
		    dns_status_name(a->status));
	} else {
		return a;
	}
	dns_answer_free(a);
	return NULL;
}

/* Parse the RDATA of a into rr (at most max); their count. */
static size_t
sc_records(const struct dns_answer *a, struct tlsa_rr *rr, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < a->count && n < max; i++)
		if (tlsa_parse(a->rr[i].data, a->rr[i].len, &rr[n]) == 0)
			n++;
	return n;
}

/*
 * Judge the signer against the records at owner. Returns the DANE result;
 * -1 when the lookup itself decided the result (temperror or neutral).
 */
static int
sc_judge(struct sc *c, const char *owner)
{
	struct tlsa_rr rr[SMIME_MAX_RR];
	struct dns_answer *a = sc_lookup(c, owner);
	enum smime_dane d;
	char *why = NULL;
	int matched = -1;
	size_t n;

	free(c->rep->smimea);
	c->rep->smimea = xstrdup(owner);
	if (a == NULL)
		return -1;
	n = sc_records(a, rr, SMIME_MAX_RR);
	dns_answer_free(a);
	X509_free(c->issuer);
	c->issuer = NULL;
	d = smime_verify_dane(&c->signer, rr, n, c->rep->from, &matched, &c->issuer, &why);
	if (d == SMIME_DANE_MATCH) {
		free(c->rep->record);
		c->rep->record = matched >= 0 && (size_t)matched < n ? tlsa_to_string(&rr[matched])
								      : NULL;
	} else if (d == SMIME_DANE_NONE_USABLE) {
		sc_set(c, SMIME_NEUTRAL, "no usable SMIMEA record at %s (usage 2 or 3): %s", owner,
		    why ? why : "none");
	} else if (d == SMIME_DANE_ADDR_MISMATCH) {
		sc_set(c, SMIME_FAIL, "the signer certificate is not for the From: address %s: %s",
		    c->rep->from, why ? why : "address mismatch");
	} else {
		sc_set(c, SMIME_FAIL, "the signer is not under the SMIMEA records at %s: %s", owner,
		    why ? why : "no match");
	}
	free(why);
	for (size_t i = 0; i < n; i++)
		tlsa_rr_clear(&rr[i]);
	return (int)d;
}

/* The chain against SMIMEA: exact name, then the wildcard. 0 matched, -1 result set. */
static int
sc_dane(struct sc *c)
{
	char *why = NULL, *owner = smime_verify_owner(c->rep->from, 0, &why), *wild;
	int d;

	if (owner == NULL) {
		sc_set(c, SMIME_PERMERROR, "From: address %s: %s", c->rep->from,
		    why ? why : "invalid");
		free(why);
		return -1;
	}
	d = sc_judge(c, owner);
	free(owner);
	if (d == SMIME_DANE_MATCH)
		return 0;
	if (d != SMIME_DANE_NOMATCH && d != SMIME_DANE_NONE_USABLE)
		return -1; /* lookup result, or another address: final */
	if ((wild = smime_verify_owner(c->rep->from, 1, &why)) == NULL) {
		free(why);
		return -1;
	}
	/* the exact name had records of its own: the domain's anchor may still vouch */
	{
		char *exact_reason = xstrdup(c->rep->reason ? c->rep->reason : "");
		enum smime_result exact = c->rep->result;

		d = sc_judge(c, wild);
		if (d == -1 && c->rep->result == SMIME_NEUTRAL) /* no wildcard: the exact verdict */
			sc_set(c, exact, "%s", exact_reason);
		free(exact_reason);
	}
	free(wild);
	return d == SMIME_DANE_MATCH ? 0 : -1;
}

/* ------------------------------------------------------------ OCSP */

/* The issuer of the signer for OCSP: the verified chain's, else one in the CMS. */
static X509 *
sc_issuer(struct sc *c)
{
	if (c->issuer != NULL)
		return c->issuer;
	for (int i = 0; c->signer.certs && i < sk_X509_num(c->signer.certs); i++) {
		X509 *x = sk_X509_value(c->signer.certs, i);

		if (X509_cmp(x, c->signer.cert) != 0 &&
		    X509_check_issued(x, c->signer.cert) == X509_V_OK) {
			X509_up_ref(x);
			c->issuer = x;
			return x;
		}
	}
	return NULL;
}

/*
 * The record for a reason: "U S M" and the first 16 hex digits (the audit
 * line has it whole), so that the header's reason keeps its end.
 */
static void
sc_record_short(const struct sc *c, char *out, size_t size)
{
	const char *r = c->rep->record;

	if (r == NULL)
		snprintf(out, size, "a record");
	else if (strlen(r) > 6 + 16)
		snprintf(out, size, "%.22s...", r);
	else
		snprintf(out, size, "%s", r);
}

/* The last step: revocation; sets the final result. */
static void
sc_ocsp(struct sc *c)
{
	char rec[40];
	X509 *issuer = sc_issuer(c);
	enum smime_ocsp st;

	sc_record_short(c, rec, sizeof(rec));
	int cached = 0;
	char *why = NULL;

	if (issuer == NULL) {
		c->rep->ocsp = xstrdup("not-checked");
		sc_set(c, SMIME_PASS,
		    "signer %s, revocation not checked (no issuer certificate); SMIMEA %s at %s",
		    c->rep->from, rec, c->rep->smimea);
		return;
	}
	st = smime_ocsp_check(c->ocsp, c->res, c->signer.cert, issuer, c->deadline,
	    c->lim->ocsp_timeout_ms, c->lim->ocsp_internal, &cached, &why);
	c->rep->ocsp = cached ? xasprintf("%s (cached)", smime_ocsp_name(st))
			      : xstrdup(smime_ocsp_name(st));
	switch (st) {
	case SMIME_OCSP_GOOD:
	case SMIME_OCSP_NO_RESPONDER:
		sc_set(c, SMIME_PASS, "signer %s, OCSP %s; SMIMEA %s at %s", c->rep->from,
		    st == SMIME_OCSP_GOOD ? "good" : "not checked (the certificate names no responder)",
		    rec, c->rep->smimea);
		break;
	case SMIME_OCSP_REVOKED:
		sc_set(c, SMIME_FAIL, "signer certificate revoked: %s", why ? why : "revoked");
		break;
	case SMIME_OCSP_UNKNOWN:
		sc_set(c, SMIME_FAIL, "the OCSP responder does not know the signer certificate: %s",
		    why ? why : "unknown");
		break;
	default:
		sc_set(c, SMIME_TEMPERROR, "OCSP: %s", why ? why : "no usable answer");
		break;
	}
	free(why);
}

/* ------------------------------------------------------------ the check */

/* The signature of the entity m. 0 verified, -1 result set. */
static int
sc_signature(struct sc *c, const struct smime_mime *m)
{
	char *why = NULL;
	enum smime_sig s = smime_verify_cms(m->cms, m->cms_len,
	    m->kind == SMIME_MIME_DETACHED ? m->content : NULL, m->content_len, c->lim, &c->signer,
	    &why);

	c->rep->signer = xstrdup_null(c->signer.addr);
	c->rep->serial = xstrdup_null(c->signer.serial);
	c->rep->issuer = xstrdup_null(c->signer.issuer);
	if (s == SMIME_SIG_BAD) /* why says "signature does not verify: ..." */
		sc_set(c, SMIME_FAIL, "%s", why ? why : "the signature does not verify");
	else if (s != SMIME_SIG_OK)
		sc_set(c, SMIME_PERMERROR, "unusable signature: %s", why ? why : "malformed");
	free(why);
	return s == SMIME_SIG_OK ? 0 : -1;
}

/* Everything after the size check. */
static void
sc_run(struct sc *c, const char *msg, size_t len)
{
	struct smime_mime m;
	char *why = NULL;

	if (smime_mime_parse(msg, len, c->lim, &m, &why) < 0) {
		sc_set(c, SMIME_PERMERROR, "%s", why ? why : "unparsable MIME");
		free(why);
		return;
	}
	c->rep->from = xstrdup_null(m.from);
	if (m.kind == SMIME_MIME_NONE) {
		sc_set(c, SMIME_NONE, "no S/MIME signature");
		goto out;
	}
	c->rep->part = xstrdup(m.part);
	c->rep->kind = xstrdup(m.kind == SMIME_MIME_DETACHED ? "detached" : "opaque");
	if (sc_signature(c, &m) < 0)
		goto out;
	if (m.from == NULL) {
		sc_set(c, SMIME_PERMERROR, "no single From: address to check the signer against: %s",
		    m.from_why ? m.from_why : "none");
		goto out;
	}
	if (sc_dane(c) < 0)
		goto out;
	if (clock_now_ms() >= c->deadline) {
		sc_set(c, SMIME_TEMPERROR, "smime_timeout (%u ms) passed before the OCSP check",
		    c->lim->timeout_ms);
		goto out;
	}
	sc_ocsp(c);
out:
	smime_mime_clear(&m);
}

void
smime_check(struct dns_resolver *res, struct smime_ocsp_cache *ocsp, const char *msg,
    size_t len, const struct smime_limits *lim, struct smime_report *rep)
{
	struct sc c;

	memset(rep, 0, sizeof(*rep));
	memset(&c, 0, sizeof(c));
	c.res = res;
	c.ocsp = ocsp;
	c.lim = lim;
	c.rep = rep;
	c.start = clock_now_ms();
	c.deadline = c.start + lim->timeout_ms;
	if (len > lim->max_message)
		sc_set(&c, SMIME_NEUTRAL,
		    "not checked: message of %zu bytes over smime_max_message (%zu)", len,
		    lim->max_message);
	else
		sc_run(&c, msg, len);
	smime_signer_clear(&c.signer);
	X509_free(c.issuer);
	rep->elapsed_ms = (unsigned)(clock_now_ms() - c.start);
}

void
smime_report_clear(struct smime_report *rep)
{
	if (rep == NULL)
		return;
	free(rep->reason);
	free(rep->part);
	free(rep->kind);
	free(rep->from);
	free(rep->signer);
	free(rep->serial);
	free(rep->issuer);
	free(rep->smimea);
	free(rep->record);
	free(rep->dnssec);
	free(rep->ocsp);
	memset(rep, 0, sizeof(*rep));
}

const char *
smime_result_name(enum smime_result r)
{
	switch (r) {
	case SMIME_NONE:
		return "none";
	case SMIME_PASS:
		return "pass";
	case SMIME_FAIL:
		return "fail";
	case SMIME_NEUTRAL:
		return "neutral";
	case SMIME_TEMPERROR:
		return "temperror";
	default:
		return "permerror";
	}
}
