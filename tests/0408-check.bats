#!/usr/bin/env bats
# pool-check (mode: check): a pool's whole setup verified with read-only
# calls and EC2's DryRun, one row per check, against the local cloud.

load helpers
bats_require_minimum_version 1.5.0

load cloud-file
setup() {
	cloud_reset
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
	# compact replies: the patterns below read elements side by side
	cloud_ctl POST /settings '{"xml_indent":0}' >/dev/null
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
	[[ "$stderr" == *"  ok    ec2:CreateFleet "*"allowed (DryRun) on runner-pool/acme/web in 2 subnets, spot"* ]]
	[[ "$stderr" == *"pool-check: "*" ok, 0 warn, 0 fail, "*" skipped"* ]]
	# no AWS call changed anything; the EC2 writes were all DryRuns; the
	# one GitHub write made a registration token (it expires in an hour)
	run -0 cloud_mutating_calls
	[ "$(jq -rs 'map("\(.service) \(.action)") | join(",")' <<<"$output")" = "github actions/create-registration-token-for-repo" ]
	run -0 cloud_calls service=ec2
	[ "$(jq -s '[.[] | select(.dry_run)] | map(.action) | sort | join(" ")' <<<"$output")" = '"CreateFleet CreateLaunchTemplateVersion CreateTags DeleteTags ModifyLaunchTemplate TerminateInstances"' ]
	[ "$(cloud_ctl GET "/instances/$id" | jq -r '.state + " " + .tags["runner-pool:state"]')" = "running idle" ]
	# the fleet asked as provision asks: the template, one override per
	# subnet with the class's requirements, spot
	jq -se --arg s1 "$S1" --arg s2 "$S2" 'map(select(.action == "CreateFleet"))[0].params |
		.DryRun == "true" and .Type == "instant" and
		.["LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateName"] == "runner-pool/acme/web" and
		.["LaunchTemplateConfigs.1.Overrides.1.SubnetId"] == $s1 and
		.["LaunchTemplateConfigs.1.Overrides.2.SubnetId"] == $s2 and
		.["LaunchTemplateConfigs.1.Overrides.2.InstanceRequirements.VCpuCount.Min"] == "2" and
		.["LaunchTemplateConfigs.1.Overrides.2.InstanceRequirements.MemoryMiB.Min"] == "4096" and
		.["TargetCapacitySpecification.DefaultTargetCapacityType"] == "spot"' <<<"$output"
}

@test "pool-check: a withheld EC2 permission is named, and the check exits 1" {
	pool_setup
	cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle"}}' >/dev/null
	cloud_ctl POST /settings '{"denied_actions":["ec2:CreateFleet","ec2:TerminateInstances"]}' >/dev/null
	run -1 --separate-stderr check
	[ "$(row ec2:CreateFleet)" = fail ]
	[ "$(row ec2:TerminateInstances)" = fail ]
	[ "$(detail ec2:CreateFleet)" = "not allowed: ec2:CreateFleet on runner-pool/acme/web in 2 subnets, spot (UnauthorizedOperation)" ]
	[[ "$(jq -r 'select(.check == "ec2:CreateFleet") | .fix' <<<"$output")" == "allow ec2:CreateFleet "* ]]
	# the others still pass
	[ "$(row ec2:CreateTags)" = ok ]
	[ "$(row "image $AMI")" = ok ]
	[[ "$stderr" == *"  FAIL  ec2:CreateFleet "*"fix: allow ec2:CreateFleet to these credentials"* ]]
	[[ "$stderr" == *" 2 fail, "* ]]
	run -0 cloud_mutating_calls service=ec2
	[ -z "$output" ]
}

@test "pool-check: a withheld SSM read is named" {
	pool_setup
	cloud_ctl POST /settings '{"denied_actions":["ssm:GetParameter"]}' >/dev/null
	run -1 --separate-stderr check
	[ "$(row ssm:GetParameter)" = fail ]
	[[ "$(detail ssm:GetParameter)" == *"AccessDeniedException"*"not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:123456789012:parameter/runner-pool/acme/web/config"* ]]
	[ "$(row ec2:CreateFleet)" = ok ]
}

