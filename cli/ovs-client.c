/* cli/ovs-client.c: OVSDB bindings, atomic flow install, unixctl. */

#include <config.h>
#include "cli/ovs-client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "byte-order.h"
#include "dirs.h"
#include "hash.h"
#include "jsonrpc.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vconn.h"
#include "openvswitch/util.h"
#include "socket-util.h"
#include "stream.h"
#include "unixctl.h"
#include "util.h"

static const char *
rundir(void)
{
    const char *env = getenv("OVS_RUNDIR");
    return env && env[0] ? env : ovs_rundir();
}

char *
vpc_default_db(void)
{
    return xasprintf("unix:%s/db.sock", rundir());
}

char *
vpc_default_switch(const char *bridge)
{
    return xasprintf("unix:%s/%s.mgmt", rundir(), bridge);
}

/* ovs-vswitchd's control socket: "ovs-vswitchd.ctl" if started with
 * --unixctl=RUNDIR/ovs-vswitchd.ctl, else "ovs-vswitchd.PID.ctl". */
char *
vpc_default_vswitchd_ctl(void)
{
    char *path = xasprintf("%s/ovs-vswitchd.ctl", rundir());
    if (!access(path, F_OK)) {
        return path;
    }
    free(path);
    char *pidfile = xasprintf("%s/ovs-vswitchd.pid", rundir());
    FILE *f = fopen(pidfile, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) {
            pid = 0;
        }
        fclose(f);
    }
    free(pidfile);
    return xasprintf("%s/ovs-vswitchd.%ld.ctl", rundir(), pid);
}

/* ------------------------------------------------------------------ OVSDB */

static const struct json *
map_get(const struct json *map, const char *key)
{
    /* OVSDB maps are ["map", [[k, v], ...]]. */
    if (map->type != JSON_ARRAY || json_array(map)->n != 2) {
        return NULL;
    }
    const struct json *pairs = json_array(map)->elems[1];
    for (size_t i = 0; pairs->type == JSON_ARRAY && i < json_array(pairs)->n;
         i++) {
        const struct json *kv = json_array(pairs)->elems[i];
        if (json_array(kv)->n == 2
            && json_array(kv)->elems[0]->type == JSON_STRING
            && !strcmp(json_string(json_array(kv)->elems[0]), key)) {
            return json_array(kv)->elems[1];
        }
    }
    return NULL;
}

char *
vpc_ovsdb_transact(const char *db, struct json *params,
                   struct jsonrpc_msg **replyp)
{
    *replyp = NULL;
    struct stream *stream;
    int error = stream_open_block(jsonrpc_stream_open(db, &stream,
                                                      DSCP_DEFAULT),
                                  -1, &stream);
    if (error) {
        json_destroy(params);
        return xasprintf("%s: cannot connect to OVSDB (%s)", db,
                         ovs_strerror(error));
    }
    struct jsonrpc *rpc = jsonrpc_open(stream);
    struct jsonrpc_msg *request = jsonrpc_create_request("transact", params,
                                                         NULL);
    struct jsonrpc_msg *reply;
    error = jsonrpc_transact_block(rpc, request, &reply);
    jsonrpc_close(rpc);
    if (error) {
        return xasprintf("%s: OVSDB transaction failed (%s)", db,
                         ovs_strerror(error));
    }
    if (reply->error) {
        char *s = json_to_string(reply->error, 0);
        char *err = xasprintf("%s: OVSDB error: %s", db, s);
        free(s);
        jsonrpc_msg_destroy(reply);
        return err;
    }
    *replyp = reply;
    return NULL;
}

