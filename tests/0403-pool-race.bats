#!/usr/bin/env bats
# end to end: 6 concurrent provisions of 1-2 runners against 5 idle
# instances: no instance serves two runs, each run holds exactly its count,
# nothing leaks.  (Sized for 2 cores: every instance is a real agent, a
# stand-in runner and a job user; bench/concurrency.sh races 100 claims.)

bats_require_minimum_version 1.5.0
load e2e
setup() { e2e_setup; }
teardown() { e2e_teardown; }

idle5() { [ "$(count --state idle)" -ge 5 ]; }

@test "race: 6 concurrent provisions against 5 idle instances" {
	refresh INPUT_MIN_IDLE=5 INPUT_IDLE_TIME_SEC=600 >/dev/null
	wait_until 60 idle5
	declare -A want
	pids=()
	for i in $(seq 1 6); do
		n=$(( (i % 2) + 1 ))
		want[$((800 + i))]=$n
		# 150 s, not the helpers' 60: agents booting at once on 2 busy
		# cores (each a shell, a stand-in runner, a job user) can take a
		# minute to serve; the action's default is 600
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
	[ "$(jq '[.runners[] | select(.status == "online")] | length' <<<"$output")" -eq 9 ]
	[ "$(jq '[.runners[].name | capture("rp-(?<i>i-[0-9a-f]+)-").i] | (length == (unique | length))' <<<"$output")" = true ]
	# some came from the 5 idle (contention may leave a few idle: launched)
	reused=$(cat "$BATS_TEST_TMPDIR"/p*.out | jq -s 'map(select(.reused)) | length')
	[ "$reused" -ge 1 ]
	total=$((5 + 9 - reused))
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
	wait "$p1" || { cat "$BATS_TEST_TMPDIR/r1"; false; }
	wait "$p2" || { cat "$BATS_TEST_TMPDIR/r2"; false; }
	# past EC2's consistency window: every launch is visible
	sleep 1.5
	run -0 count
	[ "$output" -eq 3 ]
	# and a third refresh, once they are there, launches nothing
	refresh INPUT_MIN_IDLE=3 INPUT_IDLE_TIME_SEC=600 >/dev/null 2>&1
	sleep 1.5
	[ "$(count)" -eq 3 ]
}
