/* translator/intent.c: JSON region document -> validated 'struct vpc_region'.
 *
 * Loading runs in three passes, and every pass keeps going after an error so
 * that the user sees every problem at once:
 *
 *   1. register: every collection is an array of objects with an "id"; ids
 *      are checked (prefix, uniqueness) and registered, so that pass 2 can
 *      resolve references in any order;
 *   2. parse: each object's fields are type-checked and converted; unknown
 *      keys, bad addresses and dangling references are reported;
 *   3. check: rules that span objects (overlaps, reserved addresses,
 *      duplicates, same-VPC references).
 *
 * Each error names the JSON path, the offending value and the rule broken.
 * If any error was found, the region is destroyed and NULL returned: nothing
 * downstream ever sees a partly valid document. */

#include <config.h>
#include "translator/model.h"
#include "translator/rules.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/util.h"
#include "packets.h"
#include "util.h"

/* ---------------------------------------------------------------- errors */

void
vpc_errors_init(struct vpc_errors *e)
{
    memset(e, 0, sizeof *e);
}

/* Appends one error, whose parts are taken. */
static void
vpc_errors_append(struct vpc_errors *e, char *path, char *value, char *rule)
{
    if (e->n >= e->allocated) {
        size_t allocated = e->allocated;
        e->msgs = x2nrealloc(e->msgs, &e->allocated, sizeof *e->msgs);
        e->items = xrealloc(e->items, e->allocated * sizeof *e->items);
        ovs_assert(e->allocated > allocated);
    }
    e->msgs[e->n] = (value ? xasprintf("%s: %s: %s", path, value, rule)
                     : xasprintf("%s: %s", path, rule));
    e->items[e->n++] = (struct vpc_error) {
        .path = path, .value = value, .rule = rule,
    };
}

void
vpc_errors_add(struct vpc_errors *e, const char *path, const char *value,
               const char *rule_fmt, ...)
{
    va_list args;
    va_start(args, rule_fmt);
    char *rule = xvasprintf(rule_fmt, args);
    va_end(args);
    vpc_errors_append(e, xstrdup(path), nullable_xstrdup(value), rule);
}

void
vpc_errors_move(struct vpc_errors *to, struct vpc_errors *from)
{
    for (size_t i = 0; i < from->n; i++) {
        struct vpc_error *it = &from->items[i];
        vpc_errors_append(to, it->path, it->value, it->rule);
        free(from->msgs[i]);
    }
    free(from->msgs);
    free(from->items);
    vpc_errors_init(from);
}

void
vpc_errors_destroy(struct vpc_errors *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->msgs[i]);
        free(e->items[i].path);
        free(e->items[i].value);
        free(e->items[i].rule);
    }
    free(e->msgs);
    free(e->items);
    vpc_errors_init(e);
}

struct json *
vpc_errors_to_json(const struct vpc_errors *e)
{
    struct json *arr = json_array_create_empty();
    for (size_t i = 0; i < e->n; i++) {
        const struct vpc_error *it = &e->items[i];
        struct json *value = NULL;
        if (it->value) {
            /* OVS's parser takes only an array or object at the top. */
            char *text = xasprintf("[%s]", it->value);
            struct json *a = json_from_string(text);
            free(text);
            if (a->type == JSON_ARRAY && json_array(a)->n == 1) {
                value = json_clone(json_array(a)->elems[0]);
            } else {
                /* Not JSON text: the value as it was written. */
                value = json_string_create(it->value);
            }
            json_destroy(a);
        }
        struct json *o = json_object_create();
        json_object_put_string(o, "path", it->path);
        json_object_put(o, "value", value ? value : json_null_create());
        json_object_put_string(o, "rule", it->rule);
        json_object_put_string(o, "message", e->msgs[i]);
        json_array_add(arr, o);
    }
    return arr;
}

/* ------------------------------------------------------------- the loader */

/* Kinds of object that can be referenced by id: one per VPC_OBJECT_KINDS
 * row (model.h), and the gateways. */
#define OBJ_ENUM_(KIND, ...) OBJ_##KIND,
enum obj_kind {
    VPC_OBJECT_KINDS(OBJ_ENUM_)
    OBJ_GW,
};
#undef OBJ_ENUM_

#define OBJ_NAME_(KIND, KEY, PREFIX, TYPE, FIELD, NAME, ...) \
    [OBJ_##KIND] = NAME,
static const char *const obj_kind_names[] = {
    VPC_OBJECT_KINDS(OBJ_NAME_)
    [OBJ_GW] = "gateway",
};
#undef OBJ_NAME_

struct obj_ref {
    enum obj_kind kind;
    void *obj;
};

/* The collections of a region document, in the order they are loaded: one
 * per object kind, then one per gateway kind.  A gateway collection has
 * 'gw_kind' set; all of them fill r->gateways. */
struct collection {
    const char *key;            /* Top-level key. */
    const char *id_prefix;      /* "" for free-form ids (hosts, edges). */
    enum obj_kind kind;
    int gw_kind;                /* enum vpc_target_kind, or -1. */
};

#define OBJ_COLLECTION_(KIND, KEY, PREFIX, ...) \
    { KEY, PREFIX, OBJ_##KIND, -1 },
#define GW_COLLECTION_(KIND, KEY, PREFIX, ...) \
    { KEY, PREFIX, OBJ_GW, VPC_TGT_##KIND },
static const struct collection collections[] = {
    VPC_OBJECT_KINDS(OBJ_COLLECTION_)
    VPC_GATEWAY_KINDS(GW_COLLECTION_)
};
#undef OBJ_COLLECTION_
#undef GW_COLLECTION_
#define N_COLLECTIONS ARRAY_SIZE(collections)

struct loader {
    struct vpc_region *r;
    struct vpc_errors *errs;
    const struct json *doc;
    const struct json *items[N_COLLECTIONS];    /* Arrays, or NULL. */
    const char *keys[N_COLLECTIONS];    /* Top-level key of each: the
                                         * collection's, or a misspelling
                                         * of it loaded in its place. */
    void *objs[N_COLLECTIONS];          /* First object of each. */
};

static char *
json_value_str(const struct json *value)
{
    return value ? json_to_string(value, JSSF_SORT) : xstrdup("null");
}

static void OVS_PRINTF_FORMAT(4, 5)
error_at(struct loader *ld, const char *path, const struct json *value,
         const char *rule_fmt, ...)
{
    char *v = value ? json_value_str(value) : NULL;
    struct ds rule = DS_EMPTY_INITIALIZER;
    va_list args;
    va_start(args, rule_fmt);
    ds_put_format_valist(&rule, rule_fmt, args);
    va_end(args);
    vpc_errors_add(ld->errs, path, v, "%s", ds_cstr(&rule));
    ds_destroy(&rule);
    free(v);
}

/* "BASE.KEY[INDEX]" (or "BASE[INDEX]" if KEY is empty), without printf:
 * one is built for every object and rule of a document, so it is on the
 * loader's hot path. */
static char *
json_path(const char *base, const char *key, size_t index)
{
    char digits[24];
    size_t nd = 0;
    do {
        digits[nd++] = '0' + index % 10;
        index /= 10;
    } while (index);

    size_t bl = strlen(base), kl = strlen(key);
    char *path = xmalloc(bl + kl + nd + 4);
    char *p = path;
    memcpy(p, base, bl);
    p += bl;
    if (kl) {
        *p++ = '.';
        memcpy(p, key, kl);
        p += kl;
    }
    *p++ = '[';
    while (nd) {
        *p++ = digits[--nd];
    }
    *p++ = ']';
    *p = '\0';
    return path;
}

/* Path of 'key' inside the object at 'path'. */
static char *
subpath(const char *path, const char *key)
{
    return xasprintf("%s.%s", path, key);
}

static char *
subindex(const char *path, size_t i)
{
    return json_path(path, "", i);
}

/* Returns the edit distance (Levenshtein) between 'a' and 'b', counted up
 * to 'max' + 1: a cap that keeps the table small. */
static size_t
edit_distance(const char *a, const char *b, size_t max)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > max) {
        return max + 1;
    }
    size_t row[65];
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            best = MIN(best, row[j - 1] + 1);
            best = MIN(best, up + 1);
            row[j] = best;
            diag = up;
        }
    }
    return MIN(row[lb], max + 1);
}

/* Returns the key of the NULL-terminated 'allowed' that 'key' is most
 * likely a misspelling of (at most two edits, and fewer than half its
 * length), or NULL. */
static const char *
near_key(const char *key, const char *const allowed[])
{
    const char *best = NULL;
    size_t best_d = 3;
    for (const char *const *a = allowed; *a; a++) {
        size_t d = edit_distance(key, *a, 2);
        if (d < best_d && 2 * d < strlen(*a)) {
            best = *a;
            best_d = d;
        }
    }
    return best;
}

/* Reports every key of 'obj' that is not in the NULL-terminated 'allowed'. */
static void
check_keys(struct loader *ld, const struct json *obj, const char *path,
           const char *const allowed[])
{
    /* Fast path: every key is known, in any order. */
    const struct shash_node *node;
    bool all_known = true;
    SHASH_FOR_EACH (node, json_object(obj)) {
        const char *const *a = allowed;
        while (*a && strcmp(*a, node->name)) {
            a++;
        }
        if (!*a) {
            all_known = false;
            break;
        }
    }
    if (all_known) {
        return;
    }

    /* Report the unknown keys in sorted order, for stable output. */
    const struct shash_node **nodes = shash_sort(json_object(obj));
    size_t n = shash_count(json_object(obj));
    for (size_t i = 0; i < n; i++) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++) {
            if (!strcmp(*a, nodes[i]->name)) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            struct ds keys = DS_EMPTY_INITIALIZER;
            for (const char *const *a = allowed; *a; a++) {
                ds_put_format(&keys, "%s%s", a == allowed ? "" : ", ", *a);
            }
            char *p = subpath(path, nodes[i]->name);
            const char *near = near_key(nodes[i]->name, allowed);
            if (near) {
                error_at(ld, p, NULL, "unknown key: did you mean \"%s\"? "
                         "(allowed here: %s)", near, ds_cstr(&keys));
            } else {
                error_at(ld, p, NULL, "unknown key (allowed here: %s)",
                         ds_cstr(&keys));
            }
            free(p);
            ds_destroy(&keys);
        }
    }
    free(nodes);
}

