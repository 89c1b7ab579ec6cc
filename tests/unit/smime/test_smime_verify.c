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

/* ------------------------------------------------------------ the signature */

#define BODY "Content-Type: text/plain\r\n\r\nHello from the S/MIME test\r\n"

static const struct smime_limits lim = { .max_certs = 8, .max_depth = 4, .max_parts = 64 };

TestSuite(smime_verify, .timeout = 30);

/* Verify der over content (NULL: opaque), expecting want; s filled. */
static void
expect_sig(const uint8_t *der, size_t len, const char *content, size_t clen,
    enum smime_sig want, struct smime_signer *s)
{
	char *why = NULL;
	enum smime_sig got = smime_verify_cms(der, len, content, clen, &lim, s, &why);

	cr_assert_eq(got, want, "got %d, want %d: %s", got, want, why ? why : "(no why)");
	cr_assert((got == SMIME_SIG_OK) == (why == NULL), "why: %s", why ? why : "(none)");
	free(why);
}

Test(smime_verify, alice_opaque)
{
	size_t len;
	uint8_t *der = smime_pki_sign("alice", BODY, strlen(BODY), 0, &len);
	struct smime_signer s;

	expect_sig(der, len, NULL, 0, SMIME_SIG_OK, &s);
	cr_assert_not_null(s.cert);
	cr_assert_eq(sk_X509_num(s.certs), 2);
	cr_assert_str_eq(s.addr, "alice@smime.example");
	cr_assert_str_eq(s.serial, "51");
	cr_assert_str_eq(s.issuer, "CN=danepol SMIME users CA,O=danepol test");
	smime_signer_clear(&s);
	smime_signer_clear(&s);
	OPENSSL_free(der);
}

Test(smime_verify, alice_detached)
{
	size_t len;
	uint8_t *der = smime_pki_sign("alice", BODY, strlen(BODY), 1, &len);
	struct smime_signer s;

	expect_sig(der, len, BODY, strlen(BODY), SMIME_SIG_OK, &s);
	cr_assert_str_eq(s.addr, "alice@smime.example");
	smime_signer_clear(&s);
	/* the same content with LF line ends: verified in its canonical form */
	expect_sig(der, len, "Content-Type: text/plain\n\nHello from the S/MIME test\n",
	    strlen(BODY) - 3, SMIME_SIG_OK, &s);
	smime_signer_clear(&s);
	/* no content for a detached signature */
	expect_sig(der, len, NULL, 0, SMIME_SIG_MALFORMED, &s);
	smime_signer_clear(&s);
	OPENSSL_free(der);
}

Test(smime_verify, one_byte_changed_is_bad)
{
	size_t len, clen = strlen(BODY);
	uint8_t *der = smime_pki_sign("alice", BODY, clen, 1, &len);
	char *changed = xstrdup(BODY);
	struct smime_signer s;
	uint8_t *p;

	changed[clen - 5] ^= 0x01;
	expect_sig(der, len, changed, clen, SMIME_SIG_BAD, &s);
	cr_assert_str_eq(s.addr, "alice@smime.example", "signer known even when bad");
	smime_signer_clear(&s);
	OPENSSL_free(der);
	/* opaque: one byte of the embedded content */
	der = smime_pki_sign("bob", BODY, clen, 0, &len);
	p = memmem(der, len, "Hello", 5);
	cr_assert_not_null(p);
	p[1] ^= 0x01;
	expect_sig(der, len, NULL, 0, SMIME_SIG_BAD, &s);
	cr_assert_str_eq(s.addr, "bob@smime.example");
	smime_signer_clear(&s);
	OPENSSL_free(der);
	free(changed);
}

Test(smime_verify, malformed)
{
	static const uint8_t garbage[] = { 0x30, 0x82, 0x01, 0x00, 0x06, 0x09, 0x2a, 0x86, 0x48, 'x' };
	size_t len;
	uint8_t *der = smime_pki_sign("alice", BODY, strlen(BODY), 0, &len);
	struct smime_signer s;

	expect_sig(garbage, sizeof(garbage), NULL, 0, SMIME_SIG_MALFORMED, &s);
	cr_assert_null(s.cert);
	smime_signer_clear(&s);
	expect_sig((const uint8_t *)"", 0, NULL, 0, SMIME_SIG_MALFORMED, &s);
	expect_sig(der, len / 2, NULL, 0, SMIME_SIG_MALFORMED, &s);
	smime_signer_clear(&s);
	OPENSSL_free(der);
}

