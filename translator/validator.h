/* translator/validator.h: validates one-object changes to a region.
 *
 * Purpose.  A writer of the region database (regiondb/, the region API
 * process, vpcctl's object-level commands) holds the region in memory and
 * must check that one change (insert, replace or delete of one object of
 * one collection) keeps the whole region valid under exactly the rules of
 * 'vpcctl validate', without revalidating every object.  A validator is
 * created once from a whole document (full validation) and then takes
 * changes one at a time; each is either refused with errors, changing
 * nothing, or applied to the validator's own state.
 *
 * Error format.  The same "PATH: VALUE: RULE" lines as vpc_errors, with PATH
 * naming the object by id instead of position:
 *     $.enis[eni-web-a].private_ip: "10.10.1.10": ...
 *
 * Ownership.  The validator owns copies of everything it is given; 'obj'
 * stays the caller's.  Threading: none. */

#ifndef TRANSLATOR_VALIDATOR_H
#define TRANSLATOR_VALIDATOR_H 1

#include <stdbool.h>
#include <stddef.h>

struct json;
struct vpc_errors;
struct vpc_validator;

/* Validates the whole region document 'doc' (a JSON object as 'vpcctl
 * validate' reads it).  Returns a validator holding it, or NULL with every
 * error in 'errors' (as vpc_region_from_string() reports them). */
struct vpc_validator *vpc_validator_create(const struct json *doc,
                                           struct vpc_errors *errors);
void vpc_validator_destroy(struct vpc_validator *);

/* Checks a change to collection 'collection' (a top-level key of the
 * document: "enis", "security_groups", ...): 'obj' (a JSON object with an
 * "id" equal to 'id') inserts the object or replaces the one with that id;
 * 'obj' == NULL deletes it.  Returns true if the region stays valid, and
 * then applies the change; otherwise fills 'errors' and changes nothing. */
bool vpc_validator_apply(struct vpc_validator *, const char *collection,
                         const char *id, const struct json *obj,
                         struct vpc_errors *errors);

/* The object of 'collection' with 'id' as the validator holds it (NULL if
 * none), and the whole current document.  Both stay owned by the
 * validator and valid until its next change. */
const struct json *vpc_validator_get(const struct vpc_validator *,
                                     const char *collection, const char *id);
const struct json *vpc_validator_document(const struct vpc_validator *);

/* The objects that reference the object 'id' (through a field or a nested
 * rule, entry or route; an object's references to itself do not count),
 * from the validator's index: the subnets, security groups, route tables,
 * network ACLs, gateways and peerings of a VPC; the ENIs and gateways of a
 * subnet; the ENIs of a security group and the groups with a rule naming
 * it; the ENIs of a host; the gateways of an edge...  Stores a malloc'd
 * array of them in '*refs' (the caller frees it; the JSON stays the
 * validator's, valid until its next change) and returns how many, in no
 * particular order.  Costs the number of referrers, not the region's
 * size. */
struct vpc_validator_ref {
    const char *collection;     /* The referrer's collection key. */
    const struct json *obj;     /* Its object in the document. */
};
size_t vpc_validator_referrers(const struct vpc_validator *, const char *id,
                               struct vpc_validator_ref **refs);

/* How the last vpc_validator_apply() validated: true if incrementally,
 * false if it fell back to revalidating the whole region (counted by the
 * caller; the fallback must stay correct). */
bool vpc_validator_last_was_incremental(const struct vpc_validator *);

#endif /* translator/validator.h */
