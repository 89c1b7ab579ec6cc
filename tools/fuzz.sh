#!/usr/bin/env bash
# tools/fuzz.sh - build and run danepol's libFuzzer targets (fuzz/*.c).
#
#   tools/fuzz.sh build            configure build-fuzz/ with clang and
#                                  -fsanitize=fuzzer-no-link,address,undefined,
#                                  build the layer libraries there, link every target
#   tools/fuzz.sh run [SECONDS]    replay fuzz/regressions/, then each target
#                                  for SECONDS (default 10) on a copy of its
#                                  seed corpus; crashes go to build-fuzz/crashes/;
#                                  exits non-zero on any crash (the CI smoke run)
#   tools/fuzz.sh long SECONDS     each target for SECONDS on a persistent work
#                                  corpus (build-fuzz/work/NAME); what adds
#                                  coverage is merged into it
#   tools/fuzz.sh list             the targets that build here
#
# TARGETS=name1,name2 limits run/long to some targets. FUZZ_BUILD changes the
# build dir, FUZZ_CC the compiler (default clang; Debian 12: packages clang
# and libclang-rt-14-dev, which ships libFuzzer). Runs are niced (NICE=10).
#
# The fuzz build is separate from ./build and build-asan: configure gets
# CC=clang, --enable-sanitizers (ASan+UBSan, -fno-sanitize-recover, so UB
# aborts), Debian's directories (as tools/setup.sh) and CFLAGS with
# -fsanitize=fuzzer-no-link (coverage for libFuzzer in the library) and
# -Wno-error (no --enable-werror: clang warns about things gcc does not;
# warnings are the gcc build's job; implicit declarations stay errors).
# Targets link with -fsanitize=fuzzer.
#
# A reproducer of a crash that is fixed goes to fuzz/regressions/NAME/ and
# is replayed by every run. One for a bug that is not fixed yet is named
# open-* there: replayed only by `tools/fuzz.sh replay-open`, never in CI.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FUZZ_BUILD:-$TOP/build-fuzz}
CC_FUZZ=${FUZZ_CC:-clang}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
NICE=${NICE:-10}

# name: extra sources (besides fuzz/fuzz_NAME.c); optional targets are
# built only when their sources exist.
ALL_TARGETS=(rcpt conf policy_table tlsa dnsname netstring exim engine rua postfix reply control rrsig certload postconf sts_policy sts_txt smime_mime)

log() { printf 'fuzz: %s\n' "$*" >&2; }

extra_sources() {
	case $1 in
	netstring | exim | control) echo "$TOP/milter/proto.c" ;;
	esac
}

available() {
	case $1 in
	rua) [ -f "$TOP/report/report_rua.c" ] && [ -f "$TOP/report/report_rua.h" ] ;;
	postfix)
		# the reader, not the placeholder it replaced
		[ -f "$TOP/report/report_postfix.c" ] &&
			grep -q report_postfix_ingest "$TOP/report/report_postfix.c" ;;
	*) [ -f "$TOP/fuzz/fuzz_$1.c" ] ;;
	esac
}

# A make variable of the configured build dir.
make_var() {
	make -s -C "$BUILD" -f Makefile -f - "print-$1" <<'MK'
print-%:
	@echo '$($*)'
MK
}

check_toolchain() {
	local t
	t=$(mktemp -d)
	printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$t/t.c"
	if ! "$CC_FUZZ" -fsanitize=fuzzer,address,undefined "$t/t.c" -o "$t/t" 2>"$t/err"; then
		cat "$t/err" >&2
		rm -rf "$t"
		log "$CC_FUZZ cannot build libFuzzer targets: install clang and libclang-rt-14-dev (tools/setup.sh deps)"
		exit 1
	fi
	rm -rf "$t"
}

build() {
	check_toolchain
	if [ ! -x "$TOP/configure" ]; then
		log "no ./configure: run tools/setup.sh build (or ./bootstrap) first"
		exit 1
	fi
	mkdir -p "$BUILD"
	if [ ! -f "$BUILD/Makefile" ] || [ "$TOP/configure" -nt "$BUILD/Makefile" ]; then
		log "configure $BUILD"
		(cd "$BUILD" && CC="$CC_FUZZ" "$TOP/configure" -q --enable-sanitizers \
			--prefix=/usr --sysconfdir=/etc --localstatedir=/var --runstatedir=/run \
			CFLAGS="-g -O1 -fsanitize=fuzzer-no-link -Wno-error")
	fi
	local layer_libs
	layer_libs=$(make_var LAYER_LIBS)
	log "make $layer_libs"
	# shellcheck disable=SC2086  # word list
	nice -n "$NICE" make -C "$BUILD" -j"$JOBS" -s $layer_libs
	local cppflags cflags ldflags libs t src built=()
	cppflags="-I$BUILD -I$TOP $(make_var AM_CPPFLAGS) $(make_var INC_MILTER | sed "s|-I\.\./|-I$TOP/|g; s|-I\.\.\$|-I$TOP|") -I$TOP/fuzz"
	cflags="-g -O1 $(make_var WARN_CFLAGS) -Wno-error $(make_var HARDEN_CFLAGS) -pthread -fsanitize=fuzzer"
	ldflags="$(make_var HARDEN_LDFLAGS) -pthread -fsanitize=fuzzer"
	libs="$(for l in $layer_libs; do printf '%s ' "$BUILD/$l"; done)$(make_var EXT_LIBS)"
	mkdir -p "$BUILD/fuzz"
	for t in "${ALL_TARGETS[@]}"; do
		if ! available "$t"; then
			log "skip $t: sources not in the tree"
			continue
		fi
		src="$TOP/fuzz/fuzz_$t.c $(extra_sources "$t")"
		# shellcheck disable=SC2086  # word lists
		nice -n "$NICE" "$CC_FUZZ" $cppflags $cflags $src $ldflags $libs \
			-o "$BUILD/fuzz/fuzz_$t"
		built+=("$t")
	done
	log "built: ${built[*]}"
}

