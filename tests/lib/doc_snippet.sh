# shellcheck shell=bash
# tests/lib/doc_snippet.sh - the one extraction of the operator snippets
# of doc/postfix.md (and any guide marked the same way). Sourced, never
# run; defines one function and starts nothing.
#
#   doc_snippet DOC TARGET   prints, in document order, the contents of
#                            every fenced block whose opening fence follows
#                            a line "<!-- snippet: TARGET -->" or
#                            "<!-- snippet: TARGET NAME -->" (the marker
#                            doc/postfix.md describes under "Snippets")
#   doc_snippet_postconf FILE DIR  applies main.cf lines with postconf -e
#
# Used by tests/e2e/chroot_postfix.sh (a private Postfix with the stock
# chrooted master.cf) and tests/systemd/acceptance.sh (the Debian package
# on a booted system), so a doc change that breaks a real server breaks
# both.
doc_snippet() {
	awk -v t="$2" '
	$0 ~ "^<!-- snippet: " t "( [^ ]+)? -->$" { want = 1; next }
	want && /^```/ { if (inside) { inside = 0; want = 0 } else inside = 1; next }
	inside' "$1"
}

# doc_snippet_postconf FILE CONFIG_DIR: set each "name = value" line of
# FILE (main.cf snippets) in CONFIG_DIR/main.cf with `postconf -e`, as
# doc/postfix.md tells operators to (a line of the same name is replaced,
# not added twice). Other lines (blank, comments) are skipped.
doc_snippet_postconf() {
	local l
	while IFS= read -r l; do
		case $l in [a-z]*=*) postconf -c "$2" -e "$l" || return 1 ;; esac
	done < "$1"
}
