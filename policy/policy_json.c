/*
 * policy_json.c - a decision as one JSON object (contract in policy_json.h).
 *
 * The object, its members and their types are doc/decision.schema.json;
 * the names of enumerated values are the ones of policy_decision.c and
 * dns/dns.h. Shape (every member always present unless said otherwise):
 *
 *   domain, mx_domain (string or null), verdict, level, reason, why,
 *   port, status {reply, enhanced, text, tlsrpt}, smtp_reply,
 *   policy {level, source, table_key},
 *   mx {queried, no_mx, implicit, status, dnssec},
 *   hosts [{name, preference, canonname, state, reason, why,
 *           addresses {queried, status, dnssec, list},
 *           tlsa {state, dnssec, base_domain, usable, records [{rr, usage,
 *                 selector, mtype, usable, unusable_why}]}}],
 *   ttl, queries, resolution_ms, and with an outcome: cache_hit, elapsed_ms.
 *
 * Values the engine did not establish are null, never made up: the reply
 * and enhanced code of a require/try decision, the status of lookups that
 * were not made, the preference of an implicit MX host.
 *
 * Text that came from outside (the destination as the caller wrote it,
 * DNS names, resolver reasons) need not be UTF-8; jansson refuses such
 * strings, so they are passed through json_text(): a string that is not
 * valid UTF-8 has each of its non-ASCII bytes replaced by U+FFFD.
 *
 * Ownership: every value is built with a reference that
 * json_object_set_new()/json_array_append_new() steal (also on failure),
 * so the caller's single json_decref() frees everything.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dns.h"
#include "log.h"
#include "mem.h"
#include "policy_json.h"
#include "sts_policy.h"
#include "tlsa.h"

/* A JSON string for s (NULL -> null); not UTF-8: non-ASCII bytes become U+FFFD. */
static json_t *
json_text(const char *s)
{
	struct buf b;
	json_t *j;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	buf_init(&b);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80)
			buf_putc(&b, *p);
		else
			buf_puts(&b, "\xef\xbf\xbd");
	}
	j = json_string(b.s);
	buf_free(&b);
	return j;
}

/* An integer member; JSON numbers are signed 64-bit in jansson. */
static json_t *
json_uint(unsigned long long v)
{
	return json_integer((json_int_t)v);
}

/*
 * Set o[key] = v, stealing v. Returns 0, or -1 when v is NULL (a failed
 * allocation inside jansson) or the set failed; v is released either way.
 */
static int
jset(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v);
}

/* Append v to array a, stealing v; -1 on failure. */
static int
jpush(json_t *a, json_t *v)
{
	return json_array_append_new(a, v);
}

/*
 * Undo the '%' doubling policy_status_reply_text() applies for
 * smfi_setreply(): JSON consumers want the reply as it is sent.
 * Edits s in place.
 */
static void
undouble_percent(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		*w++ = *r;
		if (r[0] == '%' && r[1] == '%')
			r++;
	}
	*w = 0;
}

/*
 * The full SMTP reply "450 4.7.5 text (domain: why)" for a decision whose
 * status row has a reply code, else null.
 */
static json_t *
json_smtp_reply(const struct policy_decision *d, const struct policy_status *st)
{
	char *text, *line;
	json_t *j;

	if (st == NULL || st->reply == NULL)
		return json_null();
	text = policy_status_reply_text(st, d->domain, d->why);
	undouble_percent(text);
	line = st->enhanced ? xasprintf("%s %s %s", st->reply, st->enhanced, text)
			    : xasprintf("%s %s", st->reply, text);
	j = json_text(line);
	free(line);
	free(text);
	return j;
}

static json_t *
json_status(const struct policy_status *st)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= jset(o, "reply", json_text(st ? st->reply : NULL));
	rc |= jset(o, "enhanced", json_text(st ? st->enhanced : NULL));
	rc |= jset(o, "text", json_text(st ? st->text : ""));
	rc |= jset(o, "tlsrpt", json_text(st ? st->tlsrpt : NULL));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
json_policy(const struct policy_decision *d)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= jset(o, "level", json_string(tls_level_name(d->policy_level)));
	rc |= jset(o, "source", json_string(policy_source_name(d->source)));
	rc |= jset(o, "table_key", json_text(d->table_key));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
