/* backends/vpn-config.c: 'vpcctl vpn-config FILE --host EDGE [DIR]'.
 *
 * The edge's IPsec endpoint is strongSwan's charon with the kernel-libipsec
 * backend (userspace ESP: these machines' kernels have no xfrm), one charon
 * per network namespace, in the edge host's own.  This writes its
 * configuration from the intent:
 *
 *   strongswan.conf  the plugin list that works here (kernel-libipsec before
 *                    kernel-netlink, kdf, AES-CBC only), install_routes:
 *                    charon creates TUN "ipsec0" and routes the on-premises
 *                    prefixes through it (routing table 220).
 *   swanctl.conf     one IKEv2 connection per VPN gateway of the edge, named
 *                    after it: remote_addrs = customer_gateway_ip, local
 *                    identity the gateway id (FQDN), remote identity the
 *                    customer gateway's address, PSK; one tunnel-mode child
 *                    of the same name, local_ts = the VPC's CIDR blocks,
 *                    remote_ts = onprem_prefixes, started at load and
 *                    restarted on close or dead peer.
 *
 * The pre-shared key: psk_ref names a file (absolute, or relative to
 * --psk-dir, default /etc/ovs-vpc/psk) whose content, trailing whitespace
 * removed, is the key.  It is written in hex, so any bytes are fine.
 *
 * The plain side (VPC <-> the edge's kernel) is the edge bridge's VPN port,
 * pipeline/vpn.h; docs/pipeline.md, "The edge bridge", has the picture.
 * The edge's network namespace needs, per VPN gateway (listed as comments
 * at the top of swanctl.conf):
 *   - an address inside local_ts (the first address of the VPC's first
 *     block, /32 on vpn0): charon installs its routes only "src" an address
 *     of the local traffic selector, and that address is reserved in every
 *     subnet, so no ENI has it;
 *   - the VPC's blocks routed to the bridge: "via 169.254.0.1 dev vpn0"
 *     (the bridge answers every ARP on the port);
 *   - "unreachable" routes for the on-premises prefixes: charon's routes
 *     (table 220) win while the child SA is up; when it is down the traffic
 *     is dropped rather than leaked in clear. */

#include <config.h>
#include "backends/vpn-config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/util.h"
#include "pipeline/pipeline.h"
#include "util.h"

/* Reads the PSK of 'gw' into 'key' (hex, "0x..."). */
static char *
read_psk(const struct vpc_gateway *gw, const char *psk_dir, struct ds *key)
{
    if (!gw->psk_ref || !gw->psk_ref[0]) {
        return xasprintf("%s: no psk_ref", gw->id);
    }
    char *path = (gw->psk_ref[0] == '/'
                  ? xstrdup(gw->psk_ref)
                  : xasprintf("%s/%s", psk_dir, gw->psk_ref));
    FILE *f = fopen(path, "rb");
    if (!f) {
        char *e = xasprintf("%s: psk_ref %s: %s", gw->id, path,
                            ovs_strerror(errno));
        free(path);
        return e;
    }
    struct ds raw = DS_EMPTY_INITIALIZER;
    int c;
    while ((c = getc(f)) != EOF && raw.length < 4096) {
        ds_put_char(&raw, c);
    }
    fclose(f);
    ds_chomp(&raw, '\n');
    while (raw.length && strchr(" \t\r\n", raw.string[raw.length - 1])) {
        raw.length--;
    }
    char *error = NULL;
    if (raw.length < 8) {
        error = xasprintf("%s: psk_ref %s: the key must have at least 8 "
                          "bytes", gw->id, path);
    } else {
        ds_put_cstr(key, "0x");
        for (size_t i = 0; i < raw.length; i++) {
            ds_put_format(key, "%02x", (unsigned char) raw.string[i]);
        }
    }
    ds_destroy(&raw);
    free(path);
    return error;
}

static void
put_prefixes(struct ds *s, const struct vpc_prefix *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char buf[24];
        vpc_prefix_format(&p[i], buf);
        ds_put_format(s, "%s%s", i ? "," : "", buf);
    }
}

static void
put_strongswan_conf(struct ds *s, const char *edge_id)
{
    ds_put_format(s,
        "# strongswan.conf of edge %s (vpcctl vpn-config).  Run charon in the\n"
        "# edge's network namespace with /run private to it, e.g.\n"
        "#   ip netns exec NS sh -c 'mount --bind DIR/run /run &&\n"
        "#     exec env STRONGSWAN_CONF=DIR/strongswan.conf "
        "/usr/lib/ipsec/charon'\n"
        "# then: swanctl --load-all --file DIR/swanctl.conf "
        "--uri unix://DIR/run/charon.vici\n"
        "charon {\n"
        "    load_modular = no\n"
        "    # kernel-libipsec (userspace ESP, TUN ipsec0) before "
        "kernel-netlink.\n"
        "    load = random nonce aes sha1 sha2 hmac gmp kdf pem "
        "pkcs1 pubkey x509 revocation kernel-libipsec kernel-netlink "
        "socket-default vici\n"
        "    # Routes the on-premises prefixes into ipsec0 (table 220).\n"
        "    install_routes = yes\n"
        "    install_virtual_ip = no\n"
        "}\n", edge_id);
}

