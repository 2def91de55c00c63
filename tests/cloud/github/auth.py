"""Who a REST request is (none, classic or fine-grained PAT, installation
token, app JWT) and whether it may read or write a repository's or an
organization's runners.
"""

from .common import S, gh_error, hget
from .jwt import looks_like_jwt


class Auth:
    def __init__(self, kind, token=None, info=None, identity=None):
        self.kind = kind          # none classic fine-grained installation jwt
        self.token = token
        self.info = info or {}
        self.identity = identity or kind

    @property
    def who(self):
        return ("integration" if self.kind == "installation"
                else "personal access token")


def authenticate(ctx, headers, now):
    raw = hget(headers, "Authorization")
    if not raw:
        return Auth("none", identity="anonymous")
    parts = raw.strip().split(None, 1)
    if len(parts) != 2 or parts[0].lower() not in ("bearer", "token"):
        raise gh_error(401, "Bad credentials")
    tok = parts[1].strip()
    if looks_like_jwt(tok):
        return Auth("jwt", tok, identity="jwt")
    if tok.startswith("ghs_"):
        it = S["ghs"].get(tok)
        if it is None or it["revoked"] or it["expires_at"] <= now:
            raise gh_error(401, "Bad credentials")
        return Auth("installation", tok, it,
                    identity="installation:%d" % it["installation"])
    t = S["tokens"].get(tok)
    if t is None or t.get("revoked") or \
            (t.get("expires_at") is not None and t["expires_at"] <= now):
        raise gh_error(401, "Bad credentials")
    return Auth(t["kind"], tok, t, identity="token:" + t["fp"])


def level_ok(have, need):
    order = {"read": 1, "write": 2, "admin": 3}
    return order.get(have or "", 0) >= order[need]


def _require(auth, exists, need, scope, perm, granted, sees):
    """The checks GitHub makes of a runner call, the same for a repository
    and an organization: exists, whether it does; need, read|write; scope,
    the classic token scope; perm, the permission a fine-grained token or
    an installation needs; granted(info), a fine-grained token's
    permissions on it (None: not granted); sees(info), whether an
    installation token reaches it."""
    if auth.kind == "none":
        if not exists:
            raise gh_error(404, "Not Found")
        raise gh_error(401, "Requires authentication")
    if auth.kind == "jwt":
        raise gh_error(403, "Resource not accessible by integration")
    if not exists:
        raise gh_error(404, "Not Found")
    if auth.kind == "classic":
        if scope not in auth.info["scopes"]:
            raise gh_error(403, "Resource not accessible by personal "
                           "access token")
        return
    if auth.kind == "fine-grained":
        perms = granted(auth.info)
        if perms is None:
            raise gh_error(404, "Not Found")
        if not level_ok(perms.get(perm), need):
            raise gh_error(403, "Resource not accessible by personal "
                           "access token")
        return
    if auth.kind == "installation":
        if not sees(auth.info):
            raise gh_error(404, "Not Found")
        if not level_ok(auth.info["permissions"].get(perm), need):
            raise gh_error(403, "Resource not accessible by integration")
        return
    raise gh_error(401, "Bad credentials")


def require_repo(auth, owner, repo, need):
    """Check that auth may act on repo's runners; need is read|write."""
    full = "%s/%s" % (owner, repo)
    _require(auth, full in S["repos"], need, "repo", "administration",
             lambda info: info["permissions"].get(full),
             lambda info: install_sees(info, full))


def require_org(auth, org, need):
    """Check that auth may act on org's runners; need is read|write."""
    _require(auth, org in S["orgs"], need, "admin:org",
             "organization_self_hosted_runners",
             lambda info: info["orgs"].get(org),
             lambda info: info["account"] == org)


def install_sees(info, full):
    if info["repositories"] is None:
        return full.split("/", 1)[0] == info["account"]
    return full in info["repositories"]
