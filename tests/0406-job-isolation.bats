#!/usr/bin/env bats
# end to end: jobs cannot reach the pool's secrets or outlive their run
# (issue 8).  A job of the stand-in runner, as the job user, tries the
# issue's attack: (1) instance metadata for the role's credentials, (2) the
# registration token from SSM with the agent's own signer, (3) the agent's
# files, (4) a runner of its own for another run's id.  Each fails by
# default; job-metadata and runner-user root show the same job succeeding,
# so no test here passes for want of trying.  What a job leaves behind
# (processes in a session of their own, files) is gone for the next run.

bats_require_minimum_version 1.5.0
load e2e
setup() {
	e2e_setup
	why=$(e2e_no_user)
	[ -n "$why" ] || why=$(e2e_no_filter)
	[ -z "$why" ] || skip "jobs cannot get a user of their own here: $why"
}
teardown() { e2e_teardown; }

# attack_env VICTIM_RUN: the attack job's environment (JSON); the agent's
# signer comes from a copy the job user can read
attack_env() {
	local lib=$BATS_TEST_TMPDIR/lib
	mkdir -p "$lib" && chmod 755 "$lib"
	install -m 644 "$REPO_ROOT/libexec/agent-sigv4.sh" "$lib/agent-sigv4.sh"
	jq -cn --arg lib "$lib/agent-sigv4.sh" --arg main "$CLOUD_URL" \
		--arg imds "http://127.0.0.1:$(cloud_ctl GET /health | jq -r .imds_port)" \
		--arg victim "$1" '{ATK_LIB: $lib, ATK_MAIN: $main, ATK_IMDS: $imds, ATK_VICTIM: $victim}'
}

