/* translator/model.h: the validated, in-memory model of a region's intents.
 *
 * Purpose.  A region document (JSON, see docs/intents.md) is parsed and
 * validated by vpc_region_load() into a 'struct vpc_region'.  Everything
 * downstream (pipeline/, the CLI) works from this model and never looks at
 * JSON again.  References between objects (a subnet's VPC, an ENI's security
 * groups, a route's target) are resolved into pointers, so a model that
 * loaded without errors has no dangling reference.
 *
 * Ownership.  The region owns every object and every string in it; free it
 * with vpc_region_destroy().  Objects live in arrays in document order, and
 * each array is never resized after loading, so pointers into them stay
 * valid for the region's lifetime.
 *
 * Threading.  None: a region is built once and then only read. */

#ifndef VPC_MODEL_H
#define VPC_MODEL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/shash.h"
#include "openvswitch/types.h"

/* An IPv4 prefix, host byte order.  IPv6 is a later step; the 'family'
 * field keeps the model ready for it. */
struct vpc_prefix {
    uint8_t family;             /* 4 only, for now. */
    uint8_t plen;               /* 0..32 */
    uint32_t addr;              /* Network address, host bits zero. */
};

/* Highest VNI a VPC may use; VNIs above it are reserved for gateway
 * targets (PL_GW_VNI_BASE; docs/pipeline.md, "Gateway-bound traffic"). */
#define VPC_VNI_MAX 0xefffff

enum vpc_precedence {
    VPC_PREC_AWS,               /* Longest prefix; a route equal to a VPC
                                 * block (its local route) is refused. */
    VPC_PREC_AZURE,             /* User-defined > propagated > system. */
};

struct vpc_host {
    char *id;
    uint32_t underlay_ip;
    bool is_edge;               /* From "edges" rather than "hosts". */

    /* Edges only: the uplink toward the internet. */
    bool has_uplink_gateway_mac;
    struct eth_addr uplink_gateway_mac; /* Next hop for internet traffic. */
    struct eth_addr uplink_mac;         /* The edge's own, for proxy ARP. */
    uint32_t s3_ip, dynamodb_ip;        /* Underlay addresses of the
                                         * services that gateway endpoints
                                         * reach (0: none). */
};

/* A DHCP options set (AWS's CreateDhcpOptions), associated with VPCs by
 * their 'dhcp_options_id' (AssociateDhcpOptions); vpcd's DHCP server
 * (daemon/dhcp.c) gives the VPC's ENIs what it says. */
struct vpc_dhcp_options {
    char *id;
    char *domain_name;          /* NULL: the VPC's default domain. */
    uint32_t *dns;              /* 0 stands for "AmazonProvidedDNS", the
                                 * VPC's resolver (its base + 2). */
    size_t n_dns;               /* 0: AmazonProvidedDNS only. */
    uint32_t *ntp;
    size_t n_ntp;
    int lease_time;             /* Seconds; 0: vpcd's default. */
};

struct vpc_vpc {
    char *id;
    struct vpc_prefix *blocks;
    size_t n_blocks;
    uint32_t vni;
    enum vpc_precedence precedence;
    struct vpc_peering **peerings;      /* Peering connections it is in. */
    size_t n_peerings;
    struct vpc_dhcp_options *dhcp_options;      /* NULL: the defaults. */
};

struct vpc_subnet {
    char *id;
    struct vpc_vpc *vpc;
    struct vpc_prefix cidr;
    char *availability_zone;
    struct vpc_route_table *route_table;        /* May be NULL: no routes
                                                 * but the local ones. */
    struct vpc_nacl *nacl;                      /* NULL: allow all. */
};

struct vpc_eni {
    char *id;
    struct vpc_subnet *subnet;
    struct eth_addr mac;
    uint32_t ip;
    struct vpc_host *host;
    struct vpc_sg **sgs;
    size_t n_sgs;
    bool has_elastic_ip;
    uint32_t elastic_ip;
    bool source_dest_check;

    /* Instance metadata (docs/intents.md, docs/vpcd.md): the instance id
     * ("i-" and 8 or 17 hex digits; derived from the ENI id when the
     * document has none, vpc_default_instance_id()), the user data (NULL:
     * none) and AWS's metadata options. */
    char *instance_id;
    char *user_data;
    bool http_tokens_required;  /* "required": IMDSv2 only. */
    bool http_endpoint_enabled; /* "enabled" (the default). */
    char **dns_names;           /* FQDNs resolving to 'ip' in its VPC
                                 * (lower case, no final dot). */
    size_t n_dns_names;
};

