/* cli/trace.c: the reachability trace across hosts (cli/trace.h). */

#include <config.h>
#include "cli/trace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli/views.h"
#include "dirs.h"
#include "dp-packet.h"
#include "fatal-signal.h"
#include "flow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/util.h"
#include "packets.h"
#include "pipeline/trace.h"
#include "sset.h"
#include "switch/switch.h"
#include "translator/model.h"
#include "util.h"

struct tr_options tr_options = {
    .bridge = "br-int",
    .tunnel_port = -1,
    .rundirs = SHASH_INITIALIZER(&tr_options.rundirs),
};

/* A packet crosses at most this many switches: ENI, edge, ENI is three;
 * more means a loop. */
#define TR_MAX_HOPS 8

/* One host's switch, live or throwaway. */
struct tr_switch {
    const struct vpc_host *host;
    struct pl_host_config cfg;
    struct pl_binding *owned;   /* Bindings 'cfg' points to. */
    size_t n_owned;
    bool owned_from_db;         /* 'owned' from sw_ovsdb_read_bindings(). */
    struct pl_flows flows;      /* FILE's compile for this host. */
    char *ctl, *db, *target;    /* unixctl, OVSDB and OpenFlow. */
    char *dir;                  /* --offline: the temporary directory. */
    long long int differ;       /* Flows that differ from the compile. */
    long long int cache_differ; /* Action mode: mapping-cache entries that
                                 * differ from the compile's. */
    struct sw_apply_stats st;
};

/* Hosts and edges in one numbering: hosts first. */
static size_t
n_switches(const struct vpc_region *r)
{
    return r->n_hosts + r->n_edges;
}

static const struct vpc_host *
switch_host(const struct vpc_region *r, size_t i)
{
    return i < r->n_hosts ? &r->hosts[i] : &r->edges[i - r->n_hosts];
}

static size_t
switch_index(const struct vpc_region *r, const struct vpc_host *h)
{
    for (size_t i = 0; i < r->n_hosts; i++) {
        if (h == &r->hosts[i]) {
            return i;
        }
    }
    return r->n_hosts + (h - r->edges);
}

/* ------------------------------------------------------ offline switches */

/* Runs 'argv' (found in PATH) with OVS_RUNDIR etc. set to 'dir' and waits
 * for it.  Returns NULL or a malloc'd message. */
static char *
run_program(const char *dir, char *argv[])
{
    pid_t pid = fork();
    if (pid < 0) {
        return xasprintf("fork: %s", ovs_strerror(errno));
    }
    if (!pid) {
        setenv("OVS_RUNDIR", dir, 1);
        setenv("OVS_LOGDIR", dir, 1);
        setenv("OVS_DBDIR", dir, 1);
        char *log = xasprintf("%s/stderr.log", dir);
        int fd = open("/dev/null", O_WRONLY);
        int efd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
        }
        if (efd >= 0) {
            dup2(efd, STDERR_FILENO);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        /* A fatal signal: stop the throwaway switches now. */
        fatal_signal_run();
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        struct ds ds = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; argv[i]; i++) {
            ds_put_format(&ds, "%s%s", i ? " " : "", argv[i]);
        }
        char *e = xasprintf("offline switch: '%s' failed (%s)", ds_cstr(&ds),
                            WIFEXITED(status) && WEXITSTATUS(status) == 127
                            ? "not found in PATH" : "its messages were in "
                            "the temporary directory's stderr.log");
        ds_destroy(&ds);
        return e;
    }
    return NULL;
}

/* The vswitch schema: in $OVS_PKGDATADIR (ovs_pkgdatadir()), or next to
 * the ovs-vswitchd found in PATH (a build tree). */
static char *
find_vswitch_schema(void)
{
    char *p = xasprintf("%s/vswitch.ovsschema", ovs_pkgdatadir());
    if (!access(p, R_OK)) {
        return p;
    }
    free(p);
    const char *path = getenv("PATH");
    char *copy = xstrdup(path ? path : ""), *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d;
         d = strtok_r(NULL, ":", &save)) {
        char *bin = xasprintf("%s/ovs-vswitchd", d);
        bool found = !access(bin, X_OK);
        free(bin);
        p = xasprintf("%s/vswitch.ovsschema", d);
        if (found && !access(p, R_OK)) {
            free(copy);
            return p;
        }
        free(p);
    }
    free(copy);
    return NULL;
}

/* The pid in 'dir''s pid file of 'daemon', or 0. */
static long
read_pid(const char *dir, const char *daemon)
{
    char *pidfile = xasprintf("%s/%s.pid", dir, daemon);
    FILE *f = fopen(pidfile, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1) {
            pid = 0;
        }
        fclose(f);
    }
    free(pidfile);
    return pid;
}

/* Stops the daemons of throwaway switch 'dir' by their pid files and
 * removes the directory. */
static void
offline_stop(const char *dir)
{
    static const char *const daemons[] = { "ovs-vswitchd", "ovsdb-server" };
    for (size_t i = 0; i < ARRAY_SIZE(daemons); i++) {
        long pid = read_pid(dir, daemons[i]);
        /* "exit" over unixctl, SIGTERM if that fails; then wait until the
         * daemon has removed its pid file, as OVS daemons do at exit
         * (kill(pid, 0) would also wait for a zombie nobody reaps: a
         * detached daemon's parent is init, or whatever reaps orphans
         * here). */
        char *ctl = xasprintf("%s/%s.ctl", dir, daemons[i]), *out = NULL;
        char *pidfile = xasprintf("%s/%s.pid", dir, daemons[i]);
        char *error = pid > 0 ? sw_appctl(ctl, "exit", 0, NULL, &out) : NULL;
        free(out);
        free(ctl);
        if (pid > 0 && (!error || !kill(pid, SIGTERM))) {
            for (int k = 0; k < 500 && !access(pidfile, F_OK)
                            && !kill(pid, 0); k++) {
                xnanosleep(10 * 1000 * 1000);
            }
        }
        free(pidfile);
        free(error);
    }
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                char *f = xasprintf("%s/%s", dir, de->d_name);
                unlink(f);
                free(f);
            }
        }
        closedir(d);
    }
    rmdir(dir);
}

/* The throwaway switches running, so that a fatal signal (Ctrl-C, kill,
 * a closed terminal) stops them too: OVS's fatal-signal module runs the
 * hook from its poll loop, which every unixctl or OpenFlow exchange
 * goes through, and at exit. */
