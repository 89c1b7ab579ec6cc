/*
 * fuzz_exim.c - libFuzzer target: danepold's Exim line protocol as
 * milter/exim.c serves it: request lines (milter/proto.h
 * proto_exim_parse, proto_exim_event, proto_exim_host), the host request's
 * answer from an MTA-STS decision (proto_exim_host_reply, through
 * policy/policy_sts.h policy_sts_host and the RFC 8461 matcher of
 * sts/sts_policy.h), the recipient and domain parsers
 * behind them (lib/rcpt.h, lib/dnsname.h), key=value lines
 * (lib/kvline.h) both ways, the replies (proto_exim_reply/_error) and
 * the audit strings made from event fields (store/audit.h audit_string).
 *
 * Input: byte 0 picks the verdict/reason of the decisions the replies
 * are built from (the engine itself is fuzzed by fuzz_engine); the rest
 * is the peer's byte stream, cut into lines at '\n' as exim_serve()
 * does: a line over PROTO_EXIM_LINE_MAX ends the stream (the daemon
 * closes the connection), a trailing '\r' is dropped, a line with a NUL
 * byte is a bad request, a last line without '\n' is answered at EOF.
 * Properties checked (abort = bug in danepol):
 *   - every reply is one line without control characters (8-bit bytes
 *     of a domain request pass through, quoted) that kvline_parse()
 *     reads back, with a verdict, and (queries) the destination as sent
 *     (tabs become '?');
 *   - an event splits into a valid name and fields, or gives a reason;
 *   - a host request splits into DOMAIN (no blank) and HOSTNAME (the
 *     rest), 1..255 octets each, or gives a reason; its reply is verdict allow or deny (deny
 *     only under an enforce policy: byte 0 bit 0x20 gives the decision
 *     one, with a "*." pattern) and carries the host as sent (tabs
 *     become '?');
 *   - kvline_parse() of any line gives fields or a reason, and writing
 *     the fields with kvline_put() parses back to the same keys and
 *     values (tabs become '?');
 *   - audit_string() turns every field value into a JSON string.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "buf.h"
#include "dnsname.h"
#include "fuzz.h"
#include "kvline.h"
#include "mem.h"
#include "policy.h"
#include "policy_sts.h"
#include "proto.h"
#include "rcpt.h"
#include "sts_policy.h"

/* value with tabs as kvline_put_value() writes them */
static int
same_value(const char *written, const char *orig)
{
	for (; *orig; orig++, written++)
		if (*written != (*orig == '\t' ? '?' : *orig))
			return 0;
	return *written == 0;
}

/* The reply is one line that parses back (events: "ok"). */
static void
check_reply(const char *reply, const char *dest)
{
	struct kvline f;
	const char *why = NULL, *v;

	if (strcmp(reply, "ok") == 0)
		return;		/* an event's reply */
	for (const char *p = reply; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f);
	FUZZ_CHECK(kvline_parse(reply, 64, &f, &why) == 0);
	FUZZ_CHECK(kvline_get(&f, "verdict") != NULL);
	if (dest != NULL) {
		v = kvline_get(&f, "destination");
		FUZZ_CHECK(v != NULL && same_value(v, dest));
	}
	kvline_free(&f);
}

static struct policy_decision *
decision(const char *domain, uint8_t how)
{
	static const enum policy_reason reasons[] = {
		POLICY_R_DANE, POLICY_R_DANE_PARTIAL, POLICY_R_MX_BOGUS, POLICY_R_DNS_TIMEOUT,
		POLICY_R_INTERNAL_ERROR, POLICY_R_NULL_MX, POLICY_R_DANE_REQUIRED,
	};
	enum policy_reason r = reasons[how % (sizeof(reasons) / sizeof(reasons[0]))];

	return policy_decision_simple(domain, policy_reason_verdict(r),
	    (how & 0x80) ? TLS_LEVEL_DANE_ONLY : TLS_LEVEL_DANE, r,
	    "a why text with 100% \"quotes\" and a \\ backslash");
}

/* A rcpt or domain query, as ex_decide() + ex_query() answer it. */
static char *
query(enum proto_exim_kind kind, const char *arg, uint8_t how, char **dest)
{
	char canon[DNSNAME_MAX];
	const char *why = NULL;
	struct policy_decision *d;
	struct rcpt p;
	char *reply;

	if (kind == PROTO_EXIM_DOMAIN) {
		*dest = xstrdup(arg);
		d = dnsname_normalize(arg, 0, canon, &why) == 0 ? decision(canon, how) :
		    policy_decision_simple(arg, POLICY_DEFER, TLS_LEVEL_DANE,
		    POLICY_R_INVALID_DOMAIN, why);
	} else {
		switch (rcpt_parse(arg, &p)) {
		case RCPT_DOMAIN:
		case RCPT_LITERAL:
			*dest = xstrdup(p.domain);
			d = decision(p.domain, how);
			break;
		case RCPT_LOCAL:
			*dest = xstrdup("");
			d = policy_decision_simple("", POLICY_TRY, TLS_LEVEL_NONE,
			    POLICY_R_LOCAL_POLICY, "local delivery");
			break;
		case RCPT_INVALID:
		default:
			FUZZ_CHECK(p.why != NULL);
			*dest = xstrndup(arg, 255);	/* as ex_bad_domain() */
			for (char *c = *dest; *c; c++)
				if ((unsigned char)*c < 0x21 || (unsigned char)*c > 0x7e)
					*c = '?';
			d = policy_decision_simple(*dest, POLICY_DEFER, TLS_LEVEL_DANE,
			    POLICY_R_INVALID_DOMAIN, p.why);
			break;
		}
	}
	reply = proto_exim_reply(d, NULL, *dest, (how & 0x40) != 0);
	policy_decision_unref(d);
	return reply;
}

