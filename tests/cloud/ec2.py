"""EC2 Query API (2016-11-15) of the local cloud: instances, tags, launch
templates and instant fleets.  XML in AWS's own shapes and error codes.

Everything runs under cloud.lock; handlers raise Error(code, message, status).
"""

import base64
import binascii
import fnmatch
import itertools
import random
import re
import time
import uuid

import catalog

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32,
               "terminated": 48, "stopping": 64, "stopped": 80}

MUTATING = {"CreateTags", "DeleteTags", "TerminateInstances", "CreateFleet",
            "CreateLaunchTemplate", "CreateLaunchTemplateVersion",
            "ModifyLaunchTemplate", "DeleteLaunchTemplate",
            "DeleteLaunchTemplateVersions", "StopInstances", "StartInstances",
            "RunInstances", "RebootInstances"}

MAX_TAGS = 50

# what EC2 answers to an instance type of another architecture than the AMI
# (RunInstances; the fleets put it in their errorSet)
ARCH_MISMATCH = ("The architecture '%s' of the specified instance type does not "
                 "match the architecture '%s' of the specified AMI. Specify an "
                 "instance type and an AMI that have matching architectures, and "
                 "try again. You can use 'describe-instance-types' or "
                 "'describe-images' to discover the architecture of the instance "
                 "type or AMI.")


class Error(Exception):
    def __init__(self, code, message, status=400):
        Exception.__init__(self, "%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status


def esc(s):
    s = str(s)
    if "&" in s or "<" in s or ">" in s:
        s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s


def el(tag, value):
    if value is None:
        return ""
    return "<%s>%s</%s>" % (tag, esc(value), tag)


def iso(t):
    ms = int((t - int(t)) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % ms


def response(action, body, indent=0):
    doc = ("<%sResponse xmlns=\"%s\"><requestId>%s</requestId>%s</%sResponse>" % (
        action, NS, uuid.uuid4(), body, action))
    if indent:
        doc = indent_xml(doc, indent)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + doc).encode("utf-8")


def indent_xml(doc, n):
    """A compact document as EC2 sends its replies: one element per line,
    n spaces per level, leaves on one line with their text, e.g. the
    sample responses of
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
    (Text never holds "><": esc() escapes ">".)"""
    parts = doc[1:-1].split("><")
    # +1 opens (<a>), -1 closes (</a>), 0 stands alone (<a/>, <a>text</a>)
    step = [-1 if p[0] == "/" else 0 if p[-1] == "/" or "</" in p else 1
            for p in parts]
    depth = list(itertools.accumulate(step))
    pads = [" " * (n * d) for d in range(max(depth) + 1)]
    # an element's line is indented by the depth before it opens, or
    # after it closes
    lines = [pads[d - (s > 0)] + "<" + p + ">"
             for d, s, p in zip(depth, step, parts)]
    return "\n".join(lines) + "\n"


def error_body(code, message):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            "<Code>%s</Code><Message>%s</Message></Error></Errors>"
            "<RequestID>%s</RequestID></Response>" % (
                esc(code), esc(message), uuid.uuid4())).encode("utf-8")


def hexid(prefix, n=17):
    return "%s-%0*x" % (prefix, n, random.getrandbits(4 * n))


# --- Query parameter trees ---------------------------------------------------

def tree(params):
    """{'A.1.B': v} -> {'A': {'1': {'B': v}}}."""
    root = {}
    for key, value in params.items():
        node = root
        parts = key.split(".")
        for p in parts[:-1]:
            nxt = node.get(p)
            if not isinstance(nxt, dict):
                nxt = {}
                node[p] = nxt
            node = nxt
        if not isinstance(node.get(parts[-1]), dict):
            node[parts[-1]] = value
    return root


def members(node):
    """Numbered members of a list node, in index order."""
    if not isinstance(node, dict):
        return []
    out = []
    for k, v in node.items():
        if k.isdigit():
            out.append((int(k), v))
    out.sort(key=lambda kv: kv[0])
    return [v for _, v in out]


def scalar(node, *path):
    for p in path:
        if not isinstance(node, dict):
            return None
        node = node.get(p)
    return node if isinstance(node, str) else None


def integer(value, name, lo=None, hi=None):
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise Error("InvalidParameterValue",
                    "Invalid value '%s' for %s" % (value, name))
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        raise Error("InvalidParameterValue",
                    "Value ( %s ) for parameter %s is invalid. Expecting a value "
                    "between %s and %s." % (value, name, lo, hi))
    return n


def tag_list(node):
    """Tag.N.Key/Value members -> [(key, value)]."""
    out = []
    for m in members(node):
        k = scalar(m, "Key")
        if k is None:
            raise Error("MissingParameter",
                        "The request must contain the parameter Tag.Key")
        out.append((k, scalar(m, "Value") or ""))
    return out


def check_tag(key, value):
    if len(key) < 1 or len(key) > 128:
        raise Error("InvalidParameterValue",
                    "Tag key exceeds the maximum length of 128 characters"
                    if key else "Tag key must not be empty")
    if len(value) > 256:
        raise Error("InvalidParameterValue",
                    "Tag value exceeds the maximum length of 256 characters")
    if key.lower().startswith("aws:"):
        raise Error("InvalidParameterValue",
                    "Tag keys starting with 'aws:' are reserved for internal use")


def tag_specs(node, allowed):
    """TagSpecification.N -> {resource_type: [(k, v)]}."""
    out = {}
    for m in members(node):
        rt = scalar(m, "ResourceType")
        if not rt:
            raise Error("MissingParameter",
                        "The request must contain the parameter "
                        "TagSpecification.ResourceType")
        if rt not in allowed:
            raise Error("InvalidParameterValue",
                        "'%s' is not a valid taggable resource type for this "
                        "operation." % rt)
        tags = tag_list(m.get("Tag"))
        for k, v in tags:
            check_tag(k, v)
        out.setdefault(rt, []).extend(tags)
    return out


def tagset_xml(tags):
    if not tags:
        return "<tagSet/>"
    return "<tagSet>%s</tagSet>" % "".join(
        "<item><key>%s</key><value>%s</value></item>" % (esc(k), esc(v))
        for k, v in tags.items())


def wildcard(pattern):
    """AWS filter value -> matcher (only * and ? are special)."""
    if "*" not in pattern and "?" not in pattern:
        return lambda s: s == pattern
    rx = re.compile("".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c)
        for c in pattern) + r"\Z", re.S)
    return lambda s: rx.match(s) is not None


# --- model -------------------------------------------------------------------

class Instance(object):
    __slots__ = ("id", "seq", "reservation", "image", "type", "subnet", "az",
                 "ip", "lifecycle", "launch", "tags", "state", "reason",
                 "visible_at", "lt_id", "lt_version", "profile", "md_tags",
                 "http_tokens", "hop_limit", "shutdown_behavior", "user_data",
                 "groups", "spot_request", "spot_action", "proc", "run",
                 "key_name", "ended", "md_base", "md_pending")

    def xml(self):
        parts = [
            "<item>",
            el("instanceId", self.id),
            el("imageId", self.image),
            "<instanceState><code>%d</code><name>%s</name></instanceState>" % (
                STATE_CODES[self.state], self.state),
            el("privateDnsName", "ip-%s.ec2.internal" % self.ip.replace(".", "-")),
            "<dnsName/>",
            el("reason", self.reason) if self.reason else "<reason/>",
            el("keyName", self.key_name),
            "<amiLaunchIndex>0</amiLaunchIndex><productCodes/>",
            el("instanceType", self.type),
            el("launchTime", iso(self.launch)),
            "<placement>", el("availabilityZone", self.az),
            "<groupName/><tenancy>default</tenancy></placement>",
            "<monitoring><state>disabled</state></monitoring>",
            el("subnetId", self.subnet),
            el("vpcId", catalog.VPC),
            el("privateIpAddress", self.ip),
            "<sourceDestCheck>true</sourceDestCheck>",
            "<groupSet>%s</groupSet>" % "".join(
                "<item><groupId>%s</groupId><groupName>%s</groupName></item>" % (
                    esc(g), esc(g)) for g in self.groups),
        ]
        if self.state == "terminated" or self.state == "shutting-down":
            parts.append("<stateReason><code>Client.UserInitiatedShutdown</code>"
                         "<message>Client.UserInitiatedShutdown: User initiated "
                         "shutdown</message></stateReason>")
        parts.append(el("architecture", catalog.architecture(self.type)) +
                     "<rootDeviceType>ebs</rootDeviceType>"
                     "<rootDeviceName>/dev/xvda</rootDeviceName>"
                     "<blockDeviceMapping/>")
        if self.lifecycle == "spot":
            parts.append("<instanceLifecycle>spot</instanceLifecycle>")
            parts.append(el("spotInstanceRequestId", self.spot_request))
        parts.append("<virtualizationType>hvm</virtualizationType>")
        parts.append(tagset_xml(self.tags))
        if self.profile:
            parts.append("<iamInstanceProfile>%s%s</iamInstanceProfile>" % (
                el("arn", "arn:aws:iam::%s:instance-profile/%s" % (
                    catalog.ACCOUNT, self.profile)),
                el("id", "AIPA" + self.profile.encode().hex().upper()[:17].ljust(17, "0"))))
        parts.append("<hypervisor>xen</hypervisor><ebsOptimized>false</ebsOptimized>"
                     "<enaSupport>true</enaSupport>")
        parts.append("<metadataOptions><state>applied</state>%s%s"
                     "<httpEndpoint>enabled</httpEndpoint>"
                     "<httpProtocolIpv6>disabled</httpProtocolIpv6>%s"
                     "</metadataOptions>" % (
                         el("httpTokens", self.http_tokens),
                         el("httpPutResponseHopLimit", self.hop_limit),
                         el("instanceMetadataTags",
                            "enabled" if self.md_tags else "disabled")))
        parts.append("</item>")
        return "".join(parts)

    def public(self):
        return {
            "id": self.id, "state": self.state, "instance_type": self.type,
            "lifecycle": self.lifecycle, "subnet": self.subnet, "az": self.az,
            "private_ip": self.ip, "image": self.image,
            "launch_time": iso(self.launch), "tags": dict(self.tags),
            "launch_template": self.lt_id, "launch_template_version": self.lt_version,
            "iam_profile": self.profile, "metadata_tags": self.md_tags,
            "shutdown_behavior": self.shutdown_behavior,
            "spot_action": self.spot_action,
        }


