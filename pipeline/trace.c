/* pipeline/trace.c: labels and verdicts of packet traces (trace.h). */

#include <config.h>
#include "pipeline/trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/util.h"
#include "packets.h"
#include "pipeline/vpn.h"
#include "util.h"

/* Returns decimal 's' if it is all digits and at most 'max', otherwise -1:
 * "https" or "443abc" is not a port. */
static int
pl_trace_parse_number(const char *s, int max)
{
    size_t len = strlen(s);
    if (!len || len > 5 || strspn(s, "0123456789") != len) {
        return -1;
    }
    int v = atoi(s);
    return v <= max ? v : -1;
}

/* The VPC whose VNI is 'vni', or NULL. */
static const struct vpc_vpc *
vpc_by_vni(const struct vpc_region *r, uint32_t vni)
{
    for (size_t i = 0; i < r->n_vpcs; i++) {
        if (r->vpcs[i].vni == vni) {
            return &r->vpcs[i];
        }
    }
    return NULL;
}

/* The ENI of VPC 'vpc' with address 'ip', or NULL. */
static const struct vpc_eni *
eni_by_ip(const struct vpc_region *r, const struct vpc_vpc *vpc, uint32_t ip)
{
    for (size_t i = 0; i < r->n_enis; i++) {
        if (r->enis[i].ip == ip && r->enis[i].subnet->vpc == vpc) {
            return &r->enis[i];
        }
    }
    return NULL;
}

const struct vpc_host *
pl_trace_host_by_underlay(const struct vpc_region *r, uint32_t ip)
{
    for (size_t i = 0; i < r->n_hosts; i++) {
        if (r->hosts[i].underlay_ip == ip) {
            return &r->hosts[i];
        }
    }
    for (size_t i = 0; i < r->n_edges; i++) {
        if (r->edges[i].underlay_ip == ip) {
            return &r->edges[i];
        }
    }
    return NULL;
}

/* The ofport of ENI 'id' on host 'cfg', or -1. */
static int
eni_ofport(const struct pl_host_config *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->n_bindings; i++) {
        if (!strcmp(cfg->bindings[i].eni_id, id)) {
            return cfg->bindings[i].ofport;
        }
    }
    return -1;
}

/* Parses IPv4 address 'word' (the value of 'what') into '*ip'.  Returns
 * NULL or a malloc'd message. */
static char *
parse_ip(const char *spec, const char *what, const char *word, uint32_t *ip)
{
    return (vpc_ip_parse(word, ip) ? NULL
            : xasprintf("\"%s\": %s \"%s\": not an IPv4 address", spec,
                        what, word));
}

