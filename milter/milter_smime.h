/*
 * milter_smime.h - the milter's inbound S/MIME signer check
 * (milter_smime.c): which connections are checked, the message kept for
 * the check, and the end-of-message step that adds the
 * Authentication-Results field (the check itself is smime/smime.h).
 *
 * Off unless smime_listeners names a listener. Then the milter asks
 * Postfix for header fields and bodies on every connection (negotiation
 * comes before the connect macros tell which listener it is), keeps the
 * message only on connections whose {daemon_name} is listed, and skips
 * the body of the others at once (SMFIS_SKIP).
 *
 * Ownership: a struct milter_smime belongs to one MAIL transaction
 * (milter.c's struct cb_msg) and one libmilter thread. The OCSP cache is
 * process-wide (made on first use, freed by milter_smime_shutdown()).
 */
#ifndef DANEPOL_MILTER_MILTER_SMIME_H
#define DANEPOL_MILTER_MILTER_SMIME_H

#include <stddef.h>

#include <libmilter/mfapi.h>

#include "audit.h"
#include "conf.h"
#include "policy_run.h"

struct milter_smime;

/** Whether c turns the check on at all (smime_listeners set). */
int milter_smime_configured(const struct conf *c);

/** Whether mail of the listener daemon_name ({daemon_name}; NULL: not known) is checked. */
int milter_smime_listener(const struct conf *c, const char *daemon_name);

/**
 * A new transaction's keeper, with c's limits and authserv-id (borrowed:
 * c must outlive the keeper, as the transaction's snapshot does). Free
 * with milter_smime_free().
 */
struct milter_smime *milter_smime_new(const struct conf *c);
void milter_smime_free(struct milter_smime *s);

/** One header field as libmilter hands it over (value without the leading space). */
void milter_smime_header(struct milter_smime *s, const char *name, const char *value);

/** End of header: the empty line. */
void milter_smime_eoh(struct milter_smime *s);

/** A body chunk. Returns 1 while the rest is wanted, 0 past smime_max_message (skip it). */
int milter_smime_body(struct milter_smime *s, const unsigned char *p, size_t n);

/**
 * End of message: run the check, remove the forged Authentication-Results
 * fields of our authserv-id, insert ours at the top, write the "smime"
 * audit line and a mail-log line. Returns SMFIS_CONTINUE, or
 * SMFIS_TEMPFAIL (reply 451 4.7.5 set) for a temperror with
 * smime_on_temperror = tempfail. t: the transaction's audit facts.
 */
sfsistat milter_smime_eom(struct milter_smime *s, SMFICTX *ctx, const struct policy_runtime *rt,
    const struct audit_txn *t);

/** Free the process-wide OCSP cache (at exit, after libmilter stopped). */
void milter_smime_shutdown(void);

#endif
