/* cli/vpcctl.c: the ovs-vpc command line.
 *
 *   vpcctl validate FILE
 *   vpcctl compile FILE --host H
 *   vpcctl apply FILE --host H
 *   vpcctl trace FILE --host H 'from eni-x to 10.0.2.7 tcp dport 443'
 *   vpcctl vpn-config FILE --host EDGE [DIR]
 *   vpcctl pipeline-doc
 *   vpcctl describe|show|routes|graph ... (cli/views.h)
 *   vpcctl --region-db=REMOTES load FILE | dump | status
 *   vpcctl --region-db=REMOTES [--wait[=SECONDS]] put COLLECTION FILE|- |
 *          get COLLECTION [ID] | delete COLLECTION ID
 *   vpcctl --region-db=REMOTES [--wait[=SECONDS]] create-network-interface
 *          --network-interface-id ENI ... (and the other AWS verbs of
 *          regiondb/verbs.c)
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
#include "backends/ovn-export.h"
#include "command-line.h"
#include "switch/switch.h"
#include "backends/vpn-config.h"
#include "cli/trace.h"
#include "cli/views.h"
#include "jsonrpc.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "pipeline/edge.h"
#include "pipeline/pipeline.h"
#include "pipeline/trace.h"
#include "regiondb/access.h"
#include "regiondb/regiondb.h"
#include "regiondb/verbs.h"
#include "regiondb/write.h"
#include "stream-ssl.h"
#include "regiondb/scope.h"
#include "translator/model.h"
#include "translator/version.h"
#include "util.h"

/* Options shared by the commands. */
static const char *opt_host;
static const char *opt_bridge = "br-int";
static char *opt_db;
static const char *opt_region_db;
static int opt_wait_ms = -1;            /* --wait: -1 if not given. */
static const char *opt_role;            /* set-connection --role. */
static struct shash opt_verb_args = SHASH_INITIALIZER(&opt_verb_args);
static char *opt_switch;
static char *opt_appctl;
static int opt_tunnel_port = -1;
static int opt_uplink_port, opt_dx_port, opt_vpn_port;
static const char *opt_psk_dir;
static bool opt_annotate;
static bool opt_dry_run;
static bool opt_force_host;
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

/* Whether host_config()'s last error was that no switch was asked or
 * could be read, so that compile may number the ports itself. */
static bool host_config_no_switch;

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

    bool read_db = need_db || (!opt_n_bindings && opt_tunnel_port < 0)
                   || opt_db;
    host_config_no_switch = false;
    if (read_db) {
        char *db = opt_db ? xstrdup(opt_db) : sw_default_db();
        struct sw_ovs_ports ports;
        char *error = sw_ovsdb_read_bindings(db, owned, n_owned, &ports);
        free(db);
        if (error) {
            host_config_no_switch = !opt_db;
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
        cfg->metadata_ofport = ports.metadata;
        cfg->metadata_mac = ports.metadata_mac;
        if (opt_tunnel_port < 0) {
            cfg->tunnel_ofport = ports.tunnel;
        }
    }
    if (cfg->tunnel_ofport <= 0) {
        host_config_no_switch = !read_db;
        return xstrdup("no Geneve tunnel port: add one to the bridge "
                       "(type=geneve, options:remote_ip=flow, "
                       "options:key=flow) or give --tunnel-port");
    }
    return NULL;
}

/* Loads FILE and compiles --host into 'flows' (initialized here).  Returns
 * the region, or NULL after printing why not; then 'flows' needs no
 * cleanup.  With 'offline' (compile), no switch to read is no error: the
 * ports are numbered (vw_offline_host_config()) and '*offline' says how. */
