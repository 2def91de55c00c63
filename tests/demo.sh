#!/bin/sh
# tests/demo.sh (make demo): the whole life of a pool against the local cloud:
# refresh, provision 3 runners (cold), a job on each, release, provision again
# (warm: reused), release, let the idle time pass, refresh reaps.  Talks only
# to 127.0.0.1 and stops everything it started.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
cd "$(dirname "$0")/.."
# helpers.bash points every endpoint at a closed loopback port first
. tests/helpers.bash
cloud_check_endpoints || { echo "demo: refusing to run" >&2; exit 1; }

DEMO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rp-demo.XXXXXX")
trap 'cloud_stop; [ -n "${DEMO_KEEP:-}" ] || rm -rf "$DEMO_DIR"' EXIT
# the jobs run as a user of their own (issue 8): as root, one made for the
# demo (the cloud removes it with its instance), reaching its runner by name
# through the demo's 0700 directory; without root or useradd, as this user
DEMO_USER=root DEMO_META=false
if [ "$(id -u)" = 0 ] && PATH=$PATH:/usr/sbin:/sbin command -v useradd >/dev/null &&
	command -v setpriv >/dev/null; then
	DEMO_USER=rpdemo$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
	PATH=$PATH:/usr/sbin:/sbin command -v nft >/dev/null ||
		PATH=$PATH:/usr/sbin:/sbin command -v iptables >/dev/null || DEMO_META=true
	chmod go+x "$DEMO_DIR"
fi
cloud_start "$DEMO_DIR/cloud"
cloud_check_endpoints || { echo "demo: refusing to run" >&2; exit 1; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
act() { env "$@" ./entrypoint.sh 2>>"$DEMO_DIR/log"; }
pool() {
	pool-list --pool acme/web 2>/dev/null |
		jq -r '"  \(.id)  \(.state | .+ "          " | .[:10]) run=\(.run_id // "-")\t\(.instance_type) \(.az) \(.lifecycle)"' || true
}

cloud_ctl POST /github/repos '{"repos":["acme/web"]}' >/dev/null
cloud_ctl POST /github/tokens '{"token":"ghp_demo000000000000000000000000000001","scopes":["repo"]}' >/dev/null
export GITHUB_REPOSITORY=acme/web
# the local cloud has no request limits: poll faster than the 1 s default
export RP_WAIT_INTERVAL=${RP_WAIT_INTERVAL:-0.25} RP_CLAIM_INTERVAL_MS=${RP_CLAIM_INTERVAL_MS:-250}
REFRESH=(INPUT_MODE=refresh INPUT_AMI=ami-0a1b2c3d4e5f60001
	INPUT_IAM_INSTANCE_PROFILE=runner-pool-instance
	INPUT_SECURITY_GROUP_IDS=sg-0a1b2c3d4e5f60001
	"INPUT_SUBNET_IDS=subnet-0a1b2c3d4e5f60001 subnet-0a1b2c3d4e5f60002"
	INPUT_GITHUB_TOKEN=ghp_demo000000000000000000000000000001
	INPUT_IDLE_TIME_SEC=12 INPUT_AGENT_POLL_SEC=1
	INPUT_RUNNER_USER="$DEMO_USER" INPUT_JOB_METADATA="$DEMO_META"
	'INPUT_PRE_RUNNER_SCRIPT=echo pre-runner ran')

step "refresh: configuration, launch template (agent as user data), registration token"
act "${REFRESH[@]}" INPUT_GRACE_SEC=60 | jq -c .

jobs_on() { # RUN: one job per runner of RUN, wait, show who ran what
	local run=$1 n=$2 i
	for i in $(seq 1 "$n"); do
		cloud_ctl POST /github/jobs "{\"repo\":\"acme/web\",\"labels\":[\"$run\"],\"script\":\"sleep 1; echo job $i on \$RUNNER_NAME\"}" >/dev/null
	done
	for i in $(seq 1 60); do
		[ "$(cloud_ctl GET /github/jobs | jq --arg r "$run" '[.jobs[] | select(.run_id == $r and .status != "completed")] | length')" = 0 ] && break
		sleep 0.5
	done
	cloud_ctl GET /github/jobs | jq -r --arg r "$run" '.jobs[] | select(.run_id == $r) | "  job \(.id): \(.conclusion) on \(.runner_name): \(.output | rtrimstr("\n"))"'
}

step "provision 3 runners for run 7001 (cold: nothing idle, all launched)"
t0=$(date +%s%3N)
act INPUT_MODE=provision INPUT_RUN_ID=7001 INPUT_INSTANCE_COUNT=3 >"$DEMO_DIR/p1"
cold=$(( $(date +%s%3N) - t0 ))
pool
step "a job on each runner (runs-on: 7001)"
jobs_on 7001 3
step "release run 7001"
act INPUT_MODE=release INPUT_RUN_ID=7001 >/dev/null
pool

step "provision 2 runners for run 7002 (warm: claimed from the idle pool)"
t0=$(date +%s%3N)
act INPUT_MODE=provision INPUT_RUN_ID=7002 INPUT_INSTANCE_COUNT=2 >"$DEMO_DIR/p2"
warm=$(( $(date +%s%3N) - t0 ))
pool
jobs_on 7002 2
act INPUT_MODE=release INPUT_RUN_ID=7002 >/dev/null

step "let the idle time (12 s) pass, then refresh reaps the expired runners"
sleep 13
act "${REFRESH[@]}" INPUT_GRACE_SEC=0 | jq -c .
sleep 1
pool-list --pool acme/web --all 2>/dev/null |
	jq -r '"  \(.id)  \(.ec2_state)"' || true

step summary
printf '  run 7001: %s launched, %s reused, ready in %d.%03d s (cold launch)\n' \
	"$(jq -s 'map(select(.reused | not)) | length' "$DEMO_DIR/p1")" \
	"$(jq -s 'map(select(.reused)) | length' "$DEMO_DIR/p1")" $((cold / 1000)) $((cold % 1000))
printf '  run 7002: %s launched, %s reused, ready in %d.%03d s (warm claim)\n' \
	"$(jq -s 'map(select(.reused | not)) | length' "$DEMO_DIR/p2")" \
	"$(jq -s 'map(select(.reused)) | length' "$DEMO_DIR/p2")" $((warm / 1000)) $((warm % 1000))
printf '  jobs: %s completed successfully\n' \
	"$(cloud_ctl GET /github/jobs | jq '[.jobs[] | select(.conclusion == "success")] | length')"
printf '  instances left running: %s\n' \
	"$(pool-list --pool acme/web 2>/dev/null | wc -l)"
