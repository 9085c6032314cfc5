/* ovs-ext/vpc-map.h: the per-host VPC mapping cache, (VNI, VIP) -> underlay.
 *
 * Purpose.  The vpc_encap and vpc_verify datapath actions (lib/odp-execute.c)
 * ask this cache, once per packet, which underlay host holds an overlay
 * address: vpc_map_lookup() on transmit, vpc_map_verify() on receive to drop
 * packets whose outer source is not the host that owns the inner source.
 * The cache is filled from outside, through the "vpcmap/..." unixctl
 * commands (vpc-map-unixctl.c) or the C API below.
 *
 * Ownership.  The cache is a process-wide singleton.  Callers pass entries by
 * value: vpc_map_set() and vpc_map_batch_add() copy '*entry', and
 * vpc_map_lookup() copies the entry out, so no caller ever holds a pointer
 * into the cache.  A batch belongs to its creator until vpc_map_batch_commit()
 * or vpc_map_batch_destroy() frees it.
 *
 * Threading.  Readers (vpc_map_lookup(), vpc_map_verify(), vpc_map_count(),
 * vpc_map_generation(), vpc_map_get_stats()) may run in any thread, at any
 * time, without locks; they follow RCU rules (see ovs-rcu.h), so a thread
 * that reads must quiesce from time to time, as PMD and handler threads do.
 * Writers (set, del, flush, batch commit) serialize on an internal mutex and
 * may run in any thread.  Memory a writer replaces is freed only after an RCU
 * grace period.  A reader never misses a key that is present both before and
 * after a write: single writes replace entries in place, and a batch commit
 * publishes a whole new table with one pointer swap.  A batch that has not
 * been committed is private to one thread. */

#ifndef VPC_MAP_H
#define VPC_MAP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/types.h"

struct ds;

/* Highest VNI (VXLAN and Geneve VNIs have 24 bits). */
#define VPC_MAP_VNI_MAX 0xffffff

/* One mapping.  Immutable once published. */
struct vpc_map_entry {
    uint32_t vni;                 /* 24-bit VNI, host byte order. */
    ovs_be32 vip;                 /* Overlay (ENI) IPv4 address. */
    ovs_be32 underlay;            /* Underlay IPv4 of the host holding it. */
    struct eth_addr mac;          /* ENI MAC, or all-zeros if unknown. */
};

/* Counters, since the process started.  Exact once the threads that counted
 * have quiesced or exited (see vpc_map_get_stats()). */
struct vpc_map_stats {
    uint64_t hits;                /* vpc_map_lookup() found the key. */
    uint64_t misses;              /* vpc_map_lookup() did not. */
    uint64_t verify_ok;           /* vpc_map_verify() returned true. */
    uint64_t spoofed;             /* vpc_map_verify() returned false. */
};

void vpc_map_init(void);

/* Readers. */
bool vpc_map_lookup(uint32_t vni, ovs_be32 vip, struct vpc_map_entry *out);
bool vpc_map_verify(uint32_t vni, ovs_be32 vip, ovs_be32 outer_src);
size_t vpc_map_count(void);
uint64_t vpc_map_generation(void);
void vpc_map_get_stats(struct vpc_map_stats *);
struct vpc_map_entry *vpc_map_dump(size_t *n);

/* Single writes. */
void vpc_map_set(const struct vpc_map_entry *);
bool vpc_map_del(uint32_t vni, ovs_be32 vip);
void vpc_map_flush(void);

/* Bulk load: build a whole new table off to the side, then publish it with
 * one pointer swap, so that a full resync never leaves a window in which
 * valid traffic misses. */
struct vpc_map_batch *vpc_map_batch_create(void);
void vpc_map_batch_add(struct vpc_map_batch *, const struct vpc_map_entry *);
size_t vpc_map_batch_count(const struct vpc_map_batch *);
uint64_t vpc_map_batch_commit(struct vpc_map_batch *);
void vpc_map_batch_destroy(struct vpc_map_batch *);

/* Text forms, shared by the unixctl commands and the tests
 * (vpc-map-unixctl.c). */
char *vpc_map_parse_entry(const char *line, struct vpc_map_entry *)
    OVS_WARN_UNUSED_RESULT;
char *vpc_map_parse_args(int argc, const char *argv[],
                         struct vpc_map_entry *) OVS_WARN_UNUSED_RESULT;
char *vpc_map_load_file(const char *file_name, const size_t *expected,
                        size_t *n_entries, uint64_t *generation)
    OVS_WARN_UNUSED_RESULT;
void vpc_map_format_entry(const struct vpc_map_entry *, struct ds *);
void vpc_map_format_stats(struct ds *);
void vpc_map_format(struct ds *);

/* For vpc-map.c only: registers the "vpcmap/..." commands. */
void vpc_map_unixctl_register(void);

#endif /* vpc-map.h */
