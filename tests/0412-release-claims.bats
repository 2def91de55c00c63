#!/usr/bin/env bats
# end to end: a run's release stops any later grant to it, also from a
# claim left behind by a provision that was killed (ec2-runner-pool(7),
# THE SINGLE-WRITER RULE; tests/model/claims.py --protocol old finds it)

bats_require_minimum_version 1.5.0
load e2e
setup() { e2e_setup; }
teardown() { e2e_teardown; }

idle1() { [ "$(count --state idle)" -ge 1 ]; }
# the agent answered: neither the claim nor the request is left
answered() {
	[ "$(cloud_ctl GET /instances | jq '[(.instances // .)[].tags | keys[]
		| select(endswith(":905"))] | length')" -eq 0 ]
}

@test "release: a claim left by a killed provision is never granted after the run's release" {
	refresh INPUT_MIN_IDLE=1 INPUT_IDLE_TIME_SEC=600 >/dev/null
	wait_until 30 idle1
	id=$(pool-list --pool acme/web --state idle | jq -r .id | head -n 1)
	# the claim of run 905 (its provision killed) and the run's release
	# request, seen by the agent in one read
	now=$(date +%s%3N)
	pool-tag --set "claim:905=$now" --set "release:905=$now" "$id" >/dev/null
	wait_until 20 answered
	# never granted: idle, no run id, and stays so for a few agent polls
	sleep 2
	run -0 pool-list --pool acme/web --id "$id"
	[ "$(jq -r .state <<<"$output")" = idle ]
	[ "$(jq -r .run_id <<<"$output")" = null ]
	run -0 cloud_ctl GET /github/runners
	[ "$(jq '[.runners[] | select(.labels | tostring | contains("905"))] | length' <<<"$output")" -eq 0 ]
}
