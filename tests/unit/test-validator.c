/* tests/unit/test-validator.c: unit tests of the incremental validator
 * (translator/validator.c).
 *
 * Every change a test makes goes through apply_checked(), which also
 * applies it to a copy of the validator's document and validates that copy
 * whole (vpc_region_from_json(), what 'vpcctl validate' runs): the verdict
 * must be the same, the messages must be the same (the whole validation's
 * positional paths rewritten by id), and the validator's document must be
 * the copy if accepted and unchanged if refused.  The targeted tests then
 * check the rule each change breaks and that it was validated
 * incrementally; the property tests make thousands of random one-object
 * changes (seeded; VALIDATOR_SEED=N to change the seed) to the examples
 * and to a generated region (VALIDATOR_REGION=FILE for another one).
 * Every accepted change also checks regiondb/affected.c, the hosts a write
 * affects computed from the validator's indexes, against the walk of the
 * documents before and after that regiondb/write.c did before
 * (check_affected()).
 * JSON in this file uses single quotes, which J() turns into double
 * quotes. */

#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "regiondb/affected.h"
#include "sset.h"
#include "translator/model.h"
#include "translator/rules.h"
#include "translator/validator.h"
#include "packets.h"
#include "util.h"

/* ------------------------------------------------------------- helpers */

static struct json *
J(const char *s)
{
    char *t = xstrdup(s);
    for (char *p = t; *p; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }
    struct json *j = json_from_string(t);
    free(t);
    if (j->type == JSON_STRING) {
        fail_msg("bad test JSON: %s: %s", s, json_string(j));
    }
    return j;
}

static struct json *
read_json_file(const char *name)
{
    struct json *j = json_from_file(name);
    if (j->type != JSON_OBJECT) {
        fail_msg("%s: not a JSON object", name);
    }
    return j;
}

static const char *
id_of(const struct json *j)
{
    const struct json *id = (j->type == JSON_OBJECT
                             ? shash_find_data(json_object(j), "id") : NULL);
    return id && id->type == JSON_STRING ? json_string(id) : NULL;
}

/* A copy of 'doc' with the change applied, independently of the
 * validator: the object of 'coll' with 'id' is replaced by 'obj' or
 * deleted (obj == NULL); without one, 'obj' is appended. */
static struct json *
mutate(const struct json *doc, const char *coll, const char *id,
       const struct json *obj)
{
    struct json *copy = json_deep_clone(doc);
    struct json *a = shash_find_data(json_object(copy), coll);
    if (!a) {
        a = json_array_create_empty();
        json_object_put(copy, coll, a);
    }
    struct json_array *arr = json_array(a);
    for (size_t i = 0; i < arr->n; i++) {
        const char *eid = id_of(arr->elems[i]);
        if (eid && !strcmp(eid, id)) {
            json_destroy(arr->elems[i]);
            if (obj) {
                arr->elems[i] = json_deep_clone(obj);
            } else {
                memmove(&arr->elems[i], &arr->elems[i + 1],
                        (arr->n - i - 1) * sizeof *arr->elems);
                arr->n--;
            }
            return copy;
        }
    }
    if (obj) {
        json_array_add(a, json_deep_clone(obj));
    }
    return copy;
}

/* "$.enis[3].mac: ..." -> "$.enis[eni-x].mac: ..." in 'doc'. */
static char *
by_id(const char *msg, const struct json *doc, const char *changed_id)
{
    const char *lb = strchr(msg, '[');
    const char *colon = strchr(msg, ':');
    if (strncmp(msg, "$.", 2) || !lb || (colon && colon < lb)) {
        return xstrdup(msg);
    }
    char *key = xmemdup0(msg + 2, lb - msg - 2);
    char *end;
    unsigned long i = strtoul(lb + 1, &end, 10);
    const struct json *a = shash_find_data(json_object(doc), key);
    char *out;
    if (*end != ']' || end == lb + 1 || !a || a->type != JSON_ARRAY
        || i >= json_array(a)->n) {
        out = xstrdup(msg);
    } else {
        const char *eid = id_of(json_array(a)->elems[i]);
        out = xasprintf("$.%s[%s]%s", key, eid ? eid : changed_id, end + 1);
    }
    free(key);
    return out;
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *
errors_sorted(char **msgs, size_t n)
{
    char **copy = xmalloc((n + 1) * sizeof *copy);
    if (n) {
        memcpy(copy, msgs, n * sizeof *copy);
    }
    qsort(copy, n, sizeof *copy, compare_strings);
    struct ds ds = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&ds, "%s\n", copy[i]);
    }
    free(copy);
    return ds_steal_cstr(&ds);
}

static int
compare_ids(const void *a, const void *b)
{
    return strcmp(**(char *const *const *) a, **(char *const *const *) b);
}

/* Checks that the validator's model 'vr' holds what the whole validation's
 * model 'full' of document 'doc' holds, for the fields the validator
 * maintains itself: every object by id; an ENI's addresses and
 * references; a VPC's peerings; a gateway's VNI, VPC and edge. */
static void
check_model(const struct vpc_region *vr, const struct vpc_region *full,
            const struct json *doc, const char *what)
{
    assert_int_equal(shash_count(&vr->by_id), shash_count(&full->by_id));
    int c_eni = vpc_collection_find("enis");
    int c_vpc = vpc_collection_find("vpcs");
    int c_gw0 = vpc_collection_find("internet_gateways");
    for (size_t c = 0; c < vpc_collection_count(); c++) {
        const struct json *a = shash_find_data(json_object(doc),
                                               vpc_collection_key(c));
        for (size_t i = 0; a && i < json_array(a)->n; i++) {
            const char *id = id_of(json_array(a)->elems[i]);
            const void *mine = vpc_region_find_object(vr, id);
            const void *ref = vpc_region_find_object(full, id);
            if (!mine || strcmp(*(char *const *) mine, id)) {
                fail_msg("%s: %s missing from the validator's model", what,
                         id);
            }
            if ((int) c == c_eni) {
                const struct vpc_eni *e = mine, *f = ref;
                assert_int_equal(e->ip, f->ip);
                assert_true(eth_addr_equals(e->mac, f->mac));
                assert_string_equal(e->subnet->id, f->subnet->id);
                assert_string_equal(e->host->id, f->host->id);
                assert_int_equal(e->has_elastic_ip, f->has_elastic_ip);
                assert_int_equal(e->n_sgs, f->n_sgs);
                for (size_t g = 0; g < e->n_sgs; g++) {
                    assert_string_equal(e->sgs[g]->id, f->sgs[g]->id);
                }
            } else if ((int) c == c_vpc) {
                const struct vpc_vpc *x = mine, *f = ref;
                assert_int_equal(x->n_peerings, f->n_peerings);
                size_t n = x->n_peerings;
                struct vpc_peering **p1 = xmalloc((n + 1) * sizeof *p1);
                struct vpc_peering **p2 = xmalloc((n + 1) * sizeof *p2);
                if (n) {
                    memcpy(p1, x->peerings, n * sizeof *p1);
                    memcpy(p2, f->peerings, n * sizeof *p2);
                }
                qsort(p1, x->n_peerings, sizeof *p1, compare_ids);
                qsort(p2, f->n_peerings, sizeof *p2, compare_ids);
                for (size_t k = 0; k < x->n_peerings; k++) {
                    assert_string_equal(p1[k]->id, p2[k]->id);
                }
                free(p1);
                free(p2);
            } else if ((int) c >= c_gw0) {
                const struct vpc_gateway *g = mine, *f = ref;
                assert_string_equal(g->vpc->id, f->vpc->id);
                assert_string_equal(g->edge->id, f->edge->id);
            }
        }
    }
}

/* ------------------------------------------------------ affected hosts */

/* The reference for regiondb/affected.c: regiondb/write.c's walk of whole
 * documents before the indexes, kept verbatim but for the names (and the
 * gateway collections, there the ordered tables of the database).
 * check_affected() compares both on every accepted change. */

static const char *
ref_jstr(const struct json *obj, const char *field)
{
    const struct json *v = (obj && obj->type == JSON_OBJECT
                            ? shash_find_data(json_object(obj), field)
                            : NULL);
    return v && v->type == JSON_STRING ? json_string(v) : NULL;
}

static const struct json *
ref_jfind(const struct json *doc, const char *collection, const char *id)
{
    const struct json *coll = shash_find_data(json_object(doc), collection);
    if (!coll || coll->type != JSON_ARRAY || !id) {
        return NULL;
    }
    for (size_t i = 0; i < json_array(coll)->n; i++) {
        const char *oid = ref_jstr(json_array(coll)->elems[i], "id");
        if (oid && !strcmp(oid, id)) {
            return json_array(coll)->elems[i];
        }
    }
    return NULL;
}

/* The gateway collections: their objects live on an edge. */
static bool
ref_is_gateway_collection(const char *collection)
{
#define REF_GW_KEY_(KIND, KEY, ...) KEY,
    static const char *const keys[] = { VPC_GATEWAY_KINDS(REF_GW_KEY_) };
#undef REF_GW_KEY_
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (!strcmp(collection, keys[i])) {
            return true;
        }
    }
    return false;
}

/* Adds to 'vpcs' the VPCs that object 'obj' of 'collection' belongs to in
 * 'doc'.  Returns false if the object belongs to no VPC (hosts, edges,
 * prefix lists): every host is affected. */
static bool
ref_object_vpcs(const struct json *doc, const char *collection,
                const struct json *obj, struct sset *vpcs)
{
    if (!strcmp(collection, "vpcs")) {
        sset_add(vpcs, ref_jstr(obj, "id"));
    } else if (!strcmp(collection, "enis")) {
        const struct json *subnet = ref_jfind(doc, "subnets",
                                              ref_jstr(obj, "subnet"));
        const char *vpc = ref_jstr(subnet, "vpc");
        if (vpc) {
            sset_add(vpcs, vpc);
        }
    } else if (!strcmp(collection, "peering_connections")) {
        const char *a = ref_jstr(obj, "requester_vpc");
        const char *b = ref_jstr(obj, "accepter_vpc");
        if (a) {
            sset_add(vpcs, a);
        }
        if (b) {
            sset_add(vpcs, b);
        }
    } else if (ref_jstr(obj, "vpc")) {
        sset_add(vpcs, ref_jstr(obj, "vpc"));
    } else if (ref_jstr(obj, "subnet")) {
        /* A NAT gateway is in its subnet's VPC. */
        const char *vpc = ref_jstr(ref_jfind(doc, "subnets",
                                             ref_jstr(obj, "subnet")),
                                   "vpc");
        if (vpc) {
            sset_add(vpcs, vpc);
        }
    } else {
        return false;
    }
    return true;
}

