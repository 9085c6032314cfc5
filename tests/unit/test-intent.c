/* tests/unit/test-intent.c: unit tests of the intent loader
 * (translator/intent.c, translator/check.c) and the prefix helpers
 * (translator/prefix.c).
 *
 * Documents are built from a valid base region (see "The base document"
 * below): a test replaces or extends one collection with DOC(.field = ...)
 * and checks that loading fails with a message naming the expected JSON path
 * and rule.  JSON in this file uses single quotes, which the builder turns
 * into double quotes, to keep the C strings readable. */

#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "pipeline/pipeline.h"
#include "translator/model.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "packets.h"

/* ------------------------------------------------------ the base document
 *
 * hosts:    host-1, host-2                 edges: edge-1 (the only edge)
 * vpc-a:    10.0.0.0/16, VNI 100           vpc-b: 10.1.0.0/16 + 10.2.0.0/24,
 *                                                 VNI 200
 * pcx-ab:   vpc-a <-> vpc-b
 * sg-a:     vpc-a; ingress tcp/22 from 0.0.0.0/0, all from sg-a, icmp from
 *           sg-b (peered VPC); egress all      sg-b: vpc-b, no rules
 * acl-a:    vpc-a; ingress 100 allow tcp 80-443, 200 deny all; egress 100
 *           allow all                          acl-b: vpc-b, no rules
 * rtb-a:    vpc-a; 0/0 -> igw-a, 10.1/16 -> pcx-ab, 192.168.100/24 ->
 *           blackhole                          rtb-b: vpc-b; 10.0/16 -> pcx-ab
 * subnets:  [0] subnet-a1 10.0.1.0/24 (rtb-a, acl-a), [1] subnet-a2
 *           10.0.2.0/24, [2] subnet-b1 10.1.1.0/24 (rtb-b, acl-b)
 * enis:     [0] eni-a1 10.0.1.10 on host-1 (sg-a), [1] eni-b1 10.1.1.10 on
 *           host-2 (sg-b)
 * igw-a:    vpc-a, edge implicit. */

#define HOST(ID, IP) "{'id':'" ID "','underlay_ip':'" IP "'}"
#define VPC(ID, BLOCKS, VNI) \
    "{'id':'" ID "','cidr_blocks':[" BLOCKS "],'vni':" VNI "}"
#define VPC_AZURE(ID, BLOCKS, VNI) \
    "{'id':'" ID "','cidr_blocks':[" BLOCKS "],'vni':" VNI \
    ",'route_precedence':'azure'}"
#define PCX(ID, REQ, ACC) \
    "{'id':'" ID "','requester_vpc':'" REQ "','accepter_vpc':'" ACC "'}"
#define SG(ID, VPC_ID, INGRESS) \
    "{'id':'" ID "','vpc':'" VPC_ID "','ingress':[" INGRESS "]}"
#define NACL(ID, VPC_ID, INGRESS) \
    "{'id':'" ID "','vpc':'" VPC_ID "','ingress':[" INGRESS "]}"
#define RTB(ID, VPC_ID, ROUTES) \
    "{'id':'" ID "','vpc':'" VPC_ID "','routes':[" ROUTES "]}"
#define ROUTE(DST, TARGET) "{'destination':'" DST "','target':'" TARGET "'}"
#define SUBNET(ID, VPC_ID, CIDR) \
    "{'id':'" ID "','vpc':'" VPC_ID "','cidr':'" CIDR "'}"
#define SUBNET_RT(ID, VPC_ID, CIDR, RTB_ID) \
    "{'id':'" ID "','vpc':'" VPC_ID "','cidr':'" CIDR "','route_table':'" \
    RTB_ID "'}"
#define ENI(ID, SUBNET_ID, MAC, IP, HOST_ID) \
    "{'id':'" ID "','subnet':'" SUBNET_ID "','mac':'" MAC \
    "','private_ip':'" IP "','host':'" HOST_ID "'}"
#define ENI_SG(ID, SUBNET_ID, MAC, IP, SG_ID) \
    "{'id':'" ID "','subnet':'" SUBNET_ID "','mac':'" MAC \
    "','private_ip':'" IP "','host':'host-1','security_groups':['" SG_ID "']}"
#define IGW(ID, VPC_ID) "{'id':'" ID "','vpc':'" VPC_ID "'}"

#define HOSTS HOST("host-1", "192.168.0.1") "," HOST("host-2", "192.168.0.2")
#define EDGES HOST("edge-1", "192.168.0.100")
#define VPC_A VPC("vpc-a", "'10.0.0.0/16'", "100")
#define VPC_B VPC("vpc-b", "'10.1.0.0/16','10.2.0.0/24'", "200")
#define VPCS VPC_A "," VPC_B
#define PCXS PCX("pcx-ab", "vpc-a", "vpc-b")
#define SG_A \
    "{'id':'sg-a','vpc':'vpc-a','description':'web'," \
    "'ingress':[{'protocol':'tcp','from_port':22,'to_port':22," \
    "'cidr':'0.0.0.0/0'}," \
    "{'protocol':'-1','security_group':'sg-a'}," \
    "{'protocol':'icmp','icmp_type':8,'icmp_code':0," \
    "'security_group':'sg-b'}]," \
    "'egress':[{'protocol':-1,'cidr':'0.0.0.0/0'}]}"
#define SG_B "{'id':'sg-b','vpc':'vpc-b'}"
#define SGS SG_A "," SG_B
#define ACL_A \
    "{'id':'acl-a','vpc':'vpc-a'," \
    "'ingress':[{'rule_number':100,'action':'allow','protocol':'tcp'," \
    "'from_port':80,'to_port':443,'cidr':'0.0.0.0/0'}," \
    "{'rule_number':200,'action':'deny','protocol':'all'," \
    "'cidr':'0.0.0.0/0'}]," \
    "'egress':[{'rule_number':100,'action':'allow','protocol':'-1'," \
    "'cidr':'0.0.0.0/0'}]}"
#define ACL_B "{'id':'acl-b','vpc':'vpc-b'}"
#define NACLS ACL_A "," ACL_B
#define RTB_A \
    RTB("rtb-a", "vpc-a", ROUTE("0.0.0.0/0", "igw-a") "," \
        ROUTE("10.1.0.0/16", "pcx-ab") "," \
        ROUTE("192.168.100.0/24", "blackhole"))
#define RTB_B RTB("rtb-b", "vpc-b", ROUTE("10.0.0.0/16", "pcx-ab"))
#define RTBS RTB_A "," RTB_B
#define SUBNET_A1 \
    "{'id':'subnet-a1','vpc':'vpc-a','cidr':'10.0.1.0/24'," \
    "'availability_zone':'az1','route_table':'rtb-a','network_acl':'acl-a'}"
#define SUBNET_A2 SUBNET("subnet-a2", "vpc-a", "10.0.2.0/24")
#define SUBNET_B1 \
    "{'id':'subnet-b1','vpc':'vpc-b','cidr':'10.1.1.0/24'," \
    "'route_table':'rtb-b','network_acl':'acl-b'}"
#define SUBNETS SUBNET_A1 "," SUBNET_A2 "," SUBNET_B1
#define ENI_A1 \
    ENI_SG("eni-a1", "subnet-a1", "02:00:00:00:00:01", "10.0.1.10", "sg-a")
#define ENI_B1 \
    "{'id':'eni-b1','subnet':'subnet-b1','mac':'02:00:00:00:00:02'," \
    "'private_ip':'10.1.1.10','host':'host-2','security_groups':['sg-b']," \
    "'source_dest_check':false,'elastic_ip':'203.0.113.7'}"
#define ENIS ENI_A1 "," ENI_B1
/* Both VPCs have an internet gateway: eni-b1 has an elastic IP. */
#define IGWS IGW("igw-a", "vpc-a") "," IGW("igw-b", "vpc-b")

/* Each field is the contents of one top-level array; NULL means the base
 * document's contents.  A field starting with '!' is emitted as the raw
 * value instead of inside [ ], to test wrongly typed collections.  'extra'
 * is appended raw inside the top-level object ("'key':value,..."). */
struct parts {
    const char *hosts, *edges, *vpcs, *pcxs, *sgs, *nacls, *rtbs, *subnets,
        *enis, *igws, *extra;
};

static char doc_buf[65536];

static void
put_collection(size_t *len, const char *key, const char *value,
               const char *dflt)
{
    const char *v = value ? value : dflt;
    const char *fmt = v[0] == '!' ? "%s'%s':%s" : "%s'%s':[%s]";
    *len += snprintf(doc_buf + *len, sizeof doc_buf - *len, fmt,
                     *len > 1 ? "," : "", key, v[0] == '!' ? v + 1 : v);
    assert_true(*len < sizeof doc_buf);
}

/* Turns single quotes into double quotes in 'doc_buf'. */
static const char *
requote(void)
{
    for (char *p = doc_buf; *p; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }
    return doc_buf;
}

static const char *
build_doc(const struct parts *p)
{
    size_t len = snprintf(doc_buf, sizeof doc_buf, "{");
    put_collection(&len, "hosts", p->hosts, HOSTS);
    put_collection(&len, "edges", p->edges, EDGES);
    put_collection(&len, "vpcs", p->vpcs, VPCS);
    put_collection(&len, "peering_connections", p->pcxs, PCXS);
    put_collection(&len, "security_groups", p->sgs, SGS);
    put_collection(&len, "network_acls", p->nacls, NACLS);
    put_collection(&len, "route_tables", p->rtbs, RTBS);
    put_collection(&len, "subnets", p->subnets, SUBNETS);
    put_collection(&len, "enis", p->enis, ENIS);
    put_collection(&len, "internet_gateways", p->igws, IGWS);
    if (p->extra) {
        len += snprintf(doc_buf + len, sizeof doc_buf - len, ",%s",
                        p->extra);
    }
    len += snprintf(doc_buf + len, sizeof doc_buf - len, "}");
    assert_true(len < sizeof doc_buf);
    return requote();
}

/* A document in single-quoted JSON, taken as is. */
static const char *
raw_doc(const char *s)
{
    assert_true(strlen(s) < sizeof doc_buf);
    strcpy(doc_buf, s);
    return requote();
}

#define DOC(...) build_doc(&(struct parts) { __VA_ARGS__ })

static void
print_errors(const char *json, const struct vpc_errors *errs)
{
    print_error("document: %s\n", json);
    print_error("%zu error(s):\n", errs->n);
    for (size_t i = 0; i < errs->n; i++) {
        print_error("  %s\n", errs->msgs[i]);
    }
}

static bool
has_error(const struct vpc_errors *errs, const char *path, const char *rule)
{
    for (size_t i = 0; i < errs->n; i++) {
        if (strstr(errs->msgs[i], path) && strstr(errs->msgs[i], rule)) {
            return true;
        }
    }
    return false;
}

/* Loads 'json', which must fail with a message that contains both 'path'
 * and 'rule'.  Returns the number of messages. */
static size_t
assert_error_at(const char *json, const char *path, const char *rule,
                const char *file, int line)
{
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_region *r = vpc_region_from_string(json, &errs);
    size_t n = errs.n;
    if (r) {
        print_error("expected an error with \"%s\" and \"%s\", but the "
                    "document loaded: %s\n", path, rule, json);
        vpc_region_destroy(r);
        vpc_errors_destroy(&errs);
        _fail(file, line);
    } else if (!has_error(&errs, path, rule)) {
        print_error("expected an error with \"%s\" and \"%s\"\n", path,
                    rule);
        print_errors(json, &errs);
        vpc_errors_destroy(&errs);
        _fail(file, line);
    }
    vpc_errors_destroy(&errs);
    return n;
}
#define assert_error(JSON, PATH, RULE) \
    assert_error_at(JSON, PATH, RULE, __FILE__, __LINE__)

/* Loads 'json', which must succeed; the caller destroys the region. */
static struct vpc_region *
load_ok_at(const char *json, const char *file, int line)
{
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    struct vpc_region *r = vpc_region_from_string(json, &errs);
    if (!r || errs.n) {
        print_error("expected the document to load\n");
        print_errors(json, &errs);
        vpc_errors_destroy(&errs);
        vpc_region_destroy(r);
        _fail(file, line);
    }
    vpc_errors_destroy(&errs);
    return r;
}
#define load_ok(JSON) load_ok_at(JSON, __FILE__, __LINE__)
#define assert_loads(JSON) vpc_region_destroy(load_ok(JSON))

