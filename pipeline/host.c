/* pipeline/host.c: builders of the host integration bridge's flows.
 *
 * pl_compile_host() gathers what one host needs (its ENIs, the VPCs it has a
 * presence in and their peers) into a 'struct host_ctx', then calls one
 * builder per stage in pipeline order.  Each builder says which table and
 * priorities it writes; all flows go through pl_flow_add(). */

#include <config.h>
#include "pipeline/pipeline.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "packets.h"
#include "pipeline/edge.h"
#include "pipeline/regs.h"
#include "util.h"

/* Successors are named, never numbered (pipeline/stages.def): NEXT(S) is
 * the table of stage S's next stage, GOTO(S, T) that of T, a declared jump
 * of S. */
#define NEXT(FROM) pl_next(PL_##FROM)
#define GOTO(FROM, TO) pl_goto_table(PL_##FROM, PL_##TO)

/* A local ENI that is plugged in. */
struct local_eni {
    const struct vpc_eni *eni;
    int ofport;
};

struct host_ctx {
    const struct vpc_region *r;
    const struct pl_host_config *cfg;
    const struct vpc_host *host;
    struct pl_flows *fs;

    struct local_eni *locals;   /* Plugged ENIs of this host. */
    size_t n_locals;
    bool *vpc_present;          /* By VPC index: has a local ENI. */
    bool *vpc_in_scope;         /* Present, or peered with a present one. */
    bool *subnet_local;         /* By subnet index: has a local ENI. */
    bool *rtb_used;             /* By route table index. */
};

static size_t
vpc_index(const struct host_ctx *c, const struct vpc_vpc *vpc)
{
    return vpc - c->r->vpcs;
}

static char *
prefix_s(const struct vpc_prefix *p)
{
    char buf[24];
    if (p->plen == 32) {
        vpc_ip_format(p->addr, buf);
    } else {
        vpc_prefix_format(p, buf);
    }
    return xstrdup(buf);
}

/* Number of a subnet or route table in registers: its id hash. */
static uint32_t
subnet_num(const struct vpc_subnet *s)
{
    return pl_id_hash(s->id);
}

/* A subnet without a route table uses its VPC's implicit table, which holds
 * only the local routes; it is numbered after the VPC id. */
static uint32_t
rtb_num(const struct vpc_subnet *s)
{
    return pl_id_hash(s->route_table ? s->route_table->id : s->vpc->id);
}

/* -------------------------------------------------- port ranges and rules */

/* Splits [lo, hi] into value/mask pairs for 16-bit port matches, appended to
 * 'out' as "FIELD=V/M" strings.  Returns the count. */
static size_t
port_range_matches(const char *field, int lo, int hi, char ***out)
{
    size_t n = 0;
    *out = NULL;
    if (lo == 0 && hi == 65535) {
        *out = xmalloc(sizeof **out);
        (*out)[n++] = xstrdup("");
        return n;
    }
    while (lo <= hi) {
        int size = 1;
        while ((lo & ((size << 1) - 1)) == 0 && lo + (size << 1) - 1 <= hi
               && size < 65536) {
            size <<= 1;
        }
        *out = xrealloc(*out, (n + 1) * sizeof **out);
        if (size == 1) {
            (*out)[n++] = xasprintf(",%s=%d", field, lo);
        } else {
            (*out)[n++] = xasprintf(",%s=0x%x/0x%x", field, lo,
                                    0xffff & ~(size - 1));
        }
        lo += size;
    }
    return n;
}

static void
free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

/* Calls 'cb' with every OpenFlow match fragment (",tcp,tp_dst=..") that
 * 'm' stands for.  Fragments start with ',' and name the protocol. */
static size_t
rule_matches(const struct vpc_rule_match *m, char ***out)
{
    if (m->protocol == VPC_PROTO_ALL) {
        *out = xmalloc(sizeof **out);
        (*out)[0] = xstrdup(",ip");
        return 1;
    }
    if (m->protocol == 6 || m->protocol == 17) {
        const char *proto = m->protocol == 6 ? "tcp" : "udp";
        const char *field = m->protocol == 6 ? "tcp_dst" : "udp_dst";
        size_t n = port_range_matches(field, m->from_port, m->to_port, out);
        for (size_t i = 0; i < n; i++) {
            char *s = xasprintf(",%s%s", proto, (*out)[i]);
            free((*out)[i]);
            (*out)[i] = s;
        }
        return n;
    }
    *out = xmalloc(sizeof **out);
    if (m->protocol == 1) {
        struct ds ds = DS_EMPTY_INITIALIZER;
        ds_put_cstr(&ds, ",icmp");
        if (m->icmp_type >= 0) {
            ds_put_format(&ds, ",icmp_type=%d", m->icmp_type);
        }
        if (m->icmp_code >= 0) {
            ds_put_format(&ds, ",icmp_code=%d", m->icmp_code);
        }
        (*out)[0] = ds_steal_cstr(&ds);
    } else {
        (*out)[0] = xasprintf(",ip,nw_proto=%d", m->protocol);
    }
    return 1;
}

/* ---------------------------------------------------------------- classify */

/* Table classify, priority ENTRY: one flow per plugged ENI, one for the
 * tunnel.  Priority MISS: drop. */
static void
build_classify(struct host_ctx *c)
{
    for (size_t i = 0; i < c->n_locals; i++) {
        const struct local_eni *l = &c->locals[i];
        const struct vpc_subnet *s = l->eni->subnet;
        pl_flow_add(c->fs, PL_CLASSIFY, PL_PRIO_ENTRY, l->eni->id,
                    xasprintf("in_port=%d", l->ofport),
                    xasprintf("set_field:%d->"REG_SRC_PORT","
                              "set_field:%"PRIu32"->"REG_VNI","
                              "set_field:0x%08"PRIx32"->"REG_SRC_SUBNET","
                              "set_field:0x%08"PRIx32"->"REG_RTB","
                              "goto_table:%d", l->ofport, s->vpc->vni,
                              subnet_num(s), rtb_num(s), NEXT(CLASSIFY)));
    }
    if (c->cfg->metadata_ofport > 0) {
        pl_flow_add(c->fs, PL_CLASSIFY, PL_PRIO_ENTRY, "metadata service",
                    xasprintf("in_port=%d", c->cfg->metadata_ofport),
                    xasprintf("goto_table:%d", GOTO(CLASSIFY, SVC_RETURN)));
    }
    if (c->cfg->tunnel_ofport > 0) {
        pl_flow_add(c->fs, PL_CLASSIFY, PL_PRIO_ENTRY, "tunnel",
                    xasprintf("in_port=%d", c->cfg->tunnel_ofport),
                    xasprintf("goto_table:%d", GOTO(CLASSIFY, RX_VERIFY)));
    }
    pl_flow_add_miss_drop(c->fs, PL_CLASSIFY);
}

/* ----------------------------------------------------------- port security */

/* Table port_sec, priority ENTRY: own MAC + own IP (ARP requests for own
 * address, IPv4 from own address); source/dest check off: any IPv4 source.
 * Priority MISS: drop. */
