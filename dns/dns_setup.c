/*
 * dns_setup.c - the trust anchor check and libunbound's log stream
 * (contract in dns_setup.h).
 *
 * Why a DNSKEY query: an anchor libunbound accepts syntactically (say
 * ". IN DS 1 8 2 00") may match no key of its zone, and then every
 * signed answer is bogus and every DANE destination deferred. The DNSKEY
 * RRset of the anchor's own zone is the first thing validation needs, so
 * its answer proves the anchor: secure means it works; bogus (with
 * libunbound's why_bogus) or insecure means it validates nothing. No
 * answer at all (a host still offline at boot, a SERVFAIL upstream, the
 * time bound) proves nothing either way: the caller warns and goes on,
 * because refusing to start then would stop mail for a network hiccup,
 * while the anchor cannot be blamed yet.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>

#include "clock.h"
#include "dns_setup.h"
#include "dnsname.h"
#include "log.h"
#include "mem.h"

#define DNS_T_DNSKEY	  48
#define ANCHOR_SCAN_LINES 200 /* lines of a trust anchor file looked at for an owner */

/* The owner name of the first record in text (one RR), or NULL. */
static char *
anchor_owner(const char *rr)
{
	char tok[DNSNAME_MAX + 2], norm[DNSNAME_MAX];
	const char *why;

	if (sscanf(rr, "%255s", tok) != 1)
		return NULL;
	if (strcmp(tok, ".") == 0)
		return xstrdup(".");
	if (dnsname_normalize(tok, 1, norm, &why) < 0)
		return NULL;
	return xstrdup(norm);
}

/* The owner of the first record of a trust anchor file, or NULL. */
static char *
anchor_file_owner(const char *path)
{
	char line[1024], *owner = NULL;
	FILE *f = fopen(path, "r");

	for (int n = 0; f && owner == NULL && n < ANCHOR_SCAN_LINES; n++) {
		if (fgets(line, sizeof(line), f) == NULL)
			break;
		if (line[0] == ';' || line[0] == '#' || line[0] == '$' || line[0] == ' ' ||
		    line[0] == '\t' || line[0] == '\n')
			continue;
		owner = anchor_owner(line);
	}
	if (f)
		fclose(f);
	return owner;
}

/* "trust anchor \"...\"" or "trust anchor file PATH". */
static char *
anchor_source(const struct dns_options *o)
{
	if (o->trust_anchor && *o->trust_anchor)
		return xasprintf("trust anchor \"%.120s\"", o->trust_anchor);
	return xasprintf("trust anchor file %.200s",
	    o->trust_anchor_file ? o->trust_anchor_file : "(none)");
}

enum dns_anchor_state
dns_setup_anchor_check(struct dns_resolver *res, const struct dns_options *o, unsigned timeout_ms,
    char **msg)
{
	char *zone = NULL, *src = anchor_source(o);
	struct dns_batch *b = dns_batch_new(res);
	struct dns_answer *a = NULL;
	enum dns_anchor_state st;
	unsigned tag;

	if (o->trust_anchor && *o->trust_anchor)
		zone = anchor_owner(o->trust_anchor);
	else if (o->trust_anchor_file && *o->trust_anchor_file)
		zone = anchor_file_owner(o->trust_anchor_file);
	if (zone == NULL)
		zone = xstrdup(".");
	dns_batch_add(b, zone, DNS_T_DNSKEY, 0);
	if (dns_batch_next(b, clock_now_ms() + timeout_ms, &tag, &a) != 1 || a == NULL) {
		st = DNS_ANCHOR_UNKNOWN;
		*msg = xasprintf("%s: no answer for the DNSKEY of %s", src, zone);
	} else if (a->sec == DNS_SEC_SECURE) {
		st = DNS_ANCHOR_OK;
		*msg = xasprintf("%s validates the DNSKEY of %s", src, zone);
	} else if (a->sec == DNS_SEC_BOGUS || a->sec == DNS_SEC_INSECURE) {
		st = DNS_ANCHOR_BAD;
		*msg = xasprintf(
		    "%s does not validate the DNSKEY of %s (%s: %.300s): every "
		    "DNSSEC-signed destination would be deferred; put the zone's current DS or "
		    "DNSKEY there (for the root: unbound-anchor -a FILE, then trust_anchor_file = FILE)",
		    src, zone, dns_sec_name(a->sec), a->why ? a->why : "no trust chain");
	} else {
		st = DNS_ANCHOR_UNKNOWN;
		*msg = xasprintf(
		    "%s not checked: no answer for the DNSKEY of %s within %u ms (%s%s%.200s)", src,
		    zone, timeout_ms, dns_status_name(a->status), a->why ? ": " : "",
		    a->why ? a->why : "");
	}
	dns_answer_free(a);
	dns_batch_free(b);
	free(zone);
	free(src);
	return st;
}