/* Adds every host and edge of 'doc' to 'hosts'. */
static void
ref_all_hosts(const struct json *doc, struct sset *hosts)
{
    static const char *const colls[] = { "hosts", "edges" };
    for (size_t c = 0; c < ARRAY_SIZE(colls); c++) {
        const struct json *a = shash_find_data(json_object(doc), colls[c]);
        for (size_t i = 0; a && a->type == JSON_ARRAY
                           && i < json_array(a)->n; i++) {
            const char *id = ref_jstr(json_array(a)->elems[i], "id");
            if (id) {
                sset_add(hosts, id);
            }
        }
    }
}

/* The array 'key' of 'doc', or NULL. */
static const struct json_array *
ref_jarray(const struct json *doc, const char *key)
{
    const struct json *a = (doc && doc->type == JSON_OBJECT
                            ? shash_find_data(json_object(doc), key) : NULL);
    return a && a->type == JSON_ARRAY ? json_array(a) : NULL;
}

/* Adds to 'hosts' every host whose scope, in 'doc', holds one of 'vpcs_'.
 * A host's scope (as the follower computes it, regiondb/scope.h) is the
 * VPCs of its ENIs and their peers, and, to a fixed point, the VPCs of the
 * groups that rules of in-scope groups name; an edge's, the VPCs of the
 * gateways it implements (a gateway that names no edge is the region's
 * only edge's) and their peers.  So, backwards: R is 'vpcs_' plus, to a
 * fixed point, every VPC with a rule naming a group of a VPC in R; a host
 * is affected if it has an ENI in R or in a peer of R, an edge if one of
 * its gateways is. */
static void
ref_hosts_of_vpcs(const struct json *doc, const struct sset *vpcs_,
                  struct sset *hosts)
{
    /* R: who names whom, backwards, to a fixed point. */
    struct shash sg_vpc = SHASH_INITIALIZER(&sg_vpc);
    const struct json_array *sgs = ref_jarray(doc, "security_groups");
    for (size_t i = 0; sgs && i < sgs->n; i++) {
        const char *id = ref_jstr(sgs->elems[i], "id");
        const char *vpc = ref_jstr(sgs->elems[i], "vpc");
        if (id && vpc) {
            shash_add_once(&sg_vpc, id, CONST_CAST(char *, vpc));
        }
    }
    struct sset r;
    sset_clone(&r, vpcs_);
    for (bool changed = true; changed; ) {
        changed = false;
        for (size_t i = 0; sgs && i < sgs->n; i++) {
            const char *vpc = ref_jstr(sgs->elems[i], "vpc");
            if (!vpc || sset_contains(&r, vpc)) {
                continue;
            }
            static const char *const dirs[] = { "ingress", "egress" };
            for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
                const struct json_array *rules = ref_jarray(sgs->elems[i],
                                                            dirs[d]);
                for (size_t k = 0; rules && k < rules->n; k++) {
                    const char *g = ref_jstr(rules->elems[k],
                                             "security_group");
                    const char *gv = g ? shash_find_data(&sg_vpc, g) : NULL;
                    if (gv && sset_contains(&r, gv)
                        && sset_add(&r, vpc)) {
                        changed = true;
                    }
                }
            }
        }
    }
    shash_destroy(&sg_vpc);

    /* S: R and its peers. */
    struct sset vpcs;
    sset_clone(&vpcs, &r);
    const struct json_array *pcxs = ref_jarray(doc, "peering_connections");
    for (size_t i = 0; pcxs && i < pcxs->n; i++) {
        const char *a = ref_jstr(pcxs->elems[i], "requester_vpc");
        const char *b = ref_jstr(pcxs->elems[i], "accepter_vpc");
        if (a && b && sset_contains(&r, a)) {
            sset_add(&vpcs, b);
        }
        if (a && b && sset_contains(&r, b)) {
            sset_add(&vpcs, a);
        }
    }
    sset_destroy(&r);

    /* The subnets of those VPCs, then the hosts of their ENIs: one pass
     * over each collection. */
    struct sset subnets = SSET_INITIALIZER(&subnets);
    struct shash subnet_vpc = SHASH_INITIALIZER(&subnet_vpc);
    const struct json_array *sns = ref_jarray(doc, "subnets");
    for (size_t i = 0; sns && i < sns->n; i++) {
        const char *vpc = ref_jstr(sns->elems[i], "vpc");
        const char *id = ref_jstr(sns->elems[i], "id");
        if (vpc && id) {
            shash_add_once(&subnet_vpc, id, CONST_CAST(char *, vpc));
            if (sset_contains(&vpcs, vpc)) {
                sset_add(&subnets, id);
            }
        }
    }
    const struct json_array *enis = ref_jarray(doc, "enis");
    for (size_t i = 0; enis && i < enis->n; i++) {
        const char *subnet = ref_jstr(enis->elems[i], "subnet");
        const char *host = ref_jstr(enis->elems[i], "host");
        if (subnet && host && sset_contains(&subnets, subnet)) {
            sset_add(hosts, host);
        }
    }
    sset_destroy(&subnets);

    const struct json_array *edges = ref_jarray(doc, "edges");
    const char *only_edge = (edges && edges->n == 1
                             ? ref_jstr(edges->elems[0], "id") : NULL);
    struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(doc)) {
        const struct json *a = node->data;
        if (!ref_is_gateway_collection(node->name)
            || a->type != JSON_ARRAY) {
            continue;
        }
        for (size_t i = 0; i < json_array(a)->n; i++) {
            const struct json *gw = json_array(a)->elems[i];
            const char *vpc = ref_jstr(gw, "vpc");
            if (!vpc) {
                const char *subnet = ref_jstr(gw, "subnet");
                vpc = subnet ? shash_find_data(&subnet_vpc, subnet) : NULL;
            }
            const char *edge = ref_jstr(gw, "edge");
            if (!edge) {
                edge = only_edge;
            }
            if (vpc && edge && sset_contains(&vpcs, vpc)) {
                sset_add(hosts, edge);
            }
        }
    }
    shash_destroy(&subnet_vpc);
    sset_destroy(&vpcs);
}

/* Adds to 'hosts' the hosts that a change of 'collection' from 'old' (in
 * 'old_doc') to 'new' (in 'new_doc') affects; either object may be NULL. */
static void
ref_affected_hosts(const char *collection,
                   const struct json *old_doc, const struct json *old,
                   const struct json *new_doc, const struct json *new,
                   struct sset *hosts)
{
    const struct json *docs[2] = { old_doc, new_doc };
    const struct json *objs[2] = { old, new };
    for (int i = 0; i < 2; i++) {
        if (!objs[i]) {
            continue;
        }
        struct sset vpcs = SSET_INITIALIZER(&vpcs);
        if (ref_object_vpcs(docs[i], collection, objs[i], &vpcs)) {
            ref_hosts_of_vpcs(docs[i], &vpcs, hosts);
        } else {
            ref_all_hosts(docs[i], hosts);
        }
        sset_destroy(&vpcs);
        /* The host an ENI leaves or joins, the edge of a gateway. */
        const char *h = ref_jstr(objs[i], !strcmp(collection, "enis")
                                          ? "host" : "edge");
        if (h) {
            sset_add(hosts, h);
        }
    }
}

/* The hosts that changing 'id' of 'coll' from 'before' to 'after' affects,
 * by the reference walk ('before' a copy of the region as it was) and by
 * regiondb/affected.c ('got', from the validator before and after the
 * change): must be equal.  As regiondb/write.c, without a host or edge
 * that the change deletes.  Returns whether they differ from the walk's
 * on one document (the region after the change) for both objects, which
 * writers did before 2026-12-01 (their "old" document was the
 * validator's, changed in place). */
static bool
check_affected(const char *coll, const char *id, const struct json *before,
               const struct json *after, struct sset *got, const char *what,
               unsigned int *n_nonempty)
{
    struct sset want = SSET_INITIALIZER(&want);
    struct sset one_doc = SSET_INITIALIZER(&one_doc);
    const struct json *old = ref_jfind(before, coll, id);
    const struct json *new = ref_jfind(after, coll, id);
    ref_affected_hosts(coll, before, old, after, new, &want);
    ref_affected_hosts(coll, after, old, after, new, &one_doc);
    if (!new && (!strcmp(coll, "hosts") || !strcmp(coll, "edges"))) {
        sset_find_and_delete(&want, id);
        sset_find_and_delete(got, id);
        sset_find_and_delete(&one_doc, id);
    }
    if (!sset_equals(&want, got)) {
        char *w = sset_join(&want, ",", "");
        char *g = sset_join(got, ",", "");
        fail_msg("%s: affected hosts differ\nwalk:    %s\nindexed: %s",
                 what, w, g);
    }
    *n_nonempty += !sset_is_empty(&want);
    bool differs = !sset_equals(&want, &one_doc);
    sset_destroy(&want);
    sset_destroy(&one_doc);
    return differs;
}

/* Counts, for the property tests. */
struct stats {
    unsigned int n, accepted, incremental, incremental_accepted;
    unsigned int hosts_nonempty;    /* Accepted with affected hosts. */
    unsigned int hosts_one_doc;     /* ...where one document differs. */
};

/* Applies the change to 'v' and checks it against whole validation (see
 * the file's comment).  Returns the validator's verdict; its messages,
 * sorted and joined by new lines, go to '*msgs' if nonnull. */
