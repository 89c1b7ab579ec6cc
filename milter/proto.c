/*
 * proto.c - pure request parsing and decision -> reply mappings for
 * danepold's socketmap and Exim protocols (contract in proto.h).
 *
 * The reply texts come from the same status table as the milter's SMTP
 * replies (policy_status_reply_text), with the '%' doubling for
 * smfi_setreply() undone: these replies do not go through libmilter.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kvline.h"
#include "mem.h"
#include "policy_sts.h"
#include "proto.h"
#include "sts_policy.h"

int
proto_sockmap_split(const char *data, size_t n, char **name, char **key)
{
	const char *sp = memchr(data, ' ', n);

	if (sp == NULL || sp == data || memchr(data, 0, n) != NULL)
		return -1;
	*name = xstrndup(data, (size_t)(sp - data));
	*key = xstrndup(sp + 1, n - (size_t)(sp + 1 - data));
	return 0;
}

int
proto_sockmap_skip(const char *key)
{
	return key[0] == 0 || key[0] == '.';
}

int
proto_soft(const struct conf *c, const struct policy_decision *d)
{
	if (d->verdict != POLICY_DEFER)
		return 0;
	return c->audit_only || (d->reason == POLICY_R_INTERNAL_ERROR && !c->on_error_tempfail);
}

char *
proto_reply_text(const struct policy_status_table *st, const struct policy_decision *d)
{
	char *text = policy_status_reply_text(policy_status_get(st, d->reason), d->domain, d->why);
	char *o = text;

	/* undo the '%' doubling, in place */
	for (const char *p = text; *p; p++) {
		*o++ = *p;
		if (p[0] == '%' && p[1] == '%')
			p++;
	}
	*o = 0;
	return text;
}

char *
proto_reply_line(const struct policy_status_table *st, const struct policy_decision *d)
{
	const struct policy_status *row = policy_status_get(st, d->reason);
	int reject = d->verdict == POLICY_REJECT;
	const char *code = row && row->reply ? row->reply : reject ? "550" : "451";
	const char *xcode = row && row->enhanced ? row->enhanced : reject ? "5.0.0" : "4.3.0";
	char *text = proto_reply_text(st, d);
	char *line = xasprintf("%s %s %s", code, xcode, text);

	free(text);
	return line;
}

/*
 * The TLS level the MTA enforces (both front doors: Postfix's socketmap
 * level, Exim's level= that selects hosts_require_dane). "dane-only" for
 * require, except where the MTA's mandatory DANE cannot be honoured: the
 * MX RRset was looked up and is not DNSSEC-secure (an unsigned customer
 * zone whose MX is a DANE provider host). Postfix's dane-only defers such
 * a destination "non DNSSEC destination" on every attempt, and Exim's
 * hosts_require_dane fails it ("lookup not DNSSEC"), while the MTA's own
 * opportunistic DANE delivers it (Postfix: DANE-verified through
 * smtp_tls_dane_insecure_mx_policy = dane; Exim: opportunistic TLS). So
 * that answer is "dane": a front door never does worse than the MTA's own
 * opportunistic DANE, unless the local policy asks for dane-only (then
 * the engine has deferred already, dane-required). doc/engine.md.
 */
static const char *
proto_level(const struct policy_decision *d)
{
	if (d->verdict != POLICY_REQUIRE || d->reason == POLICY_R_STS_ENFORCE)
		return tls_level_name(d->level);
	if (d->policy_level != TLS_LEVEL_DANE_ONLY && d->mx_queried && d->mx_sec != DNS_SEC_SECURE)
		return tls_level_name(TLS_LEVEL_DANE);
	return "dane-only";
}

/*
 * Postfix's policy for an MTA-STS enforce decision: "secure" with the
 * policy's patterns as the match list (":"-separated; "*.example.net"
 * becomes Postfix's ".example.net", which also matches deeper names, as
 * postfix-mta-sts-resolver answers) and the MX host name as SNI.
 */
static void
proto_sts_secure(struct buf *b, const struct policy_sts *s)
{
	buf_puts(b, "OK secure match=");
	for (size_t i = 0; i < s->nmx; i++)
		buf_printf(b, "%s%s", i ? ":" : "",
		    strncmp(s->mx[i], "*.", 2) == 0 ? s->mx[i] + 1 : s->mx[i]);
	buf_puts(b, " servername=hostname");
}

/* " name=value", or " { name = value }" when value holds a blank, a comma
 * or a brace: Postfix's policy attribute syntax (TLSRPT_README). */
static void
proto_attr(struct buf *b, const char *name, const char *value)
{
	if (value[strcspn(value, " \t,{}")] != 0)
		buf_printf(b, " { %s = %s }", name, value);
	else
		buf_printf(b, " %s=%s", name, value);
}

