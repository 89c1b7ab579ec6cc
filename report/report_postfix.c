/*
 * report_postfix.c - TLS outcomes from Postfix's mail log
 * (report_postfix_ingest(), contract in report.h), so that Postfix
 * versions without TLSRPT support get RFC 8460 reports.
 *
 * Lines: "STAMP HOST PROG[PID]: MESSAGE" where STAMP is either the syslog
 * form "Mmm dd HH:MM:SS" (the year is not logged: it is the latest year
 * that does not put the line more than two days after min(to, now)) or
 * RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" (rsyslog's high
 * precision format), and PROG ends in "/smtp" (Postfix's SMTP client, any
 * syslog_name). Lines of other programs are ignored (not counted). The
 * smtp(8) messages understood (Postfix 3.x, smtp_tls_loglevel >= 1):
 *   1 "Verified|Trusted|Untrusted|Anonymous TLS connection established
 *      to H[IP]:PORT: ..."                            a TLS session
 *   2 "server certificate verification failed for H[IP]:PORT: num=N:..."
 *   3 "H[IP]:PORT: Matched DANE ... at depth D: U S M HEX"   (loglevel 2)
 *   4 "warning: H[IP]:PORT: unusable TLSA RR: U S M HEX"
 *   5 "warning: H[IP]:PORT: all TLSA records unusable, fallback to ..."
 *   6 "warning: _25._tcp.H unsupported TLSA ...: U S M HEX"
 *   7 "warning: TLS policy lookup for D/H: TLSA lookup error for H:PORT"
 *   8 "warning: DANE TLSA lookup problem: ..."        (no outcome)
 *   9 "QUEUEID: to=<RCPT>, ... relay=H[IP]:PORT|none, ... status=S (TEXT)"
 * Any other smtp line, and any line whose stamp or program cannot be
 * parsed or that is longer than PF_MAX_LINE, is skipped and counted.
 *
 * Sessions: lines 2-5 and 7 come before the line 1 of the same connection
 * (same PID, same H[IP]:PORT); one of them after a line 1, or naming
 * another host, starts a new session. Sessions wait, per PID, for the
 * next line 9, which gives their policy domain (the recipient domain,
 * A-labels) and is the one delivery they belong to; further line-9s of
 * the same delivery add nothing (one outcome per session, not per
 * recipient). Sessions still waiting at the end of the file have no
 * domain and are dropped. Outcome of a session:
 *   TLSA lookup error (7)        dnssec-invalid, "tlsa-lookup-error"
 *   all records unusable (5)     tlsa-invalid, "all-TLSA-records-unusable"
 *   Verified                     success, policy tlsa
 *   verification failed, num=N   tlsrpt_class_x509(N) (the table shared
 *                                with the probe and Exim, e.g. 10
 *                                certificate-expired, 62 certificate-host-
 *                                mismatch, 7 certificate-not-trusted);
 *                                reason the OpenSSL X509_V_ERR_ name
 *                                (X509_V_ERR_OTHER if not in the table);
 *                                policy tlsa
 *   delivered through it, or not failed: success; policy tlsa when a DANE
 *                                line (3, 4, 6) was seen, else
 *                                no-policy-found
 * MTA-STS: a session with no DANE line (3-7) to a domain for which the
 * store kept an MTA-STS policy (enforce or testing) that applied at its
 * time (sts_cache_outcome()) is an sts session instead: success when
 * Verified or Trusted; verification failed num=N as above; not verified
 * and not delivered certificate-not-trusted; an Untrusted or Anonymous
 * session (delivered under a testing policy) certificate-not-trusted,
 * "untrusted-tls-session". Postfix logs "Verified" alike for DANE and
 * level secure; danepol asks for MTA-STS only where there is no DANE.
 * A line 9 with no waiting session whose TEXT is "TLS is required, but
 * was not offered by host H[IP]" gives starttls-not-supported, and "Cannot
 * start TLS: handshake failure" validation-failure ("tls-handshake-
 * failure"); both policy tlsa (sts with a kept MTA-STS policy). Policy strings are the records of lines 3,
 * 4 and 6 for that host (abbreviated "..." records are left out).
 * Postfix does not log the sending address or the server's HELO name.
 *
 * Dedupe: each outcome's key is the SHA-256 of the line that began its
 * session plus the count of identical earlier lines in the same second,
 * so reading the same log (or a longer version of it) again adds nothing
 * (store_add_keyed()). Outcomes are stored in batches, each one
 * transaction.
 *
 * Bounds: PF_MAX_PROCS PIDs tracked at once (least recently used
 * dropped), PF_MAX_SESS waiting sessions and PF_MAX_RECS records per PID.
 * Thread-safe: all state is local to the call.
 */
