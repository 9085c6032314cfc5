/* switch/bindings.c: what is wrong with a switch's port bindings
 * (see sw_binding_problems() in switch/switch.h). */

#include <config.h>
#include "switch/switch.h"

#include <stdlib.h>
#include <string.h>
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "translator/model.h"
#include "util.h"

static void
add_problem(struct sw_binding_problem **v, size_t *n, size_t *allocated,
            const char *eni, char *problem)
{
    if (*n >= *allocated) {
        *v = x2nrealloc(*v, allocated, sizeof **v);
    }
    (*v)[(*n)++] = (struct sw_binding_problem) {
        .eni = xstrdup(eni), .problem = problem,
    };
}

static int
compare_problems(const void *a_, const void *b_)
{
    const struct sw_binding_problem *a = a_, *b = b_;
    int cmp = strcmp(a->eni, b->eni);
    return cmp ? cmp : strcmp(a->problem, b->problem);
}

size_t
sw_binding_problems(const struct vpc_region *r, const char *host,
                    const struct pl_binding *b, size_t n,
                    struct sw_binding_problem **problems)
{
    struct sw_binding_problem *v = NULL;
    size_t n_v = 0, allocated = 0;

    /* ENI id -> its first binding. */
    struct shash plugged = SHASH_INITIALIZER(&plugged);
    for (size_t i = 0; i < n; i++) {
        const struct pl_binding *first = shash_find_data(&plugged,
                                                         b[i].eni_id);
        if (first) {
            add_problem(&v, &n_v, &allocated, b[i].eni_id,
                        xasprintf("plugged twice, at ofports %d and %d: "
                                  "only one is used", first->ofport,
                                  b[i].ofport));
            continue;
        }
        shash_add(&plugged, b[i].eni_id, &b[i]);

        const struct vpc_eni *eni = vpc_region_find_eni(r, b[i].eni_id);
        if (!eni) {
            add_problem(&v, &n_v, &allocated, b[i].eni_id,
                        xasprintf("plugged at ofport %d, but the intents "
                                  "have no such ENI: its port gets no "
                                  "traffic", b[i].ofport));
        } else if (!eni->host || strcmp(eni->host->id, host)) {
            add_problem(&v, &n_v, &allocated, b[i].eni_id,
                        xasprintf("plugged at ofport %d, but placed on %s "
                                  "(its \"host\"): its port gets no traffic "
                                  "here", b[i].ofport,
                                  eni->host ? eni->host->id : "no host"));
        }
    }
    /* By pointer: a region of 100,000 ENIs is a scan per apply. */
    const struct vpc_host *self = vpc_region_find_host(r, host);
    for (size_t i = 0; self && i < r->n_enis; i++) {
        const struct vpc_eni *eni = &r->enis[i];
        if (eni->host == self && !shash_find(&plugged, eni->id)) {
            add_problem(&v, &n_v, &allocated, eni->id,
                        xasprintf("placed on %s, but not plugged: no "
                                  "Interface has external_ids:vpc-eni-id="
                                  "%s, so nothing reaches it", host,
                                  eni->id));
        }
    }
    shash_destroy(&plugged);

    if (n_v) {
        qsort(v, n_v, sizeof *v, compare_problems);
    }
    *problems = v;
    return n_v;
}

void
sw_binding_problems_free(struct sw_binding_problem *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].eni);
        free(v[i].problem);
    }
    free(v);
}
