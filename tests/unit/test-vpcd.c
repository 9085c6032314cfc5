/* tests/unit/test-vpcd.c: unit tests of vpcd's logic without its event loop
 * or a running Open vSwitch: daemon/state.c (desired state, cache-entry
 * diffs, persistence, the validate/errors JSON bodies) and daemon/agent.c's
 * HTTP API, vpcd_http(), which is a pure function of (method, path, body).
 *
 * The HTTP tests drive an "offline" agent: its OVSDB, OpenFlow and
 * ovs-vswitchd control sockets are unix sockets that do not exist, so every
 * install fails at once and a valid document is accepted but not installed
 * (202, in_sync false).  Examples are read relative to $VPC_SRCDIR (default:
 * the current directory, the top of the tree when run by 'make check-unit'),
 * as in test-pipeline.c.
 *
 * test_cache_sync() runs a fake ovs-vswitchd in a child process: ovs-ext's
 * real mapping cache (vpc-map.c) and its vpcmap/... commands behind a unixctl
 * socket, so that the agent's cache synchronization meets real replies. */

#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "translator/version.h"
#include "daemon/agent.h"
#include "daemon/state.h"
#include "pipeline/pipeline.h"
#include "translator/model.h"
#include "ovs-ext/src/lib/vpc-map.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "unixctl.h"
#include "util.h"

/* Sockets that do not exist: connecting fails at once with ENOENT. */
#define NO_DB      "unix:/nonexistent/ovs-vpc-test/db.sock"
#define NO_SWITCH  "unix:/nonexistent/ovs-vpc-test/br-int.mgmt"
#define NO_CTL     "/nonexistent/ovs-vpc-test/ovs-vswitchd.ctl"

/* ------------------------------------------------------------- helpers */

static const char *
srcdir(void)
{
    const char *s = getenv("VPC_SRCDIR");
    return s && *s ? s : ".";
}

static char *
example_text(const char *example)
{
    char *name = xasprintf("%s/examples/%s.json", srcdir(), example);
    char *text = vpcd_read_file(name);
    if (!text) {
        fail_msg("cannot read %s (%s)", name, ovs_strerror(errno));
    }
    free(name);
    return text;
}

/* web-tier.json with VPC vpc-web's VNI made invalid (0): one error, at
 * $.vpcs[0].vni. */
static char *
invalid_web_tier(void)
{
    char *text = example_text("web-tier");
    const char *vni = "\"vni\": 1010";
    char *p = strstr(text, vni);
    assert_non_null(p);
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_buffer(&ds, text, p - text);
    ds_put_cstr(&ds, "\"vni\": 0");
    ds_put_cstr(&ds, p + strlen(vni));
    free(text);
    return ds_steal_cstr(&ds);
}

/* Parses 'text' as a JSON object; fails the test otherwise. */
static struct json *
parse_object(const char *text)
{
    struct json *j = json_from_string(text);
    assert_non_null(j);
    if (j->type != JSON_OBJECT) {
        fail_msg("expected a JSON object, got: %s", text);
    }
    return j;
}

static const struct json *
member(const struct json *obj, const char *key)
{
    const struct json *v = shash_find_data(json_object(obj), key);
    if (!v) {
        fail_msg("JSON object has no member \"%s\"", key);
    }
    return v;
}

static long long int
int_member(const struct json *obj, const char *key)
{
    const struct json *v = member(obj, key);
    assert_int_equal(v->type, JSON_INTEGER);
    return json_integer(v);
}

static bool
bool_member(const struct json *obj, const char *key)
{
    const struct json *v = member(obj, key);
    assert_true(v->type == JSON_TRUE || v->type == JSON_FALSE);
    return v->type == JSON_TRUE;
}

/* True if some string of JSON array 'arr' contains 'needle'. */
static bool
array_has_substring(const struct json *arr, const char *needle)
{
    assert_int_equal(arr->type, JSON_ARRAY);
    for (size_t i = 0; i < json_array(arr)->n; i++) {
        const struct json *e = json_array(arr)->elems[i];
        if (e->type == JSON_OBJECT) {
            e = member(e, "message");       /* An error object. */
        }
        assert_int_equal(e->type, JSON_STRING);
        if (strstr(json_string(e), needle)) {
            return true;
        }
    }
    return false;
}

static struct pl_mapping_entry
entry(uint32_t vni, uint32_t ip, uint32_t underlay, uint8_t mac_last)
{
    struct pl_mapping_entry e = {
        .vni = vni, .ip = ip, .underlay = underlay,
        .mac = (struct eth_addr) ETH_ADDR_C(02,00,00,00,00,00),
    };
    e.mac.ea[5] = mac_last;
    return e;
}

static void
assert_entry_equal(const struct pl_mapping_entry *a,
                   const struct pl_mapping_entry *b)
{
    assert_int_equal(a->vni, b->vni);
    assert_int_equal(a->ip, b->ip);
    assert_int_equal(a->underlay, b->underlay);
    assert_true(eth_addr_equals(a->mac, b->mac));
}

/* A temporary directory, removed (with the files the tests make) by
 * rm_tmpdir(). */
static char *
make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir = xasprintf("%s/test-vpcd.XXXXXX", base && *base ? base
                                                                : "/tmp");
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void
rm_tmpdir(char *dir, const char *const files[])
{
    for (size_t i = 0; files[i]; i++) {
        char *f = xasprintf("%s/%s", dir, files[i]);
        unlink(f);
        free(f);
    }
    assert_int_equal(rmdir(dir), 0);    /* Fails if anything was left. */
    free(dir);
}

/* ------------------------------------------------------ vpcd_entries_diff */

static void
test_diff_empty(void **state OVS_UNUSED)
{
    struct pl_mapping_entry *set, *del;
    size_t n_set, n_del;

    vpcd_entries_diff(NULL, 0, NULL, 0, &set, &n_set, &del, &n_del);
    assert_int_equal(n_set, 0);
    assert_int_equal(n_del, 0);
    free(set);
    free(del);

    /* Empty old: everything is set.  Empty new: everything deleted. */
    struct pl_mapping_entry v[] = {
        entry(100, 0x0a000001, 0xc0a80001, 1),
        entry(100, 0x0a000002, 0xc0a80002, 2),
    };
    vpcd_entries_diff(NULL, 0, v, 2, &set, &n_set, &del, &n_del);
    assert_int_equal(n_set, 2);
    assert_int_equal(n_del, 0);
    assert_entry_equal(&set[0], &v[0]);
    assert_entry_equal(&set[1], &v[1]);
    free(set);
    free(del);

    vpcd_entries_diff(v, 2, NULL, 0, &set, &n_set, &del, &n_del);
    assert_int_equal(n_set, 0);
    assert_int_equal(n_del, 2);
    assert_entry_equal(&del[0], &v[0]);
    assert_entry_equal(&del[1], &v[1]);
    free(set);
    free(del);
}

