# regiondb/: the region database (OVSDB) and its client, used by
# 'vpcctl --region-db=REMOTES load|dump' (docs/regiondb.md).
#
# build/regiondb/region.ovsschema is generated from schema/region.schema.json
# and schema/region.ann.json (schema/regiondb-gen.py), checked by the pinned
# ovsdb-tool, and compiled into a C IDL by the pinned ovsdb-idlc, as OVS
# builds lib/vswitch-idl.{c,h}.
RDB_GEN     := schema/regiondb-gen.py
RDB_INPUTS  := schema/region.schema.json schema/region.ann.json
RDB_DIR     := $(BUILD)/regiondb
RDB_SCHEMA  := $(RDB_DIR)/region.ovsschema
RDB_IDL_C   := $(RDB_DIR)/region-idl.c
RDB_IDL_H   := $(RDB_DIR)/region-idl.h
RDB_SPEC    := $(RDB_DIR)/rdb-spec.inc
RDB_SRCS    := regiondb/regiondb.c regiondb/write.c regiondb/verbs.c \
               regiondb/access.c regiondb/scope.c regiondb/affected.c
RDB_OBJS    := $(patsubst %.c,$(BUILD)/obj/%.o,$(RDB_SRCS)) \
               $(BUILD)/obj/regiondb/region-idl.o
OVSDB_IDLC_RUN = PYTHONPATH=$(OVS_SRC)/python PYTHONDONTWRITEBYTECODE=yes \
                 python3 $(OVS_SRC)/ovsdb/ovsdb-idlc.in

$(RDB_SCHEMA): $(RDB_GEN) $(RDB_INPUTS) $(OVS_STAMP)
	@mkdir -p $(dir $@)
	python3 $(RDB_GEN) ovsschema $(RDB_INPUTS) > $@.tmp
	python3 $(RDB_GEN) check $(RDB_INPUTS) $@.tmp
	$(OVS_SRC)/ovsdb/ovsdb-tool schema-version $@.tmp >/dev/null
	mv $@.tmp $@

$(RDB_SPEC): $(RDB_GEN) $(RDB_INPUTS)
	@mkdir -p $(dir $@)
	python3 $(RDB_GEN) spec $(RDB_INPUTS) > $@.tmp && mv $@.tmp $@

$(RDB_DIR)/region-idl.ovsidl: $(RDB_SCHEMA) regiondb/region-idl.ann
	$(OVSDB_IDLC_RUN) annotate $(RDB_SCHEMA) regiondb/region-idl.ann \
		> $@.tmp && mv $@.tmp $@
$(RDB_IDL_C): $(RDB_DIR)/region-idl.ovsidl
	$(OVSDB_IDLC_RUN) c-idl-source $< > $@.tmp && mv $@.tmp $@
$(RDB_IDL_H): $(RDB_DIR)/region-idl.ovsidl
	$(OVSDB_IDLC_RUN) c-idl-header $< > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/regiondb/region-idl.o: $(RDB_IDL_C) $(RDB_IDL_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(BUILD) -c $< -o $@
RDB_IDL_USERS := $(BUILD)/obj/regiondb/regiondb.o \
                 $(BUILD)/obj/regiondb/write.o $(BUILD)/obj/regiondb/access.o \
                 $(BUILD)/obj/regiondb/scope.o
$(RDB_IDL_USERS): ALL_CFLAGS += -I$(BUILD)
$(RDB_IDL_USERS): $(RDB_IDL_H) $(RDB_SPEC)

# vpcctl links the region database client.
$(VPCCTL): $(RDB_OBJS)
all: $(RDB_SCHEMA)

# The agreement test: the generated schema agrees with the JSON Schema, and
# the check notices a missing column and a wrong type.
.PHONY: check-regiondb
check-regiondb: $(RDB_SCHEMA)
	@bash tests/check-regiondb-schema.sh $(RDB_SCHEMA)
check: check-regiondb
