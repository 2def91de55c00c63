#!/usr/bin/env bats
# end to end: refresh -> provision (cold) -> job -> release -> provision (warm)

bats_require_minimum_version 1.5.0
load e2e
setup() { e2e_setup; }
teardown() { e2e_teardown; }

@test "the agent's SigV4 in sh matches AWS's suite (dash and busybox sh)" {
	for sh in dash "busybox sh"; do
		run $sh -c '
			RP_AGENT_LIB=1 . "$1/libexec/agent.sh"
			S=$1/tests/cloud/aws-sigv4-test-suite
			for c in get-vanilla post-x-www-form-urlencoded get-vanilla-with-session-token post-vanilla get-utf8; do
				got=$(sign wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY us-east-1 service 20150830T123600Z "$(cat "$S/$c/$c.sts")")
				[ "$got" = "$(sed "s/.*Signature=//" "$S/$c/$c.authz")" ] || { echo "FAIL $c"; exit 1; }
			done
			printf "Param1=value1" >"$BATS_TEST_TMPDIR/body"
			a=$(authz AKIDEXAMPLE wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY "" us-east-1 service 20150830T123600Z example.amazonaws.com application/x-www-form-urlencoded "$BATS_TEST_TMPDIR/body")
			[ "$a" = "$(cat "$S/post-x-www-form-urlencoded/post-x-www-form-urlencoded.authz")" ] || exit 1
			k=365c365c00ff
			[ "$(hmac $k msg)" = "$(printf msg | openssl dgst -sha256 -mac HMAC -macopt hexkey:$k -binary | hexof)" ] || exit 1
			echo ok' sh "$REPO_ROOT"
		[ "$status" -eq 0 ]
		[ "$output" = ok ]
	done
}

@test "agent and modes are shellcheck -s sh clean" {
	command -v shellcheck || skip "no shellcheck"
	run shellcheck -s sh -x "$REPO_ROOT/libexec/agent.sh" "$REPO_ROOT/entrypoint.sh" "$REPO_ROOT/ec2-runner-pool"
	[ "$status" -eq 0 ]
}

@test "lifecycle: refresh, cold provision, a job, release, warm provision" {
	run refresh INPUT_IDLE_TIME_SEC=600
	[ "$status" -eq 0 ]
	run --separate-stderr provision 101 2
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "$(jq -s 'map(select(.state == "running" and .run_id == "101" and (.reused | not))) | length' <<<"$output")" -eq 2 ]
	[[ "$stderr" == *"launched=2"* ]]
	# a job runs on one of them, labelled with the run id only
	id=$(job 101 'echo hi from $RUNNER_NAME')
	wait_until 20 job_done "$id"
	run cloud_ctl GET "/github/jobs/$id"
	[ "$(jq -r .conclusion <<<"$output")" = success ]
	[[ "$(jq -r .runner_name <<<"$output")" == rp-i-*-101 ]]
	run cloud_ctl GET /github/runners
	[ "$(jq '[.runners[] | select(.status == "online")] | length' <<<"$output")" -eq 2 ]
	[ "$(jq -c '[.runners[].labels | map(.name)] | unique' <<<"$output")" = '[["101"]]' ]
	# release: idle, runner deregistered, workspace wiped
	run release 101
	[ "$status" -eq 0 ]
	[ "$(count --state idle)" -eq 2 ]
	no_run() { [ "$(count --run-id 101)" -eq 0 ]; }
	wait_until 5 no_run
	run cloud_ctl GET /github/runners
	[ "$(jq '.runners | length' <<<"$output")" -eq 0 ]
	! ls -d "$CLOUD_DIR"/instances/*/actions-runner/_work/acme 2>/dev/null
	# warm: both reused, nothing launched
	run --separate-stderr provision 102 2
	[ "$status" -eq 0 ]
	[ "$(jq -s 'map(select(.reused)) | length' <<<"$output")" -eq 2 ]
	[[ "$stderr" == *"launched=0"* ]]
	[ "$(count --run-id 102 --state running)" -eq 2 ]
	# the token never left SSM: not in user data, tags or logs
	tok=$(cloud_ctl GET /github/registration-tokens | jq -r '.. | .token? // empty' | head -n1)
	[ -n "$tok" ]
	! grep -rqF "$tok" "$CLOUD_DIR"/instances/*/console.log "$CLOUD_DIR"/instances/*/agent.log "$CLOUD_DIR"/instances/*/runner.log
	! pool-list --pool acme/web | grep -qF "$tok"
}

@test "provision: more than idle: claims what is idle, launches the rest" {
	refresh INPUT_IDLE_TIME_SEC=600
	provision 201 1 >/dev/null
	release 201
	run --separate-stderr provision 202 3
	[ "$status" -eq 0 ]
	[ "$(jq -s 'map(select(.reused)) | length' <<<"$output")" -eq 1 ]
	[ "$(jq -s 'map(select(.reused | not)) | length' <<<"$output")" -eq 2 ]
}

@test "provision: a transient lack of capacity is launched again, not a failure" {
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	# the first fleet request gets nothing (InsufficientInstanceCapacity in
	# every subnet), the next one capacity
	cloud_fault '{"service":"ec2","action":"CreateFleet","kind":"capacity","count":1}'
	run --separate-stderr provision 203 2
	[ "$status" -eq 0 ]
	[ "$(jq -s 'length' <<<"$output")" -eq 2 ]
	[ "$(cloud_calls service=ec2 | jq -s '[.[] | select(.action == "CreateFleet")] | length')" -eq 2 ]
	# two requests, two client tokens: a reused one is answered with the
	# first request's result
	[ "$(cloud_calls service=ec2 | jq -s '[.[] | select(.action == "CreateFleet") | .params.ClientToken] | unique | length')" -eq 2 ]
}