static void
test_diff_identical(void **state OVS_UNUSED)
{
    struct pl_mapping_entry v[] = {
        entry(100, 0x0a000001, 0xc0a80001, 1),
        entry(100, 0x0a000002, 0xc0a80002, 2),
        entry(200, 0x0a000001, 0xc0a80003, 3),
    };
    struct pl_mapping_entry w[ARRAY_SIZE(v)];
    memcpy(w, v, sizeof v);

    struct pl_mapping_entry *set, *del;
    size_t n_set, n_del;
    vpcd_entries_diff(v, ARRAY_SIZE(v), w, ARRAY_SIZE(w),
                      &set, &n_set, &del, &n_del);
    assert_int_equal(n_set, 0);
    assert_int_equal(n_del, 0);
    free(set);
    free(del);
}

static void
test_diff_changes(void **state OVS_UNUSED)
{
    /* Sorted by (vni, ip).  The same IP under two VNIs is two keys. */
    struct pl_mapping_entry old[] = {
        entry(100, 0x0a000001, 0xc0a80001, 1),  /* Unchanged. */
        entry(100, 0x0a000002, 0xc0a80002, 2),  /* Underlay changes. */
        entry(100, 0x0a000003, 0xc0a80001, 3),  /* MAC changes. */
        entry(100, 0x0a000004, 0xc0a80001, 4),  /* Deleted. */
        entry(200, 0x0a000001, 0xc0a80001, 5),  /* Deleted (VNI). */
        entry(300, 0x0a000009, 0xc0a80001, 9),  /* Unchanged, last. */
    };
    struct pl_mapping_entry new[] = {
        entry(50,  0x0a000001, 0xc0a80001, 7),  /* Added, before all. */
        entry(100, 0x0a000001, 0xc0a80001, 1),
        entry(100, 0x0a000002, 0xc0a80009, 2),
        entry(100, 0x0a000003, 0xc0a80001, 33),
        entry(100, 0x0a000005, 0xc0a80001, 6),  /* Added, between. */
        entry(300, 0x0a000009, 0xc0a80001, 9),
        entry(400, 0x0a000001, 0xc0a80001, 8),  /* Added, after all. */
    };

    struct pl_mapping_entry *set, *del;
    size_t n_set, n_del;
    vpcd_entries_diff(old, ARRAY_SIZE(old), new, ARRAY_SIZE(new),
                      &set, &n_set, &del, &n_del);

    assert_int_equal(n_set, 5);
    assert_entry_equal(&set[0], &new[0]);
    assert_entry_equal(&set[1], &new[2]);      /* Underlay. */
    assert_entry_equal(&set[2], &new[3]);      /* MAC. */
    assert_entry_equal(&set[3], &new[4]);
    assert_entry_equal(&set[4], &new[6]);

    assert_int_equal(n_del, 2);
    assert_entry_equal(&del[0], &old[3]);
    assert_entry_equal(&del[1], &old[4]);
    free(set);
    free(del);
}

/* ----------------------------------------------- persistence, reading */

/* Reads state file 'file' and checks its version and document. */
static void
assert_state(const char *file, uint64_t version, const char *text)
{
    uint64_t v;
    char *t, *error;
    int retval = vpcd_state_read(file, &v, &t, &error);
    if (retval) {
        fail_msg("%s: %s", file, error);
    }
    assert_null(error);
    assert_int_equal(v, version);
    assert_string_equal(t, text);
    free(t);
}