/* ---------------------------------------------------------- valid input */

static void
test_valid_base(void **state)
{
    struct vpc_region *r = load_ok(DOC(0));
    assert_int_equal(r->n_hosts, 2);
    assert_int_equal(r->n_edges, 1);
    assert_int_equal(r->n_vpcs, 2);
    assert_int_equal(r->n_subnets, 3);
    assert_int_equal(r->n_enis, 2);
    assert_int_equal(r->n_sgs, 2);
    assert_int_equal(r->n_nacls, 2);
    assert_int_equal(r->n_route_tables, 2);
    assert_int_equal(r->n_peerings, 1);
    assert_int_equal(r->n_gateways, 2);

    struct vpc_vpc *a = &r->vpcs[0], *b = &r->vpcs[1];
    assert_string_equal(a->id, "vpc-a");
    assert_int_equal(a->vni, 100);
    assert_int_equal(a->precedence, VPC_PREC_AWS);
    assert_int_equal(b->n_blocks, 2);
    assert_int_equal(b->blocks[1].addr, 0x0a020000);
    assert_int_equal(b->blocks[1].plen, 24);

    /* Subnets. */
    struct vpc_subnet *a1 = &r->subnets[0], *a2 = &r->subnets[1];
    assert_ptr_equal(a1->vpc, a);
    assert_ptr_equal(a2->vpc, a);
    assert_ptr_equal(r->subnets[2].vpc, b);
    assert_int_equal(a1->cidr.addr, 0x0a000100);
    assert_int_equal(a1->cidr.plen, 24);
    assert_string_equal(a1->availability_zone, "az1");
    assert_string_equal(a2->availability_zone, "");
    assert_ptr_equal(a1->route_table, &r->route_tables[0]);
    assert_ptr_equal(a1->nacl, &r->nacls[0]);
    assert_null(a2->route_table);
    assert_null(a2->nacl);
    assert_ptr_equal(r->subnets[2].route_table, &r->route_tables[1]);

    /* ENIs. */
    struct vpc_eni *e = &r->enis[0], *eb = &r->enis[1];
    assert_ptr_equal(e->subnet, a1);
    assert_ptr_equal(e->host, &r->hosts[0]);
    assert_ptr_equal(eb->host, &r->hosts[1]);
    assert_int_equal(e->ip, 0x0a00010a);
    assert_int_equal(e->n_sgs, 1);
    assert_ptr_equal(e->sgs[0], &r->sgs[0]);
    assert_ptr_equal(eb->sgs[0], &r->sgs[1]);
    assert_true(e->source_dest_check);
    assert_false(eb->source_dest_check);
    assert_false(e->has_elastic_ip);
    assert_true(eb->has_elastic_ip);
    assert_int_equal(eb->elastic_ip, 0xcb007107);
    struct eth_addr mac = { .ea = { 2, 0, 0, 0, 0, 1 } };
    assert_memory_equal(&e->mac, &mac, sizeof mac);

    /* Lookups. */
    assert_ptr_equal(vpc_region_find_eni(r, "eni-b1"), eb);
    assert_null(vpc_region_find_eni(r, "eni-zz"));
    assert_null(vpc_region_find_eni(r, "vpc-a"));
    assert_ptr_equal(vpc_region_find_host(r, "host-2"), &r->hosts[1]);
    assert_ptr_equal(vpc_region_find_host(r, "edge-1"), &r->edges[0]);
    assert_true(r->edges[0].is_edge);
    assert_false(r->hosts[0].is_edge);
    assert_int_equal(r->edges[0].underlay_ip, 0xc0a80064);
    assert_non_null(shash_find(&r->by_id, "subnet-b1"));

    vpc_region_destroy(r);
}

static void
test_valid_rules_and_routes(void **state)
{
    struct vpc_region *r = load_ok(DOC(0));
    struct vpc_vpc *a = &r->vpcs[0], *b = &r->vpcs[1];

    /* Security groups. */
    const struct vpc_sg *sg = &r->sgs[0];
    assert_ptr_equal(sg->vpc, a);
    assert_int_equal(sg->n_ingress, 3);
    assert_int_equal(sg->n_egress, 1);
    assert_int_equal(sg->ingress[0].m.protocol, 6);
    assert_int_equal(sg->ingress[0].m.from_port, 22);
    assert_int_equal(sg->ingress[0].m.to_port, 22);
    assert_true(sg->ingress[0].has_cidr);
    assert_int_equal(sg->ingress[0].cidr.plen, 0);
    assert_int_equal(sg->ingress[1].m.protocol, VPC_PROTO_ALL);
    assert_ptr_equal(sg->ingress[1].peer_sg, sg);
    assert_false(sg->ingress[1].has_cidr);
    assert_int_equal(sg->ingress[2].m.protocol, 1);
    assert_int_equal(sg->ingress[2].m.icmp_type, 8);
    assert_int_equal(sg->ingress[2].m.icmp_code, 0);
    assert_ptr_equal(sg->ingress[2].peer_sg, &r->sgs[1]);
    assert_int_equal(sg->egress[0].m.protocol, VPC_PROTO_ALL);

    /* Network ACLs. */
    const struct vpc_nacl *acl = &r->nacls[0];
    assert_ptr_equal(acl->vpc, a);
    assert_int_equal(acl->n_ingress, 2);
    assert_int_equal(acl->n_egress, 1);
    assert_int_equal(acl->ingress[0].rule_number, 100);
    assert_true(acl->ingress[0].allow);
    assert_int_equal(acl->ingress[0].m.from_port, 80);
    assert_int_equal(acl->ingress[0].m.to_port, 443);
    assert_int_equal(acl->ingress[1].rule_number, 200);
    assert_false(acl->ingress[1].allow);
    assert_int_equal(acl->ingress[1].m.protocol, VPC_PROTO_ALL);

    /* Routes. */
    const struct vpc_route_table *rtb = &r->route_tables[0];
    assert_ptr_equal(rtb->vpc, a);
    assert_int_equal(rtb->n_routes, 3);
    assert_int_equal(rtb->routes[0].kind, VPC_TGT_IGW);
    assert_ptr_equal(rtb->routes[0].gateway, &r->gateways[0]);
    assert_int_equal(rtb->routes[0].origin, VPC_ORIGIN_STATIC);
    assert_int_equal(rtb->routes[1].kind, VPC_TGT_PEERING);
    assert_ptr_equal(rtb->routes[1].peering, &r->peerings[0]);
    assert_int_equal(rtb->routes[1].dst.addr, 0x0a010000);
    assert_int_equal(rtb->routes[2].kind, VPC_TGT_BLACKHOLE);
    assert_int_equal(rtb->routes[2].index, 2);

    /* Peering, indexed on both VPCs. */
    const struct vpc_peering *pcx = &r->peerings[0];
    assert_ptr_equal(pcx->requester, a);
    assert_ptr_equal(pcx->accepter, b);
    assert_int_equal(a->n_peerings, 1);
    assert_int_equal(b->n_peerings, 1);
    assert_ptr_equal(a->peerings[0], pcx);
    assert_ptr_equal(b->peerings[0], pcx);
    assert_ptr_equal(vpc_peering_other(pcx, a), b);
    assert_ptr_equal(vpc_peering_other(pcx, b), a);

    /* Gateway: implicit single edge and a reserved VNI. */
    const struct vpc_gateway *gw = &r->gateways[0];
    assert_string_equal(gw->id, "igw-a");
    assert_int_equal(gw->kind, VPC_TGT_IGW);
    assert_ptr_equal(gw->vpc, a);
    assert_ptr_equal(gw->edge, &r->edges[0]);
    assert_int_equal(pl_gateway_vni(r, gw), PL_GW_VNI_BASE);

    vpc_region_destroy(r);
}

/* Every kind of gateway, an ENI route target, a prefix-list route and a
 * propagated route. */
static void
test_valid_gateways(void **state)
{
    struct vpc_region *r = load_ok(DOC(
        .rtbs = RTB("rtb-a", "vpc-a",
                    ROUTE("0.0.0.0/0", "nat-a") ","
                    ROUTE("172.16.0.0/12", "vgw-a") ","
                    ROUTE("172.17.0.0/16", "dxvif-a") ","
                    ROUTE("192.168.1.0/24", "eni-a1") ","
                    "{'destination':'172.16.0.0/12','target':'vgw-a',"
                    "'origin':'propagated'},"
                    "{'destination_prefix_list':'pl-s3','target':'vpce-a'}")
                "," RTB_B,
        .extra = "'prefix_lists':[{'id':'pl-s3','name':'s3',"
                 "'cidrs':['52.216.0.0/15']}],"
                 "'nat_gateways':[{'id':'nat-a','subnet':'subnet-a2',"
                 "'elastic_ip':'203.0.113.1'}],"
                 "'vpn_gateways':[{'id':'vgw-a','vpc':'vpc-a',"
                 "'customer_gateway_ip':'198.51.100.1',"
                 "'onprem_prefixes':['172.16.0.0/12'],'psk_ref':'k'}],"
                 "'direct_connect':[{'id':'dxvif-a','vpc':'vpc-a',"
                 "'s_tag':100,'c_tag':200,"
                 "'onprem_prefixes':['172.16.0.0/12'],'edge':'edge-1'}],"
                 "'vpc_endpoints':[{'id':'vpce-a','vpc':'vpc-a',"
                 "'service':'s3','type':'gateway','prefix_list':'pl-s3',"
                 "'allowed_subnets':['subnet-a1']}],"
                 "'description':'all gateway kinds'"));
    assert_int_equal(r->n_gateways, 6);
    assert_int_equal(r->n_prefix_lists, 1);
    const struct vpc_route *rt = r->route_tables[0].routes;
    assert_int_equal(rt[0].kind, VPC_TGT_NAT);
    assert_ptr_equal(rt[0].gateway->vpc, &r->vpcs[0]);
    assert_int_equal(rt[1].kind, VPC_TGT_VGW);
    assert_int_equal(rt[2].kind, VPC_TGT_DX);
    assert_int_equal(rt[3].kind, VPC_TGT_ENI);
    assert_ptr_equal(rt[3].eni, &r->enis[0]);
    assert_int_equal(rt[4].origin, VPC_ORIGIN_PROPAGATED);
    assert_int_equal(rt[5].kind, VPC_TGT_VPCE);
    assert_ptr_equal(rt[5].prefix_list, &r->prefix_lists[0]);
    for (size_t i = 0; i < r->n_gateways; i++) {
        assert_ptr_equal(r->gateways[i].edge, &r->edges[0]);
        assert_int_equal(pl_gateway_vni(r, &r->gateways[i]),
                         PL_GW_VNI_BASE + i);
    }
    vpc_region_destroy(r);
}

static void
test_valid_empty(void **state)
{
    struct vpc_region *r = load_ok(raw_doc("{}"));
    assert_int_equal(r->n_vpcs, 0);
    assert_int_equal(r->n_gateways, 0);
    vpc_region_destroy(r);
}

/* ----------------------------------------------------- structural errors */

static void
test_malformed_json(void **state)
{
    assert_error(raw_doc("{'hosts': [,]}"), "$", "malformed JSON");
    assert_error(raw_doc("{'hosts': [,]}"), "$", "line ");
    assert_error(raw_doc("{\n'hosts':\n  [}"), "$", "column ");

    /* Positions are 1-based, as editors show them: the comma is the 12th
     * character of line 1, the brace the 4th of line 3. */
    assert_error(raw_doc("{'hosts': [,]}"), "$",
                 "malformed JSON: line 1, column 12: syntax error");
    assert_error(raw_doc("{\n'hosts':\n  [}"), "$",
                 "malformed JSON: line 3, column 4: syntax error");
    assert_error(raw_doc(""), "$", "malformed JSON");
    assert_error(raw_doc("{} x"), "$", "malformed JSON");
}

static void
test_not_an_object(void **state)
{
    assert_error(raw_doc("[1, 2]"), "$", "must be a JSON object");
    assert_error(raw_doc("[]"), "$: []: ", "must be a JSON object");
}

