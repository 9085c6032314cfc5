#!/usr/bin/env python3
"""schema/regiondb-gen.py: the region database schema, from the document's.

    regiondb-gen.py ovsschema JSON-SCHEMA ANNOTATIONS > region.ovsschema
    regiondb-gen.py spec JSON-SCHEMA ANNOTATIONS > rdb-spec.inc
    regiondb-gen.py check JSON-SCHEMA ANNOTATIONS OVSSCHEMA

region.schema.json is the one source of every field and its type; the
annotation file (region.ann.json) adds what only OVSDB needs: table names,
which id fields are references to which table, indexes, the tables of
nested lists, the OVSDB-only derived columns that followers' monitor
conditions select rows by, the Region and Host_Status tables, and the
OVSDB-only tables that ovsdb-server itself reads (Connection: the remotes it
listens on with their RBAC role; RBAC_Role, RBAC_Permission).  'ovsschema'
writes the OVSDB schema, 'spec' the C table (an X-macro include) that tells
regiondb/regiondb.c how fields map to columns where the names differ, and
'check' verifies an OVSDB schema against the JSON Schema independently of
the generator (every field has its column with a compatible type, every
column comes from a field or the annotations): it is the agreement test of
'make check-regiondb'.  Standard library only.
"""

import json
import sys


def fail(msg):
    sys.stderr.write("regiondb-gen: %s\n" % msg)
    sys.exit(1)


class Model:
    """The JSON Schema plus annotations, resolved into tables and fields."""

    def __init__(self, schema, ann):
        self.schema = schema
        self.ann = ann
        self.defs = schema["$defs"]
        self.collections = ann["collections"]
        self.ordered = set(ann["ordered_collections"]["collections"])
        self.children = {k: v for k, v in ann["children"].items()
                         if k != "description"}
        self.child_tables = {v["table"]: k for k, v in self.children.items()}
        self.refs = {k: v for k, v in ann["references"].items()
                     if k != "description"}
        self.alts = {k: v for k, v in ann["alternatives"].items()
                     if k != "description"}
        self.stamps = {k: v for k, v in ann.get("stamp_columns",
                                                {}).items()
                       if k != "description"}
        self.derived = {k: v for k, v in ann.get("derived_columns",
                                                 {}).items()
                        if k != "description"}

    def deref(self, prop):
        """Returns (def name or None, resolved property)."""
        name = None
        while "$ref" in prop:
            ref = prop["$ref"]
            if not ref.startswith("#/$defs/"):
                fail("unsupported $ref %s" % ref)
            name = ref[len("#/$defs/"):]
            extra = {k: v for k, v in prop.items() if k != "$ref"}
            prop = dict(self.defs[name])
            prop.update({k: v for k, v in extra.items()
                         if k == "description"})
        return name, prop

    def object_def(self, collection):
        """The $defs name of a collection's objects."""
        items = self.schema["properties"][collection]["items"]
        return self.deref(items)[0]

    def ref_table(self, defname, field):
        """The table an id-typed field references, or None."""
        if field == "id" or defname not in self.refs:
            return None
        t = self.refs[defname]
        if isinstance(t, dict):
            if field not in t:
                fail("field %s of type %s: no table in 'references'"
                     % (field, defname))
            return t[field]
        return t


def atom_type(model, defname, prop, field):
    """The OVSDB atomic type of a scalar JSON property."""
    table = model.ref_table(defname, field)
    if table:
        return {"type": "uuid", "refTable": table, "refType": "strong"}
    if "const" in prop:
        return {"type": "string", "enum": ["set", [prop["const"]]]}
    if "enum" in prop:
        vals = prop["enum"]
        if not all(isinstance(v, str) for v in vals):
            fail("non-string enum %r" % vals)
        if len(vals) == 1:
            return {"type": "string", "enum": vals[0]}
        return {"type": "string", "enum": ["set", sorted(vals)]}
    t = prop.get("type")
    if t == "string":
        a = {"type": "string"}
        if "maxLength" in prop:
            a["maxLength"] = prop["maxLength"]
        return a
    if t == "integer":
        a = {"type": "integer"}
        if "minimum" in prop:
            a["minInteger"] = prop["minimum"]
        if "maximum" in prop:
            a["maxInteger"] = prop["maximum"]
        return a
    if t == "boolean":
        return {"type": "boolean"}
    fail("field %s: no OVSDB type for %r" % (field, prop))


