/* pipeline/flows.c: the stage table and the flow set. */

#include <config.h>
#include "pipeline/pipeline.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "pipeline/regs.h"
#include "openvswitch/util.h"
#include "util.h"

/* A stage as pipeline/stages.def declares it. */
struct stage_decl {
    int table;
    const char *label;
    const char *doc;
    enum pl_bridge bridge;
    enum pl_stage next;         /* PL_NONE: the stage only outputs or drops. */
    const enum pl_stage *jumps; /* The other successors it may go to. */
    size_t n_jumps;
};

/* PL_JUMPS(A, B, ...) -> a pointer to { A, B, ... } and its length (a
 * leading PL_NONE keeps an empty list valid C). */
#define PL_JUMPS(...)                                                   \
    (const enum pl_stage[]) { PL_NONE, __VA_ARGS__ } + 1,               \
    sizeof ((const enum pl_stage[]) { PL_NONE, __VA_ARGS__ })           \
        / sizeof (enum pl_stage) - 1

static const struct stage_decl stages[] = {
#define PL_STAGE(NAME, BRIDGE, TABLE, LABEL, NEXT, JUMPS, DOC) \
    { TABLE, LABEL, DOC, PL_BR_##BRIDGE, PL_##NEXT, JUMPS },
#include "pipeline/stages.def"
#undef PL_STAGE
};
#undef PL_JUMPS
BUILD_ASSERT_DECL(ARRAY_SIZE(stages) == PL_N_STAGES);

int
pl_stage_table(enum pl_stage s)
{
    return stages[s].table;
}

const char *
pl_stage_label(enum pl_stage s)
{
    return stages[s].label;
}

const char *
pl_stage_doc(enum pl_stage s)
{
    return stages[s].doc;
}

bool
pl_stage_on(enum pl_stage s, enum pl_bridge bridge)
{
    return (stages[s].bridge & bridge) != 0;
}

enum pl_stage
pl_stage_next(enum pl_stage s)
{
    return stages[s].next;
}

bool
pl_stage_may_goto(enum pl_stage from, enum pl_stage to)
{
    if (to == stages[from].next) {
        return to != PL_NONE;
    }
    for (size_t i = 0; i < stages[from].n_jumps; i++) {
        if (stages[from].jumps[i] == to) {
            return true;
        }
    }
    return false;
}

int
pl_goto_table(enum pl_stage from, enum pl_stage to)
{
    ovs_assert(pl_stage_may_goto(from, to));
    return stages[to].table;
}

int
pl_next(enum pl_stage from)
{
    return pl_goto_table(from, stages[from].next);
}

int
pl_stage_by_table(int table)
{
    for (int s = 0; s < PL_N_STAGES; s++) {
        if (stages[s].table == table) {
            return s;
        }
    }
    return -1;
}

/* Every table that 'actions' sends the packet on to ("goto_table:N", and
 * "table=N" inside ct()) must be a declared successor of 'stage'.  Returns
 * NULL or a message naming the first one that is not. */
static char *
check_successors(enum pl_stage stage, const char *actions)
{
    static const char *const keys[] = { "goto_table:", "table=" };
    for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
        for (const char *p = strstr(actions, keys[k]); p;
             p = strstr(p + 1, keys[k])) {
            int table = atoi(p + strlen(keys[k]));
            int to = pl_stage_by_table(table);
            if (to < 0 || !pl_stage_may_goto(stage, to)) {
                return xasprintf("stage %s goes to table %d, which is not "
                                 "one of its successors in "
                                 "pipeline/stages.def (actions \"%s\")",
                                 pl_stage_label(stage), table, actions);
            }
        }
    }
    return NULL;
}

struct pl_ref {
    struct hmap_node node;
    uint64_t cookie;
    char *ref;
};

void
pl_flows_init(struct pl_flows *fs)
{
    hmap_init(&fs->flows);
    hmap_init(&fs->refs);
    fs->error = NULL;
}

void
pl_flows_destroy(struct pl_flows *fs)
{
    if (!fs) {
        return;
    }
    struct pl_flow *f;
    HMAP_FOR_EACH_POP (f, node, &fs->flows) {
        free(f->match);
        free(f->actions);
        free(f);
    }
    hmap_destroy(&fs->flows);
    struct pl_ref *r;
    HMAP_FOR_EACH_POP (r, node, &fs->refs) {
        free(r->ref);
        free(r);
    }
    hmap_destroy(&fs->refs);
    free(fs->error);
}

