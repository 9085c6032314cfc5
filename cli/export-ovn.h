/* cli/export-ovn.h: 'vpcctl export-ovn', the region's intents as one OVN
 * Northbound transaction (see cli/export-ovn.c and docs/ovn.md). */

#ifndef CLI_EXPORT_OVN_H
#define CLI_EXPORT_OVN_H 1

#include "translator/model.h"

/* Returns a malloc'd ovsdb-client transact JSON array
 * ["OVN_Northbound", op...] that creates, in an empty NB database, the
 * content equivalent to 'r'.  Deterministic for a given region. */
char *export_ovn(const struct vpc_region *r);

/* Loads 'file' (printing its errors to stderr) and prints export_ovn() of
 * it on stdout.  Returns an exit status: 0 on success, 1 if invalid. */
int export_ovn_file(const char *file);

#endif /* cli/export-ovn.h */
