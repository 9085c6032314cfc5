/* ovs-ext/vpc-map-unixctl.c: text forms of the VPC mapping cache and its
 * "vpcmap/..." unixctl commands.
 *
 * Purpose.  Parses and formats mappings ("VNI VIP UNDERLAY [MAC]") and
 * implements the commands that vpc_map_init() registers:
 *
 *     vpcmap/add VNI VIP UNDERLAY [MAC]   add or replace one mapping
 *     vpcmap/del VNI VIP                  remove one mapping
 *     vpcmap/flush                        remove every mapping
 *     vpcmap/show                         every mapping, sorted, and a summary
 *     vpcmap/stats                        the summary only
 *     vpcmap/load FILE [COUNT]            replace everything, atomically
 *
 * Ownership.  Every function that returns a string returns a malloc()'d
 * one that the caller frees.
 *
 * Threading.  Parsing and formatting are thread-safe.  The commands run in
 * whichever thread calls unixctl_server_run() (the main thread of
 * ovs-vswitchd) and rely on vpc-map.c for their own locking. */

#include <config.h>

#include "vpc-map.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "packets.h"
#include "unixctl.h"
#include "util.h"

#define VPC_MAP_USAGE_ENTRY "VNI VIP UNDERLAY [MAC]"

static char * OVS_WARN_UNUSED_RESULT
parse_vni(const char *s, uint32_t *vni)
{
    unsigned int value;

    /* str_to_uint() would accept leading white space and a sign. */
    if (s[0] < '0' || s[0] > '9' || !str_to_uint(s, 10, &value)
        || value > VPC_MAP_VNI_MAX) {
        return xasprintf("bad VNI \"%s\" (expected 0..%d)", s,
                         VPC_MAP_VNI_MAX);
    }
    *vni = value;
    return NULL;
}

/* Parses unicast IPv4 address 's', for the argument called 'what'. */
static char * OVS_WARN_UNUSED_RESULT
parse_ip(const char *s, const char *what, ovs_be32 *ip)
{
    if (!ip_parse(s, ip)) {
        return xasprintf("bad %s \"%s\" (expected an IPv4 address)", what, s);
    }
    if (!*ip || ip_is_multicast(*ip) || *ip == htonl(UINT32_MAX)) {
        return xasprintf("bad %s \"%s\" (expected a unicast address)",
                         what, s);
    }
    return NULL;
}

static char * OVS_WARN_UNUSED_RESULT
parse_mac(const char *s, struct eth_addr *mac)
{
    int n = 0;

    if (!ovs_scan(s, ETH_ADDR_SCAN_FMT"%n", ETH_ADDR_SCAN_ARGS(*mac), &n)
        || s[n]) {
        return xasprintf("bad MAC \"%s\" (expected xx:xx:xx:xx:xx:xx)", s);
    }
    if (eth_addr_is_multicast(*mac)) {
        return xasprintf("bad MAC \"%s\" (expected a unicast address)", s);
    }
    return NULL;
}

/* Parses the fields of one mapping, "VNI VIP UNDERLAY [MAC]", from 'argc'
 * words in 'argv' into '*entry'.  Returns NULL on success, otherwise a
 * malloc()'d error message that names the bad field; '*entry' is then
 * unspecified. */
char *
vpc_map_parse_args(int argc, const char *argv[], struct vpc_map_entry *entry)
{
    char *error;

    if (argc < 3 || argc > 4) {
        return xasprintf("expected "VPC_MAP_USAGE_ENTRY", got %d field%s",
                         argc, argc == 1 ? "" : "s");
    }

    memset(entry, 0, sizeof *entry);
    error = parse_vni(argv[0], &entry->vni);
    if (!error) {
        error = parse_ip(argv[1], "VIP", &entry->vip);
    }
    if (!error) {
        error = parse_ip(argv[2], "UNDERLAY", &entry->underlay);
    }
    if (!error && argc > 3) {
        error = parse_mac(argv[3], &entry->mac);
    }
    return error;
}

/* Parses 'line', "VNI VIP UNDERLAY [MAC]" separated by white space and
 * optionally followed by a "#" comment, into '*entry'.  Returns NULL on
 * success, otherwise a malloc()'d error message. */
char *
vpc_map_parse_entry(const char *line, struct vpc_map_entry *entry)
{
    char *copy = xstrdup(line);
    const char *argv[5];
    char *save_ptr = NULL;
    char *error;
    int argc = 0;

    copy[strcspn(copy, "#")] = '\0';
    for (char *word = strtok_r(copy, " \t\r\n", &save_ptr); word;
         word = strtok_r(NULL, " \t\r\n", &save_ptr)) {
        if (argc < (int) ARRAY_SIZE(argv)) {
            argv[argc] = word;
        }
        argc++;
    }

    error = vpc_map_parse_args(argc, argv, entry);
    free(copy);
    return error;
}