static void
test_unknown_key_top(void **state)
{
    assert_error(DOC(.extra = "'subnetz':[]"), "$.subnetz", "unknown key");
}

/* A misspelled collection is one error with a suggestion: its objects are
 * still loaded under the collection meant, so the references to them do
 * not each add an error. */
static void
test_misspelled_collection(void **state)
{
    size_t n = assert_error(
        raw_doc("{'hosts':[{'id':'host-1','underlay_ip':'192.168.0.1'}],"
                "'vpcs':[{'id':'vpc-a','cidr_blocks':['10.0.0.0/16'],"
                "'vni':1}],"
                "'subnet':[{'id':'subnet-a','vpc':'vpc-a',"
                "'cidr':'10.0.1.0/24'}],"
                "'securty_groups':[{'id':'sg-a','vpc':'vpc-a'}],"
                "'enis':[" ENI_SG("eni-1", "subnet-a", "02:00:00:00:00:01",
                                  "10.0.1.10", "sg-a") ","
                ENI_SG("eni-2", "subnet-a", "02:00:00:00:00:02",
                       "10.0.1.11", "sg-a") "]}"),
        "$.subnet: ", "unknown key: did you mean \"subnets\"?");
    assert_int_equal(n, 2);
    assert_error(
        raw_doc("{'securty_groups':[{'id':'sg-a','vpc':'vpc-a'}]}"),
        "$.securty_groups: ", "did you mean \"security_groups\"?");

    /* Errors inside the misspelled collection are still reported, at
     * their real path. */
    assert_error(
        raw_doc("{'vpcs':[{'id':'vpc-a','cidr_blocks':['10.0.0.0/16'],"
                "'vni':1}],'subnet':[{'id':'subnet-a','vpc':'vpc-a',"
                "'cidr':'10.0.1.0/33'}]}"),
        "$.subnet[0].cidr", "not an IPv4 prefix");

    /* If the collection meant is there too, the suggestion is all. */
    n = assert_error(DOC(.extra = "'vpc':[]"), "$.vpc: ",
                     "did you mean \"vpcs\"?");
    assert_int_equal(n, 1);

    /* Far from every key: no suggestion. */
    assert_error(DOC(.extra = "'colour':[]"), "$.colour: ",
                 "unknown key (allowed here");
}

static void
test_unknown_key_nested(void **state)
{
    assert_error(DOC(.vpcs = VPC_B ",{'id':'vpc-a','cidr_blocks':"
                     "['10.0.0.0/16'],'vni':100,'colour':'red'}"),
                 "$.vpcs[1].colour", "unknown key");
    assert_error(DOC(.sgs = SG("sg-a", "vpc-a", "{'protocol':'tcp',"
                               "'from_port':1,'to_port':2,'cidr':'0.0.0.0/0',"
                               "'port':3}") "," SG_B),
                 "$.security_groups[0].ingress[0].port", "unknown key");
    assert_error(DOC(.rtbs = RTB("rtb-a", "vpc-a",
                                 "{'destination':'0.0.0.0/0','target':'igw-a',"
                                 "'via':'x'}") "," RTB_B),
                 "$.route_tables[0].routes[0].via", "unknown key");
}

static void
test_wrong_types(void **state)
{
    assert_error(DOC(.vpcs = VPC("vpc-a", "'10.0.0.0/16'", "'100'") ","
                     VPC_B), "$.vpcs[0].vni", "must be an integer");
    assert_error(DOC(.vpcs = VPC("vpc-a", "'10.0.0.0/16'", "1.5") ","
                     VPC_B), "$.vpcs[0].vni", "must be an integer");
    assert_error(DOC(.vpcs = "{'id':'vpc-a','cidr_blocks':'10.0.0.0/16',"
                     "'vni':100}," VPC_B),
                 "$.vpcs[0].cidr_blocks", "must be an array");
    assert_error(DOC(.hosts = "!{}"), "$.hosts", "must be an array");
    assert_error(DOC(.hosts = "'host-1'"), "$.hosts[0]", "must be an object");
    assert_error(DOC(.subnets = SUBNET_A2 "," SUBNET_B1 ",{'id':'subnet-a1',"
                     "'vpc':['vpc-a'],'cidr':'10.0.1.0/24'}"),
                 "$.subnets[2].vpc", "must be a string");
    assert_error(DOC(.enis = ENI_A1 ",{'id':'eni-b1','subnet':'subnet-b1',"
                     "'mac':'02:00:00:00:00:02','private_ip':'10.1.1.10',"
                     "'host':'host-2','source_dest_check':'no'}"),
                 "$.enis[1].source_dest_check", "must be a boolean");
    assert_error(DOC(.enis = ENI_A1 ",{'id':'eni-b1','subnet':'subnet-b1',"
                     "'mac':'02:00:00:00:00:02','private_ip':'10.1.1.10',"
                     "'host':'host-2','security_groups':[7]}"),
                 "$.enis[1].security_groups[0]", "must be a string");
    assert_error(DOC(.vpcs = "{'id':5,'cidr_blocks':[],'vni':1}"),
                 "$.vpcs[0].id", "must be a string");
}

static void
test_missing_required(void **state)
{
    assert_error(DOC(.subnets = SUBNET_A2 "," SUBNET_B1 ",{'id':'subnet-a1',"
                     "'vpc':'vpc-a'}"),
                 "$.subnets[2].cidr", "required key is missing");
    assert_error(DOC(.vpcs = VPC_A ",{'cidr_blocks':['10.1.0.0/16'],"
                     "'vni':200}"), "$.vpcs[1].id", "required key is missing");
    assert_error(DOC(.vpcs = VPC_B ",{'id':'vpc-a','vni':100}"),
                 "$.vpcs[1].cidr_blocks", "required key is missing");
    assert_error(DOC(.enis = ENI_B1 ",{'id':'eni-a1','subnet':'subnet-a1',"
                     "'private_ip':'10.0.1.10','host':'host-1'}"),
                 "$.enis[1].mac", "required key is missing");
    assert_error(DOC(.sgs = SG("sg-a", "vpc-a", "{'cidr':'0.0.0.0/0'}") ","
                     SG_B), "$.security_groups[0].ingress[0].protocol",
                 "required key is missing");
    assert_error(DOC(.sgs = SG("sg-a", "vpc-a", "{'protocol':'tcp',"
                               "'from_port':1,'cidr':'0.0.0.0/0'}") ","
                     SG_B), "$.security_groups[0].ingress[0].to_port",
                 "required key is missing");
    assert_error(DOC(.hosts = HOST("host-2", "192.168.0.2")
                     ",{'id':'host-1'}"),
                 "$.hosts[1].underlay_ip", "required key is missing");
}

static void
test_bad_id_prefix(void **state)
{
    assert_error(DOC(.vpcs = VPCS "," VPC("vpcx-1", "'10.9.0.0/16'", "9")),
                 "$.vpcs[2].id", "must be 'vpc-'");
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-", "'10.9.0.0/16'", "9")),
                 "$.vpcs[2].id", "must be 'vpc-'");
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-a b", "'10.9.0.0/16'", "9")),
                 "$.vpcs[2].id", "followed by letters, digits");
    assert_error(DOC(.subnets = SUBNETS "," SUBNET("sn-x", "vpc-a",
                                                   "10.0.9.0/24")),
                 "$.subnets[3].id", "must be 'subnet-'");
    assert_error(DOC(.hosts = HOSTS "," HOST("", "192.168.0.9")),
                 "$.hosts[2].id", "at most 64 characters");
    /* 65 characters; 64 are fine. */
#define ID60 "012345678901234567890123456789012345678901234567890123456789"
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-" ID60 "x", "'10.9.0.0/16'",
                                          "9")),
                 "$.vpcs[2].id", "at most 64 characters");
    assert_loads(DOC(.vpcs = VPCS "," VPC("vpc-" ID60, "'10.9.0.0/16'",
                                          "9")));
#undef ID60
}

static void
test_duplicate_ids(void **state)
{
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-a", "'10.9.0.0/16'", "9")),
                 "$.vpcs[2].id: \"vpc-a\"", "duplicate id");
    /* Hosts and edges share the id space (an ENI's host may be either). */
    assert_error(DOC(.edges = HOST("host-1", "192.168.0.100")),
                 "$.edges[0].id", "duplicate id");
}

static void
test_dangling_reference(void **state)
{
    assert_error(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "vpc-zz",
                                                   "10.0.9.0/24")),
                 "$.subnets[3].vpc: \"vpc-zz\"", "no VPC has this id");
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-zz",
                                          "02:00:00:00:00:09", "10.0.1.9",
                                          "host-1")),
                 "$.enis[2].subnet", "no subnet has this id");
    assert_error(DOC(.enis = ENIS "," ENI_SG("eni-x", "subnet-a1",
                                             "02:00:00:00:00:09", "10.0.1.9",
                                             "sg-zz")),
                 "$.enis[2].security_groups[0]",
                 "no security group has this id");
    assert_error(DOC(.pcxs = PCXS "," PCX("pcx-x", "vpc-a", "vpc-zz")),
                 "$.peering_connections[1].accepter_vpc",
                 "no VPC has this id");
    assert_error(DOC(.subnets = SUBNET_A2 "," SUBNET_B1 ",{'id':'subnet-a1',"
                     "'vpc':'vpc-a','cidr':'10.0.1.0/24',"
                     "'network_acl':'acl-zz'}"),
                 "$.subnets[2].network_acl", "no network ACL has this id");
}

static void
test_reference_wrong_kind(void **state)
{
    assert_error(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "sg-a",
                                                   "10.0.9.0/24")),
                 "$.subnets[3].vpc: \"sg-a\"",
                 "is a security group, not a VPC");
    assert_error(DOC(.subnets = SUBNETS "," SUBNET_RT("subnet-x", "vpc-a",
                                                      "10.0.9.0/24",
                                                      "acl-a")),
                 "$.subnets[3].route_table", "not a route table");
    assert_error(DOC(.enis = ENIS "," ENI_SG("eni-x", "subnet-a1",
                                             "02:00:00:00:00:09", "10.0.1.9",
                                             "vpc-a")),
                 "$.enis[2].security_groups[0]", "not a security group");
}

/* ----------------------------------------------------- addresses, values */

static void
test_invalid_cidr(void **state)
{
    assert_error(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "vpc-a",
                                                   "10.0.9.1/24")),
                 "$.subnets[3].cidr: \"10.0.9.1/24\"", "host bits zero");
    assert_error(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "vpc-a",
                                                   "10.0.9.0/33")),
                 "$.subnets[3].cidr", "not an IPv4 prefix");
    assert_error(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "vpc-a",
                                                   "garbage")),
                 "$.subnets[3].cidr", "not an IPv4 prefix");
    assert_error(DOC(.vpcs = VPC_A "," VPC("vpc-b", "'10.1.0.0/16',"
                                           "'10.2.0.1/24'", "200")),
                 "$.vpcs[1].cidr_blocks[1]", "not an IPv4 prefix");
    assert_error(DOC(.vpcs = VPC_A "," VPC("vpc-b", "'10.1.0.0/16',7",
                                           "200")),
                 "$.vpcs[1].cidr_blocks[1]", "not an IPv4 prefix");
    assert_error(DOC(.sgs = SG("sg-a", "vpc-a", "{'protocol':'-1',"
                               "'cidr':'0.0.0.0'}") "," SG_B),
                 "$.security_groups[0].ingress[0].cidr", "not an IPv4 prefix");
}

static void
test_invalid_mac(void **state)
{
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",
                                          "02:00:00:00:00:zz", "10.0.1.9",
                                          "host-1")),
                 "$.enis[2].mac", "not a MAC address");
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",
                                          "02:00:00:00:00:09:00", "10.0.1.9",
                                          "host-1")),
                 "$.enis[2].mac", "not a MAC address");
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",
                                          "01:00:5e:00:00:01", "10.0.1.9",
                                          "host-1")),
                 "$.enis[2].mac", "must be a unicast");
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",
                                          "ff:ff:ff:ff:ff:ff", "10.0.1.9",
                                          "host-1")),
                 "$.enis[2].mac", "must be a unicast");
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",
                                          "00:00:00:00:00:00", "10.0.1.9",
                                          "host-1")),
                 "$.enis[2].mac", "nonzero");
}