static void
build_port_security(struct host_ctx *c)
{
    for (size_t i = 0; i < c->n_locals; i++) {
        const struct vpc_eni *e = c->locals[i].eni;
        char *ip = vpc_ip_to_string(e->ip);
        pl_flow_add(c->fs, PL_PORT_SEC, PL_PRIO_ENTRY, e->id,
                    xasprintf(REG_SRC_PORT"=%d,arp,dl_src="ETH_ADDR_FMT
                              ",arp_op=1,arp_spa=%s,arp_sha="ETH_ADDR_FMT,
                              c->locals[i].ofport, ETH_ADDR_ARGS(e->mac), ip,
                              ETH_ADDR_ARGS(e->mac)),
                    xasprintf("goto_table:%d", NEXT(PORT_SEC)));
        if (e->source_dest_check) {
            pl_flow_add(c->fs, PL_PORT_SEC, PL_PRIO_ENTRY, e->id,
                        xasprintf(REG_SRC_PORT"=%d,ip,dl_src="ETH_ADDR_FMT
                                  ",nw_src=%s", c->locals[i].ofport,
                                  ETH_ADDR_ARGS(e->mac), ip),
                        xasprintf("goto_table:%d", NEXT(PORT_SEC)));
        } else {
            pl_flow_add(c->fs, PL_PORT_SEC, PL_PRIO_ENTRY, e->id,
                        xasprintf(REG_SRC_PORT"=%d,ip,dl_src="ETH_ADDR_FMT,
                                  c->locals[i].ofport, ETH_ADDR_ARGS(e->mac)),
                        xasprintf("goto_table:%d", NEXT(PORT_SEC)));
        }
        /* A DHCP client without an address yet (DISCOVER, REQUEST in
         * INIT-REBOOT) sends from 0.0.0.0 to the broadcast address; only
         * stage services takes it, to vpcd. */
        pl_flow_add(c->fs, PL_PORT_SEC, PL_PRIO_ENTRY, e->id,
                    xasprintf(REG_SRC_PORT"=%d,udp,dl_src="ETH_ADDR_FMT
                              ",nw_src=0.0.0.0,nw_dst=255.255.255.255,"
                              "udp_src=68,udp_dst=67", c->locals[i].ofport,
                              ETH_ADDR_ARGS(e->mac)),
                    xasprintf("goto_table:%d", NEXT(PORT_SEC)));
        free(ip);
    }
    pl_flow_add_miss_drop(c->fs, PL_PORT_SEC);
}

/* ---------------------------------------------------------- host services */

/* Table services (daemon/pinctrl.c answers what goes to the controller):
 *   ENTRY  DHCP from a local ENI's port (UDP 68 to 67; port_sec pinned its
 *          MAC and its source to 0.0.0.0 or its address): to vpcd.  DNS
 *          (UDP to port 53) to the resolver of a VPC present here (the
 *          sender's subnet's +2, the VPC's base +2, PL_DNS_ANYCAST): to
 *          vpcd.
 *   DEFAULT  any other DHCP request (UDP 68 to 67): dropped, never
 *          flooded or routed.
 *   MISS   everything else continues to vrouter.
 * The controller action is the default (reason action, the whole packet);
 * vpcd tells the service from the packet and the ENI from its in_port. */
static void
build_services(struct host_ctx *c)
{
    for (size_t i = 0; i < c->n_locals; i++) {
        const struct vpc_eni *e = c->locals[i].eni;
        char *ref = xasprintf("%s dhcp", e->id);
        pl_flow_add(c->fs, PL_SERVICES, PL_PRIO_ENTRY, ref,
                    xasprintf(REG_SRC_PORT"=%d,udp,udp_src=68,udp_dst=67",
                              c->locals[i].ofport),
                    xstrdup("controller"));
        free(ref);
    }
    pl_flow_add(c->fs, PL_SERVICES, PL_PRIO_DEFAULT, "pipeline",
                xstrdup("udp,udp_src=68,udp_dst=67"), xstrdup("drop"));

    const struct vpc_region *r = c->r;
    bool any = false;
    for (size_t v = 0; v < r->n_vpcs; v++) {
        const struct vpc_vpc *vpc = &r->vpcs[v];
        if (!c->vpc_present[v]) {
            continue;
        }
        any = true;
        char *ref = xasprintf("%s dns", vpc->id);
        char *ip = vpc_ip_to_string(pl_vpc_resolver_ip(vpc));
        pl_flow_add(c->fs, PL_SERVICES, PL_PRIO_ENTRY, ref,
                    xasprintf(REG_VNI"=%"PRIu32",udp,nw_dst=%s,udp_dst=53",
                              vpc->vni, ip),
                    xstrdup("controller"));
        free(ip);
        for (size_t i = 0; i < r->n_subnets; i++) {
            const struct vpc_subnet *s = &r->subnets[i];
            if (s->vpc != vpc || !c->subnet_local[i]
                || pl_subnet_resolver_ip(s) == pl_vpc_resolver_ip(vpc)) {
                continue;
            }
            /* An ENI's own subnet's +2 (AWS reserves every subnet's). */
            char *sref = xasprintf("%s dns", s->id);
            ip = vpc_ip_to_string(pl_subnet_resolver_ip(s));
            pl_flow_add(c->fs, PL_SERVICES, PL_PRIO_ENTRY, sref,
                        xasprintf(REG_SRC_SUBNET"=0x%08"PRIx32",udp,"
                                  "nw_dst=%s,udp_dst=53", subnet_num(s),
                                  ip),
                        xstrdup("controller"));
            free(ip);
            free(sref);
        }
        free(ref);
    }
    if (any) {
        char *ip = vpc_ip_to_string(PL_DNS_ANYCAST);
        pl_flow_add(c->fs, PL_SERVICES, PL_PRIO_ENTRY, "dns",
                    xasprintf("udp,nw_dst=%s,udp_dst=53", ip),
                    xstrdup("controller"));
        free(ip);
    }
    pl_flow_addf(c->fs, PL_SERVICES, PL_PRIO_MISS, "pipeline", "",
                 "goto_table:%d", NEXT(SERVICES));
}

/* ---------------------------------------------------------- virtual router */

/* Table vrouter:
 *   BYPASS+10  ARP for the ENI's own address (duplicate address detection,
 *              gratuitous ARP): drop.
 *   ENTRY      ARP request for an address of the subnet: reply with the
 *              router MAC; ICMP echo to a router address: reply.
 *   DEFAULT    other ARP, broadcast and multicast IPv4: drop.
 *   MISS       IPv4: continue to nacl_out. */
static void
build_vrouter(struct host_ctx *c)
{
    for (size_t i = 0; i < c->n_locals; i++) {
        const struct vpc_eni *e = c->locals[i].eni;
        char *ip = vpc_ip_to_string(e->ip);
        pl_flow_add(c->fs, PL_VROUTER, PL_PRIO_BYPASS + 10, e->id,
                    xasprintf(REG_SRC_PORT"=%d,arp,arp_tpa=%s",
                              c->locals[i].ofport, ip),
                    xstrdup("drop"));
        free(ip);
    }

    const struct vpc_region *r = c->r;
    for (size_t i = 0; i < r->n_subnets; i++) {
        const struct vpc_subnet *s = &r->subnets[i];
        if (!c->vpc_present[vpc_index(c, s->vpc)]) {
            continue;
        }
        struct eth_addr rmac = pl_router_mac(s->vpc);
        char *rip = vpc_ip_to_string(vpc_subnet_router_ip(s));
        char *ref = xasprintf("%s router", s->id);
        if (c->subnet_local[i]) {
            char *cidr = prefix_s(&s->cidr);
            pl_flow_add(c->fs, PL_VROUTER, PL_PRIO_ENTRY, ref,
                        xasprintf(REG_SRC_SUBNET"=0x%08"PRIx32",arp,arp_op=1,"
                                  "arp_tpa=%s", subnet_num(s), cidr),
                        pl_arp_reply_actions(rmac, "IN_PORT"));
            free(cidr);
        }
        pl_flow_add(c->fs, PL_VROUTER, PL_PRIO_ENTRY, ref,
                    xasprintf(REG_VNI"=%"PRIu32",icmp,nw_dst=%s,icmp_type=8,"
                              "icmp_code=0", s->vpc->vni, rip),
                    xasprintf("move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
                              "set_field:"ETH_ADDR_FMT"->eth_src,"
                              "move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[],"
                              "set_field:%s->ip_src,set_field:64->nw_ttl,"
                              "set_field:0->icmp_type,IN_PORT",
                              ETH_ADDR_ARGS(rmac), rip));
        free(ref);
        free(rip);
    }
    pl_flow_add(c->fs, PL_VROUTER, PL_PRIO_DEFAULT, "pipeline",
                xstrdup("arp"), xstrdup("drop"));
    pl_flow_add(c->fs, PL_VROUTER, PL_PRIO_DEFAULT, "pipeline",
                xstrdup("ip,nw_dst=224.0.0.0/4"), xstrdup("drop"));
    pl_flow_add(c->fs, PL_VROUTER, PL_PRIO_DEFAULT, "pipeline",
                xstrdup("ip,nw_dst=255.255.255.255"), xstrdup("drop"));
    pl_flow_addf(c->fs, PL_VROUTER, PL_PRIO_MISS, "pipeline", "ip",
                 "goto_table:%d", NEXT(VROUTER));
}