/* Largest 'user_data', AWS's limit: 16 KiB. */
#define VPC_USER_DATA_MAX 16384

/* IP protocol of a security-group or network-ACL rule; -1 means all. */
#define VPC_PROTO_ALL (-1)

/* A match on protocol, ports or ICMP type/code and a peer CIDR, shared by
 * security-group and network-ACL rules. */
struct vpc_rule_match {
    int protocol;               /* IPPROTO_* or VPC_PROTO_ALL. */
    int from_port, to_port;     /* TCP/UDP only; 0..65535. */
    int icmp_type, icmp_code;   /* ICMP only; -1 = any. */
};

struct vpc_sg_rule {
    struct vpc_rule_match m;
    bool has_cidr;
    struct vpc_prefix cidr;
    struct vpc_sg *peer_sg;     /* Or a referenced group's members. */
};

struct vpc_sg {
    char *id;
    struct vpc_vpc *vpc;
    struct vpc_sg_rule *ingress, *egress;
    size_t n_ingress, n_egress;
};

struct vpc_nacl_rule {
    int rule_number;            /* 1..32766; lowest wins. */
    bool allow;
    struct vpc_rule_match m;
    struct vpc_prefix cidr;
};

struct vpc_nacl {
    char *id;
    struct vpc_vpc *vpc;
    struct vpc_nacl_rule *ingress, *egress;
    size_t n_ingress, n_egress;
};

/* What a route sends traffic to, other than a gateway: X(KIND, PREFIX,
 * DESC), with PREFIX the target's keyword or id prefix and DESC its
 * description in messages.  'enum vpc_target_kind' continues with the
 * gateway kinds. */
#define VPC_TARGET_KINDS(X)                                       \
    X(LOCAL,     "local",     "the VPC itself")                   \
    X(BLACKHOLE, "blackhole", "drop")                             \
    X(ENI,       "eni-",      "network interface (appliance)")    \
    X(PEERING,   "pcx-",      "VPC peering connection")

/* Every kind of gateway, in the order of their collections in a region
 * document and so in r->gateways: X(KIND, KEY, PREFIX, NAME, PARSE, DESC).
 *   KEY     its top-level collection;
 *   PREFIX  what its ids start with;
 *   NAME    a short name (vpcctl gateway-stats);
 *   PARSE   translator/intent.c's parser of its own keys (used only there);
 *   DESC    its description in messages.
 * A gateway kind is also a route target kind, VPC_TGT_KIND.  docs/intents.md,
 * "How to extend", lists what else a new kind needs. */
#define VPC_GATEWAY_KINDS(X)                                              \
    X(IGW,  "internet_gateways", "igw-",   "igw",  parse_igw,             \
      "internet gateway")                                                 \
    X(NAT,  "nat_gateways",      "nat-",   "nat",  parse_nat,             \
      "NAT gateway")                                                      \
    X(VGW,  "vpn_gateways",      "vgw-",   "vgw",  parse_vgw,             \
      "VPN gateway")                                                      \
    X(DX,   "direct_connect",    "dxvif-", "dx",   parse_dx,              \
      "Direct Connect virtual interface")                                 \
    X(VPCE, "vpc_endpoints",     "vpce-",  "vpce", parse_vpce,            \
      "gateway VPC endpoint")

#define VPC_TGT_ENUM_(KIND, ...) VPC_TGT_##KIND,
enum vpc_target_kind {
    VPC_TARGET_KINDS(VPC_TGT_ENUM_)
    VPC_GATEWAY_KINDS(VPC_TGT_ENUM_)
};
#undef VPC_TGT_ENUM_

/* The 'case' labels of every gateway kind, for a switch over 'enum
 * vpc_target_kind' that treats them all alike:
 *
 *     switch (rt->kind) {
 *     VPC_TGT_GATEWAY_CASES
 *         ...the route goes to rt->gateway...
 *
 * Switches that treat gateway kinds differently name each kind and have no
 * 'default', so that the compiler (-Wswitch) reports a kind they miss. */
#define VPC_TGT_CASE_(KIND, ...) case VPC_TGT_##KIND:
#define VPC_TGT_GATEWAY_CASES VPC_GATEWAY_KINDS(VPC_TGT_CASE_)

/* The 'case' labels of every other target kind, for a switch over gateway
 * kinds (gw->kind) to close with. */
#define VPC_TGT_NON_GATEWAY_CASES VPC_TARGET_KINDS(VPC_TGT_CASE_)

const char *vpc_target_kind_name(enum vpc_target_kind);
bool vpc_target_is_gateway(enum vpc_target_kind);
const char *vpc_gateway_kind_name(enum vpc_target_kind);