Test(smime_verify, too_many_certs)
{
	struct smime_limits one = lim;
	size_t len;
	uint8_t *der = smime_pki_sign("alice", BODY, strlen(BODY), 0, &len);
	struct smime_signer s;
	char *why = NULL;

	one.max_certs = 1;
	cr_assert_eq(smime_verify_cms(der, len, NULL, 0, &one, &s, &why), SMIME_SIG_MALFORMED);
	cr_assert_not_null(strstr(why, "more than 1"), "%s", why);
	free(why);
	smime_signer_clear(&s);
	OPENSSL_free(der);
}

/* Signed by the openssl CLI (text mode: LF in the file, CRLF signed); -certfile
 * names the CA only: OpenSSL 3.0 refuses one that repeats the signer. */
static uint8_t *
cli_sign(const char *name, int opaque, size_t *len)
{
	char tmpl[] = "/tmp/smime-cli-XXXXXX", *dir = mkdtemp(tmpl);
	char *crt, *key, *chain, *cmd, *out;
	FILE *fp;
	uint8_t *der = xmalloc(65536);

	cr_assert_not_null(dir);
	crt = smime_pki_path("alice.crt");
	key = smime_pki_path("alice.key");
	chain = smime_pki_path("users.crt");
	(void)name;
	out = xasprintf("%s/in.txt", dir);
	fp = fopen(out, "w");
	fputs("Content-Type: text/plain\n\nHello from the openssl CLI\n", fp);
	fclose(fp);
	cmd = xasprintf("cd %s && openssl cms -sign %s -in in.txt -signer %s -inkey %s -certfile %s "
			"-outform DER -out sig.der 2>/dev/null", dir, opaque ? "-nodetach" : "",
	    crt, key, chain);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	free(out);
	out = xasprintf("%s/sig.der", dir);
	fp = fopen(out, "rb");
	cr_assert_not_null(fp);
	*len = fread(der, 1, 65536, fp);
	fclose(fp);
	free(cmd);
	cmd = xasprintf("rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	free(out);
	free(crt);
	free(key);
	free(chain);
	return der;
}

Test(smime_verify, openssl_cli_signed)
{
	static const char crlf[] = "Content-Type: text/plain\r\n\r\nHello from the openssl CLI\r\n";
	size_t len;
	uint8_t *der = cli_sign("alice", 0, &len);
	struct smime_signer s;

	expect_sig(der, len, crlf, strlen(crlf), SMIME_SIG_OK, &s);
	smime_signer_clear(&s);
	free(der);
	der = cli_sign("alice", 1, &len);
	expect_sig(der, len, NULL, 0, SMIME_SIG_OK, &s);
	cr_assert_str_eq(s.addr, "alice@smime.example");
	smime_signer_clear(&s);
	free(der);
}

/* ------------------------------------------------------------ DANE */

/* A parsed record "usage selector mtype" over the hex in file FILE.spki. */
static void
record(struct tlsa_rr *rr, unsigned u, unsigned sel, unsigned mt, const char *file)
{
	char *rel = xasprintf("%s.spki", file), *hex = smime_pki_line(rel);
	size_t n = strlen(hex) / 2;
	uint8_t *rd = xmalloc(3 + n);

	rd[0] = (uint8_t)u, rd[1] = (uint8_t)sel, rd[2] = (uint8_t)mt;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		cr_assert_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		rd[3 + i] = (uint8_t)v;
	}
	cr_assert_eq(tlsa_parse(rd, 3 + n, rr), 0);
	free(rd);
	free(hex);
	free(rel);
}

/* The signer of a fresh opaque message from user NAME. */
static void
signer_of(const char *name, struct smime_signer *s)
{
	size_t len;
	uint8_t *der = smime_pki_sign(name, BODY, strlen(BODY), 0, &len);

	expect_sig(der, len, NULL, 0, SMIME_SIG_OK, s);
	OPENSSL_free(der);
}

/* Judge user NAME against rr[0..n) for addr: want, and the matched index. */
static void
expect_dane(const char *name, struct tlsa_rr *rr, size_t n, const char *addr,
    enum smime_dane want, int want_matched, const char *want_issuer)
{
	struct smime_signer s;
	X509 *issuer = NULL, *ca;
	char *why = NULL;
	int matched = -2;
	enum smime_dane got;

