/*
 * rcpt.h - the destination domain of an SMTP envelope recipient.
 *
 * Input is what an MTA hands over as the RCPT argument: "<user@example.com>",
 * "user@example.com", "<@relay1,@relay2:user@example.com>" (a source route,
 * ignored as RFC 5321 4.1.2 allows), "<\"odd@local\"@example.com>" (quoted
 * local part), "<user@[192.0.2.1]>" / "<user@[IPv6:2001:db8::1]>" (address
 * literal: DANE does not apply), "<postmaster>" (no domain), and
 * "<user@bücher.example>" (SMTPUTF8: the domain becomes A-labels).
 * Nothing is allocated; the result lives in the caller's struct.
 */
#ifndef DANEPOL_RCPT_H
#define DANEPOL_RCPT_H

#include "dnsname.h"

#define RCPT_MAX_LEN 1024 /* longer input is refused (RFC 5321 path: 256) */

enum rcpt_kind {
	RCPT_DOMAIN,  /* domain holds the canonical domain */
	RCPT_LITERAL, /* domain holds the literal, brackets included */
	RCPT_LOCAL,   /* no domain part ("postmaster") */
	RCPT_INVALID, /* why says what is wrong */
};

struct rcpt {
	enum rcpt_kind kind;
	char domain[DNSNAME_MAX];
	const char *why; /* static text when RCPT_INVALID, else NULL */
};

/** Parse arg (NUL-terminated, any bytes) into *r. Returns r->kind. */
enum rcpt_kind rcpt_parse(const char *arg, struct rcpt *r);

#endif
