/* tests/unit/test-validator-api.c: unit tests of translator/validator.h,
 * through its interface only, so that they hold for any implementation of
 * it (the simple whole-document one, or an incremental one).
 *
 * The region is examples/web-tier.json (one VPC vpc-web 10.10.0.0/16;
 * subnet-web 10.10.1.0/24 and subnet-app 10.10.2.0/24; ENIs eni-web-a
 * 10.10.1.10 on host-a, eni-web-b 10.10.1.11 and eni-app-b 10.10.2.10 on
 * host-b, eni-client-a 10.10.1.20; groups sg-web, sg-app (which names
 * sg-web), sg-client; rtb-web with 0.0.0.0/0 -> igw-web).  Errors are
 * matched on the object's id, the field and the rule's text, not on the
 * exact form of the path. */

#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "translator/model.h"
#include "translator/validator.h"
#include "util.h"

static struct json *
base_doc(void)
{
    struct json *doc = json_from_file("examples/web-tier.json");
    assert_int_equal(doc->type, JSON_OBJECT);
    return doc;
}

/* JSON with single quotes, for readable C strings. */
static struct json *
J(const char *s)
{
    char *copy = xstrdup(s);
    for (char *p = copy; *p; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }
    struct json *j = json_from_string(copy);
    free(copy);
    assert_int_not_equal(j->type, JSON_STRING);
    return j;
}

/* True if some error mentions every one of the NULL-terminated strings. */
static bool
has_error(const struct vpc_errors *e, ...)
{
    for (size_t i = 0; i < e->n; i++) {
        va_list args;
        va_start(args, e);
        bool all = true;
        for (const char *s = va_arg(args, const char *); s;
             s = va_arg(args, const char *)) {
            all &= strstr(e->msgs[i], s) != NULL;
        }
        va_end(args);
        if (all) {
            return true;
        }
    }
    return false;
}

static void
print_errors(const struct vpc_errors *e)
{
    for (size_t i = 0; i < e->n; i++) {
        print_message("  %s\n", e->msgs[i]);
    }
}

static size_t
count(const struct vpc_validator *v, const char *collection)
{
    const struct json *c = shash_find_data(
        json_object(vpc_validator_document(v)), collection);
    return c && c->type == JSON_ARRAY ? json_array(c)->n : 0;
}

struct fixture {
    struct json *doc;
    struct vpc_validator *v;
    struct vpc_errors errs;
    char *before;               /* The document before a change. */
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof *f);
    f->doc = base_doc();
    vpc_errors_init(&f->errs);
    f->v = vpc_validator_create(f->doc, &f->errs);
    assert_non_null(f->v);
    assert_int_equal(f->errs.n, 0);
    f->before = json_to_string(vpc_validator_document(f->v), JSSF_SORT);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    vpc_validator_destroy(f->v);
    json_destroy(f->doc);
    vpc_errors_destroy(&f->errs);
    free(f->before);
    free(f);
    return 0;
}

/* The validator's document is what it was before the refused change. */
static void
assert_unchanged(struct fixture *f)
{
    char *now = json_to_string(vpc_validator_document(f->v), JSSF_SORT);
    assert_string_equal(now, f->before);
    free(now);
}

/* Expects 'collection'/'id' <- 'obj' (a J() string, or NULL: delete) to
 * be refused with an error naming every string of the list; then that
 * nothing changed. */
