#!/usr/bin/env bash
# tests/unit/store/store_pg.sh - the PostgreSQL backend of the outcome
# store (store/store_pg.c) against a real PostgreSQL: starts a private
# cluster (tests/lib/pgcluster.sh) in a temporary directory, creates the
# database danepol, exports DANEPOL_TEST_PG (its URI) and runs the
# criterion tests tests/unit/store/test_store_backends; the cluster is
# stopped and removed on exit. SKIP (77) without a PostgreSQL server or
# without the test binary (no criterion).
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
BIN=${TEST_STORE_BACKENDS:-$(pwd)/tests/unit/store/test_store_backends}
# shellcheck source=tests/lib/pgcluster.sh
. "$TOP_SRCDIR/tests/lib/pgcluster.sh"

[ -x "$BIN" ] || { echo "SKIP: $BIN not built (criterion missing?)"; exit 77; }
PGDIR=$(mktemp -d /tmp/danepol-pg.XXXXXX) || exit 1
chmod 0755 "$PGDIR"
cleanup() {
	pg_stop "$PGDIR"
	rm -rf "$PGDIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pg_start "$PGDIR" || exit 1
pg_createdb "$PGDIR" danepol || exit 1
DANEPOL_TEST_PG=$(pg_conninfo "$PGDIR" danepol)
export DANEPOL_TEST_PG
# the tests make databases of their own (migration, hostile rows) beside it
DANEPOL_TEST_PG_DIR=$PGDIR
export DANEPOL_TEST_PG_DIR
"$BIN" "$@"