targets() {
	local t
	for t in "${ALL_TARGETS[@]}"; do
		[ -x "$BUILD/fuzz/fuzz_$t" ] || continue
		if [ -n "${TARGETS:-}" ] && [[ ",$TARGETS," != *",$t,"* ]]; then
			continue
		fi
		echo "$t"
	done
}

# fuzz_one NAME SECONDS CORPUS_DIR: one libFuzzer run; prints a summary line.
fuzz_one() {
	local t=$1 secs=$2 corpus=$3 rc=0 dict=() stats
	local logf="$BUILD/logs/$t.log"
	mkdir -p "$BUILD/crashes/$t" "$BUILD/logs"
	[ -f "$TOP/fuzz/$t.dict" ] && dict=(-dict="$TOP/fuzz/$t.dict")
	nice -n "$NICE" "$BUILD/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -close_fd_mask=1 \
		-artifact_prefix="$BUILD/crashes/$t/" "${dict[@]}" "$corpus" >"$logf" 2>&1 || rc=$?
	stats=$(awk '
		/^stat::number_of_executed_units:/ { ex = $2 }
		/ cov: / { for (i = 1; i <= NF; i++) { if ($i == "cov:") c = $(i+1); if ($i == "ft:") f = $(i+1) } }
		END { printf "execs %s cov %s ft %s", ex, c, f }' "$logf")
	printf '%-14s %s corpus %s rc %d\n' "$t" "$stats" "$(find "$corpus" -type f | wc -l)" "$rc"
	if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$BUILD/crashes/$t")" ]; then
		log "$t: CRASH (log $logf, artifacts $BUILD/crashes/$t/)"
		grep -E 'ERROR|SUMMARY|property failed|runtime error|Test unit written' "$logf" | head -n 20 >&2 || true
		return 1
	fi
	return 0
}

# Replay the committed reproducers (fixed bugs) of every target.
replay() {
	local t f rc=0 pattern=${1:-fixed}
	for t in $(targets); do
		[ -d "$TOP/fuzz/regressions/$t" ] || continue
		for f in "$TOP/fuzz/regressions/$t"/*; do
			[ -f "$f" ] || continue
			case "$(basename "$f")" in
			open-*) [ "$pattern" = open ] || continue ;;
			*) [ "$pattern" = fixed ] || continue ;;
			esac
			if ! "$BUILD/fuzz/fuzz_$t" -runs=1 "$f" >"$BUILD/logs/replay.log" 2>&1; then
				log "regression $t/$(basename "$f") fails:"
				grep -E 'ERROR|SUMMARY|property failed|runtime error' "$BUILD/logs/replay.log" >&2 || true
				rc=1
			fi
		done
	done
	return $rc
}

need_build() {
	if [ -z "$(targets)" ]; then
		log "no fuzz targets built: run tools/fuzz.sh build first"
		exit 1
	fi
}

# A private scratch dir for targets that need files (fuzz_postfix's SQLite
# store): on tmpfs when there is one (about 4x faster), removed at exit.
scratch() {
	local base=/tmp
	[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
	FUZZ_TMP=$(mktemp -d "$base/danepol-fuzz.XXXXXX")
	trap 'rm -rf "$FUZZ_TMP"' EXIT
	export TMPDIR=$FUZZ_TMP
}

run() {
	local secs=${1:-10} t rc=0 work
	need_build
	scratch
	mkdir -p "$BUILD/logs"
	rm -rf "$BUILD/crashes"
	replay fixed || rc=1
	for t in $(targets); do
		work="$BUILD/run/$t"
		rm -rf "$work"
		mkdir -p "$work"
		if [ -d "$TOP/fuzz/corpus/$t" ]; then cp "$TOP/fuzz/corpus/$t"/* "$work"/; fi
		fuzz_one "$t" "$secs" "$work" || rc=1
	done
	if [ $rc -eq 0 ]; then
		log "no crashes"
	else
		log "CRASHES: see $BUILD/crashes/"
	fi
	return $rc
}

long() {
	local secs=${1:?usage: tools/fuzz.sh long SECONDS} t rc=0 work new
	need_build
	scratch
	mkdir -p "$BUILD/logs"
	for t in $(targets); do
		work="$BUILD/work/$t"
		new="$BUILD/work/$t.new"
		mkdir -p "$work"
		rm -rf "$new"
		mkdir -p "$new"
		if [ -d "$TOP/fuzz/corpus/$t" ]; then cp "$TOP/fuzz/corpus/$t"/* "$new"/; fi
		cp "$work"/* "$new"/ 2>/dev/null || true
		fuzz_one "$t" "$secs" "$new" || rc=1
		nice -n "$NICE" "$BUILD/fuzz/fuzz_$t" -merge=1 "$work" "$new" >"$BUILD/logs/$t.merge.log" 2>&1 || true
		rm -rf "$new"
		log "$t: work corpus $work: $(find "$work" -type f | wc -l) inputs"
	done
	return $rc
}

case "${1:-}" in
build) build ;;
run) run "${2:-10}" ;;
long) long "${2:-}" ;;
list) targets ;;
replay-open) need_build; replay open ;;
*) echo "usage: $0 build | run [SECONDS] | long SECONDS | list | replay-open" >&2; exit 64 ;;
esac
