#!/usr/bin/env bats
# The GitHub half of the local cloud checks itself (tests/cloud/github_selftest.py:
# REST shapes, tokens, apps, rate limits, runner releases and downloads, the
# stand-in runner end to end).  It starts its own cloud on loopback.

bats_require_minimum_version 1.5.0
load helpers

@test "the GitHub double's own test suite passes" {
	cd "$REPO_ROOT/tests/cloud"
	run timeout 240 "$PYTHON" -B github_selftest.py
	# unittest's report (which test, why) when it fails
	[ "$status" = 0 ] || { printf '%s\n' "$output" | tail -n 60; false; }
	[[ "${lines[-1]}" == OK* ]]
}
