#!/bin/bash
# layers.sh - no source file includes a header of a layer above its own.
#
# The layer map is the table between <!-- layers --> and <!-- /layers -->
# in doc/architecture.md (rank, folder); this test reads it from there, so
# the document and the rule cannot drift apart. For every .c and .h file
# in a layer folder, each #include "x.h" (config.h aside) must name a
# header of the same folder or of a folder of lower rank; folders of equal
# rank (the two programs) may not include each other. The README's layout
# table must list every layer folder. Needs TOP_SRCDIR (make check sets it).
set -u
: "${TOP_SRCDIR:?}"
cd "$TOP_SRCDIR" || exit 99
# shellcheck source=tests/lib/tap.sh
. "$TOP_SRCDIR/tests/lib/tap.sh"

declare -A rank
while IFS='|' read -r _ r f _; do
	r=${r//[[:space:]]/} f=${f//[[:space:]\`\/]/}
	[[ $r =~ ^[0-9]+$ ]] && rank[$f]=$r
done < <(sed -n '/<!-- layers/,/<!-- \/layers -->/p' doc/architecture.md)
if [ "${#rank[@]}" -ge 5 ]; then
	ok "layer map: ${#rank[@]} folders in doc/architecture.md"
else
	not_ok "layer map in doc/architecture.md" "found ${#rank[@]} folders"
	finish
fi

bad=0 n=0
for dir in "${!rank[@]}"; do
	for src in "$dir"/*.[ch]; do
		[ -f "$src" ] || continue
		while IFS= read -r hdr; do
			[ "$hdr" = config.h ] && continue
			n=$((n + 1))
			if [ -f "$dir/$hdr" ]; then continue; fi
			home=
			for d in "${!rank[@]}"; do
				[ -f "$d/$hdr" ] && home=$d
			done
			if [ -z "$home" ]; then
				not_ok "$src includes \"$hdr\"" "no layer folder holds it"
				bad=$((bad + 1))
			elif [ "${rank[$home]}" -ge "${rank[$dir]}" ]; then
				not_ok "$src includes \"$hdr\"" \
					"$home/ (rank ${rank[$home]}) is not below $dir/ (rank ${rank[$dir]}): see doc/architecture.md"
				bad=$((bad + 1))
			fi
		done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$src")
	done
done
[ "$bad" -eq 0 ] && ok "$n quoted includes, none upward"

for dir in "${!rank[@]}"; do
	check "README layout table lists $dir/" grep -q "^| \`$dir/\` |" README.md
done
finish
