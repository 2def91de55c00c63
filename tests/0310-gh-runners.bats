#!/usr/bin/env bats
# gh-runners: listing every page, cleaning up offline runners that no live
# instance backs, never an online or busy one or one of a live instance.

load helpers
bats_require_minimum_version 1.5.0

I1=i-00000000000000001
I2=i-00000000000000002
I3=i-00000000000000003
I4=i-00000000000000004

load cloud-file
setup() {
	cloud_reset
	cloud_ctl POST /github/repos '{"repos":["acme/web"],"orgs":["acme"]}' >/dev/null
	cloud_ctl POST /github/tokens '{"tokens":[
		{"token":"ghp_classicAll0000000000000000000000","scopes":["repo","admin:org"]},
		{"token":"github_pat_readonly_000000000000","permissions":{"acme/web":{"administration":"read"}}}]}' >/dev/null
	export GITHUB_TOKEN=ghp_classicAll0000000000000000000000
}

teardown() {
	[ -z "${RUNNER_PID:-}" ] || kill "$RUNNER_PID" 2>/dev/null || true
}

# seed NAME [JSON]: a runner without a process in acme/web (offline unless
# the JSON says otherwise)
seed() {
	cloud_ctl POST /github/runners "$(jq -nc --arg n "$1" --argjson x "${2:-{\}}" \
		'{repo: "acme/web", name: $n, labels: ["self-hosted"]} + $x')" >/dev/null
}

# the names of the runners left, sorted, one a line
left() {
	cloud_ctl GET /github/runners | jq -r '.runners[].name' | sort
}

gh_calls() {
	cloud_calls | jq -c 'select(.service == "github")'
}

no_mutation() {
	[ "$(cloud_calls | jq -s 'map(select(.mutating)) | length')" -eq 0 ]
}

# the record for runner NAME in $output
rec() {
	printf '%s\n' "${lines[@]}" | jq -c --arg n "$1" 'select(.name == $n)'
}

