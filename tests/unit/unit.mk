# tests/unit/unit.mk: cmocka unit tests, one binary per tests/unit/test-*.c.
#
# Included by the top-level Makefile, which provides $(BUILD), $(CC),
# $(ALL_CFLAGS), $(OVS_LIB), $(OVS_LIBS), $(TRANSLATOR_SRCS), $(PIPELINE_SRCS)
# and the rule $(BUILD)/obj/%.o: %.c.
#
#   make check-unit     builds and runs every unit test; fails if any fails.

UNIT_TESTS += $(BUILD)/tests/unit/test-intent
UNIT_TESTS += $(BUILD)/tests/unit/test-pipeline
UNIT_TESTS += $(BUILD)/tests/unit/test-vpc-map
UNIT_TESTS += $(BUILD)/tests/unit/test-vpcd
UNIT_TESTS += $(BUILD)/tests/unit/test-validator
UNIT_TESTS += $(BUILD)/tests/unit/test-validator-api
UNIT_TESTS += $(BUILD)/tests/unit/test-flowlog
UNIT_TESTS += $(BUILD)/tests/unit/test-imds
UNIT_TESTS += $(BUILD)/tests/unit/test-dhcp
UNIT_TESTS += $(BUILD)/tests/unit/test-pinctrl
UNIT_TESTS += $(BUILD)/tests/unit/test-dns

# Our objects that every unit test links.  Recursive ('='), so that it sees
# PIPELINE_SRCS even if pipeline.mk is included after this file.
VPC_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(TRANSLATOR_SRCS) $(PIPELINE_SRCS))

# The libraries OVS was configured with (its Makefile's LIBS, e.g.
# "-latomic -lm -lunbound"): libopenvswitch.a needs them, and OVS_LIBS may
# not list them all.  Recursive, so it is read when a test is linked, after
# OVS has been configured.  Repeating a library OVS_LIBS has is harmless.
OVS_CONFIGURED_LIBS ?= $(shell sed -n 's/^LIBS = //p' $(OVS_SRC)/Makefile 2>/dev/null)

