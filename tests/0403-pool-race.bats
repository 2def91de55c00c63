#!/usr/bin/env bats
# end to end: 10 concurrent provisions of 1-3 runners against 8 idle
# instances: no instance serves two runs, each run holds exactly its count,
# nothing leaks

bats_require_minimum_version 1.5.0
load e2e
setup() { e2e_setup; }
teardown() { e2e_teardown; }

idle8() { [ "$(count --state idle)" -ge 8 ]; }

@test "race: 10 concurrent provisions against 8 idle instances" {
	refresh INPUT_MIN_IDLE=8 INPUT_IDLE_TIME_SEC=600 >/dev/null
	wait_until 30 idle8
	declare -A want
	pids=()
	for i in $(seq 1 10); do
		n=$(( (i % 3) + 1 ))
		want[$((800 + i))]=$n
		# 150 s, not the helpers' 60: a dozen agents booting at once on
		# 2 cores (each a shell, a stand-in runner, a job user) take a
		# minute and more to serve; the action's default is 600
		provision $((800 + i)) "$n" INPUT_TIMEOUT_SEC=150 \
			>"$BATS_TEST_TMPDIR/p$i.out" 2>"$BATS_TEST_TMPDIR/p$i.err" &
		pids+=($!)
	done
	fails=0
	for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
	[ "$fails" -eq 0 ] || { tail -n 4 "$BATS_TEST_TMPDIR"/p*.err; false; }
	# each run holds exactly its count, and its outputs name them
	for r in "${!want[@]}"; do
		[ "$(count --run-id "$r" --state running)" -eq "${want[$r]}" ]
	done
	# one instance, one run: every running instance's runner is its run's
	run cloud_ctl GET /github/runners
	[ "$(jq '[.runners[] | select(.status == "online")] | length' <<<"$output")" -eq 20 ]
	[ "$(jq '[.runners[].name | capture("rp-(?<i>i-[0-9a-f]+)-").i] | (length == (unique | length))' <<<"$output")" = true ]
	# some came from the 8 idle (contention may leave a few idle: launched)
	reused=$(cat "$BATS_TEST_TMPDIR"/p*.out | jq -s 'map(select(.reused)) | length')
	[ "$reused" -ge 1 ]
	total=$((8 + 20 - reused))
	[ "$(cat "$BATS_TEST_TMPDIR"/p*.out | jq -s 'map(.id) | length == (unique | length)')" = true ]
	# release everything: all idle, nothing serving, nothing leaked
	pids=()
	for r in "${!want[@]}"; do release "$r" >"$BATS_TEST_TMPDIR/r$r.out" 2>"$BATS_TEST_TMPDIR/r$r.err" & pids+=($!); done
	rfails=0
	for p in "${pids[@]}"; do wait "$p" || rfails=$((rfails + 1)); done
	[ "$rfails" -eq 0 ] || { tail -n 3 "$BATS_TEST_TMPDIR"/r*.err; false; }
	[ "$(count)" -eq "$total" ]
	allidle() { [ "$(count --state idle)" -eq "$total" ]; }
	wait_until 20 allidle
}

@test "race: two refreshes at once launch min-idle once" {
	refresh INPUT_MIN_IDLE=3 INPUT_IDLE_TIME_SEC=600 >"$BATS_TEST_TMPDIR/r1" 2>&1 &
	p1=$!
	refresh INPUT_MIN_IDLE=3 INPUT_IDLE_TIME_SEC=600 >"$BATS_TEST_TMPDIR/r2" 2>&1 &
	p2=$!
	wait "$p1"
	wait "$p2"
	# past EC2's consistency window: every launch is visible
	sleep 1.5
	run -0 count
	[ "$output" -eq 3 ]
	# and a third refresh, once they are there, launches nothing
	refresh INPUT_MIN_IDLE=3 INPUT_IDLE_TIME_SEC=600 >/dev/null 2>&1
	sleep 1.5
	[ "$(count)" -eq 3 ]
}
