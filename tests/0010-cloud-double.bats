#!/usr/bin/env bats
# The local cloud speaks real AWS: checked with the AWS CLI, not our tools.

bats_require_minimum_version 1.5.0
load helpers

# find_aws: set AWS to the AWS CLI and E to the exit status of its failed
# calls, or AWS empty and AWS_MISSING to why.  `type -P`, never `command -v`:
# this file defines a function named aws, which `command -v aws` would name,
# and every call would then recurse forever.  Debian's awscli (the README's
# and .ci/run's) goes first when it is on PATH, then any other aws on PATH
# that answers --version (a pyenv shim may not).
find_aws() {
	local p v found
	AWS='' E='' AWS_MISSING="no AWS CLI on PATH (apt-get install awscli)"
	mapfile -t found < <(type -aP aws)
	for p in "${found[@]}"; do
		if [ "$p" -ef /usr/bin/aws ]; then
			found=("$p" "${found[@]}")
			break
		fi
	done
	for p in "${found[@]}"; do
		if ! v=$("$p" --version 2>&1); then
			AWS_MISSING="no working AWS CLI on PATH: '$p --version' failed: ${v%%$'\n'*}"
			continue
		fi
		# exit status of a failed call: 254 in AWS CLI v2, 255 in v1
		case $v in
		aws-cli/1.*) AWS=$p E=255 ;;
		aws-cli/*) AWS=$p E=254 ;;
		*) AWS_MISSING="no AWS CLI on PATH: $p --version says '${v%%$'\n'*}'"; continue ;;
		esac
		AWS_MISSING=''
		return 0
	done
}

# aws_server: when the AWS CLI is a Python script, one process of it serves
# every call (tests/cloud/awscli_server.py: a start costs 1.5 s of CPU);
# sets AWS_PY to its interpreter, or leaves it empty (each call a process)
aws_server() {
	local py i
	AWS_PY='' AWS_SOCK=$BATS_FILE_TMPDIR/aws.sock
	py=$(head -n 1 "$AWS" 2>/dev/null) || return 0
	py=${py#\#!}
	py=${py%% *}
	[[ $py == /*python3* ]] && "$py" -c 'import awscli.clidriver' 2>/dev/null || return 0
	"$py" "$REPO_ROOT/tests/cloud/awscli_server.py" "$AWS_SOCK" \
		</dev/null >>"$BATS_FILE_TMPDIR/aws-server.log" 2>&1 3>&- &
	AWS_SERVER_PID=$!
	for i in $(seq 100); do
		[ -S "$AWS_SOCK" ] && { AWS_PY=$py; return 0; }
		sleep 0.1
	done
	kill "$AWS_SERVER_PID" 2>/dev/null
}

setup_file() {
	load helpers
	find_aws
	[ -z "$AWS" ] || aws_server
	export AWS E AWS_MISSING AWS_PY AWS_SOCK AWS_SERVER_PID
	cloud_start "$BATS_FILE_TMPDIR/cloud"
}

teardown_file() {
	cloud_stop
	[ -z "${AWS_SERVER_PID:-}" ] || kill "$AWS_SERVER_PID" 2>/dev/null || true
}

setup() {
	cloud_check_endpoints
	cloud_reset
	# these tests check the shape of replies with the AWS CLI, whose own
	# retries under throttling only make them slow: no request limits
	# (the one test of the limits turns them back on); nor EC2's eventual
	# consistency, which the calls would race (one test turns it on)
	cloud_ctl POST /settings '{"aws_limits":false,"consistency_ms":0}' >/dev/null
}

# need_aws: first in every test that runs the AWS CLI; skips, saying why,
# when there is none
need_aws() {
	[ -n "$AWS" ] || skip "$AWS_MISSING"
}

# aws ARGS...: the AWS CLI against the cloud
aws() {
	: "${AWS:?no AWS CLI: call need_aws first}"
	if [ -n "${AWS_PY:-}" ]; then
		"$AWS_PY" -S -E "$REPO_ROOT/tests/cloud/awscli_server.py" --client "$AWS_SOCK" \
			--endpoint-url "$CLOUD_URL" --output json "$@"
	else
		"$AWS" --endpoint-url "$CLOUD_URL" --output json "$@"
	fi
}

@test "sigv4 verifier passes AWS's test vectors" {
	run -0 "$PYTHON" -m unittest discover -s "$REPO_ROOT/tests/cloud" -p 'test_sigv4.py'
	[[ $output == *OK* ]]
}

@test "harness: endpoints are loopback, no AWS config is read" {
	[[ $AWS_ENDPOINT_URL == http://127.0.0.1:* ]]
	[[ $AWS_EC2_METADATA_SERVICE_ENDPOINT == "$CLOUD_URL/_imds/host" ]]
	[ ! -e "$AWS_CONFIG_FILE" ]
	[ -z "${AWS_PROFILE:-}" ]
	run ! env AWS_ENDPOINT_URL_SSM=https://ssm.us-east-1.amazonaws.com \
		bash -c "source '$REPO_ROOT/tests/helpers.bash'; CLOUD_URL=x; AWS_ENDPOINT_URL_SSM=https://ssm.us-east-1.amazonaws.com cloud_check_endpoints"
	[[ $output == *"AWS_ENDPOINT_URL_SSM"*"refusing"* ]]
}

@test "describe-instances: filters, OR within a filter, AND across filters" {
	need_aws
	cloud_seed 6 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle"}}' >/dev/null
	cloud_seed 3 '{"tags":{"runner-pool:pool":"acme/api","runner-pool:state":"running"},"lifecycle":"spot","instance_type":"m6i.large"}' >/dev/null
	cloud_seed 2 '{"tags":{"runner-pool:pool":"acme/web"},"state":"terminated"}' >/dev/null
	run -0 aws ec2 describe-instances --filters Name=tag:runner-pool:pool,Values=acme/web \
		--query 'length(Reservations[].Instances[])'
	[ "$output" = 8 ]
	run -0 aws ec2 describe-instances --filters Name=tag:runner-pool:pool,Values=acme/web \
		Name=instance-state-name,Values=running,pending --query 'length(Reservations[].Instances[])'
	[ "$output" = 6 ]
	run -0 aws ec2 describe-instances --filters 'Name=tag:runner-pool:pool,Values=acme/*' \
		Name=instance-lifecycle,Values=spot Name=instance-type,Values='m?i.*' \
		--query 'Reservations[].Instances[].[InstanceLifecycle,InstanceType,State.Code,Placement.AvailabilityZone]' --output text
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[0]} == spot*m6i.large*16*us-east-1[a-d] ]]
	run -0 aws ec2 describe-instances --filters Name=tag-key,Values=runner-pool:state \
		Name=tag:runner-pool:state,Values=running --query 'length(Reservations[].Instances[])'
	[ "$output" = 3 ]
	run -"$E" aws ec2 describe-instances --filters Name=no-such-filter,Values=x
	[[ $output == *InvalidParameterValue* ]]
}

@test "describe-instances: pagination with MaxResults and NextToken" {
	need_aws
	cloud_seed 250 '{"tags":{"p":"x"}}' >/dev/null
	cloud_ctl DELETE /calls >/dev/null
	run -0 aws ec2 describe-instances --page-size 100 --query 'length(Reservations[].Instances[])'
	[ "$output" = 250 ]
	run -0 cloud_calls service=ec2
	[ "${#lines[@]}" -eq 3 ]
	[ "$(jq -r '.params.MaxResults' <<<"${lines[0]}")" = 100 ]
	[ "$(jq -r '.params.NextToken // "none"' <<<"${lines[0]}")" = none ]
	[ "$(jq -r '.params.NextToken | length > 0' <<<"${lines[2]}")" = true ]
	# ids are unique across pages
	run -0 aws ec2 describe-instances --page-size 100 --query 'Reservations[].Instances[].InstanceId' --output text
	[ "$(tr -s '\t ' '\n\n' <<<"$output" | sort -u | grep -c .)" -eq 250 ]
	# MaxResults out of range, and combined with instance ids
	run -"$E" aws ec2 describe-instances --no-paginate --max-results 4
	[[ $output == *InvalidParameterValue* ]]
	id=$(cloud_seed 1)
	run -"$E" aws ec2 describe-instances --no-paginate --max-results 5 --instance-ids "$id"
	[[ $output == *InvalidParameterCombination* ]]
}

@test "instance ids: malformed, not found, eventual consistency" {
	need_aws
	run -"$E" aws ec2 describe-instances --instance-ids i-nothex
	[[ $output == *InvalidInstanceID.Malformed* ]]
	run -"$E" aws ec2 describe-instances --instance-ids i-0123456789abcdef0
	[[ $output == *InvalidInstanceID.NotFound* ]]
	# within the window, NotFound: a minute, so that a loaded machine (test
	# files run side by side; the AWS CLI alone takes seconds to start)
	# still calls within it
	cloud_ctl POST /settings '{"consistency_ms":60000}' >/dev/null
	id=$(cloud_seed 1 '{"consistency":true}')
	AWS_MAX_ATTEMPTS=1 run -"$E" aws ec2 create-tags --resources "$id" --tags Key=a,Value=b
	[[ $output == *InvalidInstanceID.NotFound* ]]
	# after it, the instance is there
	cloud_ctl POST /settings '{"consistency_ms":1000}' >/dev/null
	id=$(cloud_seed 1 '{"consistency":true}')
	sleep 1.1
	run -0 aws ec2 describe-instances --instance-ids "$id" --query 'Reservations[0].Instances[0].InstanceId' --output text
	[ "$output" = "$id" ]
}

@test "create-tags and delete-tags, limits, all or nothing" {
	need_aws
	mapfile -t ids < <(cloud_seed 3)
	run -0 aws ec2 create-tags --resources "${ids[@]}" --tags Key=runner-pool:claim:42,Value=1700000000000 Key=k2,Value=
	run -0 aws ec2 describe-instances --filters Name=tag:runner-pool:claim:42,Values=1700000000000 Name=tag:k2,Values= \
		--query 'length(Reservations[].Instances[])'
	[ "$output" = 3 ]
	# DeleteTags with a value deletes only on a match
	run -0 aws ec2 delete-tags --resources "${ids[0]}" --tags Key=runner-pool:claim:42,Value=other
	run -0 aws ec2 delete-tags --resources "${ids[1]}" --tags Key=runner-pool:claim:42
	run -0 aws ec2 describe-instances --filters Name=tag-key,Values=runner-pool:claim:42 \
		--query 'Reservations[].Instances[].InstanceId' --output text
	[[ $output == *"${ids[0]}"* && $output == *"${ids[2]}"* && $output != *"${ids[1]}"* ]]
	# the 51st tag fails the whole call
	tags=()
	for n in $(seq 1 48); do tags+=("Key=t$n,Value=v"); done
	run -0 aws ec2 create-tags --resources "${ids[0]}" --tags "${tags[@]}"
	run -"$E" aws ec2 create-tags --resources "${ids[1]}" "${ids[0]}" --tags Key=one,Value=more
	[[ $output == *TagLimitExceeded* ]]
	run -0 aws ec2 describe-instances --filters Name=tag-key,Values=one --query 'length(Reservations[].Instances[])'
	[ "$output" = 0 ]
	run -"$E" aws ec2 create-tags --resources "${ids[0]}" --tags Key=aws:x,Value=y
	[[ $output == *InvalidParameterValue* ]]
	run -"$E" aws ec2 create-tags --resources "${ids[0]}" --tags "Key=$(printf 'k%.0s' $(seq 129)),Value=y"
	[[ $output == *InvalidParameterValue* ]]
}

@test "launch templates: create, duplicate, versions, default" {
	need_aws
	ud=$(printf '#!/bin/sh\necho hi\n' | base64 -w0)
	run -0 aws ec2 create-launch-template --launch-template-name pool-acme \
		--launch-template-data "{\"ImageId\":\"ami-0a1b2c3d4e5f60001\",\"UserData\":\"$ud\",\"IamInstanceProfile\":{\"Name\":\"runner\"},\"MetadataOptions\":{\"HttpTokens\":\"required\",\"InstanceMetadataTags\":\"enabled\"},\"InstanceInitiatedShutdownBehavior\":\"terminate\"}" \
		--query LaunchTemplate.LatestVersionNumber
	[ "$output" = 1 ]
	run -"$E" aws ec2 create-launch-template --launch-template-name pool-acme --launch-template-data '{"ImageId":"ami-0a1b2c3d4e5f60001"}'
	[[ $output == *InvalidLaunchTemplateName.AlreadyExistsException* ]]
	run -0 aws ec2 create-launch-template-version --launch-template-name pool-acme --source-version 1 \
		--launch-template-data '{"ImageId":"ami-0a1b2c3d4e5f60002"}' \
		--query 'LaunchTemplateVersion.[VersionNumber,LaunchTemplateData.ImageId,LaunchTemplateData.MetadataOptions.InstanceMetadataTags]' --output text
	[ "$output" = "2	ami-0a1b2c3d4e5f60002	enabled" ]
	run -0 aws ec2 modify-launch-template --launch-template-name pool-acme --default-version 2 \
		--query LaunchTemplate.DefaultVersionNumber
	[ "$output" = 2 ]
	run -0 aws ec2 describe-launch-template-versions --launch-template-name pool-acme --versions '$Default' '$Latest' 1 \
		--query 'LaunchTemplateVersions[].VersionNumber' --output text
	[ "$output" = "2	1" ]
	run -"$E" aws ec2 describe-launch-templates --launch-template-names nope
	[[ $output == *InvalidLaunchTemplateName.NotFoundException* ]]
	run -"$E" aws ec2 create-launch-template --launch-template-name bad --launch-template-data '{"UserData":"!!!"}'
	[[ $output == *InvalidUserData.Malformed* ]]
}

@test "create-fleet: attribute-based types over subnets, tags at launch, processes" {
	need_aws
	ud=$(printf '#!/bin/sh\nenv | sort > env.txt\necho ready\nsleep 1\nshutdown -h now\nsleep 30\n' | base64 -w0)
	aws ec2 create-launch-template --launch-template-name pool-fleet \
		--launch-template-data "{\"ImageId\":\"ami-0a1b2c3d4e5f60001\",\"UserData\":\"$ud\",\"InstanceInitiatedShutdownBehavior\":\"terminate\"}" >/dev/null
	cat >"$BATS_TEST_TMPDIR/fleet.json" <<-'EOF'
	{"Type":"instant",
	 "LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"LaunchTemplateName":"pool-fleet","Version":"$Latest"},
	   "Overrides":[
	     {"SubnetId":"subnet-0a1b2c3d4e5f60001","InstanceRequirements":{"VCpuCount":{"Min":4,"Max":4},"MemoryMiB":{"Min":16384},"AllowedInstanceTypes":["m6i.*","r6i.*"]}},
	     {"SubnetId":"subnet-0a1b2c3d4e5f60003","InstanceRequirements":{"VCpuCount":{"Min":4,"Max":4},"MemoryMiB":{"Min":16384},"AllowedInstanceTypes":["m6i.*","r6i.*"]}}]}],
	 "TargetCapacitySpecification":{"TotalTargetCapacity":4,"DefaultTargetCapacityType":"spot"},
	 "SpotOptions":{"AllocationStrategy":"price-capacity-optimized"},
	 "TagSpecifications":[{"ResourceType":"instance","Tags":[{"Key":"runner-pool:pool","Value":"acme/fleet"},{"Key":"runner-pool:state","Value":"created"}]}]}
	EOF
	run -0 aws ec2 create-fleet --cli-input-json "file://$BATS_TEST_TMPDIR/fleet.json"
	[ "$(jq '[.Instances[].InstanceIds[]] | length' <<<"$output")" -eq 4 ]
	[ "$(jq -r '[.Instances[].InstanceType] | unique | join(",")' <<<"$output")" = m6i.xlarge ]
	[ "$(jq -r '[.Instances[].LaunchTemplateAndOverrides.Overrides.SubnetId] | unique | length' <<<"$output")" -eq 2 ]
	[ "$(jq '.Errors | length' <<<"$output")" -eq 0 ]
	id=$(jq -r '.Instances[0].InstanceIds[0]' <<<"$output")
	run -0 aws ec2 describe-instances --filters Name=tag:runner-pool:pool,Values=acme/fleet \
		--query 'Reservations[].Instances[].[InstanceLifecycle,Tags[?Key==`runner-pool:state`]|[0].Value]' --output text
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[0]}" = "spot	created" ]
	# the user data ran with exactly the contract's environment
	dir="$CLOUD_DIR/instances/$id"
	for _ in $(seq 50); do [ -s "$dir/env.txt" ] && break; sleep 0.1; done
	run -0 cut -d= -f1 "$dir/env.txt"
	[[ "${lines[*]}" == "AWS_EC2_METADATA_SERVICE_ENDPOINT AWS_ENDPOINT_URL AWS_ENDPOINT_URL_EC2 AWS_ENDPOINT_URL_SSM HOME PATH PWD RUNNER_POOL_ROOT RUNNER_POOL_USER_SUFFIX"* ]]
	# instance metadata on a port of its own
	imds=$(cloud_ctl GET /health | jq -r .imds_port)
	[ "$imds" != "$CLOUD_PORT" ]
	grep -qx "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$imds/_imds/$id" "$dir/env.txt"
	grep -qx "RUNNER_POOL_USER_SUFFIX=-${id: -8}" "$dir/env.txt"
	run -0 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$imds/api/v3/repos/acme/web"
	[ "$output" = 404 ]
	grep -qx "RUNNER_POOL_ROOT=$dir" "$dir/env.txt"
	# shutdown -h now + terminate-on-shutdown: the instance terminates
	for _ in $(seq 50); do
		state=$(cloud_ctl GET "/instances/$id" | jq -r .state)
		[ "$state" = terminated ] && break
		sleep 0.1
	done
	[ "$state" = terminated ]
	[ "$(cloud_ctl GET "/instances/$id" | jq -r .process.running)" = false ]
}

@test "create-fleet faults: capacity and partial" {
	need_aws
	aws ec2 create-launch-template --launch-template-name pool-f --launch-template-data '{"ImageId":"ami-0a1b2c3d4e5f60001","InstanceType":"c5.large"}' >/dev/null
	cloud_fault '{"service":"ec2","action":"CreateFleet","kind":"capacity","count":1}' \
		'{"service":"ec2","action":"CreateFleet","kind":"partial","launch":1,"count":1}'
	spec='{"Type":"instant","LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"LaunchTemplateName":"pool-f","Version":"$Default"}}],"TargetCapacitySpecification":{"TotalTargetCapacity":3,"DefaultTargetCapacityType":"spot"}}'
	run -0 aws ec2 create-fleet --cli-input-json "$spec"
	[ "$(jq '.Instances | length' <<<"$output")" -eq 0 ]
	[ "$(jq -r '.Errors[0].ErrorCode' <<<"$output")" = InsufficientInstanceCapacity ]
	run -0 aws ec2 create-fleet --cli-input-json "$spec"
	[ "$(jq '[.Instances[].InstanceIds[]] | length' <<<"$output")" -eq 1 ]
	[ "$(jq -r '.Errors[0].ErrorCode' <<<"$output")" = InsufficientInstanceCapacity ]
	run -0 aws ec2 create-fleet --cli-input-json "$spec"
	[ "$(jq '[.Instances[].InstanceIds[]] | length' <<<"$output")" -eq 3 ]
}


# EC2's answers on architectures, as AWS documents and users report them:
# DescribeImages https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html
#   (an unknown well-formed id: InvalidAMIID.NotFound "The image id '[ami-...]'
#   does not exist", e.g. https://github.com/n8n-io/n8n-benchmarking/issues/5);
# attribute-based fleets pick only types of the launch template AMI's
#   architecture: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-fleet-attribute-based-instance-type-selection.html
#   ("two launch templates ... useful for arm and x86 architecture support in
#   the same fleet"), https://github.com/runs-on/runs-on/issues/295;
# an explicit type of the other architecture: InvalidParameterValue "The
#   architecture 'x86_64' of the specified instance type does not match the
#   architecture 'arm64' of the specified AMI. ..."
#   (https://github.com/c6fc/warcannon/issues/19, a fleet's error).
@test "describe-images: architectures, filters, malformed and unknown ids" {
	run -0 aws ec2 describe-images --image-ids ami-0a1b2c3d4e5f60001 ami-0a1b2c3d4e5f60003 \
		--query 'Images[].[ImageId,Architecture,State,RootDeviceType,VirtualizationType]' --output text
	[ "${lines[0]}" = "ami-0a1b2c3d4e5f60001	x86_64	available	ebs	hvm" ]
	[ "${lines[1]}" = "ami-0a1b2c3d4e5f60003	arm64	available	ebs	hvm" ]
	run -0 aws ec2 describe-images --owners amazon --filters Name=architecture,Values=arm64 \
		--query 'Images[].ImageId' --output text
	[ "$output" = "ami-0a1b2c3d4e5f60003	ami-0a1b2c3d4e5f60004" ]
	AWS_MAX_ATTEMPTS=1 run -"$E" aws ec2 describe-images --image-ids ami-0123456789abcdef0
	[[ $output == *"InvalidAMIID.NotFound"*"The image id '[ami-0123456789abcdef0]' does not exist"* ]]
	run -"$E" aws ec2 describe-images --image-ids ami-xyz
	[[ $output == *InvalidAMIID.Malformed* ]]
	# an image registered through the control API exists from then on
	cloud_ctl POST /images '{"image_id":"ami-0123456789abcdef0","architecture":"arm64","name":"custom"}' >/dev/null
	run -0 aws ec2 describe-images --image-ids ami-0123456789abcdef0 --query 'Images[0].[Architecture,Name]' --output text
	[ "$output" = "arm64	custom" ]
	run -0 aws ec2 describe-instance-types --instance-types c7g.large m7i.large \
		--query 'InstanceTypes[].[InstanceType,ProcessorInfo.SupportedArchitectures[0],VCpuInfo.DefaultVCpus,MemoryInfo.SizeInMiB]' --output text
	[ "${lines[0]}" = "c7g.large	arm64	2	4096" ]
	[ "${lines[1]}" = "m7i.large	x86_64	2	8192" ]
}

@test "create-fleet: types of the AMI's architecture only; another one is EC2's error" {
	aws ec2 create-launch-template --launch-template-name pool-arm \
		--launch-template-data '{"ImageId":"ami-0a1b2c3d4e5f60003"}' >/dev/null
	req='"InstanceRequirements":{"VCpuCount":{"Min":2,"Max":2},"MemoryMiB":{"Min":4096},"AllowedInstanceTypes":["c*","m*","r*"]}'
	run -0 aws ec2 get-instance-types-from-instance-requirements --architecture-types arm64 \
		--virtualization-types hvm --cli-input-json "{$req}" --query 'InstanceTypes[].InstanceType' --output text
	[ "$output" = "c6g.large	c7g.large	m6g.large	m7g.large	r6g.large	r7g.large" ]
	spec='{"Type":"instant","LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"LaunchTemplateName":"pool-arm","Version":"$Default"},"Overrides":[{"SubnetId":"subnet-0a1b2c3d4e5f60001",'"$req"'}]}],"TargetCapacitySpecification":{"TotalTargetCapacity":2,"DefaultTargetCapacityType":"on-demand"}}'
	run -0 aws ec2 create-fleet --cli-input-json "$spec"
	[ "$(jq -r '[.Instances[].InstanceType] | unique | join(",")' <<<"$output")" = c6g.large ]
	run -0 aws ec2 describe-instances --query 'Reservations[].Instances[].Architecture' --output text
	[ "$output" = "arm64	arm64" ]
	# an explicit type of the other architecture: EC2's error, nothing launched
	spec='{"Type":"instant","LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"LaunchTemplateName":"pool-arm","Version":"$Default"},"Overrides":[{"SubnetId":"subnet-0a1b2c3d4e5f60001","InstanceType":"c5.large"}]}],"TargetCapacitySpecification":{"TotalTargetCapacity":1,"DefaultTargetCapacityType":"spot"}}'
	run -0 aws ec2 create-fleet --cli-input-json "$spec"
	[ "$(jq '.Instances | length' <<<"$output")" -eq 0 ]
	[ "$(jq -r '.Errors[0].ErrorCode' <<<"$output")" = InvalidParameterValue ]
	[[ "$(jq -r '.Errors[0].ErrorMessage' <<<"$output")" == "The architecture 'x86_64' of the specified instance type does not match the architecture 'arm64' of the specified AMI."* ]]
	# a template whose AMI does not exist launches nothing
	aws ec2 create-launch-template --launch-template-name pool-gone \
		--launch-template-data '{"ImageId":"ami-0123456789abcdef0"}' >/dev/null
	run -0 aws ec2 create-fleet --cli-input-json "${spec//pool-arm/pool-gone}"
	[ "$(jq -r '.Errors[0].ErrorCode' <<<"$output")" = InvalidAMIID.NotFound ]
	[ "$(cloud_ctl GET /instances | jq '.instances | length')" -eq 2 ]
}
@test "instances: uname says the instance type's architecture, the rest is the host's" {
	ud=$(printf '#!/bin/sh\n{ uname -m; uname --machine; uname -sm; uname -s; command -v uname; } >uname.txt\n' | base64 -w0)
	for ami in ami-0a1b2c3d4e5f60003 ami-0a1b2c3d4e5f60001; do
		aws ec2 create-launch-template --launch-template-name "u-$ami" \
			--launch-template-data "{\"ImageId\":\"$ami\",\"UserData\":\"$ud\"}" >/dev/null
		run -0 aws ec2 create-fleet --cli-input-json '{"Type":"instant","LaunchTemplateConfigs":[{"LaunchTemplateSpecification":{"LaunchTemplateName":"u-'"$ami"'","Version":"$Default"},"Overrides":[{"InstanceRequirements":{"VCpuCount":{"Min":2},"MemoryMiB":{"Min":4096}}}]}],"TargetCapacitySpecification":{"TotalTargetCapacity":1,"DefaultTargetCapacityType":"on-demand"}}'
		id=$(jq -r '.Instances[0].InstanceIds[0]' <<<"$output")
		f="$CLOUD_DIR/instances/$id/uname.txt"
		for _ in $(seq 50); do [ -s "$f" ] && [ "$(wc -l <"$f")" -eq 5 ] && break; sleep 0.1; done
		mapfile -t u <"$f"
		if [ "$ami" = ami-0a1b2c3d4e5f60003 ]; then m=aarch64; else m=x86_64; fi
		[ "${u[0]}" = "$m" ] && [ "${u[1]}" = "$m" ]
		[ "${u[2]}" = "$(uname -s) $m" ]
		[ "${u[3]}" = "$(uname -s)" ]
		[[ "${u[4]}" == "$CLOUD_DIR"/stubs/*/uname ]]
	done
}