#include "config.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsname.h"
#include "log.h"
#include "mem.h"
#include "report.h"
#include "report_postfix_line.h"
#include "sts_cache.h"
#include "tlsrpt_class.h"

#define PF_MAX_PROCS 1024
#define PF_MAX_SESS  32
#define PF_MAX_RECS  32
#define PF_MAX_SKIP  256 /* queue ids of skip_sender remembered */
#define PF_BATCH     256

enum pf_trust { PF_T_NONE, PF_T_ANON, PF_T_UNTRUSTED, PF_T_TRUSTED, PF_T_VERIFIED };

struct pf_session {
	int64_t time;
	char *key; /* dedupe key */
	char host[DNSNAME_MAX];
	char ip[PF_MAX_IP]; /* "" when unknown */
	enum pf_trust trust;
	int established; /* line 1 seen */
	int verify_num;	 /* -1: no verification failure */
	int all_unusable, dane;
	const char *fail_type, *fail_reason; /* preset failure (static) */
	char **recs;			     /* policy strings (owned) */
	size_t nrecs;
};

struct pf_rec {
	char host[DNSNAME_MAX];
	char *str;
};

struct pf_proc {
	char *id; /* "HOST PROG[PID]" */
	struct pf_session *sess;
	size_t nsess;
	struct pf_rec *recs; /* line-6 records not yet in a session */
	size_t nrecs;
	char *last_delivery; /* "QUEUEID relay status" of the last line 9 */
	uint64_t used;
};

struct pf_occ {
	unsigned char h[16];
	unsigned n;
};

struct pf_reader {
	struct store *s;
	int64_t from, to, ref;
	struct pf_proc *procs;
	size_t nprocs;
	struct tls_outcome batch[PF_BATCH];
	char *keys[PF_BATCH];
	size_t nbatch;
	size_t skipped;
	long added;
	uint64_t tick;
	int64_t occ_time; /* occurrence counts are per second */
	struct pf_occ *occ;
	size_t nocc;
	const char *skip_sender;	    /* envelope sender whose deliveries are left out */
	char skip[PF_MAX_SKIP][PF_MAX_QID]; /* its queue ids, a ring */
	size_t nskip;
};

/* ------------------------------------------------------------ per-PID state */

static void
session_free(struct pf_session *s)
{
	size_t i;

	free(s->key);
	for (i = 0; i < s->nrecs; i++)
		free(s->recs[i]);
	free(s->recs);
	memset(s, 0, sizeof(*s));
}

static void
proc_free(struct pf_proc *p)
{
	size_t i;

	for (i = 0; i < p->nsess; i++)
		session_free(&p->sess[i]);
	free(p->sess);
	for (i = 0; i < p->nrecs; i++)
		free(p->recs[i].str);
	free(p->recs);
	free(p->last_delivery);
	free(p->id);
	memset(p, 0, sizeof(*p));
}

static struct pf_proc *
proc_get(struct pf_reader *r, const char *id)
{
	size_t i, lru = 0;

	for (i = 0; i < r->nprocs; i++) {
		if (strcmp(r->procs[i].id, id) == 0) {
			r->procs[i].used = ++r->tick;
			return &r->procs[i];
		}
		if (r->procs[i].used < r->procs[lru].used)
			lru = i;
	}
	if (r->nprocs == PF_MAX_PROCS) {
		proc_free(&r->procs[lru]);
		i = lru;
	} else {
		r->procs = xreallocarray(r->procs, r->nprocs + 1, sizeof(*r->procs));
		i = r->nprocs++;
	}
	memset(&r->procs[i], 0, sizeof(r->procs[i]));
	r->procs[i].id = xstrdup(id);
	r->procs[i].used = ++r->tick;
	return &r->procs[i];
}

