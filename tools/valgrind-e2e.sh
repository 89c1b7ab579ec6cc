#!/usr/bin/env bash
# tools/valgrind-e2e.sh - the end-to-end milter test with danepold under valgrind.
#
#   tools/valgrind-e2e.sh [BUILD_DIR]        (as root; BUILD_DIR default: .)
#
# Runs tests/e2e/milter_postfix.sh (danepold behind a private Postfix, see
# tests/e2e/lib.sh) with every danepold instance started as
#   valgrind --leak-check=full --errors-for-leak-kinds=definite
#            --error-exitcode=99 --log-file=LOGDIR/vg.%p.log danepold ...
# (through the DANEPOLD_WRAP variable of tests/e2e/lib.sh; E2E_TIME_SCALE
# stretches the test's bounded waits and time limits, since everything runs
# some 20-50 times slower under valgrind). Then reads every valgrind log
# and asserts: each instance's log is complete (valgrind printed its
# ERROR SUMMARY, i.e. danepold exited), zero errors, zero bytes definitely
# lost. Prints per-log and total figures, and the e2e test's own result.
# Exit 0 when the e2e test passed and valgrind found nothing; 1 otherwise;
# 77 when valgrind or the e2e prerequisites are missing.
#
# Not part of make check (about a minute and a half on 2 cores); run it
# after changes to milter/ or to memory handling in lib/ and policy/.
# VG_KEEP=1 keeps the valgrind logs (their directory is printed).
set -u

BUILD=$(cd "${1:-.}" && pwd) || exit 1
TOP=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind > /dev/null || { echo "SKIP: valgrind not installed (apt-get install valgrind)"; exit 77; }
[ -x "$BUILD/danepold" ] || { echo "valgrind-e2e: no $BUILD/danepold (build first)"; exit 1; }
make -s -C "$BUILD" tests/world/faultdns tests/world/out/.stamp > /dev/null ||
	{ echo "valgrind-e2e: cannot build the test world in $BUILD"; exit 1; }

export WORLD_DIR=$BUILD/tests/world/out FAULTDNS=$BUILD/tests/world/faultdns
export DANEPOLD=$BUILD/danepold TOP_SRCDIR=$TOP
export E2E_TIME_SCALE=${E2E_TIME_SCALE:-4}
VGDIR=$(mktemp -d "${TMPDIR:-/tmp}/danepol-vg.XXXXXX") || exit 1
chmod 1777 "$VGDIR"		# danepold drops to nobody; valgrind writes as it
[ -n "${VG_KEEP:-}" ] || trap 'rm -rf "$VGDIR"' EXIT
export DANEPOLD_WRAP="valgrind --leak-check=full --errors-for-leak-kinds=definite \
--show-leak-kinds=definite --error-exitcode=99 --num-callers=30 --vgdb=no --log-file=$VGDIR/vg.%p.log"

t0=$(date +%s)
"$TOP/tests/e2e/milter_postfix.sh" > "$VGDIR/e2e.out" 2>&1
e2e_rc=$?
secs=$(($(date +%s) - t0))
grep -E '^not ok|^#' "$VGDIR/e2e.out" | head -40
e2e_line=$(tail -1 "$VGDIR/e2e.out")
echo "e2e under valgrind: $e2e_line (exit $e2e_rc, ${secs} s)"
[ "$e2e_rc" -eq 77 ] && exit 77

# Every log must end with valgrind's ERROR SUMMARY (printed at exit: the
# instance stopped and valgrind finished). Its count includes the
# definite leaks (--errors-for-leak-kinds=definite); the LEAK SUMMARY's
# "definitely lost" gives the bytes (no LEAK SUMMARY: nothing leaked).
fail=0 nlogs=0 errs=0 lost=0
for f in "$VGDIR"/vg.*.log; do
	[ -e "$f" ] || continue
	nlogs=$((nlogs + 1))
	e=$(sed -n -E 's/^==[0-9]+== ERROR SUMMARY: ([0-9]+) errors.*/\1/p' "$f" | tail -1)
	l=$(sed -n -E 's/^==[0-9]+== +definitely lost: ([0-9,]+) bytes.*/\1/p' "$f" | tr -d , | tail -1)
	if [ -z "$e" ]; then
		echo "valgrind log ${f##*/}: no ERROR SUMMARY (process did not exit?)"
		fail=1
		continue
	fi
	l=${l:-0}
	errs=$((errs + e)) lost=$((lost + l))
	printf 'valgrind log %s: %d error(s), %d byte(s) definitely lost\n' "${f##*/}" "$e" "$l"
	if [ "$e" -ne 0 ] || [ "$l" -ne 0 ]; then
		fail=1
		sed 's/^/#   /' "$f" | head -60
	fi
done
echo "valgrind: $nlogs danepold process(es), $errs error(s), $lost byte(s) definitely lost"
[ "$nlogs" -ge 5 ] || { echo "valgrind-e2e: expected 5 logs (one per danepold instance), got $nlogs"; fail=1; }
[ "$e2e_rc" -eq 0 ] || fail=1
[ -n "${VG_KEEP:-}" ] && echo "logs kept in $VGDIR"
[ "$fail" -eq 0 ] && { echo "valgrind-e2e: PASS"; exit 0; }
echo "valgrind-e2e: FAIL"
exit 1
