#!/usr/bin/env bats
# tests/harness/hang.bats: a test that hangs, run by tests/0005-test-timeout.bats
# with a small BATS_TEST_TIMEOUT (`make check` does not run it itself: its
# glob is tests/*.bats).  Starts the local cloud and one instance process,
# writes their pids to $HANG_PIDS, then sleeps far past the timeout.

load ../helpers

setup() {
	cloud_start "$BATS_TEST_TMPDIR/cloud"
}

teardown() {
	cloud_stop
}

@test "hangs" {
	id=$(cloud_seed 1 '{"user_data":"echo $$ >pid; exec sleep 300","run_user_data":true}')
	pidfile=$CLOUD_DIR/instances/$id/pid
	for _ in $(seq 50); do [ -s "$pidfile" ] && break; sleep 0.1; done
	echo "$CLOUD_PID $(cat "$pidfile")" >"$HANG_PIDS"
	sleep 120
}