/* Dedupe key of the line l: SHA-256 head + occurrence within its second. */
static char *
line_key(struct pf_reader *r, const struct pf_line *l)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, n = 0, i;
	char hex[33];

	if (EVP_Digest(l->raw, strlen(l->raw), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 16)
		msg_panic("SHA-256 unavailable");
	if (l->time != r->occ_time)
		r->nocc = 0, r->occ_time = l->time;
	for (i = 0; i < r->nocc && n == 0; i++)
		if (memcmp(r->occ[i].h, md, 16) == 0)
			n = ++r->occ[i].n;
	if (n == 0) {
		r->occ = xreallocarray(r->occ, r->nocc + 1, sizeof(*r->occ));
		memcpy(r->occ[r->nocc].h, md, 16);
		r->occ[r->nocc++].n = 0;
	}
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return xasprintf("pf1:%s:%u", hex, n);
}

/*
 * The session of p that line l (about host[ip]) belongs to: the open
 * (last, not yet established) one for the same host and address, else a
 * new one. ip may be "".
 */
static struct pf_session *
session_for(struct pf_reader *r, struct pf_proc *p, const struct pf_line *l, const char *host,
    const char *ip)
{
	struct pf_session *s;

	if (p->nsess > 0) {
		s = &p->sess[p->nsess - 1];
		if (!s->established && s->fail_type == NULL && strcmp(s->host, host) == 0 &&
		    strcmp(s->ip, ip) == 0)
			return s;
	}
	if (p->nsess == PF_MAX_SESS) {
		session_free(&p->sess[0]);
		memmove(&p->sess[0], &p->sess[1], (PF_MAX_SESS - 1) * sizeof(*p->sess));
		p->nsess--;
	}
	p->sess = xreallocarray(p->sess, p->nsess + 1, sizeof(*p->sess));
	s = &p->sess[p->nsess++];
	memset(s, 0, sizeof(*s));
	s->time = l->time;
	s->key = line_key(r, l);
	snprintf(s->host, sizeof(s->host), "%s", host);
	snprintf(s->ip, sizeof(s->ip), "%s", ip);
	s->verify_num = -1;
	return s;
}

static void
session_add_rec(struct pf_session *s, char *rec)
{
	size_t i;

	s->dane = 1;
	if (rec == NULL)
		return;
	for (i = 0; i < s->nrecs; i++)
		if (strcmp(s->recs[i], rec) == 0)
			break;
	if (i < s->nrecs || s->nrecs == PF_MAX_RECS) {
		free(rec);
		return;
	}
	s->recs = xreallocarray(s->recs, s->nrecs + 1, sizeof(char *));
	s->recs[s->nrecs++] = rec;
}

/* ------------------------------------------------------------ outcomes */

static int
flush(struct pf_reader *r, char **err)
{
	size_t added = 0, i;
	int rc;

	if (r->nbatch == 0)
		return 0;
	rc = store_add_batch(r->s, r->batch, (const char *const *)r->keys, r->nbatch, &added, err);
	for (i = 0; i < r->nbatch; i++) {
		outcome_clear(&r->batch[i]);
		free(r->keys[i]);
	}
	r->nbatch = 0;
	if (rc < 0)
		return -1;
	r->added += (long)added;
	return 0;
}

/* Queue one outcome (o's strings and key are taken over). */
static int
emit(struct pf_reader *r, struct tls_outcome *o, char *key, char **err)
{
	if (o->time < r->from || o->time >= r->to) {
		outcome_clear(o);
		free(key);
		return 0;
	}
	r->batch[r->nbatch] = *o;
	r->keys[r->nbatch++] = key;
	memset(o, 0, sizeof(*o));
	return r->nbatch == PF_BATCH ? flush(r, err) : 0;
}

/* OpenSSL verification error -> RFC 8460 result type (the shared table) and reason code. */
static void
verify_result(int num, const char **type, const char **reason)
{
	const char *name = tlsrpt_class_x509_name(num);

	*type = tlsrpt_class_x509(num);
	*reason = name ? name : "X509_V_ERR_OTHER";
}

