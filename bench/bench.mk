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
