#!/usr/bin/env bats
# pool-list: server-side filters, pagination, exit codes, faults.

load helpers
bats_require_minimum_version 1.5.0

load cloud-file
setup() {
	cloud_reset
	export RUNNER_POOL=acme/web
}


@test "pool-list prints one object per instance with the documented fields" {
	cloud_seed 2 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle","runner-pool:class":"large","runner-pool:usage":"spot","runner-pool:deadline":"1900000000"},"instance_type":"c5.xlarge"}' >/dev/null
	run -0 --separate-stderr pool-list
	[ "${#lines[@]}" -eq 2 ]
	for l in "${lines[@]}"; do
		jq -e '.id and .state == "idle" and .class == "large" and .usage == "spot"
			and .instance_type == "c5.xlarge" and .deadline == 1900000000
			and .az and .launch_time and .private_ip and (.run_id == null)' <<<"$l"
	done
}

@test "pool-list filters by state, run id, class, usage and type at the server" {
	cloud_seed 3 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle","runner-pool:class":"small"},"instance_type":"m5.large"}' >/dev/null
	cloud_seed 2 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"running","runner-pool:run-id":"77","runner-pool:class":"small"},"instance_type":"c5.large"}' >/dev/null
	cloud_seed 4 '{"tags":{"runner-pool:pool":"other/pool","runner-pool:state":"idle"}}' >/dev/null
	run -0 pool-list --state idle
	[ "${#lines[@]}" -eq 3 ]
	run -0 pool-list --run-id 77
	[ "${#lines[@]}" -eq 2 ]
	run -0 pool-list --type 'm5.*' --class small
	[ "${#lines[@]}" -eq 3 ]
	run -0 pool-list --state idle,running
	[ "${#lines[@]}" -eq 5 ]
	# the filters travelled in the request, not applied afterwards
	cloud_calls | jq -s -e 'map(select(.action == "DescribeInstances")) | last | .params
		| to_entries | map(.value) | index("tag:runner-pool:pool") != null'
	run -1 pool-list --run-id 12345
	[ -z "$output" ]
}

@test "pool-list follows every page" {
	cloud_ctl POST /settings '{"page_size":1000}' >/dev/null
	cloud_seed 2500 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle"}}' >/dev/null
	run -0 --separate-stderr pool-list --state idle
	[ "${#lines[@]}" -eq 2500 ]
	n=$(cloud_calls | jq -s 'map(select(.action == "DescribeInstances")) | length')
	[ "$n" -ge 3 ]
	[ "$(printf '%s\n' "${lines[@]}" | jq -r .id | sort -u | wc -l)" -eq 2500 ]
}

@test "pool-list follows a NextToken of any length (EC2's are opaque and long)" {
	cloud_ctl POST /settings '{"page_size":1000,"next_token_len":6000}' >/dev/null
	cloud_seed 2500 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle"}}' >/dev/null
	run -0 --separate-stderr pool-list --state idle
	[ "${#lines[@]}" -eq 2500 ]
	[ "$(cloud_calls | jq -r 'select(.action == "DescribeInstances") | .params.NextToken // "" | length' | sort -n | tail -n1)" -eq 6000 ]
}

@test "pool-list: every record has exactly the documented members" {
	cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle"}}' >/dev/null
	run -0 --separate-stderr pool-list
	[ "$(jq -c keys <<<"$output")" = '["az","claims","class","deadline","ec2_state","health","id","instance_type","launch_time","lifecycle","pool","private_ip","retire","run_id","runner","runner_version","state","subnet","usage"]' ]
}

@test "pool-list retries throttling and 5xx, then succeeds" {
	cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle"}}' >/dev/null
	cloud_fault '{"service":"ec2","action":"DescribeInstances","kind":"throttle","count":1}' \
		'{"service":"ec2","action":"DescribeInstances","kind":"5xx","count":1}'
	run -0 --separate-stderr pool-list
	[ "${#lines[@]}" -eq 1 ]
	n=$(cloud_calls | jq -s 'map(select(.action == "DescribeInstances")) | length')
	[ "$n" -eq 3 ]
}

