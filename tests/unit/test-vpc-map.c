/* tests/unit/test-vpc-map.c: unit tests of the per-host VPC mapping cache
 * (ovs-ext/src/lib/vpc-map.c) and its text forms (ovs-ext/src/lib/vpc-map-unixctl.c).
 *
 * The cache is a process-wide singleton, so every test starts by flushing it
 * and compares counters and generations as differences.  The main thread
 * quiesces after every test so that replaced tables get freed.
 *
 * Environment: VPC_MAP_TEST_N sets the size of the large test (default
 * 1000000; use a smaller one under valgrind). */

#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ovs-ext/src/lib/vpc-map.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/util.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "random.h"
#include "util.h"
#include "openvswitch/vlog.h"

/* ------------------------------------------------------------- helpers */

/* realloc() fails with ENOMEM for more than 'realloc_limit' bytes, if it is
 * nonzero: glibc's getline() grows its buffer with realloc(), so this is how
 * test_load_file_errors() makes it run out of memory. */
static size_t realloc_limit;
void *__libc_realloc(void *, size_t);
void *realloc(void *, size_t);

void *
realloc(void *p, size_t n)
{
    if (realloc_limit && n > realloc_limit) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(p, n);
}

static struct vpc_map_entry
mk(uint32_t vni, uint32_t vip, uint32_t underlay)
{
    struct vpc_map_entry e;

    memset(&e, 0, sizeof e);
    e.vni = vni;
    e.vip = htonl(vip);
    e.underlay = htonl(underlay);
    return e;
}

#define IP4(A, B, C, D) \
    (((uint32_t) (A) << 24) | ((B) << 16) | ((C) << 8) | (D))

static double
now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool
present(uint32_t vni, uint32_t vip)
{
    struct vpc_map_entry e;

    return vpc_map_lookup(vni, htonl(vip), &e);
}

static int
setup(void **state OVS_UNUSED)
{
    vpc_map_flush();
    return 0;
}

static int
teardown(void **state OVS_UNUSED)
{
    ovsrcu_quiesce();
    return 0;
}

/* ---------------------------------------------------- single operations */

static void
test_set_lookup_replace_del(void **state OVS_UNUSED)
{
    struct vpc_map_entry e = mk(100, IP4(10, 0, 1, 10),
                                IP4(192, 168, 100, 2));
    struct vpc_map_stats s0, s1;
    struct vpc_map_entry out;
    uint64_t g0 = vpc_map_generation();

    vpc_map_get_stats(&s0);
    assert_false(vpc_map_lookup(100, e.vip, &out));

    eth_addr_from_string("02:00:00:00:01:0a", &e.mac);
    vpc_map_set(&e);
    assert_int_equal(vpc_map_count(), 1);
    assert_int_equal(vpc_map_generation(), g0 + 1);
    assert_true(vpc_map_lookup(100, e.vip, &out));
    assert_memory_equal(&out, &e, sizeof e);

    /* Same VIP in another VNI is another key. */
    assert_false(vpc_map_lookup(101, e.vip, &out));

    /* Replace. */
    struct vpc_map_entry e2 = mk(100, IP4(10, 0, 1, 10),
                                 IP4(192, 168, 100, 3));
    vpc_map_set(&e2);
    assert_int_equal(vpc_map_count(), 1);
    assert_int_equal(vpc_map_generation(), g0 + 2);
    assert_true(vpc_map_lookup(100, e.vip, &out));
    assert_int_equal(out.underlay, htonl(IP4(192, 168, 100, 3)));
    assert_true(eth_addr_is_zero(out.mac));

    /* Delete. */
    assert_false(vpc_map_del(100, htonl(IP4(10, 0, 1, 11))));
    assert_int_equal(vpc_map_generation(), g0 + 2);
    assert_true(vpc_map_del(100, e.vip));
    assert_int_equal(vpc_map_generation(), g0 + 3);
    assert_false(vpc_map_del(100, e.vip));
    assert_int_equal(vpc_map_count(), 0);
    assert_false(vpc_map_lookup(100, e.vip, &out));

    vpc_map_get_stats(&s1);
    assert_int_equal(s1.hits - s0.hits, 2);
    assert_int_equal(s1.misses - s0.misses, 3);
    assert_int_equal(s1.verify_ok, s0.verify_ok);
    assert_int_equal(s1.spoofed, s0.spoofed);
}