char *
vpn_config(const struct vpc_region *r, const char *edge_id,
           const char *psk_dir, const char *out_dir)
{
    const struct vpc_host *edge = vpc_region_find_host(r, edge_id);
    if (!edge || !edge->is_edge) {
        return xasprintf("%s is not an edge of this region", edge_id);
    }
    if (!psk_dir) {
        psk_dir = VPN_DEFAULT_PSK_DIR;
    }

    struct ds conf = DS_EMPTY_INITIALIZER;
    struct ds setup = DS_EMPTY_INITIALIZER;
    struct ds conns = DS_EMPTY_INITIALIZER;
    struct ds secrets = DS_EMPTY_INITIALIZER;
    char *error = NULL;
    size_t n = 0;
    for (size_t i = 0; i < r->n_gateways && !error; i++) {
        const struct vpc_gateway *gw = &r->gateways[i];
        if (gw->edge != edge || gw->kind != VPC_TGT_VGW) {
            continue;
        }
        struct ds key = DS_EMPTY_INITIALIZER;
        error = read_psk(gw, psk_dir, &key);
        if (error) {
            ds_destroy(&key);
            break;
        }
        char cgw[16];
        vpc_ip_format(gw->customer_gateway_ip, cgw);
        n++;
        char buf[24];
        vpc_ip_format(gw->vpc->blocks[0].addr, buf);
        ds_put_format(&setup, "#   %s:\n#     ip addr add %s/32 dev vpn0\n",
                      gw->id, buf);
        for (size_t b = 0; b < gw->vpc->n_blocks; b++) {
            vpc_prefix_format(&gw->vpc->blocks[b], buf);
            ds_put_format(&setup, "#     ip route add %s via 169.254.0.1 "
                          "dev vpn0\n", buf);
        }
        for (size_t p = 0; p < gw->n_onprem; p++) {
            vpc_prefix_format(&gw->onprem[p], buf);
            ds_put_format(&setup, "#     ip route add unreachable %s\n", buf);
        }
        ds_put_format(&conns,
            "    %s {    # %s, VNI %"PRIu32"\n"
            "        version = 2\n"
            "        remote_addrs = %s\n"
            "        proposals = aes256-sha256-modp3072\n"
            "        keyingtries = 0\n"
            "        dpd_delay = 10s\n"
            "        local {\n"
            "            auth = psk\n"
            "            id = %s\n"
            "        }\n"
            "        remote {\n"
            "            auth = psk\n"
            "            id = %s\n"
            "        }\n"
            "        children {\n"
            "            %s {\n"
            "                mode = tunnel\n"
            "                local_ts = ", gw->id, gw->vpc->id, pl_gateway_vni(r, gw), cgw,
            gw->id, cgw, gw->id);
        put_prefixes(&conns, gw->vpc->blocks, gw->vpc->n_blocks);
        ds_put_cstr(&conns, "\n                remote_ts = ");
        put_prefixes(&conns, gw->onprem, gw->n_onprem);
        ds_put_cstr(&conns,
            "\n"
            "                esp_proposals = aes256-sha256\n"
            "                start_action = start\n"
            "                dpd_action = restart\n"
            "                close_action = start\n"
            "            }\n"
            "        }\n"
            "    }\n");
        ds_put_format(&secrets,
            "    ike-%s {\n"
            "        id-local = %s\n"
            "        id-remote = %s\n"
            "        secret = %s\n"
            "    }\n", gw->id, gw->id, cgw, ds_cstr(&key));
        ds_destroy(&key);
    }
    if (!error && !n) {
        error = xasprintf("edge %s implements no VPN gateway", edge_id);
    }

    struct ds swanctl = DS_EMPTY_INITIALIZER;
    if (!error) {
        put_strongswan_conf(&conf, edge_id);
        ds_put_format(&swanctl,
            "# swanctl.conf of edge %s (vpcctl vpn-config): one IKEv2 "
            "connection\n# per VPN gateway.  Holds the pre-shared keys: keep "
            "it private.\n#\n"
            "# The edge's network namespace also needs (vpn0: the bridge's "
            "VPN port,\n# 169.254.0.2/30; 169.254.0.1 is the bridge):\n%s"
            "connections {\n%s}\n\nsecrets {\n%s}\n", edge_id,
            ds_cstr(&setup), ds_cstr(&conns), ds_cstr(&secrets));
        if (!out_dir) {
            printf("# ==> strongswan.conf <==\n%s\n"
                   "# ==> swanctl.conf <==\n%s", ds_cstr(&conf),
                   ds_cstr(&swanctl));
        } else {
            static const struct {
                const char *name;
                mode_t mode;
            } files[] = { { "strongswan.conf", 0644 },
                          { "swanctl.conf", 0600 } };
            const struct ds *texts[] = { &conf, &swanctl };
            for (size_t i = 0; i < ARRAY_SIZE(files) && !error; i++) {
                char *path = xasprintf("%s/%s", out_dir, files[i].name);
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC,
                              files[i].mode);
                if (fd < 0
                    || write(fd, texts[i]->string, texts[i]->length)
                       != (ssize_t) texts[i]->length
                    || fchmod(fd, files[i].mode) < 0) {
                    error = xasprintf("%s: %s", path, ovs_strerror(errno));
                }
                if (fd >= 0) {
                    close(fd);
                }
                if (!error) {
                    printf("wrote %s\n", path);
                }
                free(path);
            }
        }
    }
    ds_destroy(&swanctl);
    ds_destroy(&conf);
    ds_destroy(&setup);
    ds_destroy(&conns);
    ds_destroy(&secrets);
    return error;
}
