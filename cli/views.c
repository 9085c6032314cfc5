/* cli/views.c: vpcctl describe, show, routes, graph, and compile's offline
 * port numbering (cli/views.h). */

#include <config.h>

#include "cli/views.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "pipeline/pipeline.h"
#include "regiondb/regiondb.h"
#include "translator/model.h"
#include "util.h"

struct vw_options vw_options = { .region_db_timeout_ms = 60000 };

/* ------------------------------------------------------------ the kinds */

/* Every kind of object, from translator/model.h's tables: the object kinds,
 * then one per gateway kind. */
enum vw_kind_id {
#define VW_OBJ_ID_(KIND, ...) VW_K_##KIND,
    VPC_OBJECT_KINDS(VW_OBJ_ID_)
#undef VW_OBJ_ID_
#define VW_GW_ID_(KIND, ...) VW_K_GW_##KIND,
    VPC_GATEWAY_KINDS(VW_GW_ID_)
#undef VW_GW_ID_
    VW_N_KINDS
};

/* The 'case' labels of every gateway kind's vw_kind_id. */
#define VW_GW_CASE_(KIND, ...) case VW_K_GW_##KIND:
#define VW_GATEWAY_CASES VPC_GATEWAY_KINDS(VW_GW_CASE_)

struct vw_kind {
    const char *key;            /* Its collection in a region document. */
    const char *prefix;         /* What its ids start with. */
    const char *desc;           /* What messages call one. */
    int gw_kind;                /* Its 'enum vpc_target_kind', gateways
                                 * only; -1 for the others. */
};