@test "terminate-instances: states, and terminated instances stay visible" {
	need_aws
	cloud_ctl POST /settings '{"shutdown_ms":300}' >/dev/null
	mapfile -t ids < <(cloud_seed 2)
	run -0 aws ec2 terminate-instances --instance-ids "${ids[@]}" \
		--query 'TerminatingInstances[].[PreviousState.Name,CurrentState.Name,CurrentState.Code]' --output text
	[ "${lines[0]}" = "running	shutting-down	32" ]
	sleep 0.5
	run -0 aws ec2 describe-instances --filters Name=instance-state-name,Values=terminated \
		--query 'length(Reservations[].Instances[])'
	[ "$output" = 2 ]
	run -0 aws ec2 terminate-instances --instance-ids "${ids[0]}" --query 'TerminatingInstances[0].CurrentState.Name' --output text
	[ "$output" = terminated ]
}

@test "ssm: SecureString, versions, overwrite, never a value in the calls log" {
	need_aws
	run -0 aws ssm put-parameter --name /runner-pool/acme/regtoken --type SecureString --value s3cr3t-token-value
	[ "$(jq .Version <<<"$output")" -eq 1 ]
	run -"$E" aws ssm put-parameter --name /runner-pool/acme/regtoken --type SecureString --value other
	[[ $output == *ParameterAlreadyExists* ]]
	run -0 aws ssm put-parameter --name /runner-pool/acme/regtoken --type SecureString --value s3cr3t-token-value2 --overwrite
	[ "$(jq .Version <<<"$output")" -eq 2 ]
	run -0 aws ssm get-parameter --name /runner-pool/acme/regtoken --with-decryption
	[ "$(jq -r .Parameter.Value <<<"$output")" = s3cr3t-token-value2 ]
	[ "$(jq -r .Parameter.Type <<<"$output")" = SecureString ]
	# timestamps: ISO 8601 strings from AWS CLI v2, epoch seconds as sent from v1
	ts=string
	[ "$E" = 254 ] || ts=number
	[ "$(jq -r '.Parameter.LastModifiedDate | type' <<<"$output")" = "$ts" ]
	run -0 aws ssm get-parameter --name /runner-pool/acme/regtoken
	[[ $(jq -r .Parameter.Value <<<"$output") != *s3cr3t* ]]
	run -0 aws ssm get-parameters --names /runner-pool/acme/regtoken /runner-pool/none --with-decryption
	[ "$(jq -r '.InvalidParameters[0]' <<<"$output")" = /runner-pool/none ]
	run -"$E" aws ssm get-parameter --name /runner-pool/none
	[[ $output == *ParameterNotFound* ]]
	run -"$E" aws ssm put-parameter --name 'bad name' --type String --value x
	[[ $output == *ValidationException* ]]
	run -0 aws ssm delete-parameter --name /runner-pool/acme/regtoken
	run -0 cloud_calls service=ssm
	[[ $output == *PutParameter* && $output == *'"mutating":true'* ]]
	[[ $output != *s3cr3t* ]]
	! grep -rq s3cr3t "$CLOUD_DIR/cloud.log"
}

