# libexec/common.sh: shared functions of the modes (sourced; POSIX sh).
#
# The RP_* contract.  The front door (ec2-runner-pool, through
# libexec/inputs) sets the modes' settings from the inputs; refresh writes
# the agent's into user data; tests and benchmarks set a few knobs.  Unit
# convention: seconds, unless the name ends in _MIN (minutes) or _MS
# (milliseconds); a time of day is unix seconds, a tag's time ms.
#
#   variable                 input / source                  used by
#   RP_MODE                  the mode's name (for say)       all
#   RP_BIN, RP_LIBEXEC       the tools, the modes            all
#   RP_POOL                  pool                            all, agent
#   RP_RUN_ID                run-id                          provision, release
#   RP_TIMEOUT               timeout-sec                     provision, release
#   RP_COUNT                 instance-count                  provision
#   RP_CLASS                 resource-class                  provision
#   RP_USAGE                 usage-class                     provision, refresh, check
#   RP_FALLBACK              on-demand-fallback (true/false) provision, refresh
#   RP_TYPES                 allowed-instance-types          provision, refresh, check
#   RP_MAX_RUNTIME_MIN       max-runtime-min                 provision, refresh
#   RP_MAX_RUNTIME_OVERRIDE  1: provision was given one      provision
#   RP_AMI, RP_INSTANCE_PROFILE, RP_SECURITY_GROUPS, RP_SUBNETS
#                            ami, iam-instance-profile, ...  refresh, check
#   RP_CLASSES               resource-class-config (JSON)    refresh, check
#   RP_MIN_IDLE              min-idle (N or JSON)            refresh
#   RP_IDLE_TIME             idle-time-sec                   refresh, agent
#   RP_GRACE                 grace-sec                       refresh, agent
#   RP_TOKEN_REFRESH_MIN     github-reg-token-refresh-min    refresh
#   RP_GH_SCOPE              github-scope                    refresh, check
#   RP_RUNNER_GROUP          runner-group                    refresh, check, agent
#   RP_RUNNER_VERSION, RP_RUNNER_SHA256, RP_RUNNER_BASE_URL
#                            runner-version, runner-sha256,
#                            runner-download-url             refresh, check, agent
#   RP_RUNNER_USER, RP_RUNNER_SUDO, RP_JOB_METADATA
#                            runner-user, runner-sudo,
#                            job-metadata                    refresh, agent
#   RP_PRE_RUNNER            pre-runner-script               refresh (agent: _GZ)
#   RP_AGENT_POLL            agent-poll-sec                  refresh (agent: RP_POLL)
#   RP_CLAIM_TTL             claim-ttl-sec                   refresh, agent
#   RP_GH_TOKEN_FILE, RP_GH_APP_ID, RP_GH_APP_KEY_FILE
#                            the GitHub credential, in files
#                            of RP_SECRETS (0700, removed)   ghtool only
#   RP_GH_URL                $GITHUB_SERVER_URL              refresh
#   RP_WAIT_INTERVAL         provision/release EC2 poll (1)  provision, release
#   RP_CLAIM_INTERVAL_MS     first claim read-back (the
#                            agent's poll interval)          provision
#   RP_CLAIM_TIMEOUT         how long claims may wait (30)   provision
#   RP_MAX_RUNTIME_SEC       max runtime in s (tests)        provision
#   RP_RETRIES               retries of a 111 (4)            retry
#   agent only (user data):  RP_TOKEN_PARAM, RP_MAX_RUNTIME (s), RP_POLL,
#                            RP_PRE_RUNNER_GZ; RP_AGENT, RP_UNIT:
#                            here-documents
#   tests only:              RP_TEST_USER, RP_TEST_META (tests/e2e.bash)

# shellcheck disable=SC2034
RP_LIBEXEC=${RP_LIBEXEC:-$(cd "$(dirname "$0")" && pwd)}
RP_BIN=${RP_BIN:-$(cd "$RP_LIBEXEC/../bin" && pwd)}
PATH=$RP_BIN:$PATH
export PATH

say() { printf '%s: %s\n' "${RP_MODE:-runner-pool}" "$*" >&2; }
die() { say "$*"; exit 1; }

# jitter SECONDS: SECONDS spread over 75-125% (seeded from /dev/urandom:
# awk's srand() seeds from the clock's second, the same in every process
# started in that second)
jitter() {
	awk -v s="$1" -v r="$(od -An -N4 -tu4 /dev/urandom)" \
		'BEGIN { srand(r); printf "%.3f", s * (0.75 + rand() / 2) }'
}

