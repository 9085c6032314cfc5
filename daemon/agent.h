/* daemon/agent.h: vpcd's agent logic, without its event loop.
 *
 * A 'struct vpcd' holds one host agent: its configuration, the desired state
 * (the last valid document, compiled for this host), what it believes
 * ovs-vswitchd holds, and statistics.  The functions here validate, compile
 * and install documents, audit ovs-vswitchd, and answer the HTTP API as a
 * pure function of (method, path, body), so that unit tests and fuzzers can
 * drive it without a network.  daemon/vpcd.c adds the libevent loop.
 *
 * Threading: none; everything runs on vpcd's one thread. */

#ifndef VPCD_AGENT_H
#define VPCD_AGENT_H 1

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "switch/switch.h"
#include "daemon/state.h"
#include "pipeline/pipeline.h"

#define VPCD_TICK_MS 100
#define VPCD_AUDIT_TICKS 5              /* Audit every 500 ms. */
#define VPCD_LATENCIES 1024             /* Apply latencies kept. */
#define VPCD_INCREMENTAL_MAX 256        /* Bigger cache diffs: full load. */

/* What failed, for vpcd_errors_total{kind=...} and /v1/status "errors". */
enum vpcd_error_kind {
    VPCD_ERR_FLOWS,             /* Sending flows to the switch. */
    VPCD_ERR_CACHE,             /* Loading or checking the mapping cache. */
    VPCD_ERR_PERSIST,           /* Writing the state file. */
    VPCD_ERR_STATE_FILE,        /* A state file that cannot be used. */
    VPCD_N_ERRORS
};

/* Where the last apply's time went (/v1/status "phases_ms_last"). */
#define VPCD_PHASES                                                     \
    VPCD_PHASE(BINDINGS, "bindings")    /* Reading ports from OVSDB. */ \
    VPCD_PHASE(MODEL, "model")          /* Parse and validate. */       \
    VPCD_PHASE(COMPILE, "compile")      /* Flows and cache entries. */  \
    VPCD_PHASE(PERSIST, "persist")      /* The state file. */           \
    VPCD_PHASE(CACHE, "cache")          /* The mapping cache. */        \
    VPCD_PHASE(FLOWS, "flows")          /* Diff and bundle. */
enum vpcd_phase {
#define VPCD_PHASE(ENUM, NAME) VPCD_PHASE_##ENUM,
    VPCD_PHASES
#undef VPCD_PHASE
    VPCD_N_PHASES
};

struct simap;
struct vpcd {
    /* Configuration. */
    const char *host;
    const char *bridge;
    const char *intents_file;           /* Watched, or NULL. */
    char *state_file;                   /* Persisted document, or NULL. */
    char *run_dir;                      /* Private: mapping-cache loads. */
    const char *http_addr;
    int http_port;
    char *db, *switch_target, *vswitchd_ctl, *unixctl_path;
    enum pl_mapping_mode mapping;

    /* --no-switch: a simulated host (docs/vpcd.md, "Without a switch").
     * Everything up to the compiled flows and cache entries runs as on a
     * real host; nothing is said to ovs-vswitchd (no OVSDB, OpenFlow or
     * unixctl connection to it): the ENIs placed on this host are bound
     * to ofports numbered by vpcd ('no_switch_ports'), and an install
     * keeps the flows and entries in memory, and writes them to
     * 'record_file' (--record) if set. */
    bool no_switch;
    const char *record_file;
    struct simap *no_switch_ports;     /* ENI id -> ofport. */

    /* Event loop (daemon/vpcd.c). */
    struct event_base *base;
    struct evhttp *http;
    struct event *tick;
    struct event *sig_hup, *sig_term, *sig_int;
    struct unixctl_server *unixctl;
    unsigned int ticks;

    /* Desired state: the last valid document, installed or pending. */
    struct vpcd_state *desired;
    struct sw_flowset *flowset;        /* desired->flows, parsed. */
    uint64_t version;
    time_t applied_at;
    bool in_sync;                       /* Switch and cache hold it. */
    bool persisted;                     /* state_file holds it. */
    char *source;                       /* Where it came from: "file:PATH",
                                         * "http", "state", "region-db". */
    long long int source_at;            /* When (wall clock, ms). */
    char source_sha256[65];             /* Of its text; "" if none. */
    bool source_hashable;               /* Not computed yet. */

    /* What we believe ovs-vswitchd's cache holds. */
    struct pl_mapping_entry *loaded;
    size_t n_loaded;
    bool cache_known;
    uint64_t cache_generation;

    /* Port bindings last read from OVSDB, and what is wrong with them
     * against the desired document (/v1/status "warnings"). */
    struct pl_binding *bindings;
    size_t n_bindings;
    struct sw_ovs_ports ports;
    struct sw_binding_problem *problems;
    size_t n_problems;

    /* The watched file. */
    struct timespec file_mtime;
    off_t file_size;

    /* Statistics. */
    uint64_t applies, apply_errors, rejected, repairs, audits;
    uint64_t errors[VPCD_N_ERRORS];
    double latencies[VPCD_LATENCIES];   /* Milliseconds, ring. */
    uint64_t n_latencies;
    double latency_sum;
    double phase_ms[VPCD_N_PHASES];     /* The last apply's, by phase. */
    uint64_t partial_compiles;          /* Applies that compiled some
                                         * stages only. */
    uint64_t partial_mismatches;        /* --verify-incremental: such a
                                         * compile was wrong. */
    char *last_error;

    /* --region-db (daemon/follow.c): the follower and its hooks, or
     * NULL. */
    const char *region_db;
    bool verify_incremental;    /* Check each incremental step against a
                                 * recomputation (tests). */
    struct vpcd_follow *follow;
    const struct vpcd_follow_hooks *follow_hooks;

