#!/usr/bin/env bats
# end to end, without instances: the agent's signer and shell, every input
# checked before the first write, the token's path, the user data's room
# (apart from 0401 so that make check runs them beside it)

bats_require_minimum_version 1.5.0
load e2e
setup() { e2e_setup; }
teardown() { e2e_teardown; }

@test "the agent's SigV4 in sh matches AWS's suite (dash and busybox sh; sha256sum or openssl)" {
	# a PATH without sha256sum: the signer hashes with openssl
	local c nosum=$BATS_TEST_TMPDIR/nosum
	mkdir -p "$nosum"
	for c in od tr openssl cat sed; do ln -s "$(command -v "$c")" "$nosum/$c"; done
	for sh in dash "busybox sh" "env PATH=$nosum $(command -v dash)"; do
		run $sh -c '
			. "$1/libexec/agent-sigv4.sh"
			S=$1/tests/cloud/aws-sigv4-test-suite
			for c in get-vanilla post-x-www-form-urlencoded get-vanilla-with-session-token post-vanilla get-utf8; do
				rp_skey wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY us-east-1 service 20150830
				rp_hmacp "$SIP" "$SOP" "$(cat "$S/$c/$c.sts")"
				[ "$_HM" = "$(sed "s/.*Signature=//" "$S/$c/$c.authz")" ] || { echo "FAIL $c"; exit 1; }
			done
			printf "Param1=value1" >"$BATS_TEST_TMPDIR/body"
			rp_az AKIDEXAMPLE wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY "" us-east-1 service 20150830T123600Z example.amazonaws.com application/x-www-form-urlencoded "$BATS_TEST_TMPDIR/body"
			[ "$_AZ" = "$(cat "$S/post-x-www-form-urlencoded/post-x-www-form-urlencoded.authz")" ] || exit 1
			k=365c365c00ff
			rp_hmk $k msg
			[ "$_HM" = "$(printf msg | openssl dgst -sha256 -mac HMAC -macopt hexkey:$k -binary | rp_hexof)" ] || exit 1
			command -v sha256sum >/dev/null && echo ok sha256sum || echo ok openssl' sh "$REPO_ROOT"
		[ "$status" -eq 0 ]
		case $sh in
		*nosum*) [ "$output" = "ok openssl" ] ;;
		*) [ "$output" = "ok sha256sum" ] ;;
		esac
	done
}

@test "the signer's header lists every scratch name it sets in its caller's shell" {
	# the signer runs in the agent's own shell: a name it sets that the
	# header does not list could clobber one of the agent's
	local f=$REPO_ROOT/libexec/agent-sigv4.sh set listed
	set=$(grep -v '^[[:space:]]*#' "$f" | grep -oE '(^|[^A-Za-z0-9_$])_[A-Za-z0-9]+=' |
		grep -oE '_[A-Za-z0-9]+' | sort -u)
	listed=$(sed -n '/^# set, besides/,/^$/p' "$f" | grep -oE '(^|[ (])_[A-Za-z0-9]+' |
		grep -oE '_[A-Za-z0-9]+' | sort -u)
	[ -n "$set" ]
	[ "$set" = "$listed" ] || { diff <(echo "$set") <(echo "$listed"); false; }
}

@test "agent and modes are shellcheck -s sh clean" {
	command -v shellcheck || skip "no shellcheck"
	run shellcheck -s sh -x "$REPO_ROOT/libexec/agent-sigv4.sh" "$REPO_ROOT/libexec/agent.sh" "$REPO_ROOT/entrypoint.sh" "$REPO_ROOT/ec2-runner-pool"
	[ "$status" -eq 0 ]
}