static const struct vw_kind vw_kinds[VW_N_KINDS] = {
#define VW_OBJ_(KIND, KEY, PREFIX, TYPE, FIELD, NAME, ...) \
    [VW_K_##KIND] = { KEY, PREFIX, NAME, -1 },
    VPC_OBJECT_KINDS(VW_OBJ_)
#undef VW_OBJ_
#define VW_GW_(KIND, KEY, PREFIX, NAME, PARSE, DESC) \
    [VW_K_GW_##KIND] = { KEY, PREFIX, DESC, VPC_TGT_##KIND },
    VPC_GATEWAY_KINDS(VW_GW_)
#undef VW_GW_
};

/* The describe name of a kind is its AWS describe-* name: the collection's
 * key with '-' for '_' ("route_tables" -> "route-tables"), except where
 * AWS calls the collection otherwise. */
static const struct {
    const char *key, *aws;
} vw_aws_names[] = {
    { "enis", "network-interfaces" },
    { "peering_connections", "vpc-peering-connections" },
    { "direct_connect", "virtual-interfaces" },
};

static char *
kind_name(enum vw_kind_id k)
{
    const char *key = vw_kinds[k].key;
    for (size_t i = 0; i < ARRAY_SIZE(vw_aws_names); i++) {
        if (!strcmp(vw_aws_names[i].key, key)) {
            return xstrdup(vw_aws_names[i].aws);
        }
    }
    char *name = xstrdup(key);
    for (char *p = name; *p; p++) {
        if (*p == '_') {
            *p = '-';
        }
    }
    return name;
}

/* Finds the kind that 'name' names: its describe name, or its collection's
 * key with '_' or '-'.  Returns VW_N_KINDS if none. */
static enum vw_kind_id
kind_find(const char *name)
{
    for (int k = 0; k < VW_N_KINDS; k++) {
        char *aws = kind_name(k);
        char *key = xstrdup(vw_kinds[k].key);
        for (char *p = key; *p; p++) {
            if (*p == '_') {
                *p = '-';
            }
        }
        bool match = (!strcmp(name, aws) || !strcmp(name, key)
                      || !strcmp(name, vw_kinds[k].key));
        free(aws);
        free(key);
        if (match) {
            return k;
        }
    }
    return VW_N_KINDS;
}

const char *
vw_describe_kinds(void)
{
    static char *kinds;
    if (!kinds) {
        struct ds ds = DS_EMPTY_INITIALIZER;
        for (int k = 0; k < VW_N_KINDS; k++) {
            char *name = kind_name(k);
            ds_put_format(&ds, "%s%s", k ? ", " : "", name);
            free(name);
        }
        kinds = ds_steal_cstr(&ds);
    }
    return kinds;
}

/* --------------------------------------------------------------- input */

/* A region as the views read it: the document (describe shows its fields)
 * and its validated model. */
struct vw_region {
    struct json *doc;
    struct vpc_region *r;
    char *source;               /* FILE, or "region database REMOTES". */
};

static void
print_errors(const char *source, const struct vpc_errors *errs)
{
    fprintf(stderr, "%s: %"PRIuSIZE" error%s:\n", source, errs->n,
            errs->n == 1 ? "" : "s");
    for (size_t i = 0; i < errs->n; i++) {
        fprintf(stderr, "  %s\n", errs->msgs[i]);
    }
}

/* Loads the region from 'file' or, if --region-db was given, from the
 * region database ('file' is then NULL).  Returns 0 or 1 after printing
 * why not. */
static int
vw_load(const char *file, struct vw_region *vr)
{
    memset(vr, 0, sizeof *vr);
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    if (vw_options.region_db) {
        vr->source = xasprintf("region database %s", vw_options.region_db);
        char *error = rdb_dump(vw_options.region_db,
                               vw_options.region_db_timeout_ms, &vr->doc);
        if (error) {
            fprintf(stderr, "vpcctl: %s\n", error);
            free(error);
            free(vr->source);
            return 1;
        }
        vr->r = vpc_region_from_json(vr->doc, &errs);
    } else {
        vr->source = xstrdup(file);
        vr->r = vpc_region_from_file(file, &errs);
        if (vr->r) {
            vr->doc = json_from_file(file);
        }
    }
    if (!vr->r) {
        print_errors(vr->source, &errs);
        vpc_errors_destroy(&errs);
        json_destroy(vr->doc);
        free(vr->source);
        return 1;
    }
    vpc_errors_destroy(&errs);
    return 0;
}

static void
vw_region_destroy(struct vw_region *vr)
{
    json_destroy(vr->doc);
    vpc_region_destroy(vr->r);
    free(vr->source);
}

/* The command's positional arguments after the optional FILE: with
 * --region-db there is no FILE.  Returns false (after printing the usage)
 * if the count is outside [min, max]. */
static bool
split_args(int argc, char *argv[], int min, int max, const char *usage,
           const char **file, char ***args, int *n)
{
    bool db = vw_options.region_db != NULL;
    *file = db || argc < 2 ? NULL : argv[1];
    *args = &argv[db ? 1 : 2];
    *n = argc - (db ? 1 : 2);
    if (*n < min || *n > max) {
        fprintf(stderr, "vpcctl: usage: vpcctl %s %s%s\n", argv[0],
                db ? "" : "FILE ", usage);
        return false;
    }
    return true;
}

enum vw_format { VW_TEXT, VW_JSON, VW_DOT, VW_SVG };

/* Parses --format for command 'cmd', which accepts text and json or, with
 * 'graph', dot and svg. */
static bool
get_format(const char *cmd, bool graph, enum vw_format *f)
{
    const char *s = vw_options.format;
    *f = graph ? VW_DOT : VW_TEXT;
    if (!s) {
        return true;
    }
    if (!graph && !strcmp(s, "text")) {
        *f = VW_TEXT;
    } else if (!graph && !strcmp(s, "json")) {
        *f = VW_JSON;
    } else if (graph && !strcmp(s, "dot")) {
        *f = VW_DOT;
    } else if (graph && !strcmp(s, "svg")) {
        *f = VW_SVG;
    } else {
        fprintf(stderr, "vpcctl: %s: --format=%s: expected %s\n", cmd, s,
                graph ? "\"dot\" or \"svg\"" : "\"text\" or \"json\"");
        return false;
    }
    return true;
}

static void
print_json(const struct json *j)
{
    char *s = json_to_string(j, JSSF_PRETTY | JSSF_SORT);
    puts(s);
    free(s);
}

/* ------------------------------------------------------------- indexes */

/* A list of objects of one kind. */
struct vw_list {
    const void **v;
    size_t n, allocated;
};

static void
list_add(struct vw_list *l, const void *p)
{
    if (l->n >= l->allocated) {
        l->v = x2nrealloc(l->v, &l->allocated, sizeof *l->v);
    }
    l->v[l->n++] = p;
}

/* Who holds what, computed once: lists by the index of their holder in
 * its array in 'struct vpc_region'. */
struct vw_index {
    const struct vpc_region *r;
    struct vw_list *subnet_enis;        /* n_subnets. */
    struct vw_list *host_enis;          /* n_hosts. */
    struct vw_list *vpc_subnets;        /* n_vpcs. */
    struct vw_list *vpc_gateways;       /* n_vpcs. */
    struct vw_list *vpc_enis;           /* n_vpcs. */
    struct vw_list *edge_gateways;      /* n_edges. */
    struct vw_list *rtb_subnets;        /* n_route_tables. */
    struct vw_list *nacl_subnets;       /* n_nacls. */
    struct vw_list *sg_members;         /* n_sgs. */
};

#define IDX(ARRAY, PTR) ((size_t) ((PTR) - (ARRAY)))

static void
index_init(struct vw_index *x, const struct vpc_region *r)
{
    x->r = r;
    x->subnet_enis = xcalloc(r->n_subnets + 1, sizeof *x->subnet_enis);
    x->host_enis = xcalloc(r->n_hosts + 1, sizeof *x->host_enis);
    x->vpc_subnets = xcalloc(r->n_vpcs + 1, sizeof *x->vpc_subnets);
    x->vpc_gateways = xcalloc(r->n_vpcs + 1, sizeof *x->vpc_gateways);
    x->vpc_enis = xcalloc(r->n_vpcs + 1, sizeof *x->vpc_enis);
    x->edge_gateways = xcalloc(r->n_edges + 1, sizeof *x->edge_gateways);
    x->rtb_subnets = xcalloc(r->n_route_tables + 1, sizeof *x->rtb_subnets);
    x->nacl_subnets = xcalloc(r->n_nacls + 1, sizeof *x->nacl_subnets);
    x->sg_members = xcalloc(r->n_sgs + 1, sizeof *x->sg_members);
    for (size_t i = 0; i < r->n_enis; i++) {
        const struct vpc_eni *e = &r->enis[i];
        list_add(&x->subnet_enis[IDX(r->subnets, e->subnet)], e);
        list_add(&x->host_enis[IDX(r->hosts, e->host)], e);
        list_add(&x->vpc_enis[IDX(r->vpcs, e->subnet->vpc)], e);
        for (size_t k = 0; k < e->n_sgs; k++) {
            list_add(&x->sg_members[IDX(r->sgs, e->sgs[k])], e);
        }
    }
    for (size_t i = 0; i < r->n_subnets; i++) {
        const struct vpc_subnet *s = &r->subnets[i];
        list_add(&x->vpc_subnets[IDX(r->vpcs, s->vpc)], s);
        if (s->route_table) {
            list_add(&x->rtb_subnets[IDX(r->route_tables, s->route_table)],
                     s);
        }
        if (s->nacl) {
            list_add(&x->nacl_subnets[IDX(r->nacls, s->nacl)], s);
        }
    }
    for (size_t i = 0; i < r->n_gateways; i++) {
        const struct vpc_gateway *gw = &r->gateways[i];
        list_add(&x->vpc_gateways[IDX(r->vpcs, gw->vpc)], gw);
        list_add(&x->edge_gateways[IDX(r->edges, gw->edge)], gw);
    }
}

static void
lists_free(struct vw_list *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(l[i].v);
    }
    free(l);
}

static void
index_destroy(struct vw_index *x)
{
    const struct vpc_region *r = x->r;
    lists_free(x->subnet_enis, r->n_subnets);
    lists_free(x->host_enis, r->n_hosts);
    lists_free(x->vpc_subnets, r->n_vpcs);
    lists_free(x->vpc_gateways, r->n_vpcs);
    lists_free(x->vpc_enis, r->n_vpcs);
    lists_free(x->edge_gateways, r->n_edges);
    lists_free(x->rtb_subnets, r->n_route_tables);
    lists_free(x->nacl_subnets, r->n_nacls);
    lists_free(x->sg_members, r->n_sgs);
}

/* A JSON array of the ids of the objects in 'l' (each starts with 'char
 * *id', model.h). */
static struct json *
ids_json(const struct vw_list *l)
{
    struct json *a = json_array_create_empty();
    for (size_t i = 0; i < l->n; i++) {
        json_array_add(a, json_string_create(*(char *const *) l->v[i]));
    }
    return a;
}

static struct json *
ip_json(uint32_t ip)
{
    return json_string_create_nocopy(vpc_ip_to_string(ip));
}

static struct json *
prefix_json(const struct vpc_prefix *p)
{
    return json_string_create_nocopy(vpc_prefix_to_string(p));
}

static char *
mac_string(struct eth_addr mac)
{
    return xasprintf(ETH_ADDR_FMT, ETH_ADDR_ARGS(mac));
}

/* ------------------------------------------------------------ describe */

/* Adds to 'obj' (an object of kind 'k' as the document gives it) what the
 * model knows about it beyond its own fields: what it contains, what uses
 * it, what it resolves to.  A key the document has stays the document's. */
static void
add_derived(const struct vw_index *x, enum vw_kind_id k, const void *p,
            struct json *obj)
{
    const struct vpc_region *r = x->r;
    struct shash *o = json_object(obj);
    struct json *d = json_object_create();
    switch (k) {
    case VW_K_HOST: {
        const struct vpc_host *h = p;
        json_object_put(d, "network_interfaces",
                        ids_json(&x->host_enis[IDX(r->hosts, h)]));
        break;
    }
    case VW_K_EDGE: {
        const struct vpc_host *h = p;
        json_object_put(d, "gateways",
                        ids_json(&x->edge_gateways[IDX(r->edges, h)]));
        break;
    }
    case VW_K_VPC: {
        const struct vpc_vpc *v = p;
        size_t i = IDX(r->vpcs, v);
        json_object_put(d, "subnets", ids_json(&x->vpc_subnets[i]));
        json_object_put(d, "gateways", ids_json(&x->vpc_gateways[i]));
        json_object_put(d, "eni_count",
                        json_integer_create(x->vpc_enis[i].n));
        struct json *pcx = json_array_create_empty();
        for (size_t k2 = 0; k2 < v->n_peerings; k2++) {
            json_array_add(pcx, json_string_create(v->peerings[k2]->id));
        }
        json_object_put(d, "peering_connections", pcx);
        json_object_put_string(d, "route_precedence",
                               v->precedence == VPC_PREC_AZURE ? "azure"
                                                               : "aws");
        break;
    }
    case VW_K_SG: {
        const struct vpc_sg *sg = p;
        json_object_put(d, "members",
                        ids_json(&x->sg_members[IDX(r->sgs, sg)]));
        break;
    }
    case VW_K_NACL: {
        const struct vpc_nacl *n = p;
        json_object_put(d, "associations",
                        ids_json(&x->nacl_subnets[IDX(r->nacls, n)]));
        break;
    }
    case VW_K_RTB: {
        const struct vpc_route_table *t = p;
        json_object_put(d, "associations",
                        ids_json(&x->rtb_subnets[IDX(r->route_tables, t)]));
        break;
    }
    case VW_K_SUBNET: {
        const struct vpc_subnet *s = p;
        json_object_put(d, "network_interfaces",
                        ids_json(&x->subnet_enis[IDX(r->subnets, s)]));
        json_object_put(d, "router_ip", ip_json(vpc_subnet_router_ip(s)));
        break;
    }
    case VW_K_ENI: {
        const struct vpc_eni *e = p;
        json_object_put_string(d, "vpc", e->subnet->vpc->id);
        /* Given or derived (docs/intents.md). */
        json_object_put_string(d, "instance_id", e->instance_id);
        break;
    }
    VW_GATEWAY_CASES {
        const struct vpc_gateway *gw = p;
        json_object_put_string(d, "vpc", gw->vpc->id);
        json_object_put_string(d, "edge", gw->edge->id);
        json_object_put(d, "vni", json_integer_create(pl_gateway_vni(r,
                                                                     gw)));
        break;
    }
    default:
        /* A kind with nothing to add shows its document fields only. */
        break;
    }
    struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(d)) {
        if (!shash_find(o, node->name)) {
            json_object_put(obj, node->name, json_clone(node->data));
        }
    }
    json_destroy(d);
}

