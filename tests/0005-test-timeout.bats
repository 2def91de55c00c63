#!/usr/bin/env bats
# make check gives every test BATS_TEST_TIMEOUT seconds (Makefile): a test
# that hangs fails instead of hanging the suite, and leaves no cloud behind.

bats_require_minimum_version 1.5.0
load helpers

# gone PID: PID ends (or is a zombie, not yet reaped) within 5 s
gone() {
	local _ st
	for _ in $(seq 50); do
		st=$(ps -o stat= -p "$1") || return 0
		[[ $st == Z* ]] && return 0
		sleep 0.1
	done
	echo "pid $1 still runs: $(ps -o args= -p "$1")"
	return 1
}

@test "a hanging test fails after BATS_TEST_TIMEOUT, its cloud and instances stopped" {
	command -v ps >/dev/null || skip "no ps: bats needs procps to time a test out"
	export HANG_PIDS=$BATS_TEST_TMPDIR/pids
	start=$SECONDS
	# 15 s: time for the cloud and the instance to start on a busy machine
	# (make check runs test files side by side), far less than the sleep
	run env BATS_TEST_TIMEOUT=15 "$BATS_ROOT/bin/bats" "$REPO_ROOT/tests/harness/hang.bats"
	elapsed=$((SECONDS - start))
	echo "$output"
	echo "took ${elapsed}s"
	[ "$status" -eq 1 ]
	[[ $output == *"not ok 1 hangs in "*"timeout after 15s"* || $output == *"not ok 1 hangs # timeout after 15s"* ]]
	[ "$elapsed" -lt 60 ]
	read -r cloud inst <"$HANG_PIDS"
	[ -n "$cloud" ] && [ -n "$inst" ]
	gone "$cloud"
	gone "$inst"
}
