#!/usr/bin/env bash
# tools/demo-postfix.sh [BUILDDIR] - danepold behind a real Postfix, offline.
#
# The main job, end to end: generates the DNSSEC-signed demo world
# (tools/mkworld.sh), starts its fault responder, one danepold (milter on a
# unix socket, audit log to a file, secure.example and notlsa.example
# dane-only by local policy), smtp-sink, and a private Postfix instance
# (its own config, queue and log under a temporary directory; no DNS, no
# syslog, nothing on port 25) whose smtpd asks danepold at every RCPT.
# swaks sends one message to recipients across the demo domains; the demo
# prints each RCPT with the reply the client got, where the accepted
# recipients were delivered, and one summary line per audit event, then
# stops everything it started. Needs root (Postfix) and the packages of
# `tools/setup.sh deps`; run after `tools/setup.sh build`.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$TOP/build}" && pwd)
W=$BUILD/demo-world

# shellcheck source=tests/e2e/lib.sh
. "$TOP/tests/e2e/lib.sh"
if why=$(e2e_skip_reason) || ! command -v swaks > /dev/null; then
	echo "demo-postfix: cannot run: ${why:-swaks not installed} (as root: tools/setup.sh deps)" >&2
	exit 1
fi
make -C "$BUILD" -s danepold tests/world/faultdns
"$TOP/tools/mkworld.sh" "$W" > /dev/null
export WORLD_DIR=$W FAULTDNS=$BUILD/tests/world/faultdns DANEPOLD=$BUILD/danepold

e2e_init demo-postfix
e2e_world
e2e_sink_start
printf 'secure.example dane-only\nnotlsa.example dane-only\n' > "$E2E_T/policy"
e2e_danepold_conf demo unix "decision_timeout = 1500ms" "policy_table = $E2E_T/policy"
e2e_danepold_start demo
e2e_danepold_ready demo
# shellcheck disable=SC2119  # no extra main.cf lines
e2e_postfix_init
PORT=$(e2e_postfix_listener "${E2E_DSOCK[demo]}")
e2e_postfix_start
AUDIT=$E2E_T/d-demo/audit.log

RCPTS=(alice@secure.example bob@nsec3.example carol@cname.example dave@tampered.example
	erin@mixed.example frank@insecure.example grace@notlsa.example heidi@bogus.example
	ivan@expired.example judy@tlsabogus.example mallory@servfail.example
	niaj@blackhole.example olivia@nullmx.example peggy@xn--bcher-kva.example
	'rupert@[192.0.2.1]' postmaster)
TO=$(IFS=,; echo "${RCPTS[*]}")

cat <<INTRO
danepold demo: the DANE policy milter behind a private Postfix, offline
  Postfix:  postfix -c $E2E_PF_DIR   (smtpd on 127.0.0.1:$PORT, smtpd_milters = ${E2E_DSOCK[demo]},
            milter_default_action = tempfail, relayhost = smtp-sink on 127.0.0.1:$E2E_SINK_PORT)
  danepold: -f -c $E2E_T/d-demo/danepol.conf   (world: $W; secure.example, notlsa.example dane-only by local policy)

swaks --server 127.0.0.1:$PORT --from demo@client.example --to ${#RCPTS[@]} recipients:
INTRO
rc=0
e2e_swaks "$PORT" --from demo@client.example --to "$TO" > "$E2E_T/swaks.out" || rc=$?
# The SMTP dialogue, envelope part: each command and the reply it got.
awk '/^ *-> MAIL FROM/ { on = 1 }
	on && (/^ *-> (MAIL FROM|RCPT TO|DATA|QUIT)/ || /^ *<(-|\*\*) +[0-9][0-9][0-9] / && !/^ *<- +354/)' \
	"$E2E_T/swaks.out" | sed -E 's/^ *(->|<-|<\*\*) */\1 /; s/^/  /'
QID=$(e2e_swaks_replies "$E2E_T/swaks.out" | awk -F'\t' '$1 == "queued" { print $2 }')
echo
if [ -n "$QID" ]; then
	echo "Delivered by Postfix to smtp-sink (maillog status=sent for $QID):"
	e2e_postfix_delivered "$QID" | sed 's/^/  /'
else
	echo "The message was not queued (swaks exit $rc)."
fi
e2e_wait 5000 e2e_file_has '"event":"message"' "$AUDIT" || true

echo
echo "danepold audit log ($AUDIT), one line per event:"
python3 - "$AUDIT" <<'PY'
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    try:
        o = json.loads(l)
    except ValueError:
        print("  (unparseable) " + l.strip()[:100]); continue
    if o.get("event") == "rcpt":
        d = o.get("decision") or {}
        print("  rcpt    %-26s %-22s %-9s %-8s %-20s %5s ms  %s" % (
            o.get("recipient", "")[:26], (o.get("destination") or "-")[:22], o.get("action"),
            d.get("verdict"), d.get("reason"), o.get("elapsed_ms"), o.get("reply") or ""))
    elif o.get("event") == "message":
        print("  message queue id %s, end %s: %s accepted, %s deferred (session %s, client %s)" % (
            o.get("queue_id"), o.get("end"), o.get("accepted"), o.get("deferred"), o.get("session"),
            (o.get("client") or {}).get("addr")))
    else:
        print("  %s %s" % (o.get("event"), l.strip()[:100]))
PY
echo
echo "Full audit line of the first deferred recipient:"
grep -m1 '"action":"tempfail"' "$AUDIT" | cut -c1-600 | sed 's/^/  /'
echo
echo "Stopping danepold, Postfix, smtp-sink and the fault responder."
e2e_danepold_signal demo TERM
e2e_postfix_stop
e2e_danepold_stop demo
echo "danepold exit status: $E2E_RC"
[ -n "$QID" ] && [ "$E2E_RC" -eq 0 ]
