/* tests/fuzz/fuzz-http.c: libFuzzer target for vpcd's HTTP API,
 * vpcd_http() (daemon/agent.c), which answers (method, path, body) without a
 * network.
 *
 * The input is split into a request: its first byte modulo 4 selects the
 * method (0 GET, 1 PUT, 2 POST, 3 DELETE, which the API does not support;
 * the seeds use the digits '0'..'3'), the bytes up to the first newline are
 * the path and the rest is the body, e.g. "1/v1/intents\n{...}".  Requests go to one static
 * "offline" agent for host-a, as in tests/unit/test-vpcd.c: its OVSDB,
 * OpenFlow and ovs-vswitchd sockets do not exist, so installs fail at once
 * and a valid document is kept as the desired state (202).  The agent keeps
 * its state from one input to the next, like a real vpcd.
 *
 * Build and run: 'make fuzz-build', 'make check-fuzz' (tests/fuzz/fuzz.mk). */

#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/agent.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vpcd d;

static void
destroy_vpcd(void)
{
    vpcd_destroy(&d);
}

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv)
{
    set_program_name((*argv)[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);

    memset(&d, 0, sizeof d);
    d.host = "host-a";
    d.bridge = "br-int";
    d.intents_file = NULL;
    d.state_file = NULL;
    d.db = xstrdup("unix:/nonexistent/ovs-vpc-fuzz/db.sock");
    d.switch_target = xstrdup("unix:/nonexistent/ovs-vpc-fuzz/br-int.mgmt");
    d.vswitchd_ctl = xstrdup("/nonexistent/ovs-vpc-fuzz/ovs-vswitchd.ctl");
    d.mapping = getenv("VPC_FUZZ_MAPPING_FLOWS") ? PL_MAP_FLOWS
                                                 : PL_MAP_ACTION;
    atexit(destroy_vpcd);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) {
        return 0;
    }
    static const char *const methods[] = { "GET", "PUT", "POST", "DELETE" };
    const char *method = methods[data[0] % ARRAY_SIZE(methods)];
    data++;
    size--;

    const uint8_t *nl = memchr(data, '\n', size);
    size_t path_len = nl ? (size_t) (nl - data) : size;
    char *path = xmemdup0((const char *) data, path_len);
    size_t body_off = nl ? path_len + 1 : size;
    char *body = xmemdup0((const char *) data + body_off, size - body_off);

    const char *content_type = NULL;
    char *out = NULL;
    int status = vpcd_http(&d, method, path, body, &content_type, &out);
    if (!out || !content_type || status < 200 || status > 599) {
        abort();
    }
    free(out);

    /* The agent's other outputs, after every request. */
    free(vpcd_status_json(&d));
    free(vpcd_desired_flows(&d));

    free(path);
    free(body);
    return 0;
}