/* The names of the files in 'dir', sorted, space-separated. */
static char *
dir_listing(const char *dir)
{
    char *cmd = xasprintf("ls -A '%s' | sort | tr '\\n' ' '", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char buf[1024] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = '\0';
    pclose(p);
    free(cmd);
    return xstrdup(buf);
}

static void
test_persist(void **state OVS_UNUSED)
{
    char *dir = make_tmpdir();
    char *file = xasprintf("%s/state", dir);
    char *prev = xasprintf("%s/state.prev", dir);
    struct stat s;

    assert_int_equal(vpcd_persist(file, 1, "{\"first\": 1}\n", true), 0);
    assert_state(file, 1, "{\"first\": 1}\n");
    char *text = vpcd_read_file(file);
    assert_non_null(strstr(text, "vpcd-state version=1 length=13 crc32c="));
    free(text);
    assert_int_equal(stat(file, &s), 0);
    assert_int_equal(s.st_mode & 0777, 0600);
    char *ls = dir_listing(dir);
    assert_string_equal(ls, "state ");        /* No temporary file left. */
    free(ls);

    /* The next version keeps the previous one as state.prev. */
    assert_int_equal(vpcd_persist(file, 2, "{}", true), 0);
    assert_state(file, 2, "{}");
    assert_state(prev, 1, "{\"first\": 1}\n");
    assert_int_equal(vpcd_persist(file, 3, "", true), 0);
    assert_state(file, 3, "");
    assert_state(prev, 2, "{}");
    ls = dir_listing(dir);
    assert_string_equal(ls, "state state.prev ");
    free(ls);

    /* A symbolic link where earlier vpcds put their temporary file
     * (state.tmp, opened with O_TRUNC) is not followed: its target is
     * untouched. */
    char *victim = xasprintf("%s/victim", dir);
    char *tmp_link = xasprintf("%s/state.tmp", dir);
    FILE *f = fopen(victim, "w");
    fputs("precious", f);
    fclose(f);
    assert_int_equal(symlink(victim, tmp_link), 0);
    assert_int_equal(vpcd_persist(file, 3, "", false), 0);
    char *v = vpcd_read_file(victim);
    assert_string_equal(v, "precious");
    free(v);
    assert_int_equal(unlink(tmp_link), 0);
    assert_int_equal(unlink(victim), 0);
    free(tmp_link);
    free(victim);

    /* Without keep_prev, state.prev stays as it was. */
    assert_int_equal(vpcd_persist(file, 4, "{\"four\": 4}", false), 0);
    assert_state(file, 4, "{\"four\": 4}");
    assert_state(prev, 2, "{}");

    /* A directory that does not exist: an errno value, nothing created. */
    char *bad = xasprintf("%s/no-such-dir/state", dir);
    assert_int_equal(vpcd_persist(bad, 1, "{}", true), ENOENT);
    free(bad);

    /* The target is a directory: rename fails, no temporary file left,
     * the previous copy is the old one. */
    char *subdir = xasprintf("%s/a-dir", dir);
    assert_int_equal(mkdir(subdir, 0700), 0);
    assert_int_not_equal(vpcd_persist(subdir, 1, "{}", false), 0);
    ls = dir_listing(dir);
    assert_string_equal(ls, "a-dir state state.prev ");
    free(ls);
    assert_int_equal(rmdir(subdir), 0);
    free(subdir);

    free(prev);
    free(file);
    rm_tmpdir(dir, (const char *const[]) { "state", "state.prev", NULL });
}

/* vpcd_state_parse() tells good files from damaged ones. */
static void
test_state_parse(void **state OVS_UNUSED)
{
    uint64_t v;
    char *text, *error;

    static const char good[] = "vpcd-state version=7 length=2 "
                               "crc32c=%08x\n{}";
    /* Learn the checksum of "{}" from a real write. */
    char *dir = make_tmpdir();
    char *file = xasprintf("%s/state", dir);
    assert_int_equal(vpcd_persist(file, 7, "{}", true), 0);
    char *contents = vpcd_read_file(file);
    unsigned int crc;
    assert_int_equal(sscanf(contents, good, &crc), 1);

    error = vpcd_state_parse(contents, strlen(contents), &v, &text);
    assert_null(error);
    assert_int_equal(v, 7);
    assert_string_equal(text, "{}");
    free(text);

    struct {
        const char *contents;
        const char *error;
    } bad[] = {
        { "", "no \"vpcd-state\" header" },
        { "{\"vpcs\": []}", "no \"vpcd-state\" header" },
        { "vpcd-state version=7 length=2\n{}", "bad header" },
        { "vpcd-state version=x length=2 crc32c=0\n{}", "bad header" },
        { "vpcd-state version=7 length=3 crc32c=0\n{}",
          "2 bytes of document, the header says 3 (truncated?)" },
        { "vpcd-state version=7 length=2 crc32c=0\n{}", "checksum" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        error = vpcd_state_parse(bad[i].contents, strlen(bad[i].contents),
                                 &v, &text);
        if (!error || !strstr(error, bad[i].error)) {
            fail_msg("\"%s\": expected \"%s\", got %s", bad[i].contents,
                     bad[i].error, error ? error : "success");
        }
        assert_null(text);
        free(error);
    }

    /* One changed byte, or a NUL byte. */
    contents[strlen(contents) - 1] = ']';
    error = vpcd_state_parse(contents, strlen(contents), &v, &text);
    assert_non_null(strstr(error, "checksum"));
    free(error);
    contents[strlen(contents) - 1] = '\0';
    error = vpcd_state_parse(contents, strlen(contents) + 1, &v, &text);
    assert_non_null(strstr(error, "NUL byte"));
    free(error);
    free(contents);

    /* vpcd_state_read() names the file. */
    FILE *f = fopen(file, "w");
    fputs("garbage", f);
    fclose(f);
    assert_int_equal(vpcd_state_read(file, &v, &text, &error), EINVAL);
    char *want = xasprintf("%s: corrupt: no \"vpcd-state\" header", file);
    assert_string_equal(error, want);
    free(want);
    free(error);
    char *missing = xasprintf("%s/missing", dir);
    assert_int_equal(vpcd_state_read(missing, &v, &text, &error), ENOENT);
    assert_non_null(strstr(error, "cannot read"));
    free(error);
    free(missing);

    free(file);
    rm_tmpdir(dir, (const char *const[]) { "state", NULL });
}

/* vpcd_make_private_dir() creates a 0700 directory, accepts it again, and
 * refuses a symbolic link or a group-writable directory. */
static void
test_private_dir(void **state OVS_UNUSED)
{
    char *dir = make_tmpdir();
    char *run = xasprintf("%s/run", dir);
    char *link = xasprintf("%s/link", dir);
    struct stat s;

    assert_int_equal(vpcd_make_private_dir(run), 0);
    assert_int_equal(stat(run, &s), 0);
    assert_int_equal(s.st_mode & 0777, 0700);
    assert_int_equal(vpcd_make_private_dir(run), 0);
    assert_int_equal(symlink(run, link), 0);
    assert_int_equal(vpcd_make_private_dir(link), EPERM);
    assert_int_equal(chmod(run, 0770), 0);
    assert_int_equal(vpcd_make_private_dir(run), EPERM);
    assert_int_equal(rmdir(run), 0);

    free(run);
    free(link);
    rm_tmpdir(dir, (const char *const[]) { "link", NULL });
}

static void
test_read_file(void **state OVS_UNUSED)
{
    char *dir = make_tmpdir();
    char *file = xasprintf("%s/big", dir);

    /* Bigger than read_file's 64 kB buffer, with a NUL-free pattern. */
    struct ds ds = DS_EMPTY_INITIALIZER;
    for (int i = 0; i < 20000; i++) {
        ds_put_format(&ds, "%d,", i);
    }
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(ds_cstr(&ds), f);
    fclose(f);

    char *text = vpcd_read_file(file);
    assert_non_null(text);
    assert_int_equal(strlen(text), ds.length);
    assert_string_equal(text, ds_cstr(&ds));
    free(text);
    ds_destroy(&ds);

    /* Empty file: "" (not NULL). */
    f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    text = vpcd_read_file(file);
    assert_non_null(text);
    assert_string_equal(text, "");
    free(text);

    /* Missing file: NULL and errno. */
    char *missing = xasprintf("%s/missing", dir);
    errno = 0;
    assert_null(vpcd_read_file(missing));
    assert_int_equal(errno, ENOENT);
    free(missing);

    free(file);
    rm_tmpdir(dir, (const char *const[]) { "big", NULL });
}

/* --------------------------------------------------- JSON bodies of the API */

static void
test_errors_json(void **state OVS_UNUSED)
{
    struct vpc_errors errors;
    vpc_errors_init(&errors);

    char *s = vpcd_errors_json(&errors);
    struct json *j = parse_object(s);
    assert_false(bool_member(j, "valid"));
    assert_int_equal(member(j, "errors")->type, JSON_ARRAY);
    assert_int_equal(json_array(member(j, "errors"))->n, 0);
    assert_int_equal(shash_count(json_object(j)), 2);
    json_destroy(j);
    free(s);

    vpc_errors_add(&errors, "$.vpcs[0].vni", "0", "must be between %d and %d",
                   1, 15728639);
    vpc_errors_add(&errors, "$.hosts", NULL, "a \"quoted\" word\\");
    s = vpcd_errors_json(&errors);
    j = parse_object(s);
    assert_false(bool_member(j, "valid"));
    const struct json *arr = member(j, "errors");
    assert_int_equal(json_array(arr)->n, 2);
    /* Each error is an object: its parts, and the whole line. */
    for (size_t i = 0; i < 2; i++) {
        const struct json *e = json_array(arr)->elems[i];
        assert_int_equal(e->type, JSON_OBJECT);
        assert_int_equal(shash_count(json_object(e)), 4);
        assert_string_equal(json_string(member(e, "message")),
                            errors.msgs[i]);
    }
    const struct json *e0 = json_array(arr)->elems[0];
    assert_string_equal(json_string(member(e0, "path")), "$.vpcs[0].vni");
    assert_int_equal(member(e0, "value")->type, JSON_INTEGER);
    assert_int_equal(json_integer(member(e0, "value")), 0);
    assert_string_equal(json_string(member(e0, "rule")),
                        "must be between 1 and 15728639");
    const struct json *e1 = json_array(arr)->elems[1];
    assert_string_equal(json_string(member(e1, "path")), "$.hosts");
    assert_int_equal(member(e1, "value")->type, JSON_NULL);
    assert_string_equal(json_string(member(e1, "rule")),
                        "a \"quoted\" word\\");
    json_destroy(j);
    free(s);
    vpc_errors_destroy(&errors);
}

static void
test_validate_json(void **state OVS_UNUSED)
{
    char *text = example_text("web-tier");
    struct vpc_errors errors;
    vpc_errors_init(&errors);
    int status = 0;
    char *s = vpcd_validate_json(text, &errors, &status);
    assert_int_equal(status, 200);
    assert_int_equal(errors.n, 0);
    struct json *j = parse_object(s);
    assert_true(bool_member(j, "valid"));
    assert_int_equal(int_member(j, "vpcs"), 1);
    assert_int_equal(int_member(j, "subnets"), 2);
    assert_int_equal(int_member(j, "enis"), 4);
    assert_int_equal(int_member(j, "hosts"), 2);
    json_destroy(j);
    free(s);
    vpc_errors_destroy(&errors);
    free(text);

    text = invalid_web_tier();
    vpc_errors_init(&errors);
    s = vpcd_validate_json(text, &errors, &status);
    assert_int_equal(status, 400);
    assert_true(errors.n >= 1);
    j = parse_object(s);
    assert_false(bool_member(j, "valid"));
    assert_true(array_has_substring(member(j, "errors"), "$.vpcs[0].vni"));
    json_destroy(j);
    free(s);
    vpc_errors_destroy(&errors);
    free(text);

    /* Not JSON at all. */
    vpc_errors_init(&errors);
    s = vpcd_validate_json("{\"hosts\": [", &errors, &status);
    assert_int_equal(status, 400);
    assert_true(errors.n >= 1);
    j = parse_object(s);
    assert_false(bool_member(j, "valid"));
    assert_true(json_array(member(j, "errors"))->n >= 1);
    json_destroy(j);
    free(s);
    vpc_errors_destroy(&errors);
}

/* -------------------------------------------------------- vpcd_state_build */

static void
test_state_build(void **state OVS_UNUSED)
{
    char *text = example_text("web-tier");
    struct pl_binding b[] = {
        { "eni-web-a", 1 }, { "eni-client-a", 2 },
    };

    for (int mode = 0; mode < 2; mode++) {
        struct pl_host_config cfg = {
            .host_id = "host-a", .bindings = b, .n_bindings = 2,
            .tunnel_ofport = 1000,
            .mapping = mode ? PL_MAP_ACTION : PL_MAP_FLOWS,
        };
        struct vpc_errors errors;
        vpc_errors_init(&errors);
        struct vpcd_state *st = vpcd_state_build(text, &cfg, &errors);
        assert_non_null(st);
        assert_int_equal(errors.n, 0);
        assert_string_equal(st->text, text);
        assert_ptr_not_equal(st->text, text);   /* A copy. */
        assert_non_null(st->region);
        assert_int_equal(st->region->n_enis, 4);
        assert_null(st->flows.error);
        assert_true(hmap_count(&st->flows.flows) > 0);
        if (cfg.mapping == PL_MAP_ACTION) {
            /* vpc-web has ENIs on host-a: all four of its ENIs. */
            assert_int_equal(st->n_entries, 4);
            for (size_t i = 1; i < st->n_entries; i++) {
                const struct pl_mapping_entry *p = &st->entries[i - 1];
                const struct pl_mapping_entry *q = &st->entries[i];
                assert_true(p->vni < q->vni
                            || (p->vni == q->vni && p->ip < q->ip));
            }
        } else {
            assert_int_equal(st->n_entries, 0);
            assert_null(st->entries);
        }
        vpcd_state_destroy(st);
        vpc_errors_destroy(&errors);
    }

    /* Invalid document: NULL, with the validation errors. */
    char *bad = invalid_web_tier();
    struct pl_host_config cfg = {
        .host_id = "host-a", .tunnel_ofport = 1000, .mapping = PL_MAP_FLOWS,
    };
    struct vpc_errors errors;
    vpc_errors_init(&errors);
    assert_null(vpcd_state_build(bad, &cfg, &errors));
    assert_true(errors.n >= 1);
    bool found = false;
    for (size_t i = 0; i < errors.n; i++) {
        found |= strstr(errors.msgs[i], "$.vpcs[0].vni") != NULL;
    }
    assert_true(found);
    vpc_errors_destroy(&errors);
    free(bad);

    /* Unknown host: NULL, with a compile error naming the host. */
    for (int mode = 0; mode < 2; mode++) {
        cfg.host_id = "host-z";
        cfg.mapping = mode ? PL_MAP_ACTION : PL_MAP_FLOWS;
        vpc_errors_init(&errors);
        assert_null(vpcd_state_build(text, &cfg, &errors));
        assert_int_equal(errors.n, 1);
        assert_non_null(strstr(errors.msgs[0], "cannot compile for host "
                               "host-z"));
        vpc_errors_destroy(&errors);
    }

    /* vpcd_state_destroy(NULL) is a no-op. */
    vpcd_state_destroy(NULL);
    free(text);
}

/* ----------------------------------------------------------- the HTTP API */

/* An agent for host-a whose OVS is unreachable; 'state_file' may be NULL. */
static void
offline_vpcd(struct vpcd *d, enum pl_mapping_mode mapping,
             const char *state_file)
{
    memset(d, 0, sizeof *d);
    d->host = "host-a";
    d->bridge = "br-int";
    d->intents_file = NULL;
    d->state_file = state_file ? xstrdup(state_file) : NULL;
    d->db = xstrdup(NO_DB);
    d->switch_target = xstrdup(NO_SWITCH);
    d->vswitchd_ctl = xstrdup(NO_CTL);
    d->unixctl_path = NULL;
    d->mapping = mapping;
}

/* Calls vpcd_http() and checks the status; returns the response body. */
static char *
http_at(struct vpcd *d, const char *method, const char *path,
        const char *body, int expected_status, const char **type,
        const char *file, int line)
{
    const char *content_type = NULL;
    char *out = NULL;
    int status = vpcd_http(d, method, path, body, &content_type, &out);
    if (status != expected_status) {
        print_error("%s %s: status %d, expected %d; body:\n%s\n", method,
                    path, status, expected_status, out ? out : "(null)");
        free(out);
        _fail(file, line);
    }
    assert_non_null(out);
    assert_non_null(content_type);
    if (type) {
        *type = content_type;
    }
    return out;
}
#define http(D, METHOD, PATH, BODY, STATUS) \
    http_at(D, METHOD, PATH, BODY, STATUS, NULL, __FILE__, __LINE__)
#define http_type(D, METHOD, PATH, BODY, STATUS, TYPE) \
    http_at(D, METHOD, PATH, BODY, STATUS, TYPE, __FILE__, __LINE__)

/* Checks that the status JSON parses and returns it. */
static struct json *
get_status(struct vpcd *d)
{
    const char *type;
    char *s = http_type(d, "GET", "/v1/status", "", 200, &type);
    assert_string_equal(type, "application/json");
    struct json *j = parse_object(s);
    free(s);
    return j;
}

static void
test_http_offline(void **state OVS_UNUSED)
{
    struct vpcd d;
    offline_vpcd(&d, PL_MAP_FLOWS, NULL);
    char *text = example_text("web-tier");
    char *bad = invalid_web_tier();
    char *out;
    const char *type;

    /* Nothing loaded yet. */
    out = http(&d, "GET", "/v1/intents", "", 404);
    json_destroy(parse_object(out));
    free(out);

    struct json *j = get_status(&d);
    assert_int_equal(int_member(j, "version"), 0);
    assert_false(bool_member(j, "in_sync"));
    assert_int_equal(member(j, "last_error")->type, JSON_NULL);
    json_destroy(j);

    /* A valid document: accepted (version 1) but not installed. */
    out = http_type(&d, "PUT", "/v1/intents", text, 202, &type);
    assert_string_equal(type, "application/json");
    j = parse_object(out);
    assert_int_equal(int_member(j, "version"), 1);
    assert_false(bool_member(j, "in_sync"));
    assert_int_equal(member(j, "error")->type, JSON_STRING);
    json_destroy(j);
    free(out);
    assert_non_null(d.desired);
    assert_false(d.in_sync);
    assert_int_equal(d.version, 1);
    assert_int_equal(d.applies, 0);
    assert_int_equal(d.apply_errors, 1);
    assert_non_null(d.last_error);

    out = http(&d, "GET", "/v1/intents", "", 200);
    assert_string_equal(out, text);
    free(out);

    /* The same text again: still version 1. */
    out = http(&d, "PUT", "/v1/intents", text, 202);
    j = parse_object(out);
    assert_int_equal(int_member(j, "version"), 1);
    json_destroy(j);
    free(out);

    /* An invalid document: 400 with the JSON path; nothing changed. */
    out = http(&d, "PUT", "/v1/intents", bad, 400);
    j = parse_object(out);
    assert_false(bool_member(j, "valid"));
    assert_true(array_has_substring(member(j, "errors"), "$.vpcs[0].vni"));
    json_destroy(j);
    free(out);
    assert_int_equal(d.rejected, 1);
    assert_int_equal(d.version, 1);

    out = http(&d, "GET", "/v1/intents", "", 200);
    assert_string_equal(out, text);
    free(out);

    /* Not JSON: 400 too. */
    out = http(&d, "PUT", "/v1/intents", "not json", 400);
    free(out);
    assert_int_equal(d.rejected, 2);

    /* POST /v1/validate changes nothing. */
    out = http(&d, "POST", "/v1/validate", text, 200);
    j = parse_object(out);
    assert_true(bool_member(j, "valid"));
    assert_int_equal(int_member(j, "enis"), 4);
    json_destroy(j);
    free(out);
    out = http(&d, "POST", "/v1/validate", bad, 400);
    j = parse_object(out);
    assert_true(array_has_substring(member(j, "errors"), "$.vpcs[0].vni"));
    json_destroy(j);
    free(out);
    assert_int_equal(d.rejected, 2);
    assert_int_equal(d.version, 1);

    /* Status. */
    j = get_status(&d);
    assert_int_equal(int_member(j, "version"), 1);
    assert_false(bool_member(j, "in_sync"));
    assert_string_equal(json_string(member(j, "host")), "host-a");
    assert_string_equal(json_string(member(j, "mapping")), "flows");
    assert_int_equal(int_member(j, "rejected"), 2);
    assert_int_equal(int_member(j, "applies"), 0);
    assert_true(int_member(j, "flows") > 0);
    assert_int_equal(int_member(j, "ports_bound"), 0);
    assert_int_equal(member(j, "last_error")->type, JSON_STRING);
    json_destroy(j);

    /* Metrics. */
    out = http_type(&d, "GET", "/metrics", "", 200, &type);
    assert_string_equal(type, "text/plain; version=0.0.4");
    assert_non_null(strstr(out, "\nvpcd_rejected_total 2\n"));
    assert_non_null(strstr(out, "\nvpcd_version 1\n"));
    assert_non_null(strstr(out, "\nvpcd_in_sync 0\n"));
    assert_non_null(strstr(out, "\nvpcd_apply_errors_total 2\n"));
    assert_non_null(strstr(out, "# TYPE vpcd_rejected_total counter\n"));
    /* The switch is unreachable: no stage drops. */
    assert_null(strstr(out, "vpcd_stage_drops_total"));
    assert_non_null(strstr(out, "\nvpcd_build_info{version=\""
                            VPC_VERSION "\","));
    assert_non_null(strstr(out, "\nvpcd_apply_latency_seconds_count "));
    assert_null(strstr(out, "_ms"));    /* Prometheus units: seconds. */
    free(out);

    /* Unknown paths and wrong methods. */
    out = http(&d, "GET", "/v1/nope", "", 404);
    json_destroy(parse_object(out));
    free(out);
    out = http(&d, "GET", "", "", 404);
    free(out);
    out = http(&d, "GET", "/v1/intents/", "", 404);
    free(out);
    out = http(&d, "DELETE", "/v1/intents", "", 405);
    json_destroy(parse_object(out));
    free(out);
    out = http(&d, "POST", "/v1/intents", text, 405);
    free(out);
    out = http(&d, "GET", "/v1/validate", "", 405);
    free(out);
    out = http(&d, "PUT", "/v1/validate", text, 405);
    free(out);
    out = http(&d, "PUT", "/healthz", text, 405);
    free(out);
    /* The Allow header of each 405 (daemon/vpcd.c adds it). */
    assert_string_equal(vpcd_http_allow("/v1/intents"), "GET, PUT");
    assert_string_equal(vpcd_http_allow("/v1/validate"), "POST");
    assert_string_equal(vpcd_http_allow("/v1/status"), "GET");
    assert_string_equal(vpcd_http_allow("/metrics"), "GET");
    assert_string_equal(vpcd_http_allow("/healthz"), "GET");
    assert_null(vpcd_http_allow("/v1/nope"));

    /* The health endpoint: 200 whatever the switch's state. */
    out = http(&d, "GET", "/healthz", "", 200);
    struct json *health = parse_object(out);
    assert_string_equal(json_string(shash_find_data(json_object(health),
                                                    "status")), "ok");
    json_destroy(health);
    free(out);
    assert_int_equal(d.version, 1);     /* None of those changed anything. */

    /* The desired flows are those of the document, compiled for host-a. */
    out = vpcd_desired_flows(&d);
    assert_true(strlen(out) > 0);
    assert_non_null(strstr(out, "cookie="));
    free(out);

    /* A second valid document (the VNI changed): version 2. */
    char *text2 = xstrdup(text);
    char *p = strstr(text2, "\"vni\": 1010");
    assert_non_null(p);
    memcpy(p, "\"vni\": 1011", strlen("\"vni\": 1011"));
    out = http(&d, "PUT", "/v1/intents", text2, 202);
    free(out);
    assert_int_equal(d.version, 2);
    out = http(&d, "GET", "/v1/intents", "", 200);
    assert_string_equal(out, text2);
    free(out);
    free(text2);

    free(bad);
    free(text);
    vpcd_destroy(&d);
}

/* With a watched file, PUT /v1/intents is refused (409, naming the file):
 * the file's next change would undo it.  Nothing changes. */
static void
test_http_put_with_watched_file(void **state OVS_UNUSED)
{
    struct vpcd d;
    offline_vpcd(&d, PL_MAP_FLOWS, NULL);
    d.intents_file = "/etc/ovs-vpc/intents.json";
    char *text = example_text("web-tier");

    char *out = http(&d, "PUT", "/v1/intents", text, 409);
    struct json *j = parse_object(out);
    const struct json *e = member(j, "error");
    assert_int_equal(e->type, JSON_STRING);
    assert_non_null(strstr(json_string(e), "vpcd watches "
                           "/etc/ovs-vpc/intents.json (--intents)"));
    json_destroy(j);
    free(out);
    assert_null(d.desired);
    assert_int_equal(d.version, 0);
    assert_int_equal(d.rejected, 0);

    /* Reading and validating still work. */
    out = http(&d, "POST", "/v1/validate", text, 200);
    free(out);
    out = http(&d, "GET", "/v1/intents", "", 404);
    free(out);

    d.intents_file = NULL;
    free(text);
    vpcd_destroy(&d);
}

/* ACTION mode: the cache cannot be loaded either; the entries are kept. */
static void
test_http_offline_action(void **state OVS_UNUSED)
{
    struct vpcd d;
    offline_vpcd(&d, PL_MAP_ACTION, NULL);
    char *text = example_text("web-tier");

    char *out = http(&d, "PUT", "/v1/intents", text, 202);
    struct json *j = parse_object(out);
    assert_false(bool_member(j, "in_sync"));
    json_destroy(j);
    free(out);
    assert_false(d.cache_known);

    j = get_status(&d);
    assert_string_equal(json_string(member(j, "mapping")), "action");
    assert_int_equal(int_member(j, "version"), 1);
    assert_int_equal(int_member(j, "cache_entries"), 4);
    json_destroy(j);

    out = http(&d, "GET", "/metrics", "", 200);
    assert_non_null(strstr(out, "\nvpcd_cache_entries_desired 4\n"));
    assert_null(strstr(out, "vpcd_cache_hits_total"));  /* Unreachable. */
    free(out);

    /* The audit finds ovs-vswitchd absent and stays out of sync. */
    vpcd_audit(&d);
    assert_false(d.in_sync);
    assert_int_equal(d.audits, 1);

    free(text);
    vpcd_destroy(&d);
}

/* With a state file, an accepted document is persisted even though it could
 * not be installed; a rejected one is not. */
static void
test_http_persists(void **state OVS_UNUSED)
{
    char *dir = make_tmpdir();
    char *file = xasprintf("%s/vpcd.state", dir);
    struct vpcd d;
    offline_vpcd(&d, PL_MAP_FLOWS, file);
    char *text = example_text("web-tier");
    char *bad = invalid_web_tier();

    char *out = http(&d, "PUT", "/v1/intents", text, 202);
    struct json *j = parse_object(out);
    assert_true(bool_member(j, "persisted"));
    json_destroy(j);
    free(out);
    assert_state(file, 1, text);
    assert_true(d.persisted);

    out = http(&d, "PUT", "/v1/intents", bad, 400);
    free(out);
    assert_state(file, 1, text);

    /* vpcd_load_file() of the persisted state: the same document. */
    vpcd_load_file(&d, file, "persisted state");
    assert_int_equal(d.version, 1);
    assert_string_equal(d.desired->text, text);

    /* A file that cannot be read sets last_error and changes nothing. */
    char *missing = xasprintf("%s/missing.json", dir);
    vpcd_load_file(&d, missing, "test");
    assert_non_null(strstr(d.last_error, "cannot read"));
    assert_int_equal(d.version, 1);
    free(missing);

    free(bad);
    free(text);
    vpcd_destroy(&d);
    free(file);
    rm_tmpdir(dir, (const char *const[]) { "vpcd.state", NULL });
}

/* A state file that cannot be written: the document is kept, and
 * "persisted", "in_sync", the "persist" error count and /metrics say so. */
static void
test_http_persist_fails(void **state OVS_UNUSED)
{
    struct vpcd d;
    offline_vpcd(&d, PL_MAP_FLOWS, "/nonexistent/ovs-vpc-test/vpcd.state");
    char *text = example_text("web-tier");

    char *out = http(&d, "PUT", "/v1/intents", text, 202);
    struct json *j = parse_object(out);
    assert_false(bool_member(j, "persisted"));
    assert_false(bool_member(j, "in_sync"));
    assert_non_null(strstr(json_string(member(j, "error")),
                           "cannot persist version 1 (No such file"));
    json_destroy(j);
    free(out);
    assert_false(d.persisted);
    assert_int_equal(d.errors[VPCD_ERR_PERSIST], 1);
    assert_non_null(strstr(d.last_error, "not persisted either"));

    j = get_status(&d);
    assert_false(bool_member(j, "persisted"));
    assert_int_equal(int_member(member(j, "errors"), "persist"), 1);
    json_destroy(j);

    /* The audit retries (and counts again). */
    vpcd_audit(&d);
    assert_int_equal(d.errors[VPCD_ERR_PERSIST], 2);
    out = http(&d, "GET", "/metrics", "", 200);
    assert_non_null(strstr(out, "\nvpcd_errors_total{kind=\"persist\"} 2\n"));
    assert_non_null(strstr(out, "\nvpcd_persisted 0\n"));
    free(out);

    /* Switch in sync but not persisted is not in sync. */
    d.in_sync = true;
    assert_false(vpcd_in_sync(&d));
    d.persisted = true;
    assert_true(vpcd_in_sync(&d));

    free(text);
    vpcd_destroy(&d);
}

/* The version survives a restart; a corrupt state file falls back to the
 * last good copy, is set aside and reported. */
static void
test_state_restart(void **state OVS_UNUSED)
{
    char *dir = make_tmpdir();
    char *file = xasprintf("%s/vpcd.state", dir);
    char *text = example_text("web-tier");
    char *text2 = xstrdup(text);
    char *p = strstr(text2, "\"vni\": 1010");
    memcpy(p, "\"vni\": 1011", strlen("\"vni\": 1011"));
    struct vpcd d;

    offline_vpcd(&d, PL_MAP_FLOWS, file);
    char *out = http(&d, "PUT", "/v1/intents", text, 202);
    free(out);
    out = http(&d, "PUT", "/v1/intents", text2, 202);
    free(out);
    assert_int_equal(d.version, 2);
    vpcd_destroy(&d);

    /* Restart: version 2, not 1, and nothing rewritten. */
    offline_vpcd(&d, PL_MAP_FLOWS, file);
    vpcd_load_state(&d, "persisted state");
    assert_int_equal(d.version, 2);
    assert_true(d.persisted);
    assert_string_equal(d.desired->text, text2);
    out = http(&d, "PUT", "/v1/intents", text, 202);
    free(out);
    assert_int_equal(d.version, 3);
    vpcd_destroy(&d);
    assert_state(file, 3, text);

    /* Started with --intents: a file that holds the persisted document
     * keeps its version (3, nothing rewritten); another one is the next
     * version (4). */
    char *intents = xasprintf("%s/intents-file.json", dir);
    FILE *f = fopen(intents, "w");
    fputs(text, f);
    fclose(f);
    offline_vpcd(&d, PL_MAP_FLOWS, file);
    d.intents_file = intents;
    vpcd_load_file(&d, intents, "file");
    assert_int_equal(d.version, 3);
    assert_true(d.persisted);
    vpcd_destroy(&d);
    f = fopen(intents, "w");
    fputs(text2, f);
    fclose(f);
    offline_vpcd(&d, PL_MAP_FLOWS, file);
    d.intents_file = intents;
    vpcd_load_file(&d, intents, "file");
    assert_int_equal(d.version, 4);
    vpcd_destroy(&d);
    assert_state(file, 4, text2);
    unlink(intents);
    free(intents);

    /* A corrupt state file: the last good copy (version 3), reported. */
    f = fopen(file, "w");
    fputs("vpcd-state version=4 length=10 crc32c=0\n{\"vpcs\": [", f);
    fclose(f);
    offline_vpcd(&d, PL_MAP_FLOWS, file);
    vpcd_load_state(&d, "persisted state");
    assert_non_null(d.desired);
    assert_int_equal(d.version, 3);
    assert_string_equal(d.desired->text, text);
    assert_int_equal(d.errors[VPCD_ERR_STATE_FILE], 1);
    assert_non_null(strstr(d.last_error, "vpcd.state: corrupt: checksum"));
    assert_non_null(strstr(d.last_error, "started from the last good copy"));
    /* ... set aside, and the good copy persisted back. */
    char *corrupt = xasprintf("%s.corrupt", file);
    struct stat s;
    assert_int_equal(stat(corrupt, &s), 0);
    assert_true(d.persisted);
    assert_state(file, 3, text);
    vpcd_destroy(&d);

    /* An invalid document in the state file counts as corrupt too. */
    char *bad = invalid_web_tier();
    assert_int_equal(vpcd_persist(file, 9, bad, false), 0);
    offline_vpcd(&d, PL_MAP_FLOWS, file);
    vpcd_load_state(&d, "persisted state");
    assert_int_equal(d.version, 3);
    assert_non_null(strstr(d.last_error, "the document is not valid "
                           "(rejected a document from persisted state"));
    assert_non_null(strstr(d.last_error, "$.vpcs[0].vni"));
    vpcd_destroy(&d);
    free(bad);

    /* Both copies unusable: no desired state, clearly reported. */
    f = fopen(file, "w");
    fputs("junk", f);
    fclose(f);
    char *prev = xasprintf("%s.prev", file);
    f = fopen(prev, "w");
    fputs("junk", f);
    fclose(f);
    offline_vpcd(&d, PL_MAP_FLOWS, file);
    vpcd_load_state(&d, "persisted state");
    assert_null(d.desired);
    assert_int_equal(d.errors[VPCD_ERR_STATE_FILE], 2);
    assert_non_null(strstr(d.last_error, "no usable state"));
    vpcd_destroy(&d);

    /* A state directory of an earlier vpcd: intents.json, no version. */
    unlink(file);
    unlink(prev);
    char *legacy = xasprintf("%s/intents.json", dir);
    f = fopen(legacy, "w");
    fputs(text, f);
    fclose(f);
    offline_vpcd(&d, PL_MAP_FLOWS, file);
    vpcd_load_state(&d, "persisted state");
    assert_int_equal(d.version, 1);
    assert_string_equal(d.desired->text, text);
    assert_state(file, 1, text);
    vpcd_destroy(&d);

    /* The state file missing but its previous copy there (a crash between
     * the two renames where hard links do not work): the copy is used and
     * written back. */
    assert_int_equal(vpcd_persist(file, 2, text2, true), 0);
    assert_int_equal(unlink(file), 0);
    offline_vpcd(&d, PL_MAP_FLOWS, file);
    vpcd_load_state(&d, "persisted state");
    assert_int_equal(d.version, 1);
    assert_string_equal(d.desired->text, text);
    assert_int_equal(d.errors[VPCD_ERR_STATE_FILE], 0);
    assert_state(file, 1, text);
    vpcd_destroy(&d);

    free(legacy);
    free(prev);
    free(corrupt);
    free(text2);
    free(text);
    free(file);
    rm_tmpdir(dir, (const char *const[]) {
        "vpcd.state", "vpcd.state.prev", "vpcd.state.corrupt",
        "intents.json", NULL });
}

/* ------------------------------------- cache sync against a real cache */

/* The fake ovs-vswitchd's pid, so that a failed test's teardown stops it. */
static pid_t fake_pid;

/* Starts a child process that serves the vpcmap/... commands on unixctl
 * socket 'path' and returns its pid once it answers. */
static pid_t
start_fake_vswitchd(const char *path)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        struct unixctl_server *server;
        vpc_map_init();
        if (unixctl_server_create(path, &server)) {
            _exit(1);
        }
        for (;;) {
            unixctl_server_run(server);
            unixctl_server_wait(server);
            poll_block();
        }
    }
    for (int i = 0; i < 250; i++) {
        char *reply;
        char *error = sw_appctl(path, "vpcmap/stats", 0, NULL, &reply);
        free(reply);
        if (!error) {
            fake_pid = pid;
            return pid;
        }
        free(error);
        usleep(20 * 1000);
    }
    kill(pid, SIGKILL);
    fail_msg("the fake ovs-vswitchd on %s does not answer", path);
    return -1;
}

