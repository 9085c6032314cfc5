/* switch/switch.c: OVSDB bindings, atomic flow install, unixctl. */

#include <config.h>
#include "switch/switch.h"

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
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vconn.h"
#include "openvswitch/util.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "socket-util.h"
#include "stream.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "openvswitch/vlog.h"

VLOG_DEFINE_THIS_MODULE(vpc_switch);

/* "vpcctl -vvpc_switch:dbg" or vlog/set in vpcd: each modified flow. */
static struct vlog_rate_limit dbg_rl = VLOG_RATE_LIMIT_INIT(60, 60);

static const char *
rundir(void)
{
    const char *env = getenv("OVS_RUNDIR");
    return env && env[0] ? env : ovs_rundir();
}

char *
sw_default_db(void)
{
    return xasprintf("unix:%s/db.sock", rundir());
}

char *
sw_default_switch(const char *bridge)
{
    return xasprintf("unix:%s/%s.mgmt", rundir(), bridge);
}

/* ovs-vswitchd's control socket: "ovs-vswitchd.ctl" if started with
 * --unixctl=RUNDIR/ovs-vswitchd.ctl, else "ovs-vswitchd.PID.ctl". */
char *
sw_default_vswitchd_ctl(void)
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

/* --------------------------------------------------------------- timeouts */

/* Every exchange with OVS uses OVS's non-blocking primitives (stream,
 * jsonrpc, vconn) in a poll loop bounded by a deadline, the way
 * stream_open_block() and vconn_connect_block() bound a connection: the
 * *_block() helpers of libopenvswitch wait forever for a peer that accepted
 * the connection but never answers (a stopped ovs-vswitchd). */

static long long int ovs_timeout = VPC_OVS_TIMEOUT_MS;
static uint64_t ovs_timeouts;

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 8000

/* A peer (OVSDB remote, OpenFlow target or control socket) in backoff. */
struct peer_backoff {
    long long int backoff;      /* Current backoff, 0 if the peer answers. */
    long long int retry_at;     /* time_msec() from which to try again. */
};
static struct shash peers = SHASH_INITIALIZER(&peers);

void
sw_ovs_set_timeout(long long int ms)
{
    ovs_timeout = ms;
}

long long int
sw_ovs_get_timeout(void)
{
    return ovs_timeout;
}

uint64_t
sw_ovs_timeouts(void)
{
    return ovs_timeouts;
}

/* Returns an error if 'peer' timed out recently and is still in backoff,
 * else NULL. */
static char *
peer_check(const char *peer)
{
    const struct peer_backoff *pb = shash_find_data(&peers, peer);
    long long int now = time_msec();
    if (pb && pb->backoff && now < pb->retry_at) {
        return xasprintf("%s: did not answer within %lld ms; not retried "
                         "for another %lld ms (backoff)", peer, ovs_timeout,
                         pb->retry_at - now);
    }
    return NULL;
}

/* Records the outcome of an exchange with 'peer': 'error' ETIMEDOUT starts
 * or doubles its backoff, anything else (the peer answered, or refused
 * the connection, which costs nothing) ends it. */
static void
peer_done(const char *peer, int error)
{
    struct peer_backoff *pb = shash_find_data(&peers, peer);
    if (error == ETIMEDOUT) {
        ovs_timeouts++;
        if (!pb) {
            pb = xzalloc(sizeof *pb);
            shash_add(&peers, peer, pb);
        }
        pb->backoff = (pb->backoff
                       ? MIN(2 * pb->backoff, BACKOFF_MAX_MS)
                       : BACKOFF_MIN_MS);
        pb->retry_at = time_msec() + pb->backoff;
    } else if (pb) {
        pb->backoff = 0;
    }
}

/* The error message for a failed exchange: says when it timed out. */
static char *
peer_error(const char *peer, const char *what, int error)
{
    peer_done(peer, error);
    return (error == ETIMEDOUT
            ? xasprintf("%s: %s: no answer within %lld ms (timed out)", peer,
                        what, ovs_timeout)
            : xasprintf("%s: %s (%s)", peer, what,
                        ovs_retval_to_string(error)));
}

static long long int
deadline_from_now(void)
{
    return time_msec() + ovs_timeout;
}

/* jsonrpc_transact_block() with a deadline: sends 'request' (consumed) on
 * 'rpc' and waits for its reply, discarding anything else.  '*deadline'
 * moves forward whenever a message arrives. */
static int
rpc_transact(struct jsonrpc *rpc, struct jsonrpc_msg *request,
             struct jsonrpc_msg **replyp, long long int *deadline)
{
    struct json *id = json_clone(request->id);
    int error = jsonrpc_send(rpc, request);

    *replyp = NULL;
    while (!error) {
        struct jsonrpc_msg *msg;
        jsonrpc_run(rpc);
        error = jsonrpc_recv(rpc, &msg);
        if (!error) {
            *deadline = deadline_from_now();
            if ((msg->type == JSONRPC_REPLY || msg->type == JSONRPC_ERROR)
                && json_equal(id, msg->id)) {
                *replyp = msg;
                break;
            }
            jsonrpc_msg_destroy(msg);
        } else if (error == EAGAIN) {
            if (time_msec() >= *deadline) {
                error = ETIMEDOUT;
                break;
            }
            error = 0;
            jsonrpc_wait(rpc);
            jsonrpc_recv_wait(rpc);
            poll_timer_wait_until(*deadline);
            poll_block();
        }
    }
    json_destroy(id);
    return error;
}

/* vconn_send_block() with a deadline.  Always consumes 'msg'. */
static int
vc_send(struct vconn *vconn, struct ofpbuf *msg, long long int *deadline)
{
    int error;
    while ((error = vconn_send(vconn, msg)) == EAGAIN) {
        if (time_msec() >= *deadline) {
            error = ETIMEDOUT;
            break;
        }
        vconn_run(vconn);
        vconn_run_wait(vconn);
        vconn_send_wait(vconn);
        poll_timer_wait_until(*deadline);
        poll_block();
    }
    if (error) {
        ofpbuf_delete(msg);
    } else {
        *deadline = deadline_from_now();
    }
    return error;
}

