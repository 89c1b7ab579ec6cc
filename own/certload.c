/*
 * certload.c - certificates and keys from operator files (certload.h).
 *
 * PEM: every block is read with PEM_read_bio() and dispatched on its
 * name to the matching d2i_* decoder (the same ones PEM_read_bio_X509,
 * PEM_read_bio_PrivateKey and PEM_read_bio_PUBKEY use); blocks of other
 * kinds are skipped and named in the error when nothing usable is left.
 * DER: one certificate, private key or public key that must use up the
 * whole input. A file is checked against CERTLOAD_MAX_FILE with fstat()
 * before it is read, and never more than CERTLOAD_MAX_FILE + 1 octets of
 * it are read (it may grow in between).
 *
 * Ownership and threads: see certload.h. OpenSSL's error queue is
 * cleared on the way out, so a caller's later ERR_get_error() does not
 * see our failed attempts.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "buf.h"
#include "mem.h"
#include "certload.h"

/* The last OpenSSL error's reason, for messages ("unknown" when none). */
static const char *
ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : "unknown error";
}

static void
set_err(char **err, const char *name, const char *what)
{
	if (err != NULL)
		*err = xasprintf("%s: %s", name, what);
}

/* The public half of k only (a new key), so that no private key outlives the load. */
static EVP_PKEY *
public_half(EVP_PKEY *k)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pub = NULL;
	int n;

	n = i2d_PUBKEY(k, &der);
	if (n > 0) {
		p = der;
		pub = d2i_PUBKEY(NULL, &p, n);
	}
	OPENSSL_free(der);
	return pub;
}

/* What the PEM pass found besides certificates. */
struct pem_state {
	EVP_PKEY *priv;
	EVP_PKEY *pub;
	struct buf other; /* names of skipped blocks, ", "-separated */
	int nother;
};

static int
is_cert_name(const char *n)
{
	return strcmp(n, PEM_STRING_X509) == 0 || strcmp(n, PEM_STRING_X509_OLD) == 0 ||
	    strcmp(n, PEM_STRING_X509_TRUSTED) == 0;
}

static int
is_priv_name(const char *n)
{
	return strcmp(n, PEM_STRING_PKCS8INF) == 0 || strcmp(n, PEM_STRING_RSA) == 0 ||
	    strcmp(n, PEM_STRING_ECPRIVATEKEY) == 0 || strcmp(n, PEM_STRING_DSA) == 0 ||
	    strcmp(n, "OPENSSH PRIVATE KEY") == 0 || strcmp(n, PEM_STRING_PKCS8) == 0;
}

/* One PEM block: returns 0, or -1 with *err. */
static int
pem_block(const char *name, const char *pname, const char *header, const unsigned char *der,
    long len, unsigned blockno, struct certload *out, struct pem_state *st, char **err)
{
	const unsigned char *p = der;
	char *msg;

	if (is_cert_name(pname)) {
		X509 *x;

		if (out->ncert == CERTLOAD_MAX_CERTS) {
			msg = xasprintf("more than %d certificates: give the server's chain "
					"(leaf first), not a CA bundle",
			    CERTLOAD_MAX_CERTS);
			set_err(err, name, msg);
			free(msg);
			return -1;
		}
		if (strcmp(pname, PEM_STRING_X509_TRUSTED) == 0)
			x = d2i_X509_AUX(NULL, &p, len);
		else
			x = d2i_X509(NULL, &p, len);
		if (x == NULL) {
			msg = xasprintf("PEM block %u (%s) is not a valid certificate (%s): "
					"replace the file with the certificate as issued",
			    blockno, pname, ossl_reason());
			set_err(err, name, msg);
			free(msg);
			return -1;
		}
		out->cert[out->ncert++] = x;
		return 0;
	}
	if (is_priv_name(pname)) {
		EVP_PKEY *k = NULL;

		if (strcmp(pname, PEM_STRING_PKCS8) == 0 || strstr(header, "ENCRYPTED") != NULL) {
			msg = xasprintf("PEM block %u is an encrypted private key: give the "
					"certificate or the public key instead",
			    blockno);
			set_err(err, name, msg);
			free(msg);
			return -1;
		}
		if (strcmp(pname, "OPENSSH PRIVATE KEY") == 0) {
			set_err(err, name,
			    "an OpenSSH private key, not an X.509 one: give the TLS "
			    "certificate or key");
			return -1;
		}
		if (st->priv != NULL) {
			set_err(err, name,
			    "more than one private key: give one key (the one of the "
			    "first certificate)");
			return -1;
		}
		if (strcmp(pname, PEM_STRING_RSA) == 0)
			k = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, len);
		else if (strcmp(pname, PEM_STRING_ECPRIVATEKEY) == 0)
			k = d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, len);
		else if (strcmp(pname, PEM_STRING_DSA) == 0)
			k = d2i_PrivateKey(EVP_PKEY_DSA, NULL, &p, len);
		else
			k = d2i_AutoPrivateKey(NULL, &p, len);
		if (k == NULL) {
			msg = xasprintf("PEM block %u (%s) is not a valid private key (%s)",
			    blockno, pname, ossl_reason());
			set_err(err, name, msg);
			free(msg);
			return -1;
		}
		st->priv = k;
		return 0;
	}
	if (strcmp(pname, PEM_STRING_PUBLIC) == 0 || strcmp(pname, PEM_STRING_RSA_PUBLIC) == 0) {
		EVP_PKEY *k;

		if (st->pub != NULL) {
			set_err(err, name, "more than one public key: give one key");
			return -1;
		}
		if (strcmp(pname, PEM_STRING_PUBLIC) == 0)
			k = d2i_PUBKEY(NULL, &p, len);
		else
			k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
		if (k == NULL) {
			msg = xasprintf("PEM block %u (%s) is not a valid public key (%s)", blockno,
			    pname, ossl_reason());
			set_err(err, name, msg);
			free(msg);
			return -1;
		}
		st->pub = k;
		return 0;
	}
	/* another kind (CRL, request, parameters, ...): skipped, but named */
	if (st->nother < 8) {
		char safe[64];
		size_t i;

		for (i = 0; pname[i] != 0 && i < sizeof(safe) - 1; i++)
			safe[i] = (pname[i] >= 0x20 && pname[i] < 0x7f) ? pname[i] : '?';
		safe[i] = 0;
		buf_printf(&st->other, "%s%s", st->nother ? ", " : "", safe);
	}
	st->nother++;
	return 0;
}

