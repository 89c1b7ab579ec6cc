/*
 * sts_txt.c - MTA-STS policy discovery records (contract in sts_txt.h).
 * Section 3.1's ABNF: "v=STSv1" 1*(*WSP ";" *WSP field) [*WSP ";"];
 * field = "id=" 1*32(ALPHA / DIGIT) / ext-name "=" ext-value.
 */
#include "config.h"

#include <string.h>

#include "sts_txt.h"

int
sts_txt_text(const uint8_t *rdata, size_t len, char *out, size_t outsz)
{
	size_t off = 0, n = 0;

	if (outsz == 0)
		return -1;
	while (off < len) {
		size_t l = rdata[off++];

		if (l > len - off || n + l >= outsz || memchr(rdata + off, 0, l) != NULL)
			return -1;
		memcpy(out + n, rdata + off, l);
		n += l;
		off += l;
	}
	out[n] = 0;
	return 0;
}

static int
alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ext-value: 1*(%x21-3A / %x3C / %x3E-7E) */
static int
ext_value_char(int c)
{
	return c >= 0x21 && c <= 0x7e && c != ';' && c != '=';
}

/* 1 when s begins "v=STSv1" *WSP ";" (the records that count) */
static int
is_sts(const char *s)
{
	if (strncmp(s, "v=STSv1", 7) != 0)
		return 0;
	s += 7;
	s += strspn(s, " \t");
	return *s == ';';
}

/* one field at s[0..len); 0, or -1 with *why */
static int
field(const char *s, size_t len, char *id, int *nid, const char **why)
{
	size_t k;

	for (k = 0; k < len && (alnum((unsigned char)s[k]) || (k > 0 && strchr("_-.", s[k]))); k++)
		;
	if (k == 0 || k > 32 || k == len || s[k] != '=' || k + 1 == len) {
		*why = "a field is not name=value";
		return -1;
	}
	for (size_t i = k + 1; i < len; i++)
		if (!ext_value_char((unsigned char)s[i])) {
			*why = "a field value holds a blank or a byte outside printable ASCII";
			return -1;
		}
	if (k != 2 || strncmp(s, "id", 2) != 0)
		return 0; /* an extension */
	if (++*nid > 1) {
		*why = "more than one id";
		return -1;
	}
	for (size_t i = 3; i < len; i++)
		if (!alnum((unsigned char)s[i]) || i - 3 >= STS_ID_MAX) {
			*why = "id is not 1 to 32 letters and digits";
			return -1;
		}
	memcpy(id, s + 3, len - 3);
	id[len - 3] = 0;
	return 0;
}

static int
parse(const char *s, char *id, const char **why)
{
	int nid = 0;

	s += 7; /* "v=STSv1" */
	for (;;) {
		const char *f;
		size_t len;

		s += strspn(s, " \t");
		if (*s == 0)
			break;
		if (*s != ';') {
			*why = "fields are not separated by ';'";
			return -1;
		}
		s++;
		s += strspn(s, " \t");
		if (*s == 0)
			break; /* a trailing ';' */
		f = s;
		len = strcspn(s, " \t;");
		if (field(f, len, id, &nid, why) < 0)
			return -1;
		s += len;
	}
	if (nid == 0) {
		*why = "no id field";
		return -1;
	}
	return 0;
}

int
sts_txt_select(char *const *texts, size_t n, char *id, const char **why)
{
	const char *one = NULL;
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		if (texts[i] != NULL && is_sts(texts[i])) {
			one = texts[i];
			count++;
		}
	if (count == 0) {
		*why = "no TXT record begins with \"v=STSv1;\"";
		return 0;
	}
	if (count > 1) {
		*why = "more than one \"v=STSv1;\" TXT record";
		return 0;
	}
	if (parse(one, id, why) < 0)
		return 0;
	return 1;
}