/* Fills 'out' with the objects of kind 'k' in 'r', by id. */
static void
kind_objects(const struct vpc_region *r, enum vw_kind_id k,
             struct shash *out)
{
    switch (k) {
#define VW_OBJ_MAP_(KIND, KEY, PREFIX, TYPE, FIELD, ...)              \
    case VW_K_##KIND:                                                 \
        for (size_t i = 0; i < r->n_##FIELD; i++) {                   \
            shash_add_once(out, r->FIELD[i].id, &r->FIELD[i]);        \
        }                                                             \
        break;
    VPC_OBJECT_KINDS(VW_OBJ_MAP_)
#undef VW_OBJ_MAP_
    VW_GATEWAY_CASES
        for (size_t i = 0; i < r->n_gateways; i++) {
            if ((int) r->gateways[i].kind == vw_kinds[k].gw_kind) {
                shash_add_once(out, r->gateways[i].id, &r->gateways[i]);
            }
        }
        break;
    case VW_N_KINDS:
    default:
        OVS_NOT_REACHED();
    }
}

/* One value in text: a string as is, a list of scalars comma-separated,
 * anything else as compact JSON. */
static void
text_value(struct ds *s, const struct json *v)
{
    if (v->type == JSON_STRING) {
        ds_put_cstr(s, json_string(v));
    } else if (v->type == JSON_ARRAY) {
        const struct json_array *a = json_array(v);
        for (size_t i = 0; i < a->n; i++) {
            if (i) {
                ds_put_cstr(s, ", ");
            }
            text_value(s, a->elems[i]);
        }
    } else if (v->type == JSON_OBJECT) {
        const struct shash_node **nodes = shash_sort(json_object(v));
        size_t n = shash_count(json_object(v));
        for (size_t i = 0; i < n; i++) {
            const struct json *v2 = nodes[i]->data;
            ds_put_format(s, "%s%s=", i ? " " : "", nodes[i]->name);
            if (v2->type == JSON_STRING && strpbrk(json_string(v2), " =\"")) {
                json_to_ds(v2, 0, s);
            } else {
                text_value(s, v2);
            }
        }
        free(nodes);
    } else {
        json_to_ds(v, JSSF_SORT, s);
    }
}

static bool
is_object_array(const struct json *v)
{
    return (v->type == JSON_ARRAY && json_array(v)->n
            && json_array(v)->elems[0]->type == JSON_OBJECT);
}

/* One object in text: its id, then "key: value" lines, sorted; a list of
 * objects (rules, routes) one "[i] key=value ..." line each. */
static void
text_object(struct ds *s, const struct json *obj)
{
    const struct json *id = shash_find_data(json_object(obj), "id");
    if (id) {
        text_value(s, id);
        ds_put_char(s, '\n');
    }
    const struct shash_node **nodes = shash_sort(json_object(obj));
    size_t n = shash_count(json_object(obj));
    for (size_t i = 0; i < n; i++) {
        const struct json *v = nodes[i]->data;
        if (!strcmp(nodes[i]->name, "id")) {
            continue;
        }
        ds_put_format(s, "    %s:", nodes[i]->name);
        if (is_object_array(v)) {
            ds_put_char(s, '\n');
            for (size_t k = 0; k < json_array(v)->n; k++) {
                ds_put_format(s, "        [%"PRIuSIZE"] ", k);
                text_value(s, json_array(v)->elems[k]);
                ds_put_char(s, '\n');
            }
        } else if (v->type == JSON_ARRAY && !json_array(v)->n) {
            ds_put_cstr(s, " (none)\n");
        } else {
            ds_put_char(s, ' ');
            text_value(s, v);
            ds_put_char(s, '\n');
        }
    }
    free(nodes);
}

int
vw_cmd_describe(int argc, char *argv[])
{
    const char *file;
    char **args;
    int n;
    enum vw_format fmt;
    if (!split_args(argc, argv, 1, 2, "KIND [ID] [--format=text|json]",
                    &file, &args, &n)
        || !get_format("describe", false, &fmt)) {
        return 2;
    }
    enum vw_kind_id k = kind_find(args[0]);
    if (k == VW_N_KINDS) {
        fprintf(stderr, "vpcctl: describe: %s: no such kind; the kinds are "
                "%s\n", args[0], vw_describe_kinds());
        return 2;
    }
    const char *id = n > 1 ? args[1] : NULL;

    struct vw_region vr;
    if (vw_load(file, &vr)) {
        return 1;
    }
    struct vw_index x;
    index_init(&x, vr.r);
    char *name = kind_name(k);
    const struct json *c = shash_find_data(json_object(vr.doc),
                                           vw_kinds[k].key);
    struct shash objects = SHASH_INITIALIZER(&objects);
    kind_objects(vr.r, k, &objects);
    struct json *items = json_array_create_empty();
    for (size_t i = 0; c && c->type == JSON_ARRAY && i < json_array(c)->n;
         i++) {
        const struct json *o = json_array(c)->elems[i];
        const struct json *oid = shash_find_data(json_object(o), "id");
        if (!oid || oid->type != JSON_STRING
            || (id && strcmp(id, json_string(oid)))) {
            continue;
        }
        struct json *item = json_clone(o);
        const void *p = shash_find_data(&objects, json_string(oid));
        if (p) {
            add_derived(&x, k, p, item);
        }
        json_array_add(items, item);
    }

    int status = 0;
    if (id && !json_array(items)->n) {
        fprintf(stderr, "vpcctl: describe %s: $.%s[%s]: no such %s in %s\n",
                name, vw_kinds[k].key, id, vw_kinds[k].desc, vr.source);
        status = 1;
    } else if (fmt == VW_JSON) {
        struct json *out = json_object_create();
        json_object_put_string(out, "kind", name);
        json_object_put_string(out, "collection", vw_kinds[k].key);
        json_object_put(out, "items", json_clone(items));
        print_json(out);
        json_destroy(out);
    } else {
        struct ds s = DS_EMPTY_INITIALIZER;
        if (!id) {
            ds_put_format(&s, "%s: %"PRIuSIZE"\n", name,
                          json_array(items)->n);
        }
        for (size_t i = 0; i < json_array(items)->n; i++) {
            if (!id) {
                ds_put_char(&s, '\n');
            }
            text_object(&s, json_array(items)->elems[i]);
        }
        fputs(ds_cstr(&s), stdout);
        ds_destroy(&s);
    }
    json_destroy(items);
    shash_destroy(&objects);
    free(name);
    index_destroy(&x);
    vw_region_destroy(&vr);
    return status;
}

/* ----------------------------------------------------------------- show */

static struct json *
eni_json(const struct vpc_eni *e)
{
    struct json *j = json_object_create();
    json_object_put_string(j, "id", e->id);
    json_object_put_string(j, "host", e->host->id);
    json_object_put_nocopy(j, xstrdup("mac"),
                           json_string_create_nocopy(mac_string(e->mac)));
    json_object_put(j, "private_ip", ip_json(e->ip));
    if (e->has_elastic_ip) {
        json_object_put(j, "elastic_ip", ip_json(e->elastic_ip));
    }
    struct json *sgs = json_array_create_empty();
    for (size_t i = 0; i < e->n_sgs; i++) {
        json_array_add(sgs, json_string_create(e->sgs[i]->id));
    }
    json_object_put(j, "security_groups", sgs);
    json_object_put(j, "source_dest_check",
                    json_boolean_create(e->source_dest_check));
    return j;
}

