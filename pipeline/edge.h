/* pipeline/edge.h: the edge bridge ("Blackfoot"), compiled from the same
 * intents and the same stage declaration as the hosts (pipeline/stages.def,
 * the edge_* stages).  Called by pl_compile_host() for an "edges" host. */

#ifndef PL_EDGE_H
#define PL_EDGE_H 1

#include "pipeline/pipeline.h"

char *pl_compile_edge(const struct vpc_region *, const struct vpc_host *edge,
                      const struct pl_host_config *, struct pl_flows *)
    OVS_WARN_UNUSED_RESULT;

/* The stage where gateway 'gw''s inbound traffic is counted once: after
 * conntrack for a NAT gateway, after the S-tag for Direct Connect, edge_in
 * for the others. */
enum pl_stage pl_gateway_in_stage(const struct vpc_gateway *);

/* Which way a flow of gateway 'gw' counts its traffic in per-gateway
 * statistics: 0 out (edge_out), 1 in (pl_gateway_in_stage()), -1 not at
 * all (another stage, or an ARP responder: not traffic).  'table' and
 * 'ref' are the flow's table and intent reference. */
int pl_gateway_flow_direction(const struct vpc_gateway *gw, int table,
                              const char *ref);

/* The suffix of the intent reference of every ARP responder flow the edge
 * writes for a gateway ("igw-x arp"). */
#define PL_REF_ARP_SUFFIX " arp"

#endif /* pipeline/edge.h */
