/* cli/vpcctl.c: the ovs-vpc command line.
 *
 *   vpcctl validate FILE
 *   vpcctl compile FILE --host H
 *   vpcctl apply FILE --host H
 *   vpcctl trace FILE --host H 'from eni-x to 10.0.2.7 tcp dport 443'
 *   vpcctl vpn-config FILE --host EDGE [DIR]
 *   vpcctl pipeline-doc
 *   vpcctl --region-db=REMOTES load FILE | dump | status
 *
 * Commands live in one table (like ovs-ofctl's), each with its usage. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/export-ovn.h"
#include "cli/ovs-client.h"
#include "cli/vpn-config.h"
#include "jsonrpc.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "pipeline/pipeline.h"
#include "regiondb/regiondb.h"
#include "regiondb/scope.h"
#include "translator/model.h"
#include "util.h"

/* Options shared by the commands. */
static const char *opt_host;
static const char *opt_bridge = "br-int";
static char *opt_db;
static const char *opt_region_db;
static char *opt_switch;
static char *opt_appctl;
static int opt_tunnel_port = -1;
static int opt_uplink_port, opt_dx_port, opt_vpn_port;
static const char *opt_psk_dir;
static bool opt_annotate;
static bool opt_dry_run;
static enum pl_mapping_mode opt_mapping = PL_MAP_FLOWS;
static struct pl_binding *opt_bindings;
static size_t opt_n_bindings;

struct command {
    const char *name;
    const char *args;
    int min_args, max_args;
    int (*handler)(int argc, char *argv[]);
    const char *help;
};

static const struct command *find_command(const char *);
static void usage(void);

/* Loads 'file', printing every error.  Returns NULL if invalid. */
static struct vpc_region *
load_region(const char *file)
{
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_region *r = vpc_region_from_file(file, &errs);
    if (!r) {
        fprintf(stderr, "%s: %"PRIuSIZE" error%s:\n", file, errs.n,
                errs.n == 1 ? "" : "s");
        for (size_t i = 0; i < errs.n; i++) {
            fprintf(stderr, "  %s\n", errs.msgs[i]);
        }
    }
    vpc_errors_destroy(&errs);
    return r;
}

static int
cmd_validate(int argc OVS_UNUSED, char *argv[])
{
    struct vpc_region *r = load_region(argv[1]);
    if (!r) {
        return 1;
    }
    printf("%s: valid: %"PRIuSIZE" VPCs, %"PRIuSIZE" subnets, %"PRIuSIZE
           " ENIs, %"PRIuSIZE" security groups, %"PRIuSIZE" route tables, %"
           PRIuSIZE" hosts\n", argv[1], r->n_vpcs, r->n_subnets, r->n_enis,
           r->n_sgs, r->n_route_tables, r->n_hosts);
    vpc_region_destroy(r);
    return 0;
}

/* Fills 'cfg' for --host: bindings and tunnel port from --bind and
 * --tunnel-port if given, else from OVSDB ('need_db' forces OVSDB). */
static char *
host_config(struct pl_host_config *cfg, bool need_db,
            struct pl_binding **owned, size_t *n_owned)
{
    memset(cfg, 0, sizeof *cfg);
    *owned = NULL;
    *n_owned = 0;
    if (!opt_host) {
        return xstrdup("--host is required");
    }
    cfg->host_id = opt_host;
    cfg->mapping = opt_mapping;
    cfg->bindings = opt_bindings;
    cfg->n_bindings = opt_n_bindings;
    cfg->tunnel_ofport = opt_tunnel_port;
    cfg->uplink_ofport = opt_uplink_port;
    cfg->dx_ofport = opt_dx_port;
    cfg->vpn_ofport = opt_vpn_port;

    if (need_db || (!opt_n_bindings && opt_tunnel_port < 0) || opt_db) {
        char *db = opt_db ? xstrdup(opt_db) : vpc_default_db();
        struct vpc_ovs_ports ports;
        char *error = vpc_ovsdb_read_bindings(db, owned, n_owned, &ports);
        free(db);
        if (error) {
            char *e = xasprintf("%s\n(offline, give --bind ENI=OFPORT and "
                                "--tunnel-port N instead)", error);
            free(error);
            return e;
        }
        if (!opt_n_bindings) {
            cfg->bindings = *owned;
            cfg->n_bindings = *n_owned;
        }
        cfg->uplink_ofport = opt_uplink_port ? opt_uplink_port
                                             : ports.uplink;
        cfg->dx_ofport = opt_dx_port ? opt_dx_port : ports.dx;
        cfg->vpn_ofport = opt_vpn_port ? opt_vpn_port : ports.vpn;
        if (opt_tunnel_port < 0) {
            cfg->tunnel_ofport = ports.tunnel;
        }
    }
    if (cfg->tunnel_ofport <= 0) {
        return xstrdup("no Geneve tunnel port: add one to the bridge "
                       "(type=geneve, options:remote_ip=flow, "
                       "options:key=flow) or give --tunnel-port");
    }
    return NULL;
}

static void
free_bindings(struct pl_binding *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(CONST_CAST(char *, b[i].eni_id));
    }
    free(b);
}

