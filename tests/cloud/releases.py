"""The actions/runner releases of the GitHub double (standard library only).

What github.com does, and what this module makes the double do:

- Releases are served by the REST API as GitHub shapes them
  (GET /repos/actions/runner/releases/latest, /releases/tags/{tag},
  /releases?per_page&page): tag_name "vN.N.N", draft, prerelease,
  created_at, published_at, assets with browser_download_url and a
  "sha256:..." digest, and a body whose "SHA-256 Checksums" section carries
  one marker pair per package, as actions/runner's releaseNote.md template
  writes them:
      - actions-runner-linux-x64-V.tar.gz <!-- BEGIN SHA linux-x64 -->HEX<!-- END SHA linux-x64 -->
  ("latest" is the newest release that is neither draft nor prerelease.)
- Registration is refused below a minimum version (2.329.0 since 2026):
  config.sh gets a 404 from POST /actions/runner-registration with "Your
  runner version is out of date and can no longer register with GitHub.
  The minimum runner version required to register with GitHub Actions is
  now 2.329.0." (seen in the console output quoted in
  cert-manager/aws-privateca-issuer#478 and singnet/das#1287).
- A registered runner must install each new release within 30 days of its
  publication, or it gets no more jobs: its message poll is refused with
  "Runner version vX is deprecated and cannot receive messages." and the
  runner exits (actions/runner#4203, #3381; GitHub changelog 2026-06-12,
  "minimum version enforcement timeline for self-hosted runners").

The packages are tarballs of the stand-in runner (tests/cloud/runner/)
plus VERSION and ARCH files, deterministic for a (version, arch), so their
checksums are stable.  Nothing here talks to the network.
"""

import calendar
import gzip
import hashlib
import io
import os
import re
import tarfile
import threading
import time

RUNNER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "runner")
ARCHES = ("x64", "arm64", "arm")
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
TARBALL_RE = re.compile(r"^/actions/runner/releases/download/v([^/]+)/"
                        r"actions-runner-linux-(x64|arm64|arm)-([^/]+)"
                        r"\.tar\.gz$")
MIN_REGISTER = "2.329.0"
SUPERSEDED_DAYS = 30

# The releases the double serves by default: illustrative versions and
# dates (not GitHub's), chosen so that 2.319.1 (the project's old default)
# is below the registration minimum, 2.331.0 registers but has been
# superseded for far more than 30 days, and a prerelease newer than the
# latest exists (it is never "latest").
DEFAULT_RELEASES = [
    {"version": "2.319.1", "published_at": "2024-08-14T10:00:00Z"},
    {"version": "2.329.0", "published_at": "2025-10-15T10:00:00Z"},
    {"version": "2.331.0", "published_at": "2026-01-15T10:00:00Z"},
    {"version": "2.337.0", "published_at": "2026-09-10T10:00:00Z"},
    {"version": "2.338.0", "published_at": "2026-10-21T10:00:00Z"},
    {"version": "2.339.0", "published_at": "2026-11-20T10:00:00Z",
     "prerelease": True},
]


def vkey(v):
    """'2.330.1' -> (2, 330, 1); None when not N.N.N."""
    if not isinstance(v, str) or not VERSION_RE.match(v):
        return None
    return tuple(int(x) for x in v.split("."))


def parse_time(s):
    """ISO 8601 'YYYY-MM-DDTHH:MM:SSZ' or unix seconds -> unix seconds."""
    if isinstance(s, (int, float)) and not isinstance(s, bool):
        return float(s)
    return float(calendar.timegm(time.strptime(str(s),
                                               "%Y-%m-%dT%H:%M:%SZ")))


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def normalise(releases):
    """Check a releases setting; newest first, as GitHub lists them."""
    out = []
    for r in releases:
        if vkey(r.get("version")) is None:
            raise ValueError("release version %r is not N.N.N" %
                             r.get("version"))
        out.append({"version": r["version"],
                    "published_at": parse_time(r.get("published_at", 0)),
                    "prerelease": bool(r.get("prerelease")),
                    "draft": bool(r.get("draft"))})
    out.sort(key=lambda r: (r["published_at"], vkey(r["version"])),
             reverse=True)
    return out


def find(releases, version):
    for r in releases:
        if r["version"] == version and not r["draft"]:
            return r
    return None


def latest(releases):
    for r in releases:
        if not r["draft"] and not r["prerelease"]:
            return r
    return None


def superseded_since(releases, version):
    """When the first full release newer than version was published (the
    30 days run from then), or None while none is."""
    k = vkey(version)
    if k is None:
        return None
    newer = [r["published_at"] for r in releases
             if not r["draft"] and not r["prerelease"] and
             vkey(r["version"]) > k]
    return min(newer) if newer else None


def register_refusal(version, minimum):
    """The message config.sh gets for a version GitHub will not register,
    or None."""
    k, m = vkey(version), vkey(minimum)
    if m is None or (k is not None and k >= m):
        return None
    return ("Your runner version is out of date and can no longer register "
            "with GitHub. The minimum runner version required to register "
            "with GitHub Actions is now %s." % minimum)


