#!/usr/bin/env python3
"""The local cloud: a stand-in for EC2, SSM, IMDSv2 and (through the github
package) GitHub, on one loopback port.  Python 3 standard library only.

    python3 tests/cloud/cloud.py --port-file FILE --state-dir DIR

See tests/cloud/CONTRACT.md (the interface) and tests/cloud/README.md.
"""

import argparse
import base64
import errno
import fnmatch
import glob
import heapq
import json
import os
import queue
import shutil
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import catalog  # noqa: E402
import ec2  # noqa: E402
import imds  # noqa: E402
import sigv4  # noqa: E402
import ssm  # noqa: E402

try:
    import github  # noqa: E402
except ModuleNotFoundError as e:
    # no github/ beside this file: GitHub's paths answer 404; a package
    # that is there but fails to import is an error, not a missing GitHub
    if e.name != "github":
        raise
    github = None

SETPRIV = shutil.which("setpriv")
REAL_UNAME = shutil.which("uname", path="/usr/bin:/bin") or "/bin/uname"

# uname(1) of an instance: the machine (and processor, hardware platform)
# of the instance type's architecture, everything else the host's
UNAME_STUB = r"""#!/bin/sh
# local cloud: uname(1) on a %(type)s says %(machine)s
case "$*" in
-m|--machine) echo %(machine)s ;;
*) out=$(%(uname)s "$@") || exit
   printf '%%s\n' "$out" | sed 's/\b%(host)s\b/%(machine)s/g' ;;
esac
"""

STATIC_KEYS = {"AKIDLOCALCLOUD000001": "localcloud+secret+key+000001"}

DEFAULT_SETTINGS = {
    "pending_ms": 0,            # pending -> running
    "shutdown_ms": 0,           # shutting-down -> terminated, stopping -> stopped
    # EC2 is eventually consistent: a launched instance answers
    # InvalidInstanceID.NotFound for a while (describe by id, CreateTags,
    # TerminateInstances) and is absent from filtered describes
    # https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html
    "consistency_ms": 1000,
    # instance metadata tags follow tag writes late (AWS promises no
    # read-your-writes there): IMDS shows the tags as they were this long ago
    # https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/work-with-tags-in-IMDS.html
    "md_tags_ms": 300,
    "run_user_data": True,      # launched instances run their user data
    "page_size": 0,             # DescribeInstances page without MaxResults (0: all)
    "next_token_len": 400,      # DescribeInstances NextToken length (opaque, EC2's are long)
    "terminated_ttl_ms": 3600000,  # terminated instances stay visible this long
    "credentials_ttl_s": 21600,    # IMDS role credentials lifetime
    "region": "us-east-1",
    "aws_limits": True,         # token buckets with AWS's published API limits
    "spot_warning_ms": 120000,  # spot interruption notice -> termination
    # IAM, one switch per action: the actions ("ec2:CreateFleet",
    # "ssm:PutParameter", "*" wildcards) the caller's policy does not allow
    "denied_actions": [],
    # instance types not offered in an AZ, as "TYPE@AZ" patterns
    # ("c7g.*@us-east-1e"); DescribeInstanceTypeOfferings leaves them out
    "unoffered": [],
    "xml_indent": 4,            # EC2 replies indented as EC2 does (0: compact)
}

GITHUB_PREFIXES = ("/api/v3/", "/_runner/", "/actions/runner/releases/",
                   "/_cloud/github/")

# AWS's request-token buckets (burst, refill per second), per account and
# region, from "Request throttling for the Amazon EC2 API" (its tables of
# request and resource token bucket sizes, read 2026-12-06).  Each API is
# evaluated on its own bucket ("requests for other API are not affected"):
# non-mutating actions hold 100 tokens and refill 20 a second, but
# DescribeInstances (and a few other describes) asked without a filter and
# without pagination draw on a smaller bucket of 50, refilled 10 a second;
# mutating actions not listed otherwise (CreateFleet among them) hold 50
# and refill 5; "uncategorized" actions have their own figures (CreateTags,
# DeleteTags 100/10; TerminateInstances, CreateLaunchTemplateVersion,
# ModifyLaunchTemplate 100/5; RunInstances 5/2).  RunInstances and
# TerminateInstances also draw one token per instance from a resource
# bucket (RunInstances 1000, refilled 2 a second; TerminateInstances 1000,
# 20 a second).
# https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
EC2_REQUEST_LIMITS = {
    "CreateTags": (100, 10), "DeleteTags": (100, 10),
    "TerminateInstances": (100, 5), "RunInstances": (5, 2),
    "CreateLaunchTemplateVersion": (100, 5), "ModifyLaunchTemplate": (100, 5),
}
EC2_NON_MUTATING = (100, 20)   # Describe*, Get*, other reads: each its own
EC2_MUTATING = (50, 5)         # any other mutating action: each its own
# asked with neither a filter nor pagination: a smaller bucket of their own
EC2_UNFILTERED = ("DescribeInstances", "DescribeInstanceStatus",
                  "DescribeNetworkInterfaces", "DescribeSecurityGroups",
                  "DescribeSnapshots", "DescribeSpotInstanceRequests",
                  "DescribeVolumes")
