#!/bin/bash
# bench/pool-list.sh: pool-list against `aws ec2 describe-instances | jq` on
# the same query over N seeded instances of the local cloud (default 5000).
# Reports wall time, CPU time (user+sys) and peak RSS of each side.
# Talks only to 127.0.0.1.  Needs the tools built (make) and awscli + jq.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/helpers.bash
N=${1:-5000}
ROUNDS=${ROUNDS:-3}
command -v aws >/dev/null || { echo "bench: needs Debian's awscli" >&2; exit 1; }
for c in jq bc /usr/bin/time; do
	command -v "$c" >/dev/null || { echo "bench: needs $c (the README's apt-get line)" >&2; exit 1; }
done
[ -x bin/pool-list ] || make >/dev/null
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rp-bench.XXXXXX")
trap 'cloud_stop; rm -rf "$WORK"' EXIT
cloud_start "$WORK/cloud"
cloud_check_endpoints
cloud_seed "$N" '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle","runner-pool:class":"default","runner-pool:deadline":"1900000000"},"instance_type":"c5.large"}' >/dev/null
cloud_seed 500 '{"tags":{"runner-pool:pool":"other/pool","runner-pool:state":"idle"}}' >/dev/null

# one measurement: "wall user sys maxrss_kb" of a command, stdout to a file
measure() {
	local out=$1; shift
	/usr/bin/time -f '%e %U %S %M' -o "$WORK/t" "$@" >"$out"
	cat "$WORK/t"
}

jqprog='.Reservations[].Instances[] | {id: .InstanceId, state: (.Tags // [] | map(select(.Key == "runner-pool:state")) | .[0].Value),
	instance_type: .InstanceType, az: .Placement.AvailabilityZone, launch_time: .LaunchTime, private_ip: .PrivateIpAddress}'

printf '%-28s %8s %8s %10s %8s\n' "command (N=$N)" wall_s cpu_s peak_rss_kb lines
for r in $(seq 1 "$ROUNDS"); do
	read -r w u s m < <(measure "$WORK/ours" pool-list --pool acme/web --state idle)
	printf '%-28s %8s %8.2f %10s %8s\n' "pool-list #$r" "$w" "$(echo "$u + $s" | bc)" "$m" "$(wc -l <"$WORK/ours")"
	read -r w1 u1 s1 m1 < <(measure "$WORK/aws.json" aws ec2 describe-instances \
		--endpoint-url "$AWS_ENDPOINT_URL_EC2" --region "$AWS_REGION" --output json \
		--filters Name=tag:runner-pool:pool,Values=acme/web Name=tag:runner-pool:state,Values=idle \
		Name=instance-state-name,Values=pending,running,stopping,stopped)
	read -r w2 u2 s2 m2 < <(measure "$WORK/theirs" jq -c "$jqprog" "$WORK/aws.json")
	printf '%-28s %8s %8.2f %10s %8s\n' "aws ec2 describe + jq #$r" \
		"$(echo "$w1 + $w2" | bc)" "$(echo "$u1 + $s1 + $u2 + $s2" | bc)" \
		"$(( m1 > m2 ? m1 : m2 ))" "$(wc -l <"$WORK/theirs")"
done