static void
test_invalid_ip(void **state)
{
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",
                                          "02:00:00:00:00:09", "10.0.1.300",
                                          "host-1")),
                 "$.enis[2].private_ip: \"10.0.1.300\"",
                 "not an IPv4 address");
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",
                                          "02:00:00:00:00:09", "10.0.1.9/32",
                                          "host-1")),
                 "$.enis[2].private_ip", "not an IPv4 address");
    assert_error(DOC(.hosts = HOSTS "," HOST("host-x", "host.example")),
                 "$.hosts[2].underlay_ip", "not an IPv4 address");
}

static void
test_vpc_block_size(void **state)
{
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-x", "'10.8.0.0/15'", "9")),
                 "$.vpcs[2].cidr_blocks[0]", "between /16 and /28");
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-x", "'10.8.0.0/29'", "9")),
                 "$.vpcs[2].cidr_blocks[0]", "between /16 and /28");
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-x", "'10.8.0.0/16',"
                                          "'11.0.0.0/8'", "9")),
                 "$.vpcs[2].cidr_blocks[1]", "between /16 and /28");
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-x", "", "9")),
                 "$.vpcs[2].cidr_blocks", "at least one CIDR block");
    /* Both bounds are inclusive. */
    assert_loads(DOC(.vpcs = VPCS "," VPC("vpc-x", "'10.8.0.0/16',"
                                          "'10.9.0.0/28'", "9")));
}

static void
test_vpc_blocks_overlap(void **state)
{
    assert_error(DOC(.vpcs = VPC_B "," VPC("vpc-a", "'10.0.0.0/16',"
                                           "'10.0.128.0/17'", "100")),
                 "$.vpcs[1].cidr_blocks[1]", "overlaps cidr_blocks[0]");
    assert_error(DOC(.vpcs = VPC_B "," VPC("vpc-a", "'10.0.0.0/16',"
                                           "'10.0.0.0/16'", "100")),
                 "$.vpcs[1].cidr_blocks[1]", "overlaps cidr_blocks[0]");
}

static void
test_subnet_outside_vpc(void **state)
{
    assert_error(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "vpc-a",
                                                   "10.5.0.0/24")),
                 "$.subnets[3].cidr", "not inside any CIDR block of vpc-a");
    /* Larger than the block that contains its address. */
    assert_error(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "vpc-b",
                                                   "10.2.0.0/23")),
                 "$.subnets[3].cidr", "not inside any CIDR block of vpc-b");
    /* In another VPC's block. */
    assert_error(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "vpc-b",
                                                   "10.0.9.0/24")),
                 "$.subnets[3].cidr", "not inside any CIDR block of vpc-b");
    /* A secondary block is fine. */
    assert_loads(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "vpc-b",
                                                   "10.2.0.0/24")));
}

static void
test_subnets_overlap(void **state)
{
    assert_error(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "vpc-a",
                                                   "10.0.1.128/25")),
                 "$.subnets[3].cidr", "overlaps subnet-a1 of the same VPC");
    assert_error(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "vpc-a",
                                                   "10.0.0.0/16")),
                 "$.subnets[3].cidr", "overlaps subnet-a2");
}

static void
test_eni_ip_outside_subnet(void **state)
{
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",
                                          "02:00:00:00:00:09", "10.0.2.9",
                                          "host-1")),
                 "$.enis[2].private_ip: \"10.0.2.9\"",
                 "not inside subnet-a1 (\"10.0.1.0/24\")");
}

#define RESERVED(IP, WHY)                                               \
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",         \
                                          "02:00:00:00:00:09", IP,      \
                                          "host-1")),                   \
                 "$.enis[2].private_ip: \"" IP "\"", "reserved address " \
                 "of subnet-a1 (" WHY ")")

static void
test_reserved_network(void **state)
{
    RESERVED("10.0.1.0", "network address");
}

static void
test_reserved_router(void **state)
{
    RESERVED("10.0.1.1", "virtual router");
}

static void
test_reserved_dns(void **state)
{
    RESERVED("10.0.1.2", "DNS server");
}

static void
test_reserved_future(void **state)
{
    RESERVED("10.0.1.3", "reserved for future use");
}

static void
test_reserved_broadcast(void **state)
{
    RESERVED("10.0.1.255", "broadcast address");
}

static void
test_unreserved_edges(void **state)
{
    /* The first and last assignable addresses, in a /24 and a /28. */
    assert_loads(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",
                                         "02:00:00:00:00:09", "10.0.1.4",
                                         "host-1")
                     "," ENI("eni-y", "subnet-a1", "02:00:00:00:00:0a",
                             "10.0.1.254", "host-1")));
    assert_loads(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "vpc-a",
                                                   "10.0.3.16/28"),
                     .enis = ENIS "," ENI("eni-x", "subnet-x",
                                          "02:00:00:00:00:09", "10.0.3.20",
                                          "host-1")
                     "," ENI("eni-y", "subnet-x", "02:00:00:00:00:0a",
                             "10.0.3.30", "host-1")));
    assert_error(DOC(.subnets = SUBNETS "," SUBNET("subnet-x", "vpc-a",
                                                   "10.0.3.16/28"),
                     .enis = ENIS "," ENI("eni-x", "subnet-x",
                                          "02:00:00:00:00:09", "10.0.3.31",
                                          "host-1")),
                 "$.enis[2].private_ip", "broadcast address");
}

static void
test_duplicate_ip_same_vpc(void **state)
{
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",
                                          "02:00:00:00:00:09", "10.0.1.10",
                                          "host-2")),
                 "$.enis[2].private_ip: \"10.0.1.10\"",
                 "duplicate IP in vpc-a: already assigned to eni-a1");
}

static void
test_same_ip_different_vpcs(void **state)
{
    /* vpc-c reuses vpc-a's addresses; it is not peered with anything. */
    struct vpc_region *r = load_ok(DOC(
        .vpcs = VPCS "," VPC("vpc-c", "'10.0.0.0/16'", "300"),
        .subnets = SUBNETS "," SUBNET("subnet-c1", "vpc-c", "10.0.1.0/24"),
        .sgs = SGS "," SG("sg-c", "vpc-c", ""),
        .enis = ENIS "," ENI_SG("eni-c1", "subnet-c1", "02:00:00:00:00:03",
                                "10.0.1.10", "sg-c")));
    assert_int_equal(r->enis[0].ip, r->enis[2].ip);
    assert_ptr_equal(r->enis[2].subnet->vpc, &r->vpcs[2]);
    assert_ptr_equal(r->enis[0].subnet->vpc, &r->vpcs[0]);
    vpc_region_destroy(r);
}

static void
test_duplicate_mac(void **state)
{
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a2",
                                          "02:00:00:00:00:01", "10.0.2.10",
                                          "host-2")),
                 "$.enis[2].mac: \"02:00:00:00:00:01\"",
                 "duplicate MAC: already used by eni-a1");
    /* Case does not make two MACs different. */
    assert_error(DOC(.enis = ENI("eni-x", "subnet-a2", "02:00:00:00:00:AB",
                                 "10.0.2.10", "host-2")
                     "," ENI("eni-y", "subnet-a2", "02:00:00:00:00:ab",
                             "10.0.2.11", "host-2")),
                 "$.enis[1].mac", "duplicate MAC");
}

static void
test_duplicate_vni(void **state)
{
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-x", "'10.9.0.0/16'", "200")),
                 "$.vpcs[2].vni: 200", "duplicate VNI: already used by vpc-b");
}

static void
test_vni_range(void **state)
{
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-x", "'10.9.0.0/16'", "0")),
                 "$.vpcs[2].vni: 0", "must be between 1 and 15728639");
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-x", "'10.9.0.0/16'",
                                          "15728640")),   /* 0xf00000 */
                 "$.vpcs[2].vni: 15728640", "must be between 1 and");
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-x", "'10.9.0.0/16'", "-1")),
                 "$.vpcs[2].vni", "must be between 1 and");
    assert_loads(DOC(.vpcs = VPCS "," VPC("vpc-x", "'10.9.0.0/16'",
                                          "15728639")));  /* 0xefffff */
    assert_loads(DOC(.vpcs = VPCS "," VPC("vpc-x", "'10.9.0.0/16'", "1")));
}

/* ------------------------------------------------ cross-VPC references */

static void
test_eni_sg_other_vpc(void **state)
{
    assert_error(DOC(.enis = ENIS "," ENI_SG("eni-x", "subnet-a1",
                                             "02:00:00:00:00:09", "10.0.1.9",
                                             "sg-b")),
                 "$.enis[2].security_groups[0]: \"sg-b\"",
                 "security group belongs to vpc-b, not to vpc-a");
}

static void
test_subnet_rtb_other_vpc(void **state)
{
    assert_error(DOC(.subnets = SUBNETS "," SUBNET_RT("subnet-x", "vpc-a",
                                                      "10.0.9.0/24",
                                                      "rtb-b")),
                 "$.subnets[3].route_table: \"rtb-b\"",
                 "route table belongs to vpc-b, not to vpc-a");
}

static void
test_subnet_nacl_other_vpc(void **state)
{
    assert_error(DOC(.subnets = SUBNETS ",{'id':'subnet-x','vpc':'vpc-b',"
                     "'cidr':'10.1.9.0/24','network_acl':'acl-a'}"),
                 "$.subnets[3].network_acl: \"acl-a\"",
                 "network ACL belongs to vpc-a, not to vpc-b");
}

/* ------------------------------------------------------------- routing */

#define RTB_A_WITH(ROUTES) RTB("rtb-a", "vpc-a", ROUTES) "," RTB_B

static void
test_route_target_missing(void **state)
{
    assert_error(DOC(.rtbs = RTB_A_WITH("{'destination':'0.0.0.0/0'}")),
                 "$.route_tables[0].routes[0].target",
                 "required key is missing");
    assert_error(DOC(.rtbs = RTB_A_WITH(ROUTE("0.0.0.0/0", "igw-zz"))),
                 "$.route_tables[0].routes[0].target: \"igw-zz\"",
                 "no route target has this id");
    assert_error(DOC(.rtbs = RTB_A_WITH(ROUTE("0.0.0.0/0", "sg-a"))),
                 "$.route_tables[0].routes[0].target",
                 "a security group cannot be a route target");
    assert_error(DOC(.rtbs = RTB_A_WITH("{'target':'igw-a'}")),
                 "$.route_tables[0].routes[0]",
                 "exactly one of 'destination' and "
                 "'destination_prefix_list'");
}

static void
test_route_target_other_vpc(void **state)
{
    assert_error(DOC(.rtbs = RTB_A_WITH(ROUTE("0.0.0.0/0", "eni-b1"))),
                 "$.route_tables[0].routes[0].target: \"eni-b1\"",
                 "route target belongs to vpc-b, not to vpc-a");
    assert_error(DOC(.rtbs = RTB_A_WITH(ROUTE("0.0.0.0/0", "igw-b"))),
                 "$.route_tables[0].routes[0].target: \"igw-b\"",
                 "route target belongs to vpc-b, not to vpc-a");
    /* A peering connection that does not involve the table's VPC. */
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-c", "'10.3.0.0/16'", "300"),
                     .pcxs = PCXS "," PCX("pcx-bc", "vpc-b", "vpc-c"),
                     .rtbs = RTB_A_WITH(ROUTE("10.3.0.0/16", "pcx-bc"))),
                 "$.route_tables[0].routes[0].target: \"pcx-bc\"",
                 "does not involve vpc-a");
}

static void
test_route_target_local(void **state)
{
    assert_error(DOC(.rtbs = RTB_A_WITH(ROUTE("10.0.0.0/16", "local"))),
                 "$.route_tables[0].routes[0].target: \"local\"",
                 "the local route is implicit");
}

static void
test_route_duplicate_destination(void **state)
{
    assert_error(DOC(.rtbs = RTB_A_WITH(ROUTE("0.0.0.0/0", "igw-a") ","
                                        ROUTE("192.168.0.0/16", "blackhole")
                                        "," ROUTE("0.0.0.0/0", "eni-a1"))),
                 "$.route_tables[0].routes[2].destination: \"0.0.0.0/0\"",
                 "duplicate destination: routes[0]");
    /* The same destination in two tables is fine. */
    assert_loads(DOC(.rtbs = RTB_A_WITH(ROUTE("0.0.0.0/0", "igw-a")) ","
                     RTB("rtb-c", "vpc-a", ROUTE("0.0.0.0/0", "igw-a"))));
}