/* Interns 'ref' and sets '*cookiep' to its cookie: the hash of the object
 * id (the text before the first space) in the upper half, so that an
 * operator can select every flow of one object with a cookie mask, and the
 * hash of the whole reference below.  32 bits collide within one object
 * from about 65,000 references (an SG with that many rules): the lower half
 * of a reference whose cookie another one already has is rehashed with the
 * next basis until it is free, so every reference keeps a cookie of its
 * own.  The choice depends only on the references added before, in the
 * compiler's deterministic order, so the same document gets the same
 * cookies. */
static const char *
intern_ref(struct pl_flows *fs, const char *ref, uint64_t *cookiep)
{
    size_t len = strcspn(ref, " ");
    char *id = xmemdup0(ref, len);
    uint64_t high = (uint64_t) pl_id_hash(id) << 32;
    free(id);

    uint32_t low = pl_id_hash(ref);
    for (uint32_t basis = 1; ; low = hash_string(ref, basis++)) {
        uint64_t cookie = high | low;
        if (cookie == UINT64_MAX) {
            continue;           /* Means "no cookie change" in a flow_mod. */
        }
        struct pl_ref *r;
        bool taken = false;
        HMAP_FOR_EACH_WITH_HASH (r, node, hash_uint64(cookie), &fs->refs) {
            if (r->cookie == cookie) {
                if (!strcmp(r->ref, ref)) {
                    *cookiep = cookie;
                    return r->ref;
                }
                taken = true;
                break;
            }
        }
        if (!taken) {
            r = xmalloc(sizeof *r);
            r->cookie = cookie;
            r->ref = xstrdup(ref);
            hmap_insert(&fs->refs, &r->node, hash_uint64(cookie));
            *cookiep = cookie;
            return r->ref;
        }
    }
}

const char *
pl_flows_ref(const struct pl_flows *fs, uint64_t cookie)
{
    struct pl_ref *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash_uint64(cookie), &fs->refs) {
        if (r->cookie == cookie) {
            return r->ref;
        }
    }
    return NULL;
}

static uint32_t
flow_hash(int table, int priority, const char *match)
{
    return hash_string(match, hash_int(table << 16 | priority, 0));
}

const struct pl_flow *
pl_flows_find(const struct pl_flows *fs, int table, int priority,
              const char *match)
{
    const struct pl_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, node, flow_hash(table, priority, match),
                             &fs->flows) {
        if (f->table == table && f->priority == priority
            && !strcmp(f->match, match)) {
            return f;
        }
    }
    return NULL;
}

bool
pl_flows_equal(const struct pl_flows *a, const struct pl_flows *b)
{
    if (hmap_count(&a->flows) != hmap_count(&b->flows)) {
        return false;
    }
    const struct pl_flow *f;
    HMAP_FOR_EACH (f, node, &a->flows) {
        const struct pl_flow *g = pl_flows_find(b, f->table, f->priority,
                                                f->match);
        if (!g || g->cookie != f->cookie || strcmp(g->actions, f->actions)) {
            return false;
        }
    }
    return true;
}

/* Describes one flow that 'b' misses or holds otherwise. */
static char *
pl_flows_difference__(const struct pl_flows *a, const struct pl_flows *b,
                      const char *a_name, const char *b_name)
{
    const struct pl_flow *f;
    HMAP_FOR_EACH (f, node, &a->flows) {
        const struct pl_flow *g = pl_flows_find(b, f->table, f->priority,
                                                f->match);
        if (!g) {
            return xasprintf("table=%d,priority=%d,%s only in %s",
                             f->table, f->priority, f->match, a_name);
        } else if (g->cookie != f->cookie || strcmp(g->actions, f->actions)) {
            return xasprintf("table=%d,priority=%d,%s: cookie %#"PRIx64
                             " actions=%s in %s, cookie %#"PRIx64
                             " actions=%s in %s", f->table, f->priority,
                             f->match, f->cookie, f->actions, a_name,
                             g->cookie, g->actions, b_name);
        }
    }
    return NULL;
}

char *
pl_flows_difference(const struct pl_flows *a, const struct pl_flows *b)
{
    char *d = pl_flows_difference__(a, b, "the first", "the second");
    return d ? d : pl_flows_difference__(b, a, "the second", "the first");
}

void
pl_flows_copy_except(const struct pl_flows *from,
                     const bool stages[PL_N_STAGES], struct pl_flows *to)
{
    const struct pl_flow *f;
    HMAP_FOR_EACH (f, node, &from->flows) {
        int s = pl_stage_by_table(f->table);
        if (s >= 0 && !stages[s]) {
            pl_flow_add(to, s, f->priority, f->ref, xstrdup(f->match),
                        xstrdup(f->actions));
        }
    }
}

