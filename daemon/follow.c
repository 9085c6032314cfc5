/* daemon/follow.c: vpcd --region-db (see follow.h, docs/regiondb.md). */

#include <config.h>
#include "daemon/follow.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "daemon/agent.h"
#include "daemon/state.h"
#include "latch.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "ovsdb-idl.h"
#include "regiondb/region-idl.h"
#include "regiondb/regiondb.h"
#include "regiondb/scope.h"
#include "ovsdb-idl-provider.h"
#include "ovsdb-session.h"
#include "simap.h"
#include "sset.h"
#include "svec.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(vpcd_follow);

#define FOLLOW_LATENCIES 256
#define FOLLOW_IMPORT_TIMEOUT_MS 60000

/* The inactivity probe of the region database's session, in ms, or -1 for
 * the IDL's default (none on unix:, 5 s on tcp: and ssl:). */
static int follow_probe_ms = -1;

/* The session to the region database, as the follower last saw it
 * (docs/regiondb.md, "Faults").  OVS 3.1's IDL does not say which remote
 * of the list it is connected to, nor when it reconnects: the follower
 * finds the socket of vpcd whose peer is one of the remotes, and a new
 * socket is a new session. */
struct follow_conn {
    bool connected;             /* ovsdb_idl_is_connected(), last seen. */
    ino_t inode;                /* The session's socket, 0 if none. */
    int fd;                     /* ...its descriptor when last seen. */
    char *remote;               /* Which of the remotes it is, or NULL. */
    uint64_t sessions;          /* Sessions established. */
    uint64_t disconnects;       /* Times it was seen not connected. */
    long long int down_since;   /* Wall clock, ms: not connected since;
                                 * 0 while connected. */
    bool awaiting_reply;        /* New session: its monitor reply is not
                                 * in yet. */
    uint64_t full_resyncs;      /* Replies that resent the whole scope. */
    uint64_t resumes;           /* Replies with only what was missed. */
    const char *last_resync;    /* "initial", "resumed", "full" or NULL. */
    size_t rows_last;           /* Tracked rows of the last update. */
    size_t resync_rows_last;    /* ...of the last new session's reply. */
    size_t resync_rows_in_scope;    /* Rows of the replica after it. */
    struct uuid region_uuid;    /* The Region row the replica has. */
};

struct vpcd_follow {
    struct ovsdb_idl *idl;

    /* The waiter thread and its handshake with the main thread. */
    struct ovs_mutex mutex;
    pthread_cond_t cond;
    struct latch latch;         /* Set: the waiter re-arms. */
    int pipe[2];                /* The waiter wakes libevent through it. */
    struct event *ev;
    pthread_t thread;
    bool pending;               /* The waiter woke; main has not run yet. */
    bool exiting;

    /* Scope and conditions. */
    struct rdb_scope scope;     /* What the conditions in force select. */
    unsigned int cond_seqno;    /* Acknowledged when the server reaches. */
    unsigned int idl_seqno;     /* Replica version last looked at. */
    bool dirty;                 /* Rows changed since the last program. */
    bool rows_changed;          /* ...other than Region and Host_Status. */
    bool other_changes;         /* ...other than ENI's, too. */
    bool scope_moved;           /* The conditions changed meanwhile. */
    bool tables_changed[RDBREC_N_TABLES];   /* ...in these tables. */
    struct sset changed_enis;   /* Ids of the ENI rows that changed. */
    long long int change_usec;  /* When the first unprocessed change came. */

    /* What the last scoped document's gateways are called on the wire. */
    struct simap gw_vnis;

    /* Rendered rows of the replica, kept across changes. */
    struct rdb_dump_cache *dump_cache;
    uint64_t dump_mismatches;   /* --verify-incremental: cache was wrong. */

    /* Acknowledgement: what Host_Status should say, and what it says.
     * The follower does not monitor Region.cfg: it acknowledges the
     * largest stamp it has seen (Region.global_cfg, VPC.cfg of the VPCs
     * it replicates), once it has applied a replica at least that new. */
    int64_t seen_cfg;           /* Largest stamp seen; never decreases
                                 * (a VPC leaving the scope keeps it). */
    struct uuid region_uuid;    /* Region row the stamps are of (another:
                                 * a database created anew). */
    int64_t applied_cfg;
    char *error;
    bool error_is_install;      /* Valid, not installed yet (the audit
                                 * retries; the tick acknowledges). */
    int64_t pending_cfg;        /* cfg of the version waiting for that. */
    int64_t written_cfg;
    char *written_error;
    bool written;
    struct ovsdb_idl_txn *txn;
    long long int retry_at;     /* After a failed write: not before. */

    /* Statistics. */
    uint64_t updates;           /* Replica versions seen. */
    uint64_t table_changes[RDBREC_N_TABLES];    /* Tracked row changes. */
    uint64_t scope_recomputes;  /* Changes handled by recomputing. */
    uint64_t scope_changes;     /* Condition changes sent. */
    uint64_t incremental_cfg_only;
    uint64_t incremental_remote_eni;
    uint64_t imports, import_errors;
    size_t n_pruned;            /* Objects left out of the last document. */
    double latencies[FOLLOW_LATENCIES];
    uint64_t n_latencies;
    double latency_sum, last_latency;
    double last_dump_ms;        /* Replica to scoped document text. */

    struct follow_conn conn;    /* The session, for /v1/status. */
};

static void follow_run(struct vpcd *);
static const struct vpcd_follow_hooks follow_hooks;

/* Gives the gateways of a parsed scoped document their region-wide VNIs
 * (translator/check.c numbers them by their index in the document, which a
 * scoped document does not keep): vpcd_state_build()'s hook. */
static void
follow_region_hook(struct vpc_region *r, void *f_)
{
    struct vpcd_follow *f = f_;
    for (size_t i = 0; i < r->n_gateways; i++) {
        const struct simap_node *node = simap_find(&f->gw_vnis,
                                                   r->gateways[i].id);
        if (node) {
            r->gateways[i].vni = node->data;
        }
    }
}

static void
follow_collect_gw_vnis(struct vpcd_follow *f)
{
    simap_clear(&f->gw_vnis);
#define FOLLOW_GW_(TYPE, FOR_EACH)                                  \
    {                                                               \
        const struct TYPE *gw;                                      \
        FOR_EACH (gw, f->idl) {                                     \
            simap_put(&f->gw_vnis, gw->id, gw->reserved_vni);       \
        }                                                           \
    }
    FOLLOW_GW_(rdbrec_internet_gateway, RDBREC_INTERNET_GATEWAY_FOR_EACH)
    FOLLOW_GW_(rdbrec_nat_gateway, RDBREC_NAT_GATEWAY_FOR_EACH)
    FOLLOW_GW_(rdbrec_vpn_gateway, RDBREC_VPN_GATEWAY_FOR_EACH)
    FOLLOW_GW_(rdbrec_direct_connect, RDBREC_DIRECT_CONNECT_FOR_EACH)
    FOLLOW_GW_(rdbrec_vpc_endpoint, RDBREC_VPC_ENDPOINT_FOR_EACH)
#undef FOLLOW_GW_
}

/* ------------------------------------------------------ the waiter thread */

static void *
follow_waiter(void *d_)
{
    struct vpcd *d = d_;
    struct vpcd_follow *f = d->follow;

    ovs_mutex_lock(&f->mutex);
    while (!f->exiting) {
        while (f->pending && !f->exiting) {
            ovs_mutex_cond_wait(&f->cond, &f->mutex);
        }
        if (f->exiting) {
            break;
        }
        ovsdb_idl_wait(f->idl);
        if (f->txn) {
            ovsdb_idl_txn_wait(f->txn);
        }
        if (f->retry_at) {
            poll_timer_wait_until(f->retry_at);
        }
        latch_wait(&f->latch);
        ovs_mutex_unlock(&f->mutex);

        poll_block();

        ovs_mutex_lock(&f->mutex);
        f->pending = true;
        ignore(write(f->pipe[1], "", 1));
    }
    ovs_mutex_unlock(&f->mutex);
    return NULL;
}