char *
pl_trace_microflow(const struct vpc_region *r,
                   const struct pl_host_config *cfg, const char *spec,
                   char **error)
{
    char *copy = xstrdup(spec), *save = NULL;
    char *words[32];
    size_t n = 0;
    for (char *w = strtok_r(copy, " \t", &save); w;
         w = strtok_r(NULL, " \t", &save)) {
        if (n == ARRAY_SIZE(words)) {
            *error = xasprintf("\"%s\": more than %"PRIuSIZE" words", spec,
                               ARRAY_SIZE(words));
            free(copy);
            return NULL;
        }
        words[n++] = w;
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    *error = NULL;
    const struct vpc_eni *src = NULL;
    const struct vpc_host *self = vpc_region_find_host(r, cfg->host_id);
    size_t i;
    char sip[16];
    uint32_t ip;

    if (n >= 2 && !strcmp(words[0], "from") && !strcmp(words[1], "tunnel")) {
        /* from tunnel UNDERLAY vni N src IP to IP ...: as it arrives from
         * host UNDERLAY, which wrote the router MAC as source and the
         * destination ENI's MAC (pipeline "mapping"). */
        uint32_t outer, vni_ip;
        int vni;
        const struct vpc_vpc *vpc;
        if (n < 9 || strcmp(words[3], "vni") || strcmp(words[5], "src")
            || strcmp(words[7], "to")) {
            *error = xasprintf("\"%s\": expected 'from tunnel UNDERLAY-IP "
                               "vni N src IP to IP ...'", spec);
            goto out;
        }
        if ((*error = parse_ip(spec, "tunnel", words[2], &outer))) {
            goto out;
        }
        size_t len = strlen(words[4]);
        vni = (len && len <= 8 && strspn(words[4], "0123456789") == len
               ? atoi(words[4]) : -1);
        if (vni < 0 || vni > 0xffffff) {
            *error = xasprintf("\"%s\": vni \"%s\": not a VNI: a decimal "
                               "number 0..16777215", spec, words[4]);
            goto out;
        }
        if (!(vpc = vpc_by_vni(r, vni))) {
            *error = xasprintf("\"%s\": vni %d: no VPC of the region has "
                               "this VNI", spec, vni);
            goto out;
        }
        if ((*error = parse_ip(spec, "src", words[6], &ip))
            || (*error = parse_ip(spec, "to", words[8], &vni_ip))) {
            goto out;
        }
        if (cfg->tunnel_ofport <= 0 || !self) {
            *error = xasprintf("host %s has no tunnel port", cfg->host_id);
            goto out;
        }
        const struct vpc_eni *dst = eni_by_ip(r, vpc, vni_ip);
        struct eth_addr rmac = pl_router_mac(vpc);
        char hip[16];
        vpc_ip_format(self->underlay_ip, hip);
        ovs_strlcpy(sip, words[6], sizeof sip);
        ds_put_format(&ds, "in_port=%d,tun_id=%d,tun_src=%s,tun_dst=%s,"
                      "dl_src="ETH_ADDR_FMT",dl_dst="ETH_ADDR_FMT,
                      cfg->tunnel_ofport, vni, words[2], hip,
                      ETH_ADDR_ARGS(rmac),
                      ETH_ADDR_ARGS(dst ? dst->mac : rmac));
        i = 7;
    } else if (n >= 2 && !strcmp(words[0], "from")
               && !strcmp(words[1], "uplink")) {
        /* from uplink src IP to IP ...: a frame from the internet, from
         * the uplink's next hop to the edge's uplink MAC. */
        if (n < 6 || strcmp(words[2], "src") || strcmp(words[4], "to")) {
            *error = xasprintf("\"%s\": expected 'from uplink src IP to IP "
                               "...'", spec);
            goto out;
        }
        if ((*error = parse_ip(spec, "src", words[3], &ip))) {
            goto out;
        }
        if (!self || !self->is_edge || cfg->uplink_ofport <= 0) {
            *error = xasprintf("%s is not an edge with an uplink port",
                               cfg->host_id);
            goto out;
        }
        if (!self->has_uplink_gateway_mac) {
            *error = xasprintf("edge %s has no uplink_gateway_mac",
                               cfg->host_id);
            goto out;
        }
        ovs_strlcpy(sip, words[3], sizeof sip);
        ds_put_format(&ds, "in_port=%d,dl_src="ETH_ADDR_FMT",dl_dst="
                      ETH_ADDR_FMT, cfg->uplink_ofport,
                      ETH_ADDR_ARGS(self->uplink_gateway_mac),
                      ETH_ADDR_ARGS(self->uplink_mac));
        i = 4;
    } else if (n >= 2 && !strcmp(words[0], "from")
               && !strcmp(words[1], "vpn")) {
        /* from vpn src IP to IP ...: what the edge's kernel routes back
         * from the IPsec tunnel, to the MAC the edge answers its ARP
         * with (pipeline/vpn.h). */
        struct eth_addr bmac;
        if (n < 6 || strcmp(words[2], "src") || strcmp(words[4], "to")) {
            *error = xasprintf("\"%s\": expected 'from vpn src IP to IP "
                               "...'", spec);
            goto out;
        }
        if ((*error = parse_ip(spec, "src", words[3], &ip))) {
            goto out;
        }
        if (!self || !self->is_edge || cfg->vpn_ofport <= 0) {
            *error = xasprintf("%s is not an edge with a VPN port",
                               cfg->host_id);
            goto out;
        }
        ovs_assert(eth_addr_from_string(PL_VPN_BRIDGE_MAC, &bmac));
        ovs_strlcpy(sip, words[3], sizeof sip);
        ds_put_format(&ds, "in_port=%d,dl_dst="ETH_ADDR_FMT,
                      cfg->vpn_ofport, ETH_ADDR_ARGS(bmac));
        i = 4;
    } else if (n >= 2 && !strcmp(words[0], "from")
               && !strcmp(words[1], "dx")) {
        /* from dx VIF src IP to IP ... or from dx s_tag N c_tag N src IP
         * to IP ...: a frame from the customer's router on the Direct
         * Connect port, 802.1ad S-tag outside, 802.1Q C-tag inside (as
         * "dl_vlan" and "dl_vlan1", OVS's names: the caller turns them
         * into a packet, pl_trace_split_vlans()). */
        const struct vpc_gateway *vif = NULL;
        int tags[2] = { -1, -1 };
        size_t k = 3;
        if (n >= 7 && !strcmp(words[2], "s_tag")) {
            if (strcmp(words[4], "c_tag")) {
                *error = xasprintf("\"%s\": expected 'from dx s_tag N "
                                   "c_tag N src IP to IP ...'", spec);
                goto out;
            }
            for (size_t t = 0; t < 2; t++) {
                tags[t] = pl_trace_parse_number(words[3 + 2 * t], 4095);
                if (tags[t] < 1 || tags[t] > 4094) {
                    *error = xasprintf("\"%s\": %s \"%s\": not a VLAN id: "
                                       "a decimal number 1..4094", spec,
                                       words[2 + 2 * t], words[3 + 2 * t]);
                    goto out;
                }
            }
            k = 6;
        } else if (n >= 3) {
            for (size_t g = 0; g < r->n_gateways && !vif; g++) {
                if (r->gateways[g].kind == VPC_TGT_DX
                    && !strcmp(r->gateways[g].id, words[2])) {
                    vif = &r->gateways[g];
                }
            }
            if (!vif) {
                *error = xasprintf("\"%s\": \"%s\": no Direct Connect "
                                   "virtual interface of the region has "
                                   "this id (or give 's_tag N c_tag N')",
                                   spec, words[2]);
                goto out;
            }
            tags[0] = vif->s_tag;
            tags[1] = vif->c_tag;
        }
        if (k + 3 > n || strcmp(words[k], "src")
            || strcmp(words[k + 2], "to")) {
            *error = xasprintf("\"%s\": expected 'from dx VIF-ID src IP "
                               "to IP ...' or 'from dx s_tag N c_tag N src "
                               "IP to IP ...'", spec);
            goto out;
        }
        if ((*error = parse_ip(spec, "src", words[k + 1], &ip))) {
            goto out;
        }
        if (!self || !self->is_edge || cfg->dx_ofport <= 0) {
            *error = xasprintf("%s is not an edge with a Direct Connect "
                               "port", cfg->host_id);
            goto out;
        }
        if (vif && vif->edge != self) {
            *error = xasprintf("%s is served by edge %s, not %s", vif->id,
                               vif->edge->id, cfg->host_id);
            goto out;
        }
        /* The customer router's MAC if known (else the VIF of those tags
         * decides nothing by MAC: any), to the edge's, which answers the
         * router's ARP on the trunk. */
        struct eth_addr peer = ETH_ADDR_C(02,00,00,00,00,01);
        for (size_t g = 0; !vif && g < r->n_gateways; g++) {
            const struct vpc_gateway *gw = &r->gateways[g];
            if (gw->kind == VPC_TGT_DX && gw->edge == self
                && gw->s_tag == tags[0] && gw->c_tag == tags[1]) {
                vif = gw;
            }
        }
        if (vif && vif->has_peer_mac) {
            peer = vif->peer_mac;
        }
        ovs_strlcpy(sip, words[k + 1], sizeof sip);
        ds_put_format(&ds, "in_port=%d,dl_vlan=%d,dl_vlan1=%d,dl_src="
                      ETH_ADDR_FMT",dl_dst="ETH_ADDR_FMT, cfg->dx_ofport,
                      tags[0], tags[1], ETH_ADDR_ARGS(peer),
                      ETH_ADDR_ARGS(self->uplink_mac));
        i = k + 2;
    } else {
        if (n < 3 || strcmp(words[0], "from")
            || !(src = vpc_region_find_eni(r, words[1]))) {
            *error = xasprintf("\"%s\": expected 'from ENI-ID ...' with an "
                               "ENI of the region, 'from tunnel "
                               "UNDERLAY-IP vni N src IP', 'from uplink "
                               "src IP', 'from dx VIF-ID src IP' or 'from "
                               "vpn src IP'", spec);
            goto out;
        }
        int ofport = eni_ofport(cfg, src->id);
        if (ofport < 0 || src->host != self) {
            *error = xasprintf("%s is not plugged into host %s", src->id,
                               cfg->host_id);
            goto out;
        }
        vpc_ip_format(src->ip, sip);
        i = 2;
        if (!strcmp(words[i], "src")) {
            /* Any source address: a spoofing ENI, or one with its
             * source/dest check off. */
            if (i + 1 >= n) {
                *error = xasprintf("\"%s\": src needs an IPv4 address",
                                   spec);
                goto out;
            }
            if ((*error = parse_ip(spec, "src", words[i + 1], &ip))) {
                goto out;
            }
            ovs_strlcpy(sip, words[i + 1], sizeof sip);
            i += 2;
        }
        if (i < n && !strcmp(words[i], "arp") && i == 2 && n == 4
            && vpc_ip_parse(words[3], &ip)) {
            ds_put_format(&ds, "in_port=%d,arp,dl_src="ETH_ADDR_FMT","
                          "dl_dst=ff:ff:ff:ff:ff:ff,arp_op=1,arp_spa=%s,"
                          "arp_tpa=%s,arp_sha="ETH_ADDR_FMT, ofport,
                          ETH_ADDR_ARGS(src->mac), sip, words[3],
                          ETH_ADDR_ARGS(src->mac));
            goto out;
        }
        struct eth_addr rmac = pl_router_mac(src->subnet->vpc);
        ds_put_format(&ds, "in_port=%d,dl_src="ETH_ADDR_FMT",dl_dst="
                      ETH_ADDR_FMT, ofport, ETH_ADDR_ARGS(src->mac),
                      ETH_ADDR_ARGS(rmac));
    }
    if (i >= n || strcmp(words[i], "to") || i + 1 >= n
        || !vpc_ip_parse(words[i + 1], &ip)) {
        *error = xasprintf("\"%s\": expected 'to IP'%s after the %s", spec,
                           src && i == 2 ? " or 'arp IP'" : "",
                           src ? (i == 2 ? "ENI" : "source") : "source");
        goto out;
    }
    const char *dip = words[i + 1];
    const char *proto = "icmp";
    int dport = -1, sport = -1, type = 8, ttl = 64, nw_proto = -1;
    for (i += 2; i < n; i++) {
        static const struct {
            const char *word;
            int max;
            const char *what;
        } numbers[] = {
            { "dport", 65535, "a port number" },
            { "sport", 65535, "a port number" },
            { "type", 255, "an ICMP type" },
            { "ttl", 255, "a TTL" },
            { "proto", 255, "an IP protocol number" },
        };
        int *targets[] = { &dport, &sport, &type, &ttl, &nw_proto };
        size_t k;

        if (!strcmp(words[i], "tcp") || !strcmp(words[i], "udp")
            || !strcmp(words[i], "icmp")) {
            proto = words[i];
            continue;
        }
        for (k = 0; k < ARRAY_SIZE(numbers); k++) {
            if (!strcmp(words[i], numbers[k].word)) {
                break;
            }
        }
        if (k == ARRAY_SIZE(numbers)) {
            *error = xasprintf("\"%s\": unexpected \"%s\"", spec, words[i]);
            goto out;
        }
        if (i + 1 >= n) {
            *error = xasprintf("\"%s\": %s needs %s (0..%d)", spec,
                               words[i], numbers[k].what, numbers[k].max);
            goto out;
        }
        i++;
        *targets[k] = pl_trace_parse_number(words[i], numbers[k].max);
        if (*targets[k] < 0) {
            *error = xasprintf("\"%s\": %s \"%s\": not %s: a decimal "
                               "number 0..%d", spec, words[i - 1], words[i],
                               numbers[k].what, numbers[k].max);
            goto out;
        }
        if (targets[k] == &nw_proto) {
            proto = "ip";
        }
    }
    if ((dport >= 0 || sport >= 0) && strcmp(proto, "tcp")
        && strcmp(proto, "udp")) {
        *error = xasprintf("\"%s\": dport and sport need tcp or udp", spec);
        goto out;
    }
    ds_put_format(&ds, ",%s,nw_src=%s,nw_dst=%s,nw_ttl=%d", proto, sip, dip,
                  ttl);
    if (nw_proto >= 0) {
        ds_put_format(&ds, ",nw_proto=%d", nw_proto);
    } else if (!strcmp(proto, "icmp")) {
        ds_put_format(&ds, ",icmp_type=%d,icmp_code=0", type);
    } else {
        /* "tp_src" means tcp_src to OVS's flow parser: name the field. */
        ds_put_format(&ds, ",%s_src=%d,%s_dst=%d", proto,
                      sport >= 0 ? sport : 40000, proto,
                      dport >= 0 ? dport : 80);
    }
out:
    free(copy);
    if (*error) {
        ds_destroy(&ds);
        return NULL;
    }
    return ds_steal_cstr(&ds);
}

bool
pl_trace_split_vlans(const char *flow, char **plain, int *s_tag, int *c_tag)
{
    const char *s = strstr(flow, ",dl_vlan=");
    const char *c = strstr(flow, ",dl_vlan1=");
    if (!s || !c || c < s) {
        return false;
    }
    *s_tag = atoi(s + 9);
    *c_tag = atoi(c + 10);
    /* Both are written together, "dl_vlan=S,dl_vlan1=C," by
     * pl_trace_microflow(): cut them out. */
    const char *after = strchr(c + 1, ',');
    *plain = xasprintf("%.*s%s", (int) (s - flow), flow, after ? after : "");
    return true;
}

char *
pl_trace_ct_args(const char *state, char **args)
{
    static const char *const flags[] = { "new", "est", "rel", "rpl", "inv" };
    char *copy = xstrdup(state ? state : "new"), *save = NULL;
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&ds, "trk");
    *args = NULL;
    for (char *w = strtok_r(copy, ",", &save); w;
         w = strtok_r(NULL, ",", &save)) {
        size_t k;
        for (k = 0; k < ARRAY_SIZE(flags); k++) {
            if (!strcmp(w, flags[k])) {
                break;
            }
        }
        if (k == ARRAY_SIZE(flags)) {
            char *e = xasprintf("--ct-state=%s: \"%s\": expected a comma-"
                                "separated list of new, est, rel, rpl, inv",
                                state, w);
            free(copy);
            ds_destroy(&ds);
            return e;
        }
        ds_put_format(&ds, ",%s", w);
    }
    free(copy);
    if (ds.length == 3) {
        ds_destroy(&ds);
        return xasprintf("--ct-state=%s: expected at least one of new, est, "
                         "rel, rpl, inv", state ? state : "");
    }
    *args = ds_steal_cstr(&ds);
    return NULL;
}

