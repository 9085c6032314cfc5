/* daemon/vpcd.c: the ovs-vpc host agent.
 *
 * vpcd runs beside ovs-vswitchd on one host (--host H).  It takes the
 * region's intents from a watched file, from its HTTP API or from its last
 * persisted state, validates them, compiles this host's slice and keeps
 * ovs-vswitchd's flows (and, in action mode, its mapping cache) equal to it:
 * only differences are sent, flows through one atomic OpenFlow bundle.
 *
 * The event loop.  libevent owns it: the HTTP API (evhttp) is the
 * latency-critical path, a PUT must be applied as soon as it arrives, and
 * evhttp needs libevent's loop.  What vpcd uses of OVS is either
 * request/response and short (vconn bundles, OVSDB and unixctl
 * transactions, a few milliseconds on a local socket) or poll-friendly (the
 * unixctl server, serviced from a 100 ms libevent timer).  One thread: no
 * locks, and an apply never races an audit.
 *
 * Self-healing.  Every 500 ms an audit (a) re-reads the watched file if it
 * changed, (b) re-reads the port bindings from OVSDB and recompiles if they
 * changed, (c) in action mode checks the cache's generation and entry count
 * and reloads it if ovs-vswitchd lost or changed it, and (d) diffs the
 * switch's flows against the desired ones and sends any difference.  So an
 * ovs-vswitchd restart, or flows changed behind vpcd's back, is repaired
 * within a second, and a vpcd restart changes nothing that is already
 * right (no flow is re-added: no traffic blip). */

#include <config.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <getopt.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "daemon.h"
#include "daemon/agent.h"
#include "daemon/imds.h"
#include "daemon/flowlog.h"
#include "daemon/dns.h"
#include "daemon/follow.h"
#include "daemon/pinctrl.h"
#include "dirs.h"
#include "fatal-signal.h"
#include "openvswitch/json.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "stream-ssl.h"
#include "timeval.h"
#include "unixctl.h"
#include "translator/version.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(vpcd);

/* ------------------------------------------------------------ HTTP glue */

/* The HTTP server's resource limits (docs/vpcd.md, "Limits").  evhttp
 * enforces the header and body sizes and the idle timeout; vpcd itself
 * caps the connections: it owns the listening socket and stops accepting
 * while 'max_conns' connections are open (further clients wait in the
 * kernel's listen backlog), and after an accept() error such as EMFILE it
 * stops accepting for a second instead of retrying at once, which would
 * spin. */
static void http_cb(struct evhttp_request *, void *d);

#define HTTP_MAX_HEADERS (64 * 1024)
#define HTTP_BACKLOG 64
#define HTTP_ACCEPT_PAUSE_MS 1000

static struct {
    struct evconnlistener *listener;
    struct event *resume;           /* Ends an accept pause. */
    long long int max_body;         /* --http-max-body, bytes. */
    int max_conns;                  /* --http-max-conns. */
    int timeout;                    /* --http-timeout, seconds. */
    int n_conns;                    /* Open connections. */
    bool paused;                    /* After an accept() error. */
    bool accepting;
    struct event *watch;            /* Runs http_watch_new(). */
    struct bufferevent **new;       /* Accepted, not yet watched. */
    size_t n_new, allocated_new;
} http_limits = {
    .max_body = 32 * 1024 * 1024, .max_conns = 16, .timeout = 10,
};

static void
http_update_accept(void)
{
    bool accept = (!http_limits.paused
                   && http_limits.n_conns < http_limits.max_conns);
    if (accept != http_limits.accepting && http_limits.listener) {
        if (accept) {
            evconnlistener_enable(http_limits.listener);
        } else {
            evconnlistener_disable(http_limits.listener);
            if (!http_limits.paused) {
                static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
                VLOG_WARN_RL(&rl, "HTTP: %d connections open (the limit): "
                             "not accepting more until one closes",
                             http_limits.n_conns);
            }
        }
        http_limits.accepting = accept;
    }
}

/* evhttp closes a connection. */
static void
http_conn_closed(struct evhttp_connection *conn OVS_UNUSED,
                 void *aux OVS_UNUSED)
{
    http_limits.n_conns--;
    http_update_accept();
}

/* evhttp asks for the bufferevent of each connection it accepts (the hook
 * exists for TLS): vpcd counts the connection, and once evhttp has set the
 * connection up (in the same listener callback), http_watch_new() asks to
 * be told when it closes. */
static struct bufferevent *
http_new_conn(struct event_base *base, void *aux OVS_UNUSED)
{
    struct bufferevent *bev = bufferevent_socket_new(base, -1,
                                                     BEV_OPT_CLOSE_ON_FREE);
    if (http_limits.n_new >= http_limits.allocated_new) {
        http_limits.new = x2nrealloc(http_limits.new,
                                     &http_limits.allocated_new,
                                     sizeof *http_limits.new);
    }
    http_limits.new[http_limits.n_new++] = bev;
    event_active(http_limits.watch, EV_TIMEOUT, 0);
    http_limits.n_conns++;
    http_update_accept();
    return bev;
}

/* Runs right after the listener callback, before any I/O on the new
 * connections: evhttp passes each connection as the argument of its
 * bufferevent's callbacks, which is how vpcd finds it (libevent 2.1 has no
 * evhttp_set_max_connections() and no callback for a new connection). */
