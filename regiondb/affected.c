/* regiondb/affected.c: the hosts that a one-object write affects, through
 * the validator's indexes (regiondb/affected.h).
 *
 * Every step reads only the objects that reference a VPC, a subnet or a
 * group in the sets it builds (vpc_validator_referrers()), and checks each
 * candidate against its JSON with the same test as a walk of the whole
 * document would, so that the result is the walk's (tests/unit/
 * test-validator.c keeps that walk and compares both on every accepted
 * change). */

#include <config.h>
#include "regiondb/affected.h"

#include <stdlib.h>
#include <string.h>
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "sset.h"
#include "translator/model.h"
#include "translator/validator.h"
#include "util.h"

/* The string 'field' of 'obj', or NULL. */
static const char *
aff_str(const struct json *obj, const char *field)
{
    const struct json *v = (obj && obj->type == JSON_OBJECT
                            ? shash_find_data(json_object(obj), field)
                            : NULL);
    return v && v->type == JSON_STRING ? json_string(v) : NULL;
}

static bool
aff_str_is(const struct json *obj, const char *field, const char *value)
{
    const char *s = aff_str(obj, field);
    return s && value && !strcmp(s, value);
}

/* True if 'collection' is one of the gateways' (whose objects live on an
 * edge). */
static bool
aff_is_gateway_collection(const char *collection)
{
#define AFF_GW_KEY_(KIND, KEY, ...) KEY,
    static const char *const keys[] = { VPC_GATEWAY_KINDS(AFF_GW_KEY_) };
#undef AFF_GW_KEY_
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (!strcmp(collection, keys[i])) {
            return true;
        }
    }
    return false;
}

/* The VPC of subnet 'id', or NULL. */
static const char *
aff_subnet_vpc(const struct vpc_validator *v, const char *id)
{
    return id ? aff_str(vpc_validator_get(v, "subnets", id), "vpc") : NULL;
}

/* Adds to 'vpcs' the VPCs that 'obj' of 'collection' belongs to.  Returns
 * false if it belongs to no VPC (hosts, edges, prefix lists). */
static bool
aff_object_vpcs(const struct vpc_validator *v, const char *collection,
                const struct json *obj, struct sset *vpcs)
{
    const char *vpc = NULL;
    if (!strcmp(collection, "vpcs")) {
        vpc = aff_str(obj, "id");
    } else if (!strcmp(collection, "enis")) {
        vpc = aff_subnet_vpc(v, aff_str(obj, "subnet"));
    } else if (!strcmp(collection, "peering_connections")) {
        const char *a = aff_str(obj, "requester_vpc");
        const char *b = aff_str(obj, "accepter_vpc");
        if (a) {
            sset_add(vpcs, a);
        }
        vpc = b;
    } else if (aff_str(obj, "vpc")) {
        vpc = aff_str(obj, "vpc");
    } else if (aff_str(obj, "subnet")) {
        /* A NAT gateway is in its subnet's VPC. */
        vpc = aff_subnet_vpc(v, aff_str(obj, "subnet"));
    } else {
        return false;
    }
    if (vpc) {
        sset_add(vpcs, vpc);
    }
    return true;
}

/* Adds every host and edge of the region to 'hosts'. */
static void
aff_all_hosts(const struct vpc_validator *v, struct sset *hosts)
{
    static const char *const colls[] = { "hosts", "edges" };
    const struct json *doc = vpc_validator_document(v);
    for (size_t c = 0; c < ARRAY_SIZE(colls); c++) {
        const struct json *a = shash_find_data(json_object(doc), colls[c]);
        for (size_t i = 0; a && a->type == JSON_ARRAY
                           && i < json_array(a)->n; i++) {
            const char *id = aff_str(json_array(a)->elems[i], "id");
            if (id) {
                sset_add(hosts, id);
            }
        }
    }
}

/* True if a rule of group 'sg' names group 'id'. */
static bool
aff_rule_names(const struct json *sg, const char *id)
{
    static const char *const dirs[] = { "ingress", "egress" };
    for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
        const struct json *rules = (sg->type == JSON_OBJECT
                                    ? shash_find_data(json_object(sg),
                                                      dirs[d])
                                    : NULL);
        for (size_t k = 0; rules && rules->type == JSON_ARRAY
                           && k < json_array(rules)->n; k++) {
            if (aff_str_is(json_array(rules)->elems[k], "security_group",
                           id)) {
                return true;
            }
        }
    }
    return false;
}

/* R: 'seeds' plus, to a fixed point, every VPC with a rule naming a group
 * of a VPC in R.  A worklist: each VPC's groups, and the groups whose
 * rules name them, are read once. */