    /* Flow logs (daemon/flowlog.c): what they add to /v1/status and
     * /metrics, or NULL. */
    void (*flowlog_status)(const struct vpcd *, struct json *status);
    void (*flowlog_metrics)(const struct vpcd *, struct ds *);

    /* Instance metadata (daemon/imds.h, --metadata): the service, or NULL,
     * and where it listens. */
    struct vpcd_imds *imds;
    const char *metadata_addr;
    int metadata_port;
    /* Host services (daemon/pinctrl.c): the same, or NULL. */
    void (*pinctrl_status)(const struct vpcd *, struct json *status);
    void (*pinctrl_metrics)(const struct vpcd *, struct ds *);

    /* The VPC resolver's upstream resolvers (--dns-upstream, each
     * "IP[:PORT]", already checked), for vpcd_dns_create() (daemon/dns.h);
     * the strings are argv's. */
    const char **dns_upstreams;
    size_t n_dns_upstreams;
};

/* What the follower changes in the agent (daemon/follow.c sets them; the
 * agent's unit tests and fuzzers link no follower): documents from the
 * watched file and PUT /v1/intents are imported into the region database
 * instead of installed, and the status and metrics say more. */
struct json;
struct ds;
struct vpcd_follow_hooks {
    int (*import_text)(struct vpcd *, const char *text, const char *origin,
                       char **body);
    void (*import_file)(struct vpcd *, const char *file,
                        const char *origin);
    void (*status)(const struct vpcd *, struct json *status);
    void (*metrics)(const struct vpcd *, struct ds *);
    bool (*in_sync)(const struct vpcd *);   /* The follower's part. */
};

void vpcd_destroy(struct vpcd *);

/* The 'q' quantile (0..1) of the 'n' values in 'samples' (0 if none), as
 * /v1/status and /metrics report latencies. */
double vpcd_quantile(const double *samples, size_t n, double q);
/* Appends to 'ds' Prometheus summary 'name' (HELP 'help'): its 0.5 and
 * 0.99 quantiles and its sum, given in milliseconds as vpcd keeps them,
 * written in seconds (Prometheus' base unit), and its count. */
void vpcd_put_latency_summary(struct ds *ds, const char *name,
                              const char *help, double p50_ms,
                              double p99_ms, double sum_ms, uint64_t count);

/* Validates, compiles and installs document 'text' (from 'origin', for
 * logs).  Returns an HTTP status: 200 installed, 202 valid and kept but not
 * installed yet (the audit retries), 400 invalid (nothing changed); the JSON
 * response goes to '*body'. */
int vpcd_apply_text(struct vpcd *, const char *text, const char *origin,
                    char **body);
/* The same for 'text' already parsed as 'doc' ('text' may be NULL).  With
 * 'stages' (bool[PL_N_STAGES], or NULL), the caller knows that the change
 * from the desired document touches only what those stages compile
 * (vpcd_state_build_doc()). */
int vpcd_apply_doc(struct vpcd *, const char *text, const struct json *doc,
                   const bool *stages, const char *origin, char **body);

/* Applies the document in 'file' ('state_file': see vpcd_load_state()). */
void vpcd_load_file(struct vpcd *, const char *file, const char *origin);

/* Starts from the persisted state: the version and document in
 * 'state_file', else in its last good copy 'state_file'.prev if it is
 * corrupt (reported in the log, last_error and the "state_file" error
 * count; the corrupt file is renamed 'state_file'.corrupt).  Called again
 * while running (SIGHUP, vpcd/reload without --intents), a corrupt file is
 * set aside and rewritten from the desired state. */
void vpcd_load_state(struct vpcd *, const char *origin);

/* True if the switch's flows, its mapping cache (action mode) and the state
 * file all hold the desired version and, with --region-db, the follower is
 * current (a session, its document compiled): what /v1/status and
 * /metrics call "in_sync". */
bool vpcd_in_sync(const struct vpcd *);

/* True if the watched intents file changed since the last call. */
bool vpcd_file_changed(struct vpcd *);

/* Brings ovs-vswitchd back to the desired state if it differs (see
 * daemon/vpcd.c for when it runs). */
void vpcd_audit(struct vpcd *);

/* The HTTP API: answers 'method' ("GET", "PUT", "POST") on 'path' with
 * request body 'body'.  Returns the status; '*content_type' and '*out'
 * (malloc'd) are the response. */
int vpcd_http(struct vpcd *, const char *method, const char *path,
              const char *body, const char **content_type, char **out);

/* The methods 'path' of the HTTP API answers, as the value of a 405's Allow
 * header ("GET, PUT"), or NULL if there is no such resource. */
const char *vpcd_http_allow(const char *path);

/* Replaces the desired state's document, region and cache entries (sorted)
 * by 'doc', 'r' and 'entries' (all taken), keeping its flows, which the
 * caller knows are unchanged (daemon/follow.c: a change that touches only
 * cache entries), and installs the cache's difference.  Returns NULL or a
 * malloc'd error (then not in sync; the audit retries). */
char *vpcd_adopt_entries(struct vpcd *, struct json *doc,
                         struct vpc_region *r,
                         struct pl_mapping_entry *entries, size_t n,
                         const char *origin);

/* With --no-switch: writes the desired flows and cache entries to
 * d->record_file (atomically: a temporary file renamed over it).  Returns 0
 * or an errno value. */
int vpcd_record(const struct vpcd *);

char *vpcd_status_json(const struct vpcd *);
char *vpcd_desired_flows(const struct vpcd *);

#endif /* daemon/agent.h */
