#!/usr/bin/env bats
# pool-check (mode: check): a pool's whole setup verified with read-only
# calls and EC2's DryRun, one row per check, against the local cloud.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	cloud_start "$BATS_FILE_TMPDIR/cloud"
}

teardown_file() {
	cloud_stop
}

setup() {
	cloud_ctl POST /reset >/dev/null
}

# ec2 ACTION [PARAM=VALUE...]: one signed EC2 Query call with curl's SigV4;
# the body on stdout, the HTTP status in $BATS_TEST_TMPDIR/status
ec2() {
	local a=$1 d="Action=$1&Version=2016-11-15" kv
	shift
	for kv in "$@"; do d="$d&$kv"; done
	curl -sS -o /dev/stdout -w '%{stderr}%{http_code}' \
		--aws-sigv4 aws:amz:us-east-1:ec2 \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-H 'Content-Type: application/x-www-form-urlencoded' \
		--data "$d" "$AWS_ENDPOINT_URL_EC2/" 2>"$BATS_TEST_TMPDIR/status"
}

@test "cloud: EC2 answers DryRun with DryRunOperation (412), or UnauthorizedOperation (403) for a denied action, changing nothing" {
	id=$(cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web"}}')
	run -0 ec2 TerminateInstances InstanceId.1="$id" DryRun=true
	[ "$(cat "$BATS_TEST_TMPDIR/status")" = 412 ]
	[[ "$output" == *"<Code>DryRunOperation</Code><Message>Request would have succeeded, but DryRun flag is set.</Message>"* ]]
	cloud_ctl POST /settings '{"denied_actions":["ec2:TerminateInstances"]}' >/dev/null
	run -0 ec2 TerminateInstances InstanceId.1="$id" DryRun=true
	[ "$(cat "$BATS_TEST_TMPDIR/status")" = 403 ]
	[[ "$output" == *"<Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation. Encoded authorization failure message: "* ]]
	# the encoded message does not name the action in clear, as EC2's
	[[ "$output" != *TerminateInstances* ]]
	run -0 ec2 TerminateInstances InstanceId.1="$id"
	[ "$(cat "$BATS_TEST_TMPDIR/status")" = 403 ]
	run -0 ec2 CreateTags ResourceId.1="$id" Tag.1.Key=a Tag.1.Value=b DryRun=true
	[ "$(cat "$BATS_TEST_TMPDIR/status")" = 412 ]
	# a DryRun still checks the resources: a missing instance is NotFound
	run -0 ec2 CreateTags ResourceId.1=i-00000000000000000 Tag.1.Key=a Tag.1.Value=b DryRun=true
	[[ "$output" == *"<Code>InvalidInstanceID.NotFound</Code>"* ]]
	run -0 cloud_ctl GET "/instances/$id"
	jq -e '.state == "running" and (.tags | has("a") | not)' <<<"$output"
	run -0 cloud_mutating_calls
	[ -z "$output" ]
	[ "$(cloud_calls service=ec2 | jq -s 'map(select(.dry_run)) | length')" -eq 4 ]
}

@test "cloud: a denied SSM action is AccessDeniedException naming the action and parameter" {
	cloud_ctl POST /settings '{"denied_actions":["ssm:Get*"]}' >/dev/null
	run -100 --separate-stderr pool-param get /runner-pool/acme/web/config
	[[ "$stderr" == *"AccessDeniedException: User: arn:aws:iam::123456789012:user/local is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:123456789012:parameter/runner-pool/acme/web/config"* ]]
	echo x | pool-param put /runner-pool/acme/web/config >/dev/null
}

@test "cloud: DescribeSubnets, DescribeSecurityGroups and DescribeInstanceTypeOfferings in EC2's shapes" {
	cloud_ctl POST /subnets '{"subnet_id":"subnet-0bbbbbbbbbbbbbbb1","vpc_id":"vpc-0ffffffffffffffff","az":"us-east-1e","available":3}' >/dev/null
	run -0 ec2 DescribeSubnets SubnetId.1=subnet-0a1b2c3d4e5f60002 SubnetId.2=subnet-0bbbbbbbbbbbbbbb1
	[[ "$output" == *"<subnetId>subnet-0a1b2c3d4e5f60002</subnetId>"*"<vpcId>vpc-0a1b2c3d4e5f60718</vpcId>"*"<availableIpAddressCount>16379</availableIpAddressCount><availabilityZone>us-east-1b</availabilityZone>"* ]]
	[[ "$output" == *"<vpcId>vpc-0ffffffffffffffff</vpcId>"*"<availableIpAddressCount>3</availableIpAddressCount><availabilityZone>us-east-1e</availabilityZone>"* ]]
	run -0 ec2 DescribeSubnets SubnetId.1=subnet-0cccccccccccccccc
	[ "$(cat "$BATS_TEST_TMPDIR/status")" = 400 ]
	[[ "$output" == *"<Code>InvalidSubnetID.NotFound</Code><Message>The subnet ID 'subnet-0cccccccccccccccc' does not exist</Message>"* ]]
	run -0 ec2 DescribeSecurityGroups GroupId.1=sg-0a1b2c3d4e5f60001
	[[ "$output" == *"<securityGroupInfo><item><ownerId>123456789012</ownerId><groupId>sg-0a1b2c3d4e5f60001</groupId>"*"<vpcId>vpc-0a1b2c3d4e5f60718</vpcId>"* ]]
	run -0 ec2 DescribeSecurityGroups GroupId.1=sg-0cccccccccccccccc
	[[ "$output" == *"<Code>InvalidGroup.NotFound</Code>"* ]]
	cloud_ctl POST /settings '{"unoffered":["c7g.*@us-east-1d"]}' >/dev/null
	run -0 ec2 DescribeInstanceTypeOfferings LocationType=availability-zone \
		Filter.1.Name=instance-type Filter.1.Value.1=c7g.large Filter.1.Value.2=c5.large
	[[ "$output" == *"<item><instanceType>c5.large</instanceType><locationType>availability-zone</locationType><location>us-east-1a</location></item>"* ]]
	[[ "$output" == *"<location>us-east-1d</location>"* ]]
	n=$(grep -o '<item>' <<<"$output" | wc -l)
	[ "$n" -eq 11 ]   # c5.large in a-f, c7g.large in a-c, e, f
	[[ "$output" != *"<instanceType>c7g.large</instanceType><locationType>availability-zone</locationType><location>us-east-1d</location>"* ]]
}

# --- pool-check ----------------------------------------------------------------

SG=sg-0a1b2c3d4e5f60001
S1=subnet-0a1b2c3d4e5f60001
S2=subnet-0a1b2c3d4e5f60002
AMI=ami-0a1b2c3d4e5f60001

# a pool as refresh leaves it: its launch template, a GitHub repo and token
pool_setup() {
	cloud_ctl POST /github/repos '{"repos":["acme/web"]}' >/dev/null
	cloud_ctl POST /github/tokens '{"tokens":[
		{"token":"ghp_checkRepo0000000000000000000000","scopes":["repo"]}]}' >/dev/null
	printf '%s\n' ghp_checkRepo0000000000000000000000 >"$BATS_TEST_TMPDIR/token"
	printf '#!/bin/sh\necho hi\n' >"$BATS_TEST_TMPDIR/ud"
	pool-template --pool acme/web --ami "$AMI" --instance-profile runner-role \
		--security-group "$SG" --user-data "$BATS_TEST_TMPDIR/ud" >/dev/null
	cloud_ctl DELETE /calls >/dev/null
}