char *
vpc_ovsdb_read_bindings(const char *db, struct pl_binding **bindings,
                        size_t *n, struct vpc_ovs_ports *ports)
{
    *bindings = NULL;
    *n = 0;
    memset(ports, 0, sizeof *ports);

    struct json *op = json_from_string(
        "{\"op\": \"select\", \"table\": \"Interface\", \"where\": [],"
        " \"columns\": [\"name\", \"ofport\", \"type\", \"external_ids\"]}");
    struct jsonrpc_msg *reply;
    char *err = vpc_ovsdb_transact(db, json_array_create_2(
                                       json_string_create("Open_vSwitch"), op),
                                   &reply);
    if (err) {
        return err;
    }

    const struct json *result = reply->result;
    const struct json *rows = NULL;
    if (result && result->type == JSON_ARRAY && json_array(result)->n == 1
        && json_array(result)->elems[0]->type == JSON_OBJECT) {
        rows = shash_find_data(json_object(json_array(result)->elems[0]),
                               "rows");
    }
    if (!rows || rows->type != JSON_ARRAY) {
        err = xasprintf("%s: unexpected OVSDB reply", db);
        goto out;
    }
    *bindings = xcalloc(json_array(rows)->n + 1, sizeof **bindings);
    for (size_t i = 0; i < json_array(rows)->n; i++) {
        const struct json *row = json_array(rows)->elems[i];
        const struct json *ofport = shash_find_data(json_object(row),
                                                    "ofport");
        const struct json *type = shash_find_data(json_object(row), "type");
        const struct json *ids = shash_find_data(json_object(row),
                                                 "external_ids");
        if (!ofport || ofport->type != JSON_INTEGER
            || json_integer(ofport) <= 0) {
            continue;           /* Not (yet) attached. */
        }
        const struct json *eni = ids ? map_get(ids, "vpc-eni-id") : NULL;
        const struct json *edge = ids ? map_get(ids, "vpc-edge-port") : NULL;
        if (edge && edge->type == JSON_STRING
            && !strcmp(json_string(edge), "uplink")) {
            ports->uplink = json_integer(ofport);
        } else if (edge && edge->type == JSON_STRING
                   && !strcmp(json_string(edge), "dx")) {
            ports->dx = json_integer(ofport);
        } else if (edge && edge->type == JSON_STRING
                   && !strcmp(json_string(edge), "vpn")) {
            ports->vpn = json_integer(ofport);
        } else if (eni && eni->type == JSON_STRING) {
            (*bindings)[*n].eni_id = xstrdup(json_string(eni));
            (*bindings)[*n].ofport = json_integer(ofport);
            (*n)++;
        } else if (type && type->type == JSON_STRING
                   && !strcmp(json_string(type), "geneve")) {
            if (ports->tunnel) {
                err = xasprintf("%s: more than one Geneve interface; "
                                "ovs-vpc needs exactly one", db);
                goto out;
            }
            ports->tunnel = json_integer(ofport);
        }
    }
out:
    jsonrpc_msg_destroy(reply);
    return err;
}

/* --------------------------------------------------------------- OpenFlow */

/* A flow, parsed, keyed by what identifies it in an OpenFlow table. */
struct of_flow {
    struct hmap_node node;
    uint8_t table_id;
    uint16_t priority;
    struct match match;
    ovs_be64 cookie;
    struct ofpact *ofpacts;
    size_t ofpacts_len;
    bool seen;
};

static uint32_t
of_flow_hash(uint8_t table_id, uint16_t priority, const struct match *m)
{
    return match_hash(m, hash_int(table_id << 16 | priority, 0));
}

static struct of_flow *
of_flow_find(struct hmap *flows, uint8_t table_id, uint16_t priority,
             const struct match *m)
{
    struct of_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, node, of_flow_hash(table_id, priority, m),
                             flows) {
        if (f->table_id == table_id && f->priority == priority
            && match_equal(&f->match, m)) {
            return f;
        }
    }
    return NULL;
}

static void
of_flows_destroy(struct hmap *flows)
{
    struct of_flow *f;
    HMAP_FOR_EACH_POP (f, node, flows) {
        free(f->ofpacts);
        free(f);
    }
    hmap_destroy(flows);
}

/* Parses one compiled flow.  Returns NULL and sets '*error' on failure. */
static struct of_flow *
parse_flow(const struct pl_flow *pf, char **error)
{
    char *s = pl_flow_to_string(pf);
    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;
    struct of_flow *f = NULL;
    *error = parse_ofp_flow_mod_str(&fm, s, NULL, NULL, OFPFC_ADD, &usable);
    if (*error) {
        char *e = xasprintf("flow \"%s\" does not parse: %s", s, *error);
        free(*error);
        *error = e;
    } else {
        f = xzalloc(sizeof *f);
        f->table_id = fm.table_id;
        f->priority = fm.priority;
        minimatch_expand(&fm.match, &f->match);
        f->cookie = fm.new_cookie;
        f->ofpacts = fm.ofpacts;
        f->ofpacts_len = fm.ofpacts_len;
        minimatch_destroy(&fm.match);
    }
    free(s);
    return f;
}

