#!/usr/bin/env bats
# pool-template: create once, version only on change, required settings.

load helpers
bats_require_minimum_version 1.5.0

load cloud-file
setup() {
	cloud_reset
	export RUNNER_POOL=acme/web
	ud=$BATS_TEST_TMPDIR/ud
	printf '#!/bin/sh\necho agent\n' >"$ud"
	args=(--ami ami-0a1b2c3d4e5f60001 --instance-profile runner --security-group "sg-0123456789abcdef0 sg-0123456789abcdef1")
}


@test "pool-template creates the template with IMDSv2, tags in metadata, terminate on shutdown" {
	run -0 --separate-stderr pool-template "${args[@]}" --user-data "$ud"
	jq -e '.name == "runner-pool/acme/web" and .created and .changed and .version == 1' <<<"$output"
	p=$(cloud_calls | jq -s 'map(select(.action == "CreateLaunchTemplate")) | .[0].params')
	jq -e '.["LaunchTemplateData.MetadataOptions.HttpTokens"] == "required"
		and .["LaunchTemplateData.MetadataOptions.HttpPutResponseHopLimit"] == "1"
		and .["LaunchTemplateData.MetadataOptions.InstanceMetadataTags"] == "enabled"
		and .["LaunchTemplateData.InstanceInitiatedShutdownBehavior"] == "terminate"
		and .["LaunchTemplateData.SecurityGroupId.2"] == "sg-0123456789abcdef1"
		and .["LaunchTemplateData.IamInstanceProfile.Name"] == "runner"' <<<"$p"
	[ "$(jq -r '.["LaunchTemplateData.UserData"]' <<<"$p" | base64 -d)" = "$(cat "$ud")" ]
}

@test "pool-template makes no new version when nothing changed" {
	pool-template "${args[@]}" --user-data "$ud" >/dev/null
	cloud_ctl DELETE /calls >/dev/null
	run -0 --separate-stderr pool-template "${args[@]}" --user-data "$ud"
	jq -e '.changed == false and .version == 1' <<<"$output"
	[ "$(cloud_calls | jq -s 'map(select(.mutating)) | length')" -eq 0 ]
}

@test "pool-template adds a default version when the AMI or user data changes" {
	pool-template "${args[@]}" --user-data "$ud" >/dev/null
	echo 'echo v2' >>"$ud"
	run -0 --separate-stderr pool-template "${args[@]}" --user-data "$ud"
	jq -e '.changed and .reason == "user data" and .version == 2' <<<"$output"
	run -0 --separate-stderr pool-template --ami ami-0a1b2c3d4e5f60002 --instance-profile runner \
		--security-group "sg-0123456789abcdef0 sg-0123456789abcdef1" --user-data "$ud"
	jq -e '.reason == "ami" and .version == 3' <<<"$output"
	cloud_calls | jq -s -e 'map(select(.action == "ModifyLaunchTemplate")) | length == 2'
	# --dry-run tells, changes nothing
	run -0 --separate-stderr pool-template --ami ami-0a1b2c3d4e5f60001 --instance-profile runner \
		--security-group sg-0123456789abcdef0 --user-data "$ud" --dry-run
	jq -e '.changed and .dry_run and .version == 3' <<<"$output"
}

@test "pool-template rejects bad input before any call" {
	run -100 --separate-stderr pool-template --instance-profile x --security-group sg-0123456789abcdef0 --user-data "$ud"
	[[ "$stderr" == *"are required"* ]]
	run -100 --separate-stderr pool-template "${args[@]}" --ami ami-xyz --user-data "$ud"
	[[ "$stderr" == *"--ami: 'ami-xyz' is not an AMI id"* ]]
	run -100 --separate-stderr pool-template "${args[@]}" --user-data /nonexistent
	[[ "$stderr" == *"--user-data: cannot open '/nonexistent'"* ]]
	head -c 20000 /dev/zero | tr '\0' a >"$BATS_TEST_TMPDIR/big"
	run -100 --separate-stderr pool-template "${args[@]}" --user-data "$BATS_TEST_TMPDIR/big"
	[[ "$stderr" == *"more than EC2's 16384"* ]]
	[ "$(cloud_calls | wc -l)" -eq 0 ]
}

