#!/usr/bin/env bash
# tests/e2e/own_domains.sh - the operator's own domains are never deferred
# when their zone goes bogus; outbound SMTP destinations still are
# (danepol issue 11 item 2; milter/milter.c cb_rcpt_decide).
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT):
#   WORLD_DIR  the signed world of tools/mkworld.sh; FAULTDNS its fault responder
#   DANEPOLD   the danepold binary under test
#   TOP_SRCDIR source tree (doc/audit.schema.json, doc/decision.schema.json)
#
# Set-up (tests/e2e/lib.sh): one danepold with the defaults of the keys
# under test (use_rcpt_host = yes, milter_smtp_transports = smtp), one
# private Postfix (stock Debian master.cf plus one pipe service) with no
# relayhost, whose own domains live in zones that are bogus in the world:
#   bogus.example          mydestination          -> local   (mailbox file)
#   expired.example        virtual_mailbox_domains -> virtual (Maildir)
#   relay.bogus.example    relay_domains          -> relay:[127.0.0.1]:SINK
#                          (transport_maps; the "internal mailbox host" is smtp-sink)
#   pipe.expired.example   relay_domains          -> ownpipe: (a pipe service,
#                          like dovecot-lda or maildrop)
#   discard.bogus.example  relay_domains          -> discard:
# and outbound recipients through the smtp transport:
#   tlsabogus.example      next hop = the domain (TLSA bogus)  -> 450 4.7.5
#   implicit.example       transport_maps smtp:[mx1.tampered.example]
#                          (no MX lookup; the host's address bogus) -> 450 4.7.5
#   secure.example         next hop = the domain (DANE)        -> 250
# Asserts: every own recipient 250 and delivered (mailbox, Maildir, sink,
# pipe output, discard in the maillog); the outbound bogus ones 450 4.7.5;
# the audit lines name each transport and validate against the schema and
# join with the replies.
# Ends with "N passed, M failed"; exit 0 when nothing failed, 77 (skip)
# when not root or Postfix/swaks are missing.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"
e2e_paths
VALIDATE=$HERE/validate_audit.py

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

PATH=$PATH:/usr/sbin:/sbin
if why=$(e2e_skip_reason) || ! command -v swaks > /dev/null; then
	echo "SKIP: ${why:-swaks not installed}"
	exit 77
fi
if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR" ]; then
	echo "SKIP: WORLD_DIR unset or missing (run through make check)"
	exit 77
fi

e2e_init own || { not_ok "temporary directory"; finish; }
[ -x "$DANEPOLD" ] || { not_ok "DANEPOLD is executable ($DANEPOLD)"; finish; }
if e2e_world; then ok "offline world and fault responder"; else not_ok "offline world and fault responder"; finish; fi
if e2e_sink_start; then ok "smtp-sink on 127.0.0.1:$E2E_SINK_PORT"; else not_ok "smtp-sink"; finish; fi

# The defaults under test: no use_rcpt_host / milter_smtp_transports line
# (the comment keeps lib.sh's "use_rcpt_host = no" out).
e2e_danepold_conf own unix "decision_timeout = 1500ms" "# use_rcpt_host, milter_smtp_transports: the defaults"
e2e_danepold_start own
if e2e_danepold_ready own 2> "$E2E_T/ready.err"; then ok "danepold ready"; else
	not_ok "danepold ready" "$(cat "$E2E_T/ready.err")"; finish; fi
AUDIT=$E2E_T/d-own/audit.log

# Delivery targets, written by unprivileged Postfix delivery agents.
MAIL=$E2E_T/mail VMAIL=$E2E_T/vmail PIPE=$E2E_T/pipe
mkdir -p "$MAIL" "$VMAIL" "$PIPE"
chmod 1777 "$MAIL"
chown nobody "$VMAIL" "$PIPE"
# shellcheck disable=SC2016  # $1 is the script's own argument
printf '#!/bin/sh\n# the ownpipe service: append the message to a file per recipient\ncat >> "%s/$1"\n' "$PIPE" > "$E2E_T/deliver.sh"
chmod 755 "$E2E_T/deliver.sh"

