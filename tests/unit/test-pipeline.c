/* tests/unit/test-pipeline.c: unit tests of the host pipeline
 * (pipeline/host.c, pipeline/flows.c), without OVS at run time.
 *
 * Two kinds of tests:
 *
 *   - Golden files.  Each example of examples/ is compiled for host-a with
 *     deterministic bindings (the host's ENIs in document order get ofports
 *     1, 2, 3..., the tunnel is port 1000) and the sorted flow text is
 *     compared with tests/golden/<example>.host-a.flows.  Table numbers are
 *     masked ("table=??", "goto_table:??") so that renumbering a stage in
 *     stages.def breaks nothing.  To regenerate after an intended change:
 *
 *         VPC_GOLDEN_UPDATE=1 make check-unit
 *
 *     then review the diff of tests/golden/ before committing it.  Files
 *     are found relative to $VPC_SRCDIR (default: the current directory,
 *     the top of the tree when run by 'make check-unit').
 *
 *   - Behaviour, through a tiny in-memory OpenFlow table simulator (the
 *     "flow simulator" section below).  It parses the subset of ovs-ofctl
 *     syntax that the pipeline generates, refuses anything else (and
 *     matches without their prerequisites, which ovs-ofctl would refuse
 *     too), and runs a packet through the tables of one host.  Conntrack
 *     is modelled as "first pass": ct(table=N) marks the packet +trk+new
 *     and continues in table N; ct(commit) does nothing.  A packet that
 *     leaves through the tunnel toward another host of the region continues
 *     on that host's flows, so a test can follow it end to end.
 *
 * JSON in this file uses single quotes, which the builder turns into double
 * quotes, as in test-intent.c. */

#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pipeline/pipeline.h"
#include "pipeline/trace.h"
#include "translator/model.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/util.h"
#include "packets.h"
#include "util.h"

#define TUNNEL_PORT 1000

/* ------------------------------------------------------------- documents */

static const char *
srcdir(void)
{
    const char *s = getenv("VPC_SRCDIR");
    return s && *s ? s : ".";
}

static char *
read_text(const char *name)
{
    FILE *f = fopen(name, "r");
    if (!f) {
        return NULL;
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    int c;
    while ((c = getc(f)) != EOF) {
        ds_put_char(&ds, c);
    }
    fclose(f);
    return ds_steal_cstr(&ds);
}

static char *
example_text(const char *example)
{
    char *name = xasprintf("%s/examples/%s.json", srcdir(), example);
    char *text = read_text(name);
    if (!text) {
        fail_msg("cannot read %s", name);
    }
    free(name);
    return text;
}

/* Turns single quotes into double quotes, in place. */
static char *
requote(char *s)
{
    for (char *p = s; *p; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }
    return s;
}

static struct vpc_region *
load_at(const char *json, const char *file, int line)
{
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_region *r = vpc_region_from_string(json, &errs);
    if (!r || errs.n) {
        print_error("expected the document to load:\n%s\n", json);
        for (size_t i = 0; i < errs.n; i++) {
            print_error("  %s\n", errs.msgs[i]);
        }
        vpc_errors_destroy(&errs);
        vpc_region_destroy(r);
        _fail(file, line);
    }
    vpc_errors_destroy(&errs);
    return r;
}
#define load(JSON) load_at(JSON, __FILE__, __LINE__)

static struct vpc_region *
load_example(const char *example)
{
    char *text = example_text(example);
    struct vpc_region *r = load(text);
    free(text);
    return r;
}

/* Inline documents: two hosts and one edge, plus the given collections
 * (single-quoted JSON, each "'key':[...]"). */
static char *
inline_doc(const char *body)
{
    return requote(xasprintf(
        "{'hosts':[{'id':'host-a','underlay_ip':'192.168.100.1'},"
        "{'id':'host-b','underlay_ip':'192.168.100.2'}],"
        "'edges':[{'id':'edge-1','underlay_ip':'192.168.100.254'}],%s}",
        body));
}

/* Inserts 'obj' (a JSON value) as the last element of the top-level array
 * 'key' of 'doc'.  The examples keep each key unique in the text. */
static char *
append_to_array(const char *doc, const char *key, const char *obj)
{
    char *pat = xasprintf("\"%s\":", key);
    const char *p = strstr(doc, pat);
    assert_non_null(p);
    free(pat);
    p = strchr(p, '[');
    assert_non_null(p);
    int depth = 0;
    const char *q = p;
    bool empty = true;
    for (; *q; q++) {
        if (*q == '[' || *q == '{') {
            depth++;
        } else if (*q == ']' || *q == '}') {
            if (--depth == 0) {
                break;
            }
        } else if (depth == 1 && !strchr(" \t\r\n", *q)) {
            empty = false;
        }
        if (depth > 1) {
            empty = false;
        }
    }
    assert_int_equal(*q, ']');
    return xasprintf("%.*s%s%s%s", (int) (q - doc), doc, empty ? "" : ",",
                     obj, q);
}

/* --------------------------------------------------------- compiling */

/* The bindings of host 'host_id': its ENIs in document order get ofports
 * 1, 2, 3...  Returns the count; the caller frees '*bp'. */
static size_t
doc_order_bindings(const struct vpc_region *r, const char *host_id,
                   struct pl_binding **bp)
{
    const struct vpc_host *h = vpc_region_find_host(r, host_id);
    assert_non_null(h);
    struct pl_binding *b = xcalloc(r->n_enis + 1, sizeof *b);
    size_t n = 0;
    for (size_t i = 0; i < r->n_enis; i++) {
        if (r->enis[i].host == h) {
            b[n].eni_id = r->enis[i].id;
            b[n].ofport = n + 1;
            n++;
        }
    }
    *bp = b;
    return n;
}

static void
compile_at(const struct vpc_region *r, const char *host_id,
           struct pl_flows *fs, const char *file, int line)
{
    struct pl_binding *b;
    size_t nb = doc_order_bindings(r, host_id, &b);
    struct pl_host_config cfg = {
        .host_id = host_id, .bindings = b, .n_bindings = nb,
        .tunnel_ofport = TUNNEL_PORT, .mapping = PL_MAP_FLOWS,
    };
    pl_flows_init(fs);
    char *error = pl_compile_host(r, &cfg, fs);
    free(b);
    if (error) {
        print_error("pl_compile_host(%s): %s\n", host_id, error);
        free(error);
        _fail(file, line);
    }
}
#define compile(R, HOST, FS) compile_at(R, HOST, FS, __FILE__, __LINE__)

/* Replaces every table number after "table=" or "goto_table:" by "??". */
static void
mask_tables(struct ds *out, const char *s)
{
    while (*s) {
        const char *t = NULL;
        if (!strncmp(s, "table=", 6)) {
            t = s + 6;
        } else if (!strncmp(s, "goto_table:", 11)) {
            t = s + 11;
        }
        if (t && *t >= '0' && *t <= '9') {
            ds_put_buffer(out, s, t - s);
            ds_put_cstr(out, "??");
            while (*t >= '0' && *t <= '9') {
                t++;
            }
            s = t;
        } else {
            ds_put_char(out, *s++);
        }
    }
}

/* The sorted flows, one per line, tables masked if 'mask'. */
static char *
flows_text(const struct pl_flows *fs, bool mask)
{
    size_t n;
    const struct pl_flow **v = pl_flows_sorted(fs, &n);
    struct ds ds = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        char *s = pl_flow_to_string(v[i]);
        if (mask) {
            mask_tables(&ds, s);
        } else {
            ds_put_cstr(&ds, s);
        }
        ds_put_char(&ds, '\n');
        free(s);
    }
    free(v);
    return ds_steal_cstr(&ds);
}

/* Flows of 'stage' whose cookie maps back to 'ref'. */
static size_t
collect_flows(const struct pl_flows *fs, enum pl_stage stage,
              const char *ref, const struct pl_flow **out, size_t max)
{
    size_t n_all, n = 0;
    const struct pl_flow **v = pl_flows_sorted(fs, &n_all);
    for (size_t i = 0; i < n_all; i++) {
        const char *r = pl_flows_ref(fs, v[i]->cookie);
        if (v[i]->table == pl_stage_table(stage) && r && !strcmp(r, ref)) {
            if (n < max) {
                out[n] = v[i];
            }
            n++;
        }
    }
    free(v);
    return n;
}

static size_t
count_flows(const struct pl_flows *fs, enum pl_stage stage, const char *ref)
{
    return collect_flows(fs, stage, ref, NULL, 0);
}

static size_t
count_stage(const struct pl_flows *fs, enum pl_stage stage)
{
    size_t n_all, n = 0;
    const struct pl_flow **v = pl_flows_sorted(fs, &n_all);
    for (size_t i = 0; i < n_all; i++) {
        n += v[i]->table == pl_stage_table(stage);
    }
    free(v);
    return n;
}

/* ---------------------------------------------------------- golden files */

static void
check_golden(const char *example)
{
    struct vpc_region *r = load_example(example);
    struct pl_flows fs;
    compile(r, "host-a", &fs);
    char *actual = flows_text(&fs, true);
    char *name = xasprintf("%s/tests/golden/%s.host-a.flows", srcdir(),
                           example);
    const char *update = getenv("VPC_GOLDEN_UPDATE");

    if (update && !strcmp(update, "1")) {
        FILE *f = fopen(name, "w");
        if (!f) {
            fail_msg("cannot write %s", name);
        }
        fputs(actual, f);
        fclose(f);
        print_message("wrote %s\n", name);
    } else {
        char *expected = read_text(name);
        if (!expected) {
            fail_msg("cannot read %s (VPC_GOLDEN_UPDATE=1 writes it)", name);
        }
        if (strcmp(expected, actual)) {
            /* The first differing line, unified-diff style. */
            const char *e = expected, *a = actual;
            int line = 1;
            for (;;) {
                size_t el = strcspn(e, "\n"), al = strcspn(a, "\n");
                if (el != al || memcmp(e, a, el) || !*e || !*a) {
                    print_error("--- %s\n+++ compiled (%s, host-a)\n"
                                "@@ line %d @@\n-%.*s\n+%.*s\n"
                                "(VPC_GOLDEN_UPDATE=1 make check-unit "
                                "regenerates; review the diff)\n",
                                name, example, line, (int) el, e, (int) al,
                                a);
                    break;
                }
                e += el + (e[el] == '\n');
                a += al + (a[al] == '\n');
                line++;
            }
            free(expected);
            free(actual);
            free(name);
            pl_flows_destroy(&fs);
            vpc_region_destroy(r);
            fail();
        }
        free(expected);
    }
    free(actual);
    free(name);
    pl_flows_destroy(&fs);
    vpc_region_destroy(r);
}

static void test_golden_web_tier(void **s) { check_golden("web-tier"); }
static void test_golden_overlapping(void **s) { check_golden("overlapping-ips"); }
static void test_golden_peering(void **s) { check_golden("peering"); }
static void test_golden_lpm(void **s) { check_golden("lpm"); }
static void test_golden_azure(void **s) { check_golden("azure-precedence"); }

static void
test_mask_tables(void **state)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    mask_tables(&ds, "table=40, priority=0, cookie=0x1, ip "
                "actions=ct(table=41,zone=NXM_NX_REG0[0..15]),"
                "goto_table:100");
    assert_string_equal(ds_cstr(&ds),
                        "table=??, priority=0, cookie=0x1, ip "
                        "actions=ct(table=??,zone=NXM_NX_REG0[0..15]),"
                        "goto_table:??");
    ds_destroy(&ds);
}

/* ------------------------------------------------------- flow simulator */

enum fld {
    F_IN_PORT, F_REG0, F_DL_SRC = F_REG0 + 16, F_DL_DST, F_DL_TYPE,
    F_NW_PROTO, F_NW_SRC, F_NW_DST, F_NW_TTL, F_TP_SRC, F_TP_DST, F_ICMP_TYPE,
    F_ICMP_CODE, F_ARP_OP, F_ARP_SHA, F_ARP_THA, F_TUN_ID, F_TUN_SRC,
    F_TUN_DST, F_CT_STATE, F_CONJ_ID, N_FLDS
};
enum kind { K_NUM, K_IP, K_MAC, K_CT };
enum prereq { P_NONE, P_IP, P_IP_ARP, P_ARP, P_TCP, P_UDP, P_ICMP };

#define CT_NEW 0x01
#define CT_EST 0x02
#define CT_REL 0x04
#define CT_RPL 0x08
#define CT_INV 0x10
#define CT_TRK 0x20

static const struct field {
    const char *name;           /* Match / set_field name. */
    const char *nxm;            /* move: name, or NULL. */
    int fld;
    enum kind kind;
    enum prereq prereq;
} fields[] = {
    { "in_port", NULL, F_IN_PORT, K_NUM, P_NONE },
    { "dl_src", "NXM_OF_ETH_SRC[]", F_DL_SRC, K_MAC, P_NONE },
    { "eth_src", NULL, F_DL_SRC, K_MAC, P_NONE },
    { "dl_dst", "NXM_OF_ETH_DST[]", F_DL_DST, K_MAC, P_NONE },
    { "eth_dst", NULL, F_DL_DST, K_MAC, P_NONE },
    { "nw_src", NULL, F_NW_SRC, K_IP, P_IP_ARP },
    { "ip_src", "NXM_OF_IP_SRC[]", F_NW_SRC, K_IP, P_IP },
    { "arp_spa", "NXM_OF_ARP_SPA[]", F_NW_SRC, K_IP, P_ARP },
    { "nw_dst", NULL, F_NW_DST, K_IP, P_IP_ARP },
    { "ip_dst", "NXM_OF_IP_DST[]", F_NW_DST, K_IP, P_IP },
    { "arp_tpa", "NXM_OF_ARP_TPA[]", F_NW_DST, K_IP, P_ARP },
    { "nw_proto", NULL, F_NW_PROTO, K_NUM, P_IP },
    { "nw_ttl", NULL, F_NW_TTL, K_NUM, P_IP },
    { "tcp_src", NULL, F_TP_SRC, K_NUM, P_TCP },
    { "udp_src", NULL, F_TP_SRC, K_NUM, P_UDP },
    { "tcp_dst", NULL, F_TP_DST, K_NUM, P_TCP },
    { "udp_dst", NULL, F_TP_DST, K_NUM, P_UDP },
    { "icmp_type", NULL, F_ICMP_TYPE, K_NUM, P_ICMP },
    { "icmp_code", NULL, F_ICMP_CODE, K_NUM, P_ICMP },
    { "arp_op", NULL, F_ARP_OP, K_NUM, P_ARP },
    { "arp_sha", "NXM_NX_ARP_SHA[]", F_ARP_SHA, K_MAC, P_ARP },
    { "arp_tha", "NXM_NX_ARP_THA[]", F_ARP_THA, K_MAC, P_ARP },
    { "tun_id", NULL, F_TUN_ID, K_NUM, P_NONE },
    { "tun_src", NULL, F_TUN_SRC, K_IP, P_NONE },
    { "tun_dst", NULL, F_TUN_DST, K_IP, P_NONE },
    { "ct_state", NULL, F_CT_STATE, K_CT, P_NONE },
    { "conj_id", NULL, F_CONJ_ID, K_NUM, P_NONE },
};

