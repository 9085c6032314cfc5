/* regiondb/verbs.c: object-level commands in AWS vocabulary (verbs.h).
 *
 * Each verb names the collection it changes and the option that holds the
 * object's id, and an edit function that computes the new object from the
 * current one (rdb_modify() calls it again on every retry, so that adding
 * a rule to a group never drops a rule another writer added meanwhile). */

#include <config.h>

#include "regiondb/verbs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/util.h"
#include "regiondb/write.h"
#include "util.h"

enum rdb_verb_mode {
    RDB_CREATE,                 /* The object must not exist. */
    RDB_MODIFY,                 /* The object must exist. */
    RDB_DELETE,                 /* The object must exist; deleted. */
};

struct rdb_verb_impl {
    const char *name;
    const char *collection;
    const char *id_option;
    enum rdb_verb_mode mode;
    /* Fills or changes 'obj' (a fresh copy of the current object, or an
     * object holding only "id" for RDB_CREATE); NULL for RDB_DELETE. */
    char *(*edit)(struct json *obj, const struct shash *opts);
};

struct rdb_verb_aux {
    const struct rdb_verb_impl *impl;
    const struct shash *opts;
    const char *id;
};

static const char *
opt(const struct shash *opts, const char *name)
{
    return shash_find_data(opts, name);
}

static char *
need(const struct shash *opts, const char *name, const char **value)
{
    *value = opt(opts, name);
    return *value ? NULL : xasprintf("--%s is required", name);
}

/* Parses an integer option into '*n'. */
static char *
int_opt(const struct shash *opts, const char *name, long long *n,
        bool *present)
{
    const char *s = opt(opts, name);
    *present = s != NULL;
    if (!s) {
        return NULL;
    }
    char *end;
    errno = 0;
    *n = strtoll(s, &end, 10);
    if (errno || !*s || *end) {
        return xasprintf("--%s=%s: expected an integer", name, s);
    }
    return NULL;
}

static char *
bool_opt(const struct shash *opts, const char *name, struct json *obj,
         const char *field)
{
    const char *s = opt(opts, name);
    if (!s) {
        return NULL;
    }
    if (strcmp(s, "true") && strcmp(s, "false")) {
        return xasprintf("--%s=%s: expected true or false", name, s);
    }
    json_object_put(obj, field, json_boolean_create(!strcmp(s, "true")));
    return NULL;
}

/* Puts option 'name', if given, as string field 'field'. */
static void
str_opt(const struct shash *opts, const char *name, struct json *obj,
        const char *field)
{
    const char *s = opt(opts, name);
    if (s) {
        json_object_put_string(obj, field, s);
    }
}

static char *
req_str(const struct shash *opts, const char *name, struct json *obj,
        const char *field)
{
    const char *s;
    char *error = need(opts, name, &s);
    if (!error) {
        json_object_put_string(obj, field, s);
    }
    return error;
}

/* A comma-separated list of ids, as a JSON array. */
static struct json *
id_list(const char *s)
{
    struct json *a = json_array_create_empty();
    char *copy = xstrdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        json_array_add(a, json_string_create(t));
    }
    free(copy);
    return a;
}

/* Network interfaces. */

static char *
edit_eni_fields(struct json *obj, const struct shash *opts)
{
    str_opt(opts, "host", obj, "host");
    if (opt(opts, "groups")) {
        json_object_put(obj, "security_groups", id_list(opt(opts, "groups")));
    }
    str_opt(opts, "elastic-ip", obj, "elastic_ip");
    str_opt(opts, "description", obj, "description");
    return bool_opt(opts, "source-dest-check", obj, "source_dest_check");
}

static char *
create_eni(struct json *obj, const struct shash *opts)
{
    char *error = NULL;
    if (!error) {
        error = req_str(opts, "subnet-id", obj, "subnet");
    }
    if (!error) {
        error = req_str(opts, "private-ip-address", obj, "private_ip");
    }
    if (!error) {
        error = req_str(opts, "mac-address", obj, "mac");
    }
    if (!error && !opt(opts, "host")) {
        error = xstrdup("--host is required");
    }
    return error ? error : edit_eni_fields(obj, opts);
}

