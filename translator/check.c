/* translator/check.c: validation rules that span objects.
 *
 * Runs after every object parsed cleanly (translator/intent.c), so every
 * reference here is resolved and every address valid.  Each rule reports all
 * of its violations; the paths are the JSON paths of the offending value. */

#include <config.h>
#include "translator/model.h"
#include "translator/rules.h"

#include <stdlib.h>
#include <string.h>
#include "openvswitch/hmap.h"
#include "openvswitch/util.h"
#include "hash.h"
#include "packets.h"
#include "util.h"

void vpc_check_region(struct vpc_region *, struct vpc_errors *);

#define IDX(ARRAY, PTR) ((size_t) ((PTR) - (ARRAY)))

static char *
prefix_str(const struct vpc_prefix *p)
{
    char buf[24];
    vpc_prefix_format(p, buf);
    return xasprintf("\"%s\"", buf);
}

static char *
ip_str(uint32_t ip)
{
    char buf[16];
    vpc_ip_format(ip, buf);
    return xasprintf("\"%s\"", buf);
}

/* A hash set of (key, owner) pairs used to find duplicates in one pass. */
struct dup_node {
    struct hmap_node node;
    uint64_t key;
    const void *scope;
    size_t first;               /* Index of the first holder. */
};

/* Returns the index of the earlier holder of ('scope', 'key') or SIZE_MAX
 * after recording 'idx' as its holder. */
static size_t
dup_check(struct hmap *set, const void *scope, uint64_t key, size_t idx)
{
    uint32_t hash = hash_pointer(scope, hash_uint64(key));
    struct dup_node *d;
    HMAP_FOR_EACH_WITH_HASH (d, node, hash, set) {
        if (d->key == key && d->scope == scope) {
            return d->first;
        }
    }
    d = xmalloc(sizeof *d);
    d->key = key;
    d->scope = scope;
    d->first = idx;
    hmap_insert(set, &d->node, hash);
    return SIZE_MAX;
}

/* Returns the index of the first holder of ('scope', 'key') in 'set', or
 * SIZE_MAX. */
static size_t
dup_find(const struct hmap *set, const void *scope, uint64_t key)
{
    uint32_t hash = hash_pointer(scope, hash_uint64(key));
    const struct dup_node *d;
    HMAP_FOR_EACH_WITH_HASH (d, node, hash, set) {
        if (d->key == key && d->scope == scope) {
            return d->first;
        }
    }
    return SIZE_MAX;
}

static void
dup_destroy(struct hmap *set)
{
    struct dup_node *d;
    HMAP_FOR_EACH_POP (d, node, set) {
        free(d);
    }
    hmap_destroy(set);
}

void
vpc_report_host_dup(const struct vpc_host *h, const struct vpc_obj_path *op,
                    struct vpc_errors *errs)
{
    char *path = vpc_obj_path_format(op, ".underlay_ip");
    char *v = ip_str(h->underlay_ip);
    vpc_errors_add(errs, path, v, "underlay address already used by another "
                   "host or edge");
    free(path);
    free(v);
}

static void
check_hosts(struct vpc_region *r, struct vpc_errors *errs)
{
    struct hmap seen = HMAP_INITIALIZER(&seen);
    for (size_t k = 0; k < 2; k++) {
        struct vpc_host *hosts = k ? r->edges : r->hosts;
        size_t n = k ? r->n_edges : r->n_hosts;
        for (size_t i = 0; i < n; i++) {
            size_t prev = dup_check(&seen, NULL, hosts[i].underlay_ip,
                                    k * 1000000 + i);
            if (prev != SIZE_MAX) {
                struct vpc_obj_path op = { k ? "edges" : "hosts", NULL, i };
                vpc_report_host_dup(&hosts[i], &op, errs);
            }
        }
    }
    dup_destroy(&seen);
}

void
vpc_report_vpc_dup_vni(const struct vpc_vpc *vpc,
                       const struct vpc_obj_path *op, const char *prev_id,
                       struct vpc_errors *errs)
{
    char *path = vpc_obj_path_format(op, ".vni");
    char *v = xasprintf("%"PRIu32, vpc->vni);
    vpc_errors_add(errs, path, v, "duplicate VNI: already used by %s",
                   prev_id);
    free(path);
    free(v);
}

