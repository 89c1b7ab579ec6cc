#!/usr/bin/env bash
# tests/systemd/acceptance_inside.sh - the inside half of
# tests/systemd/acceptance.sh: runs as a oneshot unit in the booted
# container (systemd PID 1, private network, an overlay of the host's
# root), TAP lines on stdout, "N passed, M failed" last.
#
# Environment (from the unit): TOP_SRCDIR (the tree: doc/postfix.md and
# the test helpers), WORLD_DIR and FAULTDNS (the offline world of the
# build), DEB (the package).
#
# What it does, as an operator would on a fresh Debian 12 server:
#   1. Debian's stock Postfix configuration: /etc/postfix/master.cf is
#      /usr/share/postfix/master.cf.dist (smtpd and smtp chrooted), main.cf
#      is /usr/share/postfix/main.cf.debian and main.cf.tls (as Debian's
#      postinst writes it) plus the site lines the
#      package's debconf questions would give (names, addresses, the log
#      file; SITE below);
#   2. dpkg -i the package: files in place, user danepol, socket directory,
#      daemon neither enabled nor started, Postfix's files untouched;
#   3. then only the lines doc/postfix.md tells the operator to add,
#      extracted from the document (tests/lib/doc_snippet.sh): its main.cf
#      snippets set with postconf -e (as it says), its danepol.conf snippets to the
#      packaged /etc/danepol/danepol.conf, plus the test's lines (the
#      offline world's trust anchor and resolver config, probe = yes so
#      the outcome store is written); systemctl restart postfix,
#      systemctl start danepold.
# The world: a validating unbound on 127.0.0.1:53 for Postfix's own
# lookups, the fault responder, a receiving Postfix on 127.0.0.1:25 (the
# world's MX address) with the world's certificate, relaying into
# smtp-sink (tests/e2e/lib_delivery.sh, tests/e2e/lib.sh).
# Asserted: RCPT to bogus.example 450 4.7.5; secure.example delivered over
# Verified TLS through the chrooted smtp(8) and the socketmap; the
# server's own domain (expired.example is in mydestination, its zone bogus)
# accepted and delivered locally; audit lines in /var/log/danepol and
# outcomes in /var/lib/danepol, written from inside the unit's sandbox;
# the journal's "danepold ready"; systemctl reload keeps the same process
# serving; logrotate's postrotate reopens the audit log; systemd-analyze
# security <= 2.0 on the running unit; README's selfcheck lines (the
# timer, the sandboxed service checking the own domain ownnext.example
# served by the stock smtpd, the textfile, the rollover history);
# systemctl stop leaves no socket.
# Then doc/exim.md on the same server, as an Exim-only host (its
# danepol.conf, the unit drop-in and sysusers line, extracted): the unit
# serves the Exim socket, Exim 4.96 -bh with the doc's RCPT ACL gets
# 450 4.7.5 for bogus.example and 250 for secure.example. Last, dpkg
# --purge removes what the package made except the logs.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
: "${TOP_SRCDIR:?}" "${WORLD_DIR:?}" "${FAULTDNS:?}" "${DEB:?}"
export WORLD_DIR FAULTDNS TOP_SRCDIR
POSTFIX_DOC=${POSTFIX_DOC:-$TOP_SRCDIR/doc/postfix.md}
# The unit's PrivateTmp= hides /tmp from danepold: the test's files
# (resolver config, world copy) live elsewhere.
export TMPDIR=/srv/danepol-acceptance
mkdir -p "$TMPDIR" && chmod 755 "$TMPDIR"
# We are in the container's own network namespace already (lo only).
export DL_NETNS=1

# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"
# shellcheck source=tests/lib/doc_snippet.sh
. "$TOP_SRCDIR/tests/lib/doc_snippet.sh"
# shellcheck source=tests/e2e/lib_delivery.sh
. "$TOP_SRCDIR/tests/e2e/lib_delivery.sh"

echo "inside: start $(date +%T)" >&2
dl_init accept || { not_ok "temporary directory"; finish; }
check_eq "systemd is PID 1" "$(cat /proc/1/comm)" systemd
step "network: lo up, 127.0.0.2-9, .21" dl_net_up 21
step "/etc/resolv.conf -> 127.0.0.1, trust-ad" dl_resolv