DERIVED_KINDS = ("vpc", "parent_vpc", "vpc_of:", "gateway_vni")


def derived_type(of):
    """The OVSDB column type of a derived column ('derived_columns'): a
    strong reference to its VPC, or an integer for 'gateway_vni'.  The
    reference is optional in nested tables ('parent_vpc', 'vpc_of:FIELD'):
    rdb_load() clears a dropped entry's references before the server
    collects it, and 'vpc_of:FIELD' has no value when FIELD is absent."""
    if of == "gateway_vni":
        return {"type": "integer"}
    if of == "vpc":
        return {"type": {"key": {"type": "uuid", "refTable": "VPC",
                                 "refType": "strong"}}}
    if of == "parent_vpc" or of.startswith("vpc_of:"):
        return {"type": {"key": {"type": "uuid", "refTable": "VPC",
                                 "refType": "strong"},
                         "min": 0, "max": 1}}
    fail("derived column: unknown kind %r (expected one of %s)"
         % (of, ", ".join(DERIVED_KINDS)))


def simplify(key):
    """OVSDB's short form for an unconstrained atomic type."""
    return key["type"] if len(key) == 1 else key


def columns_of(model, defname):
    """The columns of the table of objects of $defs 'defname': a dict of
    column name -> OVSDB column type, in field order."""
    obj = model.defs[defname]
    required = set(obj.get("required", []))
    cols = {}
    for field, raw in obj["properties"].items():
        fdef, prop = model.deref(raw)
        req = field in required
        if fdef in model.alts:
            for alt in model.alts[fdef]:
                cols[field + alt["suffix"]] = alt_type(model, prop, alt)
            continue
        if prop.get("type") == "array":
            idef, item = model.deref(prop["items"])
            if idef in model.children:
                key = {"type": "uuid",
                       "refTable": model.children[idef]["table"],
                       "refType": "strong"}
            else:
                key = atom_type(model, idef, item, field)
            cols[field] = {"type": {"key": simplify(key),
                                    "min": prop.get("minItems", 0),
                                    "max": "unlimited"}}
            continue
        if prop.get("type") == "object":
            # A small fixed-key object of scalars: a map.
            vals = [model.deref(v) for v in prop["properties"].values()]
            vtypes = {json.dumps(atom_type(model, d, p, field))
                      for d, p in vals}
            if all("enum" in p for d, p in vals):
                # Enumerations (metadata_options): the union of their
                # values; the translator checks each key's own.
                union = sorted({v for d, p in vals for v in p["enum"]})
                vtypes = {json.dumps({"type": "string",
                                      "enum": ["set", union]})}
            if len(vtypes) != 1:
                fail("field %s: object values of different types" % field)
            keys = sorted(prop["properties"])
            cols[field] = {"type": {
                "key": {"type": "string", "enum": ["set", keys]},
                "value": simplify(json.loads(vtypes.pop())),
                "min": 0, "max": "unlimited"}}
            continue
        key = atom_type(model, fdef, prop, field)
        if req:
            short = simplify(key)
            cols[field] = {"type": short if isinstance(short, str)
                           else {"key": key}}
        else:
            cols[field] = {"type": {"key": simplify(key), "min": 0,
                                    "max": 1}}
    return cols


def alt_type(model, prop, alt):
    """The (optional) column of one alternative of a many-kinds field."""
    if "ref" in alt:
        key = {"type": "uuid", "refTable": alt["ref"], "refType": "strong"}
    elif alt["json"] == "integer":
        ints = [o for o in prop.get("oneOf", []) if o.get("type") ==
                "integer"]
        key = {"type": "integer"}
        if ints:
            key["minInteger"] = ints[0]["minimum"]
            key["maxInteger"] = ints[0]["maximum"]
    else:
        enums = alt.get("enum")
        if enums is None:
            enums = [v for o in prop.get("oneOf", []) for v in
                     o.get("enum", []) if isinstance(v, str)]
        key = {"type": "string"}
        # A string alternative given by a pattern (a protocol number in a
        # string, "6") is not a finite set: the column takes any string,
        # and the translator, which validates every write, checks it.
        patterns = [o for o in prop.get("oneOf", [])
                    if o.get("type") == "string" and "pattern" in o]
        if not patterns or alt.get("enum") is not None:
            key["enum"] = ["set", sorted(enums)]
    return {"type": {"key": key, "min": 0, "max": 1}}


