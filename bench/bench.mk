# bench/bench.mk: the synthetic-region benchmark (docs/benchmarks.md).
#   make bench          generate a 10k-VPC / 100k-ENI region, time validate,
#                       compile and apply for one host; then bench-ovs-ext.
#   make bench-ovs-ext  ovs-ext: mapping-cache memory, load time and lookup
#                       cost; flows and megaflows per host in both mapping
#                       modes; encapsulation cost per packet in both modes
#                       (bench/bench-ovs-ext.sh).  Results on stdout.
.PHONY: bench bench-ovs-ext
bench: $(VPCCTL) bench-ovs-ext
	VPCCTL=$(abspath $(VPCCTL)) bash bench/bench.sh

# The lookup microbenchmark links the mapping cache the way
# tests/unit/test-vpc-map does (tests/unit/unit.mk): only
# ovs-ext/src/lib/vpc-map*.c and libopenvswitch.a.
BENCH_VPC_MAP_SRCS = ovs-ext/src/lib/vpc-map.c ovs-ext/src/lib/vpc-map-unixctl.c
BENCH_VPC_MAP_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(BENCH_VPC_MAP_SRCS))
BENCH_VPC_MAP = $(BUILD)/bench/vpc-map-bench
$(BENCH_VPC_MAP): bench/vpc-map-bench.c $(BENCH_VPC_MAP_OBJS) $(OVS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BENCH_VPC_MAP_OBJS) $(OVS_LIBS) \
		$(shell sed -n 's/^LIBS = //p' $(OVS_SRC)/Makefile 2>/dev/null)

bench-ovs-ext: $(VPCCTL) $(BENCH_VPC_MAP)
	VPCCTL=$(abspath $(VPCCTL)) VPC_MAP_BENCH=$(abspath $(BENCH_VPC_MAP)) \
		bash bench/bench-ovs-ext.sh

# vpcd: PUT-to-installed latency on two hosts, resync after an ovs-vswitchd
# restart, resident memory (bench/bench-vpcd.sh).
.PHONY: bench-vpcd
bench-vpcd: $(VPCCTL) $(VPCD)
	bash bench/bench-vpcd.sh
bench: bench-vpcd

# Edge: pps through the edge bridge (plain forwarding, elastic IP, NAT
# gateway) and TCP connections/s through elastic IP vs NAT gateway, real
# packets in the netns lab (bench/bench-edge.sh; root).
.PHONY: bench-edge
bench-edge: $(VPCCTL)
	bash bench/bench-edge.sh
bench: bench-edge

# The cost of flow logs: packets per second with and without, real packets
# in the netns lab (bench/bench-flowlogs.sh; root).
.PHONY: bench-flowlogs
bench-flowlogs: $(VPCCTL)
	bash bench/bench-flowlogs.sh
bench: bench-flowlogs

# ovs-vpc vs OVN: the same regions through vpcctl/vpcd and through OVN
# 23.03 (NB/SB ovsdb-server, ovn-northd, ovn-controller on the same OVS
# build): convergence, flows, memory, add-one-ENI latency, megaflows,
# cycles per packet (bench/bench-ovn.sh; results in bench/out/bench-ovn.*,
# the plot in docs/bench-ovn.svg).  ovn-controller is not installed: it is
# taken from Debian's ovn-host package without installing it (which would
# pull in openvswitch-switch and its service).  SIZES="1000" for a quick run.
OVN_CONTROLLER = $(BUILD)/ovn-host/usr/bin/ovn-controller
$(OVN_CONTROLLER):
	@mkdir -p $(BUILD)/ovn-host
	cd $(BUILD)/ovn-host && rm -f ovn-host_*.deb && apt-get download ovn-host \
		&& dpkg-deb -x ovn-host_*.deb .
	@touch $@

.PHONY: bench-ovn
bench-ovn: $(VPCCTL) $(VPCD) $(OVN_CONTROLLER)
	bash scripts/deps.sh --bench
	OVN_CONTROLLER=$(abspath $(OVN_CONTROLLER)) bash bench/bench-ovn.sh
	@if command -v gnuplot >/dev/null; then \
		gnuplot -e "dat='bench/out/bench-ovn.dat'; out='docs/bench-ovn.svg'" \
			bench/ovn/plot.gp && echo "plot: docs/bench-ovn.svg"; fi
bench: bench-ovn

# The incremental validator (translator/validator.c) on the 100,000-ENI
# region: create time and memory, per-change p50/p99 for ENI add, delete,
# move, SG rule add, route add, peering and subnet add
# (bench/validator-bench.c).  Not part of 'make bench'; results on stdout.
BENCH_VALIDATOR = $(BUILD)/bench/validator-bench
$(BENCH_VALIDATOR): bench/validator-bench.c $$(VPC_OBJS) $(OVS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(VPC_OBJS) $(OVS_LIBS) \
		$(shell sed -n 's/^LIBS = //p' $(OVS_SRC)/Makefile 2>/dev/null)

BENCH_REGION = bench/out/region-100k.json
.PHONY: bench-validate
bench-validate: $(BENCH_VALIDATOR)
	@mkdir -p bench/out
	test -s $(BENCH_REGION) || python3 bench/gen-region.py \
		--out $(BENCH_REGION)
	$(BENCH_VALIDATOR) $(BENCH_REGION) $(BENCH_CHANGES)

# The region database path (issue 12): load time, one host's first
# convergence, then >= 200 mixed changes through vpc-regiond with the
# host's vpcd --region-db: agent time and commit-to-acknowledgement
# p50/p99, vpcd's RSS (bench/bench-db.sh, bench/db_changes.py).  Not part
# of 'make bench'.  BENCH_DB_ENIS=100000 for make bench's region (default
# 10000), BENCH_DB_CHANGES (200).
.PHONY: bench-db
bench-db: $(VPCCTL) $(VPCD) $(REGIOND)
	bash bench/bench-db.sh

# Fan-out to many hosts (issue 13): a Raft cluster, relays and AGENTS
# simulated hosts (vpcd --no-switch) on the ENIS-ENI region: sync,
# propagation p50/p99, updates to unaffected hosts, sustained write rate,
# mass reconnect, CPU and memory (bench/bench-scale.sh,
# bench/scale_driver.py; results in bench/out/scale-*.json).  AGENTS
# (1000), ENIS (100000), HOSTS_PER_VPC (10), RELAYS, MEMBERS (3), CHANGES
# (200).  Not part of 'make bench'.
.PHONY: bench-scale
bench-scale: $(VPCCTL) $(VPCD) $(REGIOND)
	bash bench/bench-scale.sh

# Instance metadata: requests/s and latency through the service port, vpcd's
# CPU, the per-ENI rate limit under a flood (bench/bench-imds.sh; root).
.PHONY: bench-imds
bench-imds: $(VPCCTL) $(VPCD)
	bash bench/bench-imds.sh
bench: bench-imds

# Host services: DHCP exchanges per second and their latency through vpcd's
# packet-in controller, and the per-ENI limit under a flood (bench/
# bench-dhcp.sh; root), the same for DNS queries to the VPC resolver,
# local and forwarded (bench/bench-dns.sh), then the metadata service's
# (bench-imds).
.PHONY: bench-services
bench-services: $(VPCCTL) $(VPCD)
	bash bench/bench-dhcp.sh
	bash bench/bench-dns.sh
	bash bench/bench-imds.sh
