/* tests/unit/test-dns.c: unit tests of the VPC resolver (daemon/dns.c).
 *
 * Queries are built here byte by byte and replies decoded here (not with
 * the resolver's own parser), for a small region loaded with the
 * translator:
 *
 *   vpc-a 10.0.0.0/16: subnet-a 10.0.1.0/24 in eu-west-1a, so its domain is
 *         eu-west-1.compute.internal; eni-a1 10.0.1.10 (dns_names
 *         db.corp.example, Api.Corp.Example.), eni-a2 10.0.1.20
 *   vpc-b 10.1.0.0/16: subnet-b 10.1.1.0/24 in eu-west-1a; eni-b1
 *         10.1.1.10
 *
 * Forwarding runs against a real UDP "upstream" on 127.0.0.1 that this
 * test serves from the same libevent loop as the resolver. */

#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/dns.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "translator/model.h"
#include "util.h"

/* ------------------------------------------------------------ the region */

static const char region_json[] =
    "{'hosts':[{'id':'host-1','underlay_ip':'192.168.0.1'}],"
    "'vpcs':[{'id':'vpc-a','cidr_blocks':['10.0.0.0/16'],'vni':100},"
    "        {'id':'vpc-b','cidr_blocks':['10.1.0.0/16'],'vni':200}],"
    "'subnets':[{'id':'subnet-a','vpc':'vpc-a','cidr':'10.0.1.0/24',"
    "            'availability_zone':'eu-west-1a'},"
    "           {'id':'subnet-b','vpc':'vpc-b','cidr':'10.1.1.0/24',"
    "            'availability_zone':'eu-west-1a'}],"
    "'enis':[{'id':'eni-a1','subnet':'subnet-a','host':'host-1',"
    "         'mac':'02:00:00:00:01:0a','private_ip':'10.0.1.10'"
    "         DNS_NAMES},"
    "        {'id':'eni-a2','subnet':'subnet-a','host':'host-1',"
    "         'mac':'02:00:00:00:01:14','private_ip':'10.0.1.20'},"
    "        {'id':'eni-b1','subnet':'subnet-b','host':'host-1',"
    "         'mac':'02:00:00:01:01:0a','private_ip':'10.1.1.10'}]}";

#define HOST_A1 "ip-10-0-1-10.eu-west-1.compute.internal"
#define HOST_A2 "ip-10-0-1-20.eu-west-1.compute.internal"
#define HOST_B1 "ip-10-1-1-10.eu-west-1.compute.internal"

/* Loads region_json with 'dns_names' (JSON text after a comma, or "") in
 * place of DNS_NAMES, single quotes made double. */
static struct vpc_region *
load_region(const char *dns_names, struct vpc_errors *errs)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    const char *mark = strstr(region_json, "DNS_NAMES");

    ds_put_buffer(&s, region_json, mark - region_json);
    ds_put_cstr(&s, dns_names);
    ds_put_cstr(&s, mark + strlen("DNS_NAMES"));
    for (char *p = s.string; *p; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }
    struct vpc_region *r = vpc_region_from_string(ds_cstr(&s), errs);
    ds_destroy(&s);
    return r;
}

struct fixture {
    struct vpc_region *r;
    struct vpcd_dns *dns;
    const struct vpc_eni *a1, *a2, *b1;
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof *f);
    struct vpc_errors errs;

    vpc_errors_init(&errs);
    f->r = load_region(",'dns_names':['db.corp.example',"
                       "'Api.Corp.Example.']", &errs);
    for (size_t i = 0; i < errs.n; i++) {
        print_error("%s\n", errs.msgs[i]);
    }
    assert_non_null(f->r);
    vpc_errors_destroy(&errs);
    f->a1 = vpc_region_find_eni(f->r, "eni-a1");
    f->a2 = vpc_region_find_eni(f->r, "eni-a2");
    f->b1 = vpc_region_find_eni(f->r, "eni-b1");
    f->dns = vpcd_dns_create(NULL, NULL, 0);
    vpcd_dns_set_region(f->dns, f->r);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    vpcd_dns_destroy(f->dns);
    vpc_region_destroy(f->r);
    free(f);
    return 0;
}

/* ------------------------------------------------------------- queries */

struct msg {
    uint8_t b[1024];
    size_t n;
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
put_name(struct msg *m, const char *name)
{
    while (*name) {
        size_t l = strcspn(name, ".");
        put8(m, l);
        for (size_t i = 0; i < l; i++) {
            put8(m, name[i]);
        }
        name += l + (name[l] == '.');
    }
    put8(m, 0);
}

static void
put_header(struct msg *m, uint16_t id, uint16_t flags, uint16_t qd,
           uint16_t an, uint16_t ns, uint16_t ar)
{
    m->n = 0;
    put16(m, id);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, ns);
    put16(m, ar);
}

/* An EDNS0 OPT record with a cookie option, as dig sends. */
static void
put_opt(struct msg *m)
{
    put8(m, 0);
    put16(m, VPCD_DNS_TYPE_OPT);
    put16(m, 1232);
    put16(m, 0);
    put16(m, 0);
    put16(m, 12);               /* RDLENGTH. */
    put16(m, 10);               /* COOKIE. */
    put16(m, 8);
    for (int i = 0; i < 8; i++) {
        put8(m, i);
    }
}

