/* regiondb/regiondb.c: load a region document into the region database
 * and dump it back (see regiondb.h and docs/regiondb.md).
 *
 * The code is generic over the generated IDL: it walks the table classes
 * of rdbrec_idl_class and maps each JSON field to the column of the same
 * name, except where build/regiondb/rdb-spec.inc (generated from
 * schema/region.ann.json) says otherwise: the collection -> table names,
 * fields stored in one of several columns (RDB_ALT), the columns that
 * identify a nested rule or route in its list (RDB_KEY) and the lists that
 * are written even when empty (RDB_REQUIRED_LIST).  A column whose
 * reference points into a non-root table holds a nested list (security
 * group rules, network ACL entries, routes); references into root tables
 * are ids in the document. */

#include <config.h>

#include "regiondb/regiondb.h"
#include "pipeline/pipeline.h"
#include "regiondb/regiondb-private.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hmapx.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "ovsdb-idl.h"
#include "ovsdb-idl-provider.h"
#include "regiondb/region-idl.h"
#include "sset.h"
#include "timeval.h"
#include "translator/model.h"
#include "util.h"
#include "uuid.h"
#include "uuidset.h"

VLOG_DEFINE_THIS_MODULE(regiondb);

/* The generated mapping (rdb-spec.inc), as four tables. */
struct rdb_collection {
    const char *key;            /* Document key, e.g. "vpcs". */
    const char *table;          /* Table name, e.g. "VPC". */
    bool ordered;               /* Keeps document order in 'position'. */
};
struct rdb_alt {
    const char *table, *field, *column;
    const char *prefix;         /* Id prefix, or NULL: by JSON type. */
};
struct rdb_name_pair {
    const char *table, *column;
};

#define RDB_ROOT(T)
#define RDB_COLLECTION(K, T, O)
#define RDB_ALT(T, F, C, P)
#define RDB_KEY(T, C)
#define RDB_REQUIRED_LIST(T, C)
#define RDB_DERIVED(T, C, O)
#define RDB_STAMP(T, C)

#undef RDB_ROOT
#define RDB_ROOT(T) T
static const char *rdb_root_table =
#include "regiondb/rdb-spec.inc"
    ;
#undef RDB_ROOT
#define RDB_ROOT(T)

#undef RDB_COLLECTION
#define RDB_COLLECTION(K, T, O) { K, T, O },
static const struct rdb_collection rdb_collections[] = {
#include "regiondb/rdb-spec.inc"
};
#undef RDB_COLLECTION
#define RDB_COLLECTION(K, T, O)

#undef RDB_ALT
#define RDB_ALT(T, F, C, P) { T, F, C, P },
static const struct rdb_alt rdb_alts[] = {
#include "regiondb/rdb-spec.inc"
};
#undef RDB_ALT
#define RDB_ALT(T, F, C, P)

#undef RDB_KEY
#define RDB_KEY(T, C) { T, C },
static const struct rdb_name_pair rdb_keys[] = {
#include "regiondb/rdb-spec.inc"
};
#undef RDB_KEY
#define RDB_KEY(T, C)

#undef RDB_REQUIRED_LIST
#define RDB_REQUIRED_LIST(T, C) { T, C },
static const struct rdb_name_pair rdb_required_lists[] = {
#include "regiondb/rdb-spec.inc"
};
#undef RDB_REQUIRED_LIST
#define RDB_REQUIRED_LIST(T, C)

/* Derived columns: OVSDB-only values rdb_load() computes from the
 * document (a row's VPC, a gateway's reserved VNI), that a follower's
 * monitor conditions select rows by. */
struct rdb_derived {
    const char *table, *column, *of;
};
#undef RDB_DERIVED
#define RDB_DERIVED(T, C, O) { T, C, O },
static const struct rdb_derived rdb_deriveds[] = {
#include "regiondb/rdb-spec.inc"
};
#undef RDB_DERIVED
#define RDB_DERIVED(T, C, O)

/* Stamps: OVSDB-only integers that every writer sets to the new Region.cfg
 * on what a change touches (VPC.cfg, Region.global_cfg), so that followers
 * need not monitor Region.cfg. */
#undef RDB_STAMP
#define RDB_STAMP(T, C) { T, C },
static const struct rdb_name_pair rdb_stamps[] = {
#include "regiondb/rdb-spec.inc"
};
#undef RDB_STAMP

/* The gateway collections in the translator's order of r->gateways, whose
 * index gives a gateway's reserved VNI. */
#define RDB_GW_KEY_(KIND, KEY, ...) KEY,
static const char *const rdb_gateway_keys[] = {
    VPC_GATEWAY_KINDS(RDB_GW_KEY_)
};
#undef RDB_GW_KEY_

#define RDB_N_TABLES RDBREC_N_TABLES

/* Schema lookups. */

const struct ovsdb_idl_table_class *
rdb_table(const char *name)
{
    for (size_t i = 0; i < rdbrec_idl_class.n_tables; i++) {
        if (!strcmp(rdbrec_idl_class.tables[i].name, name)) {
            return &rdbrec_idl_class.tables[i];
        }
    }
    return NULL;
}

static size_t
rdb_table_index(const struct ovsdb_idl_table_class *tc)
{
    return tc - rdbrec_idl_class.tables;
}

const struct ovsdb_idl_column *
rdb_column(const struct ovsdb_idl_table_class *tc, const char *name)
{
    for (size_t i = 0; i < tc->n_columns; i++) {
        if (!strcmp(tc->columns[i].name, name)) {
            return &tc->columns[i];
        }
    }
    return NULL;
}

static const struct rdb_alt *
rdb_alt_of__(const struct ovsdb_idl_table_class *tc,
             const struct ovsdb_idl_column *col)
{
    for (size_t i = 0; i < ARRAY_SIZE(rdb_alts); i++) {
        if (!strcmp(rdb_alts[i].table, tc->name)
            && !strcmp(rdb_alts[i].column, col->name)) {
            return &rdb_alts[i];
        }
    }
    return NULL;
}

static bool
rdb_pair_listed(const struct rdb_name_pair *pairs, size_t n,
                const struct ovsdb_idl_table_class *tc,
                const struct ovsdb_idl_column *col)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(pairs[i].table, tc->name)
            && !strcmp(pairs[i].column, col->name)) {
            return true;
        }
    }
    return false;
}

static const struct rdb_collection *
rdb_collection_of(const struct ovsdb_idl_table_class *tc)
{
    for (size_t i = 0; i < ARRAY_SIZE(rdb_collections); i++) {
        if (!strcmp(rdb_collections[i].table, tc->name)) {
            return &rdb_collections[i];
        }
    }
    return NULL;
}

/* What the code needs to know of each column, computed once per table
 * (these are looked up for every column of every row). */
struct rdb_colinfo {
    const char *field;          /* Document field it stores. */
    const struct rdb_alt *alt;  /* If one of several columns of 'field'. */
    const struct ovsdb_idl_table_class *ref;    /* Referenced table. */
    bool internal;              /* No field: Region.cfg, 'position',
                                 * derived columns. */
    const char *derived;        /* Derived column: what it holds. */
    bool stamp;                 /* A stamp: writers set it, not load. */
    bool child_list;            /* Nested list: refs into a non-root table. */
    bool required_list;         /* Written even when empty. */
    bool key;                   /* Identifies a nested entry. */
};
struct rdb_tableinfo {
    struct rdb_colinfo *cols;
    const struct ovsdb_idl_column *id;  /* "id" column, if any. */
    struct sset fields;                 /* Fields stored in some column. */
};
static struct rdb_tableinfo rdb_tableinfos[RDB_N_TABLES];

