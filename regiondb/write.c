/* regiondb/write.c: validated object-level writes and waiting for hosts
 * (see write.h and docs/regiondb.md). */

#include <config.h>

#include "regiondb/write.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "ovsdb-data.h"
#include "ovsdb-idl.h"
#include "ovsdb-idl-provider.h"
#include "regiondb/affected.h"
#include "regiondb/regiondb-private.h"
#include "regiondb/scope.h"
#include "regiondb/region-idl.h"
#include "timeval.h"
#include "translator/model.h"
#include "translator/validator.h"
#include "util.h"
#include "uuid.h"

VLOG_DEFINE_THIS_MODULE(regiondb_write);

/* Commits tried before a write gives up racing other writers. */
#define RDB_MAX_ATTEMPTS 20

struct rdb_handle {
    char *remotes;
    struct ovsdb_idl *idl;
    struct ovsdb_idl_index *id_index[RDBREC_N_TABLES];  /* By "id". */
    struct vpc_validator *v;    /* The region at Region.cfg 'v_cfg', or
                                 * NULL: rebuild it from the replica. */
    int64_t v_cfg;
    struct uuid v_root;         /* The Region row it was built from (a
                                 * database created anew has another). */

    /* Counters, for /v1/status. */
    uint64_t n_commits;         /* Writes committed. */
    uint64_t n_retries;         /* Commits that lost a race (try again). */
    uint64_t n_refused;         /* Changes the validator refused. */
    uint64_t n_rebuilds;        /* Validators rebuilt from the replica. */

    /* Reconnection (rdb_run()). */
    char *session_remotes;      /* The list the IDL's session was opened
                                 * with: 'remotes', perhaps rotated. */
    long long int down_since;   /* When it was last seen disconnected
                                 * (LLONG_MIN while connected). */
    bool reply_lost;            /* rdb_commit(): the connection went down
                                 * with the transaction sent, unanswered. */
};

void
rdb_write_result_init(struct rdb_write_result *r)
{
    r->cfg = 0;
    sset_init(&r->hosts);
    r->attempts = 0;
}

void
rdb_write_result_destroy(struct rdb_write_result *r)
{
    sset_destroy(&r->hosts);
}

char *
rdb_open(const char *remotes, int timeout_ms, struct rdb_handle **hp)
{
    struct rdb_handle *h = xzalloc(sizeof *h);
    char *error = rdb_connect_indexed(remotes, time_msec() + timeout_ms, true,
                                      h->id_index, &h->idl);
    if (error) {
        free(h);
        return error;
    }
    h->remotes = xstrdup(remotes);
    h->session_remotes = xstrdup(remotes);
    h->down_since = LLONG_MIN;
    *hp = h;
    return NULL;
}

void
rdb_close(struct rdb_handle *h)
{
    if (h) {
        vpc_validator_destroy(h->v);
        ovsdb_idl_destroy(h->idl);
        free(h->remotes);
        free(h->session_remotes);
        free(h);
    }
}

/* How long a handle stays disconnected before rdb_run() reopens its
 * session. */
#define RDB_RECONNECT_MS 1000

/* After a leader change, the IDL's session has tried every remote of the
 * list within moments (the old leader gone, the others followers until the
 * election ends: a leader-only client counts those as failed attempts), and
 * then backs off, doubling up to 8 s, so that writes are refused for
 * seconds after a new leader is elected.  While the handle has been
 * disconnected for RDB_RECONNECT_MS, this reopens the session with the list
 * rotated (ovsdb_idl_set_remote() opens a new session only for another
 * string): a new session starts with no backoff.  The replica is kept, and
 * the IDL resumes it with monitor_cond_since. */
static void
rdb_reconnect(struct rdb_handle *h)
{
    long long int now = time_msec();
    if (ovsdb_idl_is_connected(h->idl)) {
        h->down_since = LLONG_MIN;
        return;
    }
    if (h->down_since == LLONG_MIN) {
        h->down_since = now;
        return;
    }
    if (now - h->down_since < RDB_RECONNECT_MS || !strchr(h->remotes, ',')) {
        return;
    }
    /* "a,b,c" becomes "b,c,a". */
    const char *comma = strchr(h->session_remotes, ',');
    char *rotated = xasprintf("%s,%.*s", comma + 1,
                              (int) (comma - h->session_remotes),
                              h->session_remotes);
    free(h->session_remotes);
    h->session_remotes = rotated;
    VLOG_INFO("%s: disconnected for %lld ms, reconnecting at once",
              h->remotes, now - h->down_since);
    ovsdb_idl_set_remote(h->idl, h->session_remotes, true);
    h->down_since = now;
}

void
rdb_run(struct rdb_handle *h)
{
    ovsdb_idl_run(h->idl);
    rdb_reconnect(h);
}

void
rdb_wait(struct rdb_handle *h)
{
    ovsdb_idl_wait(h->idl);
}

bool
rdb_is_connected(const struct rdb_handle *h)
{
    return ovsdb_idl_is_connected(h->idl);
}

