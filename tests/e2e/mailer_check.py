#!/usr/bin/env python3
"""tests/e2e/mailer_check.py - assertions of the fault tests over mailer.py
output (OUT), audit logs and the smtp-sink dump. Prints "PASS text" /
"FAIL text" lines (and "# detail" lines) for faults.sh; exit status 0.

  mailer_check.py audit AUDIT [MINLINES]
      every line of AUDIT is one complete JSON object ending in a newline
      (no torn or half-written line); at least MINLINES lines.
  mailer_check.py replies OUT DOMAIN=PREFIX... [--max-ms MS] [--all-queued]
      every recipient reply in OUT starts with the PREFIX of its domain,
      each within MS milliseconds; no message ended in "error";
      --all-queued: every message was queued (250 after DATA).
  mailer_check.py decisions AUDIT TAG TIMEOUT_MS DOMAIN=VERDICT/REASON/LEVEL/ACTION...
      the rcpt lines whose recipient contains TAG: for each DOMAIN the
      verdict, reason, level and action, and elapsed_ms <= TIMEOUT_MS + 300.
  mailer_check.py spans AUDIT OUT TAG
      at least one rcpt decision (recipient containing TAG) began before a
      signal recorded in OUT and ended after it (a reload in flight).
  mailer_check.py delivery OUT SINKDUMP
      every message queued (250 after DATA) reached the sink with exactly
      its accepted recipients; every other message ended with a 4xx reply
      (never 5xx, never a dropped connection) and none of its recipients
      reached the sink.
"""
import json
import re
import sys
from datetime import datetime


def out_records(path):
    recs, sigs = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            (sigs if "signal" in o else recs).append(o)
    return recs, sigs


def res(ok, text, details=()):
    print(("PASS " if ok else "FAIL ") + text)
    for d in list(details)[:8]:
        print("# " + str(d)[:300])


def c_audit(path, minlines=0):
    bad, n = [], 0
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        bad.append("last line has no newline: %r" % lines[-1][:80])
    for i, l in enumerate(lines, 1):
        n += 1
        try:
            o = json.loads(l)
            if not isinstance(o, dict) or "event" not in o:
                bad.append("line %d: not an event object" % i)
        except ValueError:
            bad.append("line %d torn: %r" % (i, l[:120]))
    res(not bad, "audit %s: all %d lines are complete JSON events" % (path.split("/")[-1], n), bad)
    if minlines:
        res(n >= int(minlines), "audit: at least %s lines (%d)" % (minlines, n))


def dom(addr):
    return addr.rsplit("@", 1)[1].lower()


def c_replies(path, specs, max_ms, all_queued):
    want = dict(s.split("=", 1) for s in specs)
    recs, _ = out_records(path)
    bad, slow, nr, errs, notq = [], [], 0, [], []
    for r in recs:
        if r.get("outcome") == "error":
            errs.append(r)
        if all_queued and r.get("outcome") != "250":
            notq.append(r)
        for addr, reply, ms in r.get("rcpts", []):
            nr += 1
            w = want.get(dom(addr))
            if w is None or not reply.startswith(w):
                bad.append("%s: %s (want %s)" % (addr, reply, w))
            if max_ms and ms > max_ms:
                slow.append("%s: %d ms" % (addr, ms))
    res(not bad and nr > 0, "%d recipient replies as expected per domain" % nr, bad)
    if max_ms:
        res(not slow, "every RCPT answered within %d ms" % max_ms, slow)
    res(not errs, "%d messages, no session error" % len(recs), errs)
    if all_queued:
        res(not notq, "every message queued (250 after DATA)", notq)


def c_decisions(path, tag, timeout, specs):
    lines = [json.loads(l) for l in open(path, encoding="utf-8")]
    rc = [o for o in lines if o.get("event") == "rcpt" and tag in o.get("recipient", "")]
    for s in specs:
        d, w = s.split("=", 1)
        verdict, reason, level, action = w.split("/")
        got = [o for o in rc if dom(o["recipient"]) == d]
        if not got:
            res(False, "audit: a decision for %s" % d)
            continue
        bad = []
        for o in got:
            dd = o["decision"]
            g = (dd.get("verdict"), dd.get("reason"), dd.get("level"), o.get("action"))
            if g != (verdict, reason, level, action):
                bad.append("%s: %s" % (o["recipient"], "/".join(map(str, g))))
            if o.get("elapsed_ms", 10**9) > timeout + 300:
                bad.append("%s: elapsed_ms %s" % (o["recipient"], o.get("elapsed_ms")))
        res(not bad, "audit %s: %s within %d ms (%d line(s), max %d ms)"
            % (d, w, timeout + 300, len(got), max(o.get("elapsed_ms", 0) for o in got)), bad)


def ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() - \
        datetime(1970, 1, 1).timestamp()


def c_spans(path, out, tag):
    _, sigs = out_records(out)
    st = [s["t"] for s in sigs if "t" in s]
    n = 0
    for l in open(path, encoding="utf-8"):
        o = json.loads(l)
        if o.get("event") != "rcpt" or tag not in o.get("recipient", ""):
            continue
        end = ts(o["time"])
        start = end - o["elapsed_ms"] / 1000.0
        if any(start < t < end for t in st):
            n += 1
    res(n > 0, "%d decision(s) were in flight across one of %d reloads" % (n, len(st)))


def c_delivery(out, dump):
    recs, _ = out_records(out)
    sink = {}
    if dump:
        with open(dump, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"X-Rcpt-Args: <([^>]*)>", line)
                if m:
                    sink[m.group(1).lower()] = sink.get(m.group(1).lower(), 0) + 1
    lost, extra, odd, dup = [], [], [], []
    nq = n4 = 0
    for r in recs:
        acc = [a.lower() for a, reply, _ in r.get("rcpts", []) if reply.startswith("2")]
        allr = [a.lower() for a, _, _ in r.get("rcpts", [])]
        if r.get("outcome") == "250":
            nq += 1
            lost += [a for a in acc if a not in sink]
            extra += [a for a in allr if a not in acc and a in sink]
        else:
            if r.get("outcome") != "4xx":
                odd.append(r)
            n4 += 1
            extra += [a for a in allr if a in sink]
    dup = [a for a, c in sink.items() if c > 1]
    res(not lost, "all accepted recipients of %d queued messages reached the sink" % nq, lost)
    res(not odd, "every one of the %d other messages got a 4xx (no 5xx, no dropped session)" % n4, odd)
    res(not extra, "no refused recipient and no recipient of an unqueued message reached the sink", extra)
    res(not dup, "no recipient delivered twice", dup)


def main(a):
    if a[1] == "audit":
        c_audit(a[2], a[3] if len(a) > 3 else 0)
    elif a[1] == "replies":
        specs = [x for x in a[3:] if "=" in x and not x.startswith("--")]
        max_ms = 0
        if "--max-ms" in a:
            max_ms = int(a[a.index("--max-ms") + 1])
        c_replies(a[2], specs, max_ms, "--all-queued" in a)
    elif a[1] == "decisions":
        c_decisions(a[2], a[3], int(a[4]), a[5:])
    elif a[1] == "spans":
        c_spans(a[2], a[3], a[4])
    elif a[1] == "delivery":
        c_delivery(a[2], a[3])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError, KeyError, IndexError) as e:
        print("FAIL mailer_check.py %s: %s: %s" % (" ".join(sys.argv[1:2]), type(e).__name__, e))
        sys.exit(0)
