#!/usr/bin/env bash
# tests/e2e/exim_bridge.sh - danepold's Exim socket behind a real Exim 4.96.
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT):
#   WORLD_DIR  the signed world of tools/mkworld.sh; FAULTDNS its fault responder
#   DANEPOLD   the danepold binary under test
#   TOP_SRCDIR source tree (doc/exim.md, doc/audit.schema.json, tests/e2e/lib.sh)
#   EXIM_CACHE where tools/fetch-exim.sh left the downloaded, unpacked
#              Exim (default /var/cache/danepol-tests/exim, the EXIM_DIR of
#              tools/setup.sh deps)
#
# Exim is never installed, and this test installs nothing: `tools/setup.sh
# deps` downloads and unpacks the Debian packages and creates the system
# user Debian-exim the binary needs. Without them the test SKIPs.
# Set-up (tests/e2e/lib.sh): the offline world and its fault responder;
# danepold instances serving only exim_socket (milter_socket = none when
# this danepold accepts it), socket group Debian-exim, mode 0660; Exim
# configurations made from tests/e2e/exim.conf.in, which holds
# doc/exim.md's ACL and transport snippets verbatim (checked first, as
# is doc/exim.md's danepol.conf example with danepold -n).
# Asserts, as the SMTP client sees them:
#   - Exim -bh (host checking: an SMTP dialogue on stdin; started by root,
#     Exim still runs the ACL as Debian-exim):
#     secure/insecure/no-TLSA recipients 250; bogus.example 450 4.7.5 with
#     the engine's text exactly as danepold answers it; blackhole.example
#     451 4.4.3 within the decision deadline (decision_timeout < the
#     ${readsocket} timeout); danepold stopped and a missing socket ->
#     451 4.3.0 (the SOCKFAIL branch); a socket that accepts and never
#     answers -> the same 451 4.3.0 after the 3 s ${readsocket} timeout;
#     an empty reply -> 451 4.3.0 DANE policy service error;
#     a socket Debian-exim may not open (mode 0600) -> 451 4.3.0, in -bh
#     and in the daemon, while it answers root.
#   - An Exim daemon on a loopback port (run as root; its SMTP processes
#     run as Debian-exim, so the socket permissions are exercised) with
#     swaks: the same codes and texts; the message is queued.
#   - A queue run (-qff) delivering through the snippet's smtp transport
#     to a second, TLS-capable Exim on loopback (the world's test PKI):
#     the no-TLSA recipient delivered over TLS, the dane-only one
#     (secure.example: hosts_require_dane = * from the verdict) refused by
#     Exim's DANE (the host is not DNSSEC-validated here), a recipient the
#     receiver defers deferred; a second queue run with the receiver
#     stopped (connection refused); the tls:cert, msg:delivery,
#     dane:fail, msg:fail:delivery, msg:rcpt:host:defer, msg:rcpt:defer,
#     msg:host:defer and msg:defer events reach the audit log, and each
#     RCPT and transport query has its exim-query line.
#   - Every audit line is valid against doc/audit.schema.json.
# Ends with "N passed, M failed"; exit 0 when nothing failed, 1 otherwise,
# 77 (skip) when not root, swaks/python3 are missing, or no unpacked Exim
# (or no Debian-exim user) is there.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
EXIM_CACHE=${EXIM_CACHE:-/var/cache/danepol-tests/exim}
# shellcheck source=tests/e2e/lib.sh
. "$TOP_SRCDIR/tests/e2e/lib.sh"
e2e_paths
UTIL=$HERE/exim_util.py
VALIDATE=$TOP_SRCDIR/tests/e2e/validate_audit.py
TIMEOUT_MS=1500		# decision_timeout of danepold (below the 3 s readsocket timeout)
READSOCKET_S=3		# the ${readsocket} timeout of the doc/exim.md ACL snippet

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---------------------------------------------------------------- prerequisites
# shellcheck source=tests/e2e/lib_exim.sh
. "$HERE/lib_exim.sh"
exim_prereq

python3 "$UTIL" snippets "$TOP_SRCDIR/doc/exim.md" "$HERE/exim.conf.in" > "${TMPDIR:-/tmp}/exim-snip.$$"
py_results "${TMPDIR:-/tmp}/exim-snip.$$"; rm -f "${TMPDIR:-/tmp}/exim-snip.$$"

