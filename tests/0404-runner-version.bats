#!/usr/bin/env bats
# end to end: the runner version.  github.com refuses to register runners
# below 2.329.0 and gives no jobs to a version superseded for more than 30
# days (GitHub changelog 2026-06-12, "minimum version enforcement timeline
# for self-hosted runners"; actions/runner#4203, #4305); the local cloud's
# GitHub enforces both (tests/cloud/releases.py), so a stale default fails
# here.  refresh resolves the newest release and its checksums; the agent
# checks the package before unpacking it.

bats_require_minimum_version 1.5.0
load e2e
setup() { e2e_setup; }
teardown() { e2e_teardown; }

latest() { cloud_ctl GET /github/runner-tarball | jq -r .version; }
sha() { cloud_ctl GET "/github/runner-tarball?version=$1&arch=${2:-x64}" | jq -r .published_sha256; }
downloads() { cloud_calls | jq -c 'select(.action == "runner-download")' | wc -l; }
registrations() { cloud_calls | jq -c 'select(.action == "runner/register")' | wc -l; }
none_left() { [ "$(count --state created,claimed,running,idle,releasing)" -eq 0 ]; }

@test "default: refresh resolves the newest runner; the agent checks and registers it" {
	v=$(latest)
	[ "$v" = 2.338.0 ] # the double's newest full release (2.339.0 is a prerelease)
	run --separate-stderr refresh INPUT_IDLE_TIME_SEC=600
	[ "$status" -eq 0 ]
	[ "$(jq -r .runner.version <<<"$output")" = "$v" ]
	[ "$(jq -r .runner.sha256.x64 <<<"$output")" = "$(sha "$v")" ]
	[ "$(jq -r .runner.sha256.arm64 <<<"$output")" = "$(sha "$v" arm64)" ]
	[[ "$stderr" == *"runner v$v (newest: v$v)"* ]]
	# one GitHub call resolved it
	[ "$(cloud_calls | jq -r 'select(.service == "github") | .action' | grep -c release)" -eq 1 ]
	run --separate-stderr provision 701 1
	[ "$status" -eq 0 ]
	id=$(jq -r .id <<<"$output")
	# the registered runner is that version, and the pool knows it
	[ "$(cloud_ctl GET /github/runners | jq -r '.runners[0].version')" = "$v" ]
	[ "$(pool-list --pool acme/web --id "$id" | jq -r '"\(.runner_version) \(.health)"')" = "$v null" ]
	# the package came from the release download, once
	[ "$(downloads)" -eq 1 ]
	# the user data carries the version and both checksums, no secret
	ud="$CLOUD_DIR/instances/$id/user-data"
	[ -f "$ud" ] || ud=$(ls "$CLOUD_DIR"/instances/"$id"/*user* | head -n1)
	grep -q "RP_RUNNER_VERSION='$v'" "$ud"
	grep -q "x64=$(sha "$v")" "$ud"
	grep -q "arm64=$(sha "$v" arm64)" "$ud"
}

@test "the old default 2.319.1: refresh warns, GitHub refuses it, provision fails fast and leaves nothing" {
	export GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary
	run --separate-stderr refresh INPUT_RUNNER_VERSION=2.319.1
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"warning: runner v2.319.1 is below 2.329.0"* ]]
	grep -q 'Warning:.*below 2.329.0' "$GITHUB_STEP_SUMMARY"
	[ "$(jq '.runner.warnings | length' <<<"$output")" -eq 2 ]
	t0=$(date +%s)
	run --separate-stderr provision 702 1 INPUT_TIMEOUT_SEC=60
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"refuses to serve"*"runner-version"* ]]
	[ $(($(date +%s) - t0)) -lt 40 ]
	# GitHub answered config.sh as github.com does
	grep -q 'can no longer register with GitHub' "$CLOUD_DIR"/instances/*/runner.log
	wait_until 60 none_left
	[ "$(cloud_ctl GET /github/runners | jq '.runners | length')" -eq 0 ]
}

@test "a tampered runner package is refused before it is unpacked" {
	v=$(latest)
	cloud_ctl POST /github/settings "{\"runner_tampered\": [\"$v/x64\"]}" >/dev/null
	refresh >/dev/null
	run --separate-stderr provision 703 1 INPUT_TIMEOUT_SEC=60
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"refuses to serve"*"runner-checksum"* ]]
	grep -q "refusing to serve: actions-runner-linux-x64-$v.tar.gz has SHA-256 .*, the release says $(sha "$v")" \
		"$CLOUD_DIR"/instances/*/agent.log
	# nothing of it was unpacked or run, nothing registered
	! ls "$CLOUD_DIR"/instances/*/actions-runner/bin/payload.sh 2>/dev/null
	[ "$(registrations)" -eq 0 ]
	# what the failed provision launched is terminated (under ASan, beside
	# three other files, this took over 20 s once)
	wait_until 60 none_left
}

@test "a runner baked into the image (package in the agent's root) is used without a download" {
	v=$(latest)
	tb=$BATS_TEST_TMPDIR/actions-runner-linux-x64-$v.tar.gz
	curl -sf -o "$tb" "$CLOUD_URL$(cloud_ctl GET "/github/runner-tarball?version=$v" | jq -r .path)"
	# the pre-runner script runs before the install: it plays the AMI
	run --separate-stderr refresh INPUT_IDLE_TIME_SEC=600 "INPUT_PRE_RUNNER_SCRIPT=cp '$tb' ."
	[ "$status" -eq 0 ]
	[ "$(downloads)" -eq 1 ] # the test's own, above
	run --separate-stderr provision 704 1
	[ "$status" -eq 0 ]
	[ "$(downloads)" -eq 1 ]
	[ "$(registrations)" -eq 1 ]
}

