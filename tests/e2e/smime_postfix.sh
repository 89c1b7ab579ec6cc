#!/usr/bin/env bash
# tests/e2e/smime_postfix.sh - the inbound S/MIME signer check (milter/
# milter_smime.c, smime/) behind a real, private Postfix.
#
# Environment (make check): WORLD_DIR (with pki/smime/), FAULTDNS,
# DANEPOLD, TOP_SRCDIR; SMIME_DOC (default $TOP_SRCDIR/doc/smime.md) takes
# the operator snippets from another copy of the guide.
#
# Runs in a private network and mount namespace (tests/e2e/lib_delivery.sh:
# dl_begin re-executes it under `unshare -mn`): the OCSP responder the
# user certificates name listens on the fixed port 8888 of
# ocsp.smime.example (A 127.0.0.1), so parallel tests never collide.
#
# Set-up (tests/e2e/lib.sh): the offline world, smtp-sink (its dump file is
# the message as the recipient gets it), `openssl ocsp` on 127.0.0.1:8888
# (pki/smime/index.txt: carol revoked), two danepold instances
#   main  the doc's `<!-- snippet: danepol.conf smime -->` lines
#         (smime_listeners = inbound) and smime_authserv_id = mx.test;
#   tf    the same and smime_on_temperror = tempfail (a fresh process:
#         its OCSP cache is empty);
# and one Postfix with three smtpd listeners:
#   P_IN   the doc's `<!-- snippet: master.cf smime -->` lines (service
#          name -> 127.0.0.1:PORT, chroot column -> n: the only
#          substitutions), milter main;
#   P_SUB  milter_macro_daemon_name=submission, milter main (not listed);
#   P_TF   the doc's lines again, milter tf.
# Messages signed here with `openssl cms -sign` (pki/smime/, -certfile
# users.crt) and sent with swaks --data.
# Asserted, per message, on the header fields the recipient gets and the
# "smime" audit line (by envelope sender): alice detached and opaque ->
# pass (identifier, part, serial, issuer); carol -> fail (revoked);
# tampered body -> fail; mallory (rogue CA) -> fail; dave (insecure zone)
# -> neutral; unsigned -> none; a forged "Authentication-Results: mx.test"
# removed while another authserv-id's stays; alice through P_SUB -> no
# field, no smime audit line; OCSP responder stopped: bob (never cached)
# -> temperror, delivered; alice (cached) -> still pass; through P_TF
# (fresh cache) -> 451 4.7.5 at end of DATA, audit action tempfail.
# Every message but the tempfailed one is queued and delivered (maillog
# status=sent, in the sink); every audit line validates against
# doc/audit.schema.json.
# Ends with "N passed, M failed"; exit 0/1, 77 skip (not root, Postfix
# or swaks missing).
# shellcheck disable=SC2317  # functions run through step and e2e_wait
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
SMIME_DOC=${SMIME_DOC:-$TOP_SRCDIR/doc/smime.md}
case $SMIME_DOC in /*) ;; *) SMIME_DOC=$PWD/$SMIME_DOC ;; esac
export TOP_SRCDIR SMIME_DOC
# shellcheck source=tests/e2e/lib_delivery.sh
. "$TOP_SRCDIR/tests/e2e/lib_delivery.sh"
dl_begin --world pki/smime/users.crt swaks openssl ip || exit $?
# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
# shellcheck source=tests/lib/doc_snippet.sh
. "$TOP_SRCDIR/tests/lib/doc_snippet.sh"
VALIDATE=$HERE/validate_audit.py
PKI=$WORLD_DIR/pki/smime
RCPT=r@insecure.example	# danepold's RCPT verdict: try (250)

# ---------------------------------------------------------------- set-up
dl_init smime || { not_ok "temporary directory"; finish; }
[ -x "$DANEPOLD" ] || { not_ok "DANEPOLD is executable ($DANEPOLD)"; finish; }
step "namespace: lo up" dl_net_up
step "offline world and fault responder" e2e_world
step "smtp-sink on 127.0.0.1" e2e_sink_start

# The doc's snippets.
doc_snippet "$SMIME_DOC" "master.cf smime" > "$E2E_T/doc-master.cf"
doc_snippet "$SMIME_DOC" "danepol.conf smime" > "$E2E_T/doc-danepol.conf"
check_match "doc: the master.cf smime snippet is an smtpd line naming milter_macro_daemon_name" \
	"$(tr '\n' ' ' < "$E2E_T/doc-master.cf")" '^[^ ]+ +inet .* smtpd +-o milter_macro_daemon_name=[^ ]+'
mapfile -t DOC_CONF < <(grep -E '^smime_[a-z_]+ *=' "$E2E_T/doc-danepol.conf")
check_match "doc: the danepol.conf smime snippet sets smime_listeners" "${DOC_CONF[*]}" 'smime_listeners = '
LISTENER=$(sed -n -E 's/.*-o milter_macro_daemon_name=([^ ]+).*/\1/p' "$E2E_T/doc-master.cf" | head -1)
check_match "doc: smime_listeners names the master.cf listener '$LISTENER'" \
	"$(grep -E '^smime_listeners *=' "$E2E_T/doc-danepol.conf")" "= (.* )?$LISTENER( |\$)"
