#!/usr/bin/env bats
# end to end: the agent is a supervised service.  User data installs it and
# returns (cloud-init completes); it survives being killed in any state,
# instance metadata that does not answer at boot, and malformed tags; a
# claimant does not wait its whole timeout on an instance whose agent died.
# The local cloud has no systemd, so its instances take the supervising
# loop; the systemd unit is checked with systemd-analyze where it exists.

bats_require_minimum_version 1.5.0
load e2e
setup() { e2e_setup; }
teardown() { e2e_teardown; }

idle_is() { [ "$(count --state idle)" -eq "$1" ]; }
# agent_pid ID: the agent process of instance ID
agent_pid() { pgrep -f "^sh $CLOUD_DIR/instances/$1/agent\$" | head -n1; }
runner_pids() { pgrep -f "$CLOUD_DIR/instances/$1/actions-runner/standin.py run" || true; }
state_of() { pool-list --pool acme/web --id "$1" | jq -r .state; }

@test "user data installs the agent and returns; the systemd unit verifies" {
	refresh INPUT_MIN_IDLE=1 INPUT_IDLE_TIME_SEC=600 >/dev/null
	wait_until 20 idle_is 1
	id=$(pool-list --pool acme/web --state idle | jq -r .id)
	# the user data script itself exited 0: cloud-init would complete
	run -0 cloud_ctl GET "/instances/$id"
	[ "$(jq -r .process.exit_code <<<"$output")" = 0 ]
	[ -n "$(agent_pid "$id")" ]
	[ "$(stat -c %a "$CLOUD_DIR/instances/$id/agent")" = 600 ]
	# the unit, as user data writes it, passes systemd's own check
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze (apt-get install systemd)"
	ud="$CLOUD_DIR/instances/$id/user-data"
	mkdir -p "$BATS_TEST_TMPDIR/unit"
	unit=$BATS_TEST_TMPDIR/unit/runner-pool-agent.service
	sed -n '/<<RP_UNIT/,/^RP_UNIT$/p' "$ud" | sed '1d;$d' |
		sed 's#\$ROOT#/opt/runner-pool#g' >"$unit"
	grep -qx 'ExecStart=/bin/sh /opt/runner-pool/agent' "$unit"
	grep -qx 'Restart=always' "$unit"
	grep -qx 'KillMode=process' "$unit"
	run -0 systemd-analyze verify "$unit"
}

@test "killed mid-claim, the agent comes back and grants the claim" {
	refresh INPUT_MIN_IDLE=1 INPUT_IDLE_TIME_SEC=600 >/dev/null
	wait_until 20 idle_is 1
	id=$(pool-list --pool acme/web --state idle | jq -r .id)
	kill -KILL "$(agent_pid "$id")"
	run --separate-stderr provision 801 1
	[ "$status" -eq 0 ]
	jq -e --arg id "$id" '.id == $id and .reused' <<<"$output"
	grep -q 'the agent stopped (137); restarting it' "$CLOUD_DIR/instances/$id/agent.log"
}

@test "killed while serving, restarted mid-release: it adopts the runner and finishes the release" {
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	run --separate-stderr provision 802 1
	[ "$status" -eq 0 ]
	id=$(jq -r .id <<<"$output")
	runner=$(runner_pids "$id")
	[ -n "$runner" ]
	kill -KILL "$(agent_pid "$id")"
	# the runner of the run in progress outlives the agent
	sleep 0.5
	[ "$(runner_pids "$id")" = "$runner" ]
	# the release that was under way when it died: state written, nothing done
	pool-tag --set state=releasing --set "release:802=$(date +%s%3N)" "$id" >/dev/null
	wait_until 20 idle_is 1
	# the adopted runner was stopped, deregistered, not started twice
	[ -z "$(runner_pids "$id")" ]
	[ "$(cloud_ctl GET /github/runners | jq '.runners | length')" -eq 0 ]
	cleared() { [ "$(pool-list --pool acme/web --id "$id" | jq -r '"\(.run_id) \(.runner)"')" = "null null" ]; }
	wait_until 5 cleared
	# and it serves the next run
	run --separate-stderr provision 803 1
	[ "$status" -eq 0 ]
	jq -e --arg id "$id" '.id == $id and .reused' <<<"$output"
}