void
pl_trace_result_destroy(struct pl_trace_result *tr)
{
    free(tr->dp_actions);
    free(tr->tun_id);
    free(tr->tun_dst);
    free(tr->final_flow);
    free(tr->steps);
}

void
pl_trace_annotate(const char *out, const struct pl_flows *flows,
                  struct ds *ds, struct pl_trace_result *tr)
{
    char *copy = xstrdup(out), *save = NULL;
    bool after_table = false;

    memset(tr, 0, sizeof *tr);
    tr->out_port = -1;
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        int table, indent = strspn(line, " ");
        const char *body = line + indent;
        const char *cookie = strstr(line, ", cookie 0x");
        if (sscanf(body, "%d.", &table) == 1
            && (cookie || strstr(line, "No match"))) {
            int s = pl_stage_by_table(table);
            tr->last_stage = s >= 0 ? pl_stage_label(s) : "?";
            tr->last_ref = cookie ? pl_flows_ref(flows, strtoull(cookie + 9,
                                                                 NULL, 16))
                                  : NULL;
            tr->steps = xrealloc(tr->steps,
                                 (tr->n_steps + 1) * sizeof *tr->steps);
            tr->steps[tr->n_steps++] = (struct pl_trace_step) {
                .table = table, .stage = tr->last_stage,
                .ref = tr->last_ref,
                .no_match = strstr(line, "No match") != NULL,
            };
            ds_put_format(ds, "%*s[%s] %s%s%s\n", indent, "",
                          tr->last_stage, body,
                          tr->last_ref ? "   <- " : "",
                          tr->last_ref ? tr->last_ref : "");
            after_table = true;
            tr->dropped = strstr(line, "No match") != NULL;
            continue;
        }
        if (after_table) {
            tr->dropped = tr->dropped || !strcmp(body, "drop");
            after_table = false;
        }
        char **dst = (!strncmp(body, "set_field:", 10)
                      ? (strstr(body, "->tun_id") ? &tr->tun_id
                         : strstr(body, "->tun_dst") ? &tr->tun_dst : NULL)
                      : NULL);
        if (dst) {
            free(*dst);
            *dst = xmemdup0(body + 10, strstr(body, "->") - body - 10);
        } else if (strstr(body, "native tunnel routing failed")) {
            tr->tunnel_failed = true;
        } else if (!strncmp(body, "output:", 7)) {
            tr->out_port = atoi(body + 7);
        } else if (!strncmp(body, "Final flow: ", 12)) {
            free(tr->final_flow);
            tr->final_flow = xstrdup(body + 12);
        } else if (!strncmp(body, "Datapath actions: ", 18)) {
            free(tr->dp_actions);
            tr->dp_actions = xstrdup(body + 18);
            tr->vpc_verify |= strstr(body, "vpc_verify") != NULL;
            tr->un_nat |= (strstr(body, ",nat)") || strstr(body, ",nat,")
                           || strstr(body, "(nat)")
                           || strstr(body, "(nat,"));
        }
        ds_put_format(ds, "%s\n", line);
    }
    free(copy);
}

