#!/usr/bin/env bash
# postgres.sh finds or starts the PostgreSQL that `make run` and `make test` use,
# and prints one connection URL on stdout. Everything else it says goes to stderr.
#
# Usage:
#   scripts/postgres.sh [DBNAME]   print a URL for DBNAME (default postgres),
#                                  creating the database when it is missing
#   scripts/postgres.sh stop       stop the private cluster if it runs
#   scripts/postgres.sh remove     stop the private cluster and delete its files
#
# The server, in order of choice:
#   1. WHITECROSS_DATABASE_URL, when set: printed unchanged, nothing is created
#      and DBNAME is ignored.
#   2. A PostgreSQL on 127.0.0.1:5432 that lets the user postgres in without a
#      password (the usual developer and CI machine).
#   3. A private cluster of this checkout, under .data/postgres, listening on
#      127.0.0.1:25432 only, with trust authentication: initialised and started
#      on first use, reused after. As root, with apt-get, Debian's postgresql is
#      installed first when initdb and pg_ctl are missing.
#
# Environment:
#   WHITECROSS_DATABASE_URL  use this server and database, as they are
#   WHITECROSS_PG_PRIVATE=1  skip choice 2 even when 5432 answers
#   WHITECROSS_PG_PORT       port of the private cluster (default 25432)
#   WHITECROSS_PG_DIR        directory of the private cluster (default: see
#                            choose_private_dir); the self-test uses it
set -euo pipefail
shopt -s inherit_errexit

readonly SHARED_PORT=5432
# Below the kernel's range of ports for outgoing connections (32768–60999
# on Linux), so that a port that no server holds cannot be one that a
# client's connection holds: such a port looks free but cannot be bound.
readonly DEFAULT_PRIVATE_PORT=25432

# The repository root, found from this file so that any working directory works.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
readonly LOCK_FILE="$ROOT/.data/postgres.lock"

# Only the URL may reach stdout: it is written to fd 3, and everything else,
# including the output of apt-get, initdb and psql, goes to stderr.
exec 3>&1 1>&2

INITDB=""
PG_CTL=""

say() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() {
	say "$@"
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

usage() {
	sed -n '2,/^set -euo/{/^set/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

main() {
	if (($# > 1)); then
		usage
		exit 2
	fi

	case "${1:-postgres}" in
	-h | --help | help) usage >&3 ;;
	stop) stop_private ;;
	remove) remove_private ;;
	*) print_url "${1:-postgres}" ;;
	esac
}

print_url() {
	local db=$1

	check_db_name "$db"

	if [[ -n ${WHITECROSS_DATABASE_URL:-} ]]; then
		say "using WHITECROSS_DATABASE_URL"
		emit "$WHITECROSS_DATABASE_URL"
		return
	fi

	# pg_isready and psql may live only beside initdb, off PATH (Debian).
	find_tools || true

	if [[ ${WHITECROSS_PG_PRIVATE:-} != 1 ]] && port_answers "$SHARED_PORT"; then
		use_shared "$db"
		return
	fi

	use_private "$db"
}

emit() { printf '%s\n' "$1" >&3; }

url() {
	printf 'postgres://postgres@127.0.0.1:%s/%s?sslmode=disable' "$2" "$1"
}

# check_db_name accepts the names the Makefile and tests use. The name goes
# into SQL and into a URL unescaped, so nothing else is let through.
check_db_name() {
	if ! [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]{0,62}$ ]]; then
		die "database name '$1' is not letters, digits and underscores"
	fi
}

# port_answers tells whether a PostgreSQL accepts connections on 127.0.0.1:$1.
# Without pg_isready, a psql that cannot log in falls through to a bare TCP
# connection, so that a server that wants a password still counts as there.
port_answers() {
	local port=$1

	if have pg_isready; then
		pg_isready -q -h 127.0.0.1 -p "$port" -t 3
		return
	fi

	if have psql && psql_at "$(url postgres "$port")" -c 'select 1' >/dev/null 2>&1; then
		return 0
	fi

	port_open "$port"
}

