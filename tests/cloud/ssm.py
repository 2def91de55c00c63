"""SSM Parameter Store (JSON 1.1 protocol, X-Amz-Target: AmazonSSM.<Op>)."""

import base64
import hashlib
import json
import re

import catalog

MUTATING = {"PutParameter", "DeleteParameter", "DeleteParameters",
            "LabelParameterVersion", "AddTagsToResource",
            "RemoveTagsFromResource"}

NAME_RE = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
TYPES = ("String", "StringList", "SecureString")
TIER_LIMITS = {"Standard": 4096, "Advanced": 8192, "Intelligent-Tiering": 8192}


class Error(Exception):
    def __init__(self, code, message, status=400):
        Exception.__init__(self, "%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status


def validation(msg):
    return Error("ValidationException", msg)


def check_name(name, field="name"):
    if not isinstance(name, str) or not name:
        raise validation("1 validation error detected: Value at '%s' failed to "
                         "satisfy constraint: Member must not be null" % field)
    if len(name) > 2048:
        raise validation("1 validation error detected: Value '%s' at '%s' failed "
                         "to satisfy constraint: Member must have length less "
                         "than or equal to 2048" % (name, field))
    if not NAME_RE.match(name):
        raise validation("Parameter name: can't be prefixed with \"aws\" or \"ssm\" "
                         "(case-insensitive). If formed as a path, it can consist "
                         "of sub-paths divided by slash symbol; each sub-path can "
                         "be formed as a mix of letters, numbers and the following "
                         "3 symbols .-_")
    bare = name.lstrip("/")
    if bare.lower().startswith("aws") or bare.lower().startswith("ssm"):
        raise validation("No access to reserved parameter name: %s." % name)
    if "/" in name and not name.startswith("/"):
        raise validation("Parameter name must be a fully qualified name.")
    if "//" in name or (name.endswith("/") and len(name) > 1):
        raise validation("Parameter name must be a fully qualified name.")
    if name.count("/") > 15:
        raise Error("HierarchyLevelLimitExceededException",
                    "A hierarchy can have a maximum of 15 levels.")


class SSM(object):
    def __init__(self, cloud):
        self.cloud = cloud
        self.reset()

    def reset(self):
        self.params = {}   # name -> list of versions (dicts), oldest first

    def arn(self, name):
        return "arn:aws:ssm:%s:%s:parameter/%s" % (
            self.cloud.settings["region"], catalog.ACCOUNT, name.lstrip("/"))

    def handle(self, op, body):
        fn = getattr(self, "op_" + op, None)
        if fn is None:
            raise Error("UnknownOperationException", "")
        try:
            req = json.loads(body.decode("utf-8") or "{}") if body else {}
        except (ValueError, UnicodeDecodeError):
            raise Error("SerializationException", "")
        if not isinstance(req, dict):
            raise Error("SerializationException", "")
        return json.dumps(fn(req), separators=(",", ":")).encode("utf-8")

    @staticmethod
    def record_params(op, body):
        """What the calls log may keep: everything but the Value."""
        try:
            req = json.loads(body.decode("utf-8") or "{}")
        except (ValueError, UnicodeDecodeError):
            return {}
        if not isinstance(req, dict):
            return {}
        req.pop("Value", None)
        return req

    def _shape(self, name, v, decrypt, selector=None):
        value = v["Value"]
        if v["Type"] == "SecureString" and not decrypt:
            value = v["Cipher"]
        out = {
            "Name": name, "Type": v["Type"], "Value": value,
            "Version": v["Version"], "LastModifiedDate": v["LastModifiedDate"],
            "ARN": self.arn(name), "DataType": v["DataType"],
        }
        if selector:
            out["Selector"] = selector
        return out

    def _lookup(self, ref):
        """'name' or 'name:version' -> (name, version dict, selector)."""
        name, sep, ver = ref.partition(":")
        check_name(name)
        versions = self.params.get(name)
        if not versions:
            raise Error("ParameterNotFound", "")
        if not sep:
            return name, versions[-1], None
        for v in versions:
            if str(v["Version"]) == ver:
                return name, v, ":" + ver
        raise Error("ParameterVersionNotFound",
                    "Systems Manager could not find version %s of %s. Verify the "
                    "version and try again." % (ver, name))

    def op_PutParameter(self, req):
        name = req.get("Name")
        check_name(name)
        value = req.get("Value")
        if not isinstance(value, str) or value == "":
            raise validation("1 validation error detected: Value at 'value' failed "
                             "to satisfy constraint: Member must have length "
                             "greater than or equal to 1")
        tier = req.get("Tier") or "Standard"
        if tier not in TIER_LIMITS:
            raise validation("1 validation error detected: Value '%s' at 'tier' "
                             "failed to satisfy constraint: Member must satisfy "
                             "enum value set: [Standard, Advanced, "
                             "Intelligent-Tiering]" % tier)
        if len(value) > TIER_LIMITS[tier]:
            raise validation("Standard tier parameters support a maximum parameter "
                             "value of 4096 characters. To create a larger "
                             "parameter value, upgrade the parameter to use the "
                             "advanced-parameter tier.")
        ptype = req.get("Type")
        if ptype is not None and ptype not in TYPES:
            raise validation("1 validation error detected: Value '%s' at 'type' "
                             "failed to satisfy constraint: Member must satisfy "
                             "enum value set: [SecureString, StringList, String]"
                             % ptype)
        versions = self.params.get(name)
        if versions and not req.get("Overwrite"):
            raise Error("ParameterAlreadyExists",
                        "The parameter already exists. To overwrite this value, "
                        "set the overwrite option in the request to true.")
        if ptype is None:
            if not versions:
                raise validation("A parameter type is required when you create a "
                                 "parameter.")
            ptype = versions[-1]["Type"]
        if versions and len(versions) >= 100:
            raise Error("ParameterMaxVersionLimitExceeded",
                        "You attempted to create a new version of %s by calling "
                        "the PutParameter API with the overwrite flag. Version "
                        "%d, the oldest version, can't be deleted because it has "
                        "a label associated with it." % (name, versions[0]["Version"]))
        version = versions[-1]["Version"] + 1 if versions else 1
        cipher = None
        if ptype == "SecureString":
            digest = hashlib.sha256(("%s\0%d\0%s" % (name, version, value)).encode()).digest()
            cipher = base64.b64encode(b"\x01\x02\x02\x00x" + digest * 4).decode()
        v = {"Value": value, "Type": ptype, "Version": version,
             "LastModifiedDate": round(self.cloud.now(), 3),
             "DataType": req.get("DataType") or "text", "Cipher": cipher,
             "Tier": tier, "Description": req.get("Description"),
             "KeyId": req.get("KeyId") or ("alias/aws/ssm" if ptype == "SecureString" else None)}
        self.params.setdefault(name, []).append(v)
        return {"Version": version, "Tier": tier}

    def op_GetParameter(self, req):
        name, v, sel = self._lookup(req.get("Name"))
        return {"Parameter": self._shape(name, v, bool(req.get("WithDecryption")), sel)}

    def op_GetParameters(self, req):
        names = req.get("Names")
        if not isinstance(names, list) or not names:
            raise validation("1 validation error detected: Value at 'names' failed "
                             "to satisfy constraint: Member must not be null")
        if len(names) > 10:
            raise validation("1 validation error detected: Value at 'names' failed "
                             "to satisfy constraint: Member must have length less "
                             "than or equal to 10")
        out, bad = [], []
        for ref in dict.fromkeys(names):
            try:
                name, v, sel = self._lookup(ref)
            except Error as e:
                if e.code in ("ParameterNotFound", "ParameterVersionNotFound"):
                    bad.append(ref)
                    continue
                raise
            out.append(self._shape(name, v, bool(req.get("WithDecryption")), sel))
        return {"Parameters": out, "InvalidParameters": bad}

    def op_GetParametersByPath(self, req):
        path = req.get("Path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise validation("The parameter doesn't meet the parameter name "
                             "requirements. The parameter name must begin with a "
                             "forward slash \"/\".")
        prefix = path if path.endswith("/") else path + "/"
        recursive = bool(req.get("Recursive"))
        limit = req.get("MaxResults") or 10
        if not isinstance(limit, int) or not 1 <= limit <= 10:
            raise validation("1 validation error detected: Value '%s' at "
                             "'maxResults' failed to satisfy constraint: Member "
                             "must have value less than or equal to 10" % limit)
        names = sorted(n for n in self.params if n.startswith(prefix) and
                       (recursive or "/" not in n[len(prefix):]))
        start = 0
        tok = req.get("NextToken")
        if tok:
            try:
                start = int(base64.b64decode(tok).decode())
            except (ValueError, UnicodeDecodeError):
                raise validation("The specified token is not valid.")
        page = names[start:start + limit]
        out = {"Parameters": [self._shape(n, self.params[n][-1],
                                          bool(req.get("WithDecryption")))
                              for n in page]}
        if start + limit < len(names):
            out["NextToken"] = base64.b64encode(str(start + limit).encode()).decode()
        return out

    def op_DeleteParameter(self, req):
        name = req.get("Name")
        check_name(name)
        if name not in self.params:
            raise Error("ParameterNotFound", "")
        del self.params[name]
        return {}

    def op_DeleteParameters(self, req):
        names = req.get("Names")
        if not isinstance(names, list) or not names or len(names) > 10:
            raise validation("1 validation error detected: Value at 'names' failed "
                             "to satisfy constraint: Member must have length "
                             "between 1 and 10")
        done, bad = [], []
        for n in names:
            check_name(n)
            if n in self.params:
                del self.params[n]
                done.append(n)
            else:
                bad.append(n)
        return {"DeletedParameters": done, "InvalidParameters": bad}

    def op_DescribeParameters(self, req):
        out = []
        for n, versions in sorted(self.params.items()):
            v = versions[-1]
            d = {"Name": n, "ARN": self.arn(n), "Type": v["Type"],
                 "LastModifiedDate": v["LastModifiedDate"],
                 "Version": v["Version"], "Tier": v["Tier"],
                 "DataType": v["DataType"], "Policies": []}
            if v["KeyId"]:
                d["KeyId"] = v["KeyId"]
            if v["Description"]:
                d["Description"] = v["Description"]
            out.append(d)
        return {"Parameters": out}

    def public(self):
        """Control API view: names, types and versions, never values."""
        return [{"name": n, "type": v[-1]["Type"], "version": v[-1]["Version"],
                 "tier": v[-1]["Tier"]} for n, v in sorted(self.params.items())]