/* Loads FILE and compiles --host into 'flows' (initialized here).  Returns
 * the region, or NULL after printing why not; then 'flows' needs no
 * cleanup. */
static struct vpc_region *
load_and_compile(const char *file, bool need_db, struct pl_flows *flows)
{
    pl_flows_init(flows);
    struct vpc_region *r = load_region(file);
    if (!r) {
        pl_flows_destroy(flows);
        return NULL;
    }
    struct pl_host_config cfg;
    struct pl_binding *owned;
    size_t n_owned;
    char *error = host_config(&cfg, need_db, &owned, &n_owned);
    if (!error) {
        error = pl_compile_host(r, &cfg, flows);
    }
    free_bindings(owned, n_owned);
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        vpc_region_destroy(r);
        pl_flows_destroy(flows);
        return NULL;
    }
    return r;
}

static int
cmd_compile(int argc OVS_UNUSED, char *argv[])
{
    struct pl_flows flows;
    struct vpc_region *r = load_and_compile(argv[1], false, &flows);
    if (!r) {
        return 1;
    }
    size_t n;
    const struct pl_flow **v = pl_flows_sorted(&flows, &n);
    int table = -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i]->table != table) {
            table = v[i]->table;
            int s = pl_stage_by_table(table);
            printf("# table %d: %s\n", table, s >= 0 ? pl_stage_label(s)
                                                     : "?");
        }
        if (opt_annotate) {
            printf("#   from %s\n", v[i]->ref);
        }
        char *s = pl_flow_to_string(v[i]);
        puts(s);
        free(s);
    }
    fprintf(stderr, "%s: %"PRIuSIZE" flows for host %s\n", argv[1], n,
            opt_host);
    free(v);
    pl_flows_destroy(&flows);
    vpc_region_destroy(r);
    return 0;
}

/* Host --host's mapping-cache entries. */
static char *
host_mapping(const struct vpc_region *r, struct pl_mapping_entry **e,
             size_t *n)
{
    struct pl_host_config cfg;
    struct pl_binding *owned;
    size_t n_owned;
    char *error = host_config(&cfg, false, &owned, &n_owned);
    *e = NULL;
    *n = 0;
    if (!error) {
        error = pl_mapping_entries(r, &cfg, e, n);
    }
    free_bindings(owned, n_owned);
    return error;
}

/* Replaces ovs-vswitchd's mapping cache with host --host's entries, in one
 * generation swap (vpcmap/load). */
static char *
load_mapping_cache(const struct vpc_region *r)
{
    struct pl_mapping_entry *e;
    size_t n;
    char *error = host_mapping(r, &e, &n);
    if (!error) {
        char *ctl = opt_appctl ? xstrdup(opt_appctl)
                               : vpc_default_vswitchd_ctl();
        char *reply;
        error = vpc_mapping_load(ctl, e, n, &reply);
        if (!error) {
            printf("mapping cache: %s", reply);
        }
        free(reply);
        free(ctl);
    }
    free(e);
    return error;
}

static int
cmd_mapping(int argc OVS_UNUSED, char *argv[])
{
    struct vpc_region *r = load_region(argv[1]);
    if (!r) {
        return 1;
    }
    struct pl_mapping_entry *e;
    size_t n;
    char *error = host_mapping(r, &e, &n);
    if (!error) {
        vpc_mapping_write(stdout, e, n);
    }
    free(e);
    vpc_region_destroy(r);
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        return 1;
    }
    fprintf(stderr, "%s: %"PRIuSIZE" mapping-cache entries for host %s\n",
            argv[1], n, opt_host);
    return 0;
}

static int
cmd_apply(int argc OVS_UNUSED, char *argv[])
{
    struct pl_flows flows;
    struct vpc_region *r = load_and_compile(argv[1], true, &flows);
    if (!r) {
        fprintf(stderr, "vpcctl: nothing applied\n");
        return 1;
    }
    char *target = opt_switch ? xstrdup(opt_switch)
                              : vpc_default_switch(opt_bridge);
    struct vpc_apply_stats st;
    char *error = NULL;
    if (opt_mapping == PL_MAP_ACTION && !opt_dry_run) {
        /* The cache first: the flows that use it must find it full. */
        error = load_mapping_cache(r);
    }
    if (!error) {
        error = vpc_apply_flows(target, &flows, opt_dry_run, &st);
    }
    int status = 0;
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        status = 1;
    } else {
        printf("%s %s: %"PRIuSIZE" flows: %"PRIuSIZE" added, %"PRIuSIZE
               " modified, %"PRIuSIZE" deleted, %"PRIuSIZE" unchanged\n",
               opt_dry_run ? "would apply to" : "applied to", target,
               hmap_count(&flows.flows), st.added, st.modified, st.deleted,
               st.unchanged);
    }
    free(target);
    pl_flows_destroy(&flows);
    vpc_region_destroy(r);
    return status;
}

/* ------------------------------------------------------------------ trace */

/* Turns "from eni-x to 10.0.2.7 [tcp|udp [dport N] [sport N] | icmp
 * [type N] | proto N] [ttl N]" or "from eni-x arp 10.0.1.1" into a
 * microflow for ofproto/trace.  Returns NULL and sets '*error' on failure. */
