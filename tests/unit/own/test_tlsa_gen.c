/*
 * test_tlsa_gen.c - own/tlsa_gen.c: association data against the
 * openssl(1) pipeline's values for the offline world's PKI
 * (`openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256`,
 * and mkworld.sh's WORLD_DIR/pki/NAME.spki), the issuer from the chain or
 * a CA store, and owner names.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "certload.h"
#include "mem.h"
#include "pki.h"
#include "tlsa_gen.h"

/* The first line of a shell pipeline's output, upper-cased (caller frees). */
static char *
run(const char *pre, const char *arg, const char *post)
{
	char *cmd = xasprintf("%s'%s'%s", pre, arg, post), line[4096];
	FILE *f = popen(cmd, "r");
	char *s;

	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof(line), f), "%s: no output", cmd);
	pclose(f);
	free(cmd);
	line[strcspn(line, " \r\n")] = 0;
	for (s = line; *s; s++)
		*s = (char)toupper((unsigned char)*s);
	return xstrdup(line);
}

static void
load(const char *name, struct certload *c)
{
	char *p = test_pki(name), *err = NULL;

	cr_assert_eq(certload_file(p, c, &err), 0, "%s", err ? err : "");
	free(p);
}

static void
expect_data(char *got, unsigned sel, unsigned mt, char *hex)
{
	char *want = xasprintf("%u %u %s", sel, mt, hex);

	cr_assert_not_null(got);
	cr_expect_str_eq(got, want);
	free(want);
	free(got);
	free(hex);
}

#define SPKI "openssl x509 -in ", p, " -noout -pubkey | openssl pkey -pubin -outform DER"
#define CERT "openssl x509 -in ", p, " -outform DER"

Test(tlsa_gen, against_openssl)
{
	static const char *const names[] = { "ee.crt", "ca.crt", "ss.crt", "probe.crt", "expired.crt" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *p = test_pki(names[i]);
		struct certload c;

		load(names[i], &c);
		expect_data(tlsa_gen_cert(c.cert[0], 1, 1), 1, 1, run(SPKI " | sha256sum"));
		expect_data(tlsa_gen_cert(c.cert[0], 1, 2), 1, 2, run(SPKI " | sha512sum"));
		expect_data(tlsa_gen_cert(c.cert[0], 0, 1), 0, 1, run(CERT " | sha256sum"));
		expect_data(tlsa_gen_cert(c.cert[0], 0, 2), 0, 2, run(CERT " | sha512sum"));
		expect_data(tlsa_gen_cert(c.cert[0], 1, 0), 1, 0, run(SPKI " | od -An -v -tx1 | tr -d ' \\n'"));
		expect_data(tlsa_gen_key(c.key, 1), 1, 1, run(SPKI " | sha256sum"));
		certload_clear(&c);
		free(p);
	}
}

Test(tlsa_gen, matches_world_spki_files)
{
	static const char *const names[] = { "ee", "ca", "ss", "probe", "expired" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *crt = xasprintf("%s.crt", names[i]), *spki = xasprintf("%s.spki", names[i]);
		char *sp = test_pki(spki);
		struct certload c;

		load(crt, &c);
		expect_data(tlsa_gen_cert(c.cert[0], 1, 1), 1, 1, run("cat ", sp, ""));
		certload_clear(&c);
		free(crt), free(spki), free(sp);
	}
}

Test(tlsa_gen, private_key_gives_its_public_half)
{
	struct certload k, c;

	load("ee.key", &k);
	load("ee.crt", &c);
	cr_assert_eq(k.key_only, 1);
	{
		char *a = tlsa_gen_key(k.key, 1), *b = tlsa_gen_cert(c.cert[0], 1, 1);

		cr_expect_str_eq(a, b);
		free(a), free(b);
	}
	cr_expect_null(tlsa_gen_key(NULL, 1));
	cr_expect_null(tlsa_gen_key(k.key, 3));
	cr_expect_null(tlsa_gen_cert(c.cert[0], 2, 1));
	certload_clear(&k);
	certload_clear(&c);
}

Test(tlsa_gen, issuer_in_chain_or_store)
{
	struct certload chain, leaf, ss, ca;
	char *capath = test_pki("ca.crt"), *err = NULL;
	X509_STORE *st;
	X509 *iss;
	int in_chain = -1;

	load("ee-chain.crt", &chain);
	load("ee.crt", &leaf);
	load("ss.crt", &ss);
	load("ca.crt", &ca);
	iss = tlsa_gen_issuer(chain.cert, chain.ncert, NULL, &in_chain);
	cr_assert_not_null(iss);
	cr_expect_eq(in_chain, 1);
	cr_expect_eq(X509_cmp(iss, ca.cert[0]), 0);
	X509_free(iss);
	/* leaf alone: not known without a store, found in a store holding the CA */
	cr_expect_null(tlsa_gen_issuer(leaf.cert, leaf.ncert, NULL, &in_chain));
	st = tlsa_gen_store(capath, &err);
	cr_assert_not_null(st, "%s", err ? err : "");
	iss = tlsa_gen_issuer(leaf.cert, leaf.ncert, st, &in_chain);
	cr_assert_not_null(iss);
	cr_expect_eq(in_chain, 0);
	cr_expect_eq(X509_cmp(iss, ca.cert[0]), 0);
	X509_free(iss);
	/* self-signed: no issuer to publish */
	cr_expect_null(tlsa_gen_issuer(ss.cert, ss.ncert, st, &in_chain));
	/* the system store does not know the test CA */
	X509_STORE_free(st);
	st = tlsa_gen_store(NULL, &err);
	cr_assert_not_null(st);
	cr_expect_null(tlsa_gen_issuer(leaf.cert, leaf.ncert, st, &in_chain));
	X509_STORE_free(st);
	cr_expect_null(tlsa_gen_store("/nonexistent/ca.pem", &err));
	cr_expect_not_null(err);
	free(err);
	certload_clear(&chain), certload_clear(&leaf), certload_clear(&ss), certload_clear(&ca);
	free(capath);
}

Test(tlsa_gen, owner_names)
{
	char *err = NULL, *o;

	o = tlsa_gen_owner("MX1.Example.ORG.", 25, &err);
	cr_expect_str_eq(o, "_25._tcp.mx1.example.org.");
	free(o);
	o = tlsa_gen_owner("bücher.example", 465, &err);
	cr_expect_str_eq(o, "_465._tcp.xn--bcher-kva.example.");
	free(o);
	cr_expect_null(tlsa_gen_owner("bad..name", 25, &err));
	cr_expect_not_null(err);
	free(err);
	cr_expect_null(tlsa_gen_owner("[192.0.2.1]", 25, &err));
	free(err);
	cr_expect_null(tlsa_gen_owner("", 25, &err));
	free(err);
	cr_expect_null(tlsa_gen_owner("mx.example", 0, &err));
	free(err);
}
