/* tests/unit/test-dhcp.c: unit tests of vpcd's DHCP server
 * (daemon/dhcp.c): client messages built here byte by byte are parsed,
 * answered for an ENI of examples/web-tier.json (with and without a DHCP
 * options set), and the replies are decoded again and checked field by
 * field, checksums included. */

#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "csum.h"
#include "daemon/dhcp.h"
#include "openvswitch/json.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/util.h"
#include "translator/model.h"
#include "util.h"

#define MAC_WEB_A "\x02\x00\x00\x10\x01\x0a"
#define MAC_OTHER "\x02\x00\x00\x10\x01\x14"

static const char *
srcdir(void)
{
    const char *d = getenv("VPC_SRCDIR");
    return d && d[0] ? d : ".";
}

/* examples/web-tier.json, changed by 'edit' (a function of the parsed
 * document, or NULL). */
static struct vpc_region *
load_web_tier(void (*edit)(struct json *))
{
    char *name = xasprintf("%s/examples/web-tier.json", srcdir());
    struct json *doc = json_from_file(name);
    free(name);
    assert_int_equal(doc->type, JSON_OBJECT);
    if (edit) {
        edit(doc);
    }
    struct vpc_errors errors;
    vpc_errors_init(&errors);
    struct vpc_region *r = vpc_region_from_json(doc, &errors);
    for (size_t i = 0; i < errors.n; i++) {
        print_error("%s\n", errors.msgs[i]);
    }
    assert_non_null(r);
    vpc_errors_destroy(&errors);
    json_destroy(doc);
    return r;
}

/* A client message: Ethernet from 'src', IPv4 from 'ip_src' to broadcast,
 * UDP 68 -> 67, BOOTREQUEST for 'chaddr' with message type 'type' and the
 * options in 'opts' ('n_opts' bytes, without the end option). */
struct frame {
    uint8_t b[1500];
    size_t n;
};

static void
build(struct frame *f, const char *src, const char *chaddr, uint32_t ip_src,
      uint8_t type, uint32_t ciaddr, const uint8_t *opts, size_t n_opts)
{
    uint8_t bootp[236 + 4 + 3 + 64] = { 1, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef };
    size_t bl = 236;
    bootp[12] = ciaddr >> 24;
    bootp[13] = ciaddr >> 16;
    bootp[14] = ciaddr >> 8;
    bootp[15] = ciaddr;
    memcpy(bootp + 28, chaddr, 6);
    memcpy(bootp + bl, "\x63\x82\x53\x63", 4);
    bl += 4;
    bootp[bl++] = 53;
    bootp[bl++] = 1;
    bootp[bl++] = type;
    assert_true(n_opts < 60);
    memcpy(bootp + bl, opts, n_opts);
    bl += n_opts;
    bootp[bl++] = 255;

    memset(f, 0, sizeof *f);
    memset(f->b, 0xff, 6);
    memcpy(f->b + 6, src, 6);
    f->b[12] = 0x08;
    uint8_t *ip = f->b + 14;
    size_t total = 20 + 8 + bl;
    ip[0] = 0x45;
    ip[2] = total >> 8;
    ip[3] = total;
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = ip_src >> 24;
    ip[13] = ip_src >> 16;
    ip[14] = ip_src >> 8;
    ip[15] = ip_src;
    memset(ip + 16, 0xff, 4);
    uint8_t *udp = ip + 20;
    udp[1] = 68;
    udp[3] = 67;
    udp[4] = (8 + bl) >> 8;
    udp[5] = 8 + bl;
    memcpy(udp + 8, bootp, bl);
    f->n = 14 + total;
}

/* A decoded reply. */
struct reply {
    uint8_t eth_dst[6], eth_src[6];
    uint32_t ip_src, ip_dst, yiaddr, ciaddr;
    uint8_t type;
    uint32_t server_id, mask, router, lease;
    uint32_t dns[4];
    size_t n_dns;
    uint32_t ntp[4];
    size_t n_ntp;
    char domain[256], hostname[64];
    int mtu;
    uint8_t routes[64];
    size_t routes_len;
};

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

