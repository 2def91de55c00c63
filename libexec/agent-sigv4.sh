#!/bin/sh
# ec2-runner-pool instance agent, part 1 of 2: the signer.  AWS Signature
# Version 4 in sh (HMAC-SHA256 over sha256sum or openssl; no secret ever in
# argv), the instance role's credentials, and rp_aws, the signed call with
# its retries.  Function definitions only: sourcing this file sets nothing
# else (tests/0413 checks it against AWS's SigV4 suite; tests/0406 signs
# with it as a job would).
#
# refresh ships it in user data ahead of agent.sh, the protocol loop,
# which provides what rp_creds and rp_aws call on: rp_md and rp_log, T
# (the agent's private directory: the reply lands in $T/out), REGION,
# rp_precheck, and LC_ALL=C (rp_urlenc encodes byte by byte).
# Every function is rp_*.  The functions run in the caller's shell and
# set, besides AK SK TK CEXP SIP SOP and their results (_E _HM _UE _AZ),
# these scratch names, which a caller must not hold across a call:
#   _a _an _c _ch _cn _cr _d _eb _ee _eh _ev _hc _hi _host _in _j _k _kid
#   _kid1 _kid2 _ip1 _ip2 _op1 _op2 _ph _pn _role _sc _sh _uc _ur _us

# ---- hex and HMAC-SHA256 without any secret in argv ----------------------
# The helpers leave their results in variables (_E, _HM, _UE, _AZ), not on
# stdout: a $(...) costs the agent a fork, and each call signs with 4
# hashes.
rp_hexof() { od -An -v -tx1 | tr -d ' \n'; }

# rp_esc HEX [XOR]: _E, a printf format with one octal escape per byte of
# HEX; with XOR, the 64-byte block HEX^XOR (zero bytes after HEX: an HMAC
# pad of the key HEX)
rp_esc() {
	_eh=$1 _ee='' _pn=0
	while if [ -n "${2:-}" ]; then [ "$_pn" -lt 64 ]; else [ -n "$_eh" ]; fi; do
		if [ -n "$_eh" ]; then _eb=${_eh%"${_eh#??}"}; _eh=${_eh#??}; else _eb=00; fi
		_ev=$((0x$_eb ^ ${2:-0}))
		_ee="$_ee\\$((_ev / 64))$((_ev / 8 % 8))$((_ev % 8))"
		_pn=$((_pn + 1))
	done
	_E=$_ee
}

# rp_sha: SHA-256 of stdin, as "HEX ..." (coreutils' format).  coreutils'
# sha256sum where there is one (every mainstream AMI): openssl's start
# costs ten times sha256sum's
if command -v sha256sum >/dev/null 2>&1; then
	rp_sha() { sha256sum; }
else
	rp_sha() { openssl dgst -sha256 -r; }
fi

# rp_hmacp IPAD OPAD MSG: _HM, the hex HMAC-SHA256 of MSG under the key
# whose two pads (rp_esc KEYHEX XOR) are given: the key only ever reaches builtins and
# the hash's stdin
rp_hmacp() {
	# shellcheck disable=SC2059
	_in=$({ printf "$1"; printf '%s' "$3"; } | rp_sha)
	rp_esc "${_in%% *}"
	# shellcheck disable=SC2059
	_HM=$({ printf "$2"; printf "$_E"; } | rp_sha)
	_HM=${_HM%% *}
}

# rp_hmk KEYHEX MSG: _HM, the same for a key in hex
rp_hmk() {
	rp_esc "$1" 0x36
	_hi=$_E
	rp_esc "$1" 0x5c
	rp_hmacp "$_hi" "$_E" "$2"
}

# rp_urlenc STRING: _UE, STRING in RFC 3986 percent-encoding (as SigV4
# wants it; the tag keys' colon without a printf)
rp_urlenc() {
	_us=$1 _ur=
	while [ -n "$_us" ]; do
		_uc=${_us%"${_us#?}"}
		_us=${_us#?}
		case $_uc in
		[A-Za-z0-9._~-]) _ur="$_ur$_uc" ;;
		:) _ur="$_ur%3A" ;;
		/) _ur="$_ur%2F" ;;
		*) _ur="$_ur$(printf %%%02X "'$_uc")" ;;
		esac
	done
	_UE=$_ur
}

# rp_skey SECRET REGION SERVICE DAY: SIP and SOP, the HMAC pads of SigV4's
# signing key, derived once for a secret, day, region and service: the
# last two are kept (the agent signs for ec2 and ssm)
rp_skey() {
	_kid="$1/$4/$2/$3"
	if [ "$_kid" = "${_kid1:-}" ]; then SIP=$_ip1 SOP=$_op1; return 0; fi
	if [ "$_kid" = "${_kid2:-}" ]; then SIP=$_ip2 SOP=$_op2; return 0; fi
	_k=$(printf '%s' "AWS4$1" | rp_hexof)
	rp_hmk "$_k" "$4"
	rp_hmk "$_HM" "$2"
	rp_hmk "$_HM" "$3"
	rp_hmk "$_HM" aws4_request
	rp_esc "$_HM" 0x36
	SIP=$_E
	rp_esc "$_HM" 0x5c
	SOP=$_E
	_kid2=${_kid1:-} _ip2=${_ip1:-} _op2=${_op1:-}
	_kid1=$_kid _ip1=$SIP _op1=$SOP
}

