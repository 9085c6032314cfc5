/* pipeline/edge.c: builders of the edge bridge ("Blackfoot").
 *
 * An edge host (the region's "edges") terminates the gateways: hosts send
 * gateway-bound packets to it in Geneve with the gateway's reserved VNI
 * (pipeline/host.c, route stage), and it translates them for the outside
 * world and back.  Implemented here: internet gateways with elastic IPs
 * (1:1 NAT through conntrack, so that related ICMP errors get their
 * embedded header translated, with a stateless rewrite after it; proxy
 * ARP on the uplink), NAT gateways (conntrack source NAT), Direct Connect
 * private virtual interfaces (802.1ad Q-in-Q, ARP for the gateway address
 * on the trunk), VPN gateways (plain IP to and from the edge's IPsec
 * endpoint through the VPN port, pipeline/vpn.h) and gateway endpoints
 * (S3, DynamoDB: Geneve to the service, the source unchanged). */

#include <config.h>
#include "pipeline/edge.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/util.h"
#include "packets.h"
#include "pipeline/regs.h"
#include "pipeline/vpn.h"
#include "util.h"

/* Successors are named, never numbered (pipeline/stages.def): NEXT(S) is
 * the table of stage S's next stage, GOTO(S, T) that of T, a declared jump
 * of S. */
#define NEXT(FROM) pl_next(PL_##FROM)
#define GOTO(FROM, TO) pl_goto_table(PL_##FROM, PL_##TO)

struct edge_ctx {
    const struct vpc_region *r;
    const struct pl_host_config *cfg;
    const struct vpc_host *edge;
    struct pl_flows *fs;
    bool *vpc_served;           /* By VPC index: has a gateway here. */
};

static bool
served(const struct edge_ctx *c, const struct vpc_vpc *vpc)
{
    return c->vpc_served[vpc - c->r->vpcs];
}

static size_t
gw_zone(const struct edge_ctx *c, const struct vpc_gateway *gw)
{
    return pl_gateway_zone(c->r, gw);
}

enum pl_stage
pl_gateway_in_stage(const struct vpc_gateway *gw)
{
    switch (gw->kind) {
    case VPC_TGT_NAT:
        return PL_EDGE_NAT_IN;
    case VPC_TGT_DX:
        return PL_EDGE_DX_IN;
    case VPC_TGT_IGW: case VPC_TGT_VGW: case VPC_TGT_VPCE:
        return PL_EDGE_IN;
    VPC_TGT_NON_GATEWAY_CASES
        break;
    }
    OVS_NOT_REACHED();
}

int
pl_gateway_flow_direction(const struct vpc_gateway *gw, int table,
                          const char *ref)
{
    size_t n = strlen(ref), sn = strlen(PL_REF_ARP_SUFFIX);
    if (n > sn && !strcmp(ref + n - sn, PL_REF_ARP_SUFFIX)) {
        return -1;
    }
    int s = pl_stage_by_table(table);
    return (s == PL_EDGE_OUT ? 0
            : s == (int) pl_gateway_in_stage(gw) ? 1
            : -1);
}

/* Does 'subnet' route anything to gateway 'gw'?  (AWS: only subnets with a
 * route to the internet gateway are reachable from the internet.) */
static bool
subnet_routes_to(const struct vpc_subnet *subnet,
                 const struct vpc_gateway *gw)
{
    const struct vpc_route_table *rtb = subnet->route_table;
    for (size_t i = 0; rtb && i < rtb->n_routes; i++) {
        if (rtb->routes[i].gateway == gw) {
            return true;
        }
    }
    return false;
}

/* The internet gateway of 'vpc' on this edge, or NULL. */
static const struct vpc_gateway *
vpc_igw(const struct edge_ctx *c, const struct vpc_vpc *vpc)
{
    for (size_t i = 0; i < c->r->n_gateways; i++) {
        const struct vpc_gateway *gw = &c->r->gateways[i];
        if (gw->kind == VPC_TGT_IGW && gw->vpc == vpc
            && gw->edge == c->edge) {
            return gw;
        }
    }
    return NULL;
}

