"""AWS Signature Version 4 verification for the local cloud.

The verifier recomputes the canonical request from the raw request (method,
path, query string, the headers named in SignedHeaders, SHA-256 of the body),
derives the signing key from the secret the cloud knows for the access key and
compares signatures in constant time.  It never trusts anything the client
says about its own canonical request.

verify() raises AuthError(kind, message); the caller maps the kind to the
service's own status and error code (see ERRORS in ec2.py / ssm.py).

Kinds: missing, incomplete, scope, unknown_key, token, token_expired,
expired, signature.
"""

import calendar
import hashlib
import hmac
import re
import time
import urllib.parse

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = 15 * 60

KNOWN_REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "eu-south-1",
    "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-south-1", "ap-east-1",
    "me-south-1", "af-south-1",
)

_UNRESERVED = "-_.~"
_SPACES = re.compile(r"\s+")


class AuthError(Exception):
    def __init__(self, kind, message):
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message


def _quote(s):
    return urllib.parse.quote(s, safe=_UNRESERVED)


def remove_dot_segments(path):
    """RFC 3986 5.2.4 plus collapsing of empty segments (as AWS does)."""
    if not path:
        return "/"
    out = []
    for seg in path.split("/"):
        if not seg or seg == ".":
            continue
        if seg == "..":
            if out:
                out.pop()
        else:
            out.append(seg)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and out else ""
    return first + "/".join(out) + last


def canonical_uri(raw_path):
    """Non-S3 services: normalise, then URI-encode the path as received
    (so an already %-encoded wire path ends up encoded twice, like AWS)."""
    return urllib.parse.quote(remove_dot_segments(raw_path), safe="/~")


def canonical_query(raw_query, drop=()):
    pairs = []
    if raw_query:
        for part in raw_query.split("&"):
            if not part:
                continue
            k, _, v = part.partition("=")
            k = urllib.parse.unquote(k)
            if k in drop:
                continue
            v = urllib.parse.unquote(v)
            pairs.append((_quote(k), _quote(v)))
    pairs.sort()
    return "&".join("%s=%s" % kv for kv in pairs)


def canonical_headers(headers, signed):
    """headers: list of (name, value) as received (duplicates allowed)."""
    values = {}
    for name, value in headers:
        lname = name.lower()
        if lname in signed:
            v = _SPACES.sub(" ", value.strip())
            values.setdefault(lname, []).append(v)
    lines = []
    for name in signed:
        if name not in values:
            raise AuthError("signature",
                            "signed header '%s' is missing from the request" % name)
        lines.append("%s:%s\n" % (name, ",".join(values[name])))
    return "".join(lines)


def canonical_request(method, raw_path, raw_query, headers, signed, payload_hash):
    return "\n".join([
        method,
        canonical_uri(raw_path),
        canonical_query(raw_query),
        canonical_headers(headers, signed),
        ";".join(signed),
        payload_hash,
    ])


def string_to_sign(amz_date, scope, creq):
    return "\n".join([ALGORITHM, amz_date, scope,
                      hashlib.sha256(creq.encode("utf-8")).hexdigest()])


def signing_key(secret, date, region, service):
    k = ("AWS4" + secret).encode("utf-8")
    for part in (date, region, service, "aws4_request"):
        k = hmac.new(k, part.encode("utf-8"), hashlib.sha256).digest()
    return k


def sign(secret, date, region, service, sts):
    key = signing_key(secret, date, region, service)
    return hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_authorization(value):
    """Parse 'AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...'."""
    value = value.strip()
    if not value.startswith(ALGORITHM + " "):
        raise AuthError("incomplete",
                        "Unsupported authorization type or algorithm")
    fields = {}
    for part in value[len(ALGORITHM) + 1:].split(","):
        k, eq, v = part.strip().partition("=")
        if not eq:
            raise AuthError("incomplete",
                            "Authorization header requires existence of either "
                            "a 'X-Amz-Date' or a 'Date' header. "
                            "Authorization=%s" % value)
        fields[k] = v
    for need in ("Credential", "SignedHeaders", "Signature"):
        if need not in fields:
            raise AuthError("incomplete",
                            "Authorization header requires '%s' parameter. "
                            "Authorization=%s" % (need, value))
    cred = fields["Credential"].split("/")
    if len(cred) != 5 or cred[4] != "aws4_request":
        raise AuthError("incomplete",
                        "Credential should have 5 parts separated by '/' "
                        "and end with 'aws4_request'")
    return {
        "access_key": cred[0], "date": cred[1], "region": cred[2],
        "service": cred[3],
        "signed": fields["SignedHeaders"].split(";"),
        "signature": fields["Signature"],
    }


