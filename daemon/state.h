/* daemon/state.h: vpcd's desired state, its persistence, and the parts of
 * its HTTP API that do not need a network (so unit tests can reach them).
 *
 * Ownership: a 'struct vpcd_state' owns its document text, region, flows
 * and cache entries; vpcd_state_destroy() frees them.  Threading: none; vpcd
 * is single-threaded (see daemon/vpcd.c). */

#ifndef VPCD_STATE_H
#define VPCD_STATE_H 1

#include <stddef.h>
#include <stdint.h>
#include "pipeline/pipeline.h"
#include "translator/model.h"

/* One applied (or to-be-applied) version of the intents, compiled for this
 * host. */
struct vpcd_state {
    char *text;                         /* The JSON document, verbatim. */
    struct vpc_region *region;
    struct pl_flows flows;
    struct pl_mapping_entry *entries;   /* Sorted by (vni, ip). */
    size_t n_entries;
};

/* Validates and compiles 'text' for 'cfg' into a new state.  On invalid
 * input returns NULL with every validation error in 'errors'; on a compile
 * error returns NULL with the message in 'errors' too. */
struct vpcd_state *vpcd_state_build(const char *text,
                                    const struct pl_host_config *cfg,
                                    struct vpc_errors *errors);
void vpcd_state_destroy(struct vpcd_state *);

/* If set, called on every region vpcd_state_build() parses, before it
 * compiles it (daemon/follow.c: a scoped document's gateways keep their
 * region-wide VNIs). */
extern void (*vpcd_state_region_hook)(struct vpc_region *, void *aux);
extern void *vpcd_state_region_hook_aux;

/* Differences between two sorted entry arrays: entries of 'new' that are
 * absent from, or different in, 'old' go to 'set'; keys of 'old' absent
 * from 'new' go to 'del'.  Arrays are malloc'd. */
void vpcd_entries_diff(const struct pl_mapping_entry *old, size_t n_old,
                       const struct pl_mapping_entry *new, size_t n_new,
                       struct pl_mapping_entry **set, size_t *n_set,
                       struct pl_mapping_entry **del, size_t *n_del);

/* Writes 'text' to 'file' atomically and durably: a temporary file in the
 * same directory, fsync, rename, fsync of the directory.  Returns 0 or an
 * errno value. */
int vpcd_persist(const char *file, const char *text);

/* Reads a whole file; NULL (and errno set) if it cannot. */
char *vpcd_read_file(const char *file);

/* JSON bodies of the API.  Each returns a malloc'd string. */
char *vpcd_errors_json(const struct vpc_errors *);
char *vpcd_validate_json(const char *text, struct vpc_errors *errors,
                         int *http_status);

#endif /* daemon/state.h */
