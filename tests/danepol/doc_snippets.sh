#!/bin/bash
# doc_snippets.sh - the danepol.conf snippets of the documentation parse.
#
# 1. Every fenced block of README.md and doc/*.md right after a marker
#    line "<!-- snippet: danepol.conf [NAME] -->" (or the older "<!-- danepol.conf
#    -->") or opened as ```danepol.conf is written to a file and must pass
#    `danepold -p -c FILE` (the full parser: unknown keys, bad values, a
#    '#' after a value; no resolver is started).
# 2. No line anywhere in README.md, doc/*.md and the man pages sets a
#    danepol.conf key (the keys `danepold -p` prints, or status.*) with a
#    trailing comment ("key = value # note"): pasted, it is refused.
# Needs DANEPOLD and TOP_SRCDIR (make check sets them).
set -u
: "${DANEPOLD:?}" "${TOP_SRCDIR:?}"
T=$(mktemp -d /tmp/danepol-docsnip.XXXXXX)
trap 'rm -rf "$T"' EXIT
# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

cd "$TOP_SRCDIR" || exit 99
DOCS=(README.md doc/*.md)
MANS=(doc/*.1 doc/*.5 doc/*.8)

# 1. the marked snippets: FILE:LINE of each block into $T/snip.N
awk -v dir="$T" '
	/^[ \t]*<!-- *(snippet: *)?danepol\.conf( [^ ]+)? *-->[ \t]*$/ { mark = 1; next }
	/^[ \t]*```/ {
		if (inblock) { inblock = 0; close(out); next }
		if (mark || $0 ~ /^[ \t]*```danepol\.conf[ \t]*$/) {
			n++; out = dir "/snip." n; inblock = 1
			printf "%s:%d\n", FILENAME, FNR > (dir "/where." n)
			close(dir "/where." n)
		}
		mark = 0; next
	}
	{ if (inblock) print > out; else if ($0 !~ /^[ \t]*$/) mark = 0 }
' "${DOCS[@]}"
nsnip=$(ls "$T"/snip.* 2> /dev/null | wc -l)
if [ "$nsnip" -ge 3 ]; then
	ok "found $nsnip marked danepol.conf snippets"
else
	not_ok "found at least 3 marked danepol.conf snippets" "found $nsnip"
fi
for f in "$T"/snip.*; do
	[ -e "$f" ] || continue
	where=$(cat "$T/where.${f##*.}")
	if "$DANEPOLD" -p -c "$f" > /dev/null 2> "$T/err"; then
		ok "snippet at $where parses"
	else
		not_ok "snippet at $where parses" "$(cat "$T/err")"
	fi
done

# 2. no danepol.conf key line with a trailing comment, marked or not
keys=$("$DANEPOLD" -p -c /dev/null | sed -n 's/^\([a-z0-9_]*\) = .*/\1/p' | paste -sd'|')
if [ -z "$keys" ]; then
	not_ok "danepold -p lists the keys"
else
	ok "danepold -p lists $(echo "$keys" | tr '|' '\n' | wc -l) keys"
fi
bad=$(grep -nE "^[[:space:]]*(${keys}|status\.[a-z-]+)[[:space:]]*=.*[[:space:]]#" \
	"${DOCS[@]}" "${MANS[@]}" || true)
if [ -z "$bad" ]; then
	ok "no danepol.conf line in the docs carries a trailing comment"
else
	not_ok "no danepol.conf line in the docs carries a trailing comment" "$bad"
fi

printf '1..%d\n' $((pass + fail))
[ "$fail" = 0 ]
