/* pipeline/pipeline.h: the host pipeline, declared once, and the flow set a
 * host compiles to.
 *
 * Purpose.  pl_compile_host() turns a validated region (translator/model.h)
 * into the OpenFlow flows of one host's integration bridge, as ovs-ofctl
 * flow text.  Every flow carries a cookie derived from the intent object
 * that made it, and the flow set keeps the reverse map (cookie -> intent
 * reference), which 'vpcctl trace' uses to explain what the switch did.
 *
 * Ownership.  A 'struct pl_flows' owns its flows and their strings; free it
 * with pl_flows_destroy().  It keeps pointers into nothing else.
 *
 * Threading.  None. */

#ifndef PL_PIPELINE_H
#define PL_PIPELINE_H 1

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "openvswitch/hmap.h"
#include "packets.h"
#include "translator/model.h"

enum pl_stage {
#define PL_STAGE(NAME, BRIDGE, TABLE, LABEL, NEXT, JUMPS, DOC) PL_##NAME,
#include "pipeline/stages.def"
#undef PL_STAGE
    PL_N_STAGES,
    PL_NONE = PL_N_STAGES       /* No next stage (stages.def's NONE). */
};

/* Which bridge builds a stage (flags: BOTH is HOST | EDGE). */
enum pl_bridge {
    PL_BR_HOST = 1 << 0,        /* A host's integration bridge. */
    PL_BR_EDGE = 1 << 1,        /* An edge's bridge. */
    PL_BR_BOTH = PL_BR_HOST | PL_BR_EDGE,
};

/* The stage's OpenFlow table, label and one-line documentation. */
int pl_stage_table(enum pl_stage);
const char *pl_stage_label(enum pl_stage);
const char *pl_stage_doc(enum pl_stage);
/* The stage that owns OpenFlow table 'table', or -1. */
int pl_stage_by_table(int table);
/* Whether 'bridge' builds stage 's'. */
bool pl_stage_on(enum pl_stage s, enum pl_bridge bridge);

/* Successors, as declared in stages.def.  pl_stage_next() is the stage 's'
 * goes on to by default, or PL_NONE.  pl_stage_may_goto() says whether
 * 'to' is that stage or one of the declared jumps of 'from'.
 *
 * Builders name successors, never table numbers: pl_next(S) is the table
 * of S's next stage, pl_goto_table(S, T) the table of T, and both assert
 * that the step is declared.  pl_flow_add() also checks every goto_table
 * and ct(table=) of a flow against the declaration. */
enum pl_stage pl_stage_next(enum pl_stage s);
bool pl_stage_may_goto(enum pl_stage from, enum pl_stage to);
int pl_next(enum pl_stage from);
int pl_goto_table(enum pl_stage from, enum pl_stage to);

/* Named priority bands, highest first. */
enum {
    PL_PRIO_BYPASS = 60000,     /* Short-cuts: intra-subnet, ct verdicts. */
    PL_PRIO_NACL_BASE = 40000,  /* Minus the NACL rule number. */
    PL_PRIO_ROUTE_BASE = 1000,  /* Plus 10 * prefix length + rank. */
    PL_PRIO_ENTRY = 100,        /* Per-object entries (ports, ENIs). */
    PL_PRIO_DEFAULT = 10,       /* Per-object defaults (implicit deny). */
    PL_PRIO_MISS = 0,           /* Table miss. */
};

/* The priority of a route of 'vpc' to a prefix of length 'plen' in stage
 * route: longest prefix first, then the origin's rank in the VPC's
 * precedence mode.  aws: system (local) > static > propagated, and a
 * static route can never equal a local one (validated).  azure: user
 * (static) > propagated (BGP) > system.  A destination inside the source
 * subnet is not routed at all (PL_PRIO_BYPASS).  vpcctl routes orders a
 * subnet's effective routes by it. */
int pl_route_priority(const struct vpc_vpc *, int plen,
                      enum vpc_route_origin);

