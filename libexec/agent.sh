#!/bin/sh
# ec2-runner-pool instance agent, part 2 of 2: the protocol loop (POSIX sh;
# curl, openssl, coreutils, and for the job user setpriv, useradd and nft
# or iptables).  It calls AWS through agent-sigv4.sh, the signer (rp_aws,
# rp_urlenc; rp_sha checks the runner package too): refresh puts the
# pool's settings (RP_* below), then that file and this one, comment lines
# stripped, into the launch template's user data, the two gzipped
# together.  See
# man/ec2-runner-pool.7 (THE AGENT) for the protocol it implements.
#
# set -u without -e: the agent is a loop that must outlive the failures
# it expects (a tag not there, a curl timing out, a grep without a match)
# and it checks every result it acts on.  Under -e the first such failure
# outside a condition would end it, and its supervisor would restart it
# into the same failure; nor would -e guard much here, since it is off
# inside every function called from a condition (most calls are).  -u
# stays: a misspelt name ends the agent rather than writing an empty tag.
set -u
umask 077
: "${RP_POOL:=}" "${RP_GH_URL:=https://github.com}" "${RP_GH_SCOPE:=}"
: "${RP_TOKEN_PARAM:=/runner-pool/$RP_POOL/regtoken}"
: "${RP_RUNNER_VERSION:=}" "${RP_RUNNER_SHA256:=}"
: "${RP_RUNNER_BASE_URL:=https://github.com/actions/runner/releases/download}"
: "${RP_IDLE_TIME:=300}" "${RP_MAX_RUNTIME:=1800}" "${RP_GRACE:=120}"
: "${RP_POLL:=2}" "${RP_CLAIM_TTL:=120}" "${RP_PRE_RUNNER_GZ:=}"
: "${RP_RUNNER_USER:=runner}" "${RP_RUNNER_SUDO:=false}" "${RP_JOB_METADATA:=false}"
: "${RP_RUNNER_GROUP:=}"
P=runner-pool:
ROOT=${RUNNER_POOL_ROOT:-/opt/runner-pool}
IMDS=${AWS_EC2_METADATA_SERVICE_ENDPOINT:-http://169.254.169.254}
IMDS=${IMDS%/}
RD=$ROOT/actions-runner
T=$ROOT/private
LC_ALL=C
# useradd, nft, iptables (the local cloud's PATH has no sbin)
PATH=${PATH:-/usr/bin:/bin}:/usr/local/sbin:/usr/sbin:/sbin
export LC_ALL PATH

rp_log() { printf '%s agent: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

# rp_num VALUE DIGITS: VALUE is a whole number of 1 to DIGITS digits (tags are
# checked before any arithmetic: a 20-digit value must not end the agent)
rp_num() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	[ "${#1}" -le "$2" ]
}

# ---- IMDSv2 ---------------------------------------------------------------
rp_imds_token() {
	_t=$(curl -sf -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' \
		"$IMDS/latest/api/token") || return 1
	printf 'X-aws-ec2-metadata-token: %s\n' "$_t" >"$T/imds.h"
}

# rp_md PATH: a metadata item (fresh token on 401)
rp_md() {
	_mc=$(curl -s -m 5 -o "$T/md" -w '%{http_code}' -H @"$T/imds.h" "$IMDS/latest/$1")
	if [ "$_mc" = 401 ]; then
		rp_imds_token || return 1
		_mc=$(curl -s -m 5 -o "$T/md" -w '%{http_code}' -H @"$T/imds.h" "$IMDS/latest/$1")
	fi
	# read with builtins (a round reads often); no copy of an item (the
	# role's credentials) stays behind
	[ "$_mc" = 200 ] || { : >"$T/md"; return 1; }
	while IFS= read -r _ml || [ -n "$_ml" ]; do printf '%s\n' "$_ml"; done <"$T/md"
	: >"$T/md"
}

rp_tag() { rp_md "meta-data/tags/instance/$P$1" 2>/dev/null; }

# rp_snap: what a round of the loop reads, in one curl (one process where a
# tag read costs three): KEYS (the tag keys, one per line), ST, RUN, DL
# (state, run-id, deadline; empty when absent) and SPOT (1: an interruption
# notice).  Anything not answered reads as absent, as with rp_tag.
rp_snap() {
	_u=$IMDS/latest/meta-data
	_sc=$(curl -s -m 5 -H @"$T/imds.h" -w '%{http_code} ' \
		-o "$T/s.keys" "$_u/tags/instance" -o "$T/s.st" "$_u/tags/instance/${P}state" \
		-o "$T/s.run" "$_u/tags/instance/${P}run-id" \
		-o "$T/s.dl" "$_u/tags/instance/${P}deadline" \
		-o "$T/s.spot" "$_u/spot/instance-action" 2>/dev/null)
	case $_sc in *401*) [ "${1:-}" = again ] || { rp_imds_token && rp_snap again; return; } ;; esac
	# shellcheck disable=SC2086
	set -- $_sc
	KEYS='' ST='' RUN='' DL='' SPOT=''
	if [ "${1:-}" = 200 ]; then
		while IFS= read -r _l || [ -n "$_l" ]; do
			KEYS="$KEYS$_l
"
		done <"$T/s.keys"
	fi
	[ "${2:-}" = 200 ] && { IFS= read -r ST || :; } <"$T/s.st"
	[ "${3:-}" = 200 ] && { IFS= read -r RUN || :; } <"$T/s.run"
	[ "${4:-}" = 200 ] && { IFS= read -r DL || :; } <"$T/s.dl"
	[ "${5:-}" = 200 ] && SPOT=1
	return 0
}

# rp_has KEY: the last snap saw tag KEY
rp_has() {
	case "
$KEYS" in *"
$P$1
"*) return 0 ;; esac
	return 1
}


EC2=${AWS_ENDPOINT_URL_EC2:-${AWS_ENDPOINT_URL:-}}
SSM=${AWS_ENDPOINT_URL_SSM:-${AWS_ENDPOINT_URL:-}}

# rp_tags OP K=V...: CreateTags (OP=set) or DeleteTags (OP=del) on this instance
rp_tags() {
	_a=CreateTags
	[ "$1" = del ] && _a=DeleteTags
	shift
	_b="Action=$_a&Version=2016-11-15&ResourceId.1=$ID"
	_i=1
	for _kv in "$@"; do
		rp_urlenc "$P${_kv%%=*}"
		_b="$_b&Tag.$_i.Key=$_UE"
		[ "$_a" = CreateTags ] && rp_urlenc "${_kv#*=}" && _b="$_b&Tag.$_i.Value=$_UE"
		_i=$((_i + 1))
	done
	printf '%s' "$_b" >"$T/b"
	rp_aws ec2 "$EC2" 'application/x-www-form-urlencoded; charset=utf-8' "$T/b"
}

# rp_token FIELD: TOKV, a field of the registration token parameter (token,
# remove_token); empty when it could not be read.  Called in this shell,
# not in a $(...): the credentials and the signing key it reads stay
rp_token() {
	TOKV=
	printf '{"Name":"%s","WithDecryption":true}' "$RP_TOKEN_PARAM" >"$T/b"
	rp_aws ssm "$SSM" application/x-amz-json-1.1 "$T/b" AmazonSSM.GetParameter || return 1
	# JSON by sed (no jq on a bare AMI): the reply is one line, and the
	# parameter's value (gh-regtoken's JSON) a string in it, its quotes
	# escaped; FIELD token picks AAQ3EXAMPLE out of
	#   {"Parameter":{"Name":"/runner-pool/acme/web/regtoken",...,
	#   "Value":"{\"token\":\"AAQ3EXAMPLE\",\"remove_token\":...}"}}
	# (the tokens GitHub issues hold no quote or backslash)
	TOKV=$(sed -n "s/.*\\\\\"$1\\\\\" *: *\\\\\"\\([^\\\\\"]*\\)\\\\\".*/\\1/p" "$T/out")
	rm -f "$T/out"
}

# ---- the runner -----------------------------------------------------------
# rp_runner_arch: the runner package's name for this machine
rp_runner_arch() {
	case $(uname -m) in
	x86_64 | amd64) echo x64 ;;
	aarch64 | arm64) echo arm64 ;;
	armv7l | armv6l) echo arm ;;
	*) return 1 ;;
	esac
}

