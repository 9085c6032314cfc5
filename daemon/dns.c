/* daemon/dns.c: the VPC resolver: query parser, reply builder, the
 * per-VPC name index and forwarding to upstream resolvers (daemon/dns.h,
 * docs/vpcd.md "VPC resolver"). */

#include <config.h>
#include "daemon/dns.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/util.h"
#include "openvswitch/vlog.h"
#include "random.h"
#include "translator/model.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(dns);

/* What a query's asker got, for vpcd_dns_queries_total{result=...}. */
#define DNS_RESULTS                                                     \
    DNS_RESULT(ANSWER, "answer")      /* A local name, with data. */    \
    DNS_RESULT(NODATA, "nodata")      /* A local name, other type. */   \
    DNS_RESULT(NXDOMAIN, "nxdomain")  /* In the VPC's own names. */     \
    DNS_RESULT(REFUSED, "refused")    /* Not local, no upstream. */     \
    DNS_RESULT(UPSTREAM, "upstream")  /* An upstream's reply. */        \
    DNS_RESULT(SERVFAIL, "servfail")  /* Upstream timed out, failed or \
                                       * too many outstanding. */      \
    DNS_RESULT(MALFORMED, "malformed")        /* Dropped. */
enum dns_result {
#define DNS_RESULT(ENUM, NAME) DNS_R_##ENUM,
    DNS_RESULTS
#undef DNS_RESULT
    DNS_N_RESULTS
};

/* A VPC of the index. */
struct dns_vpc {
    struct hmap_node node;      /* In vpcd_dns's 'vpcs', by id. */
    char *id;
    char *domain;               /* Lower case. */
    struct vpc_prefix *blocks;
    size_t n_blocks;
};

/* An ENI of the index.  Its private hostname and reverse name are not
 * stored: a question's name is recognized as one (dns_lookup()), which
 * keeps vpcd_dns_set_region() to one small record per ENI. */
struct dns_eni {
    struct hmap_node node;      /* In vpcd_dns's 'enis', by (VPC, IP). */
    const struct dns_vpc *vpc;
    uint32_t ip;
};

/* A declared name (dns_names) of one VPC, or an answer being built. */
struct dns_name {
    struct hmap_node node;      /* In vpcd_dns's 'names', by (VPC, name). */
    const struct dns_vpc *vpc;
    char *name;                 /* Lower case, no final dot. */
    uint16_t type;              /* VPCD_DNS_TYPE_A or _PTR. */
    uint32_t ip;                /* A. */
    const uint8_t *target;      /* PTR: the hostname, wire form. */
    size_t target_len;
};

struct dns_upstream {
    struct vpcd_dns *dns;
    struct sockaddr_in sin;
    char *name;                 /* As configured. */
    int fd;                     /* Connected UDP socket, or -1. */
    struct event *ev;
};

/* A query forwarded to an upstream, waiting for its answer. */
struct dns_pending {
    struct hmap_node node;      /* In vpcd_dns's 'pending', by 'id'. */
    struct vpcd_dns *dns;
    uint16_t id;                /* The id sent upstream. */
    struct dns_upstream *up;
    struct vpcd_dns_request rq; /* The asker's query. */
    void *ctx;
    size_t ctx_len;
    vpcd_dns_reply_cb *cb;
    void *aux;
    struct event *timer;
};

struct vpcd_dns {
    struct event_base *base;
    struct hmap vpcs;           /* struct dns_vpc. */
    struct hmap names;          /* struct dns_name, declared names. */
    struct hmap enis;           /* struct dns_eni, in 'eni_array'. */
    struct dns_eni *eni_array;
    struct dns_upstream *ups;
    size_t n_ups;
    size_t next_up;             /* Round robin. */
    struct hmap pending;        /* struct dns_pending. */
    int timeout_ms;
    size_t max_pending;

    /* Counters. */
    uint64_t results[DNS_N_RESULTS];
    uint64_t forwarded;         /* Sent to an upstream. */
    uint64_t timeouts;          /* Upstream did not answer in time. */
    uint64_t overflows;         /* Not forwarded: too many outstanding. */
    uint64_t upstream_errors;   /* Send or receive failed. */
    uint64_t upstream_ignored;  /* Replies that match no query. */
};

/* ---------------------------------------------------------- wire helpers */

static uint16_t
get16(const uint8_t *p)
{
    return (p[0] << 8) | p[1];
}

static void
put16(struct ofpbuf *b, uint16_t v)
{
    uint8_t *p = ofpbuf_put_uninit(b, 2);
    p[0] = v >> 8;
    p[1] = v;
}

static void
put32(struct ofpbuf *b, uint32_t v)
{
    put16(b, v >> 16);
    put16(b, v);
}

static bool
dns_plain_char(uint8_t c)
{
    return isalnum(c) || c == '-' || c == '_';
}

