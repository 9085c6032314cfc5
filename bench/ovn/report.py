#!/usr/bin/env python3
"""bench/ovn/report.py RESULTS.tsv: the tables of bench/bench-ovn.sh.

Reads the SIZE SYSTEM METRIC VALUE lines written by bench-ovn.sh, prints
Markdown tables on stdout and writes RESULTS.dat (gnuplot data: one line per
size; "NaN" where a value is missing, e.g. OVN did not converge) next to it.
"""
import collections, sys

res = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    size, system, metric, value = line.rstrip("\n").split("\t")
    res[(int(size), system)][metric] = value


def get(size, system, metric, default=None):
    return res.get((size, system), {}).get(metric, default)


def num(v, fmt="{:,.0f}"):
    if v is None:
        return "–"
    try:
        return fmt.format(float(v))
    except ValueError:
        return v


def mib(kb):
    return "–" if kb is None else "%.0f" % (float(kb) / 1024)


sizes = sorted({s for s, _ in res if s > 0})
m = res.get((0, "machine"), {})
print("\n## ovs-vpc vs OVN (%s; load before %s, after %s)\n"
      % (m.get("date", "?"), m.get("load_before", "?"), m.get("load_after", "?")))
print("| ENIs (VPCs / hosts / local ENIs) | system | converge (s) | OpenFlow flows on host | add one ENI, median (max) (s) | resident memory, MiB (peak) |")
print("|---|---|---|---|---|---|")
PROCS = {
    "ours-action": [("vpcctl", "vpcctl_kb"), ("ovs-vswitchd", "vswitchd_kb"), ("ovsdb-server", "ovsdb_kb")],
    "ours-flows": [("vpcctl", "vpcctl_kb"), ("ovs-vswitchd", "vswitchd_kb"), ("ovsdb-server", "ovsdb_kb")],
    "ours-vpcd": [("vpcd", "vpcd_kb"), ("ovs-vswitchd", "vswitchd_kb"), ("ovsdb-server", "ovsdb_kb")],
    "ovn": [("NB ovsdb-server", "nb_kb"), ("SB ovsdb-server", "sb_kb"), ("ovn-northd", "northd_kb"),
            ("ovn-controller", "controller_kb"), ("ovs-vswitchd", "vswitchd_kb"), ("ovsdb-server", "ovsdb_kb")],
}
NAMES = {"ours-action": "ours: vpcctl apply, action mapping",
         "ours-flows": "ours: vpcctl apply, flows mapping",
         "ours-vpcd": "ours: vpcd (action mapping)",
         "ovn": "OVN 23.03"}
for s in sizes:
    label = "%s (%s / %s / %s)" % (num(s), num(get(s, "region", "vpcs")),
                                   num(get(s, "region", "hosts")),
                                   num(get(s, "region", "local_enis")))
    for sysname in ("ours-action", "ours-flows", "ours-vpcd", "ovn"):
        if (s, sysname) not in res:
            continue
        conv = get(s, sysname, "t_converge_s")
        if sysname == "ovn" and get(s, "ovn", "converged") == "0":
            conv = "did not converge in %s s" % get(s, "ovn", "cap_s", "600")
            if get(s, "ovn", "memguard_s"):
                conv = ("did not converge: stopped by the memory guard after %.0f s"
                        % float(get(s, "ovn", "memguard_s")))
        else:
            conv = num(conv, "{:.2f}")
        add = get(s, sysname, "add_eni_median_s")
        add = "–" if add is None else "%s (%s)" % (num(add, "{:.3f}"),
                                                    num(get(s, sysname, "add_eni_max_s"), "{:.3f}"))
        mem, tot = [], 0.0
        for pname, key in PROCS[sysname]:
            r, h = get(s, sysname, "rss_" + key), get(s, sysname, "hwm_" + key)
            if r is None and h is not None:        # vpcctl: peak only
                mem.append("%s %s peak" % (pname, mib(h)))
                continue
            if r is None:
                continue
            tot += float(r)
            mem.append("%s %s (%s)" % (pname, mib(r), mib(h)))
        if sysname.startswith("ours-") and sysname != "ours-vpcd":
            pass
        print("| %s | %s | %s | %s | %s | %s; **total resident %s** |" % (
            label, NAMES[sysname], conv, num(get(s, sysname, "flows")), add,
            ", ".join(mem), mib(tot)))
        label = ""

ovn_steps = [s for s in sizes if (s, "ovn") in res]
if ovn_steps:
    print("\nOVN convergence, step by step (seconds from the start of the NB load):\n")
    print("| ENIs | NB ops | NB load | --wait=sb | remote ports bound (count) | --wait=hv | flows stable (from) | logical flows |")
    print("|---|---|---|---|---|---|---|---|")
    for s in ovn_steps:
        g = lambda k, f="{:.2f}": num(get(s, "ovn", k), f)
        print("| %s | %s | %s | %s | %s (%s) | %s | %s | %s |" % (
            num(s), g("nb_ops", "{:,.0f}"), g("t_nb_load_s"), g("t_wait_sb_s"), g("t_bind_s"),
            g("remote_ports_bound", "{:,.0f}"), g("t_wait_hv_s"), g("t_converge_s"),
            g("lflows", "{:,.0f}")))

dp = [k for k in res if k[0] == -1]
if dp:
    print("\nDatapath, 1,000 remote ENIs in one VPC (bench/remote-region.py):\n")
    print("| system | OpenFlow flows | packets received | megaflows (dump-flows lines) | PMD cycles/packet, median of runs | Mpps of one core | runs (cycles/packet) |")
    print("|---|---|---|---|---|---|---|")
    for sysname in ("ours-action", "ours-flows", "ovn"):
        if (-1, sysname) not in res:
            continue
        g = lambda k, f="{:,.0f}": num(get(-1, sysname, k), f)
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            NAMES[sysname].replace("vpcctl apply, ", ""), g("flows"), g("mf_received"),
            g("megaflows"), g("pps_cycles"), g("pps_mpps", "{:.3f}"),
            get(-1, sysname, "pps_runs", "–")))

# gnuplot data
with open(sys.argv[1].rsplit(".", 1)[0] + ".dat", "w") as f:
    f.write("# enis ours_action_conv ours_vpcd_conv ovn_conv ours_action_flows ours_flows_flows ovn_flows\n")
    for s in sizes:
        def v(sysname, k):
            x = get(s, sysname, k)
            if sysname == "ovn" and get(s, "ovn", "converged") != "1":
                return "NaN"
            return "NaN" if x is None else x
        f.write("%d %s %s %s %s %s %s\n" % (
            s, v("ours-action", "t_converge_s"), v("ours-vpcd", "t_converge_s"),
            v("ovn", "t_converge_s"), v("ours-action", "flows"), v("ours-flows", "flows"),
            v("ovn", "flows")))