EC2_UNFILTERED_LIMITS = (50, 10)
EC2_RESOURCE_LIMITS = {        # tokens per instance the call acts on
    "RunInstances": (1000, 2), "TerminateInstances": (1000, 20),
}
# SSM Parameter Store: GetParameter, GetParameters and GetParametersByPath
# share 40 transactions a second (default throughput); PutParameter has 3.
# Other SSM APIs: each its own 40 (no published figure).
# https://docs.aws.amazon.com/general/latest/gr/ssm.html
# https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-throughput.html
SSM_LIMITS = {"GetParameter": ("get", 40, 40), "GetParameters": ("get", 40, 40),
              "GetParametersByPath": ("get", 40, 40),
              "PutParameter": ("PutParameter", 3, 3)}
SSM_OTHER = (40, 40)


def limit_buckets(service, action, params):
    """The buckets a call draws on: [(name, burst, refill, tokens)]."""
    if service == "ssm":
        name, burst, rate = SSM_LIMITS.get(action, (action,) + SSM_OTHER)
        return [("ssm:" + name, burst, rate, 1)]
    action = action or ""
    bucket = "ec2:" + action
    if action in EC2_REQUEST_LIMITS:
        burst, rate = EC2_REQUEST_LIMITS[action]
    elif action in ec2.MUTATING:
        burst, rate = EC2_MUTATING
    elif action in EC2_UNFILTERED and not any(
            k.startswith("Filter.") or k in ("MaxResults", "NextToken")
            for k in params):
        burst, rate = EC2_UNFILTERED_LIMITS
        bucket = "ec2:unfiltered:" + action
    else:
        burst, rate = EC2_NON_MUTATING
    out = [(bucket, burst, rate, 1)]
    if action in EC2_RESOURCE_LIMITS:
        if action == "RunInstances":
            try:
                n = int(params.get("MaxCount", 1))
            except (TypeError, ValueError):
                n = 1
        else:
            n = sum(1 for k in params if k.startswith("InstanceId."))
        burst, rate = EC2_RESOURCE_LIMITS[action]
        out.append(("ec2-resource:" + action, burst, rate, max(1, n)))
    return out


EC2_AUTH = {
    "missing": ("AuthFailure", 401,
                "AWS was not able to validate the provided access credentials"),
    "incomplete": ("IncompleteSignature", 400, None),
    "scope": ("SignatureDoesNotMatch", 403, None),
    "unknown_key": ("AuthFailure", 401,
                    "AWS was not able to validate the provided access credentials"),
    "token": ("AuthFailure", 401,
              "AWS was not able to validate the provided access credentials"),
    "token_expired": ("RequestExpired", 400, "Request has expired."),
    "expired": ("RequestExpired", 400, "Request has expired."),
    "signature": ("SignatureDoesNotMatch", 403, None),
}
SSM_AUTH = {
    "missing": ("MissingAuthenticationTokenException", 400,
                "Missing Authentication Token"),
    "incomplete": ("IncompleteSignatureException", 400, None),
    "scope": ("InvalidSignatureException", 400, None),
    "unknown_key": ("UnrecognizedClientException", 400,
                    "The security token included in the request is invalid."),
    "token": ("UnrecognizedClientException", 400,
              "The security token included in the request is invalid."),
    "token_expired": ("ExpiredTokenException", 400,
                      "The security token included in the request is expired"),
    "expired": ("InvalidSignatureException", 400, None),
    "signature": ("InvalidSignatureException", 400, None),
}

_CRED_RE = re.compile(r"Credential=([A-Za-z0-9]+)/")


class Reset(Exception):
    """Drop the connection without a reply."""


_host_lock = threading.Lock()


def host_cleanup(iid):
    with _host_lock:
        _host_cleanup(iid)


