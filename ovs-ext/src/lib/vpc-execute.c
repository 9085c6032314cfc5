/* lib/vpc-execute.c (ovs-vpc): vpc_encap and vpc_verify, per packet. */

#include <config.h>
#include "vpc-execute.h"

#include <string.h>
#include "coverage.h"
#include "csum.h"
#include "dp-packet.h"
#include "netdev-native-tnl.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "tnl-neigh-cache.h"
#include "vpc-map.h"

VLOG_DEFINE_THIS_MODULE(vpc_execute);

COVERAGE_DEFINE(vpc_encap_remote);
COVERAGE_DEFINE(vpc_encap_local);
COVERAGE_DEFINE(vpc_encap_miss);
COVERAGE_DEFINE(vpc_encap_no_neigh);
COVERAGE_DEFINE(vpc_encap_not_ipv4);
COVERAGE_DEFINE(vpc_verify_spoofed);

static const struct ip_header *
inner_ipv4(const struct dp_packet *packet)
{
    const struct eth_header *eth = dp_packet_eth(packet);
    if (!eth || eth->eth_type != htons(ETH_TYPE_IP)
        || dp_packet_size(packet) < ETH_HEADER_LEN + IP_HEADER_LEN) {
        return NULL;
    }
    return (const struct ip_header *) (eth + 1);
}

/* Turns 'packet' into one that just arrived on tunnel port 'tnl_port' from
 * this host ('self') with 'vni', as tnl_pop would have left it. */
static void
loop_back(struct dp_packet *packet, odp_port_t tnl_port, ovs_be32 self,
          uint32_t vni)
{
    struct pkt_metadata *md = &packet->md;
    pkt_metadata_init_tnl(md);          /* Clears in_port too. */
    md->in_port.odp_port = tnl_port;
    md->tunnel.ip_src = self;
    md->tunnel.ip_dst = self;
    md->tunnel.tun_id = htonll(vni);
    md->tunnel.tp_dst = htons(6081);
    md->tunnel.ip_ttl = 64;
    md->tunnel.flags = FLOW_TNL_F_KEY;
}

void
vpc_execute_encap(struct dp_packet_batch *batch,
                  const struct ovs_action_vpc_encap *ve,
                  struct dp_packet_batch *local)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    const struct ovs_action_push_tnl *tmpl = &ve->tnl;
    const struct eth_header *tmpl_eth = (const void *) tmpl->header;
    const struct ip_header *tmpl_ip = (const void *) (tmpl_eth + 1);
    ovs_be32 self = get_16aligned_be32(&tmpl_ip->ip_src);
    ovs_be32 hint = get_16aligned_be32(&tmpl_ip->ip_dst);
    struct dp_packet *packet;
    const size_t n = dp_packet_batch_size(batch);
    size_t i;

    /* The macro empties the batch before the loop: take its size first. */
    DP_PACKET_BATCH_REFILL_FOR_EACH (i, n, packet, batch) {
        const struct ip_header *ip = inner_ipv4(packet);
        struct vpc_map_entry e;
        if (!ip) {
            COVERAGE_INC(vpc_encap_not_ipv4);
            dp_packet_delete(packet);
            continue;
        }
        ovs_be32 dst = get_16aligned_be32(&ip->ip_dst);
        if (!vpc_map_lookup(ve->vni, dst, &e)) {
            COVERAGE_INC(vpc_encap_miss);
            VLOG_DBG_RL(&rl, "vpc_encap: vni %"PRIu32" "IP_FMT": no mapping",
                        ve->vni, IP_ARGS(dst));
            dp_packet_delete(packet);
            continue;
        }
        struct eth_header *eth = dp_packet_eth(packet);
        if (!eth_addr_is_zero(e.mac)) {
            eth->eth_dst = e.mac;
        }

        if (e.underlay == self) {
            COVERAGE_INC(vpc_encap_local);
            loop_back(packet, tmpl->tnl_port, self, ve->vni);
            dp_packet_batch_add(local, packet);
            continue;
        }

        /* Remote: the template, addressed to the ENI's host. */
        struct ovs_action_push_tnl data;
        memcpy(&data, tmpl, offsetof(struct ovs_action_push_tnl, header)
                            + tmpl->header_len);
        struct eth_header *oeth = (void *) data.header;
        struct ip_header *oip = (void *) (oeth + 1);
        if (e.underlay != hint) {
            struct in6_addr ip6 = in6_addr_mapped_ipv4(e.underlay);
            struct eth_addr nh;
            if (tnl_neigh_lookup(ve->underlay_bridge, &ip6, &nh)) {
                COVERAGE_INC(vpc_encap_no_neigh);
                VLOG_WARN_RL(&rl, "vpc_encap: no neighbor entry for host "
                             IP_FMT" on %s: dropping", IP_ARGS(e.underlay),
                             ve->underlay_bridge);
                dp_packet_delete(packet);
                continue;
            }
            oeth->eth_dst = nh;
            put_16aligned_be32(&oip->ip_dst, e.underlay);
            oip->ip_csum = recalc_csum32(oip->ip_csum, hint, e.underlay);
        }
        netdev_tnl_push_udp_header(NULL, packet, &data);
        pkt_metadata_init(&packet->md, data.out_port);
        COVERAGE_INC(vpc_encap_remote);
        dp_packet_batch_refill(batch, packet, i);
    }
}

void
vpc_execute_verify(struct dp_packet_batch *batch)
{
    struct dp_packet *packet;
    const size_t n = dp_packet_batch_size(batch);
    size_t i;

    /* The macro empties the batch before the loop: take its size first. */
    DP_PACKET_BATCH_REFILL_FOR_EACH (i, n, packet, batch) {
        const struct flow_tnl *tnl = &packet->md.tunnel;
        const struct ip_header *ip = inner_ipv4(packet);
        uint32_t vni = ntohll(tnl->tun_id) & 0xffffff;
        ovs_be32 src = ip ? get_16aligned_be32(&ip->ip_src) : 0;
        if (!tnl->ip_dst || !ip || !vpc_map_verify(vni, src, tnl->ip_src)) {
            /* vpc_map_verify() counts and logs spoofed sources. */
            COVERAGE_INC(vpc_verify_spoofed);
            dp_packet_delete(packet);
            continue;
        }
        dp_packet_batch_refill(batch, packet, i);
    }
}