static const struct field reg_fields[16] = {
#define R(N) { "reg" #N, "NXM_NX_REG" #N "[]", F_REG0 + N, K_NUM, P_NONE }
    R(0), R(1), R(2), R(3), R(4), R(5), R(6), R(7),
    R(8), R(9), R(10), R(11), R(12), R(13), R(14), R(15),
#undef R
};

/* The field named 'name' (nxm: in move: syntax), or NULL. */
static const struct field *
field_find(const char *name, size_t len, bool nxm)
{
    for (size_t i = 0; i < ARRAY_SIZE(fields) + 16; i++) {
        const struct field *f = i < ARRAY_SIZE(fields)
                                ? &fields[i] : &reg_fields[i - ARRAY_SIZE(fields)];
        const char *n = nxm ? f->nxm : f->name;
        if (n && strlen(n) == len && !strncmp(n, name, len)) {
            return f;
        }
    }
    return NULL;
}

static uint64_t
mac_u64(struct eth_addr ea)
{
    uint64_t v = 0;
    for (int i = 0; i < 6; i++) {
        v = v << 8 | ea.ea[i];
    }
    return v;
}

/* Parses "V[/M]" for field 'f'.  Returns false if malformed. */
static bool
parse_value(const struct field *f, const char *s, uint64_t *v, uint64_t *m)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t) (slash - s) : strlen(s);
    if (len >= sizeof buf) {
        return false;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    switch (f->kind) {
    case K_NUM: {
        char *end;
        *v = strtoull(buf, &end, 0);
        *m = UINT64_MAX;
        if (*end || !len) {
            return false;
        }
        if (slash) {
            *m = strtoull(slash + 1, &end, 0);
            if (*end) {
                return false;
            }
        }
        return true;
    }
    case K_IP: {
        uint32_t ip;
        if (!vpc_ip_parse(buf, &ip)) {
            return false;
        }
        *v = ip;
        *m = 0xffffffff;
        if (slash) {
            struct vpc_prefix p;
            char *full = xasprintf("%s%s", buf, slash);
            bool ok = vpc_prefix_parse(full, &p);
            free(full);
            if (!ok) {
                return false;
            }
            *m = vpc_prefix_mask(&p);
        }
        return true;
    }
    case K_MAC: {
        struct eth_addr ea;
        if (slash || !eth_addr_from_string(buf, &ea)) {
            return false;
        }
        *v = mac_u64(ea);
        *m = 0xffffffffffffULL;
        return true;
    }
    case K_CT: {
        static const struct { const char *n; uint64_t bit; } flags[] = {
            { "new", CT_NEW }, { "est", CT_EST }, { "rel", CT_REL },
            { "rpl", CT_RPL }, { "inv", CT_INV }, { "trk", CT_TRK } };
        *v = *m = 0;
        for (const char *p = s; *p; p += 4) {
            size_t k;
            for (k = 0; k < ARRAY_SIZE(flags); k++) {
                if (!strncmp(p + 1, flags[k].n, 3)) {
                    break;
                }
            }
            if ((*p != '+' && *p != '-') || k == ARRAY_SIZE(flags)) {
                return false;
            }
            *m |= flags[k].bit;
            *v |= *p == '+' ? flags[k].bit : 0;
        }
        return true;
    }
    }
    return false;
}

struct sim_match {
    int fld;
    uint64_t val, mask;
};

struct sim_flow {
    const struct pl_flow *f;
    struct sim_match *m;
    size_t n;
};

struct sim {
    struct sim_flow *flows;     /* Sorted like pl_flows_sorted(). */
    size_t n;
};

static void
sim_match_add(struct sim_flow *sf, int fld, uint64_t val, uint64_t mask)
{
    sf->m = xrealloc(sf->m, (sf->n + 1) * sizeof *sf->m);
    sf->m[sf->n++] = (struct sim_match) { fld, val & mask, mask };
}

/* Parses one flow's match; fails the test on anything unknown, malformed
 * or lacking its prerequisites. */
static void
sim_parse_match(struct sim_flow *sf)
{
    char *text = xstrdup(sf->f->match), *save = NULL;
    uint64_t dl_type = 0, nw_proto = 0;
    const struct field *seen[32];
    size_t n_seen = 0;
    for (char *tok = strtok_r(text, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        static const struct { const char *n; int type, proto; } protos[] = {
            { "ip", 0x800, -1 }, { "arp", 0x806, -1 }, { "tcp", 0x800, 6 },
            { "udp", 0x800, 17 }, { "icmp", 0x800, 1 } };
        size_t k;
        for (k = 0; k < ARRAY_SIZE(protos); k++) {
            if (!strcmp(tok, protos[k].n)) {
                break;
            }
        }
        if (k < ARRAY_SIZE(protos)) {
            dl_type = protos[k].type;
            sim_match_add(sf, F_DL_TYPE, dl_type, UINT64_MAX);
            if (protos[k].proto >= 0) {
                nw_proto = protos[k].proto;
                sim_match_add(sf, F_NW_PROTO, nw_proto, UINT64_MAX);
            }
            continue;
        }
        char *eq = strchr(tok, '=');
        const struct field *f = eq ? field_find(tok, eq - tok, false) : NULL;
        uint64_t v, m;
        if (!f || !parse_value(f, eq + 1, &v, &m)) {
            fail_msg("flow simulator: cannot parse \"%s\" in match \"%s\"",
                     tok, sf->f->match);
        }
        if (f->fld == F_NW_PROTO) {
            nw_proto = v;
        }
        sim_match_add(sf, f->fld, v, m);
        assert_true(n_seen < ARRAY_SIZE(seen));
        seen[n_seen++] = f;
    }
    for (size_t i = 0; i < n_seen; i++) {
        enum prereq p = seen[i]->prereq;
        bool ok = (p == P_NONE
                   || (p == P_IP && dl_type == 0x800)
                   || (p == P_IP_ARP && (dl_type == 0x800 || dl_type == 0x806))
                   || (p == P_ARP && dl_type == 0x806)
                   || (p == P_TCP && dl_type == 0x800 && nw_proto == 6)
                   || (p == P_UDP && dl_type == 0x800 && nw_proto == 17)
                   || (p == P_ICMP && dl_type == 0x800 && nw_proto == 1));
        if (!ok) {
            fail_msg("flow simulator: %s lacks its prerequisite in match "
                     "\"%s\" (ovs-ofctl would refuse it)", seen[i]->name,
                     sf->f->match);
        }
    }
    free(text);
}

static void
sim_init(struct sim *sim, const struct pl_flows *fs)
{
    const struct pl_flow **v = pl_flows_sorted(fs, &sim->n);
    sim->flows = xcalloc(sim->n + 1, sizeof *sim->flows);
    for (size_t i = 0; i < sim->n; i++) {
        sim->flows[i].f = v[i];
        sim_parse_match(&sim->flows[i]);
    }
    free(v);
}

static void
sim_destroy(struct sim *sim)
{
    for (size_t i = 0; i < sim->n; i++) {
        free(sim->flows[i].m);
    }
    free(sim->flows);
}

static bool
sim_flow_matches(const struct sim_flow *sf, const uint64_t *pkt)
{
    for (size_t i = 0; i < sf->n; i++) {
        if ((pkt[sf->m[i].fld] & sf->m[i].mask) != sf->m[i].val) {
            return false;
        }
    }
    return true;
}

#define MAX_HITS 64

struct verdict {
    bool output;                /* Else dropped. */
    bool controller;            /* Sent to the controller (vpcd). */
    int port;                   /* If output. */
    int drop_table;             /* If dropped. */
    uint64_t pkt[N_FLDS];       /* The packet as it left. */
    uint64_t cookies[MAX_HITS]; /* Every flow hit, in order. */
    int tables[MAX_HITS];
    size_t n;
    uint32_t samples[MAX_HITS]; /* Observation points sampled (flow logs). */
    size_t n_samples;
};

/* Splits actions at top-level commas (not inside ct(...)). */
static size_t
split_actions(const char *s, char out[][128], size_t max)
{
    size_t n = 0;
    while (*s && n < max) {
        int depth = 0;
        size_t len = 0;
        while (s[len] && (depth || s[len] != ',')) {
            depth += (s[len] == '(') - (s[len] == ')');
            len++;
        }
        assert_true(len < 128);
        memcpy(out[n], s, len);
        out[n++][len] = '\0';
        s += len + (s[len] == ',');
    }
    return n;
}

/* OpenFlow conjunctive matches in 'table': if the clause flows ("actions=
 * conjunction(ID,K/N),...") that 'pkt' matches complete every dimension
 * of some ID, and no ordinary flow of a higher priority matches, sets
 * pkt's conj_id to that ID (for the "conj_id=ID" flow) and returns it.
 * At most one conjunction may complete (else the test fails: OVS would
 * pick one arbitrarily). */
static uint32_t
sim_conjunction(const struct sim *sim, int table, uint64_t *pkt)
{
    /* (id, dimension) pairs seen; ids with n_dims. */
    struct { uint32_t id; int n, seen; int prio; } ids[256];
    size_t n_ids = 0;
    int best_plain = -1;
    for (size_t i = 0; i < sim->n; i++) {
        const struct sim_flow *sf = &sim->flows[i];
        if (sf->f->table != table || !sim_flow_matches(sf, pkt)) {
            continue;
        }
        const char *a = sf->f->actions;
        if (!strstr(a, "conjunction(")) {
            if (!strstr(sf->f->match, "conj_id=")) {
                best_plain = MAX(best_plain, sf->f->priority);
            }
            continue;
        }
        for (const char *p = a; (p = strstr(p, "conjunction(")); p++) {
            unsigned int id;
            int k, n;
            if (sscanf(p, "conjunction(%u,%d/%d)", &id, &k, &n) != 3) {
                fail_msg("flow simulator: cannot run \"%s\"", a);
            }
            size_t j;
            for (j = 0; j < n_ids && ids[j].id != id; j++) {
                continue;
            }
            if (j == n_ids) {
                assert_true(n_ids < ARRAY_SIZE(ids));
                ids[n_ids++] = (typeof(ids[0])) { id, n, 0,
                                                  sf->f->priority };
            }
            ids[j].seen |= 1 << (k - 1);
        }
    }
    uint32_t found = 0;
    for (size_t j = 0; j < n_ids; j++) {
        if (ids[j].seen == (1 << ids[j].n) - 1
            && ids[j].prio > best_plain) {
            if (found) {
                fail_msg("flow simulator: conjunctions %u and %u both "
                         "complete in table %d", found, ids[j].id, table);
            }
            found = ids[j].id;
        }
    }
    pkt[F_CONJ_ID] = found;
    return found;
}

/* Runs 'pkt' through 'sim' from table 0, appending the flows hit to 'v'. */
static void
sim_run(const struct sim *sim, const struct pl_flows *fs, uint64_t *pkt,
        struct verdict *v)
{
    int table = 0;
    v->output = false;
    v->controller = false;
    for (int steps = 0; steps < 32; steps++) {
        const struct sim_flow *hit = NULL;
        pkt[F_CONJ_ID] = 0;
        sim_conjunction(sim, table, pkt);
        for (size_t i = 0; i < sim->n; i++) {
            const struct sim_flow *sf = &sim->flows[i];
            if (sf->f->table != table || !sim_flow_matches(sf, pkt)
                || strstr(sf->f->actions, "conjunction(")) {
                continue;
            }
            if (!hit) {
                hit = sf;
            } else if (sf->f->priority == hit->f->priority
                       && strcmp(sf->f->actions, hit->f->actions)) {
                fail_msg("flow simulator: ambiguous match in table %d, "
                         "priority %d: \"%s\" and \"%s\"", table,
                         hit->f->priority, hit->f->match, sf->f->match);
            }
        }
        if (!hit) {
            v->drop_table = table;     /* Table miss. */
            memcpy(v->pkt, pkt, sizeof v->pkt);
            return;
        }
        assert_true(v->n < MAX_HITS);
        v->cookies[v->n] = hit->f->cookie;
        v->tables[v->n++] = table;

        char acts[16][128];
        size_t na = split_actions(hit->f->actions, acts, 16);
        int next = -1;
        for (size_t i = 0; i < na; i++) {
            const char *a = acts[i];
            int n;
            unsigned int point;
            if (!strcmp(a, "drop")) {
                assert_int_equal(na, 1);
            } else if (!strncmp(a, "sample(", 7)) {
                const char *o = strstr(a, "obs_point_id=");
                if (!o || sscanf(o, "obs_point_id=%u", &point) != 1
                    || !strstr(a, "probability=65535,")) {
                    fail_msg("flow simulator: cannot run \"%s\"", a);
                }
                assert_true(v->n_samples < MAX_HITS);
                v->samples[v->n_samples++] = point;
            } else if (sscanf(a, "goto_table:%d", &n) == 1) {
                next = n;
            } else if (!strncmp(a, "ct(", 3)) {
                const char *t = strstr(a, "table=");
                if (strstr(a, "commit")) {
                    /* Committing changes nothing in the first pass. */
                } else if (t && sscanf(t, "table=%d", &n) == 1) {
                    pkt[F_CT_STATE] = CT_TRK | CT_NEW;
                    next = n;
                } else {
                    fail_msg("flow simulator: cannot run \"%s\"", a);
                }
            } else if (sscanf(a, "output:%d", &n) == 1
                       || !strcmp(a, "IN_PORT")) {
                assert_true(i == na - 1);
                v->output = true;
                v->port = a[0] == 'I' ? (int) pkt[F_IN_PORT] : n;
                memcpy(v->pkt, pkt, sizeof v->pkt);
                return;
            } else if (!strcmp(a, "controller")) {
                assert_true(i == na - 1);
                v->controller = true;
                v->drop_table = table;
                memcpy(v->pkt, pkt, sizeof v->pkt);
                return;
            } else if (!strcmp(a, "dec_ttl")) {
                if (pkt[F_NW_TTL] <= 1) {
                    v->drop_table = table;
                    memcpy(v->pkt, pkt, sizeof v->pkt);
                    return;
                }
                pkt[F_NW_TTL]--;
            } else if (!strncmp(a, "set_field:", 10)) {
                const char *arrow = strstr(a, "->");
                const struct field *f = arrow ? field_find(arrow + 2,
                                                           strlen(arrow + 2),
                                                           false) : NULL;
                char *val = arrow ? xmemdup0(a + 10, arrow - a - 10) : NULL;
                uint64_t x, m;
                if (!f || !parse_value(f, val, &x, &m) || strchr(val, '/')) {
                    fail_msg("flow simulator: cannot run \"%s\"", a);
                }
                pkt[f->fld] = x;
                free(val);
            } else if (!strncmp(a, "move:", 5)) {
                const char *arrow = strstr(a, "->");
                const struct field *src = arrow ? field_find(a + 5,
                                                             arrow - a - 5,
                                                             true) : NULL;
                const struct field *dst = arrow ? field_find(arrow + 2,
                                                             strlen(arrow + 2),
                                                             true) : NULL;
                if (!src || !dst) {
                    fail_msg("flow simulator: cannot run \"%s\"", a);
                }
                pkt[dst->fld] = pkt[src->fld];
            } else {
                fail_msg("flow simulator: unknown action \"%s\"", a);
            }
        }
        if (next < 0) {
            v->drop_table = table;     /* No output: dropped. */
            memcpy(v->pkt, pkt, sizeof v->pkt);
            return;
        }
        if (next <= table) {
            fail_msg("flow simulator: goto_table:%d from table %d goes "
                     "backward", next, table);
        }
        table = next;
    }
    fail_msg("flow simulator: too many steps");
}

/* -------------------------------------------- a region on every host */

struct host_sim {
    const struct vpc_host *host;
    struct pl_binding *b;
    size_t nb;
    struct pl_flows fs;
    struct sim sim;
};

struct world {
    struct vpc_region *r;
    struct host_sim hs[4];
    size_t n;
};

static void
world_init(struct world *w, struct vpc_region *r)
{
    memset(w, 0, sizeof *w);
    w->r = r;
    assert_true(r->n_hosts <= ARRAY_SIZE(w->hs));
    for (size_t i = 0; i < r->n_hosts; i++) {
        struct host_sim *h = &w->hs[w->n++];
        h->host = &r->hosts[i];
        compile(r, h->host->id, &h->fs);
        h->nb = doc_order_bindings(r, h->host->id, &h->b);
        sim_init(&h->sim, &h->fs);
    }
}

static void
world_example(struct world *w, const char *example)
{
    world_init(w, load_example(example));
}

static void
world_destroy(struct world *w)
{
    for (size_t i = 0; i < w->n; i++) {
        sim_destroy(&w->hs[i].sim);
        pl_flows_destroy(&w->hs[i].fs);
        free(w->hs[i].b);
    }
    vpc_region_destroy(w->r);
}

static struct host_sim *
world_host(struct world *w, const struct vpc_host *h)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->hs[i].host == h) {
            return &w->hs[i];
        }
    }
    return NULL;
}

