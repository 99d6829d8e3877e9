#!/usr/bin/env bash
# test-postgres-sh.sh checks scripts/postgres.sh on this machine:
#   1. the default choice prints one URL, for the database asked, that psql
#      can use, and a second call creates nothing;
#   2. WHITECROSS_DATABASE_URL is printed unchanged, and not to stderr;
#   3. WHITECROSS_PG_PRIVATE=1 on a spare WHITECROSS_PG_PORT starts a private
#      cluster (two calls at once agree on it), a second call reuses it
#      quickly, and `stop` stops it.
# It ends with a line "N passed, N failed" and exits 1 when a check failed.
#
# It leaves no cluster running that it started. Check 3 makes its cluster in
# .data/postgres when this checkout has none there, and deletes it after;
# otherwise in a temporary WHITECROSS_PG_DIR, so that a developer's own
# cluster is left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
readonly SCRIPT="$ROOT/scripts/postgres.sh"
readonly DB="pgsh_selftest_$$"

# The checks choose these themselves.
unset WHITECROSS_DATABASE_URL WHITECROSS_PG_PRIVATE WHITECROSS_PG_PORT WHITECROSS_PG_DIR

TMP="$(mktemp -d)"
readonly TMP
HAD_DATA=0
HAD_CLUSTER=0
HAD_LOCK=0
[[ -e $ROOT/.data ]] && HAD_DATA=1
[[ -e $ROOT/.data/postgres ]] && HAD_CLUSTER=1
[[ -e $ROOT/.data/postgres.lock ]] && HAD_LOCK=1

# Set by the checks for cleanup.
PRIVATE_ENV=()
PRIVATE_TMP_DIR=""
STOP_DEFAULT=0
DROP_URL=""

# Set by invoke.
OUT=""
ERR=""
RC=0

note() { printf '    %s\n' "$*" >&2; }