# The authserv-id: the doc's when it sets one, mx.test otherwise.
AUTHSERV=$(sed -n -E 's/^smime_authserv_id *= *//p' "$E2E_T/doc-danepol.conf" | tail -1)
if [ -z "$AUTHSERV" ] || [ "$AUTHSERV" = none ]; then
	AUTHSERV=mx.test
	DOC_CONF+=("smime_authserv_id = $AUTHSERV")
fi
# the world's OCSP responder is on 127.0.0.1, refused by default
DOC_CONF+=("smime_ocsp_internal = yes")

# The OCSP responder (pki/smime/index.txt: carol revoked), port 8888.
OCSP_PID=
ocsp_ready() { e2e_file_has "waiting for OCSP client connections" "$E2E_T/ocsp.log" || ! e2e_alive "$OCSP_PID"; }
ocsp_start() {
	: > "$E2E_T/ocsp.log"
	(cd "$PKI" && exec openssl ocsp -index index.txt -port 8888 -rsigner ocsp.crt -rkey ocsp.key \
		-CA users.crt -nmin 60) > "$E2E_T/ocsp.log" 2>&1 &
	OCSP_PID=$!
	E2E_PIDS+=("$OCSP_PID")
	if ! e2e_wait 10000 ocsp_ready || ! e2e_alive "$OCSP_PID"; then
		e2e_err "openssl ocsp did not start: $(cat "$E2E_T/ocsp.log")"
		return 1
	fi
}
ocsp_stop() {
	kill "$OCSP_PID" 2> /dev/null
	wait "$OCSP_PID" 2> /dev/null
	! (exec 3<> /dev/tcp/127.0.0.1/8888) 2> /dev/null
}
step "OCSP responder on 127.0.0.1:8888" ocsp_start

e2e_danepold_conf main unix "${DOC_CONF[@]}"
e2e_danepold_conf tf unix "${DOC_CONF[@]}" "smime_on_temperror = tempfail"
for n in main tf; do e2e_danepold_start "$n"; done
for n in main tf; do step "danepold '$n' ready on ${E2E_DSOCK[$n]}" e2e_danepold_ready "$n"; done

# The doc's master.cf lines as a listener of the private instance: the
# service name becomes 127.0.0.1:PORT and the chroot column n (the
# instance runs unchrooted, as every listener of lib.sh), then our milter.
# doc_listener MILTER: prints the port.
doc_listener() {
	local port
	port=$(e2e_free_port)
	awk -v svc="127.0.0.1:$port" 'NR == 1 { $1 = svc; $5 = "n" } { print }' "$E2E_T/doc-master.cf" \
		>> "$E2E_PF_DIR/master.cf"
	printf '  -o smtpd_milters=%s\n' "$1" >> "$E2E_PF_DIR/master.cf"
	echo "$port"
}
e2e_postfix_init
P_IN=$(doc_listener "${E2E_DSOCK[main]}")
P_TF=$(doc_listener "${E2E_DSOCK[tf]}")
P_SUB=$(e2e_postfix_listener "${E2E_DSOCK[main]}" "-o milter_macro_daemon_name=submission")
step "private Postfix started (listeners $LISTENER:$P_IN, submission:$P_SUB, $LISTENER/tempfail:$P_TF)" \
	e2e_postfix_start