static int
eni_port(const struct host_sim *h, const char *eni_id)
{
    for (size_t i = 0; i < h->nb; i++) {
        if (!strcmp(h->b[i].eni_id, eni_id)) {
            return h->b[i].ofport;
        }
    }
    return -1;
}

/* The outcome of sending a packet, possibly across hosts. */
struct trip {
    struct verdict v;           /* Of the last host; cookies of all. */
    struct host_sim *at;        /* Where it ended. */
    struct host_sim *hops[MAX_HITS];    /* Host of each cookie. */
    size_t n_tun;               /* Encapsulations. */
    uint32_t tun_id[4], tun_dst[4];
};

enum { PROTO_ICMP = 1, PROTO_TCP = 6, PROTO_UDP = 17 };

static uint32_t
ip_parse_or_fail(const char *s)
{
    uint32_t x;
    if (!vpc_ip_parse(s, &x)) {
        fail_msg("bad IPv4 address %s", s);
    }
    return x;
}

/* Sends an IPv4 packet from ENI 'src' to 'dst' ("a.b.c.d").  'port' is the
 * TCP/UDP destination port or, for ICMP, type << 8 | code. */
static void send_pkt_as(struct world *, const char *src, const char *src_ip,
                        const char *dst, int proto, int port, struct trip *);

static void
send_pkt(struct world *w, const char *src, const char *dst, int proto,
         int port, struct trip *t)
{
    send_pkt_as(w, src, NULL, dst, proto, port, t);
}

/* Runs 'pkt' from 'h', following tunnels to other hosts of 'w'. */
static void travel(struct world *, struct host_sim *h, uint64_t *pkt,
                   struct trip *);

/* An ARP request from ENI 'src' for 'tpa'. */
static void
send_arp(struct world *w, const char *src, const char *tpa, struct trip *t)
{
    const struct vpc_eni *e = vpc_region_find_eni(w->r, src);
    assert_non_null(e);
    struct host_sim *h = world_host(w, e->host);
    uint64_t pkt[N_FLDS] = { 0 };
    pkt[F_IN_PORT] = eni_port(h, src);
    pkt[F_DL_SRC] = pkt[F_ARP_SHA] = mac_u64(e->mac);
    pkt[F_DL_DST] = 0xffffffffffffULL;
    pkt[F_DL_TYPE] = 0x806;
    pkt[F_ARP_OP] = 1;
    pkt[F_NW_SRC] = e->ip;
    pkt[F_NW_DST] = ip_parse_or_fail(tpa);
    memset(t, 0, sizeof *t);
    travel(w, h, pkt, t);
}

/* Like send_pkt(), with source address 'src_ip' (NULL: the ENI's). */
static void
send_pkt_as(struct world *w, const char *src, const char *src_ip,
            const char *dst, int proto, int port, struct trip *t)
{
    const struct vpc_eni *e = vpc_region_find_eni(w->r, src);
    assert_non_null(e);
    struct host_sim *h = world_host(w, e->host);
    assert_non_null(h);
    uint32_t dst_ip;
    assert_true(vpc_ip_parse(dst, &dst_ip));

    uint64_t pkt[N_FLDS] = { 0 };
    pkt[F_IN_PORT] = eni_port(h, src);
    pkt[F_DL_SRC] = mac_u64(e->mac);
    pkt[F_DL_DST] = mac_u64(pl_router_mac(e->subnet->vpc));
    pkt[F_DL_TYPE] = 0x800;
    pkt[F_NW_PROTO] = proto;
    pkt[F_NW_SRC] = src_ip ? ip_parse_or_fail(src_ip) : e->ip;
    pkt[F_NW_DST] = dst_ip;
    pkt[F_NW_TTL] = 64;
    if (proto == PROTO_ICMP) {
        pkt[F_ICMP_TYPE] = port >> 8;
        pkt[F_ICMP_CODE] = port & 0xff;
    } else {
        pkt[F_TP_DST] = port;
    }

    memset(t, 0, sizeof *t);
    travel(w, h, pkt, t);
}

static void
travel(struct world *w, struct host_sim *h, uint64_t *pkt, struct trip *t)
{
    for (;;) {
        size_t first = t->v.n;
        sim_run(&h->sim, &h->fs, pkt, &t->v);
        for (size_t i = first; i < t->v.n; i++) {
            t->hops[i] = h;
        }
        t->at = h;
        if (!t->v.output || t->v.port != TUNNEL_PORT) {
            return;
        }
        assert_true(t->n_tun < ARRAY_SIZE(t->tun_id));
        t->tun_id[t->n_tun] = pkt[F_TUN_ID];
        t->tun_dst[t->n_tun++] = pkt[F_TUN_DST];
        struct host_sim *next = NULL;
        for (size_t i = 0; i < w->n; i++) {
            if (w->hs[i].host->underlay_ip == pkt[F_TUN_DST]) {
                next = &w->hs[i];
            }
        }
        if (!next) {
            return;             /* To an edge: out of our sight. */
        }
        /* Decapsulated on 'next': metadata is fresh, the inner headers
         * are as the sender rewrote them. */
        uint64_t tun_id = pkt[F_TUN_ID];
        memset(pkt, 0, F_DL_SRC * sizeof *pkt);
        pkt[F_IN_PORT] = TUNNEL_PORT;
        pkt[F_TUN_ID] = tun_id;
        pkt[F_TUN_SRC] = h->host->underlay_ip;
        pkt[F_TUN_DST] = next->host->underlay_ip;
        pkt[F_CT_STATE] = 0;
        h = next;
    }
}

static void
trip_describe(const struct trip *t, struct ds *ds)
{
    if (t->v.output) {
        ds_put_format(ds, "%s: output:%d", t->at->host->id, t->v.port);
        if (t->v.port == TUNNEL_PORT) {
            char ip[16];
            vpc_ip_format(t->v.pkt[F_TUN_DST], ip);
            ds_put_format(ds, " tun_id=%#"PRIx64" tun_dst=%s",
                          t->v.pkt[F_TUN_ID], ip);
        }
    } else {
        int s = pl_stage_by_table(t->v.drop_table);
        ds_put_format(ds, "%s: dropped in table %d (%s)", t->at->host->id,
                      t->v.drop_table, s >= 0 ? pl_stage_label(s) : "?");
    }
    ds_put_cstr(ds, "\n  path:");
    for (size_t i = 0; i < t->v.n; i++) {
        int s = pl_stage_by_table(t->v.tables[i]);
        ds_put_format(ds, " [%s %s: %s]", t->hops[i]->host->id,
                      s >= 0 ? pl_stage_label(s) : "?",
                      pl_flows_ref(&t->hops[i]->fs, t->v.cookies[i]));
    }
}

static bool
trip_hit(const struct trip *t, const char *ref)
{
    for (size_t i = 0; i < t->v.n; i++) {
        const char *r = pl_flows_ref(&t->hops[i]->fs, t->v.cookies[i]);
        if (r && !strcmp(r, ref)) {
            return true;
        }
    }
    return false;
}

static void
trip_fail(const struct trip *t, const char *want, const char *file, int line)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    trip_describe(t, &ds);
    print_error("expected %s, got %s\n", want, ds_cstr(&ds));
    ds_destroy(&ds);
    _fail(file, line);
}

/* Delivered to ENI 'eni' on its host. */
static void
assert_delivered_at(struct world *w, const struct trip *t, const char *eni,
                    const char *file, int line)
{
    const struct vpc_eni *e = vpc_region_find_eni(w->r, eni);
    assert_non_null(e);
    int port = eni_port(world_host(w, e->host), eni);
    if (!t->v.output || t->at->host != e->host || t->v.port != port) {
        char *want = xasprintf("delivery to %s (%s port %d)", eni,
                               e->host->id, port);
        trip_fail(t, want, file, line);
    }
}
#define assert_delivered(W, T, ENI) \
    assert_delivered_at(W, T, ENI, __FILE__, __LINE__)

/* Encapsulated toward edge 'edge' with VNI 'vni'. */
static void
assert_to_edge_at(struct world *w, const struct trip *t, const char *edge,
                  uint32_t vni, const char *file, int line)
{
    const struct vpc_host *e = vpc_region_find_host(w->r, edge);
    assert_non_null(e);
    if (!t->v.output || t->v.port != TUNNEL_PORT
        || t->v.pkt[F_TUN_DST] != e->underlay_ip
        || t->v.pkt[F_TUN_ID] != vni) {
        char *want = xasprintf("tunnel to %s with tun_id=%#"PRIx32, edge,
                               vni);
        trip_fail(t, want, file, line);
    }
}
#define assert_to_edge(W, T, EDGE, VNI) \
    assert_to_edge_at(W, T, EDGE, VNI, __FILE__, __LINE__)

/* Dropped in 'stage'. */
static void
assert_dropped_at(const struct trip *t, enum pl_stage stage,
                  const char *file, int line)
{
    if (t->v.output || t->v.drop_table != pl_stage_table(stage)) {
        char *want = xasprintf("a drop in %s", pl_stage_label(stage));
        trip_fail(t, want, file, line);
    }
}
#define assert_dropped(T, STAGE) assert_dropped_at(T, STAGE, __FILE__, __LINE__)

#define assert_hit(T, REF) do {                                          \
        if (!trip_hit(T, REF)) {                                         \
            trip_fail(T, "a path through \"" REF "\"", __FILE__, __LINE__); \
        }                                                                \
    } while (0)

static uint32_t
ip(const char *s)
{
    uint32_t x;
    assert_true(vpc_ip_parse(s, &x));
    return x;
}

/* ---------------------------------------------------- simulator checks */

/* The simulator itself: masks, ct_state, priorities, misses, prerequisites
 * are refused. */
