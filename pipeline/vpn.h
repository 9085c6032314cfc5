/* pipeline/vpn.h: the VPN port of the edge bridge, where VPN gateway
 * (vgw-) traffic meets the edge's IPsec endpoint (strongSwan, in the edge
 * host's own network stack).
 *
 * The port (Interface external_ids:vpc-edge-port=vpn) is normally an OVS
 * internal port, "vpn0".  It is a point-to-point Ethernet link between the
 * bridge and the edge's kernel, with two fixed MACs:
 *
 *   PL_VPN_PORT_MAC    the kernel side (set it on the port:
 *                      ovs-vsctl set interface vpn0 mac='"02:76:70:ee:ff:02"');
 *                      the bridge sends VPN-bound frames to it.
 *   PL_VPN_BRIDGE_MAC  the bridge side: the source of those frames, and the
 *                      answer to every ARP request the kernel sends on the
 *                      port (so a route "VPC-CIDR dev vpn0" or "via" any
 *                      link address works).
 *
 * See docs/pipeline.md, "The edge bridge", and backends/vpn-config.c for the
 * strongSwan side. */

#ifndef PL_VPN_H
#define PL_VPN_H 1

#define PL_VPN_BRIDGE_MAC "02:76:70:ee:ff:01"
#define PL_VPN_PORT_MAC   "02:76:70:ee:ff:02"

#endif /* pipeline/vpn.h */
