/*
 * report_postfix_line.h - private to report_postfix*.c: splitting one
 * Postfix log line (report_postfix_line.c) for the session logic of
 * report_postfix.c. Nothing here allocates except
 * report_postfix_line_record(); no state: any thread.
 */
#ifndef DANEPOL_REPORT_POSTFIX_LINE_H
#define DANEPOL_REPORT_POSTFIX_LINE_H

#include <stdint.h>

#include "dnsname.h"

#define PF_MAX_LINE 8192
#define PF_MAX_IP   46

/* The parts of one log line. */
struct pf_line {
	const char *raw;
	int64_t time;
	const char *msg;
	char id[512];
};

/**
 * Split raw into time stamp (syslog "Mmm dd HH:MM:SS", year chosen against
 * ref; or RFC 3339), "HOST PROG[PID]" (l->id) and message (l->msg, points
 * into raw). Returns 1 for an smtp(8) line, 0 for another program's, -1
 * when malformed.
 */
int report_postfix_line_parse(const char *raw, int64_t ref, struct pf_line *l);

/**
 * For a qmgr(8) line of l ("QUEUEID: from=<SENDER>, ..."), copy QUEUEID
 * into qid (size >= PF_MAX_QID) and return 1 when SENDER equals sender
 * (without case); 0 otherwise.
 */
#define PF_MAX_QID 64
int report_postfix_line_qmgr_from(const struct pf_line *l, const char *sender, char *qid);

/**
 * "HOST[IP]:PORT" at p: HOST canonical into host (DNSNAME_MAX), IP into
 * ip (PF_MAX_IP, hex digits, ':' and '.' only), *endp past PORT. 0 or -1.
 */
int report_postfix_line_hostaddr(const char *p, char *host, char *ip, const char **endp);

/** "U S M HEX" at p: a new string (caller frees), or NULL if malformed/abbreviated. */
char *report_postfix_line_record(const char *p);

#endif