static void
test_sim_basics(void **state)
{
    struct pl_flows fs;
    pl_flows_init(&fs);
    pl_flow_add(&fs, PL_CLASSIFY, 100, "t a", xstrdup("in_port=1"),
                xstrdup("set_field:0x2a->reg5,goto_table:20"));
    pl_flow_add(&fs, PL_VROUTER, 200, "t b",
                xstrdup("reg5=0x2a,tcp,tcp_dst=0x3e8/0xfff8"),
                xstrdup("ct(table=41,zone=NXM_NX_REG0[0..15])"));
    pl_flow_add(&fs, PL_VROUTER, 100, "t c", xstrdup("ip,nw_dst=10.0.0.0/8"),
                xstrdup("move:NXM_OF_IP_DST[]->NXM_NX_REG2[],dec_ttl,"
                        "set_field:7->tun_id,output:9"));
    pl_flow_add(&fs, PL_SG_OUT, 100, "t d", xstrdup("ct_state=+new-est+trk"),
                xstrdup("ct(commit,zone=NXM_NX_REG0[0..15]),output:3"));
    struct sim sim;
    sim_init(&sim, &fs);

    uint64_t pkt[N_FLDS] = { [F_IN_PORT] = 1, [F_DL_TYPE] = 0x800,
                             [F_NW_PROTO] = 6, [F_TP_DST] = 1003,
                             [F_NW_DST] = ip("10.1.2.3"), [F_NW_TTL] = 5 };
    struct verdict v = { .n = 0 };
    sim_run(&sim, &fs, pkt, &v);
    assert_true(v.output);
    assert_int_equal(v.port, 3);
    assert_int_equal(v.n, 3);
    assert_string_equal(pl_flows_ref(&fs, v.cookies[2]), "t d");

    pkt[F_TP_DST] = 1008;       /* Outside the mask: the /8 flow. */
    pkt[F_CT_STATE] = 0;
    v.n = 0;
    sim_run(&sim, &fs, pkt, &v);
    assert_true(v.output);
    assert_int_equal(v.port, 9);
    assert_int_equal(v.pkt[F_TUN_ID], 7);
    assert_int_equal(v.pkt[F_REG0 + 2], ip("10.1.2.3"));
    assert_int_equal(v.pkt[F_NW_TTL], 4);

    pkt[F_IN_PORT] = 2;         /* Miss in table 0. */
    v.n = 0;
    sim_run(&sim, &fs, pkt, &v);
    assert_false(v.output);
    assert_int_equal(v.drop_table, 0);
    assert_int_equal(v.n, 0);
    sim_destroy(&sim);
    pl_flows_destroy(&fs);
}

/* ------------------------------------------------------ LPM, precedence */

/* examples/lpm.json from eni-src-a (host-a): /32 beats /24 beats /16 local
 * beats /8 beats /0 (README's table). */
static void
test_lpm(void **state)
{
    struct world w;
    world_example(&w, "lpm");
    struct trip t;

    send_pkt(&w, "eni-src-a", "10.0.1.50", PROTO_TCP, 80, &t);
    assert_delivered(&w, &t, "eni-appliance");
    assert_hit(&t, "rtb-lpm routes[2]");
    assert_int_equal(t.v.pkt[F_NW_TTL], 63);

    send_pkt(&w, "eni-src-a", "10.0.1.60", PROTO_TCP, 80, &t);
    assert_to_edge(&w, &t, "edge-1", 0xf00001);     /* nat-lpm */
    assert_hit(&t, "rtb-lpm routes[1]");

    /* 10.0.3.7 is in the VPC but holds no ENI: the local /16 wins over the
     * VPN's /8 and the mapping stage finds nobody. */
    send_pkt(&w, "eni-src-a", "10.0.3.7", PROTO_TCP, 80, &t);
    assert_dropped(&t, PL_MAPPING);
    assert_hit(&t, "vpc-lpm local");

    send_pkt(&w, "eni-src-a", "10.99.0.1", PROTO_TCP, 80, &t);
    assert_to_edge(&w, &t, "edge-1", 0xf00002);     /* vgw-lpm */
    assert_hit(&t, "rtb-lpm routes[0]");

    send_pkt(&w, "eni-src-a", "8.8.8.8", PROTO_TCP, 80, &t);
    assert_to_edge(&w, &t, "edge-1", 0xf00000);     /* igw-lpm */
    assert_hit(&t, "rtb-lpm routes[3]");

    /* Same subnet: not routed, TTL kept, to host-b with the VPC's VNI. */
    send_pkt(&w, "eni-src-a", "10.0.2.20", PROTO_TCP, 80, &t);
    assert_delivered(&w, &t, "eni-src-b");
    assert_int_equal(t.n_tun, 1);
    assert_int_equal(t.tun_id[0], 300);
    assert_int_equal(t.v.pkt[F_NW_TTL], 64);

    /* subnet-dst has no route table: local only. */
    send_pkt(&w, "eni-dst-b", "10.0.1.50", PROTO_TCP, 80, &t);
    assert_delivered(&w, &t, "eni-appliance");
    send_pkt(&w, "eni-dst-b", "8.8.8.8", PROTO_TCP, 80, &t);
    assert_dropped(&t, PL_ROUTE);
    send_pkt(&w, "eni-appliance", "10.0.2.10", PROTO_TCP, 80, &t);
    assert_delivered(&w, &t, "eni-src-a");
    world_destroy(&w);
}

/* examples/azure-precedence.json: a user route equal to the VPC block beats
 * the local route; static beats propagated for 172.16.0.0/12. */
static void
test_azure_precedence(void **state)
{
    struct world w;
    world_example(&w, "azure-precedence");
    struct trip t;

    send_pkt(&w, "eni-vm-b", "10.20.1.20", PROTO_TCP, 80, &t);
    assert_delivered(&w, &t, "eni-appliance");
    assert_hit(&t, "rtb-spoke routes[0]");
    assert_int_equal(t.n_tun, 1);
    assert_int_equal(t.tun_id[0], 2020);
    assert_int_equal(t.tun_dst[0], ip("192.168.100.1"));

    send_pkt(&w, "eni-vm-b", "172.16.5.5", PROTO_TCP, 80, &t);
    assert_delivered(&w, &t, "eni-appliance");
    assert_hit(&t, "rtb-spoke routes[2]");

    /* subnet-hub has only the local route: straight to vm-b. */
    send_pkt(&w, "eni-vm-a", "10.20.2.10", PROTO_TCP, 80, &t);
    assert_delivered(&w, &t, "eni-vm-b");
    assert_hit(&t, "vpc-az local");
    world_destroy(&w);
}

#define AWS_PREC_DOC(ROUTES)                                              \
    "'vpcs':[{'id':'vpc-p','cidr_blocks':['10.5.0.0/16'],'vni':55}],"    \
    "'security_groups':[{'id':'sg-p','vpc':'vpc-p',"                    \
    "'ingress':[{'protocol':'-1','cidr':'0.0.0.0/0'}],"                 \
    "'egress':[{'protocol':'-1','cidr':'0.0.0.0/0'}]}],"                \
    "'route_tables':[{'id':'rtb-p','vpc':'vpc-p','routes':[" ROUTES "]}]," \
    "'subnets':[{'id':'subnet-p','vpc':'vpc-p','cidr':'10.5.1.0/24',"   \
    "'route_table':'rtb-p'}],"                                          \
    "'enis':[{'id':'eni-p1','subnet':'subnet-p','host':'host-a',"       \
    "'mac':'02:00:00:05:01:0a','private_ip':'10.5.1.10',"               \
    "'security_groups':['sg-p']},"                                      \
    "{'id':'eni-p2','subnet':'subnet-p','host':'host-b',"               \
    "'mac':'02:00:00:05:01:14','private_ip':'10.5.1.20',"               \
    "'security_groups':['sg-p'],'source_dest_check':false}],"           \
    "'vpn_gateways':[{'id':'vgw-p','vpc':'vpc-p',"                      \
    "'customer_gateway_ip':'203.0.113.5','onprem_prefixes':"            \
    "['172.16.0.0/12'],'psk_ref':'secret/p'}]"

/* route_precedence "aws": for equal prefixes static beats propagated,
 * whichever comes first; a route equal to the VPC block (which only the
 * local route may have) is refused at validation. */
static void
test_aws_precedence(void **state)
{
    static const char *orders[] = {
        "{'destination':'172.16.0.0/12','target':'vgw-p',"
        "'origin':'propagated'},"
        "{'destination':'172.16.0.0/12','target':'eni-p2'}",
        "{'destination':'172.16.0.0/12','target':'eni-p2'},"
        "{'destination':'172.16.0.0/12','target':'vgw-p',"
        "'origin':'propagated'}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(orders); i++) {
        char *routes = xasprintf(AWS_PREC_DOC("%s"), orders[i]);
        char *doc = inline_doc(routes);
        struct world w;
        world_init(&w, load(doc));
        struct trip t;
        send_pkt(&w, "eni-p1", "172.16.0.1", PROTO_UDP, 53, &t);
        assert_delivered(&w, &t, "eni-p2");
        /* 10.5.2.1 is local (no ENI there), 10.6.0.1 has no route. */
        send_pkt(&w, "eni-p1", "10.5.2.1", PROTO_UDP, 53, &t);
        assert_dropped(&t, PL_MAPPING);
        assert_hit(&t, "vpc-p local");
        send_pkt(&w, "eni-p1", "10.6.0.1", PROTO_UDP, 53, &t);
        assert_dropped(&t, PL_ROUTE);
        world_destroy(&w);
        free(doc);
        free(routes);
    }

    /* Propagated alone: to the VPN gateway's edge. */
    char *doc = inline_doc(AWS_PREC_DOC(
        "{'destination':'172.16.0.0/12','target':'vgw-p',"
        "'origin':'propagated'}"));
    struct world w;
    world_init(&w, load(doc));
    struct trip t;
    send_pkt(&w, "eni-p1", "172.16.0.1", PROTO_UDP, 53, &t);
    assert_to_edge(&w, &t, "edge-1", 0xf00000);
    world_destroy(&w);
    free(doc);

    /* Local cannot be equalled in aws mode, not even by a propagated
     * route: the local route always wins by construction. */
    doc = inline_doc(AWS_PREC_DOC(
        "{'destination':'10.5.0.0/16','target':'vgw-p',"
        "'origin':'propagated'}"));
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_region *r = vpc_region_from_string(doc, &errs);
    assert_null(r);
    bool found = false;
    for (size_t i = 0; i < errs.n; i++) {
        found |= strstr(errs.msgs[i], "equals the local route") != NULL;
    }
    assert_true(found);
    vpc_errors_destroy(&errs);
    free(doc);
}

/* ------------------------------------------------------ security groups */

/* A rule that references a group expands to exactly its members' /32s. */
static void
test_sg_group_reference(void **state)
{
    struct vpc_region *r = load_example("web-tier");
    struct pl_flows fs;
    compile(r, "host-b", &fs);

    /* sg-web has two members: a conjunctive match.  The rule's own flows:
     * conj_id -> commit, and the port/protocol clause; the members' clause
     * flows are named after the group. */
    const struct pl_flow *v[8];
    size_t n = collect_flows(&fs, PL_SG_IN, "sg-app ingress[0]", v, 8);
    assert_int_equal(n, 2);
    const struct pl_flow *conj = strstr(v[0]->match, "conj_id=") ? v[0] : v[1];
    const struct pl_flow *port = conj == v[0] ? v[1] : v[0];
    unsigned int id;
    assert_int_equal(sscanf(conj->match, "conj_id=%u,ip", &id), 1);
    assert_non_null(strstr(conj->actions, "ct(commit"));
    char *want = xasprintf("conjunction(%u,1/2)", id);
    assert_non_null(strstr(port->match, ",tcp,tcp_dst=8080"));
    assert_non_null(strstr(port->actions, want));
    free(want);
    n = collect_flows(&fs, PL_SG_IN, "sg-web members", v, 8);
    assert_int_equal(n, 2);     /* eni-web-a, eni-web-b. */
    bool seen_a = false, seen_b = false;
    want = xasprintf("conjunction(%u,2/2)", id);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(strstr(v[i]->actions, want));
        seen_a |= strstr(v[i]->match, "nw_src=10.10.1.10") != NULL;
        seen_b |= strstr(v[i]->match, "nw_src=10.10.1.11") != NULL;
        assert_null(strstr(v[i]->match, "10.10.1.20"));   /* client-a */
    }
    free(want);
    assert_true(seen_a && seen_b);
    /* Only the ENIs of host-b get their groups' flows: sg-web's on host-b
     * (eni-web-b, port 1), not on eni-app-b (port 2). */
    assert_int_equal(count_flows(&fs, PL_SG_IN, "sg-web ingress[0]"), 1);
    pl_flows_destroy(&fs);

    /* On host-a, nobody is in sg-app: no flows for its rule. */
    compile(r, "host-a", &fs);
    assert_int_equal(count_flows(&fs, PL_SG_IN, "sg-app ingress[0]"), 0);
    pl_flows_destroy(&fs);
    vpc_region_destroy(r);
}

/* The minimal number of value/mask pairs that cover [lo, hi] exactly. */
static int
min_cover(int lo, int hi, int base, int size)
{
    int top = base + size - 1;
    if (hi < base || lo > top) {
        return 0;
    }
    if (lo <= base && top <= hi) {
        return 1;
    }
    return min_cover(lo, hi, base, size / 2)
           + min_cover(lo, hi, base + size / 2, size / 2);
}

