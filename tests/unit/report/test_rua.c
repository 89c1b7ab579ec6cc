/*
 * test_rua.c - report/report_rua.c and report/report_send.c without a
 * network: the RFC 8460 TLSRPT record parser (good, odd and hostile
 * records), TXT string joining and record selection from a DNS answer,
 * the section 5.1 file name, gzip, the mailto message (headers, no header
 * injection, the attachment round trip) and report files. The retry
 * queue: test_queue.c.
 */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "conf.h"
#include "dns.h"
#include "report_rua.h"
#include "report_send.h"

/* Parse txt (C string), return the count; set filled, *err on error. */
static int
parse(const char *txt, struct report_rua_set *set, size_t *skipped, char **err)
{
	memset(set, 0, sizeof(*set));
	*err = NULL;
	*skipped = 0;
	return report_rua_parse_record(txt, strlen(txt), set, skipped, err);
}

/* The record must be rejected as a whole. */
static void
expect_invalid(const char *txt)
{
	struct report_rua_set set;
	size_t sk;
	char *err;

	cr_expect_eq(parse(txt, &set, &sk, &err), -1, "accepted: %s", txt);
	cr_expect_not_null(err, "no reason for: %s", txt);
	free(err);
	report_rua_clear(&set);
}

/* The record parses, but with no usable URI (each one skipped). */
static void
expect_no_uri(const char *txt)
{
	struct report_rua_set set;
	size_t sk;
	char *err;

	cr_expect_eq(parse(txt, &set, &sk, &err), 0, "%s: %s", txt, err ? err : "used a URI");
	cr_expect_eq(set.n, 0, "%s gave %s", txt, set.n ? set.v[0].uri : "");
	cr_expect_geq(sk, 1, "%s: nothing counted as skipped", txt);
	free(err);
	report_rua_clear(&set);
}

Test(rua, mailto_and_https)
{
	struct report_rua_set set;
	size_t sk;
	char *err;

	cr_assert_eq(parse("v=TLSRPTv1;rua=mailto:reports@example.com", &set, &sk, &err), 1);
	cr_expect_eq(set.v[0].scheme, REPORT_RUA_MAILTO);
	cr_expect_str_eq(set.v[0].uri, "mailto:reports@example.com");
	cr_expect_str_eq(set.v[0].addr, "reports@example.com");
	cr_expect_eq(set.v[0].max_size, 0);
	report_rua_clear(&set);

	cr_assert_eq(parse("v=TLSRPTv1 ; rua=https://reporting.example.com/v1/tlsrpt ,"
	    "\tMAILTO:a.b+c@Example.NET!10m , https://x.example:8443/p?q=1 ;", &set, &sk, &err), 3,
	    "%s", err ? err : "");
	cr_expect_eq(set.v[0].scheme, REPORT_RUA_HTTPS);
	cr_expect_str_eq(set.v[0].uri, "https://reporting.example.com/v1/tlsrpt");
	cr_expect_null(set.v[0].addr);
	cr_expect_eq(set.v[1].scheme, REPORT_RUA_MAILTO);
	cr_expect_str_eq(set.v[1].addr, "a.b+c@example.net", "domain lower-cased");
	cr_expect_str_eq(set.v[1].uri, "MAILTO:a.b+c@Example.NET", "size suffix removed");
	cr_expect_eq(set.v[1].max_size, 10u << 20);
	cr_expect_str_eq(set.v[2].uri, "https://x.example:8443/p?q=1");
	cr_expect_eq(sk, 0);
	report_rua_clear(&set);
}

Test(rua, extension_fields_and_delimiters)
{
	struct report_rua_set set;
	size_t sk;
	char *err;

	cr_assert_eq(parse("v=TLSRPTv1;ext-1.x=foo;rua=mailto:a@b.example;zz=1;", &set, &sk, &err),
	    1, "%s", err ? err : "");
	cr_expect_str_eq(set.v[0].addr, "a@b.example");
	report_rua_clear(&set);
	cr_assert_eq(parse("v=TLSRPTv1;;  ;rua=mailto:a@b.example;;", &set, &sk, &err), 1,
	    "empty fields are tolerated");
	report_rua_clear(&set);
	cr_assert_eq(parse("v=TLSRPTv1;rua=mailto:%61%2eb@b.example?subject=x", &set, &sk, &err), 1);
	cr_expect_str_eq(set.v[0].addr, "a.b@b.example", "%%-decoded, header fields cut off");
	report_rua_clear(&set);
}