static const char *
json_type_name(enum json_type type)
{
    switch (type) {
    case JSON_NULL: return "null";
    case JSON_FALSE: case JSON_TRUE: return "a boolean";
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_STRING: case JSON_SERIALIZED_OBJECT: return "a string";
    case JSON_N_TYPES: default: return "?";
    }
}

/* Returns member 'key' of 'obj' if it has JSON type 'type' (JSON_TRUE stands
 * for either boolean).  Reports and returns NULL if it has another type, or
 * if it is missing and 'required'. */
static const struct json *
get(struct loader *ld, const struct json *obj, const char *path,
    const char *key, enum json_type type, bool required)
{
    const struct json *v = shash_find_data(json_object(obj), key);
    if (!v) {
        if (required) {
            char *p = subpath(path, key);
            error_at(ld, p, NULL, "required key is missing");
            free(p);
        }
        return NULL;
    }
    bool ok = (type == JSON_TRUE
               ? v->type == JSON_TRUE || v->type == JSON_FALSE
               : v->type == type);
    if (!ok) {
        char *p = subpath(path, key);
        error_at(ld, p, v, "must be %s", json_type_name(type));
        free(p);
        return NULL;
    }
    return v;
}

static const char *
get_string(struct loader *ld, const struct json *obj, const char *path,
           const char *key, bool required)
{
    const struct json *v = get(ld, obj, path, key, JSON_STRING, required);
    return v ? json_string(v) : NULL;
}

/* Reads integer 'key' into '*out' if it is within [min, max]; otherwise
 * reports and leaves '*out' unchanged.  Returns true if read. */
static bool
get_int(struct loader *ld, const struct json *obj, const char *path,
        const char *key, bool required, long long min, long long max,
        int *out)
{
    const struct json *v = get(ld, obj, path, key, JSON_INTEGER, required);
    if (!v) {
        return false;
    }
    if (json_integer(v) < min || json_integer(v) > max) {
        char *p = subpath(path, key);
        error_at(ld, p, v, "must be between %lld and %lld", min, max);
        free(p);
        return false;
    }
    *out = json_integer(v);
    return true;
}

static bool
get_bool(struct loader *ld, const struct json *obj, const char *path,
         const char *key, bool dflt)
{
    const struct json *v = get(ld, obj, path, key, JSON_TRUE, false);
    return v ? v->type == JSON_TRUE : dflt;
}

static bool
parse_prefix_at(struct loader *ld, const struct json *v, const char *path,
                struct vpc_prefix *out)
{
    if (v->type != JSON_STRING || !vpc_prefix_parse(json_string(v), out)) {
        error_at(ld, path, v, "not an IPv4 prefix a.b.c.d/n with host "
                 "bits zero");
        memset(out, 0, sizeof *out);
        return false;
    }
    return true;
}

static bool
get_prefix(struct loader *ld, const struct json *obj, const char *path,
           const char *key, bool required, struct vpc_prefix *out)
{
    memset(out, 0, sizeof *out);
    const struct json *v = get(ld, obj, path, key, JSON_STRING, required);
    if (!v) {
        return false;
    }
    if (vpc_prefix_parse(json_string(v), out)) {
        return true;            /* Fast path: no path string needed. */
    }
    char *p = subpath(path, key);
    bool ok = parse_prefix_at(ld, v, p, out);
    free(p);
    return ok;
}

static bool
get_ip(struct loader *ld, const struct json *obj, const char *path,
       const char *key, bool required, uint32_t *out)
{
    const struct json *v = get(ld, obj, path, key, JSON_STRING, required);
    if (!v) {
        return false;
    }
    if (!vpc_ip_parse(json_string(v), out)) {
        char *p = subpath(path, key);
        error_at(ld, p, v, "not an IPv4 address");
        free(p);
        return false;
    }
    return true;
}

/* Parses an array of prefixes 'key' into a new array; '*n' gets its size.
 * Invalid members are reported and left out. */
static struct vpc_prefix *
get_prefixes(struct loader *ld, const struct json *obj, const char *path,
             const char *key, bool required, size_t *n)
{
    *n = 0;
    const struct json *a = get(ld, obj, path, key, JSON_ARRAY, required);
    if (!a) {
        return NULL;
    }
    const struct json_array *arr = json_array(a);
    struct vpc_prefix *out = xcalloc(arr->n + 1, sizeof *out);
    for (size_t i = 0; i < arr->n; i++) {
        const struct json *e = arr->elems[i];
        if (e->type == JSON_STRING && vpc_prefix_parse(json_string(e),
                                                       &out[*n])) {
            (*n)++;
            continue;
        }
        char *p = subpath(path, key);
        char *pi = subindex(p, i);
        parse_prefix_at(ld, e, pi, &out[*n]);
        free(pi);
        free(p);
    }
    return out;
}

/* Resolves the reference in string 'v' at 'path' to an object of 'kind'. */
static void *
resolve(struct loader *ld, const struct json *v, const char *path,
        enum obj_kind kind)
{
    const struct obj_ref *ref = shash_find_data(&ld->r->by_id,
                                                json_string(v));
    if (!ref) {
        error_at(ld, path, v, "no %s has this id", obj_kind_names[kind]);
        return NULL;
    }
    if (ref->kind != kind) {
        error_at(ld, path, v, "is a %s, not a %s",
                 obj_kind_names[ref->kind], obj_kind_names[kind]);
        return NULL;
    }
    return ref->obj;
}

static void *
get_ref(struct loader *ld, const struct json *obj, const char *path,
        const char *key, bool required, enum obj_kind kind)
{
    const struct json *v = get(ld, obj, path, key, JSON_STRING, required);
    if (!v) {
        return NULL;
    }
    const struct obj_ref *ref = shash_find_data(&ld->r->by_id,
                                                json_string(v));
    if (ref && ref->kind == kind) {
        return ref->obj;        /* Fast path: no path string needed. */
    }
    char *p = subpath(path, key);
    void *target = resolve(ld, v, p, kind);
    free(p);
    return target;
}

/* ---------------------------------------------------- pass 1: registering */

static size_t
obj_size(enum obj_kind kind)
{
#define OBJ_SIZE_(KIND, KEY, PREFIX, TYPE, ...) \
    case OBJ_##KIND: return sizeof(struct TYPE);
    switch (kind) {
    VPC_OBJECT_KINDS(OBJ_SIZE_)
    case OBJ_GW: return sizeof(struct vpc_gateway);
    }
#undef OBJ_SIZE_
    OVS_NOT_REACHED();
}

/* Region arrays, by kind; gateways share one. */
static void
set_region_array(struct vpc_region *r, enum obj_kind kind, void *base,
                 size_t n)
{
#define SET_ARRAY_(KIND, KEY, PREFIX, TYPE, FIELD, ...) \
    case OBJ_##KIND: r->FIELD = base; r->n_##FIELD = n; break;
    switch (kind) {
    VPC_OBJECT_KINDS(SET_ARRAY_)
    case OBJ_GW: r->gateways = base; r->n_gateways = n; break;
    }
#undef SET_ARRAY_
}

static bool
id_is_valid(const char *id, const char *prefix)
{
    size_t plen = strlen(prefix);
    if (strncmp(id, prefix, plen) || !id[plen] || strlen(id) > 64) {
        return false;
    }
    for (const char *p = id + plen; *p; p++) {
        if (!(isalnum((unsigned char) *p) || *p == '-' || *p == '_'
              || *p == '.')) {
            return false;
        }
    }
    return true;
}

/* Pass 1 for one object 'item' of collection 'col' at 'path': it must be
 * an object with a valid id, which is then copied into 'obj' and, if
 * 'add', registered unless another object has it.  Returns true if the id
 * is valid (and, if 'add', registered). */
static bool
register_object(struct loader *ld, const struct collection *col,
                const struct json *item, const char *path, void *obj,
                bool add)
{
    if (item->type != JSON_OBJECT) {
        error_at(ld, path, item, "must be an object");
        return false;
    }
    const char *id = get_string(ld, item, path, "id", true);
    if (col->kind == OBJ_GW) {
        /* Routes are parsed before gateways but need their kind. */
        ((struct vpc_gateway *) obj)->kind = col->gw_kind;
    }
    if (!id) {
        return false;
    }
    bool ok = false;
    char *idpath = subpath(path, "id");
    if (!id_is_valid(id, col->id_prefix)) {
        error_at(ld, idpath, shash_find_data(json_object(item), "id"),
                 "must be %s%s%sletters, digits, '-', '_' or '.' (at most "
                 "64 characters)",
                 col->id_prefix[0] ? "'" : "", col->id_prefix,
                 col->id_prefix[0] ? "' followed by " : "");
    } else if (!add) {
        ok = true;
    } else if (shash_find(&ld->r->by_id, id)) {
        error_at(ld, idpath, shash_find_data(json_object(item), "id"),
                 "duplicate id: ids are unique in a region");
    } else {
        struct obj_ref *ref = xmalloc(sizeof *ref);
        ref->kind = col->kind;
        ref->obj = obj;
        shash_add(&ld->r->by_id, id, ref);
        ok = true;
    }
    /* Every object struct starts with 'char *id'. */
    *(char **) obj = xstrdup(id);
    free(idpath);
    return ok;
}