e2e_init exim || { not_ok "temporary directory"; finish; }
[ -x "$DANEPOLD" ] || { not_ok "DANEPOLD is executable ($DANEPOLD)"; finish; }
if e2e_world; then ok "offline world and fault responder"; else not_ok "offline world and fault responder"; finish; fi

# ---------------------------------------------------------------- danepold instances
# exim_conf NAME [LINE...]: $E2E_T/d-NAME/danepol.conf serving the Exim
# socket $E2E_T/d-NAME/exim.sock (group Debian-exim, 0660). lib.sh's
# e2e_danepold_conf writes socket_group = postfix, and keys may appear
# once, hence this variant. milter_socket = none when MILTER_NONE=1;
# SOCK_MODE overrides the socket mode.
MILTER_NONE=
exim_conf() {
	local name=$1 d=$E2E_T/d-$1 l
	shift
	mkdir -p "$d"
	chown "${E2E_USER:-nobody}" "$d"
	E2E_DSOCK[$name]=unix:$d/exim.sock	# what e2e_danepold_ready connects to
	{
		echo "# danepold instance '$name' (tests/e2e/exim_bridge.sh)"
		if [ -n "$MILTER_NONE" ]; then echo "milter_socket = none"; else echo "milter_socket = unix:$d/milter.sock"; fi
		echo "exim_socket = unix:$d/exim.sock"
		echo "user = ${E2E_USER:-nobody}"
		echo "socket_group = Debian-exim"
		echo "socket_mode = ${SOCK_MODE:-0660}"
		echo "pid_file = none"
		echo "audit_log = $d/audit.log"
		echo "audit_sync = flush"
		echo "outcome_db = $d/outcomes.db"
		echo "trust_anchor = $E2E_TRUST_ANCHOR"
		echo "resolver_config = $E2E_RESOLVER_CONF"
		echo "decision_timeout = ${TIMEOUT_MS}ms"
		for l in "$@"; do echo "$l"; done
	} > "$d/danepol.conf"
}
MILTER_NONE=1
exim_conf probe
if ! "$DANEPOLD" -n -c "$E2E_T/d-probe/danepol.conf" > /dev/null 2>&1; then
	MILTER_NONE=
	echo "# this danepold refuses milter_socket = none: the instances also serve a milter socket"
fi
# perm: socket mode 0600 (owner nobody): Exim's Debian-exim processes
# cannot connect.
# doc/exim.md's danepol.conf example (paths moved into the test directory)
# shellcheck source=tests/lib/doc_snippet.sh
. "$TOP_SRCDIR/tests/lib/doc_snippet.sh"
doc_snippet "$TOP_SRCDIR/doc/exim.md" "danepol.conf exim" | sed "s|/run/danepol/|$E2E_T/doc/|; s|/var/log/danepol/|$E2E_T/doc/|" > "$E2E_T/doc.conf"
# the example's user (danepol, made by the package) is the test's user here:
# danepold -n checks that it exists and may write the socket's and the
# audit log's directory (the package's tmpfiles.d and logrotate set-up)
mkdir -p "$E2E_T/doc"; [ "$(id -u)" -ne 0 ] || chown "${E2E_USER:-nobody}" "$E2E_T/doc"
[ "$(id -u)" -ne 0 ] || printf 'user = %s\n' "${E2E_USER:-nobody}" >> "$E2E_T/doc.conf"
if grep -q '^exim_socket = ' "$E2E_T/doc.conf" && out=$("$DANEPOLD" -n -c "$E2E_T/doc.conf" 2>&1); then
	ok "doc/exim.md's danepol.conf example passes danepold -n"
else
	not_ok "doc/exim.md's danepol.conf example passes danepold -n" "${out:-no example found}"
fi
for n in main stop perm; do
	SOCK_MODE=0660
	[ "$n" = perm ] && SOCK_MODE=0600
	exim_conf "$n"
	e2e_danepold_start "$n"
