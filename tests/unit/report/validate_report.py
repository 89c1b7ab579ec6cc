#!/usr/bin/env python3
"""tests/unit/report/validate_report.py SCHEMA REPORT... - validate RFC 8460
report files against doc/tlsrpt.schema.json (JSON Schema draft 2020-12)
with python3-jsonschema. Also checks that the summary counts equal the
failure-details sums. Exit 0 when every report is valid, 1 otherwise,
77 when the jsonschema module is missing."""
import json
import sys

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema not installed")
    sys.exit(77)


def main():
    if len(sys.argv) < 3:
        print("usage: validate_report.py SCHEMA REPORT...", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    bad = 0
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
        errors = sorted(validator.iter_errors(report), key=lambda e: list(e.path))
        for e in errors:
            print("%s: %s at %s" % (path, e.message, "/".join(map(str, e.path))))
        for p in report.get("policies", []):
            fails = sum(d["failed-session-count"] for d in p.get("failure-details", []))
            if fails != p["summary"]["total-failure-session-count"]:
                print("%s: failure-details sum %d != summary %d" %
                      (path, fails, p["summary"]["total-failure-session-count"]))
                errors.append(1)
        bad += 1 if errors else 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
