/* daemon/imds.h: the instance metadata service (IMDS) of vpcd, as a pure
 * function of (request, region, bindings, time), so that unit tests and
 * fuzzers drive it without a network; daemon/vpcd.c serves it over HTTP
 * on the metadata service port (docs/vpcd.md, "Instance metadata").
 *
 * Which ENI asked is decided by the switch, never by the VM: the metadata
 * stage replaced the request's source address by the ENI's service address
 * (169.254.128.0 + its ofport, pipeline.h), so the connection's peer
 * address names the ofport, the bindings name the ENI on it.
 *
 * IMDSv2 session tokens are stateless: a token is a random nonce, its
 * expiry and an HMAC-SHA256 over both and the ENI's id under a secret
 * drawn when the service starts; nothing is stored per token, a token is
 * valid only for the ENI it was issued to, and a vpcd restart invalidates
 * every token (clients ask for a new one on 401, as on AWS).
 *
 * Threading: none. */

#ifndef VPCD_IMDS_H
#define VPCD_IMDS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pipeline/pipeline.h"
#include "translator/model.h"

struct ds;
struct json;

/* Per-ENI request rate limit (a token bucket): 'rate' requests per second
 * on average, bursts of 'burst'. */
#define VPCD_IMDS_RATE 100
#define VPCD_IMDS_BURST 200

/* Token lifetimes, AWS's: 1 s to 6 hours. */
#define VPCD_IMDS_TTL_MIN 1
#define VPCD_IMDS_TTL_MAX 21600

struct vpcd_imds *vpcd_imds_create(void);
void vpcd_imds_destroy(struct vpcd_imds *);
void vpcd_imds_set_rate(struct vpcd_imds *, double rate, double burst);

struct vpcd_imds_request {
    const char *method;         /* "GET", "PUT", ... */
    const char *path;           /* Without the query. */
    const char *token;          /* X-aws-ec2-metadata-token, or NULL. */
    const char *ttl;            /* X-aws-ec2-metadata-token-ttl-seconds. */
    bool forwarded;             /* Has an X-Forwarded-For header. */
    uint32_t peer;              /* Peer IPv4 address, host byte order. */
};

struct vpcd_imds_response {
    int status;
    const char *content_type;
    char *body;                 /* Malloc'd. */
    int ttl;                    /* >0: the X-aws-ec2-metadata-token-ttl-
                                 * seconds header to send. */
};

/* Answers 'req' at time 'now_ms' (monotonic milliseconds) for the ENIs of
 * 'r' bound to this host as 'bindings' ('r' may be NULL: nothing loaded
 * yet).  Fills '*resp'; the caller frees resp->body. */
void vpcd_imds_handle(struct vpcd_imds *, const struct vpc_region *r,
                      const struct pl_binding *bindings, size_t n_bindings,
                      const struct vpcd_imds_request *req,
                      long long int now_ms, struct vpcd_imds_response *resp);

/* The ENI of 'r' that service address 'peer' stands for, or NULL. */
const struct vpc_eni *vpcd_imds_find_eni(const struct vpc_region *r,
                                         const struct pl_binding *bindings,
                                         size_t n_bindings, uint32_t peer);

/* Counts a connection refused because its ENI has too many open
 * (daemon/vpcd.c). */
void vpcd_imds_refuse_connection(struct vpcd_imds *);

/* Counters: Prometheus text for /metrics, an object for /v1/status. */
void vpcd_imds_metrics(const struct vpcd_imds *, struct ds *);
struct json *vpcd_imds_status(const struct vpcd_imds *);

#endif /* daemon/imds.h */