static struct sset offline_dirs = SSET_INITIALIZER(&offline_dirs);

static void
offline_stop_all(void *aux OVS_UNUSED)
{
    const char *dir;
    SSET_FOR_EACH (dir, &offline_dirs) {
        offline_stop(dir);
    }
    sset_clear(&offline_dirs);
}

static void
offline_track(const char *dir)
{
    static bool hooked;
    if (!hooked) {
        hooked = true;
        fatal_signal_add_hook(offline_stop_all, NULL, NULL, true);
    }
    sset_add(&offline_dirs, dir);
}

static void
offline_untrack(const char *dir)
{
    sset_find_and_delete(&offline_dirs, dir);
}

/* Starts a throwaway ovs-vswitchd for 's' (whose 'cfg' and 'flows' are
 * set) in a new temporary directory, with its ports, an underlay toward
 * every other host of 'r', its flows and, in action mode, its mapping
 * cache. */
static char *
offline_start(const struct vpc_region *r, struct tr_switch *s)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = xasprintf("%s/vpcctl-trace.XXXXXX",
                          tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        char *e = xasprintf("%s: %s", dir, ovs_strerror(errno));
        free(dir);
        return e;
    }
    s->dir = dir;
    offline_track(dir);
    char *schema = find_vswitch_schema();
    if (!schema) {
        return xstrdup("offline switch: no vswitch.ovsschema in "
                       "$OVS_PKGDATADIR nor next to an ovs-vswitchd in "
                       "PATH");
    }
    char *db_file = xasprintf("%s/conf.db", dir);
    char *remote = xasprintf("--remote=punix:%s/db.sock", dir);
    char *db = xasprintf("unix:%s/db.sock", dir);
    char *dbopt = xasprintf("--db=%s", db);
    char *pid1 = xasprintf("--pidfile=%s/ovsdb-server.pid", dir);
    char *ctl1 = xasprintf("--unixctl=%s/ovsdb-server.ctl", dir);
    char *log1 = xasprintf("--log-file=%s/ovsdb-server.log", dir);
    char *pid2 = xasprintf("--pidfile=%s/ovs-vswitchd.pid", dir);
    char *ctl2 = xasprintf("--unixctl=%s/ovs-vswitchd.ctl", dir);
    char *log2 = xasprintf("--log-file=%s/ovs-vswitchd.log", dir);
    char *create[] = { "ovsdb-tool", "create", db_file, schema, NULL };
    char *server[] = { "ovsdb-server", db_file, remote, pid1, ctl1, log1,
                       "-vconsole:off", "--detach", "--no-chdir", NULL };
    /* An edge's Direct Connect frames carry two VLAN tags. */
    char *init[] = { "ovs-vsctl", dbopt, "--no-wait", "init", "--", "set",
                     "Open_vSwitch", ".", "other_config:vlan-limit=2",
                     NULL };
    char *vswitchd[] = { "ovs-vswitchd", db, "--enable-dummy",
                         "--disable-system", pid2, ctl2, log2,
                         "-vconsole:off", "--detach", "--no-chdir", NULL };
    char *error = run_program(dir, create);
    if (!error) {
        error = run_program(dir, server);
    }
    if (!error) {
        error = run_program(dir, init);
    }
    if (!error) {
        error = run_program(dir, vswitchd);
    }

    /* The bridges and ports, in one ovs-vsctl run. */
    struct svec {
        char **v;
        size_t n;
    } a = { NULL, 0 };
#define ARG(...) (a.v = xrealloc(a.v, (a.n + 1) * sizeof *a.v), \
                  a.v[a.n++] = xasprintf(__VA_ARGS__))
    ARG("ovs-vsctl");
    ARG("%s", dbopt);
    ARG("--timeout=30");
    ARG("--");
    ARG("add-br");
    ARG("%s", tr_options.bridge);
    ARG("--");
    ARG("set");
    ARG("bridge");
    ARG("%s", tr_options.bridge);
    ARG("datapath_type=dummy");
    ARG("fail-mode=secure");
    ARG("--");
    ARG("add-port");
    ARG("%s", tr_options.bridge);
    ARG("vpc-tun");
    ARG("--");
    ARG("set");
    ARG("interface");
    ARG("vpc-tun");
    ARG("type=geneve");
    ARG("options:remote_ip=flow");
    ARG("options:key=flow");
    ARG("ofport_request=%d", s->cfg.tunnel_ofport);
    for (size_t i = 0; i < s->cfg.n_bindings; i++) {
        const struct vpc_eni *e = vpc_region_find_eni(
            r, s->cfg.bindings[i].eni_id);
        if (!e || e->host != s->host) {
            continue;
        }
        ARG("--");
        ARG("add-port");
        ARG("%s", tr_options.bridge);
        ARG("vpc-p%d", s->cfg.bindings[i].ofport);
        ARG("--");
        ARG("set");
        ARG("interface");
        ARG("vpc-p%d", s->cfg.bindings[i].ofport);
        ARG("type=dummy");
        ARG("ofport_request=%d", s->cfg.bindings[i].ofport);
        ARG("external_ids:vpc-eni-id=%s", e->id);
    }
    if (s->host->is_edge) {
        static const char *const kinds[] = { "uplink", "dx", "vpn" };
        int ports[] = { s->cfg.uplink_ofport, s->cfg.dx_ofport,
                        s->cfg.vpn_ofport };
        for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
            ARG("--");
            ARG("add-port");
            ARG("%s", tr_options.bridge);
            ARG("vpc-%s", kinds[i]);
            ARG("--");
            ARG("set");
            ARG("interface");
            ARG("vpc-%s", kinds[i]);
            ARG("type=dummy");
            ARG("ofport_request=%d", ports[i]);
            ARG("external_ids:vpc-edge-port=%s", kinds[i]);
        }
    }
    ARG("--");
    ARG("add-br");
    ARG("br-phy");
    ARG("--");
    ARG("set");
    ARG("bridge");
    ARG("br-phy");
    ARG("datapath_type=dummy");
    ARG("other-config:hwaddr=02:aa:00:00:00:01");
    ARG("--");
    ARG("add-port");
    ARG("br-phy");
    ARG("p0");
    ARG("--");
    ARG("set");
    ARG("interface");
    ARG("p0");
    ARG("type=dummy");
