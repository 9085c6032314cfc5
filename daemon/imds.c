/* daemon/imds.c: the instance metadata service (daemon/imds.h).
 *
 * The answer to a GET is looked up in a small tree built per request from
 * the asking ENI: every leaf is a path under /latest/ and its value; a
 * path that is a proper prefix of leaves is a directory, listed one entry
 * per line (a subdirectory with a trailing '/'), as AWS does. */

#include <config.h>
#include "daemon/imds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(imds);

#define TOKEN_NONCE 16
#define TOKEN_MAC 16
#define TOKEN_BYTES (TOKEN_NONCE + 8 + TOKEN_MAC)

/* The status codes counted one by one; others count as "other". */
static const int imds_codes[] = { 200, 400, 401, 403, 404, 405, 429 };
#define N_CODES ARRAY_SIZE(imds_codes)

struct imds_bucket {
    struct hmap_node node;      /* In 'buckets', by ofport. */
    int ofport;
    double tokens;
    long long int last_ms;
};

struct vpcd_imds {
    uint8_t secret[32];
    double rate, burst;
    struct hmap buckets;

    uint64_t requests[N_CODES + 1];     /* By imds_codes[], then other. */
    uint64_t tokens_issued;
    uint64_t refused_token;             /* 401: no, invalid or expired. */
    uint64_t refused_forwarded;         /* 403: PUT with X-Forwarded-For. */
    uint64_t refused_peer;              /* 403: not an ENI of this host, or
                                         * its endpoint is disabled. */
    uint64_t rate_limited;              /* 429. */
    uint64_t refused_connections;       /* Too many of one ENI. */
};

struct vpcd_imds *
vpcd_imds_create(void)
{
    struct vpcd_imds *m = xzalloc(sizeof *m);
    ssize_t n = getrandom(m->secret, sizeof m->secret, 0);
    if (n != sizeof m->secret) {
        ovs_fatal(n < 0 ? errno : 0, "imds: cannot draw a random secret");
    }
    m->rate = VPCD_IMDS_RATE;
    m->burst = VPCD_IMDS_BURST;
    hmap_init(&m->buckets);
    return m;
}

void
vpcd_imds_destroy(struct vpcd_imds *m)
{
    if (m) {
        struct imds_bucket *b;
        HMAP_FOR_EACH_POP (b, node, &m->buckets) {
            free(b);
        }
        hmap_destroy(&m->buckets);
        free(m);
    }
}

void
vpcd_imds_set_rate(struct vpcd_imds *m, double rate, double burst)
{
    m->rate = rate;
    m->burst = burst;
}

/* ------------------------------------------------------------- tokens */

static void
token_mac(const struct vpcd_imds *m, const uint8_t *nonce_expiry,
          const char *eni_id, uint8_t mac[TOKEN_MAC])
{
    size_t id_len = strlen(eni_id);
    uint8_t *msg = xmalloc(TOKEN_NONCE + 8 + id_len);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;

    memcpy(msg, nonce_expiry, TOKEN_NONCE + 8);
    memcpy(msg + TOKEN_NONCE + 8, eni_id, id_len);
    HMAC(EVP_sha256(), m->secret, sizeof m->secret, msg,
         TOKEN_NONCE + 8 + id_len, out, &out_len);
    free(msg);
    ovs_assert(out_len >= TOKEN_MAC);
    memcpy(mac, out, TOKEN_MAC);
}

/* A new token for ENI 'eni_id' that expires at 'expiry_ms' (malloc'd). */
static char *
token_issue(const struct vpcd_imds *m, const char *eni_id,
            long long int expiry_ms)
{
    uint8_t t[TOKEN_BYTES];
    if (getrandom(t, TOKEN_NONCE, 0) != TOKEN_NONCE) {
        return NULL;
    }
    for (int i = 0; i < 8; i++) {
        t[TOKEN_NONCE + i] = (uint64_t) expiry_ms >> (56 - 8 * i);
    }
    token_mac(m, t, eni_id, t + TOKEN_NONCE + 8);

    struct ds ds = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < sizeof t; i++) {
        ds_put_format(&ds, "%02x", t[i]);
    }
    return ds_steal_cstr(&ds);
}

