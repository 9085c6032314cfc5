/* tests/unit/test-imds.c: unit tests of the instance metadata service's
 * request -> response function (daemon/imds.c): the paths and listings,
 * 404s, IMDSv2 tokens (issue, use, expiry, another ENI's, required or
 * optional), X-Forwarded-For, who may ask, the rate limit and counters.
 *
 * JSON in this file uses single quotes, turned into double quotes. */

#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/imds.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/util.h"
#include "util.h"

static const char doc_text[] =
    "{'hosts': [{'id': 'host-a', 'underlay_ip': '192.168.100.1'},"
    "           {'id': 'host-b', 'underlay_ip': '192.168.100.2'}],"
    " 'edges': [{'id': 'edge-1', 'underlay_ip': '192.168.100.9'}],"
    " 'vpcs': [{'id': 'vpc-1', 'cidr_blocks': ['10.0.0.0/16', '10.9.0.0/16'],"
    "           'vni': 100}],"
    " 'security_groups': [{'id': 'sg-web', 'vpc': 'vpc-1'},"
    "                     {'id': 'sg-ssh', 'vpc': 'vpc-1'}],"
    " 'subnets': [{'id': 'subnet-1', 'vpc': 'vpc-1', 'cidr': '10.0.1.0/24',"
    "              'availability_zone': 'eu-west-1b'}],"
    " 'internet_gateways': [{'id': 'igw-1', 'vpc': 'vpc-1',"
    "                        'edge': 'edge-1'}],"
    " 'enis': ["
    "  {'id': 'eni-a', 'subnet': 'subnet-1', 'mac': '02:00:00:00:00:0a',"
    "   'private_ip': '10.0.1.10', 'host': 'host-a',"
    "   'security_groups': ['sg-web', 'sg-ssh'],"
    "   'elastic_ip': '203.0.113.10', 'instance_id': 'i-0123456789abcdef0',"
    "   'user_data': '#cloud-config', 'metadata_options':"
    "   {'http_tokens': 'required'}},"
    "  {'id': 'eni-b', 'subnet': 'subnet-1', 'mac': '02:00:00:00:00:0b',"
    "   'private_ip': '10.0.1.11', 'host': 'host-a'},"
    "  {'id': 'eni-c', 'subnet': 'subnet-1', 'mac': '02:00:00:00:00:0c',"
    "   'private_ip': '10.0.1.12', 'host': 'host-a',"
    "   'metadata_options': {'http_endpoint': 'disabled'}}]}";

static const struct pl_binding bindings[] = {
    { "eni-a", 1 }, { "eni-b", 2 }, { "eni-c", 3 },
};

struct fixture {
    struct vpc_region *r;
    struct vpcd_imds *m;
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof *f);
    char *text = xstrdup(doc_text);
    for (char *p = text; *p; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    f->r = vpc_region_from_string(text, &errs);
    for (size_t i = 0; i < errs.n; i++) {
        print_error("%s\n", errs.msgs[i]);
    }
    assert_non_null(f->r);
    vpc_errors_destroy(&errs);
    free(text);
    f->m = vpcd_imds_create();
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    vpcd_imds_destroy(f->m);
    vpc_region_destroy(f->r);
    free(f);
    return 0;
}

/* One request from the ENI on 'ofport' at 'now' ms; returns the status and
 * the body in 'body' (static, overwritten by the next call). */
static char body[65536];
static int last_ttl;

static int
ask(struct fixture *f, int ofport, const char *method, const char *path,
    const char *token, const char *ttl, bool forwarded, long long int now)
{
    struct vpcd_imds_request req = {
        .method = method, .path = path, .token = token, .ttl = ttl,
        .forwarded = forwarded, .peer = pl_md_service_addr(ofport),
    };
    struct vpcd_imds_response resp;
    vpcd_imds_handle(f->m, f->r, bindings, ARRAY_SIZE(bindings), &req, now,
                     &resp);
    assert_non_null(resp.body);
    assert_non_null(resp.content_type);
    snprintf(body, sizeof body, "%s", resp.body);
    free(resp.body);
    last_ttl = resp.ttl;
    return resp.status;
}

/* GET 'path' from ofport 'port' without a token at time 0. */
static int
get(struct fixture *f, int port, const char *path)
{
    return ask(f, port, "GET", path, NULL, NULL, false, 0);
}

