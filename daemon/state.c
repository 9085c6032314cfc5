/* daemon/state.c: desired state, diffing of cache entries, persistence. */

#include <config.h>
#include "daemon/state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "crc32c.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/util.h"
#include "random.h"
#include "socket-util.h"
#include "timeval.h"
#include "util.h"

static int
compare_entries(const void *a_, const void *b_)
{
    const struct pl_mapping_entry *a = a_, *b = b_;
    if (a->vni != b->vni) {
        return a->vni < b->vni ? -1 : 1;
    }
    return a->ip < b->ip ? -1 : a->ip > b->ip;
}

void (*vpcd_state_region_hook)(struct vpc_region *, void *aux);
void *vpcd_state_region_hook_aux;

struct vpcd_state *
vpcd_state_build(const char *text, const struct pl_host_config *cfg,
                 struct vpc_errors *errors)
{
    return vpcd_state_build_doc(text, NULL, cfg, NULL, NULL, errors);
}

struct vpcd_state *
vpcd_state_build_doc(const char *text, const struct json *doc,
                     const struct pl_host_config *cfg,
                     const struct vpcd_state *prev, const bool *stages,
                     struct vpc_errors *errors)
{
    long long int start = time_usec();
    struct vpc_region *r = (doc ? vpc_region_from_json(doc, errors)
                                : vpc_region_from_string(text, errors));
    if (!r) {
        return NULL;
    }
    if (vpcd_state_region_hook) {
        vpcd_state_region_hook(r, vpcd_state_region_hook_aux);
    }
    struct vpcd_state *st = xzalloc(sizeof *st);
    st->text = nullable_xstrdup(text);
    st->doc = doc ? json_clone(doc) : NULL;
    st->region = r;
    pl_flows_init(&st->flows);
    long long int compiled = time_usec();
    st->model_ms = (compiled - start) / 1000.0;
    char *error = NULL;
    if (prev && stages) {
        error = pl_compile_host_stages(r, cfg, stages, &prev->flows,
                                       &st->flows);
        if (!error && stages[PL_MAPPING] && cfg->mapping == PL_MAP_ACTION) {
            /* The mapping stage's and the cache's are the same facts. */
            error = pl_mapping_entries(r, cfg, &st->entries,
                                       &st->n_entries);
            qsort(st->entries, st->n_entries, sizeof *st->entries,
                  compare_entries);
        } else if (!error) {
            st->entries = xmemdup(prev->entries,
                                  prev->n_entries * sizeof *prev->entries);
            st->n_entries = prev->n_entries;
        }
        if (!error) {
            st->partial = true;
            st->compile_ms = (time_usec() - compiled) / 1000.0;
            return st;
        }
        free(st->entries);
        st->entries = NULL;
        st->n_entries = 0;
        /* The whole compile reports it, if it fails too. */
        free(error);
        pl_flows_destroy(&st->flows);
        pl_flows_init(&st->flows);
    }
    error = pl_compile_host(r, cfg, &st->flows);
    if (!error && cfg->mapping == PL_MAP_ACTION) {
        error = pl_mapping_entries(r, cfg, &st->entries, &st->n_entries);
        qsort(st->entries, st->n_entries, sizeof *st->entries,
              compare_entries);
    }
    st->compile_ms = (time_usec() - compiled) / 1000.0;
    if (error) {
        vpc_errors_add(errors, "$", NULL, "cannot compile for host %s: %s",
                       cfg->host_id, error);
        free(error);
        vpcd_state_destroy(st);
        return NULL;
    }
    return st;
}

void
vpcd_state_destroy(struct vpcd_state *st)
{
    if (st) {
        free(st->text);
        json_destroy(st->doc);
        vpc_region_destroy(st->region);
        pl_flows_destroy(&st->flows);
        free(st->entries);
        free(st);
    }
}

const char *
vpcd_state_text(struct vpcd_state *st)
{
    if (!st->text) {
        st->text = json_to_string(st->doc, JSSF_SORT);
    }
    return st->text;
}