done
for n in main stop perm; do
	if e2e_danepold_ready "$n" 2> "$E2E_T/ready.err"; then
		ok "danepold '$n' ready on ${E2E_DSOCK[$n]}${MILTER_NONE:+ (milter_socket = none)}"
	else
		not_ok "danepold '$n' ready on ${E2E_DSOCK[$n]}" "$(cat "$E2E_T/ready.err")"
		finish
	fi
done
SOCK_MAIN=$E2E_T/d-main/exim.sock
SOCK_STOP=$E2E_T/d-stop/exim.sock
AUDIT_MAIN=$E2E_T/d-main/audit.log
g=$(stat -c %G "$SOCK_MAIN" 2> /dev/null)
check_eq "exim socket group is Debian-exim" "$g" "Debian-exim"

# ---------------------------------------------------------------- Exim configurations
# mkconf NAME SOCKET [PORT]: $E2E_T/x-NAME/{exim.conf,spool,log} from
# exim.conf.in; the daemon port is PORT (default EXIM_PORT).
PKI=$E2E_T/pki
mkdir -p "$PKI"
cp "$WORLD_DIR/pki/ca.crt" "$WORLD_DIR/pki/ee-chain.crt" "$WORLD_DIR/pki/ee.key" "$PKI/"
chown Debian-exim "$PKI/ee.key"
chmod 755 "$PKI"
EXIM_PORT=$(e2e_free_port)
RECV_PORT=$(e2e_free_port)
mkconf() {
	local d=$E2E_T/x-$1
	exim_dir "$d"
	chmod 755 "$d"
	sed -e "s|@DIR@|$d|g; s|@SOCKET@|$2|g; s|@PORT@|${3:-$EXIM_PORT}|g; s|@NEXTHOP_PORT@|$RECV_PORT|g; s|@CA@|$PKI/ca.crt|g" \
		"$HERE/exim.conf.in" > "$d/exim.conf"
}
mkconf main "$SOCK_MAIN"
mkconf stop "$SOCK_STOP"
mkconf missing "$E2E_T/no-such-dir/exim.sock"
mkconf hang "$E2E_T/hang.sock"
mkconf close "$E2E_T/close.sock"
PERM_PORT=$(e2e_free_port)
mkconf perm "$E2E_T/d-perm/exim.sock" "$PERM_PORT"
if out=$(exim -C "$E2E_T/x-main/exim.conf" -bV 2>&1); then
	ok "exim.conf made from exim.conf.in parses (exim -bV)"
else
	not_ok "exim.conf made from exim.conf.in parses (exim -bV)" "$(echo "$out" | tail -3)"
	finish
fi

# bh NAME CONF RCPT...: an Exim -bh 127.0.0.1 session (HELO, MAIL, one RCPT
# each, QUIT); $E2E_T/NAME.bh holds "rcpt<TAB>reply" lines (multi-line
# replies joined, see bridge_util.py), BH_MS the session's wall time.
bh() {
	local name=$1 conf=$2 r t0
	shift 2
	{
		printf 'HELO client.exim.test\r\nMAIL FROM:<%s@client.exim.test>\r\n' "$name"
		for r in "$@"; do printf 'RCPT TO:<%s>\r\n' "$r"; done
		printf 'QUIT\r\n'
	} > "$E2E_T/$name.in"
	t0=$(now_ms)
	exim -C "$conf" -bh 127.0.0.1 < "$E2E_T/$name.in" > "$E2E_T/$name.out" 2> "$E2E_T/$name.err"
	BH_MS=$(($(now_ms) - t0))
	python3 "$UTIL" replies bh "$E2E_T/$name.out" "$@" > "$E2E_T/$name.bh"
}
bh_reply() { awk -F'\t' -v r="$2" '$1 == r { print $2; exit }' "$E2E_T/$1.bh"; }

# ---------------------------------------------------------------- -bh: the verdicts
bh blackhole "$E2E_T/x-main/exim.conf" z@blackhole.example
got=$(bh_reply blackhole z@blackhole.example)
check_prefix "-bh: RCPT <z@blackhole.example> -> 451 4.4.3 (DNS timeout, the engine's reply)" "$got" "451 4.4.3 "
if [ "$BH_MS" -ge $((TIMEOUT_MS - 300)) ] && [ "$BH_MS" -lt $((READSOCKET_S * 1000)) ]; then
	ok "-bh: blackhole.example answered within the decision deadline (${BH_MS} ms; decision_timeout ${TIMEOUT_MS} ms < readsocket ${READSOCKET_S} s)"