static void
decode(const struct ofpbuf *b, struct reply *r)
{
    const uint8_t *p = b->data;
    memset(r, 0, sizeof *r);
    assert_true(b->size >= 14 + 20 + 8 + 240);
    memcpy(r->eth_dst, p, 6);
    memcpy(r->eth_src, p + 6, 6);
    assert_int_equal(p[12], 0x08);
    assert_int_equal(p[13], 0x00);
    const uint8_t *ip = p + 14;
    assert_int_equal(ip[0], 0x45);
    assert_int_equal(csum(ip, 20), 0);          /* IPv4 checksum right. */
    size_t total = (ip[2] << 8) | ip[3];
    assert_int_equal(total, b->size - 14);
    r->ip_src = get32(ip + 12);
    r->ip_dst = get32(ip + 16);
    const uint8_t *udp = ip + 20;
    assert_int_equal((udp[0] << 8) | udp[1], 67);
    assert_int_equal((udp[2] << 8) | udp[3], 68);
    size_t ulen = (udp[4] << 8) | udp[5];
    assert_int_equal(ulen, total - 20);
    /* UDP checksum over the pseudo-header comes out 0. */
    uint32_t partial = csum_add32(0, htonl(r->ip_src));
    partial = csum_add32(partial, htonl(r->ip_dst));
    partial = csum_add16(partial, htons(17));
    partial = csum_add16(partial, htons(ulen));
    partial = csum_continue(partial, udp, ulen);
    assert_int_equal(csum_finish(partial), 0);
    const uint8_t *bp = udp + 8;
    assert_int_equal(bp[0], 2);
    assert_memory_equal(bp + 4, "\xde\xad\xbe\xef", 4);
    r->ciaddr = get32(bp + 12);
    r->yiaddr = get32(bp + 16);
    assert_int_equal(get32(bp + 236), 0x63825363);
    const uint8_t *o = bp + 240, *end = udp + ulen;
    while (o < end && *o != 255) {
        if (!*o) {
            o++;
            continue;
        }
        assert_true(o + 2 <= end && o + 2 + o[1] <= end);
        uint8_t code = o[0], len = o[1];
        const uint8_t *v = o + 2;
        switch (code) {
        case 53: r->type = v[0]; break;
        case 54: r->server_id = get32(v); break;
        case 1: r->mask = get32(v); break;
        case 3: r->router = get32(v); break;
        case 51: r->lease = get32(v); break;
        case 6:
            for (size_t i = 0; i < len / 4; i++) {
                r->dns[r->n_dns++] = get32(v + 4 * i);
            }
            break;
        case 42:
            for (size_t i = 0; i < len / 4; i++) {
                r->ntp[r->n_ntp++] = get32(v + 4 * i);
            }
            break;
        case 15: memcpy(r->domain, v, len); break;
        case 12: memcpy(r->hostname, v, len); break;
        case 26: r->mtu = (v[0] << 8) | v[1]; break;
        case 121: memcpy(r->routes, v, len); r->routes_len = len; break;
        }
        o += 2 + len;
    }
    assert_true(o < end);                       /* An end option. */
}

static uint32_t
ip(const char *s)
{
    uint32_t x;
    assert_true(vpc_ip_parse(s, &x));
    return x;
}

/* Parses and answers 'f' for eni-web-a of 'r'; returns the outcome and
 * decodes a reply into 'rep'. */
static enum dhcp_outcome
ask(const struct vpc_region *r, const struct frame *f, struct reply *rep)
{
    struct dhcp_request req;
    char *error = dhcp_parse(f->b, f->n, &req);
    if (error) {
        print_error("%s\n", error);
    }
    assert_null(error);
    struct dhcp_config cfg;
    dhcp_config_from_model(r, vpc_region_find_eni(r, "eni-web-a"), &cfg);
    struct ofpbuf b;
    ofpbuf_init(&b, 0);
    uint8_t type = 0;
    enum dhcp_outcome out = dhcp_answer(&req, &cfg, &b, &type);
    if (out == DHCP_OUT_REPLY) {
        decode(&b, rep);
        assert_int_equal(rep->type, type);
    } else {
        assert_int_equal(b.size, 0);
    }
    ofpbuf_uninit(&b);
    return out;
}