char *
vpcd_dns_read_name(const uint8_t *msg, size_t len, size_t *ofsp,
                   uint8_t wire_[VPCD_DNS_MAX_NAME], size_t *wire_lenp,
                   char text_[VPCD_DNS_MAX_TEXT])
{
    uint8_t wire_buf[VPCD_DNS_MAX_NAME];
    char text_buf[VPCD_DNS_MAX_TEXT];
    uint8_t *wire = wire_ ? wire_ : wire_buf;
    char *text = text_ ? text_ : text_buf;
    size_t pos = *ofsp;
    size_t seg = pos;           /* Where the current run of labels began:
                                 * every pointer must point before it. */
    size_t end = 0;             /* After the first pointer, if any. */
    size_t wlen = 0, tlen = 0;

    for (;;) {
        if (pos >= len) {
            return xasprintf("name at byte %zu: truncated", *ofsp);
        }
        uint8_t b = msg[pos];
        if ((b & 0xc0) == 0xc0) {
            if (pos + 1 >= len) {
                return xasprintf("name at byte %zu: truncated compression "
                                 "pointer", *ofsp);
            }
            size_t target = ((b & 0x3f) << 8) | msg[pos + 1];
            if (target >= seg) {
                return xasprintf("name at byte %zu: compression pointer at "
                                 "byte %zu to byte %zu does not point "
                                 "backward (a loop)", *ofsp, pos, target);
            }
            if (!end) {
                end = pos + 2;
            }
            pos = seg = target;
            continue;
        } else if (b & 0xc0) {
            return xasprintf("name at byte %zu: label length byte 0x%02x: "
                             "longer than %d bytes or an unknown label "
                             "type", *ofsp, b, VPCD_DNS_MAX_LABEL);
        }
        if (wlen + 1 + b > VPCD_DNS_MAX_NAME) {
            return xasprintf("name at byte %zu: longer than %d bytes",
                             *ofsp, VPCD_DNS_MAX_NAME);
        }
        if (pos + 1 + b > len) {
            return xasprintf("name at byte %zu: truncated label", *ofsp);
        }
        wire[wlen++] = b;
        memcpy(&wire[wlen], &msg[pos + 1], b);
        wlen += b;
        if (!b) {
            break;
        }
        if (tlen) {
            text[tlen++] = '.';
        }
        for (size_t i = 0; i < b; i++) {
            uint8_t c = msg[pos + 1 + i];
            if (dns_plain_char(c)) {
                text[tlen++] = tolower(c);
            } else {
                tlen += sprintf(&text[tlen], "\\%03u", c);
            }
        }
        pos += 1 + b;
    }
    text[tlen] = '\0';
    if (wire_lenp) {
        *wire_lenp = wlen;
    }
    *ofsp = end ? end : pos + 1;
    return NULL;
}

char *
vpcd_dns_parse(const uint8_t *msg, size_t len, struct vpcd_dns_request *rq)
{
    memset(rq, 0, sizeof *rq);
    if (len < VPCD_DNS_HDR_LEN) {
        return xasprintf("%zu bytes: shorter than a DNS header (%d)", len,
                         VPCD_DNS_HDR_LEN);
    }
    rq->id = get16(msg);
    rq->flags = get16(msg + 2);
    unsigned int qd = get16(msg + 4), an = get16(msg + 6);
    unsigned int ns = get16(msg + 8), ar = get16(msg + 10);
    if (rq->flags & VPCD_DNS_F_QR) {
        return xstrdup("QR set: a response, not a query");
    }
    int opcode = (rq->flags & VPCD_DNS_F_OPCODE) >> 11;
    if (opcode) {
        return xasprintf("opcode %d: only QUERY (0) is answered", opcode);
    }
    if (qd != 1) {
        return xasprintf("QDCOUNT %u: a query has exactly one question", qd);
    }
    if (an || ns) {
        return xasprintf("ANCOUNT %u, NSCOUNT %u: a query has no answer or "
                         "authority records", an, ns);
    }
    if (ar > 1) {
        return xasprintf("ARCOUNT %u: at most one additional record (an "
                         "EDNS0 OPT)", ar);
    }

    size_t ofs = VPCD_DNS_HDR_LEN;
    char *error = vpcd_dns_read_name(msg, len, &ofs, rq->qname,
                                     &rq->qname_len, rq->name);
    if (error) {
        char *e = xasprintf("question: %s", error);
        free(error);
        return e;
    }
    if (ofs + 4 > len) {
        return xstrdup("question: truncated after its name");
    }
    rq->qtype = get16(msg + ofs);
    rq->qclass = get16(msg + ofs + 2);
    ofs += 4;

    if (ar) {
        size_t root_len;
        error = vpcd_dns_read_name(msg, len, &ofs, NULL, &root_len, NULL);
        if (error) {
            char *e = xasprintf("additional record: %s", error);
            free(error);
            return e;
        }
        if (ofs + 10 > len) {
            return xstrdup("additional record: truncated");
        }
        uint16_t type = get16(msg + ofs);
        uint16_t rdlen = get16(msg + ofs + 8);
        if (type != VPCD_DNS_TYPE_OPT || root_len != 1) {
            return xasprintf("additional record of type %u: only an EDNS0 "
                             "OPT record (type 41, root name) is allowed",
                             type);
        }
        if (ofs + 10 + rdlen > len) {
            return xasprintf("OPT record: %u bytes of data, truncated",
                             rdlen);
        }
        rq->edns = true;
        rq->edns_size = MAX(get16(msg + ofs + 2), 512);
        ofs += 10 + rdlen;
    }
    if (ofs != len) {
        return xasprintf("%zu bytes after the last record", len - ofs);
    }
    return NULL;
}

