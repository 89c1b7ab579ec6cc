/*
 * selfcheck_out.c - the self-check's outputs (selfcheck.h): the
 * monitoring-plugin text (Nagios/Icinga: state line with perfdata, then
 * the findings), JSON (doc/selfcheck.schema.json), and the Prometheus
 * textfile-collector file (written atomically).
 *
 * Text from DNS and peers reaches the findings already sanitised by the
 * layers below (probe/, policy/); the plugin text still replaces '|' in
 * finding text (it would start perfdata) and the Prometheus labels are
 * escaped as the exposition format wants.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "io.h"
#include "mem.h"
#include "selfcheck.h"

/* ------------------------------------------------------- plugin text */

/* perfdata label: the domain with '=' and quotes dropped, then name */
static void
perf(struct buf *b, const char *domain, const char *name, int64_t v, const char *uom,
    const char *thresholds)
{
	buf_puts(b, " '");
	for (const char *p = domain; *p; p++)
		if (*p != '\'' && *p != '=')
			buf_putc(b, *p);
	buf_printf(b, " %s'=%lld%s%s", name, (long long)v, uom, thresholds);
}

static void
perfdata(struct buf *b, const struct selfcheck_result *r)
{
	perf(b, r->domain, "dane_hosts", r->dane_hosts, "", "");
	perf(b, r->domain, "mx_hosts", r->mx_hosts, "", "");
	perf(b, r->domain, "addresses_ok", r->addrs_ok, "", "");
	perf(b, r->domain, "addresses", r->addrs, "", "");
	if (r->cert_expire)
		perf(b, r->domain, "cert_days", (r->cert_expire - r->time) / 86400, "", "");
	if (r->sig_expire)
		perf(b, r->domain, "rrsig_days", (r->sig_expire - r->time) / 86400, "", "");
	if (r->tlsa_ttl)
		perf(b, r->domain, "tlsa_ttl", r->tlsa_ttl, "s", "");
}

int
selfcheck_print_text(FILE *fp, const struct selfcheck_result *r, size_t n)
{
	enum finding_sev worst = selfcheck_worst(r, n);
	size_t crit = 0, warn = 0, unk = 0;
	struct buf b;

	for (size_t i = 0; i < n; i++) {
		crit += findings_count(&r[i].f, FINDING_CRITICAL);
		warn += findings_count(&r[i].f, FINDING_WARNING);
		unk += findings_count(&r[i].f, FINDING_UNKNOWN);
	}
	buf_init(&b);
	buf_printf(&b, "DANE SELFCHECK %s - %zu domain%s: %zu critical, %zu warning, %zu unknown",
	    finding_sev_name(worst), n, n == 1 ? "" : "s", crit, warn, unk);
	buf_puts(&b, " |");
	for (size_t i = 0; i < n; i++)
		perfdata(&b, &r[i]);
	fprintf(fp, "%s\n", b.s);
	for (size_t i = 0; i < n; i++)
		findings_print(fp, r[i].domain, &r[i].f);
	buf_free(&b);
	return (int)worst;
}

/* -------------------------------------------------------------- JSON */

static json_t *
time_json(int64_t t)
{
	char s[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0)
		return json_null();
	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(s);
}

static json_t *
result_json(const struct selfcheck_result *r)
{
	json_t *o = json_object(), *fa = json_array();

	for (size_t j = 0; j < r->f.n; j++) {
		const struct finding *x = &r->f.v[j];
		json_t *f = json_object();

		json_object_set_new(f, "state", json_string(finding_sev_name(x->sev)));
		json_object_set_new(f, "code", json_string(x->code));
		json_object_set_new(f, "subject", json_string(x->subject));
		json_object_set_new(f, "text", json_string(x->text));
		json_object_set_new(f, "action", x->action ? json_string(x->action) : json_null());
		json_array_append_new(fa, f);
	}
	json_object_set_new(o, "domain", json_string(r->domain));
	json_object_set_new(o, "state", json_string(finding_sev_name(findings_worst(&r->f))));
	json_object_set_new(o, "mx_hosts", json_integer(r->mx_hosts));
	json_object_set_new(o, "dane_hosts", json_integer(r->dane_hosts));
	json_object_set_new(o, "addresses", json_integer(r->addrs));
	json_object_set_new(o, "addresses_ok", json_integer(r->addrs_ok));
	json_object_set_new(o, "cert_expires", time_json(r->cert_expire));
	json_object_set_new(o, "rrsig_expires", time_json(r->sig_expire));
	json_object_set_new(o, "tlsa_ttl", r->tlsa_ttl ? json_integer(r->tlsa_ttl) : json_null());
	json_object_set_new(o, "findings", fa);
	return o;
}