SINK="[127.0.0.1]:$E2E_SINK_PORT"
e2e_postfix_init "relayhost =" \
	"mydestination = bogus.example" \
	"mail_spool_directory = $MAIL" \
	"virtual_mailbox_domains = expired.example" \
	"virtual_mailbox_base = $VMAIL" \
	"virtual_mailbox_maps = inline:{ box@expired.example=box/ }" \
	"virtual_uid_maps = static:65534" "virtual_gid_maps = static:65534" \
	"relay_domains = relay.bogus.example, pipe.expired.example, discard.bogus.example" \
	"transport_maps = inline:{ relay.bogus.example=relay:$SINK, pipe.expired.example=ownpipe:, discard.bogus.example=discard:, implicit.example=smtp:[mx1.tampered.example] }"
# shellcheck disable=SC2016  # ${recipient} is pipe(8)'s macro
printf 'ownpipe unix - n n - - pipe\n  flags=q user=nobody argv=%s ${recipient}\n' "$E2E_T/deliver.sh" >> "$E2E_PF_DIR/master.cf"
PORT=$(e2e_postfix_listener "${E2E_DSOCK[own]}")
if e2e_postfix_start 2> "$E2E_T/pf.err"; then ok "private Postfix started"; else
	not_ok "private Postfix started" "$(head -20 "$E2E_T/pf.err")"; finish; fi

EXPECT=$E2E_T/expect.tsv
: > "$EXPECT"
# sw NAME FROM TO,... [swaks options]: per-RCPT replies in $E2E_T/NAME.r
sw() {
	local name=$1 from=$2 to=$3
	shift 3
	e2e_swaks "$PORT" --from "$from" --to "$to" "$@" > "$E2E_T/$name.sw"
	e2e_swaks_replies "$E2E_T/$name.sw" > "$E2E_T/$name.r"
}
reply_of() { awk -F'\t' -v r="$2" '$1 == r { print $2; exit }' "$E2E_T/$1.r"; }
# expect_rcpt NAME SENDER RCPT WANT_PREFIX VERDICT REASON
expect_rcpt() {
	local got
	got=$(reply_of "$1" "$3")
	check_prefix "$1: RCPT <$3> -> $4" "$got" "$4"
	printf 'rcpt\t%s\t%s\t%s\t%s\t%s\t*\n' "$2" "$3" "$got" "$5" "$6" >> "$EXPECT"
}