/* ------------------------------------------------------ instance metadata */

/* Whether local ENI 'l' reaches the metadata service: the host has a
 * service port, the ENI's endpoint is enabled and its ofport has a service
 * address. */
static bool
md_served(const struct host_ctx *c, const struct local_eni *l)
{
    return (c->cfg->metadata_ofport > 0 && l->eni->http_endpoint_enabled
            && pl_md_service_addr(l->ofport));
}

/* Table metadata:
 *   ENTRY    per served ENI: ARP request for 169.254.169.254: reply with
 *            the router MAC; TCP to 169.254.169.254:80: to the service
 *            port, the source address replaced by the ENI's service
 *            address.
 *   DEFAULT  any other IPv4 to 169.254.169.254: drop (link-local, never
 *            routed; an ENI whose endpoint is disabled gets no answer).
 *   MISS     continue to vrouter. */
static void
build_metadata(struct host_ctx *c)
{
    char md[16];
    vpc_ip_format(PL_MD_ADDR, md);
    for (size_t i = 0; i < c->n_locals; i++) {
        const struct local_eni *l = &c->locals[i];
        if (!md_served(c, l)) {
            continue;
        }
        struct eth_addr rmac = pl_router_mac(l->eni->subnet->vpc);
        char *sa = vpc_ip_to_string(pl_md_service_addr(l->ofport));
        char *ref = xasprintf("%s metadata", l->eni->id);
        pl_flow_add(c->fs, PL_METADATA, PL_PRIO_ENTRY, ref,
                    xasprintf(REG_SRC_PORT"=%d,arp,arp_op=1,arp_tpa=%s",
                              l->ofport, md),
                    pl_arp_reply_actions(rmac, "IN_PORT"));
        pl_flow_add(c->fs, PL_METADATA, PL_PRIO_ENTRY, ref,
                    xasprintf(REG_SRC_PORT"=%d,tcp,nw_dst=%s,tp_dst=%d",
                              l->ofport, md, PL_MD_PORT),
                    xasprintf("set_field:"ETH_ADDR_FMT"->eth_src,"
                              "set_field:"ETH_ADDR_FMT"->eth_dst,"
                              "set_field:%s->ip_src,output:%d",
                              ETH_ADDR_ARGS((struct eth_addr)
                                            PL_MD_SVC_MAC),
                              ETH_ADDR_ARGS(c->cfg->metadata_mac), sa,
                              c->cfg->metadata_ofport));
        free(ref);
        free(sa);
    }
    pl_flow_add(c->fs, PL_METADATA, PL_PRIO_DEFAULT, "pipeline",
                xasprintf("ip,nw_dst=%s", md), xstrdup("drop"));
    pl_flow_addf(c->fs, PL_METADATA, PL_PRIO_MISS, "pipeline", "",
                 "goto_table:%d", NEXT(METADATA));
}

/* Table svc_return, for packets from the metadata service port only
 * (classify sends nothing else here):
 *   ENTRY  per served ENI: ARP request for its service address: reply
 *          with PL_MD_SVC_MAC; TCP from 169.254.169.254:80 to it: the
 *          ENI's IP as destination, router MAC to ENI MAC, out its port.
 *   MISS   drop. */
static void
build_svc_return(struct host_ctx *c)
{
    int svc = c->cfg->metadata_ofport;
    char md[16];
    vpc_ip_format(PL_MD_ADDR, md);
    for (size_t i = 0; svc > 0 && i < c->n_locals; i++) {
        const struct local_eni *l = &c->locals[i];
        if (!md_served(c, l)) {
            continue;
        }
        const struct vpc_eni *e = l->eni;
        struct eth_addr rmac = pl_router_mac(e->subnet->vpc);
        char *sa = vpc_ip_to_string(pl_md_service_addr(l->ofport));
        char *ip = vpc_ip_to_string(e->ip);
        char *ref = xasprintf("%s metadata", e->id);
        pl_flow_add(c->fs, PL_SVC_RETURN, PL_PRIO_ENTRY, ref,
                    xasprintf("in_port=%d,arp,arp_op=1,arp_tpa=%s", svc, sa),
                    pl_arp_reply_actions((struct eth_addr) PL_MD_SVC_MAC,
                                         "IN_PORT"));
        pl_flow_add(c->fs, PL_SVC_RETURN, PL_PRIO_ENTRY, ref,
                    xasprintf("in_port=%d,tcp,nw_src=%s,tp_src=%d,nw_dst=%s",
                              svc, md, PL_MD_PORT, sa),
                    xasprintf("set_field:"ETH_ADDR_FMT"->eth_src,"
                              "set_field:"ETH_ADDR_FMT"->eth_dst,"
                              "set_field:%s->ip_dst,output:%d",
                              ETH_ADDR_ARGS(rmac), ETH_ADDR_ARGS(e->mac), ip,
                              l->ofport));
        free(ref);
        free(ip);
        free(sa);
    }
    pl_flow_add_miss_drop(c->fs, PL_SVC_RETURN);
}

/* ------------------------------------------------------------ network ACLs */

/* ---------------------------------------------------------- flow logs */

/* What the flow logs of the region record of local ENI 'e'. */
static enum vpc_flow_log_traffic
eni_logged(const struct host_ctx *c, const struct vpc_eni *e)
{
    return c->r->n_flow_logs ? vpc_eni_flow_log_traffic(c->r, e) : 0;
}

/* The actions of the deny flows of subnet 's''s network ACL: "drop", or,
 * if a flow log records what is rejected of one of its local ENIs, a
 * sample for the flow log (an action list of only a sample drops). */
static char *
nacl_deny_actions(const struct host_ctx *c, const struct vpc_subnet *s)
{
    for (size_t i = 0; i < c->n_locals; i++) {
        const struct vpc_eni *e = c->locals[i].eni;
        if (e->subnet == s && eni_logged(c, e) & VPC_FL_REJECT) {
            return pl_flow_log_sample(PL_FL_POINT_REJECT | PL_FL_POINT_SUBNET
                                      | (subnet_num(s) & PL_FL_POINT_MASK));
        }
    }
    return xstrdup("drop");
}

/* The prefix of the actions of a security-group stage's flows that accept
 * a packet of the ENI on 'port' whose flow logs record 'logged': empty, or
 * the sample for them and a comma (malloc'd). */
static char *
sg_accept_prefix(enum vpc_flow_log_traffic logged, int port)
{
    if (!(logged & VPC_FL_ACCEPT)) {
        return xstrdup("");
    }
    char *sample = pl_flow_log_sample(port & PL_FL_POINT_MASK);
    char *prefix = xasprintf("%s,", sample);
    free(sample);
    return prefix;
}

/* Per-ENI flows of a security-group stage for an ENI that a flow log
 * covers: its established and related packets accepted (BYPASS + 1, above
 * the shared flows that pass them unlogged), and what no rule allows
 * rejected (MISS + 1, above the shared drop), each with its sample. */
static void
sg_flow_log_flows(struct host_ctx *c, enum pl_stage stage, const char *reg,
                  const struct vpc_eni *e, int port)
{
    enum vpc_flow_log_traffic logged = eni_logged(c, e);
    int next = pl_next(stage);
    char *ref = xasprintf("%s flow log", e->id);
    if (logged & VPC_FL_ACCEPT) {
        static const char *const states[] = { "-new+est+trk",
                                              "-new+rel+trk" };
        char *prefix = sg_accept_prefix(logged, port);
        for (size_t i = 0; i < ARRAY_SIZE(states); i++) {
            pl_flow_add(c->fs, stage, PL_PRIO_BYPASS + 1, ref,
                        xasprintf("ct_state=%s,%s=%d", states[i], reg, port),
                        xasprintf("%sgoto_table:%d", prefix, next));
        }
        free(prefix);
    }
    if (logged & VPC_FL_REJECT) {
        pl_flow_add(c->fs, stage, PL_PRIO_MISS + 1, ref,
                    xasprintf("ip,%s=%d", reg, port),
                    pl_flow_log_sample(PL_FL_POINT_REJECT
                                       | (port & PL_FL_POINT_MASK)));
    }
    free(ref);
}