bool
vpcd_state_same_document(struct vpcd_state *a, struct vpcd_state *b)
{
    if (a->doc && b->doc) {
        /* Cheap when they share rendered rows (daemon/follow.c). */
        return json_equal(a->doc, b->doc);
    }
    return !strcmp(vpcd_state_text(a), vpcd_state_text(b));
}

static void
push(struct pl_mapping_entry **v, size_t *n, const struct pl_mapping_entry *e)
{
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = *e;
}

void
vpcd_entries_diff(const struct pl_mapping_entry *old, size_t n_old,
                  const struct pl_mapping_entry *new, size_t n_new,
                  struct pl_mapping_entry **set, size_t *n_set,
                  struct pl_mapping_entry **del, size_t *n_del)
{
    size_t i = 0, j = 0;
    *set = *del = NULL;
    *n_set = *n_del = 0;
    while (i < n_old || j < n_new) {
        int cmp = (i >= n_old ? 1 : j >= n_new ? -1
                   : compare_entries(&old[i], &new[j]));
        if (cmp < 0) {
            push(del, n_del, &old[i++]);
        } else if (cmp > 0) {
            push(set, n_set, &new[j++]);
        } else {
            if (old[i].underlay != new[j].underlay
                || !eth_addr_equals(old[i].mac, new[j].mac)) {
                push(set, n_set, &new[j]);
            }
            i++;
            j++;
        }
    }
}

static uint32_t
state_crc(const char *text, size_t len)
{
    return ntohl(crc32c((const uint8_t *) text, len));
}

/* Creates a new, unique temporary file next to 'file' (O_EXCL: never an
 * existing file or a symbolic link), mode 0600.  Returns its descriptor and
 * its name in '*tmp', or -1 with errno set. */
static int
create_temp(const char *file, char **tmp)
{
    for (int i = 0; i < 100; i++) {
        *tmp = xasprintf("%s.tmp.%08"PRIx32, file, random_uint32());
        int fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
                      | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST) {
            if (fd < 0) {
                free(*tmp);
                *tmp = NULL;
            }
            return fd;
        }
        free(*tmp);
    }
    *tmp = NULL;
    errno = EEXIST;
    return -1;
}

int
vpcd_persist(const char *file, uint64_t version, const char *text,
             bool keep_prev)
{
    char *tmp;
    int fd = create_temp(file, &tmp);
    if (fd < 0) {
        return errno;
    }

    size_t len = strlen(text);
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_format(&ds, VPCD_STATE_MAGIC" version=%"PRIu64" length=%"PRIuSIZE
                  " crc32c=%08"PRIx32"\n", version, len,
                  state_crc(text, len));
    ds_put_buffer(&ds, text, len);
    size_t written;
    int error = write_fully(fd, ds.string, ds.length, &written);
    ds_destroy(&ds);
    if (!error && fsync(fd)) {
        error = errno;
    }
    if (close(fd) && !error) {
        error = errno;
    }

    /* The file being replaced becomes the previous good copy: a hard link,
     * so that 'file' itself always exists, or (on a file system without
     * hard links) a rename, after which the loader falls back to 'prev'
     * until the rename below. */
    char *prev = xasprintf("%s.prev", file);
    if (!error && keep_prev && !access(file, F_OK)) {
        if (unlink(prev) && errno != ENOENT) {
            error = errno;
        } else if (link(file, prev) && rename(file, prev)) {
            error = errno;
        }
    }
    free(prev);

    if (!error && rename(tmp, file)) {
        error = errno;
    }
    if (!error) {
        /* The rename itself must reach the disk. */
        error = fsync_parent_dir(file);
    }
    if (error) {
        unlink(tmp);
    }
    free(tmp);
    return error;
}