#undef ARG
    a.v = xrealloc(a.v, (a.n + 1) * sizeof *a.v);
    a.v[a.n] = NULL;
    if (!error) {
        error = run_program(dir, a.v);
    }
    for (size_t i = 0; i < a.n; i++) {
        free(a.v[i]);
    }
    free(a.v);

    s->ctl = xasprintf("%s/ovs-vswitchd.ctl", dir);
    s->db = db;
    s->target = xasprintf("unix:%s/%s.mgmt", dir, tr_options.bridge);

    /* The underlay: this host's address on br-phy, a route and a neighbor
     * for every other host, as a host's own underlay would have. */
    char self[32];
    vpc_ip_format(s->host->underlay_ip, self);
    /* Prefix length 0: every underlay address is on br-phy's network, as
     * ovs/route/add needs for a route without a gateway. */
    strcat(self, "/0");
    char *addr[] = { "br-phy", self };
    char *out = NULL;
    if (!error) {
        error = sw_appctl(s->ctl, "netdev-dummy/ip4addr", 2, addr, &out);
        free(out);
    }
    for (size_t i = 0; !error && i < n_switches(r); i++) {
        if (switch_host(r, i) == s->host) {
            continue;
        }
        char ip[16], prefix[24];
        vpc_ip_format(switch_host(r, i)->underlay_ip, ip);
        snprintf(prefix, sizeof prefix, "%s/32", ip);
        char *route[] = { prefix, "br-phy" };
        char *arp[] = { "br-phy", ip, "02:ee:00:00:00:01" };
        error = sw_appctl(s->ctl, "ovs/route/add", 2, route, &out);
        free(out);
        if (!error) {
            error = sw_appctl(s->ctl, "tnl/arp/set", 3, arp, &out);
            free(out);
        }
    }

    if (!error && s->cfg.mapping == PL_MAP_ACTION) {
        struct pl_mapping_entry *e;
        size_t n;
        error = pl_mapping_entries(r, &s->cfg, &e, &n);
        if (!error) {
            error = sw_mapping_load(s->ctl, dir, e, n, &out);
            free(out);
        }
        free(e);
    }
    if (!error) {
        struct sw_apply_stats st;
        error = sw_apply_flows(s->target, &s->flows, false, &st);
    }
    free(schema);
    free(db_file);
    free(remote);
    free(dbopt);
    free(pid1);
    free(ctl1);
    free(log1);
    free(pid2);
    free(ctl2);
    free(log2);
    return error;
}

/* -------------------------------------------------------------- switches */

static void
tr_switch_destroy(struct tr_switch *s)
{
    if (!s) {
        return;
    }
    if (s->dir) {
        offline_stop(s->dir);
        offline_untrack(s->dir);
    }
    if (s->owned_from_db) {
        sw_bindings_free(s->owned, s->n_owned);
    } else {
        free(s->owned);
    }
    pl_flows_destroy(&s->flows);
    free(s->ctl);
    free(s->db);
    free(s->target);
    free(s->dir);
    free(s);
}

/* Action mode: how many of the mapping-cache entries of live switch 's'
 * (vpcmap/show) differ from those FILE compiles to (missing, extra or
 * changed entries), in '*differ'. */
static char *
compare_cache(const struct vpc_region *r, const struct tr_switch *s,
              long long int *differ)
{
    struct pl_mapping_entry *e;
    size_t n;
    char *out = NULL;
    char *error = pl_mapping_entries(r, &s->cfg, &e, &n);
    if (!error) {
        error = sw_appctl(s->ctl, "vpcmap/show", 0, NULL, &out);
    }
    *differ = 0;
    if (!error) {
        struct sset want = SSET_INITIALIZER(&want);
        struct sset have = SSET_INITIALIZER(&have);
        for (size_t i = 0; i < n; i++) {
            char ip[16], ul[16];
            vpc_ip_format(e[i].ip, ip);
            vpc_ip_format(e[i].underlay, ul);
            char *line = xasprintf("vni=%"PRIu32" %s -> %s", e[i].vni, ip,
                                   ul);
            if (!eth_addr_is_zero(e[i].mac)) {
                char *l = xasprintf("%s mac="ETH_ADDR_FMT, line,
                                    ETH_ADDR_ARGS(e[i].mac));
                free(line);
                line = l;
            }
            sset_add_and_free(&want, line);
        }
        char *save = NULL;
        for (char *l = strtok_r(out, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save)) {
            if (!strncmp(l, "vni=", 4)) {
                sset_add(&have, l);
            }
        }
        const char *name;
        SSET_FOR_EACH (name, &want) {
            *differ += !sset_contains(&have, name);
        }
        SSET_FOR_EACH (name, &have) {
            *differ += !sset_contains(&want, name);
        }
        sset_destroy(&want);
        sset_destroy(&have);
    }
    free(out);
    free(e);
    return error;
}

/* Sets up the switch of host 'h' into '*sp': live, the running switch
 * (NULL in '*sp' without an error if no way to reach it was given);
 * offline, a throwaway one. */
static char *
tr_switch_open(const struct vpc_region *r, const struct vpc_host *h,
               struct tr_switch **sp)
{
    struct tr_switch *s = xzalloc(sizeof *s);
    const struct tr_options *o = &tr_options;
    bool first = !strcmp(h->id, o->host);
    const char *dir = shash_find_data(&o->rundirs, h->id);
    char *error = NULL;

    *sp = NULL;
    s->host = h;
    s->differ = -1;
    pl_flows_init(&s->flows);
    s->cfg.host_id = h->id;
    s->cfg.mapping = o->mapping;
    s->cfg.bindings = o->bindings;
    s->cfg.n_bindings = o->n_bindings;
    s->cfg.tunnel_ofport = o->tunnel_port;
    s->cfg.uplink_ofport = o->uplink_port;
    s->cfg.dx_ofport = o->dx_port;
    s->cfg.vpn_ofport = o->vpn_port;

    if (o->offline) {
        char *note;
        error = vw_offline_host_config(r, &s->cfg, &s->owned, &s->n_owned,
                                       &note);
        free(note);
        if (!error) {
            error = pl_compile_host(r, &s->cfg, &s->flows);
        }
        if (!error) {
            error = offline_start(r, s);
        }
        if (error) {
            char *e = xasprintf("%s: %s", h->id, error);
            free(error);
            tr_switch_destroy(s);
            return e;
        }
        s->differ = 0;
        *sp = s;
        return NULL;
    }

