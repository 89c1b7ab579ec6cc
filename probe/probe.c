/*
 * probe.c - probe_run(): probe every usable MX host of a decision, one
 * address after the other, and classify each into an RFC 8460 result
 * type (probe.h has the contract; probe_smtp.c and probe_tls.c the
 * protocol parts).
 *
 * Classification (probe_classify(); doc/probe.schema.json, danepol(1)):
 *   no connection / no 220 banner         transient: not a TLSRPT failure
 *   EHLO refused, STARTTLS not offered or
 *   refused                               starttls-not-supported
 *   TLS handshake failed                  validation-failure (OpenSSL's reason)
 *   TLS, host state dane, DANE matched    success (record and depth reported)
 *   TLS, dane, an X509 verification error the result type of
 *                                         tlsrpt_class_x509() (the one table
 *                                         shared with the Postfix and Exim
 *                                         sources, e.g. CERT_HAS_EXPIRED
 *                                         certificate-expired, DANE_NO_MATCH
 *                                         certificate-not-trusted)
 *   TLS, host state tls (secure TLSA, none usable)
 *                                         tlsa-invalid (TLS without authentication,
 *                                         reason all-TLSA-records-unusable)
 *   TLS, host opportunistic               success (no policy)
 * Hosts the decision made unusable are listed without a connection:
 * TLSA or address lookup bogus -> dnssec-invalid, local dane-only and no
 * DANE -> dane-required, dane-only and only unusable TLSA -> tlsa-invalid,
 * other reasons (lookup failures, no address) transient.
 * The failure-reason-code (detail) is the X509_V_ERR_* name of the
 * verification error, or the protocol step and the server's reply.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "mem.h"
#include "policy_sts.h"
#include "probe.h"
#include "probe_int.h"
#include "sts_policy.h"
#include "tlsa.h"
#include "tlsrpt_class.h"

/* ------------------------------------------------------------ names */

