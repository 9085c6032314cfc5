/* switch/switch.h: the switch client, what ovs-vpc needs from the running
 * Open vSwitch of its host (prefix sw_; vpcctl and vpcd link it).
 *
 * Three conversations, all through libopenvswitch: OVSDB (which ENI is
 * plugged into which port), OpenFlow (install a flow set atomically, changing
 * only what differs) and unixctl (ofproto/trace).  Every function returns
 * NULL on success or a malloc'd error message.  Blocking; no threads.
 *
 * Timeouts.  Every exchange is bounded: connecting, and then each message
 * sent or received, must make progress within sw_ovs_get_timeout()
 * milliseconds, or the call fails with an error that says it timed out.
 * A peer that timed out is in backoff: calls toward it fail at once, with
 * an error that says so, until the backoff (1 s, doubling up to 8 s, reset
 * by any answer) has passed; so a stopped ovs-vswitchd costs a caller at
 * most one timeout per backoff period, not one per call. */

#ifndef SWITCH_SWITCH_H
#define SWITCH_SWITCH_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "pipeline/pipeline.h"

/* Reads the port bindings of the switch behind OVSDB 'db' (e.g.
 * "unix:/var/run/openvswitch/db.sock"): every Interface with
 * external_ids:vpc-eni-id=ENI and an ofport, and the ofport of the Geneve
 * tunnel interface.  '*bindings' (and the strings in it) are malloc'd. */
struct sw_ovs_ports {
    int tunnel;                 /* The Geneve interface. */
    int uplink, dx, vpn;        /* Edges: external_ids:vpc-edge-port. */
    int metadata;               /* external_ids:vpc-service=metadata. */
    struct eth_addr metadata_mac;       /* Its mac_in_use. */
};
/* Sends the OVSDB "transact" request 'params' (["DB", op...], consumed) to
 * 'db' and waits for the reply; on success '*reply' is the caller's. */
struct jsonrpc_msg;
struct json;
char *sw_ovsdb_transact(const char *db, struct json *params,
                         struct jsonrpc_msg **reply)
    OVS_WARN_UNUSED_RESULT;

/* Which host the switch is.  A switch says it in Open_vSwitch
 * external_ids:vpc-host.  After sw_set_host(db, host, force), the
 * functions below that change the switch (sw_apply_flows(),
 * sw_apply_flowset(), sw_apply_delta(), sw_mapping_load(),
 * sw_ovsdb_set_controller()) first check it
 * in OVSDB 'db': unset, they set it to 'host' (the first vpcctl apply or
 * vpcd run claims the switch; a dry run only checks); equal, they go on;
 * another host's, they fail with an error naming both, unless 'force',
 * which claims the switch for 'host'.  Once the check passed it is not
 * repeated.  Without sw_set_host(), nothing is checked. */
void sw_set_host(const char *db, const char *host, bool force);

char *sw_ovsdb_read_bindings(const char *db, struct pl_binding **bindings,
                              size_t *n, struct sw_ovs_ports *)
    OVS_WARN_UNUSED_RESULT;
/* Flow logs (daemon/flowlog.c): makes Flow_Sample_Collector_Set 'set_id'
 * of bridge 'bridge' an IPFIX exporter to the 'n' collectors 'targets'
 * ("IP:PORT") whose flow cache holds up to 'cache_flows' records for up to
 * 'cache_timeout' seconds (IPFIX cache_max_flows, cache_active_timeout:
 * OVS's default, 0, exports every sampled packet on its own), or, with
 * 'n' == 0, removes it (its IPFIX row goes with it).  Either way it also
 * increments Open_vSwitch next_cfg: '*next_cfg' gets the value that
 * ovs-vswitchd's cur_cfg reaches once it has applied the change. */
char *sw_ovsdb_set_ipfix(const char *db, const char *bridge, int64_t set_id,
                         const char *const *targets, size_t n,
                         int cache_timeout, int cache_flows,
                         int64_t *next_cfg)
    OVS_WARN_UNUSED_RESULT;
/* Whether Flow_Sample_Collector_Set 'set_id' exists, with an IPFIX row
 * that has target 'target' among its targets, and ovs-vswitchd's
 * cur_cfg. */
char *sw_ovsdb_get_ipfix(const char *db, int64_t set_id, const char *target,
                         bool *present, int64_t *cur_cfg)
    OVS_WARN_UNUSED_RESULT;

/* What is wrong with the 'n' port bindings 'b' of host 'host' against
 * region 'r' (docs/vpcd.md, "Unplugged and misplaced ENIs"): an ENI
 * placed on 'host' that no port plugs, a port that plugs an ENI placed on
 * another host or one the intents do not have, an ENI plugged twice.
 * Stores the problems, sorted by ENI, in '*problems' (the caller frees
 * them with sw_binding_problems_free()) and returns how many. */
struct vpc_region;
struct sw_binding_problem {
    char *eni;                  /* The ENI id. */
    char *problem;              /* What is wrong, in words. */
};
size_t sw_binding_problems(const struct vpc_region *r, const char *host,
                           const struct pl_binding *b, size_t n,
                           struct sw_binding_problem **problems);
