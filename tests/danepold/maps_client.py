#!/usr/bin/env python3
"""tests/danepold/maps_client.py - drive danepold's socketmap and Exim sockets.

  maps_client.py sockmap UNIXPATH      socketmap protocol checks
  maps_client.py exim UNIXPATH         Exim line protocol checks
  maps_client.py query UNIXPATH KEY    print the socketmap reply for KEY
  maps_client.py exline UNIXPATH LINE  print the Exim socket's reply to LINE
  maps_client.py many SMPATH EXPATH N  N concurrent connections of each kind
  maps_client.py hammer SMPATH EXPATH N  N socketmap and N Exim queries (load)

Prints "PASS desc" / "FAIL desc: detail" lines (the caller counts them);
exit status 0 when nothing failed, 1 otherwise.
"""
import socket
import sys
import threading

TIMEOUT = 20
failed = 0


def out(ok, desc, detail=""):
    global failed
    if not ok:
        failed += 1
    print(("PASS " if ok else "FAIL ") + desc + ("" if ok or not detail else ": " + detail))
    sys.stdout.flush()
    return ok


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(path)
    return s


def ns(data):
    return b"%d:%s," % (len(data), data)


def read_ns(s, buf=b""):
    """One netstring from s (buf: bytes already read). Returns (data, rest) or (None, rest) at EOF."""
    while True:
        colon = buf.find(b":")
        if colon > 0:
            n = int(buf[:colon])
            if len(buf) >= colon + n + 2:
                assert buf[colon + n + 1:colon + n + 2] == b",", "bad netstring from server"
                return buf[colon + 1:colon + 1 + n], buf[colon + n + 2:]
        chunk = s.recv(65536)
        if not chunk:
            return None, buf
        buf += chunk


def sm_query(path, key, name=b"tlspolicy"):
    s = connect(path)
    try:
        s.sendall(ns(name + b" " + key))
        data, _ = read_ns(s)
        return data
    finally:
        s.close()


def extract(line):
    """Parse an Exim ${extract}-style key=value line into a dict."""
    line = line.rstrip("\r\n")  # Exim: ${readsocket} with an empty eol string
    res, i, n = {}, 0, len(line)
    while i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        eq = line.index("=", i)
        key, i = line[i:eq], eq + 1
        if i < n and line[i] == '"':
            i += 1
            val = []
            while line[i] != '"':
                if line[i] == "\\" and line[i + 1] in '"\\':
                    i += 1
                val.append(line[i])
                i += 1
            i += 1
            res[key] = "".join(val)
        else:
            j = i
            while j < n and line[j] not in " \t":
                j += 1
            res[key], i = line[i:j], j
    return res


# ------------------------------------------------------------ socketmap
SM_CASES = [
    (b"secure.example", lambda r: r == b"OK dane-only"),
    (b"insecure.example", lambda r: r == b"OK may"),
    (b"notlsa.example", lambda r: r == b"OK may"),
    (b"mixed.example", lambda r: r == b"OK dane"),
    (b"bogus.example", lambda r: r.startswith(b"TEMP DNSSEC validation of the MX records failed (bogus.example: ")),
    (b"nullmx.example", lambda r: r == b"NOTFOUND "),
    (b"blackhole.example", lambda r: r.startswith(b"TEMP DNS lookup timed out") and b"blackhole.example" in r),
    (b"[mx1.secure.example]", lambda r: r == b"OK dane-only"),
    (b"[mx1.secure.example]:587", lambda r: r == b"OK may"),
    (b"secure.example:26", lambda r: r == b"OK may"),
    (b".secure.example", lambda r: r == b"NOTFOUND "),
    (b"", lambda r: r == b"NOTFOUND "),
    (b"bad key with spaces", lambda r: r == b"NOTFOUND "),
    (b"\xff\xfe.example", lambda r: r == b"NOTFOUND "),
    (b"x" * 300 + b".example", lambda r: r == b"NOTFOUND "),
    (b"a..b", lambda r: r == b"NOTFOUND "),
    (b"%s%n%x.example", lambda r: r == b"NOTFOUND "),
]


