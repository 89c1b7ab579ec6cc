# tests/lib/pgcluster.sh - a private PostgreSQL cluster for the tests
# (sourced): initdb into a directory, the server on a unix socket in that
# directory only (no TCP), fsync off; nothing of the system's PostgreSQL
# is used but its binaries (Debian: postgresql, postgresql-client).
#
#   pg_start DIR        initdb (trust, superuser postgres, UTF8) and start;
#                       exit 77 (SKIP) when no /usr/lib/postgresql/*/bin/initdb
#   pg_stop DIR         stop it (fast) and leave DIR to the caller
#   pg_conninfo DIR DB  print the libpq URI of database DB
#   pg_createdb DIR DB  create database DB
#   pg_psql DIR DB SQL  run SQL (psql -X -q -v ON_ERROR_STOP=1 -At), print rows
#
# PostgreSQL refuses to run as root: as root the server runs as PG_USER
# (default postgres, the package's system user; else nobody), DIR is
# chowned to it and must be reachable by it (a directory under /tmp with
# mode 0755 or a mktemp -d made 0755: pg_start checks).

PG_USER=${PG_USER:-postgres}

# the newest installed PostgreSQL's bin directory, or nothing
pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)
	[ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

# run "$@" as the server's user (as ourselves when not root)
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$PG_USER" -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	local dir=$1 bin
	bin=$(pg_bindir) || { echo "SKIP: no PostgreSQL server (/usr/lib/postgresql/*/bin/initdb)"; exit 77; }
	PG_BIN=$bin
	mkdir -p "$dir" || return 1
	if [ "$(id -u)" -eq 0 ]; then
		id -u "$PG_USER" > /dev/null 2>&1 || PG_USER=nobody
		chown "$PG_USER" "$dir" || return 1
		chmod 0700 "$dir"
		pg_as test -w "$dir" || { echo "pg_start: $PG_USER cannot reach $dir (a parent directory not searchable?)" >&2; return 1; }
	fi
	pg_as "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 \
		--locale=C > "$dir/initdb.log" 2>&1 ||
		{ echo "pg_start: initdb failed:" >&2; cat "$dir/initdb.log" >&2; return 1; }
	pg_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-k $dir -c listen_addresses='' -c fsync=off -c max_connections=60" start \
		> /dev/null 2>&1 ||
		{ echo "pg_start: the server did not start:" >&2; cat "$dir/server.log" >&2; return 1; }
	# the socket directory must be reachable by the tests (they run as us)
	chmod 0755 "$dir"
}

pg_stop() {
	local dir=$1 bin
	bin=${PG_BIN:-$(pg_bindir)} || return 0
	[ -f "$dir/data/postmaster.pid" ] || return 0
	pg_as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null 2>&1
}

pg_conninfo() {
	printf 'postgresql:///%s?host=%s&user=postgres\n' "$2" "$1"
}

pg_psql() {
	psql -X -q -v ON_ERROR_STOP=1 -At -h "$1" -U postgres -d "$2" -c "$3"
}

pg_createdb() {
	pg_psql "$1" postgres "CREATE DATABASE \"$2\""
}
