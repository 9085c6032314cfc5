#!/usr/bin/env python3
"""tests/ovn-diff/ovn-diff.py: compare ovs-vpc's verdicts with OVN's.

For one region, already applied to one sandboxed ovs-vswitchd per host
(tests/sandbox/ovn-diff.sh sets that up) and exported into an OVN
southbound database by a real ovn-northd, this sends a generated set of
probes (source ENI, destination IP, protocol, port) through both:

  ours  'vpcctl trace' on the source ENI's host (ofproto/trace in the real
        switch, annotated); a packet encapsulated toward another host is
        followed there: ofproto/trace of the Geneve packet arriving on that
        host's tunnel port.  Verdict: the ENIs the packet is delivered to,
        or dropped (and in which stage).
  OVN   ovn-trace on the source ENI's logical switch, conntrack "new" at
        every ct_next (a new connection, as in ours).  Verdict: the
        logical ports of ENIs an IP packet is output to (an ARP request a
        router sends for an unknown address is not a delivery), or dropped.

Equal verdicts agree.  A disagreement is "explained" when it is one of the
documented semantic differences (tests/ovn-diff/README.md, explain() below):
each names the feature the OVN export cannot carry.  Anything else is
unexplained and makes the exit status 1.

usage: ovn-diff.py --region F --sb SOCKET --host H=DIR [--host ...]
                   [--vpcctl P] [--mapping flows|action] [--max N]
                   [--seed S] [--verbose]
"""
import argparse
import ipaddress
import json
import os
import random
import re
import subprocess
import sys

TUNNEL_OFPORT = 1000