/* A query for 'name' and 'type' with RD, as a stub resolver sends it. */
static void
make_query(struct msg *m, uint16_t id, const char *name, uint16_t type,
           bool edns)
{
    put_header(m, id, VPCD_DNS_F_RD, 1, 0, 0, edns);
    put_name(m, name);
    put16(m, type);
    put16(m, VPCD_DNS_CLASS_IN);
    if (edns) {
        put_opt(m);
    }
}

/* ------------------------------------------------------------- replies */

struct reply {
    bool got;
    int n_got;
    uint8_t b[4096];
    size_t n;
    char ctx[64];
};

static void
reply_cb(const uint8_t *reply, size_t len, const void *ctx, void *aux)
{
    struct reply *r = aux;
    assert_true(len <= sizeof r->b);
    memcpy(r->b, reply, len);
    r->n = len;
    r->got = true;
    r->n_got++;
    snprintf(r->ctx, sizeof r->ctx, "%s", ctx ? (const char *) ctx : "");
}

static uint16_t
rget16(const struct reply *r, size_t ofs)
{
    assert_true(ofs + 2 <= r->n);
    return (r->b[ofs] << 8) | r->b[ofs + 1];
}

/* Skips the (uncompressed, or one pointer) name at '*ofs'. */
static void
skip_name(const struct reply *r, size_t *ofs)
{
    for (;;) {
        assert_true(*ofs < r->n);
        uint8_t l = r->b[*ofs];
        if ((l & 0xc0) == 0xc0) {
            *ofs += 2;
            return;
        }
        *ofs += 1 + l;
        if (!l) {
            return;
        }
    }
}

/* Decoded reply: header fields and the first answer. */
struct decoded {
    uint16_t id, flags, qd, an, ns, ar;
    int rcode;
    uint16_t qtype;
    uint16_t atype;
    uint32_t ttl;
    uint32_t a;                 /* A. */
    char ptr[256];              /* PTR target, dotted. */
    bool has_opt;
};

static void
decode(const struct reply *r, struct decoded *d)
{
    memset(d, 0, sizeof *d);
    assert_true(r->got);
    assert_true(r->n >= 12);
    d->id = rget16(r, 0);
    d->flags = rget16(r, 2);
    d->qd = rget16(r, 4);
    d->an = rget16(r, 6);
    d->ns = rget16(r, 8);
    d->ar = rget16(r, 10);
    d->rcode = d->flags & 0xf;
    assert_true(d->flags & VPCD_DNS_F_QR);

    size_t ofs = 12;
    assert_int_equal(d->qd, 1);
    skip_name(r, &ofs);
    d->qtype = rget16(r, ofs);
    ofs += 4;
    if (d->an) {
        skip_name(r, &ofs);
        d->atype = rget16(r, ofs);
        assert_int_equal(rget16(r, ofs + 2), VPCD_DNS_CLASS_IN);
        d->ttl = ((uint32_t) rget16(r, ofs + 4) << 16) | rget16(r, ofs + 6);
        uint16_t rdlen = rget16(r, ofs + 8);
        ofs += 10;
        assert_true(ofs + rdlen <= r->n);
        if (d->atype == VPCD_DNS_TYPE_A) {
            assert_int_equal(rdlen, 4);
            d->a = ((uint32_t) rget16(r, ofs) << 16) | rget16(r, ofs + 2);
        } else if (d->atype == VPCD_DNS_TYPE_PTR) {
            size_t p = ofs, n = 0;
            while (r->b[p]) {
                uint8_t l = r->b[p];
                if (n) {
                    d->ptr[n++] = '.';
                }
                memcpy(&d->ptr[n], &r->b[p + 1], l);
                n += l;
                p += 1 + l;
            }
            d->ptr[n] = '\0';
            assert_int_equal(p + 1, ofs + rdlen);
        }
        ofs += rdlen;
        for (int i = 1; i < d->an; i++) {
            skip_name(r, &ofs);
            ofs += 10 + rget16(r, ofs + 8);
        }
    }
    if (d->ar) {
        assert_int_equal(d->ar, 1);
        assert_int_equal(r->b[ofs], 0);
        assert_int_equal(rget16(r, ofs + 1), VPCD_DNS_TYPE_OPT);
        d->has_opt = true;
        ofs += 11 + rget16(r, ofs + 9);
    }
    assert_int_equal(ofs, r->n);
}

/* Asks 'name'/'type' from 'eni' and decodes the answer, which must come at
 * once. */
static void
ask(struct vpcd_dns *dns, const struct vpc_eni *eni, const char *name,
    uint16_t type, struct decoded *d)
{
    struct msg m;
    struct reply r = { .got = false };

    make_query(&m, 0x1234, name, type, false);
    vpcd_dns_query(dns, eni, m.b, m.n, NULL, 0, reply_cb, &r);
    if (!r.got) {
        fail_msg("no immediate reply to %s", name);
    }
    decode(&r, d);
    assert_int_equal(d->id, 0x1234);
    assert_int_equal(d->qtype, type);
    assert_true(d->flags & VPCD_DNS_F_RD);
}

