#!/usr/bin/env python3
"""tests/e2e/validate_audit.py - check danepold audit logs.

  validate_audit.py schema DOCDIR AUDITLOG...
      Every line of every AUDITLOG must be one JSON object valid against
      DOCDIR/audit.schema.json (JSON Schema 2020-12). Its $refs to
      decision.schema.json (relative, by $id, or file:) are resolved from
      DOCDIR, never over the network. Prints "PASS ..." / "FAIL ..." lines.

  validate_audit.py join AUDITLOG EXPECT
      Join the audit log with what SMTP clients saw. EXPECT is a TSV file:
        txn  SENDER  QID|-  ENDS           (ENDS: comma list, e.g. eom or abort,close)
        rcpt SENDER  RECIPIENT|*  CLIENT_REPLY  VERDICT|*  REASON|*  ACTION|*
        count rcpt|message  N              (lines of that event in the whole log)
      Transactions are identified by their unique sender. For each: exactly
      one message line; one rcpt line per RCPT, in order; action, reply,
      verdict and reason matching the client's reply; the message line's
      recipients, accepted/deferred counts and queue id (the one the client
      saw in "queued as"); one session id throughout.
      Prints "PASS ..." / "FAIL ...: detail" lines; the caller counts them.

  validate_audit.py bounds AUDITLOG [SENDER TOTAL]
      Every "message" line within the bounds doc/audit.schema.json states
      (at most MESSAGE_LINE_MAX bytes, "recipients" at most RCPTS_MAX
      entries and RCPT_BYTES bytes of JSON, listed + recipients_omitted =
      accepted + deferred). With SENDER and TOTAL: that sender's message
      line counts TOTAL recipients, some omitted, and lists a prefix of its
      rcpt lines.

Exit status: 0 when nothing failed, 1 otherwise, 2 on usage errors.
"""
import json
import os
import sys


def out(ok, desc, detail=""):
    print(("PASS " if ok else "FAIL ") + desc + ((": " + detail) if (detail and not ok) else ""))
    return ok


def strip_angle(s):
    if isinstance(s, str) and len(s) >= 2 and s[0] == "<" and s[-1] == ">":
        return s[1:-1]
    return s


def load_lines(path):
    """List of (lineno, object or None, error text)."""
    res = []
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        res.append((0, None, "log does not end with a newline"))
    for n, raw in enumerate(data.split(b"\n")[:-1] if data else [], 1):
        try:
            o = json.loads(raw.decode("utf-8"))
            if not isinstance(o, dict):
                raise ValueError("not an object")
            res.append((n, o, None))
        except (ValueError, UnicodeDecodeError) as e:
            res.append((n, None, "line %d: %s" % (n, e)))
    return res


def make_validator(docdir):
    import jsonschema
    from urllib.parse import urlparse

    schemas = {}
    for name in ("audit.schema.json", "decision.schema.json", "probe.schema.json",
                 "selfcheck.schema.json"):
        with open(os.path.join(docdir, name), encoding="utf-8") as f:
            schemas[name] = json.load(f)
    audit = schemas["audit.schema.json"]
    jsonschema.Draft202012Validator.check_schema(audit)

    def local(uri):
        base = os.path.basename(urlparse(uri).path)
        if base not in schemas:
            raise LookupError("refusing to fetch %s (not a local schema)" % uri)
        return schemas[base]

    try:  # jsonschema >= 4.18: the referencing library
        from referencing import Registry, Resource
        registry = Registry().with_resources(
            [(s["$id"], Resource.from_contents(s)) for s in schemas.values() if "$id" in s])
        return jsonschema.Draft202012Validator(audit, registry=registry)
    except ImportError:  # Debian 12: jsonschema 4.10, RefResolver
        pass
    store = {}
    for s in schemas.values():
        if "$id" in s:
            store[s["$id"]] = s
    base = audit.get("$id", "file://" + os.path.abspath(os.path.join(docdir, "audit.schema.json")))
    resolver = jsonschema.RefResolver(base, audit, store=store,
                                      handlers={"http": local, "https": local, "file": local})
    return jsonschema.Draft202012Validator(audit, resolver=resolver)


def branch_errors(context):
    """The errors of the oneOf/anyOf branches whose "event" matched (the
    rcpt branch for a rcpt line), or all of them when none did."""
    branches = {}
    for e in context:
        branches.setdefault(e.relative_schema_path[0] if e.relative_schema_path else None, []).append(e)
    keep = [errs for errs in branches.values() if not any(list(x.absolute_path)[-1:] == ["event"] for x in errs)]
    return [x for errs in keep for x in errs] or list(context)