static int
hex_digit(char c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
}

/* Whether 'token' was issued to 'eni_id' and has not expired at
 * 'now_ms'. */
static bool
token_valid(const struct vpcd_imds *m, const char *token, const char *eni_id,
            long long int now_ms)
{
    uint8_t t[TOKEN_BYTES], mac[TOKEN_MAC];
    if (strlen(token) != 2 * TOKEN_BYTES) {
        return false;
    }
    for (size_t i = 0; i < TOKEN_BYTES; i++) {
        int hi = hex_digit(token[2 * i]), lo = hex_digit(token[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        t[i] = hi << 4 | lo;
    }
    token_mac(m, t, eni_id, mac);
    if (CRYPTO_memcmp(mac, t + TOKEN_NONCE + 8, TOKEN_MAC)) {
        return false;
    }
    uint64_t expiry = 0;
    for (int i = 0; i < 8; i++) {
        expiry = expiry << 8 | t[TOKEN_NONCE + i];
    }
    return (long long int) expiry > now_ms;
}

/* ---------------------------------------------------------- rate limit */

/* Takes one request from the bucket of 'ofport'; false if it is empty. */
static bool
rate_take(struct vpcd_imds *m, int ofport, long long int now_ms)
{
    struct imds_bucket *b;
    uint32_t h = hash_int(ofport, 0);
    HMAP_FOR_EACH_WITH_HASH (b, node, h, &m->buckets) {
        if (b->ofport == ofport) {
            goto found;
        }
    }
    b = xmalloc(sizeof *b);
    b->ofport = ofport;
    b->tokens = m->burst;
    b->last_ms = now_ms;
    hmap_insert(&m->buckets, &b->node, h);
found:
    if (now_ms > b->last_ms) {
        b->tokens = MIN(m->burst,
                        b->tokens + (now_ms - b->last_ms) * m->rate / 1000.0);
        b->last_ms = now_ms;
    }
    if (b->tokens < 1.0) {
        return false;
    }
    b->tokens -= 1.0;
    return true;
}

/* ------------------------------------------------------------- the tree */

struct md_leaf {
    char *path;                 /* Under /latest/, e.g. "meta-data/mac". */
    char *value;
};

struct md_tree {
    struct md_leaf *leaves;
    size_t n, allocated;
};

static void OVS_PRINTF_FORMAT(3, 4)
md_add(struct md_tree *t, char *path, const char *fmt, ...)
{
    if (t->n >= t->allocated) {
        t->leaves = x2nrealloc(t->leaves, &t->allocated, sizeof *t->leaves);
    }
    va_list args;
    va_start(args, fmt);
    t->leaves[t->n].path = path;
    t->leaves[t->n].value = xvasprintf(fmt, args);
    t->n++;
    va_end(args);
}

static void
md_tree_destroy(struct md_tree *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->leaves[i].path);
        free(t->leaves[i].value);
    }
    free(t->leaves);
}

/* The region of availability zone 'az' ("eu-west-1b": "eu-west-1"). */
static char *
az_region(const char *az)
{
    size_t len = strlen(az);
    while (len && az[len - 1] >= 'a' && az[len - 1] <= 'z') {
        len--;
    }
    return xmemdup0(az, len);
}

static void
md_build(const struct vpc_region *r, const struct vpc_eni *e,
         struct md_tree *t)
{
    const struct vpc_subnet *s = e->subnet;
    const struct vpc_vpc *vpc = s->vpc;
    char mac[ETH_ADDR_STRLEN + 1];
    char ip[16], cidr[24];
    snprintf(mac, sizeof mac, ETH_ADDR_FMT, ETH_ADDR_ARGS(e->mac));
    vpc_ip_format(e->ip, ip);
    vpc_prefix_format(&s->cidr, cidr);
    char *hostname = vpc_eni_hostname(r, e);

