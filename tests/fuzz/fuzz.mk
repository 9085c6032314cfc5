# tests/fuzz/fuzz.mk: libFuzzer targets (clang), one binary per
# tests/fuzz/fuzz-*.c.
#
# Included by the top-level Makefile, which provides $(BUILD), $(OVS_CFLAGS),
# $(OVS_LIB), $(OVS_LIBS), $(TRANSLATOR_SRCS), $(PIPELINE_SRCS) and
# $(DAEMON_SRCS).
#
#   make fuzz-build     builds the fuzzers into $(BUILD)/fuzz/
#   make check-fuzz     replays tests/fuzz/regressions/, then runs each
#                       fuzzer for FUZZ_CHECK_SECONDS (20) on a copy of its
#                       seed corpus; fails on any crash, leak or sanitizer
#                       report
#   make fuzz           the same for FUZZ_SECONDS (600) each
#
# Our sources are compiled directly by clang with the fuzzer, ASan and UBSan
# instrumentation; libopenvswitch.a (built by gcc) is linked uninstrumented,
# which ASan handles (its malloc and free are intercepted all the same).
#
# Seeds: tests/fuzz/corpus/<target>/ (intent: the examples, valid and
# invalid; http: requests, see tests/fuzz/fuzz-http.c for the format; dhcp:
# client frames written by tests/dhcp-packet.py; dns: queries dig sent,
# see tests/fuzz/fuzz-dns.c; imds: metadata requests,
# tests/fuzz/fuzz-imds.c).  The
# runs work on a copy in a temporary directory, so the repository's corpus
# is never modified; crash artifacts go to $(BUILD)/fuzz/artifacts/.
# Regressions: tests/fuzz/regressions/<target>-<name>, replayed by
# check-fuzz (libFuzzer runs the files given as arguments once each).
#
# Needs clang-14 and its sanitizer and libFuzzer runtimes (Debian 12
# packages clang-14 and libclang-rt-14-dev).

FUZZ_CC            ?= clang-14
FUZZ_SANITIZERS    ?= fuzzer,address,undefined
FUZZ_CFLAGS        ?= -O1 -g -fno-omit-frame-pointer
FUZZ_CHECK_SECONDS ?= 20
FUZZ_SECONDS       ?= 600
FUZZ_JOBS          ?= 1

FUZZ_TARGETS := intent http dhcp dns imds
FUZZ_BINS    := $(patsubst %,$(BUILD)/fuzz/fuzz-%,$(FUZZ_TARGETS))

# Sources of ours each fuzzer is built from (besides its own file).
FUZZ_SRCS_intent = $(TRANSLATOR_SRCS) $(PIPELINE_SRCS)
FUZZ_SRCS_http   = $(TRANSLATOR_SRCS) $(PIPELINE_SRCS) $(DAEMON_SRCS) \
                   $(SWITCH_SRCS)
FUZZ_SRCS_imds   = $(TRANSLATOR_SRCS) $(PIPELINE_SRCS) daemon/imds.c
FUZZ_SRCS_dhcp   = $(TRANSLATOR_SRCS) $(PIPELINE_SRCS) daemon/dhcp.c
FUZZ_SRCS_dns    = daemon/dns.c $(TRANSLATOR_SRCS)
# Libraries a fuzzer needs besides OVS's.
FUZZ_LIBS_dns    = -levent

FUZZ_ALL_CFLAGS = -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	$(FUZZ_CFLAGS) -fsanitize=$(FUZZ_SANITIZERS) \
	-fno-sanitize-recover=undefined -I. $(OVS_CFLAGS)

# See tests/unit/unit.mk: the libraries OVS was configured with.
FUZZ_OVS_LIBS = $(OVS_LIBS) \
	$(shell sed -n 's/^LIBS = //p' $(OVS_SRC)/Makefile 2>/dev/null)

.SECONDEXPANSION:
$(BUILD)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $$(FUZZ_SRCS_$$*) $$(OVS_LIB) \
		$$(wildcard */*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -o $@ $< $(FUZZ_SRCS_$*) \
		$(FUZZ_OVS_LIBS) $(FUZZ_LIBS_$*)

.PHONY: fuzz-build check-fuzz fuzz
fuzz-build: $(FUZZ_BINS)

# $(call fuzz-run,SECONDS): replays the regressions of each target, then
# fuzzes it for SECONDS on a temporary copy of its corpus.
define fuzz-run
	@set -e; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	mkdir -p $(BUILD)/fuzz/artifacts; \
	for t in $(FUZZ_TARGETS); do \
		bin=$(BUILD)/fuzz/fuzz-$$t; \
		regs=$$(ls tests/fuzz/regressions/$$t-* 2>/dev/null || true); \
		if [ -n "$$regs" ]; then \
			echo "== fuzz-$$t: replaying $$(echo $$regs | wc -w)" \
			     "regression(s)"; \
			$$bin -runs=1 $$regs > $$tmp/$$t.replay.log 2>&1 || { \
				cat $$tmp/$$t.replay.log >&2; \
				echo "fuzz-$$t: a regression input fails" >&2; \
				exit 1; }; \
		fi; \
		mkdir -p $$tmp/$$t; \
		cp tests/fuzz/corpus/$$t/* $$tmp/$$t/; \
		echo "== fuzz-$$t: $(1) s"; \
		$$bin -max_total_time=$(1) -timeout=30 -jobs=$(FUZZ_JOBS) \
			-workers=$(FUZZ_JOBS) -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/artifacts/$$t- \
			$$tmp/$$t > $$tmp/$$t.log 2>&1 || { \
			tail -80 $$tmp/$$t.log >&2; \
			echo "fuzz-$$t: FAILED; the input is in" \
			     "$(BUILD)/fuzz/artifacts/" >&2; \
			exit 1; }; \
		grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
			$$tmp/$$t.log || tail -3 $$tmp/$$t.log; \
	done; \
	echo "fuzzing passed: $(FUZZ_TARGETS)"
endef

check-fuzz: fuzz-build
	$(call fuzz-run,$(FUZZ_CHECK_SECONDS))

fuzz: fuzz-build
	$(call fuzz-run,$(FUZZ_SECONDS))