/* A gateway of any kind: internet, NAT, VPN, Direct Connect, endpoint.
 * Only what routing needs is modelled here; the edge issue adds the rest. */
struct vpc_gateway {
    char *id;
    enum vpc_target_kind kind;  /* IGW, NAT, VGW, DX or VPCE. */
    struct vpc_vpc *vpc;        /* The VPC it serves. */
    struct vpc_host *edge;      /* Edge host that implements it. */
    uint32_t vni;               /* Its wire VNI when this document is part
                                 * of a region (vpcd --region-db sets it
                                 * from the database's numbering), else 0:
                                 * pl_gateway_vni() numbers it by position.
                                 * The translator leaves it 0. */

    /* By kind (the edge's data plane, pipeline/edge.c). */
    uint32_t elastic_ip;        /* NAT: its public address. */
    struct vpc_subnet *subnet;  /* NAT: where it lives. */
    int s_tag, c_tag;           /* DX: 802.1ad S-tag, 802.1Q C-tag. */
    bool has_peer_mac;          /* DX: the customer router's MAC, or the */
    struct eth_addr peer_mac;   /* ...frames keep their MACs. */
    struct vpc_prefix *onprem;  /* VGW, DX: on-premises prefixes. */
    size_t n_onprem;
    uint32_t customer_gateway_ip;       /* VGW. */
    char *psk_ref;                      /* VGW. */
    char *service;                      /* VPCE: "s3" or "dynamodb". */
    struct vpc_prefix_list *prefix_list;        /* VPCE. */
    struct vpc_subnet **allowed_subnets;        /* VPCE policy; none: all. */
    size_t n_allowed_subnets;
};

enum vpc_route_origin {
    VPC_ORIGIN_SYSTEM,          /* The implicit local route. */
    VPC_ORIGIN_PROPAGATED,      /* Learned (BGP) routes. */
    VPC_ORIGIN_STATIC,          /* User-defined. */
};

struct vpc_route {
    struct vpc_prefix dst;      /* Unused if 'prefix_list' is set. */
    struct vpc_prefix_list *prefix_list;
    enum vpc_target_kind kind;
    enum vpc_route_origin origin;
    struct vpc_eni *eni;                /* VPC_TGT_ENI. */
    struct vpc_peering *peering;        /* VPC_TGT_PEERING. */
    struct vpc_gateway *gateway;        /* Gateway kinds. */
    size_t index;               /* Position in the table's "routes". */
};

struct vpc_route_table {
    char *id;
    struct vpc_vpc *vpc;
    struct vpc_route *routes;
    size_t n_routes;
};

struct vpc_peering {
    char *id;
    struct vpc_vpc *requester, *accepter;
};

struct vpc_prefix_list {
    char *id;
    char *name;
    struct vpc_prefix *cidrs;
    size_t n_cidrs;
};

/* Which traffic a flow log records, as AWS's TrafficType. */
enum vpc_flow_log_traffic {
    VPC_FL_ACCEPT = 1 << 0,     /* "ACCEPT": what security groups and
                                 * network ACLs let through. */
    VPC_FL_REJECT = 1 << 1,     /* "REJECT": what they drop. */
    VPC_FL_ALL = VPC_FL_ACCEPT | VPC_FL_REJECT,         /* "ALL". */
};

/* A flow log (AWS's CreateFlowLogs): records of the traffic of one ENI, of
 * every ENI of a subnet or of a VPC (exactly one of 'eni', 'subnet' and
 * 'vpc' is set), written by vpcd (docs/flow-logs.md). */
struct vpc_flow_log {
    char *id;
    struct vpc_eni *eni;
    struct vpc_subnet *subnet;
    struct vpc_vpc *vpc;
    enum vpc_flow_log_traffic traffic;
    int max_aggregation_interval;       /* Seconds: 60 or 600. */
};

/* Default 'max_aggregation_interval', AWS's: 10 minutes. */
#define VPC_FL_DEFAULT_INTERVAL 600

struct vpc_region;
const char *vpc_flow_log_traffic_name(enum vpc_flow_log_traffic);
/* The resource 'fl' logs, its id. */
const char *vpc_flow_log_resource_id(const struct vpc_flow_log *fl);
/* True if 'fl' records traffic of ENI 'e'. */
bool vpc_flow_log_covers(const struct vpc_flow_log *fl,
                         const struct vpc_eni *e);
/* What every flow log of 'r' together records of ENI 'e' (0: nothing). */
enum vpc_flow_log_traffic vpc_eni_flow_log_traffic(
    const struct vpc_region *r, const struct vpc_eni *e);