# check [OPTION...]: pool-check with the pool's inputs
check() {
	pool-check --pool acme/web --ami "$AMI" --instance-profile runner-role \
		--security-group "$SG" --subnet "$S1 $S2" --scope acme/web \
		--token-file "$BATS_TEST_TMPDIR/token" "$@"
}

# row CHECK: the status of that row; detail CHECK: what it says
row() {
	jq -r --arg c "$1" 'select(.check == $c) | .status' <<<"$output"
}
detail() {
	jq -r --arg c "$1" 'select(.check == $c) | .detail' <<<"$output"
}

@test "pool-check: a pool set up right is all ok, and nothing is changed" {
	pool_setup
	id=$(cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle"}}')
	cloud_ctl DELETE /calls >/dev/null
	run -0 --separate-stderr check
	# every row is JSON; none failed or warned
	jq -e . <<<"$output" >/dev/null
	[ "$(jq -s 'map(select(.status == "fail" or .status == "warn")) | length' <<<"$output")" -eq 0 ]
	for c in credentials ssm:GetParameter "ssm:GetParameter regtoken" launch-template \
		metadata-tags ec2:DescribeInstances security-groups "subnet $S1" "subnet $S2" \
		ec2:CreateLaunchTemplateVersion ec2:ModifyLaunchTemplate ec2:CreateFleet \
		ec2:CreateTags ec2:DeleteTags ec2:TerminateInstances "image $AMI" \
		"instance-types default" github-token; do
		[ "$(row "$c")" = ok ] || { echo "row $c: $(row "$c")"; false; }
	done
	[ "$(row ssm:PutParameter)" = skip ]
	[ "$(row instance-profile)" = skip ]
	[ "$(row runner-group)" = skip ]
	[ "$(detail credentials)" = 'environment credentials (AWS_ACCESS_KEY_ID); region us-east-1 (from $AWS_REGION)' ]
	[[ "$(detail "image $AMI")" == *"x86_64, available, root ebs /dev/xvda" ]]
	[ "$(detail "subnet $S1")" = "us-east-1a, vpc-0a1b2c3d4e5f60718, 16378 free addresses" ]
	[[ "$(detail "instance-types default")" =~ ^[0-9]+\ types\ \(c5\..*x86_64\;\ offered\ in\ us-east-1a\ [0-9]+,\ us-east-1b\ [0-9]+$ ]]
	[ "$(detail ec2:TerminateInstances)" = "allowed (DryRun) on $id" ]
	# the table on stderr
	[[ "$stderr" == *"pool-check: pool acme/web in us-east-1"* ]]
	[[ "$stderr" == *"  ok    ec2:CreateFleet "*"allowed (DryRun) on runner-pool/acme/web in 2 subnets"* ]]
	[[ "$stderr" == *"pool-check: "*" ok, 0 warn, 0 fail, "*" skipped"* ]]
	# no AWS call changed anything; the EC2 writes were all DryRuns; the
	# one GitHub write made a registration token (it expires in an hour)
	run -0 cloud_mutating_calls
	[ "$(jq -rs 'map("\(.service) \(.action)") | join(",")' <<<"$output")" = "github actions/create-registration-token-for-repo" ]
	run -0 cloud_calls service=ec2
	[ "$(jq -s '[.[] | select(.dry_run)] | map(.action) | sort | join(" ")' <<<"$output")" = '"CreateFleet CreateLaunchTemplateVersion CreateTags DeleteTags ModifyLaunchTemplate TerminateInstances"' ]
	[ "$(cloud_ctl GET "/instances/$id" | jq -r '.state + " " + .tags["runner-pool:state"]')" = "running idle" ]
}
