# ovs-ext/ovs.mk: builds the pinned Open vSwitch from Debian's
# openvswitch-source, once.  Everything of ours links its libopenvswitch.a and
# the tests run its daemons and utilities.
#
# The stamp files make a rebuild a no-op when nothing changed: the source is
# unpacked once into $(OVS_SRC), configured once and built once.

OVS_VERSION  := 3.1.0
# The ovs-vpc extension: patches that hook it into OVS, applied in order to
# the pristine source, and new files copied into the tree (src/ mirrors the
# OVS tree: src/lib/x.c -> lib/x.c).
OVS_PATCHES  := $(sort $(wildcard ovs-ext/patches/*.patch))
OVS_EXT_SRCS := $(shell find ovs-ext/src -type f 2>/dev/null)
OVS_TARBALL  := /usr/src/openvswitch/openvswitch.tar.gz
OVS_SRC      := $(BUILD)/ovs
OVS_STAMP    := $(BUILD)/.ovs-built
OVS_LIB      := $(OVS_SRC)/lib/.libs/libopenvswitch.a
OVS_BIN      := $(OVS_SRC)/utilities
OVS_CFLAGS   := -isystem $(OVS_SRC) -isystem $(OVS_SRC)/include -isystem $(OVS_SRC)/lib
# The libraries OVS itself was configured to link (ssl, unbound, cap-ng...).
OVS_LIBS      = $(OVS_LIB) $(shell sed -n -e "s/^LIBS = //p" -e "s/^SSL_LIBS = //p" -e "s/^CAPNG_LDADD = //p" $(OVS_SRC)/Makefile 2>/dev/null) -lpthread -lrt -latomic

# Installs missing Debian packages first (scripts/deps.sh is quick when
# nothing is missing).
$(BUILD)/.deps-ok: scripts/deps.sh
	bash scripts/deps.sh
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/.ovs-unpacked: $(OVS_PATCHES) | $(BUILD)/.deps-ok
	@test -f $(OVS_TARBALL) || { echo "error: $(OVS_TARBALL) is missing" \
		"(package openvswitch-source)" >&2; exit 1; }
	rm -rf $(OVS_SRC) && mkdir -p $(BUILD)
	rm -rf $(BUILD)/openvswitch
	tar -C $(BUILD) -xzf $(OVS_TARBALL)
	mv $(BUILD)/openvswitch $(OVS_SRC)
	@v=$$(sed -n 's/^AC_INIT(openvswitch, *\([^,]*\),.*/\1/p' \
		$(OVS_SRC)/configure.ac); \
	if [ "$$v" != "$(OVS_VERSION)" ]; then \
		echo "error: openvswitch-source is OVS '$$v', ovs-vpc is pinned" \
		     "to $(OVS_VERSION)" >&2; exit 1; fi
	@for p in $(OVS_PATCHES); do \
		echo "applying $$p"; \
		patch -d $(OVS_SRC) -p1 --forward --batch --quiet \
			< $$p || { echo "error: $$p does not apply to OVS" \
			"$(OVS_VERSION); the build cannot continue" >&2; \
			exit 1; }; \
	done
	touch $@

$(BUILD)/.ovs-configured: $(BUILD)/.ovs-unpacked
	cd $(OVS_SRC) && ./configure --enable-silent-rules \
		--disable-shared --enable-static > ../ovs-configure.log 2>&1 \
		|| { tail -30 ../ovs-configure.log; exit 1; }
	touch $@

# Copies the extension's files into the tree (only those that changed, so
# that make rebuilds just what depends on them), then builds OVS.
$(OVS_STAMP): $(BUILD)/.ovs-configured $(OVS_EXT_SRCS)
	@for f in $(OVS_EXT_SRCS); do \
		dst=$(OVS_SRC)/$${f#ovs-ext/src/}; \
		cmp -s $$f $$dst || cp $$f $$dst; \
	done
	$(MAKE) -C $(OVS_SRC) -j$$(nproc) all
	touch $@

$(OVS_LIB): $(OVS_STAMP)

.PHONY: ovs
ovs: $(OVS_STAMP)
