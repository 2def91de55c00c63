#!/usr/bin/env bats
# pool-tag: batched CreateTags/DeleteTags from arguments or JSON Lines.

load helpers
bats_require_minimum_version 1.5.0

load cloud-file
setup() {
	cloud_reset
	export RUNNER_POOL=acme/web
}


tag_of() { # ID KEY
	cloud_ctl GET /instances | jq -r --arg id "$1" --arg k "$2" \
		'(.instances // .)[] | select(.id == $id) | .tags[$k] // empty'
}

@test "pool-tag sets and removes tags on instances named on stdin, in one call each" {
	cloud_seed 1500 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle","runner-pool:claim:9":"1"}}' >/dev/null
	run -0 --separate-stderr bash -c 'pool-list --state idle | pool-tag --set state=releasing --set run-id=5 --remove claim:9'
	[ "${#lines[@]}" -eq 1500 ]
	# the input records come back out
	jq -e '.state == "idle"' <<<"${lines[0]}"
	run -0 pool-list --state releasing --run-id 5
	[ "${#lines[@]}" -eq 1500 ]
	jq -e '.claims == []' <<<"${lines[0]}"
	# 1500 instances: two CreateTags and two DeleteTags (1000 per call)
	[ "$(cloud_calls | jq -s 'map(select(.action == "CreateTags")) | length')" -eq 2 ]
	[ "$(cloud_calls | jq -s 'map(select(.action == "DeleteTags")) | length')" -eq 2 ]
}

@test "pool-tag takes ids as arguments" {
	ids=$(cloud_seed 2 '{"tags":{"runner-pool:pool":"acme/web"}}')
	run -0 --separate-stderr pool-tag --set class=large $ids
	[ "${#lines[@]}" -eq 2 ]
	[ "$(tag_of "$(head -1 <<<"$ids")" runner-pool:class)" = large ]
}

@test "pool-tag rejects bad input before any call" {
	run -100 --separate-stderr pool-tag --set 'state' i-0123456789abcdef0
	[[ "$stderr" == *"--set: 'state' is not KEY=VALUE"* ]]
	run -100 --separate-stderr pool-tag --set 'a/b=1' i-0123456789abcdef0
	[[ "$stderr" == *"not a usable tag key"* ]]
	run -100 --separate-stderr pool-tag --set 'bad key=1' i-0123456789abcdef0
	run -100 --separate-stderr pool-tag --set state=idle not-an-id
	[[ "$stderr" == *"'not-an-id' is not an instance id"* ]]
	run -100 --separate-stderr bash -c 'echo "{not json" | pool-tag --set state=idle'
	[[ "$stderr" == *"stdin:1: not a JSON object"* ]]
	[ "$(wc -l <<<"$stderr")" -eq 1 ]
	run -100 --separate-stderr bash -c 'echo "{\"name\":1}" | pool-tag --set state=idle'
	[[ "$stderr" == *"stdin:1: no \"id\""* ]]
	run -100 --separate-stderr pool-tag i-0123456789abcdef0
	[ "$(cloud_calls | jq -s 'map(select(.mutating)) | length')" -eq 0 ]
}

@test "pool-tag with no instances says no (1) and calls nothing" {
	run -1 --separate-stderr pool-tag --set state=idle </dev/null
	[ "$(cloud_calls | wc -l)" -eq 0 ]
}

@test "pool-tag reports the tag limit as a permanent error" {
	tags=$(jq -nc '[range(50)] | map({key: "k\(.)", value: "v"}) | from_entries + {"runner-pool:pool":"acme/web"} | del(.k0)')
	id=$(cloud_seed 1 "{\"tags\":$tags}")
	run -100 --separate-stderr pool-tag --set claim:1=2 "$id"
	[[ "$stderr" == *"TagLimitExceeded"* ]]
}

