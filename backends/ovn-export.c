/* backends/ovn-export.c: the region as one OVN Northbound transaction.
 *
 * The output is an ovsdb-client transact argument, ["OVN_Northbound", op...],
 * made only of "insert" operations with named-uuid references between them,
 * children before parents.  It is meant for an empty NB database: it does
 * not look at or delete what is already there.  docs/ovn.md has the mapping
 * and the list of what is not exported.
 *
 * Mapping, in short:
 *   VPC            -> Logical_Router (name = VPC id)
 *   subnet         -> Logical_Switch (name = subnet id) + Logical_Router_Port
 *                     "lrp-SUBNET" (router IP/plen, router MAC) + switch port
 *                     "rtr-SUBNET" of type "router"
 *   ENI            -> Logical_Switch_Port (name = ENI id), addresses and
 *                     port_security "MAC IP"
 *   security group -> Port_Group pg_ID + allow-related ACLs + default drops;
 *                     a referenced group also gets Address_Set as_ID
 *   route table    -> Logical_Router_Static_Route with route_table = id,
 *                     options:route_table on its subnets' router ports
 *   peering        -> a pair of peered router ports on 169.254.0.0/16 /30s
 *   elastic IP     -> NAT dnat_and_snat
 *   subnet's DHCP  -> DHCP_Options per subnet (the VPC's DHCP options set
 *                     or the defaults), every ENI port's dhcpv4_options
 *
 * Every row carries external_ids:ovs-vpc-id, the intent it comes from. */

#include <config.h>

#include "backends/ovn-export.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "packets.h"
#include "pipeline/pipeline.h"
#include "util.h"

/* Priorities of the security-group ACLs (as OpenStack Neutron's). */
#define ACL_PRIO_ALLOW 1002
#define ACL_PRIO_DROP  1001
/* Network ACLs: rule N at 32767 - N (the lowest number wins). */
#define ACL_PRIO_NACL_TOP 32767

/* The edge's stand-in: one gateway router per VPC with gateways, linked to
 * the VPC's router by a /30 at 100.64.0.0 + 4 * (VPC index) (.1 the VPC's
 * side, .2 the gateway router's), and to its edge's external switch
 * (198.18.0.0/15, the next hop out 198.18.0.1) at 198.18.0.2 + index. */
#define GW_TRANSIT_BASE 0x64400000u
#define EXT_NET_BASE    0xc6120000u
#define EXT_NET_PLEN    15
#define GW_MAX          (1u << 17)

/* Transit network of peering connection #i: 169.254.0.0 + 4i, /30. */
#define PCX_TRANSIT_BASE 0xa9fe0000u
#define PCX_MAX 16384

static struct json *
named_uuid(const char *fmt, ...) OVS_PRINTF_FORMAT(1, 2);

static struct json *
named_uuid(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *name = xvasprintf(fmt, args);
    va_end(args);

    struct json *j = json_array_create_2(json_string_create("named-uuid"),
                                         json_string_create(name));
    free(name);
    return j;
}

static struct json *
set_of(struct json *array)
{
    return json_array_create_2(json_string_create("set"), array);
}

/* ["map", [["ovs-vpc-id", ID]]], plus one more pair if 'k2' is nonnull. */
static struct json *
map_2(const char *k1, const char *v1, const char *k2, const char *v2)
{
    struct json *pairs = json_array_create_empty();
    json_array_add(pairs, json_array_create_2(json_string_create(k1),
                                              json_string_create(v1)));
    if (k2) {
        json_array_add(pairs, json_array_create_2(json_string_create(k2),
                                                  json_string_create(v2)));
    }
    return json_array_create_2(json_string_create("map"), pairs);
}

static struct json *
ext_ids(const char *id)
{
    return map_2("ovs-vpc-id", id, NULL, NULL);
}

static void
insert(struct json *ops, const char *table, struct json *uuid_name,
       struct json *row)
{
    struct json *op = json_object_create();
    json_object_put_string(op, "op", "insert");
    json_object_put_string(op, "table", table);
    json_object_put_string(op, "uuid-name",
                           json_string(json_array(uuid_name)->elems[1]));
    json_object_put(op, "row", row);
    json_array_add(ops, op);
    json_destroy(uuid_name);
}

/* An OVN identifier (port group, address set) for object 'id'. */
static char *
ovn_ident(const char *prefix, const char *id)
{
    char *s = xasprintf("%s_%s", prefix, id);
    for (char *p = s; *p; p++) {
        if (!isalnum((unsigned char) *p) && *p != '_') {
            *p = '_';
        }
    }
    return s;
}

static char *
mac_str(struct eth_addr mac)
{
    return xasprintf(ETH_ADDR_FMT, ETH_ADDR_ARGS(mac));
}

static size_t
index_of_vpc(const struct vpc_region *r, const struct vpc_vpc *vpc)
{
    return vpc - r->vpcs;
}

/* The transit address of 'vpc''s side of peering #i. */
static uint32_t
pcx_ip(const struct vpc_peering *pcx, size_t i, const struct vpc_vpc *vpc)
{
    return PCX_TRANSIT_BASE + 4 * i + (vpc == pcx->requester ? 1 : 2);
}

static char *
pcx_lrp_name(const struct vpc_peering *pcx, const struct vpc_vpc *vpc)
{
    return xasprintf("lrp-%s-%s", pcx->id, vpc->id);
}

static void put_l4_match(struct ds *, const struct vpc_rule_match *);

/* By VPC index, the edge that stands behind the VPC's gateway router (the
 * edge of its first gateway with one), or NULL if the VPC needs no gateway
 * router: no route to a gateway, no elastic IP.  One pass over the region;
 * free() the result. */
