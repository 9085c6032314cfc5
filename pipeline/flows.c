/* pipeline/flows.c: the stage table and the flow set. */

#include <config.h>
#include "pipeline/pipeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hash.h"
#include "openvswitch/util.h"
#include "util.h"

static const struct {
    int table;
    const char *label;
    const char *doc;
} stages[] = {
#define PL_STAGE(NAME, TABLE, LABEL, DOC) { TABLE, LABEL, DOC },
#include "pipeline/stages.def"
#undef PL_STAGE
};
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
    uint64_t high = (uint64_t) vpc_id_hash(id) << 32;
    free(id);

    uint32_t low = vpc_id_hash(ref);
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

void
pl_flow_add(struct pl_flows *fs, enum pl_stage stage, int priority,
            const char *ref, char *match, char *actions)
{
    int table = pl_stage_table(stage);
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
    fprintf(out, "| table | stage | what it does |\n"
                 "|------:|-------|--------------|\n");
    for (int s = 0; s < PL_N_STAGES; s++) {
        fprintf(out, "| %d | `%s` | %s |\n", stages[s].table,
                stages[s].label, stages[s].doc);
    }
}