@test "pool-tag retries a throttled CreateTags" {
	id=$(cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web"}}')
	cloud_fault '{"service":"ec2","action":"CreateTags","kind":"throttle","count":2}'
	run -0 --separate-stderr pool-tag --set state=idle "$id"
	[ "$(tag_of "$id" runner-pool:state)" = idle ]
}

@test "pool-tag: the pool's own keys take only values the pool can read back" {
	run -100 --separate-stderr pool-tag --set state=relasing i-0123456789abcdef0
	[[ "$stderr" == *"'relasing' is not a pool state"* ]]
	run -100 --separate-stderr pool-tag --set deadline=tomorrow i-0123456789abcdef0
	run -100 --separate-stderr pool-tag --set run-id=abc i-0123456789abcdef0
	run -100 --separate-stderr pool-tag --set claim:12=soon i-0123456789abcdef0
	run -100 --separate-stderr pool-tag --set usage=reserved i-0123456789abcdef0
	[ "$(cloud_calls | wc -l)" -eq 0 ]
}

@test "pool-tag: one JSON value per line, nothing after it" {
	run -100 --separate-stderr bash -c 'printf "{\"id\":\"i-0123456789abcdef0\"} {\"id\":\"i-0123456789abcdef1\"}\n" | pool-tag --set state=idle'
	[[ "$stderr" == *"stdin:1: not a JSON object"* ]]
	run -100 --separate-stderr bash -c 'printf "{\"id\":\"i-0123456789abcdef0\"}garbage\n" | pool-tag --set state=idle'
	[ "$(cloud_calls | wc -l)" -eq 0 ]
}

@test "pool-tag: when a later batch fails, the batches done are printed, exit 111" {
	cloud_seed 1500 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle"}}' >/dev/null
	cloud_fault '{"service":"ec2","action":"CreateTags","kind":"5xx","skip":1,"count":10}'
	run -111 --separate-stderr bash -c 'pool-list | pool-tag --set state=releasing'
	[ "${#lines[@]}" -eq 1000 ]
	# exactly the printed ones were tagged
	[ "$(pool-list --state releasing | jq -r .id | sort)" = "$(printf '%s\n' "${lines[@]}" | jq -r .id | sort)" ]
}

@test "pool-tag: a NUL byte or invalid UTF-8 in the input is refused, nothing is tagged" {
	id=$(cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web"}}')
	run -100 --separate-stderr bash -c "printf '{\"id\":\"$id\"}\0\n' | pool-tag --set state=idle"
	[ "$stderr" = "pool-tag: stdin:1: a NUL byte at offset $((9 + ${#id}))" ]
	run -100 --separate-stderr bash -c "printf '{\"id\":\"$id\",\"x\":\"\377\"}\n' | pool-tag --set state=idle"
	[[ "$stderr" == "pool-tag: stdin:1: not UTF-8 at byte offset "* ]]
	[ -z "$(cloud_mutating_calls)" ]
}

@test "pool-tag: 160,000 ids (and their repeats) are de-duplicated in seconds, first seen first" {
	awk 'BEGIN { for (i = 0; i < 160000; i++) printf "{\"id\":\"i-%017x\"}\n", i;
		for (i = 0; i < 1000; i++) printf "{\"id\":\"i-%017x\"}\n", i }' >"$BATS_TEST_TMPDIR/ids"
	# nothing listens on port 9: the time is all before the first call
	t0=$(date +%s)
	AWS_ENDPOINT_URL_EC2=http://127.0.0.1:9 AWS_MAX_ATTEMPTS=1 run -111 --separate-stderr \
		pool-tag --set state=idle <"$BATS_TEST_TMPDIR/ids"
	[ $(($(date +%s) - t0)) -lt 10 ]
	# the de-duplication keeps the first of each, in input order
	id=$(cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web"}}')
	id2=$(cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web"}}')
	run -0 --separate-stderr pool-tag --set state=idle "$id2" "$id" "$id2" "$id"
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .id | tr '\n' ' ')" = "$id2 $id " ]
	[ "$(cloud_calls | jq -r 'select(.action == "CreateTags") | .params | [."ResourceId.1", ."ResourceId.2", ."ResourceId.3"] | map(. // "-") | join(" ")')" = "$id2 $id -" ]
}