static const struct vpc_host **
gateway_edges(const struct vpc_region *r)
{
    bool *needed = xcalloc(r->n_vpcs + 1, sizeof *needed);
    for (size_t t = 0; t < r->n_route_tables; t++) {
        const struct vpc_route_table *rt = &r->route_tables[t];
        for (size_t j = 0; j < rt->n_routes; j++) {
            needed[index_of_vpc(r, rt->vpc)]
                |= vpc_target_is_gateway(rt->routes[j].kind);
        }
    }
    for (size_t e = 0; e < r->n_enis; e++) {
        needed[index_of_vpc(r, r->enis[e].subnet->vpc)]
            |= r->enis[e].has_elastic_ip;
    }
    const struct vpc_host **edges = xcalloc(r->n_vpcs + 1, sizeof *edges);
    for (size_t g = 0; g < r->n_gateways; g++) {
        size_t v = index_of_vpc(r, r->gateways[g].vpc);
        if (needed[v] && !edges[v]) {
            edges[v] = r->gateways[g].edge;
        }
    }
    free(needed);
    return edges;
}

/* Item indexes grouped by a key index (CSR): the items of key k are
 * items[start[k]] .. items[start[k + 1] - 1], in increasing order. */
struct bucket {
    size_t *start;
    size_t *items;
};

struct pair {
    size_t key, item;
};

/* Builds 'b' over 'n_keys' keys from the 'n' pairs (counting sort). */
static void
bucket_init(struct bucket *b, size_t n_keys, const struct pair *pairs,
            size_t n)
{
    b->start = xcalloc(n_keys + 2, sizeof *b->start);
    b->items = xmalloc((n + 1) * sizeof *b->items);
    for (size_t i = 0; i < n; i++) {
        b->start[pairs[i].key + 2]++;
    }
    for (size_t k = 2; k < n_keys + 2; k++) {
        b->start[k] += b->start[k - 1];
    }
    for (size_t i = 0; i < n; i++) {
        b->items[b->start[pairs[i].key + 1]++] = pairs[i].item;
    }
}

static void
bucket_destroy(struct bucket *b)
{
    free(b->start);
    free(b->items);
}

#define BUCKET_FOR_EACH(ITEM, B, KEY)                                   \
    for (size_t i_##ITEM = (B)->start[KEY], ITEM;                       \
         i_##ITEM < (B)->start[(KEY) + 1]                               \
             && ((ITEM) = (B)->items[i_##ITEM], true);                  \
         i_##ITEM++)

/* What the export looks up per object, computed once (a region of 100,000
 * ENIs would otherwise be scanned per subnet and per group). */
struct export_ctx {
    const struct vpc_region *r;
    const struct vpc_host **edges;      /* By VPC: gateway_edges(). */
    struct bucket subnets_by_vpc;
    struct bucket enis_by_subnet;
    struct bucket rtbs_by_vpc;
    struct bucket enis_by_sg;
    bool *sg_referenced;                /* By SG: named by some rule. */
};

static void
export_ctx_init(struct export_ctx *x, const struct vpc_region *r)
{
    x->r = r;
    x->edges = gateway_edges(r);

    size_t n = r->n_subnets + r->n_enis + r->n_route_tables;
    for (size_t e = 0; e < r->n_enis; e++) {
        n += r->enis[e].n_sgs;
    }
    struct pair *p = xmalloc((n + 1) * sizeof *p);

    for (size_t s = 0; s < r->n_subnets; s++) {
        p[s] = (struct pair) { index_of_vpc(r, r->subnets[s].vpc), s };
    }
    bucket_init(&x->subnets_by_vpc, r->n_vpcs, p, r->n_subnets);
    for (size_t e = 0; e < r->n_enis; e++) {
        p[e] = (struct pair) { r->enis[e].subnet - r->subnets, e };
    }
    bucket_init(&x->enis_by_subnet, r->n_subnets, p, r->n_enis);
    for (size_t t = 0; t < r->n_route_tables; t++) {
        p[t] = (struct pair) { index_of_vpc(r, r->route_tables[t].vpc), t };
    }
    bucket_init(&x->rtbs_by_vpc, r->n_vpcs, p, r->n_route_tables);
    size_t k = 0;
    for (size_t e = 0; e < r->n_enis; e++) {
        for (size_t g = 0; g < r->enis[e].n_sgs; g++) {
            p[k++] = (struct pair) { r->enis[e].sgs[g] - r->sgs, e };
        }
    }
    bucket_init(&x->enis_by_sg, r->n_sgs, p, k);
    free(p);

    x->sg_referenced = xcalloc(r->n_sgs + 1, sizeof *x->sg_referenced);
    for (size_t i = 0; i < r->n_sgs; i++) {
        const struct vpc_sg *g = &r->sgs[i];
        for (size_t j = 0; j < g->n_ingress + g->n_egress; j++) {
            const struct vpc_sg_rule *rule = (j < g->n_ingress
                                              ? &g->ingress[j]
                                              : &g->egress[j - g->n_ingress]);
            if (rule->peer_sg) {
                x->sg_referenced[rule->peer_sg - r->sgs] = true;
            }
        }
    }
}

static void
export_ctx_destroy(struct export_ctx *x)
{
    free(x->edges);
    bucket_destroy(&x->subnets_by_vpc);
    bucket_destroy(&x->enis_by_subnet);
    bucket_destroy(&x->rtbs_by_vpc);
    bucket_destroy(&x->enis_by_sg);
    free(x->sg_referenced);
}

/* The ACL match of a security-group rule, seen from port group 'pg'. */
static char *
sg_rule_match(const char *pg, const struct vpc_sg_rule *rule, bool ingress)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    const char *peer = ingress ? "ip4.src" : "ip4.dst";

    ds_put_format(&s, "%s == @%s && ip4", ingress ? "outport" : "inport", pg);
    if (rule->peer_sg) {
        char *as = ovn_ident("as", rule->peer_sg->id);
        ds_put_format(&s, " && %s == $%s", peer, as);
        free(as);
    } else if (rule->has_cidr && rule->cidr.plen > 0) {
        char *c = vpc_prefix_to_string(&rule->cidr);
        ds_put_format(&s, " && %s == %s", peer, c);
        free(c);
    }

    put_l4_match(&s, &rule->m);
    return ds_steal_cstr(&s);
}

/* Appends " && ..." for the protocol, ports, ICMP type/code of 'm'. */
static void
put_l4_match(struct ds *s, const struct vpc_rule_match *m)
{
    if (m->protocol == IPPROTO_TCP || m->protocol == IPPROTO_UDP) {
        const char *l4 = m->protocol == IPPROTO_TCP ? "tcp" : "udp";
        ds_put_format(s, " && %s", l4);
        if (m->from_port == m->to_port) {
            ds_put_format(s, " && %s.dst == %d", l4, m->from_port);
        } else if (m->from_port > 0 || m->to_port < 65535) {
            ds_put_format(s, " && %s.dst >= %d && %s.dst <= %d",
                          l4, m->from_port, l4, m->to_port);
        }
    } else if (m->protocol == IPPROTO_ICMP) {
        ds_put_cstr(s, " && icmp4");
        if (m->icmp_type >= 0) {
            ds_put_format(s, " && icmp4.type == %d", m->icmp_type);
        }
        if (m->icmp_code >= 0) {
            ds_put_format(s, " && icmp4.code == %d", m->icmp_code);
        }
    } else if (m->protocol != VPC_PROTO_ALL) {
        ds_put_format(s, " && ip.proto == %d", m->protocol);
    }
}

static struct json *
acl_row(const char *direction, int priority, const char *action,
        char *match, const char *id, const char *rule)
{
    struct json *row = json_object_create();
    json_object_put_string(row, "direction", direction);
    json_object_put(row, "priority", json_integer_create(priority));
    json_object_put_string(row, "action", action);
    json_object_put_string(row, "match", match);
    json_object_put(row, "external_ids",
                    map_2("ovs-vpc-id", id, "ovs-vpc-rule", rule));
    free(match);
    return row;
}

/* The condition of network-ACL rule 'rule': "ip4", its peer CIDR (source
 * for ingress, destination for egress) and protocol. */
static char *
nacl_rule_cond(const struct vpc_nacl_rule *rule, bool ingress)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, "ip4");
    if (rule->cidr.plen > 0) {
        char *c = vpc_prefix_to_string(&rule->cidr);
        ds_put_format(&s, " && %s == %s", ingress ? "ip4.src" : "ip4.dst", c);
        free(c);
    }
    put_l4_match(&s, &rule->m);
    return ds_steal_cstr(&s);
}