def _host_cleanup(iid):
    """What an instance's agent left on this machine, which a real instance
    takes with it: its job users (named <runner-user>-<last 8 of its id>,
    RUNNER_POOL_USER_SUFFIX), their processes, files and sudo rules, and its
    nftables table (runner_pool_<id without i->) or iptables chains.  Only
    as root: nobody else can have made them."""
    if os.geteuid() != 0:
        return
    suffix = "-" + iid[-8:]
    users = []
    try:
        with open("/etc/passwd") as f:
            for line in f:
                e = line.split(":")
                if len(e) > 2 and e[0].endswith(suffix) and e[2] != "0":
                    users.append((e[0], e[2]))
    except OSError:
        pass
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    for name, uid in users:
        for _ in range(20):
            left = 0
            for st in glob.glob("/proc/[0-9]*/status"):
                try:
                    with open(st) as f:
                        m = re.search(r"^Uid:\s+(\d+)", f.read(), re.M)
                    if m and m.group(1) == uid:
                        left += 1
                        os.kill(int(st.split("/")[2]), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
            if not left:
                break
            time.sleep(0.1)
        subprocess.call(["find", "/tmp", "/var/tmp", "/dev/shm", "-xdev",
                         "-mindepth", "1", "-uid", uid, "-delete"], **quiet)
        # -f: even if a process of it is left (6: no such user, 12: no home)
        for _ in range(5):
            if subprocess.call(["userdel", "-f", "-r", name], **quiet) in (0, 6, 12):
                break
            time.sleep(0.5)
        try:
            os.unlink("/etc/sudoers.d/runner-pool-" + name)
        except OSError:
            pass
    table = "runner_pool_" + iid[2:]
    if shutil.which("nft"):
        subprocess.call(["nft", "delete", "table", "inet", table], **quiet)
    for ipt in ("iptables", "ip6tables"):
        if shutil.which(ipt):
            subprocess.call([ipt, "-D", "OUTPUT", "-j", table], **quiet)
            subprocess.call([ipt, "-F", table], **quiet)
            subprocess.call([ipt, "-X", table], **quiet)


class Cloud(object):
    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.port = 0
        self.imds_port = 0    # instance metadata of instances with a process
        self.lock = threading.RLock()
        self.settings = dict(DEFAULT_SETTINGS)
        self.faults = []
        self.calls = []
        self.seq = 0
        self.creds = {}
        self.buckets = {}
        self.procs = {}       # instance id -> Popen
        self.timers = []      # heap of (when, n, fn, args)
        self.timer_n = 0
        self.timer_cv = threading.Condition(self.lock)
        self.stopping = False
        self.epoch = 0        # bumped by reset: stale timers are dropped
        self.ec2 = ec2.EC2(self)
        self.ssm = ssm.SSM(self)
        self.imds = imds.IMDS(self)
        self.log = open(os.path.join(state_dir, "cloud.log"), "a", buffering=1)
        self.spawn_queue = queue.Queue()
        threading.Thread(target=self._timer_loop, name="timers", daemon=True).start()
        threading.Thread(target=self._spawner, name="spawner", daemon=True).start()

    # time, timers --------------------------------------------------------

    def now(self):
        return time.time()

    def schedule(self, delay, fn, *args):
        with self.lock:
            self.timer_n += 1
            heapq.heappush(self.timers, (time.monotonic() + max(0.0, delay),
                                         self.timer_n, self.epoch, fn, args))
            self.timer_cv.notify()

    def _timer_loop(self):
        with self.lock:
            while not self.stopping:
                if not self.timers:
                    self.timer_cv.wait(1.0)
                    continue
                when, _n, epoch, fn, args = self.timers[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self.timer_cv.wait(min(delay, 1.0))
                    continue
                heapq.heappop(self.timers)
                if epoch != self.epoch:
                    continue
                try:
                    fn(*args)
                except Exception:
                    self.log.write("timer error: %s\n" % traceback.format_exc())

    # credentials ---------------------------------------------------------

    def lookup_key(self, key):
        if key in STATIC_KEYS:
            return {"secret": STATIC_KEYS[key]}
        c = self.creds.get(key)
        if c is None:
            return None
        return {"secret": c["secret"], "token": c["token"], "expires": c["expires"]}

    # faults, calls, limits -----------------------------------------------

    def fault(self, service, action, kinds=None):
        """The active fault for this call, or None.  Consumes one count."""
        with self.lock:
            for f in self.faults:
                if f.get("service", "*") not in (service, "*"):
                    continue
                if kinds is not None and f.get("kind") not in kinds:
                    continue
                if not fnmatch.fnmatchcase(action or "", f.get("action") or "*"):
                    continue
                f["_seen"] += 1
                n = f["_seen"] - int(f.get("skip", 0))
                if n <= 0:
                    continue
                if f.get("count") is not None and f["_fired"] >= int(f["count"]):
                    continue
                rate = f.get("rate")
                if rate is not None and int(n * float(rate)) == int((n - 1) * float(rate)):
                    continue
                f["_fired"] += 1
                return {k: v for k, v in f.items() if not k.startswith("_")}
        return None

    def record(self, call):
        with self.lock:
            self.seq += 1
            c = {"seq": self.seq, "time": round(self.now(), 3)}
            c.update(call)
            self.calls.append(c)
            return c

    def limited(self, service, action, params=None):
        """True when one of AWS's token buckets for this call lacks the
        tokens it needs (then none is taken)."""
        if not self.settings["aws_limits"]:
            return False
        need = limit_buckets(service, action, params or {})
        now = time.monotonic()
        with self.lock:
            level = {}
            for name, burst, rate, n in need:
                tokens, last = self.buckets.get(name, (burst, now))
                level[name] = min(burst, tokens + (now - last) * rate)
                if level[name] < n:
                    for nm, _b, _r, _n in need:
                        if nm in level:
                            self.buckets[nm] = (level[nm], now)
                    return True
            for name, burst, rate, n in need:
                self.buckets[name] = (level[name] - n, now)
        return False

    # instance processes ----------------------------------------------------

    def spawn(self, inst):
        """Run the instance's user data with /bin/sh in its own process group."""
        if inst.user_data is None or inst.id in self.procs:
            return
        d = os.path.join(self.state_dir, "instances", inst.id)
        home = os.path.join(d, "home")
        stubs = os.path.join(self.state_dir, "stubs", inst.id)
        os.makedirs(home, mode=0o700, exist_ok=True)
        os.makedirs(stubs, exist_ok=True)
        url = "http://127.0.0.1:%d" % self.port
        for name in ("shutdown", "poweroff", "halt"):
            p = os.path.join(stubs, name)
            with open(p, "w") as f:
                f.write("#!/bin/sh\n# local cloud: %s(8) asks the cloud to end "
                        "this instance\ncurl -fsS -X POST -o /dev/null "
                        "'%s/_cloud/instances/%s/shutdown'\n" % (name, url, inst.id))
            os.chmod(p, 0o755)
        p = os.path.join(stubs, "uname")
        with open(p, "w") as f:
            f.write(UNAME_STUB % {
                "type": inst.type,
                "machine": catalog.uname_machine(catalog.architecture(inst.type)),
                "host": os.uname().machine, "uname": REAL_UNAME})
        os.chmod(p, 0o755)
        ud = os.path.join(d, "user-data")
        # root's alone on an instance (cloud-init's copy is 0600)
        with open(os.open(ud, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                  "wb") as f:
            f.write(inst.user_data)
        env = {
            "PATH": stubs + ":/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "RUNNER_POOL_ROOT": d,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:%d/_imds/%s" % (
                self.imds_port or self.port, inst.id),
            "AWS_ENDPOINT_URL": url,
            "AWS_ENDPOINT_URL_EC2": url,
            "AWS_ENDPOINT_URL_SSM": url,
            # the agent's job user is one per instance, as on real machines
            "RUNNER_POOL_USER_SUFFIX": "-" + inst.id[-8:],
        }
        console = os.fdopen(os.open(os.path.join(d, "console.log"),
                                    os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        try:
            proc = self._popen(["/bin/sh", ud], cwd=d, env=env,
                               stdin=subprocess.DEVNULL, stdout=console,
                               stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            console.close()
        self.procs[inst.id] = proc
        inst.proc = proc
        self.log.write("spawn %s pid %d\n" % (inst.id, proc.pid))

    def _popen(self, argv, **kw):
        """Popen from one long-lived thread, so that setpriv's parent-death
        signal (tied to the forking thread) fires only when the cloud dies:
        no instance process outlives a cloud that was killed outright."""
        if SETPRIV:
            # the group leader is a tiny sh that kills the whole group when
            # the cloud dies; it exits with the user data's status
            argv = [SETPRIV, "--pdeathsig", "USR1", "--", "/bin/sh", "-c",
                    'trap "kill -KILL 0" USR1; "$@" & wait $!', "instance"] + argv
        done = threading.Event()
        box = {}

        def run():
            try:
                box["proc"] = subprocess.Popen(argv, **kw)
            except Exception as e:
                box["error"] = e
            done.set()

        self.spawn_queue.put(run)
        done.wait()
        if "error" in box:
            raise box["error"]
        return box["proc"]

    def _spawner(self):
        while True:
            self.spawn_queue.get()()

    def kill(self, inst, grace=1.0):
        # the group, even when its leader (the user data) has returned:
        # the agent it installed runs on in it
        proc = self.procs.get(inst.id)
        if proc is None or getattr(proc, "group_gone", False):
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except OSError:
            pass
        self.schedule(grace, self._kill_hard, proc)

    def _kill_hard(self, proc):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.poll()
        proc.group_gone = True   # never signal that group id again
        # (apart: the timers hold the lock, and userdel takes a while)
        for iid, p in list(self.procs.items()):
            if p is proc:
                threading.Thread(target=host_cleanup, args=(iid,),
                                 daemon=True).start()

    def kill_all(self):
        for proc in list(self.procs.values()):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
        for proc in list(self.procs.values()):
            try:
                proc.wait(timeout=2)
            except (subprocess.TimeoutExpired, OSError):
                pass
        for iid in list(self.procs):
            host_cleanup(iid)
        self.procs.clear()

    def process_status(self, inst):
        proc = self.procs.get(inst.id)
        if proc is None:
            return None
        rc = proc.poll()
        return {"pid": proc.pid, "running": rc is None, "exit_code": rc}

    def reset(self):
        with self.lock:
            self.kill_all()
            self.epoch += 1
            # the instances' directories go aside (kept to read, never
            # reused: an instance id may come again after a reset)
            for sub in ("instances", "stubs"):
                d = os.path.join(self.state_dir, sub)
                if os.path.isdir(d):
                    os.rename(d, "%s.%d" % (d, self.epoch))
            self.timers = []
            self.settings = dict(DEFAULT_SETTINGS)
            self.faults = []
            self.calls = []
            self.buckets = {}
            self.creds = {}
            self.ec2.reset()
            self.ssm.reset()
            self.imds.reset()
        if github is not None and hasattr(github, "reset"):
            github.reset(GitHubContext(self))


class GitHubContext(object):
    """What github.handle() gets as ctx."""

    def __init__(self, cloud):
        self._cloud = cloud
        self.state_dir = cloud.state_dir
        self.port = cloud.port
        self.lock = cloud.lock
        self.settings = cloud.settings

    def now(self):
        return self._cloud.now()

    def fault(self, service, action, kinds=None):
        return self._cloud.fault(service, action, kinds)

    def record(self, call):
        call = dict(call)
        call.setdefault("service", "github")
        call.setdefault("mutating", False)
        return self._cloud.record(call)

    def reset(self):
        if github is not None and hasattr(github, "reset"):
            github.reset(self)


# --- HTTP --------------------------------------------------------------------

class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "localcloud"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def send_response(self, code, message=None):
        # no Server header of our own: EC2 and IMDS replies name theirs
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    @property
    def cloud(self):
        return self.server.cloud

    def _body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if te.lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline()
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(n))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, headers, body):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _drop(self):
        """Reset the connection: no status line, no bytes at all."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True

    def _dispatch(self):
        t0 = time.monotonic()
        c0 = time.thread_time()
        path, _, query = self.path.partition("?")
        try:
            body = self._body()
        except (ValueError, OSError):
            self._send(400, {"Content-Type": "text/plain"}, b"bad request body\n")
            return
        status = 0
        try:
            if getattr(self.server, "imds_only", False) and \
                    not path.startswith("/_imds/"):
                status = 404
                self._send(404, {"Content-Type": "text/html"},
                           imds._page(404, "Not Found"))
            elif path.startswith("/_cloud/github/") or (
                    path.startswith(GITHUB_PREFIXES)):
                status = self._github(path, query, body)
            elif path.startswith("/_cloud/"):
                status = self._control(path, query, body)
            elif path.startswith("/_imds/"):
                status = self._imds(path, body)
            else:
                status = self._aws(path, query, body)
        except Reset:
            self._drop()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            self.cloud.log.write("error %s %s\n%s" % (
                self.command, self.path, traceback.format_exc()))
            try:
                self._send(500, {"Content-Type": "text/plain"},
                           b"local cloud internal error\n")
            except OSError:
                self.close_connection = True
            status = 500
        # the time the reply took, and the CPU this thread spent on it (a
        # figure that a busy machine does not inflate)
        self.cloud.log.write("%s %s %s %d %.1fms cpu=%.1fms\n" % (
            time.strftime("%H:%M:%S"), self.command, self.path[:200], status,
            (time.monotonic() - t0) * 1000, (time.thread_time() - c0) * 1000))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch

    # --- GitHub ---

    def _github(self, path, query, body):
        if github is None:
            self._send(404, {"Content-Type": "application/json"},
                       b'{"message":"Not Found (tests/cloud/github/ is not installed)"}')
            return 404
        ctx = GitHubContext(self.cloud)
        headers = {k.lower(): v for k, v in self.headers.items()}
        r = github.handle(ctx, self.command, path, query, headers, body)
        if r is None:
            self._send(404, {"Content-Type": "application/json"},
                       b'{"message":"Not Found"}')
            return 404
        if r == "reset":
            raise Reset()
        status, h, b = r
        self._send(status, h, b)
        return status

    # --- IMDS ---

    def _imds(self, path, body):
        parts = path.split("/", 4)   # '', '_imds', who, 'latest', rest
        if len(parts) < 4 or parts[3] != "latest":
            self._send(404, {"Content-Type": "text/html"}, imds._page(404, "Not Found"))
            return 404
        who = parts[2]
        rest = parts[4] if len(parts) > 4 else ""
        cloud = self.cloud
        # an instance with a process has its metadata on the IMDS port
        # only, as a real one has it at a link-local address only: the
        # main port's GitHub must stay reachable where metadata is not
        if not getattr(self.server, "imds_only", False) and \
                who in cloud.procs:
            self._send(404, {"Content-Type": "text/html"},
                       imds._page(404, "Not Found"))
            return 404
        f = cloud.fault("imds", rest, ("slow",))
        if f:
            time.sleep(float(f.get("delay_ms", 1000)) / 1000.0)
        call = {"service": "imds", "action": rest, "mutating": False,
                "params": {"instance": who, "method": self.command}}
        if cloud.fault("imds", rest, ("reset",)):
            call.update(status=0, code="reset")
            cloud.record(call)
            raise Reset()
        f = cloud.fault("imds", rest, ("throttle", "5xx", "notfound"))
        if f:
            status = {"throttle": 429, "notfound": 404}.get(
                f["kind"], int(f.get("status", 500)))
            call.update(status=status, code=f["kind"])
            cloud.record(call)
            self._send(status, {"Content-Type": "text/html"},
                       imds._page(status, "Error"))
            return status
        headers = {k.lower(): v for k, v in self.headers.items()}
        with cloud.lock:
            status, h, b = cloud.imds.handle(who, rest, self.command, headers)
        call.update(status=status, code=None)
        cloud.record(call)
        self._send(status, h, b)
        return status

    # --- EC2 and SSM ---

    def _aws(self, path, query, body):
        cloud = self.cloud
        headers = list(self.headers.items())
        target = self.headers.get("X-Amz-Target", "")
        m = _CRED_RE.search(self.headers.get("Authorization", ""))
        access_key = m.group(1) if m else None
        if target.startswith("AmazonSSM."):
            service = "ssm"
            action = target[len("AmazonSSM."):]
            params = ssm.SSM.record_params(action, body)
            mutating = action in ssm.MUTATING
        else:
            service = "ec2"
            params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
            ctype = self.headers.get("Content-Type", "")
            if body and "x-www-form-urlencoded" in ctype:
                try:
                    params.update(urllib.parse.parse_qsl(
                        body.decode("utf-8"), keep_blank_values=True))
                except UnicodeDecodeError:
                    pass
            action = params.pop("Action", None)
            mutating = action in ec2.MUTATING
        rec = {k: v for k, v in params.items() if k != "Version"}
        call = {"service": service, "action": action, "params": rec,
                "mutating": mutating, "access_key": access_key}

        def finish(status, code):
            call.update(status=status, code=code)
            cloud.record(call)
            return status

        f = cloud.fault(service, action, ("slow",))
        if f:
            time.sleep(float(f.get("delay_ms", 1000)) / 1000.0)
        if cloud.fault(service, action, ("reset",)):
            finish(0, "reset")
            raise Reset()
        try:
            with cloud.lock:
                a = sigv4.verify(self.command, self.path, headers, body,
                                 cloud.lookup_key, (service,))
        except sigv4.AuthError as e:
            code, status, msg = (SSM_AUTH if service == "ssm" else EC2_AUTH)[e.kind]
            return finish(self._error(service, status, code, msg or e.message), code)
        if service == "ec2":
            if not action:
                return finish(self._error(service, 400, "MissingAction",
                                          "The request must contain the parameter "
                                          "Action"), "MissingAction")
            if "Version" not in params:
                return finish(self._error(service, 400, "MissingParameter",
                                          "The request must contain the parameter "
                                          "Version"), "MissingParameter")
        f = cloud.fault(service, action, ("throttle", "5xx"))
        if f is None and cloud.limited(service, action, params):
            f = {"kind": "throttle"}
        if f:
            if f["kind"] == "throttle":
                if service == "ec2":
                    status, code, msg = 503, "RequestLimitExceeded", "Request limit exceeded."
                else:
                    status, code, msg = 400, "ThrottlingException", "Rate exceeded"
            elif f.get("body") is not None:
                # what a proxy or load balancer in front answers: not AWS's
                status = int(f.get("status", 502))
                self._send(status, {"Content-Type": "text/html"},
                           str(f["body"]).encode())
                return finish(status, "HTTP%d" % status)
            else:
                status = int(f.get("status", 500))
                if service == "ec2":
                    code, msg = (("Unavailable", "The service is unavailable. "
                                  "Please try again shortly.") if status == 503 else
                                 ("InternalError", "An internal error has occurred"))
                else:
                    code, msg = (("ServiceUnavailable", "") if status == 503 else
                                 ("InternalServerError", ""))
            return finish(self._error(service, status, code, msg), code)
        denied = any(fnmatch.fnmatchcase("%s:%s" % (service, action or ""), pat)
                     for pat in cloud.settings["denied_actions"])
        if service == "ec2" and params.get("DryRun", "").lower() == "true":
            # EC2's DryRun: the permission is checked (and the resources
            # named must exist), nothing changes, and the answer is an
            # error either way: DryRunOperation (412) "Request would have
            # succeeded, but DryRun flag is set." or UnauthorizedOperation
            # (403) with an encoded message that does not name the action
            # in clear.  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
            # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/query-api-troubleshooting.html
            call.update(mutating=False, dry_run=True)
            if denied:
                return finish(self._unauthorized(), "UnauthorizedOperation")
            try:
                with cloud.lock:
                    cloud.ec2.dry_run(action, params)
            except ec2.Error as e:
                return finish(self._error(service, e.status, e.code, e.message),
                              e.code)
            return finish(self._error(service, 412, "DryRunOperation",
                                      "Request would have succeeded, but DryRun "
                                      "flag is set."), "DryRunOperation")
        if denied:
            call["mutating"] = False    # refused: nothing changed
            if service == "ec2":
                return finish(self._unauthorized(), "UnauthorizedOperation")
            # SSM: AccessDeniedException (400), the action and resource in
            # clear; https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html
            name = ""
            try:
                name = json.loads(body.decode("utf-8") or "{}").get("Name") or ""
            except (ValueError, UnicodeDecodeError, AttributeError):
                pass
            msg = ("User: arn:aws:iam::%s:user/local is not authorized to "
                   "perform: ssm:%s on resource: arn:aws:ssm:%s:%s:parameter%s "
                   "because no identity-based policy allows the ssm:%s action" % (
                       catalog.ACCOUNT, action, cloud.settings["region"],
                       catalog.ACCOUNT, name, action))
            return finish(self._error(service, 400, "AccessDeniedException", msg),
                          "AccessDeniedException")
        try:
            with cloud.lock:
                if service == "ssm":
                    out = cloud.ssm.handle(action, body)
                else:
                    out = cloud.ec2.handle(action, params)
        except (ec2.Error, ssm.Error) as e:
            return finish(self._error(service, e.status, e.code, e.message), e.code)
        if service == "ssm":
            self._send(200, {"Content-Type": "application/x-amz-json-1.1",
                             "x-amzn-RequestId": str(uuid.uuid4())}, out)
        else:
            f = cloud.fault(service, action, ("pad",))
            if f:
                # an oversized reply: blanks after the XML declaration
                decl, nl, rest = out.partition(b"\n")
                out = decl + nl + b" " * int(f.get("bytes", 65 << 20)) + rest
            self._send(200, {"Content-Type": "text/xml;charset=UTF-8",
                             "Server": "AmazonEC2"}, out)
        return finish(200, None)

    def _unauthorized(self):
        """EC2's UnauthorizedOperation: the action only inside the encoded
        message (sts:DecodeAuthorizationMessage reads it), as EC2 words it."""
        enc = base64.urlsafe_b64encode(os.urandom(96)).decode().rstrip("=")
        return self._error("ec2", 403, "UnauthorizedOperation",
                           "You are not authorized to perform this operation. "
                           "Encoded authorization failure message: " + enc)

    def _error(self, service, status, code, message):
        if service == "ssm":
            d = {"__type": code}
            if message:
                d["message"] = message
            self._send(status, {"Content-Type": "application/x-amz-json-1.1",
                                "x-amzn-RequestId": str(uuid.uuid4())},
                       json.dumps(d).encode())
        else:
            self._send(status, {"Content-Type": "text/xml;charset=UTF-8",
                                "Server": "AmazonEC2"},
                       ec2.error_body(code, message))
        return status

    # --- control API ---

    def _json(self, status, obj):
        self._send(status, {"Content-Type": "application/json"},
                   json.dumps(obj, indent=None, separators=(",", ":")) + "\n")
        return status

    def _control(self, path, query, body):
        cloud = self.cloud
        method = self.command
        try:
            req = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (ValueError, UnicodeDecodeError) as e:
            return self._json(400, {"error": "bad JSON: %s" % e})
        q = dict(urllib.parse.parse_qsl(query))
        parts = [p for p in path.split("/")[2:] if p]
        try:
            with cloud.lock:
                return self._control_locked(method, parts, req, q)
        except (ValueError, TypeError, KeyError) as e:
            return self._json(400, {"error": str(e)})

    def _control_locked(self, method, parts, req, q):
        cloud = self.cloud
        top = parts[0] if parts else ""
        if top == "health" and method == "GET":
            return self._json(200, {"ok": True, "port": cloud.port,
                                    "imds_port": cloud.imds_port,
                                    "github": github is not None})
        if top == "reset" and method == "POST":
            cloud.reset()
            return self._json(200, {"ok": True})
        if top == "settings":
            if method == "POST":
                for k, v in req.items():
                    if k not in DEFAULT_SETTINGS:
                        raise ValueError("unknown setting %r" % k)
                    want = type(DEFAULT_SETTINGS[k])
                    if want is bool and not isinstance(v, bool):
                        raise ValueError("setting %r wants true or false" % k)
                    if want is list and not (isinstance(v, list) and
                                             all(isinstance(x, str) for x in v)):
                        raise ValueError("setting %r wants a list of strings" % k)
                    cloud.settings[k] = want(v)
            elif method != "GET":
                return self._json(405, {"error": "GET or POST"})
            return self._json(200, cloud.settings)
        if top == "faults":
            if method == "POST":
                faults = req.get("faults")
                if faults is None:
                    faults = [req]
                for f in faults:
                    if f.get("kind") not in ("throttle", "5xx", "reset", "slow",
                                             "capacity", "partial", "notfound",
                                             "ratelimit", "secondary", "warning",
                                             "pad"):
                        raise ValueError("unknown fault kind %r" % f.get("kind"))
                    f = dict(f)
                    f.setdefault("service", "*")
                    f.setdefault("action", "*")
                    f["_seen"] = 0
                    f["_fired"] = 0
                    cloud.faults.append(f)
            elif method == "DELETE":
                cloud.faults = []
            return self._json(200, {"faults": [
                dict({k: v for k, v in f.items() if not k.startswith("_")},
                     fired=f["_fired"]) for f in cloud.faults]})
        if top == "calls":
            if method == "DELETE":
                cloud.calls = []
                return self._json(200, {"ok": True})
            since = int(q.get("since", 0))
            svc = q.get("service")
            lines = [json.dumps(c, separators=(",", ":")) for c in cloud.calls
                     if c["seq"] > since and (svc is None or c["service"] == svc)]
            self._send(200, {"Content-Type": "application/x-ndjson"},
                       "".join(line + "\n" for line in lines))
            return 200
        if top == "parameters" and method == "GET":
            return self._json(200, {"parameters": cloud.ssm.public()})
        if top == "templates" and method == "GET":
            out = []
            for t in cloud.ec2.templates.values():
                out.append({"id": t.id, "name": t.name, "default": t.default,
                            "latest": t.latest, "tags": t.tags,
                            "versions": {str(n): v[0] for n, v in t.versions.items()}})
            return self._json(200, {"templates": out})
        if top == "subnets" and method == "POST":
            return self._json(200, {"subnet_id": cloud.ec2.register_subnet(req)})
        if top == "security-groups" and method == "POST":
            return self._json(200, {"group_id": cloud.ec2.register_group(req)})
        if top == "images":
            if method == "POST":
                return self._json(200, {"image_id": cloud.ec2.register_image(req)})
            if method != "GET":
                return self._json(405, {"error": "GET or POST"})
            e = cloud.ec2
            ids = list(catalog.IMAGES) + [a for a in e.images
                                          if a not in catalog.IMAGES]
            return self._json(200, {"images": [
                {"image_id": a, "name": e.image(a)[0],
                 "architecture": e.image(a)[1]} for a in ids]})
        if top == "instances":
            return self._instances(method, parts[1:], req)
        return self._json(404, {"error": "no such control endpoint"})

    def _instances(self, method, parts, req):
        cloud = self.cloud
        e = cloud.ec2
        if not parts:
            if method == "POST":
                return self._json(200, {"instances": e.seed(req)})
            if method == "GET":
                out = []
                for i in e.instances.values():
                    d = i.public()
                    d["process"] = cloud.process_status(i)
                    out.append(d)
                return self._json(200, {"instances": out})
            return self._json(405, {"error": "GET or POST"})
        i = e.instances.get(parts[0])
        if i is None:
            return self._json(404, {"error": "no instance %s" % parts[0]})
        verb = parts[1] if len(parts) > 1 else ""
        if verb == "" and method == "GET":
            d = i.public()
            d["process"] = cloud.process_status(i)
            return self._json(200, d)
        if method != "POST":
            return self._json(405, {"error": "POST"})
        if verb == "shutdown":
            # reply first: the caller is usually inside the process group
            cloud.schedule(0.05, e.instance_shutdown, i)
            return self._json(200, {"ok": True})
        if verb == "terminate":
            e.terminate(i, "Control API")
            return self._json(200, {"ok": True, "state": i.state})
        if verb == "spot-interrupt":
            action = req.get("action", "terminate")
            after = float(req.get("after_ms", cloud.settings["spot_warning_ms"]))
            warn = after if after >= 0 else cloud.settings["spot_warning_ms"]
            i.spot_action = {"action": action, "time": cloud.now() + warn / 1000.0}
            if after >= 0:
                if action == "stop":
                    cloud.schedule(after / 1000.0, e.stop, i)
                else:
                    cloud.schedule(after / 1000.0, e.terminate, i,
                                   "Server.SpotInstanceTermination")
            return self._json(200, {"ok": True, "spot_action": i.spot_action})
        if verb == "tags":
            i.tags.update({k: str(v) for k, v in req.items()})
            e.tags_written(i)
            return self._json(200, {"tags": i.tags})
        return self._json(404, {"error": "no such control endpoint"})


def main(argv=None):
    ap = argparse.ArgumentParser(description="local stand-in for EC2, SSM, IMDS and GitHub")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--watch-pid", type=int, default=0,
                    help="exit when this process is gone")
    ap.add_argument("--max-lifetime", type=float, default=0,
                    help="exit after this many seconds (0: never)")
    args = ap.parse_args(argv)
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    cloud = Cloud(state_dir)
    server = Server(("127.0.0.1", args.port), Handler)
    server.cloud = cloud
    cloud.port = server.server_address[1]
    # the instances' metadata on a port of its own, which a packet filter
    # can tell from the main port (what 169.254.169.254 is on EC2)
    imds_server = Server(("127.0.0.1", 0), Handler)
    imds_server.cloud = cloud
    imds_server.imds_only = True
    cloud.imds_port = imds_server.server_address[1]
    threading.Thread(target=imds_server.serve_forever, kwargs={"poll_interval": 0.2},
                     name="imds", daemon=True).start()
    if github is not None and hasattr(github, "init"):
        github.init(GitHubContext(cloud))
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % cloud.port)
    os.rename(tmp, args.port_file)
    cloud.log.write("listening on 127.0.0.1:%d, instance metadata on %d (pid %d)\n" % (
        cloud.port, cloud.imds_port, os.getpid()))

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, stop)

    def watch():
        start = time.monotonic()
        while True:
            time.sleep(1)
            if args.watch_pid:
                try:
                    os.kill(args.watch_pid, 0)
                except OSError as e:
                    if e.errno == errno.ESRCH:
                        cloud.log.write("watched pid %d is gone\n" % args.watch_pid)
                        stop()
                        return
            if args.max_lifetime and time.monotonic() - start > args.max_lifetime:
                cloud.log.write("max lifetime reached\n")
                stop()
                return

    if args.watch_pid or args.max_lifetime:
        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        with cloud.lock:
            cloud.stopping = True
            cloud.timer_cv.notify_all()
            cloud.kill_all()
        cloud.log.write("stopped\n")
        try:
            os.unlink(args.port_file)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
