/* translator/rules.h: the loader's passes and rules, one object at a time.
 *
 * Purpose.  translator/intent.c and translator/check.c validate a whole
 * region document; translator/validator.c validates a one-object change
 * incrementally with the same code.  This header exposes what it needs:
 * the table of collections, pass 1 and 2 (register, parse) of one object,
 * and the rules of pass 3 that concern one object, each writing exactly the
 * message the whole-document validation writes.  It is internal to
 * translator/ and its tests: nothing else should include it.
 *
 * Paths.  A rule names its object through a 'struct vpc_obj_path': by
 * position ("$.enis[3]", as 'vpcctl validate' reports) or by id
 * ("$.enis[eni-web-a]", as translator/validator.h reports). */

#ifndef TRANSLATOR_RULES_H
#define TRANSLATOR_RULES_H 1

#include <stdbool.h>
#include <stddef.h>
#include "translator/model.h"

struct json;

/* Names an object of collection 'key' in error paths: "$.KEY[ID]" if 'id'
 * is nonnull, else "$.KEY[INDEX]". */
struct vpc_obj_path {
    const char *key;
    const char *id;
    size_t index;
};

/* Returns the path of 'op' followed by 'suffix' (e.g. ".mac"), malloc'd. */
char *vpc_obj_path_format(const struct vpc_obj_path *op, const char *suffix);

/* ----------------------------------------------- translator/intent.c */

/* The collections of a region document, in loading order: one per
 * VPC_OBJECT_KINDS row, then one per VPC_GATEWAY_KINDS row. */
size_t vpc_collection_count(void);
int vpc_collection_find(const char *key);      /* -1 if not a collection. */
const char *vpc_collection_key(size_t c);
const char *vpc_collection_name(size_t c);     /* "network interface"... */
size_t vpc_collection_obj_size(size_t c);

/* Passes 1 and 2 for one object: checks that 'j' is an object with a valid
 * id (and, if 'is_insert', one that 'r' does not hold yet), then parses it
 * into 'obj' (zeroed, vpc_collection_obj_size(c) bytes), resolving its
 * references in r->by_id, with 'path' ("$.enis[eni-a]") as its path.
 * Appends every error to 'errors'.  Returns true if the id is valid and,
 * if 'is_insert', was new: then it is registered in r->by_id as 'obj', and
 * the caller unregisters it if it drops 'obj'.  Whatever it reports, 'obj'
 * must then be released with vpc_object_destroy(). */
bool vpc_object_parse(struct vpc_region *r, size_t c, const struct json *j,
                      const char *path, bool is_insert, void *obj,
                      struct vpc_errors *errors);

/* Frees what object 'obj' of collection 'c' owns, its id included, but not
 * 'obj' itself. */
void vpc_object_destroy(size_t c, void *obj);

/* Adds 'id' -> 'obj' (of collection 'c') to r->by_id, or removes 'id' and
 * returns the object it named (NULL if none). */
void vpc_region_register(struct vpc_region *r, size_t c, const char *id,
                         void *obj);
void *vpc_region_unregister(struct vpc_region *r, const char *id);
void *vpc_region_find_object(const struct vpc_region *r, const char *id);

/* Frees 'r''s arrays and id table but no object's contents: for a caller
 * that released every object itself with vpc_object_destroy(). */
void vpc_region_destroy_shell(struct vpc_region *r);

/* The model of validator 'v' (translator/validator.c), for tests: objects
 * are current through r->by_id (vpc_region_find_object()), not through the
 * region's arrays. */
struct vpc_validator;
const struct vpc_region *vpc_validator_model(const struct vpc_validator *v);

/* ------------------------------------------------ translator/check.c */

/* Host or edge 'h' (at 'op') has the underlay address of an earlier host
 * or edge (hosts come before edges). */
void vpc_report_host_dup(const struct vpc_host *h,
                         const struct vpc_obj_path *op,
                         struct vpc_errors *errors);

/* A VPC's CIDR blocks (some, /16 to /28, disjoint); and the report of its
 * VNI, which earlier VPC 'prev_id' has. */
void vpc_check_vpc(const struct vpc_vpc *vpc, const struct vpc_obj_path *op,
                   struct vpc_errors *errors);
void vpc_report_vpc_dup_vni(const struct vpc_vpc *vpc,
                            const struct vpc_obj_path *op,
                            const char *prev_id, struct vpc_errors *errors);