static const struct rdb_tableinfo *
rdb_ti(const struct ovsdb_idl_table_class *tc)
{
    struct rdb_tableinfo *ti = &rdb_tableinfos[rdb_table_index(tc)];
    if (ti->cols) {
        return ti;
    }
    ti->cols = xcalloc(tc->n_columns + 1, sizeof *ti->cols);
    ti->id = rdb_column(tc, "id");
    sset_init(&ti->fields);
    const struct rdb_collection *coll = rdb_collection_of(tc);
    for (size_t i = 0; i < tc->n_columns; i++) {
        const struct ovsdb_idl_column *col = &tc->columns[i];
        struct rdb_colinfo *ci = &ti->cols[i];
        const struct ovsdb_base_type *key = &col->type.key;

        ci->alt = rdb_alt_of__(tc, col);
        ci->field = ci->alt ? ci->alt->field : col->name;
        ci->ref = (key->type == OVSDB_TYPE_UUID && key->uuid.refTableName
                   ? rdb_table(key->uuid.refTableName) : NULL);
        ci->internal = (!strcmp(tc->name, rdb_root_table)
                        ? (!strcmp(col->name, "cfg")
                           || !strcmp(col->name, "connections"))
                        : coll && coll->ordered
                          && !strcmp(col->name, "position"));
        for (size_t k = 0; k < ARRAY_SIZE(rdb_deriveds); k++) {
            if (!strcmp(rdb_deriveds[k].table, tc->name)
                && !strcmp(rdb_deriveds[k].column, col->name)) {
                ci->derived = rdb_deriveds[k].of;
                ci->internal = true;
            }
        }
        ci->stamp = rdb_pair_listed(rdb_stamps, ARRAY_SIZE(rdb_stamps), tc,
                                    col);
        ci->internal |= ci->stamp;
        ci->child_list = ci->ref && !ci->ref->is_root;
        ci->required_list = rdb_pair_listed(rdb_required_lists,
                                            ARRAY_SIZE(rdb_required_lists),
                                            tc, col);
        ci->key = rdb_pair_listed(rdb_keys, ARRAY_SIZE(rdb_keys), tc, col);
        if (!ci->internal) {
            sset_add(&ti->fields, ci->field);
        }
    }
    return ti;
}

static const struct rdb_colinfo *
rdb_ci(const struct ovsdb_idl_table_class *tc,
       const struct ovsdb_idl_column *col)
{
    return &rdb_ti(tc)->cols[col - tc->columns];
}

/* The table class that 'col' belongs to. */
static const struct ovsdb_idl_table_class *
rdb_table_of_column(const struct ovsdb_idl_column *col)
{
    for (size_t i = 0; i < rdbrec_idl_class.n_tables; i++) {
        const struct ovsdb_idl_table_class *tc = &rdbrec_idl_class.tables[i];
        if (col >= tc->columns && col < tc->columns + tc->n_columns) {
            return tc;
        }
    }
    OVS_NOT_REACHED();
}

/* The table that 'col' references, or NULL if it holds no references. */
const struct ovsdb_idl_table_class *
rdb_ref_table(const struct ovsdb_idl_column *col)
{
    return rdb_ci(rdb_table_of_column(col), col)->ref;
}

/* True if 'col' holds a nested list: references into a non-root table. */
bool
rdb_is_child_list(const struct ovsdb_idl_column *col)
{
    return rdb_ci(rdb_table_of_column(col), col)->child_list;
}

/* True for the columns that have no field in the document. */
static bool
rdb_is_internal(const struct ovsdb_idl_table_class *tc,
                const struct ovsdb_idl_column *col)
{
    return rdb_ci(tc, col)->internal;
}

/* The document field that 'col' stores. */
static const char *
rdb_field_of(const struct ovsdb_idl_table_class *tc,
             const struct ovsdb_idl_column *col)
{
    return rdb_ci(tc, col)->field;
}

static const struct rdb_alt *
rdb_alt_of(const struct ovsdb_idl_table_class *tc,
           const struct ovsdb_idl_column *col)
{
    return rdb_ci(tc, col)->alt;
}

/* The string in 'row''s "id" column, or "" if none. */
const char *
rdb_row_id(const struct ovsdb_idl_row *row)
{
    const struct ovsdb_idl_column *col = rdb_ti(row->table->class_)->id;
    const struct ovsdb_datum *d = col ? ovsdb_idl_read(row, col) : NULL;
    return d && d->n ? json_string(d->keys[0].s) : "";
}

/* Connection. */

/* Connects to 'remotes' and waits until the IDL holds the database's
 * contents or 'deadline' passes.  A writer needs the cluster's leader
 * ('leader_only'); a reader may use any member (whose replica may lag the
 * leader's by the transactions it has not received yet). */
char *
rdb_connect(const char *remotes, long long deadline, bool leader_only,
            struct ovsdb_idl **idlp)
{
    return rdb_connect_indexed(remotes, deadline, leader_only, NULL, idlp);
}

/* The same, and if 'id_indexes' is nonnull, creates an IDL index on "id"
 * of every root table that has one, in id_indexes[table index] (NULL for
 * the other tables). */
char *
rdb_connect_indexed(const char *remotes, long long deadline,
                    bool leader_only, struct ovsdb_idl_index **id_indexes,
                    struct ovsdb_idl **idlp)
{
    /* A whole region is one long transaction to build and one long
     * replica to parse: the poll loop's "unreasonably long poll interval"
     * warnings would only be noise here. */
    vlog_set_levels(vlog_module_from_name("timeval"), VLF_CONSOLE, VLL_ERR);

    struct ovsdb_idl *idl = ovsdb_idl_create(remotes, &rdbrec_idl_class,
                                             true, true);
    ovsdb_idl_set_leader_only(idl, leader_only);
    for (size_t i = 0; id_indexes && i < rdbrec_idl_class.n_tables; i++) {
        const struct ovsdb_idl_table_class *tc = &rdbrec_idl_class.tables[i];
        const struct ovsdb_idl_column *id = rdb_column(tc, "id");
        id_indexes[i] = (tc->is_root && id
                         ? ovsdb_idl_index_create1(idl, id) : NULL);
    }
    for (;;) {
        ovsdb_idl_run(idl);
        if (ovsdb_idl_has_ever_connected(idl)) {
            break;
        }
        if (!ovsdb_idl_is_alive(idl) || time_msec() >= deadline) {
            int err = ovsdb_idl_get_last_error(idl);
            ovsdb_idl_destroy(idl);
            return (err
                    ? xasprintf("%s: cannot connect: %s", remotes,
                                ovs_retval_to_string(err))
                    : xasprintf("%s: no %s database there (or no answer "
                                "within the timeout)", remotes,
                                rdbrec_idl_class.database));
        }
        ovsdb_idl_wait(idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }
    *idlp = idl;
    return NULL;
}

/* Loading. */

/* struct rdb_ctx is in regiondb-private.h. */

/* Where a value is in the document, formatted only for an error message
 * (a path per value would cost more than the load itself). */
struct rdb_where {
    const char *base;           /* "$.enis[3]". */
    const char *field;          /* "mac", or NULL. */
    long long int index;        /* Index in a list, or -1. */
};

static char *
rdb_path(const struct rdb_where *w)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, w->base);
    if (w->field) {
        ds_put_format(&s, ".%s", w->field);
    }
    if (w->index >= 0) {
        ds_put_format(&s, "[%lld]", w->index);
    }
    return ds_steal_cstr(&s);
}

/* The OVSDB JSON atom for 'value', a scalar of the document, stored in
 * 'col'; ids become ["uuid", ...] of the referenced row.  Returns NULL and
 * sets '*error' if it cannot. */
static struct json *
rdb_atom_json(struct rdb_ctx *ctx, const struct ovsdb_idl_column *col,
              const struct ovsdb_base_type *base, const struct json *value,
              const struct rdb_where *w, char **error)
{
    if (base->type == OVSDB_TYPE_UUID) {
        const struct ovsdb_idl_table_class *ref = rdb_ref_table(col);
        const struct ovsdb_idl_row *row
            = (ref && value->type == JSON_STRING
               ? shash_find_data(&ctx->ids[rdb_table_index(ref)],
                                 json_string(value))
               : NULL);
        if (!row) {
            char *path = rdb_path(w);
            char *v = json_to_string(value, JSSF_SORT);
            *error = xasprintf("%s: %s: no %s row has this id", path, v,
                               ref ? ref->name : "(no table)");
            free(v);
            free(path);
            return NULL;
        }
        char uuid[UUID_LEN + 1];
        snprintf(uuid, sizeof uuid, UUID_FMT, UUID_ARGS(&row->uuid));
        return json_array_create_2(json_string_create("uuid"),
                                   json_string_create(uuid));
    }
    if (base->type == OVSDB_TYPE_INTEGER && value->type == JSON_REAL
        && value->real == floor(value->real)
        && fabs(value->real) < 1e15) {
        /* The translator accepts 100.0 as the integer 100. */
        return json_integer_create((long long int) value->real);
    }
    return json_clone(value);
}

