/* daemon/pinctrl.c: vpcd's packet-in controller (pinctrl.h). */

#include <config.h>
#include "daemon/pinctrl.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "daemon/agent.h"
#include "daemon/dhcp.h"
#include "daemon/dns.h"
#include "csum.h"
#include "pipeline/pipeline.h"
#include "latch.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/token-bucket.h"
#include "openvswitch/vconn.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "openflow/openflow.h"
#include "flow.h"
#include "socket-util.h"
#include "switch/switch.h"
#include "timeval.h"
#include "translator/model.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(vpcd_pinctrl);

#define PC_CHECK_TICKS 20               /* Controller row: every 2 s. */
#define PC_MAX_BACKOFF_MS 1000          /* ovs-vswitchd reconnects. */
#define PC_BATCH 64                     /* Messages per wake-up. */
#define PC_TXQ_MAX 1024                 /* Packet-outs queued at most. */

/* Options. */
static struct {
    int rate, burst;                    /* ovs-vswitchd's, per second. */
    int dhcp_rate, dhcp_burst;          /* vpcd's, per ENI and service. */
    int dns_rate, dns_burst;
} opts = {
    .rate = 5000, .burst = 1000,
    /* A DHCP client sends a few packets per lease; AWS limits what an ENI
     * sends its resolver to 1024 packets a second. */
    .dhcp_rate = 20, .dhcp_burst = 40,
    .dns_rate = 1024, .dns_burst = 1024,
};

void
vpcd_pinctrl_option(int which, const char *arg)
{
    static const struct { const char *name; int min; int *v; } o[] = {
        { "--pinctrl-rate", 100, &opts.rate },
        { "--pinctrl-burst", 25, &opts.burst },
        { "--dhcp-eni-rate", 1, &opts.dhcp_rate },
        { "--dhcp-eni-burst", 1, &opts.dhcp_burst },
        { "--dns-eni-rate", 1, &opts.dns_rate },
        { "--dns-eni-burst", 1, &opts.dns_burst },
    };
    char *end;
    errno = 0;
    long int x = strtol(arg, &end, 10);
    if (errno || end == arg || *end || x < o[which].min || x > 1000000) {
        ovs_fatal(0, "%s=%s: expected an integer from %d to 1000000",
                  o[which].name, arg, o[which].min);
    }
    *o[which].v = x;
}

/* Services and drop reasons, as /metrics labels them. */
enum pc_service { PC_DHCP, PC_DNS, PC_OTHER, PC_N_SERVICES };
static const char *const service_names[] = { "dhcp", "dns", "other" };

#define PC_DROPS                                                        \
    PC_DROP(RATE, "rate_limit")     /* The ENI's token bucket. */      \
    PC_DROP(MALFORMED, "malformed") /* Not a valid request. */         \
    PC_DROP(NOT_ENI, "not_an_eni")  /* in_port is no local ENI's. */   \
    PC_DROP(SPOOFED, "spoofed")     /* MAC or chaddr not the ENI's. */ \
    PC_DROP(NO_REPLY, "no_reply")   /* RELEASE, DECLINE, relayed... */ \
    PC_DROP(DNS, "dns_not_served")  /* Not answered by the resolver. */\
    PC_DROP(QUEUE, "queue_full")    /* Packet-out queue full. */       \
    PC_DROP(NOT_CONNECTED, "not_connected")
enum pc_drop {
#define PC_DROP(ENUM, NAME) PC_DROP_##ENUM,
    PC_DROPS
#undef PC_DROP
    PC_N_DROPS
};
static const char *const drop_names[] = {
#define PC_DROP(ENUM, NAME) NAME,
    PC_DROPS
#undef PC_DROP
};

/* vpcd's token buckets of one ENI, by ofport: DHCP's and DNS's. */
struct pc_bucket {
    struct hmap_node node;
    int ofport;
    struct token_bucket tb[2];
};

static struct {
    bool on;
    char *path, *target;                /* punix:PATH, unix:PATH. */
    struct pvconn *pvconn;
    struct rconn *rconn;
    struct rconn_packet_counter *txq;
    struct hmap buckets;
    struct vpcd_dns *dns;               /* The VPC resolver. */
    uint64_t dns_version;               /* d->version its index has. */
    bool dns_indexed;