int64_t
rdb_cfg(const struct rdb_handle *h)
{
    const struct rdbrec_region *root = rdbrec_region_first(h->idl);
    return root ? root->cfg : 0;
}

bool
rdb_is_collection(const char *collection)
{
    return rdb_collection_table(collection, NULL) != NULL;
}

/* Makes the validator hold the region of the replica's Region.cfg. */
/* The Region row's UUID, or all-zeros if there is none. */
static struct uuid
rdb_root_uuid(const struct rdb_handle *h)
{
    const struct rdbrec_region *root = rdbrec_region_first(h->idl);
    struct uuid u = UUID_ZERO;
    return root ? root->header_.uuid : u;
}

static char *
rdb_sync(struct rdb_handle *h)
{
    int64_t cfg = rdb_cfg(h);
    struct uuid root = rdb_root_uuid(h);
    if (h->v && h->v_cfg == cfg && uuid_equals(&h->v_root, &root)) {
        return NULL;
    }
    vpc_validator_destroy(h->v);
    h->v = NULL;
    h->n_rebuilds++;

    struct json *doc;
    char *error = rdb_dump_idl(h->idl, &doc);
    if (error) {
        return error;
    }
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    h->v = vpc_validator_create(doc, &errs);
    json_destroy(doc);
    if (!h->v) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "%s: the database holds an invalid region (cfg "
                      "%"PRId64", written without validation?); no object "
                      "write can be validated until a valid document is "
                      "loaded (positions as in vpcctl dump):", h->remotes,
                      cfg);
        for (size_t i = 0; i < errs.n; i++) {
            ds_put_format(&s, "\n  %s", errs.msgs[i]);
        }
        vpc_errors_destroy(&errs);
        return ds_steal_cstr(&s);
    }
    vpc_errors_destroy(&errs);
    h->v_cfg = cfg;
    h->v_root = root;
    return NULL;
}

char *
rdb_get_document(struct rdb_handle *h, struct json **docp)
{
    return rdb_dump_idl(h->idl, docp);
}

char *
rdb_get(struct rdb_handle *h, const char *collection, const char *id,
        struct json **objp)
{
    *objp = NULL;
    if (!rdb_is_collection(collection)) {
        return xasprintf("%s: not a collection of the region document",
                         collection);
    }
    char *error = rdb_sync(h);
    if (!error) {
        const struct json *obj = vpc_validator_get(h->v, collection, id);
        *objp = obj ? json_deep_clone(obj) : NULL;
    }
    return error;
}

/* Affected hosts (the rest is regiondb/affected.c). */

static const char *
rdb_jstr(const struct json *obj, const char *field)
{
    const struct json *v = (obj && obj->type == JSON_OBJECT
                            ? shash_find_data(json_object(obj), field)
                            : NULL);
    return v && v->type == JSON_STRING ? json_string(v) : NULL;
}

/* Adds every host and edge of 'doc' to 'hosts'. */
static void
rdb_all_hosts(const struct json *doc, struct sset *hosts)
{
    static const char *const colls[] = { "hosts", "edges" };
    for (size_t c = 0; c < ARRAY_SIZE(colls); c++) {
        const struct json *a = shash_find_data(json_object(doc), colls[c]);
        for (size_t i = 0; a && a->type == JSON_ARRAY
                           && i < json_array(a)->n; i++) {
            const char *id = rdb_jstr(json_array(a)->elems[i], "id");
            if (id) {
                sset_add(hosts, id);
            }
        }
    }
}

/* Transactions. */

/* Marks in 'need' the root tables whose ids a row of 'tc' (and of its
 * nested lists) may reference. */
static void
rdb_referenced_tables(const struct ovsdb_idl_table_class *tc, bool *need)
{
    for (size_t i = 0; i < tc->n_columns; i++) {
        const struct ovsdb_idl_table_class *ref
            = rdb_ref_table(&tc->columns[i]);
        if (ref && ref->is_root) {
            need[ref - rdbrec_idl_class.tables] = true;
        } else if (ref && ref != tc) {
            rdb_referenced_tables(ref, need);
        }
    }
}

/* The row of table 'ti' whose id is 'id', through the IDL's index. */
static const struct ovsdb_idl_row *
rdb_find_by_id(struct rdb_handle *h, size_t ti, const char *id)
{
    struct ovsdb_idl_index *index = h->id_index[ti];
    const struct ovsdb_idl_table_class *tc = &rdbrec_idl_class.tables[ti];
    struct ovsdb_idl_row *key = ovsdb_idl_index_init_row(index);
    struct ovsdb_datum d;
    ovsdb_datum_init_empty(&d);
    d.n = 1;
    d.keys = xmalloc(sizeof *d.keys);
    d.keys[0].s = ovsdb_atom_string_create(id);
    ovsdb_idl_index_write(key, rdb_column(tc, "id"), &d, tc);
    const struct ovsdb_idl_row *row = ovsdb_idl_index_find(index, key);
    ovsdb_idl_index_destroy_row(key);
    return row;
}

