/*
 * test_smime_verify.c - smime/smime_verify.h: the CMS signature, the
 * signer's chain against SMIMEA records through OpenSSL's DANE, the SMIMEA
 * owner names; and the world's S/MIME zones (tools/mkworld.sh: smime.example
 * and unsigned.example, tests/world/README.md) as the resolver sees them.
 *
 * Messages are signed at test time in C (CMS_sign, tests/unit/smime/
 * smime_pki.c) with the world's user keys, and once with the openssl CLI.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/crypto.h>

#include "clock.h"
#include "dns.h"
#include "mem.h"
#include "smime_pki.h"
#include "smime_verify.h"
#include "tlsa.h"
#include "world.h"

/* ------------------------------------------------------------ the world's zones */

static struct world w;
static int world_ok;

static void
world_setup(void)
{
	world_ok = world_start(&w, 300) == 0;
	if (!world_ok)
		cr_skip_test("offline world not available (WORLD_DIR/FAULTDNS unset?)");
}

static void
world_teardown(void)
{
	if (world_ok)
		world_stop(&w);
}

TestSuite(smime_world, .init = world_setup, .fini = world_teardown, .timeout = 30);

/* One lookup of name/type over the world (caller frees the answer). */
static struct dns_answer *
lookup(const char *name, uint16_t type)
{
	struct dns_options o;
	struct dns_resolver *res;
	struct dns_batch *b;
	struct dns_answer *a = NULL;
	char *err = NULL;
	unsigned tag;

	world_dns_options(&w, &o);
	res = dns_resolver_new(&o, &err);
	cr_assert_not_null(res, "resolver: %s", err ? err : "?");
	b = dns_batch_new(res);
	dns_batch_add(b, name, type, 1);
	cr_assert_eq(dns_batch_next(b, clock_now_ms() + 5000, &tag, &a), 1);
	dns_batch_free(b);
	dns_resolver_free(res);
	return a;
}

/* The SMIMEA RRset of user's owner label in domain: one record, as "U S M HEX". */
static void
expect_smimea(const char *user, const char *domain, enum dns_sec sec, const char *rdata)
{
	char *rel = xasprintf("%s.owner", user), *label = smime_pki_line(rel);
	char *name = xasprintf("%s._smimecert.%s", label, domain);
	struct dns_answer *a = lookup(name, DNS_T_SMIMEA);
	struct tlsa_rr rr;
	char *got;

	cr_assert_eq(a->status, DNS_DATA, "%s: %s", name, dns_status_name(a->status));
	cr_assert_eq(a->sec, sec, "%s: %s", name, dns_sec_name(a->sec));
	cr_assert_eq(a->count, 1);
	cr_assert_eq(tlsa_parse(a->rr[0].data, a->rr[0].len, &rr), 0);
	got = tlsa_to_string(&rr);
	cr_assert_str_eq(got, rdata, "%s", name);
	free(got);
	tlsa_rr_clear(&rr);
	dns_answer_free(a);
	free(name);
	free(label);
	free(rel);
}

/* "U S M " followed by the upper-case contents of the file NAME.spki. */
static char *
rdata_of(const char *usm, const char *name)
{
	char *rel = xasprintf("%s.spki", name), *hex = smime_pki_line(rel), *s;

	for (char *p = hex; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	s = xasprintf("%s %s", usm, hex);
	free(hex);
	free(rel);
	return s;
}

Test(smime_world, wildcard_secure_for_alice)
{
	char *r = rdata_of("2 1 1", "users");

	expect_smimea("alice", "smime.example", DNS_SEC_SECURE, r);
	expect_smimea("carol", "smime.example", DNS_SEC_SECURE, r);
	expect_smimea("mallory", "smime.example", DNS_SEC_SECURE, r);
	free(r);
}

Test(smime_world, exact_names_secure)
{
	char *r = rdata_of("3 1 1", "bob");

	expect_smimea("bob", "smime.example", DNS_SEC_SECURE, r);
	free(r);
	r = rdata_of("3 1 1", "other");
	expect_smimea("erin", "smime.example", DNS_SEC_SECURE, r);
	free(r);
}

Test(smime_world, unsigned_is_insecure)
{
	char *r = rdata_of("2 1 1", "users");

	expect_smimea("dave", "unsigned.example", DNS_SEC_INSECURE, r);
	free(r);
}

Test(smime_world, ocsp_hosts)
{
	static const char *const names[] = { "ocsp.smime.example", "ocsp.unsigned.example" };
	char text[64];

	for (size_t i = 0; i < 2; i++) {
		struct dns_answer *a = lookup(names[i], DNS_T_A);

		cr_assert_eq(a->status, DNS_DATA, "%s", names[i]);
		cr_assert_eq(a->sec, i == 0 ? DNS_SEC_SECURE : DNS_SEC_INSECURE, "%s", names[i]);
		cr_assert_eq(dns_answer_addr(a, 0, text, sizeof(text)), 0);
		cr_assert_str_eq(text, "127.0.0.1");
		dns_answer_free(a);
	}
}