static void
test_paths(void **state)
{
    struct fixture *f = *state;
    const int b = 2;            /* eni-b: tokens optional. */

    assert_int_equal(get(f, b, "/"), 200);
    assert_string_equal(body, "latest");
    assert_int_equal(get(f, b, "/latest/meta-data/instance-id"), 200);
    char *derived = vpc_default_instance_id("eni-b");
    assert_string_equal(body, derived);
    free(derived);
    assert_int_equal(get(f, b, "/latest/meta-data/local-ipv4"), 200);
    assert_string_equal(body, "10.0.1.11");
    assert_int_equal(get(f, b, "/latest/meta-data/mac"), 200);
    assert_string_equal(body, "02:00:00:00:00:0b");
    assert_int_equal(get(f, b, "/latest/meta-data/local-hostname"), 200);
    assert_string_equal(body, "ip-10-0-1-11.eu-west-1.compute.internal");
    assert_int_equal(get(f, b, "/latest/meta-data/hostname"), 200);
    assert_string_equal(body, "ip-10-0-1-11.eu-west-1.compute.internal");
    assert_int_equal(get(f, b, "/latest/meta-data/placement/"
                               "availability-zone"), 200);
    assert_string_equal(body, "eu-west-1b");
    assert_int_equal(get(f, b, "/latest/meta-data/security-groups"), 200);
    assert_string_equal(body, "");

    /* Listings: one entry per line, directories with a slash; with or
     * without the trailing slash. */
    assert_int_equal(get(f, b, "/latest/meta-data/"), 200);
    assert_string_equal(body, "hostname\ninstance-id\nlocal-hostname\n"
                        "local-ipv4\nmac\nnetwork/\nplacement/\n"
                        "security-groups");
    assert_int_equal(get(f, b, "/latest/meta-data"), 200);
    assert_non_null(strstr(body, "network/"));
    assert_int_equal(get(f, b, "/latest/"), 200);
    assert_string_equal(body, "dynamic/\nmeta-data/");
    assert_int_equal(get(f, b, "/latest/meta-data/network/interfaces/"
                               "macs/"), 200);
    assert_string_equal(body, "02:00:00:00:00:0b/");
    assert_int_equal(get(f, b, "/latest/meta-data/network/interfaces/macs/"
                               "02:00:00:00:00:0b/"), 200);
    assert_string_equal(body, "device-number\ninterface-id\nlocal-hostname\n"
                        "local-ipv4s\nmac\nsecurity-group-ids\nsubnet-id\n"
                        "subnet-ipv4-cidr-block\nvpc-id\n"
                        "vpc-ipv4-cidr-blocks");
    static const char *const mac_fields[][2] = {
        { "device-number", "0" },
        { "interface-id", "eni-b" },
        { "local-ipv4s", "10.0.1.11" },
        { "mac", "02:00:00:00:00:0b" },
        { "subnet-id", "subnet-1" },
        { "subnet-ipv4-cidr-block", "10.0.1.0/24" },
        { "vpc-id", "vpc-1" },
        { "vpc-ipv4-cidr-blocks", "10.0.0.0/16\n10.9.0.0/16" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(mac_fields); i++) {
        char *p = xasprintf("/latest/meta-data/network/interfaces/macs/"
                            "02:00:00:00:00:0b/%s", mac_fields[i][0]);
        assert_int_equal(get(f, b, p), 200);
        assert_string_equal(body, mac_fields[i][1]);
        free(p);
    }

    /* What eni-b does not have, and what nobody has. */
    assert_int_equal(get(f, b, "/latest/meta-data/public-ipv4"), 404);
    assert_int_equal(get(f, b, "/latest/meta-data/ami-id"), 404);
    assert_int_equal(get(f, b, "/latest/user-data"), 404);
    assert_int_equal(get(f, b, "/latest/meta-data/network/interfaces/macs/"
                               "02:00:00:00:00:0a/mac"), 404);
    assert_int_equal(get(f, b, "/latest/meta-data/nothing"), 404);
    assert_int_equal(get(f, b, "/latest/meta-data/mac/x"), 404);
    assert_int_equal(get(f, b, "/latestx"), 404);
    assert_int_equal(get(f, b, "/2009-04-04/meta-data/"), 404);

    /* The identity document, JSON. */
    assert_int_equal(get(f, b, "/latest/dynamic/instance-identity/document"),
                     200);
    struct json *doc = json_from_string(body);
    assert_int_equal(doc->type, JSON_OBJECT);
    const struct json *ip = shash_find_data(json_object(doc), "privateIp");
    assert_non_null(ip);
    assert_string_equal(json_string(ip), "10.0.1.11");
    const struct json *region = shash_find_data(json_object(doc), "region");
    assert_string_equal(json_string(region), "eu-west-1");
    json_destroy(doc);
}

static void
test_paths_eni_a(void **state)
{
    struct fixture *f = *state;
    long long int now = 0;
    assert_int_equal(ask(f, 1, "PUT", "/latest/api/token", NULL, "60", false,
                         now), 200);
    char *t = xstrdup(body);
    assert_int_equal(ask(f, 1, "GET", "/latest/meta-data/instance-id", t,
                         NULL, false, now), 200);
    assert_string_equal(body, "i-0123456789abcdef0");
    assert_int_equal(ask(f, 1, "GET", "/latest/meta-data/public-ipv4", t,
                         NULL, false, now), 200);
    assert_string_equal(body, "203.0.113.10");
    assert_int_equal(ask(f, 1, "GET", "/latest/meta-data/security-groups", t,
                         NULL, false, now), 200);
    assert_string_equal(body, "sg-web\nsg-ssh");
    assert_int_equal(ask(f, 1, "GET", "/latest/meta-data/network/interfaces/"
                         "macs/02:00:00:00:00:0a/security-group-ids", t,
                         NULL, false, now), 200);
    assert_string_equal(body, "sg-web\nsg-ssh");
    assert_int_equal(ask(f, 1, "GET", "/latest/user-data", t, NULL, false,
                         now), 200);
    assert_string_equal(body, "#cloud-config");
    assert_int_equal(ask(f, 1, "GET", "/latest/", t, NULL, false, now), 200);
    assert_string_equal(body, "dynamic/\nmeta-data/\nuser-data");
    free(t);
}

static void
test_tokens(void **state)
{
    struct fixture *f = *state;
    const char *id = "/latest/meta-data/instance-id";

    /* Issue: the TTL header, 1 to 21600, is required. */
    assert_int_equal(ask(f, 1, "PUT", "/latest/api/token", NULL, "10", false,
                         1000), 200);
    assert_int_equal(last_ttl, 10);
    char *ta = xstrdup(body);
    assert_true(strlen(ta) >= 32);
    assert_int_equal(ask(f, 1, "PUT", "/latest/api/token", NULL, "10", false,
                         1000), 200);
    assert_string_not_equal(body, ta);      /* Random. */
    static const char *const bad_ttls[] = {
        "0", "21601", "-1", "abc", "", "1e3", "100000", " 5",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad_ttls); i++) {
        assert_int_equal(ask(f, 1, "PUT", "/latest/api/token", NULL,
                             bad_ttls[i], false, 1000), 400);
    }
    assert_int_equal(ask(f, 1, "PUT", "/latest/api/token", NULL, NULL, false,
                         1000), 400);
    assert_int_equal(ask(f, 1, "PUT", "/latest/api/token", NULL, "21600",
                         false, 1000), 200);

    /* X-Forwarded-For: refused, as AWS does. */
    assert_int_equal(ask(f, 1, "PUT", "/latest/api/token", NULL, "10", true,
                         1000), 403);
    /* Tokens come from PUT only, and PUT makes nothing else. */
    assert_int_equal(ask(f, 1, "GET", "/latest/api/token", NULL, "10", false,
                         1000), 405);
    assert_int_equal(ask(f, 2, "PUT", id, NULL, "10", false, 1000), 405);
    assert_int_equal(ask(f, 2, "DELETE", id, NULL, NULL, false, 1000), 405);

    /* Use: eni-a requires a token. */
    assert_int_equal(ask(f, 1, "GET", id, NULL, NULL, false, 1000), 401);
    assert_int_equal(ask(f, 1, "GET", id, ta, NULL, false, 1000), 200);
    assert_int_equal(ask(f, 1, "GET", id, ta, NULL, false, 10999), 200);
    /* Expiry. */
    assert_int_equal(ask(f, 1, "GET", id, ta, NULL, false, 11000), 401);
    assert_int_equal(ask(f, 1, "GET", id, ta, NULL, false, 99999), 401);

    /* Another ENI's token is no token of its own, even where tokens are
     * optional; nor is a tampered one, nor garbage. */
    assert_int_equal(ask(f, 2, "GET", id, ta, NULL, false, 1000), 401);
    char *tampered = xstrdup(ta);
    tampered[40] = tampered[40] == '0' ? '1' : '0';
    assert_int_equal(ask(f, 1, "GET", id, tampered, NULL, false, 1000), 401);
    free(tampered);
    assert_int_equal(ask(f, 2, "GET", id, "", NULL, false, 1000), 401);
    assert_int_equal(ask(f, 2, "GET", id, "zz", NULL, false, 1000), 401);

    /* eni-b: optional: served without a token, and with its own. */
    assert_int_equal(ask(f, 2, "GET", id, NULL, NULL, false, 1000), 200);
    assert_int_equal(ask(f, 2, "PUT", "/latest/api/token", NULL, "1", false,
                         1000), 200);
    char *tb = xstrdup(body);
    assert_int_equal(ask(f, 2, "GET", id, tb, NULL, false, 1999), 200);
    assert_int_equal(ask(f, 2, "GET", id, tb, NULL, false, 2000), 401);
    free(tb);
    free(ta);

    struct ds ds = DS_EMPTY_INITIALIZER;
    vpcd_imds_metrics(f->m, &ds);
    assert_non_null(strstr(ds_cstr(&ds), "vpcd_imds_tokens_issued_total 4\n"));
    assert_non_null(strstr(ds_cstr(&ds),
                           "vpcd_imds_refused_total{reason=\"forwarded\"} "
                           "1\n"));
    assert_non_null(strstr(ds_cstr(&ds),
                           "vpcd_imds_refused_total{reason=\"token\"} 8\n"));
    assert_non_null(strstr(ds_cstr(&ds),
                           "vpcd_imds_requests_total{code=\"400\"} 9\n"));
    ds_destroy(&ds);
}

