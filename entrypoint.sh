#!/bin/sh
# entrypoint.sh: map the action's inputs (INPUT_<NAME>, upper case, '-' as
# '_', as action.yml passes them, or set by hand) to a mode of libexec/.
# Every input is validated before anything is called: a bad one gets one
# line naming it and exit 100, and nothing is changed.
# shellcheck disable=SC2015,SC2086,SC2116
set -eu
here=$(cd "$(dirname "$0")" && pwd)

bad() { printf 'ec2-runner-pool: input %s: %s\n' "$1" "$2" >&2; exit 100; }

# inp NAME DEFAULT: the input's value, blanks around the whole value
# trimmed (a multi-line value such as a script keeps its indentation)
inp() {
	_v=$(printenv "INPUT_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')" 2>/dev/null) || _v=
	_v=${_v#"${_v%%[![:space:]]*}"}
	_v=${_v%"${_v##*[![:space:]]}"}
	printf '%s' "${_v:-$2}"
}

NL='
'
# line NAME VALUE: a value of one line (grep would check each line alone)
line() {
	case $2 in *"$NL"*) bad "$1" "has more than one line" ;; esac
}

# int NAME VALUE MIN MAX
int() {
	case $2 in '' | *[!0-9]*) bad "$1" "'$2' is not a whole number" ;; esac
	case $2 in 0?*) bad "$1" "'$2' has a leading zero" ;; esac
	[ "${#2}" -le 9 ] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] ||
		bad "$1" "$2 is out of range $3-$4"
}

# each NAME REGEX VALUE: every blank-separated word matches REGEX
each() {
	[ -n "$3" ] || bad "$1" "is required"
	for _w in $3; do
		printf '%s\n' "$_w" | grep -Eqx "$2" || bad "$1" "'$_w' is not valid"
	done
}

case ${1:-} in
-h | --help)
	cat <<'EOF'
usage: entrypoint.sh [-h | --help]

Run one mode of the ec2-runner-pool action.  The inputs come from the
environment as GitHub passes a composite action's inputs: INPUT_<NAME>,
upper case, '-' as '_' (INPUT_MODE=provision, INPUT_INSTANCE_COUNT=2, ...);
see action.yml and ec2-runner-pool(7).  Every input is validated before
anything is called.

  INPUT_MODE          provision, release or refresh (required)
  INPUT_AWS_REGION    AWS region (default $AWS_REGION, then us-east-1)
  INPUT_POOL          the pool (default $GITHUB_REPOSITORY)

Exit status: 0 done, 1 the mode failed (what it started was undone),
100 a bad input (nothing was called).
EOF
	exit 0
	;;
esac

set -f
mode=$(inp mode '')
case $mode in
provision | release | refresh) ;;
'') bad mode "is required (provision, release or refresh)" ;;
*) bad mode "'$mode' is not provision, release or refresh" ;;
esac

AWS_REGION=$(inp aws-region "${AWS_REGION:-us-east-1}")
printf '%s\n' "$AWS_REGION" | grep -Eqx '[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]' ||
	bad aws-region "'$AWS_REGION' is not a region name"
AWS_DEFAULT_REGION=$AWS_REGION
export AWS_REGION AWS_DEFAULT_REGION

RP_POOL=$(inp pool "${GITHUB_REPOSITORY:-}")
[ -n "$RP_POOL" ] || bad pool "is required (no GITHUB_REPOSITORY to default to)"
printf '%s\n' "$RP_POOL" | grep -Eqx '[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9_.-]+)?' &&
	[ "${#RP_POOL}" -le 100 ] ||
	bad pool "'$RP_POOL' may hold only letters, digits, '_.-' and one '/'"
export RP_POOL

t=$(inp timeout-sec 600)
int timeout-sec "$t" 1 7200
RP_TIMEOUT=$t
export RP_TIMEOUT

if [ "$mode" != refresh ]; then
	RP_RUN_ID=$(inp run-id "${GITHUB_RUN_ID:-}")
	[ -n "$RP_RUN_ID" ] || bad run-id "is required (no GITHUB_RUN_ID to default to)"
	printf '%s\n' "$RP_RUN_ID" | grep -Eqx '[A-Za-z0-9_.-]{1,64}' ||
		bad run-id "'$RP_RUN_ID' is not a run id"
	export RP_RUN_ID
fi

