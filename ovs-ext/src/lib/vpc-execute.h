/* lib/vpc-execute.h (ovs-vpc): executing the vpc_encap and vpc_verify
 * datapath actions on a batch of packets.
 *
 * Called by the userspace datapath (dpif-netdev's dp_execute_cb) on its
 * packet threads.  Lookups go to the mapping cache (lib/vpc-map.h), which is
 * lock-free for readers; nothing here takes a lock.
 *
 * Ownership: the functions modify packets in place and remove from the
 * batch, and free, the packets they drop; the caller owns the batch, as it
 * does for tnl_push. */

#ifndef VPC_EXECUTE_H
#define VPC_EXECUTE_H 1

#include "dp-packet.h"
#include "odp-netlink.h"

/* For each IPv4 packet in 'batch', looks (VNI, inner destination) up:
 *   - a remote host: sets the inner destination MAC to the ENI's, pushes the
 *     template's outer headers with the destination patched in, and keeps
 *     the packet in 'batch' for the output action that follows;
 *   - this host (the template's own source address): moves the packet to
 *     'local' as if it had just arrived through tunnel port 'tnl_port', for
 *     the caller to recirculate;
 *   - a miss, or no neighbor for the destination host: drops it.
 * 'local' must be empty on entry. */
void vpc_execute_encap(struct dp_packet_batch *batch,
                       const struct ovs_action_vpc_encap *,
                       struct dp_packet_batch *local);

/* Drops every packet of 'batch' whose (VNI, inner IPv4 source) does not map
 * to its tunnel's outer source. */
void vpc_execute_verify(struct dp_packet_batch *batch);

#endif /* lib/vpc-execute.h */