/* The underlay address of the service behind gateway endpoint 'gw'. */
static uint32_t
vpce_service_ip(const struct edge_ctx *c, const struct vpc_gateway *gw)
{
    return (gw->service && !strcmp(gw->service, "s3") ? c->edge->s3_ip
            : c->edge->dynamodb_ip);
}

/* Table edge_out, gateway endpoint 'gw', priority ENTRY: a source allowed
 * by the endpoint's policy (its allowed subnets; none listed: the whole
 * VPC), to a prefix of the service's prefix list: Geneve to the service
 * with the endpoint's VNI (which names the endpoint, and so the VPC), the
 * source unchanged. */
static void
build_edge_out_vpce(struct edge_ctx *c, const struct vpc_gateway *gw)
{
    uint32_t svc = vpce_service_ip(c, gw);
    const struct vpc_prefix_list *pl = gw->prefix_list;
    char *sip = vpc_ip_to_string(svc);
    for (size_t d = 0; pl && d < pl->n_cidrs; d++) {
        char dst[24];
        vpc_prefix_format(&pl->cidrs[d], dst);
        size_t n_src = gw->n_allowed_subnets ? gw->n_allowed_subnets
                                             : gw->vpc->n_blocks;
        for (size_t k = 0; k < n_src; k++) {
            char src[24];
            vpc_prefix_format(gw->n_allowed_subnets
                              ? &gw->allowed_subnets[k]->cidr
                              : &gw->vpc->blocks[k], src);
            pl_flow_add(c->fs, PL_EDGE_OUT, PL_PRIO_ENTRY, gw->id,
                        xasprintf(REG_GATEWAY"=%"PRIu32",ip,nw_src=%s,"
                                  "nw_dst=%s", pl_gateway_vni(c->r, gw), src, dst),
                        /* In from the tunnel, out to the tunnel: OpenFlow
                         * never outputs to the input port, so clear it. */
                        xasprintf("dec_ttl,set_field:%"PRIu32"->tun_id,"
                                  "set_field:%s->tun_dst,"
                                  "set_field:0->in_port,output:%d",
                                  pl_gateway_vni(c->r, gw), sip, c->cfg->tunnel_ofport));
        }
    }
    free(sip);
}

/* Table classify (edge), priority ENTRY: the tunnel, by gateway VNI: load
 * the gateway and its VPC, to edge_verify; the uplink, the Direct Connect
 * port and the VPN port, to edge_in.  MISS: drop. */
static void
build_edge_classify(struct edge_ctx *c)
{
    for (size_t i = 0; i < c->r->n_gateways; i++) {
        const struct vpc_gateway *gw = &c->r->gateways[i];
        if (gw->edge != c->edge) {
            continue;
        }
        pl_flow_add(c->fs, PL_CLASSIFY, PL_PRIO_ENTRY, gw->id,
                    xasprintf("in_port=%d,tun_id=%"PRIu32,
                              c->cfg->tunnel_ofport, pl_gateway_vni(c->r, gw)),
                    xasprintf("set_field:%"PRIu32"->"REG_GATEWAY","
                              "set_field:%"PRIu32"->"REG_VNI","
                              "goto_table:%d", pl_gateway_vni(c->r, gw), gw->vpc->vni,
                              GOTO(CLASSIFY, EDGE_VERIFY)));
    }
    /* Replies of a gateway endpoint's service come back with the
     * endpoint's VNI from the service's address: edge_in. */
    for (size_t i = 0; i < c->r->n_gateways; i++) {
        const struct vpc_gateway *gw = &c->r->gateways[i];
        if (gw->edge == c->edge && gw->kind == VPC_TGT_VPCE) {
            char *sip = vpc_ip_to_string(vpce_service_ip(c, gw));
            pl_flow_add(c->fs, PL_CLASSIFY, PL_PRIO_ENTRY + 1, gw->id,
                        xasprintf("in_port=%d,tun_id=%"PRIu32",tun_src=%s",
                                  c->cfg->tunnel_ofport, pl_gateway_vni(c->r, gw), sip),
                        xasprintf("set_field:%"PRIu32"->"REG_GATEWAY","
                                  "set_field:%"PRIu32"->"REG_VNI","
                                  "goto_table:%d", pl_gateway_vni(c->r, gw), gw->vpc->vni,
                                  GOTO(CLASSIFY, EDGE_IN)));
            free(sip);
        }
    }
    /* The edge's other ports all lead to edge_in. */
    const struct { const char *name; int ofport; } ports[] = {
        { "uplink", c->cfg->uplink_ofport },
        { "direct-connect", c->cfg->dx_ofport },
        { "vpn", c->cfg->vpn_ofport },
    };
    for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
        if (ports[i].ofport > 0) {
            pl_flow_add(c->fs, PL_CLASSIFY, PL_PRIO_ENTRY, ports[i].name,
                        xasprintf("in_port=%d", ports[i].ofport),
                        xasprintf("goto_table:%d", GOTO(CLASSIFY, EDGE_IN)));
        }
    }
    pl_flow_add_miss_drop(c->fs, PL_CLASSIFY);
}

