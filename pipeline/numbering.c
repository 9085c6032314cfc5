/* pipeline/numbering.c: the numbers the pipeline gives intent objects on
 * the wire and in the switch (pipeline.h, "Numbering"). */

#include <config.h>
#include "pipeline/pipeline.h"

#include "openvswitch/util.h"

BUILD_ASSERT_DECL(PL_GW_VNI_BASE > VPC_VNI_MAX);

struct eth_addr
pl_router_mac(const struct vpc_vpc *vpc)
{
    return (struct eth_addr) { .ea = {
        0x02, 0x76, 0x70,
        (vpc->vni >> 16) & 0xff, (vpc->vni >> 8) & 0xff, vpc->vni & 0xff } };
}

/* The metadata service MAC is no VPC's router MAC (VNIs end at
 * VPC_VNI_MAX). */
BUILD_ASSERT_DECL(VPC_VNI_MAX < 0xfffffe);

uint32_t
pl_md_service_addr(int ofport)
{
    return (ofport > 0 && ofport <= PL_MD_MAX_OFPORT
            ? PL_MD_SVC_BASE + ofport : 0);
}

int
pl_md_service_ofport(uint32_t ip)
{
    uint32_t off = ip - PL_MD_SVC_BASE;
    return off > 0 && off <= PL_MD_MAX_OFPORT ? off : 0;
}

/* FNV-1a, folded so that 0 never comes out (0 means "unset" in registers). */
uint32_t
pl_id_hash(const char *id)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *) id; *p; p++) {
        h = (h ^ *p) * 16777619u;
    }
    return h ? h : 1;
}

uint32_t
pl_gateway_vni(const struct vpc_region *r, const struct vpc_gateway *gw)
{
    return gw->vni ? gw->vni : PL_GW_VNI_BASE + (uint32_t) (gw - r->gateways);
}

/* Zone 0 stays unused.  Internet gateways and NAT gateways have one each.
 * Derived from the wire VNI, so that an edge following the region database
 * (a scoped document, where positions differ) numbers its zones as a whole
 * document would. */
size_t
pl_gateway_zone(const struct vpc_region *r, const struct vpc_gateway *gw)
{
    size_t zone = (size_t) (pl_gateway_vni(r, gw) - PL_GW_VNI_BASE) + 1;
    ovs_assert(zone <= UINT16_MAX);
    return zone;
}

uint32_t
pl_subnet_resolver_ip(const struct vpc_subnet *s)
{
    return s->cidr.addr + 2;
}

uint32_t
pl_vpc_resolver_ip(const struct vpc_vpc *vpc)
{
    return vpc->n_blocks ? vpc->blocks[0].addr + 2 : 0;
}