/* Tables nacl_out / nacl_in, for each local subnet with a network ACL:
 *   BYPASS            peer address inside the subnet: continue.
 *   NACL_BASE - rule  the rule's verdict (lowest rule number wins).
 *   DEFAULT           implicit deny.
 * MISS: subnets without an ACL continue. */
static void
build_nacl(struct host_ctx *c, bool egress)
{
    enum pl_stage stage = egress ? PL_NACL_OUT : PL_NACL_IN;
    const char *reg = egress ? REG_SRC_SUBNET : REG_DST_SUBNET;
    const char *peer = egress ? "nw_dst" : "nw_src";
    int next = pl_next(stage);

    for (size_t i = 0; i < c->r->n_subnets; i++) {
        const struct vpc_subnet *s = &c->r->subnets[i];
        if (!c->subnet_local[i] || !s->nacl) {
            continue;
        }
        uint32_t sn = subnet_num(s);
        char *deny = nacl_deny_actions(c, s);
        char *cidr = prefix_s(&s->cidr);
        pl_flow_add(c->fs, stage, PL_PRIO_BYPASS, s->id,
                    xasprintf("%s=0x%08"PRIx32",ip,%s=%s", reg, sn, peer,
                              cidr),
                    xasprintf("goto_table:%d", next));
        free(cidr);

        const struct vpc_nacl *acl = s->nacl;
        const struct vpc_nacl_rule *rules = egress ? acl->egress
                                                   : acl->ingress;
        size_t n = egress ? acl->n_egress : acl->n_ingress;
        for (size_t k = 0; k < n; k++) {
            const struct vpc_nacl_rule *rule = &rules[k];
            char *ref = xasprintf("%s %s rule %d", acl->id,
                                  egress ? "egress" : "ingress",
                                  rule->rule_number);
            char *pfx = prefix_s(&rule->cidr);
            char **m;
            size_t nm = rule_matches(&rule->m, &m);
            for (size_t j = 0; j < nm; j++) {
                pl_flow_add(c->fs, stage,
                            PL_PRIO_NACL_BASE - rule->rule_number, ref,
                            xasprintf("%s=0x%08"PRIx32"%s,%s=%s", reg, sn,
                                      m[j], peer, pfx),
                            rule->allow ? xasprintf("goto_table:%d", next)
                                        : xstrdup(deny));
            }
            free_strings(m, nm);
            free(pfx);
            free(ref);
        }
        char *ref = xasprintf("%s %s implicit deny", acl->id,
                              egress ? "egress" : "ingress");
        pl_flow_add(c->fs, stage, PL_PRIO_DEFAULT, ref,
                    xasprintf("%s=0x%08"PRIx32",ip", reg, sn), deny);
        free(ref);
    }
    pl_flow_addf(c->fs, stage, PL_PRIO_MISS, "pipeline", "ip",
                 "goto_table:%d", next);
}

/* --------------------------------------------------------- security groups */

/* Calls back for each prefix a security-group rule's peer stands for: its
 * CIDR, or every member of the referenced group. */
static size_t
sg_rule_peers(const struct host_ctx *c, const struct vpc_sg_rule *rule,
              char ***out)
{
    *out = NULL;
    if (rule->has_cidr) {
        *out = xmalloc(sizeof **out);
        (*out)[0] = prefix_s(&rule->cidr);
        return 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < c->r->n_enis; i++) {
        const struct vpc_eni *e = &c->r->enis[i];
        for (size_t g = 0; g < e->n_sgs; g++) {
            if (e->sgs[g] == rule->peer_sg) {
                *out = xrealloc(*out, (n + 1) * sizeof **out);
                (*out)[n++] = vpc_ip_to_string(e->ip);
                break;
            }
        }
    }
    return n;
}

/* Conjunctive matches of rules that name a group (OpenFlow "conjunction"):
 * one flow per (ENI port, protocol/port match) and one per group member,
 * instead of one per pair.  Several rules may need the same clause flow
 * (the same member, the same port); OpenFlow holds one flow per match, so
 * clauses are collected here by match and added once, their conjunction()
 * actions joined. */
struct sg_conj {
    struct shash clauses;       /* Match -> struct sg_clause. */
    struct hmap ids;            /* struct sg_conj_id, ids in use. */
};

struct sg_clause {
    char *ref;                  /* Intent of the first rule that needs it. */
    struct ds actions;
};

struct sg_conj_id {
    struct hmap_node node;
    uint32_t id;
};

/* A conjunction id for 'key' (stable across compiles: a hash, moved on to
 * the next free value if taken, so that two rules never share one). */
static uint32_t
sg_conj_id(struct sg_conj *sc, const char *key)
{
    uint32_t id = hash_string(key, 0);
    for (;;) {
        struct sg_conj_id *e;
        bool taken = false;
        HMAP_FOR_EACH_WITH_HASH (e, node, hash_int(id, 0), &sc->ids) {
            taken |= e->id == id;
        }
        if (!taken) {
            e = xmalloc(sizeof *e);
            e->id = id;
            hmap_insert(&sc->ids, &e->node, hash_int(id, 0));
            return id;
        }
        id++;
    }
}

static void
sg_clause_add(struct sg_conj *sc, const char *ref, char *match,
              uint32_t id, int dim)
{
    struct sg_clause *cl = shash_find_data(&sc->clauses, match);
    if (!cl) {
        cl = xmalloc(sizeof *cl);
        cl->ref = xstrdup(ref);
        ds_init(&cl->actions);
        shash_add(&sc->clauses, match, cl);
    } else {
        ds_put_char(&cl->actions, ',');
    }
    ds_put_format(&cl->actions, "conjunction(%"PRIu32",%d/2)", id, dim);
    free(match);
}

/* Adds the collected clause flows to table 'stage' and frees 'sc'. */
static void
sg_conj_flush(struct host_ctx *c, enum pl_stage stage, struct sg_conj *sc)
{
    struct shash_node *node;
    SHASH_FOR_EACH (node, &sc->clauses) {
        struct sg_clause *cl = node->data;
        pl_flow_add(c->fs, stage, PL_PRIO_ENTRY - 1, cl->ref,
                    xstrdup(node->name), ds_steal_cstr(&cl->actions));
        free(cl->ref);
    }
    shash_destroy_free_data(&sc->clauses);
    struct sg_conj_id *e;
    HMAP_FOR_EACH_POP (e, node, &sc->ids) {
        free(e);
    }
    hmap_destroy(&sc->ids);
}

/* Tables sg_out_ct / sg_in_ct, priority MISS: conntrack in the ENI's zone,
 * then the security-group stage. */
static void
build_sg_ct(struct host_ctx *c, bool egress)
{
    enum pl_stage stage = egress ? PL_SG_OUT_CT : PL_SG_IN_CT;
    pl_flow_addf(c->fs, stage, PL_PRIO_MISS, "pipeline", "ip",
                 "ct(table=%d,zone=%s)", pl_next(stage),
                 egress ? ZONE_SRC : ZONE_DST);
}

/* Tables sg_out / sg_in:
 *   BYPASS     invalid: drop; established or related: continue.
 *   ENTRY      new connection matching an allow rule: commit, continue.
 *   ENTRY - 1  the same for rules that name a group of several members,
 *              as conjunctive matches (conj_id flow and its clauses).
 *   MISS       drop. */