void
vpc_check_vpc(const struct vpc_vpc *vpc, const struct vpc_obj_path *op,
              struct vpc_errors *errs)
{
    if (!vpc->n_blocks) {
        char *path = vpc_obj_path_format(op, ".cidr_blocks");
        vpc_errors_add(errs, path, "[]", "a VPC needs at least one CIDR "
                       "block");
        free(path);
    }
    for (size_t b = 0; b < vpc->n_blocks; b++) {
        const struct vpc_prefix *p = &vpc->blocks[b];
        bool bad_size = p->plen < 16 || p->plen > 28;
        bool overlap = false;
        for (size_t c = 0; c < b; c++) {
            overlap = overlap || vpc_prefix_overlaps(p, &vpc->blocks[c]);
        }
        if (!bad_size && !overlap) {
            continue;           /* Strings only for errors. */
        }
        char suffix[48];
        snprintf(suffix, sizeof suffix, ".cidr_blocks[%"PRIuSIZE"]", b);
        char *path = vpc_obj_path_format(op, suffix);
        char *v = prefix_str(p);
        if (bad_size) {
            vpc_errors_add(errs, path, v, "a VPC CIDR block must be between "
                           "/16 and /28");
        }
        for (size_t c = 0; c < b; c++) {
            if (vpc_prefix_overlaps(p, &vpc->blocks[c])) {
                vpc_errors_add(errs, path, v, "overlaps cidr_blocks[%"
                               PRIuSIZE"] of the same VPC", c);
            }
        }
        free(path);
        free(v);
    }
}

static void
check_vpcs(struct vpc_region *r, struct vpc_errors *errs)
{
    struct hmap vnis = HMAP_INITIALIZER(&vnis);
    for (size_t i = 0; i < r->n_vpcs; i++) {
        struct vpc_vpc *vpc = &r->vpcs[i];
        struct vpc_obj_path op = { "vpcs", NULL, i };
        size_t prev = dup_check(&vnis, NULL, vpc->vni, i);
        if (prev != SIZE_MAX) {
            vpc_report_vpc_dup_vni(vpc, &op, r->vpcs[prev].id, errs);
        }
        vpc_check_vpc(vpc, &op, errs);
    }
    dup_destroy(&vnis);
}

static bool
vpc_contains_prefix(const struct vpc_vpc *vpc, const struct vpc_prefix *p)
{
    for (size_t b = 0; b < vpc->n_blocks; b++) {
        if (vpc_prefix_within(p, &vpc->blocks[b])) {
            return true;
        }
    }
    return false;
}

static bool
vpcs_overlap(const struct vpc_vpc *a, const struct vpc_vpc *b)
{
    for (size_t i = 0; i < a->n_blocks; i++) {
        for (size_t j = 0; j < b->n_blocks; j++) {
            if (vpc_prefix_overlaps(&a->blocks[i], &b->blocks[j])) {
                return true;
            }
        }
    }
    return false;
}

bool
vpc_check_peering(const struct vpc_peering *pcx,
                  const struct vpc_obj_path *op, struct vpc_errors *errs)
{
    const char *why = NULL;
    if (pcx->requester == pcx->accepter) {
        why = "self";
    } else if (vpcs_overlap(pcx->requester, pcx->accepter)) {
        why = "overlap";
    }
    if (why) {
        char *path = vpc_obj_path_format(op, "");
        if (!strcmp(why, "self")) {
            vpc_errors_add(errs, path, NULL, "a VPC cannot peer with itself "
                           "(%s)", pcx->requester->id);
        } else {
            vpc_errors_add(errs, path, NULL, "%s and %s have overlapping "
                           "CIDR blocks and cannot be peered",
                           pcx->requester->id, pcx->accepter->id);
        }
        free(path);
    }
    return !why;
}

void
vpc_report_peering_dup(const struct vpc_peering *pcx,
                       const struct vpc_obj_path *op, const char *prev_id,
                       struct vpc_errors *errs)
{
    char *path = vpc_obj_path_format(op, "");
    vpc_errors_add(errs, path, NULL, "%s and %s are already peered by %s",
                   pcx->requester->id, pcx->accepter->id, prev_id);
    free(path);
}