/* Every kind of object in a region document except gateways, in loading
 * order: X(KIND, KEY, PREFIX, TYPE, FIELD, NAME, PARSE, DESTROY).
 *   KEY      its top-level collection;
 *   PREFIX   what its ids start with ("" for free-form ids);
 *   TYPE     its struct (which starts with 'char *id'), in r->FIELD, with
 *            r->n_FIELD of them;
 *   NAME     how error messages call it;
 *   PARSE    translator/intent.c's parser of one object, DESTROY its
 *            destructor of what one object owns besides its id (both used
 *            only there).
 * Gateways follow, one collection per gateway kind (VPC_GATEWAY_KINDS), all
 * in r->gateways.  docs/intents.md, "How to extend", lists what else a new
 * kind needs. */
#define VPC_OBJECT_KINDS(X)                                                 \
    X(HOST, "hosts", "", vpc_host, hosts, "host",                           \
      parse_host, destroy_nothing)                                          \
    X(EDGE, "edges", "", vpc_host, edges, "edge",                           \
      parse_edge, destroy_nothing)                                          \
    X(PL, "prefix_lists", "pl-", vpc_prefix_list, prefix_lists,             \
      "prefix list", parse_prefix_list, destroy_prefix_list)                \
    X(DOPT, "dhcp_options", "dopt-", vpc_dhcp_options, dhcp_options,        \
      "DHCP options set", parse_dhcp_options, destroy_dhcp_options)         \
    X(VPC, "vpcs", "vpc-", vpc_vpc, vpcs, "VPC",                            \
      parse_vpc, destroy_vpc)                                               \
    X(PCX, "peering_connections", "pcx-", vpc_peering, peerings,            \
      "peering connection", parse_peering, destroy_nothing)                 \
    X(SG, "security_groups", "sg-", vpc_sg, sgs, "security group",          \
      parse_sg, destroy_sg)                                                 \
    X(NACL, "network_acls", "acl-", vpc_nacl, nacls, "network ACL",         \
      parse_nacl, destroy_nacl)                                             \
    X(RTB, "route_tables", "rtb-", vpc_route_table, route_tables,           \
      "route table", parse_route_table, destroy_route_table)                \
    X(SUBNET, "subnets", "subnet-", vpc_subnet, subnets, "subnet",          \
      parse_subnet, destroy_subnet)                                         \
    X(ENI, "enis", "eni-", vpc_eni, enis, "network interface",              \
      parse_eni, destroy_eni)                                               \
    X(FL, "flow_logs", "fl-", vpc_flow_log, flow_logs, "flow log",          \
      parse_flow_log, destroy_nothing)

#define VPC_REGION_ARRAY_(KIND, KEY, PREFIX, TYPE, FIELD, ...) \
    struct TYPE *FIELD;                                         \
    size_t n_##FIELD;

struct vpc_region {
    VPC_OBJECT_KINDS(VPC_REGION_ARRAY_)
    struct vpc_gateway *gateways;       /* Every gateway kind. */
    size_t n_gateways;

    struct shash by_id;         /* Every object id -> its object. */
};
#undef VPC_REGION_ARRAY_

/* Errors: a list of complete messages "PATH: VALUE: RULE" ('msgs', what
 * people read) and the same errors in parts ('items', what programs read:
 * vpcd's and vpc-regiond's HTTP bodies), msgs[i] and items[i] alike. */
struct vpc_error {
    char *path;                 /* "$.subnets[0].cidr". */
    char *value;                /* The value as JSON text, or NULL. */
    char *rule;                 /* "not an IPv4 prefix ...". */
};

struct vpc_errors {
    char **msgs;
    struct vpc_error *items;
    size_t n, allocated;
};

void vpc_errors_init(struct vpc_errors *);
void vpc_errors_add(struct vpc_errors *, const char *path, const char *value,
                    const char *rule_fmt, ...)
    OVS_PRINTF_FORMAT(4, 5);
/* Appends every error of 'from' to 'to' and leaves 'from' empty. */
void vpc_errors_move(struct vpc_errors *to, struct vpc_errors *from);
void vpc_errors_destroy(struct vpc_errors *);

/* The errors as a JSON array of {"path", "value", "rule", "message"}
 * objects: "value" is the offending value parsed back into JSON (null if
 * the rule names none), "message" the whole "PATH: VALUE: RULE" line. */
struct json *vpc_errors_to_json(const struct vpc_errors *);

/* Loads and validates the region in the JSON text 'string' (or file
 * 'file_name').  On success returns a new region and leaves 'errors' empty.
 * On failure returns NULL and appends every error found to 'errors'. */
