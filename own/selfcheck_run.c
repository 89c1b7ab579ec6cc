/*
 * selfcheck_run.c - the self-check of many own domains (selfcheck.h):
 * options from the configuration, the served files, one run over the
 * domains. Shared by danepol selfcheck and danepold's selfcheck_interval.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "selfcheck.h"

#define WORDS_MAX 64

void
selfcheck_opts_conf(struct selfcheck_opts *o, const struct conf *c, int64_t now)
{
	memset(o, 0, sizeof(*o));
	o->cert_warn_days = c->selfcheck_cert_warn_days;
	o->cert_crit_days = c->selfcheck_cert_crit_days;
	o->sig_warn_days = c->selfcheck_sig_warn_days;
	o->sig_crit_days = c->selfcheck_sig_crit_days;
	o->step_timeout_ms = c->probe_step_timeout_ms;
	o->helo = c->probe_helo;
	o->now = now;
	o->rollover_ttls = c->rollover_ttls;
}

size_t
selfcheck_words(const char *value, char ***out)
{
	static const char sep[] = " \t,";
	size_t n = 0;

	*out = xcalloc(WORDS_MAX + 1, sizeof(char *));
	for (const char *p = value ? value + strspn(value, sep) : ""; *p && n < WORDS_MAX;
	     p += strspn(p, sep)) {
		size_t len = strcspn(p, sep);

		(*out)[n++] = xstrndup(p, len);
		p += len;
	}
	return n;
}

size_t
selfcheck_served_files(const struct conf *c, char *const *files, size_t nfiles,
    const char *postconf_dir, int use_postconf, struct findings *f, char ***out)
{
	char *err = NULL;
	int n;

	if (nfiles > 0) {
		*out = xcalloc(nfiles + 1, sizeof(char *));
		for (size_t i = 0; i < nfiles; i++)
			(*out)[i] = xstrdup(files[i]);
		return nfiles;
	}
	if (c->selfcheck_cert_files || !use_postconf)
		return selfcheck_words(c->selfcheck_cert_files, out);
	if ((n = selfcheck_postconf_files(NULL, postconf_dir, out, &err)) >= 0)
		return (size_t)n;
	if (strstr(err, strerror(ENOENT)) == NULL) /* no postconf here: Exim, say */
		findings_add(f, FINDING_UNKNOWN, "postconf-failed", "postconf",
		    "name the files with selfcheck_cert_files or --cert", "%s", err);
	free(err);
	return selfcheck_words(NULL, out);
}

struct selfcheck_result *
selfcheck_all(struct policy_runtime *rt, char *const *domains, size_t n, char *const *paths,
    size_t npaths, const struct findings *pre, const struct selfcheck_opts *o)
{
	struct selfcheck_result *r = xcalloc(n ? n : 1, sizeof(*r));
	struct findings load = { 0 };
	struct selfcheck_opts oc = *o;
	struct selfcheck_chain *chains = NULL;
	size_t nchains = 0;

	selfcheck_chains_load(paths, npaths, &load, &chains, &nchains);
	oc.chains = chains;
	oc.nchains = nchains;
	for (size_t i = 0; i < n; i++) {
		selfcheck_domain(rt, domains[i], &oc, &r[i]);
		findings_append(&r[i].f, pre);
		findings_append(&r[i].f, &load);
	}
	selfcheck_chains_free(chains, nchains);
	findings_clear(&load);
	return r;
}

void
selfcheck_results_free(struct selfcheck_result *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++)
		selfcheck_result_clear(&r[i]);
	free(r);
}