/* Appends to 'ops' (and their names to 'acls') the ACLs of subnet 'sn''s
 * network ACL in one direction.  They sit on the switch's router port,
 * where no security group ACL matches, in the stage the security groups do
 * not use for that direction: egress (the subnet's ENIs to outside it) is
 * to-lport on the router port, while SG egress is from-lport on the ENIs;
 * ingress (from outside the subnet into it) is from-lport on the router
 * port, while SG ingress is to-lport on the ENIs.  So a packet meets both,
 * in order, as in our pipeline.  In that stage the highest priority wins,
 * which is the NACL's own rule: the lowest rule number decides (priority
 * 32767 - rule number), allow or drop; priority 0 is the implicit deny.
 * Traffic inside the subnet is not filtered, as in ours.  OVN does not
 * send traffic of router ports through conntrack: the rules stay
 * stateless. */
static void
export_nacl(const struct vpc_subnet *sn, size_t s_idx, bool ingress,
            struct json *ops, struct json *acls)
{
    const struct vpc_nacl *acl = sn->nacl;
    const struct vpc_nacl_rule *rules = ingress ? acl->ingress : acl->egress;
    size_t n = ingress ? acl->n_ingress : acl->n_egress;
    char *cidr = vpc_prefix_to_string(&sn->cidr);
    char *base = xasprintf("%s == \"rtr-%s\" && ip4 && %s != %s",
                           ingress ? "inport" : "outport", sn->id,
                           ingress ? "ip4.src" : "ip4.dst", cidr);
    const char *dir = ingress ? "from-lport" : "to-lport";
    const char *way = ingress ? "ingress" : "egress";

    /* k == n: the implicit deny, after every rule. */
    for (size_t k = 0; k <= n; k++) {
        const struct vpc_nacl_rule *rule = k < n ? &rules[k] : NULL;
        char *match, *name;
        if (rule) {
            char *c = nacl_rule_cond(rule, ingress);
            match = xasprintf("%s && %s", base, c);
            name = xasprintf("%s rule %d", way, rule->rule_number);
            free(c);
        } else {
            match = xstrdup(base);
            name = xasprintf("%s implicit deny", way);
        }
        struct json *u = named_uuid("acl_nacl_%"PRIuSIZE"_%s_%"PRIuSIZE,
                                    s_idx, way, k);
        json_array_add(acls, json_clone(u));
        insert(ops, "ACL", u,
               acl_row(dir, rule ? ACL_PRIO_NACL_TOP - rule->rule_number : 0,
                       rule && rule->allow ? "allow" : "drop", match,
                       acl->id, name));
        free(name);
    }
    free(base);
    free(cidr);
}