/* Parses every flow of 'flows' into 'out'. */
static char *
parse_flows(const struct pl_flows *flows, struct hmap *out)
{
    size_t n;
    const struct pl_flow **v = pl_flows_sorted(flows, &n);
    char *error = NULL;
    for (size_t i = 0; i < n && !error; i++) {
        struct of_flow *f = parse_flow(v[i], &error);
        if (f) {
            hmap_insert(out, &f->node,
                        of_flow_hash(f->table_id, f->priority, &f->match));
        }
    }
    free(v);
    return error;
}

static struct ofpbuf *
encode_flow_mod(const struct of_flow *f, uint16_t command,
                enum ofputil_protocol protocol)
{
    struct ofputil_flow_mod fm = {
        .priority = f->priority,
        .new_cookie = command == OFPFC_ADD ? f->cookie : OVS_BE64_MAX,
        .table_id = f->table_id,
        .command = command,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .ofpacts = command == OFPFC_ADD ? f->ofpacts : NULL,
        .ofpacts_len = command == OFPFC_ADD ? f->ofpacts_len : 0,
    };
    minimatch_init(&fm.match, &f->match);
    struct ofpbuf *msg = ofputil_encode_flow_mod(&fm, protocol);
    minimatch_destroy(&fm.match);
    return msg;
}

/* Opens an OpenFlow 1.5 (or 1.4) connection to 'target'. */
static char *
open_switch(const char *target, struct vconn **vconnp,
            enum ofputil_protocol *protocol)
{
    int retval = vconn_open_block(target, 1u << OFP15_VERSION
                                  | 1u << OFP14_VERSION, DSCP_DEFAULT, -1,
                                  vconnp);
    if (retval) {
        return xasprintf("%s: cannot connect (%s)", target,
                         ovs_strerror(retval));
    }
    *protocol = ofputil_protocol_from_ofp_version(vconn_get_version(*vconnp));
    return NULL;
}

/* Dumps every flow of every table of the switch behind 'vconn'. */
static char *
dump_switch_flows(struct vconn *vconn, enum ofputil_protocol protocol,
                  struct ofputil_flow_stats **fses, size_t *n)
{
    struct ofputil_flow_stats_request fsr = {
        .out_port = OFPP_ANY, .out_group = OFPG_ANY, .table_id = 0xff,
    };
    match_init_catchall(&fsr.match);
    int retval = vconn_dump_flows(vconn, &fsr, protocol, fses, n);
    return retval ? xasprintf("%s: cannot dump flows (%s)",
                              vconn_get_name(vconn), ovs_strerror(retval))
                  : NULL;
}

static void
free_switch_flows(struct ofputil_flow_stats *fses, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(CONST_CAST(struct ofpact *, fses[i].ofpacts));
    }
    free(fses);
}

struct vpc_flowset {
    struct hmap flows;          /* Of "struct of_flow". */
};

char *
vpc_flowset_parse(const struct pl_flows *flows, struct vpc_flowset **fsp)
{
    struct vpc_flowset *fs = xmalloc(sizeof *fs);
    hmap_init(&fs->flows);
    char *error = parse_flows(flows, &fs->flows);
    if (error) {
        vpc_flowset_destroy(fs);
        fs = NULL;
    }
    *fsp = fs;
    return error;
}

void
vpc_flowset_destroy(struct vpc_flowset *fs)
{
    if (fs) {
        of_flows_destroy(&fs->flows);
        free(fs);
    }
}

size_t
vpc_flowset_count(const struct vpc_flowset *fs)
{
    return hmap_count(&fs->flows);
}

char *
vpc_apply_flows(const char *target, const struct pl_flows *flows,
                bool dry_run, struct vpc_apply_stats *stats)
{
    struct vpc_flowset *fs;
    memset(stats, 0, sizeof *stats);
    char *error = vpc_flowset_parse(flows, &fs);
    if (!error) {
        error = vpc_apply_flowset(target, fs, dry_run, stats);
        vpc_flowset_destroy(fs);
    }
    return error;
}

char *
vpc_apply_flowset(const char *target, struct vpc_flowset *fs, bool dry_run,
                  struct vpc_apply_stats *stats)
{
    struct hmap *desired_ = &fs->flows;
    char *error = NULL;
    memset(stats, 0, sizeof *stats);

