#!/usr/bin/env bash
# tools/setup.sh - install what danepol needs on Debian 12, build it, and
# run the tests or the offline demo.
#
#   tools/setup.sh deps      install the Debian packages and fetch (not install)
#                            the Exim the tests use into EXIM_DIR (needs root)
#   tools/setup.sh build     deps + autotools build in ./build
#   tools/setup.sh test      build + `make check`, then again under ASan+UBSan
#                            and each fuzz target for FUZZ_SECONDS (the README's test command;
#                            SANITIZE=no skips the second run, VALGRIND=no the valgrind
#                            run of the e2e test, ACCEPTANCE=no the package's acceptance
#                            test in a container, FUZZ_SECONDS=0 the fuzzers)
#   tools/setup.sh demo      build + the offline demo world (the main job)
#
# Packages are installed only when missing, so re-runs are quick. Not root
# and something missing: the script says what to install and stops.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
BUILD_ASAN=${BUILD_ASAN:-$TOP/build-asan}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

PACKAGES=(
	# build
	build-essential autoconf automake libtool pkg-config
	# libraries
	libunbound-dev libevent-dev libssl-dev libjansson-dev libidn2-dev libmilter-dev
	# outcome store, report gzip, https report delivery
	libsqlite3-dev zlib1g-dev libcurl4-openssl-dev
	# the PostgreSQL outcome store (libpq); its tests run a private cluster
	# (tests/lib/pgcluster.sh: initdb, pg_ctl, postgres, psql)
	libpq-dev postgresql postgresql-client
	# danepold's metrics_socket (HTTP); the metrics test parses the scrape
	libmicrohttpd-dev python3-prometheus-client curl
	# DNSSEC trust anchor (the root key for production use)
	dns-root-data
	# tests: framework, zone signing, PKI, JSON schema validation
	libcriterion-dev ldnsutils openssl python3 python3-jsonschema sqlite3
	# end-to-end milter tests and the Postfix demo: a private Postfix
	# instance (includes smtp-sink), an SMTP client, the milter test driver
	postfix swaks miltertest
	# the probe test makes an OCSP staple whose nextUpdate has passed
	faketime
	# danepol tlsa's oracle test (tests/danepol/tlsa.sh): hash-slinger's tlsa --create
	hash-slinger
	# the MTA-STS oracle (tests/e2e/sts_oracle.sh): Debian's postfix-mta-sts-resolver
	postfix-mta-sts-resolver
	# memcheck run of the end-to-end milter test (tools/valgrind-e2e.sh)
	valgrind
	# delivery-time DANE test (tests/e2e/dane_delivery.sh): a validating resolver
	# daemon on port 53 and `ip` inside a private network namespace
	unbound iproute2
	# fuzzing (tools/fuzz.sh): clang, and libFuzzer + the sanitizer runtimes
	clang libclang-rt-14-dev
	# the Debian package (tools/build-deb.sh: dpkg-buildpackage, lintian) and
	# its acceptance test in a booted container (tests/systemd/acceptance.sh)
	debhelper devscripts dpkg-dev fakeroot lintian systemd-container logrotate
)

log() { printf 'setup: %s\n' "$*" >&2; }

deps() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "all ${#PACKAGES[@]} packages present"
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		log "missing packages (run as root to install): ${missing[*]}"
		exit 1
	fi
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Postfix without questions: "No configuration" writes no system
	# main.cf, so no system Postfix starts (the tests and the demo run
	# private instances with postfix -c DIR).
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The Exim of tests/e2e/exim_bridge.sh (Debian's exim4-daemon-heavy, downloaded and
# unpacked into EXIM_DIR, never installed; tools/fetch-exim.sh). make
# check only uses it: without it the Exim test SKIPs.
EXIM_DIR=${EXIM_DIR:-/var/cache/danepol-tests/exim}
exim_fetch() {
	local rc=0
	if [ -r "$EXIM_DIR/env" ]; then
		log "Exim for the tests present in $EXIM_DIR"
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		log "no Exim for the tests in $EXIM_DIR (run as root to fetch it; tests/e2e/exim_bridge.sh SKIPs)"
		return 0
	fi
	log "fetching Exim for the tests into $EXIM_DIR"
	"$TOP/tools/fetch-exim.sh" "$EXIM_DIR" > /dev/null || rc=$?
	[ $rc -eq 0 ] || log "Exim not fetched (tools/fetch-exim.sh exit $rc): tests/e2e/exim_bridge.sh will SKIP"
}

# Every build here: warnings are errors, and Debian's directories (the
# documented default paths: /etc/danepol, /var/lib/danepol, /run/danepol;
# autoconf's own default prefix /usr/local would move them).
BASE_CONFIGURE=(--enable-werror --prefix=/usr --sysconfdir=/etc --localstatedir=/var
	--runstatedir=/run)

# configure_dir DIR [CONFIGURE ARGS]: bootstrap when needed, configure DIR
# (out of tree, with BASE_CONFIGURE first) when it has no Makefile yet, then make.
configure_dir() {
	local dir=$1
	shift
	if [ ! -x "$TOP/configure" ] || [ "$TOP/configure.ac" -nt "$TOP/configure" ] ||
		[ "$TOP/Makefile.am" -nt "$TOP/Makefile.in" ]; then
		log "bootstrap"
		"$TOP/bootstrap"
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ "$TOP/configure" -nt "$dir/Makefile" ]; then
		log "configure $dir ${BASE_CONFIGURE[*]} $*"
		(cd "$dir" && "$TOP/configure" -q "${BASE_CONFIGURE[@]}" "$@")
	fi
	log "make ($dir)"
	make -C "$dir" -j"$JOBS" -s
}

