"""RSA public keys from PEM, RSASSA-PKCS1-v1_5 SHA-256 verification and
the GitHub App JSON web tokens (RS256) signed with them.
"""

import base64
import hashlib
import json
import re
import secrets

from .common import S, gh_error


# DigestInfo prefix for SHA-256 (RFC 8017, 9.2 note 1)
SHA256_DIGESTINFO = bytes.fromhex("3031300d060960864801650304020105000420")


def _der_read(buf, pos):
    """Return (tag, content_start, content_end) of the TLV at pos."""
    tag = buf[pos]
    ln = buf[pos + 1]
    pos += 2
    if ln & 0x80:
        n = ln & 0x7F
        if n == 0 or n > 4:
            raise ValueError("bad DER length")
        ln = int.from_bytes(buf[pos:pos + n], "big")
        pos += n
    if pos + ln > len(buf):
        raise ValueError("truncated DER")
    return tag, pos, pos + ln


def _der_children(buf, start, end):
    out = []
    while start < end:
        tag, cs, ce = _der_read(buf, start)
        out.append((tag, cs, ce))
        start = ce
    return out


def _der_int(buf, cs, ce):
    return int.from_bytes(buf[cs:ce], "big")


def parse_rsa_public_key(pem):
    """(n, e) from a PEM: SubjectPublicKeyInfo, PKCS#1 public, or (for
    convenience) PKCS#1 / PKCS#8 private keys."""
    m = re.search(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----",
                  pem, re.S)
    if not m:
        raise ValueError("no PEM block")
    kind = m.group(1)
    der = base64.b64decode("".join(m.group(2).split()))
    tag, cs, ce = _der_read(der, 0)
    if tag != 0x30:
        raise ValueError("not a DER SEQUENCE")
    kids = _der_children(der, cs, ce)
    if kind == "RSA PUBLIC KEY":
        return _der_int(der, *kids[0][1:]), _der_int(der, *kids[1][1:])
    if kind == "PUBLIC KEY":
        tag, bs, be = kids[1]
        if tag != 0x03:
            raise ValueError("no BIT STRING")
        inner = der[bs + 1:be]  # skip unused-bits byte
        _, s, e = _der_read(inner, 0)
        k = _der_children(inner, s, e)
        return _der_int(inner, *k[0][1:]), _der_int(inner, *k[1][1:])
    if kind == "RSA PRIVATE KEY":
        return _der_int(der, *kids[1][1:]), _der_int(der, *kids[2][1:])
    if kind == "PRIVATE KEY":
        tag, os_, oe = kids[2]
        inner = der[os_:oe]
        _, s, e = _der_read(inner, 0)
        k = _der_children(inner, s, e)
        return _der_int(inner, *k[1][1:]), _der_int(inner, *k[2][1:])
    raise ValueError("unsupported PEM type %r" % kind)


def rsa_verify_sha256(n, e, msg, sig):
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 8.2.2)."""
    k = (n.bit_length() + 7) // 8
    if len(sig) != k:
        return False
    s = int.from_bytes(sig, "big")
    if s >= n:
        return False
    em = pow(s, e, n).to_bytes(k, "big")
    t = SHA256_DIGESTINFO + hashlib.sha256(msg).digest()
    if k < len(t) + 11:
        return False
    expected = b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t
    return secrets.compare_digest(em, expected)


def _b64url(s):
    s = s.encode() if isinstance(s, str) else s
    return base64.urlsafe_b64decode(s + b"=" * (-len(s) % 4))


def looks_like_jwt(tok):
    return tok.count(".") == 2 and tok.startswith("eyJ")


def verify_jwt(token, now):
    """Return the app dict, or raise Reply with GitHub's message."""
    bad = gh_error(401, "A JSON web token could not be decoded")
    try:
        h64, p64, s64 = token.split(".")
        header = json.loads(_b64url(h64))
        claims = json.loads(_b64url(p64))
        sig = _b64url(s64)
    except (ValueError, TypeError):
        raise bad
    if not isinstance(header, dict) or header.get("alg") != "RS256" \
            or not isinstance(claims, dict):
        raise bad
    iss = claims.get("iss")
    if isinstance(iss, bool) or not isinstance(iss, (int, str)):
        raise bad
    app = S["apps"].get(str(iss))
    if app is None:
        raise gh_error(404, "Integration not found")
    if not rsa_verify_sha256(app["n"], app["e"],
                             (h64 + "." + p64).encode(), sig):
        raise bad
    iat, exp = claims.get("iat"), claims.get("exp")
    if isinstance(iat, bool) or not isinstance(iat, int) or iat > now + 60:
        raise gh_error(401, "'Issued at' claim ('iat') must be an Integer "
                       "representing the time that the assertion was "
                       "issued")
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) \
            or exp <= now:
        raise gh_error(401, "'Expiration time' claim ('exp') must be a "
                       "numeric value representing the future time at "
                       "which the assertion expires")
    if exp - iat > 600 or exp > now + 600 + 60:
        raise gh_error(401, "'Expiration time' claim ('exp') is too far "
                       "in the future")
    return app
