# regiond/: vpc-regiond, the region API (HTTP over libevent, the region
# database held as an IDL replica; docs/regiondb.md).
REGIOND := $(BUILD)/vpc-regiond

$(REGIOND): $(BUILD)/obj/regiond/regiond.o $(RDB_OBJS) \
		$(patsubst %.c,$(BUILD)/obj/%.o,$(TRANSLATOR_SRCS)) $(OVS_LIB)
	$(CC) -o $@ $(filter %.o,$^) $(OVS_LIBS) -levent -levent_openssl \
		-lssl -lcrypto

all: $(REGIOND)

# The sandbox tests run it (tests/sandbox/regiondb-api.sh).
check-sandbox: $(REGIOND)

# make install also installs vpc-regiond and the region database's OVSDB
# schema (PREFIX, DESTDIR, SBINDIR and DATADIR as in daemon/daemon.mk).
.PHONY: install-regiond
install: install-regiond
# The control plane's script and units (docs/deploy.md):
# vpc-regiondb-ctl, ovs-vpc-regiondb@.service (a Raft member),
# ovs-vpc-regiondb-relay@.service (a relay), ovs-vpc-regiond.service (the
# region API).
REGIONDB_DBDIR ?= /var/lib/ovs-vpc
REGIOND_SUBST = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	-e 's|@DATADIR@|$(DATADIR)|g' -e 's|@DBDIR@|$(REGIONDB_DBDIR)|g'
install-regiond: $(REGIOND) $(RDB_SCHEMA)
	install -D -m 755 $(REGIOND) $(DESTDIR)$(SBINDIR)/vpc-regiond
	install -D -m 644 $(RDB_SCHEMA) $(DESTDIR)$(DATADIR)/region.ovsschema
	install -D -m 644 -t $(DESTDIR)$(MANDIR)/man8 man/vpc-regiond.8
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)/etc/default
	$(REGIOND_SUBST) scripts/vpc-regiondb-ctl \
		> $(DESTDIR)$(SBINDIR)/vpc-regiondb-ctl
	chmod 755 $(DESTDIR)$(SBINDIR)/vpc-regiondb-ctl
	for u in ovs-vpc-regiondb@ ovs-vpc-regiondb-relay@ ovs-vpc-regiond; do \
		$(REGIOND_SUBST) regiond/systemd/$$u.service.in \
			> $(DESTDIR)$(UNITDIR)/$$u.service || exit 1; \
	done
	install -m 644 regiond/systemd/ovs-vpc-regiondb.default \
		$(DESTDIR)/etc/default/ovs-vpc-regiondb.example