static char *
metrics(const struct vpcd_dns *dns)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    vpcd_dns_metrics(dns, &s);
    return ds_steal_cstr(&s);
}

static void
assert_metric(const struct vpcd_dns *dns, const char *line)
{
    char *m = metrics(dns);
    if (!strstr(m, line)) {
        fail_msg("metric \"%s\" missing in:\n%s", line, m);
    }
    free(m);
}

/* --------------------------------------------------------------- parsing */

static void
test_parse_good(void **state OVS_UNUSED)
{
    struct vpcd_dns_request rq;
    struct msg m;
    char *error;

    make_query(&m, 0xbeef, "WWW.Example.COM", VPCD_DNS_TYPE_A, false);
    error = vpcd_dns_parse(m.b, m.n, &rq);
    assert_null(error);
    assert_int_equal(rq.id, 0xbeef);
    assert_string_equal(rq.name, "www.example.com");
    assert_int_equal(rq.qtype, VPCD_DNS_TYPE_A);
    assert_int_equal(rq.qclass, VPCD_DNS_CLASS_IN);
    assert_int_equal(rq.qname_len, 17);
    assert_memory_equal(rq.qname, "\3WWW\7Example\3COM", 17);
    assert_false(rq.edns);

    make_query(&m, 1, "example.com", VPCD_DNS_TYPE_AAAA, true);
    error = vpcd_dns_parse(m.b, m.n, &rq);
    assert_null(error);
    assert_true(rq.edns);
    assert_int_equal(rq.edns_size, 1232);

    /* The root, and a label with bytes that need escaping. */
    make_query(&m, 1, "", VPCD_DNS_TYPE_SOA, false);
    assert_null(vpcd_dns_parse(m.b, m.n, &rq));
    assert_string_equal(rq.name, "");
    make_query(&m, 1, "a b.c\\d", VPCD_DNS_TYPE_A, false);
    assert_null(vpcd_dns_parse(m.b, m.n, &rq));
    assert_string_equal(rq.name, "a\\032b.c\\092d");

    /* A compressed name that points backward (into the header, which is
     * nonsense but well-formed: a 0-length label at byte 4 would be
     * QDCOUNT's high byte). */
    put_header(&m, 1, 0, 1, 0, 0, 0);
    put8(&m, 1);
    put8(&m, 'x');
    put16(&m, 0xc000 | 4);
    put16(&m, 1);
    put16(&m, 1);
    assert_null(vpcd_dns_parse(m.b, m.n, &rq));
    assert_string_equal(rq.name, "x");
}

/* Every malformed query: its parse error, and no reply at all. */
static void
test_parse_bad(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *what;
        const char *error;
    } cases[] = {
        { "short", "shorter than a DNS header" },
        { "qr", "QR set" },
        { "opcode", "opcode 2" },
        { "qdcount0", "QDCOUNT 0" },
        { "qdcount2", "QDCOUNT 2" },
        { "ancount", "ANCOUNT 1" },
        { "arcount", "ARCOUNT 2" },
        { "not-opt", "only an EDNS0 OPT" },
        { "trunc-name", "truncated label" },
        { "trunc-type", "truncated after its name" },
        { "trunc-opt", "OPT record: 12 bytes of data, truncated" },
        { "label64", "longer than 63 bytes" },
        { "name256", "longer than 255 bytes" },
        { "loop-self", "does not point backward (a loop)" },
        { "loop-two", "does not point backward (a loop)" },
        { "forward", "does not point backward" },
        { "trunc-pointer", "truncated compression pointer" },
        { "trailing", "1 bytes after the last record" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *w = cases[i].what;
        struct msg m;

        make_query(&m, 7, "example.com", VPCD_DNS_TYPE_A, true);
        if (!strcmp(w, "short")) {
            m.n = 11;
        } else if (!strcmp(w, "qr")) {
            m.b[2] |= 0x80;
        } else if (!strcmp(w, "opcode")) {
            m.b[2] |= 2 << 3;
        } else if (!strcmp(w, "qdcount0")) {
            m.b[5] = 0;
        } else if (!strcmp(w, "qdcount2")) {
            m.b[5] = 2;
        } else if (!strcmp(w, "ancount")) {
            m.b[7] = 1;
        } else if (!strcmp(w, "arcount")) {
            m.b[11] = 2;
        } else if (!strcmp(w, "not-opt")) {
            /* The OPT's type (after the question: 12 + 13 + 4, root). */
            m.b[12 + 13 + 4 + 2] = VPCD_DNS_TYPE_A;
        } else if (!strcmp(w, "trunc-name")) {
            m.n = 12 + 5;
        } else if (!strcmp(w, "trunc-type")) {
            m.n = 12 + 13 + 2;
        } else if (!strcmp(w, "trunc-opt")) {
            m.n -= 1;
        } else if (!strcmp(w, "label64")) {
            put_header(&m, 7, 0, 1, 0, 0, 0);
            put8(&m, 64);
            for (int j = 0; j < 64; j++) {
                put8(&m, 'a');
            }
            put8(&m, 0);
            put16(&m, 1);
            put16(&m, 1);
        } else if (!strcmp(w, "name256")) {
            /* Four labels of 63 bytes: 4 * 64 + 1 = 257 bytes. */
            put_header(&m, 7, 0, 1, 0, 0, 0);
            for (int l = 0; l < 4; l++) {
                put8(&m, 63);
                for (int j = 0; j < 63; j++) {
                    put8(&m, 'a');
                }
            }
            put8(&m, 0);
            put16(&m, 1);
            put16(&m, 1);
        } else if (!strcmp(w, "loop-self")) {
            put_header(&m, 7, 0, 1, 0, 0, 0);
            put16(&m, 0xc000 | 12);
            put16(&m, 1);
            put16(&m, 1);
        } else if (!strcmp(w, "loop-two")) {
            /* "a" then a pointer back to "a": a.a.a... */
            put_header(&m, 7, 0, 1, 0, 0, 0);
            put8(&m, 1);
            put8(&m, 'a');
            put16(&m, 0xc000 | 12);
            put16(&m, 1);
            put16(&m, 1);
        } else if (!strcmp(w, "forward")) {
            put_header(&m, 7, 0, 1, 0, 0, 0);
            put16(&m, 0xc000 | 18);
            put16(&m, 1);
            put16(&m, 1);
            put8(&m, 0);
        } else if (!strcmp(w, "trunc-pointer")) {
            put_header(&m, 7, 0, 1, 0, 0, 0);
            put8(&m, 0xc0);
        } else if (!strcmp(w, "trailing")) {
            put8(&m, 0);
        }

        struct vpcd_dns_request rq;
        char *error = vpcd_dns_parse(m.b, m.n, &rq);
        if (!error || !strstr(error, cases[i].error)) {
            fail_msg("case %s: expected \"%s\", got \"%s\"", w,
                     cases[i].error, error ? error : "(parsed)");
        }
        free(error);

        struct reply r = { .got = false };
        vpcd_dns_query(f->dns, f->a1, m.b, m.n, NULL, 0, reply_cb, &r);
        if (r.got) {
            fail_msg("case %s: a malformed query got a reply", w);
        }
    }
    char line[64];
    snprintf(line, sizeof line, "vpcd_dns_malformed_total %zu\n",
             ARRAY_SIZE(cases));
    assert_metric(f->dns, line);
}