/* True if route table 'rt' holds, besides its route #j, a route for exactly
 * 'dst' of a higher origin (static beats propagated, in both precedence
 * modes).  OVN has no origins: two routes for one prefix would be ECMP. */
static bool
route_outranked(const struct vpc_route_table *rt, size_t j,
                const struct vpc_prefix *dst)
{
    for (size_t k = 0; k < rt->n_routes; k++) {
        const struct vpc_route *o = &rt->routes[k];
        if (k == j || o->origin <= rt->routes[j].origin) {
            continue;
        }
        const struct vpc_prefix *d = &o->dst;
        size_t n = 1;
        if (o->prefix_list) {
            d = o->prefix_list->cidrs;
            n = o->prefix_list->n_cidrs;
        }
        for (size_t i = 0; i < n; i++) {
            if (d[i].plen == dst->plen && d[i].addr == dst->addr) {
                return true;
            }
        }
    }
    return false;
}

/* Appends the static route(s) of 'rt''s route #j to 'ops' and their
 * references to 'routes' (the VPC router's static_routes).  Routes to
 * gateways and local routes are not exported. */
static void
export_route(const struct export_ctx *x, const struct vpc_route_table *rt,
             size_t t, size_t j, struct json *ops, struct json *routes)
{
    const struct vpc_region *r = x->r;
    const struct vpc_route *route = &rt->routes[j];
    char *nexthop;
    switch (route->kind) {
    case VPC_TGT_BLACKHOLE:
        nexthop = xstrdup("discard");
        break;
    case VPC_TGT_ENI:
        nexthop = vpc_ip_to_string(route->eni->ip);
        break;
    case VPC_TGT_PEERING: {
        const struct vpc_peering *pcx = route->peering;
        size_t i = pcx - r->peerings;
        if (i >= PCX_MAX) {
            return;
        }
        nexthop = vpc_ip_to_string(
            pcx_ip(pcx, i, vpc_peering_other(pcx, rt->vpc)));
        break;
    }
    VPC_TGT_GATEWAY_CASES {
        /* To the VPC's gateway router (export_gateway_router()). */
        size_t v = index_of_vpc(r, rt->vpc);
        if (v >= GW_MAX || !x->edges[v]) {
            return;
        }
        nexthop = vpc_ip_to_string(GW_TRANSIT_BASE + 4 * v + 2);
        break;
    }
    case VPC_TGT_LOCAL:
    default:
        return;
    }

    const struct vpc_prefix *dsts = &route->dst;
    size_t n_dsts = 1;
    if (route->prefix_list) {
        dsts = route->prefix_list->cidrs;
        n_dsts = route->prefix_list->n_cidrs;
    }
    char *rule = xasprintf("routes[%"PRIuSIZE"]", route->index);
    for (size_t k = 0; k < n_dsts; k++) {
        if (route_outranked(rt, j, &dsts[k])) {
            continue;
        }
        struct json *row = json_object_create();
        char *dst = vpc_prefix_to_string(&dsts[k]);
        json_object_put_string(row, "ip_prefix", dst);
        json_object_put_string(row, "nexthop", nexthop);
        json_object_put_string(row, "route_table", rt->id);
        json_object_put(row, "external_ids",
                        map_2("ovs-vpc-id", rt->id, "ovs-vpc-rule", rule));
        free(dst);
        struct json *u = named_uuid("route_%"PRIuSIZE"_%"PRIuSIZE"_%"PRIuSIZE,
                                    t, j, k);
        json_array_add(routes, json_clone(u));
        insert(ops, "Logical_Router_Static_Route", u, row);
    }
    free(rule);
    free(nexthop);
}

/* Inserts a NAT row (its name 'uuid_name') and appends it to 'nats'. */
static void
insert_nat(struct json *ops, struct json *nats, struct json *uuid_name,
           const char *type, uint32_t external_ip, const char *logical_ip,
           const char *id)
{
    char *eip = vpc_ip_to_string(external_ip);
    struct json *row = json_object_create();
    json_object_put_string(row, "type", type);
    json_object_put_string(row, "external_ip", eip);
    json_object_put_string(row, "logical_ip", logical_ip);
    json_object_put(row, "external_ids", ext_ids(id));
    json_array_add(nats, json_clone(uuid_name));
    insert(ops, "NAT", uuid_name, row);
    free(eip);
}

/* A router port row. */
static struct json *
lrp_row(const char *name, const char *mac, uint32_t ip, int plen,
        const char *peer, const char *id)
{
    char *ip_s = vpc_ip_to_string(ip);
    char *network = xasprintf("%s/%d", ip_s, plen);
    struct json *row = json_object_create();
    json_object_put_string(row, "name", name);
    json_object_put_string(row, "mac", mac);
    json_object_put_string(row, "networks", network);
    if (peer) {
        json_object_put_string(row, "peer", peer);
    }
    json_object_put(row, "external_ids", ext_ids(id));
    free(network);
    free(ip_s);
    return row;
}

static void
static_route(struct json *ops, struct json *routes, const char *uuid_name,
             const struct vpc_prefix *dst, uint32_t nexthop, const char *id)
{
    char *d = vpc_prefix_to_string(dst);
    char *nh = vpc_ip_to_string(nexthop);
    struct json *row = json_object_create();
    json_object_put_string(row, "ip_prefix", d);
    json_object_put_string(row, "nexthop", nh);
    json_object_put(row, "external_ids", ext_ids(id));
    struct json *u = named_uuid("%s", uuid_name);
    json_array_add(routes, json_clone(u));
    insert(ops, "Logical_Router_Static_Route", u, row);
    free(nh);
    free(d);
}

