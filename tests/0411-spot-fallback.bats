#!/usr/bin/env bats
# end to end: usage-class spot with on-demand-fallback.  A spot fleet that
# comes back short for lack of capacity (CreateFleet's errorSet:
# InsufficientInstanceCapacity; the local cloud's "capacity" and "partial"
# faults, tests/cloud/CONTRACT.md) has its shortfall launched on-demand in
# the same provision; reuse prefers idle spot instances, then on-demand.

bats_require_minimum_version 1.5.0
load e2e
setup() { e2e_setup; }
teardown() { e2e_teardown; }

fleets() { cloud_calls | jq -c 'select(.action == "CreateFleet")'; }

@test "on-demand-fallback: a short spot fleet's rest is launched on-demand; the summary counts each" {
	refresh INPUT_IDLE_TIME_SEC=600 INPUT_ON_DEMAND_FALLBACK=true >/dev/null
	cloud_fault '{"service":"ec2","action":"CreateFleet","kind":"partial","launch":1,"count":1}'
	export GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary
	run --separate-stderr provision 901 3
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -s -c 'map(.usage) | sort')" = '["on-demand","on-demand","spot"]' ]
	printf '%s\n' "${lines[@]}" | jq -s -e 'map(select(.usage == "on-demand") | .lifecycle == "on-demand") | all'
	[[ "$stderr" == *"spot fleet short by 2 for lack of capacity: launching 2 on-demand"* ]]
	# two fleet requests: spot for 3, then on-demand for the 2 missing
	run -0 fleets
	[ "${#lines[@]}" -eq 2 ]
	jq -e '.params["TargetCapacitySpecification.DefaultTargetCapacityType"] == "spot"
		and .params["TargetCapacitySpecification.TotalTargetCapacity"] == "3"' <<<"${lines[0]}"
	jq -e '.params["TargetCapacitySpecification.DefaultTargetCapacityType"] == "on-demand"
		and .params["TargetCapacitySpecification.TotalTargetCapacity"] == "2"' <<<"${lines[1]}"
	grep -q '^0 reused, 3 launched; 2 on-demand, 1 spot$' "$GITHUB_STEP_SUMMARY"
	run -0 release 901
}

@test "on-demand-fallback: no spot capacity at all, every runner on-demand; without it, provision fails and leaves nothing" {
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	# no spot capacity while the provision lasts: without the fallback it
	# retries (a lack of capacity may pass) until too little time is left
	cloud_fault '{"service":"ec2","action":"CreateFleet","kind":"capacity"}'
	run --separate-stderr provision 902 2 INPUT_TIMEOUT_SEC=12
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"InsufficientInstanceCapacity"* ]]
	[[ "$stderr" == *"launching 2 instances failed (pool-launch exit 111, "*" tries)"* ]]
	[ "$(count --state created,claimed,running,idle,releasing)" -eq 0 ]
	cloud_ctl DELETE /faults >/dev/null
	# with it, the first short spot fleet is followed by an on-demand one
	cloud_fault '{"service":"ec2","action":"CreateFleet","kind":"capacity","count":1}'
	run --separate-stderr provision 903 2 INPUT_ON_DEMAND_FALLBACK=true
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -s -c 'map(.usage)')" = '["on-demand","on-demand"]' ]
	run -0 release 903
}

@test "on-demand-fallback: refresh's min-idle launches on-demand what spot cannot, and counts it" {
	cloud_fault '{"service":"ec2","action":"CreateFleet","kind":"capacity","count":1}'
	run --separate-stderr refresh INPUT_MIN_IDLE=2 INPUT_IDLE_TIME_SEC=600 INPUT_ON_DEMAND_FALLBACK=true
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[[ "$stderr" == *"spot fleet short by 2 for lack of capacity: launching 2 on-demand (on-demand-fallback)"* ]]
	[ "$(jq -r .launched <<<"$output")" = 2 ]
	run -0 fleets
	[ "${#lines[@]}" -eq 2 ]
	jq -e '.params["TargetCapacitySpecification.DefaultTargetCapacityType"] == "on-demand"' <<<"${lines[1]}"
	wait_until 60 eval '[ "$(count --state idle --usage on-demand)" -eq 2 ]'
	# the idle on-demand ones count for min-idle: nothing more launched
	run -0 --separate-stderr refresh INPUT_MIN_IDLE=2 INPUT_IDLE_TIME_SEC=600 INPUT_ON_DEMAND_FALLBACK=true
	[ "$(jq -r .launched <<<"$output")" = 0 ]
	# without the fallback they do not: a spot refresh wants its own
	cloud_ctl DELETE /faults >/dev/null
	run -0 --separate-stderr refresh INPUT_MIN_IDLE=2 INPUT_IDLE_TIME_SEC=600
	[ "$(jq -r .launched <<<"$output")" = 2 ]
}

