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
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "sha1.h"
#include "openvswitch/hmap.h"
#include "util.h"

/* The domain that subnet 's' gives its VPC, or NULL if it names no zone
 * (then the VPC's next subnet decides). */
static char *
subnet_domain(const struct vpc_subnet *s)
{
    const char *az = s->availability_zone;
    size_t len = strlen(az);

    if (!len) {
        return NULL;
    }
    while (len && islower((unsigned char) az[len - 1])) {
        len--;
    }
    if (!len || (len == 9 && !strncmp(az, "us-east-1", 9))) {
        return xstrdup("ec2.internal");
    }
    return xasprintf("%.*s.compute.internal", (int) len, az);
}

char *
vpc_default_domain(const struct vpc_region *r, const struct vpc_vpc *vpc)
{
    for (size_t i = 0; i < r->n_subnets; i++) {
        const struct vpc_subnet *s = &r->subnets[i];
        char *domain = s->vpc == vpc ? subnet_domain(s) : NULL;
        if (domain) {
            return domain;
        }
    }
    return xstrdup("ec2.internal");
}

struct vpc_index_node {
    struct hmap_node node;
    const struct vpc_vpc *vpc;
    size_t index;
};

char **
vpc_default_domains(const struct vpc_region *r)
{
    struct hmap index = HMAP_INITIALIZER(&index);
    struct vpc_index_node *nodes = xcalloc(r->n_vpcs + 1, sizeof *nodes);
    char **domains = xcalloc(r->n_vpcs + 1, sizeof *domains);

    for (size_t i = 0; i < r->n_vpcs; i++) {
        nodes[i].vpc = &r->vpcs[i];
        nodes[i].index = i;
        hmap_insert(&index, &nodes[i].node, hash_pointer(&r->vpcs[i], 0));
    }
    for (size_t i = 0; i < r->n_subnets; i++) {
        const struct vpc_subnet *s = &r->subnets[i];
        struct vpc_index_node *n;
        HMAP_FOR_EACH_WITH_HASH (n, node, hash_pointer(s->vpc, 0), &index) {
            if (n->vpc == s->vpc && !domains[n->index]) {
                domains[n->index] = subnet_domain(s);
            }
        }
    }
    for (size_t i = 0; i < r->n_vpcs; i++) {
        if (!domains[i]) {
            domains[i] = xstrdup("ec2.internal");
        }
    }
    hmap_destroy(&index);
    free(nodes);
    return domains;
}

char *
vpc_domain_name(const struct vpc_region *r, const struct vpc_vpc *vpc)
{
    const struct vpc_dhcp_options *o = vpc->dhcp_options;
    return (o && o->domain_name ? xstrdup(o->domain_name)
            : vpc_default_domain(r, vpc));
}

char **
vpc_domain_names(const struct vpc_region *r)
{
    char **domains = vpc_default_domains(r);
    for (size_t i = 0; i < r->n_vpcs; i++) {
        const struct vpc_dhcp_options *o = r->vpcs[i].dhcp_options;
        if (o && o->domain_name) {
            free(domains[i]);
            domains[i] = xstrdup(o->domain_name);
        }
    }
    return domains;
}

char *
vpc_eni_hostname(const struct vpc_region *r, const struct vpc_eni *e)
{
    char *domain = vpc_domain_name(r, e->subnet->vpc);
    char *name = vpc_eni_hostname_in(e, domain);
    free(domain);
    return name;
}

char *
vpc_default_instance_id(const char *eni_id)
{
    uint8_t digest[SHA1_DIGEST_SIZE];
    struct ds ds = DS_EMPTY_INITIALIZER;

    sha1_bytes(eni_id, strlen(eni_id), digest);
    ds_put_cstr(&ds, "i-");
    for (size_t i = 0; i < 9; i++) {
        ds_put_format(&ds, "%02x", digest[i]);
    }
    ds_truncate(&ds, 2 + 17);
    return ds_steal_cstr(&ds);
}

char *
vpc_eni_hostname_in(const struct vpc_eni *e, const char *domain)
{
    return xasprintf("ip-%u-%u-%u-%u.%s", e->ip >> 24, (e->ip >> 16) & 0xff,
                     (e->ip >> 8) & 0xff, e->ip & 0xff, domain);
}

char *
vpc_dns_name_normalize(const char *s, const char **why)
{
    size_t len = strlen(s);
    if (len && s[len - 1] == '.') {
        len--;
    }
    if (!len || len > VPC_DNS_NAME_MAX) {
        *why = "not a DNS name: 1 to 253 characters (without a final dot)";
        return NULL;
    }

    char *name = xmemdup0(s, len);
    size_t n_labels = 0;
    const char *last = name;
    for (char *p = name; ; ) {
        size_t l = strcspn(p, ".");
        if (!l || l > 63) {
            *why = "not a DNS name: every label (between dots) has 1 to 63 "
                   "characters";
            goto error;
        }
        for (size_t i = 0; i < l; i++) {
            p[i] = tolower((unsigned char) p[i]);
            if (!islower((unsigned char) p[i]) && !isdigit((unsigned char) p[i])
                && p[i] != '-') {
                *why = "not a DNS name: labels have letters, digits and "
                       "'-' only";
                goto error;
            }
        }
        if (p[0] == '-' || p[l - 1] == '-') {
            *why = "not a DNS name: a label cannot start or end with '-'";
            goto error;
        }
        n_labels++;
        last = p;
        if (!p[l]) {
            break;
        }
        p += l + 1;
    }
    if (n_labels < 2) {
        *why = "not a fully qualified name: at least two labels "
               "(e.g. db.example.internal)";
        goto error;
    }
    if (strspn(last, "0123456789") == strlen(last)) {
        *why = "not a DNS name: the last label is all digits (an address?)";
        goto error;
    }
    if (len >= 12 && !strcmp(name + len - 12, "in-addr.arpa")
        && (len == 12 || name[len - 13] == '.')) {
        *why = "reverse names (in-addr.arpa) are the resolver's: each "
               "ENI's private IP has one";
        goto error;
    }
    return name;

error:
    free(name);
    return NULL;
}