char *
vpcd_dns_parse_upstream(const char *s, struct sockaddr_in *sin)
{
    const char *colon = strchr(s, ':');
    char *ip = colon ? xmemdup0(s, colon - s) : xstrdup(s);
    char *error = NULL;

    memset(sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(VPCD_DNS_PORT);
    if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1) {
        error = xasprintf("%s: not an IPv4 address (IP or IP:PORT)", s);
    } else if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (!colon[1] || *end || port < 1 || port > 65535) {
            error = xasprintf("%s: port must be 1..65535", s);
        } else {
            sin->sin_port = htons(port);
        }
    }
    free(ip);
    return error;
}

/* Largest reply the asker of 'rq' accepts. */
static size_t
dns_max_reply(const struct vpcd_dns_request *rq)
{
    return rq->edns ? MIN(rq->edns_size, VPCD_DNS_UDP_MAX) : 512;
}

/* Appends text name 's' (plain labels separated by dots) in wire form. */
static size_t
dns_text_to_wire(const char *s, uint8_t wire[VPCD_DNS_MAX_NAME])
{
    size_t n = 0;
    while (*s) {
        size_t l = strcspn(s, ".");
        if (l > VPCD_DNS_MAX_LABEL || n + 1 + l + 1 > VPCD_DNS_MAX_NAME) {
            return 0;
        }
        wire[n++] = l;
        memcpy(&wire[n], s, l);
        n += l;
        s += l;
        if (*s == '.') {
            s++;
        }
    }
    wire[n++] = 0;
    return n;
}

/* Builds in 'b' (cleared first) the reply to 'rq' with 'rcode', header
 * flags 'flags' (AA, RA) and answer 'ans' (NULL: none).  A reply larger than
 * the asker accepts is replaced by its header and question with TC set. */
static void
dns_build_reply(const struct vpcd_dns_request *rq, int rcode, uint16_t flags,
                const struct dns_name *ans, struct ofpbuf *b)
{
    for (int pass = 0; pass < 2; pass++) {
        bool tc = pass == 1;
        ofpbuf_clear(b);
        put16(b, rq->id);
        put16(b, (VPCD_DNS_F_QR | flags | (rq->flags & VPCD_DNS_F_RD)
                  | (tc ? VPCD_DNS_F_TC : 0) | rcode));
        put16(b, 1);
        put16(b, ans && !tc ? 1 : 0);
        put16(b, 0);
        put16(b, rq->edns ? 1 : 0);
        ofpbuf_put(b, rq->qname, rq->qname_len);
        put16(b, rq->qtype);
        put16(b, rq->qclass);
        if (ans && !tc) {
            put16(b, 0xc000 | VPCD_DNS_HDR_LEN);
            put16(b, ans->type);
            put16(b, VPCD_DNS_CLASS_IN);
            put32(b, VPCD_DNS_TTL);
            if (ans->type == VPCD_DNS_TYPE_A) {
                put16(b, 4);
                put32(b, ans->ip);
            } else {
                put16(b, ans->target_len);
                ofpbuf_put(b, ans->target, ans->target_len);
            }
        }
        if (rq->edns) {
            uint8_t root = 0;
            ofpbuf_put(b, &root, 1);
            put16(b, VPCD_DNS_TYPE_OPT);
            put16(b, VPCD_DNS_EDNS_SIZE);
            put32(b, 0);        /* Extended rcode, version 0, no flags. */
            put16(b, 0);
        }
        if (b->size <= dns_max_reply(rq)) {
            break;
        }
    }
}

void
vpcd_dns_build_reply(const struct vpcd_dns_request *rq, int rcode,
                     uint16_t flags, uint16_t type, uint32_t ip,
                     const char *target, struct ofpbuf *b)
{
    uint8_t wire[VPCD_DNS_MAX_NAME];
    struct dns_name ans;

    memset(&ans, 0, sizeof ans);
    ans.type = type;
    ans.ip = ip;
    if (type == VPCD_DNS_TYPE_PTR) {
        ans.target = wire;
        ans.target_len = dns_text_to_wire(target ? target : "", wire);
    }
    dns_build_reply(rq, rcode, flags, type ? &ans : NULL, b);
}

