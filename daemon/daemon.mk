# daemon/: vpcd, the host agent (libevent event loop and HTTP API).
DAEMON_SRCS := daemon/state.c daemon/agent.c
VPCD := $(BUILD)/vpcd

$(VPCD): $(patsubst %.c,$(BUILD)/obj/%.o,daemon/vpcd.c $(DAEMON_SRCS) \
		cli/ovs-client.c $(LIB_SRCS)) $(OVS_LIB)
	$(CC) -o $@ $(filter %.o,$^) $(OVS_LIBS) -levent

all: $(VPCD)
