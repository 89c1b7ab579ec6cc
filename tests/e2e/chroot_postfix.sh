#!/usr/bin/env bash
# tests/e2e/chroot_postfix.sh - doc/postfix.md's set-up, literally, behind a
# Postfix with Debian's stock, chrooted master.cf (issue 11: with the
# socket in /run/danepol every session got "451 4.7.1 Service unavailable"
# and every delivery "4.7.5 client TLS configuration problem").
#
# Environment (make check): WORLD_DIR, FAULTDNS, DANEPOLD, TOP_SRCDIR,
# SYSTEMD_UNIT_DIR (the build's generated systemd/danepol.tmpfiles);
# POSTFIX_DOC (default $TOP_SRCDIR/doc/postfix.md) takes the snippets from
# another copy of the guide (to show an old one failing).
#
# Runs in a private network and mount namespace (tests/e2e/lib_delivery.sh:
# 127.0.0.1..9, our own port 25 and 53, /etc/resolv.conf -> the
# namespace's validating unbound serving the offline world).
#
# The Postfix under test ("chroot", on 127.0.0.8:25):
#   master.cf  /usr/share/postfix/master.cf.dist, byte for byte (smtpd,
#              smtp, cleanup, ... chrooted: column 5 = y); the listener is
#              chosen by inet_interfaces, so not even that line changes;
#   main.cf    /usr/share/postfix/main.cf.debian and main.cf.tls (what
#              postfix.postinst writes when ssl-cert made its snakeoil
#              key, as on any installed system: smtp_tls_CApath =
#              /etc/ssl/certs, a TLS session cache), then INSTANCE lines (what
#              a private instance in a temporary directory needs: its
#              directories, names, addresses, log file; listed below),
#              then the doc's `<!-- snippet: main.cf ... -->` blocks set
#              with postconf -e, as the doc says (they name sockets
#              relative to queue_directory: SUBST finds nothing to change
#              in them);
#   chroot     filled by Debian's own /usr/lib/postfix/configure-instance.sh
#              (etc/resolv.conf, services, hosts, nsswitch.conf, libraries
#              ...), as the postfix service does before each start.
# danepold: the doc's `<!-- snippet: danepol.conf ... -->` blocks with the
# three directories moved into the test directory (SUBST below, the only
# substitutions), plus the test's user (nobody: this machine has no user
# danepol), trust anchor and resolver. Its socket directory comes from
# systemd/danepol.tmpfiles's line, moved the same way.
# The receiving side is tests/e2e/lib.sh's instance on 127.0.0.1:25 with
# the world's certificate (matches the TLSA records), relaying to smtp-sink.
#
# MTA-STS (doc: "MTA-STS (sts = yes)"): the policy hosts on 127.0.0.1:443
# and the world's CA in the system bundle (tests/e2e/lib_sts.sh); a
# message to stsok.example (enforced policy: "OK secure match=...") is
# deferred 4.7.5 by the chrooted smtp(8) without the doc's
# smtp_tls_CAfile line (Debian's smtp_tls_CApath only) and sent over
# Verified TLS with it.
# Asserted: smtpd and smtp really run chrooted (/proc/PID/root); a message
# to secure.example gets 250 at RCPT and reaches the sink over Verified
# TLS (the chrooted smtp(8) got "OK dane-only" from the socketmap: without
# an answer it defers 4.7.5); bogus.example gets 450 4.7.5 at RCPT; a
# message to tlsabogus.example submitted with sendmail(1) (no milter) is
# deferred by the socketmap's TEMP, danepold's own text in the log, not
# "client TLS configuration problem" for an unreachable socket. Then the
# same main.cf lines with chroot turned off (postconf -F, the one change
# to master.cf): the relative socket paths still work.
# Ends with "N passed, M failed"; exit 0/1, 77 skip.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$HERE/../.." && pwd)}
DANEPOLD=${DANEPOLD:-./danepold}
case $DANEPOLD in /*) ;; *) DANEPOLD=$PWD/$DANEPOLD ;; esac
case ${WORLD_DIR:-} in "" | /*) ;; *) WORLD_DIR=$PWD/$WORLD_DIR ;; esac
case ${FAULTDNS:-} in "" | /*) ;; *) FAULTDNS=$PWD/$FAULTDNS ;; esac
POSTFIX_DOC=${POSTFIX_DOC:-$TOP_SRCDIR/doc/postfix.md}
case $POSTFIX_DOC in /*) ;; *) POSTFIX_DOC=$PWD/$POSTFIX_DOC ;; esac
SYSTEMD_UNIT_DIR=${SYSTEMD_UNIT_DIR:-./systemd}
case $SYSTEMD_UNIT_DIR in /*) ;; *) SYSTEMD_UNIT_DIR=$PWD/$SYSTEMD_UNIT_DIR ;; esac
export DANEPOLD WORLD_DIR FAULTDNS TOP_SRCDIR POSTFIX_DOC
# shellcheck source=tests/e2e/lib_delivery.sh
. "$TOP_SRCDIR/tests/e2e/lib_delivery.sh"

PATH=$PATH:/usr/sbin:/sbin
dl_netns_reexec "$0" "$@" || exit $?

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

# ---------------------------------------------------------------- prerequisites
if why=$(e2e_skip_reason); then echo "SKIP: $why"; exit 77; fi
for c in swaks unbound unbound-checkconf drill ip mount sendmail; do
	command -v "$c" > /dev/null || { echo "SKIP: $c not installed (tools/setup.sh deps)"; exit 77; }
done
for f in /usr/share/postfix/main.cf.debian /usr/share/postfix/main.cf.tls /usr/lib/postfix/configure-instance.sh; do
	[ -f "$f" ] || { echo "SKIP: $f missing (not Debian's postfix package)"; exit 77; }
done
if [ -z "${WORLD_DIR:-}" ] || [ ! -d "$WORLD_DIR" ]; then
	echo "SKIP: WORLD_DIR unset or missing (run through make check)"
	exit 77
fi

# snippet TARGET: the doc's `<!-- snippet: TARGET NAME -->` blocks, in order.
# shellcheck source=tests/lib/doc_snippet.sh
. "$TOP_SRCDIR/tests/lib/doc_snippet.sh"
snippet() { doc_snippet "$POSTFIX_DOC" "$1"; }

# ---------------------------------------------------------------- set-up
dl_init chroot || { not_ok "temporary directory"; finish; }
[ -x "$DANEPOLD" ] || { not_ok "DANEPOLD is executable ($DANEPOLD)"; finish; }
step "namespace: lo up, 127.0.0.2-9" dl_net_up
step "namespace: /etc/resolv.conf -> 127.0.0.1, trust-ad" dl_resolv
step "offline world and fault responder" e2e_world
step "unbound on 127.0.0.1:53 validates the world" dl_unbound_start
# Receiving side: 127.0.0.1:25 (the world's MX address), the EE chain.
dl_receiver_up
# MTA-STS (the doc's sts = yes): the policy hosts on 127.0.0.1:443 and the
# world's CA in the system bundle, which the doc's smtp_tls_CAfile names.
# shellcheck source=tests/e2e/lib_sts.sh
. "$TOP_SRCDIR/tests/e2e/lib_sts.sh"
sts_hosts_up

# The doc's snippets.
snippet danepol.conf > "$E2E_T/doc-danepol.conf"
snippet main.cf > "$E2E_T/doc-main.cf"
check_match "doc: danepol.conf snippets name a unix milter socket" \
	"$(grep '^milter_socket' "$E2E_T/doc-danepol.conf")" '^milter_socket = unix:/'
check_match "doc: main.cf snippets set smtpd_milters and smtp_tls_policy_maps" \
	"$(grep -cE '^(smtpd_milters|smtp_tls_policy_maps) = ' "$E2E_T/doc-main.cf")" '^2$'

# The Postfix under test.
PF=$E2E_T/pf-chroot
QUEUE=$PF/spool
mkdir -p "$PF/etc" "$QUEUE" "$PF/data"
chown postfix "$PF/data"
: > "$PF/maillog"
cp /usr/share/postfix/master.cf.dist "$PF/etc/master.cf"
# The only substitutions, in the doc's danepol.conf and main.cf snippets
# and danepol.tmpfiles's line: the three directories, into the test's.
D=$E2E_T/d-chroot
mkdir -p "$D"
chown "${E2E_USER:-nobody}" "$D"
SUBST="s|/var/spool/postfix/|$QUEUE/|g; s|/run/danepol/|$D/|g; s|/var/log/danepol/|$D/|g"
INSTANCE=(
	"queue_directory = $QUEUE"
	"data_directory = $PF/data"
	"meta_directory = /etc/postfix"
	"myhostname = chroot.sender.test"
	"mydomain = sender.test"
	"myorigin = \$myhostname"
	"inet_interfaces = 127.0.0.8"
	"inet_protocols = ipv4"
	"smtp_bind_address = 127.0.0.8"
	"mydestination ="
	"mynetworks = 127.0.0.0/8"
	"smtpd_relay_restrictions = permit_mynetworks, reject"
	"alias_maps ="
	"alias_database ="
	"smtp_tls_loglevel = 1"
	"maillog_file_prefixes = /var, /dev/stdout, $E2E_T"
	"maillog_file = $PF/maillog"
)
{
	cat /usr/share/postfix/main.cf.debian /usr/share/postfix/main.cf.tls
	echo "# --- instance lines (tests/e2e/chroot_postfix.sh)"
	printf '%s\n' "${INSTANCE[@]}"
} > "$PF/etc/main.cf"
# the doc's main.cf lines, set as it says (postconf -e; SUBST: nothing to
# change in relative paths)
sed "$SUBST" "$E2E_T/doc-main.cf" > "$E2E_T/doc-main.cf.subst"
step "the doc's main.cf lines set with postconf -e" doc_snippet_postconf "$E2E_T/doc-main.cf.subst" "$PF/etc"
check_eq "main.cf names no parameter twice (no 'overriding earlier entry')" \
	"$(postconf -c "$PF/etc" -n 2>&1 | grep -c 'overriding earlier entry')" 0
check_eq "master.cf is /usr/share/postfix/master.cf.dist, unmodified" \
	"$(cmp -s /usr/share/postfix/master.cf.dist "$PF/etc/master.cf" && echo same)" same
check_eq "master.cf: smtpd (smtp/inet), smtp (smtp/unix) and cleanup run chrooted" \
	"$(postconf -c "$PF/etc" -F smtp/inet/chroot smtp/unix/chroot cleanup/unix/chroot | sed 's/.* = //' | tr '\n' ' ')" "y y y "
# What Debian's postfix service does before each start: fill the chroot.
step "Debian's configure-instance.sh fills the chroot" \
	env MAIL_CONFIG="$PF/etc" /usr/lib/postfix/configure-instance.sh -
check_eq "the chroot has etc/resolv.conf (nameserver 127.0.0.1) and etc/services" \
	"$(grep -c '^nameserver 127.0.0.1' "$QUEUE/etc/resolv.conf" 2> /dev/null)$([ -s "$QUEUE/etc/services" ] && echo +)" "1+"

# danepold with the doc's danepol.conf; the socket directory from
# systemd/danepol.tmpfiles, as this build generated it (SYSTEMD_UNIT_DIR;
# SUBST, and user nobody for danepol).
grep -E '^d[[:space:]]+/var/spool/postfix/danepol[[:space:]]' "$SYSTEMD_UNIT_DIR/danepol.tmpfiles" |
	sed "$SUBST; s|[[:space:]]danepol[[:space:]]| ${E2E_USER:-nobody} |" \
	> "$E2E_T/tmpfiles.conf"
if [ ! -s "$E2E_T/tmpfiles.conf" ]; then
	not_ok "systemd/danepol.tmpfiles has a line for /var/spool/postfix/danepol"
elif command -v systemd-tmpfiles > /dev/null; then
	step "systemd-tmpfiles --create: the socket directory in the queue directory" \
		systemd-tmpfiles --create "$E2E_T/tmpfiles.conf"
else
	read -r _ dpath dmode duser dgroup _ < "$E2E_T/tmpfiles.conf"
	step "install -d: the socket directory (danepol.tmpfiles's line)" \
		install -d -o "$duser" -g "$dgroup" -m "$dmode" "$dpath"
fi
[ -d "$QUEUE/danepol" ] && check_eq "socket directory: mode 750, group postfix" \
	"$(stat -c '%a %G' "$QUEUE/danepol")" "750 postfix"
{
	echo "# doc/postfix.md snippets, directories moved (tests/e2e/chroot_postfix.sh)"
	sed "$SUBST" "$E2E_T/doc-danepol.conf"
	echo "# --- test lines"
	echo "user = ${E2E_USER:-nobody}"
	echo "trust_anchor = $E2E_TRUST_ANCHOR"
	echo "resolver_config = $E2E_RESOLVER_CONF"
} > "$D/danepol.conf"
MSOCK=$(sed -n 's/^milter_socket = //p' "$D/danepol.conf")
SSOCK=$(sed -n 's/^socketmap_socket = //p' "$D/danepol.conf")
if out=$("$DANEPOLD" -n -c "$D/danepol.conf" 2>&1); then ok "danepold -n accepts the doc's danepol.conf"
else not_ok "danepold -n accepts the doc's danepol.conf" "$out"; fi
E2E_DSOCK[chroot]=$MSOCK
e2e_danepold_start chroot
step "danepold ready on $MSOCK" e2e_danepold_ready chroot
[ -n "$SSOCK" ] && step "danepold's socketmap on $SSOCK accepts connections" \
	e2e_wait 5000 e2e_sock_connects "$SSOCK"
check_eq "milter socket: mode 660, group postfix" "$(stat -c '%a %G' "${MSOCK#unix:}" 2> /dev/null)" "660 postfix"
AUDIT=$(sed -n 's/^audit_log = //p' "$D/danepol.conf")

LOG=$PF/maillog
# shellcheck disable=SC2317  # called through step
pf_start() {
	local out
	out=$(postfix -c "$PF/etc" start 2>&1) || { echo "$out"; tail -5 "$LOG"; return 1; }
	DL_PF+=("$PF")
	e2e_wait 10000 test -s "$QUEUE/pid/master.pid" || { echo "no master.pid"; return 1; }
}
step "Postfix with the stock master.cf starts (postfix -c DIR start)" pf_start

# root_of NAME: the root directory of each running NAME process (smtpd,
# smtp), one per line: the chroot's path for a chrooted one, "/" else
# (the receiving instance's, unchrooted, show "/" too).
root_of() {
	local p
	for p in $(pgrep -x "$1"); do readlink "/proc/$p/root"; done
}

# ---------------------------------------------------------------- phase 1: chrooted
# session NAME RCPT...: one swaks session to 127.0.0.8:25; transcript in
# $E2E_T/swaks-NAME, replies in $E2E_T/replies-NAME.
session() {
	local name=$1 to
	shift
	to=$(IFS=,; echo "$*")
	swaks --server 127.0.0.8:25 --helo client.sender.test --timeout 30 --from "$name@sender.test" \
		--to "$to" --h-Subject "danepol chroot test ($name)" --body "via $name" > "$E2E_T/swaks-$name" 2>&1
	e2e_swaks_replies "$E2E_T/swaks-$name" > "$E2E_T/replies-$name"
}
reply() { awk -F '\t' -v r="$2" '$1 == r { print $2 }' "$E2E_T/replies-$1"; }

session c1 c1@secure.example c1@bogus.example
check_match "chrooted smtpd: RCPT to secure.example is accepted (250)" "$(reply c1 c1@secure.example)" '^250 '
check_match "chrooted smtpd: RCPT to bogus.example gets 450 4.7.5 from danepold" "$(reply c1 c1@bogus.example)" '^450 4\.7\.5 '
check_match "smtpd ran chrooted in the queue directory" "$(root_of smtpd | grep -cxF "$QUEUE")" '^[1-9]'
[ -n "$AUDIT" ] && check_match "audit log: the rcpt decision for bogus.example" \
	"$(grep -c '"event":"rcpt".*bogus.example' "$AUDIT" 2> /dev/null)" '^[1-9]'

# The accepted copy goes out through the chrooted smtp(8), which asks the
# socketmap: secure.example -> "OK dane-only" -> Verified TLS.
o=$(dl_outcome "$LOG" c1@secure.example)
check_match "chrooted smtp: secure.example delivered (status dsn relay: $o)" "$o" '^sent 2\.0\.0 mx[0-9]\.secure\.example'
check_eq "chrooted smtp: over Verified TLS (the socketmap's dane-only applied)" "$(dl_tls "$LOG" "${o##* }")" Verified
check_match "smtp ran chrooted in the queue directory" "$(root_of smtp | grep -cxF "$QUEUE")" '^[1-9]'
[ -n "$AUDIT" ] && check_match "audit log: the socketmap answered secure.example with OK dane-only" \
	"$(grep -c '"event":"socketmap".*"key":"secure.example","reply":"OK dane-only"' "$AUDIT" 2> /dev/null)" '^[1-9]'
e2e_wait 20000 eval 'e2e_sink_recipients | grep -qxF c1@secure.example'
check_eq "the sink received c1@secure.example" "$(e2e_sink_recipients | grep -xF c1@secure.example)" c1@secure.example

# A destination danepold defers: the socketmap's TEMP. Submitted with
# sendmail(1) (pickup: no milter), so that the RCPT check does not stop it.
printf 'Subject: danepol chroot test (tlsabogus)\n\nvia sendmail\n' |
	sendmail -C "$PF/etc" -f c2@sender.test c2@tlsabogus.example
o=$(dl_outcome "$LOG" c2@tlsabogus.example)
check_match "chrooted smtp: tlsabogus.example deferred 4.7.5 ($o)" "$o" '^deferred 4\.7\.5 '
check_match "... by danepold's TEMP answer (socketmap server temporary error: TLSA ...)" \
	"$(grep -F 'socketmap server temporary error' "$LOG" | grep -cF 'tlspolicy')" '^[1-9]'
[ -n "$AUDIT" ] && check_match "audit log: the socketmap answered tlsabogus.example with TEMP" \
	"$(grep -c '"event":"socketmap".*"key":"tlsabogus.example","reply":"TEMP ' "$AUDIT" 2> /dev/null)" '^[1-9]'
check_eq "... and never 'cannot connect' to the socketmap" \
	"$(grep -cE 'socketmap.*(No such file|Permission denied|connect)' "$LOG")" 0

# MTA-STS (doc: "MTA-STS (sts = yes)"): stsok.example's enforced policy
# -> "OK secure match=...". Without the doc's smtp_tls_CAfile line (only
# Debian's smtp_tls_CApath) the chrooted smtp(8) cannot verify it; with
# it, Verified. Submitted with sendmail(1), one message each.
postconf -c "$PF/etc" -X smtp_tls_CAfile
postfix -c "$PF/etc" reload > /dev/null 2>&1
check_eq "main.cf without smtp_tls_CAfile, Debian's smtp_tls_CApath kept" \
	"$(postconf -c "$PF/etc" -h smtp_tls_CAfile smtp_tls_CApath | tr '\n' ' ')" " /etc/ssl/certs "
printf 'Subject: danepol chroot test (sts, no CAfile)\n\nvia sendmail\n' |
	sendmail -C "$PF/etc" -f c3@sender.test c3@stsok.example
o=$(dl_outcome "$LOG" c3@stsok.example)
check_match "chrooted smtp, CApath only: stsok.example deferred 4.7.5 ($o)" "$o" '^deferred 4\.7\.5 '
check_match "... the certificate not trusted ($(dl_reason "$LOG" c3@stsok.example))" \
	"$(dl_reason "$LOG" c3@stsok.example)" 'not (trusted|verified)'
[ -n "$AUDIT" ] && check_match "audit log: the socketmap answered stsok.example with OK secure" \
	"$(grep -c '"event":"socketmap".*"key":"stsok.example","reply":"OK secure match=' "$AUDIT" 2> /dev/null)" '^[1-9]'
snippet main.cf | grep '^smtp_tls_CAfile' | postconf -c "$PF/etc" -e "$(cat)"
postfix -c "$PF/etc" reload > /dev/null 2>&1
printf 'Subject: danepol chroot test (sts)\n\nvia sendmail\n' |
	sendmail -C "$PF/etc" -f c4@sender.test c4@stsok.example
o=$(dl_outcome "$LOG" c4@stsok.example)
check_match "chrooted smtp with the doc's smtp_tls_CAfile: stsok.example sent ($o)" "$o" '^sent 2\.0\.0 mx1\.stsok\.example'
check_eq "... over Verified TLS" \
	"$(grep -F "TLS connection established to ${o##* }:" "$LOG" | tail -1 | sed -E 's/.*: ([A-Za-z]+) TLS connection.*/\1/')" Verified