# rp_unhealthy WHY MESSAGE: refuse to serve from now on, and say why in a tag
rp_unhealthy() {
	HEALTH=$1
	rp_log "refusing to serve: $2"
	rp_tags set "health=$1"
}

# ---- the job user ---------------------------------------------------------
# The runner and its jobs run as JN (uid JU, gid JG, home JH), never root
# unless runner-user is root.  In the local cloud, where every instance is
# a process of one machine, RUNNER_POOL_USER_SUFFIX makes it one per instance.

# rp_asu CMD...: CMD as the job user
rp_asu() { setpriv --reuid="$JU" --regid="$JG" --init-groups "$@"; }

# rp_juser: the job user (created when missing), its sudo rule, and the filter
# that keeps instance metadata from it, proven by a try as that user; 1
# (unhealthy) when jobs could not be kept from the pool's secrets
rp_juser() {
	JN=$RP_RUNNER_USER JU=0 JG=0 JH=
	[ "$JN" = root ] && return 0
	JN=$JN${RUNNER_POOL_USER_SUFFIX:-}
	id -u "$JN" >/dev/null 2>&1 || useradd -m "$JN" >>"$ROOT/runner.log" 2>&1 ||
		{ rp_unhealthy runner-user "cannot create the job user $JN"; return 1; }
	JU=$(id -u "$JN") JG=$(id -g "$JN") JH=$(getent passwd "$JN" | cut -d: -f6)
	[ "$JU" != 0 ] || { rp_unhealthy runner-user "$JN has uid 0"; return 1; }
	_s=/etc/sudoers.d/runner-pool-$JN
	rm -f "$_s"
	if [ "$RP_RUNNER_SUDO" = true ] &&
		! { printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$JN" >"$_s" && chmod 440 "$_s"; }; then
		rp_log "runner-sudo: cannot write $_s"
	fi
	if [ "$RP_JOB_METADATA" = true ]; then
		rp_unfilter
		return 0
	fi
	rp_filter >>"$ROOT/runner.log" 2>&1
	rp_asu curl -s -m 5 -o /dev/null "$IMDS/"
	case $? in 7 | 28) return 0 ;; esac
	rp_unhealthy metadata-filter "cannot keep instance metadata ($IMDS) from $JN: no nftables or iptables rule holds"
}