@test "release never touches another run's instances" {
	refresh INPUT_IDLE_TIME_SEC=600
	provision 301 1 >/dev/null
	provision 302 1 >/dev/null
	run release 301
	[ "$status" -eq 0 ]
	[ "$(count --run-id 302 --state running)" -eq 1 ]
	[ "$(count --state idle)" -eq 1 ]
	run release 999
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

@test "refresh with a GitHub App: the runners register with an app installation's token" {
	openssl genrsa -out "$BATS_TEST_TMPDIR/app.pem" 2048 2>/dev/null
	openssl rsa -in "$BATS_TEST_TMPDIR/app.pem" -pubout -out "$BATS_TEST_TMPDIR/app.pub" 2>/dev/null
	cloud_ctl POST /github/apps "$(jq -n --arg k "$(cat "$BATS_TEST_TMPDIR/app.pub")" \
		'{app_id: 4242, public_key_pem: $k, installations: [{id: 77, account: "acme"}]}')" >/dev/null
	run --separate-stderr env INPUT_MODE=refresh INPUT_AMI=ami-0a1b2c3d4e5f60001 \
		INPUT_IAM_INSTANCE_PROFILE=runner-pool-instance \
		INPUT_SECURITY_GROUP_IDS=sg-0a1b2c3d4e5f60001 \
		INPUT_SUBNET_IDS=subnet-0a1b2c3d4e5f60001 INPUT_AGENT_POLL_SEC=0.5 \
		INPUT_GITHUB_APP_ID=4242 "INPUT_GITHUB_APP_PRIVATE_KEY=$(cat "$BATS_TEST_TMPDIR/app.pem")" \
		"$REPO_ROOT/entrypoint.sh"
	[ "$status" -eq 0 ]
	# the key never reaches the output
	[[ "$output$stderr" != *"PRIVATE KEY"* ]]
	cloud_calls service=github | jq -s -e 'map(select(.auth_kind == "jwt")) | length >= 1'
	run --separate-stderr provision 4001 1
	[ "$status" -eq 0 ]
	jq -e '.run_id == "4001"' <<<"$output"
	cloud_ctl GET /github/runners | jq -e '[.runners[] | select(.status == "online" and
		(.labels | map(.name) | index("4001")))] | length == 1'
}

@test "a release request is not lost to the agent's own state write" {
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	provision 4101 1 >/dev/null
	id=$(pool-list --pool acme/web --run-id 4101 | jq -r .id)
	# the request, then a late 'running' as an agent still registering
	# would write it (before, a 'releasing' written here was overwritten)
	pool-tag --set "release:4101=$(date +%s%3N)" "$id" >/dev/null
	pool-tag --set state=running "$id" >/dev/null
	back() { [ "$(pool-list --pool acme/web --id "$id" | jq -r '"\(.state) \(.run_id)"')" = "idle null" ]; }
	wait_until 60 back
	# the agent removed the request with the run id
	! cloud_ctl GET "/instances/$id" | jq -e '.tags | has("runner-pool:release:4101")'
	[ "$(cloud_ctl GET /github/runners | jq '[.runners[] | select(.status == "online")] | length')" -eq 0 ]
}

@test "release retries a throttled request with its input intact" {
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	provision 4102 2 >/dev/null
	# the first pool-tag gives up (3 attempts), the retry needs its stdin
	cloud_fault '{"service":"ec2","action":"CreateTags","kind":"throttle","count":4}'
	run --separate-stderr release 4102
	[ "$status" -eq 0 ]
	[ "$(count --state idle)" -eq 2 ]
}

@test "a multi-line pre-runner script keeps its indentation" {
	script=$(printf 'cat >"$HOME/check" <<EOF\n    indented\nEOF\ngrep -q "^    indented$" "$HOME/check"\n')
	refresh INPUT_IDLE_TIME_SEC=600 "INPUT_PRE_RUNNER_SCRIPT=$script" >/dev/null
	provision 4103 1 >/dev/null
	id=$(pool-list --pool acme/web --run-id 4103 | jq -r .id)
	[ "$(cloud_ctl GET "/instances/$id" | jq -r '.tags["runner-pool:pre-runner"]')" = ok ]
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

@test "provision follows the pool's usage-class and allowed types unless given" {
	refresh INPUT_IDLE_TIME_SEC=600 INPUT_USAGE_CLASS=on-demand 'INPUT_ALLOWED_INSTANCE_TYPES=m*' >/dev/null
	run --separate-stderr provision 4201 1
	[ "$status" -eq 0 ]
	jq -e '.usage == "on-demand" and .lifecycle == "on-demand" and (.instance_type | startswith("m"))' <<<"$output"
	release 4201 >/dev/null
	# the idle on-demand instance is reused by the next run
	run --separate-stderr provision 4202 1
	[ "$status" -eq 0 ]
	jq -e '.reused' <<<"$output"
	# given, the input wins
	run --separate-stderr provision 4203 1 INPUT_USAGE_CLASS=spot 'INPUT_ALLOWED_INSTANCE_TYPES=c*'
	[ "$status" -eq 0 ]
	jq -e '.usage == "spot" and (.reused | not) and (.instance_type | startswith("c"))' <<<"$output"
}

# bad_input NAME MESSAGE-GLOB INPUT_X=Y...: refresh refuses, one line, 100
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
