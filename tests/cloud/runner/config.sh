#!/bin/sh
# Stand-in for the GitHub Actions runner's config.sh (see tests/cloud/GITHUB.md).
here=$(cd "$(dirname "$0")" && pwd) || exit 1
py=python3
command -v "$py" >/dev/null 2>&1 || py=/usr/bin/python3
exec "$py" -B "$here/standin.py" config "$@"
