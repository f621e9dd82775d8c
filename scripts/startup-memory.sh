#!/usr/bin/env bash
# startup-memory.sh: start-up time and memory of `gpcore serve`.
#
# Builds the binary, then for SQLite (and PostgreSQL when
# GPCORE_TEST_POSTGRES_DSN is set) starts `gpcore serve` twice on a fresh
# database: the first start migrates, seeds the catalog and creates the
# operator; the second starts on the existing data. For each start it measures
#   - the time from exec to the first successful GET /readyz,
#   - the resident memory (VmRSS from /proc/<pid>/status) after IDLE_SECONDS idle,
#     and the CPU the server used meanwhile (background work while idle),
#   - the resident memory after CALLS ListDatacenters calls (Connect JSON over
#     one keep-alive HTTP/1.1 connection, with a user's bearer token), and the
#     peak (VmHWM),
#   - a graceful stop: SIGTERM, and the process must exit 0.
# and prints a table. Everything runs on 127.0.0.1; every wait is bounded.
#
# Usage: scripts/startup-memory.sh          (from anywhere; make bench runs it)
# Environment: GPCORE_TEST_POSTGRES_DSN (postgres://...; adds PostgreSQL rows,
#   in a fresh schema that is dropped at the end; needs psql),
#   CALLS (default 2000), IDLE_SECONDS (default 5).
set -euo pipefail

CALLS=${CALLS:-2000}
IDLE_SECONDS=${IDLE_SECONDS:-5}
READY_TIMEOUT_S=60
STOP_TIMEOUT_S=30

cd "$(dirname "$0")/.."
for tool in go curl; do
	command -v "$tool" >/dev/null || { echo "startup-memory: needs $tool on PATH" >&2; exit 1; }
done
[[ -r /proc/self/status ]] || { echo "startup-memory: needs /proc (Linux)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/gpcore-startup.XXXXXX")
pid=""
schema=""
cleanup() {
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	if [[ -n "$schema" ]]; then
		psql "$GPCORE_TEST_POSTGRES_DSN" -qX -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null ||
			echo "startup-memory: could not drop schema $schema" >&2
	fi
	rm -rf "$work"
}
trap cleanup EXIT

echo "building gpcore ..." >&2
go build -o "$work/gpcore" ./cmd/gpcore
bin_mib=$(awk -v b="$(stat -c %s "$work/gpcore")" 'BEGIN { printf "%.1f", b / 1048576 }')

now_ns() { date +%s%N; }
ms_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.0f", (b - a) / 1e6 }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# status_kb FIELD: a field of /proc/<pid>/status in kB.
status_kb() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status"; }
# cpu_ticks: user + system CPU time of the server so far, in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }'; }
CLK_TCK=$(getconf CLK_TCK)

# start_server LOG DATADIR [--database DSN]: starts gpcore serve on a port the
# kernel picks on 127.0.0.1, waits until GET /readyz answers 200, and sets
# pid, addr and ready_ms.
start_server() {
	local log=$1 datadir=$2
	shift 2
	local t0 deadline
	t0=$(now_ns)
	"$work/gpcore" serve --listen 127.0.0.1:0 --data-dir "$datadir" --log-level info "$@" \
		>"$log.out" 2>"$log.err" &
	pid=$!
	deadline=$((t0 + READY_TIMEOUT_S * 1000000000))
	addr=""
	while :; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "startup-memory: gpcore serve exited during start-up:" >&2
			cat "$log.err" >&2
			exit 1
		fi
		if [[ -z "$addr" ]]; then
			addr=$(grep -o 'msg=serving addr=127\.0\.0\.1:[0-9]*' "$log.err" 2>/dev/null | head -n1 | sed 's/.*addr=//' || true)
		fi
		if [[ -n "$addr" ]] && curl -fsS -o /dev/null --max-time 2 "http://$addr/readyz" 2>/dev/null; then
			break
		fi
		if (($(now_ns) > deadline)); then
			echo "startup-memory: not ready after ${READY_TIMEOUT_S}s:" >&2
			cat "$log.err" >&2
			exit 1
		fi
		sleep 0.005
	done
	ready_ms=$(ms_since "$t0")
}

# stop_server: SIGTERM, then waits (bounded) and sets exit_code and stop_ms.
stop_server() {
	local t0 deadline
	t0=$(now_ns)
	kill -TERM "$pid"
	deadline=$((t0 + STOP_TIMEOUT_S * 1000000000))
	# Until it is gone or a zombie (bash may reap it at any moment).
	while kill -0 "$pid" 2>/dev/null &&
		[[ "$(awk '$1 == "State:" { print $2 }' "/proc/$pid/status" 2>/dev/null)" != Z ]]; do
		if (($(now_ns) > deadline)); then
			echo "startup-memory: still running ${STOP_TIMEOUT_S}s after SIGTERM; killing it" >&2
			kill -KILL "$pid"
			break
		fi
		sleep 0.01
	done
	exit_code=0
	wait "$pid" || exit_code=$?
	stop_ms=$(ms_since "$t0")
	pid=""
}

# register: signs a new user up and prints their access token.
register() {
	local email body
	email="bench-$(date +%s%N)@example.com"
	body=$(curl -fsS --max-time 10 -X POST "http://$addr/gpcore.api.auth.v1.AuthService/Register" \
		-H 'Content-Type: application/json' \
		-d "{\"email\":\"$email\",\"password\":\"correct horse battery staple\",\"firstName\":\"Bench\",\"lastName\":\"Mark\"}")
	sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p' <<<"$body"
}