static char *
modify_eni(struct json *obj, const struct shash *opts)
{
    if (!opt(opts, "host") && !opt(opts, "groups")
        && !opt(opts, "source-dest-check") && !opt(opts, "description")
        && !opt(opts, "elastic-ip")) {
        return xstrdup("nothing to modify: give --host, --groups, "
                       "--source-dest-check, --elastic-ip or --description");
    }
    return edit_eni_fields(obj, opts);
}

/* Security groups. */

static char *
create_sg(struct json *obj, const struct shash *opts)
{
    char *error = req_str(opts, "vpc-id", obj, "vpc");
    str_opt(opts, "description", obj, "description");
    if (!error) {
        json_object_put(obj, "ingress", json_array_create_empty());
        json_object_put(obj, "egress", json_array_create_empty());
    }
    return error;
}

/* The rule that --protocol, --port or --from-port/--to-port, --icmp-type,
 * --icmp-code, --cidr or --source-group describe. */
static char *
sg_rule_from_opts(const struct shash *opts, struct json **rulep)
{
    const char *proto;
    char *error = need(opts, "protocol", &proto);
    if (error) {
        return error;
    }
    struct json *rule = json_object_create();
    char *end;
    long long pnum = strtoll(proto, &end, 10);
    if (*proto && !*end && strcmp(proto, "-1")) {
        json_object_put(rule, "protocol", json_integer_create(pnum));
    } else {
        json_object_put_string(rule, "protocol", proto);
    }

    long long port = 0, from = 0, to = 0, type = 0, code = 0;
    bool has_port, has_from, has_to, has_type, has_code;
    error = int_opt(opts, "port", &port, &has_port);
    if (!error) {
        error = int_opt(opts, "from-port", &from, &has_from);
    }
    if (!error) {
        error = int_opt(opts, "to-port", &to, &has_to);
    }
    if (!error) {
        error = int_opt(opts, "icmp-type", &type, &has_type);
    }
    if (!error) {
        error = int_opt(opts, "icmp-code", &code, &has_code);
    }
    if (!error && has_port && (has_from || has_to)) {
        error = xstrdup("give --port or --from-port/--to-port, not both");
    }
    if (!error && opt(opts, "cidr") && opt(opts, "source-group")) {
        error = xstrdup("give --cidr or --source-group, not both");
    }
    if (!error && !opt(opts, "cidr") && !opt(opts, "source-group")) {
        error = xstrdup("--cidr or --source-group is required");
    }
    if (error) {
        json_destroy(rule);
        return error;
    }
    if (has_port) {
        from = to = port;
        has_from = has_to = true;
    }
    if (has_from) {
        json_object_put(rule, "from_port", json_integer_create(from));
    }
    if (has_to) {
        json_object_put(rule, "to_port", json_integer_create(to));
    }
    if (has_type) {
        json_object_put(rule, "icmp_type", json_integer_create(type));
    }
    if (has_code) {
        json_object_put(rule, "icmp_code", json_integer_create(code));
    }
    str_opt(opts, "cidr", rule, "cidr");
    str_opt(opts, "source-group", rule, "security_group");
    *rulep = rule;
    return NULL;
}

/* True if rules 'a' and 'b' match the same traffic (descriptions aside). */
static bool
same_rule(const struct json *a, const struct json *b)
{
    struct json *ca = json_deep_clone(a), *cb = json_deep_clone(b);
    shash_find_and_delete(json_object(ca), "description");
    shash_find_and_delete(json_object(cb), "description");
    bool same = json_equal(ca, cb);
    json_destroy(ca);
    json_destroy(cb);
    return same;
}

/* The list in field 'field' of 'obj', created if absent. */
static struct json *
list_field(struct json *obj, const char *field)
{
    struct json *a = shash_find_data(json_object(obj), field);
    if (!a || a->type != JSON_ARRAY) {
        a = json_array_create_empty();
        json_object_put(obj, field, a);
    }
    return a;
}

static void
list_remove(struct json *a, size_t i)
{
    struct json_array *arr = &a->array;
    json_destroy(arr->elems[i]);
    memmove(&arr->elems[i], &arr->elems[i + 1],
            (arr->n - i - 1) * sizeof *arr->elems);
    arr->n--;
}

