/* tests/fuzz/fuzz-intent.c: libFuzzer target for the intent loader and the
 * host pipeline.
 *
 * The input is a region document.  It is loaded and validated with
 * vpc_region_from_string(); a document that loads is compiled for every host
 * and edge of the region with pl_compile_host(), in both mapping modes, with
 * deterministic bindings (the host's ENIs in document order on ofports
 * 1, 2, 3..., the tunnel on 1000, as in tests/unit/test-pipeline.c), and its
 * mapping-cache entries are computed with pl_mapping_entries().  Errors are
 * fine; crashes, sanitizer reports and leaks are not.
 *
 * Build and run: 'make fuzz-build', 'make check-fuzz' (tests/fuzz/fuzz.mk). */

#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline.h"
#include "translator/model.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "util.h"

#define TUNNEL_PORT 1000

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv)
{
    set_program_name((*argv)[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    return 0;
}

static void
compile_host(const struct vpc_region *r, const struct vpc_host *h)
{
    struct pl_binding *b = xcalloc(r->n_enis + 1, sizeof *b);
    size_t n = 0;
    for (size_t i = 0; i < r->n_enis; i++) {
        if (r->enis[i].host == h) {
            b[n].eni_id = r->enis[i].id;
            b[n].ofport = n + 1;
            n++;
        }
    }

    for (int mode = 0; mode < 2; mode++) {
        struct pl_host_config cfg = {
            .host_id = h->id, .bindings = b, .n_bindings = n,
            .tunnel_ofport = TUNNEL_PORT,
            .mapping = mode ? PL_MAP_ACTION : PL_MAP_FLOWS,
        };
        struct pl_flows flows;
        pl_flows_init(&flows);
        char *error = pl_compile_host(r, &cfg, &flows);
        if (!error) {
            /* Exercise the formatting and the sort too. */
            size_t n_flows;
            const struct pl_flow **v = pl_flows_sorted(&flows, &n_flows);
            for (size_t i = 0; i < n_flows; i++) {
                free(pl_flow_to_string(v[i]));
                (void) pl_flows_ref(&flows, v[i]->cookie);
            }
            free(v);
        }
        free(error);
        pl_flows_destroy(&flows);

        struct pl_mapping_entry *entries = NULL;
        size_t n_entries = 0;
        error = pl_mapping_entries(r, &cfg, &entries, &n_entries);
        free(error);
        free(entries);
    }
    free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';

    struct vpc_errors errors;
    vpc_errors_init(&errors);
    struct vpc_region *r = vpc_region_from_string(text, &errors);
    if (r) {
        if (errors.n) {
            abort();            /* A region that loaded has no errors. */
        }
        for (size_t i = 0; i < r->n_hosts; i++) {
            compile_host(r, &r->hosts[i]);
        }
        for (size_t i = 0; i < r->n_edges; i++) {
            compile_host(r, &r->edges[i]);
        }
        vpc_region_destroy(r);
    } else if (!errors.n) {
        abort();                /* A rejected region says why. */
    }
    vpc_errors_destroy(&errors);
    free(text);
    return 0;
}
