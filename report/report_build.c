/*
 * report_build.c - the JSON of one RFC 8460 TLS report (report_build(),
 * contract in report.h; schema doc/tlsrpt.schema.json).
 *
 * The outcomes of one policy domain over whole UTC days [start, end) are
 * read from the store (store_each()) and aggregated in memory:
 *   - one "policies" entry per distinct policy: policy-type "tlsa" with
 *     the set of TLSA records (policy-string, sorted, duplicates merged;
 *     omitted when no record was logged), "sts" with the MTA-STS
 *     policy's lines in their order (policy-string, omitted when the
 *     policy is not known: a first fetch that failed) and its mx
 *     patterns (mx-host, an array: the "mx: " lines), or
 *     "no-policy-found"; policy-domain is the (canonical, A-label)
 *     policy domain;
 *   - per policy the successful and failed session counts;
 *   - failure-details rows keyed by (result-type, sending-mta-ip,
 *     receiving-mx-hostname, receiving-ip, failure-reason-code), each with
 *     its failed-session-count and the first receiving-mx-helo seen.
 * Absent (NULL) fields are omitted, never emitted as null.
 *
 * Deterministic output, so that golden files compare byte for byte: keys
 * sorted (JSON_SORT_KEYS), policies sorted by type name then strings, failure
 * rows by their key (absent fields first), two-space indentation, one
 * final newline. date-range: start-datetime = start, end-datetime =
 * end - 1 s ("…T23:59:59Z", as in RFC 8460's example). report-id =
 * "<start-datetime>_<policy-domain>_<16 hex digits>" where the digits are
 * the head of SHA-256(organization-name NUL contact-info NUL domain NUL
 * start NUL end): unique per (org, domain, range) and stable when the
 * report is built again.
 *
 * Thread-safe: all state is local to the call.
 */
#include "config.h"

#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "dnsname.h"
#include "log.h"
#include "mem.h"
#include "report.h"

#define DAY 86400

struct fail_row {
	const char *result_type;				   /* static */
	char *sending_ip, *mx_host, *receiving_ip, *reason, *helo; /* owned or NULL */
	long long count;
};

struct policy_agg {
	enum outcome_policy type;
	char **strings; /* tlsa: sorted, unique; sts: in order; owned */
	size_t nstrings;
	long long ok, failed;
	struct fail_row *rows;
	size_t nrows;
};

struct agg {
	struct policy_agg *pol;
	size_t npol;
	size_t noutcomes;
};

/* ------------------------------------------------------------ aggregation */

/* Replace *err (if err is not NULL) by msg, which is consumed. */
static void
set_err(char **err, char *msg)
{
	if (err == NULL) {
		free(msg);
		return;
	}
	free(*err);
	*err = msg;
}