def run(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return p.returncode, p.stdout + p.stderr


def router_mac(vni):
    return "02:76:70:%02x:%02x:%02x" % (vni >> 16 & 255, vni >> 8 & 255,
                                        vni & 255)


class Region:
    """The parts of the region document the harness needs."""

    def __init__(self, doc):
        self.doc = doc
        self.hosts = {h["id"]: h["underlay_ip"] for h in doc.get("hosts", [])}
        self.edges = {e["underlay_ip"]: e["id"] for e in doc.get("edges", [])}
        self.vpcs = {v["id"]: v for v in doc["vpcs"]}
        self.subnets = {s["id"]: s for s in doc.get("subnets", [])}
        self.enis = {e["id"]: e for e in doc.get("enis", [])}
        self.host_by_ip = {ip: h for h, ip in self.hosts.items()}
        self.rtbs = {t["id"]: t for t in doc.get("route_tables", [])}
        self.prefix_lists = {p["id"]: p for p in doc.get("prefix_lists", [])}

    def vpc_of(self, eni):
        return self.vpcs[self.subnets[eni["subnet"]]["vpc"]]

    def eni_by_vni_ip(self, vni, ip):
        for e in self.enis.values():
            if self.vpc_of(e)["vni"] == vni and e["private_ip"] == ip:
                return e
        return None

    def route_for(self, eni, ip):
        """The route an ENI's subnet table picks for 'ip' (longest prefix;
        None = the local route or no route).  Used only to explain."""
        sub = self.subnets[eni["subnet"]]
        rtb = self.rtbs.get(sub.get("route_table"))
        addr = ipaddress.ip_address(ip)
        best = None
        for r in (rtb or {}).get("routes", []):
            if "destination" in r:
                prefixes = [r["destination"]]
            else:
                prefixes = self.prefix_lists.get(
                    r.get("destination_prefix_list"), {}).get("prefixes", [])
            for p in prefixes:
                net = ipaddress.ip_network(p)
                if addr in net and (best is None
                                    or net.prefixlen > best[0].prefixlen):
                    best = (net, r)
        vpc = self.vpc_of(eni)
        for block in vpc["cidr_blocks"]:
            net = ipaddress.ip_network(block)
            if addr in net and (best is None
                                or net.prefixlen > best[0].prefixlen):
                return None
        return best


# ------------------------------------------------------------------ probes

def probes(region, rnd, local_hosts, limit):
    """(src ENI, dst IP, proto, dport) tuples: every ENI to every ENI
    address of the region (all VPCs: overlapping addresses, peers), to
    routers, to unassigned addresses and to the internet; ports from the
    security groups' rules."""
    ports = {22, 80, 443, 5432}
    for sg in region.doc.get("security_groups", []):
        for r in sg.get("ingress", []) + sg.get("egress", []):
            if "from_port" in r:
                ports.update({r["from_port"], r["to_port"]})
    ports = sorted(ports)
    dests = set()
    for e in region.enis.values():
        dests.add(e["private_ip"])
    for s in region.subnets.values():
        net = ipaddress.ip_network(s["cidr"])
        dests.add(str(net[1]))           # the subnet's virtual router
        dests.add(str(net[-2]))          # unassigned
    dests.update({"8.8.8.8", "172.31.0.9"})
    out = []
    for src in sorted(region.enis.values(), key=lambda e: e["id"]):
        if src["host"] not in local_hosts:
            continue
        for dst in sorted(dests):
            if dst == src["private_ip"]:
                continue
            for proto in ("icmp", "tcp", "udp"):
                port = rnd.choice(ports) if proto == "tcp" else 53
                out.append((src["id"], dst, proto, port))
    rnd.shuffle(out)
    if limit and len(out) > limit:
        out = out[:limit]
    return sorted(out)


# ------------------------------------------------------------------ ours

class Ours:
    def __init__(self, region, region_file, vpcctl, mapping, host_dirs):
        self.r = region
        self.file = region_file
        self.vpcctl = vpcctl
        self.mapping = mapping
        self.dirs = host_dirs
        self.ports = {h: self.dp_ports(h) for h in host_dirs}
        code, doc = run([vpcctl, "pipeline-doc"])
        self.stage_of_table = {}
        for line in doc.splitlines():
            m = re.match(r"\|\s*(\d+)\s*\|\s*`?([\w-]+)`?", line)
            if m:
                self.stage_of_table[int(m.group(1))] = m.group(2)

    def appctl(self, host, *args):
        return run(["ovs-appctl", "-t",
                    os.path.join(self.dirs[host], "ovs-vswitchd.ctl")]
                   + list(args))

    def dp_ports(self, host):
        """Datapath port number -> ENI id, from dpif/show and OVSDB."""
        d = self.dirs[host]
        code, out = run(["ovs-vsctl", "--db=unix:%s/db.sock" % d,
                         "--format=csv", "--data=bare", "--no-headings",
                         "--columns=name,external_ids", "list", "Interface"])
        eni_of = {}
        for line in out.splitlines():
            m = re.match(r'([^,]+),.*vpc-eni-id=([\w.-]+)', line)
            if m:
                eni_of[m.group(1)] = m.group(2)
        code, out = run(["ovs-appctl", "-t", os.path.join(
            d, "ovs-vswitchd.ctl"), "dpif/show"])
        ports = {}
        for line in out.splitlines():
            m = re.match(r"\s+(\S+) \d+/(\d+):", line)
            if m and m.group(1) in eni_of:
                ports[int(m.group(2))] = eni_of[m.group(1)]
        return ports

    @staticmethod
    def outputs(dp_actions):
        """Top-level output ports of a 'Datapath actions:' line."""
        depth, flat = 0, ""
        for c in dp_actions:
            depth += c == "("
            if depth == 0:
                flat += c
            depth -= c == ")"
        return [int(a) for a in flat.split(",") if a.strip().isdigit()]

    def deliveries(self, host, dp_actions, stage):
        if dp_actions is None or dp_actions.strip() == "drop":
            return ("drop", stage)
        enis = sorted(self.ports[host].get(p, "port %d" % p)
                      for p in self.outputs(dp_actions))
        return ("deliver", tuple(enis)) if enis else ("drop", stage)

    def verdict(self, src, dst, proto, port):
        spec = "from %s to %s %s" % (src["id"], dst, proto)
        if proto != "icmp":
            spec += " dport %d" % port
        host = src["host"]
        env = dict(os.environ, OVS_RUNDIR=self.dirs[host])
        code, out = run([self.vpcctl, "trace", self.file, "--host", host,
                         "--mapping=" + self.mapping, spec], env=env)
        m = re.search(r"^Verdict: (\w+)(?: to ([\d.]+), VNI (\d+),)? in stage "
                      r"(\S+)(?: by (.*))?$", out, re.M)
        if code or not m:
            return ("error", out.strip().splitlines()[-1:]), out
        kind, to, vni, stage, ref = m.groups()
        if kind == "DROPPED":
            return ("drop", stage), out
        dp = re.findall(r"^Datapath actions: (.*)$", out, re.M)
        if kind == "FORWARDED":
            return self.deliveries(host, dp[-1] if dp else None, stage), out
        # ENCAPSULATED: follow the packet to the host that holds 'ref'.
        if to in self.r.edges:
            return ("edge",), out
        rx_host = self.r.host_by_ip.get(to)
        eni = self.r.enis.get(ref)
        if not eni and dp:
            # A route to an appliance names the route, not the ENI: the
            # inner destination MAC the packet was given names the ENI.
            m = re.search(r"set\(eth\([^)]*dst=([0-9a-f:]{17})", dp[-1])
            eni = next((e for e in self.r.enis.values()
                        if m and e["mac"] == m.group(1)), None)
        if rx_host not in self.dirs or not eni:
            return ("error", "encapsulated to %s (%s)" % (to, ref)), out
        flow = re.search(r"^Flow: (.*)$", out, re.M).group(1)
        l3 = flow[flow.index(",", flow.index("dl_dst=")):]
        rx = ("in_port=%d,tun_id=%s,tun_src=%s,tun_dst=%s,dl_src=%s,"
              "dl_dst=%s%s" % (TUNNEL_OFPORT, vni, self.r.hosts[host], to,
                               router_mac(int(vni)), eni["mac"], l3))
        code, out2 = self.appctl(rx_host, "ofproto/trace", "br-int", rx,
                                 "--ct-next", "trk,new", "--ct-next",
                                 "trk,new")
        out += "\n--- received on %s:\n%s" % (rx_host, out2)
        dp = re.findall(r"^Datapath actions: (.*)$", out2, re.M)
        # vpc_verify (action mode) decides per packet in the datapath; the
        # sender is the host that holds the source, so it passes.
        acts = dp[-1] if dp else None
        if acts is not None:
            acts = re.sub(r"^vpc_verify,?", "", acts) or "drop"
        tables = re.findall(r"^ *(\d+)\. ", out2, re.M)
        stage = self.stage_of_table.get(int(tables[-1]), "?") if tables \
            else "?"
        return self.deliveries(rx_host, acts, "rx:" + stage), out


# ------------------------------------------------------------------ OVN

class Ovn:
    def __init__(self, region, sb):
        self.r = region
        self.sb = sb

    def verdict(self, src, dst, proto, port):
        vpc = self.r.vpc_of(src)
        net = ipaddress.ip_network(self.r.subnets[src["subnet"]]["cidr"])
        match = ('inport == "%s" && eth.src == %s && eth.dst == %s && '
                 'ip4.src == %s && ip4.dst == %s && ip.ttl == 64'
                 % (src["id"], src["mac"], router_mac(vpc["vni"]),
                    src["private_ip"], dst))
        if proto == "icmp":
            match += " && icmp4 && icmp4.type == 8 && icmp4.code == 0"
        else:
            match += " && %s && %s.src == 40000 && %s.dst == %d" % (
                proto, proto, proto, port)
        # Conntrack: a new connection at each ACL stage.  A ping to a
        # router comes back as a reply: its second ct_next sees the
        # connection the first one committed.
        second = "est,rpl" if self.is_router_ip(dst, vpc) else "new"
        code, out = run(["ovn-trace", "--db=unix:" + self.sb, "--minimal",
                         "--ct=new", "--ct=" + second, "--ct=new",
                         "--ct=new", src["subnet"], match])
        if code or "parsing expression failed" in out:
            # A match northd cannot parse is silently left out of the
            # logical flows: an export bug, whatever the verdict.
            return ("error", [l for l in out.splitlines()
                              if "WARN" in l][:1]), out
        return self.parse(out), out

    def is_router_ip(self, ip, vpc, region=None):
        for s in (region or self.r).subnets.values():
            if s["vpc"] == vpc["id"] \
                    and str(ipaddress.ip_network(s["cidr"])[1]) == ip:
                return True
        return False

    @staticmethod
    def parse(out):
        """IP deliveries in ovn-trace --minimal output: output("P") not
        nested in an arp { } (or other packet-generating) block."""
        stack, enis = [], set()
        for line in out.splitlines():
            s = line.strip()
            if s.endswith("{"):
                stack.append(s.split("(")[0].split(" ")[0])
            elif s.startswith("}"):
                if stack:
                    stack.pop()
            m = re.match(r'output\("([^"]+)"\);', s)
            if m and all(b in ("ct_next", "ct_commit", "ct_lb",
                               "ct_lb_mark", "ct_dnat", "ct_snat",
                               "ct_dnat_in_czone", "ct_snat_in_czone")
                         for b in stack):
                enis.add(m.group(1))
        if any(e.startswith("ln-ext-") for e in enis):
            return ("edge",)    # Out the edge's external switch.
        return ("deliver", tuple(sorted(enis))) if enis else ("drop", "ovn")


# ------------------------------------------------------------------ explain

def explain(region, src, dst, ours, ovn):
    """The documented semantic difference behind a disagreement, or None."""
    sub = region.subnets[src["subnet"]]
    vpc = region.vpc_of(src)
    route = region.route_for(src, dst)
    # 2. A ping to a subnet's router: ours answers in vrouter, before
    #    security groups and routing.  OVN's request passes the ENI's
    #    egress ACLs, and the router's reply is routed through the table
    #    of the port it came in on (a route for the source's own address,
    #    blackhole or appliance, takes it away).
    if ours == ("deliver", (src["id"],)) and ovn[0] == "drop" \
            and Ovn.is_router_ip(None, dst, vpc, region):
        return "router-ping"
    # 2b. Inside one subnet there is no routing in ours (as in AWS: route
    #    tables act between subnets).  OVN sends the packet, addressed to
    #    the router MAC, through the router, where a more specific route
    #    (blackhole, appliance) applies.
    if route and ipaddress.ip_address(dst) in ipaddress.ip_network(
            sub["cidr"]) and ours[0] in ("deliver", "drop"):
        return "intra-subnet-not-routed"
    # 4. OVN's connected route for a subnet beats a route_table route of
    #    the same length (AWS: a more specific route wins over local).
    if route and ovn[0] in ("deliver", "drop"):
        net = route[0]
        for s in region.subnets.values():
            if s["vpc"] == vpc["id"] and ipaddress.ip_network(s["cidr"]) \
                    .prefixlen >= net.prefixlen \
                    and ipaddress.ip_address(dst) in ipaddress.ip_network(
                        s["cidr"]):
                return "connected-route-wins"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--region", required=True)
    ap.add_argument("--sb", required=True)
    ap.add_argument("--host", action="append", default=[])
    ap.add_argument("--vpcctl", default="vpcctl")
    ap.add_argument("--mapping", default="flows")
    ap.add_argument("--max", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    region = Region(json.load(open(args.region)))
    dirs = dict(h.split("=", 1) for h in args.host)
    ours = Ours(region, args.region, args.vpcctl, args.mapping, dirs)
    ovn = Ovn(region, args.sb)
    rnd = random.Random(args.seed)
    counts = {"agree": 0, "explained": 0, "unexplained": 0}
    reasons = {}
    kinds = {}
    ovn_delivered = 0
    for src_id, dst, proto, port in probes(region, rnd, dirs, args.max):
        src = region.enis[src_id]
        a, a_out = ours.verdict(src, dst, proto, port)
        b, b_out = ovn.verdict(src, dst, proto, port)
        what = "%s -> %s %s%s" % (src_id, dst, proto,
                                  "" if proto == "icmp" else " %d" % port)
        kind = a[0] if a[0] != "drop" else "drop:" + a[1]
        kinds[kind] = kinds.get(kind, 0) + 1
        ovn_delivered += b[0] == "deliver"
        if a[0] == "error" or b[0] == "error":
            counts["unexplained"] += 1
            print("ERROR %s: ours %s, ovn %s" % (what, a, b))
            print("\n".join((a_out if a[0] == "error" else b_out)
                            .splitlines()[-12:]))
            continue
        same = (a[0] == b[0] == "drop") or a == b
        if same:
            counts["agree"] += 1
            if args.verbose:
                print("agree %s: %s" % (what, a))
            continue
        why = explain(region, src, dst, a, b)
        if why:
            counts["explained"] += 1
            reasons[why] = reasons.get(why, 0) + 1
            if args.verbose:
                print("explained (%s) %s: ours %s, ovn %s" % (why, what, a, b))
        else:
            counts["unexplained"] += 1
            print("DISAGREE %s: ours %s, ovn %s" % (what, a, b))
            if args.verbose:
                print(a_out)
                print(b_out)
            else:
                tail = lambda t: "\n".join(t.splitlines()[-12:])
                print("  ours:\n%s\n  ovn-trace:\n%s" % (tail(a_out),
                                                          tail(b_out)))
    total = sum(counts.values())
    print("probes %d: agree %d, explained %d%s, unexplained %d; ours: %s" % (
        total, counts["agree"], counts["explained"],
        "".join(" %s=%d" % kv for kv in sorted(reasons.items())),
        counts["unexplained"],
        " ".join("%s=%d" % kv for kv in sorted(kinds.items()))))
    # A broken set-up (no bindings, no flows, no SB) drops everything on
    # both sides and would "agree": every region here delivers something.
    if not kinds.get("deliver") or not ovn_delivered:
        print("no probe was delivered by %s: the set-up is broken"
              % ("ours" if not kinds.get("deliver") else "OVN"))
        return 1
    return 1 if counts["unexplained"] or not total else 0


if __name__ == "__main__":
    sys.exit(main())
