"""Runners (online, busy, their labels), as the REST API and the control
API show them, and the registration and remove tokens that admit them.
"""

import secrets
import string

from .common import S, iso_ms, rand, setting
from .groups import group_name
from .jobs import finish_job


def label_obj(name, kind):
    key = name.lower()
    lid = S["labels"].get(key)
    if lid is None:
        lid = S["next_label_id"]
        S["next_label_id"] += 1
        S["labels"][key] = lid
    return {"id": lid, "name": name, "type": kind}


def _runner_online(r, now):
    if r.get("pinned_status"):
        return r["pinned_status"] == "online"
    if r["stopped"]:
        return False
    return now - r["last_poll"] <= float(setting("offline_after_s"))


def sweep(now):
    """Fail jobs of runners that lost contact (real: 'lost communication')."""
    for r in S["runners"].values():
        if r["job"] is not None and not _runner_online(r, now):
            j = S["jobs"].get(r["job"])
            if j and j["status"] == "in_progress":
                finish_job(j, "failure",
                           j["output"] + "The self-hosted runner: %s lost "
                           "communication with the server.\n" % r["name"],
                           now)
            r["job"] = None


def runner_public(r, now):
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


def runner_control(r, now):
    d = runner_public(r, now)
    d["scope"] = r["scope"]
    d["scope_kind"] = r["scope_kind"]
    d["last_poll"] = r["last_poll"]
    d["job"] = r["job"]
    d["created_at"] = r["created_at"]
    d["version"] = r.get("version")
    d["runner_group"] = group_name(r)
    return d


def scope_runners(kind, scope):
    return sorted((r for r in S["runners"].values()
                   if r["scope_kind"] == kind and r["scope"] == scope),
                  key=lambda r: r["id"])


def new_runner(kind, scope, name, labels, now, ephemeral=False,
               os_="Linux"):
    rid = S["next_runner_id"]
    S["next_runner_id"] += 1
    cred = "rc_" + secrets.token_hex(20)
    r = {
        "id": rid, "name": name, "os": os_, "scope_kind": kind,
        "scope": scope, "labels": labels, "ephemeral": bool(ephemeral),
        "last_poll": 0.0, "stopped": True, "job": None, "cred": cred,
        "created_at": now,
    }
    S["runners"][rid] = r
    S["creds"][cred] = rid
    return r


def delete_runner(r):
    S["runners"].pop(r["id"], None)
    S["creds"].pop(r["cred"], None)


def issue_regtoken(kind, scope, purpose, now):
    tok = rand(string.ascii_uppercase + string.digits, 29)
    exp = now + float(setting("registration_token_ttl_s"))
    S["regtokens"][tok] = {"scope_kind": kind, "scope": scope,
                           "purpose": purpose, "expires_at": exp,
                           "issued_at": now}
    return {"token": tok, "expires_at": iso_ms(exp)}
