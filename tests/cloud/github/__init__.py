"""GitHub double for the local cloud (Python 3 standard library only).

The core server (cloud.py) calls handle(ctx, method, path, query, headers,
body) for every request whose path starts with /api/v3/, /_runner/,
/actions/runner/releases/ or /_cloud/github/, and reset() on
POST /_cloud/reset.  See GITHUB.md beside this package for the behaviour.

ctx provides now(), fault(service, action), record(dict), state_dir, port.

The modules, lowest first (each imports only those above it):
  common        constants, the shared state and its lock, settings,
                reset(), error bodies and small helpers
  jwt           RSA keys from PEM, RS256 app JSON web tokens
  auth          who a request is, what it may read or write
  ratelimit     the primary rate limit, injected REST faults
  groups        organizations' runner groups
  jobs          which runner takes a job, how a job ends
  runners       runners, registration and remove tokens
  api           the REST front door, route table, pagination
  api_runners   REST: self-hosted runners of repositories and orgs
  api_groups    REST: runner groups
  api_apps      REST: GitHub Apps, installation tokens
  api_releases  REST: actions/runner releases; the tarball download
  runner_proto  /_runner/: the stand-in runner's protocol
  control       /_cloud/github/: the control API of the tests
"""

import urllib.parse

from .common import API, reset
from .jwt import parse_rsa_public_key, rsa_verify_sha256, verify_jwt
from .api import handle_api
from . import api_runners, api_groups, api_apps  # noqa: F401 (routes)
from .api_releases import handle_download
from .runner_proto import handle_runner
from .control import handle_control

__all__ = ["handle", "reset", "parse_rsa_public_key", "rsa_verify_sha256",
           "verify_jwt"]


def handle(ctx, method, path, query, headers, body):
    path, _, qs = path.partition("?")
    if isinstance(query, (str, bytes)):
        query = urllib.parse.parse_qs(query if isinstance(query, str)
                                      else query.decode("latin-1"))
    elif not query and qs:
        query = urllib.parse.parse_qs(qs)
    query = query or {}
    body = body or b""
    if path.startswith(API + "/") or path == API:
        return handle_api(ctx, method, path[len(API):], query, headers,
                          body)
    if path.startswith("/_runner/"):
        return handle_runner(ctx, method, path, query, headers, body)
    if path.startswith("/actions/runner/releases/"):
        return handle_download(ctx, method, path)
    if path.startswith("/_cloud/github/") or path == "/_cloud/github":
        return handle_control(ctx, method, path, query, body)
    return None