/*
 * Postfix 3.10's TLSRPT attributes for d after the level, in b
 * (TLSRPT_README, "MTA-STS Support via smtp_tls_policy_maps"): an
 * enforce or testing MTA-STS policy is policy_type=sts with the policy
 * lines (RFC 8460 section 4.3.2, sts_policy_strings()) and patterns; an
 * MTA-STS lookup that found no policy, or one in mode none, is
 * policy_type=no-policy-found. Nothing otherwise: not consulted, a fetch
 * that failed (sts needs the policy's lines, and Postfix reports
 * no-policy-found by itself), or a DANE level (Postfix reports DANE from
 * its own TLSA lookups; it refuses a policy_type other than these two).
 */
static void
proto_tlsrpt(struct buf *b, const struct policy_decision *d, const char *level)
{
	const struct policy_sts *s = d->sts;
	char **lines;
	size_t n;

	if (s == NULL || strncmp(level, "dane", 4) == 0)
		return;
	if (!s->have || s->mode == STS_MODE_NONE || s->nmx == 0) {
		if (s->fetch_error == NULL)
			buf_puts(b, " policy_type=no-policy-found");
		return;
	}
	buf_puts(b, " policy_type=sts");
	proto_attr(b, "policy_domain", d->domain);
	n = policy_sts_lines(s, &lines);
	for (size_t i = 0; i < n; i++) {
		proto_attr(b, "policy_string", lines[i]);
		free(lines[i]);
	}
	free(lines);
	for (size_t i = 0; i < s->nmx; i++)
		proto_attr(b, "mx_host_pattern", s->mx[i]);
}

/* "OK ..." for a require or try decision, with the TLSRPT attributes when tlsrpt */
static char *
proto_sockmap_ok(const struct policy_decision *d, int tlsrpt)
{
	const char *level = proto_level(d);
	struct buf b;

	buf_init(&b);
	if (d->reason == POLICY_R_STS_ENFORCE && d->sts != NULL)
		proto_sts_secure(&b, d->sts);
	else
		buf_printf(&b, "OK %s", level);
	if (tlsrpt)
		proto_tlsrpt(&b, d, level);
	return buf_steal(&b);
}

char *
proto_sockmap_reply(const struct policy_decision *d, const struct policy_status_table *st,
    int soft, int tlsrpt)
{
	char *text, *r;

	switch (d->verdict) {
	case POLICY_REQUIRE:
	case POLICY_TRY:
		return proto_sockmap_ok(d, tlsrpt);
	case POLICY_DEFER:
		if (soft || d->reason == POLICY_R_INVALID_DOMAIN)
			return xstrdup("NOTFOUND ");
		text = proto_reply_text(st, d);
		r = xasprintf("TEMP %s", text);
		free(text);
		return r;
	case POLICY_REJECT:
	default:
		return xstrdup("NOTFOUND ");
	}
}

char *
proto_exim_reply(const struct policy_decision *d, const struct policy_status_table *st,
    const char *destination, int soft)
{
	struct buf b;
	char *line;
	int soft_defer = soft && d->verdict == POLICY_DEFER;
	int hard = d->verdict == POLICY_REJECT || (d->verdict == POLICY_DEFER && !soft);

	buf_init(&b);
	kvline_put(&b, "verdict", soft_defer ? "try" : policy_verdict_name(d->verdict));
	kvline_put(&b, "level", proto_level(d));
	kvline_put(&b, "reason", policy_reason_name(d->reason));
	kvline_put(&b, "destination", destination);
	if (hard) {
		line = proto_reply_line(st, d);
		kvline_put(&b, "reply", line);
		free(line);
	}
	return buf_steal(&b);
}

char *
proto_exim_host_reply(const struct policy_decision *d, const char *destination, const char *host)
{
	enum policy_sts_host h = policy_sts_host(d, host);
	enum policy_reason r = d->reason;
	struct buf b;

	if (h == POLICY_STS_HOST_NAMED)
		r = POLICY_R_STS_ENFORCE;
	else if (h == POLICY_STS_HOST_NOT_NAMED)
		r = POLICY_R_STS_MX_MISMATCH;
	buf_init(&b);
	kvline_put(&b, "verdict", h == POLICY_STS_HOST_NOT_NAMED ? "deny" : "allow");
	kvline_put(&b, "reason", policy_reason_name(r));
	kvline_put(&b, "destination", destination);
	kvline_put(&b, "host", host);
	return buf_steal(&b);
}

