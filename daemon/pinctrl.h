/* daemon/pinctrl.h: vpcd's packet-in controller (docs/vpcd.md, "Host
 * services").
 *
 * Stage services of the pipeline (pipeline/stages.def) sends the DHCP and
 * DNS packets of this host's ENIs to the controller.  vpcd is that
 * controller: it listens on a private punix: socket in its run directory
 * and makes the bridge's Controller row point to it (OVSDB), with OVS's
 * packet-in rate limit, so that ovs-vswitchd connects to vpcd, sends the
 * packets as OpenFlow packet-ins and takes vpcd's answers as packet-outs
 * to the port the packet came from.  Which ENI asked is the packet-in's
 * in_port, through the port bindings vpcd reads; nothing the VM sends
 * decides it.
 *
 * Flood protection is two-fold: ovs-vswitchd's own scheduler (Controller
 * controller_rate_limit and controller_burst_limit) queues packet-ins per
 * input port and serves the ports in turn, so that one ENI's flood cannot
 * starve the others in the switch, and vpcd keeps token buckets per ENI
 * (one for DHCP, one for DNS) on top, so that what does get through from
 * one ENI is bounded in vpcd's work.  Every drop is counted (/metrics).
 *
 * The OpenFlow connection runs on OVS's poll loop, beside libevent: a
 * waiter thread blocks in poll_block() on it and wakes vpcd's loop through
 * a pipe; everything else runs on vpcd's thread (as daemon/follow.c does
 * for the region database).  Not started with --no-switch.
 *
 * One instance per process. */

#ifndef VPCD_PINCTRL_H
#define VPCD_PINCTRL_H 1

#include <stddef.h>
#include <stdint.h>

struct vpcd;

#define PINCTRL_OPTION_ENUMS                    \
    OPT_PINCTRL_RATE,                           \
    OPT_PINCTRL_BURST,                          \
    OPT_DHCP_ENI_RATE,                          \
    OPT_DHCP_ENI_BURST,                         \
    OPT_DNS_ENI_RATE,                           \
    OPT_DNS_ENI_BURST

#define PINCTRL_LONG_OPTIONS                                            \
    { "pinctrl-rate", required_argument, NULL, OPT_PINCTRL_RATE },      \
    { "pinctrl-burst", required_argument, NULL, OPT_PINCTRL_BURST },    \
    { "dhcp-eni-rate", required_argument, NULL, OPT_DHCP_ENI_RATE },    \
    { "dhcp-eni-burst", required_argument, NULL, OPT_DHCP_ENI_BURST },  \
    { "dns-eni-rate", required_argument, NULL, OPT_DNS_ENI_RATE },      \
    { "dns-eni-burst", required_argument, NULL, OPT_DNS_ENI_BURST }

#define PINCTRL_OPTION_HANDLERS                                 \
    case OPT_PINCTRL_RATE:                                      \
    case OPT_PINCTRL_BURST:                                     \
    case OPT_DHCP_ENI_RATE:                                     \
    case OPT_DHCP_ENI_BURST:                                    \
    case OPT_DNS_ENI_RATE:                                      \
    case OPT_DNS_ENI_BURST:                                     \
        vpcd_pinctrl_option(c - OPT_PINCTRL_RATE, optarg);      \
        break;

#define PINCTRL_USAGE                                                        \
    "  --pinctrl-rate=N     ovs-vswitchd sends at most N packet-ins a second "\
    "to vpcd\n"                                                              \
    "                       (DHCP, DNS; default 5000, at least 100), "       \
    "queued per port\n"                                                      \
    "  --pinctrl-burst=N    ...in bursts of up to N (default 1000, at least " \
    "25)\n"                                                                  \
    "  --dhcp-eni-rate=N    vpcd answers at most N DHCP packets a second per "\
    "ENI\n"                                                                  \
    "                       (default 20)\n"                                  \
    "  --dhcp-eni-burst=N   ...in bursts of up to N (default 40)\n"          \
    "  --dns-eni-rate=N     ...and N DNS queries a second per ENI (default "  \
    "1024)\n"                                                                \
    "  --dns-eni-burst=N    ...in bursts of up to N (default 1024)\n"

/* Sets option number 'which' (PINCTRL_OPTION_ENUMS order) to 'arg'; exits
 * with an error naming the option if 'arg' is not valid. */
void vpcd_pinctrl_option(int which, const char *arg);

/* Starts the controller for agent 'd' (after its options and event base):
 * listens on d->run_dir/pinctrl.sock and sets 'd''s status and metrics
 * hooks. */
void vpcd_pinctrl_start(struct vpcd *d);

/* Called on every tick of vpcd's loop: keeps the bridge's Controller row
 * pointing to vpcd. */
void vpcd_pinctrl_tick(struct vpcd *d);

/* Closes the connection and the socket.  The Controller row stays: a vpcd
 * restart must not disturb the switch (fail_mode secure keeps every flow;
 * ovs-vswitchd reconnects within a second of the new vpcd listening). */
void vpcd_pinctrl_stop(struct vpcd *d);

/* Handles one packet-in's packet, 'len' bytes of Ethernet frame 'pkt' that
 * came in on 'in_port' (for tests): what vpcd answers is sent through
 * 'send' (or, with a NULL 'send', through the OpenFlow connection). */
typedef void vpcd_pinctrl_send_cb(const void *frame, size_t len,
                                  int out_port, void *aux);
void vpcd_pinctrl_packet(struct vpcd *d, int in_port, const uint8_t *pkt,
                         size_t len, vpcd_pinctrl_send_cb *send, void *aux);

#endif /* daemon/pinctrl.h */