/* Table edge_verify, priority ENTRY: (VPC, sending host, inner source) of
 * every ENI of a VPC served here; DEFAULT: any source from a host that
 * holds an ENI with source/dest check off.  MISS: drop. */
static void
build_edge_verify(struct edge_ctx *c)
{
    for (size_t i = 0; i < c->r->n_enis; i++) {
        const struct vpc_eni *e = &c->r->enis[i];
        const struct vpc_vpc *vpc = e->subnet->vpc;
        if (!served(c, vpc)) {
            continue;
        }
        char *hip = vpc_ip_to_string(e->host->underlay_ip);
        char *ip = vpc_ip_to_string(e->ip);
        pl_flow_add(c->fs, PL_EDGE_VERIFY, PL_PRIO_ENTRY, e->id,
                    xasprintf(REG_VNI"=%"PRIu32",tun_src=%s,ip,nw_src=%s",
                              vpc->vni, hip, ip),
                    xasprintf("goto_table:%d", NEXT(EDGE_VERIFY)));
        if (!e->source_dest_check) {
            pl_flow_add(c->fs, PL_EDGE_VERIFY, PL_PRIO_DEFAULT, e->id,
                        xasprintf(REG_VNI"=%"PRIu32",tun_src=%s,ip",
                                  vpc->vni, hip),
                        xasprintf("goto_table:%d", NEXT(EDGE_VERIFY)));
        }
        free(ip);
        free(hip);
    }
    pl_flow_add_miss_drop(c->fs, PL_EDGE_VERIFY);
}

static char *
to_uplink(const struct edge_ctx *c)
{
    return xasprintf("set_field:"ETH_ADDR_FMT"->eth_src,"
                     "set_field:"ETH_ADDR_FMT"->eth_dst,dec_ttl,output:%d",
                     ETH_ADDR_ARGS(c->edge->uplink_mac),
                     ETH_ADDR_ARGS(c->edge->uplink_gateway_mac),
                     c->cfg->uplink_ofport);
}

/* Table edge_out, VPN gateway 'gw': to an on-premises prefix, out the VPN
 * port to the edge's kernel, which routes it into the IPsec tunnel (the
 * IPsec policy covers VPC -> on-premises only, so anything else would leak
 * in clear: it misses here and is dropped). */
static void
build_edge_out_vgw(struct edge_ctx *c, const struct vpc_gateway *gw)
{
    if (c->cfg->vpn_ofport <= 0) {
        return;
    }
    for (size_t p = 0; p < gw->n_onprem; p++) {
        char buf[24];
        vpc_prefix_format(&gw->onprem[p], buf);
        pl_flow_add(c->fs, PL_EDGE_OUT, PL_PRIO_ENTRY, gw->id,
                    xasprintf(REG_GATEWAY"=%"PRIu32",ip,nw_dst=%s",
                              pl_gateway_vni(c->r, gw), buf),
                    xasprintf("set_field:"PL_VPN_BRIDGE_MAC"->eth_src,"
                              "set_field:"PL_VPN_PORT_MAC"->eth_dst,"
                              "dec_ttl,output:%d", c->cfg->vpn_ofport));
    }
}

