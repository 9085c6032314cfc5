/* ovs-ext/vpc-map.c: the per-host VPC mapping cache.  See vpc-map.h.
 *
 * Layout.  'current' points, through RCU, to a 'struct vpc_map_table', which
 * holds a cmap of 'struct vpc_map_node's keyed by hash_2words(vni, vip).
 * Readers do ovsrcu_get() and cmap_find(), without locks.  Writers hold
 * 'mutex':
 *
 *   - vpc_map_set() and vpc_map_del() change the current table in place with
 *     cmap_replace(), cmap_insert() or cmap_remove(), and free the node they
 *     took out after a grace period.
 *
 *   - vpc_map_flush() and vpc_map_batch_commit() swap in a whole new table
 *     with ovsrcu_set() and destroy the old one, nodes and all, after a grace
 *     period.
 *
 * Counters.  Each thread counts into its own 'struct vpc_map_counters', so
 * the per-packet cost is an uncontended store to a cache line no other thread
 * writes.  vpc_map_get_stats() adds up every live thread's counters and those
 * of threads that have exited, which a thread-exit destructor folds into
 * 'retired'.  The same events also bump coverage counters (vpc_map_hit,
 * vpc_map_miss, vpc_map_verify_ok, vpc_map_spoofed), for
 * "ovs-appctl coverage/read-counter". */

#include <config.h>

#include "vpc-map.h"

#include <stdlib.h>
#include <string.h>

#include "cmap.h"
#include "coverage.h"
#include "hash.h"
#include "openvswitch/list.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(vpc_map);

COVERAGE_DEFINE(vpc_map_hit);
COVERAGE_DEFINE(vpc_map_miss);
COVERAGE_DEFINE(vpc_map_verify_ok);
COVERAGE_DEFINE(vpc_map_spoofed);

struct vpc_map_node {
    struct cmap_node cmap_node; /* In 'struct vpc_map_table''s 'cmap'. */
    struct vpc_map_entry entry;
};

struct vpc_map_table {
    struct cmap cmap;           /* Contains "struct vpc_map_node"s. */
};

struct vpc_map_batch {
    struct vpc_map_table *table;    /* Not yet visible to any reader. */
};

static struct ovs_mutex mutex = OVS_MUTEX_INITIALIZER;

/* The published table, or NULL before the first write.  Readers treat NULL
 * as an empty table. */
static OVSRCU_TYPE(struct vpc_map_table *) current;

/* Bumped, under 'mutex', by every write that may change what a lookup
 * returns. */
static atomic_uint64_t generation;

/* Per-thread counters.  Only the owning thread writes them (relaxed loads and
 * stores, no read-modify-write); vpc_map_get_stats() reads them from any
 * thread. */
struct vpc_map_counters {
    struct ovs_list list_node;  /* In 'all_counters', under 'stats_mutex'. */
    atomic_uint64_t hits;
    atomic_uint64_t misses;
    atomic_uint64_t verify_ok;
    atomic_uint64_t spoofed;
};

static struct ovs_mutex stats_mutex = OVS_MUTEX_INITIALIZER;
static struct ovs_list all_counters OVS_GUARDED_BY(stats_mutex)
    = OVS_LIST_INITIALIZER(&all_counters);
static struct vpc_map_stats retired OVS_GUARDED_BY(stats_mutex);
static ovsthread_key_t counters_key;

DEFINE_STATIC_PER_THREAD_DATA(struct vpc_map_counters *, thread_counters,
                              NULL);

static inline uint32_t
vpc_map_hash(uint32_t vni, ovs_be32 vip)
{
    return hash_2words(vni, (OVS_FORCE uint32_t) vip);
}

static struct vpc_map_table *
vpc_map_table_create(void)
{
    struct vpc_map_table *table = xmalloc(sizeof *table);

    cmap_init(&table->cmap);
    return table;
}

/* Frees 'table' and every node in it.  Only for a table that no reader can
 * see any more: one never published, or one retired a grace period ago. */
static void
vpc_map_table_destroy(struct vpc_map_table *table)
{
    if (table) {
        struct vpc_map_node *node;

        CMAP_FOR_EACH (node, cmap_node, &table->cmap) {
            free(node);
        }
        cmap_destroy(&table->cmap);
        free(table);
    }
}