char *
proto_exim_error(const char *reason, const char *detail)
{
	struct buf b;

	buf_init(&b);
	kvline_put(&b, "verdict", "error");
	kvline_put(&b, "reason", reason);
	if (detail != NULL)
		kvline_put(&b, "detail", detail);
	return buf_steal(&b);
}

/* The verb at line (followed by a blank or the end), else 0. */
static int
proto_verb(const char *line, const char *verb, const char **rest)
{
	size_t n = strlen(verb);

	if (strncmp(line, verb, n) != 0 || (line[n] && line[n] != ' ' && line[n] != '\t'))
		return 0;
	for (line += n; *line == ' ' || *line == '\t'; line++)
		continue;
	*rest = line;
	return 1;
}

enum proto_exim_kind
proto_exim_parse(char *line, const char **arg)
{
	static const struct {
		const char *verb;
		enum proto_exim_kind kind;
	} verbs[] = {
		{ "rcpt", PROTO_EXIM_RCPT },
		{ "domain", PROTO_EXIM_DOMAIN },
		{ "host", PROTO_EXIM_HOST },
		{ "event", PROTO_EXIM_EVENT },
	};
	const char *rest;
	size_t n;

	for (n = strlen(line); n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'); n--)
		line[n - 1] = 0;
	for (const char *p = line; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
			*arg = "control character";
			return PROTO_EXIM_BAD;
		}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (!proto_verb(line, verbs[i].verb, &rest))
			continue;
		if (*rest == 0) {
			*arg = "missing argument";
			return PROTO_EXIM_BAD;
		}
		*arg = rest;
		return verbs[i].kind;
	}
	*arg = "unknown request";
	return PROTO_EXIM_BAD;
}

int
proto_exim_event(const char *arg, char **name, struct kvline *fields, const char **why)
{
	size_t n = strcspn(arg, " \t");
	char *nm = xstrndup(arg, n);

	fields->f = NULL;
	fields->n = 0;
	if (!kvline_key_ok(nm)) {
		*why = "bad event name";
		free(nm);
		return -1;
	}
	if (kvline_parse(arg + n, PROTO_EXIM_FIELDS_MAX, fields, why) < 0) {
		free(nm);
		return -1;
	}
	*name = nm;
	return 0;
}

int
proto_exim_host(const char *arg, char **domain, char **host, const char **why)
{
	size_t n = strcspn(arg, " \t"), m;
	const char *h = arg + n;

	while (*h == ' ' || *h == '\t')
		h++;
	m = strlen(h);
	if (n == 0 || m == 0) {
		*why = "host needs DOMAIN and HOSTNAME";
		return -1;
	}
	if (n > 255 || m > 255) {
		*why = "DOMAIN or HOSTNAME longer than 255 octets";
		return -1;
	}
	*domain = xstrndup(arg, n);
	*host = xstrndup(h, m);
	return 0;
}

/* ------------------------------------------------------------ control */

enum proto_control_kind
proto_control_parse(const char *data, size_t n, char **arg, const char **why)
{
	const char *sp;
	size_t vlen;

	*arg = NULL;
	if (n > 0 && data[n - 1] == '\r')
		n--;
	if (n > PROTO_CONTROL_LINE_MAX) {
		*why = "request line too long";
		return PROTO_CONTROL_BAD;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)data[i] < 0x20 || data[i] == 0x7f) {
			*why = "control character in the request";
			return PROTO_CONTROL_BAD;
		}
	if (n == 0) {
		*why = "empty request";
		return PROTO_CONTROL_BAD;
	}
	sp = memchr(data, ' ', n);
	vlen = sp ? (size_t)(sp - data) : n;
	if (vlen == 5 && memcmp(data, "stats", 5) == 0) {
		if (sp) {
			*why = "stats takes no argument";
			return PROTO_CONTROL_BAD;
		}
		return PROTO_CONTROL_STATS;
	}
	if (vlen != 5 || memcmp(data, "query", 5) != 0) {
		*why = "unknown request: expected \"query DOMAIN\" or \"stats\"";
		return PROTO_CONTROL_BAD;
	}
	if (sp == NULL || sp + 1 == data + n || sp[1] == ' ') {
		*why = "query needs one DOMAIN";
		return PROTO_CONTROL_BAD;
	}
	sp++;
	if (memchr(sp, ' ', (size_t)(data + n - sp)) != NULL) {
		*why = "query takes one DOMAIN";
		return PROTO_CONTROL_BAD;
	}
	if ((size_t)(data + n - sp) > 255) {
		*why = "DOMAIN longer than 255 octets";
		return PROTO_CONTROL_BAD;
	}
	*arg = xstrndup(sp, (size_t)(data + n - sp));
	return PROTO_CONTROL_QUERY;
}