MAILLOG=/var/log/postfix-acceptance.log
PFHASH() { sha256sum /etc/postfix/main.cf /etc/postfix/master.cf | awk '{ print $1 }' | tr '\n' ' '; }

# ---------------------------------------------------------------- 1. stock Postfix
cp /usr/share/postfix/master.cf.dist /etc/postfix/master.cf
SITE=(
	"myhostname = mail.expired.example"
	"mydomain = expired.example"
	"myorigin = \$mydomain"
	"mydestination = \$myhostname, expired.example, localhost"
	"mynetworks = 127.0.0.0/8"
	"inet_interfaces = 127.0.0.8, 127.0.0.21"
	"inet_protocols = ipv4"
	"smtp_bind_address = 127.0.0.8"
	"smtp_tls_loglevel = 1"
	"maillog_file = $MAILLOG"
	# the operator's certificate (the world's EE, for the own domain
	# ownnext.example: mx1 A 127.0.0.21), key and chain in one root-only
	# file; smtpd serves it, not the snakeoil one
	"smtpd_tls_chain_files = /etc/postfix/tls/mx1.pem"
)
mkdir -p /etc/postfix/tls && chmod 700 /etc/postfix/tls
cat "$WORLD_DIR/pki/ee.key" "$WORLD_DIR/pki/ee-chain.crt" > /etc/postfix/tls/mx1.pem
chmod 600 /etc/postfix/tls/mx1.pem
{
	# what Debian's postinst writes into a new main.cf (main.cf.tls: the
	# snakeoil certificate, smtp_tls_CApath, smtp_tls_security_level=may)
	cat /usr/share/postfix/main.cf.debian /usr/share/postfix/main.cf.tls
	echo "# --- site (what debconf's Internet Site would set; tests/systemd/acceptance_inside.sh)"
	printf '%s\n' "${SITE[@]}"
} > /etc/postfix/main.cf
newaliases
useradd -M -s /usr/sbin/nologin alice 2> /dev/null
before=$(PFHASH)

# ---------------------------------------------------------------- 2. dpkg -i
if out=$(DEBIAN_FRONTEND=noninteractive dpkg -i "$DEB" 2>&1); then ok "dpkg -i $(basename "$DEB")"
else not_ok "dpkg -i $(basename "$DEB")" "$out"; finish; fi
check_eq "dpkg -i left main.cf and master.cf alone" "$(PFHASH)" "$before"
missing=
for f in /usr/sbin/danepold /usr/bin/danepol /lib/systemd/system/danepold.service \
	/lib/systemd/system/danepol-report.service /lib/systemd/system/danepol-report.timer \
	/lib/systemd/system/danepol-selfcheck.service /lib/systemd/system/danepol-selfcheck.timer \
	/usr/lib/sysusers.d/danepol.conf /usr/lib/tmpfiles.d/danepol.conf /etc/danepol/danepol.conf \
	/etc/logrotate.d/danepol /usr/share/man/man8/danepold.8.gz /usr/share/man/man1/danepol.1.gz \
	/usr/share/man/man5/danepol.conf.5.gz /usr/share/danepol/audit.schema.json \
	/usr/share/danepol/decision.schema.json /usr/share/danepol/probe.schema.json \
	/usr/share/danepol/tlsrpt.schema.json /usr/share/danepol/selfcheck.schema.json; do
	[ -e "$f" ] || missing+=" $f"
done
check_eq "the package installed binaries, units, sysusers/tmpfiles, conffile, logrotate, man pages, schemas" "${missing:-none}" none
check_match "/etc/danepol/danepol.conf is a conffile" "$(dpkg-query -W -f='${Conffiles}' danepol)" '/etc/danepol/danepol.conf [0-9a-f]'
keys=$(danepold -p -c /dev/null | sed -n 's/^\([a-z0-9_]*\) = .*/\1/p')
ck=$(sed -n 's/^#\([a-z0-9_]*\) = .*/\1/p' /etc/danepol/danepol.conf)
check_eq "the conffile lists every key (commented, with its default)" "$ck" "$keys"
check_eq "the conffile, as installed, configures the defaults" \
	"$(danepold -p -c /etc/danepol/danepol.conf 2>&1)" "$(danepold -p -c /dev/null 2>&1)"
