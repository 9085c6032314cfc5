/* translator/validator.c: validates one-object changes to a region, the
 * simple way (see validator.h).
 *
 * The validator keeps the region document as JSON.  A change is applied to
 * a copy of it, and the copy is validated whole by the translator
 * (vpc_region_from_string(), exactly 'vpcctl validate'): correct by
 * construction, and O(region) per change.  Error paths that name an object
 * of a collection by position ("$.enis[3]...") are rewritten to name it by
 * id ("$.enis[eni-web-a]..."), so that they mean something to a writer
 * that does not know the document's order.  An incremental implementation
 * may replace this file behind the same interface. */

#include <config.h>

#include "translator/validator.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "translator/model.h"
#include "util.h"

struct vpc_validator {
    struct json *doc;           /* The current region document. */
};

/* Returns the "id" string of 'obj', or NULL. */
static const char *
validator_obj_id(const struct json *obj)
{
    if (!obj || obj->type != JSON_OBJECT) {
        return NULL;
    }
    const struct json *id = shash_find_data(json_object(obj), "id");
    return id && id->type == JSON_STRING ? json_string(id) : NULL;
}

/* Rewrites "$.KEY[N]..." in 'msg' into "$.KEY[ID]..." where the N-th object
 * of collection KEY of 'doc' has id ID.  Returns a malloc'd string. */
static char *
validator_rewrite_path(const struct json *doc, const char *msg)
{
    if (strncmp(msg, "$.", 2)) {
        return xstrdup(msg);
    }
    const char *key = msg + 2;
    const char *lb = key;
    while (*lb && (isalnum((unsigned char) *lb) || *lb == '_')) {
        lb++;
    }
    if (*lb != '[' || !isdigit((unsigned char) lb[1])) {
        return xstrdup(msg);
    }
    char *end;
    unsigned long idx = strtoul(lb + 1, &end, 10);
    if (*end != ']') {
        return xstrdup(msg);
    }
    char *coll_name = xmemdup0(key, lb - key);
    const struct json *coll = shash_find_data(json_object(doc), coll_name);
    free(coll_name);
    const char *id = NULL;
    if (coll && coll->type == JSON_ARRAY && idx < json_array(coll)->n) {
        id = validator_obj_id(json_array(coll)->elems[idx]);
    }
    if (!id) {
        return xstrdup(msg);
    }
    return xasprintf("%.*s[%s]%s", (int) (lb - msg), msg, id, end + 1);
}

/* Validates 'doc' whole; on error, fills 'errors', with by-id paths if
 * 'by_id'. */
static bool
validator_check(const struct json *doc, bool by_id,
                struct vpc_errors *errors)
{
    char *s = json_to_string(doc, 0);
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_region *r = vpc_region_from_string(s, &errs);
    free(s);
    if (r) {
        vpc_region_destroy(r);
        vpc_errors_destroy(&errs);
        return true;
    }
    for (size_t i = 0; i < errs.n; i++) {
        char *m = (by_id ? validator_rewrite_path(doc, errs.msgs[i])
                   : xstrdup(errs.msgs[i]));
        if (errors->n >= errors->allocated) {
            errors->msgs = x2nrealloc(errors->msgs, &errors->allocated,
                                      sizeof *errors->msgs);
        }
        errors->msgs[errors->n++] = m;
    }
    vpc_errors_destroy(&errs);
    return false;
}

struct vpc_validator *
vpc_validator_create(const struct json *doc, struct vpc_errors *errors)
{
    if (!doc || doc->type != JSON_OBJECT) {
        vpc_errors_add(errors, "$", NULL,
                       "a region document must be a JSON object");
        return NULL;
    }
    if (!validator_check(doc, false, errors)) {
        return NULL;
    }
    struct vpc_validator *v = xzalloc(sizeof *v);
    v->doc = json_deep_clone(doc);
    return v;
}

void
vpc_validator_destroy(struct vpc_validator *v)
{
    if (v) {
        json_destroy(v->doc);
        free(v);
    }
}

/* The index of the object with 'id' in array 'coll', or -1. */
static long
validator_find(const struct json *coll, const char *id)
{
    if (!coll || coll->type != JSON_ARRAY) {
        return -1;
    }
    for (size_t i = 0; i < json_array(coll)->n; i++) {
        const char *oid = validator_obj_id(json_array(coll)->elems[i]);
        if (oid && !strcmp(oid, id)) {
            return i;
        }
    }
    return -1;
}

bool
vpc_validator_apply(struct vpc_validator *v, const char *collection,
                    const char *id, const struct json *obj,
                    struct vpc_errors *errors)
{
    char *base = xasprintf("$.%s[%s]", collection, id);
    bool ok = false;

    if (obj) {
        const char *oid = validator_obj_id(obj);
        if (!oid) {
            vpc_errors_add(errors, base, NULL, "must be a JSON object with "
                           "a string \"id\"");
            goto out;
        } else if (strcmp(oid, id)) {
            vpc_errors_add(errors, base, oid, "the object's id must be %s",
                           id);
            goto out;
        }
    }
    const struct json *cur = shash_find_data(json_object(v->doc),
                                             collection);
    if (cur && cur->type != JSON_ARRAY) {
        vpc_errors_add(errors, base, NULL, "%s is not a collection",
                       collection);
        goto out;
    }
    long idx = validator_find(cur, id);
    if (!obj && idx < 0) {
        vpc_errors_add(errors, base, NULL, "no such object");
        goto out;
    }

    /* The document with the change: a new top level and a new array for
     * the changed collection, sharing (json_clone() counts references)
     * every other value. */
    struct json *copy = json_object_create();
    struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(v->doc)) {
        if (strcmp(node->name, collection)) {
            json_object_put(copy, node->name, json_clone(node->data));
        }
    }
    struct json *arr = json_array_create_empty();
    size_t n = cur ? json_array(cur)->n : 0;
    for (size_t i = 0; i < n; i++) {
        if ((long) i != idx) {
            json_array_add(arr, json_clone(json_array(cur)->elems[i]));
        } else if (obj) {
            json_array_add(arr, json_deep_clone(obj));
        }
    }
    if (obj && idx < 0) {
        json_array_add(arr, json_deep_clone(obj));
    }
    if (json_array(arr)->n) {
        json_object_put(copy, collection, arr);
    } else {
        json_destroy(arr);
    }

    if (validator_check(copy, true, errors)) {
        json_destroy(v->doc);
        v->doc = copy;
        ok = true;
    } else {
        json_destroy(copy);
    }
out:
    free(base);
    return ok;
}

const struct json *
vpc_validator_get(const struct vpc_validator *v, const char *collection,
                  const char *id)
{
    const struct json *coll = shash_find_data(json_object(v->doc),
                                              collection);
    long idx = validator_find(coll, id);
    return idx >= 0 ? json_array(coll)->elems[idx] : NULL;
}

const struct json *
vpc_validator_document(const struct vpc_validator *v)
{
    return v->doc;
}

bool
vpc_validator_last_was_incremental(const struct vpc_validator *v OVS_UNUSED)
{
    return false;
}