static void
test_flush(void **state OVS_UNUSED)
{
    for (uint32_t i = 0; i < 100; i++) {
        struct vpc_map_entry e = mk(i % 3, IP4(10, 0, 0, i), IP4(1, 1, 1, 1));
        vpc_map_set(&e);
    }
    assert_int_equal(vpc_map_count(), 100);

    uint64_t g = vpc_map_generation();
    vpc_map_flush();
    assert_int_equal(vpc_map_generation(), g + 1);
    assert_int_equal(vpc_map_count(), 0);
    for (uint32_t i = 0; i < 100; i++) {
        assert_false(present(i % 3, IP4(10, 0, 0, i)));
    }

    /* Still usable after a flush. */
    struct vpc_map_entry e = mk(5, IP4(10, 9, 9, 9), IP4(1, 1, 1, 1));
    vpc_map_set(&e);
    assert_true(present(5, IP4(10, 9, 9, 9)));
}

static void
test_verify(void **state OVS_UNUSED)
{
    struct vpc_map_entry e = mk(100, IP4(10, 0, 1, 10),
                                IP4(192, 168, 100, 2));
    struct vpc_map_stats s0, s1;

    vpc_map_set(&e);
    vpc_map_get_stats(&s0);

    assert_true(vpc_map_verify(100, e.vip, htonl(IP4(192, 168, 100, 2))));
    assert_true(vpc_map_verify(100, e.vip, htonl(IP4(192, 168, 100, 2))));
    /* Wrong host. */
    assert_false(vpc_map_verify(100, e.vip, htonl(IP4(192, 168, 100, 9))));
    /* Wrong VNI, unknown VIP: no mapping at all. */
    assert_false(vpc_map_verify(200, e.vip, htonl(IP4(192, 168, 100, 2))));
    assert_false(vpc_map_verify(100, htonl(IP4(10, 0, 1, 11)),
                                htonl(IP4(192, 168, 100, 2))));

    vpc_map_get_stats(&s1);
    assert_int_equal(s1.verify_ok - s0.verify_ok, 2);
    assert_int_equal(s1.spoofed - s0.spoofed, 3);
    /* Verification is not a lookup. */
    assert_int_equal(s1.hits, s0.hits);
    assert_int_equal(s1.misses, s0.misses);
}

/* --------------------------------------------------------------- batches */

static void
test_batch_commit(void **state OVS_UNUSED)
{
    struct vpc_map_entry a = mk(1, IP4(10, 0, 0, 1), IP4(1, 1, 1, 1));
    struct vpc_map_entry b = mk(1, IP4(10, 0, 0, 2), IP4(1, 1, 1, 1));
    struct vpc_map_entry c = mk(2, IP4(10, 0, 0, 1), IP4(2, 2, 2, 2));
    struct vpc_map_entry c2 = mk(2, IP4(10, 0, 0, 1), IP4(3, 3, 3, 3));
    struct vpc_map_entry d = mk(2, IP4(10, 0, 0, 3), IP4(2, 2, 2, 2));
    struct vpc_map_entry out;

    vpc_map_set(&a);
    vpc_map_set(&b);

    struct vpc_map_batch *batch = vpc_map_batch_create();
    vpc_map_batch_add(batch, &c);
    vpc_map_batch_add(batch, &d);
    vpc_map_batch_add(batch, &c2);      /* Replaces 'c' in the batch. */
    assert_int_equal(vpc_map_batch_count(batch), 2);

    /* Nothing visible before the commit. */
    assert_false(present(2, IP4(10, 0, 0, 1)));
    assert_int_equal(vpc_map_count(), 2);

    uint64_t g = vpc_map_generation();
    assert_int_equal(vpc_map_batch_commit(batch), g + 1);
    assert_int_equal(vpc_map_generation(), g + 1);
    assert_int_equal(vpc_map_count(), 2);
    assert_false(present(1, IP4(10, 0, 0, 1)));
    assert_false(present(1, IP4(10, 0, 0, 2)));
    assert_true(vpc_map_lookup(2, htonl(IP4(10, 0, 0, 1)), &out));
    assert_int_equal(out.underlay, htonl(IP4(3, 3, 3, 3)));
    assert_true(present(2, IP4(10, 0, 0, 3)));

    /* Single writes work on the committed table. */
    assert_true(vpc_map_del(2, htonl(IP4(10, 0, 0, 3))));
    vpc_map_set(&a);
    assert_int_equal(vpc_map_count(), 2);

    /* An empty batch empties the cache. */
    vpc_map_batch_commit(vpc_map_batch_create());
    assert_int_equal(vpc_map_count(), 0);
}