static void
check_peerings(struct vpc_region *r, struct vpc_errors *errs)
{
    struct hmap pairs = HMAP_INITIALIZER(&pairs);
    for (size_t i = 0; i < r->n_peerings; i++) {
        struct vpc_peering *pcx = &r->peerings[i];
        struct vpc_obj_path op = { "peering_connections", NULL, i };
        if (vpc_check_peering(pcx, &op, errs)) {
            size_t a = IDX(r->vpcs, pcx->requester);
            size_t b = IDX(r->vpcs, pcx->accepter);
            uint64_t key = (uint64_t) MIN(a, b) << 32 | MAX(a, b);
            size_t prev = dup_check(&pairs, NULL, key, i);
            if (prev != SIZE_MAX) {
                vpc_report_peering_dup(pcx, &op, r->peerings[prev].id, errs);
            }
        }

        /* Index the peering on both VPCs. */
        struct vpc_vpc *ends[2] = { pcx->requester, pcx->accepter };
        for (size_t e = 0; e < (ends[0] == ends[1] ? 1 : 2); e++) {
            struct vpc_vpc *v = ends[e];
            v->peerings = xrealloc(v->peerings,
                                   (v->n_peerings + 1) * sizeof *v->peerings);
            v->peerings[v->n_peerings++] = pcx;
        }
    }
    dup_destroy(&pairs);
}

static void
check_same_vpc(struct vpc_errors *errs, const char *path, const char *ref_id,
               const struct vpc_vpc *ref_vpc, const struct vpc_vpc *vpc,
               const char *what)
{
    if (ref_vpc && vpc && ref_vpc != vpc) {
        char *v = xasprintf("\"%s\"", ref_id);
        vpc_errors_add(errs, path, v, "%s belongs to %s, not to %s", what,
                       ref_vpc->id, vpc->id);
        free(v);
    }
}

static void
subnet_error(const struct vpc_subnet *s, const struct vpc_obj_path *op,
             struct vpc_errors *errs, const char *fmt, const char *arg)
{
    char *path = vpc_obj_path_format(op, ".cidr");
    char *v = prefix_str(&s->cidr);
    vpc_errors_add(errs, path, v, fmt, arg);
    free(path);
    free(v);
}

void
vpc_check_subnet(const struct vpc_subnet *s, const struct vpc_obj_path *op,
                 struct vpc_errors *errs)
{
    if (!vpc_contains_prefix(s->vpc, &s->cidr)) {
        subnet_error(s, op, errs, "not inside any CIDR block of %s",
                     s->vpc->id);
    } else if (s->cidr.plen > 28) {
        subnet_error(s, op, errs, "a subnet must be /28 or larger%s", "");
    }
    if (s->route_table && s->route_table->vpc != s->vpc) {
        char *path = vpc_obj_path_format(op, ".route_table");
        check_same_vpc(errs, path, s->route_table->id, s->route_table->vpc,
                       s->vpc, "route table");
        free(path);
    }
    if (s->nacl && s->nacl->vpc != s->vpc) {
        char *path = vpc_obj_path_format(op, ".network_acl");
        check_same_vpc(errs, path, s->nacl->id, s->nacl->vpc, s->vpc,
                       "network ACL");
        free(path);
    }
}

void
vpc_report_subnet_overlap(const struct vpc_subnet *s,
                          const struct vpc_obj_path *op,
                          const char *earlier_id, struct vpc_errors *errs)
{
    subnet_error(s, op, errs, "overlaps %s of the same VPC", earlier_id);
}

/* Subnet order for the overlap sweep: by VPC, then address, then size. */
static const struct vpc_region *sort_region;

static int
compare_subnets(const void *a_, const void *b_)
{
    const struct vpc_subnet *a = &sort_region->subnets[*(const size_t *) a_];
    const struct vpc_subnet *b = &sort_region->subnets[*(const size_t *) b_];
    if (a->vpc != b->vpc) {
        return a->vpc < b->vpc ? -1 : 1;
    }
    if (a->cidr.addr != b->cidr.addr) {
        return a->cidr.addr < b->cidr.addr ? -1 : 1;
    }
    return a->cidr.plen < b->cidr.plen ? -1 : a->cidr.plen > b->cidr.plen;
}