/* Table edge_out:
 *   ENTRY  internet gateway: per ENI with an elastic IP, the private
 *          source becomes the elastic IP, out the uplink (an ENI without
 *          one has no internet access: miss, drop).  The translation goes
 *          through conntrack, in the gateway's zone, so that ICMP errors
 *          related to a connection get their embedded header translated
 *          too; the stateless set_field after it translates what
 *          conntrack does not (a packet it finds invalid);
 *          NAT gateway: source NAT to its elastic IP in the gateway's
 *          conntrack zone, out the uplink;
 *          Direct Connect: C-tag then S-tag, out the Direct Connect port;
 *          VPN gateway: per on-premises prefix, plain IP to the edge's
 *          kernel (and so to IPsec) out the VPN port.
 *   MISS   drop. */
static void
build_edge_out(struct edge_ctx *c)
{
    for (size_t i = 0; i < c->r->n_gateways; i++) {
        const struct vpc_gateway *gw = &c->r->gateways[i];
        if (gw->edge != c->edge) {
            continue;
        }
        switch (gw->kind) {
        case VPC_TGT_IGW:
            if (c->cfg->uplink_ofport <= 0) {
                break;
            }
            for (size_t k = 0; k < c->r->n_enis; k++) {
                const struct vpc_eni *e = &c->r->enis[k];
                if (e->subnet->vpc != gw->vpc || !e->has_elastic_ip) {
                    continue;
                }
                char *ip = vpc_ip_to_string(e->ip);
                char *eip = vpc_ip_to_string(e->elastic_ip);
                char *up = to_uplink(c);
                char *ref = xasprintf("%s %s", gw->id, e->id);
                pl_flow_add(c->fs, PL_EDGE_OUT, PL_PRIO_ENTRY, ref,
                            xasprintf(REG_GATEWAY"=%"PRIu32",ip,nw_src=%s",
                                      pl_gateway_vni(c->r, gw), ip),
                            xasprintf("ct(commit,zone=%"PRIuSIZE","
                                      "nat(src=%s)),set_field:%s->ip_src,%s",
                                      gw_zone(c, gw), eip, eip, up));
                free(ref);
                free(up);
                free(eip);
                free(ip);
            }
            break;
        case VPC_TGT_NAT: {
            if (c->cfg->uplink_ofport <= 0) {
                break;
            }
            char *eip = vpc_ip_to_string(gw->elastic_ip), *up = to_uplink(c);
            pl_flow_add(c->fs, PL_EDGE_OUT, PL_PRIO_ENTRY, gw->id,
                        xasprintf(REG_GATEWAY"=%"PRIu32",ip", pl_gateway_vni(c->r, gw)),
                        xasprintf("ct(commit,zone=%"PRIuSIZE","
                                  "nat(src=%s)),%s", gw_zone(c, gw), eip,
                                  up));
            free(up);
            free(eip);
            break;
        }
        case VPC_TGT_DX: {
            if (c->cfg->dx_ofport <= 0) {
                break;
            }
            /* From the edge's MAC to the customer router's, if known. */
            char *macs = (gw->has_peer_mac
                          ? xasprintf("set_field:"ETH_ADDR_FMT"->eth_src,"
                                      "set_field:"ETH_ADDR_FMT"->eth_dst,",
                                      ETH_ADDR_ARGS(c->edge->uplink_mac),
                                      ETH_ADDR_ARGS(gw->peer_mac))
                          : xstrdup(""));
            pl_flow_add(c->fs, PL_EDGE_OUT, PL_PRIO_ENTRY, gw->id,
                        xasprintf(REG_GATEWAY"=%"PRIu32",ip", pl_gateway_vni(c->r, gw)),
                        xasprintf("dec_ttl,%s"
                                  "push_vlan:0x8100,"
                                  "set_field:%d->vlan_vid,"
                                  "push_vlan:0x88a8,"
                                  "set_field:%d->vlan_vid,output:%d",
                                  macs, 0x1000 | gw->c_tag,
                                  0x1000 | gw->s_tag, c->cfg->dx_ofport));
            free(macs);
            break;
        }
        case VPC_TGT_VGW:
            build_edge_out_vgw(c, gw);
            break;
        case VPC_TGT_VPCE:
            build_edge_out_vpce(c, gw);
            break;
        case VPC_TGT_LOCAL: case VPC_TGT_BLACKHOLE: case VPC_TGT_ENI:
        case VPC_TGT_PEERING:
            break;
        }
    }
    pl_flow_add_miss_drop(c->fs, PL_EDGE_OUT);
}

