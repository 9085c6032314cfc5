/* daemon/dhcp.c: vpcd's DHCPv4 server (dhcp.h). */

#include <config.h>
#include "daemon/dhcp.h"

#include <arpa/inet.h>
#include <string.h>
#include "csum.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/util.h"
#include "pipeline/pipeline.h"
#include "translator/model.h"
#include "util.h"

#define ETH_HDR_LEN 14
#define IP_HDR_MIN 20
#define UDP_HDR_LEN 8
#define BOOTP_LEN 236                   /* Up to the magic cookie. */
#define BOOTP_MIN_REPLY 300             /* RFC 1542: pad replies to it. */
#define DHCP_MAGIC 0x63825363
#define DHCP_PORT_SERVER 67
#define DHCP_PORT_CLIENT 68

/* Options (RFC 2132, RFC 3442). */
enum {
    OPT_PAD = 0, OPT_MASK = 1, OPT_ROUTER = 3, OPT_DNS = 6,
    OPT_HOSTNAME = 12, OPT_DOMAIN = 15, OPT_MTU = 26, OPT_NTP = 42,
    OPT_REQUESTED_IP = 50, OPT_LEASE = 51, OPT_OVERLOAD = 52,
    OPT_MSG_TYPE = 53, OPT_SERVER_ID = 54, OPT_PARAMS = 55, OPT_T1 = 58,
    OPT_T2 = 59, OPT_CLASSLESS_ROUTES = 121, OPT_END = 255,
};

const char *
dhcp_msg_type_name(uint8_t type)
{
    static const char *const names[] = {
        [DHCP_DISCOVER] = "DISCOVER", [DHCP_OFFER] = "OFFER",
        [DHCP_REQUEST] = "REQUEST", [DHCP_DECLINE] = "DECLINE",
        [DHCP_ACK] = "ACK", [DHCP_NAK] = "NAK", [DHCP_RELEASE] = "RELEASE",
        [DHCP_INFORM] = "INFORM",
    };
    return type < ARRAY_SIZE(names) && names[type] ? names[type] : "?";
}

static uint16_t
get16(const uint8_t *p)
{
    return (p[0] << 8) | p[1];
}

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

char *
dhcp_parse(const uint8_t *frame, size_t len, struct dhcp_request *req)
{
    memset(req, 0, sizeof *req);
    if (len < ETH_HDR_LEN + IP_HDR_MIN + UDP_HDR_LEN) {
        return xasprintf("%"PRIuSIZE" bytes: too short for UDP over IPv4",
                         len);
    }
    if (get16(frame + 12) != 0x0800) {
        return xasprintf("ethertype 0x%04x: not IPv4", get16(frame + 12));
    }
    memcpy(req->eth_src.ea, frame + 6, ETH_ADDR_LEN);

    const uint8_t *ip = frame + ETH_HDR_LEN;
    size_t ip_space = len - ETH_HDR_LEN;
    size_t ihl = (ip[0] & 0x0f) * 4;
    if (ip[0] >> 4 != 4 || ihl < IP_HDR_MIN || ihl > ip_space) {
        return xstrdup("not a valid IPv4 header");
    }
    size_t total = get16(ip + 2);
    if (total < ihl + UDP_HDR_LEN || total > ip_space) {
        return xasprintf("IPv4 total length %"PRIuSIZE" does not fit the "
                         "%"PRIuSIZE" bytes received", total, ip_space);
    }
    if (get16(ip + 6) & 0x3fff) {
        return xstrdup("a fragment");
    }
    if (ip[9] != 17) {
        return xasprintf("IP protocol %d: not UDP", ip[9]);
    }
    req->ip_src = get32(ip + 12);

    const uint8_t *udp = ip + ihl;
    size_t udp_len = get16(udp + 4);
    if (udp_len < UDP_HDR_LEN || udp_len > total - ihl) {
        return xasprintf("UDP length %"PRIuSIZE" does not fit", udp_len);
    }
    if (get16(udp) != DHCP_PORT_CLIENT || get16(udp + 2) != DHCP_PORT_SERVER) {
        return xasprintf("UDP %d to %d: not a DHCP client's request",
                         get16(udp), get16(udp + 2));
    }

    const uint8_t *b = udp + UDP_HDR_LEN;
    size_t blen = udp_len - UDP_HDR_LEN;
    if (blen < BOOTP_LEN + 4) {
        return xasprintf("BOOTP message of %"PRIuSIZE" bytes: too short",
                         blen);
    }
    if (b[0] != 1) {
        return xasprintf("BOOTP op %d: not a request", b[0]);
    }
    if (b[1] != 1 || b[2] != ETH_ADDR_LEN) {
        return xasprintf("hardware type %d, length %d: not Ethernet", b[1],
                         b[2]);
    }
    memcpy(&req->xid, b + 4, 4);
    req->flags = get16(b + 10);
    req->ciaddr = get32(b + 12);
    req->giaddr = get32(b + 24);
    memcpy(req->chaddr.ea, b + 28, ETH_ADDR_LEN);
    if (get32(b + BOOTP_LEN) != DHCP_MAGIC) {
        return xstrdup("no DHCP magic cookie (plain BOOTP)");
    }

    const uint8_t *o = b + BOOTP_LEN + 4;
    const uint8_t *end = b + blen;
    while (o < end && *o != OPT_END) {
        if (*o == OPT_PAD) {
            o++;
            continue;
        }
        if (end - o < 2 || end - o < 2 + o[1]) {
            return xasprintf("option %d runs past the end of the message",
                             *o);
        }
        uint8_t code = o[0], olen = o[1];
        const uint8_t *v = o + 2;
        switch (code) {
        case OPT_MSG_TYPE:
            if (olen != 1) {
                return xasprintf("option 53 of length %d", olen);
            }
            req->type = v[0];
            break;
        case OPT_REQUESTED_IP:
            if (olen != 4) {
                return xasprintf("option 50 of length %d", olen);
            }
            req->requested_ip = get32(v);
            break;
        case OPT_SERVER_ID:
            if (olen != 4) {
                return xasprintf("option 54 of length %d", olen);
            }
            req->server_id = get32(v);
            break;
        case OPT_PARAMS:
            req->wants_routes = memchr(v, OPT_CLASSLESS_ROUTES, olen) != NULL;
            break;
        default:
            break;
        }
        o += 2 + olen;
    }
    if (!req->type) {
        return xstrdup("no DHCP message type (option 53)");
    }
    return NULL;
}