case $mode in
provision)
	RP_COUNT=$(inp instance-count 1)
	int instance-count "$RP_COUNT" 1 100
	RP_USAGE=$(inp usage-class spot)
	case $RP_USAGE in spot | on-demand) ;;
	*) bad usage-class "'$RP_USAGE' is not spot or on-demand" ;; esac
	RP_TYPES=$(inp allowed-instance-types 'c* m* r*')
	each allowed-instance-types '[a-z0-9*.-]+' "$RP_TYPES"
	RP_MAX_RUNTIME_MIN=$(inp max-runtime-min '')
	if [ -n "$RP_MAX_RUNTIME_MIN" ]; then
		int max-runtime-min "$RP_MAX_RUNTIME_MIN" 1 10080
		RP_MAX_RUNTIME_OVERRIDE=1
		export RP_MAX_RUNTIME_OVERRIDE
	fi
	RP_CLASS=$(inp resource-class default)
	printf '%s\n' "$RP_CLASS" | grep -Eqx '[a-z0-9_-]{1,32}' ||
		bad resource-class "'$RP_CLASS' is not a class name"
	export RP_COUNT RP_USAGE RP_TYPES RP_MAX_RUNTIME_MIN RP_CLASS
	;;
refresh)
	RP_AMI=$(inp ami '')
	each ami 'ami-([0-9a-f]{8}|[0-9a-f]{17})' "$RP_AMI"
	RP_INSTANCE_PROFILE=$(inp iam-instance-profile '')
	each iam-instance-profile '[A-Za-z0-9+=,.@_-]{1,128}|arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/[A-Za-z0-9+=,.@_/-]+' "$RP_INSTANCE_PROFILE"
	RP_SECURITY_GROUPS=$(inp security-group-ids '')
	each security-group-ids 'sg-([0-9a-f]{8}|[0-9a-f]{17})' "$RP_SECURITY_GROUPS"
	RP_SUBNETS=$(inp subnet-ids '')
	each subnet-ids 'subnet-([0-9a-f]{8}|[0-9a-f]{17})' "$RP_SUBNETS"
	RP_SECURITY_GROUPS=$(echo $RP_SECURITY_GROUPS)
	RP_SUBNETS=$(echo $RP_SUBNETS)
	RP_TOKEN_REFRESH_MIN=$(inp github-reg-token-refresh-min 30)
	int github-reg-token-refresh-min "$RP_TOKEN_REFRESH_MIN" 1 59
	RP_IDLE_TIME=$(inp idle-time-sec 300)
	int idle-time-sec "$RP_IDLE_TIME" 1 604800
	RP_MAX_RUNTIME_MIN=$(inp max-runtime-min 30)
	int max-runtime-min "$RP_MAX_RUNTIME_MIN" 1 10080
	RP_PRE_RUNNER=$(inp pre-runner-script '')
	RP_CLASSES=$(inp resource-class-config '')
	if [ -n "$RP_CLASSES" ]; then
		printf '%s' "$RP_CLASSES" | jq -e 'type == "object" and all(.[];
			type == "object" and (.cpu | type == "number" and . >= 1 and . == floor) and
			(.mmem | type == "number" and . >= 1 and . == floor)) and
			all(keys[]; test("^[a-z0-9_-]{1,32}$"))' >/dev/null 2>&1 ||
			bad resource-class-config 'must be a JSON object of {"cpu": N, "mmem": MiB} by class name (a-z 0-9 _ -)'
	fi
	RP_MIN_IDLE=$(inp min-idle 0)
	case $RP_MIN_IDLE in
	'{'*) printf '%s' "$RP_MIN_IDLE" | jq -e 'type == "object" and
			all(.[]; type == "number" and . >= 0 and . <= 100 and . == floor) and
			all(keys[]; test("^[a-z0-9_-]{1,32}$"))' \
		>/dev/null 2>&1 || bad min-idle 'must be a number or {"class": N, ...}' ;;
	*) int min-idle "$RP_MIN_IDLE" 0 100 ;;
	esac
	RP_USAGE=$(inp usage-class spot)
	case $RP_USAGE in spot | on-demand) ;;
	*) bad usage-class "'$RP_USAGE' is not spot or on-demand" ;; esac
	RP_TYPES=$(inp allowed-instance-types 'c* m* r*')
	each allowed-instance-types '[a-z0-9*.-]+' "$RP_TYPES"
	RP_GH_SCOPE=$(inp github-scope "${GITHUB_REPOSITORY:-}")
	printf '%s\n' "$RP_GH_SCOPE" | grep -Eqx '[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?' ||
		bad github-scope "'$RP_GH_SCOPE' is not owner/repo or org"
	RP_RUNNER_VERSION=$(inp runner-version latest)
	line runner-version "$RP_RUNNER_VERSION"
	[ "$RP_RUNNER_VERSION" = latest ] ||
		printf '%s\n' "$RP_RUNNER_VERSION" | grep -Eqx '[0-9]{1,5}\.[0-9]{1,5}\.[0-9]{1,5}' ||
		bad runner-version "'$(printf '%s' "$RP_RUNNER_VERSION" | head -c 40 | tr -c '[:graph:]' '?')' is not latest or N.N.N"
	RP_RUNNER_SHA256=$(inp runner-sha256 '')
	if [ -n "$RP_RUNNER_SHA256" ]; then
		RP_RUNNER_SHA256=$(printf '%s\n' $RP_RUNNER_SHA256 | tr '\n' ' ' | sed 's/ $//')
		[ "$RP_RUNNER_VERSION" != latest ] ||
			bad runner-sha256 "needs a pinned runner-version (N.N.N)"
		each runner-sha256 '(x64|arm64|arm)=[0-9a-f]{64}' "$RP_RUNNER_SHA256"
	fi
	RP_RUNNER_BASE_URL=$(inp runner-download-url "${GITHUB_SERVER_URL:-https://github.com}/actions/runner/releases/download")
	case $RP_RUNNER_BASE_URL in https://* | http://127.0.0.1[:/]*) ;;
	*) bad runner-download-url "'$RP_RUNNER_BASE_URL' is not an https URL" ;; esac
	RP_GRACE=$(inp grace-sec 120)
	int grace-sec "$RP_GRACE" 0 86400
	RP_AGENT_POLL=$(inp agent-poll-sec 2)
	printf '%s\n' "$RP_AGENT_POLL" | grep -Eqx '[0-9]{1,3}(\.[0-9]{1,3})?' &&
		[ "$RP_AGENT_POLL" != 0 ] || bad agent-poll-sec "'$RP_AGENT_POLL' is not a positive number of seconds"
	RP_CLAIM_TTL=$(inp claim-ttl-sec 120)
	int claim-ttl-sec "$RP_CLAIM_TTL" 5 3600
	RP_RUNNER_USER=$(inp runner-user runner)
	line runner-user "$RP_RUNNER_USER"
	printf '%s\n' "$RP_RUNNER_USER" | grep -Eqx '[a-z_][a-z0-9_-]{0,22}' ||
		bad runner-user "'$(printf '%s' "$RP_RUNNER_USER" | head -c 40 | tr -c '[:graph:]' '?')' is not a user name (a-z 0-9 _ -, at most 23)"
	RP_RUNNER_SUDO=$(inp runner-sudo false)
	case $RP_RUNNER_SUDO in true | false) ;;
	*) bad runner-sudo "'$RP_RUNNER_SUDO' is not true or false" ;; esac
	RP_JOB_METADATA=$(inp job-metadata false)
	case $RP_JOB_METADATA in true | false) ;;
	*) bad job-metadata "'$RP_JOB_METADATA' is not true or false" ;; esac
	tok=$(inp github-token '')
	app=$(inp github-app-id '')
	key=$(inp github-app-private-key '')
	if [ -n "$app" ]; then
		int github-app-id "$app" 1 999999999
		[ -n "$key" ] || bad github-app-private-key "is required with github-app-id"
		GITHUB_APP_ID=$app GITHUB_APP_PRIVATE_KEY=$key
		export GITHUB_APP_ID GITHUB_APP_PRIVATE_KEY
		unset GITHUB_TOKEN
	elif [ -n "$tok" ]; then
		GITHUB_TOKEN=$tok
		export GITHUB_TOKEN
	else
		bad github-token "is required for refresh (or github-app-id and github-app-private-key)"
	fi
	tok='' key=''
	export RP_AMI RP_INSTANCE_PROFILE RP_SECURITY_GROUPS RP_SUBNETS \
		RP_TOKEN_REFRESH_MIN RP_IDLE_TIME RP_MAX_RUNTIME_MIN RP_PRE_RUNNER \
		RP_CLASSES RP_MIN_IDLE RP_USAGE RP_TYPES RP_GH_SCOPE RP_RUNNER_VERSION \
		RP_RUNNER_SHA256 RP_RUNNER_BASE_URL RP_GRACE RP_AGENT_POLL RP_CLAIM_TTL \
		RP_RUNNER_USER RP_RUNNER_SUDO RP_JOB_METADATA
	;;
esac
set +f

exec "$here/libexec/$mode"