/* The edge's stand-in for VPC #v: gateway router "gw-VPC" pinned to the
 * edge's chassis (options:chassis), peered with the VPC's router over a
 * transit /30 (the VPC side's port is appended to 'lr_ports'), with a port
 * on the edge's external switch (its switch port appended to 'ext_ports'),
 * routes back to the VPC's blocks and a default route out, the elastic IPs'
 * dnat_and_snat ('nats') and the NAT gateways' snat of the subnets whose
 * tables route to them. */
static void
export_gateway_router(const struct export_ctx *x, size_t v,
                      const struct vpc_host *edge, struct json *nats,
                      struct json *ops, struct json *lr_ports,
                      struct json *ext_ports)
{
    const struct vpc_region *r = x->r;
    const struct vpc_vpc *vpc = &r->vpcs[v];
    char *gw = xasprintf("gw-%s", vpc->id);
    char *vpc_side = xasprintf("lrp-gw-%s", vpc->id);
    char *gw_side = xasprintf("lrp-%s-gw", vpc->id);
    char *ext_side = xasprintf("lrp-%s-ext", vpc->id);
    char *mac1 = xasprintf("02:76:7e:%02x:%02x:01", (unsigned) (v >> 8) & 0xff,
                           (unsigned) v & 0xff);
    char *mac2 = xasprintf("02:76:7e:%02x:%02x:02", (unsigned) (v >> 8) & 0xff,
                           (unsigned) v & 0xff);
    char *mac3 = xasprintf("02:76:7d:%02x:%02x:%02x",
                           (unsigned) (v >> 16) & 0xff,
                           (unsigned) (v >> 8) & 0xff, (unsigned) v & 0xff);
    uint32_t transit = GW_TRANSIT_BASE + 4 * v;
    struct json *gw_ports = json_array_create_empty();
    struct json *gw_routes = json_array_create_empty();

    struct json *u = named_uuid("lrp_gw_%"PRIuSIZE"_vpc", v);
    json_array_add(lr_ports, json_clone(u));
    insert(ops, "Logical_Router_Port", u,
           lrp_row(vpc_side, mac1, transit + 1, 30, gw_side, vpc->id));
    u = named_uuid("lrp_gw_%"PRIuSIZE"_gw", v);
    json_array_add(gw_ports, json_clone(u));
    insert(ops, "Logical_Router_Port", u,
           lrp_row(gw_side, mac2, transit + 2, 30, vpc_side, vpc->id));
    u = named_uuid("lrp_gw_%"PRIuSIZE"_ext", v);
    json_array_add(gw_ports, json_clone(u));
    insert(ops, "Logical_Router_Port", u,
           lrp_row(ext_side, mac3, EXT_NET_BASE + 2 + v, EXT_NET_PLEN, NULL,
                   edge->id));

    /* Its port on the edge's external switch. */
    struct json *row = json_object_create();
    char *lsp = xasprintf("ext-%s", vpc->id);
    json_object_put_string(row, "name", lsp);
    json_object_put_string(row, "type", "router");
    json_object_put_string(row, "addresses", "router");
    json_object_put(row, "options", map_2("router-port", ext_side,
                                          NULL, NULL));
    json_object_put(row, "external_ids", ext_ids(vpc->id));
    u = named_uuid("lsp_ext_%"PRIuSIZE, v);
    json_array_add(ext_ports, json_clone(u));
    insert(ops, "Logical_Switch_Port", u, row);
    free(lsp);

    /* Back to the VPC; everything else out. */
    for (size_t b = 0; b < vpc->n_blocks; b++) {
        char *name = xasprintf("route_gw_%"PRIuSIZE"_%"PRIuSIZE, v, b);
        static_route(ops, gw_routes, name, &vpc->blocks[b], transit + 1,
                     vpc->id);
        free(name);
    }
    struct vpc_prefix any = { .family = 4, .plen = 0, .addr = 0 };
    char *name = xasprintf("route_gw_%"PRIuSIZE"_default", v);
    static_route(ops, gw_routes, name, &any, EXT_NET_BASE + 1, edge->id);
    free(name);

    /* NAT gateways: source NAT of every subnet whose table routes to it. */
    for (size_t g = 0; g < r->n_gateways; g++) {
        const struct vpc_gateway *nat = &r->gateways[g];
        if (nat->vpc != vpc || nat->kind != VPC_TGT_NAT) {
            continue;
        }
        BUCKET_FOR_EACH (sn, &x->subnets_by_vpc, v) {
            const struct vpc_subnet *subnet = &r->subnets[sn];
            const struct vpc_route_table *rt = subnet->route_table;
            bool routed = false;
            for (size_t j = 0; rt && j < rt->n_routes; j++) {
                routed |= rt->routes[j].gateway == nat;
            }
            if (!routed) {
                continue;
            }
            char *cidr = vpc_prefix_to_string(&subnet->cidr);
            insert_nat(ops, nats,
                       named_uuid("nat_gw_%"PRIuSIZE"_%"PRIuSIZE, g, sn),
                       "snat", nat->elastic_ip, cidr, nat->id);
            free(cidr);
        }
    }

