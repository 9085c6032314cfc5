/* pipeline/trace.h: what a packet trace means, in the pipeline's terms.
 *
 * Purpose.  'vpcctl trace' runs the switch's own ofproto/trace; this module
 * does everything around it that needs pipeline knowledge: it turns an
 * operator's "from ENI to IP tcp dport N" into a microflow, labels each
 * table of ofproto/trace's output with its stage and the intent that made
 * the flow (through the flow set's cookies), and decides the verdict,
 * including what ovs-ext's vpc_encap does per packet (the mapping cache's
 * answer, computed from the same entries vpcd loads, and the loop-back of a
 * packet for a local ENI, which is traced again as tunnel traffic).  The
 * caller runs ofproto/trace and prints.
 *
 * Ownership.  Results own their strings; free them with the destroy
 * functions.  Pointers to stage labels and intent references point into
 * static data and into the 'pl_flows' given, which must outlive them.
 *
 * Threading.  None. */

#ifndef PL_TRACE_H
#define PL_TRACE_H 1

#include <stdbool.h>
#include <stdint.h>
#include "pipeline/pipeline.h"

struct ds;

/* Turns "from eni-x [src IP] to 10.0.2.7 [tcp|udp [dport N] [sport N] |
 * icmp [type N] | proto N] [ttl N]", "from eni-x arp 10.0.1.1" or "from
 * tunnel UNDERLAY-IP vni N src IP to IP ..." (a packet as it arrives from
 * the host with that underlay address) or, on an edge, "from uplink src IP
 * to IP ..." (from the internet) or "from vpn src IP to IP ..." (from the
 * IPsec tunnel) or "from dx VIF-ID src IP to IP ..." or "from dx s_tag N
 * c_tag N src IP to IP ..." (from Direct Connect, double-tagged: see
 * pl_trace_split_vlans()) into a microflow for ofproto/trace on
 * host 'cfg'.  Returns the microflow, or NULL with a malloc'd message
 * in '*error'. */
char *pl_trace_microflow(const struct vpc_region *,
                         const struct pl_host_config *cfg, const char *spec,
                         char **error);

/* A microflow of "from dx ..." carries the frame's two VLAN tags as
 * "dl_vlan=S,dl_vlan1=C" (the names ofproto/trace prints them with), which
 * no OpenFlow flow parser takes: if 'flow' has them, returns true with the
 * flow without them in '*plain' (malloc'd) and the S-tag (802.1ad, outer)
 * and C-tag (802.1Q, inner) in '*s_tag' and '*c_tag'; the caller traces a
 * packet with both tags. */
bool pl_trace_split_vlans(const char *flow, char **plain, int *s_tag,
                          int *c_tag);

/* The argument of ofproto/trace's --ct-next for conntrack state 'state'
 * ("est,rpl"; NULL: "new"), in '*args' ("trk,est,rpl").  Returns NULL, or
 * a malloc'd message naming the word that is not a state. */
char *pl_trace_ct_args(const char *state, char **args);

/* The host or edge with underlay address 'ip', or NULL. */
const struct vpc_host *pl_trace_host_by_underlay(const struct vpc_region *,
                                                 uint32_t ip);

/* One table ofproto/trace went through. */
struct pl_trace_step {
    int table;
    const char *stage;          /* Its stage label ("?" if none). */
    const char *ref;            /* The intent of the flow, or NULL. */
    bool no_match;              /* No flow matched: dropped there. */
};

/* What one ofproto/trace run ended with. */
struct pl_trace_result {
    struct pl_trace_step *steps;        /* Every table, in order. */
    size_t n_steps;
    const char *last_stage;     /* Label of the last stage a flow matched. */
    const char *last_ref;       /* Intent of that flow, or NULL. */
    bool dropped;               /* The last flow dropped, or no match. */
    char *dp_actions;           /* "Datapath actions: ..." line. */
    char *tun_id, *tun_dst;     /* Last set_field to those, if any. */
    char *final_flow;           /* The last "Final flow:", or NULL. */
    int out_port;               /* The last "output:N" action, or -1. */
    bool vpc_verify;            /* Some pass's datapath actions have
                                 * vpc_verify. */
    bool un_nat;                /* Some pass's have a ct(...,nat) with no
                                 * address: conntrack reverses a
                                 * translation (ofproto/trace does not). */
    bool tunnel_failed;         /* "native tunnel routing failed": no
                                 * underlay route or neighbor. */
};

/* Appends ofproto/trace output 'out' to 'ds' with each table line labelled
 * by its stage and the intent that made the flow ('flows' is the flow set
 * the switch runs), and fills 'tr'. */
void pl_trace_annotate(const char *out, const struct pl_flows *flows,
                       struct ds *ds, struct pl_trace_result *tr);
void pl_trace_result_destroy(struct pl_trace_result *);

enum pl_verdict_kind {
    PL_VERDICT_UNKNOWN,         /* No datapath actions. */
    PL_VERDICT_DROPPED,
    PL_VERDICT_FORWARDED,       /* Out of a local port. */
    PL_VERDICT_ENCAPSULATED,    /* Geneve to another host or edge. */
    PL_VERDICT_LOOPBACK,        /* vpc_encap to a local ENI: trace
                                 * 'loopback_flow' next. */
    PL_VERDICT_TO_VPCD,         /* A packet-in to vpcd, which answers it
                                 * (stage services: DHCP, DNS); 'note'
                                 * names the service. */
};

struct pl_trace_verdict {
    enum pl_verdict_kind kind;
    const char *stage;          /* Where it was decided. */
    const char *ref;            /* By which intent, or NULL. */
    char *dst;                  /* ENCAPSULATED: the underlay address. */
    uint32_t vni;               /* ENCAPSULATED: the VNI. */
    char *note;                 /* A line to print before the verdict, or
                                 * NULL (e.g. a mapping-cache miss). */
    char *loopback_flow;        /* LOOPBACK: the microflow to trace. */
    const struct vpc_eni *eni;  /* ENCAPSULATED by vpc_encap: the ENI the
                                 * mapping cache resolved. */
};

/* The verdict of trace 'tr' of microflow 'flow' on host 'cfg' of region
 * 'r'.  After a LOOPBACK, call it again on the second trace with
 * 'after_loopback' true: that one ends in FORWARDED or DROPPED. */
void pl_trace_verdict(const struct vpc_region *r,
                      const struct pl_host_config *cfg, const char *flow,
                      const struct pl_trace_result *tr, bool after_loopback,
                      struct pl_trace_verdict *v);
void pl_trace_verdict_destroy(struct pl_trace_verdict *);

/* After trace 'tr' of microflow 'flow' ended ENCAPSULATED ('v'): the
 * microflow of the packet as it arrives at the receiver, from the tunnel
 * (ofport 'tunnel_ofport', outer addresses 'tun_src' -> 'tun_dst', v's
 * VNI), the inner packet as the sender's flows (and vpc_encap) rewrote
 * it. */
char *pl_trace_arrival(const char *flow, const struct pl_trace_result *tr,
                       const struct pl_trace_verdict *v, uint32_t tun_src,
                       uint32_t tun_dst, int tunnel_ofport);

/* The name of a verdict kind: "DROPPED", "FORWARDED", ... */
const char *pl_verdict_kind_name(enum pl_verdict_kind);

#endif /* pipeline/trace.h */