static void
register_objects(struct loader *ld)
{
#define TOP_KEY_(KIND, KEY, ...) KEY,
    static const char *const top_keys[] = {
        VPC_OBJECT_KINDS(TOP_KEY_)
        VPC_GATEWAY_KINDS(TOP_KEY_)
        "description", NULL,
    };
#undef TOP_KEY_
    check_keys(ld, ld->doc, "$", top_keys);

    /* Size every array first; gateways of every kind share one. */
    size_t n_gw = 0;
    for (size_t c = 0; c < N_COLLECTIONS; c++) {
        ld->keys[c] = collections[c].key;
        ld->items[c] = get(ld, ld->doc, "$", collections[c].key, JSON_ARRAY,
                           false);
        if (!ld->items[c]
            && !shash_find(json_object(ld->doc), collections[c].key)) {
            /* A misspelled collection ("subnet") has been reported once,
             * by check_keys(); load it as the collection meant, at its own
             * path, so that every reference to its objects does not add
             * an error of its own. */
            const struct shash_node **nodes = shash_sort(
                json_object(ld->doc));
            size_t n = shash_count(json_object(ld->doc));
            for (size_t i = 0; i < n; i++) {
                const char *key = nodes[i]->name;
                const struct json *v = nodes[i]->data;
                const char *const *a = top_keys;
                while (*a && strcmp(*a, key)) {
                    a++;
                }
                const char *near = *a ? NULL : near_key(key, top_keys);
                if (near && !strcmp(near, collections[c].key)
                    && v->type == JSON_ARRAY) {
                    ld->keys[c] = key;
                    ld->items[c] = v;
                    break;
                }
            }
            free(nodes);
        }
        if (ld->items[c] && collections[c].kind == OBJ_GW) {
            n_gw += json_array(ld->items[c])->n;
        }
    }
    struct vpc_gateway *gws = xcalloc(n_gw + 1, sizeof *gws);
    set_region_array(ld->r, OBJ_GW, gws, n_gw);

    for (size_t c = 0; c < N_COLLECTIONS; c++) {
        const struct collection *col = &collections[c];
        size_t n = ld->items[c] ? json_array(ld->items[c])->n : 0;
        char *base;
        if (col->kind == OBJ_GW) {
            base = (char *) gws;
            gws += n;
        } else {
            base = xcalloc(n + 1, obj_size(col->kind));
            set_region_array(ld->r, col->kind, base, n);
        }
        ld->objs[c] = base;

        for (size_t i = 0; i < n; i++) {
            const struct json *item = json_array(ld->items[c])->elems[i];
            char *path = json_path("$", ld->keys[c], i);
            register_object(ld, col, item, path,
                            base + i * obj_size(col->kind), true);
            free(path);
        }
    }
}

/* ------------------------------------------------------- pass 2: parsing */

static void
parse_host_or_edge(struct loader *ld, const struct json *j, const char *path,
                   struct vpc_host *h, bool is_edge)
{
    static const char *const host_keys[] = { "id", "underlay_ip", NULL };
    static const char *const edge_keys[] = {
        "id", "underlay_ip", "uplink_gateway_mac", "uplink_mac", "services",
        NULL };
    check_keys(ld, j, path, is_edge ? edge_keys : host_keys);
    get_ip(ld, j, path, "underlay_ip", true, &h->underlay_ip);
    h->is_edge = is_edge;
    if (!is_edge) {
        return;
    }
    /* The edge's uplink MAC answers ARP for elastic IPs; by default one
     * derived from the underlay address (locally administered). */
    h->uplink_mac = (struct eth_addr) { .ea = {
        0x02, 0x76, 0x70, 0xee, (h->underlay_ip >> 8) & 0xff,
        h->underlay_ip & 0xff } };
    const struct json *svc = get(ld, j, path, "services", JSON_OBJECT,
                                 false);
    if (svc) {
        static const char *const svc_keys[] = { "s3", "dynamodb", NULL };
        char *p = subpath(path, "services");
        check_keys(ld, svc, p, svc_keys);
        get_ip(ld, svc, p, "s3", false, &h->s3_ip);
        get_ip(ld, svc, p, "dynamodb", false, &h->dynamodb_ip);
        free(p);
    }
    static const char *const mac_keys[] = { "uplink_gateway_mac",
                                            "uplink_mac" };
    for (size_t k = 0; k < 2; k++) {
        const struct json *v = get(ld, j, path, mac_keys[k], JSON_STRING,
                                   false);
        struct eth_addr mac;
        if (!v) {
            continue;
        }
        if (!eth_addr_from_string(json_string(v), &mac)
            || eth_addr_is_multicast(mac) || eth_addr_is_zero(mac)) {
            char *p = subpath(path, mac_keys[k]);
            error_at(ld, p, v, "not a unicast MAC address xx:xx:xx:xx:xx:xx");
            free(p);
        } else if (k == 0) {
            h->uplink_gateway_mac = mac;
            h->has_uplink_gateway_mac = true;
        } else {
            h->uplink_mac = mac;
        }
    }
}

static void
parse_host(struct loader *ld, const struct json *j, const char *path,
           struct vpc_host *h)
{
    parse_host_or_edge(ld, j, path, h, false);
}

static void
parse_edge(struct loader *ld, const struct json *j, const char *path,
           struct vpc_host *h)
{
    parse_host_or_edge(ld, j, path, h, true);
}

static void
parse_prefix_list(struct loader *ld, const struct json *j, const char *path,
                  struct vpc_prefix_list *pl)
{
    static const char *const keys[] = { "id", "name", "cidrs", NULL };
    check_keys(ld, j, path, keys);
    const char *name = get_string(ld, j, path, "name", false);
    pl->name = xstrdup(name ? name : "");
    pl->cidrs = get_prefixes(ld, j, path, "cidrs", true, &pl->n_cidrs);
}

/* A list of IPv4 addresses 'key' (at most 4, as AWS); with 'amazon', the
 * string "AmazonProvidedDNS" stands for the VPC resolver (stored as 0). */
static uint32_t *
get_servers(struct loader *ld, const struct json *obj, const char *path,
            const char *key, bool amazon, size_t *n)
{
    *n = 0;
    const struct json *a = get(ld, obj, path, key, JSON_ARRAY, false);
    if (!a) {
        return NULL;
    }
    const struct json_array *arr = json_array(a);
    uint32_t *out = xcalloc(arr->n + 1, sizeof *out);
    char *p = subpath(path, key);
    if (arr->n > 4) {
        error_at(ld, p, a, "at most 4 servers");
    }
    for (size_t i = 0; i < arr->n; i++) {
        const struct json *e = arr->elems[i];
        uint32_t ip;
        if (e->type == JSON_STRING && amazon
            && !strcmp(json_string(e), "AmazonProvidedDNS")) {
            out[(*n)++] = 0;
        } else if (e->type == JSON_STRING && vpc_ip_parse(json_string(e),
                                                          &ip) && ip) {
            out[(*n)++] = ip;
        } else {
            char *pi = subindex(p, i);
            error_at(ld, pi, e, "%s", amazon
                     ? "not an IPv4 address or \"AmazonProvidedDNS\""
                     : "not an IPv4 address");
            free(pi);
        }
    }
    free(p);
    return out;
}

/* A DNS domain name as DHCP option 15 carries it: labels of letters,
 * digits and hyphens, 1 to 63 characters, not starting or ending with a
 * hyphen, 253 characters at most; several space-separated names as AWS
 * allows are not supported (one name). */
static bool
domain_name_valid(const char *s)
{
    size_t len = strlen(s), label = 0;
    if (!len || len > 253) {
        return false;
    }
    for (size_t i = 0; i <= len; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (!label || s[i - 1] == '-') {
                return false;
            }
            label = 0;
        } else if (isalnum((unsigned char) c) || (c == '-' && label)) {
            if (++label > 63) {
                return false;
            }
        } else {
            return false;
        }
    }
    return true;
}

static void
parse_dhcp_options(struct loader *ld, const struct json *j, const char *path,
                   struct vpc_dhcp_options *o)
{
    static const char *const keys[] = {
        "id", "domain_name", "domain_name_servers", "ntp_servers",
        "lease_time", NULL };
    check_keys(ld, j, path, keys);
    const char *domain = get_string(ld, j, path, "domain_name", false);
    if (domain && !domain_name_valid(domain)) {
        char *p = subpath(path, "domain_name");
        error_at(ld, p, shash_find_data(json_object(j), "domain_name"),
                 "not a domain name (letters, digits and hyphens in labels "
                 "of 1 to 63 characters, dot-separated)");
        free(p);
    } else if (domain) {
        o->domain_name = xstrdup(domain);
    }
    o->dns = get_servers(ld, j, path, "domain_name_servers", true,
                         &o->n_dns);
    o->ntp = get_servers(ld, j, path, "ntp_servers", false, &o->n_ntp);
    get_int(ld, j, path, "lease_time", false, 60, 86400 * 365,
            &o->lease_time);
}

static void
parse_vpc(struct loader *ld, const struct json *j, const char *path,
          struct vpc_vpc *vpc)
{
    static const char *const keys[] = {
        "id", "cidr_blocks", "vni", "route_precedence", "dhcp_options_id",
        NULL };
    check_keys(ld, j, path, keys);
    vpc->dhcp_options = get_ref(ld, j, path, "dhcp_options_id", false,
                                OBJ_DOPT);
    vpc->blocks = get_prefixes(ld, j, path, "cidr_blocks", true,
                               &vpc->n_blocks);
    int vni = 0;
    get_int(ld, j, path, "vni", true, 1, VPC_VNI_MAX, &vni);
    vpc->vni = vni;