else
	not_ok "-bh: blackhole.example answered within the decision deadline" \
		"session took ${BH_MS} ms; want about ${TIMEOUT_MS} ms, less than ${READSOCKET_S} s"
fi

bh main "$E2E_T/x-main/exim.conf" a@secure.example b@insecure.example c@notlsa.example \
	d@bogus.example e@expired.example f@secure.example
check_eq "-bh: RCPT <a@secure.example> -> 250 (verdict require)" "$(bh_reply main a@secure.example)" "250 Accepted"
check_eq "-bh: RCPT <b@insecure.example> -> 250 (verdict try)" "$(bh_reply main b@insecure.example)" "250 Accepted"
check_eq "-bh: RCPT <c@notlsa.example> -> 250 (verdict try)" "$(bh_reply main c@notlsa.example)" "250 Accepted"
check_eq "-bh: RCPT <f@secure.example> after deferred recipients -> 250" "$(bh_reply main f@secure.example)" "250 Accepted"
for r in d@bogus.example e@expired.example; do
	direct=$(python3 "$UTIL" query "$SOCK_MAIN" "rcpt $r" 2>&1)
	want=$(python3 "$UTIL" field reply "$direct") || want="(no reply= in '$direct')"
	got=$(bh_reply main "$r")
	check_prefix "-bh: RCPT <$r> -> 450 4.7.5 DNSSEC validation of the MX records failed" "$got" \
		"450 4.7.5 DNSSEC validation of the MX records failed (${r#*@}: "
	check_eq "-bh: RCPT <$r>: Exim sends danepold's reply text unchanged" "$got" "$want"
done
if grep -qF "temporarily rejected RCPT <d@bogus.example>: 450 4.7.5 " "$E2E_T/main.err" "$E2E_T/main.out"; then
	ok "-bh: Exim logs the deferral with danepold's reply"
else
	not_ok "-bh: Exim logs the deferral with danepold's reply" "$(grep -h 'LOG:' "$E2E_T/main.err" "$E2E_T/main.out" | head -3)"
fi

# ---------------------------------------------------------------- -bh: failure modes
bh stop0 "$E2E_T/x-stop/exim.conf" s@secure.example
check_eq "-bh: RCPT <s@secure.example> -> 250 while danepold 'stop' runs" "$(bh_reply stop0 s@secure.example)" "250 Accepted"
e2e_danepold_stop stop
check_eq "danepold 'stop' exits 0 on SIGTERM" "$E2E_RC" "0"
bh stopped "$E2E_T/x-stop/exim.conf" s@secure.example
check_eq "-bh: danepold stopped -> 451 4.3.0 (SOCKFAIL)" "$(bh_reply stopped s@secure.example)" \
	"451 4.3.0 DANE policy service unavailable"
bh missing "$E2E_T/x-missing/exim.conf" s@secure.example
check_eq "-bh: socket missing -> 451 4.3.0 (SOCKFAIL)" "$(bh_reply missing s@secure.example)" \
	"451 4.3.0 DANE policy service unavailable"

# A server that accepts and never answers: the ${readsocket} timeout.
# (Not a coproc: bash allows one, the fault responder's.)
python3 "$UTIL" hang "$E2E_T/hang.sock" "$E2E_T/hang.log" > "$E2E_T/hang.ready" 2>&1 &
E2E_PIDS+=("$!")
if e2e_wait 10000 e2e_file_has READY "$E2E_T/hang.ready"; then
	bh hang "$E2E_T/x-hang/exim.conf" h@secure.example
	check_eq "-bh: no answer within the readsocket timeout -> 451 4.3.0 (SOCKFAIL)" \
		"$(bh_reply hang h@secure.example)" "451 4.3.0 DANE policy service unavailable"
	if [ "$BH_MS" -ge $((READSOCKET_S * 1000 - 200)) ] && [ "$BH_MS" -lt $((READSOCKET_S * 1000 + 3000)) ]; then
		ok "-bh: the timeout branch fired after the ${READSOCKET_S} s readsocket timeout (${BH_MS} ms)"
	else
		not_ok "-bh: the timeout branch fired after the ${READSOCKET_S} s readsocket timeout" "session took ${BH_MS} ms"
	fi
	check_eq "-bh: the silent server got Exim's request line" "$(head -1 "$E2E_T/hang.log" 2> /dev/null)" \
		"rcpt h@secure.example"
