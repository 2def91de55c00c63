"""REST endpoints of an organization's runner groups.
"""

from .common import API, q1, stable_id
from .auth import require_org
from .groups import group_of, group_public, group_sees, org_groups
from .runners import runner_public, scope_runners, sweep
from .api import SEG, paged, route


@route("GET", "/orgs/%s/actions/runner-groups" % SEG,
       "actions/list-self-hosted-runner-groups-for-org")
def _list_groups(ctx, auth, now, query, headers, body, org):
    require_org(auth, org, "read")
    gs = org_groups(org)
    repo = q1(query, "visible_to_repository")
    if repo is not None:
        gs = [g for g in gs if group_sees(org, g, repo)]
    base = API + "/orgs/%s" % org
    return paged(ctx, headers, query, "/orgs/%s/actions/runner-groups" %
                 org, "runner_groups", [group_public(g, base) for g in gs])


@route("GET", r"/orgs/%s/actions/runner-groups/([0-9]+)" % SEG,
       "actions/get-self-hosted-runner-group-for-org")
def _get_group(ctx, auth, now, query, headers, body, org, gid):
    require_org(auth, org, "read")
    return 200, group_public(group_of(org, gid), API + "/orgs/%s" % org), \
        None


@route("GET", r"/orgs/%s/actions/runner-groups/([0-9]+)/repositories" %
       SEG, "actions/list-repo-access-to-self-hosted-runner-group-in-org")
def _group_repos(ctx, auth, now, query, headers, body, org, gid):
    require_org(auth, org, "read")
    g = group_of(org, gid)
    items = [{"id": stable_id(full), "name": full.split("/", 1)[1],
              "full_name": full, "private": True}
             for full in sorted(g["repositories"])]
    return paged(ctx, headers, query, "/orgs/%s/actions/runner-groups/%s/"
                 "repositories" % (org, gid), "repositories", items)


@route("GET", r"/orgs/%s/actions/runner-groups/([0-9]+)/runners" % SEG,
       "actions/list-self-hosted-runners-in-group-for-org")
def _group_runners(ctx, auth, now, query, headers, body, org, gid):
    require_org(auth, org, "read")
    sweep(now)
    g = group_of(org, gid)
    rs = [runner_public(r, now) for r in scope_runners("org", org)
          if r.get("group_id", 1) == g["id"]]
    return paged(ctx, headers, query, "/orgs/%s/actions/runner-groups/%s/"
                 "runners" % (org, gid), "runners", rs)