static bool
apply_checked(struct vpc_validator *v, const char *coll, const char *id,
              const struct json *obj, char **msgs, struct stats *st)
{
    const struct json *doc = vpc_validator_document(v);
    struct json *expected_doc = mutate(doc, coll, id, obj);
    struct json *before = json_deep_clone(doc);

    struct vpc_errors full;
    vpc_errors_init(&full);
    struct vpc_region *r = vpc_region_from_json(expected_doc, &full);
    for (size_t i = 0; i < full.n; i++) {
        char *m = by_id(full.msgs[i], expected_doc, id);
        free(full.msgs[i]);
        full.msgs[i] = m;
    }

    struct sset hosts = SSET_INITIALIZER(&hosts);
    rdb_affected_hosts(v, coll, vpc_validator_get(v, coll, id), &hosts);

    struct vpc_errors errs;
    vpc_errors_init(&errs);
    bool ok = vpc_validator_apply(v, coll, id, obj, &errs);
    char *got = errors_sorted(errs.msgs, errs.n);
    char *want = errors_sorted(full.msgs, full.n);
    char *text = obj ? json_to_string(obj, JSSF_SORT) : xstrdup("");
    char *what = xasprintf("%s %s[%s] %s", obj ? "put" : "delete", coll,
                           id, text);
    free(text);
    if (ok != (full.n == 0)) {
        fail_msg("%s: validator says %s, whole validation says:\n%s"
                 "validator:\n%s", what, ok ? "valid" : "invalid", want,
                 got);
    }
    if (strcmp(got, want)) {
        fail_msg("%s: messages differ\nwhole validation:\n%svalidator:\n%s",
                 what, want, got);
    }
    if (ok ? !json_equal(vpc_validator_document(v), expected_doc)
           : !json_equal(vpc_validator_document(v), before)) {
        fail_msg("%s: wrong document after the change", what);
    }
    if (ok) {
        check_model(vpc_validator_model(v), r, expected_doc, what);
        rdb_affected_hosts(v, coll, vpc_validator_get(v, coll, id),
                           &hosts);
        unsigned int n_nonempty = 0;
        bool one_doc = check_affected(coll, id, before, expected_doc,
                                      &hosts, what, &n_nonempty);
        if (st) {
            st->hosts_nonempty += n_nonempty;
            st->hosts_one_doc += one_doc;
        }
    }
    sset_destroy(&hosts);
    vpc_region_destroy(r);
    if (st) {
        st->n++;
        st->accepted += ok;
        st->incremental += vpc_validator_last_was_incremental(v);
        st->incremental_accepted += ok
                                    && vpc_validator_last_was_incremental(v);
    }
    free(what);
    free(want);
    if (msgs) {
        *msgs = got;
    } else {
        free(got);
    }
    vpc_errors_destroy(&errs);
    vpc_errors_destroy(&full);
    json_destroy(expected_doc);
    json_destroy(before);
    return ok;
}

static struct vpc_validator *
load(const char *file)
{
    struct json *doc = read_json_file(file);
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_validator *v = vpc_validator_create(doc, &errs);
    if (!v) {
        fail_msg("%s: %s", file, errs.n ? errs.msgs[0] : "?");
    }
    vpc_errors_destroy(&errs);
    json_destroy(doc);
    return v;
}

/* Puts (or deletes, if 'text' is NULL) and expects acceptance, validated
 * incrementally if 'incremental'. */
static void
expect_ok(struct vpc_validator *v, const char *coll, const char *id,
          const char *text, bool incremental)
{
    struct json *obj = text ? J(text) : NULL;
    char *msgs;
    if (!apply_checked(v, coll, id, obj, &msgs, NULL)) {
        fail_msg("%s[%s] refused:\n%s", coll, id, msgs);
    }
    assert_int_equal(vpc_validator_last_was_incremental(v), incremental);
    if (obj) {
        assert_true(json_equal(vpc_validator_get(v, coll, id), obj));
    } else {
        assert_null(vpc_validator_get(v, coll, id));
    }
    free(msgs);
    json_destroy(obj);
}

/* Expects refusal, incrementally if 'incremental', with a message
 * containing 'needle'. */
static void
expect_error__(struct vpc_validator *v, const char *coll, const char *id,
               const char *text, const char *needle, bool incremental)
{
    struct json *obj = text ? J(text) : NULL;
    char *msgs;
    if (apply_checked(v, coll, id, obj, &msgs, NULL)) {
        fail_msg("%s[%s] accepted, expected: %s", coll, id, needle);
    }
    if (!strstr(msgs, needle)) {
        fail_msg("%s[%s]: expected \"%s\" in:\n%s", coll, id, needle, msgs);
    }
    assert_int_equal(vpc_validator_last_was_incremental(v), incremental);
    free(msgs);
    json_destroy(obj);
}

static void
expect_error(struct vpc_validator *v, const char *coll, const char *id,
             const char *text, const char *needle)
{
    expect_error__(v, coll, id, text, needle, true);
}

static void
expect_error_full(struct vpc_validator *v, const char *coll, const char *id,
                  const char *text, const char *needle)
{
    expect_error__(v, coll, id, text, needle, false);
}

/* Expects refusal of a change that breaks the interface's contract, which
 * has no whole-document equivalent, with 'expected' as its message. */
static void
expect_misuse(struct vpc_validator *v, const char *coll, const char *id,
              const char *text, const char *expected)
{
    struct json *obj = text ? J(text) : NULL;
    struct json *before = json_deep_clone(vpc_validator_document(v));
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    assert_false(vpc_validator_apply(v, coll, id, obj, &errs));
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.msgs[0], expected);
    assert_true(json_equal(vpc_validator_document(v), before));
    vpc_errors_destroy(&errs);
    json_destroy(before);
    json_destroy(obj);
}

/* ------------------------------------------------------ targeted tests
 *
 * On examples/peering.json: vpc-a 10.1/16, vpc-b 10.2/16 (peered by
 * pcx-ab, rtb-a and rtb-b route to each other through it), vpc-c 10.3/16;
 * subnet-a 10.1.1.0/24 with eni-a1 .10 (02:00:00:0a:01:0a) and eni-a2
 * .20, subnet-b with eni-b1, eni-b2, subnet-c with eni-c1, eni-c2; sg-a,
 * sg-b, sg-c one per VPC; hosts host-a, host-b. */

#define PEERING "examples/peering.json"
#define ENI(ID, SUBNET, HOST, MAC, IP, SGS)                               \
    "{'id':'" ID "','subnet':'" SUBNET "','host':'" HOST "','mac':'" MAC \
    "','private_ip':'" IP "','security_groups':[" SGS "]}"
#define ENI_A3(IP) ENI("eni-a3", "subnet-a", "host-a", "02:00:00:0a:01:1e", \
                       IP, "'sg-a'")

static void
test_eni_insert_delete(void **state OVS_UNUSED)
{
    struct vpc_validator *v = load(PEERING);
    expect_ok(v, "enis", "eni-a3", ENI_A3("10.1.1.30"), true);
    expect_ok(v, "enis", "eni-a3", NULL, true);
    expect_ok(v, "enis", "eni-a3", ENI_A3("10.1.1.30"), true);
    vpc_validator_destroy(v);
}

static void
test_eni_address(void **state OVS_UNUSED)
{
    struct vpc_validator *v = load(PEERING);
    expect_error(v, "enis", "eni-a3", ENI_A3("10.1.2.30"),
                 "$.enis[eni-a3].private_ip: \"10.1.2.30\": not inside "
                 "subnet-a (\"10.1.1.0/24\")");
    expect_error(v, "enis", "eni-a3", ENI_A3("10.1.1.3"),
                 "reserved address of subnet-a (reserved for future use)");
    expect_error(v, "enis", "eni-a3", ENI_A3("10.1.1.255"),
                 "(broadcast address)");
    expect_error(v, "enis", "eni-a3", ENI_A3("10.1.1.10"),
                 "$.enis[eni-a3].private_ip: \"10.1.1.10\": duplicate IP in "
                 "vpc-a: already assigned to eni-a1");
    expect_error(v, "enis", "eni-a3", ENI_A3("not-an-ip"),
                 "not an IPv4 address");
    vpc_validator_destroy(v);
}

static void
test_eni_ip_other_vpc(void **state OVS_UNUSED)
{
    /* 10.1.1.10 is taken in vpc-a, not in vpc-d, which overlaps vpc-a
     * (allowed: they are not peered). */
    struct vpc_validator *v = load(PEERING);
    expect_error(v, "vpcs", "vpc-d",
                 "{'id':'vpc-d','cidr_blocks':['10.1.0.0/16'],'vni':103}",
                 "$.vpcs[vpc-d].vni: 103: duplicate VNI: already used by "
                 "vpc-c");
    expect_error(v, "vpcs", "vpc-d",
                 "{'id':'vpc-d','cidr_blocks':['10.1.0.0/16','10.1.2.0/24',"
                 "'10.16.0.0/12'],'vni':104}",
                 "$.vpcs[vpc-d].cidr_blocks[1]: \"10.1.2.0/24\": overlaps "
                 "cidr_blocks[0] of the same VPC\n$.vpcs[vpc-d].cidr_blocks[2]"
                 ": \"10.16.0.0/12\": a VPC CIDR block must be between /16 "
                 "and /28");
    expect_ok(v, "vpcs", "vpc-d",
              "{'id':'vpc-d','cidr_blocks':['10.1.0.0/16'],'vni':104}",
              true);
    expect_ok(v, "security_groups", "sg-d", "{'id':'sg-d','vpc':'vpc-d'}",
              true);
    expect_ok(v, "subnets", "subnet-d",
              "{'id':'subnet-d','vpc':'vpc-d','cidr':'10.1.1.0/24'}", true);
    expect_error(v, "enis", "eni-d1",
                 ENI("eni-d1", "subnet-d", "host-a", "02:00:00:0a:01:0a",
                     "10.1.1.10", "'sg-d'"),
                 "duplicate MAC: already used by eni-a1");
    expect_ok(v, "enis", "eni-d1",
              ENI("eni-d1", "subnet-d", "host-a", "02:00:00:0d:01:0a",
                  "10.1.1.10", "'sg-d'"), true);
    expect_error(v, "enis", "eni-d2",
                 ENI("eni-d2", "subnet-d", "host-a", "02:00:00:0d:01:0b",
                     "10.1.1.10", "'sg-d'"),
                 "duplicate IP in vpc-d: already assigned to eni-d1");
    expect_error(v, "peering_connections", "pcx-ad",
                 "{'id':'pcx-ad','requester_vpc':'vpc-a',"
                 "'accepter_vpc':'vpc-d'}",
                 "$.peering_connections[pcx-ad]: vpc-a and vpc-d have "
                 "overlapping CIDR blocks and cannot be peered");
    vpc_validator_destroy(v);
}