    const char *prec = get_string(ld, j, path, "route_precedence", false);
    vpc->precedence = VPC_PREC_AWS;
    if (prec && !strcmp(prec, "azure")) {
        vpc->precedence = VPC_PREC_AZURE;
    } else if (prec && strcmp(prec, "aws")) {
        char *p = subpath(path, "route_precedence");
        error_at(ld, p, shash_find_data(json_object(j), "route_precedence"),
                 "must be \"aws\" or \"azure\"");
        free(p);
    }
}

static void
parse_peering(struct loader *ld, const struct json *j, const char *path,
              struct vpc_peering *pcx)
{
    static const char *const keys[] = {
        "id", "requester_vpc", "accepter_vpc", NULL };
    check_keys(ld, j, path, keys);
    pcx->requester = get_ref(ld, j, path, "requester_vpc", true, OBJ_VPC);
    pcx->accepter = get_ref(ld, j, path, "accepter_vpc", true, OBJ_VPC);
}

/* Protocol names accepted in rules, as in the AWS API. */
static bool
parse_protocol(const struct json *v, int *proto)
{
    if (v->type == JSON_INTEGER) {
        if (json_integer(v) == -1
            || (json_integer(v) >= 0 && json_integer(v) <= 255)) {
            *proto = json_integer(v);
            return true;
        }
        return false;
    }
    if (v->type != JSON_STRING) {
        return false;
    }
    static const struct { const char *name; int proto; } names[] = {
        { "tcp", 6 }, { "udp", 17 }, { "icmp", 1 },
        { "-1", VPC_PROTO_ALL }, { "all", VPC_PROTO_ALL },
    };
    const char *s = json_string(v);
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (!strcmp(s, names[i].name)) {
            *proto = names[i].proto;
            return true;
        }
    }
    /* A number in a string, as the AWS CLI writes it ("6"): decimal, no
     * leading zero, 0..255 (the schema's pattern says the same). */
    size_t len = strlen(s);
    if (len && len <= 3 && strspn(s, "0123456789") == len
        && (s[0] != '0' || len == 1) && atoi(s) <= 255) {
        *proto = atoi(s);
        return true;
    }
    return false;
}

static void
parse_rule_match(struct loader *ld, const struct json *j, const char *path,
                 struct vpc_rule_match *m)
{
    m->protocol = VPC_PROTO_ALL;
    m->from_port = 0;
    m->to_port = 65535;
    m->icmp_type = m->icmp_code = -1;

    const struct json *pv = shash_find_data(json_object(j), "protocol");
    char *pp = subpath(path, "protocol");
    if (!pv) {
        error_at(ld, pp, NULL, "required key is missing");
        free(pp);
        return;
    } else if (!parse_protocol(pv, &m->protocol)) {
        error_at(ld, pp, pv, "must be \"tcp\", \"udp\", \"icmp\", \"-1\" "
                 "(all) or a protocol number 0..255 (a number or a string "
                 "of one, as \"6\")");
        /* Whether ports or ICMP fields belong depends on the protocol:
         * without one, saying they do not would be a second, wrong
         * error. */
        free(pp);
        return;
    }
    free(pp);

    bool ports = m->protocol == 6 || m->protocol == 17;
    bool has_from = shash_find(json_object(j), "from_port");
    bool has_to = shash_find(json_object(j), "to_port");
    if (ports) {
        get_int(ld, j, path, "from_port", true, 0, 65535, &m->from_port);
        get_int(ld, j, path, "to_port", true, 0, 65535, &m->to_port);
        if (m->from_port > m->to_port) {
            char *p = subpath(path, "to_port");
            error_at(ld, p, shash_find_data(json_object(j), "to_port"),
                     "must not be below from_port (%d)", m->from_port);
            free(p);
        }
    } else if (has_from || has_to) {
        char *p = subpath(path, has_from ? "from_port" : "to_port");
        error_at(ld, p, NULL, "ports apply only to protocol tcp or udp");
        free(p);
    }

    bool icmp = m->protocol == 1;
    if (icmp) {
        get_int(ld, j, path, "icmp_type", false, -1, 255, &m->icmp_type);
        get_int(ld, j, path, "icmp_code", false, -1, 255, &m->icmp_code);
    } else if (shash_find(json_object(j), "icmp_type")
               || shash_find(json_object(j), "icmp_code")) {
        char *p = subpath(path, shash_find(json_object(j), "icmp_type")
                                ? "icmp_type" : "icmp_code");
        error_at(ld, p, NULL, "ICMP type and code apply only to protocol "
                 "icmp");
        free(p);
    }
}

static struct vpc_sg_rule *
parse_sg_rules(struct loader *ld, const struct json *j, const char *path,
               const char *key, size_t *n)
{
    static const char *const keys[] = {
        "protocol", "from_port", "to_port", "icmp_type", "icmp_code",
        "cidr", "security_group", "description", NULL };
    *n = 0;
    const struct json *a = get(ld, j, path, key, JSON_ARRAY, false);
    if (!a) {
        return NULL;
    }
    const struct json_array *arr = json_array(a);
    struct vpc_sg_rule *rules = xcalloc(arr->n + 1, sizeof *rules);
    for (size_t i = 0; i < arr->n; i++) {
        char *p = json_path(path, key, i);
        const struct json *rj = arr->elems[i];
        if (rj->type != JSON_OBJECT) {
            error_at(ld, p, rj, "must be an object");
            free(p);
            continue;
        }
        struct vpc_sg_rule *rule = &rules[(*n)++];
        check_keys(ld, rj, p, keys);
        parse_rule_match(ld, rj, p, &rule->m);
        bool has_cidr = shash_find(json_object(rj), "cidr");
        bool has_sg = shash_find(json_object(rj), "security_group");
        if (has_cidr == has_sg) {
            error_at(ld, p, NULL, "a rule needs exactly one of 'cidr' and "
                     "'security_group'");
        } else if (has_cidr) {
            rule->has_cidr = get_prefix(ld, rj, p, "cidr", true,
                                        &rule->cidr);
        } else {
            rule->peer_sg = get_ref(ld, rj, p, "security_group", true,
                                    OBJ_SG);
        }
        free(p);
    }
    return rules;
}

static void
parse_sg(struct loader *ld, const struct json *j, const char *path,
         struct vpc_sg *sg)
{
    static const char *const keys[] = {
        "id", "vpc", "description", "ingress", "egress", NULL };
    check_keys(ld, j, path, keys);
    sg->vpc = get_ref(ld, j, path, "vpc", true, OBJ_VPC);
    sg->ingress = parse_sg_rules(ld, j, path, "ingress", &sg->n_ingress);
    sg->egress = parse_sg_rules(ld, j, path, "egress", &sg->n_egress);
}

static struct vpc_nacl_rule *
parse_nacl_rules(struct loader *ld, const struct json *j, const char *path,
                 const char *key, size_t *n)
{
    static const char *const keys[] = {
        "rule_number", "action", "protocol", "from_port", "to_port",
        "icmp_type", "icmp_code", "cidr", NULL };
    *n = 0;
    const struct json *a = get(ld, j, path, key, JSON_ARRAY, false);
    if (!a) {
        return NULL;
    }
    const struct json_array *arr = json_array(a);
    struct vpc_nacl_rule *rules = xcalloc(arr->n + 1, sizeof *rules);
    for (size_t i = 0; i < arr->n; i++) {
        char *p = json_path(path, key, i);
        const struct json *rj = arr->elems[i];
        if (rj->type != JSON_OBJECT) {
            error_at(ld, p, rj, "must be an object");
            free(p);
            continue;
        }
        struct vpc_nacl_rule *rule = &rules[(*n)++];
        check_keys(ld, rj, p, keys);
        if (get_int(ld, rj, p, "rule_number", true, 1, 32766,
                    &rule->rule_number)) {
            for (size_t k = 0; k + 1 < *n; k++) {
                if (rules[k].rule_number == rule->rule_number) {
                    char *q = subpath(p, "rule_number");
                    error_at(ld, q, shash_find_data(json_object(rj),
                                                    "rule_number"),
                             "duplicate rule number in %s rules", key);
                    free(q);
                }
            }
        }
        const char *action = get_string(ld, rj, p, "action", true);
        if (action && strcmp(action, "allow") && strcmp(action, "deny")) {
            char *q = subpath(p, "action");
            error_at(ld, q, shash_find_data(json_object(rj), "action"),
                     "must be \"allow\" or \"deny\"");
            free(q);
        }
        rule->allow = action && !strcmp(action, "allow");
        parse_rule_match(ld, rj, p, &rule->m);
        get_prefix(ld, rj, p, "cidr", true, &rule->cidr);
        free(p);
    }
    return rules;
}

static void
parse_nacl(struct loader *ld, const struct json *j, const char *path,
           struct vpc_nacl *nacl)
{
    static const char *const keys[] = {
        "id", "vpc", "ingress", "egress", NULL };
    check_keys(ld, j, path, keys);
    nacl->vpc = get_ref(ld, j, path, "vpc", true, OBJ_VPC);
    nacl->ingress = parse_nacl_rules(ld, j, path, "ingress",
                                     &nacl->n_ingress);
    nacl->egress = parse_nacl_rules(ld, j, path, "egress", &nacl->n_egress);
}