static void
test_batch_destroy(void **state OVS_UNUSED)
{
    struct vpc_map_entry a = mk(1, IP4(10, 0, 0, 1), IP4(1, 1, 1, 1));
    struct vpc_map_entry b = mk(1, IP4(10, 0, 0, 2), IP4(1, 1, 1, 1));

    vpc_map_set(&a);
    uint64_t g = vpc_map_generation();

    struct vpc_map_batch *batch = vpc_map_batch_create();
    vpc_map_batch_add(batch, &b);
    vpc_map_batch_add(batch, &b);
    vpc_map_batch_destroy(batch);
    vpc_map_batch_destroy(NULL);

    assert_int_equal(vpc_map_generation(), g);
    assert_int_equal(vpc_map_count(), 1);
    assert_true(present(1, IP4(10, 0, 0, 1)));
    assert_false(present(1, IP4(10, 0, 0, 2)));
}

/* ------------------------------------------------------- parsing, format */

static void
assert_parse_error(const char *line, const char *expected)
{
    struct vpc_map_entry e;
    char *error = vpc_map_parse_entry(line, &e);

    if (!error || !strstr(error, expected)) {
        fail_msg("\"%s\": expected error containing \"%s\", got \"%s\"",
                 line, expected, error ? error : "(success)");
    }
    free(error);
}

static void
test_parse(void **state OVS_UNUSED)
{
    struct vpc_map_entry e, want;
    char *error;

    error = vpc_map_parse_entry("100 10.0.1.10 192.168.100.2", &e);
    assert_null(error);
    want = mk(100, IP4(10, 0, 1, 10), IP4(192, 168, 100, 2));
    assert_memory_equal(&e, &want, sizeof e);

    error = vpc_map_parse_entry("  16777215\t10.0.1.10  192.168.100.2 "
                                "02:00:00:AA:bb:01  # ENI eni-1\n", &e);
    assert_null(error);
    want = mk(0xffffff, IP4(10, 0, 1, 10), IP4(192, 168, 100, 2));
    want.mac = (struct eth_addr) ETH_ADDR_C(02, 00, 00, aa, bb, 01);
    assert_memory_equal(&e, &want, sizeof e);

    assert_parse_error("", "got 0 fields");
    assert_parse_error("# only a comment", "got 0 fields");
    assert_parse_error("100 10.0.1.10", "got 2 fields");
    assert_parse_error("100 10.0.1.10 1.2.3.4 02:00:00:00:00:01 x",
                       "got 5 fields");
    assert_parse_error("16777216 10.0.1.10 1.2.3.4", "bad VNI \"16777216\"");
    assert_parse_error("-1 10.0.1.10 1.2.3.4", "bad VNI \"-1\"");
    assert_parse_error("0x10 10.0.1.10 1.2.3.4", "bad VNI \"0x10\"");
    assert_parse_error("12a 10.0.1.10 1.2.3.4", "bad VNI \"12a\"");
    assert_parse_error("100 10.0.1 1.2.3.4", "bad VIP \"10.0.1\"");
    assert_parse_error("100 10.0.1.256 1.2.3.4", "bad VIP \"10.0.1.256\"");
    assert_parse_error("100 0.0.0.0 1.2.3.4", "bad VIP \"0.0.0.0\"");
    assert_parse_error("100 10.0.1.10 host-2", "bad UNDERLAY \"host-2\"");
    assert_parse_error("100 10.0.1.10 224.0.0.1",
                       "bad UNDERLAY \"224.0.0.1\"");
    assert_parse_error("100 10.0.1.10 255.255.255.255", "bad UNDERLAY");
    assert_parse_error("100 10.0.1.10 1.2.3.4 02:00:00:00:00",
                       "bad MAC \"02:00:00:00:00\"");
    assert_parse_error("100 10.0.1.10 1.2.3.4 02:00:00:00:00:01:02",
                       "bad MAC");
    assert_parse_error("100 10.0.1.10 1.2.3.4 01:00:5e:00:00:01",
                       "bad MAC \"01:00:5e:00:00:01\" (expected a unicast");
}