    struct of_flow *f;
    HMAP_FOR_EACH (f, node, desired_) {
        f->seen = false;
    }

    struct vconn *vconn;
    enum ofputil_protocol protocol;
    error = open_switch(target, &vconn, &protocol);
    if (error) {
        return error;
    }

    /* What the switch has now, in every table. */
    struct ofputil_flow_stats *fses;
    size_t n_fses;
    error = dump_switch_flows(vconn, protocol, &fses, &n_fses);
    if (error) {
        goto out;
    }

    struct ovs_list requests;
    ovs_list_init(&requests);
    for (size_t i = 0; i < n_fses; i++) {
        const struct ofputil_flow_stats *fs = &fses[i];
        struct of_flow *want = of_flow_find(desired_, fs->table_id,
                                            fs->priority, &fs->match);
        if (!want) {
            struct of_flow old = {
                .table_id = fs->table_id, .priority = fs->priority,
                .match = fs->match,
            };
            struct ofpbuf *msg = encode_flow_mod(&old, OFPFC_DELETE_STRICT,
                                                 protocol);
            ovs_list_push_back(&requests, &msg->list_node);
            stats->deleted++;
            continue;
        }
        want->seen = true;
        if (want->cookie == fs->cookie
            && ofpacts_equal_stringwise(want->ofpacts, want->ofpacts_len,
                             fs->ofpacts, fs->ofpacts_len)) {
            stats->unchanged++;
        } else {
            if (getenv("VPCCTL_DEBUG")) {
                struct ds a = DS_EMPTY_INITIALIZER, b = DS_EMPTY_INITIALIZER;
                struct ofpact_format_params fa = { .s = &a };
                struct ofpact_format_params fb = { .s = &b };
                ofpacts_format(want->ofpacts, want->ofpacts_len, &fa);
                ofpacts_format(fs->ofpacts, fs->ofpacts_len, &fb);
                fprintf(stderr, "modify: %s\n    was: %s\n", ds_cstr(&a),
                        ds_cstr(&b));
                ds_destroy(&a);
                ds_destroy(&b);
            }
            struct ofpbuf *msg = encode_flow_mod(want, OFPFC_ADD, protocol);
            ovs_list_push_back(&requests, &msg->list_node);
            stats->modified++;
        }
    }
    HMAP_FOR_EACH (f, node, desired_) {
        if (!f->seen) {
            struct ofpbuf *msg = encode_flow_mod(f, OFPFC_ADD, protocol);
            ovs_list_push_back(&requests, &msg->list_node);
            stats->added++;
        }
    }
    free_switch_flows(fses, n_fses);

    if (!dry_run && !ovs_list_is_empty(&requests)) {
        struct ovs_list errors;
        int retval = vconn_bundle_transact(vconn, &requests,
                                       OFPBF_ATOMIC | OFPBF_ORDERED, &errors);
        if (retval || !ovs_list_is_empty(&errors)) {
            struct ds ds = DS_EMPTY_INITIALIZER;
            ds_put_format(&ds, "%s: bundle rejected, nothing changed",
                          target);
            if (retval) {
                ds_put_format(&ds, " (%s)", ovs_strerror(retval));
            }
            struct ofpbuf *e;
            LIST_FOR_EACH_POP (e, list_node, &errors) {
                char *s = ofp_to_string(e->data, e->size, NULL, NULL, 1);
                ds_put_format(&ds, "\n  %s", s);
                free(s);
                ofpbuf_delete(e);
            }
            error = ds_steal_cstr(&ds);
        }
    }
    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, &requests) {
        ofpbuf_delete(msg);
    }

out:
    vconn_close(vconn);
    return error;
}

/* ---------------------------------------------------------------- unixctl */

char *
vpc_appctl(const char *path, const char *command, int argc, char *argv[],
           char **output)
{
    *output = NULL;
    struct jsonrpc *client;
    int error = unixctl_client_create(path, &client);
    if (error) {
        return xasprintf("%s: cannot connect to ovs-vswitchd (%s)", path,
                         ovs_strerror(error));
    }
    char *result = NULL, *err = NULL;
    error = unixctl_client_transact(client, command, argc, argv, &result,
                                    &err);
    jsonrpc_close(client);
    if (error) {
        free(result);
        free(err);
        return xasprintf("%s: %s failed (%s)", path, command,
                         ovs_strerror(error));
    }
    if (err) {
        free(result);
        char *msg = xasprintf("%s: %s", command, err);
        free(err);
        return msg;
    }
    *output = result ? result : xstrdup("");
    return NULL;
}