static void
test_discover_offer(void **state OVS_UNUSED)
{
    struct vpc_region *r = load_web_tier(NULL);
    struct frame f;
    struct reply rep;
    static const uint8_t params[] = { 55, 4, 1, 3, 6, 121 };
    build(&f, MAC_WEB_A, MAC_WEB_A, 0, DHCP_DISCOVER, 0, params,
          sizeof params);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_REPLY);
    assert_int_equal(rep.type, DHCP_OFFER);
    assert_memory_equal(rep.eth_dst, MAC_WEB_A, 6);
    assert_memory_equal(rep.eth_src, "\x02\x76\x70\x00\x03\xf2", 6);
    assert_int_equal(rep.yiaddr, ip("10.10.1.10"));
    assert_int_equal(rep.ip_src, ip("10.10.1.1"));
    assert_int_equal(rep.ip_dst, ip("10.10.1.10"));
    assert_int_equal(rep.server_id, ip("10.10.1.1"));
    assert_int_equal(rep.router, ip("10.10.1.1"));
    assert_int_equal(rep.mask, 0xffffff00);
    assert_int_equal(rep.lease, DHCP_DEFAULT_LEASE);
    assert_int_equal(rep.n_dns, 1);
    assert_int_equal(rep.dns[0], ip("10.10.0.2"));
    assert_int_equal(rep.n_ntp, 0);
    assert_string_equal(rep.domain, "az-1.compute.internal");
    assert_string_equal(rep.hostname, "ip-10-10-1-10");
    assert_int_equal(rep.mtu, 1450);
    /* Asked for 121: the metadata host route and the default route. */
    static const uint8_t routes[] = {
        32, 169, 254, 169, 254, 10, 10, 1, 1,
        0, 10, 10, 1, 1,
    };
    assert_int_equal(rep.routes_len, sizeof routes);
    assert_memory_equal(rep.routes, routes, sizeof routes);

    /* Not asked: no option 121. */
    build(&f, MAC_WEB_A, MAC_WEB_A, 0, DHCP_DISCOVER, 0, NULL, 0);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_REPLY);
    assert_int_equal(rep.routes_len, 0);
    vpc_region_destroy(r);
}

static void
test_request_ack_nak(void **state OVS_UNUSED)
{
    struct vpc_region *r = load_web_tier(NULL);
    struct frame f;
    struct reply rep;
    static const uint8_t mine[] = { 50, 4, 10, 10, 1, 10, 54, 4, 10, 10, 1,
                                    1 };
    build(&f, MAC_WEB_A, MAC_WEB_A, 0, DHCP_REQUEST, 0, mine, sizeof mine);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_REPLY);
    assert_int_equal(rep.type, DHCP_ACK);
    assert_int_equal(rep.yiaddr, ip("10.10.1.10"));

    static const uint8_t other[] = { 50, 4, 10, 10, 1, 99 };
    build(&f, MAC_WEB_A, MAC_WEB_A, 0, DHCP_REQUEST, 0, other, sizeof other);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_REPLY);
    assert_int_equal(rep.type, DHCP_NAK);
    assert_int_equal(rep.yiaddr, 0);
    assert_int_equal(rep.ip_dst, 0xffffffff);
    assert_int_equal(rep.lease, 0);

    /* Renewing: from its address, ciaddr set, no option 50. */
    build(&f, MAC_WEB_A, MAC_WEB_A, ip("10.10.1.10"), DHCP_REQUEST,
          ip("10.10.1.10"), NULL, 0);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_REPLY);
    assert_int_equal(rep.type, DHCP_ACK);

    /* Another server chosen: nothing. */
    static const uint8_t elsewhere[] = { 50, 4, 10, 10, 1, 10, 54, 4, 10, 9,
                                         9, 9 };
    build(&f, MAC_WEB_A, MAC_WEB_A, 0, DHCP_REQUEST, 0, elsewhere,
          sizeof elsewhere);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_NONE);

    /* INFORM: options, no address, no lease, to ciaddr. */
    build(&f, MAC_WEB_A, MAC_WEB_A, ip("10.10.1.10"), DHCP_INFORM,
          ip("10.10.1.10"), NULL, 0);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_REPLY);
    assert_int_equal(rep.type, DHCP_ACK);
    assert_int_equal(rep.yiaddr, 0);
    assert_int_equal(rep.ciaddr, ip("10.10.1.10"));
    assert_int_equal(rep.ip_dst, ip("10.10.1.10"));
    assert_int_equal(rep.lease, 0);
    assert_int_equal(rep.router, ip("10.10.1.1"));

    /* RELEASE and DECLINE: nothing. */
    build(&f, MAC_WEB_A, MAC_WEB_A, ip("10.10.1.10"), DHCP_RELEASE,
          ip("10.10.1.10"), NULL, 0);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_NONE);
    build(&f, MAC_WEB_A, MAC_WEB_A, 0, DHCP_DECLINE, 0, NULL, 0);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_NONE);
    vpc_region_destroy(r);
}

/* A request for another MAC, from another MAC, or relayed: nothing. */
static void
test_spoofed(void **state OVS_UNUSED)
{
    struct vpc_region *r = load_web_tier(NULL);
    struct frame f;
    struct reply rep;
    build(&f, MAC_WEB_A, MAC_OTHER, 0, DHCP_DISCOVER, 0, NULL, 0);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_SPOOFED);
    build(&f, MAC_OTHER, MAC_WEB_A, 0, DHCP_DISCOVER, 0, NULL, 0);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_SPOOFED);
    build(&f, MAC_OTHER, MAC_OTHER, 0, DHCP_REQUEST, 0, NULL, 0);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_SPOOFED);
    build(&f, MAC_WEB_A, MAC_WEB_A, 0, DHCP_DISCOVER, 0, NULL, 0);
    f.b[14 + 20 + 8 + 24] = 10;                 /* giaddr 10.0.0.0 */
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_IGNORED);
    vpc_region_destroy(r);
}

