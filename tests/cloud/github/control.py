"""The control API under /_cloud/github/ (JSON in and out): tests register
tokens, repositories, apps, runner groups and jobs, change settings, and
read back runners, jobs and registration tokens.
"""

import hashlib
import json
import re

import releases

from .common import (
    API, DEFAULT_INSTALL_PERMS, DEFAULT_LABELS, S, Reply, ctx_now, json_reply,
    lock, q1, reset, served_releases, tampered)
from .jwt import parse_rsa_public_key
from .groups import find_group, group_public, org_groups
from .jobs import job_public
from .runners import (
    delete_runner, label_obj, new_runner, runner_control, sweep)


def _ctl_err(status, msg):
    return Reply(status, {"error": msg})


def handle_control(ctx, method, path, query, body):
    sub = path[len("/_cloud/github"):].strip("/")
    now = ctx_now(ctx)
    try:
        try:
            req = json.loads(body.decode() or "{}") if body else {}
        except (ValueError, UnicodeDecodeError):
            raise _ctl_err(400, "body is not JSON")
        with lock:
            status, obj = _control(ctx, method, sub, query, req, now)
    except Reply as e:
        status, obj = e.status, e.body
    return json_reply(status, obj)


def _token_entry(t, now):
    tok = t.get("token")
    if not isinstance(tok, str) or not tok:
        raise _ctl_err(400, "token: string required")
    kind = t.get("kind") or ("fine-grained" if tok.startswith("github_pat_")
                             else "classic")
    if kind not in ("classic", "fine-grained"):
        raise _ctl_err(400, "kind: classic or fine-grained")
    old = S["tokens"].get(tok, {})
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
    S["tokens"][tok] = ent
    return {"kind": kind, "fingerprint": ent["fp"]}


def _control(ctx, method, sub, query, req, now):
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
        sweep(now)
        return 200, {"runners": [runner_control(r, now) for r in
                                 sorted(S["runners"].values(),
                                        key=lambda r: r["id"])]}
    if sub == "runners" and method == "POST":
        return 201, _control_seed_runner(req, now)
    m = re.match(r"^runners/([0-9]+)$", sub)
    if m and method == "DELETE":
        r = S["runners"].get(int(m.group(1)))
        if r is None:
            raise _ctl_err(404, "no such runner")
        delete_runner(r)
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
        sweep(now)
        return 200, {"jobs": [job_public(j) for _, j in
                              sorted(S["jobs"].items())]}
    m = re.match(r"^jobs/([0-9]+)$", sub)
    if m and method == "GET":
        sweep(now)
        j = S["jobs"].get(int(m.group(1)))
        if j is None:
            raise _ctl_err(404, "no such job")
        return 200, job_public(j)
    if sub == "runner-tarball" and method == "GET":
        rs = served_releases()
        latest = releases.latest(rs)
        v = q1(query, "version", latest["version"] if latest else "")
        arch = q1(query, "arch", "x64")
        if releases.find(rs, v) is None or arch not in releases.ARCHES:
            raise _ctl_err(404, "version not served")
        data = releases.tarball(v, arch, tampered(v, arch))
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
    S["apps"][aid] = {"app_id": aid, "n": n, "e": e}
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
        S["installations"][iid] = {
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
    if org not in S["orgs"]:
        raise _ctl_err(400, "unknown org %r (POST /_cloud/github/repos "
                       "first)" % org)
    if not name or find_group(org, name):
        raise _ctl_err(400, "runner group name %r empty or taken" % name)
    if vis not in ("all", "selected", "private"):
        raise _ctl_err(400, "visibility: all, selected or private")
    g = {"id": S["next_group_id"], "name": name, "visibility": vis,
         "default": False, "allows_public_repositories": False,
         "repositories": {"%s/%s" % (org, r) for r in
                          req.get("repositories") or []}}
    S["next_group_id"] += 1
    org_groups(org).append(g)
    return group_public(g, API + "/orgs/%s" % org)


def _control_seed_runner(req, now):
    sc = req.get("repo"), req.get("org")
    if bool(sc[0]) == bool(sc[1]):
        raise _ctl_err(400, "exactly one of repo, org")
    kind, scope = ("repo", sc[0]) if sc[0] else ("org", sc[1])
    labels = [label_obj(lb, "read-only") for lb in DEFAULT_LABELS] \
        if req.get("default_labels", False) else []
    labels += [label_obj(str(lb), "custom") for lb in req.get("labels", [])]
    r = new_runner(kind, scope, str(req.get("name") or "seeded-%d" %
                                    S["next_runner_id"]), labels, now,
                   ephemeral=req.get("ephemeral"))
    if req.get("group"):
        g = find_group(scope, req["group"]) if kind == "org" else None
        if g is None:
            raise _ctl_err(400, "no runner group %r" % req["group"])
        r["group_id"] = g["id"]
    r["pinned_status"] = req.get("status", "offline")
    r["pinned_busy"] = bool(req.get("busy", False))
    return runner_control(r, now)


def _control_job(req, now):
    repo = req.get("repo")
    if repo not in S["repos"]:
        raise _ctl_err(400, "unknown repo %r (POST /_cloud/github/repos "
                       "first)" % repo)
    labels = req.get("labels")
    if not isinstance(labels, list) or not labels:
        raise _ctl_err(400, "labels: non-empty list required")
    script = req.get("script")
    if not isinstance(script, str):
        raise _ctl_err(400, "script: string required")
    env = req.get("env") or {}
    jid = S["next_job_id"]
    S["next_job_id"] += 1
    S["jobs"][jid] = {
        "id": jid, "repo": repo, "labels": [str(x) for x in labels],
        "script": script, "env": {str(k): str(v) for k, v in env.items()},
        "run_id": str(req.get("run_id") or labels[0]),
        "status": "queued", "conclusion": None, "runner_name": None,
        "runner_id": None, "output": "", "created_at": now,
        "started_at": None, "completed_at": None}
    return job_public(S["jobs"][jid])