def jobs_refusal(releases, version, now, days):
    """The message a runner's poll gets once its version has been
    superseded for more than `days` days, or None."""
    since = superseded_since(releases, version)
    if since is None or now - since <= days * 86400:
        return None
    return "Runner version v%s is deprecated and cannot receive messages." \
        % version


# ------------------------------------------------------------ packages

_tar_lock = threading.Lock()
_tar_cache = {}


def tarball(version, arch, tampered=False):
    """Deterministic tar.gz of the stand-in runner for (version, arch),
    with VERSION and ARCH files; tampered adds one file, so the bytes no
    longer match the published checksum."""
    names = []
    for root, dirs, files in os.walk(RUNNER_DIR):
        dirs[:] = sorted(d for d in dirs
                         if d not in ("__pycache__", "_work"))
        for f in sorted(files):
            if f.startswith(".") or f.endswith(".pyc"):
                continue
            names.append(os.path.join(root, f))
    sig = tuple((n, os.stat(n).st_mtime_ns, os.stat(n).st_size)
                for n in names)
    key = (version, arch, bool(tampered))
    with _tar_lock:
        hit = _tar_cache.get(key)
    if hit and hit[0] == sig:
        return hit[1]
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) \
            as tar:
        def add(arc, data, mode):
            ti = tarfile.TarInfo("./" + arc)
            ti.size, ti.mode, ti.mtime = len(data), mode, 0
            ti.uname = ti.gname = "runner"
            tar.addfile(ti, io.BytesIO(data))
        for n in names:
            with open(n, "rb") as fh:
                data = fh.read()
            mode = 0o755 if os.access(n, os.X_OK) else 0o644
            add(os.path.relpath(n, RUNNER_DIR), data, mode)
        add("VERSION", (version + "\n").encode(), 0o644)
        add("ARCH", (arch + "\n").encode(), 0o644)
        if tampered:
            add("bin/payload.sh", b"#!/bin/sh\necho pwned\n", 0o755)
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
        g.write(raw.getvalue())
    data = gz.getvalue()
    with _tar_lock:
        _tar_cache[key] = (sig, data)
    return data


def package_name(version, arch):
    return "actions-runner-linux-%s-%s.tar.gz" % (arch, version)


def sha256(version, arch):
    return hashlib.sha256(tarball(version, arch)).hexdigest()


# ------------------------------------------------------------ API shapes

def _release_id(version):
    a, b, c = vkey(version)
    return 100000000 + a * 1000000 + b * 1000 + c


def body(version, checksums=True):
    """Release notes shaped like actions/runner's releaseNote.md (without
    the checksum section when checksums is false)."""
    lines = ["## What's Changed",
             "* Local-cloud release v%s of the stand-in runner" % version,
             "", "## SHA-256 Checksums", "",
             "The SHA-256 checksums for the packages included in this "
             "build are shown below:", "",
             "- actions-runner-win-x64-%s.zip <!-- BEGIN SHA win-x64 -->%s"
             "<!-- END SHA win-x64 -->" % (
                 version, hashlib.sha256(b"win-x64" + version.encode())
                 .hexdigest()),
             "- actions-runner-osx-x64-%s.tar.gz <!-- BEGIN SHA osx-x64 -->"
             "%s<!-- END SHA osx-x64 -->" % (
                 version, hashlib.sha256(b"osx-x64" + version.encode())
                 .hexdigest())]
    if not checksums:
        lines = lines[:3]
    for arch in ARCHES if checksums else ():
        lines.append("- %s <!-- BEGIN SHA linux-%s -->%s<!-- END SHA "
                     "linux-%s -->" % (package_name(version, arch), arch,
                                       sha256(version, arch), arch))
    return "\r\n".join(lines) + "\r\n"


def release_json(r, base_api, base_web, notes=True, digests=True):
    v = r["version"]
    rid = _release_id(v)
    assets = []
    for i, arch in enumerate(ARCHES):
        name = package_name(v, arch)
        assets.append({
            "id": rid * 10 + i, "name": name, "label": "",
            "content_type": "application/octet-stream", "state": "uploaded",
            "size": len(tarball(v, arch)),
            "digest": ("sha256:" + sha256(v, arch)) if digests else None,
            "browser_download_url":
                "%s/actions/runner/releases/download/v%s/%s" % (
                    base_web, v, name)})
    return {
        "url": "%s/repos/actions/runner/releases/%d" % (base_api, rid),
        "html_url": "%s/actions/runner/releases/tag/v%s" % (base_web, v),
        "id": rid, "tag_name": "v" + v, "target_commitish": "main",
        "name": "v" + v, "draft": r["draft"], "prerelease": r["prerelease"],
        "created_at": iso(r["published_at"] - 600),
        "published_at": iso(r["published_at"]),
        "assets": assets, "body": body(v, notes)}