@test "instance metadata failing at boot: the agent waits, then serves" {
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	# one failure of each kind: the agent's backoff doubles from 1 s
	cloud_fault '{"service":"imds","action":"meta-data/instance-id","kind":"5xx","count":1}'
	cloud_fault '{"service":"imds","action":"api/token","kind":"reset","count":1}'
	run --separate-stderr provision 804 1
	[ "$status" -eq 0 ]
	id=$(jq -r .id <<<"$output")
	grep -q 'instance metadata not answering' "$CLOUD_DIR/instances/$id/agent.log"
	# it never had to be restarted for it
	! grep -q 'the agent stopped' "$CLOUD_DIR/instances/$id/agent.log"
}

@test "malformed tags neither kill the agent nor get granted" {
	refresh INPUT_MIN_IDLE=1 INPUT_IDLE_TIME_SEC=600 >/dev/null
	wait_until 20 idle_is 1
	id=$(pool-list --pool acme/web --state idle | jq -r .id)
	pid=$(agent_pid "$id")
	now=$(date +%s%3N)
	# written behind the API's back: values our tools would refuse to write
	cloud_ctl POST "/instances/$id/tags" "$(jq -cn --arg now "$now" '{
		"runner-pool:claim:1": "99999999999999999999", "runner-pool:claim:12a": $now,
		"runner-pool:claim:$(touch${IFS}pwned)": "1",
		"runner-pool:claim:999999999999999999999": $now}')" >/dev/null
	# dropped, every one the agent can see (instance metadata does not
	# list a key with '$', '(' or '{')
	gone() { [ "$(pool-list --pool acme/web --id "$id" | jq -c '[.claims[].run_id]')" = '["$(touch${IFS}pwned)"]' ]; }
	wait_until 10 gone
	[ "$(agent_pid "$id")" = "$pid" ]
	[ "$(state_of "$id")" = idle ]
	[ ! -e "$CLOUD_DIR/instances/$id/pwned" ]
	cloud_ctl POST "/instances/$id/tags" '{"runner-pool:deadline": "99999999999999999999", "runner-pool:run-id": "1e400"}' >/dev/null
	sleep 2
	[ "$(agent_pid "$id")" = "$pid" ]
	run --separate-stderr provision 805 1
	[ "$status" -eq 0 ]
	jq -e --arg id "$id" '.id == $id and .reused' <<<"$output"
}

@test "a dead agent costs a claimant seconds, not its whole claim timeout" {
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	# an idle instance whose agent is gone (no process at all)
	cloud_seed 1 "$(jq -cn --arg d $(($(date +%s) + 600)) '{tags: {"runner-pool:pool": "acme/web",
		"runner-pool:state": "idle", "runner-pool:class": "default", "runner-pool:usage": "spot",
		"runner-pool:deadline": $d}, lifecycle: "spot"}')" >/dev/null
	run --separate-stderr provision 806 1 INPUT_TIMEOUT_SEC=60
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"no answer from its agent in 11s; trying another"* ]]
	[[ "$stderr" == *"launched=1"* ]]
	# the agents poll every 2 s: judged silent after 3 polls + 5 s = 11 s;
	# the claim timeout is 30 s, which alone the old wait took before the
	# launch: from the claim to
	# the launch, by the cloud's clock (not the whole provision's, which
	# a busy machine stretches while the new instance boots)
	gap=$(cloud_calls service=ec2 | jq -s '
		(map(select(.action == "CreateTags" and ([.params[]] | index("runner-pool:claim:806")))) | .[0].time) as $c
		| (map(select(.action == "CreateFleet")) | .[0].time) as $f | $f - $c | floor')
	echo "claim to launch: $gap s" >&3
	[ "$gap" -lt 20 ]
	# its claim was withdrawn with a release request beside it, which only
	# an agent removes (this one never will: the instance stays idle, never
	# granted, until its deadline)
	[ "$(count --state idle)" -eq 1 ]
	run -0 cloud_ctl GET /instances
	jq -e '[(.instances // .)[].tags | select(.["runner-pool:state"] == "idle")]
		| length == 1 and all(has("runner-pool:claim:806") and has("runner-pool:release:806"))' <<<"$output"
}