static struct vpc_region *
load_and_compile(const char *file, bool need_db, char **offline,
                 struct pl_flows *flows)
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
    struct pl_binding *numbered = NULL;
    size_t n_numbered;
    if (error && offline && host_config_no_switch) {
        char *reason = error;
        char *how;
        error = vw_offline_host_config(r, &cfg, &numbered, &n_numbered,
                                       &how);
        if (!error) {
            *offline = xasprintf("offline, no switch (%s): %s",
                                 opt_n_bindings
                                 ? "--bind without --tunnel-port"
                                 : strtok(reason, "\n"), how);
            free(how);
        }
        free(reason);
    }
    if (!error) {
        error = pl_compile_host(r, &cfg, flows);
    }
    if (!error && !numbered) {
        /* Bindings from the switch or --bind: say what they miss. */
        struct sw_binding_problem *p;
        size_t n = sw_binding_problems(r, opt_host, cfg.bindings,
                                       cfg.n_bindings, &p);
        for (size_t i = 0; i < n; i++) {
            fprintf(stderr, "vpcctl: warning: %s: %s\n", p[i].eni,
                    p[i].problem);
        }
        sw_binding_problems_free(p, n);
    }
    sw_bindings_free(owned, n_owned);
    free(numbered);
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
    char *offline = NULL;
    struct vpc_region *r = load_and_compile(argv[1], false, &offline,
                                            &flows);
    if (!r) {
        return 1;
    }
    if (offline) {
        printf("# %s\n", offline);
        free(offline);
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
    sw_bindings_free(owned, n_owned);
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
                               : sw_default_vswitchd_ctl();
        char *reply;
        error = sw_mapping_load(ctl, NULL, e, n, &reply);
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
        sw_mapping_write(stdout, e, n);
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
    struct vpc_region *r = load_and_compile(argv[1], true, NULL, &flows);
    if (!r) {
        fprintf(stderr, "vpcctl: nothing applied\n");
        return 1;
    }
    char *target = opt_switch ? xstrdup(opt_switch)
                              : sw_default_switch(opt_bridge);
    struct sw_apply_stats st;
    char *error = NULL;
    /* The switch must be --host's (switch/switch.h, sw_set_host()). */
    char *db = opt_db ? xstrdup(opt_db) : sw_default_db();
    sw_set_host(db, opt_host, opt_force_host);
    free(db);
    if (opt_mapping == PL_MAP_ACTION && !opt_dry_run) {
        /* The cache first: the flows that use it must find it full. */
        error = load_mapping_cache(r);
    }
    if (!error) {
        error = sw_apply_flows(target, &flows, opt_dry_run, &st);
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

/* Per-gateway counters of an edge: packets and bytes through each
 * gateway's flows (by the cookies of the compiled flows), out and in, and
 * for NAT gateways the conntrack entries (translations) in use. */
static int
cmd_gateway_stats(int argc OVS_UNUSED, char *argv[])
{
    struct pl_flows flows;
    struct vpc_region *r = load_and_compile(argv[1], false, NULL, &flows);
    if (!r) {
        return 1;
    }
    const struct vpc_host *edge = vpc_region_find_host(r, opt_host);
    char *target = opt_switch ? xstrdup(opt_switch)
                              : sw_default_switch(opt_bridge);
    struct sw_flow_counter *fc;
    size_t n;
    char *error = !edge || !edge->is_edge
                  ? xasprintf("%s is not an edge", opt_host)
                  : sw_flow_counters(target, &fc, &n);
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
            /* Each packet once (pipeline/edge.h). */
            int dir = pl_gateway_flow_direction(gw, fc[i].table, ref);
            if (dir >= 0) {
                pk[dir] += fc[i].packets;
                by[dir] += fc[i].bytes;
            }
        }
        char nat[32] = "-";
        if (gw->kind == VPC_TGT_NAT) {
            char *ctl = opt_appctl ? xstrdup(opt_appctl)
                                   : sw_default_vswitchd_ctl();
            char *zone = xasprintf("zone=%"PRIuSIZE,
                                   pl_gateway_zone(r, gw)), *out;
            char *args[] = { zone };
            char *err = sw_appctl(ctl, "dpctl/dump-conntrack", 1, args,
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
    char *error = sw_ovsdb_transact(opt_db, txn, &reply);
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

struct rdb_handle;
struct rdb_write_result;
static struct rdb_handle *open_region_db(const char *cmd);
static int finish_write(struct rdb_handle *, struct rdb_write_result *);

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
    if (opt_wait_ms < 0) {
        return 0;
    }
    /* --wait: a whole document affects every host. */
    struct rdb_handle *h = open_region_db("load");
    struct rdb_write_result res;
    rdb_write_result_init(&res);
    res.cfg = st.cfg;
    error = rdb_all_region_hosts(h, &res.hosts);
    int status = 1;
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
    } else {
        status = finish_write(h, &res);
    }
    rdb_write_result_destroy(&res);
    rdb_close(h);
    return status;
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

/* Object-level writes. */

/* Prints a refused or failed write.  Returns the exit status. */
static int
report_write_error(char *error, struct vpc_errors *errs)
{
    fprintf(stderr, "vpcctl: %s%s\n", error, errs->n ? ":" : "");
    for (size_t i = 0; i < errs->n; i++) {
        fprintf(stderr, "  %s\n", errs->msgs[i]);
    }
    free(error);
    return 1;
}

static struct rdb_handle *
open_region_db(const char *cmd)
{
    if (!opt_region_db) {
        fprintf(stderr, "vpcctl: %s needs --region-db=REMOTES\n", cmd);
        exit(2);
    }
    struct rdb_handle *h;
    char *error = rdb_open(opt_region_db, REGION_DB_TIMEOUT_MS, &h);
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        exit(1);
    }
    return h;
}

/* After a committed write: prints its cfg and, with --wait, waits for the
 * hosts it affects. */
static int
finish_write(struct rdb_handle *h, struct rdb_write_result *res)
{
    int status = 0;
    if (opt_wait_ms >= 0) {
        char *error = rdb_wait_hosts(h, &res->hosts, res->cfg, opt_wait_ms);
        if (error) {
            fprintf(stderr, "vpcctl: %s\n", error);
            free(error);
            status = 1;
        } else {
            printf("cfg %"PRId64", applied by %"PRIuSIZE" host%s\n",
                   res->cfg, sset_count(&res->hosts),
                   sset_count(&res->hosts) == 1 ? "" : "s");
        }
    } else {
        printf("cfg %"PRId64"\n", res->cfg);
    }
    return status;
}

static int
run_write(struct rdb_handle *h, char *error, struct vpc_errors *errs,
          struct rdb_write_result *res)
{
    int status = error ? report_write_error(error, errs)
                       : finish_write(h, res);
    vpc_errors_destroy(errs);
    rdb_write_result_destroy(res);
    rdb_close(h);
    return status;
}

static int
cmd_put(int argc OVS_UNUSED, char *argv[])
{
    struct json *obj = (!strcmp(argv[2], "-") ? json_from_stream(stdin)
                        : json_from_file(argv[2]));
    if (obj->type == JSON_STRING) {
        char *msg = vpc_json_syntax_error(json_string(obj));
        fprintf(stderr, "vpcctl: %s: %s\n", argv[2], msg);
        free(msg);
        json_destroy(obj);
        return 1;
    }
    const struct json *id = (obj->type == JSON_OBJECT
                             ? shash_find_data(json_object(obj), "id")
                             : NULL);
    if (!id || id->type != JSON_STRING) {
        fprintf(stderr, "vpcctl: %s: expected one JSON object with a "
                "string \"id\"\n", argv[2]);
        json_destroy(obj);
        return 1;
    }
    struct rdb_handle *h = open_region_db("put");
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct rdb_write_result res;
    rdb_write_result_init(&res);
    char *error = rdb_put(h, argv[1], json_string(id), obj,
                          REGION_DB_TIMEOUT_MS, &errs, &res);
    json_destroy(obj);
    return run_write(h, error, &errs, &res);
}

static int
cmd_delete(int argc OVS_UNUSED, char *argv[])
{
    struct rdb_handle *h = open_region_db("delete");
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct rdb_write_result res;
    rdb_write_result_init(&res);
    char *error = rdb_delete(h, argv[1], argv[2], REGION_DB_TIMEOUT_MS,
                             &errs, &res);
    return run_write(h, error, &errs, &res);
}

static int
cmd_get(int argc, char *argv[])
{
    struct rdb_handle *h = open_region_db("get");
    struct json *out = NULL;
    char *error;
    if (argc > 2) {
        error = rdb_get(h, argv[1], argv[2], &out);
        if (!error && !out) {
            error = xasprintf("$.%s[%s]: no such object", argv[1], argv[2]);
        }
    } else if (!rdb_is_collection(argv[1])) {
        error = xasprintf("%s: not a collection of the region document",
                          argv[1]);
    } else {
        struct json *doc;
        error = rdb_get_document(h, &doc);
        if (!error) {
            const struct json *c = shash_find_data(json_object(doc),
                                                   argv[1]);
            out = c ? json_clone(c) : json_array_create_empty();
            json_destroy(doc);
        }
    }
    rdb_close(h);
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        return 1;
    }
    char *s = json_to_string(out, JSSF_PRETTY | JSSF_SORT);
    puts(s);
    free(s);
    json_destroy(out);
    return 0;
}

static int
cmd_set_connection(int argc, char *argv[])
{
    struct rdb_handle *h = open_region_db("set-connection");
    char *error = rdb_set_connections(h, (const char *const *) &argv[1],
                                      argc - 1, opt_role,
                                      REGION_DB_TIMEOUT_MS);
    rdb_close(h);
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        printf("%s%s%s\n", argv[i], opt_role ? ": role " : "",
               opt_role ? opt_role : "");
    }
    return 0;
}

