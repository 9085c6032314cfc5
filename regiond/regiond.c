/* regiond/regiond.c: vpc-regiond, the region API.
 *
 * A long-running process that holds the region database as an IDL replica
 * (one rdb_open() handle, regiondb/write.h, kept open) and serves it over
 * HTTP (libevent's evhttp), object by object:
 *
 *   GET    /v1/status                 Region.cfg, each host's applied_cfg
 *   GET    /v1/intents                the whole region (as vpcctl dump)
 *   PUT    /v1/intents                bulk import (as vpcctl load)
 *   GET    /v1/COLLECTION             one collection, e.g. /v1/enis
 *   GET    /v1/COLLECTION/ID          one object
 *   PUT    /v1/COLLECTION/ID          insert or replace it (validated)
 *   DELETE /v1/COLLECTION/ID          delete it (validated)
 *
 * Writes take ?wait=hosts[&timeout_ms=N]: the reply comes once every host
 * the change affects has applied it (Host_Status), or with 504 naming the
 * hosts behind.  A refused write gets 400 {"valid": false, "errors": [...]}
 * (vpcd's format) and commits nothing.
 *
 * Who may talk to it: by default it listens on a unix socket whose file
 * permissions (0660) are the access control; --listen=ssl:PORT[:IP] serves
 * TLS instead (bufferevent_openssl) and requires a client certificate
 * signed by --ca-cert.  docs/regiondb.md.
 *
 * The loop.  libevent owns it (evhttp needs it); the IDL is run from a
 * 5 ms timer, which also answers waiting requests.  A write itself is
 * synchronous (validate, commit, a few milliseconds on a local socket):
 * one thread, no locks, writes applied in the order they arrive. */

#include <config.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "daemon.h"
#include "dirs.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "translator/version.h"
#include "regiondb/write.h"
#include "stream-ssl.h"
#include "timeval.h"
#include "translator/model.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(regiond);

/* How long a write may take in all (validate, commit, retries). */
#define REGIOND_WRITE_TIMEOUT_MS 30000
/* ?wait=hosts without timeout_ms. */
#define REGIOND_WAIT_DEFAULT_MS 30000

struct regiond {
    struct event_base *base;
    struct evhttp *http;
    struct event *tick;
    struct rdb_handle *rdb;
    SSL_CTX *ssl_ctx;
    struct ovs_list waits;      /* struct regiond_wait. */
};

/* A request waiting for hosts to apply its change. */
struct regiond_wait {
    struct ovs_list node;
    struct evhttp_request *req;
    struct sset hosts;
    int64_t cfg;
    long long deadline;
    int timeout_ms;
};

static void
reply_json(struct evhttp_request *req, int code, const char *reason,
           struct json *body)
{
    char *s = json_to_string(body, JSSF_PRETTY | JSSF_SORT);
    json_destroy(body);
    struct evbuffer *buf = evbuffer_new();
    evbuffer_add(buf, s, strlen(s));
    evbuffer_add(buf, "\n", 1);
    free(s);
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", "application/json");
    evhttp_send_reply(req, code, reason, buf);
    evbuffer_free(buf);
}

static void
reply_error(struct evhttp_request *req, int code, const char *reason,
            const char *msg)
{
    struct json *o = json_object_create();
    json_object_put_string(o, "error", msg);
    reply_json(req, code, reason, o);
}

/* 400 with every error as a {path, value, rule, message} object, as
 * vpcd's API. */
static void
reply_invalid(struct evhttp_request *req, const struct vpc_errors *errs)
{
    struct json *o = json_object_create();
    json_object_put(o, "valid", json_boolean_create(false));
    json_object_put(o, "errors", vpc_errors_to_json(errs));
    reply_json(req, 400, "Bad Request", o);
}

static struct json *
hosts_json(const struct sset *hosts)
{
    struct json *a = json_array_create_empty();
    const char **names = sset_sort(hosts);
    for (size_t i = 0; i < sset_count(hosts); i++) {
        json_array_add(a, json_string_create(names[i]));
    }
    free(names);
    return a;
}

static void
reply_committed(struct evhttp_request *req, const struct rdb_write_result *r,
                bool waited)
{
    struct json *o = json_object_create();
    json_object_put(o, "cfg", json_integer_create(r->cfg));
    json_object_put(o, "hosts", hosts_json(&r->hosts));
    if (waited) {
        json_object_put(o, "applied", json_boolean_create(true));
    }
    reply_json(req, 200, "OK", o);
}

/* Waiting for hosts. */

