# bench/lib.sh: shared by the benchmarks (bash; sourced).  The local cloud
# only, on 127.0.0.1, with its defaults: AWS's request limits, EC2's
# eventual consistency and instance metadata's tag lag all on.
cd "$(dirname "$0")/.." || exit 1
. tests/helpers.bash
[ -x bin/pool-list ] || make -j2 >/dev/null || exit 1
BENCH_TOKEN=ghp_bench00000000000000000000000000000001

# bench_cloud DIR: start the cloud, a repository and a token
bench_cloud() {
	cloud_start "$1/cloud" && cloud_check_endpoints || exit 1
	cloud_ctl POST /github/repos '{"repos":["acme/web"]}' >/dev/null
	cloud_ctl POST /github/tokens "{\"token\":\"$BENCH_TOKEN\",\"scopes\":[\"repo\"]}" >/dev/null
	export GITHUB_REPOSITORY=acme/web
}

# bench_refresh [INPUT_X=Y...]: refresh with the action's defaults
bench_refresh() {
	env INPUT_MODE=refresh INPUT_AMI=ami-0a1b2c3d4e5f60001 INPUT_IAM_INSTANCE_PROFILE=p \
		INPUT_SECURITY_GROUP_IDS=sg-0a1b2c3d4e5f60001 \
		"INPUT_SUBNET_IDS=subnet-0a1b2c3d4e5f60001 subnet-0a1b2c3d4e5f60002" \
		INPUT_GITHUB_TOKEN=$BENCH_TOKEN "$@" ./entrypoint.sh >/dev/null 2>&1
}

# bench_count [pool-list args]: how many instances match (throttled: again)
bench_count() {
	local n i
	for i in 1 2 3 4 5; do
		n=$(pool-list --pool acme/web "$@" 2>/dev/null) && break
		sleep 1
	done
	printf '%s' "$n" | grep -c . || true
}

# bench_wait SECONDS CMD...: poll CMD every 2 s
bench_wait() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 2
	done
}

# pct P: the P-th percentile (nearest rank) of the numbers on stdin
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { if (!NR) { print "-"; exit }
	r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; print v[r] }'; }

# bench_throttled [SEQ]: throttled EC2/SSM calls since SEQ, by action
bench_throttled() {
	cloud_calls "since=${1:-0}" | jq -rs 'map(select(.code == "RequestLimitExceeded" or
		.code == "ThrottlingException")) | group_by(.action) |
		map("\(.[0].action)=\(length)") | join(" ") | if . == "" then "none" else . end'
}
bench_seq() { cloud_calls | tail -n 1 | jq -r '.seq // 0'; }
