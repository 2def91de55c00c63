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

@test "release: a dead agent's claim holds a release up only while an agent could grant it (claim TTL + 30 s)" {
	refresh INPUT_IDLE_TIME_SEC=600 INPUT_CLAIM_TTL_SEC=5 >/dev/null
	# idle instances without an agent (no process), each holding a claim of
	# its run: one stale, one fresh
	dl=$(($(date +%s) + 600))
	old=$(($(date +%s%3N) - 40000))
	new=$(date +%s%3N)
	seed() {
		cloud_seed 1 "$(jq -cn --arg d "$dl" --arg k "runner-pool:claim:$1" --arg v "$2" \
			'{tags: {"runner-pool:pool": "acme/web", "runner-pool:state": "idle",
			"runner-pool:deadline": $d, ($k): $v}}')"
	}
	seed 907 "$old" >/dev/null
	seed 908 "$new" >/dev/null
	# past 5 s + 30 s no agent grants it: released at once, the request left
	run -0 --separate-stderr env INPUT_MODE=release INPUT_RUN_ID=907 INPUT_TIMEOUT_SEC=20 "$REPO_ROOT/entrypoint.sh"
	[[ "$stderr" == *"released=1"* ]]
	cloud_ctl GET /instances | jq -e '[(.instances // .)[].tags | select(has("runner-pool:release:907"))] | length == 1'
	# a fresh claim is waited for (its agent might be granting it)
	run -1 --separate-stderr env INPUT_MODE=release INPUT_RUN_ID=908 INPUT_TIMEOUT_SEC=3 "$REPO_ROOT/entrypoint.sh"
	[[ "$stderr" == *"(idle, a claim of the run) still releasing"* ]]
}
