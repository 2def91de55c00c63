#!/usr/bin/env python3
"""Self-test of the GitHub double (the github package) and the stand-in runner.

Runs its own tiny ThreadingHTTPServer around github.handle(), so it needs
neither cloud.py nor the network beyond 127.0.0.1:

    python3 tests/cloud/github_selftest.py [-v] [Test.test_name]
"""

import base64
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import github  # noqa: E402

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Ctx:
    def __init__(self, state_dir):
        self.offset = 0.0
        self.faults = []
        self.calls = []
        self.state_dir = state_dir
        self.port = 0
        self.lock = threading.Lock()

    def now(self):
        return time.time() + self.offset

    def fault(self, service, action):
        with self.lock:
            for f in self.faults:
                if f["service"] == service and f["action"] in (action, "*") \
                        and f.get("count", 1) > 0:
                    f["count"] = f.get("count", 1) - 1
                    return dict(f)
        return None

    def record(self, call):
        with self.lock:
            self.calls.append(dict(call))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _any(self):
        u = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        # like cloud.py: raw query string, headers as a lower-cased dict
        res = github.handle(self.server.ctx, self.command, u.path, u.query,
                            {k.lower(): v for k, v in self.headers.items()},
                            body)
        if res == "reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if res is None:
            res = (404, {"Content-Type": "text/plain"}, b"not github\n")
        status, hdrs, data = res
        self.send_response(status)
        for k, v in hdrs.items():
            if k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = _any


def start_server(state_dir):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.ctx = Ctx(state_dir)
    srv.ctx.port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


