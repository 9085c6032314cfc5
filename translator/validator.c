/* translator/validator.c: validates one-object changes to a region
 * incrementally (translator/validator.h).
 *
 * State.  The validator keeps the document, the model of translator/model.h
 * and indexes over both:
 *
 *   - 'objs': every object by id (ids are unique in a valid region), with
 *     its collection, its JSON element in the document, its model object and
 *     its position in document order ('seq', increasing along each
 *     collection's array);
 *   - on every object, the objects that reference it ("referrers": the ENIs
 *     of a subnet, of a security group, of a host; the subnets of a route
 *     table or network ACL; the route tables with a route to an ENI, a
 *     peering or a gateway; the security groups with a rule naming a group;
 *     everything of a VPC...), with a count;
 *   - ENIs by (VPC, private IP), by private IP alone, by MAC and by
 *     elastic IP; hosts and edges by underlay address; VPCs by VNI.
 *
 * The model is updated in place, object by object: the objects loaded with
 * the document stay in the region's arrays, new ones are malloc'd one by
 * one, and a replaced object gets its new contents at its old address, so
 * that every pointer to it stays valid.  The region's arrays thus stop
 * listing every object after the first change; r->by_id, which the parsers
 * resolve references with, is always exact.  Nothing outside this file sees
 * the model.
 *
 * A change is validated with the code of the whole-document validation
 * (translator/rules.h): pass 1 and 2 of the new object, against r->by_id;
 * the pass-3 rules of the new object, with the indexes standing for the
 * duplicate sets; the pass-3 rules of its referrers; for a delete, pass 2
 * of every referrer, which then sees a dangling reference; for a peering
 * delete, the security groups of both VPCs.  A replacement is tried in
 * place and undone if refused.  docs/regiondb.md, "Incremental
 * validation", lists the changes this covers; the others revalidate the
 * whole document with the change applied. */

#include <config.h>
#include "translator/validator.h"

#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/util.h"
#include "hash.h"
#include "packets.h"
#include "translator/model.h"
#include "translator/rules.h"
#include "util.h"

/* Collections, by their index in translator/rules.h's table. */
static int C_HOST, C_EDGE, C_PL, C_VPC, C_PCX, C_SG, C_NACL, C_RTB, C_SUBNET;
static int C_ENI, C_FL, C_GW0, C_IGW, C_DX;

/* An object that references another one, 'n' times. */
struct vref {
    struct hmap_node node;      /* In the target's 'referrers'. */
    struct vobj *from;
    unsigned int n;
};

struct vobj {
    struct hmap_node node;      /* In v->objs, by id. */
    char *id;
    int c;                      /* Collection. */
    uint64_t seq;               /* Document order within a collection. */
    struct json *json;          /* Its element of the document. */
    void *model;                /* Its object in the model. */
    bool heap;                  /* 'model' is malloc'd (else in r's arrays). */
    struct hmap referrers;      /* struct vref. */

    /* ENIs: the keys under which the indexes hold it. */
    struct hmap_node ip_node, mac_node, eip_node, any_ip_node, iid_node;
    const void *ip_scope;       /* Its VPC. */
    uint32_t ip, eip;
    uint64_t mac;
    bool has_eip;
    char *instance_id;          /* Copied: unique in the region. */

    /* Hosts and edges: the underlay index; VPCs: the VNI index (one
     * node, 'underlay' holding the VNI). */
    struct hmap_node underlay_node;
    uint32_t underlay;
};

struct vpc_validator {
    struct json *doc;
    struct vpc_region *r;
    struct hmap objs;           /* struct vobj, by hash_string(id). */
    struct hmap ips, macs, eips;        /* ENIs' struct vobj. */
    struct hmap iids;                   /* ENIs', by instance id. */
    struct hmap any_ips;                /* ENIs', by private IP alone. */
    struct hmap underlays;              /* Hosts' and edges'. */
    struct hmap vnis;                   /* VPCs'. */
    uint64_t next_seq;
    bool last_incremental;
};

static void
init_collections(void)
{
    if (C_ENI) {
        return;
    }
#define GW_KEY_(KIND, KEY, ...) KEY,
    static const char *const gw_keys[] = { VPC_GATEWAY_KINDS(GW_KEY_) };
#undef GW_KEY_
    C_HOST = vpc_collection_find("hosts");
    C_EDGE = vpc_collection_find("edges");
    C_PL = vpc_collection_find("prefix_lists");
    C_VPC = vpc_collection_find("vpcs");
    C_PCX = vpc_collection_find("peering_connections");
    C_SG = vpc_collection_find("security_groups");
    C_NACL = vpc_collection_find("network_acls");
    C_RTB = vpc_collection_find("route_tables");
    C_SUBNET = vpc_collection_find("subnets");
    C_ENI = vpc_collection_find("enis");
    C_FL = vpc_collection_find("flow_logs");
    C_GW0 = vpc_collection_find(gw_keys[0]);
    C_IGW = vpc_collection_find("internet_gateways");
    C_DX = vpc_collection_find("direct_connect");
    ovs_assert(C_HOST >= 0 && C_EDGE >= 0 && C_PL >= 0 && C_VPC >= 0
               && C_PCX >= 0 && C_SG >= 0 && C_NACL >= 0 && C_RTB >= 0
               && C_SUBNET >= 0 && C_ENI > 0 && C_FL > 0 && C_GW0 > C_FL
               && C_IGW >= C_GW0 && C_DX >= C_GW0);
}

/* ------------------------------------------------------------- objects */

static struct vobj *
find_obj(const struct vpc_validator *v, const char *id)
{
    struct vobj *o;
    HMAP_FOR_EACH_WITH_HASH (o, node, hash_string(id, 0), &v->objs) {
        if (!strcmp(o->id, id)) {
            return o;
        }
    }
    return NULL;
}

static const char *
json_id(const struct json *j)
{
    const struct json *id = (j->type == JSON_OBJECT
                             ? shash_find_data(json_object(j), "id") : NULL);
    return id && id->type == JSON_STRING ? json_string(id) : NULL;
}