    /* The waiter thread (as daemon/follow.c's). */
    struct ovs_mutex mutex;
    pthread_cond_t cond;
    struct latch latch;
    int pipe[2];
    struct event *ev;
    pthread_t thread;
    bool pending, exiting;
    bool in_run;                        /* Main thread, mutex held. */

    /* The Controller row. */
    bool configured;
    unsigned int ticks;

    /* Statistics. */
    uint64_t packet_ins[PC_N_SERVICES];
    uint64_t answered[PC_N_SERVICES];
    uint64_t drops[PC_N_SERVICES][PC_N_DROPS];
    uint64_t dhcp_sent[DHCP_INFORM + 1];        /* By reply type. */
    uint64_t connections, sw_errors;
} pc = { .pipe = { -1, -1 } };

static void pc_status(const struct vpcd *, struct json *);
static void pc_metrics(const struct vpcd *, struct ds *);
static void pc_configure(struct vpcd *, bool wait);

/* ------------------------------------------------------------ sending */

/* Sends 'frame' out of 'port' as a packet-out.  Main thread, mutex
 * held. */
static void
pc_send_locked(const void *frame, size_t len, int port, enum pc_service svc)
{
    if (!pc.rconn || !rconn_is_connected(pc.rconn)) {
        pc.drops[svc][PC_DROP_NOT_CONNECTED]++;
        return;
    }
    uint64_t stub[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    ofpact_put_OUTPUT(&ofpacts)->port = u16_to_ofp(port);
    struct ofputil_packet_out po = {
        .packet = frame, .packet_len = len, .buffer_id = UINT32_MAX,
        .ofpacts = ofpacts.data, .ofpacts_len = ofpacts.size,
    };
    match_init_catchall(&po.flow_metadata);
    match_set_in_port(&po.flow_metadata, OFPP_CONTROLLER);
    enum ofputil_protocol proto = ofputil_protocol_from_ofp_version(
        rconn_get_version(pc.rconn));
    struct ofpbuf *msg = ofputil_encode_packet_out(&po, proto);
    ofpbuf_uninit(&ofpacts);
    if (rconn_send_with_limit(pc.rconn, msg, pc.txq, PC_TXQ_MAX)) {
        pc.drops[svc][PC_DROP_QUEUE]++;
    }
}

struct pc_send_ctx {
    vpcd_pinctrl_send_cb *send;
    void *aux;
};

static void
pc_send(const struct pc_send_ctx *ctx, const void *frame, size_t len,
        int port, enum pc_service svc)
{
    if (ctx->send) {
        ctx->send(frame, len, port, ctx->aux);
    } else if (pc.in_run) {
        pc_send_locked(frame, len, port, svc);
    } else {
        ovs_mutex_lock(&pc.mutex);
        pc_send_locked(frame, len, port, svc);
        latch_set(&pc.latch);           /* The waiter waits to send. */
        ovs_mutex_unlock(&pc.mutex);
    }
}

/* ------------------------------------------------------------ packets */

/* The local ENI on 'ofport', or NULL. */
static const struct vpc_eni *
eni_on_port(const struct vpcd *d, int ofport)
{
    const struct vpc_region *r = d->desired ? d->desired->region : NULL;
    for (size_t i = 0; r && i < d->n_bindings; i++) {
        if (d->bindings[i].ofport == ofport) {
            const struct vpc_eni *e = vpc_region_find_eni(
                r, d->bindings[i].eni_id);
            return e && !strcmp(e->host->id, d->host) ? e : NULL;
        }
    }
    return NULL;
}

static struct token_bucket *
eni_bucket(int ofport, enum pc_service svc)
{
    static bool inited;
    if (!inited) {
        hmap_init(&pc.buckets);         /* Also without vpcd_pinctrl_start()
                                         * (tests). */
        inited = true;
    }
    struct pc_bucket *b;
    HMAP_FOR_EACH_WITH_HASH (b, node, ofport, &pc.buckets) {
        if (b->ofport == ofport) {
            return &b->tb[svc == PC_DNS];
        }
    }
    b = xmalloc(sizeof *b);
    b->ofport = ofport;
    /* OVS's token bucket counts tokens per millisecond: one packet costs
     * 1000 tokens, so N tokens a millisecond are N packets a second. */
    token_bucket_init(&b->tb[0], opts.dhcp_rate,
                      (unsigned int) opts.dhcp_burst * 1000);
    token_bucket_init(&b->tb[1], opts.dns_rate,
                      (unsigned int) opts.dns_burst * 1000);
    hmap_insert(&pc.buckets, &b->node, ofport);
    return &b->tb[svc == PC_DNS];
}

/* Which service frame 'pkt' is for: UDP to port 67 or 53. */
static enum pc_service
classify(const uint8_t *pkt, size_t len)
{
    if (len < 14 + 20 + 8 || pkt[12] != 0x08 || pkt[13] != 0x00
        || pkt[14 + 9] != 17) {
        return PC_OTHER;
    }
    size_t ihl = (pkt[14] & 0x0f) * 4;
    if (ihl < 20 || len < 14 + ihl + 8) {
        return PC_OTHER;
    }
    const uint8_t *udp = pkt + 14 + ihl;
    int dport = (udp[2] << 8) | udp[3];
    return dport == 67 ? PC_DHCP : dport == 53 ? PC_DNS : PC_OTHER;
}

static void
handle_dhcp(struct vpcd *d, const struct vpc_eni *e, int in_port,
            const uint8_t *pkt, size_t len, const struct pc_send_ctx *ctx)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);
    struct dhcp_request req;
    char *error = dhcp_parse(pkt, len, &req);
    if (error) {
        VLOG_DBG_RL(&rl, "%s: malformed DHCP request: %s", e->id, error);
        free(error);
        pc.drops[PC_DHCP][PC_DROP_MALFORMED]++;
        return;
    }
    struct dhcp_config cfg;
    dhcp_config_from_model(d->desired->region, e, &cfg);
    uint64_t stub[2048 / 8];
    struct ofpbuf reply = OFPBUF_STUB_INITIALIZER(stub);
    uint8_t type = 0;
    switch (dhcp_answer(&req, &cfg, &reply, &type)) {
    case DHCP_OUT_REPLY:
        VLOG_DBG("%s: DHCP %s -> %s", e->id, dhcp_msg_type_name(req.type),
                 dhcp_msg_type_name(type));
        pc_send(ctx, reply.data, reply.size, in_port, PC_DHCP);
        pc.answered[PC_DHCP]++;
        pc.dhcp_sent[type]++;
        break;
    case DHCP_OUT_SPOOFED:
        VLOG_WARN_RL(&rl, "%s: DHCP %s from "ETH_ADDR_FMT" for "
                     ETH_ADDR_FMT", not the ENI's MAC "ETH_ADDR_FMT
                     ": no answer", e->id, dhcp_msg_type_name(req.type),
                     ETH_ADDR_ARGS(req.eth_src), ETH_ADDR_ARGS(req.chaddr),
                     ETH_ADDR_ARGS(cfg.mac));
        pc.drops[PC_DHCP][PC_DROP_SPOOFED]++;
        break;
    case DHCP_OUT_NONE:
    case DHCP_OUT_IGNORED:
        pc.drops[PC_DHCP][PC_DROP_NO_REPLY]++;
        break;
    }
    ofpbuf_uninit(&reply);
}

