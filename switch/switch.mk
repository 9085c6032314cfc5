# switch/: the switch client, everything ovs-vpc says to the local Open
# vSwitch (its OVSDB, OpenFlow, unixctl), with a timeout on every exchange.
# vpcctl, vpcd, the unit tests and the fuzzers link it.
SWITCH_SRCS := switch/switch.c switch/bindings.c