static void
http_watch_new(evutil_socket_t fd OVS_UNUSED, short what OVS_UNUSED,
               void *aux OVS_UNUSED)
{
    for (size_t i = 0; i < http_limits.n_new; i++) {
        void *conn = NULL;
        bufferevent_getcb(http_limits.new[i], NULL, NULL, NULL, &conn);
        if (conn) {
            evhttp_connection_set_closecb(conn, http_conn_closed, NULL);
        } else {
            /* Not an evhttp connection after all: do not count it. */
            http_limits.n_conns--;
        }
    }
    http_limits.n_new = 0;
    http_update_accept();
}

static void
http_accept_error(struct evconnlistener *listener OVS_UNUSED,
                  void *aux OVS_UNUSED)
{
    int error = EVUTIL_SOCKET_ERROR();
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
    VLOG_WARN_RL(&rl, "HTTP: accept failed (%s) with %d connections open: "
                 "not accepting for %d ms", ovs_strerror(error),
                 http_limits.n_conns, HTTP_ACCEPT_PAUSE_MS);
    http_limits.paused = true;
    http_update_accept();
    struct timeval tv = { HTTP_ACCEPT_PAUSE_MS / 1000,
                          HTTP_ACCEPT_PAUSE_MS % 1000 * 1000 };
    event_add(http_limits.resume, &tv);
}

static void
http_accept_resume(evutil_socket_t fd OVS_UNUSED, short what OVS_UNUSED,
                   void *aux OVS_UNUSED)
{
    http_limits.paused = false;
    http_update_accept();
}

/* Starts the HTTP API on d->http_addr:d->http_port, with its limits. */
static void
http_start(struct vpcd *d)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    }, *ai;
    char port[16];
    snprintf(port, sizeof port, "%d", d->http_port);
    int error = getaddrinfo(d->http_addr, port, &hints, &ai);
    if (error) {
        ovs_fatal(0, "--http=%s:%d: %s", d->http_addr, d->http_port,
                  gai_strerror(error));
    }
    http_limits.listener = evconnlistener_new_bind(
        d->base, NULL, NULL,
        LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC
        | LEV_OPT_DISABLED, HTTP_BACKLOG, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (!http_limits.listener) {
        ovs_fatal(errno, "cannot listen on %s:%d", d->http_addr,
                  d->http_port);
    }

    d->http = evhttp_new(d->base);
    evhttp_set_max_headers_size(d->http, HTTP_MAX_HEADERS);
    evhttp_set_max_body_size(d->http, http_limits.max_body);
    evhttp_set_timeout(d->http, http_limits.timeout);
    /* DELETE, PATCH and OPTIONS reach http_cb() too, only to be refused
     * with a 405 that names the methods allowed (libevent's own 405 would
     * have no Allow header). */
    evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT
                               | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE
                               | EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(d->http, http_cb, d);
    evhttp_set_bevcb(d->http, http_new_conn, NULL);
    if (!evhttp_bind_listener(d->http, http_limits.listener)) {
        ovs_fatal(0, "cannot serve HTTP on %s:%d", d->http_addr,
                  d->http_port);
    }
    evconnlistener_set_error_cb(http_limits.listener, http_accept_error);
    http_limits.resume = evtimer_new(d->base, http_accept_resume, NULL);
    http_limits.watch = event_new(d->base, -1, 0, http_watch_new, NULL);
    http_update_accept();
    VLOG_INFO("HTTP API on http://%s:%d (at most %d connections, bodies up "
              "to %lld bytes, headers up to %d bytes, %d s timeout)",
              d->http_addr, d->http_port, http_limits.max_conns,
              http_limits.max_body, HTTP_MAX_HEADERS, http_limits.timeout);
}

static void
http_cb(struct evhttp_request *req, void *d_)
{
    struct vpcd *d = d_;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    const char *method;
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: method = "GET"; break;
    case EVHTTP_REQ_PUT: method = "PUT"; break;
    case EVHTTP_REQ_POST: method = "POST"; break;
    default: method = "?"; break;
    }

    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char *body = xmalloc(len + 1);
    evbuffer_remove(in, body, len);
    body[len] = '\0';

    const char *type;
    char *out;
    int status;
    const char *nul = memchr(body, '\0', len);
    if (nul) {
        /* The API takes text: a NUL would silently cut the document. */
        struct json *obj = json_object_create();
        char *msg = xasprintf("the request body contains a NUL byte (at "
                              "offset %"PRIuSIZE" of %"PRIuSIZE")",
                              (size_t) (nul - body), len);
        json_object_put_string(obj, "error", msg);
        free(msg);
        out = json_to_string(obj, JSSF_PRETTY);
        json_destroy(obj);
        type = "application/json";
        status = 400;
    } else {
        status = vpcd_http(d, method, path ? path : "", body, &type, &out);
    }
    free(body);

    struct evbuffer *buf = evbuffer_new();
    evbuffer_add(buf, out, strlen(out));
    if (out[0] && out[strlen(out) - 1] != '\n') {
        evbuffer_add(buf, "\n", 1);
    }
    free(out);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      type);
    const char *allow = status == 405 ? vpcd_http_allow(path ? path : "")
                        : NULL;
    if (allow) {
        /* RFC 9110: a 405 names the methods the resource supports. */
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                          allow);
    }
    const char *reason = (status == 200 ? "OK" : status == 202 ? "Accepted"
                          : status == 400 ? "Bad Request"
                          : status == 404 ? "Not Found"
                          : status == 405 ? "Method Not Allowed"
                          : status == 409 ? "Conflict" : "Error");
    evhttp_send_reply(req, status, reason, buf);
    evbuffer_free(buf);
}