/* ------------------------------------------------------------ replies */

static void
put_u8(struct ofpbuf *b, uint8_t x)
{
    ofpbuf_put(b, &x, 1);
}

static void
put_be32(struct ofpbuf *b, uint32_t host)
{
    ovs_be32 x = htonl(host);
    ofpbuf_put(b, &x, 4);
}

static void
put_opt_ip(struct ofpbuf *b, uint8_t code, uint32_t ip)
{
    put_u8(b, code);
    put_u8(b, 4);
    put_be32(b, ip);
}

static void
put_opt_ips(struct ofpbuf *b, uint8_t code, const uint32_t *ips, size_t n)
{
    if (n) {
        put_u8(b, code);
        put_u8(b, 4 * n);
        for (size_t i = 0; i < n; i++) {
            put_be32(b, ips[i]);
        }
    }
}

static void
put_opt_str(struct ofpbuf *b, uint8_t code, const char *s)
{
    size_t len = MIN(strlen(s), 255);
    if (len) {
        put_u8(b, code);
        put_u8(b, len);
        ofpbuf_put(b, s, len);
    }
}

static void
put_opt_u32(struct ofpbuf *b, uint8_t code, uint32_t x)
{
    put_u8(b, code);
    put_u8(b, 4);
    put_be32(b, x);
}

/* RFC 3442: one route, the destination's significant octets only. */
static void
put_route(struct ofpbuf *b, uint32_t dst, int plen, uint32_t gw)
{
    put_u8(b, plen);
    for (int i = 0; i < (plen + 7) / 8; i++) {
        put_u8(b, dst >> (24 - 8 * i));
    }
    put_be32(b, gw);
}