static char *
trace_flow(const struct vpc_region *r, const struct pl_host_config *cfg,
           const char *spec, char **error)
{
    char *copy = xstrdup(spec), *save = NULL;
    char *words[32];
    size_t n = 0;
    for (char *w = strtok_r(copy, " \t", &save); w && n < 32;
         w = strtok_r(NULL, " \t", &save)) {
        words[n++] = w;
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    *error = NULL;
    const struct vpc_eni *src = NULL;
    int ofport = -1;
    if (n < 3 || strcmp(words[0], "from")
        || !(src = vpc_region_find_eni(r, words[1]))) {
        *error = xasprintf("\"%s\": expected 'from ENI-ID to IP ...' with an "
                           "ENI of the region", spec);
        goto out;
    }
    for (size_t i = 0; i < cfg->n_bindings; i++) {
        if (!strcmp(cfg->bindings[i].eni_id, src->id)) {
            ofport = cfg->bindings[i].ofport;
        }
    }
    if (ofport < 0 || src->host != vpc_region_find_host(r, cfg->host_id)) {
        *error = xasprintf("%s is not plugged into host %s", src->id,
                           cfg->host_id);
        goto out;
    }
    struct eth_addr rmac = vpc_router_mac(src->subnet->vpc);
    char sip[16];
    vpc_ip_format(src->ip, sip);
    uint32_t ip;
    if (!strcmp(words[2], "arp") && n == 4 && vpc_ip_parse(words[3], &ip)) {
        ds_put_format(&ds, "in_port=%d,arp,dl_src="ETH_ADDR_FMT","
                      "dl_dst=ff:ff:ff:ff:ff:ff,arp_op=1,arp_spa=%s,"
                      "arp_tpa=%s,arp_sha="ETH_ADDR_FMT, ofport,
                      ETH_ADDR_ARGS(src->mac), sip, words[3],
                      ETH_ADDR_ARGS(src->mac));
        goto out;
    }
    if (strcmp(words[2], "to") || n < 4 || !vpc_ip_parse(words[3], &ip)) {
        *error = xasprintf("\"%s\": expected 'to IP' or 'arp IP' after the "
                           "ENI", spec);
        goto out;
    }
    const char *proto = "icmp";
    int dport = -1, sport = -1, type = 8, ttl = 64, nw_proto = -1;
    for (size_t i = 4; i < n; i++) {
        bool has_arg = i + 1 < n;
        if (!strcmp(words[i], "tcp") || !strcmp(words[i], "udp")
            || !strcmp(words[i], "icmp")) {
            proto = words[i];
        } else if (!strcmp(words[i], "dport") && has_arg) {
            dport = atoi(words[++i]);
        } else if (!strcmp(words[i], "sport") && has_arg) {
            sport = atoi(words[++i]);
        } else if (!strcmp(words[i], "type") && has_arg) {
            type = atoi(words[++i]);
        } else if (!strcmp(words[i], "ttl") && has_arg) {
            ttl = atoi(words[++i]);
        } else if (!strcmp(words[i], "proto") && has_arg) {
            nw_proto = atoi(words[++i]);
            proto = "ip";
        } else {
            *error = xasprintf("\"%s\": unexpected \"%s\"", spec, words[i]);
            goto out;
        }
    }
    ds_put_format(&ds, "in_port=%d,dl_src="ETH_ADDR_FMT",dl_dst="
                  ETH_ADDR_FMT",%s,nw_src=%s,nw_dst=%s,nw_ttl=%d", ofport,
                  ETH_ADDR_ARGS(src->mac), ETH_ADDR_ARGS(rmac), proto, sip,
                  words[3], ttl);
    if (nw_proto >= 0) {
        ds_put_format(&ds, ",nw_proto=%d", nw_proto);
    } else if (!strcmp(proto, "icmp")) {
        ds_put_format(&ds, ",icmp_type=%d,icmp_code=0", type);
    } else {
        /* "tp_src" means tcp_src to OVS's flow parser: name the field. */
        ds_put_format(&ds, ",%s_src=%d,%s_dst=%d", proto,
                      sport >= 0 ? sport : 40000, proto,
                      dport >= 0 ? dport : 80);
    }
out:
    free(copy);
    if (*error) {
        ds_destroy(&ds);
        return NULL;
    }
    return ds_steal_cstr(&ds);
}

/* What one ofproto/trace run ended with. */
struct trace_result {
    const char *last_stage;     /* Label of the last stage a flow matched. */
    const char *last_ref;       /* Intent of that flow, or NULL. */
    bool dropped;               /* The last flow dropped, or no match. */
    char *dp_actions;           /* "Datapath actions: ..." line. */
    char *tun_id, *tun_dst;     /* Last set_field to those, if any. */
};

static void
trace_result_destroy(struct trace_result *tr)
{
    free(tr->dp_actions);
    free(tr->tun_id);
    free(tr->tun_dst);
}

/* Prints ofproto/trace output 'out' with each table line labelled by its
 * stage and the intent that made the flow, and fills 'tr'. */
static void
annotate_trace(const char *out, const struct pl_flows *flows,
               struct trace_result *tr)
{
    char *copy = xstrdup(out), *save = NULL;
    bool after_table = false;

    memset(tr, 0, sizeof *tr);
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        int table, indent = strspn(line, " ");
        const char *body = line + indent;
        const char *cookie = strstr(line, ", cookie 0x");
        if (sscanf(body, "%d.", &table) == 1
            && (cookie || strstr(line, "No match"))) {
            int s = pl_stage_by_table(table);
            tr->last_stage = s >= 0 ? pl_stage_label(s) : "?";
            tr->last_ref = cookie ? pl_flows_ref(flows, strtoull(cookie + 9,
                                                                 NULL, 16))
                                  : NULL;
            printf("%*s[%s] %s%s%s\n", indent, "", tr->last_stage, body,
                   tr->last_ref ? "   <- " : "",
                   tr->last_ref ? tr->last_ref : "");
            after_table = true;
            tr->dropped = strstr(line, "No match") != NULL;
            continue;
        }
        if (after_table) {
            tr->dropped = tr->dropped || !strcmp(body, "drop");
            after_table = false;
        }
        char **dst = (!strncmp(body, "set_field:", 10)
                      ? (strstr(body, "->tun_id") ? &tr->tun_id
                         : strstr(body, "->tun_dst") ? &tr->tun_dst : NULL)
                      : NULL);
        if (dst) {
            free(*dst);
            *dst = xmemdup0(body + 10, strstr(body, "->") - body - 10);
        } else if (!strncmp(body, "Datapath actions: ", 18)) {
            free(tr->dp_actions);
            tr->dp_actions = xstrdup(body + 18);
        }
        puts(line);
    }
    free(copy);
}