/* Resolves a route's "target" string into 'rt'.  Returns false on error. */
static bool
parse_route_target(struct loader *ld, const struct json *v, const char *path,
                   struct vpc_route *rt)
{
    const char *s = json_string(v);
    if (!strcmp(s, "local")) {
        error_at(ld, path, v, "the local route is implicit: every route "
                 "table already routes each VPC CIDR block locally");
        return false;
    }
    if (!strcmp(s, "blackhole")) {
        rt->kind = VPC_TGT_BLACKHOLE;
        return true;
    }
    const struct obj_ref *ref = shash_find_data(&ld->r->by_id, s);
    if (!ref) {
#define GW_PREFIX_(KIND, KEY, PREFIX, ...) ", " PREFIX
        error_at(ld, path, v, "no route target has this id (targets: "
                 "eni-, pcx-" VPC_GATEWAY_KINDS(GW_PREFIX_) " ids or "
                 "\"blackhole\")");
#undef GW_PREFIX_
        return false;
    }
    switch (ref->kind) {
    case OBJ_ENI:
        rt->kind = VPC_TGT_ENI;
        rt->eni = ref->obj;
        return true;
    case OBJ_PCX:
        rt->kind = VPC_TGT_PEERING;
        rt->peering = ref->obj;
        return true;
    case OBJ_GW:
        rt->gateway = ref->obj;
        rt->kind = rt->gateway->kind;
        return true;
    default:
        error_at(ld, path, v, "a %s cannot be a route target",
                 obj_kind_names[ref->kind]);
        return false;
    }
}

static void
parse_route_table(struct loader *ld, const struct json *j, const char *path,
                  struct vpc_route_table *rtb)
{
    static const char *const keys[] = { "id", "vpc", "routes", NULL };
    static const char *const route_keys[] = {
        "destination", "destination_prefix_list", "target", "origin", NULL };
    check_keys(ld, j, path, keys);
    rtb->vpc = get_ref(ld, j, path, "vpc", true, OBJ_VPC);

    const struct json *a = get(ld, j, path, "routes", JSON_ARRAY, false);
    if (!a) {
        return;
    }
    const struct json_array *arr = json_array(a);
    rtb->routes = xcalloc(arr->n + 1, sizeof *rtb->routes);
    for (size_t i = 0; i < arr->n; i++) {
        char *p = json_path(path, "routes", i);
        const struct json *rj = arr->elems[i];
        if (rj->type != JSON_OBJECT) {
            error_at(ld, p, rj, "must be an object");
            free(p);
            continue;
        }
        check_keys(ld, rj, p, route_keys);
        struct vpc_route rt = { .index = i, .origin = VPC_ORIGIN_STATIC };
        bool ok = true;
        bool has_dst = shash_find(json_object(rj), "destination");
        bool has_pl = shash_find(json_object(rj), "destination_prefix_list");
        if (has_dst == has_pl) {
            error_at(ld, p, NULL, "a route needs exactly one of "
                     "'destination' and 'destination_prefix_list'");
            ok = false;
        } else if (has_dst) {
            ok = get_prefix(ld, rj, p, "destination", true, &rt.dst);
        } else {
            rt.prefix_list = get_ref(ld, rj, p, "destination_prefix_list",
                                     true, OBJ_PL);
            ok = rt.prefix_list != NULL;
        }

        const struct json *tv = get(ld, rj, p, "target", JSON_STRING, true);
        char *tp = subpath(p, "target");
        ok = tv && parse_route_target(ld, tv, tp, &rt) && ok;
        free(tp);

        const char *origin = get_string(ld, rj, p, "origin", false);
        if (origin && !strcmp(origin, "propagated")) {
            rt.origin = VPC_ORIGIN_PROPAGATED;
        } else if (origin && strcmp(origin, "static")) {
            char *q = subpath(p, "origin");
            error_at(ld, q, shash_find_data(json_object(rj), "origin"),
                     "must be \"static\" or \"propagated\"");
            free(q);
        }
        if (ok) {
            rtb->routes[rtb->n_routes++] = rt;
        }
        free(p);
    }
}

static void
parse_subnet(struct loader *ld, const struct json *j, const char *path,
             struct vpc_subnet *s)
{
    static const char *const keys[] = {
        "id", "vpc", "cidr", "availability_zone", "route_table",
        "network_acl", NULL };
    check_keys(ld, j, path, keys);
    s->vpc = get_ref(ld, j, path, "vpc", true, OBJ_VPC);
    get_prefix(ld, j, path, "cidr", true, &s->cidr);
    const char *az = get_string(ld, j, path, "availability_zone", false);
    s->availability_zone = xstrdup(az ? az : "");
    s->route_table = get_ref(ld, j, path, "route_table", false, OBJ_RTB);
    s->nacl = get_ref(ld, j, path, "network_acl", false, OBJ_NACL);
}

/* Whether 's' is an AWS instance id: "i-" and 8 or 17 lowercase hex
 * digits. */
static bool
is_instance_id(const char *s)
{
    size_t n = strlen(s);
    if (strncmp(s, "i-", 2) || (n != 2 + 8 && n != 2 + 17)) {
        return false;
    }
    for (size_t i = 2; i < n; i++) {
        if (!isxdigit((unsigned char) s[i]) || isupper((unsigned char) s[i])) {
            return false;
        }
    }
    return true;
}

/* Reads one of the string values 'a' (the default) or 'b' of key 'key'
 * of 'obj' into '*is_b'. */
static void
get_choice(struct loader *ld, const struct json *obj, const char *path,
           const char *key, const char *a, const char *b, bool *is_b)
{
    const char *v = get_string(ld, obj, path, key, false);
    *is_b = false;
    if (v && !strcmp(v, b)) {
        *is_b = true;
    } else if (v && strcmp(v, a)) {
        char *p = subpath(path, key);
        const struct json *jv = shash_find_data(json_object(obj), key);
        error_at(ld, p, jv, "must be \"%s\" or \"%s\"", a, b);
        free(p);
    }
}

/* An ENI's instance metadata: instance_id, user_data, metadata_options
 * (docs/intents.md). */
static void
parse_eni_metadata(struct loader *ld, const struct json *j, const char *path,
                   struct vpc_eni *e)
{
    const struct json *iv = get(ld, j, path, "instance_id", JSON_STRING,
                                false);
    if (iv && !is_instance_id(json_string(iv))) {
        char *p = subpath(path, "instance_id");
        error_at(ld, p, iv, "must be \"i-\" and 8 or 17 lowercase hex "
                 "digits");
        free(p);
        iv = NULL;
    }
    const struct json *idv = shash_find_data(json_object(j), "id");
    e->instance_id = (iv ? xstrdup(json_string(iv))
                      : vpc_default_instance_id(
                          idv && idv->type == JSON_STRING
                          ? json_string(idv) : ""));

    const struct json *uv = get(ld, j, path, "user_data", JSON_STRING,
                                false);
    if (uv && strlen(json_string(uv)) > VPC_USER_DATA_MAX) {
        char *p = subpath(path, "user_data");
        error_at(ld, p, NULL, "%"PRIuSIZE" bytes: at most %d (AWS's limit, "
                 "16 KiB)", strlen(json_string(uv)), VPC_USER_DATA_MAX);
        free(p);
    } else if (uv) {
        e->user_data = xstrdup(json_string(uv));
    }

    e->http_endpoint_enabled = true;
    const struct json *mo = get(ld, j, path, "metadata_options", JSON_OBJECT,
                                false);
    if (mo) {
        static const char *const keys[] = { "http_tokens", "http_endpoint",
                                            NULL };
        char *p = subpath(path, "metadata_options");
        bool disabled;
        check_keys(ld, mo, p, keys);
        get_choice(ld, mo, p, "http_tokens", "optional", "required",
                   &e->http_tokens_required);
        get_choice(ld, mo, p, "http_endpoint", "enabled", "disabled",
                   &disabled);
        e->http_endpoint_enabled = !disabled;
        free(p);
    }
}

/* Parses e's optional "dns_names": at most VPC_ENI_MAX_DNS_NAMES FQDNs,
 * stored in lower case without a final dot. */
static void
parse_dns_names(struct loader *ld, const struct json *j, const char *path,
                struct vpc_eni *e)
{
    const struct json *a = get(ld, j, path, "dns_names", JSON_ARRAY, false);
    if (!a) {
        return;
    }
    const struct json_array *arr = json_array(a);
    if (arr->n > VPC_ENI_MAX_DNS_NAMES) {
        char *p = subpath(path, "dns_names");
        error_at(ld, p, NULL, "%"PRIuSIZE" names: at most %d",
                 arr->n, VPC_ENI_MAX_DNS_NAMES);
        free(p);
        return;
    }
    e->dns_names = xcalloc(arr->n + 1, sizeof *e->dns_names);
    for (size_t i = 0; i < arr->n; i++) {
        char *p = json_path(path, "dns_names", i);
        const char *why = NULL;
        char *name = NULL;
        if (arr->elems[i]->type != JSON_STRING) {
            why = "must be a string";
        } else {
            name = vpc_dns_name_normalize(json_string(arr->elems[i]), &why);
        }
        for (size_t k = 0; name && k < e->n_dns_names; k++) {
            if (!strcmp(e->dns_names[k], name)) {
                why = "duplicate name (names compare case-insensitively)";
                free(name);
                name = NULL;
            }
        }
        if (name) {
            e->dns_names[e->n_dns_names++] = name;
        } else {
            error_at(ld, p, arr->elems[i], "%s", why);
        }
        free(p);
    }
}

