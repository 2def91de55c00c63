"""IMDSv2 of every instance, under /_imds/<instance-id>/latest/..., plus the
pseudo instance /_imds/host/ for the machine the tools run on."""

import base64
import json
import secrets
import string
import time

import catalog

HOST_ROLE = "localcloud-host-role"
HOST_ID = "i-0f00000000000000f"

_NOT_FOUND = (b'<?xml version="1.0" encoding="iso-8859-1"?>\n'
              b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n'
              b'\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
              b'<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n'
              b' <head>\n  <title>404 - Not Found</title>\n </head>\n <body>\n'
              b'  <h1>404 - Not Found</h1>\n </body>\n</html>\n')


def _page(code, title):
    return _NOT_FOUND.replace(b"404 - Not Found", ("%d - %s" % (code, title)).encode())


def iso_s(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _rand(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


class IMDS(object):
    def __init__(self, cloud):
        self.cloud = cloud
        self.reset()

    def reset(self):
        self.tokens = {}   # token -> (who, expires)
        self.issued = {}   # (who, role) -> access key

    # credentials ---------------------------------------------------------

    def credentials(self, who, role):
        """Temporary ASIA credentials for (instance, role), rotated like IMDS."""
        now = self.cloud.now()
        key = self.issued.get((who, role))
        c = self.cloud.creds.get(key) if key else None
        if c is None or c["expires"] - now < 300:
            key = "ASIA" + _rand(string.ascii_uppercase + string.digits, 16)
            c = {
                "secret": _rand(string.ascii_letters + string.digits + "+/", 40),
                "token": "IQoJb3JpZ2luX2VjE" + base64.b64encode(
                    secrets.token_bytes(300)).decode(),
                "expires": now + self.cloud.settings["credentials_ttl_s"],
                "issued": now, "instance": who, "role": role,
            }
            self.cloud.creds[key] = c
            self.issued[(who, role)] = key
        return json.dumps({
            "Code": "Success", "LastUpdated": iso_s(c["issued"]),
            "Type": "AWS-HMAC", "AccessKeyId": key,
            "SecretAccessKey": c["secret"], "Token": c["token"],
            "Expiration": iso_s(c["expires"]),
        }, indent=2)

    # tree ----------------------------------------------------------------

    def _host_tree(self):
        region = self.cloud.settings["region"]
        az = region + "a"
        return {
            "meta-data": {
                "ami-id": catalog.DEFAULT_IMAGE,
                "instance-id": HOST_ID,
                "instance-type": "c5.large",
                "instance-life-cycle": "on-demand",
                "local-ipv4": "10.0.0.2",
                "placement": {"availability-zone": az, "region": region},
                "iam": {
                    "info": json.dumps({
                        "Code": "Success", "LastUpdated": iso_s(self.cloud.now()),
                        "InstanceProfileArn": "arn:aws:iam::%s:instance-profile/%s"
                        % (catalog.ACCOUNT, HOST_ROLE),
                        "InstanceProfileId": "AIPAHOSTPROFILE000001"}, indent=2),
                    "security-credentials": {
                        HOST_ROLE: lambda: self.credentials("host", HOST_ROLE)},
                },
            },
            "dynamic": {"instance-identity": {"document": json.dumps({
                "accountId": catalog.ACCOUNT, "architecture": "x86_64",
                "availabilityZone": az, "imageId": catalog.DEFAULT_IMAGE,
                "instanceId": HOST_ID, "instanceType": "c5.large",
                "privateIp": "10.0.0.2", "region": region, "version": "2017-09-30",
            }, indent=2)}},
        }

    def _tree(self, i):
        region = self.cloud.settings["region"]
        md = {
            "ami-id": i.image,
            "ami-launch-index": "0",
            "hostname": "ip-%s.ec2.internal" % i.ip.replace(".", "-"),
            "local-hostname": "ip-%s.ec2.internal" % i.ip.replace(".", "-"),
            "instance-id": i.id,
            "instance-type": i.type,
            "instance-life-cycle": i.lifecycle,
            "local-ipv4": i.ip,
            "mac": "0e:00:00:%02x:%02x:%02x" % tuple(
                int(x) for x in i.ip.split(".")[1:]),
            "reservation-id": i.reservation,
            "security-groups": "\n".join(i.groups),
            "placement": {"availability-zone": i.az, "region": region,
                          "availability-zone-id":
                              catalog.subnet_info(i.subnet, region)[1]},
        }
        if i.md_tags:
            md["tags"] = {"instance": self.cloud.ec2.md_tags(i)}
        if i.profile:
            md["iam"] = {
                "info": json.dumps({
                    "Code": "Success", "LastUpdated": iso_s(i.launch),
                    "InstanceProfileArn": "arn:aws:iam::%s:instance-profile/%s"
                    % (catalog.ACCOUNT, i.profile),
                    "InstanceProfileId": "AIPA" + i.profile.encode().hex().upper()[:17]},
                    indent=2),
                "security-credentials": {
                    i.profile: lambda: self.credentials(i.id, i.profile)},
            }
        if i.spot_action:
            md["spot"] = {
                "instance-action": json.dumps({"action": i.spot_action["action"],
                                               "time": iso_s(i.spot_action["time"])}),
                "termination-time": iso_s(i.spot_action["time"]),
            }
        t = {"meta-data": md,
             "dynamic": {"instance-identity": {"document": json.dumps({
                 "accountId": catalog.ACCOUNT, "architecture": catalog.architecture(i.type),
                 "availabilityZone": i.az, "imageId": i.image,
                 "instanceId": i.id, "instanceType": i.type,
                 "pendingTime": iso_s(i.launch), "privateIp": i.ip,
                 "region": region, "version": "2017-09-30",
             }, indent=2)}}}
        if i.user_data is not None:
            t["user-data"] = i.user_data
        return t

    # request -------------------------------------------------------------

    def handle(self, who, rest, method, headers):
        """who: instance id or 'host'; rest: path after 'latest/'.
        Returns (status, headers, body, action)."""
        text = {"Content-Type": "text/plain", "Server": "EC2ws"}
        now = self.cloud.now()
        inst = None
        if who != "host":
            inst = self.cloud.ec2.instances.get(who)
            if inst is None or inst.state not in ("pending", "running"):
                return 404, {"Content-Type": "text/html"}, _page(404, "Not Found")
        if rest == "api/token":
            if method != "PUT":
                return 405, {"Content-Type": "text/html"}, _page(405, "Method Not Allowed")
            ttl = headers.get("x-aws-ec2-metadata-token-ttl-seconds")
            try:
                n = int(ttl)
            except (TypeError, ValueError):
                n = 0
            if not 1 <= n <= 21600:
                return 400, {"Content-Type": "text/html"}, _page(400, "Bad Request")
            tok = "AQAEA" + base64.urlsafe_b64encode(secrets.token_bytes(42)).decode()
            self.tokens[tok] = (who, now + n)
            if len(self.tokens) > 10000:
                self.tokens = {k: v for k, v in self.tokens.items() if v[1] > now}
            h = dict(text)
            h["X-Aws-Ec2-Metadata-Token-Ttl-Seconds"] = str(n)
            return 200, h, tok.encode()
        if method not in ("GET", "HEAD"):
            return 405, {"Content-Type": "text/html"}, _page(405, "Method Not Allowed")
        tok = headers.get("x-aws-ec2-metadata-token")
        if tok is not None:
            t = self.tokens.get(tok)
            if t is None or t[0] != who or t[1] < now:
                return 401, {"Content-Type": "text/html"}, _page(401, "Unauthorized")
        elif inst is None or inst.http_tokens != "optional":
            return 401, {"Content-Type": "text/html"}, _page(401, "Unauthorized")
        node = self._host_tree() if inst is None else self._tree(inst)
        parts = [p for p in rest.split("/") if p]
        for p in parts:
            if not isinstance(node, dict) or p not in node:
                return 404, {"Content-Type": "text/html"}, _page(404, "Not Found")
            node = node[p]
        if callable(node):
            node = node()
        if isinstance(node, dict):
            body = "\n".join(k + "/" if isinstance(v, dict) else k
                             for k, v in node.items()).encode()
        elif isinstance(node, bytes):
            body = node
            text = {"Content-Type": "application/octet-stream", "Server": "EC2ws"}
        else:
            body = node.encode("utf-8")
        return 200, text, body