static char *
sg_rule_edit(struct json *obj, const struct shash *opts, const char *dir,
             bool add)
{
    struct json *rule;
    char *error = sg_rule_from_opts(opts, &rule);
    if (error) {
        return error;
    }
    str_opt(opts, "description", rule, "description");
    struct json *a = list_field(obj, dir);
    for (size_t i = 0; i < json_array(a)->n; i++) {
        if (same_rule(json_array(a)->elems[i], rule)) {
            if (add) {
                json_destroy(rule);
                return xasprintf("%s: this %s rule already exists",
                                 json_string(shash_find_data(
                                     json_object(obj), "id")), dir);
            }
            list_remove(a, i);
            json_destroy(rule);
            return NULL;
        }
    }
    if (!add) {
        json_destroy(rule);
        return xasprintf("%s: no such %s rule",
                         json_string(shash_find_data(json_object(obj),
                                                     "id")), dir);
    }
    json_array_add(a, rule);
    return NULL;
}

static char *
authorize_ingress(struct json *obj, const struct shash *opts)
{
    return sg_rule_edit(obj, opts, "ingress", true);
}

static char *
authorize_egress(struct json *obj, const struct shash *opts)
{
    return sg_rule_edit(obj, opts, "egress", true);
}

static char *
revoke_ingress(struct json *obj, const struct shash *opts)
{
    return sg_rule_edit(obj, opts, "ingress", false);
}

static char *
revoke_egress(struct json *obj, const struct shash *opts)
{
    return sg_rule_edit(obj, opts, "egress", false);
}

/* Routes. */

enum route_op { ROUTE_CREATE, ROUTE_REPLACE, ROUTE_DELETE };

static char *
route_edit(struct json *obj, const struct shash *opts, enum route_op op)
{
    const char *dst = opt(opts, "destination-cidr-block");
    const char *pl = opt(opts, "destination-prefix-list-id");
    const char *target = opt(opts, "target");
    if (!dst == !pl) {
        return xstrdup("give one of --destination-cidr-block and "
                       "--destination-prefix-list-id");
    }
    if (op != ROUTE_DELETE && !target) {
        return xstrdup("--target is required");
    }
    const char *key = dst ? "destination" : "destination_prefix_list";
    const char *value = dst ? dst : pl;
    const char *id = json_string(shash_find_data(json_object(obj), "id"));
    struct json *routes = list_field(obj, "routes");
    for (size_t i = 0; i < json_array(routes)->n; i++) {
        struct json *r = json_array(routes)->elems[i];
        const struct json *v = shash_find_data(json_object(r), key);
        const struct json *origin = shash_find_data(json_object(r),
                                                    "origin");
        if (!v || v->type != JSON_STRING || strcmp(json_string(v), value)
            || (origin && origin->type == JSON_STRING
                && strcmp(json_string(origin), "static"))) {
            continue;
        }
        switch (op) {
        case ROUTE_CREATE:
            return xasprintf("%s: a route to %s already exists (use "
                             "replace-route)", id, value);
        case ROUTE_REPLACE:
            json_object_put_string(r, "target", target);
            return NULL;
        case ROUTE_DELETE:
            list_remove(routes, i);
            return NULL;
        }
    }
    if (op != ROUTE_CREATE) {
        return xasprintf("%s: no route to %s", id, value);
    }
    struct json *r = json_object_create();
    json_object_put_string(r, key, value);
    json_object_put_string(r, "target", target);
    json_array_add(routes, r);
    return NULL;
}

static char *
create_route(struct json *obj, const struct shash *opts)
{
    return route_edit(obj, opts, ROUTE_CREATE);
}

static char *
replace_route(struct json *obj, const struct shash *opts)
{
    return route_edit(obj, opts, ROUTE_REPLACE);
}

static char *
delete_route(struct json *obj, const struct shash *opts)
{
    return route_edit(obj, opts, ROUTE_DELETE);
}

/* Peering. */

static char *
create_pcx(struct json *obj, const struct shash *opts)
{
    char *error = req_str(opts, "vpc-id", obj, "requester_vpc");
    return error ? error : req_str(opts, "peer-vpc-id", obj, "accepter_vpc");
}