static struct vpc_map_node *
vpc_map_table_find(const struct vpc_map_table *table, uint32_t vni,
                   ovs_be32 vip)
{
    const struct cmap_node *cnode;
    struct vpc_map_node *node;

    cnode = cmap_find(&table->cmap, vpc_map_hash(vni, vip));
    CMAP_NODE_FOR_EACH (node, cmap_node, cnode) {
        if (node->entry.vni == vni && node->entry.vip == vip) {
            return node;
        }
    }
    return NULL;
}

/* Puts a copy of 'entry' into 'table', replacing any entry with the same key.
 * If 'table' is published, the caller must hold 'mutex'.  A replaced node is
 * freed after a grace period if 'published', otherwise at once. */
static void
vpc_map_table_set(struct vpc_map_table *table,
                  const struct vpc_map_entry *entry, bool published)
{
    uint32_t hash = vpc_map_hash(entry->vni, entry->vip);
    struct vpc_map_node *old, *node;

    node = xmalloc(sizeof *node);
    node->entry = *entry;

    old = vpc_map_table_find(table, entry->vni, entry->vip);
    if (old) {
        cmap_replace(&table->cmap, &old->cmap_node, &node->cmap_node, hash);
        if (published) {
            ovsrcu_postpone(free, old);
        } else {
            free(old);
        }
    } else {
        cmap_insert(&table->cmap, &node->cmap_node, hash);
    }
}

/* Returns the published table, creating an empty one first if there is none
 * yet. */
static struct vpc_map_table *
vpc_map_get_table_protected(void)
    OVS_REQUIRES(mutex)
{
    struct vpc_map_table *table = ovsrcu_get_protected(struct vpc_map_table *,
                                                       &current);
    if (!table) {
        table = vpc_map_table_create();
        ovsrcu_set(&current, table);
    }
    return table;
}

static uint64_t
vpc_map_bump_generation(void)
    OVS_REQUIRES(mutex)
{
    uint64_t orig;

    atomic_add(&generation, 1, &orig);
    return orig + 1;
}

/* Publishes 'table' in place of the current table, which is destroyed after a
 * grace period.  Returns the new generation. */
static uint64_t
vpc_map_publish(struct vpc_map_table *table)
    OVS_REQUIRES(mutex)
{
    struct vpc_map_table *old = ovsrcu_get_protected(struct vpc_map_table *,
                                                     &current);

    ovsrcu_set(&current, table);
    if (old) {
        ovsrcu_postpone(vpc_map_table_destroy, old);
    }
    return vpc_map_bump_generation();
}

/* Counters. */

static void
vpc_map_counters_destruct(void *counters_)
{
    struct vpc_map_counters *c = counters_;
    uint64_t v;

    ovs_mutex_lock(&stats_mutex);
    atomic_read_relaxed(&c->hits, &v);
    retired.hits += v;
    atomic_read_relaxed(&c->misses, &v);
    retired.misses += v;
    atomic_read_relaxed(&c->verify_ok, &v);
    retired.verify_ok += v;
    atomic_read_relaxed(&c->spoofed, &v);
    retired.spoofed += v;
    ovs_list_remove(&c->list_node);
    ovs_mutex_unlock(&stats_mutex);

    free_cacheline(c);
}

static struct vpc_map_counters *
vpc_map_counters_create(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;
    struct vpc_map_counters *c;

    if (ovsthread_once_start(&once)) {
        ovsthread_key_create(&counters_key, vpc_map_counters_destruct);
        ovsthread_once_done(&once);
    }

    c = xzalloc_cacheline(sizeof *c);
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    atomic_init(&c->verify_ok, 0);
    atomic_init(&c->spoofed, 0);

    ovs_mutex_lock(&stats_mutex);
    ovs_list_push_back(&all_counters, &c->list_node);
    ovs_mutex_unlock(&stats_mutex);

    /* Only for its destructor, which runs when this thread exits. */
    ovsthread_setspecific(counters_key, c);
    return c;
}

static inline struct vpc_map_counters *
vpc_map_counters_get(void)
{
    struct vpc_map_counters **cp = thread_counters_get();

    if (OVS_UNLIKELY(!*cp)) {
        *cp = vpc_map_counters_create();
    }
    return *cp;
}

static inline void
vpc_map_count_event(atomic_uint64_t *counter)
{
    uint64_t v;

    atomic_read_relaxed(counter, &v);
    atomic_store_relaxed(counter, v + 1);
}

/* Public API. */

