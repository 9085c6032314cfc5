/* translator/version.h: the version of ovs-vpc, printed by --version.
 *
 * VPC_VERSION is the newest release named in NEWS (tests/check-install.sh
 * checks that they agree).  Every program also names the Open vSwitch it
 * was built against: PACKAGE_VERSION of OVS's config.h, which
 * ovs-ext/ovs.mk pins (OVS_VERSION) and patches with ovs-ext. */

#ifndef VPC_VERSION_H
#define VPC_VERSION_H 1

#include <stdio.h>

#define VPC_VERSION "0.1"

/* Prints "PROGRAM (ovs-vpc) VERSION" and the Open vSwitch version to
 * stdout, as '--version' does. */
static inline void
vpc_print_version(const char *program)
{
    printf("%s (ovs-vpc) %s\n"
           "Open vSwitch %s (pinned; with the ovs-ext patches, "
           "docs/ovs-ext.md)\n", program, VPC_VERSION, PACKAGE_VERSION);
}

#endif /* translator/version.h */