/* ---------------------------------------------------- instance metadata */

/* The metadata service's HTTP server (docs/vpcd.md, "Instance metadata"):
 * a second evhttp on --metadata's address, normally 169.254.169.254:80 on
 * the kernel side of the metadata service port.  Its socket is bound with
 * IP_FREEBIND, so vpcd may start before the address is configured.  Small
 * limits: a metadata request has no body worth the name. */
#define MD_MAX_HEADERS 8192
#define MD_MAX_BODY 1024
#define MD_TIMEOUT 5

static void
metadata_cb(struct evhttp_request *req, void *d_)
{
    struct vpcd *d = d_;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    const struct sockaddr *sa = conn ? evhttp_connection_get_addr(conn)
                                     : NULL;
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    const char *method;
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: method = "GET"; break;
    case EVHTTP_REQ_PUT: method = "PUT"; break;
    default: method = "?"; break;
    }
    struct vpcd_imds_request r = {
        .method = method,
        .path = path && path[0] ? path : "/",
        .token = evhttp_find_header(in, "X-aws-ec2-metadata-token"),
        .ttl = evhttp_find_header(in, "X-aws-ec2-metadata-token-ttl-seconds"),
        .forwarded = evhttp_find_header(in, "X-Forwarded-For") != NULL,
        .peer = (sa && sa->sa_family == AF_INET
                 ? ntohl(((const struct sockaddr_in *) sa)->sin_addr.s_addr)
                 : 0),
    };
    struct vpcd_imds_response resp;
    vpcd_imds_handle(d->imds, d->desired ? d->desired->region : NULL,
                     d->bindings, d->n_bindings, &r, time_msec(), &resp);

    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", resp.content_type);
    evhttp_add_header(out, "Server", "ovs-vpc vpcd");
    if (resp.ttl > 0) {
        char ttl[16];
        snprintf(ttl, sizeof ttl, "%d", resp.ttl);
        evhttp_add_header(out, "X-aws-ec2-metadata-token-ttl-seconds", ttl);
    }
    struct evbuffer *buf = evbuffer_new();
    evbuffer_add(buf, resp.body, strlen(resp.body));
    free(resp.body);
    const char *reason = (resp.status == 200 ? "OK"
                          : resp.status == 400 ? "Bad Request"
                          : resp.status == 401 ? "Unauthorized"
                          : resp.status == 403 ? "Forbidden"
                          : resp.status == 404 ? "Not Found"
                          : resp.status == 405 ? "Method Not Allowed"
                          : resp.status == 429 ? "Too Many Requests"
                          : "Error");
    evhttp_send_reply(req, resp.status, reason, buf);
    evbuffer_free(buf);
}

static struct evhttp *metadata_http;
static long long int metadata_rate = VPCD_IMDS_RATE;  /* --metadata-rate. */

/* Connection limits of the metadata server: at most MD_MAX_CONNS open (then
 * the listener stops accepting until one closes) and MD_MAX_CONNS_PER_ENI
 * per ENI (a further connection of that ENI is closed at once, counted in
 * vpcd_imds_refused_total{reason="connections"}), so that one VM cannot
 * take vpcd's file descriptors or every other VM's share.  Each connection
 * is counted as http_new_conn() counts the API's, and its ENI (the ofport
 * of its peer's service address) is found once evhttp has set it up. */
#define MD_MAX_CONNS 512
#define MD_MAX_CONNS_PER_ENI 8

static struct {
    struct evconnlistener *listener;
    struct event *watch;
    struct bufferevent **new;
    size_t n_new, allocated_new;
    int n_conns;
    bool accepting;
    uint8_t per_port[PL_MD_MAX_OFPORT + 1];
    struct vpcd_imds *imds;
} md_conns;

static void
md_update_accept(void)
{
    bool accept = md_conns.n_conns < MD_MAX_CONNS;
    if (accept != md_conns.accepting) {
        if (accept) {
            evconnlistener_enable(md_conns.listener);
        } else {
            evconnlistener_disable(md_conns.listener);
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_WARN_RL(&rl, "metadata: %d connections open (the limit): "
                         "not accepting more until one closes",
                         md_conns.n_conns);
        }
        md_conns.accepting = accept;
    }
}

static void
md_conn_closed(struct evhttp_connection *conn OVS_UNUSED, void *port_)
{
    int port = (intptr_t) port_;
    if (port > 0 && md_conns.per_port[port]) {
        md_conns.per_port[port]--;
    }
    md_conns.n_conns--;
    md_update_accept();
}

static struct bufferevent *
md_new_conn(struct event_base *base, void *aux OVS_UNUSED)
{
    struct bufferevent *bev = bufferevent_socket_new(base, -1,
                                                     BEV_OPT_CLOSE_ON_FREE);
    if (md_conns.n_new >= md_conns.allocated_new) {
        md_conns.new = x2nrealloc(md_conns.new, &md_conns.allocated_new,
                                  sizeof *md_conns.new);
    }
    md_conns.new[md_conns.n_new++] = bev;
    event_active(md_conns.watch, EV_TIMEOUT, 0);
    md_conns.n_conns++;
    md_update_accept();
    return bev;
}

