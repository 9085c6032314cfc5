/* bench/validator-bench.c: the incremental validator (translator/
 * validator.c) on a large region: create time and memory, then the time of
 * one-object changes of each kind a cloud makes constantly, p50 and p99.
 *
 * Usage: validator-bench REGION.json [N]
 *   N changes of each kind (default 2,000), seeded, so that two runs make
 *   the same changes.  Each change is a realistic one that the region
 *   accepts, except where the output says otherwise; refusals are counted
 *   and timed apart.  Output: one line per kind, times in microseconds. */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "translator/model.h"
#include "translator/validator.h"
#include "util.h"

static uint64_t rng = 1;

static uint32_t
rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (rng >> 11) % n;
}

static double
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static long
rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) {
            kib = atol(line + 6);
        }
    }
    if (f) {
        fclose(f);
    }
    return kib;
}

static int
compare_doubles(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;
    return a < b ? -1 : a > b;
}

/* Times of one kind of change. */
struct series {
    const char *name;
    double *t;
    size_t n, refused, fallbacks;
};

static void
series_report(struct series *s)
{
    qsort(s->t, s->n, sizeof *s->t, compare_doubles);
    double sum = 0;
    for (size_t i = 0; i < s->n; i++) {
        sum += s->t[i];
    }
    printf("%-22s n=%-5zu p50=%8.1f us  p99=%8.1f us  max=%9.1f us  "
           "mean=%8.1f us  refused=%zu  fallbacks=%zu\n", s->name, s->n,
           s->n ? s->t[s->n / 2] : 0, s->n ? s->t[s->n * 99 / 100] : 0,
           s->n ? s->t[s->n - 1] : 0, s->n ? sum / s->n : 0, s->refused,
           s->fallbacks);
    free(s->t);
}

/* Applies one change and records its time in 's'. */
static bool
timed_apply(struct vpc_validator *v, struct series *s, const char *coll,
            const char *id, const struct json *obj)
{
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    double t0 = now_us();
    bool ok = vpc_validator_apply(v, coll, id, obj, &errs);
    double t = now_us() - t0;
    if (!s->t) {
        s->t = xmalloc(100000 * sizeof *s->t);
    }
    if (ok && s->n < 100000) {
        s->t[s->n++] = t;
    } else if (!ok) {
        s->refused++;
        if (s->refused == 1) {
            fprintf(stderr, "%s: first refusal: %s\n", s->name,
                    errs.n ? errs.msgs[0] : "?");
        }
    }
    s->fallbacks += !vpc_validator_last_was_incremental(v);
    vpc_errors_destroy(&errs);
    return ok;
}

static const struct json *
pick(const struct vpc_validator *v, const char *coll)
{
    const struct json *a = shash_find_data(
        json_object(vpc_validator_document(v)), coll);
    return json_array(a)->elems[rnd(json_array(a)->n)];
}

static const char *
str(const struct json *obj, const char *key)
{
    return json_string(shash_find_data(json_object(obj), key));
}

