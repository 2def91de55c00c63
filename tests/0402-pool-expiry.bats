#!/usr/bin/env bats
# end to end: min idle, expiry and self-termination, spot interruption,
# a failed provision leaves nothing behind

bats_require_minimum_version 1.5.0
load e2e
setup() { e2e_setup; }
teardown() { e2e_teardown; }

idle_is() { [ "$(count --state idle)" -eq "$1" ]; }
# DescribeInstances may miss an instance for a while after its launch
# (the cloud's consistency_ms, as EC2's eventual consistency)
count_is() { local n=$1; shift; [ "$(count "$@")" -eq "$n" ]; }
none_left() { [ "$(count)" -eq 0 ]; }

@test "min-idle: refresh keeps N idle runners per class" {
	run refresh INPUT_MIN_IDLE=2 INPUT_IDLE_TIME_SEC=600
	[ "$status" -eq 0 ]
	wait_until 20 idle_is 2
	# idle and unclaimed: no EC2 or SSM call from the instances' roles
	cloud_ctl DELETE /calls
	sleep 2
	[ -z "$(cloud_calls | jq -c 'select(.access_key // "" | startswith("ASIA"))')" ]
	# again: nothing more to launch
	run refresh INPUT_MIN_IDLE=2 INPUT_IDLE_TIME_SEC=600
	[ "$(count)" -eq 2 ]
	# per class
	run refresh 'INPUT_MIN_IDLE={"default":1,"large":1}' INPUT_IDLE_TIME_SEC=600 \
		'INPUT_RESOURCE_CLASS_CONFIG={"large":{"cpu":4,"mmem":8192}}'
	[ "$status" -eq 0 ]
	wait_until 10 count_is 1 --class large
	[ "$(count)" -eq 3 ]
}

@test "expiry: an idle runner past deadline + grace terminates itself" {
	refresh INPUT_IDLE_TIME_SEC=2 INPUT_GRACE_SEC=1 >/dev/null
	provision 401 1 >/dev/null
	release 401
	[ "$(count --state idle)" -eq 1 ]
	wait_until 15 none_left
	[ "$(pool-list --pool acme/web --all | jq -r .ec2_state)" != running ]
}

@test "expiry: refresh reaps what is past its deadline" {
	refresh INPUT_IDLE_TIME_SEC=1 INPUT_GRACE_SEC=600 >/dev/null
	provision 402 1 >/dev/null
	release 402
	sleep 2
	run refresh INPUT_IDLE_TIME_SEC=1 INPUT_GRACE_SEC=0
	[ "$status" -eq 0 ]
	[[ "$output" == *'"reaped":1'* ]]
	[ "$(count)" -eq 0 ]
}

@test "spot interruption: the agent marks itself terminating and shuts down" {
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	provision 501 1 >/dev/null
	id=$(pool-list --pool acme/web | jq -r .id)
	cloud_ctl POST "/instances/$id/spot-interrupt" '{}' >/dev/null
	wait_until 15 none_left
	run pool-list --pool acme/web --all
	[ "$(jq -r .state <<<"$output")" = terminating ]
}

@test "a failed provision withdraws, releases, terminates: nothing left behind" {
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	provision 601 1 >/dev/null
	release 601
	# the first fleet comes back one short, the later ones empty: provision
	# retries the rest until too little time is left, then undoes it all
	cloud_fault '{"service":"ec2","action":"CreateFleet","kind":"partial","launch":1,"count":1}' \
		'{"service":"ec2","action":"CreateFleet","kind":"capacity"}'
	run --separate-stderr provision 602 3 INPUT_TIMEOUT_SEC=12
	[ "$status" -ne 0 ]
	[[ "$stderr" == *" instances failed (pool-launch exit 111, "*" tries)"* ]]
	cloud_ctl DELETE /faults >/dev/null
	noserve() { [ "$(count --run-id 602)" -eq 0 ] && idle_is 1; }
	wait_until 15 noserve
	[ "$(count)" -eq 1 ]
}

@test "a stale claim (older than the claim TTL) is dropped by the agent, never granted" {
	refresh INPUT_MIN_IDLE=1 INPUT_IDLE_TIME_SEC=600 INPUT_CLAIM_TTL_SEC=5 >/dev/null
	wait_until 20 idle_is 1
	id=$(pool-list --pool acme/web --state idle | jq -r .id)
	# a claimant that died a minute ago left its claim behind
	pool-tag --set "claim:999=$(( ($(date +%s) - 60) * 1000 ))" "$id" >/dev/null
	no_claims() { [ "$(pool-list --pool acme/web --id "$id" | jq '.claims | length')" -eq 0 ]; }
	wait_until 10 no_claims
	[ "$(pool-list --pool acme/web --id "$id" | jq -r '"\(.state) \(.run_id)"')" = "idle null" ]
	# a live claim is granted as usual afterwards
	run --separate-stderr provision 998 1
	[ "$status" -eq 0 ]
	jq -e --arg id "$id" '.id == $id and .reused and .run_id == "998"' <<<"$output"
}