# invoke runs the script as `invoke [NAME=value ...] -- [ARG ...]`, from /,
# so that it must find the repository from its own path. It sets OUT, ERR
# and RC.
invoke() {
	local vars=()
	while (($#)) && [[ $1 != -- ]]; do
		vars+=("$1")
		shift
	done
	shift

	RC=0
	OUT="$(cd / && env "${vars[@]}" bash "$SCRIPT" "$@" 2>"$TMP/err")" || RC=$?
	ERR="$(<"$TMP/err")"
}

# expect_url checks that the last call succeeded and printed one URL only.
expect_url() {
	if [[ $RC != 0 ]]; then
		note "exit status $RC; stderr: $ERR"
		return 1
	fi
	if ! [[ $OUT =~ ^postgres://[^[:space:]]+$ ]]; then
		note "stdout is not one URL: '$OUT'"
		return 1
	fi
}

psql_in() {
	PGCONNECT_TIMEOUT=5 psql -X -q -w -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

port_open() { (exec 8<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# spare_port prints a port nothing listens on, below the kernel's range of
# ports for outgoing connections: one inside it may be held by a client's
# connection, which a connection attempt does not see but a bind fails on.
spare_port() {
	local port low=32768
	if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
		read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	fi
	for _ in {1..50}; do
		port=$((low - 8000 + RANDOM % 7000))
		if ! port_open "$port"; then
			echo "$port"
			return
		fi
	done
	return 1
}

check_default() {
	local got first

	invoke -- "$DB"
	[[ $ERR == *"starting the private"* ]] && STOP_DEFAULT=1
	first="${OUT##*$'\n'}"
	DROP_URL="${first/\/$DB\?//postgres?}"
	expect_url || return 1

	if ! got="$(psql_in "$OUT" 'select current_database()' 2>&1)"; then
		note "psql cannot use $OUT: $got"
		return 1
	fi
	if [[ $got != "$DB" ]]; then
		note "connected to database '$got', want '$DB'"
		return 1
	fi

	invoke -- "$DB"
	expect_url || return 1
	if [[ $OUT != "$first" ]]; then
		note "second call printed $OUT, first $first"
		return 1
	fi
	if [[ $ERR == *creating* || $ERR == *starting* ]]; then
		note "second call did more than look: $ERR"
		return 1
	fi
}

check_passthrough() {
	local want='postgres://someone:s3cret@db.invalid:6543/elsewhere?sslmode=require'

	invoke WHITECROSS_DATABASE_URL="$want" WHITECROSS_PG_PRIVATE=1 -- whitecross
	expect_url || return 1
	if [[ $OUT != "$want" ]]; then
		note "printed '$OUT', want '$want'"
		return 1
	fi
	if [[ $ERR == *s3cret* ]]; then
		note "stderr shows the password: $ERR"
		return 1
	fi
}

check_private() {
	local port dir url got start elapsed rc1=0 rc2=0

	port="$(spare_port)" || {
		note "no spare port found"
		return 1
	}
	dir="$ROOT/.data/postgres"
	PRIVATE_ENV=(WHITECROSS_PG_PRIVATE=1 "WHITECROSS_PG_PORT=$port")
	if ((HAD_CLUSTER)); then
		PRIVATE_TMP_DIR="$(mktemp -d /tmp/pgsh-selftest.XXXXXX)"
		chmod 0755 "$PRIVATE_TMP_DIR"
		dir="$PRIVATE_TMP_DIR/postgres"
		PRIVATE_ENV+=("WHITECROSS_PG_DIR=$dir")
	fi

	# Two calls at once, on a cluster that does not exist yet.
	(cd / && env "${PRIVATE_ENV[@]}" bash "$SCRIPT" "$DB" >"$TMP/out1" 2>"$TMP/err1") &
	local p1=$!
	(cd / && env "${PRIVATE_ENV[@]}" bash "$SCRIPT" "$DB" >"$TMP/out2" 2>"$TMP/err2") &
	local p2=$!
	wait "$p1" || rc1=$?
	wait "$p2" || rc2=$?
	url="$(<"$TMP/out1")"
	if [[ $rc1 != 0 || $rc2 != 0 || $url != "$(<"$TMP/out2")" ]]; then
		note "two calls at once: exit $rc1 and $rc2, printed '$url' and '$(<"$TMP/out2")'"
		note "stderr: $(cat "$TMP/err1" "$TMP/err2")"
		return 1
	fi
	OUT=$url
	RC=0
	expect_url || return 1

	if ! got="$(psql_in "$url" "select current_setting('port'), current_setting('data_directory')" 2>&1)"; then
		note "psql cannot use $url: $got"
		return 1
	fi
	if [[ $got != "$port|$dir/data" ]]; then
		note "server reports port|data_directory '$got', want '$port|$dir/data'"
		return 1
	fi

	start="$(now_ms)"
	invoke "${PRIVATE_ENV[@]}" -- "$DB"
	elapsed=$(($(now_ms) - start))
	expect_url || return 1
	if [[ $OUT != "$url" ]]; then
		note "second call printed $OUT, first $url"
		return 1
	fi
	if [[ $ERR == *initialising* || $ERR == *starting* || $ERR == *creating* ]]; then
		note "second call did more than look: $ERR"
		return 1
	fi
	if ((elapsed > 3000)); then
		note "second call took ${elapsed}ms, want under 3000ms"
		return 1
	fi

	invoke "${PRIVATE_ENV[@]}" -- stop
	if [[ $RC != 0 || -n $OUT ]]; then
		note "stop: exit $RC, stdout '$OUT', stderr: $ERR"
		return 1
	fi
	if port_open "$port"; then
		note "something still listens on $port after stop"
		return 1
	fi
	invoke "${PRIVATE_ENV[@]}" -- stop
	if [[ $RC != 0 ]]; then
		note "a second stop failed: $ERR"
		return 1
	fi
}

cleanup() {
	if [[ -n $DROP_URL ]]; then
		psql_in "$DROP_URL" "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
	fi
	if ((STOP_DEFAULT)); then
		(cd / && bash "$SCRIPT" stop) 2>/dev/null || true
	fi
	if ((${#PRIVATE_ENV[@]})); then
		if ((HAD_CLUSTER)); then
			(cd / && env "${PRIVATE_ENV[@]}" bash "$SCRIPT" stop) 2>/dev/null || true
		else
			(cd / && env "${PRIVATE_ENV[@]}" bash "$SCRIPT" remove) 2>/dev/null || true
		fi
	fi
	if [[ -n $PRIVATE_TMP_DIR ]]; then
		rm -rf "$PRIVATE_TMP_DIR"
	fi
	if ((!HAD_DATA)); then
		rm -rf "$ROOT/.data"
	elif ((!HAD_LOCK)); then
		rm -f "$ROOT/.data/postgres.lock"
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

passed=0
failed=0
n=0
run() {
	local name=$1 fn=$2
	n=$((n + 1))
	if "$fn"; then
		passed=$((passed + 1))
		printf 'ok   %d %s\n' "$n" "$name"
	else
		failed=$((failed + 1))
		printf 'FAIL %d %s\n' "$n" "$name"
	fi
}

run "default choice prints a URL psql can use" check_default
run "WHITECROSS_DATABASE_URL is printed unchanged" check_passthrough
run "private cluster starts, is reused, stops" check_private

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