/* vconn_recv_block() with a deadline. */
static int
vc_recv(struct vconn *vconn, struct ofpbuf **msgp, long long int *deadline)
{
    int error;
    while ((error = vconn_recv(vconn, msgp)) == EAGAIN) {
        if (time_msec() >= *deadline) {
            return ETIMEDOUT;
        }
        vconn_run(vconn);
        vconn_run_wait(vconn);
        vconn_recv_wait(vconn);
        poll_timer_wait_until(*deadline);
        poll_block();
    }
    if (!error) {
        *deadline = deadline_from_now();
    }
    return error;
}

/* Receives until the message with 'xid', which goes to '*replyp'.  OpenFlow
 * errors with another xid go to 'errors' (if nonnull); anything else is
 * dropped. */
static int
vc_recv_xid(struct vconn *vconn, ovs_be32 xid, struct ofpbuf **replyp,
            struct ovs_list *errors, long long int *deadline)
{
    for (;;) {
        struct ofpbuf *msg;
        int error = vc_recv(vconn, &msg, deadline);
        if (error) {
            *replyp = NULL;
            return error;
        }
        const struct ofp_header *oh = msg->data;
        enum ofptype type;
        if (oh->xid == xid) {
            *replyp = msg;
            return 0;
        } else if (errors && !ofptype_decode(&type, oh)
                   && type == OFPTYPE_ERROR) {
            ovs_list_push_back(errors, &msg->list_node);
        } else {
            ofpbuf_delete(msg);
        }
    }
}

/* Sends 'request' (consumed) and receives its reply. */
static int
vc_transact(struct vconn *vconn, struct ofpbuf *request,
            struct ofpbuf **replyp, struct ovs_list *errors,
            long long int *deadline)
{
    ovs_be32 xid = ((struct ofp_header *) request->data)->xid;
    int error = vc_send(vconn, request, deadline);
    if (error) {
        *replyp = NULL;
        return error;
    }
    return vc_recv_xid(vconn, xid, replyp, errors, deadline);
}

/* vconn_dump_flows() of every table, with a deadline. */
static int
vc_dump_flows(struct vconn *vconn, enum ofputil_protocol protocol,
              struct ofputil_flow_stats **fsesp, size_t *n_fsesp,
              long long int *deadline)
{
    struct ofputil_flow_stats_request fsr = {
        .out_port = OFPP_ANY, .out_group = OFPG_ANY, .table_id = 0xff,
    };
    match_init_catchall(&fsr.match);
    struct ofpbuf *request = ofputil_encode_flow_stats_request(&fsr,
                                                               protocol);
    ovs_be32 xid = ((struct ofp_header *) request->data)->xid;
    struct ofputil_flow_stats *fses = NULL;
    size_t n = 0, allocated = 0;
    struct ofpbuf ofpacts;
    bool more = true;

    ofpbuf_init(&ofpacts, 0);
    int error = vc_send(vconn, request, deadline);
    while (!error && more) {
        struct ofpbuf *reply;
        enum ofptype type;
        error = vc_recv_xid(vconn, xid, &reply, NULL, deadline);
        if (error) {
            break;
        }
        if (ofptype_decode(&type, reply->data)
            || type != OFPTYPE_FLOW_STATS_REPLY) {
            ofpbuf_delete(reply);
            error = EPROTO;
            break;
        }
        for (;;) {
            struct ofputil_flow_stats fs;
            int retval = ofputil_decode_flow_stats_reply(&fs, reply, false,
                                                         &ofpacts);
            if (retval == EOF) {
                more = ofpmp_more(reply->header);
                break;
            } else if (retval) {
                error = EPROTO;
                break;
            }
            if (n >= allocated) {
                fses = x2nrealloc(fses, &allocated, sizeof *fses);
            }
            fs.ofpacts = xmemdup(fs.ofpacts, fs.ofpacts_len);
            fses[n++] = fs;
        }
        ofpbuf_delete(reply);
    }
    ofpbuf_uninit(&ofpacts);
    if (error) {
        for (size_t i = 0; i < n; i++) {
            free(CONST_CAST(struct ofpact *, fses[i].ofpacts));
        }
        free(fses);
        fses = NULL;
        n = 0;
    }
    *fsesp = fses;
    *n_fsesp = n;
    return error;
}

/* Sends bundle control message 'bc' of 'type' and checks its reply. */
static int
vc_bundle_control(struct vconn *vconn, struct ofputil_bundle_ctrl_msg *bc,
                  uint16_t type, struct ovs_list *errors,
                  long long int *deadline)
{
    struct ofpbuf *reply;
    bc->type = type;
    struct ofpbuf *request = ofputil_encode_bundle_ctrl_request(
        vconn_get_version(vconn), bc);
    ofpmsg_update_length(request);
    int error = vc_transact(vconn, request, &reply, errors, deadline);
    if (error) {
        return error;
    }

    const struct ofp_header *oh = reply->data;
    struct ofputil_bundle_ctrl_msg rbc;
    enum ofptype ofptype;
    if (ofptype_decode(&ofptype, oh)) {
        error = EPROTO;
    } else if (ofptype == OFPTYPE_ERROR) {
        ovs_list_push_back(errors, &reply->list_node);
        return EPROTO;
    } else if (ofptype != OFPTYPE_BUNDLE_CONTROL
               || ofputil_decode_bundle_ctrl(oh, &rbc)
               || rbc.bundle_id != bc->bundle_id
               || rbc.type != type + 1) {
        error = EPROTO;
    }
    ofpbuf_delete(reply);
    return error;
}

/* vconn_bundle_transact() with a deadline: opens a bundle, adds
 * 'requests', and commits it only if the switch reported no error for any
 * of them (it discards it otherwise).  Errors go to 'errors'. */
