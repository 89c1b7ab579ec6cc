#!/bin/bash
# names.sh - every name an object file of a layer library exports starts
# with the name of the header that declares it (doc/architecture.md,
# "Conventions: Names").
#
# For each object X.o of the layer libraries in the build tree (automake's
# "libutil_a-" member prefix stripped), every defined external symbol (nm
# types T, D, B, R) must be X or start with "X_", or start with the prefix
# of the folder's public header when X implements it (IMPLEMENTS below:
# policy_decision.o and policy_engine.o implement policy.h, so "policy_").
# EXCEPTIONS lists the few names that may stay, each with its reason.
# The eight lower layers (lib dns conf store sts policy probe report) fail the
# test; milter/libdaemon.a is only reported ("# warning:" lines, still ok)
# until its rework is merged: then move it to LIBS.
#
# Needs TOP_SRCDIR (make check sets it) and the built libraries: the build
# directory is the one of $DANEPOL (make check sets it), else the current
# directory (make check runs tests there).
set -u
: "${TOP_SRCDIR:?}"
# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

if [ -n "${DANEPOL:-}" ]; then
	BUILD=$(dirname "$DANEPOL")
else
	BUILD=$PWD
fi

# The layer libraries whose names must follow the rule, bottom up.
LIBS="lib/libutil.a dns/libdns.a conf/libconf.a store/libstore.a sts/libsts.a policy/libpolicy.a
probe/libprobe.a report/libreport.a milter/libdaemon.a"
# Checked, but only warned about.
WARN_LIBS=""

# Objects that implement their folder's public header: object=prefix.
declare -A IMPLEMENTS=(
	[policy_decision]=policy_	# policy.h: decisions, names of enums
	[policy_engine]=policy_		# policy.h: the engine
	[report_build]=report_		# report.h: report_build()
	[report_postfix]=report_	# report.h: report_postfix_ingest*()
)

# (Names the sanitizers generate, __asan_* and __odr_asan.*, are not ours.)
# Names that may stay as they are: object:name, or object:prefix* .
EXCEPTIONS=(
	# lib/log.h keeps Postfix's msg_* names and lib/mem.h the x* allocation
	# wrappers every C programmer reads at a glance; both are called from
	# nearly every file, and renaming them would only churn the tree.
	'log:msg_*'
	'mem:x*'
	# libc interposers: libmilter calls accept() and sigwait() by these
	# names (milter/daemon_fds.c, milter/daemon_signals.c).
	'daemon_fds:accept'
	'daemon_signals:sigwait'
)

# 0 when object $1 may export name $2.
allowed() {
	local obj=$1 sym=$2 e
	[ "$sym" = "$obj" ] && return 0
	[[ $sym == "${obj}_"* ]] && return 0
	[ -n "${IMPLEMENTS[$obj]:-}" ] && [[ $sym == "${IMPLEMENTS[$obj]}"* ]] && return 0
	for e in "${EXCEPTIONS[@]}"; do
		[ "${e%%:*}" = "$obj" ] || continue
		# shellcheck disable=SC2053 # the exception is a glob on purpose
		[[ $sym == ${e#*:} ]] && return 0
	done
	return 1
}

# Check library $1; $2 = fail or warn. Prints one TAP line.
check_lib() {
	local lib=$1 mode=$2 member obj sym n=0 nobj=0
	local -a bad=()

	if [ ! -f "$BUILD/$lib" ]; then
		not_ok "$lib: exported names" "$BUILD/$lib not built"
		return
	fi
	while read -r member _ sym; do
		obj=${member##*/}
		obj=${obj%.o}
		obj=${obj#*_a-}
		n=$((n + 1))
		allowed "$obj" "$sym" || bad+=("$obj.o exports $sym")
	done < <(nm -A --defined-only "$BUILD/$lib" 2>/dev/null |
		awk '$(NF-1) ~ /^[TDBR]$/ && $NF !~ /^__(odr_)?asan/ { split($1, f, ":"); print f[2], $(NF-1), $NF }')
	nobj=$(ar t "$BUILD/$lib" | grep -c '\.o$')
	if [ "$n" -eq 0 ]; then
		not_ok "$lib: exported names" "nm found no defined external symbol"
	elif [ "${#bad[@]}" -eq 0 ]; then
		ok "$lib: $n exported names of $nobj objects, each with its file's prefix"
	elif [ "$mode" = warn ]; then
		for sym in "${bad[@]}"; do
			printf '# warning: %s (not its file'\''s prefix)\n' "$sym"
		done
		ok "$lib: $n exported names, ${#bad[@]} without their file's prefix (warning only)"
	else
		not_ok "$lib: ${#bad[@]} of $n exported names without their file's prefix" \
			"${bad[@]}" "rename them (doc/architecture.md, Names) or make them static"
	fi
}

command -v nm >/dev/null || { echo "nm not found: skipped"; exit 77; }
for lib in $LIBS; do
	check_lib "$lib" fail
done
for lib in $WARN_LIBS; do
	check_lib "$lib" warn
done
finish
