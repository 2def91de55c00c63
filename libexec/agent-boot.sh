#!/bin/sh
# ec2-runner-pool: the end of the launch template's user data.  refresh
# puts before it the lines that write the agent (the pool's settings,
# then libexec/agent-sigv4.sh and libexec/agent.sh) to $ROOT/agent.new,
# and strips the comment lines.
#
# It installs the agent as a supervised service and returns, so cloud-init
# completes: a systemd unit where systemd runs (restarted whenever it
# stops; KillMode=process, so a restarted agent adopts the runner of a run
# in progress), else a supervising loop in the background, its output in
# $ROOT/agent.log and detached from user data's own output (cloud-init waits
# for that to close).  See man/ec2-runner-pool.7, THE AGENT.
set -u
umask 077
ROOT=${RUNNER_POOL_ROOT:-/opt/runner-pool}
# 0711: the job user reaches the runner (actions-runner) by name, and
# nothing else: every other file here is root's alone
chmod 711 "$ROOT" && mv -f "$ROOT/agent.new" "$ROOT/agent" || exit 1
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	cat >/etc/systemd/system/runner-pool-agent.service <<RP_UNIT || exit 1
[Unit]
Description=ec2-runner-pool instance agent
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
Environment=RUNNER_POOL_ROOT=$ROOT
ExecStart=/bin/sh $ROOT/agent
Restart=always
RestartSec=2
KillMode=process
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
RP_UNIT
	chmod 644 /etc/systemd/system/runner-pool-agent.service
	systemctl daemon-reload &&
		systemctl enable --now --no-block runner-pool-agent.service && exit 0
	echo "runner-pool: systemd refused the agent's unit; supervising it here" >&2
fi
(
	trap '' HUP
	until sh "$ROOT/agent"; do
		echo "runner-pool: the agent stopped ($?); restarting it in 2 s"
		sleep 2
	done
) </dev/null >>"$ROOT/agent.log" 2>&1 &
exit 0