static void
test_route_equal_to_vpc_block(void **state)
{
    assert_error(DOC(.rtbs = RTB_A_WITH(ROUTE("10.0.0.0/16", "eni-a1"))),
                 "$.route_tables[0].routes[0].destination: \"10.0.0.0/16\"",
                 "equals the local route of vpc-a");
    /* A more specific route inside the block is not the local route. */
    assert_loads(DOC(.rtbs = RTB_A_WITH(ROUTE("10.0.2.0/24", "eni-a1"))));
    /* Azure precedence lets a user route override the system route. */
    assert_loads(DOC(.vpcs = VPC_AZURE("vpc-a", "'10.0.0.0/16'", "100") ","
                             VPC_B,
                     .rtbs = RTB_A_WITH(ROUTE("10.0.0.0/16", "eni-a1"))));
    assert_error(DOC(.vpcs = "{'id':'vpc-a','cidr_blocks':['10.0.0.0/16'],"
                             "'vni':100,'route_precedence':'gcp'}," VPC_B),
                 "$.vpcs[0].route_precedence", "\"aws\" or \"azure\"");
}

/* ------------------------------------------------------------- peering */

static void
test_peering_overlap(void **state)
{
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-c", "'10.0.128.0/17'", "300"),
                     .pcxs = PCXS "," PCX("pcx-ac", "vpc-a", "vpc-c")),
                 "$.peering_connections[1]",
                 "vpc-a and vpc-c have overlapping CIDR blocks");
    /* Overlap through a secondary block. */
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-c", "'10.3.0.0/16',"
                                          "'10.2.0.0/28'", "300"),
                     .pcxs = PCXS "," PCX("pcx-bc", "vpc-b", "vpc-c")),
                 "$.peering_connections[1]", "overlapping CIDR blocks");
}

static void
test_peering_self(void **state)
{
    assert_error(DOC(.pcxs = PCXS "," PCX("pcx-aa", "vpc-a", "vpc-a")),
                 "$.peering_connections[1]",
                 "a VPC cannot peer with itself (vpc-a)");
}

static void
test_peering_duplicate(void **state)
{
    assert_error(DOC(.pcxs = PCXS "," PCX("pcx-ab2", "vpc-a", "vpc-b")),
                 "$.peering_connections[1]", "already peered by pcx-ab");
    assert_error(DOC(.pcxs = PCXS "," PCX("pcx-ba", "vpc-b", "vpc-a")),
                 "$.peering_connections[1]", "already peered by pcx-ab");
}

/* --------------------------------------------------------------- hosts */

static void
test_eni_unknown_host(void **state)
{
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",
                                          "02:00:00:00:00:09", "10.0.1.9",
                                          "host-9")),
                 "$.enis[2].host: \"host-9\"", "no host has this id");
}

static void
test_eni_on_edge(void **state)
{
    assert_error(DOC(.enis = ENIS "," ENI("eni-x", "subnet-a1",
                                          "02:00:00:00:00:09", "10.0.1.9",
                                          "edge-1")),
                 "$.enis[2].host: \"edge-1\"", "not a host");
}

/* Instance metadata: instance_id (given or derived, unique), user_data
 * (16 KiB at most), metadata_options. */
#define ENI_MD(ID, IP, MAC, EXTRA) \
    "{'id':'" ID "','subnet':'subnet-a2','mac':'" MAC "','private_ip':'" \
    IP "','host':'host-1'," EXTRA "}"

static void
test_eni_metadata(void **state)
{
    struct vpc_region *r = load_ok(DOC(.enis = ENIS "," ENI_MD(
        "eni-x", "10.0.2.9", "02:00:00:00:00:09",
        "'instance_id':'i-0123456789abcdef0','user_data':'#!/bin/sh',"
        "'metadata_options':{'http_tokens':'required',"
        "'http_endpoint':'disabled'}")));
    const struct vpc_eni *x = vpc_region_find_eni(r, "eni-x");
    assert_string_equal(x->instance_id, "i-0123456789abcdef0");
    assert_string_equal(x->user_data, "#!/bin/sh");
    assert_true(x->http_tokens_required);
    assert_false(x->http_endpoint_enabled);

    /* The defaults: a derived id, no user data, IMDSv1 and v2. */
    const struct vpc_eni *a1 = vpc_region_find_eni(r, "eni-a1");
    char *derived = vpc_default_instance_id("eni-a1");
    assert_string_equal(a1->instance_id, derived);
    assert_int_equal(strlen(derived), 19);
    free(derived);
    assert_null(a1->user_data);
    assert_false(a1->http_tokens_required);
    assert_true(a1->http_endpoint_enabled);
    vpc_region_destroy(r);

    assert_error(DOC(.enis = ENIS "," ENI_MD(
                     "eni-x", "10.0.2.9", "02:00:00:00:00:09",
                     "'instance_id':'i-12345'")),
                 "$.enis[2].instance_id: \"i-12345\"",
                 "8 or 17 lowercase hex digits");
    assert_error(DOC(.enis = ENIS "," ENI_MD(
                     "eni-x", "10.0.2.9", "02:00:00:00:00:09",
                     "'instance_id':'i-0123456789ABCDEF0'")),
                 "$.enis[2].instance_id", "lowercase hex");
    assert_error(DOC(.enis = ENIS "," ENI_MD(
                     "eni-x", "10.0.2.9", "02:00:00:00:00:09",
                     "'metadata_options':{'http_tokens':'always'}")),
                 "$.enis[2].metadata_options.http_tokens: \"always\"",
                 "must be \"optional\" or \"required\"");
    assert_error(DOC(.enis = ENIS "," ENI_MD(
                     "eni-x", "10.0.2.9", "02:00:00:00:00:09",
                     "'metadata_options':{'http_endpoint':true}")),
                 "$.enis[2].metadata_options.http_endpoint", "must be");
    assert_error(DOC(.enis = ENIS "," ENI_MD(
                     "eni-x", "10.0.2.9", "02:00:00:00:00:09",
                     "'metadata_options':{'http_put_hop_limit':1}")),
                 "$.enis[2].metadata_options.http_put_hop_limit",
                 "unknown key");
    assert_error(DOC(.enis = ENIS "," ENI_MD(
                     "eni-x", "10.0.2.9", "02:00:00:00:00:09",
                     "'instance_id':'i-0123abcd'") ","
                     ENI_MD("eni-y", "10.0.2.8", "02:00:00:00:00:08",
                            "'instance_id':'i-0123abcd'")),
                 "$.enis[3].instance_id: \"i-0123abcd\"",
                 "duplicate instance id: already that of eni-x");

    /* User data: up to 16 KiB. */
    char *big = xmalloc(VPC_USER_DATA_MAX + 2);
    memset(big, 'x', VPC_USER_DATA_MAX + 1);
    big[VPC_USER_DATA_MAX + 1] = '\0';
    char *eni = xasprintf(ENI_MD("eni-x", "10.0.2.9", "02:00:00:00:00:09",
                                 "'user_data':'%s'"), big);
    assert_error(DOC(.enis = eni), "$.enis[0].user_data",
                 "16385 bytes: at most 16384");
    free(eni);
    big[VPC_USER_DATA_MAX] = '\0';
    eni = xasprintf(ENI_MD("eni-x", "10.0.2.9", "02:00:00:00:00:09",
                           "'user_data':'%s'"), big);
    assert_loads(DOC(.enis = eni));
    free(eni);
    free(big);
}

static void
test_duplicate_underlay_ip(void **state)
{
    assert_error(DOC(.edges = HOST("edge-1", "192.168.0.2")),
                 "$.edges[0].underlay_ip", "already used by another host");
}

/* ---------------------------------------------- security groups, ACLs */

#define SG_A_WITH(RULE) SG("sg-a", "vpc-a", RULE) "," SG_B

static void
test_sg_rule_cidr_and_group(void **state)
{
    assert_error(DOC(.sgs = SG_A_WITH("{'protocol':'-1','cidr':'0.0.0.0/0',"
                                      "'security_group':'sg-a'}")),
                 "$.security_groups[0].ingress[0]",
                 "exactly one of 'cidr' and 'security_group'");
    assert_error(DOC(.sgs = SG_A_WITH("{'protocol':'-1'}")),
                 "$.security_groups[0].ingress[0]",
                 "exactly one of 'cidr' and 'security_group'");
    assert_error(DOC(.sgs = "{'id':'sg-a','vpc':'vpc-a','egress':["
                     "{'protocol':'udp','from_port':53,'to_port':53}]},"
                     SG_B),
                 "$.security_groups[0].egress[0]", "exactly one of");
}

static void
test_sg_rule_protocol(void **state)
{
    assert_error(DOC(.sgs = SG_A_WITH("{'protocol':'sctp',"
                                      "'cidr':'0.0.0.0/0'}")),
                 "$.security_groups[0].ingress[0].protocol: \"sctp\"",
                 "must be \"tcp\", \"udp\", \"icmp\"");
    assert_error(DOC(.sgs = SG_A_WITH("{'protocol':256,"
                                      "'cidr':'0.0.0.0/0'}")),
                 "$.security_groups[0].ingress[0].protocol",
                 "protocol number 0..255");
    assert_loads(DOC(.sgs = SG_A_WITH("{'protocol':47,"
                                      "'cidr':'0.0.0.0/0'}")));
}

/* The AWS CLI writes protocol numbers as strings ("6"): they mean what the
 * number means, ports and ICMP fields included.  A protocol that is not
 * valid is one error, not a second one about its ports. */
static void
test_sg_rule_protocol_strings(void **state)
{
    struct vpc_region *r = load_ok(DOC(.sgs = SG_A_WITH(
        "{'protocol':'6','from_port':443,'to_port':443,'cidr':'0.0.0.0/0'},"
        "{'protocol':'17','from_port':53,'to_port':53,'cidr':'0.0.0.0/0'},"
        "{'protocol':'1','icmp_type':8,'cidr':'0.0.0.0/0'},"
        "{'protocol':'47','cidr':'0.0.0.0/0'},"
        "{'protocol':'0','cidr':'0.0.0.0/0'},"
        "{'protocol':'255','cidr':'0.0.0.0/0'}")));
    const struct vpc_sg *sg = &r->sgs[0];
    assert_int_equal(sg->n_ingress, 6);
    assert_int_equal(sg->ingress[0].m.protocol, 6);
    assert_int_equal(sg->ingress[0].m.from_port, 443);
    assert_int_equal(sg->ingress[1].m.protocol, 17);
    assert_int_equal(sg->ingress[2].m.protocol, 1);
    assert_int_equal(sg->ingress[2].m.icmp_type, 8);
    assert_int_equal(sg->ingress[3].m.protocol, 47);
    assert_int_equal(sg->ingress[4].m.protocol, 0);
    assert_int_equal(sg->ingress[5].m.protocol, 255);
    vpc_region_destroy(r);

    assert_loads(DOC(.nacls = ACL_B "," NACL("acl-a", "vpc-a",
                     "{'rule_number':1,'action':'allow','protocol':'6',"
                     "'from_port':80,'to_port':80,'cidr':'0.0.0.0/0'}")));

    static const char *const bad[] = { "'256'", "'06'", "'6x'", "'-2'",
                                       "'sctp'", "''" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char sgs[256];
        snprintf(sgs, sizeof sgs, "{'id':'sg-a','vpc':'vpc-a','ingress':["
                 "{'protocol':%s,'from_port':1,'to_port':2,'icmp_type':3,"
                 "'cidr':'0.0.0.0/0'}]}," SG_B, bad[i]);
        size_t n = assert_error(DOC(.sgs = sgs),
                                "$.security_groups[0].ingress[0].protocol",
                                "or a protocol number 0..255");
        assert_int_equal(n, 1);
    }
}