@test "pool-check: an AMI that does not exist fails its row, and the types cannot be chosen" {
	pool_setup
	run -1 --separate-stderr check --ami ami-0ffffffffffffffff
	[ "$(row image\ ami-0ffffffffffffffff)" = fail ]
	[ "$(detail image\ ami-0ffffffffffffffff)" = "ami: no such image in us-east-1 (InvalidAMIID.NotFound)" ]
	[ "$(row "instance-types default")" = skip ]
	# a class with its own (arm64) image selects Graviton types
	run -0 --separate-stderr check --classes '{"arm":{"cpu":2,"mmem":4096,"ami":"ami-0a1b2c3d4e5f60003"}}'
	[[ "$(detail "image ami-0a1b2c3d4e5f60003")" == "class arm: "*", arm64, available, root ebs /dev/xvda" ]]
	[[ "$(detail "instance-types arm")" == *"arm64; offered in"* ]]
	[[ "$(detail "instance-types arm")" == *"(c6g."* ]]
	# its own template, which refresh makes: a warning until then
	[ "$(row "launch-template arm")" = warn ]
	pool-template --pool acme/web --name runner-pool/acme/web/arm --ami ami-0a1b2c3d4e5f60003 \
		--instance-profile runner-role --security-group "$SG" --user-data "$BATS_TEST_TMPDIR/ud" >/dev/null
	run -0 --separate-stderr check --classes '{"arm":{"cpu":2,"mmem":4096,"ami":"ami-0a1b2c3d4e5f60003"}}'
	[ "$(row "launch-template arm")" = ok ]
	[ "$(detail "launch-template arm")" = "runner-pool/acme/web/arm: ami-0a1b2c3d4e5f60003, instance tags in metadata enabled, IMDSv2 required" ]
}

@test "pool-check: a subnet in another VPC than the security groups fails, a missing one is named" {
	pool_setup
	cloud_ctl POST /subnets '{"subnet_id":"subnet-0eeeeeeeeeeeeeee1","vpc_id":"vpc-0ffffffffffffffff"}' >/dev/null
	run -1 --separate-stderr check --subnet subnet-0eeeeeeeeeeeeeee1 --subnet subnet-0eeeeeeeeeeeeeee2
	[ "$(row "subnet $S1")" = ok ]
	[ "$(row subnet\ subnet-0eeeeeeeeeeeeeee1)" = fail ]
	[ "$(detail subnet\ subnet-0eeeeeeeeeeeeeee1)" = "in vpc-0ffffffffffffffff, the security groups in vpc-0a1b2c3d4e5f60718" ]
	[ "$(row subnet\ subnet-0eeeeeeeeeeeeeee2)" = fail ]
	[ "$(detail subnet\ subnet-0eeeeeeeeeeeeeee2)" = "no such subnet in us-east-1" ]
	# few free addresses warn, none fails
	cloud_ctl POST /subnets '{"subnet_id":"subnet-0eeeeeeeeeeeeeee3","available":3}' >/dev/null
	cloud_ctl POST /subnets '{"subnet_id":"subnet-0eeeeeeeeeeeeeee4","available":0}' >/dev/null
	run -1 --separate-stderr check --subnet subnet-0eeeeeeeeeeeeeee3 --subnet subnet-0eeeeeeeeeeeeeee4
	[ "$(row subnet\ subnet-0eeeeeeeeeeeeeee3)" = warn ]
	[ "$(row subnet\ subnet-0eeeeeeeeeeeeeee4)" = fail ]
}