/* Returns true if 'line' holds nothing but white space and a comment. */
static bool
is_blank_line(const char *line)
{
    line += strspn(line, " \t\r\n");
    return *line == '\0' || *line == '#';
}

/* Opens 'file_name' for vpc_map_load_file(): a regular file only, so that a
 * FIFO or a device cannot block the caller (ovs-vswitchd's main thread) and
 * a symbolic link is not followed.  Returns the stream, or NULL with a
 * malloc()'d message in '*error'. */
static FILE *
open_regular_file(const char *file_name, char **error)
{
    struct stat s;
    FILE *stream;
    int fd;

    fd = open(file_name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        *error = xasprintf("%s: open failed (%s)", file_name,
                           ovs_strerror(errno));
        return NULL;
    }
    if (fstat(fd, &s)) {
        *error = xasprintf("%s: stat failed (%s)", file_name,
                           ovs_strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(s.st_mode)) {
        *error = xasprintf("%s: not a regular file", file_name);
        close(fd);
        return NULL;
    }
    stream = fdopen(fd, "r");
    if (!stream) {
        *error = xasprintf("%s: fdopen failed (%s)", file_name,
                           ovs_strerror(errno));
        close(fd);
    }
    return stream;
}

/* Reads every mapping in 'file_name', one "VNI VIP UNDERLAY [MAC]" per line
 * ("#" comments and blank lines allowed), and, only if every line is valid,
 * replaces the whole cache with them in one atomic swap.  A later line with
 * the same (VNI, VIP) as an earlier one replaces it.
 *
 * 'file_name' must name a regular file (not a FIFO, a device or a symbolic
 * link).  A NUL byte, a read error or running out of memory fails the load:
 * it never loads the part read so far.  If 'expected' is nonnull, the file
 * must hold exactly '*expected' distinct mappings; if it is null, the file
 * must hold at least one (emptying the cache takes vpcmap/flush, or an
 * expected count of 0), so that a file truncated to nothing by a full disk
 * cannot empty the cache.
 *
 * On success returns NULL and stores the number of distinct mappings in
 * '*n_entries' and the new generation in '*generation'.  On failure returns a
 * malloc()'d error message naming the file (and the line, if one is to
 * blame), and the cache is unchanged. */
char *
vpc_map_load_file(const char *file_name, const size_t *expected,
                  size_t *n_entries, uint64_t *generation)
{
    struct vpc_map_batch *batch;
    char *line = NULL;          /* getline() reads in blocks, unlike
                                 * ds_get_line()'s getc() per character. */
    size_t line_size = 0;
    char *error = NULL;
    int line_number = 0;
    ssize_t length;
    FILE *stream;

    stream = open_regular_file(file_name, &error);
    if (!stream) {
        return error;
    }

    batch = vpc_map_batch_create();
    for (;;) {
        struct vpc_map_entry entry;
        char *line_error;

        errno = 0;
        length = getline(&line, &line_size, stream);
        if (length < 0) {
            /* getline() returns -1 at the end of the file, but also on a
             * read error and (without setting the error indicator) when it
             * cannot grow its buffer. */
            if (ferror(stream) || !feof(stream)) {
                error = xasprintf("%s: read failed after line %d (%s)",
                                  file_name, line_number,
                                  ovs_strerror(errno ? errno : EIO));
            }
            break;
        }
        line_number++;
        if (memchr(line, '\0', length)) {
            error = xasprintf("%s:%d: NUL byte", file_name, line_number);
            break;
        }
        line[strcspn(line, "\n")] = '\0';
        if (is_blank_line(line)) {
            continue;
        }
        line_error = vpc_map_parse_entry(line, &entry);
        if (line_error) {
            error = xasprintf("%s:%d: %s", file_name, line_number,
                              line_error);
            free(line_error);
            break;
        }
        vpc_map_batch_add(batch, &entry);
    }
    fclose(stream);
    free(line);

    if (!error) {
        size_t n = vpc_map_batch_count(batch);

        if (expected && n != *expected) {
            error = xasprintf("%s: %"PRIuSIZE" entries, expected %"PRIuSIZE
                              "; nothing loaded", file_name, n, *expected);
        } else if (!expected && !n) {
            error = xasprintf("%s: no entries; nothing loaded (to empty "
                              "the cache, use vpcmap/flush or an expected "
                              "count of 0)", file_name);
        }
    }
    if (error) {
        vpc_map_batch_destroy(batch);
        return error;
    }
    *n_entries = vpc_map_batch_count(batch);
    *generation = vpc_map_batch_commit(batch);
    return NULL;
}

/* Appends 'entry' to 'ds' as "vni=100 10.0.1.10 -> 192.168.100.2", followed
 * by " mac=xx:xx:xx:xx:xx:xx" if the MAC is known. */
void
vpc_map_format_entry(const struct vpc_map_entry *entry, struct ds *ds)
{
    ds_put_format(ds, "vni=%"PRIu32" "IP_FMT" -> "IP_FMT, entry->vni,
                  IP_ARGS(entry->vip), IP_ARGS(entry->underlay));
    if (!eth_addr_is_zero(entry->mac)) {
        ds_put_format(ds, " mac="ETH_ADDR_FMT, ETH_ADDR_ARGS(entry->mac));
    }
}

/* Appends the summary line, without a new-line, to 'ds'. */
void
vpc_map_format_stats(struct ds *ds)
{
    struct vpc_map_stats stats;

    vpc_map_get_stats(&stats);
    ds_put_format(ds, "entries=%"PRIuSIZE" generation=%"PRIu64
                  " hits=%"PRIu64" misses=%"PRIu64" verify_ok=%"PRIu64
                  " spoofed=%"PRIu64, vpc_map_count(), vpc_map_generation(),
                  stats.hits, stats.misses, stats.verify_ok, stats.spoofed);
}

/* Appends every entry, one a line sorted by (VNI, VIP), then the summary
 * line, to 'ds'. */
void
vpc_map_format(struct ds *ds)
{
    struct vpc_map_entry *entries;
    size_t n;

    entries = vpc_map_dump(&n);
    for (size_t i = 0; i < n; i++) {
        vpc_map_format_entry(&entries[i], ds);
        ds_put_char(ds, '\n');
    }
    free(entries);
    vpc_map_format_stats(ds);
    ds_put_char(ds, '\n');
}

/* Unixctl commands. */

static void
vpc_map_unixctl_add(struct unixctl_conn *conn, int argc, const char *argv[],
                    void *aux OVS_UNUSED)
{
    struct vpc_map_entry entry;
    char *error;

    error = vpc_map_parse_args(argc - 1, argv + 1, &entry);
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }
    vpc_map_set(&entry);
    unixctl_command_reply(conn, "OK");
}