def sockmap_checks(path):
    for key, good in SM_CASES:
        try:
            r = sm_query(path, key)
        except Exception as e:
            r = repr(e).encode()
        out(r is not None and good(r), "socketmap %r -> %r" % (key[:40], r), "unexpected reply")
    # several requests over one connection, pipelined in one write
    s = connect(path)
    keys = [b"secure.example", b"insecure.example", b"nullmx.example", b".example"]
    s.sendall(b"".join(ns(b"tlspolicy " + k) for k in keys))
    buf, replies = b"", []
    for _ in keys:
        d, buf = read_ns(s, buf)
        replies.append(d)
    out(replies == [b"OK dane-only", b"OK may", b"NOTFOUND ", b"NOTFOUND "],
        "4 pipelined requests on one connection", repr(replies))
    # the same connection again, request split into single bytes
    for ch in ns(b"anyname secure.example"):
        s.sendall(bytes([ch]))
    d, buf = read_ns(s, buf)
    out(d == b"OK dane-only", "a request written byte by byte on the same connection", repr(d))
    s.sendall(ns(b"nospace"))
    d, buf = read_ns(s, buf)
    out(d is not None and d.startswith(b"PERM malformed"), "a request without a space: PERM", repr(d))
    s.sendall(ns(b"tlspolicy secure.example"))
    d, buf = read_ns(s, buf)
    out(d == b"OK dane-only", "... and the connection still serves", repr(d))
    s.close()
    # oversize: announced length over 10000
    s = connect(path)
    s.sendall(b"10001:" + b"x" * 100)
    d, buf = read_ns(s)
    rest = s.recv(100) if d is not None else b""
    out(d == b"PERM request too long" and rest == b"", "a 10001-octet request: PERM request too long, then close", repr(d))
    s.close()
    s = connect(path)
    big = b"tlspolicy " + b"a" * 9990
    s.sendall(ns(big))
    d, _ = read_ns(s)
    out(d == b"NOTFOUND ", "a 10000-octet request is still answered", repr(d))
    s.close()
    pipelined_checks(path)
    # malformed netstrings: closed without a reply
    for bad in (b"abc", b"01:x,", b"-1:", b"3:abcd,", b"5:hello;"):
        s = connect(path)
        s.sendall(bad)
        try:
            got = s.recv(100)
        except Exception as e:
            got = repr(e).encode()
        out(got == b"", "malformed netstring %r: closed without reply" % bad, repr(got))
        s.close()


def read_all_ns(s):
    """Every netstring until the server closes: (list of data, what was left over)."""
    got, buf = [], b""
    while True:
        d, buf = read_ns(s, buf)
        if d is None:
            return got, buf
        got.append(d)


def pipelined_checks(path):
    """Requests answered in batches: whatever precedes a bad or over-long
    netstring in the same write is answered before the close, and a long
    pipelined run (several reads, several reply writes) in order."""
    two = ns(b"tlspolicy secure.example") + ns(b"tlspolicy .example")
    for tail, last, desc in ((b"5:hello;", [], "a malformed netstring"),
                             (b"10001:xx", [b"PERM request too long"], "an over-long request")):
        s = connect(path)
        s.sendall(two + tail)
        got, rest = read_all_ns(s)
        s.close()
        out(got == [b"OK dane-only", b"NOTFOUND "] + last and rest == b"",
            "2 requests then %s in one write: both answered, then the close" % desc, repr(got))
    # 6000 requests (130 kB: several reads) whose replies (72 kB) outgrow
    # one reply batch; sent from a thread while the replies are read
    n = 6000
    reqs = [ns(b"tlspolicy %s" % (b"secure.example" if i % 1000 == 999 else b".x%d.example" % i))
            for i in range(n)]
    s = connect(path)
    t = threading.Thread(target=lambda: s.sendall(b"".join(reqs)))
    t.start()
    buf, got = b"", []
    for _ in range(n):
        d, buf = read_ns(s, buf)
        got.append(d)
    t.join()
    s.close()
    want = [b"OK dane-only" if i % 1000 == 999 else b"NOTFOUND " for i in range(n)]
    out(got == want, "%d pipelined requests on one connection, every reply in order" % n,
        "first difference at %s" % next((i for i in range(n) if got[i] != want[i]), None))


# ----------------------------------------------------------------- Exim
def ex_lines(path, lines, shut=True):
    """Send lines, half-close (like ${readsocket}), read everything."""
    s = connect(path)
    s.sendall(b"".join(lines))
    if shut:
        s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    s.close()
    return data