static void
stop_fake_vswitchd(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fake_pid = 0;
}

static int
teardown_fake_vswitchd(void **state OVS_UNUSED)
{
    if (fake_pid) {
        stop_fake_vswitchd(fake_pid);
    }
    return 0;
}

/* Runs 'command' with the space-separated arguments 'args' (or none) on the
 * fake ovs-vswitchd and returns its reply. */
static char *
fake_appctl(const char *path, const char *command, const char *args)
{
    char *copy = xstrdup(args ? args : "");
    char *argv[8], *save = NULL;
    int argc = 0;
    for (char *w = strtok_r(copy, " ", &save); w && argc < 8;
         w = strtok_r(NULL, " ", &save)) {
        argv[argc++] = w;
    }
    char *reply;
    char *error = sw_appctl(path, command, argc, argv, &reply);
    free(copy);
    if (error) {
        fail_msg("%s: %s", command, error);
    }
    return reply;
}

/* The web tier without ENI 'id'. */
static char *
web_tier_without(const char *id)
{
    char *text = example_text("web-tier");
    struct json *j = json_from_string(text);
    free(text);
    struct json *enis = shash_find_data(json_object(j), "enis");
    struct json_array *a = CONST_CAST(struct json_array *, json_array(enis));
    for (size_t i = 0; i < a->n; i++) {
        const struct json *eid = shash_find_data(json_object(a->elems[i]),
                                                 "id");
        if (!strcmp(json_string(eid), id)) {
            json_destroy(a->elems[i]);
            memmove(&a->elems[i], &a->elems[i + 1],
                    (a->n - i - 1) * sizeof *a->elems);
            a->n--;
            break;
        }
    }
    char *s = json_to_string(j, JSSF_PRETTY);
    json_destroy(j);
    return s;
}