/* ARP reply from the uplink MAC for 'ip'. */
static void
add_proxy_arp(struct edge_ctx *c, uint32_t ip, const char *gw_ref)
{
    char *ref = xasprintf("%s"PL_REF_ARP_SUFFIX, gw_ref);
    char *s = vpc_ip_to_string(ip);
    struct eth_addr mac = c->edge->uplink_mac;
    pl_flow_add(c->fs, PL_EDGE_IN, PL_PRIO_ENTRY, ref,
                xasprintf("in_port=%d,arp,arp_op=1,arp_tpa=%s",
                          c->cfg->uplink_ofport, s),
                pl_arp_reply_actions(mac, "IN_PORT"));
    free(s);
    free(ref);
}

/* Table edge_in, from the VPN port: what the edge's kernel routes back from
 * the IPsec tunnel.  The kernel ARPs for its next hop on the port: every
 * request is answered with PL_VPN_BRIDGE_MAC.  IP passes only from an
 * on-premises prefix of a VPN gateway to a CIDR block of its VPC (IPsec
 * already checked the traffic selectors; this keeps the edge's own stack
 * from injecting anything else into a VPC). */
static void
build_edge_in_vpn(struct edge_ctx *c)
{
    int vpn = c->cfg->vpn_ofport;
    bool any = false;
    for (size_t i = 0; vpn > 0 && i < c->r->n_gateways; i++) {
        const struct vpc_gateway *gw = &c->r->gateways[i];
        if (gw->edge != c->edge || gw->kind != VPC_TGT_VGW) {
            continue;
        }
        any = true;
        for (size_t p = 0; p < gw->n_onprem; p++) {
            char src[24];
            vpc_prefix_format(&gw->onprem[p], src);
            for (size_t b = 0; b < gw->vpc->n_blocks; b++) {
                char dst[24];
                vpc_prefix_format(&gw->vpc->blocks[b], dst);
                pl_flow_add(c->fs, PL_EDGE_IN, PL_PRIO_ENTRY, gw->id,
                            xasprintf("in_port=%d,ip,nw_src=%s,nw_dst=%s",
                                      vpn, src, dst),
                            xasprintf("set_field:%"PRIu32"->"REG_VNI","
                                      "dec_ttl,goto_table:%d", gw->vpc->vni,
                                      NEXT(EDGE_IN)));
            }
        }
    }
    if (any) {
        struct eth_addr mac;
        bool ok = eth_addr_from_string(PL_VPN_BRIDGE_MAC, &mac);
        ovs_assert(ok);
        pl_flow_add(c->fs, PL_EDGE_IN, PL_PRIO_ENTRY, "vpn",
                    xasprintf("in_port=%d,arp,arp_op=1", vpn),
                    pl_arp_reply_actions(mac, "IN_PORT"));
    }
}

/* Table edge_in, from the uplink:
 *   ENTRY  ARP for an elastic IP or a NAT gateway's address: proxy reply;
 *          to an elastic IP whose ENI's subnet routes to the VPC's internet
 *          gateway: the private IP replaces it (through conntrack in the
 *          gateway's zone, which also translates the embedded header of
 *          a related ICMP error, then stateless), to edge_mapping;
 *          to a NAT gateway's address: conntrack (un-NAT), edge_nat_in.
 *   From Direct Connect:
 *   ENTRY  the S-tag of a virtual interface: pop it, to edge_dx_in.
 *   From the VPN port (build_edge_in_vpn):
 *   ENTRY  any ARP request: answered with the bridge's MAC;
 *          per VPN gateway, on-premises prefix and VPC CIDR block: to
 *          edge_mapping in the gateway's VPC.
 *   MISS   drop. */
