/* tests/fuzz/fuzz-imds.c: libFuzzer target for the instance metadata
 * service's request function, vpcd_imds_handle() (daemon/imds.c), which
 * parses what a VM sends: the path, the token and the TTL header.
 *
 * The input is a request: its first byte selects the method (bits 0-1: 0
 * GET, 1 PUT, 2 POST, 3 DELETE), whether X-Forwarded-For is present (bit
 * 2) and which ENI asks (bits 3-4: the ENI on ofport 1 (tokens required),
 * 2 (optional), 3 (endpoint disabled) or a peer that is no ENI's service
 * address); its second byte is the time, in milliseconds, since the last
 * input (time only goes forward, as the monotonic clock vpcd reads).
 * Then, one per line: the path, the X-aws-ec2-metadata-token header and the
 * X-aws-ec2-metadata-token-ttl-seconds header (a missing line: no header;
 * a token "@" stands for the token the last successful PUT returned, so
 * that the fuzzer reaches the paths behind a valid token), e.g.
 * "\x00\x05/latest/meta-data/\n@\n".  The service keeps its state (rate
 * limits, the last token) from one input to the next.
 *
 * Build and run: 'make fuzz-build', 'make check-fuzz' (tests/fuzz/fuzz.mk). */

#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/imds.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char doc[] =
    "{\"hosts\": [{\"id\": \"host-a\", \"underlay_ip\": \"192.168.100.1\"}],"
    " \"edges\": [{\"id\": \"edge-1\", \"underlay_ip\": \"192.168.100.9\"}],"
    " \"vpcs\": [{\"id\": \"vpc-1\", \"cidr_blocks\": [\"10.0.0.0/16\"],"
    "            \"vni\": 100}],"
    " \"security_groups\": [{\"id\": \"sg-1\", \"vpc\": \"vpc-1\"}],"
    " \"subnets\": [{\"id\": \"subnet-1\", \"vpc\": \"vpc-1\","
    "               \"cidr\": \"10.0.1.0/24\","
    "               \"availability_zone\": \"eu-west-1a\"}],"
    " \"internet_gateways\": [{\"id\": \"igw-1\", \"vpc\": \"vpc-1\"}],"
    " \"enis\": ["
    "  {\"id\": \"eni-a\", \"subnet\": \"subnet-1\","
    "   \"mac\": \"02:00:00:00:00:0a\", \"private_ip\": \"10.0.1.10\","
    "   \"host\": \"host-a\", \"security_groups\": [\"sg-1\"],"
    "   \"elastic_ip\": \"203.0.113.10\", \"user_data\": \"#cloud-config\","
    "   \"metadata_options\": {\"http_tokens\": \"required\"}},"
    "  {\"id\": \"eni-b\", \"subnet\": \"subnet-1\","
    "   \"mac\": \"02:00:00:00:00:0b\", \"private_ip\": \"10.0.1.11\","
    "   \"host\": \"host-a\"},"
    "  {\"id\": \"eni-c\", \"subnet\": \"subnet-1\","
    "   \"mac\": \"02:00:00:00:00:0c\", \"private_ip\": \"10.0.1.12\","
    "   \"host\": \"host-a\","
    "   \"metadata_options\": {\"http_endpoint\": \"disabled\"}}]}";

static const struct pl_binding bindings[] = {
    { "eni-a", 1 }, { "eni-b", 2 }, { "eni-c", 3 },
};

static struct vpc_region *region;
static struct vpcd_imds *imds;
static char *last_token;

static void
cleanup(void)
{
    vpcd_imds_destroy(imds);
    vpc_region_destroy(region);
    free(last_token);
}

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv)
{
    set_program_name((*argv)[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    struct vpc_errors errs;
    vpc_errors_init(&errs);
    region = vpc_region_from_string(doc, &errs);
    if (!region) {
        abort();
    }
    vpc_errors_destroy(&errs);
    imds = vpcd_imds_create();
    atexit(cleanup);
    return 0;
}

/* The next line of 'data' (malloc'd), or NULL if there is none. */
static char *
next_line(const uint8_t **data, size_t *size)
{
    if (!*size) {
        return NULL;
    }
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t len = nl ? (size_t) (nl - *data) : *size;
    char *line = xmemdup0((const char *) *data, len);
    *data += nl ? len + 1 : len;
    *size -= nl ? len + 1 : len;
    return line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    static const char *const methods[] = { "GET", "PUT", "POST", "DELETE" };
    static const uint32_t peers[] = {
        0xa9fe8001, 0xa9fe8002, 0xa9fe8003, 0x0a000001,
    };
    uint8_t flags = data[0];
    static long long int now;
    now += data[1];
    data += 2;
    size -= 2;

    char *path = next_line(&data, &size);
    char *token = next_line(&data, &size);
    char *ttl = next_line(&data, &size);
    struct vpcd_imds_request req = {
        .method = methods[flags & 3],
        .path = path ? path : "/",
        .token = token && !strcmp(token, "@") && last_token ? last_token
                                                            : token,
        .ttl = ttl,
        .forwarded = flags & 4,
        .peer = peers[(flags >> 3) & 3],
    };
    struct vpcd_imds_response resp;
    vpcd_imds_handle(imds, region, bindings, ARRAY_SIZE(bindings), &req, now,
                     &resp);
    if (!resp.body || !resp.content_type || resp.status < 200
        || resp.status > 599) {
        abort();
    }
    if (resp.status == 200 && resp.ttl > 0) {
        free(last_token);
        last_token = resp.body;
    } else {
        free(resp.body);
    }
    free(path);
    free(token);
    free(ttl);
    return 0;
}