/* The waiter woke: run the IDL on the main thread. */
static void
follow_event_cb(evutil_socket_t fd, short what OVS_UNUSED, void *d_)
{
    struct vpcd *d = d_;
    struct vpcd_follow *f = d->follow;
    char buf[64];

    while (read(fd, buf, sizeof buf) > 0) {
        continue;
    }
    ovs_mutex_lock(&f->mutex);
    latch_poll(&f->latch);
    follow_run(d);
    f->pending = false;
    xpthread_cond_signal(&f->cond);
    ovs_mutex_unlock(&f->mutex);
}

/* ------------------------------------------------------------ the session */

/* True if 'ss' (of length 'len'), the peer of a socket of vpcd, is the
 * address of 'remote', one OVSDB remote ("unix:PATH", "tcp:IP:PORT",
 * "ssl:IP:PORT"). */
static bool
follow_peer_is(const struct sockaddr_storage *ss, socklen_t len,
               const char *remote)
{
    if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *) ss;
        size_t n = len - offsetof(struct sockaddr_un, sun_path);
        if (len <= offsetof(struct sockaddr_un, sun_path)
            || strncmp(remote, "unix:", 5)) {
            return false;
        }
        char *path = xmemdup0(sun->sun_path, strnlen(sun->sun_path, n));
        const char *want = remote + 5;
        bool same = !strcmp(path, want);
        if (!same && !strncmp(path, "/proc/self/fd/", 14)) {
            /* A path too long for sun_path: OVS binds it through the
             * directory's descriptor, so only the names compare. */
            const char *a = strrchr(path, '/'), *b = strrchr(want, '/');
            same = !strcmp(a + 1, b ? b + 1 : want);
        }
        free(path);
        return same;
    } else if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6) {
        struct sockaddr_storage rs;
        if ((strncmp(remote, "tcp:", 4) && strncmp(remote, "ssl:", 4))
            || !inet_parse_active(remote + 4, 6640, &rs, false, NULL)
            || rs.ss_family != ss->ss_family
            || ss_get_port(&rs) != ss_get_port(ss)) {
            return false;
        }
        if (ss->ss_family == AF_INET) {
            return (((const struct sockaddr_in *) &rs)->sin_addr.s_addr
                    == ((const struct sockaddr_in *) ss)->sin_addr.s_addr);
        }
        return !memcmp(&((const struct sockaddr_in6 *) &rs)->sin6_addr,
                       &((const struct sockaddr_in6 *) ss)->sin6_addr,
                       sizeof(struct in6_addr));
    }
    return false;
}

/* The remote of 'remotes' (a comma-separated list) that a connected socket
 * of this process has for its peer, as a new string (NULL if none), and
 * that socket's inode in '*inodep' (0 if none) and descriptor in '*fdp'.
 * This is how vpcd tells which server its IDL is on: OVS 3.1 does not
 * export the session's name. */
static char *
follow_find_session(const char *remotes, ino_t *inodep, int *fdp)
{
    struct svec list = SVEC_EMPTY_INITIALIZER;
    struct uuid cid;
    char *found = NULL;

    *inodep = 0;
    ovsdb_session_parse_remote(remotes, &list, &cid);
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) {
        svec_destroy(&list);
        return NULL;
    }
    struct dirent *de;
    while (!found && (de = readdir(dir)) != NULL) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        struct stat st;
        if (*end || end == de->d_name || fd == dirfd(dir)
            || fstat(fd, &st) || !S_ISSOCK(st.st_mode)) {
            continue;
        }
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        memset(&ss, 0, sizeof ss);
        if (getpeername(fd, (struct sockaddr *) &ss, &len)) {
            continue;
        }
        const char *remote;
        size_t i;
        SVEC_FOR_EACH (i, remote, &list) {
            if (follow_peer_is(&ss, len, remote)) {
                found = xstrdup(remote);
                *inodep = st.st_ino;
                *fdp = fd;
                break;
            }
        }
    }
    closedir(dir);
    svec_destroy(&list);
    return found;
}

/* Notes a change of the session: connected or not, and a new session (a
 * new socket) even when the IDL reconnected at once to another remote of
 * the list without ever being seen disconnected. */
static void
follow_conn_run(struct vpcd *d)
{
    struct follow_conn *c = &d->follow->conn;
    bool connected = ovsdb_idl_is_connected(d->follow->idl);

    if (!connected) {
        if (c->connected || !c->down_since) {
            if (c->connected) {
                c->disconnects++;
                VLOG_WARN("region database: lost the session to %s; keeping "
                          "the flows in force while reconnecting",
                          c->remote ? c->remote : "the server");
            }
            c->down_since = time_wall_msec();
        }
        c->connected = false;
        c->inode = 0;
        free(c->remote);
        c->remote = NULL;
        return;
    }

    /* The socket found last time still open: the same session (a closed
     * descriptor reused by another socket has another inode).  One
     * fstat() per update instead of a scan of every descriptor. */
    struct stat st;
    if (c->inode && !fstat(c->fd, &st) && st.st_ino == c->inode) {
        c->connected = true;
        c->down_since = 0;
        return;
    }

    ino_t inode;
    char *remote = follow_find_session(d->region_db, &inode, &c->fd);
    if (inode && inode != c->inode) {
        /* A new session: its monitor reply, which says whether the server
         * resumed from our last transaction, is the next update. */
        c->sessions++;
        c->awaiting_reply = true;
        VLOG_INFO("region database: session %"PRIu64" to %s",
                  c->sessions, remote);
        c->inode = inode;
    }
    free(c->remote);
    c->remote = remote;
    c->connected = true;
    c->down_since = 0;
}

/* Called for each new version of the replica, before its tracked changes
 * are counted and cleared; 'prev_seqno' is the version looked at last.
 * The first update of a new session is the server's monitor reply: on a
 * monitor_cond_since resume it holds only the rows that changed since
 * our last transaction; when the server's history does not have it, the
 * IDL clears the replica and the reply inserts every row of the scope
 * again, the Region row we had among them. */
static void
follow_conn_note_update(struct vpcd_follow *f, unsigned int prev_seqno)
{
    struct follow_conn *c = &f->conn;
    size_t rows = 0;
    bool region_again = false;

    for (size_t i = 0; i < rdbrec_idl_class.n_tables; i++) {
        const struct ovsdb_idl_table_class *tc = &rdbrec_idl_class.tables[i];
        for (const struct ovsdb_idl_row *row
                 = ovsdb_idl_track_get_first(f->idl, tc);
             row; row = ovsdb_idl_track_get_next(row)) {
            rows++;
            if (tc == &rdbrec_table_region && row->new_datum
                && uuid_equals(&row->uuid, &c->region_uuid)
                && ovsdb_idl_row_get_seqno(row, OVSDB_IDL_CHANGE_INSERT)
                   > prev_seqno) {
                region_again = true;
            }
        }
    }
    c->rows_last = rows;

    const struct rdbrec_region *region = rdbrec_region_first(f->idl);
    bool had_region = !uuid_is_zero(&c->region_uuid);
    if (c->awaiting_reply) {
        c->awaiting_reply = false;
        c->resync_rows_last = rows;
        c->resync_rows_in_scope = 0;
        for (size_t i = 0; i < rdbrec_idl_class.n_tables; i++) {
            for (const struct ovsdb_idl_row *row = ovsdb_idl_first_row(
                     f->idl, &rdbrec_idl_class.tables[i]);
                 row; row = ovsdb_idl_next_row(row)) {
                c->resync_rows_in_scope++;
            }
        }
        if (!had_region) {
            c->last_resync = "initial";
        } else if (region_again
                   || (region && !uuid_equals(&region->header_.uuid,
                                              &c->region_uuid))) {
            c->full_resyncs++;
            c->last_resync = "full";
        } else {
            c->resumes++;
            c->last_resync = "resumed";
        }
        if (had_region) {
            VLOG_INFO("region database: session %"PRIu64" %s: %"PRIuSIZE
                      " row(s) in the server's reply, %"PRIuSIZE" in the "
                      "replica", c->sessions,
                      !strcmp(c->last_resync, "full")
                      ? "resent the whole scope (the server's history does "
                        "not reach our last transaction)"
                      : "resumed from our last transaction",
                      c->resync_rows_last, c->resync_rows_in_scope);
        }
    } else if (region_again) {
        /* A reply whose session we did not see begin. */
        c->full_resyncs++;
        c->last_resync = "full";
    }
    if (region) {
        c->region_uuid = region->header_.uuid;
    }
}