/* ------------------------------------------------------- local answers */

static void
test_a(void **state)
{
    struct fixture *f = *state;
    struct decoded d;

    ask(f->dns, f->a2, HOST_A1, VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NOERROR);
    assert_true(d.flags & VPCD_DNS_F_AA);
    assert_false(d.flags & VPCD_DNS_F_RA);      /* No upstream. */
    assert_int_equal(d.an, 1);
    assert_int_equal(d.atype, VPCD_DNS_TYPE_A);
    assert_int_equal(d.ttl, VPCD_DNS_TTL);
    assert_int_equal(d.a, 0x0a00010a);
    assert_false(d.has_opt);

    /* Its own name, and ANY. */
    ask(f->dns, f->a2, HOST_A2, VPCD_DNS_TYPE_ANY, &d);
    assert_int_equal(d.an, 1);
    assert_int_equal(d.a, 0x0a000114);

    /* Names the intents declare. */
    ask(f->dns, f->a2, "db.corp.example", VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NOERROR);
    assert_int_equal(d.a, 0x0a00010a);
    ask(f->dns, f->a1, "api.corp.example", VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.a, 0x0a00010a);

    /* Another type of a known name: NOERROR, no data. */
    ask(f->dns, f->a2, HOST_A1, VPCD_DNS_TYPE_AAAA, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NOERROR);
    assert_int_equal(d.an, 0);
    assert_int_equal(d.ns, 0);

    /* Unknown names under the VPC's domain, and the domain itself. */
    ask(f->dns, f->a2, "ip-10-0-1-99.eu-west-1.compute.internal",
        VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NXDOMAIN);
    assert_int_equal(d.an, 0);
    assert_true(d.flags & VPCD_DNS_F_AA);
    ask(f->dns, f->a2, "eu-west-1.compute.internal", VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NOERROR);
    assert_int_equal(d.an, 0);

    /* Only the canonical form of a hostname is one. */
    static const char *const not_hostnames[] = {
        "ip-010-0-1-10.eu-west-1.compute.internal",
        "ip-+10-0-1-10.eu-west-1.compute.internal",
        "ip- 10-0-1-10.eu-west-1.compute.internal",
        "ip-10-0-1-10-.eu-west-1.compute.internal",
        "ip-10-0-1-266.eu-west-1.compute.internal",
        "ip-10-0-1.eu-west-1.compute.internal",
        "x.ip-10-0-1-10.eu-west-1.compute.internal",
    };
    for (size_t i = 0; i < ARRAY_SIZE(not_hostnames); i++) {
        ask(f->dns, f->a2, not_hostnames[i], VPCD_DNS_TYPE_A, &d);
        if (d.rcode != VPCD_DNS_NXDOMAIN) {
            fail_msg("%s: rcode %d", not_hostnames[i], d.rcode);
        }
    }
    ask(f->dns, f->a2, "ip-10-0-1-10", VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_REFUSED);
    ask(f->dns, f->a2, HOST_A1 ".example", VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_REFUSED);

    assert_metric(f->dns, "vpcd_dns_queries_total{result=\"answer\"} 4\n");
    assert_metric(f->dns, "vpcd_dns_queries_total{result=\"nodata\"} 2\n");
    assert_metric(f->dns,
                  "vpcd_dns_queries_total{result=\"nxdomain\"} 8\n");
    /* 3 ENIs: 3 hostnames, 3 reverse names, 2 declared names. */
    assert_int_equal(vpcd_dns_n_names(f->dns), 8);
    assert_metric(f->dns, "vpcd_dns_names 8\n");
}

