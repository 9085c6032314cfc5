/* cli/trace.h: 'vpcctl trace', the reachability trace (prefix tr_).
 *
 *   vpcctl trace FILE --host H 'from eni-x to 10.0.2.7 tcp dport 443'
 *
 * Traces the packet with ofproto/trace on host H's switch and, when it
 * leaves in a Geneve tunnel to another host or edge of the region, again
 * on that host's switch, as it arrives from the tunnel, up to a final
 * verdict: delivered to an ENI, dropped (stage and rule), or out an edge
 * port.  Live, each host's switch is reached through its OVS run directory
 * (--rundir=HOST=DIR: its ovs-vswitchd.ctl, db.sock and BR.mgmt); with
 * --offline, vpcctl starts a throwaway ovs-vswitchd (dummy datapath) per
 * host in a temporary directory, loads the host's compiled flows (and
 * mapping cache) there and stops it afterwards.  Before labelling a live
 * hop, the switch's flows are compared with FILE's compile.  The pipeline
 * side (microflows, labels, verdicts) is pipeline/trace.h. */

#ifndef CLI_TRACE_H
#define CLI_TRACE_H 1

#include <stdbool.h>
#include <stddef.h>
#include "openvswitch/shash.h"
#include "pipeline/pipeline.h"

/* vpcctl's options that trace uses; vpcctl's main() fills it. */
struct tr_options {
    const char *host;
    const char *bridge;
    const char *db, *switch_target, *appctl;    /* --host's, live. */
    const struct pl_binding *bindings;
    size_t n_bindings;
    int tunnel_port, uplink_port, dx_port, vpn_port;
    enum pl_mapping_mode mapping;
    const char *format;                 /* "text" (NULL) or "json". */
    bool offline;
    const char *ct_state;               /* --ct-state, or NULL. */
    bool reply;                         /* --reply: trace the reply too. */
    struct shash rundirs;               /* --rundir: host -> dir. */
};
extern struct tr_options tr_options;

/* 'vpcctl trace FILE SPEC'; returns vpcctl's exit status. */
int tr_cmd_trace(int argc, char *argv[]);

#endif /* cli/trace.h */
