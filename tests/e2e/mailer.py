#!/usr/bin/env python3
"""tests/e2e/mailer.py - concurrent SMTP sessions for the fault tests.

  mailer.py PORT OUT [options]

Runs --sessions threads against 127.0.0.1:PORT. Each thread sends
messages one after another; message m of session s has the envelope sender
<TAG-sS-mM@client.e2e.test> and one recipient per --domains entry, with
the unique local part TAGsSmMrK (so the sink's X-Rcpt-Args lines map back
to one message). A session is reconnected after --per-conn messages and
after any message that was not accepted, and after connection errors.

Options:
  --sessions N        concurrent sessions (default 4)
  --messages N        messages per session (default 10); 0 = until --until
  --until FILE        stop a session (after its current message) once FILE
                      exists; the message count is then a minimum of 0
  --domains D,D,...   recipient domains per message (default secure.example)
  --tag T             address tag (default f)
  --per-conn N        messages per connection (default 5)
  --signal PID:SIG:N[:rcpt]
                      send signal SIG to PID after every N finished messages
                      (or, with ":rcpt", RCPT replies), counted over all
                      sessions; each is recorded as {"signal", "after", "t"}
One JSON object per finished message is appended to OUT (one write each,
flushed): {"s","m","t" (unix time at the end), "mail": reply, "rcpts":
[[addr, reply, ms]...], "data": reply or null, "qid": queue id or null,
"outcome": "250" (queued), "4xx"/"5xx" (first non-2xx reply that ended the
message), or "error" (connection or protocol error, with "error": text)}.
A reply is "CODE text" (last line). Exit 0 when all threads finished.
"""
import argparse
import json
import os
import signal
import smtplib
import sys
import threading
import time

LOCK = threading.Lock()
DONE = {"msg": 0, "rcpt": 0}


def rl(code, msg):
    text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
    return "%d %s" % (code, text.split("\n")[-1])


def record(out, obj, sig):
    line = json.dumps(obj) + "\n"
    with LOCK:
        out.write(line)
        out.flush()
    count(out, sig, "msg")


def count(out, sig, kind):
    with LOCK:
        DONE[kind] += 1
        n = DONE[kind]
    if sig and sig[3] == kind and n % sig[2] == 0:
        try:
            os.kill(sig[0], sig[1])
            with LOCK:
                out.write(json.dumps({"signal": sig[1], "after": n, "t": time.time()}) + "\n")
                out.flush()
        except OSError as e:
            with LOCK:
                out.write(json.dumps({"signal": sig[1], "error": str(e)}) + "\n")
                out.flush()


def one_message(conn, a, s, m, out, sig):
    """Send one message on conn; returns the record (conn may be broken)."""
    sender = "%s-s%d-m%d@client.e2e.test" % (a.tag, s, m)
    rec = {"s": s, "m": m, "mail": None, "rcpts": [], "data": None, "qid": None}
    code, msg = conn.mail(sender)
    rec["mail"] = rl(code, msg)
    if code >= 300:
        rec["outcome"] = "%dxx" % (code // 100)
        return rec
    accepted = 0
    first_bad = None
    for k, d in enumerate(a.domains):
        addr = "%ss%dm%dr%d@%s" % (a.tag, s, m, k, d)
        t0 = time.monotonic()
        code, msg = conn.rcpt(addr)
        ms = int((time.monotonic() - t0) * 1000)
        rec["rcpts"].append([addr, rl(code, msg), ms])
        count(out, sig, "rcpt")
        if code < 300:
            accepted += 1
        elif first_bad is None:
            first_bad = code
    if accepted == 0:
        conn.rset()
        rec["outcome"] = "%dxx" % (first_bad // 100)
        return rec
    body = ("Subject: danepol fault test %s s%d m%d\r\nMessage-ID: <%s.%d.%d@client.e2e.test>\r\n\r\n"
            "danepol fault test message\r\n" % (a.tag, s, m, a.tag, s, m)).encode()
    try:
        code, msg = conn.data(body)
    except smtplib.SMTPDataError as e:	# DATA itself refused (e.g. 451 4.7.1)
        code, msg = e.smtp_code, e.smtp_error
    rec["data"] = rl(code, msg)
    if code == 250:
        rec["outcome"] = "250"
        if "queued as " in rec["data"]:
            rec["qid"] = rec["data"].split("queued as ")[1].split()[0]
    else:
        rec["outcome"] = "%dxx" % (code // 100)
    return rec


def session(a, s, out, sig):
    conn = None
    on_conn = 0
    m = 0
    while True:
        if a.messages and m >= a.messages:
            break
        if a.until and os.path.exists(a.until):
            break
        rec = None
        try:
            if conn is None:
                conn = smtplib.SMTP("127.0.0.1", a.port, timeout=60)
                conn.ehlo("client%d.e2e.test" % s)
                on_conn = 0
            rec = one_message(conn, a, s, m, out, sig)
            on_conn += 1
        except (OSError, smtplib.SMTPException) as e:
            rec = rec or {"s": s, "m": m}
            rec["outcome"] = "error"
            rec["error"] = "%s: %s" % (type(e).__name__, e)
            conn = None
        rec["t"] = time.time()
        record(out, rec, sig)
        m += 1
        if conn is not None and (rec["outcome"] != "250" or on_conn >= a.per_conn):
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            conn = None
    if conn is not None:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("out")
    p.add_argument("--sessions", type=int, default=4)
    p.add_argument("--messages", type=int, default=10)
    p.add_argument("--until")
    p.add_argument("--domains", default="secure.example")
    p.add_argument("--tag", default="f")
    p.add_argument("--per-conn", type=int, default=5)
    p.add_argument("--signal")
    a = p.parse_args()
    a.domains = a.domains.split(",")
    sig = None
    if a.signal:
        w = a.signal.split(":")
        sig = (int(w[0]), getattr(signal, "SIG" + w[1]), int(w[2]), w[3] if len(w) > 3 else "msg")
    with open(a.out, "a", encoding="utf-8") as out:
        ts = [threading.Thread(target=session, args=(a, s, out, sig)) for s in range(a.sessions)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
