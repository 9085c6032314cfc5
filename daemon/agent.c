/* daemon/agent.c: vpcd's agent logic (see daemon/agent.h, daemon/vpcd.c). */

#include <config.h>
#include "daemon/agent.h"
#include "daemon/imds.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "simap.h"
#include "timeval.h"
#include "util.h"
#include "translator/version.h"

VLOG_DEFINE_THIS_MODULE(vpcd_agent);

static void vpcd_set_error(struct vpcd *, const char *fmt, ...)
    OVS_PRINTF_FORMAT(2, 3);

static void
vpcd_set_error(struct vpcd *d, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *msg = xvasprintf(fmt, args);
    va_end(args);
    if (d->last_error && !strcmp(d->last_error, msg)) {
        /* The audit retrying the same thing every 500 ms. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%s", msg);
        free(msg);
    } else {
        VLOG_WARN("%s", msg);
        free(d->last_error);
        d->last_error = msg;
    }
}

static const char *const error_kinds[VPCD_N_ERRORS] = {
    [VPCD_ERR_FLOWS] = "flows",
    [VPCD_ERR_CACHE] = "cache",
    [VPCD_ERR_PERSIST] = "persist",
    [VPCD_ERR_STATE_FILE] = "state_file",
};

bool
vpcd_in_sync(const struct vpcd *d)
{
    return (d->in_sync && d->persisted
            && (!d->follow_hooks || d->follow_hooks->in_sync(d)));
}

/* A new version is in force: notes where it came from ('source', NULL to
 * keep the previous one) and when, and whether it has a 'text' as
 * received to hash (docs/vpcd.md, "Which input wins"). */
static void
vpcd_set_source(struct vpcd *d, const char *source, const char *text)
{
    if (!source) {
        return;
    }
    free(d->source);
    d->source = xstrdup(source);
    d->source_at = time_wall_msec();
    d->source_sha256[0] = '\0';
    d->source_hashable = text != NULL;
}

/* The SHA-256 of the document in force as received, or NULL: computed
 * when first asked, once per version (22 MB take tens of ms). */
static const char *
vpcd_source_sha256(const struct vpcd *d_)
{
    struct vpcd *d = CONST_CAST(struct vpcd *, d_);
    if (d->source_hashable && d->desired && d->desired->text) {
        const char *text = d->desired->text;
        uint8_t md[SHA256_DIGEST_LENGTH];
        SHA256((const unsigned char *) text, strlen(text), md);
        for (size_t i = 0; i < sizeof md; i++) {
            snprintf(&d->source_sha256[2 * i], 3, "%02x", md[i]);
        }
        d->source_hashable = false;
    }
    return d->source_sha256[0] ? d->source_sha256 : NULL;
}

static bool
bindings_equal(const struct pl_binding *a, size_t na,
               const struct pl_binding *b, size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        bool found = false;
        for (size_t j = 0; j < nb && !found; j++) {
            found = (a[i].ofport == b[j].ofport
                     && !strcmp(a[i].eni_id, b[j].eni_id));
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

/* Reads the bindings from OVSDB.  Returns true if they changed. */
static bool
vpcd_refresh_bindings(struct vpcd *d)
{
    struct pl_binding *b;
    size_t n;
    struct sw_ovs_ports ports;
    char *error = sw_ovsdb_read_bindings(d->db, &b, &n, &ports);
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%s", error);
        free(error);
        return false;
    }
    if (ports.tunnel == d->ports.tunnel && ports.uplink == d->ports.uplink
        && ports.dx == d->ports.dx && ports.vpn == d->ports.vpn
        && ports.metadata == d->ports.metadata
        && eth_addr_equals(ports.metadata_mac, d->ports.metadata_mac)
        && bindings_equal(b, n, d->bindings, d->n_bindings)) {
        sw_bindings_free(b, n);
        return false;
    }
    sw_bindings_free(d->bindings, d->n_bindings);
    d->bindings = b;
    d->n_bindings = n;
    d->ports = ports;
    return true;
}

/* --no-switch: binds every ENI that document 'doc' (or, if NULL, 'text')
 * places on this host, as a real host's ports would be, without OVSDB.
 * An ENI keeps its ofport for as long as it stays on the host; a new one
 * takes the lowest free ofport.  The first document numbers the host's
 * ENIs 1, 2, ... in document order and then the tunnel (and on an edge the
 * uplink, Direct Connect and VPN ports), as 'vpcctl compile' does without
 * a switch (docs/vpcctl.md), so that both compile the same flows.
 * Returns true if the bindings changed. */
static bool
vpcd_no_switch_bind(struct vpcd *d, const char *text, const struct json *doc)
{
    struct json *parsed = NULL;
    if (!doc) {
        parsed = text ? json_from_string(text) : NULL;
        doc = parsed;
    }
    if (!doc || doc->type != JSON_OBJECT) {
        json_destroy(parsed);
        return false;           /* Invalid: vpcd_state_build_doc() says why. */
    }

    /* The ENIs placed here, in document order; whether this is an edge. */
    const struct json *enis = shash_find_data(json_object(doc), "enis");
    const struct json *edges = shash_find_data(json_object(doc), "edges");
    const char **ids = NULL;
    size_t n_ids = 0, allocated = 0;
    for (size_t i = 0; enis && enis->type == JSON_ARRAY
                       && i < json_array(enis)->n; i++) {
        const struct json *e = json_array(enis)->elems[i];
        const struct json *id = e->type == JSON_OBJECT
                                ? shash_find_data(json_object(e), "id") : NULL;
        const struct json *host = e->type == JSON_OBJECT
                                  ? shash_find_data(json_object(e), "host")
                                  : NULL;
        if (id && id->type == JSON_STRING && host
            && host->type == JSON_STRING
            && !strcmp(json_string(host), d->host)) {
            if (n_ids >= allocated) {
                ids = x2nrealloc(ids, &allocated, sizeof *ids);
            }
            ids[n_ids++] = json_string(id);
        }
    }
    bool is_edge = false;
    for (size_t i = 0; edges && edges->type == JSON_ARRAY
                       && i < json_array(edges)->n; i++) {
        const struct json *e = json_array(edges)->elems[i];
        const struct json *id = e->type == JSON_OBJECT
                                ? shash_find_data(json_object(e), "id") : NULL;
        is_edge |= (id && id->type == JSON_STRING
                    && !strcmp(json_string(id), d->host));
    }

    /* The ofports taken: kept ENIs' and the fixed ports. */
    if (!d->no_switch_ports) {
        d->no_switch_ports = xmalloc(sizeof *d->no_switch_ports);
        simap_init(d->no_switch_ports);
    }
    struct simap *old = d->no_switch_ports;
    int fixed[] = { d->ports.tunnel, d->ports.uplink, d->ports.dx,
                    d->ports.vpn };
    size_t max = n_ids + ARRAY_SIZE(fixed) + 1;
    for (size_t i = 0; i < n_ids; i++) {
        max = MAX(max, simap_get(old, ids[i]) + 1);
    }
    for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
        max = MAX(max, (size_t) MAX(fixed[i], 0) + 1);
    }
    bool *used = xcalloc(max + 1, sizeof *used);
    for (size_t i = 0; i < n_ids; i++) {
        used[simap_get(old, ids[i])] = true;
    }
    for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
        used[MAX(fixed[i], 0)] = true;
    }
    used[0] = true;

    struct simap *now = xmalloc(sizeof *now);
    simap_init(now);
    size_t next = 1;
    for (size_t i = 0; i < n_ids; i++) {
        unsigned int ofport = simap_get(old, ids[i]);
        if (!ofport) {
            while (used[next]) {
                next++;
            }
            ofport = next;
            used[next] = true;
        }
        simap_put(now, ids[i], ofport);
    }
    size_t n_fixed = is_edge ? ARRAY_SIZE(fixed) : 1;
    for (size_t i = 0; i < n_fixed; i++) {
        if (fixed[i] <= 0) {
            while (used[next]) {
                next++;
            }
            fixed[i] = next;
            used[next] = true;
        }
    }
    free(used);

    bool changed = (!simap_equal(old, now) || fixed[0] != d->ports.tunnel
                    || fixed[1] != d->ports.uplink || fixed[2] != d->ports.dx
                    || fixed[3] != d->ports.vpn);
    if (changed) {
        sw_bindings_free(d->bindings, d->n_bindings);
        d->bindings = xcalloc(n_ids + 1, sizeof *d->bindings);
        for (size_t i = 0; i < n_ids; i++) {
            d->bindings[i] = (struct pl_binding) {
                .eni_id = xstrdup(ids[i]),
                .ofport = simap_get(now, ids[i]),
            };
        }
        d->n_bindings = n_ids;
        d->ports = (struct sw_ovs_ports) {
            .tunnel = fixed[0], .uplink = fixed[1], .dx = fixed[2],
            .vpn = fixed[3],
        };
    }
    simap_destroy(old);
    free(old);
    d->no_switch_ports = now;
    free(ids);
    json_destroy(parsed);
    return changed;
}

/* Finds what is wrong with the bindings against the desired document (an
 * ENI of this host not plugged, a port for an ENI of another host) and
 * logs each problem once, when it appears and when it is gone. */
static void
vpcd_check_bindings(struct vpcd *d)
{
    struct sw_binding_problem *p = NULL;
    size_t n = 0;
    if (!d->no_switch && d->desired && d->desired->region) {
        n = sw_binding_problems(d->desired->region, d->host, d->bindings,
                                d->n_bindings, &p);
    }
    struct sw_binding_problem *old = d->problems;
    size_t i = 0, j = 0, n_old = d->n_problems, logged = 0;
    while (i < n_old || j < n) {
        int cmp = (i >= n_old ? 1 : j >= n ? -1
                   : strcmp(old[i].eni, p[j].eni)
                     ? strcmp(old[i].eni, p[j].eni)
                     : strcmp(old[i].problem, p[j].problem));
        if (cmp && logged++ >= 10) {
            i += cmp < 0;
            j += cmp > 0;
            continue;
        }
        if (cmp < 0) {
            VLOG_INFO("%s: fixed: it was %s", old[i].eni, old[i].problem);
            i++;
        } else if (cmp > 0) {
            VLOG_WARN("%s: %s", p[j].eni, p[j].problem);
            j++;
        } else {
            i++, j++;
        }
    }
    if (logged > 10) {
        VLOG_WARN("... and %"PRIuSIZE" more binding changes (/v1/status "
                  "\"warnings\" lists them all)", logged - 10);
    }
    sw_binding_problems_free(old, n_old);
    d->problems = p;
    d->n_problems = n;
}

static void
vpcd_host_config(const struct vpcd *d, struct pl_host_config *cfg)
{
    *cfg = (struct pl_host_config) {
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
}

/* ----------------------------------------------------------- installation */

/* Reads the cache's generation and size from vpcmap/stats. */
static bool
vpcd_cache_stats(struct vpcd *d, uint64_t *generation, size_t *entries,
                 char **text)
{
    char *reply;
    char *error = sw_appctl(d->vswitchd_ctl, "vpcmap/stats", 0, NULL,
                             &reply);
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "%s", error);
        free(error);
        return false;
    }
    const char *g = strstr(reply, "generation=");
    const char *e = strstr(reply, "entries=");
    *generation = g ? strtoull(g + 11, NULL, 10) : 0;
    *entries = e ? strtoull(e + 8, NULL, 10) : 0;
    if (text) {
        *text = reply;
    } else {
        free(reply);
    }
    return g && e;
}