#define PORTS_DOC                                                           \
    "'vpcs':[{'id':'vpc-s','cidr_blocks':['10.7.0.0/16'],'vni':77}],"      \
    "'security_groups':["                                                 \
    "{'id':'sg-ports','vpc':'vpc-s','ingress':["                          \
    "{'protocol':'tcp','from_port':1000,'to_port':1999,'cidr':'0.0.0.0/0'}," \
    "{'protocol':'udp','from_port':0,'to_port':65535,'cidr':'10.7.0.0/16'}," \
    "{'protocol':'tcp','from_port':22,'to_port':22,'cidr':'10.7.1.0/24'}," \
    "{'protocol':'icmp','icmp_type':3,'icmp_code':4,'cidr':'0.0.0.0/0'}," \
    "{'protocol':'icmp','icmp_type':8,'cidr':'0.0.0.0/0'},"               \
    "{'protocol':'tcp','from_port':1,'to_port':65534,'cidr':'192.0.2.0/24'}," \
    "{'protocol':'tcp','from_port':443,'to_port':443,'security_group':'sg-src'}," \
    "{'protocol':'tcp','from_port':0,'to_port':65534,'cidr':'192.0.3.0/24'}," \
    "{'protocol':'udp','from_port':1,'to_port':65535,'cidr':'192.0.3.0/24'}," \
    "{'protocol':'udp','from_port':0,'to_port':0,'cidr':'192.0.3.0/24'}]}," \
    "{'id':'sg-src','vpc':'vpc-s',"                                       \
    "'egress':[{'protocol':'-1','cidr':'0.0.0.0/0'}]}],"                  \
    "'subnets':[{'id':'subnet-s','vpc':'vpc-s','cidr':'10.7.1.0/24'}],"  \
    "'enis':[{'id':'eni-dst','subnet':'subnet-s','host':'host-a',"        \
    "'mac':'02:00:00:07:01:0a','private_ip':'10.7.1.10',"                 \
    "'security_groups':['sg-ports']},"                                    \
    "{'id':'eni-src','subnet':'subnet-s','host':'host-a',"                \
    "'mac':'02:00:00:07:01:14','private_ip':'10.7.1.20',"                 \
    "'security_groups':['sg-src']},"                                      \
    "{'id':'eni-src2','subnet':'subnet-s','host':'host-b',"               \
    "'mac':'02:00:00:07:01:1e','private_ip':'10.7.1.30',"                 \
    "'security_groups':['sg-src']}]"

/* Checks that the flows of 'ref' cover exactly [lo, hi] of 'field', each
 * port once, with the minimal number of value/mask matches. */
static void
check_port_cover(const struct pl_flows *fs, const char *ref,
                 const char *field, int lo, int hi)
{
    const struct pl_flow *v[64];
    size_t n = collect_flows(fs, PL_SG_IN, ref, v, 64);
    assert_true(n <= 64);
    if (lo == 0 && hi == 65535) {
        assert_int_equal(n, 1);
        assert_null(strstr(v[0]->match, "_dst="));
        return;
    }
    assert_int_equal(n, min_cover(lo, hi, 0, 65536));
    uint32_t vals[64], masks[64];
    char *pat = xasprintf(",%s=", field);
    for (size_t i = 0; i < n; i++) {
        const char *p = strstr(v[i]->match, pat);
        assert_non_null(p);
        char *end;
        vals[i] = strtoul(p + strlen(pat), &end, 0);
        masks[i] = *end == '/' ? strtoul(end + 1, NULL, 0) : 0xffff;
        assert_int_equal(vals[i] & ~masks[i], 0);
    }
    free(pat);
    for (int port = 0; port <= 65535; port++) {
        int hits = 0;
        for (size_t i = 0; i < n; i++) {
            hits += (port & masks[i]) == vals[i];
        }
        if (hits != (port >= lo && port <= hi)) {
            fail_msg("%s: port %d is matched %d times", ref, port, hits);
        }
    }
}

static void
test_sg_ports_and_icmp(void **state)
{
    char *doc = inline_doc(PORTS_DOC);
    struct world w;
    world_init(&w, load(doc));
    free(doc);
    const struct pl_flows *fs = &w.hs[0].fs;

    check_port_cover(fs, "sg-ports ingress[0]", "tcp_dst", 1000, 1999);
    assert_int_equal(count_flows(fs, PL_SG_IN, "sg-ports ingress[0]"), 7);
    check_port_cover(fs, "sg-ports ingress[1]", "udp_dst", 0, 65535);
    check_port_cover(fs, "sg-ports ingress[2]", "tcp_dst", 22, 22);
    check_port_cover(fs, "sg-ports ingress[5]", "tcp_dst", 1, 65534);
    assert_int_equal(count_flows(fs, PL_SG_IN, "sg-ports ingress[5]"), 30);
    check_port_cover(fs, "sg-ports ingress[7]", "tcp_dst", 0, 65534);
    check_port_cover(fs, "sg-ports ingress[8]", "udp_dst", 1, 65535);
    check_port_cover(fs, "sg-ports ingress[9]", "udp_dst", 0, 0);

    const struct pl_flow *v[4];
    assert_int_equal(collect_flows(fs, PL_SG_IN, "sg-ports ingress[2]",
                                   v, 4), 1);
    assert_non_null(strstr(v[0]->match, ",tcp,tcp_dst=22,nw_src=10.7.1.0/24"));
    assert_int_equal(collect_flows(fs, PL_SG_IN, "sg-ports ingress[3]",
                                   v, 4), 1);
    assert_non_null(strstr(v[0]->match, ",icmp,icmp_type=3,icmp_code=4,"));
    assert_int_equal(collect_flows(fs, PL_SG_IN, "sg-ports ingress[4]",
                                   v, 4), 1);
    assert_non_null(strstr(v[0]->match, ",icmp,icmp_type=8,"));
    assert_null(strstr(v[0]->match, "icmp_code"));
    /* The group has two members, one per host; both appear on host-a. */
    assert_int_equal(count_flows(fs, PL_SG_IN, "sg-ports ingress[6]"), 2);

    /* The same, by simulation, from eni-src (same host) and eni-src2. */
    static const struct { int proto, port; bool ok; } cases[] = {
        { PROTO_TCP, 999, false }, { PROTO_TCP, 1000, true },
        { PROTO_TCP, 1500, true }, { PROTO_TCP, 1999, true },
        { PROTO_TCP, 2000, false }, { PROTO_TCP, 21, false },
        { PROTO_TCP, 22, true }, { PROTO_TCP, 23, false },
        { PROTO_TCP, 443, true }, { PROTO_TCP, 444, false },
        { PROTO_UDP, 0, true }, { PROTO_UDP, 65535, true },
        { PROTO_ICMP, 3 << 8 | 4, true }, { PROTO_ICMP, 3 << 8 | 3, false },
        { PROTO_ICMP, 8 << 8 | 0, true }, { PROTO_ICMP, 8 << 8 | 7, true },
        { PROTO_ICMP, 0 << 8 | 0, false },
    };
    static const char *srcs[] = { "eni-src", "eni-src2" };
    for (size_t s = 0; s < ARRAY_SIZE(srcs); s++) {
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
            struct trip t;
            send_pkt(&w, srcs[s], "10.7.1.10", cases[i].proto,
                     cases[i].port, &t);
            bool delivered = t.v.output && t.at == &w.hs[0]
                             && t.v.port == eni_port(&w.hs[0], "eni-dst");
            if (delivered != cases[i].ok) {
                print_error("%s -> eni-dst, protocol %d, port/type %#x\n",
                            srcs[s], cases[i].proto, cases[i].port);
            }
            if (cases[i].ok) {
                assert_delivered(&w, &t, "eni-dst");
            } else {
                assert_dropped(&t, PL_SG_IN);
            }
        }
    }
    world_destroy(&w);
}

/* ------------------------------------------------- web tier: ACL, SG */

static void
test_web_tier(void **state)
{
    struct world w;
    world_example(&w, "web-tier");
    struct trip t;

    /* acl-app ingress rule 90 (deny tcp 22) beats rule 100 (allow all). */
    send_pkt(&w, "eni-web-a", "10.10.2.10", PROTO_TCP, 22, &t);
    assert_dropped(&t, PL_NACL_IN);
    assert_hit(&t, "acl-app ingress rule 90");
    assert_int_equal(t.n_tun, 1);
    send_pkt(&w, "eni-web-b", "10.10.2.10", PROTO_TCP, 22, &t);
    assert_dropped(&t, PL_NACL_IN);
    assert_hit(&t, "acl-app ingress rule 90");

    /* 8080 from sg-web members: rule 100, then sg-app ingress[0]. */
    send_pkt(&w, "eni-web-a", "10.10.2.10", PROTO_TCP, 8080, &t);
    assert_delivered(&w, &t, "eni-app-b");
    assert_hit(&t, "acl-app ingress rule 100");
    assert_hit(&t, "sg-app ingress[0]");
    assert_int_equal(t.tun_id[0], 1010);
    assert_int_equal(t.v.pkt[F_NW_TTL], 63);      /* Crossed subnets. */
    assert_int_equal(t.v.pkt[F_DL_DST], 0x02000010020aULL);
    send_pkt(&w, "eni-web-b", "10.10.2.10", PROTO_TCP, 8080, &t);
    assert_delivered(&w, &t, "eni-app-b");

    /* client-a is not in sg-web: the ACL passes it, sg-app does not. */
    send_pkt(&w, "eni-client-a", "10.10.2.10", PROTO_TCP, 8080, &t);
    assert_dropped(&t, PL_SG_IN);
    assert_hit(&t, "acl-app ingress rule 100");
    send_pkt(&w, "eni-web-a", "10.10.2.10", PROTO_ICMP, 8 << 8, &t);
    assert_dropped(&t, PL_SG_IN);

    /* app-b's outgoing ssh meets acl-app egress rule 90. */
    send_pkt(&w, "eni-app-b", "10.10.1.10", PROTO_TCP, 22, &t);
    assert_dropped(&t, PL_NACL_OUT);
    assert_hit(&t, "acl-app egress rule 90");

    /* sg-web: 443 from anywhere, ping from the VPC, not 80. */
    send_pkt(&w, "eni-client-a", "10.10.1.10", PROTO_TCP, 443, &t);
    assert_delivered(&w, &t, "eni-web-a");
    assert_int_equal(t.v.pkt[F_NW_TTL], 64);      /* Same subnet. */
    send_pkt(&w, "eni-client-a", "10.10.1.11", PROTO_TCP, 443, &t);
    assert_delivered(&w, &t, "eni-web-b");
    send_pkt(&w, "eni-client-a", "10.10.1.10", PROTO_TCP, 80, &t);
    assert_dropped(&t, PL_SG_IN);
    send_pkt(&w, "eni-client-a", "10.10.1.11", PROTO_ICMP, 8 << 8, &t);
    assert_delivered(&w, &t, "eni-web-b");
    send_pkt(&w, "eni-web-a", "10.10.1.20", PROTO_TCP, 443, &t);
    assert_dropped(&t, PL_SG_IN);               /* sg-client: nothing. */

    /* Internet through igw-web; app-b has no route out. */
    send_pkt(&w, "eni-web-a", "1.1.1.1", PROTO_TCP, 443, &t);
    assert_to_edge(&w, &t, "edge-1", 0xf00000);
    send_pkt(&w, "eni-app-b", "1.1.1.1", PROTO_TCP, 443, &t);
    assert_dropped(&t, PL_ROUTE);
    world_destroy(&w);
}

/* Asserts that trip 'T' sampled exactly the observation points given. */
static void
assert_samples_at(const struct trip *t, const uint32_t *want, size_t n,
                  const char *file, int line)
{
    bool ok = t->v.n_samples == n;
    for (size_t i = 0; ok && i < n; i++) {
        ok = t->v.samples[i] == want[i];
    }
    if (!ok) {
        print_error("sampled:");
        for (size_t i = 0; i < t->v.n_samples; i++) {
            print_error(" %#"PRIx32, t->v.samples[i]);
        }
        print_error("; expected:");
        for (size_t i = 0; i < n; i++) {
            print_error(" %#"PRIx32, want[i]);
        }
        print_error("\n");
        _fail(file, line);
    }
}
#define assert_samples(T, ...)                                          \
    do {                                                                \
        static const uint32_t want_[] = { __VA_ARGS__ };                \
        assert_samples_at(T, want_, ARRAY_SIZE(want_), __FILE__, __LINE__); \
    } while (0)
#define assert_no_samples(T) assert_samples_at(T, NULL, 0, __FILE__, __LINE__)

/* Flow logs: the web tier with flow logs; what the simulated packets of
 * test_web_tier sample.  On host-a, eni-web-a is ofport 1 and
 * eni-client-a 2; on host-b, eni-web-b 1 and eni-app-b 2. */
static void
test_flow_logs(void **state)
{
    char *text = example_text("web-tier");
    char *logs = requote(xstrdup(
        "{'id':'fl-web-a','resource':'eni-web-a','traffic_type':'ALL'},"
        "{'id':'fl-client','resource':'eni-client-a',"
        "'traffic_type':'ACCEPT'},"
        "{'id':'fl-app','resource':'subnet-app','traffic_type':'REJECT'}"));
    char *with = xasprintf("{\"flow_logs\": [%s],%s", logs,
                           strchr(text, '{') + 1);
    free(logs);
    struct world w;
    world_init(&w, load(with));
    struct trip t;
    enum { R = PL_FL_POINT_REJECT };

    /* Accepted: sg_out of client-a, sg_in of web-a. */
    send_pkt(&w, "eni-client-a", "10.10.1.10", PROTO_TCP, 443, &t);
    assert_delivered(&w, &t, "eni-web-a");
    assert_samples(&t, 2, 1);
    /* Rejected by sg-web: web-a's REJECT (client-a logs ACCEPT only). */
    send_pkt(&w, "eni-client-a", "10.10.1.10", PROTO_TCP, 80, &t);
    assert_dropped(&t, PL_SG_IN);
    assert_samples(&t, 2, R | 1);
    /* web-b is not logged. */
    send_pkt(&w, "eni-client-a", "10.10.1.11", PROTO_TCP, 443, &t);
    assert_delivered(&w, &t, "eni-web-b");
    assert_samples(&t, 2);
    /* app-b's ssh meets acl-app egress rule 90: subnet-app's REJECT. */
    uint32_t app = (pl_id_hash("subnet-app") & PL_FL_POINT_MASK)
                   | PL_FL_POINT_SUBNET | R;
    send_pkt(&w, "eni-app-b", "10.10.1.10", PROTO_TCP, 22, &t);
    assert_dropped(&t, PL_NACL_OUT);
    assert_int_equal(t.v.n_samples, 1);
    assert_int_equal(t.v.samples[0], app);
    /* Accepted traffic of app-b is not logged (REJECT only). */
    send_pkt(&w, "eni-app-b", "10.10.1.10", PROTO_TCP, 443, &t);
    assert_delivered(&w, &t, "eni-web-a");
    assert_samples(&t, 1);
    world_destroy(&w);

    /* With ACCEPT for app-b too: sg-app's rule naming sg-web (two
     * members) is a conjunctive match, whose conj_id flow samples. */
    char *logs2 = requote(xstrdup(
        "{'id':'fl-app','resource':'eni-app-b','traffic_type':'ACCEPT'}"));
    char *with2 = xasprintf("{\"flow_logs\": [%s],%s", logs2,
                            strchr(text, '{') + 1);
    free(logs2);
    world_init(&w, load(with2));
    send_pkt(&w, "eni-web-a", "10.10.2.10", PROTO_TCP, 8080, &t);
    assert_delivered(&w, &t, "eni-app-b");
    assert_hit(&t, "sg-app ingress[0]");
    assert_samples(&t, 2);
    world_destroy(&w);
    free(with2);

    /* Without flow logs, nothing samples. */
    world_init(&w, load(text));
    send_pkt(&w, "eni-client-a", "10.10.1.10", PROTO_TCP, 80, &t);
    assert_dropped(&t, PL_SG_IN);
    assert_no_samples(&t);
    world_destroy(&w);
    free(with);
    free(text);
}

