# tests/e2e.bash: setup shared by the end-to-end tests (04xx)
load helpers
# The agents poll every 2 s, the action's default: an idle agent's round
# (a curl of its metadata, and the cloud's answers) costs ~60 ms of CPU
# here, and a test file has several agents up at a time.  Provision and
# release poll EC2 from every 0.5 s (backing off to 2 s), faster than
# their default (1 s, to 4 s): a test runs a few at a time, well within
# the local cloud's request limits (AWS's, on by default).  Each round
# costs a pool-list and the cloud's answer, and make check is CPU-bound
# (4 files on 2 cores): from 0.25 s to 0.5 s, a whole run went from 608 s
# to 582 s (bats' CPU 801 s to 781 s; runs vary by ~10% on this machine).
export RP_WAIT_INTERVAL=0.5
# the tests' own waits list the pool (pool-list, ~50 ms of CPU): twice a
# second is often enough
WAIT_STEP=0.5

# Jobs run as a user of their own (issue 8).  The agents of a test share
# this machine, so each test names its job user (runner-user) rp<6 hex>,
# and the cloud makes it one per instance (<name>-<last 8 of the id>).
# Where the machine cannot (not root, no useradd or setpriv), the user is
# root: no separation, the old behaviour; where it has no packet filter,
# jobs may use instance metadata (job-metadata).  0406 skips, saying why.

# e2e_no_user, e2e_no_filter: why this machine cannot (empty: it can)
e2e_no_user() {
	local c
	[ "$(id -u)" = 0 ] || { echo "not root"; return; }
	for c in useradd userdel setpriv; do
		PATH=$PATH:/usr/sbin:/sbin command -v "$c" >/dev/null || { echo "no $c"; return; }
	done
}
e2e_no_filter() {
	PATH=$PATH:/usr/sbin:/sbin command -v nft >/dev/null ||
		PATH=$PATH:/usr/sbin:/sbin command -v iptables >/dev/null ||
		echo "no nft or iptables (apt-get install nftables)"
}

# one cloud per file, reset before each test (its instances' directories
# set aside, every instance process, job user and filter gone)
load cloud-file

e2e_setup() {
	cloud_reset
	cloud_ctl POST /github/repos '{"repos":["acme/web"]}' >/dev/null
	cloud_ctl POST /github/tokens '{"token":"ghp_e2e0000000000000000000000000000000001","scopes":["repo"]}' >/dev/null
	export GITHUB_REPOSITORY=acme/web
	RP_TEST_USER=root RP_TEST_META=false
	if [ -z "$(e2e_no_user)" ]; then
		RP_TEST_USER=rp$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
		[ -z "$(e2e_no_filter)" ] || RP_TEST_META=true
		# the job users reach their runners (in the instances' directories)
		# by name through bats' own 0700 directories
		local d=$CLOUD_DIR/instances
		mkdir -p "$d"
		while [ -n "${BATS_RUN_TMPDIR:-}" ] && [[ $d == "$BATS_RUN_TMPDIR"* ]]; do
			chmod go+x "$d"
			d=${d%/*}
		done
	fi
	export RP_TEST_USER RP_TEST_META
}

e2e_teardown() {
	local u d
	# the cloud stops the test's instances and removes their users and
	# filters; what a cloud that cannot answer left
	if ! cloud_reset; then
		cloud_stop
		[ "${RP_TEST_USER:-root}" != root ] || return 0
		for d in "$CLOUD_DIR"/instances/i-*; do
			[ -d "$d" ] && nft delete table inet "runner_pool_${d##*/i-}" 2>/dev/null
		done
	fi
	[ "${RP_TEST_USER:-root}" != root ] || return 0
	for u in $(getent passwd | cut -d: -f1 | grep "^$RP_TEST_USER-"); do
		pkill -KILL -u "$u"
		sleep 0.2
		userdel -f -r "$u" 2>/dev/null
		rm -f "/etc/sudoers.d/runner-pool-$u"
	done
	return 0
}

# refresh [INPUT_X=Y...]: refresh with short test timings
refresh() {
	env INPUT_MODE=refresh INPUT_AMI=ami-0a1b2c3d4e5f60001 \
		INPUT_IAM_INSTANCE_PROFILE=runner-pool-instance \
		INPUT_SECURITY_GROUP_IDS=sg-0a1b2c3d4e5f60001 \
		"INPUT_SUBNET_IDS=subnet-0a1b2c3d4e5f60001 subnet-0a1b2c3d4e5f60002" \
		INPUT_GITHUB_TOKEN=ghp_e2e0000000000000000000000000000000001 \
		INPUT_AGENT_POLL_SEC=2 INPUT_RUNNER_USER="$RP_TEST_USER" \
		INPUT_JOB_METADATA="$RP_TEST_META" "$@" "$REPO_ROOT/entrypoint.sh"
}

# provision and release get 120 s (a test that wants a failure gives its
# own): a cold boot takes 10 s on a quiet machine, but test files run
# several at a time on 2 cores, and a starved boot has taken a minute
provision() { # RUN COUNT [INPUT_X=Y...]
	local run=$1 n=$2
	shift 2
	env INPUT_MODE=provision INPUT_RUN_ID="$run" INPUT_INSTANCE_COUNT="$n" \
		INPUT_TIMEOUT_SEC=120 "$@" "$REPO_ROOT/entrypoint.sh"
}

release() { # RUN
	env INPUT_MODE=release INPUT_RUN_ID="$1" INPUT_TIMEOUT_SEC=120 "$REPO_ROOT/entrypoint.sh"
}

# count [pool-list args]: how many instances match
count() {
	local n
	n=$(pool-list --pool acme/web "$@" 2>/dev/null | wc -l) || true
	echo "$n"
}


# job RUN SCRIPT: queue a job for RUN's runners, print its id
job() {
	cloud_ctl POST /github/jobs "$(jq -cn --arg r "$1" --arg s "$2" '{repo: "acme/web", labels: [$r], script: $s}')" | jq -r .id
}

job_done() { # ID
	[ "$(cloud_ctl GET "/github/jobs/$1" | jq -r .status)" = completed ]
}