/* How destinations are found.
 *
 * FLOWS: stock OpenFlow.  The mapping stage has one flow per ENI of every
 * VPC in scope, and rx_verify one per remote ENI: O(remote ENIs) flows.
 *
 * ACTION: the ovs-ext mapping cache.  The mapping stage has one flow per VPC
 * in scope, whose vpc_encap action looks the destination up per packet and
 * encapsulates toward its host (or loops it back, for a local ENI), and
 * rx_verify one vpc_verify flow per VPC: O(VPCs) flows, and the datapath
 * flow does not match the inner destination.  The cache entries come from
 * pl_mapping_entries().  Needs the patched ovs-vswitchd (ovs-ext/). */
enum pl_mapping_mode {
    PL_MAP_FLOWS,
    PL_MAP_ACTION,
};

struct pl_flow {
    struct hmap_node node;      /* In pl_flows, by (table, priority, match). */
    uint8_t table;
    uint16_t priority;
    uint64_t cookie;
    char *match;                /* ovs-ofctl syntax; "" matches all. */
    char *actions;              /* ovs-ofctl syntax. */
    const char *ref;            /* Intent reference, owned by pl_flows. */
};

struct pl_flows {
    struct hmap flows;
    struct hmap refs;           /* cookie -> intent reference. */
    char *error;                /* First conflict found, or NULL. */
};

void pl_flows_init(struct pl_flows *);
void pl_flows_destroy(struct pl_flows *);

/* Adds a flow to 'stage'.  Takes ownership of 'match' and 'actions', which
 * are usually xasprintf() results.  'ref' names the intent object and part
 * that made the flow (e.g. "sg-web ingress[0]"); the cookie is derived from
 * it.  Adding the same (table, priority, match) twice with the same actions
 * is harmless; with different actions it records an error. */
void pl_flow_add(struct pl_flows *, enum pl_stage, int priority,
                 const char *ref, char *match, char *actions);

/* pl_flow_add() with a constant 'match' (copied) and actions formatted from
 * 'actions_fmt' and its arguments, e.g.
 *     pl_flow_addf(fs, PL_VROUTER, PL_PRIO_MISS, "pipeline", "ip",
 *                  "goto_table:%d", pl_next(PL_VROUTER)); */
void pl_flow_addf(struct pl_flows *, enum pl_stage, int priority,
                  const char *ref, const char *match,
                  const char *actions_fmt, ...)
    OVS_PRINTF_FORMAT(6, 7);

/* Adds the table-miss flow of 'stage' that drops (priority MISS, any
 * packet), as "pipeline". */
void pl_flow_add_miss_drop(struct pl_flows *, enum pl_stage);

/* Actions that turn an ARP request into the reply from 'mac' for the
 * address asked about, then 'out' (e.g. "IN_PORT": back out of its port).
 * The caller frees the string. */
char *pl_arp_reply_actions(struct eth_addr mac, const char *out);

/* The flow of 'fs' in OpenFlow table 'table' with 'priority' and 'match',
 * or NULL. */
const struct pl_flow *pl_flows_find(const struct pl_flows *fs, int table,
                                    int priority, const char *match);

/* The intent reference of a cookie, or NULL. */
const char *pl_flows_ref(const struct pl_flows *, uint64_t cookie);

/* Returns the flows sorted by table, descending priority, then match.  The
 * caller frees the array (not the flows). */
const struct pl_flow **pl_flows_sorted(const struct pl_flows *, size_t *n);

/* Formats 'flow' in ovs-ofctl add-flows syntax. */
char *pl_flow_to_string(const struct pl_flow *);

/* Where an ENI of this host is plugged: its ofport on the bridge. */
struct pl_binding {
    const char *eni_id;
    int ofport;
};

struct pl_host_config {
    const char *host_id;
    const struct pl_binding *bindings;  /* ENIs without one are unplugged:
                                         * they get no flows. */
    size_t n_bindings;
    int tunnel_ofport;                  /* The bridge's Geneve port. */
    enum pl_mapping_mode mapping;

    /* The metadata service port (Interface external_ids:vpc-service=
     * metadata), 0 if none, and its MAC (docs/vpcd.md, "Instance
     * metadata").  Hosts only. */
    int metadata_ofport;
    struct eth_addr metadata_mac;

