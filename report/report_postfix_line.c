/*
 * report_postfix_line.c - one Postfix mail log line taken apart for
 * report_postfix.c (see report_postfix_line.h; the formats are listed at the
 * head of report_postfix.c). Pure functions, thread-safe; time stamps
 * with timegm(3).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dnsname.h"
#include "mem.h"
#include "report_postfix_line.h"

/* Skip n digits at *p into *v; 0 or -1. */
static int
digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900,
		.tm_mon = mo - 1,
		.tm_mday = d,
		.tm_hour = h,
		.tm_min = mi,
		.tm_sec = s };

	return (int64_t)timegm(&tm);
}

/* "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm) "; *p moves past the space. */
static int
stamp_iso(const char **p, int64_t *t)
{
	const char *q = *p;
	int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;

	if (digits(&q, 4, &y) || *q++ != '-' || digits(&q, 2, &mo) || *q++ != '-' ||
	    digits(&q, 2, &d) || *q++ != 'T' || digits(&q, 2, &h) || *q++ != ':' ||
	    digits(&q, 2, &mi) || *q++ != ':' || digits(&q, 2, &s))
		return -1;
	if (*q == '.')
		for (q++; *q >= '0' && *q <= '9'; q++)
			;
	if (*q == 'Z')
		q++;
	else if (*q == '+' || *q == '-') {
		sign = *q++ == '+' ? 1 : -1;
		if (digits(&q, 2, &oh) || *q++ != ':' || digits(&q, 2, &om) || oh > 23 || om > 59)
			return -1;
	} else
		return -1;
	if (*q++ != ' ' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	*t = utc(y, mo, d, h, mi, s) - sign * (oh * 3600 + om * 60);
	*p = q;
	return 0;
}

/* "Mmm dd HH:MM:SS " (dd may be " d"); year chosen against ref. */
static int
stamp_syslog(const char **p, int64_t ref, int64_t *t)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *q = *p;
	int mo, d, h, mi, s, i;
	struct tm tm;
	time_t rt = (time_t)ref;

	for (mo = 0; mo < 12; mo++)
		if (strncmp(q, months + 3 * mo, 3) == 0)
			break;
	if (mo == 12 || q[3] != ' ')
		return -1;
	q += 4;
	if (*q == ' ')
		q++;
	if (q[1] == ' ' ? digits(&q, 1, &d) : digits(&q, 2, &d))
		return -1;
	if (*q++ != ' ' || digits(&q, 2, &h) || *q++ != ':' || digits(&q, 2, &mi) || *q++ != ':' ||
	    digits(&q, 2, &s) || *q++ != ' ' || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	if (gmtime_r(&rt, &tm) == NULL)
		return -1;
	for (i = 0; i < 2; i++) {
		*t = utc(tm.tm_year + 1900 - i, mo + 1, d, h, mi, s);
		if (*t <= ref + 2 * 86400)
			break;
	}
	*p = q;
	return 0;
}

/* See report_postfix_line.h. */
int
report_postfix_line_parse(const char *raw, int64_t ref, struct pf_line *l)
{
	const char *p = raw, *host, *prog, *br, *end;
	size_t n;

	l->raw = raw;
	if ((raw[0] >= '0' && raw[0] <= '9' ? stamp_iso(&p, &l->time)
					    : stamp_syslog(&p, ref, &l->time)) < 0)
		return -1;
	host = p;
	if ((prog = strchr(host, ' ')) == NULL || prog == host)
		return -1;
	prog++;
	if ((end = strstr(prog, "]: ")) == NULL ||
	    (br = memchr(prog, '[', (size_t)(end - prog))) == NULL ||
	    memchr(prog, ' ', (size_t)(end - prog)) != NULL)
		return -1;
	l->msg = end + 3;
	n = (size_t)(end + 1 - host);
	if (n >= sizeof(l->id))
		return -1;
	memcpy(l->id, host, n);
	l->id[n] = 0;
	if (br - prog < 5 || strncmp(br - 5, "/smtp", 5) != 0)
		return 0;
	return 1;
}

/* See report_postfix_line.h. */
int
report_postfix_line_hostaddr(const char *p, char *host, char *ip, const char **endp)
{
	const char *lb = strchr(p, '['), *rb, *why;
	char tmp[DNSNAME_MAX];
	size_t n;

	if (lb == NULL || (n = (size_t)(lb - p)) == 0 || n >= sizeof(tmp) ||
	    memchr(p, ' ', n) != NULL)
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = 0;
	if (dnsname_normalize(tmp, 0, host, &why) < 0)
		return -1;
	if ((rb = strchr(lb, ']')) == NULL || (n = (size_t)(rb - lb - 1)) == 0 || n >= PF_MAX_IP ||
	    strspn(lb + 1, "0123456789abcdefABCDEF:.") != n)
		return -1;
	memcpy(ip, lb + 1, n);
	ip[n] = 0;
	p = rb + 1;
	if (*p != ':' || strspn(p + 1, "0123456789") == 0)
		return -1;
	*endp = p + 1 + strspn(p + 1, "0123456789");
	return 0;
}

/* See report_postfix_line.h. */
char *
report_postfix_line_record(const char *p)
{
	size_t n = strcspn(p, "\n"), i;
	int fields = 0;

	while (n > 0 && p[n - 1] == ' ')
		n--;
	if (n == 0 || n > 16384 || memmem(p, n, "...", 3) != NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (p[i] == ' ')
			fields++;
		else if (!(fields < 3 ? (p[i] >= '0' && p[i] <= '9')
				      : strchr("0123456789abcdefABCDEF", p[i]) != NULL))
			return NULL;
	}
	return fields == 3 ? xstrndup(p, n) : NULL;
}

/* See report_postfix_line.h. */
int
report_postfix_line_qmgr_from(const struct pf_line *l, const char *sender, char *qid)
{
	const char *p = strstr(l->id, "/qmgr["), *m = l->msg, *from;
	size_t n = strspn(m, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
	size_t len = strlen(sender);

	if (p == NULL || n == 0 || n >= PF_MAX_QID || strncmp(m + n, ": from=<", 8) != 0)
		return 0;
	from = m + n + 8;
	if (strncasecmp(from, sender, len) != 0 || strncmp(from + len, ">,", 2) != 0)
		return 0;
	memcpy(qid, m, n);
	qid[n] = 0;
	return 1;
}