/* The session's part of /v1/status (docs/vpcd.md). */
static void
follow_conn_status(struct vpcd_follow *f, const char *remotes,
                   struct json *r)
{
    struct follow_conn *c = &f->conn;
    bool connected = ovsdb_idl_is_connected(f->idl);
    ino_t inode;
    int fd;
    struct stat st;
    char *remote = (!connected ? NULL
                    : (c->remote && c->inode && !fstat(c->fd, &st)
                       && st.st_ino == c->inode) ? xstrdup(c->remote)
                    : follow_find_session(remotes, &inode, &fd));

    json_object_put(r, "remote", remote ? json_string_create_nocopy(remote)
                                        : json_null_create());
    json_object_put(r, "sessions", json_integer_create(c->sessions));
    json_object_put(r, "disconnects", json_integer_create(c->disconnects));
    if (!connected && c->down_since) {
        json_object_put(r, "disconnected_since",
                        json_string_create_nocopy(
                            xastrftime_msec("%Y-%m-%dT%H:%M:%S.###Z",
                                            c->down_since, true)));
        json_object_put(r, "disconnected_ms", json_integer_create(
                            time_wall_msec() - c->down_since));
    } else {
        json_object_put(r, "disconnected_since", json_null_create());
        json_object_put(r, "disconnected_ms", json_integer_create(0));
    }
    struct json *rs = json_object_create();
    json_object_put(rs, "full", json_integer_create(c->full_resyncs));
    json_object_put(rs, "resumed", json_integer_create(c->resumes));
    json_object_put(rs, "last", c->last_resync
                                ? json_string_create(c->last_resync)
                                : json_null_create());
    json_object_put(rs, "rows_last", json_integer_create(c->resync_rows_last));
    json_object_put(rs, "replica_rows",
                    json_integer_create(c->resync_rows_in_scope));
    json_object_put(r, "resyncs", rs);
    json_object_put(r, "rows_received_last",
                    json_integer_create(c->rows_last));
    json_object_put(r, "probe_interval_ms",
                    follow_probe_ms >= 0 ? json_integer_create(follow_probe_ms)
                                         : json_null_create());
}

/* The session's counters for /metrics. */
static void
follow_conn_metrics(struct vpcd_follow *f, struct ds *ds)
{
    const struct follow_conn *c = &f->conn;
    ds_put_format(ds,
                  "# HELP vpcd_region_db_connected 1 while a session to a "
                  "region database server is up.\n"
                  "# TYPE vpcd_region_db_connected gauge\n"
                  "vpcd_region_db_connected %d\n"
                  "# HELP vpcd_region_db_sessions_total Sessions to region "
                  "database servers established.\n"
                  "# TYPE vpcd_region_db_sessions_total counter\n"
                  "vpcd_region_db_sessions_total %"PRIu64"\n"
                  "# HELP vpcd_region_db_resyncs_total Replies of new "
                  "sessions, resumed or resending the whole scope.\n"
                  "# TYPE vpcd_region_db_resyncs_total counter\n"
                  "vpcd_region_db_resyncs_total{kind=\"resumed\"} %"PRIu64
                  "\n"
                  "vpcd_region_db_resyncs_total{kind=\"full\"} %"PRIu64"\n",
                  ovsdb_idl_is_connected(f->idl), c->sessions, c->resumes,
                  c->full_resyncs);
}

/* True while the follower's replica may lag the servers: no session, or
 * a new session whose reply is not in. */
static bool
follow_conn_is_behind(const struct vpcd_follow *f)
{
    return !ovsdb_idl_is_connected(f->idl) || f->conn.awaiting_reply;
}

void
vpcd_follow_set_probe_interval(int ms)
{
    follow_probe_ms = ms;
}

/* ---------------------------------------------------------- the follower */

static void
follow_record_latency(struct vpcd_follow *f, double ms)
{
    f->latencies[f->n_latencies++ % FOLLOW_LATENCIES] = ms;
    f->latency_sum += ms;
    f->last_latency = ms;
}

static double
follow_latency_quantile(const struct vpcd_follow *f, double q)
{
    return vpcd_quantile(f->latencies, MIN(f->n_latencies, FOLLOW_LATENCIES),
                         q);
}

static void
follow_set_error(struct vpcd_follow *f, const char *error)
{
    free(f->error);
    f->error = error ? xstrdup(error) : NULL;
}

/* Whether tracked 'row' changed itself (inserted, deleted or a column
 * updated), not only a row it references: the IDL tracks those too. */
static bool
row_changed_itself(const struct ovsdb_idl_row *row)
{
    const struct ovsdb_idl_table_class *tc = row->table->class_;
    if (!row->new_datum) {
        return true;
    }
    for (size_t i = 0; i < tc->n_columns; i++) {
        if (ovsdb_idl_track_is_updated(row, &tc->columns[i])) {
            return true;
        }
    }
    return false;
}

/* Whether tracked 'row' is a VPC whose only change is its stamp (VPC.cfg,
 * set by every write to an object of the VPC): nothing to compile, and no
 * rendering of the dump cache read it. */
static bool
row_is_stamp_only(const struct ovsdb_idl_row *row, unsigned int last_seqno)
{
    const struct ovsdb_idl_table_class *tc = row->table->class_;
    if (tc != &rdbrec_table_vpc || !row->new_datum
        || ovsdb_idl_row_get_seqno(row, OVSDB_IDL_CHANGE_INSERT)
           > last_seqno
        || !ovsdb_idl_track_is_updated(row, &rdbrec_vpc_col_cfg)) {
        return false;
    }
    for (size_t i = 0; i < tc->n_columns; i++) {
        if (&tc->columns[i] != &rdbrec_vpc_col_cfg
            && ovsdb_idl_track_is_updated(row, &tc->columns[i])) {
            return false;
        }
    }
    return true;
}

/* Raises f->seen_cfg to the stamps of the replica: Region.global_cfg and
 * every replicated VPC's cfg.  Called on every new replica version, before
 * a scope change can drop a VPC row whose stamp says a change reached this
 * host (its last ENI of that VPC moved away, say). */