/* Instance ids are unique in the region, given or derived. */
static void
test_eni_instance_id(void **state OVS_UNUSED)
{
    struct vpc_validator *v = load(PEERING);
#define ENI_IID(ID, MAC, IP, IID)                                          \
    "{'id':'" ID "','subnet':'subnet-a','host':'host-a','mac':'" MAC       \
    "','private_ip':'" IP "','security_groups':['sg-a'],'instance_id':'"   \
    IID "'}"
    expect_ok(v, "enis", "eni-i1",
              ENI_IID("eni-i1", "02:00:00:0a:0f:01", "10.1.1.51",
                      "i-0123abcd"), true);
    expect_error(v, "enis", "eni-i2",
                 ENI_IID("eni-i2", "02:00:00:0a:0f:02", "10.1.1.52",
                         "i-0123abcd"),
                 "$.enis[eni-i2].instance_id: \"i-0123abcd\": duplicate "
                 "instance id: already that of eni-i1");
    expect_ok(v, "enis", "eni-i2",
              ENI_IID("eni-i2", "02:00:00:0a:0f:02", "10.1.1.52",
                      "i-0123abce"), true);
    /* eni-i1 gives its id up: eni-i2 may take it. */
    expect_ok(v, "enis", "eni-i1",
              ENI_IID("eni-i1", "02:00:00:0a:0f:01", "10.1.1.51",
                      "i-0123abcf"), true);
    expect_ok(v, "enis", "eni-i2",
              ENI_IID("eni-i2", "02:00:00:0a:0f:02", "10.1.1.52",
                      "i-0123abcd"), true);
#undef ENI_IID
    vpc_validator_destroy(v);
}

static void
test_eni_replace(void **state OVS_UNUSED)
{
    struct vpc_validator *v = load(PEERING);
    /* eni-a1 is before eni-a2 in the document: a clash is reported on the
     * later one, whichever changed. */
    expect_error(v, "enis", "eni-a1",
                 ENI("eni-a1", "subnet-a", "host-a", "02:00:00:0a:01:0a",
                     "10.1.1.20", "'sg-a'"),
                 "$.enis[eni-a2].private_ip: \"10.1.1.20\": duplicate IP in "
                 "vpc-a: already assigned to eni-a1");
    expect_error(v, "enis", "eni-a2",
                 ENI("eni-a2", "subnet-a", "host-b", "02:00:00:0a:01:0a",
                     "10.1.1.20", "'sg-a'"),
                 "$.enis[eni-a2].mac: \"02:00:00:0a:01:0a\": duplicate MAC: "
                 "already used by eni-a1");
    /* Moves between hosts, SG list changes, elastic IPs. */
    expect_ok(v, "enis", "eni-a1",
              ENI("eni-a1", "subnet-a", "host-b", "02:00:00:0a:01:0a",
                  "10.1.1.10", "'sg-a'"), true);
    expect_error(v, "enis", "eni-a1",
                 ENI("eni-a1", "subnet-a", "host-zz", "02:00:00:0a:01:0a",
                     "10.1.1.10", "'sg-a'"),
                 "$.enis[eni-a1].host: \"host-zz\": no host has this id");
    expect_error(v, "enis", "eni-a1",
                 ENI("eni-a1", "subnet-a", "host-a", "02:00:00:0a:01:0a",
                     "10.1.1.10", "'sg-a','sg-b'"),
                 "$.enis[eni-a1].security_groups[1]: \"sg-b\": security "
                 "group belongs to vpc-b, not to vpc-a");
    expect_error(v, "enis", "eni-a1",
                 ENI("eni-a1", "subnet-a", "host-a", "02:00:00:0a:01:0a",
                     "10.1.1.10", "'sg-nope'"),
                 "no security group has this id");
    expect_error(v, "enis", "eni-a1",
                 ENI("eni-a1", "subnet-nope", "host-a", "02:00:00:0a:01:0a",
                     "10.1.1.10", "'sg-a'"),
                 "no subnet has this id");
    /* Elastic IPs need an internet gateway on the VPC, gateways an
     * edge. */
    expect_ok(v, "edges", "edge-1",
              "{'id':'edge-1','underlay_ip':'192.168.100.254'}", false);
    expect_ok(v, "internet_gateways", "igw-a",
              "{'id':'igw-a','vpc':'vpc-a'}", true);
    expect_ok(v, "internet_gateways", "igw-b",
              "{'id':'igw-b','vpc':'vpc-b'}", true);
    expect_ok(v, "enis", "eni-a1",
              "{'id':'eni-a1','subnet':'subnet-a','host':'host-a',"
              "'mac':'02:00:00:0a:01:0a','private_ip':'10.1.1.10',"
              "'elastic_ip':'203.0.113.5','security_groups':[]}", true);
    expect_error(v, "enis", "eni-b1",
                 "{'id':'eni-b1','subnet':'subnet-b','host':'host-a',"
                 "'mac':'02:00:00:0b:01:0a','private_ip':'10.2.1.10',"
                 "'elastic_ip':'203.0.113.5'}",
                 "$.enis[eni-b1].elastic_ip: \"203.0.113.5\": elastic IP "
                 "already associated with another network interface");
    expect_misuse(v, "enis", "eni-a1",
                  "{'id':'eni-a2','subnet':'subnet-a'}",
                  "$.enis[eni-a1].id: \"eni-a2\": must be the id the change "
                  "names");
    vpc_validator_destroy(v);
}

static void
test_delete_referenced(void **state OVS_UNUSED)
{
    struct vpc_validator *v = load(PEERING);
    expect_error(v, "security_groups", "sg-a", NULL,
                 "$.enis[eni-a1].security_groups[0]: \"sg-a\": no security "
                 "group has this id");
    expect_error(v, "subnets", "subnet-c", NULL,
                 "$.enis[eni-c2].subnet: \"subnet-c\": no subnet has this "
                 "id");
    expect_error(v, "peering_connections", "pcx-ab", NULL,
                 "$.route_tables[rtb-a].routes[0].target: \"pcx-ab\": no "
                 "route target has this id");
    expect_error(v, "route_tables", "rtb-c", NULL,
                 "$.subnets[subnet-c].route_table: \"rtb-c\": no route "
                 "table has this id");
    expect_misuse(v, "enis", "eni-x", NULL,
                  "$.enis[eni-x]: no network interface has this id");
    expect_misuse(v, "description", "x", NULL,
                  "$.description: not a collection of a region document");

    /* A route to an ENI, which then cannot go, nor leave the VPC. */
    expect_ok(v, "route_tables", "rtb-c",
              "{'id':'rtb-c','vpc':'vpc-c','routes':[{'destination':"
              "'0.0.0.0/0','target':'eni-c1'}]}", true);
    expect_error(v, "enis", "eni-c1", NULL,
                 "$.route_tables[rtb-c].routes[0].target: \"eni-c1\": no "
                 "route target has this id");
    expect_error(v, "enis", "eni-c1",
                 ENI("eni-c1", "subnet-a", "host-a", "02:00:00:0c:01:0a",
                     "10.1.1.40", ""),
                 "$.route_tables[rtb-c].routes[0].target: \"eni-c1\": route "
                 "target belongs to vpc-a, not to vpc-c");
    expect_error(v, "route_tables", "rtb-c",
                 "{'id':'rtb-c','vpc':'vpc-c','routes':[{'destination':"
                 "'0.0.0.0/0','target':'eni-c9'}]}",
                 "no route target has this id");
    expect_error(v, "route_tables", "rtb-c",
                 "{'id':'rtb-c','vpc':'vpc-c','routes':[{'destination':"
                 "'10.1.0.0/16','target':'pcx-ab'}]}",
                 "peering connection between vpc-a and vpc-b does not "
                 "involve vpc-c");

    /* Unreferenced, they go. */
    expect_ok(v, "enis", "eni-a2", NULL, true);
    expect_ok(v, "route_tables", "rtb-c",
              "{'id':'rtb-c','vpc':'vpc-c','routes':[]}", true);
    expect_ok(v, "enis", "eni-c1", NULL, true);
    expect_ok(v, "enis", "eni-c2", NULL, true);
    expect_ok(v, "subnets", "subnet-c", NULL, true);
    vpc_validator_destroy(v);
}