static void
check_subnets(struct vpc_region *r, struct vpc_errors *errs)
{
    for (size_t i = 0; i < r->n_subnets; i++) {
        struct vpc_obj_path op = { "subnets", NULL, i };
        vpc_check_subnet(&r->subnets[i], &op, errs);
    }

    /* Overlaps within a VPC, in O(n log n): sorted by address, a subnet
     * overlaps an earlier one iff it starts before the furthest end seen
     * so far in its VPC.  The error goes to the later of the two in the
     * document. */
    size_t *order = xmalloc((r->n_subnets + 1) * sizeof *order);
    for (size_t i = 0; i < r->n_subnets; i++) {
        order[i] = i;
    }
    sort_region = r;
    qsort(order, r->n_subnets, sizeof *order, compare_subnets);
    size_t reach = SIZE_MAX;            /* Subnet with the furthest end. */
    for (size_t k = 0; k < r->n_subnets; k++) {
        const struct vpc_subnet *s = &r->subnets[order[k]];
        if (reach != SIZE_MAX && r->subnets[reach].vpc == s->vpc) {
            const struct vpc_subnet *o = &r->subnets[reach];
            uint64_t o_end = (uint64_t) o->cidr.addr
                             + ((uint64_t) 1 << (32 - o->cidr.plen));
            if (s->cidr.addr < o_end) {
                size_t later = MAX(order[k], reach);
                size_t earlier = MIN(order[k], reach);
                struct vpc_obj_path op = { "subnets", NULL, later };
                vpc_report_subnet_overlap(&r->subnets[later], &op,
                                          r->subnets[earlier].id, errs);
                continue;       /* 'reach' ends at least as far. */
            }
            uint64_t s_end = (uint64_t) s->cidr.addr
                             + ((uint64_t) 1 << (32 - s->cidr.plen));
            if (s_end <= o_end) {
                continue;
            }
        }
        reach = order[k];
    }
    free(order);
}

bool
vpc_check_eni_address(const struct vpc_eni *e, const struct vpc_obj_path *op,
                      struct vpc_errors *errs)
{
    static const char *const why[] = {
        "network address", "virtual router", "DNS server",
        "reserved for future use" };
    const struct vpc_subnet *s = e->subnet;
    uint32_t off = e->ip - s->cidr.addr;
    uint32_t size = ~vpc_prefix_mask(&s->cidr) + 1;
    bool outside = !vpc_prefix_contains(&s->cidr, e->ip);
    if (!outside && off > 3 && off != size - 1) {
        return true;
    }

    /* Strings only for errors: this runs for every ENI. */
    char *path = vpc_obj_path_format(op, ".private_ip");
    char *v = ip_str(e->ip);
    if (outside) {
        char *c = prefix_str(&s->cidr);
        vpc_errors_add(errs, path, v, "not inside %s (%s)", s->id, c);
        free(c);
    } else {
        vpc_errors_add(errs, path, v, "reserved address of %s (%s): the "
                       "first four and the last address of a subnet cannot "
                       "be assigned", s->id,
                       off <= 3 ? why[off] : "broadcast address");
    }
    free(path);
    free(v);
    return false;
}

void
vpc_report_eni_dup_ip(const struct vpc_eni *e, const struct vpc_obj_path *op,
                      const char *prev_id, struct vpc_errors *errs)
{
    char *path = vpc_obj_path_format(op, ".private_ip");
    char *v = ip_str(e->ip);
    vpc_errors_add(errs, path, v, "duplicate IP in %s: already assigned to "
                   "%s", e->subnet->vpc->id, prev_id);
    free(path);
    free(v);
}

void
vpc_report_eni_dup_mac(const struct vpc_eni *e, const struct vpc_obj_path *op,
                       const char *prev_id, struct vpc_errors *errs)
{
    char *path = vpc_obj_path_format(op, ".mac");
    char *v = xasprintf("\""ETH_ADDR_FMT"\"", ETH_ADDR_ARGS(e->mac));
    vpc_errors_add(errs, path, v, "duplicate MAC: already used by %s",
                   prev_id);
    free(path);
    free(v);
}

void
vpc_report_eni_dup_eip(const struct vpc_eni *e, const struct vpc_obj_path *op,
                       struct vpc_errors *errs)
{
    char *path = vpc_obj_path_format(op, ".elastic_ip");
    char *v = ip_str(e->elastic_ip);
    vpc_errors_add(errs, path, v, "elastic IP already associated with "
                   "another network interface");
    free(path);
    free(v);
}

void
vpc_report_eni_eip_no_igw(const struct vpc_eni *e,
                          const struct vpc_obj_path *op,
                          struct vpc_errors *errs)
{
    char *path = vpc_obj_path_format(op, ".elastic_ip");
    char *v = ip_str(e->elastic_ip);
    vpc_errors_add(errs, path, v, "%s has no internet gateway: an elastic "
                   "IP is reachable only through one", e->subnet->vpc->id);
    free(path);
    free(v);
}