static void
build_security_groups(struct host_ctx *c, bool egress)
{
    enum pl_stage stage = egress ? PL_SG_OUT : PL_SG_IN;
    const char *zone = egress ? ZONE_SRC : ZONE_DST;
    const char *reg = egress ? REG_SRC_PORT : REG_DST_PORT;
    const char *peer = egress ? "nw_dst" : "nw_src";
    int next = pl_next(stage);

    pl_flow_add(c->fs, stage, PL_PRIO_BYPASS + 10, "pipeline",
                xstrdup("ct_state=+inv+trk"), xstrdup("drop"));
    pl_flow_addf(c->fs, stage, PL_PRIO_BYPASS, "pipeline",
                 "ct_state=-new+est+trk", "goto_table:%d", next);
    pl_flow_addf(c->fs, stage, PL_PRIO_BYPASS, "pipeline",
                 "ct_state=-new+rel+trk", "goto_table:%d", next);

    struct sg_conj conj = { SHASH_INITIALIZER(&conj.clauses),
                            HMAP_INITIALIZER(&conj.ids) };
    for (size_t i = 0; i < c->n_locals; i++) {
        const struct vpc_eni *e = c->locals[i].eni;
        char *accept = sg_accept_prefix(eni_logged(c, e),
                                        c->locals[i].ofport);
        for (size_t g = 0; g < e->n_sgs; g++) {
            const struct vpc_sg *sg = e->sgs[g];
            const struct vpc_sg_rule *rules = egress ? sg->egress
                                                     : sg->ingress;
            size_t n = egress ? sg->n_egress : sg->n_ingress;
            for (size_t k = 0; k < n; k++) {
                char *ref = xasprintf("%s %s[%"PRIuSIZE"]", sg->id,
                                      egress ? "egress" : "ingress", k);
                char **peers, **m;
                size_t np = sg_rule_peers(c, &rules[k], &peers);
                size_t nm = rule_matches(&rules[k].m, &m);
                int port = c->locals[i].ofport;
                size_t n_single = np;   /* Peers as plain flows. */
                if (rules[k].peer_sg && np > 1) {
                    char *key = xasprintf("%d %s", port, ref);
                    uint32_t id = sg_conj_id(&conj, key);
                    free(key);
                    pl_flow_add(c->fs, stage, PL_PRIO_ENTRY - 1, ref,
                                xasprintf("conj_id=%"PRIu32",ip", id),
                                xasprintf("%sct(commit,zone=%s),"
                                          "goto_table:%d", accept, zone,
                                          next));
                    for (size_t j = 0; j < nm; j++) {
                        sg_clause_add(&conj, ref, xasprintf(
                                          "ct_state=+new-est+trk,%s=%d%s",
                                          reg, port, m[j]), id, 1);
                    }
                    char *members = xasprintf("%s members",
                                              rules[k].peer_sg->id);
                    for (size_t p = 0; p < np; p++) {
                        sg_clause_add(&conj, members, xasprintf(
                                          "ct_state=+new-est+trk,ip,%s=%s",
                                          peer, peers[p]), id, 2);
                    }
                    free(members);
                    n_single = 0;
                }
                for (size_t p = 0; p < n_single; p++) {
                    for (size_t j = 0; j < nm; j++) {
                        pl_flow_add(
                            c->fs, stage, PL_PRIO_ENTRY, ref,
                            xasprintf("ct_state=+new-est+trk,%s=%d%s,%s=%s",
                                      reg, c->locals[i].ofport, m[j], peer,
                                      peers[p]),
                            xasprintf("%sct(commit,zone=%s),"
                                      "goto_table:%d", accept, zone, next));
                    }
                }
                free_strings(peers, np);
                free_strings(m, nm);
                free(ref);
            }
        }
        free(accept);
        if (eni_logged(c, e)) {
            sg_flow_log_flows(c, stage, reg, e, c->locals[i].ofport);
        }
    }
    sg_conj_flush(c, stage, &conj);
    pl_flow_add_miss_drop(c->fs, stage);
}

/* ------------------------------------------------------------------- route */

/* Sends a packet to ENI 'e': router MAC as source, the ENI's MAC as
 * destination, then local delivery (dst_lookup) or Geneve with the VPC's VNI
 * toward the ENI's host.  Used by flows-mode mapping entries and, in action
 * mode, by routes whose target is an ENI (appliance). */
static char *
eni_delivery_actions(const struct host_ctx *c, enum pl_stage from,
                     const struct vpc_eni *e)
{
    const struct vpc_vpc *vpc = e->subnet->vpc;
    struct eth_addr rmac = pl_router_mac(vpc);
    char *macs = xasprintf("set_field:"ETH_ADDR_FMT"->eth_dst,"
                           "set_field:"ETH_ADDR_FMT"->eth_src",
                           ETH_ADDR_ARGS(e->mac), ETH_ADDR_ARGS(rmac));
    char *actions;
    if (e->host == c->host) {
        actions = xasprintf("%s,goto_table:%d", macs,
                            pl_goto_table(from, PL_DST_LOOKUP));
    } else {
        char *hip = vpc_ip_to_string(e->host->underlay_ip);
        actions = xasprintf("%s,set_field:%"PRIu32"->tun_id,"
                            "set_field:%s->tun_dst,output:%d", macs,
                            vpc->vni, hip, c->cfg->tunnel_ofport);
        free(hip);
    }
    free(macs);
    return actions;
}

/* Priority of a route (pipeline.h). */
int
pl_route_priority(const struct vpc_vpc *vpc, int plen,
                  enum vpc_route_origin origin)
{
    static const int aws[] = {
        [VPC_ORIGIN_SYSTEM] = 3, [VPC_ORIGIN_STATIC] = 2,
        [VPC_ORIGIN_PROPAGATED] = 1 };
    static const int azure[] = {
        [VPC_ORIGIN_STATIC] = 3, [VPC_ORIGIN_PROPAGATED] = 2,
        [VPC_ORIGIN_SYSTEM] = 1 };
    int rank = vpc->precedence == VPC_PREC_AZURE ? azure[origin]
                                                 : aws[origin];
    return PL_PRIO_ROUTE_BASE + plen * 10 + rank;
}

/* The actions of a route to 'rt' from a route table of 'vpc'. */
static char *
route_actions(const struct host_ctx *c, const struct vpc_vpc *vpc,
              const struct vpc_route *rt)
{
    /* In ACTION mode the next hop stays in the packet (nw_dst): copying
     * it into a register would make the datapath flow match it. */
    bool action = c->cfg->mapping == PL_MAP_ACTION;
    const char *to_nexthop = action ? ""
                                    : "move:NXM_OF_IP_DST[]->"NXM_NEXTHOP",";
    switch (rt->kind) {
    case VPC_TGT_LOCAL:
        return xasprintf("%sdec_ttl,goto_table:%d", to_nexthop, NEXT(ROUTE));
    case VPC_TGT_BLACKHOLE:
        return xstrdup("drop");
    case VPC_TGT_ENI:
        if (action) {
            /* The appliance is not the packet's destination: deliver to
             * it directly, as the flows-mode mapping entry would. */
            char *to = eni_delivery_actions(c, PL_ROUTE, rt->eni);
            char *a = xasprintf("dec_ttl,%s", to);
            free(to);
            return a;
        }
        return xasprintf("set_field:0x%08"PRIx32"->"REG_NEXTHOP",dec_ttl,"
                         "goto_table:%d", rt->eni->ip, NEXT(ROUTE));
    case VPC_TGT_PEERING: {
        const struct vpc_vpc *peer = vpc_peering_other(rt->peering, vpc);
        return xasprintf("set_field:%"PRIu32"->"REG_VNI",%sdec_ttl,"
                         "goto_table:%d", peer->vni, to_nexthop, NEXT(ROUTE));
    }
    VPC_TGT_GATEWAY_CASES {
        /* To the edge, with the gateway's reserved VNI: the edge learns
         * the VPC and the gateway from it (docs/pipeline.md). */
        struct eth_addr rmac = pl_router_mac(vpc);
        char *edge = vpc_ip_to_string(rt->gateway->edge->underlay_ip);
        char *a = xasprintf("dec_ttl,set_field:"ETH_ADDR_FMT"->eth_src,"
                            "set_field:%"PRIu32"->tun_id,"
                            "set_field:%s->tun_dst,output:%d",
                            ETH_ADDR_ARGS(rmac), pl_gateway_vni(c->r, rt->gateway), edge,
                            c->cfg->tunnel_ofport);
        free(edge);
        return a;
    }
    }
    OVS_NOT_REACHED();
}