/* ----------------------------------------------------------- the index */

static uint32_t
dns_name_hash(const struct dns_vpc *vpc, const char *name)
{
    return hash_string(name, hash_pointer(vpc, 0));
}

static const struct dns_vpc *
dns_vpc_find(const struct vpcd_dns *dns, const char *id)
{
    const struct dns_vpc *vpc;
    HMAP_FOR_EACH_WITH_HASH (vpc, node, hash_string(id, 0), &dns->vpcs) {
        if (!strcmp(vpc->id, id)) {
            return vpc;
        }
    }
    return NULL;
}

static const struct dns_name *
dns_name_find(const struct vpcd_dns *dns, const struct dns_vpc *vpc,
              const char *name)
{
    const struct dns_name *n;
    HMAP_FOR_EACH_WITH_HASH (n, node, dns_name_hash(vpc, name),
                             &dns->names) {
        if (n->vpc == vpc && !strcmp(n->name, name)) {
            return n;
        }
    }
    return NULL;
}

static uint32_t
dns_eni_hash(const struct dns_vpc *vpc, uint32_t ip)
{
    return hash_int(ip, hash_pointer(vpc, 0));
}

static const struct dns_eni *
dns_eni_find(const struct vpcd_dns *dns, const struct dns_vpc *vpc,
             uint32_t ip)
{
    const struct dns_eni *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, dns_eni_hash(vpc, ip), &dns->enis) {
        if (e->vpc == vpc && e->ip == ip) {
            return e;
        }
    }
    return NULL;
}

/* If 'name' is the private hostname that address '*ip' has in 'vpc'
 * (vpc_eni_hostname_in(), the one rule), stores the address in '*ip'. */
static bool
dns_parse_hostname(const struct dns_vpc *vpc, const char *name, uint32_t *ip)
{
    unsigned int o[4];
    int n = -1;

    if (strncmp(name, "ip-", 3)
        || sscanf(name, "ip-%3u-%3u-%3u-%3u.%n", &o[0], &o[1], &o[2], &o[3],
                  &n) != 4
        || n < 0 || strcmp(name + n, vpc->domain)
        || o[0] > 255 || o[1] > 255 || o[2] > 255 || o[3] > 255) {
        return false;
    }
    struct vpc_eni e = { .ip = (o[0] << 24) | (o[1] << 16) | (o[2] << 8)
                               | o[3] };
    char *canonical = vpc_eni_hostname_in(&e, vpc->domain);
    bool ok = !strcmp(canonical, name);
    free(canonical);
    if (ok) {
        *ip = e.ip;
    }
    return ok;
}

static char *
dns_lower(const char *s)
{
    char *l = xstrdup(s);
    for (char *p = l; *p; p++) {
        *p = tolower((unsigned char) *p);
    }
    size_t len = strlen(l);
    if (len && l[len - 1] == '.') {
        l[len - 1] = '\0';
    }
    return l;
}

static void
dns_index_clear(struct vpcd_dns *dns)
{
    struct dns_name *n;
    HMAP_FOR_EACH_POP (n, node, &dns->names) {
        free(n->name);
        free(n);
    }
    hmap_clear(&dns->enis);
    free(dns->eni_array);
    dns->eni_array = NULL;
    struct dns_vpc *vpc;
    HMAP_FOR_EACH_POP (vpc, node, &dns->vpcs) {
        free(vpc->id);
        free(vpc->domain);
        free(vpc->blocks);
        free(vpc);
    }
}