@test "entrypoint: a bad input is named, exits 100 and calls nothing" {
	cloud_ctl DELETE /calls
	run refresh INPUT_SUBNET_IDS=subnet-xyz
	[ "$status" -eq 100 ]
	[ "$output" = "ec2-runner-pool: input subnet-ids: 'subnet-xyz' is not a subnet id (subnet- followed by 8 or 17 hex digits)" ]
	run provision 1 0
	[ "$status" -eq 100 ]
	[[ "$output" == *"input instance-count"* ]]
	run env INPUT_MODE=provision INPUT_USAGE_CLASS=cheap INPUT_RUN_ID=1 "$REPO_ROOT/entrypoint.sh"
	[ "$status" -eq 100 ]
	[[ "$output" == *"input usage-class"* ]]
	# class names the tools accept, nothing looser
	run refresh 'INPUT_MIN_IDLE={"Large":1}'
	[ "$status" -eq 100 ]
	[[ "$output" == *"input min-idle"* ]]
	run refresh 'INPUT_RESOURCE_CLASS_CONFIG={"Large":{"cpu":4,"mmem":8192}}'
	[ "$status" -eq 100 ]
	[[ "$output" == *"input resource-class-config"* ]]
	run provision 1 1 INPUT_RESOURCE_CLASS=Large
	[ "$status" -eq 100 ]
	run refresh INPUT_MAX_RUNTIME_MIN=08
	[ "$status" -eq 100 ]
	[[ "$output" == *"leading zero"* ]]
	[ -z "$(cloud_calls)" ]
}

@test "refresh: the GitHub token reaches the GitHub tools alone, in a file removed after" {
	shim=$BATS_TEST_TMPDIR/shim
	mkdir -p "$shim" "$BATS_TEST_TMPDIR/t"
	printf '#!/bin/sh\nenv >>"%s/jq-env"\nexec "%s" "$@"\n' "$BATS_TEST_TMPDIR" "$(command -v jq)" >"$shim/jq"
	chmod +x "$shim/jq"
	PATH="$shim:$PATH" TMPDIR=$BATS_TEST_TMPDIR/t run --separate-stderr refresh
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"registration token: "*'"stored":true'* ]]
	# jq ran many times, never with the token in its environment
	[ "$(grep -c '^PATH=' "$BATS_TEST_TMPDIR/jq-env")" -gt 5 ]
	! grep -q ghp_e2e "$BATS_TEST_TMPDIR/jq-env"
	# the file that carried it is gone
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/t")" ]
}

bad_refresh() {
	local name=$1 msg=$2
	shift 2
	run --separate-stderr refresh "$@"
	[ "$status" -eq 100 ] || { echo "status $status for $*: $stderr"; return 1; }
	[ "${#stderr_lines[@]}" -eq 1 ] || { echo "more than one line: $stderr"; return 1; }
	[[ "$stderr" == "ec2-runner-pool: input $name: "$msg ]] ||
		[[ "$stderr" == "refresh: "$msg ]] || { echo "got: $stderr"; return 1; }
}