void
vpc_report_eni_eip_private(const struct vpc_eni *e,
                           const struct vpc_obj_path *op,
                           const struct vpc_eni *owner,
                           struct vpc_errors *errs)
{
    char *path = vpc_obj_path_format(op, ".elastic_ip");
    char *v = ip_str(e->elastic_ip);
    vpc_errors_add(errs, path, v, "is the private IP of %s (%s): an elastic "
                   "IP is a public address, distinct from every private one",
                   owner->id, owner->subnet->vpc->id);
    free(path);
    free(v);
}

void
vpc_check_eni_sgs(const struct vpc_eni *e, const struct vpc_obj_path *op,
                  struct vpc_errors *errs)
{
    for (size_t g = 0; g < e->n_sgs; g++) {
        if (e->sgs[g]->vpc != e->subnet->vpc) {
            char suffix[48];
            snprintf(suffix, sizeof suffix, ".security_groups[%"PRIuSIZE"]",
                     g);
            char *path = vpc_obj_path_format(op, suffix);
            check_same_vpc(errs, path, e->sgs[g]->id, e->sgs[g]->vpc,
                           e->subnet->vpc, "security group");
            free(path);
        }
    }
}

void
vpc_report_eni_dup_instance(const struct vpc_eni *e,
                            const struct vpc_obj_path *op,
                            const char *prev_id, struct vpc_errors *errs)
{
    char *path = vpc_obj_path_format(op, ".instance_id");
    char *v = xasprintf("\"%s\"", e->instance_id);
    vpc_errors_add(errs, path, v, "duplicate instance id: already that of "
                   "%s (instance ids are unique in the region)", prev_id);
    free(path);
    free(v);
}

/* Instance ids are unique in the region (given or derived: two ENI ids
 * that hash alike are refused too). */
static void
check_instance_ids(struct vpc_region *r, struct vpc_errors *errs)
{
    struct shash seen = SHASH_INITIALIZER(&seen);
    for (size_t i = 0; i < r->n_enis; i++) {
        struct vpc_eni *e = &r->enis[i];
        struct vpc_eni *prev = shash_find_data(&seen, e->instance_id);
        if (prev) {
            struct vpc_obj_path op = { "enis", NULL, i };
            vpc_report_eni_dup_instance(e, &op, prev->id, errs);
        } else {
            shash_add(&seen, e->instance_id, e);
        }
    }
    shash_destroy(&seen);
}

/* The same name in the dns_names of two ENIs of one VPC: the resolver
 * could answer only one of them. */
static void
check_dns_names(struct vpc_region *r, struct vpc_errors *errs)
{
    struct shash names = SHASH_INITIALIZER(&names);

    for (size_t i = 0; i < r->n_enis; i++) {
        const struct vpc_eni *e = &r->enis[i];
        for (size_t k = 0; k < e->n_dns_names; k++) {
            char *key = xasprintf("%s %s", e->subnet->vpc->id,
                                  e->dns_names[k]);
            const struct vpc_eni *prev = shash_find_data(&names, key);
            if (!prev) {
                shash_add_nocopy(&names, key, CONST_CAST(void *, e));
                continue;
            }
            char suffix[48];
            snprintf(suffix, sizeof suffix, ".dns_names[%"PRIuSIZE"]", k);
            struct vpc_obj_path op = { "enis", NULL, i };
            char *path = vpc_obj_path_format(&op, suffix);
            char *v = xasprintf("\"%s\"", e->dns_names[k]);
            vpc_errors_add(errs, path, v, "already a name of %s in %s: a "
                           "name resolves to one ENI of a VPC", prev->id,
                           e->subnet->vpc->id);
            free(path);
            free(v);
            free(key);
        }
    }
    shash_destroy(&names);
}