# rp_az AKID SECRET TOKEN REGION SERVICE DATE HOST CTYPE BODYFILE [TARGET]:
# _AZ, the Authorization header value for a POST / with the given headers
rp_az() {
	_sh="content-type;host;x-amz-date"
	_ch="content-type:$8
host:$7
x-amz-date:$6
"
	if [ -n "$3" ]; then
		_sh="$_sh;x-amz-security-token"
		_ch="${_ch}x-amz-security-token:$3
"
	fi
	if [ -n "${10:-}" ]; then
		_sh="$_sh;x-amz-target"
		_ch="${_ch}x-amz-target:${10}
"
	fi
	_ph=$(rp_sha <"$9")
	_cr="POST
/

$_ch
$_sh
${_ph%% *}"
	_sc="${6%%T*}/$4/$5/aws4_request"
	_hc=$(printf '%s' "$_cr" | rp_sha)
	rp_skey "$2" "$4" "$5" "${6%%T*}"
	rp_hmacp "$SIP" "$SOP" "AWS4-HMAC-SHA256
$6
$_sc
${_hc%% *}"
	_AZ="AWS4-HMAC-SHA256 Credential=$1/$_sc, SignedHeaders=$_sh, Signature=$_HM"
}

# rp_creds NOW: AK, SK, TK from the instance role, read again after 2
# minutes (the role's credentials are replaced at least 5 minutes before
# they expire) or when a call says they expired
rp_creds() {
	_cn=$1
	[ -n "${AK:-}" ] && [ "$_cn" -lt "${CEXP:-0}" ] && return 0
	CEXP=0
	_role=$(rp_md meta-data/iam/security-credentials/) || return 1
	_j=$(rp_md "meta-data/iam/security-credentials/${_role%%/*}") || return 1
	# JSON by sed (no jq on a bare AMI): IMDS's document has one field a
	# line, and these values hold no quote or backslash; the line
	#   "AccessKeyId" : "ASIAIOSFODNN7EXAMPLE",
	# gives ASIAIOSFODNN7EXAMPLE; a field missing leaves AK or SK empty:
	# no credentials, retried next call.  The document's shape:
	# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-security-credentials.html
	AK=$(printf '%s' "$_j" | sed -n 's/.*"AccessKeyId" *: *"\([^"]*\)".*/\1/p')
	SK=$(printf '%s' "$_j" | sed -n 's/.*"SecretAccessKey" *: *"\([^"]*\)".*/\1/p')
	TK=$(printf '%s' "$_j" | sed -n 's/.*"Token" *: *"\([^"]*\)".*/\1/p')
	[ -n "$AK" ] && [ -n "$SK" ] && CEXP=$((_cn + 120))
}

# rp_aws SERVICE ENDPOINT CTYPE BODYFILE [TARGET]: signed POST, reply in $T/out
# (the signed headers, with the role's session token, reach curl through
# a pipe: no file keeps them)
rp_aws() {
	_an=0
	while :; do
		# the time once: the credentials' age and the request's date
		_d=$(date -u '+%s %Y%m%dT%H%M%SZ')
		if rp_creds "${_d%% *}"; then
			_d=${_d#* }
			_host=${2#*://}
			_host=${_host%%/*}
			# signed in this shell: the signing key derived here is kept
			# for the next calls
			rp_az "$AK" "$SK" "$TK" "$REGION" "$1" "$_d" "$_host" "$3" "$4" "${5:-}"
			_a=$_AZ
			# the caller's last look just before sending (a grant: the
			# loop's rp_precheck, when it set PRECHECK): on a no, nothing
			# is sent
			[ -z "${PRECHECK:-}" ] || rp_precheck "$PRECHECK" || return 1
			_c=$({
				printf 'Content-Type: %s\nX-Amz-Date: %s\nAuthorization: %s\n' "$3" "$_d" "$_a"
				[ -z "$TK" ] || printf 'X-Amz-Security-Token: %s\n' "$TK"
				[ -z "${5:-}" ] || printf 'X-Amz-Target: %s\n' "$5"
			} | curl -s -m 30 -o "$T/out" -w '%{http_code}' -H @- \
				--data-binary @"$4" "$2/")
			case $_c in
			2??) return 0 ;;
			# throttled; or this instance, not yet visible to the API
			# that launched it (EC2's eventual consistency: it exists)
			4??) grep -q -e ExpiredToken "$T/out" && CEXP=0
				grep -q -e Throttl -e RequestLimitExceeded -e ExpiredToken \
				-e InvalidInstanceID.NotFound "$T/out" ||
				{ rp_log "$1 call failed: HTTP $_c $(head -c 300 "$T/out")"; return 1; } ;;
			esac
		fi
		_an=$((_an + 1))
		[ "$_an" -ge 8 ] && { rp_log "$1 call failed: HTTP ${_c:-none}"; return 1; }
		sleep $((_an + $(od -An -N1 -tu1 /dev/urandom) % 3))
	done
}