/* The ENI the mapping cache of host 'cfg' resolves (VNI, 'ip') to. */
static const struct vpc_eni *
cache_lookup(const struct vpc_region *r, const struct pl_host_config *cfg,
             uint32_t vni, uint32_t ip)
{
    struct pl_mapping_entry *entries;
    size_t n;
    const struct vpc_eni *eni = NULL;
    char *error = pl_mapping_entries(r, cfg, &entries, &n);
    for (size_t i = 0; !error && i < n && !eni; i++) {
        if (entries[i].vni == vni && entries[i].ip == ip) {
            for (size_t k = 0; k < r->n_enis && !eni; k++) {
                if (r->enis[k].ip == ip && r->enis[k].subnet->vpc->vni
                    == vni) {
                    eni = &r->enis[k];
                }
            }
        }
    }
    free(error);
    free(entries);
    return eni;
}

const char *
pl_verdict_kind_name(enum pl_verdict_kind kind)
{
    switch (kind) {
    case PL_VERDICT_UNKNOWN: return "UNKNOWN";
    case PL_VERDICT_DROPPED: return "DROPPED";
    case PL_VERDICT_FORWARDED: return "FORWARDED";
    case PL_VERDICT_ENCAPSULATED: return "ENCAPSULATED";
    case PL_VERDICT_LOOPBACK: return "LOOPBACK";
    case PL_VERDICT_TO_VPCD: return "TO VPCD";
    }
    OVS_NOT_REACHED();
}