/* Only a service address bound to an ENI with its endpoint enabled is
 * answered. */
static void
test_who_asks(void **state)
{
    struct fixture *f = *state;
    const char *id = "/latest/meta-data/instance-id";

    assert_int_equal(get(f, 3, id), 403);         /* eni-c: disabled. */
    assert_int_equal(get(f, 4, id), 403);         /* No binding. */
    struct vpcd_imds_request req = {
        .method = "GET", .path = id, .peer = 0x7f000001,      /* 127.0.0.1 */
    };
    struct vpcd_imds_response resp;
    vpcd_imds_handle(f->m, f->r, bindings, ARRAY_SIZE(bindings), &req, 0,
                     &resp);
    assert_int_equal(resp.status, 403);
    free(resp.body);
    req.peer = pl_md_service_addr(2);
    vpcd_imds_handle(f->m, NULL, bindings, ARRAY_SIZE(bindings), &req, 0,
                     &resp);
    assert_int_equal(resp.status, 403);           /* Nothing loaded. */
    free(resp.body);
    assert_int_equal(get(f, 2, id), 200);

    assert_int_equal(pl_md_service_addr(1), 0xa9fe8001);
    assert_int_equal(pl_md_service_addr(32767), 0xa9feffff);
    assert_int_equal(pl_md_service_addr(32768), 0);
    assert_int_equal(pl_md_service_ofport(0xa9fe8005), 5);
    assert_int_equal(pl_md_service_ofport(0xa9fe8000), 0);
    assert_int_equal(pl_md_service_ofport(0xa9fea9fe), 0x29fe);
    assert_int_equal(pl_md_service_ofport(0x0a000001), 0);
}

