"""The runner's releases (actions/runner): the REST release endpoints and
the tarball download under /actions/runner/releases/download/.
"""

import releases

from .common import (
    API, gh_error, hget, json_reply, lock, paging, served_releases, setting,
    tampered)
from .api import SEG_TAG, route


def _release_json(r, api, web):
    return releases.release_json(r, api, web,
                                 bool(setting("runner_notes_checksums")),
                                 bool(setting("runner_asset_digests")))


def _release_bases(ctx, headers):
    host = hget(headers, "Host") or "127.0.0.1:%s" % ctx.port
    return "http://%s%s" % (host, API), "http://%s" % host


@route("GET", "/repos/actions/runner/releases/latest",
       "repos/get-latest-release")
def _latest_release(ctx, auth, now, query, headers, body):
    r = releases.latest(served_releases())
    if r is None:
        raise gh_error(404, "Not Found")
    return 200, _release_json(r, *_release_bases(ctx, headers)), None


@route("GET", "/repos/actions/runner/releases/tags/" + SEG_TAG,
       "repos/get-release-by-tag")
def _release_by_tag(ctx, auth, now, query, headers, body, tag):
    r = releases.find(served_releases(), tag[1:]) if tag.startswith("v") \
        else None
    if r is None:
        raise gh_error(404, "Not Found")
    return 200, _release_json(r, *_release_bases(ctx, headers)), None


@route("GET", "/repos/actions/runner/releases", "repos/list-releases")
def _list_releases(ctx, auth, now, query, headers, body):
    per_page, page = paging(query)
    rs = [r for r in served_releases() if not r["draft"]]
    last = max(1, (len(rs) + per_page - 1) // per_page)
    api, web = _release_bases(ctx, headers)

    def link(p, rel):
        return '<%s/repos/actions/runner/releases?per_page=%d&page=%d>; ' \
            'rel="%s"' % (api, per_page, p, rel)
    links = []
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links += [link(min(page - 1, last), "prev"), link(1, "first")]
    chunk = rs[(page - 1) * per_page:page * per_page]
    return 200, [_release_json(r, api, web) for r in chunk], \
        ({"Link": ", ".join(links)} if links else None)


def handle_download(ctx, method, path):
    m = releases.TARBALL_RE.match(path)
    status = 404
    resp = json_reply(404, {"error": "Not Found"})
    if m and method in ("GET", "HEAD") and m.group(1) == m.group(3):
        with lock:
            r = releases.find(served_releases(), m.group(1))
            bad = tampered(m.group(1), m.group(2))
        if r is not None:
            data = releases.tarball(m.group(1), m.group(2), bad)
            status = 200
            resp = (200, {"Content-Type": "application/octet-stream",
                          "Content-Length": str(len(data))},
                    b"" if method == "HEAD" else data)
    ctx.record({"service": "github", "action": "runner-download",
                "method": method, "path": path, "status": status,
                "auth_kind": "none"})
    return resp