static struct vobj *
obj_create(struct vpc_validator *v, int c, const char *id,
           struct json *json, void *model, bool heap)
{
    struct vobj *o = xzalloc(sizeof *o);
    o->id = xstrdup(id);
    o->c = c;
    o->seq = v->next_seq++;
    o->json = json;
    o->model = model;
    o->heap = heap;
    hmap_init(&o->referrers);
    hmap_insert(&v->objs, &o->node, hash_string(id, 0));
    return o;
}

/* Frees 'o' and its model object, but not its JSON. */
static void
obj_free(struct vobj *o)
{
    vpc_object_destroy(o->c, o->model);
    if (o->heap) {
        free(o->model);
    }
    struct vref *ref;
    HMAP_FOR_EACH_POP (ref, node, &o->referrers) {
        free(ref);
    }
    hmap_destroy(&o->referrers);
    free(o->instance_id);
    free(o->id);
    free(o);
}

/* Records that 'from' references the object named 'id' ('delta' = 1) or
 * no longer does (-1).  References of an object to itself are not kept. */
static void
ref_update(struct vpc_validator *v, struct vobj *from, const char *id,
           int delta)
{
    struct vobj *to = find_obj(v, id);
    if (!to || to == from) {
        return;
    }
    uint32_t hash = hash_pointer(from, 0);
    struct vref *ref;
    HMAP_FOR_EACH_WITH_HASH (ref, node, hash, &to->referrers) {
        if (ref->from == from) {
            ref->n += delta;
            if (!ref->n) {
                hmap_remove(&to->referrers, &ref->node);
                free(ref);
            }
            return;
        }
    }
    ovs_assert(delta > 0);
    ref = xmalloc(sizeof *ref);
    ref->from = from;
    ref->n = delta;
    hmap_insert(&to->referrers, &ref->node, hash);
}

#define REF(PTR)                                                    \
    do {                                                            \
        if (PTR) {                                                  \
            ref_update(v, o, *(char *const *) (PTR), delta);        \
        }                                                           \
    } while (0)

/* Adds ('delta' = 1) or removes (-1) the references that 'model' (the
 * contents of 'o') makes. */
static void
refs_update(struct vpc_validator *v, struct vobj *o, const void *model,
            int delta)
{
    int c = o->c;
    if (c == C_PCX) {
        const struct vpc_peering *pcx = model;
        REF(pcx->requester);
        REF(pcx->accepter);
    } else if (c == C_SG) {
        const struct vpc_sg *sg = model;
        REF(sg->vpc);
        for (size_t i = 0; i < sg->n_ingress; i++) {
            REF(sg->ingress[i].peer_sg);
        }
        for (size_t i = 0; i < sg->n_egress; i++) {
            REF(sg->egress[i].peer_sg);
        }
    } else if (c == C_NACL) {
        const struct vpc_nacl *nacl = model;
        REF(nacl->vpc);
    } else if (c == C_RTB) {
        const struct vpc_route_table *rtb = model;
        REF(rtb->vpc);
        for (size_t i = 0; i < rtb->n_routes; i++) {
            const struct vpc_route *rt = &rtb->routes[i];
            REF(rt->prefix_list);
            REF(rt->eni);
            REF(rt->peering);
            REF(rt->gateway);
        }
    } else if (c == C_SUBNET) {
        const struct vpc_subnet *s = model;
        REF(s->vpc);
        REF(s->route_table);
        REF(s->nacl);
    } else if (c == C_ENI) {
        const struct vpc_eni *e = model;
        REF(e->subnet);
        REF(e->host);
        for (size_t i = 0; i < e->n_sgs; i++) {
            REF(e->sgs[i]);
        }
    } else if (c == C_FL) {
        const struct vpc_flow_log *fl = model;
        REF(fl->eni);
        REF(fl->subnet);
        REF(fl->vpc);
    } else if (c >= C_GW0) {
        const struct vpc_gateway *gw = model;
        REF(gw->vpc);
        REF(gw->edge);
        REF(gw->subnet);
        REF(gw->prefix_list);
        for (size_t i = 0; i < gw->n_allowed_subnets; i++) {
            REF(gw->allowed_subnets[i]);
        }
    }
}
#undef REF

/* ----------------------------------------------------------- ENI indexes */

static uint32_t
ip_hash(const void *scope, uint32_t ip)
{
    return hash_pointer(scope, hash_int(ip, 0));
}

/* The ENI other than 'self' that the indexes hold under each key. */
static struct vobj *
find_ip(const struct vpc_validator *v, const void *scope, uint32_t ip,
        const struct vobj *self)
{
    struct vobj *o;
    HMAP_FOR_EACH_WITH_HASH (o, ip_node, ip_hash(scope, ip), &v->ips) {
        if (o != self && o->ip_scope == scope && o->ip == ip) {
            return o;
        }
    }
    return NULL;
}

static struct vobj *
find_mac(const struct vpc_validator *v, uint64_t mac, const struct vobj *self)
{
    struct vobj *o;
    HMAP_FOR_EACH_WITH_HASH (o, mac_node, hash_uint64(mac), &v->macs) {
        if (o != self && o->mac == mac) {
            return o;
        }
    }
    return NULL;
}

static struct vobj *
find_iid(const struct vpc_validator *v, const char *iid,
         const struct vobj *self)
{
    struct vobj *o;
    HMAP_FOR_EACH_WITH_HASH (o, iid_node, hash_string(iid, 0), &v->iids) {
        if (o != self && !strcmp(o->instance_id, iid)) {
            return o;
        }
    }
    return NULL;
}

static struct vobj *
find_eip(const struct vpc_validator *v, uint32_t eip, const struct vobj *self)
{
    struct vobj *o;
    HMAP_FOR_EACH_WITH_HASH (o, eip_node, hash_int(eip, 0), &v->eips) {
        if (o != self && o->has_eip && o->eip == eip) {
            return o;
        }
    }
    return NULL;
}

/* The first ENI in document order, other than 'self', whose private IP is
 * 'ip' (of any VPC), or NULL. */