# rp_filter: reject the job user's packets to instance metadata: its
# link-local addresses and the endpoint the agent was given (address and
# port), in a table (iptables: a chain) of this instance's own
rp_filter() {
	_h=${IMDS#*://}
	_h=${_h%%/*}
	case $_h in
	\[*\]:*) _p=${_h##*:} _h=${_h%]:*} ;;
	\[*\]) _p=80 _h=${_h%]} ;;
	*:*) _p=${_h##*:} _h=${_h%:*} ;;
	*) _p=80 ;;
	esac
	_h=${_h#\[}
	# an address, never a name or anything nft would read as more
	case $_p$_h in *[!0-9a-fA-F:.]*) return 1 ;; esac
	_f=ip
	case $_h in
	169.254.169.254 | fd00:ec2::254) _h= ;;
	*:*) _f=ip6 ;;
	esac
	if command -v nft >/dev/null 2>&1; then
		_r="meta skuid $JU"
		printf 'table inet %s\ndelete table inet %s\ntable inet %s {\nchain o {\ntype filter hook output priority 0; policy accept;\n%s ip daddr 169.254.169.254 reject\n%s ip6 daddr fd00:ec2::254 reject\n%s\n}\n}\n' \
			"$NT" "$NT" "$NT" "$_r" "$_r" "${_h:+$_r $_f daddr $_h tcp dport $_p reject}" | nft -f -
	else
		rp_ipt iptables 169.254.169.254 &&
			{ ! command -v ip6tables >/dev/null 2>&1 || rp_ipt ip6tables fd00:ec2::254; }
	fi
}

# rp_ipt CMD ADDR: this instance's chain for CMD, rejecting the job user's
# packets to ADDR (and to the given endpoint of CMD's family)
rp_ipt() {
	"$1" -N "$NT" 2>/dev/null
	"$1" -F "$NT" && "$1" -A "$NT" -m owner --uid-owner "$JU" -d "$2" -j REJECT &&
		{ [ -z "$_h" ] || [ "$1" != "${_f}tables" ] ||
			"$1" -A "$NT" -m owner --uid-owner "$JU" -d "$_h" -p tcp --dport "$_p" -j REJECT; } &&
		{ "$1" -C OUTPUT -j "$NT" 2>/dev/null || "$1" -I OUTPUT -j "$NT"; }
}

rp_unfilter() {
	nft delete table inet "$NT" 2>/dev/null
	for _i in iptables ip6tables; do
		"$_i" -D OUTPUT -j "$NT" 2>/dev/null && "$_i" -F "$NT" && "$_i" -X "$NT"
	done 2>/dev/null
	return 0
}

# rp_reap: kill every process of the job user (kill -1 as that user reaches
# them all, whatever their session); 1 if some are still there after 4 s
rp_reap() {
	[ "$JU" = 0 ] && return 0
	_n=0
	while grep -Eqs "^Uid:[[:space:]]+${JU}[[:space:]]" /proc/[0-9]*/status; do
		[ "$_n" -lt 20 ] || return 1
		rp_asu sh -c 'kill -KILL -1' 2>/dev/null
		sleep 0.2
		_n=$((_n + 1))
	done
}

# docker's containers, networks and volumes (what the agent found at its
# first start is kept)
rp_dk() { docker ps -aq && docker network ls -q && docker volume ls -q; } 2>/dev/null

# rp_wipe: what a run left: its work and diagnostics and, with a job user,
# its home (afresh from /etc/skel), its files in /tmp, /var/tmp and
# /dev/shm, its crontab, and docker's new containers, networks and volumes
rp_wipe() {
	rm -rf "$RD/_work" "$RD/_diag"
	if [ "$JU" != 0 ]; then
		find /tmp /var/tmp /dev/shm -xdev -mindepth 1 -uid "$JU" -delete 2>/dev/null
		# (only a home of its own: never one shared with another user)
		case $JH in /?*)
			[ "$(stat -c %u "$JH" 2>/dev/null)" != "$JU" ] || { rm -rf "$JH" &&
				mkdir -m 700 "$JH" && { cp -a /etc/skel/. "$JH"; chown -R "$JU:$JG" "$JH"; }; } ;;
		esac
		crontab -r -u "$JN" 2>/dev/null
	fi
	# shellcheck disable=SC2046
	if rp_dk >"$T/dk"; then
		docker rm -fv $(grep -vxFf "$T/docker" "$T/dk")
		docker network rm $(grep -vxFf "$T/docker" "$T/dk")
		docker volume rm -f $(grep -vxFf "$T/docker" "$T/dk")
	fi >/dev/null 2>&1
	rm -f "$T/dk"
}

# rp_install_runner: the runner of RP_RUNNER_VERSION in $RD (one there of
# another version was removed at start).  The package, baked into the AMI
# as $ROOT/actions-runner-linux-ARCH-VERSION.tar.gz or else downloaded, is
# unpacked only once its SHA-256 equals the release notes' (refresh wrote
# them in RP_RUNNER_SHA256 as "x64=HEX arm64=HEX").  1: try again later;
# 2: refused for good (unhealthy).
rp_install_runner() {
	[ -x "$RD/config.sh" ] && return 0
	if ! _ra=$(rp_runner_arch); then
		rp_unhealthy runner-arch "no runner package for machine $(uname -m)"
		return 2
	fi
	_want=
	for _kv in $RP_RUNNER_SHA256; do
		[ "${_kv%%=*}" = "$_ra" ] && _want=${_kv#*=}
	done
	if [ -z "$_want" ]; then
		rp_unhealthy runner-checksum "no SHA-256 for the linux-$_ra package"
		return 2
	fi
	_f=actions-runner-linux-$_ra-$RP_RUNNER_VERSION.tar.gz
	if [ ! -f "$ROOT/$_f" ]; then
		if ! curl -sfL -m 600 --retry 5 -o "$ROOT/$_f.part" \
			"$RP_RUNNER_BASE_URL/v$RP_RUNNER_VERSION/$_f"; then
			rp_log "runner download failed: $_f"
			rm -f "$ROOT/$_f.part"
			return 1
		fi
		mv "$ROOT/$_f.part" "$ROOT/$_f" || return 1
	fi
	_got=$(rp_sha <"$ROOT/$_f")
	_got=${_got%% *}
	if [ "$_got" != "$_want" ]; then
		rm -f "$ROOT/$_f"
		rp_unhealthy runner-checksum "$_f has SHA-256 $_got, the release says $_want"
		return 2
	fi
	mkdir -p "$RD" && tar -xzf "$ROOT/$_f" -C "$RD" && rm -f "$ROOT/$_f" && rp_own
}

# rp_own: the runner is root's, readable by all: a job cannot change what
# the next run executes (the archive's owner may be the job user's uid)
rp_own() { chown -R 0:0 "$RD" && chmod -R u+rwX,go+rX,go-w "$RD"; }

# rp_prep: what the job user's runner process reads (its credentials) and
# writes (work, diagnostics, run.sh's copy of run-helper.sh)
rp_prep() {
	[ "$JU" = 0 ] && return 0
	(
		cd "$RD" || exit 1
		chmod 644 .runner .env .path
		cp -f run-helper.sh.template run-helper.sh
		mkdir -p _work _diag
		chown "$JU:$JG" .credentials* _work _diag run-helper.sh
	) 2>/dev/null
	return 0
}

# rp_runner_alive: the runner started here, or by an earlier run of the agent
# (its pid in $T/runner.pid, its working directory $RD), still runs
rp_runner_alive() {
	[ -n "${RPID:-}" ] && kill -0 "$RPID" 2>/dev/null || return 1
	# $RD's real path, once it exists
	[ -n "${RDP:-}" ] || RDP=$(cd "$RD" 2>/dev/null && pwd -P) || RDP=
	[ -n "$RDP" ] && [ "$(readlink "/proc/$RPID/cwd" 2>/dev/null)" = "$RDP" ]
}

# rp_start_runner: run.sh as the job user, with an environment of its own
rp_start_runner() {
	_su="setpriv --reuid=$JU --regid=$JG --init-groups" _ra=
	[ "$JU" != 0 ] || _su='' _ra=RUNNER_ALLOW_RUNASROOT=1
	# shellcheck disable=SC2086
	# a clean environment but the agent's PATH (systemd's default on an
	# instance; the machine's own commands first wherever it runs)
	(cd "$RD" && exec $_su env -i HOME="${JH:-/root}" USER="$JN" LOGNAME="$JN" \
		PATH="${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}" \
		LANG=C.UTF-8 $_ra ./run.sh) >>"$ROOT/runner.log" 2>&1 &
	RPID=$!
	echo "$RPID" >"$T/runner.pid"
}

# rp_stop_runner: TERM, up to 30 s, then KILL (the runner may not be our child)
rp_stop_runner() {
	if rp_runner_alive; then
		kill -TERM "$RPID" 2>/dev/null
		_w=0
		while rp_runner_alive && [ "$_w" -lt 60 ]; do sleep 0.5; _w=$((_w + 1)); done
		rp_runner_alive && kill -KILL "$RPID" 2>/dev/null
		wait "$RPID" 2>/dev/null
	fi
	RPID=
	rm -f "$T/runner.pid"
}

# rp_serve RUN: register for RUN and start the runner
rp_serve() {
	NAME=rp-$ID-$1
	_n=0
	until [ -z "$HEALTH" ] && rp_install_runner && rp_token token && _tok=$TOKV TOKV= && [ -n "$_tok" ] &&
		(cd "$RD" && ACTIONS_RUNNER_INPUT_TOKEN=$_tok ./config.sh \
			--url "$RP_GH_URL/$RP_GH_SCOPE" --name "$NAME" --labels "$1" \
			${RP_RUNNER_GROUP:+--runnergroup "$RP_RUNNER_GROUP"} \
			--no-default-labels --unattended --disableupdate --work _work \
			--replace) >"$T/config.log" 2>&1; do
		cat "$T/config.log" >>"$ROOT/runner.log" 2>/dev/null
		# a runner group the scope does not have: no retry will find it
		if grep -q 'Could not find any self-hosted runner group' "$T/config.log" 2>/dev/null; then
			rp_unhealthy runner-group "GitHub has no runner group '$RP_RUNNER_GROUP' for $RP_GH_SCOPE"
		fi
		# GitHub refuses this version for good: say so at once
		if grep -q 'runner version is out of date' "$T/config.log" 2>/dev/null; then
			rp_unhealthy runner-version "GitHub refuses to register runner v$RP_RUNNER_VERSION"
		fi
		_n=$((_n + 1))
		[ "$_n" -ge 5 ] || [ -n "$HEALTH" ] && { rp_log "cannot register for run $1"; return 1; }
		rm -f "$RD/.runner" "$RD/.credentials"
		sleep "$_n"
	done
	cat "$T/config.log" >>"$ROOT/runner.log" 2>/dev/null
	_tok=
	rp_prep
	rp_start_runner
	# handed back meanwhile (a surplus or late grant, a failed provision):
	# the next round releases it
	if [ "$(rp_tag state)" = releasing ] || rp_tag "release:$1" >/dev/null; then
		return 0
	fi
	rp_tags set state=running "runner=$NAME" || return 1
	rp_log "serving run $1 as $NAME"
}

# rp_release RUN: stop and deregister the runner, wipe, back to idle
rp_release() {
	rp_tags set state=releasing || return 1
	rm -f "$T/grant"
	rp_stop_runner
	rp_reap
	if [ -f "$RD/.runner" ]; then
		rp_token remove_token
		_tok=$TOKV TOKV=
		(cd "$RD" && ACTIONS_RUNNER_INPUT_TOKEN=$_tok ./config.sh remove) \
			>>"$ROOT/runner.log" 2>&1 || rp_log "deregistration failed; runner left offline"
		_tok=
		rm -f "$RD/.runner" "$RD/.credentials"*
	fi
	rp_wipe
	# nothing of the run may outlive it: else never serve again
	[ -n "$HEALTH" ] || rp_reap || rp_unhealthy job-processes "processes of $JN outlive kill -KILL"
	# asked to leave the pool (its runner version is no longer the pool's)
	rp_tag retire >/dev/null && rp_retire
	# idle and no run in one write (an agent restarted after it finds
	# nothing half done), then the tags that no longer mean anything
	rp_tags set state=idle run-id= "deadline=$(($(date +%s) + RP_IDLE_TIME))" || return 1
	# the request goes with the run's claim, if a restart left one: once a
	# run asked for its release, no claim of it is ever seen without it
	# shellcheck disable=SC2046
	rp_tags del run-id runner $([ -n "$1" ] && echo "release:$1 claim:$1") || return 1
	rp_log "released: idle"
}

# rp_grant: give this idle instance to the earliest fresh claim of a run not
# released.  A release request here (release:RUN: the run's release, or a
# claimant withdrawing) is answered by deleting it with the run's claim,
# never granted: only this agent removes a claim once it has a request.
# (PRECHECK is read by rp_aws, in agent-sigv4.sh: rp_precheck before it
# sends the grant)
# shellcheck disable=SC2034
rp_grant() {
	# the keys of this round's snap (most rounds: nothing to do, no process)
	case $KEYS in *"${P}claim:"* | *"${P}release:"*) ;; *) return 0 ;; esac
	_keys=$(printf '%s' "$KEYS" | grep -e "^${P}claim:" -e "^${P}release:") || return 0
	_rel=$(printf '%s\n' "$_keys" | sed -n "s/^${P}release://p")
	_now=$(date +%s)
	_best='' _bestv='' _seen=''
	for _k in $_keys; do
		case $_k in "${P}release:"*) _seen="$_seen ${_k#"$P"}"; continue ;; esac
		_v=$(rp_md "meta-data/tags/instance/$_k") || continue
		_r=${_k#"${P}claim:"}
		# a claim is a run id (1-20 digits) and a time in ms; anything else,
		# too long for arithmetic, stale, or of a released run is dropped,
		# never granted
		case $_r in *[!0-9]* | '') _seen="$_seen ${_k#"$P"}"; continue ;; esac
		[ "${#_r}" -le 20 ] || { _seen="$_seen ${_k#"$P"}"; continue; }
		_seen="$_seen ${_k#"$P"}"
		printf '%s\n' "$_rel" | grep -qxF -e "$_r" && continue
		rp_num "$_v" 15 || continue
		[ $((_now * 1000 - _v)) -gt $((RP_CLAIM_TTL * 1000)) ] && continue
		if [ -z "$_best" ] || [ "$_v" -lt "$_bestv" ] ||
			{ [ "$_v" -eq "$_bestv" ] && [ "$(printf '%s\n%s\n' "$_r" "$_best" | sort | head -n1)" = "$_r" ]; }; then
			_best=$_r _bestv=$_v
		fi
	done
	if [ -n "$_best" ]; then
		PRECHECK=$_best
		rp_tags set state=claimed "run-id=$_best" \
			"deadline=$((_now + RP_MAX_RUNTIME))" || { PRECHECK=""; return 1; }
		PRECHECK=""
		rp_log "granted to run $_best"
	fi
	# the runner first (a warm grant's critical path), then the clean-up
	[ -z "$_best" ] || rp_serve "$_best"
	# shellcheck disable=SC2086
	[ -n "$_seen" ] && rp_tags del $_seen
}

