#!/bin/sh
# bench/concurrency.sh [K]: K concurrent provisions of one runner each (half
# of them find an idle instance, half launch), then K concurrent releases,
# against the local cloud with its default limits (AWS's request buckets,
# EC2's eventual consistency, instance metadata's tag lag) and the action's
# defaults (agent polling every 2 s, EC2 every 1 s, timeout 600 s).
# Reports failures, throttled calls, stale grants (an instance still
# granted to a run after the run's release) and time-to-ready p50/p95.
# 127.0.0.1 only.  Default K=100 (about 150 instance processes: minutes).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail
. "$(dirname "$0")/lib.sh"
K=${1:-100}
warm=$((K / 2))
dir=$(mktemp -d); trap 'cloud_stop; rm -rf "$dir"' EXIT
bench_cloud "$dir"
echo "load before: $(uptime)"
t0=$(date +%s)
bench_refresh INPUT_MIN_IDLE=$warm INPUT_IDLE_TIME_SEC=1800
idle() { [ "$(bench_count --state idle)" -ge "$warm" ]; }
bench_wait 600 idle || { echo "the $warm idle instances never came up"; exit 1; }
echo "$warm idle instances after $(($(date +%s) - t0)) s"
seq0=$(bench_seq)
pids=()
t1=$(date +%s)
for i in $(seq 1 "$K"); do
	env INPUT_MODE=provision INPUT_RUN_ID=$((70000 + i)) INPUT_INSTANCE_COUNT=1 \
		./entrypoint.sh >"$dir/p$i.out" 2>"$dir/p$i.err" &
	pids+=($!)
done
pfail=0
for p in "${pids[@]}"; do wait "$p" || pfail=$((pfail + 1)); done
t2=$(date +%s)
reused=$(cat "$dir"/p*.out | jq -s 'map(select(.reused)) | length')
sed -n 's/.*time-to-ready-ms=//p' "$dir"/p*.err >"$dir/ttr"
pthr=$(bench_throttled "$seq0")
seq1=$(bench_seq)
pids=()
for i in $(seq 1 "$K"); do
	env INPUT_MODE=release INPUT_RUN_ID=$((70000 + i)) ./entrypoint.sh \
		>"$dir/r$i.out" 2>"$dir/r$i.err" &
	pids+=($!)
done
rfail=0
for p in "${pids[@]}"; do wait "$p" || rfail=$((rfail + 1)); done
t3=$(date +%s)
rthr=$(bench_throttled "$seq1")
# stale grants: after the releases and three agent polls, an instance
# still (or newly) granted to one of the K runs
sleep 6
stale=$(pool-list --pool acme/web 2>/dev/null | jq -s '[.[] | select(.run_id != null and
	(.run_id | tonumber) > 70000 and (.run_id | tonumber) <= 70000 + '"$K"' and
	(.state == "claimed" or .state == "running" or .state == "created"))] | length')
echo "K=$K: provisions $K in $((t2 - t1)) s, $pfail failed, $reused warm;" \
	"time-to-ready p50 $(pct 50 <"$dir/ttr") ms, p95 $(pct 95 <"$dir/ttr") ms"
echo "  throttled calls during the provisions: $pthr"
echo "releases $K in $((t3 - t2)) s, $rfail failed; throttled: $rthr; stale grants: $stale"
echo "load after: $(uptime)"
for i in $(seq 1 "$K"); do
	[ -s "$dir/p$i.out" ] || { echo "-- provision $i:"; tail -n 5 "$dir/p$i.err"; }
done | head -n 40