/* The token bucket: per ENI, refills with time. */
static void
test_rate_limit(void **state)
{
    struct fixture *f = *state;
    const char *id = "/latest/meta-data/instance-id";
    vpcd_imds_set_rate(f->m, 2, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ask(f, 2, "GET", id, NULL, NULL, false, 0), 200);
    }
    assert_int_equal(ask(f, 2, "GET", id, NULL, NULL, false, 0), 429);
    assert_int_equal(ask(f, 2, "GET", id, NULL, NULL, false, 499), 429);
    /* Another ENI is not held back by eni-b's flood. */
    assert_int_equal(ask(f, 1, "GET", id, NULL, NULL, false, 0), 401);
    assert_int_equal(ask(f, 2, "GET", id, NULL, NULL, false, 500), 200);
    assert_int_equal(ask(f, 2, "GET", id, NULL, NULL, false, 500), 429);

    struct ds ds = DS_EMPTY_INITIALIZER;
    vpcd_imds_metrics(f->m, &ds);
    assert_non_null(strstr(ds_cstr(&ds),
                           "vpcd_imds_refused_total{reason=\"rate_limit\"} "
                           "3\n"));
    assert_non_null(strstr(ds_cstr(&ds),
                           "vpcd_imds_requests_total{code=\"429\"} 3\n"));
    ds_destroy(&ds);
    struct json *st = vpcd_imds_status(f->m);
    const struct json *n = shash_find_data(json_object(st), "rate_limited");
    assert_int_equal(json_integer(n), 3);
    json_destroy(st);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths_eni_a, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_who_asks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