static void
parse_eni(struct loader *ld, const struct json *j, const char *path,
          struct vpc_eni *e)
{
    static const char *const keys[] = {
        "id", "subnet", "mac", "private_ip", "host", "security_groups",
        "elastic_ip", "source_dest_check", "description", "instance_id",
        "user_data", "metadata_options", "dns_names", NULL };
    check_keys(ld, j, path, keys);
    parse_eni_metadata(ld, j, path, e);
    e->subnet = get_ref(ld, j, path, "subnet", true, OBJ_SUBNET);
    parse_dns_names(ld, j, path, e);
    e->host = get_ref(ld, j, path, "host", true, OBJ_HOST);
    get_ip(ld, j, path, "private_ip", true, &e->ip);
    e->has_elastic_ip = get_ip(ld, j, path, "elastic_ip", false,
                               &e->elastic_ip);
    e->source_dest_check = get_bool(ld, j, path, "source_dest_check", true);

    const struct json *mv = get(ld, j, path, "mac", JSON_STRING, true);
    if (mv) {
        char *p = subpath(path, "mac");
        if (!eth_addr_from_string(json_string(mv), &e->mac)) {
            error_at(ld, p, mv, "not a MAC address xx:xx:xx:xx:xx:xx");
        } else if (eth_addr_is_multicast(e->mac)
                   || eth_addr_is_zero(e->mac)) {
            error_at(ld, p, mv, "must be a unicast, nonzero MAC address");
        }
        free(p);
    }

    const struct json *a = get(ld, j, path, "security_groups", JSON_ARRAY,
                               false);
    if (a) {
        const struct json_array *arr = json_array(a);
        e->sgs = xcalloc(arr->n + 1, sizeof *e->sgs);
        for (size_t i = 0; i < arr->n; i++) {
            char *p = json_path(path, "security_groups", i);
            if (arr->elems[i]->type != JSON_STRING) {
                error_at(ld, p, arr->elems[i], "must be a string");
            } else {
                struct vpc_sg *sg = resolve(ld, arr->elems[i], p, OBJ_SG);
                if (sg) {
                    e->sgs[e->n_sgs++] = sg;
                }
            }
            free(p);
        }
    }
}

static void
parse_flow_log(struct loader *ld, const struct json *j, const char *path,
               struct vpc_flow_log *fl)
{
    static const char *const keys[] = {
        "id", "resource", "traffic_type", "max_aggregation_interval",
        "description", NULL };
    check_keys(ld, j, path, keys);

    const struct json *rv = get(ld, j, path, "resource", JSON_STRING, true);
    if (rv) {
        const struct obj_ref *ref = shash_find_data(&ld->r->by_id,
                                                    json_string(rv));
        char *p = subpath(path, "resource");
        if (!ref) {
            error_at(ld, p, rv, "no network interface, subnet or VPC has "
                     "this id");
        } else if (ref->kind == OBJ_ENI) {
            fl->eni = ref->obj;
        } else if (ref->kind == OBJ_SUBNET) {
            fl->subnet = ref->obj;
        } else if (ref->kind == OBJ_VPC) {
            fl->vpc = ref->obj;
        } else {
            error_at(ld, p, rv, "is a %s: a flow log's resource is a "
                     "network interface, a subnet or a VPC",
                     obj_kind_names[ref->kind]);
        }
        free(p);
    }

    const struct json *tv = get(ld, j, path, "traffic_type", JSON_STRING,
                                true);
    if (tv) {
        const char *t = json_string(tv);
        if (!strcmp(t, "ACCEPT")) {
            fl->traffic = VPC_FL_ACCEPT;
        } else if (!strcmp(t, "REJECT")) {
            fl->traffic = VPC_FL_REJECT;
        } else if (!strcmp(t, "ALL")) {
            fl->traffic = VPC_FL_ALL;
        } else {
            char *p = subpath(path, "traffic_type");
            error_at(ld, p, tv, "must be \"ACCEPT\", \"REJECT\" or \"ALL\"");
            free(p);
        }
    }

    fl->max_aggregation_interval = VPC_FL_DEFAULT_INTERVAL;
    const struct json *iv = get(ld, j, path, "max_aggregation_interval",
                                JSON_INTEGER, false);
    if (iv) {
        if (json_integer(iv) == 60 || json_integer(iv) == 600) {
            fl->max_aggregation_interval = json_integer(iv);
        } else {
            char *p = subpath(path, "max_aggregation_interval");
            error_at(ld, p, iv, "must be 60 or 600 (seconds, as in AWS)");
            free(p);
        }
    }
}

/* The edge host of gateway 'gw': "edge" if given, else the only edge. */
static void
parse_gateway_edge(struct loader *ld, const struct json *j, const char *path,
                   struct vpc_gateway *gw)
{
    if (shash_find(json_object(j), "edge")) {
        gw->edge = get_ref(ld, j, path, "edge", true, OBJ_EDGE);
    } else if (ld->r->n_edges == 1) {
        gw->edge = &ld->r->edges[0];
    } else {
        char *p = subpath(path, "edge");
        error_at(ld, p, NULL, "required key is missing: the region has "
                 "%"PRIuSIZE" edges, so a gateway must name the one that "
                 "implements it", ld->r->n_edges);
        free(p);
    }
}

/* An internet gateway: the VPC it is attached to. */
static void
parse_igw(struct loader *ld, const struct json *j, const char *path,
          struct vpc_gateway *gw)
{
    static const char *const keys[] = { "id", "vpc", "edge", NULL };
    check_keys(ld, j, path, keys);
    gw->vpc = get_ref(ld, j, path, "vpc", true, OBJ_VPC);
}

/* A NAT gateway: its subnet (and so its VPC) and public address. */
static void
parse_nat(struct loader *ld, const struct json *j, const char *path,
          struct vpc_gateway *gw)
{
    static const char *const keys[] = {
        "id", "subnet", "elastic_ip", "edge", NULL };
    check_keys(ld, j, path, keys);
    struct vpc_subnet *s = get_ref(ld, j, path, "subnet", true,
                                   OBJ_SUBNET);
    gw->vpc = s ? s->vpc : NULL;
    gw->subnet = s;
    get_ip(ld, j, path, "elastic_ip", true, &gw->elastic_ip);
}

/* A VPN gateway: the customer gateway, on-premises prefixes, key. */
static void
parse_vgw(struct loader *ld, const struct json *j, const char *path,
          struct vpc_gateway *gw)
{
    static const char *const keys[] = {
        "id", "vpc", "customer_gateway_ip", "onprem_prefixes",
        "psk_ref", "edge", NULL };
    check_keys(ld, j, path, keys);
    gw->vpc = get_ref(ld, j, path, "vpc", true, OBJ_VPC);
    get_ip(ld, j, path, "customer_gateway_ip", true,
           &gw->customer_gateway_ip);
    gw->onprem = get_prefixes(ld, j, path, "onprem_prefixes", true,
                              &gw->n_onprem);
    const char *psk = get_string(ld, j, path, "psk_ref", true);
    gw->psk_ref = psk ? xstrdup(psk) : NULL;
}

/* A Direct Connect virtual interface: its tags, on-premises prefixes
 * and, optionally, the customer router's MAC. */
static void
parse_dx(struct loader *ld, const struct json *j, const char *path,
         struct vpc_gateway *gw)
{
    static const char *const keys[] = {
        "id", "vpc", "s_tag", "c_tag", "onprem_prefixes",
        "customer_router_mac", "edge", NULL };
    check_keys(ld, j, path, keys);
    gw->vpc = get_ref(ld, j, path, "vpc", true, OBJ_VPC);
    const struct json *mv = get(ld, j, path, "customer_router_mac",
                                JSON_STRING, false);
    if (mv && (!eth_addr_from_string(json_string(mv), &gw->peer_mac)
               || eth_addr_is_multicast(gw->peer_mac))) {
        char *p = subpath(path, "customer_router_mac");
        error_at(ld, p, mv, "not a unicast MAC address");
        free(p);
    }
    gw->has_peer_mac = mv != NULL;
    get_int(ld, j, path, "s_tag", true, 1, 4094, &gw->s_tag);
    get_int(ld, j, path, "c_tag", true, 1, 4094, &gw->c_tag);
    gw->onprem = get_prefixes(ld, j, path, "onprem_prefixes", true,
                              &gw->n_onprem);
}

/* A gateway VPC endpoint: the service, its prefix list and the
 * endpoint policy's subnets. */
static void
parse_vpce(struct loader *ld, const struct json *j, const char *path,
           struct vpc_gateway *gw)
{
    static const char *const keys[] = {
        "id", "vpc", "service", "type", "prefix_list", "allowed_subnets",
        "edge", NULL };
    check_keys(ld, j, path, keys);
    gw->vpc = get_ref(ld, j, path, "vpc", true, OBJ_VPC);
    const char *svc = get_string(ld, j, path, "service", true);
    if (svc && strcmp(svc, "s3") && strcmp(svc, "dynamodb")) {
        char *p = subpath(path, "service");
        error_at(ld, p, shash_find_data(json_object(j), "service"),
                 "must be \"s3\" or \"dynamodb\" (gateway endpoints)");
        free(p);
    }
    const char *type = get_string(ld, j, path, "type", false);
    if (type && strcmp(type, "gateway")) {
        char *p = subpath(path, "type");
        error_at(ld, p, shash_find_data(json_object(j), "type"),
                 "only \"gateway\" endpoints are supported");
        free(p);
    }
    gw->service = svc ? xstrdup(svc) : NULL;
    gw->prefix_list = get_ref(ld, j, path, "prefix_list", true, OBJ_PL);
    const struct json *a = get(ld, j, path, "allowed_subnets",
                               JSON_ARRAY, false);
    gw->allowed_subnets = xcalloc((a ? json_array(a)->n : 0) + 1,
                                  sizeof *gw->allowed_subnets);
    for (size_t i = 0; a && i < json_array(a)->n; i++) {
        char *p = json_path(path, "allowed_subnets", i);
        const struct json *sv = json_array(a)->elems[i];
        if (sv->type != JSON_STRING) {
            error_at(ld, p, sv, "must be a string");
        } else {
            struct vpc_subnet *s = resolve(ld, sv, p, OBJ_SUBNET);
            if (s) {
                gw->allowed_subnets[gw->n_allowed_subnets++] = s;
            }
        }
        free(p);
    }
}