/* Instance metadata: with a service port, each served ENI's requests go
 * there from its service address and come back; an ENI whose endpoint is
 * disabled, or whose ofport has no service address, gets nothing; without
 * a service port the stages only drop 169.254.169.254 and go on. */
static const struct pl_flow *
find_flow_with(const struct pl_flows *fs, enum pl_stage stage,
               const char *ref, const char *match_part)
{
    const struct pl_flow *v[16];
    size_t n = collect_flows(fs, stage, ref, v, ARRAY_SIZE(v));
    for (size_t i = 0; i < n && i < ARRAY_SIZE(v); i++) {
        if (strstr(v[i]->match, match_part)) {
            return v[i];
        }
    }
    return NULL;
}

static void
test_metadata_stages(void **state)
{
    char *text = example_text("overlapping-ips");
    char *p = strstr(text, "\"id\": \"eni-green-a\"");
    assert_non_null(p);
    /* eni-green-a: endpoint disabled. */
    char *doc = xasprintf("%.*s\"metadata_options\": {\"http_endpoint\": "
                          "\"disabled\"}, %s", (int) (p - text), text, p);
    struct vpc_region *r = load_at(doc, "overlapping-ips", __LINE__);

    struct pl_binding b[] = {
        { "eni-red-a", 1 }, { "eni-blue-a", 2 }, { "eni-green-a", 3 },
    };
    struct pl_host_config cfg = {
        .host_id = "host-a", .bindings = b, .n_bindings = ARRAY_SIZE(b),
        .tunnel_ofport = TUNNEL_PORT, .mapping = PL_MAP_FLOWS,
        .metadata_ofport = 50,
        .metadata_mac = ETH_ADDR_C(0a,00,00,00,00,50),
    };
    struct pl_flows fs;
    pl_flows_init(&fs);
    char *error = pl_compile_host(r, &cfg, &fs);
    assert_null(error);

    const struct pl_flow *f = find_flow_with(&fs, PL_CLASSIFY,
                                             "metadata service", "in_port=50");
    assert_non_null(f);
    char *go = xasprintf("goto_table:%d", pl_stage_table(PL_SVC_RETURN));
    assert_string_equal(f->actions, go);
    free(go);
    f = find_flow_with(&fs, PL_METADATA, "eni-blue-a metadata",
                       "reg0=2,tcp,nw_dst=169.254.169.254,tp_dst=80");
    assert_non_null(f);
    assert_string_equal(f->actions,
                        "set_field:02:76:70:ff:ff:fe->eth_src,"
                        "set_field:0a:00:00:00:00:50->eth_dst,"
                        "set_field:169.254.128.2->ip_src,output:50");
    assert_non_null(find_flow_with(&fs, PL_METADATA, "eni-blue-a metadata",
                                   "arp_tpa=169.254.169.254"));
    f = find_flow_with(&fs, PL_SVC_RETURN, "eni-blue-a metadata",
                       "tcp,nw_src=169.254.169.254,tp_src=80,"
                       "nw_dst=169.254.128.2");
    assert_non_null(f);
    assert_string_equal(f->actions,
                        "set_field:02:76:70:00:00:c8->eth_src,"
                        "set_field:02:00:00:02:01:0a->eth_dst,"
                        "set_field:10.0.1.10->ip_dst,output:2");
    assert_non_null(find_flow_with(&fs, PL_SVC_RETURN, "eni-blue-a metadata",
                                   "arp_tpa=169.254.128.2"));
    assert_int_equal(count_flows(&fs, PL_METADATA, "eni-red-a metadata"), 2);
    assert_int_equal(count_flows(&fs, PL_SVC_RETURN, "eni-red-a metadata"),
                     2);
    assert_int_equal(count_flows(&fs, PL_METADATA, "eni-green-a metadata"),
                     0);
    assert_int_equal(count_flows(&fs, PL_SVC_RETURN, "eni-green-a metadata"),
                     0);
    /* 2 ENIs x 2, the drop, the miss; 2 ENIs x 2, the miss. */
    assert_int_equal(count_stage(&fs, PL_METADATA), 6);
    assert_int_equal(count_stage(&fs, PL_SVC_RETURN), 5);
    pl_flows_destroy(&fs);

    /* An ofport above 32767 has no service address. */
    b[1].ofport = 40000;
    pl_flows_init(&fs);
    error = pl_compile_host(r, &cfg, &fs);
    assert_null(error);
    assert_int_equal(count_flows(&fs, PL_METADATA, "eni-blue-a metadata"), 0);
    pl_flows_destroy(&fs);

    /* No service port: no metadata flows, 169.254.169.254 still dropped. */
    cfg.metadata_ofport = 0;
    b[1].ofport = 2;
    pl_flows_init(&fs);
    error = pl_compile_host(r, &cfg, &fs);
    assert_null(error);
    assert_int_equal(count_stage(&fs, PL_METADATA), 2);
    assert_int_equal(count_stage(&fs, PL_SVC_RETURN), 1);
    assert_null(find_flow_with(&fs, PL_CLASSIFY, "metadata service", ""));
    pl_flows_destroy(&fs);

    /* An ENI may not be plugged into the service port. */
    cfg.metadata_ofport = 2;
    pl_flows_init(&fs);
    error = pl_compile_host(r, &cfg, &fs);
    assert_non_null(error);
    assert_non_null(strstr(error, "eni-blue-a: ofport 2 cannot carry an "
                           "ENI"));
    free(error);
    pl_flows_destroy(&fs);

    vpc_region_destroy(r);
    free(doc);
    free(text);
}

/* The virtual router answers ARP for its subnet and ping to its addresses,
 * by sending the packet back out of the port it came from. */
static void
test_vrouter(void **state)
{
    struct world w;
    world_example(&w, "web-tier");
    struct trip t;
    uint64_t rmac = 0x0276700003f2ULL;              /* VNI 1010 */

    send_arp(&w, "eni-web-a", "10.10.1.20", &t);
    assert_delivered(&w, &t, "eni-web-a");
    assert_int_equal(t.v.pkt[F_ARP_OP], 2);
    assert_int_equal(t.v.pkt[F_ARP_SHA], rmac);
    assert_int_equal(t.v.pkt[F_DL_SRC], rmac);
    assert_int_equal(t.v.pkt[F_DL_DST], 0x02000010010aULL);
    assert_int_equal(t.v.pkt[F_ARP_THA], 0x02000010010aULL);
    assert_int_equal(t.v.pkt[F_NW_SRC], ip("10.10.1.20"));
    assert_int_equal(t.v.pkt[F_NW_DST], ip("10.10.1.10"));
    send_arp(&w, "eni-web-a", "10.10.1.10", &t);    /* Its own address. */
    assert_dropped(&t, PL_VROUTER);
    send_arp(&w, "eni-web-a", "10.10.2.10", &t);    /* Another subnet. */
    assert_dropped(&t, PL_VROUTER);

    send_pkt(&w, "eni-client-a", "10.10.2.1", PROTO_ICMP, 8 << 8, &t);
    assert_delivered(&w, &t, "eni-client-a");
    assert_int_equal(t.v.pkt[F_NW_SRC], ip("10.10.2.1"));
    assert_int_equal(t.v.pkt[F_NW_DST], ip("10.10.1.20"));
    assert_int_equal(t.v.pkt[F_ICMP_TYPE], 0);
    /* Broadcast and multicast are dropped; a spoofed source too. */
    send_pkt(&w, "eni-web-a", "255.255.255.255", PROTO_UDP, 67, &t);
    assert_dropped(&t, PL_VROUTER);
    send_pkt(&w, "eni-web-a", "224.0.0.5", PROTO_UDP, 67, &t);
    assert_dropped(&t, PL_VROUTER);
    send_pkt_as(&w, "eni-web-a", "10.10.1.99", "10.10.1.20", PROTO_TCP, 80,
                &t);
    assert_dropped(&t, PL_PORT_SEC);
    world_destroy(&w);
}

/* A UDP packet from ENI 'src' (its MAC, or 'mac' if nonzero) from
 * 'src_ip':'sport' to 'dst':'dport'. */
static void
send_udp(struct world *w, const char *src, uint64_t mac, const char *src_ip,
         int sport, const char *dst, int dport, struct trip *t)
{
    const struct vpc_eni *e = vpc_region_find_eni(w->r, src);
    assert_non_null(e);
    struct host_sim *h = world_host(w, e->host);
    uint64_t pkt[N_FLDS] = { 0 };
    pkt[F_IN_PORT] = eni_port(h, src);
    pkt[F_DL_SRC] = mac ? mac : mac_u64(e->mac);
    pkt[F_DL_DST] = 0xffffffffffffULL;
    pkt[F_DL_TYPE] = 0x800;
    pkt[F_NW_PROTO] = PROTO_UDP;
    pkt[F_NW_SRC] = ip_parse_or_fail(src_ip);
    pkt[F_NW_DST] = ip_parse_or_fail(dst);
    pkt[F_NW_TTL] = 64;
    pkt[F_TP_SRC] = sport;
    pkt[F_TP_DST] = dport;
    memset(t, 0, sizeof *t);
    travel(w, h, pkt, t);
}

/* Stage services: DHCP from an ENI (from 0.0.0.0 or its address, with its
 * own MAC) and DNS to the VPC resolver's addresses go to vpcd, nothing
 * else; another ENI's MAC is dropped by port security, and a DHCP request
 * that is not the ENI's is never flooded or routed. */
static void
test_services(void **state)
{
    struct world w;
    world_example(&w, "web-tier");
    struct trip t;

    send_udp(&w, "eni-web-a", 0, "0.0.0.0", 68, "255.255.255.255", 67, &t);
    assert_true(t.v.controller);
    assert_int_equal(t.v.drop_table, pl_stage_table(PL_SERVICES));
    send_udp(&w, "eni-web-a", 0, "10.10.1.10", 68, "10.10.1.1", 67, &t);
    assert_true(t.v.controller);
    /* eni-client-a's MAC from eni-web-a's port: port security. */
    send_udp(&w, "eni-web-a", 0x020000100114ULL, "0.0.0.0", 68,
             "255.255.255.255", 67, &t);
    assert_false(t.v.controller);
    assert_dropped(&t, PL_PORT_SEC);
    /* From 0.0.0.0 but not DHCP. */
    send_udp(&w, "eni-web-a", 0, "0.0.0.0", 68, "255.255.255.255", 53, &t);
    assert_dropped(&t, PL_PORT_SEC);
    /* DHCP with another source port goes nowhere. */
    send_udp(&w, "eni-web-a", 0, "10.10.1.10", 67, "10.10.1.1", 67, &t);
    assert_false(t.v.controller);

    static const char *const resolvers[] = {
        "10.10.1.2", "10.10.0.2", "169.254.169.253",
    };
    for (size_t i = 0; i < ARRAY_SIZE(resolvers); i++) {
        send_udp(&w, "eni-client-a", 0, "10.10.1.20", 40000, resolvers[i],
                 53, &t);
        assert_true(t.v.controller);
    }
    /* Another subnet's +2 is not this ENI's resolver. */
    send_udp(&w, "eni-client-a", 0, "10.10.1.20", 40000, "10.10.2.2", 53,
             &t);
    assert_false(t.v.controller);
    /* Port 53 elsewhere is ordinary traffic. */
    send_udp(&w, "eni-client-a", 0, "10.10.1.20", 40000, "10.10.1.10", 53,
             &t);
    assert_false(t.v.controller);
    world_destroy(&w);
}

/* azure-precedence.json: the appliance (source/dest check off) forwards
 * vm-b's packets with vm-b's source address, on its host and back through
 * the tunnel, where rx_verify accepts them from the appliance's host. */
static void
test_appliance_forwarding(void **state)
{
    struct world w;
    world_example(&w, "azure-precedence");
    struct trip t;
    send_pkt_as(&w, "eni-appliance", "10.20.2.10", "10.20.1.20", PROTO_TCP,
                80, &t);
    assert_delivered(&w, &t, "eni-vm-a");
    send_pkt_as(&w, "eni-appliance", "10.20.1.20", "10.20.2.10", PROTO_TCP,
                80, &t);
    assert_delivered(&w, &t, "eni-vm-b");
    /* vm-a has source/dest check on: it cannot do the same. */
    send_pkt_as(&w, "eni-vm-a", "10.20.2.10", "10.20.1.10", PROTO_TCP, 80,
                &t);
    assert_dropped(&t, PL_PORT_SEC);
    world_destroy(&w);
}

