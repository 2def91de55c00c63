#!/usr/bin/env bats
# Golden records: the exact members of each tool's JSON Lines output, kept
# in tests/golden/TOOL.keys (one sorted, compact key list a line, one line
# a record shape), so that a renamed, dropped or added field fails here
# first, and the man page and README are looked at again.  After a
# deliberate change: GOLDEN_UPDATE=1 bats tests/0910-golden.bats

load helpers
bats_require_minimum_version 1.5.0

load cloud-file
setup() {
	cloud_reset
	export RUNNER_POOL=acme/web
	cloud_ctl POST /github/repos '{"repos":["acme/web"]}' >/dev/null
	cloud_ctl POST /github/tokens '{"token":"ghp_golden00000000000000000000000000001","scopes":["repo"]}' >/dev/null
	export GITHUB_TOKEN=ghp_golden00000000000000000000000000001
}


# shapes NAME: the key lists of stdout's records, unique, against the file
shapes() {
	local got want=$REPO_ROOT/tests/golden/$1.keys
	got=$(printf '%s\n' "$output" | jq -c 'keys' | sort -u)
	# GOLDEN_UPDATE=1 bats tests/0910-golden.bats rewrites the files
	[ -z "${GOLDEN_UPDATE:-}" ] || printf '%s\n' "$got" >"$want"
	[ "$got" = "$(cat "$want" 2>/dev/null)" ] || {
		echo "$1: got"; echo "$got"; echo "want"; cat "$want"; return 1
	}
}

idle='{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle","runner-pool:class":"default","runner-pool:usage":"spot","runner-pool:deadline":"1900000000"}}'

@test "pool-list, pool-tag, pool-reap" {
	id=$(cloud_seed 1 "$idle")
	run -0 --separate-stderr pool-list
	shapes pool-list
	run -0 --separate-stderr pool-tag --set x=y "$id"
	shapes pool-tag
	old=$(cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle","runner-pool:deadline":"1"}}')
	run -0 --separate-stderr pool-reap --dry-run --grace 0 --id "$old"
	shapes pool-reap
}

@test "pool-template, pool-launch" {
	printf '#!/bin/sh\n' >"$BATS_TEST_TMPDIR/ud"
	run -0 --separate-stderr pool-template --ami ami-0a1b2c3d4e5f60001 --instance-profile p \
		--security-group sg-0a1b2c3d4e5f60001 --user-data "$BATS_TEST_TMPDIR/ud"
	shapes pool-template
	run -0 --separate-stderr pool-launch --subnet subnet-0a1b2c3d4e5f60001 --count 1
	shapes pool-launch
}

@test "pool-param" {
	run -0 --separate-stderr bash -c 'echo v | pool-param put /runner-pool/g'
	shapes pool-param-put
	run -0 --separate-stderr pool-param get /runner-pool/g
	shapes pool-param-get
	run -0 --separate-stderr pool-param delete /runner-pool/g
	shapes pool-param-delete
}

@test "gh-regtoken, gh-runners, gh-runner-release" {
	run -0 --separate-stderr gh-regtoken --scope acme/web
	shapes gh-regtoken
	run -0 --separate-stderr gh-regtoken --scope acme/web --store /runner-pool/acme/web/regtoken
	shapes gh-regtoken-store
	cloud_ctl POST /github/runners '{"repo":"acme/web","name":"rp-i-0123456789abcdef0-1"}' >/dev/null
	run -0 --separate-stderr gh-runners --scope acme/web --live /dev/null --dry-run
	shapes gh-runners
	run -0 --separate-stderr gh-runner-release
	shapes gh-runner-release
}
