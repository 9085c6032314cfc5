/* daemon/flowlog.c: vpcd's flow logs: IPFIX collector, aggregation and
 * log files (daemon/flowlog.h, docs/flow-logs.md). */

#include <config.h>
#include "daemon/flowlog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "daemon/agent.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "pipeline/pipeline.h"
#include "socket-util.h"
#include "timeval.h"
#include "translator/model.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flowlog);

/* IPFIX (RFC 7011): message header, set header, template record. */
#define IPFIX_VERSION 10
#define IPFIX_HDR_LEN 16
#define IPFIX_SET_TEMPLATE 2
#define IPFIX_SET_OPTIONS_TEMPLATE 3
#define IPFIX_SET_DATA_MIN 256
#define IPFIX_VARLEN 65535

/* Information elements vpcd reads (IANA numbers). */
enum {
    IE_OCTET_DELTA_COUNT = 1,
    IE_PACKET_DELTA_COUNT = 2,
    IE_PROTOCOL_IDENTIFIER = 4,
    IE_SOURCE_TRANSPORT_PORT = 7,
    IE_SOURCE_IPV4_ADDRESS = 8,
    IE_DESTINATION_TRANSPORT_PORT = 11,
    IE_DESTINATION_IPV4_ADDRESS = 12,
    IE_OBSERVATION_POINT_ID = 138,
    IE_FLOW_START_DELTA_USEC = 158,
    IE_FLOW_END_DELTA_USEC = 159,
};

/* ----------------------------------------------------------- options */

#define FL_DEFAULT_MAX_BYTES (10 * 1024 * 1024)
#define FL_DEFAULT_KEEP 5
#define FL_DEFAULT_MAX_PENDING 100000   /* Pending records, at most. */
#define FL_IPFIX_CACHE_FLOWS 8192       /* ovs-vswitchd's IPFIX flow cache. */
#define FL_CHECK_TICKS 20               /* Check the switch every 2 s. */
#define FL_RESET_TICKS 50               /* Wait at most 5 s for a reset. */

static struct {
    char *dir;                  /* NULL until started; "none": off. */
    int interval;               /* --flow-log-interval, or 0. */
    long long int max_bytes;
    int keep;
    int port;
    char *export;               /* --flow-log-ipfix, or NULL. */
    char *account;
    long long int max_pending;
} opts = {
    .max_bytes = FL_DEFAULT_MAX_BYTES, .keep = FL_DEFAULT_KEEP,
    .max_pending = FL_DEFAULT_MAX_PENDING,
};

static long long int
parse_int_option(const char *name, const char *arg, long long int min,
                 long long int max)
{
    char *end;
    errno = 0;
    long long int v = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max) {
        ovs_fatal(0, "--%s=%s: expected an integer from %lld to %lld", name,
                  arg, min, max);
    }
    return v;
}

void
vpcd_flowlog_option(int which, const char *arg)
{
    switch (which) {
    case 0:
        free(opts.dir);
        opts.dir = xstrdup(arg);
        break;
    case 1:
        opts.interval = parse_int_option("flow-log-interval", arg, 1, 3600);
        break;
    case 2:
        opts.max_bytes = parse_int_option("flow-log-max-bytes", arg, 1024,
                                          LLONG_MAX);
        break;
    case 3:
        opts.keep = parse_int_option("flow-log-keep", arg, 0, 1000);
        break;
    case 4:
        opts.port = parse_int_option("flow-log-port", arg, 0, 65535);
        break;
    case 5: {
        struct sockaddr_storage ss;
        if (!inet_parse_active(arg, -1, &ss, false, NULL)) {
            ovs_fatal(0, "--flow-log-ipfix=%s: expected IP:PORT", arg);
        }
        free(opts.export);
        opts.export = xstrdup(arg);
        break;
    }
    case 6:
        if (!arg[0] || strchr(arg, ' ')) {
            ovs_fatal(0, "--flow-log-account-id=%s: must be one word", arg);
        }
        free(opts.account);
        opts.account = xstrdup(arg);
        break;
    case 7:
        opts.max_pending = parse_int_option("flow-log-max-pending", arg, 1,
                                            100000000);
        break;
    default:
        OVS_NOT_REACHED();
    }
}

/* ------------------------------------------------------------- state */