/* ---------------------------------------------------------- isolation */

static void
test_overlapping_isolation(void **state)
{
    struct world w;
    world_example(&w, "overlapping-ips");
    static const struct { const char *src, *dst; uint32_t vni; } cases[] = {
        { "eni-red-a", "eni-red-b", 100 },
        { "eni-blue-a", "eni-blue-b", 200 },
        { "eni-green-a", "eni-green-b", 300 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct trip t;
        send_pkt(&w, cases[i].src, "10.0.1.20", PROTO_TCP, 80, &t);
        assert_int_equal(t.n_tun, 1);
        assert_int_equal(t.tun_id[0], cases[i].vni);
        assert_int_equal(t.tun_dst[0], ip("192.168.100.2"));
        assert_delivered(&w, &t, cases[i].dst);
    }

    /* A red packet (VNI 100) for blue's MAC is not delivered on host-b. */
    struct host_sim *hb = &w.hs[1];
    assert_string_equal(hb->host->id, "host-b");
    uint64_t pkt[N_FLDS] = {
        [F_IN_PORT] = TUNNEL_PORT, [F_TUN_ID] = 100,
        [F_TUN_SRC] = ip("192.168.100.1"), [F_DL_TYPE] = 0x800,
        [F_NW_PROTO] = 6, [F_NW_SRC] = ip("10.0.1.10"),
        [F_NW_DST] = ip("10.0.1.20"), [F_NW_TTL] = 64,
        [F_DL_DST] = 0x020000020114ULL };
    struct verdict v = { .n = 0 };
    sim_run(&hb->sim, &hb->fs, pkt, &v);
    assert_false(v.output);
    assert_int_equal(v.drop_table, pl_stage_table(PL_DST_LOOKUP));

    /* A spoofed inner source (held by no ENI of host-a) fails rx_verify. */
    pkt[F_DL_DST] = 0x020000010114ULL;
    pkt[F_NW_SRC] = ip("10.0.1.99");
    memset(&v, 0, sizeof v);
    sim_run(&hb->sim, &hb->fs, pkt, &v);
    assert_false(v.output);
    assert_int_equal(v.drop_table, pl_stage_table(PL_RX_VERIFY));
    world_destroy(&w);
}

static void
test_peering(void **state)
{
    struct world w;
    world_example(&w, "peering");
    struct trip t;
    send_pkt(&w, "eni-a1", "10.2.1.20", PROTO_TCP, 80, &t);
    assert_delivered(&w, &t, "eni-b2");
    assert_int_equal(t.tun_id[0], 102);
    assert_hit(&t, "rtb-a routes[0]");
    send_pkt(&w, "eni-b2", "10.1.1.10", PROTO_TCP, 80, &t);
    assert_delivered(&w, &t, "eni-a1");
    assert_int_equal(t.tun_id[0], 101);
    send_pkt(&w, "eni-b1", "10.1.1.20", PROTO_TCP, 80, &t);
    assert_delivered(&w, &t, "eni-a2");
    send_pkt(&w, "eni-a1", "10.1.1.20", PROTO_TCP, 80, &t);
    assert_delivered(&w, &t, "eni-a2");
    send_pkt(&w, "eni-a1", "10.3.1.20", PROTO_TCP, 80, &t);
    assert_dropped(&t, PL_ROUTE);
    send_pkt(&w, "eni-c1", "10.1.1.10", PROTO_TCP, 80, &t);
    assert_dropped(&t, PL_ROUTE);
    send_pkt(&w, "eni-c1", "10.3.1.20", PROTO_TCP, 80, &t);
    assert_delivered(&w, &t, "eni-c2");
    world_destroy(&w);
}

/* -------------------------------------------------------- determinism */

static void
test_determinism(void **state)
{
    static const char *examples[] = {
        "web-tier", "overlapping-ips", "peering", "lpm", "azure-precedence",
    };
    for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
        struct vpc_region *r1 = load_example(examples[i]);
        struct vpc_region *r2 = load_example(examples[i]);
        struct pl_flows a, b, c;
        compile(r1, "host-a", &a);
        compile(r1, "host-a", &b);
        compile(r2, "host-a", &c);
        char *ta = flows_text(&a, false), *tb = flows_text(&b, false);
        char *tc = flows_text(&c, false);
        assert_string_equal(ta, tb);
        assert_string_equal(ta, tc);
        free(ta);
        free(tb);
        free(tc);
        pl_flows_destroy(&a);
        pl_flows_destroy(&b);
        pl_flows_destroy(&c);
        vpc_region_destroy(r1);
        vpc_region_destroy(r2);
    }
}

/* Adding a VPC with no ENI on host-a (it has one on host-b) leaves host-a's
 * flows, cookies and register numbers included, unchanged. */
static void
test_unrelated_vpc(void **state)
{
    static const char *examples[] = {
        "web-tier", "overlapping-ips", "peering", "lpm", "azure-precedence",
    };
    for (size_t i = 0; i < ARRAY_SIZE(examples); i++) {
        char *text = example_text(examples[i]);
        char *t1 = append_to_array(text, "vpcs",
            "{\"id\": \"vpc-zz\", \"cidr_blocks\": [\"172.31.0.0/16\"], "
            "\"vni\": 4242}");
        char *t2 = append_to_array(t1, "security_groups",
            "{\"id\": \"sg-zz\", \"vpc\": \"vpc-zz\", \"ingress\": "
            "[{\"protocol\": \"-1\", \"cidr\": \"0.0.0.0/0\"}]}");
        char *t3 = append_to_array(t2, "subnets",
            "{\"id\": \"subnet-zz\", \"vpc\": \"vpc-zz\", "
            "\"cidr\": \"172.31.1.0/24\"}");
        char *t4 = append_to_array(t3, "enis",
            "{\"id\": \"eni-zz\", \"subnet\": \"subnet-zz\", "
            "\"host\": \"host-b\", \"mac\": \"02:00:00:ff:01:0a\", "
            "\"private_ip\": \"172.31.1.10\", "
            "\"security_groups\": [\"sg-zz\"]}");
        struct vpc_region *r1 = load(text), *r2 = load(t4);
        assert_int_equal(r2->n_vpcs, r1->n_vpcs + 1);
        struct pl_flows a, b;
        compile(r1, "host-a", &a);
        compile(r2, "host-a", &b);
        char *ta = flows_text(&a, false), *tb = flows_text(&b, false);
        if (strcmp(ta, tb)) {
            print_error("%s: host-a's flows changed:\n--- before\n%s"
                        "+++ after\n%s", examples[i], ta, tb);
            fail();
        }
        free(ta);
        free(tb);
        pl_flows_destroy(&a);
        pl_flows_destroy(&b);

        /* host-b did notice. */
        compile(r1, "host-b", &a);
        compile(r2, "host-b", &b);
        assert_int_equal(count_stage(&b, PL_MAPPING),
                         count_stage(&a, PL_MAPPING) + 1);
        pl_flows_destroy(&a);
        pl_flows_destroy(&b);
        vpc_region_destroy(r1);
        vpc_region_destroy(r2);
        free(text);
        free(t1);
        free(t2);
        free(t3);
        free(t4);
    }
}

/* ----------------------------------------------------------- mapping */

/* PL_MAP_FLOWS: the mapping stage has one flow per ENI of every VPC in
 * scope on the host (present, or peered with a present one), local or
 * remote, plus the miss: it grows linearly with the remote ENIs.  ENIs of
 * VPCs out of scope cost nothing.  This is the expected behaviour of the
 * flows mode, which the mapping-cache action is meant to replace. */
static void
test_mapping_growth(void **state)
{
    static const int sizes[] = { 0, 1, 5, 40 };
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        int n = sizes[i];
        struct ds enis = DS_EMPTY_INITIALIZER;
        ds_put_cstr(&enis,
                    "{'id':'eni-local','subnet':'subnet-m','host':'host-a',"
                    "'mac':'02:00:00:08:00:01','private_ip':'10.8.1.4'}");
        for (int k = 0; k < n; k++) {
            ds_put_format(&enis,
                ",{'id':'eni-r%d','subnet':'subnet-m','host':'host-b',"
                "'mac':'02:00:00:08:01:%02x','private_ip':'10.8.1.%d'}",
                k, k, 10 + k);
            /* The same number in an unpeered VPC: out of scope. */
            ds_put_format(&enis,
                ",{'id':'eni-o%d','subnet':'subnet-o','host':'host-b',"
                "'mac':'02:00:00:09:01:%02x','private_ip':'10.9.1.%d'}",
                k, k, 10 + k);
        }
        char *body = xasprintf(
            "'vpcs':[{'id':'vpc-m','cidr_blocks':['10.8.0.0/16'],'vni':8},"
            "{'id':'vpc-o','cidr_blocks':['10.9.0.0/16'],'vni':9}],"
            "'subnets':[{'id':'subnet-m','vpc':'vpc-m','cidr':'10.8.1.0/24'},"
            "{'id':'subnet-o','vpc':'vpc-o','cidr':'10.9.1.0/24'}],"
            "'enis':[%s]", ds_cstr(&enis));
        char *doc = inline_doc(body);
        struct vpc_region *r = load(doc);
        struct pl_flows fs;
        compile(r, "host-a", &fs);
        assert_int_equal(count_stage(&fs, PL_MAPPING), n + 2);
        /* Each remote ENI has its own mapping flow, by its id. */
        for (int k = 0; k < n; k++) {
            char ref[16];
            snprintf(ref, sizeof ref, "eni-r%d", k);
            assert_int_equal(count_flows(&fs, PL_MAPPING, ref), 1);
            snprintf(ref, sizeof ref, "eni-o%d", k);
            assert_int_equal(count_flows(&fs, PL_MAPPING, ref), 0);
        }
        pl_flows_destroy(&fs);
        vpc_region_destroy(r);
        free(doc);
        free(body);
        ds_destroy(&enis);
    }

    /* Peering brings the peer's ENIs into scope (peering.json, host-a:
     * vpc-a, b, c present; a and b peered: all six ENIs, plus the miss). */
    struct vpc_region *r = load_example("peering");
    struct pl_flows fs;
    compile(r, "host-a", &fs);
    assert_int_equal(count_stage(&fs, PL_MAPPING), 7);
    pl_flows_destroy(&fs);
    vpc_region_destroy(r);
}

/* --------------------------------------------------------- cookies */

static void
test_cookies(void **state)
{
    struct vpc_region *r = load_example("web-tier");
    struct pl_flows fs;
    compile(r, "host-b", &fs);
    size_t n;
    const struct pl_flow **v = pl_flows_sorted(&fs, &n);
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        const char *ref = pl_flows_ref(&fs, v[i]->cookie);
        assert_non_null(ref);
        assert_string_equal(ref, v[i]->ref);
        /* Upper half: the object id's hash. */
        char *id = xmemdup0(ref, strcspn(ref, " "));
        assert_int_equal(v[i]->cookie >> 32, pl_id_hash(id));
        free(id);
        /* Sorted: table ascending, then priority descending. */
        if (i) {
            assert_true(v[i - 1]->table < v[i]->table
                        || (v[i - 1]->table == v[i]->table
                            && v[i - 1]->priority >= v[i]->priority));
        }
    }
    free(v);
    pl_flows_destroy(&fs);
    vpc_region_destroy(r);
}

/* ------------------------------------------------------- stage successors */

/* The declaration is consistent: successors exist, go forward (OpenFlow's
 * goto_table cannot go back), stay on a bridge that builds them, and only
 * stages that output have no next stage. */
static void
test_stage_successors_declared(void **state OVS_UNUSED)
{
    for (int s = 0; s < PL_N_STAGES; s++) {
        enum pl_stage next = pl_stage_next(s);
        for (int t = 0; t < PL_N_STAGES; t++) {
            if (!pl_stage_may_goto(s, t)) {
                continue;
            }
            assert_true(pl_stage_table(t) > pl_stage_table(s));
            assert_true((pl_stage_on(s, PL_BR_HOST)
                         && pl_stage_on(t, PL_BR_HOST))
                        || (pl_stage_on(s, PL_BR_EDGE)
                            && pl_stage_on(t, PL_BR_EDGE)));
        }
        assert_false(pl_stage_may_goto(s, PL_NONE));
        if (next == PL_NONE) {
            assert_true(s == PL_DELIVER || s == PL_EDGE_OUT
                        || s == PL_EDGE_MAPPING || s == PL_SVC_RETURN);
        } else {
            assert_int_equal(pl_next(s), pl_stage_table(next));
        }
    }
    assert_int_equal(pl_next(PL_CLASSIFY), pl_stage_table(PL_PORT_SEC));
    assert_int_equal(pl_goto_table(PL_CLASSIFY, PL_RX_VERIFY),
                     pl_stage_table(PL_RX_VERIFY));
    assert_false(pl_stage_may_goto(PL_PORT_SEC, PL_ROUTE));
}

/* pl_flow_add() refuses a flow that skips to a table that is not one of its
 * stage's declared successors, by goto_table or through ct(table=). */
static void
test_stage_undeclared_goto_refused(void **state OVS_UNUSED)
{
    struct pl_flows fs;
    pl_flows_init(&fs);
    pl_flow_add(&fs, PL_PORT_SEC, 1, "t", xstrdup("ip"),
                xasprintf("goto_table:%d", pl_stage_table(PL_SERVICES)));
    assert_null(fs.error);
    pl_flow_add(&fs, PL_PORT_SEC, 2, "t", xstrdup("ip"),
                xasprintf("goto_table:%d", pl_stage_table(PL_ROUTE)));
    assert_non_null(fs.error);
    assert_non_null(strstr(fs.error, "port_sec goes to table 50"));
    pl_flows_destroy(&fs);

    pl_flows_init(&fs);
    pl_flow_add(&fs, PL_SG_OUT_CT, 0, "t", xstrdup("ip"),
                xasprintf("ct(table=%d,zone=1)", pl_stage_table(PL_SG_IN)));
    assert_non_null(fs.error);
    pl_flows_destroy(&fs);
}