static void
follow_note_stamps(struct vpcd_follow *f)
{
    const struct rdbrec_region *region = rdbrec_region_first(f->idl);
    if (region && !uuid_equals(&region->header_.uuid, &f->region_uuid)) {
        if (!uuid_is_zero(&f->region_uuid)) {
            /* A database created anew: its cfgs start again. */
            f->seen_cfg = -1;
            f->applied_cfg = MIN(f->applied_cfg, 0);
        }
        f->region_uuid = region->header_.uuid;
    }
    if (region) {
        f->seen_cfg = MAX(f->seen_cfg, region->global_cfg);
    }
    const struct rdbrec_vpc *vpc;
    RDBREC_VPC_FOR_EACH (vpc, f->idl) {
        f->seen_cfg = MAX(f->seen_cfg, vpc->cfg);
    }
}

/* Counts the tracked changes of this replica version; returns true if rows
 * other than Region's and Host_Status's changed (a VPC's stamp alone is
 * not a change of its row). */
static bool
follow_count_changes(struct vpcd_follow *f, unsigned int last_seqno)
{
    bool rows = false;
    for (size_t i = 0; i < rdbrec_idl_class.n_tables; i++) {
        const struct ovsdb_idl_table_class *tc = &rdbrec_idl_class.tables[i];
        size_t n = 0, n_stamps = 0;
        for (const struct ovsdb_idl_row *row
                 = ovsdb_idl_track_get_first(f->idl, tc);
             row; row = ovsdb_idl_track_get_next(row)) {
            n++;
        }
        f->table_changes[i] += n;
        for (const struct ovsdb_idl_row *row
                 = ovsdb_idl_track_get_first(f->idl, tc);
             row; row = ovsdb_idl_track_get_next(row)) {
            if (row_is_stamp_only(row, last_seqno)) {
                n_stamps++;
                continue;
            }
            rdb_dump_cache_note(f->dump_cache, &row->uuid);
            f->tables_changed[i] |= row_changed_itself(row);
        }
        n -= n_stamps;
        if (n && strcmp(tc->name, "Region")
            && strcmp(tc->name, "Host_Status")) {
            rows = true;
            if (tc != &rdbrec_table_eni) {
                f->other_changes = true;
            }
        }
    }
    const struct rdbrec_eni *eni;
    RDBREC_ENI_FOR_EACH_TRACKED (eni, f->idl) {
        /* A deleted row's values are in its tracked old datum. */
        const struct ovsdb_datum *id
            = (eni->header_.new_datum
               ? &eni->header_.new_datum[RDBREC_ENI_COL_ID]
               : eni->header_.tracked_old_datum
                 ? &eni->header_.tracked_old_datum[RDBREC_ENI_COL_ID]
                 : NULL);
        if (id && id->n) {
            sset_add(&f->changed_enis, json_string(id->keys[0].s));
        } else {
            f->other_changes = true;    /* Cannot tell which: recompute. */
        }
    }
    ovsdb_idl_track_clear(f->idl);
    return rows;
}

/* The replica's scoped document, through the dump cache; with
 * --verify-incremental, checked against a dump without it. */
static char *
follow_dump(struct vpcd *d, struct json **docp)
{
    struct vpcd_follow *f = d->follow;
    long long int start = time_usec();
    char *error = rdb_dump_replica_cached(f->idl, f->dump_cache, docp,
                                          &f->n_pruned);
    if (!error && d->verify_incremental) {
        struct json *fresh;
        char *e2 = rdb_dump_replica(f->idl, true, &fresh, NULL);
        if (!e2 && !json_equal(fresh, *docp)) {
            f->dump_mismatches++;
            VLOG_ERR("dump cache: the cached document differs from the "
                     "replica's; using the replica's");
            json_destroy(*docp);
            *docp = fresh;
            rdb_dump_cache_clear(f->dump_cache);
        } else {
            json_destroy(fresh);
        }
        free(e2);
    }
    f->last_dump_ms = (time_usec() - start) / 1000.0;
    return error;
}

/* The stages that the changes since the last program can touch, if they
 * touched only tables of a few stages (into 'stages'), else false: then
 * everything must be compiled. */
static bool remote_enis_only(const struct vpcd *);

static bool
follow_partial_stages(const struct vpcd *d, bool stages[PL_N_STAGES])
{
    const struct vpcd_follow *f = d->follow;
    static const struct {
        const struct ovsdb_idl_table_class *table;
        enum pl_stage stages[2];
    } owners[] = {
        /* A group's rules, and the group itself, make only the
         * security-group stages' flows: its members are the ENIs
         * naming it, which are ENI rows. */
        { &rdbrec_table_security_group, { PL_SG_IN, PL_SG_OUT } },
        { &rdbrec_table_security_group_rule, { PL_SG_IN, PL_SG_OUT } },
        /* Routes make only the route stage's (a subnet's table is the
         * subnet's column). */
        { &rdbrec_table_route_table, { PL_ROUTE, PL_ROUTE } },
        { &rdbrec_table_route_entry, { PL_ROUTE, PL_ROUTE } },
    };

    if (f->scope_moved) {
        return false;
    }
    memset(stages, 0, PL_N_STAGES * sizeof *stages);
    if (remote_enis_only(d)) {
        /* Other hosts' ENIs reach this host's flows through the groups
         * that name their groups (sg_in, sg_out), and where they are
         * (mapping, rx_verify, and the cache entries with them). */
        stages[PL_SG_IN] = stages[PL_SG_OUT] = true;
        stages[PL_MAPPING] = stages[PL_RX_VERIFY] = true;
        return true;
    }
    bool any = false;
    for (size_t i = 0; i < rdbrec_idl_class.n_tables; i++) {
        const struct ovsdb_idl_table_class *tc = &rdbrec_idl_class.tables[i];
        if (!f->tables_changed[i] || tc == &rdbrec_table_region
            || tc == &rdbrec_table_host_status) {
            continue;
        }
        size_t k;
        for (k = 0; k < ARRAY_SIZE(owners); k++) {
            if (owners[k].table == tc) {
                stages[owners[k].stages[0]] = true;
                stages[owners[k].stages[1]] = true;
                any = true;
                break;
            }
        }
        if (k == ARRAY_SIZE(owners)) {
            return false;
        }
    }
    return any;
}

/* Compiles and installs the replica's scoped document.  Sets f->error (or
 * clears it) and f->applied_cfg. */
static void
follow_program(struct vpcd *d, int64_t cfg)
{
    struct vpcd_follow *f = d->follow;
    struct json *doc;
    char *error = follow_dump(d, &doc);
    if (error) {
        char *msg = xasprintf("cfg %"PRId64": cannot build the scoped "
                              "document from the replica: %s", cfg, error);
        VLOG_WARN("%s; keeping the flows in force", msg);
        follow_set_error(f, msg);
        free(msg);
        free(error);
        return;
    }
    follow_collect_gw_vnis(f);

    char *origin = xasprintf("region database cfg %"PRId64, cfg);
    char *body;
    bool stages[PL_N_STAGES];
    bool partial = follow_partial_stages(d, stages);
    int status = vpcd_apply_doc(d, NULL, doc, partial ? stages : NULL,
                                origin, &body);
    json_destroy(doc);
    free(origin);

    f->error_is_install = false;
    if (status == 200) {
        follow_set_error(f, NULL);
        f->applied_cfg = cfg;
    } else if (status == 202) {
        /* Valid, kept, not installed yet: the audit retries, and the tick
         * acknowledges once it is in. */
        follow_set_error(f, d->last_error ? d->last_error
                                          : "not installed yet");
        f->error_is_install = true;
        f->pending_cfg = cfg;
    } else {
        /* The replica is validated by its writers; if its scoped document
         * still fails, the flows in force stay. */
        char *msg = xasprintf("cfg %"PRId64": the scoped document does not "
                              "compile, keeping the flows in force: %s", cfg,
                              d->last_error ? d->last_error : body);
        VLOG_WARN("%s", msg);
        follow_set_error(f, msg);
        free(msg);
    }
    free(body);
}

