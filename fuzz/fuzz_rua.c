/*
 * fuzz_rua.c - libFuzzer target: RFC 8460 TLSRPT records from DNS
 * (report/report_rua.h report_rua_txt_join, report_rua_parse_record,
 * report_rua_from_answer; implemented in report/report_rua.c).
 *
 * Input: byte 0 picks the entry point, the rest is its data:
 *   0: the record text for report_rua_parse_record() (NULs included);
 *   1: one TXT RDATA for report_rua_txt_join(), then the joined text
 *      parsed as a record;
 *   2: a TXT answer for report_rua_from_answer(): byte 1 its
 *      status/DNSSEC state, then RDATAs, each a length byte and bytes.
 * Properties checked (abort = bug in danepol):
 *   - a record parses to a count that is the set's size (at most
 *     REPORT_RUA_MAX), or to -1 with an error text;
 *   - every kept URI is printable ASCII without blanks, at most
 *     REPORT_RUA_URI_MAX bytes; a mailto: one has an address with '@'
 *     not starting with '-', an https: one no address;
 *   - joining gives at most the RDATA's length, NUL-terminated;
 *   - from an answer: 0 with a set (why set when it is empty), or -1
 *     with an error text.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "dns.h"
#include "fuzz.h"
#include "mem.h"
#include "report_rua.h"

static void
check_set(const struct report_rua_set *set)
{
	FUZZ_CHECK(set->n <= REPORT_RUA_MAX);
	for (size_t i = 0; i < set->n; i++) {
		const struct report_rua *r = &set->v[i];
		size_t n;

		FUZZ_CHECK(r->uri != NULL);
		n = strlen(r->uri);
		FUZZ_CHECK(n > 0 && n <= REPORT_RUA_URI_MAX);
		for (size_t k = 0; k < n; k++)
			FUZZ_CHECK(r->uri[k] > 0x20 && r->uri[k] < 0x7f);
		if (r->scheme == REPORT_RUA_MAILTO) {
			FUZZ_CHECK(strncasecmp(r->uri, "mailto:", 7) == 0);
			FUZZ_CHECK(r->addr != NULL && r->addr[0] != '-' && strchr(r->addr, '@'));
		} else {
			FUZZ_CHECK(r->scheme == REPORT_RUA_HTTPS);
			FUZZ_CHECK(strncasecmp(r->uri, "https:", 6) == 0 && r->addr == NULL);
		}
	}
}

static void
parse(const char *txt, size_t len)
{
	struct report_rua_set set;
	size_t skipped = 0;
	char *err = NULL;
	int n;

	memset(&set, 0, sizeof(set));
	n = report_rua_parse_record(txt, len, &set, &skipped, &err);
	if (n < 0) {
		FUZZ_CHECK(err != NULL);
	} else {
		FUZZ_CHECK(err == NULL && (size_t)n == set.n);
		check_set(&set);
	}
	free(err);
	report_rua_clear(&set);
	FUZZ_CHECK(set.n == 0 && set.v == NULL);
}

static void
from_answer(struct fuzz_in *in)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));
	struct report_rua_set set;
	uint8_t cls = fuzz_byte(in);
	char *err = NULL;

	a->qname = xstrdup("_smtp._tls.example.com");
	a->qtype = DNS_T_TXT;
	a->status = (enum dns_status)(cls % 5);
	a->sec = (enum dns_sec)((cls / 5) % 4);
	while (a->status == DNS_DATA && in->n > 0 && a->count < 64) {
		const uint8_t *p;
		size_t n = fuzz_bytes(in, fuzz_byte(in), &p);

		a->rr = xreallocarray(a->rr, a->count + 1, sizeof(*a->rr));
		a->rr[a->count].data = xmemdup(n ? p : (const uint8_t *)"", n ? n : 1);
		a->rr[a->count].len = n;
		a->count++;
	}
	memset(&set, 0, sizeof(set));
	if (report_rua_from_answer(a, &set, &err) < 0) {
		FUZZ_CHECK(err != NULL);
	} else {
		FUZZ_CHECK(err == NULL);
		FUZZ_CHECK(set.n > 0 || set.why != NULL);
		check_set(&set);
	}
	free(err);
	report_rua_clear(&set);
	dns_answer_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t mode = fuzz_byte(&in);
	/* a private copy: ASan then sees any read past the data */
	uint8_t *copy = xmemdup(in.n ? in.p : (const uint8_t *)"", in.n ? in.n : 1);
	size_t jlen = 0;
	char *joined;

	switch (mode % 3) {
	case 0:
		parse((const char *)copy, in.n);
		break;
	case 1:
		joined = report_rua_txt_join(copy, in.n, &jlen);
		if (joined != NULL) {
			FUZZ_CHECK(jlen <= in.n && joined[jlen] == 0);
			parse(joined, jlen);
			free(joined);
		}
		break;
	default:
		from_answer(&in);
		break;
	}
	free(copy);
	return 0;
}
