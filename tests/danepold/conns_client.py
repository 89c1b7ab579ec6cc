#!/usr/bin/env python3
"""tests/danepold/conns_client.py - hostile connection patterns against
danepold's socketmap, Exim and milter sockets (tests/danepold/conns.sh).

  conns_client.py flood KIND PATH N            N idle connections, then a real query
  conns_client.py slowloris SMPATH N REQ_S     N trickling requests, then a real query
  conns_client.py reuse SMPATH GAP_S           two queries on one connection, GAP_S apart
  conns_client.py idleclose SMPATH IDLE_S      an idle connection is closed after IDLE_S
  conns_client.py milterraw MPATH MODE LIMIT_S  a raw milter connection (MODE: silent|zero)
                                                is closed within LIMIT_S
  conns_client.py milterflood MPATH N SMPATH BUDGET  N idle milter connections (at most
                                                BUDGET may stay open), then a socketmap query

KIND is sockmap or exim. Prints "PASS desc" / "FAIL desc: detail" lines
and "# ..." notes with the measured times; exit status 0 when nothing
failed. The only waits are the client's own behaviour under test (the
gap of an idle client, the pace of a slow one) and socket timeouts that
bound each step; a condition is always read from the socket.
"""
import os
import resource
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from maps_client import ns, out, read_ns  # noqa: E402

QUERY_BOUND = 5.0	# a real query must be answered within this many seconds