    if (dir) {
        s->ctl = xasprintf("%s/ovs-vswitchd.ctl", dir);
        s->db = xasprintf("unix:%s/db.sock", dir);
        s->target = xasprintf("unix:%s/%s.mgmt", dir, o->bridge);
    } else if (first) {
        s->ctl = o->appctl ? xstrdup(o->appctl) : sw_default_vswitchd_ctl();
        s->db = o->db ? xstrdup(o->db) : sw_default_db();
        s->target = (o->switch_target ? xstrdup(o->switch_target)
                     : sw_default_switch(o->bridge));
    } else {
        tr_switch_destroy(s);
        return NULL;
    }
    /* --host's ports may be given (--bind and --tunnel-port); every other
     * host's come from its OVSDB. */
    if (!first || !o->n_bindings || o->tunnel_port < 0) {
        struct sw_ovs_ports ports;
        error = sw_ovsdb_read_bindings(s->db, &s->owned, &s->n_owned,
                                       &ports);
        s->owned_from_db = true;
        if (!error) {
            if (!first || !o->n_bindings) {
                s->cfg.bindings = s->owned;
                s->cfg.n_bindings = s->n_owned;
            }
            if (!first || o->tunnel_port < 0) {
                s->cfg.tunnel_ofport = ports.tunnel;
            }
            s->cfg.uplink_ofport = (first && o->uplink_port ? o->uplink_port
                                    : ports.uplink);
            s->cfg.dx_ofport = first && o->dx_port ? o->dx_port : ports.dx;
            s->cfg.vpn_ofport = (first && o->vpn_port ? o->vpn_port
                                 : ports.vpn);
            s->cfg.metadata_ofport = ports.metadata;
            s->cfg.metadata_mac = ports.metadata_mac;
        }
    }
    if (!error && s->cfg.tunnel_ofport <= 0) {
        error = xstrdup("no Geneve tunnel port on the bridge");
    }
    if (!error) {
        error = pl_compile_host(r, &s->cfg, &s->flows);
    }
    if (!error) {
        /* Before labelling: does the switch run what FILE compiles to? */
        char *e = sw_apply_flows(s->target, &s->flows, true, &s->st);
        if (e) {
            error = xasprintf("cannot compare its flows: %s", e);
            free(e);
        } else {
            s->differ = s->st.added + s->st.modified + s->st.deleted;
        }
    }
    if (!error && s->cfg.mapping == PL_MAP_ACTION) {
        char *e = compare_cache(r, s, &s->cache_differ);
        if (e) {
            error = xasprintf("cannot compare its mapping cache: %s", e);
            free(e);
        }
    }
    if (error) {
        char *e = xasprintf("%s: %s", h->id, error);
        free(error);
        tr_switch_destroy(s);
        return e;
    }
    *sp = s;
    return NULL;
}

/* ------------------------------------------------------------------ trace */

/* The ENI bound to 'ofport' on 's', or NULL. */
static const char *
eni_on_port(const struct tr_switch *s, int ofport)
{
    for (size_t i = 0; ofport > 0 && i < s->cfg.n_bindings; i++) {
        if (s->cfg.bindings[i].ofport == ofport) {
            return s->cfg.bindings[i].eni_id;
        }
    }
    return NULL;
}

/* The value of field 'name' in flow 'flow' ("nw_src"), malloc'd, or
 * NULL. */
static char *
flow_field(const char *flow, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = flow; p && *p; p = strchr(p, ',')) {
        p += *p == ',';
        if (!strncmp(p, name, len) && p[len] == '=') {
            return xmemdup0(p + len + 1, strcspn(p + len + 1, ","));
        }
    }
    return NULL;
}

/* What intent reference 'ref' is, in words, with a network ACL rule's
 * action ("network ACL acl-db ingress rule 100 deny"), or NULL if it is
 * no rule. */
static char *
describe_ref(const struct vpc_region *r, const char *ref)
{
    char id[128], dir[16];
    int number;
    if (!ref) {
        return NULL;
    }
    if (sscanf(ref, "%127s %15s rule %d", id, dir, &number) == 3) {
        for (size_t i = 0; i < r->n_nacls; i++) {
            const struct vpc_nacl *acl = &r->nacls[i];
            bool egress = !strcmp(dir, "egress");
            const struct vpc_nacl_rule *rules = (egress ? acl->egress
                                                 : acl->ingress);
            size_t n = egress ? acl->n_egress : acl->n_ingress;
            for (size_t k = 0; !strcmp(acl->id, id) && k < n; k++) {
                if (rules[k].rule_number == number) {
                    return xasprintf("network ACL %s %s", ref,
                                     rules[k].allow ? "allow" : "deny");
                }
            }
        }
    }
    if (strstr(ref, " implicit deny") && !strncmp(ref, "acl-", 4)) {
        return xasprintf("network ACL %s", ref);
    }
    if (!strncmp(ref, "sg-", 3) && (strstr(ref, " ingress[")
                                    || strstr(ref, " egress["))) {
        return xasprintf("security group %s", ref);
    }
    return NULL;
}

/* The address conntrack translates field 'dir' ("src" or "dst") to in
 * datapath actions 'a' (ct(...,nat(src=IP[-IP][:PORTS]))), malloc'd, or
 * NULL if none. */
static char *
ct_nat_addr(const char *a, const char *dir)
{
    char *key = xasprintf("nat(%s=", dir);
    const char *p = a ? strstr(a, key) : NULL;
    char *addr = NULL;
    if (p) {
        p += strlen(key);
        addr = xmemdup0(p, strcspn(p, "-:),"));
    }
    free(key);
    return addr;
}

/* What hop 'tr' of microflow 'flow' rewrote of the addresses: by its
 * flows (the final flow's nw_src and nw_dst against the microflow's) or by
 * conntrack in the datapath (a ct(nat(...)) action, which ofproto/trace
 * does not apply to the final flow: a NAT gateway's source NAT), as
 * "nw_src A -> B[ (conntrack)], ..."; NULL if nothing. */