/* Session s of the delivery to domain -> outcome (success as decided). */
static int
session_emit(struct pf_reader *r, struct pf_session *s, const char *domain, int delivered,
    int not_verified, char **err)
{
	struct tls_outcome o = { .time = s->time, .source = OUTCOME_SRC_POSTFIX };
	const char *type = NULL, *reason = NULL;
	int sts;

	o.policy_domain = xstrdup(domain);
	/* no DANE line: an MTA-STS policy kept for domain makes it an sts
	 * session (Postfix logs "Verified" alike for DANE and level secure;
	 * danepol asks for MTA-STS only where there is no DANE). Such a
	 * session has no fail_type nor all_unusable: both come with DANE lines. */
	sts = !s->dane && sts_cache_outcome(r->s, &o);
	if (s->fail_type != NULL)
		type = s->fail_type, reason = s->fail_reason;
	else if (s->all_unusable)
		type = "tlsa-invalid", reason = "all-TLSA-records-unusable";
	else if (s->trust == PF_T_VERIFIED)
		s->dane = !sts;
	else if (s->verify_num >= 0)
		verify_result(s->verify_num, &type, &reason);
	else if (!delivered && not_verified)
		type = "certificate-not-trusted", reason = "server-certificate-not-verified";
	else if (sts && (s->trust == PF_T_UNTRUSTED || s->trust == PF_T_ANON))
		/* under testing Postfix delivered; enforce would have failed it */
		type = "certificate-not-trusted", reason = "untrusted-tls-session";
	if (!sts) {
		if (type != NULL)
			s->dane = 1;
		o.policy_type = s->dane ? OUTCOME_POLICY_TLSA : OUTCOME_POLICY_NONE;
	}
	if (s->dane) { /* records only belong to a tlsa policy */
		o.policy_strings = s->recs;
		o.npolicy_strings = s->nrecs;
		s->recs = NULL;
		s->nrecs = 0;
	}
	o.mx_host = xstrdup(s->host);
	o.receiving_ip = s->ip[0] ? xstrdup(s->ip) : NULL;
	o.success = type == NULL;
	o.result_type = type;
	o.detail = xstrdup_null(reason);
	return emit(r, &o, xstrdup(s->key), err);
}

/* ------------------------------------------------------------ messages */

static const char *
skip_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* Records logged before a connection (lines 6 and 10): for the next session. */
static int
pending_record(struct pf_proc *p, const char *owner_end, const char *owner, const char *rec_text)
{
	char tmp[DNSNAME_MAX], host[DNSNAME_MAX], *rec;
	const char *why;
	size_t n = (size_t)(owner_end - owner);

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, owner, n);
	tmp[n] = 0;
	if (dnsname_normalize(tmp, 1, host, &why) < 0)
		return -1;
	if ((rec = report_postfix_line_record(rec_text)) == NULL)
		return 0; /* abbreviated: understood, not usable */
	if (p->nrecs == PF_MAX_RECS) {
		free(rec);
		return 0;
	}
	p->recs = xreallocarray(p->recs, p->nrecs + 1, sizeof(*p->recs));
	snprintf(p->recs[p->nrecs].host, sizeof(p->recs[p->nrecs].host), "%s", host);
	p->recs[p->nrecs++].str = rec;
	return 0;
}

/* A new session took the pending records. */
static void
pending_clear(struct pf_proc *p)
{
	while (p->nrecs > 0)
		free(p->recs[--p->nrecs].str);
}

/* Lines 1-5, 11 ("... H[IP]:PORT ..."): 0 understood, -1 not. */
static int
host_line(struct pf_reader *r, struct pf_proc *p, const struct pf_line *l, const char *at, int kind,
    const char *rest_after)
{
	char host[DNSNAME_MAX], ip[PF_MAX_IP];
	struct pf_session *s;
	const char *end, *q;
	size_t had = p->nsess;

	if (report_postfix_line_hostaddr(at, host, ip, &end) < 0)
		return -1;
	s = session_for(r, p, l, host, ip);
	if (p->nsess != had) {
		/* records logged at TLSA lookup belong to this new connection */
		size_t i;

		for (i = 0; i < p->nrecs; i++)
			session_add_rec(s, xstrdup(p->recs[i].str));
		pending_clear(p);
	}
	switch (kind) {
	case PF_T_ANON:
	case PF_T_UNTRUSTED:
	case PF_T_TRUSTED:
	case PF_T_VERIFIED:
		s->trust = (enum pf_trust)kind;
		s->established = 1;
		return 0;
	case 'v': /* ": num=N:text" */
		if ((q = skip_prefix(end, ": num=")) == NULL)
			return -1;
		s->verify_num = atoi(q);
		return 0;
	case 'm': /* ": Matched DANE ... at depth D: U S M HEX" */
		if ((q = strstr(end, " at depth ")) == NULL || (q = strstr(q, ": ")) == NULL)
			return -1;
		session_add_rec(s, report_postfix_line_record(q + 2));
		return 0;
	case 'u': /* ": unusable TLSA RR: U S M HEX" */
		session_add_rec(s, report_postfix_line_record(rest_after));
		return 0;
	case 'a':
		s->all_unusable = 1;
		s->dane = 1;
		return 0;
	default: /* 's': setting up the connection */
		return 0;
	}
}