/* DHCP options sets (AWS CreateDhcpOptions, AssociateDhcpOptions). */

static char *
create_dopt(struct json *obj, const struct shash *opts)
{
    static const struct { const char *opt, *field; } lists[] = {
        { "domain-name-servers", "domain_name_servers" },
        { "ntp-servers", "ntp_servers" },
    };
    str_opt(opts, "domain-name", obj, "domain_name");
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
        const char *s = opt(opts, lists[i].opt);
        if (s) {
            json_object_put(obj, lists[i].field, id_list(s));
        }
    }
    long long lease;
    bool present;
    char *error = int_opt(opts, "lease-time", &lease, &present);
    if (!error && present) {
        json_object_put(obj, "lease_time", json_integer_create(lease));
    }
    return error;
}

/* --dhcp-options-id DOPT, or "default" (AWS's word for no set). */
static char *
associate_dopt(struct json *obj, const struct shash *opts)
{
    const char *s;
    char *error = need(opts, "dhcp-options-id", &s);
    if (error) {
        return error;
    }
    if (!strcmp(s, "default")) {
        json_destroy(shash_find_and_delete(json_object(obj),
                                           "dhcp_options_id"));
    } else {
        json_object_put_string(obj, "dhcp_options_id", s);
    }
    return NULL;
}

static const struct rdb_verb_impl impls[] = {
    { "create-network-interface", "enis", "network-interface-id",
      RDB_CREATE, create_eni },
    { "delete-network-interface", "enis", "network-interface-id",
      RDB_DELETE, NULL },
    { "modify-network-interface-attribute", "enis", "network-interface-id",
      RDB_MODIFY, modify_eni },
    { "create-security-group", "security_groups", "group-id", RDB_CREATE,
      create_sg },
    { "delete-security-group", "security_groups", "group-id", RDB_DELETE,
      NULL },
    { "authorize-security-group-ingress", "security_groups", "group-id",
      RDB_MODIFY, authorize_ingress },
    { "authorize-security-group-egress", "security_groups", "group-id",
      RDB_MODIFY, authorize_egress },
    { "revoke-security-group-ingress", "security_groups", "group-id",
      RDB_MODIFY, revoke_ingress },
    { "revoke-security-group-egress", "security_groups", "group-id",
      RDB_MODIFY, revoke_egress },
    { "create-route", "route_tables", "route-table-id", RDB_MODIFY,
      create_route },
    { "replace-route", "route_tables", "route-table-id", RDB_MODIFY,
      replace_route },
    { "delete-route", "route_tables", "route-table-id", RDB_MODIFY,
      delete_route },
    { "create-vpc-peering-connection", "peering_connections",
      "vpc-peering-connection-id", RDB_CREATE, create_pcx },
    { "delete-vpc-peering-connection", "peering_connections",
      "vpc-peering-connection-id", RDB_DELETE, NULL },
    { "create-dhcp-options", "dhcp_options", "dhcp-options-id", RDB_CREATE,
      create_dopt },
    { "delete-dhcp-options", "dhcp_options", "dhcp-options-id", RDB_DELETE,
      NULL },
    { "associate-dhcp-options", "vpcs", "vpc-id", RDB_MODIFY,
      associate_dopt },
};

#define RULE_OPTS "--protocol P [--port N | --from-port N --to-port N] " \
    "[--icmp-type N --icmp-code N] (--cidr CIDR | --source-group SG)"
#define ROUTE_OPTS "--route-table-id RTB (--destination-cidr-block CIDR | " \
    "--destination-prefix-list-id PL)"