static void
test_format(void **state OVS_UNUSED)
{
    struct vpc_map_entry e[4] = {
        mk(100, IP4(10, 0, 1, 10), IP4(192, 168, 100, 2)),
        mk(100, IP4(10, 0, 1, 9), IP4(192, 168, 100, 3)),
        mk(20, IP4(10, 1, 0, 1), IP4(192, 168, 100, 4)),
        mk(100, IP4(9, 255, 255, 255), IP4(192, 168, 100, 5)),
    };
    struct ds ds = DS_EMPTY_INITIALIZER;

    eth_addr_from_string("02:00:00:00:01:0a", &e[0].mac);
    for (int i = 0; i < 4; i++) {
        vpc_map_set(&e[i]);
    }
    vpc_map_format(&ds);

    struct vpc_map_stats s;
    vpc_map_get_stats(&s);
    char *want = xasprintf(
        "vni=20 10.1.0.1 -> 192.168.100.4\n"
        "vni=100 9.255.255.255 -> 192.168.100.5\n"
        "vni=100 10.0.1.9 -> 192.168.100.3\n"
        "vni=100 10.0.1.10 -> 192.168.100.2 mac=02:00:00:00:01:0a\n"
        "entries=4 generation=%"PRIu64" hits=%"PRIu64" misses=%"PRIu64
        " verify_ok=%"PRIu64" spoofed=%"PRIu64"\n",
        vpc_map_generation(), s.hits, s.misses, s.verify_ok, s.spoofed);
    assert_string_equal(ds_cstr(&ds), want);
    free(want);
    ds_destroy(&ds);
}

static char *
write_temp_file(const char *contents)
{
    char *name = xstrdup("/tmp/test-vpc-map-XXXXXX");
    int fd = mkstemp(name);

    assert_true(fd >= 0);
    FILE *stream = fdopen(fd, "w");
    assert_non_null(stream);
    fputs(contents, stream);
    fclose(stream);
    return name;
}