# list_datacenters TOKEN: CALLS ListDatacenters calls over one curl process
# (one keep-alive connection); fails unless every one answered 200. Sets
# calls_s.
list_datacenters() {
	local token=$1 cfg=$work/calls.curl ok t0
	: >"$cfg"
	for ((i = 0; i < CALLS; i++)); do
		printf 'url = "http://%s/gpcore.api.cloud.v1.CloudService/ListDatacenters"\noutput = "/dev/null"\n' "$addr" >>"$cfg"
	done
	t0=$(now_ns)
	ok=$(curl -sS --max-time 300 -X POST -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $token" -d '{}' -w '%{http_code}\n' -K "$cfg" | grep -c '^200$' || true)
	calls_s=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	if ((ok != CALLS)); then
		echo "startup-memory: only $ok of $CALLS ListDatacenters calls answered 200" >&2
		exit 1
	fi
}

rows=()
failed=0

# measure DB-LABEL DATADIR [--database DSN]: two starts on the same database.
measure() {
	local label=$1 datadir=$2
	shift 2
	local run token idle_rss after_rss peak ticks0 idle_cpu
	for run in first second; do
		start_server "$work/$label-$run" "$datadir" "$@"
		if [[ $run == first ]] && ! grep -q 'operator account was created' "$work/$label-$run.out"; then
			echo "startup-memory: the first start on $label did not create the operator: not a fresh database?" >&2
			exit 1
		fi
		ticks0=$(cpu_ticks)
		sleep "$IDLE_SECONDS"
		idle_rss=$(status_kb VmRSS)
		idle_cpu=$(awk -v t="$(($(cpu_ticks) - ticks0))" -v hz="$CLK_TCK" -v s="$IDLE_SECONDS" 'BEGIN { printf "%.1f", 100 * t / hz / s }')
		token=$(register)
		[[ -n "$token" ]] || { echo "startup-memory: Register gave no access token" >&2; exit 1; }
		list_datacenters "$token"
		after_rss=$(status_kb VmRSS)
		peak=$(status_kb VmHWM)
		stop_server
		if ((exit_code != 0)); then
			failed=1
			echo "startup-memory: $label $run start: gpcore exited $exit_code after SIGTERM:" >&2
			tail -n 20 "$work/$label-$run.err" >&2
		fi
		rows+=("$(printf '| %-8s | %-6s | %8s | %8s | %10s | %9s | %7s | %7s | %8s | %7s | %4s |' \
			"$label" "$run" "$ready_ms" "$(mib "$idle_rss")" "$idle_cpu" "$(mib "$after_rss")" "$calls_s" \
			"$(awk -v n="$CALLS" -v s="$calls_s" 'BEGIN { printf "%.0f", n / s }')" \
			"$(mib "$peak")" "$stop_ms" "$exit_code")")
	done
}

measure sqlite "$work/data-sqlite"

if [[ -n "${GPCORE_TEST_POSTGRES_DSN:-}" ]]; then
	command -v psql >/dev/null || { echo "startup-memory: GPCORE_TEST_POSTGRES_DSN is set but psql is missing" >&2; exit 1; }
	schema="bench_$(date +%s)_$$"
	psql "$GPCORE_TEST_POSTGRES_DSN" -qX -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema" >/dev/null
	# Every connection of the pool gets the schema as its search_path through
	# the libpq "options" startup parameter (pgx passes it on unchanged).
	sep='?'
	[[ $GPCORE_TEST_POSTGRES_DSN == *\?* ]] && sep='&'
	measure postgres "$work/data-postgres" --database "${GPCORE_TEST_POSTGRES_DSN}${sep}options=-csearch_path%3D${schema}"
	# The tables must have landed in the fresh schema, not in public.
	n=$(psql "$GPCORE_TEST_POSTGRES_DSN" -qAtX -c "SELECT count(*) FROM pg_tables WHERE schemaname = '$schema' AND tablename = 'goose_db_version'")
	[[ $n == 1 ]] || { echo "startup-memory: migrations did not go to schema $schema" >&2; exit 1; }
fi

echo
echo "gpcore serve: start-up and memory ($(nproc) CPUs, $(go env GOVERSION), binary ${bin_mib} MiB, idle ${IDLE_SECONDS}s, ${CALLS} calls)"
echo
echo '| database | start  | ready ms | idle MiB | idle CPU % | MiB after | calls s | calls/s | peak MiB | stop ms | exit |'
echo '|----------|--------|----------|----------|------------|-----------|---------|---------|----------|---------|------|'
printf '%s\n' "${rows[@]}"
echo
echo "ready ms: exec to the first GET /readyz answering 200 (first start: migrate + seed + operator)."
echo "idle MiB: VmRSS after ${IDLE_SECONDS}s idle; idle CPU %: of one core, during that idle time."
echo "MiB after: VmRSS after ${CALLS} ListDatacenters calls (Connect JSON, one keep-alive connection,"
echo "sequential); peak MiB: VmHWM; stop ms: SIGTERM to exit; exit: the exit status (0 = graceful)."
exit "$failed"
