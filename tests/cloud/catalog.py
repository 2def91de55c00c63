"""Static facts of the local cloud: account, regions, subnets, images and the
instance-type catalogue (real vCPU and memory figures)."""

import re
import zlib

ACCOUNT = "123456789012"
VPC = "vpc-0a1b2c3d4e5f60718"

# subnet id -> (az letter, first private address as a /18 base "10.0.X")
KNOWN_SUBNETS = {
    "subnet-0a1b2c3d4e5f60001": ("a", (10, 0, 0)),
    "subnet-0a1b2c3d4e5f60002": ("b", (10, 0, 64)),
    "subnet-0a1b2c3d4e5f60003": ("c", (10, 0, 128)),
    "subnet-0a1b2c3d4e5f60004": ("d", (10, 0, 192)),
}
DEFAULT_SUBNET = "subnet-0a1b2c3d4e5f60001"

# well-formed AMI ids are accepted; these two are "real" images, and the
# all-zero id is the one image that does not exist (InvalidAMIID.NotFound)
KNOWN_IMAGES = {
    "ami-0a1b2c3d4e5f60001": "al2023-ami-2023.4-kernel-6.1-x86_64",
    "ami-0a1b2c3d4e5f60002": "debian-12-amd64",
}
MISSING_IMAGE = "ami-00000000000000000"
DEFAULT_IMAGE = "ami-0a1b2c3d4e5f60001"

SUBNET_RE = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
AMI_RE = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
SG_RE = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
INSTANCE_RE = re.compile(r"^i-([0-9a-f]{8}|[0-9a-f]{17})$")
LT_ID_RE = re.compile(r"^lt-([0-9a-f]{8}|[0-9a-f]{17})$")


def subnet_info(subnet, region):
    """(az, az_id, (a, b, c) address base) of a well-formed subnet id."""
    if subnet in KNOWN_SUBNETS:
        letter, base = KNOWN_SUBNETS[subnet]
    else:
        h = zlib.crc32(subnet.encode())
        letter = "abcdef"[h % 6]
        base = (10, 1 + (h >> 8) % 200, 0)
    az = region + letter
    parts = region.split("-")
    az_id = "%s%s%s-az%d" % (parts[0], parts[1][0], parts[-1],
                             "abcdef".index(letter) + 1)
    return az, az_id, base


def _family(name, sizes):
    return {"%s.%s" % (name, s): (v, m) for s, v, m in sizes}


_C6 = [("large", 2, 4), ("xlarge", 4, 8), ("2xlarge", 8, 16), ("4xlarge", 16, 32),
       ("8xlarge", 32, 64), ("12xlarge", 48, 96), ("16xlarge", 64, 128),
       ("24xlarge", 96, 192), ("32xlarge", 128, 256)]
_C7 = _C6[:-1] + [("48xlarge", 192, 384)]
_C5 = [("large", 2, 4), ("xlarge", 4, 8), ("2xlarge", 8, 16), ("4xlarge", 16, 32),
       ("9xlarge", 36, 72), ("12xlarge", 48, 96), ("18xlarge", 72, 144),
       ("24xlarge", 96, 192)]
_M5 = [("large", 2, 8), ("xlarge", 4, 16), ("2xlarge", 8, 32), ("4xlarge", 16, 64),
       ("8xlarge", 32, 128), ("12xlarge", 48, 192), ("16xlarge", 64, 256),
       ("24xlarge", 96, 384)]
_M6 = _M5 + [("32xlarge", 128, 512)]
_M7 = _M5 + [("48xlarge", 192, 768)]
_R5 = [(s, v, m * 2) for s, v, m in _M5]
_R6 = [(s, v, m * 2) for s, v, m in _M6]
_R7 = [(s, v, m * 2) for s, v, m in _M7]
_T3 = [("nano", 2, 0.5), ("micro", 2, 1), ("small", 2, 2), ("medium", 2, 4),
       ("large", 2, 8), ("xlarge", 4, 16), ("2xlarge", 8, 32)]

# name -> (vcpu, memory GiB)
TYPES = {}
for _n, _s in (("c5", _C5), ("c6i", _C6), ("c7i", _C7), ("m5", _M5),
               ("m6i", _M6), ("m7i", _M7), ("r5", _R5), ("r6i", _R6),
               ("r7i", _R7), ("t3", _T3)):
    TYPES.update(_family(_n, _s))

# rough on-demand USD/hour per vCPU by family, for price ordering only
_PRICE = {"c5": 0.0425, "c6i": 0.0425, "c7i": 0.0446, "m5": 0.048,
          "m6i": 0.048, "m7i": 0.0504, "r5": 0.063, "r6i": 0.063,
          "r7i": 0.0662, "t3": 0.0416}


def vcpus(t):
    return TYPES[t][0]


def memory_mib(t):
    return int(TYPES[t][1] * 1024)


def burstable(t):
    return t.startswith("t")


def price(t):
    fam = t.split(".")[0]
    v, m = TYPES[t]
    if fam == "t3":
        return 0.0052 * m
    return _PRICE[fam] * v