/* Learns what ovs-vswitchd's cache holds from vpcmap/show, so that a vpcd
 * restart diffs against it instead of reloading it.  Returns false if it
 * cannot tell. */
static bool
vpcd_learn_cache(struct vpcd *d)
{
    char *reply;
    char *error = sw_appctl(d->vswitchd_ctl, "vpcmap/show", 0, NULL,
                             &reply);
    if (error) {
        free(error);
        return false;
    }
    struct pl_mapping_entry *v = NULL;
    size_t n = 0, allocated = 0;
    char *save = NULL;
    for (char *line = strtok_r(reply, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        struct pl_mapping_entry e = { .vni = 0 };
        char ip[16], ul[16], mac[18] = "";
        if (sscanf(line, "vni=%"SCNu32" %15s -> %15s mac=%17s", &e.vni, ip,
                   ul, mac) < 3
            || !vpc_ip_parse(ip, &e.ip) || !vpc_ip_parse(ul, &e.underlay)
            || (mac[0] && !eth_addr_from_string(mac, &e.mac))) {
            continue;           /* The summary line. */
        }
        if (n >= allocated) {
            v = x2nrealloc(v, &allocated, sizeof *v);
        }
        v[n++] = e;
    }
    free(reply);
    /* vpcmap/show sorts by (vni, ip) as we do. */
    free(d->loaded);
    d->loaded = v;
    d->n_loaded = n;
    size_t count;
    d->cache_known = vpcd_cache_stats(d, &d->cache_generation, &count, NULL)
                     && count == n;
    return d->cache_known;
}

/* Replaces the whole cache by d->desired's entries with one vpcmap/load
 * (an atomic generation swap); '*generation' is the new generation. */
static char *
vpcd_load_cache(struct vpcd *d, uint64_t *generation)
{
    const struct vpcd_state *st = d->desired;
    char *reply;
    char *error = sw_mapping_load(d->vswitchd_ctl, d->run_dir, st->entries,
                                   st->n_entries, &reply);
    size_t n = 0;
    if (!error
        && (sscanf(reply, "loaded %zu entries (generation %"SCNu64")", &n,
                   generation) != 2 || n != st->n_entries)) {
        error = xasprintf("mapping cache: vpcmap/load of %"PRIuSIZE
                          " entries answered \"%s\"", st->n_entries, reply);
    }
    if (!error) {
        VLOG_INFO("mapping cache: %s", reply);
    }
    free(reply);
    return error;
}

/* Makes the cache hold d->desired's entries: small differences as
 * vpcmap/add and vpcmap/del, anything else (an unknown cache, or a failed
 * add or del) as one vpcmap/load, which swaps in a whole generation
 * atomically.  Then checks that the cache holds as many entries as desired,
 * in the generation that the changes made. */
static char *
vpcd_sync_cache(struct vpcd *d)
{
    const struct vpcd_state *st = d->desired;
    struct pl_mapping_entry *set, *del;
    size_t n_set, n_del;
    char *error = NULL;
    uint64_t want_generation;

    if (!d->cache_known) {
        vpcd_learn_cache(d);
    }
    vpcd_entries_diff(d->loaded, d->cache_known ? d->n_loaded : 0,
                      st->entries, st->n_entries, &set, &n_set, &del, &n_del);
    if (!d->cache_known || n_set + n_del > VPCD_INCREMENTAL_MAX) {
        error = vpcd_load_cache(d, &want_generation);
    } else {
        want_generation = d->cache_generation + n_set + n_del;
        for (size_t i = 0; !error && i < n_del + n_set; i++) {
            const struct pl_mapping_entry *e = i < n_del ? &del[i]
                                                         : &set[i - n_del];
            char vni[16], ip[16], ul[16], mac[18], *reply = NULL;
            snprintf(vni, sizeof vni, "%"PRIu32, e->vni);
            vpc_ip_format(e->ip, ip);
            vpc_ip_format(e->underlay, ul);
            snprintf(mac, sizeof mac, ETH_ADDR_FMT, ETH_ADDR_ARGS(e->mac));
            char *args[] = { vni, ip, ul, mac };
            error = sw_appctl(d->vswitchd_ctl,
                               i < n_del ? "vpcmap/del" : "vpcmap/add",
                               i < n_del ? 2 : 4, args, &reply);
            free(reply);
        }
        if (error) {
            /* Someone else changed the cache (or ovs-vswitchd is going
             * away): what it holds is unknown, so load all of it. */
            VLOG_WARN("mapping cache: %s: loading every entry", error);
            free(error);
            error = vpcd_load_cache(d, &want_generation);
        }
    }
    free(set);
    free(del);

    d->cache_known = false;
    if (error) {
        return error;
    }
    free(d->loaded);
    d->loaded = xmemdup(st->entries, st->n_entries * sizeof *st->entries);
    d->n_loaded = st->n_entries;
    size_t n;
    if (!vpcd_cache_stats(d, &d->cache_generation, &n, NULL)) {
        char *reply;
        char *why = sw_appctl(d->vswitchd_ctl, "vpcmap/stats", 0, NULL,
                               &reply);
        error = xasprintf("mapping cache: cannot check that it holds the "
                          "%"PRIuSIZE" entries (%s)", st->n_entries,
                          why ? why : "unexpected vpcmap/stats reply");
        free(why);
        free(reply);
        return error;
    }
    if (n != st->n_entries || d->cache_generation != want_generation) {
        return xasprintf("mapping cache: holds %"PRIuSIZE" entries in "
                         "generation %"PRIu64", expected %"PRIuSIZE" in "
                         "generation %"PRIu64" (changed by someone else?)",
                         n, d->cache_generation, st->n_entries,
                         want_generation);
    }
    d->cache_known = true;
    return NULL;
}

static void
record_latency(struct vpcd *d, double ms)
{
    d->latencies[d->n_latencies++ % VPCD_LATENCIES] = ms;
    d->latency_sum += ms;
}

static int
compare_doubles(const void *a_, const void *b_)
{
    const double *a = a_, *b = b_;
    return *a < *b ? -1 : *a > *b;
}

void
vpcd_put_latency_summary(struct ds *ds, const char *name, const char *help,
                         double p50_ms, double p99_ms, double sum_ms,
                         uint64_t count)
{
    ds_put_format(ds, "# HELP %s %s\n"
                  "# TYPE %s summary\n"
                  "%s{quantile=\"0.5\"} %.6f\n"
                  "%s{quantile=\"0.99\"} %.6f\n"
                  "%s_sum %.6f\n"
                  "%s_count %"PRIu64"\n",
                  name, help, name, name, p50_ms / 1000.0,
                  name, p99_ms / 1000.0, name, sum_ms / 1000.0,
                  name, count);
}

double
vpcd_quantile(const double *samples, size_t n, double q)
{
    if (!n) {
        return 0;
    }
    double *v = xmemdup(samples, n * sizeof *v);
    qsort(v, n, sizeof *v, compare_doubles);
    double r = v[MIN(n - 1, (size_t) (q * n))];
    free(v);
    return r;
}

/* Times 'EXPR' into d->phase_ms[VPCD_PHASE_##PHASE]. */
#define VPCD_TIMED(D, PHASE, EXPR)                                      \
    do {                                                                \
        long long int start_ = time_usec();                             \
        EXPR;                                                           \
        (D)->phase_ms[VPCD_PHASE_##PHASE]                               \
            = (time_usec() - start_) / 1000.0;                          \
    } while (0)

static double
latency_quantile(const struct vpcd *d, double q)
{
    return vpcd_quantile(d->latencies, MIN(d->n_latencies, VPCD_LATENCIES),
                         q);
}

/* Installs d->desired's flows from scratch: parse them all, diff against a
 * dump of the switch, send the differences. */
static char *
vpcd_install_full(struct vpcd *d, struct sw_apply_stats *stats)
{
    sw_flowset_destroy(d->flowset);
    d->flowset = NULL;
    char *error = sw_flowset_parse(&d->desired->flows, &d->flowset);
    return error ? error : sw_apply_flowset(d->switch_target, d->flowset,
                                             false, stats);
}

/* Writes the desired version to the state file unless it is there.
 * Returns NULL or an error message. */
static char *
vpcd_save(struct vpcd *d)
{
    if (d->persisted || !d->state_file || !d->desired) {
        d->persisted = true;
        return NULL;
    }
    int err = vpcd_persist(d->state_file, d->version,
                           vpcd_state_text(d->desired),
                           true);
    if (err) {
        d->errors[VPCD_ERR_PERSIST]++;
        return xasprintf("%s: cannot persist version %"PRIu64" (%s)",
                         d->state_file, d->version, ovs_strerror(err));
    }
    d->persisted = true;
    return NULL;
}

/* After an install that returned 'error' (NULL if it succeeded): adds
 * 'persist_error' (consumed; NULL if the state file holds the version) to
 * it and to last_error.  Returns the combined error, or NULL. */
static char *
vpcd_add_persist_error(struct vpcd *d, const char *origin, char *error,
                       char *persist_error)
{
    if (!persist_error) {
        return error;
    }
    vpcd_set_error(d, "version %"PRIu64" (%s) %s: %s", d->version, origin,
                   error ? "not persisted either"
                         : "installed but not persisted", persist_error);
    if (!error) {
        return persist_error;
    }
    char *both = xasprintf("%s; %s", error, persist_error);
    free(error);
    free(persist_error);
    return both;
}

/* Replaces the desired state by 'st' (valid) and installs it: the cache
 * first (flows that use it must find it full), then the flows.  If the
 * switch is known to hold the previous version, only the flows whose text
 * changed are parsed and sent (sw_apply_delta: milliseconds); otherwise
 * everything is diffed against a dump of the switch.
 *
 * A new document gets the next version, or 'version' if that is higher
 * (the version it had when persisted); 'on_disk' says that the state file
 * already holds it under 'version'.  Returns NULL or an error message;
 * '*installed' tells whether the switch (flows and cache) holds 'st'. */
static char *
vpcd_adopt(struct vpcd *d, struct vpcd_state *st, const char *origin,
           const char *source, uint64_t version, bool on_disk,
           struct sw_apply_stats *stats, bool *installed)
{
    struct vpcd_state *old = d->desired;
    bool new_text = !old || !vpcd_state_same_document(old, st);
    char *error = NULL;

    memset(stats, 0, sizeof *stats);
    d->desired = st;
    if (new_text) {
        d->version = MAX(d->version + 1, version);
        d->persisted = on_disk && d->version == version;
        vpcd_set_source(d, source, st->text);
    }
    /* Persist first: after a crash, vpcd comes back to what it installed. */
    char *persist_error;
    VPCD_TIMED(d, PERSIST, persist_error = vpcd_save(d));

    d->phase_ms[VPCD_PHASE_CACHE] = 0;
    if (d->no_switch) {
        /* No switch: the flows and entries stay in memory (and in
         * --record's file); no bundle, no vpcmap command. */
        long long int start = time_usec();
        int err = d->record_file ? vpcd_record(d) : 0;
        if (err) {
            error = xasprintf("%s: cannot record version %"PRIu64" (%s)",
                              d->record_file, d->version,
                              ovs_strerror(err));
        }
        d->phase_ms[VPCD_PHASE_FLOWS] = (time_usec() - start) / 1000.0;
        vpcd_state_destroy(old);
        goto installed;
    }
    if (d->mapping == PL_MAP_ACTION) {
        VPCD_TIMED(d, CACHE, error = vpcd_sync_cache(d));
        if (error) {
            d->errors[VPCD_ERR_CACHE]++;
            /* No flow was sent: the parsed flows are old's, and the audit
             * must not take them for st's. */
            sw_flowset_destroy(d->flowset);
            d->flowset = NULL;
        }
    }
    long long int flows_start = time_usec();
    if (!error) {
        if (old && d->in_sync && d->flowset) {
            error = sw_apply_delta(d->switch_target, &old->flows,
                                    &st->flows, d->flowset, stats);
            if (error) {
                VLOG_WARN("incremental install failed (%s): installing "
                          "everything", error);
                free(error);
                error = vpcd_install_full(d, stats);
            }
        } else {
            error = vpcd_install_full(d, stats);
        }
        if (error) {
            d->errors[VPCD_ERR_FLOWS]++;
        }
    }
    d->phase_ms[VPCD_PHASE_FLOWS] = (time_usec() - flows_start) / 1000.0;
    vpcd_state_destroy(old);

installed:
    vpcd_check_bindings(d);
    d->in_sync = !error;
    *installed = !error;
    if (error) {
        d->apply_errors++;
        vpcd_set_error(d, "version %"PRIu64" (%s) not installed yet: %s",
                       d->version, origin, error);
    } else {
        d->applies++;
        d->applied_at = time(NULL);
        VLOG_INFO("applied version %"PRIu64" from %s: %"PRIuSIZE" flows "
                  "(%"PRIuSIZE" added, %"PRIuSIZE" modified, %"PRIuSIZE
                  " deleted)", d->version, origin,
                  hmap_count(&st->flows.flows), stats->added,
                  stats->modified, stats->deleted);
    }
    return vpcd_add_persist_error(d, origin, error, persist_error);
}

/* Validates, compiles and installs 'text' (see vpcd_adopt() for 'version'
 * and 'on_disk').  Returns the HTTP status; the response body goes to
 * '*body'. */
static bool
entries_equal(const struct vpcd_state *a, const struct vpcd_state *b)
{
    if (a->n_entries != b->n_entries) {
        return false;
    }
    for (size_t i = 0; i < a->n_entries; i++) {
        const struct pl_mapping_entry *x = &a->entries[i], *y = &b->entries[i];
        if (x->vni != y->vni || x->ip != y->ip || x->underlay != y->underlay
            || !eth_addr_equals(x->mac, y->mac)) {
            return false;
        }
    }
    return true;
}

/* With --verify-incremental: 'st' was compiled in part; compiles it whole
 * and returns that one instead if it differs. */
static struct vpcd_state *
vpcd_verify_partial(struct vpcd *d, struct vpcd_state *st, const char *text,
                    const struct json *doc, const struct pl_host_config *cfg)
{
    struct vpc_errors errors;
    vpc_errors_init(&errors);
    struct vpcd_state *full = vpcd_state_build_doc(text, doc, cfg, NULL,
                                                   NULL, &errors);
    vpc_errors_destroy(&errors);
    if (full && (!pl_flows_equal(&full->flows, &st->flows)
                 || !entries_equal(full, st))) {
        d->partial_mismatches++;
        char *diff = pl_flows_difference(&full->flows, &st->flows);
        VLOG_ERR("partial compile: its flows or cache entries differ from "
                 "a whole compile's (%s); using the whole compile's",
                 diff ? diff : "cache entries");
        free(diff);
        vpcd_state_destroy(st);
        return full;
    }
    vpcd_state_destroy(full);
    return st;
}

static int
vpcd_apply_text__(struct vpcd *d, const char *text, const struct json *doc,
                  const bool *stages, const char *origin, const char *source,
                  uint64_t version, bool on_disk, char **body)
{
    long long int start = time_usec();
    bool rebound;
    VPCD_TIMED(d, BINDINGS, rebound = (d->no_switch
                                       ? vpcd_no_switch_bind(d, text, doc)
                                       : vpcd_refresh_bindings(d)));
    if (rebound || !d->desired || !d->in_sync) {
        stages = NULL;          /* Compile everything. */
    }

    struct pl_host_config cfg;
    vpcd_host_config(d, &cfg);
    struct vpc_errors errors;
    vpc_errors_init(&errors);
    struct vpcd_state *st = vpcd_state_build_doc(text, doc, &cfg,
                                                 d->desired, stages,
                                                 &errors);
    if (st && st->partial) {
        d->partial_compiles++;
        if (d->verify_incremental) {
            st = vpcd_verify_partial(d, st, text, doc, &cfg);
        }
    }
    d->phase_ms[VPCD_PHASE_MODEL] = st ? st->model_ms : 0;
    d->phase_ms[VPCD_PHASE_COMPILE] = st ? st->compile_ms : 0;
    if (!st) {
        d->rejected++;
        vpcd_set_error(d, "rejected a document from %s: %"PRIuSIZE
                       " error(s), first: %s", origin, errors.n,
                       errors.n ? errors.msgs[0] : "?");
        *body = vpcd_errors_json(&errors);
        vpc_errors_destroy(&errors);
        return 400;
    }
    vpc_errors_destroy(&errors);

    struct sw_apply_stats stats;
    bool installed;
    char *error = vpcd_adopt(d, st, origin, source, version, on_disk,
                             &stats, &installed);
    double ms = (time_usec() - start) / 1000.0;
    struct json *obj = json_object_create();
    json_object_put(obj, "version", json_integer_create(d->version));
    json_object_put(obj, "in_sync", json_boolean_create(!error));
    json_object_put(obj, "persisted", json_boolean_create(d->persisted));
    if (error) {
        json_object_put_string(obj, "error", error);
    }
    if (installed) {
        record_latency(d, ms);
        struct json *f = json_object_create();
        json_object_put(f, "total", json_integer_create(
                            hmap_count(&d->desired->flows.flows)));
        json_object_put(f, "added", json_integer_create(stats.added));
        json_object_put(f, "modified", json_integer_create(stats.modified));
        json_object_put(f, "deleted", json_integer_create(stats.deleted));
        json_object_put(obj, "flows", f);
        json_object_put(obj, "cache_entries",
                        json_integer_create(d->desired->n_entries));
        json_object_put(obj, "apply_ms", json_real_create(ms));
    }
    *body = json_to_string(obj, JSSF_PRETTY);
    json_destroy(obj);
    int status = error ? 202 : 200;
    free(error);
    return status;
}

int
vpcd_apply_text(struct vpcd *d, const char *text, const char *origin,
                char **body)
{
    return vpcd_apply_text__(d, text, NULL, NULL, origin, origin, 0, false,
                             body);
}

int
vpcd_apply_doc(struct vpcd *d, const char *text, const struct json *doc,
               const bool *stages, const char *origin, char **body)
{
    return vpcd_apply_text__(d, text, doc, stages, origin, "region-db", 0,
                             false, body);
}

char *
vpcd_adopt_entries(struct vpcd *d, struct json *doc, struct vpc_region *r,
                   struct pl_mapping_entry *entries, size_t n,
                   const char *origin)
{
    struct vpcd_state *st = d->desired;
    free(st->text);
    st->text = NULL;
    json_destroy(st->doc);
    st->doc = doc;
    vpc_region_destroy(st->region);
    st->region = r;
    free(st->entries);
    st->entries = entries;
    st->n_entries = n;
    d->version++;
    d->persisted = false;
    vpcd_set_source(d, "region-db", NULL);
    vpcd_check_bindings(d);
    char *persist_error = vpcd_save(d);

    char *error = NULL;
    if (d->no_switch) {
        int err = d->record_file ? vpcd_record(d) : 0;
        if (err) {
            error = xasprintf("%s: cannot record version %"PRIu64" (%s)",
                              d->record_file, d->version,
                              ovs_strerror(err));
        }
    } else if (d->mapping == PL_MAP_ACTION) {
        error = vpcd_sync_cache(d);
        if (error) {
            d->errors[VPCD_ERR_CACHE]++;
        }
    }
    d->in_sync = !error;
    if (error) {
        d->apply_errors++;
        vpcd_set_error(d, "version %"PRIu64" (%s) not installed yet: %s",
                       d->version, origin, error);
    } else {
        d->applies++;
        d->applied_at = time(NULL);
        VLOG_INFO("applied version %"PRIu64" from %s: cache entries only "
                  "(%"PRIuSIZE"), flows unchanged", d->version, origin, n);
    }
    return vpcd_add_persist_error(d, origin, error, persist_error);
}

/* Recompiles the desired document (bindings changed). */
static void
vpcd_recompile(struct vpcd *d, const char *why)
{
    if (!d->desired) {
        return;
    }
    char *text = xstrdup(vpcd_state_text(d->desired)), *body;
    VLOG_INFO("recompiling: %s", why);
    vpcd_apply_text__(d, text, NULL, NULL, why, NULL, 0, false, &body);
    free(body);
    free(text);
}

/* -------------------------------------------------------------- the audit */

bool
vpcd_file_changed(struct vpcd *d)
{
    struct stat s;
    if (!d->intents_file || stat(d->intents_file, &s)) {
        return false;
    }
    bool changed = (s.st_mtim.tv_sec != d->file_mtime.tv_sec
                    || s.st_mtim.tv_nsec != d->file_mtime.tv_nsec
                    || s.st_size != d->file_size);
    d->file_mtime = s.st_mtim;
    d->file_size = s.st_size;
    return changed;
}

static void vpcd_set_aside(const char *file);

/* Reads the persisted version and document without applying them, from the
 * state file or, if it is corrupt (reported, and set aside), its last good
 * copy; '*primary' tells which.  Returns false if there is none. */
static bool
vpcd_peek_state(struct vpcd *d, uint64_t *version, char **text,
                bool *primary)
{
    char *error;

    *primary = false;
    if (!d->state_file) {
        return false;
    }
    int retval = vpcd_state_read(d->state_file, version, text, &error);
    if (!retval) {
        *primary = true;
        return true;
    }
    if (retval != ENOENT) {
        d->errors[VPCD_ERR_STATE_FILE]++;
        VLOG_ERR("%s; reading the version from the last good copy", error);
        vpcd_set_aside(d->state_file);
        char *prev = xasprintf("%s.prev", d->state_file);
        free(error);
        retval = vpcd_state_read(prev, version, text, &error);
        free(prev);
    }
    free(error);
    return !retval;
}

void
vpcd_load_file(struct vpcd *d, const char *file, const char *origin)
{
    if (d->state_file && !strcmp(file, d->state_file)) {
        vpcd_load_state(d, origin);
        return;
    }
    if (d->follow_hooks) {
        d->follow_hooks->import_file(d, file, origin);  /* --region-db. */
        return;
    }
    char *text = vpcd_read_file(file);
    if (!text) {
        vpcd_set_error(d, "%s: cannot read (%s)", file, ovs_strerror(errno));
        return;
    }
    uint64_t version = 0;
    bool on_disk = false;
    if (!d->desired) {
        /* The first document since vpcd started: the version goes on from
         * the persisted one. */
        char *persisted;
        if (vpcd_peek_state(d, &version, &persisted, &on_disk)) {
            if (strcmp(persisted, text)) {
                version++;
                on_disk = false;
            }
            free(persisted);
        }
    }
    char *body;
    char *source = xasprintf("file:%s", file);
    int status = vpcd_apply_text__(d, text, NULL, NULL, origin, source,
                                   version, on_disk, &body);
    free(source);
    if (status == 400) {
        VLOG_WARN("%s: invalid, nothing applied:\n%s", file, body);
    }
    free(body);
    free(text);
}

/* Sets a state file that cannot be used aside as FILE.corrupt.  The next
 * vpcd_persist() then finds no file to keep as the previous good copy, so
 * FILE.prev stays the last good one. */
static void
vpcd_set_aside(const char *file)
{
    char *corrupt = xasprintf("%s.corrupt", file);
    if (rename(file, corrupt) && errno != ENOENT) {
        VLOG_ERR("%s: cannot rename to %s (%s)", file, corrupt,
                 ovs_strerror(errno));
    }
    free(corrupt);
}

/* Reads and applies state file 'file' (with 'on_disk': the state file
 * itself, not a copy).  Returns 0 on success, ENOENT if there is no such
 * file, otherwise EINVAL with the reason in '*error'. */
static int
vpcd_try_state(struct vpcd *d, const char *file, bool on_disk,
               const char *origin, uint64_t *version, char **error)
{
    char *text;
    int retval = vpcd_state_read(file, version, &text, error);
    if (retval == ENOENT) {
        free(*error);
        *error = NULL;
        return ENOENT;
    } else if (retval) {
        return EINVAL;
    }
    char *body;
    int status = vpcd_apply_text__(d, text, NULL, NULL, origin, "state",
                                   *version, on_disk, &body);
    free(text);
    if (status == 400) {
        /* vpcd_apply_text__() said why in last_error. */
        *error = xasprintf("%s: corrupt: the document is not valid (%s)",
                           file, d->last_error);
    }
    free(body);
    return status == 400 ? EINVAL : 0;
}

void
vpcd_load_state(struct vpcd *d, const char *origin)
{
    if (!d->state_file) {
        return;
    }
    char *prev = xasprintf("%s.prev", d->state_file);
    uint64_t version;
    char *error = NULL;

    if (d->desired) {
        /* Running: a corrupt file is set aside and rewritten from the
         * desired state; a good one is applied, as a reload. */
        char *text;
        int retval = vpcd_state_read(d->state_file, &version, &text,
                                     &error);
        if (retval == ENOENT) {
            d->persisted = false;
        } else if (retval) {
            d->errors[VPCD_ERR_STATE_FILE]++;
            VLOG_ERR("%s; rewriting it from version %"PRIu64, error,
                     d->version);
            vpcd_set_aside(d->state_file);
            d->persisted = false;
        } else {
            char *body;
            vpcd_apply_text__(d, text, NULL, NULL, origin, "state", version,
                              true, &body);
            free(body);
        }
        free(text);
        free(error);
        error = vpcd_save(d);
        if (error) {
            vpcd_set_error(d, "%s", error);
        }
        goto out;
    }

    int retval = vpcd_try_state(d, d->state_file, true, origin, &version,
                                &error);
    if (retval == ENOENT && !access(prev, F_OK)) {
        /* Interrupted between keeping the previous copy and renaming the
         * new one into place (file systems without hard links). */
        VLOG_WARN("%s: missing; starting from %s", d->state_file, prev);
        retval = vpcd_try_state(d, prev, false, origin, &version, &error);
        if (retval) {
            d->errors[VPCD_ERR_STATE_FILE]++;
            vpcd_set_error(d, "%s: missing; %s; no usable state: waiting "
                           "for intents", d->state_file, error);
        }
    } else if (retval == ENOENT) {
        /* No state yet, or the plain document that earlier vpcds kept in
         * intents.json. */
        char *copy = xstrdup(d->state_file);
        char *legacy = xasprintf("%s/intents.json", dirname(copy));
        free(copy);
        if (!access(legacy, F_OK)) {
            VLOG_INFO("%s: starting from %s (no version)", d->state_file,
                      legacy);
            vpcd_load_file(d, legacy, origin);
        }
        free(legacy);
    } else if (retval) {
        d->errors[VPCD_ERR_STATE_FILE]++;
        VLOG_ERR("%s; trying the last good copy %s", error, prev);
        vpcd_set_aside(d->state_file);
        char *prev_error = NULL;
        retval = vpcd_try_state(d, prev, false, origin, &version,
                                &prev_error);
        if (!retval) {
            vpcd_set_error(d, "%s; started from the last good copy %s "
                           "(version %"PRIu64")", error, prev, version);
        } else {
            if (retval == ENOENT) {
                prev_error = xasprintf("%s: none", prev);
            }
            d->errors[VPCD_ERR_STATE_FILE]++;
            vpcd_set_error(d, "%s; %s; no usable state: waiting for "
                           "intents", error, prev_error);
        }
        free(prev_error);
    }
out:
    free(error);
    free(prev);
}

void
vpcd_audit(struct vpcd *d)
{
    d->audits++;
    if (vpcd_file_changed(d)) {
        vpcd_load_file(d, d->intents_file, "file");
    }
    if (!d->no_switch && vpcd_refresh_bindings(d)) {
        vpcd_recompile(d, "port bindings changed");
    }
    if (!d->desired) {
        return;
    }
    if (!d->persisted) {
        char *error = vpcd_save(d);
        if (error) {
            vpcd_set_error(d, "version %"PRIu64" not persisted: %s",
                           d->version, error);
            free(error);
        } else {
            VLOG_INFO("persisted version %"PRIu64" in %s", d->version,
                      d->state_file);
        }
    }

    if (d->no_switch) {
        if (!d->in_sync && d->record_file && !vpcd_record(d)) {
            VLOG_INFO("in sync with version %"PRIu64" (recorded)",
                      d->version);
            d->applies++;
            d->applied_at = time(NULL);
            d->in_sync = true;
        }
        return;                 /* No switch to audit. */
    }

    bool repaired = false;
    if (d->mapping == PL_MAP_ACTION) {
        uint64_t gen;
        size_t n;
        if (!vpcd_cache_stats(d, &gen, &n, NULL)) {
            d->in_sync = false;
            return;             /* ovs-vswitchd is not there (yet). */
        }
        if (!d->cache_known || gen != d->cache_generation
            || n != d->n_loaded) {
            VLOG_WARN("mapping cache differs (generation %"PRIu64", %"
                      PRIuSIZE" entries; expected %"PRIu64", %"PRIuSIZE
                      "): reloading", gen, n, d->cache_generation,
                      d->n_loaded);
            d->cache_known = false;
            char *error = vpcd_sync_cache(d);
            if (error) {
                d->errors[VPCD_ERR_CACHE]++;
                vpcd_set_error(d, "cache repair failed: %s", error);
                free(error);
                d->in_sync = false;
                return;
            }
            repaired = true;
        }
    }

    struct sw_apply_stats st;
    char *error = (d->flowset
                   ? sw_apply_flowset(d->switch_target, d->flowset, false,
                                       &st)
                   : vpcd_install_full(d, &st));
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "audit: %s", error);
        free(error);
        d->errors[VPCD_ERR_FLOWS]++;
        d->in_sync = false;
        return;
    }
    if (st.added || st.modified || st.deleted) {
        VLOG_WARN("audit: switch differed from version %"PRIu64": restored "
                  "%"PRIuSIZE" flows, modified %"PRIuSIZE", removed %"
                  PRIuSIZE, d->version, st.added, st.modified, st.deleted);
        repaired = true;
    }
    if (repaired) {
        d->repairs++;
    }
    if (!d->in_sync) {
        /* A version accepted while ovs-vswitchd was away is installed. */
        VLOG_INFO("in sync with version %"PRIu64, d->version);
        d->applies++;
        d->applied_at = time(NULL);
    }
    d->in_sync = true;
}

