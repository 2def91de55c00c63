"""The protocol of the stand-in runner (tests/cloud/runner) under
/_runner/: register and remove with a registration or remove token, then
poll for jobs, complete them and go offline with the runner credential.
"""

import urllib.parse

import releases

from .common import (
    DEFAULT_LABELS, S, Reply, ctx_now, hget, json_reply, lock, parse_body,
    served_releases, setting)
from .groups import default_group, find_group, org_groups
from .jobs import finish_job, runner_matches
from .runners import delete_runner, label_obj, new_runner, scope_runners, sweep


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


def handle_runner(ctx, method, path, query, headers, body):
    now = ctx_now(ctx)
    action = path[len("/_runner/"):].split("/")[0] or "unknown"
    rec = {"service": "github", "action": "runner/" + action,
           "method": method, "path": path, "auth_kind": "none"}
    try:
        if method != "POST":
            raise _runner_err(405, "method not allowed")
        req = parse_body(body)
        auth = (hget(headers, "Authorization") or "").split(None, 1)
        scheme = auth[0] if auth else ""
        cred = auth[1].strip() if len(auth) == 2 else ""
        with lock:
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
                rid = S["creds"].get(cred)
                r = S["runners"].get(rid) if rid else None
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
    return json_reply(status, obj)


def _proto_register(now, token, req):
    sc = _parse_scope_url(str(req.get("url", "")))
    if sc is None:
        raise _runner_err(400, "Invalid configuration provided for url")
    t = S["regtokens"].get(token)
    if t is None or t["purpose"] != "register" or t["expires_at"] <= now:
        raise _runner_err(404, "Http response code: NotFound from 'POST "
                          "/actions/runner-registration'")
    if (t["scope_kind"], t["scope"]) != sc:
        raise _runner_err(404, "Http response code: NotFound from 'POST "
                          "/actions/runner-registration'")
    kind, scope = sc
    exists = scope in (S["repos"] if kind == "repo" else S["orgs"])
    if not exists:
        raise _runner_err(404, "Http response code: NotFound from 'POST "
                          "/actions/runner-registration'")
    version = str(req.get("version") or "")
    why = releases.register_refusal(version, setting("runner_min_version"))
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
        group = find_group(scope, want) if want else org_groups(scope)[0]
    else:
        group = default_group() if not want or \
            str(want).lower() == "default" else None
    if group is None:
        raise _runner_err(404, 'Could not find any self-hosted runner '
                          'group named "%s".' % want)
    labels = []
    seen = set()
    if not req.get("no_default_labels"):
        for lb in DEFAULT_LABELS:
            labels.append(label_obj(lb, "read-only"))
            seen.add(lb.lower())
    for lb in req.get("labels") or []:
        lb = str(lb).strip()
        if lb and lb.lower() not in seen:
            seen.add(lb.lower())
            labels.append(label_obj(lb, "custom"))
    if not labels:
        raise _runner_err(400, "Runner must have at least one label")
    for r in scope_runners(kind, scope):
        if r["name"].lower() == name.lower():
            if not req.get("replace"):
                raise _runner_err(409, "A runner exists with the same "
                                  "name")
            if r["job"] is not None:
                raise _runner_err(409, 'Runner "%s" is still running a '
                                  'job' % r["name"])
            delete_runner(r)
    r = new_runner(kind, scope, name, labels, now,
                   ephemeral=req.get("ephemeral"))
    r["version"] = version
    r["group_id"] = group["id"]
    return 201, {"id": r["id"], "name": r["name"], "credential": r["cred"],
                 "scope": scope, "scope_kind": kind,
                 "runner_group": {"id": group["id"], "name": group["name"]},
                 "labels": [lb["name"] for lb in labels]}


def _proto_remove(now, token, req):
    t = S["regtokens"].get(token)
    ok_purposes = {"remove"}
    if setting("remove_accepts_registration_token"):
        ok_purposes.add("register")
    if t is None or t["purpose"] not in ok_purposes or \
            t["expires_at"] <= now:
        raise _runner_err(404, "Http response code: NotFound from 'POST "
                          "/actions/runner-registration'")
    try:
        rid = int(req.get("id"))
    except (TypeError, ValueError):
        raise _runner_err(400, "missing runner id")
    r = S["runners"].get(rid)
    if r is None:
        # already gone on the server: the real runner still cleans up
        return 200, {"removed": False}
    if (t["scope_kind"], t["scope"]) != (r["scope_kind"], r["scope"]):
        raise _runner_err(403, "The remove token does not match the "
                          "runner's repository or organization")
    if r["job"] is not None:
        raise _runner_err(422, 'Runner "%s" is still running a job' %
                          r["name"])
    delete_runner(r)
    return 200, {"removed": True}


def _proto_poll(now, r, req):
    version = str(req.get("version") or r.get("version") or "")
    why = releases.jobs_refusal(served_releases(), version, now,
                                float(setting("runner_superseded_days")))
    if why:
        raise _runner_err(403, why)
    r["version"] = version
    r["last_poll"] = now
    r["stopped"] = False
    sweep(now)
    if r["job"] is not None:
        j = S["jobs"].get(r["job"])
        if j and j["status"] == "in_progress":
            return 200, {"job": None, "running": j["id"]}
        r["job"] = None
    if req.get("accept_jobs", True):
        for jid in sorted(S["jobs"]):
            j = S["jobs"][jid]
            if j["status"] == "queued" and runner_matches(r, j):
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
    j = S["jobs"].get(jid)
    if j is None or j["runner_id"] != r["id"]:
        raise _runner_err(404, "job not assigned to this runner")
    if j["status"] == "in_progress":
        concl = req.get("conclusion")
        if concl not in ("success", "failure", "cancelled"):
            concl = "failure"
        finish_job(j, concl, str(req.get("output", "")), now)
    if r["job"] == jid:
        r["job"] = None
    deleted = False
    if r["ephemeral"]:
        delete_runner(r)
        deleted = True
    return 200, {"deleted": deleted}


def _proto_offline(now, r, req):
    r["stopped"] = True
    if r["job"] is not None:
        j = S["jobs"].get(r["job"])
        if j and j["status"] == "in_progress":
            finish_job(j, "cancelled", str(req.get("output", "")) +
                       "The operation was canceled.\n", now)
        r["job"] = None
    return 200, {}