static int
run_trace(const char *flow, const struct pl_flows *flows,
          struct trace_result *tr)
{
    char *ctl = opt_appctl ? xstrdup(opt_appctl) : vpc_default_vswitchd_ctl();
    /* Both conntrack passes see a new connection. */
    char *args[] = { CONST_CAST(char *, opt_bridge), CONST_CAST(char *, flow),
                     "--ct-next", "trk,new", "--ct-next", "trk,new" };
    char *output;
    printf("Flow: %s\n\n", flow);
    char *error = vpc_appctl(ctl, "ofproto/trace", ARRAY_SIZE(args), args,
                             &output);
    free(ctl);
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        return 1;
    }
    annotate_trace(output, flows, tr);
    free(output);
    return 0;
}

/* The ENI the mapping cache of host 'cfg' resolves (VNI, 'ip') to. */
static const struct vpc_eni *
cache_lookup(const struct vpc_region *r, const struct pl_host_config *cfg,
             uint32_t vni, uint32_t ip)
{
    struct pl_mapping_entry *entries;
    size_t n;
    const struct vpc_eni *eni = NULL;
    char *error = pl_mapping_entries(r, cfg, &entries, &n);
    for (size_t i = 0; !error && i < n && !eni; i++) {
        if (entries[i].vni == vni && entries[i].ip == ip) {
            for (size_t k = 0; k < r->n_enis && !eni; k++) {
                if (r->enis[k].ip == ip && r->enis[k].subnet->vpc->vni
                    == vni) {
                    eni = &r->enis[k];
                }
            }
        }
    }
    free(error);
    free(entries);
    return eni;
}

static void
print_verdict(const struct trace_result *tr, const char *prefix,
              const char *dst, uint32_t vni, const char *ref)
{
    printf("\nVerdict: %s", prefix);
    if (dst) {
        printf(" to %s, VNI %"PRIu32",", dst, vni);
    }
    printf(" in stage %s%s%s\n", tr->last_stage ? tr->last_stage : "?",
           ref ? " by " : "", ref ? ref : "");
}