/* ------------------------------------------------------------ HTTP API */

static char *
error_json(const char *msg)
{
    struct json *obj = json_object_create();
    json_object_put_string(obj, "error", msg);
    char *s = json_to_string(obj, JSSF_PRETTY);
    json_destroy(obj);
    return s;
}

char *
vpcd_status_json(const struct vpcd *d)
{
    struct json *o = json_object_create();
    json_object_put_string(o, "host", d->host);
    json_object_put_string(o, "mapping", d->mapping == PL_MAP_ACTION
                                         ? "action" : "flows");
    json_object_put(o, "version", json_integer_create(d->version));
    json_object_put(o, "in_sync", json_boolean_create(vpcd_in_sync(d)));
    json_object_put(o, "persisted", json_boolean_create(d->persisted));
    json_object_put(o, "switch", json_string_create(d->no_switch
                                                    ? "none" : "ovs"));
    struct json *errors = json_object_create();
    for (int i = 0; i < VPCD_N_ERRORS; i++) {
        json_object_put(errors, error_kinds[i],
                        json_integer_create(d->errors[i]));
    }
    json_object_put(o, "errors", errors);
    json_object_put(o, "applied_at", json_integer_create(d->applied_at));
    struct json *src = json_object_create();
    json_object_put(src, "origin", d->source ? json_string_create(d->source)
                                             : json_null_create());
    json_object_put(src, "accepted_at", d->source
                    ? json_string_create_nocopy(xastrftime_msec(
                          "%Y-%m-%dT%H:%M:%S.###Z", d->source_at, true))
                    : json_null_create());
    const char *sha256 = vpcd_source_sha256(d);
    json_object_put(src, "sha256", sha256 ? json_string_create(sha256)
                                          : json_null_create());
    json_object_put(o, "source", src);
    json_object_put(o, "flows", json_integer_create(
                        d->desired ? hmap_count(&d->desired->flows.flows)
                                   : 0));
    json_object_put(o, "cache_entries", json_integer_create(
                        d->desired ? d->desired->n_entries : 0));
    json_object_put(o, "ports_bound", json_integer_create(d->n_bindings));
    struct json *warnings = json_array_create_empty();
    for (size_t i = 0; i < d->n_problems; i++) {
        struct json *w = json_object_create();
        json_object_put_string(w, "eni", d->problems[i].eni);
        json_object_put_string(w, "problem", d->problems[i].problem);
        json_array_add(warnings, w);
    }
    json_object_put(o, "warnings", warnings);
    json_object_put(o, "applies", json_integer_create(d->applies));
    json_object_put(o, "rejected", json_integer_create(d->rejected));
    json_object_put(o, "repairs", json_integer_create(d->repairs));
    json_object_put(o, "audits", json_integer_create(d->audits));
    json_object_put(o, "ovs_timeouts",
                    json_integer_create(sw_ovs_timeouts()));
    json_object_put(o, "apply_ms_p50",
                    json_real_create(latency_quantile(d, 0.5)));
    json_object_put(o, "apply_ms_p99",
                    json_real_create(latency_quantile(d, 0.99)));
    static const char *phase_names[] = {
#define VPCD_PHASE(ENUM, NAME) NAME,
        VPCD_PHASES
#undef VPCD_PHASE
    };
    struct json *phases = json_object_create();
    for (int i = 0; i < VPCD_N_PHASES; i++) {
        json_object_put(phases, phase_names[i],
                        json_real_create(d->phase_ms[i]));
    }
    json_object_put(o, "phases_ms_last", phases);
    json_object_put(o, "partial_compiles",
                    json_integer_create(d->partial_compiles));
    json_object_put(o, "partial_mismatches",
                    json_integer_create(d->partial_mismatches));
    json_object_put(o, "last_error", d->last_error
                    ? json_string_create(d->last_error) : json_null_create());
    if (d->follow_hooks) {
        d->follow_hooks->status(d, o);
    }
    if (d->pinctrl_status) {
        d->pinctrl_status(d, o);
    }
    if (d->flowlog_status) {
        d->flowlog_status(d, o);
    }
    if (d->imds) {
        struct json *md = vpcd_imds_status(d->imds);
        char *at = xasprintf("%s:%d", d->metadata_addr, d->metadata_port);
        json_object_put_string(md, "listen", at);
        json_object_put(md, "service_port",
                        json_integer_create(d->ports.metadata));
        free(at);
        json_object_put(o, "metadata", md);
    }
    char *s = json_to_string(o, JSSF_PRETTY | JSSF_SORT);
    json_destroy(o);
    return s;
}

