/*
 * smime_ar.c - the S/MIME check's report as an Authentication-Results
 * field value (RFC 8601 section 2.2, method "smime" and ptype "smime" of
 * RFC 7281) and as JSON (contract in smime.h).
 *
 * Everything in the field but the fixed words comes from the message (an
 * address, an issuer name, a reason quoting them), so every value goes
 * through one writer: a token when it is one (RFC 2045 token characters,
 * and '@' '.' for an address), else a quoted-string with '"' and '\'
 * escaped; bytes outside printable ASCII become '?'; each value is cut at
 * SMIME_AR_VALUE_MAX. The resinfo is folded with "\n\t" between its
 * parts, libmilter's continuation form.
 *
 * Threads: no shared state. Results are the caller's.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "buf.h"
#include "mem.h"
#include "smime.h"
#include "smime_util.h"

#define SMIME_AR_VALUE_MAX 200 /* characters of one value kept */

/* RFC 2045 token character (plus '@' and '.', which an addr-spec pvalue allows) */
static int
ar_token_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("()<>,;:\\\"/[]?=", ch);
}

/* Append v as a pvalue: a token if it is one, else a quoted-string. */
static void
ar_value(struct buf *b, const char *v)
{
	size_t n = strlen(v), cut = n > SMIME_AR_VALUE_MAX ? SMIME_AR_VALUE_MAX : n;
	int token = cut > 0 && cut == n; /* a cut value is quoted, with "..." */

	for (size_t i = 0; i < cut && token; i++)
		token = ar_token_char((unsigned char)v[i]);
	if (token) {
		buf_append(b, v, cut);
		return;
	}
	buf_putc(b, '"');
	for (size_t i = 0; i < cut; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch == '"' || ch == '\\')
			buf_putc(b, '\\');
		buf_putc(b, ch >= 0x20 && ch < 0x7f ? ch : '?');
	}
	if (cut < n)
		buf_puts(b, "...");
	buf_putc(b, '"');
}

/* "\n\tsmime.NAME=VALUE" when v is known and not empty */
static void
ar_prop(struct buf *b, const char *name, const char *v)
{
	if (v == NULL || *v == 0)
		return;
	buf_printf(b, "\n\tsmime.%s=", name);
	ar_value(b, v);
}

char *
smime_ar_value(const char *authserv_id, const struct smime_report *rep)
{
	struct buf b;
	char *s;

	buf_init(&b);
	for (const char *p = authserv_id; *p; p++) /* a token: our own configuration */
		buf_putc(&b, ar_token_char((unsigned char)*p) ? *p : '_');
	buf_printf(&b, ";\n\tsmime=%s", smime_result_name(rep->result));
	if (rep->reason != NULL) {
		buf_puts(&b, " reason=");
		ar_value(&b, rep->reason);
	}
	ar_prop(&b, "smime-identifier", rep->signer); /* the signer's, never From:'s */
	ar_prop(&b, "smime-part", rep->part);
	ar_prop(&b, "smime-serial", rep->serial);
	ar_prop(&b, "smime-issuer", rep->issuer);
	s = buf_steal(&b);
	buf_free(&b);
	return s;
}

int
smime_ar_is_ours(const char *v, const char *authserv_id)
{
	struct smime_util_lex l = { v, strlen(v), 0 };
	size_t n = strlen(authserv_id), start;

	if (smime_util_cfws(&l) < 0)
		return 0; /* an unclosed comment: no authserv-id */
	start = l.i;
	while (l.i < l.n && !strchr("; \t(\r\n", v[l.i]))
		l.i++;
	return n > 0 && l.i - start == n && strncasecmp(v + start, authserv_id, n) == 0;
}

json_t *
smime_report_json(const struct smime_report *rep)
{
	json_t *j = json_object();

	json_object_set_new(j, "result", json_string(smime_result_name(rep->result)));
	json_object_set_new(j, "reason", audit_string(rep->reason));
	json_object_set_new(j, "part", audit_string(rep->part));
	json_object_set_new(j, "kind", audit_string(rep->kind));
	json_object_set_new(j, "from", audit_string(rep->from));
	json_object_set_new(j, "signer", audit_string(rep->signer));
	json_object_set_new(j, "serial", audit_string(rep->serial));
	json_object_set_new(j, "issuer", audit_string(rep->issuer));
	json_object_set_new(j, "smimea", audit_string(rep->smimea));
	json_object_set_new(j, "record", audit_string(rep->record));
	json_object_set_new(j, "dnssec", audit_string(rep->dnssec));
	json_object_set_new(j, "ocsp", audit_string(rep->ocsp));
	json_object_set_new(j, "elapsed_ms", json_integer(rep->elapsed_ms));
	return j;
}