/* An ENI's address in its subnet (outside, reserved).  Returns true if the
 * address is one the VPC-wide duplicate check applies to. */
bool vpc_check_eni_address(const struct vpc_eni *e,
                           const struct vpc_obj_path *op,
                           struct vpc_errors *errors);
/* An ENI's security groups belong to its VPC. */
void vpc_check_eni_sgs(const struct vpc_eni *e, const struct vpc_obj_path *op,
                       struct vpc_errors *errors);
/* ENI 'e' (at 'op') holds what earlier ENI 'prev_id' holds. */
void vpc_report_eni_dup_ip(const struct vpc_eni *e,
                           const struct vpc_obj_path *op, const char *prev_id,
                           struct vpc_errors *errors);
void vpc_report_eni_dup_instance(const struct vpc_eni *e,
                                 const struct vpc_obj_path *op,
                                 const char *prev_id,
                                 struct vpc_errors *errs);
void vpc_report_eni_dup_mac(const struct vpc_eni *e,
                            const struct vpc_obj_path *op,
                            const char *prev_id, struct vpc_errors *errors);
void vpc_report_eni_dup_eip(const struct vpc_eni *e,
                            const struct vpc_obj_path *op,
                            struct vpc_errors *errors);
/* ENI 'e' (at 'op') has an elastic IP, but its VPC has no internet
 * gateway; or its elastic IP is the private IP of 'owner' (the first ENI,
 * in document order, of any VPC, 'e' itself included, that has it). */
void vpc_report_eni_eip_no_igw(const struct vpc_eni *e,
                               const struct vpc_obj_path *op,
                               struct vpc_errors *errors);
void vpc_report_eni_eip_private(const struct vpc_eni *e,
                                const struct vpc_obj_path *op,
                                const struct vpc_eni *owner,
                                struct vpc_errors *errors);

/* A subnet inside its VPC, /28 or larger, its route table and network ACL
 * in its VPC; and the report of its overlap with earlier subnet
 * 'earlier_id'. */
void vpc_check_subnet(const struct vpc_subnet *s,
                      const struct vpc_obj_path *op,
                      struct vpc_errors *errors);
void vpc_report_subnet_overlap(const struct vpc_subnet *s,
                               const struct vpc_obj_path *op,
                               const char *earlier_id,
                               struct vpc_errors *errors);

/* A peering joins two distinct VPCs that do not overlap; returns true if
 * so (then the duplicate-pair rule applies), and the report of a pair that
 * earlier peering 'prev_id' already joins. */
bool vpc_check_peering(const struct vpc_peering *pcx,
                       const struct vpc_obj_path *op,
                       struct vpc_errors *errors);
void vpc_report_peering_dup(const struct vpc_peering *pcx,
                            const struct vpc_obj_path *op,
                            const char *prev_id, struct vpc_errors *errors);
/* Whether VPCs 'a' and 'b' are peered (by a->peerings). */
bool vpc_vpcs_peered(const struct vpc_vpc *a, const struct vpc_vpc *b);

/* A security group's rules name groups of its VPC or of peered VPCs. */
void vpc_check_sg(const struct vpc_sg *sg, const struct vpc_obj_path *op,
                  struct vpc_errors *errors);

/* Every rule of one route table. */
void vpc_check_route_table(const struct vpc_route_table *rtb,
                           const struct vpc_obj_path *op,
                           struct vpc_errors *errors);

/* A gateway's own rules (an endpoint's allowed subnets in its VPC); and
 * the reports of a Direct Connect interface whose tags, or an internet
 * gateway whose VPC, earlier gateway 'prev_id' has. */
void vpc_check_gateway(const struct vpc_gateway *gw,
                       const struct vpc_obj_path *op,
                       struct vpc_errors *errors);
void vpc_report_dx_dup(const struct vpc_gateway *gw,
                       const struct vpc_obj_path *op, const char *prev_id,
                       struct vpc_errors *errors);
void vpc_report_igw_dup(const struct vpc_gateway *gw,
                        const struct vpc_obj_path *op, const char *prev_id,
                        struct vpc_errors *errors);

/* Flow logs: two with the same resource and traffic type. */
bool vpc_flow_logs_equal(const struct vpc_flow_log *,
                         const struct vpc_flow_log *);
void vpc_report_flow_log_dup(const struct vpc_flow_log *fl,
                             const struct vpc_obj_path *op,
                             const char *prev_id, struct vpc_errors *errors);

#endif /* translator/rules.h */