static struct json *
gateway_json(const struct vpc_region *r, const struct vpc_gateway *gw)
{
    struct json *j = json_object_create();
    json_object_put_string(j, "id", gw->id);
    json_object_put_string(j, "kind", vpc_gateway_kind_name(gw->kind));
    json_object_put_string(j, "edge", gw->edge->id);
    json_object_put(j, "vni", json_integer_create(pl_gateway_vni(r, gw)));
    if (gw->subnet) {
        json_object_put_string(j, "subnet", gw->subnet->id);
    }
    if (gw->kind == VPC_TGT_NAT) {
        json_object_put(j, "elastic_ip", ip_json(gw->elastic_ip));
    }
    if (gw->n_onprem) {
        struct json *a = json_array_create_empty();
        for (size_t i = 0; i < gw->n_onprem; i++) {
            json_array_add(a, prefix_json(&gw->onprem[i]));
        }
        json_object_put(j, "onprem_prefixes", a);
    }
    if (gw->service) {
        json_object_put_string(j, "service", gw->service);
    }
    return j;
}

/* The whole region as one tree (vpcctl show --format=json). */
static struct json *
show_json(const struct vw_index *x)
{
    const struct vpc_region *r = x->r;
    struct json *vpcs = json_array_create_empty();
    for (size_t v = 0; v < r->n_vpcs; v++) {
        const struct vpc_vpc *vpc = &r->vpcs[v];
        struct json *jv = json_object_create();
        json_object_put_string(jv, "id", vpc->id);
        struct json *blocks = json_array_create_empty();
        for (size_t b = 0; b < vpc->n_blocks; b++) {
            json_array_add(blocks, prefix_json(&vpc->blocks[b]));
        }
        json_object_put(jv, "cidr_blocks", blocks);
        json_object_put(jv, "vni", json_integer_create(vpc->vni));
        json_object_put_string(jv, "route_precedence",
                               vpc->precedence == VPC_PREC_AZURE ? "azure"
                                                                 : "aws");
        struct json *subnets = json_array_create_empty();
        const struct vw_list *sl = &x->vpc_subnets[v];
        for (size_t i = 0; i < sl->n; i++) {
            const struct vpc_subnet *s = sl->v[i];
            struct json *js = json_object_create();
            json_object_put_string(js, "id", s->id);
            json_object_put(js, "cidr", prefix_json(&s->cidr));
            json_object_put_string(js, "availability_zone",
                                   s->availability_zone
                                   ? s->availability_zone : "");
            json_object_put(js, "route_table", s->route_table
                            ? json_string_create(s->route_table->id)
                            : json_null_create());
            json_object_put(js, "network_acl", s->nacl
                            ? json_string_create(s->nacl->id)
                            : json_null_create());
            struct json *enis = json_array_create_empty();
            const struct vw_list *el = &x->subnet_enis[IDX(r->subnets, s)];
            for (size_t e = 0; e < el->n; e++) {
                json_array_add(enis, eni_json(el->v[e]));
            }
            json_object_put(js, "network_interfaces", enis);
            json_array_add(subnets, js);
        }
        json_object_put(jv, "subnets", subnets);
        struct json *gws = json_array_create_empty();
        const struct vw_list *gl = &x->vpc_gateways[v];
        for (size_t i = 0; i < gl->n; i++) {
            json_array_add(gws, gateway_json(r, gl->v[i]));
        }
        json_object_put(jv, "gateways", gws);
        struct json *pcxs = json_array_create_empty();
        for (size_t i = 0; i < vpc->n_peerings; i++) {
            const struct vpc_peering *pcx = vpc->peerings[i];
            struct json *jp = json_object_create();
            json_object_put_string(jp, "id", pcx->id);
            json_object_put_string(jp, "peer_vpc",
                                   vpc_peering_other(pcx, vpc)->id);
            json_object_put_string(jp, "role", pcx->requester == vpc
                                               ? "requester" : "accepter");
            json_array_add(pcxs, jp);
        }
        json_object_put(jv, "peering_connections", pcxs);
        json_array_add(vpcs, jv);
    }
    struct json *hosts = json_array_create_empty();
    for (size_t h = 0; h < r->n_hosts; h++) {
        struct json *jh = json_object_create();
        json_object_put_string(jh, "id", r->hosts[h].id);
        json_object_put(jh, "underlay_ip", ip_json(r->hosts[h].underlay_ip));
        json_object_put(jh, "network_interfaces",
                        ids_json(&x->host_enis[h]));
        json_array_add(hosts, jh);
    }
    struct json *edges = json_array_create_empty();
    for (size_t h = 0; h < r->n_edges; h++) {
        struct json *jh = json_object_create();
        json_object_put_string(jh, "id", r->edges[h].id);
        json_object_put(jh, "underlay_ip", ip_json(r->edges[h].underlay_ip));
        json_object_put(jh, "gateways", ids_json(&x->edge_gateways[h]));
        json_array_add(edges, jh);
    }
    struct json *top = json_object_create();
    json_object_put(top, "vpcs", vpcs);
    json_object_put(top, "hosts", hosts);
    json_object_put(top, "edges", edges);
    return top;
}

/* Joins the strings of JSON array 'a' with ", ". */
static void
put_strings(struct ds *s, const struct json *a)
{
    for (size_t i = 0; i < json_array(a)->n; i++) {
        ds_put_format(s, "%s%s", i ? ", " : "",
                      json_string(json_array(a)->elems[i]));
    }
}

static const char *
jstr(const struct json *o, const char *key)
{
    const struct json *v = shash_find_data(json_object(o), key);
    return v && v->type == JSON_STRING ? json_string(v) : NULL;
}

static const struct json *
jget(const struct json *o, const char *key)
{
    return shash_find_data(json_object(o), key);
}

/* The tree in text, like ovn-nbctl show, from show_json()'s tree. */
static void
show_text(struct ds *s, const struct json *top)
{
    const struct json *vpcs = jget(top, "vpcs");
    for (size_t v = 0; v < json_array(vpcs)->n; v++) {
        const struct json *jv = json_array(vpcs)->elems[v];
        ds_put_format(s, "vpc %s (", jstr(jv, "id"));
        put_strings(s, jget(jv, "cidr_blocks"));
        ds_put_format(s, ", VNI %"PRId64", %s precedence)\n",
                      json_integer(jget(jv, "vni")),
                      jstr(jv, "route_precedence"));
        const struct json *subnets = jget(jv, "subnets");
        for (size_t i = 0; i < json_array(subnets)->n; i++) {
            const struct json *js = json_array(subnets)->elems[i];
            const char *az = jstr(js, "availability_zone");
            ds_put_format(s, "    subnet %s (%s%s%s)\n", jstr(js, "id"),
                          jstr(js, "cidr"), *az ? ", " : "", az);
            const char *rtb = jstr(js, "route_table");
            const char *acl = jstr(js, "network_acl");
            ds_put_format(s, "        route table: %s\n",
                          rtb ? rtb : "none (local routes only)");
            if (acl) {
                ds_put_format(s, "        network acl: %s\n", acl);
            }
            const struct json *enis = jget(js, "network_interfaces");
            for (size_t e = 0; e < json_array(enis)->n; e++) {
                const struct json *je = json_array(enis)->elems[e];
                ds_put_format(s, "        eni %s on %s\n", jstr(je, "id"),
                              jstr(je, "host"));
                ds_put_format(s, "            mac %s, ip %s",
                              jstr(je, "mac"), jstr(je, "private_ip"));
                if (jstr(je, "elastic_ip")) {
                    ds_put_format(s, ", elastic ip %s",
                                  jstr(je, "elastic_ip"));
                }
                if (!json_boolean(jget(je, "source_dest_check"))) {
                    ds_put_cstr(s, ", source/dest check off");
                }
                ds_put_cstr(s, "\n            security groups: ");
                const struct json *sgs = jget(je, "security_groups");
                if (json_array(sgs)->n) {
                    put_strings(s, sgs);
                } else {
                    ds_put_cstr(s, "none");
                }
                ds_put_char(s, '\n');
            }
        }
        const struct json *gws = jget(jv, "gateways");
        for (size_t i = 0; i < json_array(gws)->n; i++) {
            const struct json *jg = json_array(gws)->elems[i];
            ds_put_format(s, "    gateway %s (%s) on %s, VNI %#"PRIx64,
                          jstr(jg, "id"), jstr(jg, "kind"), jstr(jg, "edge"),
                          json_integer(jget(jg, "vni")));
            if (jstr(jg, "subnet")) {
                ds_put_format(s, ", in %s", jstr(jg, "subnet"));
            }
            if (jstr(jg, "elastic_ip")) {
                ds_put_format(s, ", elastic ip %s", jstr(jg, "elastic_ip"));
            }
            if (jget(jg, "onprem_prefixes")) {
                ds_put_cstr(s, ", on-premises ");
                put_strings(s, jget(jg, "onprem_prefixes"));
            }
            if (jstr(jg, "service")) {
                ds_put_format(s, ", service %s", jstr(jg, "service"));
            }
            ds_put_char(s, '\n');
        }
        const struct json *pcxs = jget(jv, "peering_connections");
        for (size_t i = 0; i < json_array(pcxs)->n; i++) {
            const struct json *jp = json_array(pcxs)->elems[i];
            ds_put_format(s, "    peering %s with %s (%s)\n", jstr(jp, "id"),
                          jstr(jp, "peer_vpc"), jstr(jp, "role"));
        }
    }
    const struct json *hosts = jget(top, "hosts");
    for (size_t h = 0; h < json_array(hosts)->n; h++) {
        const struct json *jh = json_array(hosts)->elems[h];
        const struct json *enis = jget(jh, "network_interfaces");
        ds_put_format(s, "host %s (%s): %"PRIuSIZE" ENI%s%s",
                      jstr(jh, "id"), jstr(jh, "underlay_ip"),
                      json_array(enis)->n,
                      json_array(enis)->n == 1 ? "" : "s",
                      json_array(enis)->n ? ": " : "");
        put_strings(s, enis);
        ds_put_char(s, '\n');
    }
    const struct json *edges = jget(top, "edges");
    for (size_t h = 0; h < json_array(edges)->n; h++) {
        const struct json *jh = json_array(edges)->elems[h];
        const struct json *gws = jget(jh, "gateways");
        ds_put_format(s, "edge %s (%s): %"PRIuSIZE" gateway%s%s",
                      jstr(jh, "id"), jstr(jh, "underlay_ip"),
                      json_array(gws)->n, json_array(gws)->n == 1 ? "" : "s",
                      json_array(gws)->n ? ": " : "");
        put_strings(s, gws);
        ds_put_char(s, '\n');
    }
}

