/* pipeline/edge.h: the edge bridge ("Blackfoot"), compiled from the same
 * intents and the same stage declaration as the hosts (pipeline/stages.def,
 * the edge_* stages).  Called by pl_compile_host() for an "edges" host. */

#ifndef PL_EDGE_H
#define PL_EDGE_H 1

#include "pipeline/pipeline.h"

char *pl_compile_edge(const struct vpc_region *, const struct vpc_host *edge,
                      const struct pl_host_config *, struct pl_flows *)
    OVS_WARN_UNUSED_RESULT;

#endif /* pipeline/edge.h */
