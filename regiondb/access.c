/* regiondb/access.c: Connection rows and the hosts' RBAC role
 * (access.h). */

#include <config.h>

#include "regiondb/access.h"

#include <string.h>
#include "openvswitch/util.h"
#include "ovsdb-idl.h"
#include "regiondb/region-idl.h"
#include "regiondb/regiondb-private.h"
#include "regiondb/write.h"
#include "util.h"

/* Ensures that role RDB_HOST_ROLE exists with its one permission. */
static void
rdb_ensure_host_role(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn)
{
    const struct rdbrec_rbac_role *role;
    RDBREC_RBAC_ROLE_FOR_EACH (role, idl) {
        if (!strcmp(role->name, RDB_HOST_ROLE)) {
            break;
        }
    }
    const struct rdbrec_rbac_permission *perm = NULL;
    for (size_t i = 0; role && i < role->n_permissions; i++) {
        if (!strcmp(role->key_permissions[i], "Host_Status")) {
            perm = role->value_permissions[i];
        }
    }
    /* Whatever was there, the permission says exactly this. */
    static const char *authorization[] = { "host" };
    static const char *update[] = { "applied_cfg", "error" };
    if (!perm) {
        perm = rdbrec_rbac_permission_insert(txn);
    }
    rdbrec_rbac_permission_set_table(perm, "Host_Status");
    rdbrec_rbac_permission_set_authorization(perm, authorization,
                                             ARRAY_SIZE(authorization));
    rdbrec_rbac_permission_set_insert_delete(perm, true);
    rdbrec_rbac_permission_set_update(perm, update, ARRAY_SIZE(update));
    if (!role) {
        role = rdbrec_rbac_role_insert(txn);
        rdbrec_rbac_role_set_name(role, RDB_HOST_ROLE);
    }
    const char *key = "Host_Status";
    struct rdbrec_rbac_permission *value
        = CONST_CAST(struct rdbrec_rbac_permission *, perm);
    rdbrec_rbac_role_set_permissions(role, &key, &value, 1);
}

char *
rdb_set_connections(struct rdb_handle *h, const char *const *targets,
                    size_t n_targets, const char *role, int timeout_ms)
{
    struct ovsdb_idl *idl = rdb_handle_idl(h);
    ovsdb_idl_run(idl);
    const struct rdbrec_region *root = rdbrec_region_first(idl);
    if (!root) {
        return xstrdup("the database has no Region row yet: load a region "
                       "first");
    }
    struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
    ovsdb_idl_txn_add_comment(txn, "vpcctl set-connection");
    rdb_ensure_host_role(idl, txn);

    /* The old Connection rows go with their references (non-root). */
    struct rdbrec_connection **conns = xcalloc(n_targets + 1,
                                               sizeof *conns);
    for (size_t i = 0; i < n_targets; i++) {
        conns[i] = rdbrec_connection_insert(txn);
        rdbrec_connection_set_target(conns[i], targets[i]);
        rdbrec_connection_set_role(conns[i], role ? role : "");
    }
    ovsdb_idl_txn_verify(&root->header_, &rdbrec_region_col_connections);
    rdbrec_region_set_connections(root, conns, n_targets);
    free(conns);
    char *error = rdb_handle_commit(h, txn, timeout_ms);
    ovsdb_idl_txn_destroy(txn);
    return error;
}