Test(rua, invalid_records)
{
	expect_invalid("");
	expect_invalid("v=TLSRPTv1");
	expect_invalid("v=TLSRPTv1 rua=mailto:a@b.example");
	expect_invalid("v=TLSRPTv2;rua=mailto:a@b.example");
	expect_invalid("V=TLSRPTv1;rua=mailto:a@b.example");
	expect_invalid("v=tlsrptv1;rua=mailto:a@b.example");
	expect_invalid(" v=TLSRPTv1;rua=mailto:a@b.example");
	expect_invalid("v=TLSRPTv1;");
	expect_invalid("v=TLSRPTv1;ruf=mailto:a@b.example");
	expect_invalid("v=TLSRPTv1;RUA=mailto:a@b.example");
	expect_invalid("v=TLSRPTv1;rua=mailto:a@b.example;rua=mailto:c@d.example");
	expect_invalid("v=TLSRPTv1;rua=mailto:a@b.example;junk");
	expect_invalid("v=TLSRPTv1;=x;rua=mailto:a@b.example");
	expect_invalid("v=TLSRPTv1;-x=1;rua=mailto:a@b.example");
	expect_invalid("v=TLSRPTv1;a23456789012345678901234567890123=1;rua=mailto:a@b.example");
	expect_invalid("v=TLSRPTv1;x y=1;rua=mailto:a@b.example");
}

Test(rua, nul_byte)
{
	static const char rec[] = "v=TLSRPTv1;rua=mailto:a@b.example\0;rua=https://evil.example/";
	struct report_rua_set set;
	size_t sk = 0;
	char *err = NULL;

	memset(&set, 0, sizeof(set));
	cr_expect_eq(report_rua_parse_record(rec, sizeof(rec) - 1, &set, &sk, &err), -1);
	cr_expect_eq(set.n, 0);
	free(err);
	report_rua_clear(&set);
}

Test(rua, unknown_and_malformed_uris_skipped)
{
	expect_no_uri("v=TLSRPTv1;rua=");
	expect_no_uri("v=TLSRPTv1;rua=http://plain.example/tlsrpt");
	expect_no_uri("v=TLSRPTv1;rua=ftp://x.example/, data:text/plain,abc, ldap://x");
	expect_no_uri("v=TLSRPTv1;rua=mailto:");
	expect_no_uri("v=TLSRPTv1;rua=mailto:nobody");
	expect_no_uri("v=TLSRPTv1;rua=mailto:@b.example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@localhost");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b..example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b_c.example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b@c.example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:.a@b.example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a..b@b.example");
	expect_no_uri("v=TLSRPTv1;rua=https://");
	expect_no_uri("v=TLSRPTv1;rua=https:///path");
	expect_no_uri("v=TLSRPTv1;rua=https:x.example/path");
	expect_no_uri("v=TLSRPTv1;rua=https://x.example/a b");
	expect_no_uri("v=TLSRPTv1;rua=https://x.example/\x01");
	expect_no_uri("v=TLSRPTv1;rua=https://x.example/\xc3\xa9");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b.example!");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b.example!0");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b.example!10x");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b.example!10mm");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b.example!99999999999999999999t");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b.example!1!2");
}

Test(rua, hostile_mailto)
{
	/* option injection into sendmail's argv */
	expect_no_uri("v=TLSRPTv1;rua=mailto:-oQ/tmp/x@b.example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:%2dbd@b.example");
	/* header injection through encoded line breaks and spaces */
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b.example%0d%0aBcc:victim@c.example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a%0a@b.example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a%20b@b.example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a%00@b.example");
	/* several addresses, routes, quoting, bad escapes */
	expect_no_uri("v=TLSRPTv1;rua=mailto:a%2Cb@b.example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a%40c@b.example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:%22a%22@b.example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:%3ca@b.example%3e");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a%zz@b.example");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b.example%4");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b.example%");
	expect_no_uri("v=TLSRPTv1;rua=mailto:a@b.example%c3%a9");
	/* a local part over 64 octets */
	expect_no_uri("v=TLSRPTv1;rua=mailto:"
	    "a1234567890123456789012345678901234567890123456789012345678901234@b.example");
}