port_open() { (exec 8<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

psql_at() {
	local target=$1
	shift
	PGCONNECT_TIMEOUT=5 psql -X -q -w -A -t -v ON_ERROR_STOP=1 -d "$target" "$@"
}

use_shared() {
	local db=$1 admin out

	admin="$(url postgres "$SHARED_PORT")"
	have psql || apt_install postgresql-client psql

	if ! out="$(psql_at "$admin" -c 'select 1' 2>&1)"; then
		say "a PostgreSQL answers on 127.0.0.1:$SHARED_PORT, but the user postgres"
		say "cannot log in to it without a password. psql said: ${out//$'\n'/ }"
		say "Set WHITECROSS_DATABASE_URL to the URL of a superuser on it, for example"
		say "  export WHITECROSS_DATABASE_URL='postgres://USER:PASSWORD@127.0.0.1:$SHARED_PORT/postgres'"
		die "or set WHITECROSS_PG_PRIVATE=1 to start a private cluster instead."
	fi

	say "using the PostgreSQL on 127.0.0.1:$SHARED_PORT"
	ensure_db "$SHARED_PORT" "$db"
	emit "$(url "$db" "$SHARED_PORT")"
}

# ensure_db creates database $2 on port $1 when it is missing. Two callers may
# race to create it; the loser finds it there and is content.
ensure_db() {
	local port=$1 db=$2 admin out

	admin="$(url postgres "$port")"
	db_exists "$admin" "$db" && return

	say "creating database $db"
	if ! out="$(psql_at "$admin" -c "CREATE DATABASE \"$db\"" 2>&1)"; then
		db_exists "$admin" "$db" || die "could not create database $db: $out"
	fi
}

db_exists() {
	local found
	found="$(psql_at "$1" -c "SELECT 1 FROM pg_database WHERE datname = '$2'")"
	[[ $found == 1 ]]
}

# find_tools sets INITDB and PG_CTL: those on PATH, else the highest version
# under /usr/lib/postgresql, where Debian keeps them. It puts their directory
# at the end of PATH so that pg_isready and psql are found there too.
find_tools() {
	local dir

	if have initdb && have pg_ctl; then
		INITDB="$(command -v initdb)"
		PG_CTL="$(command -v pg_ctl)"
		return
	fi

	dir="$(newest_pg_bin)" || return 1
	INITDB="$dir/initdb"
	PG_CTL="$dir/pg_ctl"
	PATH="$PATH:$dir"
}

newest_pg_bin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
			printf '%s\n' "$d"
		fi
	done | sort -t/ -k5,5n | tail -n 1 | grep .
}

# apt_install installs Debian package $1 when root with apt-get, so that
# command $2 is found; otherwise it says what to install, and exits.
apt_install() {
	local pkg=$1 cmd=$2

	if ((EUID != 0)) || ! have apt-get; then
		say "$cmd was not found. Install PostgreSQL (Debian: apt-get install $pkg),"
		die "or set WHITECROSS_DATABASE_URL to the URL of a PostgreSQL you have."
	fi

	say "$cmd was not found; installing Debian's $pkg"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y "$pkg"
}

use_private() {
	local db=$1 port dir

	port="${WHITECROSS_PG_PORT:-$DEFAULT_PRIVATE_PORT}"
	if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
		die "WHITECROSS_PG_PORT is not a port number: $port"
	fi

	take_lock

	if [[ -z $INITDB ]]; then
		apt_install postgresql initdb
		find_tools || die "initdb and pg_ctl are still missing after installing postgresql"
	fi

	if ((EUID == 0)); then
		ensure_pg_user
	fi

	dir="$(choose_private_dir "$port")"
	init_private "$dir"
	port="$(start_private "$dir" "$port")"
	ensure_db "$port" "$db"
	emit "$(url "$db" "$port")"
}

# take_lock serialises the start of the private cluster between invocations
# of this checkout. The lock is released when the script exits.
take_lock() {
	# Mode 0755 whatever the umask: as root, the user postgres must pass through.
	mkdir -m 0755 "$ROOT/.data" 2>/dev/null || [[ -d $ROOT/.data ]] ||
		die "cannot create $ROOT/.data"

	if ! have flock; then
		say "flock not found: not guarding against a concurrent start"
		return
	fi

	exec 9>>"$LOCK_FILE"
	flock -w 300 9 || die "waited 5 minutes for $LOCK_FILE; is another postgres.sh stuck?"
}