# ---------------------------------------------------------------- inbound to the operator's own domains
S1=in@client.e2e.test
OWN=(nobody@bogus.example box@expired.example r@relay.bogus.example p@pipe.expired.example d@discard.bogus.example)
sw in "$S1" "$(IFS=,; echo "${OWN[*]}")"
for r in "${OWN[@]}"; do expect_rcpt in "$S1" "$r" "250 " try local-policy; done
QID=$(awk -F'\t' '$1 == "queued" { print $2; exit }' "$E2E_T/in.r")
if [ -n "$QID" ]; then ok "inbound message queued as $QID"; else not_ok "inbound message queued" "$(tail -5 "$E2E_T/in.sw")"; fi
printf 'txn\t%s\t%s\teom\n' "$S1" "${QID:--}" >> "$EXPECT"
if [ -n "$QID" ]; then
	got=$(e2e_postfix_delivered "$QID" | tr '\n' ' ')
	want=$(printf '%s\n' "${OWN[@]}" | sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then ok "maillog: status=sent for every own recipient"; else
		not_ok "maillog: status=sent for every own recipient" "want '$want'" "got  '$got'"
		grep -F " $QID: " "$E2E_T/pf/maillog" | sed 's/^/#   /' | head -10
	fi
	if grep -qF "Subject: danepol e2e" "$MAIL/nobody" 2> /dev/null; then ok "local: delivered to the mailbox of nobody"; else
		not_ok "local: delivered to the mailbox of nobody"; fi
	if grep -rqF "Subject: danepol e2e" "$VMAIL/box/new" 2> /dev/null; then ok "virtual: delivered to the Maildir of box@expired.example"; else
		not_ok "virtual: delivered to the Maildir of box@expired.example"; fi
	if grep -qxF r@relay.bogus.example <<< "$(e2e_sink_recipients)"; then ok "relay: delivered to the internal host (sink)"; else
		not_ok "relay: delivered to the internal host (sink)" "sink has: $(e2e_sink_recipients | tr '\n' ' ')"; fi
	if grep -qF "Subject: danepol e2e" "$PIPE/p@pipe.expired.example" 2> /dev/null; then ok "pipe: delivered by the ownpipe service"; else
		not_ok "pipe: delivered by the ownpipe service"; fi
	if grep -F " $QID: to=<d@discard.bogus.example>" "$E2E_T/pf/maillog" | grep -q 'postfix/discard\[.*status=sent'; then
		ok "discard: discarded by the discard transport"
	else not_ok "discard: discarded by the discard transport"; fi
fi

# ---------------------------------------------------------------- outbound through the smtp transport
S2=out@client.e2e.test
sw out "$S2" "o@tlsabogus.example,m@implicit.example,s@secure.example" --quit-after RCPT
expect_rcpt out "$S2" o@tlsabogus.example "450 4.7.5 " defer tlsa-lookup-failed
expect_rcpt out "$S2" m@implicit.example "450 4.7.5 " defer address-dnssec-bogus
expect_rcpt out "$S2" s@secure.example "250 " require dane
printf 'txn\t%s\t-\tabort,close\n' "$S2" >> "$EXPECT"

# ---------------------------------------------------------------- the audit: transports named, joined, schema-valid
# (the outbound session ended at QUIT; its message line comes at close)
# shellcheck disable=SC2317  # called through e2e_wait
messages() { [ "$(grep -c '"event":"message"' "$AUDIT")" -ge 2 ]; }
e2e_wait 5000 messages || not_ok "both transactions' message lines written"
printf 'count\trcpt\t8\ncount\tmessage\t2\n' >> "$EXPECT"
"$VALIDATE" join "$AUDIT" "$EXPECT" > "$E2E_T/v.out" 2>&1
py_results "$E2E_T/v.out"
# (Postfix's {rcpt_host} for local delivery is $myhostname)
got=$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o.get("event") == "rcpt":
        print(o["recipient"], o.get("transport"), o["destination"])' "$AUDIT" 2>&1)
want="nobody@bogus.example local mx.e2e.test
box@expired.example virtual expired.example
r@relay.bogus.example relay $SINK
p@pipe.expired.example ownpipe pipe.expired.example
d@discard.bogus.example discard discard.bogus.example
o@tlsabogus.example smtp tlsabogus.example
m@implicit.example smtp [mx1.tampered.example]
s@secure.example smtp secure.example"
if [ "$got" = "$want" ]; then ok "audit: transport and next hop of every recipient"; else
	not_ok "audit: transport and next hop of every recipient" "want: $(tr '\n' '|' <<< "$want")" "got:  $(tr '\n' '|' <<< "$got")"; fi
if grep -q '"why":"transport ownpipe is not in milter_smtp_transports' "$AUDIT"; then
	ok "audit: the reason names the transport"
else not_ok "audit: the reason names the transport"; fi
if python3 -c 'import jsonschema' 2> /dev/null; then
	"$VALIDATE" schema "$TOP_SRCDIR/doc" "$AUDIT" > "$E2E_T/v.out" 2>&1
	py_results "$E2E_T/v.out"
else
	not_ok "python3-jsonschema installed (audit schema validation)"
fi
finish
