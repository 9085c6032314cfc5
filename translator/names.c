/* translator/names.c: the names a VPC gives its ENIs (issue 14's DHCP
 * domain, resolver and instance metadata all use these, so they agree).
 *
 * AWS's rules: a VPC's default domain is "ec2.internal" in us-east-1 and
 * "REGION.compute.internal" elsewhere, and an instance's private hostname
 * is "ip-A-B-C-D.DOMAIN" for its primary private IP A.B.C.D.  The region is
 * not an intent of its own here: it is an availability zone minus its
 * trailing letters ("eu-west-1b" is in "eu-west-1"), taken from the VPC's
 * first subnet (in document order) that names one; a VPC none of whose
 * subnets does gets "ec2.internal", AWS's historical default. */

#include <config.h>

#include <ctype.h>
#include <string.h>
#include "translator/model.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

char *
vpc_default_domain(const struct vpc_region *r, const struct vpc_vpc *vpc)
{
    for (size_t i = 0; i < r->n_subnets; i++) {
        const struct vpc_subnet *s = &r->subnets[i];
        const char *az = s->availability_zone;
        size_t len = strlen(az);

        if (s->vpc != vpc || !len) {
            continue;
        }
        while (len && islower((unsigned char) az[len - 1])) {
            len--;
        }
        if (!len || (len == 9 && !strncmp(az, "us-east-1", 9))) {
            break;
        }
        return xasprintf("%.*s.compute.internal", (int) len, az);
    }
    return xstrdup("ec2.internal");
}

char *
vpc_domain_name(const struct vpc_region *r, const struct vpc_vpc *vpc)
{
    const struct vpc_dhcp_options *o = vpc->dhcp_options;
    return (o && o->domain_name ? xstrdup(o->domain_name)
            : vpc_default_domain(r, vpc));
}

char *
vpc_eni_hostname(const struct vpc_region *r, const struct vpc_eni *e)
{
    char *domain = vpc_domain_name(r, e->subnet->vpc);
    char *name = xasprintf("ip-%u-%u-%u-%u.%s", e->ip >> 24,
                           (e->ip >> 16) & 0xff, (e->ip >> 8) & 0xff,
                           e->ip & 0xff, domain);
    free(domain);
    return name;
}
