# ovs-vpc: top-level, non-recursive makefile.  Each directory contributes a
# <dir>.mk fragment; see README.md for the tour.
#
#   make            build OVS 3.1.0 (once) and vpcctl
#   make check      every test: unit, sandbox, netns (netns needs root)
#   make demo       the README's main job: sandboxed OVS + example region
#   make bench      the synthetic-region benchmark (docs/benchmarks.md)

BUILD   ?= build
CC      ?= gcc
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -I. $(OVS_CFLAGS) -MMD -MP

.PHONY: all
all:

include ovs-ext/ovs.mk
include translator/translator.mk
include pipeline/pipeline.mk
LIB_SRCS := $(TRANSLATOR_SRCS) $(PIPELINE_SRCS)
include backends/backends.mk
include switch/switch.mk
include cli/cli.mk
include regiondb/regiondb.mk
include regiond/regiond.mk
include daemon/daemon.mk
-include tests/unit/unit.mk
-include tests/tests.mk
-include tests/fuzz/fuzz.mk
-include bench/bench.mk

# Our objects need the OVS build (generated headers, config.h) first.
$(BUILD)/obj/%.o: %.c $(OVS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

.PHONY: deps
deps:
	bash scripts/deps.sh

.PHONY: clean distclean
clean:
	rm -rf $(BUILD)/obj $(BUILD)/tests $(VPCCTL)
distclean:
	rm -rf $(BUILD)

.PHONY: demo
demo: $(VPCCTL)
	@bash scripts/demo.sh
