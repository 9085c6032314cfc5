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
#include <event2/event.h>
#include <event2/http.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "daemon.h"
#include "daemon/agent.h"
#include "daemon/follow.h"
#include "dirs.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(vpcd);

/* ------------------------------------------------------------ HTTP glue */

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
    int status = vpcd_http(d, method, path ? path : "", body, &type, &out);
    free(body);

    struct evbuffer *buf = evbuffer_new();
    evbuffer_add(buf, out, strlen(out));
    if (out[0] && out[strlen(out) - 1] != '\n') {
        evbuffer_add(buf, "\n", 1);
    }
    free(out);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      type);
    const char *reason = (status == 200 ? "OK" : status == 202 ? "Accepted"
                          : status == 400 ? "Bad Request"
                          : status == 404 ? "Not Found"
                          : status == 405 ? "Method Not Allowed" : "Error");
    evhttp_send_reply(req, status, reason, buf);
    evbuffer_free(buf);
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
    char *s = xasprintf("version %"PRIu64"%s%s", d->version,
                        d->in_sync ? ", in sync" : ", not in sync: ",
                        d->in_sync ? "" : d->last_error);
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
           "changes or on SIGHUP\n"
           "  --region-db=REMOTES  follow the region database (OVSDB "
           "remotes): monitor this\n"
           "                       host's scope, apply it, acknowledge "
           "in Host_Status;\n"
           "                       --intents and PUT /v1/intents import "
           "into it\n"
           "  --state-dir=DIR      persist the last valid document in "
           "DIR/intents.json and\n"
           "                       start from it (default: %s/ovs-vpc)\n"
           "  --http=ADDR:PORT     HTTP API address (default 127.0.0.1:8420;"
           " 'none' disables)\n"
           "  --mapping=MODE       flows (stock OVS) or action (ovs-ext "
           "mapping cache)\n"
           "  --bridge=BR          integration bridge (default br-int)\n"
           "  --db=REMOTE          OVSDB (default unix:$OVS_RUNDIR/db.sock)\n"
           "  --switch=TARGET      OpenFlow target (default "
           "unix:$OVS_RUNDIR/BR.mgmt)\n"
           "  --vswitchd-ctl=PATH  ovs-vswitchd's control socket\n"
           "  --unixctl=PATH       vpcd's own control socket (default "
           "$OVS_RUNDIR/vpcd.ctl)\n"
           "  -h, --help           this help\n\n"
           "HTTP: PUT/GET /v1/intents, POST /v1/validate, GET /v1/status, "
           "GET /metrics\n"
           "ovs-appctl -t vpcd: vpcd/status, vpcd/reload, vpcd/dump-flows, "
           "exit\n", ovs_dbdir());
    daemon_usage();
    vlog_usage();
}

static void
parse_options(int argc, char *argv[], struct vpcd *d)
{
    enum {
        OPT_HOST = UCHAR_MAX + 1, OPT_INTENTS, OPT_STATE_DIR, OPT_HTTP,
        OPT_MAPPING, OPT_BRIDGE, OPT_DB, OPT_SWITCH, OPT_VSWITCHD_CTL,
        OPT_UNIXCTL, OPT_REGION_DB,
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
        { "region-db", required_argument, NULL, OPT_REGION_DB },
        { "help", no_argument, NULL, 'h' },
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    const char *state_dir = NULL;
    char *http = NULL;

    for (;;) {
        int c = getopt_long(argc, argv, "hv::", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_HOST: d->host = optarg; break;
        case OPT_INTENTS: d->intents_file = optarg; break;
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
        case OPT_REGION_DB: d->region_db = optarg; break;
        case 'h': usage(); exit(EXIT_SUCCESS);
        DAEMON_OPTION_HANDLERS
        VLOG_OPTION_HANDLERS
        case '?': exit(EXIT_FAILURE);
        default: OVS_NOT_REACHED();
        }
    }
    if (!d->host) {
        ovs_fatal(0, "--host is required (try --help)");
    }

    char *dir = state_dir ? xstrdup(state_dir)
                          : xasprintf("%s/ovs-vpc", ovs_dbdir());
    if (strcmp(dir, "none")) {
        if (mkdir(dir, 0700) && errno != EEXIST) {
            ovs_fatal(errno, "%s: cannot create state directory", dir);
        }
        d->state_file = xasprintf("%s/intents.json", dir);
    }
    free(dir);

    d->http_addr = "127.0.0.1";
    d->http_port = 8420;
    if (http && !strcmp(http, "none")) {
        d->http_port = 0;
    } else if (http) {
        char *colon = strrchr(http, ':');
        if (!colon || !(d->http_port = atoi(colon + 1))) {
            ovs_fatal(0, "--http=%s: expected ADDR:PORT", http);
        }
        *colon = '\0';
        d->http_addr = http;
    }
    if (!d->db) {
        d->db = vpc_default_db();
    }
    if (!d->switch_target) {
        d->switch_target = vpc_default_switch(d->bridge);
    }
    if (!d->vswitchd_ctl) {
        d->vswitchd_ctl = vpc_default_vswitchd_ctl();
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
        d.http = evhttp_new(d.base);
        evhttp_set_max_body_size(d.http, 256 * 1024 * 1024);
        evhttp_set_allowed_methods(d.http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT
                                   | EVHTTP_REQ_POST);
        evhttp_set_gencb(d.http, http_cb, &d);
        if (evhttp_bind_socket(d.http, d.http_addr, d.http_port)) {
            ovs_fatal(0, "cannot listen on %s:%d", d.http_addr, d.http_port);
        }
        VLOG_INFO("HTTP API on http://%s:%d", d.http_addr, d.http_port);
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

    daemonize_complete();
    VLOG_INFO("vpcd for host %s (mapping %s) started", d.host,
              d.mapping == PL_MAP_ACTION ? "action" : "flows");

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
    } else if (d.state_file && !access(d.state_file, R_OK)) {
        vpcd_load_file(&d, d.state_file, "persisted state");
    }

    event_base_dispatch(d.base);

    VLOG_INFO("vpcd exiting");
    vpcd_follow_stop(&d);
    if (d.http) {
        evhttp_free(d.http);
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
