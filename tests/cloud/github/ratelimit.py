"""The primary rate limit (x-ratelimit-* headers, 403 when spent) and the
faults a test injects into REST calls (5xx, secondary limit, ...).
"""

from .common import S, Reply, gh_error, setting


def ratelimit_headers(auth, now, consume=True):
    limit = int(setting("rate_limit")) if auth.kind != "none" else 60
    rl = S["ratelimit"]
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


def primary_limit(auth, rl):
    h = dict(rl)
    h["x-ratelimit-remaining"] = "0"
    return Reply(403, {
        "message": "API rate limit exceeded for %s. If you reach out to "
                   "GitHub Support for help, please include the request "
                   "ID." % auth.identity.split(":")[0],
        "documentation_url": "https://docs.github.com/rest/overview/"
                             "rate-limits-for-the-rest-api#about-primary-"
                             "rate-limits"}, h)


def apply_fault(fault, auth, now):
    kind = fault.get("kind")
    if kind == "5xx":
        raise gh_error(int(fault.get("status", 502)), "Server Error")
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
        rl, _ = ratelimit_headers(auth, now, consume=False)
        rl["x-ratelimit-reset"] = str(int(now + float(
            fault.get("reset_in", 2))))
        rl["x-ratelimit-used"] = rl["x-ratelimit-limit"]
        raise primary_limit(auth, rl)
    if kind in ("expired", "revoked"):
        raise gh_error(401, "Bad credentials")
    if kind == "notfound":
        raise gh_error(404, "Not Found")
