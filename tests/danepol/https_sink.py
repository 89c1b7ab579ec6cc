#!/usr/bin/env python3
"""tests/danepol/https_sink.py - a TLS report receiver for tests/danepol/report.sh.

    https_sink.py HOST PORT CERT KEY OUTDIR [STATUS]

Serves HTTPS on HOST:PORT with CERT/KEY; every POST is answered with
STATUS (default 201) and recorded as OUTDIR/N.body (the raw body),
OUTDIR/N.ctype (its Content-Type) and OUTDIR/N.path (the request path),
N counting from 1; the .path file is written last, so its presence means
the request is complete. Prints "READY" on stdout once it listens.
"""
import http.server
import os
import ssl
import sys

HOST, PORT, CERT, KEY, OUT = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
STATUS = int(sys.argv[6]) if len(sys.argv) > 6 else 201
COUNT = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        COUNT[0] += 1
        base = os.path.join(OUT, str(COUNT[0]))
        with open(base + ".body", "wb") as f:
            f.write(body)
        with open(base + ".ctype", "w") as f:
            f.write(self.headers.get("Content-Type") or "")
        with open(base + ".path", "w") as f:
            f.write(self.path)
        self.send_response(STATUS)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        sys.stderr.write("https_sink: " + (fmt % args) + "\n")


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv = http.server.HTTPServer((HOST, PORT), Handler)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("READY", flush=True)
srv.serve_forever()
