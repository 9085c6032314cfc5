# tests/: the three layers.  'make check' runs them all; it is the README's
# test command and what .ci/run calls.
#
#   check-unit     cmocka, no OVS (tests/unit/unit.mk)
#   check-sandbox  a real ovs-vswitchd with the dummy datapath per test
#   check-netns    real packets between network namespaces (root)

SANDBOX_TESTS := $(sort $(wildcard tests/sandbox/*.sh))
NETNS_TESTS := $(filter-out tests/netns/lab.sh,$(sort $(wildcard tests/netns/*.sh)))

.PHONY: check check-sandbox check-netns check-examples
check: check-unit check-examples check-sandbox check-netns
	@echo "make check: all test layers passed"

# Every example validates; every invalid example fails with the messages its
# .expected file lists.
check-examples: $(VPCCTL)
	@bash tests/check-examples.sh

check-sandbox: $(VPCCTL)
	@bash tests/run.sh $(SANDBOX_TESTS)

check-netns: $(VPCCTL)
	@bash tests/run.sh $(NETNS_TESTS)
