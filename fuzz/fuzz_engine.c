/*
 * fuzz_engine.c - libFuzzer target: the DNS answers handed to the pure
 * decision engine (policy/policy.h policy_engine_new / _next_query /
 * _answer / _done / _result), and the decision's JSON
 * (policy/policy_json.h) built from whatever the answers held.
 *
 * Input: a script. Byte 0 picks one of a few fixed policy_inputs (DANE,
 * dane-only, a "[host]" next hop, insecure_mx_dane off, IPv4 only, one
 * host at most). Then, for every answer, while the engine is not done:
 *   pick   one byte: which pending query to answer (index modulo the
 *          pending count; 0 = the oldest, i.e. in the order asked);
 *   class  one byte: status (mod 5) and DNSSEC state (/5 mod 4), any
 *          combination, even those dns/dns.c never produces;
 *   ttl    one byte (times 60 s);
 *   canon  one byte: no canonname, a name from a table (plain, long,
 *          odd case, trailing dot, root), or raw text (length byte and
 *          bytes: dns/dns.c passes on what it could not normalise);
 *   rrs    for DNS_DATA only: a count byte (mod 6), then per record a
 *          kind byte: raw RDATA (length byte and bytes) or a record
 *          synthesised for the query type (MX with a preference and a
 *          table name, A, AAAA, TLSA with chosen fields and data length,
 *          CNAME), so deep paths are reached without guessing wire data.
 * Once the script is used up every further answer is DNS_TIMEOUT (what
 * the driver hands over at the deadline).
 * Properties checked (abort = bug in danepol; the engine is our code):
 *   - the engine never stalls: while not done it always has a query
 *     pending, and it is done within a bounded number of answers;
 *   - once done it asks for nothing more and gives exactly one decision;
 *   - the decision is coherent: its verdict is the class of its reason,
 *     its why is set, its domain is the input's, its hosts (named) are
 *     at most max_hosts with at most ntlsa usable records each, and its
 *     queries count covers the answers given;
 *   - policy_json_decision() renders it and jansson can dump that;
 *   - the audit log's kept text (policy_json_decision_append()) is that
 *     dump octet for octet, on the first call and from the kept copy.
 * The input's first byte also picks tlsa_prefetch (its top bit), so the
 * prefetched-TLSA paths see the same hostile answers.
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "dns.h"
#include "fuzz.h"
#include "mem.h"
#include "policy.h"
#include "policy_json.h"

#define MAX_ANSWERS	4096	/* far beyond max_hosts * (A, AAAA, CNAME, 2 TLSA) + MX */
#define MAX_PENDING	1024

static const char *const names[] = {
	"example.com", "mx1.example.com", "mx2.example.com", "mx.provider.example",
	"", "MX1.Example.COM.", "a.b.c.d.e.f.g.h.i.j.example", "xn--bcher-kva.example",
	"_25._tcp.mx1.example.com", "host-with-a-very-long-label-0123456789-0123456789-0123456789.example",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
	"mx1.example.com",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static struct policy_input
pick_input(uint8_t b)
{
	struct policy_input in = {
		.domain = "example.com", .level = TLS_LEVEL_DANE,
		.source = POLICY_SRC_DEFAULT, .port = 25, .want_ipv4 = 1, .want_ipv6 = 1,
		.insecure_mx_dane = 1, .max_hosts = 10,
	};

	switch (b % 6) {
	case 1: in.level = TLS_LEVEL_DANE_ONLY; in.source = POLICY_SRC_TABLE;
		in.table_key = ".com"; break;
	case 2: in.no_mx = 1; in.domain = "mx1.example.com"; break;
	case 3: in.insecure_mx_dane = 0; break;
	case 4: in.want_ipv6 = 0; in.port = 587; break;
	case 5: in.max_hosts = 1; in.level = TLS_LEVEL_DANE_ONLY; break;
	default: break;
	}
	in.tlsa_prefetch = (b >> 7) & 1;
	return in;
}

/* Wire form of a table name into out (cap >= 256); returns its length. */
static size_t
wire_name(const char *name, uint8_t *out)
{
	size_t n = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		if (l == 0 || l > 63 || n + l + 2 > 255)
			break;
		out[n++] = (uint8_t)l;
		memcpy(out + n, name, l);
		n += l;
		name += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

static void
add_rr(struct dns_answer *a, const uint8_t *p, size_t len)
{
	a->rr = xreallocarray(a->rr, a->count + 1, sizeof(*a->rr));
	a->rr[a->count].data = xmemdup(len ? p : (const uint8_t *)"", len ? len : 1);
	a->rr[a->count].len = len;
	a->count++;
}

/* One record for qtype: raw bytes from the script, or synthesised. */
static void
make_rr(struct fuzz_in *in, uint16_t qtype, struct dns_answer *a)
{
	uint8_t kind = fuzz_byte(in), buf[512];
	const uint8_t *raw;
	size_t n = 0;

	if (kind % 4 == 0) {
		n = fuzz_bytes(in, fuzz_byte(in), &raw);
		add_rr(a, raw, n);
		return;
	}
	switch (qtype) {
	case DNS_T_MX:
		buf[0] = 0;
		buf[1] = fuzz_byte(in);
		n = 2 + wire_name(names[fuzz_byte(in) % NNAMES], buf + 2);
		break;
	case DNS_T_A:
		n = 4;
		memset(buf, fuzz_byte(in), n);
		break;
	case DNS_T_AAAA:
		n = 16;
		memset(buf, fuzz_byte(in), n);
		break;
	case DNS_T_TLSA: {
		static const size_t lens[] = { 32, 64, 0, 1, 31, 65, 300 };
		uint8_t f = fuzz_byte(in);

		buf[0] = (f & 3) + 1;		/* 1..4 */
		buf[1] = (f >> 2) & 1;
		buf[2] = (f >> 3) % 4;
		n = lens[(f >> 5) % (sizeof(lens) / sizeof(lens[0]))];
		memset(buf + 3, 0xab, n);
		n += 3;
		break;
	}
	case DNS_T_CNAME:
	default:
		n = wire_name(names[fuzz_byte(in) % NNAMES], buf);
		break;
	}
	add_rr(a, buf, n);
}

static char *
make_canon(struct fuzz_in *in)
{
	uint8_t c = fuzz_byte(in);
	const uint8_t *raw;
	size_t n;

	if (c < 128)
		return NULL;
	if (c - 128 < (int)NNAMES)
		return xstrdup(names[c - 128]);
	n = fuzz_bytes(in, fuzz_byte(in), &raw);
	return xstrndup((const char *)raw, n);
}

static struct dns_answer *
make_answer(struct fuzz_in *in, const struct policy_query *q)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));
	uint8_t cls;

	a->qname = xstrdup(q->name);
	a->qtype = q->type;
	if (in->n == 0) {
		a->status = DNS_TIMEOUT;
		a->sec = DNS_SEC_INDETERMINATE;
		a->why = xstrdup("timeout (fuzz script ended)");
		return a;
	}
	cls = fuzz_byte(in);
	a->status = (enum dns_status)(cls % 5);
	a->sec = (enum dns_sec)((cls / 5) % 4);
	a->rcode = a->status == DNS_FAIL ? 2 : a->status == DNS_NXDOMAIN ? 3 : 0;
	if (a->status == DNS_FAIL || a->sec == DNS_SEC_BOGUS)
		a->why = xstrdup((cls & 0x80) ? "bogus: fuzz %s %n" : "SERVFAIL");
	a->ttl = (uint32_t)fuzz_byte(in) * 60;
	a->canonname = make_canon(in);
	if (a->status == DNS_DATA) {
		size_t nrr = fuzz_byte(in) % 6;

		for (size_t i = 0; i < nrr; i++)
			make_rr(in, q->type, a);
	}
	return a;
}