/* strcmp with NULL first. */
static int
nullcmp(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int
str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The outcome's policy strings (owned copies): TLSA records sorted and
 * unique, an STS policy's lines as they are; none for no-policy-found. */
static char **
policy_set(const struct tls_outcome *o, size_t *n)
{
	char **v = NULL;
	size_t i, k = 0;

	*n = 0;
	if (o->policy_type == OUTCOME_POLICY_STS && o->npolicy_strings > 0) {
		v = xcalloc(o->npolicy_strings, sizeof(char *));
		for (i = 0; i < o->npolicy_strings; i++)
			if (o->policy_strings[i] != NULL)
				v[(*n)++] = xstrdup(o->policy_strings[i]);
		return v;
	}
	if (o->policy_type == OUTCOME_POLICY_TLSA && o->npolicy_strings > 0) {
		v = xcalloc(o->npolicy_strings, sizeof(char *));
		for (i = 0; i < o->npolicy_strings; i++)
			if (o->policy_strings[i] != NULL)
				v[k++] = o->policy_strings[i];
		qsort(v, k, sizeof(char *), str_ptr_cmp);
		for (i = 0, *n = 0; i < k; i++)
			if (*n == 0 || strcmp(v[*n - 1], v[i]) != 0)
				v[(*n)++] = v[i];
		for (i = 0; i < *n; i++)
			v[i] = xstrdup(v[i]);
		return v;
	}
	return NULL;
}

static int
policy_cmp(const struct policy_agg *a, enum outcome_policy type, char **strings, size_t n)
{
	size_t i;
	int c;

	/* "no-policy-found" < "sts" < "tlsa", as the policy-type strings sort */
	if (a->type != type)
		return strcmp(outcome_policy_name(a->type), outcome_policy_name(type));
	for (i = 0; i < a->nstrings && i < n; i++)
		if ((c = strcmp(a->strings[i], strings[i])) != 0)
			return c;
	return (a->nstrings > n) - (a->nstrings < n);
}

static struct policy_agg *
policy_find(struct agg *g, const struct tls_outcome *o)
{
	size_t n, i;
	char **set = policy_set(o, &n);

	for (i = 0; i < g->npol; i++) {
		if (policy_cmp(&g->pol[i], o->policy_type, set, n) == 0) {
			while (n > 0)
				free(set[--n]);
			free(set);
			return &g->pol[i];
		}
	}
	g->pol = xreallocarray(g->pol, g->npol + 1, sizeof(*g->pol));
	memset(&g->pol[g->npol], 0, sizeof(*g->pol));
	g->pol[g->npol].type = o->policy_type;
	g->pol[g->npol].strings = set;
	g->pol[g->npol].nstrings = n;
	return &g->pol[g->npol++];
}

static int
row_cmp(const struct fail_row *r, const struct fail_row *k)
{
	int c;

	if ((c = nullcmp(r->result_type, k->result_type)) != 0 ||
	    (c = nullcmp(r->sending_ip, k->sending_ip)) != 0 ||
	    (c = nullcmp(r->mx_host, k->mx_host)) != 0 ||
	    (c = nullcmp(r->receiving_ip, k->receiving_ip)) != 0)
		return c;
	return nullcmp(r->reason, k->reason);
}

static int
row_qcmp(const void *a, const void *b)
{
	return row_cmp(a, b);
}

static void
add_failure(struct policy_agg *p, const struct tls_outcome *o)
{
	struct fail_row key = {
		.result_type = o->result_type ? o->result_type : "validation-failure",
		.sending_ip = o->sending_ip,
		.mx_host = o->mx_host,
		.receiving_ip = o->receiving_ip,
		.reason = o->detail,
	};
	struct fail_row *r;
	size_t i;

	for (i = 0; i < p->nrows; i++) {
		if (row_cmp(&p->rows[i], &key) == 0) {
			if (p->rows[i].helo == NULL)
				p->rows[i].helo = xstrdup_null(o->mx_helo);
			p->rows[i].count++;
			return;
		}
	}
	p->rows = xreallocarray(p->rows, p->nrows + 1, sizeof(*p->rows));
	r = &p->rows[p->nrows++];
	r->result_type = key.result_type;
	r->sending_ip = xstrdup_null(o->sending_ip);
	r->mx_host = xstrdup_null(o->mx_host);
	r->receiving_ip = xstrdup_null(o->receiving_ip);
	r->reason = xstrdup_null(o->detail);
	r->helo = xstrdup_null(o->mx_helo);
	r->count = 1;
}

static int
collect(const struct tls_outcome *o, void *arg)
{
	struct agg *g = arg;
	struct policy_agg *p = policy_find(g, o);

	g->noutcomes++;
	if (o->success) {
		p->ok++;
	} else {
		p->failed++;
		add_failure(p, o);
	}
	return 0;
}

static void
agg_free(struct agg *g)
{
	size_t i, k;

	for (i = 0; i < g->npol; i++) {
		for (k = 0; k < g->pol[i].nstrings; k++)
			free(g->pol[i].strings[k]);
		free(g->pol[i].strings);
		for (k = 0; k < g->pol[i].nrows; k++) {
			free(g->pol[i].rows[k].sending_ip);
			free(g->pol[i].rows[k].mx_host);
			free(g->pol[i].rows[k].receiving_ip);
			free(g->pol[i].rows[k].reason);
			free(g->pol[i].rows[k].helo);
		}
		free(g->pol[i].rows);
	}
	free(g->pol);
}

static int
policy_qcmp(const void *a, const void *b)
{
	const struct policy_agg *pb = b;

	return policy_cmp(a, pb->type, pb->strings, pb->nstrings);
}

/* ------------------------------------------------------------ JSON */

static void
set_opt(json_t *obj, const char *key, const char *v)
{
	if (v != NULL)
		json_object_set_new(obj, key, json_string(v));
}

static json_t *
policy_json(const struct policy_agg *p, const char *domain)
{
	json_t *pol = json_object(), *entry = json_object(), *arr, *rows, *row;
	size_t i;

	json_object_set_new(pol, "policy-type", json_string(outcome_policy_name(p->type)));
	if (p->nstrings > 0) {
		arr = json_array();
		for (i = 0; i < p->nstrings; i++)
			json_array_append_new(arr, json_string(p->strings[i]));
		json_object_set_new(pol, "policy-string", arr);
	}
	if (p->type == OUTCOME_POLICY_STS && p->nstrings > 0) {
		arr = json_array();
		for (i = 0; i < p->nstrings; i++)
			if (strncmp(p->strings[i], "mx: ", 4) == 0)
				json_array_append_new(arr, json_string(p->strings[i] + 4));
		json_object_set_new(pol, "mx-host", arr);
	}
	json_object_set_new(pol, "policy-domain", json_string(domain));
	json_object_set_new(entry, "policy", pol);
	json_object_set_new(entry, "summary",
	    json_pack("{s:I, s:I}", "total-successful-session-count", (json_int_t)p->ok,
		"total-failure-session-count", (json_int_t)p->failed));
	if (p->nrows > 0) {
		rows = json_array();
		for (i = 0; i < p->nrows; i++) {
			row = json_object();
			json_object_set_new(row, "result-type",
			    json_string(p->rows[i].result_type));
			set_opt(row, "sending-mta-ip", p->rows[i].sending_ip);
			set_opt(row, "receiving-mx-hostname", p->rows[i].mx_host);
			set_opt(row, "receiving-mx-helo", p->rows[i].helo);
			set_opt(row, "receiving-ip", p->rows[i].receiving_ip);
			set_opt(row, "failure-reason-code", p->rows[i].reason);
			json_object_set_new(row, "failed-session-count",
			    json_integer((json_int_t)p->rows[i].count));
			json_array_append_new(rows, row);
		}
		json_object_set_new(entry, "failure-details", rows);
	}
	return entry;
}

/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" of t into out (>= 32 bytes); -1 if out of range. */
static int
rfc3339(int64_t t, char *out, size_t n)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -1;
	return strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0 ? 0 : -1;
}