static void
test_case_insensitive(void **state)
{
    struct fixture *f = *state;
    const char *name = "IP-10-0-1-10.EU-West-1.Compute.INTERNAL";
    struct decoded d;

    ask(f->dns, f->a2, name, VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NOERROR);
    assert_int_equal(d.a, 0x0a00010a);
    ask(f->dns, f->a2, "DB.Corp.Example", VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.a, 0x0a00010a);

    /* The question is echoed as it was asked. */
    struct msg m;
    struct reply r = { .got = false };
    make_query(&m, 9, name, VPCD_DNS_TYPE_A, false);
    vpcd_dns_query(f->dns, f->a2, m.b, m.n, NULL, 0, reply_cb, &r);
    assert_true(r.got);
    assert_memory_equal(r.b + 12, m.b + 12, m.n - 12);
}

static void
test_ptr(void **state)
{
    struct fixture *f = *state;
    struct decoded d;

    ask(f->dns, f->a1, "20.1.0.10.in-addr.arpa", VPCD_DNS_TYPE_PTR, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NOERROR);
    assert_int_equal(d.an, 1);
    assert_int_equal(d.atype, VPCD_DNS_TYPE_PTR);
    assert_string_equal(d.ptr, HOST_A2);
    assert_int_equal(d.ttl, VPCD_DNS_TTL);

    /* Upper case "IN-ADDR.ARPA". */
    ask(f->dns, f->a1, "10.1.0.10.IN-ADDR.ARPA", VPCD_DNS_TYPE_PTR, &d);
    assert_string_equal(d.ptr, HOST_A1);

    /* An address of the VPC's blocks that is no ENI's: NXDOMAIN, even in
     * another subnet; A of a reverse name: no data. */
    ask(f->dns, f->a1, "99.1.0.10.in-addr.arpa", VPCD_DNS_TYPE_PTR, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NXDOMAIN);
    ask(f->dns, f->a1, "5.200.0.10.in-addr.arpa", VPCD_DNS_TYPE_PTR, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NXDOMAIN);
    ask(f->dns, f->a1, "10.1.0.10.in-addr.arpa", VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NOERROR);
    assert_int_equal(d.an, 0);

    /* Outside the VPC's blocks (vpc-b's ENI, and the internet): not the
     * VPC's to answer, and no upstream here. */
    ask(f->dns, f->a1, "10.1.1.10.in-addr.arpa", VPCD_DNS_TYPE_PTR, &d);
    assert_int_equal(d.rcode, VPCD_DNS_REFUSED);
    ask(f->dns, f->a1, "8.8.8.8.in-addr.arpa", VPCD_DNS_TYPE_PTR, &d);
    assert_int_equal(d.rcode, VPCD_DNS_REFUSED);
    /* Leading zeros are not an address of the VPC's. */
    ask(f->dns, f->a1, "010.1.0.10.in-addr.arpa", VPCD_DNS_TYPE_PTR, &d);
    assert_int_equal(d.rcode, VPCD_DNS_REFUSED);
}

static void
test_other_vpc_invisible(void **state)
{
    struct fixture *f = *state;
    struct decoded d;

    /* vpc-b has the same domain: vpc-a's hostnames do not exist there. */
    ask(f->dns, f->b1, HOST_A1, VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NXDOMAIN);
    assert_int_equal(d.an, 0);
    ask(f->dns, f->b1, HOST_B1, VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.a, 0x0a01010a);
    ask(f->dns, f->a1, HOST_B1, VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NXDOMAIN);

    /* vpc-a's declared names and reverse names. */
    ask(f->dns, f->b1, "db.corp.example", VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_REFUSED);
    assert_int_equal(d.an, 0);
    ask(f->dns, f->b1, "10.1.0.10.in-addr.arpa", VPCD_DNS_TYPE_PTR, &d);
    assert_int_equal(d.rcode, VPCD_DNS_REFUSED);

    /* No ENI (a port vpcd does not know): nothing local. */
    ask(f->dns, NULL, HOST_A1, VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_REFUSED);
}

static void
test_no_upstream_refused(void **state)
{
    struct fixture *f = *state;
    struct decoded d;

    ask(f->dns, f->a1, "www.example.com", VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_REFUSED);
    assert_int_equal(d.an, 0);
    assert_false(d.flags & VPCD_DNS_F_RA);
    assert_false(d.flags & VPCD_DNS_F_AA);
    assert_metric(f->dns, "vpcd_dns_queries_total{result=\"refused\"} 1\n");
    assert_metric(f->dns, "vpcd_dns_forwarded_total 0\n");
}

