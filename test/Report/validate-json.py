#!/usr/bin/env python3
"""Validates JSON documents against a JSON Schema, standard library only.

    validate-json.py SCHEMA FILE...     exit 1 and one line per violation

Supports the subset docs/report.schema.json uses: type, const, enum,
minimum, maximum, properties, required, additionalProperties (boolean or
schema), items, $ref to "#/$defs/...", if/then. A FILE may hold several
JSON documents one after the other (a -split-input-file run).
"""
import json
import math
import sys

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def check(value, schema, root, path, errors):
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/"):
            raise ValueError(f"unsupported $ref {ref}")
        schema = root["$defs"][ref[len("#/$defs/"):]]
    known = {"$schema", "$id", "$ref", "$defs", "title", "description", "type",
             "const", "enum", "minimum", "maximum", "properties", "required",
             "additionalProperties", "items", "if", "then"}
    unknown = set(schema) - known
    if unknown:
        raise ValueError(f"unsupported schema keywords {sorted(unknown)}")
    where = path or "(top)"
    if "type" in schema and not TYPES[schema["type"]](value):
        errors.append(f"{where}: expected {schema['type']}, got {json.dumps(value)[:60]}")
        return
    if isinstance(value, float) and not math.isfinite(value):
        errors.append(f"{where}: not a finite number")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: expected {json.dumps(schema['const'])}, got {json.dumps(value)[:60]}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: {json.dumps(value)[:60]} is not one of {schema['enum']}")
    if "minimum" in schema and TYPES["number"](value) and value < schema["minimum"]:
        errors.append(f"{where}: {value} < minimum {schema['minimum']}")
    if "maximum" in schema and TYPES["number"](value) and value > schema["maximum"]:
        errors.append(f"{where}: {value} > maximum {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{where}: missing required field '{key}'")
        extra = schema.get("additionalProperties", True)
        for key, v in value.items():
            sub = f"{path}.{key}" if path else key
            if key in props:
                check(v, props[key], root, sub, errors)
            elif extra is False:
                errors.append(f"{where}: field '{key}' is not in the schema")
            elif isinstance(extra, dict):
                check(v, extra, root, sub, errors)
    if isinstance(value, list) and "items" in schema:
        for k, v in enumerate(value):
            check(v, schema["items"], root, f"{path}[{k}]", errors)
    if "if" in schema:
        probe = []
        check(value, schema["if"], root, path, probe)
        if not probe and "then" in schema:
            check(value, schema["then"], root, path, errors)


def documents(text):
    decoder = json.JSONDecoder()
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return
        doc, i = decoder.raw_decode(text, i)
        yield doc


def main():
    schema = json.load(open(sys.argv[1]))
    bad = 0
    for name in sys.argv[2:]:
        docs = list(documents(open(name).read()))
        if not docs:
            print(f"{name}: no JSON document")
            bad += 1
        for n, doc in enumerate(docs):
            errors = []
            check(doc, schema, schema, "", errors)
            for e in errors:
                print(f"{name}#{n}: {e}")
            bad += len(errors)
    if not bad:
        print(f"valid: {len(sys.argv) - 2} file(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
