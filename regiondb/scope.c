/* regiondb/scope.c: a follower's scope and monitor conditions, and the
 * hosts' acknowledgements (see scope.h and docs/regiondb.md). */

#include <config.h>

#include "regiondb/scope.h"
#include "regiondb/regiondb-private.h"

#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/shash.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/util.h"
#include "ovsdb-data.h"
#include "ovsdb-idl.h"
#include "ovsdb-idl-provider.h"
#include "regiondb/region-idl.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

void
rdb_scope_init(struct rdb_scope *s)
{
    s->is_host = s->is_edge = s->only_edge = false;
    s->self = UUID_ZERO;
    uuidset_init(&s->vpcs);
}

void
rdb_scope_destroy(struct rdb_scope *s)
{
    uuidset_destroy(&s->vpcs);
}

void
rdb_scope_clone(struct rdb_scope *dst, const struct rdb_scope *src)
{
    rdb_scope_init(dst);
    dst->is_host = src->is_host;
    dst->is_edge = src->is_edge;
    dst->only_edge = src->only_edge;
    dst->self = src->self;
    struct uuidset_node *node;
    UUIDSET_FOR_EACH (node, &src->vpcs) {
        uuidset_insert(&dst->vpcs, &node->uuid);
    }
}

bool
rdb_scope_equals(const struct rdb_scope *a, const struct rdb_scope *b)
{
    if (a->is_host != b->is_host || a->is_edge != b->is_edge
        || a->only_edge != b->only_edge
        || !uuid_equals(&a->self, &b->self)
        || uuidset_count(&a->vpcs) != uuidset_count(&b->vpcs)) {
        return false;
    }
    struct uuidset_node *node;
    UUIDSET_FOR_EACH (node, &a->vpcs) {
        if (!uuidset_contains(&b->vpcs, &node->uuid)) {
            return false;
        }
    }
    return true;
}

/* The uuid that reference column 'col' of 'row' holds, or NULL.  Read from
 * the datum: the generated row pointers are NULL for rows outside the
 * replica, which is what most references of a follower's rows name. */
static const struct uuid *
ref_of(const void *row, const struct ovsdb_idl_column *col)
{
    const struct ovsdb_datum *d = ovsdb_idl_read(row, col);
    return d->n ? &d->keys[0].uuid : NULL;
}

/* Adds 'vpc' to 'set'.  Returns true if new. */
static bool
scope_add(struct uuidset *set, const struct uuid *vpc)
{
    if (!vpc || uuidset_contains(set, vpc)) {
        return false;
    }
    uuidset_insert(set, vpc);
    return true;
}

/* A map from a uuid to a set of VPC uuids. */
struct scope_mmap_node {
    struct hmap_node hmap_node;
    struct uuid key;
    struct uuidset vpcs;
};

static struct uuidset *
scope_mmap_get(const struct hmap *map, const struct uuid *key)
{
    struct scope_mmap_node *n;
    HMAP_FOR_EACH_WITH_HASH (n, hmap_node, uuid_hash(key), map) {
        if (uuid_equals(&n->key, key)) {
            return &n->vpcs;
        }
    }
    return NULL;
}

static void
scope_mmap_add(struct hmap *map, const struct uuid *key,
               const struct uuid *vpc)
{
    if (!key || !vpc) {
        return;
    }
    struct uuidset *set = scope_mmap_get(map, key);
    if (!set) {
        struct scope_mmap_node *n = xmalloc(sizeof *n);
        n->key = *key;
        uuidset_init(&n->vpcs);
        hmap_insert(map, &n->hmap_node, uuid_hash(key));
        set = &n->vpcs;
    }
    scope_add(set, vpc);
}

static void
scope_mmap_destroy(struct hmap *map)
{
    struct scope_mmap_node *n;
    HMAP_FOR_EACH_POP (n, hmap_node, map) {
        uuidset_destroy(&n->vpcs);
        free(n);
    }
    hmap_destroy(map);
}

/* What every scope is computed from, read from a replica in one pass per
 * table: so that the scopes of all hosts cost the replica once
 * (rdb_scopes_compute()), and the follower's own scope uses the same code. */