static void
metric(struct ds *ds, const char *name, const char *type, const char *help,
       double value)
{
    ds_put_format(ds, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help,
                  name, type, name, value);
}

static char *
metrics_text(struct vpcd *d)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    metric(&ds, "vpcd_version", "gauge", "Version of the intents in force.",
           d->version);
    metric(&ds, "vpcd_in_sync", "gauge",
           "1 if ovs-vswitchd's flows and cache and the state file hold "
           "the desired version and, with --region-db, the follower is "
           "current: /v1/status's in_sync.", vpcd_in_sync(d));
    metric(&ds, "vpcd_persisted", "gauge",
           "1 if the state file holds the desired version.", d->persisted);
    ds_put_cstr(&ds, "# HELP vpcd_errors_total Failed writes to the switch, "
                "the cache or the state file, and unusable state files.\n"
                "# TYPE vpcd_errors_total counter\n");
    for (int i = 0; i < VPCD_N_ERRORS; i++) {
        ds_put_format(&ds, "vpcd_errors_total{kind=\"%s\"} %"PRIu64"\n",
                      error_kinds[i], d->errors[i]);
    }
    metric(&ds, "vpcd_applies_total", "counter",
           "Documents installed.", d->applies);
    metric(&ds, "vpcd_apply_errors_total", "counter",
           "Valid documents that could not be installed at once.",
           d->apply_errors);
    metric(&ds, "vpcd_rejected_total", "counter",
           "Invalid documents rejected.", d->rejected);
    metric(&ds, "vpcd_repairs_total", "counter",
           "Audits that found ovs-vswitchd changed and restored it.",
           d->repairs);
    metric(&ds, "vpcd_ovs_timeouts_total", "counter",
           "Exchanges with OVS (OVSDB, OpenFlow, unixctl) that timed out.",
           sw_ovs_timeouts());
    metric(&ds, "vpcd_flows_desired", "gauge",
           "OpenFlow flows of this host.",
           d->desired ? hmap_count(&d->desired->flows.flows) : 0);
    metric(&ds, "vpcd_binding_warnings", "gauge",
           "ENIs of this host not plugged, or plugged but placed "
           "elsewhere (/v1/status warnings).", d->n_problems);
    metric(&ds, "vpcd_cache_entries_desired", "gauge",
           "Mapping-cache entries of this host.",
           d->desired ? d->desired->n_entries : 0);
    vpcd_put_latency_summary(&ds, "vpcd_apply_latency_seconds",
                             "Validate + compile + install time.",
                             latency_quantile(d, 0.5),
                             latency_quantile(d, 0.99), d->latency_sum,
                             d->n_latencies);
    ds_put_format(&ds, "# HELP vpcd_build_info The version of ovs-vpc and "
                  "of Open vSwitch vpcd was built from.\n"
                  "# TYPE vpcd_build_info gauge\n"
                  "vpcd_build_info{version=\"%s\",ovs_version=\"%s\"} 1\n",
                  VPC_VERSION, PACKAGE_VERSION);

    if (d->follow_hooks) {
        d->follow_hooks->metrics(d, &ds);
    }
    if (d->pinctrl_metrics) {
        d->pinctrl_metrics(d, &ds);
    }
    if (d->flowlog_metrics) {
        d->flowlog_metrics(d, &ds);
    }
    if (d->imds) {
        vpcd_imds_metrics(d->imds, &ds);
    }

    if (d->no_switch) {
        return ds_steal_cstr(&ds);      /* No switch counters. */
    }
    uint64_t drops[PL_N_STAGES];
    char *error = sw_stage_drops(d->switch_target, drops);
    if (!error) {
        ds_put_cstr(&ds, "# HELP vpcd_stage_drops_total Packets dropped by "
                    "each pipeline stage's drop flows.\n"
                    "# TYPE vpcd_stage_drops_total counter\n");
        for (int s = 0; s < PL_N_STAGES; s++) {
            ds_put_format(&ds, "vpcd_stage_drops_total{stage=\"%s\"} %"
                          PRIu64"\n", pl_stage_label(s), drops[s]);
        }
    }
    free(error);

    char *stats;
    uint64_t gen;
    size_t n;
    if (d->mapping == PL_MAP_ACTION && vpcd_cache_stats(d, &gen, &n, &stats)) {
        static const char *const keys[] = {
            "hits", "misses", "verify_ok", "spoofed" };
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
            char *k = xasprintf("%s=", keys[i]);
            const char *p = strstr(stats, k);
            ds_put_format(&ds, "# TYPE vpcd_cache_%s_total counter\n"
                          "vpcd_cache_%s_total %llu\n", keys[i], keys[i],
                          p ? strtoull(p + strlen(k), NULL, 10) : 0ULL);
            free(k);
        }
        free(stats);
    }
    return ds_steal_cstr(&ds);
}