static void
test_security_groups(void **state OVS_UNUSED)
{
    struct vpc_validator *v = load(PEERING);
    /* A rule naming a group of a peered VPC, then of an unpeered one. */
    expect_ok(v, "security_groups", "sg-a",
              "{'id':'sg-a','vpc':'vpc-a','ingress':[{'protocol':'tcp',"
              "'from_port':22,'to_port':22,'security_group':'sg-b'},"
              "{'protocol':'-1','security_group':'sg-a'}]}", true);
    expect_error(v, "security_groups", "sg-a",
                 "{'id':'sg-a','vpc':'vpc-a','ingress':[{'protocol':'tcp',"
                 "'from_port':22,'to_port':22,'security_group':'sg-c'}]}",
                 "$.security_groups[sg-a].ingress[0].security_group: "
                 "\"sg-c\": belongs to vpc-c, which is neither vpc-a nor "
                 "peered with it");
    expect_error(v, "security_groups", "sg-b", NULL,
                 "$.security_groups[sg-a].ingress[0].security_group: "
                 "\"sg-b\": no security group has this id");
    /* A new group naming itself. */
    expect_ok(v, "security_groups", "sg-a2",
              "{'id':'sg-a2','vpc':'vpc-a','egress':[{'protocol':'-1',"
              "'security_group':'sg-a2'}]}", true);
    expect_ok(v, "security_groups", "sg-a2", NULL, true);
    /* Moving a group to another VPC strands its ENIs. */
    expect_error(v, "security_groups", "sg-c",
                 "{'id':'sg-c','vpc':'vpc-b'}",
                 "$.enis[eni-c1].security_groups[0]: \"sg-c\": security "
                 "group belongs to vpc-b, not to vpc-c");

    /* Unpeering vpc-a and vpc-b strands sg-a's rule naming sg-b. */
    expect_ok(v, "route_tables", "rtb-a",
              "{'id':'rtb-a','vpc':'vpc-a'}", true);
    expect_ok(v, "route_tables", "rtb-b",
              "{'id':'rtb-b','vpc':'vpc-b','routes':[{'destination':"
              "'10.9.0.0/16','target':'blackhole'}]}", true);
    expect_error(v, "peering_connections", "pcx-ab", NULL,
                 "$.security_groups[sg-a].ingress[0].security_group: "
                 "\"sg-b\": belongs to vpc-b, which is neither vpc-a nor "
                 "peered with it");
    expect_ok(v, "security_groups", "sg-a",
              "{'id':'sg-a','vpc':'vpc-a'}", true);
    expect_ok(v, "peering_connections", "pcx-ab", NULL, true);
    expect_ok(v, "peering_connections", "pcx-ab2",
              "{'id':'pcx-ab2','requester_vpc':'vpc-b',"
              "'accepter_vpc':'vpc-a'}", true);
    expect_error(v, "peering_connections", "pcx-ab3",
                 "{'id':'pcx-ab3','requester_vpc':'vpc-a',"
                 "'accepter_vpc':'vpc-b'}",
                 "vpc-a and vpc-b are already peered by pcx-ab2");
    expect_error(v, "peering_connections", "pcx-aa",
                 "{'id':'pcx-aa','requester_vpc':'vpc-a',"
                 "'accepter_vpc':'vpc-a'}",
                 "a VPC cannot peer with itself (vpc-a)");

    /* A peering that changes VPCs: sg-a's rule naming sg-b needs vpc-a and
     * vpc-b peered; rtb-b's route through it needs vpc-b in it. */
    expect_ok(v, "security_groups", "sg-a",
              "{'id':'sg-a','vpc':'vpc-a','ingress':[{'protocol':'-1',"
              "'security_group':'sg-b'}]}", true);
    expect_error(v, "peering_connections", "pcx-ab2",
                 "{'id':'pcx-ab2','requester_vpc':'vpc-b',"
                 "'accepter_vpc':'vpc-c'}",
                 "$.security_groups[sg-a].ingress[0].security_group: "
                 "\"sg-b\": belongs to vpc-b, which is neither vpc-a nor "
                 "peered with it");
    expect_ok(v, "peering_connections", "pcx-ab2",
              "{'id':'pcx-ab2','requester_vpc':'vpc-a',"
              "'accepter_vpc':'vpc-b'}", true);
    expect_ok(v, "route_tables", "rtb-b",
              "{'id':'rtb-b','vpc':'vpc-b','routes':[{'destination':"
              "'10.1.0.0/16','target':'pcx-ab2'}]}", true);
    expect_ok(v, "security_groups", "sg-a", "{'id':'sg-a','vpc':'vpc-a'}",
              true);
    expect_error(v, "peering_connections", "pcx-ab2",
                 "{'id':'pcx-ab2','requester_vpc':'vpc-a',"
                 "'accepter_vpc':'vpc-c'}",
                 "$.route_tables[rtb-b].routes[0].target: \"pcx-ab2\": "
                 "peering connection between vpc-a and vpc-c does not "
                 "involve vpc-b");
    vpc_validator_destroy(v);
}

static void
test_routes_and_subnets(void **state OVS_UNUSED)
{
    struct vpc_validator *v = load(PEERING);
    expect_ok(v, "route_tables", "rtb-a",
              "{'id':'rtb-a','vpc':'vpc-a','routes':[{'destination':"
              "'10.2.0.0/16','target':'pcx-ab'},{'destination':"
              "'192.168.0.0/16','target':'eni-a2'}]}", true);
    expect_error(v, "route_tables", "rtb-a",
                 "{'id':'rtb-a','vpc':'vpc-a','routes':[{'destination':"
                 "'10.1.0.0/16','target':'blackhole'}]}",
                 "equals the local route of vpc-a");
    expect_error(v, "route_tables", "rtb-a",
                 "{'id':'rtb-a','vpc':'vpc-b'}",
                 "$.subnets[subnet-a].route_table: \"rtb-a\": route table "
                 "belongs to vpc-b, not to vpc-a");
    expect_ok(v, "subnets", "subnet-a2",
              "{'id':'subnet-a2','vpc':'vpc-a','cidr':'10.1.2.0/24',"
              "'route_table':'rtb-a'}", true);
    expect_error(v, "subnets", "subnet-a3",
                 "{'id':'subnet-a3','vpc':'vpc-a','cidr':'10.1.0.0/22'}",
                 "$.subnets[subnet-a3].cidr: \"10.1.0.0/22\": overlaps "
                 "subnet-a2 of the same VPC");
    expect_error(v, "subnets", "subnet-a3",
                 "{'id':'subnet-a3','vpc':'vpc-a','cidr':'10.1.1.128/25'}",
                 "overlaps subnet-a of the same VPC");
    expect_error(v, "subnets", "subnet-a3",
                 "{'id':'subnet-a3','vpc':'vpc-a','cidr':'10.9.1.0/24'}",
                 "not inside any CIDR block of vpc-a");
    expect_error(v, "subnets", "subnet-a3",
                 "{'id':'subnet-a3','vpc':'vpc-a','cidr':'10.1.3.0/24',"
                 "'route_table':'rtb-b'}",
                 "route table belongs to vpc-b, not to vpc-a");
    /* The same CIDR in another VPC is fine. */
    expect_ok(v, "subnets", "subnet-b2",
              "{'id':'subnet-b2','vpc':'vpc-b','cidr':'10.2.2.0/24'}", true);
    /* Replacing a subnet's route table or CIDR is incremental, its VPC
     * not. */
    expect_ok(v, "subnets", "subnet-b2",
              "{'id':'subnet-b2','vpc':'vpc-b','cidr':'10.2.2.0/24',"
              "'route_table':'rtb-b'}", true);
    expect_error(v, "subnets", "subnet-b2",
                 "{'id':'subnet-b2','vpc':'vpc-b','cidr':'10.2.2.0/24',"
                 "'route_table':'rtb-a'}",
                 "$.subnets[subnet-b2].route_table: \"rtb-a\": route table "
                 "belongs to vpc-a, not to vpc-b");
    expect_ok(v, "subnets", "subnet-b2",
              "{'id':'subnet-b2','vpc':'vpc-b','cidr':'10.2.3.0/24'}", true);
    /* subnet-b is earlier than subnet-b2: the overlap is reported on
     * subnet-b2 whichever changes. */
    expect_error(v, "subnets", "subnet-b",
                 "{'id':'subnet-b','vpc':'vpc-b','cidr':'10.2.0.0/22',"
                 "'route_table':'rtb-b'}",
                 "$.subnets[subnet-b2].cidr: \"10.2.3.0/24\": overlaps "
                 "subnet-b of the same VPC");
    /* Shrinking subnet-b strands eni-b2 (10.2.1.20). */
    expect_error(v, "subnets", "subnet-b",
                 "{'id':'subnet-b','vpc':'vpc-b','cidr':'10.2.1.0/28',"
                 "'route_table':'rtb-b'}",
                 "$.enis[eni-b2].private_ip: \"10.2.1.20\": not inside "
                 "subnet-b (\"10.2.1.0/28\")");
    expect_ok(v, "subnets", "subnet-b2",
              "{'id':'subnet-b2','vpc':'vpc-c','cidr':'10.3.3.0/24'}",
              false);
    /* Pass 2 refuses before any fallback. */
    expect_error(v, "subnets", "subnet-b2",
                 "{'id':'subnet-b2','vpc':'vpc-b','cidr':'10.2.3.0/24',"
                 "'bogus':1}", "unknown key");
    expect_error(v, "subnets", "subnet-b2",
                 "{'id':'subnet-b2','vpc':'vpc-c','cidr':'10.3.4.0/30'}",
                      "a subnet must be /28 or larger");
    vpc_validator_destroy(v);
}

