"""Constants, the shared state and its lock, settings, reset() and the
small helpers every part uses: GitHub's error bodies, JSON replies, time
stamps, query and header access.
"""

import hashlib
import json
import math
import secrets
import threading
import time

import releases


API = "/api/v3"
DOCS = "https://docs.github.com/rest"
API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"
DEFAULT_LABELS = ("self-hosted", "Linux", "X64")
DEFAULT_INSTALL_PERMS = {
    "administration": "write",
    "organization_self_hosted_runners": "write",
    "metadata": "read",
}


lock = threading.RLock()
S = {}


def _fresh_settings():
    return {
        "offline_after_s": 10.0,
        "runner_releases": None,          # None: releases.DEFAULT_RELEASES
        "runner_min_version": releases.MIN_REGISTER,
        "runner_superseded_days": releases.SUPERSEDED_DAYS,
        "runner_tampered": [],            # "V/arch": bytes != checksum
        "runner_notes_checksums": True,   # the notes' SHA-256 section
        "runner_asset_digests": True,     # assets' "digest" members
        "rate_limit": 5000,
        "registration_token_ttl_s": 3600,
        "installation_token_ttl_s": 3600,
        "remove_accepts_registration_token": False,
        "max_output": 65536,
    }


def reset(ctx=None):
    """Forget every token, app, repo, runner, job and setting."""
    with lock:
        S.clear()
        S.update({
            "settings": _fresh_settings(),
            "repos": set(),           # "owner/repo"
            "orgs": set(),            # "org"
            "tokens": {},             # API tokens registered by tests
            "apps": {},               # app_id(str) -> app
            "installations": {},      # installation id(int) -> installation
            "ghs": {},                # issued installation tokens
            "regtokens": {},          # issued registration/remove tokens
            "runners": {},            # id -> runner
            "groups": {},             # org -> [runner group], Default first
            "next_group_id": 2,       # 1 is every scope's Default
            "creds": {},              # runner credential -> runner id
            "jobs": {},               # id -> job
            "labels": {},             # lower(name) -> label id
            "ratelimit": {},          # identity -> [window_reset, used]
            "next_runner_id": 1,
            "next_job_id": 1,
            "next_label_id": 1,
        })


reset()


class Reply(Exception):
    def __init__(self, status, body=None, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def json_reply(status, obj, headers=None):
    h = {"Content-Type": "application/json; charset=utf-8"}
    if headers:
        h.update(headers)
    if obj is None:
        h.pop("Content-Type")
        return status, h, b""
    return status, h, json.dumps(obj).encode()


def gh_error(status, message, doc=DOCS, extra=None):
    body = {"message": message, "documentation_url": doc,
            "status": str(status)}
    if extra:
        body.update(extra)
    return Reply(status, body)


def iso_ms(t):
    """Registration tokens: 2020-01-22T12:13:35.123+00:00 style."""
    ms = int(round((t - math.floor(t)) * 1000)) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
        ".%03d+00:00" % ms


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def rand(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def parse_body(body):
    if not body:
        return {}
    try:
        obj = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise gh_error(400, "Problems parsing JSON")
    if not isinstance(obj, dict):
        raise gh_error(400, "Problems parsing JSON")
    return obj


def paging(query):
    """(per_page, page) of a list request, as GitHub bounds them."""
    try:
        per_page = int(q1(query, "per_page", "30"))
        page = int(q1(query, "page", "1"))
    except ValueError:
        raise gh_error(422, "Invalid request.")
    return max(1, min(100, per_page)), max(1, page)


def q1(query, name, default=None):
    v = (query or {}).get(name)
    if not v:
        return default
    return v[0] if isinstance(v, (list, tuple)) else v


def hget(headers, name):
    if headers is None:
        return None
    v = headers.get(name)
    if v is None and isinstance(headers, dict):
        for k, val in headers.items():
            if k.lower() == name.lower():
                return val
    return v


def ctx_now(ctx):
    return float(ctx.now())


def setting(name):
    return S["settings"][name]


def served_releases():
    rs = setting("runner_releases")
    return releases.normalise(releases.DEFAULT_RELEASES if rs is None
                              else rs)


def tampered(version, arch):
    t = setting("runner_tampered") or []
    return ("%s/%s" % (version, arch)) in t or version in t


def stable_id(s):
    return int(hashlib.sha256(s.encode()).hexdigest()[:7], 16)