static void
test_load_file(void **state OVS_UNUSED)
{
    struct vpc_map_entry old = mk(7, IP4(10, 7, 7, 7), IP4(7, 7, 7, 7));
    struct vpc_map_entry out;
    uint64_t generation;
    size_t n;
    char *error;

    vpc_map_set(&old);

    /* A bad line 5: nothing changes. */
    char *bad = write_temp_file("# header\n"
                                "100 10.0.1.10 192.168.100.2\n"
                                "\n"
                                "   # indented comment\n"
                                "100 10.0.1.11 192.168.100.x\n"
                                "100 10.0.1.12 192.168.100.2\n");
    uint64_t g = vpc_map_generation();
    error = vpc_map_load_file(bad, NULL, &n, &generation);
    assert_non_null(error);
    char *want = xasprintf("%s:5: bad UNDERLAY \"192.168.100.x\"", bad);
    assert_non_null(strstr(error, want));
    free(want);
    free(error);
    assert_int_equal(vpc_map_generation(), g);
    assert_int_equal(vpc_map_count(), 1);
    assert_true(present(7, IP4(10, 7, 7, 7)));
    assert_false(present(100, IP4(10, 0, 1, 10)));
    unlink(bad);
    free(bad);

    /* A good file replaces everything, in one generation. */
    char *good = write_temp_file("# header\n"
                                 "100 10.0.1.10 192.168.100.2 "
                                 "02:00:00:00:01:0a\n"
                                 "\n"
                                 "100 10.0.1.11 192.168.100.3  # eni-2\n"
                                 "200 10.0.1.10 192.168.100.4\r\n"
                                 "100 10.0.1.11 192.168.100.5\n"
                                 "300 10.3.0.1 192.168.100.6");
    error = vpc_map_load_file(good, NULL, &n, &generation);
    assert_null(error);
    assert_int_equal(n, 4);
    assert_int_equal(generation, g + 1);
    assert_int_equal(vpc_map_generation(), g + 1);
    assert_int_equal(vpc_map_count(), 4);
    assert_false(present(7, IP4(10, 7, 7, 7)));
    assert_true(vpc_map_lookup(100, htonl(IP4(10, 0, 1, 11)), &out));
    assert_int_equal(out.underlay, htonl(IP4(192, 168, 100, 5)));
    assert_true(present(200, IP4(10, 0, 1, 10)));
    assert_true(present(300, IP4(10, 3, 0, 1)));
    unlink(good);
    free(good);

    /* A missing file. */
    error = vpc_map_load_file("/nonexistent/vpc-map", NULL, &n,
                              &generation);
    assert_non_null(error);
    assert_non_null(strstr(error, "/nonexistent/vpc-map: open failed"));
    free(error);
    assert_int_equal(vpc_map_generation(), g + 1);
}

/* Returns true if getline() fails on 'text' (with realloc_limit set). */
static bool
getline_fails(char *text)
{
    FILE *stream = fmemopen(text, strlen(text), "r");
    char *line = NULL;
    size_t size = 0;
    bool failed = false;

    assert_non_null(stream);
    while (!failed && getline(&line, &size, stream) != -1) {
        continue;
    }
    failed = !feof(stream);
    free(line);
    fclose(stream);
    return failed;
}

/* Loads 'file' with 'expected' (or NULL) and checks that it fails with a
 * message containing 'message' and leaves the cache alone. */
static void
assert_load_fails(const char *file, const size_t *expected,
                  const char *message)
{
    uint64_t g = vpc_map_generation(), generation;
    size_t count = vpc_map_count(), n;
    char *error = vpc_map_load_file(file, expected, &n, &generation);

    if (!error || !strstr(error, message)) {
        fail_msg("loading %s: expected an error with \"%s\", got %s", file,
                 message, error ? error : "success");
    }
    free(error);
    assert_int_equal(vpc_map_generation(), g);
    assert_int_equal(vpc_map_count(), count);
}