static void
check_enis(struct vpc_region *r, struct vpc_errors *errs)
{
    check_instance_ids(r, errs);
    struct hmap ips = HMAP_INITIALIZER(&ips);
    struct hmap macs = HMAP_INITIALIZER(&macs);
    struct hmap eips = HMAP_INITIALIZER(&eips);

    /* For elastic IPs: the VPCs with an internet gateway, and every
     * private IP of any VPC with its first ENI. */
    struct hmap igw_vpcs = HMAP_INITIALIZER(&igw_vpcs);
    struct hmap privates = HMAP_INITIALIZER(&privates);
    bool any_eip = false;
    for (size_t i = 0; i < r->n_enis; i++) {
        any_eip |= r->enis[i].has_elastic_ip;
    }
    if (any_eip) {
        for (size_t i = 0; i < r->n_gateways; i++) {
            if (r->gateways[i].kind == VPC_TGT_IGW) {
                dup_check(&igw_vpcs, r->gateways[i].vpc, 0, i);
            }
        }
        for (size_t i = 0; i < r->n_enis; i++) {
            dup_check(&privates, NULL, r->enis[i].ip, i);
        }
    }

    for (size_t i = 0; i < r->n_enis; i++) {
        struct vpc_eni *e = &r->enis[i];
        struct vpc_obj_path op = { "enis", NULL, i };
        if (e->has_elastic_ip) {
            if (dup_find(&igw_vpcs, e->subnet->vpc, 0) == SIZE_MAX) {
                vpc_report_eni_eip_no_igw(e, &op, errs);
            }
            size_t owner = dup_find(&privates, NULL, e->elastic_ip);
            if (owner != SIZE_MAX) {
                vpc_report_eni_eip_private(e, &op, &r->enis[owner], errs);
            }
        }
        if (vpc_check_eni_address(e, &op, errs)) {
            size_t prev = dup_check(&ips, e->subnet->vpc, e->ip, i);
            if (prev != SIZE_MAX) {
                vpc_report_eni_dup_ip(e, &op, r->enis[prev].id, errs);
            }
        }
        size_t prev = dup_check(&macs, NULL, eth_addr_to_uint64(e->mac), i);
        if (prev != SIZE_MAX) {
            vpc_report_eni_dup_mac(e, &op, r->enis[prev].id, errs);
        }
        if (e->has_elastic_ip
            && dup_check(&eips, NULL, e->elastic_ip, i) != SIZE_MAX) {
            vpc_report_eni_dup_eip(e, &op, errs);
        }
        vpc_check_eni_sgs(e, &op, errs);
    }
    dup_destroy(&ips);
    dup_destroy(&macs);
    dup_destroy(&eips);
    dup_destroy(&igw_vpcs);
    dup_destroy(&privates);
    check_dns_names(r, errs);
}

bool
vpc_vpcs_peered(const struct vpc_vpc *a, const struct vpc_vpc *b)
{
    for (size_t i = 0; i < a->n_peerings; i++) {
        if (vpc_peering_other(a->peerings[i], a) == b) {
            return true;
        }
    }
    return false;
}

void
vpc_check_sg(const struct vpc_sg *sg, const struct vpc_obj_path *op,
             struct vpc_errors *errs)
{
    for (size_t d = 0; d < 2; d++) {
        const struct vpc_sg_rule *rules = d ? sg->egress : sg->ingress;
        size_t n = d ? sg->n_egress : sg->n_ingress;
        for (size_t k = 0; k < n; k++) {
            const struct vpc_sg *peer = rules[k].peer_sg;
            if (peer && peer->vpc != sg->vpc
                && !vpc_vpcs_peered(peer->vpc, sg->vpc)) {
                char suffix[64];
                snprintf(suffix, sizeof suffix, ".%s[%"PRIuSIZE"]."
                         "security_group", d ? "egress" : "ingress", k);
                char *path = vpc_obj_path_format(op, suffix);
                char *v = xasprintf("\"%s\"", peer->id);
                vpc_errors_add(errs, path, v, "belongs to %s, which is "
                               "neither %s nor peered with it",
                               peer->vpc->id, sg->vpc->id);
                free(path);
                free(v);
            }
        }
    }
}

static void
check_sg_refs(struct vpc_region *r, struct vpc_errors *errs)
{
    for (size_t i = 0; i < r->n_sgs; i++) {
        struct vpc_obj_path op = { "security_groups", NULL, i };
        vpc_check_sg(&r->sgs[i], &op, errs);
    }
}

