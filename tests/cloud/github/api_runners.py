"""REST endpoints of self-hosted runners, for repositories and
organizations: registration and remove tokens, list, get, delete.
"""

from .common import S, gh_error, q1
from .auth import require_org, require_repo
from .runners import (
    delete_runner, issue_regtoken, runner_public, scope_runners, sweep)
from .api import SEG, paged, route


def _scope_args(kind, a, b=None):
    return ("repo", "%s/%s" % (a, b)) if kind == "repo" else ("org", a)


def _check_scope(auth, kind, parts, need):
    if kind == "repo":
        require_repo(auth, parts[0], parts[1], need)
    else:
        require_org(auth, parts[0], need)


def _make_runner_routes(kind, prefix, nparts):
    def regtoken(ctx, auth, now, query, headers, body, *parts):
        _check_scope(auth, kind, parts, "write")
        return 201, issue_regtoken(kind, _scope_args(kind, *parts)[1],
                                   "register", now), None

    def removetoken(ctx, auth, now, query, headers, body, *parts):
        _check_scope(auth, kind, parts, "write")
        return 201, issue_regtoken(kind, _scope_args(kind, *parts)[1],
                                   "remove", now), None

    def listr(ctx, auth, now, query, headers, body, *parts):
        _check_scope(auth, kind, parts, "read")
        sweep(now)
        rs = scope_runners(kind, _scope_args(kind, *parts)[1])
        name = q1(query, "name")
        if name is not None:
            rs = [r for r in rs if r["name"] == name]
        st, body, hdrs = paged(ctx, headers, query, suffix_path(parts),
                               "runners", rs)
        body["runners"] = [runner_public(r, now) for r in body["runners"]]
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
            raise gh_error(404, "Not Found")
        r = S["runners"].get(rid)
        if r is None or r["scope_kind"] != kid or r["scope"] != scope:
            raise gh_error(404, "Not Found")
        return r

    def getr(ctx, auth, now, query, headers, body, *parts):
        _check_scope(auth, kind, parts, "read")
        sweep(now)
        return 200, runner_public(find(parts), now), None

    def delr(ctx, auth, now, query, headers, body, *parts):
        _check_scope(auth, kind, parts, "write")
        sweep(now)
        r = find(parts)
        if r["job"] is not None or r.get("pinned_busy"):
            raise gh_error(422, 'Bad request - Runner "%s" is still '
                           'running a job"' % r["name"])
        delete_runner(r)
        return 204, None, None

    sfx = "-for-" + ("repo" if kind == "repo" else "org")
    frm = "-from-" + ("repo" if kind == "repo" else "org")
    route("POST", prefix + "/actions/runners/registration-token",
          "actions/create-registration-token" + sfx)(regtoken)
    route("POST", prefix + "/actions/runners/remove-token",
          "actions/create-remove-token" + sfx)(removetoken)
    route("GET", prefix + "/actions/runners",
          "actions/list-self-hosted-runners" + sfx)(listr)
    route("GET", prefix + r"/actions/runners/([0-9]+)",
          "actions/get-self-hosted-runner" + sfx)(getr)
    route("DELETE", prefix + r"/actions/runners/([0-9]+)",
          "actions/delete-self-hosted-runner" + frm)(delr)


_make_runner_routes("repo", "/repos/%s/%s" % (SEG, SEG), 2)
_make_runner_routes("org", "/orgs/%s" % SEG, 1)