static void
check_decision(const struct policy_decision *d, const struct policy_input *in, unsigned nans)
{
	json_t *j;
	char *s;

	FUZZ_CHECK(d != NULL && d->refs == 1);
	FUZZ_CHECK(policy_reason_verdict(d->reason) == d->verdict);
	FUZZ_CHECK(d->why != NULL && d->domain != NULL);
	FUZZ_CHECK(strcmp(d->domain, in->domain) == 0);
	FUZZ_CHECK(d->nhosts <= in->max_hosts);
	FUZZ_CHECK(d->queries >= nans);
	for (size_t i = 0; i < d->nhosts; i++) {
		FUZZ_CHECK(d->hosts[i].name != NULL);	/* why may be NULL: host not examined */
		FUZZ_CHECK(d->hosts[i].nusable <= d->hosts[i].ntlsa);
	}
	j = policy_json_decision(d, NULL, NULL);
	FUZZ_CHECK(j != NULL);
	FUZZ_CHECK(json_object_get(j, "verdict") != NULL);
	s = json_dumps(j, JSON_COMPACT);
	FUZZ_CHECK(s != NULL);
	for (int k = 0; k < 2; k++) {
		struct buf b;

		buf_init(&b);
		FUZZ_CHECK(policy_json_decision_append(&b, d, NULL, NULL) == 0);
		FUZZ_CHECK(strcmp(b.s, s) == 0);
		buf_free(&b);
	}
	free(s);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct policy_input pin = pick_input(fuzz_byte(&in));
	struct policy_engine *e = policy_engine_new(&pin);
	static struct { char *name; uint16_t type; unsigned tag; } pend[MAX_PENDING];
	struct policy_query q;
	struct policy_decision *d;
	size_t npend = 0;
	unsigned nans = 0;

	FUZZ_CHECK(e != NULL);
	while (!policy_engine_done(e)) {
		struct dns_answer *a;
		struct policy_query pq;
		size_t k;

		while (policy_engine_next_query(e, &q)) {
			FUZZ_CHECK(npend < MAX_PENDING);
			FUZZ_CHECK(q.name != NULL);
			pend[npend].name = xstrdup(q.name);
			pend[npend].type = q.type;
			pend[npend].tag = q.tag;
			npend++;
		}
		FUZZ_CHECK(npend > 0);			/* a stall */
		FUZZ_CHECK(nans < MAX_ANSWERS);		/* a loop */
		k = fuzz_byte(&in) % npend;
		pq.name = pend[k].name;
		pq.type = pend[k].type;
		pq.tag = pend[k].tag;
		a = make_answer(&in, &pq);
		policy_engine_answer(e, pq.tag, a);
		nans++;
		free(pend[k].name);
		memmove(&pend[k], &pend[k + 1], (npend - k - 1) * sizeof(pend[0]));
		npend--;
	}
	FUZZ_CHECK(!policy_engine_next_query(e, &q));
	d = policy_engine_result(e);
	check_decision(d, &pin, nans);
	FUZZ_CHECK(policy_engine_result(e) == NULL);
	/* answers for queries still out are dropped by a done engine */
	for (size_t k = 0; k < npend; k++) {
		struct policy_query pq = { pend[k].name, pend[k].type, pend[k].tag };

		policy_engine_answer(e, pq.tag, make_answer(&in, &pq));
		free(pend[k].name);
	}
	policy_decision_unref(d);
	policy_engine_free(e);
	return 0;
}
