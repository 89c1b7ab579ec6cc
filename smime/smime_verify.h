/*
 * smime_verify.h - the CMS signature of an S/MIME entity (OpenSSL's CMS
 * API) and the signer's chain against SMIMEA records (RFC 8162, usages
 * 2 and 3 only, through OpenSSL's DANE verification: never hand-rolled
 * matching).
 *
 * smime_verify_cms(): d2i the DER, require signed-data, at most
 * lim->max_certs certificates, exactly the signatures verifying
 * (CMS_verify with CMS_NO_SIGNER_CERT_VERIFY: the chain is judged by DANE
 * below, not by a PKIX store); detached content for multipart/signed.
 * The first signer is the one judged.
 *
 * smime_verify_dane(): the signer's certificate and the CMS certificates
 * as the untrusted chain; the usable records (dns/tlsa.h's tlsa_select())
 * given to OpenSSL's DANE support; the identity checked is the e-mail
 * address (X509_VERIFY_PARAM_set1_email: subjectAltName rfc822Name, or the
 * subject's emailAddress), purpose S/MIME signing.
 *
 * Ownership: struct smime_signer owns its objects (smime_signer_clear()).
 * Threads: no shared state.
 */
#ifndef DANEPOL_SMIME_VERIFY_H
#define DANEPOL_SMIME_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "smime.h"
#include "tlsa.h"

enum smime_sig {
	SMIME_SIG_OK,	     /* the signature verifies over the content */
	SMIME_SIG_BAD,	     /* it does not: the content or the signature was changed */
	SMIME_SIG_MALFORMED, /* not a signed-data CMS structure, no signer, over a limit */
};

struct smime_signer {
	X509 *cert;		/* the first signer's certificate (own reference) */
	STACK_OF(X509) *certs;	/* every certificate of the CMS structure (own) */
	char *addr;		/* its first e-mail address (SAN rfc822Name, else emailAddress), or NULL */
	char *serial;		/* serial number, upper-case hex */
	char *issuer;		/* issuer name, RFC 2253 */
};

/**
 * Verify the CMS structure cms (DER). content/content_len: the detached
 * content (multipart/signed: the first part exactly as transmitted, its
 * headers included; CRLF, or LF which is then verified once more in CRLF
 * form), or NULL for opaque signed-data. Fills *s
 * (zeroed first) when a signer certificate was found, whatever the
 * result; *why (caller frees) says what failed.
 */
enum smime_sig smime_verify_cms(const uint8_t *cms, size_t cms_len, const char *content,
    size_t content_len, const struct smime_limits *lim, struct smime_signer *s, char **why);

enum smime_dane {
	SMIME_DANE_MATCH,	 /* a record matched and the chain verified, address included */
	SMIME_DANE_NOMATCH,	 /* no record matched the chain (or the chain did not verify) */
	SMIME_DANE_ADDR_MISMATCH, /* matched, but the certificate is not for addr */
	SMIME_DANE_NONE_USABLE,	 /* no usage 2/3 record usable (tlsa_select() kept none) */
};

/**
 * Judge the signer s against the n records rr for the address addr
 * (the From: address). On MATCH, *matched is the index in rr of the record
 * that matched (when OpenSSL tells; else -1) and *issuer the signer's
 * issuer certificate from the verified chain (own reference, NULL for a
 * DANE-EE match with no chain), for OCSP. *why (caller frees) on anything
 * else. A DANE-EE match skips expiry and purpose checks (RFC 7671 5.1)
 * but not the address check.
 */
enum smime_dane smime_verify_dane(const struct smime_signer *s, const struct tlsa_rr *rr,
    size_t n, const char *addr, int *matched, X509 **issuer, char **why);

/** Free s's objects and zero it. NULL-safe. */
void smime_signer_clear(struct smime_signer *s);

/**
 * The SMIMEA owner name of addr (RFC 8162 section 3): the SHA2-256 of the
 * local part (as written, UTF-8), its first 28 octets in lower-case hex,
 * then "._smimecert." and the domain (canonical: lower case, A-labels, a
 * trailing dot). wildcard: "*._smimecert.DOMAIN." instead. NULL with *why
 * (caller frees) for an address without '@' or with an invalid domain.
 */
char *smime_verify_owner(const char *addr, int wildcard, char **why);

#endif