static int
cmd_trace(int argc OVS_UNUSED, char *argv[])
{
    struct pl_flows flows;
    struct vpc_region *r = load_and_compile(argv[1], false, &flows);
    if (!r) {
        return 1;
    }
    struct pl_host_config cfg;
    struct pl_binding *owned;
    size_t n_owned;
    char *error = host_config(&cfg, false, &owned, &n_owned);
    char *flow = NULL;
    if (!error) {
        flow = trace_flow(r, &cfg, argv[2], &error);
    }
    struct trace_result tr;
    memset(&tr, 0, sizeof tr);
    int status = 1;
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
    } else if (!run_trace(flow, &flows, &tr)) {
        status = 0;
        const char *vpc_encap = (tr.dp_actions
                                 ? strstr(tr.dp_actions, "vpc_encap(vni=")
                                 : NULL);
        const struct vpc_host *self = vpc_region_find_host(r, opt_host);
        if (!tr.dp_actions) {
            printf("\nVerdict: UNKNOWN (no datapath actions)\n");
        } else if (!strcmp(tr.dp_actions, "drop") || tr.dropped) {
            print_verdict(&tr, "DROPPED", NULL, 0, tr.last_ref);
        } else if (vpc_encap) {
            /* The mapping cache decides per packet: resolve it here the
             * way the datapath will. */
            uint32_t vni = strtoul(vpc_encap + 14, NULL, 10);
            const char *to = strstr(flow, ",nw_dst=");
            uint32_t ip = 0;
            char ipbuf[16] = "";
            if (to) {
                ovs_strlcpy(ipbuf, to + 8, MIN(sizeof ipbuf,
                                               strcspn(to + 8, ",") + 1));
                vpc_ip_parse(ipbuf, &ip);
            }
            const struct vpc_eni *e = cache_lookup(r, &cfg, vni, ip);
            if (!e) {
                printf("\nvpc_encap: no mapping for VNI %"PRIu32" %s: the "
                       "datapath drops it\n", vni, ipbuf);
                print_verdict(&tr, "DROPPED", NULL, 0, "the mapping cache");
            } else if (e->host != self) {
                char hip[16];
                vpc_ip_format(e->host->underlay_ip, hip);
                print_verdict(&tr, "ENCAPSULATED", hip, vni, e->id);
            } else {
                /* A local ENI: the datapath loops the packet back in as
                 * tunnel traffic from this host.  Follow it. */
                char hip[16];
                vpc_ip_format(self->underlay_ip, hip);
                struct eth_addr rmac = vpc_router_mac(e->subnet->vpc);
                const char *l3 = strstr(flow, ",dl_dst=");
                l3 = l3 ? strchr(l3 + 1, ',') : "";
                char *flow2 = xasprintf(
                    "in_port=%d,tun_id=%"PRIu32",tun_src=%s,tun_dst=%s,"
                    "dl_src="ETH_ADDR_FMT",dl_dst="ETH_ADDR_FMT"%s",
                    cfg.tunnel_ofport, vni, hip, hip, ETH_ADDR_ARGS(rmac),
                    ETH_ADDR_ARGS(e->mac), l3);
                printf("\nvpc_encap: %s is on this host; the datapath loops "
                       "the packet back in as tunnel traffic:\n\n", e->id);
                trace_result_destroy(&tr);
                memset(&tr, 0, sizeof tr);
                status = run_trace(flow2, &flows, &tr);
                free(flow2);
                if (!status) {
                    bool drop = (!tr.dp_actions || tr.dropped
                                 || !strcmp(tr.dp_actions, "drop"));
                    print_verdict(&tr, drop ? "DROPPED" : "FORWARDED", NULL,
                                  0, tr.last_ref);
                }
            }
        } else if (tr.tun_dst && strstr(tr.dp_actions, "tnl_push")) {
            uint32_t vni = strtoul(tr.tun_id ? tr.tun_id : "0", NULL, 0);
            print_verdict(&tr, "ENCAPSULATED", tr.tun_dst, vni, tr.last_ref);
        } else {
            print_verdict(&tr, "FORWARDED", NULL, 0, tr.last_ref);
        }
    }
    trace_result_destroy(&tr);
    free(flow);
    free_bindings(owned, n_owned);
    pl_flows_destroy(&flows);
    vpc_region_destroy(r);
    return status;
}

static int
cmd_vpn_config(int argc, char *argv[])
{
    if (!opt_host) {
        fprintf(stderr, "vpcctl: vpn-config: --host is required\n");
        return 2;
    }
    struct vpc_region *r = load_region(argv[1]);
    if (!r) {
        return 1;
    }
    char *error = vpn_config(r, opt_host, opt_psk_dir,
                             argc > 2 ? argv[2] : NULL);
    vpc_region_destroy(r);
    if (error) {
        fprintf(stderr, "vpcctl: vpn-config: %s\n", error);
        free(error);
        return 1;
    }
    return 0;
}

/* The stage where traffic into the VPC through gateway 'gw' is counted:
 * its last inbound stage, after conntrack for NAT and after the C-tag for
 * Direct Connect. */
static int
gateway_in_stage(const struct vpc_gateway *gw)
{
    switch (gw->kind) {
    case VPC_TGT_NAT:
        return PL_EDGE_NAT_IN;
    case VPC_TGT_DX:
        return PL_EDGE_DX_IN;
    case VPC_TGT_IGW: case VPC_TGT_VGW: case VPC_TGT_VPCE:
        return PL_EDGE_IN;
    VPC_TGT_NON_GATEWAY_CASES
        break;
    }
    OVS_NOT_REACHED();
}

/* Per-gateway counters of an edge: packets and bytes through each
 * gateway's flows (by the cookies of the compiled flows), out and in, and
 * for NAT gateways the conntrack entries (translations) in use. */