/* ------------------------------------------------------------ libunbound's log */

/*
 * libunbound's log lines are "[TIME] libunbound[PID:TID] TYPE: TEXT"
 * (TYPE error, warning, notice, info, debug); its config parser writes
 * "FILE:LINE: error: TEXT" and "read FILE failed: N errors ...". One
 * line of either becomes one msg_* line of the matching level.
 */
/*
 * A config parser line "FILE:LINE: error: TEXT" as "FILE:LINE: TEXT
 * (libunbound)", the shape of danepol's own configuration errors, so an
 * editor's jump-to-error works on it. 1 when logged, 0 when p is no such
 * line.
 */
static int
ublog_config_error(const char *p, size_t n)
{
	const char *e = memmem(p, n, ": error: ", 9), *d;

	if (e == NULL)
		return 0;
	for (d = e; d > p && d[-1] >= '0' && d[-1] <= '9'; d--)
		;
	if (d == e || d - 1 <= p || d[-1] != ':')
		return 0;
	msg_error("%.*s: %.*s (libunbound)", (int)(e - p), p, (int)(n - (size_t)(e + 9 - p)),
	    e + 9);
	return 1;
}

static void
ublog_line(const char *s, size_t n)
{
	static const char *const types[] = { "error: ", "warning: " };
	const char *p = s, *q;
	int len, lvl = -1;

	if (n > 0 && s[0] == '[' && (q = memchr(s, ']', n)) != NULL &&
	    (q = memchr(q + 1, ']', n - (size_t)(q + 1 - s))) != NULL)
		p = q + 1; /* after "[TIME] libunbound[PID:TID]" */
	while (p < s + n && *p == ' ')
		p++;
	if (p != s) /* the level is ours to say: drop libunbound's "TYPE: " */
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if ((size_t)(s + n - p) > strlen(types[i]) &&
			    strncmp(p, types[i], strlen(types[i])) == 0) {
				lvl = (int)i;
				p += strlen(types[i]);
				break;
			}
	n -= (size_t)(p - s);
	len = n > 1000 ? 1000 : (int)n;
	if (n == 0)
		return;
	if (ublog_config_error(p, (size_t)len))
		return;
	if (lvl == 0 || (lvl < 0 && (memmem(p, n, "error", 5) || memmem(p, n, "failed", 6))))
		msg_error("libunbound: %.*s", len, p);
	else if (lvl == 1 || (lvl < 0 && memmem(p, n, "warning", 7)))
		msg_warn("libunbound: %.*s", len, p);
	else
		msg_info("libunbound: %.*s", len, p);
}

static ssize_t
ublog_write(void *cookie, const char *buf, size_t size)
{
	size_t i = 0;

	(void)cookie;
	while (i < size) {
		const char *nl = memchr(buf + i, '\n', size - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) : size - i;

		ublog_line(buf + i, n);
		i += n + (nl != NULL);
	}
	return (ssize_t)size;
}

static FILE *ublog_stream;
static pthread_once_t ublog_once = PTHREAD_ONCE_INIT;

static void
ublog_open(void)
{
	cookie_io_functions_t io = { .write = ublog_write };

	if ((ublog_stream = fopencookie(NULL, "w", io)) != NULL)
		setvbuf(ublog_stream, NULL, _IOLBF, 0);
}

FILE *
dns_setup_log_stream(void)
{
	pthread_once(&ublog_once, ublog_open);
	return ublog_stream;
}

/* Serialises the stderr swap of dns_setup_config(). */
static pthread_mutex_t ublog_swap = PTHREAD_MUTEX_INITIALIZER;

int
dns_setup_config(struct ub_ctx *ctx, const char *path)
{
	FILE *lf = dns_setup_log_stream(), *saved;
	int r;

	if (lf == NULL)
		return ub_ctx_config(ctx, path);
	pthread_mutex_lock(&ublog_swap);
	saved = stderr;
	stderr = lf;
	r = ub_ctx_config(ctx, path);
	fflush(lf);
	stderr = saved;
	pthread_mutex_unlock(&ublog_swap);
	return r;
}