@test "every input is checked by the tools' rules before the first write (issue 10's list)" {
	cloud_ctl DELETE /calls
	bad_refresh pool "'a..b' is not a pool name"* INPUT_POOL=a..b
	bad_refresh ami 'holds more than one value' 'INPUT_AMI=ami-0a1b2c3d4e5f60001 ami-0a1b2c3d4e5f60002'
	bad_refresh iam-instance-profile 'holds more than one value' 'INPUT_IAM_INSTANCE_PROFILE=a b'
	bad_refresh github-token 'has a blank or control character at offset 3' 'INPUT_GITHUB_TOKEN=ghp 123'
	bad_refresh github-token 'has more than one line' "$(printf 'INPUT_GITHUB_TOKEN=ghp_1\r\nX: y')"
	bad_refresh min-idle "class 'gpu' is not in resource-class-config" 'INPUT_MIN_IDLE={"gpu":1}'
	bad_refresh allowed-instance-types "'C5.*' is not an instance type pattern"* 'INPUT_ALLOWED_INSTANCE_TYPES=c* C5.*'
	bad_refresh subnet-ids '300 values, more than 50' \
		"INPUT_SUBNET_IDS=$(for i in $(seq 1 300); do printf 'subnet-%08x ' "$i"; done)"
	bad_refresh resource-class-config 'must be'* "INPUT_RESOURCE_CLASS_CONFIG=$(jq -cn '[range(500)] | map({key: "c\(.)", value: {cpu: 2, mmem: 4096}}) | from_entries')"
	bad_refresh runner-version 'has more than one line' "$(printf 'INPUT_RUNNER_VERSION=2.330.0\n2.331.0')"
	bad_refresh agent-poll-sec "'0.0' is out of range"* INPUT_AGENT_POLL_SEC=0.0
	bad_refresh agent-poll-sec "'000' is not a number of seconds"* INPUT_AGENT_POLL_SEC=000
	bad_refresh agent-poll-sec '0.05 is below 0.1 seconds' INPUT_AGENT_POLL_SEC=0.05
	# a second line of a value never reaches the log as a line of its own
	# (a line starting with :: is a workflow command)
	bad_refresh pool 'has more than one line' "$(printf 'INPUT_POOL=acme/web\r\n::set-output name=x::y')"
	bad_refresh pool "'acme/w?b' is not a pool name"* "$(printf 'INPUT_POOL=acme/w\033b')"
	# too big for user data, found before anything is written
	# (gzipped: random text, which gzip cannot shrink much)
	run --separate-stderr refresh "INPUT_PRE_RUNNER_SCRIPT=$(head -c 12000 /dev/urandom | base64 -w 64)"
	[ "$status" -eq 100 ]
	[[ "${stderr_lines[-1]}" == "refresh: user data would be "*" bytes, over EC2's 16384: pre-runner-script too long by "*" bytes (gzipped, base64)" ]]
	[ -z "$(cloud_mutating_calls)" ]
	# provision's run id: a positive number of at most 20 digits, no call
	cloud_ctl DELETE /calls >/dev/null
	for r in abc 0 0123 123456789012345678901; do
		run --separate-stderr provision "$r" 1
		[ "$status" -eq 100 ]
		[[ "$stderr" == "ec2-runner-pool: input run-id: '$r' is not a run id"* ]]
	done
	[ -z "$(cloud_calls)" ]
}


@test "an input error is one line whatever the value holds" {
	run --separate-stderr env "INPUT_MODE=$(printf 'x\n::error::y')" "$REPO_ROOT/entrypoint.sh"
	[ "$status" -eq 100 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$stderr" = "ec2-runner-pool: input mode: 'x?::error::y' is not provision, release, refresh or check" ]
}

@test "the user data leaves room for a 4 KiB pre-runner script" {
	# without one, the user data is at most 11.5 KiB (README: the room left)
	run --separate-stderr refresh "INPUT_PRE_RUNNER_SCRIPT="
	[ "$status" -eq 0 ]
	[[ "$stderr" =~ \(([0-9]+)\ bytes\ of\ user\ data\) ]]
	[ "${BASH_REMATCH[1]}" -le 11776 ]
	# 4 KiB that gzip cannot shrink much (a real script shrinks far more)
	script=$(head -c 3072 /dev/urandom | base64 -w 64)
	[ "${#script}" -ge 4096 ]
	run --separate-stderr refresh "INPUT_PRE_RUNNER_SCRIPT=$script"
	[ "$status" -eq 0 ]
	[[ "$stderr" =~ \(([0-9]+)\ bytes\ of\ user\ data\) ]]
	[ "${BASH_REMATCH[1]}" -le 16384 ]
	run --separate-stderr refresh "INPUT_PRE_RUNNER_SCRIPT=$script$(head -c 3072 /dev/urandom | base64 -w 64)"
	[ "$status" -eq 100 ]
	[[ "$stderr" == *"over EC2's 16384: pre-runner-script too long by "* ]]
}
