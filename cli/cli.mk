# cli/: vpcctl, the command-line tool.
CLI_SRCS := cli/vpcctl.c cli/views.c cli/trace.c $(SWITCH_SRCS) $(BACKEND_SRCS)
VPCCTL := $(BUILD)/vpcctl

$(VPCCTL): $(patsubst %.c,$(BUILD)/obj/%.o,$(CLI_SRCS) $(LIB_SRCS)) $(OVS_LIB)
	$(CC) -o $@ $(filter %.o,$^) $(OVS_LIBS)

all: $(VPCCTL)