/* All PEM blocks of data: 0, or -1 with *err. */
static int
load_pem(const uint8_t *data, size_t len, const char *name, struct certload *out,
    struct pem_state *st, char **err)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	unsigned blockno = 0;
	int rc = -1;

	if (bio == NULL) {
		set_err(err, name, "out of memory");
		return -1;
	}
	for (;;) {
		char *pname = NULL, *header = NULL;
		unsigned char *der = NULL;
		long dlen = 0;
		int r;

		ERR_clear_error();
		if (!PEM_read_bio(bio, &pname, &header, &der, &dlen)) {
			unsigned long e = ERR_peek_last_error();

			if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
				rc = 0; /* no further block */
			} else {
				char *msg = xasprintf("PEM block %u is broken (%s): the file is "
						      "damaged or not a certificate or key file",
				    blockno + 1, ossl_reason());

				set_err(err, name, msg);
				free(msg);
			}
			break;
		}
		blockno++;
		r = pem_block(name, pname, header, der, dlen, blockno, out, st, err);
		OPENSSL_free(pname);
		OPENSSL_free(header);
		OPENSSL_free(der);
		if (r < 0)
			break;
	}
	BIO_free(bio);
	return rc;
}

/* One DER object using up all of data: 0, or -1 with *err. */
static int
load_der(const uint8_t *data, size_t len, const char *name, struct certload *out,
    struct pem_state *st, char **err)
{
	const unsigned char *p;
	long n = (long)len;
	X509 *x;
	EVP_PKEY *k;

	p = data;
	x = d2i_X509(NULL, &p, n);
	if (x != NULL && p == data + len) {
		out->cert[out->ncert++] = x;
		return 0;
	}
	X509_free(x);
	p = data;
	k = d2i_AutoPrivateKey(NULL, &p, n);
	if (k != NULL && p == data + len) {
		st->priv = k;
		return 0;
	}
	EVP_PKEY_free(k);
	p = data;
	k = d2i_PUBKEY(NULL, &p, n);
	if (k != NULL && p == data + len) {
		st->pub = k;
		return 0;
	}
	EVP_PKEY_free(k);
	set_err(err, name,
	    "neither PEM nor a DER certificate or key: give the certificate chain "
	    "(PEM, leaf first), a DER certificate, or a key file");
	return -1;
}

static int
has_pem_marker(const uint8_t *data, size_t len)
{
	static const char m[] = "-----BEGIN ";

	return memmem(data, len, m, sizeof(m) - 1) != NULL;
}