static void
test_load_file_errors(void **state OVS_UNUSED)
{
    struct vpc_map_entry old = mk(7, IP4(10, 7, 7, 7), IP4(7, 7, 7, 7));
    uint64_t generation;
    size_t n, expected;
    char *error;

    vpc_map_set(&old);

    /* A NUL byte on line 2: refused, not read as "100 10.0.1.11 ...". */
    char *file = write_temp_file("100 10.0.1.10 192.168.100.2\n");
    FILE *stream = fopen(file, "a");
    assert_non_null(stream);
    static const char nul_line[] = "100 10.0.1.11 192.168.100.3\0 junk\n";
    fwrite(nul_line, 1, sizeof nul_line - 1, stream);
    fclose(stream);
    char *want = xasprintf("%s:2: NUL byte", file);
    assert_load_fails(file, NULL, want);
    free(want);

    /* The expected count: 1 loads it; 2 does not. */
    unlink(file);
    free(file);
    file = write_temp_file("100 10.0.1.10 192.168.100.2\n"
                           "100 10.0.1.10 192.168.100.3\n");
    expected = 2;
    assert_load_fails(file, &expected, "1 entries, expected 2");
    expected = 1;
    error = vpc_map_load_file(file, &expected, &n, &generation);
    assert_null(error);
    assert_int_equal(n, 1);
    assert_false(present(7, IP4(10, 7, 7, 7)));
    unlink(file);
    free(file);

    /* An empty file (or only comments) needs an expected count of 0. */
    file = write_temp_file("# nothing here\n\n");
    assert_load_fails(file, NULL, "no entries; nothing loaded");
    expected = 0;
    error = vpc_map_load_file(file, &expected, &n, &generation);
    assert_null(error);
    assert_int_equal(n, 0);
    assert_int_equal(vpc_map_count(), 0);
    vpc_map_set(&old);

    /* Not a regular file: a FIFO (opening it for reading would block), a
     * directory, a symbolic link (not followed). */
    char *fifo = xasprintf("%s.fifo", file);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_load_fails(fifo, NULL, "not a regular file");
    unlink(fifo);
    free(fifo);
    assert_load_fails("/", NULL, "/: not a regular file");
    char *link = xasprintf("%s.link", file);
    assert_int_equal(symlink(file, link), 0);
    assert_load_fails(link, &expected, "open failed");
    unlink(link);
    free(link);
    unlink(file);
    free(file);

    /* getline() out of memory on line 2 is an error, not the end of the
     * file after one good line. */
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&ds, "100 10.0.1.10 192.168.100.2\n");
    for (int i = 0; i < 1024 * 1024; i++) {
        ds_put_char(&ds, 'x');
    }
    ds_put_char(&ds, '\n');
    file = write_temp_file(ds_cstr(&ds));
    realloc_limit = 64 * 1024;
    if (!getline_fails(ds_cstr(&ds))) {
        /* Under valgrind, say, realloc() is not ours. */
        realloc_limit = 0;
        print_message("realloc() is not interposed: out of memory in "
                      "getline() not tested\n");
    } else {
        error = vpc_map_load_file(file, NULL, &n, &generation);
        realloc_limit = 0;
        assert_non_null(error);
        assert_non_null(strstr(error, "read failed after line 1"));
        free(error);
        assert_int_equal(vpc_map_count(), 1);
        assert_true(present(7, IP4(10, 7, 7, 7)));
    }
    ds_destroy(&ds);
    unlink(file);
    free(file);
}

/* ------------------------------------------------------------ large table */

static size_t
large_n(void)
{
    const char *s = getenv("VPC_MAP_TEST_N");
    return s && atoi(s) > 0 ? atoi(s) : 1000000;
}

static uint32_t
large_vni(size_t i)
{
    return 100 + (i & 15);
}

static uint32_t
large_vip(size_t i)
{
    return IP4(10, 0, 0, 0) + (uint32_t) i;
}

static void
test_large(void **state OVS_UNUSED)
{
    size_t n = large_n();
    struct vpc_map_entry out;
    double t0, t1, t2, t3, t4;
    size_t found = 0;

    t0 = now_sec();
    for (size_t i = 0; i < n; i++) {
        struct vpc_map_entry e = mk(large_vni(i), large_vip(i),
                                    IP4(192, 168, 0, 0) + (i & 0xffff));
        vpc_map_set(&e);
    }
    t1 = now_sec();
    assert_int_equal(vpc_map_count(), n);

    for (size_t i = 0; i < n; i++) {
        found += vpc_map_lookup(large_vni(i), htonl(large_vip(i)), &out);
    }
    t2 = now_sec();
    assert_int_equal(found, n);
    assert_false(present(large_vni(0) + 1000, large_vip(0)));

    /* The same table as one batch. */
    struct vpc_map_batch *batch = vpc_map_batch_create();
    for (size_t i = 0; i < n; i++) {
        struct vpc_map_entry e = mk(large_vni(i), large_vip(i),
                                    IP4(192, 168, 1, 0) + (i & 0xffff));
        vpc_map_batch_add(batch, &e);
    }
    t3 = now_sec();
    vpc_map_batch_commit(batch);
    t4 = now_sec();
    assert_int_equal(vpc_map_count(), n);
    assert_true(vpc_map_lookup(large_vni(n - 1), htonl(large_vip(n - 1)),
                               &out));
    assert_int_equal(out.underlay,
                     htonl(IP4(192, 168, 1, 0) + ((n - 1) & 0xffff)));

    printf("[ INFO     ] %zu entries: vpc_map_set %.3f s (%.2f M/s), "
           "lookup %.3f s (%.2f M/s), batch build %.3f s (%.2f M/s), "
           "commit %.6f s\n", n,
           t1 - t0, n / (t1 - t0) / 1e6, t2 - t1, n / (t2 - t1) / 1e6,
           t3 - t2, n / (t3 - t2) / 1e6, t4 - t3);

    vpc_map_flush();
}