else
	not_ok "silent socket server started"
fi

# A server that reads the request and closes without a reply: the
# "service error" branch (an empty or malformed reply, verdict=error).
python3 "$UTIL" close "$E2E_T/close.sock" "$E2E_T/close.log" > "$E2E_T/close.ready" 2>&1 &
E2E_PIDS+=("$!")
if e2e_wait 10000 e2e_file_has READY "$E2E_T/close.ready"; then
	bh close "$E2E_T/x-close/exim.conf" c@secure.example
	check_eq "-bh: an empty reply -> 451 4.3.0 (service error branch)" \
		"$(bh_reply close c@secure.example)" "451 4.3.0 DANE policy service error"
else
	not_ok "closing socket server started"
fi

# ---------------------------------------------------------------- a real Exim daemon, and delivery
# The receiver: a second Exim with STARTTLS (the world's EE certificate,
# CN mx1.secure.example), accepting everything into :blackhole: except
# recipients at insecure.example, which it defers (451 4.3.2), so the
# sender's transport sees a delivery, TLS certificates and a deferral.
RD=$E2E_T/x-recv
exim_dir "$RD"
{ echo "# receiving Exim of tests/e2e/exim_bridge.sh"; exim_private "$RD"; } > "$RD/exim.conf"
cat >> "$RD/exim.conf" << EOF
primary_hostname = mx1.secure.example
local_interfaces = <; 127.0.0.1
tls_advertise_hosts = *
tls_certificate = $PKI/ee-chain.crt
tls_privatekey = $PKI/ee.key
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  defer   domains = insecure.example
          message = 451 4.3.2 receiver says try later
  accept
begin routers
sink:
  driver = redirect
  data = :blackhole:
EOF
exim_bg -C "$RD/exim.conf" -bdf -oX "$RECV_PORT" > "$RD/out" 2>&1 &
RECV_PID=$!
E2E_PIDS+=("$RECV_PID")
XD=$E2E_T/x-main
exim_bg -C "$XD/exim.conf" -bdf -oX "$EXIM_PORT" > "$XD/out" 2>&1 &
E2E_PIDS+=("$!")
if e2e_wait 10000 e2e_sock_connects "inet:$RECV_PORT@127.0.0.1" &&
	e2e_wait 10000 e2e_sock_connects "inet:$EXIM_PORT@127.0.0.1"; then
	ok "Exim daemons on 127.0.0.1:$EXIM_PORT (danepol ACL) and :$RECV_PORT (TLS receiver)"
else
	not_ok "Exim daemons started" "$(cat "$XD/out" "$RD/out" | head -5)"
	finish
fi

e2e_swaks "$EXIM_PORT" --from '<>' --to n@notlsa.example,s@secure.example,d@bogus.example,z@blackhole.example,i@insecure.example,u@unsignedmx.example \
	> "$E2E_T/daemon.sw"
python3 "$UTIL" replies swaks "$E2E_T/daemon.sw" > "$E2E_T/daemon.r"
dreply() { awk -F'\t' -v r="$1" '$1 == r { print $2; exit }' "$E2E_T/daemon.r"; }
check_eq "daemon: RCPT <n@notlsa.example> -> 250" "$(dreply n@notlsa.example)" "250 Accepted"
check_eq "daemon: RCPT <s@secure.example> -> 250" "$(dreply s@secure.example)" "250 Accepted"
check_eq "daemon: RCPT <i@insecure.example> -> 250" "$(dreply i@insecure.example)" "250 Accepted"
check_eq "daemon: RCPT <u@unsignedmx.example> (require, MX insecure) -> 250" "$(dreply u@unsignedmx.example)" "250 Accepted"
# unbound's own reason after "validation failure" varies with its key
# cache ("... is marked as invalid because of a previous validation
# failure ..." once the key was found bad): compared up to it
upto_unbound() { printf '%s' "${1%%validation failure*}"; }
check_eq "daemon: RCPT <d@bogus.example> -> the same 450 4.7.5 reply as -bh (up to unbound's reason)" \
	"$(upto_unbound "$(dreply d@bogus.example)")" "$(upto_unbound "$(bh_reply main d@bogus.example)")"