# attack: the job script (bash, as the stand-in runs it)
attack() {
	cat <<'EOF'
set +e
. "$ATK_LIB"
say() { printf '%s: %s\n' "$1" "$2"; }
say user "$(id -un) $(id -u)"
id=${RUNNER_NAME#rp-}
id=${id%-*}
RUN=${GITHUB_WORKSPACE%%/_work/*}
ROOTD=${RUN%/actions-runner}
# (1) instance metadata: the link-local address, the endpoint the agent
# was given, and the local cloud's main port
tok=
for e in http://169.254.169.254 "$ATK_IMDS/_imds/$id" "$ATK_MAIN/_imds/$id"; do
	if t=$(curl -sf -m 3 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$e/latest/api/token"); then
		say imds "reached $e"
		tok=$t ep=$e
		break
	fi
	say imds "refused $e"
done
AK= SK= TK=
if [ -n "$tok" ]; then
	h="X-aws-ec2-metadata-token: $tok"
	role=$(curl -sf -H "$h" "$ep/latest/meta-data/iam/security-credentials/")
	j=$(curl -sf -H "$h" "$ep/latest/meta-data/iam/security-credentials/$role")
	AK=$(printf '%s' "$j" | sed -n 's/.*"AccessKeyId" *: *"\([^"]*\)".*/\1/p')
	SK=$(printf '%s' "$j" | sed -n 's/.*"SecretAccessKey" *: *"\([^"]*\)".*/\1/p')
	TK=$(printf '%s' "$j" | sed -n 's/.*"Token" *: *"\([^"]*\)".*/\1/p')
	[ -z "$AK" ] || say creds "role credentials $AK"
fi
# (2) the registration token, signed by the agent's own code, with
# whatever credentials the job has (none: a made-up key)
printf '{"Name":"/runner-pool/acme/web/regtoken","WithDecryption":true}' >"$RUNNER_TEMP/b"
d=$(date -u +%Y%m%dT%H%M%SZ)
rp_az "${AK:-AKIAJOBHASNOKEY00000}" "${SK:-nothing}" "$TK" us-east-1 ssm "$d" \
	"${ATK_MAIN#http://}" application/x-amz-json-1.1 "$RUNNER_TEMP/b" AmazonSSM.GetParameter
a=$_AZ
out=$(curl -s -H 'Content-Type: application/x-amz-json-1.1' -H "X-Amz-Date: $d" \
	-H "Authorization: $a" ${TK:+-H "X-Amz-Security-Token: $TK"} \
	-H 'X-Amz-Target: AmazonSSM.GetParameter' --data-binary @"$RUNNER_TEMP/b" "$ATK_MAIN/")
reg=$(printf '%s' "$out" | sed -n 's/.*\\"token\\" *: *\\"\([^\\"]*\)\\".*/\1/p')
if [ -n "$reg" ]; then say ssm "read the registration token"; else say ssm "refused: $(printf '%s' "$out" | head -c 100)"; fi
# (3) the agent's files, and the runner's
for f in "$ROOTD/agent" "$ROOTD/agent.log" "$ROOTD/runner.log" "$ROOTD/user-data" \
	"$ROOTD/private/runner.pid" "$ROOTD/private/imds.h"; do
	if cat "$f" >/dev/null 2>&1; then say file "read ${f#"$ROOTD"/}"; else say file "refused ${f#"$ROOTD"/}"; fi
done
if ls "$ROOTD" >/dev/null 2>&1; then say file "listed the agent's directory"; else say file "refused listing"; fi
for f in run.sh standin.py; do
	if : >>"$RUN/$f" 2>/dev/null; then say runner "can change $f"; else say runner "cannot change $f"; fi
done
say credential "$(sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' "$RUN/.credentials" 2>/dev/null)"
# (4) a runner of its own, labelled with another run's id
mkdir -p "$RUNNER_TEMP/evil" && cp "$RUN/config.sh" "$RUN/standin.py" "$RUN/VERSION" "$RUN/ARCH" "$RUNNER_TEMP/evil/"
if (cd "$RUNNER_TEMP/evil" && ACTIONS_RUNNER_INPUT_TOKEN=${reg:-none} ./config.sh \
	--url "$ATK_MAIN/acme/web" --name "evil-$ATK_VICTIM" --labels "$ATK_VICTIM" \
	--no-default-labels --unattended) >/dev/null 2>&1; then
	say register "a runner for run $ATK_VICTIM"
else
	say register refused
fi
true
EOF
}

# run_job RUN SCRIPT [ENV_JSON]: queue a job, wait, print its output
run_job() {
	local id
	id=$(cloud_ctl POST /github/jobs "$(jq -cn --arg r "$1" --arg s "$2" --argjson e "${3:-{\}}" \
		'{repo: "acme/web", labels: [$r], script: $s, env: $e}')" | jq -r .id)
	wait_until 30 job_done "$id" || return 1
	cloud_ctl GET "/github/jobs/$id" | jq -r .output
}

# user_procs UID: processes whose real uid is UID
user_procs() { grep -Els "^Uid:[[:space:]]+$1[[:space:]]" /proc/[0-9]*/status | wc -l; }

@test "the issue's attack fails as the job user; nothing it leaves survives its run" {
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	run --separate-stderr provision 501 1
	[ "$status" -eq 0 ]
	id=$(jq -r .id <<<"$output")
	dir=$CLOUD_DIR/instances/$id
	user=$RP_TEST_USER-${id: -8}
	uid=$(id -u "$user")
	[ "$uid" -ne 0 ]
	imds=$(cloud_ctl GET /health | jq -r .imds_port)
	# the filter: this instance's table, this user and this port only
	run -0 nft list table inet "runner_pool_${id#i-}"
	[[ "$output" == *"meta skuid $uid ip daddr 169.254.169.254 reject"* ]]
	[[ "$output" == *"meta skuid $uid ip daddr 127.0.0.1 tcp dport $imds reject"* ]]
	[ "$(grep -c 'meta skuid' <<<"$output")" -eq 3 ]
	# other users (root, nobody) still reach it
	run -0 curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$imds/_imds/$id/latest/meta-data/"
	[ "$output" = 401 ]
	run -0 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$imds/_imds/$id/latest/meta-data/"
	[ "$output" = 401 ]
	# the agent's directory and files are root's alone
	[ "$(stat -c '%a %U' "$dir")" = "711 root" ]
	[ "$(stat -c '%a %U' "$dir/private")" = "700 root" ]
	[ "$(stat -c '%a %U' "$dir/agent")" = "600 root" ]
	[ "$(stat -c %U "$dir/actions-runner/run.sh")" = root ]

	script=$(attack)
	script+=$'\nsetsid sleep 1000 </dev/null >/dev/null 2>&1 &'
	script+=$'\nfor f in /tmp/rp-left /var/tmp/rp-left /dev/shm/rp-left "$HOME/rp-left"; do echo left >"$f-$GITHUB_RUN_ID"; done'
	run -0 run_job 501 "$script" "$(attack_env 502)"
	echo "$output"
	[[ "$output" == *"user: $user $uid"* ]]
	# (1)
	[ "$(grep -c '^imds: refused' <<<"$output")" -eq 3 ]
	! grep -q '^imds: reached\|^creds:' <<<"$output"
	# (2)
	[[ "$output" == *"ssm: refused: "*UnrecognizedClientException* ]]
	# (3)
	[ "$(grep -c '^file: refused' <<<"$output")" -eq 7 ]
	! grep -q '^file: read\|^file: listed' <<<"$output"
	[ "$(grep -c '^runner: cannot change' <<<"$output")" -eq 2 ]
	# (4)
	[[ "$output" == *"register: refused"* ]]
	[ "$(cloud_ctl GET /github/runners | jq '[.runners[] | select(.labels | map(.name) | index("502"))] | length')" -eq 0 ]
	# the runner's own credential is the job's (same user): it dies with
	# the run's registration
	cred=$(sed -n 's/^credential: //p' <<<"$output")
	[ -n "$cred" ]
	poll() { curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $cred" \
		-H 'Content-Type: application/json' -d '{"accept_jobs":false}' "$CLOUD_URL/_runner/poll"; }
	[ "$(poll)" = 200 ]
	# what the job left runs on, outside the runner's process group
	[ "$(user_procs "$uid")" -gt 1 ]
	[ -e /tmp/rp-left-501 ]

	run -0 release 501
	[ "$(poll)" = 404 ]
	[ "$(user_procs "$uid")" -eq 0 ]
	for f in /tmp/rp-left-501 /var/tmp/rp-left-501 /dev/shm/rp-left-501 "/home/$user/rp-left-501"; do
		[ ! -e "$f" ]
	done
	[ ! -e "$dir/actions-runner/.credentials" ] && [ ! -e "$dir/actions-runner/.runner" ]
	[ ! -e "$dir/actions-runner/_work" ]
	# the next run on the same instance finds none of it
	run -0 --separate-stderr provision 503 1
	[ "$(jq -r '"\(.id) \(.reused)"' <<<"$output")" = "$id true" ]
	run -0 run_job 503 'set +e; ls /tmp/rp-left-* /var/tmp/rp-left-* /dev/shm/rp-left-* ~/rp-left-* 2>/dev/null | wc -l; pgrep -c -u "$(id -u)" -f "sleep 1000" || true'
	[ "$output" = $'0\n0' ]
	# the agent's scratch files keep no role session token
	tok=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "http://127.0.0.1:$imds/_imds/$id/latest/api/token")
	role=$(curl -sf -H "X-aws-ec2-metadata-token: $tok" "http://127.0.0.1:$imds/_imds/$id/latest/meta-data/iam/security-credentials/")
	tk=$(curl -sf -H "X-aws-ec2-metadata-token: $tok" "http://127.0.0.1:$imds/_imds/$id/latest/meta-data/iam/security-credentials/$role" | jq -r .Token)
	[ -n "$tk" ] && [ "$tk" != null ]
	! grep -rqF "$tk" "$dir"
	# (rp_md empties its scratch file after each read, with a builtin)
	[ ! -e "$dir/private/h" ] && [ ! -s "$dir/private/md" ]
	# the instance gone, its user and filter are gone
	cloud_ctl POST "/instances/$id/terminate" >/dev/null
	gone() { ! id -u "$user" >/dev/null 2>&1 && ! nft list table inet "runner_pool_${id#i-}" >/dev/null 2>&1; }
	wait_until 10 gone
}

@test "job-metadata: true: the same job holds the role, the token, and another run's label" {
	refresh INPUT_IDLE_TIME_SEC=600 INPUT_JOB_METADATA=true >/dev/null
	run -0 --separate-stderr provision 601 1
	id=$(jq -r .id <<<"$output")
	! nft list table inet "runner_pool_${id#i-}" 2>/dev/null
	run -0 run_job 601 "$(attack)" "$(attack_env 602)"
	echo "$output"
	[[ "$output" == *"imds: reached http://127.0.0.1:"* ]]
	[[ "$output" == *"creds: role credentials ASIA"* ]]
	[[ "$output" == *"ssm: read the registration token"* ]]
	[[ "$output" == *"register: a runner for run 602"* ]]
	cloud_ctl GET /github/runners | jq -e '[.runners[] | select(.name == "evil-602" and
		(.labels | map(.name) == ["602"]))] | length == 1'
	# still not root: the agent's files stay out of reach
	[ "$(grep -c '^file: refused' <<<"$output")" -eq 7 ]
}