void
vpc_check_route_table(const struct vpc_route_table *rtb,
                      const struct vpc_obj_path *op, struct vpc_errors *errs)
{
    const struct vpc_vpc *vpc = rtb->vpc;
    for (size_t k = 0; k < rtb->n_routes; k++) {
        const struct vpc_route *rt = &rtb->routes[k];
        char suffix[48];
        snprintf(suffix, sizeof suffix, ".routes[%"PRIuSIZE"]", rt->index);
        char *base = vpc_obj_path_format(op, suffix);
        char *tpath = xasprintf("%s.target", base);
        const char *tid = NULL;
        const struct vpc_vpc *tvpc = NULL;
        switch (rt->kind) {
        case VPC_TGT_ENI:
            tid = rt->eni->id;
            tvpc = rt->eni->subnet->vpc;
            break;
        case VPC_TGT_PEERING:
            if (rt->peering->requester != vpc
                && rt->peering->accepter != vpc) {
                char *v = xasprintf("\"%s\"", rt->peering->id);
                vpc_errors_add(errs, tpath, v, "peering connection "
                               "between %s and %s does not involve %s",
                               rt->peering->requester->id,
                               rt->peering->accepter->id, vpc->id);
                free(v);
            }
            break;
        VPC_TGT_GATEWAY_CASES
            tid = rt->gateway->id;
            tvpc = rt->gateway->vpc;
            break;
        case VPC_TGT_LOCAL: case VPC_TGT_BLACKHOLE:
            break;
        }
        if (tid) {
            check_same_vpc(errs, tpath, tid, tvpc, vpc, "route target");
        }
        free(tpath);

        if (!rt->prefix_list) {
            char *dpath = xasprintf("%s.destination", base);
            char *v = prefix_str(&rt->dst);
            for (size_t b = 0; b < vpc->n_blocks; b++) {
                if (rt->dst.plen == vpc->blocks[b].plen
                    && rt->dst.addr == vpc->blocks[b].addr
                    && vpc->precedence == VPC_PREC_AWS) {
                    vpc_errors_add(errs, dpath, v, "equals the local route "
                                   "of %s, which cannot be overridden in "
                                   "route_precedence \"aws\"", vpc->id);
                }
            }
            for (size_t o = 0; o < k; o++) {
                const struct vpc_route *p = &rtb->routes[o];
                if (!p->prefix_list && p->dst.plen == rt->dst.plen
                    && p->dst.addr == rt->dst.addr
                    && p->origin == rt->origin) {
                    vpc_errors_add(errs, dpath, v, "duplicate destination: "
                                   "routes[%"PRIuSIZE"] of this table has "
                                   "it too", p->index);
                }
            }
            free(dpath);
            free(v);
        } else {
            for (size_t o = 0; o < k; o++) {
                if (rtb->routes[o].prefix_list == rt->prefix_list) {
                    char *dpath = xasprintf("%s.destination_prefix_list",
                                            base);
                    char *v = xasprintf("\"%s\"", rt->prefix_list->id);
                    vpc_errors_add(errs, dpath, v, "duplicate destination: "
                                   "routes[%"PRIuSIZE"] of this table has "
                                   "it too", rtb->routes[o].index);
                    free(dpath);
                    free(v);
                }
            }
        }
        free(base);
    }
}

static void
check_route_tables(struct vpc_region *r, struct vpc_errors *errs)
{
    for (size_t i = 0; i < r->n_route_tables; i++) {
        struct vpc_obj_path op = { "route_tables", NULL, i };
        vpc_check_route_table(&r->route_tables[i], &op, errs);
    }
}

/* The collection of gateway kind 'kind'. */
static const char *
gateway_key(enum vpc_target_kind kind)
{
#define GW_KEY_(KIND, KEY, ...) case VPC_TGT_##KIND: return KEY;
    switch (kind) {
    VPC_GATEWAY_KINDS(GW_KEY_)
    VPC_TGT_NON_GATEWAY_CASES
        break;
    }
#undef GW_KEY_
    return "?";
}

void
vpc_check_gateway(const struct vpc_gateway *gw, const struct vpc_obj_path *op,
                  struct vpc_errors *errs)
{
    for (size_t k = 0; gw->kind == VPC_TGT_VPCE
                       && k < gw->n_allowed_subnets; k++) {
        const struct vpc_subnet *s = gw->allowed_subnets[k];
        if (s->vpc != gw->vpc) {
            char *path = vpc_obj_path_format(op, ".allowed_subnets");
            check_same_vpc(errs, path, s->id, s->vpc, gw->vpc, "subnet");
            free(path);
        }
    }
}