static void
wait_destroy(struct regiond_wait *w)
{
    ovs_list_remove(&w->node);
    sset_destroy(&w->hosts);
    free(w);
}

static void
wait_conn_closed(struct evhttp_connection *conn OVS_UNUSED, void *w_)
{
    /* The client went away: drop the wait (the request is evhttp's). */
    wait_destroy(w_);
}

/* Answers 'w' if its hosts have caught up or its time is over. */
static bool
wait_check(struct regiond *d, struct regiond_wait *w)
{
    struct ds behind = DS_EMPTY_INITIALIZER;
    size_t n = rdb_hosts_behind(d->rdb, &w->hosts, w->cfg, &behind);
    bool done = true;
    if (!n) {
        struct json *o = json_object_create();
        json_object_put(o, "cfg", json_integer_create(w->cfg));
        json_object_put(o, "hosts", hosts_json(&w->hosts));
        json_object_put(o, "applied", json_boolean_create(true));
        reply_json(w->req, 200, "OK", o);
    } else if (time_msec() >= w->deadline) {
        struct json *o = json_object_create();
        json_object_put(o, "cfg", json_integer_create(w->cfg));
        json_object_put(o, "hosts", hosts_json(&w->hosts));
        json_object_put(o, "applied", json_boolean_create(false));
        char *msg = xasprintf("cfg %"PRId64" committed, but after %d ms %"
                              PRIuSIZE" host%s had not applied it: %s",
                              w->cfg, w->timeout_ms, n, n == 1 ? "" : "s",
                              ds_cstr(&behind));
        json_object_put_string(o, "error", msg);
        free(msg);
        reply_json(w->req, 504, "Gateway Timeout", o);
    } else {
        done = false;
    }
    ds_destroy(&behind);
    if (done) {
        struct evhttp_connection *conn
            = evhttp_request_get_connection(w->req);
        if (conn) {
            evhttp_connection_set_closecb(conn, NULL, NULL);
        }
        wait_destroy(w);
    }
    return done;
}

static void
tick_cb(evutil_socket_t fd OVS_UNUSED, short what OVS_UNUSED, void *d_)
{
    struct regiond *d = d_;
    rdb_run(d->rdb);
    /* Clear what the IDL registered with OVS's poll loop, without
     * blocking: libevent is the loop here. */
    rdb_wait(d->rdb);
    poll_immediate_wake();
    poll_block();

    struct regiond_wait *w;
    LIST_FOR_EACH_SAFE (w, node, &d->waits) {
        wait_check(d, w);
    }
}

/* Parses ?wait=hosts[&timeout_ms=N]: returns -1 for no wait, the timeout
 * otherwise, or -2 with '*error' set. */
static int
parse_wait(struct evhttp_request *req, char **error)
{
    const char *query = evhttp_uri_get_query(
        evhttp_request_get_evhttp_uri(req));
    if (!query) {
        return -1;
    }
    struct evkeyvalq params;
    if (evhttp_parse_query_str(query, &params)) {
        *error = xstrdup("malformed query string");
        return -2;
    }
    int timeout = -1;
    const char *wait = evhttp_find_header(&params, "wait");
    const char *tmo = evhttp_find_header(&params, "timeout_ms");
    if (wait && strcmp(wait, "hosts")) {
        *error = xasprintf("wait=%s: the only value is \"hosts\"", wait);
        timeout = -2;
    } else if (wait) {
        timeout = REGIOND_WAIT_DEFAULT_MS;
        if (tmo) {
            char *end;
            long v = strtol(tmo, &end, 10);
            if (*end || !*tmo || v < 0 || v > 3600 * 1000) {
                *error = xasprintf("timeout_ms=%s: expected 0..3600000",
                                   tmo);
                timeout = -2;
            } else {
                timeout = v;
            }
        }
    }
    evhttp_clear_headers(&params);
    return timeout;
}

/* Reads the request body as JSON; NULL with '*error' set if it is not. */
static struct json *
read_body(struct evhttp_request *req, char **error)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char *s = xmalloc(len + 1);
    evbuffer_remove(in, s, len);
    s[len] = '\0';
    struct json *j = json_from_string(s);
    free(s);
    if (j->type == JSON_STRING) {
        char *msg = vpc_json_syntax_error(json_string(j));
        *error = xasprintf("malformed JSON: %s", msg);
        free(msg);
        json_destroy(j);
        return NULL;
    }
    return j;
}