json_t *
selfcheck_json(const struct selfcheck_result *r, size_t n)
{
	json_t *o = json_object(), *a = json_array();
	enum finding_sev w = selfcheck_worst(r, n);

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, result_json(&r[i]));
	json_object_set_new(o, "time", time_json(n ? r[0].time : 0));
	json_object_set_new(o, "state", json_string(finding_sev_name(w)));
	json_object_set_new(o, "exit", json_integer((int)w));
	json_object_set_new(o, "domains", a);
	return o;
}

/* --------------------------------------------------------- Prometheus */

/* a label value: backslash, quote and newline escaped */
static void
label(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(b, '\\');
		if (*s == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *s);
	}
}

static void
metric(struct buf *b, const char *name, const char *domain, const char *extra, int64_t v)
{
	buf_printf(b, "%s{domain=\"", name);
	label(b, domain);
	buf_printf(b, "\"%s} %lld\n", extra, (long long)v);
}

static void
prom_text(struct buf *b, const struct selfcheck_result *r, size_t n)
{
	static const char *const help[][2] = {
		{ "danepol_selfcheck_state", "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN" },
		{ "danepol_selfcheck_findings", "findings by severity" },
		{ "danepol_selfcheck_addresses_authenticated", "MX addresses that passed DANE" },
		{ "danepol_selfcheck_addresses", "MX addresses probed" },
		{ "danepol_selfcheck_cert_expiry_timestamp_seconds", "earliest served leaf notAfter" },
		{ "danepol_selfcheck_rrsig_expiry_timestamp_seconds", "earliest RRSIG expiration" },
		{ "danepol_selfcheck_tlsa_ttl_seconds", "smallest TLSA TTL" },
		{ "danepol_selfcheck_last_run_timestamp_seconds", "when the self-check ran" },
	};
	static const enum finding_sev sevs[] = { FINDING_CRITICAL, FINDING_WARNING,
		FINDING_UNKNOWN };

	for (size_t k = 0; k < sizeof(help) / sizeof(help[0]); k++) {
		buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", help[k][0], help[k][1], help[k][0]);
		for (size_t i = 0; i < n; i++) {
			const struct selfcheck_result *x = &r[i];

			if (k == 0)
				metric(b, help[k][0], x->domain, "", findings_worst(&x->f));
			for (size_t s = 0; k == 1 && s < 3; s++) {
				char *extra = xasprintf(",severity=\"%s\"", finding_sev_name(sevs[s]));

				metric(b, help[k][0], x->domain, extra,
				    (int64_t)findings_count(&x->f, sevs[s]));
				free(extra);
			}
			if (k == 2)
				metric(b, help[k][0], x->domain, "", x->addrs_ok);
			if (k == 3)
				metric(b, help[k][0], x->domain, "", x->addrs);
			if (k == 4 && x->cert_expire)
				metric(b, help[k][0], x->domain, "", x->cert_expire);
			if (k == 5 && x->sig_expire)
				metric(b, help[k][0], x->domain, "", x->sig_expire);
			if (k == 6 && x->tlsa_ttl)
				metric(b, help[k][0], x->domain, "", x->tlsa_ttl);
			if (k == 7)
				metric(b, help[k][0], x->domain, "", x->time);
		}
	}
}

int
selfcheck_write_prometheus(const char *path, const struct selfcheck_result *r, size_t n,
    char **err)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	struct buf b;
	int fd, rc = -1;

	buf_init(&b);
	prom_text(&b, r, n);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		*err = xasprintf("%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (io_write_all(fd, b.s, b.len) < 0 || fsync(fd) < 0) {
		*err = xasprintf("%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	free(tmp);
	return rc;
}