static void
add_route(struct host_ctx *c, uint32_t rtb, const struct vpc_vpc *vpc,
          const struct vpc_prefix *dst, const struct vpc_route *rt,
          const char *ref)
{
    char *pfx = prefix_s(dst);
    pl_flow_add(c->fs, PL_ROUTE, pl_route_priority(vpc, dst->plen,
                                                   rt->origin),
                ref, xasprintf(REG_RTB"=0x%08"PRIx32",ip,nw_dst=%s", rtb,
                               pfx),
                route_actions(c, vpc, rt));
    free(pfx);
}

/* Table route:
 *   BYPASS              destination in the source subnet: not routed (no
 *                       TTL decrement, no route table), to mapping.
 *   ROUTE_BASE + ...    local routes of each VPC block and the table's
 *                       routes, longest prefix first.
 *   MISS                no route: drop. */
static void
build_routes(struct host_ctx *c)
{
    const struct vpc_region *r = c->r;
    for (size_t i = 0; i < r->n_subnets; i++) {
        const struct vpc_subnet *s = &r->subnets[i];
        if (!c->subnet_local[i]) {
            continue;
        }
        char *cidr = prefix_s(&s->cidr);
        pl_flow_add(c->fs, PL_ROUTE, PL_PRIO_BYPASS, s->id,
                    xasprintf(REG_SRC_SUBNET"=0x%08"PRIx32",ip,nw_dst=%s",
                              subnet_num(s), cidr),
                    xasprintf("%sgoto_table:%d",
                              c->cfg->mapping == PL_MAP_ACTION
                              ? "" : "move:NXM_OF_IP_DST[]->"NXM_NEXTHOP",",
                              NEXT(ROUTE)));
        free(cidr);

        /* Local routes of the subnet's table (or implicit table). */
        const struct vpc_vpc *vpc = s->vpc;
        const struct vpc_route local = {
            .kind = VPC_TGT_LOCAL, .origin = VPC_ORIGIN_SYSTEM };
        char *ref = xasprintf("%s local", vpc->id);
        for (size_t b = 0; b < vpc->n_blocks; b++) {
            add_route(c, rtb_num(s), vpc, &vpc->blocks[b], &local, ref);
        }
        free(ref);
    }

    for (size_t i = 0; i < r->n_route_tables; i++) {
        const struct vpc_route_table *rtb = &r->route_tables[i];
        if (!c->rtb_used[i]) {
            continue;
        }
        uint32_t num = pl_id_hash(rtb->id);
        for (size_t k = 0; k < rtb->n_routes; k++) {
            const struct vpc_route *rt = &rtb->routes[k];
            char *ref = xasprintf("%s routes[%"PRIuSIZE"]", rtb->id,
                                  rt->index);
            if (rt->prefix_list) {
                for (size_t p = 0; p < rt->prefix_list->n_cidrs; p++) {
                    add_route(c, num, rtb->vpc, &rt->prefix_list->cidrs[p],
                              rt, ref);
                }
            } else {
                add_route(c, num, rtb->vpc, &rt->dst, rt, ref);
            }
            free(ref);
        }
    }
    pl_flow_add_miss_drop(c->fs, PL_ROUTE);
}

/* ----------------------------------------------------------------- mapping */

static const struct local_eni *
find_local(const struct host_ctx *c, const struct vpc_eni *e)
{
    for (size_t i = 0; i < c->n_locals; i++) {
        if (c->locals[i].eni == e) {
            return &c->locals[i];
        }
    }
    return NULL;
}

/* Table mapping, flows mode, priority ENTRY: one flow per ENI of every VPC
 * in scope, with the actions of eni_delivery_actions().  MISS: drop
 * (unknown next hop). */
static void
build_mapping_flows(struct host_ctx *c)
{
    for (size_t i = 0; i < c->r->n_enis; i++) {
        const struct vpc_eni *e = &c->r->enis[i];
        const struct vpc_vpc *vpc = e->subnet->vpc;
        if (!c->vpc_in_scope[vpc_index(c, vpc)]) {
            continue;
        }
        pl_flow_add(c->fs, PL_MAPPING, PL_PRIO_ENTRY, e->id,
                    xasprintf(REG_VNI"=%"PRIu32","REG_NEXTHOP"=0x%08"PRIx32,
                              vpc->vni, e->ip),
                    eni_delivery_actions(c, PL_MAPPING, e));
    }
    pl_flow_add_miss_drop(c->fs, PL_MAPPING);
}

/* A host other than this one, for vpc_encap's header template: any host on
 * the same underlay will do (docs/pipeline.md). */
static const struct vpc_host *
encap_hint(const struct host_ctx *c)
{
    for (size_t i = 0; i < c->r->n_hosts; i++) {
        if (&c->r->hosts[i] != c->host) {
            return &c->r->hosts[i];
        }
    }
    return c->r->n_edges ? &c->r->edges[0] : NULL;
}

/* Table mapping, action mode, priority ENTRY: one flow per VPC in scope:
 * set the router MAC and the VNI, vpc_encap.  MISS: drop. */
static void
build_mapping_action(struct host_ctx *c)
{
    const struct vpc_host *hint = encap_hint(c);
    for (size_t v = 0; hint && v < c->r->n_vpcs; v++) {
        const struct vpc_vpc *vpc = &c->r->vpcs[v];
        if (!c->vpc_in_scope[v]) {
            continue;
        }
        struct eth_addr rmac = pl_router_mac(vpc);
        char *hip = vpc_ip_to_string(hint->underlay_ip);
        char *ref = xasprintf("%s mapping", vpc->id);
        pl_flow_add(c->fs, PL_MAPPING, PL_PRIO_ENTRY, ref,
                    xasprintf(REG_VNI"=%"PRIu32",ip", vpc->vni),
                    xasprintf("set_field:"ETH_ADDR_FMT"->eth_src,"
                              "set_field:%"PRIu32"->tun_id,"
                              "vpc_encap(port=%d,hint=%s)",
                              ETH_ADDR_ARGS(rmac), vpc->vni,
                              c->cfg->tunnel_ofport, hip));
        free(ref);
        free(hip);
    }
    pl_flow_add_miss_drop(c->fs, PL_MAPPING);
}

/* ------------------------------------------------------------ receive path */

/* Table rx_verify:
 *   ENTRY    (VNI, outer source, inner source) of a remote ENI of the VPC or
 *            of a VPC peered with it: load the VNI, to dst_lookup.
 *   DEFAULT  from a host that holds an ENI of the VPC with source/dest
 *            check off: any inner source (it forwards for others).
 *   MISS     drop: spoofed or unknown source. */
/* Table rx_verify, priority ENTRY + 1: traffic of a present VPC from an
 * edge that implements one of its gateways (internet, NAT, Direct Connect
 * replies): any inner source; the edge verified it or translated it. */
static void
build_rx_from_edges(struct host_ctx *c)
{
    const struct vpc_region *r = c->r;
    for (size_t i = 0; i < r->n_gateways; i++) {
        const struct vpc_gateway *gw = &r->gateways[i];
        if (!c->vpc_present[vpc_index(c, gw->vpc)]) {
            continue;
        }
        char *eip = vpc_ip_to_string(gw->edge->underlay_ip);
        pl_flow_add(c->fs, PL_RX_VERIFY, PL_PRIO_ENTRY + 1, gw->edge->id,
                    xasprintf("tun_id=%"PRIu32",tun_src=%s,ip",
                              gw->vpc->vni, eip),
                    xasprintf("set_field:%"PRIu32"->"REG_VNI","
                              "goto_table:%d", gw->vpc->vni, NEXT(RX_VERIFY)));
        free(eip);
    }
}

