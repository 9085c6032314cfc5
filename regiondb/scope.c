/* regiondb/scope.c: a follower's scope and monitor conditions, and the
 * hosts' acknowledgements (see scope.h and docs/regiondb.md). */

#include <config.h>

#include "regiondb/scope.h"
#include "regiondb/regiondb-private.h"

#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
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

static bool
scope_has(const struct uuidset *set, const struct uuid *vpc)
{
    return vpc && uuidset_contains(set, vpc);
}

void
rdb_scope_compute(struct ovsdb_idl *idl, const char *host_id,
                  struct rdb_scope *s)
{
    const struct rdbrec_host *h;
    RDBREC_HOST_FOR_EACH (h, idl) {
        if (!strcmp(h->id, host_id)) {
            s->is_host = true;
            s->self = h->header_.uuid;
        }
    }
    const struct rdbrec_edge *e;
    size_t n_edges = 0;
    RDBREC_EDGE_FOR_EACH (e, idl) {
        n_edges++;
        if (!strcmp(e->id, host_id)) {
            s->is_edge = true;
            s->self = e->header_.uuid;
        }
    }
    s->only_edge = s->is_edge && n_edges == 1;

    /* The VPCs present here: of the local ENIs, or of the gateways this
     * edge implements. */
    struct uuidset local = UUIDSET_INITIALIZER(&local);
    if (s->is_host) {
        const struct rdbrec_eni *eni;
        RDBREC_ENI_FOR_EACH (eni, idl) {
            const struct uuid *host = ref_of(eni, &rdbrec_eni_col_host);
            if (host && uuid_equals(host, &s->self)) {
                scope_add(&local, ref_of(eni, &rdbrec_eni_col_vpc));
            }
        }
    }
    if (s->is_edge) {
#define SCOPE_GW_(TYPE, FOR_EACH, PREFIX)                               \
        {                                                               \
            const struct TYPE *gw;                                      \
            FOR_EACH (gw, idl) {                                        \
                const struct uuid *edge = ref_of(gw, &PREFIX##_col_edge); \
                if (edge ? uuid_equals(edge, &s->self) : s->only_edge) { \
                    scope_add(&local, ref_of(gw, &PREFIX##_col_vpc));   \
                }                                                       \
            }                                                           \
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
    }

    /* Their peers. */
    struct uuidset_node *node;
    UUIDSET_FOR_EACH (node, &local) {
        uuidset_insert(&s->vpcs, &node->uuid);
    }
    const struct rdbrec_peering_connection *pcx;
    RDBREC_PEERING_CONNECTION_FOR_EACH (pcx, idl) {
        const struct uuid *req
            = ref_of(pcx, &rdbrec_peering_connection_col_requester_vpc);
        const struct uuid *acc
            = ref_of(pcx, &rdbrec_peering_connection_col_accepter_vpc);
        if (scope_has(&local, req)) {
            scope_add(&s->vpcs, acc);
        }
        if (scope_has(&local, acc)) {
            scope_add(&s->vpcs, req);
        }
    }
    uuidset_destroy(&local);

    /* The VPCs of the groups that in-scope rules name, to a fixed point
     * (a rule carries the VPC of the group it names, security_group_vpc,
     * so that the group need not be replicated first). */
    for (bool grew = true; grew;) {
        grew = false;
        const struct rdbrec_security_group_rule *rule;
        RDBREC_SECURITY_GROUP_RULE_FOR_EACH (rule, idl) {
            if (scope_has(&s->vpcs,
                          ref_of(rule, &rdbrec_security_group_rule_col_vpc))) {
                grew |= scope_add(&s->vpcs, ref_of(
                    rule, &rdbrec_security_group_rule_col_security_group_vpc));
            }
        }
    }
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
            || !strcmp(tc->name, "Prefix_List")) {
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
    ds_put_format(&ds, "%-20s %-13s %s\n", "host", "applied/cfg", "state");

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
        char *ratio = st ? xasprintf("%"PRId64"/%"PRId64, st->applied_cfg,
                                     cfg)
                         : xasprintf("-/%"PRId64, cfg);
        ds_put_format(&ds, "%-20s %-13s ", host, ratio);
        free(ratio);
        if (!st) {
            ds_put_cstr(&ds, "no status (not following the database)");
            *all_in_sync = false;
        } else if (st->error) {
            ds_put_format(&ds, "error: %s", st->error);
            *all_in_sync = false;
        } else if (st->applied_cfg < cfg) {
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
    sset_destroy(&hosts);
    sset_destroy(&in_region);
    ovsdb_idl_destroy(idl);
    *textp = ds_steal_cstr(&ds);
    return NULL;
}