int
vw_cmd_show(int argc, char *argv[])
{
    const char *file;
    char **args;
    int n;
    enum vw_format fmt;
    if (!split_args(argc, argv, 0, 0, "[--format=text|json]", &file, &args,
                    &n)
        || !get_format("show", false, &fmt)) {
        return 2;
    }
    struct vw_region vr;
    if (vw_load(file, &vr)) {
        return 1;
    }
    struct vw_index x;
    index_init(&x, vr.r);
    struct json *top = show_json(&x);
    if (fmt == VW_JSON) {
        print_json(top);
    } else {
        struct ds s = DS_EMPTY_INITIALIZER;
        show_text(&s, top);
        fputs(ds_cstr(&s), stdout);
        ds_destroy(&s);
    }
    json_destroy(top);
    index_destroy(&x);
    vw_region_destroy(&vr);
    return 0;
}

/* --------------------------------------------------------------- routes */

/* One effective route of a subnet, as the host pipeline installs it
 * (pipeline/host.c, build_routes()). */
struct vw_route {
    struct vpc_prefix dst;
    const struct vpc_route *rt;         /* NULL: local or same subnet. */
    bool bypass;                        /* The subnet itself: not routed. */
    int priority;                       /* In stage route. */
    size_t order;                       /* Tie-break: declaration order. */
    size_t shadowed_by;                 /* Index of the route that wins
                                         * for the same prefix, or SIZE_MAX
                                         * if none does. */
};

static int
route_cmp(const void *a_, const void *b_)
{
    const struct vw_route *a = a_, *b = b_;
    if (a->bypass != b->bypass) {
        return a->bypass ? -1 : 1;
    }
    if (a->priority != b->priority) {
        return a->priority > b->priority ? -1 : 1;
    }
    return a->order < b->order ? -1 : a->order > b->order;
}

/* The routes traffic leaving an ENI of 's' meets, best first: the subnet
 * itself (not routed), then the VPC's local routes and the table's routes
 * by priority (longest prefix, then origin by the VPC's precedence).  A
 * route whose prefix an earlier one has is shadowed. */
static struct vw_route *
effective_routes(const struct vpc_subnet *s, size_t *np)
{
    const struct vpc_vpc *vpc = s->vpc;
    const struct vpc_route_table *t = s->route_table;
    size_t n = 1 + vpc->n_blocks, k = 0;
    for (size_t i = 0; t && i < t->n_routes; i++) {
        n += t->routes[i].prefix_list ? t->routes[i].prefix_list->n_cidrs
                                      : 1;
    }
    struct vw_route *v = xcalloc(n, sizeof *v);
    v[k++] = (struct vw_route) { .dst = s->cidr, .bypass = true,
                                 .priority = PL_PRIO_BYPASS };
    for (size_t b = 0; b < vpc->n_blocks; b++, k++) {
        v[k] = (struct vw_route) {
            .dst = vpc->blocks[b], .order = k,
            .priority = pl_route_priority(vpc, vpc->blocks[b].plen,
                                          VPC_ORIGIN_SYSTEM) };
    }
    for (size_t i = 0; t && i < t->n_routes; i++) {
        const struct vpc_route *rt = &t->routes[i];
        size_t m = rt->prefix_list ? rt->prefix_list->n_cidrs : 1;
        for (size_t p = 0; p < m; p++, k++) {
            const struct vpc_prefix *dst = (rt->prefix_list
                                            ? &rt->prefix_list->cidrs[p]
                                            : &rt->dst);
            v[k] = (struct vw_route) {
                .dst = *dst, .rt = rt, .order = k,
                .priority = pl_route_priority(vpc, dst->plen, rt->origin) };
        }
    }
    qsort(v, n, sizeof *v, route_cmp);
    for (size_t i = 0; i < n; i++) {
        v[i].shadowed_by = SIZE_MAX;
        for (size_t j = 1; !v[i].bypass && j < i; j++) {
            if (v[j].dst.plen == v[i].dst.plen
                && v[j].dst.addr == v[i].dst.addr) {
                v[i].shadowed_by = j;
                break;
            }
        }
    }
    *np = n;
    return v;
}

static const char *
origin_name(const struct vw_route *er)
{
    if (!er->rt) {
        return "system";
    }
    return er->rt->origin == VPC_ORIGIN_PROPAGATED ? "propagated" : "static";
}

/* The target's id or keyword. */
static const char *
target_name(const struct vw_route *er)
{
    if (!er->rt) {
        return "local";
    }
    const struct vpc_route *rt = er->rt;
    switch (rt->kind) {
    case VPC_TGT_LOCAL:
        return "local";
    case VPC_TGT_BLACKHOLE:
        return "blackhole";
    case VPC_TGT_ENI:
        return rt->eni->id;
    case VPC_TGT_PEERING:
        return rt->peering->id;
    VPC_TGT_GATEWAY_CASES
        return rt->gateway->id;
    }
    OVS_NOT_REACHED();
}

/* AWS's route state: blackhole for a route that drops (its target is
 * "blackhole"), otherwise active.  The model has no target that can go
 * away (every reference is validated), so no other route is a blackhole. */
static bool
route_is_blackhole(const struct vw_route *er)
{
    return er->rt && er->rt->kind == VPC_TGT_BLACKHOLE;
}