/* Fills 'out' with the value of document field 'value' (NULL: absent) for
 * column 'col'.  Returns NULL or an error ("PATH: ..."). */
static char *
rdb_datum_from_doc(struct rdb_ctx *ctx, const struct ovsdb_idl_column *col,
                   const struct json *value, const char *base,
                   const char *field, struct ovsdb_datum *out)
{
    struct rdb_where w = { base, field, -1 };
    char *error = NULL;
    struct json *elems = json_array_create_empty();
    struct json *j;

    if (!value) {
        j = json_array_create_2(
            json_string_create(ovsdb_type_is_map(&col->type) ? "map" : "set"),
            elems);
    } else if (ovsdb_type_is_map(&col->type)) {
        if (value->type != JSON_OBJECT) {
            json_destroy(elems);
            char *path = rdb_path(&w);
            error = xasprintf("%s: must be an object", path);
            free(path);
            return error;
        }
        struct shash_node *node;
        SHASH_FOR_EACH (node, json_object(value)) {
            struct json *k = json_string_create(node->name);
            struct json *v = rdb_atom_json(ctx, col, &col->type.value,
                                           node->data, &w, &error);
            if (!v) {
                json_destroy(k);
                break;
            }
            json_array_add(elems, json_array_create_2(k, v));
        }
        j = json_array_create_2(json_string_create("map"), elems);
    } else if (value->type == JSON_ARRAY) {
        /* A list is a set here: a repeated id or prefix (which the
         * translator accepts and which means nothing more) is kept once. */
        const struct json_array *a = json_array(value);
        struct sset seen = SSET_INITIALIZER(&seen);
        for (size_t i = 0; i < a->n && !error; i++) {
            struct rdb_where wi = { base, field, i };
            struct json *atom = rdb_atom_json(ctx, col, &col->type.key,
                                              a->elems[i], &wi, &error);
            if (atom) {
                char *key = json_to_string(atom, JSSF_SORT);
                if (sset_add(&seen, key)) {
                    json_array_add(elems, atom);
                } else {
                    json_destroy(atom);
                }
                free(key);
            }
        }
        sset_destroy(&seen);
        j = json_array_create_2(json_string_create("set"), elems);
    } else {
        struct json *atom = rdb_atom_json(ctx, col, &col->type.key, value,
                                          &w, &error);
        if (atom) {
            json_array_add(elems, atom);
        }
        j = json_array_create_2(json_string_create("set"), elems);
    }
    if (!error) {
        struct ovsdb_error *e = ovsdb_datum_from_json(out, &col->type, j,
                                                      NULL);
        if (e) {
            char *s = ovsdb_error_to_string_free(e);
            char *v = value ? json_to_string(value, JSSF_SORT)
                            : xstrdup("(absent)");
            char *path = rdb_path(&w);
            error = xasprintf("%s: %s: does not fit column %s: %s", path, v,
                              col->name, s);
            free(path);
            free(v);
            free(s);
        }
    }
    json_destroy(j);
    return error;
}

/* The value of 'col' from document object 'obj': the field of the same
 * name, or for an alternative column, the field if its value belongs in
 * this column, else NULL. */
static const struct json *
rdb_doc_value(const struct ovsdb_idl_table_class *tc,
              const struct ovsdb_idl_column *col, const struct json *obj)
{
    const struct rdb_alt *alt = rdb_alt_of(tc, col);
    const struct json *v = shash_find_data(json_object(obj),
                                           rdb_field_of(tc, col));
    if (!alt || !v) {
        return v;
    }
    if (alt->prefix) {
        return (v->type == JSON_STRING
                && !strncmp(json_string(v), alt->prefix,
                            strlen(alt->prefix)) ? v : NULL);
    }
    /* By JSON type, unless a prefixed alternative takes the value. */
    for (size_t i = 0; i < ARRAY_SIZE(rdb_alts); i++) {
        const struct rdb_alt *o = &rdb_alts[i];
        if (o->prefix && !strcmp(o->table, alt->table)
            && !strcmp(o->field, alt->field) && v->type == JSON_STRING
            && !strncmp(json_string(v), o->prefix, strlen(o->prefix))) {
            return NULL;
        }
    }
    bool is_string = v->type == JSON_STRING;
    return (col->type.key.type == OVSDB_TYPE_STRING) == is_string ? v : NULL;
}

/* The document-level value of derived column 'col' of object 'obj' (at
 * index 'position' of its collection), or NULL if it has none: a VPC id,
 * which rdb_datum_from_doc() turns into that VPC's row, or a gateway's
 * reserved VNI, as the translator computes it (translator/check.c). */
static struct json *
rdb_derived_value(const struct rdb_ctx *ctx,
                  const struct ovsdb_idl_table_class *tc,
                  const struct ovsdb_idl_column *col, const struct json *obj,
                  int64_t position)
{
    const char *of = rdb_ci(tc, col)->derived;
    if (!strcmp(of, "gateway_vni")) {
        return json_integer_create(PL_GW_VNI_BASE + ctx->gw_base
                                   + position);
    }
    const struct json *id = NULL;
    if (!strcmp(of, "vpc")) {
        id = shash_find_data(json_object(obj), "id");
    } else if (!strcmp(of, "parent_vpc")) {
        return (ctx->parent_id && shash_find(&ctx->vpc_of, ctx->parent_id)
                ? json_string_create(shash_find_data(&ctx->vpc_of,
                                                     ctx->parent_id))
                : NULL);
    } else if (!strncmp(of, "vpc_of:", 7)) {
        id = shash_find_data(json_object(obj), of + 7);
    }
    const char *vpc = (id && id->type == JSON_STRING
                       ? shash_find_data(&ctx->vpc_of, json_string(id))
                       : NULL);
    return vpc ? json_string_create(vpc) : NULL;
}

/* Fills ctx->vpc_of from 'doc': every VPC-scoped object's VPC, by its own
 * 'vpc' field or through its 'subnet'. */
static void
rdb_index_vpcs(struct rdb_ctx *ctx, const struct json *doc)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t c = 0; c < ARRAY_SIZE(rdb_collections); c++) {
            const struct json *coll = shash_find_data(json_object(doc),
                                                      rdb_collections[c].key);
            if (!coll || coll->type != JSON_ARRAY) {
                continue;
            }
            bool is_vpcs = !strcmp(rdb_collections[c].table, "VPC");
            for (size_t i = 0; i < json_array(coll)->n; i++) {
                const struct json *obj = json_array(coll)->elems[i];
                const struct json *id = shash_find_data(json_object(obj),
                                                        "id");
                const struct json *vpc = shash_find_data(json_object(obj),
                                                         "vpc");
                const struct json *subnet
                    = shash_find_data(json_object(obj), "subnet");
                const char *v = NULL;
                if (!id || id->type != JSON_STRING) {
                    continue;
                } else if (pass == 0 && is_vpcs) {
                    v = json_string(id);
                } else if (pass == 0 && vpc && vpc->type == JSON_STRING) {
                    v = json_string(vpc);
                } else if (pass == 1 && !vpc && subnet
                           && subnet->type == JSON_STRING) {
                    v = shash_find_data(&ctx->vpc_of, json_string(subnet));
                }
                if (v) {
                    shash_add_once(&ctx->vpc_of, json_string(id), v);
                }
            }
        }
    }
}

/* The sum of the lengths of the gateway collections of 'doc' that come
 * before 'collection' (which is one), as gateway VNIs count them. */
static int64_t
rdb_gw_base(const struct json *doc, const char *collection)
{
    int64_t base = 0;
    for (size_t g = 0; g < ARRAY_SIZE(rdb_gateway_keys); g++) {
        if (!strcmp(rdb_gateway_keys[g], collection)) {
            break;
        }
        const struct json *gc = shash_find_data(json_object(doc),
                                                rdb_gateway_keys[g]);
        base += gc && gc->type == JSON_ARRAY ? json_array(gc)->n : 0;
    }
    return base;
}

/* The VPC id of object 'obj' of 'doc': its own id for a VPC, its "vpc", or
 * its subnet's.  NULL if none. */