static int
cmd_gateway_stats(int argc OVS_UNUSED, char *argv[])
{
    struct pl_flows flows;
    struct vpc_region *r = load_and_compile(argv[1], false, &flows);
    if (!r) {
        return 1;
    }
    const struct vpc_host *edge = vpc_region_find_host(r, opt_host);
    char *target = opt_switch ? xstrdup(opt_switch)
                              : vpc_default_switch(opt_bridge);
    struct vpc_flow_counter *fc;
    size_t n;
    char *error = !edge || !edge->is_edge
                  ? xasprintf("%s is not an edge", opt_host)
                  : vpc_flow_counters(target, &fc, &n);
    free(target);
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        pl_flows_destroy(&flows);
        vpc_region_destroy(r);
        return 1;
    }
    printf("%-22s %-6s %12s %14s %12s %14s %s\n", "gateway", "kind",
           "out packets", "out bytes", "in packets", "in bytes",
           "NAT translations");
    for (size_t g = 0; g < r->n_gateways; g++) {
        const struct vpc_gateway *gw = &r->gateways[g];
        if (gw->edge != edge) {
            continue;
        }
        uint64_t pk[2] = { 0, 0 }, by[2] = { 0, 0 };
        size_t idlen = strlen(gw->id);
        for (size_t i = 0; i < n; i++) {
            const char *ref = pl_flows_ref(&flows, fc[i].cookie);
            if (!ref || strncmp(ref, gw->id, idlen)
                || (ref[idlen] && ref[idlen] != ' ')) {
                continue;
            }
            /* Each packet once: out at edge_out, in at the gateway's
             * last inbound stage (after conntrack for NAT, after the
             * C-tag for Direct Connect); proxy ARP is not traffic. */
            int s = pl_stage_by_table(fc[i].table);
            int in_stage = gateway_in_stage(gw);
            bool arp = strlen(ref) > 4 && !strcmp(ref + strlen(ref) - 4,
                                                  " arp");
            int dir = arp ? -1 : s == PL_EDGE_OUT ? 0 : s == in_stage ? 1
                                                                      : -1;
            if (dir >= 0) {
                pk[dir] += fc[i].packets;
                by[dir] += fc[i].bytes;
            }
        }
        char nat[32] = "-";
        if (gw->kind == VPC_TGT_NAT) {
            char *ctl = opt_appctl ? xstrdup(opt_appctl)
                                   : vpc_default_vswitchd_ctl();
            char *zone = xasprintf("zone=%"PRIuSIZE, g + 1), *out;
            char *args[] = { zone };
            char *err = vpc_appctl(ctl, "dpctl/dump-conntrack", 1, args,
                                   &out);
            if (!err) {
                size_t lines = 0;
                for (const char *p = out; *p; p++) {
                    lines += *p == '\n';
                }
                snprintf(nat, sizeof nat, "%"PRIuSIZE, lines);
                free(out);
            }
            free(err);
            free(zone);
            free(ctl);
        }
        printf("%-22s %-6s %12"PRIu64" %14"PRIu64" %12"PRIu64" %14"PRIu64
               " %s\n", gw->id, vpc_gateway_kind_name(gw->kind), pk[0],
               by[0], pk[1], by[1], nat);
    }
    free(fc);
    pl_flows_destroy(&flows);
    vpc_region_destroy(r);
    return 0;
}

static int
cmd_pipeline_doc(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    pl_write_doc(stdout);
    return 0;
}

static int
cmd_export_ovn(int argc OVS_UNUSED, char *argv[])
{
    struct vpc_region *r = load_region(argv[1]);
    if (!r) {
        return 1;
    }
    char *s = export_ovn(r);
    vpc_region_destroy(r);
    if (!opt_db) {
        puts(s);
        free(s);
        return 0;
    }

    /* --db: send it ourselves.  A large region's transaction is megabytes,
     * beyond what one argument of 'ovsdb-client transact' may hold. */
    struct json *txn = json_from_string(s);
    free(s);
    struct jsonrpc_msg *reply;
    char *error = vpc_ovsdb_transact(opt_db, txn, &reply);
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        return 1;
    }
    /* The transaction is atomic: one failed operation (say a name already
     * in use) fails it all; its error names the operation. */
    const struct json *result = reply->result;
    size_t n_ops = 0;
    int status = 0;
    for (size_t i = 0; result && result->type == JSON_ARRAY
                       && i < json_array(result)->n; i++) {
        const struct json *op = json_array(result)->elems[i];
        const struct json *err = (op->type == JSON_OBJECT
                                  ? shash_find_data(json_object(op), "error")
                                  : NULL);
        if (err) {
            char *e = json_to_string(op, JSSF_SORT);
            fprintf(stderr, "vpcctl: %s: transaction failed, nothing "
                    "changed: operation %"PRIuSIZE": %s\n", opt_db, i, e);
            free(e);
            status = 1;
            break;
        }
        n_ops++;
    }
    if (!status) {
        printf("loaded into %s: %"PRIuSIZE" rows, one transaction\n",
               opt_db, n_ops);
    }
    jsonrpc_msg_destroy(reply);
    return status;
}

/* --region-db: how long load and dump wait for the database, in all (a
 * first load of 100,000 ENIs took 21 s on a busy 2-core machine). */
#define REGION_DB_TIMEOUT_MS 60000

static int
cmd_load(int argc OVS_UNUSED, char *argv[])
{
    if (!opt_region_db) {
        fprintf(stderr, "vpcctl: load needs --region-db=REMOTES\n");
        return 2;
    }
    struct rdb_load_stats st;
    char *error = rdb_load(opt_region_db, argv[1], REGION_DB_TIMEOUT_MS,
                           &st);
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        return 1;
    }
    printf("loaded %s into %s: cfg %"PRId64", %"PRIuSIZE" rows inserted, %"
           PRIuSIZE" updated, %"PRIuSIZE" deleted, one transaction\n",
           argv[1], opt_region_db, st.cfg, st.n_inserted, st.n_updated,
           st.n_deleted);
    return 0;
}