/* The service address's ofport of the peer of socket 'fd', or 0. */
static int
md_peer_port(evutil_socket_t fd)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    if (fd < 0 || getpeername(fd, (struct sockaddr *) &sin, &len)
        || sin.sin_family != AF_INET) {
        return 0;
    }
    return pl_md_service_ofport(ntohl(sin.sin_addr.s_addr));
}

static void
md_watch_new(evutil_socket_t fd OVS_UNUSED, short what OVS_UNUSED,
             void *aux OVS_UNUSED)
{
    for (size_t i = 0; i < md_conns.n_new; i++) {
        struct bufferevent *bev = md_conns.new[i];
        void *conn = NULL;
        bufferevent_getcb(bev, NULL, NULL, NULL, &conn);
        if (!conn) {
            md_conns.n_conns--;
            continue;
        }
        int port = md_peer_port(bufferevent_getfd(bev));
        if (port && md_conns.per_port[port] >= MD_MAX_CONNS_PER_ENI) {
            vpcd_imds_refuse_connection(md_conns.imds);
            md_conns.n_conns--;
            evhttp_connection_free(conn);
            continue;
        }
        if (port) {
            md_conns.per_port[port]++;
        }
        evhttp_connection_set_closecb(conn, md_conn_closed,
                                      (void *) (intptr_t) port);
    }
    md_conns.n_new = 0;
    md_update_accept();
}

static void
metadata_start(struct vpcd *d)
{
    struct sockaddr_in sin = {
        .sin_family = AF_INET, .sin_port = htons(d->metadata_port),
    };
    if (inet_pton(AF_INET, d->metadata_addr, &sin.sin_addr) != 1) {
        ovs_fatal(0, "--metadata=%s:%d: not an IPv4 address",
                  d->metadata_addr, d->metadata_port);
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0
        || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
        || setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one)
        || bind(fd, (struct sockaddr *) &sin, sizeof sin)
        || listen(fd, HTTP_BACKLOG)) {
        ovs_fatal(errno, "cannot listen on %s:%d (--metadata)",
                  d->metadata_addr, d->metadata_port);
    }
    d->imds = vpcd_imds_create();
    vpcd_imds_set_rate(d->imds, metadata_rate, 2 * metadata_rate);
    metadata_http = evhttp_new(d->base);
    evhttp_set_max_headers_size(metadata_http, MD_MAX_HEADERS);
    evhttp_set_max_body_size(metadata_http, MD_MAX_BODY);
    evhttp_set_timeout(metadata_http, MD_TIMEOUT);
    evhttp_set_allowed_methods(metadata_http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT
                               | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE
                               | EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH
                               | EVHTTP_REQ_OPTIONS);
    evhttp_set_gencb(metadata_http, metadata_cb, d);
    evhttp_set_bevcb(metadata_http, md_new_conn, NULL);
    md_conns.imds = d->imds;
    md_conns.watch = event_new(d->base, -1, 0, md_watch_new, NULL);
    md_conns.listener = evconnlistener_new(
        d->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC
        | LEV_OPT_DISABLED, 0, fd);
    if (!md_conns.listener
        || !evhttp_bind_listener(metadata_http, md_conns.listener)) {
        ovs_fatal(0, "cannot serve HTTP on %s:%d (--metadata)",
                  d->metadata_addr, d->metadata_port);
    }
    md_update_accept();
    VLOG_INFO("instance metadata on http://%s:%d", d->metadata_addr,
              d->metadata_port);
}

/* -------------------------------------------------------- unixctl, loop */

static void
unixctl_status(struct unixctl_conn *conn, int argc OVS_UNUSED,
               const char *argv[] OVS_UNUSED, void *d)
{
    char *s = vpcd_status_json(d);
    unixctl_command_reply(conn, s);
    free(s);
}

static void
unixctl_reload(struct unixctl_conn *conn, int argc OVS_UNUSED,
               const char *argv[] OVS_UNUSED, void *d_)
{
    struct vpcd *d = d_;
    const char *file = d->intents_file ? d->intents_file : d->state_file;
    if (!file) {
        unixctl_command_reply_error(conn, "no intents file to reload");
        return;
    }
    vpcd_load_file(d, file, "reload");
    bool in_sync = vpcd_in_sync(d);
    char *s = xasprintf("version %"PRIu64"%s%s", d->version,
                        in_sync ? ", in sync" : ", not in sync: ",
                        in_sync ? "" : d->last_error);
    unixctl_command_reply(conn, s);
    free(s);
}

static void
unixctl_dump_flows(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[] OVS_UNUSED, void *d)
{
    char *s = vpcd_desired_flows(d);
    unixctl_command_reply(conn, s);
    free(s);
}

static void
unixctl_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
             const char *argv[] OVS_UNUSED, void *d_)
{
    struct vpcd *d = d_;
    unixctl_command_reply(conn, NULL);
    event_base_loopbreak(d->base);
}

static void
tick_cb(evutil_socket_t fd OVS_UNUSED, short what OVS_UNUSED, void *d_)
{
    struct vpcd *d = d_;
    unixctl_server_run(d->unixctl);
    if (++d->ticks % VPCD_AUDIT_TICKS == 0) {
        vpcd_audit(d);
    }
    vpcd_follow_tick(d);
    vpcd_flowlog_tick(d);
    vpcd_pinctrl_tick(d);
}

