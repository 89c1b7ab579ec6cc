#!/usr/bin/env python3
"""tests/e2e/exim_util.py - helpers of tests/e2e/exim_bridge.sh.

  exim_util.py query SOCKET LINE
      Send LINE + "\\n" to the unix socket and half-close it, read to end
      of file (as Exim's ${readsocket} does, 5 s bound), print the reply
      without its newline.
  exim_util.py field NAME REPLY
      Print the value of NAME in a key=value reply line (the ${extract}
      reading: double-quoted values with \\" and \\\\ escapes); exit 1
      when the key is missing.
  exim_util.py replies bh FILE RCPT...
  exim_util.py replies swaks FILE
      The SMTP replies of an Exim -bh session's stdout (banner, HELO,
      MAIL, then one per RCPT: printed as "RCPT<TAB>reply") or of a swaks
      transcript (each RCPT TO and MAIL FROM command with its reply).
      Exim splits reply texts longer than 75 characters into multi-line
      replies ("450-4.7.5 first part" ... "450 4.7.5 last part"); they are
      joined back into one line: the first line's code and enhanced code,
      then the parts separated by single spaces.
  exim_util.py hang|close SOCKET LOG
      A unix-socket server that accepts connections, appends each request
      line it reads to LOG, and never answers: "hang" keeps the connection
      open (the ${readsocket} timeout path), "close" closes it at once (an
      empty reply). Runs until killed; prints "READY" once listening.
  exim_util.py snippets DOC CONF
      Every fenced block that follows a "<!-- snippet: NAME -->" line (one
      word: "TARGET NAME" markers name other files and are skipped) in
      DOC must appear verbatim (as consecutive lines) in CONF. Prints
      "PASS ..." / "FAIL ..." lines, one per snippet; exits 1 when none.
  exim_util.py events AUDITLOG NAME:DOMAIN[:FIELD=VALUE|FIELD~][,...]...
      Each argument: at least one {"event":"exim"} line with that name
      and fields.domain; FIELD=VALUE needs that field value, FIELD~ a
      non-empty field. Prints PASS/FAIL per argument.
  exim_util.py queries AUDITLOG REQUEST:REASON...
      Each argument: an {"event":"exim-query"} line for that request with
      that decision reason. Prints PASS/FAIL per argument.
"""
import json
import os
import re
import socket
import sys


def kv_get(line, name):
    """The value of name in an ${extract}-style line, or None."""
    i, n = 0, len(line)
    found = None
    while i < n:
        while i < n and line[i] in " \t":
            i += 1
        j = line.find("=", i)
        if j < 0:
            break
        key = line[i:j]
        i = j + 1
        if i < n and line[i] == '"':
            i += 1
            val = []
            while i < n and line[i] != '"':
                if line[i] == "\\" and i + 1 < n and line[i + 1] in '"\\':
                    i += 1
                val.append(line[i])
                i += 1
            i += 1
            value = "".join(val)
        else:
            j = i
            while j < n and line[j] not in " \t":
                j += 1
            value, i = line[i:j], j
        if key == name:
            found = value
    return found


REPLY_RE = re.compile(r"^([2-5][0-9][0-9])([ -])(?:([245]\.[0-9]{1,3}\.[0-9]{1,3}) )?(.*)$")


def join_replies(lines):
    """[(tag, line)] -> [(tag of the reply's first line, joined reply)]."""
    out, parts, first = [], [], None
    for tag, l in lines:
        m = REPLY_RE.match(l.rstrip("\r"))
        if not m:
            continue
        code, sep, enh, text = m.groups()
        if first is None:
            first = (tag, code, enh)
        parts.append(text)
        if sep == " ":
            tag0, code0, enh0 = first
            out.append((tag0, code0 + " " + (enh0 + " " if enh0 else "") + " ".join(parts)))
            parts, first = [], None
    return out


def cmd_replies(kind, path, rcpts):
    with open(path, encoding="utf-8", errors="replace") as f:
        raw = f.read().split("\n")
    if kind == "bh":
        reps = [r for _, r in join_replies([(None, l) for l in raw])]
        for i, r in enumerate(rcpts):
            print("%s\t%s" % (r, reps[3 + i] if 3 + i < len(reps) else "(no reply)"))
        return 0
    tagged, cur = [], None
    for l in raw:
        m = re.match(r"^ *-> (RCPT TO:<([^>]*)>|MAIL FROM:)", l)
        if m:
            cur = m.group(2) if m.group(2) is not None else "MAIL"
            continue
        m = re.match(r"^ *<(?:-|\*\*) +(.*)$", l)
        if m:
            tagged.append((cur, m.group(1)))
            if REPLY_RE.match(m.group(1)) and REPLY_RE.match(m.group(1)).group(2) == " ":
                cur = None
    for tag, r in join_replies(tagged):
        if tag is not None:
            print("%s\t%s" % (tag, r))
    return 0