    /* Edges only (Interface external_ids:vpc-edge-port=uplink|dx|vpn). */
    int uplink_ofport;                  /* Toward the internet. */
    int dx_ofport;                      /* Direct Connect trunk. */
    int vpn_ofport;                     /* To the IPsec endpoint (VPN). */
};

/* Instance metadata (docs/vpcd.md, "Instance metadata").  A VM asks
 * PL_MD_ADDR:PL_MD_PORT; the metadata stage sends the request to the
 * metadata service port with the source replaced by the ENI's service
 * address, PL_MD_SVC_BASE + its ofport (ofports 1 to PL_MD_MAX_OFPORT),
 * which is how the service knows which ENI asked; svc_return undoes it on
 * the reply.  The service port's kernel side holds PL_MD_ADDR and routes
 * PL_MD_SVC_BASE/17 to it; svc_return answers its ARP requests for service
 * addresses with PL_MD_SVC_MAC.  Addresses in host byte order. */
#define PL_MD_ADDR 0xa9fea9feu          /* 169.254.169.254 */
#define PL_MD_PORT 80
#define PL_MD_SVC_BASE 0xa9fe8000u      /* 169.254.128.0 */
#define PL_MD_SVC_PLEN 17
#define PL_MD_MAX_OFPORT 32767
#define PL_MD_SVC_MAC ETH_ADDR_C(02,76,70,ff,ff,fe)

/* The service address of the ENI on 'ofport', or 0 if that ofport has
 * none; and the ofport of service address 'ip', or 0. */
uint32_t pl_md_service_addr(int ofport);
int pl_md_service_ofport(uint32_t ip);

/* Compiles the flows of host 'cfg->host_id' into 'flows' (initialized by
 * the caller).  Returns NULL on success, otherwise a malloc'd message (an
 * unknown host, a conflict). */
char *pl_compile_host(const struct vpc_region *,
                      const struct pl_host_config *cfg,
                      struct pl_flows *flows)
    OVS_WARN_UNUSED_RESULT;

/* Recompiles only the stages that 'stages' marks, for a change known to
 * touch nothing else (daemon/follow.c: a security-group or route change):
 * 'flows' gets every flow of 'old' (host 'cfg->host_id''s flows, compiled
 * from the region before the change) outside those stages, and the
 * stages' flows compiled from 'r'.  The result equals pl_compile_host()'s
 * as long as the change touched only those stages (vpcd
 * --verify-incremental checks it).  An edge has no partial compile:
 * returns an error then, as for any other failure. */
char *pl_compile_host_stages(const struct vpc_region *r,
                             const struct pl_host_config *cfg,
                             const bool stages[PL_N_STAGES],
                             const struct pl_flows *old,
                             struct pl_flows *flows)
    OVS_WARN_UNUSED_RESULT;

/* Adds to 'to' a copy of every flow of 'from' outside the stages that
 * 'stages' marks. */
void pl_flows_copy_except(const struct pl_flows *from,
                          const bool stages[PL_N_STAGES],
                          struct pl_flows *to);

/* Whether 'a' and 'b' hold the same flows (table, priority, match,
 * actions and cookie). */
bool pl_flows_equal(const struct pl_flows *a, const struct pl_flows *b);
/* One difference between 'a' and 'b', described, or NULL if equal. */
char *pl_flows_difference(const struct pl_flows *a, const struct pl_flows *b);

/* An entry of the mapping cache: (VNI, IP) -> host, and the ENI's MAC. */
struct pl_mapping_entry {
    uint32_t vni;
    uint32_t ip;                /* Host byte order, like the model. */
    uint32_t underlay;
    struct eth_addr mac;
};

/* The cache entries host 'cfg->host_id' needs in ACTION mode: every ENI of
 * every VPC with a presence on the host, under its VPC's VNI, and, under the
 * VNI of each such VPC, the ENIs of the VPCs peered with it (so that
 * vpc_verify accepts their traffic).  Nothing else: a host has no way to
 * reach a VPC it has no business with.  Returns NULL or an error. */