/* Line 7: "TLS policy lookup for D/H: TLSA lookup error for H:PORT". */
static int
tlsa_error_line(struct pf_reader *r, struct pf_proc *p, const struct pf_line *l, const char *q)
{
	char tmp[DNSNAME_MAX], host[DNSNAME_MAX];
	struct pf_session *s;
	const char *why;
	size_t n = strcspn(q, ":");

	if (n == 0 || n >= sizeof(tmp) || q[n] != ':')
		return -1;
	memcpy(tmp, q, n);
	tmp[n] = 0;
	if (dnsname_normalize(tmp, 0, host, &why) < 0)
		return -1;
	s = session_for(r, p, l, host, "");
	s->fail_type = "dnssec-invalid";
	s->fail_reason = "tlsa-lookup-error";
	s->dane = 1;
	pending_clear(p);
	return 0;
}

/* Recipient domain of "to=<...>" at q into domain; -1 if none/bad. */
static int
rcpt_domain(const char *q, char *domain)
{
	const char *end = strchr(q, '>'), *at, *why;
	char tmp[DNSNAME_MAX];
	size_t n;

	if (end == NULL)
		return -1;
	for (at = end; at > q && at[-1] != '@'; at--)
		;
	if (at == q || (n = (size_t)(end - at)) == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, at, n);
	tmp[n] = 0;
	return dnsname_normalize(tmp, 0, domain, &why) < 0 ? -1 : 0;
}

/* "... host H[IP] ..." in a status text: a session-less failure. */
static int
status_failure(struct pf_reader *r, const struct pf_line *l, const char *domain, const char *relay,
    const char *text, char **err)
{
	struct tls_outcome o = { .time = l->time, .source = OUTCOME_SRC_POSTFIX };
	char host[DNSNAME_MAX] = "", ip[PF_MAX_IP] = "";
	const char *q, *end;

	if ((q = strstr(text, "TLS is required, but was not offered by host ")) != NULL) {
		o.result_type = "starttls-not-supported";
		q += strlen("TLS is required, but was not offered by host ");
		if (strchr(q, '[') != NULL) {
			const char *lb = strchr(q, '['), *rb = strchr(q, ']');
			size_t n = (size_t)(lb - q);

			if (rb != NULL && n > 0 && n < sizeof(host)) {
				char tmp[DNSNAME_MAX], ptmp[DNSNAME_MAX + PF_MAX_IP + 8];

				memcpy(tmp, q, n);
				tmp[n] = 0;
				snprintf(ptmp, sizeof(ptmp), "%s[%.*s]:25", tmp,
				    (int)(rb - lb - 1 < PF_MAX_IP ? rb - lb - 1 : 0), lb + 1);
				if (report_postfix_line_hostaddr(ptmp, host, ip, &end) < 0)
					host[0] = ip[0] = 0;
			}
		}
	} else if (strstr(text, "Cannot start TLS: handshake failure") != NULL) {
		o.result_type = "validation-failure";
		o.detail = xstrdup("tls-handshake-failure");
		if (report_postfix_line_hostaddr(relay, host, ip, &end) < 0)
			host[0] = ip[0] = 0;
	} else {
		return 0;
	}
	o.policy_domain = xstrdup(domain);
	if (!sts_cache_outcome(r->s, &o))
		o.policy_type = OUTCOME_POLICY_TLSA;
	o.mx_host = host[0] ? xstrdup(host) : NULL;
	o.receiving_ip = ip[0] ? xstrdup(ip) : NULL;
	return emit(r, &o, line_key(r, l), err);
}

/* Line 9: "QUEUEID: to=<RCPT>, ... relay=R, ... status=S (TEXT)": 0, 1 malformed, -1 error. */
/* Does the queue id at the head of msg belong to skip_sender? */
static int
skipped_qid(const struct pf_reader *r, const char *msg)
{
	size_t n = strcspn(msg, ":");

	for (size_t i = 0; i < r->nskip && i < PF_MAX_SKIP; i++)
		if (strlen(r->skip[i]) == n && strncmp(r->skip[i], msg, n) == 0)
			return 1;
	return 0;
}