/* A template (RFC 7011, 3.4.1), by observation domain and id. */
struct fl_field {
    uint16_t id;                /* Without the enterprise bit. */
    uint16_t len;               /* IPFIX_VARLEN: variable. */
    bool enterprise;
};

struct fl_template {
    struct hmap_node node;
    uint32_t domain;
    uint16_t id;
    bool options;               /* Options template: its data is skipped. */
    struct fl_field *fields;
    size_t n_fields;
    size_t min_len;             /* Of one record. */
};

/* An aggregate: what one flow log records of one ENI, 5-tuple and verdict
 * during one aggregation interval; or, with 'skip', the records of the
 * flow log and ENI that found no room (--flow-log-max-pending), written as
 * AWS's SKIPDATA record (no 5-tuple, verdict or counts). */
struct fl_agg {
    struct hmap_node node;
    bool skip;
    char *fl_id, *eni_id;
    uint32_t src, dst;          /* Host byte order. */
    uint16_t sport, dport;
    uint8_t proto;
    bool reject;
    uint64_t packets, bytes;
    long long int start, end;   /* Unix seconds. */
    long long int flush_at;     /* Monotonic msec. */
};

/* A flow log's file. */
struct fl_file {
    char *name;
    FILE *f;
    long long int size;
};

enum fl_drop {
    FL_DROP_MALFORMED,          /* Not IPFIX, or truncated. */
    FL_DROP_NO_TEMPLATE,        /* A data set before its template. */
    FL_DROP_UNKNOWN_POINT,      /* No local ENI for the observation point. */
    FL_DROP_NOT_LOGGED,         /* No flow log records it (any more). */
    FL_DROP_FULL,               /* --flow-log-max-pending pending (then
                                 * a SKIPDATA record says so). */
    FL_DROP_WRITE,              /* The file could not be written. */
    FL_N_DROPS
};

static const char *const drop_names[FL_N_DROPS] = {
    "malformed", "no_template", "unknown_point", "not_logged",
    "table_full", "write_error",
};

enum fl_switch_state {
    FL_SW_RESET,                /* Remove a stale collector set first. */
    FL_SW_WAIT,                 /* Until ovs-vswitchd applied the reset. */
    FL_SW_CLEAN,                /* Not configured. */
    FL_SW_CONFIGURED,
};

static struct {
    bool on;
    int fd;
    struct event *ev;
    char target[64];            /* "127.0.0.1:PORT". */
    struct hmap templates;
    struct hmap aggs;
    struct shash files;         /* Flow log id -> struct fl_file. */

    enum fl_switch_state sw;
    bool reset_tried;           /* The first FL_SW_RESET was attempted. */
    int64_t wait_cfg;
    unsigned int ticks, wait_ticks;

    /* Statistics. */
    uint64_t messages, records, drops[FL_N_DROPS], rotations;
    uint64_t written[3];        /* ACCEPT, REJECT, SKIPDATA records. */
    uint64_t sw_errors;
} fl = { .fd = -1 };

static void fl_read_cb(evutil_socket_t, short, void *);
static void fl_flush(struct vpcd *, bool all);
static void fl_status(const struct vpcd *, struct json *);
static void fl_metrics(const struct vpcd *, struct ds *);

void
vpcd_flowlog_start(struct vpcd *d)
{
    if (opts.dir && !strcmp(opts.dir, "none")) {
        return;
    }
    if (!opts.dir) {
        if (!d->state_file) {
            VLOG_INFO("flow logs off: no --flow-log-dir and no state "
                      "directory");
            return;
        }
        char *state_dir = dir_name(d->state_file);
        opts.dir = xasprintf("%s/flow-logs", state_dir);
        free(state_dir);
    }
    if (mkdir(opts.dir, 0750) && errno != EEXIST) {
        ovs_fatal(errno, "%s: cannot create the flow-log directory",
                  opts.dir);
    }

    fl.fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fl.fd < 0) {
        ovs_fatal(errno, "flow logs: socket");
    }
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons(opts.port),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    socklen_t len = sizeof sin;
    int rcvbuf = 4 * 1024 * 1024;
    setsockopt(fl.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (bind(fl.fd, (struct sockaddr *) &sin, sizeof sin)
        || getsockname(fl.fd, (struct sockaddr *) &sin, &len)
        || set_nonblocking(fl.fd)) {
        ovs_fatal(errno, "flow logs: cannot bind the IPFIX collector to "
                  "127.0.0.1:%d", opts.port);
    }
    snprintf(fl.target, sizeof fl.target, "127.0.0.1:%d",
             ntohs(sin.sin_port));
    fl.ev = event_new(d->base, fl.fd, EV_READ | EV_PERSIST, fl_read_cb, d);
    event_add(fl.ev, NULL);

    hmap_init(&fl.templates);
    hmap_init(&fl.aggs);
    shash_init(&fl.files);
    fl.sw = FL_SW_RESET;
    fl.on = true;
    d->flowlog_status = fl_status;
    d->flowlog_metrics = fl_metrics;
    VLOG_INFO("flow logs: IPFIX collector on %s, files in %s", fl.target,
              opts.dir);
}