/* The IPv4 destination of microflow 'flow' (0 if none), and its text in
 * 'buf'. */
static uint32_t
flow_nw_dst(const char *flow, char buf[16])
{
    const char *to = strstr(flow, ",nw_dst=");
    uint32_t ip = 0;
    buf[0] = '\0';
    if (to) {
        ovs_strlcpy(buf, to + 8, MIN(16, strcspn(to + 8, ",") + 1));
        vpc_ip_parse(buf, &ip);
    }
    return ip;
}

/* vpc_encap(vni=V, ...) in the datapath actions: the mapping cache decides
 * per packet.  Resolves it the way the datapath will. */
static void
vpc_encap_verdict(const struct vpc_region *r,
                  const struct pl_host_config *cfg, const char *flow,
                  const char *vpc_encap, struct pl_trace_verdict *v)
{
    const struct vpc_host *self = vpc_region_find_host(r, cfg->host_id);
    uint32_t vni = strtoul(vpc_encap + 14, NULL, 10);
    char ipbuf[16];
    uint32_t ip = flow_nw_dst(flow, ipbuf);
    const struct vpc_eni *e = cache_lookup(r, cfg, vni, ip);
    if (!e) {
        v->kind = PL_VERDICT_DROPPED;
        v->ref = "the mapping cache";
        v->note = xasprintf("vpc_encap: no mapping for VNI %"PRIu32" %s: "
                            "the datapath drops it", vni, ipbuf);
    } else if (e->host != self) {
        v->kind = PL_VERDICT_ENCAPSULATED;
        v->dst = vpc_ip_to_string(e->host->underlay_ip);
        v->vni = vni;
        v->ref = e->id;
        v->eni = e;
    } else {
        /* A local ENI: the datapath loops the packet back in as tunnel
         * traffic from this host.  The caller follows it. */
        char *hip = vpc_ip_to_string(self->underlay_ip);
        struct eth_addr rmac = pl_router_mac(e->subnet->vpc);
        const char *l3 = strstr(flow, ",dl_dst=");
        l3 = l3 ? strchr(l3 + 1, ',') : "";
        v->kind = PL_VERDICT_LOOPBACK;
        v->loopback_flow = xasprintf(
            "in_port=%d,tun_id=%"PRIu32",tun_src=%s,tun_dst=%s,"
            "dl_src="ETH_ADDR_FMT",dl_dst="ETH_ADDR_FMT"%s",
            cfg->tunnel_ofport, vni, hip, hip, ETH_ADDR_ARGS(rmac),
            ETH_ADDR_ARGS(e->mac), l3 ? l3 : "");
        v->note = xasprintf("vpc_encap: %s is on this host; the datapath "
                            "loops the packet back in as tunnel traffic:",
                            e->id);
        free(hip);
    }
}