/* What a DNS reply needs of its query, kept by the resolver while an
 * upstream answers. */
struct pc_dns_ctx {
    int in_port;
    struct eth_addr vm_mac, router_mac;
    ovs_be32 vm_ip, resolver_ip;        /* The address the VM queried. */
    ovs_be16 vm_port;
    vpcd_pinctrl_send_cb *send;         /* Tests only; else NULL. */
    void *aux;
};

/* Makes the resolver's index the desired state's, if that changed (every
 * change of the desired document changes d->version). */
static void
dns_sync(const struct vpcd *d)
{
    if (pc.dns && d->desired
        && (!pc.dns_indexed || pc.dns_version != d->version)) {
        vpcd_dns_set_region(pc.dns, d->desired->region);
        pc.dns_version = d->version;
        pc.dns_indexed = true;
    }
}

/* The resolver answers: the reply goes back from the address the VM
 * queried, port 53, and the router MAC, to the port it came from. */
static void
dns_reply_cb(const uint8_t *reply, size_t len, const void *ctx_,
             void *aux OVS_UNUSED)
{
    const struct pc_dns_ctx *ctx = ctx_;
    if (len > PL_VM_MTU - 20 - 8) {
        pc.drops[PC_DNS][PC_DROP_DNS]++;    /* Too big unfragmented. */
        return;
    }
    uint64_t stub[2048 / 8];
    struct ofpbuf b = OFPBUF_STUB_INITIALIZER(stub);
    ofpbuf_put(&b, ctx->vm_mac.ea, ETH_ADDR_LEN);
    ofpbuf_put(&b, ctx->router_mac.ea, ETH_ADDR_LEN);
    ovs_be16 ethertype = htons(0x0800);
    ofpbuf_put(&b, &ethertype, 2);

    uint8_t ip[20] = { 0x45 };
    size_t total = 20 + 8 + len;
    ip[2] = total >> 8;
    ip[3] = total;
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, &ctx->resolver_ip, 4);
    memcpy(ip + 16, &ctx->vm_ip, 4);
    ovs_be16 ip_csum = csum(ip, sizeof ip);
    memcpy(ip + 10, &ip_csum, 2);
    ofpbuf_put(&b, ip, sizeof ip);

    uint8_t udp[8] = { 0, 53 };
    memcpy(udp + 2, &ctx->vm_port, 2);
    udp[4] = (8 + len) >> 8;
    udp[5] = 8 + len;
    uint32_t partial = csum_add32(0, ctx->resolver_ip);
    partial = csum_add32(partial, ctx->vm_ip);
    partial = csum_add16(partial, htons(17));
    partial = csum_add16(partial, htons(8 + len));
    partial = csum_continue(partial, udp, sizeof udp);
    partial = csum_continue(partial, reply, len);
    ovs_be16 udp_csum = csum_finish(partial);
    if (!udp_csum) {
        udp_csum = htons(0xffff);
    }
    memcpy(udp + 6, &udp_csum, 2);
    ofpbuf_put(&b, udp, sizeof udp);
    ofpbuf_put(&b, reply, len);

    struct pc_send_ctx send = { ctx->send, ctx->aux };
    pc_send(&send, b.data, b.size, ctx->in_port, PC_DNS);
    pc.answered[PC_DNS]++;
    ofpbuf_uninit(&b);
}

