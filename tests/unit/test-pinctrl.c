/* tests/unit/test-pinctrl.c: unit tests of vpcd's packet-in controller
 * (daemon/pinctrl.c) without a switch: frames built here are handed to
 * vpcd_pinctrl_packet() as if ovs-vswitchd had sent them as packet-ins on
 * an input port, for an agent whose desired state is examples/web-tier.json
 * compiled for host-a (eni-web-a on ofport 1, eni-client-a on 2), and what
 * pinctrl would send as packet-outs is caught by the test's send callback.
 * The controller is started (its socket in a temporary run directory, the
 * resolver created); its OVSDB does not exist, so setting the bridge's
 * controller fails, which the test ignores.  Checks which ENI answers are
 * for, the per-ENI DHCP bucket, the DNS reply's framing (addresses, ports,
 * checksums) and the counters. */

#include <config.h>

#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "csum.h"
#include "daemon/agent.h"
#include "daemon/pinctrl.h"
#include "daemon/state.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "translator/model.h"
#include "util.h"

#define NO_DB "unix:/nonexistent/ovs-vpc-test/db.sock"

static const uint8_t MAC_WEB_A[6] = { 2, 0, 0, 0x10, 1, 0x0a };
static const uint8_t MAC_CLIENT_A[6] = { 2, 0, 0, 0x10, 1, 0x14 };

/* What pinctrl sent. */
static struct {
    uint8_t frame[2048];
    size_t len;
    int port;
    int n;
} sent;

static void
send_cb(const void *frame, size_t len, int out_port, void *aux OVS_UNUSED)
{
    assert_true(len <= sizeof sent.frame);
    memcpy(sent.frame, frame, len);
    sent.len = len;
    sent.port = out_port;
    sent.n++;
}

static char *
read_text(const char *name)
{
    FILE *f = fopen(name, "r");
    assert_non_null(f);
    struct ds ds = DS_EMPTY_INITIALIZER;
    int c;
    while ((c = getc(f)) != EOF) {
        ds_put_char(&ds, c);
    }
    fclose(f);
    return ds_steal_cstr(&ds);
}

/* An IPv4/UDP frame from 'src' (MAC), 'sip':'sport' to 'dip':'dport' with
 * 'payload', into 'f'; returns its length. */