static int
cmd_dump(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    if (!opt_region_db) {
        fprintf(stderr, "vpcctl: dump needs --region-db=REMOTES\n");
        return 2;
    }
    struct json *doc;
    char *error = rdb_dump(opt_region_db, REGION_DB_TIMEOUT_MS, &doc);
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        return 1;
    }
    char *s = (shash_is_empty(json_object(doc)) ? xstrdup("{}")
               : json_to_string(doc, JSSF_PRETTY | JSSF_SORT));
    puts(s);
    free(s);
    json_destroy(doc);
    return 0;
}

/* One line per host: the Region.cfg its vpcd has applied (Host_Status)
 * against the region's.  Exits 0 if every host is in sync, 3 otherwise (so
 * that scripts can wait for it). */
static int
cmd_status(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    if (!opt_region_db) {
        fprintf(stderr, "vpcctl: status needs --region-db=REMOTES\n");
        return 2;
    }
    char *text;
    bool all_in_sync;
    char *error = rdb_status(opt_region_db, REGION_DB_TIMEOUT_MS, &text,
                             &all_in_sync);
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        return 1;
    }
    fputs(text, stdout);
    free(text);
    return all_in_sync ? 0 : 3;
}

static int
cmd_help(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    usage();
    return 0;
}

static const struct command commands[] = {
    { "validate", "FILE", 1, 1, cmd_validate,
      "check a region document; print every error (JSON path: value: rule)"
    },
    { "compile", "FILE --host H", 1, 1, cmd_compile,
      "print host H's OpenFlow flows (ovs-ofctl syntax; cookies name the "
      "intent)" },
    { "apply", "FILE --host H", 1, 1, cmd_apply,
      "install host H's flows into the running switch: one atomic bundle, "
      "only what differs" },
    { "trace", "FILE --host H 'from ENI to IP [tcp|udp dport N|icmp]'", 2, 2,
      cmd_trace, "run ofproto/trace in the switch, annotated with stages "
      "and intents" },
    { "mapping", "FILE --host H", 1, 1, cmd_mapping,
      "print host H's mapping-cache entries (the format of ovs-appctl "
      "vpcmap/load)" },
    { "vpn-config", "FILE --host EDGE [DIR]", 1, 2, cmd_vpn_config,
      "the edge's strongSwan configuration (strongswan.conf, swanctl.conf) "
      "for its VPN gateways: printed, or written to DIR" },
    { "gateway-stats", "FILE --host EDGE", 1, 1, cmd_gateway_stats,
      "per-gateway packets and bytes out and in, NAT translations in use" },
    { "pipeline-doc", "", 0, 0, cmd_pipeline_doc,
      "print the pipeline's tables (Markdown), from pipeline/stages.def" },
    { "export-ovn", "FILE [--db=OVN-NB]", 1, 1, cmd_export_ovn,
      "print an ovsdb-client transact array creating the region in OVN NB; "
      "with --db, load it there (one transaction)" },
    { "load", "FILE --region-db=REMOTES", 1, 1, cmd_load,
      "validate a region document and make the region database hold it: "
      "one transaction, only the rows that changed" },
    { "dump", "--region-db=REMOTES", 0, 0, cmd_dump,
      "print the region database as a region document (JSON)" },
    { "status", "--region-db=REMOTES", 0, 0, cmd_status,
      "one line per host: the region cfg it has applied, in sync, behind "
      "or its error (exit 3 unless all are in sync)" },
    { "help", "", 0, 0, cmd_help, "this help" },
};

static const struct command *
find_command(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!strcmp(commands[i].name, name)) {
            return &commands[i];
        }
    }
    return NULL;
}

static void
usage(void)
{
    printf("vpcctl: compile VPC intents into Open vSwitch flows\n"
           "usage: vpcctl [OPTIONS] COMMAND [ARG...]\n\nCommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        printf("  %-13s %s\n  %-13s   %s\n", commands[i].name,
               commands[i].args, "", commands[i].help);
    }
    printf("\nOptions:\n"
           "  --host=H             the host whose flows to compile\n"
           "  --bridge=BR          integration bridge (default br-int)\n"
           "  --db=REMOTE          OVSDB (default unix:$OVS_RUNDIR/db.sock),"
           "\n"
           "                       read for ENI bindings "
           "(Interface external_ids:vpc-eni-id)\n"
           "                       and the Geneve tunnel port; export-ovn: the OVN\n"
           "                       northbound database to load the region into\n"
           "  --region-db=REMOTES  load, dump, status: the region database "
           "(an OVSDB remote or a\n"
           "                       comma-separated list of them)\n"
           "  --switch=TARGET      OpenFlow target (default "
           "unix:$OVS_RUNDIR/BR.mgmt)\n"
           "  --appctl=SOCKET      ovs-vswitchd control socket (for trace)\n"
           "  --bind=ENI=OFPORT    bind offline, instead of reading OVSDB "
           "(repeatable)\n"
           "  --tunnel-port=N      the Geneve port's ofport, offline\n"
           "  --uplink-port=N, --dx-port=N, --vpn-port=N\n"
           "                       an edge's uplink, Direct Connect and VPN "
           "ports, offline\n"
           "                       (else Interface "
           "external_ids:vpc-edge-port=uplink|dx|vpn)\n"
           "  --psk-dir=DIR        vpn-config: where relative psk_ref files "
           "are\n"
           "                       (default "VPN_DEFAULT_PSK_DIR")\n"
           "  --mapping=MODE       flows (stock OVS, one flow per ENI) or "
           "action\n"
           "                       (ovs-ext's vpc_encap + mapping cache; "
           "apply loads the cache)\n"
           "  --annotate           compile: name each flow's intent\n"
           "  --dry-run            apply: report the changes, send nothing\n"
           "  -h, --help           this help\n"
           "\nExit status: 0 success, 1 invalid input or failure, 2 usage.\n");
}