/* Initializes the cache and registers its unixctl commands.  Idempotent.
 * The other functions also work without it, but the commands exist only
 * after it. */
void
vpc_map_init(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        ovs_mutex_lock(&mutex);
        vpc_map_get_table_protected();
        ovs_mutex_unlock(&mutex);

        vpc_map_unixctl_register();
        ovsthread_once_done(&once);
    }
}

/* Looks up the mapping for ('vni', 'vip').  If there is one, copies it into
 * '*out' and returns true; otherwise returns false and leaves '*out' alone.
 * Lock-free.  Counts a hit or a miss. */
bool
vpc_map_lookup(uint32_t vni, ovs_be32 vip, struct vpc_map_entry *out)
{
    struct vpc_map_counters *c = vpc_map_counters_get();
    struct vpc_map_table *table = ovsrcu_get(struct vpc_map_table *,
                                             &current);
    const struct vpc_map_node *node;

    node = table ? vpc_map_table_find(table, vni, vip) : NULL;
    if (node) {
        *out = node->entry;
        vpc_map_count_event(&c->hits);
        COVERAGE_INC(vpc_map_hit);
        return true;
    }
    vpc_map_count_event(&c->misses);
    COVERAGE_INC(vpc_map_miss);
    return false;
}

/* Returns true if ('vni', 'vip') is mapped to underlay 'outer_src', that is,
 * if a packet from overlay address 'vip' in 'vni' that arrived from underlay
 * host 'outer_src' came from the host that holds 'vip'.  Returns false, and
 * logs (rate-limited), if the mapping is missing or names another host.
 * Lock-free.  Counts a verify_ok or a spoofed; never a hit or a miss. */
bool
vpc_map_verify(uint32_t vni, ovs_be32 vip, ovs_be32 outer_src)
{
    struct vpc_map_counters *c = vpc_map_counters_get();
    struct vpc_map_table *table = ovsrcu_get(struct vpc_map_table *,
                                             &current);
    const struct vpc_map_node *node;

    node = table ? vpc_map_table_find(table, vni, vip) : NULL;
    if (node && node->entry.underlay == outer_src) {
        vpc_map_count_event(&c->verify_ok);
        COVERAGE_INC(vpc_map_verify_ok);
        return true;
    }

    vpc_map_count_event(&c->spoofed);
    COVERAGE_INC(vpc_map_spoofed);

    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    if (!VLOG_DROP_WARN(&rl)) {
        if (node) {
            VLOG_WARN("vni=%"PRIu32" "IP_FMT" from "IP_FMT", expected "
                      IP_FMT": dropped as spoofed", vni, IP_ARGS(vip),
                      IP_ARGS(outer_src), IP_ARGS(node->entry.underlay));
        } else {
            VLOG_WARN("vni=%"PRIu32" "IP_FMT" from "IP_FMT", no mapping: "
                      "dropped as spoofed", vni, IP_ARGS(vip),
                      IP_ARGS(outer_src));
        }
    }
    return false;
}

/* Returns the number of entries in the published table.  Lock-free. */
size_t
vpc_map_count(void)
{
    struct vpc_map_table *table = ovsrcu_get(struct vpc_map_table *,
                                             &current);

    return table ? cmap_count(&table->cmap) : 0;
}

/* Returns the generation: 0 at startup, bumped by every set, flush and batch
 * commit and by every del that removed an entry. */
uint64_t
vpc_map_generation(void)
{
    uint64_t g;

    atomic_read_relaxed(&generation, &g);
    return g;
}

/* Stores into '*stats' the counters summed over every thread.  Exact for
 * threads that have exited or are not counting concurrently. */
void
vpc_map_get_stats(struct vpc_map_stats *stats)
{
    const struct vpc_map_counters *c;

    ovs_mutex_lock(&stats_mutex);
    *stats = retired;
    LIST_FOR_EACH (c, list_node, &all_counters) {
        uint64_t v;

        atomic_read_relaxed(&CONST_CAST(struct vpc_map_counters *, c)->hits,
                            &v);
        stats->hits += v;
        atomic_read_relaxed(&CONST_CAST(struct vpc_map_counters *, c)->misses,
                            &v);
        stats->misses += v;
        atomic_read_relaxed(
            &CONST_CAST(struct vpc_map_counters *, c)->verify_ok, &v);
        stats->verify_ok += v;
        atomic_read_relaxed(
            &CONST_CAST(struct vpc_map_counters *, c)->spoofed, &v);
        stats->spoofed += v;
    }
    ovs_mutex_unlock(&stats_mutex);
}