def note(msg):
    print("# " + msg)
    sys.stdout.flush()


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, n)
    if hard != resource.RLIM_INFINITY and hard < want:
        hard = want	# root may raise the hard limit
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def connect(path, timeout=10.0):
    """A blocking connect bounded by timeout (a unix socket's connect waits
    for room in the listen queue for up to SO_SNDTIMEO; a non-blocking one
    would fail at once with EAGAIN)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sec = int(timeout)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                 struct.pack("ll", sec, int((timeout - sec) * 1e6)))
    s.connect(path)
    s.settimeout(timeout)
    return s


def sm_ask(s, key):
    """One socketmap query on s; the reply, or None when the server closed."""
    s.sendall(ns(b"tlspolicy " + key))
    data, _ = read_ns(s)
    return data


def query(kind, path, timeout=QUERY_BOUND):
    """A real query on a new connection: (reply or None, seconds, error text)."""
    t0 = time.monotonic()
    try:
        s = connect(path, timeout)
        try:
            if kind == "sockmap":
                r = sm_ask(s, b"secure.example")
            else:
                s.sendall(b"rcpt user@secure.example\n")
                s.shutdown(socket.SHUT_WR)
                r = b""
                while True:
                    c = s.recv(4096)
                    if not c:
                        break
                    r += c
                r = r or None
        finally:
            s.close()
        return r, time.monotonic() - t0, ""
    except OSError as e:
        return None, time.monotonic() - t0, repr(e)


def good_reply(kind, r):
    if r is None:
        return False
    return r.startswith(b"OK ") if kind == "sockmap" else r.startswith(b"verdict=")


def flood(kind, path, n):
    """n connections that never send a byte, then one real query."""
    raise_nofile(n + 256)
    socks, t0 = [], time.monotonic()
    try:
        for _ in range(n):
            socks.append(connect(path))
    except OSError as e:
        out(False, "%s: %d idle connections open" % (kind, n), "after %d: %r" % (len(socks), e))
        return
    note("%s: %d idle connections open after %.2f s" % (kind, n, time.monotonic() - t0))
    r, dt, err = query(kind, path)
    note("%s: the real query took %.3f s: %r %s" % (kind, dt, r, err))
    out(good_reply(kind, r) and dt < QUERY_BOUND,
        "%s: after %d idle connections a real query is answered within %.0f s"
        % (kind, n, QUERY_BOUND), "%r after %.3f s %s" % (r, dt, err))
    for s in socks:
        s.close()


def slowloris(path, n, req_s):
    """n connections send "10000:" and then one byte every 0.25 s. A real
    query must get through within req_s + 3 s; every slow connection is
    closed by the server req_s (+-) after its first byte."""
    raise_nofile(n + 256)
    slow, first, closed = [], {}, {}
    for _ in range(n):
        s = connect(path)
        s.setblocking(False)
        try:
            s.send(b"10000:")
            first[s] = time.monotonic()
        except OSError:
            closed[s] = 0.0
        slow.append(s)
    t0, answered, tries, last_err = time.monotonic(), None, 0, ""
    next_tick = t0
    while time.monotonic() - t0 < req_s + 8 and len(closed) < len(slow):
        now = time.monotonic()
        if now >= next_tick:
            next_tick = now + 0.25
            for s in slow:
                if s in closed:
                    continue
                try:
                    s.send(b"x")
                except OSError:
                    closed[s] = now - first.get(s, now)
            if answered is None:
                tries += 1
                r, dt, err = query("sockmap", path, 2.0)
                if good_reply("sockmap", r):
                    answered = time.monotonic() - t0
                last_err = err or repr(r)
        live = [s for s in slow if s not in closed]
        if not live:
            break
        p, byfd = select.poll(), {s.fileno(): s for s in live}
        for fd in byfd:
            p.register(fd, select.POLLIN)
        for fd, _ in p.poll(max(0, int((next_tick - time.monotonic()) * 1000))):
            s = byfd[fd]
            try:
                if s.recv(4096) == b"":
                    closed[s] = time.monotonic() - first[s]
            except OSError:
                closed[s] = time.monotonic() - first[s]
    note("slowloris: %d slow connections; a query was answered after %s s (%d tries, last: %s)"
         % (n, "%.2f" % answered if answered is not None else "never", tries, last_err))
    out(answered is not None and answered < req_s + 3,
        "slowloris: a real query gets through within %d s (request deadline %d s)"
        % (req_s + 3, req_s), "answered after %r s" % answered)
    served = [t for s, t in closed.items() if s in first and t > 0.5]
    open_left = len(slow) - len(closed)
    if served:
        note("slowloris: %d closed by the server after %.2f..%.2f s of trickling, %d refused at once, "
             "%d still open" % (len(served), min(served), max(served), len(closed) - len(served),
                                open_left))
    out(open_left == 0 and served and min(served) >= req_s - 0.5 and max(served) <= req_s + 2.5,
        "slowloris: every trickling connection is closed %d s (+-) after its first byte" % req_s,
        "%d still open after %d s; served %r" % (open_left, req_s + 8,
                                                 (min(served), max(served)) if served else None))
    for s in slow:
        s.close()


def reuse(path, gap):
    """A Postfix-like client: query, stay idle gap seconds, query again."""
    s = connect(path)
    r1 = sm_ask(s, b"secure.example")
    time.sleep(gap)		# the client's idle gap is the behaviour under test
    try:
        r2 = sm_ask(s, b"secure.example")
    except OSError as e:
        r2 = repr(e).encode()
    s.close()
    out(good_reply("sockmap", r1) and good_reply("sockmap", r2),
        "a connection idle %.1f s between two queries is kept" % gap, "%r / %r" % (r1, r2))


def idleclose(path, idle):
    """After a query, the idle connection is closed after about idle s."""
    s = connect(path, idle + 5)
    r1 = sm_ask(s, b"secure.example")
    t0 = time.monotonic()
    try:
        eof = s.recv(1) == b""
    except OSError as e:
        eof = False
        note("idleclose: %r" % e)
    dt = time.monotonic() - t0
    s.close()
    note("idleclose: %s after %.2f s idle" % ("closed by the server" if eof else "still open", dt))
    out(good_reply("sockmap", r1) and eof and idle - 0.3 <= dt <= idle + 2,
        "an idle connection is closed after socket_idle_timeout (%.1f s)" % idle,
        "eof=%r after %.2f s" % (eof, dt))


def milterraw(path, mode, limit):
    s = connect(path, limit)
    if mode == "zero":
        s.sendall(b"\0\0\0\0")	# a 0-length milter frame
    t0 = time.monotonic()
    try:
        eof = s.recv(4096) == b""
    except socket.timeout:
        eof = False
    except OSError:
        eof = True	# reset by the server
    dt = time.monotonic() - t0
    s.close()
    note("milterraw %s: %s after %.2f s" % (mode, "closed" if eof else "still open", dt))
    out(eof, "a raw milter connection (%s) is closed within %.0f s" % (
        "sending nothing" if mode == "silent" else "sending a 0-length frame", limit),
        "still open after %.2f s" % dt)


def milterflood(mpath, n, smpath, budget):
    """n milter connections that stay silent; once danepold has closed the
    ones beyond its budget (at most budget stay open; polled, bounded),
    a socketmap query."""
    raise_nofile(n + 256)
    socks, failed_connects = [], 0
    for _ in range(n):
        try:
            socks.append(connect(mpath, 0.2))
        except OSError:
            failed_connects += 1
    for s in socks:
        s.setblocking(False)
    live, t0 = {s.fileno(): s for s in socks}, time.monotonic()
    while len(live) > budget and time.monotonic() - t0 < 10:
        p = select.poll()
        for fd in live:
            p.register(fd, select.POLLIN)
        for fd, _ in p.poll(500):
            try:
                if live[fd].recv(1) == b"":
                    del live[fd]
            except OSError:
                del live[fd]
    note("milterflood: %d connections made (%d failed), %d still open after %.2f s "
         "(budget: descriptors below %d)" % (len(socks), failed_connects, len(live),
                                           time.monotonic() - t0, budget))
    out(len(live) <= budget, "danepold keeps at most the budget of %d milter connections open"
        % budget, "%d still open" % len(live))
    r, dt, err = query("sockmap", smpath)
    note("milterflood: the socketmap query took %.3f s: %r %s" % (dt, r, err))
    out(good_reply("sockmap", r) and dt < QUERY_BOUND,
        "after %d idle milter connections a socketmap query for secure.example is answered "
        "within %.0f s" % (n, QUERY_BOUND), "%r after %.3f s %s" % (r, dt, err))
    for s in socks:
        s.close()


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "flood" and len(argv) == 5:
        flood(argv[2], argv[3], int(argv[4]))
    elif cmd == "slowloris" and len(argv) == 5:
        slowloris(argv[2], int(argv[3]), float(argv[4]))
    elif cmd == "reuse" and len(argv) == 4:
        reuse(argv[2], float(argv[3]))
    elif cmd == "idleclose" and len(argv) == 4:
        idleclose(argv[2], float(argv[3]))
    elif cmd == "milterraw" and len(argv) == 5:
        milterraw(argv[2], argv[3], float(argv[4]))
    elif cmd == "milterflood" and len(argv) == 6:
        milterflood(argv[2], int(argv[3]), argv[4], int(argv[5]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    import maps_client
    return 1 if maps_client.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