static struct vobj *
find_any_ip(const struct vpc_validator *v, uint32_t ip,
            const struct vobj *self)
{
    struct vobj *o, *first = NULL;
    HMAP_FOR_EACH_WITH_HASH (o, any_ip_node, hash_int(ip, 0), &v->any_ips) {
        if (o != self && o->ip == ip && (!first || o->seq < first->seq)) {
            first = o;
        }
    }
    return first;
}

static void
eni_index_add(struct vpc_validator *v, struct vobj *o)
{
    const struct vpc_eni *e = o->model;
    o->ip_scope = e->subnet->vpc;
    o->ip = e->ip;
    o->mac = eth_addr_to_uint64(e->mac);
    o->has_eip = e->has_elastic_ip;
    o->eip = e->elastic_ip;
    hmap_insert(&v->ips, &o->ip_node, ip_hash(o->ip_scope, o->ip));
    hmap_insert(&v->any_ips, &o->any_ip_node, hash_int(o->ip, 0));
    hmap_insert(&v->macs, &o->mac_node, hash_uint64(o->mac));
    o->instance_id = xstrdup(e->instance_id);
    hmap_insert(&v->iids, &o->iid_node, hash_string(o->instance_id, 0));
    if (o->has_eip) {
        hmap_insert(&v->eips, &o->eip_node, hash_int(o->eip, 0));
    }
}

static void
eni_index_remove(struct vpc_validator *v, struct vobj *o)
{
    hmap_remove(&v->ips, &o->ip_node);
    hmap_remove(&v->any_ips, &o->any_ip_node);
    hmap_remove(&v->macs, &o->mac_node);
    hmap_remove(&v->iids, &o->iid_node);
    free(o->instance_id);
    o->instance_id = NULL;
    if (o->has_eip) {
        hmap_remove(&v->eips, &o->eip_node);
    }
}

static void
host_index_add(struct vpc_validator *v, struct vobj *o)
{
    const struct vpc_host *h = o->model;
    o->underlay = h->underlay_ip;
    hmap_insert(&v->underlays, &o->underlay_node, hash_int(o->underlay, 0));
}

static struct vobj *
find_underlay(const struct vpc_validator *v, uint32_t ip,
              const struct vobj *self)
{
    struct vobj *o;
    HMAP_FOR_EACH_WITH_HASH (o, underlay_node, hash_int(ip, 0),
                             &v->underlays) {
        if (o != self && o->underlay == ip) {
            return o;
        }
    }
    return NULL;
}

static struct vobj *
find_vni(const struct vpc_validator *v, uint32_t vni, const struct vobj *self)
{
    struct vobj *o;
    HMAP_FOR_EACH_WITH_HASH (o, underlay_node, hash_int(vni, 0), &v->vnis) {
        if (o != self && o->underlay == vni) {
            return o;
        }
    }
    return NULL;
}

/* Adds object 'o' to the indexes of its collection, or removes it. */
static void
index_add(struct vpc_validator *v, struct vobj *o)
{
    if (o->c == C_ENI) {
        eni_index_add(v, o);
    } else if (o->c == C_HOST || o->c == C_EDGE) {
        host_index_add(v, o);
    } else if (o->c == C_VPC) {
        o->underlay = ((const struct vpc_vpc *) o->model)->vni;
        hmap_insert(&v->vnis, &o->underlay_node, hash_int(o->underlay, 0));
    }
}

static void
index_remove(struct vpc_validator *v, struct vobj *o)
{
    if (o->c == C_ENI) {
        eni_index_remove(v, o);
    } else if (o->c == C_HOST || o->c == C_EDGE) {
        hmap_remove(&v->underlays, &o->underlay_node);
    } else if (o->c == C_VPC) {
        hmap_remove(&v->vnis, &o->underlay_node);
    }
}

/* ------------------------------------------------------------- the state */

/* Builds the indexes over 'doc' and its model 'r' (both become 'v''s). */
static void
state_build(struct vpc_validator *v, struct json *doc, struct vpc_region *r)
{
    v->doc = doc;
    v->r = r;
    hmap_init(&v->objs);
    hmap_init(&v->ips);
    hmap_init(&v->any_ips);
    hmap_init(&v->macs);
    hmap_init(&v->iids);
    hmap_init(&v->eips);
    hmap_init(&v->underlays);
    hmap_init(&v->vnis);
    v->next_seq = 0;

    size_t n = 0;
    for (size_t c = 0; c < vpc_collection_count(); c++) {
        const struct json *a = shash_find_data(json_object(doc),
                                               vpc_collection_key(c));
        n += a ? json_array(a)->n : 0;
    }
    hmap_reserve(&v->objs, n);

    for (size_t c = 0; c < vpc_collection_count(); c++) {
        const struct json *a = shash_find_data(json_object(doc),
                                               vpc_collection_key(c));
        for (size_t i = 0; a && i < json_array(a)->n; i++) {
            struct json *j = json_array(a)->elems[i];
            const char *id = json_id(j);
            obj_create(v, c, id, j, vpc_region_find_object(r, id), false);
        }
    }
    struct vobj *o;
    HMAP_FOR_EACH (o, node, &v->objs) {
        refs_update(v, o, o->model, 1);
        index_add(v, o);
    }
}

static void
state_destroy(struct vpc_validator *v)
{
    struct vobj *o;
    HMAP_FOR_EACH_POP (o, node, &v->objs) {
        obj_free(o);
    }
    hmap_destroy(&v->objs);
    hmap_destroy(&v->ips);
    hmap_destroy(&v->any_ips);
    hmap_destroy(&v->macs);
    hmap_destroy(&v->iids);
    hmap_destroy(&v->eips);
    hmap_destroy(&v->underlays);
    hmap_destroy(&v->vnis);
    vpc_region_destroy_shell(v->r);
    json_destroy(v->doc);
    v->r = NULL;
    v->doc = NULL;
}

struct vpc_validator *
vpc_validator_create(const struct json *doc, struct vpc_errors *errors)
{
    init_collections();
    struct vpc_region *r = vpc_region_from_json(doc, errors);
    if (!r) {
        return NULL;
    }
    struct vpc_validator *v = xzalloc(sizeof *v);
    state_build(v, json_deep_clone(doc), r);
    return v;
}