const struct rdb_verb rdb_verbs[] = {
    { "create-network-interface", "--network-interface-id ENI "
      "--subnet-id SUBNET --private-ip-address IP --mac-address MAC "
      "--host H [--groups SG,...] [--source-dest-check true|false] "
      "[--elastic-ip IP] [--description TEXT]", "add an ENI" },
    { "delete-network-interface", "--network-interface-id ENI",
      "delete an ENI" },
    { "modify-network-interface-attribute", "--network-interface-id ENI "
      "[--host H] [--groups SG,...] [--source-dest-check true|false]",
      "move an ENI to another host, change its groups or check" },
    { "create-security-group", "--group-id SG --vpc-id VPC "
      "[--description TEXT]", "add a security group (no rules)" },
    { "delete-security-group", "--group-id SG",
      "delete a security group (refused while referenced)" },
    { "authorize-security-group-ingress", "--group-id SG " RULE_OPTS,
      "add an ingress rule" },
    { "authorize-security-group-egress", "--group-id SG " RULE_OPTS,
      "add an egress rule" },
    { "revoke-security-group-ingress", "--group-id SG " RULE_OPTS,
      "remove an ingress rule" },
    { "revoke-security-group-egress", "--group-id SG " RULE_OPTS,
      "remove an egress rule" },
    { "create-route", ROUTE_OPTS " --target ID", "add a static route" },
    { "replace-route", ROUTE_OPTS " --target ID",
      "change a static route's target" },
    { "delete-route", ROUTE_OPTS, "remove a static route" },
    { "create-vpc-peering-connection", "--vpc-peering-connection-id PCX "
      "--vpc-id VPC --peer-vpc-id VPC", "peer two VPCs" },
    { "delete-vpc-peering-connection", "--vpc-peering-connection-id PCX",
      "remove a peering connection" },
    { "create-dhcp-options", "--dhcp-options-id DOPT [--domain-name NAME] "
      "[--domain-name-servers IP|AmazonProvidedDNS,...] "
      "[--ntp-servers IP,...] [--lease-time S]",
      "add a DHCP options set" },
    { "delete-dhcp-options", "--dhcp-options-id DOPT",
      "delete a DHCP options set (refused while a VPC uses it)" },
    { "associate-dhcp-options", "--dhcp-options-id DOPT|default "
      "--vpc-id VPC", "give a VPC a DHCP options set (default: none)" },
    { NULL, NULL, NULL },
};

const char *const rdb_verb_options[] = {
    "network-interface-id", "subnet-id", "private-ip-address",
    "mac-address", "groups", "source-dest-check", "elastic-ip",
    "description", "group-id", "vpc-id", "protocol", "port", "from-port",
    "to-port", "icmp-type", "icmp-code", "cidr", "source-group",
    "route-table-id", "destination-cidr-block",
    "destination-prefix-list-id", "target", "vpc-peering-connection-id",
    "peer-vpc-id", "dhcp-options-id", "domain-name", "domain-name-servers",
    "ntp-servers", "lease-time", NULL,
};

const struct rdb_verb *
rdb_find_verb(const char *name)
{
    for (size_t i = 0; rdb_verbs[i].name; i++) {
        if (!strcmp(rdb_verbs[i].name, name)) {
            return &rdb_verbs[i];
        }
    }
    return NULL;
}

static char *
rdb_verb_edit(const struct json *cur, void *aux_, struct json **newp)
{
    const struct rdb_verb_aux *aux = aux_;
    const struct rdb_verb_impl *impl = aux->impl;
    *newp = NULL;
    if (impl->mode == RDB_CREATE && cur) {
        return xasprintf("$.%s[%s]: already exists", impl->collection,
                         aux->id);
    }
    if (impl->mode != RDB_CREATE && !cur) {
        return xasprintf("$.%s[%s]: no such object", impl->collection,
                         aux->id);
    }
    if (impl->mode == RDB_DELETE) {
        return NULL;
    }
    struct json *obj;
    if (cur) {
        obj = json_deep_clone(cur);
    } else {
        obj = json_object_create();
        json_object_put_string(obj, "id", aux->id);
    }
    char *error = impl->edit(obj, aux->opts);
    if (error) {
        json_destroy(obj);
        return error;
    }
    *newp = obj;
    return NULL;
}

char *
rdb_run_verb(struct rdb_handle *h, const struct rdb_verb *verb,
             const struct shash *opts, int timeout_ms,
             struct vpc_errors *errors, struct rdb_write_result *result)
{
    const struct rdb_verb_impl *impl = &impls[verb - rdb_verbs];
    const char *id;
    char *error = need(opts, impl->id_option, &id);
    if (error) {
        return error;
    }
    struct rdb_verb_aux aux = { impl, opts, id };
    return rdb_modify(h, impl->collection, id, rdb_verb_edit, &aux,
                      timeout_ms, errors, result);
}
