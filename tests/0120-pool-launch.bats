#!/usr/bin/env bats
# pool-launch: one instant fleet, attribute-based types, tags at launch,
# partial fulfilment and capacity errors.

load helpers
bats_require_minimum_version 1.5.0

SUBNETS="subnet-0a1b2c3d4e5f60001 subnet-0a1b2c3d4e5f60002"

setup() {
	cloud_start
	cloud_ctl POST /settings '{"run_user_data":false}' >/dev/null
	export RUNNER_POOL=acme/web
	printf '#!/bin/sh\ntrue\n' >"$BATS_TEST_TMPDIR/ud"
	pool-template --ami ami-0a1b2c3d4e5f60001 --instance-profile runner \
		--security-group sg-0123456789abcdef0 --user-data "$BATS_TEST_TMPDIR/ud" >/dev/null
	cloud_ctl DELETE /calls >/dev/null
}

teardown() {
	cloud_stop
}

@test "pool-launch makes one CreateFleet with overrides per subnet and tags at launch" {
	run -0 --separate-stderr pool-launch --subnet "$SUBNETS" --count 3 --run-id 42 \
		--class large --vcpu 4 --memory 8192 --type 'c* m5.*'
	[ "${#lines[@]}" -eq 3 ]
	for l in "${lines[@]}"; do
		jq -e '.state == "created" and .run_id == "42" and .class == "large"
			and .usage == "spot" and .lifecycle == "spot" and (.id | startswith("i-"))' <<<"$l"
	done
	calls=$(cloud_calls | jq -s 'map(select(.service == "ec2"))')
	jq -e 'length == 1 and .[0].action == "CreateFleet"' <<<"$calls"
	p=$(jq '.[0].params' <<<"$calls")
	jq -e '.Type == "instant"
		and .["TargetCapacitySpecification.TotalTargetCapacity"] == "3"
		and .["SpotOptions.AllocationStrategy"] == "price-capacity-optimized"
		and .["LaunchTemplateConfigs.1.Overrides.2.SubnetId"] == "subnet-0a1b2c3d4e5f60002"
		and .["LaunchTemplateConfigs.1.Overrides.1.InstanceRequirements.VCpuCount.Min"] == "4"
		and .["LaunchTemplateConfigs.1.Overrides.1.InstanceRequirements.AllowedInstanceType.2"] == "m5.*"
		and .["TagSpecification.1.ResourceType"] == "instance"
		and (.ClientToken | test("^[0-9a-f]{32}$"))' <<<"$p"
	# the instances carry the pool's tags from the start
	run -0 pool-list --run-id 42 --state created
	[ "${#lines[@]}" -eq 3 ]
	jq -e '(.instance_type | test("^(c|m5)")) ' <<<"${lines[0]}"
}

@test "pool-launch on-demand uses lowest-price" {
	run -0 --separate-stderr pool-launch --subnet "$SUBNETS" --usage on-demand
	jq -e '.usage == "on-demand" and .lifecycle == "on-demand"' <<<"$output"
	cloud_calls | jq -s -e 'map(select(.action == "CreateFleet")) | .[0].params
		| .["OnDemandOptions.AllocationStrategy"] == "lowest-price"'
}

@test "pool-launch reports a partial fleet: prints what launched, exits 111" {
	cloud_fault '{"service":"ec2","action":"CreateFleet","kind":"partial","launch":1}'
	run -111 --separate-stderr pool-launch --subnet "$SUBNETS" --count 3 --run-id 7
	[ "${#lines[@]}" -eq 1 ]
	[[ "$stderr" == *"launched 1 of 3"* ]]
}

@test "pool-launch reports spot capacity errors as temporary (111)" {
	cloud_fault '{"service":"ec2","action":"CreateFleet","kind":"capacity"}'
	run -111 --separate-stderr pool-launch --subnet "$SUBNETS" --count 2
	[ -z "$output" ]
	[[ "$stderr" == *"InsufficientInstanceCapacity"* ]]
}

@test "pool-launch with a missing template is a permanent error (100)" {
	run -100 --separate-stderr pool-launch --subnet "$SUBNETS" --pool no/such
	[ -z "$output" ]
}

@test "pool-launch with no matching instance type is a permanent error" {
	run --separate-stderr pool-launch --subnet "$SUBNETS" --vcpu 400 --type 't3.*'
	[ "$status" -eq 100 ]
	[ -z "$output" ]
}

@test "pool-launch rejects bad input with one line and no call" {
	run -100 --separate-stderr pool-launch
	[[ "$stderr" == *"--subnet is required"* ]]
	run -100 --separate-stderr pool-launch --subnet subnet-zz
	[[ "$stderr" == *"--subnet: 'subnet-zz' is not a subnet id"* ]]
	run -100 --separate-stderr pool-launch --subnet "$SUBNETS" --count 101
	run -100 --separate-stderr pool-launch --subnet "$SUBNETS" --usage reserved
	run -100 --separate-stderr pool-launch --subnet "$SUBNETS" --vcpu 8:4
	[[ "$stderr" == *"maximum below minimum"* ]]
	run -100 --separate-stderr pool-launch --subnet "$SUBNETS" --memory lots
	[ "$(cloud_calls | wc -l)" -eq 0 ]
}