check_match "user danepol exists, in group postfix" "$(id danepol 2>&1)" 'groups=.*\(postfix\)'
check_eq "socket directory /var/spool/postfix/danepol: danepol postfix 750" \
	"$(stat -c '%U %G %a' /var/spool/postfix/danepol 2>&1)" "danepol postfix 750"
check_eq "danepold is neither enabled nor started by the package" \
	"$(systemctl is-enabled danepold 2>&1) $(systemctl is-active danepold 2>&1)" "disabled inactive"

# ---------------------------------------------------------------- 3. the doc's lines
doc_snippet "$POSTFIX_DOC" main.cf > "$E2E_T/doc-main.cf"
doc_snippet "$POSTFIX_DOC" danepol.conf > "$E2E_T/doc-danepol.conf"
check_match "doc/postfix.md: main.cf snippets set smtpd_milters and smtp_tls_policy_maps" \
	"$(grep -cE '^(smtpd_milters|smtp_tls_policy_maps) = ' "$E2E_T/doc-main.cf")" '^2$'
step "doc/postfix.md's main.cf lines set with postconf -e, as it says" \
	doc_snippet_postconf "$E2E_T/doc-main.cf" /etc/postfix
check_eq "main.cf names no parameter twice (no 'overriding earlier entry')" \
	"$(postconf -n 2>&1 | grep -c 'overriding earlier entry')" 0

# The world (as the e2e tests have it), readable by user danepol.
export E2E_USER=danepol
step "offline world and fault responder" e2e_world
step "unbound on 127.0.0.1:53 validates the world" dl_unbound_start
dl_receiver_up

{
	echo
	echo "# --- doc/postfix.md snippets, as they are"
	cat "$E2E_T/doc-danepol.conf"
	echo "# --- the test's lines: the offline world, and the probe (outcome store)"
	echo "trust_anchor = $E2E_TRUST_ANCHOR"
	echo "resolver_config = $E2E_RESOLVER_CONF"
	echo "probe = yes"
} >> /etc/danepol/danepol.conf
if out=$(danepold -n 2>&1); then ok "danepold -n accepts /etc/danepol/danepol.conf"
else not_ok "danepold -n accepts /etc/danepol/danepol.conf" "$out"; fi

# shellcheck disable=SC2317  # called through step
pf_restart() {
	systemctl restart postfix || { systemctl status postfix@- --no-pager 2>&1 | tail -5 >&2; return 1; }
	e2e_wait 15000 test -s /var/spool/postfix/pid/master.pid || { echo "no master.pid"; return 1; }
}
# shellcheck disable=SC2317
dp_start() {
	systemctl start danepold 2> /dev/null || {
		echo "systemctl start danepold failed; journal:"
		journalctl -b -u danepold -o cat --no-pager 2>&1 | tail -8
		return 1
	} >&2
}
step "systemctl start danepold" dp_start
check_eq "danepold.service is active" "$(systemctl is-active danepold)" active
step "systemctl restart postfix (stock master.cf + doc lines)" pf_restart
MSOCK=/var/spool/postfix/danepol/milter.sock
SSOCK=/var/spool/postfix/danepol/socketmap.sock
e2e_wait 10000 e2e_sock_connects "unix:$MSOCK"
check_eq "milter socket: danepol postfix 660" "$(stat -c '%U %G %a' "$MSOCK" 2>&1)" "danepol postfix 660"
check_eq "socketmap socket: danepol postfix 660" "$(stat -c '%U %G %a' "$SSOCK" 2>&1)" "danepol postfix 660"
e2e_wait 10000 eval 'journalctl -b -u danepold -o cat --no-pager | grep -q "danepold ready"'
check_match "the journal shows the ready line" "$(journalctl -b -u danepold -o cat --no-pager | grep -c 'danepold ready')" '^[1-9]'
# the verification an operator is told to run (doc/postfix.md, "sh verify")
doc_snippet "$POSTFIX_DOC" "sh verify" > "$E2E_T/verify.sh"
check_match "doc/postfix.md has verification commands" "$(grep -c . "$E2E_T/verify.sh")" '^[1-9]'
check "doc/postfix.md's verification commands succeed on this server" bash -e "$E2E_T/verify.sh"