static char *
hop_translation(const char *flow, const struct pl_trace_result *tr)
{
    static const char *const fields[] = { "nw_src", "nw_dst" };
    static const char *const dirs[] = { "src", "dst" };
    const char *final = (tr->final_flow && strcmp(tr->final_flow,
                                                  "unchanged")
                         ? tr->final_flow : NULL);
    struct ds t = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        char *a = flow_field(flow, fields[i]);
        char *b = final ? flow_field(final, fields[i]) : NULL;
        char *nat = ct_nat_addr(tr->dp_actions, dirs[i]);
        if (a && b && strcmp(a, b)) {
            ds_put_format(&t, "%s%s %s -> %s", t.length ? ", " : "",
                          fields[i], a, b);
        } else if (a && nat && strcmp(a, nat)) {
            ds_put_format(&t, "%s%s %s -> %s (conntrack)",
                          t.length ? ", " : "", fields[i], a, nat);
        }
        free(a);
        free(b);
        free(nat);
    }
    return t.length ? ds_steal_cstr(&t) : NULL;
}

static void
json_put_string(struct json *obj, const char *key, const char *value)
{
    json_object_put(obj, key, value ? json_string_create(value)
                                    : json_null_create());
}

/* A Direct Connect frame ('flow' with two VLAN tags, see
 * pl_trace_split_vlans()): the OpenFlow flow without the tags in '*plain'
 * and the frame itself, both tags on, as hex in '*hex' (ofproto/trace's
 * "BRIDGE FLOW PACKET" form: the packet is parsed as the datapath would,
 * with other_config:vlan-limit=2 both tags).  Returns NULL or an error. */
static char *
double_tagged_packet(const char *flow, char **plain, char **hex)
{
    int s_tag, c_tag;
    *plain = *hex = NULL;
    if (!pl_trace_split_vlans(flow, plain, &s_tag, &c_tag)) {
        return NULL;
    }
    struct flow f;
    char *error = parse_ofp_exact_flow(&f, NULL, NULL, *plain, NULL);
    if (error) {
        free(*plain);
        *plain = NULL;
        return error;
    }
    f.vlans[0].tpid = htons(ETH_TYPE_VLAN_8021AD);
    f.vlans[0].tci = htons(VLAN_CFI | s_tag);
    f.vlans[1].tpid = htons(ETH_TYPE_VLAN_8021Q);
    f.vlans[1].tci = htons(VLAN_CFI | c_tag);
    struct dp_packet *p = dp_packet_new(0);
    flow_compose(p, &f, NULL, 0);
    struct ds ds = DS_EMPTY_INITIALIZER;
    const uint8_t *data = dp_packet_data(p);
    for (size_t i = 0; i < dp_packet_size(p); i++) {
        ds_put_format(&ds, "%02"PRIx8, data[i]);
    }
    dp_packet_delete(p);
    *hex = ds_steal_cstr(&ds);
    return NULL;
}

/* The trace of one hop: runs ofproto/trace of 'flow' on 's'.  Appends the
 * text to 'text' and fills 'tr'. */
static char *
run_hop(const struct tr_switch *s, const char *flow, const char *ct,
        struct ds *text, struct pl_trace_result *tr)
{
    char *plain, *hex;
    char *error = double_tagged_packet(flow, &plain, &hex);
    if (error) {
        char *e = xasprintf("%s: %s", s->host->id, error);
        free(error);
        return e;
    }
    /* One state per conntrack pass of the hop (a pass beyond them would
     * get ofproto/trace's default, new): more than any hop makes. */
    char *args[] = { CONST_CAST(char *, tr_options.bridge),
                     CONST_CAST(char *, plain ? plain : flow),
                     "--ct-next", CONST_CAST(char *, ct),
                     "--ct-next", CONST_CAST(char *, ct),
                     "--ct-next", CONST_CAST(char *, ct),
                     "--ct-next", CONST_CAST(char *, ct), hex };
    char *output;
    memset(tr, 0, sizeof *tr);
    error = sw_appctl(s->ctl, "ofproto/trace",
                      ARRAY_SIZE(args) - !hex, args, &output);
    free(plain);
    free(hex);
    if (error) {
        char *e = xasprintf("%s: ofproto/trace: %s", s->host->id, error);
        free(error);
        return e;
    }
    ds_put_format(text, "Flow: %s\n\n", flow);
    pl_trace_annotate(output, &s->flows, text, tr);
    free(output);
    return NULL;
}

static void
put_verdict_text(struct ds *text, const struct pl_trace_verdict *v,
                 const char *translated)
{
    if (v->note) {
        ds_put_format(text, "\n%s\n", v->note);
    }
    if (translated) {
        ds_put_format(text, "\nTranslated: %s\n", translated);
    }
    if (v->kind == PL_VERDICT_LOOPBACK) {
        ds_put_cstr(text, "\n");
        return;
    }
    ds_put_format(text, "\nVerdict: %s", pl_verdict_kind_name(v->kind));
    if (v->kind == PL_VERDICT_UNKNOWN) {
        ds_put_cstr(text, v->note ? " (see above)\n"
                                  : " (no datapath actions)\n");
        return;
    }
    if (v->dst) {
        ds_put_format(text, " to %s, VNI %"PRIu32",", v->dst, v->vni);
    }
    ds_put_format(text, " in stage %s%s%s\n", v->stage, v->ref ? " by " : "",
                  v->ref ? v->ref : "");
}

static struct json *
hop_json(const struct tr_switch *s, const char *flow, const char *ct,
         const struct pl_trace_result *tr, const struct pl_trace_verdict *v,
         const char *translated)
{
    struct json *hop = json_object_create();
    json_put_string(hop, "host", s->host->id);
    json_put_string(hop, "flow", flow);
    json_put_string(hop, "ct_state", ct);
    json_object_put(hop, "flows_differ", json_integer_create(s->differ));
    json_object_put(hop, "cache_differ",
                    json_integer_create(s->cache_differ));
    struct json *steps = json_array_create_empty();
    for (size_t i = 0; i < tr->n_steps; i++) {
        struct json *st = json_object_create();
        json_object_put(st, "table",
                        json_integer_create(tr->steps[i].table));
        json_put_string(st, "stage", tr->steps[i].stage);
        json_put_string(st, "intent", tr->steps[i].ref);
        if (tr->steps[i].no_match) {
            json_object_put(st, "no_match", json_boolean_create(true));
        }
        json_array_add(steps, st);
    }
    json_object_put(hop, "steps", steps);
    struct json *res = json_object_create();
    json_put_string(res, "kind", pl_verdict_kind_name(v->kind));
    json_put_string(res, "stage", v->stage);
    json_put_string(res, "intent", v->ref);
    if (v->dst) {
        json_put_string(res, "underlay", v->dst);
        json_object_put(res, "vni", json_integer_create(v->vni));
    }
    if (v->note) {
        json_put_string(res, "note", v->note);
    }
    if (translated) {
        json_put_string(res, "translated", translated);
    }
    json_object_put(hop, "result", res);
    return hop;
}

