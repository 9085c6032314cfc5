/* bench/vpc-map-bench.c: lookup cost of the ovs-ext mapping cache
 * (ovs-ext/src/lib/vpc-map.c), single thread.  A benchmark, not a test: it
 * prints numbers and asserts nothing about time.
 *
 * Fills the cache with N entries (default 1,000,000) through one bulk batch
 * (as "ovs-appctl vpcmap/load" does), then times L (default 10,000,000)
 * vpc_map_lookup() calls on keys drawn at random from the loaded ones
 * (hits), and L calls on keys that are not loaded (misses).  The random
 * keys are precomputed into an array so the timed loop holds only the
 * lookup (and reading the next key).  Prints one "key=value" line:
 *
 *   entries=N lookups=L insert_s=... commit_us=... hit_ns=... miss_ns=...
 *
 * Usage: vpc-map-bench [N [L]]
 *
 * Build: "make bench-ovs-ext" (bench/bench.mk); same flags as
 * tests/unit/test-vpc-map. */

#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ovs-ext/src/lib/vpc-map.h"
#include "ovs-rcu.h"
#include "packets.h"
#include "random.h"
#include "util.h"

static double
now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Key number i -> (VNI, VIP): 1,000 VNIs, addresses 10.x.y.z within each. */
static void
key_of(uint32_t i, uint32_t *vni, ovs_be32 *vip)
{
    *vni = 1 + i % 1000;
    *vip = htonl(0x0a000000u + i / 1000 + 4);
}

int
main(int argc, char *argv[])
{
    uint32_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    uint32_t l = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000000;
    struct vpc_map_batch *batch;
    struct vpc_map_entry e, out;
    uint32_t *vnis;
    ovs_be32 *vips;
    double t0, t1;
    uint64_t found;

    if (!n || !l) {
        ovs_fatal(0, "usage: %s [ENTRIES [LOOKUPS]]", argv[0]);
    }
    random_set_seed(1);

    memset(&e, 0, sizeof e);
    t0 = now_sec();
    batch = vpc_map_batch_create();
    for (uint32_t i = 0; i < n; i++) {
        key_of(i, &e.vni, &e.vip);
        e.underlay = htonl(0xc0a86400u + 2 + i % 200);
        e.mac = (struct eth_addr) { { { 0x02, 0, i >> 24, i >> 16, i >> 8,
                                        i } } };
        vpc_map_batch_add(batch, &e);
    }
    t1 = now_sec();
    double insert_s = t1 - t0;
    t0 = now_sec();
    vpc_map_batch_commit(batch);
    double commit_us = (now_sec() - t0) * 1e6;
    ovsrcu_quiesce();
    if (vpc_map_count() != n) {
        ovs_fatal(0, "loaded %zu entries, expected %"PRIu32,
                  vpc_map_count(), n);
    }

    vnis = xmalloc(l * sizeof *vnis);
    vips = xmalloc(l * sizeof *vips);

    /* Hits: random loaded keys. */
    for (uint32_t i = 0; i < l; i++) {
        key_of(random_range(n), &vnis[i], &vips[i]);
    }
    found = 0;
    t0 = now_sec();
    for (uint32_t i = 0; i < l; i++) {
        found += vpc_map_lookup(vnis[i], vips[i], &out);
    }
    double hit_ns = (now_sec() - t0) * 1e9 / l;
    if (found != l) {
        ovs_fatal(0, "%"PRIu64" hits of %"PRIu32, found, l);
    }

    /* Misses: loaded VNIs, addresses in 172.16.0.0/12 (never loaded). */
    for (uint32_t i = 0; i < l; i++) {
        vnis[i] = 1 + random_range(1000);
        vips[i] = htonl(0xac100000u + random_range(1u << 20));
    }
    found = 0;
    t0 = now_sec();
    for (uint32_t i = 0; i < l; i++) {
        found += vpc_map_lookup(vnis[i], vips[i], &out);
    }
    double miss_ns = (now_sec() - t0) * 1e9 / l;
    if (found) {
        ovs_fatal(0, "%"PRIu64" unexpected hits", found);
    }

    printf("entries=%"PRIu32" lookups=%"PRIu32" insert_s=%.3f "
           "commit_us=%.1f hit_ns=%.1f miss_ns=%.1f\n",
           n, l, insert_s, commit_us, hit_ns, miss_ns);
    free(vnis);
    free(vips);
    return 0;
}
