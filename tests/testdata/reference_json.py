"""The JSON layout of the make_*_reference.py files: one matrix row or one scalar list per line, so a
regenerated reference reads as a small diff."""
import json


def compact_json(value, indent="", allow_nan=False):
    inner = indent + "  "
    if isinstance(value, dict):
        items = ['%s%s: %s' % (inner, json.dumps(k), compact_json(v, inner, allow_nan)) for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and value and isinstance(value[0], (list, dict)):
        return "[\n" + ",\n".join(inner + compact_json(v, inner, allow_nan) for v in value) + "\n" + indent + "]"
    return json.dumps(value, allow_nan=allow_nan)