/* A host request, as ex_host() answers it, from a decision of DOMAIN. */
static char *
host_query(const char *arg, uint8_t how, char **dest)
{
	const char *why = NULL, *v;
	char *domain = NULL, *host = NULL, *reply;
	struct policy_decision *d;
	struct kvline f;

	if (proto_exim_host(arg, &domain, &host, &why) < 0) {
		FUZZ_CHECK(why != NULL && domain == NULL && host == NULL);
		return proto_exim_error("bad-request", why);
	}
	FUZZ_CHECK(domain[0] && host[0] && strlen(domain) <= 255 && strlen(host) <= 255);
	FUZZ_CHECK(strpbrk(domain, " \t") == NULL && host[0] != ' ' && host[0] != '\t');
	d = decision(domain, how);
	if (how & 0x20) { /* an enforce policy, as policy_sts.c's apply() leaves it */
		d->sts = xcalloc(1, sizeof(*d->sts));
		d->sts->have = 1;
		d->sts->mode = STS_MODE_ENFORCE;
		d->sts->mx = xcalloc(2, sizeof(char *));
		d->sts->mx[d->sts->nmx++] = xstrdup("mx1.stsok.example");
		d->sts->mx[d->sts->nmx++] = xstrdup("*.stsok.example");
	}
	reply = proto_exim_host_reply(d, domain, host);
	FUZZ_CHECK(kvline_parse(reply, 64, &f, &why) == 0);
	v = kvline_get(&f, "verdict");
	FUZZ_CHECK(
	    v != NULL && (strcmp(v, "allow") == 0 || (strcmp(v, "deny") == 0 && (how & 0x20))));
	FUZZ_CHECK((v[0] == 'd') == (policy_sts_host(d, host) == POLICY_STS_HOST_NOT_NAMED));
	v = kvline_get(&f, "host");
	FUZZ_CHECK(v != NULL && same_value(v, host)); /* a tab written as '?' */
	kvline_free(&f);
	policy_decision_unref(d);
	free(host);
	*dest = domain;
	return reply;
}

static void
event(const char *arg)
{
	struct kvline f;
	const char *why = NULL;
	char *name = NULL;

	if (proto_exim_event(arg, &name, &f, &why) < 0) {
		FUZZ_CHECK(why != NULL && f.n == 0);
		return;
	}
	FUZZ_CHECK(kvline_key_ok(name));
	for (size_t i = 0; i < f.n; i++) {
		json_t *j = audit_string(f.f[i].value);

		FUZZ_CHECK(j != NULL && json_is_string(j));
		json_decref(j);
	}
	(void)kvline_get(&f, "tls_cipher");
	kvline_free(&f);
	free(name);
}

/* kvline_parse() of a raw line and the write/parse round trip. */
static void
roundtrip(const char *line)
{
	struct kvline f, g;
	const char *why = NULL;
	struct buf b;

	if (kvline_parse(line, PROTO_EXIM_FIELDS_MAX, &f, &why) < 0) {
		FUZZ_CHECK(why != NULL && f.n == 0);
		kvline_free(&f);
		return;
	}
	buf_init(&b);
	for (size_t i = 0; i < f.n; i++) {
		FUZZ_CHECK(kvline_key_ok(f.f[i].key));
		kvline_put(&b, f.f[i].key, f.f[i].value);
	}
	FUZZ_CHECK(kvline_parse(b.s ? b.s : "", PROTO_EXIM_FIELDS_MAX, &g, &why) == 0);
	FUZZ_CHECK(g.n == f.n);
	for (size_t i = 0; i < f.n; i++) {
		FUZZ_CHECK(strcmp(g.f[i].key, f.f[i].key) == 0);
		FUZZ_CHECK(same_value(g.f[i].value, f.f[i].value));
	}
	kvline_free(&g);
	kvline_free(&f);
	buf_free(&b);
}

static void
one_line(const char *p, size_t n, uint8_t how)
{
	const char *arg = NULL;
	char *line, *reply, *dest = NULL;
	enum proto_exim_kind kind;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	line = xstrndup(p, n);
	if (strlen(line) != n) {
		reply = proto_exim_error("bad-request", "NUL byte");
		goto out;
	}
	roundtrip(line);
	kind = proto_exim_parse(line, &arg);
	FUZZ_CHECK(arg != NULL);
	switch (kind) {
	case PROTO_EXIM_RCPT:
	case PROTO_EXIM_DOMAIN:
		FUZZ_CHECK(arg[0] != 0);
		reply = query(kind, arg, how, &dest);
		break;
	case PROTO_EXIM_HOST:
		reply = host_query(arg, how, &dest);
		break;
	case PROTO_EXIM_EVENT:
		event(arg);
		reply = xstrdup("ok");
		break;
	case PROTO_EXIM_BAD:
	default:
		reply = proto_exim_error("bad-request", arg);
		break;
	}
out:
	check_reply(reply, dest);
	free(reply);
	free(dest);
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t how = fuzz_byte(&in);
	/* a private copy: ASan then sees any read past the stream */
	char *s = malloc(in.n ? in.n : 1);
	size_t pos = 0;

	if (s == NULL)
		abort();
	memcpy(s, in.p, in.n);
	while (pos < in.n) {
		const char *nl = memchr(s + pos, '\n', in.n - pos);
		size_t n = nl ? (size_t)(nl - (s + pos)) : in.n - pos;

		if (n > PROTO_EXIM_LINE_MAX)
			break;		/* "too-long", connection closed */
		/* a last line without '\n' is answered at EOF, as exim_serve() does */
		one_line(s + pos, n, how);
		if (nl == NULL)
			break;
		pos += n + 1;
	}
	free(s);
	return 0;
}
