#!/usr/bin/env bats
# pool-claim against a stand-in for the agents: a loop that grants, on each
# idle instance, the earliest fresh claim (the single-writer rule), and
# refuses instances tagged no-grant (as an agent past its deadline would).

load helpers
bats_require_minimum_version 1.5.0

# one cloud for the file, reset before each test (a start costs more than
# most tests)
setup_file() {
	cloud_start "$BATS_FILE_TMPDIR/cloud"
}
teardown_file() {
	cloud_stop
}
setup() {
	cloud_ctl POST /reset >/dev/null
	export RUNNER_POOL=acme/web
	future=$(( $(date +%s) + 3600 ))
	IDLE="{\"tags\":{\"runner-pool:pool\":\"acme/web\",\"runner-pool:state\":\"idle\",\"runner-pool:deadline\":\"$future\"}}"
}

teardown() {
	[ -z "${AGENTS:-}" ] || kill "$AGENTS" 2>/dev/null || true
}

agents() {
	(
		while :; do
			cloud_ctl GET /instances | jq -c '(.instances // .)[]
				| select(.tags["runner-pool:state"] == "idle" and (.tags["runner-pool:no-grant"] | not))
				| {id, claims: [.tags | to_entries[] | select(.key | startswith("runner-pool:claim:"))
					| {run: (.key | ltrimstr("runner-pool:claim:")), at: (.value | tonumber)}]}
				| select(.claims | length > 0)' 2>/dev/null |
			while read -r l; do
				id=$(jq -r .id <<<"$l")
				run=$(jq -r '.claims | sort_by(.at, .run) | .[0].run' <<<"$l")
				rm=$(jq -r '.claims[] | "--remove=claim:\(.run)"' <<<"$l")
				# look again just before granting, as the agent does
				cloud_ctl GET /instances | jq -e --arg id "$id" --arg k "runner-pool:claim:$run" \
					'(.instances // .)[] | select(.id == $id) | .tags[$k]' >/dev/null || continue
				pool-tag --set state=claimed --set "run-id=$run" $rm "$id" >/dev/null 2>&1
			done
			sleep 0.2
		done
	) 3>&- &
	AGENTS=$!
}

@test "pool-claim owns what the agents grant, and leaves the rest unclaimed" {
	cloud_seed 3 "$IDLE" >/dev/null
	agents
	run -0 --separate-stderr bash -c 'pool-list --state idle | pool-claim --run-id 11 --count 2 --interval 100'
	[ "${#lines[@]}" -eq 2 ]
	for l in "${lines[@]}"; do jq -e '.run_id == "11" and .state == "claimed"' <<<"$l"; done
	# one CreateTags carried both claims
	cloud_calls | jq -s -e 'map(select(.action == "CreateTags" and .access_key != null
		and (.params | to_entries | map(.value) | index("runner-pool:claim:11")))) | length == 1'
	run -0 pool-list --state idle
	[ "${#lines[@]}" -eq 1 ]
	jq -e '.claims == []' <<<"$output"
}

@test "pool-claim withdraws claims not granted in time and says no (1)" {
	cloud_seed 1 "$IDLE" >/dev/null
	cloud_seed 2 "{\"tags\":{\"runner-pool:pool\":\"acme/web\",\"runner-pool:state\":\"idle\",\"runner-pool:deadline\":\"$future\",\"runner-pool:no-grant\":\"1\"}}" >/dev/null
	agents
	run -1 --separate-stderr bash -c 'pool-list --state idle | pool-claim --run-id 12 --count 3 --timeout 6 --interval 100'
	[ "${#lines[@]}" -eq 1 ]
	[[ "$stderr" == *"claimed 1 of 3"* ]]
	# no claim of run 12 is left behind anywhere
	run -0 pool-list
	! printf '%s\n' "${lines[@]}" | jq -e 'select(.claims | map(.run_id) | index("12"))'
}

@test "pool-claim loses instances granted to an earlier claimant" {
	cloud_seed 2 "$IDLE" >/dev/null
	# run 5 claimed first (an older timestamp)
	pool-list | pool-tag --set claim:5=1000 >/dev/null
	agents
	run -1 --separate-stderr bash -c 'pool-list --state idle | pool-claim --run-id 13 --count 2 --timeout 10 --interval 100'
	[ "${#lines[@]}" -eq 0 ]
	run -0 pool-list --run-id 5 --state claimed
	[ "${#lines[@]}" -eq 2 ]
}

@test "concurrent claimants never share an instance" {
	cloud_seed 6 "$IDLE" >/dev/null
	agents
	pids=()
	for r in 21 22 23 24; do
		(pool-list --state idle | pool-claim --run-id $r --count 2 --timeout 5 --interval 100 \
			>"$BATS_TEST_TMPDIR/claim.$r" 2>/dev/null) 3>&- &
		pids+=($!)
	done
	wait "${pids[@]}" || true
	total=$(cat "$BATS_TEST_TMPDIR"/claim.* | wc -l)
	unique=$(cat "$BATS_TEST_TMPDIR"/claim.* | jq -r .id | sort -u | wc -l)
	[ "$total" -eq "$unique" ]
	[ "$total" -le 6 ]
	# every printed instance is really owned by the run that printed it
	for r in 21 22 23 24; do
		while read -r id; do
			[ "$(pool-list --id "$id" | jq -r .run_id)" = "$r" ]
		done < <(jq -r .id "$BATS_TEST_TMPDIR/claim.$r")
	done
}

@test "pool-claim treats the tag limit as a lost claim" {
	tags=$(jq -nc --arg d "$future" '[range(47)] | map({key: "k\(.)", value: "v"}) | from_entries
		+ {"runner-pool:pool":"acme/web","runner-pool:state":"idle","runner-pool:deadline":$d}')
	cloud_seed 1 "{\"tags\":$tags}" >/dev/null
	cloud_seed 1 "$IDLE" >/dev/null
	agents
	run -1 --separate-stderr bash -c 'pool-list --state idle | pool-claim --run-id 14 --count 2 --timeout 10 --interval 100'
	[ "${#lines[@]}" -eq 1 ]
	[[ "$stderr" == *"TagLimitExceeded: claim lost"* ]]
}

@test "pool-claim waits out a throttled read-back: never 'unknown error', never a give-up" {
	cloud_seed 1 "$IDLE" >/dev/null
	agents
	# pool-list's describe passes; pool-claim's read-backs are throttled
	# (one attempt each: nothing retries them below pool-claim) three times
	cloud_fault '{"service":"ec2","action":"DescribeInstances","kind":"throttle","skip":1,"count":3}'
	run -0 --separate-stderr bash -c 'pool-list --state idle | AWS_MAX_ATTEMPTS=1 pool-claim --run-id 16 --timeout 30 --interval 100'
	[ "${#lines[@]}" -eq 1 ]
	jq -e '.run_id == "16"' <<<"$output"
	[[ $stderr == *"reading back: "*"RequestLimitExceeded"*"again later"* ]]
	[[ $stderr != *"unknown error"* ]]
}

@test "pool-claim with no candidates says no; bad input is refused before any call" {
	run -1 --separate-stderr pool-claim --run-id 15 </dev/null
	run -100 --separate-stderr pool-claim </dev/null
	[[ "$stderr" == *"--run-id is required"* ]]
	run -100 --separate-stderr pool-claim --run-id 15 --count 0 </dev/null
	run -100 --separate-stderr bash -c 'echo "[1]" | pool-claim --run-id 15'
	[[ "$stderr" == *"stdin:1: not a JSON object"* ]]
	[ "$(cloud_calls | wc -l)" -eq 0 ]
}
