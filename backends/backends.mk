# backends/: what else the validated model is turned into, beside the
# pipeline's flows: the region as an OVN Northbound transaction
# (ovn-export.c, 'vpcctl export-ovn', docs/ovn.md) and an edge's strongSwan
# configuration for its VPN gateways (vpn-config.c, 'vpcctl vpn-config').
# Each reads translator/model.h only.
BACKEND_SRCS := backends/ovn-export.c backends/vpn-config.c