static void
test_hosts_nacls_prefix_lists(void **state OVS_UNUSED)
{
    struct vpc_validator *v = load(PEERING);
    expect_error(v, "hosts", "host-c",
                 "{'id':'host-c','underlay_ip':'192.168.100.1'}",
                 "$.hosts[host-c].underlay_ip: \"192.168.100.1\": underlay "
                 "address already used by another host or edge");
    /* host-a is earlier than host-b: the clash is reported on host-b. */
    expect_error(v, "hosts", "host-a",
                 "{'id':'host-a','underlay_ip':'192.168.100.2'}",
                 "$.hosts[host-b].underlay_ip: \"192.168.100.2\": underlay "
                 "address already used by another host or edge");
    expect_ok(v, "hosts", "host-a",
              "{'id':'host-a','underlay_ip':'192.168.100.7'}", true);
    expect_ok(v, "hosts", "host-c",
              "{'id':'host-c','underlay_ip':'192.168.100.1'}", true);
    expect_ok(v, "hosts", "host-c", NULL, true);
    /* A host with the id of a later collection's object takes it from that
     * object's referrers (ids register in collection order). */
    expect_error_full(v, "hosts", "subnet-c",
                      "{'id':'subnet-c','underlay_ip':'192.168.100.8'}",
                      "$.enis[eni-c1].subnet: \"subnet-c\": is a host, not "
                      "a subnet");

    expect_error(v, "network_acls", "acl-a",
                 "{'id':'acl-a','vpc':'vpc-a','ingress':[{'rule_number':1,"
                 "'action':'allow','protocol':'-1','cidr':'0.0.0.0/0'},"
                 "{'rule_number':1,'action':'deny','protocol':'-1',"
                 "'cidr':'0.0.0.0/0'}]}",
                 "duplicate rule number in ingress rules");
    expect_ok(v, "network_acls", "acl-a",
              "{'id':'acl-a','vpc':'vpc-a','ingress':[{'rule_number':1,"
              "'action':'allow','protocol':'-1','cidr':'0.0.0.0/0'}]}",
              true);
    expect_ok(v, "subnets", "subnet-a2",
              "{'id':'subnet-a2','vpc':'vpc-a','cidr':'10.1.2.0/24',"
              "'network_acl':'acl-a'}", true);
    expect_error(v, "network_acls", "acl-a", "{'id':'acl-a','vpc':'vpc-b'}",
                 "$.subnets[subnet-a2].network_acl: \"acl-a\": network "
                 "ACL belongs to vpc-b, not to vpc-a");
    expect_error(v, "network_acls", "acl-a", NULL,
                 "$.subnets[subnet-a2].network_acl: \"acl-a\": no network "
                 "ACL has this id");

    expect_ok(v, "prefix_lists", "pl-x",
              "{'id':'pl-x','cidrs':['192.0.2.0/24']}", true);
    expect_ok(v, "route_tables", "rtb-c",
              "{'id':'rtb-c','vpc':'vpc-c','routes':[{"
              "'destination_prefix_list':'pl-x','target':'blackhole'}]}",
              true);
    expect_error(v, "prefix_lists", "pl-x", "{'id':'pl-x','cidrs':['x']}",
                 "$.prefix_lists[pl-x].cidrs[0]: \"x\": not an IPv4 prefix");
    expect_error(v, "prefix_lists", "pl-x", NULL,
                 "$.route_tables[rtb-c].routes[0].destination_prefix_list: "
                 "\"pl-x\": no prefix list has this id");
    vpc_validator_destroy(v);
}

static void
test_gateways(void **state OVS_UNUSED)
{
    /* examples/edge.json: vpc-shop with igw-shop, nat-shop, dxvif-shop
     * (S-tag 100, C-tag 200), vpce-s3 (subnet-private only), all on the
     * only edge, edge-1; rtb-public and rtb-private route to them. */
    struct vpc_validator *v = load("examples/edge.json");
    expect_error(v, "internet_gateways", "igw-shop2",
                 "{'id':'igw-shop2','vpc':'vpc-shop'}",
                 "$.internet_gateways[igw-shop2].vpc: \"vpc-shop\": a VPC "
                 "has at most one internet gateway; igw-shop is already "
                 "attached");
    expect_error(v, "internet_gateways", "igw-shop", NULL,
                 "$.route_tables[rtb-public].routes[0].target: \"igw-shop\""
                 ": no route target has this id");
    expect_error(v, "direct_connect", "dxvif-2",
                 "{'id':'dxvif-2','vpc':'vpc-shop','s_tag':100,'c_tag':200,"
                 "'onprem_prefixes':['192.168.0.0/16']}",
                 "$.direct_connect[dxvif-2].c_tag: 200: S-tag 100 and C-tag "
                 "200 are already used by dxvif-shop on the same edge");
    expect_ok(v, "direct_connect", "dxvif-2",
              "{'id':'dxvif-2','vpc':'vpc-shop','s_tag':100,'c_tag':201,"
              "'onprem_prefixes':['192.168.0.0/16']}", true);
    /* dxvif-shop is the earlier: a clash is reported on dxvif-2. */
    expect_error(v, "direct_connect", "dxvif-shop",
                 "{'id':'dxvif-shop','vpc':'vpc-shop','s_tag':100,"
                 "'c_tag':201,'onprem_prefixes':['172.16.0.0/12']}",
                 "$.direct_connect[dxvif-2].c_tag: 201: S-tag 100 and C-tag "
                 "201 are already used by dxvif-shop on the same edge");
    expect_ok(v, "direct_connect", "dxvif-2", NULL, true);
    expect_error(v, "vpc_endpoints", "vpce-s3",
                 "{'id':'vpce-s3','vpc':'vpc-shop','service':'s3',"
                 "'prefix_list':'pl-s3','allowed_subnets':['subnet-nope']}",
                 "$.vpc_endpoints[vpce-s3].allowed_subnets[0]: "
                 "\"subnet-nope\": no subnet has this id");
    expect_error(v, "nat_gateways", "nat-2",
                 "{'id':'nat-2','subnet':'subnet-public',"
                 "'elastic_ip':'203.0.113.21','edge':'edge-9'}",
                 "$.nat_gateways[nat-2].edge: \"edge-9\": no edge has this "
                 "id");
    expect_ok(v, "nat_gateways", "nat-2",
              "{'id':'nat-2','subnet':'subnet-public',"
              "'elastic_ip':'203.0.113.21'}", true);
    expect_ok(v, "route_tables", "rtb-public",
              "{'id':'rtb-public','vpc':'vpc-shop','routes':[{"
              "'destination':'0.0.0.0/0','target':'nat-2'}]}", true);
    /* eni-web's and eni-app's elastic IPs need vpc-shop's gateway. */
    expect_error(v, "internet_gateways", "igw-shop", NULL,
                 "$.enis[eni-web].elastic_ip: \"203.0.113.10\": vpc-shop "
                 "has no internet gateway: an elastic IP is reachable only "
                 "through one");
    vpc_validator_destroy(v);
}

/* An elastic IP needs an internet gateway on its ENI's VPC and is not a
 * private IP of any ENI, checked on the ENI that has it, whichever of the
 * two changes. */
static void
test_elastic_ips(void **state OVS_UNUSED)
{
    /* examples/edge.json: eni-web 10.30.1.10 (203.0.113.10), eni-noeip
     * 10.30.1.11, eni-app 10.30.2.10 (203.0.113.11), all in vpc-shop,
     * which has igw-shop; subnet-public 10.30.1.0/24. */
    struct vpc_validator *v = load("examples/edge.json");
#define ENI_X(IP, EIP)                                                   \
    "{'id':'eni-x','subnet':'subnet-public','host':'host-a',"           \
    "'mac':'02:00:00:1e:01:63','private_ip':'" IP "'" EIP "}"
    expect_error(v, "enis", "eni-x", ENI_X("10.30.1.99",
                                           ",'elastic_ip':'10.30.1.11'"),
                 "$.enis[eni-x].elastic_ip: \"10.30.1.11\": is the private "
                 "IP of eni-noeip (vpc-shop): an elastic IP is a public "
                 "address, distinct from every private one");
    expect_error(v, "enis", "eni-x", ENI_X("10.30.1.99",
                                           ",'elastic_ip':'10.30.1.99'"),
                 "$.enis[eni-x].elastic_ip: \"10.30.1.99\": is the private "
                 "IP of eni-x (vpc-shop)");
    /* A private IP that is another ENI's elastic IP: reported on that
     * one. */
    expect_ok(v, "vpcs", "vpc-pub",
              "{'id':'vpc-pub','cidr_blocks':['203.0.113.0/24'],"
              "'vni':4321}", true);
    expect_ok(v, "subnets", "subnet-pub",
              "{'id':'subnet-pub','vpc':'vpc-pub',"
              "'cidr':'203.0.113.0/26'}", true);
    expect_error(v, "enis", "eni-p",
                 "{'id':'eni-p','subnet':'subnet-pub','host':'host-a',"
                 "'mac':'02:00:00:cb:00:0a','private_ip':'203.0.113.10'}",
                 "$.enis[eni-web].elastic_ip: \"203.0.113.10\": is the "
                 "private IP of eni-p (vpc-pub)");
    /* vpc-pub has no internet gateway. */
    expect_error(v, "enis", "eni-p",
                 "{'id':'eni-p','subnet':'subnet-pub','host':'host-a',"
                 "'mac':'02:00:00:cb:00:0a','private_ip':'203.0.113.20',"
                 "'elastic_ip':'198.51.100.20'}",
                 "$.enis[eni-p].elastic_ip: \"198.51.100.20\": vpc-pub has "
                 "no internet gateway");
    expect_ok(v, "internet_gateways", "igw-pub",
              "{'id':'igw-pub','vpc':'vpc-pub'}", true);
    expect_ok(v, "enis", "eni-p",
              "{'id':'eni-p','subnet':'subnet-pub','host':'host-a',"
              "'mac':'02:00:00:cb:00:0a','private_ip':'203.0.113.20',"
              "'elastic_ip':'198.51.100.20'}", true);
    expect_error(v, "internet_gateways", "igw-pub", NULL,
                 "$.enis[eni-p].elastic_ip: \"198.51.100.20\": vpc-pub has "
                 "no internet gateway");
    /* Moving the gateway to another VPC is checked too (whole). */
    expect_ok(v, "vpcs", "vpc-pub2",
              "{'id':'vpc-pub2','cidr_blocks':['198.18.0.0/16'],"
              "'vni':4322}", true);
    expect_error_full(v, "internet_gateways", "igw-pub",
                      "{'id':'igw-pub','vpc':'vpc-pub2'}",
                      "$.enis[eni-p].elastic_ip: \"198.51.100.20\": "
                      "vpc-pub has no internet gateway");
    expect_ok(v, "enis", "eni-p", NULL, true);
    expect_ok(v, "internet_gateways", "igw-pub", NULL, true);
#undef ENI_X
    vpc_validator_destroy(v);
}