void
vpcd_dns_set_region(struct vpcd_dns *dns, const struct vpc_region *r)
{
    dns_index_clear(dns);
    if (!r) {
        return;
    }
    /* Domains in one pass: vpc_domain_name() for each VPC, and
     * vpc_eni_hostname() for each ENI, would be quadratic. */
    char **domains = vpc_domain_names(r);
    for (size_t i = 0; i < r->n_vpcs; i++) {
        const struct vpc_vpc *v = &r->vpcs[i];
        struct dns_vpc *vpc = xzalloc(sizeof *vpc);

        vpc->id = xstrdup(v->id);
        vpc->domain = dns_lower(domains[i]);
        free(domains[i]);
        vpc->blocks = xmemdup(v->blocks, v->n_blocks * sizeof *v->blocks);
        vpc->n_blocks = v->n_blocks;
        hmap_insert(&dns->vpcs, &vpc->node, hash_string(vpc->id, 0));
    }
    free(domains);
    dns->eni_array = xcalloc(r->n_enis + 1, sizeof *dns->eni_array);
    hmap_reserve(&dns->enis, r->n_enis);
    for (size_t i = 0; i < r->n_enis; i++) {
        const struct vpc_eni *e = &r->enis[i];
        const struct dns_vpc *vpc = dns_vpc_find(dns, e->subnet->vpc->id);
        if (!dns_eni_find(dns, vpc, e->ip)) {
            struct dns_eni *de = &dns->eni_array[hmap_count(&dns->enis)];
            de->vpc = vpc;
            de->ip = e->ip;
            hmap_insert(&dns->enis, &de->node, dns_eni_hash(vpc, e->ip));
        }
    }

    /* Then the declared names, unique within a VPC (translator/check.c).
     * One that is an ENI's private hostname is left out: the hostname
     * wins. */
    for (size_t i = 0; i < r->n_enis; i++) {
        const struct vpc_eni *e = &r->enis[i];
        const struct dns_vpc *vpc = dns_vpc_find(dns, e->subnet->vpc->id);
        for (size_t j = 0; j < e->n_dns_names; j++) {
            char *name = dns_lower(e->dns_names[j]);
            uint32_t ip;
            if ((dns_parse_hostname(vpc, name, &ip)
                 && dns_eni_find(dns, vpc, ip))
                || dns_name_find(dns, vpc, name)) {
                free(name);
                continue;
            }
            struct dns_name *n = xzalloc(sizeof *n);
            n->vpc = vpc;
            n->name = name;
            n->type = VPCD_DNS_TYPE_A;
            n->ip = e->ip;
            hmap_insert(&dns->names, &n->node, dns_name_hash(vpc, name));
        }
    }
}

size_t
vpcd_dns_n_names(const struct vpcd_dns *dns)
{
    /* Each ENI's hostname and reverse name, and the declared names. */
    return 2 * hmap_count(&dns->enis) + hmap_count(&dns->names);
}

/* If 'name' is "D.C.B.A.in-addr.arpa" (decimal octets without leading
 * zeros), stores A.B.C.D in '*ip'. */
static bool
dns_parse_reverse(const char *name, uint32_t *ip)
{
    uint32_t addr = 0;
    const char *p = name;

    for (int i = 0; i < 4; i++) {
        size_t n = strspn(p, "0123456789");
        if (!n || n > 3 || (n > 1 && p[0] == '0') || p[n] != '.') {
            return false;
        }
        unsigned int o = atoi(p);
        if (o > 255) {
            return false;
        }
        addr |= o << (8 * i);
        p += n + 1;
    }
    if (strcmp(p, "in-addr.arpa")) {
        return false;
    }
    *ip = addr;
    return true;
}

/* True if 'name' is the VPC's to answer although no ENI has it: under its
 * domain, or the reverse name of an address in one of its blocks. */
static bool
dns_is_own(const struct dns_vpc *vpc, const char *name)
{
    size_t len = strlen(name), dlen = strlen(vpc->domain);
    uint32_t ip;

    if (len > dlen && name[len - dlen - 1] == '.'
        && !strcmp(name + len - dlen, vpc->domain)) {
        return true;
    }
    if (dns_parse_reverse(name, &ip)) {
        for (size_t i = 0; i < vpc->n_blocks; i++) {
            if (vpc_prefix_contains(&vpc->blocks[i], ip)) {
                return true;
            }
        }
    }
    return false;
}

/* Looks 'name' up among the names of 'vpc'.  If it is one, returns true
 * with its record in '*ans' (a PTR's target in 'wire'). */
static bool
dns_lookup(const struct vpcd_dns *dns, const struct dns_vpc *vpc,
           const char *name, struct dns_name *ans,
           uint8_t wire[VPCD_DNS_MAX_NAME])
{
    uint32_t ip;

    memset(ans, 0, sizeof *ans);
    if (dns_parse_reverse(name, &ip)) {
        if (!dns_eni_find(dns, vpc, ip)) {
            return false;
        }
        struct vpc_eni e = { .ip = ip };
        char *hostname = vpc_eni_hostname_in(&e, vpc->domain);
        ans->type = VPCD_DNS_TYPE_PTR;
        ans->target = wire;
        ans->target_len = dns_text_to_wire(hostname, wire);
        free(hostname);
        return ans->target_len > 0;
    }
    if (dns_parse_hostname(vpc, name, &ip) && dns_eni_find(dns, vpc, ip)) {
        ans->type = VPCD_DNS_TYPE_A;
        ans->ip = ip;
        return true;
    }
    const struct dns_name *n = dns_name_find(dns, vpc, name);
    if (n) {
        ans->type = VPCD_DNS_TYPE_A;
        ans->ip = n->ip;
        return true;
    }
    return false;
}

/* ------------------------------------------------------ forwarding */

static void
dns_pending_free(struct dns_pending *p)
{
    if (p) {
        event_free(p->timer);
        free(p->ctx);
        free(p);
    }
}

/* Answers 'rq' with 'rcode' and no data through 'cb', counting 'result'.
 * Answers about the VPC's own names are authoritative (AA). */
