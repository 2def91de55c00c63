"""Jobs: which runner may take a queued job, how a job ends, and what the
control API shows of it.
"""

from .common import setting
from .groups import group_sees, org_groups


def finish_job(j, conclusion, output, now):
    j["status"] = "completed"
    j["conclusion"] = conclusion
    j["output"] = output[-int(setting("max_output")):]
    j["completed_at"] = now


def job_public(j):
    return {k: j[k] for k in ("id", "repo", "labels", "script", "status",
                              "conclusion", "runner_name", "runner_id",
                              "output", "created_at", "started_at",
                              "completed_at", "run_id")}


def runner_matches(r, j):
    if r["scope_kind"] == "repo":
        if r["scope"] != j["repo"]:
            return False
    elif j["repo"].split("/", 1)[0] != r["scope"]:
        return False
    else:
        # an organization's runner serves only the repositories its group
        # lets use it ("Managing access to self-hosted runners using
        # groups"): a job of another stays queued
        g = [x for x in org_groups(r["scope"])
             if x["id"] == r.get("group_id", 1)]
        if not g or not group_sees(r["scope"], g[0],
                                   j["repo"].split("/", 1)[1]):
            return False
    have = {lb["name"].lower() for lb in r["labels"]}
    return all(lb.lower() in have for lb in j["labels"])