@test "pool-check: runner-group: the organization's group, usable by the workflow's repository" {
	pool_setup
	cloud_ctl POST /github/repos '{"repos":["acme/api"],"orgs":["acme"]}' >/dev/null
	cloud_ctl POST /github/tokens '{"tokens":[
		{"token":"ghp_checkOrg00000000000000000000000","scopes":["repo","admin:org"]}]}' >/dev/null
	printf '%s\n' ghp_checkOrg00000000000000000000000 >"$BATS_TEST_TMPDIR/token"
	cloud_ctl POST /github/runner-groups '{"org":"acme","name":"Web builders","visibility":"selected","repositories":["web"]}' >/dev/null
	export GITHUB_REPOSITORY=acme/web
	run -0 --separate-stderr check --scope acme --runner-group "Web builders"
	[ "$(row runner-group)" = ok ]
	[[ "$(detail runner-group)" == *"may serve acme/web"* ]]
	# a repository the group does not serve, a group that is not there
	GITHUB_REPOSITORY=acme/api run -1 --separate-stderr check --scope acme --runner-group "Web builders"
	[ "$(row runner-group)" = fail ]
	[[ "$(detail runner-group)" == *"acme/api may not use it"* ]]
	run -1 --separate-stderr check --scope acme --runner-group "Mobile"
	[ "$(row runner-group)" = fail ]
	[[ "$(detail runner-group)" == *"no runner group 'Mobile'"* ]]
	# a repository scope has no runner groups
	run -1 --separate-stderr check --scope acme/web --runner-group "Web builders"
	[ "$(row runner-group)" = fail ]
	[ -z "$(cloud_mutating_calls service=ec2)" ]
}

@test "pool-check: a bad GitHub token fails its row, with the hint" {
	pool_setup
	printf '%s\n' ghp_notAToken000000000000000000000000 >"$BATS_TEST_TMPDIR/token"
	run -1 --separate-stderr check
	[ "$(row github-token)" = fail ]
	[[ "$(detail github-token)" == *401* ]]
	[[ "$output$stderr" != *ghp_notAToken* ]]
	[ "$(row ec2:CreateFleet)" = ok ]
}

@test "pool-check: a new pool (no template yet) warns and skips what needs it" {
	cloud_ctl POST /github/repos '{"repos":["acme/web"]}' >/dev/null
	cloud_ctl POST /github/tokens '{"tokens":[{"token":"ghp_checkRepo0000000000000000000000","scopes":["repo"]}]}' >/dev/null
	printf '%s\n' ghp_checkRepo0000000000000000000000 >"$BATS_TEST_TMPDIR/token"
	run -0 --separate-stderr check
	[ "$(row launch-template)" = warn ]
	[ "$(detail launch-template)" = "runner-pool/acme/web does not exist yet" ]
	[ "$(row ec2:CreateLaunchTemplate)" = ok ]
	[ "$(row ec2:CreateFleet)" = skip ]
	[ "$(row ec2:TerminateInstances)" = skip ]
	[ "$(row metadata-tags)" = skip ]
	run -0 cloud_mutating_calls service=ec2
	[ -z "$output" ]
	[ -z "$(cloud_ctl GET /templates | jq -r '.templates[]')" ]
}

@test "pool-check: a template without instance tags in metadata fails metadata-tags" {
	pool_setup
	cloud_ctl POST /settings '{}' >/dev/null
	tid=$(cloud_ctl GET /templates | jq -r '.templates[0].id')
	# a version made by hand, with tags off in metadata, made the default
	run -0 ec2 CreateLaunchTemplateVersion LaunchTemplateId="$tid" SourceVersion=1 \
		LaunchTemplateData.MetadataOptions.InstanceMetadataTags=disabled
	run -0 ec2 ModifyLaunchTemplate LaunchTemplateId="$tid" SetDefaultVersion=2
	run -1 --separate-stderr check
	[ "$(row metadata-tags)" = fail ]
	[[ "$(detail metadata-tags)" == "version 2: instance tags in metadata disabled"* ]]
}

@test "pool-check: no type matches the class, or an AZ offers none" {
	pool_setup
	run -1 --separate-stderr check --types 'x9*'
	[ "$(row "instance-types default")" = fail ]
	[[ "$(detail "instance-types default")" == *"no instance type matches" ]]
	cloud_ctl POST /settings '{"unoffered":["*@us-east-1b"]}' >/dev/null
	run -0 --separate-stderr check
	[ "$(row "instance-types default")" = warn ]
	[[ "$(detail "instance-types default")" == *"us-east-1a "*", us-east-1b 0; none in us-east-1b" ]]
}

