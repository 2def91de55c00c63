"""Static facts of the local cloud: account, regions, subnets, images and the
instance-type catalogue (real vCPU and memory figures)."""

import re
import zlib

ACCOUNT = "123456789012"
VPC = "vpc-0a1b2c3d4e5f60718"
DEFAULT_GROUP = "sg-0a1b2c3d4e5f60001"   # the default VPC's, in VPC

# subnet id -> (az letter, first private address as a /18 base "10.0.X")
KNOWN_SUBNETS = {
    "subnet-0a1b2c3d4e5f60001": ("a", (10, 0, 0)),
    "subnet-0a1b2c3d4e5f60002": ("b", (10, 0, 64)),
    "subnet-0a1b2c3d4e5f60003": ("c", (10, 0, 128)),
    "subnet-0a1b2c3d4e5f60004": ("d", (10, 0, 192)),
}
DEFAULT_SUBNET = "subnet-0a1b2c3d4e5f60001"

# The images that exist.  As in EC2, only these (and those registered with
# POST /_cloud/images) exist: DescribeImages answers InvalidAMIID.NotFound
# for any other well-formed id, CreateFleet puts InvalidAMIID.NotFound in
# its errorSet, and CreateLaunchTemplate warns.  The all-zero id stays
# missing, whatever is registered.
# id -> (name, architecture, description)
IMAGES = {
    "ami-0a1b2c3d4e5f60001": ("al2023-ami-2023.4.20240528.0-kernel-6.1-x86_64",
                              "x86_64", "Amazon Linux 2023 AMI (x86_64)"),
    "ami-0a1b2c3d4e5f60002": ("debian-12-amd64-20240507-1740", "x86_64",
                              "Debian 12 (amd64)"),
    "ami-0a1b2c3d4e5f60003": ("al2023-ami-2023.4.20240528.0-kernel-6.1-arm64",
                              "arm64", "Amazon Linux 2023 AMI (arm64)"),
    "ami-0a1b2c3d4e5f60004": ("debian-12-arm64-20240507-1740", "arm64",
                              "Debian 12 (arm64)"),
}
IMAGE_OWNER = "137112412989"    # amazon's account id for its public AMIs
MISSING_IMAGE = "ami-00000000000000000"
DEFAULT_IMAGE = "ami-0a1b2c3d4e5f60001"
ARCHITECTURES = ("i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac")

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
# Graviton (arm64): medium has 1 vCPU; c6g/c7g, m6g/m7g and r6g/r7g share
# their sizes (metal left out, as for the x86 families)
_C6G = [("medium", 1, 2), ("large", 2, 4), ("xlarge", 4, 8), ("2xlarge", 8, 16),
        ("4xlarge", 16, 32), ("8xlarge", 32, 64), ("12xlarge", 48, 96),
        ("16xlarge", 64, 128)]
_M6G = [(s, v, m * 2) for s, v, m in _C6G]
_R6G = [(s, v, m * 4) for s, v, m in _C6G]

# name -> (vcpu, memory GiB)
TYPES = {}
for _n, _s in (("c5", _C5), ("c6i", _C6), ("c7i", _C7), ("m5", _M5),
               ("m6i", _M6), ("m7i", _M7), ("r5", _R5), ("r6i", _R6),
               ("r7i", _R7), ("t3", _T3), ("c6g", _C6G), ("c7g", _C6G),
               ("m6g", _M6G), ("m7g", _M6G), ("r6g", _R6G), ("r7g", _R6G),
               ("t4g", _T3)):
    TYPES.update(_family(_n, _s))

# the families whose processor is arm64 (AWS Graviton); all others x86_64
ARM64_FAMILIES = frozenset(("c6g", "c7g", "m6g", "m7g", "r6g", "r7g", "t4g"))

# rough on-demand USD/hour per vCPU by family, for price ordering only;
# Graviton about 20% below its x86 peer
_PRICE = {"c5": 0.0425, "c6i": 0.0425, "c7i": 0.0446, "m5": 0.048,
          "m6i": 0.048, "m7i": 0.0504, "r5": 0.063, "r6i": 0.063,
          "r7i": 0.0662, "c6g": 0.034, "c7g": 0.0363, "m6g": 0.0385,
          "m7g": 0.0408, "r6g": 0.0504, "r7g": 0.0536}
_PRICE_PER_GIB = {"t3": 0.0052, "t4g": 0.0042}


def vcpus(t):
    return TYPES[t][0]


def memory_mib(t):
    return int(TYPES[t][1] * 1024)


def burstable(t):
    return t.split(".")[0] in _PRICE_PER_GIB


def architecture(t):
    """The processor architecture of an instance type: arm64 or x86_64."""
    return "arm64" if t.split(".")[0] in ARM64_FAMILIES else "x86_64"


def uname_machine(arch):
    """What uname -m says on a processor of that architecture."""
    return "aarch64" if arch == "arm64" else "x86_64"


def price(t):
    fam = t.split(".")[0]
    v, m = TYPES[t]
    if fam in _PRICE_PER_GIB:
        return _PRICE_PER_GIB[fam] * m
    return _PRICE[fam] * v