def ovsschema(model):
    tables = {}
    root = model.ann["root_table"]
    for name, t in model.ann["extra_tables"].items():
        tables[name] = {k: v for k, v in t.items() if k != "description"}
    # Top-level scalar fields of the document belong to the root table.
    for field, raw in model.schema["properties"].items():
        if field in model.collections:
            continue
        d, prop = model.deref(raw)
        tables[root]["columns"][field] = {
            "type": {"key": simplify(atom_type(model, d, prop, field)),
                     "min": 0, "max": 1}}
    extra_idx = {k: v for k, v in model.ann["indexes"].items()
                 if k != "description"}
    for coll, table in model.collections.items():
        cols = columns_of(model, model.object_def(coll))
        if coll in model.ordered:
            cols["position"] = {"type": {"key": {"type": "integer",
                                                     "minInteger": 0}}}
        tables[table] = {"columns": cols, "isRoot": True,
                         "indexes": [["id"]] + extra_idx.get(table, [])}
    for defname, c in model.children.items():
        tables[c["table"]] = {"columns": columns_of(model, defname),
                              "isRoot": False}
    for table, cols in model.derived.items():
        if table not in tables:
            fail("derived_columns: no table %s" % table)
        for col, of in cols.items():
            if col in tables[table]["columns"]:
                fail("derived column %s.%s is also a field" % (table, col))
            tables[table]["columns"][col] = derived_type(of)
    for table, cols in model.stamps.items():
        if table not in tables:
            fail("stamp_columns: no table %s" % table)
        for col in cols:
            if col in tables[table]["columns"]:
                fail("stamp column %s.%s is also a column" % (table, col))
            tables[table]["columns"][col] = {"type": "integer"}
    return {"name": model.ann["name"], "version": model.ann["version"],
            "tables": tables}


def spec(model, out):
    """The C X-macro include for regiondb/regiondb.c."""
    w = out.write
    w("/* Generated by schema/regiondb-gen.py from schema/region.schema.json"
      "\n * and schema/region.ann.json: do not edit. */\n\n")
    w("/* RDB_ROOT(TABLE): the root table (cfg, top-level fields). */\n")
    w('RDB_ROOT("%s")\n\n' % model.ann["root_table"])
    w("/* RDB_COLLECTION(KEY, TABLE, ORDERED): a collection of the "
      "document. */\n")
    for coll, table in model.collections.items():
        w('RDB_COLLECTION("%s", "%s", %s)\n'
          % (coll, table, "true" if coll in model.ordered else "false"))
    w("\n/* RDB_ALT(TABLE, FIELD, COLUMN, PREFIX): FIELD is stored in COLUMN"
      "\n * when its value has this id PREFIX (NULL: by JSON type). */\n")
    tables = ovsschema(model)["tables"]
    for coll, table in list(model.collections.items()) + [
            (None, c["table"]) for c in model.children.values()]:
        defname = (model.object_def(coll) if coll else
                   model.child_tables[table])
        for field, raw in model.defs[defname]["properties"].items():
            fdef, _ = model.deref(raw)
            for alt in model.alts.get(fdef, []):
                pfx = '"%s"' % alt["prefix"] if "prefix" in alt else "NULL"
                w('RDB_ALT("%s", "%s", "%s", %s)\n'
                  % (table, field, field + alt["suffix"], pfx))
    w("\n/* RDB_KEY(TABLE, COLUMN): identifies a child in its list. */\n")
    for c in model.children.values():
        for col in c["key"]:
            if col not in tables[c["table"]]["columns"]:
                fail("key column %s.%s does not exist" % (c["table"], col))
            w('RDB_KEY("%s", "%s")\n' % (c["table"], col))
    w("\n/* RDB_DERIVED(TABLE, COLUMN, OF): an OVSDB-only column that "
      "rdb_load()\n * computes (schema/region.ann.json, "
      "'derived_columns'). */\n")
    for table, cols in model.derived.items():
        for col, of in cols.items():
            derived_type(of)
            w('RDB_DERIVED("%s", "%s", "%s")\n' % (table, col, of))
    w("\n/* RDB_STAMP(TABLE, COLUMN): an OVSDB-only integer that writers set "
      "to the\n * Region.cfg of the last change to what it stamps "
      "(schema/region.ann.json,\n * 'stamp_columns'). */\n")
    for table, cols in model.stamps.items():
        for col in cols:
            w('RDB_STAMP("%s", "%s")\n' % (table, col))
    w("\n/* RDB_REQUIRED_LIST(TABLE, COLUMN): a required list, written even"
      "\n * when empty. */\n")
    for coll, table in model.collections.items():
        obj = model.defs[model.object_def(coll)]
        for field in obj.get("required", []):
            _, prop = model.deref(obj["properties"][field])
            if prop.get("type") == "array":
                w('RDB_REQUIRED_LIST("%s", "%s")\n' % (table, field))


