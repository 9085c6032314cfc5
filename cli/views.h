/* cli/views.h: vpcctl's read-only views of a region (prefix vw_).
 *
 *   vpcctl describe [FILE] KIND [ID]   one kind of object, AWS describe-*
 *                                      names (vpcs, network-interfaces...)
 *   vpcctl show [FILE]                 a tree: VPC, subnets, ENIs, gateways
 *   vpcctl routes [FILE] SUBNET [IP]   a subnet's effective routes
 *   vpcctl graph [FILE]                the topology as Graphviz DOT or SVG
 *
 * Each reads a region document FILE or, with --region-db=REMOTES, the
 * region database (through rdb_dump(), as 'vpcctl dump' does), validates it
 * with the translator and works from the model (translator/model.h).
 * --format=text|json (describe, show, routes) or dot|svg (graph); JSON
 * output is sorted and stable (docs/vpcctl.md describes it).
 *
 * The same file has compile's offline port numbering
 * (vw_offline_host_config()), used when no switch tells which ENI is on
 * which port. */

#ifndef CLI_VIEWS_H
#define CLI_VIEWS_H 1

#include <stdbool.h>
#include <stddef.h>
#include "pipeline/pipeline.h"

/* What the views need from vpcctl's options; vpcctl's main() fills it. */
struct vw_options {
    const char *region_db;      /* --region-db, or NULL: read FILE. */
    int region_db_timeout_ms;
    const char *format;         /* --format, or NULL: the default. */
};
extern struct vw_options vw_options;

/* Command handlers for vpcctl's command table: 'argv[0]' is the command's
 * name, 'argc' counts it.  Each returns vpcctl's exit status: 0, 1 (invalid
 * input, failure) or 2 (usage). */
int vw_cmd_describe(int argc, char *argv[]);
int vw_cmd_show(int argc, char *argv[]);
int vw_cmd_routes(int argc, char *argv[]);
int vw_cmd_graph(int argc, char *argv[]);

/* The kinds 'vpcctl describe' knows, comma-separated (for its usage). */
const char *vw_describe_kinds(void);

/* compile without a switch.  Fills 'cfg' (already holding --host and the
 * options' ports, 'given' bindings from --bind) for host 'cfg->host_id' of
 * 'r': every ENI placed on the host is plugged; an ENI bound by --bind keeps
 * its ofport, the others take the lowest free ofports from 1 in ENI
 * (document) order; the tunnel port, unless given, takes the next free
 * ofport, and on an edge so do the uplink, Direct Connect and VPN ports,
 * in that order.  '*owned' (freed with free()) holds the bindings cfg
 * points to.  '*note' (malloc'd) says what was assigned, for a comment
 * line.  Returns NULL or an error (an unknown host). */
char *vw_offline_host_config(const struct vpc_region *r,
                             struct pl_host_config *cfg,
                             struct pl_binding **owned, size_t *n_owned,
                             char **note)
    OVS_WARN_UNUSED_RESULT;

#endif /* cli/views.h */