    row = json_object_create();
    json_object_put_string(row, "name", gw);
    json_object_put(row, "ports", set_of(gw_ports));
    json_object_put(row, "static_routes", set_of(gw_routes));
    json_object_put(row, "nat", set_of(nats));
    json_object_put(row, "options", map_2("chassis", edge->id, NULL, NULL));
    json_object_put(row, "external_ids",
                    map_2("ovs-vpc-id", vpc->id, "ovs-vpc-edge", edge->id));
    insert(ops, "Logical_Router", named_uuid("lr_gw_%"PRIuSIZE, v), row);

    free(mac3);
    free(mac2);
    free(mac1);
    free(ext_side);
    free(gw_side);
    free(vpc_side);
    free(gw);
}

/* The IPv4 addresses 'ips' as an OVN DHCP option list "{a, b}". */
static char *
dhcp_ip_list(const uint32_t *ips, size_t n)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_char(&ds, '{');
    for (size_t i = 0; i < n; i++) {
        char buf[16];
        vpc_ip_format(ips[i], buf);
        ds_put_format(&ds, "%s%s", i ? ", " : "", buf);
    }
    ds_put_char(&ds, '}');
    return ds_steal_cstr(&ds);
}

/* Inserts subnet 'sn''s DHCP_Options row, named 'u': what vpcd's DHCP
 * server gives its ENIs (daemon/dhcp.c), in ovn-northd's option names. */
static void
export_dhcp(const struct vpc_region *r, const struct vpc_subnet *sn,
            struct json *u, struct json *ops)
{
    const struct vpc_vpc *vpc = sn->vpc;
    const struct vpc_dhcp_options *o = vpc->dhcp_options;
    uint32_t dns[4], resolver = pl_vpc_resolver_ip(vpc);
    size_t n_dns = 0;
    if (o && o->n_dns) {
        for (size_t i = 0; i < o->n_dns && n_dns < ARRAY_SIZE(dns); i++) {
            dns[n_dns++] = o->dns[i] ? o->dns[i] : resolver;
        }
    } else {
        dns[n_dns++] = resolver;
    }
    char router[16], cidr[24];
    vpc_ip_format(vpc_subnet_router_ip(sn), router);
    vpc_prefix_format(&sn->cidr, cidr);
    char *mac = mac_str(pl_router_mac(vpc));
    char *domain = vpc_domain_name(r, vpc);
    char *quoted = xasprintf("\"%s\"", domain);
    char *lease = xasprintf("%d", o && o->lease_time ? o->lease_time : 3600);
    char *mtu = xasprintf("%d", PL_VM_MTU);
    char *dns_list = dhcp_ip_list(dns, n_dns);
    char *ntp_list = o && o->n_ntp ? dhcp_ip_list(o->ntp, o->n_ntp) : NULL;

    struct json *pairs = json_array_create_empty();
    const char *kv[][2] = {
        { "server_id", router }, { "server_mac", mac },
        { "lease_time", lease }, { "router", router },
        { "dns_server", dns_list }, { "domain_name", quoted },
        { "mtu", mtu }, { "ntp_server", ntp_list },
    };
    for (size_t i = 0; i < ARRAY_SIZE(kv); i++) {
        if (kv[i][1]) {
            json_array_add(pairs, json_array_create_2(
                               json_string_create(kv[i][0]),
                               json_string_create(kv[i][1])));
        }
    }
    struct json *row = json_object_create();
    json_object_put_string(row, "cidr", cidr);
    json_object_put(row, "options",
                    json_array_create_2(json_string_create("map"), pairs));
    json_object_put(row, "external_ids",
                    map_2("ovs-vpc-id", sn->id, "ovs-vpc-dhcp-options",
                          o ? o->id : "default"));
    insert(ops, "DHCP_Options", u, row);
    free(mac);
    free(domain);
    free(quoted);
    free(lease);
    free(mtu);
    free(dns_list);
    free(ntp_list);
}

static void
export_vpc(const struct export_ctx *x, size_t v, struct json *ops,
           struct shash *ext_ports)
{
    const struct vpc_region *r = x->r;
    const struct vpc_vpc *vpc = &r->vpcs[v];
    struct json *lr_ports = json_array_create_empty();
    struct json *lr_routes = json_array_create_empty();
    struct json *gw_nats = json_array_create_empty();   /* Elastic IPs. */
    char *router_mac = mac_str(pl_router_mac(vpc));