/* What 'er''s target resolves to, in words and as JSON. */
static char *
resolve_target(const struct vpc_region *r, const struct vpc_subnet *s,
               const struct vw_route *er, struct json **jp)
{
    struct json *j = json_object_create();
    char *text;
    const struct vpc_route *rt = er->rt;
    if (!rt || rt->kind == VPC_TGT_LOCAL) {
        json_object_put_string(j, "kind", er->bypass ? "subnet" : "vpc");
        json_object_put_string(j, "vpc", s->vpc->id);
        json_object_put(j, "vni", json_integer_create(s->vpc->vni));
        text = xasprintf("%s (VNI %"PRIu32"), the ENI with the destination "
                         "address%s", s->vpc->id, s->vpc->vni,
                         er->bypass ? ", not routed (same subnet)" : "");
    } else {
        switch (rt->kind) {
        case VPC_TGT_LOCAL:
            OVS_NOT_REACHED();
        case VPC_TGT_BLACKHOLE:
            json_object_put_string(j, "kind", "drop");
            text = xstrdup("dropped");
            break;
        case VPC_TGT_ENI: {
            char ip[16];
            vpc_ip_format(rt->eni->ip, ip);
            json_object_put_string(j, "kind", "eni");
            json_object_put_string(j, "eni", rt->eni->id);
            json_object_put_string(j, "host", rt->eni->host->id);
            json_object_put_string(j, "ip", ip);
            text = xasprintf("network interface %s (%s) on %s",
                             rt->eni->id, ip, rt->eni->host->id);
            break;
        }
        case VPC_TGT_PEERING: {
            const struct vpc_vpc *peer = vpc_peering_other(rt->peering,
                                                           s->vpc);
            json_object_put_string(j, "kind", "peering");
            json_object_put_string(j, "vpc", peer->id);
            json_object_put(j, "vni", json_integer_create(peer->vni));
            text = xasprintf("%s (VNI %"PRIu32") through %s, the ENI with "
                             "the destination address", peer->id, peer->vni,
                             rt->peering->id);
            break;
        }
        VPC_TGT_GATEWAY_CASES {
            const struct vpc_gateway *gw = rt->gateway;
            json_object_put_string(j, "kind", "gateway");
            json_object_put_string(j, "gateway", gw->id);
            json_object_put_string(j, "gateway_kind",
                                   vpc_gateway_kind_name(gw->kind));
            json_object_put_string(j, "edge", gw->edge->id);
            json_object_put(j, "vni", json_integer_create(
                                pl_gateway_vni(r, gw)));
            text = xasprintf("%s %s on edge %s (VNI %#"PRIx32")",
                             vpc_target_kind_name(gw->kind), gw->id,
                             gw->edge->id, pl_gateway_vni(r, gw));
            break;
        }
        default:
            OVS_NOT_REACHED();
        }
    }
    *jp = j;
    return text;
}

/* The ENI of 'vpc' with address 'ip', or NULL. */
static const struct vpc_eni *
find_eni_by_ip(const struct vw_index *x, const struct vpc_vpc *vpc,
               uint32_t ip)
{
    const struct vw_list *l = &x->vpc_enis[IDX(x->r->vpcs, vpc)];
    for (size_t i = 0; i < l->n; i++) {
        const struct vpc_eni *e = l->v[i];
        if (e->ip == ip) {
            return e;
        }
    }
    return NULL;
}

/* Where a packet from 's' to 'ip' goes by route 'er' (NULL: no route), in
 * words and JSON. */
static char *
lookup_verdict(const struct vw_index *x, const struct vpc_subnet *s,
               const struct vw_route *er, uint32_t ip, struct json *j)
{
    char a[16];
    vpc_ip_format(ip, a);
    if (!er) {
        json_object_put_string(j, "verdict", "dropped");
        json_object_put_string(j, "reason", "no route");
        return xstrdup("dropped: no route");
    }
    const struct vpc_route *rt = er->rt;
    const struct vpc_vpc *vpc = NULL;
    if (!rt || rt->kind == VPC_TGT_LOCAL) {
        vpc = s->vpc;
    } else if (rt->kind == VPC_TGT_PEERING) {
        vpc = vpc_peering_other(rt->peering, s->vpc);
    } else if (rt->kind == VPC_TGT_BLACKHOLE) {
        json_object_put_string(j, "verdict", "dropped");
        json_object_put_string(j, "reason", "blackhole route");
        return xstrdup("dropped: blackhole route");
    } else if (rt->kind == VPC_TGT_ENI) {
        json_object_put_string(j, "verdict", "delivered");
        json_object_put_string(j, "eni", rt->eni->id);
        json_object_put_string(j, "host", rt->eni->host->id);
        return xasprintf("delivered to %s on %s (the route's appliance)",
                         rt->eni->id, rt->eni->host->id);
    } else {
        const struct vpc_gateway *gw = rt->gateway;
        json_object_put_string(j, "verdict", "gateway");
        json_object_put_string(j, "gateway", gw->id);
        json_object_put_string(j, "edge", gw->edge->id);
        return xasprintf("out through %s on edge %s", gw->id, gw->edge->id);
    }
    const struct vpc_eni *e = find_eni_by_ip(x, vpc, ip);
    if (e) {
        json_object_put_string(j, "verdict", "delivered");
        json_object_put_string(j, "eni", e->id);
        json_object_put_string(j, "host", e->host->id);
        return xasprintf("delivered to %s on %s", e->id, e->host->id);
    }
    const struct vw_list *sl = &x->vpc_subnets[IDX(x->r->vpcs, vpc)];
    for (size_t i = 0; i < sl->n; i++) {
        const struct vpc_subnet *t = sl->v[i];
        if (vpc_subnet_router_ip(t) == ip) {
            json_object_put_string(j, "verdict", "router");
            json_object_put_string(j, "subnet", t->id);
            return xasprintf("the virtual router of %s", t->id);
        }
    }
    json_object_put_string(j, "verdict", "dropped");
    json_object_put_string(j, "reason", "no ENI has the address");
    return xasprintf("dropped: no ENI of %s has %s", vpc->id, a);
}