const char *
probe_stage_name(enum probe_stage s)
{
	static const char *const names[] = {
		[PROBE_ST_NONE] = "none",
		[PROBE_ST_CONNECT] = "connect",
		[PROBE_ST_BANNER] = "banner",
		[PROBE_ST_EHLO] = "ehlo",
		[PROBE_ST_STARTTLS] = "starttls",
		[PROBE_ST_HANDSHAKE] = "handshake",
		[PROBE_ST_TLS] = "tls",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

const char *
probe_ocsp_name(enum probe_ocsp s)
{
	static const char *const names[] = {
		[PROBE_OCSP_NOT_CHECKED] = "not-checked",
		[PROBE_OCSP_MISSING] = "missing",
		[PROBE_OCSP_GOOD] = "good",
		[PROBE_OCSP_REVOKED] = "revoked",
		[PROBE_OCSP_UNKNOWN] = "unknown",
		[PROBE_OCSP_INVALID] = "invalid",
		[PROBE_OCSP_EXPIRED] = "expired",
		[PROBE_OCSP_RESPONDER_EXPIRES] = "responder-expires",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

/* ------------------------------------------------------------ classification */

/** The X509_V_ERR_* name of err (static), or NULL when not in the table. */
const char *
probe_x509_name(long err)
{
	return tlsrpt_class_x509_name(err);
}

/* Result type of a host the decision made unusable, or NULL (transient). */
static const char *
unusable_type(enum policy_reason r)
{
	switch (r) {
	case POLICY_R_TLSA_LOOKUP_FAILED:
	case POLICY_R_ADDRESS_BOGUS:
	case POLICY_R_MX_BOGUS:
		return "dnssec-invalid";
	case POLICY_R_DANE_REQUIRED:
		return "dane-required";
	case POLICY_R_TLSA_UNUSABLE:
		return "tlsa-invalid";
	default:
		return NULL;
	}
}

void
probe_classify(struct probe_addr *a)
{
	a->success = 0;
	a->result_type = NULL;
	a->transient = 0;
	switch (a->stage) {
	case PROBE_ST_NONE:
		a->result_type = unusable_type(a->reason);
		a->transient = a->result_type == NULL;
		break;
	case PROBE_ST_CONNECT:
	case PROBE_ST_BANNER:
		a->transient = 1;
		break;
	case PROBE_ST_EHLO:
	case PROBE_ST_STARTTLS:
		a->result_type = "starttls-not-supported";
		break;
	case PROBE_ST_HANDSHAKE:
		a->result_type = "validation-failure";
		break;
	case PROBE_ST_TLS:
		if (a->sts) {
			if (a->authenticated)
				a->success = 1;
			else
				a->result_type = tlsrpt_class_x509(a->verify_error);
		} else if (a->state == POLICY_HOST_DANE && a->nadded > 0) {
			if (a->authenticated)
				a->success = 1;
			else
				a->result_type = tlsrpt_class_x509(a->verify_error);
		} else if (a->state == POLICY_HOST_DANE || a->state == POLICY_HOST_TLS) {
			a->result_type = "tlsa-invalid";
		} else {
			a->success = 1;
		}
		break;
	}
}

/* ------------------------------------------------------------ probing */

/* The failure-reason-code of a classified TLS-stage entry. */
static void
tls_detail(struct probe_addr *a)
{
	const char *name;

	if (a->stage != PROBE_ST_TLS || a->success || a->detail)
		return;
	if ((a->state == POLICY_HOST_DANE && a->nadded > 0) || a->sts) {
		name = probe_x509_name(a->verify_error);
		if (name)
			a->detail = xasprintf("%s: %s", name, a->verify_text ? a->verify_text : "");
		else
			a->detail = xasprintf("X509_V_ERR %ld: %s", a->verify_error,
			    a->verify_text ? a->verify_text : "");
	} else {
		a->detail = xstrdup("all-TLSA-records-unusable: TLS without authentication");
	}
}

static void
probe_one(const struct policy_decision *d, const struct policy_host *h, const struct probe_opts *o,
    struct probe_addr *a)
{
	long long t0 = clock_now_ms();
	char *why = NULL;
	int fd;

	if ((fd = probe_smtp_connect(a->addr, a->port, o->step_timeout_ms, &why)) < 0) {
		a->stage = PROBE_ST_CONNECT;
		a->detail = why;
		goto out;
	}
	a->stage = PROBE_ST_BANNER;
	if (probe_smtp_starttls(fd, o, a) == 0)
		probe_tls_session(fd, d, h, o, a);
	close(fd);
out:
	probe_classify(a);
	tls_detail(a);
	a->elapsed_ms = (unsigned)(clock_now_ms() - t0);
	msg_debug("probe %s[%s]:%u: %s %s", a->host ? a->host : "?", a->addr, a->port,
	    probe_stage_name(a->stage),
	    a->success		 ? "success"
		: a->result_type ? a->result_type
				 : "transient");
}

/* A new entry for host h (NULL: the destination itself). */
static struct probe_addr *
add_entry(struct probe_result *r, const struct policy_host *h, const char *addr, unsigned port)
{
	struct probe_addr *a;

	r->addrs = xreallocarray(r->addrs, r->naddrs + 1, sizeof(*r->addrs));
	a = &r->addrs[r->naddrs++];
	memset(a, 0, sizeof(*a));
	a->addr = xstrdup_null(addr);
	a->port = port;
	a->match_depth = -1;
	a->verify_error = -1;
	a->reason = r->reason;
	a->state = POLICY_HOST_UNUSABLE;
	if (h == NULL)
		return a;
	a->host = xstrdup_null(h->name);
	a->state = h->state;
	a->reason = h->reason;
	a->tlsa_base = xstrdup_null(h->tlsa_base);
	if (h->tlsa_state == POLICY_TLSA_FOUND && h->ntlsa > 0) {
		a->tlsa = xcalloc(h->ntlsa, sizeof(char *));
		for (size_t i = 0; i < h->ntlsa; i++)
			if ((a->tlsa[a->ntlsa] = tlsa_to_string(&h->tlsa[i])) != NULL)
				a->ntlsa++;
	}
	return a;
}

/* Count the DANE hosts and those whose every probed address failed authentication. */
static void
count_dane(const struct policy_decision *d, struct probe_result *r)
{
	for (size_t i = 0; i < d->nhosts; i++) {
		const struct policy_host *h = &d->hosts[i];
		int probed = 0, failed = 0;

		if (h->state != POLICY_HOST_DANE)
			continue;
		r->ndane++;
		for (size_t j = 0; j < r->naddrs; j++) {
			const struct probe_addr *a = &r->addrs[j];

			if (a->host == NULL || h->name == NULL || strcmp(a->host, h->name) != 0 ||
			    a->stage == PROBE_ST_NONE)
				continue;
			probed++;
			failed += !a->success && !a->transient;
		}
		if (probed > 0 && failed == probed)
			r->ndane_failed++;
	}
}

struct probe_result *
probe_run(const struct policy_decision *d, const struct probe_opts *o)
{
	struct probe_result *r = xcalloc(1, sizeof(*r));
	unsigned port = o->port ? o->port : (d->port ? d->port : 25);

	r->domain = xstrdup(d->domain);
	r->verdict = d->verdict;
	r->reason = d->reason;
	r->level = d->level;
	r->no_mx = d->no_mx;
	r->port = d->port;
	r->time = (int64_t)time(NULL);
	if (d->sts != NULL && d->sts->have && d->sts->mode != STS_MODE_NONE)
		r->nsts_lines = policy_sts_lines(d->sts, &r->sts_lines);
	if (d->nhosts == 0 && unusable_type(d->reason) != NULL)
		probe_classify(add_entry(r, NULL, NULL, port));
	for (size_t i = 0; i < d->nhosts; i++) {
		const struct policy_host *h = &d->hosts[i];
		size_t n = h->naddrs;

		if (h->state == POLICY_HOST_UNUSABLE || n == 0) {
			probe_classify(add_entry(r, h, NULL, port));
			continue;
		}
		if (o->max_addrs && n > o->max_addrs)
			n = o->max_addrs;
		for (size_t j = 0; j < n; j++) {
			add_entry(r, h, h->addrs[j], port);
			probe_one(d, h, o, &r->addrs[r->naddrs - 1]);
		}
	}
	count_dane(d, r);
	return r;
}

int
probe_all_dane_failed(const struct probe_result *r)
{
	return r != NULL && r->ndane > 0 && r->ndane_failed == r->ndane;
}

static void
addr_free(struct probe_addr *a)
{
	free(a->host);
	free(a->addr);
	free(a->tlsa_base);
	for (size_t i = 0; i < a->ntlsa; i++)
		free(a->tlsa[i]);
	free(a->tlsa);
	free(a->banner);
	free(a->helo_name);
	free(a->tls_version);
	free(a->cipher);
	free(a->peer_subject);
	for (size_t i = 0; i < a->nchain; i++) {
		free(a->chain[i].subject);
		free(a->chain[i].cert_sha256);
		free(a->chain[i].spki_sha256);
		free(a->chain[i].der);
	}
	free(a->chain);
	free(a->matched);
	free(a->verify_text);
	free(a->ocsp_detail);
	free(a->detail);
}

void
probe_result_free(struct probe_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->naddrs; i++)
		addr_free(&r->addrs[i]);
	free(r->addrs);
	free(r->domain);
	for (size_t i = 0; i < r->nsts_lines; i++)
		free(r->sts_lines[i]);
	free(r->sts_lines);
	free(r);
}

/* ------------------------------------------------------------ outcomes, JSON */

int
probe_outcome(const struct probe_result *r, size_t i, struct tls_outcome *o)
{
	const struct probe_addr *a = i < r->naddrs ? &r->addrs[i] : NULL;

	memset(o, 0, sizeof(*o));
	if (a == NULL || a->transient || (!a->success && a->result_type == NULL))
		return -1;
	o->time = r->time;
	o->source = OUTCOME_SRC_PROBE;
	o->policy_domain = xstrdup(r->domain);
	o->policy_type = a->ntlsa > 0 ||
			    (a->result_type && strcmp(a->result_type, "dane-required") != 0 &&
				a->state != POLICY_HOST_OPPORTUNISTIC)
			   ? OUTCOME_POLICY_TLSA
			   : OUTCOME_POLICY_NONE;
	if (a->ntlsa > 0) {
		o->policy_strings = xcalloc(a->ntlsa, sizeof(char *));
		for (size_t k = 0; k < a->ntlsa; k++)
			o->policy_strings[k] = xstrdup(a->tlsa[k]);
		o->npolicy_strings = a->ntlsa;
	} else if (r->sts_lines != NULL && a->state != POLICY_HOST_DANE) {
		o->policy_type = OUTCOME_POLICY_STS;
		o->policy_strings = xcalloc(r->nsts_lines, sizeof(char *));
		for (size_t k = 0; k < r->nsts_lines; k++)
			o->policy_strings[k] = xstrdup(r->sts_lines[k]);
		o->npolicy_strings = r->nsts_lines;
	}
	o->mx_host = xstrdup_null(a->host);
	o->receiving_ip = xstrdup_null(a->addr);
	o->mx_helo = xstrdup_null(a->helo_name);
	o->success = a->success;
	o->result_type = a->success ? NULL : a->result_type;
	o->detail = a->success ? NULL : xstrdup_null(a->detail);
	return 0;
}

static json_t *
jstr(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;

	return j ? j : json_null();
}

static json_t *
addr_json(const struct probe_addr *a)
{
	json_t *tlsa = json_array(), *j;

	for (size_t i = 0; i < a->ntlsa; i++)
		json_array_append_new(tlsa, jstr(a->tlsa[i]));
	j = json_pack("{s:o, s:o, s:I, s:s, s:o, s:o, s:I, s:s, s:o, s:o, s:b}", "host",
	    jstr(a->host), "address", jstr(a->addr), "port", (json_int_t)a->port, "state",
	    policy_host_state_name(a->state), "tlsa_base", jstr(a->tlsa_base), "tlsa", tlsa,
	    "tlsa_added", (json_int_t)a->nadded, "stage", probe_stage_name(a->stage), "banner",
	    jstr(a->banner), "helo", jstr(a->helo_name), "starttls", a->starttls_offered);
	if (j == NULL)
		return NULL;
	json_object_set_new(j, "tls_version", jstr(a->tls_version));
	json_object_set_new(j, "cipher", jstr(a->cipher));
	json_object_set_new(j, "peer_subject", jstr(a->peer_subject));
	if (a->nchain > 0) {
		json_t *chain = json_array();

		for (size_t i = 0; i < a->nchain; i++) {
			char na[32];
			struct tm tm;
			time_t t = (time_t)a->chain[i].not_after;

			gmtime_r(&t, &tm);
			strftime(na, sizeof(na), "%Y-%m-%dT%H:%M:%SZ", &tm);
			json_array_append_new(chain,
			    json_pack("{s:o, s:o, s:o, s:o}", "subject", jstr(a->chain[i].subject),
				"cert_sha256", jstr(a->chain[i].cert_sha256), "spki_sha256",
				jstr(a->chain[i].spki_sha256), "not_after",
				a->chain[i].not_after ? json_string(na) : json_null()));
		}
		json_object_set_new(j, "chain", chain);
	}
	json_object_set_new(j, "authenticated", json_boolean(a->authenticated));
	json_object_set_new(j, "sts", json_boolean(a->sts));
	json_object_set_new(j, "match_depth", json_integer(a->match_depth));
	json_object_set_new(j, "matched", jstr(a->matched));
	json_object_set_new(j, "verify_error", json_integer(a->verify_error));
	json_object_set_new(j, "verify_text", jstr(a->verify_text));
	json_object_set_new(j, "ocsp",
	    json_pack("{s:s, s:o}", "status", probe_ocsp_name(a->ocsp), "detail",
		jstr(a->ocsp_detail)));
	json_object_set_new(j, "success", json_boolean(a->success));
	json_object_set_new(j, "result_type", jstr(a->result_type));
	json_object_set_new(j, "transient", json_boolean(a->transient));
	json_object_set_new(j, "detail", jstr(a->detail));
	json_object_set_new(j, "elapsed_ms", json_integer(a->elapsed_ms));
	return j;
}

json_t *
probe_result_json(const struct probe_result *r)
{
	json_t *list = json_array(), *j;
	char ts[32];
	struct tm tm;
	time_t t = (time_t)r->time;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (size_t i = 0; i < r->naddrs; i++) {
		json_t *a = addr_json(&r->addrs[i]);

		if (a == NULL) {
			json_decref(list);
			return NULL;
		}
		json_array_append_new(list, a);
	}
	j = json_pack("{s:o, s:s, s:s, s:s, s:I, s:I, s:b, s:o}", "domain", jstr(r->domain), "time",
	    ts, "verdict", policy_verdict_name(r->verdict), "reason", policy_reason_name(r->reason),
	    "dane_hosts", (json_int_t)r->ndane, "dane_failed", (json_int_t)r->ndane_failed,
	    "all_dane_failed", probe_all_dane_failed(r), "results", list);
	return j;
}

void
probe_addr_clear(struct probe_addr *a)
{
	if (a == NULL)
		return;
	addr_free(a);
	memset(a, 0, sizeof(*a));
}