/* ------------------------------------------------------- the switch */

/* The switch has the collector set while the desired document has a flow
 * log.  At start, a set left by an earlier vpcd is removed first and
 * ovs-vswitchd given time to apply that (its cur_cfg), so that the new
 * set makes a new exporter, which sends its templates at once (OVS sends
 * them only every 10 minutes after that). */
static void
fl_switch_run(struct vpcd *d)
{
    bool want = (d->desired && d->desired->region
                 && d->desired->region->n_flow_logs > 0);
    const char *targets[2] = { fl.target, opts.export };
    int cache_timeout = opts.interval ? MIN(opts.interval, 60) : 60;
    int64_t cfg;
    char *err = NULL;

    switch (fl.sw) {
    case FL_SW_RESET:
        /* Once at start, then (if that failed) only when needed: a switch
         * without flow logs is not asked again and again. */
        if (fl.reset_tried && !want) {
            break;
        }
        fl.reset_tried = true;
        err = sw_ovsdb_set_ipfix(d->db, d->bridge, PL_FL_COLLECTOR_SET, NULL,
                                 0, 0, 0, &fl.wait_cfg);
        if (!err) {
            fl.sw = FL_SW_WAIT;
            fl.wait_ticks = 0;
        }
        break;
    case FL_SW_WAIT: {
        bool present;
        err = sw_ovsdb_get_ipfix(d->db, PL_FL_COLLECTOR_SET, fl.target,
                                 &present, &cfg);
        if (!err && (cfg >= fl.wait_cfg || ++fl.wait_ticks > FL_RESET_TICKS)) {
            fl.sw = FL_SW_CLEAN;
        }
        break;
    }
    case FL_SW_CLEAN:
        if (want) {
            err = sw_ovsdb_set_ipfix(d->db, d->bridge, PL_FL_COLLECTOR_SET,
                                     targets, opts.export ? 2 : 1,
                                     cache_timeout, FL_IPFIX_CACHE_FLOWS,
                                     &cfg);
            if (!err) {
                VLOG_INFO("flow logs: collector set %d on %s exports to %s%s"
                          "%s", PL_FL_COLLECTOR_SET, d->bridge, fl.target,
                          opts.export ? " and " : "",
                          opts.export ? opts.export : "");
                fl.sw = FL_SW_CONFIGURED;
            }
        }
        break;
    case FL_SW_CONFIGURED:
        if (!want) {
            err = sw_ovsdb_set_ipfix(d->db, d->bridge, PL_FL_COLLECTOR_SET,
                                     NULL, 0, 0, 0, &cfg);
            if (!err) {
                VLOG_INFO("flow logs: no flow log: collector set removed");
                fl.sw = FL_SW_CLEAN;
            }
        } else if (fl.ticks % FL_CHECK_TICKS == 0) {
            bool present;
            err = sw_ovsdb_get_ipfix(d->db, PL_FL_COLLECTOR_SET, fl.target,
                                     &present, &cfg);
            if (!err && !present) {
                VLOG_WARN("flow logs: the collector set is gone from OVSDB: "
                          "restoring it");
                fl.sw = FL_SW_CLEAN;
            }
        }
        break;
    }
    if (err) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "flow logs: %s", err);
        fl.sw_errors++;
        free(err);
    }
}

void
vpcd_flowlog_tick(struct vpcd *d)
{
    if (!fl.on) {
        return;
    }
    fl.ticks++;
    fl_switch_run(d);
    fl_flush(d, false);
}

/* ------------------------------------------------------------- IPFIX */

static uint32_t
template_hash(uint32_t domain, uint16_t id)
{
    return hash_2words(domain, id);
}