@test "runner-user: root: the same job reads the agent's files and reaches metadata" {
	refresh INPUT_IDLE_TIME_SEC=600 INPUT_RUNNER_USER=root >/dev/null
	run -0 --separate-stderr provision 701 1
	run -0 run_job 701 "$(attack)" "$(attack_env 702)"
	echo "$output"
	[[ "$output" == *"user: root 0"* ]]
	[ "$(grep -c '^file: read' <<<"$output")" -eq 6 ]
	[[ "$output" == *"file: listed the agent's directory"* ]]
	[[ "$output" == *"ssm: read the registration token"* ]]
	[[ "$output" == *"register: a runner for run 702"* ]]
}

@test "no packet filter that holds: the agent refuses to serve, and says why" {
	# a pre-runner script (root, before the filter) breaks nft on this
	# instance alone: the first directory of its PATH is its own
	refresh INPUT_IDLE_TIME_SEC=600 \
		'INPUT_PRE_RUNNER_SCRIPT=d=${PATH%%:*}; printf "#!/bin/sh\nexit 1\n" >"$d/nft"; chmod 755 "$d/nft"' >/dev/null
	run --separate-stderr provision 801 1 INPUT_TIMEOUT_SEC=30
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"refuses to serve"*metadata-filter* ]]
	# (provision terminated it: it is seen through the cloud)
	id=$(cd "$CLOUD_DIR/instances" && echo i-*)
	[ "$(cloud_ctl GET "/instances/$id" | jq -r '.tags["runner-pool:health"]')" = metadata-filter ]
	grep -q 'refusing to serve: cannot keep instance metadata' "$CLOUD_DIR/instances/$id/agent.log"
	[ "$(cloud_ctl GET /github/runners | jq '.runners | length')" -eq 0 ]
}

