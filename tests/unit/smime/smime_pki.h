/*
 * smime_pki.h - the S/MIME unit tests' access to the world's S/MIME PKI
 * (WORLD_DIR/pki/smime, tools/mkworld.sh pki_smime, tests/world/README.md):
 * file paths, certificates, keys and small text files, and CMS messages
 * signed in C (CMS_sign) at test time.
 *
 * Every function skips the current criterion test (cr_skip_test) when the
 * world is not available, and fails it when a file is unreadable.
 * Ownership: every returned object or string is the caller's.
 */
#ifndef DANEPOL_TEST_SMIME_PKI_H
#define DANEPOL_TEST_SMIME_PKI_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/** "WORLD_DIR/pki/smime/NAME" (skips the test without a world). */
char *smime_pki_path(const char *name);

/** The certificate NAME.crt. */
X509 *smime_pki_cert(const char *name);

/** The private key NAME.key. */
EVP_PKEY *smime_pki_key(const char *name);

/** The first line of the text file NAME (e.g. "alice.spki"), without the newline. */
char *smime_pki_line(const char *name);

/**
 * Sign content (len bytes) as user NAME (NAME.crt, NAME.key, the CA of
 * NAME-chain.crt included): detached (multipart/signed) or opaque
 * (-nodetach), S/MIME canonical (the content is taken as it is, CRLF).
 * Returns the DER (free with OPENSSL_free()), *der_len set.
 */
uint8_t *smime_pki_sign(const char *name, const char *content, size_t len, int detached,
    size_t *der_len);

#endif
