# tests/0400-common.bash: setup shared by the end-to-end tests (04xx)
load helpers
# poll faster than the production defaults (1 s, 500 ms): the local cloud
# has no account-wide request limits to respect
export RP_WAIT_INTERVAL=0.25 RP_CLAIM_INTERVAL_MS=250

e2e_setup() {
	cloud_start "$BATS_TEST_TMPDIR/cloud"
	cloud_ctl POST /github/repos '{"repos":["acme/web"]}' >/dev/null
	cloud_ctl POST /github/tokens '{"token":"ghp_e2e0000000000000000000000000000000001","scopes":["repo"]}' >/dev/null
	export GITHUB_REPOSITORY=acme/web
}

e2e_teardown() {
	cloud_stop
}

# refresh [INPUT_X=Y...]: refresh with short test timings
refresh() {
	env INPUT_MODE=refresh INPUT_AMI=ami-0a1b2c3d4e5f60001 \
		INPUT_IAM_INSTANCE_PROFILE=runner-pool-instance \
		INPUT_SECURITY_GROUP_IDS=sg-0a1b2c3d4e5f60001 \
		"INPUT_SUBNET_IDS=subnet-0a1b2c3d4e5f60001 subnet-0a1b2c3d4e5f60002" \
		INPUT_GITHUB_TOKEN=ghp_e2e0000000000000000000000000000000001 \
		INPUT_AGENT_POLL_SEC=0.5 "$@" "$REPO_ROOT/entrypoint.sh"
}

provision() { # RUN COUNT [INPUT_X=Y...]
	local run=$1 n=$2
	shift 2
	env INPUT_MODE=provision INPUT_RUN_ID="$run" INPUT_INSTANCE_COUNT="$n" \
		INPUT_TIMEOUT_SEC=60 "$@" "$REPO_ROOT/entrypoint.sh"
}

release() { # RUN
	env INPUT_MODE=release INPUT_RUN_ID="$1" INPUT_TIMEOUT_SEC=60 "$REPO_ROOT/entrypoint.sh"
}

# count [pool-list args]: how many instances match
count() {
	local n
	n=$(pool-list --pool acme/web "$@" 2>/dev/null | wc -l) || true
	echo "$n"
}

# wait_until SECONDS CMD...: poll CMD every 0.25 s
wait_until() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.25
	done
}

# job RUN SCRIPT: queue a job for RUN's runners, print its id
job() {
	cloud_ctl POST /github/jobs "$(jq -cn --arg r "$1" --arg s "$2" '{repo: "acme/web", labels: [$r], script: $s}')" | jq -r .id
}

job_done() { # ID
	[ "$(cloud_ctl GET "/github/jobs/$1" | jq -r .status)" = completed ]
}
