"""Stand-in for the GitHub Actions runner (config.sh, run.sh).

Talks to the local cloud's /_runner/ protocol (see tests/cloud/GITHUB.md).
Python 3 standard library only.  Never contacts anything but loopback.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
LOOPBACK = ("127.0.0.1", "localhost", "::1")
BOM = "\ufeff"


def _read(name):
    try:
        with open(os.path.join(HERE, name)) as fh:
            return fh.read().strip()
    except OSError:
        return ""


def version():
    return _read("VERSION") or "0.0.0"


# the package's architecture against the machine's (`uname -m`, which the
# local cloud's instances answer for their instance type): the real
# runner's .NET binaries fail to execute on the wrong one
MACHINES = {"x64": ("x86_64", "amd64"), "arm64": ("aarch64", "arm64"),
            "arm": ("armv7l", "armv6l", "arm")}


def check_arch():
    arch = _read("ARCH")
    if not arch:
        return
    try:
        machine = subprocess.run(["uname", "-m"], capture_output=True,
                                 text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return
    if machine and machine not in MACHINES.get(arch, ()):
        die("%s/bin/Runner.Listener: cannot execute binary file: Exec "
            "format error (package linux-%s on %s)" % (HERE, arch, machine),
            126)


def say(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def die(msg, code=1):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()
    sys.exit(code)


def stamp():
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())


class HTTPFail(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _post(server, path, headers, data, timeout):
    """POST over a plain socket: (status, body).  The server is loopback
    http (server_of() says so); urllib.request would cost this process
    ~50 ms of imports, and every test boots several runners."""
    host, _, port = server.split("://", 1)[1].rpartition(":")
    head = "POST %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n" \
        "Content-Length: %d\r\n" % (path, host, port, len(data))
    head += "".join("%s: %s\r\n" % kv for kv in headers.items())
    with socket.create_connection((host.strip("[]"), int(port)),
                                  timeout=timeout) as c:
        c.sendall(head.encode() + b"\r\n" + data)
        chunks = []
        while True:
            b = c.recv(65536)
            if not b:
                break
            chunks.append(b)
    raw = b"".join(chunks)
    top, sep, body = raw.partition(b"\r\n\r\n")
    line = top.split(b"\r\n", 1)[0].split()
    if not sep or len(line) < 2 or not line[1].isdigit():
        raise ValueError("malformed HTTP reply")
    for h in top.split(b"\r\n")[1:]:
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length" and v.strip().isdigit():
            body = body[:int(v)]
    return int(line[1]), body


def call(server, path, auth, obj, timeout=10):
    data = json.dumps(obj).encode()
    if not server.startswith("http://"):
        raise HTTPFail(0, "stand-in runner: only http to loopback")
    try:
        status, body = _post(server, path, {
            "Content-Type": "application/json", "Authorization": auth,
            "User-Agent": "GitHubActionsRunner-standin/" + version()},
            data, timeout)
    except (OSError, ValueError) as e:
        raise HTTPFail(0, str(e))
    if status >= 400:
        try:
            msg = json.loads(body.decode()).get("message", "")
        except (ValueError, AttributeError):
            msg = ""
        raise HTTPFail(status, msg or "HTTP %d" % status)
    try:
        return json.loads(body.decode() or "{}")
    except ValueError as e:
        raise HTTPFail(0, str(e))


def server_of(url):
    """--url http://127.0.0.1:PORT/owner/repo -> http://127.0.0.1:PORT."""
    u = urllib.parse.urlsplit(url)
    parts = [p for p in u.path.split("/") if p]
    if u.scheme not in ("http", "https") or not u.hostname or \
            len(parts) not in (1, 2):
        die("Invalid configuration provided for url. Terminating "
            "unattended configuration.")
    if u.hostname not in LOOPBACK:
        die("stand-in runner: refusing to contact '%s' (loopback only)" %
            u.hostname)
    return "%s://%s" % (u.scheme, u.netloc), parts


def read_json(name):
    path = os.path.join(HERE, name)
    with open(path, encoding="utf-8-sig") as fh:
        return json.load(fh)


