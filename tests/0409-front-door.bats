#!/usr/bin/env bats
# The front door, ec2-runner-pool MODE [--INPUT VALUE]...: the action's
# inputs as options or INPUT_* variables, validated by the code the action
# runs, and usable once installed (make install) from a cron host.

load helpers
bats_require_minimum_version 1.5.0

DOOR=$REPO_ROOT/ec2-runner-pool

load cloud-file
setup() {
	cloud_reset
}

@test "front door: its options are action.yml's inputs, less the mode and the secrets" {
	local yml door
	yml=$(awk '/^inputs:/ { on = 1; next } /^[a-z]/ { on = 0 }
		on && /^  [a-z0-9-]+:$/ { sub(/^  /, ""); sub(/:$/, ""); print }' \
		"$REPO_ROOT/action.yml" | grep -vxE 'mode|github-token|github-app-private-key' | sort)
	door=$(sed -n "/^inputs='/,/'\$/p" "$DOOR" | tr -d "'" | sed 's/^inputs=//' |
		tr ' ' '\n' | grep . | sort)
	[ -n "$yml" ]
	diff <(printf '%s\n' "$yml") <(printf '%s\n' "$door")
}

@test "front door: an option wins over INPUT_*, both spellings; a bad input calls nothing" {
	# timeout-sec 0 in the environment is bad; the option's 5 replaces it,
	# so the first bad input is the option --instance-count 0
	run --separate-stderr env INPUT_TIMEOUT_SEC=0 "$DOOR" provision \
		--timeout-sec=5 --pool acme/web --run-id 7 --instance-count 0
	[ "$status" -eq 100 ]
	[ "$stderr" = "ec2-runner-pool: input instance-count: '0' is out of range 1..100" ]
	# and an environment value is read when no option gives it
	run --separate-stderr env INPUT_TIMEOUT_SEC=0 "$DOOR" provision --pool acme/web --run-id 7
	[ "$status" -eq 100 ]
	[[ "$stderr" == *"input timeout-sec: '0'"* ]]
	[ -z "$(cloud_calls)" ]
}

@test "front door: a secret is never an option, and its value is not echoed" {
	local tok=ghp_frontdoor000000000000000000000000001
	run --separate-stderr "$DOOR" refresh --github-token "$tok"
	[ "$status" -eq 100 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"input github-token is a secret"* ]]
	[[ "$stderr" != *"$tok"* ]]
	run --separate-stderr "$DOOR" refresh "--github-app-private-key=$tok"
	[ "$status" -eq 100 ]
	[[ "$stderr" != *"$tok"* ]]
	[ -z "$(cloud_calls)" ]
}

@test "front door: usage errors are one line and exit 100" {
	run --separate-stderr "$DOOR" provision --no-such-input 1
	[ "$status" -eq 100 ]
	[ "$stderr" = "ec2-runner-pool: unknown option --no-such-input (ec2-runner-pool --help; inputs as in action.yml)" ]
	run --separate-stderr "$DOOR" provision --run-id
	[ "$status" -eq 100 ]
	[ "$stderr" = "ec2-runner-pool: option --run-id needs a value" ]
	run --separate-stderr "$DOOR" provision 7
	[ "$status" -eq 100 ]
	[ "$stderr" = "ec2-runner-pool: '7' is not an option (--INPUT VALUE)" ]
	run --separate-stderr "$DOOR" sideways
	[ "$status" -eq 100 ]
	[ "$stderr" = "ec2-runner-pool: input mode: 'sideways' is not provision, release, refresh or check" ]
	run --separate-stderr "$DOOR"
	[ "$status" -eq 100 ]
	[[ "$stderr" == "usage: ec2-runner-pool"* ]]
	[ -z "$(cloud_calls)" ]
}

@test "front door: installed by make install, it finds its modes and tools and runs a mode" {
	local p=$BATS_TEST_TMPDIR/prefix f
	run make -s -C "$REPO_ROOT" install PREFIX="$p"
	[ "$status" -eq 0 ]
	# the modes run; what is sourced, run with sh or shipped is read only
	for f in provision release refresh check; do
		[ "$(stat -c %a "$p/libexec/ec2-runner-pool/$f")" = 755 ]
	done
	for f in common.sh inputs agent-sigv4.sh agent.sh agent-boot.sh; do
		[ "$(stat -c %a "$p/libexec/ec2-runner-pool/$f")" = 644 ]
	done
	[ -f "$p/share/man/man1/ec2-runner-pool.1" ]
	run "$p/bin/ec2-runner-pool" --help
	[ "$status" -eq 0 ]
	# from another directory, with the source tree's tools off PATH: a
	# release of a run with nothing to release lists the pool (one call)
	cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle"}}' >/dev/null
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr env PATH=/usr/bin:/bin "$p/bin/ec2-runner-pool" release \
		--pool acme/web --run-id 42 --timeout-sec 20
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"released=0"* ]]
	[ -n "$(cloud_calls service=ec2)" ]
	[ -z "$(cloud_mutating_calls)" ]
}

@test "the RP_* contract: every variable the shell glue uses is in common.sh's table" {
	local table used missing
	table=$(sed -n '/^# The RP_\* contract/,/^# shellcheck/p' "$REPO_ROOT/libexec/common.sh" |
		grep -oE 'RP_[A-Z0-9_]+' | sort -u)
	used=$(cat "$REPO_ROOT"/libexec/* "$REPO_ROOT/ec2-runner-pool" "$REPO_ROOT"/tests/e2e.bash |
		grep -oE 'RP_[A-Z0-9_]+' | sort -u)
	missing=$(comm -13 <(printf '%s\n' "$table") <(printf '%s\n' "$used"))
	[ -z "$missing" ] || { echo "not in the table: $missing"; false; }
}