/* ---------------------------------------------------------- mapping cache */

void
vpc_mapping_write(FILE *out, const struct pl_mapping_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ip[16], ul[16];
        vpc_ip_format(e[i].ip, ip);
        vpc_ip_format(e[i].underlay, ul);
        fprintf(out, "%"PRIu32" %s %s "ETH_ADDR_FMT"\n", e[i].vni, ip, ul,
                ETH_ADDR_ARGS(e[i].mac));
    }
}

char *
vpc_mapping_load(const char *ctl, const char *dir,
                 const struct pl_mapping_entry *e, size_t n, char **reply)
{
    *reply = NULL;
    if (!dir) {
        const char *tmpdir = getenv("TMPDIR");
        dir = tmpdir && tmpdir[0] ? tmpdir : "/tmp";
    }
    /* mkstemp(): a new file (O_EXCL), mode 0600. */
    char *path = xasprintf("%s/ovs-vpc-mapping.XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        char *error = xasprintf("mapping cache: %s: cannot create (%s)",
                                path, ovs_strerror(errno));
        free(path);
        return error;
    }

    struct ds ds = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        char ip[16], ul[16];
        vpc_ip_format(e[i].ip, ip);
        vpc_ip_format(e[i].underlay, ul);
        ds_put_format(&ds, "%"PRIu32" %s %s "ETH_ADDR_FMT"\n", e[i].vni, ip,
                      ul, ETH_ADDR_ARGS(e[i].mac));
    }
    size_t written;
    int retval = write_fully(fd, ds.string, ds.length, &written);
    ds_destroy(&ds);
    if (close(fd) && !retval) {
        retval = errno;
    }

    char *error = NULL;
    if (retval) {
        error = xasprintf("mapping cache: %s: write failed (%s)", path,
                          ovs_strerror(retval));
    } else {
        /* The count makes ovs-vswitchd refuse a file that holds anything
         * else than what was written, and accept an empty one. */
        char count[32];
        snprintf(count, sizeof count, "%"PRIuSIZE, n);
        char *args[] = { path, count };
        error = vpc_appctl(ctl, "vpcmap/load", 2, args, reply);
    }
    unlink(path);
    free(path);
    return error;
}

/* ------------------------------------------------------------ drop counts */

char *
vpc_stage_drops(const char *target, uint64_t drops[PL_N_STAGES])
{
    struct vpc_flow_counter *fc;
    size_t n;

    memset(drops, 0, PL_N_STAGES * sizeof *drops);
    char *error = vpc_flow_counters(target, &fc, &n);
    for (size_t i = 0; !error && i < n; i++) {
        int stage = pl_stage_by_table(fc[i].table);
        if (stage >= 0 && fc[i].drop) {
            drops[stage] += fc[i].packets;
        }
    }
    free(fc);
    return error;
}

/* ------------------------------------------------------- delta install */

static bool
same_flow(const struct pl_flow *a, const struct pl_flow *b)
{
    return a->cookie == b->cookie && !strcmp(a->actions, b->actions);
}

char *
vpc_apply_delta(const char *target, const struct pl_flows *old,
                const struct pl_flows *new, struct vpc_flowset *fs,
                struct vpc_apply_stats *stats)
{
    struct ovs_list adds, dels;     /* Parsed "struct of_flow"s. */
    char *error = NULL;
    const struct pl_flow *pf;

    memset(stats, 0, sizeof *stats);
    ovs_list_init(&adds);
    ovs_list_init(&dels);

