/* tests/fuzz/fuzz-dns.c: libFuzzer target for the VPC resolver
 * (daemon/dns.c), which parses the bytes a VM sends to its resolver.
 *
 * The input is one DNS message, the UDP payload of a query.  It is parsed
 * with vpcd_dns_parse(), every name decoder start in its first 64 bytes is
 * tried with vpcd_dns_read_name(), and it is asked from an ENI of each of
 * the two VPCs of a small static region (no upstream: everything not
 * local is REFUSED).  Every reply must be a well-formed response to the
 * query: the same id, QR set, the question echoed, no larger than the
 * asker accepts; a query that does not parse must get no reply.
 *
 * Seeds: tests/fuzz/corpus/dns/: the bytes dig 9.18 sent (A with and
 * without EDNS0 and its cookie, mixed case, -x, AAAA, ANY, +norecurse),
 * captured by a UDP socket on 127.0.0.1 that dig was pointed at ("dig
 * @127.0.0.1 -p PORT ..."), and one query with a compressed name.  Build
 * and run: 'make fuzz-build', 'make check-fuzz' (tests/fuzz/fuzz.mk). */

#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/dns.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "translator/model.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char region_json[] =
    "{\"hosts\":[{\"id\":\"host-1\",\"underlay_ip\":\"192.168.0.1\"}],"
    "\"vpcs\":[{\"id\":\"vpc-a\",\"cidr_blocks\":[\"10.0.0.0/16\"],"
    "\"vni\":100},{\"id\":\"vpc-b\",\"cidr_blocks\":[\"10.1.0.0/16\"],"
    "\"vni\":200}],"
    "\"subnets\":[{\"id\":\"subnet-a\",\"vpc\":\"vpc-a\","
    "\"cidr\":\"10.0.1.0/24\",\"availability_zone\":\"us-east-1a\"},"
    "{\"id\":\"subnet-b\",\"vpc\":\"vpc-b\",\"cidr\":\"10.1.1.0/24\"}],"
    "\"enis\":[{\"id\":\"eni-a1\",\"subnet\":\"subnet-a\",\"host\":\"host-1\","
    "\"mac\":\"02:00:00:00:01:0a\",\"private_ip\":\"10.0.1.10\","
    "\"dns_names\":[\"db.corp.example\"]},"
    "{\"id\":\"eni-b1\",\"subnet\":\"subnet-b\",\"host\":\"host-1\","
    "\"mac\":\"02:00:00:01:01:0a\",\"private_ip\":\"10.1.1.10\"}]}";

static struct vpc_region *region;
static struct vpcd_dns *dns;

struct expect {
    const struct vpcd_dns_request *rq;
    int n_replies;
};

static void
destroy(void)
{
    vpcd_dns_destroy(dns);
    vpc_region_destroy(region);
}

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv)
{
    struct vpc_errors errs;

    set_program_name((*argv)[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    vpc_errors_init(&errs);
    region = vpc_region_from_string(region_json, &errs);
    if (!region) {
        abort();
    }
    vpc_errors_destroy(&errs);
    dns = vpcd_dns_create(NULL, NULL, 0);
    vpcd_dns_set_region(dns, region);
    atexit(destroy);
    return 0;
}

static void
check_reply(const uint8_t *reply, size_t len, const void *ctx OVS_UNUSED,
            void *aux)
{
    struct expect *e = aux;
    const struct vpcd_dns_request *rq = e->rq;
    size_t max = rq->edns ? MIN(rq->edns_size, VPCD_DNS_UDP_MAX) : 512;
    struct vpcd_dns_request again;

    e->n_replies++;
    if (len < VPCD_DNS_HDR_LEN + rq->qname_len + 4 || len > max
        || ((reply[0] << 8) | reply[1]) != rq->id
        || !(reply[2] & 0x80)
        || memcmp(reply + VPCD_DNS_HDR_LEN, rq->qname, rq->qname_len)) {
        abort();
    }
    /* A reply is never taken for a query. */
    char *error = vpcd_dns_parse(reply, len, &again);
    if (!error) {
        abort();
    }
    free(error);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vpcd_dns_request rq;
    char *error = vpcd_dns_parse(data, size, &rq);
    bool ok = !error;
    free(error);

    for (size_t ofs = 0; ofs < MIN(size, 64); ofs++) {
        uint8_t wire[VPCD_DNS_MAX_NAME];
        char text[VPCD_DNS_MAX_TEXT];
        size_t wire_len, pos = ofs;
        error = vpcd_dns_read_name(data, size, &pos, wire, &wire_len, text);
        if (!error && (wire_len > VPCD_DNS_MAX_NAME || pos > size
                       || strlen(text) >= VPCD_DNS_MAX_TEXT)) {
            abort();
        }
        free(error);
    }

    static const char *const enis[] = { "eni-a1", "eni-b1" };
    for (size_t i = 0; i < ARRAY_SIZE(enis); i++) {
        struct expect e = { .rq = &rq };
        vpcd_dns_query(dns, vpc_region_find_eni(region, enis[i]), data, size,
                       NULL, 0, check_reply, &e);
        if (e.n_replies != (ok ? 1 : 0)) {
            abort();
        }
    }
    return 0;
}