static void
handle_dns(struct vpcd *d, const struct vpc_eni *e, int in_port,
           const uint8_t *pkt, size_t len, const struct pc_send_ctx *sctx)
{
    /* classify() checked Ethernet, IPv4, UDP and the header lengths. */
    const uint8_t *ip = pkt + 14;
    size_t ihl = (ip[0] & 0x0f) * 4;
    size_t total = (ip[2] << 8) | ip[3];
    const uint8_t *udp = ip + ihl;
    size_t ulen = (udp[4] << 8) | udp[5];
    if (!pc.dns || (ip[6] & 0x3f) || ip[7] || total < ihl + 8
        || total > len - 14 || ulen < 8 || ulen > total - ihl) {
        pc.drops[PC_DNS][pc.dns ? PC_DROP_MALFORMED : PC_DROP_DNS]++;
        return;
    }
    dns_sync(d);
    struct pc_dns_ctx ctx = {
        .in_port = in_port,
        .router_mac = pl_router_mac(e->subnet->vpc),
        .send = sctx->send, .aux = sctx->aux,
    };
    memcpy(ctx.vm_mac.ea, pkt + 6, ETH_ADDR_LEN);
    memcpy(&ctx.vm_ip, ip + 12, 4);
    memcpy(&ctx.resolver_ip, ip + 16, 4);
    memcpy(&ctx.vm_port, udp, 2);
    vpcd_dns_query(pc.dns, e, udp + 8, ulen - 8, &ctx, sizeof ctx,
                   dns_reply_cb, NULL);
}

void
vpcd_pinctrl_packet(struct vpcd *d, int in_port, const uint8_t *pkt,
                    size_t len, vpcd_pinctrl_send_cb *send, void *aux)
{
    struct pc_send_ctx ctx = { send, aux };
    enum pc_service svc = classify(pkt, len);
    pc.packet_ins[svc]++;

    const struct vpc_eni *e = eni_on_port(d, in_port);
    if (!e) {
        pc.drops[svc][PC_DROP_NOT_ENI]++;
        return;
    }
    if (svc != PC_OTHER
        && !token_bucket_withdraw(eni_bucket(in_port, svc), 1000)) {
        pc.drops[svc][PC_DROP_RATE]++;
        return;
    }
    switch (svc) {
    case PC_DHCP:
        handle_dhcp(d, e, in_port, pkt, len, &ctx);
        break;
    case PC_DNS:
        handle_dns(d, e, in_port, pkt, len, &ctx);
        break;
    case PC_OTHER:
    case PC_N_SERVICES:
    default:
        pc.drops[PC_OTHER][PC_DROP_MALFORMED]++;
        break;
    }
}