static void
test_edns_and_rebuild(void **state)
{
    struct fixture *f = *state;
    struct msg m;
    struct reply r = { .got = false };
    struct decoded d;

    /* An OPT in the query: one in the reply. */
    make_query(&m, 77, HOST_A1, VPCD_DNS_TYPE_A, true);
    vpcd_dns_query(f->dns, f->a2, m.b, m.n, NULL, 0, reply_cb, &r);
    decode(&r, &d);
    assert_true(d.has_opt);
    assert_int_equal(d.a, 0x0a00010a);

    /* A region without eni-a1: its names are gone, the others stay.  The
     * asking ENI comes from the new region, as pinctrl's would. */
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_region *r2 = load_region("", &errs);
    assert_non_null(r2);
    vpc_errors_destroy(&errs);
    vpcd_dns_set_region(f->dns, r2);
    const struct vpc_eni *a2 = vpc_region_find_eni(r2, "eni-a2");
    ask(f->dns, a2, "db.corp.example", VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.rcode, VPCD_DNS_REFUSED);
    ask(f->dns, a2, HOST_A1, VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.a, 0x0a00010a);
    assert_int_equal(vpcd_dns_n_names(f->dns), 6);

    /* The index copies what it needs: the region may go. */
    vpc_region_destroy(r2);
    ask(f->dns, f->a2, HOST_A2, VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.a, 0x0a000114);
    vpcd_dns_set_region(f->dns, NULL);
    assert_int_equal(vpcd_dns_n_names(f->dns), 0);
}

/* A declared name that is another ENI's private hostname: the hostname
 * wins, whatever the document order. */
static void
test_hostname_wins(void **state OVS_UNUSED)
{
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_region *r = load_region(",'dns_names':['" HOST_A2 "']",
                                       &errs);
    assert_non_null(r);
    vpc_errors_destroy(&errs);

    struct vpcd_dns *dns = vpcd_dns_create(NULL, NULL, 0);
    struct decoded d;
    vpcd_dns_set_region(dns, r);
    ask(dns, vpc_region_find_eni(r, "eni-b1"), HOST_B1, VPCD_DNS_TYPE_A, &d);
    ask(dns, vpc_region_find_eni(r, "eni-a1"), HOST_A2, VPCD_DNS_TYPE_A, &d);
    assert_int_equal(d.a, 0x0a000114);
    vpcd_dns_destroy(dns);
    vpc_region_destroy(r);
}

static void
test_build_reply(void **state OVS_UNUSED)
{
    struct vpcd_dns_request rq;
    struct msg m;
    struct ofpbuf b;
    struct reply r = { .got = true };
    struct decoded d;

    /* A PTR target too long for 512 bytes: cut to header + question, TC
     * set. */
    char name[256];
    memset(name, 'a', 63);
    name[63] = '.';
    memcpy(name + 64, name, 64);
    memcpy(name + 128, name, 64);
    memcpy(name + 192, name, 61);
    name[253] = '\0';
    make_query(&m, 5, name, VPCD_DNS_TYPE_PTR, false);
    assert_null(vpcd_dns_parse(m.b, m.n, &rq));
    ofpbuf_init(&b, 0);
    vpcd_dns_build_reply(&rq, VPCD_DNS_NOERROR, VPCD_DNS_F_AA,
                         VPCD_DNS_TYPE_PTR, 0, name, &b);
    memcpy(r.b, b.data, b.size);
    r.n = b.size;
    decode(&r, &d);
    assert_true(d.flags & VPCD_DNS_F_TC);
    assert_int_equal(d.an, 0);

    /* With EDNS0 it fits. */
    make_query(&m, 5, name, VPCD_DNS_TYPE_PTR, true);
    assert_null(vpcd_dns_parse(m.b, m.n, &rq));
    vpcd_dns_build_reply(&rq, VPCD_DNS_NOERROR, VPCD_DNS_F_AA,
                         VPCD_DNS_TYPE_PTR, 0, name, &b);
    memcpy(r.b, b.data, b.size);
    r.n = b.size;
    decode(&r, &d);
    assert_false(d.flags & VPCD_DNS_F_TC);
    assert_int_equal(d.an, 1);
    assert_string_equal(d.ptr, name);
    assert_true(d.has_opt);
    ofpbuf_uninit(&b);
}

/* ---------------------------------------------------------- forwarding */

/* The test's upstream resolver: a UDP socket on 127.0.0.1 that answers A
 * queries with 192.0.2.7, optionally after a reply to another question
 * with the same id (which the resolver must ignore), or not at all. */
struct upstream {
    int fd;
    uint16_t port;
    struct event *ev;
    bool silent;
    bool decoy;
    int n_queries;
    uint16_t last_id;
};