/* The Host_Status transaction ended with 'status': on failure, try again
 * in a second (a failure that lasts, two vpcd's for one host say, must
 * not spin). */
static void
follow_status_written(struct vpcd_follow *f,
                      enum ovsdb_idl_txn_status status)
{
    if (status != TXN_SUCCESS && status != TXN_UNCHANGED) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "Host_Status: %s (%s); trying again in 1 s",
                     ovsdb_idl_txn_status_to_string(status),
                     ovsdb_idl_txn_get_error(f->txn));
        f->written = false;
        f->retry_at = time_msec() + 1000;
    } else {
        f->retry_at = 0;
    }
    ovsdb_idl_txn_destroy(f->txn);
    f->txn = NULL;
}

/* Makes Host_Status say f->applied_cfg and f->error (one transaction in
 * flight at a time). */
static void
follow_write_status(struct vpcd *d)
{
    struct vpcd_follow *f = d->follow;
    if (f->txn) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(f->txn);
        if (status == TXN_INCOMPLETE) {
            return;
        }
        follow_status_written(f, status);
    }
    if (!f->written && f->retry_at && time_msec() < f->retry_at) {
        return;                 /* The waiter's timer brings us back. */
    }
    if (!ovsdb_idl_has_ever_connected(f->idl)
        || !ovsdb_idl_is_connected(f->idl)
        || (f->written && f->written_cfg == f->applied_cfg
            && nullable_string_is_equal(f->written_error, f->error))) {
        return;
    }
    if (!f->error && f->applied_cfg < 0) {
        return;                 /* Nothing applied yet. */
    }

    const struct rdbrec_host_status *hs = NULL, *h;
    RDBREC_HOST_STATUS_FOR_EACH (h, f->idl) {
        if (!strcmp(h->host, d->host)) {
            hs = h;
        }
    }
    f->txn = ovsdb_idl_txn_create(f->idl);
    ovsdb_idl_txn_add_comment(f->txn, "vpcd %s: applied cfg %"PRId64,
                              d->host, f->applied_cfg);
    if (!hs) {
        hs = rdbrec_host_status_insert(f->txn);
        rdbrec_host_status_set_host(hs, d->host);
    }
    rdbrec_host_status_set_applied_cfg(hs, MAX(f->applied_cfg, 0));
    rdbrec_host_status_set_error(hs, f->error);
    f->written = true;
    f->written_cfg = f->applied_cfg;
    free(f->written_error);
    f->written_error = nullable_xstrdup(f->error);

    enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(f->txn);
    if (status != TXN_INCOMPLETE) {
        follow_status_written(f, status);
    }
    latch_set(&f->latch);       /* Re-arm the waiter on the new state. */
}

/* Incremental: ENIs of other hosts. */

/* Whether a route of the model in force targets 'e'. */
static bool
model_eni_is_target(const struct vpc_region *r, const struct vpc_eni *e)
{
    for (size_t i = 0; i < r->n_route_tables; i++) {
        const struct vpc_route_table *rt = &r->route_tables[i];
        for (size_t k = 0; k < rt->n_routes; k++) {
            if (rt->routes[k].kind == VPC_TGT_ENI
                && rt->routes[k].eni == e) {
                return true;
            }
        }
    }
    return false;
}

/* Whether a route of the replica targets 'eni'. */
static bool
row_eni_is_target(struct ovsdb_idl *idl, const struct rdbrec_eni *eni)
{
    const struct rdbrec_route_entry *route;
    RDBREC_ROUTE_ENTRY_FOR_EACH (route, idl) {
        const struct ovsdb_datum *t = ovsdb_idl_read(
            &route->header_, &rdbrec_route_entry_col_target_eni);
        if (t->n && uuid_equals(&t->keys[0].uuid, &eni->header_.uuid)) {
            return true;
        }
    }
    return false;
}

/* Whether 'eni' of the replica is placed on host 'self'. */
static bool
row_eni_is_on(const struct rdbrec_eni *eni, const struct uuid *self)
{
    const struct ovsdb_datum *host = ovsdb_idl_read(&eni->header_,
                                                    &rdbrec_eni_col_host);
    return host->n && uuid_equals(&host->keys[0].uuid, self);
}

/* True if no flow of this host depends on 'e', an ENI of the model in
 * force, in action mode: it is on another host, it checks its source (an
 * ENI that does not gets rx_verify flows for its host), no rule names one
 * of its groups (such rules match the members' addresses) and no route
 * targets it. */
static bool
model_eni_is_flowless(const struct vpc_region *r, const struct vpc_eni *e,
                      const char *host)
{
    if (!strcmp(e->host->id, host) || !e->source_dest_check) {
        return false;
    }
    for (size_t i = 0; i < r->n_sgs; i++) {
        const struct vpc_sg *sg = &r->sgs[i];
        for (size_t k = 0; k < sg->n_ingress + sg->n_egress; k++) {
            const struct vpc_sg_rule *rule
                = (k < sg->n_ingress ? &sg->ingress[k]
                                     : &sg->egress[k - sg->n_ingress]);
            for (size_t g = 0; rule->peer_sg && g < e->n_sgs; g++) {
                if (rule->peer_sg == e->sgs[g]) {
                    return false;
                }
            }
        }
    }
    return !model_eni_is_target(r, e);
}

/* The same for 'eni', a row of the replica. */
static bool
row_eni_is_flowless(struct ovsdb_idl *idl, const struct rdbrec_eni *eni,
                    const struct uuid *self)
{
    if (row_eni_is_on(eni, self)
        || (eni->n_source_dest_check && !eni->source_dest_check[0])) {
        return false;
    }
    const struct ovsdb_datum *sgs
        = ovsdb_idl_read(&eni->header_, &rdbrec_eni_col_security_groups);
    const struct rdbrec_security_group_rule *rule;
    RDBREC_SECURITY_GROUP_RULE_FOR_EACH (rule, idl) {
        const struct ovsdb_datum *sg = ovsdb_idl_read(
            &rule->header_, &rdbrec_security_group_rule_col_security_group);
        for (size_t g = 0; sg->n && g < sgs->n; g++) {
            if (uuid_equals(&sg->keys[0].uuid, &sgs->keys[g].uuid)) {
                return false;
            }
        }
    }
    return !row_eni_is_target(idl, eni);
}

/* True if 'e' (the model in force) is on another host than 'host' and no
 * route targets it; row_eni_is_remote() says the same of the replica's
 * 'eni'. */
static bool
model_eni_is_remote(const struct vpc_region *r, const struct vpc_eni *e,
                    const char *host)
{
    return strcmp(e->host->id, host) && !model_eni_is_target(r, e);
}

static bool
row_eni_is_remote(struct ovsdb_idl *idl, const struct rdbrec_eni *eni,
                  const struct uuid *self)
{
    return !row_eni_is_on(eni, self) && !row_eni_is_target(idl, eni);
}

/* True if every ENI that changed since the last program satisfies
 * 'model_ok' as the model in force has it (if it has it) and 'row_ok' as
 * the replica has it (if it has it). */
static bool
changed_enis_are(const struct vpcd *d,
                 bool (*model_ok)(const struct vpc_region *,
                                  const struct vpc_eni *, const char *host),
                 bool (*row_ok)(struct ovsdb_idl *, const struct rdbrec_eni *,
                                const struct uuid *self))
{
    const struct vpcd_follow *f = d->follow;
    struct shash rows = SHASH_INITIALIZER(&rows);
    const struct rdbrec_eni *eni;
    RDBREC_ENI_FOR_EACH (eni, f->idl) {
        shash_add_once(&rows, eni->id, eni);
    }
    bool ok = true;
    const char *id;
    SSET_FOR_EACH (id, &f->changed_enis) {
        const struct vpc_eni *old = vpc_region_find_eni(d->desired->region,
                                                        id);
        const struct rdbrec_eni *new = shash_find_data(&rows, id);
        if ((old && !model_ok(d->desired->region, old, d->host))
            || (new && !row_ok(f->idl, new, &f->scope.self))) {
            ok = false;
            break;
        }
    }
    shash_destroy(&rows);
    return ok;
}

