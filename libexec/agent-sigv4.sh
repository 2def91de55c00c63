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
# Every name is rp_*: a shell that sources it keeps its own.

# ---- hex and HMAC-SHA256 without any secret in argv ----------------------
rp_hexof() { od -An -v -tx1 | tr -d ' \n'; }

# rp_hex2esc HEX: printf format with one octal escape per byte
rp_hex2esc() {
	_h=$1 _e=''
	while [ -n "$_h" ]; do
		_b=${_h%"${_h#??}"}
		_h=${_h#??}
		_v=$((0x$_b))
		_e="$_e\\$((_v / 64))$((_v / 8 % 8))$((_v % 8))"
	done
	printf '%s' "$_e"
}

# rp_pad KEYHEX XOR: the 64-byte block key^XOR as a printf format
rp_pad() {
	_h=$1 _e='' _n=0
	while [ "$_n" -lt 64 ]; do
		if [ -n "$_h" ]; then _b=${_h%"${_h#??}"}; _h=${_h#??}; else _b=00; fi
		_v=$((0x$_b ^ $2))
		_e="$_e\\$((_v / 64))$((_v / 8 % 8))$((_v % 8))"
		_n=$((_n + 1))
	done
	printf '%s' "$_e"
}

# rp_hmac KEYHEX MSG: hex HMAC-SHA256 (the key only ever reaches builtins
# and the hash's stdin)
rp_hmac() {
	_i=$(rp_pad "$1" 0x36)
	_o=$(rp_pad "$1" 0x5c)
	rp_hmacp "$_i" "$_o" "$2"
}

# rp_hmacp IPAD OPAD MSG: the same, the key's two pads given (rp_pad)
rp_hmacp() {
	# shellcheck disable=SC2059
	_in=$({ printf "$1"; printf '%s' "$3"; } | rp_sha256hex)
	# shellcheck disable=SC2059
	{ printf "$2"; printf "$(rp_hex2esc "$_in")"; } | rp_sha256hex
}

# rp_sha256hex: hex SHA-256 of stdin.  coreutils' sha256sum where there is
# one (every mainstream AMI): a call signs with 4 hashes, and openssl's
# start costs ten times sha256sum's
if command -v sha256sum >/dev/null 2>&1; then
	rp_sha256hex() { _x=$(sha256sum) && printf '%s' "${_x%% *}"; }
else
	rp_sha256hex() { openssl dgst -sha256 -binary | rp_hexof; }
fi

# rp_urlenc STRING: RFC 3986 percent-encoding (as SigV4 wants it)
rp_urlenc() {
	_s=$1 _r=
	while [ -n "$_s" ]; do
		_c=${_s%"${_s#?}"}
		_s=${_s#?}
		case $_c in
		[A-Za-z0-9._~-]) _r="$_r$_c" ;;
		*) _r="$_r$(printf %%%02X "'$_c")" ;;
		esac
	done
	printf '%s' "$_r"
}

# rp_skey SECRET REGION SERVICE DAY: SIP and SOP, the HMAC pads of SigV4's
# signing key, derived once for a secret, day, region and service: the
# last two are kept (the agent signs for ec2 and ssm), and a call in a
# subshell finds them
rp_skey() {
	_kid="$1/$4/$2/$3"
	if [ "$_kid" = "${_kid1:-}" ]; then SIP=$_ip1 SOP=$_op1; return 0; fi
	if [ "$_kid" = "${_kid2:-}" ]; then SIP=$_ip2 SOP=$_op2; return 0; fi
	_k=$(printf '%s' "AWS4$1" | rp_hexof)
	_k=$(rp_hmac "$_k" "$4")
	_k=$(rp_hmac "$_k" "$2")
	_k=$(rp_hmac "$_k" "$3")
	_k=$(rp_hmac "$_k" aws4_request)
	SIP=$(rp_pad "$_k" 0x36) SOP=$(rp_pad "$_k" 0x5c)
	_kid2=${_kid1:-} _ip2=${_ip1:-} _op2=${_op1:-}
	_kid1=$_kid _ip1=$SIP _op1=$SOP
}

# rp_sign SECRET REGION SERVICE DATE STS: the SigV4 signature of STS
rp_sign() {
	rp_skey "$1" "$2" "$3" "${4%%T*}"
	rp_hmacp "$SIP" "$SOP" "$5"
}

# rp_authz AKID SECRET TOKEN REGION SERVICE DATE HOST CTYPE BODYFILE [TARGET]:
# print the Authorization header value for a POST / with the given headers
rp_authz() {
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
	_ph=$(rp_sha256hex <"$9")
	_cr="POST
/

$_ch
$_sh
$_ph"
	_sc="${6%%T*}/$4/$5/aws4_request"
	_st="AWS4-HMAC-SHA256
$6
$_sc
$(printf '%s' "$_cr" | rp_sha256hex)"
	printf 'AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s' \
		"$1" "$_sc" "$_sh" "$(rp_sign "$2" "$4" "$5" "$6" "$_st")"
}

# rp_creds: AK, SK, TK from the instance role, read again after 2 minutes
# (the role's credentials are replaced at least 5 minutes before they
# expire) or when a call says they expired
rp_creds() {
	_cn=$(date +%s)
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
	_n=0
	while :; do
		if rp_creds; then
			_d=$(date -u +%Y%m%dT%H%M%SZ)
			_host=${2#*://}
			_host=${_host%%/*}
			# the signing key derived here, kept for the next calls
			rp_skey "$SK" "$REGION" "$1" "${_d%%T*}"
			_a=$(rp_authz "$AK" "$SK" "$TK" "$REGION" "$1" "$_d" "$_host" "$3" "$4" "${5:-}")
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
		_n=$((_n + 1))
		[ "$_n" -ge 8 ] && { rp_log "$1 call failed: HTTP ${_c:-none}"; return 1; }
		sleep $((_n + $(od -An -N1 -tu1 /dev/urandom) % 3))
	done
}