static int
delivery_line(struct pf_reader *r, struct pf_proc *p, const struct pf_line *l, const char *q,
    char **err)
{
	char domain[DNSNAME_MAX], host[DNSNAME_MAX], ip[PF_MAX_IP], *id;
	const char *relay, *status, *text, *end;
	int sent, have_relay, rc = 0, same;
	size_t i;

	if (rcpt_domain(q, domain) < 0 || (relay = strstr(q, ", relay=")) == NULL ||
	    (status = strstr(q, ", status=")) == NULL)
		return 1;
	relay += strlen(", relay=");
	status += strlen(", status=");
	text = strchr(status, '(');
	sent = strncmp(status, "sent", 4) == 0;
	have_relay = report_postfix_line_hostaddr(relay, host, ip, &end) == 0;
	if (skipped_qid(r, l->msg))
		goto done; /* a report's own delivery: no outcome */
	id = xasprintf("%.*s %.*s %s", (int)strcspn(l->msg, ":"), l->msg, (int)strcspn(relay, ","),
	    relay, status);
	same = p->last_delivery != NULL && strcmp(p->last_delivery, id) == 0;
	free(p->last_delivery);
	p->last_delivery = id;
	for (i = 0; i < p->nsess && rc == 0; i++) {
		struct pf_session *s = &p->sess[i];
		int last = i + 1 == p->nsess;
		int here = last && sent && have_relay && strcmp(s->host, host) == 0 &&
		    strcmp(s->ip, ip) == 0;

		rc = session_emit(r, s, domain, here,
		    last && text != NULL && strstr(text, "Server certificate not verified") != NULL,
		    err);
	}
	if (p->nsess == 0 && !sent && !same && text != NULL)
		rc = status_failure(r, l, domain, relay, text, err);
done:
	for (i = 0; i < p->nsess; i++)
		session_free(&p->sess[i]);
	p->nsess = 0;
	pending_clear(p);
	return rc < 0 ? -1 : 0;
}

static const struct {
	const char *prefix;
	int kind;
} host_prefixes[] = {
	{ "Verified TLS connection established to ", PF_T_VERIFIED },
	{ "Trusted TLS connection established to ", PF_T_TRUSTED },
	{ "Untrusted TLS connection established to ", PF_T_UNTRUSTED },
	{ "Anonymous TLS connection established to ", PF_T_ANON },
	{ "server certificate verification failed for ", 'v' },
	{ "setting up TLS connection to ", 's' },
};

/* "warning: ..." lines 4-8: 1 understood, 0 not, -1 error. */
static int
warning_line(struct pf_reader *r, struct pf_proc *p, const struct pf_line *l, const char *w)
{
	const char *q, *d1, *d2;
	char host[DNSNAME_MAX], ip[PF_MAX_IP];

	if ((q = skip_prefix(w, "TLS policy lookup for ")) != NULL) {
		if ((q = strstr(q, ": TLSA lookup error for ")) == NULL)
			return 0;
		return tlsa_error_line(r, p, l, q + strlen(": TLSA lookup error for ")) == 0;
	}
	if (skip_prefix(w, "DANE TLSA lookup problem: ") != NULL)
		return 1;
	if (w[0] == '_' && (q = strstr(w, " unsupported TLSA ")) != NULL &&
	    (d1 = strchr(w, '.')) != NULL && d1 < q && d1[1] == '_' &&
	    (d2 = strchr(d1 + 1, '.')) != NULL && d2 < q && strstr(q, ": ") != NULL)
		return pending_record(p, q, d2 + 1, strstr(q, ": ") + 2) == 0;
	if (report_postfix_line_hostaddr(w, host, ip, &q) < 0)
		return 0;
	if (skip_prefix(q, ": unusable TLSA RR: ") != NULL)
		return host_line(r, p, l, w, 'u', q + strlen(": unusable TLSA RR: ")) == 0;
	if (skip_prefix(q, ": all TLSA records unusable") != NULL)
		return host_line(r, p, l, w, 'a', NULL) == 0;
	return 0;
}