const char *
rdb_object_vpc(const struct json *doc, const char *collection,
               const struct json *obj)
{
    const struct json *id = shash_find_data(json_object(obj), "id");
    const struct json *vpc = shash_find_data(json_object(obj), "vpc");
    const struct json *subnet = shash_find_data(json_object(obj), "subnet");
    if (!strcmp(collection, "vpcs")) {
        return id && id->type == JSON_STRING ? json_string(id) : NULL;
    } else if (vpc && vpc->type == JSON_STRING) {
        return json_string(vpc);
    } else if (subnet && subnet->type == JSON_STRING) {
        const struct json *subnets = shash_find_data(json_object(doc),
                                                     "subnets");
        for (size_t i = 0; subnets && subnets->type == JSON_ARRAY
                           && i < json_array(subnets)->n; i++) {
            const struct json *s = json_array(subnets)->elems[i];
            const struct json *sid = shash_find_data(json_object(s), "id");
            if (sid && sid->type == JSON_STRING
                && !strcmp(json_string(sid), json_string(subnet))) {
                const struct json *sv = shash_find_data(json_object(s),
                                                        "vpc");
                return sv && sv->type == JSON_STRING ? json_string(sv)
                                                     : NULL;
            }
        }
    }
    return NULL;
}

void
rdb_ctx_prepare_object(struct rdb_ctx *ctx, const struct json *doc,
                       const char *collection, const struct json *obj)
{
    ctx->gw_base = rdb_gw_base(doc, collection);
    const struct json *id = obj ? shash_find_data(json_object(obj), "id")
                                : NULL;
    const char *vpc = obj ? rdb_object_vpc(doc, collection, obj) : NULL;
    if (id && id->type == JSON_STRING && vpc) {
        shash_add_once(&ctx->vpc_of, json_string(id), vpc);
    }
}

/* Writes 'desired' (consumed) into 'row''s 'col' unless it already holds
 * it.  Returns true if it wrote. */
static bool
rdb_set_column(const struct ovsdb_idl_row *row, bool is_new,
               const struct ovsdb_idl_column *col,
               struct ovsdb_datum *desired)
{
    const struct ovsdb_datum *cur = ovsdb_idl_read(row, col);
    if (ovsdb_datum_equals(cur, desired, &col->type)) {
        ovsdb_datum_destroy(desired, &col->type);
        return false;
    }
    if (!is_new) {
        /* Read-modify-write: the commit fails (and we retry) if another
         * client changed the column since we read it. */
        ovsdb_idl_txn_verify(row, col);
    }
    ovsdb_idl_txn_write(row, col, desired);
    return true;
}

static void rdb_drop_child(struct rdb_ctx *, const struct ovsdb_idl_row *);

/* The desired values of every column of a nested object. */
struct rdb_child {
    const struct json *obj;
    char *path;
    struct ovsdb_datum *cols;           /* One per column of the table. */
    const struct ovsdb_idl_row *row;    /* Matched or inserted row. */
};

static bool
rdb_child_matches(const struct ovsdb_idl_table_class *tc,
                  const struct rdb_child *c, const struct ovsdb_idl_row *row,
                  bool keys_only)
{
    for (size_t i = 0; i < tc->n_columns; i++) {
        const struct ovsdb_idl_column *col = &tc->columns[i];
        if (keys_only && !rdb_ci(tc, col)->key) {
            continue;
        }
        if (!ovsdb_datum_equals(ovsdb_idl_read(row, col), &c->cols[i],
                                &col->type)) {
            return false;
        }
    }
    return true;
}

/* Makes the nested list in 'parent''s 'col' hold the objects of 'list'
 * (a JSON array or NULL): unchanged children stay, children whose key
 * columns match are updated in place, the rest are inserted or deleted. */
static char *
rdb_diff_children(struct rdb_ctx *ctx, const struct ovsdb_idl_row *parent,
                  bool parent_is_new, const struct ovsdb_idl_column *col,
                  const struct json *list, const char *path, bool *changed)
{
    const struct ovsdb_idl_table_class *tc = rdb_ref_table(col);
    const struct ovsdb_datum *cur = ovsdb_idl_read(parent, col);
    size_t n_old = parent_is_new ? 0 : cur->n;
    const struct ovsdb_idl_row **old = xcalloc(n_old + 1, sizeof *old);
    for (size_t i = 0; i < n_old; i++) {
        old[i] = ovsdb_idl_get_row_for_uuid(ctx->idl, tc,
                                            &cur->keys[i].uuid);
    }

    size_t n = list && list->type == JSON_ARRAY ? json_array(list)->n : 0;
    struct rdb_child *kids = xcalloc(n + 1, sizeof *kids);
    char *error = NULL;
    for (size_t i = 0; i < n && !error; i++) {
        struct rdb_child *c = &kids[i];
        c->obj = json_array(list)->elems[i];
        c->path = xasprintf("%s[%"PRIuSIZE"]", path, i);
        c->cols = xcalloc(tc->n_columns, sizeof *c->cols);
        for (size_t k = 0; k < tc->n_columns; k++) {
            ovsdb_datum_init_empty(&c->cols[k]);
        }
        if (c->obj->type != JSON_OBJECT) {
            error = xasprintf("%s: must be an object", c->path);
            break;
        }
        for (size_t k = 0; k < tc->n_columns && !error; k++) {
            const struct ovsdb_idl_column *kc = &tc->columns[k];
            if (rdb_ci(tc, kc)->derived) {
                struct json *v = rdb_derived_value(ctx, tc, kc, c->obj, 0);
                error = rdb_datum_from_doc(ctx, kc, v, c->path,
                                           rdb_field_of(tc, kc),
                                           &c->cols[k]);
                json_destroy(v);
                continue;
            }
            error = rdb_datum_from_doc(ctx, kc, rdb_doc_value(tc, kc, c->obj),
                                       c->path, rdb_field_of(tc, kc),
                                       &c->cols[k]);
        }
    }

    /* Match exactly first, then by key columns. */
    for (int pass = 0; pass < 2 && !error; pass++) {
        for (size_t i = 0; i < n; i++) {
            for (size_t o = 0; o < n_old && !kids[i].row; o++) {
                if (old[o] && rdb_child_matches(tc, &kids[i], old[o],
                                                pass == 1)) {
                    kids[i].row = old[o];
                    old[o] = NULL;
                    bool updated = false;
                    for (size_t k = 0; pass == 1 && k < tc->n_columns; k++) {
                        struct ovsdb_datum d;
                        ovsdb_datum_clone(&d, &kids[i].cols[k]);
                        updated |= rdb_set_column(kids[i].row, false,
                                                  &tc->columns[k], &d);
                    }
                    ctx->stats.n_updated += updated;
                }
            }
        }
    }
    /* Insert the rest, delete what is left of the old ones. */
    for (size_t i = 0; i < n && !error; i++) {
        if (!kids[i].row) {
            kids[i].row = ovsdb_idl_txn_insert(ctx->txn, tc, NULL);
            ctx->stats.n_inserted++;
            for (size_t k = 0; k < tc->n_columns; k++) {
                struct ovsdb_datum d;
                ovsdb_datum_clone(&d, &kids[i].cols[k]);
                rdb_set_column(kids[i].row, true, &tc->columns[k], &d);
            }
        }
    }
    for (size_t o = 0; o < n_old && !error; o++) {
        if (old[o]) {
            rdb_drop_child(ctx, old[o]);
        }
    }

    if (!error) {
        struct ovsdb_datum d;
        ovsdb_datum_init_empty(&d);
        d.keys = xmalloc((n + 1) * sizeof *d.keys);
        for (size_t i = 0; i < n; i++) {
            d.keys[i].uuid = kids[i].row->uuid;
        }
        d.n = n;
        ovsdb_datum_sort_unique(&d, &col->type);
        *changed |= rdb_set_column(parent, parent_is_new, col, &d);
    }

    for (size_t i = 0; i < n; i++) {
        if (kids[i].cols) {
            for (size_t k = 0; k < tc->n_columns; k++) {
                ovsdb_datum_destroy(&kids[i].cols[k], &tc->columns[k].type);
            }
        }
        free(kids[i].cols);
        free(kids[i].path);
    }
    free(kids);
    free(old);
    return error;
}

/* Makes 'row' (new or existing) hold document object 'obj'; 'position' is
 * its index, for ordered collections. */
