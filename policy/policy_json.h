/*
 * policy_json.h - a decision as JSON (jansson), the full decision chain.
 *
 * The object's shape is doc/decision.schema.json; tests validate output
 * against it. Used by `danepol check --json` and the audit log.
 */
#ifndef DANEPOL_POLICY_JSON_H
#define DANEPOL_POLICY_JSON_H

#include <jansson.h>

#include "buf.h"
#include "policy.h"
#include "policy_run.h"
#include "policy_status.h"

/**
 * New JSON object for d (caller owns the reference: json_decref()).
 * st gives the SMTP reply/enhanced code/tlsrpt result for d->reason
 * (NULL: built-in defaults). o, when not NULL, adds this call's
 * cache_hit and elapsed_ms.
 */
json_t *policy_json_decision(const struct policy_decision *d, const struct policy_status_table *st,
    const struct policy_outcome *o);

/**
 * Append to out the compact JSON text of policy_json_decision(d, st, o):
 * the same members in the same order, octet for octet. The text without
 * o's members is rendered once per decision and kept with d (thread-safe;
 * freed with d), so every later call - each cache hit - is a copy: the
 * audit log's hot path. A different st than the one kept renders afresh
 * (that call only). Returns 0, or -1 (out unchanged) when jansson could
 * not allocate (logged).
 */
int policy_json_decision_append(struct buf *out, const struct policy_decision *d,
    const struct policy_status_table *st, const struct policy_outcome *o);

#endif