static void
signal_cb(evutil_socket_t sig, short what OVS_UNUSED, void *d_)
{
    struct vpcd *d = d_;
    if (sig == SIGHUP) {
        const char *file = d->intents_file ? d->intents_file : d->state_file;
        VLOG_INFO("SIGHUP: reloading %s", file ? file : "(nothing)");
        if (file) {
            vpcd_load_file(d, file, "SIGHUP");
        }
    } else {
        VLOG_INFO("%s: exiting", strsignal(sig));
        event_base_loopbreak(d->base);
    }
}

/* ----------------------------------------------------------------- main */

static void
usage(void)
{
    printf("vpcd: the ovs-vpc host agent\n"
           "usage: vpcd --host=H [OPTIONS]\n\n"
           "Keeps ovs-vswitchd's flows (and mapping cache) equal to host H's "
           "slice of the\nregion's intents.\n\n"
           "  --host=H             this host's id in the intents (required)\n"
           "  --intents=FILE       read intents from FILE, reload when it "
           "changes or on SIGHUP;\n"
           "                       FILE is then the only source: PUT "
           "/v1/intents gets 409\n"
           "                       (--intents= with no FILE: none)\n"
           "  --region-db=REMOTES  follow the region database (OVSDB "
           "remotes): monitor this\n"
           "                       host's scope, apply it, acknowledge "
           "in Host_Status;\n"
           "                       --intents (or else PUT /v1/intents) "
           "imports into it\n"
           "  --region-db-probe=MS inactivity probe of the region-db "
           "session (0: none;\n"
           "                       default: none on unix:, 5000 on tcp:/"
           "ssl:): a silent\n"
           "                       server is dropped, and the next one "
           "tried, within 2*MS\n"
           "  --private-key=FILE, --certificate=FILE, --ca-cert=FILE\n"
           "                       TLS for ssl: region-db remotes (ovs-pki; "
           "the\n"
           "                       certificate's CN must be --host for "
           "RBAC role vpc-host)\n"
           "  --bootstrap-ca-cert=FILE  as --ca-cert, but fetch the CA from "
           "the server\n"
           "                       into FILE on the first connection if "
           "FILE is missing\n"
           "  --verify-incremental check every incremental step against "
           "a full\n"
           "                       recomputation (slow; for tests)\n"
           "  --state-dir=DIR      persist the last valid document in "
           "DIR/vpcd.state and\n"
           "                       start from it (default: %s/ovs-vpc)\n"
           "  --run-dir=DIR        private directory for mapping-cache "
           "loads (default:\n"
           "                       $OVS_RUNDIR/ovs-vpc)\n"
           "  --http=ADDR:PORT     HTTP API address (default 127.0.0.1:8420;"
           " 'none' disables)\n"
           "  --http-max-conns=N   at most N HTTP connections (default 16)\n"
           "  --http-max-body=B    request bodies up to B bytes (default "
           "32 MiB)\n"
           "  --http-timeout=S     close HTTP connections idle for S s "
           "(default 10)\n"
           "  --ovs-timeout=MS     every exchange with OVS must progress "
           "within MS ms\n"
           "                       (default %d)\n"
           "  --mapping=MODE       flows (stock OVS) or action (ovs-ext "
           "mapping cache)\n"
           "  --bridge=BR          integration bridge (default br-int)\n"
           "  --db=REMOTE          OVSDB (default unix:$OVS_RUNDIR/db.sock)\n"
           "  --switch=TARGET      OpenFlow target (default "
           "unix:$OVS_RUNDIR/BR.mgmt)\n"
           "  --vswitchd-ctl=PATH  ovs-vswitchd's control socket\n"
           "  --no-switch          simulate the host: follow, validate, "
           "compile and acknowledge\n"
           "                       as usual, but keep the flows and cache "
           "entries in memory\n"
           "                       (no OVSDB, OpenFlow or unixctl "
           "connection to OVS; the\n"
           "                       host's ENIs take ofports 1, 2, ...; "
           "no flow logs)\n"
           "  --record=FILE        with --no-switch: write the flows and "
           "cache entries of\n"
           "                       each version to FILE\n"
           "  --metadata=ADDR:PORT serve instance metadata there (normally "
           "169.254.169.254:80,\n"
           "                       on the metadata service port; default "
           "none)\n"
           "  --metadata-rate=N    metadata requests per second per ENI "
           "(bursts of 2N;\n"
           "                       default %d)\n"
           "  --force-host         change the switch even if it is another "
           "host's (Open_vSwitch\n"
           "                       external_ids:vpc-host), and make it "
           "--host's\n"
           "  --unixctl=PATH       vpcd's own control socket (default "
           "$OVS_RUNDIR/vpcd.ctl)\n"
           "  --dns-upstream=IP[:PORT]  an upstream resolver of the VPC "
           "resolver, for names\n"
           "                       outside the VPCs' (repeatable; port 53 "
           "by default; none:\n"
           "                       such names are REFUSED)\n"
           FLOWLOG_USAGE
           PINCTRL_USAGE
           "  -h, --help           this help\n"
           "  -V, --version        ovs-vpc's and Open vSwitch's versions\n\n"
           "HTTP: PUT/GET /v1/intents, POST /v1/validate, GET /v1/status, "
           "GET /metrics, GET /healthz\n"
           "ovs-appctl -t vpcd: vpcd/status, vpcd/reload, vpcd/dump-flows, "
           "exit\n", ovs_dbdir(), VPC_OVS_TIMEOUT_MS, VPCD_IMDS_RATE);
    daemon_usage();
    vlog_usage();
}

