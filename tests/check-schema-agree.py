#!/usr/bin/env python3
"""tests/check-schema-agree.py VPCCTL: schema/region.schema.json and the
translator (vpcctl validate) accept and refuse the same documents.

Every example must be valid for both.  Then security-group and network-ACL
rules with each form of protocol (names, numbers, numbers in strings as the
AWS CLI writes them, and wrong ones), with and without ports and ICMP
fields, are given to both: they must agree on each, and a refused rule
with a wrong protocol must draw exactly one error from the translator (not
a second one about its ports).  Exits 1 on any
disagreement."""

import glob
import json
import os
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    print("  FAIL check-schema-agree.py needs python3-jsonschema "
          "(scripts/deps.sh installs it)")
    sys.exit(1)

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VPCCTL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "build",
                                                            "vpcctl")
schema = json.load(open(os.path.join(TOP, "schema", "region.schema.json")))
checker = jsonschema.validators.validator_for(schema)(schema)
fails = 0


def translator(doc):
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(doc, f)
        f.flush()
        p = subprocess.run([VPCCTL, "validate", f.name], capture_output=True,
                           text=True)
    errors = [l for l in (p.stdout + p.stderr).splitlines()
              if l.startswith("  $")]
    return p.returncode == 0, errors


def check(name, doc, one_error=False):
    global fails
    schema_ok = checker.is_valid(doc)
    ok, errors = translator(doc)
    if schema_ok != ok or (one_error and len(errors) != 1):
        print("  FAIL %s: schema %s, translator %s %s"
              % (name, "accepts" if schema_ok else "refuses",
                 "accepts" if ok else "refuses", errors))
        fails += 1
        return False
    return True


n_ok = 0
for f in sorted(glob.glob(os.path.join(TOP, "examples", "*.json"))):
    if check(os.path.basename(f), json.load(open(f))):
        n_ok += 1
print("  ok   %d examples valid for the JSON Schema and the translator"
      % n_ok)

BASE = {
    "hosts": [{"id": "host-a", "underlay_ip": "192.168.0.1"}],
    "vpcs": [{"id": "vpc-a", "cidr_blocks": ["10.0.0.0/16"], "vni": 1}],
}
PROTOCOLS = ["tcp", "udp", "icmp", "-1", "all", 6, "6", 17, "17", 1, "1",
             47, "47", 0, "0", 255, "255", -1, 256, "256", "06", "6x",
             "-2", "sctp", "", "TCP"]
EXTRAS = [{}, {"from_port": 80, "to_port": 80}, {"icmp_type": 8},
          {"icmp_type": 8, "icmp_code": 0}]
proto_checker = jsonschema.validators.validator_for(schema)(
    dict(schema["$defs"]["protocol"], **{"$defs": schema["$defs"]}))
n = 0
for proto in PROTOCOLS:
    bad = not proto_checker.is_valid(proto)
    for extra in EXTRAS:
        rule = dict(protocol=proto, cidr="0.0.0.0/0", **extra)
        sg = dict(BASE, security_groups=[
            {"id": "sg-a", "vpc": "vpc-a", "ingress": [rule]}])
        entry = dict(rule, rule_number=100, action="allow")
        acl = dict(BASE, network_acls=[
            {"id": "acl-a", "vpc": "vpc-a", "egress": [entry]}])
        for kind, doc in (("sg", sg), ("acl", acl)):
            if check("%s rule %s" % (kind, json.dumps(rule)), doc, bad):
                n += 1
print("  ok   %d rules: the JSON Schema and the translator agree, one "
      "error for a wrong protocol" % n)
# ENI metadata fields: instance_id forms, user_data sizes, metadata_options
# values and keys.
ENI_BASE = dict(BASE, subnets=[{"id": "subnet-a", "vpc": "vpc-a",
                                "cidr": "10.0.1.0/24"}])
ENI = {"id": "eni-a", "subnet": "subnet-a", "mac": "02:00:00:00:00:01",
       "private_ip": "10.0.1.10", "host": "host-a"}
METADATA = [
    {"instance_id": "i-0123abcd"}, {"instance_id": "i-0123456789abcdef0"},
    {"instance_id": "i-0123abc"}, {"instance_id": "i-0123ABCD"},
    {"instance_id": "i-0123456789abcdef"}, {"instance_id": "0123abcd"},
    {"instance_id": 5}, {"user_data": ""}, {"user_data": "x" * 16384},
    {"user_data": "x" * 16385}, {"user_data": 1},
    {"metadata_options": {}},
    {"metadata_options": {"http_tokens": "required"}},
    {"metadata_options": {"http_tokens": "optional",
                          "http_endpoint": "disabled"}},
    {"metadata_options": {"http_tokens": "always"}},
    {"metadata_options": {"http_endpoint": True}},
    {"metadata_options": {"http_put_response_hop_limit": 1}},
    {"metadata_options": "required"},
]
n = 0
for extra in METADATA:
    doc = dict(ENI_BASE, enis=[dict(ENI, **extra)])
    if check("eni %s" % json.dumps(extra)[:60], doc):
        n += 1
print("  ok   %d ENI metadata fields: the JSON Schema and the translator "
      "agree" % n)
sys.exit(1 if fails else 0)