static int
vpc_map_entry_cmp(const void *a_, const void *b_)
{
    const struct vpc_map_entry *a = a_, *b = b_;
    uint32_t a_vip = ntohl(a->vip), b_vip = ntohl(b->vip);

    return (a->vni != b->vni ? (a->vni < b->vni ? -1 : 1)
            : a_vip != b_vip ? (a_vip < b_vip ? -1 : 1)
            : 0);
}

/* Returns a malloc()'d copy of every entry, sorted by VNI then VIP (as
 * numbers), and stores their number in '*n'.  The caller frees the array. */
struct vpc_map_entry *
vpc_map_dump(size_t *n)
{
    struct vpc_map_entry *entries = NULL;
    const struct vpc_map_node *node;
    struct vpc_map_table *table;
    size_t i = 0;

    ovs_mutex_lock(&mutex);
    table = ovsrcu_get_protected(struct vpc_map_table *, &current);
    if (table) {
        entries = xmalloc(MAX(cmap_count(&table->cmap), 1) * sizeof *entries);
        CMAP_FOR_EACH (node, cmap_node, &table->cmap) {
            entries[i++] = node->entry;
        }
    }
    ovs_mutex_unlock(&mutex);

    if (i > 1) {
        qsort(entries, i, sizeof *entries, vpc_map_entry_cmp);
    }
    *n = i;
    return entries;
}

/* Adds '*entry', or replaces the entry with the same (vni, vip).  Readers see
 * either the old or the new entry, never neither. */
void
vpc_map_set(const struct vpc_map_entry *entry)
{
    ovs_mutex_lock(&mutex);
    vpc_map_table_set(vpc_map_get_table_protected(), entry, true);
    vpc_map_bump_generation();
    ovs_mutex_unlock(&mutex);
}

/* Removes the entry for ('vni', 'vip').  Returns true if there was one. */
bool
vpc_map_del(uint32_t vni, ovs_be32 vip)
{
    struct vpc_map_table *table;
    struct vpc_map_node *node;

    ovs_mutex_lock(&mutex);
    table = ovsrcu_get_protected(struct vpc_map_table *, &current);
    node = table ? vpc_map_table_find(table, vni, vip) : NULL;
    if (node) {
        cmap_remove(&table->cmap, &node->cmap_node, vpc_map_hash(vni, vip));
        ovsrcu_postpone(free, node);
        vpc_map_bump_generation();
    }
    ovs_mutex_unlock(&mutex);

    return node != NULL;
}

/* Removes every entry, by publishing an empty table. */
void
vpc_map_flush(void)
{
    ovs_mutex_lock(&mutex);
    vpc_map_publish(vpc_map_table_create());
    ovs_mutex_unlock(&mutex);
}

/* Batches. */

/* Returns a new, empty batch.  Building it takes no lock and is invisible to
 * readers until vpc_map_batch_commit(). */
struct vpc_map_batch *
vpc_map_batch_create(void)
{
    struct vpc_map_batch *batch = xmalloc(sizeof *batch);

    batch->table = vpc_map_table_create();
    return batch;
}

/* Adds a copy of '*entry' to 'batch'.  A later entry with the same
 * (vni, vip) replaces an earlier one. */
void
vpc_map_batch_add(struct vpc_map_batch *batch,
                  const struct vpc_map_entry *entry)
{
    vpc_map_table_set(batch->table, entry, false);
}

/* Returns the number of distinct entries in 'batch'. */
size_t
vpc_map_batch_count(const struct vpc_map_batch *batch)
{
    return cmap_count(&batch->table->cmap);
}

/* Replaces the whole table by the contents of 'batch', in one pointer swap,
 * and frees 'batch'.  The old table is destroyed after a grace period.
 * Returns the new generation. */
uint64_t
vpc_map_batch_commit(struct vpc_map_batch *batch)
{
    uint64_t g;

    ovs_mutex_lock(&mutex);
    g = vpc_map_publish(batch->table);
    ovs_mutex_unlock(&mutex);

    free(batch);
    return g;
}

/* Frees 'batch' without changing the cache.  Null is allowed. */
void
vpc_map_batch_destroy(struct vpc_map_batch *batch)
{
    if (batch) {
        vpc_map_table_destroy(batch->table);
        free(batch);
    }
}