static void
test_ports_on_icmp(void **state)
{
    assert_error(DOC(.sgs = SG_A_WITH("{'protocol':'icmp','from_port':0,"
                                      "'to_port':0,'cidr':'0.0.0.0/0'}")),
                 "$.security_groups[0].ingress[0].from_port",
                 "ports apply only to protocol tcp or udp");
    assert_error(DOC(.nacls = ACL_B "," NACL("acl-a", "vpc-a",
                     "{'rule_number':1,'action':'allow','protocol':'-1',"
                     "'to_port':80,'cidr':'0.0.0.0/0'}")),
                 "$.network_acls[1].ingress[0].to_port",
                 "ports apply only to protocol tcp or udp");
    assert_error(DOC(.sgs = SG_A_WITH("{'protocol':'tcp','from_port':0,"
                                      "'to_port':0,'icmp_type':3,"
                                      "'cidr':'0.0.0.0/0'}")),
                 "$.security_groups[0].ingress[0].icmp_type",
                 "apply only to protocol icmp");
}

static void
test_port_range(void **state)
{
    assert_error(DOC(.sgs = SG_A_WITH("{'protocol':'tcp','from_port':443,"
                                      "'to_port':80,'cidr':'0.0.0.0/0'}")),
                 "$.security_groups[0].ingress[0].to_port: 80",
                 "must not be below from_port (443)");
    assert_error(DOC(.sgs = SG_A_WITH("{'protocol':'udp','from_port':1,"
                                      "'to_port':65536,"
                                      "'cidr':'0.0.0.0/0'}")),
                 "$.security_groups[0].ingress[0].to_port",
                 "must be between 0 and 65535");
    assert_loads(DOC(.sgs = SG_A_WITH("{'protocol':'udp','from_port':53,"
                                      "'to_port':53,'cidr':'0.0.0.0/0'}")));
}

#define NACL_RULE(NUM, ACTION) \
    "{'rule_number':" NUM ",'action':'" ACTION "','protocol':'-1'," \
    "'cidr':'0.0.0.0/0'}"

static void
test_nacl_duplicate_rule_number(void **state)
{
    assert_error(DOC(.nacls = NACL("acl-a", "vpc-a",
                                   NACL_RULE("100", "allow") ","
                                   NACL_RULE("200", "deny") ","
                                   NACL_RULE("100", "deny")) "," ACL_B),
                 "$.network_acls[0].ingress[2].rule_number: 100",
                 "duplicate rule number in ingress rules");
    /* Ingress and egress number independently (as in the base ACL). */
    assert_loads(DOC(0));
}

static void
test_nacl_rule_number_range(void **state)
{
    assert_error(DOC(.nacls = NACL("acl-a", "vpc-a", NACL_RULE("0", "allow"))
                     "," ACL_B),
                 "$.network_acls[0].ingress[0].rule_number",
                 "must be between 1 and 32766");
    assert_error(DOC(.nacls = NACL("acl-a", "vpc-a",
                                   NACL_RULE("32767", "allow")) "," ACL_B),
                 "$.network_acls[0].ingress[0].rule_number",
                 "must be between 1 and 32766");
}

static void
test_nacl_bad_action(void **state)
{
    assert_error(DOC(.nacls = NACL("acl-a", "vpc-a", NACL_RULE("1", "drop"))
                     "," ACL_B),
                 "$.network_acls[0].ingress[0].action: \"drop\"",
                 "must be \"allow\" or \"deny\"");
    assert_error(DOC(.nacls = NACL("acl-a", "vpc-a",
                                   "{'rule_number':1,'protocol':'-1',"
                                   "'cidr':'0.0.0.0/0'}") "," ACL_B),
                 "$.network_acls[0].ingress[0].action",
                 "required key is missing");
}

static void
test_sg_group_of_unpeered_vpc(void **state)
{
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-c", "'10.3.0.0/16'", "300"),
                     .sgs = SGS "," SG("sg-c", "vpc-c", "{'protocol':'tcp',"
                                       "'from_port':1,'to_port':2,"
                                       "'security_group':'sg-a'}")),
                 "$.security_groups[2].ingress[0].security_group: \"sg-a\"",
                 "belongs to vpc-a, which is neither vpc-c nor peered");
    /* Egress, other direction. */
    assert_error(DOC(.vpcs = VPCS "," VPC("vpc-c", "'10.3.0.0/16'", "300"),
                     .sgs = SGS ",{'id':'sg-c','vpc':'vpc-c'}"
                            ",{'id':'sg-x','vpc':'vpc-a','egress':["
                            "{'protocol':'-1','security_group':'sg-c'}]}"),
                 "$.security_groups[3].egress[0].security_group",
                 "neither vpc-a nor peered");
}

/* ------------------------------------------------------------ gateways */

static void
test_gateway_needs_edge(void **state)
{
    assert_error(DOC(.edges = ""), "$.internet_gateways[0].edge",
                 "the region has 0 edges");
    assert_error(DOC(.edges = EDGES "," HOST("edge-2", "192.168.0.101")),
                 "$.internet_gateways[0].edge", "the region has 2 edges");
    /* Naming the edge works with any number of edges. */
    assert_loads(DOC(.edges = EDGES "," HOST("edge-2", "192.168.0.101"),
                     .igws = "{'id':'igw-a','vpc':'vpc-a','edge':'edge-2'},"
                             "{'id':'igw-b','vpc':'vpc-b','edge':'edge-1'}"));
    assert_error(DOC(.igws = "{'id':'igw-a','vpc':'vpc-a','edge':'host-1'}"),
                 "$.internet_gateways[0].edge: \"host-1\"", "is a host");
}

static void
test_two_internet_gateways(void **state)
{
    assert_error(DOC(.igws = IGWS "," IGW("igw-a2", "vpc-a")),
                 "$.internet_gateways[2].vpc: \"vpc-a\"",
                 "at most one internet gateway; igw-a is already attached");
    assert_loads(DOC(.igws = IGW("igw-b", "vpc-b") ","
                             IGW("igw-a", "vpc-a")));
}

static void
test_duplicate_elastic_ip(void **state)
{
    assert_error(DOC(.enis = ENIS ",{'id':'eni-x','subnet':'subnet-a1',"
                     "'mac':'02:00:00:00:00:09','private_ip':'10.0.1.9',"
                     "'host':'host-1','elastic_ip':'203.0.113.7'}"),
                 "$.enis[2].elastic_ip", "elastic IP already associated");
}

/* An elastic IP needs an internet gateway on the ENI's VPC, and is not a
 * private IP of an ENI (its own or another's, of any VPC). */
static void
test_elastic_ip_rules(void **state)
{
    size_t n = assert_error(DOC(.igws = IGW("igw-a", "vpc-a")),
                            "$.enis[1].elastic_ip: \"203.0.113.7\": ",
                            "vpc-b has no internet gateway: an elastic IP is "
                            "reachable only through one");
    assert_int_equal(n, 1);
    assert_error(DOC(.enis = ENI_A1 ",{'id':'eni-b1','subnet':'subnet-b1',"
                     "'mac':'02:00:00:00:00:02','private_ip':'10.1.1.10',"
                     "'host':'host-2','elastic_ip':'10.0.1.10'}"),
                 "$.enis[1].elastic_ip: \"10.0.1.10\": ",
                 "is the private IP of eni-a1 (vpc-a): an elastic IP is a "
                 "public address, distinct from every private one");
    assert_error(DOC(.enis = ENI_A1 ",{'id':'eni-b1','subnet':'subnet-b1',"
                     "'mac':'02:00:00:00:00:02','private_ip':'10.1.1.10',"
                     "'host':'host-2','elastic_ip':'10.1.1.10'}"),
                 "$.enis[1].elastic_ip: \"10.1.1.10\": ",
                 "is the private IP of eni-b1 (vpc-b)");
    /* The ENI whose private IP it is may come after it. */
    assert_error(DOC(.enis = "{'id':'eni-b1','subnet':'subnet-b1',"
                     "'mac':'02:00:00:00:00:02','private_ip':'10.1.1.10',"
                     "'host':'host-2','elastic_ip':'10.0.1.10'}," ENI_A1),
                 "$.enis[0].elastic_ip: \"10.0.1.10\": ",
                 "is the private IP of eni-a1 (vpc-a)");
}

/* ------------------------------------------------------ multiple errors */

static void
test_multiple_parse_errors(void **state)
{
    /* An unknown key, a bad MAC and a VNI out of range. */
    size_t n = assert_error(
        DOC(.extra = "'bogus':1",
            .vpcs = VPC_A "," VPC("vpc-b", "'10.1.0.0/16'", "0"),
            .enis = ENI_B1 "," ENI("eni-a1", "subnet-a1", "nope",
                                   "10.0.1.10", "host-1")),
        "$.bogus", "unknown key");
    assert_true(n >= 3);
    assert_error(DOC(.extra = "'bogus':1",
                     .vpcs = VPC_A "," VPC("vpc-b", "'10.1.0.0/16'", "0"),
                     .enis = ENI_B1 "," ENI("eni-a1", "subnet-a1", "nope",
                                            "10.0.1.10", "host-1")),
                 "$.vpcs[1].vni", "must be between");
    assert_error(DOC(.extra = "'bogus':1",
                     .vpcs = VPC_A "," VPC("vpc-b", "'10.1.0.0/16'", "0"),
                     .enis = ENI_B1 "," ENI("eni-a1", "subnet-a1", "nope",
                                            "10.0.1.10", "host-1")),
                 "$.enis[1].mac", "not a MAC address");
}

static void
test_multiple_check_errors(void **state)
{
    /* A reserved IP, a duplicate MAC and a duplicate VNI: all found by the
     * cross-object checks, which also report everything at once. */
#define THREE_CHECK_ERRORS                                              \
    DOC(.vpcs = VPCS "," VPC("vpc-x", "'10.9.0.0/16'", "100"),          \
        .enis = ENIS "," ENI("eni-x", "subnet-a1", "02:00:00:00:00:01", \
                             "10.0.1.255", "host-1"))
    size_t n = assert_error(THREE_CHECK_ERRORS, "$.vpcs[2].vni",
                            "duplicate VNI");
    assert_true(n >= 3);
    assert_error(THREE_CHECK_ERRORS, "$.enis[2].mac", "duplicate MAC");
    assert_error(THREE_CHECK_ERRORS, "$.enis[2].private_ip", "broadcast");
#undef THREE_CHECK_ERRORS
}

static void
test_error_format(void **state)
{
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    assert_null(vpc_region_from_string(
                    DOC(.vpcs = VPC_A "," VPC("vpc-b", "'10.1.0.0/16'",
                                              "0")), &errs));
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.msgs[0],
                        "$.vpcs[1].vni: 0: must be between 1 and 15728639");
    vpc_errors_destroy(&errs);
    assert_int_equal(errs.n, 0);

    vpc_errors_add(&errs, "$.a", NULL, "rule %d", 1);
    vpc_errors_add(&errs, "$.b", "\"v\"", "rule %s", "two");
    assert_int_equal(errs.n, 2);
    assert_string_equal(errs.msgs[0], "$.a: rule 1");
    assert_string_equal(errs.msgs[1], "$.b: \"v\": rule two");
    vpc_errors_destroy(&errs);
}

static void
test_from_file(void **state)
{
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    /* A missing file is reported under its name, not as bad JSON. */
    static const char missing[] = "/nonexistent/region.json";
    assert_null(vpc_region_from_file(missing, &errs));
    if (errs.n != 1 || strncmp(errs.msgs[0], missing, strlen(missing))
        || strstr(errs.msgs[0], "malformed JSON")) {
        print_errors(missing, &errs);
        fail_msg("expected one message \"%s: ...\"", missing);
    }
    vpc_errors_destroy(&errs);

    char name[] = "/tmp/test-intent-XXXXXX";
    int fd = mkstemp(name);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(DOC(0), f);
    fclose(f);
    struct vpc_region *r = vpc_region_from_file(name, &errs);
    unlink(name);
    assert_non_null(r);
    assert_int_equal(errs.n, 0);
    assert_int_equal(r->n_enis, 2);
    vpc_region_destroy(r);
}

/* A key given twice in one object: OVS's parser would keep the last value,
 * so a second "security_groups" would silently replace the first. */
