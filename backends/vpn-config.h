/* backends/vpn-config.h: 'vpcctl vpn-config', the strongSwan configuration
 * of an edge's VPN gateways (see backends/vpn-config.c). */

#ifndef BACKENDS_VPN_CONFIG_H
#define BACKENDS_VPN_CONFIG_H 1

#include "translator/model.h"

/* Default directory for relative psk_ref names. */
#define VPN_DEFAULT_PSK_DIR "/etc/ovs-vpc/psk"

/* Generates strongswan.conf and swanctl.conf for the VPN gateways that edge
 * 'edge_id' implements.  Relative psk_ref names are files under 'psk_dir'
 * (NULL: VPN_DEFAULT_PSK_DIR).  With 'out_dir', writes the two files there
 * (swanctl.conf, which holds the keys, mode 0600); else prints both to
 * stdout.  Returns NULL or a malloc'd error. */
char *vpn_config(const struct vpc_region *, const char *edge_id,
                 const char *psk_dir, const char *out_dir)
    OVS_WARN_UNUSED_RESULT;

#endif /* backends/vpn-config.h */