void
pl_flow_add(struct pl_flows *fs, enum pl_stage stage, int priority,
            const char *ref, char *match, char *actions)
{
    int table = pl_stage_table(stage);
    if (!fs->error) {
        fs->error = check_successors(stage, actions);
    }
    uint32_t hash = flow_hash(table, priority, match);
    struct pl_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, node, hash, &fs->flows) {
        if (f->table == table && f->priority == priority
            && !strcmp(f->match, match)) {
            if (strcmp(f->actions, actions) && !fs->error) {
                fs->error = xasprintf("conflicting flows in %s, priority "
                                      "%d, match \"%s\": \"%s\" (%s) vs "
                                      "\"%s\" (%s)", pl_stage_label(stage),
                                      priority, match, f->actions, f->ref,
                                      actions, ref);
            }
            free(match);
            free(actions);
            return;
        }
    }

    f = xmalloc(sizeof *f);
    f->table = table;
    f->priority = priority;
    f->ref = intern_ref(fs, ref, &f->cookie);
    f->match = match;
    f->actions = actions;
    hmap_insert(&fs->flows, &f->node, hash);
}

void
pl_flow_addf(struct pl_flows *fs, enum pl_stage stage, int priority,
             const char *ref, const char *match, const char *actions_fmt, ...)
{
    va_list args;
    va_start(args, actions_fmt);
    char *actions = xvasprintf(actions_fmt, args);
    va_end(args);
    pl_flow_add(fs, stage, priority, ref, xstrdup(match), actions);
}

void
pl_flow_add_miss_drop(struct pl_flows *fs, enum pl_stage stage)
{
    pl_flow_addf(fs, stage, PL_PRIO_MISS, "pipeline", "", "drop");
}

char *
pl_flow_log_sample(uint32_t point)
{
    return xasprintf("sample(probability=65535,collector_set_id=%d,"
                     "obs_domain_id=%d,obs_point_id=%"PRIu32")",
                     PL_FL_COLLECTOR_SET, PL_FL_DOMAIN, point);
}

char *
pl_arp_reply_actions(struct eth_addr mac, const char *out)
{
    return xasprintf("move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
                     "set_field:"ETH_ADDR_FMT"->eth_src,"
                     "set_field:2->arp_op,"
                     "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
                     "set_field:"ETH_ADDR_FMT"->arp_sha,"
                     "move:NXM_OF_ARP_TPA[]->"NXM_SCRATCH","
                     "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
                     "move:"NXM_SCRATCH"->NXM_OF_ARP_SPA[],%s",
                     ETH_ADDR_ARGS(mac), ETH_ADDR_ARGS(mac), out);
}

static int
compare_flows(const void *a_, const void *b_)
{
    const struct pl_flow *a = *(const struct pl_flow **) a_;
    const struct pl_flow *b = *(const struct pl_flow **) b_;
    if (a->table != b->table) {
        return a->table < b->table ? -1 : 1;
    }
    if (a->priority != b->priority) {
        return a->priority > b->priority ? -1 : 1;
    }
    return strcmp(a->match, b->match);
}

const struct pl_flow **
pl_flows_sorted(const struct pl_flows *fs, size_t *n)
{
    const struct pl_flow **v = xmalloc((hmap_count(&fs->flows) + 1)
                                       * sizeof *v);
    size_t i = 0;
    const struct pl_flow *f;
    HMAP_FOR_EACH (f, node, &fs->flows) {
        v[i++] = f;
    }
    qsort(v, i, sizeof *v, compare_flows);
    *n = i;
    return v;
}

char *
pl_flow_to_string(const struct pl_flow *f)
{
    return xasprintf("table=%d, priority=%d, cookie=0x%016"PRIx64"%s%s "
                     "actions=%s", f->table, f->priority, f->cookie,
                     f->match[0] ? ", " : "", f->match, f->actions);
}

void
pl_write_doc(FILE *out)
{
    static const char *const bridges[] = {
        [PL_BR_HOST] = "host", [PL_BR_EDGE] = "edge",
        [PL_BR_BOTH] = "both",
    };
    fprintf(out, "| table | stage | bridge | next | what it does |\n"
                 "|------:|-------|--------|------|--------------|\n");
    for (int s = 0; s < PL_N_STAGES; s++) {
        const struct stage_decl *d = &stages[s];
        fprintf(out, "| %d | `%s` | %s | ", d->table, d->label,
                bridges[d->bridge]);
        if (d->next == PL_NONE) {
            fprintf(out, "(outputs)");
        } else {
            fprintf(out, "`%s`", stages[d->next].label);
        }
        for (size_t i = 0; i < d->n_jumps; i++) {
            fprintf(out, "%s`%s`", i ? ", " : "; or ",
                    stages[d->jumps[i]].label);
        }
        fprintf(out, " | %s |\n", d->doc);
    }
}