/* Adds every string of 'j' (recursively) to 'strings'. */
static void
rdb_json_strings(const struct json *j, struct sset *strings)
{
    if (!j) {
        return;
    }
    if (j->type == JSON_STRING) {
        sset_add(strings, json_string(j));
    } else if (j->type == JSON_ARRAY) {
        for (size_t i = 0; i < json_array(j)->n; i++) {
            rdb_json_strings(json_array(j)->elems[i], strings);
        }
    } else if (j->type == JSON_OBJECT) {
        struct shash_node *node;
        SHASH_FOR_EACH (node, json_object(j)) {
            rdb_json_strings(node->data, strings);
        }
    }
}

static void
rdb_ctx_init__(struct rdb_ctx *ctx, struct ovsdb_idl *idl)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->idl = idl;
    ctx->txn = ovsdb_idl_txn_create(idl);
    for (size_t i = 0; i < RDBREC_N_TABLES; i++) {
        shash_init(&ctx->ids[i]);
    }
    shash_init(&ctx->vpc_of);
}

/* Starts a transaction for a whole-document import (rdb_build_txn() fills
 * the ids itself). */
static void
rdb_ctx_init_import(struct rdb_ctx *ctx, struct ovsdb_idl *idl)
{
    rdb_ctx_init__(ctx, idl);
}

/* Starts a transaction that writes object 'obj' (NULL: deletes it) of
 * table 'tc' with id 'id': indexes by id, for rdb_write_row(), the row of
 * 'id' and every row that a string of 'obj' may name in a table that its
 * references (and its nested lists') point to, found through the IDL's
 * indexes, so that the cost does not grow with the region.  In an ordered
 * collection (gateways, a few rows, 'coll' in the new document), every row
 * of the table and what they name: a delete rewrites their positions. */
static void
rdb_ctx_init_object(struct rdb_ctx *ctx, struct rdb_handle *h,
                    const struct ovsdb_idl_table_class *tc, bool ordered,
                    const char *id, const struct json *obj,
                    const struct json *doc, const char *collection)
{
    const struct json *coll = shash_find_data(json_object(doc), collection);
    rdb_ctx_init__(ctx, h->idl);
    size_t own = tc - rdbrec_idl_class.tables;
    bool need[RDBREC_N_TABLES] = { false };
    rdb_referenced_tables(tc, need);

    struct sset strings = SSET_INITIALIZER(&strings);
    rdb_json_strings(obj, &strings);
    /* The VPC that its derived 'vpc' columns (and its nested rows') name,
     * which the object may name only through its subnet. */
    const char *vpc = obj ? rdb_object_vpc(doc, collection, obj) : NULL;
    if (vpc) {
        sset_add(&strings, vpc);
    }
    if (ordered) {
        /* A delete rewrites the positions of the others, so every object
         * of the collection is written. */
        rdb_json_strings(coll, &strings);
        for (size_t i = 0; coll && i < json_array(coll)->n; i++) {
            vpc = rdb_object_vpc(doc, collection, json_array(coll)->elems[i]);
            if (vpc) {
                sset_add(&strings, vpc);
            }
        }
    }
    for (size_t i = 0; i < RDBREC_N_TABLES; i++) {
        if (!h->id_index[i]) {
            continue;
        }
        if (i == own && ordered) {
            const struct ovsdb_idl_row *row;
            for (row = ovsdb_idl_first_row(h->idl, tc); row;
                 row = ovsdb_idl_next_row(row)) {
                shash_add_once(&ctx->ids[i], rdb_row_id(row), row);
            }
            continue;
        }
        if (i == own) {
            const struct ovsdb_idl_row *row = rdb_find_by_id(h, i, id);
            if (row) {
                shash_add_once(&ctx->ids[i], id, row);
            }
        }
        if (!need[i]) {
            continue;
        }
        const char *s;
        SSET_FOR_EACH (s, &strings) {
            const struct ovsdb_idl_row *row = rdb_find_by_id(h, i, s);
            if (row) {
                shash_add_once(&ctx->ids[i], s, row);
            }
        }
    }
    sset_destroy(&strings);
}

static void
rdb_ctx_destroy(struct rdb_ctx *ctx)
{
    ovsdb_idl_txn_destroy(ctx->txn);
    for (size_t i = 0; i < RDBREC_N_TABLES; i++) {
        shash_destroy(&ctx->ids[i]);
    }
    shash_destroy(&ctx->vpc_of);
}

static void rdb_txn_failed(struct rdb_handle *, struct ovsdb_idl_txn *,
                           enum ovsdb_idl_txn_status, char **error);

/* For tests only: $VPC_RDB_TEST_LOSE_REPLY=1 makes the first object write
 * of this process drop its connection right after sending its
 * transaction, as a leader dying before it replies would
 * (tests/sandbox/regiondb-cluster.sh). */
