# tests/: the three layers.  'make check' runs them all; it is the README's
# test command and what .ci/run calls.
#
#   check-unit     cmocka, no OVS (tests/unit/unit.mk)
#   check-harness  the shell test harness itself (tests/lib.sh, tests/run.sh)
#   check-sandbox  a real ovs-vswitchd with the dummy datapath per test
#   check-netns    real packets between network namespaces (root)
#
# tests/run.sh closes each run with "N passed, N failed, N skipped".  A
# skipped test (a missing tool, not root) fails the run under CI=true
# unless VPC_ALLOW_SKIP names it, e.g.
#   make check-netns VPC_ALLOW_SKIP='netns/*'
# (tests/run.sh explains the patterns).

SANDBOX_TESTS := $(filter-out tests/sandbox/helpers.sh,$(sort $(wildcard tests/sandbox/*.sh)))
NETNS_TESTS := $(filter-out tests/netns/lab.sh,$(sort $(wildcard tests/netns/*.sh)))

.PHONY: check check-sandbox check-netns check-examples check-install \
	check-harness check-docs check-completion
check: check-unit check-harness check-examples check-docs check-install \
		check-completion check-fuzz check-sandbox check-netns
	@echo "make check: all test layers passed"

# Every example validates; every invalid example fails with the messages its
# .expected file lists.
check-examples: $(VPCCTL)
	@bash tests/check-examples.sh

# docs/pipeline.md's table of stages is what pipeline/stages.def says;
# 'make docs' rewrites it.
check-docs: $(VPCCTL)
	@bash tests/check-docs.sh

# vpcctl's bash completion, sourced into bash.
check-completion: $(VPCCTL)
	@bash tests/check-completion.sh

.PHONY: docs
docs: $(VPCCTL)
	@bash tests/check-docs.sh --update

# A check fed by a failing command, a skip, a failure in a subshell: none
# can pass by accident.
check-harness:
	@bash tests/check-harness.sh

# The sandbox and netns tests run twice: with the stock-OpenFlow mapping
# stage and with ovs-ext's vpc_encap/vpc_verify (same intents, same checks).
check-sandbox: $(VPCCTL)
	@VPC_MAPPING=flows bash tests/run.sh $(SANDBOX_TESTS)
	@VPC_MAPPING=action bash tests/run.sh $(SANDBOX_TESTS)

check-netns: $(VPCCTL)
	@VPC_MAPPING=flows bash tests/run.sh $(NETNS_TESTS)
	@VPC_MAPPING=action bash tests/run.sh $(NETNS_TESTS)

# make install into a temporary DESTDIR.
check-install: $(VPCCTL) $(VPCD)
	@bash tests/check-install.sh

# The differential test against OVN at scale: 40 random regions, every
# probe, both mapping modes (tests/ovn-diff/README.md).  'make check' runs
# the examples and three seeds.
OVN_DIFF_LARGE_SEEDS ?= $(shell seq 1 40)
.PHONY: check-ovn-diff
check-ovn-diff: $(VPCCTL)
	@OVN_DIFF_SEEDS="$(OVN_DIFF_LARGE_SEEDS)" OVN_DIFF_MAX=0 VPC_MAPPING=flows \
		bash tests/run.sh tests/sandbox/ovn-diff.sh
	@OVN_DIFF_SEEDS="$(OVN_DIFF_LARGE_SEEDS)" OVN_DIFF_MAX=0 VPC_MAPPING=action \
		bash tests/run.sh tests/sandbox/ovn-diff.sh