/* One security group with 70,000 rules: its references "sg-web
 * ingress[K]" collide in 32 bits (8918 and 65102, among others), and every
 * one must still get a cookie of its own, under the group's upper half. */
static void
test_cookies_many_rules(void **state)
{
    assert_int_equal(pl_id_hash("sg-web ingress[8918]"),
                     pl_id_hash("sg-web ingress[65102]"));
    enum { N_RULES = 70000 };
    struct ds rules = DS_EMPTY_INITIALIZER;
    for (int k = 0; k < N_RULES; k++) {
        ds_put_format(&rules, "%s{'protocol':'%s','from_port':%d,"
                      "'to_port':%d,'cidr':'0.0.0.0/0'}", k ? "," : "",
                      k < 65535 ? "tcp" : "udp", k % 65535 + 1,
                      k % 65535 + 1);
    }
    char *body = xasprintf(
        "'vpcs':[{'id':'vpc-web','cidr_blocks':['10.10.0.0/16'],"
        "'vni':1010}],"
        "'subnets':[{'id':'subnet-web','vpc':'vpc-web',"
        "'cidr':'10.10.1.0/24'}],"
        "'security_groups':[{'id':'sg-web','vpc':'vpc-web',"
        "'ingress':[%s],'egress':[]}],"
        "'enis':[{'id':'eni-web-a','subnet':'subnet-web','host':'host-a',"
        "'mac':'02:00:00:10:01:0a','private_ip':'10.10.1.10',"
        "'security_groups':['sg-web']}]", ds_cstr(&rules));
    char *doc = inline_doc(body);
    struct vpc_region *r = load(doc);
    struct pl_flows fs;
    compile(r, "host-a", &fs);
    assert_null(fs.error);

    /* Every rule's flow is there, and no two references share a cookie. */
    struct hmap cookies = HMAP_INITIALIZER(&cookies);
    size_t n_rule_refs = 0;
    const struct pl_flow *f;
    HMAP_FOR_EACH (f, node, &fs.flows) {
        assert_string_equal(pl_flows_ref(&fs, f->cookie), f->ref);
        if (!strncmp(f->ref, "sg-web ingress[", 15)) {
            assert_int_equal(f->cookie >> 32, pl_id_hash("sg-web"));
        }
    }
    struct pl_ref_seen {
        struct hmap_node node;
        uint64_t cookie;
        const char *ref;
    } *seen;
    HMAP_FOR_EACH (f, node, &fs.flows) {
        bool dup = false;
        HMAP_FOR_EACH_WITH_HASH (seen, node, hash_uint64(f->cookie),
                                 &cookies) {
            if (seen->cookie == f->cookie) {
                assert_string_equal(seen->ref, f->ref);
                dup = true;
            }
        }
        if (!dup) {
            seen = xmalloc(sizeof *seen);
            seen->cookie = f->cookie;
            seen->ref = f->ref;
            hmap_insert(&cookies, &seen->node, hash_uint64(f->cookie));
            n_rule_refs += !strncmp(f->ref, "sg-web ingress[", 15);
        }
    }
    assert_int_equal(n_rule_refs, N_RULES);
    HMAP_FOR_EACH_POP (seen, node, &cookies) {
        free(seen);
    }
    hmap_destroy(&cookies);

    /* The same document gets the same cookies. */
    struct pl_flows again;
    compile(r, "host-a", &again);
    HMAP_FOR_EACH (f, node, &fs.flows) {
        const struct pl_flow *g = pl_flows_find(&again, f->table,
                                                f->priority, f->match);
        assert_non_null(g);
        assert_int_equal(g->cookie, f->cookie);
    }
    pl_flows_destroy(&again);
    pl_flows_destroy(&fs);
    vpc_region_destroy(r);
    free(doc);
    free(body);
    ds_destroy(&rules);
}

/* The trace grammar's numbers are strict: "dport https" and "443abc" are
 * refused with a message naming the word, not traced as port 0 or 443. */
static void
test_trace_strict_numbers(void **state)
{
    struct vpc_region *r = load_example("web-tier");
    struct pl_binding *b;
    size_t nb = doc_order_bindings(r, "host-a", &b);
    struct pl_host_config cfg = {
        .host_id = "host-a", .bindings = b, .n_bindings = nb,
        .tunnel_ofport = TUNNEL_PORT, .mapping = PL_MAP_FLOWS,
    };
    static const struct { const char *spec, *want; } cases[] = {
        { "from eni-client-a to 10.10.1.10 tcp dport 443", "tcp_dst=443" },
        { "from eni-client-a to 10.10.1.10 tcp dport 0", "tcp_dst=0" },
        { "from eni-client-a to 10.10.1.10 udp dport 65535",
          "udp_dst=65535" },
        { "from eni-client-a to 10.10.1.10 tcp sport 1024 dport 22",
          "tcp_src=1024" },
        { "from eni-client-a to 10.10.1.10 icmp type 0", "icmp_type=0" },
        { "from eni-client-a to 10.10.1.10 proto 47", "nw_proto=47" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *error;
        char *flow = pl_trace_microflow(r, &cfg, cases[i].spec, &error);
        if (!flow) {
            print_error("%s: %s\n", cases[i].spec, error);
        }
        assert_non_null(flow);
        assert_non_null(strstr(flow, cases[i].want));
        free(flow);
    }
    static const struct { const char *spec, *want; } bad[] = {
        { "from eni-client-a to 10.10.1.10 tcp dport https",
          "dport \"https\": not a port number" },
        { "from eni-client-a to 10.10.1.10 tcp dport 443abc",
          "dport \"443abc\": not a port number" },
        { "from eni-client-a to 10.10.1.10 tcp dport 65536",
          "dport \"65536\": not a port number" },
        { "from eni-client-a to 10.10.1.10 tcp dport -1",
          "dport \"-1\": not a port number" },
        { "from eni-client-a to 10.10.1.10 udp sport x", "sport \"x\"" },
        { "from eni-client-a to 10.10.1.10 icmp type 256", "type \"256\"" },
        { "from eni-client-a to 10.10.1.10 ttl 1x", "ttl \"1x\"" },
        { "from eni-client-a to 10.10.1.10 proto tcp", "proto \"tcp\"" },
        { "from eni-client-a to 10.10.1.10 tcp dport", "dport" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char *error = NULL;
        char *flow = pl_trace_microflow(r, &cfg, bad[i].spec, &error);
        if (flow || !error || !strstr(error, bad[i].want)) {
            print_error("%s: got flow %s, error %s; wanted %s\n",
                        bad[i].spec, flow ? flow : "(none)",
                        error ? error : "(none)", bad[i].want);
        }
        assert_null(flow);
        assert_non_null(error);
        assert_non_null(strstr(error, bad[i].want));
        free(error);
    }
    free(b);
    vpc_region_destroy(r);
}

/* The trace grammar's start points beyond an ENI ("from tunnel", "src",
 * "from uplink"), --ct-state, and the packet as it arrives at the next
 * host: each a strict form whose errors name the word. */
static void
test_trace_start_points(void **state)
{
    struct vpc_region *r = load_example("web-tier");
    struct pl_binding *b;
    size_t nb = doc_order_bindings(r, "host-b", &b);
    struct pl_host_config cfg = {
        .host_id = "host-b", .bindings = b, .n_bindings = nb,
        .tunnel_ofport = TUNNEL_PORT, .mapping = PL_MAP_FLOWS,
    };
    char *error;
    char *flow = pl_trace_microflow(
        r, &cfg, "from tunnel 192.168.100.1 vni 1010 src 10.10.1.10 to "
        "10.10.2.10 tcp dport 8080", &error);
    assert_non_null(flow);
    /* The destination ENI's MAC, the router MAC as source. */
    assert_non_null(strstr(flow, ",tun_id=1010,tun_src=192.168.100.1,"
                           "tun_dst=192.168.100.2,dl_src=02:76:70:00:03:f2,"
                           "dl_dst=02:00:00:10:02:0a,tcp,nw_src=10.10.1.10,"
                           "nw_dst=10.10.2.10"));
    free(flow);
    flow = pl_trace_microflow(r, &cfg, "from eni-app-b src 10.10.2.99 to "
                              "10.10.1.10 udp dport 53", &error);
    assert_non_null(flow);
    assert_non_null(strstr(flow, "nw_src=10.10.2.99,nw_dst=10.10.1.10"));
    assert_non_null(strstr(flow, "udp_dst=53"));
    free(flow);

    static const struct { const char *spec, *want; } bad[] = {
        { "from tunnel 192.168.100.1 vni 1010 to 10.10.2.10",
          "expected 'from tunnel UNDERLAY-IP vni N src IP to IP" },
        { "from tunnel 192.168.100 vni 1010 src 10.10.1.10 to 10.10.2.10",
          "tunnel \"192.168.100\": not an IPv4 address" },
        { "from tunnel 192.168.100.1 vni 16777216 src 10.10.1.10 to "
          "10.10.2.10", "vni \"16777216\": not a VNI" },
        { "from tunnel 192.168.100.1 vni 0x3f2 src 10.10.1.10 to "
          "10.10.2.10", "vni \"0x3f2\": not a VNI" },
        { "from tunnel 192.168.100.1 vni 7 src 10.10.1.10 to 10.10.2.10",
          "vni 7: no VPC of the region has this VNI" },
        { "from eni-app-b src to 10.10.1.10", "src \"to\": not an IPv4" },
        { "from eni-app-b src 10.10.2.99", "expected 'to IP' after the "
          "source" },
        { "from eni-app-b to 10.10.1.10 icmp sport 5",
          "dport and sport need tcp or udp" },
        { "from uplink src 8.8.8.8 to 203.0.113.10",
          "host-b is not an edge with an uplink port" },
        { "from uplink 8.8.8.8 to 203.0.113.10",
          "expected 'from uplink src IP to IP" },
        { "from vpn src 172.16.0.5 to 10.10.2.10",
          "host-b is not an edge with a VPN port" },
        { "from vpn 172.16.0.5", "expected 'from vpn src IP to IP" },
        { "from eni-web-a to 10.10.1.10", "eni-web-a is not plugged into "
          "host host-b" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        error = NULL;
        flow = pl_trace_microflow(r, &cfg, bad[i].spec, &error);
        if (flow || !error || !strstr(error, bad[i].want)) {
            print_error("%s: got flow %s, error %s; wanted %s\n",
                        bad[i].spec, flow ? flow : "(none)",
                        error ? error : "(none)", bad[i].want);
        }
        assert_null(flow);
        assert_non_null(error);
        assert_non_null(strstr(error, bad[i].want));
        free(error);
    }

    char *ct;
    assert_null(pl_trace_ct_args(NULL, &ct));
    assert_string_equal(ct, "trk,new");
    free(ct);
    assert_null(pl_trace_ct_args("est,rpl", &ct));
    assert_string_equal(ct, "trk,est,rpl");
    free(ct);
    error = pl_trace_ct_args("est,reply", &ct);
    assert_non_null(error);
    assert_non_null(strstr(error, "\"reply\""));
    assert_null(ct);
    free(error);
    error = pl_trace_ct_args(",", &ct);
    assert_non_null(error);
    free(error);

    /* Arriving at the next host: the tunnel fields, the sender's final
     * packet without registers, metadata or its tunnel fields, L4 ports
     * named for the protocol. */
    struct pl_trace_result tr = {
        .final_flow = "recirc_id=0x1,eth,tcp,reg0=0x1,tun_src=0.0.0.0,"
                      "tun_dst=192.168.100.2,in_port=1,vlan_tci=0x0000,"
                      "dl_src=02:76:70:00:03:f2,dl_dst=02:00:00:10:02:0a,"
                      "nw_src=10.10.1.10,nw_dst=10.10.2.10,nw_tos=0,"
                      "nw_ecn=0,nw_ttl=63,nw_frag=no,tp_src=40000,"
                      "tp_dst=22,tcp_flags=0",
    };
    struct pl_trace_verdict v = { .vni = 1010 };
    uint32_t a, bb;
    assert_true(vpc_ip_parse("192.168.100.1", &a));
    assert_true(vpc_ip_parse("192.168.100.2", &bb));
    flow = pl_trace_arrival("in_port=1", &tr, &v, a, bb, 1000);
    assert_string_equal(flow, "in_port=1000,tun_id=1010,"
                        "tun_src=192.168.100.1,tun_dst=192.168.100.2,tcp,"
                        "dl_src=02:76:70:00:03:f2,dl_dst=02:00:00:10:02:0a,"
                        "nw_src=10.10.1.10,nw_dst=10.10.2.10,nw_tos=0,"
                        "nw_ttl=63,tcp_src=40000,tcp_dst=22");
    free(flow);
    free(b);
    vpc_region_destroy(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_tables),
        cmocka_unit_test(test_stage_successors_declared),
        cmocka_unit_test(test_stage_undeclared_goto_refused),
        cmocka_unit_test(test_golden_web_tier),
        cmocka_unit_test(test_golden_overlapping),
        cmocka_unit_test(test_golden_peering),
        cmocka_unit_test(test_golden_lpm),
        cmocka_unit_test(test_golden_azure),
        cmocka_unit_test(test_sim_basics),
        cmocka_unit_test(test_lpm),
        cmocka_unit_test(test_azure_precedence),
        cmocka_unit_test(test_aws_precedence),
        cmocka_unit_test(test_sg_group_reference),
        cmocka_unit_test(test_sg_ports_and_icmp),
        cmocka_unit_test(test_web_tier),
        cmocka_unit_test(test_flow_logs),
        cmocka_unit_test(test_vrouter),
        cmocka_unit_test(test_metadata_stages),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_appliance_forwarding),
        cmocka_unit_test(test_overlapping_isolation),
        cmocka_unit_test(test_peering),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_unrelated_vpc),
        cmocka_unit_test(test_mapping_growth),
        cmocka_unit_test(test_cookies),
        cmocka_unit_test(test_cookies_many_rules),
        cmocka_unit_test(test_trace_strict_numbers),
        cmocka_unit_test(test_trace_start_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
