#!/bin/sh
# Stand-in for the GitHub Actions runner's run.sh (see tests/cloud/GITHUB.md).
here=$(cd "$(dirname "$0")" && pwd) || exit 1
# the system's python3 first (a version manager's shim costs more than
# Python's own start)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" -B "$here/standin.py" run "$@"