static struct fl_template *
template_find(uint32_t domain, uint16_t id)
{
    struct fl_template *t;
    HMAP_FOR_EACH_WITH_HASH (t, node, template_hash(domain, id),
                             &fl.templates) {
        if (t->domain == domain && t->id == id) {
            return t;
        }
    }
    return NULL;
}

static void
template_remove(struct fl_template *t)
{
    hmap_remove(&fl.templates, &t->node);
    free(t->fields);
    free(t);
}

static uint16_t
get16(const uint8_t *p)
{
    return (p[0] << 8) | p[1];
}

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t) get16(p) << 16) | get16(p + 2);
}

/* A big-endian unsigned integer of 'len' bytes (at most 8 count). */
static uint64_t
get_uint(const uint8_t *p, size_t len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len && i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Parses the template records of set 'p' ('len' bytes, after the set
 * header).  Returns false if malformed. */
static bool
parse_templates(uint32_t domain, const uint8_t *p, size_t len, bool options)
{
    size_t hdr = options ? 6 : 4;
    while (len >= hdr) {
        uint16_t id = get16(p);
        uint16_t n = get16(p + 2);
        p += hdr;
        len -= hdr;
        struct fl_template *old = template_find(domain, id);
        if (old) {
            template_remove(old);
        }
        if (!n) {
            continue;               /* Withdrawal. */
        }
        struct fl_template *t = xzalloc(sizeof *t);
        t->domain = domain;
        t->id = id;
        t->options = options;
        t->fields = xcalloc(n, sizeof *t->fields);
        for (size_t i = 0; i < n; i++) {
            if (len < 4) {
                free(t->fields);
                free(t);
                return false;
            }
            struct fl_field *f = &t->fields[t->n_fields++];
            f->id = get16(p) & 0x7fff;
            f->enterprise = get16(p) & 0x8000;
            f->len = get16(p + 2);
            p += 4;
            len -= 4;
            if (f->enterprise) {
                if (len < 4) {
                    free(t->fields);
                    free(t);
                    return false;
                }
                p += 4;
                len -= 4;
            }
            t->min_len += f->len == IPFIX_VARLEN ? 1 : f->len;
        }
        if (!t->min_len) {
            /* Records of no length: nothing to read, and no end. */
            free(t->fields);
            free(t);
            return false;
        }
        hmap_insert(&fl.templates, &t->node, template_hash(domain, id));
    }
    return true;
}

/* What one data record says. */
struct fl_record {
    uint32_t point;
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    uint64_t packets, bytes;
    uint32_t start_delta_us, end_delta_us;
};

/* Which ENI of this host observation point 'point' stands for, for record
 * 'rec', or NULL. */
static const struct vpc_eni *
point_eni(const struct vpcd *d, const struct fl_record *rec)
{
    const struct vpc_region *r = d->desired->region;
    uint32_t low = rec->point & PL_FL_POINT_MASK;
    if (!(rec->point & PL_FL_POINT_SUBNET)) {
        /* A security-group verdict: the ENI on ofport 'low'. */
        for (size_t i = 0; i < d->n_bindings; i++) {
            if (d->bindings[i].ofport == (int) low) {
                return vpc_region_find_eni(r, d->bindings[i].eni_id);
            }
        }
        return NULL;
    }
    /* A network-ACL verdict of a subnet: its local ENI that sent the
     * packet (egress) or was to receive it (ingress). */
    for (size_t i = 0; i < d->n_bindings; i++) {
        const struct vpc_eni *e = vpc_region_find_eni(r,
                                                      d->bindings[i].eni_id);
        if (e && e->subnet
            && (pl_id_hash(e->subnet->id) & PL_FL_POINT_MASK) == low
            && (e->ip == rec->src || e->ip == rec->dst)) {
            return e;
        }
    }
    return NULL;
}

static uint32_t
agg_hash(const char *fl_id, const char *eni_id, const struct fl_record *rec,
         bool reject)
{
    uint32_t h = hash_string(fl_id, 0);
    h = hash_string(eni_id, h);
    if (!rec) {
        return hash_finish(h, 1);       /* SKIPDATA. */
    }
    h = hash_add(h, rec->src);
    h = hash_add(h, rec->dst);
    h = hash_add(h, (rec->sport << 16) | rec->dport);
    h = hash_add(h, (rec->proto << 1) | reject);
    return hash_finish(h, 0);
}

/* Notes that a record of flow log 'f' and ENI 'e' from 'start' to 'end'
 * found no room: its SKIPDATA aggregate (one per flow log and ENI, beyond
 * the limit) widens to cover it. */
static void
skipped(const struct vpc_flow_log *f, const struct vpc_eni *e,
        long long int start, long long int end, int interval)
{
    uint32_t hash = agg_hash(f->id, e->id, NULL, false);
    struct fl_agg *a;
    HMAP_FOR_EACH_WITH_HASH (a, node, hash, &fl.aggs) {
        if (a->skip && !strcmp(a->fl_id, f->id)
            && !strcmp(a->eni_id, e->id)) {
            a->start = MIN(a->start, start);
            a->end = MAX(a->end, end);
            return;
        }
    }
    a = xzalloc(sizeof *a);
    a->skip = true;
    a->fl_id = xstrdup(f->id);
    a->eni_id = xstrdup(e->id);
    a->start = start;
    a->end = end;
    a->flush_at = time_msec() + interval * 1000LL;
    hmap_insert(&fl.aggs, &a->node, hash);
}

/* Adds 'rec' (exported at Unix time 'export') to every flow log that
 * records it. */
static void
aggregate(struct vpcd *d, const struct fl_record *rec, uint32_t export)
{
    if (!d->desired || !d->desired->region) {
        fl.drops[FL_DROP_NOT_LOGGED]++;
        return;
    }
    const struct vpc_eni *e = point_eni(d, rec);
    if (!e) {
        fl.drops[FL_DROP_UNKNOWN_POINT]++;
        return;
    }
    bool reject = rec->point & PL_FL_POINT_REJECT;
    enum vpc_flow_log_traffic t = reject ? VPC_FL_REJECT : VPC_FL_ACCEPT;
    long long int start = export - rec->start_delta_us / 1000000;
    long long int end = export - rec->end_delta_us / 1000000;
    const struct vpc_region *r = d->desired->region;
    bool logged = false;
    for (size_t i = 0; i < r->n_flow_logs; i++) {
        const struct vpc_flow_log *f = &r->flow_logs[i];
        if (!(f->traffic & t) || !vpc_flow_log_covers(f, e)) {
            continue;
        }
        logged = true;
        uint32_t hash = agg_hash(f->id, e->id, rec, reject);
        struct fl_agg *a;
        bool found = false;
        HMAP_FOR_EACH_WITH_HASH (a, node, hash, &fl.aggs) {
            if (!a->skip && a->src == rec->src && a->dst == rec->dst
                && a->sport == rec->sport && a->dport == rec->dport
                && a->proto == rec->proto && a->reject == reject
                && !strcmp(a->fl_id, f->id) && !strcmp(a->eni_id, e->id)) {
                found = true;
                break;
            }
        }
        int interval = (opts.interval ? opts.interval
                        : f->max_aggregation_interval);
        if (!found && hmap_count(&fl.aggs) >= (size_t) opts.max_pending) {
            fl.drops[FL_DROP_FULL]++;
            skipped(f, e, start, end, interval);
            continue;
        }
        if (!found) {
            a = xzalloc(sizeof *a);
            a->fl_id = xstrdup(f->id);
            a->eni_id = xstrdup(e->id);
            a->src = rec->src;
            a->dst = rec->dst;
            a->sport = rec->sport;
            a->dport = rec->dport;
            a->proto = rec->proto;
            a->reject = reject;
            a->start = start;
            a->end = end;
            a->flush_at = time_msec() + interval * 1000LL;
            hmap_insert(&fl.aggs, &a->node, hash);
        }
        a->packets += rec->packets;
        a->bytes += rec->bytes;
        a->start = MIN(a->start, start);
        a->end = MAX(a->end, end);
    }
    if (!logged) {
        fl.drops[FL_DROP_NOT_LOGGED]++;
    }
}

/* Parses data set 'p' ('len' bytes after the set header) of template
 * 't'. */
static bool
parse_data(struct vpcd *d, const struct fl_template *t, const uint8_t *p,
           size_t len, uint32_t export)
{
    while (len >= t->min_len && len > 0) {
        struct fl_record rec = { .point = 0 };
        for (size_t i = 0; i < t->n_fields; i++) {
            const struct fl_field *f = &t->fields[i];
            size_t flen = f->len;
            if (flen == IPFIX_VARLEN) {
                if (len < 1) {
                    return false;
                }
                flen = p[0];
                p++, len--;
                if (flen == 255) {
                    if (len < 2) {
                        return false;
                    }
                    flen = get16(p);
                    p += 2, len -= 2;
                }
            }
            if (len < flen) {
                return false;
            }
            uint64_t v = get_uint(p, flen);
            if (!f->enterprise) {
                switch (f->id) {
                case IE_OBSERVATION_POINT_ID: rec.point = v; break;
                case IE_SOURCE_IPV4_ADDRESS: rec.src = v; break;
                case IE_DESTINATION_IPV4_ADDRESS: rec.dst = v; break;
                case IE_SOURCE_TRANSPORT_PORT: rec.sport = v; break;
                case IE_DESTINATION_TRANSPORT_PORT: rec.dport = v; break;
                case IE_PROTOCOL_IDENTIFIER: rec.proto = v; break;
                case IE_PACKET_DELTA_COUNT: rec.packets = v; break;
                case IE_OCTET_DELTA_COUNT: rec.bytes = v; break;
                case IE_FLOW_START_DELTA_USEC: rec.start_delta_us = v; break;
                case IE_FLOW_END_DELTA_USEC: rec.end_delta_us = v; break;
                default: break;
                }
            }
            p += flen;
            len -= flen;
        }
        if (!t->options) {
            fl.records++;
            aggregate(d, &rec, export);
        }
    }
    return true;
}

int
vpcd_flowlog_receive(struct vpcd *d, const uint8_t *msg, size_t len)
{
    fl.messages++;
    if (len < IPFIX_HDR_LEN || get16(msg) != IPFIX_VERSION
        || get16(msg + 2) > len || get16(msg + 2) < IPFIX_HDR_LEN) {
        fl.drops[FL_DROP_MALFORMED]++;
        return EPROTO;
    }
    len = get16(msg + 2);
    uint32_t export = get32(msg + 4);
    uint32_t domain = get32(msg + 12);
    const uint8_t *p = msg + IPFIX_HDR_LEN;
    len -= IPFIX_HDR_LEN;
    while (len >= 4) {
        uint16_t set_id = get16(p);
        uint16_t set_len = get16(p + 2);
        if (set_len < 4 || set_len > len) {
            fl.drops[FL_DROP_MALFORMED]++;
            return EPROTO;
        }
        bool ok = true;
        if (set_id == IPFIX_SET_TEMPLATE
            || set_id == IPFIX_SET_OPTIONS_TEMPLATE) {
            ok = parse_templates(domain, p + 4, set_len - 4,
                                 set_id == IPFIX_SET_OPTIONS_TEMPLATE);
        } else if (set_id >= IPFIX_SET_DATA_MIN) {
            const struct fl_template *t = template_find(domain, set_id);
            if (!t) {
                fl.drops[FL_DROP_NO_TEMPLATE]++;
            } else if (domain == PL_FL_DOMAIN || t->options) {
                ok = parse_data(d, t, p + 4, set_len - 4, export);
            }
        }
        if (!ok) {
            fl.drops[FL_DROP_MALFORMED]++;
            return EPROTO;
        }
        p += set_len;
        len -= set_len;
    }
    return 0;
}

static void
fl_read_cb(evutil_socket_t fd, short what OVS_UNUSED, void *d)
{
    static uint8_t buf[65536];
    for (int i = 0; i < 256; i++) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
                VLOG_WARN_RL(&rl, "flow logs: recv: %s",
                             ovs_strerror(errno));
            }
            return;
        }
        vpcd_flowlog_receive(d, buf, n);
    }
}