char *
rdb_write_row(struct rdb_ctx *ctx, const struct ovsdb_idl_row *row,
              bool is_new, const struct json *obj, const char *path,
              int64_t position)
{
    const struct ovsdb_idl_table_class *tc = row->table->class_;
    bool changed = false;
    char *error = NULL;

    /* A field with no column would be lost: refuse it. */
    const struct sset *fields = &rdb_ti(tc)->fields;
    struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(obj)) {
        if (!sset_contains(fields, node->name)) {
            return xasprintf("%s.%s: no column of table %s stores this "
                             "field", path, node->name, tc->name);
        }
    }

    for (size_t i = 0; i < tc->n_columns && !error; i++) {
        const struct ovsdb_idl_column *col = &tc->columns[i];
        if (!strcmp(tc->name, rdb_root_table) && rdb_is_internal(tc, col)) {
            /* cfg, and the remotes ovsdb-server listens on: not the
             * document's. */
            continue;
        }
        if (rdb_ci(tc, col)->stamp) {
            /* Set by the writer for the whole transaction. */
            continue;
        }
        const char *field = rdb_field_of(tc, col);
        if (rdb_is_child_list(col)) {
            const struct json *id = shash_find_data(json_object(obj), "id");
            ctx->parent_id = id && id->type == JSON_STRING
                             ? json_string(id) : NULL;
            char *p = xasprintf("%s.%s", path, field);
            error = rdb_diff_children(ctx, row, is_new, col,
                                      rdb_doc_value(tc, col, obj), p,
                                      &changed);
            free(p);
        } else {
            struct ovsdb_datum d;
            if (rdb_ci(tc, col)->derived) {
                struct json *v = rdb_derived_value(ctx, tc, col, obj,
                                                   position);
                error = rdb_datum_from_doc(ctx, col, v, path, col->name, &d);
                json_destroy(v);
            } else if (rdb_is_internal(tc, col)) {
                struct json *pos = json_integer_create(position);
                error = rdb_datum_from_doc(ctx, col, pos, path, field, &d);
                json_destroy(pos);
            } else {
                error = rdb_datum_from_doc(ctx, col,
                                           rdb_doc_value(tc, col, obj),
                                           path, field, &d);
            }
            if (!error) {
                changed |= rdb_set_column(row, is_new, col, &d);
            }
        }
    }
    if (changed && !is_new) {
        ctx->stats.n_updated++;
    }
    return error;
}

/* Drops 'kid', a row of a nested list that its parent no longer holds.
 * The IDL never deletes a non-root row itself (ovsdb-server collects it
 * once unreferenced), but the server checks references before it collects
 * garbage: a dropped route that still targets an ENI deleted in the same
 * transaction would make the transaction fail.  So clear its references
 * first, and leave the rest to the server. */
static void
rdb_drop_child(struct rdb_ctx *ctx, const struct ovsdb_idl_row *kid)
{
    const struct ovsdb_idl_table_class *tc = kid->table->class_;
    for (size_t i = 0; i < tc->n_columns; i++) {
        const struct ovsdb_idl_column *col = &tc->columns[i];
        if (rdb_ref_table(col) && ovsdb_idl_read(kid, col)->n) {
            struct ovsdb_datum empty;
            ovsdb_datum_init_empty(&empty);
            ovsdb_idl_txn_write(kid, col, &empty);
        }
    }
    ctx->stats.n_deleted++;
}

/* Deletes 'row' and the rows of its nested lists. */
void
rdb_delete_row(struct rdb_ctx *ctx, const struct ovsdb_idl_row *row)
{
    const struct ovsdb_idl_table_class *tc = row->table->class_;
    for (size_t i = 0; i < tc->n_columns; i++) {
        const struct ovsdb_idl_column *col = &tc->columns[i];
        if (rdb_is_child_list(col)) {
            const struct ovsdb_datum *d = ovsdb_idl_read(row, col);
            for (size_t k = 0; k < d->n; k++) {
                const struct ovsdb_idl_row *kid = ovsdb_idl_get_row_for_uuid(
                    ctx->idl, rdb_ref_table(col), &d->keys[k].uuid);
                if (kid) {
                    rdb_drop_child(ctx, kid);
                }
            }
        }
    }
    ovsdb_idl_txn_delete(row);
    ctx->stats.n_deleted++;
}

/* Builds the transaction that makes the database hold 'doc'. */
char *
rdb_build_txn(struct rdb_ctx *ctx, const struct json *doc)
{
    const struct json *colls[ARRAY_SIZE(rdb_collections)];
    const struct ovsdb_idl_table_class *tcs[ARRAY_SIZE(rdb_collections)];
    struct shash existing[ARRAY_SIZE(rdb_collections)];
    char *error = NULL;

    /* Pass 1: every object gets its row (existing by id, or new), so that
     * references may point anywhere in the document. */
    for (size_t c = 0; c < ARRAY_SIZE(rdb_collections); c++) {
        tcs[c] = rdb_table(rdb_collections[c].table);
        colls[c] = shash_find_data(json_object(doc), rdb_collections[c].key);
        shash_init(&existing[c]);
        const struct ovsdb_idl_row *row;
        for (row = ovsdb_idl_first_row(ctx->idl, tcs[c]); row;
             row = ovsdb_idl_next_row(row)) {
            shash_add_once(&existing[c], rdb_row_id(row), row);
        }
        size_t n = colls[c] ? json_array(colls[c])->n : 0;
        for (size_t i = 0; i < n; i++) {
            const struct json *obj = json_array(colls[c])->elems[i];
            const struct json *id = shash_find_data(json_object(obj), "id");
            row = shash_find_data(&existing[c], json_string(id));
            if (!row) {
                row = ovsdb_idl_txn_insert(ctx->txn, tcs[c], NULL);
                ctx->stats.n_inserted++;
            }
            shash_add_once(&ctx->ids[rdb_table_index(tcs[c])],
                           json_string(id), row);
        }
    }

    /* Pass 2: columns. */
    rdb_index_vpcs(ctx, doc);
    for (size_t c = 0; c < ARRAY_SIZE(rdb_collections) && !error; c++) {
        size_t n = colls[c] ? json_array(colls[c])->n : 0;
        ctx->gw_base = 0;
        for (size_t g = 0; g < ARRAY_SIZE(rdb_gateway_keys); g++) {
            if (!strcmp(rdb_gateway_keys[g], rdb_collections[c].key)) {
                break;
            }
            const struct json *gc = shash_find_data(json_object(doc),
                                                    rdb_gateway_keys[g]);
            ctx->gw_base += gc && gc->type == JSON_ARRAY
                            ? json_array(gc)->n : 0;
        }
        for (size_t i = 0; i < n && !error; i++) {
            const struct json *obj = json_array(colls[c])->elems[i];
            const char *id = json_string(shash_find_data(json_object(obj),
                                                         "id"));
            const struct ovsdb_idl_row *row
                = shash_find_data(&ctx->ids[rdb_table_index(tcs[c])], id);
            bool is_new = shash_find_data(&existing[c], id) != row;
            char *path = xasprintf("$.%s[%"PRIuSIZE"]",
                                   rdb_collections[c].key, i);
            error = rdb_write_row(ctx, row, is_new, obj, path, i);
            free(path);
        }
    }

    /* Pass 3: rows the document no longer has. */
    for (size_t c = 0; c < ARRAY_SIZE(rdb_collections) && !error; c++) {
        struct shash_node *node;
        SHASH_FOR_EACH (node, &existing[c]) {
            if (!shash_find(&ctx->ids[rdb_table_index(tcs[c])],
                            node->name)) {
                rdb_delete_row(ctx, node->data);
            }
        }
    }
    for (size_t c = 0; c < ARRAY_SIZE(rdb_collections); c++) {
        shash_destroy(&existing[c]);
    }
    if (error) {
        return error;
    }

    /* The root: top-level fields and cfg + 1.  Every load commits a new
     * cfg, and verifying it makes concurrent loads conflict (one of them
     * retries) instead of interleaving. */
    const struct ovsdb_idl_table_class *root_tc = rdb_table(rdb_root_table);
    const struct ovsdb_idl_column *cfg_col = rdb_column(root_tc, "cfg");
    const struct ovsdb_idl_row *root = ovsdb_idl_first_row(ctx->idl,
                                                           root_tc);
    bool root_new = !root;
    int64_t cfg = 0;
    if (root_new) {
        root = ovsdb_idl_txn_insert(ctx->txn, root_tc, NULL);
    } else {
        cfg = ovsdb_idl_read(root, cfg_col)->keys[0].integer;
        ovsdb_idl_txn_verify(root, cfg_col);
    }
    struct json *top = json_object_create();
    struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(doc)) {
        bool is_coll = false;
        for (size_t c = 0; c < ARRAY_SIZE(rdb_collections); c++) {
            is_coll |= !strcmp(node->name, rdb_collections[c].key);
        }
        if (!is_coll) {
            json_object_put(top, node->name, json_clone(node->data));
        }
    }
    error = rdb_write_row(ctx, root, root_new, top, "$", 0);
    json_destroy(top);
    if (!error) {
        struct ovsdb_datum d;
        ovsdb_datum_init_empty(&d);
        d.n = 1;
        d.keys = xmalloc(sizeof *d.keys);
        d.keys[0].integer = cfg + 1;
        ovsdb_idl_txn_write(root, cfg_col, &d);
        ctx->stats.cfg = cfg + 1;

        /* A bulk change may touch anything: stamp it as affecting every
         * host (followers acknowledge the stamps they see). */
        ovsdb_datum_init_empty(&d);
        d.n = 1;
        d.keys = xmalloc(sizeof *d.keys);
        d.keys[0].integer = cfg + 1;
        ovsdb_idl_txn_write(root, rdb_column(root_tc, "global_cfg"), &d);
    }
    return error;
}

