"""Runner groups of organizations
(https://docs.github.com/en/rest/actions/self-hosted-runner-groups).

Every organization has the group "Default" (id 1, visibility "all", the
one a runner joins without --runnergroup); a repository's runners are
all in its Default group.  Visibility: "all" (every repository of the
organization), "selected" (the listed ones), "private" (private ones:
the double has no public repositories, so all of them).  Names are
matched case-insensitively, as the runner's config.sh matches them.
"""

from .common import S, gh_error


def default_group():
    return {"id": 1, "name": "Default", "visibility": "all",
            "default": True, "allows_public_repositories": False,
            "repositories": set()}


def org_groups(org):
    gs = S["groups"].get(org)
    if gs is None:
        gs = S["groups"][org] = [default_group()]
    return gs


def find_group(org, name):
    for g in org_groups(org):
        if g["name"].lower() == str(name).lower():
            return g
    return None


def group_name(r):
    if r["scope_kind"] != "org":
        return "Default"
    for g in org_groups(r["scope"]):
        if g["id"] == r.get("group_id", 1):
            return g["name"]
    return None


def group_sees(org, g, repo):
    """May repository repo (a name of org) use group g?"""
    full = "%s/%s" % (org, repo)
    if full not in S["repos"]:
        return False
    if g["visibility"] == "selected":
        return full in g["repositories"]
    return True


def group_public(g, base):
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


def group_of(org, gid):
    for g in org_groups(org):
        if str(g["id"]) == str(gid):
            return g
    raise gh_error(404, "Not Found")