static void
dns_reply_rcode(struct vpcd_dns *dns, const struct vpcd_dns_request *rq,
                int rcode, enum dns_result result, const void *ctx,
                vpcd_dns_reply_cb *cb, void *aux)
{
    uint16_t flags = dns->n_ups ? VPCD_DNS_F_RA : 0;
    if (result == DNS_R_NODATA || result == DNS_R_NXDOMAIN) {
        flags |= VPCD_DNS_F_AA;
    }
    struct ofpbuf b;
    uint64_t stub[512 / 8];

    ofpbuf_use_stub(&b, stub, sizeof stub);
    dns_build_reply(rq, rcode, flags, NULL, &b);
    dns->results[result]++;
    cb(b.data, b.size, ctx, aux);
    ofpbuf_uninit(&b);
}

static struct dns_pending *
dns_pending_find(const struct vpcd_dns *dns, uint16_t id)
{
    struct dns_pending *p;
    HMAP_FOR_EACH_WITH_HASH (p, node, hash_int(id, 0), &dns->pending) {
        if (p->id == id) {
            return p;
        }
    }
    return NULL;
}

static void
dns_timeout_cb(evutil_socket_t fd OVS_UNUSED, short what OVS_UNUSED,
               void *p_)
{
    struct dns_pending *p = p_;
    struct vpcd_dns *dns = p->dns;

    hmap_remove(&dns->pending, &p->node);
    dns->timeouts++;
    dns_reply_rcode(dns, &p->rq, VPCD_DNS_SERVFAIL, DNS_R_SERVFAIL, p->ctx,
                    p->cb, p->aux);
    dns_pending_free(p);
}

/* True if the question of reply 'msg' is the one of 'rq' (names compared
 * case-insensitively: resolvers may change the case). */
static bool
dns_same_question(const uint8_t *msg, size_t len,
                  const struct vpcd_dns_request *rq)
{
    uint8_t wire[VPCD_DNS_MAX_NAME];
    size_t wire_len, ofs = VPCD_DNS_HDR_LEN;
    char *error;

    if (get16(msg + 4) != 1) {
        return false;
    }
    error = vpcd_dns_read_name(msg, len, &ofs, wire, &wire_len, NULL);
    if (error) {
        free(error);
        return false;
    }
    if (ofs + 4 > len || wire_len != rq->qname_len
        || get16(msg + ofs) != rq->qtype
        || get16(msg + ofs + 2) != rq->qclass) {
        return false;
    }
    for (size_t i = 0; i < wire_len; i++) {
        if (tolower(wire[i]) != tolower(rq->qname[i])) {
            return false;
        }
    }
    return true;
}

static void
dns_upstream_reply(struct dns_upstream *up, uint8_t *msg, size_t len)
{
    struct vpcd_dns *dns = up->dns;
    struct dns_pending *p;

    if (len < VPCD_DNS_HDR_LEN || !(get16(msg + 2) & VPCD_DNS_F_QR)
        || !(p = dns_pending_find(dns, get16(msg))) || p->up != up
        || !dns_same_question(msg, len, &p->rq)) {
        dns->upstream_ignored++;
        return;
    }
    hmap_remove(&dns->pending, &p->node);
    dns->results[DNS_R_UPSTREAM]++;
    if (len > dns_max_reply(&p->rq)) {
        /* Larger than the asker accepts: it retries over TCP, or with a
         * larger EDNS0 size. */
        struct ofpbuf b;
        ofpbuf_init(&b, 512);
        dns_build_reply(&p->rq, get16(msg + 2) & VPCD_DNS_F_RCODE,
                        VPCD_DNS_F_RA | VPCD_DNS_F_TC, NULL, &b);
        p->cb(b.data, b.size, p->ctx, p->aux);
        ofpbuf_uninit(&b);
    } else {
        msg[0] = p->rq.id >> 8;
        msg[1] = p->rq.id;
        p->cb(msg, len, p->ctx, p->aux);
    }
    dns_pending_free(p);
}

static void
dns_upstream_read_cb(evutil_socket_t fd, short what OVS_UNUSED, void *up_)
{
    struct dns_upstream *up = up_;
    static uint8_t buf[65536];

    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                /* E.g. ECONNREFUSED, from an ICMP port unreachable: the
                 * query it was for times out. */
                static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
                VLOG_WARN_RL(&rl, "upstream %s: %s", up->name,
                             ovs_strerror(errno));
                up->dns->upstream_errors++;
                continue;
            }
            break;
        }
        dns_upstream_reply(up, buf, n);
    }
}

static struct dns_upstream *
dns_pick_upstream(struct vpcd_dns *dns)
{
    for (size_t i = 0; i < dns->n_ups; i++) {
        struct dns_upstream *up = &dns->ups[dns->next_up++ % dns->n_ups];
        if (up->fd >= 0) {
            return up;
        }
    }
    return NULL;
}