/* ------------------------------------------------------------ concurrency */

#define N_FIXED 1000
#define N_COMMITS 200
#define N_OTHERS 2000
#define N_READERS 2

static uint32_t
fixed_vni(int i)
{
    return 7 + (i & 3);
}

static uint32_t
fixed_vip(int i)
{
    return IP4(10, 200, 0, 0) + i;
}

static uint32_t
fixed_underlay(int i, uint32_t gen)
{
    return IP4(192, 168, 0, 0) + ((i + gen) & 0xffff);
}

struct reader {
    pthread_t thread;
    atomic_bool *stop;
    atomic_uint64_t passes;     /* Full passes over the fixed keys. */
    uint64_t lookups;
    uint64_t misses;            /* Fixed keys not found: must stay 0. */
    uint64_t bad;               /* Found, but with the wrong key. */
};

static void *
reader_main(void *reader_)
{
    struct reader *r = reader_;

    for (;;) {
        bool stop;

        atomic_read_relaxed(r->stop, &stop);
        if (stop) {
            break;
        }
        for (int i = 0; i < N_FIXED; i++) {
            struct vpc_map_entry out;

            if (!vpc_map_lookup(fixed_vni(i), htonl(fixed_vip(i)), &out)) {
                r->misses++;
            } else if (out.vni != fixed_vni(i)
                       || out.vip != htonl(fixed_vip(i))) {
                r->bad++;
            }
            r->lookups++;
        }
        ovsrcu_quiesce();

        uint64_t passes;
        atomic_read_relaxed(&r->passes, &passes);
        atomic_store_relaxed(&r->passes, passes + 1);
    }
    return NULL;
}

static void
wait_for_passes(struct reader *readers, int n, uint64_t min_passes)
{
    for (int i = 0; i < n; i++) {
        for (;;) {
            uint64_t passes;

            atomic_read_relaxed(&readers[i].passes, &passes);
            if (passes >= min_passes) {
                break;
            }
            ovsrcu_quiesce();
            xnanosleep(100 * 1000);
        }
    }
}

static struct vpc_map_entry
random_other(void)
{
    /* 172.16.0.0/12 never collides with the fixed keys in 10.200/16. */
    return mk(1 + random_range(1000),
              IP4(172, 16, 0, 0) + random_range(1 << 20),
              IP4(192, 168, 200, 0) + random_range(256));
}