def cmd_query(path, line):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    s.sendall(line.encode() + b"\n")
    s.shutdown(socket.SHUT_WR)  # as ${readsocket} does: the end of the request
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    print(data.decode("utf-8", "replace").rstrip("\n"))
    return 0


def cmd_hang(path, log, close):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    os.chmod(path, 0o666)
    s.listen(16)
    print("READY", flush=True)
    held = []
    while True:
        c, _ = s.accept()
        held.append(c)  # never answered, never closed
        c.settimeout(2)
        try:
            data = c.recv(4096)
        except OSError:
            data = b""
        with open(log, "ab") as f:
            f.write(data.split(b"\n")[0] + b"\n")
        if close:
            held.pop().close()


def cmd_snippets(doc, conf):
    with open(doc, encoding="utf-8") as f:
        dl = f.read().split("\n")
    with open(conf, encoding="utf-8") as f:
        cl = f.read().split("\n")
    found = 0
    bad = 0
    for i, l in enumerate(dl):
        if not l.startswith("<!-- snippet:"):
            continue
        name = l[len("<!-- snippet:"):].replace("-->", "").strip()
        if " " in name:
            # "TARGET NAME": a file other than exim.conf (the unit's
            # drop-in, sysusers.d), used by tests/systemd/acceptance_inside.sh
            continue
        if i + 1 >= len(dl) or not dl[i + 1].startswith("```"):
            print("FAIL doc/exim.md snippet '%s' is followed by a fenced block" % name)
            bad += 1
            continue
        j = i + 2
        block = []
        while j < len(dl) and not dl[j].startswith("```"):
            block.append(dl[j])
            j += 1
        found += 1
        ok = any(cl[k:k + len(block)] == block for k in range(len(cl) - len(block) + 1))
        print("%s doc/exim.md snippet '%s' (%d lines) appears verbatim in %s" %
              ("PASS" if ok and block else "FAIL", name, len(block), os.path.basename(conf)))
        bad += not (ok and block)
    if not found:
        print("FAIL doc/exim.md has snippets")
    return 1 if bad or not found else 0


def load(log):
    objs = []
    with open(log, encoding="utf-8") as f:
        for l in f:
            try:
                objs.append(json.loads(l))
            except ValueError:
                pass
    return objs


def cmd_events(log, specs):
    objs = [o for o in load(log) if o.get("event") == "exim"]
    bad = 0
    for spec in specs:
        parts = spec.split(",")
        # names contain ':' themselves: NAME is up to the last ':'
        name, _, domain = parts[0].rpartition(":")
        conds = parts[1:]

        def match(o):
            f = o.get("fields") or {}
            if o.get("name") != name or f.get("domain") != domain:
                return False
            for c in conds:
                if c.endswith("~"):
                    if not f.get(c[:-1]):
                        return False
                else:
                    k, _, v = c.partition("=")
                    if f.get(k) != v:
                        return False
            return True
        ok = any(match(o) for o in objs)
        seen = sorted({"%s:%s" % (o.get("name"), (o.get("fields") or {}).get("domain")) for o in objs})
        print("%s audit: exim event %s for %s%s%s" % ("PASS" if ok else "FAIL", name, domain,
              (" with " + ", ".join(conds)) if conds else "",
              "" if ok else " (seen: %s)" % " ".join(seen)))
        bad += not ok
    return 1 if bad else 0


def cmd_queries(log, specs):
    objs = [o for o in load(log) if o.get("event") == "exim-query"]
    bad = 0
    for spec in specs:
        req, _, reason = spec.rpartition(":")
        hits = [o for o in objs if o.get("request") == req]
        ok = any((o.get("decision") or {}).get("reason") == reason for o in hits)
        print("%s audit: exim-query '%s' -> %s%s" % ("PASS" if ok else "FAIL", req, reason,
              "" if ok else " (%d lines for it: %s)" % (len(hits), json.dumps(hits)[:300])))
        bad += not ok
    return 1 if bad else 0


def main(a):
    if len(a) == 4 and a[1] == "query":
        return cmd_query(a[2], a[3])
    if len(a) == 4 and a[1] == "field":
        v = kv_get(a[3], a[2])
        if v is None:
            return 1
        print(v)
        return 0
    if len(a) >= 4 and a[1] == "replies" and a[2] in ("bh", "swaks"):
        return cmd_replies(a[2], a[3], a[4:])
    if len(a) == 4 and a[1] in ("hang", "close"):
        return cmd_hang(a[2], a[3], a[1] == "close")
    if len(a) == 4 and a[1] == "snippets":
        return cmd_snippets(a[2], a[3])
    if len(a) >= 4 and a[1] == "events":
        return cmd_events(a[2], a[3:])
    if len(a) >= 4 and a[1] == "queries":
        return cmd_queries(a[2], a[3:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