/* The parser refuses what is not a DHCP client message, and never reads
 * past the end: every truncation of a valid message is refused or
 * parsed. */
static void
test_malformed(void **state OVS_UNUSED)
{
    struct frame f;
    struct dhcp_request req;
    static const uint8_t opts[] = { 50, 4, 10, 10, 1, 10, 55, 2, 1, 3 };
    build(&f, MAC_WEB_A, MAC_WEB_A, 0, DHCP_REQUEST, 0, opts, sizeof opts);
    char *error = dhcp_parse(f.b, f.n, &req);
    assert_null(error);
    assert_int_equal(req.type, DHCP_REQUEST);
    assert_int_equal(req.requested_ip, ip("10.10.1.10"));

    for (size_t n = 0; n < f.n; n++) {
        uint8_t *copy = xmemdup(f.b, n);    /* ASan: exactly n bytes. */
        error = dhcp_parse(copy, n, &req);
        assert_non_null(error);             /* Lengths no longer fit. */
        free(error);
        free(copy);
    }

    static const struct {
        size_t offset;
        uint8_t value;
        const char *error;
    } bad[] = {
        { 12, 0x86, "not IPv4" },
        { 14 + 9, 6, "not UDP" },
        { 14 + 20 + 1, 69, "not a DHCP client's request" },
        { 14 + 20 + 8, 2, "not a request" },
        { 14 + 20 + 8 + 1, 6, "not Ethernet" },
        { 14 + 20 + 8 + 236, 0, "no DHCP magic cookie" },
        { 14 + 20 + 8 + 236 + 5, 2, "option 53 of length 2" },
        { 14 + 20 + 8 + 236 + 8, 200, "runs past the end" },
        { 14 + 6, 0x20, "a fragment" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct frame g = f;
        g.b[bad[i].offset] = bad[i].value;
        error = dhcp_parse(g.b, g.n, &req);
        assert_non_null(error);
        if (!strstr(error, bad[i].error)) {
            fail_msg("byte %"PRIuSIZE": \"%s\", wanted \"%s\"",
                     bad[i].offset, error, bad[i].error);
        }
        free(error);
    }
    /* No message type. */
    build(&f, MAC_WEB_A, MAC_WEB_A, 0, 0, 0, NULL, 0);
    f.b[14 + 20 + 8 + 240] = 0;                 /* option 53 -> pad */
    error = dhcp_parse(f.b, f.n, &req);
    assert_non_null(error);
    assert_non_null(strstr(error, "no DHCP message type"));
    free(error);
}

static void
with_options(struct json *doc)
{
    struct json *o = json_from_string(
        "[{\"id\": \"dopt-corp\", \"domain_name\": \"corp.example\","
        " \"domain_name_servers\": [\"10.10.1.53\", \"AmazonProvidedDNS\"],"
        " \"ntp_servers\": [\"10.10.1.123\"], \"lease_time\": 600}]");
    json_object_put(doc, "dhcp_options", o);
    struct json *vpcs = shash_find_data(json_object(doc), "vpcs");
    json_object_put_string(json_array(vpcs)->elems[0], "dhcp_options_id",
                           "dopt-corp");
}

/* A VPC's DHCP options set: its servers (AmazonProvidedDNS = the VPC
 * resolver), domain, NTP and lease. */
static void
test_dhcp_options(void **state OVS_UNUSED)
{
    struct vpc_region *r = load_web_tier(with_options);
    struct frame f;
    struct reply rep;
    build(&f, MAC_WEB_A, MAC_WEB_A, 0, DHCP_DISCOVER, 0, NULL, 0);
    assert_int_equal(ask(r, &f, &rep), DHCP_OUT_REPLY);
    assert_int_equal(rep.n_dns, 2);
    assert_int_equal(rep.dns[0], ip("10.10.1.53"));
    assert_int_equal(rep.dns[1], ip("10.10.0.2"));
    assert_int_equal(rep.n_ntp, 1);
    assert_int_equal(rep.ntp[0], ip("10.10.1.123"));
    assert_int_equal(rep.lease, 600);
    assert_string_equal(rep.domain, "corp.example");
    char *h = vpc_eni_hostname(r, vpc_region_find_eni(r, "eni-web-a"));
    assert_string_equal(h, "ip-10-10-1-10.corp.example");
    free(h);
    vpc_region_destroy(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discover_offer),
        cmocka_unit_test(test_request_ack_nak),
        cmocka_unit_test(test_spoofed),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_dhcp_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
