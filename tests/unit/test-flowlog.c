/* tests/unit/test-flowlog.c: unit tests of vpcd's flow logs
 * (daemon/flowlog.c) without a switch: IPFIX messages built here are fed
 * to vpcd_flowlog_receive() as if ovs-vswitchd had exported them, for an
 * agent whose desired state is examples/web-tier.json with flow logs,
 * compiled for host-b (eni-web-b on ofport 1, eni-app-b on 2), and whose
 * OVSDB does not exist (configuring the collector set fails, which the
 * test ignores).  Checks the records written, the drops counted and the
 * rotation of the files. */

#include <config.h>

#include <errno.h>
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/agent.h"
#include "daemon/flowlog.h"
#include "daemon/state.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/util.h"
#include "pipeline/pipeline.h"
#include "translator/model.h"
#include "util.h"

#define NO_DB "unix:/nonexistent/ovs-vpc-test/db.sock"

/* An IPFIX message under construction. */
struct msg {
    uint8_t b[4096];
    size_t n;
    size_t set;                 /* Offset of the open set's header. */
};

static void
put8(struct msg *m, uint8_t v)
{
    assert_true(m->n < sizeof m->b);
    m->b[m->n++] = v;
}

static void
put16(struct msg *m, uint16_t v)
{
    put8(m, v >> 8);
    put8(m, v);
}

static void
put32(struct msg *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v);
}

static void
put64(struct msg *m, uint64_t v)
{
    put32(m, v >> 32);
    put32(m, v);
}

#define EXPORT_TIME 2000000000u

static void
msg_start(struct msg *m, uint32_t domain)
{
    m->n = 0;
    put16(m, 10);
    put16(m, 0);                /* Length, at msg_end(). */
    put32(m, EXPORT_TIME);
    put32(m, 1);
    put32(m, domain);
}

static void
set_start(struct msg *m, uint16_t id)
{
    m->set = m->n;
    put16(m, id);
    put16(m, 0);
}

static void
set_end(struct msg *m)
{
    size_t len = m->n - m->set;
    m->b[m->set + 2] = len >> 8;
    m->b[m->set + 3] = len;
}

static void
msg_end(struct msg *m)
{
    m->b[2] = m->n >> 8;
    m->b[3] = m->n;
}

#define TEMPLATE 300

/* A template like OVS's: what vpcd reads, and fields it must skip (a
 * variable-length interface name, an enterprise field). */
static void
put_template(struct msg *m)
{
    set_start(m, 2);
    put16(m, TEMPLATE);
    put16(m, 12);
    put16(m, 138); put16(m, 4);         /* observationPointId */
    put16(m, 82); put16(m, 65535);      /* interfaceName, variable */
    put16(m, 8); put16(m, 4);           /* sourceIPv4Address */
    put16(m, 12); put16(m, 4);          /* destinationIPv4Address */
    put16(m, 4); put16(m, 1);           /* protocolIdentifier */
    put16(m, 7); put16(m, 2);           /* sourceTransportPort */
    put16(m, 11); put16(m, 2);          /* destinationTransportPort */
    put16(m, 0x8000 | 1); put16(m, 4);  /* An enterprise element... */
    put32(m, 6876);                     /* ...of VMware's (OVS's). */
    put16(m, 2); put16(m, 8);           /* packetDeltaCount */
    put16(m, 1); put16(m, 8);           /* octetDeltaCount */
    put16(m, 158); put16(m, 4);         /* flowStartDeltaMicroseconds */
    put16(m, 159); put16(m, 4);         /* flowEndDeltaMicroseconds */
    set_end(m);
}

static uint32_t
ip(const char *s)
{
    uint32_t x;
    assert_true(vpc_ip_parse(s, &x));
    return x;
}