static void
build_rx_verify_action(struct host_ctx *c)
{
    const struct vpc_region *r = c->r;
    for (size_t v = 0; v < r->n_vpcs; v++) {
        const struct vpc_vpc *vpc = &r->vpcs[v];
        if (!c->vpc_present[v]) {
            continue;
        }
        char *ref = xasprintf("%s verify", vpc->id);
        pl_flow_add(c->fs, PL_RX_VERIFY, PL_PRIO_DEFAULT, ref,
                    xasprintf("tun_id=%"PRIu32",ip", vpc->vni),
                    xasprintf("set_field:%"PRIu32"->"REG_VNI",vpc_verify,"
                              "goto_table:%d", vpc->vni, NEXT(RX_VERIFY)));
        free(ref);
        /* Hosts of ENIs with source/dest check off send any inner source
         * (this host too: its local traffic loops back through here). */
        for (size_t i = 0; i < r->n_enis; i++) {
            const struct vpc_eni *e = &r->enis[i];
            if (e->subnet->vpc != vpc || e->source_dest_check) {
                continue;
            }
            char *hip = vpc_ip_to_string(e->host->underlay_ip);
            pl_flow_add(c->fs, PL_RX_VERIFY, PL_PRIO_ENTRY, e->id,
                        xasprintf("tun_id=%"PRIu32",tun_src=%s,ip",
                                  vpc->vni, hip),
                        xasprintf("set_field:%"PRIu32"->"REG_VNI","
                                  "goto_table:%d", vpc->vni,
                                  NEXT(RX_VERIFY)));
            free(hip);
        }
    }
    pl_flow_add_miss_drop(c->fs, PL_RX_VERIFY);
}

static void
build_rx_verify(struct host_ctx *c)
{
    const struct vpc_region *r = c->r;
    for (size_t v = 0; v < r->n_vpcs; v++) {
        const struct vpc_vpc *vpc = &r->vpcs[v];
        if (!c->vpc_present[v]) {
            continue;
        }
        for (size_t i = 0; i < r->n_enis; i++) {
            const struct vpc_eni *e = &r->enis[i];
            const struct vpc_vpc *evpc = e->subnet->vpc;
            if (e->host == c->host) {
                continue;
            }
            bool peered = false;
            for (size_t p = 0; p < vpc->n_peerings; p++) {
                peered |= vpc_peering_other(vpc->peerings[p], vpc) == evpc;
            }
            if (evpc != vpc && !peered) {
                continue;
            }
            char *hip = vpc_ip_to_string(e->host->underlay_ip);
            char *ip = vpc_ip_to_string(e->ip);
            char *actions = xasprintf("set_field:%"PRIu32"->"REG_VNI","
                                      "goto_table:%d", vpc->vni,
                                      NEXT(RX_VERIFY));
            pl_flow_add(c->fs, PL_RX_VERIFY, PL_PRIO_ENTRY, e->id,
                        xasprintf("tun_id=%"PRIu32",tun_src=%s,ip,nw_src=%s",
                                  vpc->vni, hip, ip),
                        xstrdup(actions));
            if (!e->source_dest_check && evpc == vpc) {
                pl_flow_add(c->fs, PL_RX_VERIFY, PL_PRIO_DEFAULT, e->id,
                            xasprintf("tun_id=%"PRIu32",tun_src=%s,ip",
                                      vpc->vni, hip),
                            xstrdup(actions));
            }
            free(actions);
            free(ip);
            free(hip);
        }
    }
    pl_flow_add_miss_drop(c->fs, PL_RX_VERIFY);
}

/* Table dst_lookup, priority ENTRY: (VNI, ENI MAC[, ENI IP]) of each plugged
 * ENI: load its port and subnet, to nacl_in.  MISS: drop. */
static void
build_dst_lookup(struct host_ctx *c)
{
    for (size_t i = 0; i < c->n_locals; i++) {
        const struct vpc_eni *e = c->locals[i].eni;
        char *ip = vpc_ip_to_string(e->ip);
        char *dst_ip = e->source_dest_check ? xasprintf(",nw_dst=%s", ip)
                                            : xstrdup("");
        pl_flow_add(c->fs, PL_DST_LOOKUP, PL_PRIO_ENTRY, e->id,
                    xasprintf(REG_VNI"=%"PRIu32",ip,dl_dst="ETH_ADDR_FMT"%s",
                              e->subnet->vpc->vni, ETH_ADDR_ARGS(e->mac),
                              dst_ip),
                    xasprintf("set_field:%d->"REG_DST_PORT","
                              "set_field:0x%08"PRIx32"->"REG_DST_SUBNET","
                              "goto_table:%d",
                              c->locals[i].ofport, subnet_num(e->subnet),
                              NEXT(DST_LOOKUP)));
        free(dst_ip);
        free(ip);
    }
    pl_flow_add_miss_drop(c->fs, PL_DST_LOOKUP);
}

/* Table deliver, priority ENTRY: output to the ENI's port.  An appliance
 * (source/dest check off) can be routed its own packets back (a route whose
 * target is the sender): OpenFlow skips "output" to the input port, so at
 * ENTRY + 1 that case sends with "IN_PORT".  MISS: drop. */
static void
build_deliver(struct host_ctx *c)
{
    for (size_t i = 0; i < c->n_locals; i++) {
        int port = c->locals[i].ofport;
        pl_flow_add(c->fs, PL_DELIVER, PL_PRIO_ENTRY, c->locals[i].eni->id,
                    xasprintf(REG_DST_PORT"=%d", port),
                    xasprintf("output:%d", port));
        if (!c->locals[i].eni->source_dest_check) {
            pl_flow_add(c->fs, PL_DELIVER, PL_PRIO_ENTRY + 1,
                        c->locals[i].eni->id,
                        xasprintf(REG_DST_PORT"=%d,in_port=%d", port, port),
                        xstrdup("IN_PORT"));
        }
    }
    pl_flow_add_miss_drop(c->fs, PL_DELIVER);
}

/* ----------------------------------------------------------------- compile */

static char *
host_ctx_init(struct host_ctx *c, const struct vpc_region *r,
              const struct pl_host_config *cfg, struct pl_flows *fs)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    c->cfg = cfg;
    c->fs = fs;
    c->host = vpc_region_find_host(r, cfg->host_id);
    if (!c->host || c->host->is_edge) {
        return xasprintf("%s: no host has this id", cfg->host_id);
    }
    c->vpc_present = xcalloc(r->n_vpcs + 1, sizeof *c->vpc_present);
    c->vpc_in_scope = xcalloc(r->n_vpcs + 1, sizeof *c->vpc_in_scope);
    c->subnet_local = xcalloc(r->n_subnets + 1, sizeof *c->subnet_local);
    c->rtb_used = xcalloc(r->n_route_tables + 1, sizeof *c->rtb_used);
    c->locals = xcalloc(cfg->n_bindings + 1, sizeof *c->locals);

    for (size_t i = 0; i < cfg->n_bindings; i++) {
        const struct pl_binding *b = &cfg->bindings[i];
        const struct vpc_eni *e = vpc_region_find_eni(r, b->eni_id);
        if (!e || e->host != c->host) {
            continue;           /* Bound to a port, but not ours (now). */
        }
        if (b->ofport <= 0 || b->ofport > 0xfeff
            || b->ofport == cfg->tunnel_ofport
            || b->ofport == cfg->metadata_ofport) {
            return xasprintf("%s: ofport %d cannot carry an ENI", b->eni_id,
                             b->ofport);
        }
        if (find_local(c, e)) {
            return xasprintf("%s: bound to two ports", b->eni_id);
        }
        c->locals[c->n_locals].eni = e;
        c->locals[c->n_locals].ofport = b->ofport;
        c->n_locals++;
    }
    for (size_t i = 0; i < r->n_enis; i++) {
        const struct vpc_eni *e = &r->enis[i];
        if (e->host == c->host) {
            /* A VPC is present as soon as one ENI is placed here, even if
             * it is not plugged yet: it receives for it. */
            c->vpc_present[vpc_index(c, e->subnet->vpc)] = true;
        }
    }
    for (size_t i = 0; i < c->n_locals; i++) {
        const struct vpc_subnet *s = c->locals[i].eni->subnet;
        c->subnet_local[s - r->subnets] = true;
        if (s->route_table) {
            c->rtb_used[s->route_table - r->route_tables] = true;
        }
    }
    for (size_t v = 0; v < r->n_vpcs; v++) {
        if (!c->vpc_present[v]) {
            continue;
        }
        const struct vpc_vpc *vpc = &r->vpcs[v];
        c->vpc_in_scope[v] = true;
        for (size_t p = 0; p < vpc->n_peerings; p++) {
            const struct vpc_vpc *o = vpc_peering_other(vpc->peerings[p],
                                                        vpc);
            c->vpc_in_scope[vpc_index(c, o)] = true;
        }
    }
    return NULL;
}