/* After a write: the reply, now or once the hosts have applied it. */
static void
finish_write(struct regiond *d, struct evhttp_request *req, char *error,
             struct vpc_errors *errs, struct rdb_write_result *res,
             int wait_ms)
{
    if (error && errs->n) {
        reply_invalid(req, errs);
    } else if (error) {
        int code = strstr(error, "no such object") ? 404 : 503;
        reply_error(req, code, code == 404 ? "Not Found"
                                           : "Service Unavailable", error);
    } else if (wait_ms < 0) {
        reply_committed(req, res, false);
    } else {
        struct regiond_wait *w = xzalloc(sizeof *w);
        w->req = req;
        sset_clone(&w->hosts, &res->hosts);
        w->cfg = res->cfg;
        w->timeout_ms = wait_ms;
        w->deadline = time_msec() + wait_ms;
        ovs_list_push_back(&d->waits, &w->node);
        if (!wait_check(d, w)) {
            evhttp_connection_set_closecb(evhttp_request_get_connection(req),
                                          wait_conn_closed, w);
        }
    }
    free(error);
}

static void
handle_intents(struct regiond *d, struct evhttp_request *req,
               enum evhttp_cmd_type cmd, int wait_ms)
{
    char *error = NULL;
    if (cmd == EVHTTP_REQ_GET) {
        struct json *doc;
        error = rdb_get_document(d->rdb, &doc);
        if (error) {
            reply_error(req, 503, "Service Unavailable", error);
            free(error);
        } else {
            reply_json(req, 200, "OK", doc);
        }
        return;
    }
    if (cmd != EVHTTP_REQ_PUT) {
        reply_error(req, 405, "Method Not Allowed", "GET or PUT");
        return;
    }
    struct json *doc = read_body(req, &error);
    if (!doc) {
        reply_error(req, 400, "Bad Request", error);
        free(error);
        return;
    }
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct rdb_write_result res;
    rdb_write_result_init(&res);
    error = rdb_import(d->rdb, doc, REGIOND_WRITE_TIMEOUT_MS, &errs, &res);
    json_destroy(doc);
    finish_write(d, req, error, &errs, &res, wait_ms);
    vpc_errors_destroy(&errs);
    rdb_write_result_destroy(&res);
}

static void
handle_object(struct regiond *d, struct evhttp_request *req,
              enum evhttp_cmd_type cmd, const char *collection,
              const char *id, int wait_ms)
{
    char *error = NULL;
    if (!rdb_is_collection(collection)) {
        char *msg = xasprintf("/v1/%s: not a collection of the region "
                              "document", collection);
        reply_error(req, 404, "Not Found", msg);
        free(msg);
        return;
    }
    if (cmd == EVHTTP_REQ_GET) {
        struct json *out = NULL;
        if (id) {
            error = rdb_get(d->rdb, collection, id, &out);
        } else {
            struct json *doc;
            error = rdb_get_document(d->rdb, &doc);
            if (!error) {
                const struct json *c = shash_find_data(json_object(doc),
                                                       collection);
                out = c ? json_clone(c) : json_array_create_empty();
                json_destroy(doc);
            }
        }
        if (error) {
            reply_error(req, 503, "Service Unavailable", error);
            free(error);
        } else if (!out) {
            char *msg = xasprintf("$.%s[%s]: no such object", collection,
                                  id);
            reply_error(req, 404, "Not Found", msg);
            free(msg);
        } else {
            reply_json(req, 200, "OK", out);
        }
        return;
    }
    if (!id || (cmd != EVHTTP_REQ_PUT && cmd != EVHTTP_REQ_DELETE)) {
        reply_error(req, 405, "Method Not Allowed",
                    "PUT and DELETE take /v1/COLLECTION/ID");
        return;
    }

    struct json *obj = NULL;
    if (cmd == EVHTTP_REQ_PUT) {
        obj = read_body(req, &error);
        if (!obj || obj->type != JSON_OBJECT) {
            reply_error(req, 400, "Bad Request",
                        error ? error : "the body must be a JSON object");
            free(error);
            json_destroy(obj);
            return;
        }
        if (!shash_find(json_object(obj), "id")) {
            json_object_put_string(obj, "id", id);
        }
    }
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct rdb_write_result res;
    rdb_write_result_init(&res);
    error = (obj
             ? rdb_put(d->rdb, collection, id, obj, REGIOND_WRITE_TIMEOUT_MS,
                       &errs, &res)
             : rdb_delete(d->rdb, collection, id, REGIOND_WRITE_TIMEOUT_MS,
                          &errs, &res));
    json_destroy(obj);
    finish_write(d, req, error, &errs, &res, wait_ms);
    vpc_errors_destroy(&errs);
    rdb_write_result_destroy(&res);
}