    struct ds sgs = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < e->n_sgs; i++) {
        ds_put_format(&sgs, "%s%s", i ? "\n" : "", e->sgs[i]->id);
    }
    struct ds blocks = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < vpc->n_blocks; i++) {
        char b[24];
        vpc_prefix_format(&vpc->blocks[i], b);
        ds_put_format(&blocks, "%s%s", i ? "\n" : "", b);
    }

    md_add(t, xstrdup("meta-data/instance-id"), "%s", e->instance_id);
    md_add(t, xstrdup("meta-data/local-ipv4"), "%s", ip);
    md_add(t, xstrdup("meta-data/mac"), "%s", mac);
    md_add(t, xstrdup("meta-data/hostname"), "%s", hostname);
    md_add(t, xstrdup("meta-data/local-hostname"), "%s", hostname);
    md_add(t, xstrdup("meta-data/security-groups"), "%s", ds_cstr(&sgs));
    if (e->has_elastic_ip) {
        char eip[16];
        vpc_ip_format(e->elastic_ip, eip);
        md_add(t, xstrdup("meta-data/public-ipv4"), "%s", eip);
    }
    char *region = NULL;
    if (s->availability_zone && s->availability_zone[0]) {
        region = az_region(s->availability_zone);
        md_add(t, xstrdup("meta-data/placement/availability-zone"), "%s",
               s->availability_zone);
        md_add(t, xstrdup("meta-data/placement/region"), "%s", region);
    }

    static const char *const fields[] = {
        "device-number", "interface-id", "local-hostname", "local-ipv4s",
        "mac", "security-group-ids", "subnet-id", "subnet-ipv4-cidr-block",
        "vpc-id", "vpc-ipv4-cidr-blocks",
    };
    const char *values[] = {
        "0", e->id, hostname, ip, mac, ds_cstr(&sgs), s->id, cidr, vpc->id,
        ds_cstr(&blocks),
    };
    BUILD_ASSERT_DECL(ARRAY_SIZE(fields) == ARRAY_SIZE(values));
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        md_add(t, xasprintf("meta-data/network/interfaces/macs/%s/%s", mac,
                            fields[i]), "%s", values[i]);
    }
    if (e->has_elastic_ip) {
        char eip[16];
        vpc_ip_format(e->elastic_ip, eip);
        md_add(t, xasprintf("meta-data/network/interfaces/macs/%s/"
                            "public-ipv4s", mac), "%s", eip);
    }
    if (e->user_data) {
        md_add(t, xstrdup("user-data"), "%s", e->user_data);
    }

    /* The instance identity document, the fields AWS's has that the model
     * knows. */
    struct json *doc = json_object_create();
    if (s->availability_zone && s->availability_zone[0]) {
        json_object_put_string(doc, "availabilityZone", s->availability_zone);
        json_object_put_string(doc, "region", region);
    }
    json_object_put_string(doc, "instanceId", e->instance_id);
    json_object_put_string(doc, "privateIp", ip);
    json_object_put_string(doc, "version", "2017-09-30");
    char *text = json_to_string(doc, JSSF_PRETTY | JSSF_SORT);
    md_add(t, xstrdup("dynamic/instance-identity/document"), "%s", text);
    free(text);
    json_destroy(doc);

    free(region);
    free(hostname);
    ds_destroy(&sgs);
    ds_destroy(&blocks);
}

static int
compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Looks 'path' (under /latest/, without leading or trailing '/'; "" for
 * /latest/ itself) up in 't': a leaf's value, or a directory's listing.
 * Returns 200 or 404. */
static int
md_lookup(const struct md_tree *t, const char *path, struct ds *out)
{
    size_t len = strlen(path);
    const char **entries = xmalloc((t->n + 1) * sizeof *entries);
    size_t n = 0;

    for (size_t i = 0; i < t->n; i++) {
        const char *p = t->leaves[i].path;
        if (!strcmp(p, path)) {
            ds_put_cstr(out, t->leaves[i].value);
            free(entries);
            return 200;
        }
        if (!len || (!strncmp(p, path, len) && p[len] == '/')) {
            entries[n++] = p + len + (len ? 1 : 0);
        }
    }
    if (!n) {
        free(entries);
        return 404;
    }
    /* One line per child: its name, and '/' if it has children. */
    qsort(entries, n, sizeof *entries, compare_strings);
    const char *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *slash = strchr(entries[i], '/');
        size_t l = slash ? (size_t) (slash - entries[i]) : strlen(entries[i]);
        if (prev && prev_len == l && !strncmp(prev, entries[i], l)) {
            continue;
        }
        if (out->length) {
            ds_put_char(out, '\n');
        }
        ds_put_buffer(out, entries[i], l);
        if (slash) {
            ds_put_char(out, '/');
        }
        prev = entries[i];
        prev_len = l;
    }
    free(entries);
    return 200;
}

