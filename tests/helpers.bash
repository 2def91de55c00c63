# tests/helpers.bash: the bats harness around the local cloud.
#
#   load helpers            (from tests/*.bats; first thing in the file)
#   cloud_start [DIR]       start the cloud (state in DIR, default a tmp dir)
#   cloud_stop              stop it (kills every instance process)
#   cloud_ctl METHOD PATH [JSON]   the control API (PATH below /_cloud)
#   cloud_reset             the cloud as it started (one cloud a file: cloud-file.bash)
#   cloud_calls [QUERY]     the calls log, JSON Lines
#   cloud_seed COUNT [JSON] seed COUNT instances, ids on stdout
#   cloud_mutating_calls [QUERY]   the calls that changed something
#   cloud_fault JSON...     add faults (one JSON object per argument)
#   cloud_check_endpoints   fail unless every endpoint variable is loopback
#
# Loading this file already makes AWS and GitHub unreachable: every endpoint
# variable points at a closed loopback port until cloud_start replaces it,
# credentials come only from the variables below, and nothing reads
# ~/.aws or talks to 169.254.169.254.

HELPERS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HELPERS_DIR/.." && pwd)
CLOUD_PY="$HELPERS_DIR/cloud/cloud.py"
# the system's python3 first: a version manager's shim (pyenv's is a bash
# script that runs more) costs ten times Python's own start, every start
PYTHON=python3
[ ! -x /usr/bin/python3 ] || PYTHON=/usr/bin/python3
export REPO_ROOT PYTHON

_cloud_tmp() {
	printf '%s\n' "${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-${BATS_RUN_TMPDIR:-${TMPDIR:-/tmp}}}}"
}

# --- isolation, before anything else runs ------------------------------------
_cloud_export_endpoints() {
	export AWS_ENDPOINT_URL=$1
	export AWS_ENDPOINT_URL_EC2=$1
	export AWS_ENDPOINT_URL_SSM=$1
	export AWS_EC2_METADATA_SERVICE_ENDPOINT=$1/_imds/host
	export AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv4
	export GITHUB_API_URL=$1/api/v3
	export GITHUB_SERVER_URL=$1
}
# a cloud started in setup_file (CLOUD_URL exported) stays in use; otherwise
# port 9 (discard) on loopback: refused, never routed anywhere
case ${CLOUD_URL:-} in
http://127.0.0.1:[0-9]*) _cloud_export_endpoints "$CLOUD_URL" ;;
*) _cloud_export_endpoints http://127.0.0.1:9 ;;
esac
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN \
	AWS_ROLE_ARN AWS_ROLE_SESSION_NAME AWS_WEB_IDENTITY_TOKEN_FILE \
	AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
	AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
	AWS_CA_BUNDLE AWS_EC2_METADATA_DISABLED \
	GITHUB_TOKEN GH_TOKEN GH_ENTERPRISE_TOKEN GITHUB_ENTERPRISE_TOKEN \
	ACTIONS_ID_TOKEN_REQUEST_URL ACTIONS_ID_TOKEN_REQUEST_TOKEN \
	http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export AWS_CONFIG_FILE="$(_cloud_tmp)/nonexistent-aws-config"
export AWS_SHARED_CREDENTIALS_FILE="$(_cloud_tmp)/nonexistent-aws-credentials"
export AWS_ACCESS_KEY_ID=AKIDLOCALCLOUD000001
export AWS_SECRET_ACCESS_KEY=localcloud+secret+key+000001
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_PAGER="" AWS_MAX_ATTEMPTS=3 AWS_RETRY_MODE=standard

# the tools under test (built by make)
PATH="$REPO_ROOT/bin:$PATH"
export PATH

# --- the cloud ----------------------------------------------------------------

_cloud_loopback() {
	case $1 in
	http://127.0.0.1:[0-9]*) return 0 ;;
	*) return 1 ;;
	esac
}

cloud_check_endpoints() {
	local v bad=0
	for v in AWS_ENDPOINT_URL AWS_ENDPOINT_URL_EC2 AWS_ENDPOINT_URL_SSM \
		AWS_EC2_METADATA_SERVICE_ENDPOINT GITHUB_API_URL GITHUB_SERVER_URL; do
		if [ -z "${!v:-}" ]; then
			echo "helpers: $v is unset: refusing to run" >&2
			bad=1
		elif ! _cloud_loopback "${!v}"; then
			echo "helpers: $v='${!v}' is not 127.0.0.1: refusing to run" >&2
			bad=1
		fi
	done
	return "$bad"
}