# ---------------------------------------------------------------- messages
M=$E2E_T/msg
mkdir -p "$M"
# sign NAME USER FROM CERTFILE [openssl cms options]: $M/NAME.eml, a
# message from FROM signed by USER's key (detached unless -nodetach).
sign() {
	local name=$1 user=$2 from=$3 certfile=$4
	shift 4
	printf 'This is the S/MIME end-to-end case %s.\nSecond line.\n' "$name" > "$M/$name.txt"
	{
		printf 'Date: %s\nMessage-ID: <%s@client.e2e.test>\n' "$(date -R)" "$name"
		openssl cms -sign -in "$M/$name.txt" -text -signer "$PKI/$user.crt" -inkey "$PKI/$user.key" \
			-certfile "$PKI/$certfile" -from "$from" -to "$RCPT" -subject "smime $name" "$@"
	} > "$M/$name.eml" 2> "$M/$name.err"
}
# plain NAME FROM [HEADER...]: an unsigned message with extra header fields.
plain() {
	local name=$1 from=$2 h
	shift 2
	{
		for h in "$@"; do printf '%s\n' "$h"; done
		printf 'Date: %s\nMessage-ID: <%s@client.e2e.test>\nFrom: %s\nTo: %s\nSubject: smime %s\n\n' \
			"$(date -R)" "$name" "$from" "$RCPT" "$name"
		printf 'An unsigned message (%s).\n' "$name"
	} > "$M/$name.eml"
}
mk_all() {
	sign alice alice alice@smime.example users.crt &&
		sign opaque alice alice@smime.example users.crt -nodetach &&
		sign carol carol carol@smime.example users.crt &&
		sign tampered alice alice@smime.example users.crt &&
		sed -i 's/^Second line\./Second line, changed./' "$M/tampered.eml" &&
		grep -q 'changed' "$M/tampered.eml" &&
		sign mallory mallory mallory@smime.example rogue.crt &&
		sign dave dave dave@unsigned.example users.crt &&
		sign bob bob bob@smime.example users.crt &&
		plain unsigned erin@smime.example &&
		plain forged erin@smime.example "Authentication-Results: $AUTHSERV; smime=pass" \
			"Authentication-Results: other.test; smime=pass smime.smime-identifier=erin@smime.example" &&
		cp "$M/alice.eml" "$M/sub.eml" && cp "$M/alice.eml" "$M/cached.eml" && cp "$M/alice.eml" "$M/tf.eml"
}
step "messages signed with openssl cms -sign" mk_all

# send NAME PORT: swaks --data NAME.eml from NAME@client.e2e.test; the
# transcript in $E2E_T/NAME.sw, SW_RC, QID (queue id, or empty).
send() {
	e2e_swaks "$2" --from "$1@client.e2e.test" --to "$RCPT" --data "$M/$1.eml" > "$E2E_T/$1.sw"
	SW_RC=$?
	QID=$(e2e_swaks_replies "$E2E_T/$1.sw" | awk -F'\t' '$1 == "queued" { print $2; exit }')
}
QUEUED=()
# deliver NAME PORT: send, expecting it queued.
deliver() {
	send "$1" "$2"
	if [ "$SW_RC" -eq 0 ] && [ -n "$QID" ]; then
		ok "$1: accepted and queued as $QID"
		QUEUED+=("$1=$QID")
	else
		not_ok "$1: accepted and queued" "swaks exit $SW_RC" "$(grep -E '^ *<(\*\*|-) +[45]' "$E2E_T/$1.sw" | head -3)"
	fi
}

# delivered NAME: wait (bounded) until the sink has NAME's message.
delivered() { e2e_wait 20000 e2e_file_has "X-Mail-Args: <$1@client.e2e.test>" "$E2E_SINK_DUMP"; }

# facts: one pass (python3 starts slowly on a loaded machine) over the
# sink's dump and the audit logs, into $E2E_T/facts, lines "NAME<TAB>KEY
# <TAB>VALUE" for sender NAME@client.e2e.test:
#   ar          each Authentication-Results field of the message as the
#               recipient got it, in order, unfolded (white space runs made
#               one space)
#   D:count     the number of "smime" audit lines of instance D (main, tf)
#   D:KEY       a field of that line (smime.result, action, header
#               unfolded, ...; null as "null")
facts() {
	python3 - "$E2E_SINK_DUMP" "$E2E_T/d-main/audit.log" "$E2E_T/d-tf/audit.log" > "$E2E_T/facts" <<'PY'
import json, re, sys
def one(s):
    return re.sub(r"\s+", " ", s).strip()
def name_of(sender):
    sender = sender.strip("<>")
    return sender[:-len("@client.e2e.test")] if sender.endswith("@client.e2e.test") else sender
msgs, cur = [], None
for line in open(sys.argv[1], encoding="utf-8", errors="replace").read().split("\n"):
    if line.startswith("X-Client-Addr: "):
        cur = []
        msgs.append(cur)
    if cur is not None:
        cur.append(line)
for m in msgs:
    hdr = []
    for line in m:
        if line == "":
            break
        if line[:1] in (" ", "\t") and hdr:
            hdr[-1] += "\n" + line
        else:
            hdr.append(line)
    name = next((name_of(h[len("X-Mail-Args: "):].split()[0]) for h in hdr if h.startswith("X-Mail-Args: ")), "?")
    for h in hdr:
        if h.lower().startswith("authentication-results:"):
            print("%s\tar\t%s" % (name, one(h)))
for d, path in (("main", sys.argv[2]), ("tf", sys.argv[3])):
    count = {}
    for l in open(path, encoding="utf-8"):
        o = json.loads(l)
        if o.get("event") != "smime":
            continue
        name = name_of(o.get("sender") or "")
        count[name] = count.get(name, 0) + 1
        flat = {k: v for k, v in o.items() if k != "smime"}
        flat.update({"smime." + k: v for k, v in (o.get("smime") or {}).items()})
        for k, v in sorted(flat.items()):
            print("%s\t%s:%s\t%s" % (name, d, k, "null" if v is None else one(str(v))))
    for name, n in count.items():
        print("%s\t%s:count\t%d" % (name, d, n))
PY
}
# fact NAME KEY: the values of KEY for NAME, one per line.
fact() { awk -F'\t' -v n="$1" -v k="$2" '$1 == n && $2 == k { print $3 }' "$E2E_T/facts"; }
# audit_get D NAME KEY: the value of KEY in NAME's only smime audit line of D.
audit_get() {
	local c
	c=$(fact "$2" "$1:count")
	if [ "${c:-0}" != 1 ]; then echo "(${c:-0} lines)"; else fact "$2" "$1:$3"; fi
}

