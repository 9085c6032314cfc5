/* daemon/flowlog.h: vpcd's flow logs (docs/flow-logs.md).
 *
 * The pipeline samples the security-group and network-ACL verdicts of the
 * ENIs that flow logs cover (pipeline/pipeline.h, "Flow logs").  vpcd is
 * the IPFIX collector those samples go to: it configures the bridge's
 * Flow_Sample_Collector_Set and IPFIX rows in OVSDB with a target on a
 * loopback UDP socket it owns, reads the IPFIX messages that ovs-vswitchd
 * exports there (libevent), aggregates their records per flow log, ENI,
 * 5-tuple and verdict for the flow log's aggregation interval, and writes
 * each aggregate as one line in AWS's default flow-log format to the flow
 * log's file, rotated by size.
 *
 * One instance per process (vpcd has one agent); the options are parsed
 * before the agent exists.  Threading: none, vpcd's one thread. */

#ifndef VPCD_FLOWLOG_H
#define VPCD_FLOWLOG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vpcd;

/* Options, for vpcd's getopt loop (as OVS's DAEMON_OPTION_* macros). */
#define FLOWLOG_OPTION_ENUMS                    \
    OPT_FLOW_LOG_DIR,                           \
    OPT_FLOW_LOG_INTERVAL,                      \
    OPT_FLOW_LOG_MAX_BYTES,                     \
    OPT_FLOW_LOG_KEEP,                          \
    OPT_FLOW_LOG_PORT,                          \
    OPT_FLOW_LOG_IPFIX,                         \
    OPT_FLOW_LOG_ACCOUNT,                       \
    OPT_FLOW_LOG_MAX_PENDING

#define FLOWLOG_LONG_OPTIONS                                            \
    { "flow-log-dir", required_argument, NULL, OPT_FLOW_LOG_DIR },      \
    { "flow-log-interval", required_argument, NULL,                     \
      OPT_FLOW_LOG_INTERVAL },                                          \
    { "flow-log-max-bytes", required_argument, NULL,                    \
      OPT_FLOW_LOG_MAX_BYTES },                                         \
    { "flow-log-keep", required_argument, NULL, OPT_FLOW_LOG_KEEP },    \
    { "flow-log-port", required_argument, NULL, OPT_FLOW_LOG_PORT },    \
    { "flow-log-ipfix", required_argument, NULL, OPT_FLOW_LOG_IPFIX },  \
    { "flow-log-account-id", required_argument, NULL,                   \
      OPT_FLOW_LOG_ACCOUNT },                                           \
    { "flow-log-max-pending", required_argument, NULL,                  \
      OPT_FLOW_LOG_MAX_PENDING }

#define FLOWLOG_OPTION_HANDLERS                                 \
    case OPT_FLOW_LOG_DIR:                                      \
    case OPT_FLOW_LOG_INTERVAL:                                 \
    case OPT_FLOW_LOG_MAX_BYTES:                                \
    case OPT_FLOW_LOG_KEEP:                                     \
    case OPT_FLOW_LOG_PORT:                                     \
    case OPT_FLOW_LOG_IPFIX:                                    \
    case OPT_FLOW_LOG_ACCOUNT:                                  \
    case OPT_FLOW_LOG_MAX_PENDING:                              \
        vpcd_flowlog_option(c - OPT_FLOW_LOG_DIR, optarg);      \
        break;

#define FLOWLOG_USAGE                                                       \
    "  --flow-log-dir=DIR   write flow logs to DIR/FL-ID.log ('none': no\n"  \
    "                       flow logs; default: the state directory's\n"     \
    "                       flow-logs/)\n"                                   \
    "  --flow-log-interval=S  aggregate records for S seconds (default:\n"   \
    "                       each flow log's max_aggregation_interval)\n"     \
    "  --flow-log-max-bytes=B  rotate a flow log's file at B bytes\n"        \
    "                       (default 10 MiB)\n"                              \
    "  --flow-log-keep=N    keep N rotated files FL-ID.log.1..N "           \
    "(default 5)\n"                                                          \
    "  --flow-log-port=N    the IPFIX collector's loopback UDP port\n"       \
    "                       (default 0: any free one)\n"                     \
    "  --flow-log-ipfix=IP:PORT  ovs-vswitchd also exports the IPFIX\n"      \
    "                       records to this collector\n"                     \
    "  --flow-log-account-id=ID  the records' account-id field "            \
    "(default -)\n"                                                          \
    "  --flow-log-max-pending=N  at most N records aggregating (default\n"   \
    "                       100000; beyond, SKIPDATA records)\n"

/* Sets option number 'which' (FLOWLOG_OPTION_ENUMS order) to 'arg'; exits
 * with an error that names the option if 'arg' is not valid. */
void vpcd_flowlog_option(int which, const char *arg);

/* Starts flow logs for agent 'd' (after its options and event base are
 * set): opens the collector's socket and sets 'd''s status and metrics
 * hooks.  The files go to --flow-log-dir, else to the state directory's
 * flow-logs/ (the directory of d->state_file).  Does nothing with
 * --flow-log-dir=none, or without either directory. */
void vpcd_flowlog_start(struct vpcd *d);

/* Called on every tick of vpcd's loop (VPCD_TICK_MS): keeps the switch's
 * collector set configured while the desired document has flow logs, and
 * writes the aggregates whose interval ended. */
void vpcd_flowlog_tick(struct vpcd *d);

/* Writes every pending aggregate, removes the collector set from the
 * switch and closes everything. */
void vpcd_flowlog_stop(struct vpcd *d);

/* One IPFIX message, as the collector socket receives it (for tests and
 * fuzzers): parses and aggregates its records.  Returns 0 or an errno. */
int vpcd_flowlog_receive(struct vpcd *d, const uint8_t *msg, size_t len);

#endif /* daemon/flowlog.h */