/* ------------------------------------------------------------- files */

#define FL_HEADER "version account-id interface-id srcaddr dstaddr " \
    "srcport dstport protocol packets bytes start end action log-status\n"

/* Opens (creating, with the header line) the file of flow log 'id'. */
static struct fl_file *
file_open(const char *id)
{
    struct fl_file *ff = shash_find_data(&fl.files, id);
    if (ff && ff->f) {
        return ff;
    }
    if (!ff) {
        ff = xzalloc(sizeof *ff);
        ff->name = xasprintf("%s/%s.log", opts.dir, id);
        shash_add(&fl.files, id, ff);
    }
    ff->f = fopen(ff->name, "a");
    if (!ff->f) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "flow logs: %s: %s", ff->name,
                     ovs_strerror(errno));
        return NULL;
    }
    struct stat st;
    ff->size = fstat(fileno(ff->f), &st) ? 0 : st.st_size;
    if (!ff->size && fputs(FL_HEADER, ff->f) >= 0) {
        ff->size = strlen(FL_HEADER);
    }
    return ff;
}

/* Rotates 'ff' by size: FILE.log.(N-1) to FILE.log.N ... FILE.log to
 * FILE.log.1, the oldest beyond --flow-log-keep removed. */
static void
file_rotate(struct fl_file *ff)
{
    fclose(ff->f);
    ff->f = NULL;
    for (int i = opts.keep; i >= 1; i--) {
        char *from = i > 1 ? xasprintf("%s.%d", ff->name, i - 1)
                           : xstrdup(ff->name);
        char *to = xasprintf("%s.%d", ff->name, i);
        rename(from, to);       /* ENOENT for files not yet made. */
        free(from);
        free(to);
    }
    if (!opts.keep) {
        unlink(ff->name);
    }
    fl.rotations++;
}