/* ------------------------------------------------- the connection */

static void
handle_msg(struct vpcd *d, const struct ofpbuf *msg)
{
    const struct ofp_header *oh = msg->data;
    enum ofptype type;
    if (ofptype_decode(&type, oh)) {
        return;
    }
    if (type == OFPTYPE_ECHO_REQUEST) {
        rconn_send(pc.rconn, ofputil_encode_echo_reply(oh), NULL);
    } else if (type == OFPTYPE_PACKET_IN) {
        struct ofputil_packet_in pin;
        size_t total_len;
        uint32_t buffer_id;
        if (ofputil_decode_packet_in(oh, true, NULL, NULL, &pin, &total_len,
                                     &buffer_id, NULL)) {
            pc.packet_ins[PC_OTHER]++;
            pc.drops[PC_OTHER][PC_DROP_MALFORMED]++;
            return;
        }
        int in_port = ofp_to_u16(pin.flow_metadata.flow.in_port.ofp_port);
        if (pin.packet_len < total_len) {
            pc.packet_ins[PC_OTHER]++;
            pc.drops[PC_OTHER][PC_DROP_MALFORMED]++;   /* Truncated. */
        } else {
            vpcd_pinctrl_packet(d, in_port, pin.packet, pin.packet_len,
                                NULL, NULL);
        }
        /* 'pin' points into 'msg': nothing to free. */
    }
}

/* Main thread, mutex held: accepts, reads, sends. */
static void
pc_run(struct vpcd *d)
{
    struct vconn *new;
    int error = pvconn_accept(pc.pvconn, &new);
    if (!error) {
        rconn_connect_unreliably(pc.rconn, new, NULL);
        pc.connections++;
        VLOG_INFO("ovs-vswitchd connected to %s", pc.path);
    } else if (error != EAGAIN) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%s: accept failed (%s)", pc.path,
                     ovs_strerror(error));
    }
    rconn_run(pc.rconn);
    for (int i = 0; i < PC_BATCH; i++) {
        struct ofpbuf *msg = rconn_recv(pc.rconn);
        if (!msg) {
            break;
        }
        handle_msg(d, msg);
        ofpbuf_delete(msg);
    }
    rconn_run(pc.rconn);
}

static void *
pc_waiter(void *aux OVS_UNUSED)
{
    ovs_mutex_lock(&pc.mutex);
    while (!pc.exiting) {
        while (pc.pending && !pc.exiting) {
            ovs_mutex_cond_wait(&pc.cond, &pc.mutex);
        }
        if (pc.exiting) {
            break;
        }
        pvconn_wait(pc.pvconn);
        rconn_run_wait(pc.rconn);
        rconn_recv_wait(pc.rconn);
        latch_wait(&pc.latch);
        ovs_mutex_unlock(&pc.mutex);

        poll_block();

        ovs_mutex_lock(&pc.mutex);
        pc.pending = true;
        ignore(write(pc.pipe[1], "", 1));
    }
    ovs_mutex_unlock(&pc.mutex);
    return NULL;
}

static void
pc_event_cb(evutil_socket_t fd, short what OVS_UNUSED, void *d)
{
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
        continue;
    }
    ovs_mutex_lock(&pc.mutex);
    latch_poll(&pc.latch);
    pc.in_run = true;
    pc_run(d);
    pc.in_run = false;
    pc.pending = false;
    xpthread_cond_signal(&pc.cond);
    ovs_mutex_unlock(&pc.mutex);
}