/* True if datapath actions 'a' are only flow samples (userspace actions
 * with flow_sample cookies, for IPFIX): the packet is dropped, sampled for
 * a flow log (docs/flow-logs.md). */
static bool
only_flow_samples(const char *a)
{
    static const char prefix[] = "userspace(pid=";
    bool any = false;
    while (*a) {
        if (strncmp(a, prefix, strlen(prefix))) {
            return false;
        }
        /* Skip to the matching parenthesis. */
        int depth = 0;
        const char *p = a;
        bool sample = false;
        for (; *p; p++) {
            if (*p == '(') {
                depth++;
            } else if (*p == ')' && !--depth) {
                break;
            }
            sample |= !strncmp(p, "flow_sample(", 12);
        }
        if (!*p || !sample) {
            return false;
        }
        any = true;
        a = p + 1;
        a += *a == ',';
    }
    return any;
}

/* The value of field 'name' ("tun_src") of microflow 'flow' in 'buf', or
 * false if it has none. */
static bool
flow_get(const char *flow, const char *name, char buf[32])
{
    size_t len = strlen(name);
    for (const char *p = flow; p && *p; p = strchr(p, ',')) {
        p += *p == ',';
        if (!strncmp(p, name, len) && p[len] == '=') {
            ovs_strlcpy(buf, p + len + 1,
                        MIN(32, strcspn(p + len + 1, ",") + 1));
            return true;
        }
    }
    return false;
}