int
certload_mem(const uint8_t *data, size_t len, const char *name, struct certload *out, char **err)
{
	struct pem_state st;
	char *msg;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	buf_init(&st.other);
	if (err != NULL)
		*err = NULL;
	if (name == NULL)
		name = "(input)";
	if (len > CERTLOAD_MAX_FILE) {
		msg = xasprintf("too large (%zu octets, at most %d): give the certificate "
				"chain or key file, not a bundle or archive",
		    len, CERTLOAD_MAX_FILE);
		set_err(err, name, msg);
		free(msg);
		goto out;
	}
	if (len == 0) {
		set_err(err, name, "empty file: expected a PEM or DER certificate, chain or key");
		goto out;
	}
	if (has_pem_marker(data, len)) {
		if (load_pem(data, len, name, out, &st, err) < 0)
			goto out;
	} else if (load_der(data, len, name, out, &st, err) < 0) {
		goto out;
	}
	if (out->ncert == 0 && st.priv == NULL && st.pub == NULL) {
		if (st.nother > 0)
			msg = xasprintf("no certificate or key, only other PEM blocks (%s%s): "
					"give the certificate chain or key file",
			    st.other.s, st.nother > 8 ? ", ..." : "");
		else
			msg = xstrdup("no PEM certificate or key in the file: give the "
				      "certificate chain (PEM, leaf first) or a key file");
		set_err(err, name, msg);
		free(msg);
		goto out;
	}
	if (out->ncert > 0) {
		if (st.priv != NULL) {
			ERR_clear_error();
			if (X509_check_private_key(out->cert[0], st.priv) != 1) {
				set_err(err, name,
				    "the private key does not belong to the first certificate: "
				    "put the key of the leaf certificate in the file (or the "
				    "leaf certificate first)");
				goto out;
			}
			out->has_private = 1;
		}
		if (st.pub != NULL && EVP_PKEY_eq(X509_get0_pubkey(out->cert[0]), st.pub) != 1) {
			set_err(err, name,
			    "the public key does not belong to the first certificate: "
			    "give the leaf certificate's key");
			goto out;
		}
		out->key = X509_get_pubkey(out->cert[0]);
		if (out->key == NULL) {
			set_err(err, name,
			    "the first certificate's public key cannot be read: "
			    "replace the certificate");
			goto out;
		}
	} else {
		if (st.priv != NULL && st.pub != NULL && EVP_PKEY_eq(st.priv, st.pub) != 1) {
			set_err(err, name,
			    "the public key does not belong to the private key: give one key");
			goto out;
		}
		out->has_private = st.priv != NULL;
		out->key = public_half(st.priv != NULL ? st.priv : st.pub);
		out->key_only = 1;
		if (out->key == NULL) {
			set_err(err, name, "the key's public half cannot be encoded");
			goto out;
		}
	}
	rc = 0;
out:
	EVP_PKEY_free(st.priv);
	EVP_PKEY_free(st.pub);
	buf_free(&st.other);
	if (rc < 0) {
		certload_clear(out);
		if (err != NULL && *err == NULL)
			set_err(err, name, "cannot be loaded");
	}
	ERR_clear_error();
	return rc;
}

int
certload_file(const char *path, struct certload *out, char **err)
{
	struct stat sb;
	uint8_t *data = NULL;
	size_t got = 0;
	char *msg;
	int fd, rc = -1;

	memset(out, 0, sizeof(*out));
	if (err != NULL)
		*err = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		msg = xasprintf("%s: check the path and its permissions", strerror(errno));
		set_err(err, path, msg);
		free(msg);
		return -1;
	}
	if (fstat(fd, &sb) < 0) {
		set_err(err, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		set_err(err, path, "not a regular file: give the certificate or key file");
		goto out;
	}
	if (sb.st_size > CERTLOAD_MAX_FILE) {
		msg = xasprintf("too large (%lld octets, at most %d): give the certificate "
				"chain or key file, not a bundle or archive",
		    (long long)sb.st_size, CERTLOAD_MAX_FILE);
		set_err(err, path, msg);
		free(msg);
		goto out;
	}
	data = xmalloc((size_t)CERTLOAD_MAX_FILE + 1);
	while (got < (size_t)CERTLOAD_MAX_FILE + 1) {
		ssize_t n = read(fd, data + got, (size_t)CERTLOAD_MAX_FILE + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			msg = xasprintf("%s: check the file", strerror(errno));
			set_err(err, path, msg);
			free(msg);
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	/* certload_mem() refuses more than CERTLOAD_MAX_FILE (a file that grew) */
	rc = certload_mem(data, got, path, out, err);
out:
	free(data);
	close(fd);
	return rc;
}

void
certload_clear(struct certload *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ncert; i++)
		X509_free(c->cert[i]);
	EVP_PKEY_free(c->key);
	memset(c, 0, sizeof(*c));
}

char *
certload_subject(X509 *x)
{
	X509_NAME *nm = x ? X509_get_subject_name(x) : NULL;
	char *s, *r;

	if (nm == NULL || X509_NAME_entry_count(nm) == 0)
		return xstrdup("(no subject)");
	s = X509_NAME_oneline(nm, NULL, 0);
	if (s == NULL)
		return xstrdup("(no subject)");
	r = xstrdup(s);
	OPENSSL_free(s);
	for (char *p = r; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return r;
}

int64_t
certload_not_after(X509 *x)
{
	const ASN1_TIME *t = x ? X509_get0_notAfter(x) : NULL;
	struct tm tm;

	if (t == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}