/* Table edge_in, gateway endpoint replies (classify loaded reg6 and reg1):
 * from a prefix of the service to the VPC's blocks, to edge_mapping. */
static void
build_edge_in_vpce(struct edge_ctx *c)
{
    for (size_t i = 0; i < c->r->n_gateways; i++) {
        const struct vpc_gateway *gw = &c->r->gateways[i];
        if (gw->edge != c->edge || gw->kind != VPC_TGT_VPCE
            || !gw->prefix_list) {
            continue;
        }
        for (size_t s = 0; s < gw->prefix_list->n_cidrs; s++) {
            for (size_t b = 0; b < gw->vpc->n_blocks; b++) {
                char src[24], dst[24];
                vpc_prefix_format(&gw->prefix_list->cidrs[s], src);
                vpc_prefix_format(&gw->vpc->blocks[b], dst);
                pl_flow_add(c->fs, PL_EDGE_IN, PL_PRIO_ENTRY, gw->id,
                            xasprintf("in_port=%d,"REG_GATEWAY"=%"PRIu32","
                                      "ip,nw_src=%s,nw_dst=%s",
                                      c->cfg->tunnel_ofport, pl_gateway_vni(c->r, gw), src,
                                      dst),
                            xasprintf("dec_ttl,goto_table:%d",
                                      NEXT(EDGE_IN)));
            }
        }
    }
}

static void
build_edge_in(struct edge_ctx *c)
{
    int up = c->cfg->uplink_ofport;
    for (size_t i = 0; up > 0 && i < c->r->n_enis; i++) {
        const struct vpc_eni *e = &c->r->enis[i];
        const struct vpc_gateway *igw = vpc_igw(c, e->subnet->vpc);
        if (!e->has_elastic_ip || !igw || !subnet_routes_to(e->subnet, igw)) {
            continue;
        }
        char *ref = xasprintf("%s %s", igw->id, e->id);
        char *eip = vpc_ip_to_string(e->elastic_ip);
        char *ip = vpc_ip_to_string(e->ip);
        add_proxy_arp(c, e->elastic_ip, ref);
        pl_flow_add(c->fs, PL_EDGE_IN, PL_PRIO_ENTRY, ref,
                    xasprintf("in_port=%d,ip,nw_dst=%s", up, eip),
                    xasprintf("ct(commit,zone=%"PRIuSIZE",nat(dst=%s)),"
                              "set_field:%s->ip_dst,set_field:%"PRIu32"->"
                              REG_VNI",dec_ttl,goto_table:%d",
                              gw_zone(c, igw), ip, ip, e->subnet->vpc->vni,
                              NEXT(EDGE_IN)));
        free(ip);
        free(eip);
        free(ref);
    }
    for (size_t i = 0; i < c->r->n_gateways; i++) {
        const struct vpc_gateway *gw = &c->r->gateways[i];
        if (gw->edge != c->edge) {
            continue;
        }
        if (gw->kind == VPC_TGT_NAT && up > 0) {
            char *eip = vpc_ip_to_string(gw->elastic_ip);
            add_proxy_arp(c, gw->elastic_ip, gw->id);
            pl_flow_add(c->fs, PL_EDGE_IN, PL_PRIO_ENTRY, gw->id,
                        xasprintf("in_port=%d,ip,nw_dst=%s", up, eip),
                        xasprintf("ct(zone=%"PRIuSIZE",nat,table=%d)",
                                  gw_zone(c, gw),
                                  GOTO(EDGE_IN, EDGE_NAT_IN)));
            free(eip);
        } else if (gw->kind == VPC_TGT_DX && c->cfg->dx_ofport > 0) {
            pl_flow_add(c->fs, PL_EDGE_IN, PL_PRIO_ENTRY, gw->id,
                        xasprintf("in_port=%d,dl_vlan=%d", c->cfg->dx_ofport,
                                  gw->s_tag),
                        /* Keep the S-tag: the C-tag alone does not name
                         * the virtual interface. */
                        xasprintf("set_field:%d->"REG_DX_STAG",pop_vlan,"
                                  "goto_table:%d", gw->s_tag,
                                  GOTO(EDGE_IN, EDGE_DX_IN)));
        }
    }
    build_edge_in_vpn(c);
    pl_flow_add_miss_drop(c->fs, PL_EDGE_IN);
}