def exim_checks(path):
    one = ex_lines(path, [b"rcpt user@secure.example\n"])
    out(one == b"verdict=require level=dane-only reason=dane destination=secure.example\n",
        "rcpt user@secure.example (one line, EOF after the half-close)", repr(one))
    r = extract(ex_lines(path, [b"domain notlsa.example\r\n"]).decode())
    out(r == {"verdict": "try", "level": "may", "reason": "no-tlsa", "destination": "notlsa.example"},
        "domain notlsa.example with CRLF", repr(r))
    r = extract(ex_lines(path, [b"domain bogus.example\n"]).decode())
    out(r.get("verdict") == "defer" and r.get("reason") == "mx-dnssec-bogus"
        and r.get("reply", "").startswith("450 4.7.5 DNSSEC validation of the MX records failed (bogus.example: "),
        "domain bogus.example: defer with a quoted reply", repr(r))
    r = extract(ex_lines(path, [b"rcpt <bob@nullmx.example>\n"]).decode())
    out(r.get("verdict") == "reject" and r.get("reply", "").startswith("556 5.1.10 "),
        "rcpt nullmx: reject 556 5.1.10", repr(r))
    r = extract(ex_lines(path, [b"domain [mx1.secure.example]:587\n"]).decode())
    out(r.get("verdict") == "try" and r.get("level") == "may" and r.get("destination") == "[mx1.secure.example]:587",
        "domain [mx1.secure.example]:587", repr(r))
    r = extract(ex_lines(path, [b"rcpt not an address\n"]).decode())
    out(r.get("verdict") == "defer" and r.get("reason") == "invalid-domain", "an invalid rcpt: invalid-domain", repr(r))
    many = ex_lines(path, [b"rcpt a@secure.example\n", b"domain insecure.example\n",
                           b"event msg:delivery domain=secure.example host=\"mx1 \\\"q\\\" \\\\\" ip=127.0.0.1\n",
                           b"hello\n", b"domain nullmx.example"]).decode().split("\n")
    ok = len(many) == 6 and many[5] == "" and extract(many[0])["verdict"] == "require" \
        and extract(many[1])["level"] == "may" and many[2] == "ok" \
        and extract(many[3]) == {"verdict": "error", "reason": "bad-request", "detail": "unknown request"} \
        and extract(many[4])["verdict"] == "reject"
    out(ok, "5 requests on one connection, the last without a newline", repr(many))
    r = ex_lines(path, [b"event dane:fail host=\"open\n"]).decode()
    out(extract(r) == {"verdict": "error", "reason": "bad-request", "detail": "unterminated quote"},
        "event with bad quoting: bad-request", repr(r))
    r = ex_lines(path, [b"domain sec\x01ure.example\n"]).decode()
    out(extract(r).get("detail") == "control character", "a control character: bad-request", repr(r))
    r = ex_lines(path, [b"domain a\x00b\n"]).decode()
    out(extract(r).get("reason") == "bad-request", "a NUL byte: bad-request", repr(r))
    r = ex_lines(path, [b"rcpt\n"]).decode()
    out(extract(r).get("detail") == "missing argument", "rcpt without argument", repr(r))
    r = ex_lines(path, [b"domain " + b"a" * 5000 + b"\n", b"domain secure.example\n"], shut=False).decode()
    out(r == "verdict=error reason=too-long\n", "an over-long line: too-long, then close", repr(r[:100]))
    r = ex_lines(path, [b"x" * 5000], shut=False).decode()
    out(r == "verdict=error reason=too-long\n", "an over-long line without a newline: too-long", repr(r[:100]))


# ----------------------------------------------------------- concurrency
def many(smpath, expath, n):
    res = {}
    barrier = threading.Barrier(2 * n)

    def sm(i):
        s = connect(smpath)
        barrier.wait()
        s.sendall(ns(b"tlspolicy secure.example") + ns(b"tlspolicy insecure.example"))
        a, rest = read_ns(s)
        b, _ = read_ns(s, rest)
        s.close()
        res[("sm", i)] = (a, b) == (b"OK dane-only", b"OK may")

    def ex(i):
        s = connect(expath)
        barrier.wait()
        s.sendall(b"rcpt u%d@secure.example\ndomain notlsa.example\n" % i)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            c = s.recv(4096)
            if not c:
                break
            data += c
        s.close()
        lines = data.decode().split("\n")
        res[("ex", i)] = len(lines) == 3 and extract(lines[0])["verdict"] == "require" \
            and extract(lines[1])["reason"] == "no-tlsa"

    threads = [threading.Thread(target=f, args=(i,)) for i in range(n) for f in (sm, ex)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    good = sum(1 for v in res.values() if v)
    out(good == 2 * n, "%d concurrent socketmap + %d concurrent Exim connections all answered" % (n, n),
        "%d of %d good" % (good, 2 * n))


def hammer(smpath, expath, n):
    s = connect(smpath)
    keys = [b"secure.example", b"insecure.example", b"nullmx.example", b"bogus.example", b".x", b""]
    good = 0
    buf = b""
    for i in range(n):
        s.sendall(ns(b"tlspolicy " + keys[i % len(keys)]))
        d, buf = read_ns(s, buf)
        good += d is not None
    s.close()
    lines = [b"rcpt u@secure.example\n", b"domain bogus.example\n", b"event x k=v\n", b"bad\n"]
    for i in range(0, n, 10):
        r = ex_lines(expath, [lines[(i + j) % 4] for j in range(10)])
        good += r.count(b"\n")
    out(good == 2 * n, "%d socketmap and %d Exim queries answered" % (n, n), "%d of %d" % (good, 2 * n))


def main(argv):
    if len(argv) == 3 and argv[1] == "sockmap":
        sockmap_checks(argv[2])
    elif len(argv) == 3 and argv[1] == "exim":
        exim_checks(argv[2])
    elif len(argv) == 4 and argv[1] == "query":
        r = sm_query(argv[2], argv[3].encode())
        print(r.decode() if r is not None else "(closed)")
    elif len(argv) == 4 and argv[1] == "exline":
        print(ex_lines(argv[2], [argv[3].encode() + b"\n"]).decode().rstrip("\n"))
    elif len(argv) == 5 and argv[1] == "many":
        many(argv[2], argv[3], int(argv[4]))
    elif len(argv) == 5 and argv[1] == "hammer":
        hammer(argv[2], argv[3], int(argv[4]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