static uint16_t
dns_new_id(const struct vpcd_dns *dns)
{
    for (;;) {
        uint16_t id;
        if (getrandom(&id, sizeof id, GRND_NONBLOCK) != sizeof id) {
            id = random_uint16();
        }
        if (!dns_pending_find(dns, id)) {
            return id;
        }
    }
}

static void
dns_forward(struct vpcd_dns *dns, const struct vpcd_dns_request *rq,
            const uint8_t *q, size_t len, const void *ctx, size_t ctx_len,
            vpcd_dns_reply_cb *cb, void *aux)
{
    struct dns_upstream *up = dns_pick_upstream(dns);
    if (!up) {
        dns_reply_rcode(dns, rq, VPCD_DNS_REFUSED, DNS_R_REFUSED, ctx, cb,
                        aux);
        return;
    }
    if (hmap_count(&dns->pending) >= dns->max_pending) {
        dns->overflows++;
        dns_reply_rcode(dns, rq, VPCD_DNS_SERVFAIL, DNS_R_SERVFAIL, ctx, cb,
                        aux);
        return;
    }

    uint16_t id = dns_new_id(dns);
    uint8_t *copy = xmemdup(q, len);
    copy[0] = id >> 8;
    copy[1] = id;
    ssize_t n = send(up->fd, copy, len, 0);
    free(copy);
    if (n < 0 || (size_t) n != len) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "upstream %s: send: %s", up->name,
                     n < 0 ? ovs_strerror(errno) : "short write");
        dns->upstream_errors++;
        dns_reply_rcode(dns, rq, VPCD_DNS_SERVFAIL, DNS_R_SERVFAIL, ctx, cb,
                        aux);
        return;
    }

    struct dns_pending *p = xzalloc(sizeof *p);
    p->dns = dns;
    p->id = id;
    p->up = up;
    p->rq = *rq;
    p->ctx = ctx_len ? xmemdup(ctx, ctx_len) : NULL;
    p->ctx_len = ctx_len;
    p->cb = cb;
    p->aux = aux;
    p->timer = evtimer_new(dns->base, dns_timeout_cb, p);
    struct timeval tv = { .tv_sec = dns->timeout_ms / 1000,
                          .tv_usec = (dns->timeout_ms % 1000) * 1000 };
    evtimer_add(p->timer, &tv);
    hmap_insert(&dns->pending, &p->node, hash_int(id, 0));
    dns->forwarded++;
}

/* ----------------------------------------------------------- the API */

struct vpcd_dns *
vpcd_dns_create(struct event_base *base, const char *const *upstreams,
                size_t n)
{
    struct vpcd_dns *dns = xzalloc(sizeof *dns);

    dns->base = base;
    hmap_init(&dns->vpcs);
    hmap_init(&dns->names);
    hmap_init(&dns->enis);
    hmap_init(&dns->pending);
    dns->timeout_ms = VPCD_DNS_TIMEOUT_MS;
    dns->max_pending = VPCD_DNS_MAX_PENDING;
    dns->ups = xcalloc(n ? n : 1, sizeof *dns->ups);
    for (size_t i = 0; i < n; i++) {
        struct dns_upstream *up = &dns->ups[dns->n_ups];
        char *error = vpcd_dns_parse_upstream(upstreams[i], &up->sin);
        if (error) {
            VLOG_ERR("DNS upstream ignored: %s", error);
            free(error);
            continue;
        }
        up->dns = dns;
        up->name = xstrdup(upstreams[i]);
        up->fd = -1;
        dns->n_ups++;
        if (!base) {
            continue;
        }
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &up->sin,
                              sizeof up->sin) < 0) {
            VLOG_ERR("DNS upstream %s: %s", up->name, ovs_strerror(errno));
            if (fd >= 0) {
                close(fd);
            }
            continue;
        }
        up->fd = fd;
        up->ev = event_new(base, fd, EV_READ | EV_PERSIST,
                           dns_upstream_read_cb, up);
        event_add(up->ev, NULL);
    }
    return dns;
}

void
vpcd_dns_destroy(struct vpcd_dns *dns)
{
    if (!dns) {
        return;
    }
    struct dns_pending *p;
    HMAP_FOR_EACH_POP (p, node, &dns->pending) {
        dns_pending_free(p);
    }
    hmap_destroy(&dns->pending);
    for (size_t i = 0; i < dns->n_ups; i++) {
        struct dns_upstream *up = &dns->ups[i];
        if (up->ev) {
            event_free(up->ev);
        }
        if (up->fd >= 0) {
            close(up->fd);
        }
        free(up->name);
    }
    free(dns->ups);
    dns_index_clear(dns);
    hmap_destroy(&dns->names);
    hmap_destroy(&dns->enis);
    hmap_destroy(&dns->vpcs);
    free(dns);
}

