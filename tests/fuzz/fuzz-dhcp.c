/* tests/fuzz/fuzz-dhcp.c: libFuzzer target for vpcd's DHCP server
 * (daemon/dhcp.c), which parses frames a VM sends.
 *
 * The input is one Ethernet frame as stage services hands it to vpcd.  It
 * is parsed with dhcp_parse() and, if that succeeds, answered with
 * dhcp_answer() for eni-web-a of examples/web-tier.json, built in memory
 * once; a reply must then be a well-formed frame of at least the BOOTP
 * minimum that never exceeds what the builder can produce.  The seeds
 * (tests/fuzz/corpus/dhcp/) are DISCOVER, REQUEST, INFORM and RELEASE
 * frames written by tests/dhcp-packet.py.
 *
 * Build and run: 'make fuzz-build', 'make check-fuzz' (tests/fuzz/fuzz.mk). */

#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/dhcp.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "translator/model.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dhcp_config cfg;

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv)
{
    set_program_name((*argv)[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    const char *doc =
        "{\"hosts\": [{\"id\": \"host-a\", \"underlay_ip\": \"192.0.2.1\"}],"
        " \"dhcp_options\": [{\"id\": \"dopt-a\", \"domain_name\": \"x.test\","
        "   \"domain_name_servers\": [\"AmazonProvidedDNS\", \"10.0.0.53\"],"
        "   \"ntp_servers\": [\"10.0.0.123\"]}],"
        " \"vpcs\": [{\"id\": \"vpc-a\", \"cidr_blocks\": [\"10.0.0.0/16\"],"
        "   \"vni\": 7, \"dhcp_options_id\": \"dopt-a\"}],"
        " \"subnets\": [{\"id\": \"subnet-a\", \"vpc\": \"vpc-a\","
        "   \"cidr\": \"10.0.1.0/24\"}],"
        " \"security_groups\": [{\"id\": \"sg-a\", \"vpc\": \"vpc-a\","
        "   \"ingress\": [], \"egress\": []}],"
        " \"enis\": [{\"id\": \"eni-a\", \"subnet\": \"subnet-a\","
        "   \"host\": \"host-a\", \"mac\": \"02:00:00:00:00:01\","
        "   \"private_ip\": \"10.0.1.10\", \"security_groups\": [\"sg-a\"]}]}";
    struct vpc_errors errors;
    vpc_errors_init(&errors);
    struct vpc_region *r = vpc_region_from_string(doc, &errors);
    if (!r) {
        abort();
    }
    vpc_errors_destroy(&errors);
    dhcp_config_from_model(r, &r->enis[0], &cfg);
    vpc_region_destroy(r);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that ASan sees any read past the end. */
    uint8_t *frame = xmemdup(data, size);
    struct dhcp_request req;
    char *error = dhcp_parse(frame, size, &req);
    if (error) {
        free(error);
        free(frame);
        return 0;
    }
    struct ofpbuf reply;
    ofpbuf_init(&reply, 0);
    uint8_t type = 0;
    if (dhcp_answer(&req, &cfg, &reply, &type) == DHCP_OUT_REPLY) {
        if (reply.size < 14 + 20 + 8 + 300 || reply.size > 1500
            || (type != DHCP_OFFER && type != DHCP_ACK
                && type != DHCP_NAK)) {
            abort();
        }
    } else if (reply.size) {
        abort();
    }
    ofpbuf_uninit(&reply);
    free(frame);
    return 0;
}