json_mx(const struct policy_decision *d)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= jset(o, "queried", json_boolean(d->mx_queried));
	rc |= jset(o, "no_mx", json_boolean(d->no_mx));
	rc |= jset(o, "implicit", json_boolean(d->implicit_mx));
	rc |= jset(o, "status",
	    d->mx_queried ? json_string(dns_status_name(d->mx_status)) : json_null());
	rc |= jset(o, "dnssec", d->mx_queried ? json_string(dns_sec_name(d->mx_sec)) : json_null());
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
json_addresses(const struct policy_host *h)
{
	json_t *o = json_object(), *list = json_array();
	int rc = 0;

	for (size_t i = 0; i < h->naddrs; i++)
		rc |= jpush(list, json_text(h->addrs[i]));
	rc |= jset(o, "queried", json_boolean(h->addr_queried));
	rc |= jset(o, "status",
	    h->addr_queried ? json_string(dns_status_name(h->addr_status)) : json_null());
	rc |= jset(o, "dnssec",
	    h->addr_queried ? json_string(dns_sec_name(h->addr_sec)) : json_null());
	rc |= jset(o, "list", list);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
json_tlsa_rr(const struct tlsa_rr *rr)
{
	json_t *o = json_object();
	char *text = tlsa_to_string(rr);
	int rc = 0;

	rc |= jset(o, "rr", json_text(text));
	rc |= jset(o, "usage", json_text(tlsa_usage_name(rr->usage)));
	rc |= jset(o, "selector", json_text(tlsa_selector_name(rr->selector)));
	rc |= jset(o, "mtype", json_text(tlsa_mtype_name(rr->mtype)));
	rc |= jset(o, "usable", json_boolean(rr->usable));
	rc |= jset(o, "unusable_why", json_text(rr->usable ? NULL : rr->unusable_why));
	free(text);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
json_tlsa(const struct policy_host *h)
{
	json_t *o = json_object(), *records = json_array();
	int queried = h->tlsa_state != POLICY_TLSA_NOT_QUERIED;
	int rc = 0;

	for (size_t i = 0; i < h->ntlsa; i++)
		rc |= jpush(records, json_tlsa_rr(&h->tlsa[i]));
	rc |= jset(o, "state", json_string(policy_tlsa_state_name(h->tlsa_state)));
	rc |= jset(o, "dnssec", queried ? json_string(dns_sec_name(h->tlsa_sec)) : json_null());
	rc |= jset(o, "base_domain", json_text(h->tlsa_base));
	rc |= jset(o, "usable", json_uint(h->nusable));
	rc |= jset(o, "records", records);
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *
json_host(const struct policy_host *h)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= jset(o, "name", json_text(h->name));
	rc |= jset(o, "preference", h->preference < 0 ? json_null() : json_integer(h->preference));
	rc |= jset(o, "canonname", json_text(h->canonname));
	rc |= jset(o, "state", json_string(policy_host_state_name(h->state)));
	rc |= jset(o, "reason", json_string(policy_reason_name(h->reason)));
	rc |= jset(o, "why", json_text(h->why));
	rc |= jset(o, "addresses", json_addresses(h));
	rc |= jset(o, "tlsa", json_tlsa(h));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The MTA-STS part: null when not consulted. */
static json_t *
json_sts(const struct policy_decision *d)
{
	const struct policy_sts *s = d->sts;
	json_t *o, *mx;

	if (s == NULL)
		return json_null();
	o = json_object();
	mx = json_array();
	if (o == NULL || mx == NULL) {
		json_decref(o);
		json_decref(mx);
		return NULL;
	}
	for (size_t i = 0; i < s->nmx; i++)
		jpush(mx, json_text(s->mx[i]));
	jset(o, "policy", json_boolean(s->have));
	jset(o, "mode", s->have ? json_string(sts_policy_mode_name((enum sts_mode)s->mode))
				: json_null());
	jset(o, "mx", mx);
	jset(o, "policy_id", json_text(s->id));
	jset(o, "expires", s->have ? json_integer(s->expires) : json_null());
	jset(o, "txt_id", json_text(s->txt_id));
	jset(o, "note", json_text(s->note));
	jset(o, "fetch_error", json_text(s->fetch_error));
	return o;
}

/* The members that describe the outcome itself (verdict, reply, policy). */
static int
json_head(json_t *j, const struct policy_decision *d, const struct policy_status *st)
{
	int rc = 0;

	rc |= jset(j, "domain", json_text(d->domain));
	rc |= jset(j, "mx_domain", json_text(d->mx_domain));
	rc |= jset(j, "verdict", json_string(policy_verdict_name(d->verdict)));
	rc |= jset(j, "level", json_string(tls_level_name(d->level)));
	rc |= jset(j, "reason", json_string(policy_reason_name(d->reason)));
	rc |= jset(j, "why", json_text(d->why ? d->why : ""));
	rc |= jset(j, "port", json_uint(d->port));
	rc |= jset(j, "status", json_status(st));
	rc |= jset(j, "smtp_reply", json_smtp_reply(d, st));
	rc |= jset(j, "policy", json_policy(d));
	rc |= jset(j, "mx", json_mx(d));
	rc |= jset(j, "sts", json_sts(d));
	return rc;
}

/**
 * policy_json_decision - the decision chain of d as a new JSON object
 * (the caller owns the one reference). st: status table for d->reason's
 * row (NULL: built-in defaults). o: when not NULL, this call's cache_hit
 * and elapsed_ms are added. Returns NULL only when jansson could not
 * allocate (logged).
 */
json_t *
policy_json_decision(const struct policy_decision *d, const struct policy_status_table *st,
    const struct policy_outcome *o)
{
	const struct policy_status *row = policy_status_get(st, d->reason);
	json_t *j = json_object(), *hosts = json_array();
	int rc = 0;

	if (j == NULL || hosts == NULL)
		goto out;
	rc |= json_head(j, d, row);
	for (size_t i = 0; i < d->nhosts; i++)
		rc |= jpush(hosts, json_host(&d->hosts[i]));
	rc |= jset(j, "hosts", hosts);
	hosts = NULL; /* now owned by j */
	rc |= jset(j, "ttl", json_uint(d->ttl));
	rc |= jset(j, "queries", json_uint(d->queries));
	rc |= jset(j, "resolution_ms", json_uint(d->elapsed_ms));
	if (o != NULL) {
		rc |= jset(j, "cache_hit", json_boolean(o->cache_hit));
		rc |= jset(j, "elapsed_ms", json_uint(o->elapsed_ms));
	}
	if (rc == 0)
		return j;
out:
	msg_error("cannot build the JSON decision for %.255s: out of memory",
	    d->domain ? d->domain : "");
	json_decref(hosts);
	json_decref(j);
	return NULL;
}

/* ------------------------------------------------------- rendered text */

/*
 * The text of policy_json_decision(d, st, NULL), rendered once: len octets
 * of compact JSON ending in '}' (no NUL needed, one is kept anyway).
 */
struct policy_json_memo {
	const struct policy_status_table *st; /* the table it was rendered with */
	size_t len;
	char text[];
};

/* Render d for st into a new memo (caller frees), or NULL. */
static struct policy_json_memo *
memo_render(const struct policy_decision *d, const struct policy_status_table *st)
{
	struct policy_json_memo *m = NULL;
	json_t *j = policy_json_decision(d, st, NULL);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	size_t n;

	if (j != NULL && s == NULL)
		msg_error("cannot serialise the JSON decision for %.255s: out of memory",
		    d->domain ? d->domain : "");
	if (s == NULL || (n = strlen(s)) == 0 || s[n - 1] != '}')
		goto out;
	m = xmalloc(sizeof(*m) + n + 1);
	m->st = st;
	m->len = n;
	memcpy(m->text, s, n + 1);
out:
	free(s);
	json_decref(j);
	return m;
}

/** policy_json_decision_append - see policy_json.h. */
int
policy_json_decision_append(struct buf *out, const struct policy_decision *d,
    const struct policy_status_table *st, const struct policy_outcome *o)
{
	/* The memo is logically part of the immutable decision: it is set
	 * once (compare-and-swap from NULL) and never changed after. */
	struct policy_json_memo *_Atomic *slot = &((struct policy_decision *)d)->json_memo;
	struct policy_json_memo *m = atomic_load_explicit(slot, memory_order_acquire);
	struct policy_json_memo *mine = NULL, *expect = NULL;

	if (m == NULL || m->st != st) {
		if ((mine = memo_render(d, st)) == NULL)
			return -1;
		if (m == NULL &&
		    atomic_compare_exchange_strong_explicit(slot, &expect, mine,
			memory_order_acq_rel, memory_order_acquire))
			m = mine, mine = NULL; /* published: now d's */
		else if (expect != NULL && expect->st == st)
			m = expect; /* another thread won the race */
		else
			m = mine; /* another table: this call's copy only */
	}
	if (o == NULL) {
		buf_append(out, m->text, m->len);
	} else {
		char ms[16];

		snprintf(ms, sizeof(ms), "%u}", o->elapsed_ms);
		buf_append(out, m->text, m->len - 1);
		buf_puts(out,
		    o->cache_hit ? ",\"cache_hit\":true,\"elapsed_ms\":"
				 : ",\"cache_hit\":false,\"elapsed_ms\":");
		buf_puts(out, ms);
	}
	free(mine);
	return 0;
}