/* True if the changes since the last program touched only ENI rows, of
 * other hosts before and after, that no route targets: then only the
 * stages that name other hosts' ENIs can change (follow_partial_stages()).
 * An ENI row that is gone from the replica is judged by the model in
 * force. */
static bool
remote_enis_only(const struct vpcd *d)
{
    const struct vpcd_follow *f = d->follow;
    if (!d->desired || !f->scope.is_host || sset_is_empty(&f->changed_enis)
        || f->other_changes) {
        return false;
    }
    for (size_t i = 0; i < rdbrec_idl_class.n_tables; i++) {
        const struct ovsdb_idl_table_class *tc = &rdbrec_idl_class.tables[i];
        if (f->tables_changed[i] && tc != &rdbrec_table_eni
            && tc != &rdbrec_table_region && tc != &rdbrec_table_host_status) {
            return false;
        }
    }
    return changed_enis_are(d, model_eni_is_remote, row_eni_is_remote);
}

static int
compare_entries(const void *a_, const void *b_)
{
    const struct pl_mapping_entry *a = a_, *b = b_;
    if (a->vni != b->vni) {
        return a->vni < b->vni ? -1 : 1;
    }
    return a->ip < b->ip ? -1 : a->ip > b->ip;
}

/* Handles a change that touched only ENIs of other hosts, none of which a
 * flow of this host depends on, in action mode: their cache entries change
 * and no flow does, so the scoped document is validated and its entries
 * computed, but nothing is compiled.  Returns false (and does nothing) if
 * the change is not one of those. */
static bool
follow_try_remote_enis(struct vpcd *d, int64_t cfg)
{
    struct vpcd_follow *f = d->follow;
    if (d->mapping != PL_MAP_ACTION || !d->desired || !d->in_sync
        || f->error || !f->scope.is_host || f->scope_moved
        || f->other_changes || sset_is_empty(&f->changed_enis)) {
        return false;
    }
    if (!changed_enis_are(d, model_eni_is_flowless, row_eni_is_flowless)) {
        return false;
    }

    struct json *doc;
    char *error = follow_dump(d, &doc);
    if (error) {
        free(error);
        return false;           /* The full path reports it. */
    }
    follow_collect_gw_vnis(f);
    struct vpc_errors errors;
    vpc_errors_init(&errors);
    struct vpc_region *r = vpc_region_from_json(doc, &errors);
    vpc_errors_destroy(&errors);
    if (!r) {
        json_destroy(doc);
        return false;
    }
    follow_region_hook(r, f);
    struct pl_host_config hc = {
        .host_id = d->host,
        .bindings = d->bindings,
        .n_bindings = d->n_bindings,
        .tunnel_ofport = d->ports.tunnel,
        .uplink_ofport = d->ports.uplink,
        .dx_ofport = d->ports.dx,
        .vpn_ofport = d->ports.vpn,
        .metadata_ofport = d->ports.metadata,
        .metadata_mac = d->ports.metadata_mac,
        .mapping = d->mapping,
    };
    struct pl_mapping_entry *entries;
    size_t n;
    error = pl_mapping_entries(r, &hc, &entries, &n);
    if (error) {
        free(error);
        free(entries);
        vpc_region_destroy(r);
        json_destroy(doc);
        return false;
    }
    qsort(entries, n, sizeof *entries, compare_entries);

    char *origin = xasprintf("region database cfg %"PRId64" (%"PRIuSIZE
                             " remote ENI%s)", cfg,
                             sset_count(&f->changed_enis),
                             sset_count(&f->changed_enis) == 1 ? "" : "s");
    error = vpcd_adopt_entries(d, doc, r, entries, n, origin);
    free(origin);
    f->incremental_remote_eni++;
    f->error_is_install = false;
    if (error) {
        follow_set_error(f, d->last_error);
        f->error_is_install = true;
        f->pending_cfg = cfg;
        free(error);
    } else {
        follow_set_error(f, NULL);
        f->applied_cfg = cfg;
    }
    return true;
}

/* One turn of the follower, on the main thread with f->mutex held. */
static void
follow_run(struct vpcd *d)
{
    struct vpcd_follow *f = d->follow;

    ovsdb_idl_run(f->idl);
    unsigned int seqno = ovsdb_idl_get_seqno(f->idl);
    if (seqno != f->idl_seqno
        || ovsdb_idl_is_connected(f->idl) != f->conn.connected) {
        follow_conn_run(d);
    }
    if (seqno != f->idl_seqno) {
        /* Rows inserted since the last look have a later insert seqno. */
        unsigned int last_seqno = f->idl_seqno;
        follow_conn_note_update(f, f->idl_seqno);
        f->idl_seqno = seqno;
        f->updates++;
        follow_note_stamps(f);
        bool rows = follow_count_changes(f, last_seqno);
        if (!f->dirty) {
            f->change_usec = time_usec();
        }
        f->dirty = true;
        f->rows_changed |= rows;
    }

    if (f->dirty && ovsdb_idl_has_ever_connected(f->idl)) {
        /* Recompute the scope; if it moved, change the conditions and
         * program nothing that depends on them before the server has
         * acknowledged them (and sent their rows). */
        struct rdb_scope s;
        rdb_scope_init(&s);
        rdb_scope_compute(f->idl, d->host, &s);
        if (!rdb_scope_equals(&s, &f->scope)) {
            char *vpcs = rdb_scope_to_string(f->idl, &s);
            f->cond_seqno = rdb_scope_set_conditions(f->idl, d->host, &s);
            VLOG_INFO("scope of %s%s: %s; waiting for the server to "
                      "acknowledge the new conditions (condition seqno %u, "
                      "now %u)", d->host,
                      s.is_edge ? " (edge)" : s.is_host ? "" : " (unknown)",
                      vpcs, f->cond_seqno,
                      ovsdb_idl_get_condition_seqno(f->idl));
            free(vpcs);
            /* The IDL sends them from its next ovsdb_idl_run(): have the
             * waiter wake us at once. */
            latch_set(&f->latch);
            rdb_scope_destroy(&f->scope);
            rdb_scope_clone(&f->scope, &s);   /* Not a copy: an hmap. */
            rdb_scope_destroy(&s);
            f->scope_changes++;
            f->rows_changed = true;
            f->scope_moved = true;
        } else {
            rdb_scope_destroy(&s);
        }

        if (ovsdb_idl_get_condition_seqno(f->idl) >= f->cond_seqno) {
            int64_t cfg = MAX(f->seen_cfg, 0);
            if (!f->rows_changed && d->desired && !f->error) {
                /* Only stamps (or our own status, or the Region row)
                 * changed: nothing of this host's to compile;
                 * acknowledge. */
                if (cfg != f->applied_cfg) {
                    f->incremental_cfg_only++;
                    f->applied_cfg = cfg;
                    follow_record_latency(f, (time_usec() - f->change_usec)
                                             / 1000.0);
                }
            } else if (follow_try_remote_enis(d, cfg)) {
                follow_record_latency(f, (time_usec() - f->change_usec)
                                         / 1000.0);
            } else {
                f->scope_recomputes++;
                struct ds tables = DS_EMPTY_INITIALIZER;
                for (size_t i = 0; i < rdbrec_idl_class.n_tables; i++) {
                    if (f->tables_changed[i]) {
                        ds_put_format(&tables, " %s",
                                      rdbrec_idl_class.tables[i].name);
                    }
                }
                VLOG_INFO("cfg %"PRId64": recomputing %s's scope and "
                          "flows from the replica (no incremental handler "
                          "for this change; changed:%s)", cfg, d->host,
                          tables.length ? ds_cstr(&tables) : " nothing");
                ds_destroy(&tables);
                follow_program(d, cfg);
                follow_record_latency(f, (time_usec() - f->change_usec)
                                         / 1000.0);
            }
            f->dirty = false;
            f->rows_changed = false;
            f->other_changes = false;
            f->scope_moved = false;
            memset(f->tables_changed, 0, sizeof f->tables_changed);
            sset_clear(&f->changed_enis);
        }
    }
    follow_write_status(d);
}