void
vpc_report_dx_dup(const struct vpc_gateway *gw, const struct vpc_obj_path *op,
                  const char *prev_id, struct vpc_errors *errs)
{
    char *path = vpc_obj_path_format(op, ".c_tag");
    char *v = xasprintf("%d", gw->c_tag);
    vpc_errors_add(errs, path, v, "S-tag %d and C-tag %d are already used "
                   "by %s on the same edge", gw->s_tag, gw->c_tag, prev_id);
    free(path);
    free(v);
}

void
vpc_report_igw_dup(const struct vpc_gateway *gw,
                   const struct vpc_obj_path *op, const char *prev_id,
                   struct vpc_errors *errs)
{
    char *path = vpc_obj_path_format(op, ".vpc");
    char *v = xasprintf("\"%s\"", gw->vpc->id);
    vpc_errors_add(errs, path, v, "a VPC has at most one internet gateway; "
                   "%s is already attached", prev_id);
    free(path);
    free(v);
}

/* Gateways: endpoints' subnets in their VPC, Direct Connect tags unique on
 * an edge.  (Their wire numbers are the pipeline's: pl_gateway_vni().) */
static void
check_gateways(struct vpc_region *r, struct vpc_errors *errs)
{
    size_t index[64] = { 0 };   /* Position within each gateway kind. */
    for (size_t i = 0; i < r->n_gateways; i++) {
        struct vpc_gateway *gw = &r->gateways[i];
        ovs_assert(gw->kind < ARRAY_SIZE(index));
        struct vpc_obj_path op = { gateway_key(gw->kind), NULL,
                                   index[gw->kind]++ };
        vpc_check_gateway(gw, &op, errs);
        for (size_t j = 0; gw->kind == VPC_TGT_DX && j < i; j++) {
            const struct vpc_gateway *o = &r->gateways[j];
            if (o->kind == VPC_TGT_DX && o->edge == gw->edge
                && o->s_tag == gw->s_tag && o->c_tag == gw->c_tag) {
                vpc_report_dx_dup(gw, &op, o->id, errs);
            }
        }
        for (size_t j = 0; gw->kind == VPC_TGT_IGW && j < i; j++) {
            if (r->gateways[j].kind == VPC_TGT_IGW
                && r->gateways[j].vpc == gw->vpc) {
                vpc_report_igw_dup(gw, &op, r->gateways[j].id, errs);
            }
        }
    }
}

void
vpc_report_flow_log_dup(const struct vpc_flow_log *fl,
                        const struct vpc_obj_path *op, const char *prev_id,
                        struct vpc_errors *errs)
{
    char *path = vpc_obj_path_format(op, ".traffic_type");
    char *v = xasprintf("\"%s\"", vpc_flow_log_traffic_name(fl->traffic));
    vpc_errors_add(errs, path, v, "%s already logs this traffic of %s (a "
                   "resource has at most one flow log per traffic type)",
                   prev_id, vpc_flow_log_resource_id(fl));
    free(path);
    free(v);
}

/* True if flow logs 'a' and 'b' are the same configuration: the same
 * resource and traffic type. */
bool
vpc_flow_logs_equal(const struct vpc_flow_log *a,
                    const struct vpc_flow_log *b)
{
    return (a->eni == b->eni && a->subnet == b->subnet && a->vpc == b->vpc
            && a->traffic == b->traffic);
}

/* Flow logs: one per (resource, traffic type), as AWS's
 * FlowLogAlreadyExists; reported on the later, naming each earlier one. */
static void
check_flow_logs(struct vpc_region *r, struct vpc_errors *errs)
{
    for (size_t i = 0; i < r->n_flow_logs; i++) {
        const struct vpc_flow_log *fl = &r->flow_logs[i];
        struct vpc_obj_path op = { "flow_logs", NULL, i };
        for (size_t j = 0; j < i; j++) {
            if (vpc_flow_logs_equal(&r->flow_logs[j], fl)) {
                vpc_report_flow_log_dup(fl, &op, r->flow_logs[j].id, errs);
            }
        }
    }
}

void
vpc_check_region(struct vpc_region *r, struct vpc_errors *errs)
{
    check_hosts(r, errs);
    check_vpcs(r, errs);
    check_peerings(r, errs);
    check_subnets(r, errs);
    check_enis(r, errs);
    check_sg_refs(r, errs);
    check_route_tables(r, errs);
    check_gateways(r, errs);
    check_flow_logs(r, errs);
}
