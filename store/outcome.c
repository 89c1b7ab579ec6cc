/*
 * outcome.c - life cycle of struct tls_outcome (see outcome.h).
 *
 * outcome_clear() frees every string the outcome owns (all char *
 * members and the policy_strings array with its elements); result_type
 * is a static string and is never freed. outcome_copy() makes a deep
 * copy that the destination then owns. Both are thread-safe (no shared
 * state).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kvline.h"
#include "mem.h"
#include "outcome.h"
#include "tlsrpt_class.h"

/** Free every owned string of *o and zero it. NULL-safe. */
void
outcome_clear(struct tls_outcome *o)
{
	size_t i;

	if (o == NULL)
		return;
	free(o->policy_domain);
	if (o->policy_strings != NULL) {
		for (i = 0; i < o->npolicy_strings; i++)
			free(o->policy_strings[i]);
		free(o->policy_strings);
	}
	free(o->mx_host);
	free(o->receiving_ip);
	free(o->sending_ip);
	free(o->relay);
	free(o->mx_helo);
	free(o->detail);
	memset(o, 0, sizeof(*o));
}

/**
 * Deep copy of src into *dst; dst's previous contents are overwritten
 * without being freed. NULL strings stay NULL; a NULL policy_strings
 * array (or npolicy_strings 0) yields NULL / 0.
 */
void
outcome_copy(struct tls_outcome *dst, const struct tls_outcome *src)
{
	size_t i;

	*dst = *src;
	dst->policy_domain = xstrdup_null(src->policy_domain);
	dst->mx_host = xstrdup_null(src->mx_host);
	dst->receiving_ip = xstrdup_null(src->receiving_ip);
	dst->sending_ip = xstrdup_null(src->sending_ip);
	dst->relay = xstrdup_null(src->relay);
	dst->mx_helo = xstrdup_null(src->mx_helo);
	dst->detail = xstrdup_null(src->detail);
	dst->policy_strings = NULL;
	dst->npolicy_strings = 0;
	if (src->policy_strings != NULL && src->npolicy_strings > 0) {
		dst->policy_strings = xcalloc(src->npolicy_strings, sizeof(char *));
		for (i = 0; i < src->npolicy_strings; i++)
			dst->policy_strings[i] = xstrdup_null(src->policy_strings[i]);
		dst->npolicy_strings = src->npolicy_strings;
	}
}

/** Static name of a source: "probe", "postfix", "exim", "sts-fetch" ("unknown" otherwise). */
const char *
outcome_source_name(enum outcome_source s)
{
	switch (s) {
	case OUTCOME_SRC_PROBE:
		return "probe";
	case OUTCOME_SRC_POSTFIX:
		return "postfix";
	case OUTCOME_SRC_EXIM:
		return "exim";
	case OUTCOME_SRC_STS:
		return "sts-fetch";
	}
	return "unknown";
}

const char *
outcome_policy_name(enum outcome_policy t)
{
	switch (t) {
	case OUTCOME_POLICY_NONE:
		return "no-policy-found";
	case OUTCOME_POLICY_TLSA:
		return "tlsa";
	case OUTCOME_POLICY_STS:
		return "sts";
	}
	return NULL;
}

/* RFC 8460 §4.3 / IANA "STARTTLS Validation Result Types". */
static const char *const result_types[] = {
	"starttls-not-supported",
	"certificate-host-mismatch",
	"certificate-expired",
	"certificate-not-trusted",
	"validation-failure",
	"tlsa-invalid",
	"dnssec-invalid",
	"dane-required",
	"sts-policy-fetch-error",
	"sts-policy-invalid",
	"sts-webpki-invalid",
};

/** Static registered result type equal to name, or NULL (also for NULL). */
const char *
outcome_result_type(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(result_types) / sizeof(result_types[0]); i++)
		if (strcmp(name, result_types[i]) == 0)
			return result_types[i];
	return NULL;
}

int
outcome_exim_event(const char *name, const struct kvline *f, int64_t now, struct tls_outcome *o)
{
	const char *domain = kvline_get(f, "domain"), *host = kvline_get(f, "host");
	const char *data = kvline_get(f, "data"), *cipher = kvline_get(f, "cipher");
	const char *dane = kvline_get(f, "dane"), *ip = kvline_get(f, "ip");
	int known;

	memset(o, 0, sizeof(*o));
	if (domain == NULL || *domain == 0 || host == NULL || *host == 0)
		return -1;
	if (strcmp(name, "msg:delivery") == 0) {
		o->success = cipher != NULL && *cipher != 0;
		o->policy_type = dane != NULL && strcmp(dane, "yes") == 0 ? OUTCOME_POLICY_TLSA
										 : OUTCOME_POLICY_NONE;
		if (!o->success) {
			o->result_type = "starttls-not-supported";
			o->detail = xstrdup("delivered without TLS");
		}
	} else if (strcmp(name, "dane:fail") == 0) {
		o->policy_type = OUTCOME_POLICY_TLSA;
		o->result_type = tlsrpt_class_text(data, &known);
		if (!known)
			o->detail = xstrdup_null(data && *data ? data : NULL);
	} else {
		return -1;
	}
	o->time = now;
	o->source = OUTCOME_SRC_EXIM;
	o->policy_domain = xstrdup(domain);
	o->mx_host = xstrdup(host);
	o->receiving_ip = xstrdup_null(ip && *ip ? ip : NULL);
	return 0;
}