static int
vc_bundle_transact(struct vconn *vconn, struct ovs_list *requests,
                   uint16_t flags, struct ovs_list *errors,
                   long long int *deadline)
{
    struct ofputil_bundle_ctrl_msg bc = { .flags = flags };
    enum ofp_version version = vconn_get_version(vconn);

    ovs_list_init(errors);
    int error = vc_bundle_control(vconn, &bc, OFPBCT_OPEN_REQUEST, errors,
                                  deadline);
    if (error) {
        return error;
    }

    struct ofpbuf *request;
    LIST_FOR_EACH (request, list_node, requests) {
        ofpmsg_update_length(request);
        struct ofputil_bundle_add_msg bam = {
            .bundle_id = bc.bundle_id, .flags = bc.flags,
            .msg = request->data,
        };
        error = vc_send(vconn, ofputil_encode_bundle_add(version, &bam),
                        deadline);
        if (error) {
            break;
        }
        /* Collect errors as they come, so that they do not fill the
         * socket buffer while we send. */
        struct ofpbuf *msg;
        enum ofptype type;
        while (!vconn_recv(vconn, &msg)) {
            if (!ofptype_decode(&type, msg->data) && type == OFPTYPE_ERROR) {
                ovs_list_push_back(errors, &msg->list_node);
            } else {
                ofpbuf_delete(msg);
            }
        }
    }
    if (!error) {
        /* A failed message does not fail the bundle: sync with a barrier
         * and commit only if no error came back. */
        struct ofpbuf *reply;
        error = vc_transact(vconn, ofputil_encode_barrier_request(version),
                            &reply, errors, deadline);
        ofpbuf_delete(reply);
    }
    if (!error && !ovs_list_is_empty(errors)) {
        error = EPROTO;
    }
    if (!error) {
        error = vc_bundle_control(vconn, &bc, OFPBCT_COMMIT_REQUEST, errors,
                                  deadline);
    } else if (error != ETIMEDOUT) {
        vc_bundle_control(vconn, &bc, OFPBCT_DISCARD_REQUEST, errors,
                          deadline);
    }
    return error;
}

/* Sends 'requests' (consumed) to 'vconn' as one atomic, ordered bundle of
 * switch 'target'.  Returns NULL or a message: no answer in time, or the
 * switch's errors (then nothing changed).  'timed_out_hint' ends the
 * time-out message. */