static void
test_cache_sync(void **state OVS_UNUSED)
{
    char *dir = make_tmpdir();
    char *ctl = xasprintf("%s/vswitchd.ctl", dir);
    pid_t pid = start_fake_vswitchd(ctl);
    struct vpcd d;
    offline_vpcd(&d, PL_MAP_ACTION, NULL);
    free(d.vswitchd_ctl);
    d.vswitchd_ctl = xstrdup(ctl);
    d.run_dir = xstrdup(dir);
    char *text = example_text("web-tier");
    char *without = web_tier_without("eni-web-b");

    /* The cache is loaded and checked; only the flows fail (no switch). */
    char *out = http(&d, "PUT", "/v1/intents", text, 202);
    assert_null(strstr(out, "mapping cache"));
    free(out);
    assert_true(d.cache_known);
    assert_int_equal(d.errors[VPCD_ERR_CACHE], 0);
    assert_int_equal(d.errors[VPCD_ERR_FLOWS], 1);
    char *reply = fake_appctl(ctl, "vpcmap/stats", NULL);
    assert_non_null(strstr(reply, "entries=4 "));
    free(reply);

    /* Someone deletes eni-web-b's entry behind vpcd's back, and the next
     * version deletes it too: the vpcmap/del fails, and vpcd loads the
     * whole cache instead of giving up. */
    free(fake_appctl(ctl, "vpcmap/del", "1010 10.10.1.11"));
    out = http(&d, "PUT", "/v1/intents", without, 202);
    assert_null(strstr(out, "mapping cache"));
    assert_null(strstr(out, "no mapping"));
    free(out);
    assert_true(d.cache_known);
    assert_int_equal(d.errors[VPCD_ERR_CACHE], 0);
    reply = fake_appctl(ctl, "vpcmap/show", NULL);
    assert_null(strstr(reply, "10.10.1.11 "));
    assert_non_null(strstr(reply, "entries=3 "));
    free(reply);

    /* Someone adds an entry behind vpcd's back: the next version's check
     * of count and generation finds the cache is not what vpcd made it. */
    free(fake_appctl(ctl, "vpcmap/add",
                      "1010 10.10.1.99 192.168.100.2"));
    out = http(&d, "PUT", "/v1/intents", text, 202);
    assert_non_null(strstr(out, "mapping cache: holds 5 entries in "
                                "generation"));
    free(out);
    assert_false(d.cache_known);
    assert_int_equal(d.errors[VPCD_ERR_CACHE], 1);
    assert_null(d.flowset);     /* Not the previous version's flows. */
    /* The audit repairs it. */
    vpcd_audit(&d);
    assert_true(d.cache_known);
    reply = fake_appctl(ctl, "vpcmap/show", NULL);
    assert_null(strstr(reply, "10.10.1.99 "));
    assert_non_null(strstr(reply, "entries=4 "));
    free(reply);

    /* More than 256 differences: one vpcmap/load through a file in the run
     * directory, which is removed afterwards. */
    struct pl_mapping_entry *many = xcalloc(300, sizeof *many);
    for (int i = 0; i < 300; i++) {
        many[i].vni = 5;
        many[i].ip = 0x0a000001 + i;
        many[i].underlay = 0xc0a86402;
    }
    free(d.loaded);
    d.loaded = many;
    d.n_loaded = 300;
    d.cache_known = true;       /* vpcd believes 300 other entries. */
    out = http(&d, "PUT", "/v1/intents", without, 202);
    assert_null(strstr(out, "mapping cache"));
    free(out);
    assert_true(d.cache_known);
    reply = fake_appctl(ctl, "vpcmap/stats", NULL);
    assert_non_null(strstr(reply, "entries=3 "));
    free(reply);
    char *ls = dir_listing(dir);
    assert_string_equal(ls, "vswitchd.ctl ");
    free(ls);

    /* ovs-vswitchd gone: the cache sync fails before any flow is sent, and
     * the parsed flows of the previous version are dropped, so that the
     * audit does not install them for this version. */
    assert_non_null(d.flowset);
    stop_fake_vswitchd(pid);
    out = http(&d, "PUT", "/v1/intents", text, 202);
    assert_non_null(strstr(out, "cannot connect"));
    free(out);
    assert_null(d.flowset);
    assert_int_equal(d.errors[VPCD_ERR_CACHE], 2);

    free(without);
    free(text);
    vpcd_destroy(&d);
    free(ctl);
    rm_tmpdir(dir, (const char *const[]) { "vswitchd.ctl", NULL });
}