void
vpcd_pinctrl_start(struct vpcd *d)
{
    pc.path = xasprintf("%s/pinctrl.sock", d->run_dir);
    char *listen = xasprintf("punix:%s", pc.path);
    pc.target = xasprintf("unix:%s", pc.path);
    /* OpenFlow 1.3 and later: a table miss drops (our pipeline has its
     * own misses anyway), and packet-ins carry the input port. */
    uint32_t versions = (1u << OFP13_VERSION) | (1u << OFP14_VERSION)
                        | (1u << OFP15_VERSION);
    int error = pvconn_open(listen, versions, DSCP_DEFAULT, &pc.pvconn);
    if (error) {
        ovs_fatal(error, "%s: cannot listen for ovs-vswitchd's packet-ins",
                  listen);
    }
    free(listen);
    pc.rconn = rconn_create(5, 0, DSCP_DEFAULT, versions);
    pc.txq = rconn_packet_counter_create();
    pc.dns = vpcd_dns_create(d->base, d->dns_upstreams, d->n_dns_upstreams);

    ovs_mutex_init(&pc.mutex);
    xpthread_cond_init(&pc.cond, NULL);
    latch_init(&pc.latch);
    xpipe_nonblocking(pc.pipe);
    pc.ev = event_new(d->base, pc.pipe[0], EV_READ | EV_PERSIST,
                      pc_event_cb, d);
    event_add(pc.ev, NULL);
    pc.thread = ovs_thread_create("pinctrl-waiter", pc_waiter, NULL);
    /* As daemon/follow.c: the waiter's long poll intervals are noise. */
    vlog_set_levels(vlog_module_from_name("timeval"), VLF_ANY_DESTINATION,
                    VLL_ERR);

    pc.on = true;
    pc_configure(d, true);
    d->pinctrl_status = pc_status;
    d->pinctrl_metrics = pc_metrics;
    VLOG_INFO("host services: packet-ins on %s (ovs-vswitchd: %d/s, bursts "
              "of %d; per ENI: DHCP %d/s, bursts of %d, DNS %d/s, bursts of "
              "%d)", pc.path, opts.rate, opts.burst, opts.dhcp_rate,
              opts.dhcp_burst, opts.dns_rate, opts.dns_burst);
}

/* Makes the bridge's controller vpcd's socket.  With 'wait', waits (at
 * most the OVS timeout) until ovs-vswitchd has applied a change: a bridge
 * that gains its first controller loses its flows, so at start this runs
 * before vpcd installs any. */
static void
pc_configure(struct vpcd *d, bool wait)
{
    int64_t next_cfg;
    char *err = sw_ovsdb_set_controller(d->db, d->bridge, pc.target,
                                        opts.rate, opts.burst,
                                        PC_MAX_BACKOFF_MS, &next_cfg);
    if (!err && next_cfg) {
        VLOG_INFO("host services: %s's controller is now %s "
                  "(fail_mode secure)", d->bridge, pc.target);
        long long int deadline = time_msec() + sw_ovs_get_timeout();
        int64_t cur = 0;
        while (wait && !err && cur < next_cfg && time_msec() < deadline) {
            err = sw_ovsdb_get_cur_cfg(d->db, &cur);
            if (!err && cur < next_cfg) {
                xnanosleep(10 * 1000 * 1000);
            }
        }
    }
    if (err) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "host services: %s", err);
        pc.sw_errors++;
        pc.configured = false;
        free(err);
    } else {
        pc.configured = true;
    }
}

void
vpcd_pinctrl_tick(struct vpcd *d)
{
    if (!pc.on) {
        return;
    }
    dns_sync(d);                /* Off the queries' path, mostly. */
    if (++pc.ticks % PC_CHECK_TICKS == 0) {
        pc_configure(d, false);
    }
}

void
vpcd_pinctrl_stop(struct vpcd *d OVS_UNUSED)
{
    if (!pc.on) {
        return;
    }
    ovs_mutex_lock(&pc.mutex);
    pc.exiting = true;
    xpthread_cond_signal(&pc.cond);
    latch_set(&pc.latch);
    ovs_mutex_unlock(&pc.mutex);
    xpthread_join(pc.thread, NULL);
    event_free(pc.ev);
    close(pc.pipe[0]);
    close(pc.pipe[1]);
    latch_destroy(&pc.latch);
    vpcd_dns_destroy(pc.dns);
    pc.dns = NULL;
    rconn_destroy(pc.rconn);
    rconn_packet_counter_destroy(pc.txq);
    pvconn_close(pc.pvconn);
    struct pc_bucket *b;
    HMAP_FOR_EACH_POP (b, node, &pc.buckets) {
        free(b);
    }
    free(pc.path);
    free(pc.target);
    pc.on = false;
}

/* ------------------------------------------------- status and metrics */