/* Validates 'file' with the translator; returns its JSON or sets
 * '*error' to every error, one per line. */
static struct json *
rdb_validate(const char *file, char **error)
{
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_region *r = vpc_region_from_file(file, &errs);
    if (!r) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "%s: %"PRIuSIZE" error%s, nothing loaded:", file,
                      errs.n, errs.n == 1 ? "" : "s");
        for (size_t i = 0; i < errs.n; i++) {
            ds_put_format(&s, "\n  %s", errs.msgs[i]);
        }
        vpc_errors_destroy(&errs);
        *error = ds_steal_cstr(&s);
        return NULL;
    }
    vpc_errors_destroy(&errs);
    vpc_region_destroy(r);
    struct json *doc = json_from_file(file);
    if (doc->type != JSON_OBJECT) {
        *error = xasprintf("%s: cannot read it again", file);
        json_destroy(doc);
        return NULL;
    }
    return doc;
}

char *
rdb_load(const char *remotes, const char *file, int timeout_ms,
         struct rdb_load_stats *stats)
{
    char *error = NULL;
    struct json *doc = rdb_validate(file, &error);
    if (!doc) {
        return error;
    }
    long long deadline = time_msec() + timeout_ms;
    struct ovsdb_idl *idl;
    error = rdb_connect(remotes, deadline, true, &idl);
    if (error) {
        json_destroy(doc);
        return error;
    }

    for (int attempt = 0; !error; attempt++) {
        struct rdb_ctx ctx = { .idl = idl };
        for (size_t i = 0; i < RDB_N_TABLES; i++) {
            shash_init(&ctx.ids[i]);
        }
        shash_init(&ctx.vpc_of);
        ctx.txn = ovsdb_idl_txn_create(idl);
        ovsdb_idl_txn_add_comment(ctx.txn, "vpcctl load %s", file);
        unsigned int seqno = ovsdb_idl_get_seqno(idl);
        error = rdb_build_txn(&ctx, doc);

        enum ovsdb_idl_txn_status status = TXN_ERROR;
        while (!error) {
            status = ovsdb_idl_txn_commit(ctx.txn);
            if (status != TXN_INCOMPLETE) {
                break;
            }
            if (time_msec() >= deadline) {
                error = xasprintf("%s: no reply to the transaction within "
                                  "the timeout; it may or may not have "
                                  "been committed", remotes);
                break;
            }
            ovsdb_idl_run(idl);
            ovsdb_idl_wait(idl);
            ovsdb_idl_txn_wait(ctx.txn);
            poll_timer_wait_until(deadline);
            poll_block();
        }
        if (!error) {
            if (status == TXN_SUCCESS || status == TXN_UNCHANGED) {
                *stats = ctx.stats;
            } else if (status == TXN_TRY_AGAIN && attempt < 5) {
                /* Someone else wrote first: wait for their change, then
                 * diff again. */
                while (ovsdb_idl_get_seqno(idl) == seqno
                       && time_msec() < deadline) {
                    ovsdb_idl_run(idl);
                    ovsdb_idl_wait(idl);
                    poll_timer_wait_until(deadline);
                    poll_block();
                }
                ovsdb_idl_txn_destroy(ctx.txn);
                for (size_t i = 0; i < RDB_N_TABLES; i++) {
                    shash_destroy(&ctx.ids[i]);
                }
                shash_destroy(&ctx.vpc_of);
                continue;
            } else {
                const char *e = ovsdb_idl_txn_get_error(ctx.txn);
                error = xasprintf("%s: transaction failed (%s), nothing "
                                  "committed: %s", remotes,
                                  ovsdb_idl_txn_status_to_string(status),
                                  e ? e : "");
            }
        }
        ovsdb_idl_txn_destroy(ctx.txn);
        for (size_t i = 0; i < RDB_N_TABLES; i++) {
            shash_destroy(&ctx.ids[i]);
        }
        shash_destroy(&ctx.vpc_of);
        break;
    }
    ovsdb_idl_destroy(idl);
    json_destroy(doc);
    return error;
}

/* Dumping. */

/* What dumping needs besides the IDL.  With 'prune' (a follower's replica,
 * which holds only the rows its monitor conditions select), a reference to
 * a row absent from the replica, or to a row dropped earlier, drops the
 * entry of a list that holds it, or else the whole object. */
struct rdb_dumper {
    struct ovsdb_idl *idl;
    bool prune;
    struct hmapx dropped;       /* Root rows left out. */
    bool dangling;              /* The last atom named a missing row. */

    /* With a cache: the rows the root row being rendered has read. */
    struct rdb_dump_cache *cache;
    struct uuidset *reads;
};

/* A root row as the last dump rendered it. */
struct rdb_cached_row {
    struct hmap_node node;      /* In rdb_dump_cache 'rows', by UUID. */
    struct uuid uuid;
    struct json *json;
    struct uuid *reads;         /* The rows its rendering read. */
    size_t n_reads;
};

/* The cached rows that read one row. */
struct rdb_reader_set {
    struct hmap_node node;      /* In rdb_dump_cache 'readers', by UUID. */
    struct uuid uuid;
    struct hmapx rows;          /* struct rdb_cached_row *. */
};

struct rdb_dump_cache {
    struct hmap rows;
    struct hmap readers;
    struct uuidset dropped;     /* What the last dump pruned. */
    uint64_t rendered, reused;
};

static struct json *rdb_row_to_json(struct rdb_dumper *,
                                    const struct ovsdb_idl_row *, char **);

static int
rdb_compare_strings(const void *a_, const void *b_)
{
    const struct json *const *a = a_;
    const struct json *const *b = b_;
    return strcmp(json_string(*a), json_string(*b));
}

/* Nested objects sort by their text, rendered once each. */
struct rdb_keyed_json {
    char *key;
    struct json *json;
};

static int
rdb_compare_keyed(const void *a_, const void *b_)
{
    const struct rdb_keyed_json *a = a_, *b = b_;
    return strcmp(a->key, b->key);
}

static void
rdb_sort_objects(struct json **elems, size_t n)
{
    struct rdb_keyed_json *v = xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        v[i].key = json_to_string(elems[i], JSSF_SORT);
        v[i].json = elems[i];
    }
    qsort(v, n, sizeof *v, rdb_compare_keyed);
    for (size_t i = 0; i < n; i++) {
        elems[i] = v[i].json;
        free(v[i].key);
    }
    free(v);
}

