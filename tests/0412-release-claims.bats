#!/usr/bin/env bats
# end to end: a run's release stops any later grant to it, also from a
# claim left behind by a provision that was killed (ec2-runner-pool(7),
# THE SINGLE-WRITER RULE; tests/model/claims.py --protocol old finds it);
# a failed provision withdraws such a claim with a release request

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

@test "provision: a failed provision withdraws a claim of its run left behind, with a release request" {
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	# an idle instance holding a claim of run 906 that a killed claimant
	# of the run left (unhealthy: not a candidate of the provision; no
	# agent runs on it, so the request stays there to be seen)
	id=$(cloud_seed 1 "$(jq -cn --arg d $(($(date +%s) + 600)) --arg t "$(date +%s%3N)" '{tags: {
		"runner-pool:pool": "acme/web", "runner-pool:state": "idle", "runner-pool:class": "default",
		"runner-pool:usage": "spot", "runner-pool:deadline": $d, "runner-pool:health": "runner-version",
		"runner-pool:claim:906": $t}, lifecycle: "spot"}')")
	cloud_fault '{"service":"ec2","action":"CreateFleet","kind":"capacity"}'
	run --separate-stderr provision 906 1 INPUT_TIMEOUT_SEC=12
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"undoing: withdrawing claims"* ]]
	cloud_ctl DELETE /faults >/dev/null
	# withdrawn the only way a claimant may: a request beside the claim,
	# which only an agent answers
	run -0 cloud_ctl GET "/instances/$id"
	jq -e '.tags | has("runner-pool:claim:906") and has("runner-pool:release:906")' <<<"$output"
}