static void
http_cb(struct evhttp_request *req, void *d_)
{
    struct regiond *d = d_;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    char *error = NULL;
    int wait_ms = parse_wait(req, &error);
    if (wait_ms == -2) {
        reply_error(req, 400, "Bad Request", error);
        free(error);
        return;
    }
    rdb_run(d->rdb);

    if (!path || strncmp(path, "/v1/", 4)) {
        reply_error(req, 404, "Not Found", "endpoints are under /v1/");
        return;
    }
    char *rest = evhttp_uridecode(path + 4, 0, NULL);
    char *slash = strchr(rest, '/');
    char *id = NULL;
    if (slash) {
        *slash = '\0';
        id = slash + 1;
        if (!*id || strchr(id, '/')) {
            reply_error(req, 404, "Not Found", "expected /v1/COLLECTION/ID");
            free(rest);
            return;
        }
    }
    if (!strcmp(rest, "status") && !id) {
        if (cmd != EVHTTP_REQ_GET) {
            reply_error(req, 405, "Method Not Allowed", "GET only");
        } else {
            reply_json(req, 200, "OK", rdb_status_json(d->rdb));
        }
    } else if (!strcmp(rest, "intents") && !id) {
        handle_intents(d, req, cmd, wait_ms);
    } else {
        handle_object(d, req, cmd, rest, id, wait_ms);
    }
    free(rest);
}

/* Listening. */

static int
listen_unix(struct regiond *d, const char *path)
{
    struct sockaddr_un sun;
    if (strlen(path) >= sizeof sun.sun_path) {
        VLOG_ERR("%s: socket path too long", path);
        return ENAMETOOLONG;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
        return errno;
    }
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    unlink(path);
    /* Created 0660 (umask 0117 while binding): the file's owner and group
     * are who may use the API. */
    mode_t old = umask(0117);
    int error = bind(fd, (struct sockaddr *) &sun, sizeof sun) ? errno : 0;
    umask(old);
    if (!error && chmod(path, 0660)) {
        error = errno;
    }
    if (!error && listen(fd, 64)) {
        error = errno;
    }
    if (!error) {
        evutil_make_socket_nonblocking(fd);
        if (evhttp_accept_socket(d->http, fd)) {
            error = EINVAL;
        }
    }
    if (error) {
        VLOG_ERR("%s: cannot listen: %s", path, ovs_strerror(error));
        close(fd);
    }
    return error;
}