# EC2 takes any well-formed AMI id into a launch template and fails only at
# launch, so pool-template asks DescribeImages first: an unknown id answers
# InvalidAMIID.NotFound (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html)
@test "pool-template refuses an AMI that does not exist, before any write (also --dry-run)" {
	for dry in "" --dry-run; do
		cloud_ctl DELETE /calls >/dev/null
		run -100 --separate-stderr pool-template "${args[@]}" --ami ami-0123456789abcdef0 \
			--user-data "$ud" $dry
		[ -z "$output" ]
		[ "$stderr" = "pool-template: --ami: image 'ami-0123456789abcdef0' does not exist in us-east-1" ]
		[ "$(cloud_calls | jq -r .action)" = DescribeImages ]
		[ -z "$(cloud_mutating_calls)" ]
	done
	# throttling stays temporary, and nothing is written either
	cloud_ctl DELETE /calls >/dev/null
	cloud_fault '{"service":"ec2","action":"DescribeImages","kind":"throttle"}'
	run -111 --separate-stderr pool-template "${args[@]}" --user-data "$ud"
	[[ "$stderr" == *RequestLimitExceeded* ]]
	[ -z "$(cloud_mutating_calls)" ]
	[ "$(cloud_ctl GET /templates | jq '.templates | length')" -eq 0 ]
}

@test "pool-template prints the AMI's architecture and tags the template with it" {
	run -0 --separate-stderr pool-template "${args[@]}" --ami ami-0a1b2c3d4e5f60003 --user-data "$ud"
	jq -e '.architecture == "arm64" and .created' <<<"$output"
	cloud_calls | jq -s -e 'map(select(.action == "CreateLaunchTemplate")) | .[0].params
		| .["TagSpecification.1.ResourceType"] == "launch-template"
		and .["TagSpecification.1.Tag.2.Key"] == "runner-pool:architecture"
		and .["TagSpecification.1.Tag.2.Value"] == "arm64"'
	cloud_ctl GET /templates | jq -e '.templates[0].tags["runner-pool:architecture"] == "arm64"'
	# a new AMI of the other architecture: a new default version, and the tag follows
	cloud_ctl DELETE /calls >/dev/null
	run -0 --separate-stderr pool-template "${args[@]}" --ami ami-0a1b2c3d4e5f60001 --user-data "$ud"
	jq -e '.architecture == "x86_64" and .reason == "ami" and .version == 2' <<<"$output"
	id=$(jq -r .id <<<"$output")
	run -0 cloud_mutating_calls
	[ "$(jq -r .action <<<"$output" | tr '\n' ' ')" = "CreateLaunchTemplateVersion ModifyLaunchTemplate CreateTags " ]
	jq -e --arg id "$id" 'select(.action == "CreateTags") | .params
		| .["ResourceId.1"] == $id and .["Tag.1.Key"] == "runner-pool:architecture"
		and .["Tag.1.Value"] == "x86_64"' <<<"$output"
	cloud_ctl GET /templates | jq -e '.templates[0].tags == {"runner-pool:pool":"acme/web","runner-pool:architecture":"x86_64"}'
	# unchanged: nothing written, the architecture still printed (dry run too)
	run -0 --separate-stderr pool-template "${args[@]}" --ami ami-0a1b2c3d4e5f60001 --user-data "$ud" --dry-run
	jq -e '.architecture == "x86_64" and (.changed | not)' <<<"$output"
}

@test "pool-template says what EC2 found not valid in the template (ValidationWarning)" {
	cloud_fault '{"service":"ec2","action":"CreateLaunchTemplate","kind":"warning","count":1,"code":"InvalidSecurityGroupID.NotFound","message":"The security group sg-0123456789abcdef1 does not exist"}'
	run -0 --separate-stderr pool-template "${args[@]}" --user-data "$ud"
	jq -e '.created' <<<"$output"
	[ "${stderr_lines[0]}" = "pool-template: warning: EC2: InvalidSecurityGroupID.NotFound: The security group sg-0123456789abcdef1 does not exist" ]
	printf 'changed\n' >>"$ud"
	cloud_fault '{"service":"ec2","action":"CreateLaunchTemplateVersion","kind":"warning","count":1,"code":"InvalidParameterCombination","message":"x"}'
	run -0 --separate-stderr pool-template "${args[@]}" --user-data "$ud"
	[[ "$stderr" == *"warning: EC2: InvalidParameterCombination: x"* ]]
}

@test "template names are checked here, as EC2 would: pool-template --name, pool-launch --template" {
	run -100 --separate-stderr pool-template "${args[@]}" --user-data "$ud" --name 'a b'
	[[ "$stderr" == "pool-template: --name: 'a b' is not a launch template name"* ]]
	run -100 --separate-stderr pool-launch --subnet subnet-0a1b2c3d4e5f60001 --template x
	[[ "$stderr" == "pool-launch: --template: 'x' is not a launch template name"* ]]
	[ -z "$(cloud_calls)" ]
}