class Template(object):
    def __init__(self, tid, name, now, tags):
        self.id = tid
        self.name = name
        self.created = now
        self.default = 1
        self.versions = {}   # number -> (data, description, created)
        self.latest = 0
        self.tags = tags

    def resolve(self, version):
        if version in (None, "", "$Default"):
            n = self.default
        elif version == "$Latest":
            n = self.latest
        else:
            try:
                n = int(version)
            except ValueError:
                raise Error("InvalidLaunchTemplateId.VersionNotFound",
                            "Could not find launch template version %s" % version)
        if n not in self.versions:
            raise Error("InvalidLaunchTemplateId.VersionNotFound",
                        "Could not find launch template version %s for "
                        "launch template %s" % (version, self.id))
        return n

    def xml(self):
        return "".join([
            el("createTime", iso(self.created)),
            el("createdBy", "arn:aws:iam::%s:root" % catalog.ACCOUNT),
            el("defaultVersionNumber", self.default),
            el("latestVersionNumber", self.latest),
            el("launchTemplateId", self.id),
            el("launchTemplateName", self.name),
            tagset_xml(self.tags) if self.tags else "",
        ])

    def version_xml(self, n):
        data, desc, created = self.versions[n]
        return "".join([
            el("createTime", iso(created)),
            el("createdBy", "arn:aws:iam::%s:root" % catalog.ACCOUNT),
            el("defaultVersion", "true" if n == self.default else "false"),
            "<launchTemplateData>%s</launchTemplateData>" % data_xml(data),
            el("launchTemplateId", self.id),
            el("launchTemplateName", self.name),
            el("versionDescription", desc),
            el("versionNumber", n),
        ])


def parse_template_data(node):
    """LaunchTemplateData.* tree -> normalised dict (only what is given)."""
    if not isinstance(node, dict):
        raise Error("MissingParameter",
                    "The request must contain the parameter LaunchTemplateData")
    d = {}
    v = scalar(node, "ImageId")
    if v is not None:
        if not catalog.AMI_RE.match(v):
            raise Error("InvalidAMIID.Malformed", 'Invalid id: "%s" (expecting "ami-...")' % v)
        d["ImageId"] = v
    v = scalar(node, "InstanceType")
    if v is not None:
        if v not in catalog.TYPES:
            raise Error("InvalidParameterValue",
                        "Invalid value '%s' for InstanceType." % v)
        d["InstanceType"] = v
    v = scalar(node, "KeyName")
    if v is not None:
        d["KeyName"] = v
    prof = node.get("IamInstanceProfile")
    if isinstance(prof, dict):
        name, arn = scalar(prof, "Name"), scalar(prof, "Arn")
        if arn is not None:
            m = re.match(r"^arn:aws:iam::\d{12}:instance-profile/(?:.*/)?([\w+=,.@-]+)$", arn)
            if not m:
                raise Error("InvalidParameterValue",
                            "Value (%s) for parameter iamInstanceProfile.arn is "
                            "invalid." % arn)
            name = name or m.group(1)
        if not name:
            raise Error("InvalidParameterValue",
                        "Invalid IAM Instance Profile: name or arn required")
        d["IamInstanceProfile"] = {"Name": name}
        if arn:
            d["IamInstanceProfile"]["Arn"] = arn
    sgs = members(node.get("SecurityGroupId"))
    if sgs:
        for g in sgs:
            if not isinstance(g, str) or not catalog.SG_RE.match(g):
                raise Error("InvalidGroupId.Malformed",
                            'Invalid id: "%s" (expecting "sg-...")' % g)
        d["SecurityGroupIds"] = sgs
    v = scalar(node, "UserData")
    if v is not None:
        try:
            raw = base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError):
            raise Error("InvalidUserData.Malformed",
                        "Invalid BASE64 encoding of user data.")
        if len(raw) > 16384:
            raise Error("InvalidUserData.Malformed",
                        "User data is limited to 16384 bytes")
        d["UserData"] = v
    md = node.get("MetadataOptions")
    if isinstance(md, dict):
        o = {}
        t = scalar(md, "HttpTokens")
        if t is not None:
            if t not in ("optional", "required"):
                raise Error("InvalidParameterValue",
                            "Invalid value '%s' for HttpTokens" % t)
            o["HttpTokens"] = t
        h = scalar(md, "HttpPutResponseHopLimit")
        if h is not None:
            o["HttpPutResponseHopLimit"] = integer(h, "HttpPutResponseHopLimit", 1, 64)
        for key in ("InstanceMetadataTags", "HttpEndpoint"):
            t = scalar(md, key)
            if t is not None:
                if t not in ("enabled", "disabled"):
                    raise Error("InvalidParameterValue",
                                "Invalid value '%s' for %s" % (t, key))
                o[key] = t
        d["MetadataOptions"] = o
    v = scalar(node, "InstanceInitiatedShutdownBehavior")
    if v is not None:
        if v not in ("stop", "terminate"):
            raise Error("InvalidParameterValue",
                        "Invalid value '%s' for InstanceInitiatedShutdownBehavior" % v)
        d["InstanceInitiatedShutdownBehavior"] = v
    if "TagSpecification" in node:
        specs = tag_specs(node.get("TagSpecification"),
                          ("instance", "volume", "network-interface",
                           "spot-instances-request"))
        d["TagSpecifications"] = specs
    imo = node.get("InstanceMarketOptions")
    if isinstance(imo, dict) and scalar(imo, "MarketType"):
        d["MarketType"] = scalar(imo, "MarketType")
    return d


def data_xml(d):
    out = []
    if "IamInstanceProfile" in d:
        p = d["IamInstanceProfile"]
        out.append("<iamInstanceProfile>%s%s</iamInstanceProfile>" % (
            el("arn", p.get("Arn")), el("name", p.get("Name"))))
    out.append(el("imageId", d.get("ImageId")))
    out.append(el("instanceInitiatedShutdownBehavior",
                  d.get("InstanceInitiatedShutdownBehavior")))
    if "MarketType" in d:
        out.append("<instanceMarketOptions>%s</instanceMarketOptions>" %
                   el("marketType", d["MarketType"]))
    out.append(el("instanceType", d.get("InstanceType")))
    out.append(el("keyName", d.get("KeyName")))
    if "MetadataOptions" in d:
        m = d["MetadataOptions"]
        out.append("<metadataOptions>%s%s%s%s</metadataOptions>" % (
            el("httpTokens", m.get("HttpTokens")),
            el("httpPutResponseHopLimit", m.get("HttpPutResponseHopLimit")),
            el("httpEndpoint", m.get("HttpEndpoint")),
            el("instanceMetadataTags", m.get("InstanceMetadataTags"))))
    if "SecurityGroupIds" in d:
        out.append("<securityGroupIdSet>%s</securityGroupIdSet>" % "".join(
            "<item>%s</item>" % esc(g) for g in d["SecurityGroupIds"]))
    if "TagSpecifications" in d:
        out.append("<tagSpecificationSet>%s</tagSpecificationSet>" % "".join(
            "<item>%s%s</item>" % (el("resourceType", rt),
                                   tagset_xml(dict(tags)))
            for rt, tags in d["TagSpecifications"].items()))
    out.append(el("userData", d.get("UserData")))
    return "".join(out)


# --- filters -----------------------------------------------------------------

def _tag_values(key):
    return lambda i: [i.tags[key]] if key in i.tags else []


