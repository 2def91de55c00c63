#!/bin/sh
# bench/provision-time.sh [ROUNDS]: time from provision start to runners
# online (the time-to-ready-ms output), warm claim vs cold launch, for 1
# and for 20 runners, with the action's defaults (agent polling every 2 s,
# EC2 every 1 s) and the local cloud's defaults (AWS's request limits,
# EC2's eventual consistency, instance metadata's tag lag).  The local
# cloud boots instantly: a real cold launch adds EC2's boot time.
# Prints p50 and p95 over ROUNDS rounds (default 5), and how many of the
# warm runners were claimed (not launched).  N: the sizes to measure
# (default "1 20").  127.0.0.1 only.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail
. "$(dirname "$0")/lib.sh"
rounds=${1:-5}
dir=$(mktemp -d); trap 'cloud_stop; rm -rf "$dir"' EXIT
bench_cloud "$dir"
echo "load before: $(uptime)"
bench_refresh INPUT_IDLE_TIME_SEC=1800
# ttr RUN N: time to ready in ms (and the reused count on fd 3)
ttr() { env INPUT_MODE=provision INPUT_RUN_ID="$1" INPUT_INSTANCE_COUNT="$2" \
	./entrypoint.sh 2>"$dir/err" >/dev/null
	sed -n 's/.*provision: reused=//p' "$dir/err" >&3
	sed -n 's/.*time-to-ready-ms=//p' "$dir/err"; }
rel() { env INPUT_MODE=release INPUT_RUN_ID="$1" ./entrypoint.sh >/dev/null 2>&1; }
run=80000
for n in ${N:-1 20}; do
	: >"$dir/cold$n"; : >"$dir/warm$n"; : >"$dir/reused$n"
	for r in $(seq 1 "$rounds"); do
		# cold: nothing idle
		pool-list --pool acme/web 2>/dev/null | pool-tag --set state=terminating >/dev/null 2>&1
		pool-reap --pool acme/web --grace 0 >/dev/null 2>&1
		run=$((run + 1)); ttr "$run" "$n" >>"$dir/cold$n" 3>/dev/null
		rel "$run"
		# warm: the n just released, idle again
		idle() { [ "$(bench_count --state idle)" -ge "$n" ]; }
		bench_wait 120 idle
		run=$((run + 1)); ttr "$run" "$n" >>"$dir/warm$n" 3>>"$dir/reused$n"
		rel "$run"
		bench_wait 120 idle
	done
	printf 'N=%-2s cold p50 %s ms p95 %s ms | warm p50 %s ms p95 %s ms, %s of %s reused (%s rounds)\n' "$n" \
		"$(pct 50 <"$dir/cold$n")" "$(pct 95 <"$dir/cold$n")" \
		"$(pct 50 <"$dir/warm$n")" "$(pct 95 <"$dir/warm$n")" \
		"$(awk '{ s += $1 } END { print s + 0 }' "$dir/reused$n")" $((n * rounds)) "$rounds"
done
echo "throttled calls: $(bench_throttled)"
echo "load after: $(uptime)"