	signer_of(name, &s);
	got = smime_verify_dane(&s, rr, n, addr, &matched, &issuer, &why);
	cr_assert_eq(got, want, "%s: got %d want %d: %s", name, got, want, why ? why : "-");
	cr_assert((got == SMIME_DANE_MATCH) == (why == NULL), "%s", why ? why : "-");
	cr_assert_eq(matched, got == SMIME_DANE_MATCH ? want_matched : -1);
	if (want_issuer != NULL) {
		ca = smime_pki_cert(want_issuer);
		cr_assert_not_null(issuer);
		cr_assert_eq(X509_cmp(issuer, ca), 0);
		X509_free(ca);
	} else
		cr_assert_null(issuer);
	X509_free(issuer);
	free(why);
	smime_signer_clear(&s);
	for (size_t i = 0; i < n; i++)
		tlsa_rr_clear(&rr[i]);
}

Test(smime_verify, dane_ta_alice)
{
	struct tlsa_rr rr[2];

	record(&rr[0], 2, 1, 1, "users");
	expect_dane("alice", rr, 1, "alice@smime.example", SMIME_DANE_MATCH, 0, "users");
	/* the matched record's index among others */
	record(&rr[0], 3, 1, 1, "other");
	record(&rr[1], 2, 1, 1, "users");
	expect_dane("alice", rr, 2, "alice@smime.example", SMIME_DANE_MATCH, 1, "users");
}

Test(smime_verify, dane_ee_bob)
{
	struct tlsa_rr rr[1];

	record(&rr[0], 3, 1, 1, "bob");
	expect_dane("bob", rr, 1, "bob@smime.example", SMIME_DANE_MATCH, 0, NULL);
}

Test(smime_verify, nomatch)
{
	struct tlsa_rr rr[1];

	record(&rr[0], 2, 1, 1, "users");
	expect_dane("mallory", rr, 1, "mallory@smime.example", SMIME_DANE_NOMATCH, -1, NULL);
	/* erin: her exact-name record names another key; the wildcard matches */
	record(&rr[0], 3, 1, 1, "other");
	expect_dane("erin", rr, 1, "erin@smime.example", SMIME_DANE_NOMATCH, -1, NULL);
	record(&rr[0], 2, 1, 1, "users");
	expect_dane("erin", rr, 1, "erin@smime.example", SMIME_DANE_MATCH, 0, "users");
}

Test(smime_verify, address_mismatch)
{
	struct tlsa_rr rr[1];

	record(&rr[0], 2, 1, 1, "users");
	expect_dane("alice", rr, 1, "bob@smime.example", SMIME_DANE_ADDR_MISMATCH, -1, NULL);
	record(&rr[0], 3, 1, 1, "bob");
	expect_dane("bob", rr, 1, "alice@smime.example", SMIME_DANE_ADDR_MISMATCH, -1, NULL);
}

Test(smime_verify, none_usable)
{
	struct tlsa_rr rr[2];

	record(&rr[0], 1, 1, 1, "alice");
	record(&rr[1], 0, 1, 1, "users");
	expect_dane("alice", rr, 2, "alice@smime.example", SMIME_DANE_NONE_USABLE, -1, NULL);
	expect_dane("alice", rr, 0, "alice@smime.example", SMIME_DANE_NONE_USABLE, -1, NULL);
}

/* ------------------------------------------------------------ owner names */

Test(smime_verify, owner_names)
{
	char *label = smime_pki_line("alice.owner"), *want, *got, *why = NULL;

	cr_assert_str_eq(label, "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db");
	want = xasprintf("%s._smimecert.smime.example.", label);
	got = smime_verify_owner("alice@Smime.Example.", 0, &why);
	cr_assert_str_eq(got, want);
	cr_assert_null(why);
	free(got);
	got = smime_verify_owner("alice@smime.example", 1, &why);
	cr_assert_str_eq(got, "*._smimecert.smime.example.");
	free(got);
	/* the local part as written: case matters */
	got = smime_verify_owner("Alice@smime.example", 0, &why);
	cr_assert_str_neq(got, want);
	free(got);
	got = smime_verify_owner("x@b\xc3\xbc" "cher.example", 1, &why);
	cr_assert_str_eq(got, "*._smimecert.xn--bcher-kva.example.");
	free(got);
	static const char *const bad[] = { "alice", "@smime.example", "alice@", "a@[127.0.0.1]",
		"a@exa mple.org" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_null(smime_verify_owner(bad[i], 0, &why), "%s", bad[i]);
		cr_assert_not_null(why);
		free(why);
		why = NULL;
	}
	free(want);
	free(label);
}