/* ------------------------------------------------------------- requests */

const struct vpc_eni *
vpcd_imds_find_eni(const struct vpc_region *r,
                   const struct pl_binding *bindings, size_t n_bindings,
                   uint32_t peer)
{
    int ofport = pl_md_service_ofport(peer);
    if (!r || !ofport) {
        return NULL;
    }
    for (size_t i = 0; i < n_bindings; i++) {
        if (bindings[i].ofport == ofport) {
            return vpc_region_find_eni(r, bindings[i].eni_id);
        }
    }
    return NULL;
}

static void
count(struct vpcd_imds *m, int status)
{
    size_t i;
    for (i = 0; i < N_CODES && imds_codes[i] != status; i++) {
        continue;
    }
    m->requests[i]++;
}

static void
reply(struct vpcd_imds_response *resp, int status, const char *body)
{
    resp->status = status;
    resp->content_type = "text/plain";
    resp->body = xstrdup(body);
}

/* Parses the TTL header: 1 to 21600 seconds, else 0. */
static int
parse_ttl(const char *s)
{
    if (!s || !*s || strlen(s) > 5) {
        return 0;
    }
    int ttl = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return 0;
        }
        ttl = ttl * 10 + (*p - '0');
    }
    return ttl >= VPCD_IMDS_TTL_MIN && ttl <= VPCD_IMDS_TTL_MAX ? ttl : 0;
}

static void
handle(struct vpcd_imds *m, const struct vpc_region *r,
       const struct pl_binding *bindings, size_t n_bindings,
       const struct vpcd_imds_request *req, long long int now_ms,
       struct vpcd_imds_response *resp)
{
    const struct vpc_eni *e = vpcd_imds_find_eni(r, bindings, n_bindings,
                                                 req->peer);
    if (!e || !e->http_endpoint_enabled) {
        /* The switch sends only served ENIs' requests here; anything else
         * (a local process, a stale binding) gets nothing. */
        m->refused_peer++;
        reply(resp, 403, "Forbidden");
        return;
    }
    if (!rate_take(m, pl_md_service_ofport(req->peer), now_ms)) {
        m->rate_limited++;
        reply(resp, 429, "Too Many Requests");
        return;
    }

    const char *path = req->path;
    bool is_token_path = !strcmp(path, "/latest/api/token");
    if (!strcmp(req->method, "PUT")) {
        if (!is_token_path) {
            reply(resp, 405, "Method Not Allowed");
        } else if (req->forwarded) {
            /* AWS refuses a token to a request that went through a proxy:
             * a VM's open proxy must not hand out tokens. */
            m->refused_forwarded++;
            reply(resp, 403, "Forbidden");
        } else {
            int ttl = parse_ttl(req->ttl);
            char *token = ttl ? token_issue(m, e->id,
                                            now_ms + ttl * 1000LL) : NULL;
            if (!ttl) {
                reply(resp, 400, "Bad Request: "
                      "X-aws-ec2-metadata-token-ttl-seconds must be an "
                      "integer from 1 to 21600");
            } else if (!token) {
                reply(resp, 500, "Internal Server Error");
            } else {
                m->tokens_issued++;
                resp->status = 200;
                resp->content_type = "text/plain";
                resp->body = token;
                resp->ttl = ttl;
            }
        }
        return;
    }
    if (strcmp(req->method, "GET") || is_token_path) {
        reply(resp, 405, "Method Not Allowed");
        return;
    }
    if (req->token ? !token_valid(m, req->token, e->id, now_ms)
                   : e->http_tokens_required) {
        m->refused_token++;
        reply(resp, 401, "Unauthorized");
        return;
    }

