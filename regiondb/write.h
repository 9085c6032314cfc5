/* regiondb/write.h: validated object-level writes to the region database,
 * and waiting for the hosts to apply them.
 *
 * Purpose.  A writer opens a handle (rdb_open()): a connection to the
 * cluster's leader holding the database as an IDL replica, and a validator
 * (translator/validator.h) holding the region that the replica's
 * Region.cfg stands for.  rdb_put() and rdb_delete() change one object of
 * one collection: the change is validated against the whole region with
 * the rules of 'vpcctl validate' and, if valid, written as one transaction
 * that touches only that object's rows (and its nested rules, entries and
 * routes), verifies Region.cfg and increments it.  Two writers therefore
 * serialize on Region.cfg: the one that loses the race gets "try again",
 * re-reads the replica, revalidates against what the winner committed and
 * retries (a bounded number of times), so no two writers can commit a
 * region that is invalid as a whole.  rdb_import() is rdb_load() on an
 * open handle.
 *
 * Waiting.  Each host reports the Region.cfg it has applied in its own
 * Host_Status row.  A write returns the hosts it affects (every host whose
 * scope holds the changed object's VPC, before or after the change,
 * regiondb/affected.h, found through the validator's indexes in time
 * proportional to those VPCs, not to the region); rdb_wait_hosts()
 * returns once each of them has applied_cfg >= the committed cfg, or
 * names the hosts still behind at the timeout.
 *
 * Errors.  Functions return NULL or a malloc'd message.  A refused change
 * also fills 'errors' with its "PATH: VALUE: RULE" lines (errors->n > 0
 * tells a refusal from a failure to talk to the database); in both cases
 * nothing was committed.
 *
 * Threading: one thread; the handle runs on OVS's poll loop. */

#ifndef REGIONDB_WRITE_H
#define REGIONDB_WRITE_H 1

#include <stdbool.h>
#include <stdint.h>
#include "sset.h"

struct ds;
struct json;
struct rdb_handle;
struct vpc_errors;

/* What one committed write did. */
struct rdb_write_result {
    int64_t cfg;                /* Region.cfg it committed. */
    struct sset hosts;          /* Hosts it affects (ids), to wait for. */
    int attempts;               /* Commits tried (1 without a race). */
};
void rdb_write_result_init(struct rdb_write_result *);
void rdb_write_result_destroy(struct rdb_write_result *);

char *rdb_open(const char *remotes, int timeout_ms, struct rdb_handle **);
void rdb_close(struct rdb_handle *);

/* For a long-running process: keep the replica current (call run() often;
 * wait() arranges for poll_block() to wake up when there is work). */
void rdb_run(struct rdb_handle *);
void rdb_wait(struct rdb_handle *);
bool rdb_is_connected(const struct rdb_handle *);

/* The region as the handle holds it now ('*docp' and '*objp' belong to the
 * caller; '*objp' is NULL if there is no such object), and its cfg. */
char *rdb_get_document(struct rdb_handle *, struct json **docp);
char *rdb_get(struct rdb_handle *, const char *collection, const char *id,
              struct json **objp);
int64_t rdb_cfg(const struct rdb_handle *);

/* True if 'collection' is a collection of the region document. */
bool rdb_is_collection(const char *collection);

/* Inserts or replaces ('obj' with "id" == 'id') or deletes ('obj' == NULL)
 * one object, validated, within 'timeout_ms'. */
char *rdb_put(struct rdb_handle *, const char *collection, const char *id,
              const struct json *obj, int timeout_ms,
              struct vpc_errors *errors, struct rdb_write_result *);
char *rdb_delete(struct rdb_handle *, const char *collection, const char *id,
                 int timeout_ms, struct vpc_errors *errors,
                 struct rdb_write_result *);

/* The general form: 'edit' computes the new object (a malloc'd JSON
 * object with "id" 'id', or NULL to delete) from the current one ('cur',
 * NULL if none), or returns a malloc'd error.  It is called again on each
 * retry, with the object as the winner of the race left it, so that a
 * read-modify-write ("add a rule to this group") never loses another
 * writer's change. */
typedef char *rdb_edit_func(const struct json *cur, void *aux,
                            struct json **newp);
char *rdb_modify(struct rdb_handle *, const char *collection, const char *id,
                 rdb_edit_func *edit, void *aux, int timeout_ms,
                 struct vpc_errors *errors, struct rdb_write_result *);

/* Makes the database hold exactly region document 'doc' (validated whole;
 * rdb_load() semantics).  Every host is affected. */
char *rdb_import(struct rdb_handle *, const struct json *doc, int timeout_ms,
                 struct vpc_errors *errors, struct rdb_write_result *);

/* Adds every host and edge of the region the handle holds to 'hosts' (what
 * a whole-document load affects). */
char *rdb_all_region_hosts(struct rdb_handle *, struct sset *hosts);

/* How many of 'hosts' have not yet applied 'cfg'; appends a description
 * of each ("host-b (applied 3)", "host-c (no status)") to 'behind' if
 * nonnull. */
size_t rdb_hosts_behind(struct rdb_handle *, const struct sset *hosts,
                        int64_t cfg, struct ds *behind);

/* Waits until every host in 'hosts' has applied 'cfg', for at most
 * 'timeout_ms'.  Returns NULL, or a message naming the hosts behind. */
char *rdb_wait_hosts(struct rdb_handle *, const struct sset *hosts,
                     int64_t cfg, int timeout_ms);

/* Region.cfg and every host's Host_Status, as a JSON object:
 * {"cfg": N, "hosts": {"host-a": {"applied_cfg": N, "error": "..."}}}. */
struct json *rdb_status_json(struct rdb_handle *);

#endif /* regiondb/write.h */
