#!/usr/bin/env bats
# end to end: refresh -> provision (cold) -> job -> release -> provision (warm)

bats_require_minimum_version 1.5.0
load e2e
setup() { e2e_setup; }
teardown() { e2e_teardown; }

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

@test "refresh with a GitHub App: the runners register with an app installation's token" {
	openssl genrsa -out "$BATS_TEST_TMPDIR/app.pem" 2048 2>/dev/null
	openssl rsa -in "$BATS_TEST_TMPDIR/app.pem" -pubout -out "$BATS_TEST_TMPDIR/app.pub" 2>/dev/null
	cloud_ctl POST /github/apps "$(jq -n --arg k "$(cat "$BATS_TEST_TMPDIR/app.pub")" \
		'{app_id: 4242, public_key_pem: $k, installations: [{id: 77, account: "acme"}]}')" >/dev/null
	run --separate-stderr env INPUT_MODE=refresh INPUT_AMI=ami-0a1b2c3d4e5f60001 \
		INPUT_IAM_INSTANCE_PROFILE=runner-pool-instance \
		INPUT_SECURITY_GROUP_IDS=sg-0a1b2c3d4e5f60001 \
		INPUT_SUBNET_IDS=subnet-0a1b2c3d4e5f60001 INPUT_AGENT_POLL_SEC=2 \
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
