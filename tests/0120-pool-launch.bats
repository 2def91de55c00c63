#!/usr/bin/env bats
# pool-launch: one instant fleet, attribute-based types, tags at launch,
# partial fulfilment and capacity errors.

load helpers
bats_require_minimum_version 1.5.0

SUBNETS="subnet-0a1b2c3d4e5f60001 subnet-0a1b2c3d4e5f60002"

load cloud-file
setup() {
	cloud_reset
	cloud_ctl POST /settings '{"run_user_data":false}' >/dev/null
	export RUNNER_POOL=acme/web
	printf '#!/bin/sh\ntrue\n' >"$BATS_TEST_TMPDIR/ud"
	pool-template --ami ami-0a1b2c3d4e5f60001 --instance-profile runner \
		--security-group sg-0123456789abcdef0 --user-data "$BATS_TEST_TMPDIR/ud" >/dev/null
	cloud_ctl DELETE /calls >/dev/null
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
	# three reads (the template's default version, its AMI's architecture,
	# a type of it that matches), then the one write
	jq -e 'map(.action) == ["DescribeLaunchTemplateVersions", "DescribeImages",
		"GetInstanceTypesFromInstanceRequirements", "CreateFleet"]' <<<"$calls"
	p=$(jq '.[3].params' <<<"$calls")
	jq -e '.Type == "instant"
		and .["LaunchTemplateConfigs.1.LaunchTemplateSpecification.Version"] == "1"
		and .["TargetCapacitySpecification.TotalTargetCapacity"] == "3"
		and .["SpotOptions.AllocationStrategy"] == "price-capacity-optimized"
		and .["LaunchTemplateConfigs.1.Overrides.2.SubnetId"] == "subnet-0a1b2c3d4e5f60002"
		and .["LaunchTemplateConfigs.1.Overrides.1.InstanceRequirements.VCpuCount.Min"] == "4"
		and .["LaunchTemplateConfigs.1.Overrides.1.InstanceRequirements.AllowedInstanceType.2"] == "m5.*"
		and .["TagSpecification.1.ResourceType"] == "instance"
		and (.ClientToken | test("^[0-9a-f]{32}$"))' <<<"$p"
	# the pool's tag set, once: one tag specification, each key once
	jq -e '[keys[] | select(startswith("TagSpecification."))
		| select(startswith("TagSpecification.1.") | not)] == []
		and ([to_entries[] | select(.key | test("^TagSpecification\\.1\\.Tag\\.[0-9]+\\.Key$"))
		| .value] | sort) == ["runner-pool:class", "runner-pool:deadline",
		"runner-pool:pool", "runner-pool:run-id", "runner-pool:state",
		"runner-pool:usage"]' <<<"$p"
	# the instances carry the pool's tags from the start (once
	# DescribeInstances shows them: EC2 is eventually consistent)
	wait_until 5 pool-list --run-id 42 --state created >/dev/null
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

# EC2 Fleet's attribute-based selection considers only instance types of the
# launch template AMI's architecture ("two launch templates, each with
# overrides ... useful for arm and x86 architecture support in the same
# fleet": https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-fleet-attribute-based-instance-type-selection.html);
# pool-launch finds that architecture (DescribeImages of the default
# version's AMI) and previews the matching types with
# https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetInstanceTypesFromInstanceRequirements.html

@test "pool-launch from an arm64 template with the default 'c* m* r*' launches only Graviton types" {
	pool-template --pool acme/arm --ami ami-0a1b2c3d4e5f60003 --instance-profile runner \
		--security-group sg-0123456789abcdef0 --user-data "$BATS_TEST_TMPDIR/ud" >/dev/null
	cloud_ctl DELETE /calls >/dev/null
	run -0 --separate-stderr pool-launch --pool acme/arm --subnet "$SUBNETS" --count 4 --vcpu 2:4
	[ "${#lines[@]}" -eq 4 ]
	for l in "${lines[@]}"; do
		jq -e '.instance_type | test("^(c6g|c7g|m6g|m7g|r6g|r7g)\\.")' <<<"$l"
	done
	cloud_ctl GET /instances | jq -e '.instances | length == 4
		and all(.instance_type | test("^[cmr][67]g\\."))'
	run -0 cloud_calls service=ec2
	jq -s -e 'map(select(.action == "GetInstanceTypesFromInstanceRequirements")) | .[0].params
		| .["ArchitectureType.1"] == "arm64" and .["VirtualizationType.1"] == "hvm"
		and .["InstanceRequirements.VCpuCount.Max"] == "4"
		and .["InstanceRequirements.AllowedInstanceType.3"] == "r*"' <<<"$output"
	jq -s -e 'map(select(.action == "DescribeImages")) | .[0].params
		== {"ImageId.1": "ami-0a1b2c3d4e5f60003"}' <<<"$output"
	# --arch arm64 agrees: the same launch
	run -0 --separate-stderr pool-launch --pool acme/arm --subnet "$SUBNETS" --arch arm64
	jq -e '.instance_type | test("g\\.")' <<<"$output"
}

@test "pool-launch from an x86_64 template launches only x86_64 types" {
	run -0 --separate-stderr pool-launch --subnet "$SUBNETS" --count 3 --arch x86_64 \
		--vcpu 2:2 --type 'c* m* r* t*'
	[ "${#lines[@]}" -eq 3 ]
	cloud_ctl GET /instances | jq -e '.instances | length == 3
		and all(.instance_type | test("^(c5|c6i|c7i|m5|m6i|m7i|r5|r6i|r7i)\\."))'
	cloud_calls | jq -s -e 'map(select(.action == "GetInstanceTypesFromInstanceRequirements"))
		| .[0].params["ArchitectureType.1"] == "x86_64"'
}

@test "pool-launch: patterns with no type of the architecture fail (100) and launch nothing" {
	run -100 --separate-stderr pool-launch --subnet "$SUBNETS" --type 'c7g.* m7g.*'
	[ -z "$output" ]
	[ "$stderr" = "pool-launch: no x86_64 instance type with 2+ vCPUs and 4096+ MiB matches --type 'c7g.* m7g.*'" ]
	[ -z "$(cloud_mutating_calls)" ]
	[ "$(cloud_ctl GET /instances | jq '.instances | length')" -eq 0 ]
}

@test "pool-launch --arch other than the template's AMI fails (100) and launches nothing" {
	run -100 --separate-stderr pool-launch --subnet "$SUBNETS" --arch arm64
	[ -z "$output" ]
	[ "$stderr" = "pool-launch: --arch arm64: launch template 'runner-pool/acme/web' version 1 launches x86_64" ]
	run -0 cloud_calls service=ec2
	[ "$(jq -r .action <<<"$output" | tr '\n' ' ')" = "DescribeLaunchTemplateVersions DescribeImages " ]
	run -100 --separate-stderr pool-launch --subnet "$SUBNETS" --arch aarch64
	[ "$stderr" = "pool-launch: --arch: 'aarch64' is not an architecture (x86_64 or arm64)" ]
	[ -z "$(cloud_mutating_calls)" ]
}