static struct json *
rdb_atom_to_json(struct rdb_dumper *dp, const struct ovsdb_idl_column *col,
                 const struct ovsdb_base_type *base,
                 const union ovsdb_atom *atom, char **error)
{
    switch (base->type) {
    case OVSDB_TYPE_INTEGER:
        return json_integer_create(atom->integer);
    case OVSDB_TYPE_REAL:
        return json_real_create(atom->real);
    case OVSDB_TYPE_BOOLEAN:
        return json_boolean_create(atom->boolean);
    case OVSDB_TYPE_STRING:
        return json_string_create(json_string(atom->s));
    case OVSDB_TYPE_UUID: {
        if (dp->reads) {
            uuidset_insert(dp->reads, &atom->uuid);
        }
        const struct ovsdb_idl_table_class *ref = rdb_ref_table(col);
        const struct ovsdb_idl_row *row
            = ref ? ovsdb_idl_get_row_for_uuid(dp->idl, ref, &atom->uuid)
                  : NULL;
        if (row && !row->new_datum) {
            row = NULL;         /* Referenced, but not in the replica. */
        }
        if (dp->prune && (!row || hmapx_contains(&dp->dropped, row))) {
            dp->dangling = true;
            return NULL;
        }
        if (!row) {
            *error = xasprintf("column %s: dangling reference "UUID_FMT,
                               col->name, UUID_ARGS(&atom->uuid));
            return NULL;
        }
        return (ref->is_root ? json_string_create(rdb_row_id(row))
                             : rdb_row_to_json(dp, row, error));
    }
    case OVSDB_TYPE_VOID:
    case OVSDB_N_TYPES:
    default:
        break;
    }
    *error = xasprintf("column %s: unexpected type", col->name);
    return NULL;
}

/* The document object that 'row' holds. */
static struct json *
rdb_row_to_json(struct rdb_dumper *dp, const struct ovsdb_idl_row *row,
                char **error)
{
    const struct ovsdb_idl_table_class *tc = row->table->class_;
    struct json *obj = json_object_create();
    for (size_t i = 0; i < tc->n_columns && !*error; i++) {
        const struct ovsdb_idl_column *col = &tc->columns[i];
        if (rdb_is_internal(tc, col)) {
            continue;
        }
        const struct ovsdb_datum *d = ovsdb_idl_read(row, col);
        const char *field = rdb_field_of(tc, col);
        bool is_list = col->type.n_max > 1 && !ovsdb_type_is_map(&col->type);
        if (!d->n && !(is_list && rdb_ci(tc, col)->required_list)) {
            continue;
        }
        struct json *v;
        if (ovsdb_type_is_map(&col->type)) {
            v = json_object_create();
            for (size_t k = 0; k < d->n && !*error; k++) {
                struct json *val = rdb_atom_to_json(dp, col,
                                                    &col->type.value,
                                                    &d->values[k], error);
                if (val) {
                    json_object_put(v, json_string(d->keys[k].s), val);
                }
            }
        } else if (is_list) {
            struct json **elems = xcalloc(d->n + 1, sizeof *elems);
            size_t n = 0;
            for (size_t k = 0; k < d->n && !*error; k++) {
                struct json *e = rdb_atom_to_json(dp, col, &col->type.key,
                                                  &d->keys[k], error);
                if (e) {
                    elems[n++] = e;
                }
                dp->dangling = false;   /* Pruned: the entry is left out. */
            }
            /* Ids and nested objects in a stable order (the datum's is by
             * UUID). */
            if (n && elems[0]->type == JSON_STRING) {
                qsort(elems, n, sizeof *elems, rdb_compare_strings);
            } else if (n && elems[0]->type == JSON_OBJECT) {
                rdb_sort_objects(elems, n);
            }
            v = json_array_create(elems, n);
        } else {
            v = rdb_atom_to_json(dp, col, &col->type.key, &d->keys[0],
                                 error);
            if (!v && dp->dangling) {
                json_destroy(obj);
                return NULL;    /* Pruned: the whole object. */
            }
        }
        if (v) {
            json_object_put(obj, field, v);
        }
    }
    return obj;
}

struct rdb_sorted_row {
    const struct ovsdb_idl_row *row;
    const char *id;
    int64_t position;
};

static int
rdb_compare_rows(const void *a_, const void *b_)
{
    const struct rdb_sorted_row *a = a_, *b = b_;
    if (a->position != b->position) {
        return a->position < b->position ? -1 : 1;
    }
    return strcmp(a->id, b->id);
}

/* The dump cache. */

struct rdb_dump_cache *
rdb_dump_cache_create(void)
{
    struct rdb_dump_cache *c = xzalloc(sizeof *c);
    hmap_init(&c->rows);
    hmap_init(&c->readers);
    uuidset_init(&c->dropped);
    return c;
}

static struct rdb_reader_set *
rdb_reader_set_find(const struct rdb_dump_cache *c, const struct uuid *u)
{
    struct rdb_reader_set *rs;
    HMAP_FOR_EACH_WITH_HASH (rs, node, uuid_hash(u), &c->readers) {
        if (uuid_equals(&rs->uuid, u)) {
            return rs;
        }
    }
    return NULL;
}

static struct rdb_cached_row *
rdb_cached_row_find(const struct rdb_dump_cache *c, const struct uuid *u)
{
    struct rdb_cached_row *cr;
    HMAP_FOR_EACH_WITH_HASH (cr, node, uuid_hash(u), &c->rows) {
        if (uuid_equals(&cr->uuid, u)) {
            return cr;
        }
    }
    return NULL;
}

static void
rdb_cached_row_forget(struct rdb_dump_cache *c, struct rdb_cached_row *cr)
{
    for (size_t i = 0; i < cr->n_reads; i++) {
        struct rdb_reader_set *rs = rdb_reader_set_find(c, &cr->reads[i]);
        if (rs) {
            hmapx_find_and_delete(&rs->rows, cr);
            if (hmapx_is_empty(&rs->rows)) {
                hmap_remove(&c->readers, &rs->node);
                hmapx_destroy(&rs->rows);
                free(rs);
            }
        }
    }
    hmap_remove(&c->rows, &cr->node);
    json_destroy(cr->json);
    free(cr->reads);
    free(cr);
}

void
rdb_dump_cache_note(struct rdb_dump_cache *c, const struct uuid *u)
{
    struct rdb_cached_row *cr = rdb_cached_row_find(c, u);
    if (cr) {
        rdb_cached_row_forget(c, cr);
    }
    struct rdb_reader_set *rs = rdb_reader_set_find(c, u);
    if (rs) {
        struct hmapx_node *node;
        HMAPX_FOR_EACH_SAFE (node, &rs->rows) {
            /* Forgetting the last reader frees 'rs' itself. */
            bool last = hmapx_count(&rs->rows) == 1;
            rdb_cached_row_forget(c, node->data);
            if (last) {
                break;
            }
        }
    }
}

void
rdb_dump_cache_clear(struct rdb_dump_cache *c)
{
    struct rdb_cached_row *cr;
    HMAP_FOR_EACH_SAFE (cr, node, &c->rows) {
        rdb_cached_row_forget(c, cr);
    }
    uuidset_clear(&c->dropped);
}

void
rdb_dump_cache_destroy(struct rdb_dump_cache *c)
{
    if (c) {
        rdb_dump_cache_clear(c);
        hmap_destroy(&c->rows);
        hmap_destroy(&c->readers);
        uuidset_destroy(&c->dropped);
        free(c);
    }
}

void
rdb_dump_cache_stats(const struct rdb_dump_cache *c, uint64_t *rendered,
                     uint64_t *reused)
{
    *rendered = c->rendered;
    *reused = c->reused;
}

/* 'row' (of a collection) as JSON, from the cache if it holds it. */
static struct json *
rdb_render_root(struct rdb_dumper *dp, const struct ovsdb_idl_row *row,
                char **error)
{
    struct rdb_dump_cache *c = dp->cache;
    if (!c) {
        return rdb_row_to_json(dp, row, error);
    }
    struct rdb_cached_row *cr = rdb_cached_row_find(c, &row->uuid);
    if (cr) {
        c->reused++;
        return json_clone(cr->json);
    }

    struct uuidset reads;
    uuidset_init(&reads);
    dp->reads = &reads;
    struct json *obj = rdb_row_to_json(dp, row, error);
    dp->reads = NULL;
    c->rendered++;
    if (obj) {
        cr = xmalloc(sizeof *cr);
        cr->uuid = row->uuid;
        cr->json = json_clone(obj);
        cr->reads = uuidset_array(&reads);
        cr->n_reads = uuidset_count(&reads);
        hmap_insert(&c->rows, &cr->node, uuid_hash(&row->uuid));
        for (size_t i = 0; i < cr->n_reads; i++) {
            struct rdb_reader_set *rs = rdb_reader_set_find(c,
                                                            &cr->reads[i]);
            if (!rs) {
                rs = xmalloc(sizeof *rs);
                rs->uuid = cr->reads[i];
                hmapx_init(&rs->rows);
                hmap_insert(&c->readers, &rs->node,
                            uuid_hash(&cr->reads[i]));
            }
            hmapx_add(&rs->rows, cr);
        }
    }
    uuidset_destroy(&reads);
    return obj;
}

