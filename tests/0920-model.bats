#!/usr/bin/env bats
# the model check of the claim protocol (tests/model/claims.py): the
# protocol the code implements (withdraw-request, the default) holds at the
# default bound, the models of the two earlier protocols find the grants
# after release they had, and every step of the model still names code
# that exists

bats_require_minimum_version 1.5.0
load helpers

M=tests/model/claims.py

@test "model: the claim protocol keeps every invariant at the default bound" {
	cd "$REPO_ROOT"
	run -0 "$PYTHON" "$M"
	[[ $output == *"protocol withdraw-request, "*"every invariant holds"* ]]
}

@test "model: two instances, one run: a claim given up and granted late never leaves the run more than it asked for" {
	# the count invariant needs a second instance: the claimant gives up
	# on one (no answer) and claims the other, and the first may still
	# grant; the surplus is handed back
	cd "$REPO_ROOT"
	run -0 "$PYTHON" "$M" --instances 2 --runs 1 --crashes 0 --lag 0
	[[ $output == *"2 instances, 1 runs (counts 1), 0 crashes, lag 0: every invariant holds"* ]]
}

@test "model: the agent's fix alone leaves a grant in flight past a withdrawal" {
	# the earlier pool-claim deleted its claims to withdraw them (no
	# release request): a grant sent before the withdrawal lands after the
	# run's release when the provision is killed in between
	cd "$REPO_ROOT"
	run -1 "$PYTHON" "$M" --protocol fixed
	[[ $output == *"invariant release broken"* ]]
	[[ $output == *"withdraws its claim on i0 (deletes the claim)"* ]]
}

@test "model: the old protocol grants to a run after its release" {
	cd "$REPO_ROOT"
	run -1 "$PYTHON" "$M" --protocol old --instances 1 --runs 1
	[[ $output == *"invariant release broken: run 1 was released, and i0 is claimed for it"* ]]
	[[ $output == *"provision of run 1 is killed"* ]]
	[[ $output == *"release of run 1 sees it COMPLETE"* ]]
	# the last step is the grant
	[[ $(grep -E '^ +[0-9]+\.' <<<"$output" | tail -n 1) == *"GRANTS run 1"* ]]
}

@test "model: each step names a function or tool that exists" {
	cd "$REPO_ROOT"
	run -0 "$PYTHON" "$M" --names
	[ "${#lines[@]}" -ge 10 ]
	# the agent is two files, the loop and the signer: steps name both
	[[ $output == *"libexec/agent.sh "* ]]
	[[ $output == *"libexec/agent-sigv4.sh "* ]]
	for l in "${lines[@]}"; do
		set -- $l
		[ -f "$1" ] || { echo "no file $1"; return 1; }
		grep -Eq "(^|[[:space:]])$2(\(|[[:space:]])" "$1" ||
			{ echo "$1 has no $2"; return 1; }
		# an agent function is defined in the file named, not the other one
		case $2 in rp_*) grep -q "^$2() " "$1" || { echo "$1 defines no $2"; return 1; } ;; esac
	done
}

@test "model: bad bounds are refused" {
	cd "$REPO_ROOT"
	run -100 "$PYTHON" "$M" --instances 9
	[[ $output == *"bound out of range"* ]]
	run -100 "$PYTHON" "$M" --runs 2 --counts 1
}