/* One smtp(8) message: 1 understood, 0 not, -1 error (*err). */
static int
message(struct pf_reader *r, struct pf_proc *p, const struct pf_line *l, char **err)
{
	const char *m = l->msg, *q;
	size_t i, n;

	for (i = 0; i < sizeof(host_prefixes) / sizeof(host_prefixes[0]); i++)
		if ((q = skip_prefix(m, host_prefixes[i].prefix)) != NULL)
			return host_line(r, p, l, q, host_prefixes[i].kind, NULL) == 0;
	if ((q = skip_prefix(m, "warning: ")) != NULL)
		return warning_line(r, p, l, q);
	if ((q = skip_prefix(m, "DNSSEC-signed TLSA record: _")) != NULL) {
		const char *d = strstr(q, "._"), *c;

		if (d == NULL || (d = strchr(d + 2, '.')) == NULL || (c = strstr(d, ": ")) == NULL)
			return 0;
		return pending_record(p, c, d + 1, c + 2) == 0;
	}
	n = strspn(m, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
	if (n > 0 && (q = skip_prefix(m + n, ": to=<")) != NULL) {
		int rc = delivery_line(r, p, l, q, err);

		return rc < 0 ? -1 : rc == 0;
	}
	if (strstr(m, ": Matched DANE ") != NULL)
		return host_line(r, p, l, m, 'm', NULL) == 0;
	return 0;
}

/* ------------------------------------------------------------ the file */

static void
reader_free(struct pf_reader *r)
{
	size_t i;

	for (i = 0; i < r->nprocs; i++)
		proc_free(&r->procs[i]);
	free(r->procs);
	for (i = 0; i < r->nbatch; i++) {
		outcome_clear(&r->batch[i]);
		free(r->keys[i]);
	}
	free(r->occ);
}

/* One raw line (no newline, len bytes): -1 with *err on store errors. */
static int
ingest_line(struct pf_reader *r, const char *raw, size_t len, char **err)
{
	struct pf_line l;
	int rc;

	if (len == 0)
		return 0;
	if (len > PF_MAX_LINE || strlen(raw) != len) {
		r->skipped++;
		return 0;
	}
	rc = report_postfix_line_parse(raw, r->ref, &l);
	if (rc == 0 && r->skip_sender != NULL &&
	    report_postfix_line_qmgr_from(&l, r->skip_sender, r->skip[r->nskip % PF_MAX_SKIP]))
		r->nskip++;
	if (rc <= 0) {
		r->skipped += rc < 0;
		return 0;
	}
	rc = message(r, proc_get(r, l.id), &l, err);
	if (rc < 0)
		return -1;
	r->skipped += rc == 0;
	return 0;
}

/**
 * Read the Postfix mail log path and store the TLS outcomes of its smtp(8)
 * sessions with from <= time < to (lines understood: head of this file).
 * Returns the number of new outcomes (0 when everything was stored
 * before), or -1 with *err (caller frees). *skipped (may be NULL): smtp(8)
 * lines not understood plus malformed lines.
 */
long
report_postfix_ingest(struct store *s, const char *path, int64_t from, int64_t to, size_t *skipped,
    char **err)
{
	return report_postfix_ingest_skip(s, path, from, to, NULL, skipped, err);
}

/** report_postfix_ingest_skip - see report.h. */
long
report_postfix_ingest_skip(struct store *s, const char *path, int64_t from, int64_t to,
    const char *skip_sender, size_t *skipped, char **err)
{
	struct pf_reader *r = xcalloc(1, sizeof(*r));
	char *line = NULL, *e = NULL;
	size_t cap = 0;
	ssize_t n;
	long ret = -1;
	FILE *f;
	int64_t now = (int64_t)time(NULL);

	if ((f = fopen(path, "re")) == NULL) {
		free(*err), *err = xasprintf("%.200s: %s", path, strerror(errno));
		goto out;
	}
	r->s = s;
	r->skip_sender = skip_sender;
	r->from = from;
	r->to = to;
	r->ref = to < now ? to : now;
	r->occ_time = INT64_MIN;
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (ingest_line(r, line, (size_t)n, &e) < 0)
			goto store_fail;
	}
	if (ferror(f)) {
		free(*err), *err = xasprintf("%.200s: read error: %s", path, strerror(errno));
		goto out;
	}
	if (flush(r, &e) < 0)
		goto store_fail;
	ret = r->added;
	if (skipped != NULL)
		*skipped = r->skipped;
	goto out;
store_fail:
	free(*err), *err = xasprintf("%.200s: storing outcomes: %s", path, e ? e : "failed");
out:
	if (f != NULL)
		fclose(f);
	free(line);
	free(e);
	reader_free(r);
	free(r);
	return ret;
}