# rp_precheck RUN: a grant's last look, just before rp_aws sends it: is
# the claim still there, its run not released?  The grant is recorded on
# disk before it is sent: a restart finishes it, never replaces it
rp_precheck() {
	rp_md "meta-data/tags/instance/${P}claim:$1" >/dev/null &&
		! rp_md "meta-data/tags/instance/${P}release:$1" >/dev/null &&
		echo "$1" >"$T/grant"
}

# rp_regrant RUN: finish the grant to RUN recorded before a restart (the
# write may have been sent, and metadata lag behind it): never another
rp_regrant() {
	rp_tags set state=claimed "run-id=$1" "deadline=$(($(date +%s) + RP_MAX_RUNTIME))" || return 1
	rp_log "granted to run $1 (recorded before a restart)"
	rp_tags del "claim:$1" && rp_serve "$1"
}

rp_retire() {
	rp_tags set state=terminating
	rp_halt "retired by refresh: the pool's runner version is no longer v$RP_RUNNER_VERSION"
}

rp_halt() {
	rp_log "shutting down: $1"
	rp_stop_runner
	rp_reap
	rp_unfilter
	shutdown -h now || poweroff
	exit 0
}

# ---- main -----------------------------------------------------------------
mkdir -p "$T" && chmod 700 "$T" || exit 1
# instance metadata may not answer yet: wait, with backoff, never give up
_b=1
until rp_imds_token && ID=$(rp_md meta-data/instance-id) &&
	REGION=$(rp_md meta-data/placement/region) && [ -n "$ID" ] && [ -n "$REGION" ]; do
	rp_log "instance metadata not answering; again in $_b s"
	sleep "$_b"
	[ "$_b" -ge 30 ] || _b=$((_b * 2))