static void
test_duplicate_keys(void **state)
{
    static const char rule[] = "key given more than once in this object";
    assert_error("{\"hosts\": [], \"hosts\": []}", "$.hosts: \"hosts\": ",
                 rule);
    assert_error("{\"hosts\": [{\"id\": \"host-a\", \"underlay_ip\": "
                 "\"192.168.100.1\", \"underlay_ip\": \"192.168.100.2\"}]}",
                 "$.hosts[0].underlay_ip: \"underlay_ip\": ", rule);
    /* Written differently, the same key. */
    assert_error("{\"hosts\": [], \"vpcs\": [{\"id\": \"vpc-a\", "
                 "\"vni\": 1, \"v\\u006ei\": 2}]}",
                 "$.vpcs[0].vni: \"vni\": ", rule);
    /* Deep inside, and three times: reported once. */
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    assert_null(vpc_region_from_string(
        "{\"hosts\": [], \"x\": [[{\"a\": {\"b\": 1, \"b\": 2, \"b\": 3}}]]}",
        &errs));
    size_t n_dup = 0;
    for (size_t i = 0; i < errs.n; i++) {
        n_dup += strstr(errs.msgs[i], rule) != NULL;
    }
    assert_int_equal(n_dup, 1);
    assert_true(has_error(&errs, "$.x[0][0].a.b: \"b\": ", rule));
    vpc_errors_destroy(&errs);

    /* The same key in different objects, and keys that only look alike
     * (inside strings, or a prefix of another), are fine. */
    struct vpc_region *r = load_ok(DOC(0));
    vpc_region_destroy(r);
    vpc_errors_init(&errs);
    assert_null(vpc_region_from_string(
        "{\"hosts\": [], \"description\": \"{\\\"hosts\\\": [], "
        "\\\"hosts\\\": 1}\", \"host\": 1, \"x\": [{\"a\": 1}, {\"a\": 2}]}",
        &errs));
    for (size_t i = 0; i < errs.n; i++) {
        if (strstr(errs.msgs[i], rule)) {
            print_errors("(not a duplicate)", &errs);
            fail();
        }
    }
    assert_true(has_error(&errs, "$.host: ", "unknown key"));
    vpc_errors_destroy(&errs);

    /* The whole of a valid document, with a second top-level list that
     * would open every security group. */
    char *doc = xasprintf("%.*s, \"security_groups\": []}",
                          (int) strlen(DOC(0)) - 1, DOC(0));
    assert_error(doc, "$.security_groups: \"security_groups\": ", rule);

    /* From a file too. */
    char name[] = "/tmp/test-intent-XXXXXX";
    int fd = mkstemp(name);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(doc, f);
    fclose(f);
    vpc_errors_init(&errs);
    r = vpc_region_from_file(name, &errs);
    unlink(name);
    assert_null(r);
    assert_true(has_error(&errs, "$.security_groups: ", rule));
    vpc_errors_destroy(&errs);
    free(doc);
}

/* ------------------------------------------------------------ prefix.c */

static struct vpc_prefix
P(const char *s)
{
    struct vpc_prefix p;
    if (!vpc_prefix_parse(s, &p)) {
        fail_msg("cannot parse prefix %s", s);
    }
    return p;
}

static void
test_prefix_parse(void **state)
{
    struct vpc_prefix p;
    assert_true(vpc_prefix_parse("10.0.0.0/8", &p));
    assert_int_equal(p.family, 4);
    assert_int_equal(p.plen, 8);
    assert_int_equal(p.addr, 0x0a000000);
    assert_true(vpc_prefix_parse("0.0.0.0/0", &p));
    assert_int_equal(p.plen, 0);
    assert_int_equal(p.addr, 0);
    assert_true(vpc_prefix_parse("192.168.1.7/32", &p));
    assert_int_equal(p.addr, 0xc0a80107);
    assert_true(vpc_prefix_parse("172.16.0.0/12", &p));

    static const char *const bad[] = {
        "10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0",
        "10.0.0.0/8x", "10.0.0.0/ 8", "10.0.0.0/+8", "10.0.0/8",
        "10.0.0.256/32", "garbage", "", "/8", "1.2.3.4/5/6",
        "0.0.0.1/0", "::/0",
        "123456789012345678901234567890123456789/8",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        if (vpc_prefix_parse(bad[i], &p)) {
            fail_msg("\"%s\" parsed as a prefix", bad[i]);
        }
    }
    assert_false(vpc_prefix_parse(NULL, &p));
}

static void
test_ip_parse(void **state)
{
    uint32_t ip = 0;
    assert_true(vpc_ip_parse("10.1.2.3", &ip));
    assert_int_equal(ip, 0x0a010203);
    assert_true(vpc_ip_parse("255.255.255.255", &ip));
    assert_int_equal(ip, 0xffffffff);
    assert_true(vpc_ip_parse("0.0.0.0", &ip));
    assert_int_equal(ip, 0);
    static const char *const bad[] = {
        "10.1.2", "10.1.2.256", "10.1.2.3/32", "a.b.c.d", "", " 10.1.2.3",
        "10.1.2.3 ", "::1",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        if (vpc_ip_parse(bad[i], &ip)) {
            fail_msg("\"%s\" parsed as an IP", bad[i]);
        }
    }
    assert_false(vpc_ip_parse(NULL, &ip));
}

static void
test_prefix_contains(void **state)
{
    struct vpc_prefix p = P("10.0.1.0/24");
    assert_true(vpc_prefix_contains(&p, 0x0a000100));
    assert_true(vpc_prefix_contains(&p, 0x0a0001ff));
    assert_false(vpc_prefix_contains(&p, 0x0a000200));
    assert_false(vpc_prefix_contains(&p, 0x0a0000ff));
    struct vpc_prefix all = P("0.0.0.0/0");
    assert_true(vpc_prefix_contains(&all, 0xffffffff));
    struct vpc_prefix host = P("10.0.0.1/32");
    assert_true(vpc_prefix_contains(&host, 0x0a000001));
    assert_false(vpc_prefix_contains(&host, 0x0a000002));
}

static void
test_prefix_overlaps(void **state)
{
    struct vpc_prefix a = P("10.0.0.0/16"), b = P("10.0.128.0/17");
    struct vpc_prefix c = P("10.1.0.0/16"), d = P("0.0.0.0/0");
    struct vpc_prefix e = P("10.0.255.255/32");
    assert_true(vpc_prefix_overlaps(&a, &b));
    assert_true(vpc_prefix_overlaps(&b, &a));
    assert_true(vpc_prefix_overlaps(&a, &a));
    assert_false(vpc_prefix_overlaps(&a, &c));
    assert_false(vpc_prefix_overlaps(&c, &a));
    assert_true(vpc_prefix_overlaps(&d, &c));
    assert_true(vpc_prefix_overlaps(&c, &d));
    assert_true(vpc_prefix_overlaps(&e, &b));
    assert_false(vpc_prefix_overlaps(&e, &c));
    /* Adjacent blocks do not overlap. */
    struct vpc_prefix f = P("10.0.0.0/17");
    assert_false(vpc_prefix_overlaps(&f, &b));
}

static void
test_prefix_within(void **state)
{
    struct vpc_prefix a = P("10.0.0.0/16"), b = P("10.0.128.0/17");
    struct vpc_prefix c = P("10.0.0.0/15"), d = P("0.0.0.0/0");
    assert_true(vpc_prefix_within(&b, &a));
    assert_false(vpc_prefix_within(&a, &b));
    assert_true(vpc_prefix_within(&a, &a));
    assert_false(vpc_prefix_within(&c, &a));
    assert_true(vpc_prefix_within(&a, &c));
    assert_true(vpc_prefix_within(&a, &d));
    assert_false(vpc_prefix_within(&d, &a));
    struct vpc_prefix e = P("10.1.0.0/24");
    assert_false(vpc_prefix_within(&e, &a));
}

static void
test_prefix_mask_format(void **state)
{
    struct vpc_prefix p = P("10.0.0.0/8");
    assert_int_equal(vpc_prefix_mask(&p), 0xff000000);
    p = P("0.0.0.0/0");
    assert_int_equal(vpc_prefix_mask(&p), 0);
    p = P("1.2.3.4/32");
    assert_int_equal(vpc_prefix_mask(&p), 0xffffffff);

    char buf[24], ip[16];
    p = P("172.16.0.0/12");
    vpc_prefix_format(&p, buf);
    assert_string_equal(buf, "172.16.0.0/12");
    vpc_ip_format(0xc0a80001, ip);
    assert_string_equal(ip, "192.168.0.1");
    vpc_ip_format(0xffffffff, ip);
    assert_string_equal(ip, "255.255.255.255");
}

static void
test_router_ip_mac(void **state)
{
    struct vpc_subnet s = { .cidr = P("10.0.1.0/24") };
    assert_int_equal(vpc_subnet_router_ip(&s), 0x0a000101);
    s.cidr = P("10.0.3.16/28");
    assert_int_equal(vpc_subnet_router_ip(&s), 0x0a000311);

    struct vpc_vpc vpc = { .vni = 0x123456 };
    struct eth_addr mac = pl_router_mac(&vpc);
    const uint8_t want[6] = { 0x02, 0x76, 0x70, 0x12, 0x34, 0x56 };
    assert_memory_equal(mac.ea, want, 6);
    assert_false(eth_addr_is_multicast(mac));
    vpc.vni = 1;
    mac = pl_router_mac(&vpc);
    const uint8_t want1[6] = { 0x02, 0x76, 0x70, 0, 0, 1 };
    assert_memory_equal(mac.ea, want1, 6);

    /* In a loaded region too. */
    struct vpc_region *r = load_ok(DOC(0));
    assert_int_equal(vpc_subnet_router_ip(&r->subnets[2]), 0x0a010101);
    mac = pl_router_mac(&r->vpcs[1]);
    const uint8_t want200[6] = { 0x02, 0x76, 0x70, 0, 0, 200 };
    assert_memory_equal(mac.ea, want200, 6);
    vpc_region_destroy(r);
}

static void
test_names(void **state OVS_UNUSED)
{
    struct vpc_vpc vpcs[2] = { { .id = "vpc-a" }, { .id = "vpc-b" } };
    struct vpc_subnet subnets[3] = {
        { .id = "subnet-x", .vpc = &vpcs[1], .availability_zone = "" },
        { .id = "subnet-b", .vpc = &vpcs[1],
          .availability_zone = "eu-west-1b" },
        { .id = "subnet-a", .vpc = &vpcs[0],
          .availability_zone = "us-east-1a" },
    };
    struct vpc_region r = { .vpcs = vpcs, .n_vpcs = 2,
                            .subnets = subnets, .n_subnets = 3 };
    char *s;

    s = vpc_default_domain(&r, &vpcs[0]);
    assert_string_equal(s, "ec2.internal");
    free(s);
    s = vpc_default_domain(&r, &vpcs[1]);
    assert_string_equal(s, "eu-west-1.compute.internal");
    free(s);
    r.n_subnets = 1;            /* No subnet names a zone. */
    s = vpc_default_domain(&r, &vpcs[1]);
    assert_string_equal(s, "ec2.internal");
    free(s);

    r.n_subnets = 3;
    struct vpc_eni e = { .subnet = &subnets[1], .ip = 0x0a000105 };
    s = vpc_eni_hostname(&r, &e);
    assert_string_equal(s, "ip-10-0-1-5.eu-west-1.compute.internal");
    free(s);
    s = vpc_eni_hostname_in(&e, "example.internal");
    assert_string_equal(s, "ip-10-0-1-5.example.internal");
    free(s);

    /* All at once: the same as one by one. */
    for (size_t n = 0; n <= 3; n++) {
        r.n_subnets = n;
        char **domains = vpc_default_domains(&r);
        for (size_t i = 0; i < r.n_vpcs; i++) {
            s = vpc_default_domain(&r, &vpcs[i]);
            assert_string_equal(domains[i], s);
            free(s);
            free(domains[i]);
        }
        free(domains);
    }
}

/* An ENI's dns_names: FQDNs, lower-cased, a final dot dropped. */
#define ENI_NAMES_HEAD \
    "{'id':'eni-n','subnet':'subnet-a1','mac':'02:00:00:00:00:09'," \
    "'private_ip':'10.0.1.20','host':'host-1','dns_names':["
#define ENI_NAMES(NAMES) ENI_NAMES_HEAD NAMES "]}"