@test "pool-check: the runner version row reads gh-runner-release's output" {
	pool_setup
	echo '{"version":"2.330.0","latest":"2.330.0","sha256":{},"warnings":[]}' >"$BATS_TEST_TMPDIR/rel"
	run -0 --separate-stderr check --runner-release "$BATS_TEST_TMPDIR/rel"
	[ "$(row runner-version)" = ok ]
	[ "$(detail runner-version)" = "v2.330.0 (newest v2.330.0)" ]
	echo '{"version":"2.320.0","latest":"2.330.0","sha256":{},"warnings":["2.320.0 is below 2.329.0"]}' >"$BATS_TEST_TMPDIR/rel"
	run -0 --separate-stderr check --runner-release "$BATS_TEST_TMPDIR/rel"
	[ "$(row runner-version)" = warn ]
	echo '{"error":"no release 9.9.9 of actions/runner"}' >"$BATS_TEST_TMPDIR/rel"
	run -1 --separate-stderr check --runner-release "$BATS_TEST_TMPDIR/rel"
	[ "$(detail runner-version)" = "no release 9.9.9 of actions/runner" ]
}

@test "pool-check: the table goes to the job summary; what is stored fills what is not given" {
	pool_setup
	jq -cn '{pool: "acme/web", subnets: ["subnet-0a1b2c3d4e5f60003"], classes: {default: {cpu: 4, mmem: 8192}},
		usage: "on-demand", allowed_types: "m*", github_scope: "acme/web"}' |
		pool-param put /runner-pool/acme/web/config >/dev/null
	export GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary
	run -0 --separate-stderr pool-check --pool acme/web --token-file "$BATS_TEST_TMPDIR/token"
	[ "$(row "subnet subnet-0a1b2c3d4e5f60003")" = ok ]
	[ "$(row "image $AMI")" = ok ]
	[ "$(row security-groups)" = ok ]
	[ "$(row github-token)" = ok ]
	[[ "$(detail "instance-types default")" =~ ^[0-9]+\ types\ \(m[0-9] ]]
	grep -q '^### runner-pool check: acme/web$' "$GITHUB_STEP_SUMMARY"
	grep -q '^| :white_check_mark: ok | `ec2:CreateFleet` | allowed (DryRun) on runner-pool/acme/web in 1 subnets, on-demand |  |$' "$GITHUB_STEP_SUMMARY"
}

