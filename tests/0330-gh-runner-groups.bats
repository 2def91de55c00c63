#!/usr/bin/env bats
# Runner groups: gh-runners --groups answers "does group G exist and may
# repository R use it", --group filters runners by group, and the stand-in
# runner's config.sh --runnergroup registers into a group or fails the way
# the real runner does.  API shapes:
# https://docs.github.com/en/rest/actions/self-hosted-runner-groups
# (list org runner groups, visible_to_repository, repositories of a group,
# runners of a group); the config.sh message: actions/runner,
# src/Runner.Listener/Configuration/ConfigurationManager.cs, and
# https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/managing-access-to-self-hosted-runners-using-groups

load helpers
bats_require_minimum_version 1.5.0

load cloud-file
setup() {
	cloud_reset
	cloud_ctl POST /github/repos '{"repos":["acme/web","acme/api","acme/docs"],"orgs":["acme"]}' >/dev/null
	cloud_ctl POST /github/tokens '{"tokens":[
		{"token":"ghp_classicAll0000000000000000000000","scopes":["repo","admin:org"]}]}' >/dev/null
	export GITHUB_TOKEN=ghp_classicAll0000000000000000000000
	cloud_ctl POST /github/runner-groups '{"org":"acme","name":"GPU boxes","visibility":"selected","repositories":["web"]}' >/dev/null
	cloud_ctl POST /github/runner-groups '{"org":"acme","name":"everyone","visibility":"all"}' >/dev/null
}


gh_calls() {
	cloud_calls | jq -c 'select(.service == "github")'
}

@test "--groups lists the organization's runner groups, Default first" {
	run -0 --separate-stderr gh-runners --groups --scope acme
	[ "${#lines[@]}" -eq 3 ]
	jq -e '.id == 1 and .name == "Default" and .default and .visibility == "all"' <<<"${lines[0]}"
	jq -e '.name == "GPU boxes" and .visibility == "selected" and (.default | not)
		and (has("usable") | not)' <<<"${lines[1]}"
	run -0 gh_calls
	jq -e '.action == "actions/list-self-hosted-runner-groups-for-org" and .status == 200' <<<"$output"
}

@test "--groups --group G --repository R: 0 usable, 1 not usable or no such group" {
	run -0 --separate-stderr gh-runners --groups --scope acme --group 'gpu BOXES' --repository acme/web
	jq -e '.name == "GPU boxes" and .repository == "web" and .usable' <<<"$output"
	run -1 --separate-stderr gh-runners --groups --scope acme --group 'GPU boxes' --repository api
	jq -e '.name == "GPU boxes" and .repository == "api" and (.usable | not)' <<<"$output"
	[[ "$stderr" == *"runner group 'GPU boxes' of acme exists, but repository api may not use it"* ]]
	run -0 --separate-stderr gh-runners --groups --scope acme --group everyone --repository api
	jq -e '.usable' <<<"$output"
	run -1 --separate-stderr gh-runners --groups --scope acme --group nope --repository web
	[ -z "$output" ]
	[ "$stderr" = "gh-runners: no runner group 'nope' in acme" ]
	# every group, each with its answer
	run -0 --separate-stderr gh-runners --groups --scope acme --repository api
	[ "$(printf '%s\n' "${lines[@]}" | jq -s -c 'map({(.name): .usable}) | add')" = \
		'{"Default":true,"GPU boxes":false,"everyone":true}' ]
}

@test "runner groups: bad input, before any GitHub call" {
	run -100 --separate-stderr gh-runners --groups --scope acme/web
	[[ "$stderr" == *"runner groups are an organization's"* ]]
	run -100 --separate-stderr gh-runners --groups --scope acme --group 'a$b'
	[[ "$stderr" == *"--group: 'a\$b' is not a runner group name"* ]]
	run -100 --separate-stderr gh-runners --groups --scope acme --repository other/web
	[[ "$stderr" == *"not a repository of acme"* ]]
	run -100 --separate-stderr gh-runners --list --scope acme --repository web
	[[ "$stderr" == *"--repository goes with --groups"* ]]
	run -100 --separate-stderr gh-runners --groups --scope acme --live /dev/null
	[ -z "$(gh_calls)" ]
}

@test "--group lists and cleans up only the runners of that group" {
	for g in "GPU boxes" "" everyone; do
		cloud_ctl POST /github/runners "$(jq -nc --arg g "$g" --arg n "rp-i-0000000000000000${#g}-1" \
			'{org: "acme", name: $n} + (if $g == "" then {} else {group: $g} end)')" >/dev/null
	done
	run -0 --separate-stderr gh-runners --list --scope acme --group 'gpu boxes'
	[ "${#lines[@]}" -eq 1 ]
	jq -e '.name == "rp-i-00000000000000009-1"' <<<"$output"
	run -0 gh_calls
	[[ "$output" == *'"actions/list-self-hosted-runners-in-group-for-org"'* ]]
	run -0 --separate-stderr gh-runners --scope acme --group everyone --live /dev/null
	jq -e '.name == "rp-i-00000000000000008-1" and .action == "deleted"' <<<"$output"
	[ "$(cloud_ctl GET /github/runners | jq -c '[.runners[].runner_group] | sort')" = '["Default","GPU boxes"]' ]
	run -100 --separate-stderr gh-runners --list --scope acme --group nope
	[ "$stderr" = "gh-runners: --group: no runner group 'nope' in acme" ]
}

@test "config.sh --runnergroup: into the group, or the real runner's refusal" {
	command -v python3 >/dev/null || skip "python3 needed by the stand-in runner"
	cp -R "$REPO_ROOT/tests/cloud/runner" "$BATS_TEST_TMPDIR/runner"
	cd "$BATS_TEST_TMPDIR/runner"
	cloud_ctl GET /github/runner-tarball | jq -r .version >VERSION
	export RUNNER_ALLOW_RUNASROOT=1
	tok=$(gh-regtoken --scope acme | jq -r .token)
	run -1 ./config.sh --url "$GITHUB_SERVER_URL/acme" --token "$tok" --name rp-x-1 \
		--labels 1 --runnergroup gpu --unattended
	[[ "$output" == *'Could not find any self-hosted runner group named "gpu".'* ]]
	[ ! -e .runner ]
	run -0 ./config.sh --url "$GITHUB_SERVER_URL/acme" --token "$tok" --name rp-x-1 \
		--labels 1 --runnergroup 'gpu boxes' --unattended
	jq -e '.poolName == "GPU boxes" and .poolId > 1' <.runner
	cloud_ctl GET /github/runners | jq -e '.runners[0].runner_group == "GPU boxes"'
	run -0 --separate-stderr gh-runners --list --scope acme --group 'GPU boxes'
	jq -e '.name == "rp-x-1"' <<<"$output"
	# a repository's runners have only the Default group
	rm -f .runner .credentials
	tok=$(gh-regtoken --scope acme/web | jq -r .token)
	run -1 ./config.sh --url "$GITHUB_SERVER_URL/acme/web" --token "$tok" --name rp-x-2 \
		--labels 1 --runnergroup everyone --unattended
	[[ "$output" == *'Could not find any self-hosted runner group named "everyone".'* ]]
}