static char *
send_flow_bundle(struct vconn *vconn, const char *target,
                 struct ovs_list *requests, long long int *deadline,
                 const char *timed_out_hint)
{
    struct ovs_list errors;
    char *error = NULL;
    int retval = vc_bundle_transact(vconn, requests,
                                    OFPBF_ATOMIC | OFPBF_ORDERED, &errors,
                                    deadline);
    peer_done(target, retval);
    if (retval == ETIMEDOUT) {
        ofpbuf_list_delete(&errors);
        error = xasprintf("%s: bundle: no answer within %lld ms (timed "
                          "out)%s", target, ovs_timeout, timed_out_hint);
    } else if (retval || !ovs_list_is_empty(&errors)) {
        struct ds ds = DS_EMPTY_INITIALIZER;
        ds_put_format(&ds, "%s: bundle rejected, nothing changed", target);
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
    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, requests) {
        ofpbuf_delete(msg);
    }
    return error;
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
sw_ovsdb_transact(const char *db, struct json *params,
                   struct jsonrpc_msg **replyp)
{
    *replyp = NULL;
    char *busy = peer_check(db);
    if (busy) {
        json_destroy(params);
        return busy;
    }
    struct stream *stream;
    int error = stream_open_block(jsonrpc_stream_open(db, &stream,
                                                      DSCP_DEFAULT),
                                  ovs_timeout, &stream);
    if (error) {
        json_destroy(params);
        return peer_error(db, "cannot connect to OVSDB", error);
    }
    struct jsonrpc *rpc = jsonrpc_open(stream);
    struct jsonrpc_msg *request = jsonrpc_create_request("transact", params,
                                                         NULL);
    struct jsonrpc_msg *reply;
    long long int deadline = deadline_from_now();
    error = rpc_transact(rpc, request, &reply, &deadline);
    jsonrpc_close(rpc);
    if (error) {
        return peer_error(db, "OVSDB transaction failed", error);
    }
    peer_done(db, 0);
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

/* The host check (sw_set_host()). */
static char *host_db, *host_id;
static bool host_force, host_verified;

void
sw_set_host(const char *db, const char *host, bool force)
{
    free(host_db);
    free(host_id);
    host_db = db ? xstrdup(db) : NULL;
    host_id = host ? xstrdup(host) : NULL;
    host_force = force;
    host_verified = false;
}

/* Checks, and unless 'dry_run' claims, that the switch is host_id
 * (sw_set_host()).  Returns NULL or a malloc'd error. */
static char *
host_check(bool dry_run)
{
    if (!host_id || !host_db || host_verified) {
        return NULL;
    }
    struct json *op = json_from_string(
        "{\"op\": \"select\", \"table\": \"Open_vSwitch\", \"where\": [],"
        " \"columns\": [\"_uuid\", \"external_ids\"]}");
    struct jsonrpc_msg *reply;
    char *err = sw_ovsdb_transact(host_db, json_array_create_2(
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
    if (!rows || rows->type != JSON_ARRAY || json_array(rows)->n != 1) {
        err = xasprintf("%s: no Open_vSwitch record to tell which host this "
                        "switch is (ovs-vsctl init)", host_db);
        goto out;
    }
    const struct json *row = json_array(rows)->elems[0];
    const struct json *uuid = shash_find_data(json_object(row), "_uuid");
    const struct json *ids = shash_find_data(json_object(row),
                                             "external_ids");
    const struct json *cur = ids ? map_get(ids, "vpc-host") : NULL;
    const char *owner = cur && cur->type == JSON_STRING ? json_string(cur)
                                                        : NULL;
    if (owner && !strcmp(owner, host_id)) {
        host_verified = true;
        goto out;
    }
    if (owner && !host_force) {
        err = xasprintf("%s: this switch is %s's (Open_vSwitch "
                        "external_ids:vpc-host=%s), not %s's: refusing to "
                        "change its flows (a wrong --host?); if this machine "
                        "is now %s, give --force-host once, or run "
                        "'ovs-vsctl set Open_vSwitch . "
                        "external_ids:vpc-host=%s'", host_db, owner, owner,
                        host_id, host_id, host_id);
        goto out;
    }
    if (dry_run) {
        goto out;               /* It would claim the switch. */
    }
    /* Claim it, if its external_ids are still what was read. */
    struct json *where = json_array_create_1(json_array_create_3(
        json_string_create("_uuid"), json_string_create("=="),
        json_clone(uuid)));
    struct json *wait = json_object_create();
    json_object_put_string(wait, "op", "wait");
    json_object_put_string(wait, "table", "Open_vSwitch");
    json_object_put(wait, "where", json_clone(where));
    json_object_put(wait, "columns", json_array_create_1(
                        json_string_create("external_ids")));
    json_object_put_string(wait, "until", "==");
    struct json *was = json_object_create();
    json_object_put(was, "external_ids", json_clone(ids));
    json_object_put(wait, "rows", json_array_create_1(was));
    json_object_put(wait, "timeout", json_integer_create(0));

    struct json *mutate = json_object_create();
    json_object_put_string(mutate, "op", "mutate");
    json_object_put_string(mutate, "table", "Open_vSwitch");
    json_object_put(mutate, "where", where);
    struct json *pair = json_array_create_2(json_string_create("vpc-host"),
                                            json_string_create(host_id));
    json_object_put(mutate, "mutations", json_array_create_2(
        json_array_create_3(json_string_create("external_ids"),
                            json_string_create("delete"),
                            json_array_create_2(
                                json_string_create("set"),
                                json_array_create_1(
                                    json_string_create("vpc-host")))),
        json_array_create_3(json_string_create("external_ids"),
                            json_string_create("insert"),
                            json_array_create_2(
                                json_string_create("map"),
                                json_array_create_1(pair)))));
    struct json *params = json_array_create_3(
        json_string_create("Open_vSwitch"), wait, mutate);
    struct jsonrpc_msg *claimed;
    err = sw_ovsdb_transact(host_db, params, &claimed);
    if (!err) {
        const struct json *r = claimed->result;
        for (size_t i = 0; r && r->type == JSON_ARRAY
                           && i < json_array(r)->n; i++) {
            const struct json *e = json_array(r)->elems[i];
            const struct json *msg = (e->type == JSON_OBJECT
                                      ? shash_find_data(json_object(e),
                                                        "error")
                                      : NULL);
            if (msg && !err) {
                char *s = json_to_string(e, 0);
                err = xasprintf("%s: could not claim the switch for %s "
                                "(external_ids:vpc-host): %s", host_db,
                                host_id, s);
                free(s);
            }
        }
        jsonrpc_msg_destroy(claimed);
    }
    if (!err) {
        VLOG_INFO("%s: this switch is now %s's (Open_vSwitch "
                  "external_ids:vpc-host%s%s)", host_db, host_id,
                  owner ? ", was " : "", owner ? owner : "");
        host_verified = true;
    }
out:
    jsonrpc_msg_destroy(reply);
    return err;
}

void
sw_bindings_free(struct pl_binding *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(CONST_CAST(char *, b[i].eni_id));
    }
    free(b);
}

char *
sw_ovsdb_read_bindings(const char *db, struct pl_binding **bindings,
                        size_t *n, struct sw_ovs_ports *ports)
{
    *bindings = NULL;
    *n = 0;
    memset(ports, 0, sizeof *ports);

    struct json *op = json_from_string(
        "{\"op\": \"select\", \"table\": \"Interface\", \"where\": [],"
        " \"columns\": [\"name\", \"ofport\", \"type\", \"external_ids\","
        " \"mac_in_use\"]}");
    struct jsonrpc_msg *reply;
    char *err = sw_ovsdb_transact(db, json_array_create_2(
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
        const struct json *svc = ids ? map_get(ids, "vpc-service") : NULL;
        const struct json *mac = shash_find_data(json_object(row),
                                                 "mac_in_use");
        if (svc && svc->type == JSON_STRING
            && !strcmp(json_string(svc), "metadata")) {
            struct eth_addr ea;
            if (ports->metadata) {
                err = xasprintf("%s: more than one interface with "
                                "external_ids:vpc-service=metadata", db);
                goto out;
            }
            if (!mac || mac->type != JSON_STRING
                || !eth_addr_from_string(json_string(mac), &ea)) {
                continue;       /* Not up yet: no MAC. */
            }
            ports->metadata = json_integer(ofport);
            ports->metadata_mac = ea;
        } else if (edge && edge->type == JSON_STRING
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

/* ------------------------------------------------------- IPFIX (flow logs) */

/* The results of OVSDB transaction 'reply', which must be 'n' objects
 * without "error"; NULL or an error naming 'db'. */
static char *
ovsdb_results(const char *db, const struct jsonrpc_msg *reply, size_t n,
              const struct json ***results)
{
    const struct json *r = reply->result;
    if (!r || r->type != JSON_ARRAY || json_array(r)->n < n) {
        return xasprintf("%s: unexpected OVSDB reply", db);
    }
    for (size_t i = 0; i < json_array(r)->n; i++) {
        const struct json *o = json_array(r)->elems[i];
        const struct json *e = (o->type == JSON_OBJECT
                                ? shash_find_data(json_object(o), "error")
                                : NULL);
        if (o->type != JSON_OBJECT || e) {
            char *s = json_to_string(o, 0);
            char *err = xasprintf("%s: OVSDB error: %s", db, s);
            free(s);
            return err;
        }
    }
    *results = CONST_CAST(const struct json **, json_array(r)->elems);
    return NULL;
}

/* The first row of select result 'result', or NULL. */
static const struct json *
first_row(const struct json *result)
{
    const struct json *rows = shash_find_data(json_object(result), "rows");
    return (rows && rows->type == JSON_ARRAY && json_array(rows)->n
            && json_array(rows)->elems[0]->type == JSON_OBJECT
            ? json_array(rows)->elems[0] : NULL);
}

/* The integer 'key' of OVSDB row 'row' ('dflt' if it is empty or not an
 * integer). */
static int64_t
row_int(const struct json *row, const char *key, int64_t dflt)
{
    const struct json *v = row ? shash_find_data(json_object(row), key)
                               : NULL;
    return v && v->type == JSON_INTEGER ? json_integer(v) : dflt;
}

/* Appends to transaction 'ops' a select of integer column 'column' of the
 * (single) Open_vSwitch row; read its result with row_int(first_row(...)). */
static void
ops_select_ovs_int(struct json *ops, const char *column)
{
    struct json *op = json_object_create();
    json_object_put_string(op, "op", "select");
    json_object_put_string(op, "table", "Open_vSwitch");
    json_object_put(op, "where", json_array_create_empty());
    json_object_put(op, "columns", json_array_create_1(
                        json_string_create(column)));
    json_array_add(ops, op);
}

/* Appends to transaction 'ops' the two operations that ask ovs-vswitchd to
 * apply it: next_cfg += 1, then a select of next_cfg (the last result). */
static void
ops_bump_next_cfg(struct json *ops)
{
    json_array_add(ops, json_from_string(
        "{\"op\": \"mutate\", \"table\": \"Open_vSwitch\", \"where\": [],"
        " \"mutations\": [[\"next_cfg\", \"+=\", 1]]}"));
    ops_select_ovs_int(ops, "next_cfg");
}

/* Sends transaction 'ops', whose last operation is an ops_select_ovs_int()
 * of 'column', to 'db' and stores that column in '*value' (unchanged on
 * error).  Returns NULL or an error naming 'db'. */
static char *
ovsdb_transact_int(const char *db, struct json *ops, const char *column,
                   int64_t *value)
{
    size_t n_ops = json_array(ops)->n - 1;
    struct jsonrpc_msg *reply;
    const struct json **results;
    char *err = sw_ovsdb_transact(db, ops, &reply);
    if (!err) {
        err = ovsdb_results(db, reply, n_ops, &results);
    }
    if (!err) {
        *value = row_int(first_row(results[n_ops - 1]), column, 0);
    }
    jsonrpc_msg_destroy(reply);
    return err;
}

char *
sw_ovsdb_set_ipfix(const char *db, const char *bridge, int64_t set_id,
                   const char *const *targets, size_t n, int cache_timeout,
                   int cache_flows, int64_t *next_cfg)
{
    *next_cfg = 0;
    struct json *ops = json_array_create_1(
        json_string_create("Open_vSwitch"));
    json_array_add(ops, json_from_string(
        "{\"op\": \"select\", \"table\": \"Bridge\", \"where\": [],"
        " \"columns\": [\"_uuid\", \"name\"]}"));
    struct jsonrpc_msg *reply;
    char *err = sw_ovsdb_transact(db, ops, &reply);
    const struct json **results;
    if (err || (err = ovsdb_results(db, reply, 1, &results))) {
        jsonrpc_msg_destroy(reply);
        return err;
    }
    const struct json *uuid = NULL;
    const struct json *rows = shash_find_data(json_object(results[0]),
                                              "rows");
    for (size_t i = 0; rows && rows->type == JSON_ARRAY
                       && i < json_array(rows)->n; i++) {
        const struct json *row = json_array(rows)->elems[i];
        const struct json *name = shash_find_data(json_object(row), "name");
        if (name && name->type == JSON_STRING
            && !strcmp(json_string(name), bridge)) {
            uuid = shash_find_data(json_object(row), "_uuid");
        }
    }
    if (!uuid && n) {
        jsonrpc_msg_destroy(reply);
        return xasprintf("%s: no bridge %s", db, bridge);
    }

    ops = json_array_create_1(json_string_create("Open_vSwitch"));
    struct json *where = json_array_create_1(json_array_create_3(
        json_string_create("id"), json_string_create("=="),
        json_integer_create(set_id)));
    struct json *op = json_object_create();
    json_object_put_string(op, "op", "delete");
    json_object_put_string(op, "table", "Flow_Sample_Collector_Set");
    json_object_put(op, "where", where);
    json_array_add(ops, op);
    if (n) {
        struct json *set = json_array_create_empty();
        for (size_t i = 0; i < n; i++) {
            json_array_add(set, json_string_create(targets[i]));
        }
        struct json *row = json_object_create();
        json_object_put(row, "targets", json_array_create_2(
                            json_string_create("set"), set));
        json_object_put(row, "cache_active_timeout",
                        json_integer_create(cache_timeout));
        json_object_put(row, "cache_max_flows",
                        json_integer_create(cache_flows));
        op = json_object_create();
        json_object_put_string(op, "op", "insert");
        json_object_put_string(op, "table", "IPFIX");
        json_object_put(op, "row", row);
        json_object_put_string(op, "uuid-name", "ipfix");
        json_array_add(ops, op);

        row = json_object_create();
        json_object_put(row, "id", json_integer_create(set_id));
        json_object_put(row, "bridge", json_clone(uuid));
        json_object_put(row, "ipfix", json_array_create_2(
                            json_string_create("named-uuid"),
                            json_string_create("ipfix")));
        json_object_put(row, "external_ids", json_from_string(
                            "[\"map\", [[\"vpc-owner\", \"vpcd\"]]]"));
        op = json_object_create();
        json_object_put_string(op, "op", "insert");
        json_object_put_string(op, "table", "Flow_Sample_Collector_Set");
        json_object_put(op, "row", row);
        json_array_add(ops, op);
    }
    jsonrpc_msg_destroy(reply);
    ops_bump_next_cfg(ops);
    return ovsdb_transact_int(db, ops, "next_cfg", next_cfg);
}

char *
sw_ovsdb_set_controller(const char *db, const char *bridge,
                        const char *target, int rate, int burst,
                        int max_backoff_ms, int64_t *next_cfg)
{
    *next_cfg = 0;
    /* It changes the switch (and may flush its flows): only --host's. */
    char *host_error = host_check(false);
    if (host_error) {
        return host_error;
    }
    struct json *ops = json_array_create_1(
        json_string_create("Open_vSwitch"));
    struct json *op = json_object_create();
    json_object_put_string(op, "op", "select");
    json_object_put_string(op, "table", "Bridge");
    json_object_put(op, "where", json_array_create_1(json_array_create_3(
        json_string_create("name"), json_string_create("=="),
        json_string_create(bridge))));
    json_object_put(op, "columns", json_from_string(
                        "[\"controller\", \"fail_mode\"]"));
    json_array_add(ops, op);
    op = json_object_create();
    json_object_put_string(op, "op", "select");
    json_object_put_string(op, "table", "Controller");
    json_object_put(op, "where", json_array_create_1(json_array_create_3(
        json_string_create("target"), json_string_create("=="),
        json_string_create(target))));
    json_object_put(op, "columns", json_from_string(
                        "[\"_uuid\", \"controller_rate_limit\","
                        " \"controller_burst_limit\", \"max_backoff\"]"));
    json_array_add(ops, op);

    struct jsonrpc_msg *reply;
    const struct json **results;
    char *err = sw_ovsdb_transact(db, ops, &reply);
    if (err || (err = ovsdb_results(db, reply, 2, &results))) {
        jsonrpc_msg_destroy(reply);
        return err;
    }
    const struct json *br = first_row(results[0]);
    if (!br) {
        jsonrpc_msg_destroy(reply);
        return xasprintf("%s: no bridge %s", db, bridge);
    }
    const struct json *ctl = first_row(results[1]);
    const struct json *fail = shash_find_data(json_object(br), "fail_mode");
    const struct json *set = shash_find_data(json_object(br), "controller");
    /* One controller: ["uuid", U] (OVSDB's form of a set of one). */
    const struct json *uuid = ctl ? shash_find_data(json_object(ctl),
                                                    "_uuid") : NULL;
    bool ok = (ctl && uuid && set && json_equal(set, uuid)
               && row_int(ctl, "controller_rate_limit", 0) == rate
               && row_int(ctl, "controller_burst_limit", 0) == burst
               && row_int(ctl, "max_backoff", 0) == max_backoff_ms
               && fail && fail->type == JSON_STRING
               && !strcmp(json_string(fail), "secure"));
    jsonrpc_msg_destroy(reply);
    if (ok) {
        return NULL;
    }

    ops = json_array_create_1(json_string_create("Open_vSwitch"));
    struct json *row = json_object_create();
    json_object_put_string(row, "target", target);
    json_object_put(row, "controller_rate_limit", json_integer_create(rate));
    json_object_put(row, "controller_burst_limit",
                    json_integer_create(burst));
    json_object_put(row, "max_backoff", json_integer_create(max_backoff_ms));
    json_object_put(row, "external_ids", json_from_string(
                        "[\"map\", [[\"vpc-owner\", \"vpcd\"]]]"));
    op = json_object_create();
    json_object_put_string(op, "op", "insert");
    json_object_put_string(op, "table", "Controller");
    json_object_put(op, "row", row);
    json_object_put_string(op, "uuid-name", "ctl");
    json_array_add(ops, op);
    row = json_object_create();
    json_object_put(row, "controller", json_array_create_2(
                        json_string_create("named-uuid"),
                        json_string_create("ctl")));
    json_object_put_string(row, "fail_mode", "secure");
    op = json_object_create();
    json_object_put_string(op, "op", "update");
    json_object_put_string(op, "table", "Bridge");
    json_object_put(op, "where", json_array_create_1(json_array_create_3(
        json_string_create("name"), json_string_create("=="),
        json_string_create(bridge))));
    json_object_put(op, "row", row);
    json_array_add(ops, op);
    ops_bump_next_cfg(ops);
    return ovsdb_transact_int(db, ops, "next_cfg", next_cfg);
}

char *
sw_ovsdb_get_cur_cfg(const char *db, int64_t *cur_cfg)
{
    *cur_cfg = 0;
    struct json *ops = json_array_create_1(
        json_string_create("Open_vSwitch"));
    ops_select_ovs_int(ops, "cur_cfg");
    return ovsdb_transact_int(db, ops, "cur_cfg", cur_cfg);
}

char *
sw_ovsdb_get_ipfix(const char *db, int64_t set_id, const char *target,
                   bool *present, int64_t *cur_cfg)
{
    *present = false;
    *cur_cfg = 0;
    struct json *ops = json_array_create_1(
        json_string_create("Open_vSwitch"));
    struct json *op = json_object_create();
    json_object_put_string(op, "op", "select");
    json_object_put_string(op, "table", "Flow_Sample_Collector_Set");
    json_object_put(op, "where", json_array_create_1(json_array_create_3(
        json_string_create("id"), json_string_create("=="),
        json_integer_create(set_id))));
    json_object_put(op, "columns", json_array_create_1(
                        json_string_create("ipfix")));
    json_array_add(ops, op);
    json_array_add(ops, json_from_string(
        "{\"op\": \"select\", \"table\": \"IPFIX\", \"where\": [],"
        " \"columns\": [\"_uuid\", \"targets\"]}"));
    ops_select_ovs_int(ops, "cur_cfg");
    struct jsonrpc_msg *reply;
    const struct json **results;
    char *err = sw_ovsdb_transact(db, ops, &reply);
    if (err || (err = ovsdb_results(db, reply, 3, &results))) {
        jsonrpc_msg_destroy(reply);
        return err;
    }
    const struct json *set = first_row(results[0]);
    const struct json *ref = set ? shash_find_data(json_object(set),
                                                   "ipfix") : NULL;
    /* A reference is ["uuid", U]; an empty optional one ["set", []]. */
    const struct json *ipfix_uuid = NULL;
    if (ref && ref->type == JSON_ARRAY && json_array(ref)->n == 2
        && json_array(ref)->elems[1]->type == JSON_STRING) {
        ipfix_uuid = json_array(ref)->elems[1];
    }
    const struct json *rows = shash_find_data(json_object(results[1]),
                                              "rows");
    for (size_t i = 0; ipfix_uuid && rows && rows->type == JSON_ARRAY
                       && i < json_array(rows)->n; i++) {
        const struct json *row = json_array(rows)->elems[i];
        const struct json *u = shash_find_data(json_object(row), "_uuid");
        const struct json *t = shash_find_data(json_object(row), "targets");
        if (!u || u->type != JSON_ARRAY || json_array(u)->n != 2
            || json_array(u)->elems[1]->type != JSON_STRING
            || strcmp(json_string(json_array(u)->elems[1]),
                      json_string(ipfix_uuid))
            || !t) {
            continue;
        }
        /* One target is a plain string, several ["set", [...]]. */
        if (t->type == JSON_STRING) {
            *present = !strcmp(json_string(t), target);
        } else if (t->type == JSON_ARRAY && json_array(t)->n == 2
                   && json_array(t)->elems[1]->type == JSON_ARRAY) {
            const struct json_array *a = json_array(json_array(t)->elems[1]);
            for (size_t k = 0; k < a->n; k++) {
                *present |= (a->elems[k]->type == JSON_STRING
                             && !strcmp(json_string(a->elems[k]), target));
            }
        }
    }
    *cur_cfg = row_int(first_row(results[2]), "cur_cfg", 0);
    jsonrpc_msg_destroy(reply);
    return NULL;
}

/* --------------------------------------------------------------- OpenFlow */

/* A flow, parsed, keyed by what identifies it in an OpenFlow table. */
struct of_flow {
    struct hmap_node node;
    uint8_t table_id;
    uint16_t priority;
    struct match match;
    ovs_be64 cookie;
    uint16_t idle_timeout, hard_timeout;
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
        f->idle_timeout = fm.idle_timeout;
        f->hard_timeout = fm.hard_timeout;
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
        .idle_timeout = command == OFPFC_ADD ? f->idle_timeout : 0,
        .hard_timeout = command == OFPFC_ADD ? f->hard_timeout : 0,
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

/* Opens an OpenFlow 1.5 (or 1.4) connection to 'target', within the
 * timeout; '*deadline' is then the deadline of the next exchange. */
static char *
open_switch(const char *target, struct vconn **vconnp,
            enum ofputil_protocol *protocol, long long int *deadline)
{
    char *busy = peer_check(target);
    if (busy) {
        *vconnp = NULL;
        return busy;
    }
    int retval = vconn_open_block(target, 1u << OFP15_VERSION
                                  | 1u << OFP14_VERSION, DSCP_DEFAULT,
                                  ovs_timeout, vconnp);
    if (retval) {
        return peer_error(target, "cannot connect", retval);
    }
    *protocol = ofputil_protocol_from_ofp_version(vconn_get_version(*vconnp));
    *deadline = deadline_from_now();
    return NULL;
}

/* Dumps every flow of every table of the switch behind 'vconn'. */
static char *
dump_switch_flows(struct vconn *vconn, enum ofputil_protocol protocol,
                  struct ofputil_flow_stats **fses, size_t *n,
                  long long int *deadline)
{
    int retval = vc_dump_flows(vconn, protocol, fses, n, deadline);
    if (retval) {
        return peer_error(vconn_get_name(vconn), "cannot dump flows",
                          retval);
    }
    peer_done(vconn_get_name(vconn), 0);
    return NULL;
}

static void
free_switch_flows(struct ofputil_flow_stats *fses, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(CONST_CAST(struct ofpact *, fses[i].ofpacts));
    }
    free(fses);
}

struct sw_flowset {
    struct hmap flows;          /* Of "struct of_flow". */
};

char *
sw_flowset_parse(const struct pl_flows *flows, struct sw_flowset **fsp)
{
    struct sw_flowset *fs = xmalloc(sizeof *fs);
    hmap_init(&fs->flows);
    char *error = parse_flows(flows, &fs->flows);
    if (error) {
        sw_flowset_destroy(fs);
        fs = NULL;
    }
    *fsp = fs;
    return error;
}

void
sw_flowset_destroy(struct sw_flowset *fs)
{
    if (fs) {
        of_flows_destroy(&fs->flows);
        free(fs);
    }
}

size_t
sw_flowset_count(const struct sw_flowset *fs)
{
    return hmap_count(&fs->flows);
}

char *
sw_apply_flows(const char *target, const struct pl_flows *flows,
                bool dry_run, struct sw_apply_stats *stats)
{
    struct sw_flowset *fs;
    memset(stats, 0, sizeof *stats);
    char *error = sw_flowset_parse(flows, &fs);
    if (!error) {
        error = sw_apply_flowset(target, fs, dry_run, stats);
        sw_flowset_destroy(fs);
    }
    return error;
}

char *
sw_apply_flowset(const char *target, struct sw_flowset *fs, bool dry_run,
                  struct sw_apply_stats *stats)
{
    char *host_error = host_check(dry_run);
    if (host_error) {
        memset(stats, 0, sizeof *stats);
        return host_error;
    }
    struct hmap *desired_ = &fs->flows;
    char *error = NULL;
    memset(stats, 0, sizeof *stats);

    struct of_flow *f;
    HMAP_FOR_EACH (f, node, desired_) {
        f->seen = false;
    }

    struct vconn *vconn;
    enum ofputil_protocol protocol;
    long long int deadline;
    error = open_switch(target, &vconn, &protocol, &deadline);
    if (error) {
        return error;
    }

    /* What the switch has now, in every table. */
    struct ofputil_flow_stats *fses;
    size_t n_fses;
    error = dump_switch_flows(vconn, protocol, &fses, &n_fses, &deadline);
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
            && want->idle_timeout == fs->idle_timeout
            && want->hard_timeout == fs->hard_timeout
            && ofpacts_equal_stringwise(want->ofpacts, want->ofpacts_len,
                             fs->ofpacts, fs->ofpacts_len)) {
            stats->unchanged++;
        } else {
            if (!VLOG_DROP_DBG(&dbg_rl)) {
                struct ds a = DS_EMPTY_INITIALIZER, b = DS_EMPTY_INITIALIZER;
                struct ofpact_format_params fa = { .s = &a };
                struct ofpact_format_params fb = { .s = &b };
                ofpacts_format(want->ofpacts, want->ofpacts_len, &fa);
                ofpacts_format(fs->ofpacts, fs->ofpacts_len, &fb);
                VLOG_DBG("modify: %s (was: %s)", ds_cstr(&a), ds_cstr(&b));
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
        error = send_flow_bundle(vconn, target, &requests, &deadline,
                                 "; the audit will compare again");
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
sw_appctl(const char *path, const char *command, int argc, char *argv[],
           char **output)
{
    /* unixctl_client_create() and unixctl_client_transact(), bounded. */
    *output = NULL;
    char *busy = peer_check(path);
    if (busy) {
        return busy;
    }
    char *abs_path = abs_file_name(ovs_rundir(), path);
    char *name = xasprintf("unix:%s", abs_path);
    free(abs_path);
    struct stream *stream;
    int error = stream_open_block(stream_open(name, &stream, DSCP_DEFAULT),
                                  ovs_timeout, &stream);
    free(name);
    if (error) {
        return peer_error(path, "cannot connect to ovs-vswitchd", error);
    }

    struct jsonrpc *rpc = jsonrpc_open(stream);
    struct json *params = json_array_create_empty();
    for (int i = 0; i < argc; i++) {
        json_array_add(params, json_string_create(argv[i]));
    }
    struct jsonrpc_msg *reply;
    long long int deadline = deadline_from_now();
    error = rpc_transact(rpc, jsonrpc_create_request(command, params, NULL),
                         &reply, &deadline);
    jsonrpc_close(rpc);
    if (error) {
        char *what = xasprintf("%s failed", command);
        char *msg = peer_error(path, what, error);
        free(what);
        return msg;
    }
    peer_done(path, 0);

    char *msg = NULL;
    if (reply->error) {
        msg = (reply->error->type == JSON_STRING
               ? xasprintf("%s: %s", command, json_string(reply->error))
               : xasprintf("%s: %s: unexpected error type in reply", path,
                           command));
    } else if (reply->result && reply->result->type == JSON_STRING) {
        *output = xstrdup(json_string(reply->result));
    } else if (reply->result && reply->result->type != JSON_NULL) {
        msg = xasprintf("%s: %s: unexpected result type in reply", path,
                        command);
    } else {
        *output = xstrdup("");
    }
    jsonrpc_msg_destroy(reply);
    return msg;
}

/* ---------------------------------------------------------- mapping cache */

void
sw_mapping_write(FILE *out, const struct pl_mapping_entry *e, size_t n)
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
sw_mapping_load(const char *ctl, const char *dir,
                 const struct pl_mapping_entry *e, size_t n, char **reply)
{
    char *host_error = host_check(false);
    if (host_error) {
        *reply = NULL;
        return host_error;
    }
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
        error = sw_appctl(ctl, "vpcmap/load", 2, args, reply);
    }
    unlink(path);
    free(path);
    return error;
}

/* ------------------------------------------------------------ drop counts */

char *
sw_stage_drops(const char *target, uint64_t drops[PL_N_STAGES])
{
    struct sw_flow_counter *fc;
    size_t n;

    memset(drops, 0, PL_N_STAGES * sizeof *drops);
    char *error = sw_flow_counters(target, &fc, &n);
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
sw_apply_delta(const char *target, const struct pl_flows *old,
                const struct pl_flows *new, struct sw_flowset *fs,
                struct sw_apply_stats *stats)
{
    char *host_error = host_check(false);
    if (host_error) {
        memset(stats, 0, sizeof *stats);
        return host_error;
    }
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
        long long int deadline;
        error = open_switch(target, &vconn, &protocol, &deadline);
        if (error) {
            of_flows_destroy(&del_map);
            goto out;
        }
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
        error = send_flow_bundle(vconn, target, &requests, &deadline, "");
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

/* True if 'ofpacts' drop the packet: no action, or only samples (a flow
 * log's reject flow samples and drops, docs/flow-logs.md). */
static bool
only_samples(const struct ofpact *ofpacts, size_t ofpacts_len)
{
    const struct ofpact *a;
    OFPACT_FOR_EACH (a, ofpacts, ofpacts_len) {
        if (a->type != OFPACT_SAMPLE) {
            return false;
        }
    }
    return true;
}

char *
sw_flow_counters(const char *target, struct sw_flow_counter **out,
                  size_t *n_out)
{
    struct vconn *vconn;
    enum ofputil_protocol protocol = 0;
    struct ofputil_flow_stats *fses;
    size_t n;

    *out = NULL;
    *n_out = 0;
    long long int deadline;
    char *error = open_switch(target, &vconn, &protocol, &deadline);
    if (error) {
        return error;
    }
    error = dump_switch_flows(vconn, protocol, &fses, &n, &deadline);
    vconn_close(vconn);
    if (error) {
        return error;
    }
    *out = xcalloc(n + 1, sizeof **out);
    for (size_t i = 0; i < n; i++) {
        (*out)[i] = (struct sw_flow_counter) {
            .table = fses[i].table_id,
            .drop = only_samples(fses[i].ofpacts, fses[i].ofpacts_len),
            .cookie = ntohll(fses[i].cookie),
            .packets = fses[i].packet_count, .bytes = fses[i].byte_count,
        };
    }
    *n_out = n;
    free_switch_flows(fses, n);
    return NULL;
}
