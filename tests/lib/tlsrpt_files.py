"""tests/lib/tlsrpt_files.py - the RFC 8460 report files `danepol report`
wrote, for the shell tests' Python checks (tests/danepol/sts.sh,
tests/e2e/sts_delivery.sh): each .json.gz in a directory read, checked
against doc/tlsrpt.schema.json, and indexed by policy domain.

    import sys; sys.path.insert(0, TOP_SRCDIR + "/tests/lib")
    from tlsrpt_files import load, res, policies
"""
import glob
import gzip
import json

import jsonschema


def res(ok, what):
    """One check line for tap.sh's py_results."""
    print(("PASS " if ok else "FAIL ") + what)


def load(rdir, schema_path):
    """{policy-domain: report} of rdir's reports; a FAIL line per invalid one."""
    schema = json.load(open(schema_path))
    reps = {}
    for f in sorted(glob.glob(rdir + "/*.json.gz")):
        r = json.loads(gzip.open(f).read())
        try:
            jsonschema.validate(r, schema)
        except jsonschema.ValidationError as e:
            res(False, "%s valid: %s" % (f, e.message))
        reps[r["policies"][0]["policy"]["policy-domain"]] = r
    return reps


def policies(reps, domain, ptype):
    """The policies of type ptype ("sts", "tlsa", "no-policy-found") in domain's report."""
    return [p for p in reps.get(domain, {}).get("policies", [])
            if p["policy"]["policy-type"] == ptype]