# retry [-1] [-i FILE] CMD...: run CMD, again (jittered backoff, at most
# RP_RETRIES more times) only while it exits 111 (temporary); -i FILE:
# stdin from FILE, read afresh each attempt; -1: exit 1 ("nothing",
# "no such") is fine too.  Returns CMD's status.
retry() {
	_r1='' _ri=''
	while :; do
		case $1 in
		-1) _r1=1; shift ;;
		-i) _ri=$2; shift 2 ;;
		*) break ;;
		esac
	done
	_rn=0
	while :; do
		if [ -n "$_ri" ]; then "$@" <"$_ri"; else "$@"; fi && return 0
		_rs=$?
		[ "$_rs" -eq 1 ] && [ -n "$_r1" ] && return 0
		[ "$_rs" -eq 111 ] && [ "$_rn" -lt "${RP_RETRIES:-4}" ] || return "$_rs"
		_rn=$((_rn + 1))
		sleep "$(jitter "$_rn")"
	done
}

# ghtool TOOL ARGS...: a GitHub tool with the pool's GitHub credentials,
# which no other process of the mode sees (called through retry)
# shellcheck disable=SC2317
ghtool() {
	_gt=$1
	shift
	if [ -n "$RP_GH_APP_KEY_FILE" ]; then
		"$_gt" --app-id "$RP_GH_APP_ID" --app-key-file "$RP_GH_APP_KEY_FILE" "$@"
	elif [ -n "$RP_GH_TOKEN_FILE" ]; then
		"$_gt" --token-file "$RP_GH_TOKEN_FILE" "$@"
	else
		"$_gt" "$@"
	fi
}

now_ms() { date +%s%3N; }

# changed NEW OLD: a wait's listing this round (NEW) differs from the last
# one (OLD), and now replaces it; 1 when it is the same, so the round need
# not judge it again (no jq)
changed() {
	cmp -s "$1" "$2" && return 1
	mv "$1" "$2"
}

# capacity_short FILE: pool-launch's stderr (FILE) says the fleet came back
# short for lack of capacity: the codes of CreateFleet's errorSet
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-fleet-troubleshooting.html
capacity_short() {
	grep -Eq '^pool-launch: (InsufficientInstanceCapacity|InsufficientCapacity|UnfulfillableCapacity|MaxSpotInstanceCountExceeded|SpotMaxPriceTooLow):' "$1"
}

config_param() { printf '/runner-pool/%s/config' "$RP_POOL"; }
token_param() { printf '/runner-pool/%s/regtoken' "$RP_POOL"; }

# output NAME VALUE: a step output (and a line on stderr)
output() {
	if [ -n "${GITHUB_OUTPUT:-}" ]; then
		printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
	fi
	say "$1=$2"
}

group() { [ -n "${GITHUB_ACTIONS:-}" ] && printf '::group::%s\n' "$*" >&2; return 0; }
endgroup() { [ -n "${GITHUB_ACTIONS:-}" ] && printf '::endgroup::\n' >&2; return 0; }

# wait_for TIMEOUT INTERVAL CMD...: until CMD succeeds or TIMEOUT seconds
# pass; a status of 2 from CMD ends the wait at once (it never will).
# The waits grow from INTERVAL by half each time up to 4 times it, each
# jittered: K waiters started together neither poll together nor ask the
# account's shared DescribeInstances bucket (20 a second) K/INTERVAL times
# a second for long.
wait_for() {
	_wend=$(($(date +%s) + $1))
	_wint=$(awk -v s="$2" 'BEGIN { printf "%d", s * 1000 }')
	_wcur=$_wint
	shift 2
	while :; do
		"$@" && return 0
		[ $? -ne 2 ] || return 1
		[ "$(date +%s)" -ge "$_wend" ] && return 1
		# (ms, in shell arithmetic: a round costs no process it need not)
		_wr=$(od -An -N2 -tu2 /dev/urandom)
		_wj=$((_wcur * (750 + _wr % 500) / 1000))
		sleep "$((_wj / 1000)).$(printf %03d $((_wj % 1000)))"
		_wcur=$((_wcur * 3 / 2))
		[ "$_wcur" -le $((4 * _wint)) ] || _wcur=$((4 * _wint))
	done
}