@test "runner-sudo: true gives the job user sudo; by default it has none" {
	command -v sudo >/dev/null || skip "no sudo here (apt-get install sudo)"
	refresh INPUT_IDLE_TIME_SEC=600 >/dev/null
	run -0 --separate-stderr provision 901 1
	run -0 run_job 901 'sudo -n id -u 2>/dev/null || echo none'
	[ "$output" = none ]
	refresh INPUT_IDLE_TIME_SEC=600 INPUT_RUNNER_SUDO=true >/dev/null
	run -0 --separate-stderr provision 902 1
	run -0 run_job 902 'sudo -n id -u 2>/dev/null || echo none'
	[ "$output" = 0 ]
}

@test "runner-user, runner-sudo and job-metadata are checked before any call" {
	cloud_ctl DELETE /calls
	for bad in INPUT_RUNNER_USER=Runner 'INPUT_RUNNER_USER=a b' INPUT_RUNNER_USER=abcdefghijklmnopqrstuvwx \
		"INPUT_RUNNER_USER=$(printf 'runner\nroot')" INPUT_RUNNER_SUDO=yes INPUT_JOB_METADATA=1; do
		run -100 refresh "$bad"
		name=${bad%%=*}
		name=${name#INPUT_}
		[[ "$output" == "ec2-runner-pool: input $(tr 'A-Z_' 'a-z-' <<<"$name"):"* ]]
	done
	[ -z "$(cloud_calls)" ]
}