/* Appends the whole frame: Ethernet, IPv4, UDP, BOOTP reply. */
static void
build_reply(const struct dhcp_request *req, const struct dhcp_config *cfg,
            uint8_t type, struct ofpbuf *out)
{
    bool nak = type == DHCP_NAK;
    bool inform = req->type == DHCP_INFORM;
    struct ofpbuf b;
    ofpbuf_init(&b, 512);

    /* BOOTP. */
    put_u8(&b, 2);                      /* BOOTREPLY. */
    put_u8(&b, 1);
    put_u8(&b, ETH_ADDR_LEN);
    put_u8(&b, 0);
    ofpbuf_put(&b, &req->xid, 4);
    ofpbuf_put_zeros(&b, 2);            /* secs */
    ovs_be16 flags = htons(req->flags & DHCP_FLAG_BROADCAST);
    ofpbuf_put(&b, &flags, 2);
    put_be32(&b, inform ? req->ciaddr : 0);
    put_be32(&b, nak || inform ? 0 : cfg->ip);
    put_be32(&b, 0);                    /* siaddr */
    put_be32(&b, req->giaddr);
    ofpbuf_put(&b, req->chaddr.ea, ETH_ADDR_LEN);
    ofpbuf_put_zeros(&b, 10 + 64 + 128);        /* chaddr pad, sname, file */
    put_be32(&b, DHCP_MAGIC);

    /* Options. */
    put_u8(&b, OPT_MSG_TYPE);
    put_u8(&b, 1);
    put_u8(&b, type);
    put_opt_ip(&b, OPT_SERVER_ID, cfg->router);
    if (!nak) {
        if (!inform) {
            put_opt_u32(&b, OPT_LEASE, cfg->lease_time);
            put_opt_u32(&b, OPT_T1, cfg->lease_time / 2);
            put_opt_u32(&b, OPT_T2, cfg->lease_time / 8 * 7);
        }
        put_opt_ip(&b, OPT_MASK, cfg->mask);
        put_opt_ip(&b, OPT_ROUTER, cfg->router);
        put_opt_ips(&b, OPT_DNS, cfg->dns, cfg->n_dns);
        put_opt_str(&b, OPT_DOMAIN, cfg->domain);
        put_opt_str(&b, OPT_HOSTNAME, cfg->hostname);
        put_u8(&b, OPT_MTU);
        put_u8(&b, 2);
        ovs_be16 mtu = htons(cfg->mtu);
        ofpbuf_put(&b, &mtu, 2);
        put_opt_ips(&b, OPT_NTP, cfg->ntp, cfg->n_ntp);
        if (req->wants_routes) {
            /* A client that takes option 121 ignores option 3 (RFC 3442):
             * the default route must be in it, and the metadata service's
             * host route keeps it on the router whatever else the VM's
             * routes say. */
            struct ofpbuf r;
            ofpbuf_init(&r, 32);
            if (cfg->metadata_ip) {
                put_route(&r, cfg->metadata_ip, 32, cfg->router);
            }
            put_route(&r, 0, 0, cfg->router);
            put_u8(&b, OPT_CLASSLESS_ROUTES);
            put_u8(&b, r.size);
            ofpbuf_put(&b, r.data, r.size);
            ofpbuf_uninit(&r);
        }
    }
    put_u8(&b, OPT_END);
    if (b.size < BOOTP_MIN_REPLY) {
        ofpbuf_put_zeros(&b, BOOTP_MIN_REPLY - b.size);
    }

    /* Where it goes (RFC 2131, 4.1): an INFORM's reply to its ciaddr; a
     * client that asked for broadcast, or any NAK, to 255.255.255.255;
     * else to the address offered.  On the wire it reaches only the
     * client's port, to its MAC. */
    uint32_t dst = (inform && req->ciaddr ? req->ciaddr
                    : nak || req->flags & DHCP_FLAG_BROADCAST ? 0xffffffff
                    : cfg->ip);
    struct eth_addr eth_dst = (nak || req->flags & DHCP_FLAG_BROADCAST
                               ? eth_addr_broadcast : req->chaddr);

    /* Ethernet. */
    ofpbuf_put(out, eth_dst.ea, ETH_ADDR_LEN);
    ofpbuf_put(out, cfg->router_mac.ea, ETH_ADDR_LEN);
    ovs_be16 ethertype = htons(0x0800);
    ofpbuf_put(out, &ethertype, 2);

    /* IPv4. */
    uint8_t ip[IP_HDR_MIN] = { 0x45, 0x10 };
    size_t total = IP_HDR_MIN + UDP_HDR_LEN + b.size;
    ip[2] = total >> 8;
    ip[3] = total;
    ip[8] = 64;
    ip[9] = 17;
    ovs_be32 src = htonl(cfg->router), dst_be = htonl(dst);
    memcpy(ip + 12, &src, 4);
    memcpy(ip + 16, &dst_be, 4);
    ovs_be16 ip_csum = csum(ip, sizeof ip);
    memcpy(ip + 10, &ip_csum, 2);
    ofpbuf_put(out, ip, sizeof ip);

    /* UDP, with its checksum over the pseudo-header. */
    uint8_t udp[UDP_HDR_LEN] = {
        0, DHCP_PORT_SERVER, 0, DHCP_PORT_CLIENT,
        (UDP_HDR_LEN + b.size) >> 8, (UDP_HDR_LEN + b.size) & 0xff, 0, 0,
    };
    uint32_t partial = 0;
    partial = csum_add32(partial, src);
    partial = csum_add32(partial, dst_be);
    partial = csum_add16(partial, htons(17));
    partial = csum_add16(partial, htons(UDP_HDR_LEN + b.size));
    partial = csum_continue(partial, udp, sizeof udp);
    partial = csum_continue(partial, b.data, b.size);
    ovs_be16 udp_csum = csum_finish(partial);
    if (!udp_csum) {
        udp_csum = htons(0xffff);
    }
    memcpy(udp + 6, &udp_csum, 2);
    ofpbuf_put(out, udp, sizeof udp);
    ofpbuf_put(out, b.data, b.size);
    ofpbuf_uninit(&b);
}