void
vpcd_dns_set_limits(struct vpcd_dns *dns, int timeout_ms, size_t max_pending)
{
    dns->timeout_ms = MAX(timeout_ms, 1);
    /* Half the query ids at most, so that a free one is found fast. */
    dns->max_pending = MIN(max_pending, 32768);
}

void
vpcd_dns_query(struct vpcd_dns *dns, const struct vpc_eni *eni,
               const uint8_t *q, size_t len, const void *ctx, size_t ctx_len,
               vpcd_dns_reply_cb *cb, void *aux)
{
    struct vpcd_dns_request rq;
    char *error = vpcd_dns_parse(q, len, &rq);

    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_DBG_RL(&rl, "%s: malformed query dropped: %s",
                    eni ? eni->id : "(no ENI)", error);
        free(error);
        dns->results[DNS_R_MALFORMED]++;
        return;
    }

    const struct dns_vpc *vpc = (eni && eni->subnet
                                 ? dns_vpc_find(dns, eni->subnet->vpc->id)
                                 : NULL);
    if (vpc && rq.qclass == VPCD_DNS_CLASS_IN) {
        uint16_t flags = VPCD_DNS_F_AA | (dns->n_ups ? VPCD_DNS_F_RA : 0);
        uint8_t wire[VPCD_DNS_MAX_NAME];
        struct dns_name ans;
        if (dns_lookup(dns, vpc, rq.name, &ans, wire)) {
            bool data = rq.qtype == ans.type
                        || rq.qtype == VPCD_DNS_TYPE_ANY;
            struct ofpbuf b;
            uint64_t stub[1024 / 8];

            ofpbuf_use_stub(&b, stub, sizeof stub);
            dns_build_reply(&rq, VPCD_DNS_NOERROR, flags,
                            data ? &ans : NULL, &b);
            dns->results[data ? DNS_R_ANSWER : DNS_R_NODATA]++;
            cb(b.data, b.size, ctx, aux);
            ofpbuf_uninit(&b);
            return;
        } else if (!strcmp(rq.name, vpc->domain)) {
            dns_reply_rcode(dns, &rq, VPCD_DNS_NOERROR, DNS_R_NODATA, ctx,
                            cb, aux);
            return;
        } else if (dns_is_own(vpc, rq.name)) {
            dns_reply_rcode(dns, &rq, VPCD_DNS_NXDOMAIN, DNS_R_NXDOMAIN, ctx,
                            cb, aux);
            return;
        }
    }
    dns_forward(dns, &rq, q, len, ctx, ctx_len, cb, aux);
}

void
vpcd_dns_metrics(const struct vpcd_dns *dns, struct ds *out)
{
    static const char *const results[] = {
#define DNS_RESULT(ENUM, NAME) NAME,
        DNS_RESULTS
#undef DNS_RESULT
    };

    ds_put_cstr(out, "# HELP vpcd_dns_queries_total DNS queries to the VPC "
                "resolver, by what the asker got.\n"
                "# TYPE vpcd_dns_queries_total counter\n");
    for (size_t i = 0; i < DNS_N_RESULTS; i++) {
        ds_put_format(out, "vpcd_dns_queries_total{result=\"%s\"} %"PRIu64
                      "\n", results[i], dns->results[i]);
    }

    const struct {
        const char *name, *type, *help;
        uint64_t value;
    } m[] = {
        { "vpcd_dns_malformed_total", "counter",
          "Malformed DNS queries dropped.", dns->results[DNS_R_MALFORMED] },
        { "vpcd_dns_forwarded_total", "counter",
          "DNS queries forwarded to an upstream resolver.", dns->forwarded },
        { "vpcd_dns_upstream_timeouts_total", "counter",
          "Forwarded DNS queries that got no answer in time (SERVFAIL).",
          dns->timeouts },
        { "vpcd_dns_upstream_overflow_total", "counter",
          "DNS queries not forwarded: too many outstanding (SERVFAIL).",
          dns->overflows },
        { "vpcd_dns_upstream_errors_total", "counter",
          "Failed sends to and receives from upstream resolvers.",
          dns->upstream_errors },
        { "vpcd_dns_upstream_ignored_total", "counter",
          "Upstream replies that match no outstanding query.",
          dns->upstream_ignored },
        { "vpcd_dns_upstream_pending", "gauge",
          "Forwarded DNS queries waiting for an answer.",
          hmap_count(&dns->pending) },
        { "vpcd_dns_upstreams", "gauge",
          "Upstream resolvers configured.", dns->n_ups },
        { "vpcd_dns_names", "gauge",
          "Names in the VPC resolver's index (A and PTR).",
          vpcd_dns_n_names(dns) },
    };
    for (size_t i = 0; i < ARRAY_SIZE(m); i++) {
        ds_put_format(out, "# HELP %s %s\n# TYPE %s %s\n%s %"PRIu64"\n",
                      m[i].name, m[i].help, m[i].name, m[i].type, m[i].name,
                      m[i].value);
    }
}