static void
upstream_read_cb(evutil_socket_t fd, short what OVS_UNUSED, void *up_)
{
    struct upstream *up = up_;
    uint8_t q[1024];
    struct sockaddr_in from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *) &from,
                         &from_len);
    if (n <= 0) {
        return;
    }
    up->n_queries++;
    up->last_id = (q[0] << 8) | q[1];
    if (up->silent) {
        return;
    }

    struct vpcd_dns_request rq;
    char *error = vpcd_dns_parse(q, n, &rq);
    assert_null(error);
    size_t qend = 12 + rq.qname_len + 4;

    struct msg m;
    for (int pass = up->decoy ? 0 : 1; pass < 2; pass++) {
        put_header(&m, up->last_id, VPCD_DNS_F_QR | VPCD_DNS_F_RD
                   | VPCD_DNS_F_RA, 1, 1, 0, 0);
        memcpy(m.b + 12, q + 12, qend - 12);
        m.n = qend;
        if (pass == 0) {
            /* Another question: AAAA instead of A. */
            m.b[qend - 3] = VPCD_DNS_TYPE_AAAA;
        }
        put16(&m, 0xc00c);
        put16(&m, VPCD_DNS_TYPE_A);
        put16(&m, VPCD_DNS_CLASS_IN);
        put16(&m, 0);
        put16(&m, 300);
        put16(&m, 4);
        put16(&m, 0xc000);
        put16(&m, pass == 0 ? 0x0266 : 0x0207);  /* 192.0.2.102 / .7 */
        assert_int_equal(sendto(fd, m.b, m.n, 0, (struct sockaddr *) &from,
                                from_len), m.n);
    }
}

static void
upstream_start(struct upstream *up, struct event_base *base)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof sin;

    memset(up, 0, sizeof *up);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    up->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(up->fd >= 0);
    assert_int_equal(bind(up->fd, (struct sockaddr *) &sin, sizeof sin), 0);
    assert_int_equal(getsockname(up->fd, (struct sockaddr *) &sin, &len), 0);
    up->port = ntohs(sin.sin_port);
    up->ev = event_new(base, up->fd, EV_READ | EV_PERSIST, upstream_read_cb,
                       up);
    event_add(up->ev, NULL);
}

static void
upstream_stop(struct upstream *up)
{
    event_free(up->ev);
    close(up->fd);
}

static void
guard_cb(evutil_socket_t fd OVS_UNUSED, short what OVS_UNUSED, void *hit)
{
    *(bool *) hit = true;
}

/* Runs 'base' until 'r' has a reply.  A guard of 30 s turns a hang into a
 * failure (it is not a timing assertion: the answers come in
 * milliseconds). */
static void
run_until_reply(struct event_base *base, struct reply *r)
{
    bool hit = false;
    struct event *guard = evtimer_new(base, guard_cb, &hit);
    struct timeval tv = { .tv_sec = 30 };

    evtimer_add(guard, &tv);
    while (!r->got && !hit) {
        event_base_loop(base, EVLOOP_ONCE);
    }
    event_free(guard);
    if (hit) {
        fail_msg("no reply from the resolver");
    }
}

static void
test_forward(void **state)
{
    struct fixture *f = *state;
    struct event_base *base = event_base_new();
    struct upstream up;
    char target[64];

    upstream_start(&up, base);
    up.decoy = true;
    snprintf(target, sizeof target, "127.0.0.1:%u", up.port);
    const char *ups[] = { "not-an-ip", target };
    struct vpcd_dns *dns = vpcd_dns_create(base, ups, 2);
    vpcd_dns_set_region(dns, f->r);

    struct msg m;
    struct reply r = { .got = false };
    struct decoded d;
    make_query(&m, 0x4242, "www.Example.com", VPCD_DNS_TYPE_A, true);
    vpcd_dns_query(dns, f->a1, m.b, m.n, "ctx-1", 6, reply_cb, &r);
    assert_false(r.got);
    assert_metric(dns, "vpcd_dns_upstream_pending 1\n");
    run_until_reply(base, &r);

    decode(&r, &d);
    assert_int_equal(r.n_got, 1);
    assert_string_equal(r.ctx, "ctx-1");
    assert_int_equal(d.id, 0x4242);             /* The asker's id back. */
    assert_int_equal(d.rcode, VPCD_DNS_NOERROR);
    assert_int_equal(d.an, 1);
    assert_int_equal(d.a, 0xc0000207);          /* Not the decoy's. */
    assert_int_equal(up.n_queries, 1);
    assert_memory_equal(r.b + 12, m.b + 12, 12 + 17 - 12);

    /* Local names are still answered locally, with RA now. */
    ask(dns, f->a2, HOST_A1, VPCD_DNS_TYPE_A, &d);
    assert_true(d.flags & VPCD_DNS_F_RA);
    assert_int_equal(up.n_queries, 1);
    /* A PTR outside the VPC is forwarded, one inside is not. */
    ask(dns, f->a1, "99.1.0.10.in-addr.arpa", VPCD_DNS_TYPE_PTR, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NXDOMAIN);
    assert_int_equal(up.n_queries, 1);

    /* vpc-a's declared name asked from vpc-b goes upstream, as any name
     * outside vpc-b. */
    memset(&r, 0, sizeof r);
    make_query(&m, 0x4343, "db.corp.example", VPCD_DNS_TYPE_A, false);
    vpcd_dns_query(dns, f->b1, m.b, m.n, NULL, 0, reply_cb, &r);
    assert_false(r.got);
    run_until_reply(base, &r);
    decode(&r, &d);
    assert_int_equal(d.a, 0xc0000207);
    assert_int_equal(up.n_queries, 2);

    assert_metric(dns, "vpcd_dns_forwarded_total 2\n");
    assert_metric(dns, "vpcd_dns_upstream_ignored_total 2\n");  /* Decoys. */
    assert_metric(dns, "vpcd_dns_queries_total{result=\"upstream\"} 2\n");
    assert_metric(dns, "vpcd_dns_upstream_pending 0\n");
    assert_metric(dns, "vpcd_dns_upstreams 1\n");

    vpcd_dns_destroy(dns);
    upstream_stop(&up);
    event_base_free(base);
}