def cmd_schema(docdir, logs):
    try:
        v = make_validator(docdir)
    except Exception as e:  # missing file, bad schema, missing jsonschema
        out(False, "audit schema loads (%s)" % docdir, "%s: %s" % (type(e).__name__, e))
        return 1
    from jsonschema.exceptions import best_match
    bad = 0
    for path in logs:
        errs = []
        lines = load_lines(path)
        for n, o, err in lines:
            if err:
                errs.append(err)
                continue
            e = best_match(v.iter_errors(o))
            while e is not None and e.context:  # oneOf/anyOf: the reason in the closest branch
                e = best_match(branch_errors(e.context))
            if e is not None:
                errs.append("line %d: /%s: %s" % (n, "/".join(str(p) for p in e.absolute_path), e.message[:200]))
        nl = len(lines)
        if not out(not errs and nl > 0, "%s: %d lines, each valid against audit.schema.json" % (os.path.basename(os.path.dirname(path)) + "/" + os.path.basename(path), nl),
                   "; ".join(errs[:5]) if errs else "empty log"):
            bad += 1
    return 1 if bad else 0


# store/audit.h AUDIT_MSG_RCPTS_MAX, AUDIT_MSG_RCPT_BYTES; the line bound of
# doc/audit.schema.json ("message" description).
RCPTS_MAX = 1000
RCPT_BYTES = 131072
MESSAGE_LINE_MAX = 147456


def cmd_bounds(log, sender=None, total=None):
    with open(log, "rb") as f:
        raw = [l for l in f.read().split(b"\n") if l]
    objs = [json.loads(l) for l in raw]
    msgs = [(len(l) + 1, o) for l, o in zip(raw, objs) if o.get("event") == "message"]
    errs = []
    for n, o in msgs:
        r = o.get("recipients", [])
        rb = len(json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode())
        if n > MESSAGE_LINE_MAX or len(r) > RCPTS_MAX or rb > RCPT_BYTES:
            errs.append("message line of %d bytes, %d recipients in %d bytes" % (n, len(r), rb))
        if len(r) + o.get("recipients_omitted", 0) != o.get("accepted", 0) + o.get("deferred", 0):
            errs.append("%d listed + %s omitted != %s + %s" % (len(r), o.get("recipients_omitted"), o.get("accepted"), o.get("deferred")))
    fails = not out(not errs and msgs, "%d message lines within bounds (longest %d bytes)" % (len(msgs), max([n for n, o in msgs] or [0])), "; ".join(errs[:3]) or "no message line")
    if sender is None:
        return 1 if fails else 0
    mine = [o for n, o in msgs if o.get("sender") == sender]
    lines = [o for o in objs if o.get("event") == "rcpt" and o.get("sender") == sender]
    m = mine[0] if len(mine) == 1 else {}
    r = m.get("recipients", [])
    om = m.get("recipients_omitted", 0)
    fails += not out(len(mine) == 1 and m.get("accepted", 0) + m.get("deferred", 0) == int(total) and om > 0,
                     "%s: one message line counting %s recipients, %d omitted (marker)" % (sender, total, om), "got %s" % json.dumps({k: v for k, v in m.items() if k != "recipients"})[:300])
    fails += not out(len(lines) == int(total), "%s: one rcpt line for each of the %s recipients" % (sender, total), "got %d" % len(lines))
    fails += not out([x.get("recipient") for x in r] == [x.get("recipient") for x in lines[:len(r)]],
                     "%s: the %d listed recipients are the first rcpt lines" % (sender, len(r)))
    return 1 if fails else 0


def client_action(reply):
    return "continue" if reply.startswith("2") else "tempfail"


