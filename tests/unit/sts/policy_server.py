#!/usr/bin/env python3
"""tests/unit/sts/policy_server.py - MTA-STS policy hosts for the STS tests.

    policy_server.py HOST PORT PKIDIR

Serves HTTPS on HOST:PORT (0: any free port) for every mta-sts.<d>.example
of the world's STS certificate (PKIDIR/sts.crt), and with the wrong-name
and expired certificates for mta-sts.stswrongname.example and
mta-sts.stsexpired.example (chosen by SNI). What each domain answers is
in BEHAVIOUR below: good policies, and the hostile cases of RFC 8461
section 3.3 (redirect, media type, size, status, a slow answer).
Prints "READY <port>" on stdout once it listens; runs until killed.
"""
import http.server
import os
import ssl
import sys
import time

HOST, PORT, PKI = sys.argv[1], int(sys.argv[2]), sys.argv[3]

ENFORCE = "version: STSv1\nmode: enforce\nmx: mx1.{d}.example\nmx: *.{d}.example\nmax_age: 604800\n"
# domain: (status, content type or None, body, extra headers, delay s)
BEHAVIOUR = {
    "stsok": (200, "text/plain", ENFORCE, {}, 0),
    "stscrlf": (200, "text/plain",
                "version: STSv1\r\nmode: testing\r\nmx: mx1.stscrlf.example\r\nmax_age: 86400\r\n", {}, 0),
    "stsparam": (200, "Text/Plain; charset=utf-8", ENFORCE, {}, 0),
    "stsnoctype": (200, None, ENFORCE, {}, 0),
    "stsctype": (200, "text/html", ENFORCE, {}, 0),
    "stsredirect": (301, "text/plain", "moved\n",
                    {"Location": "https://mta-sts.stsok.example/.well-known/mta-sts.txt"}, 0),
    "stsbig": (200, "text/plain", ENFORCE + "x-pad: " + "p" * 70000 + "\n", {}, 0),
    "stsnotfound": (404, "text/plain", "not found\n", {}, 0),
    "stsslow": (200, "text/plain", ENFORCE, {}, 5),
    "stsbad": (200, "text/plain", "version: STSv1\nmode: enforced\nmx: mx1.stsbad.example\nmax_age: 1\n", {}, 0),
    "stsnomx": (200, "text/plain", "version: STSv1\nmode: enforce\nmax_age: 86400\n", {}, 0),
    "stsctl": (200, "text/plain", "version: STSv1\nmode: enforce\x07\nmx: a.example\nmax_age: 1\n", {}, 0),
    "stsnone": (200, "text/plain", "version: STSv1\nmode: none\nmax_age: 86400\n", {}, 0),
    "stsmismatch": (200, "text/plain",
                    "version: STSv1\nmode: enforce\nmx: mail.elsewhere.example\nmax_age: 86400\n", {}, 0),
    "stsdane": (200, "text/plain", ENFORCE, {}, 0),
    "stsbogustxt": (200, "text/plain", ENFORCE, {}, 0),
    "stsempty": (200, "text/plain", "", {}, 0),
    "stswrongname": (200, "text/plain", ENFORCE, {}, 0),
    "stsnocert": (200, "text/plain", ENFORCE, {}, 0),
    "stsexpired": (200, "text/plain", ENFORCE, {}, 0),
    # tests/e2e/exim_sts.sh
    "stsexim": (200, "text/plain", ENFORCE, {}, 0),
    "stseximname": (200, "text/plain", ENFORCE, {}, 0),
    "stseximca": (200, "text/plain", ENFORCE, {}, 0),
    "stseximplain": (200, "text/plain", ENFORCE, {}, 0),
    "stseximmix": (200, "text/plain",
                   "version: STSv1\nmode: enforce\nmx: mx2.stseximmix.example\nmax_age: 604800\n", {}, 0),
}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        d = host[len("mta-sts."):-len(".example")] if host.startswith("mta-sts.") else ""
        if self.path != "/.well-known/mta-sts.txt" or d not in BEHAVIOUR:
            status, ctype, body, extra, delay = 404, "text/plain", "no such policy\n", {}, 0
        else:
            status, ctype, body, extra, delay = BEHAVIOUR[d]
        if delay:
            time.sleep(delay)
        data = body.replace("{d}", d).encode("latin-1")
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, fmt, *args):
        sys.stderr.write("policy_server: " + (fmt % args) + "\n")


def context(name):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(os.path.join(PKI, name + ".crt"), os.path.join(PKI, name + ".key"))
    return c


CTX = {"mta-sts.stswrongname.example": context("stswrong"),
       "mta-sts.stsexpired.example": context("stsexpired")}
main = context("sts")


def pick(sock, server_name, _ctx):
    if server_name in CTX:
        sock.context = CTX[server_name]


main.sni_callback = pick
srv = http.server.ThreadingHTTPServer((HOST, PORT), Handler)
srv.daemon_threads = True
srv.socket = main.wrap_socket(srv.socket, server_side=True)
print("READY %d" % srv.server_address[1], flush=True)
srv.serve_forever()