void sw_binding_problems_free(struct sw_binding_problem *, size_t);
/* Host services (daemon/pinctrl.c): makes the Controller of bridge
 * 'bridge' exactly one row with target 'target' (vpcd's own punix:
 * socket, as "unix:PATH"), packet-ins rate-limited by OVS to 'rate' per
 * second with bursts of 'burst' (Controller controller_rate_limit and
 * controller_burst_limit: OVS queues packet-ins per input port and serves
 * the ports in turn), reconnecting within 'max_backoff_ms', and the
 * bridge's fail_mode "secure", so that the flows stay as they are while
 * the controller is away.  Does nothing if the switch already says so
 * ('*next_cfg' 0); otherwise it also increments Open_vSwitch next_cfg,
 * whose new value '*next_cfg' gets (see sw_ovsdb_get_cur_cfg()).  A
 * bridge that gains its first controller loses its flows (ovs-vswitchd
 * flushes them then): the caller sets it before installing any. */
char *sw_ovsdb_set_controller(const char *db, const char *bridge,
                              const char *target, int rate, int burst,
                              int max_backoff_ms, int64_t *next_cfg)
    OVS_WARN_UNUSED_RESULT;
/* ovs-vswitchd's Open_vSwitch cur_cfg: the next_cfg it has applied. */
char *sw_ovsdb_get_cur_cfg(const char *db, int64_t *cur_cfg)
    OVS_WARN_UNUSED_RESULT;

/* Frees 'n' bindings as sw_ovsdb_read_bindings() returns them. */
void sw_bindings_free(struct pl_binding *, size_t n);

struct sw_apply_stats {
    size_t added, modified, deleted, unchanged;
};

/* Makes the flow table of the switch at OpenFlow target 'target' (e.g.
 * "unix:/var/run/openvswitch/br-int.mgmt") equal to 'flows', in one atomic
 * OpenFlow bundle that adds, modifies and deletes only what differs.  Every
 * flow is parsed before anything is sent: a flow that does not parse
 * changes nothing.  With 'dry_run', computes 'stats' but sends nothing. */
char *sw_apply_flows(const char *target, const struct pl_flows *flows,
                      bool dry_run, struct sw_apply_stats *stats)
    OVS_WARN_UNUSED_RESULT;

/* The same, in two steps, for callers that apply one flow set repeatedly
 * (the daemon's audit): parse once, apply many times. */
struct sw_flowset;
char *sw_flowset_parse(const struct pl_flows *, struct sw_flowset **)
    OVS_WARN_UNUSED_RESULT;
char *sw_apply_flowset(const char *target, struct sw_flowset *,
                        bool dry_run, struct sw_apply_stats *)
    OVS_WARN_UNUSED_RESULT;
size_t sw_flowset_count(const struct sw_flowset *);

/* Installs the difference between compiled flow sets 'old' and 'new' on a
 * switch that is known to hold 'old' (no flow dump): only the flows whose
 * text differs are parsed and sent, in one atomic bundle.  On success
 * updates 'fs' (the parsed form of 'old', or NULL) into the parsed form of
 * 'new'.  On failure nothing changed on the switch, and 'fs' is unchanged.
 * The caller's audit (sw_apply_flowset) catches any drift. */
char *sw_apply_delta(const char *target, const struct pl_flows *old,
                      const struct pl_flows *new, struct sw_flowset *fs,
                      struct sw_apply_stats *)
    OVS_WARN_UNUSED_RESULT;
void sw_flowset_destroy(struct sw_flowset *);

/* Mapping cache: writes entries in the format of ovs-appctl vpcmap/load,
 * and replaces ovs-vswitchd's cache with them in one generation swap
 * ('*reply' is vpcmap/load's reply).  The entries go through a new file in
 * 'dir' (NULL: $TMPDIR or /tmp), which ovs-vswitchd must be able to read;
 * every write is checked, and vpcmap/load is given the number of entries,
 * so that a short file fails the load instead of shrinking the cache. */
void sw_mapping_write(FILE *, const struct pl_mapping_entry *, size_t n);
char *sw_mapping_load(const char *ctl, const char *dir,
                       const struct pl_mapping_entry *, size_t n,
                       char **reply)
    OVS_WARN_UNUSED_RESULT;

/* Runs unixctl 'command' with 'argv' against the daemon at control socket
 * 'path'; on success '*output' is its reply. */
char *sw_appctl(const char *path, const char *command, int argc,
                 char *argv[], char **output)
    OVS_WARN_UNUSED_RESULT;

/* Packets dropped by each stage's drop flows (flows with no actions), from
 * the switch's flow statistics. */
char *sw_stage_drops(const char *target, uint64_t drops[PL_N_STAGES])
    OVS_WARN_UNUSED_RESULT;

/* Every flow's table, cookie and counters on the switch at 'target'. */
struct sw_flow_counter {
    uint8_t table;
    bool drop;                  /* No actions. */
    uint64_t cookie;
    uint64_t packets, bytes;
};
char *sw_flow_counters(const char *target, struct sw_flow_counter **,
                        size_t *n)
    OVS_WARN_UNUSED_RESULT;

/* Every exchange's timeout, in milliseconds (VPC_OVS_TIMEOUT_MS unless
 * set), and the number of exchanges that timed out so far. */
#define VPC_OVS_TIMEOUT_MS 5000
void sw_ovs_set_timeout(long long int ms);
long long int sw_ovs_get_timeout(void);
uint64_t sw_ovs_timeouts(void);

/* The default locations of a local OVS (OVS_RUNDIR or the build default). */
char *sw_default_db(void);
char *sw_default_switch(const char *bridge);
char *sw_default_vswitchd_ctl(void);

#endif /* switch/switch.h */
