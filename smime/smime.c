/*
 * smime.c - (being written) see smime.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "smime.h"

void
smime_limits_default(struct smime_limits *lim)
{
	lim->max_message = 10 * 1024 * 1024;
	lim->max_depth = 8;
	lim->max_parts = 100;
	lim->max_certs = 20;
	lim->timeout_ms = 10000;
	lim->ocsp_timeout_ms = 5000;
}

void
smime_check(struct dns_resolver *res, struct smime_ocsp_cache *ocsp, const char *msg,
    size_t len, const struct smime_limits *lim, struct smime_report *rep)
{
	(void)res, (void)ocsp, (void)msg, (void)len, (void)lim;
	memset(rep, 0, sizeof(*rep));
	rep->result = SMIME_TEMPERROR;
	rep->reason = xstrdup("not implemented");
}

void
smime_report_clear(struct smime_report *rep)
{
	if (rep == NULL)
		return;
	free(rep->reason);
	free(rep->part);
	free(rep->kind);
	free(rep->from);
	free(rep->signer);
	free(rep->serial);
	free(rep->issuer);
	free(rep->smimea);
	free(rep->record);
	free(rep->dnssec);
	free(rep->ocsp);
	memset(rep, 0, sizeof(*rep));
}

const char *
smime_result_name(enum smime_result r)
{
	switch (r) {
	case SMIME_NONE:
		return "none";
	case SMIME_PASS:
		return "pass";
	case SMIME_FAIL:
		return "fail";
	case SMIME_NEUTRAL:
		return "neutral";
	case SMIME_TEMPERROR:
		return "temperror";
	default:
		return "permerror";
	}
}