ensure_pg_user() {
	id -u postgres >/dev/null 2>&1 && return

	have useradd || die "initdb refuses to run as root, and there is no user postgres to run it"
	say "creating the system user postgres (initdb and postgres refuse to run as root)"
	useradd --system postgres
}

# as_pg runs a command as the system user postgres when this script runs as
# root, since initdb, pg_ctl and postgres refuse to run as root; otherwise as
# the current user. It runs from / so that a working directory the postgres
# user cannot enter (/root) does not trouble it.
#
# The command does not inherit fd 3 (the caller's stdout) nor fd 9 (the
# lock): a server started by pg_ctl would hold them open for its whole life,
# so that $(scripts/postgres.sh) would never see the end of its output and
# the next invocation would wait for the lock in vain.
as_pg() {
	if ((EUID != 0)); then
		"$@" 3>&- 9>&-
		return
	fi

	if have runuser; then
		(cd / && runuser -u postgres -- "$@" 3>&- 9>&-)
	else
		(cd / && su postgres -s /bin/sh -c "$(sh_quote "$@")" 3>&- 9>&-)
	fi
}

# sh_quote quotes each argument for /bin/sh: 'it'\''s'.
sh_quote() {
	local arg out=""
	for arg; do
		out+="'${arg//\'/\'\\\'\'}' "
	done
	printf '%s' "$out"
}