    /* Subnets: a switch with its ENIs' ports and a router port. */
    BUCKET_FOR_EACH (s, &x->subnets_by_vpc, v) {
        const struct vpc_subnet *sn = &r->subnets[s];
        struct json *ls_ports = json_array_create_empty();
        struct json *dhcp = named_uuid("dhcp_%"PRIuSIZE, s);
        export_dhcp(r, sn, json_clone(dhcp), ops);

        BUCKET_FOR_EACH (e, &x->enis_by_subnet, s) {
            const struct vpc_eni *eni = &r->enis[e];
            char *mac = mac_str(eni->mac);
            char *ip = vpc_ip_to_string(eni->ip);
            char *addr = xasprintf("%s %s", mac, ip);
            struct json *row = json_object_create();
            json_object_put_string(row, "name", eni->id);
            json_object_put_string(row, "addresses", addr);
            /* source_dest_check off (an appliance): no port security. */
            json_object_put(row, "port_security",
                            eni->source_dest_check
                            ? json_string_create(addr)
                            : set_of(json_array_create_empty()));
            if (eni->host) {
                json_object_put(row, "options",
                                map_2("requested-chassis", eni->host->id,
                                      NULL, NULL));
            }
            json_object_put(row, "dhcpv4_options", json_clone(dhcp));
            json_object_put(row, "external_ids", ext_ids(eni->id));
            struct json *u = named_uuid("lsp_eni_%"PRIuSIZE, e);
            json_array_add(ls_ports, json_clone(u));
            insert(ops, "Logical_Switch_Port", u, row);

            if (eni->has_elastic_ip) {
                insert_nat(ops, gw_nats, named_uuid("nat_eni_%"PRIuSIZE, e),
                           "dnat_and_snat", eni->elastic_ip, ip, eni->id);
            }
            free(addr);
            free(ip);
            free(mac);
        }

        char *lrp_name = xasprintf("lrp-%s", sn->id);
        char *rtr_name = xasprintf("rtr-%s", sn->id);

        /* The switch's port toward the router. */
        struct json *row = json_object_create();
        json_object_put_string(row, "name", rtr_name);
        json_object_put_string(row, "type", "router");
        json_object_put_string(row, "addresses", "router");
        json_object_put(row, "options",
                        map_2("router-port", lrp_name, NULL, NULL));
        json_object_put(row, "external_ids", ext_ids(sn->id));
        struct json *u = named_uuid("lsp_rtr_%"PRIuSIZE, s);
        json_array_add(ls_ports, json_clone(u));
        insert(ops, "Logical_Switch_Port", u, row);

        /* The subnet's network ACL, as drop ACLs on the switch. */
        struct json *ls_acls = json_array_create_empty();
        if (sn->nacl) {
            export_nacl(sn, s, true, ops, ls_acls);
            export_nacl(sn, s, false, ops, ls_acls);
        }

        /* The switch. */
        row = json_object_create();
        json_object_put_string(row, "name", sn->id);
        json_object_put(row, "ports", set_of(ls_ports));
        json_object_put(row, "acls", set_of(ls_acls));
        json_object_put(row, "external_ids",
                        map_2("ovs-vpc-id", sn->id, "ovs-vpc-az",
                              sn->availability_zone
                              ? sn->availability_zone : ""));
        insert(ops, "Logical_Switch", named_uuid("ls_%"PRIuSIZE, s), row);

        /* The router's port in the subnet. */
        row = lrp_row(lrp_name, router_mac, vpc_subnet_router_ip(sn),
                      sn->cidr.plen, NULL, sn->id);
        if (sn->route_table) {
            json_object_put(row, "options",
                            map_2("route_table", sn->route_table->id,
                                  NULL, NULL));
        }
        u = named_uuid("lrp_%"PRIuSIZE, s);
        json_array_add(lr_ports, json_clone(u));
        insert(ops, "Logical_Router_Port", u, row);
        free(lrp_name);
        free(rtr_name);
        json_destroy(dhcp);
    }

    /* Peering: one router port per side, peered with the other side's. */
    for (size_t q = 0; q < vpc->n_peerings; q++) {
        const struct vpc_peering *pcx = vpc->peerings[q];
        size_t p = pcx - r->peerings;
        if (p >= PCX_MAX) {
            continue;
        }
        const struct vpc_vpc *other = vpc_peering_other(pcx, vpc);
        char *name = pcx_lrp_name(pcx, vpc);
        char *peer = pcx_lrp_name(pcx, other);
        int side = vpc == pcx->requester ? 1 : 2;
        char *mac = xasprintf("02:76:7f:%02x:%02x:%02x",
                              (unsigned) (p >> 8) & 0xff,
                              (unsigned) p & 0xff, side);
        struct json *u = named_uuid("lrp_pcx_%"PRIuSIZE"_%d", p, side);
        json_array_add(lr_ports, json_clone(u));
        insert(ops, "Logical_Router_Port", u,
               lrp_row(name, mac, pcx_ip(pcx, p, vpc), 30, peer, pcx->id));
        free(mac);
        free(peer);
        free(name);
    }

    /* Route tables. */
    BUCKET_FOR_EACH (t, &x->rtbs_by_vpc, v) {
        const struct vpc_route_table *rt = &r->route_tables[t];
        for (size_t j = 0; j < rt->n_routes; j++) {
            export_route(x, rt, t, j, ops, lr_routes);
        }
    }

    /* Gateways: the edge's stand-in. */
    const struct vpc_host *edge = x->edges[v];
    if (edge && v < GW_MAX) {
        struct json *ports = shash_find_data(ext_ports, edge->id);
        if (!ports) {
            ports = json_array_create_empty();
            shash_add(ext_ports, edge->id, ports);
        }
        export_gateway_router(x, v, edge, gw_nats, ops, lr_ports, ports);
    } else {
        json_destroy(gw_nats);  /* Elastic IPs without an edge. */
    }

    struct json *row = json_object_create();
    json_object_put_string(row, "name", vpc->id);
    json_object_put(row, "ports", set_of(lr_ports));
    json_object_put(row, "static_routes", set_of(lr_routes));
    char *vni = xasprintf("%"PRIu32, vpc->vni);
    json_object_put(row, "external_ids",
                    map_2("ovs-vpc-id", vpc->id, "ovs-vpc-vni", vni));
    free(vni);
    insert(ops, "Logical_Router",
           named_uuid("lr_%"PRIuSIZE, index_of_vpc(r, vpc)), row);
    free(router_mac);
}