# expect_ar NAME RESULT [REGEX...]: NAME's message reached the sink with
# exactly one Authentication-Results field of ours, the first of them,
# "smime=RESULT", matching each REGEX; the audit line agrees.
expect_ar() {
	local name=$1 want=$2 ours f re
	shift 2
	if ! e2e_file_has "X-Mail-Args: <$name@client.e2e.test>" "$E2E_SINK_DUMP"; then
		not_ok "$name: delivered to the sink"
		return
	fi
	fact "$name" ar > "$E2E_T/$name.ar"
	ours=$(grep -c "^Authentication-Results: $AUTHSERV;" "$E2E_T/$name.ar")
	f=$(head -1 "$E2E_T/$name.ar")
	check_eq "$name: one Authentication-Results field of $AUTHSERV" "$ours" 1
	check_match "$name: ours is the first, smime=$want" "$f" "^Authentication-Results: $AUTHSERV; smime=$want( |\$)"
	for re in "$@"; do check_match "$name: field has $re" "$f" "$re"; done
	check_eq "$name: audit smime.result" "$(audit_get main "$name" smime.result)" "$want"
	check_eq "$name: audit action" "$(audit_get main "$name" action)" continue
	check_eq "$name: audit header is the field added" "Authentication-Results: $(audit_get main "$name" header)" "$f"
}

# ---------------------------------------------------------------- send
for n in alice opaque carol tampered mallory dave unsigned forged; do deliver "$n" "$P_IN"; done
deliver sub "$P_SUB"
# Responder stopped: bob (never asked) and alice again (cached), and a
# fresh instance with smime_on_temperror = tempfail.
step "OCSP responder stopped" ocsp_stop
deliver bob "$P_IN"
deliver cached "$P_IN"
send tf "$P_TF"
for q in "${QUEUED[@]}"; do delivered "${q%%=*}" || e2e_err "${q%%=*} not in the sink yet"; done
step "sink and audit logs read" facts

# ---------------------------------------------------------------- responder up

expect_ar alice pass 'smime\.smime-identifier=alice@smime\.example( |$)' \
	'smime\.smime-serial=(0x)?0*51( |$)' 'smime\.smime-issuer="[^"]*users'
check_eq "alice: audit kind" "$(audit_get main alice smime.kind)" detached
# The signed entity is the message itself (part ""): smime_ar.c writes
# smime.smime-part only for a non-empty part.
check_eq "alice: audit part (the whole message)" "$(audit_get main alice smime.part)" ""
if grep -q 'smime\.smime-part=' "$E2E_T/alice.ar"; then
	not_ok "alice: no smime.smime-part for the whole message" "$(head -1 "$E2E_T/alice.ar")"
else
	ok "alice: no smime.smime-part for the whole message"
