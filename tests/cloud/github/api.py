"""The REST API's front door: the route table the api_* modules fill,
the checks every request passes (User-Agent, X-GitHub-Api-Version,
Accept, credentials, rate limit, injected faults), and pagination.
"""

import re
import secrets
import time
import urllib.parse

from .common import (
    ACCEPT, API, API_VERSION, S, Reply, ctx_now, gh_error, hget, json_reply,
    lock, paging, parse_body)
from .auth import authenticate
from .ratelimit import apply_fault, primary_limit, ratelimit_headers


# REST routes: (method, regex, operation id, handler name)
_ROUTES = []


def route(method, pattern, op):
    def deco(fn):
        _ROUTES.append((method, re.compile("^" + pattern + "$"), op, fn))
        return fn
    return deco


SEG = r"([A-Za-z0-9_.-]+)"
SEG_TAG = r"([^/]+)"


def handle_api(ctx, method, sub, query, headers, body):
    now = ctx_now(ctx)
    ua = hget(headers, "User-Agent")
    accept = hget(headers, "Accept") or ""
    apiver = hget(headers, "X-GitHub-Api-Version")
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
            raise gh_error(400, "API version '%s' is not supported." %
                           apiver)
        if apiver is None:
            # deliberate strictness, see GITHUB.md
            raise gh_error(400, "local cloud: missing X-GitHub-Api-Version"
                           ": %s header" % API_VERSION)
        if not rec["accept_ok"]:
            raise gh_error(400, "local cloud: Accept header must include "
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
        with lock:
            auth = None
            try:
                auth = authenticate(ctx, headers, now)
            finally:
                rec["auth_kind"] = auth.kind if auth else "invalid"
            if fault:
                apply_fault(fault, auth, now)
            extra, exhausted = ratelimit_headers(auth, now)
            if exhausted and auth.kind != "jwt":
                raise primary_limit(auth, extra)
            if fn is None:
                raise gh_error(404, "Not Found")
            status, obj, more = fn(ctx, auth, now, query, headers,
                                   parse_body(body) if method in
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
    return json_reply(status, obj, extra)


def _oauth_headers(headers):
    raw = hget(headers, "Authorization") or ""
    tok = raw.split(None, 1)[1].strip() if len(raw.split(None, 1)) == 2 \
        else ""
    with lock:
        t = S["tokens"].get(tok)
    if t and t["kind"] == "classic":
        return {"X-OAuth-Scopes": ", ".join(t["scopes"])}
    return None


def paged(ctx, headers, query, path, member, items):
    """GitHub's pagination of items: (status, body, headers with Link)."""
    per_page, page = paging(query)
    total = len(items)
    chunk = items[(page - 1) * per_page:page * per_page]
    last = max(1, (total + per_page - 1) // per_page)
    host = hget(headers, "Host") or "127.0.0.1:%s" % ctx.port
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