static void
test_forward_timeout(void **state)
{
    struct fixture *f = *state;
    struct event_base *base = event_base_new();
    struct upstream up;
    char target[64];

    upstream_start(&up, base);
    up.silent = true;
    snprintf(target, sizeof target, "127.0.0.1:%u", up.port);
    const char *ups[] = { target };
    struct vpcd_dns *dns = vpcd_dns_create(base, ups, 1);
    vpcd_dns_set_region(dns, f->r);
    vpcd_dns_set_limits(dns, 50, 1);

    struct msg m;
    struct reply r1 = { .got = false }, r2 = { .got = false };
    struct decoded d;
    make_query(&m, 0x5151, "slow.example.com", VPCD_DNS_TYPE_A, false);
    vpcd_dns_query(dns, f->a1, m.b, m.n, "one", 4, reply_cb, &r1);
    assert_false(r1.got);

    /* One outstanding at most: the second gets SERVFAIL at once. */
    make_query(&m, 0x5252, "other.example.com", VPCD_DNS_TYPE_A, false);
    vpcd_dns_query(dns, f->a1, m.b, m.n, "two", 4, reply_cb, &r2);
    decode(&r2, &d);
    assert_int_equal(d.id, 0x5252);
    assert_int_equal(d.rcode, VPCD_DNS_SERVFAIL);
    assert_string_equal(r2.ctx, "two");
    assert_metric(dns, "vpcd_dns_upstream_overflow_total 1\n");

    run_until_reply(base, &r1);
    decode(&r1, &d);
    assert_int_equal(d.id, 0x5151);
    assert_int_equal(d.rcode, VPCD_DNS_SERVFAIL);
    assert_int_equal(d.an, 0);
    assert_string_equal(r1.ctx, "one");
    assert_int_equal(up.n_queries, 1);
    assert_metric(dns, "vpcd_dns_upstream_timeouts_total 1\n");
    assert_metric(dns, "vpcd_dns_queries_total{result=\"servfail\"} 2\n");

    /* A late answer matches nothing. */
    up.silent = false;
    make_query(&m, 0x5353, "late.example.com", VPCD_DNS_TYPE_A, false);
    memset(&r1, 0, sizeof r1);
    vpcd_dns_query(dns, f->a1, m.b, m.n, NULL, 0, reply_cb, &r1);
    run_until_reply(base, &r1);
    decode(&r1, &d);
    assert_int_equal(d.rcode, VPCD_DNS_NOERROR);

    /* Destroyed with a query outstanding: no callback, nothing leaks. */
    up.silent = true;
    memset(&r1, 0, sizeof r1);
    vpcd_dns_query(dns, f->a1, m.b, m.n, "x", 2, reply_cb, &r1);
    vpcd_dns_destroy(dns);
    assert_false(r1.got);

    upstream_stop(&up);
    event_base_free(base);
}

static void
test_parse_upstream(void **state OVS_UNUSED)
{
    struct sockaddr_in sin;
    char *error;

    assert_null(vpcd_dns_parse_upstream("192.0.2.1", &sin));
    assert_int_equal(ntohs(sin.sin_port), 53);
    assert_int_equal(ntohl(sin.sin_addr.s_addr), 0xc0000201);
    assert_null(vpcd_dns_parse_upstream("127.0.0.1:5353", &sin));
    assert_int_equal(ntohs(sin.sin_port), 5353);

    static const char *const bad[] = {
        "", "localhost", "1.2.3", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536",
        "1.2.3.4:53x", "::1",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        error = vpcd_dns_parse_upstream(bad[i], &sin);
        if (!error) {
            fail_msg("\"%s\" parsed", bad[i]);
        }
        assert_non_null(strstr(error, bad[i]));
        free(error);
    }
}

int
main(void)
{
    set_program_name("test-dns");
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test_setup_teardown(test_parse_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_insensitive, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ptr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_vpc_invisible, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_upstream_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_edns_and_rebuild, setup,
                                        teardown),
        cmocka_unit_test(test_hostname_wins),
        cmocka_unit_test(test_build_reply),
        cmocka_unit_test_setup_teardown(test_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forward_timeout, setup,
                                        teardown),
        cmocka_unit_test(test_parse_upstream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