Test(rua, limits)
{
	struct report_rua_set set;
	char *rec, *err, *p;
	size_t sk;

	/* more URIs than REPORT_RUA_MAX: the first ones are kept */
	rec = calloc(1, 64 + 40 * (REPORT_RUA_MAX + 5));
	p = rec + sprintf(rec, "v=TLSRPTv1;rua=");
	for (int i = 0; i < REPORT_RUA_MAX + 5; i++)
		p += sprintf(p, "%smailto:r%d@b.example", i ? "," : "", i);
	cr_assert_eq(parse(rec, &set, &sk, &err), REPORT_RUA_MAX);
	cr_expect_str_eq(set.v[0].addr, "r0@b.example");
	cr_expect_eq(sk, 5);
	report_rua_clear(&set);
	free(rec);

	/* an over-long URI */
	rec = calloc(1, REPORT_RUA_URI_MAX + 100);
	p = rec + sprintf(rec, "v=TLSRPTv1;rua=https://x.example/");
	memset(p, 'a', REPORT_RUA_URI_MAX);
	expect_no_uri(rec);
	free(rec);
}

Test(rua, txt_join)
{
	static const uint8_t two[] = { 11, 'v', '=', 'T', 'L', 'S', 'R', 'P', 'T', 'v', '1', ';',
	    0, 3, 'r', 'u', 'a' };
	static const uint8_t trunc[] = { 5, 'a', 'b' };
	size_t len = 99;
	char *s;

	s = report_rua_txt_join(two, sizeof(two), &len);
	cr_assert_not_null(s);
	cr_expect_str_eq(s, "v=TLSRPTv1;rua", "strings joined without separator");
	cr_expect_eq(len, 14);
	free(s);
	cr_expect_null(report_rua_txt_join(trunc, sizeof(trunc), &len));
	cr_expect_null(report_rua_txt_join(two, 0, &len));
	cr_expect_null(report_rua_txt_join(two, sizeof(two) - 1, &len));
}

/* A TXT answer with the given records, each split into strings of at most split bytes. */
static struct dns_answer *
txt_answer(enum dns_status st, enum dns_sec sec, const char *const *recs, size_t n, size_t split)
{
	struct dns_answer *a = calloc(1, sizeof(*a));

	a->qname = strdup("_smtp._tls.x.example");
	a->qtype = DNS_T_TXT;
	a->status = st;
	a->sec = sec;
	a->count = n;
	a->rr = calloc(n + 1, sizeof(*a->rr));
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(recs[i]), off = 0, w = 0;

		a->rr[i].data = malloc(len + len / split + 2);
		do {
			size_t l = len - off < split ? len - off : split;

			a->rr[i].data[w++] = (uint8_t)l;
			memcpy(a->rr[i].data + w, recs[i] + off, l);
			w += l;
			off += l;
		} while (off < len);
		a->rr[i].len = w;
	}
	return a;
}