@test "pool-check: bad input is one line and exit 100, before any call" {
	run -100 --separate-stderr pool-check --pool acme/web --subnet nope
	[[ "$stderr" == "pool-check: --subnet: "* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -100 --separate-stderr pool-check --pool acme/web --classes '{"big":{"cpu":0,"mmem":1}}'
	run -100 --separate-stderr pool-check --pool acme/web --token=secret
	[[ "$stderr" != *secret* ]]
	run -100 --separate-stderr pool-check --pool 'bad pool'
	# more patterns than EC2 takes: refused, never cut to 400
	run -100 --separate-stderr pool-check --pool acme/web \
		--types "$(printf 'c%d.* ' $(seq 401))"
	[[ "$stderr" == "pool-check: --types: at most 400 patterns"* ]]
	[ -z "$(cloud_calls)" ]
}

# --- mode: check ---------------------------------------------------------------

# mode [INPUT_X=Y...]: entrypoint.sh with refresh's inputs, mode check
mode() {
	env INPUT_MODE=check INPUT_POOL=acme/web INPUT_AMI="$AMI" \
		INPUT_IAM_INSTANCE_PROFILE=runner-role INPUT_SECURITY_GROUP_IDS="$SG" \
		"INPUT_SUBNET_IDS=$S1 $S2" INPUT_GITHUB_SCOPE=acme/web \
		INPUT_GITHUB_TOKEN=ghp_checkRepo0000000000000000000000 \
		"$@" "$REPO_ROOT/entrypoint.sh"
}

@test "mode check: the first step of a new pool; refresh then goes through, and check is all ok" {
	cloud_ctl POST /github/repos '{"repos":["acme/web"]}' >/dev/null
	cloud_ctl POST /github/tokens '{"tokens":[{"token":"ghp_checkRepo0000000000000000000000","scopes":["repo"]}]}' >/dev/null
	export GITHUB_OUTPUT=$BATS_TEST_TMPDIR/out GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary
	run -0 --separate-stderr mode
	[ "$(row launch-template)" = warn ]
	[ "$(row runner-version)" = ok ]
	[[ "$(detail runner-version)" =~ ^v[0-9]+\.[0-9]+\.[0-9]+\ \(newest\ v ]]
	[ "$(row github-token)" = ok ]
	[[ "$output$stderr" != *ghp_checkRepo* ]]
	grep -qx 'failed=0' "$GITHUB_OUTPUT"
	grep -q '^### runner-pool check: acme/web$' "$GITHUB_STEP_SUMMARY"
	# nothing changed in AWS; the token given never reached the log
	run -0 cloud_mutating_calls service=ec2
	[ -z "$output" ]
	run -0 cloud_mutating_calls service=ssm
	[ -z "$output" ]
	# refresh, then check again: the template's rows now pass
	env INPUT_MODE=refresh INPUT_POOL=acme/web INPUT_AMI="$AMI" \
		INPUT_IAM_INSTANCE_PROFILE=runner-role INPUT_SECURITY_GROUP_IDS="$SG" \
		"INPUT_SUBNET_IDS=$S1 $S2" INPUT_GITHUB_SCOPE=acme/web \
		INPUT_GITHUB_TOKEN=ghp_checkRepo0000000000000000000000 \
		"$REPO_ROOT/entrypoint.sh" >/dev/null 2>&1
	run -0 --separate-stderr mode
	[ "$(row launch-template)" = ok ]
	[ "$(row metadata-tags)" = ok ]
	[ "$(row ec2:CreateFleet)" = ok ]
	[ "$(jq -s 'map(select(.status == "fail" or .status == "warn")) | length' <<<"$output")" -eq 0 ]
}

@test "mode check: a withheld permission fails the step (exit 1), named in the table" {
	pool_setup
	cloud_ctl POST /settings '{"denied_actions":["ec2:CreateLaunchTemplateVersion"]}' >/dev/null
	export GITHUB_OUTPUT=$BATS_TEST_TMPDIR/out
	run -1 --separate-stderr mode
	[ "$(row ec2:CreateLaunchTemplateVersion)" = fail ]
	[[ "$stderr" == *"FAIL  ec2:CreateLaunchTemplateVersion"*"not allowed: ec2:CreateLaunchTemplateVersion"* ]]
	grep -qx 'failed=1' "$GITHUB_OUTPUT"
}

@test "mode check: bad inputs are refused as for refresh, before any call" {
	run -100 --separate-stderr mode INPUT_SUBNET_IDS=nope
	[[ "$stderr" == "ec2-runner-pool: input subnet-ids: "* ]]
	run -100 --separate-stderr mode INPUT_MODE=chek
	[ "$stderr" = "ec2-runner-pool: input mode: 'chek' is not provision, release, refresh or check" ]
	[ -z "$(cloud_calls)" ]
}

@test "pool-check: no AWS credentials fail the first row; GitHub is still checked" {
	cloud_ctl POST /github/repos '{"repos":["acme/web"]}' >/dev/null
	cloud_ctl POST /github/tokens '{"tokens":[{"token":"ghp_checkRepo0000000000000000000000","scopes":["repo"]}]}' >/dev/null
	printf '%s\n' ghp_checkRepo0000000000000000000000 >"$BATS_TEST_TMPDIR/token"
	run -1 --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
		AWS_CONFIG_FILE=/nonexistent "$REPO_ROOT/bin/pool-check" --pool acme/web \
		--scope acme/web --token-file "$BATS_TEST_TMPDIR/token"
	[ "$(row credentials)" = fail ]
	[ "$(row aws)" = skip ]
	[ "$(row github-token)" = ok ]
	[ -z "$(cloud_calls service=ec2)" ]
}
