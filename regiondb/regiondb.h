/* regiondb/regiondb.h: the region database (OVSDB) client.
 *
 * Purpose: the region's intents live in an OVSDB database of schema
 * OVS_VPC_Region (build/regiondb/region.ovsschema, generated from
 * schema/region.schema.json and schema/region.ann.json; docs/regiondb.md).
 * rdb_load() validates a whole region document with the translator and
 * diffs it into the database as one transaction that touches only the rows
 * that changed; rdb_dump() reads the database back as a region document.
 * Both talk to ovsdb-server through libopenvswitch's ovsdb-idl on OVS's
 * poll loop, with a bounded timeout.
 *
 * Ownership: every function connects, works and disconnects; nothing is
 * kept between calls.  Returned strings and JSON belong to the caller.
 *
 * Threading: single-threaded (one poll loop per call). */

#ifndef REGIONDB_REGIONDB_H
#define REGIONDB_REGIONDB_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json;
struct uuid;

/* What one rdb_load() did. */
struct rdb_load_stats {
    int64_t cfg;                /* Region cfg after the commit. */
    size_t n_inserted;          /* Rows inserted. */
    size_t n_updated;           /* Existing rows with changed columns. */
    size_t n_deleted;           /* Rows deleted. */
};

/* Validates the region document in 'file' (all errors, as 'vpcctl
 * validate' prints them, one "PATH: VALUE: RULE" line each) and, if valid,
 * makes the database at 'remotes' (one OVSDB remote or a comma-separated
 * list) hold exactly that document, in one transaction that inserts new
 * rows, writes only changed columns and deletes rows that are gone, and
 * increments Region.cfg.  Waits at most 'timeout_ms' in all.  Returns NULL
 * on success (filling 'stats') or a malloc'd error message; on error
 * nothing was committed. */
char *rdb_load(const char *remotes, const char *file, int timeout_ms,
               struct rdb_load_stats *stats);

/* Reads the database at 'remotes' back as a region document ('*docp',
 * owned by the caller).  Collections come sorted by id (gateways in their
 * stored document order), lists of ids and nested lists sorted.  Returns
 * NULL or a malloc'd error message. */
char *rdb_dump(const char *remotes, int timeout_ms, struct json **docp);

/* The region document that 'idl' (of rdbrec_idl_class) holds, as
 * rdb_dump() formats it.  With 'prune', for a follower's replica (only the
 * rows its monitor conditions select): an entry of a list that references
 * a row absent from the replica is left out, and an object with such a
 * reference elsewhere is left out whole, repeatedly, until every reference
 * of the document resolves; '*n_pruned' (if nonnull) counts the objects
 * left out.  Returns NULL or a malloc'd error. */
struct ovsdb_idl;
char *rdb_dump_replica(struct ovsdb_idl *idl, bool prune, struct json **docp,
                       size_t *n_pruned);

/* A follower's cache of rendered rows, so that dumping its replica after a
 * change renders only the rows the change touched.  Each root row's JSON is
 * kept with the UUIDs of every row its rendering read (nested rows,
 * referenced rows, missing ones); rdb_dump_cache_note() a row that changed
 * (inserted, modified or deleted: the IDL's tracked rows, before
 * ovsdb_idl_track_clear()) and every cached row that read it is rendered
 * again by the next dump.  Rows pruned from one dump to the next are
 * noticed by the dump itself.  rdb_dump_cache_clear() forgets everything
 * (e.g. after a reconnection). */
struct rdb_dump_cache;
struct rdb_dump_cache *rdb_dump_cache_create(void);
void rdb_dump_cache_destroy(struct rdb_dump_cache *);
void rdb_dump_cache_note(struct rdb_dump_cache *, const struct uuid *);
void rdb_dump_cache_clear(struct rdb_dump_cache *);
/* Rows rendered and reused by the dumps so far. */
void rdb_dump_cache_stats(const struct rdb_dump_cache *,
                          uint64_t *rendered, uint64_t *reused);

/* rdb_dump_replica(idl, true, ...) through 'cache': the same document. */
char *rdb_dump_replica_cached(struct ovsdb_idl *idl,
                              struct rdb_dump_cache *cache,
                              struct json **docp, size_t *n_pruned);

#endif /* regiondb/regiondb.h */
