#!/usr/bin/env bats
# gh-runner-release: the newest or a pinned runner release, its checksums
# from the release notes, and github.com's two rules as warnings (below
# 2.329.0: no registration; superseded for over 30 days: no jobs), against
# the local cloud's GitHub (tests/cloud/releases.py).

load helpers
bats_require_minimum_version 1.5.0

load cloud-file
setup() {
	cloud_reset
	cloud_ctl POST /github/tokens '{"token":"ghp_classicRepo000000000000000000000","scopes":["repo"]}' >/dev/null
	unset GITHUB_REPOSITORY
}


gh_calls() { cloud_calls | jq -c 'select(.service == "github")'; }
sha() { cloud_ctl GET "/github/runner-tarball?version=$1&arch=${2:-x64}" | jq -r .published_sha256; }

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

@test "latest: the newest full release, its checksums, one unauthenticated call" {
	run --separate-stderr gh-runner-release
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	jq -e --arg x "$(sha 2.338.0)" --arg a "$(sha 2.338.0 arm64)" '
		.version == "2.338.0" and .tag == "v2.338.0" and .latest == "2.338.0" and
		.published_at == "2026-10-21T10:00:00Z" and .sha256 == {x64: $x, arm64: $a} and
		.warnings == []' <<<"$output"
	[ -z "$stderr" ]
	run -0 gh_calls
	[ "${#lines[@]}" -eq 1 ]
	jq -e '.action == "repos/get-latest-release" and .auth_kind == "none" and
		.path == "/api/v3/repos/actions/runner/releases/latest" and .user_agent_ok and .api_version_ok' <<<"$output"
}

@test "latest skips prereleases and drafts; with a token the call is authenticated" {
	cloud_ctl POST /github/settings '{"runner_releases": [
		{"version": "2.340.0", "published_at": "2026-11-01T00:00:00Z"},
		{"version": "2.341.0", "published_at": "2026-11-02T00:00:00Z", "prerelease": true},
		{"version": "2.342.0", "published_at": "2026-11-03T00:00:00Z", "draft": true}]}' >/dev/null
	GITHUB_TOKEN=ghp_classicRepo000000000000000000000 run --separate-stderr gh-runner-release --arch arm64
	[ "$status" -eq 0 ]
	jq -e --arg a "$(sha 2.340.0 arm64)" '.version == "2.340.0" and .sha256 == {arm64: $a}' <<<"$output"
	[ "$(gh_calls | jq -r .auth_kind)" = classic ]
}

@test "pinned: below the registration minimum and long superseded, warned twice, status 0" {
	run --separate-stderr gh-runner-release --version 2.319.1 --arch x64
	[ "$status" -eq 0 ]
	jq -e --arg x "$(sha 2.319.1)" '.version == "2.319.1" and .latest == "2.338.0" and .sha256.x64 == $x and
		(.warnings | length) == 2' <<<"$output"
	[[ "${stderr_lines[0]}" == "gh-runner-release: warning: runner v2.319.1 is below 2.329.0, the oldest version github.com lets register" ]]
	[[ "${stderr_lines[1]}" == "gh-runner-release: warning: runner v2.319.1 was superseded on 2025-10-15T10:00:00Z, more than 30 days ago: github.com gives it no jobs" ]]
	run -0 gh_calls
	[ "$(jq -r .action <<<"$output" | tr '\n' ' ')" = "repos/get-release-by-tag repos/list-releases " ]
}

@test "pinned: superseded 10 days ago is still accepted, with a warning saying until when" {
	now=$(date +%s)
	cloud_ctl POST /github/settings "$(jq -cn --arg a "$(iso $((now - 90 * 86400)))" --arg b "$(iso $((now - 10 * 86400)))" \
		'{runner_releases: [{version: "2.335.0", published_at: $a}, {version: "2.336.0", published_at: $b}]}')" >/dev/null
	run --separate-stderr gh-runner-release --version 2.335.0
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"superseded on $(iso $((now - 10 * 86400))): github.com gives it no jobs 30 days after that"* ]]
	run --separate-stderr gh-runner-release --version 2.336.0
	jq -e '.warnings == [] and .latest == "2.336.0"' <<<"$output"
}

@test "notes without checksums: the assets' digests; neither: exit 100 naming the package" {
	cloud_ctl POST /github/settings '{"runner_notes_checksums": false}' >/dev/null
	run --separate-stderr gh-runner-release
	[ "$status" -eq 0 ]
	jq -e --arg x "$(sha 2.338.0)" '.sha256.x64 == $x' <<<"$output"
	cloud_ctl POST /github/settings '{"runner_asset_digests": false}' >/dev/null
	run --separate-stderr gh-runner-release
	[ "$status" -eq 100 ]
	[ "$stderr" = "gh-runner-release: release v2.338.0 of the runner publishes no SHA-256 for linux-x64" ]
	[ -z "$output" ]
	run --separate-stderr gh-runner-release --arch amd64
	[ "$status" -eq 100 ]
	[ "$stderr" = "gh-runner-release: --arch: 'amd64' is not a runner architecture (x64, arm64, arm)" ]
}

@test "no such release: exit 100; bad input: exit 100 before any call" {
	run --separate-stderr gh-runner-release --version 2.300.0
	[ "$status" -eq 100 ]
	[[ "$stderr" == "gh-runner-release: no release 2.300.0 of actions/runner"* ]]
	cloud_reset
	for bad in 2.3 2.3.x 02.3.4 "2.3.4
"; do
		run --separate-stderr gh-runner-release --version "$bad"
		[ "$status" -eq 100 ]
		[[ "$stderr" == "gh-runner-release: --version: "*"is not a runner version (N.N.N)" ]]
	done
	run --separate-stderr gh-runner-release --repo nope
	[ "$status" -eq 100 ]
	[ -z "$(gh_calls)" ]
}

@test "5xx is retried; a 5xx that lasts is 111" {
	cloud_fault '{"service":"github","action":"repos/get-latest-release","kind":"5xx","count":1}'
	run -0 gh-runner-release
	cloud_fault '{"service":"github","action":"repos/get-latest-release","kind":"5xx","count":50}'
	run --separate-stderr gh-runner-release
	[ "$status" -eq 111 ]
}