static void
test_concurrency(void **state OVS_UNUSED)
{
    struct reader readers[N_READERS];
    atomic_bool stop;
    struct vpc_map_stats s0, s1;

    /* Generation 0 of the fixed keys. */
    for (int i = 0; i < N_FIXED; i++) {
        struct vpc_map_entry e = mk(fixed_vni(i), fixed_vip(i),
                                    fixed_underlay(i, 0));
        vpc_map_set(&e);
    }
    vpc_map_get_stats(&s0);

    atomic_init(&stop, false);
    for (int i = 0; i < N_READERS; i++) {
        memset(&readers[i], 0, sizeof readers[i]);
        readers[i].stop = &stop;
        atomic_init(&readers[i].passes, 0);
        readers[i].thread = ovs_thread_create("vpc-map-reader", reader_main,
                                              &readers[i]);
    }
    wait_for_passes(readers, N_READERS, 1);

    uint64_t g0 = vpc_map_generation();
    double t0 = now_sec();
    size_t n_single = 0;
    for (uint32_t c = 1; c <= N_COMMITS; c++) {
        struct vpc_map_batch *batch = vpc_map_batch_create();

        for (int i = 0; i < N_FIXED; i++) {
            struct vpc_map_entry e = mk(fixed_vni(i), fixed_vip(i),
                                        fixed_underlay(i, c));
            vpc_map_batch_add(batch, &e);
        }
        for (int i = 0; i < N_OTHERS; i++) {
            struct vpc_map_entry e = random_other();
            vpc_map_batch_add(batch, &e);
        }
        vpc_map_batch_commit(batch);

        /* Single writes between commits: other keys come and go, and some
         * fixed keys are replaced in place (they must never miss either). */
        for (int i = 0; i < 20; i++) {
            struct vpc_map_entry e = random_other();

            vpc_map_set(&e);
            if (i & 1) {
                vpc_map_del(e.vni, e.vip);
            }
            int k = random_range(N_FIXED);
            e = mk(fixed_vni(k), fixed_vip(k), fixed_underlay(k, c + 7));
            vpc_map_set(&e);
            n_single += 2 + (i & 1);
        }
        ovsrcu_quiesce();
    }
    double t1 = now_sec();

    /* Make sure the readers overlapped the writes until the end. */
    uint64_t passes_before[N_READERS];
    for (int i = 0; i < N_READERS; i++) {
        atomic_read_relaxed(&readers[i].passes, &passes_before[i]);
    }
    wait_for_passes(readers, N_READERS,
                    MAX(passes_before[0], passes_before[1]) + 1);

    atomic_store_relaxed(&stop, true);
    uint64_t lookups = 0;
    for (int i = 0; i < N_READERS; i++) {
        xpthread_join(readers[i].thread, NULL);
        printf("[ INFO     ] reader %d: %"PRIu64" lookups, %"PRIu64
               " misses, %"PRIu64" wrong entries\n", i, readers[i].lookups,
               readers[i].misses, readers[i].bad);
        assert_int_equal(readers[i].misses, 0);
        assert_int_equal(readers[i].bad, 0);
        assert_true(readers[i].lookups >= N_FIXED);
        lookups += readers[i].lookups;
    }
    printf("[ INFO     ] %d commits of %d entries + %zu single writes in "
           "%.3f s, concurrent with %"PRIu64" lookups\n", N_COMMITS,
           N_FIXED + N_OTHERS, n_single, t1 - t0, lookups);

    /* Every fixed key is present, the generation counted every write, and
     * the exited readers' counters were folded in exactly. */
    for (int i = 0; i < N_FIXED; i++) {
        assert_true(present(fixed_vni(i), fixed_vip(i)));
    }
    assert_true(vpc_map_generation() > g0 + N_COMMITS);
    vpc_map_get_stats(&s1);
    assert_int_equal(s1.hits - s0.hits, lookups + N_FIXED);
    assert_int_equal(s1.misses, s0.misses);
}

int
main(int argc OVS_UNUSED, char *argv[])
{
    set_program_name(argv[0]);
    /* test_verify spoofs on purpose; keep its warnings out of the output. */
    vlog_set_levels(vlog_module_from_name("vpc_map"), VLF_ANY_DESTINATION,
                    VLL_ERR);
    vpc_map_init();
    vpc_map_init();             /* Idempotent. */

    const struct CMUnitTest tests[] = {
#define T(NAME) cmocka_unit_test_setup_teardown(NAME, setup, teardown)
        T(test_set_lookup_replace_del),
        T(test_flush),
        T(test_verify),
        T(test_batch_commit),
        T(test_batch_destroy),
        T(test_parse),
        T(test_format),
        T(test_load_file),
        T(test_load_file_errors),
        T(test_large),
        T(test_concurrency),
#undef T
    };
    int failures = cmocka_run_group_tests(tests, NULL, NULL);

    vpc_map_flush();
    ovsrcu_exit();
    return failures;
}