char *pl_mapping_entries(const struct vpc_region *,
                         const struct pl_host_config *cfg,
                         struct pl_mapping_entry **entries, size_t *n)
    OVS_WARN_UNUSED_RESULT;

/* Numbering: the numbers the pipeline gives intent objects, all derived
 * from the model so that the translator only validates.
 *
 * pl_router_mac(): the VPC's virtual router MAC, 02:76:70 and its VNI.
 * pl_id_hash(): a 32-bit, nonzero, stable number for an object id, used in
 * registers and cookies so that editing one object renumbers no other.
 * pl_gateway_vni(): the reserved VNI that names a gateway on the wire
 * (hosts to the edge): PL_GW_VNI_BASE plus its position among the region's
 * gateways, stable as long as gateways are appended; above every VPC VNI
 * (VPC_VNI_MAX).  A scoped document (vpcd --region-db) holds only part of
 * the region: there the gateway's 'vni' carries the region-wide number.
 * pl_gateway_zone(): the conntrack zone of a gateway on its edge (NAT
 * gateways and internet gateways' elastic IPs): its number among the
 * region's gateways (its VNI less PL_GW_VNI_BASE) plus one. */
#define PL_GW_VNI_BASE 0xf00000
struct eth_addr pl_router_mac(const struct vpc_vpc *);
uint32_t pl_id_hash(const char *id);
uint32_t pl_gateway_vni(const struct vpc_region *, const struct vpc_gateway *);
size_t pl_gateway_zone(const struct vpc_region *, const struct vpc_gateway *);

/* Host services (stage services, daemon/pinctrl.c).  The VPC resolver
 * answers at PL_DNS_ANYCAST besides every subnet's +2 address and the
 * VPC's base +2 (AWS's "Route 53 Resolver" addresses).  PL_VM_MTU is the
 * MTU DHCP gives VMs: Geneve over a 1500-byte underlay costs 50 bytes
 * (outer Ethernet 14, IPv4 20, UDP 8, Geneve 8), the lab's VMs' 1450. */
#define PL_DNS_ANYCAST 0xa9fea9fd       /* 169.254.169.253 */
#define PL_VM_MTU 1450
/* The resolver address of a subnet (network + 2) and of a VPC (its first
 * block's network + 2). */
uint32_t pl_subnet_resolver_ip(const struct vpc_subnet *);
uint32_t pl_vpc_resolver_ip(const struct vpc_vpc *);

/* Flow logs (docs/flow-logs.md).  The verdict flows of the security-group
 * and network-ACL stages of an ENI that a flow log covers also sample the
 * packet, with OpenFlow's sample action, to the switch's IPFIX collector
 * set PL_FL_COLLECTOR_SET (vpcd configures it, daemon/flowlog.c) in
 * observation domain PL_FL_DOMAIN.  The observation point says what was
 * decided about which ENI:
 *
 *   bit 31      PL_FL_POINT_REJECT: dropped (else accepted);
 *   bit 30      PL_FL_POINT_SUBNET: by the network ACL of the subnet whose
 *               pl_id_hash() & PL_FL_POINT_MASK the low bits hold (the ENI
 *               is the subnet's that sent or was to receive the packet);
 *               else by the security groups of the ENI on the ofport that
 *               the low bits hold.
 *
 * Without any flow log the flows are exactly those of a pipeline without
 * flow logs. */
#define PL_FL_COLLECTOR_SET 30320       /* 0x7670, "vp". */
#define PL_FL_DOMAIN 30320
#define PL_FL_POINT_REJECT 0x80000000u
#define PL_FL_POINT_SUBNET 0x40000000u
#define PL_FL_POINT_MASK 0x3fffffffu

/* The sample action for observation point 'point' (malloc'd). */
char *pl_flow_log_sample(uint32_t point);

/* Writes the pipeline documentation (Markdown) generated from stages.def. */
void pl_write_doc(FILE *);

#endif /* pipeline/pipeline.h */