static void
write_record(const struct fl_agg *a)
{
    char src[16], dst[16];
    vpc_ip_format(a->src, src);
    vpc_ip_format(a->dst, dst);
    const char *account = opts.account ? opts.account : "-";
    char *line = (a->skip
                  ? xasprintf("2 %s %s - - - - - - - %lld %lld - SKIPDATA\n",
                              account, a->eni_id, a->start, a->end)
                  : xasprintf("2 %s %s %s %s %u %u %u %"PRIu64" %"PRIu64" "
                              "%lld %lld %s OK\n", account, a->eni_id, src,
                              dst, a->sport, a->dport, a->proto, a->packets,
                              a->bytes, a->start, a->end,
                              a->reject ? "REJECT" : "ACCEPT"));
    size_t len = strlen(line);
    struct fl_file *ff = file_open(a->fl_id);
    if (ff && ff->size + (long long int) len > opts.max_bytes
        && ff->size > (long long int) strlen(FL_HEADER)) {
        file_rotate(ff);
        ff = file_open(a->fl_id);
    }
    if (ff && fputs(line, ff->f) >= 0) {
        ff->size += len;
        fl.written[a->skip ? 2 : a->reject]++;
    } else {
        fl.drops[FL_DROP_WRITE]++;
    }
    free(line);
}

