# daemon/: vpcd, the host agent (libevent event loop and HTTP API).
DAEMON_SRCS := daemon/state.c daemon/agent.c daemon/imds.c daemon/dhcp.c
VPCD := $(BUILD)/vpcd

# daemon/follow.c (--region-db) and daemon/flowlog.c (flow logs) are vpcd's
# only: the agent's unit tests and fuzzers link no region database.
$(VPCD): $(patsubst %.c,$(BUILD)/obj/%.o,daemon/vpcd.c daemon/follow.c \
		daemon/flowlog.c daemon/pinctrl.c \
		$(DAEMON_SRCS) $(SWITCH_SRCS) $(LIB_SRCS)) $(RDB_OBJS) $(OVS_LIB)
	$(CC) -o $@ $(filter %.o,$^) $(OVS_LIBS) -levent

# The follower uses the region database's generated IDL.
$(BUILD)/obj/daemon/follow.o: ALL_CFLAGS += -I$(BUILD)
$(BUILD)/obj/daemon/follow.o: $(RDB_IDL_H)

# daemon/dns.c, the VPC resolver (libevent): vpcd's, and test-dns's.
$(VPCD): $(BUILD)/obj/daemon/dns.o

all: $(VPCD)

# make install [PREFIX=/usr/local] [DESTDIR=]: vpcctl, vpcd, the systemd
# unit, the schema, the docs and the man pages (man/, written by hand).  make install-ovs: the (patched) Open
# vSwitch this tree builds, through its own 'make install'.
PREFIX ?= /usr/local
BINDIR = $(PREFIX)/bin
SBINDIR = $(PREFIX)/sbin
DOCDIR = $(PREFIX)/share/doc/ovs-vpc
DATADIR = $(PREFIX)/share/ovs-vpc
MANDIR = $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= /lib/systemd/system

.PHONY: install install-ovs
install: $(VPCCTL) $(VPCD)
	install -D -m 755 $(VPCCTL) $(DESTDIR)$(BINDIR)/vpcctl
	install -D -m 755 $(VPCD) $(DESTDIR)$(SBINDIR)/vpcd
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
		daemon/systemd/ovs-vpcd.service.in \
		> $(DESTDIR)$(UNITDIR)/ovs-vpcd.service
	install -D -m 644 daemon/systemd/ovs-vpcd.default \
		$(DESTDIR)/etc/default/ovs-vpcd.example
	install -m 644 README.md NEWS docs/*.md $(DESTDIR)$(DOCDIR)/
	install -m 644 schema/region.schema.json $(DESTDIR)$(DATADIR)/
	cp -r examples $(DESTDIR)$(DATADIR)/
	install -D -m 644 -t $(DESTDIR)$(MANDIR)/man8 man/vpcctl.8 man/vpcd.8
	install -D -m 644 cli/vpcctl.bash \
		$(DESTDIR)$(BASHCOMPDIR)/vpcctl

install-ovs: $(OVS_STAMP)
	$(MAKE) -C $(OVS_SRC) install DESTDIR=$(abspath $(DESTDIR))
