/*
 * policy_json.h - a decision as JSON (jansson), the full decision chain.
 *
 * The object's shape is doc/decision.schema.json; tests validate output
 * against it. Used by `danepol check --json` and (later) the audit log.
 */
#ifndef DANEPOL_POLICY_JSON_H
#define DANEPOL_POLICY_JSON_H

#include <jansson.h>

#include "policy.h"
#include "policy_run.h"
#include "policy_status.h"

/**
 * New JSON object for d (caller owns the reference: json_decref()).
 * st gives the SMTP reply/enhanced code/tlsrpt result for d->reason
 * (NULL: built-in defaults). o, when not NULL, adds this call's
 * cache_hit and elapsed_ms.
 */
json_t *policy_decision_json(const struct policy_decision *d,
    const struct policy_status_table *st, const struct policy_outcome *o);

#endif