INSTANCE_FILTERS = {
    "instance-id": lambda i: [i.id],
    "instance-state-name": lambda i: [i.state],
    "instance-state-code": lambda i: [str(STATE_CODES[i.state])],
    "instance-type": lambda i: [i.type],
    "availability-zone": lambda i: [i.az],
    "placement.availability-zone": lambda i: [i.az],
    "subnet-id": lambda i: [i.subnet],
    "vpc-id": lambda i: [catalog.VPC],
    "image-id": lambda i: [i.image],
    "instance-lifecycle": lambda i: [i.lifecycle] if i.lifecycle == "spot" else [],
    "private-ip-address": lambda i: [i.ip],
    "reservation-id": lambda i: [i.reservation],
    "tag-key": lambda i: list(i.tags.keys()),
    "tag-value": lambda i: list(i.tags.values()),
    "iam-instance-profile.arn": lambda i: [
        "arn:aws:iam::%s:instance-profile/%s" % (catalog.ACCOUNT, i.profile)]
    if i.profile else [],
    "spot-instance-request-id": lambda i: [i.spot_request] if i.spot_request else [],
    "launch-time": lambda i: [iso(i.launch)],
    "instance.group-id": lambda i: list(i.groups),
    "metadata-options.instance-metadata-tags": lambda i: [
        "enabled" if i.md_tags else "disabled"],
}


def parse_filters(p, table):
    out = []
    for f in members(p.get("Filter")):
        name = scalar(f, "Name")
        if not name:
            raise Error("MissingParameter",
                        "The request must contain the parameter Filter.Name")
        values = [v for v in members(f.get("Value")) if isinstance(v, str)]
        if name.startswith("tag:"):
            getter = _tag_values(name[4:])
        elif name in table:
            getter = table[name]
        else:
            raise Error("InvalidParameterValue",
                        "The filter '%s' is invalid" % name)
        matchers = [wildcard(v) for v in values]
        out.append((getter, matchers))
    return out


def matches(obj, filters):
    for getter, matchers in filters:
        vals = getter(obj)
        ok = False
        for v in vals:
            for m in matchers:
                if m(v):
                    ok = True
                    break
            if ok:
                break
        if not ok:
            return False
    return True


IMAGE_FILTERS = {
    # (id, name, architecture, description)
    "image-id": lambda r: [r[0]],
    "name": lambda r: [r[1]],
    "architecture": lambda r: [r[2]],
    "description": lambda r: [r[3]],
    "state": lambda r: ["available"],
    "owner-id": lambda r: [catalog.IMAGE_OWNER],
    "owner-alias": lambda r: ["amazon"],
    "is-public": lambda r: ["true"],
    "image-type": lambda r: ["machine"],
    "root-device-type": lambda r: ["ebs"],
    "virtualization-type": lambda r: ["hvm"],
}

INSTANCE_TYPE_FILTERS = {
    "instance-type": lambda t: [t],
    "processor-info.supported-architecture": lambda t: [catalog.architecture(t)],
    "vcpu-info.default-vcpus": lambda t: [str(catalog.vcpus(t))],
    "memory-info.size-in-mib": lambda t: [str(catalog.memory_mib(t))],
    "burstable-performance-supported": lambda t: [
        "true" if catalog.burstable(t) else "false"],
    "current-generation": lambda t: ["true"],
    "bare-metal": lambda t: ["false"],
    "supported-virtualization-type": lambda t: ["hvm"],
}


SUBNET_FILTERS = {
    # (id, {"vpc_id", "az", ...})
    "subnet-id": lambda r: [r[0]],
    "vpc-id": lambda r: [r[1]["vpc_id"]],
    "availability-zone": lambda r: [r[1]["az"]],
    "state": lambda r: ["available"],
}

OFFERING_FILTERS = {
    # (instance type, location)
    "instance-type": lambda r: [r[0]],
    "location": lambda r: [r[1]],
}


def _page_token(kind, start):
    return base64.b64encode(("%s:%d:%s" % (kind, start, uuid.uuid4().hex[:8]))
                            .encode()).decode()


def _page_start(token, kind):
    if not token:
        return 0
    try:
        k, n, _ = base64.b64decode(token.encode()).decode().split(":")
        if k != kind:
            raise ValueError(k)
        return int(n)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Error("InvalidParameterValue",
                    "Invalid value '%s' for nextToken" % token)


# --- the service -------------------------------------------------------------