/* ---------------------------------------------------------- start, stop */

void
vpcd_follow_start(struct vpcd *d)
{
    struct vpcd_follow *f = xzalloc(sizeof *f);
    d->follow = f;

    f->idl = ovsdb_idl_create(d->region_db, &rdbrec_idl_class, true, true);
    ovsdb_idl_track_add_all(f->idl);
    /* Region.cfg changes with every commit of the region: monitoring it
     * would wake every host for every change.  The stamps say which
     * changes reach this host (after track_add_all, which adds it). */
    ovsdb_idl_omit(f->idl, &rdbrec_region_col_cfg);
    /* Reads may be served by any cluster member; the status write goes
     * wherever the IDL is connected (a follower forwards it). */
    ovsdb_idl_set_leader_only(f->idl, false);
    if (follow_probe_ms >= 0) {
        ovsdb_idl_set_probe_interval(f->idl, follow_probe_ms);
    }
    rdb_scope_init(&f->scope);
    f->cond_seqno = rdb_scope_set_conditions(f->idl, d->host, &f->scope);
    simap_init(&f->gw_vnis);
    f->dump_cache = rdb_dump_cache_create();
    sset_init(&f->changed_enis);
    f->applied_cfg = -1;
    f->seen_cfg = -1;
    vpcd_state_region_hook = follow_region_hook;
    vpcd_state_region_hook_aux = f;

    /* The waiter blocks in poll_block() for as long as the database is
     * quiet, which OVS's poll loop reports as an "unreasonably long poll
     * interval" (with a coverage dump): noise here. */
    vlog_set_levels(vlog_module_from_name("timeval"), VLF_ANY_DESTINATION,
                    VLL_ERR);
    vlog_set_levels(vlog_module_from_name("coverage"), VLF_ANY_DESTINATION,
                    VLL_WARN);

    ovs_mutex_init(&f->mutex);
    xpthread_cond_init(&f->cond, NULL);
    latch_init(&f->latch);
    xpipe_nonblocking(f->pipe);
    f->ev = event_new(d->base, f->pipe[0], EV_READ | EV_PERSIST,
                      follow_event_cb, d);
    event_add(f->ev, NULL);
    d->follow_hooks = &follow_hooks;
    f->thread = ovs_thread_create("rdb-waiter", follow_waiter, d);
    VLOG_INFO("following the region database at %s as %s", d->region_db,
              d->host);
}

void
vpcd_follow_stop(struct vpcd *d)
{
    struct vpcd_follow *f = d->follow;
    if (!f) {
        return;
    }
    ovs_mutex_lock(&f->mutex);
    f->exiting = true;
    xpthread_cond_signal(&f->cond);
    latch_set(&f->latch);
    ovs_mutex_unlock(&f->mutex);
    xpthread_join(f->thread, NULL);

    event_free(f->ev);
    close(f->pipe[0]);
    close(f->pipe[1]);
    latch_destroy(&f->latch);
    if (f->txn) {
        ovsdb_idl_txn_destroy(f->txn);
    }
    ovsdb_idl_destroy(f->idl);
    rdb_scope_destroy(&f->scope);
    simap_destroy(&f->gw_vnis);
    rdb_dump_cache_destroy(f->dump_cache);
    sset_destroy(&f->changed_enis);
    vpcd_state_region_hook = NULL;
    free(f->error);
    free(f->written_error);
    free(f->conn.remote);
    free(f);
    d->follow = NULL;
    d->follow_hooks = NULL;
}

void
vpcd_follow_tick(struct vpcd *d)
{
    struct vpcd_follow *f = d->follow;
    if (f && f->error_is_install && d->in_sync) {
        /* The audit has installed the version that was waiting. */
        ovs_mutex_lock(&f->mutex);
        f->error_is_install = false;
        follow_set_error(f, NULL);
        f->applied_cfg = f->pending_cfg;
        latch_set(&f->latch);   /* The waiter re-arms; we write. */
        ovs_mutex_unlock(&f->mutex);
    }
}

/* ---------------------------------------------------------------- imports */

static int
vpcd_follow_import_text(struct vpcd *d, const char *text,
                        const char *origin, char **body)
{
    struct vpcd_follow *f = d->follow;
    struct vpc_errors errors;
    vpc_errors_init(&errors);
    int status;
    char *out = vpcd_validate_json(text, &errors, &status);
    if (status != 200) {
        d->rejected++;
        VLOG_WARN("rejected a document from %s: %"PRIuSIZE" error(s), "
                  "first: %s", origin, errors.n,
                  errors.n ? errors.msgs[0] : "?");
        vpc_errors_destroy(&errors);
        *body = out;
        return status;
    }
    vpc_errors_destroy(&errors);
    free(out);

    /* rdb_load() reads a file: hand it one. */
    char tmpl[] = "/tmp/vpcd-import-XXXXXX";
    int fd = mkstemp(tmpl);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t) len) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmpl);
        }
        char *msg = xasprintf("cannot write a temporary file (%s)",
                              ovs_strerror(err));
        struct json *o = json_object_create();
        json_object_put_string(o, "error", msg);
        *body = json_to_string(o, JSSF_PRETTY);
        json_destroy(o);
        free(msg);
        return 500;
    }
    close(fd);

    struct rdb_load_stats st;
    char *error = rdb_load(d->region_db, tmpl, FOLLOW_IMPORT_TIMEOUT_MS, &st);
    unlink(tmpl);
    struct json *o = json_object_create();
    if (error) {
        f->import_errors++;
        VLOG_WARN("import from %s into %s failed: %s", origin, d->region_db,
                  error);
        json_object_put_string(o, "error", error);
        status = 503;
        free(error);
    } else {
        f->imports++;
        VLOG_INFO("imported a document from %s into %s: cfg %"PRId64", %"
                  PRIuSIZE" rows inserted, %"PRIuSIZE" updated, %"PRIuSIZE
                  " deleted", origin, d->region_db, st.cfg, st.n_inserted,
                  st.n_updated, st.n_deleted);
        json_object_put(o, "imported", json_boolean_create(true));
        json_object_put(o, "cfg", json_integer_create(st.cfg));
        json_object_put(o, "inserted", json_integer_create(st.n_inserted));
        json_object_put(o, "updated", json_integer_create(st.n_updated));
        json_object_put(o, "deleted", json_integer_create(st.n_deleted));
        status = 200;
    }
    *body = json_to_string(o, JSSF_PRETTY);
    json_destroy(o);
    return status;
}

static void
vpcd_follow_import_file(struct vpcd *d, const char *file,
                        const char *origin)
{
    char *text = vpcd_read_file(file);
    if (!text) {
        VLOG_WARN("%s: cannot read (%s)", file, ovs_strerror(errno));
        return;
    }
    char *body;
    int status = vpcd_follow_import_text(d, text, origin, &body);
    if (status == 400) {
        VLOG_WARN("%s: invalid, nothing imported:\n%s", file, body);
    }
    free(body);
    free(text);
}