static void
parse_bind(const char *arg)
{
    const char *eq = strrchr(arg, '=');
    int ofport = eq ? atoi(eq + 1) : 0;
    if (!eq || eq == arg || ofport <= 0) {
        ovs_fatal(0, "--bind %s: expected ENI=OFPORT", arg);
    }
    opt_bindings = xrealloc(opt_bindings,
                            (opt_n_bindings + 1) * sizeof *opt_bindings);
    opt_bindings[opt_n_bindings].eni_id = xmemdup0(arg, eq - arg);
    opt_bindings[opt_n_bindings].ofport = ofport;
    opt_n_bindings++;
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    enum { OPT_HOST = 256, OPT_BRIDGE, OPT_DB, OPT_SWITCH, OPT_APPCTL,
           OPT_BIND, OPT_TUNNEL, OPT_ANNOTATE, OPT_DRY_RUN, OPT_MAPPING,
           OPT_UPLINK, OPT_DX, OPT_VPN, OPT_PSK_DIR, OPT_REGION_DB };
    static const struct option long_options[] = {
        { "host", required_argument, NULL, OPT_HOST },
        { "bridge", required_argument, NULL, OPT_BRIDGE },
        { "db", required_argument, NULL, OPT_DB },
        { "switch", required_argument, NULL, OPT_SWITCH },
        { "appctl", required_argument, NULL, OPT_APPCTL },
        { "bind", required_argument, NULL, OPT_BIND },
        { "tunnel-port", required_argument, NULL, OPT_TUNNEL },
        { "annotate", no_argument, NULL, OPT_ANNOTATE },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "mapping", required_argument, NULL, OPT_MAPPING },
        { "uplink-port", required_argument, NULL, OPT_UPLINK },
        { "dx-port", required_argument, NULL, OPT_DX },
        { "vpn-port", required_argument, NULL, OPT_VPN },
        { "psk-dir", required_argument, NULL, OPT_PSK_DIR },
        { "region-db", required_argument, NULL, OPT_REGION_DB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    /* GNU getopt permutes: options may follow the command, as in
     * "vpcctl compile FILE --host H". */
    for (;;) {
        int c = getopt_long(argc, argv, "h", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_HOST: opt_host = optarg; break;
        case OPT_BRIDGE: opt_bridge = optarg; break;
        case OPT_DB: opt_db = optarg; break;
        case OPT_SWITCH: opt_switch = optarg; break;
        case OPT_APPCTL: opt_appctl = optarg; break;
        case OPT_BIND: parse_bind(optarg); break;
        case OPT_TUNNEL: opt_tunnel_port = atoi(optarg); break;
        case OPT_ANNOTATE: opt_annotate = true; break;
        case OPT_DRY_RUN: opt_dry_run = true; break;
        case OPT_UPLINK: opt_uplink_port = atoi(optarg); break;
        case OPT_DX: opt_dx_port = atoi(optarg); break;
        case OPT_VPN: opt_vpn_port = atoi(optarg); break;
        case OPT_PSK_DIR: opt_psk_dir = optarg; break;
        case OPT_REGION_DB: opt_region_db = optarg; break;
        case OPT_MAPPING:
            if (!strcmp(optarg, "flows")) {
                opt_mapping = PL_MAP_FLOWS;
            } else if (!strcmp(optarg, "action")) {
                opt_mapping = PL_MAP_ACTION;
            } else {
                fprintf(stderr, "vpcctl: --mapping=%s: expected \"flows\" "
                        "or \"action\"\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(); return 0;
        default: fprintf(stderr, "try 'vpcctl --help'\n"); return 2;
        }
    }

    if (optind >= argc) {
        usage();
        return 2;
    }
    const struct command *cmd = find_command(argv[optind]);
    int n_args = argc - optind - 1;
    if (!cmd) {
        fprintf(stderr, "vpcctl: unknown command '%s'; try 'vpcctl "
                "--help'\n", argv[optind]);
        return 2;
    }
    if (n_args < cmd->min_args || n_args > cmd->max_args) {
        fprintf(stderr, "vpcctl: usage: vpcctl %s %s\n", cmd->name,
                cmd->args);
        return 2;
    }
    return cmd->handler(n_args + 1, &argv[optind]);
}
