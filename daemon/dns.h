/* daemon/dns.h: the VPC resolver (docs/vpcd.md, "VPC resolver").
 *
 * What it answers.  A VM asks the resolver at its subnet's +2 address, its
 * VPC's base +2 or 169.254.169.253; the switch hands the UDP payload to vpcd
 * (the packet-in controller, which says which ENI asked), and this module
 * answers it from the intents, in the asking ENI's VPC only:
 *   - A for each ENI's private hostname (vpc_eni_hostname(),
 *     "ip-10-0-1-5.DOMAIN") and for each name in its "dns_names";
 *   - PTR for each ENI's private IP (D.C.B.A.in-addr.arpa) -> its private
 *     hostname;
 *   - NOERROR without data for another type of a known name, NXDOMAIN for
 *     an unknown name under the VPC's domain (vpc_default_domain()) and for
 *     a reverse name of an address in one of the VPC's blocks;
 *   - every other question is forwarded to an upstream resolver (host
 *     configuration, vpcd --dns-upstream), or answered REFUSED if there is
 *     none.
 * Names of one VPC are never visible from another: the index holds ENIs by
 * (VPC, address) and declared names by (VPC, name), and every lookup is
 * scoped by the asking ENI's VPC.  Names compare case-insensitively; the
 * question is echoed as it was asked.
 *
 * Interface changes from the shared design (issue 14): none to the five
 * functions; added are the pure functions below (for tests and fuzzers),
 * vpcd_dns_set_limits() and vpcd_dns_n_names().
 *
 * Malformed queries (see vpcd_dns_parse()) get no answer at all, so that a
 * forged response or garbage is never reflected; they are counted.
 *
 * No OpenFlow here: the caller builds the UDP/IP/Ethernet packet around a
 * reply.  Threading: none; one event base, vpcd's one thread. */

#ifndef VPCD_DNS_H
#define VPCD_DNS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct event_base;
struct ofpbuf;
struct sockaddr_in;
struct vpc_eni;
struct vpc_region;

/* Limits and defaults. */
#define VPCD_DNS_TTL 60                 /* Seconds, of every local answer. */
#define VPCD_DNS_TIMEOUT_MS 2000        /* Upstream: then SERVFAIL. */
#define VPCD_DNS_MAX_PENDING 512        /* Upstream queries outstanding. */
#define VPCD_DNS_UDP_MAX 4096           /* Largest reply vpcd relays. */
#define VPCD_DNS_EDNS_SIZE 1232         /* Our EDNS0 UDP payload size. */
#define VPCD_DNS_PORT 53

/* DNS constants (RFC 1035, 6891). */
#define VPCD_DNS_HDR_LEN 12
#define VPCD_DNS_MAX_NAME 255           /* Wire form, with the root label. */
#define VPCD_DNS_MAX_LABEL 63
#define VPCD_DNS_MAX_TEXT 1024          /* Presentation form, escaped. */

enum {
    VPCD_DNS_TYPE_A = 1,
    VPCD_DNS_TYPE_SOA = 6,
    VPCD_DNS_TYPE_PTR = 12,
    VPCD_DNS_TYPE_AAAA = 28,
    VPCD_DNS_TYPE_OPT = 41,
    VPCD_DNS_TYPE_ANY = 255,
    VPCD_DNS_CLASS_IN = 1,
};

enum {
    VPCD_DNS_NOERROR = 0,
    VPCD_DNS_FORMERR = 1,
    VPCD_DNS_SERVFAIL = 2,
    VPCD_DNS_NXDOMAIN = 3,
    VPCD_DNS_NOTIMP = 4,
    VPCD_DNS_REFUSED = 5,
};

/* Header flag bits (the 16 bits after the id). */
#define VPCD_DNS_F_QR 0x8000
#define VPCD_DNS_F_OPCODE 0x7800
#define VPCD_DNS_F_AA 0x0400
#define VPCD_DNS_F_TC 0x0200
#define VPCD_DNS_F_RD 0x0100
#define VPCD_DNS_F_RA 0x0080
#define VPCD_DNS_F_RCODE 0x000f

/* A parsed query: its header and its one question. */
struct vpcd_dns_request {
    uint16_t id;
    uint16_t flags;                     /* As sent. */
    uint8_t qname[VPCD_DNS_MAX_NAME];   /* Wire form, uncompressed, case as
                                         * sent. */
    size_t qname_len;
    char name[VPCD_DNS_MAX_TEXT];       /* Lower case, dotted, no final
                                         * dot ("" for the root); bytes
                                         * other than letters, digits, '-'
                                         * and '_' escaped as \DDD. */
    uint16_t qtype, qclass;
    bool edns;                          /* An OPT record came with it. */
    uint16_t edns_size;                 /* Its UDP payload size, or 0. */
};