/* Writes the aggregates whose interval ended (every one if 'all'). */
static void
fl_flush(struct vpcd *d OVS_UNUSED, bool all)
{
    long long int now = time_msec();
    struct fl_agg *a;
    bool wrote = false;
    HMAP_FOR_EACH_SAFE (a, node, &fl.aggs) {
        if (all || a->flush_at <= now) {
            write_record(a);
            wrote = true;
            hmap_remove(&fl.aggs, &a->node);
            free(a->fl_id);
            free(a->eni_id);
            free(a);
        }
    }
    if (wrote) {
        struct shash_node *node;
        SHASH_FOR_EACH (node, &fl.files) {
            struct fl_file *ff = node->data;
            if (ff->f && fflush(ff->f)) {
                fl.drops[FL_DROP_WRITE]++;
            }
        }
    }
}

void
vpcd_flowlog_stop(struct vpcd *d)
{
    if (!fl.on) {
        return;
    }
    if (fl.sw == FL_SW_CONFIGURED) {
        /* ovs-vswitchd exports what its IPFIX cache holds when the exporter
         * goes: read that until it has applied the removal (at most 2 s),
         * so that it is written too. */
        int64_t cfg, cur = 0;
        char *err = sw_ovsdb_set_ipfix(d->db, d->bridge, PL_FL_COLLECTOR_SET,
                                       NULL, 0, 0, 0, &cfg);
        long long int deadline = time_msec() + 2000;
        while (!err && time_msec() < deadline) {
            bool present;
            fl_read_cb(fl.fd, 0, d);
            if (cur >= cfg) {
                break;          /* Applied, and read once more since. */
            }
            err = sw_ovsdb_get_ipfix(d->db, PL_FL_COLLECTOR_SET, fl.target,
                                     &present, &cur);
            xnanosleep(20 * 1000 * 1000);
        }
        if (err) {
            VLOG_WARN("flow logs: %s", err);
            free(err);
        }
    }
    fl_flush(d, true);
    event_free(fl.ev);
    close(fl.fd);
    struct fl_template *t;
    HMAP_FOR_EACH_SAFE (t, node, &fl.templates) {
        template_remove(t);
    }
    hmap_destroy(&fl.templates);
    hmap_destroy(&fl.aggs);
    struct shash_node *node;
    SHASH_FOR_EACH (node, &fl.files) {
        struct fl_file *ff = node->data;
        if (ff->f) {
            fclose(ff->f);
        }
        free(ff->name);
    }
    shash_destroy_free_data(&fl.files);
    fl.on = false;
}

