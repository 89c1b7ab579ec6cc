/*
 * tlsrpt_class.c - OpenSSL verification errors -> RFC 8460 result types
 * (contract in tlsrpt_class.h). The one table; doc/status-codes.md shows
 * it to operators.
 *
 * Derivation (RFC 8460 section 4.3.1, negotiation failures):
 *   certificate-expired        the certificate's validity has ended
 *   certificate-host-mismatch  the certificate does not carry the name
 *                              the policy requires (DANE-TA reference
 *                              names, RFC 7672 section 3.2.2)
 *   certificate-not-trusted    the umbrella for "untrusted/unknown CAs,
 *                              certificate name constraints, certificate
 *                              chain errors": no TLSA record matches, the
 *                              chain cannot be built or its signatures or
 *                              CA constraints fail, the certificate is
 *                              revoked or explicitly untrusted
 *   validation-failure         anything else: not yet valid, wrong
 *                              purpose, errors not in the table
 * The X509_V_ERR_* name is the failure-reason-code.
 */
#include "config.h"

#include <string.h>

#include <openssl/x509_vfy.h>

#include "outcome.h"
#include "tlsrpt_class.h"

#define NOT_TRUSTED "certificate-not-trusted"
#define ROW(e, t) \
	{ \
		e, #e, t \
	}

static const struct tlsrpt_row {
	long err;
	const char *name;
	const char *type;
} rows[] = {
	ROW(X509_V_ERR_CERT_HAS_EXPIRED, "certificate-expired"),
	ROW(X509_V_ERR_HOSTNAME_MISMATCH, "certificate-host-mismatch"),
	ROW(X509_V_ERR_DANE_NO_MATCH, NOT_TRUSTED),
	ROW(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, NOT_TRUSTED),
	ROW(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, NOT_TRUSTED),
	ROW(X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, NOT_TRUSTED),
	ROW(X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE, NOT_TRUSTED),
	ROW(X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY, NOT_TRUSTED),
	ROW(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, NOT_TRUSTED),
	ROW(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, NOT_TRUSTED),
	ROW(X509_V_ERR_CERT_SIGNATURE_FAILURE, NOT_TRUSTED),
	ROW(X509_V_ERR_CERT_CHAIN_TOO_LONG, NOT_TRUSTED),
	ROW(X509_V_ERR_CERT_REVOKED, NOT_TRUSTED),
	ROW(X509_V_ERR_INVALID_CA, NOT_TRUSTED),
	ROW(X509_V_ERR_PATH_LENGTH_EXCEEDED, NOT_TRUSTED),
	ROW(X509_V_ERR_CERT_UNTRUSTED, NOT_TRUSTED),
	ROW(X509_V_ERR_CERT_REJECTED, NOT_TRUSTED),
	ROW(X509_V_ERR_PERMITTED_VIOLATION, NOT_TRUSTED),
	ROW(X509_V_ERR_EXCLUDED_VIOLATION, NOT_TRUSTED),
	ROW(X509_V_ERR_CERT_NOT_YET_VALID, "validation-failure"),
	ROW(X509_V_ERR_INVALID_PURPOSE, "validation-failure"),
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static const struct tlsrpt_row *
find(long err)
{
	for (size_t i = 0; i < NROWS; i++)
		if (rows[i].err == err)
			return &rows[i];
	return NULL;
}

const char *
tlsrpt_class_x509(long err)
{
	const struct tlsrpt_row *r = find(err);

	return r ? r->type : "validation-failure";
}

const char *
tlsrpt_class_x509_name(long err)
{
	const struct tlsrpt_row *r = find(err);

	return r ? r->name : NULL;
}

const char *
tlsrpt_class_text(const char *text, int *known)
{
	const char *t = outcome_result_type(text);

	if (known)
		*known = t != NULL;
	if (t != NULL)
		return t;
	for (size_t i = 0; text && i < NROWS; i++) {
		size_t n = strlen(rows[i].name);

		/* the name alone, or followed by ": text" / " text" */
		if (strncmp(text, rows[i].name, n) == 0 &&
		    (text[n] == 0 || text[n] == ':' || text[n] == ' '))
			return rows[i].type;
	}
	return "validation-failure";
}

size_t
tlsrpt_class_count(void)
{
	return NROWS;
}

int
tlsrpt_class_row(size_t i, long *err, const char **name, const char **type)
{
	if (i >= NROWS)
		return -1;
	*err = rows[i].err;
	*name = rows[i].name;
	*type = rows[i].type;
	return 0;
}