static void
put_record(struct msg *m, uint32_t point, const char *src, const char *dst,
           uint8_t proto, uint16_t sport, uint16_t dport, uint64_t packets,
           uint64_t bytes)
{
    put32(m, point);
    put8(m, 3);
    put8(m, 'v'); put8(m, 'p'); put8(m, '1');
    put32(m, ip(src));
    put32(m, ip(dst));
    put8(m, proto);
    put16(m, sport);
    put16(m, dport);
    put32(m, 0xdeadbeef);
    put64(m, packets);
    put64(m, bytes);
    put32(m, 5000000);          /* Started 5 s before the export... */
    put32(m, 1000000);          /* ...ended 1 s before it. */
}

static int
receive(struct vpcd *d, struct msg *m)
{
    msg_end(m);
    return vpcd_flowlog_receive(d, m->b, m->n);
}

static char *
read_text(const char *name)
{
    char *text = vpcd_read_file(name);
    if (!text) {
        fail_msg("cannot read %s (%s)", name, ovs_strerror(errno));
    }
    return text;
}

static int
count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

static void
test_flowlog(void **state OVS_UNUSED)
{
    const char *srcdir = getenv("VPC_SRCDIR");
    char *name = xasprintf("%s/examples/web-tier.json",
                           srcdir && *srcdir ? srcdir : ".");
    char *text = read_text(name);
    free(name);
    char *doc = xasprintf(
        "{\"flow_logs\": [{\"id\": \"fl-vpc\", \"resource\": \"vpc-web\", "
        "\"traffic_type\": \"ALL\"}, {\"id\": \"fl-app\", \"resource\": "
        "\"eni-app-b\", \"traffic_type\": \"REJECT\"}],%s",
        strchr(text, '{') + 1);

    static struct pl_binding b[] = { { "eni-web-b", 1 }, { "eni-app-b", 2 } };
    struct pl_host_config cfg = {
        .host_id = "host-b", .bindings = b, .n_bindings = 2,
        .tunnel_ofport = 1000, .mapping = PL_MAP_FLOWS,
    };
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpcd d = {
        .host = "host-b", .bridge = "br-int", .db = xstrdup(NO_DB),
        .bindings = b, .n_bindings = 2,
    };
    d.desired = vpcd_state_build(doc, &cfg, &errs);
    assert_int_equal(errs.n, 0);
    assert_non_null(d.desired);
    d.base = event_base_new();

    char dir[] = "/tmp/ovs-vpc-flowlog.XXXXXX";
    assert_non_null(mkdtemp(dir));
    vpcd_flowlog_option(0, dir);                /* --flow-log-dir */
    vpcd_flowlog_option(1, "1");                /* --flow-log-interval */
    vpcd_flowlog_option(2, "1024");             /* --flow-log-max-bytes */
    vpcd_flowlog_option(3, "2");                /* --flow-log-keep */
    vpcd_flowlog_option(7, "40");               /* --flow-log-max-pending */
    vpcd_flowlog_start(&d);
    assert_non_null(d.flowlog_metrics);

    struct msg m;
    /* Data before its template: dropped, counted. */
    msg_start(&m, PL_FL_DOMAIN);
    set_start(&m, TEMPLATE);
    put_record(&m, 1, "10.10.1.20", "10.10.1.11", 6, 40000, 443, 5, 300);
    set_end(&m);
    assert_int_equal(receive(&d, &m), 0);
    /* Not IPFIX: dropped, counted. */
    uint8_t junk[8] = { 0, 9 };
    assert_int_equal(vpcd_flowlog_receive(&d, junk, sizeof junk), EPROTO);
    /* A template whose records have no length (data of it would never
     * end): refused, counted as malformed. */
    msg_start(&m, PL_FL_DOMAIN);
    set_start(&m, 2);
    put16(&m, TEMPLATE + 1);
    put16(&m, 1);
    put16(&m, 138); put16(&m, 0);
    set_end(&m);
    set_start(&m, TEMPLATE + 1);
    put32(&m, 0);
    set_end(&m);
    assert_int_equal(receive(&d, &m), EPROTO);

    /* The template, then records of every kind in one message. */
    msg_start(&m, PL_FL_DOMAIN);
    put_template(&m);
    set_start(&m, TEMPLATE);
    /* web-b's security groups accept, twice: one aggregate. */
    put_record(&m, 1, "10.10.1.20", "10.10.1.11", 6, 40000, 443, 5, 300);
    put_record(&m, 1, "10.10.1.20", "10.10.1.11", 6, 40000, 443, 2, 104);
    /* ...and reject port 22. */
    put_record(&m, PL_FL_POINT_REJECT | 1, "10.10.1.20", "10.10.1.11", 6,
               40001, 22, 1, 60);
    /* subnet-app's network ACL drops app-b's ssh (egress): both flow logs
     * record it. */
    put_record(&m, (PL_FL_POINT_REJECT | PL_FL_POINT_SUBNET
                    | (pl_id_hash("subnet-app") & PL_FL_POINT_MASK)),
               "10.10.2.10", "10.10.1.10", 6, 40002, 22, 1, 60);
    /* An accepted packet of app-b's: fl-app (REJECT) does not want it,
     * fl-vpc does. */
    put_record(&m, 2, "10.10.2.10", "10.10.1.10", 1, 0, 0, 3, 252);
    /* No ENI on ofport 9. */
    put_record(&m, 9, "10.10.1.20", "10.10.1.11", 17, 1, 2, 1, 40);
    set_end(&m);
    assert_int_equal(receive(&d, &m), 0);

    struct ds ds = DS_EMPTY_INITIALIZER;
    d.flowlog_metrics(&d, &ds);
    const char *metrics = ds_cstr(&ds);
    assert_non_null(strstr(metrics, "{reason=\"no_template\"} 1\n"));
    assert_non_null(strstr(metrics, "{reason=\"malformed\"} 2\n"));
    assert_non_null(strstr(metrics, "{reason=\"unknown_point\"} 1\n"));
    assert_non_null(strstr(metrics, "vpcd_flow_log_ipfix_records_total 6\n"));
    assert_non_null(strstr(metrics, "vpcd_flow_log_pending 5\n"));
    ds_destroy(&ds);

    /* The interval (1 s) ends: the next tick writes them. */
    xnanosleep(1100 * 1000 * 1000);
    vpcd_flowlog_tick(&d);
    char *vpc_name = xasprintf("%s/fl-vpc.log", dir);
    char *vpc = read_text(vpc_name);
    static const char header[] =
        "version account-id interface-id srcaddr dstaddr srcport dstport "
        "protocol packets bytes start end action log-status\n";
    static const char *const want[] = {
        "2 - eni-web-b 10.10.1.20 10.10.1.11 40000 443 6 7 404 1999999995 "
        "1999999999 ACCEPT OK\n",
        "2 - eni-web-b 10.10.1.20 10.10.1.11 40001 22 6 1 60 1999999995 "
        "1999999999 REJECT OK\n",
        "2 - eni-app-b 10.10.2.10 10.10.1.10 40002 22 6 1 60 1999999995 "
        "1999999999 REJECT OK\n",
        "2 - eni-app-b 10.10.2.10 10.10.1.10 0 0 1 3 252 1999999995 "
        "1999999999 ACCEPT OK\n",
    };
    assert_int_equal(strncmp(vpc, header, strlen(header)), 0);
    assert_int_equal(count_lines(vpc), 1 + ARRAY_SIZE(want));
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        if (!strstr(vpc, want[i])) {
            fail_msg("no line %s in:\n%s", want[i], vpc);
        }
    }
    char *app_name = xasprintf("%s/fl-app.log", dir);
    char *app = read_text(app_name);
    char *app_want = xasprintf("%s%s", header, want[2]);
    assert_string_equal(app, app_want);

    /* 50 flows: 40 aggregate (--flow-log-max-pending), 10 find no room,
     * and neither does app-b's next drop (for both its flow logs): a
     * SKIPDATA record for each flow log and ENI.  Written, they rotate
     * fl-vpc.log (1024 bytes, about 9 lines a file) more often than the
     * 2 files kept. */
    msg_start(&m, PL_FL_DOMAIN);
    set_start(&m, TEMPLATE);
    for (int i = 0; i < 50; i++) {
        put_record(&m, 1, "10.10.1.21", "10.10.1.11", 17, 5000 + i, 53, 1,
                   40);
    }
    put_record(&m, (PL_FL_POINT_REJECT | PL_FL_POINT_SUBNET
                    | (pl_id_hash("subnet-app") & PL_FL_POINT_MASK)),
               "10.10.2.10", "10.10.1.10", 6, 40003, 22, 1, 60);
    set_end(&m);
    assert_int_equal(receive(&d, &m), 0);
    /* vpcd writes what is pending when it stops. */
    vpcd_flowlog_stop(&d);
    ds_init(&ds);
    d.flowlog_metrics(&d, &ds);
    metrics = ds_cstr(&ds);
    assert_non_null(strstr(metrics, "{reason=\"table_full\"} 12\n"));
    assert_non_null(strstr(metrics,
                           "records_total{action=\"SKIPDATA\"} 3\n"));
    ds_destroy(&ds);
    free(app);
    app = read_text(app_name);
    free(app_want);
    app_want = xasprintf("%s%s2 - eni-app-b - - - - - - - 1999999995 "
                         "1999999999 - SKIPDATA\n", header, want[2]);
    assert_string_equal(app, app_want);

    char *files[3];
    int lines = 0;
    for (int i = 0; i < 3; i++) {
        char *fn = i ? xasprintf("%s/fl-vpc.log.%d", dir, i)
                     : xasprintf("%s/fl-vpc.log", dir);
        files[i] = read_text(fn);
        assert_true(strlen(files[i]) <= 1024);
        assert_int_equal(strncmp(files[i], header, strlen(header)), 0);
        lines += count_lines(files[i]) - 1;
        for (const char *p = strchr(files[i], '\n') + 1; *p;
             p = strchr(p, '\n') + 1) {
            unsigned int sport;
            char tail[64];
            int n = sscanf(p, "2 - eni-web-b 10.10.1.21 10.10.1.11 %u 53 17 "
                           "1 40 1999999995 1999999999 %63s", &sport, tail);
            if (!strncmp(p, "2 - eni-web-b - - - - - - - 1999999995 "
                         "1999999999 - SKIPDATA\n", 56)
                || !strncmp(p, "2 - eni-app-b - - - - - - - 1999999995 "
                            "1999999999 - SKIPDATA\n", 56)) {
                continue;
            } else if (n != 2) {
                /* One of the first four, if not rotated away yet. */
                bool known = false;
                for (size_t k = 0; k < ARRAY_SIZE(want); k++) {
                    known |= !strncmp(p, want[k], strlen(want[k]));
                }
                assert_true(known);
            } else {
                assert_true(sport >= 5000 && sport < 5050);
                assert_string_equal(tail, "ACCEPT");
            }
        }
        free(fn);
    }
    char *gone = xasprintf("%s/fl-vpc.log.3", dir);
    assert_int_not_equal(access(gone, F_OK), 0);
    /* 46 lines written (4, then 40 and 2 SKIPDATA), the oldest of them
     * rotated away. */
    assert_true(lines >= 20 && lines < 46);

    free(app_want);
    free(vpc);
    free(vpc_name);
    free(gone);
    free(app);
    free(app_name);
    char *cmd = xasprintf("rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    event_base_free(d.base);
    vpcd_state_destroy(d.desired);
    free(d.db);
    vpc_errors_destroy(&errs);
    free(doc);
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flowlog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