# The prerequisites are expanded a second time, when the rule is used, for the
# same reason.
.SECONDEXPANSION:
$(BUILD)/tests/unit/test-%: tests/unit/test-%.c $$(VPC_OBJS) $$(OVS_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(VPC_OBJS) $(OVS_LIBS) \
		$(OVS_CONFIGURED_LIBS) -lcmocka

# test-vpc-map tests the mapping cache that goes into ovs-vswitchd: it links
# only ovs-ext/src/lib/vpc-map*.c and libopenvswitch.a, not the translator.  This
# explicit rule overrides the pattern rule above.
VPC_MAP_SRCS = ovs-ext/src/lib/vpc-map.c ovs-ext/src/lib/vpc-map-unixctl.c
VPC_MAP_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(VPC_MAP_SRCS))
$(BUILD)/tests/unit/test-vpc-map: tests/unit/test-vpc-map.c $(VPC_MAP_OBJS) \
		$$(OVS_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(VPC_MAP_OBJS) $(OVS_LIBS) \
		$(OVS_CONFIGURED_LIBS) -lcmocka

# test-vpcd tests vpcd's logic (daemon/state.c, daemon/agent.c) and its HTTP
# API offline: it links the daemon's objects but not daemon/vpcd.c (the
# libevent loop), so it needs no -levent.  It also links the mapping cache,
# which its fake ovs-vswitchd serves.  Explicit rule, as above.
VPCD_TEST_OBJS = $(patsubst %.c,$(BUILD)/obj/%.o,$(DAEMON_SRCS) \
		$(SWITCH_SRCS)) $(VPC_OBJS) $(VPC_MAP_OBJS)
$(BUILD)/tests/unit/test-vpcd: tests/unit/test-vpcd.c $$(VPCD_TEST_OBJS) \
		$$(OVS_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(VPCD_TEST_OBJS) $(OVS_LIBS) \
		$(OVS_CONFIGURED_LIBS) -lcmocka

# test-validator also checks regiondb/affected.c (the hosts a write
# affects, from the validator's indexes), which needs no IDL.  Explicit
# rule, as above.
VALIDATOR_TEST_OBJS = $(BUILD)/obj/regiondb/affected.o $(VPC_OBJS)
$(BUILD)/tests/unit/test-validator: tests/unit/test-validator.c \
		$$(VALIDATOR_TEST_OBJS) $$(OVS_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(VALIDATOR_TEST_OBJS) $(OVS_LIBS) \
		$(OVS_CONFIGURED_LIBS) -lcmocka

# test-flowlog tests vpcd's flow logs (daemon/flowlog.c, which needs
# libevent) with the daemon's objects.  Explicit rule, as above.
$(BUILD)/tests/unit/test-flowlog: tests/unit/test-flowlog.c \
		$$(VPCD_TEST_OBJS) $(BUILD)/obj/daemon/flowlog.o $$(OVS_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/obj/daemon/flowlog.o \
		$(VPCD_TEST_OBJS) $(OVS_LIBS) $(OVS_CONFIGURED_LIBS) -lcmocka \
		-levent

# test-imds tests the instance metadata service's request function
# (daemon/imds.c).  Explicit rule, as above.
$(BUILD)/tests/unit/test-imds: tests/unit/test-imds.c $$(VPCD_TEST_OBJS) \
		$$(OVS_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(VPCD_TEST_OBJS) $(OVS_LIBS) \
		$(OVS_CONFIGURED_LIBS) -lcmocka
# test-dhcp tests vpcd's DHCP server (daemon/dhcp.c, pure functions of
# bytes and the model).  Explicit rule, as above.
$(BUILD)/tests/unit/test-dhcp: tests/unit/test-dhcp.c \
		$(BUILD)/obj/daemon/dhcp.o $$(VPC_OBJS) $$(OVS_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/obj/daemon/dhcp.o $(VPC_OBJS) \
		$(OVS_LIBS) $(OVS_CONFIGURED_LIBS) -lcmocka

# test-dns tests the VPC resolver (daemon/dns.c, which needs libevent) with
# the translator's objects.  Explicit rule, as above.
$(BUILD)/tests/unit/test-dns: tests/unit/test-dns.c \
		$$(VPC_OBJS) $(BUILD)/obj/daemon/dns.o $$(OVS_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/obj/daemon/dns.o \
		$(VPC_OBJS) $(OVS_LIBS) $(OVS_CONFIGURED_LIBS) -lcmocka -levent

# test-pinctrl tests vpcd's packet-in controller (daemon/pinctrl.c, with the
# resolver, daemon/dns.c; both need libevent) with the daemon's objects.
# Explicit rule, as above.
PINCTRL_TEST_OBJS = $(BUILD)/obj/daemon/pinctrl.o $(BUILD)/obj/daemon/dns.o
$(BUILD)/tests/unit/test-pinctrl: tests/unit/test-pinctrl.c \
		$$(VPCD_TEST_OBJS) $(PINCTRL_TEST_OBJS) $$(OVS_LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(PINCTRL_TEST_OBJS) $(VPCD_TEST_OBJS) \
		$(OVS_LIBS) $(OVS_CONFIGURED_LIBS) -lcmocka -levent

# Keep the objects when only a unit test needed them.
.PRECIOUS: $(BUILD)/obj/%.o

-include $(wildcard $(BUILD)/tests/unit/*.d)

.PHONY: check-unit
check-unit: $(UNIT_TESTS)
	@failed=; \
	for t in $(UNIT_TESTS); do \
		echo "== $$t"; \
		$$t || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then \
		echo "FAILED unit tests:$$failed" >&2; exit 1; \
	fi; \
	echo "all unit tests passed"
