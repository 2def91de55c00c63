#!/bin/sh
# entrypoint.sh: map the action's inputs (INPUT_<NAME>, upper case, '-' as
# '_', as action.yml passes them, or set by hand) to a mode of libexec/.
# Every input is validated before anything is called: a bad one gets one
# line naming it and exit 100, and nothing is changed.
# shellcheck disable=SC2015,SC2086,SC2116
set -eu
here=$(cd "$(dirname "$0")" && pwd)

# bad NAME MESSAGE: one line, whatever the message holds (a value's second
# line starting with :: would be a workflow command in the Actions log)
bad() {
	printf 'ec2-runner-pool: input %s: %s\n' "$1" "$(printf '%s' "$2" | tr '\000-\037\177' '?')" >&2
	exit 100
}

# inp NAME DEFAULT: the input's value, blanks around the whole value
# trimmed (a multi-line value such as a script keeps its indentation)
inp() {
	_v=$(printenv "INPUT_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')" 2>/dev/null) || _v=
	_v=${_v#"${_v%%[![:space:]]*}"}
	_v=${_v%"${_v##*[![:space:]]}"}
	printf '%s' "${_v:-$2}"
}

# valid NAME VALUE KIND [OPTION...]: VALUE checked by the tools' own rules
# (bin/pool-validate: one line, no control character echoed) and printed
# normalised; a bad one ends here with exit 100.  Call as
#   X=$(valid NAME "$value" KIND) || exit 100
valid() {
	_vn=$1 _vv=$2
	shift 2
	[ -n "$_vv" ] || bad "$_vn" "is required"
	if _vr=$(printf '%s' "$_vv" | "$here/bin/pool-validate" "$@" 2>&1); then
		printf '%s' "$_vr"
		return 0
	fi
	bad "$_vn" "${_vr#pool-validate: }"
}

# int NAME VALUE MIN MAX: a whole number in MIN..MAX, checked (exits 100)
int() {
	valid "$1" "$2" number --range "$3:$4" >/dev/null || exit 100
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

AWS_REGION=$(valid aws-region "$(inp aws-region "${AWS_REGION:-us-east-1}")" region) || exit 100
AWS_DEFAULT_REGION=$AWS_REGION
export AWS_REGION AWS_DEFAULT_REGION

RP_POOL=$(inp pool "${GITHUB_REPOSITORY:-}")
[ -n "$RP_POOL" ] || bad pool "is required (no GITHUB_REPOSITORY to default to)"
RP_POOL=$(valid pool "$RP_POOL" pool) || exit 100
export RP_POOL

t=$(inp timeout-sec 600)
int timeout-sec "$t" 1 7200
RP_TIMEOUT=$t
export RP_TIMEOUT

if [ "$mode" != refresh ]; then
	RP_RUN_ID=$(inp run-id "${GITHUB_RUN_ID:-}")
	[ -n "$RP_RUN_ID" ] || bad run-id "is required (no GITHUB_RUN_ID to default to)"
	RP_RUN_ID=$(valid run-id "$RP_RUN_ID" run-id) || exit 100
	export RP_RUN_ID
fi

case $mode in
provision)
	RP_COUNT=$(inp instance-count 1)
	int instance-count "$RP_COUNT" 1 100
	# empty: the pool's, as refresh stored it (provision reads it)
	RP_USAGE=$(inp usage-class '')
	case $RP_USAGE in '' | spot | on-demand) ;;
	*) bad usage-class "'$RP_USAGE' is not spot or on-demand" ;; esac
	# empty: the pool's (provision reads it)
	RP_FALLBACK=$(inp on-demand-fallback '')
	case $RP_FALLBACK in '' | true | false) ;;
	*) bad on-demand-fallback "'$RP_FALLBACK' is not true or false" ;; esac
	RP_TYPES=$(inp allowed-instance-types '')
	[ -z "$RP_TYPES" ] ||
		RP_TYPES=$(valid allowed-instance-types "$RP_TYPES" type --list --count 400) || exit 100
	RP_MAX_RUNTIME_MIN=$(inp max-runtime-min '')
	if [ -n "$RP_MAX_RUNTIME_MIN" ]; then
		int max-runtime-min "$RP_MAX_RUNTIME_MIN" 1 10080
		RP_MAX_RUNTIME_OVERRIDE=1
		export RP_MAX_RUNTIME_OVERRIDE
	fi
	RP_CLASS=$(valid resource-class "$(inp resource-class default)" class) || exit 100
	export RP_COUNT RP_USAGE RP_FALLBACK RP_TYPES RP_MAX_RUNTIME_MIN RP_CLASS
	;;
