/* daemon/state.c: desired state, diffing of cache entries, persistence. */

#include <config.h>
#include "daemon/state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/util.h"
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
    struct vpc_region *r = vpc_region_from_string(text, errors);
    if (!r) {
        return NULL;
    }
    if (vpcd_state_region_hook) {
        vpcd_state_region_hook(r, vpcd_state_region_hook_aux);
    }
    struct vpcd_state *st = xzalloc(sizeof *st);
    st->text = xstrdup(text);
    st->region = r;
    pl_flows_init(&st->flows);
    char *error = pl_compile_host(r, cfg, &st->flows);
    if (!error && cfg->mapping == PL_MAP_ACTION) {
        error = pl_mapping_entries(r, cfg, &st->entries, &st->n_entries);
        qsort(st->entries, st->n_entries, sizeof *st->entries,
              compare_entries);
    }
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
        vpc_region_destroy(st->region);
        pl_flows_destroy(&st->flows);
        free(st->entries);
        free(st);
    }
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

int
vpcd_persist(const char *file, const char *text)
{
    char *tmp = xasprintf("%s.tmp", file);
    int error = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        error = errno;
        goto out;
    }
    size_t len = strlen(text);
    for (size_t done = 0; done < len; ) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            error = errno;
            close(fd);
            goto out;
        }
        done += n;
    }
    if (fsync(fd) || close(fd)) {
        error = errno;
        goto out;
    }
    if (rename(tmp, file)) {
        error = errno;
        goto out;
    }
    /* The rename itself must reach the disk. */
    char *dir_copy = xstrdup(file);
    int dfd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY);
    free(dir_copy);
    if (dfd >= 0) {
        if (fsync(dfd)) {
            error = errno;
        }
        close(dfd);
    }
out:
    if (error) {
        unlink(tmp);
    }
    free(tmp);
    return error;
}

char *
vpcd_read_file(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        return NULL;
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
        errno = error;
        return NULL;
    }
    return ds_steal_cstr(&ds);
}

char *
vpcd_errors_json(const struct vpc_errors *errors)
{
    struct json *arr = json_array_create_empty();
    for (size_t i = 0; i < errors->n; i++) {
        json_array_add(arr, json_string_create(errors->msgs[i]));
    }
    struct json *obj = json_object_create();
    json_object_put(obj, "valid", json_boolean_create(false));
    json_object_put(obj, "errors", arr);
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