static void
pc_status(const struct vpcd *d OVS_UNUSED, struct json *status)
{
    struct json *o = json_object_create();
    json_object_put_string(o, "socket", pc.path);
    json_object_put(o, "controller_configured",
                    json_boolean_create(pc.configured));
    json_object_put(o, "connected", json_boolean_create(
                        pc.rconn && rconn_is_connected(pc.rconn)));
    json_object_put(o, "connections", json_integer_create(pc.connections));
    struct json *in = json_object_create(), *ans = json_object_create();
    for (int i = 0; i < PC_N_SERVICES; i++) {
        json_object_put(in, service_names[i],
                        json_integer_create(pc.packet_ins[i]));
        json_object_put(ans, service_names[i],
                        json_integer_create(pc.answered[i]));
    }
    json_object_put(o, "packet_ins", in);
    json_object_put(o, "answered", ans);
    struct json *dr = json_object_create();
    for (int i = 0; i < PC_N_DROPS; i++) {
        uint64_t n = 0;
        for (int k = 0; k < PC_N_SERVICES; k++) {
            n += pc.drops[k][i];
        }
        json_object_put(dr, drop_names[i], json_integer_create(n));
    }
    json_object_put(o, "dropped", dr);
    json_object_put(status, "services", o);
}

/* Writes the HELP and TYPE lines of counter family 'name' to 'ds'. */
static void
pc_put_counter_header(struct ds *ds, const char *name, const char *help)
{
    ds_put_format(ds, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
}

/* Writes counter family 'name', one sample per service from 'counts'. */
static void
pc_put_service_counter(struct ds *ds, const char *name, const char *help,
                       const uint64_t counts[PC_N_SERVICES])
{
    pc_put_counter_header(ds, name, help);
    for (int i = 0; i < PC_N_SERVICES; i++) {
        ds_put_format(ds, "%s{service=\"%s\"} %"PRIu64"\n",
                      name, service_names[i], counts[i]);
    }
}

static void
pc_metrics(const struct vpcd *d OVS_UNUSED, struct ds *ds)
{
    pc_put_service_counter(ds, "vpcd_services_packet_ins_total",
                           "Packet-ins received from ovs-vswitchd, by "
                           "service.", pc.packet_ins);
    pc_put_service_counter(ds, "vpcd_services_answered_total",
                           "Packets answered (a packet-out sent), by "
                           "service.", pc.answered);
    pc_put_counter_header(ds, "vpcd_services_dropped_total",
                          "Packet-ins not answered, by service and "
                          "reason.");
    for (int k = 0; k < PC_N_SERVICES; k++) {
        for (int i = 0; i < PC_N_DROPS; i++) {
            ds_put_format(ds, "vpcd_services_dropped_total{service=\"%s\","
                          "reason=\"%s\"} %"PRIu64"\n", service_names[k],
                          drop_names[i], pc.drops[k][i]);
        }
    }
    pc_put_counter_header(ds, "vpcd_services_dhcp_replies_total",
                          "DHCP replies sent, by message type.");
    static const uint8_t types[] = { DHCP_OFFER, DHCP_ACK, DHCP_NAK };
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        ds_put_format(ds, "vpcd_services_dhcp_replies_total{type=\"%s\"} "
                      "%"PRIu64"\n", dhcp_msg_type_name(types[i]),
                      pc.dhcp_sent[types[i]]);
    }
    ds_put_format(ds,
        "# HELP vpcd_services_connected 1 while ovs-vswitchd is connected "
        "to vpcd's packet-in socket.\n"
        "# TYPE vpcd_services_connected gauge\n"
        "vpcd_services_connected %d\n"
        "# HELP vpcd_services_connections_total Connections ovs-vswitchd "
        "made to it.\n"
        "# TYPE vpcd_services_connections_total counter\n"
        "vpcd_services_connections_total %"PRIu64"\n"
        "# HELP vpcd_services_switch_errors_total Failed OVSDB exchanges "
        "setting the bridge's controller.\n"
        "# TYPE vpcd_services_switch_errors_total counter\n"
        "vpcd_services_switch_errors_total %"PRIu64"\n",
        pc.rconn && rconn_is_connected(pc.rconn), pc.connections,
        pc.sw_errors);
    if (pc.dns) {
        vpcd_dns_metrics(pc.dns, ds);
    }
}