@test "pool-list: a reply over 64 MiB is a permanent error (100), not retried" {
	cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web"}}' >/dev/null
	cloud_fault '{"service":"ec2","action":"DescribeInstances","kind":"pad","bytes":67108864,"count":1}'
	run -100 --separate-stderr pool-list
	[ -z "$output" ]
	[[ "$stderr" == *"ec2 DescribeInstances: reply larger than 64 MiB"* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	n=$(cloud_calls | jq -s 'map(select(.action == "DescribeInstances")) | length')
	[ "$n" -eq 1 ]
	# just under the limit is read (the blanks are XML whitespace)
	cloud_fault '{"service":"ec2","action":"DescribeInstances","kind":"pad","bytes":67100000,"count":1}'
	run -0 --separate-stderr pool-list
	[ "${#lines[@]}" -eq 1 ]
}

@test "pool-list reads replies compact or indented as EC2 sends them, alike" {
	cloud_seed 3 '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle","runner-pool:claim:42":"1700000000000"}}' >/dev/null
	cloud_ctl POST /settings '{"xml_indent":4}' >/dev/null
	run -0 --separate-stderr pool-list
	indented=$output
	[ "${#lines[@]}" -eq 3 ]
	cloud_ctl POST /settings '{"xml_indent":0}' >/dev/null
	run -0 --separate-stderr pool-list
	[ "$output" = "$indented" ]
	[ "$(jq -r '.claims[0].run_id' <<<"${lines[0]}")" = 42 ]
}

@test "pool-list survives a reset connection" {
	cloud_seed 1 '{"tags":{"runner-pool:pool":"acme/web"}}' >/dev/null
	cloud_fault '{"service":"ec2","action":"DescribeInstances","kind":"reset","count":1}'
	run -0 --separate-stderr pool-list
	[ "${#lines[@]}" -eq 1 ]
}

@test "pool-list gives up with 111 when throttling persists" {
	cloud_fault '{"service":"ec2","action":"DescribeInstances","kind":"throttle","count":10}'
	run -111 --separate-stderr pool-list
	[ -z "$output" ]
	[[ "$stderr" == *"RequestLimitExceeded"* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "pool-list rejects bad input with one line and no call" {
	run -100 --separate-stderr pool-list --state bogus
	[[ "$stderr" == "pool-list: --state: 'bogus' is not a pool state"* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -100 --separate-stderr pool-list --run-id abc
	[[ "$stderr" == *"--run-id"* ]]
	run -100 --separate-stderr pool-list --pool 'bad pool'
	[[ "$stderr" == *"--pool"* ]]
	run -100 --separate-stderr pool-list --type 'C;rm'
	run -100 --separate-stderr pool-list --region 'moon-1'
	[[ "$stderr" == *"'moon-1' is not an AWS region"* ]]
	run -100 --separate-stderr pool-list extra
	# abbreviations are refused, unknown options named, one line each
	run -100 --separate-stderr pool-list --reg us-east-1
	[ "$stderr" = "pool-list: unknown option '--reg' (see pool-list --help)" ]
	run -100 --separate-stderr pool-list --state
	[ "$stderr" = "pool-list: option '--state' needs a value (see pool-list --help)" ]
	[ "$(cloud_calls | wc -l)" -eq 0 ]
}

@test "pool-list reports wrong credentials as permanent (100) with AWS's code" {
	AWS_SECRET_ACCESS_KEY=wrong run -100 --separate-stderr pool-list
	[[ "$stderr" == *"SignatureDoesNotMatch"* ]]
	AWS_ACCESS_KEY_ID=AKIDUNKNOWN000000000 run -100 --separate-stderr pool-list
	[[ "$stderr" == *"AuthFailure"* ]]
}

@test "pool-list --help documents every exit status" {
	run -0 pool-list --help
	[[ "$output" == usage:* ]]
	for s in 0 1 100 111; do [[ "$output" == *"$s "* ]]; done
}

@test "pool-list: an empty filter value is refused, not read as no filter" {
	cloud_seed 2 '{"tags":{"runner-pool:pool":"acme/web"}}' >/dev/null
	run -100 --separate-stderr pool-list --id ""
	[ "$stderr" = "pool-list: --id: empty value" ]
	run -100 --separate-stderr pool-list --state " , "
	[ -z "$output" ]
	# an id EC2 does not know is no match (1), not an error
	run -1 --separate-stderr pool-list --id i-0123456789abcdef0
}

@test "a malformed endpoint URL is a usage error (100), not a crash" {
	AWS_ENDPOINT_URL_EC2=localhost:4566 run -100 --separate-stderr pool-list
	[[ "$stderr" == *"ec2 endpoint 'localhost:4566' is not an http(s) URL"* ]]
	AWS_ENDPOINT_URL_SSM='http:///x' run -100 --separate-stderr pool-param get /a/b
	[[ "$stderr" == *"has no host"* ]]
}

@test "an unknown short option in a cluster never echoes the argument before it" {
	run -100 --separate-stderr pool-list --pool acme/web secretvalue -zq
	[[ "$stderr" != *secretvalue* ]]
	[[ "$stderr" == *"'-z'"* ]]
}
