"""One AWS CLI process for many calls (tests/0010 only; standard library and
the AWS CLI's own modules).

The AWS CLI spends about 1.5 s of CPU starting (importing botocore and its
service models) for each call: most of 0010's time.  This server imports
it once, with the interpreter of the `aws` script itself, and runs each
call with a fresh driver (a new session, so nothing is cached from one call
to the next but the imported modules), the caller's AWS_* environment and
working directory, stdin from /dev/null, and the call's stdout and stderr
(file descriptors 1 and 2) captured.  What answers the cloud is still the
real AWS CLI: its parsing, retries, pagination and error messages.

    python3 awscli_server.py SOCKET      serve on a unix socket (until killed)
    python3 awscli_server.py --client SOCKET ARG...
                                         one call: prints its stdout and
                                         stderr, exits with its status

Request and reply are one JSON object each:
    {"argv": [...], "env": {"AWS_...": "..."}, "cwd": "..."}
    {"rc": N, "out": base64, "err": base64}
"""

import base64
import json
import os
import socket
import sys
import tempfile


def client(path, argv):
    env = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    req = json.dumps({"argv": argv, "env": env, "cwd": os.getcwd()})
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(req.encode() + b"\n")
    s.shutdown(socket.SHUT_WR)
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            break
        chunks.append(b)
    r = json.loads(b"".join(chunks))
    sys.stdout.buffer.write(base64.b64decode(r["out"]))
    sys.stdout.flush()
    sys.stderr.buffer.write(base64.b64decode(r["err"]))
    sys.stderr.flush()
    return r["rc"]


def run(req, base_env, create_clidriver):
    os.environ.clear()
    os.environ.update(base_env)
    os.environ.update(req.get("env", {}))
    os.environ["AWS_DATA_PATH"] = base_env.get("AWS_DATA_PATH", "")
    if not os.environ["AWS_DATA_PATH"]:
        del os.environ["AWS_DATA_PATH"]
    os.chdir(req.get("cwd", "/"))
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    try:
        try:
            rc = create_clidriver().main(list(req["argv"]))
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except Exception as e:  # a crash of the CLI is the call's failure
            sys.stderr.write("awscli_server: %s: %s\n" % (type(e).__name__, e))
            rc = 255
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
    out.seek(0)
    err.seek(0)
    return {"rc": rc if rc is not None else 0,
            "out": base64.b64encode(out.read()).decode(),
            "err": base64.b64encode(err.read()).decode()}


def serve(path):
    # this directory's modules (ec2, ssm, ...) are not the CLI's
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    import awscli.clidriver as cli
    # v2 builds the driver in AWSCLIEntryPoint (data paths, plugins); v1
    # has create_clidriver alone
    if hasattr(cli, "AWSCLIEntryPoint"):
        def create_clidriver():
            return cli.AWSCLIEntryPoint()
    else:
        create_clidriver = cli.create_clidriver
    # the environment each call starts from: the server's, without its
    # AWS_* (a call brings its own), but with what importing the CLI set
    # (AWS_DATA_PATH: where its own models are)
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith("AWS_") or k == "AWS_DATA_PATH"}
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path + ".new")
    os.rename(path + ".new", path)
    s.listen(16)
    while True:
        conn, _ = s.accept()
        with conn:
            f = conn.makefile("rb")
            line = f.readline()
            try:
                reply = run(json.loads(line), base_env, create_clidriver)
            except Exception as e:
                reply = {"rc": 255, "out": "",
                         "err": base64.b64encode(("awscli_server: %s\n" % e).encode()).decode()}
            conn.sendall(json.dumps(reply).encode())
            f.close()
            conn.shutdown(socket.SHUT_RDWR)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--client":
        sys.exit(client(sys.argv[2], sys.argv[3:]))
    if len(sys.argv) != 2:
        sys.exit("usage: awscli_server.py SOCKET | --client SOCKET ARG...")
    serve(sys.argv[1])
