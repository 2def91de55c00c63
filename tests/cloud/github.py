"""GitHub double for the local cloud (Python 3 standard library only).

The core server (cloud.py) calls handle(ctx, method, path, query, headers,
body) for every request whose path starts with /api/v3/, /_runner/,
/actions/runner/releases/ or /_cloud/github/, and reset() on
POST /_cloud/reset.  See GITHUB.md beside this file for the behaviour.

ctx provides now(), fault(service, action), record(dict), state_dir, port.
"""

import base64
import hashlib
import json
import math
import re
import secrets
import string
import threading
import time
import urllib.parse

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
# DigestInfo prefix for SHA-256 (RFC 8017, 9.2 note 1)
SHA256_DIGESTINFO = bytes.fromhex("3031300d060960864801650304020105000420")

_lock = threading.RLock()
_S = {}


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
    with _lock:
        _S.clear()
        _S.update({
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


# ---------------------------------------------------------------- helpers

class Reply(Exception):
    def __init__(self, status, body=None, headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _json(status, obj, headers=None):
    h = {"Content-Type": "application/json; charset=utf-8"}
    if headers:
        h.update(headers)
    if obj is None:
        h.pop("Content-Type")
        return status, h, b""
    return status, h, json.dumps(obj).encode()


def _gh_error(status, message, doc=DOCS, extra=None):
    body = {"message": message, "documentation_url": doc,
            "status": str(status)}
    if extra:
        body.update(extra)
    return Reply(status, body)


def _iso_ms(t):
    """Registration tokens: 2020-01-22T12:13:35.123+00:00 style."""
    ms = int(round((t - math.floor(t)) * 1000)) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
        ".%03d+00:00" % ms


def _iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _rand(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _parse_body(body):
    if not body:
        return {}
    try:
        obj = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise _gh_error(400, "Problems parsing JSON")
    if not isinstance(obj, dict):
        raise _gh_error(400, "Problems parsing JSON")
    return obj


def _paging(query):
    """(per_page, page) of a list request, as GitHub bounds them."""
    try:
        per_page = int(_q1(query, "per_page", "30"))
        page = int(_q1(query, "page", "1"))
    except ValueError:
        raise _gh_error(422, "Invalid request.")
    return max(1, min(100, per_page)), max(1, page)


def _q1(query, name, default=None):
    v = (query or {}).get(name)
    if not v:
        return default
    return v[0] if isinstance(v, (list, tuple)) else v


def _hget(headers, name):
    if headers is None:
        return None
    v = headers.get(name)
    if v is None and isinstance(headers, dict):
        for k, val in headers.items():
            if k.lower() == name.lower():
                return val
    return v


def _now(ctx):
    return float(ctx.now())


def _setting(name):
    return _S["settings"][name]


# ------------------------------------------------------------ RSA and JWT

def _der_read(buf, pos):
    """Return (tag, content_start, content_end) of the TLV at pos."""
    tag = buf[pos]
    ln = buf[pos + 1]
    pos += 2
    if ln & 0x80:
        n = ln & 0x7F
        if n == 0 or n > 4:
            raise ValueError("bad DER length")
        ln = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    if pos + ln > len(buf):
        raise ValueError("truncated DER")
    return tag, pos, pos + ln


def _der_children(buf, start, end):
    out = []
    while start < end:
        tag, cs, ce = _der_read(buf, start)
        out.append((tag, cs, ce))
        start = ce
    return out


def _der_int(buf, cs, ce):
    return int.from_bytes(buf[cs:ce], "big")


def parse_rsa_public_key(pem):
    """(n, e) from a PEM: SubjectPublicKeyInfo, PKCS#1 public, or (for
    convenience) PKCS#1 / PKCS#8 private keys."""
    m = re.search(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----",
                  pem, re.S)
    if not m:
        raise ValueError("no PEM block")
    kind = m.group(1)
    der = base64.b64decode("".join(m.group(2).split()))
    tag, cs, ce = _der_read(der, 0)
    if tag != 0x30:
        raise ValueError("not a DER SEQUENCE")
    kids = _der_children(der, cs, ce)
    if kind == "RSA PUBLIC KEY":
        return _der_int(der, *kids[0][1:]), _der_int(der, *kids[1][1:])
    if kind == "PUBLIC KEY":
        tag, bs, be = kids[1]
        if tag != 0x03:
            raise ValueError("no BIT STRING")
        inner = der[bs + 1:be]  # skip unused-bits byte
        _, s, e = _der_read(inner, 0)
        k = _der_children(inner, s, e)
        return _der_int(inner, *k[0][1:]), _der_int(inner, *k[1][1:])
    if kind == "RSA PRIVATE KEY":
        return _der_int(der, *kids[1][1:]), _der_int(der, *kids[2][1:])
    if kind == "PRIVATE KEY":
        tag, os_, oe = kids[2]
        inner = der[os_:oe]
        _, s, e = _der_read(inner, 0)
        k = _der_children(inner, s, e)
        return _der_int(inner, *k[1][1:]), _der_int(inner, *k[2][1:])
    raise ValueError("unsupported PEM type %r" % kind)


def rsa_verify_sha256(n, e, msg, sig):
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 8.2.2)."""
    k = (n.bit_length() + 7) // 8
    if len(sig) != k:
        return False
    s = int.from_bytes(sig, "big")
    if s >= n:
        return False
    em = pow(s, e, n).to_bytes(k, "big")
    t = SHA256_DIGESTINFO + hashlib.sha256(msg).digest()
    if k < len(t) + 11:
        return False
    expected = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return secrets.compare_digest(em, expected)


def _b64url(s):
    s = s.encode() if isinstance(s, str) else s
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def _looks_like_jwt(tok):
    return tok.count(".") == 2 and tok.startswith("eyJ")


def verify_jwt(token, now):
    """Return the app dict, or raise Reply with GitHub's message."""
    bad = _gh_error(401, "A JSON web token could not be decoded")
    try:
        h64, p64, s64 = token.split(".")
        header = json.loads(_b64url(h64))
        claims = json.loads(_b64url(p64))
        sig = _b64url(s64)
    except (ValueError, TypeError):
        raise bad
    if not isinstance(header, dict) or header.get("alg") != "RS256" \
            or not isinstance(claims, dict):
        raise bad
    iss = claims.get("iss")
    if isinstance(iss, bool) or not isinstance(iss, (int, str)):
        raise bad
    app = _S["apps"].get(str(iss))
    if app is None:
        raise _gh_error(404, "Integration not found")
    if not rsa_verify_sha256(app["n"], app["e"],
                             (h64 + "." + p64).encode(), sig):
        raise bad
    iat, exp = claims.get("iat"), claims.get("exp")
    if isinstance(iat, bool) or not isinstance(iat, int) or iat > now + 60:
        raise _gh_error(401, "'Issued at' claim ('iat') must be an Integer "
                        "representing the time that the assertion was "
                        "issued")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) \
            or exp <= now:
        raise _gh_error(401, "'Expiration time' claim ('exp') must be a "
                        "numeric value representing the future time at "
                        "which the assertion expires")
    if exp - iat > 600 or exp > now + 600 + 60:
        raise _gh_error(401, "'Expiration time' claim ('exp') is too far "
                        "in the future")
    return app


# ------------------------------------------------------------ auth

class Auth:
    def __init__(self, kind, token=None, info=None, identity=None):
        self.kind = kind          # none classic fine-grained installation jwt
        self.token = token
        self.info = info or {}
        self.identity = identity or kind

    @property
    def who(self):
        return ("integration" if self.kind == "installation"
                else "personal access token")


def _authenticate(ctx, headers, now):
    raw = _hget(headers, "Authorization")
    if not raw:
        return Auth("none", identity="anonymous")
    parts = raw.strip().split(None, 1)
    if len(parts) != 2 or parts[0].lower() not in ("bearer", "token"):
        raise _gh_error(401, "Bad credentials")
    tok = parts[1].strip()
    if _looks_like_jwt(tok):
        return Auth("jwt", tok, identity="jwt")
    if tok.startswith("ghs_"):
        it = _S["ghs"].get(tok)
        if it is None or it["revoked"] or it["expires_at"] <= now:
            raise _gh_error(401, "Bad credentials")
        return Auth("installation", tok, it,
                    identity="installation:%d" % it["installation"])
    t = _S["tokens"].get(tok)
    if t is None or t.get("revoked") or \
            (t.get("expires_at") is not None and t["expires_at"] <= now):
        raise _gh_error(401, "Bad credentials")
    return Auth(t["kind"], tok, t, identity="token:" + t["fp"])


def _level_ok(have, need):
    order = {"read": 1, "write": 2, "admin": 3}
    return order.get(have or "", 0) >= order[need]


def _require_repo(auth, owner, repo, need):
    """Check that auth may act on repo's runners; need is read|write."""
    full = "%s/%s" % (owner, repo)
    exists = full in _S["repos"]
    if auth.kind == "none":
        if not exists:
            raise _gh_error(404, "Not Found")
        raise _gh_error(401, "Requires authentication")
    if auth.kind == "jwt":
        raise _gh_error(403, "Resource not accessible by integration")
    if not exists:
        raise _gh_error(404, "Not Found")
    if auth.kind == "classic":
        if "repo" not in auth.info["scopes"]:
            raise _gh_error(403, "Resource not accessible by personal "
                            "access token")
        return
    if auth.kind == "fine-grained":
        perms = auth.info["permissions"].get(full)
        if perms is None:
            raise _gh_error(404, "Not Found")
        if not _level_ok(perms.get("administration"), need):
            raise _gh_error(403, "Resource not accessible by personal "
                            "access token")
        return
    if auth.kind == "installation":
        if not _install_sees(auth.info, full):
            raise _gh_error(404, "Not Found")
        if not _level_ok(auth.info["permissions"].get("administration"),
                         need):
            raise _gh_error(403, "Resource not accessible by integration")
        return
    raise _gh_error(401, "Bad credentials")


def _require_org(auth, org, need):
    exists = org in _S["orgs"]
    if auth.kind == "none":
        if not exists:
            raise _gh_error(404, "Not Found")
        raise _gh_error(401, "Requires authentication")
    if auth.kind == "jwt":
        raise _gh_error(403, "Resource not accessible by integration")
    if not exists:
        raise _gh_error(404, "Not Found")
    if auth.kind == "classic":
        if "admin:org" not in auth.info["scopes"]:
            raise _gh_error(403, "Resource not accessible by personal "
                            "access token")
        return
    if auth.kind == "fine-grained":
        perms = auth.info["orgs"].get(org)
        if perms is None:
            raise _gh_error(404, "Not Found")
        if not _level_ok(perms.get("organization_self_hosted_runners"),
                         need):
            raise _gh_error(403, "Resource not accessible by personal "
                            "access token")
        return
    if auth.kind == "installation":
        if auth.info["account"] != org:
            raise _gh_error(404, "Not Found")
        if not _level_ok(auth.info["permissions"].get(
                "organization_self_hosted_runners"), need):
            raise _gh_error(403, "Resource not accessible by integration")
        return
    raise _gh_error(401, "Bad credentials")


def _install_sees(info, full):
    if info["repositories"] is None:
        return full.split("/", 1)[0] == info["account"]
    return full in info["repositories"]


# ------------------------------------------------------------ rate limit

def _ratelimit_headers(auth, now, consume=True):
    limit = int(_setting("rate_limit")) if auth.kind != "none" else 60
    rl = _S["ratelimit"]
    ent = rl.get(auth.identity)
    if ent is None or ent[0] <= now:
        ent = [int(now) + 3600, 0]
        rl[auth.identity] = ent
    exhausted = consume and ent[1] >= limit
    if consume and not exhausted:
        ent[1] += 1
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(max(0, limit - ent[1])),
        "x-ratelimit-reset": str(ent[0]),
        "x-ratelimit-used": str(ent[1]),
        "x-ratelimit-resource": "core",
    }, exhausted


# ------------------------------------------------------------ runners

def _label_obj(name, kind):
    key = name.lower()
    lid = _S["labels"].get(key)
    if lid is None:
        lid = _S["next_label_id"]
        _S["next_label_id"] += 1
        _S["labels"][key] = lid
    return {"id": lid, "name": name, "type": kind}


def _runner_online(r, now):
    if r.get("pinned_status"):
        return r["pinned_status"] == "online"
    if r["stopped"]:
        return False
    return now - r["last_poll"] <= float(_setting("offline_after_s"))


def _sweep(now):
    """Fail jobs of runners that lost contact (real: 'lost communication')."""
    for r in _S["runners"].values():
        if r["job"] is not None and not _runner_online(r, now):
            j = _S["jobs"].get(r["job"])
            if j and j["status"] == "in_progress":
                _finish_job(j, "failure",
                            j["output"] + "The self-hosted runner: %s lost "
                            "communication with the server.\n" % r["name"],
                            now)
            r["job"] = None


def _runner_public(r, now):
    return {
        "id": r["id"],
        "name": r["name"],
        "os": r["os"],
        "status": "online" if _runner_online(r, now) else "offline",
        "busy": r["job"] is not None or bool(r.get("pinned_busy")),
        "ephemeral": r["ephemeral"],
        "runner_group_id": r.get("group_id", 1),
        "labels": [dict(lb) for lb in r["labels"]],
    }


def _runner_control(r, now):
    d = _runner_public(r, now)
    d["scope"] = r["scope"]
    d["scope_kind"] = r["scope_kind"]
    d["last_poll"] = r["last_poll"]
    d["job"] = r["job"]
    d["created_at"] = r["created_at"]
    d["version"] = r.get("version")
    d["runner_group"] = _group_name(r)
    return d


def _scope_runners(kind, scope):
    return sorted((r for r in _S["runners"].values()
                   if r["scope_kind"] == kind and r["scope"] == scope),
                  key=lambda r: r["id"])


def _new_runner(kind, scope, name, labels, now, ephemeral=False,
                os_="Linux"):
    rid = _S["next_runner_id"]
    _S["next_runner_id"] += 1
    cred = "rc_" + secrets.token_hex(20)
    r = {
        "id": rid, "name": name, "os": os_, "scope_kind": kind,
        "scope": scope, "labels": labels, "ephemeral": bool(ephemeral),
        "last_poll": 0.0, "stopped": True, "job": None, "cred": cred,
        "created_at": now,
    }
    _S["runners"][rid] = r
    _S["creds"][cred] = rid
    return r


def _delete_runner(r):
    _S["runners"].pop(r["id"], None)
    _S["creds"].pop(r["cred"], None)


def _issue_regtoken(kind, scope, purpose, now):
    tok = _rand(string.ascii_uppercase + string.digits, 29)
    exp = now + float(_setting("registration_token_ttl_s"))
    _S["regtokens"][tok] = {"scope_kind": kind, "scope": scope,
                            "purpose": purpose, "expires_at": exp,
                            "issued_at": now}
    return {"token": tok, "expires_at": _iso_ms(exp)}


# ------------------------------------------------------------ jobs

def _finish_job(j, conclusion, output, now):
    j["status"] = "completed"
    j["conclusion"] = conclusion
    j["output"] = output[-int(_setting("max_output")):]
    j["completed_at"] = now


def _job_public(j):
    return {k: j[k] for k in ("id", "repo", "labels", "script", "status",
                              "conclusion", "runner_name", "runner_id",
                              "output", "created_at", "started_at",
                              "completed_at", "run_id")}


def _runner_matches(r, j):
    if r["scope_kind"] == "repo":
        if r["scope"] != j["repo"]:
            return False
    elif j["repo"].split("/", 1)[0] != r["scope"]:
        return False
    else:
        # an organization's runner serves only the repositories its group
        # lets use it ("Managing access to self-hosted runners using
        # groups"): a job of another stays queued
        g = [x for x in _org_groups(r["scope"])
             if x["id"] == r.get("group_id", 1)]
        if not g or not _group_sees(r["scope"], g[0],
                                    j["repo"].split("/", 1)[1]):
            return False
    have = {lb["name"].lower() for lb in r["labels"]}
    return all(lb.lower() in have for lb in j["labels"])


# ------------------------------------------------------------ releases

def _releases():
    rs = _setting("runner_releases")
    return releases.normalise(releases.DEFAULT_RELEASES if rs is None
                              else rs)


def _tampered(version, arch):
    t = _setting("runner_tampered") or []
    return ("%s/%s" % (version, arch)) in t or version in t


# ------------------------------------------------------------ dispatch

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
        return _handle_api(ctx, method, path[len(API):], query, headers,
                           body)
    if path.startswith("/_runner/"):
        return _handle_runner(ctx, method, path, query, headers, body)
    if path.startswith("/actions/runner/releases/"):
        return _handle_download(ctx, method, path)
    if path.startswith("/_cloud/github/") or path == "/_cloud/github":
        return _handle_control(ctx, method, path, query, body)
    return None


# REST routes: (method, regex, operation id, handler name)
_ROUTES = []


def _route(method, pattern, op):
    def deco(fn):
        _ROUTES.append((method, re.compile("^" + pattern + "$"), op, fn))
        return fn
    return deco


_SEG = r"([A-Za-z0-9_.-]+)"
_SEG_TAG = r"([^/]+)"


def _handle_api(ctx, method, sub, query, headers, body):
    now = _now(ctx)
    ua = _hget(headers, "User-Agent")
    accept = _hget(headers, "Accept") or ""
    apiver = _hget(headers, "X-GitHub-Api-Version")
    rec = {"service": "github", "action": "unknown", "method": method,
           "mutating": method in ("POST", "PUT", "PATCH", "DELETE"),
           "path": API + sub, "params": {k: v for k, v in query.items()},
           "user_agent_ok": bool(ua and ua.strip()),
           "accept_ok": ACCEPT in accept,
           "api_version_ok": apiver == API_VERSION,
           "auth_kind": "none"}
    op, fn, args = None, None, ()
    for m, rx, o, f in _ROUTES:
        mm = rx.match(sub)
        if mm and m == method:
            op, fn, args = o, f, mm.groups()
            break
    rec["action"] = op or "unknown"
    extra = {}
    try:
        if not rec["user_agent_ok"]:
            status = 403
            resp = (403, {"Content-Type": "text/html"},
                    b"Request forbidden by administrative rules. Please "
                    b"make sure your request has a User-Agent header "
                    b"(https://docs.github.com/rest/using-the-rest-api/"
                    b"getting-started-with-the-rest-api#user-agent)."
                    b" Check https://developer.github.com for other "
                    b"possible causes.\n")
            rec["status"] = status
            rec["code"] = "User-Agent required"
            ctx.record(rec)
            return resp
        if apiver is not None and apiver != API_VERSION:
            raise _gh_error(400, "API version '%s' is not supported." %
                            apiver)
        if apiver is None:
            # deliberate strictness, see GITHUB.md
            raise _gh_error(400, "local cloud: missing X-GitHub-Api-Version"
                            ": %s header" % API_VERSION)
        if not rec["accept_ok"]:
            raise _gh_error(400, "local cloud: Accept header must include "
                            "%s" % ACCEPT)
        fault = ctx.fault("github", op) if op else None
        if fault and fault.get("kind") == "slow":
            time.sleep(float(fault.get("delay_ms", 1000)) / 1000.0)
            fault = None
        if fault and fault.get("kind") == "reset":
            rec["status"] = 0
            rec["code"] = "connection reset"
            ctx.record(rec)
            return "reset"
        with _lock:
            auth = None
            try:
                auth = _authenticate(ctx, headers, now)
            finally:
                rec["auth_kind"] = auth.kind if auth else "invalid"
            if fault:
                _apply_fault(fault, auth, now)
            extra, exhausted = _ratelimit_headers(auth, now)
            if exhausted and auth.kind != "jwt":
                raise _primary_limit(auth, extra)
            if fn is None:
                raise _gh_error(404, "Not Found")
            status, obj, more = fn(ctx, auth, now, query, headers,
                                   _parse_body(body) if method in
                                   ("POST", "PUT", "PATCH") else {},
                                   *args)
            extra.update(more or {})
    except Reply as r:
        status, obj = r.status, r.body
        extra.update(r.headers)
    rec["status"] = status
    if status >= 400 and isinstance(obj, dict):
        rec["code"] = obj.get("message")
    ctx.record(rec)
    if auth_scopes := _oauth_headers(headers):
        extra.update(auth_scopes)
    extra.setdefault("X-GitHub-Api-Version-Selected", API_VERSION)
    extra.setdefault("X-GitHub-Request-Id", "%08X:%04X" % (
        secrets.randbits(32), secrets.randbits(16)))
    return _json(status, obj, extra)


def _oauth_headers(headers):
    raw = _hget(headers, "Authorization") or ""
    tok = raw.split(None, 1)[1].strip() if len(raw.split(None, 1)) == 2 \
        else ""
    with _lock:
        t = _S["tokens"].get(tok)
    if t and t["kind"] == "classic":
        return {"X-OAuth-Scopes": ", ".join(t["scopes"])}
    return None


def _primary_limit(auth, rl):
    h = dict(rl)
    h["x-ratelimit-remaining"] = "0"
    return Reply(403, {
        "message": "API rate limit exceeded for %s. If you reach out to "
                   "GitHub Support for help, please include the request "
                   "ID." % auth.identity.split(":")[0],
        "documentation_url": "https://docs.github.com/rest/overview/"
                             "rate-limits-for-the-rest-api#about-primary-"
                             "rate-limits"}, h)


def _apply_fault(fault, auth, now):
    kind = fault.get("kind")
    if kind == "5xx":
        raise _gh_error(int(fault.get("status", 502)), "Server Error")
    if kind in ("secondary", "throttle"):
        raise Reply(int(fault.get("status", 403)), {
            "message": "You have exceeded a secondary rate limit and have "
                       "been temporarily blocked from content creation. "
                       "Please retry your request again later. If you "
                       "reach out to GitHub Support for help, please "
                       "include the request ID.",
            "documentation_url": "https://docs.github.com/rest/overview/"
                                 "rate-limits-for-the-rest-api#about-"
                                 "secondary-rate-limits"},
            {} if fault.get("retry_after", 2) is None else
            {"Retry-After": str(int(fault.get("retry_after", 2)))})
    if kind == "ratelimit":
        rl, _ = _ratelimit_headers(auth, now, consume=False)
        rl["x-ratelimit-reset"] = str(int(now + float(
            fault.get("reset_in", 2))))
        rl["x-ratelimit-used"] = rl["x-ratelimit-limit"]
        raise _primary_limit(auth, rl)
    if kind in ("expired", "revoked"):
        raise _gh_error(401, "Bad credentials")
    if kind == "notfound":
        raise _gh_error(404, "Not Found")


# ---- runner REST endpoints (repo and org)

def _scope_args(kind, a, b=None):
    return ("repo", "%s/%s" % (a, b)) if kind == "repo" else ("org", a)


def _check_scope(auth, kind, parts, need):
    if kind == "repo":
        _require_repo(auth, parts[0], parts[1], need)
    else:
        _require_org(auth, parts[0], need)


def _make_runner_routes(kind, prefix, nparts):
    def regtoken(ctx, auth, now, query, headers, body, *parts):
        _check_scope(auth, kind, parts, "write")
        return 201, _issue_regtoken(kind, _scope_args(kind, *parts)[1],
                                    "register", now), None

    def removetoken(ctx, auth, now, query, headers, body, *parts):
        _check_scope(auth, kind, parts, "write")
        return 201, _issue_regtoken(kind, _scope_args(kind, *parts)[1],
                                    "remove", now), None

    def listr(ctx, auth, now, query, headers, body, *parts):
        _check_scope(auth, kind, parts, "read")
        _sweep(now)
        rs = _scope_runners(kind, _scope_args(kind, *parts)[1])
        name = _q1(query, "name")
        if name is not None:
            rs = [r for r in rs if r["name"] == name]
        st, body, hdrs = _paged(ctx, headers, query, suffix_path(parts),
                                "runners", rs)
        body["runners"] = [_runner_public(r, now) for r in body["runners"]]
        return st, body, hdrs

    def suffix_path(parts):
        if kind == "repo":
            return "/repos/%s/%s/actions/runners" % parts[:2]
        return "/orgs/%s/actions/runners" % parts[0]

    def find(parts):
        kid, scope = _scope_args(kind, *parts[:nparts])
        try:
            rid = int(parts[nparts])
        except ValueError:
            raise _gh_error(404, "Not Found")
        r = _S["runners"].get(rid)
        if r is None or r["scope_kind"] != kid or r["scope"] != scope:
            raise _gh_error(404, "Not Found")
        return r

    def getr(ctx, auth, now, query, headers, body, *parts):
        _check_scope(auth, kind, parts, "read")
        _sweep(now)
        return 200, _runner_public(find(parts), now), None

    def delr(ctx, auth, now, query, headers, body, *parts):
        _check_scope(auth, kind, parts, "write")
        _sweep(now)
        r = find(parts)
        if r["job"] is not None or r.get("pinned_busy"):
            raise _gh_error(422, 'Bad request - Runner "%s" is still '
                            'running a job"' % r["name"])
        _delete_runner(r)
        return 204, None, None

    sfx = "-for-" + ("repo" if kind == "repo" else "org")
    frm = "-from-" + ("repo" if kind == "repo" else "org")
    _route("POST", prefix + "/actions/runners/registration-token",
           "actions/create-registration-token" + sfx)(regtoken)
    _route("POST", prefix + "/actions/runners/remove-token",
           "actions/create-remove-token" + sfx)(removetoken)
    _route("GET", prefix + "/actions/runners",
           "actions/list-self-hosted-runners" + sfx)(listr)
    _route("GET", prefix + r"/actions/runners/([0-9]+)",
           "actions/get-self-hosted-runner" + sfx)(getr)
    _route("DELETE", prefix + r"/actions/runners/([0-9]+)",
           "actions/delete-self-hosted-runner" + frm)(delr)


_make_runner_routes("repo", "/repos/%s/%s" % (_SEG, _SEG), 2)
_make_runner_routes("org", "/orgs/%s" % _SEG, 1)


# ---- runner groups (organizations)
# https://docs.github.com/en/rest/actions/self-hosted-runner-groups
# Every organization has the group "Default" (id 1, visibility "all", the
# one a runner joins without --runnergroup); a repository's runners are
# all in its Default group.  Visibility: "all" (every repository of the
# organization), "selected" (the listed ones), "private" (private ones:
# the double has no public repositories, so all of them).  Names are
# matched case-insensitively, as the runner's config.sh matches them.

def _default_group():
    return {"id": 1, "name": "Default", "visibility": "all",
            "default": True, "allows_public_repositories": False,
            "repositories": set()}


def _org_groups(org):
    gs = _S["groups"].get(org)
    if gs is None:
        gs = _S["groups"][org] = [_default_group()]
    return gs


def _find_group(org, name):
    for g in _org_groups(org):
        if g["name"].lower() == str(name).lower():
            return g
    return None


def _group_name(r):
    if r["scope_kind"] != "org":
        return "Default"
    for g in _org_groups(r["scope"]):
        if g["id"] == r.get("group_id", 1):
            return g["name"]
    return None


def _group_sees(org, g, repo):
    """May repository repo (a name of org) use group g?"""
    full = "%s/%s" % (org, repo)
    if full not in _S["repos"]:
        return False
    if g["visibility"] == "selected":
        return full in g["repositories"]
    return True


def _group_public(g, base):
    url = "%s/actions/runner-groups/%d" % (base, g["id"])
    d = {"id": g["id"], "name": g["name"], "visibility": g["visibility"],
         "default": g["default"], "runners_url": url + "/runners",
         "inherited": False,
         "allows_public_repositories": g["allows_public_repositories"],
         "restricted_to_workflows": False, "selected_workflows": [],
         "workflow_restrictions_read_only": False}
    # "selected_repositories_url": only a group of selected repositories
    if g["visibility"] == "selected":
        d["selected_repositories_url"] = url + "/repositories"
    return d


def _paged(ctx, headers, query, path, member, items):
    """GitHub's pagination of items: (status, body, headers with Link)."""
    per_page, page = _paging(query)
    total = len(items)
    chunk = items[(page - 1) * per_page:page * per_page]
    last = max(1, (total + per_page - 1) // per_page)
    host = _hget(headers, "Host") or "127.0.0.1:%s" % ctx.port
    base = "http://%s%s%s" % (host, API, path)

    def link(p):
        q = {k: (v[0] if isinstance(v, list) else v)
             for k, v in query.items()}
        q["per_page"] = str(per_page)
        q["page"] = str(p)
        return "<%s?%s>" % (base, urllib.parse.urlencode(q))
    links = []
    if page < last:
        links.append('%s; rel="next"' % link(page + 1))
        links.append('%s; rel="last"' % link(last))
    if page > 1:
        links.append('%s; rel="prev"' % link(min(page - 1, last)))
        links.append('%s; rel="first"' % link(1))
    return 200, {"total_count": total, member: chunk}, \
        ({"Link": ", ".join(links)} if links else None)


def _group_of(org, gid):
    for g in _org_groups(org):
        if str(g["id"]) == str(gid):
            return g
    raise _gh_error(404, "Not Found")


@_route("GET", "/orgs/%s/actions/runner-groups" % _SEG,
        "actions/list-self-hosted-runner-groups-for-org")
def _list_groups(ctx, auth, now, query, headers, body, org):
    _require_org(auth, org, "read")
    gs = _org_groups(org)
    repo = _q1(query, "visible_to_repository")
    if repo is not None:
        gs = [g for g in gs if _group_sees(org, g, repo)]
    base = API + "/orgs/%s" % org
    return _paged(ctx, headers, query, "/orgs/%s/actions/runner-groups" %
                  org, "runner_groups", [_group_public(g, base) for g in gs])


@_route("GET", r"/orgs/%s/actions/runner-groups/([0-9]+)" % _SEG,
        "actions/get-self-hosted-runner-group-for-org")
def _get_group(ctx, auth, now, query, headers, body, org, gid):
    _require_org(auth, org, "read")
    return 200, _group_public(_group_of(org, gid), API + "/orgs/%s" % org), \
        None


@_route("GET", r"/orgs/%s/actions/runner-groups/([0-9]+)/repositories" %
        _SEG, "actions/list-repo-access-to-self-hosted-runner-group-in-org")
def _group_repos(ctx, auth, now, query, headers, body, org, gid):
    _require_org(auth, org, "read")
    g = _group_of(org, gid)
    items = [{"id": _stable_id(full), "name": full.split("/", 1)[1],
              "full_name": full, "private": True}
             for full in sorted(g["repositories"])]
    return _paged(ctx, headers, query, "/orgs/%s/actions/runner-groups/%s/"
                  "repositories" % (org, gid), "repositories", items)


@_route("GET", r"/orgs/%s/actions/runner-groups/([0-9]+)/runners" % _SEG,
        "actions/list-self-hosted-runners-in-group-for-org")
def _group_runners(ctx, auth, now, query, headers, body, org, gid):
    _require_org(auth, org, "read")
    _sweep(now)
    g = _group_of(org, gid)
    rs = [_runner_public(r, now) for r in _scope_runners("org", org)
          if r.get("group_id", 1) == g["id"]]
    return _paged(ctx, headers, query, "/orgs/%s/actions/runner-groups/%s/"
                  "runners" % (org, gid), "runners", rs)


# ---- GitHub Apps

def _require_jwt(auth, now):
    if auth.kind != "jwt":
        raise _gh_error(401, "A JSON web token could not be decoded")
    return verify_jwt(auth.token, now)


def _installation_public(inst, ctx):
    acct = inst["account"]
    base = "http://127.0.0.1:%s%s" % (ctx.port, API)
    is_org = acct in _S["orgs"]
    return {
        "id": inst["id"],
        "account": {"login": acct, "id": _stable_id(acct),
                    "type": "Organization" if is_org else "User"},
        "repository_selection": "all" if inst["repositories"] is None
        else "selected",
        "access_tokens_url": "%s/app/installations/%d/access_tokens" % (
            base, inst["id"]),
        "repositories_url": base + "/installation/repositories",
        "app_id": int(inst["app_id"]) if inst["app_id"].isdigit()
        else inst["app_id"],
        "app_slug": "app-%s" % inst["app_id"],
        "target_id": _stable_id(acct),
        "target_type": "Organization" if is_org else "User",
        "permissions": dict(inst["permissions"]),
        "events": [],
        "created_at": _iso(inst["created_at"]),
        "updated_at": _iso(inst["created_at"]),
        "single_file_name": None,
        "suspended_at": None,
    }


def _stable_id(s):
    return int(hashlib.sha256(s.encode()).hexdigest()[:7], 16)


@_route("GET", "/app", "apps/get-authenticated")
def _get_app(ctx, auth, now, query, headers, body):
    app = _require_jwt(auth, now)
    aid = app["app_id"]
    return 200, {"id": int(aid) if aid.isdigit() else aid,
                 "slug": "app-%s" % aid, "name": "app-%s" % aid}, None


def _find_install(app, pred):
    for inst in _S["installations"].values():
        if inst["app_id"] == app["app_id"] and pred(inst):
            return inst
    return None


@_route("GET", "/repos/%s/%s/installation" % (_SEG, _SEG),
        "apps/get-repo-installation")
def _repo_installation(ctx, auth, now, query, headers, body, owner, repo):
    app = _require_jwt(auth, now)
    full = "%s/%s" % (owner, repo)
    inst = _find_install(app, lambda i: full in _S["repos"]
                         and _install_sees(i, full))
    if inst is None:
        raise _gh_error(404, "Not Found")
    return 200, _installation_public(inst, ctx), None


@_route("GET", "/orgs/%s/installation" % _SEG, "apps/get-org-installation")
def _org_installation(ctx, auth, now, query, headers, body, org):
    app = _require_jwt(auth, now)
    inst = _find_install(app, lambda i: org in _S["orgs"]
                         and i["account"] == org)
    if inst is None:
        raise _gh_error(404, "Not Found")
    return 200, _installation_public(inst, ctx), None


@_route("POST", r"/app/installations/([0-9]+)/access_tokens",
        "apps/create-installation-access-token")
def _access_token(ctx, auth, now, query, headers, body, iid):
    app = _require_jwt(auth, now)
    inst = _S["installations"].get(int(iid))
    if inst is None or inst["app_id"] != app["app_id"]:
        raise _gh_error(404, "Not Found")
    perms = dict(inst["permissions"])
    if isinstance(body.get("permissions"), dict):
        want = body["permissions"]
        for k, v in want.items():
            if not _level_ok(perms.get(k), v if v in ("read", "write")
                             else "admin"):
                raise _gh_error(422, "The permissions requested are not "
                                "granted to this installation.")
        perms = dict(want)
    repos = inst["repositories"]
    names = body.get("repositories")
    if isinstance(names, list) and names:
        chosen = []
        for n in names:
            full = "%s/%s" % (inst["account"], n) if "/" not in str(n) \
                else str(n)
            if full not in _S["repos"] or not _install_sees(inst, full):
                raise _gh_error(422, "There is at least one repository "
                                "that does not exist or is not accessible "
                                "to the parent installation.")
            chosen.append(full)
        repos = chosen
    tok = "ghs_" + _rand(string.ascii_letters + string.digits, 36)
    exp = now + float(_setting("installation_token_ttl_s"))
    _S["ghs"][tok] = {"installation": inst["id"], "account":
                      inst["account"], "repositories": repos,
                      "permissions": perms, "expires_at": exp,
                      "revoked": False}
    return 201, {"token": tok, "expires_at": _iso(exp),
                 "permissions": perms,
                 "repository_selection": "all" if repos is None
                 else "selected"}, None


def _release_json(r, api, web):
    return releases.release_json(r, api, web,
                                 bool(_setting("runner_notes_checksums")),
                                 bool(_setting("runner_asset_digests")))


def _release_bases(ctx, headers):
    host = _hget(headers, "Host") or "127.0.0.1:%s" % ctx.port
    return "http://%s%s" % (host, API), "http://%s" % host


@_route("GET", "/repos/actions/runner/releases/latest",
        "repos/get-latest-release")
def _latest_release(ctx, auth, now, query, headers, body):
    r = releases.latest(_releases())
    if r is None:
        raise _gh_error(404, "Not Found")
    return 200, _release_json(r, *_release_bases(ctx, headers)), None


@_route("GET", "/repos/actions/runner/releases/tags/" + _SEG_TAG,
        "repos/get-release-by-tag")
def _release_by_tag(ctx, auth, now, query, headers, body, tag):
    r = releases.find(_releases(), tag[1:]) if tag.startswith("v") else None
    if r is None:
        raise _gh_error(404, "Not Found")
    return 200, _release_json(r, *_release_bases(ctx, headers)), None


@_route("GET", "/repos/actions/runner/releases", "repos/list-releases")
def _list_releases(ctx, auth, now, query, headers, body):
    per_page, page = _paging(query)
    rs = [r for r in _releases() if not r["draft"]]
    last = max(1, (len(rs) + per_page - 1) // per_page)
    api, web = _release_bases(ctx, headers)

    def link(p, rel):
        return '<%s/repos/actions/runner/releases?per_page=%d&page=%d>; ' \
            'rel="%s"' % (api, per_page, p, rel)
    links = []
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links += [link(min(page - 1, last), "prev"), link(1, "first")]
    chunk = rs[(page - 1) * per_page:page * per_page]
    return 200, [_release_json(r, api, web) for r in chunk], \
        ({"Link": ", ".join(links)} if links else None)


# ------------------------------------------------------------ download

def _handle_download(ctx, method, path):
    m = releases.TARBALL_RE.match(path)
    status = 404
    resp = _json(404, {"error": "Not Found"})
    if m and method in ("GET", "HEAD") and m.group(1) == m.group(3):
        with _lock:
            r = releases.find(_releases(), m.group(1))
            bad = _tampered(m.group(1), m.group(2))
        if r is not None:
            data = releases.tarball(m.group(1), m.group(2), bad)
            status = 200
            resp = (200, {"Content-Type": "application/octet-stream",
                          "Content-Length": str(len(data))},
                    b"" if method == "HEAD" else data)
    ctx.record({"service": "github", "action": "runner-download",
                "method": method, "path": path, "status": status,
                "auth_kind": "none"})
    return resp


# ------------------------------------------------------------ runner proto

def _runner_err(status, message):
    return Reply(status, {"message": message})


def _parse_scope_url(url):
    """http://host:port/owner/repo -> ("repo","owner/repo"); /org -> org."""
    try:
        u = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    parts = [p for p in u.path.split("/") if p]
    if u.scheme not in ("http", "https") or not u.netloc:
        return None
    if len(parts) == 1:
        return ("org", parts[0])
    if len(parts) == 2:
        return ("repo", "%s/%s" % (parts[0], parts[1]))
    return None


def _handle_runner(ctx, method, path, query, headers, body):
    now = _now(ctx)
    action = path[len("/_runner/"):].split("/")[0] or "unknown"
    rec = {"service": "github", "action": "runner/" + action,
           "method": method, "path": path, "auth_kind": "none"}
    try:
        if method != "POST":
            raise _runner_err(405, "method not allowed")
        req = _parse_body(body)
        auth = (_hget(headers, "Authorization") or "").split(None, 1)
        scheme = auth[0] if auth else ""
        cred = auth[1].strip() if len(auth) == 2 else ""
        with _lock:
            if action in ("register", "remove"):
                rec["auth_kind"] = "remote-auth"
                if scheme != "RemoteAuth":
                    raise _runner_err(401, "missing RemoteAuth token")
                fn = _proto_register if action == "register" \
                    else _proto_remove
                status, obj = fn(now, cred, req)
            elif action in ("poll", "complete", "offline"):
                rec["auth_kind"] = "runner"
                if scheme != "Bearer":
                    raise _runner_err(401, "missing runner credential")
                rid = _S["creds"].get(cred)
                r = _S["runners"].get(rid) if rid else None
                if r is None:
                    raise _runner_err(404, "The runner registration has "
                                      "been deleted from the server, "
                                      "please re-configure.")
                status, obj = {"poll": _proto_poll,
                               "complete": _proto_complete,
                               "offline": _proto_offline}[action](
                                   now, r, req)
            else:
                raise _runner_err(404, "Not Found")
    except Reply as e:
        status, obj = e.status, e.body
    rec["status"] = status
    if status >= 400 and isinstance(obj, dict):
        rec["code"] = obj.get("message")
    ctx.record(rec)
    return _json(status, obj)


def _proto_register(now, token, req):
    sc = _parse_scope_url(str(req.get("url", "")))
    if sc is None:
        raise _runner_err(400, "Invalid configuration provided for url")
    t = _S["regtokens"].get(token)
    if t is None or t["purpose"] != "register" or t["expires_at"] <= now:
        raise _runner_err(404, "Http response code: NotFound from 'POST "
                          "/actions/runner-registration'")
    if (t["scope_kind"], t["scope"]) != sc:
        raise _runner_err(404, "Http response code: NotFound from 'POST "
                          "/actions/runner-registration'")
    kind, scope = sc
    exists = scope in (_S["repos"] if kind == "repo" else _S["orgs"])
    if not exists:
        raise _runner_err(404, "Http response code: NotFound from 'POST "
                          "/actions/runner-registration'")
    version = str(req.get("version") or "")
    why = releases.register_refusal(version, _setting("runner_min_version"))
    if why:
        raise _runner_err(404, "Http response code: NotFound from 'POST "
                          "/actions/runner-registration'\n" + why)
    name = str(req.get("name") or "").strip()
    if not name or len(name) > 64:
        raise _runner_err(400, "Invalid runner name '%s'" % name)
    # --runnergroup: the real runner lists the scope's groups and stops
    # with this message (actions/runner, ConfigurationManager.cs); a
    # repository has only its Default group
    want = req.get("runner_group")
    if kind == "org":
        group = _find_group(scope, want) if want else _org_groups(scope)[0]
    else:
        group = _default_group() if not want or \
            str(want).lower() == "default" else None
    if group is None:
        raise _runner_err(404, 'Could not find any self-hosted runner '
                          'group named "%s".' % want)
    labels = []
    seen = set()
    if not req.get("no_default_labels"):
        for lb in DEFAULT_LABELS:
            labels.append(_label_obj(lb, "read-only"))
            seen.add(lb.lower())
    for lb in req.get("labels") or []:
        lb = str(lb).strip()
        if lb and lb.lower() not in seen:
            seen.add(lb.lower())
            labels.append(_label_obj(lb, "custom"))
    if not labels:
        raise _runner_err(400, "Runner must have at least one label")
    for r in _scope_runners(kind, scope):
        if r["name"].lower() == name.lower():
            if not req.get("replace"):
                raise _runner_err(409, "A runner exists with the same "
                                  "name")
            if r["job"] is not None:
                raise _runner_err(409, 'Runner "%s" is still running a '
                                  'job' % r["name"])
            _delete_runner(r)
    r = _new_runner(kind, scope, name, labels, now,
                    ephemeral=req.get("ephemeral"))
    r["version"] = version
    r["group_id"] = group["id"]
    return 201, {"id": r["id"], "name": r["name"], "credential": r["cred"],
                 "scope": scope, "scope_kind": kind,
                 "runner_group": {"id": group["id"], "name": group["name"]},
                 "labels": [lb["name"] for lb in labels]}


def _proto_remove(now, token, req):
    t = _S["regtokens"].get(token)
    ok_purposes = {"remove"}
    if _setting("remove_accepts_registration_token"):
        ok_purposes.add("register")
    if t is None or t["purpose"] not in ok_purposes or \
            t["expires_at"] <= now:
        raise _runner_err(404, "Http response code: NotFound from 'POST "
                          "/actions/runner-registration'")
    try:
        rid = int(req.get("id"))
    except (TypeError, ValueError):
        raise _runner_err(400, "missing runner id")
    r = _S["runners"].get(rid)
    if r is None:
        # already gone on the server: the real runner still cleans up
        return 200, {"removed": False}
    if (t["scope_kind"], t["scope"]) != (r["scope_kind"], r["scope"]):
        raise _runner_err(403, "The remove token does not match the "
                          "runner's repository or organization")
    if r["job"] is not None:
        raise _runner_err(422, 'Runner "%s" is still running a job' %
                          r["name"])
    _delete_runner(r)
    return 200, {"removed": True}


def _proto_poll(now, r, req):
    version = str(req.get("version") or r.get("version") or "")
    why = releases.jobs_refusal(_releases(), version, now,
                                float(_setting("runner_superseded_days")))
    if why:
        raise _runner_err(403, why)
    r["version"] = version
    r["last_poll"] = now
    r["stopped"] = False
    _sweep(now)
    if r["job"] is not None:
        j = _S["jobs"].get(r["job"])
        if j and j["status"] == "in_progress":
            return 200, {"job": None, "running": j["id"]}
        r["job"] = None
    if req.get("accept_jobs", True):
        for jid in sorted(_S["jobs"]):
            j = _S["jobs"][jid]
            if j["status"] == "queued" and _runner_matches(r, j):
                j["status"] = "in_progress"
                j["runner_name"] = r["name"]
                j["runner_id"] = r["id"]
                j["started_at"] = now
                r["job"] = jid
                return 200, {"job": {"id": jid, "repo": j["repo"],
                                     "script": j["script"],
                                     "env": j["env"],
                                     "run_id": j["run_id"]}}
    return 200, {"job": None}


def _proto_complete(now, r, req):
    r["last_poll"] = now
    try:
        jid = int(req.get("id"))
    except (TypeError, ValueError):
        raise _runner_err(400, "missing job id")
    j = _S["jobs"].get(jid)
    if j is None or j["runner_id"] != r["id"]:
        raise _runner_err(404, "job not assigned to this runner")
    if j["status"] == "in_progress":
        concl = req.get("conclusion")
        if concl not in ("success", "failure", "cancelled"):
            concl = "failure"
        _finish_job(j, concl, str(req.get("output", "")), now)
    if r["job"] == jid:
        r["job"] = None
    deleted = False
    if r["ephemeral"]:
        _delete_runner(r)
        deleted = True
    return 200, {"deleted": deleted}


def _proto_offline(now, r, req):
    r["stopped"] = True
    if r["job"] is not None:
        j = _S["jobs"].get(r["job"])
        if j and j["status"] == "in_progress":
            _finish_job(j, "cancelled", str(req.get("output", "")) +
                        "The operation was canceled.\n", now)
        r["job"] = None
    return 200, {}


# ------------------------------------------------------------ control API

def _ctl_err(status, msg):
    return Reply(status, {"error": msg})


def _handle_control(ctx, method, path, query, body):
    sub = path[len("/_cloud/github"):].strip("/")
    now = _now(ctx)
    try:
        try:
            req = json.loads(body.decode() or "{}") if body else {}
        except (ValueError, UnicodeDecodeError):
            raise _ctl_err(400, "body is not JSON")
        with _lock:
            status, obj = _control(ctx, method, sub, query, req, now)
    except Reply as e:
        status, obj = e.status, e.body
    return _json(status, obj)


def _token_entry(t, now):
    tok = t.get("token")
    if not isinstance(tok, str) or not tok:
        raise _ctl_err(400, "token: string required")
    kind = t.get("kind") or ("fine-grained" if tok.startswith("github_pat_")
                             else "classic")
    if kind not in ("classic", "fine-grained"):
        raise _ctl_err(400, "kind: classic or fine-grained")
    old = _S["tokens"].get(tok, {})
    ent = {
        "kind": kind,
        "scopes": list(t.get("scopes", old.get("scopes", []))),
        "permissions": dict(t.get("permissions", old.get("permissions",
                                                         {}))),
        "orgs": dict(t.get("orgs", old.get("orgs", {}))),
        "expires_at": t.get("expires_at", old.get("expires_at")),
        "revoked": bool(t.get("revoked", old.get("revoked", False))),
        "fp": hashlib.sha256(tok.encode()).hexdigest()[:12],
    }
    _S["tokens"][tok] = ent
    return {"kind": kind, "fingerprint": ent["fp"]}


def _control(ctx, method, sub, query, req, now):
    S = _S
    if sub == "reset" and method == "POST":
        reset()
        return 200, {}
    if sub == "tokens" and method == "POST":
        items = req.get("tokens") if "tokens" in req else [req]
        return 200, {"tokens": [_token_entry(t, now) for t in items]}
    if sub == "tokens" and method == "GET":
        return 200, {"tokens": [
            {"fingerprint": t["fp"], "kind": t["kind"],
             "revoked": t["revoked"], "expires_at": t["expires_at"]}
            for t in S["tokens"].values()]}
    if sub == "registration-tokens" and method == "GET":
        return 200, {"tokens": [
            {"token": k, "purpose": v["purpose"], "scope": v["scope"],
             "scope_kind": v["scope_kind"], "expires_at": v["expires_at"],
             "issued_at": v["issued_at"],
             "expired": v["expires_at"] <= now}
            for k, v in S["regtokens"].items()]}
    if sub == "registration-tokens" and method == "POST":
        # expire or revoke issued tokens: {"expire": true} expires all
        for v in S["regtokens"].values():
            if req.get("expire"):
                v["expires_at"] = min(v["expires_at"], now)
        return 200, {}
    if sub == "repos" and method == "POST":
        for r in req.get("repos", []):
            if not re.match(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", str(r)):
                raise _ctl_err(400, "bad repo %r" % r)
            S["repos"].add(str(r))
        for o in req.get("orgs", []):
            S["orgs"].add(str(o))
        return 200, {"repos": sorted(S["repos"]), "orgs": sorted(S["orgs"])}
    if sub == "repos" and method == "GET":
        return 200, {"repos": sorted(S["repos"]), "orgs": sorted(S["orgs"])}
    if sub == "apps" and method == "POST":
        return 200, _control_app(req, now)
    if sub == "runner-groups" and method == "POST":
        return 201, _control_group(req)
    if sub == "runners" and method == "GET":
        _sweep(now)
        return 200, {"runners": [_runner_control(r, now) for r in
                                 sorted(S["runners"].values(),
                                        key=lambda r: r["id"])]}
    if sub == "runners" and method == "POST":
        return 201, _control_seed_runner(req, now)
    m = re.match(r"^runners/([0-9]+)$", sub)
    if m and method == "DELETE":
        r = S["runners"].get(int(m.group(1)))
        if r is None:
            raise _ctl_err(404, "no such runner")
        _delete_runner(r)
        return 200, {}
    if sub == "settings" and method == "POST":
        for k, v in req.items():
            if k not in S["settings"]:
                raise _ctl_err(400, "unknown setting %r" % k)
            if k == "runner_releases" and v is not None:
                try:
                    releases.normalise(v)
                except (ValueError, TypeError, AttributeError) as e:
                    raise _ctl_err(400, "runner_releases: %s" % e)
            S["settings"][k] = v
        return 200, dict(S["settings"])
    if sub == "settings" and method == "GET":
        return 200, dict(S["settings"])
    if sub == "jobs" and method == "POST":
        return 201, _control_job(req, now)
    if sub == "jobs" and method == "GET":
        _sweep(now)
        return 200, {"jobs": [_job_public(j) for _, j in
                              sorted(S["jobs"].items())]}
    m = re.match(r"^jobs/([0-9]+)$", sub)
    if m and method == "GET":
        _sweep(now)
        j = S["jobs"].get(int(m.group(1)))
        if j is None:
            raise _ctl_err(404, "no such job")
        return 200, _job_public(j)
    if sub == "runner-tarball" and method == "GET":
        rs = _releases()
        latest = releases.latest(rs)
        v = _q1(query, "version", latest["version"] if latest else "")
        arch = _q1(query, "arch", "x64")
        if releases.find(rs, v) is None or arch not in releases.ARCHES:
            raise _ctl_err(404, "version not served")
        data = releases.tarball(v, arch, _tampered(v, arch))
        return 200, {"version": v, "arch": arch, "size": len(data),
                     "sha256": hashlib.sha256(data).hexdigest(),
                     "published_sha256": releases.sha256(v, arch),
                     "path": "/actions/runner/releases/download/v%s/%s" % (
                         v, releases.package_name(v, arch))}
    raise _ctl_err(404, "unknown control call %s /_cloud/github/%s" % (
        method, sub))


def _control_app(req, now):
    aid = req.get("app_id")
    if aid is None or isinstance(aid, bool):
        raise _ctl_err(400, "app_id required")
    aid = str(aid)
    try:
        n, e = parse_rsa_public_key(str(req.get("public_key_pem", "")))
    except (ValueError, IndexError) as ex:
        raise _ctl_err(400, "public_key_pem: %s" % ex)
    _S["apps"][aid] = {"app_id": aid, "n": n, "e": e}
    ids = []
    for i in req.get("installations", []):
        try:
            iid = int(i["id"])
        except (KeyError, TypeError, ValueError):
            raise _ctl_err(400, "installation id required")
        acct = str(i.get("account", ""))
        repos = None
        if "/" in acct:
            repos = [acct]
            acct = acct.split("/", 1)[0]
        if i.get("repositories") is not None:
            repos = [r if "/" in r else "%s/%s" % (acct, r)
                     for r in i["repositories"]]
        _S["installations"][iid] = {
            "id": iid, "app_id": aid, "account": acct,
            "repositories": repos,
            "permissions": dict(i.get("permissions", DEFAULT_INSTALL_PERMS)),
            "created_at": now}
        ids.append(iid)
    return {"app_id": aid, "bits": n.bit_length(), "installations": ids}


def _control_group(req):
    """{"org", "name", "visibility": all|selected|private, "repositories":
    [names of the org's repositories]}: a runner group of org."""
    org = str(req.get("org") or "")
    name = str(req.get("name") or "")
    vis = req.get("visibility", "all")
    if org not in _S["orgs"]:
        raise _ctl_err(400, "unknown org %r (POST /_cloud/github/repos "
                       "first)" % org)
    if not name or _find_group(org, name):
        raise _ctl_err(400, "runner group name %r empty or taken" % name)
    if vis not in ("all", "selected", "private"):
        raise _ctl_err(400, "visibility: all, selected or private")
    g = {"id": _S["next_group_id"], "name": name, "visibility": vis,
         "default": False, "allows_public_repositories": False,
         "repositories": {"%s/%s" % (org, r) for r in
                          req.get("repositories") or []}}
    _S["next_group_id"] += 1
    _org_groups(org).append(g)
    return _group_public(g, API + "/orgs/%s" % org)


def _control_seed_runner(req, now):
    sc = req.get("repo"), req.get("org")
    if bool(sc[0]) == bool(sc[1]):
        raise _ctl_err(400, "exactly one of repo, org")
    kind, scope = ("repo", sc[0]) if sc[0] else ("org", sc[1])
    labels = [_label_obj(lb, "read-only") for lb in DEFAULT_LABELS] \
        if req.get("default_labels", False) else []
    labels += [_label_obj(str(lb), "custom") for lb in req.get("labels", [])]
    r = _new_runner(kind, scope, str(req.get("name") or "seeded-%d" %
                                     _S["next_runner_id"]), labels, now,
                    ephemeral=req.get("ephemeral"))
    if req.get("group"):
        g = _find_group(scope, req["group"]) if kind == "org" else None
        if g is None:
            raise _ctl_err(400, "no runner group %r" % req["group"])
        r["group_id"] = g["id"]
    r["pinned_status"] = req.get("status", "offline")
    r["pinned_busy"] = bool(req.get("busy", False))
    return _runner_control(r, now)


def _control_job(req, now):
    repo = req.get("repo")
    if repo not in _S["repos"]:
        raise _ctl_err(400, "unknown repo %r (POST /_cloud/github/repos "
                       "first)" % repo)
    labels = req.get("labels")
    if not isinstance(labels, list) or not labels:
        raise _ctl_err(400, "labels: non-empty list required")
    script = req.get("script")
    if not isinstance(script, str):
        raise _ctl_err(400, "script: string required")
    env = req.get("env") or {}
    jid = _S["next_job_id"]
    _S["next_job_id"] += 1
    _S["jobs"][jid] = {
        "id": jid, "repo": repo, "labels": [str(x) for x in labels],
        "script": script, "env": {str(k): str(v) for k, v in env.items()},
        "run_id": str(req.get("run_id") or labels[0]),
        "status": "queued", "conclusion": None, "runner_name": None,
        "runner_id": None, "output": "", "created_at": now,
        "started_at": None, "completed_at": None}
    return _job_public(_S["jobs"][jid])