struct rdb_scope_maps {
    struct shash hosts;         /* Host id -> its row's uuid. */
    struct shash edges;         /* Edge id -> its row's uuid. */
    size_t n_edges;
    struct hmap local;          /* Host or edge uuid -> its VPCs: of its
                                 * ENIs, or of the gateways it implements
                                 * (a gateway naming no edge: the only
                                 * edge's, under UUID_ZERO). */
    struct hmap peers;          /* VPC -> the VPCs it peers with. */
    struct hmap named;          /* VPC -> the VPCs of the groups that rules
                                 * of its groups name. */
};

static void
scope_maps_init(struct rdb_scope_maps *m, struct ovsdb_idl *idl)
{
    shash_init(&m->hosts);
    shash_init(&m->edges);
    hmap_init(&m->local);
    hmap_init(&m->peers);
    hmap_init(&m->named);
    m->n_edges = 0;

    const struct rdbrec_host *h;
    RDBREC_HOST_FOR_EACH (h, idl) {
        shash_replace(&m->hosts, h->id, (void *) &h->header_.uuid);
    }
    const struct rdbrec_edge *e;
    RDBREC_EDGE_FOR_EACH (e, idl) {
        m->n_edges++;
        shash_replace(&m->edges, e->id, (void *) &e->header_.uuid);
    }
    const struct rdbrec_eni *eni;
    RDBREC_ENI_FOR_EACH (eni, idl) {
        scope_mmap_add(&m->local, ref_of(eni, &rdbrec_eni_col_host),
                       ref_of(eni, &rdbrec_eni_col_vpc));
    }
#define SCOPE_GW_(TYPE, FOR_EACH, PREFIX)                               \
    {                                                                   \
        const struct TYPE *gw;                                          \
        FOR_EACH (gw, idl) {                                            \
            const struct uuid *edge = ref_of(gw, &PREFIX##_col_edge);   \
            scope_mmap_add(&m->local, edge ? edge : &UUID_ZERO,         \
                           ref_of(gw, &PREFIX##_col_vpc));              \
        }                                                               \
    }
    SCOPE_GW_(rdbrec_internet_gateway, RDBREC_INTERNET_GATEWAY_FOR_EACH,
              rdbrec_internet_gateway)
    SCOPE_GW_(rdbrec_nat_gateway, RDBREC_NAT_GATEWAY_FOR_EACH,
              rdbrec_nat_gateway)
    SCOPE_GW_(rdbrec_vpn_gateway, RDBREC_VPN_GATEWAY_FOR_EACH,
              rdbrec_vpn_gateway)
    SCOPE_GW_(rdbrec_direct_connect, RDBREC_DIRECT_CONNECT_FOR_EACH,
              rdbrec_direct_connect)
    SCOPE_GW_(rdbrec_vpc_endpoint, RDBREC_VPC_ENDPOINT_FOR_EACH,
              rdbrec_vpc_endpoint)
#undef SCOPE_GW_
    const struct rdbrec_peering_connection *pcx;
    RDBREC_PEERING_CONNECTION_FOR_EACH (pcx, idl) {
        const struct uuid *req
            = ref_of(pcx, &rdbrec_peering_connection_col_requester_vpc);
        const struct uuid *acc
            = ref_of(pcx, &rdbrec_peering_connection_col_accepter_vpc);
        scope_mmap_add(&m->peers, req, acc);
        scope_mmap_add(&m->peers, acc, req);
    }
    const struct rdbrec_security_group_rule *rule;
    RDBREC_SECURITY_GROUP_RULE_FOR_EACH (rule, idl) {
        const struct ovsdb_idl_column *named
            = &rdbrec_security_group_rule_col_security_group_vpc;
        scope_mmap_add(&m->named,
                       ref_of(rule, &rdbrec_security_group_rule_col_vpc),
                       ref_of(rule, named));
    }
}

static void
scope_maps_destroy(struct rdb_scope_maps *m)
{
    shash_destroy(&m->hosts);
    shash_destroy(&m->edges);
    scope_mmap_destroy(&m->local);
    scope_mmap_destroy(&m->peers);
    scope_mmap_destroy(&m->named);
}

static void
scope_add_all(struct uuidset *dst, const struct uuidset *src)
{
    if (src) {
        struct uuidset_node *node;
        UUIDSET_FOR_EACH (node, src) {
            scope_add(dst, &node->uuid);
        }
    }
}

/* The scope of host (or edge) 'host_id' from 'm' into 's'. */
static void
scope_compute(const struct rdb_scope_maps *m, const char *host_id,
              struct rdb_scope *s)
{
    const struct uuid *host = shash_find_data(&m->hosts, host_id);
    const struct uuid *edge = shash_find_data(&m->edges, host_id);
    if (host) {
        s->is_host = true;
        s->self = *host;
    }
    if (edge) {
        s->is_edge = true;
        s->self = *edge;
    }
    s->only_edge = s->is_edge && m->n_edges == 1;

    /* The VPCs present here: of the local ENIs, or of the gateways this
     * edge implements. */
    struct uuidset local = UUIDSET_INITIALIZER(&local);
    if (s->is_host) {
        scope_add_all(&local, scope_mmap_get(&m->local, &s->self));
    }
    if (s->is_edge) {
        scope_add_all(&local, scope_mmap_get(&m->local, &s->self));
        if (s->only_edge) {
            scope_add_all(&local, scope_mmap_get(&m->local, &UUID_ZERO));
        }
    }

    /* Their peers. */
    struct uuidset_node *node;
    UUIDSET_FOR_EACH (node, &local) {
        scope_add(&s->vpcs, &node->uuid);
        scope_add_all(&s->vpcs, scope_mmap_get(&m->peers, &node->uuid));
    }
    uuidset_destroy(&local);

    /* The VPCs of the groups that in-scope rules name, to a fixed point
     * (a rule carries the VPC of the group it names, security_group_vpc,
     * so that the group need not be replicated first).  A worklist. */
    size_t n = 0, allocated = MAX(uuidset_count(&s->vpcs), 1);
    struct uuid *queue = xmalloc(allocated * sizeof *queue);
    UUIDSET_FOR_EACH (node, &s->vpcs) {
        queue[n++] = node->uuid;
    }
    while (n) {
        struct uuid vpc = queue[--n];
        const struct uuidset *named = scope_mmap_get(&m->named, &vpc);
        if (!named) {
            continue;
        }
        struct uuidset_node *x;
        UUIDSET_FOR_EACH (x, named) {
            if (scope_add(&s->vpcs, &x->uuid)) {
                if (n >= allocated) {
                    queue = x2nrealloc(queue, &allocated, sizeof *queue);
                }
                queue[n++] = x->uuid;
            }
        }
    }
    free(queue);
}

void
rdb_scope_compute(struct ovsdb_idl *idl, const char *host_id,
                  struct rdb_scope *s)
{
    struct rdb_scope_maps m;
    scope_maps_init(&m, idl);
    scope_compute(&m, host_id, s);
    scope_maps_destroy(&m);
}

void
rdb_scopes_compute(struct ovsdb_idl *idl, const struct sset *hosts,
                   struct shash *scopes)
{
    struct rdb_scope_maps m;
    scope_maps_init(&m, idl);
    const char *host;
    SSET_FOR_EACH (host, hosts) {
        struct rdb_scope *s = xmalloc(sizeof *s);
        rdb_scope_init(s);
        scope_compute(&m, host, s);
        shash_add(scopes, host, s);
    }
    scope_maps_destroy(&m);
}

void
rdb_scopes_destroy(struct shash *scopes)
{
    struct shash_node *node;
    SHASH_FOR_EACH (node, scopes) {
        rdb_scope_destroy(node->data);
        free(node->data);
    }
    shash_destroy(scopes);
}

int64_t
rdb_scope_needed_cfg(struct ovsdb_idl *idl, const struct rdb_scope *s)
{
    const struct rdbrec_region *region = rdbrec_region_first(idl);
    int64_t cfg = region ? region->global_cfg : 0;
    struct uuidset_node *node;
    UUIDSET_FOR_EACH (node, &s->vpcs) {
        const struct rdbrec_vpc *vpc = rdbrec_vpc_get_for_uuid(idl,
                                                               &node->uuid);
        if (vpc && vpc->header_.new_datum) {
            cfg = MAX(cfg, vpc->cfg);
        }
    }
    return cfg;
}

/* The "_uuid" column, which the IDL's table classes do not list, for a
 * condition on a row's own uuid. */
static const struct ovsdb_idl_column rdb_uuid_column = {
    .name = "_uuid",
    .type = {
        .key = { .type = OVSDB_TYPE_UUID },
        .value = { .type = OVSDB_TYPE_VOID },
        .n_min = 1,
        .n_max = 1,
    },
};

/* Adds the clause "COL == uuid" to 'cond'.  (The datum is heap-allocated:
 * the condition keeps a reference-counted copy of it.) */
static void
add_uuid_clause(struct ovsdb_idl_condition *cond,
                const struct ovsdb_idl_column *col, const struct uuid *uuid)
{
    struct ovsdb_datum d;
    ovsdb_datum_init_empty(&d);
    d.n = 1;
    d.keys = xmalloc(sizeof *d.keys);
    d.keys[0].uuid = *uuid;
    ovsdb_idl_condition_add_clause(cond, OVSDB_F_EQ, col, &d);
    ovsdb_datum_destroy(&d, &col->type);
}

/* Adds to 'cond' one clause "COL == uuid" per VPC of 'vpcs'. */
static void
add_vpc_clauses(struct ovsdb_idl_condition *cond,
                const struct ovsdb_idl_column *col,
                const struct uuidset *vpcs)
{
    struct uuidset_node *node;
    UUIDSET_FOR_EACH (node, vpcs) {
        add_uuid_clause(cond, col, &node->uuid);
    }
}

static const struct ovsdb_idl_column *
find_column(const struct ovsdb_idl_table_class *tc, const char *name)
{
    for (size_t i = 0; i < tc->n_columns; i++) {
        if (!strcmp(tc->columns[i].name, name)) {
            return &tc->columns[i];
        }
    }
    return NULL;
}

unsigned int
rdb_scope_set_conditions(struct ovsdb_idl *idl, const char *host_id,
                         const struct rdb_scope *s)
{
    unsigned int seqno = 0;
    for (size_t i = 0; i < rdbrec_idl_class.n_tables; i++) {
        const struct ovsdb_idl_table_class *tc = &rdbrec_idl_class.tables[i];
        const struct ovsdb_idl_column *vpc = find_column(tc, "vpc");
        struct ovsdb_idl_condition cond;
        ovsdb_idl_condition_init(&cond);

        if (!strcmp(tc->name, "Region") || !strcmp(tc->name, "Host")
            || !strcmp(tc->name, "Edge")
            || !strcmp(tc->name, "Prefix_List")
            || !strcmp(tc->name, "DHCP_Options")) {
            /* Small tables of objects of no VPC (a DHCP options set is
             * named by VPCs, and a VPC's change of set must find it in
             * the replica at once): every row. */
            ovsdb_idl_condition_add_clause_true(&cond);
        } else if (!strcmp(tc->name, "Host_Status")) {
            rdbrec_host_status_add_clause_host(&cond, OVSDB_F_EQ, host_id);
        } else if (!strcmp(tc->name, "VPC")) {
            add_vpc_clauses(&cond, &rdb_uuid_column, &s->vpcs);
        } else if (!strcmp(tc->name, "Peering_Connection")) {
            add_vpc_clauses(&cond,
                            &rdbrec_peering_connection_col_requester_vpc,
                            &s->vpcs);
            add_vpc_clauses(&cond,
                            &rdbrec_peering_connection_col_accepter_vpc,
                            &s->vpcs);
        } else if (vpc) {
            add_vpc_clauses(&cond, vpc, &s->vpcs);
            const struct ovsdb_idl_column *host = find_column(tc, "host");
            const struct ovsdb_idl_column *edge = find_column(tc, "edge");
            if (host && s->is_host) {
                add_uuid_clause(&cond, host, &s->self);
            }
            if (edge && s->is_edge) {
                add_uuid_clause(&cond, edge, &s->self);
            }
            if (edge && s->only_edge) {
                /* A gateway that names no edge is the only edge's. */
                struct ovsdb_datum empty;
                ovsdb_datum_init_empty(&empty);
                ovsdb_idl_condition_add_clause(&cond, OVSDB_F_EQ, edge,
                                               &empty);
            }
        } else {
            /* A table this code does not know: everything, so that
             * nothing a new table holds is missed. */
            ovsdb_idl_condition_add_clause_true(&cond);
        }
        unsigned int sn = ovsdb_idl_set_condition(idl, tc, &cond);
        seqno = MAX(seqno, sn);
        ovsdb_idl_condition_destroy(&cond);
    }
    return seqno;
}

char *
rdb_scope_to_string(struct ovsdb_idl *idl, const struct rdb_scope *s)
{
    struct sset ids = SSET_INITIALIZER(&ids);
    struct uuidset_node *node;
    UUIDSET_FOR_EACH (node, &s->vpcs) {
        const struct rdbrec_vpc *vpc = rdbrec_vpc_get_for_uuid(idl,
                                                               &node->uuid);
        if (vpc && vpc->header_.new_datum) {
            sset_add(&ids, vpc->id);
        } else {
            char *u = xasprintf(UUID_FMT, UUID_ARGS(&node->uuid));
            sset_add(&ids, u);
            free(u);
        }
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    const char **sorted = sset_sort(&ids);
    for (size_t i = 0; i < sset_count(&ids); i++) {
        ds_put_format(&ds, "%s%s", i ? " " : "", sorted[i]);
    }
    free(sorted);
    sset_destroy(&ids);
    if (!ds.length) {
        ds_put_cstr(&ds, "(no VPC)");
    }
    return ds_steal_cstr(&ds);
}

/* 'vpcctl status'. */

char *
rdb_status(const char *remotes, int timeout_ms, char **textp,
           bool *all_in_sync)
{
    struct ovsdb_idl *idl;
    char *error = rdb_connect(remotes, time_msec() + timeout_ms, false,
                              &idl);
    if (error) {
        return error;
    }

    const struct rdbrec_region *region = rdbrec_region_first(idl);
    int64_t cfg = region ? region->cfg : 0;
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_format(&ds, "region cfg %"PRId64"\n", cfg);
    ds_put_format(&ds, "%-20s %-13s %s\n", "host", "applied/needs",
                  "state");

    struct sset hosts;
    struct sset in_region = SSET_INITIALIZER(&in_region);
    const struct rdbrec_host *h;
    RDBREC_HOST_FOR_EACH (h, idl) {
        sset_add(&in_region, h->id);
    }
    const struct rdbrec_edge *e;
    RDBREC_EDGE_FOR_EACH (e, idl) {
        sset_add(&in_region, e->id);
    }
    sset_clone(&hosts, &in_region);
    const struct rdbrec_host_status *hs;
    RDBREC_HOST_STATUS_FOR_EACH (hs, idl) {
        sset_add(&hosts, hs->host);
    }
    /* What each host needs: the stamps of its scope (a host writes no
     * stamp it has not seen, so Region.cfg is no measure). */
    struct shash scopes = SHASH_INITIALIZER(&scopes);
    rdb_scopes_compute(idl, &hosts, &scopes);
    *all_in_sync = true;
    const char **sorted = sset_sort(&hosts);
    for (size_t i = 0; i < sset_count(&hosts); i++) {
        const char *host = sorted[i];
        const struct rdbrec_host_status *st = NULL;
        RDBREC_HOST_STATUS_FOR_EACH (hs, idl) {
            if (!strcmp(hs->host, host)) {
                st = hs;
            }
        }
        int64_t needs = rdb_scope_needed_cfg(idl, shash_find_data(&scopes,
                                                                  host));
        char *ratio = st ? xasprintf("%"PRId64"/%"PRId64, st->applied_cfg,
                                     needs)
                         : xasprintf("-/%"PRId64, needs);
        ds_put_format(&ds, "%-20s %-13s ", host, ratio);
        free(ratio);
        if (!st) {
            ds_put_cstr(&ds, "no status (not following the database)");
            *all_in_sync = false;
        } else if (st->error) {
            ds_put_format(&ds, "error: %s", st->error);
            *all_in_sync = false;
        } else if (st->applied_cfg < needs) {
            ds_put_cstr(&ds, "behind");
            *all_in_sync = false;
        } else {
            ds_put_cstr(&ds, "in sync");
        }
        if (!sset_contains(&in_region, host)) {
            ds_put_cstr(&ds, " (not in the region)");
        }
        ds_put_char(&ds, '\n');
    }
    free(sorted);
    rdb_scopes_destroy(&scopes);
    sset_destroy(&hosts);
    sset_destroy(&in_region);
    ovsdb_idl_destroy(idl);
    *textp = ds_steal_cstr(&ds);
    return NULL;
}