static void
test_dns_names(void **state OVS_UNUSED)
{
    struct vpc_region *r = load_ok(DOC(.enis = ENIS "," ENI_NAMES(
        "'DB.Corp.Example.','api-1.svc.internal'")));
    const struct vpc_eni *e = vpc_region_find_eni(r, "eni-n");
    assert_int_equal(e->n_dns_names, 2);
    assert_string_equal(e->dns_names[0], "db.corp.example");
    assert_string_equal(e->dns_names[1], "api-1.svc.internal");
    assert_int_equal(vpc_region_find_eni(r, "eni-a1")->n_dns_names, 0);
    vpc_region_destroy(r);

    static const struct {
        const char *names, *path, *rule;
    } bad[] = {
        { "7", "$.enis[2].dns_names[0]: 7", "must be a string" },
        { "'db'", "$.enis[2].dns_names[0]: \"db\"",
          "not a fully qualified name" },
        { "''", "$.enis[2].dns_names[0]", "1 to 253 characters" },
        { "'a..b'", "$.enis[2].dns_names[0]", "1 to 63 characters" },
        { "'a.b_c'", "$.enis[2].dns_names[0]",
          "letters, digits and '-' only" },
        { "'-a.b'", "$.enis[2].dns_names[0]", "cannot start or end" },
        { "'10.0.1.20'", "$.enis[2].dns_names[0]", "all digits" },
        { "'20.1.0.10.in-addr.arpa'", "$.enis[2].dns_names[0]",
          "in-addr.arpa" },
        { "'a.b','A.B.'", "$.enis[2].dns_names[1]: \"A.B.\"",
          "duplicate name" },
        { "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
          ".b'", "$.enis[2].dns_names[0]", "1 to 63 characters" },
        { "'a1.x','a2.x','a3.x','a4.x','a5.x','a6.x','a7.x','a8.x','a9.x',"
          "'b1.x','b2.x','b3.x','b4.x','b5.x','b6.x','b7.x','b8.x'",
          "$.enis[2].dns_names", "17 names: at most 16" },
    };
    /* Unique within a VPC; another VPC may use the same name. */
    assert_error(DOC(.enis = ENIS "," ENI_NAMES("'db.x.example'") ","
                     "{'id':'eni-m','subnet':'subnet-a2',"
                     "'mac':'02:00:00:00:00:0a','private_ip':'10.0.2.20',"
                     "'host':'host-1','dns_names':['DB.X.example']}"),
                 "$.enis[3].dns_names[0]: \"db.x.example\"",
                 "already a name of eni-n in vpc-a");
    assert_loads(DOC(.enis = ENIS "," ENI_NAMES("'db.x.example'") ","
                     "{'id':'eni-m','subnet':'subnet-b1',"
                     "'mac':'02:00:00:00:00:0a','private_ip':'10.1.1.20',"
                     "'host':'host-1','dns_names':['db.x.example']}"));

    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char enis[2048];
        snprintf(enis, sizeof enis, "%s,%s%s%s", ENIS, ENI_NAMES_HEAD,
                 bad[i].names, "]}");
        assert_error(DOC(.enis = enis), bad[i].path, bad[i].rule);
    }
}

static void
test_id_hash(void **state)
{
    static const char *const ids[] = {
        "", "vpc-a", "vpc-b", "eni-0123456789abcdef0", "sg-a", "a",
    };
    for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
        assert_int_not_equal(pl_id_hash(ids[i]), 0);
        char copy[64];
        strcpy(copy, ids[i]);
        assert_int_equal(pl_id_hash(ids[i]), pl_id_hash(copy));
    }
    assert_int_not_equal(pl_id_hash("vpc-a"), pl_id_hash("vpc-b"));
    assert_int_not_equal(pl_id_hash("eni-1"), pl_id_hash("eni-2"));
    /* Stable across builds and runs: the 32-bit FNV-1a of "a". */
    assert_int_equal(pl_id_hash("a"), 0xe40c292c);

    /* Never zero, even for a brute-forced sample. */
    char buf[32];
    for (unsigned i = 0; i < 200000; i++) {
        snprintf(buf, sizeof buf, "eni-%u", i);
        assert_int_not_equal(pl_id_hash(buf), 0);
    }
}

static void
test_target_kind_name(void **state)
{
    assert_string_equal(vpc_target_kind_name(VPC_TGT_IGW),
                        "internet gateway");
    assert_string_equal(vpc_target_kind_name(VPC_TGT_LOCAL),
                        "the VPC itself");
    assert_string_equal(vpc_target_kind_name(VPC_TGT_VPCE),
                        "gateway VPC endpoint");
}

/* The JSON schema names every collection of the kind tables (model.h),
 * and no other, with ids of the table's prefix: a new object or gateway
 * kind without its schema fails here. */
static const struct json *
schema_member(const struct json *obj, const char *key)
{
    assert_non_null(obj);
    assert_int_equal(obj->type, JSON_OBJECT);
    const struct json *v = shash_find_data(json_object(obj), key);
    if (!v) {
        fail_msg("schema: no \"%s\"", key);
    }
    return v;
}

/* The $defs entry that 'ref' ("#/$defs/NAME") points to. */
static const struct json *
schema_deref(const struct json *defs, const struct json *ref)
{
    assert_int_equal(ref->type, JSON_STRING);
    const char *s = json_string(ref);
    assert_int_equal(strncmp(s, "#/$defs/", 8), 0);
    return schema_member(defs, s + 8);
}

static void
check_schema_collection(const struct json *schema, const char *key,
                        const char *prefix)
{
    const struct json *props = schema_member(schema, "properties");
    const struct json *defs = schema_member(schema, "$defs");
    const struct json *col = schema_member(props, key);
    const struct json *item = schema_deref(
        defs, schema_member(schema_member(col, "items"), "$ref"));
    const struct json *id = schema_deref(
        defs, schema_member(schema_member(schema_member(item, "properties"),
                                          "id"), "$ref"));
    const struct json *pattern = schema_member(id, "pattern");
    assert_int_equal(pattern->type, JSON_STRING);
    if (*prefix) {
        char *want = xasprintf("^%s", prefix);
        if (strncmp(json_string(pattern), want, strlen(want))) {
            fail_msg("schema: %s ids: pattern %s does not start with %s",
                     key, json_string(pattern), want);
        }
        free(want);
    }
}

static void
test_schema_matches_kinds(void **state)
{
    struct json *schema = json_from_file("schema/region.schema.json");
    assert_int_equal(schema->type, JSON_OBJECT);
    size_t n = 1;               /* "description". */
#define OBJ_(KIND, KEY, PREFIX, ...) \
    check_schema_collection(schema, KEY, PREFIX); n++;
    VPC_OBJECT_KINDS(OBJ_)
    VPC_GATEWAY_KINDS(OBJ_)
#undef OBJ_
    const struct json *props = schema_member(schema, "properties");
    schema_member(props, "description");
    assert_int_equal(shash_count(json_object(props)), n);

    /* Routes may name every gateway kind. */
    const struct json *target = schema_member(
        schema_member(schema, "$defs"), "route_target");
    const char *pattern = json_string(schema_member(target, "pattern"));
#define GW_(KIND, KEY, PREFIX, ...)                                    \
    {                                                                   \
        char *stem = xmemdup0(PREFIX, strlen(PREFIX) - 1);              \
        char *a = xasprintf("|%s|", stem), *b = xasprintf("|%s)", stem); \
        if (!strstr(pattern, a) && !strstr(pattern, b)) {               \
            fail_msg("schema: route_target %s misses %s", pattern, stem); \
        }                                                               \
        free(a);                                                        \
        free(b);                                                        \
        free(stem);                                                     \
    }
    VPC_GATEWAY_KINDS(GW_)
#undef GW_
    json_destroy(schema);
}

static void
test_gateway_kind_names(void **state)
{
    assert_string_equal(vpc_gateway_kind_name(VPC_TGT_IGW), "igw");
    assert_string_equal(vpc_gateway_kind_name(VPC_TGT_DX), "dx");
    assert_string_equal(vpc_gateway_kind_name(VPC_TGT_ENI), "?");
    assert_true(vpc_target_is_gateway(VPC_TGT_NAT));
    assert_true(vpc_target_is_gateway(VPC_TGT_VPCE));
    assert_false(vpc_target_is_gateway(VPC_TGT_PEERING));
    assert_false(vpc_target_is_gateway(VPC_TGT_BLACKHOLE));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_base),
        cmocka_unit_test(test_valid_rules_and_routes),
        cmocka_unit_test(test_valid_gateways),
        cmocka_unit_test(test_valid_empty),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_unknown_key_top),
        cmocka_unit_test(test_misspelled_collection),
        cmocka_unit_test(test_unknown_key_nested),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_bad_id_prefix),
        cmocka_unit_test(test_duplicate_ids),
        cmocka_unit_test(test_dangling_reference),
        cmocka_unit_test(test_reference_wrong_kind),
        cmocka_unit_test(test_invalid_cidr),
        cmocka_unit_test(test_invalid_mac),
        cmocka_unit_test(test_invalid_ip),
        cmocka_unit_test(test_vpc_block_size),
        cmocka_unit_test(test_vpc_blocks_overlap),
        cmocka_unit_test(test_subnet_outside_vpc),
        cmocka_unit_test(test_subnets_overlap),
        cmocka_unit_test(test_eni_ip_outside_subnet),
        cmocka_unit_test(test_reserved_network),
        cmocka_unit_test(test_reserved_router),
        cmocka_unit_test(test_reserved_dns),
        cmocka_unit_test(test_reserved_future),
        cmocka_unit_test(test_reserved_broadcast),
        cmocka_unit_test(test_unreserved_edges),
        cmocka_unit_test(test_duplicate_ip_same_vpc),
        cmocka_unit_test(test_same_ip_different_vpcs),
        cmocka_unit_test(test_duplicate_mac),
        cmocka_unit_test(test_duplicate_vni),
        cmocka_unit_test(test_vni_range),
        cmocka_unit_test(test_eni_sg_other_vpc),
        cmocka_unit_test(test_subnet_rtb_other_vpc),
        cmocka_unit_test(test_subnet_nacl_other_vpc),
        cmocka_unit_test(test_route_target_missing),
        cmocka_unit_test(test_route_target_other_vpc),
        cmocka_unit_test(test_route_target_local),
        cmocka_unit_test(test_route_duplicate_destination),
        cmocka_unit_test(test_route_equal_to_vpc_block),
        cmocka_unit_test(test_peering_overlap),
        cmocka_unit_test(test_peering_self),
        cmocka_unit_test(test_peering_duplicate),
        cmocka_unit_test(test_eni_unknown_host),
        cmocka_unit_test(test_eni_on_edge),
        cmocka_unit_test(test_eni_metadata),
        cmocka_unit_test(test_duplicate_underlay_ip),
        cmocka_unit_test(test_sg_rule_cidr_and_group),
        cmocka_unit_test(test_sg_rule_protocol),
        cmocka_unit_test(test_sg_rule_protocol_strings),
        cmocka_unit_test(test_ports_on_icmp),
        cmocka_unit_test(test_port_range),
        cmocka_unit_test(test_nacl_duplicate_rule_number),
        cmocka_unit_test(test_nacl_rule_number_range),
        cmocka_unit_test(test_nacl_bad_action),
        cmocka_unit_test(test_sg_group_of_unpeered_vpc),
        cmocka_unit_test(test_gateway_needs_edge),
        cmocka_unit_test(test_two_internet_gateways),
        cmocka_unit_test(test_duplicate_elastic_ip),
        cmocka_unit_test(test_elastic_ip_rules),
        cmocka_unit_test(test_multiple_parse_errors),
        cmocka_unit_test(test_multiple_check_errors),
        cmocka_unit_test(test_error_format),
        cmocka_unit_test(test_from_file),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_prefix_parse),
        cmocka_unit_test(test_ip_parse),
        cmocka_unit_test(test_prefix_contains),
        cmocka_unit_test(test_prefix_overlaps),
        cmocka_unit_test(test_prefix_within),
        cmocka_unit_test(test_prefix_mask_format),
        cmocka_unit_test(test_router_ip_mac),
        cmocka_unit_test(test_id_hash),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_dns_names),
        cmocka_unit_test(test_target_kind_name),
        cmocka_unit_test(test_schema_matches_kinds),
        cmocka_unit_test(test_gateway_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