done
[ -n "$EC2" ] || EC2=https://ec2.$REGION.amazonaws.com
[ -n "$SSM" ] || SSM=https://ssm.$REGION.amazonaws.com
rp_log "instance $ID in $REGION, pool $RP_POOL"

HEALTH=$(rp_tag health) || HEALTH=
# a runner already in $RD (carried by the AMI, or left by an earlier start)
# is used only if it is the pool's version
if [ -x "$RD/config.sh" ]; then
	_v=$("$RD/config.sh" --version 2>/dev/null | tail -n 1)
	if [ "$_v" = "$RP_RUNNER_VERSION" ]; then
		rp_log "runner v$_v already installed in $RD"
		# not configured: no run in progress (whose files are its user's)
		[ -f "$RD/.runner" ] || rp_own
	else
		rp_log "runner v$_v in $RD is not v$RP_RUNNER_VERSION: replacing it"
		rm -rf "$RD"
	fi
fi
if [ ! -f "$ROOT/pre-runner.done" ]; then
	_pr=ok
	if [ -n "$RP_PRE_RUNNER_GZ" ]; then
		printf '%s' "$RP_PRE_RUNNER_GZ" | openssl base64 -d -A | gzip -dc >"$T/pre-runner" &&
			(cd "$ROOT" && sh "$T/pre-runner") >>"$ROOT/pre-runner.log" 2>&1 ||
			_pr=failed-$?
	fi
	[ -n "$HEALTH" ] || rp_install_runner || rp_log "runner not installed yet (will retry)"
	rp_tags set "pre-runner=$_pr" "runner-version=$RP_RUNNER_VERSION" &&
		: >"$ROOT/pre-runner.done"
