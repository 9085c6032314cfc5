/* regiondb/affected.h: the hosts that a one-object write to the region
 * affects (docs/regiondb.md, "The follower" and "Waiting").
 *
 * A host is affected by an object if the object's VPC is in the host's
 * scope, as a follower computes it (regiondb/scope.h): the VPCs of its
 * ENIs, their peers and, to a fixed point, the VPCs of the groups that
 * rules of in-scope groups name; an edge's, the VPCs of the gateways it
 * implements (a gateway that names no edge is the region's only edge's)
 * and their peers.  Backwards, from the object's VPCs V: R is V plus, to
 * a fixed point, every VPC with a security-group rule naming a group of a
 * VPC in R; S is R and the peers of R; the affected hosts are the hosts
 * of the ENIs in S and the edges of the gateways in S, plus the ENI's own
 * host or the gateway's own edge.  An object that belongs to no VPC (a
 * host, an edge, a prefix list) affects every host and edge.
 *
 * rdb_affected_hosts() computes that through the validator's indexes
 * (translator/validator.h: an object's referrers, an object by id), so
 * that it costs what the VPCs in S hold, not the region's size.  A write
 * that changes 'old' into 'new' affects the union of
 * rdb_affected_hosts('old') on the region before the change and
 * rdb_affected_hosts('new') on the region after it (regiondb/write.c).
 *
 * Threading: none. */

#ifndef REGIONDB_AFFECTED_H
#define REGIONDB_AFFECTED_H 1

#include <stdbool.h>

struct json;
struct sset;
struct vpc_validator;

/* Adds to 'hosts' the hosts and edges that object 'obj' of 'collection'
 * affects in the region 'v' holds now ('obj' is v's object or a copy of
 * it; NULL adds nothing). */
void rdb_affected_hosts(const struct vpc_validator *v, const char *collection,
                        const struct json *obj, struct sset *hosts);

/* Adds to 'vpcs' the ids of the VPCs that object 'obj' of 'collection'
 * belongs to in the region 'v' holds now, the VPCs whose hosts it affects
 * (a VPC itself, an ENI's or a NAT gateway's subnet's VPC, a peering's two
 * VPCs, else its 'vpc').  Returns false if it belongs to none (a host, an
 * edge, a prefix list, a flow log): it affects every host.  NULL adds
 * nothing and returns true.  The writers stamp these VPCs' cfg
 * (regiondb/write.c). */
bool rdb_object_vpcs(const struct vpc_validator *v, const char *collection,
                     const struct json *obj, struct sset *vpcs);

#endif /* regiondb/affected.h */