const char *
vpcd_http_allow(const char *path)
{
    return (!strcmp(path, "/v1/intents") ? "GET, PUT"
            : !strcmp(path, "/v1/validate") ? "POST"
            : (!strcmp(path, "/v1/status") || !strcmp(path, "/metrics")
               || !strcmp(path, "/healthz")) ? "GET"
            : NULL);
}

int
vpcd_http(struct vpcd *d, const char *method, const char *path,
          const char *body, const char **content_type, char **out)
{
    bool get = !strcmp(method, "GET"), put = !strcmp(method, "PUT");
    bool post = !strcmp(method, "POST");

    *content_type = "application/json";
    if (!strcmp(path, "/healthz")) {
        /* Liveness only: the daemon's loop is running.  No work, no OVS
         * exchange; whether the switch is in sync is /v1/status's. */
        if (!get) {
            *out = error_json("use GET");
            return 405;
        }
        *out = xasprintf("{\"status\": \"ok\", \"version\": \"%s\"}",
                         VPC_VERSION);
        return 200;
    } else if (!strcmp(path, "/v1/intents")) {
        if (put && d->intents_file) {
            /* One source at a time: the file's next change or a SIGHUP
             * would silently undo what a PUT installed (docs/vpcd.md). */
            char *msg = xasprintf("vpcd watches %s (--intents): that file "
                                  "is its only source of intents; edit it "
                                  "(vpcd reloads it within a second), or "
                                  "run vpcd without --intents to PUT",
                                  d->intents_file);
            *out = error_json(msg);
            free(msg);
            return 409;
        } else if (put && d->follow_hooks) {
            return d->follow_hooks->import_text(d, body, "http", out);
        } else if (put) {
            return vpcd_apply_text(d, body, "http", out);
        } else if (get && d->desired) {
            *out = xstrdup(vpcd_state_text(d->desired));
            return 200;
        } else if (get) {
            *out = error_json("no intents loaded yet");
            return 404;
        }
        *out = error_json("use GET or PUT");
        return 405;
    } else if (!strcmp(path, "/v1/validate")) {
        if (!post) {
            *out = error_json("use POST");
            return 405;
        }
        struct vpc_errors errors;
        vpc_errors_init(&errors);
        int status;
        *out = vpcd_validate_json(body, &errors, &status);
        vpc_errors_destroy(&errors);
        return status;
    } else if (!strcmp(path, "/v1/status") || !strcmp(path, "/metrics")) {
        if (!get) {
            *out = error_json("use GET");
            return 405;
        }
        if (!strcmp(path, "/v1/status")) {
            *out = vpcd_status_json(d);
        } else {
            *content_type = "text/plain; version=0.0.4";
            *out = metrics_text(d);
        }
        return 200;
    }
    *out = error_json("no such resource (try /v1/intents, /v1/validate, "
                      "/v1/status, /metrics, /healthz)");
    return 404;
}