/* Where a trace ended, for --reply. */
struct tr_end {
    const char *kind;           /* The final verdict's kind. */
    const struct vpc_host *host;
    char *eni;                  /* DELIVERED: to this ENI. */
    const char *port_kind;      /* OUT: "uplink", "dx" or "vpn". */
    char *ref;                  /* The intent of the last flow. */
    char *src, *dst;            /* The packet's addresses as it left. */
    char *nat_from;             /* Source NAT by conntrack: the source
                                 * before it, else NULL. */
    const char *proto;          /* "tcp", "udp", "icmp" or "ip". */
    char *sport, *dport, *nw_proto;
};

static void
tr_end_destroy(struct tr_end *e)
{
    free(e->eni);
    free(e->ref);
    free(e->src);
    free(e->dst);
    free(e->nat_from);
    free(e->sport);
    free(e->dport);
    free(e->nw_proto);
}

/* Records in 'e' the end of a trace: on switch 's', after hop 'tr' of
 * microflow 'flow'. */
static void
tr_end_record(struct tr_end *e, const struct tr_switch *s, const char *eni,
              const char *port_kind, const char *ref, const char *flow,
              const struct pl_trace_result *tr)
{
    const char *out = (tr->final_flow && strcmp(tr->final_flow, "unchanged")
                       ? tr->final_flow : flow);
    e->host = s->host;
    e->eni = nullable_xstrdup(eni);
    e->port_kind = port_kind;
    e->ref = nullable_xstrdup(ref);
    e->src = ct_nat_addr(tr->dp_actions, "src");
    if (e->src) {
        e->nat_from = flow_field(flow, "nw_src");
    } else {
        e->src = flow_field(out, "nw_src");
    }
    e->dst = flow_field(out, "nw_dst");
    e->proto = (strstr(flow, ",tcp,") ? "tcp" : strstr(flow, ",udp,") ? "udp"
                : strstr(flow, ",icmp,") ? "icmp" : "ip");
    if (strcmp(e->proto, "icmp") && strcmp(e->proto, "ip")) {
        char *name = xasprintf("%s_src", e->proto);
        e->sport = flow_field(flow, name);
        name[strlen(name) - 3] = '\0';
        char *dname = xasprintf("%sdst", name);
        e->dport = flow_field(flow, dname);
        free(dname);
        free(name);
    }
    e->nw_proto = flow_field(flow, "nw_proto");
}

/* The SPEC of the reply to a trace that ended as 'e' ('*host' is where it
 * starts), or NULL if the request reached no ENI and no edge port. */
static char *
tr_reply_spec(const struct tr_end *e, const struct vpc_host **host)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    if (!e->kind || !e->src || !e->dst) {
        return NULL;
    } else if (e->eni) {
        ds_put_format(&ds, "from %s src %s", e->eni, e->dst);
    } else if (e->port_kind && !strcmp(e->port_kind, "dx") && e->ref) {
        ds_put_format(&ds, "from dx %s src %s", e->ref, e->dst);
    } else if (e->port_kind) {
        ds_put_format(&ds, "from %s src %s", e->port_kind, e->dst);
    } else {
        return NULL;
    }
    ds_put_format(&ds, " to %s", e->src);
    if (!strcmp(e->proto, "icmp")) {
        ds_put_cstr(&ds, " icmp type 0");
    } else if (e->sport && e->dport) {
        ds_put_format(&ds, " %s sport %s dport %s", e->proto, e->dport,
                      e->sport);
    } else if (e->nw_proto) {
        ds_put_format(&ds, " proto %s", e->nw_proto);
    }
    *host = e->host;
    return ds_steal_cstr(&ds);
}

/* For the reply 'spec' to a request that conntrack source-NATed at the
 * end 'e' (a NAT gateway): the trace of that reply after the un-NAT, as it
 * arrives from the edge at the host of the request's source, or NULL. */
static char *
tr_un_nat_spec(const struct vpc_region *r, const struct tr_end *e,
               const char *spec)
{
    const struct vpc_gateway *gw = NULL;
    for (size_t i = 0; e->nat_from && e->ref && i < r->n_gateways; i++) {
        if (!strcmp(r->gateways[i].id, e->ref)) {
            gw = &r->gateways[i];
        }
    }
    const char *to = strstr(spec, " to ");
    const char *rest = to ? strchr(to + 4, ' ') : NULL;
    const char *src = strstr(spec, " src ");
    if (!gw || !to || !src) {
        return NULL;
    }
    char ul[16];
    vpc_ip_format(e->host->underlay_ip, ul);
    return xasprintf("from tunnel %s vni %"PRIu32" src %.*s to %s%s", ul,
                     gw->vpc->vni, (int) (to - src - 5), src + 5,
                     e->nat_from, rest ? rest : "");
}

/* Follows microflow '*flowp' (taken: the function leaves the last hop's
 * there, for the caller to free) from host 'h' to its final verdict,
 * appending each hop's text to 'text' and JSON to 'hops', and the final
 * verdict to 'verdict'.  With 'end', records where it ended (--reply).
 * 'un_nat', if nonnull, is the trace that follows a reply from where
 * conntrack un-NATs it (the request's translation known). Returns NULL
 * or an error. */
