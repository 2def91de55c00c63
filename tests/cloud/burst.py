#!/usr/bin/env python3
"""burst.py URL N SERVICE:ACTION [PARAM=VALUE...]: send N signed EC2 or SSM
requests to the local cloud at once (16 threads, one attempt each) and print
one HTTP status a line.  For tests of the request limits: the tools, one
process a call, cannot outrun a refill of 20 a second on a loaded machine.
Python 3 standard library only; 127.0.0.1 only."""

import hashlib
import json
import sys
import threading
import time
import urllib.parse
import urllib.request
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sigv4  # noqa: E402

KEY, SECRET, REGION = ("AKIDLOCALCLOUD000001", "localcloud+secret+key+000001",
                       "us-east-1")


def request(url, service, action, params):
    if service == "ssm":
        body = json.dumps(params).encode()
        ctype = "application/x-amz-json-1.1"
        extra = [("X-Amz-Target", "AmazonSSM." + action)]
    else:
        q = {"Action": action, "Version": "2016-11-15"}
        q.update(params)
        body = urllib.parse.urlencode(q).encode()
        ctype = "application/x-www-form-urlencoded"
        extra = []
    now = time.gmtime()
    amz = time.strftime("%Y%m%dT%H%M%SZ", now)
    date = amz[:8]
    host = urllib.parse.urlparse(url).netloc
    headers = [("Host", host), ("Content-Type", ctype), ("X-Amz-Date", amz)] + extra
    signed = sorted(h[0].lower() for h in headers)
    creq = sigv4.canonical_request("POST", "/", "", headers, signed,
                                   hashlib.sha256(body).hexdigest())
    scope = "%s/%s/%s/aws4_request" % (date, REGION, service)
    sig = sigv4.sign(SECRET, date, REGION, service,
                     sigv4.string_to_sign(amz, scope, creq))
    h = dict(headers)
    h["Authorization"] = ("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                          "Signature=%s" % (KEY, scope, ";".join(signed), sig))
    del h["Host"]
    try:
        with urllib.request.urlopen(urllib.request.Request(
                url + "/", data=body, headers=h, method="POST"), timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def main():
    url, n, what = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if not url.startswith("http://127.0.0.1:"):
        sys.exit("burst.py: 127.0.0.1 only")
    service, action = what.split(":", 1)
    params = dict(a.split("=", 1) for a in sys.argv[4:])
    out = []
    lock = threading.Lock()
    todo = list(range(n))

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                todo.pop()
            s = request(url, service, action, params)
            with lock:
                out.append(s)
    ts = [threading.Thread(target=worker) for _ in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for s in out:
        print(s)


if __name__ == "__main__":
    main()
