/* regiondb/regiondb-private.h: what regiondb.c shares with the other files
 * of regiondb/ (write.c): the connection, the row writer that rdb_load()
 * uses (every row of the database is written by rdb_write_row(), so that
 * whatever it derives is filled for every writer) and the replica reader.
 * Not an interface for code outside regiondb/. */

#ifndef REGIONDB_REGIONDB_PRIVATE_H
#define REGIONDB_REGIONDB_PRIVATE_H 1

#include <stdbool.h>
#include <stdint.h>
#include "openvswitch/shash.h"
#include "regiondb/regiondb.h"
#include "regiondb/region-idl.h"

struct json;
struct ovsdb_idl;
struct ovsdb_idl_row;
struct ovsdb_idl_txn;
struct ovsdb_idl_column;
struct ovsdb_idl_table_class;

/* One transaction being built. */
struct rdb_ctx {
    struct ovsdb_idl *idl;
    struct ovsdb_idl_txn *txn;
    struct shash ids[RDBREC_N_TABLES];  /* Per root table: id -> row, the
                                         * rows the document keeps (or, for
                                         * an object write, every row a
                                         * reference may name). */
    struct rdb_load_stats stats;

    /* For derived columns (the followers' conditions). */
    struct shash vpc_of;        /* Object id -> its VPC's id. */
    const char *parent_id;      /* Object whose nested lists are written. */
    int64_t gw_base;            /* Gateways of the kinds before this one. */
};

/* Before rdb_write_row() of object 'obj' (or of the objects of its ordered
 * collection) of 'collection' in document 'doc' (the region as it will
 * be): what its derived columns need, the object's VPC and the gateway
 * numbering base.  Costs the object, not the region. */
void rdb_ctx_prepare_object(struct rdb_ctx *, const struct json *doc,
                            const char *collection, const struct json *obj);
/* The id of the VPC of object 'obj' of 'collection' in 'doc' (its own id
 * for a VPC, its "vpc", or its subnet's), or NULL: the row its derived
 * 'vpc' columns reference. */
const char *rdb_object_vpc(const struct json *doc, const char *collection,
                           const struct json *obj);

char *rdb_connect(const char *remotes, long long deadline, bool leader_only,
                  struct ovsdb_idl **idlp);
struct ovsdb_idl_index;
char *rdb_connect_indexed(const char *remotes, long long deadline,
                          bool leader_only,
                          struct ovsdb_idl_index **id_indexes,
                          struct ovsdb_idl **idlp);
const struct ovsdb_idl_table_class *rdb_table(const char *name);
const struct ovsdb_idl_column *rdb_column(
    const struct ovsdb_idl_table_class *, const char *name);
const char *rdb_row_id(const struct ovsdb_idl_row *);
const struct ovsdb_idl_table_class *rdb_ref_table(
    const struct ovsdb_idl_column *);
bool rdb_is_child_list(const struct ovsdb_idl_column *);

/* Makes 'row' hold document object 'obj' ('position': its index in an
 * ordered collection); deletes 'row' and its nested rows; builds the whole
 * transaction of rdb_load() for 'doc'. */
char *rdb_write_row(struct rdb_ctx *, const struct ovsdb_idl_row *row,
                    bool is_new, const struct json *obj, const char *path,
                    int64_t position);
void rdb_delete_row(struct rdb_ctx *, const struct ovsdb_idl_row *);
char *rdb_build_txn(struct rdb_ctx *, const struct json *doc);

/* The table of document collection 'key' (NULL if it is none), and
 * whether that collection keeps document order ('ordered' may be NULL). */
const char *rdb_collection_table(const char *key, bool *ordered);

/* For other writers of regiondb/ (access.c): the handle's IDL, and a
 * commit of 'txn' on it within 'timeout_ms' (NULL or an error; the caller
 * destroys 'txn'). */
struct rdb_handle;
struct ovsdb_idl *rdb_handle_idl(struct rdb_handle *);
char *rdb_handle_commit(struct rdb_handle *, struct ovsdb_idl_txn *,
                        int timeout_ms);

/* The region document that 'idl''s replica holds (as rdb_dump()). */
char *rdb_dump_idl(struct ovsdb_idl *, struct json **docp);

#endif /* regiondb/regiondb-private.h */