check_prefix "daemon: RCPT <d@bogus.example> -> 450 4.7.5 with the validation failure" \
	"$(dreply d@bogus.example)" "450 4.7.5 DNSSEC validation of the MX records failed (bogus.example: MX lookup for bogus.example: validation failure <bogus.example. MX IN>: "
check_prefix "daemon: RCPT <z@blackhole.example> -> 451 4.4.3" "$(dreply z@blackhole.example)" "451 4.4.3 "
MSGID=$(sed -n -E 's/^ *<- +250 OK id=([A-Za-z0-9-]+).*/\1/p' "$E2E_T/daemon.sw" | head -1)
if [ -n "$MSGID" ]; then ok "daemon: message queued as $MSGID"; else not_ok "daemon: message queued" "$(tail -5 "$E2E_T/daemon.sw")"; fi
if e2e_file_has "temporarily rejected RCPT <d@bogus.example>: 450 4.7.5 DNSSEC validation" "$XD/log/mainlog"; then
	ok "daemon: mainlog shows the deferral with danepold's text"
else
	not_ok "daemon: mainlog shows the deferral with danepold's text" "$(tail -3 "$XD/log/mainlog")"
fi

# Socket permissions: Exim runs its ACLs as Debian-exim (-bh started by
# root too), so a socket only its owner may open is SOCKFAIL, while root
# (danepold's owner side) is answered.
direct=$(python3 "$UTIL" query "$E2E_T/d-perm/exim.sock" "rcpt p@secure.example" 2>&1)
check_eq "the 0600 socket answers root directly" "$(python3 "$UTIL" field verdict "$direct")" "require"
bh perm "$E2E_T/x-perm/exim.conf" p@secure.example
check_eq "-bh: RCPT <p@secure.example> on a socket Debian-exim may not open (0600) -> 451 4.3.0 (SOCKFAIL)" \
	"$(bh_reply perm p@secure.example)" "451 4.3.0 DANE policy service unavailable"
PD=$E2E_T/x-perm
exim_bg -C "$PD/exim.conf" -bdf -oX "$PERM_PORT" > "$PD/out" 2>&1 &
E2E_PIDS+=("$!")
if e2e_wait 10000 e2e_sock_connects "inet:$PERM_PORT@127.0.0.1"; then
	e2e_swaks "$PERM_PORT" --from '<>' --to p@secure.example --quit-after RCPT > "$E2E_T/perm.sw"
	python3 "$UTIL" replies swaks "$E2E_T/perm.sw" > "$E2E_T/perm.r"
	check_eq "daemon (Debian-exim) on a socket it may not open (0600) -> 451 4.3.0 (SOCKFAIL)" \
		"$(awk -F'\t' '$1 == "p@secure.example" { print $2 }' "$E2E_T/perm.r")" "451 4.3.0 DANE policy service unavailable"
else
	not_ok "Exim daemon for the permission check started" "$(head -5 "$PD/out")"
fi

# One queue run in the foreground: every delivery attempt is done when it returns.
exim -C "$XD/exim.conf" -qff > "$E2E_T/qrun.out" 2>&1
ML=$XD/log/mainlog
if grep -qE "^.* $MSGID => n@notlsa\.example .* X=TLS[^ ]* CV=yes" "$ML"; then
	ok "queue run: n@notlsa.example delivered over verified TLS (hosts_try_dane, no DANE here)"
else
	not_ok "queue run: n@notlsa.example delivered over TLS" "$(grep -F "$MSGID" "$ML" | tail -5)"
fi
if grep -qE "^.* $MSGID \*\* s@secure\.example .*DANE" "$ML"; then
	ok "queue run: s@secure.example (level=dane-only -> hosts_require_dane) refused by Exim's DANE"
