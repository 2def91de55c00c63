# libexec/common.sh: shared functions of the modes (sourced; POSIX sh).
# The modes read their settings from RP_* variables set by entrypoint.sh.

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

# retry CMD...: run CMD, again (jittered backoff) only while it exits 111
retry() {
	_rn=0
	while :; do
		"$@" && return 0
		_rs=$?
		[ "$_rs" -eq 111 ] && [ "$_rn" -lt "${RP_RETRIES:-4}" ] || return "$_rs"
		_rn=$((_rn + 1))
		sleep "$(jitter "$_rn")"
	done
}

# retry_in FILE CMD...: retry with stdin from FILE, read afresh each attempt
retry_in() {
	_rf=$1
	shift
	_rn=0
	while :; do
		"$@" <"$_rf" && return 0
		_rs=$?
		[ "$_rs" -eq 111 ] && [ "$_rn" -lt "${RP_RETRIES:-4}" ] || return "$_rs"
		_rn=$((_rn + 1))
		sleep "$(jitter "$_rn")"
	done
}

# ok1_in FILE CMD...: retry_in, but exit 1 ("nothing") is fine
ok1_in() {
	retry_in "$@" && return 0
	_rs=$?
	[ "$_rs" -eq 1 ] && return 0
	return "$_rs"
}

# ok1 CMD...: like retry, but exit 1 ("nothing") is fine
ok1() {
	retry "$@" && return 0
	_rs=$?
	[ "$_rs" -eq 1 ] && return 0
	return "$_rs"
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
	_wint=$2
	_wcur=$2
	shift 2
	while :; do
		"$@" && return 0
		[ $? -ne 2 ] || return 1
		[ "$(date +%s)" -ge "$_wend" ] && return 1
		sleep "$(jitter "$_wcur")"
		_wcur=$(awk -v c="$_wcur" -v m="$_wint" \
			'BEGIN { c *= 1.5; if (c > 4 * m) c = 4 * m; print c }')
	done
}
