/*
 * tlsa_gen.h - TLSA association data from certificates and keys (RFC 6698
 * section 2.1), and the records an operator publishes for the names of
 * its MX hosts (RFC 7672 section 3.1, RFC 7671).
 *
 * Digests are OpenSSL's (EVP_Digest over i2d_X509 / i2d_PUBKEY, SHA2-256
 * and SHA2-512); nothing is hand-rolled. The issuing CA of a chain for a
 * "2 1 1" record is the chain's own next certificate when it is there,
 * else the issuer found in a CA store (X509_STORE, the system's or a file
 * given by the operator) - in which case the record is still given, with
 * a warning that the server must send that CA in its chain.
 *
 * Ownership: every returned string and struct is the caller's. Thread
 * safety: no shared state.
 */
#ifndef DANEPOL_TLSA_GEN_H
#define DANEPOL_TLSA_GEN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/**
 * "S M HEX" data of a record (HEX upper case, no spaces: the form
 * dns/tlsa.h's tlsa_to_string() gives after "U ") for a certificate
 * (selector 0: the DER certificate; selector 1: its SubjectPublicKeyInfo)
 * with matching type 0 (full), 1 (SHA2-256) or 2 (SHA2-512). Returns a
 * string the caller frees, or NULL on an OpenSSL failure.
 */
char *tlsa_gen_cert(X509 *x, unsigned selector, unsigned mtype);

/** The same for a bare public key (selector 1 only: there is no certificate). */
char *tlsa_gen_key(EVP_PKEY *k, unsigned mtype);

/**
 * The issuing CA of the leaf chain[0]: chain[1] when it issued chain[0] (X509_check_issued),
 * else a CA found in store for chain[0] (NULL store: none). Sets
 * *in_chain to 1 when it came from the chain. Returns a new reference
 * (X509_free) or NULL when no issuer is known (a self-signed leaf, or an
 * issuer in neither place).
 */
X509 *tlsa_gen_issuer(X509 *const *chain, size_t n, X509_STORE *store, int *in_chain);

/**
 * A CA store for tlsa_gen_issuer(): the PEM bundle or hashed directory
 * at path, or OpenSSL's default paths (the system CA store) when path is
 * NULL. Returns NULL with *err on failure. X509_STORE_free() it.
 */
X509_STORE *tlsa_gen_store(const char *path, char **err);

/**
 * The owner name of the TLSA RRset of an MX host: "_PORT._tcp.HOST." with
 * HOST canonical (lower case A-labels, one trailing dot). NULL with *err
 * for a host that is not a valid domain name. Caller frees.
 */
char *tlsa_gen_owner(const char *host, unsigned port, char **err);

#endif