STD = {"Accept": "application/vnd.github+json",
       "X-GitHub-Api-Version": "2022-11-28",
       "User-Agent": "github-selftest"}


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gh-selftest-")
        cls.srv = start_server(cls.tmp)
        cls.ctx = cls.srv.ctx
        cls.base = "http://127.0.0.1:%d" % cls.ctx.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.shutdown()
        cls.srv.server_close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        github.reset()
        self.ctx.offset = 0.0
        self.ctx.faults = []
        self.ctx.calls = []
        self.ctl("POST", "/repos", {"repos": ["acme/web", "acme/api",
                                             "solo/tool"],
                                    "orgs": ["acme"]})
        self.ctl("POST", "/tokens", {"tokens": [
            {"token": "ghp_classic", "scopes": ["repo", "admin:org"]},
            {"token": "ghp_noscope", "scopes": ["read:user"]},
            {"token": "github_pat_web", "kind": "fine-grained",
             "permissions": {"acme/web": {"administration": "write"},
                             "acme/api": {"administration": "read"}},
             "orgs": {"acme": {"organization_self_hosted_runners":
                               "write"}}},
        ]})

    # -- plumbing
    def http(self, method, path, body=None, headers=None, std=True):
        h = dict(STD) if std else {}
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else \
                json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.base + path, data=data,
                                     method=method, headers=h)
        try:
            with OPENER.open(req, timeout=20) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def api(self, method, path, token=None, body=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        st, hd, data = self.http(method, "/api/v3" + path, body, h)
        try:
            obj = json.loads(data) if data else None
        except ValueError:
            obj = data.decode()
        return st, hd, obj

    def ctl(self, method, path, body=None):
        st, _, data = self.http(method, "/_cloud/github" + path, body,
                                std=False)
        self.assertLess(st, 300, data)
        return json.loads(data) if data else None


class HeadersAndAuth(Base):
    def test_user_agent_required(self):
        c = http.client.HTTPConnection("127.0.0.1", self.ctx.port,
                                       timeout=10)
        c.putrequest("GET", "/api/v3/repos/acme/web/actions/runners",
                     skip_accept_encoding=True)
        for k in ("Accept", "X-GitHub-Api-Version"):
            c.putheader(k, STD[k])
        c.putheader("Authorization", "token ghp_classic")
        c.endheaders()
        r = c.getresponse()
        data = r.read()
        c.close()
        self.assertEqual(r.status, 403)
        self.assertTrue(data.startswith(b"Request forbidden by "
                                        b"administrative rules"))

    def test_user_agent_blank(self):
        st, hd, data = self.http("GET", "/api/v3/repos/acme/web/actions/"
                                 "runners", headers={
                                     "User-Agent": "",
                                     "Authorization": "token ghp_classic"})
        self.assertEqual(st, 403)
        self.assertIn(b"User-Agent", data)
        self.assertFalse(self.ctx.calls[-1]["user_agent_ok"])

    def test_api_version_and_accept_required(self):
        st, _, obj = self.api("GET", "/repos/acme/web/actions/runners",
                              "ghp_classic",
                              headers={"X-GitHub-Api-Version": None})
        self.assertEqual(st, 400)
        self.assertIn("X-GitHub-Api-Version", obj["message"])
        st, _, obj = self.api("GET", "/repos/acme/web/actions/runners",
                              "ghp_classic",
                              headers={"X-GitHub-Api-Version":
                                       "2099-01-01"})
        self.assertEqual(st, 400)
        st, _, obj = self.api("GET", "/repos/acme/web/actions/runners",
                              "ghp_classic", headers={"Accept": None})
        self.assertEqual(st, 400)
        self.assertFalse(self.ctx.calls[-1]["accept_ok"])
        st, hd, obj = self.api("GET", "/repos/acme/web/actions/runners",
                               "ghp_classic")
        self.assertEqual(st, 200)
        c = self.ctx.calls[-1]
        self.assertTrue(c["accept_ok"] and c["api_version_ok"])
        self.assertEqual(c["auth_kind"], "classic")
        self.assertEqual(c["action"],
                         "actions/list-self-hosted-runners-for-repo")
        self.assertNotIn("ghp_classic", json.dumps(self.ctx.calls))

    def test_token_scheme_and_bad_credentials(self):
        st, _, obj = self.api("POST", "/repos/acme/web/actions/runners/"
                              "registration-token")
        self.assertEqual((st, obj["message"]),
                         (401, "Requires authentication"))
        st, _, obj = self.api("GET", "/repos/acme/web/actions/runners",
                              headers={"Authorization": "token ghp_classic"})
        self.assertEqual(st, 200)
        st, _, obj = self.api("GET", "/repos/acme/web/actions/runners",
                              "ghp_unknown")
        self.assertEqual((st, obj["message"]), (401, "Bad credentials"))
        self.ctl("POST", "/tokens", {"token": "ghp_old", "scopes": ["repo"],
                                     "expires_at": time.time() - 1})
        self.ctl("POST", "/tokens", {"token": "ghp_gone", "scopes": ["repo"],
                                     "revoked": True})
        for t in ("ghp_old", "ghp_gone"):
            st, _, obj = self.api("GET", "/repos/acme/web/actions/runners",
                                  t)
            self.assertEqual((st, obj["message"]), (401, "Bad credentials"))

    def test_permissions(self):
        p = "/repos/acme/web/actions/runners/registration-token"
        st, _, obj = self.api("POST", p, "ghp_noscope")
        self.assertEqual((st, obj["message"]), (403, "Resource not "
                         "accessible by personal access token"))
        st, _, obj = self.api("POST", "/repos/acme/nope/actions/runners/"
                              "registration-token", "ghp_classic")
        self.assertEqual((st, obj["message"]), (404, "Not Found"))
        st, _, obj = self.api("POST", p, "github_pat_web")
        self.assertEqual(st, 201)
        st, _, obj = self.api("POST", "/repos/acme/api/actions/runners/"
                              "registration-token", "github_pat_web")
        self.assertEqual(st, 403)
        st, _, obj = self.api("GET", "/repos/acme/api/actions/runners",
                              "github_pat_web")
        self.assertEqual(st, 200)
        st, _, obj = self.api("POST", "/repos/solo/tool/actions/runners/"
                              "registration-token", "github_pat_web")
        self.assertEqual(st, 404)
        st, _, obj = self.api("POST", "/orgs/acme/actions/runners/"
                              "registration-token", "github_pat_web")
        self.assertEqual(st, 201)
        self.ctl("POST", "/tokens", {"token": "ghp_repoonly",
                                     "scopes": ["repo"]})
        st, _, obj = self.api("POST", "/orgs/acme/actions/runners/"
                              "registration-token", "ghp_repoonly")
        self.assertEqual(st, 403)
        st, _, obj = self.api("POST", "/orgs/nobody/actions/runners/"
                              "registration-token", "ghp_classic")
        self.assertEqual(st, 404)

    def test_registration_and_remove_token_shape(self):
        for kind in ("registration-token", "remove-token"):
            st, hd, obj = self.api("POST", "/repos/acme/web/actions/runners/"
                                   + kind, "ghp_classic")
            self.assertEqual(st, 201)
            self.assertRegex(obj["token"], r"^[A-Z0-9]{29}$")
            self.assertRegex(obj["expires_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:"
                             r"\d\d\.\d{3}\+00:00$")
            self.assertEqual(hd["x-ratelimit-limit"], "5000")
            self.assertEqual(hd["X-OAuth-Scopes"], "repo, admin:org")
        toks = self.ctl("GET", "/registration-tokens")["tokens"]
        self.assertEqual(sorted(t["purpose"] for t in toks),
                         ["register", "remove"])


class RunnersREST(Base):
    def seed(self, n, scope="acme/web", **kw):
        key = "repo" if "/" in scope else "org"
        return [self.ctl("POST", "/runners", dict(
            {key: scope, "name": "r%d" % i, "labels": ["x"]}, **kw))
            for i in range(n)]

    def test_pagination(self):
        self.seed(5)
        self.seed(1, scope="acme/api")
        st, hd, obj = self.api("GET", "/repos/acme/web/actions/runners?"
                               "per_page=2", "ghp_classic")
        self.assertEqual(st, 200)
        self.assertEqual(obj["total_count"], 5)
        self.assertEqual([r["name"] for r in obj["runners"]], ["r0", "r1"])
        self.assertIn('page=2>; rel="next"', hd["Link"])
        self.assertIn('page=3>; rel="last"', hd["Link"])
        st, hd, obj = self.api("GET", "/repos/acme/web/actions/runners?"
                               "per_page=2&page=3", "ghp_classic")
        self.assertEqual([r["name"] for r in obj["runners"]], ["r4"])
        self.assertNotIn('rel="next"', hd["Link"])
        self.assertIn('rel="prev"', hd["Link"])
        st, hd, obj = self.api("GET", "/repos/acme/web/actions/runners",
                               "ghp_classic")
        self.assertIsNone(hd.get("Link"))
        st, hd, obj = self.api("GET", "/repos/acme/web/actions/runners?"
                               "name=r3", "ghp_classic")
        self.assertEqual(obj["total_count"], 1)
        r = obj["runners"][0]
        self.assertEqual(set(r), {"id", "name", "os", "status", "busy",
                                  "ephemeral", "runner_group_id", "labels"})
        self.assertEqual(r["labels"][0]["type"], "custom")
        st, hd, obj = self.api("GET", "/repos/acme/web/actions/runners?"
                               "per_page=500", "ghp_classic")
        self.assertEqual(len(obj["runners"]), 5)

    def test_get_and_delete(self):
        idle, = self.seed(1, status="online")
        busy, = self.seed(1, status="online", busy=True)
        st, _, obj = self.api("GET", "/repos/acme/web/actions/runners/%d" %
                              idle["id"], "ghp_classic")
        self.assertEqual((st, obj["status"], obj["busy"]),
                         (200, "online", False))
        st, _, obj = self.api("GET", "/repos/acme/api/actions/runners/%d" %
                              idle["id"], "ghp_classic")
        self.assertEqual(st, 404)
        st, _, obj = self.api("DELETE", "/repos/acme/web/actions/runners/%d"
                              % busy["id"], "ghp_classic")
        self.assertEqual(st, 422)
        self.assertIn("is still running a job", obj["message"])
        st, hd, obj = self.api("DELETE", "/repos/acme/web/actions/runners/%d"
                               % idle["id"], "ghp_classic")
        self.assertEqual((st, obj), (204, None))
        st, _, obj = self.api("DELETE", "/repos/acme/web/actions/runners/%d"
                              % idle["id"], "ghp_classic")
        self.assertEqual(st, 404)

    def test_org_runners(self):
        self.seed(3, scope="acme")
        st, _, obj = self.api("GET", "/orgs/acme/actions/runners",
                              "github_pat_web")
        self.assertEqual(obj["total_count"], 3)
        st, _, obj = self.api("DELETE", "/orgs/acme/actions/runners/%d" %
                              obj["runners"][0]["id"], "ghp_classic")
        self.assertEqual(st, 204)

    def test_faults(self):
        p = "/repos/acme/web/actions/runners/registration-token"
        op = "actions/create-registration-token-for-repo"
        self.ctx.faults = [{"service": "github", "action": op,
                            "kind": "secondary", "count": 1,
                            "retry_after": 7}]
        st, hd, obj = self.api("POST", p, "ghp_classic")
        self.assertEqual((st, hd["Retry-After"]), (403, "7"))
        self.assertIn("secondary rate limit", obj["message"])
        self.ctx.faults = [{"service": "github", "action": "*",
                            "kind": "ratelimit", "count": 1}]
        st, hd, obj = self.api("POST", p, "ghp_classic")
        self.assertEqual((st, hd["x-ratelimit-remaining"]), (403, "0"))
        self.assertIn("API rate limit exceeded", obj["message"])
        self.assertGreater(int(hd["x-ratelimit-reset"]), time.time())
        self.ctx.faults = [{"service": "github", "action": op,
                            "kind": "5xx", "count": 1}]
        st, hd, obj = self.api("POST", p, "ghp_classic")
        self.assertEqual(st, 502)
        self.ctx.faults = [{"service": "github", "action": op,
                            "kind": "slow", "delay_ms": 300, "count": 1}]
        t0 = time.monotonic()
        st, hd, obj = self.api("POST", p, "ghp_classic")
        self.assertEqual(st, 201)
        self.assertGreater(time.monotonic() - t0, 0.29)
        self.ctx.faults = [{"service": "github", "action": op,
                            "kind": "reset", "count": 1}]
        with self.assertRaises((ConnectionError, http.client.HTTPException,
                                urllib.error.URLError)):
            self.api("POST", p, "ghp_classic")
        self.assertEqual(self.ctx.calls[-1]["code"], "connection reset")
        self.ctx.faults = [{"service": "github", "action": op,
                            "kind": "revoked", "count": 1}]
        st, hd, obj = self.api("POST", p, "ghp_classic")
        self.assertEqual(st, 401)

    def test_primary_rate_limit(self):
        self.ctl("POST", "/settings", {"rate_limit": 3})
        p = "/repos/acme/web/actions/runners"
        seen = [self.api("GET", p, "ghp_classic")[1]["x-ratelimit-remaining"]
                for _ in range(3)]
        self.assertEqual(seen, ["2", "1", "0"])
        st, hd, obj = self.api("GET", p, "ghp_classic")
        self.assertEqual((st, hd["x-ratelimit-remaining"]), (403, "0"))
        st, hd, obj = self.api("GET", p, "github_pat_web")
        self.assertEqual(st, 200)
        self.ctx.offset = 3601
        st, hd, obj = self.api("GET", p, "ghp_classic")
        self.assertEqual(st, 200)


def openssl(*args, data=None):
    return subprocess.run(["openssl"] + list(args), input=data,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          check=True).stdout


class Apps(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key = os.path.join(cls.tmp, "app.pem")
        cls.other = os.path.join(cls.tmp, "other.pem")
        for k in (cls.key, cls.other):
            subprocess.run(["openssl", "genrsa", "-out", k, "2048"],
                           check=True, stderr=subprocess.DEVNULL)
        cls.pub = openssl("rsa", "-in", cls.key, "-pubout").decode()

    def setUp(self):
        super().setUp()
        self.ctl("POST", "/apps", {"app_id": 123, "public_key_pem": self.pub,
                                   "installations": [
                                       {"id": 99, "account": "acme"},
                                       {"id": 7, "account": "solo/tool"}]})

    def jwt(self, iat=None, exp=None, iss="123", key=None, alg="RS256"):
        now = int(time.time())
        h = b64u(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        p = b64u(json.dumps({"iat": now - 60 if iat is None else iat,
                             "exp": now + 540 if exp is None else exp,
                             "iss": iss}).encode())
        sig = openssl("dgst", "-sha256", "-sign", key or self.key,
                      data=("%s.%s" % (h, p)).encode())
        return "%s.%s.%s" % (h, p, b64u(sig))

    def test_pem_forms(self):
        n, e = github.parse_rsa_public_key(self.pub)
        for args in (["rsa", "-in", self.key, "-RSAPublicKey_out"],
                     ["rsa", "-in", self.key, "-traditional"],
                     ["pkcs8", "-topk8", "-nocrypt", "-in", self.key]):
            pem = openssl(*args).decode()
            self.assertEqual(github.parse_rsa_public_key(pem), (n, e), args)

    def test_installation_flow(self):
        j = self.jwt()
        st, _, obj = self.api("GET", "/repos/acme/web/installation", j)
        self.assertEqual((st, obj["id"], obj["repository_selection"]),
                         (200, 99, "all"))
        self.assertEqual(self.ctx.calls[-1]["auth_kind"], "jwt")
        st, _, obj = self.api("GET", "/orgs/acme/installation", j)
        self.assertEqual((st, obj["id"]), (200, 99))
        st, _, obj = self.api("GET", "/repos/solo/tool/installation",
                              self.jwt(iss=123))
        self.assertEqual((st, obj["id"], obj["repository_selection"]),
                         (200, 7, "selected"))
        st, _, obj = self.api("GET", "/orgs/solo/installation", j)
        self.assertEqual(st, 404)
        st, _, obj = self.api("POST", "/app/installations/99/access_tokens",
                              j)
        self.assertEqual(st, 201)
        self.assertTrue(obj["token"].startswith("ghs_"))
        self.assertEqual(obj["repository_selection"], "all")
        tok = obj["token"]
        st, _, obj = self.api("POST", "/orgs/acme/actions/runners/"
                              "registration-token", tok)
        self.assertEqual(st, 201)
        self.assertEqual(self.ctx.calls[-1]["auth_kind"], "installation")
        st, _, obj = self.api("POST", "/repos/acme/web/actions/runners/"
                              "registration-token", tok)
        self.assertEqual(st, 201)
        st, _, obj = self.api("POST", "/repos/solo/tool/actions/runners/"
                              "registration-token", tok)
        self.assertEqual(st, 404)
        # a token narrowed to metadata cannot create registration tokens
        st, _, obj = self.api("POST", "/app/installations/99/access_tokens",
                              j, body={"permissions": {"metadata": "read"}})
        st, _, obj = self.api("POST", "/repos/acme/web/actions/runners/"
                              "registration-token", obj["token"])
        self.assertEqual((st, obj["message"]), (403, "Resource not "
                         "accessible by integration"))
        self.ctx.offset = 3601
        st, _, obj = self.api("GET", "/repos/acme/web/actions/runners", tok)
        self.assertEqual(st, 401)

    def test_jwt_rejections(self):
        now = int(time.time())
        p = "/app/installations/99/access_tokens"
        cases = [
            (self.jwt(exp=now - 5), 401, "'Expiration time' claim ('exp') "
             "must be"),
            (self.jwt(iat=now - 60, exp=now + 600), 401, "too far"),
            (self.jwt(iat=now + 300, exp=now + 400), 401, "'Issued at'"),
            (self.jwt(key=self.other), 401, "could not be decoded"),
            (self.jwt(iss="124"), 404, "Integration not found"),
            ("ghp_classic", 401, "could not be decoded"),
        ]
        for tok, status, msg in cases:
            st, _, obj = self.api("POST", p, tok)
            self.assertEqual(st, status, (msg, obj))
            self.assertIn(msg, obj["message"])
        st, _, obj = self.api("POST", "/app/installations/7/access_tokens",
                              self.jwt())
        self.assertEqual(st, 201)
        st, _, obj = self.api("POST", "/app/installations/8/access_tokens",
                              self.jwt())
        self.assertEqual(st, 404)
        st, _, obj = self.api("GET", "/repos/acme/web/actions/runners",
                              self.jwt())
        self.assertEqual(st, 403)


class Download(Base):
    def test_tarball(self):
        st, hd, data = self.http("GET", "/actions/runner/releases/download/"
                                 "v2.329.0/actions-runner-linux-x64-2.329.0"
                                 ".tar.gz", std=False)
        self.assertEqual(st, 200)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
            names = t.getnames()
            self.assertIn("./config.sh", names)
            self.assertIn("./run.sh", names)
            self.assertEqual(t.extractfile("./VERSION").read(), b"2.329.0\n")
            self.assertEqual(t.extractfile("./ARCH").read(), b"x64\n")
            self.assertTrue(t.getmember("./run.sh").mode & 0o100)
        info = self.ctl("GET", "/runner-tarball?version=2.329.0")
        self.assertEqual(info["sha256"], hashlib.sha256(data).hexdigest())
        for bad in ("v2.311/actions-runner-linux-x64-2.311.tar.gz",
                    "v2.329.0/actions-runner-linux-x64-2.329.1.tar.gz",
                    "v2.311.0/actions-runner-linux-x64-2.311.0.tar.gz"):
            st, _, _ = self.http("GET", "/actions/runner/releases/download/"
                                 + bad, std=False)
            self.assertEqual(st, 404)
        self.ctl("POST", "/settings", {"runner_releases": [
            {"version": "2.320.0", "published_at": "2026-01-01T00:00:00Z"}]})
        st, _, _ = self.http("GET", "/actions/runner/releases/download/"
                             "v2.329.0/actions-runner-linux-x64-2.329.0"
                             ".tar.gz", std=False)
        self.assertEqual(st, 404)
        st, _, obj = self.api("GET", "/repos/actions/runner/releases/latest",
                              "ghp_classic")
        self.assertEqual((st, obj["tag_name"]), (200, "v2.320.0"))


class StandInRunner(Base):
    """End to end: download, config.sh, run.sh, jobs, remove."""

    def setUp(self):
        super().setUp()
        self.ctl("POST", "/settings", {"offline_after_s": 2})
        self.procs = []
        self.env = dict(os.environ, RUNNER_ALLOW_RUNASROOT="1",
                        STANDIN_POLL_S="0.2")

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()

    def install(self, name):
        st, _, data = self.http("GET", "/actions/runner/releases/download/"
                                "v2.338.0/actions-runner-linux-x64-2.338.0"
                                ".tar.gz", std=False)
        self.assertEqual(st, 200)
        d = os.path.join(self.tmp, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
            t.extractall(d)
        return d

    def regtoken(self, scope="repos/acme/web", kind="registration-token"):
        st, _, obj = self.api("POST", "/%s/actions/runners/%s" % (scope,
                                                                 kind),
                              "ghp_classic")
        self.assertEqual(st, 201)
        return obj["token"]

    def config(self, d, *args, token=None, url=None, env=None):
        url = url or self.base + "/acme/web"
        argv = ["./config.sh"]
        if args and args[0] == "remove":
            argv += list(args)
        else:
            argv += ["--url", url, "--token", token or self.regtoken(),
                     "--unattended", "--disableupdate", "--work", "_work"]
            argv += list(args)
        return subprocess.run(argv, cwd=d, env=env or self.env,
                              capture_output=True, text=True, timeout=60)

    def run_sh(self, d):
        p = subprocess.Popen(["./run.sh"], cwd=d, env=self.env,
                             stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        self.procs.append(p)
        return p

    # bounds, not expectations: test files run several at a time on a
    # loaded 2-core machine
    def wait(self, pred, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            v = pred()
            if v:
                return v
            time.sleep(0.1)
        self.fail("timed out waiting")

    def runners(self):
        return self.ctl("GET", "/runners")["runners"]

    def job(self, jid):
        return self.ctl("GET", "/jobs/%d" % jid)

    def test_full_cycle(self):
        d = self.install("r1")
        res = self.config(d, "--name", "i-1", "--labels", "4242",
                          "--no-default-labels")
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(os.path.join(d, ".runner"), "rb") as fh:
            raw = fh.read()
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"))
        meta = json.loads(raw.decode("utf-8-sig"))
        self.assertEqual(meta["agentName"], "i-1")
        self.assertEqual(os.stat(os.path.join(d, ".credentials")).st_mode &
                         0o777, 0o600)
        r, = self.runners()
        self.assertEqual((r["status"], r["labels"][0]["name"]),
                         ("offline", "4242"))
        # already configured
        res = self.config(d, "--name", "i-1")
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("already configured", res.stderr)

        p = self.run_sh(d)
        self.wait(lambda: self.runners()[0]["status"] == "online")
        jid = self.ctl("POST", "/jobs", {"repo": "acme/web",
                                         "labels": ["4242"],
                                         "script": "pwd; echo hi; "
                                         "echo $GITHUB_RUN_ID; sleep 1"})["id"]
        other = self.ctl("POST", "/jobs", {"repo": "acme/web",
                                           "labels": ["9999"],
                                           "script": "true"})["id"]
        self.wait(lambda: self.job(jid)["status"] == "in_progress")
        st, _, obj = self.api("GET", "/repos/acme/web/actions/runners",
                              "ghp_classic")
        self.assertTrue(obj["runners"][0]["busy"])
        st, _, obj = self.api("DELETE", "/repos/acme/web/actions/runners/%d"
                              % r["id"], "ghp_classic")
        self.assertEqual(st, 422)
        j = self.wait(lambda: (lambda j: j["status"] == "completed" and j)(
            self.job(jid)))
        self.assertEqual((j["conclusion"], j["runner_name"]),
                         ("success", "i-1"))
        self.assertEqual(j["output"].split("\n")[:3],
                         [os.path.join(d, "_work", "web", "web"), "hi",
                          "4242"])
        fail = self.ctl("POST", "/jobs", {"repo": "acme/web",
                                          "labels": ["4242"],
                                          "script": "echo out; false; "
                                          "echo never"})["id"]
        j = self.wait(lambda: (lambda j: j["status"] == "completed" and j)(
            self.job(fail)))
        self.assertEqual((j["conclusion"], j["output"]), ("failure",
                                                           "out\n"))
        self.assertEqual(self.job(other)["status"], "queued")
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=60), 0)
        self.assertEqual(self.runners()[0]["status"], "offline")
        # remove needs a remove token of the same scope
        res = self.config(d, "remove", "--token", self.regtoken())
        self.assertNotEqual(res.returncode, 0)
        res = self.config(d, "remove", "--token",
                          self.regtoken("repos/acme/api", "remove-token"))
        self.assertNotEqual(res.returncode, 0)
        res = self.config(d, "remove", "--token",
                          self.regtoken(kind="remove-token"))
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, ".runner")))
        self.assertEqual(self.runners(), [])

    def test_registration_checks(self):
        d = self.install("r2")
        res = self.config(d, "--name", "x", token="NOTATOKEN")
        self.assertEqual(res.returncode, 1)
        self.assertIn("NotFound", res.stderr)
        res = self.config(d, "--name", "x",
                          token=self.regtoken("repos/acme/api"))
        self.assertEqual(res.returncode, 1)
        tok = self.regtoken()
        self.ctx.offset = 3601
        res = self.config(d, "--name", "x", token=tok)
        self.assertEqual(res.returncode, 1)
        self.ctx.offset = 0
        res = self.config(d, "--name", "x", url="https://github.com/acme/web")
        self.assertEqual(res.returncode, 1)
        self.assertIn("loopback", res.stderr)
        res = self.config(d, "--name", "x", "--bogus")
        self.assertEqual(res.returncode, 1)
        self.assertIn("Unrecognized", res.stderr)
        if os.geteuid() == 0:
            env = {k: v for k, v in self.env.items()
                   if k != "RUNNER_ALLOW_RUNASROOT"}
            res = self.config(d, "--name", "x", env=env)
            self.assertEqual((res.returncode, res.stderr.strip()),
                             (1, "Must not run with sudo"))
        # the token is reusable; names are unique per scope
        res = self.config(d, "--name", "x", token=tok)
        self.assertEqual(res.returncode, 0, res.stderr)
        d2 = self.install("r2b")
        res = self.config(d2, "--name", "X", token=tok)
        self.assertEqual(res.returncode, 1)
        self.assertIn("A runner exists with the same name", res.stderr)
        res = self.config(d2, "--name", "X", "--replace", token=tok)
        self.assertEqual(res.returncode, 0, res.stderr)
        rs = self.runners()
        self.assertEqual([r["name"] for r in rs], ["X"])
        self.assertEqual([lb["name"] for lb in rs[0]["labels"]],
                         ["self-hosted", "Linux", "X64"])
        # the replaced runner's run.sh finds its registration deleted
        p = self.run_sh(d)
        self.assertEqual(p.wait(timeout=60), 1)
        self.assertIn("registration has been deleted", p.stdout.read())

    def test_sigterm_cancels_job(self):
        d = self.install("r5")
        self.assertEqual(self.config(d, "--name", "t", "--labels",
                                     "55").returncode, 0)
        p = self.run_sh(d)
        pidf = os.path.join(self.tmp, "job5.pid")
        jid = self.ctl("POST", "/jobs", {"repo": "acme/web",
                                         "labels": ["55"],
                                         "script": "echo $$ > %s; echo go; "
                                         "sleep 30" % pidf})["id"]
        self.wait(lambda: os.path.exists(pidf) and
                  self.job(jid)["status"] == "in_progress")
        time.sleep(0.2)
        with open(pidf) as fh:
            pid = int(fh.read())
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=60), 0)
        j = self.job(jid)
        self.assertEqual((j["status"], j["conclusion"]),
                         ("completed", "cancelled"))
        self.assertEqual(j["output"], "go\nThe operation was canceled.\n")
        r, = self.runners()
        self.assertEqual((r["status"], r["busy"]), ("offline", False))
        self.wait(lambda: not os.path.exists("/proc/%d" % pid) or
                  open("/proc/%d/stat" % pid).read().split()[2] == "Z")

    def test_org_ephemeral_and_lost_runner(self):
        d = self.install("r3")
        res = self.config(d, "--name", "org-1", "--labels", "77",
                          "--ephemeral", token=self.regtoken("orgs/acme"),
                          url=self.base + "/acme")
        self.assertEqual(res.returncode, 0, res.stderr)
        jid = self.ctl("POST", "/jobs", {"repo": "acme/api",
                                         "labels": ["77", "self-hosted"],
                                         "script": "echo org"})["id"]
        p = self.run_sh(d)
        self.assertEqual(p.wait(timeout=60), 0)
        j = self.job(jid)
        self.assertEqual((j["conclusion"], j["output"]), ("success", "org\n"))
        self.assertEqual(self.runners(), [])
        self.assertFalse(os.path.exists(os.path.join(d, ".runner")))
        # a runner killed mid-job goes offline; its job fails
        d = self.install("r4")
        self.assertEqual(self.config(d, "--name", "k", "--labels",
                                     "88").returncode, 0)
        p = self.run_sh(d)
        pidf = os.path.join(self.tmp, "job.pid")
        jid = self.ctl("POST", "/jobs", {"repo": "acme/web",
                                         "labels": ["88"],
                                         "script": "echo $$ > %s; exec sleep "
                                         "30" % pidf})["id"]
        self.wait(lambda: self.job(jid)["status"] == "in_progress")
        # the job's script has started (in_progress comes first: on a
        # loaded machine the script may not have run yet)
        self.wait(lambda: os.path.exists(pidf) and os.path.getsize(pidf) > 0)
        p.kill()
        p.wait()
        self.wait(lambda: self.runners()[0]["status"] == "offline",
                  timeout=10)
        j = self.job(jid)
        self.assertEqual(j["conclusion"], "failure")
        self.assertIn("lost communication", j["output"])
        with open(pidf) as fh:
            os.kill(int(fh.read()), signal.SIGKILL)


if __name__ == "__main__":
    unittest.main()
