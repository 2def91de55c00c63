#!/usr/bin/env bats
# end to end: x86_64 and arm64 in one pool.  A class may name its own AMI;
# refresh gives it its own launch template, EC2 Fleet picks only instance
# types of the AMI's architecture (the local cloud does as EC2 does), and
# the agent installs the runner package for `uname -m` (which the local
# cloud's instances answer for their type).

bats_require_minimum_version 1.5.0
load e2e
setup() { e2e_setup; }
teardown() { e2e_teardown; }

downloads() { cloud_calls | jq -r 'select(.action == "runner-download") | .path'; }

@test "an arm64 class launches Graviton types with the arm64 runner; the default stays x86_64" {
	run --separate-stderr refresh INPUT_IDLE_TIME_SEC=600 \
		'INPUT_RESOURCE_CLASS_CONFIG={"arm": {"cpu": 2, "mmem": 4096, "ami": "ami-0a1b2c3d4e5f60003"}}'
	[ "$status" -eq 0 ]
	jq -e '.template.architecture == "x86_64" and
		(.class_templates | length) == 1 and
		.class_templates[0].name == "runner-pool/acme/web/arm" and
		.class_templates[0].architecture == "arm64"' <<<"$output"
	run --separate-stderr provision 901 1 INPUT_RESOURCE_CLASS=arm
	[ "$status" -eq 0 ]
	arm=$(jq -r .id <<<"$output")
	[[ "$(jq -r .instance_type <<<"$output")" =~ ^[a-z]+[0-9]+g[a-z]*\. ]]
	[ "$(downloads)" = "/actions/runner/releases/download/v2.338.0/actions-runner-linux-arm64-2.338.0.tar.gz" ]
	run --separate-stderr provision 902 1
	[ "$status" -eq 0 ]
	[[ ! "$(jq -r .instance_type <<<"$output")" =~ ^[a-z]+[0-9]+g[a-z]*\. ]]
	[ "$(downloads | tail -n 1)" = "/actions/runner/releases/download/v2.338.0/actions-runner-linux-x64-2.338.0.tar.gz" ]
	# both registered and take jobs
	for r in 901 902; do
		id=$(job "$r" 'uname -m')
		wait_until 20 job_done "$id"
		[ "$(cloud_ctl GET "/github/jobs/$id" | jq -r .conclusion)" = success ]
	done
	[ "$(cloud_ctl GET /github/jobs | jq -r '.jobs[] | .output' | tr -d '\r' | grep -c 'aarch64')" -eq 1 ]
	# warm reuse stays within the class, hence the architecture
	release 901 >/dev/null
	run --separate-stderr provision 903 1 INPUT_RESOURCE_CLASS=arm
	[ "$status" -eq 0 ]
	jq -e --arg id "$arm" '.id == $id and .reused' <<<"$output"
}

@test "resource-class-config: an AMI that is not an id, an unknown key or 1e308 vCPUs is refused before any call" {
	for c in '{"arm": {"cpu": 2, "mmem": 4096, "ami": "ubuntu"}}' '{"a": {"cpu": 2, "mmem": 4096, "arch": "arm64"}}' \
		'{"a": {"cpu": 1e308, "mmem": 4096}}' '{"a": {"cpu": 2, "mmem": 100}}'; do
		run --separate-stderr refresh "INPUT_RESOURCE_CLASS_CONFIG=$c"
		[ "$status" -eq 100 ]
		[[ "$stderr" == "ec2-runner-pool: input resource-class-config: must be"* ]]
	done
	[ -z "$(cloud_calls)" ]
}
