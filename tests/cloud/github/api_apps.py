"""REST endpoints of GitHub Apps: the app, its installations, and
installation access tokens.
"""

import string

from .common import API, S, gh_error, iso, rand, setting, stable_id
from .jwt import verify_jwt
from .auth import install_sees, level_ok
from .api import SEG, route


def _require_jwt(auth, now):
    if auth.kind != "jwt":
        raise gh_error(401, "A JSON web token could not be decoded")
    return verify_jwt(auth.token, now)


def _installation_public(inst, ctx):
    acct = inst["account"]
    base = "http://127.0.0.1:%s%s" % (ctx.port, API)
    is_org = acct in S["orgs"]
    return {
        "id": inst["id"],
        "account": {"login": acct, "id": stable_id(acct),
                    "type": "Organization" if is_org else "User"},
        "repository_selection": "all" if inst["repositories"] is None
        else "selected",
        "access_tokens_url": "%s/app/installations/%d/access_tokens" % (
            base, inst["id"]),
        "repositories_url": base + "/installation/repositories",
        "app_id": int(inst["app_id"]) if inst["app_id"].isdigit()
        else inst["app_id"],
        "app_slug": "app-%s" % inst["app_id"],
        "target_id": stable_id(acct),
        "target_type": "Organization" if is_org else "User",
        "permissions": dict(inst["permissions"]),
        "events": [],
        "created_at": iso(inst["created_at"]),
        "updated_at": iso(inst["created_at"]),
        "single_file_name": None,
        "suspended_at": None,
    }


@route("GET", "/app", "apps/get-authenticated")
def _get_app(ctx, auth, now, query, headers, body):
    app = _require_jwt(auth, now)
    aid = app["app_id"]
    return 200, {"id": int(aid) if aid.isdigit() else aid,
                 "slug": "app-%s" % aid, "name": "app-%s" % aid}, None


def _find_install(app, pred):
    for inst in S["installations"].values():
        if inst["app_id"] == app["app_id"] and pred(inst):
            return inst
    return None


@route("GET", "/repos/%s/%s/installation" % (SEG, SEG),
       "apps/get-repo-installation")
def _repo_installation(ctx, auth, now, query, headers, body, owner, repo):
    app = _require_jwt(auth, now)
    full = "%s/%s" % (owner, repo)
    inst = _find_install(app, lambda i: full in S["repos"]
                         and install_sees(i, full))
    if inst is None:
        raise gh_error(404, "Not Found")
    return 200, _installation_public(inst, ctx), None


@route("GET", "/orgs/%s/installation" % SEG, "apps/get-org-installation")
def _org_installation(ctx, auth, now, query, headers, body, org):
    app = _require_jwt(auth, now)
    inst = _find_install(app, lambda i: org in S["orgs"]
                         and i["account"] == org)
    if inst is None:
        raise gh_error(404, "Not Found")
    return 200, _installation_public(inst, ctx), None


@route("POST", r"/app/installations/([0-9]+)/access_tokens",
       "apps/create-installation-access-token")
def _access_token(ctx, auth, now, query, headers, body, iid):
    app = _require_jwt(auth, now)
    inst = S["installations"].get(int(iid))
    if inst is None or inst["app_id"] != app["app_id"]:
        raise gh_error(404, "Not Found")
    perms = dict(inst["permissions"])
    if isinstance(body.get("permissions"), dict):
        want = body["permissions"]
        for k, v in want.items():
            if not level_ok(perms.get(k), v if v in ("read", "write")
                            else "admin"):
                raise gh_error(422, "The permissions requested are not "
                               "granted to this installation.")
        perms = dict(want)
    repos = inst["repositories"]
    names = body.get("repositories")
    if isinstance(names, list) and names:
        chosen = []
        for n in names:
            full = "%s/%s" % (inst["account"], n) if "/" not in str(n) \
                else str(n)
            if full not in S["repos"] or not install_sees(inst, full):
                raise gh_error(422, "There is at least one repository "
                               "that does not exist or is not accessible "
                               "to the parent installation.")
            chosen.append(full)
        repos = chosen
    tok = "ghs_" + rand(string.ascii_letters + string.digits, 36)
    exp = now + float(setting("installation_token_ttl_s"))
    S["ghs"][tok] = {"installation": inst["id"], "account":
                     inst["account"], "repositories": repos,
                     "permissions": perms, "expires_at": exp,
                     "revoked": False}
    return 201, {"token": tok, "expires_at": iso(exp),
                 "permissions": perms,
                 "repository_selection": "all" if repos is None
                 else "selected"}, None
