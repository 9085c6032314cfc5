/* pipeline/regs.h: the register map of the host pipeline.
 *
 * Every register the pipeline uses is named here once, with the stage that
 * writes it and the stages that read it.  Builders use these names only.
 * If you change this map, update docs/pipeline.md (vpcctl pipeline-doc).
 *
 *   reg   written by          read by                  holds
 *   ----  ------------------  -----------------------  --------------------
 *   reg0  classify            port_sec, services,      ofport of the source
 *                             metadata, vrouter,       ENI = its ct zone
 *                             sg_out_ct, sg_out
 *   reg1  classify,rx_verify  services, vrouter,       VNI of the VPC whose
 *         route (peering)     mapping, dst_lookup      address space applies
 *   reg2  route               mapping                  next-hop IPv4
 *   reg3  vrouter, metadata,  the same stage           ARP address swap
 *         svc_return (scratch)
 *   reg4  dst_lookup          nacl_in, sg_in_ct,       ofport of the dest
 *                             sg_in, deliver           ENI = its ct zone
 *   reg5  classify            vrouter, nacl_out,       source subnet number
 *                             route
 *   reg7  classify            route                    route table number
 *   reg8  dst_lookup          nacl_in                  dest subnet number
 *
 * Edge bridge: reg1 (VNI of the VPC), reg6 (the gateway's VNI, loaded by
 * classify from the tunnel key), reg7 (the S-tag of a Direct Connect frame,
 * loaded by edge_in before it pops it, read by edge_dx_in).
 *
 * Subnet and route-table numbers are pl_id_hash() of their ids: stable
 * across unrelated edits, so an incremental apply touches only what changed.
 */

#ifndef PL_REGS_H
#define PL_REGS_H 1

#define REG_SRC_PORT    "reg0"
#define REG_VNI         "reg1"
#define REG_NEXTHOP     "reg2"
#define REG_SCRATCH     "reg3"
#define REG_DST_PORT    "reg4"
#define REG_SRC_SUBNET  "reg5"
#define REG_RTB         "reg7"
#define REG_DST_SUBNET  "reg8"
#define REG_GATEWAY     "reg6"
#define REG_DX_STAG     "reg7"

/* The same registers as NXM fields, for move/load/ct actions. */
#define NXM_SRC_PORT    "NXM_NX_REG0[]"
#define NXM_VNI         "NXM_NX_REG1[]"
#define NXM_NEXTHOP     "NXM_NX_REG2[]"
#define NXM_SCRATCH     "NXM_NX_REG3[]"
#define NXM_DST_PORT    "NXM_NX_REG4[]"
#define NXM_SRC_SUBNET  "NXM_NX_REG5[]"
#define NXM_RTB         "NXM_NX_REG7[]"
#define NXM_DST_SUBNET  "NXM_NX_REG8[]"

/* Conntrack zones: one per ENI, numbered by its ofport. */
#define ZONE_SRC        "NXM_NX_REG0[0..15]"
#define ZONE_DST        "NXM_NX_REG4[0..15]"

#endif /* pipeline/regs.h */