# ---------------------------------------------------------------------------
# The agreement check.  Deliberately not built on columns_of(): it walks the
# JSON Schema and asserts what each field's column must look like.

def norm_type(t):
    """An OVSDB column type in its long form."""
    if isinstance(t, str):
        t = {"key": t}
    elif "key" not in t:
        t = {"key": t}
    t = dict(t)
    for k in ("key", "value"):
        if k in t and isinstance(t[k], str):
            t[k] = {"type": t[k]}
    t.setdefault("min", 1)
    t.setdefault("max", 1)
    return t


# The OVSDB-only tables that ovsdb-server reads itself (ovsdb(7),
# "Role-Based Access Control"; --remote=db:DB,TABLE,COLUMN): the columns
# it looks up by name, as (key type, value type or None, is a set), and the
# Region column that names the Connection rows.
OVSDB_SERVER_TABLES = {
    "Connection": {"target": ("string", None, False),
                   "role": ("string", None, False),
                   "read_only": ("boolean", None, False)},
    "RBAC_Role": {"name": ("string", None, False),
                  "permissions": ("string", "uuid", True)},
    "RBAC_Permission": {"table": ("string", None, False),
                        "authorization": ("string", None, True),
                        "insert_delete": ("boolean", None, False),
                        "update": ("string", None, True)},
}
OVSDB_SERVER_REFS = [("Region", "connections", "Connection"),
                     ("RBAC_Role", "permissions", "RBAC_Permission")]


def check_ovsdb_server_tables(tables, err):
    for table, cols in OVSDB_SERVER_TABLES.items():
        if table not in tables:
            err("table %s is missing (ovsdb-server reads it)" % table)
            continue
        for name, (key, value, is_set) in cols.items():
            col = tables[table]["columns"].get(name)
            if col is None:
                err("%s: column %s is missing (ovsdb-server reads it)"
                    % (table, name))
                continue
            t = norm_type(col["type"])
            got = (t["key"]["type"], t.get("value", {}).get("type"),
                   t["max"] != 1)
            if got != (key, value, is_set):
                err("%s.%s: must be %s, is %s"
                    % (table, name, (key, value, is_set), got))
    for table, name, ref in OVSDB_SERVER_REFS:
        col = tables.get(table, {}).get("columns", {}).get(name)
        t = norm_type(col["type"]) if col else {}
        atom = t.get("value") if table == "RBAC_Role" else t.get("key")
        if not atom or atom.get("refTable") != ref:
            err("%s.%s: must reference %s" % (table, name, ref))


def enum_values(atom):
    e = atom.get("enum")
    if e is None:
        return None
    if isinstance(e, list) and e and e[0] == "set":
        return sorted(e[1])
    return [e]