build() {
	deps
	exim_fetch
	# shellcheck disable=SC2086  # CONFIGURE_FLAGS is a list of words
	configure_dir "$BUILD" ${CONFIGURE_FLAGS:-}
}

# Sum the per-test counts from the logs: criterion's "Synthesis" lines and
# the shell tests' "N passed, M failed" lines.
summary() {
	local d logs=()
	for d in "$@"; do
		logs+=("$d/tests")
	done
	find "${logs[@]}" -name '*.log' -print0 2>/dev/null | xargs -0 -r cat |
		awk '
		/Synthesis: Tested:/ {
			for (i = 1; i <= NF; i++) {
				if ($i == "Passing:") p += $(i+1)
				if ($i == "Failing:") f += $(i+1)
				if ($i == "Crashing:") f += $(i+1)
				if ($i == "Skipped:") s += $(i+1)
			}
		}
		/^[0-9]+ passed, [0-9]+ failed/ { p += $1; f += $3; if ($5 ~ /^[0-9]+$/) s += $5 }
		END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }'
}

# run_suite DIR: make check in DIR, then each test's closing lines (automake
# shows only its own summary) and DIR's total.
run_suite() {
	local dir=$1 rc=0
	make -C "$dir" -j"$JOBS" check || rc=$?
	for f in $(find "$dir/tests" -name '*.log' | sort); do
		printf '== %s\n' "${f#"$dir"/}"
		grep -E 'Synthesis|passed, .* failed|^timing:|\[WARN\]|\[FAIL\]|FAIL|Assertion|Sanitizer|runtime error' "$f" | tail -n 20 || true
	done
	printf '== %s total: ' "$(basename "$dir")"
	summary "$dir"
	return $rc
}

# The whole suite, then the same suite built with AddressSanitizer and
# UndefinedBehaviorSanitizer (SANITIZE=no skips that second run).
check() {
	build
	local rc=0 dirs=("$BUILD")
	run_suite "$BUILD" || rc=1
	if [ "${SANITIZE:-yes}" = yes ]; then
		configure_dir "$BUILD_ASAN" --enable-sanitizers
		dirs+=("$BUILD_ASAN")
		run_suite "$BUILD_ASAN" || rc=1
	fi
	# The end-to-end milter test with danepold under valgrind memcheck:
	# zero errors, zero definite leaks (VALGRIND=no skips it).
	if [ "${VALGRIND:-yes}" = yes ]; then
		if "$TOP/tools/valgrind-e2e.sh" "$BUILD"; then
			echo "valgrind-e2e: 1 passed, 0 failed"
		else
			echo "valgrind-e2e: 0 passed, 1 failed"
			rc=1
		fi
	fi
	# The Debian package, built from the tree, installed and run on a booted
	# systemd in a container with the stock Postfix and doc/postfix.md's
	# lines (tests/systemd/acceptance.sh, 2-3 minutes; ACCEPTANCE=no skips).
	# Its log is counted by summary().
	rm -f "$BUILD/tests/acceptance.log"
	if [ "${ACCEPTANCE:-yes}" = yes ]; then
		local arc=0
		"$TOP/tests/systemd/acceptance.sh" "$BUILD" > "$BUILD/tests/acceptance.log" 2>&1 || arc=$?
		grep -E '^(not ok|#|timing:|acceptance:|SKIP)' "$BUILD/tests/acceptance.log" | tail -n 30
		[ $arc -eq 0 ] || [ $arc -eq 77 ] || rc=1
	fi
	# Every libFuzzer target briefly over its seeds and regressions
	# (FUZZ_SECONDS per target; FUZZ_SECONDS=0 skips; long runs: tools/fuzz.sh long).
	if [ "${FUZZ_SECONDS:-5}" -gt 0 ]; then
		if "$TOP/tools/fuzz.sh" build && "$TOP/tools/fuzz.sh" run "${FUZZ_SECONDS:-5}"; then
			echo "fuzz: $("$TOP/tools/fuzz.sh" list | wc -l) passed, 0 failed"
		else
			echo "fuzz: 0 passed, 1 failed"
			rc=1
		fi
	fi
	summary "${dirs[@]}"
	return $rc
}

# The main job on the embedded offline world: the engine's decisions
# (danepol check), then danepold as the milter of a real private Postfix.
demo() {
	build
	"$TOP/tools/demo.sh" "$BUILD"
	echo
	exec "$TOP/tools/demo-postfix.sh" "$BUILD"
}

case "${1:-test}" in
deps) deps; exim_fetch ;;
build) build ;;
test) check ;;
demo) demo ;;
*) echo "usage: $0 deps|build|test|demo" >&2; exit 64 ;;
esac