refresh)
	RP_AMI=$(valid ami "$(inp ami '')" ami) || exit 100
	RP_INSTANCE_PROFILE=$(valid iam-instance-profile "$(inp iam-instance-profile '')" \
		instance-profile) || exit 100
	# EC2: at most 5 security groups a network interface; pool-launch: 50
	# subnets (one fleet override each)
	RP_SECURITY_GROUPS=$(valid security-group-ids "$(inp security-group-ids '')" \
		security-group --list --count 5) || exit 100
	RP_SUBNETS=$(valid subnet-ids "$(inp subnet-ids '')" subnet --list --count 50) ||
		exit 100
	RP_TOKEN_REFRESH_MIN=$(inp github-reg-token-refresh-min 30)
	int github-reg-token-refresh-min "$RP_TOKEN_REFRESH_MIN" 1 59
	RP_IDLE_TIME=$(inp idle-time-sec 300)
	int idle-time-sec "$RP_IDLE_TIME" 1 604800
	RP_MAX_RUNTIME_MIN=$(inp max-runtime-min 30)
	int max-runtime-min "$RP_MAX_RUNTIME_MIN" 1 10080
	RP_PRE_RUNNER=$(inp pre-runner-script '')
	RP_CLASSES=$(inp resource-class-config '')
	if [ -n "$RP_CLASSES" ]; then
		# the bounds pool-launch takes: 1-448 vCPUs, 512-4194304 MiB
		printf '%s' "$RP_CLASSES" | jq -e 'type == "object" and length <= 100 and all(.[];
			type == "object" and (keys - ["cpu", "mmem", "ami"] | length == 0) and
			(.cpu | type == "number" and . >= 1 and . <= 448 and . == floor) and
			(.mmem | type == "number" and . >= 512 and . <= 4194304 and . == floor) and
			((has("ami") | not) or (.ami | type == "string" and test("^ami-([0-9a-f]{8}|[0-9a-f]{17})$")))) and
			all(keys[]; test("^[a-z0-9_-]{1,32}$"))' >/dev/null 2>&1 ||
			bad resource-class-config 'must be a JSON object of at most 100 {"cpu": 1-448, "mmem": 512-4194304 MiB[, "ami": "ami-..."]} by class name (a-z 0-9 _ -)'
	fi
	RP_MIN_IDLE=$(inp min-idle 0)
	case $RP_MIN_IDLE in
	'{'*) printf '%s' "$RP_MIN_IDLE" | jq -e 'type == "object" and
			all(.[]; type == "number" and . >= 0 and . <= 100 and . == floor) and
			all(keys[]; test("^[a-z0-9_-]{1,32}$"))' \
		>/dev/null 2>&1 || bad min-idle 'must be a number or {"class": N, ...}'
		unknown=$(printf '%s' "$RP_MIN_IDLE" | jq -r --argjson c "${RP_CLASSES:-{\}}" \
			'keys - ($c | keys) - ["default"] | join(" ")')
		[ -z "$unknown" ] || bad min-idle "class '$unknown' is not in resource-class-config" ;;
	*) int min-idle "$RP_MIN_IDLE" 0 100 ;;
	esac
	RP_USAGE=$(valid usage-class "$(inp usage-class spot)" usage) || exit 100
	RP_FALLBACK=$(inp on-demand-fallback false)
	case $RP_FALLBACK in true | false) ;;
	*) bad on-demand-fallback "'$RP_FALLBACK' is not true or false" ;; esac
	RP_TYPES=$(valid allowed-instance-types "$(inp allowed-instance-types 'c* m* r*')" \
		type --list --count 400) || exit 100
	RP_GH_SCOPE=$(valid github-scope "$(inp github-scope "${GITHUB_REPOSITORY:-}")" scope) ||
		exit 100
	# a runner group is an organization's (GitHub Enterprise Server too)
	RP_RUNNER_GROUP=$(inp runner-group '')
	if [ -n "$RP_RUNNER_GROUP" ]; then
		case $RP_GH_SCOPE in */*)
			bad runner-group "needs an organization as github-scope; '$RP_GH_SCOPE' is a repository, whose runners are all in its Default group" ;;
		esac
		RP_RUNNER_GROUP=$(valid runner-group "$RP_RUNNER_GROUP" runner-group) || exit 100
	fi
	RP_RUNNER_VERSION=$(valid runner-version "$(inp runner-version latest)" runner-version) ||
		exit 100
	RP_RUNNER_SHA256=$(inp runner-sha256 '')
	if [ -n "$RP_RUNNER_SHA256" ]; then
		[ "$RP_RUNNER_VERSION" != latest ] ||
			bad runner-sha256 "needs a pinned runner-version (N.N.N)"
		RP_RUNNER_SHA256=$(printf '%s\n' $RP_RUNNER_SHA256 | tr '\n' ' ' | sed 's/ $//')
		for w in $RP_RUNNER_SHA256; do
			case $w in
			x64=* | arm64=* | arm=*)
				h=${w#*=}
				case $h in *[!0-9a-f]*) bad runner-sha256 "'$w' is not valid" ;; esac
				[ "${#h}" -eq 64 ] || bad runner-sha256 "'$w' is not valid" ;;
			*) bad runner-sha256 "'$w' is not valid" ;;
			esac
		done
	fi
	RP_RUNNER_BASE_URL=$(inp runner-download-url "${GITHUB_SERVER_URL:-https://github.com}/actions/runner/releases/download")
	case $RP_RUNNER_BASE_URL in https://* | http://127.0.0.1[:/]*) ;;
	*) bad runner-download-url "'$RP_RUNNER_BASE_URL' is not an https URL" ;; esac
	RP_GRACE=$(inp grace-sec 120)
	int grace-sec "$RP_GRACE" 0 86400
	# at least 0.1 s: a faster agent would spin (and call IMDS 10 times a second)
	RP_AGENT_POLL=$(valid agent-poll-sec "$(inp agent-poll-sec 2)" seconds) || exit 100
	awk -v p="$RP_AGENT_POLL" 'BEGIN { exit !(p >= 0.1) }' ||
		bad agent-poll-sec "$RP_AGENT_POLL is below 0.1 seconds"
	RP_CLAIM_TTL=$(inp claim-ttl-sec 120)
	int claim-ttl-sec "$RP_CLAIM_TTL" 5 3600
	RP_RUNNER_USER=$(valid runner-user "$(inp runner-user runner)" user) || exit 100
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
	elif [ -z "$tok" ]; then
		bad github-token "is required for refresh (or github-app-id and github-app-private-key)"
	else
		valid github-token "$tok" token >/dev/null || exit 100
	fi
	# the GitHub credential goes to the GitHub tools alone, in a file: no
	# other process of refresh (jq, sh, the AWS tools) has it in its
	# environment
	RP_SECRETS=$(umask 077 && mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/rp-secrets.XXXXXX") ||
		{ echo "ec2-runner-pool: cannot make a private directory" >&2; exit 1; }
	RP_GH_APP_ID='' RP_GH_APP_KEY_FILE='' RP_GH_TOKEN_FILE=''
	if [ -n "$app" ]; then
		RP_GH_APP_ID=$app RP_GH_APP_KEY_FILE=$RP_SECRETS/app-key.pem
		(umask 077 && printf '%s\n' "$key" >"$RP_GH_APP_KEY_FILE")
	else
		RP_GH_TOKEN_FILE=$RP_SECRETS/token
		(umask 077 && printf '%s\n' "$tok" >"$RP_GH_TOKEN_FILE")
	fi
	tok='' key=''
	unset INPUT_GITHUB_TOKEN INPUT_GITHUB_APP_PRIVATE_KEY GITHUB_TOKEN \
		GITHUB_APP_ID GITHUB_APP_PRIVATE_KEY GITHUB_APP_PRIVATE_KEY_FILE
	export RP_GH_APP_ID RP_GH_APP_KEY_FILE RP_GH_TOKEN_FILE
	export RP_AMI RP_INSTANCE_PROFILE RP_SECURITY_GROUPS RP_SUBNETS \
		RP_TOKEN_REFRESH_MIN RP_IDLE_TIME RP_MAX_RUNTIME_MIN RP_PRE_RUNNER \
		RP_CLASSES RP_MIN_IDLE RP_USAGE RP_TYPES RP_GH_SCOPE RP_RUNNER_VERSION \
		RP_RUNNER_SHA256 RP_RUNNER_BASE_URL RP_GRACE RP_AGENT_POLL RP_CLAIM_TTL \
		RP_RUNNER_USER RP_RUNNER_SUDO RP_JOB_METADATA RP_RUNNER_GROUP RP_FALLBACK
	;;
esac
set +f

if [ -n "${RP_SECRETS:-}" ]; then
	# run, then remove the credential file, however the mode ends
	trap 'rm -rf "$RP_SECRETS"' EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	"$here/libexec/$mode" || exit $?
	exit 0
fi
exec "$here/libexec/$mode"