int
vw_cmd_routes(int argc, char *argv[])
{
    const char *file;
    char **args;
    int n;
    enum vw_format fmt;
    if (!split_args(argc, argv, 1, 2, "SUBNET [IP] [--format=text|json]",
                    &file, &args, &n)
        || !get_format("routes", false, &fmt)) {
        return 2;
    }
    uint32_t ip = 0;
    if (n > 1 && !vpc_ip_parse(args[1], &ip)) {
        fprintf(stderr, "vpcctl: routes: %s: not an IPv4 address\n",
                args[1]);
        return 2;
    }
    struct vw_region vr;
    if (vw_load(file, &vr)) {
        return 1;
    }
    const struct vpc_region *r = vr.r;
    const struct vpc_subnet *s = NULL;
    for (size_t i = 0; i < r->n_subnets; i++) {
        if (!strcmp(r->subnets[i].id, args[0])) {
            s = &r->subnets[i];
        }
    }
    if (!s) {
        fprintf(stderr, "vpcctl: routes: $.subnets[%s]: no such subnet in "
                "%s\n", args[0], vr.source);
        vw_region_destroy(&vr);
        return 1;
    }
    struct vw_index x;
    index_init(&x, r);
    size_t nr;
    struct vw_route *v = effective_routes(s, &nr);

    /* The route a lookup of 'ip' takes: the first that contains it. */
    const struct vw_route *hit = NULL;
    for (size_t i = 0; n > 1 && i < nr && !hit; i++) {
        if (vpc_prefix_contains(&v[i].dst, ip)) {
            hit = &v[i];
        }
    }

    struct json *top = json_object_create();
    json_object_put_string(top, "subnet", s->id);
    json_object_put_string(top, "vpc", s->vpc->id);
    json_object_put_string(top, "route_precedence",
                           s->vpc->precedence == VPC_PREC_AZURE ? "azure"
                                                                : "aws");
    json_object_put(top, "route_table", s->route_table
                    ? json_string_create(s->route_table->id)
                    : json_null_create());
    json_object_put_string(top, "association",
                           s->route_table ? "explicit" : "none");
    struct ds text = DS_EMPTY_INITIALIZER;
    char cidr[24];
    vpc_prefix_format(&s->cidr, cidr);
    ds_put_format(&text, "subnet %s (%s) in %s, %s precedence\n", s->id,
                  cidr, s->vpc->id, s->vpc->precedence == VPC_PREC_AZURE
                                    ? "azure" : "aws");
    if (s->route_table) {
        ds_put_format(&text, "route table: %s (explicit association)\n",
                      s->route_table->id);
    } else {
        ds_put_cstr(&text, "route table: none (no association and no main "
                    "table: local routes only)\n");
    }
    ds_put_format(&text, "\n%-3s %-18s %-14s %-10s %-9s %s\n", "#",
                  "destination", "target", "origin", "state",
                  "resolves to");

    struct json *routes = json_array_create_empty();
    for (size_t i = 0; i < nr; i++) {
        const struct vw_route *er = &v[i];
        char dst[24];
        vpc_prefix_format(&er->dst, dst);
        struct json *res;
        char *to = resolve_target(r, s, er, &res);
        const char *state = route_is_blackhole(er) ? "blackhole" : "active";
        struct json *j = json_object_create();
        json_object_put_string(j, "destination", dst);
        if (er->rt && er->rt->prefix_list) {
            json_object_put_string(j, "prefix_list",
                                   er->rt->prefix_list->id);
        }
        json_object_put_string(j, "target", target_name(er));
        json_object_put_string(j, "origin", origin_name(er));
        json_object_put_string(j, "state", state);
        json_object_put(j, "bypass", json_boolean_create(er->bypass));
        json_object_put(j, "priority", json_integer_create(er->priority));
        json_object_put(j, "resolves_to", res);
        char *ref = (er->bypass ? xasprintf("%s", s->id)
                     : er->rt ? xasprintf("%s routes[%"PRIuSIZE"]",
                                          s->route_table->id, er->rt->index)
                     : xasprintf("%s local", s->vpc->id));
        json_object_put_string(j, "ref", ref);
        if (er->shadowed_by != SIZE_MAX) {
            json_object_put(j, "shadowed_by",
                            json_integer_create(er->shadowed_by));
        }
        json_array_add(routes, j);

        ds_put_format(&text, "%-3"PRIuSIZE" %-18s %-14s %-10s %-9s %s",
                      i, dst, target_name(er),
                      er->bypass ? "subnet" : origin_name(er), state, to);
        if (er->rt && er->rt->prefix_list) {
            ds_put_format(&text, " [prefix list %s]",
                          er->rt->prefix_list->id);
        }
        if (er->shadowed_by != SIZE_MAX) {
            ds_put_format(&text, " [shadowed by #%"PRIuSIZE"]",
                          er->shadowed_by);
        }
        ds_put_format(&text, "   <- %s\n", ref);
        free(ref);
        free(to);
    }
    json_object_put(top, "routes", routes);

    if (n > 1) {
        struct json *lk = json_object_create();
        json_object_put_string(lk, "destination", args[1]);
        json_object_put(lk, "route", hit
                        ? json_integer_create(hit - v) : json_null_create());
        char *verdict = lookup_verdict(&x, s, hit, ip, lk);
        json_object_put(top, "lookup", lk);
        if (hit) {
            char dst[24];
            vpc_prefix_format(&hit->dst, dst);
            ds_put_format(&text, "\n%s: route #%"PRIuSIZE" (%s -> %s): %s\n",
                          args[1], (size_t) (hit - v), dst, target_name(hit),
                          verdict);
        } else {
            ds_put_format(&text, "\n%s: %s\n", args[1], verdict);
        }
        free(verdict);
    }

    if (fmt == VW_JSON) {
        print_json(top);
    } else {
        fputs(ds_cstr(&text), stdout);
    }
    ds_destroy(&text);
    json_destroy(top);
    free(v);
    index_destroy(&x);
    vw_region_destroy(&vr);
    return 0;
}

/* ---------------------------------------------------------------- graph */

/* Appends 's' as a DOT double-quoted string. */
static void
dot_quote(struct ds *d, const char *s)
{
    ds_put_char(d, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            ds_put_char(d, '\\');
        }
        if (*s == '\n') {
            ds_put_cstr(d, "\\n");
        } else {
            ds_put_char(d, *s);
        }
    }
    ds_put_char(d, '"');
}

static void
dot_node(struct ds *d, const char *indent, const char *id,
         const char *shape, const char *label)
{
    ds_put_cstr(d, indent);
    dot_quote(d, id);
    ds_put_format(d, " [shape=%s, label=", shape);
    dot_quote(d, label);
    ds_put_cstr(d, "];\n");
}

static void
dot_edge(struct ds *d, const char *a, const char *b, const char *attrs)
{
    ds_put_cstr(d, "  ");
    dot_quote(d, a);
    ds_put_cstr(d, " -> ");
    dot_quote(d, b);
    ds_put_format(d, "%s%s%s;\n", *attrs ? " [" : "", attrs,
                  *attrs ? "]" : "");
}

/* The topology as DOT: a cluster per VPC (the VPC and its subnets), per
 * host (its ENIs) and per edge (its gateways); edges from each subnet to
 * its ENIs, from each gateway to the VPC (a NAT gateway to its subnet) and
 * between peered VPCs, and dotted edges for the routes of each subnet to
 * gateways and appliances. */