/* Returns a malloc'd copy of 'ovs_error', a syntax error of OVS's JSON
 * parser ("line L, column C, byte B: MESSAGE", all 0-based), with the line
 * and column 1-based as editors show them ("line L+1, column C+1:
 * MESSAGE").  Other messages are copied unchanged. */
char *vpc_json_syntax_error(const char *ovs_error);

struct vpc_region *vpc_region_from_string(const char *string,
                                          struct vpc_errors *errors);
struct vpc_region *vpc_region_from_file(const char *file_name,
                                        struct vpc_errors *errors);
/* The same, from a parsed document, which stays the caller's. */
struct json;
struct vpc_region *vpc_region_from_json(const struct json *doc,
                                        struct vpc_errors *errors);
void vpc_region_destroy(struct vpc_region *);

/* Lookups by id; NULL if absent. */
struct vpc_host *vpc_region_find_host(const struct vpc_region *,
                                      const char *id);
struct vpc_eni *vpc_region_find_eni(const struct vpc_region *, const char *);

/* Returns the other end of 'pcx' seen from 'vpc'. */
struct vpc_vpc *vpc_peering_other(const struct vpc_peering *pcx,
                                  const struct vpc_vpc *vpc);

/* Prefix helpers. */
bool vpc_prefix_parse(const char *s, struct vpc_prefix *);
bool vpc_ip_parse(const char *s, uint32_t *ip);
bool vpc_prefix_contains(const struct vpc_prefix *, uint32_t ip);
bool vpc_prefix_overlaps(const struct vpc_prefix *, const struct vpc_prefix *);
bool vpc_prefix_within(const struct vpc_prefix *inner,
                       const struct vpc_prefix *outer);
uint32_t vpc_prefix_mask(const struct vpc_prefix *);
void vpc_prefix_format(const struct vpc_prefix *, char buf[24]);
void vpc_ip_format(uint32_t ip, char buf[16]);
/* The same, malloc'd: the caller frees it. */
char *vpc_ip_to_string(uint32_t ip);

/* Names (translator/names.c).  The default DHCP domain of 'vpc' (AWS:
 * "ec2.internal" in us-east-1, "REGION.compute.internal" elsewhere, the
 * region read from the availability zone of the VPC's first subnet that
 * has one), and the private hostname of ENI 'e' ("ip-10-0-1-5.DOMAIN").
 * Both malloc'd. */
char *vpc_default_domain(const struct vpc_region *, const struct vpc_vpc *);
/* The domain DHCP gives the ENIs of 'vpc' and its private hostnames use:
 * its DHCP options set's domain_name, else vpc_default_domain(). */
char *vpc_domain_name(const struct vpc_region *, const struct vpc_vpc *);
char *vpc_eni_hostname(const struct vpc_region *, const struct vpc_eni *);
/* The same for many: the default domain of every VPC of 'r', in r->vpcs
 * order (an array of r->n_vpcs malloc'd strings; the caller frees each
 * and the array), in one pass over the subnets; and the private hostname
 * of 'e' in 'domain', its VPC's. */
char **vpc_default_domains(const struct vpc_region *);
/* The same as vpc_default_domains() for vpc_domain_name(): a VPC's DHCP
 * options set's domain_name wins. */
char **vpc_domain_names(const struct vpc_region *);
char *vpc_eni_hostname_in(const struct vpc_eni *e, const char *domain);
char *vpc_prefix_to_string(const struct vpc_prefix *);
/* The instance id an ENI without one gets: "i-" and the first 17 hex
 * digits of the SHA-1 of its id (malloc'd). */
char *vpc_default_instance_id(const char *eni_id);

/* An ENI's "dns_names": at most this many, each at most VPC_DNS_NAME_MAX
 * characters. */
#define VPC_ENI_MAX_DNS_NAMES 16
#define VPC_DNS_NAME_MAX 253
/* Returns 's', a fully qualified DNS name (letters, digits and '-' in
 * labels of 1 to 63 characters, at least two labels, a final dot
 * optional, not under in-addr.arpa), malloc'd in lower case without a
 * final dot; or NULL with '*why' the rule it breaks. */
char *vpc_dns_name_normalize(const char *s, const char **why);

/* The virtual router's address in 'subnet' (first usable, network + 1).
 * Its MAC, like every other number the data plane gives an object, is the
 * pipeline's (pipeline.h, "Numbering"). */
uint32_t vpc_subnet_router_ip(const struct vpc_subnet *);

#endif /* translator/model.h */