    /* "/": the versions; "/latest[/...]": the tree. */
    struct ds out = DS_EMPTY_INITIALIZER;
    int status = 404;
    if (!strcmp(path, "/")) {
        ds_put_cstr(&out, "latest");
        status = 200;
    } else if (!strncmp(path, "/latest", 7)
               && (path[7] == '\0' || path[7] == '/')) {
        char *rest = xstrdup(path[7] ? path + 8 : "");
        size_t len = strlen(rest);
        if (len && rest[len - 1] == '/') {
            rest[len - 1] = '\0';
        }
        struct md_tree t = { NULL, 0, 0 };
        md_build(r, e, &t);
        status = md_lookup(&t, rest, &out);
        md_tree_destroy(&t);
        free(rest);
    }
    if (status == 200) {
        resp->status = 200;
        resp->content_type = (strstr(path, "/instance-identity/document")
                              ? "application/json" : "text/plain");
        resp->body = ds_steal_cstr(&out);
    } else {
        ds_destroy(&out);
        reply(resp, 404, "Not Found");
    }
}

void
vpcd_imds_handle(struct vpcd_imds *m, const struct vpc_region *r,
                 const struct pl_binding *bindings, size_t n_bindings,
                 const struct vpcd_imds_request *req, long long int now_ms,
                 struct vpcd_imds_response *resp)
{
    memset(resp, 0, sizeof *resp);
    handle(m, r, bindings, n_bindings, req, now_ms, resp);
    count(m, resp->status);
}

/* ------------------------------------------------------------ counters */

void
vpcd_imds_refuse_connection(struct vpcd_imds *m)
{
    m->refused_connections++;
}

void
vpcd_imds_metrics(const struct vpcd_imds *m, struct ds *ds)
{
    ds_put_cstr(ds, "# HELP vpcd_imds_requests_total Instance metadata "
                "requests, by HTTP status.\n"
                "# TYPE vpcd_imds_requests_total counter\n");
    for (size_t i = 0; i <= N_CODES; i++) {
        if (i < N_CODES) {
            ds_put_format(ds, "vpcd_imds_requests_total{code=\"%d\"} %"
                          PRIu64"\n", imds_codes[i], m->requests[i]);
        } else {
            ds_put_format(ds, "vpcd_imds_requests_total{code=\"other\"} %"
                          PRIu64"\n", m->requests[i]);
        }
    }
    ds_put_format(ds, "# HELP vpcd_imds_tokens_issued_total IMDSv2 session "
                  "tokens issued.\n"
                  "# TYPE vpcd_imds_tokens_issued_total counter\n"
                  "vpcd_imds_tokens_issued_total %"PRIu64"\n"
                  "# HELP vpcd_imds_refused_total Instance metadata "
                  "requests refused, by reason.\n"
                  "# TYPE vpcd_imds_refused_total counter\n"
                  "vpcd_imds_refused_total{reason=\"token\"} %"PRIu64"\n"
                  "vpcd_imds_refused_total{reason=\"forwarded\"} %"PRIu64"\n"
                  "vpcd_imds_refused_total{reason=\"peer\"} %"PRIu64"\n"
                  "vpcd_imds_refused_total{reason=\"rate_limit\"} %"PRIu64
                  "\n"
                  "vpcd_imds_refused_total{reason=\"connections\"} %"PRIu64
                  "\n", m->tokens_issued, m->refused_token,
                  m->refused_forwarded, m->refused_peer, m->rate_limited,
                  m->refused_connections);
}

struct json *
vpcd_imds_status(const struct vpcd_imds *m)
{
    uint64_t total = 0;
    for (size_t i = 0; i <= N_CODES; i++) {
        total += m->requests[i];
    }
    struct json *o = json_object_create();
    json_object_put(o, "requests", json_integer_create(total));
    json_object_put(o, "tokens_issued",
                    json_integer_create(m->tokens_issued));
    json_object_put(o, "refused",
                    json_integer_create(m->refused_token
                                        + m->refused_forwarded
                                        + m->refused_peer));
    json_object_put(o, "rate_limited", json_integer_create(m->rate_limited));
    json_object_put(o, "refused_connections",
                    json_integer_create(m->refused_connections));
    return o;
}