/* Table edge_nat_in, per NAT gateway: replies (established or related) in
 * its zone go on to the VPC; anything else (unsolicited) is dropped. */
static void
build_edge_nat_in(struct edge_ctx *c)
{
    for (size_t i = 0; i < c->r->n_gateways; i++) {
        const struct vpc_gateway *gw = &c->r->gateways[i];
        if (gw->edge != c->edge || gw->kind != VPC_TGT_NAT) {
            continue;
        }
        static const char *const states[] = { "-new+est", "-new+rel" };
        for (size_t k = 0; k < ARRAY_SIZE(states); k++) {
            pl_flow_add(c->fs, PL_EDGE_NAT_IN, PL_PRIO_ENTRY, gw->id,
                        xasprintf("ct_state=%s+rpl+trk,ct_zone=%"PRIuSIZE
                                  ",ip", states[k], gw_zone(c, gw)),
                        xasprintf("set_field:%"PRIu32"->"REG_VNI",dec_ttl,"
                                  "goto_table:%d", gw->vpc->vni,
                                  NEXT(EDGE_NAT_IN)));
        }
    }
    pl_flow_add_miss_drop(c->fs, PL_EDGE_NAT_IN);
}

/* Table edge_dx_in, per virtual interface (the S-tag in REG_DX_STAG, the
 * C-tag still on the frame):
 *   ENTRY  ARP request for the gateway's address on the interface, the
 *          first address of each of the VPC's CIDR blocks (the VPC
 *          router's, never an ENI's; the VPN gateway's side uses it too):
 *          answered with the edge's uplink MAC, both tags back on;
 *          per on-premises prefix, an on-premises source: pop, to
 *          edge_mapping in the VPC.
 *   MISS   drop. */
static void
build_edge_dx_in(struct edge_ctx *c)
{
    for (size_t i = 0; c->cfg->dx_ofport > 0 && i < c->r->n_gateways; i++) {
        const struct vpc_gateway *gw = &c->r->gateways[i];
        if (gw->edge != c->edge || gw->kind != VPC_TGT_DX) {
            continue;
        }
        struct eth_addr mac = c->edge->uplink_mac;
        for (size_t b = 0; b < gw->vpc->n_blocks; b++) {
            char *ref = xasprintf("%s"PL_REF_ARP_SUFFIX, gw->id);
            char *gip = vpc_ip_to_string(gw->vpc->blocks[b].addr + 1);
            char *out = xasprintf("push_vlan:0x88a8,set_field:%d->vlan_vid,"
                                  "IN_PORT", 0x1000 | gw->s_tag);
            pl_flow_add(c->fs, PL_EDGE_DX_IN, PL_PRIO_ENTRY, ref,
                        xasprintf("in_port=%d,"REG_DX_STAG"=%d,dl_vlan=%d,"
                                  "arp,arp_op=1,arp_tpa=%s",
                                  c->cfg->dx_ofport, gw->s_tag, gw->c_tag,
                                  gip),
                        pl_arp_reply_actions(mac, out));
            free(out);
            free(gip);
            free(ref);
        }
        for (size_t p = 0; p < gw->n_onprem; p++) {
            char buf[24];
            vpc_prefix_format(&gw->onprem[p], buf);
            pl_flow_add(c->fs, PL_EDGE_DX_IN, PL_PRIO_ENTRY, gw->id,
                        xasprintf("in_port=%d,"REG_DX_STAG"=%d,dl_vlan=%d,"
                                  "ip,nw_src=%s", c->cfg->dx_ofport,
                                  gw->s_tag, gw->c_tag, buf),
                        xasprintf("pop_vlan,set_field:%"PRIu32"->"REG_VNI","
                                  "dec_ttl,goto_table:%d", gw->vpc->vni,
                                  NEXT(EDGE_DX_IN)));
        }
    }
    pl_flow_add_miss_drop(c->fs, PL_EDGE_DX_IN);
}

/* Table edge_mapping, priority ENTRY: per ENI of a VPC served here: its
 * MAC, the router MAC, Geneve with the VPC's VNI to its host.  MISS: drop. */
