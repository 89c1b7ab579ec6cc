#!/bin/bash
# no_install.sh - `make check` installs nothing on the machine.
#
# Installing packages or creating system users is tools/setup.sh's job
# (deps); a test that lacks something SKIPs and says what to run. This
# checks every file the tests run or read under tests/ (scripts of any
# language, and the test programs' sources) and every TESTS entry of
# Makefile.am: no line that is not a comment runs a package manager or
# creates users or groups (apt-get, apt install, dpkg -i/--install,
# pip install, useradd, groupadd, adduser, addgroup, systemd-sysusers).
# Needs TOP_SRCDIR (make check sets it).
set -u
: "${TOP_SRCDIR:?}"
cd "$TOP_SRCDIR" || exit 99
# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

# the files: everything under tests/ that is text, plus what TESTS names;
# except tests/systemd/acceptance_inside.sh, which is not in make check and
# runs only inside the throw-away container of tests/systemd/acceptance.sh
# (installing the package there is what it tests)
mapfile -t files < <(find tests -type f ! -name '*.pyc' ! -name '*.txt' ! -name '*.json' \
	! -path 'tests/world/out/*' ! -path tests/meta/no_install.sh \
	! -path tests/systemd/acceptance_inside.sh -print | sort)
for t in $(sed -n 's/^TESTS += //p' Makefile.am); do
	case $t in tests/meta/no_install.sh) ;; tests/*.sh|tests/*.py) [ -f "$t" ] && files+=("$t") ;; esac
done
if [ "${#files[@]}" -ge 10 ]; then
	ok "${#files[@]} files under tests/ examined"
else
	not_ok "files under tests/ examined" "only ${#files[@]}"
fi
re='(^|[^A-Za-z0-9_./-])(apt-get|apt[[:space:]]+install|dpkg[[:space:]]+(-i|--install)|pip3?[[:space:]]+install|useradd|groupadd|adduser|addgroup|systemd-sysusers)([^A-Za-z0-9_-]|$)'
# comment lines (#, //, --, *) do not run anything
bad=$(grep -nE "$re" "${files[@]}" 2> /dev/null |
	grep -vE '^[^:]+:[0-9]+:[[:space:]]*(#|//|--|\*|/\*)' || true)
if [ -z "$bad" ]; then
	ok "no test installs packages or creates users"
else
	not_ok "no test installs packages or creates users (tools/setup.sh deps does)" \
		"$(echo "$bad" | head -10)"
fi
printf '1..%d\n' $((pass + fail))
[ "$fail" = 0 ]