/* ------------------------------------------------- status and metrics */

static void
fl_status(const struct vpcd *d OVS_UNUSED, struct json *status)
{
    struct json *o = json_object_create();
    json_object_put_string(o, "collector", fl.target);
    json_object_put_string(o, "dir", opts.dir);
    json_object_put(o, "configured",
                    json_boolean_create(fl.sw == FL_SW_CONFIGURED));
    json_object_put(o, "pending", json_integer_create(hmap_count(&fl.aggs)));
    json_object_put(o, "records_accept", json_integer_create(fl.written[0]));
    json_object_put(o, "records_reject", json_integer_create(fl.written[1]));
    json_object_put(o, "records_skipdata",
                    json_integer_create(fl.written[2]));
    uint64_t dropped = 0;
    for (int i = 0; i < FL_N_DROPS; i++) {
        dropped += fl.drops[i];
    }
    json_object_put(o, "dropped", json_integer_create(dropped));
    json_object_put(status, "flow_logs", o);
}

static void
fl_metrics(const struct vpcd *d OVS_UNUSED, struct ds *ds)
{
    ds_put_format(ds,
        "# HELP vpcd_flow_log_ipfix_messages_total IPFIX messages received "
        "from ovs-vswitchd.\n"
        "# TYPE vpcd_flow_log_ipfix_messages_total counter\n"
        "vpcd_flow_log_ipfix_messages_total %"PRIu64"\n"
        "# HELP vpcd_flow_log_ipfix_records_total IPFIX data records "
        "received.\n"
        "# TYPE vpcd_flow_log_ipfix_records_total counter\n"
        "vpcd_flow_log_ipfix_records_total %"PRIu64"\n"
        "# HELP vpcd_flow_log_records_total Flow-log records written.\n"
        "# TYPE vpcd_flow_log_records_total counter\n"
        "vpcd_flow_log_records_total{action=\"ACCEPT\"} %"PRIu64"\n"
        "vpcd_flow_log_records_total{action=\"REJECT\"} %"PRIu64"\n"
        "vpcd_flow_log_records_total{action=\"SKIPDATA\"} %"PRIu64"\n",
        fl.messages, fl.records, fl.written[0], fl.written[1],
        fl.written[2]);
    ds_put_cstr(ds, "# HELP vpcd_flow_log_dropped_total IPFIX records or "
                "flow-log records lost, by reason.\n"
                "# TYPE vpcd_flow_log_dropped_total counter\n");
    for (int i = 0; i < FL_N_DROPS; i++) {
        ds_put_format(ds, "vpcd_flow_log_dropped_total{reason=\"%s\"} "
                      "%"PRIu64"\n", drop_names[i], fl.drops[i]);
    }
    ds_put_format(ds,
        "# HELP vpcd_flow_log_rotations_total Flow-log files rotated.\n"
        "# TYPE vpcd_flow_log_rotations_total counter\n"
        "vpcd_flow_log_rotations_total %"PRIu64"\n"
        "# HELP vpcd_flow_log_pending Aggregates waiting for the end of "
        "their interval.\n"
        "# TYPE vpcd_flow_log_pending gauge\n"
        "vpcd_flow_log_pending %"PRIuSIZE"\n"
        "# HELP vpcd_flow_log_collector_configured 1 if the switch exports "
        "IPFIX to vpcd.\n"
        "# TYPE vpcd_flow_log_collector_configured gauge\n"
        "vpcd_flow_log_collector_configured %d\n"
        "# HELP vpcd_flow_log_switch_errors_total Failed OVSDB exchanges "
        "configuring the collector.\n"
        "# TYPE vpcd_flow_log_switch_errors_total counter\n"
        "vpcd_flow_log_switch_errors_total %"PRIu64"\n",
        fl.rotations, hmap_count(&fl.aggs), fl.sw == FL_SW_CONFIGURED,
        fl.sw_errors);
}