fi
check_eq "alice: audit ocsp" "$(audit_get main alice smime.ocsp)" good
check_eq "alice: audit dnssec" "$(audit_get main alice smime.dnssec)" secure
expect_ar opaque pass 'smime\.smime-identifier=alice@smime\.example( |$)'
check_eq "opaque: audit kind" "$(audit_get main opaque smime.kind)" opaque
expect_ar carol fail 'reason="[^"]*revoked'
check_eq "carol: audit ocsp" "$(audit_get main carol smime.ocsp)" revoked
expect_ar tampered fail
expect_ar mallory fail
expect_ar dave neutral
check_eq "dave: audit dnssec" "$(audit_get main dave smime.dnssec)" insecure
expect_ar unsigned none
expect_ar forged none
check_eq "forged: audit removed" "$(audit_get main forged removed)" 1
if grep -q "^Authentication-Results: $AUTHSERV; smime=pass" "$E2E_T/forged.ar"; then
	not_ok "forged: the forged field of $AUTHSERV is gone" "$(cat "$E2E_T/forged.ar")"
else
	ok "forged: the forged field of $AUTHSERV is gone"
fi
check_eq "forged: the field of other.test stays, after ours" "$(sed -n 2p "$E2E_T/forged.ar")" \
	"Authentication-Results: other.test; smime=pass smime.smime-identifier=erin@smime.example"
check_eq "forged: two fields in all" "$(wc -l < "$E2E_T/forged.ar")" 2

if e2e_file_has "X-Mail-Args: <sub@client.e2e.test>" "$E2E_SINK_DUMP"; then
	check_eq "sub (listener 'submission'): no Authentication-Results added" "$(fact sub ar)" ""
else
	not_ok "sub: delivered to the sink"
fi
check_eq "sub: no smime audit line" "$(fact sub main:count)" ""

# ---------------------------------------------------------------- responder stopped
expect_ar bob temperror
check_eq "bob: audit ocsp" "$(audit_get main bob smime.ocsp | cut -d' ' -f1)" error
expect_ar cached pass 'smime\.smime-identifier=alice@smime\.example( |$)'
check_match "cached: audit ocsp from the cache" "$(audit_get main cached smime.ocsp)" 'cached'

# smime_on_temperror = tempfail, a fresh instance: 451 4.7.5 at end of DATA.
reply=$(awk '/^ *-> \.$/ { d = 1; next } d && /^ *<(\*\*|-) +[0-9][0-9][0-9] / { sub(/^ *<(\*\*|-) +/, ""); print; exit }' "$E2E_T/tf.sw")
check_prefix "tf: end of DATA answered 451 4.7.5" "$reply" "451 4.7.5 "
check_eq "tf: not queued" "$(e2e_swaks_replies "$E2E_T/tf.sw" | grep -c '^queued')" 0
check_eq "tf: audit action" "$(audit_get tf tf action)" tempfail
check_eq "tf: audit header" "$(audit_get tf tf header)" null
check_eq "tf: audit smime.result" "$(audit_get tf tf smime.result)" temperror
if e2e_file_has "X-Mail-Args: <tf@client.e2e.test>" "$E2E_SINK_DUMP"; then
	not_ok "tf: never reached the sink"
else
	ok "tf: never reached the sink"
fi

# ---------------------------------------------------------------- delivery, audit schema
for q in "${QUEUED[@]}"; do
	check_eq "${q%%=*}: maillog status=sent to <$RCPT>" "$(e2e_postfix_delivered "${q#*=}")" "$RCPT"
done
check_eq "Postfix rejected nothing but tf" \
	"$(grep -E ' (reject|milter-reject):' "$E2E_T/pf/maillog" | grep -vcF 'from=<tf@client.e2e.test>')" 0
check_match "tf: maillog milter-reject END-OF-MESSAGE 4.7.5" \
	"$(grep -F 'from=<tf@client.e2e.test>' "$E2E_T/pf/maillog" | grep -F 'milter-reject:')" 'END-OF-MESSAGE .*: 4\.7\.5 '

if python3 -c 'import jsonschema' 2> /dev/null; then
	"$VALIDATE" schema "$TOP_SRCDIR/doc" "$E2E_T/d-main/audit.log" "$E2E_T/d-tf/audit.log" > "$E2E_T/v.out" 2>&1
	py_results "$E2E_T/v.out"
else
	not_ok "python3-jsonschema installed (audit schema validation)"
fi

# ---------------------------------------------------------------- clean stop
for n in main tf; do e2e_danepold_signal "$n" TERM; done
for n in main tf; do
	e2e_danepold_stop "$n"
	check_eq "danepold '$n': SIGTERM -> exit 0" "$E2E_RC" 0
	if grep -qiE 'assert|sanitizer|segmentation|double free' "$E2E_T/d-$n/stderr"; then
		not_ok "danepold '$n' stderr free of crashes" "$(grep -iE 'assert|sanitizer|segmentation|double free' "$E2E_T/d-$n/stderr" | head -3)"
	fi
done
finish