/* ------------------------------------------------------- status, metrics */

static void
vpcd_follow_status(const struct vpcd *d, struct json *o)
{
    struct vpcd_follow *f = d->follow;
    struct json *r = json_object_create();
    ovs_mutex_lock(&f->mutex);
    json_object_put_string(r, "remotes", d->region_db);
    json_object_put(r, "connected",
                    json_boolean_create(ovsdb_idl_is_connected(f->idl)));
    const struct rdbrec_region *region = rdbrec_region_first(f->idl);
    /* Not Region.cfg, which the follower does not monitor: the last change
     * that reached this host (the largest stamp seen). */
    json_object_put(r, "cfg", json_integer_create(MAX(f->seen_cfg, 0)));
    json_object_put(r, "global_cfg",
                    json_integer_create(region ? region->global_cfg : 0));
    json_object_put(r, "applied_cfg", json_integer_create(f->applied_cfg));
    json_object_put(r, "error", f->error ? json_string_create(f->error)
                                          : json_null_create());
    json_object_put(r, "scope",
                    json_string_create_nocopy(
                        rdb_scope_to_string(f->idl, &f->scope)));
    json_object_put(r, "waiting_for_conditions", json_boolean_create(
                        ovsdb_idl_get_condition_seqno(f->idl)
                        < f->cond_seqno));
    json_object_put(r, "updates", json_integer_create(f->updates));
    json_object_put(r, "scope_recomputes",
                    json_integer_create(f->scope_recomputes));
    json_object_put(r, "scope_changes",
                    json_integer_create(f->scope_changes));
    struct json *inc = json_object_create();
    json_object_put(inc, "cfg_only",
                    json_integer_create(f->incremental_cfg_only));
    json_object_put(inc, "remote_eni",
                    json_integer_create(f->incremental_remote_eni));
    json_object_put(r, "incremental_changes", inc);
    json_object_put(r, "imports", json_integer_create(f->imports));
    json_object_put(r, "import_errors", json_integer_create(f->import_errors));
    json_object_put(r, "pruned_objects", json_integer_create(f->n_pruned));
    json_object_put(r, "change_ms_last", json_real_create(f->last_latency));
    json_object_put(r, "dump_ms_last", json_real_create(f->last_dump_ms));
    uint64_t rendered, reused;
    rdb_dump_cache_stats(f->dump_cache, &rendered, &reused);
    struct json *dc = json_object_create();
    json_object_put(dc, "rows_rendered", json_integer_create(rendered));
    json_object_put(dc, "rows_reused", json_integer_create(reused));
    json_object_put(dc, "mismatches", json_integer_create(f->dump_mismatches));
    json_object_put(r, "dump_cache", dc);
    json_object_put(r, "change_ms_p50",
                    json_real_create(follow_latency_quantile(f, 0.5)));
    json_object_put(r, "change_ms_p99",
                    json_real_create(follow_latency_quantile(f, 0.99)));
    struct json *tables = json_object_create();
    for (size_t i = 0; i < rdbrec_idl_class.n_tables; i++) {
        const struct ovsdb_idl_table_class *tc = &rdbrec_idl_class.tables[i];
        size_t n = 0;
        for (const struct ovsdb_idl_row *row = ovsdb_idl_first_row(f->idl,
                                                                   tc);
             row; row = ovsdb_idl_next_row(row)) {
            n++;
        }
        struct json *t = json_object_create();
        json_object_put(t, "rows", json_integer_create(n));
        json_object_put(t, "changes",
                        json_integer_create(f->table_changes[i]));
        json_object_put(tables, tc->name, t);
    }
    json_object_put(r, "tables", tables);
    follow_conn_status(f, d->region_db, r);
    ovs_mutex_unlock(&f->mutex);

    json_object_put(o, "region_db", r);
}

/* In sync means: installed (vpcd_in_sync() checks that), the replica's
 * document compiled, and the replica is the servers' (a session, its
 * reply in): a host cut off keeps forwarding with what it has, but does
 * not know it is current.  /v1/status and /metrics alike. */
static bool
vpcd_follow_in_sync(const struct vpcd *d)
{
    struct vpcd_follow *f = d->follow;
    ovs_mutex_lock(&f->mutex);
    bool ok = !f->error && !follow_conn_is_behind(f);
    ovs_mutex_unlock(&f->mutex);
    return ok;
}

static void
vpcd_follow_metrics(const struct vpcd *d, struct ds *ds)
{
    struct vpcd_follow *f = d->follow;
    ovs_mutex_lock(&f->mutex);
    ds_put_format(ds,
                  "# HELP vpcd_region_db_cfg The cfg of the last change "
                  "that reached this host (its largest stamp).\n"
                  "# TYPE vpcd_region_db_cfg gauge\n"
                  "vpcd_region_db_cfg %"PRId64"\n"
                  "# HELP vpcd_region_db_applied_cfg Region.cfg applied and "
                  "acknowledged in Host_Status.\n"
                  "# TYPE vpcd_region_db_applied_cfg gauge\n"
                  "vpcd_region_db_applied_cfg %"PRId64"\n"
                  "# HELP vpcd_region_db_updates_total Replica versions "
                  "received.\n"
                  "# TYPE vpcd_region_db_updates_total counter\n"
                  "vpcd_region_db_updates_total %"PRIu64"\n"
                  "# HELP vpcd_scope_recomputes_total Changes handled by "
                  "recomputing the scope and the flows.\n"
                  "# TYPE vpcd_scope_recomputes_total counter\n"
                  "vpcd_scope_recomputes_total %"PRIu64"\n"
                  "# HELP vpcd_scope_changes_total Monitor condition "
                  "changes sent.\n"
                  "# TYPE vpcd_scope_changes_total counter\n"
                  "vpcd_scope_changes_total %"PRIu64"\n"
                  "# HELP vpcd_incremental_changes_total Changes handled "
                  "without a recompute.\n"
                  "# TYPE vpcd_incremental_changes_total counter\n"
                  "vpcd_incremental_changes_total{kind=\"cfg_only\"} %"
                  PRIu64"\n"
                  "vpcd_incremental_changes_total{kind=\"remote_eni\"} %"
                  PRIu64"\n",
                  MAX(f->seen_cfg, 0), f->applied_cfg, f->updates,
                  f->scope_recomputes, f->scope_changes,
                  f->incremental_cfg_only, f->incremental_remote_eni);
    ds_put_cstr(ds, "# HELP vpcd_region_db_row_changes_total Row changes "
                "received, by table.\n"
                "# TYPE vpcd_region_db_row_changes_total counter\n");
    for (size_t i = 0; i < rdbrec_idl_class.n_tables; i++) {
        ds_put_format(ds, "vpcd_region_db_row_changes_total{table=\"%s\"} %"
                      PRIu64"\n", rdbrec_idl_class.tables[i].name,
                      f->table_changes[i]);
    }
    follow_conn_metrics(f, ds);
    vpcd_put_latency_summary(ds, "vpcd_change_latency_seconds",
                             "Update arrival to bundle acknowledged.",
                             follow_latency_quantile(f, 0.5),
                             follow_latency_quantile(f, 0.99),
                             f->latency_sum, f->n_latencies);
    ovs_mutex_unlock(&f->mutex);
}

static const struct vpcd_follow_hooks follow_hooks = {
    .import_text = vpcd_follow_import_text,
    .import_file = vpcd_follow_import_file,
    .status = vpcd_follow_status,
    .metrics = vpcd_follow_metrics,
    .in_sync = vpcd_follow_in_sync,
};
