#!/bin/sh
# bench/provision-time.sh [ROUNDS]: time from provision start to runners
# online, cold launch vs warm claim, against the local cloud (127.0.0.1 only)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/helpers.bash
rounds=${1:-3}
dir=$(mktemp -d); trap 'cloud_stop; rm -rf "$dir"' EXIT
cloud_start "$dir/cloud"; cloud_check_endpoints
cloud_ctl POST /github/repos '{"repos":["acme/web"]}' >/dev/null
cloud_ctl POST /github/tokens '{"token":"ghp_bench00000000000000000000000000000001","scopes":["repo"]}' >/dev/null
export GITHUB_REPOSITORY=acme/web
# the local cloud has no request limits: poll faster than the 1 s default
export RP_WAIT_INTERVAL=${RP_WAIT_INTERVAL:-0.25} RP_CLAIM_INTERVAL_MS=${RP_CLAIM_INTERVAL_MS:-250}
env INPUT_MODE=refresh INPUT_AMI=ami-0a1b2c3d4e5f60001 INPUT_IAM_INSTANCE_PROFILE=p \
	INPUT_SECURITY_GROUP_IDS=sg-0a1b2c3d4e5f60001 INPUT_SUBNET_IDS=subnet-0a1b2c3d4e5f60001 \
	INPUT_GITHUB_TOKEN=ghp_bench00000000000000000000000000000001 INPUT_AGENT_POLL_SEC=0.5 \
	INPUT_IDLE_TIME_SEC=600 ./entrypoint.sh >/dev/null 2>&1
ms() { env INPUT_MODE=provision INPUT_RUN_ID="$1" INPUT_INSTANCE_COUNT=2 ./entrypoint.sh 2>&1 >/dev/null |
	sed -n 's/.*time-to-ready-ms=//p'; }
for r in $(seq 1 "$rounds"); do
	c=$(ms "9${r}1")
	env INPUT_MODE=release INPUT_RUN_ID="9${r}1" ./entrypoint.sh >/dev/null 2>&1
	w=$(ms "9${r}2")
	env INPUT_MODE=release INPUT_RUN_ID="9${r}2" ./entrypoint.sh >/dev/null 2>&1
	# make the next cold launch cold: terminate the idle ones
	pool-list --pool acme/web | pool-tag --set state=terminating >/dev/null
	pool-reap --pool acme/web --grace 0 >/dev/null
	printf 'round %s: cold launch %s ms, warm claim %s ms (2 runners, agent poll 0.5 s)\n' "$r" "$c" "$w"
done
