#!/usr/bin/env bash
# tests/e2e/sts_oracle.sh - danepold's MTA-STS socketmap answers against
# the peer's: Debian's postfix-mta-sts-resolver (mta-sts-daemon 1.1.2) as
# the oracle, both on the same offline world.
#
# Re-executes itself under `unshare -mn` (tests/e2e/lib_delivery.sh): in
# the namespace a validating unbound on 127.0.0.1:53 serves the world
# (resolv.conf bind-mounted: the peer resolves with the system resolver),
# tests/unit/sts/policy_server.py serves the policies on 127.0.0.1:443,
# and the system CA bundle with the world's CA added is bind-mounted over
# /etc/ssl/certs/ca-certificates.crt (the peer trusts the system store;
# danepold gets the world's CA through sts_ca_file). danepold decides with
# its own libunbound over the same zones.
#
# For every MTA-STS domain of the world without DANE and the key forms
# Postfix sends (domain, a trailing dot, "[host]", "[host]:port",
# "domain:port", ".parent", address literals), both answers are reduced
# to what Postfix does with them: "secure <sorted match list>" or
# "default" (the peer's NOTFOUND; danepold's OK dane/may, its level for
# a domain without an enforced policy) or "defer". Equal answers pass;
# the differences below (EXPLAINED, doc/postfix.md) are listed; any other
# fails. Ends with "N passed, M failed"; 77 when it cannot run.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
# shellcheck source=tests/e2e/lib_delivery.sh
. "$HERE/lib_delivery.sh"
dl_begin --world pki/sts.crt mta-sts-daemon unbound drill python3 mount || exit $?
# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

# ---------------------------------------------------------------- set-up
dl_init stsoracle || { not_ok "temporary directory"; finish; }
# shellcheck source=tests/e2e/lib_sts.sh
. "$HERE/lib_sts.sh"
sts_env_up
PEER_PORT=$(e2e_free_port)
sts_peer_start "inet:$PEER_PORT"
SM=$E2E_T/d-sts/socketmap.sock
sts_danepold sts "$SM" "decision_timeout = 10s"

# ---------------------------------------------------------------- compare
DOMAINS=(stsok stscrlf stsmismatch stsnone stsbad stsidfirst stswrongname stsbogustxt insecure)
KEYS=()
for d in "${DOMAINS[@]}"; do
	KEYS+=("$d.example" "$d.example." "[mx1.$d.example]" "[mx1.$d.example]:25" "$d.example:25" ".$d.example")
done
KEYS+=("[127.0.0.1]" "[IPv6:::1]" "STSOK.Example")
py_results <(python3 - "$SM" "$PEER_PORT" "${KEYS[@]}" <<'PY' 2>&1
import socket, sys

sm_path, peer_port, keys = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def query(addr, key):
    s = socket.socket(socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET)
    s.settimeout(30)
    s.connect(addr)
    req = ("tlspolicy " + key).encode()
    s.sendall(b"%d:%s," % (len(req), req))
    buf = b""
    while not buf.endswith(b","):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    n, _, rest = buf.partition(b":")
    return rest[:int(n)].decode()

def effect(reply):
    if reply.startswith("OK secure "):
        match = [w[len("match="):] for w in reply.split() if w.startswith("match=")]
        sni = [w for w in reply.split() if w.startswith("servername=")]
        return "secure " + ":".join(sorted(":".join(match).split(":"))) + " " + " ".join(sni)
    if reply.startswith("TEMP"):
        return "defer"
    if reply.startswith("NOTFOUND") or reply.startswith("OK "):
        return "default"
    return "other " + reply

# key -> (danepold effect, peer effect, why the difference is kept)
EXPLAINED = {}
for d in ["stsmismatch.example", "stsmismatch.example.", "stsmismatch.example:25", "STSMISMATCH.Example"]:
    EXPLAINED[d] = ("defer", "secure mail.elsewhere.example servername=hostname",
        "a policy naming none of the MX hosts: danepold defers at once (sts-mx-mismatch, "
        "450 4.7.5 with the reason in the log); the peer answers secure and Postfix then "
        "fails the certificate name check on every MX host: both defer")
same = diff = 0
for key in keys:
    a, p = query(sm_path, key), query(("127.0.0.1", peer_port), key)
    ea, ep = effect(a), effect(p)
    if ea == ep:
        print("PASS %s: %s" % (key, ea)); same += 1
    elif EXPLAINED.get(key, ())[:2] == (ea, ep):
        print("PASS %s: danepold %s, peer %s (explained)" % (key, ea, ep))
        print("  " + EXPLAINED[key][2]); diff += 1
    else:
        print("FAIL %s: danepold %r, peer %r" % (key, a, p))
print("%d keys: %d answered alike, %d explained differences" % (len(keys), same, diff))
PY
) "oracle "
finish