static char *
trace_path(struct vpc_region *r, struct tr_switch **sws, bool *opened,
           const char *file, const struct vpc_host *h, char **flowp,
           const char *ct, struct ds *text, struct json *hops,
           struct json *verdict, struct tr_end *end, const char *un_nat)
{
    bool after_loopback = false;
    const char *final_kind = NULL;
    char *flow = *flowp;
    char *error = NULL;
    for (int n_hops = 0; ; n_hops++) {
        struct tr_switch *s = sws[switch_index(r, h)];
        if (n_hops == TR_MAX_HOPS) {
            final_kind = "LOOP";
            ds_put_format(text, "\nStopped after %d hops: a loop?\n",
                          TR_MAX_HOPS);
            json_put_string(verdict, "host", s->host->id);
            break;
        }
        if (s->differ > 0) {
            char *w = xasprintf("%s runs other flows than %s compiles to: "
                                "%lld differ (%"PRIuSIZE" missing, %"PRIuSIZE
                                " changed, %"PRIuSIZE" extra); the labels "
                                "below may be wrong", s->host->id, file,
                                s->differ, s->st.added, s->st.modified,
                                s->st.deleted);
            ds_put_format(text, "Warning: %s\n", w);
            fprintf(stderr, "vpcctl: %s\n", w);
            free(w);
        }
        if (s->cache_differ > 0) {
            char *w = xasprintf("%s's mapping cache is not the one %s "
                                "compiles to: %lld entries differ; "
                                "vpc_encap and vpc_verify verdicts below "
                                "may be wrong", s->host->id, file,
                                s->cache_differ);
            ds_put_format(text, "Warning: %s\n", w);
            fprintf(stderr, "vpcctl: %s\n", w);
            free(w);
        }
        ds_put_format(text, "%s== Hop %d: %s %s ==\n", n_hops ? "\n" : "",
                      n_hops + 1, s->host->is_edge ? "edge" : "host",
                      s->host->id);
        ds_put_format(text, "Conntrack: %s at every pass (--ct-state: "
                      "taken as this host's conntrack state of the "
                      "connection, not read from it)\n", ct);
        struct pl_trace_result tr;
        error = run_hop(s, flow, ct, text, &tr);
        if (error) {
            goto done;
        }
        struct pl_trace_verdict v;
        pl_trace_verdict(r, &s->cfg, flow, &tr, after_loopback, &v);
        if (tr.un_nat && !strstr(ct, "new")
            && v.kind == PL_VERDICT_DROPPED && !v.note) {
            /* A reply to a translated connection: conntrack would give it
             * its original destination back, which ofproto/trace does
             * not simulate, so what follows in this hop is not what the
             * datapath does.  Say so instead of a wrong drop. */
            char *dst = flow_field(flow, "nw_dst");
            char ul[16];
            vpc_ip_format(s->host->underlay_ip, ul);
            char *rest = (un_nat ? xasprintf("'%s' --ct-state=est,rpl on "
                                             "the ENI's host", un_nat)
                          : xasprintf("'from tunnel %s vni N src IP to "
                                      "PRIVATE-IP ...' on the ENI's host",
                                      ul));
            v.kind = PL_VERDICT_UNKNOWN;
            v.note = xasprintf("conntrack reverses the connection's "
                               "translation here (a ct action with nat "
                               "in the datapath actions): %s becomes the "
                               "connection's original address, which "
                               "ofproto/trace does not simulate, so the "
                               "trace cannot follow the packet further "
                               "(trace the rest: %s)", dst ? dst : "nw_dst",
                               rest);
            free(rest);
            free(dst);
        }
        char *translated = (v.kind == PL_VERDICT_DROPPED ? NULL
                            : hop_translation(flow, &tr));
        put_verdict_text(text, &v, translated);
        json_array_add(hops, hop_json(s, flow, ct, &tr, &v, translated));
        after_loopback = false;

        if (v.kind == PL_VERDICT_LOOPBACK) {
            free(flow);
            flow = xstrdup(v.loopback_flow);
            after_loopback = true;
            free(translated);
            pl_trace_verdict_destroy(&v);
            pl_trace_result_destroy(&tr);
            continue;
        }

        json_put_string(verdict, "host", s->host->id);
        json_put_string(verdict, "stage", v.stage);
        json_put_string(verdict, "intent", v.ref);
        const struct vpc_host *next = NULL;
        uint32_t ul;
        if (v.kind == PL_VERDICT_ENCAPSULATED && vpc_ip_parse(v.dst, &ul)
            && (next = pl_trace_host_by_underlay(r, ul))) {
            size_t k = switch_index(r, next);
            if (!opened[k]) {
                opened[k] = true;
                error = tr_switch_open(r, next, &sws[k]);
                if (error) {
                    free(translated);
                    pl_trace_verdict_destroy(&v);
                    pl_trace_result_destroy(&tr);
                    goto done;
                }
            }
            if (sws[k]) {
                char *arrival = pl_trace_arrival(flow, &tr, &v,
                                                 h->underlay_ip, ul,
                                                 sws[k]->cfg.tunnel_ofport);
                free(flow);
                flow = arrival;
                h = next;
                free(translated);
                pl_trace_verdict_destroy(&v);
                pl_trace_result_destroy(&tr);
                continue;
            }
            ds_put_format(text, "\n%s %s: not traced: no switch given "
                          "(--rundir=%s=DIR), and not --offline\n",
                          next->is_edge ? "Edge" : "Host", next->id,
                          next->id);
        }

        /* The final verdict. */
        const char *eni = NULL, *port_kind = NULL;
        if (v.kind == PL_VERDICT_FORWARDED) {
            eni = eni_on_port(s, tr.out_port);
            int ports[] = { s->cfg.uplink_ofport, s->cfg.dx_ofport,
                            s->cfg.vpn_ofport };
            static const char *const kinds[] = { "uplink", "dx", "vpn" };
            for (size_t i = 0; s->host->is_edge && i < ARRAY_SIZE(ports);
                 i++) {
                if (ports[i] > 0 && ports[i] == tr.out_port) {
                    port_kind = kinds[i];
                }
            }
        }
        final_kind = (eni ? "DELIVERED" : port_kind ? "OUT"
                      : next && !sws[switch_index(r, next)] ? "ENCAPSULATED"
                      : v.kind == PL_VERDICT_ENCAPSULATED ? "UNREACHABLE"
                      : pl_verdict_kind_name(v.kind));
        if (eni) {
            json_put_string(verdict, "eni", eni);
        }
        if (tr.out_port > 0 && (eni || port_kind)) {
            json_object_put(verdict, "port",
                            json_integer_create(tr.out_port));
        }
        if (port_kind) {
            json_put_string(verdict, "edge_port", port_kind);
            json_put_string(verdict, "translated", translated);
        }
        if (v.dst) {
            json_put_string(verdict, "underlay", v.dst);
            json_object_put(verdict, "vni", json_integer_create(v.vni));
        }
        ds_put_format(text, "\nFinal verdict: %s", final_kind);
        if (eni) {
            ds_put_format(text, " to %s (port %d)", eni, tr.out_port);
        } else if (port_kind) {
            ds_put_format(text, " the %s port (%d), %s", port_kind,
                          tr.out_port, translated ? translated
                                                  : "untranslated");
        } else if (v.dst) {
            ds_put_format(text, " to %s, VNI %"PRIu32, v.dst, v.vni);
            if (!next) {
                ds_put_cstr(text, " (no host of the region has that "
                            "underlay address)");
            }
        }
        char *rule = describe_ref(r, v.ref);
        ds_put_format(text, " on %s in stage %s%s%s\n", s->host->id,
                      v.stage, v.ref ? " by " : "",
                      rule ? rule : v.ref ? v.ref : "");
        if (rule) {
            json_put_string(verdict, "rule", rule);
        }
        free(rule);
        if (end) {
            tr_end_record(end, s, eni, port_kind, v.ref, flow, &tr);
        }
        free(translated);
        pl_trace_verdict_destroy(&v);
        pl_trace_result_destroy(&tr);
        break;
    }
    json_put_string(verdict, "kind", final_kind);
    if (end) {
        end->kind = final_kind;
    }
done:
    *flowp = flow;
    return error;
}

