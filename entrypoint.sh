#!/bin/sh
# entrypoint.sh: the action's adapter onto ec2-runner-pool.  action.yml
# passes the inputs as INPUT_<NAME> (upper case, '-' as '_'); the front
# door validates them all and runs the mode INPUT_MODE.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
case ${1:-} in
-h | --help) exec "$here/ec2-runner-pool" --help ;;
esac
exec "$here/ec2-runner-pool" "${INPUT_MODE-}"
