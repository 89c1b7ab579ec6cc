/*
 * smime_ar.c - (being written) see smime.h.
 */
#include "config.h"

#include "mem.h"
#include "smime.h"

char *
smime_ar_value(const char *authserv_id, const struct smime_report *rep)
{
	return xasprintf("%s; smime=%s", authserv_id, smime_result_name(rep->result));
}

int
smime_ar_is_ours(const char *v, const char *authserv_id)
{
	(void)v, (void)authserv_id;
	return 0;
}

json_t *
smime_report_json(const struct smime_report *rep)
{
	return json_pack("{s:s}", "result", smime_result_name(rep->result));
}