int
main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s REGION.json [N]\n", argv[0]);
        return 2;
    }
    size_t n = argc > 2 ? atoi(argv[2]) : 2000;

    double t0 = now_us();
    struct json *doc = json_from_file(argv[1]);
    if (doc->type != JSON_OBJECT) {
        fprintf(stderr, "%s: not a JSON object\n", argv[1]);
        return 1;
    }
    double t_parse = now_us() - t0;
    long rss0 = rss_kib();

    t0 = now_us();
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_region *r = vpc_region_from_json(doc, &errs);
    double t_full = now_us() - t0;
    if (!r) {
        fprintf(stderr, "%s: invalid: %s\n", argv[1], errs.msgs[0]);
        return 1;
    }
    vpc_region_destroy(r);

    t0 = now_us();
    json_destroy(json_deep_clone(doc));
    double t_clone = now_us() - t0;

    t0 = now_us();
    struct vpc_validator *v = vpc_validator_create(doc, &errs);
    double t_create = now_us() - t0;
    long rss1 = rss_kib();
    json_destroy(doc);
    printf("region %s: JSON parse %.2f s; whole validation %.2f s; "
           "document copy %.2f s; vpc_validator_create %.2f s (whole "
           "validation, copy, indexes), +%ld MiB resident\n", argv[1],
           t_parse / 1e6, t_full / 1e6, t_clone / 1e6, t_create / 1e6,
           (rss1 - rss0) / 1024);

    struct series add = { .name = "eni add" };
    struct series del = { .name = "eni delete" };
    struct series move = { .name = "eni move (host)" };
    struct series eip = { .name = "eni elastic ip" };
    struct series sgs = { .name = "eni sg list" };
    struct series rule = { .name = "sg rule add" };
    struct series route = { .name = "route add" };
    struct series pcx = { .name = "peering add" };
    struct series pcx_del = { .name = "peering delete" };
    struct series subnet = { .name = "subnet add" };

    /* ENI add: next to a random ENI, in its subnet, at a random address
     * (a clash with another ENI's is refused, and counted). */
    char **added = xcalloc(n, sizeof *added);
    for (size_t i = 0; i < n; i++) {
        const struct json *e = pick(v, "enis");
        uint32_t ip;
        vpc_ip_parse(str(e, "private_ip"), &ip);
        ip = (ip & ~0xffu) | (4 + rnd(250));
        char *ips = vpc_ip_to_string(ip);
        added[i] = xasprintf("eni-bench-%zu", i);
        struct json *obj = json_object_create();
        json_object_put_string(obj, "id", added[i]);
        json_object_put_string(obj, "subnet", str(e, "subnet"));
        json_object_put_string(obj, "host", str(e, "host"));
        json_object_put(obj, "mac", json_string_create_nocopy(
            xasprintf("02:be:00:%02zx:%02zx:%02zx", i >> 16 & 0xff,
                      i >> 8 & 0xff, i & 0xff)));
        json_object_put_string(obj, "private_ip", ips);
        json_object_put(obj, "security_groups", json_clone(
            shash_find_data(json_object(e), "security_groups")));
        timed_apply(v, &add, "enis", added[i], obj);
        json_destroy(obj);
        free(ips);
    }

    /* ENI move to another host, SG list change, elastic IP. */
    for (size_t i = 0; i < n; i++) {
        const struct json *e = pick(v, "enis");
        struct json *obj = json_deep_clone(e);
        char *host = xasprintf("host-%04u", rnd(1000));
        json_object_put_string(obj, "host", host);
        timed_apply(v, &move, "enis", str(e, "id"), obj);
        json_destroy(obj);
        free(host);

        /* An elastic IP needs an internet gateway on the ENI's VPC: pick
         * an ENI that has one already (bench/gen-region.py gives one to
         * the first ENI of each VPC with a gateway). */
        e = pick(v, "enis");
        for (int k = 0; k < 10000 && !shash_find(json_object(e),
                                                  "elastic_ip"); k++) {
            e = pick(v, "enis");
        }
        obj = json_deep_clone(e);
        char *eipv = xasprintf("198.18.%u.%u", (unsigned) (i >> 8) & 0xff,
                               (unsigned) i & 0xff);
        json_object_put_string(obj, "elastic_ip", eipv);
        timed_apply(v, &eip, "enis", str(e, "id"), obj);
        json_destroy(obj);
        free(eipv);

        e = pick(v, "enis");
        obj = json_deep_clone(e);
        json_object_put(obj, "security_groups", json_array_create_empty());
        timed_apply(v, &sgs, "enis", str(e, "id"), obj);
        json_destroy(obj);
    }

    /* Security group: one more ingress rule. */
    for (size_t i = 0; i < n; i++) {
        const struct json *sg = pick(v, "security_groups");
        struct json *obj = json_deep_clone(sg);
        struct json *ing = shash_find_data(json_object(obj), "ingress");
        if (!ing) {
            ing = json_array_create_empty();
            json_object_put(obj, "ingress", ing);
        }
        struct json *rj = json_object_create();
        json_object_put_string(rj, "protocol", "tcp");
        json_object_put(rj, "from_port", json_integer_create(1000 + i));
        json_object_put(rj, "to_port", json_integer_create(1000 + i));
        json_object_put_string(rj, "cidr", "192.0.2.0/24");
        json_array_add(ing, rj);
        timed_apply(v, &rule, "security_groups", str(sg, "id"), obj);
        json_destroy(obj);
    }

    /* Route table: one more route. */
    for (size_t i = 0; i < n; i++) {
        const struct json *rtb = pick(v, "route_tables");
        struct json *obj = json_deep_clone(rtb);
        struct json *routes = shash_find_data(json_object(obj), "routes");
        if (!routes) {
            routes = json_array_create_empty();
            json_object_put(obj, "routes", routes);
        }
        struct json *rj = json_object_create();
        json_object_put(rj, "destination", json_string_create_nocopy(
            xasprintf("172.%u.%u.0/24", 16 + (unsigned) (i >> 8) % 16,
                      (unsigned) i & 0xff)));
        json_object_put_string(rj, "target", "blackhole");
        json_array_add(routes, rj);
        timed_apply(v, &route, "route_tables", str(rtb, "id"), obj);
        json_destroy(obj);
    }

    /* Peering: between the requester of one peering and the accepter of
     * another (peered VPCs have disjoint blocks), then deleted again. */
    for (size_t i = 0; i < n / 2; i++) {
        const struct json *p1 = pick(v, "peering_connections");
        const struct json *p2 = pick(v, "peering_connections");
        char *id = xasprintf("pcx-bench-%zu", i);
        struct json *obj = json_object_create();
        json_object_put_string(obj, "id", id);
        json_object_put_string(obj, "requester_vpc",
                               str(p1, "requester_vpc"));
        json_object_put_string(obj, "accepter_vpc", str(p2, "accepter_vpc"));
        if (timed_apply(v, &pcx, "peering_connections", id, obj)) {
            timed_apply(v, &pcx_del, "peering_connections", id, NULL);
        }
        json_destroy(obj);
        free(id);
    }

    /* Subnet: a new /24 next to a random one in the same VPC. */
    for (size_t i = 0; i < n / 4; i++) {
        const struct json *s = pick(v, "subnets");
        struct vpc_prefix p;
        vpc_prefix_parse(str(s, "cidr"), &p);
        p.addr = (p.addr & 0xffff0000) | (200 + rnd(50)) << 8;
        char *cidr = vpc_prefix_to_string(&p);
        char *id = xasprintf("subnet-bench-%zu", i);
        struct json *obj = json_object_create();
        json_object_put_string(obj, "id", id);
        json_object_put_string(obj, "vpc", str(s, "vpc"));
        json_object_put_string(obj, "cidr", cidr);
        timed_apply(v, &subnet, "subnets", id, obj);
        json_destroy(obj);
        free(id);
        free(cidr);
    }

    /* ENI delete: the ones added (at the end of the array). */
    for (size_t i = 0; i < n; i++) {
        timed_apply(v, &del, "enis", added[i], NULL);
        free(added[i]);
    }
    free(added);

    /* VPC: a new one, then deleted again. */
    struct series vpc_add = { .name = "vpc add" };
    struct series vpc_del = { .name = "vpc delete" };
    for (size_t i = 0; i < n / 2; i++) {
        char *id = xasprintf("vpc-bench-%zu", i);
        struct json *obj = json_object_create();
        json_object_put_string(obj, "id", id);
        struct json *blocks = json_array_create_empty();
        json_array_add(blocks, json_string_create("10.0.0.0/16"));
        json_object_put(obj, "cidr_blocks", blocks);
        json_object_put(obj, "vni", json_integer_create(900000 + i));
        if (timed_apply(v, &vpc_add, "vpcs", id, obj)) {
            timed_apply(v, &vpc_del, "vpcs", id, NULL);
        }
        json_destroy(obj);
        free(id);
    }

    /* Internet gateway: attached to a random VPC (refused if it has one:
     * 15 % do), then deleted again (the gateways after it renumber). */
    struct series igw_add = { .name = "igw add" };
    struct series igw_del = { .name = "igw delete" };
    for (size_t i = 0; i < n / 2; i++) {
        char *id = xasprintf("igw-bench-%zu", i);
        struct json *obj = json_object_create();
        json_object_put_string(obj, "id", id);
        json_object_put_string(obj, "vpc", str(pick(v, "vpcs"), "id"));
        json_object_put_string(obj, "edge", "edge-0");
        if (timed_apply(v, &igw_add, "internet_gateways", id, obj)) {
            timed_apply(v, &igw_del, "internet_gateways", id, NULL);
        }
        json_destroy(obj);
        free(id);
    }

    /* VPC replaced by itself: every subnet, route table, group and
     * peering of the VPC is rechecked. */
    struct series vpc_rep = { .name = "vpc replace" };
    for (size_t i = 0; i < n; i++) {
        const struct json *vp = pick(v, "vpcs");
        struct json *obj = json_deep_clone(vp);
        timed_apply(v, &vpc_rep, "vpcs", str(vp, "id"), obj);
        json_destroy(obj);
    }

    /* ENI delete anywhere in the document (the array shifts); route
     * targets are refused. */
    struct series del_any = { .name = "eni delete (any)" };
    for (size_t i = 0; i < n; i++) {
        char *id = xstrdup(str(pick(v, "enis"), "id"));
        timed_apply(v, &del_any, "enis", id, NULL);
        free(id);
    }

    struct series *all[] = { &add, &del, &del_any, &move, &eip, &sgs, &rule,
                             &route, &pcx, &pcx_del, &subnet, &vpc_add,
                             &vpc_del, &vpc_rep, &igw_add, &igw_del };
    for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
        series_report(all[i]);
    }

    /* The fallback, for scale: a change to an edge. */
    struct series edge = { .name = "fallback (edge)" };
    for (size_t i = 0; i < 3; i++) {
        const struct json *e = pick(v, "edges");
        struct json *obj = json_deep_clone(e);
        timed_apply(v, &edge, "edges", str(e, "id"), obj);
        json_destroy(obj);
    }
    series_report(&edge);
    vpc_validator_destroy(v);
    vpc_errors_destroy(&errs);
    return 0;
}
