/* regiondb/access.h: who may write the region database (docs/regiondb.md,
 * "Who may write").
 *
 * rdb_set_connections() makes Region.connections hold one Connection row
 * per target (the remotes ovsdb-server listens on when started with
 * --remote=db:OVS_VPC_Region,Region,connections), each with RBAC role
 * 'role' (NULL or "": full access), and makes sure that role
 * RDB_HOST_ROLE exists: a host (its SSL certificate's CN is its id) may
 * insert, delete and update (applied_cfg, error) only the Host_Status row
 * whose 'host' is its id, and write nothing else.  One transaction; it
 * does not change Region.cfg (no intent changes). */

#ifndef REGIONDB_ACCESS_H
#define REGIONDB_ACCESS_H 1

#include <stddef.h>

struct rdb_handle;

#define RDB_HOST_ROLE "vpc-host"

char *rdb_set_connections(struct rdb_handle *, const char *const *targets,
                          size_t n_targets, const char *role,
                          int timeout_ms);

#endif /* regiondb/access.h */
