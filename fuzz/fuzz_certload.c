/*
 * fuzz_certload.c - libFuzzer target: certificate and key files of the
 * operator (own/certload.h certload_mem, certload_subject,
 * certload_not_after).
 *
 * Input: the file's octets, any length (PEM with any mix of blocks, DER,
 * garbage).
 * Properties checked (abort = bug in danepol):
 *   - -1 comes with an error that starts with the name given and a
 *     zeroed struct (no certificate, no key); 0 comes with no error;
 *   - on success: 1..CERTLOAD_MAX_CERTS certificates (every slot set), or
 *     none and key_only; the key is set and, with certificates, equals
 *     the leaf's public key; has_private only when a key was in the file;
 *   - certload_subject() of every certificate is printable ASCII;
 *   - certload_clear() leaves a zeroed struct (and twice is harmless).
 */
#include "config.h"

#include <string.h>

#include "certload.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy: ASan then sees any read past the input */
	uint8_t *d = malloc(size ? size : 1);
	struct certload c, zero;
	char *err = NULL;
	int rc;

	if (d == NULL)
		abort();
	memcpy(d, data, size);
	memset(&zero, 0, sizeof(zero));
	rc = certload_mem(d, size, "fuzz.pem", &c, &err);
	if (rc < 0) {
		FUZZ_CHECK(err != NULL && strncmp(err, "fuzz.pem: ", 10) == 0);
		FUZZ_CHECK(memcmp(&c, &zero, sizeof(c)) == 0);
		free(err);
		goto out;
	}
	FUZZ_CHECK(rc == 0 && err == NULL);
	FUZZ_CHECK(c.ncert <= CERTLOAD_MAX_CERTS);
	FUZZ_CHECK(c.key != NULL);
	FUZZ_CHECK(c.ncert > 0 ? !c.key_only : c.key_only);
	for (size_t i = 0; i < c.ncert; i++) {
		char *s;

		FUZZ_CHECK(c.cert[i] != NULL);
		s = certload_subject(c.cert[i]);
		FUZZ_CHECK(s != NULL && *s != 0);
		for (const char *p = s; *p; p++)
			FUZZ_CHECK(*p >= 0x20 && *p < 0x7f);
		free(s);
		(void)certload_not_after(c.cert[i]);
	}
	if (c.ncert > 0)
		FUZZ_CHECK(EVP_PKEY_eq(c.key, X509_get0_pubkey(c.cert[0])) == 1);
	certload_clear(&c);
	FUZZ_CHECK(memcmp(&c, &zero, sizeof(c)) == 0);
	certload_clear(&c);
out:
	free(d);
	return 0;
}