/* A peer that accepts connections and never answers (a SIGSTOPped
 * ovs-vswitchd or ovsdb-server): a listening Unix socket nobody serves. */
static int
silent_peer(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_true(strlen(path) < sizeof sun.sun_path);
    strcpy(sun.sun_path, path);
    unlink(path);
    assert_int_equal(bind(fd, (struct sockaddr *) &sun, sizeof sun), 0);
    assert_int_equal(listen(fd, 16), 0);
    return fd;
}

/* Every conversation with OVS is bounded: unixctl, OpenFlow and OVSDB
 * toward a silent peer fail after the timeout, are counted, and the next
 * call toward the same peer fails at once (backoff).  Without the timeouts
 * each of these calls blocks forever; the alarm turns that into a
 * failure. */
static void
test_ovs_timeouts(void **state OVS_UNUSED)
{
    char *dir = make_tmpdir();
    char *ctl = xasprintf("%s/ovs-vswitchd.ctl", dir);
    char *mgmt = xasprintf("%s/br-int.mgmt", dir);
    char *db = xasprintf("%s/db.sock", dir);
    int fds[] = { silent_peer(ctl), silent_peer(mgmt), silent_peer(db) };

    alarm(30);
    long long int old_timeout = sw_ovs_get_timeout();
    sw_ovs_set_timeout(200);
    uint64_t n0 = sw_ovs_timeouts();

    char *out = NULL;
    char *error = sw_appctl(ctl, "vpcmap/stats", 0, NULL, &out);
    assert_non_null(error);
    assert_non_null(strstr(error, "no answer within 200 ms (timed out)"));
    assert_null(out);
    assert_int_equal(sw_ovs_timeouts(), n0 + 1);
    free(error);
    /* In backoff: fails at once, not counted again. */
    error = sw_appctl(ctl, "vpcmap/stats", 0, NULL, &out);
    assert_non_null(error);
    assert_non_null(strstr(error, "(backoff)"));
    assert_int_equal(sw_ovs_timeouts(), n0 + 1);
    free(error);

    char *target = xasprintf("unix:%s", mgmt);
    struct sw_flow_counter *fc;
    size_t n;
    error = sw_flow_counters(target, &fc, &n);
    assert_non_null(error);
    assert_non_null(strstr(error, "timed out"));
    assert_int_equal(sw_ovs_timeouts(), n0 + 2);
    free(error);
    free(target);

    char *remote = xasprintf("unix:%s", db);
    struct pl_binding *b;
    struct sw_ovs_ports ports;
    error = sw_ovsdb_read_bindings(remote, &b, &n, &ports);
    assert_non_null(error);
    assert_non_null(strstr(error, "OVSDB transaction failed: no answer "
                           "within 200 ms (timed out)"));
    assert_int_equal(sw_ovs_timeouts(), n0 + 3);
    free(error);
    free(b);
    free(remote);

    sw_ovs_set_timeout(old_timeout);
    alarm(0);
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
        close(fds[i]);
    }
    free(ctl);
    free(mgmt);
    free(db);
    rm_tmpdir(dir, (const char *const[]) { "ovs-vswitchd.ctl", "br-int.mgmt",
                                           "db.sock", NULL });
}

int
main(int argc OVS_UNUSED, char *argv[])
{
    set_program_name(argv[0]);
    /* The offline agent warns about every failed install; keep the test
     * output readable. */
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_ERR);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_empty),
        cmocka_unit_test(test_diff_identical),
        cmocka_unit_test(test_diff_changes),
        cmocka_unit_test(test_persist),
        cmocka_unit_test(test_state_parse),
        cmocka_unit_test(test_private_dir),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_errors_json),
        cmocka_unit_test(test_validate_json),
        cmocka_unit_test(test_state_build),
        cmocka_unit_test(test_http_offline),
        cmocka_unit_test(test_http_put_with_watched_file),
        cmocka_unit_test(test_http_offline_action),
        cmocka_unit_test(test_http_persists),
        cmocka_unit_test(test_http_persist_fails),
        cmocka_unit_test(test_state_restart),
        cmocka_unit_test_teardown(test_cache_sync, teardown_fake_vswitchd),
        cmocka_unit_test(test_ovs_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