int
tr_cmd_trace(int argc OVS_UNUSED, char *argv[])
{
    const struct tr_options *o = &tr_options;
    bool json = o->format && !strcmp(o->format, "json");
    if (o->format && !json && strcmp(o->format, "text")) {
        fprintf(stderr, "vpcctl: trace: --format=%s: expected text or "
                "json\n", o->format);
        return 2;
    }
    if (!o->host) {
        fprintf(stderr, "vpcctl: --host is required\n");
        return 1;
    }
    char *ct;
    char *error = pl_trace_ct_args(o->ct_state, &ct);
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        return 2;
    }
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_region *r = vpc_region_from_file(argv[1], &errs);
    if (!r) {
        fprintf(stderr, "%s: %"PRIuSIZE" error%s:\n", argv[1], errs.n,
                errs.n == 1 ? "" : "s");
        for (size_t i = 0; i < errs.n; i++) {
            fprintf(stderr, "  %s\n", errs.msgs[i]);
        }
        vpc_errors_destroy(&errs);
        free(ct);
        return 1;
    }
    vpc_errors_destroy(&errs);

    struct tr_switch **sws = xcalloc(n_switches(r), sizeof *sws);
    bool *opened = xcalloc(n_switches(r), sizeof *opened);
    const struct vpc_host *h = vpc_region_find_host(r, o->host);
    struct ds text = DS_EMPTY_INITIALIZER;
    struct json *hops = json_array_create_empty();
    struct json *verdict = json_object_create();
    char *flow = NULL;
    struct tr_end end = { .kind = NULL };
    struct json *reply = NULL;
    int status = 1;

    if (!h) {
        error = xasprintf("%s: no such host or edge in the region", o->host);
        goto out;
    }
    error = tr_switch_open(r, h, &sws[switch_index(r, h)]);
    opened[switch_index(r, h)] = true;
    if (!error && !sws[switch_index(r, h)]) {
        error = xasprintf("%s: no switch", h->id);
    }
    if (error) {
        goto out;
    }
    flow = pl_trace_microflow(r, &sws[switch_index(r, h)]->cfg, argv[2],
                              &error);
    if (error) {
        status = 1;
        goto out;
    }

    error = trace_path(r, sws, opened, argv[1], h, &flow, ct, &text, hops,
                       verdict, o->reply ? &end : NULL, NULL);
    if (error) {
        goto out;
    }
    if (o->reply) {
        /* The reply, from where the request ended, back to its source:
         * each host's conntrack now holds the connection the request
         * made (est,rpl), and the request's translations are reversed
         * by the flows (an elastic IP) or, a NAT gateway's, by
         * conntrack, which the trace cannot simulate (it says so). */
        const struct vpc_host *rh;
        char *spec = tr_reply_spec(&end, &rh);
        if (!spec) {
            ds_put_format(&text, "\nNo reply traced: the request ends %s, "
                          "at no ENI and out no edge port\n", end.kind);
            reply = json_null_create();
        } else {
            char *rct = NULL, *rflow = NULL;
            ovs_assert(!pl_trace_ct_args("est,rpl", &rct));
            struct tr_switch *rs = sws[switch_index(r, rh)];
            rflow = pl_trace_microflow(r, &rs->cfg, spec, &error);
            if (!error) {
                ds_put_format(&text, "\n== Reply: %s (conntrack %s: the "
                              "request's connection) ==\n", spec, rct);
                struct json *rhops = json_array_create_empty();
                struct json *rverdict = json_object_create();
                char *un_nat = tr_un_nat_spec(r, &end, spec);
                error = trace_path(r, sws, opened, argv[1], rh, &rflow, rct,
                                   &text, rhops, rverdict, NULL, un_nat);
                free(un_nat);
                reply = json_object_create();
                json_put_string(reply, "trace", spec);
                json_put_string(reply, "ct_state", rct);
                json_object_put(reply, "hops", rhops);
                json_object_put(reply, "verdict", rverdict);
            }
            free(rflow);
            free(rct);
            free(spec);
            if (error) {
                goto out;
            }
        }
    }
    status = 0;

out:
    if (error) {
        fprintf(stderr, "vpcctl: %s\n", error);
        free(error);
        status = 1;
    } else if (json) {
        struct json *doc = json_object_create();
        json_put_string(doc, "trace", argv[2]);
        json_put_string(doc, "mapping", o->mapping == PL_MAP_ACTION
                                        ? "action" : "flows");
        json_put_string(doc, "ct_state", ct);
        json_object_put(doc, "hops", hops);
        json_object_put(doc, "verdict", verdict);
        if (reply) {
            json_object_put(doc, "reply", reply);
        }
        hops = verdict = reply = NULL;
        char *s = json_to_string(doc, JSSF_PRETTY | JSSF_SORT);
        puts(s);
        free(s);
        json_destroy(doc);
    } else {
        fputs(ds_cstr(&text), stdout);
    }
    json_destroy(hops);
    json_destroy(verdict);
    json_destroy(reply);
    tr_end_destroy(&end);
    ds_destroy(&text);
    free(flow);
    free(ct);
    for (size_t i = 0; i < n_switches(r); i++) {
        tr_switch_destroy(sws[i]);
    }
    free(sws);
    free(opened);
    vpc_region_destroy(r);
    return status;
}
