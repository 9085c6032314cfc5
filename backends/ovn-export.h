/* backends/ovn-export.h: 'vpcctl export-ovn', the region's intents as one OVN
 * Northbound transaction (see backends/ovn-export.c and docs/ovn.md). */

#ifndef BACKENDS_OVN_EXPORT_H
#define BACKENDS_OVN_EXPORT_H 1

#include "translator/model.h"

/* Returns a malloc'd ovsdb-client transact JSON array
 * ["OVN_Northbound", op...] that creates, in an empty NB database, the
 * content equivalent to 'r'.  Deterministic for a given region. */
char *export_ovn(const struct vpc_region *r);

#endif /* backends/ovn-export.h */