void
vpc_validator_destroy(struct vpc_validator *v)
{
    if (v) {
        state_destroy(v);
        free(v);
    }
}

const struct json *
vpc_validator_get(const struct vpc_validator *v, const char *collection,
                  const char *id)
{
    const struct vobj *o = find_obj(v, id);
    return o && !strcmp(vpc_collection_key(o->c), collection) ? o->json : NULL;
}

const struct json *
vpc_validator_document(const struct vpc_validator *v)
{
    return v->doc;
}

const struct vpc_region *
vpc_validator_model(const struct vpc_validator *v)
{
    return v->r;
}

size_t
vpc_validator_referrers(const struct vpc_validator *v, const char *id,
                        struct vpc_validator_ref **refsp)
{
    const struct vobj *o = id ? find_obj(v, id) : NULL;
    size_t n = o ? hmap_count(&o->referrers) : 0;
    struct vpc_validator_ref *refs = xmalloc(MAX(n, 1) * sizeof *refs);
    size_t i = 0;
    if (o) {
        const struct vref *ref;
        HMAP_FOR_EACH (ref, node, &o->referrers) {
            refs[i].collection = vpc_collection_key(ref->from->c);
            refs[i].obj = ref->from->json;
            i++;
        }
    }
    *refsp = refs;
    return i;
}

bool
vpc_validator_last_was_incremental(const struct vpc_validator *v)
{
    return v->last_incremental;
}

/* ------------------------------------------------------- the document */

/* The array of collection 'c' in 'doc', created if 'create'. */
static struct json *
doc_array(struct json *doc, size_t c, bool create)
{
    const char *key = vpc_collection_key(c);
    struct json *a = shash_find_data(json_object(doc), key);
    if (!a && create) {
        a = json_array_create_empty();
        json_object_put(doc, key, a);
    }
    return a;
}

/* The position of 'o' in its collection's array of v->doc. */
static size_t
doc_index(const struct vpc_validator *v, const struct vobj *o)
{
    const struct json_array *a = json_array(doc_array(v->doc, o->c, false));
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct vobj *m = find_obj(v, json_id(a->elems[mid]));
        if (m == o) {
            return mid;
        } else if (m->seq < o->seq) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    OVS_NOT_REACHED();
}

static void
array_remove(struct json_array *a, size_t i)
{
    memmove(&a->elems[i], &a->elems[i + 1],
            (a->n - i - 1) * sizeof *a->elems);
    a->n--;
}

/* ------------------------------------------------------------ checking */

/* The pass-3 rules of object 'model' of collection 'c' that involve only
 * it and the objects it references. */
static void
check_local(int c, const void *model, const struct vpc_obj_path *op,
            struct vpc_errors *errs)
{
    if (c == C_ENI) {
        vpc_check_eni_address(model, op, errs);
        vpc_check_eni_sgs(model, op, errs);
    } else if (c == C_SUBNET) {
        vpc_check_subnet(model, op, errs);
    } else if (c == C_PCX) {
        vpc_check_peering(model, op, errs);
    } else if (c == C_SG) {
        vpc_check_sg(model, op, errs);
    } else if (c == C_RTB) {
        vpc_check_route_table(model, op, errs);
    } else if (c >= C_GW0) {
        vpc_check_gateway(model, op, errs);
    }
}