static void
build_edge_mapping(struct edge_ctx *c)
{
    for (size_t i = 0; i < c->r->n_enis; i++) {
        const struct vpc_eni *e = &c->r->enis[i];
        const struct vpc_vpc *vpc = e->subnet->vpc;
        if (!served(c, vpc)) {
            continue;
        }
        struct eth_addr rmac = pl_router_mac(vpc);
        char *ip = vpc_ip_to_string(e->ip);
        char *hip = vpc_ip_to_string(e->host->underlay_ip);
        pl_flow_add(c->fs, PL_EDGE_MAPPING, PL_PRIO_ENTRY, e->id,
                    xasprintf(REG_VNI"=%"PRIu32",ip,nw_dst=%s", vpc->vni,
                              ip),
                    xasprintf("set_field:"ETH_ADDR_FMT"->eth_dst,"
                              "set_field:"ETH_ADDR_FMT"->eth_src,"
                              "set_field:%"PRIu32"->tun_id,"
                              "set_field:%s->tun_dst,"
                              "set_field:0->in_port,output:%d",
                              ETH_ADDR_ARGS(e->mac), ETH_ADDR_ARGS(rmac),
                              vpc->vni, hip, c->cfg->tunnel_ofport));
        free(hip);
        free(ip);
    }
    pl_flow_add_miss_drop(c->fs, PL_EDGE_MAPPING);
}

static void
build_edge_in_all(struct edge_ctx *c)
{
    build_edge_in(c);
    build_edge_in_vpce(c);
}

/* One builder per stage, in stages.def order; pl_compile_edge() runs those
 * of the stages an edge bridge builds. */
static void (*const edge_builders[PL_N_STAGES])(struct edge_ctx *) = {
    [PL_CLASSIFY] = build_edge_classify,
    [PL_EDGE_VERIFY] = build_edge_verify,
    [PL_EDGE_OUT] = build_edge_out,
    [PL_EDGE_IN] = build_edge_in_all,
    [PL_EDGE_NAT_IN] = build_edge_nat_in,
    [PL_EDGE_DX_IN] = build_edge_dx_in,
    [PL_EDGE_MAPPING] = build_edge_mapping,
};

char *
pl_compile_edge(const struct vpc_region *r, const struct vpc_host *edge,
                const struct pl_host_config *cfg, struct pl_flows *fs)
{
    struct edge_ctx c = { .r = r, .cfg = cfg, .edge = edge, .fs = fs };
    if (cfg->tunnel_ofport <= 0) {
        return xasprintf("edge %s: no Geneve tunnel port", edge->id);
    }
    for (size_t i = 0; i < r->n_gateways; i++) {
        const struct vpc_gateway *gw = &r->gateways[i];
        if (gw->edge == edge && !edge->has_uplink_gateway_mac
            && (gw->kind == VPC_TGT_IGW || gw->kind == VPC_TGT_NAT)) {
            return xasprintf("edge %s implements %s but has no "
                             "uplink_gateway_mac (the next hop toward the "
                             "internet)", edge->id, gw->id);
        }
        if (gw->edge == edge && gw->kind == VPC_TGT_VPCE
            && !(strcmp(gw->service, "s3") ? edge->dynamodb_ip
                                           : edge->s3_ip)) {
            return xasprintf("edge %s implements %s but its \"services\" "
                             "give no address for %s", edge->id, gw->id,
                             gw->service);
        }
    }
    c.vpc_served = xcalloc(r->n_vpcs + 1, sizeof *c.vpc_served);
    for (size_t i = 0; i < r->n_gateways; i++) {
        if (r->gateways[i].edge == edge) {
            c.vpc_served[r->gateways[i].vpc - r->vpcs] = true;
        }
    }
    for (int s = 0; s < PL_N_STAGES; s++) {
        if (pl_stage_on(s, PL_BR_EDGE)) {
            ovs_assert(edge_builders[s]);
            edge_builders[s](&c);
        }
    }
    free(c.vpc_served);
    return fs->error ? xstrdup(fs->error) : NULL;
}
