/* translator/prefix.c: IPv4 addresses, prefixes and small helpers of the
 * model that do not depend on JSON. */

#include <config.h>
#include "translator/model.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/util.h"
#include "packets.h"

bool
vpc_ip_parse(const char *s, uint32_t *ip)
{
    struct in_addr in;
    if (!s || inet_pton(AF_INET, s, &in) != 1) {
        return false;
    }
    *ip = ntohl(in.s_addr);
    return true;
}

uint32_t
vpc_prefix_mask(const struct vpc_prefix *p)
{
    return p->plen ? UINT32_MAX << (32 - p->plen) : 0;
}

/* Parses "a.b.c.d/n".  Fails if host bits are set: "10.0.0.1/16" is almost
 * always a typo for a host address, and AWS rejects it too. */
bool
vpc_prefix_parse(const char *s, struct vpc_prefix *p)
{
    char buf[32];
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || slash - s >= (int) sizeof buf || !slash[1]) {
        return false;
    }
    memcpy(buf, s, slash - s);
    buf[slash - s] = '\0';

    char *end;
    long plen = strtol(slash + 1, &end, 10);
    if (*end || plen < 0 || plen > 32 || !isdigit((unsigned char) slash[1])) {
        return false;
    }
    uint32_t addr;
    if (!vpc_ip_parse(buf, &addr)) {
        return false;
    }
    p->family = 4;
    p->plen = plen;
    p->addr = addr;
    return (addr & ~vpc_prefix_mask(p)) == 0;
}

bool
vpc_prefix_contains(const struct vpc_prefix *p, uint32_t ip)
{
    return (ip & vpc_prefix_mask(p)) == p->addr;
}

bool
vpc_prefix_overlaps(const struct vpc_prefix *a, const struct vpc_prefix *b)
{
    const struct vpc_prefix *shorter = a->plen <= b->plen ? a : b;
    const struct vpc_prefix *longer = shorter == a ? b : a;
    return vpc_prefix_contains(shorter, longer->addr);
}

bool
vpc_prefix_within(const struct vpc_prefix *inner,
                  const struct vpc_prefix *outer)
{
    return inner->plen >= outer->plen
           && vpc_prefix_contains(outer, inner->addr);
}

void
vpc_ip_format(uint32_t ip, char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u",
             ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

char *
vpc_ip_to_string(uint32_t ip)
{
    char buf[16];
    vpc_ip_format(ip, buf);
    return xstrdup(buf);
}

char *
vpc_prefix_to_string(const struct vpc_prefix *p)
{
    char buf[24];
    vpc_prefix_format(p, buf);
    return xstrdup(buf);
}

void
vpc_prefix_format(const struct vpc_prefix *p, char buf[24])
{
    char ip[16];
    vpc_ip_format(p->addr, ip);
    snprintf(buf, 24, "%s/%u", ip, p->plen);
}

uint32_t
vpc_subnet_router_ip(const struct vpc_subnet *subnet)
{
    return subnet->cidr.addr + 1;
}

const char *
vpc_target_kind_name(enum vpc_target_kind kind)
{
#define TARGET_DESC_(KIND, PREFIX, DESC) case VPC_TGT_##KIND: return DESC;
#define GATEWAY_DESC_(KIND, KEY, PREFIX, NAME, PARSE, DESC) \
    case VPC_TGT_##KIND: return DESC;
    switch (kind) {
    VPC_TARGET_KINDS(TARGET_DESC_)
    VPC_GATEWAY_KINDS(GATEWAY_DESC_)
    }
#undef TARGET_DESC_
#undef GATEWAY_DESC_
    return "?";
}

/* Whether a route to 'kind' goes to a gateway (rt->gateway). */
bool
vpc_target_is_gateway(enum vpc_target_kind kind)
{
    switch (kind) {
    VPC_TGT_GATEWAY_CASES
        return true;
    VPC_TGT_NON_GATEWAY_CASES
        return false;
    }
    return false;
}

/* The short name of gateway kind 'kind' ("igw", "nat", ...), or "?" if
 * 'kind' is not a gateway kind. */
const char *
vpc_gateway_kind_name(enum vpc_target_kind kind)
{
#define GATEWAY_NAME_(KIND, KEY, PREFIX, NAME, ...) \
    case VPC_TGT_##KIND: return NAME;
    switch (kind) {
    VPC_GATEWAY_KINDS(GATEWAY_NAME_)
    VPC_TGT_NON_GATEWAY_CASES
        break;
    }
#undef GATEWAY_NAME_
    return "?";
}