/* An AWS verb (regiondb/verbs.c), with its options in opt_verb_args. */
static int
run_verb(const struct rdb_verb *verb)
{
    struct rdb_handle *h = open_region_db(verb->name);
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct rdb_write_result res;
    rdb_write_result_init(&res);
    if (opt_host) {
        shash_replace(&opt_verb_args, "host", CONST_CAST(char *, opt_host));
    }
    char *error = rdb_run_verb(h, verb, &opt_verb_args, REGION_DB_TIMEOUT_MS,
                               &errs, &res);
    return run_write(h, error, &errs, &res);
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
    { "trace", "FILE --host H 'from ENI|tunnel IP vni N src IP|uplink src "
      "IP|dx VIF src IP|vpn src IP to IP ...'", 2, 2, tr_cmd_trace,
      "follow a packet with ofproto/trace across the region's switches "
      "(live, or --offline), labelled with stages and intents, to its "
      "final verdict" },
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
    { "load", "FILE --region-db=REMOTES [--wait[=S]]", 1, 1, cmd_load,
      "validate a region document and make the region database hold it: "
      "one transaction, only the rows that changed" },
    { "dump", "--region-db=REMOTES", 0, 0, cmd_dump,
      "print the region database as a region document (JSON)" },
    { "put", "COLLECTION FILE|- --region-db=REMOTES [--wait[=S]]", 2, 2,
      cmd_put, "insert or replace one object (JSON) of a collection, "
      "validated against the whole region" },
    { "get", "COLLECTION [ID] --region-db=REMOTES", 1, 2, cmd_get,
      "print one object, or a whole collection" },
    { "delete", "COLLECTION ID --region-db=REMOTES [--wait[=S]]", 2, 2,
      cmd_delete, "delete one object, validated against the whole region" },
    { "set-connection", "[--role=ROLE] TARGET... --region-db=REMOTES", 1,
      16, cmd_set_connection, "the remotes ovsdb-server listens on "
      "(Region.connections, e.g. pssl:6643), with an RBAC role ("
      RDB_HOST_ROLE ": a host writes only its own Host_Status row)" },
    { "status", "--region-db=REMOTES", 0, 0, cmd_status,
      "one line per host: the region cfg it has applied, in sync, behind "
      "or its error (exit 3 unless all are in sync)" },
    { "describe", "[FILE] KIND [ID] [--format=text|json]", 1, 3,
      vw_cmd_describe, "objects of one kind, AWS describe-* names (see "
      "below), with what uses them; FILE or --region-db" },
    { "show", "[FILE] [--format=text|json]", 0, 1, vw_cmd_show,
      "the region as a tree: VPCs, subnets, ENIs (host, addresses, groups), "
      "gateways, peerings" },
    { "routes", "[FILE] SUBNET [IP] [--format=text|json]", 1, 3,
      vw_cmd_routes, "a subnet's effective routes, best first, each "
      "target resolved; with IP, the route it takes and where it goes" },
    { "graph", "[FILE] [--format=dot|svg]", 0, 1, vw_cmd_graph,
      "the topology as Graphviz DOT, or SVG (runs dot -Tsvg)" },
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

/* Prints every command and object-level verb, one a line (for the bash
 * completion, cli/vpcctl.bash). */
static void
print_commands(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        printf("%s\n", commands[i].name);
    }
    for (size_t i = 0; rdb_verbs[i].name; i++) {
        printf("%s\n", rdb_verbs[i].name);
    }
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
    printf("\nObject-level commands (AWS verbs; each takes --region-db=REMOTES"
           "\nand --wait[=SECONDS], docs/regiondb.md):\n");
    for (size_t i = 0; rdb_verbs[i].name; i++) {
        printf("  %s %s\n      %s\n", rdb_verbs[i].name, rdb_verbs[i].usage,
               rdb_verbs[i].help);
    }
    printf("\ndescribe kinds: %s\n", vw_describe_kinds());
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
           "  --private-key=FILE, --certificate=FILE, --ca-cert=FILE\n"
           "                       TLS for ssl: region-db remotes (ovs-pki)\n"
           "  --wait[=SECONDS]     object writes: return once every "
           "affected host has\n"
           "                       applied the change (default 30 s)\n"
           "  --switch=TARGET      OpenFlow target (default "
           "unix:$OVS_RUNDIR/BR.mgmt)\n"
           "  --appctl=SOCKET      ovs-vswitchd control socket (for trace)\n"
           "  --rundir=HOST=DIR    trace: HOST's OVS run directory (its "
           "ovs-vswitchd.ctl,\n"
           "                       db.sock, BR.mgmt), to follow a packet "
           "there (repeatable)\n"
           "  --offline            trace: on throwaway switches (dummy "
           "datapath) loaded with\n"
           "                       FILE's flows, one per host, instead of "
           "the running ones\n"
           "  --ct-state=STATE     trace: what each conntrack pass finds, "
           "e.g. est,rpl for a\n"
           "                       reply (default new)\n"
           "  --reply              trace: then trace the reply, back from "
           "where the packet\n"
           "                       ended, as established (est,rpl)\n"
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
           "  --format=FORMAT      describe, show, routes, trace: text or "
           "json; graph: dot\n"
           "                       or svg\n"
           "  --dry-run            apply: report the changes, send nothing\n"
           "  --force-host         apply: change the switch even if it is "
           "another host's\n"
           "                       (Open_vSwitch external_ids:vpc-host), "
           "and make it --host's\n"
           "  --commands, --options  print the commands, or the long "
           "options (--NAME=ARG\n"
           "                       if it takes one), one a line (for "
           "shell completion)\n"
           "  -h, --help           this help\n"
           "  -V, --version        ovs-vpc's and Open vSwitch's versions\n"
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
           OPT_UPLINK, OPT_DX, OPT_VPN, OPT_PSK_DIR, OPT_REGION_DB,
           OPT_WAIT, OPT_VERB_ARG, OPT_SSL_KEY, OPT_SSL_CERT, OPT_SSL_CA,
            OPT_ROLE, OPT_FORMAT, OPT_FORCE_HOST, OPT_RUNDIR, OPT_OFFLINE,
            OPT_CT_STATE, OPT_REPLY, OPT_COMMANDS, OPT_OPTIONS };
    static const struct option base_options[] = {
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
        { "wait", optional_argument, NULL, OPT_WAIT },
        { "private-key", required_argument, NULL, OPT_SSL_KEY },
        { "certificate", required_argument, NULL, OPT_SSL_CERT },
        { "ca-cert", required_argument, NULL, OPT_SSL_CA },
        { "role", required_argument, NULL, OPT_ROLE },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "force-host", no_argument, NULL, OPT_FORCE_HOST },
        { "rundir", required_argument, NULL, OPT_RUNDIR },
        { "offline", no_argument, NULL, OPT_OFFLINE },
        { "ct-state", required_argument, NULL, OPT_CT_STATE },
        { "reply", no_argument, NULL, OPT_REPLY },
        { "commands", no_argument, NULL, OPT_COMMANDS },
        { "options", no_argument, NULL, OPT_OPTIONS },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
    };
    /* The options of the object-level verbs, after the fixed ones. */
    size_t n_base = ARRAY_SIZE(base_options), n_verb = 0;
    while (rdb_verb_options[n_verb]) {
        n_verb++;
    }
    struct option *long_options = xcalloc(n_base + n_verb + 1,
                                          sizeof *long_options);
    memcpy(long_options, base_options, sizeof base_options);
    for (size_t i = 0; i < n_verb; i++) {
        long_options[n_base + i] = (struct option) {
            rdb_verb_options[i], required_argument, NULL, OPT_VERB_ARG };
    }
    const char *ssl_key = NULL, *ssl_cert = NULL;
    /* GNU getopt permutes: options may follow the command, as in
     * "vpcctl compile FILE --host H". */
    for (;;) {
        int idx = -1;
        int c = getopt_long(argc, argv, "hV", long_options, &idx);
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
        case OPT_ROLE: opt_role = optarg; break;
        case OPT_FORMAT: vw_options.format = optarg; break;
        case OPT_FORCE_HOST: opt_force_host = true; break;
        case OPT_OFFLINE: tr_options.offline = true; break;
        case OPT_CT_STATE: tr_options.ct_state = optarg; break;
        case OPT_REPLY: tr_options.reply = true; break;
        case OPT_RUNDIR: {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1]) {
                fprintf(stderr, "vpcctl: --rundir=%s: expected HOST=DIR\n",
                        optarg);
                return 2;
            }
            char *host = xmemdup0(optarg, eq - optarg);
            if (!shash_add_once(&tr_options.rundirs, host, eq + 1)) {
                fprintf(stderr, "vpcctl: --rundir: %s given twice\n", host);
                return 2;
            }
            free(host);
            break;
        }
        case OPT_SSL_KEY: ssl_key = optarg; break;
        case OPT_SSL_CERT: ssl_cert = optarg; break;
        case OPT_SSL_CA: stream_ssl_set_ca_cert_file(optarg, false); break;
        case OPT_VERB_ARG:
            shash_replace(&opt_verb_args, long_options[idx].name, optarg);
            break;
        case OPT_WAIT: {
            char *end;
            double secs = optarg ? strtod(optarg, &end) : 30;
            if (optarg && (*end || secs < 0)) {
                fprintf(stderr, "vpcctl: --wait=%s: expected seconds\n",
                        optarg);
                return 2;
            }
            opt_wait_ms = secs * 1000;
            break;
        }
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
        case OPT_COMMANDS: print_commands(); return 0;
        case OPT_OPTIONS: ovs_cmdl_print_options(long_options); return 0;
        case 'h': usage(); return 0;
        case 'V': vpc_print_version("vpcctl"); return 0;
        default: fprintf(stderr, "try 'vpcctl --help'\n"); return 2;
        }
    }

    if (ssl_key || ssl_cert) {
        stream_ssl_set_key_and_cert(ssl_key, ssl_cert);
    }
    if (optind >= argc) {
        usage();
        return 2;
    }
    tr_options.host = opt_host;
    tr_options.bridge = opt_bridge;
    tr_options.db = opt_db;
    tr_options.switch_target = opt_switch;
    tr_options.appctl = opt_appctl;
    tr_options.bindings = opt_bindings;
    tr_options.n_bindings = opt_n_bindings;
    tr_options.tunnel_port = opt_tunnel_port;
    tr_options.uplink_port = opt_uplink_port;
    tr_options.dx_port = opt_dx_port;
    tr_options.vpn_port = opt_vpn_port;
    tr_options.mapping = opt_mapping;
    tr_options.format = vw_options.format;
    vw_options.region_db = opt_region_db;
    vw_options.region_db_timeout_ms = REGION_DB_TIMEOUT_MS;
    const struct command *cmd = find_command(argv[optind]);
    int n_args = argc - optind - 1;
    const struct rdb_verb *verb = cmd ? NULL : rdb_find_verb(argv[optind]);
    if (verb) {
        if (n_args) {
            fprintf(stderr, "vpcctl: usage: vpcctl %s %s\n", verb->name,
                    verb->usage);
            return 2;
        }
        return run_verb(verb);
    }
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