static void
test_flow_logs(void **state OVS_UNUSED)
{
    struct vpc_validator *v = load(PEERING);
    expect_ok(v, "flow_logs", "fl-a1",
              "{'id':'fl-a1','resource':'eni-a1','traffic_type':'ALL'}",
              true);
    expect_ok(v, "flow_logs", "fl-sa",
              "{'id':'fl-sa','resource':'subnet-a','traffic_type':'REJECT',"
              "'max_aggregation_interval':60}", true);
    expect_ok(v, "flow_logs", "fl-va",
              "{'id':'fl-va','resource':'vpc-a','traffic_type':'ACCEPT'}",
              true);
    expect_error(v, "flow_logs", "fl-a1b",
                 "{'id':'fl-a1b','resource':'eni-a1','traffic_type':'ALL'}",
                 "$.flow_logs[fl-a1b].traffic_type: \"ALL\": fl-a1 already "
                 "logs this traffic of eni-a1 (a resource has at most one "
                 "flow log per traffic type)");
    expect_ok(v, "flow_logs", "fl-a1b",
              "{'id':'fl-a1b','resource':'eni-a1','traffic_type':'REJECT'}",
              true);
    /* fl-a1 is the earlier: the clash is reported on fl-a1b. */
    expect_error(v, "flow_logs", "fl-a1",
                 "{'id':'fl-a1','resource':'eni-a1','traffic_type':'REJECT'}",
                 "$.flow_logs[fl-a1b].traffic_type: \"REJECT\": fl-a1 "
                 "already logs this traffic of eni-a1 (a resource has at "
                 "most one flow log per traffic type)");
    expect_error(v, "flow_logs", "fl-x",
                 "{'id':'fl-x','resource':'sg-a','traffic_type':'ALL'}",
                 "$.flow_logs[fl-x].resource: \"sg-a\": is a security "
                 "group: a flow log's resource is a network interface, a "
                 "subnet or a VPC");
    expect_error(v, "flow_logs", "fl-x",
                 "{'id':'fl-x','resource':'eni-zz','traffic_type':'ALL'}",
                 "$.flow_logs[fl-x].resource: \"eni-zz\": no network "
                 "interface, subnet or VPC has this id");
    expect_error(v, "flow_logs", "fl-x",
                 "{'id':'fl-x','resource':'eni-a2','traffic_type':'all'}",
                 "$.flow_logs[fl-x].traffic_type: \"all\": must be "
                 "\"ACCEPT\", \"REJECT\" or \"ALL\"");
    expect_error(v, "flow_logs", "fl-x",
                 "{'id':'fl-x','resource':'eni-a2','traffic_type':'ALL',"
                 "'max_aggregation_interval':120}",
                 "$.flow_logs[fl-x].max_aggregation_interval: 120: must be "
                 "60 or 600 (seconds, as in AWS)");
    /* The ENI a flow log names cannot go while it does. */
    expect_error(v, "enis", "eni-a1", NULL,
                 "$.flow_logs[fl-a1].resource: \"eni-a1\": no network "
                 "interface, subnet or VPC has this id");
    expect_ok(v, "flow_logs", "fl-a1", NULL, true);
    vpc_validator_destroy(v);
}

static void
test_fallback(void **state OVS_UNUSED)
{
    struct vpc_validator *v = load(PEERING);
    /* A VPC change is incremental: a block change strands the subnets,
     * a VNI taken by a later VPC is reported on it, a new block equal to a
     * route's destination clashes with the local route. */
    expect_error(v, "vpcs", "vpc-c",
                 "{'id':'vpc-c','cidr_blocks':['10.4.0.0/16'],'vni':103}",
                 "$.subnets[subnet-c].cidr: \"10.3.1.0/24\": not inside any "
                 "CIDR block of vpc-c");
    expect_error(v, "vpcs", "vpc-a",
                 "{'id':'vpc-a','cidr_blocks':['10.1.0.0/16'],'vni':102}",
                 "$.vpcs[vpc-b].vni: 102: duplicate VNI: already used by "
                 "vpc-a");
    expect_error(v, "vpcs", "vpc-a",
                 "{'id':'vpc-a','cidr_blocks':['10.1.0.0/16','10.2.0.0/16'],"
                 "'vni':101}",
                 "$.peering_connections[pcx-ab]: vpc-a and vpc-b have "
                 "overlapping CIDR blocks and cannot be peered");
    expect_ok(v, "vpcs", "vpc-a",
              "{'id':'vpc-a','cidr_blocks':['10.1.0.0/16','10.9.0.0/16'],"
              "'vni':111}", true);
    expect_error(v, "route_tables", "rtb-a",
                 "{'id':'rtb-a','vpc':'vpc-a','routes':[{'destination':"
                 "'10.9.0.0/16','target':'blackhole'}]}",
                 "equals the local route of vpc-a");
    /* Peerings survive a replaced VPC: sg-a may still name sg-b. */
    expect_ok(v, "security_groups", "sg-a",
              "{'id':'sg-a','vpc':'vpc-a','ingress':[{'protocol':'-1',"
              "'security_group':'sg-b'}]}", true);
    expect_ok(v, "edges", "edge-1",
              "{'id':'edge-1','underlay_ip':'192.168.100.9'}", false);
    /* Replacing an edge is incremental; an edge is later than every
     * host. */
    expect_ok(v, "edges", "edge-1",
              "{'id':'edge-1','underlay_ip':'192.168.100.8'}", true);
    expect_error(v, "edges", "edge-1",
                 "{'id':'edge-1','underlay_ip':'192.168.100.1'}",
                 "$.edges[edge-1].underlay_ip: \"192.168.100.1\": underlay "
                 "address already used by another host or edge");
    expect_error(v, "hosts", "host-a",
                 "{'id':'host-a','underlay_ip':'192.168.100.8'}",
                 "$.edges[edge-1].underlay_ip: \"192.168.100.8\": underlay "
                 "address already used by another host or edge");
    expect_ok(v, "edges", "edge-1", NULL, false);
    expect_ok(v, "hosts", "host-c",
              "{'id':'host-c','underlay_ip':'192.168.100.3'}", true);
    /* Incremental again after a fallback. */
    expect_ok(v, "enis", "eni-a3",
              ENI("eni-a3", "subnet-a", "host-c", "02:00:00:0a:01:1e",
                  "10.1.1.30", "'sg-a'"), true);
    expect_error(v, "hosts", "host-c", NULL,
                 "$.enis[eni-a3].host: \"host-c\": no host has this id");
    expect_error(v, "vpcs", "vpc-c", NULL,
                 "$.subnets[subnet-c].vpc: \"vpc-c\": no VPC has this "
                 "id");
    vpc_validator_destroy(v);
}

/* ------------------------------------------------------ property tests */

static uint64_t rng_state;

static uint32_t
rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (rng_state >> 11) % n : 0;
}

/* Every value of every key anywhere in 'j', by key, to draw from. */
static void
collect_pool(const struct json *j, struct shash *pool)
{
    if (j->type == JSON_OBJECT) {
        struct shash_node *node;
        SHASH_FOR_EACH (node, json_object(j)) {
            struct json *list = shash_find_data(pool, node->name);
            if (!list) {
                list = json_array_create_empty();
                shash_add(pool, node->name, list);
            }
            json_array_add(list, json_clone(node->data));
            collect_pool(node->data, pool);
        }
    } else if (j->type == JSON_ARRAY) {
        for (size_t i = 0; i < json_array(j)->n; i++) {
            collect_pool(json_array(j)->elems[i], pool);
        }
    }
}

static const struct json *
pool_pick(const struct shash *pool, const char *key)
{
    const struct json *list = shash_find_data(pool, key);
    if (!list || !json_array(list)->n) {
        return NULL;
    }
    return json_array(list)->elems[rnd(json_array(list)->n)];
}

/* A random id of the document, or an unknown one. */
static struct json *
random_id(const struct shash *pool)
{
    const struct json *id = pool_pick(pool, "id");
    return id && rnd(8) ? json_clone(id) : json_string_create("eni-nope");
}

/* A random change to one string 's' found under 'key'. */
static struct json *
mutate_string(const char *key, const char *s, const struct shash *pool)
{
    uint32_t ip;
    struct vpc_prefix p;
    switch (rnd(4)) {
    case 0:
        return random_id(pool);
    case 1: {
        /* Private and elastic IPs are also drawn from each other's pools:
         * an elastic IP must not be a private IP. */
        const char *other = (!strcmp(key, "elastic_ip") ? "private_ip"
                             : !strcmp(key, "private_ip") ? "elastic_ip"
                             : NULL);
        const struct json *o = pool_pick(pool, other && rnd(2) ? other
                                                               : key);
        if (o) {
            return json_clone(o);
        }
        break;
    }
    default:
        break;
    }
    if (vpc_ip_parse(s, &ip)) {
        ip = rnd(2) ? (ip & ~0xffu) | rnd(256) : ip + rnd(3) - 1;
        return json_string_create_nocopy(vpc_ip_to_string(ip));
    } else if (vpc_prefix_parse(s, &p)) {
        p.plen = rnd(33);
        p.addr = (p.addr | rnd(1 << 12) << 8) & vpc_prefix_mask(&p);
        return json_string_create_nocopy(vpc_prefix_to_string(&p));
    } else if (strchr(s, ':') && strlen(s) == 17) {
        char *mac = xstrdup(s);
        mac[16] = "0123456789abcdef"[rnd(16)];
        return json_string_create_nocopy(mac);
    }
    return random_id(pool);
}

static void mutate_object(struct json *obj, const struct shash *pool,
                          int depth);