# choose_private_dir prints the directory of the private cluster.
#
# It is .data/postgres in this checkout, so that each checkout has its own and
# `make clean-data` removes it. Two cases move it to
# /tmp/whitecross-pg-$UID-<checksum of the checkout's path>, still one per
# checkout, which `scripts/postgres.sh remove` finds and deletes:
#   - as root, the server runs as the system user postgres, which must be able
#     to reach .data; a checkout under /root (mode 700) is out of its reach, and
#     loosening the permissions of someone's home would be worse than moving
#     the cluster;
#   - the path of the server's Unix socket would be longer than the 107 bytes
#     the kernel allows.
# A cluster that already exists in either place stays where it is.
choose_private_dir() {
	local port=$1 in_repo="$ROOT/.data/postgres" in_tmp

	if [[ -n ${WHITECROSS_PG_DIR:-} ]]; then
		check_reachable "$(dirname "$WHITECROSS_PG_DIR")"
		printf '%s\n' "$WHITECROSS_PG_DIR"
		return
	fi

	in_tmp="$(tmp_private_dir)"
	if [[ -f $in_repo/data/PG_VERSION ]]; then
		printf '%s\n' "$in_repo"
	elif [[ -f $in_tmp/data/PG_VERSION ]]; then
		printf '%s\n' "$in_tmp"
	elif ((${#in_repo} + 20 > 107)); then
		say "the path of $in_repo is too long for a Unix socket; using $in_tmp"
		printf '%s\n' "$in_tmp"
	elif ((EUID == 0)) && ! as_pg test -x "$ROOT/.data"; then
		say "the user postgres cannot reach $ROOT/.data (a parent directory is closed to it);"
		say "using $in_tmp instead"
		printf '%s\n' "$in_tmp"
	else
		printf '%s\n' "$in_repo"
	fi
}

tmp_private_dir() {
	local sum
	sum="$(printf '%s' "$ROOT" | cksum | cut -d ' ' -f 1)"
	printf '/tmp/whitecross-pg-%s-%s\n' "$EUID" "$sum"
}

check_reachable() {
	if ((EUID == 0)) && ! as_pg test -x "$1"; then
		die "the user postgres cannot reach $1; choose another WHITECROSS_PG_DIR"
	fi
}

# init_private makes the cluster's directory (data/, run/ for the socket, and
# the server's log file) and runs initdb when data/ holds no cluster yet.
init_private() {
	local dir=$1

	mkdir -p "$dir/run"
	if [[ $dir == "$(tmp_private_dir)" ]]; then
		check_owner "$dir"
	fi
	if ((EUID == 0)); then
		chown postgres: "$dir" "$dir/run"
	fi

	[[ -f $dir/data/PG_VERSION ]] && return

	say "initialising a private PostgreSQL cluster in $dir/data"
	if ! run_initdb "$dir/data" --locale=C.UTF-8; then
		say "initdb with the locale C.UTF-8 failed; trying the locale C"
		run_initdb "$dir/data" --locale=C || die "initdb failed (see above)"
	fi
	printf "\ninclude_if_exists = 'whitecross.conf'\n" >>"$dir/data/postgresql.conf"
}

# check_owner refuses a directory under /tmp that someone else made first.
check_owner() {
	local owner
	owner="$(stat -c %U "$1")"
	if ((EUID == 0)) && [[ $owner == root || $owner == postgres ]]; then
		return
	fi
	if ((EUID != 0)) && [[ -O $1 ]]; then
		return
	fi
	die "$1 belongs to $owner; remove it, or set WHITECROSS_PG_DIR"
}

run_initdb() {
	local data=$1 locale=$2 out

	if out="$(as_pg "$INITDB" -D "$data" -U postgres --auth=trust -E UTF8 "$locale" 2>&1)"; then
		return 0
	fi
	printf '%s\n' "$out" >&2
	return 1
}

# start_private starts the cluster in $1 on port $2 unless it runs, and prints
# the port it listens on: that of a running cluster wins over $2.
start_private() {
	local dir=$1 port=$2 running

	if is_running "$dir"; then
		running="$(sed -n 4p "$dir/data/postmaster.pid")"
		if [[ $running != "$port" ]]; then
			say "the private PostgreSQL already runs on port $running, not $port; using it"
			say "(scripts/postgres.sh stop, then run again, to move it)"
		fi
		printf '%s\n' "$running"
		return
	fi

	if port_open "$port"; then
		die "127.0.0.1:$port is taken by another program; set WHITECROSS_PG_PORT to a free port"
	fi

	write_conf "$dir" "$port"
	say "starting the private PostgreSQL in $dir on 127.0.0.1:$port"
	if ! as_pg "$PG_CTL" start -D "$dir/data" -l "$dir/log" -w -t 120 >/dev/null; then
		say "it did not start; the end of $dir/log:"
		tail -n 20 "$dir/log" >&2 || true
		exit 1
	fi
	printf '%s\n' "$port"
}

is_running() {
	[[ -f $1/data/PG_VERSION ]] && as_pg "$PG_CTL" status -D "$1/data" >/dev/null 2>&1
}

# write_conf sets where the cluster listens: on loopback only, since every
# local user may log in as the superuser without a password.
write_conf() {
	local dir=$1 port=$2 conf="$1/data/whitecross.conf"

	{
		echo "# Written by scripts/postgres.sh at every start."
		echo "listen_addresses = '127.0.0.1'"
		echo "port = $port"
		echo "unix_socket_directories = '${dir//\'/\'\'}/run'"
	} >"$conf"

	if ((EUID == 0)); then
		chown postgres: "$conf"
	fi
}

# existing_private_dir prints the directory of this checkout's private
# cluster, or fails when it has none.
existing_private_dir() {
	local d
	for d in ${WHITECROSS_PG_DIR:+"$WHITECROSS_PG_DIR"} "$ROOT/.data/postgres" "$(tmp_private_dir)"; do
		if [[ -f $d/data/PG_VERSION ]]; then
			printf '%s\n' "$d"
			return
		fi
		[[ -n ${WHITECROSS_PG_DIR:-} ]] && return 1
	done
	return 1
}

stop_private() {
	local dir

	if ! dir="$(existing_private_dir)"; then
		say "this checkout has no private PostgreSQL; nothing to stop"
		return
	fi

	take_lock
	find_tools || die "pg_ctl not found; cannot stop the private PostgreSQL in $dir"

	if ! is_running "$dir"; then
		say "the private PostgreSQL in $dir is not running"
		return
	fi

	say "stopping the private PostgreSQL in $dir"
	as_pg "$PG_CTL" stop -D "$dir/data" -m fast -w >/dev/null
}

# remove_private deletes only what init_private made, so that a
# WHITECROSS_PG_DIR holding other files loses nothing else.
remove_private() {
	local dir

	dir="$(existing_private_dir)" || dir="${WHITECROSS_PG_DIR:-}"
	stop_private
	[[ -n $dir && -d $dir ]] || return 0

	say "removing the private PostgreSQL in $dir"
	rm -rf "$dir/data" "$dir/run" "$dir/log"
	rmdir "$dir" 2>/dev/null || say "left $dir: it holds other files"
}

main "$@"