static char *
report_id(const struct conf *c, const char *domain, const char *startz, int64_t start, int64_t end)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	struct buf b;
	char *id;

	buf_init(&b);
	buf_printf(&b, "%s%c%s%c%s%c%" PRId64 "%c%" PRId64, c->report_org_name, 0,
	    c->report_contact, 0, domain, 0, start, 0, end);
	if (EVP_Digest(b.s, b.len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 8)
		msg_panic("SHA-256 unavailable");
	id = xasprintf("%s_%s_%02x%02x%02x%02x%02x%02x%02x%02x", startz, domain, md[0], md[1],
	    md[2], md[3], md[4], md[5], md[6], md[7]);
	buf_free(&b);
	return id;
}

static char *
report_json(struct agg *g, const struct conf *c, const char *domain, int64_t start, int64_t end,
    const char *startz, const char *endz)
{
	json_t *root, *pols;
	char *id, *text, *out;
	size_t i;

	if (g->npol > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(g->pol, g->npol, sizeof(*g->pol), policy_qcmp);
	pols = json_array();
	for (i = 0; i < g->npol; i++) {
		if (g->pol[i].nrows > 1)
			qsort(g->pol[i].rows, g->pol[i].nrows, sizeof(struct fail_row), row_qcmp);
		json_array_append_new(pols, policy_json(&g->pol[i], domain));
	}
	id = report_id(c, domain, startz, start, end);
	root = json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:o}", "organization-name",
	    c->report_org_name, "date-range", "start-datetime", startz, "end-datetime", endz,
	    "contact-info", c->report_contact, "report-id", id, "policies", pols);
	free(id);
	if (root == NULL) /* only bad UTF-8 in the configured strings */
		return NULL;
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(root);
	if (text == NULL)
		return NULL;
	out = xasprintf("%s\n", text);
	free(text);
	return out;
}

/**
 * The RFC 8460 report of policy_domain over the UTC days [start, end)
 * (both multiples of 86400, start < end): see report.h and the head of
 * this file. Returns the JSON text (caller frees) and *noutcomes; with no
 * outcome the text is a valid report with an empty "policies" array and
 * *noutcomes is 0 (callers send nothing then). NULL with *err (caller
 * frees) on errors.
 */
char *
report_build(struct store *s, const struct conf *c, const char *policy_domain, int64_t start,
    int64_t end, size_t *noutcomes, char **err)
{
	char startz[32], endz[32], domain[DNSNAME_MAX], *text = NULL, *e = NULL;
	struct agg g = { 0 };
	const char *why = NULL;

	*noutcomes = 0;
	if (c->report_org_name == NULL || c->report_contact == NULL) {
		set_err(err, xstrdup("report_org_name and report_contact must be set"));
		goto out;
	}
	if (policy_domain == NULL || dnsname_normalize(policy_domain, 1, domain, &why) < 0 ||
	    domain[0] == 0) {
		set_err(err, xasprintf("policy domain refused: %s", why ? why : "missing"));
		goto out;
	}
	if (start % DAY != 0 || end % DAY != 0 || start >= end ||
	    rfc3339(start, startz, sizeof(startz)) < 0 ||
	    rfc3339(end - 1, endz, sizeof(endz)) < 0) {
		set_err(err, xstrdup("report range must be whole UTC days"));
		goto out;
	}
	if (store_each(s, start, end, domain, collect, &g, &e) != 0) {
		set_err(err, xasprintf("reading outcomes: %s", e ? e : "stopped"));
		goto out;
	}
	if ((text = report_json(&g, c, domain, start, end, startz, endz)) == NULL) {
		set_err(err, xstrdup("report strings are not valid UTF-8"));
		goto out;
	}
	*noutcomes = g.noutcomes;
out:
	agg_free(&g);
	free(e);
	return text;
}
