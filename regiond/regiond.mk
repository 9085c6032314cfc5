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
install-regiond: $(REGIOND) $(RDB_SCHEMA)
	install -D -m 755 $(REGIOND) $(DESTDIR)$(SBINDIR)/vpc-regiond
	install -D -m 644 $(RDB_SCHEMA) $(DESTDIR)$(DATADIR)/region.ovsschema