static bool
rdb_test_lose_reply(void)
{
    static bool done;
    const char *s = getenv("VPC_RDB_TEST_LOSE_REPLY");
    if (done || !s || strcmp(s, "1")) {
        return false;
    }
    done = true;
    return true;
}

/* Commits 'txn', running the IDL until the reply or 'deadline'. */
static enum ovsdb_idl_txn_status
rdb_commit(struct rdb_handle *h, struct ovsdb_idl_txn *txn,
           long long deadline, char **error)
{
    bool sent = false;
    for (;;) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(txn);
        if (status != TXN_INCOMPLETE) {
            /* A transaction sent, then aborted as "try again" because the
             * connection went down (ovsdb_idl_run() aborts every
             * outstanding transaction on a reconnect), may have been
             * committed: the leader may have replicated it before it went
             * away. */
            if (sent && status == TXN_TRY_AGAIN
                && !ovsdb_idl_is_connected(h->idl)) {
                h->reply_lost = true;
            }
            return status;
        }
        if (!sent && rdb_test_lose_reply()) {
            /* The transaction is on its way: drop the connection before
             * the reply can come back. */
            ovsdb_idl_force_reconnect(h->idl);
        }
        sent = true;
        if (time_msec() >= deadline) {
            *error = xasprintf("%s: no reply to the transaction within the "
                               "timeout; it may or may not have been "
                               "committed", h->remotes);
            return TXN_ERROR;
        }
        ovsdb_idl_run(h->idl);
        ovsdb_idl_wait(h->idl);
        ovsdb_idl_txn_wait(txn);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* After an attempt whose reply was lost (rdb_commit()), 'error', which
 * may say that nothing was committed, is not the whole truth: the write
 * may have been committed by that attempt.  Returns the message to give
 * instead. */
static char *
rdb_maybe_committed(struct rdb_handle *h, char *error)
{
    if (!h->reply_lost || !error) {
        return error;
    }
    char *e = xasprintf("%s: the connection to the leader was lost before "
                        "it replied to an attempt of this write, which may "
                        "or may not have been committed; the last attempt: "
                        "%s", h->remotes, error);
    free(error);
    return e;
}

/* A write while the IDL is reconnecting would only get "try again" until
 * its timeout: refuse it at once. */
static char *
rdb_not_connected(const struct rdb_handle *h)
{
    return xasprintf("%s: not connected to the region database "
                     "(reconnecting); nothing committed", h->remotes);
}

struct ovsdb_idl *
rdb_handle_idl(struct rdb_handle *h)
{
    return h->idl;
}

char *
rdb_handle_commit(struct rdb_handle *h, struct ovsdb_idl_txn *txn,
                  int timeout_ms)
{
    char *error = NULL;
    h->reply_lost = false;
    enum ovsdb_idl_txn_status status
        = rdb_commit(h, txn, time_msec() + timeout_ms, &error);
    if (!error && status != TXN_SUCCESS && status != TXN_UNCHANGED) {
        rdb_txn_failed(h, txn, status, &error);
    }
    return rdb_maybe_committed(h, error);
}

/* After TXN_TRY_AGAIN: waits until the replica changes.  The change is
 * looked for right after each ovsdb_idl_run(), which is what applies it:
 * blocking first would wait for the next message or the deadline. */
static void
rdb_wait_change(struct rdb_handle *h, unsigned int seqno, long long deadline)
{
    for (;;) {
        ovsdb_idl_run(h->idl);
        if (ovsdb_idl_get_seqno(h->idl) != seqno || time_msec() >= deadline) {
            return;
        }
        ovsdb_idl_wait(h->idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* For tests only: $VPC_RDB_TEST_COMMIT_DELAY_MS makes every object write
 * sleep that long between validating and committing, so that concurrent
 * writers surely overlap (tests/sandbox/regiondb-write.sh). */
static void
rdb_test_delay(void)
{
    const char *s = getenv("VPC_RDB_TEST_COMMIT_DELAY_MS");
    int ms = s ? atoi(s) : 0;
    if (ms > 0) {
        xnanosleep((long long) ms * 1000 * 1000);
    }
}

/* Verifies Region.cfg and increments it (inserting the Region row in an
 * empty database), and stamps the change with the new cfg: on the rows of
 * 'vpcs' (VPC ids: the VPCs the changed object belongs to, before and
 * after), or on Region.global_cfg if 'global' (an object of no VPC).  The
 * new cfg is the replica's + 1: the verify makes the commit fail
 * otherwise.  Followers acknowledge the stamps they see, so a stamp must
 * land on a row that every affected host monitors (docs/regiondb.md,
 * "Stamps"). */
static void
rdb_bump_cfg(struct rdb_ctx *ctx, struct rdb_handle *h,
             const struct sset *vpcs, bool global)
{
    const struct rdbrec_region *root = rdbrec_region_first(ctx->idl);
    int64_t cfg;
    if (root) {
        cfg = root->cfg + 1;
        ovsdb_idl_txn_verify(&root->header_, &rdbrec_region_col_cfg);
        ovsdb_idl_txn_increment(ctx->txn, &root->header_,
                                &rdbrec_region_col_cfg, true);
    } else {
        struct rdbrec_region *r = rdbrec_region_insert(ctx->txn);
        rdbrec_region_set_cfg(r, 1);
        root = r;
        cfg = 1;
    }
    if (global) {
        rdbrec_region_set_global_cfg(root, cfg);
    }
    size_t ti = &rdbrec_table_vpc - rdbrec_idl_class.tables;
    const char *id;
    SSET_FOR_EACH (id, vpcs) {
        /* A VPC this transaction inserts is in ctx->ids only. */
        const struct ovsdb_idl_row *row = shash_find_data(&ctx->ids[ti], id);
        if (!row) {
            row = rdb_find_by_id(h, ti, id);
        }
        if (row) {
            rdbrec_vpc_set_cfg(CONTAINER_OF(row, struct rdbrec_vpc, header_),
                               cfg);
        }
    }
}

/* Writes one object: 'obj' (NULL: delete), already applied to the
 * validator, whose document is now 'doc'. */
static char *
rdb_build_object_txn(struct rdb_ctx *ctx, const char *collection,
                     const char *id, const struct json *obj,
                     const struct json *doc)
{
    bool ordered = false;
    const struct ovsdb_idl_table_class *tc
        = rdb_table(rdb_collection_table(collection, &ordered));
    size_t ti = tc - rdbrec_idl_class.tables;
    const struct ovsdb_idl_row *row = shash_find_data(&ctx->ids[ti], id);
    const struct json *coll = shash_find_data(json_object(doc), collection);
    size_t n = coll ? json_array(coll)->n : 0;
    char *error = NULL;

    if (obj) {
        size_t position = 0;
        for (size_t i = 0; i < n; i++) {
            const char *oid = rdb_jstr(json_array(coll)->elems[i], "id");
            if (oid && !strcmp(oid, id)) {
                position = i;
            }
        }
        bool is_new = !row;
        if (is_new) {
            row = ovsdb_idl_txn_insert(ctx->txn, tc, NULL);
            shash_add(&ctx->ids[ti], id, row);
            ctx->stats.n_inserted++;
        }
        char *path = xasprintf("$.%s[%s]", collection, id);
        rdb_ctx_prepare_object(ctx, doc, collection, obj);
        error = rdb_write_row(ctx, row, is_new, obj, path, position);
        free(path);
    } else {
        if (!row) {
            return xasprintf("$.%s[%s]: no such object", collection, id);
        }
        rdb_delete_row(ctx, row);
        /* The objects after it moved up one place. */
        for (size_t i = 0; ordered && i < n && !error; i++) {
            const struct json *o = json_array(coll)->elems[i];
            const struct ovsdb_idl_row *r
                = shash_find_data(&ctx->ids[ti], rdb_jstr(o, "id"));
            if (r) {
                char *path = xasprintf("$.%s[%s]", collection,
                                       rdb_jstr(o, "id"));
                rdb_ctx_prepare_object(ctx, doc, collection, o);
                error = rdb_write_row(ctx, r, false, o, path, i);
                free(path);
            }
        }
    }
    return error;
}

static void
rdb_txn_failed(struct rdb_handle *h, struct ovsdb_idl_txn *txn,
               enum ovsdb_idl_txn_status status, char **error)
{
    if (!*error) {
        const char *e = ovsdb_idl_txn_get_error(txn);
        *error = xasprintf("%s: transaction failed (%s), nothing committed%s"
                           "%s", h->remotes,
                           ovsdb_idl_txn_status_to_string(status),
                           e ? ": " : "", e ? e : "");
    }
}

static char *
rdb_modify__(struct rdb_handle *h, const char *collection, const char *id,
             rdb_edit_func *edit, void *aux, int timeout_ms,
             struct vpc_errors *errors, struct rdb_write_result *result)
{
    if (!rdb_is_collection(collection)) {
        return xasprintf("%s: not a collection of the region document",
                         collection);
    }
    long long deadline = time_msec() + timeout_ms;
    char *error = NULL;

    for (int attempt = 1; ; attempt++) {
        long long int t0 = time_msec();
        ovsdb_idl_run(h->idl);
        if (!ovsdb_idl_is_connected(h->idl)) {
            return rdb_not_connected(h);
        }
        unsigned int seqno = ovsdb_idl_get_seqno(h->idl);
        error = rdb_sync(h);
        if (error) {
            return error;
        }
        long long int t1 = time_msec();

        const struct json *old = vpc_validator_get(h->v, collection, id);
        struct json *obj = NULL;
        error = edit(old, aux, &obj);
        if (error) {
            return error;
        }
        /* The hosts that the object as it is affects, in the region as it
         * is (the validator changes in place). */
        struct sset hosts = SSET_INITIALIZER(&hosts);
        long long int t_old = time_usec();
        rdb_affected_hosts(h->v, collection, old, &hosts);
        t_old = time_usec() - t_old;
        /* The VPCs to stamp: the object's, before and after. */
        struct sset stamp_vpcs = SSET_INITIALIZER(&stamp_vpcs);
        bool global = !rdb_object_vpcs(h->v, collection, old, &stamp_vpcs);
        /* A gateway deleted from an ordered collection moves the ones
         * after it up one place (and their reserved VNIs): from here. */
        bool ordered_coll = false;
        rdb_collection_table(collection, &ordered_coll);
        size_t moved_from = SIZE_MAX;
        if (!obj && ordered_coll) {
            const struct json *coll = shash_find_data(
                json_object(vpc_validator_document(h->v)), collection);
            for (size_t i = 0; coll && i < json_array(coll)->n; i++) {
                const char *oid = rdb_jstr(json_array(coll)->elems[i], "id");
                if (oid && !strcmp(oid, id)) {
                    moved_from = i;
                }
            }
        }
        size_t n_errors = errors->n;
        if (!vpc_validator_apply(h->v, collection, id, obj, errors)) {
            h->n_refused++;
            sset_destroy(&hosts);
            sset_destroy(&stamp_vpcs);
            json_destroy(obj);
            return xasprintf("%"PRIuSIZE" error%s, nothing committed",
                             errors->n - n_errors,
                             errors->n - n_errors == 1 ? "" : "s");
        }
        const struct json *doc = vpc_validator_document(h->v);
        global |= !rdb_object_vpcs(h->v, collection,
                                   vpc_validator_get(h->v, collection, id),
                                   &stamp_vpcs);
        if (!obj && !strcmp(collection, "vpcs")) {
            /* A VPC deleted: its row is gone, and no host can have it in
             * scope (its ENIs, peerings, gateways and the rules naming its
             * groups reference it strongly, so none is left). */
            sset_find_and_delete(&stamp_vpcs, id);
        }
        const struct json *moved = shash_find_data(json_object(doc),
                                                   collection);
        for (size_t i = moved_from; moved && i < json_array(moved)->n; i++) {
            /* Their rows change too: stamp, and wait for, their hosts. */
            const struct json *o = json_array(moved)->elems[i];
            global |= !rdb_object_vpcs(h->v, collection, o, &stamp_vpcs);
            rdb_affected_hosts(h->v, collection, o, &hosts);
        }
        long long int t2 = time_msec();

        bool ordered = false;
        const struct ovsdb_idl_table_class *tc
            = rdb_table(rdb_collection_table(collection, &ordered));
        struct rdb_ctx ctx;
        rdb_ctx_init_object(&ctx, h, tc, ordered, id, obj, doc, collection);
        ovsdb_idl_txn_add_comment(ctx.txn, "%s %s %s",
                                  obj ? "put" : "delete", collection, id);
        error = rdb_build_object_txn(&ctx, collection, id, obj, doc);
        enum ovsdb_idl_txn_status status = TXN_ERROR;
        if (!error) {
            rdb_bump_cfg(&ctx, h, &stamp_vpcs, global);
            rdb_test_delay();
        }
        long long int t3 = time_msec();
        if (!error) {
            status = rdb_commit(h, ctx.txn, deadline, &error);
        }
        long long int t4 = time_msec();
        if (!error && (status == TXN_SUCCESS || status == TXN_UNCHANGED)) {
            int64_t cfg = (rdbrec_region_first(h->idl)
                           && status == TXN_SUCCESS
                           && ovsdb_idl_txn_get_increment_new_value(ctx.txn)
                              >= 0
                           ? ovsdb_idl_txn_get_increment_new_value(ctx.txn)
                           : 1);
            h->v_cfg = cfg;
            h->v_root = rdb_root_uuid(h);
            h->n_commits++;
            result->cfg = cfg;
            result->attempts = attempt;
            /* And the object as it becomes, in the region after the
             * change.  A host or edge that the change deletes is not
             * waited for: its vpcd cannot compile for a host the region
             * no longer has. */
            long long int t_new = time_usec();
            rdb_affected_hosts(h->v, collection,
                               vpc_validator_get(h->v, collection, id),
                               &hosts);
            if (!obj && (!strcmp(collection, "hosts")
                         || !strcmp(collection, "edges"))) {
                sset_find_and_delete(&hosts, id);
            }
            const char *host;
            SSET_FOR_EACH (host, &hosts) {
                sset_add(&result->hosts, host);
            }
            t_new = time_usec() - t_new;
            VLOG_DBG("%s %s: sync %lld ms, validate %lld ms, transaction "
                     "%lld ms, commit %lld ms, affected hosts %lld us (%"
                     PRIuSIZE")", collection, id, t1 - t0, t2 - t1,
                     t3 - t2, t4 - t3, t_old + t_new, sset_count(&hosts));
        } else {
            /* The validator holds a change that did not commit. */
            vpc_validator_destroy(h->v);
            h->v = NULL;
            if (!error && status == TXN_TRY_AGAIN
                && attempt < RDB_MAX_ATTEMPTS && time_msec() < deadline) {
                h->n_retries++;
                rdb_ctx_destroy(&ctx);
                sset_destroy(&hosts);
                sset_destroy(&stamp_vpcs);
                json_destroy(obj);
                rdb_wait_change(h, seqno, deadline);
                continue;
            }
            rdb_txn_failed(h, ctx.txn, status, &error);
        }
        rdb_ctx_destroy(&ctx);
        sset_destroy(&hosts);
        sset_destroy(&stamp_vpcs);
        json_destroy(obj);
        return error;
    }
}

char *
rdb_modify(struct rdb_handle *h, const char *collection, const char *id,
           rdb_edit_func *edit, void *aux, int timeout_ms,
           struct vpc_errors *errors, struct rdb_write_result *result)
{
    h->reply_lost = false;
    return rdb_maybe_committed(h, rdb_modify__(h, collection, id, edit, aux,
                                               timeout_ms, errors, result));
}

struct rdb_put_aux {
    const char *collection, *id;
    const struct json *obj;
};

static char *
rdb_put_edit(const struct json *cur, void *aux_, struct json **newp)
{
    const struct rdb_put_aux *aux = aux_;
    if (!aux->obj && !cur) {
        return xasprintf("$.%s[%s]: no such object", aux->collection,
                         aux->id);
    }
    *newp = aux->obj ? json_deep_clone(aux->obj) : NULL;
    return NULL;
}

char *
rdb_put(struct rdb_handle *h, const char *collection, const char *id,
        const struct json *obj, int timeout_ms, struct vpc_errors *errors,
        struct rdb_write_result *result)
{
    struct rdb_put_aux aux = { collection, id, obj };
    return rdb_modify(h, collection, id, rdb_put_edit, &aux, timeout_ms,
                      errors, result);
}

char *
rdb_delete(struct rdb_handle *h, const char *collection, const char *id,
           int timeout_ms, struct vpc_errors *errors,
           struct rdb_write_result *result)
{
    return rdb_put(h, collection, id, NULL, timeout_ms, errors, result);
}

static char *
rdb_import__(struct rdb_handle *h, const struct json *doc, int timeout_ms,
             struct vpc_errors *errors, struct rdb_write_result *result)
{
    long long deadline = time_msec() + timeout_ms;
    size_t n_errors = errors->n;
    struct vpc_validator *v = vpc_validator_create(doc, errors);
    if (!v) {
        h->n_refused++;
        return xasprintf("%"PRIuSIZE" error%s, nothing committed",
                         errors->n - n_errors,
                         errors->n - n_errors == 1 ? "" : "s");
    }
    /* The validator's copy: vpc_validator_create() took it as it is. */
    doc = vpc_validator_document(v);
    char *error = NULL;
    for (int attempt = 1; ; attempt++) {
        ovsdb_idl_run(h->idl);
        if (!ovsdb_idl_is_connected(h->idl)) {
            error = rdb_not_connected(h);
            break;
        }
        unsigned int seqno = ovsdb_idl_get_seqno(h->idl);
        struct json *old_doc;
        error = rdb_dump_idl(h->idl, &old_doc);
        if (error) {
            break;
        }
        struct rdb_ctx ctx;
        rdb_ctx_init_import(&ctx, h->idl);
        ovsdb_idl_txn_add_comment(ctx.txn, "import");
        error = rdb_build_txn(&ctx, doc);
        enum ovsdb_idl_txn_status status = TXN_ERROR;
        if (!error) {
            status = rdb_commit(h, ctx.txn, deadline, &error);
        }
        if (!error && (status == TXN_SUCCESS || status == TXN_UNCHANGED)) {
            result->cfg = ctx.stats.cfg;
            result->attempts = attempt;
            h->n_commits++;
            rdb_all_hosts(old_doc, &result->hosts);
            rdb_all_hosts(doc, &result->hosts);
            vpc_validator_destroy(h->v);
            h->v = v;
            h->v_cfg = ctx.stats.cfg;
            h->v_root = rdb_root_uuid(h);
            v = NULL;
        } else if (!error && status == TXN_TRY_AGAIN
                   && attempt < RDB_MAX_ATTEMPTS
                   && time_msec() < deadline) {
            h->n_retries++;
            rdb_ctx_destroy(&ctx);
            json_destroy(old_doc);
            rdb_wait_change(h, seqno, deadline);
            continue;
        } else {
            rdb_txn_failed(h, ctx.txn, status, &error);
        }
        rdb_ctx_destroy(&ctx);
        json_destroy(old_doc);
        break;
    }
    vpc_validator_destroy(v);
    return error;
}

char *
rdb_import(struct rdb_handle *h, const struct json *doc, int timeout_ms,
           struct vpc_errors *errors, struct rdb_write_result *result)
{
    h->reply_lost = false;
    return rdb_maybe_committed(h, rdb_import__(h, doc, timeout_ms, errors,
                                               result));
}

/* Waiting for hosts. */

char *
rdb_all_region_hosts(struct rdb_handle *h, struct sset *hosts)
{
    ovsdb_idl_run(h->idl);
    struct json *doc;
    char *error = rdb_dump_idl(h->idl, &doc);
    if (!error) {
        rdb_all_hosts(doc, hosts);
        json_destroy(doc);
    }
    return error;
}

static const struct rdbrec_host_status *
rdb_host_status(struct rdb_handle *h, const char *host)
{
    const struct rdbrec_host_status *hs;
    RDBREC_HOST_STATUS_FOR_EACH (hs, h->idl) {
        if (!strcmp(hs->host, host)) {
            return hs;
        }
    }
    return NULL;
}

size_t
rdb_hosts_behind(struct rdb_handle *h, const struct sset *hosts,
                 int64_t cfg, struct ds *behind)
{
    size_t n = 0;
    const char *host;
    SSET_FOR_EACH (host, hosts) {
        const struct rdbrec_host_status *hs = rdb_host_status(h, host);
        if (hs && hs->applied_cfg >= cfg) {
            continue;
        }
        if (behind) {
            ds_put_format(behind, "%s%s", n ? ", " : "", host);
            if (!hs) {
                ds_put_cstr(behind, " (no status)");
            } else {
                ds_put_format(behind, " (applied %"PRId64"%s%s)",
                              hs->applied_cfg, hs->error ? ", error: " : "",
                              hs->error ? hs->error : "");
            }
        }
        n++;
    }
    return n;
}

char *
rdb_wait_hosts(struct rdb_handle *h, const struct sset *hosts, int64_t cfg,
               int timeout_ms)
{
    long long deadline = time_msec() + timeout_ms;
    for (;;) {
        ovsdb_idl_run(h->idl);
        if (!rdb_hosts_behind(h, hosts, cfg, NULL)) {
            return NULL;
        }
        if (time_msec() >= deadline) {
            struct ds s = DS_EMPTY_INITIALIZER;
            size_t n = rdb_hosts_behind(h, hosts, cfg, &s);
            char *msg = xasprintf("cfg %"PRId64" committed, but after %d ms "
                                  "%"PRIuSIZE" host%s had not applied it: "
                                  "%s", cfg, timeout_ms, n,
                                  n == 1 ? "" : "s", ds_cstr(&s));
            ds_destroy(&s);
            return msg;
        }
        ovsdb_idl_wait(h->idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

struct json *
rdb_status_json(struct rdb_handle *h)
{
    struct json *st = json_object_create();
    json_object_put(st, "cfg", json_integer_create(rdb_cfg(h)));
    json_object_put(st, "connected",
                    json_boolean_create(rdb_is_connected(h)));
    const struct rdbrec_region *root = rdbrec_region_first(h->idl);
    json_object_put(st, "global_cfg",
                    json_integer_create(root ? root->global_cfg : 0));
    /* Every host with a status row, and every host and edge of the
     * region: its applied_cfg, the cfg it needs (the stamps of its scope,
     * computed from this full replica) and whether it is in sync. */
    struct sset ids = SSET_INITIALIZER(&ids);
    const struct rdbrec_host_status *hs;
    RDBREC_HOST_STATUS_FOR_EACH (hs, h->idl) {
        sset_add(&ids, hs->host);
    }
    const struct rdbrec_host *hr;
    RDBREC_HOST_FOR_EACH (hr, h->idl) {
        sset_add(&ids, hr->id);
    }
    const struct rdbrec_edge *er;
    RDBREC_EDGE_FOR_EACH (er, h->idl) {
        sset_add(&ids, er->id);
    }
    struct shash scopes = SHASH_INITIALIZER(&scopes);
    rdb_scopes_compute(h->idl, &ids, &scopes);
    struct json *hosts = json_object_create();
    const char *id;
    SSET_FOR_EACH (id, &ids) {
        hs = rdb_host_status(h, id);
        int64_t needs = rdb_scope_needed_cfg(h->idl,
                                             shash_find_data(&scopes, id));
        struct json *o = json_object_create();
        if (hs) {
            json_object_put(o, "applied_cfg",
                            json_integer_create(hs->applied_cfg));
            if (hs->error) {
                json_object_put_string(o, "error", hs->error);
            }
        }
        json_object_put(o, "needed_cfg", json_integer_create(needs));
        json_object_put(o, "in_sync", json_boolean_create(
                            hs && !hs->error && hs->applied_cfg >= needs));
        json_object_put(hosts, id, o);
    }
    rdb_scopes_destroy(&scopes);
    sset_destroy(&ids);
    json_object_put(st, "hosts", hosts);
    struct json *w = json_object_create();
    json_object_put(w, "commits", json_integer_create(h->n_commits));
    json_object_put(w, "retries", json_integer_create(h->n_retries));
    json_object_put(w, "refused", json_integer_create(h->n_refused));
    json_object_put(w, "validator_rebuilds",
                    json_integer_create(h->n_rebuilds));
    json_object_put(st, "writes", w);
    return st;
}