    /* Compare the two compiled sets as text: only what differs is parsed. */
    struct hmap add_map = HMAP_INITIALIZER(&add_map);
    HMAP_FOR_EACH (pf, node, &new->flows) {
        const struct pl_flow *o = pl_flows_find(old, pf->table, pf->priority,
                                                pf->match);
        if (o && same_flow(o, pf)) {
            stats->unchanged++;
            continue;
        }
        struct of_flow *f = parse_flow(pf, &error);
        if (!f) {
            goto out;
        }
        hmap_insert(&add_map, &f->node,
                    of_flow_hash(f->table_id, f->priority, &f->match));
        if (o) {
            stats->modified++;
        } else {
            stats->added++;
        }
    }
    struct hmap del_map = HMAP_INITIALIZER(&del_map);
    HMAP_FOR_EACH (pf, node, &old->flows) {
        if (!pl_flows_find(new, pf->table, pf->priority, pf->match)) {
            struct of_flow *f = parse_flow(pf, &error);
            if (!f) {
                of_flows_destroy(&del_map);
                goto out;
            }
            hmap_insert(&del_map, &f->node,
                        of_flow_hash(f->table_id, f->priority, &f->match));
            stats->deleted++;
        }
    }

    if (!hmap_is_empty(&add_map) || !hmap_is_empty(&del_map)) {
        struct vconn *vconn;
        enum ofputil_protocol protocol;
        error = open_switch(target, &vconn, &protocol);
        if (error) {
            of_flows_destroy(&del_map);
            goto out;
        }
        int retval;
        struct ovs_list requests;
        ovs_list_init(&requests);
        struct of_flow *f;
        HMAP_FOR_EACH (f, node, &del_map) {
            struct ofpbuf *msg = encode_flow_mod(f, OFPFC_DELETE_STRICT,
                                                 protocol);
            ovs_list_push_back(&requests, &msg->list_node);
        }
        HMAP_FOR_EACH (f, node, &add_map) {
            struct ofpbuf *msg = encode_flow_mod(f, OFPFC_ADD, protocol);
            ovs_list_push_back(&requests, &msg->list_node);
        }
        struct ovs_list errors;
        retval = vconn_bundle_transact(vconn, &requests,
                                       OFPBF_ATOMIC | OFPBF_ORDERED, &errors);
        if (retval || !ovs_list_is_empty(&errors)) {
            error = xasprintf("%s: bundle rejected, nothing changed (%s)",
                              target, retval ? ovs_strerror(retval)
                                             : "switch error");
            struct ofpbuf *e;
            LIST_FOR_EACH_POP (e, list_node, &errors) {
                ofpbuf_delete(e);
            }
        }
        struct ofpbuf *msg;
        LIST_FOR_EACH_POP (msg, list_node, &requests) {
            ofpbuf_delete(msg);
        }
        vconn_close(vconn);
    }

    if (!error && fs) {
        /* The parsed set follows: out with the deleted and replaced... */
        struct of_flow *f, *old_f;
        HMAP_FOR_EACH (f, node, &del_map) {
            old_f = of_flow_find(&fs->flows, f->table_id, f->priority,
                                 &f->match);
            if (old_f) {
                hmap_remove(&fs->flows, &old_f->node);
                free(old_f->ofpacts);
                free(old_f);
            }
        }
        /* ...and in with the new. */
        HMAP_FOR_EACH_POP (f, node, &add_map) {
            old_f = of_flow_find(&fs->flows, f->table_id, f->priority,
                                 &f->match);
            if (old_f) {
                hmap_remove(&fs->flows, &old_f->node);
                free(old_f->ofpacts);
                free(old_f);
            }
            hmap_insert(&fs->flows, &f->node,
                        of_flow_hash(f->table_id, f->priority, &f->match));
        }
    }
    of_flows_destroy(&del_map);
out:
    of_flows_destroy(&add_map);
    return error;
}

char *
vpc_flow_counters(const char *target, struct vpc_flow_counter **out,
                  size_t *n_out)
{
    struct vconn *vconn;
    enum ofputil_protocol protocol;
    struct ofputil_flow_stats *fses;
    size_t n;

    *out = NULL;
    *n_out = 0;
    char *error = open_switch(target, &vconn, &protocol);
    if (error) {
        return error;
    }
    error = dump_switch_flows(vconn, protocol, &fses, &n);
    vconn_close(vconn);
    if (error) {
        return error;
    }
    *out = xcalloc(n + 1, sizeof **out);
    for (size_t i = 0; i < n; i++) {
        (*out)[i] = (struct vpc_flow_counter) {
            .table = fses[i].table_id, .drop = !fses[i].ofpacts_len,
            .cookie = ntohll(fses[i].cookie),
            .packets = fses[i].packet_count, .bytes = fses[i].byte_count,
        };
    }
    *n_out = n;
    free_switch_flows(fses, n);
    return NULL;
}
