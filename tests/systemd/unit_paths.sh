#!/usr/bin/env bash
# tests/systemd/unit_paths.sh - the shipped systemd units let danepold and
# `danepol report` write every path they write by default (issue 11: an
# outcome_db outside the sandbox's writable directories is silently lost).
#
# The paths come from the binary, not from a copy: `danepold -p -c
# /dev/null` prints the built-in defaults of conf/conf.c's key table; to
# them are added the paths of the danepol.conf snippets doc/postfix.md
# tells the operator to paste (<!-- snippet: danepol.conf ... --> blocks),
# since the units must work with the documented set-up too. For each
# unit, ProtectSystem=strict must be on (else "writable" means nothing)
# and every path's directory must lie under a directory the unit makes
# writable: RuntimeDirectory= (/run), StateDirectory= (/var/lib),
# LogsDirectory= (/var/log), CacheDirectory= (/var/cache) or
# ReadWritePaths=. A ReadWritePaths= directory that systemd does not
# create itself must be created by the unit before the sandbox needs it
# (an ExecStartPre=+ running systemd-tmpfiles over danepol.tmpfiles, which
# must have a 'd' line for it). Finally `systemd-analyze security
# --offline=true` (when this systemd has it) must score each unit no worse
# than the baseline below (the exposure before issue 11).
#
# The units are the ones this build generated from systemd/*.in
# (SYSTEMD_UNIT_DIR, the build dir's systemd/), with its paths.
#
# Environment (make check): DANEPOLD, TOP_SRCDIR, SYSTEMD_UNIT_DIR. Needs python3.
# Prints TAP-like lines and "N passed, M failed"; exit 0/1, 77 to skip.
set -u

TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DANEPOLD=${DANEPOLD:-./danepold}
SYSTEMD_UNIT_DIR=${SYSTEMD_UNIT_DIR:-./systemd}
command -v python3 > /dev/null || { echo "SKIP: python3 not installed"; exit 77; }
[ -x "$DANEPOLD" ] || { echo "SKIP: DANEPOLD is not executable ($DANEPOLD)"; exit 77; }
[ -f "$SYSTEMD_UNIT_DIR/danepold.service" ] ||
	{ echo "SKIP: no generated units in SYSTEMD_UNIT_DIR ($SYSTEMD_UNIT_DIR): run make"; exit 77; }

DEFAULTS=$("$DANEPOLD" -p -c /dev/null) || { echo "not ok 1 - danepold -p -c /dev/null"; exit 1; }
SECURITY=yes
systemd-analyze security --help 2> /dev/null | grep -q -- '--offline' || SECURITY=

exec python3 - "$TOP_SRCDIR" "$DEFAULTS" "$SECURITY" "$SYSTEMD_UNIT_DIR" <<'PY'
import os, re, subprocess, sys

top, defaults_text, security, unitdir = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
# Exposure of the units before issue 11 (systemd 252): never worse.
BASELINE = {"danepold.service": 1.5, "danepol-report.service": 1.6}
npass = nfail = 0

def result(good, name, *detail):
    global npass, nfail
    if good:
        npass += 1
        print("ok %d - %s" % (npass + nfail, name))
    else:
        nfail += 1
        print("not ok %d - %s" % (npass + nfail, name))
        for d in detail:
            print("#   %s" % d)

def conf_lines(text):
    kv = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, _, v = line.partition("=")
        kv[k.strip()] = v.strip()
    return kv

def unit(name):
    """Every [Service] key -> list of values (repeated keys accumulate)."""
    keys, section = {}, None
    with open(os.path.join(unitdir, name)) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]" and "=" in line:
                k, _, v = line.partition("=")
                keys.setdefault(k.strip(), []).append(v.strip())
    return keys

def writable_dirs(u):
    """(directories the unit makes writable, ReadWritePaths= entries)."""
    base = {"RuntimeDirectory": "/run", "StateDirectory": "/var/lib",
            "LogsDirectory": "/var/log", "CacheDirectory": "/var/cache"}
    dirs = []
    for key, root in base.items():
        for v in u.get(key, []):
            dirs += [os.path.join(root, d) for d in v.split()]
    rw = []
    for v in u.get("ReadWritePaths", []):
        rw += [p.lstrip("-+") for p in v.split()]
    return dirs + rw, rw