enum dhcp_outcome
dhcp_answer(const struct dhcp_request *req, const struct dhcp_config *cfg,
            struct ofpbuf *reply, uint8_t *reply_type)
{
    if (!eth_addr_equals(req->eth_src, cfg->mac)
        || !eth_addr_equals(req->chaddr, cfg->mac)) {
        return DHCP_OUT_SPOOFED;
    }
    if (req->giaddr) {
        return DHCP_OUT_IGNORED;        /* No relays inside a VPC. */
    }

    uint8_t type;
    switch (req->type) {
    case DHCP_DISCOVER:
        type = DHCP_OFFER;
        break;
    case DHCP_REQUEST: {
        if (req->server_id && req->server_id != cfg->router) {
            return DHCP_OUT_NONE;       /* It chose another server. */
        }
        uint32_t want = req->requested_ip ? req->requested_ip : req->ciaddr;
        type = want == cfg->ip ? DHCP_ACK : DHCP_NAK;
        break;
    }
    case DHCP_INFORM:
        type = DHCP_ACK;
        break;
    case DHCP_DECLINE:
    case DHCP_RELEASE:
        /* The ENI's address is its own: nothing to take back or mark. */
        return DHCP_OUT_NONE;
    default:
        return DHCP_OUT_IGNORED;
    }
    build_reply(req, cfg, type, reply);
    *reply_type = type;
    return DHCP_OUT_REPLY;
}

/* ------------------------------------------------------------ the model */

void
dhcp_config_from_model(const struct vpc_region *r, const struct vpc_eni *e,
                       struct dhcp_config *cfg)
{
    const struct vpc_subnet *s = e->subnet;
    const struct vpc_vpc *vpc = s->vpc;

    memset(cfg, 0, sizeof *cfg);
    cfg->mac = e->mac;
    cfg->ip = e->ip;
    cfg->mask = vpc_prefix_mask(&s->cidr);
    cfg->router = vpc_subnet_router_ip(s);
    cfg->router_mac = pl_router_mac(vpc);
    cfg->lease_time = DHCP_DEFAULT_LEASE;
    cfg->mtu = PL_VM_MTU;
    cfg->metadata_ip = 0xa9fea9fe;      /* 169.254.169.254 */

    char *domain = vpc_domain_name(r, vpc);
    ovs_strlcpy(cfg->domain, domain, sizeof cfg->domain);
    free(domain);
    char *host = vpc_eni_hostname(r, e);
    host[strcspn(host, ".")] = '\0';
    ovs_strlcpy(cfg->hostname, host, sizeof cfg->hostname);
    free(host);

    const struct vpc_dhcp_options *o = vpc->dhcp_options;
    if (!o) {
        cfg->dns[cfg->n_dns++] = pl_vpc_resolver_ip(vpc);
        return;
    }
    for (size_t i = 0; i < o->n_dns && cfg->n_dns < DHCP_MAX_SERVERS; i++) {
        cfg->dns[cfg->n_dns++] = (o->dns[i] ? o->dns[i]
                                  : pl_vpc_resolver_ip(vpc));
    }
    for (size_t i = 0; i < o->n_ntp && cfg->n_ntp < DHCP_MAX_SERVERS; i++) {
        cfg->ntp[cfg->n_ntp++] = o->ntp[i];
    }
    if (o->lease_time) {
        cfg->lease_time = o->lease_time;
    }
}