static int
compare_refs(const void *a_, const void *b_)
{
    const struct vobj *a = *(const struct vobj *const *) a_;
    const struct vobj *b = *(const struct vobj *const *) b_;
    if (a->c != b->c) {
        return a->c < b->c ? -1 : 1;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The referrers of 'o', in document order; '*n' gets their number. */
static struct vobj **
referrers(const struct vobj *o, size_t *n)
{
    struct vobj **refs = xmalloc((hmap_count(&o->referrers) + 1)
                                 * sizeof *refs);
    const struct vref *ref;
    *n = 0;
    HMAP_FOR_EACH (ref, node, &o->referrers) {
        refs[(*n)++] = ref->from;
    }
    qsort(refs, *n, sizeof *refs, compare_refs);
    return refs;
}

/* Pass 2 of every referrer of 'o' as if 'o' were gone: each then reports
 * its dangling reference, exactly as the whole-document validation. */
static void
reparse_referrers(struct vpc_validator *v, const struct vobj *o,
                  struct vpc_errors *errs)
{
    size_t n;
    struct vobj **refs = referrers(o, &n);
    if (!n) {
        free(refs);
        return;
    }
    void *model = vpc_region_unregister(v->r, o->id);  /* NULL if gone. */
    for (size_t i = 0; i < n; i++) {
        const struct vobj *from = refs[i];
        char *path = xasprintf("$.%s[%s]", vpc_collection_key(from->c),
                               from->id);
        void *tmp = xzalloc(vpc_collection_obj_size(from->c));
        vpc_object_parse(v->r, from->c, from->json, path, false, tmp, errs);
        vpc_object_destroy(from->c, tmp);
        free(tmp);
        free(path);
    }
    if (model) {
        vpc_region_register(v->r, o->c, o->id, model);
    }
    free(refs);
}

/* The pass-3 rules of the referrers of 'o'. */
static void
check_referrers(const struct vobj *o, struct vpc_errors *errs)
{
    size_t n;
    struct vobj **refs = referrers(o, &n);
    for (size_t i = 0; i < n; i++) {
        struct vpc_obj_path op = { vpc_collection_key(refs[i]->c),
                                   refs[i]->id, 0 };
        check_local(refs[i]->c, refs[i]->model, &op, errs);
    }
    free(refs);
}

/* The duplicate rules for ENI 'e' named 'id' at 'op', which replaces 'self'
 * (NULL for an insert).  Whole-document validation reports a duplicate on
 * the later of the two ENIs in the document, naming the earlier. */
static void
check_eni_dups(const struct vpc_validator *v, const struct vpc_eni *e,
               const char *id, const struct vpc_obj_path *op,
               const struct vobj *self, bool ip_ok, struct vpc_errors *errs)
{
    struct vobj *h;
    if (ip_ok && (h = find_ip(v, e->subnet->vpc, e->ip, self))) {
        if (!self || h->seq < self->seq) {
            vpc_report_eni_dup_ip(e, op, h->id, errs);
        } else {
            struct vpc_obj_path hop = { "enis", h->id, 0 };
            vpc_report_eni_dup_ip(h->model, &hop, id, errs);
        }
    }
    if ((h = find_mac(v, eth_addr_to_uint64(e->mac), self))) {
        if (!self || h->seq < self->seq) {
            vpc_report_eni_dup_mac(e, op, h->id, errs);
        } else {
            struct vpc_obj_path hop = { "enis", h->id, 0 };
            vpc_report_eni_dup_mac(h->model, &hop, id, errs);
        }
    }
    if ((h = find_iid(v, e->instance_id, self))) {
        if (!self || h->seq < self->seq) {
            vpc_report_eni_dup_instance(e, op, h->id, errs);
        } else {
            struct vpc_obj_path hop = { "enis", h->id, 0 };
            vpc_report_eni_dup_instance(h->model, &hop, id, errs);
        }
    }
    if (e->has_elastic_ip && (h = find_eip(v, e->elastic_ip, self))) {
        if (!self || h->seq < self->seq) {
            vpc_report_eni_dup_eip(e, op, errs);
        } else {
            struct vpc_obj_path hop = { "enis", h->id, 0 };
            vpc_report_eni_dup_eip(h->model, &hop, errs);
        }
    }
}

/* Whether VPC 'vpc' has an internet gateway other than 'except'. */
static bool
vpc_has_igw(const struct vpc_validator *v, const struct vpc_vpc *vpc,
            const struct vobj *except)
{
    size_t n;
    struct vobj **refs = referrers(find_obj(v, vpc->id), &n);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++) {
        found = refs[i]->c == C_IGW && refs[i] != except;
    }
    free(refs);
    return found;
}

/* The elastic-IP rules for ENI 'e' at 'op', which replaces
 * 'self' (NULL for an insert): its VPC has an internet gateway, its
 * elastic IP is no ENI's private IP, and its private IP is no other ENI's
 * elastic IP (then reported on that ENI, naming 'e'). */
static void
check_eni_eip(const struct vpc_validator *v, const struct vpc_eni *e,
              const struct vpc_obj_path *op, const struct vobj *self,
              struct vpc_errors *errs)
{
    if (e->has_elastic_ip) {
        if (!vpc_has_igw(v, e->subnet->vpc, NULL)) {
            vpc_report_eni_eip_no_igw(e, op, errs);
        }
        /* An insert comes last in document order; a replacement keeps
         * its place. */
        struct vobj *h = find_any_ip(v, e->elastic_ip, self);
        if (e->ip == e->elastic_ip && (!h || (self && self->seq < h->seq))) {
            vpc_report_eni_eip_private(e, op, e, errs);
        } else if (h) {
            vpc_report_eni_eip_private(e, op, h->model, errs);
        }
    }
    /* In a valid region no ENI's elastic IP is a private IP: if another
     * ENI's is this one's, this one is the only ENI with it. */
    struct vobj *h = find_eip(v, e->ip, self);
    if (h) {
        struct vpc_obj_path hop = { "enis", h->id, 0 };
        vpc_report_eni_eip_private(h->model, &hop, e, errs);
    }
}

/* Pass 3 for object 'model' of collection 'c', named 'id' at 'op', that
 * replaces 'self' (NULL for an insert). */
static void
check_object(const struct vpc_validator *v, int c, const void *model,
             const char *id, const struct vpc_obj_path *op,
             const struct vobj *self, struct vpc_errors *errs)
{
    if (c == C_ENI) {
        bool ip_ok = vpc_check_eni_address(model, op, errs);
        vpc_check_eni_sgs(model, op, errs);
        check_eni_dups(v, model, id, op, self, ip_ok, errs);
        check_eni_eip(v, model, op, self, errs);
    } else if (c == C_HOST || c == C_EDGE) {
        /* Hosts come before edges in the document's order; an insert is
         * the last of its collection. */
        const struct vpc_host *h = model;
        struct vobj *x = find_underlay(v, h->underlay_ip, self);
        if (x && (x->c < c || (x->c == c && (!self || x->seq < self->seq)))) {
            vpc_report_host_dup(h, op, errs);
        } else if (x) {
            struct vpc_obj_path xop = { vpc_collection_key(x->c), x->id, 0 };
            vpc_report_host_dup(x->model, &xop, errs);
        }
    } else if (c == C_IGW || c == C_DX) {
        /* One internet gateway per VPC, one Direct Connect interface per
         * tag pair on an edge: reported on the later of the two. */
        const struct vpc_gateway *gw = model;
        vpc_check_gateway(gw, op, errs);
        const void *scope = c == C_IGW ? (const void *) gw->vpc
                                       : (const void *) gw->edge;
        size_t n;
        struct vobj **refs = referrers(find_obj(v, *(char *const *) scope),
                                       &n);
        for (size_t i = 0; i < n; i++) {
            const struct vpc_gateway *o = refs[i]->model;
            if (refs[i]->c != c || refs[i] == self || o == gw
                || (c == C_DX && (o->s_tag != gw->s_tag
                                  || o->c_tag != gw->c_tag
                                  || o->edge != gw->edge))
                || (c == C_IGW && o->vpc != gw->vpc)) {
                continue;
            }
            void (*report)(const struct vpc_gateway *,
                           const struct vpc_obj_path *, const char *,
                           struct vpc_errors *)
                = c == C_IGW ? vpc_report_igw_dup : vpc_report_dx_dup;
            if (!self || refs[i]->seq < self->seq) {
                report(gw, op, refs[i]->id, errs);
            } else {
                struct vpc_obj_path xop = { vpc_collection_key(c),
                                            refs[i]->id, 0 };
                report(o, &xop, id, errs);
            }
        }
        free(refs);
    } else if (c == C_FL) {
        /* One flow log per (resource, traffic type): the others of the
         * resource are among its referrers; reported on the later. */
        const struct vpc_flow_log *fl = model;
        size_t n;
        struct vobj **refs = referrers(
            find_obj(v, vpc_flow_log_resource_id(fl)), &n);
        for (size_t i = 0; i < n; i++) {
            const struct vpc_flow_log *o = refs[i]->model;
            if (refs[i]->c != C_FL || refs[i] == self || o == fl
                || !vpc_flow_logs_equal(o, fl)) {
                continue;
            }
            if (!self || refs[i]->seq < self->seq) {
                vpc_report_flow_log_dup(fl, op, refs[i]->id, errs);
            } else {
                struct vpc_obj_path xop = { "flow_logs", refs[i]->id, 0 };
                vpc_report_flow_log_dup(o, &xop, id, errs);
            }
        }
        free(refs);
    } else if (c == C_VPC) {
        const struct vpc_vpc *vpc = model;
        const struct vobj *x = find_vni(v, vpc->vni, self);
        if (x && (!self || x->seq < self->seq)) {
            vpc_report_vpc_dup_vni(vpc, op, x->id, errs);
        } else if (x) {
            struct vpc_obj_path xop = { "vpcs", x->id, 0 };
            vpc_report_vpc_dup_vni(x->model, &xop, id, errs);
        }
        vpc_check_vpc(vpc, op, errs);
    } else if (c == C_SUBNET) {
        /* A replacement keeps its VPC (put()).  The other subnets of the
         * VPC are disjoint, so this one overlaps each subnet it contains
         * or the one it lies in, and the whole-document sweep reports each
         * pair on the later of the two, naming the earlier. */
        const struct vpc_subnet *s = model;
        vpc_check_subnet(s, op, errs);
        const struct vobj *vpc = find_obj(v, s->vpc->id);
        size_t n;
        struct vobj **refs = referrers(vpc, &n);
        for (size_t i = 0; i < n; i++) {
            const struct vpc_subnet *o = refs[i]->model;
            if (refs[i]->c != C_SUBNET || refs[i] == self || o == s
                || !vpc_prefix_overlaps(&o->cidr, &s->cidr)) {
                continue;
            }
            if (!self || refs[i]->seq < self->seq) {
                vpc_report_subnet_overlap(s, op, o->id, errs);
            } else {
                struct vpc_obj_path xop = { "subnets", refs[i]->id, 0 };
                vpc_report_subnet_overlap(o, &xop, id, errs);
            }
        }
        free(refs);
    } else if (c == C_PCX) {
        const struct vpc_peering *pcx = model;
        if (vpc_check_peering(pcx, op, errs)) {
            const struct vpc_vpc *a = pcx->requester;
            for (size_t i = 0; i < a->n_peerings; i++) {
                const struct vpc_peering *p = a->peerings[i];
                if (p != pcx && (!self || p != self->model)
                    && vpc_peering_other(p, a) == pcx->accepter) {
                    /* Reported on the later of the two. */
                    const struct vobj *x = find_obj(v, p->id);
                    if (!self || x->seq < self->seq) {
                        vpc_report_peering_dup(pcx, op, p->id, errs);
                    } else {
                        struct vpc_obj_path xop = { "peering_connections",
                                                    p->id, 0 };
                        vpc_report_peering_dup(p, &xop, id, errs);
                    }
                    break;
                }
            }
        }
    } else {
        check_local(c, model, op, errs);
    }
}

/* Lists 'pcx' in the peerings of VPCs 'a' and 'b', or unlists it. */
static void
peering_link(struct vpc_peering *pcx, struct vpc_vpc *a, struct vpc_vpc *b)
{
    struct vpc_vpc *ends[2] = { a, b };
    for (size_t e = 0; e < (a == b ? 1 : 2); e++) {
        struct vpc_vpc *vpc = ends[e];
        vpc->peerings = xrealloc(vpc->peerings, (vpc->n_peerings + 1)
                                 * sizeof *vpc->peerings);
        vpc->peerings[vpc->n_peerings++] = pcx;
    }
}

static void
peering_unlink(struct vpc_peering *pcx, struct vpc_vpc *a, struct vpc_vpc *b)
{
    struct vpc_vpc *ends[2] = { a, b };
    for (size_t e = 0; e < (a == b ? 1 : 2); e++) {
        struct vpc_vpc *vpc = ends[e];
        for (size_t i = 0; i < vpc->n_peerings; i++) {
            if (vpc->peerings[i] == pcx) {
                memmove(&vpc->peerings[i], &vpc->peerings[i + 1],
                        (vpc->n_peerings - i - 1) * sizeof *vpc->peerings);
                vpc->n_peerings--;
                break;
            }
        }
    }
}

static void
peering_attach(struct vpc_peering *pcx)
{
    peering_link(pcx, pcx->requester, pcx->accepter);
}

static void
peering_detach(struct vpc_peering *pcx)
{
    peering_unlink(pcx, pcx->requester, pcx->accepter);
}

/* The rules of the security groups of VPCs 'a' and 'b', after they lost a
 * peering: a rule may name a group of the other VPC. */
static void
check_unpeered(const struct vpc_validator *v, const struct vpc_vpc *a,
               const struct vpc_vpc *b, struct vpc_errors *errs)
{
    for (size_t e = 0; e < 2; e++) {
        const struct vpc_vpc *vpc = e ? b : a;
        size_t n;
        struct vobj **refs = referrers(find_obj(v, vpc->id), &n);
        for (size_t i = 0; i < n; i++) {
            if (refs[i]->c == C_SG) {
                struct vpc_obj_path op = { "security_groups", refs[i]->id,
                                           0 };
                vpc_check_sg(refs[i]->model, &op, errs);
            }
        }
        free(refs);
    }
}

/* A VPC's peerings are the model's, not the document's: they go with the
 * VPC from its old contents 'from' to its new ones 'to'. */
static void
vpc_move_peerings(struct vpc_vpc *to, struct vpc_vpc *from)
{
    free(to->peerings);
    to->peerings = from->peerings;
    to->n_peerings = from->n_peerings;
    from->peerings = NULL;
    from->n_peerings = 0;
}

static void
memswap(void *a_, void *b_, size_t n)
{
    char *a = a_, *b = b_;
    for (size_t i = 0; i < n; i++) {
        char t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

enum verdict { ACCEPT, REFUSE, FALLBACK };

/* Inserts ('old' == NULL) or replaces 'old' with 'obj', of collection
 * 'c'. */
static enum verdict
put(struct vpc_validator *v, int c, const char *id, struct vobj *old,
    const struct json *obj, struct vpc_errors *errs)
{
    const char *key = vpc_collection_key(c);
    size_t size = vpc_collection_obj_size(c);
    struct vpc_obj_path op = { key, id, 0 };
    char *path = vpc_obj_path_format(&op, "");
    void *tmp = xzalloc(size);

    /* A replacement without an id string (then 'id', by the caller's
     * check) is an object the whole validation cannot register: then
     * nothing, itself included, resolves references to it. */
    void *gone = old && !json_id(obj) ? vpc_region_unregister(v->r, id)
                                      : NULL;
    bool registered = vpc_object_parse(v->r, c, obj, path, !old, tmp, errs);
    free(path);
    if (gone) {
        reparse_referrers(v, old, errs);
        vpc_region_register(v->r, c, id, gone);
    }
    if (errs->n) {
        goto refuse;
    }

    void *model = tmp;
    if (old) {
        bool fall_back = false;
        if (c == C_EDGE) {
            /* Only a replacement keeps the number of edges, which decides
             * whether a gateway may leave its edge implicit. */
        } else if (c == C_SUBNET) {
            /* Another VPC would move every ENI in the subnet to other
             * duplicate sets. */
            const struct vpc_subnet *a = tmp, *b = old->model;
            fall_back = a->vpc != b->vpc;
        } else if (c == C_IGW) {
            /* Another VPC would leave the elastic IPs of the old one's
             * ENIs without a gateway. */
            const struct vpc_gateway *a = tmp, *b = old->model;
            fall_back = a->vpc != b->vpc;
        }
        if (fall_back) {
            vpc_object_destroy(c, tmp);
            free(tmp);
            return FALLBACK;
        }
        /* Try the new contents at the old address, which every reference
         * points to. */
        memswap(old->model, tmp, size);
        model = old->model;
        if (c == C_VPC) {
            vpc_move_peerings(model, tmp);
        }
    }
    /* A peering that joins other VPCs leaves the old ones' lists. */
    struct vpc_peering *pnew = c == C_PCX && old ? model : NULL;
    struct vpc_peering *pold = pnew ? tmp : NULL;
    bool relinked = pnew && (pnew->requester != pold->requester
                             || pnew->accepter != pold->accepter);
    if (relinked) {
        peering_unlink(pnew, pold->requester, pold->accepter);
        peering_link(pnew, pnew->requester, pnew->accepter);
        check_unpeered(v, pold->requester, pold->accepter, errs);
    }
    check_object(v, c, model, id, &op, old, errs);
    if (old) {
        /* The rules of every referrer see the new contents: the subnets
         * and route tables of a VPC its blocks, the ENIs of a subnet its
         * CIDR, the ENIs and groups naming a group its VPC, the routes
         * through a peering its VPCs... */
        check_referrers(old, errs);
    }
    if (errs->n) {
        if (relinked) {
            peering_unlink(pnew, pnew->requester, pnew->accepter);
            peering_link(pnew, pold->requester, pold->accepter);
        }
        if (old) {
            if (c == C_VPC) {
                vpc_move_peerings(tmp, model);
            }
            memswap(old->model, tmp, size);
        }
        goto refuse;
    }

    /* Accepted: 'tmp' holds the old contents of a replaced object. */
    struct json *j = json_deep_clone(obj);
    struct vobj *o;
    if (old) {
        o = old;
        refs_update(v, o, tmp, -1);
        index_remove(v, o);
        vpc_object_destroy(c, tmp);
        free(tmp);

        struct json_array *a = json_array(doc_array(v->doc, c, false));
        size_t i = doc_index(v, o);
        json_destroy(a->elems[i]);
        a->elems[i] = j;
        o->json = j;
    } else {
        o = obj_create(v, c, id, j, tmp, true);
        struct json *a = doc_array(v->doc, c, true);
        json_array_add(a, j);
        if (c == C_PCX) {
            peering_attach(tmp);
        }
    }
    refs_update(v, o, o->model, 1);
    index_add(v, o);
    return ACCEPT;

refuse:
    if (!old && registered) {
        vpc_region_unregister(v->r, id);
    }
    vpc_object_destroy(c, tmp);
    free(tmp);
    return REFUSE;
}

/* The elastic IPs of the ENIs of VPC 'vpc', which is losing its internet
 * gateway 'igw'. */
static void
check_igw_gone(const struct vpc_validator *v, const struct vpc_vpc *vpc,
               const struct vobj *igw, struct vpc_errors *errs)
{
    if (vpc_has_igw(v, vpc, igw)) {
        return;
    }
    size_t n;
    struct vobj **subnets = referrers(find_obj(v, vpc->id), &n);
    for (size_t i = 0; i < n; i++) {
        if (subnets[i]->c != C_SUBNET) {
            continue;
        }
        size_t m;
        struct vobj **enis = referrers(subnets[i], &m);
        for (size_t k = 0; k < m; k++) {
            const struct vpc_eni *e = enis[k]->model;
            if (enis[k]->c == C_ENI && e->has_elastic_ip) {
                struct vpc_obj_path op = { "enis", enis[k]->id, 0 };
                vpc_report_eni_eip_no_igw(e, &op, errs);
            }
        }
        free(enis);
    }
    free(subnets);
}

/* Deletes 'o'. */
static enum verdict
del(struct vpc_validator *v, struct vobj *o, struct vpc_errors *errs)
{
    reparse_referrers(v, o, errs);
    if (errs->n) {
        return REFUSE;
    }
    if (o->c == C_IGW) {
        check_igw_gone(v, ((const struct vpc_gateway *) o->model)->vpc, o,
                       errs);
        if (errs->n) {
            return REFUSE;
        }
    }
    if (o->c == C_PCX) {
        /* Security groups of either VPC may name groups of the other. */
        struct vpc_peering *pcx = o->model;
        peering_detach(pcx);
        check_unpeered(v, pcx->requester, pcx->accepter, errs);
        if (errs->n) {
            peering_attach(pcx);
            return REFUSE;
        }
    }

    refs_update(v, o, o->model, -1);
    index_remove(v, o);
    vpc_region_unregister(v->r, o->id);
    struct json_array *a = json_array(doc_array(v->doc, o->c, false));
    size_t i = doc_index(v, o);
    json_destroy(a->elems[i]);
    array_remove(a, i);
    hmap_remove(&v->objs, &o->node);
    obj_free(o);
    return ACCEPT;
}

/* --------------------------------------------------------- the fallback */

/* Rewrites the positional paths of 'from' ("$.enis[3]...") into by-id
 * paths ("$.enis[eni-a]...") of 'doc', appending them to 'to'.  An element
 * without an id string is named 'id' (it can only be the changed one). */
static void
errors_by_id(const struct vpc_errors *from, const struct json *doc,
             const char *id, struct vpc_errors *to)
{
    for (size_t k = 0; k < from->n; k++) {
        const struct vpc_error *it = &from->items[k];
        const char *m = it->path;
        const char *lb = strchr(m, '[');
        char *out = NULL;
        if (!strncmp(m, "$.", 2) && lb) {
            char *key = xmemdup0(m + 2, lb - m - 2);
            char *end;
            unsigned long long i = strtoull(lb + 1, &end, 10);
            const struct json *a = shash_find_data(json_object(doc), key);
            if (*end == ']' && end > lb + 1 && a && a->type == JSON_ARRAY
                && i < json_array(a)->n) {
                const char *eid = json_id(json_array(a)->elems[i]);
                out = xasprintf("$.%s[%s]%s", key, eid ? eid : id, end + 1);
            }
            free(key);
        }
        vpc_errors_add(to, out ? out : m, it->value, "%s", it->rule);
        free(out);
    }
}

/* Validates the whole document with the change applied. */
static bool
fallback(struct vpc_validator *v, int c, const char *id, struct vobj *old,
         const struct json *obj, struct vpc_errors *errors)
{
    /* A new document that shares every unchanged value with v->doc. */
    struct json *doc = json_object_create();
    struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(v->doc)) {
        json_object_put(doc, node->name, json_clone(node->data));
    }
    struct json *a = json_array_create_empty();
    const struct json *oa = doc_array(v->doc, c, false);
    size_t pos = old ? doc_index(v, old) : SIZE_MAX;
    for (size_t i = 0; oa && i < json_array(oa)->n; i++) {
        if (i != pos) {
            json_array_add(a, json_clone(json_array(oa)->elems[i]));
        } else if (obj) {
            json_array_add(a, json_deep_clone(obj));
        }
    }
    if (obj && !old) {
        json_array_add(a, json_deep_clone(obj));
    }
    json_object_put(doc, vpc_collection_key(c), a);

    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_region *r = vpc_region_from_json(doc, &errs);
    if (!r) {
        errors_by_id(&errs, doc, id, errors);
        vpc_errors_destroy(&errs);
        json_destroy(doc);
        return false;
    }
    vpc_errors_destroy(&errs);
    state_destroy(v);
    state_build(v, doc, r);
    return true;
}

/* --------------------------------------------------------------- apply */

bool
vpc_validator_apply(struct vpc_validator *v, const char *collection,
                    const char *id, const struct json *obj,
                    struct vpc_errors *errors)
{
    v->last_incremental = true;
    int c = vpc_collection_find(collection);
    if (c < 0) {
        char *path = xasprintf("$.%s", collection);
        vpc_errors_add(errors, path, NULL, "not a collection of a region "
                       "document");
        free(path);
        return false;
    }
    struct vobj *old = find_obj(v, id);
    bool steals_id = false;
    if (old && old->c != c) {
        /* An insert, of a duplicate id.  The whole validation registers
         * ids in collection order: a host taking the id of a later
         * collection's object (possible for free-form ids) takes it from
         * that object and its referrers. */
        steals_id = old->c > c;
        old = NULL;
    }
    struct vpc_obj_path op = { collection, id, 0 };
    if (!obj && !old) {
        char *path = vpc_obj_path_format(&op, "");
        vpc_errors_add(errors, path, NULL, "no %s has this id",
                       vpc_collection_name(c));
        free(path);
        return false;
    }
    const char *obj_id = obj ? json_id(obj) : NULL;
    if (obj_id && strcmp(obj_id, id)) {
        char *path = vpc_obj_path_format(&op, ".id");
        char *value = json_to_string(shash_find_data(json_object(obj), "id"),
                                     0);
        vpc_errors_add(errors, path, value, "must be the id the change "
                       "names");
        free(value);
        free(path);
        return false;
    }

    enum verdict verdict = FALLBACK;
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    /* An ENI with dns_names: the names of every ENI of its VPC must
     * differ (translator/check.c), which no index here holds. */
    const struct json *names = (c == C_ENI && obj
                                && obj->type == JSON_OBJECT
                                ? shash_find_data(json_object(obj),
                                                  "dns_names")
                                : NULL);
    bool has_names = (names && names->type == JSON_ARRAY
                      && json_array(names)->n);
    if (!steals_id && !has_names
        && (c == C_ENI || c == C_SG || c == C_RTB || c == C_PCX
            || c == C_HOST || c == C_NACL || c == C_PL || c == C_SUBNET
            || c == C_VPC || c == C_FL || c >= C_GW0
            || (c == C_EDGE && obj && old))) {
        verdict = obj ? put(v, c, id, old, obj, &errs) : del(v, old, &errs);
    }
    if (verdict == FALLBACK) {
        v->last_incremental = false;
        vpc_errors_destroy(&errs);
        return fallback(v, c, id, old, obj, errors);
    }
    vpc_errors_move(errors, &errs);
    return verdict == ACCEPT;
}
