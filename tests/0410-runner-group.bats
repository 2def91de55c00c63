#!/usr/bin/env bats
# end to end: runner-group.  An organization's pool registers its runners
# into the group the refresh names (config.sh --runnergroup); refresh
# refuses a group that does not exist, or that the workflow's repository
# may not use, before it changes anything.  The group's name travels in the
# user data, with the pool's other settings (no secret).

bats_require_minimum_version 1.5.0
load e2e
setup() {
	e2e_setup
	cloud_ctl POST /github/repos '{"repos":["acme/api"],"orgs":["acme"]}' >/dev/null
	cloud_ctl POST /github/tokens '{"token":"ghp_e2eorg000000000000000000000000000001","scopes":["repo","admin:org"]}' >/dev/null
	cloud_ctl POST /github/runner-groups '{"org":"acme","name":"Web builders","visibility":"selected","repositories":["web"]}' >/dev/null
}
teardown() { e2e_teardown; }

orgrefresh() {
	refresh INPUT_GITHUB_SCOPE=acme INPUT_GITHUB_TOKEN=ghp_e2eorg000000000000000000000000000001 "$@"
}

@test "runner-group: the runners register into the group and run its repository's jobs" {
	run --separate-stderr orgrefresh INPUT_IDLE_TIME_SEC=600 "INPUT_RUNNER_GROUP=Web builders"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"runner group 'Web builders': id 2, visibility selected"* ]]
	run --separate-stderr provision 801 1
	[ "$status" -eq 0 ]
	id=$(jq -r .id <<<"$output")
	[ "$(cloud_ctl GET /github/runners | jq -r '.runners[0] | "\(.runner_group) \(.scope)"')" = "Web builders acme" ]
	ud=$(ls "$CLOUD_DIR"/instances/"$id"/*user* | head -n1)
	grep -q "RP_RUNNER_GROUP='Web builders'" "$ud"
	! grep -q ghp_ "$ud"
	j=$(job 801 'echo in the group')
	wait_until 30 job_done "$j"
	[ "$(cloud_ctl GET "/github/jobs/$j" | jq -r .conclusion)" = success ]
	run -0 release 801
}

@test "runner-group: refresh refuses a missing or forbidden group, and a repository scope, changing nothing" {
	run --separate-stderr orgrefresh INPUT_RUNNER_GROUP=nope
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no runner group 'nope' in acme"* ]]
	[[ "$stderr" == *"runner-group 'nope' cannot serve this pool"* ]]
	GITHUB_REPOSITORY=acme/api run --separate-stderr orgrefresh "INPUT_RUNNER_GROUP=web BUILDERS"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"runner group 'web BUILDERS' of acme exists, but repository api may not use it"* ]]
	[ -z "$(cloud_mutating_calls)" ]
	n=$(cloud_calls | wc -l)
	run --separate-stderr refresh INPUT_RUNNER_GROUP=x
	[ "$status" -eq 100 ]
	[[ "$stderr" == *"input runner-group: needs an organization as github-scope"* ]]
	run --separate-stderr orgrefresh 'INPUT_RUNNER_GROUP=a"b'
	[ "$status" -eq 100 ]
	[ "$stderr" = "ec2-runner-pool: input runner-group: 'a\"b' is not a runner group name (no control characters, quotes, '\`', '\$' or '\\')" ]
	# bad input: no call at all
	[ "$(cloud_calls | wc -l)" -eq "$n" ]
}