# cloud_start [DIR]: start the cloud with its state in DIR (created), wait
# until it listens, export the endpoint variables.  Sets CLOUD_DIR,
# CLOUD_PID, CLOUD_PORT and CLOUD_URL.
cloud_start() {
	local dir=${1:-$(_cloud_tmp)/cloud} i
	mkdir -p "$dir" || return 1
	CLOUD_DIR=$(cd "$dir" && pwd)
	rm -f "$CLOUD_DIR/port"
	"$PYTHON" "$CLOUD_PY" --port-file "$CLOUD_DIR/port" --state-dir "$CLOUD_DIR" \
		--watch-pid "$$" --max-lifetime 3600 \
		</dev/null >>"$CLOUD_DIR/cloud.out" 2>&1 3>&- &
	CLOUD_PID=$!
	for i in $(seq 1 200); do
		[ -s "$CLOUD_DIR/port" ] && break
		if ! kill -0 "$CLOUD_PID" 2>/dev/null; then
			echo "helpers: the cloud died on start:" >&2
			cat "$CLOUD_DIR/cloud.out" >&2
			return 1
		fi
		sleep 0.05
	done
	if ! [ -s "$CLOUD_DIR/port" ]; then
		echo "helpers: the cloud did not start in 10 s" >&2
		cat "$CLOUD_DIR/cloud.out" >&2
		return 1
	fi
	CLOUD_PORT=$(cat "$CLOUD_DIR/port")
	CLOUD_URL=http://127.0.0.1:$CLOUD_PORT
	export CLOUD_DIR CLOUD_PID CLOUD_PORT CLOUD_URL
	_cloud_export_endpoints "$CLOUD_URL"
	if ! cloud_check_endpoints; then
		cloud_stop
		return 1
	fi
}

cloud_stop() {
	local i
	[ -n "${CLOUD_PID:-}" ] || return 0
	kill -TERM "$CLOUD_PID" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$CLOUD_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$CLOUD_PID" 2>/dev/null || true
	wait "$CLOUD_PID" 2>/dev/null || true
	unset CLOUD_PID CLOUD_URL
	_cloud_export_endpoints http://127.0.0.1:9
}

# cloud_ctl METHOD PATH [JSON]: PATH is below /_cloud (e.g. /settings).
# Prints the reply; fails on an HTTP error.
cloud_ctl() {
	local method=$1 path=$2
	if [ $# -ge 3 ]; then
		curl -sS --fail-with-body -X "$method" \
			-H 'Content-Type: application/json' --data-binary "$3" \
			"$CLOUD_URL/_cloud${path#/_cloud}"
	else
		curl -sS --fail-with-body -X "$method" "$CLOUD_URL/_cloud${path#/_cloud}"
	fi
}

# cloud_ctl_each METHOD PATH: one request a line of stdin (its JSON body),
# all sent by one curl (a curl process costs ~40 ms of CPU here)
cloud_ctl_each() {
	local url="$CLOUD_URL/_cloud${2#/_cloud}" line sep=
	while IFS= read -r line; do
		line=${line//\\/\\\\}
		printf '%srequest = "%s"\nheader = "Content-Type: application/json"\n' "$sep" "$1"
		printf 'fail-with-body\nurl = "%s"\ndata-binary = "%s"\n' "$url" "${line//\"/\\\"}"
		sep='next
'
	done | curl -sS -K -
}

# cloud_reset: the cloud as it started (settings, faults, calls, GitHub;
# every instance stopped, its users and filters removed)
cloud_reset() {
	cloud_ctl POST /reset >/dev/null
}

# cloud_calls [QUERY]: the calls log as JSON Lines (QUERY e.g. service=ec2)
cloud_calls() {
	curl -sS --fail-with-body "$CLOUD_URL/_cloud/calls${1:+?$1}"
}

# cloud_mutating_calls [QUERY]: only the calls that changed something
cloud_mutating_calls() {
	local out
	out=$(cloud_calls "$@") || return 1
	jq -c 'select(.mutating)' <<<"$out"
}

# cloud_seed COUNT [JSON]: seed COUNT instances (JSON: the other fields of
# POST /_cloud/instances); prints their ids, one a line
cloud_seed() {
	local spec=${2:-'{}'} body out
	body=$(jq -c --argjson n "$1" '. + {count: $n}' <<<"$spec") || return 1
	out=$(cloud_ctl POST /instances "$body") || return 1
	jq -r '.instances[]' <<<"$out"
}

# cloud_fault JSON...: add faults
cloud_fault() {
	local f
	for f in "$@"; do
		cloud_ctl POST /faults "{\"faults\":[$f]}" >/dev/null || return 1
	done
}

# wait_until SECONDS CMD...: poll CMD every WAIT_STEP seconds (0.25; the
# end-to-end tests, whose CMD lists the pool, 0.5)
wait_until() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep "${WAIT_STEP:-0.25}"
	done
}