@test "a pinned version superseded for over 30 days registers, gets no jobs; the agent says so" {
	run --separate-stderr refresh INPUT_RUNNER_VERSION=2.337.0 INPUT_IDLE_TIME_SEC=600
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"warning: runner v2.337.0 was superseded on 2026-10-21T10:00:00Z, more than 30 days ago"* ]]
	run --separate-stderr provision 705 1
	# the runner starts, then its first message poll is refused: provision
	# sees either the agent's refusal first (and fails fast, naming it, and
	# leaves nothing) or a runner that never gets a job
	if [ "$status" -ne 0 ]; then
		[[ "$stderr" == *"refuses to serve"*"runner-version"* ]]
		grep -q 'Runner version v2.337.0 is deprecated and cannot receive messages' \
			"$CLOUD_DIR"/instances/*/runner.log
		gone() { [ "$(count --state idle,created,claimed,running,releasing)" -eq 0 ]; }
		wait_until 30 gone
		return 0
	fi
	id=$(jq -r .id <<<"$output")
	jid=$(job 705 'echo never')
	sick() { [ "$(pool-list --pool acme/web --id "$id" | jq -r .health)" = runner-version ]; }
	wait_until 20 sick
	grep -q 'Runner version v2.337.0 is deprecated and cannot receive messages' \
		"$CLOUD_DIR/instances/$id/runner.log"
	[ "$(cloud_ctl GET "/github/jobs/$jid" | jq -r .status)" = queued ]
	# released, it is never claimed again: a new instance (of the same
	# refused version: provision sees it refused or not yet, as above)
	release 705 >/dev/null
	run --separate-stderr provision 706 1
	if [ "$status" -eq 0 ]; then
		[ "$(jq -r .id <<<"$output")" != "$id" ]
	else
		[[ "$stderr" == *"refuses to serve"*"runner-version"* ]]
		[[ "$stderr" != *"$id: runner-version"* ]]
	fi
}

@test "a new runner release retires idle instances of the old one; min-idle replaces them" {
	refresh INPUT_IDLE_TIME_SEC=600 INPUT_MIN_IDLE=2 >/dev/null
	idle2() { [ "$(pool-list --pool acme/web --state idle | jq -r .runner_version | grep -c 2.338.0)" -eq 2 ]; }
	wait_until 30 idle2
	old=$(pool-list --pool acme/web --state idle | jq -r .id | sort)
	# one of them is busy with a run when the new release comes out
	provision 707 1 >/dev/null
	busy=$(pool-list --pool acme/web --run-id 707 | jq -r .id)
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	cloud_ctl POST /github/settings "$(jq -cn --arg now "$now" '{runner_releases: [
		{version: "2.338.0", published_at: "2026-10-21T10:00:00Z"},
		{version: "2.340.0", published_at: $now}]}')" >/dev/null
	run --separate-stderr refresh INPUT_IDLE_TIME_SEC=600 INPUT_MIN_IDLE=2
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.runner.version) \(.retired) \(.launched)"' <<<"$output")" = "2.340.0 1 2" ]
	# the idle one leaves the pool; the busy one serves its run on
	gone() { [ "$(count --state idle,claimed,running,created)" -eq 3 ] &&
		[ "$(pool-list --pool acme/web --state idle | jq -r .runner_version | grep -c 2.340.0)" -eq 2 ]; }
	wait_until 30 gone
	[ "$(pool-list --pool acme/web --id "$busy" | jq -r '"\(.state) \(.run_id)"')" = "running 707" ]
	# released, the busy one retires too at the next refresh
	release 707 >/dev/null
	run --separate-stderr refresh INPUT_IDLE_TIME_SEC=600 INPUT_MIN_IDLE=2
	[ "$(jq -r .retired <<<"$output")" -eq 1 ]
	busy_gone() { [ "$(count --id "$busy" --state idle,claimed,running)" -eq 0 ]; }
	wait_until 20 busy_gone
	for i in $old; do [ "$(count --id "$i" --state idle,claimed,running)" -eq 0 ]; done
}

@test "runner-version and runner-sha256 inputs are checked before any call" {
	for bad in 2.3 v2.330.0 'latest 2' "$(printf '2.330.0\n2.331.0')" 2.330.0-rc1; do
		run --separate-stderr refresh INPUT_RUNNER_VERSION="$bad"
		[ "$status" -eq 100 ]
		[[ "$stderr" == "ec2-runner-pool: input runner-version: "* ]]
		[ "${#stderr_lines[@]}" -eq 1 ]
	done
	run --separate-stderr refresh INPUT_RUNNER_SHA256="x64=$(printf '%064d' 0)"
	[ "$status" -eq 100 ]
	[[ "$stderr" == *"runner-sha256: needs a pinned runner-version"* ]]
	run --separate-stderr refresh INPUT_RUNNER_VERSION=2.338.0 INPUT_RUNNER_SHA256="x64=abc"
	[ "$status" -eq 100 ]
	[[ "$stderr" == *"runner-sha256: 'x64=abc' is not valid"* ]]
	[ -z "$(cloud_calls)" ]
}

@test "pinned with runner-sha256: no GitHub call to resolve it, and the checksum is enforced" {
	v=$(latest)
	run --separate-stderr refresh INPUT_RUNNER_VERSION="$v" "INPUT_RUNNER_SHA256=x64=$(sha "$v") arm64=$(sha "$v" arm64)"
	[ "$status" -eq 0 ]
	[ "$(cloud_calls | jq -r 'select(.service == "github") | .action' | grep -c release)" -eq 0 ]
	run provision 708 1
	[ "$status" -eq 0 ]
}