fi
# docker's own, before any job (wipe keeps them)
[ -f "$T/docker" ] || rp_dk >"$T/docker"
NT=runner_pool_${ID#i-}
rp_juser

# config.sh refuses root without it (for every call: register and remove)
[ "$(id -u)" = 0 ] && RUNNER_ALLOW_RUNASROOT=1 && export RUNNER_ALLOW_RUNASROOT
# a runner started by an earlier run of this agent (restarted by its
# supervisor) is adopted, not started twice
RPID=$(cat "$T/runner.pid" 2>/dev/null) || RPID=
rp_runner_alive || RPID=
while :; do
	_now=$(date +%s)
	rp_snap
	if [ -n "$SPOT" ]; then
		rp_tags set state=terminating
		rp_halt "spot interruption"
	fi
	_st=$ST _run=$RUN _dl=$DL
	rp_num "$_dl" 12 || _dl=$((_now + RP_IDLE_TIME))
	rp_num "$_run" 20 || _run=
	# a release request for the run it serves (written by the run's release,
	# a failed provision or a claimant handing back a surplus grant): only
	# the agent writes the state, so no request is lost to its own writes
	if [ -n "$_run" ] && [ "$_st" != idle ] && rp_has "release:$_run"; then
		_st=releasing
	fi
	[ "$_now" -gt $((_dl + RP_GRACE)) ] && rp_halt "past deadline $_dl + $RP_GRACE"
	case $_st in
	created | claimed)
		if [ -n "$_run" ]; then
			rp_serve "$_run" || rp_tags set state=releasing
		else
			rp_tags set state=idle "deadline=$((_now + RP_IDLE_TIME))"
		fi ;;
	idle)
		# asked to leave the pool: never granted again
		rp_has retire && rp_retire
		# metadata may lag the agent's own writes: never grant while a
		# runner is still configured here; never grant when unhealthy
		if rp_runner_alive || [ -f "$RD/.runner" ]; then :
		elif [ -f "$T/grant" ] && { IFS= read -r _g || :; } <"$T/grant" && rp_num "$_g" 20; then
			# a grant recorded and sent (or not) before a restart: finished
			rp_regrant "$_g"
		elif [ -z "$HEALTH" ] && [ "$_now" -lt "$_dl" ]; then
			rp_grant
		fi ;;
	running)
		if ! rp_runner_alive; then
			# GitHub gives this version no more jobs: say so, restart nothing
			if [ -z "$HEALTH" ] && tail -n 20 "$ROOT/runner.log" 2>/dev/null |
				grep -q 'is deprecated and cannot receive messages'; then
				rp_unhealthy runner-version "GitHub gives runner v$RP_RUNNER_VERSION no more jobs"
			fi
			if [ -n "$HEALTH" ]; then :
			elif [ -f "$RD/.runner" ]; then rp_start_runner; else rp_serve "$_run"; fi
		fi ;;
	releasing) rp_release "$_run" ;;
	terminating) rp_halt "marked terminating" ;;
	esac
	sleep "$RP_POLL"
done