static size_t
udp_frame(uint8_t *f, const uint8_t *src, uint32_t sip, int sport,
          uint32_t dip, int dport, const uint8_t *payload, size_t n)
{
    memset(f, 0xff, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    ip[2] = (20 + 8 + n) >> 8;
    ip[3] = 20 + 8 + n;
    ip[8] = 64;
    ip[9] = 17;
    ovs_be32 s = htonl(sip), d = htonl(dip);
    memcpy(ip + 12, &s, 4);
    memcpy(ip + 16, &d, 4);
    uint8_t *udp = ip + 20;
    udp[0] = sport >> 8;
    udp[1] = sport;
    udp[2] = dport >> 8;
    udp[3] = dport;
    udp[4] = (8 + n) >> 8;
    udp[5] = 8 + n;
    udp[6] = udp[7] = 0;
    memcpy(udp + 8, payload, n);
    return 14 + 20 + 8 + n;
}

/* A DISCOVER from 'src' for 'chaddr', into 'f'; returns its length. */
static size_t
discover(uint8_t *f, const uint8_t *src, const uint8_t *chaddr)
{
    uint8_t b[244] = { 1, 1, 6, 0, 1, 2, 3, 4 };
    memcpy(b + 28, chaddr, 6);
    memcpy(b + 236, "\x63\x82\x53\x63\x35\x01\x01\xff", 8);
    return udp_frame(f, src, 0, 68, 0xffffffff, 67, b, sizeof b);
}

static uint64_t
status_count(struct vpcd *d, const char *object, const char *key)
{
    struct json *o = json_object_create();
    d->pinctrl_status(d, o);
    const struct json *svc = shash_find_data(json_object(o), "services");
    assert_non_null(svc);
    const struct json *sub = shash_find_data(json_object(svc), object);
    assert_non_null(sub);
    const struct json *v = shash_find_data(json_object(sub), key);
    assert_non_null(v);
    uint64_t n = json_integer(v);
    json_destroy(o);
    return n;
}

static void
test_pinctrl(void **state OVS_UNUSED)
{
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    const char *srcdir = getenv("VPC_SRCDIR");
    char *name = xasprintf("%s/examples/web-tier.json",
                           srcdir && *srcdir ? srcdir : ".");
    char *text = read_text(name);
    free(name);

    static struct pl_binding b[] = { { "eni-web-a", 1 },
                                     { "eni-client-a", 2 } };
    struct pl_host_config cfg = {
        .host_id = "host-a", .bindings = b, .n_bindings = 2,
        .tunnel_ofport = 1000, .mapping = PL_MAP_FLOWS,
    };
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    char dir[] = "/tmp/ovs-vpc-pinctrl.XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct vpcd d = {
        .host = "host-a", .bridge = "br-int", .db = xstrdup(NO_DB),
        .bindings = b, .n_bindings = 2, .run_dir = xstrdup(dir),
        .version = 1,
    };
    d.desired = vpcd_state_build(text, &cfg, &errs);
    assert_int_equal(errs.n, 0);
    assert_non_null(d.desired);
    d.base = event_base_new();

    vpcd_pinctrl_option(2, "1");        /* --dhcp-eni-rate */
    vpcd_pinctrl_option(3, "3");        /* --dhcp-eni-burst */
    vpcd_pinctrl_start(&d);
    assert_non_null(d.pinctrl_status);

    uint8_t f[1500];
    size_t n;

    /* A DISCOVER from eni-web-a's port: an OFFER out of that port. */
    n = discover(f, MAC_WEB_A, MAC_WEB_A);
    vpcd_pinctrl_packet(&d, 1, f, n, send_cb, NULL);
    assert_int_equal(sent.n, 1);
    assert_int_equal(sent.port, 1);
    assert_memory_equal(sent.frame, MAC_WEB_A, 6);
    assert_int_equal(sent.frame[14 + 20 + 8], 2);       /* BOOTREPLY */
    assert_memory_equal(sent.frame + 14 + 20 + 8 + 16,
                        "\x0a\x0a\x01\x0a", 4);         /* yiaddr */

    /* The same frame from eni-client-a's port: that ENI's MAC is not the
     * frame's, so nothing (port security would have dropped it). */
    vpcd_pinctrl_packet(&d, 2, f, n, send_cb, NULL);
    assert_int_equal(sent.n, 1);
    assert_int_equal(status_count(&d, "dropped", "spoofed"), 1);

    /* A port no ENI is bound to. */
    vpcd_pinctrl_packet(&d, 7, f, n, send_cb, NULL);
    assert_int_equal(sent.n, 1);
    assert_int_equal(status_count(&d, "dropped", "not_an_eni"), 1);

    /* eni-web-a's bucket holds 3: one spent, two more, then none. */
    vpcd_pinctrl_packet(&d, 1, f, n, send_cb, NULL);
    vpcd_pinctrl_packet(&d, 1, f, n, send_cb, NULL);
    assert_int_equal(sent.n, 3);
    vpcd_pinctrl_packet(&d, 1, f, n, send_cb, NULL);
    assert_int_equal(sent.n, 3);
    assert_int_equal(status_count(&d, "dropped", "rate_limit"), 1);
    /* eni-client-a's own bucket is full. */
    n = discover(f, MAC_CLIENT_A, MAC_CLIENT_A);
    vpcd_pinctrl_packet(&d, 2, f, n, send_cb, NULL);
    assert_int_equal(sent.n, 4);
    assert_int_equal(sent.port, 2);

    /* DNS from eni-client-a to its subnet's +2 for eni-web-a's name: the
     * answer comes from 10.10.1.2:53 to 10.10.1.20:40000. */
    static const char qname[] = "\x0dip-10-10-1-10\x04" "az-1\x07"
                                "compute\x08internal";
    uint8_t q[128] = { 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
    size_t ql = 12;
    memcpy(q + ql, qname, sizeof qname);        /* With the root label. */
    ql += sizeof qname;
    memcpy(q + ql, "\x00\x01\x00\x01", 4);
    ql += 4;
    n = udp_frame(f, MAC_CLIENT_A, 0x0a0a0114, 40000, 0x0a0a0102, 53, q,
                  ql);
    vpcd_pinctrl_packet(&d, 2, f, n, send_cb, NULL);
    assert_int_equal(sent.n, 5);
    assert_int_equal(sent.port, 2);
    assert_memory_equal(sent.frame, MAC_CLIENT_A, 6);
    assert_memory_equal(sent.frame + 6, "\x02\x76\x70\x00\x03\xf2", 6);
    const uint8_t *ip = sent.frame + 14;
    assert_int_equal(csum(ip, 20), 0);
    assert_memory_equal(ip + 12, "\x0a\x0a\x01\x02", 4);
    assert_memory_equal(ip + 16, "\x0a\x0a\x01\x14", 4);
    const uint8_t *udp = ip + 20;
    assert_memory_equal(udp, "\x00\x35\x9c\x40", 4);    /* 53 -> 40000 */
    size_t ulen = (udp[4] << 8) | udp[5];
    assert_int_equal(14 + 20 + ulen, sent.len);
    uint32_t partial = csum_continue(0, ip + 12, 8);
    partial = csum_add16(partial, htons(17));
    partial = csum_add16(partial, htons(ulen));
    partial = csum_continue(partial, udp, ulen);
    assert_int_equal(csum_finish(partial), 0);
    assert_memory_equal(udp + 8, "\xab\xcd", 2);        /* The query id. */
    assert_memory_equal(sent.frame + sent.len - 4, "\x0a\x0a\x01\x0a", 4);
    assert_int_equal(status_count(&d, "answered", "dns"), 1);
    assert_int_equal(status_count(&d, "answered", "dhcp"), 4);

    /* Not DHCP or DNS: counted, nothing sent. */
    n = udp_frame(f, MAC_CLIENT_A, 0x0a0a0114, 40000, 0x0a0a0102, 54, q,
                  ql);
    vpcd_pinctrl_packet(&d, 2, f, n, send_cb, NULL);
    assert_int_equal(sent.n, 5);
    assert_int_equal(status_count(&d, "packet_ins", "other"), 1);

    struct ds m = DS_EMPTY_INITIALIZER;
    d.pinctrl_metrics(&d, &m);
    assert_non_null(strstr(ds_cstr(&m), "vpcd_services_dropped_total{"
                           "service=\"dhcp\",reason=\"rate_limit\"} 1\n"));
    assert_non_null(strstr(ds_cstr(&m), "vpcd_services_dhcp_replies_total{"
                           "type=\"OFFER\"} 4\n"));
    ds_destroy(&m);

    vpcd_pinctrl_stop(&d);
    char *sock = xasprintf("%s/pinctrl.sock", dir);
    unlink(sock);
    free(sock);
    rmdir(dir);
    vpcd_state_destroy(d.desired);
    d.desired = NULL;
    d.bindings = NULL;
    d.n_bindings = 0;
    event_base_free(d.base);
    vpcd_destroy(&d);
    vpc_errors_destroy(&errs);
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pinctrl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