def _header(headers, name):
    for k, v in headers:
        if k.lower() == name:
            return v.strip()
    return None


def _stamp(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def parse_amz_date(s):
    try:
        return calendar.timegm(time.strptime(s, "%Y%m%dT%H%M%SZ"))
    except (ValueError, OverflowError):
        return None


def verify(method, target, headers, body, lookup, services, now=None,
           regions=KNOWN_REGIONS, check_time=True):
    """Verify a header-signed request.

    target: the raw request target ('/path?query').  headers: list of
    (name, value).  body: bytes.  lookup(access_key) -> None or a dict with
    'secret' and optionally 'token' and 'expires' (unix seconds).
    Returns the parsed authorization (plus 'token') on success.
    """
    auth = _header(headers, "authorization")
    if auth is None:
        raise AuthError("missing", "Missing Authentication Token")
    a = parse_authorization(auth)
    signed = a["signed"]
    if signed != sorted(signed) or "host" not in signed:
        raise AuthError("incomplete",
                        "'Host' or ':authority' must be a 'SignedHeader' "
                        "in the AWS Authorization.")
    if a["service"] not in services:
        raise AuthError("scope",
                        "Credential should be scoped to correct service: '%s'. "
                        % services[0])
    if a["region"] not in regions:
        raise AuthError("scope",
                        "Credential should be scoped to a valid region. ")
    amz_date = _header(headers, "x-amz-date") or _header(headers, "date")
    if not amz_date:
        raise AuthError("incomplete",
                        "Authorization header requires existence of either a "
                        "'X-Amz-Date' or a 'Date' header.")
    when = parse_amz_date(amz_date)
    if when is None:
        raise AuthError("incomplete", "Invalid X-Amz-Date '%s'" % amz_date)
    if amz_date[:8] != a["date"]:
        raise AuthError("signature",
                        "Date in Credential scope does not match YYYYMMDD from "
                        "ISO-8601 version of date from HTTP: '%s' != '%s', from "
                        "'%s'." % (a["date"], amz_date[:8], amz_date))
    cred = lookup(a["access_key"])
    if cred is None:
        raise AuthError("unknown_key",
                        "The security token included in the request is invalid.")
    token = _header(headers, "x-amz-security-token")
    if cred.get("token") is not None:
        if token is None or not hmac.compare_digest(token, cred["token"]):
            raise AuthError("token",
                            "The security token included in the request is invalid.")
    elif token is not None:
        raise AuthError("token",
                        "The security token included in the request is invalid.")
    if now is None:
        now = time.time()
    if cred.get("expires") is not None and now > cred["expires"]:
        raise AuthError("token_expired",
                        "The security token included in the request is expired")
    if check_time and now - when > MAX_SKEW:
        raise AuthError("expired",
                        "Signature expired: %s is now earlier than %s "
                        "(%s - 15 min.)" % (amz_date, _stamp(now - MAX_SKEW),
                                            _stamp(now)))
    if check_time and when - now > MAX_SKEW:
        raise AuthError("expired",
                        "Signature not yet current: %s is still later than %s "
                        "(%s + 15 min.)" % (amz_date, _stamp(now + MAX_SKEW),
                                            _stamp(now)))
    path, _, query = target.partition("?")
    payload_hash = hashlib.sha256(body or b"").hexdigest()
    claimed = _header(headers, "x-amz-content-sha256")
    if claimed and claimed != "UNSIGNED-PAYLOAD" and claimed != payload_hash:
        raise AuthError("signature",
                        "The provided 'x-amz-content-sha256' header does not "
                        "match what was computed.")
    creq = canonical_request(method, path, query, headers, signed, payload_hash)
    scope = "/".join([a["date"], a["region"], a["service"], "aws4_request"])
    sts = string_to_sign(amz_date, scope, creq)
    want = sign(cred["secret"], a["date"], a["region"], a["service"], sts)
    if not hmac.compare_digest(want, a["signature"]):
        raise AuthError("signature",
                        "The request signature we calculated does not match the "
                        "signature you provided. Check your AWS Secret Access Key "
                        "and signing method. Consult the service documentation "
                        "for details.")
    a["token"] = token
    a["canonical_request"] = creq
    return a