@test "signatures: wrong secret, unknown key, missing signature" {
	need_aws
	AWS_SECRET_ACCESS_KEY=wrong run -"$E" aws ec2 describe-instances
	[[ $output == *SignatureDoesNotMatch* ]]
	AWS_SECRET_ACCESS_KEY=wrong run -"$E" aws ssm get-parameter --name /x
	[[ $output == *InvalidSignatureException* ]]
	AWS_ACCESS_KEY_ID=AKIDUNKNOWNKEY000000 run -"$E" aws ec2 describe-instances
	[[ $output == *AuthFailure* ]]
	AWS_ACCESS_KEY_ID=AKIDUNKNOWNKEY000000 run -"$E" aws ssm get-parameter --name /x
	[[ $output == *UnrecognizedClientException* ]]
	run -0 curl -sS -o /dev/null -w '%{http_code}' -d 'Action=DescribeInstances&Version=2016-11-15' "$CLOUD_URL/"
	[ "$output" = 401 ]
	run -0 cloud_calls service=ec2
	[[ ${lines[0]} == *'"status":403'*'"code":"SignatureDoesNotMatch"'* ]]
}

@test "throttling and resets are retried by the AWS CLI, visible in the calls log" {
	need_aws
	cloud_seed 2 >/dev/null
	cloud_fault '{"service":"ec2","action":"DescribeInstances","kind":"throttle","count":1}'
	run -0 aws ec2 describe-instances --query 'length(Reservations[].Instances[])'
	[ "$output" = 2 ]
	run -0 cloud_calls service=ec2
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} == *'"status":503'*'"code":"RequestLimitExceeded"'* ]]
	[[ ${lines[1]} == *'"status":200'* ]]
	cloud_ctl DELETE /calls >/dev/null
	cloud_fault '{"service":"ssm","action":"GetParameter","kind":"throttle","count":1}'
	aws ssm put-parameter --name /p --type String --value v >/dev/null
	run -0 aws ssm get-parameter --name /p --query Parameter.Value --output text
	[ "$output" = v ]
	run -0 cloud_calls service=ssm
	[[ $output == *'"code":"ThrottlingException"'* ]]
	cloud_ctl DELETE /calls >/dev/null
	cloud_fault '{"service":"ec2","action":"DescribeInstances","kind":"reset","count":1}' \
		'{"service":"ec2","action":"DescribeInstances","kind":"5xx","status":503,"count":1}'
	run -0 aws ec2 describe-instances --query 'length(Reservations[].Instances[])'
	[ "$output" = 2 ]
	run -0 cloud_calls service=ec2
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[0]} == *'"code":"reset"'* && ${lines[1]} == *'"code":"Unavailable"'* ]]
	# nothing here mutated anything
	run -0 jq -s 'map(select(.mutating)) | length' <<<"$output"
	[ "$output" = 0 ]
}