@test "on-demand-fallback: reuse prefers idle spot, then idle on-demand" {
	# agents polling every 2 s: provision gives a claim 2 * 3 + 5 s to be
	# answered, so a loaded machine does not pass over the idle spot one
	refresh INPUT_IDLE_TIME_SEC=600 INPUT_ON_DEMAND_FALLBACK=true INPUT_AGENT_POLL_SEC=2 >/dev/null
	run -0 --separate-stderr provision 904 1 INPUT_USAGE_CLASS=on-demand
	od=$(jq -r .id <<<"$output")
	run -0 --separate-stderr provision 905 1
	sp=$(jq -r .id <<<"$output")
	release 904 >/dev/null
	release 905 >/dev/null
	wait_until 60 eval '[ "$(count --state idle)" -eq 2 ]'
	# one wanted: the idle spot one
	run -0 --separate-stderr provision 906 1
	jq -e --arg i "$sp" '.id == $i and .reused and .usage == "spot"' <<<"$output" || { echo "$output $stderr"; false; }
	# one more: no idle spot left, the idle on-demand one
	run -0 --separate-stderr provision 907 1
	jq -e --arg i "$od" '.id == $i and .reused and .usage == "on-demand"' <<<"$output" || { echo "$stderr"; false; }
	[ "$(fleets | wc -l)" -eq 2 ]
	for r in 906 907; do release "$r" >/dev/null; done
}

@test "on-demand-fallback: off, an idle on-demand instance does not serve a spot run; a failure not for capacity is not fallen back on" {
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	run -0 --separate-stderr provision 904 1 INPUT_USAGE_CLASS=on-demand
	release 904 >/dev/null
	wait_until 60 eval '[ "$(count --state idle --usage on-demand)" -eq 1 ]'
	run -0 --separate-stderr provision 908 1
	jq -e '(.reused | not) and .usage == "spot"' <<<"$output"
	# a failure that is not for capacity (EC2 answering 500 to every try)
	# is not fallen back on
	cloud_fault '{"service":"ec2","action":"CreateFleet","kind":"5xx"}'
	# (2: the idle on-demand one is reused, 1 launched)
	run --separate-stderr provision 909 2 INPUT_ON_DEMAND_FALLBACK=true INPUT_TIMEOUT_SEC=12
	[ "$status" -eq 1 ] || { echo "$output $stderr"; false; }
	[[ "$stderr" == *"launching 1 instances failed (pool-launch exit 111, "*" tries)"* ]]
	[[ "$stderr" != *"for lack of capacity"* ]]
	# the only on-demand fleet is 904's
	[ "$(fleets | jq -r '.params["TargetCapacitySpecification.DefaultTargetCapacityType"]' | grep -c on-demand)" -eq 1 ]
	cloud_ctl DELETE /faults >/dev/null
	release 908 >/dev/null
}

@test "on-demand-fallback is true or false" {
	run --separate-stderr provision 910 1 INPUT_ON_DEMAND_FALLBACK=yes
	[ "$status" -eq 100 ]
	[ "$stderr" = "ec2-runner-pool: input on-demand-fallback: 'yes' is not true or false" ]
	run --separate-stderr refresh INPUT_ON_DEMAND_FALLBACK=1
	[ "$status" -eq 100 ]
	[ -z "$(cloud_calls)" ]
}