# ---------------------------------------------------------------- 4. mail
session() {
	local name=$1 to
	shift
	to=$(IFS=,; echo "$*")
	swaks --server 127.0.0.8:25 --helo client.sender.test --timeout 30 --from "$name@sender.test" \
		--to "$to" --h-Subject "danepol acceptance ($name)" --body "via $name" > "$E2E_T/swaks-$name" 2>&1
	e2e_swaks_replies "$E2E_T/swaks-$name" > "$E2E_T/replies-$name"
}
reply() { awk -F '\t' -v r="$2" '$1 == r { print $2 }' "$E2E_T/replies-$1"; }
session s1 s1@secure.example s1@bogus.example alice@expired.example
if [ -z "$(reply s1 s1@secure.example)" ]; then
	# No RCPT answered (e.g. 451 4.7.1 for every session: Postfix cannot
	# reach the milter): the rest would only wait for mail that never comes.
	not_ok "the SMTP session reached RCPT" "$(grep -E '^ *<[-*~]' "$E2E_T/swaks-s1" | tail -4)" \
		"$(grep -E 'milter|warning' "$MAILLOG" | tail -3)"
	finish
fi
check_match "RCPT to bogus.example (DANE-bogus destination): 450 4.7.5" "$(reply s1 s1@bogus.example)" '^450 4\.7\.5 '
check_match "RCPT to secure.example: 250" "$(reply s1 s1@secure.example)" '^250 '
check_match "RCPT to alice@expired.example (own domain, its zone bogus: expired signatures): 250" "$(reply s1 alice@expired.example)" '^250 '
o=$(dl_outcome "$MAILLOG" s1@secure.example)
check_match "secure.example delivered by the chrooted smtp ($o)" "$o" '^sent 2\.0\.0 mx[0-9]\.secure\.example'
check_eq "... over Verified TLS" "$(dl_tls "$MAILLOG" "${o##* }")" Verified
o=$(dl_outcome "$MAILLOG" alice@expired.example)
check_match "alice@expired.example delivered locally ($o)" "$o" '^sent 2\.0\.0 local'
AUDIT=/var/log/danepol/audit.log
check_match "audit: the socketmap answered secure.example OK dane-only" \
	"$(grep -c '"event":"socketmap".*"key":"secure.example","reply":"OK dane-only"' "$AUDIT" 2> /dev/null)" '^[1-9]'
check_match "audit: bogus.example deferred at RCPT" \
	"$(grep '"event":"rcpt"' "$AUDIT" 2> /dev/null | grep -c 's1@bogus.example.*tempfail')" '^[1-9]'
check_match "audit: alice@expired.example accepted (transport local)" \
	"$(grep '"event":"rcpt"' "$AUDIT" 2> /dev/null | grep 'alice@expired.example' | grep -c '"transport":"local"')" '^[1-9]'
check_eq "audit log owned by danepol (written from the sandbox)" "$(stat -c %U "$AUDIT" 2>&1)" danepol
py_results <(python3 "$TOP_SRCDIR/tests/e2e/validate_audit.py" schema /usr/share/danepol "$AUDIT" 2>&1) "audit schema: "
# shellcheck disable=SC2317
outcomes() { [ "$(sqlite3 /var/lib/danepol/outcomes.db 'SELECT count(*) FROM outcomes' 2> /dev/null || echo 0)" -gt 0 ]; }
e2e_wait 30000 outcomes
check_match "outcome store in /var/lib/danepol has the probe's outcomes" \
	"$(sqlite3 /var/lib/danepol/outcomes.db 'SELECT count(*) FROM outcomes' 2>&1)" '^[1-9]'

# ---------------------------------------------------------------- 5. reload, rotate
pid=$(systemctl show -p MainPID --value danepold)
if out=$(systemctl reload danepold 2>&1); then ok "systemctl reload danepold"; else not_ok "systemctl reload danepold" "$out"; fi
e2e_wait 10000 eval 'journalctl -b -u danepold -o cat --no-pager | grep -qi "reload"'
check_eq "after the reload: active, the same process" \
	"$(systemctl is-active danepold) $(systemctl show -p MainPID --value danepold)" "active $pid"
session s2 s2@bogus.example
check_match "after the reload: RCPT to bogus.example still 450 4.7.5" "$(reply s2 s2@bogus.example)" '^450 4\.7\.5 '
if out=$(logrotate -f /etc/logrotate.d/danepol 2>&1); then ok "logrotate -f /etc/logrotate.d/danepol"
else not_ok "logrotate -f /etc/logrotate.d/danepol" "$out"; fi
check "the rotated log is audit.log.1" test -s "$AUDIT.1"
session s3 s3@bogus.example
e2e_wait 5000 e2e_file_has s3@bogus.example "$AUDIT"
check_match "after logrotate (SIGUSR1): new lines in a fresh audit.log" "$(grep -c s3@bogus.example "$AUDIT" 2> /dev/null)" '^[1-9]'

# ---------------------------------------------------------------- 6. selfcheck timer
# README.md's lines ("Watch your own MX"), danepold running (the
# smtpd's milter), the offline world's own domain for README's
# example.org: the timer, the service in its sandbox reading the
# root-only certificate file postconf names (Debian's snakeoil lines
# stay, chain_files wins), the probe of the stock, chrooted smtpd on
# 127.0.0.21, the rollover history in /var/lib/danepol, the textfile in
# node_exporter's directory as Debian's package makes it (root:root 755).
README=$TOP_SRCDIR/README.md
{
	echo "# --- README.md's selfcheck lines"
	doc_snippet "$README" "danepol.conf selfcheck" | sed 's/\bexample\.org\b/ownnext.example/'
	doc_snippet "$README" "danepol.conf prometheus"
} >> /etc/danepol/danepol.conf
check_match "README: selfcheck_domains and selfcheck_prometheus_file snippets" \
	"$(grep -cE '^(selfcheck_domains = ownnext.example|selfcheck_prometheus_file = /)' /etc/danepol/danepol.conf)" '^2$'
mkdir -p /var/lib/prometheus/node-exporter && chmod 755 /var/lib/prometheus /var/lib/prometheus/node-exporter
doc_snippet "$README" "tmpfiles.d prometheus" > /etc/tmpfiles.d/danepol-prometheus.conf
if out=$(systemd-tmpfiles --create /etc/tmpfiles.d/danepol-prometheus.conf 2>&1); then
	ok "README's tmpfiles.d line applied (ACL on the textfile directory)"
else not_ok "README's tmpfiles.d line applied (ACL on the textfile directory)" "$out"; fi
doc_snippet "$README" "sh selfcheck" > "$E2E_T/selfcheck.sh"
if out=$(bash -e "$E2E_T/selfcheck.sh" 2>&1); then ok "README's selfcheck commands succeed (timer enabled, one run)"
else not_ok "README's selfcheck commands succeed (timer enabled, one run)" "$out" \
	"$(journalctl -b -u danepol-selfcheck -o cat --no-pager 2>&1 | tail -8)"; fi
check_eq "danepol-selfcheck.timer: enabled, active" \
	"$(systemctl is-enabled danepol-selfcheck.timer) $(systemctl is-active danepol-selfcheck.timer)" "enabled active"
check_eq "the run: exit 0 (OK)" "$(systemctl show -p Result,ExecMainStatus --value danepol-selfcheck.service | tr '\n' ' ')" "success 0 "
SCJ=$(journalctl -b -u danepol-selfcheck -o cat --no-pager 2>&1)
check_match "journal: the plugin state line" "$SCJ" 'DANE SELFCHECK OK - 1 domain: 0 critical'
check_match "journal: the stock smtpd on 127.0.0.21 DANE-authenticated" "$SCJ" \
	'OK ownnext.example dane-ok mx1.ownnext.example\[127.0.0.21\]:25: DANE authenticated'
check_match "journal: the root-only chain file postconf names matches (read in the sandbox)" "$SCJ" \
	'OK ownnext.example cert-file-ok /etc/postfix/tls/mx1.pem for mx1.ownnext.example'
check_eq "journal: the snakeoil cert_file (not served: chain_files wins) is not checked" \
	"$(grep -c snakeoil <<< "$SCJ")" 0
check_match "textfile for node_exporter written" \
	"$(cat /var/lib/prometheus/node-exporter/danepol.prom 2>&1)" 'danepol_selfcheck_state\{domain="ownnext.example"\} 0'
check_match "the rollover history in /var/lib/danepol (table seen)" \
	"$(sqlite3 /var/lib/danepol/outcomes.db "SELECT count(*) FROM seen WHERE owner LIKE '%ownnext.example.'" 2>&1)" '^[1-9]'
out=$(danepol rollover check --next-key "$PKI/next.key" 2>&1)
check_match "danepol rollover check reads the service's history: WAIT, seen since this run" "$out" \
	'^DANE ROLLOVER WAIT - ownnext.example: 0 ready, 1 waiting'
exposure=$(systemd-analyze security danepol-selfcheck.service 2>&1 | sed -n 's/.*Overall exposure level for danepol-selfcheck.service: \([0-9.]*\).*/\1/p')
check_match "systemd-analyze security danepol-selfcheck: ${exposure:-?} <= 2.0" \
	"$(awk -v e="${exposure:-99}" 'BEGIN { print (e <= 2.0) ? "yes" : "no" }')" '^yes$'
systemctl disable --now danepol-selfcheck.timer > /dev/null 2>&1

# ---------------------------------------------------------------- 7. sandbox, stop
exposure=$(systemd-analyze security danepold.service 2>&1 | sed -n 's/.*Overall exposure level for danepold.service: \([0-9.]*\).*/\1/p')
check_match "systemd-analyze security danepold (running unit): ${exposure:-?} <= 2.0" \
	"$(awk -v e="${exposure:-99}" 'BEGIN { print (e <= 2.0) ? "yes" : "no" }')" '^yes$'
if out=$(systemctl stop danepold 2>&1); then ok "systemctl stop danepold"; else not_ok "systemctl stop danepold" "$out"; fi
check_eq "after stop: no socket left in /var/spool/postfix/danepol" "$(ls -A /var/spool/postfix/danepol 2>&1)" ""
check_eq "after stop: no /run/danepol/danepold.pid" "$([ -e /run/danepol/danepold.pid ] && echo left)" ""

# ---------------------------------------------------------------- 8. Exim
# doc/exim.md on the same server, as an Exim-only host: its danepol.conf,
# the unit's drop-in and the sysusers line (all three extracted from the
# document), danepold restarted by systemd; the Exim binary of the e2e
# tests (tools/fetch-exim.sh: unpacked, not installed) runs the doc's RCPT
# ACL (tests/e2e/exim.conf.in holds it verbatim, checked first) in -bh.
EXIM_DOC=${EXIM_DOC:-$TOP_SRCDIR/doc/exim.md}
if [ -r /var/cache/danepol-tests/exim/env ] && getent passwd Debian-exim > /dev/null; then
	# shellcheck source=/dev/null
	. /var/cache/danepol-tests/exim/env
	py_results <(python3 "$TOP_SRCDIR/tests/e2e/exim_util.py" snippets "$EXIM_DOC" \
		"$TOP_SRCDIR/tests/e2e/exim.conf.in" 2>&1) "exim: "
	mkdir -p /etc/systemd/system/danepold.service.d /etc/sysusers.d
	doc_snippet "$EXIM_DOC" danepold.service.d > /etc/systemd/system/danepold.service.d/exim.conf
	doc_snippet "$EXIM_DOC" sysusers.d > /etc/sysusers.d/danepol-exim.conf
	{
		doc_snippet "$EXIM_DOC" danepol.conf
		echo "# --- the test's lines: the offline world"
		echo "trust_anchor = $E2E_TRUST_ANCHOR"
		echo "resolver_config = $E2E_RESOLVER_CONF"
	} > /etc/danepol/danepol.conf
	check_match "doc/exim.md: the drop-in sets Group=, the sysusers line adds danepol to Debian-exim" \
		"$(cat /etc/systemd/system/danepold.service.d/exim.conf /etc/sysusers.d/danepol-exim.conf | tr '\n' ' ')" \
		'Group=Debian-exim .*m danepol Debian-exim'
	systemd-sysusers > /dev/null 2>&1
	systemctl daemon-reload
	step "Exim-only: systemctl start danepold (doc/exim.md's danepol.conf and drop-in)" dp_start
	XSOCK=/run/danepol/exim.sock
	e2e_wait 10000 e2e_sock_connects "unix:$XSOCK"
	check_eq "Exim socket: danepol Debian-exim 660" "$(stat -c '%U %G %a' "$XSOCK" 2>&1)" "danepol Debian-exim 660"
	X=$E2E_T/exim
	mkdir -p "$X/spool" "$X/log" && chown -R Debian-exim: "$X" && chmod 755 "$X"
	sed -e "s|@DIR@|$X|g; s|@SOCKET@|$XSOCK|g; s|@PORT@|$(e2e_free_port)|g; s|@NEXTHOP_PORT@|$(e2e_free_port)|g; s|@CA@|$PKI/ca.crt|g" \
		"$TOP_SRCDIR/tests/e2e/exim.conf.in" > "$X/exim.conf"
	printf 'HELO client.exim.test\r\nMAIL FROM:<x1@client.exim.test>\r\nRCPT TO:<x1@bogus.example>\r\nRCPT TO:<x1@secure.example>\r\nQUIT\r\n' |
		LD_LIBRARY_PATH=$EXIM_LD_LIBRARY_PATH "$EXIM" -C "$X/exim.conf" -bh 127.0.0.1 > "$X/bh.out" 2> "$X/bh.err"
	python3 "$TOP_SRCDIR/tests/e2e/exim_util.py" replies bh "$X/bh.out" x1@bogus.example x1@secure.example > "$X/bh.tsv"
	check_match "Exim -bh: RCPT to bogus.example -> 450 4.7.5 (through the systemd unit's socket)" \
		"$(awk -F'\t' '$1 == "x1@bogus.example" { print $2 }' "$X/bh.tsv")" '^450 4\.7\.5 '
	check_match "Exim -bh: RCPT to secure.example -> 250" \
		"$(awk -F'\t' '$1 == "x1@secure.example" { print $2 }' "$X/bh.tsv")" '^250'
	check_match "audit: Exim's queries (exim-query lines)" \
		"$(grep -c '"event":"exim-query"' "$AUDIT" 2> /dev/null)" '^[1-9]'
	if out=$(systemctl stop danepold 2>&1); then ok "Exim-only: systemctl stop danepold"; else not_ok "Exim-only: systemctl stop danepold" "$out"; fi
	check_eq "after stop: no Exim socket left" "$([ -e "$XSOCK" ] && echo left)" ""
	rm -f /etc/systemd/system/danepold.service.d/exim.conf /etc/sysusers.d/danepol-exim.conf
	systemctl daemon-reload
else
	echo "# Exim part skipped: no unpacked Exim (tools/setup.sh deps fetches it) or no user Debian-exim"
fi

# ---------------------------------------------------------------- 9. purge
if out=$(dpkg --purge danepol 2>&1); then ok "dpkg --purge danepol"; else not_ok "dpkg --purge danepol" "$out"; fi
left=
for f in /usr/sbin/danepold /usr/bin/danepol /lib/systemd/system/danepold.service /etc/danepol \
	/etc/logrotate.d/danepol /var/lib/danepol /var/spool/postfix/danepol /run/danepol \
	/usr/lib/sysusers.d/danepol.conf /usr/lib/tmpfiles.d/danepol.conf /usr/share/danepol; do
	[ -e "$f" ] && left+=" $f"
done
check_eq "purge removed what the package created" "${left:-nothing left}" "nothing left"
check "purge kept the logs (/var/log/danepol/audit.log)" test -s "$AUDIT"
# doc_lines_hold: main.cf still has each of the doc's "name = value" lines
doc_lines_hold() {
	local n v
	while IFS='=' read -r n v; do
		n=${n%% } v=${v# }
		[ -z "$n" ] || [ "$(postconf -h "$n")" = "$v" ] || return 1
	done < <(grep -E '^[a-z]' "$E2E_T/doc-main.cf")
}
check_eq "Postfix's main.cf holds the doc's lines, master.cf is the stock one (dpkg touched neither)" \
	"$(doc_lines_hold && cmp -s /usr/share/postfix/master.cf.dist /etc/postfix/master.cf && echo same)" same
echo "inside: checks done $(date +%T)" >&2
finish