@test "request limits: each API its own bucket, SSM throttles parameter reads" {
	# AWS's buckets (tests/cloud/cloud.py): signed requests 16 at a time
	# from one process (burst.py): the CLI, or a tool per call, cannot
	# outrun a refill of 20 a second on a loaded machine
	cloud_ctl POST /settings '{"aws_limits":true}' >/dev/null
	burst() { "$PYTHON" "$REPO_ROOT/tests/cloud/burst.py" "$CLOUD_URL" "$@" | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' '; }
	# DescribeInstances: 100 at once (plus what refills meanwhile)
	run -0 burst 200 ec2:DescribeInstances Filter.1.Name=tag:p Filter.1.Value.1=x
	[[ $output == *"503="* ]]
	n=${output#200=}; n=${n%% *}
	[ "$n" -ge 100 ] && [ "$n" -lt 200 ]
	# another API has a bucket of its own: all of its tokens are there
	run -0 burst 60 ec2:DescribeImages
	[ "$output" = "200=60 " ]
	# asked with no filter and no pagination: a smaller bucket of its own,
	# 50 (the filtered one is empty now)
	run -0 burst 120 ec2:DescribeInstances
	[[ $output == *"503="* ]]
	n=${output#200=}; n=${n%% *}
	[ "$n" -ge 50 ] && [ "$n" -lt 100 ]
	run -0 jq -r 'select(.code == "RequestLimitExceeded") | .action' <<<"$(cloud_calls service=ec2)"
	[ "$(sort -u <<<"$output")" = DescribeInstances ]
	# SSM: GetParameters and GetParameter draw on one bucket of 40 a second
	run -0 burst 30 ssm:GetParameters Names=x
	[[ $output != *"400="* || $(cloud_calls service=ssm | grep -c ThrottlingException) -eq 0 ]]
	run -0 burst 150 ssm:GetParameter Name=/none
	run -0 jq -r 'select(.code == "ThrottlingException") | .action' <<<"$(cloud_calls service=ssm)"
	[ "$(sort -u <<<"$output")" = GetParameter ]
}

@test "imds: token, tags only when enabled, role credentials the cloud accepts" {
	need_aws
	id=$(cloud_seed 1 '{"metadata_tags":true,"iam_profile":"runner","tags":{"runner-pool:state":"idle"}}')
	plain=$(cloud_seed 1)
	b="$CLOUD_URL/_imds/$id/latest"
	run -0 curl -sS -o /dev/null -w '%{http_code}' -X PUT "$b/api/token"
	[ "$output" = 400 ]
	run -0 curl -sS -o /dev/null -w '%{http_code}' "$b/meta-data/instance-id"
	[ "$output" = 401 ]
	tok=$(curl -sS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$b/api/token")
	h="X-aws-ec2-metadata-token: $tok"
	[ "$(curl -sS -H "$h" "$b/meta-data/instance-id")" = "$id" ]
	[ "$(curl -sS -H "$h" "$b/meta-data/tags/instance/runner-pool:state")" = idle ]
	[ "$(curl -sS -H "$h" "$b/meta-data/placement/region")" = us-east-1 ]
	run -0 curl -sS -o /dev/null -w '%{http_code}' -H "$h" "$b/meta-data/spot/instance-action"
	[ "$output" = 404 ]
	# another instance's token is not valid here; tags are off without the option
	b2="$CLOUD_URL/_imds/$plain/latest"
	run -0 curl -sS -o /dev/null -w '%{http_code}' -H "$h" "$b2/meta-data/instance-id"
	[ "$output" = 401 ]
	tok2=$(curl -sS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$b2/api/token")
	run -0 curl -sS -o /dev/null -w '%{http_code}' -H "X-aws-ec2-metadata-token: $tok2" "$b2/meta-data/tags/instance"
	[ "$output" = 404 ]
	# role credentials sign EC2 calls, with their session token
	creds=$(curl -sS -H "$h" "$b/meta-data/iam/security-credentials/runner")
	[[ $(jq -r .AccessKeyId <<<"$creds") == ASIA* ]]
	AWS_ACCESS_KEY_ID=$(jq -r .AccessKeyId <<<"$creds") \
		AWS_SECRET_ACCESS_KEY=$(jq -r .SecretAccessKey <<<"$creds") \
		AWS_SESSION_TOKEN=$(jq -r .Token <<<"$creds") \
		run -0 aws ec2 create-tags --resources "$id" --tags Key=runner-pool:state,Value=claimed
	# metadata shows the write md_tags_ms (300) later
	for i in $(seq 1 20); do
		[ "$(curl -sS -H "$h" "$b/meta-data/tags/instance/runner-pool:state")" = claimed ] && break
		sleep 0.25
	done
	[ "$(curl -sS -H "$h" "$b/meta-data/tags/instance/runner-pool:state")" = claimed ]
	# ... and not at once: with 3 s, a write is still unseen right after
	cloud_ctl POST /settings '{"md_tags_ms":3000}' >/dev/null
	cloud_ctl POST "/instances/$id/tags" '{"runner-pool:state":"running"}' >/dev/null
	[ "$(curl -sS -H "$h" "$b/meta-data/tags/instance/runner-pool:state")" = claimed ]
	for i in $(seq 1 40); do
		[ "$(curl -sS -H "$h" "$b/meta-data/tags/instance/runner-pool:state")" = running ] && break
		sleep 0.25
	done
	[ "$(curl -sS -H "$h" "$b/meta-data/tags/instance/runner-pool:state")" = running ]
	cloud_ctl POST /settings '{"md_tags_ms":300}' >/dev/null
	AWS_ACCESS_KEY_ID=$(jq -r .AccessKeyId <<<"$creds") \
		AWS_SECRET_ACCESS_KEY=$(jq -r .SecretAccessKey <<<"$creds") \
		run -"$E" aws ec2 describe-instances
	[[ $output == *AuthFailure* ]]
	cloud_ctl POST "/instances/$id/spot-interrupt" '{"after_ms":-1}' >/dev/null
	run -0 curl -sS -H "$h" "$b/meta-data/spot/instance-action"
	[ "$(jq -r .action <<<"$output")" = terminate ]
	# the host pseudo instance: region and credentials, no tags
	ht=$(curl -sS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$AWS_EC2_METADATA_SERVICE_ENDPOINT/latest/api/token")
	[ "$(curl -sS -H "X-aws-ec2-metadata-token: $ht" "$AWS_EC2_METADATA_SERVICE_ENDPOINT/latest/meta-data/iam/security-credentials/")" = localcloud-host-role ]
}

@test "dry-run, the IAM switch, subnets and security groups as the AWS CLI reads them" {
	need_aws
	id=$(cloud_seed 1)
	run -$E --separate-stderr aws ec2 terminate-instances --instance-ids "$id" --dry-run
	[[ "$stderr" == *"(DryRunOperation) when calling the TerminateInstances operation: Request would have succeeded, but DryRun flag is set."* ]]
	cloud_ctl POST /settings '{"denied_actions":["ec2:TerminateInstances"]}' >/dev/null
	run -$E --separate-stderr aws ec2 terminate-instances --instance-ids "$id" --dry-run
	[[ "$stderr" == *"(UnauthorizedOperation) when calling the TerminateInstances operation: You are not authorized to perform this operation. Encoded authorization failure message: "* ]]
	[ "$(cloud_ctl GET "/instances/$id" | jq -r .state)" = running ]
	run -0 aws ec2 describe-subnets --subnet-ids subnet-0a1b2c3d4e5f60003
	jq -e '.Subnets[0] | .VpcId == "vpc-0a1b2c3d4e5f60718" and .AvailabilityZone == "us-east-1c" and .AvailableIpAddressCount == 16379 and .CidrBlock == "10.0.128.0/18"' <<<"$output"
	run -0 aws ec2 describe-security-groups --group-ids sg-0a1b2c3d4e5f60001
	jq -e '.SecurityGroups[0] | .VpcId == "vpc-0a1b2c3d4e5f60718" and .GroupName == "default"' <<<"$output"
	run -0 aws ec2 describe-instance-type-offerings --location-type availability-zone \
		--filters Name=instance-type,Values=m7g.large Name=location,Values=us-east-1a,us-east-1b
	jq -e '[.InstanceTypeOfferings[].Location] == ["us-east-1a", "us-east-1b"]' <<<"$output"
}

@test "describe-instances over 5000 instances: pages of 1000 in under 1 s of CPU each" {
	need_aws
	cloud_seed 5000 '{"tags":{"runner-pool:pool":"acme/bench","runner-pool:state":"idle","runner-pool:deadline":"1900000000","runner-pool:class":"c4m8"}}' >/dev/null
	: >"$BATS_TEST_TMPDIR/log.before"
	lines_before=$(wc -l <"$CLOUD_DIR/cloud.log")
	run -0 aws ec2 describe-instances --page-size 1000 --filters Name=tag:runner-pool:pool,Values=acme/bench \
		--query 'length(Reservations[].Instances[])'
	[ "$output" = 5000 ]
	# the cloud logs each request's time and the CPU its thread spent: the
	# CPU, which other test files running beside this one do not inflate
	run -0 awk -v from="$lines_before" 'NR > from && / POST \/ 200 / { c = $NF; sub(/^cpu=/, "", c); sub(/ms$/, "", c); if (c + 0 > max) max = c + 0 } END { print max + 0 }' "$CLOUD_DIR/cloud.log"
	echo "most CPU for a page: ${output} ms" >&3
	# about 0.3 s on a quiet machine; 1 s still catches a reply that grows
	# worse than linearly
	[ "${output%.*}" -lt 1000 ]
}