/* A gateway of any kind: the edge that implements it, then the keys of
 * its kind (set by register_objects()). */
static void
parse_gateway(struct loader *ld, const struct json *j, const char *path,
              struct vpc_gateway *gw)
{
    parse_gateway_edge(ld, j, path, gw);
#define GW_PARSE_(KIND, KEY, PREFIX, NAME, PARSE, ...) \
    case VPC_TGT_##KIND: PARSE(ld, j, path, gw); return;
    switch (gw->kind) {
    VPC_GATEWAY_KINDS(GW_PARSE_)
    VPC_TGT_NON_GATEWAY_CASES
        break;
    }
#undef GW_PARSE_
    OVS_NOT_REACHED();
}

/* Pass 2 for object 'j' (a JSON object) of collection 'col' at 'path'. */
static void
parse_object(struct loader *ld, const struct collection *col,
             const struct json *j, const char *path, void *obj)
{
#define OBJ_PARSE_(KIND, KEY, PREFIX, TYPE, FIELD, NAME, PARSE, ...) \
    case OBJ_##KIND: PARSE(ld, j, path, obj); break;
    switch (col->kind) {
    VPC_OBJECT_KINDS(OBJ_PARSE_)
    case OBJ_GW: parse_gateway(ld, j, path, obj); break;
    }
#undef OBJ_PARSE_
}

static void
parse_objects(struct loader *ld)
{
    for (size_t c = 0; c < N_COLLECTIONS; c++) {
        const struct collection *col = &collections[c];
        size_t n = ld->items[c] ? json_array(ld->items[c])->n : 0;
        for (size_t i = 0; i < n; i++) {
            const struct json *j = json_array(ld->items[c])->elems[i];
            if (j->type != JSON_OBJECT) {
                continue;
            }
            char *path = json_path("$", ld->keys[c], i);
            parse_object(ld, col, j, path,
                         (char *) ld->objs[c] + i * obj_size(col->kind));
            free(path);
        }
    }
}

/* --------------------------------------------------------- duplicate keys */

/* libopenvswitch's parser keeps the last value of a key that appears twice
 * in one object, silently: a second top-level "security_groups" replaced
 * the first, opening everything.  check_duplicate_keys() scans the text of
 * a document that parsed and reports each key given more than once in one
 * object.  It is a plain scanner over valid JSON (strings, brackets, commas;
 * everything else is skipped), comparing keys as written, or decoded when
 * they have escapes. */

struct dup_key {
    const char *s;              /* Into the text, or into 'decoded'. */
    size_t n;
};

struct dup_frame {
    bool object;
    bool want_key;              /* Objects: the next string is a key. */
    size_t index;               /* Arrays: the current element. */
    struct dup_key key;         /* Objects: the current member's key. */
    size_t first;               /* Objects: their first key in 'keys'. */
};

static int
dup_key_cmp(const void *a_, const void *b_)
{
    const struct dup_key *a = a_, *b = b_;
    int c = memcmp(a->s, b->s, MIN(a->n, b->n));
    return c ? c : (a->n > b->n) - (a->n < b->n);
}

/* Reports the keys that 'keys[0..n)' (one object's, at 'frames[0..depth)')
 * has more than once. */
static void
report_duplicate_keys(struct dup_key *keys, size_t n,
                      const struct dup_frame *frames, size_t depth,
                      struct vpc_errors *errs)
{
    if (n < 16) {
        /* Most objects: no duplicate, found without sorting. */
        bool dup = false;
        for (size_t i = 1; i < n && !dup; i++) {
            for (size_t j = 0; j < i && !dup; j++) {
                dup = (keys[i].n == keys[j].n
                       && !memcmp(keys[i].s, keys[j].s, keys[i].n));
            }
        }
        if (!dup) {
            return;
        }
    }
    qsort(keys, n, sizeof *keys, dup_key_cmp);
    for (size_t i = 1; i < n; i++) {
        if (dup_key_cmp(&keys[i - 1], &keys[i])
            || (i > 1 && !dup_key_cmp(&keys[i - 2], &keys[i]))) {
            continue;           /* Not a duplicate, or already reported. */
        }
        struct ds path = DS_EMPTY_INITIALIZER;
        ds_put_char(&path, '$');
        for (size_t d = 0; d < depth; d++) {
            if (frames[d].object) {
                ds_put_format(&path, ".%.*s", (int) frames[d].key.n,
                              frames[d].key.s);
            } else {
                ds_put_format(&path, "[%"PRIuSIZE"]", frames[d].index);
            }
        }
        char *key = xmemdup0(keys[i].s, keys[i].n);
        struct json *value = json_string_create(key);
        char *v = json_to_string(value, 0);
        ds_put_format(&path, ".%s", key);
        vpc_errors_add(errs, ds_cstr(&path), v, "key given more than once "
                       "in this object: JSON keys must be unique (the last "
                       "value would silently replace the others)");
        free(v);
        json_destroy(value);
        free(key);
        ds_destroy(&path);
    }
}

static void
check_duplicate_keys(const char *text, struct vpc_errors *errs)
{
    struct dup_frame *frames = NULL;
    size_t depth = 0, allocated_frames = 0;
    struct dup_key *keys = NULL;
    size_t n_keys = 0, allocated_keys = 0;
    char **decoded = NULL;      /* Keys with escapes, decoded. */
    size_t n_decoded = 0, allocated_decoded = 0;

    for (const char *p = text; *p; p++) {
        struct dup_frame *top = depth ? &frames[depth - 1] : NULL;
        if (*p == '{' || *p == '[') {
            if (depth >= allocated_frames) {
                frames = x2nrealloc(frames, &allocated_frames,
                                    sizeof *frames);
            }
            frames[depth++] = (struct dup_frame) {
                .object = *p == '{', .want_key = *p == '{', .first = n_keys,
            };
        } else if ((*p == '}' || *p == ']') && top) {
            if (top->object) {
                report_duplicate_keys(&keys[top->first],
                                      n_keys - top->first, frames,
                                      depth - 1, errs);
                n_keys = top->first;
            }
            depth--;
        } else if (*p == ',' && top) {
            if (top->object) {
                top->want_key = true;
            } else {
                top->index++;
            }
        } else if (*p == '"') {
            const char *start = ++p;
            bool escaped = false;
            for (; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) {
                    escaped = true;
                    p++;
                }
            }
            if (top && top->object && top->want_key) {
                struct dup_key key = { start, p - start };
                if (escaped) {
                    /* Decode it with the OVS parser: ["KEY"]. */
                    char *s = xasprintf("[\"%.*s\"]", (int) key.n, start);
                    struct json *j = json_from_string(s);
                    free(s);
                    if (j->type == JSON_ARRAY && json_array(j)->n == 1
                        && json_array(j)->elems[0]->type == JSON_STRING) {
                        const char *k = json_string(json_array(j)->elems[0]);
                        if (n_decoded >= allocated_decoded) {
                            decoded = x2nrealloc(decoded, &allocated_decoded,
                                                 sizeof *decoded);
                        }
                        decoded[n_decoded] = xstrdup(k);
                        key.s = decoded[n_decoded++];
                        key.n = strlen(key.s);
                    }
                    json_destroy(j);
                }
                top->key = key;
                top->want_key = false;
                if (n_keys >= allocated_keys) {
                    keys = x2nrealloc(keys, &allocated_keys, sizeof *keys);
                }
                keys[n_keys++] = key;
            }
            if (!*p) {
                break;
            }
        }
    }
    free(frames);
    free(keys);
    for (size_t i = 0; i < n_decoded; i++) {
        free(decoded[i]);
    }
    free(decoded);
}

/* --------------------------------------------------------------- loading */

char *
vpc_json_syntax_error(const char *ovs_error)
{
    unsigned int line, column;
    int n = 0;
    if (sscanf(ovs_error, "line %u, column %u, byte %*u: %n", &line,
               &column, &n) == 2 && n > 0) {
        return xasprintf("line %u, column %u: %s", line + 1, column + 1,
                         ovs_error + n);
    }
    return xstrdup(ovs_error);
}

void vpc_check_region(struct vpc_region *, struct vpc_errors *);

struct vpc_region *
vpc_region_from_json(const struct json *doc, struct vpc_errors *errs)
{
    struct vpc_region *r = xzalloc(sizeof *r);
    shash_init(&r->by_id);
    size_t n_errors = errs->n;

    if (doc->type == JSON_STRING) {
        /* The OVS parser reports syntax errors as a string that gives the
         * line and column, 0-based. */
        char *msg = vpc_json_syntax_error(json_string(doc));
        vpc_errors_add(errs, "$", NULL, "malformed JSON: %s", msg);
        free(msg);
    } else if (doc->type != JSON_OBJECT) {
        char *v = json_value_str(doc);
        vpc_errors_add(errs, "$", v, "a region document must be a JSON "
                       "object");
        free(v);
    } else {
        struct loader ld = { .r = r, .errs = errs, .doc = doc };
        register_objects(&ld);
        parse_objects(&ld);
        if (errs->n == n_errors) {
            vpc_check_region(r, errs);
        }
    }
    if (errs->n != n_errors) {
        vpc_region_destroy(r);
        return NULL;
    }
    return r;
}

