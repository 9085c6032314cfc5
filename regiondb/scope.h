/* regiondb/scope.h: what a follower of the region database monitors, and
 * the hosts' acknowledgements (docs/regiondb.md, "The follower").
 *
 * A follower (vpcd --region-db) replicates only its scope with conditional
 * monitoring.  rdb_scope_compute() derives the scope from the replica: this
 * host's Host or Edge row, and the VPCs it needs (those with an ENI on the
 * host, or of the gateways an edge implements; their peers; and, to a fixed
 * point, the VPCs of the groups that in-scope security-group rules name).
 * rdb_scope_set_conditions() turns a scope into one condition per table, a
 * few uuids each (never lists of ids): VPC by _uuid, every table with a
 * 'vpc' column (its own or a derived one) by that column, ENI also by host,
 * gateways also by edge, Peering_Connection by either side, Host_Status by
 * host; Region, Host, Edge, Prefix_List and DHCP_Options whole.
 * Widening the scope is a fixed point across round trips: new conditions
 * bring rows that may widen it again.
 *
 * rdb_status() reads every host's Host_Status against the cfg it needs
 * (the largest stamp of its scope: docs/regiondb.md, "Stamps") for
 * 'vpcctl status'; rdb_scopes_compute() gives every host's scope from a
 * full replica.
 *
 * Threading: none; callers own the IDL. */

#ifndef REGIONDB_SCOPE_H
#define REGIONDB_SCOPE_H 1

#include <stdbool.h>
#include <stdint.h>
#include "uuid.h"
#include "uuidset.h"

struct ovsdb_idl;

struct rdb_scope {
    bool is_host, is_edge;      /* Found our Host or Edge row. */
    bool only_edge;             /* The region's only edge: it implements
                                 * the gateways that name no edge. */
    struct uuid self;           /* That row. */
    struct uuidset vpcs;        /* VPC rows in scope. */
};

void rdb_scope_init(struct rdb_scope *);
void rdb_scope_destroy(struct rdb_scope *);
void rdb_scope_clone(struct rdb_scope *dst, const struct rdb_scope *src);
bool rdb_scope_equals(const struct rdb_scope *, const struct rdb_scope *);

/* Computes the scope of host (or edge) 'host_id' from 'idl''s replica into
 * 's' (initialized). */
void rdb_scope_compute(struct ovsdb_idl *idl, const char *host_id,
                       struct rdb_scope *s);

/* Computes, from 'idl''s replica (the whole region), the scope of every
 * host or edge id of 'hosts' into 'scopes' (id -> malloc'd struct
 * rdb_scope), reading the replica once; rdb_scopes_destroy() frees them. */
struct shash;
struct sset;
void rdb_scopes_compute(struct ovsdb_idl *idl, const struct sset *hosts,
                        struct shash *scopes);
void rdb_scopes_destroy(struct shash *scopes);

/* The cfg a host of scope 's' must have acknowledged to be in sync:
 * Region.global_cfg, or the cfg stamped on a VPC of its scope, whichever
 * is the largest (docs/regiondb.md, "Stamps").  'idl' must hold those VPC
 * rows (a follower's replica does; so does a writer's). */
int64_t rdb_scope_needed_cfg(struct ovsdb_idl *idl,
                             const struct rdb_scope *s);

/* Sets 'idl''s monitor conditions for scope 's' of host 'host_id'.
 * Returns the condition seqno that ovsdb_idl_get_condition_seqno() reaches
 * once the server has acknowledged all of them (and sent their rows). */
unsigned int rdb_scope_set_conditions(struct ovsdb_idl *idl,
                                      const char *host_id,
                                      const struct rdb_scope *s);

/* Writes 'text' (the scope's VPC ids, sorted) for logs; malloc'd. */
char *rdb_scope_to_string(struct ovsdb_idl *idl, const struct rdb_scope *);

/* Reads Region.cfg and every host's and edge's Host_Status from 'remotes'
 * into '*textp' (one line per host: host, applied/needed cfg, "in sync",
 * "behind", "error: ..." or "no status"); '*all_in_sync' tells whether
 * every host has applied the cfg it needs without error.  Returns NULL or
 * a malloc'd error. */
char *rdb_status(const char *remotes, int timeout_ms, char **textp,
                 bool *all_in_sync);

#endif /* regiondb/scope.h */