static void
aff_referring_vpcs(const struct vpc_validator *v, const struct sset *seeds,
                   struct sset *r)
{
    sset_clone(r, seeds);
    size_t n = 0, allocated = sset_count(r);
    const char **queue = xmalloc(MAX(allocated, 1) * sizeof *queue);
    const char *name;
    SSET_FOR_EACH (name, r) {
        queue[n++] = name;
    }
    while (n) {
        const char *vpc = queue[--n];
        struct vpc_validator_ref *groups;
        size_t n_groups = vpc_validator_referrers(v, vpc, &groups);
        for (size_t i = 0; i < n_groups; i++) {
            const char *g = aff_str(groups[i].obj, "id");
            if (strcmp(groups[i].collection, "security_groups")
                || !aff_str_is(groups[i].obj, "vpc", vpc) || !g) {
                continue;
            }
            struct vpc_validator_ref *namers;
            size_t n_namers = vpc_validator_referrers(v, g, &namers);
            for (size_t k = 0; k < n_namers; k++) {
                const char *x = aff_str(namers[k].obj, "vpc");
                if (strcmp(namers[k].collection, "security_groups")
                    || !x || sset_contains(r, x)
                    || !aff_rule_names(namers[k].obj, g)) {
                    continue;
                }
                struct sset_node *node = sset_add(r, x);
                if (n >= allocated) {
                    queue = x2nrealloc(queue, &allocated, sizeof *queue);
                }
                queue[n++] = node->name;
            }
            free(namers);
        }
        free(groups);
    }
    free(queue);
}

/* Adds to 'hosts' every host whose scope holds one of 'seeds'
 * (regiondb/affected.h). */
static void
aff_hosts_of_vpcs(const struct vpc_validator *v, const struct sset *seeds,
                  struct sset *hosts)
{
    struct sset r;
    aff_referring_vpcs(v, seeds, &r);

    /* S: R and its peers. */
    struct sset s;
    sset_clone(&s, &r);
    const char *vpc;
    SSET_FOR_EACH (vpc, &r) {
        struct vpc_validator_ref *refs;
        size_t n = vpc_validator_referrers(v, vpc, &refs);
        for (size_t i = 0; i < n; i++) {
            if (strcmp(refs[i].collection, "peering_connections")) {
                continue;
            }
            const char *a = aff_str(refs[i].obj, "requester_vpc");
            const char *b = aff_str(refs[i].obj, "accepter_vpc");
            if (a && b && sset_contains(&r, a)) {
                sset_add(&s, b);
            }
            if (a && b && sset_contains(&r, b)) {
                sset_add(&s, a);
            }
        }
        free(refs);
    }
    sset_destroy(&r);

    /* The hosts of the ENIs of the subnets of S, and the edges of the
     * gateways of S: candidates from the VPCs' and the subnets' referrers,
     * each checked as a walk of the document checks it. */
    const struct json *edges = shash_find_data(
        json_object(vpc_validator_document(v)), "edges");
    const char *only_edge = (edges && edges->type == JSON_ARRAY
                             && json_array(edges)->n == 1
                             ? aff_str(json_array(edges)->elems[0], "id")
                             : NULL);
    SSET_FOR_EACH (vpc, &s) {
        struct vpc_validator_ref *refs;
        size_t n = vpc_validator_referrers(v, vpc, &refs);
        for (size_t i = 0; i < n; i++) {
            const struct json *o = refs[i].obj;
            const char *c = refs[i].collection;
            struct vpc_validator_ref *sub = NULL;
            size_t n_sub = 0;
            const char *subnet = aff_str(o, "id");
            if (!strcmp(c, "subnets") && aff_str_is(o, "vpc", vpc)
                && subnet) {
                n_sub = vpc_validator_referrers(v, subnet, &sub);
            }
            /* The candidates: the VPC's referrer itself, then the
             * referrers of a subnet of the VPC. */
            for (size_t k = 0; k <= n_sub; k++) {
                const struct json *x = k ? sub[k - 1].obj : o;
                const char *xc = k ? sub[k - 1].collection : c;
                if (k && !strcmp(xc, "enis")
                    && aff_str_is(x, "subnet", subnet)) {
                    const char *host = aff_str(x, "host");
                    if (host) {
                        sset_add(hosts, host);
                    }
                } else if (aff_is_gateway_collection(xc)) {
                    const char *gv = aff_str(x, "vpc");
                    if (!gv) {
                        gv = aff_subnet_vpc(v, aff_str(x, "subnet"));
                    }
                    const char *edge = aff_str(x, "edge");
                    if (!edge) {
                        edge = only_edge;
                    }
                    if (gv && edge && sset_contains(&s, gv)) {
                        sset_add(hosts, edge);
                    }
                }
            }
            free(sub);
        }
        free(refs);
    }
    sset_destroy(&s);
}

bool
rdb_object_vpcs(const struct vpc_validator *v, const char *collection,
                const struct json *obj, struct sset *vpcs)
{
    return !obj || aff_object_vpcs(v, collection, obj, vpcs);
}

void
rdb_affected_hosts(const struct vpc_validator *v, const char *collection,
                   const struct json *obj, struct sset *hosts)
{
    if (!obj) {
        return;
    }
    struct sset vpcs = SSET_INITIALIZER(&vpcs);
    if (aff_object_vpcs(v, collection, obj, &vpcs)) {
        aff_hosts_of_vpcs(v, &vpcs, hosts);
    } else {
        aff_all_hosts(v, hosts);
    }
    sset_destroy(&vpcs);
    /* The host an ENI leaves or joins, the edge of a gateway. */
    const char *h = aff_str(obj, !strcmp(collection, "enis") ? "host"
                                                             : "edge");
    if (h) {
        sset_add(hosts, h);
    }
}