Test(rua, record_selection)
{
	static const char *one[] = { "v=spf1 -all", "v=TLSRPTv1; rua=mailto:t@x.example" };
	static const char *two[] = { "v=TLSRPTv1;rua=mailto:a@x.example",
	    "v=TLSRPTv1;rua=mailto:b@x.example" };
	static const char *bad[] = { "v=TLSRPTv1;rua=mailto:a@x.example;rua=https://x.example/" };
	static const char *none[] = { "v=TLSRPTv10;rua=mailto:a@x.example", "hello" };
	struct report_rua_set set;
	struct dns_answer *a;
	char *err = NULL;

	a = txt_answer(DNS_DATA, DNS_SEC_SECURE, one, 2, 7);
	cr_assert_eq(report_rua_from_answer(a, &set, &err), 0);
	cr_assert_eq(set.n, 1, "%s", set.why ? set.why : "");
	cr_expect_str_eq(set.v[0].addr, "t@x.example", "multi-string record joined");
	cr_expect_eq(set.sec, DNS_SEC_SECURE);
	report_rua_clear(&set);
	dns_answer_free(a);

	a = txt_answer(DNS_DATA, DNS_SEC_INSECURE, two, 2, 255);
	cr_assert_eq(report_rua_from_answer(a, &set, &err), 0);
	cr_expect_eq(set.n, 0, "two TLSRPT records: none used");
	cr_expect_not_null(strstr(set.why, "2 TLSRPT records"));
	cr_expect_eq(set.sec, DNS_SEC_INSECURE);
	report_rua_clear(&set);
	dns_answer_free(a);

	a = txt_answer(DNS_DATA, DNS_SEC_SECURE, bad, 1, 255);
	cr_assert_eq(report_rua_from_answer(a, &set, &err), 0);
	cr_expect_eq(set.n, 0, "URIs of an invalid record are not used");
	cr_expect_not_null(strstr(set.why, "more than one rua"));
	report_rua_clear(&set);
	dns_answer_free(a);

	a = txt_answer(DNS_DATA, DNS_SEC_SECURE, none, 2, 255);
	cr_assert_eq(report_rua_from_answer(a, &set, &err), 0);
	cr_expect_eq(set.n, 0);
	cr_expect_str_eq(set.why, "no TLSRPT record");
	report_rua_clear(&set);
	dns_answer_free(a);

	a = txt_answer(DNS_NXDOMAIN, DNS_SEC_SECURE, NULL, 0, 255);
	cr_assert_eq(report_rua_from_answer(a, &set, &err), 0);
	cr_expect_eq(set.n, 0);
	report_rua_clear(&set);
	dns_answer_free(a);

	a = dns_answer_new_fail("_smtp._tls.x.example", DNS_T_TXT, DNS_FAIL, "validation failure");
	cr_expect_eq(report_rua_from_answer(a, &set, &err), -1, "a failed lookup is an error");
	cr_assert_not_null(err);
	cr_expect_not_null(strstr(err, "validation failure"));
	free(err);
	report_rua_clear(&set);
	dns_answer_free(a);
}

Test(rua, file_name)
{
	char *err = NULL, *n;

	n = report_send_filename("sender.example", "recipient.example", 1740787200, 1740873600,
	    "0001", &err);
	cr_assert_not_null(n, "%s", err);
	cr_expect_str_eq(n, "sender.example!recipient.example!1740787200!1740873599!0001.json.gz");
	free(n);
	cr_expect_null(report_send_filename("sender.example", "../etc", 0, 86400, "1", &err));
	free(err);
	cr_expect_null(report_send_filename("sender.example", "a/b.example", 0, 86400, "1", &err));
	free(err);
	cr_expect_null(report_send_filename("sender.example", "A.example", 0, 86400, "1", &err));
	free(err);
	cr_expect_null(report_send_filename("", "a.example", 0, 86400, "1", &err));
	free(err);
	cr_expect_null(report_send_filename("s!x.example", "a.example", 0, 86400, "1", &err));
	free(err);
	cr_expect_null(report_send_filename("s.example", "a.example", 0, 86400, "a-1", &err));
	free(err);
	cr_expect_null(report_send_filename("s.example", "a.example", 0, 86400, "", &err));
	free(err);
	cr_expect_null(report_send_filename("s.example", "a.example", 86400, 86400, "1", &err));
	free(err);
}

Test(rua, submitter)
{
	struct conf *c = conf_defaults();
	char *err = NULL, *s;

	c->report_contact = strdup("tlsrpt@Sender.Example");
	s = report_send_submitter(c, &err);
	cr_assert_not_null(s, "%s", err);
	cr_expect_str_eq(s, "sender.example");
	free(s);
	free(c->report_contact);
	c->report_contact = strdup("https://sender.example/contact");
	cr_expect_null(report_send_submitter(c, &err));
	free(err);
	conf_free(c);
}

/* gunzip data into a fresh string. */
static char *
gunzip(const unsigned char *gz, size_t len)
{
	z_stream z;
	char *out = calloc(1, 1 << 20);

	memset(&z, 0, sizeof(z));
	cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)gz;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (1 << 20) - 1;
	cr_assert_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	inflateEnd(&z);
	return out;
}