class EC2(object):
    def __init__(self, cloud):
        self.cloud = cloud
        self.reset()

    def reset(self):
        self.instances = {}       # id -> Instance, in launch order
        self.templates = {}       # id -> Template
        self.template_names = {}  # name -> id
        self.fleets = {}
        self.images = {}          # id -> (name, arch, description), registered
        self.client_tokens = {}   # (action, token) -> response bytes
        self.seq = 0
        self.next_ip = {}
        self.subnets = {}         # id -> {"vpc_id", "az", "available"}, registered
        self.groups = {}          # id -> {"vpc_id", "name"}, registered

    # helpers

    def settings(self):
        return self.cloud.settings

    def now(self):
        return self.cloud.now()

    def alloc_ip(self, subnet, base):
        n = self.next_ip.get(subnet, 4)
        self.next_ip[subnet] = n + 1
        a, b, c = base
        return "%d.%d.%d.%d" % (a, b + (c + n // 256) // 256, (c + n // 256) % 256, n % 256)

    def tags_written(self, inst):
        """Instance metadata shows a tag write only md_tags_ms later."""
        if self.settings()["md_tags_ms"] <= 0:
            inst.md_base = dict(inst.tags)
            inst.md_pending = []
        else:
            inst.md_pending.append((self.now(), dict(inst.tags)))

    def md_tags(self, inst):
        """The instance's tags as its metadata shows them now."""
        seen = self.now() - self.settings()["md_tags_ms"] / 1000.0
        while inst.md_pending and inst.md_pending[0][0] <= seen:
            inst.md_base = inst.md_pending.pop(0)[1]
        return dict(inst.md_base)

    def visible(self, inst, now):
        return now >= inst.visible_at

    def check_ids(self, ids, now, what="instance"):
        for i in ids:
            if not catalog.INSTANCE_RE.match(i):
                raise Error("InvalidInstanceID.Malformed",
                            'Invalid id: "%s"' % i)
        missing = [i for i in ids if i not in self.instances or
                   not self.visible(self.instances[i], now)]
        if missing:
            if len(missing) == 1:
                raise Error("InvalidInstanceID.NotFound",
                            "The instance ID '%s' does not exist" % missing[0])
            raise Error("InvalidInstanceID.NotFound",
                        "The instance IDs '%s' do not exist" % ", ".join(missing))

    def notfound_fault(self, action, ids):
        f = self.cloud.fault("ec2", action, ("notfound",))
        if f is not None and ids:
            raise Error("InvalidInstanceID.NotFound",
                        "The instance ID '%s' does not exist" % ids[0])

    def new_instance(self, now, itype, subnet, lifecycle, reservation, tags,
                     data=None, lt=None, state=None):
        az, _az_id, base = catalog.subnet_info(subnet, self.settings()["region"])
        i = Instance()
        i.id = hexid("i")
        while i.id in self.instances:
            i.id = hexid("i")
        self.seq += 1
        i.seq = self.seq
        i.reservation = reservation
        data = data or {}
        i.image = data.get("ImageId") or catalog.DEFAULT_IMAGE
        i.type = itype
        i.subnet = subnet
        i.az = az
        i.ip = self.alloc_ip(subnet, base)
        i.lifecycle = lifecycle
        i.launch = now
        i.tags = dict(tags)
        i.md_base = dict(tags)   # the tags instance metadata shows
        i.md_pending = []        # (when, tags) written, not shown yet
        i.reason = ""
        i.visible_at = now + self.settings()["consistency_ms"] / 1000.0
        i.lt_id, i.lt_version = lt if lt else (None, None)
        prof = data.get("IamInstanceProfile")
        i.profile = prof["Name"] if prof else None
        md = data.get("MetadataOptions", {})
        i.md_tags = md.get("InstanceMetadataTags") == "enabled"
        i.http_tokens = md.get("HttpTokens", "required")
        i.hop_limit = md.get("HttpPutResponseHopLimit", 2)
        i.shutdown_behavior = data.get("InstanceInitiatedShutdownBehavior", "stop")
        ud = data.get("UserData")
        i.user_data = base64.b64decode(ud) if ud else None
        i.groups = list(data.get("SecurityGroupIds", ["sg-0a1b2c3d4e5f60001"]))
        i.key_name = data.get("KeyName")
        i.spot_request = hexid("sir", 8) if lifecycle == "spot" else None
        i.spot_action = None
        i.proc = None
        i.run = False
        i.ended = None
        pending = self.settings()["pending_ms"]
        i.state = state or ("pending" if pending > 0 else "running")
        self.instances[i.id] = i
        if i.state == "pending":
            self.cloud.schedule(pending / 1000.0, self._ready, i.id)
        elif i.state == "terminated":
            i.ended = now
            self.cloud.schedule(self.settings()["terminated_ttl_ms"] / 1000.0,
                                self._purge, i.id)
        return i

    def _ready(self, iid):
        i = self.instances.get(iid)
        if i is not None and i.state == "pending":
            i.state = "running"
            if i.run:
                self.cloud.spawn(i)

    def _purge(self, iid):
        i = self.instances.get(iid)
        if i is not None and i.state == "terminated":
            del self.instances[iid]

    def _gone(self, iid, final):
        i = self.instances.get(iid)
        if i is None:
            return
        if final == "terminated" and i.state == "shutting-down":
            i.state = "terminated"
            i.ended = self.now()
            self.cloud.schedule(self.settings()["terminated_ttl_ms"] / 1000.0,
                                self._purge, iid)
        elif final == "stopped" and i.state == "stopping":
            i.state = "stopped"

    def start(self, i):
        """Start the instance's user data once it is running."""
        i.run = True
        if i.state == "running":
            self.cloud.spawn(i)

    def terminate(self, i, reason="User initiated"):
        prev = i.state
        if prev in ("shutting-down", "terminated"):
            return prev
        self.cloud.kill(i)
        i.reason = "%s (%s)" % (reason, time.strftime(
            "%Y-%m-%d %H:%M:%S GMT", time.gmtime(self.now())))
        ms = self.settings()["shutdown_ms"]
        i.state = "shutting-down"
        if ms > 0:
            self.cloud.schedule(ms / 1000.0, self._gone, i.id, "terminated")
        else:
            self._gone(i.id, "terminated")
        return prev

    def stop(self, i):
        if i.state not in ("pending", "running"):
            return
        self.cloud.kill(i)
        i.state = "stopping"
        i.reason = "User initiated (%s)" % time.strftime(
            "%Y-%m-%d %H:%M:%S GMT", time.gmtime(self.now()))
        ms = self.settings()["shutdown_ms"]
        if ms > 0:
            self.cloud.schedule(ms / 1000.0, self._gone, i.id, "stopped")
        else:
            self._gone(i.id, "stopped")

    def instance_shutdown(self, i):
        """The instance ran shutdown/poweroff."""
        if i.shutdown_behavior == "terminate":
            self.terminate(i, "User initiated")
        else:
            self.stop(i)

    # dispatch

    def handle(self, action, params):
        fn = getattr(self, "op_" + action, None)
        if fn is None:
            raise Error("InvalidAction",
                        "The action %s is not valid for this web service." % action)
        p = tree(params)
        return response(action, fn(params, p),
                        int(self.settings().get("xml_indent") or 0))

    # --- instances ---

    def op_DescribeInstances(self, params, p):
        now = self.now()
        ids = [v for v in members(p.get("InstanceId")) if isinstance(v, str)]
        filters = parse_filters(p, INSTANCE_FILTERS)
        max_results = params.get("MaxResults")
        if max_results is not None:
            if ids:
                raise Error("InvalidParameterCombination",
                            "The parameter instancesSet cannot be used with the "
                            "parameter maxResults")
            limit = integer(max_results, "MaxResults", 5, 1000)
        else:
            limit = self.settings()["page_size"] or 0
        start = 0
        token = params.get("NextToken")
        if token:
            try:
                start = int(base64.b64decode(token.encode()).decode().split(":")[1])
            except (ValueError, IndexError, binascii.Error, UnicodeDecodeError):
                raise Error("InvalidParameterValue",
                            "Invalid value '%s' for nextToken" % token)
        self.notfound_fault("DescribeInstances", ids)
        if ids:
            self.check_ids(ids, now)
            pool = [self.instances[i] for i in dict.fromkeys(ids)]
        else:
            pool = self.instances.values()
        out = []
        more = None
        for i in pool:
            if i.seq < start or now < i.visible_at:
                continue
            if filters and not matches(i, filters):
                continue
            if limit and len(out) == limit:
                more = i.seq
                break
            out.append(i)
        groups = {}
        for i in out:
            groups.setdefault(i.reservation, []).append(i)
        body = ["<reservationSet>"]
        for rid, insts in groups.items():
            body.append("<item>%s%s<groupSet/><instancesSet>%s</instancesSet></item>" % (
                el("reservationId", rid), el("ownerId", catalog.ACCOUNT),
                "".join(i.xml() for i in insts)))
        body.append("</reservationSet>")
        if more is not None:
            tok = base64.b64encode(("di:%d:%s" % (
                more, uuid.uuid4().hex[:8])).encode()).decode()
            pad = int(self.settings().get("next_token_len", 0)) - len(tok)
            # opaque to the client: padding it keeps it decodable here
            body.append(el("nextToken", "." * max(0, pad) + tok))
        return "".join(body)

    def op_TerminateInstances(self, params, p):
        now = self.now()
        ids = [v for v in members(p.get("InstanceId")) if isinstance(v, str)]
        if not ids:
            raise Error("MissingParameter",
                        "The request must contain the parameter InstanceId")
        if len(ids) > 1000:
            raise Error("InvalidParameterValue",
                        "You can terminate up to 1000 instances in one request")
        self.notfound_fault("TerminateInstances", ids)
        self.check_ids(ids, now)
        items = []
        for iid in dict.fromkeys(ids):
            i = self.instances[iid]
            prev = self.terminate(i)
            items.append("<item>%s<currentState><code>%d</code><name>%s</name>"
                         "</currentState><previousState><code>%d</code><name>%s"
                         "</name></previousState></item>" % (
                             el("instanceId", iid), STATE_CODES[i.state], i.state,
                             STATE_CODES[prev], prev))
        return "<instancesSet>%s</instancesSet>" % "".join(items)

    def op_StopInstances(self, params, p):
        now = self.now()
        ids = [v for v in members(p.get("InstanceId")) if isinstance(v, str)]
        if not ids:
            raise Error("MissingParameter",
                        "The request must contain the parameter InstanceId")
        self.check_ids(ids, now)
        items = []
        for iid in dict.fromkeys(ids):
            i = self.instances[iid]
            prev = i.state
            if i.lifecycle == "spot":
                raise Error("UnsupportedOperation",
                            "You can't stop the Spot Instance '%s' because it "
                            "is associated with a one-time Spot Instance request."
                            % iid)
            self.stop(i)
            items.append("<item>%s<currentState><code>%d</code><name>%s</name>"
                         "</currentState><previousState><code>%d</code><name>%s"
                         "</name></previousState></item>" % (
                             el("instanceId", iid), STATE_CODES[i.state], i.state,
                             STATE_CODES[prev], prev))
        return "<instancesSet>%s</instancesSet>" % "".join(items)

    # --- tags ---

    def _tag_targets(self, p, now):
        ids = [v for v in members(p.get("ResourceId")) if isinstance(v, str)]
        if not ids:
            raise Error("MissingParameter",
                        "The request must contain the parameter ResourceId")
        if len(ids) > 1000:
            raise Error("InvalidParameterValue",
                        "Too many resource IDs: at most 1000 per request")
        inst_ids = [i for i in ids if i.startswith("i-")]
        self.check_ids(inst_ids, now)
        out = []
        for rid in dict.fromkeys(ids):
            if rid.startswith("i-"):
                out.append(self.instances[rid])
            elif rid.startswith("lt-"):
                if rid not in self.templates:
                    raise Error("InvalidLaunchTemplateId.NotFound",
                                "The specified launch template, with template ID "
                                "%s, does not exist." % rid)
                out.append(self.templates[rid])
            else:
                raise Error("InvalidID", "The ID '%s' is not valid" % rid)
        return ids, out

    def op_CreateTags(self, params, p):
        now = self.now()
        tags = tag_list(p.get("Tag"))
        if not tags:
            raise Error("MissingParameter",
                        "The request must contain the parameter Tag")
        for k, v in tags:
            check_tag(k, v)
        ids = [v for v in members(p.get("ResourceId")) if isinstance(v, str)]
        self.notfound_fault("CreateTags", ids)
        ids, targets = self._tag_targets(p, now)
        new = dict(tags)
        # validated for every resource first: the call is all or nothing
        for t in targets:
            n = len(t.tags) + sum(1 for k in new if k not in t.tags)
            if n > MAX_TAGS:
                raise Error("TagLimitExceeded",
                            "The maximum number of tags (50) for resource '%s' "
                            "has been reached." % t.id)
        for t in targets:
            t.tags.update(new)
            if isinstance(t, Instance):
                self.tags_written(t)
        return "<return>true</return>"

    def op_DeleteTags(self, params, p):
        now = self.now()
        specs = []
        for m in members(p.get("Tag")):
            k = scalar(m, "Key")
            if k is None:
                raise Error("MissingParameter",
                            "The request must contain the parameter Tag.Key")
            specs.append((k, scalar(m, "Value")))
        ids, targets = self._tag_targets(p, now)
        for t in targets:
            if not specs:
                t.tags.clear()
            for k, v in specs:
                if k in t.tags and (v is None or t.tags[k] == v):
                    del t.tags[k]
            if isinstance(t, Instance):
                self.tags_written(t)
        return "<return>true</return>"

    def op_DescribeTags(self, params, p):
        filters = []
        for f in members(p.get("Filter")):
            name = scalar(f, "Name")
            vals = [wildcard(v) for v in members(f.get("Value")) if isinstance(v, str)]
            getter = {"resource-id": lambda r: [r[0]], "key": lambda r: [r[1]],
                      "value": lambda r: [r[2]],
                      "resource-type": lambda r: [r[3]]}.get(name)
            if getter is None:
                raise Error("InvalidParameterValue",
                            "The filter '%s' is invalid" % name)
            filters.append((getter, vals))
        rows = []
        for i in self.instances.values():
            for k, v in i.tags.items():
                rows.append((i.id, k, v, "instance"))
        for t in self.templates.values():
            for k, v in t.tags.items():
                rows.append((t.id, k, v, "launch-template"))
        rows = [r for r in rows if matches(r, filters)]
        return "<tagSet>%s</tagSet>" % "".join(
            "<item>%s%s%s%s</item>" % (el("resourceId", r[0]),
                                       el("resourceType", r[3]),
                                       el("key", r[1]), el("value", r[2]))
            for r in rows)

    # --- launch templates ---

    def _template(self, p, required=True):
        tid = scalar(p, "LaunchTemplateId")
        name = scalar(p, "LaunchTemplateName")
        if tid and name:
            raise Error("InvalidParameterCombination",
                        "Only one of LaunchTemplateId and LaunchTemplateName "
                        "may be specified")
        if tid:
            if not catalog.LT_ID_RE.match(tid):
                raise Error("InvalidLaunchTemplateId.Malformed",
                            "The specified ID for the launch template, %s, is "
                            "malformed." % tid)
            t = self.templates.get(tid)
            if t is None:
                raise Error("InvalidLaunchTemplateId.NotFound",
                            "The specified launch template, with template ID "
                            "%s, does not exist." % tid)
            return t
        if name:
            t = self.templates.get(self.template_names.get(name))
            if t is None:
                raise Error("InvalidLaunchTemplateName.NotFoundException",
                            "The specified launch template, with template name "
                            "%s, does not exist." % name)
            return t
        if required:
            raise Error("MissingParameter",
                        "The request must contain the parameter "
                        "LaunchTemplateName or LaunchTemplateId")
        return None

    def op_CreateLaunchTemplate(self, params, p):
        name = scalar(p, "LaunchTemplateName")
        if not name:
            raise Error("MissingParameter",
                        "The request must contain the parameter LaunchTemplateName")
        if not re.match(r"^[a-zA-Z0-9().\-/_]{3,128}$", name):
            raise Error("InvalidLaunchTemplateName.MalformedException",
                        "A launch template name must be between 3 and 128 "
                        "characters, and may contain letters, numbers, and the "
                        "following characters: - ( ) . / _.'")
        token = params.get("ClientToken")
        if token and ("CreateLaunchTemplate", token) in self.client_tokens:
            return self.client_tokens[("CreateLaunchTemplate", token)]
        if name in self.template_names:
            raise Error("InvalidLaunchTemplateName.AlreadyExistsException",
                        "Launch template name already in use.")
        data = parse_template_data(p.get("LaunchTemplateData"))
        tags = dict(tag_specs(p.get("TagSpecification"),
                              ("launch-template",)).get("launch-template", []))
        now = self.now()
        t = Template(hexid("lt"), name, now, tags)
        t.versions[1] = (data, scalar(p, "VersionDescription"), now)
        t.latest = 1
        self.templates[t.id] = t
        self.template_names[name] = t.id
        body = "<launchTemplate>%s</launchTemplate>%s" % (
            t.xml(), self.validation_warning("CreateLaunchTemplate"))
        if token:
            self.client_tokens[("CreateLaunchTemplate", token)] = body
        return body

    def validation_warning(self, action):
        """A ValidationWarning, when a fault of kind 'warning' asks for one:
        what EC2 returns for template parameters that are not valid
        (API_ValidationWarning: warning/errorSet/item/code,message)."""
        f = self.cloud.fault("ec2", action, ("warning",))
        if not f:
            return ""
        return "<warning><errorSet><item>%s%s</item></errorSet></warning>" % (
            el("code", f.get("code", "InvalidParameterValue")),
            el("message", f.get("message", "A parameter is not valid.")))

    def op_CreateLaunchTemplateVersion(self, params, p):
        t = self._template(p)
        data = parse_template_data(p.get("LaunchTemplateData"))
        src = scalar(p, "SourceVersion")
        if src is not None:
            base = dict(t.versions[t.resolve(src)][0])
            base.update(data)
            data = base
        now = self.now()
        t.latest += 1
        t.versions[t.latest] = (data, scalar(p, "VersionDescription"), now)
        return "<launchTemplateVersion>%s</launchTemplateVersion>%s" % (
            t.version_xml(t.latest),
            self.validation_warning("CreateLaunchTemplateVersion"))

    def op_ModifyLaunchTemplate(self, params, p):
        t = self._template(p)
        v = scalar(p, "SetDefaultVersion")
        if v is not None:
            t.default = t.resolve(v)
        return "<launchTemplate>%s</launchTemplate>" % t.xml()

    def op_DeleteLaunchTemplate(self, params, p):
        t = self._template(p)
        del self.templates[t.id]
        del self.template_names[t.name]
        return "<launchTemplate>%s</launchTemplate>" % t.xml()

    def op_DescribeLaunchTemplates(self, params, p):
        ids = [v for v in members(p.get("LaunchTemplateId")) if isinstance(v, str)]
        names = [v for v in members(p.get("LaunchTemplateName")) if isinstance(v, str)]
        filters = parse_filters(p, {
            "launch-template-name": lambda t: [t.name],
            "tag-key": lambda t: list(t.tags.keys()),
        })
        for f in members(p.get("Filter")):
            pass
        if ids or names:
            out = []
            for tid in ids:
                if not catalog.LT_ID_RE.match(tid):
                    raise Error("InvalidLaunchTemplateId.Malformed",
                                "The specified ID for the launch template, %s, "
                                "is malformed." % tid)
                if tid not in self.templates:
                    raise Error("InvalidLaunchTemplateId.NotFound",
                                "At least one of the launch templates specified "
                                "in the request does not exist.")
                out.append(self.templates[tid])
            for n in names:
                if n not in self.template_names:
                    raise Error("InvalidLaunchTemplateName.NotFoundException",
                                "At least one of the launch templates specified "
                                "in the request does not exist.")
                out.append(self.templates[self.template_names[n]])
        else:
            out = list(self.templates.values())
        out = [t for t in out if matches(t, filters)]
        return "<launchTemplates>%s</launchTemplates>" % "".join(
            "<item>%s</item>" % t.xml() for t in out)

    def op_DescribeLaunchTemplateVersions(self, params, p):
        t = self._template(p, required=False)
        wanted = [v for v in members(p.get("LaunchTemplateVersion")) if isinstance(v, str)]
        templates = [t] if t else list(self.templates.values())
        if not t and not wanted:
            wanted = ["$Latest"]
        lo = params.get("MinVersion")
        hi = params.get("MaxVersion")
        items = []
        for tt in templates:
            if wanted:
                nums = list(dict.fromkeys(tt.resolve(v) for v in wanted))
            else:
                nums = sorted(tt.versions, reverse=True)
            if lo is not None:
                nums = [n for n in nums if n >= integer(lo, "MinVersion", 1)]
            if hi is not None:
                nums = [n for n in nums if n <= integer(hi, "MaxVersion", 1)]
            items.extend("<item>%s</item>" % tt.version_xml(n) for n in nums)
        return "<launchTemplateVersionSet>%s</launchTemplateVersionSet>" % "".join(items)

    # --- images and instance types ---

    def image(self, ami):
        """(name, architecture, description) of an image that exists, or None."""
        if ami == catalog.MISSING_IMAGE:
            return None
        return self.images.get(ami) or catalog.IMAGES.get(ami)

    def register_image(self, spec):
        """Control API: make one more image exist."""
        ami = spec.get("image_id") or hexid("ami")
        if not catalog.AMI_RE.match(ami) or ami == catalog.MISSING_IMAGE:
            raise ValueError("bad image id %r" % ami)
        arch = spec.get("architecture", "x86_64")
        if arch not in catalog.ARCHITECTURES:
            raise ValueError("unknown architecture %r" % arch)
        self.images[ami] = (spec.get("name") or "image-" + ami[4:], arch,
                            spec.get("description") or "")
        return ami

    def _image_xml(self, ami):
        name, arch, desc = self.image(ami)
        return "".join([
            "<item>", el("imageId", ami),
            el("imageLocation", "amazon/" + name),
            "<imageState>available</imageState>",
            el("imageOwnerId", catalog.IMAGE_OWNER),
            "<creationDate>2024-05-28T00:00:00.000Z</creationDate>",
            "<isPublic>true</isPublic>",
            el("architecture", arch),
            "<imageType>machine</imageType>",
            "<platformDetails>Linux/UNIX</platformDetails>",
            "<usageOperation>RunInstances</usageOperation>",
            "<imageOwnerAlias>amazon</imageOwnerAlias>",
            el("name", name), el("description", desc),
            "<rootDeviceType>ebs</rootDeviceType>",
            "<rootDeviceName>/dev/xvda</rootDeviceName>",
            "<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName>"
            "<ebs><deleteOnTermination>true</deleteOnTermination>"
            "<volumeSize>8</volumeSize><volumeType>gp3</volumeType>"
            "<encrypted>false</encrypted></ebs></item></blockDeviceMapping>",
            "<virtualizationType>hvm</virtualizationType>",
            "<hypervisor>xen</hypervisor><enaSupport>true</enaSupport>",
            "<sriovNetSupport>simple</sriovNetSupport>",
            "<bootMode>%s</bootMode>" % ("uefi" if arch == "arm64" else
                                         "uefi-preferred"),
            "<imdsSupport>v2.0</imdsSupport>",
            "</item>"])

    def op_DescribeImages(self, params, p):
        # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html
        ids = [v for v in members(p.get("ImageId")) if isinstance(v, str)]
        for ami in ids:
            if not catalog.AMI_RE.match(ami):
                raise Error("InvalidAMIID.Malformed",
                            'Invalid id: "%s" (expecting "ami-...")' % ami)
        missing = [a for a in dict.fromkeys(ids) if self.image(a) is None]
        if len(missing) == 1:
            raise Error("InvalidAMIID.NotFound",
                        "The image id '[%s]' does not exist" % missing[0])
        if missing:
            raise Error("InvalidAMIID.NotFound",
                        "The image ids '[%s]' do not exist" % ", ".join(missing))
        owners = [v for v in members(p.get("Owner")) if isinstance(v, str)]
        filters = parse_filters(p, IMAGE_FILTERS)
        if ids:
            pool = list(dict.fromkeys(ids))
        else:
            pool = list(catalog.IMAGES) + [a for a in self.images
                                           if a not in catalog.IMAGES]
        out = []
        for ami in pool:
            if owners and not ({"amazon", catalog.IMAGE_OWNER} & set(owners)):
                continue
            if filters and not matches((ami,) + self.image(ami), filters):
                continue
            out.append(self._image_xml(ami))
        return "<imagesSet>%s</imagesSet>" % "".join(out)

    def _requirements(self, req, archs):
        """Instance types meeting an InstanceRequirements tree and of one of
        the architectures, cheapest first (AWS's attribute-based selection:
        https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceRequirements.html)."""
        if not isinstance(req, dict):
            raise Error("MissingParameter",
                        "The request must contain the parameter "
                        "InstanceRequirements")
        vc = req.get("VCpuCount")
        mm = req.get("MemoryMiB")
        if not isinstance(vc, dict) or scalar(vc, "Min") is None:
            raise Error("MissingParameter",
                        "The request must contain the parameter "
                        "InstanceRequirements.VCpuCount.Min")
        if not isinstance(mm, dict) or scalar(mm, "Min") is None:
            raise Error("MissingParameter",
                        "The request must contain the parameter "
                        "InstanceRequirements.MemoryMiB.Min")
        vmin = integer(scalar(vc, "Min"), "VCpuCount.Min", 0)
        vmax = scalar(vc, "Max")
        vmax = integer(vmax, "VCpuCount.Max", 0) if vmax is not None else None
        mmin = integer(scalar(mm, "Min"), "MemoryMiB.Min", 0)
        mmax = scalar(mm, "Max")
        mmax = integer(mmax, "MemoryMiB.Max", 0) if mmax is not None else None
        allowed = [v for v in members(req.get("AllowedInstanceType")) if isinstance(v, str)]
        excluded = [v for v in members(req.get("ExcludedInstanceType")) if isinstance(v, str)]
        if allowed and excluded:
            raise Error("InvalidParameterCombination",
                        "You can't specify both AllowedInstanceTypes and "
                        "ExcludedInstanceTypes")
        if len(allowed) > 400 or len(excluded) > 400:
            raise Error("InvalidParameterValue",
                        "You can specify up to 400 instance types or patterns "
                        "in AllowedInstanceTypes or ExcludedInstanceTypes")
        burst = scalar(req, "BurstablePerformance") or "excluded"
        amatch = [wildcard(a) for a in allowed]
        ematch = [wildcard(e) for e in excluded]
        out = []
        for name in catalog.TYPES:
            if catalog.architecture(name) not in archs:
                continue
            v, m = catalog.vcpus(name), catalog.memory_mib(name)
            if v < vmin or (vmax is not None and v > vmax):
                continue
            if m < mmin or (mmax is not None and m > mmax):
                continue
            if amatch and not any(f(name) for f in amatch):
                continue
            if any(f(name) for f in ematch):
                continue
            b = catalog.burstable(name)
            if (burst == "excluded" and b) or (burst == "required" and not b):
                continue
            out.append(name)
        out.sort(key=lambda t: (catalog.price(t), t))
        return out

    def op_GetInstanceTypesFromInstanceRequirements(self, params, p):
        # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetInstanceTypesFromInstanceRequirements.html
        archs = [v for v in members(p.get("ArchitectureType")) if isinstance(v, str)]
        virt = [v for v in members(p.get("VirtualizationType")) if isinstance(v, str)]
        if not archs:
            raise Error("MissingParameter",
                        "The request must contain the parameter ArchitectureType")
        if not virt:
            raise Error("MissingParameter",
                        "The request must contain the parameter VirtualizationType")
        for a in archs:
            if a not in catalog.ARCHITECTURES:
                raise Error("InvalidParameterValue",
                            "Invalid value '%s' for ArchitectureType" % a)
        for v in virt:
            if v not in ("hvm", "paravirtual"):
                raise Error("InvalidParameterValue",
                            "Invalid value '%s' for VirtualizationType" % v)
        limit = params.get("MaxResults")
        limit = integer(limit, "MaxResults", 1, 1000) if limit is not None else 1000
        types = (sorted(self._requirements(p.get("InstanceRequirements"), archs))
                 if "hvm" in virt else [])
        start = _page_start(params.get("NextToken"), "gt")
        page = types[start:start + limit]
        body = "<instanceTypeSet>%s</instanceTypeSet>" % "".join(
            "<item>%s</item>" % el("instanceType", t) for t in page)
        if start + limit < len(types):
            body += el("nextToken", _page_token("gt", start + limit))
        return body

    def op_DescribeInstanceTypes(self, params, p):
        # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypes.html
        names = [v for v in members(p.get("InstanceType")) if isinstance(v, str)]
        bad = [t for t in names if t not in catalog.TYPES]
        if bad:
            raise Error("InvalidInstanceType",
                        "The following supplied instance types do not exist: "
                        "[%s]" % ", ".join(bad))
        filters = parse_filters(p, INSTANCE_TYPE_FILTERS)
        limit = params.get("MaxResults")
        limit = integer(limit, "MaxResults", 5, 100) if limit is not None else 100
        types = [t for t in (names or sorted(catalog.TYPES))
                 if not filters or matches(t, filters)]
        start = _page_start(params.get("NextToken"), "dit")
        page = types[start:start + limit]
        items = []
        for t in page:
            items.append("".join([
                "<item>", el("instanceType", t),
                "<currentGeneration>true</currentGeneration>",
                "<supportedUsageClasses><item>on-demand</item><item>spot</item>"
                "</supportedUsageClasses>",
                "<supportedRootDeviceTypes><item>ebs</item></supportedRootDeviceTypes>",
                "<supportedVirtualizationTypes><item>hvm</item>"
                "</supportedVirtualizationTypes>",
                "<bareMetal>false</bareMetal><hypervisor>nitro</hypervisor>",
                "<processorInfo><supportedArchitectures>%s</supportedArchitectures>"
                "</processorInfo>" % el("item", catalog.architecture(t)),
                "<vCpuInfo>%s</vCpuInfo>" % el("defaultVCpus", catalog.vcpus(t)),
                "<memoryInfo>%s</memoryInfo>" % el("sizeInMiB", catalog.memory_mib(t)),
                el("burstablePerformanceSupported",
                   "true" if catalog.burstable(t) else "false"),
                "</item>"]))
        body = "<instanceTypeSet>%s</instanceTypeSet>" % "".join(items)
        if start + limit < len(types):
            body += el("nextToken", _page_token("dit", start + limit))
        return body


    # --- networking (read only: subnets, security groups, type offerings) ---

    def subnet(self, sid):
        """{"vpc_id", "az", "cidr", "available"} of a subnet that exists, or
        None: the four of the catalogue and those registered."""
        region = self.settings()["region"]
        if sid in self.subnets:
            d = dict(self.subnets[sid])
        elif sid in catalog.KNOWN_SUBNETS:
            d = {"vpc_id": catalog.VPC, "available": None}
        else:
            return None
        az, az_id, base = catalog.subnet_info(sid, region)
        d.setdefault("az", az)
        d["az_id"] = az_id
        d["cidr"] = "%d.%d.%d.0/18" % base
        if d.get("available") is None:
            # a /18 less AWS's 5 reserved addresses and those in use
            used = sum(1 for i in self.instances.values()
                       if i.subnet == sid and i.state != "terminated")
            d["available"] = 16384 - 5 - used
        return d

    def register_subnet(self, spec):
        """Control API: make a subnet exist (in another VPC, say)."""
        sid = spec.get("subnet_id") or hexid("subnet")
        if not catalog.SUBNET_RE.match(sid):
            raise ValueError("bad subnet id %r" % sid)
        d = {"vpc_id": spec.get("vpc_id", catalog.VPC),
             "available": spec.get("available")}
        if spec.get("az"):
            d["az"] = spec["az"]
        if d["available"] is not None:
            d["available"] = int(d["available"])
        self.subnets[sid] = d
        return sid

    def group(self, gid):
        if gid in self.groups:
            return self.groups[gid]
        if gid == catalog.DEFAULT_GROUP:
            return {"vpc_id": catalog.VPC, "name": "default"}
        return None

    def register_group(self, spec):
        """Control API: make a security group exist."""
        gid = spec.get("group_id") or hexid("sg")
        if not catalog.SG_RE.match(gid):
            raise ValueError("bad security group id %r" % gid)
        self.groups[gid] = {"vpc_id": spec.get("vpc_id", catalog.VPC),
                            "name": spec.get("name") or "group-" + gid[3:]}
        return gid

    def op_DescribeSubnets(self, params, p):
        # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSubnets.html
        ids = [v for v in members(p.get("SubnetId")) if isinstance(v, str)]
        for sid in ids:
            if not catalog.SUBNET_RE.match(sid):
                raise Error("InvalidSubnetID.Malformed",
                            'Invalid id: "%s"' % sid)
        missing = [s for s in dict.fromkeys(ids) if self.subnet(s) is None]
        if missing:
            raise Error("InvalidSubnetID.NotFound",
                        "The subnet ID '%s' does not exist" % ", ".join(missing))
        pool = list(dict.fromkeys(ids)) or (
            list(catalog.KNOWN_SUBNETS) +
            [s for s in self.subnets if s not in catalog.KNOWN_SUBNETS])
        filters = parse_filters(p, SUBNET_FILTERS)
        items = []
        for sid in pool:
            d = self.subnet(sid)
            if filters and not matches((sid, d), filters):
                continue
            items.append("".join([
                "<item>", el("subnetId", sid),
                el("subnetArn", "arn:aws:ec2:%s:%s:subnet/%s" % (
                    self.settings()["region"], catalog.ACCOUNT, sid)),
                "<state>available</state>", el("vpcId", d["vpc_id"]),
                el("ownerId", catalog.ACCOUNT), el("cidrBlock", d["cidr"]),
                el("availableIpAddressCount", d["available"]),
                el("availabilityZone", d["az"]),
                el("availabilityZoneId", d["az_id"]),
                "<defaultForAz>false</defaultForAz>",
                "<mapPublicIpOnLaunch>false</mapPublicIpOnLaunch>",
                "</item>"]))
        return "<subnetSet>%s</subnetSet>" % "".join(items)

    def op_DescribeSecurityGroups(self, params, p):
        # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSecurityGroups.html
        ids = [v for v in members(p.get("GroupId")) if isinstance(v, str)]
        for gid in ids:
            if not catalog.SG_RE.match(gid):
                raise Error("InvalidGroupId.Malformed",
                            'Invalid id: "%s" (expecting "sg-...")' % gid)
        missing = [g for g in dict.fromkeys(ids) if self.group(g) is None]
        if missing:
            raise Error("InvalidGroup.NotFound",
                        "The security group '%s' does not exist" % missing[0])
        pool = list(dict.fromkeys(ids)) or (
            [catalog.DEFAULT_GROUP] + [g for g in self.groups
                                       if g != catalog.DEFAULT_GROUP])
        items = []
        for gid in pool:
            g = self.group(gid)
            items.append("".join([
                "<item>", el("ownerId", catalog.ACCOUNT), el("groupId", gid),
                el("groupName", g["name"]),
                el("groupDescription", "security group " + g["name"]),
                el("vpcId", g["vpc_id"]), "<ipPermissions/>",
                "<ipPermissionsEgress><item><ipProtocol>-1</ipProtocol>"
                "<ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges>"
                "</item></ipPermissionsEgress>", "</item>"]))
        return "<securityGroupInfo>%s</securityGroupInfo>" % "".join(items)

    def offered(self, itype, az):
        """Whether the type is offered in the AZ: every catalogue type in
        every AZ of the region (a-f) but those the setting unoffered lists
        as "TYPE@AZ" patterns."""
        return not any(fnmatch.fnmatchcase("%s@%s" % (itype, az), pat)
                       for pat in self.settings()["unoffered"])

    def op_DescribeInstanceTypeOfferings(self, params, p):
        # https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html
        kind = params.get("LocationType") or "region"
        region = self.settings()["region"]
        if kind == "region":
            locs = [region]
        elif kind == "availability-zone":
            locs = [region + c for c in "abcdef"]
        elif kind == "availability-zone-id":
            locs = [catalog.subnet_info("subnet-00000000", region)[1][:-1] + str(n)
                    for n in range(1, 7)]
        else:
            raise Error("InvalidParameterValue",
                        "Invalid value '%s' for LocationType" % kind)
        filters = parse_filters(p, OFFERING_FILTERS)
        rows = []
        for t in sorted(catalog.TYPES):
            for loc in locs:
                az = (region + "abcdef"[int(loc[-1]) - 1]
                      if kind == "availability-zone-id" else loc)
                if kind != "region" and not self.offered(t, az):
                    continue
                if filters and not matches((t, loc), filters):
                    continue
                rows.append((t, loc))
        limit = params.get("MaxResults")
        limit = integer(limit, "MaxResults", 5, 1000) if limit is not None else 1000
        start = _page_start(params.get("NextToken"), "dito")
        page = rows[start:start + limit]
        body = "<instanceTypeOfferingSet>%s</instanceTypeOfferingSet>" % "".join(
            "<item>%s%s%s</item>" % (el("instanceType", t),
                                     el("locationType", kind), el("location", loc))
            for t, loc in page)
        if start + limit < len(rows):
            body += el("nextToken", _page_token("dito", start + limit))
        return body

    # --- DryRun ---

    def dry_run(self, action, params):
        """What EC2 checks of a DryRun request besides the permission, read
        only: the resources it names must exist.  Raises Error, or returns
        and the caller answers DryRunOperation."""
        if getattr(self, "op_" + action, None) is None:
            raise Error("InvalidAction",
                        "The action %s is not valid for this web service." % action)
        p = tree(params)
        now = self.now()
        if action == "TerminateInstances" or action == "StopInstances":
            ids = [v for v in members(p.get("InstanceId")) if isinstance(v, str)]
            self.check_ids(ids, now)
        elif action in ("CreateTags", "DeleteTags"):
            self._tag_targets(p, now)
        elif action in ("CreateLaunchTemplateVersion", "ModifyLaunchTemplate",
                        "DeleteLaunchTemplate"):
            self._template(p)
        elif action == "CreateFleet":
            for c in members(p.get("LaunchTemplateConfigs")):
                spec = c.get("LaunchTemplateSpecification")
                if isinstance(spec, dict):
                    t = self._template(spec)
                    t.resolve(scalar(spec, "Version"))

    # --- fleets ---

    def op_CreateFleet(self, params, p):
        now = self.now()
        ftype = scalar(p, "Type") or "maintain"
        if ftype != "instant":
            raise Error("InvalidParameterValue",
                        "The local cloud supports only fleets of type 'instant'")
        token = params.get("ClientToken")
        if token and ("CreateFleet", token) in self.client_tokens:
            return self.client_tokens[("CreateFleet", token)]
        configs = members(p.get("LaunchTemplateConfigs"))
        if not configs:
            raise Error("MissingParameter",
                        "The request must contain the parameter LaunchTemplateConfigs")
        tcs = p.get("TargetCapacitySpecification")
        total = scalar(tcs, "TotalTargetCapacity") if isinstance(tcs, dict) else None
        if total is None:
            raise Error("MissingParameter",
                        "The request must contain the parameter "
                        "TargetCapacitySpecification.TotalTargetCapacity")
        total = integer(total, "TotalTargetCapacity", 0, 10000)
        default_type = scalar(tcs, "DefaultTargetCapacityType") or "on-demand"
        if default_type not in ("spot", "on-demand"):
            raise Error("InvalidParameterValue",
                        "Invalid value '%s' for DefaultTargetCapacityType" % default_type)
        unit = scalar(tcs, "TargetCapacityUnitType") or "units"
        if unit not in ("units", "vcpu", "memory-mib"):
            raise Error("InvalidParameterValue",
                        "Invalid value '%s' for TargetCapacityUnitType" % unit)
        spot_cap = scalar(tcs, "SpotTargetCapacity")
        od_cap = scalar(tcs, "OnDemandTargetCapacity")
        if default_type == "spot":
            od = integer(od_cap, "OnDemandTargetCapacity", 0) if od_cap else 0
            spot = total - od
        else:
            spot = integer(spot_cap, "SpotTargetCapacity", 0) if spot_cap else 0
            od = total - spot
        strategy = scalar(p, "SpotOptions", "AllocationStrategy") or "lowest-price"
        if strategy not in ("lowest-price", "diversified", "capacity-optimized",
                            "capacity-optimized-prioritized",
                            "price-capacity-optimized"):
            raise Error("InvalidParameterValue",
                        "Invalid value '%s' for SpotOptions.AllocationStrategy" % strategy)
        specs = tag_specs(p.get("TagSpecification"), ("instance", "fleet", "volume"))
        # resolve (template spec, override) pools
        pools = []   # (lt_spec_xml, subnet, types, data, lt)
        bad = []     # errorSet items of pools that cannot launch
        nomatch = []  # ... of pools whose requirements match no type
        for c in configs:
            spec = c.get("LaunchTemplateSpecification")
            if not isinstance(spec, dict):
                raise Error("MissingParameter",
                            "The request must contain the parameter "
                            "LaunchTemplateSpecification")
            t = self._template(spec)
            version = scalar(spec, "Version")
            n = t.resolve(version)
            data = t.versions[n][0]
            overrides = members(c.get("Overrides")) or [{}]
            for o in overrides:
                subnet = scalar(o, "SubnetId") or catalog.DEFAULT_SUBNET
                if not catalog.SUBNET_RE.match(subnet):
                    raise Error("InvalidSubnetID.Malformed",
                                'Invalid id: "%s"' % subnet)
                itype = scalar(o, "InstanceType")
                if itype is not None and itype not in catalog.TYPES:
                    raise Error("InvalidParameterValue",
                                "Invalid value '%s' for InstanceType." % itype)
                req = o.get("InstanceRequirements")
                img = data.get("ImageId")
                if img is None:
                    raise Error("MissingParameter",
                                "The request must contain the parameter ImageId")
                spec_xml = ("<launchTemplateSpecification>%s%s"
                            "</launchTemplateSpecification>" % (
                                el("launchTemplateId", t.id),
                                el("version", version if version else str(n))))
                itype = itype or (None if isinstance(req, dict)
                                  else data.get("InstanceType"))
                image = self.image(img)
                if image is None:
                    # as EC2: the image id is only checked at launch
                    bad.append(self._fleet_error(
                        spec_xml, subnet, itype, default_type,
                        "InvalidAMIID.NotFound",
                        "The image id '[%s]' does not exist" % img))
                    types = []
                elif itype is not None:
                    # an explicit type must match the AMI's architecture
                    # (the error RunInstances and the fleets give)
                    arch = catalog.architecture(itype)
                    types = [itype]
                    if arch != image[1]:
                        bad.append(self._fleet_error(
                            spec_xml, subnet, itype, default_type,
                            "InvalidParameterValue", ARCH_MISMATCH % (
                                arch, image[1])))
                        types = []
                elif isinstance(req, dict):
                    # attribute-based selection only considers the types that
                    # can run the launch template's AMI: one fleet can mix x86
                    # and arm64 only through one launch template per AMI
                    # (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-fleet-attribute-based-instance-type-selection.html)
                    types = self._requirements(req, (image[1],))
                else:
                    types = []
                if image is not None and itype is None and not types:
                    nomatch.append(self._fleet_error(
                        spec_xml, subnet, None, default_type,
                        "InvalidFleetConfiguration",
                        "Your requested instance requirements do not "
                        "match any instance type"))
                pools.append((spec_xml, subnet, types, data, (t.id, n)))
        fleet_id = "fleet-" + str(uuid.uuid4())
        fault = self.cloud.fault("ec2", "CreateFleet", ("capacity", "partial"))
        reservation = hexid("r")
        launched = {}    # (pool idx, type, lifecycle) -> [ids]
        errors = []
        tags = {}
        for k, v in specs.get("instance", []):
            tags[k] = v
        cap_left = {"spot": spot, "on-demand": od}
        allowed_units = None
        if fault is not None and fault["kind"] == "partial":
            allowed_units = int(fault.get("launch", max(0, total // 2)))
        rr = 0
        usable = [(k, pl) for k, pl in enumerate(pools) if pl[2]]
        errors.extend(bad)
        if not usable and total > 0:
            errors.extend(nomatch)
        for life in ("on-demand", "spot"):
            need = cap_left[life]
            if need <= 0 or not usable:
                continue
            if fault is not None and fault["kind"] == "capacity":
                for k, pl in usable:
                    errors.append(self._fleet_error(
                        pl[0], pl[1], pl[2][0], life, "InsufficientInstanceCapacity",
                        "There is no Spot capacity available that matches your "
                        "request." if life == "spot" else
                        "We currently do not have sufficient capacity in the "
                        "Availability Zone you requested."))
                continue
            got = 0
            while got < need:
                if allowed_units is not None and allowed_units <= 0:
                    break
                k, pl = usable[rr % len(usable)]
                rr += 1
                spec_xml, subnet, types, data, lt = pl
                if strategy == "diversified" and life == "spot":
                    itype = types[(rr // len(usable)) % len(types)]
                else:
                    itype = types[0]
                inst_tags = {}
                for kk, vv in data.get("TagSpecifications", {}).get("instance", []):
                    inst_tags[kk] = vv
                inst_tags.update(tags)
                if len(inst_tags) > MAX_TAGS:
                    raise Error("TagLimitExceeded",
                                "The maximum number of tags (50) has been reached.")
                i = self.new_instance(now, itype, subnet, life, reservation,
                                      inst_tags, data, lt)
                if self.settings()["run_user_data"] and i.user_data is not None:
                    self.start(i)
                launched.setdefault((k, itype, life), []).append(i.id)
                units = (1 if unit == "units" else catalog.vcpus(itype)
                         if unit == "vcpu" else catalog.memory_mib(itype))
                got += units
                if allowed_units is not None:
                    allowed_units -= 1
            if got < need:
                for k, pl in usable:
                    errors.append(self._fleet_error(
                        pl[0], pl[1], pl[2][0], life, "InsufficientInstanceCapacity",
                        "There is no Spot capacity available that matches your "
                        "request." if life == "spot" else
                        "We currently do not have sufficient capacity in the "
                        "Availability Zone you requested."))
        self.fleets[fleet_id] = {"instances": [x for v in launched.values() for x in v],
                                 "tags": dict(specs.get("fleet", []))}
        items = []
        for (k, itype, life), ids in launched.items():
            spec_xml, subnet = pools[k][0], pools[k][1]
            items.append("<item>%s%s<instanceIds>%s</instanceIds>%s</item>" % (
                self._lto(spec_xml, subnet, itype), el("lifecycle", life),
                "".join(el("item", x) for x in ids), el("instanceType", itype)))
        body = "%s<errorSet>%s</errorSet><fleetInstanceSet>%s</fleetInstanceSet>" % (
            el("fleetId", fleet_id), "".join(errors), "".join(items))
        if token:
            self.client_tokens[("CreateFleet", token)] = body
        return body

    def _lto(self, spec_xml, subnet, itype):
        return ("<launchTemplateAndOverrides>%s<overrides>%s%s</overrides>"
                "</launchTemplateAndOverrides>" % (
                    spec_xml, el("instanceType", itype), el("subnetId", subnet)))

    def _fleet_error(self, spec_xml, subnet, itype, life, code, message):
        return "<item>%s%s%s%s</item>" % (
            self._lto(spec_xml, subnet, itype), el("lifecycle", life),
            el("errorCode", code), el("errorMessage", message))

    # --- seeding (control API) ---

    def seed(self, spec):
        now = self.now()
        count = int(spec.get("count", 1))
        itype = spec.get("instance_type", "c5.large")
        if itype not in catalog.TYPES:
            raise ValueError("unknown instance type %r" % itype)
        state = spec.get("state", "running")
        if state not in STATE_CODES:
            raise ValueError("unknown state %r" % state)
        life = spec.get("lifecycle", "on-demand")
        subnets = spec.get("subnets") or [spec.get("subnet") or s
                                          for s in catalog.KNOWN_SUBNETS]
        data = {}
        if spec.get("image_id"):
            data["ImageId"] = spec["image_id"]
        if spec.get("iam_profile"):
            data["IamInstanceProfile"] = {"Name": spec["iam_profile"]}
        md = {}
        if spec.get("metadata_tags"):
            md["InstanceMetadataTags"] = "enabled"
        if spec.get("http_tokens"):
            md["HttpTokens"] = spec["http_tokens"]
        if md:
            data["MetadataOptions"] = md
        if spec.get("shutdown_behavior"):
            data["InstanceInitiatedShutdownBehavior"] = spec["shutdown_behavior"]
        if spec.get("user_data") is not None:
            data["UserData"] = base64.b64encode(
                spec["user_data"].encode()).decode()
        tags = spec.get("tags") or {}
        if len(tags) > MAX_TAGS:
            raise ValueError("more than 50 tags")
        ids = []
        reservation = hexid("r")
        saved = self.settings()["consistency_ms"]
        for n in range(count):
            t = {k: str(v).replace("{n}", str(n)) for k, v in tags.items()}
            i = self.new_instance(now, itype, subnets[n % len(subnets)], life,
                                  reservation, t, data, None, state)
            if not spec.get("consistency", False):
                i.visible_at = now
            if spec.get("launch_time") is not None:
                i.launch = float(spec["launch_time"])
            if spec.get("run_user_data") and i.user_data is not None:
                self.start(i)
            ids.append(i.id)
        del saved
        return ids