# ---------------------------------------------------------------- phase 2: no chroot
# The same main.cf lines must work unchrooted (relative to queue_directory).
postconf -c "$PF/etc" -F smtp/inet/chroot=n smtp/unix/chroot=n cleanup/unix/chroot=n
postfix -c "$PF/etc" reload > /dev/null 2>&1
# Old smtpd processes finish their (idle) sessions; a new connection
# reaches a process started after the reload only once they are gone:
# wait (bounded) until no smtpd of ours has the queue directory as root.
# shellcheck disable=SC2016  # expanded by eval, at each poll
e2e_wait 20000 eval '[ -z "$(root_of smtpd | grep -xF "$QUEUE")" ] && [ -z "$(root_of smtp | grep -xF "$QUEUE")" ]'
session n1 n1@secure.example n1@bogus.example
check_match "unchrooted smtpd: RCPT to secure.example is accepted (250)" "$(reply n1 n1@secure.example)" '^250 '
check_match "unchrooted smtpd: RCPT to bogus.example gets 450 4.7.5" "$(reply n1 n1@bogus.example)" '^450 4\.7\.5 '
check_eq "smtpd ran unchrooted" "$(root_of smtpd | grep -cxF "$QUEUE")" 0
o=$(dl_outcome "$LOG" n1@secure.example)
check_match "unchrooted smtp: secure.example delivered over the socketmap's policy ($o)" "$o" '^sent 2\.0\.0 '

check_eq "no session was refused by the milter (451 4.7.1)" "$(grep -c '451 4.7.1' "$E2E_T"/swaks-* | awk -F: '{ s += $2 } END { print s + 0 }')" 0
finish