/* Parses 'arg', the value of option 'name', as a decimal integer in
 * [min, max]; exits with an error that names the option otherwise. */
static long long int
parse_number(const char *name, const char *arg, long long int min,
             long long int max)
{
    char *end;
    errno = 0;
    long long int value = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || value < min || value > max) {
        ovs_fatal(0, "%s=%s: expected an integer from %lld to %lld", name,
                  arg, min, max);
    }
    return value;
}

static void
parse_options(int argc, char *argv[], struct vpcd *d)
{
    enum {
        OPT_HOST = UCHAR_MAX + 1, OPT_INTENTS, OPT_STATE_DIR, OPT_HTTP,
        OPT_MAPPING, OPT_BRIDGE, OPT_DB, OPT_SWITCH, OPT_VSWITCHD_CTL,
        OPT_UNIXCTL, OPT_RUN_DIR, OPT_HTTP_MAX_CONNS, OPT_HTTP_MAX_BODY,
        OPT_HTTP_TIMEOUT, OPT_OVS_TIMEOUT, OPT_REGION_DB, OPT_SSL_KEY,
        OPT_SSL_CERT, OPT_SSL_CA, OPT_BOOTSTRAP_CA_CERT,
        OPT_VERIFY_INCREMENTAL,
        OPT_FORCE_HOST, OPT_REGION_DB_PROBE, OPT_NO_SWITCH, OPT_RECORD,
        OPT_METADATA, OPT_METADATA_RATE,
        OPT_DNS_UPSTREAM,
        FLOWLOG_OPTION_ENUMS,
        PINCTRL_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
        VLOG_OPTION_ENUMS,
    };
    static const struct option long_options[] = {
        { "host", required_argument, NULL, OPT_HOST },
        { "intents", required_argument, NULL, OPT_INTENTS },
        { "state-dir", required_argument, NULL, OPT_STATE_DIR },
        { "http", required_argument, NULL, OPT_HTTP },
        { "mapping", required_argument, NULL, OPT_MAPPING },
        { "bridge", required_argument, NULL, OPT_BRIDGE },
        { "db", required_argument, NULL, OPT_DB },
        { "switch", required_argument, NULL, OPT_SWITCH },
        { "vswitchd-ctl", required_argument, NULL, OPT_VSWITCHD_CTL },
        { "unixctl", required_argument, NULL, OPT_UNIXCTL },
        { "run-dir", required_argument, NULL, OPT_RUN_DIR },
        { "http-max-conns", required_argument, NULL, OPT_HTTP_MAX_CONNS },
        { "http-max-body", required_argument, NULL, OPT_HTTP_MAX_BODY },
        { "http-timeout", required_argument, NULL, OPT_HTTP_TIMEOUT },
        { "ovs-timeout", required_argument, NULL, OPT_OVS_TIMEOUT },
        { "region-db", required_argument, NULL, OPT_REGION_DB },
        { "region-db-probe", required_argument, NULL, OPT_REGION_DB_PROBE },
        { "private-key", required_argument, NULL, OPT_SSL_KEY },
        { "certificate", required_argument, NULL, OPT_SSL_CERT },
        { "ca-cert", required_argument, NULL, OPT_SSL_CA },
        { "bootstrap-ca-cert", required_argument, NULL,
          OPT_BOOTSTRAP_CA_CERT },
        { "verify-incremental", no_argument, NULL, OPT_VERIFY_INCREMENTAL },
        { "force-host", no_argument, NULL, OPT_FORCE_HOST },
        { "no-switch", no_argument, NULL, OPT_NO_SWITCH },
        { "record", required_argument, NULL, OPT_RECORD },
        { "metadata", required_argument, NULL, OPT_METADATA },
        { "metadata-rate", required_argument, NULL, OPT_METADATA_RATE },
        { "dns-upstream", required_argument, NULL, OPT_DNS_UPSTREAM },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        FLOWLOG_LONG_OPTIONS,
        PINCTRL_LONG_OPTIONS,
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    const char *state_dir = NULL;
    const char *ssl_key = NULL, *ssl_cert = NULL;
    char *http = NULL;
    char *metadata = NULL;
    bool force_host = false;

    for (;;) {
        int c = getopt_long(argc, argv, "hVv::", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_HOST: d->host = optarg; break;
        case OPT_INTENTS:
            /* "--intents=" (the unit's empty VPC_INTENTS): no file. */
            d->intents_file = optarg[0] ? optarg : NULL;
            break;
        case OPT_STATE_DIR: state_dir = optarg; break;
        case OPT_HTTP: http = optarg; break;
        case OPT_MAPPING:
            if (!strcmp(optarg, "action")) {
                d->mapping = PL_MAP_ACTION;
            } else if (strcmp(optarg, "flows")) {
                ovs_fatal(0, "--mapping=%s: expected flows or action",
                          optarg);
            }
            break;
        case OPT_BRIDGE: d->bridge = optarg; break;
        case OPT_DB: d->db = xstrdup(optarg); break;
        case OPT_SWITCH: d->switch_target = xstrdup(optarg); break;
        case OPT_VSWITCHD_CTL: d->vswitchd_ctl = xstrdup(optarg); break;
        case OPT_UNIXCTL: d->unixctl_path = xstrdup(optarg); break;
        case OPT_RUN_DIR: d->run_dir = xstrdup(optarg); break;
        case OPT_HTTP_MAX_CONNS:
            http_limits.max_conns = parse_number("--http-max-conns", optarg,
                                                 1, 65536);
            break;
        case OPT_HTTP_MAX_BODY:
            http_limits.max_body = parse_number("--http-max-body", optarg,
                                                1, LLONG_MAX);
            break;
        case OPT_HTTP_TIMEOUT:
            http_limits.timeout = parse_number("--http-timeout", optarg, 1,
                                               86400);
            break;
        case OPT_OVS_TIMEOUT:
            sw_ovs_set_timeout(parse_number("--ovs-timeout", optarg, 1,
                                             3600 * 1000));
            break;
        case OPT_REGION_DB: d->region_db = optarg; break;
        case OPT_REGION_DB_PROBE: {
            /* OVS's reconnect FSM takes 0 (none) or at least 1000 ms. */
            long long int ms = parse_number("--region-db-probe", optarg, 0,
                                            INT_MAX);
            if (ms > 0 && ms < 1000) {
                ovs_fatal(0, "--region-db-probe=%s: 0 (no probe) or at "
                          "least 1000 ms", optarg);
            }
            vpcd_follow_set_probe_interval(ms);
            break;
        }
        case OPT_SSL_KEY: ssl_key = optarg; break;
        case OPT_SSL_CERT: ssl_cert = optarg; break;
        case OPT_SSL_CA: stream_ssl_set_ca_cert_file(optarg, false); break;
        case OPT_BOOTSTRAP_CA_CERT:
            stream_ssl_set_ca_cert_file(optarg, true);
            break;
        case OPT_VERIFY_INCREMENTAL: d->verify_incremental = true; break;
        case OPT_FORCE_HOST: force_host = true; break;
        case OPT_NO_SWITCH: d->no_switch = true; break;
        case OPT_RECORD: d->record_file = optarg; break;
        case OPT_METADATA: metadata = optarg; break;
        case OPT_METADATA_RATE:
            metadata_rate = parse_number("--metadata-rate", optarg, 1,
                                         1000000);
            break;
        case OPT_DNS_UPSTREAM: {
            struct sockaddr_in sin;
            char *error = vpcd_dns_parse_upstream(optarg, &sin);
            if (error) {
                ovs_fatal(0, "--dns-upstream=%s", error);
            }
            d->dns_upstreams = xrealloc(d->dns_upstreams,
                                        (d->n_dns_upstreams + 1)
                                        * sizeof *d->dns_upstreams);
            d->dns_upstreams[d->n_dns_upstreams++] = optarg;
            break;
        }
        case 'h': usage(); exit(EXIT_SUCCESS);
        case 'V': vpc_print_version("vpcd"); exit(EXIT_SUCCESS);
        FLOWLOG_OPTION_HANDLERS
        PINCTRL_OPTION_HANDLERS
        DAEMON_OPTION_HANDLERS
        VLOG_OPTION_HANDLERS
        case '?': exit(EXIT_FAILURE);
        default: OVS_NOT_REACHED();
        }
    }
    if (!d->host) {
        ovs_fatal(0, "--host is required (try --help)");
    }
    if (d->record_file && !d->no_switch) {
        ovs_fatal(0, "--record=%s: only with --no-switch (a host with a "
                  "switch: ovs-ofctl dump-flows, vpcd/dump-flows)",
                  d->record_file);
    }
    /* For ssl: remotes of --region-db; set before the IDL connects (in
     * vpcd_follow_start()).  Both at once, so that OpenSSL never checks a
     * new key against the old certificate. */
    if (ssl_key || ssl_cert) {
        stream_ssl_set_key_and_cert(ssl_key, ssl_cert);
    }

    /* Options first, then what touches the file system. */
    d->http_addr = "127.0.0.1";
    d->http_port = 8420;
    if (http && !strcmp(http, "none")) {
        d->http_port = 0;
    } else if (http) {
        char *colon = strrchr(http, ':');
        if (!colon) {
            ovs_fatal(0, "--http=%s: expected ADDR:PORT", http);
        }
        char *end;
        errno = 0;
        long int port = strtol(colon + 1, &end, 10);
        if (errno || end == colon + 1 || *end || port < 1 || port > 65535) {
            ovs_fatal(0, "--http=%s: the port must be an integer from 1 to "
                      "65535", http);
        }
        d->http_port = port;
        *colon = '\0';
        d->http_addr = http;
    }
    if (metadata && strcmp(metadata, "none")) {
        char *colon = strrchr(metadata, ':');
        if (!colon) {
            ovs_fatal(0, "--metadata=%s: expected ADDR:PORT (normally "
                      "169.254.169.254:80) or none", metadata);
        }
        *colon = '\0';
        d->metadata_addr = metadata;
        d->metadata_port = parse_number("--metadata port", colon + 1, 1,
                                        65535);
        if (d->no_switch) {
            ovs_fatal(0, "--metadata: not with --no-switch (no service "
                      "port, no VM)");
        }
    }
    char *dir = state_dir ? xstrdup(state_dir)
                          : xasprintf("%s/ovs-vpc", ovs_dbdir());
    if (strcmp(dir, "none")) {
        int error = vpcd_make_private_dir(dir);
        if (error) {
            ovs_fatal(error, "%s: cannot create state directory (or it is "
                      "not a directory of this user's only)", dir);
        }
        d->state_file = xasprintf("%s/vpcd.state", dir);
    }
    free(dir);
    if (!d->run_dir) {
        const char *rundir = getenv("OVS_RUNDIR");
        d->run_dir = xasprintf("%s/ovs-vpc", rundir && rundir[0]
                                             ? rundir : ovs_rundir());
    }
    int error = vpcd_make_private_dir(d->run_dir);
    if (error) {
        ovs_fatal(error, "%s: cannot create run directory (or it is not a "
                  "directory of this user's only)", d->run_dir);
    }

    if (!d->db) {
        d->db = sw_default_db();
    }
    /* Nothing changes the switch unless it is --host's (switch/switch.h,
     * sw_set_host()); with --no-switch nothing is said to a switch. */
    if (!d->no_switch) {
        sw_set_host(d->db, d->host, force_host);
    }
    if (!d->switch_target) {
        d->switch_target = sw_default_switch(d->bridge);
    }
    if (!d->vswitchd_ctl) {
        d->vswitchd_ctl = sw_default_vswitchd_ctl();
    }
    if (!d->unixctl_path) {
        const char *rundir = getenv("OVS_RUNDIR");
        d->unixctl_path = xasprintf("%s/vpcd.ctl", rundir && rundir[0]
                                                   ? rundir : ovs_rundir());
    }
}

int
main(int argc, char *argv[])
{
    struct vpcd d = { .bridge = "br-int", .mapping = PL_MAP_FLOWS };

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_INFO);
    parse_options(argc, argv, &d);
    daemonize_start(false);
    /* As OVS daemons do: a client that goes away before reading its reply
     * (unixctl or HTTP) makes a write fail with EPIPE, which is logged
     * where it happens, instead of killing vpcd. */
    fatal_ignore_sigpipe();
    /* OVS installs its fatal-signal handlers on first use (a stream, a
     * pidfile): do it now, so that vpcd's own SIGHUP, SIGTERM and SIGINT
     * handlers (below) replace them, whatever OVS code runs first. */
    fatal_signal_init();

    if (unixctl_server_create(d.unixctl_path, &d.unixctl)) {
        ovs_fatal(0, "%s: cannot create control socket", d.unixctl_path);
    }
    unixctl_command_register("vpcd/status", "", 0, 0, unixctl_status, &d);
    unixctl_command_register("vpcd/reload", "", 0, 0, unixctl_reload, &d);
    unixctl_command_register("vpcd/dump-flows", "", 0, 0,
                             unixctl_dump_flows, &d);
    unixctl_command_register("exit", "", 0, 0, unixctl_exit, &d);

    d.base = event_base_new();
    if (d.http_port) {
        http_start(&d);
    }
    if (d.metadata_port) {
        metadata_start(&d);
    }
    /* After OVS's fatal-signal setup: SIGHUP means reload here. */
    d.sig_hup = evsignal_new(d.base, SIGHUP, signal_cb, &d);
    d.sig_term = evsignal_new(d.base, SIGTERM, signal_cb, &d);
    d.sig_int = evsignal_new(d.base, SIGINT, signal_cb, &d);
    event_add(d.sig_hup, NULL);
    event_add(d.sig_term, NULL);
    event_add(d.sig_int, NULL);
    d.tick = event_new(d.base, -1, EV_PERSIST, tick_cb, &d);
    struct timeval tv = { 0, VPCD_TICK_MS * 1000 };
    event_add(d.tick, &tv);

    if (!d.no_switch) {
        vpcd_flowlog_start(&d);     /* IPFIX from ovs-vswitchd. */
        vpcd_pinctrl_start(&d);     /* DHCP and DNS packet-ins. */
    }

    daemonize_complete();
    VLOG_INFO("vpcd for host %s (mapping %s%s) started", d.host,
              d.mapping == PL_MAP_ACTION ? "action" : "flows",
              d.no_switch ? ", no switch: simulated" : "");

    /* With --region-db the database is the durable state: follow it, and
     * import the watched file into it. */
    if (d.region_db) {
        free(d.state_file);
        d.state_file = NULL;
        vpcd_follow_start(&d);
    }

    /* Start from the watched file, else from the last persisted state. */
    if (d.intents_file) {
        vpcd_file_changed(&d);
        vpcd_load_file(&d, d.intents_file, "file");
    } else {
        vpcd_load_state(&d, "persisted state");
    }

    event_base_dispatch(d.base);

    VLOG_INFO("vpcd exiting");
    vpcd_pinctrl_stop(&d);
    vpcd_flowlog_stop(&d);
    vpcd_follow_stop(&d);
    if (d.http) {
        /* evhttp_free() frees the listener, then closes the connections,
         * which calls http_conn_closed(): keep it off the listener. */
        http_limits.listener = NULL;
        evhttp_free(d.http);
        event_free(http_limits.resume);
        event_free(http_limits.watch);
        free(http_limits.new);
    }
    if (metadata_http) {
        evhttp_free(metadata_http);
        event_free(md_conns.watch);
        free(md_conns.new);
    }
    event_free(d.tick);
    event_free(d.sig_hup);
    event_free(d.sig_term);
    event_free(d.sig_int);
    event_base_free(d.base);
    unixctl_server_destroy(d.unixctl);
    vpcd_destroy(&d);
    return 0;
}