/* vpc_verify in the datapath actions: the packet passes only if the
 * mapping cache maps (VNI, inner source) to the tunnel's outer source
 * (docs/ovs-ext.md).  Returns NULL if it passes, else why not. */
static char *
vpc_verify_fails(const struct vpc_region *r, const struct pl_host_config *cfg,
                 const char *flow)
{
    char id[32], outer[32], inner[32];
    uint32_t src, osrc;
    if (!flow_get(flow, "tun_id", id) || !flow_get(flow, "tun_src", outer)
        || !flow_get(flow, "nw_src", inner) || !vpc_ip_parse(inner, &src)
        || !vpc_ip_parse(outer, &osrc)) {
        return xstrdup("vpc_verify: not tunnel IPv4 traffic: the datapath "
                       "drops it");
    }
    uint32_t vni = strtoul(id, NULL, 0);
    struct pl_mapping_entry *entries;
    size_t n;
    char *error = pl_mapping_entries(r, cfg, &entries, &n);
    char *why = NULL;
    if (error) {
        why = xasprintf("vpc_verify: no mapping cache (%s)", error);
        free(error);
        return why;
    }
    size_t i;
    for (i = 0; i < n; i++) {
        if (entries[i].vni == vni && entries[i].ip == src) {
            break;
        }
    }
    if (i == n) {
        why = xasprintf("vpc_verify: no mapping for VNI %"PRIu32" %s: the "
                        "datapath drops it as spoofed", vni, inner);
    } else if (entries[i].underlay != osrc) {
        char ul[16];
        vpc_ip_format(entries[i].underlay, ul);
        why = xasprintf("vpc_verify: VNI %"PRIu32" %s is on %s, not on the "
                        "tunnel's outer source %s: the datapath drops it as "
                        "spoofed", vni, inner, ul, outer);
    }
    free(entries);
    return why;
}

