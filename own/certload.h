/*
 * certload.h - certificates and keys from operator files, for the
 * operator's own DANE (danepol tlsa, selfcheck, rollover).
 *
 * One loader for every such file: a PEM file holding any mix of
 * certificates (a chain, leaf first, as Postfix's smtpd_tls_cert_file and
 * smtpd_tls_chain_files and Exim's tls_certificate hold them), private
 * keys and public keys, or one DER certificate, private key or public key.
 * Parsing goes through OpenSSL (PEM_read_bio_* / d2i_*), never our own
 * ASN.1.
 *
 * Hostile input gets a clear error and never a crash: a file larger than
 * CERTLOAD_MAX_FILE (checked before it is read in full), more than
 * CERTLOAD_MAX_CERTS certificates, garbage, an empty file, PEM blocks of
 * other kinds (they are named in the error when nothing usable is found),
 * a private key that does not belong to the first certificate. Errors
 * name the file and say what to do.
 *
 * Ownership: certload_file()/certload_mem() fill a struct certload the
 * caller owns and releases with certload_clear() (it owns every X509 and
 * EVP_PKEY in it). Thread safety: no shared state.
 */
#ifndef DANEPOL_CERTLOAD_H
#define DANEPOL_CERTLOAD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define CERTLOAD_MAX_FILE  (1024 * 1024) /* octets: a chain is a few KB */
#define CERTLOAD_MAX_CERTS 16

struct certload {
	X509 *cert[CERTLOAD_MAX_CERTS]; /* in file order: cert[0] is the leaf */
	size_t ncert;
	EVP_PKEY *key; /* the public key of the leaf, or of the key in the file
			* when there is no certificate (a private key file's
			* public half; a public key file's key); NULL when none */
	int has_private; /* the file held a private key */
	int key_only;	 /* the file held no certificate, only a key */
};

/**
 * Read PATH (PEM or DER, see above) into *out (zeroed first). Returns 0,
 * or -1 with *err (caller frees): "PATH: ..." and what to do. A PEM file
 * with a private key and certificates must have the key of cert[0]
 * (X509_check_private_key), else -1.
 */
int certload_file(const char *path, struct certload *out, char **err);

/** The same over len octets of memory; name is used in errors. Fuzz entry point. */
int certload_mem(const uint8_t *data, size_t len, const char *name, struct certload *out,
    char **err);

/** Free everything in c and zero it. NULL-safe. */
void certload_clear(struct certload *c);

/**
 * One line naming a certificate for humans and JSON: its subject (one
 * line, printable ASCII), or "(no subject)". Caller frees.
 */
char *certload_subject(X509 *x);

/** notAfter of x as Unix seconds (0 when it cannot be read). */
int64_t certload_not_after(X509 *x);

#endif