static void
vpc_map_unixctl_del(struct unixctl_conn *conn, int argc OVS_UNUSED,
                    const char *argv[], void *aux OVS_UNUSED)
{
    uint32_t vni;
    ovs_be32 vip;
    char *error;

    error = parse_vni(argv[1], &vni);
    if (!error) {
        error = parse_ip(argv[2], "VIP", &vip);
    }
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }

    if (!vpc_map_del(vni, vip)) {
        error = xasprintf("no mapping for vni=%"PRIu32" "IP_FMT, vni,
                          IP_ARGS(vip));
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }
    unixctl_command_reply(conn, "OK");
}

static void
vpc_map_unixctl_flush(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    vpc_map_flush();
    unixctl_command_reply(conn, "OK");
}

static void
vpc_map_unixctl_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
                     const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    vpc_map_format(&ds);
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
vpc_map_unixctl_stats(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    vpc_map_format_stats(&ds);
    ds_put_char(&ds, '\n');
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
vpc_map_unixctl_load(struct unixctl_conn *conn, int argc,
                     const char *argv[], void *aux OVS_UNUSED)
{
    unsigned long long int count;
    uint64_t generation;
    size_t n_entries, expected = 0;
    char *error;

    if (argc > 2) {
        if (argv[2][0] < '0' || argv[2][0] > '9'
            || !str_to_ullong(argv[2], 10, &count) || count > SIZE_MAX) {
            error = xasprintf("bad expected count \"%s\"", argv[2]);
            unixctl_command_reply_error(conn, error);
            free(error);
            return;
        }
        expected = count;
    }
    error = vpc_map_load_file(argv[1], argc > 2 ? &expected : NULL,
                              &n_entries, &generation);
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }

    char *reply = xasprintf("loaded %"PRIuSIZE" entries (generation %"PRIu64
                            ")", n_entries, generation);
    unixctl_command_reply(conn, reply);
    free(reply);
}

void
vpc_map_unixctl_register(void)
{
    unixctl_command_register("vpcmap/add", VPC_MAP_USAGE_ENTRY, 3, 4,
                             vpc_map_unixctl_add, NULL);
    unixctl_command_register("vpcmap/del", "VNI VIP", 2, 2,
                             vpc_map_unixctl_del, NULL);
    unixctl_command_register("vpcmap/flush", "", 0, 0,
                             vpc_map_unixctl_flush, NULL);
    unixctl_command_register("vpcmap/show", "", 0, 0,
                             vpc_map_unixctl_show, NULL);
    unixctl_command_register("vpcmap/stats", "", 0, 0,
                             vpc_map_unixctl_stats, NULL);
    unixctl_command_register("vpcmap/load", "FILE [COUNT]", 1, 2,
                             vpc_map_unixctl_load, NULL);
}