static struct bufferevent *
ssl_bevcb(struct event_base *base, void *d_)
{
    struct regiond *d = d_;
    SSL *ssl = SSL_new(d->ssl_ctx);
    return bufferevent_openssl_socket_new(base, -1, ssl,
                                          BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

static int
setup_ssl(struct regiond *d, const char *key, const char *cert,
          const char *ca)
{
    if (!key || !cert || !ca) {
        VLOG_ERR("--listen=ssl: needs --private-key, --certificate and "
                 "--ca-cert (clients must present a certificate signed by "
                 "the CA)");
        return EINVAL;
    }
    d->ssl_ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(d->ssl_ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(d->ssl_ctx, cert) != 1
        || SSL_CTX_use_PrivateKey_file(d->ssl_ctx, key,
                                       SSL_FILETYPE_PEM) != 1
        || SSL_CTX_load_verify_locations(d->ssl_ctx, ca, NULL) != 1) {
        VLOG_ERR("cannot load the TLS key, certificate or CA: %s",
                 ERR_error_string(ERR_get_error(), NULL));
        return EINVAL;
    }
    SSL_CTX_set_verify(d->ssl_ctx,
                       SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       NULL);
    evhttp_set_bevcb(d->http, ssl_bevcb, d);
    return 0;
}

static void
signal_cb(evutil_socket_t fd OVS_UNUSED, short what OVS_UNUSED, void *d_)
{
    struct regiond *d = d_;
    event_base_loopbreak(d->base);
}

static void
usage(void)
{
    printf("%s: the region API (docs/regiondb.md)\n"
           "usage: %s --region-db=REMOTES [OPTIONS]\n"
           "  --region-db=REMOTES   the region database (OVSDB remotes)\n"
           "  --listen=punix:PATH   HTTP on a unix socket, mode 0660 "
           "(default\n"
           "                        punix:%s/vpc-regiond.sock)\n"
           "  --listen=ssl:PORT[:IP]  HTTPS; clients need a certificate "
           "signed by --ca-cert\n"
           "  --private-key=FILE --certificate=FILE --ca-cert=FILE\n"
           "                        TLS (also used for ssl: region-db "
           "remotes)\n"
           "  -V, --version         ovs-vpc's and Open vSwitch's versions\n",
           program_name, program_name, ovs_rundir());
    daemon_usage();
    vlog_usage();
    exit(EXIT_SUCCESS);
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    enum { OPT_REGION_DB = UCHAR_MAX + 1, OPT_LISTEN, OPT_KEY, OPT_CERT,
           OPT_CA, DAEMON_OPTION_ENUMS, VLOG_OPTION_ENUMS };
    static const struct option long_options[] = {
        { "region-db", required_argument, NULL, OPT_REGION_DB },
        { "listen", required_argument, NULL, OPT_LISTEN },
        { "private-key", required_argument, NULL, OPT_KEY },
        { "certificate", required_argument, NULL, OPT_CERT },
        { "ca-cert", required_argument, NULL, OPT_CA },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    const char *region_db = NULL;
    char *default_listen = xasprintf("punix:%s/vpc-regiond.sock",
                                     ovs_rundir());
    const char *listen = default_listen;
    const char *key = NULL, *cert = NULL, *ca = NULL;
    for (;;) {
        int c = getopt_long(argc, argv, "hVv::", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_REGION_DB: region_db = optarg; break;
        case OPT_LISTEN: listen = optarg; break;
        case OPT_KEY: key = optarg; break;
        case OPT_CERT: cert = optarg; break;
        case OPT_CA: ca = optarg; break;
        case 'h': usage(); break;
        case 'V': vpc_print_version("vpc-regiond"); exit(EXIT_SUCCESS);
        DAEMON_OPTION_HANDLERS
        VLOG_OPTION_HANDLERS
        default: exit(EXIT_FAILURE);
        }
    }
    if (!region_db) {
        ovs_fatal(0, "--region-db=REMOTES is required (try --help)");
    }
    if (key || cert || ca) {
        /* The same files serve ssl: remotes of the region database. */
        stream_ssl_set_key_and_cert(key, cert);
        stream_ssl_set_ca_cert_file(ca, false);
    }

    daemonize_start(false);
    struct regiond d;
    memset(&d, 0, sizeof d);
    ovs_list_init(&d.waits);
    char *error = rdb_open(region_db, 60000, &d.rdb);
    if (error) {
        ovs_fatal(0, "%s", error);
    }
    d.base = event_base_new();
    d.http = evhttp_new(d.base);
    evhttp_set_max_body_size(d.http, 256 * 1024 * 1024);
    evhttp_set_allowed_methods(d.http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT
                               | EVHTTP_REQ_DELETE);
    evhttp_set_gencb(d.http, http_cb, &d);

    int err;
    if (!strncmp(listen, "punix:", 6)) {
        err = listen_unix(&d, listen + 6);
    } else if (!strncmp(listen, "ssl:", 4)) {
        char *copy = xstrdup(listen + 4);
        char *colon = strchr(copy, ':');
        const char *ip = colon ? colon + 1 : "127.0.0.1";
        if (colon) {
            *colon = '\0';
        }
        err = setup_ssl(&d, key, cert, ca);
        if (!err && evhttp_bind_socket(d.http, ip, atoi(copy))) {
            VLOG_ERR("%s: cannot listen", listen);
            err = EADDRINUSE;
        }
        free(copy);
    } else {
        VLOG_ERR("--listen=%s: expected punix:PATH or ssl:PORT[:IP] (plain "
                 "TCP is not offered: the API needs authentication)",
                 listen);
        err = EINVAL;
    }
    if (err) {
        ovs_fatal(0, "cannot listen on %s", listen);
    }

    struct timeval tv = { 0, 5000 };
    d.tick = event_new(d.base, -1, EV_PERSIST, tick_cb, &d);
    event_add(d.tick, &tv);
    struct event *sigterm = evsignal_new(d.base, SIGTERM, signal_cb, &d);
    struct event *sigint = evsignal_new(d.base, SIGINT, signal_cb, &d);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    daemonize_complete();
    VLOG_INFO("serving the region API on %s", listen);

    event_base_dispatch(d.base);

    struct regiond_wait *w;
    LIST_FOR_EACH_SAFE (w, node, &d.waits) {
        wait_destroy(w);
    }
    event_free(sigterm);
    event_free(sigint);
    event_free(d.tick);
    evhttp_free(d.http);
    event_base_free(d.base);
    if (d.ssl_ctx) {
        SSL_CTX_free(d.ssl_ctx);
    }
    rdb_close(d.rdb);
    if (!strncmp(listen, "punix:", 6)) {
        unlink(listen + 6);
    }
    free(default_listen);
    return 0;
}