/* A random change to 'j' (under 'key'), or NULL to drop it. */
static struct json *
mutate_value(const char *key, const struct json *j, const struct shash *pool,
             int depth)
{
    if (!rnd(20)) {
        return NULL;
    }
    if (!rnd(30)) {
        return json_integer_create(7);
    }
    switch (j->type) {
    case JSON_STRING:
        return mutate_string(key, json_string(j), pool);
    case JSON_INTEGER:
        return json_integer_create(rnd(2) ? json_integer(j) + 1 : rnd(70000));
    case JSON_TRUE:
    case JSON_FALSE:
        return json_boolean_create(j->type == JSON_FALSE);
    case JSON_OBJECT: {
        struct json *copy = json_deep_clone(j);
        mutate_object(copy, pool, depth + 1);
        return copy;
    }
    case JSON_ARRAY: {
        struct json *copy = json_deep_clone(j);
        struct json_array *a = json_array(copy);
        uint32_t what = rnd(3);
        if (what == 0 && a->n) {
            size_t i = rnd(a->n);
            json_destroy(a->elems[i]);
            memmove(&a->elems[i], &a->elems[i + 1],
                    (a->n - i - 1) * sizeof *a->elems);
            a->n--;
        } else if (what == 1 && a->n) {
            size_t i = rnd(a->n);
            struct json *e = mutate_value(key, a->elems[i], pool, depth + 1);
            json_destroy(a->elems[i]);
            a->elems[i] = e ? e : json_null_create();
        } else {
            /* An element like one of another object's 'key'. */
            const struct json *other = pool_pick(pool, key);
            if (other && other->type == JSON_ARRAY
                && json_array(other)->n) {
                const struct json_array *oa = json_array(other);
                json_array_add(copy,
                               json_deep_clone(oa->elems[rnd(oa->n)]));
            } else {
                json_array_add(copy, random_id(pool));
            }
        }
        return copy;
    }
    case JSON_NULL:
    case JSON_REAL:
    case JSON_SERIALIZED_OBJECT:
    case JSON_N_TYPES:
    default:
        return json_clone(j);
    }
}

static void
mutate_object(struct json *obj, const struct shash *pool, int depth)
{
    struct shash *members = json_object(obj);
    size_t n = shash_count(members);
    if (!n || depth > 3) {
        return;
    }
    const struct shash_node **nodes = shash_sort(members);
    const struct shash_node *node = nodes[rnd(n)];
    free(nodes);
    if (depth == 0 && !strcmp(node->name, "id")) {
        return;
    }
    struct json *nv = mutate_value(node->name, node->data, pool, depth);
    if (nv) {
        json_object_put(obj, node->name, nv);
    } else {
        json_destroy(shash_find_and_delete(members, node->name));
    }
}

/* Makes 'n' random one-object changes to the validator of 'file' (or of
 * 'doc'), each checked against whole validation; stops early after
 * 'max_seconds'. */
static void
run_property(struct json *doc, unsigned int n, double max_seconds)
{
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_validator *v = vpc_validator_create(doc, &errs);
    if (!v) {
        fail_msg("%s", errs.n ? errs.msgs[0] : "?");
    }
    struct shash pool = SHASH_INITIALIZER(&pool);
    collect_pool(doc, &pool);

    static const char *const weighted[] = {
        "enis", "enis", "enis", "enis", "security_groups",
        "security_groups", "route_tables", "route_tables",
        "peering_connections", "subnets", "subnets", "hosts",
        "network_acls", "prefix_lists", "internet_gateways", "nat_gateways",
        "direct_connect", "vpc_endpoints", "edges", "flow_logs",
        "flow_logs",
    };
    struct stats st = { 0 };
    clock_t start = clock();
    for (unsigned int k = 0; k < n; k++) {
        if ((double) (clock() - start) / CLOCKS_PER_SEC > max_seconds) {
            break;
        }
        const char *coll;
        if (rnd(6)) {
            coll = weighted[rnd(ARRAY_SIZE(weighted))];
        } else {
            coll = vpc_collection_key(rnd(vpc_collection_count()));
        }
        const struct json *a = shash_find_data(
            json_object(vpc_validator_document(v)), coll);
        size_t na = a ? json_array(a)->n : 0;
        const struct json *victim = na ? json_array(a)->elems[rnd(na)] : NULL;

        uint32_t op = victim ? rnd(3) : 2;
        struct json *obj = NULL;
        char *id;
        if (op == 0) {
            /* Delete. */
            id = xstrdup(id_of(victim));
        } else if (op == 1) {
            /* Replace with one change. */
            id = xstrdup(id_of(victim));
            obj = json_deep_clone(victim);
            mutate_object(obj, &pool, 0);
            if (!rnd(4)) {
                mutate_object(obj, &pool, 0);
            }
            if (!rnd(40)) {
                /* A replacement without a usable id: its referrers see the
                 * object gone. */
                if (rnd(2)) {
                    json_object_put(obj, "id", json_integer_create(1));
                } else {
                    json_destroy(obj);
                    obj = json_string_create("junk");
                }
            }
        } else {
            /* Insert a copy of an object with a new id, one or two changes,
             * or something stranger. */
            const struct json *model = victim;
            if (!model) {
                model = pool_pick(&pool, coll);
                model = (model && model->type == JSON_ARRAY
                         && json_array(model)->n
                         ? json_array(model)->elems[0] : NULL);
            }
            const char *mid = model ? id_of(model) : NULL;
            const char *dash = mid ? strchr(mid, '-') : NULL;
            char *prefix = dash ? xmemdup0(mid, dash - mid + 1)
                                : xstrdup("x-");
            if (rnd(40)) {
                id = xasprintf("%snew%u", prefix, rnd(50));
            } else {
                struct json *rid = random_id(&pool);
                id = xstrdup(json_string(rid));
                json_destroy(rid);
            }
            free(prefix);
            if (model && model->type == JSON_OBJECT && rnd(30)) {
                obj = json_deep_clone(model);
                json_object_put_string(obj, "id", id);
                mutate_object(obj, &pool, 0);
                if (rnd(2)) {
                    mutate_object(obj, &pool, 0);
                }
            } else {
                obj = rnd(2) ? json_string_create("junk") : J("{}");
            }
        }
        apply_checked(v, coll, id, obj, NULL, &st);
        json_destroy(obj);
        free(id);
    }
    print_message("%u changes: %u accepted, %u incremental "
                  "(%u of them accepted); affected hosts equal to the "
                  "walk's on all, %u with some host (%u where the walk "
                  "on one document differs)\n", st.n, st.accepted,
                  st.incremental, st.incremental_accepted,
                  st.hosts_nonempty, st.hosts_one_doc);
    /* Not vacuous: both verdicts, mostly incremental. */
    assert_true(st.accepted > st.n / 50);
    assert_true(st.n - st.accepted > st.n / 50);
    assert_true(st.incremental_accepted > st.n / 50);
    assert_true(st.hosts_nonempty > st.accepted / 5);

    struct shash_node *node;
    SHASH_FOR_EACH (node, &pool) {
        json_destroy(node->data);
    }
    shash_destroy(&pool);
    vpc_validator_destroy(v);
    vpc_errors_destroy(&errs);
}

static void
test_property_examples(void **state OVS_UNUSED)
{
    static const char *const files[] = {
        "examples/region.json", "examples/peering.json",
        "examples/web-tier.json", "examples/edge.json", "examples/lpm.json",
        "examples/overlapping-ips.json", "examples/azure-precedence.json",
        "examples/vpn.json",
    };
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        print_message("%s: ", files[i]);
        struct json *doc = read_json_file(files[i]);
        run_property(doc, 1500, 20.0);
        json_destroy(doc);
    }

    /* Flow logs, which no example has: peering.json with one of each
     * resource kind and traffic type. */
    print_message("examples/peering.json with flow logs: ");
    struct json *doc = read_json_file(PEERING);
    json_object_put(doc, "flow_logs", J(
        "[{'id':'fl-a1','resource':'eni-a1','traffic_type':'ALL'},"
        "{'id':'fl-sb','resource':'subnet-b','traffic_type':'REJECT'},"
        "{'id':'fl-vc','resource':'vpc-c','traffic_type':'ACCEPT',"
        "'max_aggregation_interval':60},"
        "{'id':'fl-va','resource':'vpc-a','traffic_type':'ALL'}]"));
    run_property(doc, 1500, 20.0);
    json_destroy(doc);
}

static void
test_property_generated(void **state OVS_UNUSED)
{
    /* VALIDATOR_REGION=FILE [VALIDATOR_CHANGES=N]: the same on a region of
     * one's own instead (e.g. the benchmark's: ~1.5 s per change there,
     * most of it the whole validation that checks it). */
    const char *file = getenv("VALIDATOR_REGION");
    if (file) {
        const char *n = getenv("VALIDATOR_CHANGES");
        struct json *doc = read_json_file(file);
        run_property(doc, n ? atoi(n) : 100, 3600.0);
        json_destroy(doc);
        return;
    }

    FILE *f = popen("python3 bench/gen-region.py --vpcs 30 --enis 300 "
                    "--hosts 10 --peerings 6 --seed 3 2>/dev/null", "r");
    struct ds ds = DS_EMPTY_INITIALIZER;
    int c;
    while (f && (c = getc(f)) != EOF) {
        ds_put_char(&ds, c);
    }
    if (!f || !ds.length) {
        /* Not a silent pass: python3 is one of the project's dependencies
         * (bench/gen-region.py). */
        fail_msg("could not run python3 bench/gen-region.py");
    }
    pclose(f);
    struct json *doc = json_from_string(ds_cstr(&ds));
    ds_destroy(&ds);
    run_property(doc, 3000, 60.0);
    json_destroy(doc);
}

int
main(void)
{
    const char *seed = getenv("VALIDATOR_SEED");
    rng_state = seed ? strtoull(seed, NULL, 10) : 20261201;
    rng_state = rng_state ? rng_state : 1;
    print_message("seed %llu (VALIDATOR_SEED)\n",
                  (unsigned long long) rng_state);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eni_insert_delete),
        cmocka_unit_test(test_eni_address),
        cmocka_unit_test(test_eni_ip_other_vpc),
        cmocka_unit_test(test_eni_replace),
        cmocka_unit_test(test_eni_instance_id),
        cmocka_unit_test(test_delete_referenced),
        cmocka_unit_test(test_security_groups),
        cmocka_unit_test(test_routes_and_subnets),
        cmocka_unit_test(test_hosts_nacls_prefix_lists),
        cmocka_unit_test(test_gateways),
        cmocka_unit_test(test_elastic_ips),
        cmocka_unit_test(test_flow_logs),
        cmocka_unit_test(test_fallback),
        cmocka_unit_test(test_property_examples),
        cmocka_unit_test(test_property_generated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