static void
host_ctx_destroy(struct host_ctx *c)
{
    free(c->vpc_present);
    free(c->vpc_in_scope);
    free(c->subnet_local);
    free(c->rtb_used);
    free(c->locals);
}

/* Subnet and route-table numbers are id hashes; two objects of one host
 * that hash alike would share flows.  Refuse rather than mis-forward. */
static char *
check_numbering(const struct host_ctx *c)
{
    const struct vpc_region *r = c->r;
    size_t n = 0;
    struct { uint32_t num; const char *id; } *v;
    v = xmalloc((r->n_subnets * 2 + r->n_vpcs + 1) * sizeof *v);
    for (size_t i = 0; i < r->n_subnets; i++) {
        if (c->subnet_local[i]) {
            v[n].num = subnet_num(&r->subnets[i]);
            v[n++].id = r->subnets[i].id;
            v[n].num = rtb_num(&r->subnets[i]);
            v[n++].id = (r->subnets[i].route_table
                         ? r->subnets[i].route_table->id
                         : r->subnets[i].vpc->id);
        }
    }
    char *error = NULL;
    for (size_t i = 0; i < n && !error; i++) {
        for (size_t j = 0; j < i && !error; j++) {
            if (v[i].num == v[j].num && strcmp(v[i].id, v[j].id)) {
                error = xasprintf("ids %s and %s hash to the same register "
                                  "value; rename one", v[i].id, v[j].id);
            }
        }
    }
    free(v);
    return error;
}

/* One builder per stage, in stages.def order; pl_compile_host() runs those
 * of the stages a host bridge builds. */
static void build_nacl_out(struct host_ctx *c) { build_nacl(c, true); }
static void build_nacl_in(struct host_ctx *c) { build_nacl(c, false); }
static void build_sg_out_ct(struct host_ctx *c) { build_sg_ct(c, true); }
static void build_sg_in_ct(struct host_ctx *c) { build_sg_ct(c, false); }
static void build_sg_out(struct host_ctx *c)
{
    build_security_groups(c, true);
}
static void build_sg_in(struct host_ctx *c)
{
    build_security_groups(c, false);
}

static void
build_mapping(struct host_ctx *c)
{
    if (c->cfg->mapping == PL_MAP_ACTION) {
        build_mapping_action(c);
    } else {
        build_mapping_flows(c);
    }
}

static void
build_rx(struct host_ctx *c)
{
    if (c->cfg->mapping == PL_MAP_ACTION) {
        build_rx_verify_action(c);
    } else {
        build_rx_verify(c);
    }
    build_rx_from_edges(c);
}

static void (*const host_builders[PL_N_STAGES])(struct host_ctx *) = {
    [PL_CLASSIFY] = build_classify,
    [PL_SVC_RETURN] = build_svc_return,
    [PL_PORT_SEC] = build_port_security,
    [PL_SERVICES] = build_services,
    [PL_METADATA] = build_metadata,
    [PL_VROUTER] = build_vrouter,
    [PL_NACL_OUT] = build_nacl_out,
    [PL_SG_OUT_CT] = build_sg_out_ct,
    [PL_SG_OUT] = build_sg_out,
    [PL_ROUTE] = build_routes,
    [PL_MAPPING] = build_mapping,
    [PL_RX_VERIFY] = build_rx,
    [PL_DST_LOOKUP] = build_dst_lookup,
    [PL_NACL_IN] = build_nacl_in,
    [PL_SG_IN_CT] = build_sg_in_ct,
    [PL_SG_IN] = build_sg_in,
    [PL_DELIVER] = build_deliver,
};

static char *
compile_host(const struct vpc_region *r, const struct pl_host_config *cfg,
             const bool *stages, struct pl_flows *fs)
{
    const struct vpc_host *edge = vpc_region_find_host(r, cfg->host_id);
    if (edge && edge->is_edge) {
        return (stages ? xstrdup("an edge has no partial compile")
                       : pl_compile_edge(r, edge, cfg, fs));
    }

    struct host_ctx c;
    char *error = host_ctx_init(&c, r, cfg, fs);
    if (!error) {
        error = check_numbering(&c);
    }
    if (!error && cfg->mapping == PL_MAP_ACTION && !encap_hint(&c)) {
        error = xstrdup("mapping mode \"action\" needs another host or an "
                        "edge in the region (vpc_encap builds its header "
                        "template toward one)");
    }
    for (int s = 0; !error && s < PL_N_STAGES; s++) {
        if (pl_stage_on(s, PL_BR_HOST) && (!stages || stages[s])) {
            ovs_assert(host_builders[s]);
            host_builders[s](&c);
        }
    }
    if (!error && fs->error) {
        error = xstrdup(fs->error);
    }
    host_ctx_destroy(&c);
    return error;
}

char *
pl_compile_host(const struct vpc_region *r, const struct pl_host_config *cfg,
                struct pl_flows *fs)
{
    return compile_host(r, cfg, NULL, fs);
}

char *
pl_compile_host_stages(const struct vpc_region *r,
                       const struct pl_host_config *cfg,
                       const bool stages[PL_N_STAGES],
                       const struct pl_flows *old, struct pl_flows *fs)
{
    char *error = compile_host(r, cfg, stages, fs);
    if (!error) {
        pl_flows_copy_except(old, stages, fs);
        if (fs->error) {
            error = xstrdup(fs->error);
        }
    }
    return error;
}

/* ---------------------------------------------------------- cache entries */

static void
add_entry(struct pl_mapping_entry **v, size_t *n, size_t *allocated,
          uint32_t vni, const struct vpc_eni *e)
{
    if (*n >= *allocated) {
        *v = x2nrealloc(*v, allocated, sizeof **v);
    }
    (*v)[(*n)++] = (struct pl_mapping_entry) {
        .vni = vni, .ip = e->ip, .underlay = e->host->underlay_ip,
        .mac = e->mac,
    };
}

char *
pl_mapping_entries(const struct vpc_region *r,
                   const struct pl_host_config *cfg,
                   struct pl_mapping_entry **entries, size_t *n)
{
    struct pl_flows unused;
    struct host_ctx c;
    size_t allocated = 0;

    *entries = NULL;
    *n = 0;
    const struct vpc_host *h = vpc_region_find_host(r, cfg->host_id);
    if (h && h->is_edge) {
        return NULL;            /* The edge bridge uses no cache. */
    }
    pl_flows_init(&unused);
    char *error = host_ctx_init(&c, r, cfg, &unused);
    if (!error) {
        for (size_t i = 0; i < r->n_enis; i++) {
            const struct vpc_eni *e = &r->enis[i];
            const struct vpc_vpc *vpc = e->subnet->vpc;
            if (!c.vpc_in_scope[vpc_index(&c, vpc)]) {
                continue;
            }
            add_entry(entries, n, &allocated, vpc->vni, e);
            for (size_t p = 0; p < vpc->n_peerings; p++) {
                const struct vpc_vpc *peer
                    = vpc_peering_other(vpc->peerings[p], vpc);
                if (c.vpc_present[vpc_index(&c, peer)]) {
                    add_entry(entries, n, &allocated, peer->vni, e);
                }
            }
        }
    }
    host_ctx_destroy(&c);
    pl_flows_destroy(&unused);
    return error;
}
