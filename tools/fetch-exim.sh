#!/usr/bin/env bash
# tools/fetch-exim.sh - an Exim 4.9x for the tests, without installing it.
#
#   tools/fetch-exim.sh DIR
#
# Run by `tools/setup.sh deps` (as root; DIR is $EXIM_DIR, default
# /var/cache/danepol-tests/exim), never by `make check`: the Exim test
# (tests/e2e/exim_bridge.sh) only uses what this left in DIR and SKIPs
# when it is missing.
#
# Downloads (apt-get download, as the reference set-up in doc/exim.md) the
# Debian packages exim4-daemon-heavy, exim4-base, exim4-config and the
# libraries the heavy daemon links that a danepol build host lacks
# (libmariadb3, libidn12, libspf2-2) into DIR/debs, and unpacks them into
# DIR/root with dpkg -x. Both are reused when present (a cache: delete DIR
# to refetch). Then checks that `exim4 -bV` runs and reports the features
# the danepol bridge needs: DANE, DNSSEC, Event (event_action) and
# Expand_dlfunc (the expansion set that goes with ${readsocket}).
#
# The Exim binary refuses to start without its compiled-in user
# "Debian-exim" (exim: failed to find uid for user name "Debian-exim"):
# when missing and we are root, it is created as a system user and group
# (what the exim4-base package's postinst does). It is left in place.
#
# The unpacked exim4 keeps the package's setuid-root mode: started by root
# (as the tests do) it honours EXIM_LD_LIBRARY_PATH below; started by any
# other user the dynamic loader ignores LD_LIBRARY_PATH and it cannot
# find libmariadb.so.3.
#
# On success prints two lines, also written to DIR/env (sourceable):
#   EXIM=DIR/root/usr/sbin/exim4
#   EXIM_LD_LIBRARY_PATH=DIR/root/usr/lib/<multiarch>:DIR/root/usr/lib
# Exit status: 0 ready; 77 only when the packages cannot be downloaded
# (no registry, no apt-get) and none are cached; 1 on any other failure
# (unpacking, a binary that does not run or lacks a feature, no
# Debian-exim user and not root).
set -u

PKGS=(exim4-daemon-heavy exim4-base exim4-config libmariadb3 libidn12 libspf2-2)
die() { echo "fetch-exim.sh: $*" >&2; exit 1; }
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
DIR=$1
mkdir -p "$DIR/debs" || die "cannot create $DIR"
DIR=$(cd "$DIR" && pwd)
PATH=$PATH:/usr/sbin:/sbin

# ---- download (once)
have_all() {
	local p
	for p in "${PKGS[@]}"; do
		compgen -G "$DIR/debs/${p}_*.deb" > /dev/null || return 1
	done
}
if ! have_all; then
	command -v apt-get > /dev/null || { echo "fetch-exim.sh: no apt-get to download Exim" >&2; exit 77; }
	# apt-get download writes into the current directory; as root the _apt
	# sandbox user may not reach it (harmless warning, download unsandboxed).
	if ! (cd "$DIR/debs" && timeout 120 apt-get download -q "${PKGS[@]}") > "$DIR/debs/download.log" 2>&1; then
		echo "fetch-exim.sh: apt-get download ${PKGS[*]} failed (no package registry?):" >&2
		tail -3 "$DIR/debs/download.log" | sed 's/^/fetch-exim.sh:   /' >&2
		exit 77
	fi
	have_all || die "apt-get download succeeded but some packages are missing (see $DIR/debs/download.log)"
	rm -rf "$DIR/root"
fi

# ---- unpack (once)
if [ ! -x "$DIR/root/usr/sbin/exim4" ]; then
	rm -rf "$DIR/root.tmp"
	mkdir -p "$DIR/root.tmp"
	for d in "$DIR"/debs/*.deb; do
		dpkg -x "$d" "$DIR/root.tmp" || die "dpkg -x $d failed"
	done
	mv "$DIR/root.tmp" "$DIR/root" || die "cannot move the unpacked tree into place"
fi
EXIM=$DIR/root/usr/sbin/exim4
[ -x "$EXIM" ] || die "$EXIM missing after unpacking"

# libmariadb3 and libidn12 land in /usr/lib/<multiarch>, libspf2-2 in /usr/lib.
LIBS=
for l in "$DIR"/root/usr/lib/*-linux-gnu*; do
	[ -d "$l" ] && LIBS=${LIBS:+$LIBS:}$l
done
LIBS=${LIBS:+$LIBS:}$DIR/root/usr/lib

# ---- the user the binary was built for
if ! getent passwd Debian-exim > /dev/null; then
	[ "$(id -u)" -eq 0 ] || die "user Debian-exim missing (Exim needs it); run as root to create it"
	getent group Debian-exim > /dev/null || groupadd --system Debian-exim || die "groupadd Debian-exim failed"
	useradd --system --gid Debian-exim --no-create-home --home-dir /var/spool/exim4 \
		--shell /usr/sbin/nologin Debian-exim || die "useradd Debian-exim failed"
	echo "fetch-exim.sh: created the system user Debian-exim (needed by the Exim binary)" >&2
fi

# ---- does it run, with the features we need?
conf=$DIR/bv.conf
printf 'keep_environment =\nexim_user = Debian-exim\nexim_group = Debian-exim\n' > "$conf"
bv=$(LD_LIBRARY_PATH=$LIBS "$EXIM" -C "$conf" -bV 2>&1) || die "exim4 -bV failed: $(echo "$bv" | head -5)"
echo "$bv" | grep -q '^Exim version 4\.9' || die "not Exim 4.9x: $(echo "$bv" | head -1)"
sup=$(echo "$bv" | grep '^Support for:')
for f in DANE DNSSEC Event Expand_dlfunc; do
	case " $sup " in *" $f "*) ;; *) die "exim4 -bV lacks '$f' support: $sup" ;; esac
done

{
	echo "EXIM=$EXIM"
	echo "EXIM_LD_LIBRARY_PATH=$LIBS"
} > "$DIR/env"
cat "$DIR/env"