@test "gh-runners --help matches the man page SYNOPSIS, exit 0" {
	run -0 gh-runners --help
	[[ ${lines[0]} == "usage: gh-runners "* ]]
	want=$(gh-runners --help | sed -n '/^usage:/,/^$/p' | sed 's/^usage: //' | tr -s ' \t\n' ' ')
	got=$(mandoc -Tascii "$REPO_ROOT/man/gh-runners.1" | col -b |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/{/^[A-Z]/d;p}' | tr -s ' \t\n' ' ')
	[ "${got# }" = "${want# }" ] || [ "${got# }" = "$want" ]
	run -0 mandoc -Tlint -Wwarning "$REPO_ROOT/man/gh-runners.1"
}

@test "--list follows every page (250 runners, 100 a page) and only pool runners" {
	for i in $(seq 1 250); do
		printf '{"repo":"acme/web","name":"rp-i-%017x-%d"}\n' "$i" "$i"
	done | cloud_ctl_each POST /github/runners >/dev/null
	seed build-box-1
	seed build-box-2
	run -0 --separate-stderr gh-runners --list --scope acme/web
	[ "${#lines[@]}" -eq 250 ]
	[ -z "$stderr" ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .id | sort -u | wc -l)" -eq 250 ]
	jq -e '.name == "rp-i-00000000000000001-1" and .instance_id == "i-00000000000000001"
		and .status == "offline" and .busy == false and .labels == []
		and (has("action") | not)' <<<"${lines[0]}"
	run -0 gh_calls
	[ "${#lines[@]}" -eq 3 ]
	for l in "${lines[@]}"; do
		jq -e '.action == "actions/list-self-hosted-runners-for-repo" and .status == 200
			and .user_agent_ok and .accept_ok and .api_version_ok' <<<"$l"
	done
	jq -e '.params.per_page == ["100"] or .params.per_page == "100"' <<<"${lines[0]}"
	no_mutation
}

@test "clean-up deletes only offline runners no live instance backs" {
	seed "rp-$I1-101"
	seed "rp-$I2-102"
	seed "rp-$I3-103" '{"status":"online"}'
	seed "rp-$I4-104" '{"busy":true}'
	seed "rp-$I1-105" '{"status":"online","busy":true}'
	seed rp-noinstance-106
	seed build-box
	printf '{"id":"%s","state":"running"}\n{"id":"%s"}\n' "$I2" "$I3" >"$BATS_TEST_TMPDIR/live"
	run -0 --separate-stderr gh-runners --scope acme/web --live "$BATS_TEST_TMPDIR/live"
	[ "${#lines[@]}" -eq 6 ]
	rec "rp-$I1-101" | jq -e --arg i "$I1" '.action == "deleted" and .instance_id == $i
		and .reason == "offline, instance not live" and .status == "offline"'
	rec "rp-$I2-102" | jq -e '.action == "kept" and .reason == "instance is live"'
	rec "rp-$I3-103" | jq -e '.action == "kept" and .reason == "online"'
	rec "rp-$I4-104" | jq -e '.action == "kept" and .reason == "busy"'
	rec "rp-$I1-105" | jq -e '.action == "kept" and .reason == "busy"'
	rec rp-noinstance-106 | jq -e '.action == "kept" and .instance_id == null and
		.reason == "not the pool'"'"'s: no instance id in its name (--foreign to delete)"'
	run -0 left
	[ "$output" = "build-box
rp-$I1-105
rp-$I2-102
rp-$I3-103
rp-$I4-104
rp-noinstance-106" ]
	gh_calls | jq -s -e 'map(select(.method == "DELETE")) | length == 1 and all(.status == 204)'
	# asked for: a runner that is not the pool's goes too
	run -0 --separate-stderr gh-runners --scope acme/web --live "$BATS_TEST_TMPDIR/live" --foreign
	rec rp-noinstance-106 | jq -e '.action == "deleted" and .reason == "offline, no instance id in its name"'
}

@test "--label cannot sweep runners that are not the pool's; a dry run says what the real run does" {
	seed "rp-$I1-1" '{"labels":["self-hosted"]}'
	seed shared-box '{"labels":["self-hosted"]}'
	run -0 --separate-stderr gh-runners --scope acme/web --label self-hosted --live /dev/null --dry-run
	rec "rp-$I1-1" | jq -e '.action == "would delete"'
	rec shared-box | jq -e '.action == "kept"'
	run -0 --separate-stderr gh-runners --scope acme/web --label self-hosted --live /dev/null
	rec "rp-$I1-1" | jq -e '.action == "deleted"'
	rec shared-box | jq -e '.action == "kept"'
	[ "$(left)" = shared-box ]
}

@test "--dry-run deletes nothing; --live /dev/null means nothing is live" {
	seed "rp-$I1-1"
	seed "rp-$I2-2" '{"status":"online"}'
	run -100 --separate-stderr gh-runners --scope acme/web --dry-run
	[[ $stderr == "gh-runners: deleting (or --dry-run) needs --live FILE"* ]]
	printf '{"id":"%s"}\n' "$I2" >"$BATS_TEST_TMPDIR/live"
	run -0 --separate-stderr gh-runners --scope acme/web --dry-run --live "$BATS_TEST_TMPDIR/live"
	rec "rp-$I1-1" | jq -e '.action == "would delete"'
	rec "rp-$I2-2" | jq -e '.action == "kept" and .reason == "online"'
	no_mutation
	[ "$(left | wc -l)" -eq 2 ]
	run -0 --separate-stderr gh-runners --scope acme/web --live /dev/null
	rec "rp-$I1-1" | jq -e '.action == "deleted"'
	[ "$(left)" = "rp-$I2-2" ]
}

@test "--live - reads pool-list's output from stdin" {
	ids=$(cloud_seed 2 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle"}}')
	a=$(sed -n 1p <<<"$ids")
	b=$(sed -n 2p <<<"$ids")
	seed "rp-$a-7"
	seed "rp-$b-8"
	seed "rp-$I4-9"
	run -0 --separate-stderr bash -c 'set -o pipefail; pool-list --pool acme/web | gh-runners --scope acme/web --live -'
	[ "${#lines[@]}" -eq 3 ]
	rec "rp-$a-7" | jq -e '.action == "kept" and .reason == "instance is live"'
	rec "rp-$b-8" | jq -e '.action == "kept" and .reason == "instance is live"'
	rec "rp-$I4-9" | jq -e '.action == "deleted"'
	[ "$(left | wc -l)" -eq 2 ]
}

@test "a real (stand-in) runner: kept while online, deleted once stopped" {
	command -v python3 >/dev/null || skip "python3 needed by the stand-in runner"
	cp -R "$REPO_ROOT/tests/cloud/runner" "$BATS_TEST_TMPDIR/runner"
	cd "$BATS_TEST_TMPDIR/runner"
	# a current version: GitHub refuses to register one below 2.329.0
	cloud_ctl GET /github/runner-tarball | jq -r .version >VERSION
	tok=$(gh-regtoken --scope acme/web | jq -r .token)
	export RUNNER_ALLOW_RUNASROOT=1 STANDIN_POLL_S=0.2
	run -0 ./config.sh --url "$GITHUB_SERVER_URL/acme/web" --token "$tok" \
		--name "rp-$I1-4242" --labels 4242 --unattended
	./run.sh >run.log 2>&1 &
	RUNNER_PID=$!
	for _ in $(seq 1 50); do
		[ "$(cloud_ctl GET /github/runners | jq -r '.runners[0].status')" = online ] && break
		sleep 0.1
	done
	run -0 --separate-stderr gh-runners --scope acme/web --live /dev/null
	jq -e '.action == "kept" and .reason == "online" and (.labels | index("4242"))' <<<"$output"
	kill -TERM "$RUNNER_PID"
	wait "$RUNNER_PID" || true
	unset RUNNER_PID
	run -0 --separate-stderr gh-runners --scope acme/web --live /dev/null
	jq -e '.action == "deleted" and .status == "offline"' <<<"$output"
	[ -z "$(left)" ]
}

@test "--label selects runners whatever their name" {
	seed "rp-$I1-1"
	seed "ci-$I2-77" '{"labels":["run-77"]}'
	seed other '{"labels":["run-78"]}'
	run -0 --separate-stderr gh-runners --list --scope acme/web --prefix zz- --label RUN-77
	[ "${#lines[@]}" -eq 1 ]
	jq -e --arg i "$I2" '.name == "ci-\($i)-77" and .instance_id == $i' <<<"$output"
	run -0 --separate-stderr gh-runners --list --scope acme/web --label run-77 --label run-78
	[ "${#lines[@]}" -eq 3 ]
}

@test "org scope with a GitHub App" {
	unset GITHUB_TOKEN
	openssl genrsa -out "$BATS_TEST_TMPDIR/app.pem" 2048 2>/dev/null
	cloud_ctl POST /github/apps "$(jq -n --arg k "$(cat "$BATS_TEST_TMPDIR/app.pem")" \
		'{app_id: 99, public_key_pem: $k, installations: [{id: 5, account: "acme"}]}')" >/dev/null
	cloud_ctl POST /github/runners "{\"org\":\"acme\",\"name\":\"rp-$I1-1\"}" >/dev/null
	cloud_ctl POST /github/runners "{\"org\":\"acme\",\"name\":\"rp-$I2-2\"}" >/dev/null
	seed "rp-$I3-3"
	printf '{"id":"%s"}\n' "$I2" >"$BATS_TEST_TMPDIR/live"
	run -0 --separate-stderr gh-runners --scope acme --app-id 99 \
		--app-key-file "$BATS_TEST_TMPDIR/app.pem" --live "$BATS_TEST_TMPDIR/live"
	[ "${#lines[@]}" -eq 2 ]
	rec "rp-$I1-1" | jq -e '.action == "deleted"'
	rec "rp-$I2-2" | jq -e '.action == "kept"'
	gh_calls | jq -s -e 'map(select(.action | startswith("actions/"))) | all(.auth_kind == "installation")
		and (map(.action) | index("actions/delete-self-hosted-runner-from-org"))'
	# the repository's runner is not the organization's
	[ "$(left)" = "rp-$I2-2
rp-$I3-3" ]
}

@test "deletion refused for a missing permission: named, exit 100, the rest still handled" {
	seed "rp-$I1-1"
	seed "rp-$I2-2"
	seed "rp-$I3-3" '{"status":"online"}'
	GITHUB_TOKEN=github_pat_readonly_000000000000 \
		run -100 --separate-stderr gh-runners --scope acme/web --live /dev/null
	[ "${#lines[@]}" -eq 3 ]
	rec "rp-$I1-1" | jq -e '.action == "failed" and (.reason | test("administration: write"))'
	rec "rp-$I2-2" | jq -e '.action == "failed"'
	rec "rp-$I3-3" | jq -e '.action == "kept"'
	[[ ${stderr_lines[0]} == "gh-runners: runner 1: github DELETE /repos/acme/web/actions/runners/1: 403 Resource not accessible by personal access token: "*"administration: write"* ]]
	[ "$(left | wc -l)" -eq 3 ]
}

@test "5xx while listing and a secondary limit on delete are retried" {
	seed "rp-$I1-1"
	cloud_fault '{"service":"github","action":"actions/list-self-hosted-runners-for-repo","kind":"5xx","count":2}' \
		'{"service":"github","action":"actions/delete-self-hosted-runner-from-repo","kind":"secondary","count":1,"retry_after":1}'
	run -0 --separate-stderr gh-runners --scope acme/web --live /dev/null
	jq -e '.action == "deleted"' <<<"$output"
	gh_calls | jq -s -e 'map(select(.method == "DELETE")) | map(.status) == [403, 204]'
	gh_calls | jq -s -e 'map(select(.action == "actions/list-self-hosted-runners-for-repo")) | map(.status) == [502, 502, 200]'
	# a listing that keeps failing deletes nothing: 111
	seed "rp-$I2-2"
	cloud_fault '{"service":"github","action":"actions/list-self-hosted-runners-for-repo","kind":"5xx","count":5}'
	run -111 --separate-stderr gh-runners --scope acme/web --live /dev/null
	[ -z "$output" ]
	[[ $stderr == *"502 Server Error (after 5 attempts)"* ]]
	[ "$(left)" = "rp-$I2-2" ]
}

@test "no runner matched: exit 1, nothing printed" {
	seed build-box
	run -1 --separate-stderr gh-runners --scope acme/web --live /dev/null
	[ -z "$output" ]
	[ -z "$stderr" ]
	no_mutation
}

@test "bad input: one clear line, exit 100, nothing sent" {
	seed "rp-$I1-1"
	cloud_ctl DELETE /calls >/dev/null
	run -100 --separate-stderr gh-runners --scope acme/web
	[[ ${stderr_lines[0]} == "gh-runners: deleting (or --dry-run) needs --live FILE, the live pool instances (--live /dev/null: none)"* ]]
	run -100 --separate-stderr gh-runners --scope acme/web --list --live /dev/null
	[[ ${stderr_lines[0]} == "gh-runners: --list takes neither --dry-run, --live nor --foreign"* ]]
	run -100 --separate-stderr gh-runners --scope 'acme/we b' --dry-run --live /dev/null
	[[ ${stderr_lines[0]} == *"is not owner/repo or an organization name" ]]
	echo '{"id":"i-nothex"}' >"$BATS_TEST_TMPDIR/live"
	run -100 --separate-stderr gh-runners --scope acme/web --live "$BATS_TEST_TMPDIR/live"
	[[ ${stderr_lines[0]} == "gh-runners: $BATS_TEST_TMPDIR/live:1: 'i-nothex' is not "* ]]
	printf '{"id":"%s"}\nnot json\n' "$I1" >"$BATS_TEST_TMPDIR/live"
	run -100 --separate-stderr gh-runners --scope acme/web --live "$BATS_TEST_TMPDIR/live"
	[[ ${stderr_lines[0]} == "gh-runners: $BATS_TEST_TMPDIR/live:2: not a JSON object"* ]]
	run -100 --separate-stderr gh-runners --scope acme/web --live "$BATS_TEST_TMPDIR/nope"
	[[ ${stderr_lines[0]} == "gh-runners: --live '$BATS_TEST_TMPDIR/nope': No such file or directory"* ]]
	run -100 --separate-stderr gh-runners --scope acme/web --dry-run --live /dev/null --prefix ''
	[[ ${stderr_lines[0]} == "gh-runners: --prefix: 1 to 64 characters"* ]]
	run -100 --separate-stderr gh-runners --scope acme/web --dry-run --live /dev/null --token=ghp_classicAll0000000000000000000000
	[[ ${stderr_lines[0]} == "gh-runners: unknown option '--token' (tokens are read from \$GITHUB_TOKEN or --token-file)"* ]]
	[[ $stderr != *ghp_classicAll* ]]
	unset GITHUB_TOKEN
	run -100 --separate-stderr gh-runners --scope acme/web --dry-run --live /dev/null
	[[ ${stderr_lines[0]} == "gh-runners: no GitHub credentials: "* ]]
	[ -z "$(cloud_calls)" ]
	[ "$(left)" = "rp-$I1-1" ]
}