/* Returns 'r', or NULL (destroying 'r') if 'errs' has more than 'n'
 * errors. */
static struct vpc_region *
reject_on_errors(struct vpc_region *r, const struct vpc_errors *errs,
                 size_t n)
{
    if (r && errs->n != n) {
        vpc_region_destroy(r);
        return NULL;
    }
    return r;
}

static struct vpc_region *
region_from_json(struct json *doc, struct vpc_errors *errs)
{
    struct vpc_region *r = vpc_region_from_json(doc, errs);
    json_destroy(doc);
    return r;
}

struct vpc_region *
vpc_region_from_string(const char *string, struct vpc_errors *errs)
{
    size_t n = errs->n;
    struct json *doc = json_from_string(string);
    if (doc->type != JSON_STRING) {
        check_duplicate_keys(string, errs);
    }
    return reject_on_errors(region_from_json(doc, errs), errs, n);
}

struct vpc_region *
vpc_region_from_file(const char *file_name, struct vpc_errors *errs)
{
    struct json *doc = json_from_file(file_name);
    if (doc->type == JSON_STRING && strstr(json_string(doc), "error opening")) {
        vpc_errors_add(errs, file_name, NULL, "%s", json_string(doc));
        json_destroy(doc);
        return NULL;
    }
    size_t n = errs->n;
    if (doc->type != JSON_STRING) {
        /* The scan needs the text, which json_from_file() does not keep. */
        struct ds text = DS_EMPTY_INITIALIZER;
        FILE *f = fopen(file_name, "r");
        if (f) {
            char buf[65536];
            size_t k;
            while ((k = fread(buf, 1, sizeof buf, f)) > 0) {
                ds_put_buffer(&text, buf, k);
            }
            fclose(f);
        }
        check_duplicate_keys(ds_cstr(&text), errs);
        ds_destroy(&text);
    }
    return reject_on_errors(region_from_json(doc, errs), errs, n);
}

/* Destructors of what one object owns besides its id (VPC_OBJECT_KINDS). */
static void
destroy_nothing(const void *obj OVS_UNUSED)
{
}

static void
destroy_prefix_list(struct vpc_prefix_list *pl)
{
    free(pl->name);
    free(pl->cidrs);
}

static void
destroy_dhcp_options(struct vpc_dhcp_options *o)
{
    free(o->domain_name);
    free(o->dns);
    free(o->ntp);
}

static void
destroy_vpc(struct vpc_vpc *vpc)
{
    free(vpc->blocks);
    free(vpc->peerings);
}

static void
destroy_sg(struct vpc_sg *sg)
{
    free(sg->ingress);
    free(sg->egress);
}

static void
destroy_nacl(struct vpc_nacl *nacl)
{
    free(nacl->ingress);
    free(nacl->egress);
}

static void
destroy_route_table(struct vpc_route_table *rtb)
{
    free(rtb->routes);
}

static void
destroy_subnet(struct vpc_subnet *s)
{
    free(s->availability_zone);
}

static void
destroy_eni(struct vpc_eni *e)
{
    free(e->sgs);
    free(e->instance_id);
    free(e->user_data);
    for (size_t i = 0; i < e->n_dns_names; i++) {
        free(e->dns_names[i]);
    }
    free(e->dns_names);
}

static void
destroy_gateway(struct vpc_gateway *gw)
{
    free(gw->onprem);
    free(gw->psk_ref);
    free(gw->service);
    free(gw->allowed_subnets);
}

void
vpc_region_destroy(struct vpc_region *r)
{
    if (!r) {
        return;
    }
#define DESTROY_ARRAY_(FIELD, DESTROY)              \
    for (size_t i = 0; i < r->n_##FIELD; i++) {     \
        DESTROY(&r->FIELD[i]);                      \
        free(r->FIELD[i].id);                       \
    }                                               \
    free(r->FIELD);
#define DESTROY_KIND_(KIND, KEY, PREFIX, TYPE, FIELD, NAME, PARSE, DESTROY) \
    DESTROY_ARRAY_(FIELD, DESTROY)
    VPC_OBJECT_KINDS(DESTROY_KIND_)
    DESTROY_ARRAY_(gateways, destroy_gateway)
#undef DESTROY_KIND_
#undef DESTROY_ARRAY_
    shash_destroy_free_data(&r->by_id);
    free(r);
}

static void *
find_kind(const struct vpc_region *r, const char *id, enum obj_kind kind)
{
    const struct obj_ref *ref = shash_find_data(&r->by_id, id);
    return ref && ref->kind == kind ? ref->obj : NULL;
}

struct vpc_host *
vpc_region_find_host(const struct vpc_region *r, const char *id)
{
    struct vpc_host *h = find_kind(r, id, OBJ_HOST);
    return h ? h : find_kind(r, id, OBJ_EDGE);
}

struct vpc_eni *
vpc_region_find_eni(const struct vpc_region *r, const char *id)
{
    return find_kind(r, id, OBJ_ENI);
}

struct vpc_vpc *
vpc_peering_other(const struct vpc_peering *pcx, const struct vpc_vpc *vpc)
{
    return pcx->requester == vpc ? pcx->accepter : pcx->requester;
}

/* ----------------------------------------- one object (translator/rules.h) */

char *
vpc_obj_path_format(const struct vpc_obj_path *op, const char *suffix)
{
    if (op->id) {
        return xasprintf("$.%s[%s]%s", op->key, op->id, suffix);
    }
    return xasprintf("$.%s[%"PRIuSIZE"]%s", op->key, op->index, suffix);
}

size_t
vpc_collection_count(void)
{
    return N_COLLECTIONS;
}

int
vpc_collection_find(const char *key)
{
    for (size_t c = 0; c < N_COLLECTIONS; c++) {
        if (!strcmp(collections[c].key, key)) {
            return c;
        }
    }
    return -1;
}

const char *
vpc_collection_key(size_t c)
{
    return collections[c].key;
}

const char *
vpc_collection_name(size_t c)
{
    return (collections[c].kind == OBJ_GW
            ? vpc_target_kind_name(collections[c].gw_kind)
            : obj_kind_names[collections[c].kind]);
}

size_t
vpc_collection_obj_size(size_t c)
{
    return obj_size(collections[c].kind);
}

bool
vpc_object_parse(struct vpc_region *r, size_t c, const struct json *j,
                 const char *path, bool is_insert, void *obj,
                 struct vpc_errors *errs)
{
    struct loader ld = { .r = r, .errs = errs };
    const struct collection *col = &collections[c];
    bool ok = register_object(&ld, col, j, path, obj, is_insert);
    if (j->type == JSON_OBJECT) {
        parse_object(&ld, col, j, path, obj);
    }
    return ok;
}

void
vpc_object_destroy(size_t c, void *obj)
{
#define OBJ_DESTROY_(KIND, KEY, PREFIX, TYPE, FIELD, NAME, PARSE, DESTROY) \
    case OBJ_##KIND: DESTROY(obj); break;
    switch (collections[c].kind) {
    VPC_OBJECT_KINDS(OBJ_DESTROY_)
    case OBJ_GW: destroy_gateway(obj); break;
    }
#undef OBJ_DESTROY_
    free(*(char **) obj);
}

void
vpc_region_register(struct vpc_region *r, size_t c, const char *id,
                    void *obj)
{
    struct obj_ref *ref = xmalloc(sizeof *ref);
    ref->kind = collections[c].kind;
    ref->obj = obj;
    shash_add(&r->by_id, id, ref);
}

void *
vpc_region_unregister(struct vpc_region *r, const char *id)
{
    struct obj_ref *ref = shash_find_and_delete(&r->by_id, id);
    void *obj = ref ? ref->obj : NULL;
    free(ref);
    return obj;
}

void *
vpc_region_find_object(const struct vpc_region *r, const char *id)
{
    const struct obj_ref *ref = shash_find_data(&r->by_id, id);
    return ref ? ref->obj : NULL;
}

void
vpc_region_destroy_shell(struct vpc_region *r)
{
    if (!r) {
        return;
    }
#define FREE_ARRAY_(KIND, KEY, PREFIX, TYPE, FIELD, ...) free(r->FIELD);
    VPC_OBJECT_KINDS(FREE_ARRAY_)
#undef FREE_ARRAY_
    free(r->gateways);
    shash_destroy_free_data(&r->by_id);
    free(r);
}

/* ------------------------------------------------------------- flow logs */

const char *
vpc_flow_log_traffic_name(enum vpc_flow_log_traffic t)
{
    return (t == VPC_FL_ACCEPT ? "ACCEPT"
            : t == VPC_FL_REJECT ? "REJECT"
            : t == VPC_FL_ALL ? "ALL"
            : "NONE");
}

const char *
vpc_flow_log_resource_id(const struct vpc_flow_log *fl)
{
    return (fl->eni ? fl->eni->id
            : fl->subnet ? fl->subnet->id
            : fl->vpc ? fl->vpc->id
            : "");
}

bool
vpc_flow_log_covers(const struct vpc_flow_log *fl, const struct vpc_eni *e)
{
    return (fl->eni ? fl->eni == e
            : fl->subnet ? fl->subnet == e->subnet
            : fl->vpc && e->subnet && fl->vpc == e->subnet->vpc);
}

enum vpc_flow_log_traffic
vpc_eni_flow_log_traffic(const struct vpc_region *r,
                         const struct vpc_eni *e)
{
    unsigned int t = 0;
    for (size_t i = 0; i < r->n_flow_logs; i++) {
        if (vpc_flow_log_covers(&r->flow_logs[i], e)) {
            t |= r->flow_logs[i].traffic;
        }
    }
    return t;
}