else
	not_ok "queue run: s@secure.example refused by Exim's DANE" "$(grep -F "$MSGID" "$ML" | tail -5)"
fi
for q in "secure.example dane-only" "unsignedmx.example dane"; do
	r=$(python3 "$UTIL" query "$SOCK_MAIN" "domain ${q% *}" 2>&1)
	check_eq "domain ${q% *}: verdict=require level=${q#* }" \
		"$(python3 "$UTIL" field verdict "$r") $(python3 "$UTIL" field level "$r")" "require ${q#* }"
done
# unsignedmx.example: require, but its MX RRset is unsigned: level=dane
# (doc/engine.md, "Front doors"), so no hosts_require_dane, which would
# fail it ("DANE error: ... lookup not DNSSEC"); Exim's hosts_try_dane
# delivers it as Exim's own DANE would.
if grep -qE "^.* $MSGID => u@unsignedmx\.example .* X=TLS" "$ML"; then
	ok "queue run: u@unsignedmx.example (require, MX insecure: level=dane) delivered over TLS"
else
	not_ok "queue run: u@unsignedmx.example delivered over TLS" "$(grep -F "$MSGID" "$ML" | grep -F unsignedmx | tail -5)"
fi
if grep -qE "^.* $MSGID == i@insecure\.example .*451 4\.3\.2" "$ML"; then
	ok "queue run: i@insecure.example deferred by the receiver (451 4.3.2)"
else
	not_ok "queue run: i@insecure.example deferred by the receiver" "$(grep -F "$MSGID" "$ML" | tail -5)"
fi

if [ -s "$XD/log/paniclog" ]; then
	not_ok "no Exim panic log" "$(head -3 "$XD/log/paniclog")"
else
	ok "no Exim panic log (null sender: nothing to bounce)"
fi

python3 "$UTIL" events "$AUDIT_MAIN" \
	"tls:cert:notlsa.example,data=0" "tls:cert:notlsa.example,data=1" \
	"msg:delivery:notlsa.example,id=$MSGID,cipher~,ip=127.0.0.1,port=$RECV_PORT" \
	"dane:fail:secure.example,data=dane-required" \
	"msg:fail:delivery:secure.example,id=$MSGID,data~" \
	"msg:rcpt:host:defer:insecure.example,id=$MSGID,data~" \
	"msg:rcpt:defer:insecure.example,id=$MSGID,data~" > "$E2E_T/events.r"
py_results "$E2E_T/events.r"
# The receiver stops: the next queue run cannot connect, the deferred
# recipient stays deferred (msg:host:defer per host, then msg:defer).
kill "$RECV_PID" 2> /dev/null
wait "$RECV_PID" 2> /dev/null
exim -C "$XD/exim.conf" -qff > "$E2E_T/qrun2.out" 2>&1
if grep -qE "^.* $MSGID == i@insecure\.example .*Connection refused" "$ML"; then
	ok "second queue run, receiver stopped: i@insecure.example deferred (connection refused)"
else
	not_ok "second queue run: i@insecure.example deferred (connection refused)" "$(grep -F "$MSGID" "$ML" | tail -5)"
fi
python3 "$UTIL" events "$AUDIT_MAIN" \
	"msg:host:defer:insecure.example,id=$MSGID,data=Connection refused" \
	"msg:defer:insecure.example,id=$MSGID,data=Connection refused" > "$E2E_T/events2.r"
py_results "$E2E_T/events2.r"

python3 "$UTIL" queries "$AUDIT_MAIN" "rcpt d@bogus.example:mx-dnssec-bogus" \
	"rcpt z@blackhole.example:dns-timeout" "rcpt a@secure.example:dane" \
	"domain secure.example:dane" "domain notlsa.example:no-tlsa" > "$E2E_T/queries.r"
py_results "$E2E_T/queries.r"

# ---------------------------------------------------------------- audit schema
python3 "$VALIDATE" schema "$TOP_SRCDIR/doc" "$AUDIT_MAIN" "$E2E_T/d-stop/audit.log" \
	"$E2E_T/d-perm/audit.log" > "$E2E_T/schema.r" 2>&1
py_results "$E2E_T/schema.r"

finish
