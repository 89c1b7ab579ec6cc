#!/usr/bin/env python3
"""tests/danepold/metrics_parse.py - read a Prometheus text exposition
(danepold's /metrics) with the reference parser of python3-prometheus-client
(prometheus_client.parser.text_string_to_metric_families), so a scrape that
the real parser refuses fails the test.

  metrics_parse.py samples FILE    one line per sample: NAME{k="v",...} VALUE
                                   (labels sorted; VALUE as an integer when whole)
  metrics_parse.py families FILE   one line per family: NAME TYPE, as the
                                   exposition declares it (counters with their
                                   _total suffix)
  metrics_parse.py doc FILE.md     the families doc/metrics.md lists (its table's
                                   first column), one NAME TYPE per line

Exit 1 with the parser's complaint when FILE does not parse.
"""
import re
import sys

from prometheus_client.parser import text_string_to_metric_families


def fmt(v):
    return str(int(v)) if float(v).is_integer() else repr(v)


def parse(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return list(text_string_to_metric_families(text))
    except Exception as e:  # the parser's own message
        print("PARSE ERROR: %s" % e, file=sys.stderr)
        sys.exit(1)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 64
    if argv[1] == "samples":
        for fam in parse(argv[2]):
            for s in fam.samples:
                labels = ",".join('%s="%s"' % (k, s.labels[k]) for k in sorted(s.labels))
                print("%s{%s} %s" % (s.name, labels, fmt(s.value)))
    elif argv[1] == "families":
        for fam in parse(argv[2]):
            name = fam.name + ("_total" if fam.type == "counter" else "")
            print("%s %s" % (name, fam.type))
    elif argv[1] == "doc":
        with open(argv[2], encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^\|\s*`(danepol_[a-z_]+)`\s*\|\s*(\w+)\s*\|", line)
                if m:
                    print("%s %s" % (m.group(1), m.group(2)))
    else:
        print(__doc__, file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
