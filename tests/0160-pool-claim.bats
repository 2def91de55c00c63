#!/usr/bin/env bats
# pool-claim against a stand-in for the agents: a loop that grants, on each
# idle instance, the earliest fresh claim of a run without a release
# request (the single-writer rule), drops a claim with its run's request,
# hands back an instance whose run asks for its release, and refuses
# instances tagged no-grant (as an agent past its deadline would).

load helpers
bats_require_minimum_version 1.5.0

load cloud-file
setup() {
	cloud_reset
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
				| select(.tags["runner-pool:no-grant"] | not)
				| {id, st: .tags["runner-pool:state"], run: .tags["runner-pool:run-id"],
				   late: (.tags["runner-pool:late-grant"] != null),
				   claims: [.tags | to_entries[] | select(.key | startswith("runner-pool:claim:"))
					| {run: (.key | ltrimstr("runner-pool:claim:")), at: (.value | tonumber)}],
				   rels: [.tags | keys[] | select(startswith("runner-pool:release:"))
					| ltrimstr("runner-pool:release:")]}
				| select(.st == "idle" and (.late or (.claims | length > 0) or (.rels | length > 0))
					or (.st != "idle" and (.run as $r | .rels | index($r))))' 2>/dev/null |
			while read -r l; do
				id=$(jq -r .id <<<"$l")
				# a release request for the run it serves: handed back
				if [ "$(jq -r .st <<<"$l")" != idle ]; then
					run=$(jq -r .run <<<"$l")
					pool-tag --set state=idle --remove run-id --remove "release:$run" \
						--remove "claim:$run" "$id" >/dev/null 2>&1
					continue
				fi
				# late-grant: its grant is sent once it sees a claim (the
				# precheck passed) and lands only after the claimant
				# withdrew it, however it did
				if jq -e .late <<<"$l" >/dev/null; then
					f=$BATS_TEST_TMPDIR/late.$id
					if [ ! -f "$f" ]; then
						jq -r '.claims[0].run // empty' <<<"$l" >"$f"
						[ -s "$f" ] || rm -f "$f"
					elif run=$(cat "$f") && jq -e --arg r "$run" \
						'(.claims | map(.run) | index($r) | not) or (.rels | index($r))' \
						<<<"$l" >/dev/null; then
						pool-tag --set state=claimed --set "run-id=$run" \
							--remove "claim:$run" "$id" >/dev/null 2>&1 && rm -f "$f"
					fi
					continue
				fi
				# a claim of a run with a release request is dropped with
				# it, never granted
				run=$(jq -r '.rels as $q | [.claims[] | select(.run as $r | $q | index($r) | not)]
					| sort_by(.at, .run) | .[0].run // empty' <<<"$l")
				rm=$(jq -r '(.claims[] | "--remove=claim:\(.run)"), (.rels[] | "--remove=release:\(.)")' <<<"$l")
				if [ -z "$run" ]; then
					pool-tag $rm "$id" >/dev/null 2>&1
					continue
				fi
				# look again just before granting, as the agent does
				cloud_ctl GET /instances | jq -e --arg id "$id" \
					--arg k "runner-pool:claim:$run" --arg q "runner-pool:release:$run" \
					'(.instances // .)[] | select(.id == $id) | .tags[$k] and (.tags[$q] | not)' \
					>/dev/null || continue
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
	# withdrawn with a release request beside each claim, which only the
	# agent removes (these agents refuse to answer: both stay), in one call
	run -0 cloud_ctl GET /instances
	jq -e '[(.instances // .)[].tags | select(has("runner-pool:claim:12"))]
		| length == 2 and all(has("runner-pool:release:12") and
			.["runner-pool:state"] == "idle")' <<<"$output"
	cloud_calls | jq -s -e 'map(select(.action == "CreateTags"
		and (.params | to_entries | map(.value) | index("runner-pool:release:12")))
		| .params | to_entries | map(select(.key | startswith("ResourceId"))) | length) == [2]'
}

@test "pool-claim owns no grant that lands after its withdrawal: the agent hands it back" {
	# the agent's grant is in flight (its precheck passed) when pool-claim
	# withdraws the claim, and lands after it: with the release request
	# beside it, its agent hands it back (a deleted claim would leave it
	# granted to a run that never uses it)
	cloud_seed 1 "{\"tags\":{\"runner-pool:pool\":\"acme/web\",\"runner-pool:state\":\"idle\",\"runner-pool:deadline\":\"$future\",\"runner-pool:late-grant\":\"1\"}}" >/dev/null
	agents
	run -1 --separate-stderr bash -c 'pool-list --state idle | pool-claim --run-id 17 --timeout 2 --interval 100'
	[ "${#lines[@]}" -eq 0 ]
	[[ "$stderr" == *"claimed 0 of 1"* ]]
	# granted to run 17 after the withdrawal (the stand-in wrote it)...
	granted() {
		cloud_calls | jq -s -e 'any(.action == "CreateTags"
			and (.params | to_entries | map(.value) | index("runner-pool:run-id")))' >/dev/null
	}
	for _ in $(seq 1 40); do granted && break; sleep 0.25; done
	granted
	# ...then handed back: idle, nothing of run 17 left
	back() {
		cloud_ctl GET /instances | jq -e '[(.instances // .)[].tags] | length == 1 and all(
			.["runner-pool:state"] == "idle" and .["runner-pool:run-id"] == null
			and ([keys[] | select(endswith(":17"))] == []))' >/dev/null
	}
	for _ in $(seq 1 40); do back && break; sleep 0.25; done
	back
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

@test "pool-claim withdraws one by one when an instance has no room for the request" {
	# i-full reaches 50 tags with the claim (no room for release:18), the
	# other does not: neither agent answers
	tags=$(jq -nc --arg d "$future" '[range(45)] | map({key: "k\(.)", value: "v"}) | from_entries
		+ {"runner-pool:pool":"acme/web","runner-pool:state":"idle","runner-pool:deadline":$d,
		   "runner-pool:no-grant":"1"}')
	full=$(cloud_seed 1 "{\"tags\":$tags}")
	other=$(cloud_seed 1 "{\"tags\":{\"runner-pool:pool\":\"acme/web\",\"runner-pool:state\":\"idle\",\"runner-pool:deadline\":\"$future\",\"runner-pool:no-grant\":\"1\"}}")
	run -1 --separate-stderr bash -c 'pool-list --state idle | pool-claim --run-id 18 --count 2 --timeout 2 --interval 100'
	[ "${#lines[@]}" -eq 0 ]
	[[ "$stderr" == *"$full: TagLimitExceeded: no room for the release request; deleting the claim"* ]]
	run -0 cloud_ctl GET /instances
	# the full one: its claim deleted; the other: claim and request
	jq -e --arg f "$full" --arg o "$other" '(.instances // .) | map({(.id): .tags}) | add
		| (.[$f] | has("runner-pool:claim:18") or has("runner-pool:release:18") | not)
		and (.[$o] | has("runner-pool:claim:18") and has("runner-pool:release:18"))' <<<"$output"
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