static void
export_sg(const struct export_ctx *x, size_t g, struct json *ops)
{
    const struct vpc_region *r = x->r;
    const struct vpc_sg *sg = &r->sgs[g];
    char *pg = ovn_ident("pg", sg->id);
    struct json *acls = json_array_create_empty();

    for (size_t j = 0; j < sg->n_ingress + sg->n_egress; j++) {
        bool ingress = j < sg->n_ingress;
        size_t k = ingress ? j : j - sg->n_ingress;
        const struct vpc_sg_rule *rule = (ingress ? &sg->ingress[k]
                                          : &sg->egress[k]);
        char *name = xasprintf("%s[%"PRIuSIZE"]",
                               ingress ? "ingress" : "egress", k);
        struct json *row = acl_row(ingress ? "to-lport" : "from-lport",
                                   ACL_PRIO_ALLOW, "allow-related",
                                   sg_rule_match(pg, rule, ingress),
                                   sg->id, name);
        struct json *u = named_uuid("acl_%"PRIuSIZE"_%c_%"PRIuSIZE, g,
                                    ingress ? 'i' : 'e', k);
        json_array_add(acls, json_clone(u));
        insert(ops, "ACL", u, row);
        free(name);
    }

    /* What no rule allows is dropped, both ways (IP only: ARP passes). */
    struct json *row = acl_row("to-lport", ACL_PRIO_DROP, "drop",
                               xasprintf("outport == @%s && ip", pg),
                               sg->id, "default-drop-ingress");
    struct json *u = named_uuid("acl_%"PRIuSIZE"_drop_i", g);
    json_array_add(acls, json_clone(u));
    insert(ops, "ACL", u, row);
    row = acl_row("from-lport", ACL_PRIO_DROP, "drop",
                  xasprintf("inport == @%s && ip", pg),
                  sg->id, "default-drop-egress");
    u = named_uuid("acl_%"PRIuSIZE"_drop_e", g);
    json_array_add(acls, json_clone(u));
    insert(ops, "ACL", u, row);

    struct json *ports = json_array_create_empty();
    struct json *ips = json_array_create_empty();
    BUCKET_FOR_EACH (e, &x->enis_by_sg, g) {
        json_array_add(ports, named_uuid("lsp_eni_%"PRIuSIZE, e));
        char *ip = vpc_ip_to_string(r->enis[e].ip);
        json_array_add(ips, json_string_create(ip));
        free(ip);
    }

    row = json_object_create();
    json_object_put_string(row, "name", pg);
    json_object_put(row, "ports", set_of(ports));
    json_object_put(row, "acls", set_of(acls));
    json_object_put(row, "external_ids", ext_ids(sg->id));
    insert(ops, "Port_Group", named_uuid("pg_%"PRIuSIZE, g), row);

    if (x->sg_referenced[g]) {
        char *as = ovn_ident("as", sg->id);
        row = json_object_create();
        json_object_put_string(row, "name", as);
        json_object_put(row, "addresses", set_of(ips));
        json_object_put(row, "external_ids", ext_ids(sg->id));
        insert(ops, "Address_Set", named_uuid("as_%"PRIuSIZE, g), row);
        free(as);
    } else {
        json_destroy(ips);
    }
    free(pg);
}

char *
export_ovn(const struct vpc_region *r)
{
    struct json *ops = json_array_create_empty();
    json_array_add(ops, json_string_create("OVN_Northbound"));
    struct shash ext_ports = SHASH_INITIALIZER(&ext_ports);
    struct export_ctx x;
    export_ctx_init(&x, r);
    for (size_t v = 0; v < r->n_vpcs; v++) {
        export_vpc(&x, v, ops, &ext_ports);
    }
    /* Each edge's external switch: the gateway routers' ports and a
     * localnet port (network_name = the switch's name) for the uplink. */
    struct shash_node *node;
    size_t n_edge = 0;
    SHASH_FOR_EACH (node, &ext_ports) {
        struct json *ports = node->data;
        char *ls = xasprintf("ext-%s", node->name);
        char *ln = xasprintf("ln-ext-%s", node->name);
        struct json *row = json_object_create();
        json_object_put_string(row, "name", ln);
        json_object_put_string(row, "type", "localnet");
        /* The upstream router, the gateway routers' next hop, is out
         * there: its address is known (the edge's uplink gateway MAC, if
         * given), so northd resolves it without ARP. */
        const struct vpc_host *edge = vpc_region_find_host(r, node->name);
        char *up_mac = (edge && edge->has_uplink_gateway_mac
                        ? mac_str(edge->uplink_gateway_mac)
                        : xstrdup("02:76:7d:ff:ff:ff"));
        char *up_ip = vpc_ip_to_string(EXT_NET_BASE + 1);
        char *up = xasprintf("%s %s", up_mac, up_ip);
        json_object_put(row, "addresses", set_of(json_array_create_2(
                                                     json_string_create(up),
                                                     json_string_create(
                                                         "unknown"))));
        free(up);
        free(up_ip);
        free(up_mac);
        json_object_put(row, "options", map_2("network_name", ls, NULL, NULL));
        json_object_put(row, "external_ids", ext_ids(node->name));
        struct json *u = named_uuid("lsp_ln_%"PRIuSIZE, n_edge);
        json_array_add(ports, json_clone(u));
        insert(ops, "Logical_Switch_Port", u, row);

        row = json_object_create();
        json_object_put_string(row, "name", ls);
        json_object_put(row, "ports", set_of(ports));
        json_object_put(row, "external_ids", ext_ids(node->name));
        insert(ops, "Logical_Switch", named_uuid("ls_ext_%"PRIuSIZE, n_edge),
               row);
        n_edge++;
        free(ln);
        free(ls);
    }
    shash_destroy(&ext_ports);
    for (size_t g = 0; g < r->n_sgs; g++) {
        export_sg(&x, g, ops);
    }
    export_ctx_destroy(&x);
    char *s = json_to_string(ops, JSSF_SORT);
    json_destroy(ops);
    return s;
}