static void
graph_dot(const struct vw_index *x, struct ds *d)
{
    const struct vpc_region *r = x->r;
    ds_put_cstr(d, "digraph region {\n"
                "  graph [rankdir=LR, fontname=\"Helvetica\", "
                "fontsize=11];\n"
                "  node [fontname=\"Helvetica\", fontsize=10];\n"
                "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (size_t v = 0; v < r->n_vpcs; v++) {
        const struct vpc_vpc *vpc = &r->vpcs[v];
        ds_put_format(d, "  subgraph cluster_vpc_%"PRIuSIZE" {\n"
                      "    style=rounded; color=\"#3b6ea5\";\n"
                      "    label=", v);
        dot_quote(d, vpc->id);
        ds_put_cstr(d, ";\n");
        struct ds label = DS_EMPTY_INITIALIZER;
        ds_put_format(&label, "%s\n", vpc->id);
        for (size_t b = 0; b < vpc->n_blocks; b++) {
            char p[24];
            vpc_prefix_format(&vpc->blocks[b], p);
            ds_put_format(&label, "%s ", p);
        }
        ds_put_format(&label, "\nVNI %"PRIu32, vpc->vni);
        dot_node(d, "    ", vpc->id, "box3d", ds_cstr(&label));
        const struct vw_list *sl = &x->vpc_subnets[v];
        for (size_t i = 0; i < sl->n; i++) {
            const struct vpc_subnet *s = sl->v[i];
            char p[24];
            vpc_prefix_format(&s->cidr, p);
            ds_clear(&label);
            ds_put_format(&label, "%s\n%s", s->id, p);
            if (s->route_table) {
                ds_put_format(&label, "\n%s", s->route_table->id);
            }
            if (s->nacl) {
                ds_put_format(&label, "\n%s", s->nacl->id);
            }
            dot_node(d, "    ", s->id, "box", ds_cstr(&label));
        }
        ds_destroy(&label);
        ds_put_cstr(d, "  }\n");
    }
    for (size_t h = 0; h < r->n_hosts; h++) {
        const struct vpc_host *host = &r->hosts[h];
        char ip[16];
        vpc_ip_format(host->underlay_ip, ip);
        ds_put_format(d, "  subgraph cluster_host_%"PRIuSIZE" {\n"
                      "    style=filled; color=\"#eeeeee\";\n"
                      "    label=", h);
        char *l = xasprintf("host %s\n%s", host->id, ip);
        dot_quote(d, l);
        free(l);
        ds_put_cstr(d, ";\n");
        const struct vw_list *el = &x->host_enis[h];
        for (size_t i = 0; i < el->n; i++) {
            const struct vpc_eni *e = el->v[i];
            char a[16];
            vpc_ip_format(e->ip, a);
            l = xasprintf("%s\n%s", e->id, a);
            if (e->has_elastic_ip) {
                char eip[16];
                vpc_ip_format(e->elastic_ip, eip);
                char *l2 = xasprintf("%s\nEIP %s", l, eip);
                free(l);
                l = l2;
            }
            dot_node(d, "    ", e->id, "ellipse", l);
            free(l);
        }
        ds_put_cstr(d, "  }\n");
    }
    for (size_t h = 0; h < r->n_edges; h++) {
        const struct vpc_host *edge = &r->edges[h];
        char ip[16];
        vpc_ip_format(edge->underlay_ip, ip);
        ds_put_format(d, "  subgraph cluster_edge_%"PRIuSIZE" {\n"
                      "    style=filled; color=\"#fff2cc\";\n"
                      "    label=", h);
        char *l = xasprintf("edge %s\n%s", edge->id, ip);
        dot_quote(d, l);
        free(l);
        ds_put_cstr(d, ";\n");
        const struct vw_list *gl = &x->edge_gateways[h];
        for (size_t i = 0; i < gl->n; i++) {
            const struct vpc_gateway *gw = gl->v[i];
            l = xasprintf("%s\n%s", gw->id, vpc_target_kind_name(gw->kind));
            dot_node(d, "    ", gw->id, "hexagon", l);
            free(l);
        }
        ds_put_cstr(d, "  }\n");
    }
    for (size_t i = 0; i < r->n_subnets; i++) {
        dot_edge(d, r->subnets[i].vpc->id, r->subnets[i].id, "");
    }
    for (size_t i = 0; i < r->n_enis; i++) {
        dot_edge(d, r->enis[i].subnet->id, r->enis[i].id, "");
    }
    for (size_t i = 0; i < r->n_gateways; i++) {
        const struct vpc_gateway *gw = &r->gateways[i];
        dot_edge(d, gw->subnet ? gw->subnet->id : gw->vpc->id, gw->id,
                 "dir=none, style=dashed");
    }
    for (size_t i = 0; i < r->n_peerings; i++) {
        const struct vpc_peering *pcx = &r->peerings[i];
        struct ds a = DS_EMPTY_INITIALIZER;
        ds_put_cstr(&a, "dir=both, style=bold, color=\"#3b6ea5\", label=");
        dot_quote(&a, pcx->id);
        dot_edge(d, pcx->requester->id, pcx->accepter->id, ds_cstr(&a));
        ds_destroy(&a);
    }
    for (size_t i = 0; i < r->n_subnets; i++) {
        const struct vpc_subnet *s = &r->subnets[i];
        const struct vpc_route_table *t = s->route_table;
        for (size_t k = 0; t && k < t->n_routes; k++) {
            const struct vpc_route *rt = &t->routes[k];
            const char *to = (rt->kind == VPC_TGT_ENI ? rt->eni->id
                              : vpc_target_is_gateway(rt->kind)
                              ? rt->gateway->id : NULL);
            if (!to) {
                continue;
            }
            struct ds a = DS_EMPTY_INITIALIZER;
            char *dst = (rt->prefix_list ? xstrdup(rt->prefix_list->id)
                         : vpc_prefix_to_string(&rt->dst));
            ds_put_cstr(&a, "style=dotted, color=\"#888888\", label=");
            dot_quote(&a, dst);
            dot_edge(d, s->id, to, ds_cstr(&a));
            free(dst);
            ds_destroy(&a);
        }
    }
    ds_put_cstr(d, "}\n");
}

int
vw_cmd_graph(int argc, char *argv[])
{
    const char *file;
    char **args;
    int n;
    enum vw_format fmt;
    if (!split_args(argc, argv, 0, 0, "[--format=dot|svg]", &file, &args,
                    &n)
        || !get_format("graph", true, &fmt)) {
        return 2;
    }
    struct vw_region vr;
    if (vw_load(file, &vr)) {
        return 1;
    }
    struct vw_index x;
    index_init(&x, vr.r);
    struct ds d = DS_EMPTY_INITIALIZER;
    graph_dot(&x, &d);
    index_destroy(&x);
    vw_region_destroy(&vr);

    int status = 0;
    if (fmt == VW_DOT) {
        fputs(ds_cstr(&d), stdout);
    } else {
        /* Graphviz writes the SVG to our standard output. */
        fflush(stdout);
        FILE *dot = popen("dot -Tsvg", "w");
        int rc = -1;
        if (dot) {
            fputs(ds_cstr(&d), dot);
            rc = pclose(dot);
        }
        if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc)) {
            fprintf(stderr, "vpcctl: graph --format=svg: 'dot -Tsvg' %s%s\n",
                    rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 127
                    ? "not found: install Graphviz (apt-get install "
                      "graphviz; scripts/deps.sh)"
                    : "failed", "");
            status = 1;
        }
    }
    ds_destroy(&d);
    return status;
}

/* ------------------------------------------------------ compile offline */

char *
vw_offline_host_config(const struct vpc_region *r, struct pl_host_config *cfg,
                       struct pl_binding **owned, size_t *n_owned,
                       char **note)
{
    *owned = NULL;
    *n_owned = 0;
    *note = NULL;
    const struct vpc_host *host = vpc_region_find_host(r, cfg->host_id);
    if (!host) {
        return xasprintf("%s: no such host or edge in the region",
                         cfg->host_id);
    }

    /* The ofports taken: by --bind and by ports given. */
    size_t n_given = cfg->n_bindings;
    size_t max = r->n_enis + n_given + 8;
    for (size_t i = 0; i < n_given; i++) {
        max = MAX(max, (size_t) cfg->bindings[i].ofport + 1);
    }
    int ports[] = { cfg->tunnel_ofport, cfg->uplink_ofport, cfg->dx_ofport,
                    cfg->vpn_ofport };
    for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
        max = MAX(max, (size_t) MAX(ports[i], 0) + 1);
    }
    bool *used = xcalloc(max + 1, sizeof *used);
    for (size_t i = 0; i < n_given; i++) {
        used[cfg->bindings[i].ofport] = true;
    }
    for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
        if (ports[i] > 0) {
            used[ports[i]] = true;
        }
    }
    int next = 1;

    struct pl_binding *b = xcalloc(r->n_enis + n_given + 1, sizeof *b);
    size_t nb = 0;
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, "ofports assigned in ENI order:");
    for (size_t i = 0; i < r->n_enis; i++) {
        const struct vpc_eni *e = &r->enis[i];
        if (e->host != host) {
            continue;
        }
        int ofport = 0;
        for (size_t k = 0; k < n_given; k++) {
            if (!strcmp(cfg->bindings[k].eni_id, e->id)) {
                ofport = cfg->bindings[k].ofport;
            }
        }
        bool bound = ofport > 0;
        if (!bound) {
            while (used[next]) {
                next++;
            }
            ofport = next;
            used[next] = true;
        }
        b[nb++] = (struct pl_binding) { .eni_id = e->id, .ofport = ofport };
        ds_put_format(&s, " %s=%d%s", e->id, ofport, bound ? " (--bind)"
                                                            : "");
    }
    /* --bind of an ENI that is not on this host: kept (compile reports
     * what it makes of it, as with a switch). */
    for (size_t k = 0; k < n_given; k++) {
        const struct vpc_eni *e = vpc_region_find_eni(r,
                                                      cfg->bindings[k].eni_id);
        if (!e || e->host != host) {
            b[nb++] = cfg->bindings[k];
        }
    }
    if (!nb) {
        ds_put_cstr(&s, " (none on this host)");
    }
    int *want[] = { &cfg->tunnel_ofport, &cfg->uplink_ofport,
                    &cfg->dx_ofport, &cfg->vpn_ofport };
    static const char *const names[] = { "tunnel", "uplink", "dx", "vpn" };
    size_t n_want = host->is_edge ? ARRAY_SIZE(want) : 1;
    for (size_t i = 0; i < n_want; i++) {
        bool given = *want[i] > 0;
        if (!given) {
            while (used[next]) {
                next++;
            }
            *want[i] = next;
            used[next] = true;
        }
        ds_put_format(&s, "%s %s=%d%s", i ? "" : ";", names[i], *want[i],
                      given ? " (given)" : "");
    }
    free(used);
    cfg->bindings = b;
    cfg->n_bindings = nb;
    *owned = b;
    *n_owned = nb;
    *note = ds_steal_cstr(&s);
    return NULL;
}