char *
vpcd_desired_flows(const struct vpcd *d)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    if (d->desired) {
        size_t n;
        const struct pl_flow **v = pl_flows_sorted(&d->desired->flows, &n);
        for (size_t i = 0; i < n; i++) {
            char *s = pl_flow_to_string(v[i]);
            ds_put_format(&ds, "%s\n", s);
            free(s);
        }
        free(v);
    }
    return ds_steal_cstr(&ds);
}

int
vpcd_record(const struct vpcd *d)
{
    if (!d->record_file || !d->desired) {
        return 0;
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_format(&ds, "# vpcd --no-switch: host %s, version %"PRIu64", %"
                  PRIuSIZE" flows, %"PRIuSIZE" cache entries\n# ofports:",
                  d->host, d->version, hmap_count(&d->desired->flows.flows),
                  d->desired->n_entries);
    for (size_t i = 0; i < d->n_bindings; i++) {
        ds_put_format(&ds, " %s=%d", d->bindings[i].eni_id,
                      d->bindings[i].ofport);
    }
    ds_put_format(&ds, "; tunnel=%d", d->ports.tunnel);
    if (d->ports.uplink) {
        ds_put_format(&ds, " uplink=%d dx=%d vpn=%d", d->ports.uplink,
                      d->ports.dx, d->ports.vpn);
    }
    ds_put_char(&ds, '\n');
    char *flows = vpcd_desired_flows(d);
    ds_put_cstr(&ds, flows);
    free(flows);
    ds_put_cstr(&ds, "# mapping cache\n");
    for (size_t i = 0; i < d->desired->n_entries; i++) {
        const struct pl_mapping_entry *e = &d->desired->entries[i];
        char ip[16], ul[16];
        vpc_ip_format(e->ip, ip);
        vpc_ip_format(e->underlay, ul);
        ds_put_format(&ds, "vni=%"PRIu32" %s -> %s mac="ETH_ADDR_FMT"\n",
                      e->vni, ip, ul, ETH_ADDR_ARGS(e->mac));
    }

    char *tmp = xasprintf("%s.tmp", d->record_file);
    int error = 0;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        error = errno;
    } else {
        if (fwrite(ds_cstr(&ds), 1, ds.length, f) != ds.length) {
            error = errno ? errno : EIO;
        }
        if (fclose(f) && !error) {
            error = errno;
        }
        if (!error && rename(tmp, d->record_file)) {
            error = errno;
        }
    }
    free(tmp);
    ds_destroy(&ds);
    return error;
}

void
vpcd_destroy(struct vpcd *d)
{
    if (d->no_switch_ports) {
        simap_destroy(d->no_switch_ports);
        free(d->no_switch_ports);
    }
    vpcd_state_destroy(d->desired);
    sw_flowset_destroy(d->flowset);
    free(d->loaded);
    sw_bindings_free(d->bindings, d->n_bindings);
    vpcd_imds_destroy(d->imds);
    sw_binding_problems_free(d->problems, d->n_problems);
    free(d->last_error);
    free(d->source);
    free(d->state_file);
    free(d->run_dir);
    free(d->db);
    free(d->switch_target);
    free(d->vswitchd_ctl);
    free(d->unixctl_path);
    free(d->dns_upstreams);
}