def cmd_join(log, expect):
    txns, rcpts, counts = [], {}, []
    with open(expect, encoding="utf-8") as f:
        for l in f:
            l = l.rstrip("\n")
            if not l or l.startswith("#"):
                continue
            p = l.split("\t")
            if p[0] == "txn":
                txns.append((p[1], None if p[2] == "-" else p[2], p[3].split(",")))
            elif p[0] == "rcpt":
                rcpts.setdefault(p[1], []).append(p[2:7])
            elif p[0] == "count":
                counts.append((p[1], int(p[2])))
    objs = []
    for n, o, err in load_lines(log):
        if err:
            out(False, "audit line parses", err)
        else:
            objs.append(o)
    fails = 0
    for ev, want in counts:
        got = sum(1 for o in objs if o.get("event") == ev)
        fails += not out(got == want, "%d %s lines in the audit log" % (want, ev), "got %d" % got)
    for sender, qid, ends in txns:
        fails += not join_txn(objs, sender, qid, ends, rcpts.get(sender, []))
    return 1 if fails else 0


def join_txn(objs, sender, qid, ends, want):
    tag = "txn %s" % sender
    mine = [o for o in objs if strip_angle(o.get("sender")) == sender]
    msgs = [o for o in mine if o.get("event") == "message"]
    lines = [o for o in mine if o.get("event") == "rcpt"]
    ok = out(len(msgs) == 1, tag + ": exactly one message line", "got %d" % len(msgs))
    ok &= out(len(lines) == len(want), tag + ": one rcpt line per RCPT (%d)" % len(want), "got %d" % len(lines))
    sessions = {o.get("session") for o in mine}
    ok &= out(len(sessions) == 1, tag + ": one session id", repr(sessions))
    for i, (o, w) in enumerate(zip(lines, want)):
        rcpt, reply, verdict, reason, action = w
        d = o.get("decision") or {}
        act = action if action != "*" else client_action(reply)
        errs = []
        if rcpt != "*" and strip_angle(o.get("recipient")) != rcpt:
            errs.append("recipient %r (RCPT #%d was %r)" % (o.get("recipient"), i + 1, rcpt))
        if o.get("action") != act:
            errs.append("action %r, want %r" % (o.get("action"), act))
        if act == "tempfail" and o.get("reply") != reply:
            errs.append("reply %r, client saw %r" % (o.get("reply"), reply))
        if act != "tempfail" and o.get("reply") is not None:
            errs.append("reply %r for a %s" % (o.get("reply"), act))
        if verdict != "*" and d.get("verdict") != verdict:
            errs.append("verdict %r, want %r" % (d.get("verdict"), verdict))
        if reason != "*" and d.get("reason") != reason:
            errs.append("reason %r, want %r" % (d.get("reason"), reason))
        if qid and o.get("queue_id") not in (None, qid):
            errs.append("queue_id %r, client saw %r" % (o.get("queue_id"), qid))
        ok &= out(not errs, "%s: rcpt %s -> %s (%s %s %s)" % (tag, rcpt, reply[:40], d.get("verdict"), d.get("reason"), o.get("action")), "; ".join(errs))
    if len(msgs) != 1:
        return ok
    m = msgs[0]
    errs = []
    if m.get("end") not in ends:
        errs.append("end %r, want one of %s" % (m.get("end"), ends))
    if qid and m.get("queue_id") != qid:
        errs.append("queue_id %r, client saw 'queued as %s'" % (m.get("queue_id"), qid))
    acc = sum(1 for w in want if w[1].startswith("2"))
    if m.get("accepted") != acc or m.get("deferred") != len(want) - acc:
        errs.append("accepted/deferred %r/%r, client saw %d/%d" % (m.get("accepted"), m.get("deferred"), acc, len(want) - acc))
    mr = m.get("recipients") or []
    if len(mr) + m.get("recipients_omitted", 0) != len(lines):
        errs.append("%d recipients listed + %r omitted, %d rcpt lines" % (len(mr), m.get("recipients_omitted"), len(lines)))
    if [(strip_angle(r.get("recipient")), r.get("verdict"), r.get("action")) for r in mr] != \
            [(strip_angle(o.get("recipient")), (o.get("decision") or {}).get("verdict"), o.get("action")) for o in lines[:len(mr)]]:
        errs.append("recipients %s do not match the rcpt lines" % json.dumps(mr)[:300])
    return out(not errs, "%s: message line (end %s, queue id %s, %s/%s)" % (tag, m.get("end"), m.get("queue_id"), m.get("accepted"), m.get("deferred")), "; ".join(errs)) and ok


def main(argv):
    if len(argv) >= 3 and argv[1] == "schema":
        return cmd_schema(argv[2], argv[3:])
    if len(argv) in (3, 5) and argv[1] == "bounds":
        return cmd_bounds(*argv[2:])
    if len(argv) == 4 and argv[1] == "join":
        return cmd_join(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
