/* regiondb/verbs.h: object-level commands in AWS vocabulary
 * (create-network-interface, authorize-security-group-ingress,
 * create-route, ...), each one validated write of one object through
 * rdb_modify() (regiondb/write.h).
 *
 * A verb takes its arguments as options, by name without the leading
 * "--" ("network-interface-id" -> "eni-a"), so that vpcctl only parses and
 * prints.  docs/regiondb.md lists every verb and its options. */

#ifndef REGIONDB_VERBS_H
#define REGIONDB_VERBS_H 1

#include <stdbool.h>

struct rdb_handle;
struct rdb_write_result;
struct shash;
struct vpc_errors;

struct rdb_verb {
    const char *name;           /* "create-network-interface". */
    const char *usage;          /* Its options, for --help. */
    const char *help;
};

/* The verbs, terminated by a NULL name. */
extern const struct rdb_verb rdb_verbs[];

/* Every option name some verb reads (for the command line's parser),
 * terminated by NULL. */
extern const char *const rdb_verb_options[];

const struct rdb_verb *rdb_find_verb(const char *name);

/* Runs 'verb' with 'opts' (option name -> const char * value).  Returns
 * NULL or a malloc'd error (with 'errors' filled if validation refused
 * the change); see rdb_modify(). */
char *rdb_run_verb(struct rdb_handle *, const struct rdb_verb *,
                   const struct shash *opts, int timeout_ms,
                   struct vpc_errors *errors, struct rdb_write_result *);

#endif /* regiondb/verbs.h */
