/* daemon/state.h: vpcd's desired state, its persistence, and the parts of
 * its HTTP API that do not need a network (so unit tests can reach them).
 *
 * Ownership: a 'struct vpcd_state' owns its document text, region, flows
 * and cache entries; vpcd_state_destroy() frees them.  Threading: none; vpcd
 * is single-threaded (see daemon/vpcd.c). */

#ifndef VPCD_STATE_H
#define VPCD_STATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pipeline/pipeline.h"
#include "translator/model.h"

/* One applied (or to-be-applied) version of the intents, compiled for this
 * host. */
struct vpcd_state {
    char *text;                         /* The JSON document, verbatim;
                                         * NULL until vpcd_state_text()
                                         * if built from 'doc'. */
    struct json *doc;                   /* The document, or NULL. */
    struct vpc_region *region;
    struct pl_flows flows;
    struct pl_mapping_entry *entries;   /* Sorted by (vni, ip). */
    size_t n_entries;
    double model_ms, compile_ms;        /* What building it took. */
    bool partial;                       /* Only some stages compiled. */
};

/* Validates and compiles 'text' for 'cfg' into a new state.  On invalid
 * input returns NULL with every validation error in 'errors'; on a compile
 * error returns NULL with the message in 'errors' too. */
struct vpcd_state *vpcd_state_build(const char *text,
                                    const struct pl_host_config *cfg,
                                    struct vpc_errors *errors);
/* The same for a document already parsed: 'doc' is 'text' (the caller
 * vouches for that), which spares parsing it again.  'text' may be NULL:
 * then vpcd_state_text() renders it when it is needed.  With 'prev' and
 * 'stages' (bool[PL_N_STAGES]), the caller knows that the document
 * differs from prev's only in what those stages compile: only they are
 * compiled (pl_compile_host_stages()), the other flows are prev's, the
 * cache entries too unless the mapping stage is among them, and
 * 'partial' is set; if that fails, everything is compiled. */
struct json;
struct vpcd_state *vpcd_state_build_doc(const char *text,
                                        const struct json *doc,
                                        const struct pl_host_config *cfg,
                                        const struct vpcd_state *prev,
                                        const bool *stages,
                                        struct vpc_errors *errors);
void vpcd_state_destroy(struct vpcd_state *);

/* The state's document as text. */
const char *vpcd_state_text(struct vpcd_state *);

/* Whether two states hold the same document. */
bool vpcd_state_same_document(struct vpcd_state *, struct vpcd_state *);

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

/* The state file: one header line, then the document verbatim:
 *
 *     vpcd-state version=7 length=5123 crc32c=1a2b3c4d
 *     {"hosts": ...
 *
 * 'version' is vpcd's version counter when the document was adopted, so
 * that it keeps growing across restarts; 'length' and 'crc32c' (of the
 * document) tell a truncated or damaged file from a good one. */
#define VPCD_STATE_MAGIC "vpcd-state"

/* Writes 'version' and 'text' to 'file' atomically and durably: a new
 * temporary file in the same directory (O_CREAT|O_EXCL|O_NOFOLLOW, mode
 * 0600), every write checked, fsync, then (if 'keep_prev' and 'file'
 * exists) 'file' hard-linked as 'file'.prev, rename over 'file', fsync of
 * the directory.  Returns 0 or an errno value; on failure 'file' is as it
 * was and no temporary file is left. */
int vpcd_persist(const char *file, uint64_t version, const char *text,
                 bool keep_prev);

/* Parses 'size' bytes of a state file at 'contents'.  On success returns
 * NULL with the version and a malloc'd copy of the document; otherwise a
 * malloc'd message saying what is wrong. */
char *vpcd_state_parse(const char *contents, size_t size, uint64_t *version,
                       char **text) OVS_WARN_UNUSED_RESULT;

/* Reads state file 'file'.  Returns 0 with '*version' and '*text'; an errno
 * value if it cannot be read (ENOENT: there is none), or EINVAL if it is
 * corrupt, with a malloc'd message naming the file in '*error'. */
int vpcd_state_read(const char *file, uint64_t *version, char **text,
                    char **error);

/* Reads a whole file; NULL (and errno set) if it cannot. */
char *vpcd_read_file(const char *file);

/* Makes sure 'dir' is a directory private to this user: creates it (mode
 * 0700) if needed, and refuses (EPERM) anything else than a directory (a
 * symbolic link, say) owned by this user and writable by no one else.
 * Returns 0 or an errno value. */
int vpcd_make_private_dir(const char *dir);

/* JSON bodies of the API.  Each returns a malloc'd string. */
char *vpcd_errors_json(const struct vpc_errors *);
char *vpcd_validate_json(const char *text, struct vpc_errors *errors,
                         int *http_status);

#endif /* daemon/state.h */