/* One pass of rdb_dump_replica(): the document, or NULL if it dropped
 * another row (then the caller tries again: what referenced the dropped
 * row must go too). */
static struct json *
rdb_dump_pass(struct rdb_dumper *dp, char **errorp)
{
    struct ovsdb_idl *idl = dp->idl;
    char *error = NULL;
    bool dropped = false;
    struct json *doc = json_object_create();

    const struct ovsdb_idl_table_class *root_tc = rdb_table(rdb_root_table);
    const struct ovsdb_idl_row *root = ovsdb_idl_first_row(idl, root_tc);
    if (root) {
        struct json *top = rdb_row_to_json(dp, root, &error);
        if (top) {
            struct shash_node *node;
            SHASH_FOR_EACH (node, json_object(top)) {
                json_object_put(doc, node->name, json_clone(node->data));
            }
            json_destroy(top);
        }
    }

    for (size_t c = 0; c < ARRAY_SIZE(rdb_collections) && !error; c++) {
        const struct ovsdb_idl_table_class *tc
            = rdb_table(rdb_collections[c].table);
        const struct ovsdb_idl_column *pos_col
            = rdb_collections[c].ordered ? rdb_column(tc, "position") : NULL;
        size_t n = 0, allocated = 0;
        struct rdb_sorted_row *rows = NULL;
        const struct ovsdb_idl_row *row;
        for (row = ovsdb_idl_first_row(idl, tc); row;
             row = ovsdb_idl_next_row(row)) {
            if (hmapx_contains(&dp->dropped, row)) {
                continue;       /* Left out by an earlier pass. */
            }
            if (n >= allocated) {
                rows = x2nrealloc(rows, &allocated, sizeof *rows);
            }
            rows[n].row = row;
            rows[n].id = rdb_row_id(row);
            rows[n].position = (pos_col
                                ? ovsdb_idl_read(row, pos_col)->keys[0].integer
                                : 0);
            n++;
        }
        if (n) {
            qsort(rows, n, sizeof *rows, rdb_compare_rows);
            struct json *arr = json_array_create_empty();
            for (size_t i = 0; i < n && !error; i++) {
                struct json *obj = rdb_render_root(dp, rows[i].row, &error);
                if (obj) {
                    json_array_add(arr, obj);
                } else if (!error) {
                    hmapx_add(&dp->dropped,
                              CONST_CAST(struct ovsdb_idl_row *,
                                         rows[i].row));
                    if (dp->cache) {
                        /* Its readers rendered it as present. */
                        rdb_dump_cache_note(dp->cache, &rows[i].row->uuid);
                    }
                    dp->dangling = false;
                    dropped = true;
                }
            }
            json_object_put(doc, rdb_collections[c].key, arr);
        }
        free(rows);
    }
    if (error || dropped) {
        json_destroy(doc);
        *errorp = error;
        return NULL;
    }
    return doc;
}

/* True if 'row' names, in a column of one reference (not a list), a row
 * that is absent from the replica or already dropped: the JSON pass would
 * drop it whole. */
static bool
rdb_row_dangles(const struct rdb_dumper *dp, const struct ovsdb_idl_row *row)
{
    const struct ovsdb_idl_table_class *tc = row->table->class_;
    for (size_t i = 0; i < tc->n_columns; i++) {
        const struct ovsdb_idl_column *col = &tc->columns[i];
        const struct rdb_colinfo *ci = rdb_ci(tc, col);
        if (!ci->ref || ci->internal || col->type.n_max != 1
            || ovsdb_type_is_map(&col->type)) {
            continue;
        }
        const struct ovsdb_datum *d = ovsdb_idl_read(row, col);
        if (d->n) {
            const struct ovsdb_idl_row *target
                = ovsdb_idl_get_row_for_uuid(dp->idl, ci->ref,
                                             &d->keys[0].uuid);
            if (!target || !target->new_datum
                || hmapx_contains(&dp->dropped, target)) {
                return true;
            }
        }
    }
    return false;
}

/* Drops, to a fixed point, the root rows that rdb_row_dangles(), without
 * building any JSON, so that one JSON pass is usually enough. */
static void
rdb_prune_roots(struct rdb_dumper *dp)
{
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t c = 0; c < ARRAY_SIZE(rdb_collections); c++) {
            const struct ovsdb_idl_table_class *tc
                = rdb_table(rdb_collections[c].table);
            const struct ovsdb_idl_row *row;
            for (row = ovsdb_idl_first_row(dp->idl, tc); row;
                 row = ovsdb_idl_next_row(row)) {
                if (!hmapx_contains(&dp->dropped, row)
                    && rdb_row_dangles(dp, row)) {
                    hmapx_add(&dp->dropped,
                              CONST_CAST(struct ovsdb_idl_row *, row));
                    grew = true;
                }
            }
        }
    }
}

/* The rows whose pruning changed since the last dump through 'c' were
 * rendered by their readers as they were then: forget those renderings. */
static void
rdb_dump_cache_note_pruned(struct rdb_dump_cache *c,
                           const struct hmapx *dropped)
{
    struct uuidset now;
    uuidset_init(&now);
    struct hmapx_node *node;
    HMAPX_FOR_EACH (node, dropped) {
        const struct ovsdb_idl_row *row = node->data;
        uuidset_insert(&now, &row->uuid);
        if (!uuidset_contains(&c->dropped, &row->uuid)) {
            rdb_dump_cache_note(c, &row->uuid);
        }
    }
    struct uuidset_node *u;
    UUIDSET_FOR_EACH (u, &c->dropped) {
        if (!uuidset_contains(&now, &u->uuid)) {
            rdb_dump_cache_note(c, &u->uuid);
        }
    }
    hmap_swap(&now.uuids, &c->dropped.uuids);
    uuidset_destroy(&now);
}

static char *
rdb_dump_replica__(struct ovsdb_idl *idl, bool prune,
                   struct rdb_dump_cache *cache, struct json **docp,
                   size_t *n_pruned)
{
    struct rdb_dumper dp = { .idl = idl, .prune = prune, .cache = cache };
    hmapx_init(&dp.dropped);
    if (prune) {
        rdb_prune_roots(&dp);
    }
    if (cache) {
        rdb_dump_cache_note_pruned(cache, &dp.dropped);
    }
    char *error = NULL;
    struct json *doc;
    while (!(doc = rdb_dump_pass(&dp, &error)) && !error) {
        continue;               /* Each pass drops at least one row. */
    }
    if (cache) {
        rdb_dump_cache_note_pruned(cache, &dp.dropped);
        if (error) {
            rdb_dump_cache_clear(cache);
        }
    }
    if (n_pruned) {
        *n_pruned = hmapx_count(&dp.dropped);
    }
    hmapx_destroy(&dp.dropped);
    *docp = doc;
    return error;
}

char *
rdb_dump_replica(struct ovsdb_idl *idl, bool prune, struct json **docp,
                 size_t *n_pruned)
{
    return rdb_dump_replica__(idl, prune, NULL, docp, n_pruned);
}

char *
rdb_dump_replica_cached(struct ovsdb_idl *idl, struct rdb_dump_cache *cache,
                        struct json **docp, size_t *n_pruned)
{
    return rdb_dump_replica__(idl, true, cache, docp, n_pruned);
}

char *
rdb_dump_idl(struct ovsdb_idl *idl, struct json **docp)
{
    return rdb_dump_replica(idl, false, docp, NULL);
}

char *
rdb_dump(const char *remotes, int timeout_ms, struct json **docp)
{
    struct ovsdb_idl *idl;
    char *error = rdb_connect(remotes, time_msec() + timeout_ms, false,
                              &idl);
    if (!error) {
        error = rdb_dump_replica(idl, false, docp, NULL);
        ovsdb_idl_destroy(idl);
    }
    return error;
}

/* The table of document collection 'key' (NULL if it is none), and
 * whether the collection keeps document order. */
const char *
rdb_collection_table(const char *key, bool *ordered)
{
    for (size_t i = 0; i < ARRAY_SIZE(rdb_collections); i++) {
        if (!strcmp(rdb_collections[i].key, key)) {
            if (ordered) {
                *ordered = rdb_collections[i].ordered;
            }
            return rdb_collections[i].table;
        }
    }
    return NULL;
}
