/* daemon/dhcp.h: vpcd's DHCPv4 server, as pure functions of bytes and the
 * model (no I/O): daemon/pinctrl.c hands it the frames that stage services
 * sends to vpcd and sends what it builds.
 *
 * The server knows each ENI's one address: it offers and acknowledges the
 * ENI's private IP only, with the options of the VPC's DHCP options set
 * (dhcp_options intent) or AWS's defaults, and answers nothing to a
 * request whose Ethernet source or client hardware address is not the
 * ENI's MAC (RFC 2131, RFC 2132; docs/vpcd.md, "DHCP").
 *
 * Threading: none; the functions keep no state. */

#ifndef VPCD_DHCP_H
#define VPCD_DHCP_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/types.h"

struct ofpbuf;
struct vpc_region;
struct vpc_eni;

#define DHCP_MAX_SERVERS 4              /* DNS and NTP servers offered. */
#define DHCP_DEFAULT_LEASE 3600         /* AWS's is an hour. */

/* DHCP message types (RFC 2132, option 53). */
enum dhcp_msg_type {
    DHCP_DISCOVER = 1,
    DHCP_OFFER = 2,
    DHCP_REQUEST = 3,
    DHCP_DECLINE = 4,
    DHCP_ACK = 5,
    DHCP_NAK = 6,
    DHCP_RELEASE = 7,
    DHCP_INFORM = 8,
};

/* What the server tells one ENI (dhcp_config_from_model()). */
struct dhcp_config {
    struct eth_addr mac;                /* The ENI's: the only client. */
    uint32_t ip;                        /* Host byte order, as the model. */
    uint32_t mask;
    uint32_t router;                    /* Subnet + 1; also the server. */
    struct eth_addr router_mac;         /* The replies' Ethernet source. */
    uint32_t dns[DHCP_MAX_SERVERS];
    size_t n_dns;
    uint32_t ntp[DHCP_MAX_SERVERS];
    size_t n_ntp;
    char domain[256];                   /* Empty: no option 15. */
    char hostname[64];                  /* Option 12. */
    uint32_t lease_time;                /* Seconds. */
    uint16_t mtu;                       /* Option 26. */
    uint32_t metadata_ip;               /* Option 121 host route through
                                         * the router (0: none). */
};

/* Fills 'cfg' for ENI 'e' of region 'r': its address and subnet, the
 * router, and the options of its VPC's dhcp_options (or the defaults:
 * AmazonProvidedDNS and the VPC's default domain). */
void dhcp_config_from_model(const struct vpc_region *r,
                            const struct vpc_eni *e,
                            struct dhcp_config *cfg);

/* A parsed client message. */
struct dhcp_request {
    struct eth_addr eth_src;
    uint32_t ip_src;                    /* Host byte order. */
    uint8_t type;                       /* enum dhcp_msg_type. */
    uint32_t xid;                       /* Network byte order, copied. */
    uint16_t flags;                     /* Host byte order. */
    uint32_t ciaddr, giaddr;            /* Host byte order. */
    struct eth_addr chaddr;
    uint32_t requested_ip;              /* Option 50, 0 if absent. */
    uint32_t server_id;                 /* Option 54, 0 if absent. */
    bool wants_routes;                  /* Option 55 lists 121. */
};

#define DHCP_FLAG_BROADCAST 0x8000

/* Parses Ethernet frame 'frame' of 'len' bytes: Ethernet, IPv4, UDP from
 * port 68 to port 67, a BOOTREQUEST with the DHCP magic cookie and a
 * message type.  Returns NULL and fills '*req', or a malloc'd message
 * saying what is wrong (the packet is then malformed). */
char *dhcp_parse(const uint8_t *frame, size_t len, struct dhcp_request *req)
    OVS_WARN_UNUSED_RESULT;

/* What dhcp_answer() decided. */
enum dhcp_outcome {
    DHCP_OUT_REPLY,             /* '*reply' holds the frame to send. */
    DHCP_OUT_NONE,              /* Nothing to send: RELEASE, DECLINE, a
                                 * REQUEST for another server. */
    DHCP_OUT_SPOOFED,           /* Ethernet source or chaddr is not the
                                 * ENI's MAC: nothing. */
    DHCP_OUT_IGNORED,           /* Not a client message type, or a relayed
                                 * one (giaddr): nothing. */
};

/* Answers request 'req' of the ENI that 'cfg' describes: DISCOVER gets an
 * OFFER of its address, REQUEST an ACK for its address (a NAK for another),
 * INFORM an ACK with the options only.  On DHCP_OUT_REPLY, the whole
 * Ethernet frame (router MAC to the client's MAC, server address to the
 * client, UDP 67 to 68, checksums set) is appended to 'reply' and
 * '*reply_type' says which message it is. */
enum dhcp_outcome dhcp_answer(const struct dhcp_request *req,
                              const struct dhcp_config *cfg,
                              struct ofpbuf *reply, uint8_t *reply_type);

/* The name of a message type ("DISCOVER"), or "?". */
const char *dhcp_msg_type_name(uint8_t type);

#endif /* daemon/dhcp.h */