/* Parses 'len' bytes 'msg' as a query.  Returns NULL on success, else a
 * malloc'd message saying what is wrong: shorter than a header, QR set
 * (a response), an opcode other than QUERY, a QDCOUNT other than 1, any
 * answer or authority record, additional records other than one OPT,
 * a truncated section, a bad label type or a label longer than 63 bytes,
 * a name longer than 255 bytes, a compression pointer that does not point
 * backward (a loop), bytes after the last record. */
char *vpcd_dns_parse(const uint8_t *msg, size_t len,
                     struct vpcd_dns_request *);

/* Decodes the name at '*ofs' in 'msg' (following compression pointers,
 * each of which must point before the previous one) into its wire form
 * 'wire' (uncompressed) and its presentation form 'text' (both may be
 * NULL), and advances '*ofs' past it.  Returns NULL or a malloc'd error. */
char *vpcd_dns_read_name(const uint8_t *msg, size_t len, size_t *ofs,
                         uint8_t wire[VPCD_DNS_MAX_NAME], size_t *wire_len,
                         char text[VPCD_DNS_MAX_TEXT]);

/* Builds in 'b' (cleared first) the reply to 'rq': 'rcode', header flags
 * 'flags' (AA, RA; QR, RD copied from the query and the question are
 * always there) and, if 'type' is nonzero, one answer for the question's
 * name: an A record for 'ip' or a PTR record to 'target' (a plain dotted
 * name), with TTL VPCD_DNS_TTL, and an OPT record if the query had one.  A
 * reply larger than the asker accepts (512 bytes, or its EDNS0 size) is cut
 * to its header and question, with TC set. */
void vpcd_dns_build_reply(const struct vpcd_dns_request *rq, int rcode,
                          uint16_t flags, uint16_t type, uint32_t ip,
                          const char *target, struct ofpbuf *b);

/* Parses "IP" or "IP:PORT" (default port 53) into '*sin'.  Returns NULL or
 * a malloc'd error. */
char *vpcd_dns_parse_upstream(const char *s, struct sockaddr_in *sin);

/* The resolver.  'upstreams' ("IP[:PORT]" each, checked with
 * vpcd_dns_parse_upstream(): an invalid one is logged and ignored) may be
 * empty; 'base' may then be NULL (nothing is ever forwarded). */
struct vpcd_dns *vpcd_dns_create(struct event_base *,
                                 const char *const *upstreams, size_t n);

/* Drops every query waiting for an upstream (their callbacks are never
 * called) and frees 'dns'. */
void vpcd_dns_destroy(struct vpcd_dns *);

/* Sets the upstream timeout (milliseconds) and the largest number of
 * upstream queries outstanding, at most 32768 (tests; the defaults are
 * VPCD_DNS_TIMEOUT_MS and VPCD_DNS_MAX_PENDING). */
void vpcd_dns_set_limits(struct vpcd_dns *, int timeout_ms,
                         size_t max_pending);

/* Rebuilds the name index from region 'r' (called after each apply; NULL:
 * no names).  The index copies what it needs: 'r' may be freed after. */
void vpcd_dns_set_region(struct vpcd_dns *, const struct vpc_region *r);

/* The number of names the index answers (A and PTR owners): two per ENI,
 * its hostname and reverse name, plus the declared names that are no
 * ENI's hostname. */
size_t vpcd_dns_n_names(const struct vpcd_dns *);

typedef void vpcd_dns_reply_cb(const uint8_t *reply, size_t len,
                               const void *ctx, void *aux);

/* Answers query 'q' ('len' bytes, the UDP payload) asked by ENI 'eni'
 * (whose subnet's VPC scopes every local name; NULL: no VPC, so only
 * forwarding or REFUSED): now, through 'cb', or later, after an upstream
 * answer or its timeout (the resolver keeps a copy of the 'ctx_len' bytes
 * of 'ctx' till then and passes the copy to 'cb'), or never (malformed or
 * the resolver destroyed first; counted).  'eni' is looked at only during
 * the call.  The reply passed to 'cb' is valid during the call only. */
void vpcd_dns_query(struct vpcd_dns *, const struct vpc_eni *eni,
                    const uint8_t *q, size_t len,
                    const void *ctx, size_t ctx_len,
                    vpcd_dns_reply_cb *cb, void *aux);

/* Appends the resolver's counters to 'out' in Prometheus text form
 * (vpcd_dns_*). */
void vpcd_dns_metrics(const struct vpcd_dns *, struct ds *out);

#endif /* daemon/dns.h */