char *
vpcd_state_parse(const char *contents, size_t size, uint64_t *version,
                 char **text)
{
    const char *nl = memchr(contents, '\n', size);
    uint64_t v;
    size_t len;
    uint32_t crc;
    int n = 0;

    *version = 0;
    *text = NULL;
    if (!nl || strncmp(contents, VPCD_STATE_MAGIC" ",
                       strlen(VPCD_STATE_MAGIC) + 1)) {
        return xstrdup("no \""VPCD_STATE_MAGIC"\" header");
    }
    char *header = xmemdup0(contents, nl - contents);
    if (sscanf(header, VPCD_STATE_MAGIC" version=%"SCNu64" length=%zu"
               " crc32c=%"SCNx32"%n", &v, &len, &crc, &n) != 3
        || header[n]) {
        char *error = xasprintf("bad header \"%s\"", header);
        free(header);
        return error;
    }
    free(header);

    const char *body = nl + 1;
    size_t body_len = size - (body - contents);
    if (body_len != len) {
        return xasprintf("%"PRIuSIZE" bytes of document, the header says "
                         "%"PRIuSIZE" (truncated?)", body_len, len);
    }
    if (memchr(body, '\0', len)) {
        return xstrdup("NUL byte in the document");
    }
    if (state_crc(body, len) != crc) {
        return xasprintf("checksum %08"PRIx32", the header says %08"PRIx32,
                         state_crc(body, len), crc);
    }
    *version = v;
    *text = xmemdup0(body, len);
    return NULL;
}

/* Reads all of 'file' into '*data' (NUL-terminated, possibly holding NUL
 * bytes: '*size' is its length).  Returns 0 or an errno value. */
static int
read_whole_file(const char *file, char **data, size_t *size)
{
    FILE *f = fopen(file, "r");
    *data = NULL;
    *size = 0;
    if (!f) {
        return errno;
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        ds_put_buffer(&ds, buf, n);
    }
    int error = ferror(f) ? EIO : 0;
    fclose(f);
    if (error) {
        ds_destroy(&ds);
        return error;
    }
    *size = ds.length;
    *data = ds_steal_cstr(&ds);
    return 0;
}

int
vpcd_state_read(const char *file, uint64_t *version, char **text,
                char **error)
{
    char *data;
    size_t size;
    int retval = read_whole_file(file, &data, &size);

    *version = 0;
    *text = NULL;
    *error = NULL;
    if (retval) {
        *error = xasprintf("%s: cannot read (%s)", file,
                           ovs_strerror(retval));
        return retval;
    }
    char *why = vpcd_state_parse(data, size, version, text);
    free(data);
    if (why) {
        *error = xasprintf("%s: corrupt: %s", file, why);
        free(why);
        return EINVAL;
    }
    return 0;
}

char *
vpcd_read_file(const char *file)
{
    char *data;
    size_t size;
    int error = read_whole_file(file, &data, &size);
    if (error) {
        errno = error;
        return NULL;
    }
    return data;
}

int
vpcd_make_private_dir(const char *dir)
{
    struct stat s;

    if (mkdir(dir, 0700) && errno != EEXIST) {
        return errno;
    }
    if (lstat(dir, &s)) {
        return errno;
    }
    if (!S_ISDIR(s.st_mode) || s.st_uid != geteuid()
        || (s.st_mode & (S_IWGRP | S_IWOTH))) {
        return EPERM;
    }
    return 0;
}

char *
vpcd_errors_json(const struct vpc_errors *errors)
{
    struct json *obj = json_object_create();
    json_object_put(obj, "valid", json_boolean_create(false));
    json_object_put(obj, "errors", vpc_errors_to_json(errors));
    char *s = json_to_string(obj, JSSF_PRETTY);
    json_destroy(obj);
    return s;
}

char *
vpcd_validate_json(const char *text, struct vpc_errors *errors,
                   int *http_status)
{
    struct vpc_region *r = vpc_region_from_string(text, errors);
    if (!r) {
        *http_status = 400;
        return vpcd_errors_json(errors);
    }
    struct json *obj = json_object_create();
    json_object_put(obj, "valid", json_boolean_create(true));
    json_object_put(obj, "vpcs", json_integer_create(r->n_vpcs));
    json_object_put(obj, "subnets", json_integer_create(r->n_subnets));
    json_object_put(obj, "enis", json_integer_create(r->n_enis));
    json_object_put(obj, "hosts", json_integer_create(r->n_hosts));
    char *s = json_to_string(obj, JSSF_PRETTY);
    json_destroy(obj);
    vpc_region_destroy(r);
    *http_status = 200;
    return s;
}
