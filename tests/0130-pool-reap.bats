#!/usr/bin/env bats
# pool-reap: terminate what is past deadline + grace, or broken; --dry-run.

load helpers
bats_require_minimum_version 1.5.0

load cloud-file
setup() {
	cloud_reset
	export RUNNER_POOL=acme/web
	now=$(date +%s)
	past=$((now - 1000))
	future=$((now + 3600))
}


@test "pool-reap terminates only expired and broken instances" {
	expired=$(cloud_seed 2 "{\"tags\":{\"runner-pool:pool\":\"acme/web\",\"runner-pool:state\":\"idle\",\"runner-pool:deadline\":\"$past\"}}")
	young=$(cloud_seed 2 "{\"tags\":{\"runner-pool:pool\":\"acme/web\",\"runner-pool:state\":\"running\",\"runner-pool:deadline\":\"$((now - 30))\"}}")
	fine=$(cloud_seed 2 "{\"tags\":{\"runner-pool:pool\":\"acme/web\",\"runner-pool:state\":\"idle\",\"runner-pool:deadline\":\"$future\"}}")
	other=$(cloud_seed 1 "{\"tags\":{\"runner-pool:pool\":\"other/pool\",\"runner-pool:state\":\"idle\",\"runner-pool:deadline\":\"$past\"}}")
	run -0 --separate-stderr pool-reap --grace 120
	[ "${#lines[@]}" -eq 2 ]
	for l in "${lines[@]}"; do
		jq -e '.reason == "expired" and .terminated == true' <<<"$l"
	done
	run -0 pool-list --all
	gone=$(printf '%s\n' "${lines[@]}" | jq -r 'select(.ec2_state == "shutting-down" or .ec2_state == "terminated") | .id' | sort)
	[ "$gone" = "$(sort <<<"$expired")" ]
	# one TerminateInstances for both
	[ "$(cloud_calls | jq -s 'map(select(.action == "TerminateInstances")) | length')" -eq 1 ]
}

@test "pool-reap --dry-run terminates nothing" {
	cloud_seed 3 "{\"tags\":{\"runner-pool:pool\":\"acme/web\",\"runner-pool:state\":\"idle\",\"runner-pool:deadline\":\"$past\"}}" >/dev/null
	run -0 --separate-stderr pool-reap --dry-run
	[ "${#lines[@]}" -eq 3 ]
	jq -e '.terminated == false' <<<"${lines[0]}"
	[ "$(cloud_calls | jq -s 'map(select(.mutating)) | length')" -eq 0 ]
}

@test "pool-reap terminates old instances with missing or invalid tags, spares new ones" {
	cloud_seed 1 "{\"tags\":{\"runner-pool:pool\":\"acme/web\"},\"launch_time\":$past}" >/dev/null
	cloud_seed 1 "{\"tags\":{\"runner-pool:pool\":\"acme/web\",\"runner-pool:state\":\"weird\",\"runner-pool:deadline\":\"$future\"},\"launch_time\":$past}" >/dev/null
	cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web"}}' >/dev/null
	run -0 --separate-stderr pool-reap --dry-run
	reasons=$(printf '%s\n' "${lines[@]}" | jq -r .reason | sort | paste -sd,)
	[ "$reasons" = "invalid state tag,no state tag" ]
}

@test "pool-reap terminates instances marked terminating at once" {
	cloud_seed 1 "{\"tags\":{\"runner-pool:pool\":\"acme/web\",\"runner-pool:state\":\"terminating\",\"runner-pool:deadline\":\"$future\"}}" >/dev/null
	run -0 --separate-stderr pool-reap
	jq -e '.reason == "terminating" and .terminated' <<<"$output"
}

@test "pool-reap rejects a bad grace" {
	run -100 --separate-stderr pool-reap --grace -1
	[[ "$stderr" == "pool-reap: --grace: '-1' is out of range"* ]]
	[ "$(cloud_calls | wc -l)" -eq 0 ]
}

@test "pool-reap: a failing batch is retried in halves, and all is printed" {
	cloud_seed 1200 "{\"tags\":{\"runner-pool:pool\":\"acme/web\",\"runner-pool:state\":\"idle\",\"runner-pool:deadline\":\"$past\"}}" >/dev/null
	cloud_fault '{"service":"ec2","action":"TerminateInstances","kind":"notfound","skip":1,"count":1}'
	run -0 --separate-stderr pool-reap
	[ "${#lines[@]}" -eq 1200 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -s 'map(select(.terminated)) | length')" -eq 1200 ]
	[ "$(pool-list | wc -l)" -eq 0 ]
	# a few calls answered (1000, 200 refused, those 200 again, in halves
	# if need be), not 200 one at a time, which would outrun
	# TerminateInstances' bucket of 100 calls (throttled calls aside: the
	# resource bucket of 1000 instances refills 20 a second)
	[ "$(cloud_calls service=ec2 | jq -s '[.[] | select(.action == "TerminateInstances" and .code != "RequestLimitExceeded")] | length')" -le 5 ]
}