void
pl_trace_verdict(const struct vpc_region *r,
                 const struct pl_host_config *cfg, const char *flow,
                 const struct pl_trace_result *tr, bool after_loopback,
                 struct pl_trace_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->stage = tr->last_stage ? tr->last_stage : "?";
    v->ref = tr->last_ref;
    const char *vpc_encap = (tr->dp_actions
                             ? strstr(tr->dp_actions, "vpc_encap(vni=")
                             : NULL);
    bool drop = (!tr->dp_actions || tr->dropped
                 || !strcmp(tr->dp_actions, "drop")
                 || only_flow_samples(tr->dp_actions));
    char *spoofed = (!drop && tr->vpc_verify
                     ? vpc_verify_fails(r, cfg, flow) : NULL);
    if (spoofed) {
        v->kind = PL_VERDICT_DROPPED;
        v->stage = pl_stage_label(PL_RX_VERIFY);
        v->ref = "the mapping cache";
        v->note = spoofed;
    } else if (after_loopback) {
        v->kind = drop ? PL_VERDICT_DROPPED : PL_VERDICT_FORWARDED;
    } else if (!tr->dp_actions) {
        v->kind = PL_VERDICT_UNKNOWN;
    } else if (drop) {
        v->kind = PL_VERDICT_DROPPED;
    } else if (strstr(tr->dp_actions, "controller(")) {
        /* Stage services sends it to vpcd (daemon/pinctrl.c). */
        const char *svc = (strstr(flow, "udp_dst=67") || strstr(flow,
                                                               "tp_dst=67")
                           ? "dhcp"
                           : strstr(flow, "udp_dst=53")
                             || strstr(flow, "tp_dst=53") ? "dns"
                           : "packet-in");
        v->kind = PL_VERDICT_TO_VPCD;
        v->note = xasprintf("to vpcd: %s (a packet-in, answered by vpcd's "
                            "packet-out to the port it came from)", svc);
    } else if (vpc_encap) {
        vpc_encap_verdict(r, cfg, flow, vpc_encap, v);
    } else if (tr->tunnel_failed && tr->tun_dst) {
        v->kind = PL_VERDICT_DROPPED;
        v->note = xasprintf("no underlay route or neighbor toward %s: the "
                            "switch cannot encapsulate", tr->tun_dst);
    } else if (tr->tun_dst && strstr(tr->dp_actions, "tnl_push")) {
        v->kind = PL_VERDICT_ENCAPSULATED;
        v->dst = xstrdup(tr->tun_dst);
        v->vni = strtoul(tr->tun_id ? tr->tun_id : "0", NULL, 0);
    } else {
        v->kind = PL_VERDICT_FORWARDED;
    }
}

void
pl_trace_verdict_destroy(struct pl_trace_verdict *v)
{
    free(v->dst);
    free(v->note);
    free(v->loopback_flow);
}

/* Appends to 'ds' the inner packet fields of ofproto/trace's "Final flow:"
 * 'final' that a receiver sees: the protocol, Ethernet and IP addresses,
 * TOS, TTL and L4 ports (named for their protocol, as the microflow
 * parser needs), without registers, metadata, tunnel or in_port. */
static void
put_inner_fields(struct ds *ds, const char *final,
                 const struct eth_addr *dl_dst)
{
    static const char *const keep[] = {
        "dl_src", "dl_dst", "nw_src", "nw_dst", "nw_tos", "nw_ttl",
        "nw_proto", "icmp_type", "icmp_code", "tp_src", "tp_dst",
        "arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha",
    };
    char *copy = xstrdup(final), *save = NULL;
    const char *proto = NULL;
    for (char *w = strtok_r(copy, ",", &save); w;
         w = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(w, '=');
        if (!eq) {
            if (!strcmp(w, "tcp") || !strcmp(w, "udp") || !strcmp(w, "icmp")
                || !strcmp(w, "ip") || !strcmp(w, "arp")) {
                proto = w;
                ds_put_format(ds, ",%s", w);
            }
            continue;
        }
        *eq = '\0';
        for (size_t k = 0; k < ARRAY_SIZE(keep); k++) {
            if (strcmp(w, keep[k])) {
                continue;
            }
            if (!strcmp(w, "dl_dst") && dl_dst) {
                ds_put_format(ds, ",dl_dst="ETH_ADDR_FMT,
                              ETH_ADDR_ARGS(*dl_dst));
            } else if (!strncmp(w, "tp_", 3)) {
                if (proto && (!strcmp(proto, "tcp")
                              || !strcmp(proto, "udp"))) {
                    ds_put_format(ds, ",%s_%s=%s", proto, w + 3, eq + 1);
                }
            } else {
                ds_put_format(ds, ",%s=%s", w, eq + 1);
            }
        }
    }
    free(copy);
}

char *
pl_trace_arrival(const char *flow, const struct pl_trace_result *tr,
                 const struct pl_trace_verdict *v, uint32_t tun_src,
                 uint32_t tun_dst, int tunnel_ofport)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    char src[16], dst[16];
    vpc_ip_format(tun_src, src);
    vpc_ip_format(tun_dst, dst);
    ds_put_format(&ds, "in_port=%d,tun_id=%"PRIu32",tun_src=%s,tun_dst=%s",
                  tunnel_ofport, v->vni, src, dst);
    /* ofproto/trace prints "Final flow: unchanged" when no action changed
     * the packet. */
    const char *final = (tr->final_flow && strcmp(tr->final_flow,
                                                  "unchanged")
                         ? tr->final_flow : flow);
    /* vpc_encap writes the destination ENI's MAC per packet, after the
     * flows (docs/ovs-ext.md). */
    put_inner_fields(&ds, final, v->eni ? &v->eni->mac : NULL);
    return ds_steal_cstr(&ds);
}
