#!/bin/bash
# bench/pool-list.sh [N...]: pool-list against `aws ec2 describe-instances |
# jq` on the same filtered query over N seeded instances of the local cloud
# (default: 5000 and 50000), with EC2's replies compact and indented as EC2
# sends them (the cloud's xml_indent setting).  Reports CPU time (user+sys),
# wall time and peak RSS of each side, pool-list's own start-up (the same
# query on an empty pool) and the ratios.  awscli + jq runs only up to
# AWSCLI_MAX instances (default 5000: at 50,000 it takes minutes).
# Talks only to 127.0.0.1.  Needs the tools built (make) and awscli + jq.
set -euo pipefail
cd "$(dirname "$0")/.."
. tests/helpers.bash
SIZES=${*:-5000 50000}
SHAPES=${SHAPES:-compact indented}
REPS=${REPS:-10}		# pool-list runs per CPU figure (time counts 10 ms)
AWSCLI_MAX=${AWSCLI_MAX:-5000}	# above: pool-list alone, run once
command -v aws >/dev/null || { echo "bench: needs Debian's awscli" >&2; exit 1; }
for c in jq bc /usr/bin/time; do
	command -v "$c" >/dev/null || { echo "bench: needs $c (the README's apt-get line)" >&2; exit 1; }
done
[ -x bin/pool-list ] || make >/dev/null
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rp-bench.XXXXXX")
trap 'cloud_stop; rm -rf "$WORK"' EXIT
cloud_start "$WORK/cloud"
cloud_check_endpoints

# measure OUT CMD...: "wall user sys maxrss_kb" of a command, stdout to OUT
measure() {
	local out=$1; shift
	/usr/bin/time -f '%e %U %S %M' -o "$WORK/t" "$@" >"$out" || [ $? = 1 ]
	tail -n 1 "$WORK/t"
}

jqprog='.Reservations[].Instances[] | {id: .InstanceId, state: (.Tags // [] | map(select(.Key == "runner-pool:state")) | .[0].Value),
	instance_type: .InstanceType, az: .Placement.AvailabilityZone, launch_time: .LaunchTime, private_ip: .PrivateIpAddress}'
ours=(bin/pool-list --pool acme/web --state idle)

row() { printf '%-34s %8s %8s %11s %7s\n' "$@"; }

echo "# $(date -u '+%F %T') UTC, $(nproc) cores, load:$(uptime | sed 's/.*load average://')"
for n in $SIZES; do
	cloud_ctl POST /reset '{}' >/dev/null
	cloud_seed "$n" '{"tags":{"runner-pool:pool":"acme/web","runner-pool:state":"idle","runner-pool:class":"default","runner-pool:deadline":"1900000000"},"instance_type":"c5.large"}' >/dev/null
	cloud_seed 500 '{"tags":{"runner-pool:pool":"other/pool","runner-pool:state":"idle"}}' >/dev/null
	for shape in $SHAPES; do
		indent=0
		[ "$shape" = indented ] && indent=4
		cloud_ctl POST /settings "{\"xml_indent\":$indent}" >/dev/null
		echo
		row "N=$n, replies $shape" wall_s cpu_s peak_rss_kb lines
		read -r w u s base < <(measure "$WORK/empty" bin/pool-list --pool empty/pool --state idle)
		row "pool-list start-up (empty pool)" "$w" "$(echo "$u + $s" | bc)" "$base" "$(wc -l <"$WORK/empty")"
		read -r w u s m < <(measure "$WORK/ours" "${ours[@]}")
		[ "$(wc -l <"$WORK/ours")" = "$n" ] || { echo "bench: pool-list printed $(wc -l <"$WORK/ours") of $n" >&2; exit 1; }
		# CPU over REPS runs in one shell: time counts its children
		reps=$REPS
		[ "$n" -le "$AWSCLI_MAX" ] || reps=1
		read -r wr ur sr _ < <(measure /dev/null sh -c 'i=0; while [ $i -lt '"$reps"' ]; do "$@" >/dev/null || exit; i=$((i+1)); done' sh "${ours[@]}")
		cpu=$(echo "scale=4; ($ur + $sr) / $reps" | bc)
		row "pool-list (CPU: mean of $reps)" "$(echo "scale=3; $wr / $reps" | bc)" "$cpu" "$m" "$(wc -l <"$WORK/ours")"
		echo "  peak RSS above start-up: $(echo "scale=2; ($m - $base) / 1024" | bc) MiB"
		[ "$n" -le "$AWSCLI_MAX" ] || continue
		read -r w1 u1 s1 m1 < <(measure "$WORK/aws.json" aws ec2 describe-instances \
			--endpoint-url "$AWS_ENDPOINT_URL_EC2" --region "$AWS_REGION" --output json \
			--filters Name=tag:runner-pool:pool,Values=acme/web Name=tag:runner-pool:state,Values=idle \
			Name=instance-state-name,Values=pending,running,stopping,stopped)
		read -r w2 u2 s2 m2 < <(measure "$WORK/theirs" jq -c "$jqprog" "$WORK/aws.json")
		theirs=$(echo "$u1 + $s1 + $u2 + $s2" | bc)
		row "aws ec2 describe-instances | jq" "$(echo "$w1 + $w2" | bc)" "$theirs" \
			"$(( m1 > m2 ? m1 : m2 ))" "$(wc -l <"$WORK/theirs")"
		echo "  CPU ratio (awscli+jq / pool-list): $(echo "scale=1; $theirs / $cpu" | bc)x"
	done
done