def write_file(name, text, mode=0o644):
    path = os.path.join(HERE, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


# ------------------------------------------------------------ config.sh

FLAGS = {"--url": 1, "--token": 1, "--name": 1, "--labels": 1,
         "--runnergroup": 1, "--work": 1, "--pat": 1,
         "--no-default-labels": 0, "--unattended": 0, "--disableupdate": 0,
         "--replace": 0, "--ephemeral": 0, "--help": 0, "--version": 0,
         "--commit": 0, "--check": 0}


def parse(argv):
    opts, pos, bad = {}, [], []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            key, eq, val = a.partition("=")
            if key not in FLAGS:
                bad.append(a)
            elif FLAGS[key]:
                if not eq:
                    i += 1
                    if i >= len(argv):
                        die("Missing value for '%s'" % key)
                    val = argv[i]
                opts[key] = val
            else:
                opts[key] = True
        else:
            pos.append(a)
        i += 1
    if bad:
        die("Unrecognized command-line input arguments: '%s'. For usage "
            "refer to: ./config.cmd --help or ./config.sh --help" %
            "', '".join(bad))
    return opts, pos


USAGE = """Commands:
 ./config.sh         Configures the runner
 ./config.sh remove  Unconfigures the runner
 ./run.sh            Runs the runner interactively

Config Options:
 --unattended           Disable interactive prompts for missing arguments
 --url <url>            Repository or organization to add the runner to
 --token <token>        Registration token (remove token for 'remove')
 --name <name>          Name of the runner (default: host name)
 --labels <labels>      Extra labels, comma separated
 --runnergroup <group>  Name of the runner group to add this runner to
                        (defaults to the default runner group)
 --no-default-labels    Do not add self-hosted, Linux, X64
 --work <work>          Work directory (default: _work)
 --replace              Replace a runner with the same name
 --ephemeral            Take one job, then be removed
 --disableupdate        Disable self-update (no-op here)
(local-cloud stand-in runner, see tests/cloud/GITHUB.md)
"""


def config_main(argv):
    opts, pos = parse(argv)
    if opts.get("--help"):
        sys.stdout.write(USAGE)
        return 0
    if opts.get("--version"):
        say(version())
        return 0
    check_arch()
    if os.geteuid() == 0 and not os.environ.get("RUNNER_ALLOW_RUNASROOT"):
        die("Must not run with sudo")
    if pos and pos[0] == "remove":
        return config_remove(opts)
    if pos:
        die("Unrecognized command-line input arguments: '%s'. For usage "
            "refer to: ./config.cmd --help or ./config.sh --help" % pos[0])
    if os.path.exists(os.path.join(HERE, ".runner")):
        die("Cannot configure the runner because it is already configured. "
            "To reconfigure the runner, run 'config.cmd remove' or "
            "'./config.sh remove' first.")
    url = opts.get("--url")
    # like the real runner: ACTIONS_RUNNER_INPUT_<OPTION> stands for --option
    token = opts.get("--token") or os.environ.get("ACTIONS_RUNNER_INPUT_TOKEN")
    if not url:
        die("Invalid configuration provided for url. Terminating "
            "unattended configuration.")
    if not token:
        die("Invalid configuration provided for token. Terminating "
            "unattended configuration.")
    server, _ = server_of(url)
    name = opts.get("--name") or socket.gethostname()
    labels = [x.strip() for x in (opts.get("--labels") or "").split(",")
              if x.strip()]
    work = opts.get("--work") or "_work"
    say("--------------------------------------------------------------"
        "------------------\n|        ____ _ _   _   _       _          "
        "_        _   _                 |\n|  (local-cloud stand-in "
        "runner %s)" % version())
    say("# Authentication\n")
    try:
        reg = call(server, "/_runner/register", "RemoteAuth " + token, {
            "url": url, "name": name, "labels": labels,
            "version": version(),
            "no_default_labels": bool(opts.get("--no-default-labels")),
            "replace": bool(opts.get("--replace")),
            "ephemeral": bool(opts.get("--ephemeral")),
            "runner_group": opts.get("--runnergroup"),
        })
    except HTTPFail as e:
        if e.status == 409:
            die("A runner exists with the same name '%s'. Use --replace to "
                "replace it.\nFailed to add the runner. Try again or "
                "contact support." % name)
        if e.message.startswith("Could not find any self-hosted runner "
                                 "group"):
            die(e.message)
        if e.status == 404:
            extra = e.message.split("\n", 1)[1:]
            die("Http response code: NotFound from 'POST %s/_runner/"
                "register' (stand-in for actions/runner-registration)%s" %
                (server, "".join("\nERROR: " + x for x in extra)))
        if e.status == 0:
            die("An error occurred: %s" % e.message)
        die("Http response code: %d: %s" % (e.status, e.message))
    say("√ Connected to GitHub\n\n# Runner Registration\n")
    runner = {
        "agentId": reg["id"],
        "agentName": reg["name"],
        "poolId": reg.get("runner_group", {}).get("id", 1),
        "poolName": reg.get("runner_group", {}).get("name", "Default"),
        "serverUrl": server,
        "gitHubUrl": url,
        "workFolder": work,
    }
    if opts.get("--ephemeral"):
        runner["ephemeral"] = True
    if opts.get("--disableupdate"):
        runner["disableUpdate"] = True
    write_file(".credentials", json.dumps(
        {"scheme": "Bearer", "data": {"token": reg["credential"]}},
        indent=2), 0o600)
    # the real runner writes .runner as UTF-8 with a byte-order mark
    write_file(".runner", BOM + json.dumps(runner, indent=2))
    os.makedirs(os.path.join(HERE, work), exist_ok=True)
    say("√ Runner successfully added\n√ Runner connection is good\n\n"
        "# Runner settings\n\n√ Settings Saved.\n")
    return 0


def config_remove(opts):
    if not os.path.exists(os.path.join(HERE, ".runner")):
        say("Runner is not configured; nothing to remove")
        return 0
    # like the real runner: ACTIONS_RUNNER_INPUT_<OPTION> stands for --option
    token = opts.get("--token") or os.environ.get("ACTIONS_RUNNER_INPUT_TOKEN")
    if not token:
        die("Invalid configuration provided for token. Terminating "
            "unattended configuration.")
    runner = read_json(".runner")
    server, _ = server_of(runner["gitHubUrl"])
    say("\n# Runner removal\n")
    try:
        call(server, "/_runner/remove", "RemoteAuth " + token,
             {"id": runner["agentId"], "url": runner["gitHubUrl"]})
    except HTTPFail as e:
        if e.status == 0:
            die("An error occurred: %s" % e.message)
        die("Failed: Removing runner from the server\nHttp response code: "
            "%d: %s" % (e.status, e.message))
    say("√ Runner removed successfully")
    for f in (".credentials", ".runner"):
        try:
            os.unlink(os.path.join(HERE, f))
            say("√ Removed %s" % f)
        except FileNotFoundError:
            pass
    return 0


# ------------------------------------------------------------ run.sh

class Stop(Exception):
    pass


def run_main(argv):
    opts, pos = parse(argv)
    if opts.get("--help"):
        sys.stdout.write(USAGE)
        return 0
    if opts.get("--version"):
        say(version())
        return 0
    check_arch()
    try:
        runner = read_json(".runner")
        cred = read_json(".credentials")["data"]["token"]
    except (OSError, ValueError, KeyError):
        die("Not configured. Run config.(sh/cmd) to configure the runner.")
    server = runner["serverUrl"]
    server_of(runner["gitHubUrl"])  # loopback check
    auth = "Bearer " + cred
    work = os.path.join(HERE, runner.get("workFolder", "_work"))
    poll_s = float(os.environ.get("STANDIN_POLL_S", "0.5"))
    state = {"stop": False, "proc": None}

    def on_signal(signum, frame):
        state["stop"] = True
        p = state["proc"]
        if p is not None and p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except OSError:
                pass
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    say("\n√ Connected to GitHub\n\nCurrent runner version: '%s'" %
        version())
    say("%s: Listening for Jobs" % stamp())
    warned = False
    while not state["stop"]:
        try:
            resp = call(server, "/_runner/poll", auth,
                        {"version": version()})
            warned = False
        except HTTPFail as e:
            if e.status == 403 and "deprecated" in e.message:
                die("An error occured: %s" % e.message)
            if e.status == 404:
                die("Failed to create a session. The runner registration "
                    "has been deleted from the server, please "
                    "re-configure.\nRunner listener exit with terminated "
                    "error, stop the service, no retry needed.")
            if not warned:
                sys.stderr.write("%s: Runner connect error: %s. Retrying "
                                 "until reconnected.\n" % (stamp(),
                                                           e.message))
                warned = True
            sleep(poll_s, state)
            continue
        job = resp.get("job")
        if job:
            done = run_job(server, auth, work, runner, job, state, poll_s)
            if done.get("deleted"):
                for f in (".credentials", ".runner"):
                    try:
                        os.unlink(os.path.join(HERE, f))
                    except FileNotFoundError:
                        pass
                say("%s: Runner is ephemeral, exiting" % stamp())
                return 0
            continue
        sleep(poll_s, state)
    try:
        call(server, "/_runner/offline", auth,
             {"output": state.get("output", "")}, timeout=5)
    except HTTPFail:
        pass
    say("%s: Exiting..." % stamp())
    return 0


def sleep(s, state):
    end = time.monotonic() + s
    while not state["stop"] and time.monotonic() < end:
        time.sleep(min(0.1, max(0.0, end - time.monotonic())))


def run_job(server, auth, work, runner, job, state, poll_s):
    jid = job["id"]
    repo = job["repo"].split("/", 1)[-1]
    ws = os.path.join(work, repo, repo)
    tmp = os.path.join(work, "_temp")
    os.makedirs(ws, exist_ok=True)
    os.makedirs(tmp, exist_ok=True)
    script = os.path.join(tmp, "job-%s.sh" % jid)
    outp = os.path.join(tmp, "job-%s.log" % jid)
    with open(script, "w") as fh:
        fh.write(job["script"])
    env = dict(os.environ)
    env.update(job.get("env") or {})
    env.update({
        "CI": "true", "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": job["repo"], "GITHUB_WORKSPACE": ws,
        "GITHUB_RUN_ID": str(job.get("run_id") or ""),
        "RUNNER_NAME": runner["agentName"], "RUNNER_WORKSPACE":
        os.path.dirname(ws), "RUNNER_TEMP": tmp, "RUNNER_OS": "Linux",
    })
    say("%s: Running job: %s" % (stamp(), jid))
    with open(outp, "wb") as out:
        p = subprocess.Popen(["bash", "--noprofile", "--norc", "-eo",
                              "pipefail", script], cwd=ws, env=env,
                             stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT,
                             start_new_session=True)
        state["proc"] = p
        while p.poll() is None:
            if state["stop"]:
                break
            try:  # heartbeat: keeps the runner online while busy
                call(server, "/_runner/poll", auth, {"accept_jobs": False,
                                                    "version": version()})
            except HTTPFail:
                pass
            sleep(poll_s, state)
        if state["stop"]:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    state["proc"] = None
    with open(outp, "rb") as fh:
        output = fh.read().decode("utf-8", "replace")
    for f in (script, outp):
        try:
            os.unlink(f)
        except OSError:
            pass
    if state["stop"]:
        # run_main reports offline, which cancels the job on the server
        say("%s: Job %s cancelled" % (stamp(), jid))
        state["output"] = output
        return {}
    concl = "success" if p.returncode == 0 else "failure"
    say("%s: Job %s completed with result: %s" % (
        stamp(), jid, "Succeeded" if concl == "success" else "Failed"))
    for attempt in range(20):
        try:
            return call(server, "/_runner/complete", auth,
                        {"id": jid, "conclusion": concl, "output": output})
        except HTTPFail as e:
            if e.status == 404:
                return {"deleted": True}
            sleep(poll_s, state)
    return {}


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("config", "run"):
        die("usage: standin.py config|run [args...]", 2)
    sys.exit(config_main(sys.argv[2:]) if sys.argv[1] == "config"
             else run_main(sys.argv[2:]))