def check(model, db):
    errors = []
    tables = db.get("tables", {})

    def err(msg):
        errors.append(msg)

    def check_atom(where, atom, defname, prop, field, json_kind=None):
        table = model.ref_table(defname, field)
        if table:
            if atom.get("type") != "uuid" or atom.get("refTable") != table:
                err("%s: must reference %s" % (where, table))
            elif atom.get("refType", "strong") != "strong":
                err("%s: reference to %s must be strong" % (where, table))
            elif not tables.get(table, {}).get("isRoot", True) is True:
                err("%s: %s must be a root table" % (where, table))
            return
        if "enum" in prop or "const" in prop:
            want = sorted(prop["enum"] if "enum" in prop
                          else [prop["const"]])
            if atom.get("type") != "string" or enum_values(atom) != want:
                err("%s: must be a string enum %s, is %s"
                    % (where, want, json.dumps(atom)))
            return
        t = prop.get("type")
        if t in ("string", "integer", "boolean"):
            if atom.get("type") != t:
                err("%s: must be of type %s, is %s"
                    % (where, t, atom.get("type")))
            if t == "integer":
                for js, ov in (("minimum", "minInteger"),
                               ("maximum", "maxInteger")):
                    if prop.get(js) != atom.get(ov):
                        err("%s: %s must be %s, is %s"
                            % (where, ov, prop.get(js), atom.get(ov)))
            if t == "string" and prop.get("maxLength") != atom.get(
                    "maxLength"):
                err("%s: maxLength must be %s" % (where,
                                                  prop.get("maxLength")))
            return
        err("%s: JSON Schema type %r has no check" % (where, prop))

    def check_derived(table, cols):
        """The derived columns: OVSDB-only, each of its kind's type."""
        names = []
        for col, of in model.derived.get(table, {}).items():
            names.append(col)
            if col not in cols:
                err("%s: derived column %s is missing" % (table, col))
                continue
            c = cols[col]
            if of == "gateway_vni":
                if c["key"].get("type") != "integer":
                    err("%s.%s: must be an integer" % (table, col))
                continue
            want = (1, 1) if of == "vpc" else (0, 1)
            if (c["min"], c["max"]) != want:
                err("%s.%s: derived column must have min %d max %d"
                    % (table, col, want[0], want[1]))
            if c["key"].get("refTable") != "VPC":
                err("%s.%s: derived column must reference VPC"
                    % (table, col))
            elif c["key"].get("refType", "strong") != "strong":
                err("%s.%s: derived reference to VPC must be strong"
                    % (table, col))
        return names

    def check_stamps(table, cols):
        """The stamp columns: OVSDB-only, each exactly one integer."""
        names = []
        for col in model.stamps.get(table, []):
            names.append(col)
            if col not in cols:
                err("%s: stamp column %s is missing" % (table, col))
                continue
            c = cols[col]
            if c["key"].get("type") != "integer" or (c["min"], c["max"]) \
                    != (1, 1):
                err("%s.%s: stamp column must be one integer"
                    % (table, col))
        return names

    def check_object(table, defname, extra_cols):
        if table not in tables:
            err("table %s (of %s) is missing" % (table, defname))
            return
        cols = {n: norm_type(c["type"])
                for n, c in tables[table]["columns"].items()}
        seen = (set(extra_cols) | set(check_derived(table, cols))
                | set(check_stamps(table, cols)))
        obj = model.defs[defname]
        required = set(obj.get("required", []))
        for field, raw in obj["properties"].items():
            fdef, prop = model.deref(raw)
            where = "%s.%s" % (table, field)
            if fdef in model.alts:
                for alt in model.alts[fdef]:
                    name = field + alt["suffix"]
                    seen.add(name)
                    if name not in cols:
                        err("%s: field %s has no column %s"
                            % (table, field, name))
                        continue
                    c = cols[name]
                    if (c["min"], c["max"]) != (0, 1):
                        err("%s.%s: must be optional" % (table, name))
                    if "ref" in alt:
                        if c["key"].get("refTable") != alt["ref"]:
                            err("%s.%s: must reference %s"
                                % (table, name, alt["ref"]))
                    elif c["key"].get("type") != alt["json"]:
                        err("%s.%s: must be of type %s"
                            % (table, name, alt["json"]))
                continue
            seen.add(field)
            if field not in cols:
                err("%s: field %s of %s has no column"
                    % (table, field, defname))
                continue
            c = cols[field]
            if prop.get("type") == "array":
                idef, item = model.deref(prop["items"])
                if c["max"] != "unlimited" or c["min"] != prop.get(
                        "minItems", 0):
                    err("%s: a list must be a set of min %d, max "
                        "unlimited" % (where, prop.get("minItems", 0)))
                if idef in model.children:
                    child = model.children[idef]["table"]
                    if c["key"].get("refTable") != child:
                        err("%s: must reference %s" % (where, child))
                    elif tables.get(child, {}).get("isRoot") is not False:
                        err("%s: %s must not be a root table"
                            % (where, child))
                    elif c["key"].get("refType", "strong") != "strong":
                        err("%s: must be strong" % where)
                else:
                    check_atom(where, c["key"], idef, item, field)
                continue
            if prop.get("type") == "object":
                if "value" not in c:
                    err("%s: an object must be a map" % where)
                    continue
                if enum_values(c["key"]) != sorted(prop["properties"]):
                    err("%s: map keys must be %s"
                        % (where, sorted(prop["properties"])))
                for k, v in prop["properties"].items():
                    d, p = model.deref(v)
                    if "enum" in p and all(
                            "enum" in model.deref(o)[1]
                            for o in prop["properties"].values()):
                        # Enumerations share the union of their values.
                        if not set(p["enum"]) <= set(
                                enum_values(c["value"])):
                            err("%s[%s]: must allow %s"
                                % (where, k, sorted(p["enum"])))
                        continue
                    check_atom("%s[%s]" % (where, k), c["value"], d, p, k)
                continue
            want = (1, 1) if field in required else (0, 1)
            if (c["min"], c["max"]) != want:
                err("%s: must have min %d max %d (%s)"
                    % (where, want[0], want[1],
                       "required" if field in required else "optional"))
            check_atom(where, c["key"], fdef, prop, field)
        for name in cols:
            if name not in seen:
                err("%s: column %s has no field in %s"
                    % (table, name, defname))

    root = model.ann["root_table"]
    for name, t in model.ann["extra_tables"].items():
        if name not in tables:
            err("table %s is missing" % name)
    for name in model.stamps:
        if name in model.ann["extra_tables"] and name in tables:
            check_stamps(name, {n: norm_type(c["type"]) for n, c
                                in tables[name]["columns"].items()})
    for field in model.schema["properties"]:
        if field in model.collections:
            continue
        if field not in tables.get(root, {}).get("columns", {}):
            err("%s: top-level field %s has no column" % (root, field))
    for coll in model.schema["properties"]:
        if coll not in model.collections and model.schema["properties"][
                coll].get("type") == "array":
            err("collection %s has no table" % coll)
    for coll, table in model.collections.items():
        extra = ["position"] if coll in model.ordered else []
        check_object(table, model.object_def(coll), extra)
        if table in tables:
            if tables[table].get("isRoot") is not True:
                err("%s: must be a root table" % table)
            if ["id"] not in tables[table].get("indexes", []):
                err("%s: must have an index on id" % table)
    for defname, c in model.children.items():
        check_object(c["table"], defname, [])
    check_ovsdb_server_tables(tables, err)
    return errors


def main(argv):
    if len(argv) < 4:
        fail("usage: regiondb-gen.py ovsschema|spec|check JSON-SCHEMA "
             "ANNOTATIONS [OVSSCHEMA]")
    with open(argv[2]) as f:
        schema = json.load(f)
    with open(argv[3]) as f:
        ann = json.load(f)
    model = Model(schema, ann)
    if argv[1] == "ovsschema":
        json.dump(ovsschema(model), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif argv[1] == "spec":
        spec(model, sys.stdout)
    elif argv[1] == "check" and len(argv) == 5:
        with open(argv[4]) as f:
            db = json.load(f)
        errors = check(model, db)
        for e in errors:
            sys.stderr.write("%s: %s\n" % (argv[4], e))
        if errors:
            sys.stderr.write("%s: %d disagreement(s) with %s\n"
                             % (argv[4], len(errors), argv[2]))
            sys.exit(1)
        print("%s agrees with %s" % (argv[4], argv[2]))
    else:
        fail("unknown command %s" % argv[1])


if __name__ == "__main__":
    main(sys.argv)