#define REFUSED(F, COLL, ID, OBJ, ...)                                      \
    do {                                                                    \
        struct json *o_ = (OBJ) ? J(OBJ) : NULL;                            \
        bool ok_ = vpc_validator_apply((F)->v, COLL, ID, o_, &(F)->errs);   \
        json_destroy(o_);                                                   \
        if (ok_ || !has_error(&(F)->errs, __VA_ARGS__, (char *) NULL)) {    \
            print_errors(&(F)->errs);                                       \
            fail_msg("%s[%s]: expected a refusal naming %s", COLL, ID,     \
                     #__VA_ARGS__);                                         \
        }                                                                   \
        assert_unchanged(F);                                                \
    } while (0)

#define APPLIED(F, COLL, ID, OBJ)                                           \
    do {                                                                    \
        struct json *o_ = (OBJ) ? J(OBJ) : NULL;                            \
        bool ok_ = vpc_validator_apply((F)->v, COLL, ID, o_, &(F)->errs);   \
        json_destroy(o_);                                                   \
        if (!ok_) {                                                         \
            print_errors(&(F)->errs);                                       \
            fail_msg("%s[%s]: refused", COLL, ID);                          \
        }                                                                   \
        assert_int_equal((F)->errs.n, 0);                                   \
    } while (0)

#define NEW_ENI(ID, SUBNET, IP, MAC, HOST)                                  \
    "{'id':'" ID "','subnet':'" SUBNET "','private_ip':'" IP "','mac':'"    \
    MAC "','host':'" HOST "'}"

static void
test_create_holds_document(void **state)
{
    struct fixture *f = *state;
    assert_true(json_equal(vpc_validator_document(f->v), f->doc));
    const struct json *eni = vpc_validator_get(f->v, "enis", "eni-web-a");
    assert_non_null(eni);
    assert_string_equal(json_string(shash_find_data(json_object(eni),
                                                    "private_ip")),
                        "10.10.1.10");
    assert_null(vpc_validator_get(f->v, "enis", "eni-none"));
    assert_null(vpc_validator_get(f->v, "no_such_collection", "x"));
}

static void
test_create_invalid_reports_like_translator(void **state OVS_UNUSED)
{
    struct json *doc = base_doc();
    struct json *enis = shash_find_data(json_object(doc), "enis");
    struct json *eni = json_array(enis)->elems[1];
    json_object_put_string(eni, "private_ip", "10.10.9.9");
    char *s = json_to_string(doc, 0);

    struct vpc_errors want, got;
    vpc_errors_init(&want);
    vpc_errors_init(&got);
    assert_null(vpc_region_from_string(s, &want));
    assert_null(vpc_validator_create(doc, &got));
    assert_int_equal(got.n, want.n);
    for (size_t i = 0; i < got.n; i++) {
        assert_string_equal(got.msgs[i], want.msgs[i]);
    }
    vpc_errors_destroy(&want);
    vpc_errors_destroy(&got);
    free(s);
    json_destroy(doc);
}

static void
test_insert_eni(void **state)
{
    struct fixture *f = *state;
    size_t n = count(f->v, "enis");
    APPLIED(f, "enis", "eni-new", NEW_ENI("eni-new", "subnet-web",
                                          "10.10.1.50", "02:00:00:10:01:50",
                                          "host-a"));
    assert_int_equal(count(f->v, "enis"), n + 1);
    const struct json *eni = vpc_validator_get(f->v, "enis", "eni-new");
    assert_non_null(eni);
    assert_string_equal(json_string(shash_find_data(json_object(eni),
                                                    "host")), "host-a");
}

static void
test_ip_outside_subnet(void **state)
{
    struct fixture *f = *state;
    REFUSED(f, "enis", "eni-new",
            NEW_ENI("eni-new", "subnet-web", "10.10.9.50",
                    "02:00:00:10:01:50", "host-a"),
            "eni-new", "private_ip", "not inside subnet-web");
    assert_null(vpc_validator_get(f->v, "enis", "eni-new"));
}

static void
test_ip_taken_in_vpc(void **state)
{
    struct fixture *f = *state;
    REFUSED(f, "enis", "eni-new",
            NEW_ENI("eni-new", "subnet-web", "10.10.1.10",
                    "02:00:00:10:01:50", "host-a"),
            "eni-new", "private_ip", "duplicate IP in vpc-web");
}

/* dns_names are unique within a VPC: checked on an incremental change as
 * in the whole document. */
static void
test_dns_name_taken(void **state)
{
    struct fixture *f = *state;
    APPLIED(f, "enis", "eni-n1",
            "{'id':'eni-n1','subnet':'subnet-web','private_ip':'10.10.1.50',"
            "'mac':'02:00:00:10:01:50','host':'host-a',"
            "'dns_names':['db.corp.example']}");
    free(f->before);
    f->before = json_to_string(vpc_validator_document(f->v), JSSF_SORT);
    REFUSED(f, "enis", "eni-n2",
            "{'id':'eni-n2','subnet':'subnet-app','private_ip':'10.10.2.50',"
            "'mac':'02:00:00:10:02:50','host':'host-b',"
            "'dns_names':['DB.corp.example.']}",
            "eni-n2", "dns_names[0]", "already a name of eni-n1 in vpc-web");
}

static void
test_mac_taken(void **state)
{
    struct fixture *f = *state;
    REFUSED(f, "enis", "eni-new",
            NEW_ENI("eni-new", "subnet-web", "10.10.1.50",
                    "02:00:00:10:01:0a", "host-a"), "mac");
}

static void
test_replace_moves_host(void **state)
{
    struct fixture *f = *state;
    size_t n = count(f->v, "enis");
    struct json *eni = json_deep_clone(vpc_validator_get(f->v, "enis",
                                                         "eni-web-a"));
    json_object_put_string(eni, "host", "host-b");
    assert_true(vpc_validator_apply(f->v, "enis", "eni-web-a", eni,
                                    &f->errs));
    json_destroy(eni);
    assert_int_equal(count(f->v, "enis"), n);
    const struct json *now = vpc_validator_get(f->v, "enis", "eni-web-a");
    assert_string_equal(json_string(shash_find_data(json_object(now),
                                                    "host")), "host-b");
}

static void
test_unknown_host(void **state)
{
    struct fixture *f = *state;
    struct json *eni = json_deep_clone(vpc_validator_get(f->v, "enis",
                                                         "eni-web-a"));
    json_object_put_string(eni, "host", "host-z");
    bool ok = vpc_validator_apply(f->v, "enis", "eni-web-a", eni, &f->errs);
    json_destroy(eni);
    assert_false(ok);
    assert_true(has_error(&f->errs, "eni-web-a", "host-z", (char *) NULL));
    assert_unchanged(f);
}

static void
test_delete_referenced_sg(void **state)
{
    struct fixture *f = *state;
    REFUSED(f, "security_groups", "sg-web", NULL,
            "eni-web-a", "security_groups", "sg-web",
            "no security group has this id");
    assert_non_null(vpc_validator_get(f->v, "security_groups", "sg-web"));
}

static void
test_delete_eni_and_missing(void **state)
{
    struct fixture *f = *state;
    size_t n = count(f->v, "enis");
    APPLIED(f, "enis", "eni-client-a", NULL);
    assert_int_equal(count(f->v, "enis"), n - 1);
    assert_null(vpc_validator_get(f->v, "enis", "eni-client-a"));

    free(f->before);
    f->before = json_to_string(vpc_validator_document(f->v), JSSF_SORT);
    assert_false(vpc_validator_apply(f->v, "enis", "eni-client-a", NULL,
                                     &f->errs));
    assert_true(f->errs.n > 0);
    assert_unchanged(f);
}

static void
test_route_to_missing_target(void **state)
{
    struct fixture *f = *state;
    REFUSED(f, "route_tables", "rtb-web",
            "{'id':'rtb-web','vpc':'vpc-web','routes':["
            "{'destination':'0.0.0.0/0','target':'igw-web'},"
            "{'destination':'10.99.0.0/16','target':'eni-gone'}]}",
            "rtb-web", "target", "eni-gone");
}

static void
test_id_mismatch(void **state)
{
    struct fixture *f = *state;
    REFUSED(f, "enis", "eni-x",
            NEW_ENI("eni-y", "subnet-web", "10.10.1.50",
                    "02:00:00:10:01:50", "host-a"), "eni-");
}

static void
test_usable_after_refusal(void **state)
{
    struct fixture *f = *state;
    REFUSED(f, "enis", "eni-new",
            NEW_ENI("eni-new", "subnet-web", "10.10.1.10",
                    "02:00:00:10:01:50", "host-a"), "duplicate IP");
    vpc_errors_destroy(&f->errs);
    vpc_errors_init(&f->errs);
    APPLIED(f, "enis", "eni-new", NEW_ENI("eni-new", "subnet-web",
                                          "10.10.1.51", "02:00:00:10:01:51",
                                          "host-a"));
    /* And the new state is what later changes are checked against. */
    free(f->before);
    f->before = json_to_string(vpc_validator_document(f->v), JSSF_SORT);
    REFUSED(f, "enis", "eni-newer",
            NEW_ENI("eni-newer", "subnet-web", "10.10.1.51",
                    "02:00:00:10:01:52", "host-b"),
            "eni-newer", "duplicate IP in vpc-web");
}

static void
test_changes_chain(void **state)
{
    struct fixture *f = *state;
    /* A group, a rule naming it from another group, then deleting the
     * first is refused while referenced; after the rule goes, it is not. */
    APPLIED(f, "security_groups", "sg-new",
            "{'id':'sg-new','vpc':'vpc-web'}");
    APPLIED(f, "security_groups", "sg-client",
            "{'id':'sg-client','vpc':'vpc-web','ingress':["
            "{'protocol':'tcp','from_port':22,'to_port':22,"
            "'security_group':'sg-new'}]}");
    free(f->before);
    f->before = json_to_string(vpc_validator_document(f->v), JSSF_SORT);
    REFUSED(f, "security_groups", "sg-new", NULL, "sg-client", "sg-new");
    vpc_errors_destroy(&f->errs);
    vpc_errors_init(&f->errs);
    APPLIED(f, "security_groups", "sg-client",
            "{'id':'sg-client','vpc':'vpc-web'}");
    APPLIED(f, "security_groups", "sg-new", NULL);
    assert_null(vpc_validator_get(f->v, "security_groups", "sg-new"));
}

static void
test_new_collection(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(count(f->v, "prefix_lists"), 0);
    APPLIED(f, "prefix_lists", "pl-corp",
            "{'id':'pl-corp','name':'corp','cidrs':['172.16.0.0/12']}");
    assert_int_equal(count(f->v, "prefix_lists"), 1);
    APPLIED(f, "prefix_lists", "pl-corp", NULL);
    assert_int_equal(count(f->v, "prefix_lists"), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(NAME) cmocka_unit_test_setup_teardown(NAME, setup, teardown)
        T(test_create_holds_document),
        cmocka_unit_test(test_create_invalid_reports_like_translator),
        T(test_insert_eni),
        T(test_ip_outside_subnet),
        T(test_ip_taken_in_vpc),
        T(test_dns_name_taken),
        T(test_mac_taken),
        T(test_replace_moves_host),
        T(test_unknown_host),
        T(test_delete_referenced_sg),
        T(test_delete_eni_and_missing),
        T(test_route_to_missing_target),
        T(test_id_mismatch),
        T(test_usable_after_refusal),
        T(test_changes_chain),
        T(test_new_collection),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
