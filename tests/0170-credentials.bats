#!/usr/bin/env bats
# The credential chain and region: environment, profile files,
# credential_process, instance role through IMDSv2.

load helpers
bats_require_minimum_version 1.5.0

load cloud-file
setup() {
	cloud_reset
	export RUNNER_POOL=acme/web
	cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web"}}' >/dev/null
	saved_key=$AWS_SECRET_ACCESS_KEY
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
}


@test "credentials from the shared credentials file and a named profile" {
	cat >"$AWS_SHARED_CREDENTIALS_FILE" <<-EOF
	[default]
	aws_access_key_id = AKIDWRONG00000000000
	aws_secret_access_key = wrong
	[ci]
	aws_access_key_id = AKIDLOCALCLOUD000001
	aws_secret_access_key = $saved_key
	EOF
	run -100 --separate-stderr pool-list
	[[ "$stderr" == *"AuthFailure"* ]]
	run -0 --separate-stderr pool-list --profile ci
	AWS_PROFILE=ci run -0 --separate-stderr pool-list
	AWS_PROFILE=nope run -100 --separate-stderr pool-list
	[[ "$stderr" == *"profile 'nope' not found"* ]]
}

@test "region from the profile's config" {
	unset AWS_REGION AWS_DEFAULT_REGION
	printf '[profile ci]\nregion = eu-west-1\naws_access_key_id = AKIDLOCALCLOUD000001\naws_secret_access_key = %s\n' \
		"$saved_key" >"$AWS_CONFIG_FILE"
	run -0 --separate-stderr pool-list --profile ci --pool acme/web
	# the profile's region is the one signed: an unknown one is refused
	sed -i 's/eu-west-1/xx-nowhere-1/' "$AWS_CONFIG_FILE"
	run -100 --separate-stderr pool-list --profile ci
	[[ "$stderr" == *"AuthFailure"* || "$stderr" == *"region"* ]]
	run -100 --separate-stderr pool-list
	[[ "$stderr" == *"no region"* ]]
}

@test "credentials from credential_process; its secret stays out of argv and logs" {
	cat >"$BATS_TEST_TMPDIR/creds.sh" <<-EOF
	#!/bin/sh
	printf '{"Version":1,"AccessKeyId":"AKIDLOCALCLOUD000001","SecretAccessKey":"%s"}\n' '$saved_key'
	EOF
	chmod +x "$BATS_TEST_TMPDIR/creds.sh"
	printf '[default]\ncredential_process = %s\n' "$BATS_TEST_TMPDIR/creds.sh" >"$AWS_CONFIG_FILE"
	run -0 --separate-stderr pool-list
	[[ "$stderr" != *"$saved_key"* ]]
	printf '[default]\ncredential_process = /bin/false\n' >"$AWS_CONFIG_FILE"
	run -111 --separate-stderr pool-list
	[[ "$stderr" == *"credential_process"* ]]
}

@test "credentials from the instance role through IMDSv2, with a session token" {
	run -0 --separate-stderr pool-list
	[[ "$(cloud_calls | jq -s -r 'map(select(.service == "ec2")) | last | .access_key')" == ASIA* ]]
	cloud_calls | jq -s -e 'map(select(.service == "imds")) | length >= 2'
}

@test "no credentials anywhere: one clear line, exit 100, no AWS call" {
	export AWS_EC2_METADATA_DISABLED=true
	run -100 --separate-stderr pool-list
	[[ "$stderr" == "pool-list: no AWS credentials"* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$(cloud_calls | jq -s 'map(select(.service == "ec2")) | length')" -eq 0 ]
}

@test "an unreachable metadata service is a temporary failure (111)" {
	export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9
	run -111 --separate-stderr pool-list
	[[ "$stderr" == *"instance role"* ]]
}