Test(rua, gzip_round_trip)
{
	const char *json = "{\"organization-name\":\"x\",\"report-id\":\"r1\"}";
	unsigned char *gz;
	size_t len = 0;
	char *err = NULL, *back;

	gz = report_send_gzip(json, strlen(json), &len, &err);
	cr_assert_not_null(gz, "%s", err);
	cr_expect(len > 18 && gz[0] == 0x1f && gz[1] == 0x8b, "gzip magic");
	back = gunzip(gz, len);
	cr_expect_str_eq(back, json);
	free(back);
	free(gz);
}

static int
b64v(int c)
{
	const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(t, c) : NULL;

	return p ? (int)(p - t) : -1;
}

Test(rua, mail_message)
{
	static const unsigned char gz[] = { 0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 0xff, 0xfe };
	struct report_send_item it = { "recipient.example", "sender.example",
	    "id-1\r\nBcc: victim@evil.example", "sender.example!recipient.example!1!2!x.json.gz",
	    gz, sizeof(gz) };
	char *m = report_send_mail_message(&it, "tlsrpt@sender.example", "rua@recipient.example",
	    1740787200);
	unsigned char dec[64];
	char *p;
	size_t n = 0;
	int bits = 0;
	unsigned acc = 0;	/* only the low bits + 8 matter */

	cr_assert_not_null(m);
	cr_expect_not_null(strstr(m, "\nTLS-Report-Domain: recipient.example\n"));
	cr_expect_not_null(strstr(m, "\nTLS-Report-Submitter: sender.example\n"));
	cr_expect_not_null(strstr(m, "\nTLS-Required: No\n"));
	cr_expect_eq(strncmp(m, "From: tlsrpt@sender.example\nTo: rua@recipient.example\n", 53), 0);
	cr_expect_not_null(strstr(m, "\nDate: Sat, 01 Mar 2025 00:00:00 +0000\n"));
	cr_expect_not_null(strstr(m, "\nMessage-ID: <tlsrpt."));
	cr_expect_not_null(strstr(m, "\nSubject: Report Domain: recipient.example Submitter: "
	    "sender.example\n Report-ID: <id-1__Bcc:_victim_evil.example@sender.example>\n"));
	cr_expect_null(strstr(m, "\nBcc:"), "no header injected by the report-id");
	cr_expect_null(strchr(m, '\r'));
	cr_expect_not_null(strstr(m, "Content-Type: multipart/report; report-type=\"tlsrpt\";"));
	cr_expect_not_null(strstr(m, "Content-Type: application/tlsrpt+gzip\n"));
	cr_expect_not_null(strstr(m, "filename=\"sender.example!recipient.example!1!2!x.json.gz\""));
	p = strstr(m, "Content-Transfer-Encoding: base64\n");
	cr_assert_not_null(p);
	p = strstr(p, "\n\n");
	cr_assert_not_null(p);
	for (p += 2; *p && *p != '\n' && *p != '='; p++) {
		acc = (acc << 6 | (unsigned)b64v(*p)) & 0x3fff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			dec[n++] = (unsigned char)(acc >> bits);
		}
	}
	cr_expect_eq(n, sizeof(gz));
	cr_expect_eq(memcmp(dec, gz, sizeof(gz)), 0, "the attachment decodes to the gzip bytes");
	free(m);
}

Test(rua, files)
{
	char dir[] = "/tmp/test_rua.XXXXXX", *err = NULL, *path;
	unsigned char *back;
	size_t len = 0;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(report_send_write_file(dir, "a!b!1!2!x.json.gz", "hello", 5, &err), 0, "%s", err);
	path = malloc(strlen(dir) + 40);
	sprintf(path, "%s/a!b!1!2!x.json.gz", dir);
	back = report_send_read_file(path, &len, &err);
	cr_assert_not_null(back, "%s", err);
	cr_expect_eq(len, 5);
	cr_expect_eq(memcmp(back, "hello", 5), 0);
	free(back);
	cr_expect_eq(report_send_write_file(dir, "../x", "x", 1, &err), -1);
	free(err);
	err = NULL;
	cr_expect_eq(report_send_write_file(dir, ".hidden", "x", 1, &err), -1);
	free(err);
	unlink(path);
	free(path);
	rmdir(dir);
}