def under(path, dirs):
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in dirs)

def socket_path(spec):
    for pre in ("unix:", "local:"):
        if spec.startswith(pre):
            return spec[len(pre):]
    return None

defaults = conf_lines(defaults_text)
result(len(defaults) > 30, "danepold -p -c /dev/null prints the built-in defaults (%d keys)" % len(defaults))

# doc/postfix.md: the danepol.conf snippets the operator pastes.
doc = open(os.path.join(top, "doc", "postfix.md")).read()
snippets = re.findall(r"^<!-- snippet: danepol\.conf\b[^>]*-->\n```[^\n]*\n(.*?)^```", doc, re.M | re.S)
result(len(snippets) > 0, "doc/postfix.md has danepol.conf snippets (%d)" % len(snippets))
documented = {}
for s in snippets:
    documented.update(conf_lines(s))

def written(keys, where):
    """[(what, file path written)] for keys of a settings dict."""
    out = []
    for k in keys:
        v = where.get(k)
        if v is None or v in ("none", "-"):
            continue
        p = socket_path(v) if k.endswith("_socket") else v
        if p is not None and p.startswith("/"):
            out.append((k, p))
    return out

# What each program writes: a file in the directory (pid file, socket,
# audit log, SQLite database with its -wal/-shm) or a directory's content.
DANEPOLD_KEYS = ["pid_file", "milter_socket", "socketmap_socket", "exim_socket", "audit_log", "outcome_db"]
REPORT_KEYS = ["outcome_db", "report_dir"]
checks = {
    "danepold.service": written(DANEPOLD_KEYS, defaults) +
        [(k + " (doc/postfix.md)", p) for k, p in written(DANEPOLD_KEYS, documented)],
    "danepol-report.service": written(REPORT_KEYS, defaults) +
        [(k + " (doc/postfix.md)", p) for k, p in written(REPORT_KEYS, documented)],
}

tmpfiles = []
with open(os.path.join(unitdir, "danepol.tmpfiles")) as f:
    for line in f:
        fld = line.split()
        if len(fld) >= 2 and fld[0] in ("d", "D"):
            tmpfiles.append(fld[1])

for name, paths in checks.items():
    u = unit(name)
    result(u.get("ProtectSystem") == ["strict"], "%s: ProtectSystem=strict" % name,
           "got %s" % u.get("ProtectSystem"))
    dirs, rw = writable_dirs(u)
    for what, p in paths:
        d = p if what.startswith("report_dir") else os.path.dirname(p)
        result(under(d, dirs), "%s: %s = %s lies in a writable directory" % (name, what, p),
               "directory %s is not under any of %s" % (d, dirs))
    # A ReadWritePaths= directory that does not exist fails the unit
    # (226/NAMESPACE) unless it is optional ("-") and then nothing can be
    # written: the unit must create it before the sandbox is set up.
    pre = " ".join(u.get("ExecStartPre", []))
    for d in u.get("ReadWritePaths", []):
        for p in d.split():
            if p.startswith("-"):
                continue
            made = p in tmpfiles and re.search(r"(^|\s)\+\S*systemd-tmpfiles\s[^;]*--create", pre) is not None
            result(made, "%s: ReadWritePaths=%s is created before the sandbox (ExecStartPre=+systemd-tmpfiles --create, a 'd' line in danepol.tmpfiles)" % (name, p),
                   "ExecStartPre: %s" % (pre or "none"), "tmpfiles directories: %s" % tmpfiles)

if security:
    for name, bound in BASELINE.items():
        r = subprocess.run(["systemd-analyze", "security", "--offline=true", os.path.join(unitdir, name)],
                           capture_output=True, text=True)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
        score = float(m.group(1)) if m else None
        result(score is not None and score <= bound,
               "%s: systemd-analyze security exposure %s <= %.1f (before issue 11)" % (name, score, bound),
               (r.stdout + r.stderr).strip().splitlines()[-1] if (r.stdout + r.stderr).strip() else "no output")
else:
    print("# systemd-analyze security --offline not available: exposure not checked")

print("%d passed, %d failed" % (npass, nfail))
sys.exit(1 if nfail else 0)
PY
